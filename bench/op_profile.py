#!/usr/bin/env python3
"""Where each model's time goes: per-op shares of a warm encode and decode (CODEC_PROFILE=1, which
runs the graph's nodes one by one and times them), with the share of the matrix products.

    .venv/bin/python bench/op_profile.py [--models mimi-mimi,soprano] [--seconds 10] [--threads 2] [--top 4]

Model keys as bench/compare.py's. Prints one Markdown row per model and phase.
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (its sys.path set-up brings the fixtures)

# Runs in a child process with CODEC_PROFILE set: a warm-up call, then a marker and the profiled call.
CHILD = r"""
import sys, numpy as np
path, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, sys.argv[4])
import compare, codec_cpp  # compare puts python/ on the path
m = codec_cpp.Model(path, n_threads=threads)
x = compare.make_input(m.encode_sample_rate, seconds, m.channels)
def mark(s):
    sys.stderr.flush(); print("@@ " + s, file=sys.stderr, flush=True)
if m.has_encoder:
    enc = m.encode_latent if m.continuous else m.encode
    c = enc(x); mark("encode"); c = enc(x); mark("end")
else:
    c = np.random.default_rng(0).standard_normal((m.latent_dim, int(seconds * m.sample_rate) // m.hop_size)).astype(np.float32)
dec = m.decode_latent if (m.continuous or not m.has_encoder) else m.decode
dec(c); mark("decode"); dec(c); mark("end")
"""


def profile(path, seconds, threads):
    env = dict(os.environ, CODEC_PROFILE="1")
    r = subprocess.run([sys.executable, "-c", CHILD, path, str(seconds), str(threads), os.path.dirname(os.path.abspath(__file__))],
                       capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit(f"op_profile: {path}: {r.stderr[-2000:]}")
    phases, cur = {}, None
    for line in r.stderr.splitlines():
        if line.startswith("@@ "):
            cur = None if line[3:] == "end" else line[3:]
            if cur:
                phases[cur] = {}
            continue
        m = re.match(r"\s+(.+?)\s+([\d.]+) ms\s+[\d.]+ %", line)
        if cur and m:  # summed over the phase's graphs (chunked models run several)
            phases[cur][m.group(1)] = phases[cur].get(m.group(1), 0.0) + float(m.group(2))
    return phases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mimi-mimi")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=4)
    args = ap.parse_args()
    print("| model | phase | profiled ms | matrix products | top ops |")
    print("|---|---|---|---|---|")
    for key in args.models.split(","):
        _, paths = compare.fixture_model(key)
        for phase, ops in profile(paths["f32"], args.seconds, args.threads).items():
            total = sum(ops.values())
            mm = sum(v for k, v in ops.items() if k.startswith("MUL_MAT"))
            top = sorted(ops.items(), key=lambda kv: -kv[1])[:args.top]
            print(f"| {key} | {phase} | {total:.0f} | {100 * mm / total:.0f} % | "
                  + ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in top) + " |", flush=True)


if __name__ == "__main__":
    main()
