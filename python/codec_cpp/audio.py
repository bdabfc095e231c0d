"""Audio and codes file I/O shared by `python -m codec_cpp` and `python -m codec_cpp.corpus`.

Audio is read with soundfile (libsndfile) and converted exactly as codec-cli does it: channels
mixed first (mean over channels, summed in float64, for a mono model; a mono file duplicated
for a multi-channel model), then resampled with soxr at its HQ setting (libsoxr, as the CLI).
Needs the optional packages soundfile and soxr (pip install codec-cpp[audio] or [ray]).

Codes files are the CLI's: .npy int32 [n_q, n_frames]; multi-rate codes (SNAC) an .npz with
level_0, level_1, ...; per-chunk scales (EnCodec 48 kHz) in x.scales.npy beside x.npy.
"""
from __future__ import annotations

import io
import os
from typing import Any, List, Optional, Tuple, Union

import numpy as np

MAX_UPSAMPLING = 1000  # a header with a tiny sample rate must not turn a few KB into GBs (as the CLI)


def _soundfile() -> Any:
    try:
        import soundfile
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("audio files need the soundfile package: pip install soundfile==0.14.0 "
                          "(or pip install codec-cpp[audio])") from e
    return soundfile


def convert_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """x: float32 [n, c] -> [n, channels]: as the CLI (mean over channels for mono, summed in
    float64 in channel order; a mono input duplicated); anything else is an error."""
    c = x.shape[1]
    if c == channels:
        return x
    if channels == 1:
        s = x[:, 0].astype(np.float64)
        for k in range(1, c):
            s += x[:, k]
        return (s / c).astype(np.float32)[:, None]
    if c == 1:
        return np.ascontiguousarray(np.repeat(x, channels, axis=1))
    raise ValueError(f"cannot convert {c} channels to {channels} (only downmix to mono or mono duplication)")


def resample(x: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """x: float32 [n, c] at rate -> float32 [m, c] at target_rate (soxr HQ, as the CLI)."""
    if rate == target_rate:
        return x
    if rate <= 0 or target_rate <= 0:
        raise ValueError(f"invalid resampling {rate} Hz -> {target_rate} Hz")
    if target_rate / rate >= MAX_UPSAMPLING:
        raise ValueError(f"sample rate {rate} Hz is implausibly low: resampling to {target_rate} Hz would grow "
                         f"the audio more than {MAX_UPSAMPLING}x")
    try:
        import soxr
    except ImportError as e:  # pragma: no cover
        raise ImportError("resampling needs the soxr package: pip install soxr==1.1.0") from e
    y = soxr.resample(x, rate, target_rate, quality="HQ")
    return np.ascontiguousarray(y, dtype=np.float32).reshape(-1, x.shape[1])


def decode_audio(src: Union[str, os.PathLike, bytes], target_rate: int, target_channels: int
                 ) -> Tuple[np.ndarray, dict]:
    """Reads a file (path or its bytes) and converts it to the model's format. Returns pcm
    (float32 [n] for mono, [n, channels] otherwise) and the source's sample_rate, channels and
    samples (per channel). Raises ValueError/RuntimeError (soundfile's LibsndfileError) on a file
    that cannot be decoded or holds no audio."""
    sf = _soundfile()
    f = io.BytesIO(src) if isinstance(src, (bytes, bytearray, memoryview)) else src
    if isinstance(src, (bytes, bytearray, memoryview)) and len(src) == 0:
        raise ValueError("empty file")
    data, rate = sf.read(f, dtype="float32", always_2d=True)
    if data.size == 0:
        raise ValueError("contains no audio samples")
    info = {"sample_rate": int(rate), "channels": int(data.shape[1]), "samples": int(data.shape[0])}
    x = resample(convert_channels(data, target_channels), int(rate), target_rate)
    return (x[:, 0].copy() if target_channels == 1 else x), info


def read_audio(path: Union[str, os.PathLike], target_rate: int, target_channels: int) -> Tuple[np.ndarray, dict]:
    return decode_audio(path, target_rate, target_channels)


def write_audio(path: Union[str, os.PathLike], audio: np.ndarray, rate: int, subtype: str = "pcm16") -> None:
    """WAV/FLAC/OGG by extension; subtype pcm16 (default), pcm24 or float (wav only), as the CLI."""
    sf = _soundfile()
    ext = os.path.splitext(os.fspath(path))[1].lower()
    st = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}.get(subtype)
    if st is None:
        raise ValueError(f"--subtype must be pcm16, pcm24 or float, got '{subtype}'")
    if ext == ".ogg":
        st = "VORBIS"
    elif ext == ".flac" and st == "FLOAT":
        raise ValueError("float samples need a .wav output")
    elif ext not in (".wav", ".flac"):
        raise ValueError(f"cannot write '{ext}' files: use .wav, .flac or .ogg")
    a = np.asarray(audio, dtype=np.float32)
    if st != "FLOAT":
        a = np.clip(a, -1.0, 1.0)
    sf.write(os.fspath(path), a, rate, subtype=st)


def scales_path(codes_path: str, scales: Optional[str] = None) -> str:
    if scales:
        return scales
    base = codes_path[:-4] if codes_path.lower().endswith(".npy") else codes_path
    return base + ".scales.npy"


def write_codes(path: str, codes: Any, scales_out: Optional[str] = None) -> None:
    """Writes codes as encode returns them: [n_q, n_frames] -> .npy; per-level list -> .npz
    (level_0, ...); (codes, scales) -> .npy + .scales.npy ([n_chunks, 1] float32)."""
    if isinstance(codes, list):
        if not path.lower().endswith(".npz"):
            raise ValueError("multi-rate codes (one array per level) need an .npz output")
        np.savez(path, **{f"level_{q}": np.asarray(c, dtype="<i4") for q, c in enumerate(codes)})
        return
    if not path.lower().endswith(".npy"):
        raise ValueError("codes need an .npy output")
    if isinstance(codes, tuple):
        codes, scales = codes
        np.save(scales_path(path, scales_out), np.asarray(scales, dtype="<f4").reshape(-1, 1))
    np.save(path, np.ascontiguousarray(codes, dtype="<i4"))


def read_codes(path: str, has_scales: bool = False, scales: Optional[str] = None) -> Any:
    """The inverse of write_codes: an array, a per-level list (.npz) or (codes, scales)."""
    if path.lower().endswith(".npz"):
        with np.load(path) as z:
            names = sorted(z.files, key=lambda n: int(n.split("_")[1]) if n.startswith("level_") else -1)
            if not names or any(not n.startswith("level_") for n in names):
                raise ValueError(f"{path}: members must be level_0, level_1, ...")
            return [np.asarray(z[n]).astype(np.int32) for n in names]
    c = np.load(path)
    if has_scales:
        sp = scales_path(path, scales)
        if not os.path.exists(sp):
            raise ValueError(f"this model's codes need their per-chunk scales: {sp} does not exist (--scales)")
        return c, np.load(sp).reshape(-1).astype(np.float32)
    return c


def codes_list(codes: Any) -> Tuple[List[np.ndarray], Optional[np.ndarray]]:
    """Codes as encode returns them -> (rows, scales or None), rows 1-D int32 arrays."""
    scales = None
    if isinstance(codes, tuple):
        codes, scales = codes
    rows = list(codes) if isinstance(codes, list) else [r for r in np.asarray(codes)]
    return [np.asarray(r, dtype=np.int32) for r in rows], (None if scales is None else np.asarray(scales, np.float32))
