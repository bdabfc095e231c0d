"""Approximate window decode streams (codec_stream_params.approximate) of XCodec2 / NeuCodec, side by
side with PyTorch decoding the same windows, in one process: random codes pushed one frame at a
time (as a TTS language model emits them), for each block geometry. Reports per block the compute
time of the push that completed it, the stream's total time and real-time factor, PyTorch's time
for the same windows, and the stream's output against PyTorch's windows (parity of the
approximation) and against the one-shot decode (what the approximation costs).

    .venv/bin/python bench/stream_approx.py [--variant neucodec] [--seconds 10] [--threads 2]
                                            [--geometry 25,50,5,1 ...] [--reps 3]

The model is the seeded fixture of the published config (decoder side); weights are random, so the
SNR against the one-shot decode is a worst case (attention near uniform), not a quality figure.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "python"), os.path.join(ROOT, "tests", "fixtures"), os.path.join(ROOT, "tests", "python")]
import codec_cpp  # noqa: E402
import xcodec2 as xc  # noqa: E402
from conftest import CACHE, approx_windows, snr_db  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="neucodec")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--geometry", action="append", help="block,left,right,fade in frames (default: NeuTTS's 25,50,5,1)")
    a = ap.parse_args()
    geoms = [tuple(int(v) for v in g.split(",")) for g in (a.geometry or ["25,50,5,1"])]
    torch.set_num_threads(a.threads)
    paths = xc.model_paths(CACHE, a.variant)
    m = codec_cpp.Model(paths["f32"], n_threads=a.threads)
    ref = xc.load_reference(paths["ckpt"])
    hop, sr = m.hop_size, m.sample_rate
    total = int(round(a.seconds * sr / hop))
    codes = np.random.default_rng(0).integers(0, m.codebook_size, (1, total)).astype(np.int32)
    audio_s = total * hop / sr

    def torch_decode(c):
        return ref.decode(torch.from_numpy(c.astype(np.int64))[None]).float().numpy()

    def best(f):
        t = float("inf")
        for _ in range(a.reps):
            t0 = time.perf_counter()
            r = f()
            t = min(t, time.perf_counter() - t0)
        return t, r

    t1, one = best(lambda: m.decode(codes))
    tt1, _ = best(lambda: torch_decode(codes))
    print(f"{a.variant}, {a.seconds:g} s ({total} frames), {a.threads} threads: one-shot decode ours {t1:.3f} s, "
          f"PyTorch {tt1:.3f} s ({tt1 / t1:.2f}x)")
    for block, left, right, fade in geoms:
        def stream():
            pushes, out = [], []
            with m.stream("decode", n_q=1, block_frames=block, approx=(left, right, fade)) as s:
                t_start = time.perf_counter()
                for i in range(total):
                    t0 = time.perf_counter()
                    s.push(codes[:, i:i + 1])
                    y = s.pull()
                    if len(y):
                        pushes.append(time.perf_counter() - t0)
                    out.append(y)
                t0 = time.perf_counter()
                s.flush()
                out.append(s.pull())
                pushes.append(time.perf_counter() - t0)
                return time.perf_counter() - t_start, pushes, np.concatenate(out)
        runs = [stream() for _ in range(a.reps)]
        ts, blocks, got = min(runs, key=lambda r: r[0])
        tt, want = best(lambda: approx_windows(torch_decode, codes, hop, block, left, right, fade))
        ms = 1000 * np.array(blocks)
        print(f"  block {block}, context {left} / {right}, fade {fade}: stream {ts:.3f} s (RTF {ts / audio_s:.3f}; "
              f"{ts / t1:.2f}x one-shot), PyTorch same windows {tt:.3f} s ({tt / ts:.2f}x ours); "
              f"{len(blocks)} blocks of {1000 * block * hop / sr:.0f} ms audio: compute median {np.median(ms):.0f} ms, "
              f"max {ms.max():.0f} ms, first {ms[0]:.0f} ms after frame {block + right}; "
              f"vs PyTorch's windows {snr_db(want, got):.1f} dB, vs the one-shot decode {snr_db(one, got):.1f} dB")


if __name__ == "__main__":
    main()
