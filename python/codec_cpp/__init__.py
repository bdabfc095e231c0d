"""Python bindings for codec.cpp (ctypes over libcodec.so; numpy in, numpy out).

    import codec_cpp
    with codec_cpp.Model("dac44.gguf", n_threads=2) as m:
        codes = m.encode(pcm)          # int32 [n_q, n_frames]
        audio = m.decode(codes)        # float32 [n_samples] (or [n_samples, channels])

Codecs with per-chunk scales (EnCodec 48 kHz) encode to (codes, scales) and decode takes
decode(codes, scales); a mono array given to a stereo model is duplicated into both channels.

Multi-rate codecs (SNAC) encode to a list of per-level int32 arrays of different lengths, and
decode takes that list.

Streams compute piece by piece (see codec.h): push PCM and pull codes, or push codes and pull
audio; flush at the end:

    s = m.stream("encode")             # or m.stream("decode", n_q=8)
    for chunk in chunks:
        s.push(chunk)
        codes = s.pull()               # whatever became ready (maybe 0 frames)
    s.flush(); codes = s.pull()
    for codes in m.stream_encode(chunks): ...   # the same as a generator

Set CODEC_LIB to the library path if it is not in build/ next to this package's repo.
"""
import ctypes
import os

import numpy as np

__all__ = ["Model", "Stream", "CodecError", "load_library"]

_LIB = None


class CodecError(RuntimeError):
    def __init__(self, status, message):
        super().__init__(f"{message} (status {status})")
        self.status = status


class _Codes(ctypes.Structure):
    _fields_ = [("n_q", ctypes.c_int32), ("n_frames", ctypes.c_int32), ("data", ctypes.POINTER(ctypes.c_int32)),
                ("row_len", ctypes.POINTER(ctypes.c_int32)), ("n_scales", ctypes.c_int32),
                ("scales", ctypes.POINTER(ctypes.c_float))]


class _Audio(ctypes.Structure):
    _fields_ = [("n_samples", ctypes.c_int64), ("n_channels", ctypes.c_int32), ("sample_rate", ctypes.c_int32),
                ("data", ctypes.POINTER(ctypes.c_float))]


class _StreamParams(ctypes.Structure):
    _fields_ = [("direction", ctypes.c_int), ("n_q", ctypes.c_int32), ("block_frames", ctypes.c_int32)]


class _StreamInfo(ctypes.Structure):
    _fields_ = [("causal", ctypes.c_bool), ("hop_size", ctypes.c_int32), ("block_frames", ctypes.c_int32),
                ("first_frames", ctypes.c_int32), ("lookahead_frames", ctypes.c_int32), ("left_frames", ctypes.c_int32),
                ("align_frames", ctypes.c_int32), ("state_bytes", ctypes.c_int64)]


class _ModelParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32), ("use_gpu", ctypes.c_bool)]


class _ContextParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32)]


def load_library(path=None):
    global _LIB
    if _LIB is not None:
        return _LIB
    if path is None:
        path = os.environ.get("CODEC_LIB")
    if path is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.path.join(root, "build", "libcodec.so")
    lib = ctypes.CDLL(path)
    P, I32, I64 = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64
    lib.codec_model_load.restype = P
    lib.codec_model_load.argtypes = [ctypes.c_char_p, _ModelParams, ctypes.POINTER(ctypes.c_int), ctypes.c_char_p, ctypes.c_size_t]
    lib.codec_model_free.argtypes = [P]
    for name in ("sample_rate", "hop_size", "n_q", "codebook_size", "codebook_dim", "latent_dim", "channels"):
        f = getattr(lib, "codec_model_" + name)
        f.restype, f.argtypes = I32, [P]
    for name in ("has_encoder", "has_decoder", "uses_gpu"):
        f = getattr(lib, "codec_model_" + name)
        f.restype, f.argtypes = ctypes.c_bool, [P]
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
    lib.codec_decode_latent.restype = ctypes.c_int
    lib.codec_decode_latent.argtypes = [P, ctypes.POINTER(ctypes.c_float), I32, I32, ctypes.POINTER(_Audio)]
    lib.codec_stream_new.restype, lib.codec_stream_new.argtypes = P, [P, _StreamParams]
    lib.codec_stream_free.argtypes = [P]
    lib.codec_stream_last_error.restype, lib.codec_stream_last_error.argtypes = ctypes.c_char_p, [P]
    for name, args in (("reset", [P]), ("flush", [P]), ("get_info", [P, ctypes.POINTER(_StreamInfo)]),
                       ("push_pcm", [P, ctypes.POINTER(ctypes.c_float), I64]), ("push_codes", [P, ctypes.POINTER(_Codes)]),
                       ("pull_codes", [P, ctypes.POINTER(_Codes)]), ("pull_pcm", [P, ctypes.POINTER(_Audio)])):
        f = getattr(lib, "codec_stream_" + name)
        f.restype, f.argtypes = ctypes.c_int, args
    _LIB = lib
    return lib


