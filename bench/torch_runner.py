#!/usr/bin/env python3
"""Times the PyTorch reference of one model in its own process (so its peak RSS is its own).

    torch_runner.py --arch dac --ckpt DIR --in x.npy --threads 2 --reps 3 --warmup 1 --out r.json
Writes timings, peak RSS and the reference's codes/audio (for parity) as JSON + .npy files. Run
with the python of the reference's venv (references.py: `venv`).
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np  # noqa: E402
import torch  # noqa: E402

from references import REFERENCES  # noqa: E402


def peak_rss_mb():
    """This process image's peak RSS (VmHWM): ru_maxrss survives exec, so it would report the
    harness's own peak when that is larger."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True, choices=sorted(REFERENCES))
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ref = REFERENCES[args.arch]
    t0 = time.perf_counter()
    model = ref.load(args.ckpt)
    load_s = time.perf_counter() - t0
    x = np.load(args.inp)
    res = {"load_s": load_s, "encode_s": [], "decode_s": []}
    with torch.inference_mode():
        for r in range(args.warmup + args.reps):
            t0 = time.perf_counter()
            codes = ref.encode(model, x)
            dt = time.perf_counter() - t0
            if r >= args.warmup:
                res["encode_s"].append(dt)
        for r in range(args.warmup + args.reps):
            t0 = time.perf_counter()
            audio = ref.decode(model, codes)
            dt = time.perf_counter() - t0
            if r >= args.warmup:
                res["decode_s"].append(dt)
    res["peak_rss_mb"] = peak_rss_mb()
    base = os.path.splitext(args.out)[0]
    if hasattr(codes, "scales"):  # chunked codes with per-chunk scales (EnCodec 48 kHz)
        np.save(base + "-scales.npy", codes.scales)
        codes = codes.codes
    if isinstance(codes, list):  # multi-rate codes (SNAC): one array per level
        np.savez(base + "-codes.npz", *codes)
    else:
        np.save(base + "-codes.npy", codes)
    np.save(base + "-audio.npy", audio)
    with open(args.out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
