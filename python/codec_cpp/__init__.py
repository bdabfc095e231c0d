"""Python bindings for codec.cpp (ctypes over libcodec; numpy in, numpy out).

    import codec_cpp
    with codec_cpp.Model("dac44.gguf", n_threads=2) as m:
        codes = m.encode(pcm)          # int32 [n_q, n_frames]
        audio = m.decode(codes)        # float32 [n_samples] (or [n_samples, channels])
        many = m.encode_batch([pcm1, pcm2, pcm3])   # lists in, lists out, in parallel threads

Codecs with per-chunk scales (EnCodec 48 kHz) encode to (codes, scales) and decode takes
decode(codes, scales); a mono array given to a stereo model is duplicated into both channels.

Multi-rate codecs (SNAC) encode to a list of per-level int32 arrays of different lengths, and
decode takes that list.

Threads: a Model may be used from any number of Python threads at once. The weights are loaded
once; each call borrows a context (compute buffers) from the model's pool, creating one when all
are busy, so N threads compute in parallel (ctypes releases the GIL during the C call).

Streams compute piece by piece (see codec.h): push PCM and pull codes, or push codes and pull
audio; flush at the end:

    s = m.stream("encode")             # or m.stream("decode", n_q=8)
    for chunk in chunks:
        s.push(chunk)
        codes = s.pull()               # whatever became ready (maybe 0 frames)
    s.flush(); codes = s.pull()
    for codes in m.stream_encode(chunks): ...   # the same as a generator

The library is looked up next to this module first (an installed wheel), then at $CODEC_LIB,
then in build/ of the repository this module lives in.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import numpy.typing as npt

__all__ = ["Model", "Stream", "CodecError", "LibraryError", "load_library", "library_path", "__version__"]
__version__ = "0.1.0"

# What encode returns / decode takes: codes [n_q, n_frames]; per-level codes (SNAC); codes + scales.
Codes = Union[np.ndarray, List[np.ndarray], Tuple[np.ndarray, np.ndarray]]
ArrayLike = npt.ArrayLike
_T = TypeVar("_T")

_LIB: Optional[ctypes.CDLL] = None
_LIB_PATH: Optional[str] = None
_LIB_LOCK = threading.Lock()
_LIB_NAME = {"darwin": "libcodec.dylib", "win32": "codec.dll"}.get(sys.platform, "libcodec.so")
_HERE = os.path.dirname(os.path.abspath(__file__))


class CodecError(RuntimeError):
    """A failed library call; the message is the library's, status a codec_status value."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{message} (status {status})")
        self.status = status


class LibraryError(ImportError):
    """libcodec (or the ggml it links against) cannot be found or loaded."""


class _Codes(ctypes.Structure):
    _fields_ = [("n_q", ctypes.c_int32), ("n_frames", ctypes.c_int32), ("data", ctypes.POINTER(ctypes.c_int32)),
                ("row_len", ctypes.POINTER(ctypes.c_int32)), ("n_scales", ctypes.c_int32),
                ("scales", ctypes.POINTER(ctypes.c_float))]


class _Audio(ctypes.Structure):
    _fields_ = [("n_samples", ctypes.c_int64), ("n_channels", ctypes.c_int32), ("sample_rate", ctypes.c_int32),
                ("data", ctypes.POINTER(ctypes.c_float))]


class _Latent(ctypes.Structure):
    _fields_ = [("latent_dim", ctypes.c_int32), ("n_frames", ctypes.c_int32), ("data", ctypes.POINTER(ctypes.c_float))]


class _StreamParams(ctypes.Structure):
    _fields_ = [("direction", ctypes.c_int), ("n_q", ctypes.c_int32), ("block_frames", ctypes.c_int32),
                ("approximate", ctypes.c_bool), ("approx_left_frames", ctypes.c_int32), ("approx_right_frames", ctypes.c_int32),
                ("approx_fade_frames", ctypes.c_int32)]


class _StreamInfo(ctypes.Structure):
    _fields_ = [("causal", ctypes.c_bool), ("carries_state", ctypes.c_bool), ("hop_size", ctypes.c_int32), ("block_frames", ctypes.c_int32),
                ("first_frames", ctypes.c_int32), ("lookahead_frames", ctypes.c_int32), ("left_frames", ctypes.c_int32),
                ("align_frames", ctypes.c_int32), ("state_bytes", ctypes.c_int64), ("last_build_ms", ctypes.c_double),
                ("last_alloc_ms", ctypes.c_double), ("last_compute_ms", ctypes.c_double), ("n_blocks", ctypes.c_int32),
                ("approximate", ctypes.c_bool), ("fade_frames", ctypes.c_int32)]


class _ModelParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32), ("use_gpu", ctypes.c_bool)]


class _ContextParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32)]


def library_path() -> str:
    """Where load_library() looks: next to this module (installed wheel), $CODEC_LIB, then build/
    of the repository this module sits in."""
    bundled = os.path.join(_HERE, _LIB_NAME)
    if os.path.exists(bundled):
        return bundled
    env = os.environ.get("CODEC_LIB")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(_HERE))
    return os.path.join(root, "build", _LIB_NAME)


