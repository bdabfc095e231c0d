#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (one directory per target) from the tiny models
of fuzz/make_models.py plus small NPY/NPZ/audio files. Nothing here is checked in: rerun it.

    python fuzz/make_seeds.py MODELS_DIR OUT_DIR
"""
import io
import os
import struct
import sys
import zipfile

import numpy as np
import soundfile as sf

MODELS = ["dac", "encodec", "encodec_stereo", "mimi", "snac"]  # index = first byte of decode/encode inputs


def put(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy_bytes(a, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, a)
    else:
        np.lib.format.write_array(b, a, version=version)
    return b.getvalue()


def gguf_seeds(models, out):
    import gguf
    for m in MODELS:
        path = os.path.join(models, m + ".gguf")
        data = open(path, "rb").read()
        put(out, m, data)
        # Header only (tensor data cut): exercises the bounds checks at a fraction of the size.
        r = gguf.GGUFReader(path)
        put(out, m + "_meta", data[: r.data_offset])


def npy_seeds(out):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 32, size=(4, 6))
    put(out, "i4", npy_bytes(codes.astype("<i4")))
    put(out, "i8", npy_bytes(codes.astype("<i8")))
    put(out, "i2", npy_bytes(codes.astype("<i2")))
    put(out, "u2", npy_bytes(codes.astype("<u2")))
    put(out, "f4", npy_bytes(rng.standard_normal((3, 5)).astype("<f4")))
    put(out, "f8", npy_bytes(rng.standard_normal((2, 3)).astype("<f8")))
    put(out, "f4_1d", npy_bytes(np.array([1.0, np.nan, np.inf, 1e-42], dtype="<f4")))
    put(out, "i4_1d", npy_bytes(np.arange(7, dtype="<i4")))
    put(out, "empty", npy_bytes(np.zeros((0, 3), dtype="<i4")))
    put(out, "v2", npy_bytes(codes.astype("<i4"), version=(2, 0)))
    put(out, "v3", npy_bytes(codes.astype("<i4"), version=(3, 0)))
    put(out, "fortran", npy_bytes(np.asfortranarray(codes.astype("<i4"))))
    put(out, "big_endian", npy_bytes(codes.astype(">i4")))


def npz_seeds(out):
    rng = np.random.default_rng(1)
    levels = [rng.integers(0, 16, size=n) for n in (2, 4, 8)]
    for name, dt in (("i4", "<i4"), ("i8", "<i8")):
        b = io.BytesIO()
        np.savez(b, **{f"level_{i}": a.astype(dt) for i, a in enumerate(levels)})
        put(out, name, b.getvalue())
    b = io.BytesIO()
    np.savez_compressed(b, level_0=levels[0].astype("<i4"))
    put(out, "compressed", b.getvalue())
    b = io.BytesIO()  # plain zip (no ZIP64 extra fields), one level
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("level_0.npy", npy_bytes(levels[1].astype("<i4")))
    put(out, "one_level", b.getvalue())


def audio_seeds(out):
    t = np.arange(240) / 8000.0
    mono = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    stereo = np.stack([mono, -mono], axis=1)
    cases = [("wav16", mono, 8000, "WAV", "PCM_16"), ("wav_float_st", stereo, 44100, "WAV", "FLOAT"),
             ("wav_u8", mono, 11025, "WAV", "PCM_U8"), ("flac", mono, 16000, "FLAC", "PCM_16"),
             ("ogg", mono, 16000, "OGG", "VORBIS"), ("aiff", stereo, 22050, "AIFF", "PCM_24"),
             ("au", mono, 8000, "AU", "ULAW"), ("w64", mono[:10], 1, "W64", "DOUBLE"),
             ("wav_1frame", mono[:1], 48000, "WAV", "PCM_16")]
    for name, x, sr, fmt, sub in cases:
        b = io.BytesIO()
        sf.write(b, x, sr, format=fmt, subtype=sub)
        put(out, name, b.getvalue())
    six = np.tile(mono[:50, None], (1, 6))
    b = io.BytesIO()
    sf.write(b, six, 8000, format="WAV", subtype="PCM_16")
    put(out, "wav_6ch", b.getvalue())


def decode_seeds(out):
    for mi in range(len(MODELS)):
        # [model, mode, n_q, n_frames u16, n_scales] + values; see fuzz/fuzz_decode.cpp
        for mode in (0x00, 0x01, 0x11, 0x02, 0x22, 0x03, 0x13, 0x41):
            head = bytes([mi, mode, 1]) + struct.pack("<H", 15) + bytes([0])
            body = bytes((i * 7) % 200 for i in range(64 * 8))
            put(out, f"{MODELS[mi]}_mode{mode:02x}", head + body)


def encode_seeds(out):
    rng = np.random.default_rng(2)
    for mi in range(len(MODELS)):
        for n in (0, 1, 64, 600, 2048):
            pcm = (rng.standard_normal(n * 2) * 4000).astype("<i2").tobytes()
            put(out, f"{MODELS[mi]}_n{n}", bytes([mi, 0xFA]) + struct.pack("<H", n) + pcm)
        specials = bytes([0xF3, 0xF5, 0xF7, 0xF8, 0xF9, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF] * 20)
        put(out, f"{MODELS[mi]}_specials", bytes([mi, 0]) + struct.pack("<H", 200) + specials)
        put(out, f"{MODELS[mi]}_nan", bytes([mi, 1]) + struct.pack("<H", 100) + bytes([0xF0]) + bytes(300))


def stream_seeds(out):
    """Both directions on every model: a push, a pull, a flush (layout in fuzz/fuzz_stream.cpp)."""
    rng = np.random.default_rng(3)
    for mi in range(len(MODELS)):
        for direction in (0x0E, 0x03):  # encode with every codebook; decode of 1 row
            n = 300 if direction == 0x0E else 6
            body = rng.integers(0, 240, n * (2 if direction == 0x0E else 8), dtype=np.uint8).tobytes()
            put(out, f"{MODELS[mi]}_{'enc' if direction == 0x0E else 'dec'}",
                bytes([mi, direction, 0, 0]) + struct.pack("<H", n) + body + bytes([3, 0, 1, 3, 0, 2]))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    models, out = sys.argv[1:]
    gguf_seeds(models, os.path.join(out, "gguf"))
    npy_seeds(os.path.join(out, "npy"))
    npz_seeds(os.path.join(out, "npz"))
    audio_seeds(os.path.join(out, "audio"))
    decode_seeds(os.path.join(out, "decode"))
    encode_seeds(os.path.join(out, "encode"))
    stream_seeds(os.path.join(out, "stream"))
    for t in sorted(os.listdir(out)):
        print(f"{t}: {len(os.listdir(os.path.join(out, t)))} seeds")


if __name__ == "__main__":
    main()
