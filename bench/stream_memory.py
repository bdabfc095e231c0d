"""Peak memory and throughput of streaming against input length, and per-push latency.

    .venv/bin/python bench/stream_memory.py --model m.gguf --seconds 10 600 [--direction encode|decode]
        [--block-seconds 1] [--threads 2] [--push-frames 1] [--approx L,R,F]

Each (length, direction) runs in its own process (peak RSS is per process): the input is
generated block by block (noise at -10 dBFS for encode; random codes, or latents, for decode), so the
input itself takes no memory. Prints one JSON line per run: seconds of audio, wall time, real-time
factor, peak RSS (MB), and per-push latency (mean / max ms) when --push-frames is given.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))


def run_one(a):
    import codec_cpp
    m = codec_cpp.Model(a.model, n_threads=a.threads)
    enc = a.direction == "encode"  # PCM in at the encoder's rate, out at the decoder's (NeuCodec differ)
    hop, rate = (m.encode_hop_size, m.encode_sample_rate) if enc else (m.hop_size, m.sample_rate)
    block = max(1, round(a.block_seconds * rate / hop))
    push = a.push_frames or block
    total_frames = int(a.seconds * rate / hop)
    rng = np.random.default_rng(0)
    n_q = a.n_q if a.direction == "encode" or a.n_q > 0 else m.n_q
    approx = tuple(int(v) for v in a.approx.split(",")) if a.approx else None  # approximate windows (XCodec2, WavTokenizer)
    s = m.stream(a.direction, n_q=-1 if m.continuous else n_q, block_frames=block, approx=approx)
    meta = m.meta("snac.vq_strides")
    strides = [int(v) for v in meta.strip("[]").split(",")] if meta else []
    chunk_frames = -(-int(m.meta("encodec.chunk_length")) // hop) if m.has_scales else 0
    if strides:
        total_frames -= total_frames % (max(strides) * max(1, int(m.meta("snac.attn_window_size") or 1)))
    if m.has_scales and a.direction == "decode":
        # a real layout: chunks every stride samples, the last ones short (codec.h)
        L, S, T = int(m.meta("encodec.chunk_length")), int(m.meta("encodec.chunk_stride")), int(a.seconds * rate)
        chunk_list = [-(-min(L, T - off) // hop) for off in range(0, T, S)]
    lat = []
    out = 0
    t0 = time.perf_counter()
    first_out = None
    pushes = [(f, min(push, total_frames - f)) for f in range(0, total_frames, push)]
    if m.has_scales and a.direction == "decode":  # one chunk per push, its scale with it
        pushes = [(sum(chunk_list[:i]), c) for i, c in enumerate(chunk_list)]
    for f, n in pushes:
        if a.direction == "encode":
            x = (rng.standard_normal(n * hop * m.channels) * 0.3).astype(np.float32)
            x = x.reshape(-1, m.channels) if m.channels > 1 else x
        elif m.continuous:  # latents (Pocket TTS's Mimi, Soprano): float32 [latent_dim, n]
            x = rng.standard_normal((m.latent_dim, n)).astype(np.float32)
        elif strides:  # multi-rate: level q gets one code per strides[q] frames
            x = [rng.integers(0, m.codebook_size, (f + n) // r - f // r, dtype=np.int32) for r in strides]
        else:
            x = rng.integers(0, m.codebook_size, (s.n_q, n), dtype=np.int32)
            if m.has_scales:  # one scale per chunk, with the chunk's first frame
                x = (x, np.ones(1, dtype=np.float32))
        t = time.perf_counter()
        s.push(x)
        y = s.pull()
        lat.append((time.perf_counter() - t) * 1e3)
        if isinstance(y, tuple):  # (codes, scales)
            y = y[0]
        got = (y[0].size if isinstance(y, list) else y.shape[-1] if a.direction == "encode" else len(y))
        if got and first_out is None:
            first_out = (time.perf_counter() - t0) * 1e3
        out += got
    s.flush()
    s.pull()
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model": os.path.basename(a.model), "direction": a.direction, "seconds": a.seconds,
                      "block_frames": block, "push_frames": push, "approx": a.approx, "wall_s": round(wall, 3),
                      "rtf": round(wall / a.seconds, 4), "peak_rss_mb": round(rss, 1),
                      "push_ms_mean": round(float(np.mean(lat)), 3), "push_ms_median": round(float(np.median(lat)), 3),
                      "push_ms_max": round(float(np.max(lat)), 3), "first_output_ms": first_out}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--seconds", type=float, nargs="+", default=[10, 600])
    ap.add_argument("--direction", choices=["encode", "decode", "both"], default="both")
    ap.add_argument("--block-seconds", type=float, default=1.0)
    ap.add_argument("--push-frames", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-q", type=int, default=-1)
    ap.add_argument("--approx", default="", help="L,R,F: approximate decode windows (docs/streaming.md)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.seconds = a.seconds[0]
        run_one(a)
        return
    dirs = ["encode", "decode"] if a.direction == "both" else [a.direction]
    for d in dirs:
        for sec in a.seconds:
            cmd = [sys.executable, __file__, "--child", "--model", a.model, "--seconds", str(sec), "--direction", d,
                   "--block-seconds", str(a.block_seconds), "--push-frames", str(a.push_frames),
                   "--threads", str(a.threads), "--n-q", str(a.n_q)] + (["--approx", a.approx] if a.approx else [])
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