def _preload_ggml() -> Optional[str]:
    """Loads ggml from the libggml-python package of this environment (RTLD_GLOBAL), so that a
    libcodec whose RPATH does not point there still resolves it. Returns the directory or None."""
    try:
        import libggml  # noqa: F401  (the libggml-python package)
    except ImportError:
        return None
    root = os.path.dirname(os.path.abspath(libggml.__file__))
    for d in (os.path.join(root, "lib"), os.path.join(root, "lib64")):  # sdist build: lib; PyPI wheel: lib64
        if os.path.exists(os.path.join(d, "libggml.so.0")):
            for name in ("libggml-base.so.0", "libggml-cpu.so.0", "libggml.so.0"):
                ctypes.CDLL(os.path.join(d, name), mode=ctypes.RTLD_GLOBAL)
            return d
    return None


def _open(path: str) -> ctypes.CDLL:
    if not os.path.exists(path):
        raise LibraryError(
            f"codec_cpp: the library {path} does not exist. Install the package (pip install .), or build it "
            "(cmake --build build) and/or set CODEC_LIB to the path of libcodec.so.")
    try:
        return ctypes.CDLL(path)
    except OSError as first:
        try:
            ggml_dir = _preload_ggml()
            if ggml_dir is not None:
                return ctypes.CDLL(path)
        except OSError as second:
            first = second
        ggml_note = ("the libggml-python package is not installed in this environment"
                     if "libggml" not in sys.modules else "libggml-python is installed but its libraries did not load")
        raise LibraryError(
            f"codec_cpp: cannot load {path}: {first}.\n"
            f"libcodec needs ggml from the PyPI package libggml-python==0.20.2.post1 in the same environment "
            f"({ggml_note}). Install it (pip install libggml-python==0.20.2.post1), or for a faster natively "
            "built ggml: pip install --no-binary libggml-python libggml-python==0.20.2.post1 "
            "-C cmake.define.GGML_NATIVE=ON -C cmake.define.GGML_LLAMAFILE=ON -C cmake.define.GGML_OPENMP=ON"
        ) from None


