#!/usr/bin/env python3
"""Offline demo: speech -> DAC-44k codes -> speech, with a RANDOM-WEIGHT model.

No weights can be downloaded here, so the model is the real DAC 44.1 kHz architecture at its
published config with seeded random weights: the pipeline is real, the sound is not speech.
"""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))

import numpy as np  # noqa: E402

OUT = os.path.join(ROOT, "out", "demo")
CLI = os.path.join(ROOT, "build", "bin", "codec-cli")
TEXT = "Neural audio codecs turn speech into a few hundred tokens per second, and back."


def run(args):
    print("$ " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in args), flush=True)
    t = time.time()
    subprocess.run(args, check=True)
    return time.time() - t


def main():
    import convert
    import make_checkpoint
    os.makedirs(OUT, exist_ok=True)
    print("=" * 78)
    print("codec.cpp demo -- the model below has RANDOM WEIGHTS (real DAC-44k architecture,")
    print("seeded random parameters): expect noise-like audio, not speech. For a real model:")
    print("  .venv/bin/python scripts/convert.py --model-id descript/dac_44khz --out dac44.gguf")
    print("=" * 78)

    wav = os.path.join(OUT, "speech.wav")
    run(["espeak-ng", "-w", wav, TEXT])

    ckpt = os.path.join(OUT, "dac44-random")
    model = os.path.join(OUT, "dac44-random.gguf")
    if not os.path.exists(model):
        make_checkpoint.main(["--arch", "dac", "--variant", "44khz", "--seed", "0", "--out", ckpt])
        convert.convert(ckpt, model, "f32")
    print(f"model: {os.path.relpath(model, ROOT)} ({os.path.getsize(model) / 1e6:.0f} MB)")

    threads = str(min(os.cpu_count() or 1, 4))
    codes = os.path.join(OUT, "codes.npy")
    decoded = os.path.join(OUT, "decoded.wav")
    run([CLI, "info", "--model", model])
    run([CLI, "encode", "--model", model, "--in", wav, "--out", codes, "--threads", threads])
    run([CLI, "decode", "--model", model, "--codes", codes, "--out", decoded, "--threads", threads])

    c = np.load(codes)
    frame_rate = 44100 / 512
    print("-" * 78)
    print(f"codes: int32 {list(c.shape)} (n_q x frames), values 0..1023")
    print(f"bitrate: {c.shape[0] * 10 * frame_rate / 1000:.2f} kbps at {frame_rate:.2f} frames/s")
    print(f"wrote {os.path.relpath(decoded, ROOT)} (real-time factors are printed above by codec-cli)")
    print("random weights: the decoded WAV is not speech; convert a real checkpoint to hear speech.")


if __name__ == "__main__":
    main()