class Model:
    """A loaded model with one context (use one Model per thread, or share weights in C)."""

    def __init__(self, path, n_threads=0, use_gpu=False, lib=None):
        self._lib = load_library(lib)
        err = ctypes.create_string_buffer(1024)
        status = ctypes.c_int(0)
        self._model = self._lib.codec_model_load(os.fsencode(path), _ModelParams(n_threads, use_gpu),
                                                 ctypes.byref(status), err, len(err))
        if not self._model:
            raise CodecError(status.value, err.value.decode(errors="replace"))
        self._ctx = self._lib.codec_context_new(self._model, _ContextParams(n_threads))
        if not self._ctx:
            self._lib.codec_model_free(self._model)
            self._model = None
            raise CodecError(5, "cannot create a context")
        g = lambda n: getattr(self._lib, "codec_model_" + n)(self._model)  # noqa: E731
        self.arch = g("arch").decode()
        self.sample_rate, self.hop_size, self.n_q = g("sample_rate"), g("hop_size"), g("n_q")
        self.codebook_size, self.codebook_dim = g("codebook_size"), g("codebook_dim")
        self.latent_dim, self.channels = g("latent_dim"), g("channels")
        self.has_encoder, self.has_decoder, self.uses_gpu = g("has_encoder"), g("has_decoder"), g("uses_gpu")
        self.has_scales = g("has_scales")  # encode returns (codes, scales); decode needs the scales
        n_bw = self._lib.codec_model_bandwidths(self._model, None, 0)
        bw = (ctypes.c_float * max(n_bw, 1))()
        self._lib.codec_model_bandwidths(self._model, bw, n_bw)
        self.bandwidths = [float(bw[i]) for i in range(n_bw)]  # published bandwidths, kbps

    def n_q_for_bandwidth(self, kbps):
        """Codebooks used at `kbps` (one of self.bandwidths), as the reference maps it."""
        n_q = self._lib.codec_model_n_q_for_bandwidth(self._model, float(kbps))
        if n_q < 1:
            raise ValueError(f"bandwidth {kbps} kbps is not one of this model's {self.bandwidths}")
        return n_q

    def meta(self, key):
        n = self._lib.codec_model_meta_str(self._model, key.encode(), None, 0)
        if n < 0:
            return None
        buf = ctypes.create_string_buffer(n + 1)
        self._lib.codec_model_meta_str(self._model, key.encode(), buf, n + 1)
        return buf.value.decode()

    def _check(self, status):
        if status != 0:
            raise CodecError(status, self._lib.codec_context_last_error(self._ctx).decode(errors="replace"))

    def encode(self, pcm, n_q=-1, bandwidth=None):
        """pcm: float [n_samples] (mono) or [n_samples, channels]; returns int32 [n_q, n_frames], or
        for multi-rate codecs (SNAC) a list of n_q int32 arrays, one per level, each its own length,
        or for codecs with per-chunk scales (EnCodec 48 kHz) (codes, float32 scales [n_chunks]).
        bandwidth (kbps) selects n_q as the reference does. Mono pcm given to a multi-channel model
        is duplicated into every channel."""
        if bandwidth is not None:
            if n_q != -1:
                raise ValueError("give n_q or bandwidth, not both")
            n_q = self.n_q_for_bandwidth(bandwidth)
        x = np.ascontiguousarray(pcm, dtype=np.float32)
        if self.channels > 1 and x.ndim == 1:
            x = np.ascontiguousarray(np.repeat(x[:, None], self.channels, axis=1))
        if x.ndim > 2 or (x.ndim == 2 and x.shape[1] != self.channels):
            raise ValueError(f"pcm must be [n_samples] or [n_samples, {self.channels}], got shape {x.shape}")
        n = x.shape[0] if x.ndim else 0
        out = _Codes()
        self._check(self._lib.codec_encode(self._ctx, x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n, n_q,
                                           ctypes.byref(out)))
        codes = np.ctypeslib.as_array(out.data, shape=(out.n_q, out.n_frames)).copy()
        if out.row_len:
            return [codes[q, :out.row_len[q]].copy() for q in range(out.n_q)]
        if out.n_scales:
            return codes, np.ctypeslib.as_array(out.scales, shape=(out.n_scales,)).copy()
        return codes

    def _audio(self, out):
        a = np.ctypeslib.as_array(out.data, shape=(out.n_samples * out.n_channels,)).copy()
        return a if out.n_channels == 1 else a.reshape(out.n_samples, out.n_channels)

    def decode(self, codes, scales=None):
        """codes: int [n_q, n_frames], or a list of 1-D per-level arrays (multi-rate codecs such as
        SNAC, as encode returns them); returns float32 audio."""
        if scales is not None:
            return self._decode_scaled(codes, scales)
        if isinstance(codes, (list, tuple)):
            return self._decode_levels(codes)
        c = np.ascontiguousarray(codes, dtype=np.int32)
        if c.ndim != 2:
            raise ValueError("codes must be 2-D [n_q, n_frames]")
        out = _Audio()
        self._check(self._lib.codec_decode(self._ctx, c.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                           c.shape[0], c.shape[1], ctypes.byref(out)))
        return self._audio(out)

    def _decode_levels(self, levels):
        rows = [np.asarray(r) for r in levels]
        if not rows or any(r.ndim != 1 for r in rows):
            raise ValueError("code levels must be a non-empty list of 1-D arrays")
        if any(r.size and not np.issubdtype(r.dtype, np.integer) for r in rows):
            raise ValueError("code levels must be integer arrays")
        n_frames = max(r.size for r in rows)
        c = np.zeros((len(rows), n_frames), dtype=np.int32)
        for q, r in enumerate(rows):
            if r.size and (r.min() < np.iinfo(np.int32).min or r.max() > np.iinfo(np.int32).max):
                raise ValueError(f"code level {q} has values outside int32")
            c[q, :r.size] = r
        row_len = np.array([r.size for r in rows], dtype=np.int32)
        codes = _Codes(len(rows), n_frames, c.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                       row_len.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), 0, None)
        out = _Audio()
        self._check(self._lib.codec_decode_codes(self._ctx, ctypes.byref(codes), ctypes.byref(out)))
        return self._audio(out)

    def _decode_scaled(self, codes, scales):
        c = np.ascontiguousarray(codes, dtype=np.int32)
        s = np.ascontiguousarray(scales, dtype=np.float32).reshape(-1)
        if c.ndim != 2:
            raise ValueError("codes must be 2-D [n_q, n_frames]")
        cc = _Codes(c.shape[0], c.shape[1], c.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), None, s.size,
                    s.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        out = _Audio()
        self._check(self._lib.codec_decode_codes(self._ctx, ctypes.byref(cc), ctypes.byref(out)))
        return self._audio(out)

    def decode_latent(self, latent):
        """latent: float [latent_dim, n_frames]; returns float32 audio."""
        z = np.ascontiguousarray(latent, dtype=np.float32)
        if z.ndim != 2:
            raise ValueError("latent must be 2-D [latent_dim, n_frames]")
        out = _Audio()
        self._check(self._lib.codec_decode_latent(self._ctx, z.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                                  z.shape[0], z.shape[1], ctypes.byref(out)))
        return self._audio(out)

    def stream(self, direction, n_q=-1, block_frames=0):
        """A Stream ("encode": push PCM, pull codes; "decode": push codes, pull audio)."""
        return Stream(self, direction, n_q, block_frames)

    def stream_encode(self, chunks, n_q=-1, block_frames=0):
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

    def stream_decode(self, chunks, n_q=None, block_frames=0):
        """Yields the audio that each chunk of codes completes, then the flushed rest."""
        s = None
        try:
            for c in chunks:
                if s is None:
                    rows = len(c) if isinstance(c, (list, tuple)) else np.asarray(c).shape[0]
                    s = self.stream("decode", n_q or rows, block_frames)
                s.push(c)
                yield s.pull()
            if s is not None:
                s.flush()
                yield s.pull()
        finally:
            if s is not None:
                s.close()

    def close(self):
        for s in list(getattr(self, "_streams", ())):
            s.close()
        if getattr(self, "_ctx", None):
            self._lib.codec_context_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            self._lib.codec_model_free(self._model)
            self._model = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class Stream:
    """One direction of streaming over a Model (see codec.h). push() takes PCM (encode: float
    [n] or [n, channels]) or codes (decode: int [n_q, n_frames], or a list of per-level 1-D arrays
    for multi-rate codecs); pull() returns what became ready since the last pull, in the shapes
    Model.encode/decode return; flush() ends the input; reset() starts over. The stream is closed
    with its Model."""

    def __init__(self, model, direction, n_q=-1, block_frames=0):
        if direction not in ("encode", "decode"):
            raise ValueError("direction must be 'encode' or 'decode'")
        self._model, self._lib = model, model._lib
        self.encoding = direction == "encode"
        p = _StreamParams(0 if self.encoding else 1, n_q, block_frames)
        self._s = self._lib.codec_stream_new(model._ctx, p)
        if not self._s:
            raise CodecError(1, self._lib.codec_context_last_error(model._ctx).decode(errors="replace"))
        if not hasattr(model, "_streams"):
            model._streams = set()
        model._streams.add(self)
        info = _StreamInfo()
        self._lib.codec_stream_get_info(self._s, ctypes.byref(info))
        self.n_q = n_q if n_q > 0 else model.n_q

    @property
    def info(self):
        """dict: causal, hop_size, block_frames, first_frames, lookahead_frames, left_frames, align_frames, state_bytes."""
        i = _StreamInfo()
        self._check(self._lib.codec_stream_get_info(self._s, ctypes.byref(i)))
        return {k: getattr(i, k) for k, _ in _StreamInfo._fields_}

    def _check(self, status):
        if status != 0:
            raise CodecError(status, self._lib.codec_stream_last_error(self._s).decode(errors="replace"))

    def _live(self):
        if not self._s:
            raise ValueError("stream is closed")

    def push(self, data):
        self._live()
        if self.encoding:
            m = self._model
            x = np.ascontiguousarray(data, dtype=np.float32)
            if m.channels > 1 and x.ndim == 1:
                x = np.ascontiguousarray(np.repeat(x[:, None], m.channels, axis=1))
            if x.ndim > 2 or (x.ndim == 2 and x.shape[1] != m.channels):
                raise ValueError(f"pcm must be [n_samples] or [n_samples, {m.channels}], got shape {x.shape}")
            n = x.shape[0] if x.ndim else 0
            self._check(self._lib.codec_stream_push_pcm(self._s, x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n))
            return
        if isinstance(data, (list, tuple)):
            rows = [np.asarray(r) for r in data]
            if any(r.ndim != 1 for r in rows):
                raise ValueError("code levels must be 1-D arrays")
            n = max((r.size for r in rows), default=0)
            c = np.zeros((len(rows), n), dtype=np.int32)
            for q, r in enumerate(rows):
                if r.size and (r.min() < np.iinfo(np.int32).min or r.max() > np.iinfo(np.int32).max):
                    raise ValueError(f"code level {q} has values outside int32")
                c[q, :r.size] = r
            row_len = np.array([r.size for r in rows], dtype=np.int32)
            rl = row_len.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        else:
            c = np.asarray(data)
            if c.ndim != 2:
                raise ValueError("codes must be 2-D [n_q, n_frames]")
            if c.size and (c.min() < np.iinfo(np.int32).min or c.max() > np.iinfo(np.int32).max):
                raise ValueError("codes have values outside int32")
            c = np.ascontiguousarray(c, dtype=np.int32)
            rl, row_len = None, None
        cc = _Codes(c.shape[0], c.shape[1], c.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), rl, 0, None)
        self._check(self._lib.codec_stream_push_codes(self._s, ctypes.byref(cc)))

    def pull(self):
        self._live()
        if self.encoding:
            out = _Codes()
            self._check(self._lib.codec_stream_pull_codes(self._s, ctypes.byref(out)))
            n_frames = out.n_frames
            codes = (np.ctypeslib.as_array(out.data, shape=(out.n_q, n_frames)).copy() if n_frames
                     else np.zeros((out.n_q, 0), dtype=np.int32))
            if out.row_len:
                return [codes[q, :out.row_len[q]].copy() for q in range(out.n_q)]
            return codes
        out = _Audio()
        self._check(self._lib.codec_stream_pull_pcm(self._s, ctypes.byref(out)))
        if out.n_samples == 0:
            return np.zeros((0,) if out.n_channels == 1 else (0, out.n_channels), dtype=np.float32)
        return self._model._audio(out)

    def flush(self):
        self._live()
        self._check(self._lib.codec_stream_flush(self._s))

    def reset(self):
        self._live()
        self._check(self._lib.codec_stream_reset(self._s))

    def close(self):
        if getattr(self, "_s", None):
            self._lib.codec_stream_free(self._s)
            self._s = None
            self._model._streams.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