def load_library(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libcodec once per process (path: explicit override; see library_path())."""
    global _LIB, _LIB_PATH
    with _LIB_LOCK:
        if _LIB is not None:
            return _LIB
        path = path or library_path()
        lib = _open(path)
        _declare(lib)
        _LIB, _LIB_PATH = lib, path
        return lib


def _declare(lib: ctypes.CDLL) -> None:
    P, I32, I64 = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64
    lib.codec_model_load.restype = P
    lib.codec_model_load.argtypes = [ctypes.c_char_p, _ModelParams, ctypes.POINTER(ctypes.c_int), ctypes.c_char_p, ctypes.c_size_t]
    lib.codec_model_free.argtypes = [P]
    for name in ("sample_rate", "hop_size", "encode_sample_rate", "encode_hop_size", "n_q", "codebook_size",
                 "codebook_dim", "latent_dim", "channels"):
        f = getattr(lib, "codec_model_" + name)
        f.restype, f.argtypes = I32, [P]
    for name in ("has_encoder", "has_decoder", "uses_gpu", "multi_rate", "continuous", "batch_graph"):
        f = getattr(lib, "codec_model_" + name)
        f.restype, f.argtypes = ctypes.c_bool, [P]
    lib.codec_model_batch_graphs.restype, lib.codec_model_batch_graphs.argtypes = ctypes.c_uint32, [P]
    lib.codec_model_arch.restype, lib.codec_model_arch.argtypes = ctypes.c_char_p, [P]
    lib.codec_model_has_scales.restype, lib.codec_model_has_scales.argtypes = ctypes.c_bool, [P]
    lib.codec_model_bandwidths.restype = I32
    lib.codec_model_bandwidths.argtypes = [P, ctypes.POINTER(ctypes.c_float), I32]
    lib.codec_model_n_q_for_bandwidth.restype, lib.codec_model_n_q_for_bandwidth.argtypes = I32, [P, ctypes.c_float]
    lib.codec_model_meta_str.restype = I32
    lib.codec_model_meta_str.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.codec_context_new.restype, lib.codec_context_new.argtypes = P, [P, _ContextParams]
    lib.codec_context_free.argtypes = [P]
    lib.codec_context_last_error.restype, lib.codec_context_last_error.argtypes = ctypes.c_char_p, [P]
    lib.codec_encode.restype = ctypes.c_int
    lib.codec_encode.argtypes = [P, ctypes.POINTER(ctypes.c_float), I64, I32, ctypes.POINTER(_Codes)]
    lib.codec_decode.restype = ctypes.c_int
    lib.codec_decode.argtypes = [P, ctypes.POINTER(I32), I32, I32, ctypes.POINTER(_Audio)]
    lib.codec_decode_codes.restype = ctypes.c_int
    lib.codec_decode_codes.argtypes = [P, ctypes.POINTER(_Codes), ctypes.POINTER(_Audio)]
    lib.codec_encode_batch.argtypes = [P, ctypes.POINTER(ctypes.POINTER(ctypes.c_float)), ctypes.POINTER(I64), I32, I32,
                                       ctypes.POINTER(_Codes)]
    lib.codec_decode_batch.argtypes = [P, ctypes.POINTER(_Codes), I32, ctypes.POINTER(_Audio)]
    lib.codec_decode_latent_batch.restype = ctypes.c_int
    lib.codec_decode_latent_batch.argtypes = [P, ctypes.POINTER(ctypes.POINTER(ctypes.c_float)), ctypes.POINTER(I32), I32, I32,
                                              ctypes.POINTER(_Audio)]
    lib.codec_decode_latent.restype = ctypes.c_int
    lib.codec_decode_latent.argtypes = [P, ctypes.POINTER(ctypes.c_float), I32, I32, ctypes.POINTER(_Audio)]
    lib.codec_encode_latent.restype = ctypes.c_int
    lib.codec_encode_latent.argtypes = [P, ctypes.POINTER(ctypes.c_float), I64, ctypes.POINTER(_Latent)]
    lib.codec_stream_new.restype, lib.codec_stream_new.argtypes = P, [P, _StreamParams]
    lib.codec_stream_free.argtypes = [P]
    lib.codec_stream_last_error.restype, lib.codec_stream_last_error.argtypes = ctypes.c_char_p, [P]
    for name, args in (("reset", [P]), ("flush", [P]), ("get_info", [P, ctypes.POINTER(_StreamInfo)]),
                       ("push_pcm", [P, ctypes.POINTER(ctypes.c_float), I64]), ("push_codes", [P, ctypes.POINTER(_Codes)]),
                       ("pull_codes", [P, ctypes.POINTER(_Codes)]), ("pull_pcm", [P, ctypes.POINTER(_Audio)]),
                       ("push_latent", [P, ctypes.POINTER(ctypes.c_float), I32, I32]),
                       ("pull_latent", [P, ctypes.POINTER(_Latent)])):
        f = getattr(lib, "codec_stream_" + name)
        f.restype, f.argtypes = ctypes.c_int, args


# An installed wheel carries its library: load it at import so that a missing or mismatched ggml is
# reported by `import codec_cpp` itself (a source checkout loads lazily, at the first Model).
if os.path.exists(os.path.join(_HERE, _LIB_NAME)):
    load_library()


def _i32_rows(rows: Sequence[Any]) -> Tuple[np.ndarray, np.ndarray]:
    """Per-level 1-D integer arrays -> zero-padded int32 [n_q, longest] and int32 row lengths."""
    rows = [np.asarray(r) for r in rows]
    if any(r.ndim != 1 for r in rows):
        raise ValueError("code levels must be 1-D arrays")
    if any(r.size and not np.issubdtype(r.dtype, np.integer) for r in rows):
        raise ValueError("code levels must be integer arrays")
    n = max((r.size for r in rows), default=0)
    c = np.zeros((len(rows), n), dtype=np.int32)
    for q, r in enumerate(rows):
        if r.size and (r.min() < np.iinfo(np.int32).min or r.max() > np.iinfo(np.int32).max):
            raise ValueError(f"code level {q} has values outside int32")
        c[q, :r.size] = r
    return c, np.array([r.size for r in rows], dtype=np.int32)


def _i32_matrix(codes: Any) -> np.ndarray:
    c = np.asarray(codes)
    if c.ndim != 2:
        raise ValueError("codes must be 2-D [n_q, n_frames]")
    if c.dtype != np.int32 and c.size and (c.min() < np.iinfo(np.int32).min or c.max() > np.iinfo(np.int32).max):
        raise ValueError("codes have values outside int32")
    return np.ascontiguousarray(c, dtype=np.int32)


def _ptr(a: np.ndarray, ctype: Any) -> Any:
    return a.ctypes.data_as(ctypes.POINTER(ctype))


class Model:
    """A loaded model. Safe to share between threads: the weights are loaded once and each call
    runs on a context borrowed from the model's pool (one per concurrently calling thread, created
    on demand, reused afterwards). max_contexts caps the pool (callers beyond it wait)."""

    def __init__(self, path: Union[str, os.PathLike], n_threads: int = 0, use_gpu: bool = False,
                 lib: Optional[str] = None, gpu: Optional[bool] = None, max_contexts: Optional[int] = None):
        self._lib = load_library(lib)
        self._model = None
        self._idle: List[int] = []
        self._all: List[int] = []
        self._busy = 0
        self._cv = threading.Condition()
        self._closed = False
        self._streams: set = set()
        self.path = os.fspath(path)
        self.n_threads = int(n_threads)
        self.max_contexts = max_contexts
        use_gpu = bool(gpu) if gpu is not None else bool(use_gpu)
        err = ctypes.create_string_buffer(1024)
        status = ctypes.c_int(0)
        self._model = self._lib.codec_model_load(os.fsencode(path), _ModelParams(self.n_threads, use_gpu),
                                                 ctypes.byref(status), err, len(err))
        if not self._model:
            raise CodecError(status.value, err.value.decode(errors="replace"))
        # One context up front: a model whose context cannot be created fails here, not at first use.
        ctx = self._lib.codec_context_new(self._model, _ContextParams(self.n_threads))
        if not ctx:
            self._lib.codec_model_free(self._model)
            self._model = None
            raise CodecError(5, "cannot create a context")
        self._idle.append(ctx)
        self._all.append(ctx)
        g = lambda n: getattr(self._lib, "codec_model_" + n)(self._model)  # noqa: E731
        self.arch: str = g("arch").decode()
        self.sample_rate: int = g("sample_rate")
        self.hop_size: int = g("hop_size")
        # the encoder's input rate and hop (NeuCodec: 16 kHz / 320 in, 24 kHz / 480 out; else the same)
        self.encode_sample_rate: int = g("encode_sample_rate")
        self.encode_hop_size: int = g("encode_hop_size")
        self.n_q: int = g("n_q")
        self.codebook_size: int = g("codebook_size")
        self.codebook_dim: int = g("codebook_dim")
        self.latent_dim: int = g("latent_dim")
        self.channels: int = g("channels")
        self.has_encoder: bool = g("has_encoder")
        self.has_decoder: bool = g("has_decoder")
        self.uses_gpu: bool = g("uses_gpu")
        self.has_scales: bool = g("has_scales")  # encode returns (codes, scales); decode needs the scales
        self.multi_rate: bool = g("multi_rate")  # encode returns one array per level (SNAC)
        # continuous latents, no codebook (Pocket TTS's Mimi, Soprano): encode_latent / decode_latent,
        # and streams push / pull float32 latents [latent_dim, n_frames]
        self.continuous: bool = g("continuous")
        # encode_batch / decode_batch run same-shape inputs as one graph with a batch axis: both
        # (batch_graph), or per direction (XCodec2 / NeuCodec: decode only)
        self.batch_graph: bool = g("batch_graph")
        dirs = self._lib.codec_model_batch_graphs(self._model)
        self.batch_encode_graph: bool = bool(dirs & 1)  # CODEC_BATCH_ENCODE
        self.batch_decode_graph: bool = bool(dirs & 2)  # CODEC_BATCH_DECODE
        self.batch_latent_graph: bool = bool(dirs & 4)  # CODEC_BATCH_DECODE_LATENT: decode_latent_batch
        n_bw = self._lib.codec_model_bandwidths(self._model, None, 0)
        bw = (ctypes.c_float * max(n_bw, 1))()
        self._lib.codec_model_bandwidths(self._model, bw, n_bw)
        self.bandwidths: List[float] = [float(bw[i]) for i in range(n_bw)]  # published bandwidths, kbps

    # ---- context pool

    @contextmanager
    def _context(self) -> Iterator[int]:
        """Borrows a context for one call (the calling thread has it alone until the block ends)."""
        with self._cv:
            while True:
                if self._closed or not self._model:
                    raise ValueError("model is closed")
                if self._idle:
                    ctx = self._idle.pop()
                    break
                if self.max_contexts is None or len(self._all) < self.max_contexts:
                    ctx = self._lib.codec_context_new(self._model, _ContextParams(self.n_threads))
                    if not ctx:
                        raise CodecError(5, "cannot create a context")
                    self._all.append(ctx)
                    break
                self._cv.wait()
            self._busy += 1
        try:
            yield ctx
        finally:
            with self._cv:
                self._busy -= 1
                self._idle.append(ctx)
                self._cv.notify_all()

    @property
    def n_contexts(self) -> int:
        """Contexts created so far (the most threads that have computed at once)."""
        return len(self._all)

    @property
    def _ctx(self) -> int:
        """A context of the pool, for code that passes one to the C API by hand (single-threaded use)."""
        if not self._all:
            raise ValueError("model is closed")
        return self._all[0]

    def _check(self, ctx: int, status: int) -> None:
        if status != 0:
            raise CodecError(status, self._lib.codec_context_last_error(ctx).decode(errors="replace"))

    def _live(self) -> None:
        if self._closed or not self._model:
            raise ValueError("model is closed")

    # ---- info

    def n_q_for_bandwidth(self, kbps: float) -> int:
        """Codebooks used at `kbps` (one of self.bandwidths), as the reference maps it."""
        self._live()
        n_q = self._lib.codec_model_n_q_for_bandwidth(self._model, float(kbps))
        if n_q < 1:
            raise ValueError(f"bandwidth {kbps} kbps is not one of this model's {self.bandwidths}")
        return n_q

    def meta(self, key: str) -> Optional[str]:
        """A GGUF metadata value rendered as a string, or None if the key does not exist."""
        self._live()
        n = self._lib.codec_model_meta_str(self._model, key.encode(), None, 0)
        if n < 0:
            return None
        buf = ctypes.create_string_buffer(n + 1)
        self._lib.codec_model_meta_str(self._model, key.encode(), buf, n + 1)
        return buf.value.decode()

    def output_samples(self, n_in: int) -> int:
        """Output samples spanning n_in input samples (the decoder's rate may differ from the encoder's)."""
        return -(-n_in * self.sample_rate // self.encode_sample_rate)

    def info(self) -> dict:
        """The model's properties as a dict (what `python -m codec_cpp info` prints)."""
        keys = ("arch", "sample_rate", "hop_size", "encode_sample_rate", "encode_hop_size", "channels", "n_q",
                "codebook_size", "codebook_dim", "latent_dim",
                "has_encoder", "has_decoder", "has_scales", "multi_rate", "continuous", "batch_graph",
                "batch_encode_graph", "batch_decode_graph", "batch_latent_graph", "uses_gpu",
                "bandwidths")
        return {k: getattr(self, k) for k in keys}

    # ---- one-shot calls

    def _pcm(self, pcm: ArrayLike) -> np.ndarray:
        x = np.ascontiguousarray(pcm, dtype=np.float32)
        if self.channels > 1 and x.ndim == 1:
            x = np.ascontiguousarray(np.repeat(x[:, None], self.channels, axis=1))
        if x.ndim > 2 or (x.ndim == 2 and x.shape[1] != self.channels):
            raise ValueError(f"pcm must be [n_samples] or [n_samples, {self.channels}], got shape {x.shape}")
        return x

    def encode(self, pcm: ArrayLike, n_q: int = -1, bandwidth: Optional[float] = None) -> Codes:
        """pcm: float [n_samples] (mono) or [n_samples, channels] at self.encode_sample_rate; returns int32
        [n_q, n_frames], or for multi-rate codecs (SNAC) a list of n_q int32 arrays, one per level,
        each its own length, or for codecs with per-chunk scales (EnCodec 48 kHz) (codes, float32
        scales [n_chunks]). bandwidth (kbps) selects n_q as the reference does. Mono pcm given to a
        multi-channel model is duplicated into every channel."""
        if bandwidth is not None:
            if n_q != -1:
                raise ValueError("give n_q or bandwidth, not both")
            n_q = self.n_q_for_bandwidth(bandwidth)
        x = self._pcm(pcm)
        n = x.shape[0] if x.ndim else 0
        out = _Codes()
        with self._context() as ctx:
            self._check(ctx, self._lib.codec_encode(ctx, _ptr(x, ctypes.c_float), n, n_q, ctypes.byref(out)))
            # The result is the context's until its next call: copy it out before giving the context back.
            return self._codes_out(out)

    @staticmethod
    def _codes_out(out: _Codes) -> Codes:
        codes = np.ctypeslib.as_array(out.data, shape=(out.n_q, out.n_frames)).copy()
        if out.row_len:
            return [codes[q, :out.row_len[q]].copy() for q in range(out.n_q)]
        if out.n_scales:
            return codes, np.ctypeslib.as_array(out.scales, shape=(out.n_scales,)).copy()
        return codes

    @staticmethod
    def _audio(out: _Audio) -> np.ndarray:
        if out.n_samples == 0:
            return np.zeros((0,) if out.n_channels == 1 else (0, out.n_channels), dtype=np.float32)
        a = np.ctypeslib.as_array(out.data, shape=(out.n_samples * out.n_channels,)).copy()
        return a if out.n_channels == 1 else a.reshape(out.n_samples, out.n_channels)

    def decode(self, codes: Codes, scales: Optional[ArrayLike] = None) -> np.ndarray:
        """codes: int [n_q, n_frames], or a list of 1-D per-level arrays (multi-rate codecs such as
        SNAC, as encode returns them), or with scales (EnCodec 48 kHz; also accepted as the
        (codes, scales) tuple encode returns); returns float32 audio [n_samples] or [n_samples, channels]."""
        if scales is None and isinstance(codes, tuple) and len(codes) == 2 and self.has_scales:
            codes, scales = codes
        if scales is not None:
            return self._decode_scaled(codes, scales)
        if isinstance(codes, (list, tuple)):
            return self._decode_levels(codes)
        c = _i32_matrix(codes)
        out = _Audio()
        with self._context() as ctx:
            self._check(ctx, self._lib.codec_decode(ctx, _ptr(c, ctypes.c_int32), c.shape[0], c.shape[1],
                                                    ctypes.byref(out)))
            return self._audio(out)

    def _decode_levels(self, levels: Sequence[Any]) -> np.ndarray:
        if not levels:
            raise ValueError("code levels must be a non-empty list of 1-D arrays")
        c, row_len = _i32_rows(levels)
        codes = _Codes(c.shape[0], c.shape[1], _ptr(c, ctypes.c_int32), _ptr(row_len, ctypes.c_int32), 0, None)
        out = _Audio()
        with self._context() as ctx:
            self._check(ctx, self._lib.codec_decode_codes(ctx, ctypes.byref(codes), ctypes.byref(out)))
            return self._audio(out)

    def _decode_scaled(self, codes: Any, scales: ArrayLike) -> np.ndarray:
        c = _i32_matrix(codes)
        s = np.ascontiguousarray(scales, dtype=np.float32).reshape(-1)
        cc = _Codes(c.shape[0], c.shape[1], _ptr(c, ctypes.c_int32), None, s.size, _ptr(s, ctypes.c_float))
        out = _Audio()
        with self._context() as ctx:
            self._check(ctx, self._lib.codec_decode_codes(ctx, ctypes.byref(cc), ctypes.byref(out)))
            return self._audio(out)

    @staticmethod
    def _latent(out: _Latent) -> np.ndarray:
        if out.n_frames == 0:
            return np.zeros((out.latent_dim, 0), dtype=np.float32)
        return np.ctypeslib.as_array(out.data, shape=(out.latent_dim, out.n_frames)).copy()

    def encode_latent(self, pcm: ArrayLike) -> np.ndarray:
        """Continuous models: pcm as encode(); returns the float32 latent [latent_dim, n_frames]
        (decode_latent's input)."""
        x = self._pcm(pcm)
        n = x.shape[0] if x.ndim else 0
        out = _Latent()
        with self._context() as ctx:
            self._check(ctx, self._lib.codec_encode_latent(ctx, _ptr(x, ctypes.c_float), n, ctypes.byref(out)))
            return self._latent(out)

    def decode_latent(self, latent: ArrayLike) -> np.ndarray:
        """latent: float [latent_dim, n_frames]; returns float32 audio."""
        z = np.ascontiguousarray(latent, dtype=np.float32)
        if z.ndim != 2:
            raise ValueError("latent must be 2-D [latent_dim, n_frames]")
        out = _Audio()
        with self._context() as ctx:
            self._check(ctx, self._lib.codec_decode_latent(ctx, _ptr(z, ctypes.c_float), z.shape[0], z.shape[1],
                                                           ctypes.byref(out)))
            return self._audio(out)

    # ---- batches

    def _workers(self, n_items: int, workers: Optional[int]) -> int:
        if workers is None:
            cores = os.cpu_count() or 1
            per_call = self.n_threads if self.n_threads > 0 else cores
            workers = max(1, cores // per_call)
            if self.max_contexts is not None:
                workers = min(workers, self.max_contexts)
        return max(1, min(int(workers), n_items))

    def _map(self, fn: Callable[[Any], _T], items: Sequence[Any], workers: Optional[int]) -> List[_T]:
        items = list(items)
        w = self._workers(len(items), workers)
        if w <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=w, thread_name_prefix="codec_cpp") as ex:
            return list(ex.map(fn, items))

    def _slices(self, n: int, workers: Optional[int]) -> List[range]:
        w = self._workers(n, workers)
        step = -(-n // w) if n else 1
        return [range(i, min(n, i + step)) for i in range(0, n, step)]

    def encode_batch(self, pcms: Iterable[ArrayLike], n_q: int = -1, bandwidth: Optional[float] = None,
                     workers: Optional[int] = None) -> List[Codes]:
        """encode() of every array in a list; returns a list in the same order, each item equal to
        encode() of that array. Arrays of the same length run as one graph with a batch axis where
        the model has one (batch_encode_graph). workers: threads, each taking an equal slice of the list on
        its own context (default cores // n_threads, at least 1). The first error is raised."""
        if bandwidth is not None:
            if n_q != -1:
                raise ValueError("give n_q or bandwidth, not both")
            n_q = self.n_q_for_bandwidth(bandwidth)
        xs = [self._pcm(p) for p in pcms]

        def run(idx: range) -> List[Codes]:
            ptrs = (ctypes.POINTER(ctypes.c_float) * len(idx))(*[_ptr(xs[i], ctypes.c_float) for i in idx])
            lens = (ctypes.c_int64 * len(idx))(*[xs[i].shape[0] if xs[i].ndim else 0 for i in idx])
            outs = (_Codes * len(idx))()
            with self._context() as ctx:
                self._check(ctx, self._lib.codec_encode_batch(ctx, ptrs, lens, len(idx), n_q, outs))
                return [self._codes_out(o) for o in outs]

        return [c for part in self._map(run, self._slices(len(xs), workers), workers) for c in part]

    def decode_batch(self, codes: Iterable[Codes], scales: Optional[Sequence[ArrayLike]] = None,
                     workers: Optional[int] = None) -> List[np.ndarray]:
        """decode() of every item of a list (as encode/encode_batch return them), equal to decode() of
        each; same-shape codes run as one graph with a batch axis where the model has one
        (batch_decode_graph).
        scales: one per item for models with per-chunk scales (or pass encode's (codes, scales)
        tuples). workers: as encode_batch."""
        codes = list(codes)
        if scales is not None:
            scales = list(scales)
            if len(scales) != len(codes):
                raise ValueError(f"{len(codes)} codes but {len(scales)} scales")
            codes = list(zip(codes, scales))
        items = [self._codes_in(c) for c in codes]

        def run(idx: range) -> List[np.ndarray]:
            cs = (_Codes * len(idx))(*[items[i][0] for i in idx])
            outs = (_Audio * len(idx))()
            with self._context() as ctx:
                self._check(ctx, self._lib.codec_decode_batch(ctx, cs, len(idx), outs))
                return [self._audio(o) for o in outs]

        return [a for part in self._map(run, self._slices(len(items), workers), workers) for a in part]

    def decode_latent_batch(self, latents: Iterable[ArrayLike], workers: Optional[int] = None) -> List[np.ndarray]:
        """decode_latent() of every float [latent_dim, n_frames] array of a list, equal to decode_latent()
        of each; same-length latents run as one graph with a batch axis where the model has one
        (batch_latent_graph). workers: as encode_batch."""
        zs = [np.ascontiguousarray(z, dtype=np.float32) for z in latents]
        dim = zs[0].shape[0] if zs and zs[0].ndim == 2 else self.latent_dim
        for i, z in enumerate(zs):
            if z.ndim != 2 or z.shape[0] != dim:
                raise ValueError(f"latent {i}: shape {z.shape}, not [{dim}, n_frames] (2-D, the same latent_dim for all)")

        def run(idx: range) -> List[np.ndarray]:
            ptrs = (ctypes.POINTER(ctypes.c_float) * len(idx))(*[_ptr(zs[i], ctypes.c_float) for i in idx])
            lens = (ctypes.c_int32 * len(idx))(*[zs[i].shape[1] for i in idx])
            outs = (_Audio * len(idx))()
            with self._context() as ctx:
                self._check(ctx, self._lib.codec_decode_latent_batch(ctx, ptrs, lens, len(idx), dim, outs))
                return [self._audio(o) for o in outs]

        return [a for part in self._map(run, self._slices(len(zs), workers), workers) for a in part]

    def _codes_in(self, codes: Any) -> Tuple[_Codes, tuple]:
        """codes as decode() takes them -> the C struct and the arrays it points into (keep them alive)."""
        if isinstance(codes, tuple) and len(codes) == 2 and self.has_scales:
            c = _i32_matrix(codes[0])
            s = np.ascontiguousarray(codes[1], dtype=np.float32).reshape(-1)
            return _Codes(c.shape[0], c.shape[1], _ptr(c, ctypes.c_int32), None, s.size, _ptr(s, ctypes.c_float)), (c, s)
        if isinstance(codes, (list, tuple)):
            if not codes:
                raise ValueError("code levels must be a non-empty list of 1-D arrays")
            c, row_len = _i32_rows(codes)
            return _Codes(c.shape[0], c.shape[1], _ptr(c, ctypes.c_int32), _ptr(row_len, ctypes.c_int32), 0, None), (c, row_len)
        c = _i32_matrix(codes)
        return _Codes(c.shape[0], c.shape[1], _ptr(c, ctypes.c_int32), None, 0, None), (c,)

    # ---- streams

    def stream(self, direction: str, n_q: int = -1, block_frames: int = 0,
               approx: Optional[Sequence[int]] = None) -> "Stream":
        """A Stream ("encode": push PCM, pull codes; "decode": push codes, pull audio; continuous models:
        latents float32 [latent_dim, n_frames] instead of codes). approx=(left, right[, fade]): the models
        that cannot decode exactly in a stream (XCodec2 / NeuCodec, WavTokenizer) decode each block in a
        window with that many frames of context each side, fading over `fade` frames (approximate;
        ignored by models that stream exactly)."""
        return Stream(self, direction, n_q, block_frames, approx)

    def stream_encode(self, chunks: Iterable[ArrayLike], n_q: int = -1, block_frames: int = 0) -> Iterator[Codes]:
        """Yields the codes that each PCM chunk completes, then the flushed rest."""
        s = self.stream("encode", n_q, block_frames)
        try:
            for c in chunks:
                s.push(c)
                yield s.pull()
            s.flush()
            yield s.pull()
        finally:
            s.close()

    def stream_decode(self, chunks: Iterable[Codes], n_q: Optional[int] = None,
                      block_frames: int = 0, approx: Optional[Sequence[int]] = None) -> Iterator[np.ndarray]:
        """Yields the audio that each chunk of codes completes, then the flushed rest."""
        s = None
        try:
            for c in chunks:
                if s is None:
                    rows = len(c) if isinstance(c, (list, tuple)) else np.asarray(c).shape[0]
                    s = self.stream("decode", n_q or rows, block_frames, approx)
                s.push(c)
                yield s.pull()
            if s is not None:
                s.flush()
                yield s.pull()
        finally:
            if s is not None:
                s.close()

    # ---- lifetime

    def close(self) -> None:
        """Frees the streams, the contexts and the weights; waits for calls in progress on other threads."""
        cv = getattr(self, "_cv", None)
        if cv is None:
            return
        with cv:
            self._closed = True
            while self._busy:
                cv.wait()
            streams, self._streams = list(self._streams), set()
        for s in streams:
            s.close()
        with cv:
            for ctx in self._all:
                self._lib.codec_context_free(ctx)
            self._all, self._idle = [], []
            if self._model:
                self._lib.codec_model_free(self._model)
                self._model = None

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class Stream:
    """One direction of streaming over a Model (see codec.h). push() takes PCM (encode: float
    [n] or [n, channels]) or codes (decode: int [n_q, n_frames], or a list of per-level 1-D arrays
    for multi-rate codecs; continuous models: float32 latents [latent_dim, n_frames]); pull() returns
    what became ready since the last pull, in the shapes Model.encode/decode (encode_latent) return; flush() ends the input; reset() starts over. The stream is closed
    with its Model. A stream has its own state: calls on one stream from several threads are
    serialized (different streams run in parallel)."""

    def __init__(self, model: Model, direction: str, n_q: int = -1, block_frames: int = 0,
                 approx: Optional[Sequence[int]] = None):
        if direction not in ("encode", "decode"):
            raise ValueError("direction must be 'encode' or 'decode'")
        if approx is not None and len(approx) not in (2, 3):
            raise ValueError("approx must be (left_frames, right_frames) or (left_frames, right_frames, fade_frames)")
        self._model, self._lib = model, model._lib
        self._lock = threading.RLock()
        self._s = None
        self.encoding = direction == "encode"
        a = tuple(approx or ()) + (0,) * (3 - len(approx or ()))
        p = _StreamParams(0 if self.encoding else 1, n_q, block_frames, approx is not None, *a)
        # The stream uses its context's model and thread count, not the context itself.
        with model._context() as ctx:
            self._s = self._lib.codec_stream_new(ctx, p)
            if not self._s:
                raise CodecError(1, self._lib.codec_context_last_error(ctx).decode(errors="replace"))
        with model._cv:
            model._streams.add(self)
        self.n_q = n_q if n_q > 0 else model.n_q
        self.latent = model.continuous  # pushes (decode) / pulls (encode) float32 latents [latent_dim, n_frames]

    @property
    def info(self) -> dict:
        """dict: causal, carries_state, hop_size, block_frames, first_frames, lookahead_frames, left_frames, align_frames,
        state_bytes, the last block's last_build_ms / last_alloc_ms / last_compute_ms, n_blocks, and approximate /
        fade_frames (approximate windows)."""
        with self._lock:
            self._live()
            i = _StreamInfo()
            self._check(self._lib.codec_stream_get_info(self._s, ctypes.byref(i)))
            return {k: getattr(i, k) for k, _ in _StreamInfo._fields_}

    def _check(self, status: int) -> None:
        if status != 0:
            raise CodecError(status, self._lib.codec_stream_last_error(self._s).decode(errors="replace"))

    def _live(self) -> None:
        if not self._s:
            raise ValueError("stream is closed")

    def push(self, data: Union[ArrayLike, Sequence[ArrayLike]]) -> None:
        with self._lock:
            self._live()
            if self.encoding:
                x = self._model._pcm(data)
                n = x.shape[0] if x.ndim else 0
                self._check(self._lib.codec_stream_push_pcm(self._s, _ptr(x, ctypes.c_float), n))
                return
            if self.latent:
                z = np.ascontiguousarray(data, dtype=np.float32)
                if z.ndim != 2:
                    raise ValueError("latent must be 2-D [latent_dim, n_frames]")
                self._check(self._lib.codec_stream_push_latent(self._s, _ptr(z, ctypes.c_float), z.shape[0], z.shape[1]))
                return
            sc = None
            if self._model.has_scales:  # (codes, scales): the new frames and the new chunks' scales
                if not (isinstance(data, (list, tuple)) and len(data) == 2):
                    raise ValueError("this model's codes carry per-chunk scales: push (codes, scales)")
                data, sc = data[0], np.ascontiguousarray(data[1], dtype=np.float32).reshape(-1)
            if isinstance(data, (list, tuple)):
                c, row_len = _i32_rows(data)
                rl = _ptr(row_len, ctypes.c_int32)
            else:
                c, rl = _i32_matrix(data), None
            cc = _Codes(c.shape[0], c.shape[1], _ptr(c, ctypes.c_int32), rl, 0 if sc is None else sc.size,
                        None if sc is None else _ptr(sc, ctypes.c_float))
            self._check(self._lib.codec_stream_push_codes(self._s, ctypes.byref(cc)))

    def pull(self) -> Union[np.ndarray, List[np.ndarray]]:
        with self._lock:
            self._live()
            if self.encoding and self.latent:
                lat = _Latent()
                self._check(self._lib.codec_stream_pull_latent(self._s, ctypes.byref(lat)))
                return Model._latent(lat)
            if self.encoding:
                out = _Codes()
                self._check(self._lib.codec_stream_pull_codes(self._s, ctypes.byref(out)))
                n_frames = out.n_frames
                codes = (np.ctypeslib.as_array(out.data, shape=(out.n_q, n_frames)).copy() if n_frames
                         else np.zeros((out.n_q, 0), dtype=np.int32))
                if out.row_len:
                    return [codes[q, :out.row_len[q]].copy() for q in range(out.n_q)]
                if self._model.has_scales:  # (codes, scales of the chunks they complete)
                    sc = (np.ctypeslib.as_array(out.scales, shape=(out.n_scales,)).copy() if out.n_scales
                          else np.zeros(0, dtype=np.float32))
                    return codes, sc
                return codes
            out = _Audio()
            self._check(self._lib.codec_stream_pull_pcm(self._s, ctypes.byref(out)))
            return Model._audio(out)

    def flush(self) -> None:
        with self._lock:
            self._live()
            self._check(self._lib.codec_stream_flush(self._s))

    def reset(self) -> None:
        with self._lock:
            self._live()
            self._check(self._lib.codec_stream_reset(self._s))

    def close(self) -> None:
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            if getattr(self, "_s", None):
                self._lib.codec_stream_free(self._s)
                self._s = None
                with self._model._cv:
                    self._model._streams.discard(self)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
