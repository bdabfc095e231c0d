#!/usr/bin/env python3
"""Load time and first call against warm calls, as a one-shot user (the CLI, a short script) meets
them: each run is a fresh process that loads the model, encodes and decodes the same input
`--calls` times, and reports the load, the first call and the median of the rest.

    .venv/bin/python bench/first_call.py --models mimi-mimi,dac-44khz [--seconds 10] [--threads 2]
                                         [--calls 4] [--runs 3] [--no-mmap]

Models as bench/compare.py names them (its fixtures are made on first use). The GGUF is in the page
cache after the first run, as for a user who runs the CLI twice; with the default mmap the load
maps the file (weights shared with other processes), --no-mmap reads it into memory
(CODEC_NO_MMAP=1). Prints one JSON line per model (medians over the runs).
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_run(path, seconds, threads, calls):
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import numpy as np
    t0 = time.perf_counter()
    import codec_cpp
    m = codec_cpp.Model(path, n_threads=threads)
    load = time.perf_counter() - t0
    x = (np.random.default_rng(0).standard_normal(int(seconds * m.encode_sample_rate)) * 0.1).astype(np.float32)
    out = {"load_s": load}
    if m.has_encoder and not m.continuous:
        enc = []
        for _ in range(calls):
            t = time.perf_counter()
            codes = m.encode(x)
            enc.append(time.perf_counter() - t)
        out["encode_first_s"], out["encode_warm_s"] = enc[0], float(np.median(enc[1:]))
    else:
        codes = None
    if m.has_decoder:
        dec = []
        for _ in range(calls):
            t = time.perf_counter()
            if codes is not None:
                m.decode(codes)
            else:
                frames = max(2, int(seconds * m.sample_rate / m.hop_size))
                m.decode_latent(np.random.default_rng(1).standard_normal((m.latent_dim, frames)).astype(np.float32))
            dec.append(time.perf_counter() - t)
        out["decode_first_s"], out["decode_warm_s"] = dec[0], float(np.median(dec[1:]))
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mimi-mimi")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calls", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-mmap", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        return one_run(a.one, a.seconds, a.threads, a.calls)
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import numpy as np
    import compare
    env = dict(os.environ, CODEC_NO_MMAP="1" if a.no_mmap else "0")
    for key in a.models.split(","):
        _, paths = compare.fixture_model(key)
        runs = []
        for _ in range(a.runs):
            r = subprocess.run([sys.executable, __file__, "--one", paths["f32"], "--seconds", str(a.seconds),
                                "--threads", str(a.threads), "--calls", str(a.calls)],
                               check=True, capture_output=True, text=True, env=env)
            runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
        row = {"model": key, "mmap": not a.no_mmap, "file_mb": round(os.path.getsize(paths["f32"]) / 2**20, 1)}
        for k in runs[0]:
            row[k] = round(float(np.median([r[k] for r in runs])), 4)
        for ph in ("encode", "decode"):
            if f"{ph}_first_s" in row:
                row[f"{ph}_first_over_warm"] = round(row[f"{ph}_first_s"] / row[f"{ph}_warm_s"], 3)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
