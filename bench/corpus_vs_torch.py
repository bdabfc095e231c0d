#!/usr/bin/env python3
"""Corpus tokenization, side by side: `python -m codec_cpp.corpus encode` (Ray Data, W actors x 1
thread) against the same job in plain PyTorch (bench/torch_corpus.py: a multiprocessing pool of
W workers x 1 torch thread with the reference model), on the same generated FLAC files, one after
the other, alternating which goes first. Wall time of the whole command (start-up, model loads,
reading, resampling, encoding, writing) as a user meets it; audio-hours per wall-hour and the ratio.
The codes of both are compared file by file.

    .venv/bin/python bench/corpus_vs_torch.py [--models mimi-mimi,snac-24khz,dac-44khz]
        [--files 16] [--seconds 10] [--workers 2] [--rounds 2] [--out docs/benchmarks]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for d in ("python", os.path.join("tests", "python"), os.path.join("tests", "fixtures"), "bench"):
    sys.path.insert(0, os.path.join(ROOT, d))

os.environ.setdefault("CODEC_LIB", os.path.join(ROOT, "build", "libcodec.so"))  # the repository build
RATES = (16000, 24000, 44100, 48000)


def make_corpus(d, n_files, seconds):
    """FLAC files of generated speech at mixed rates (a quarter stereo), each `seconds` long."""
    import soundfile
    from conftest import speech
    rng = np.random.default_rng(7)
    paths = []
    for i in range(n_files):
        rate = RATES[i % len(RATES)]
        s = speech(rate)
        x = np.resize(s, int(seconds * rate)) + 1e-4 * rng.standard_normal(int(seconds * rate))
        if i % 4 == 3:
            x = np.stack([x, 0.8 * x], axis=1)
        p = os.path.join(d, f"f{i:03d}.flac")
        soundfile.write(p, x.astype(np.float32), rate, subtype="PCM_16")
        paths.append(p)
    return paths


def run_ours(model, files, out, workers):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    for p in files:  # the job reads a directory: link this run's files into one
        os.makedirs(out + ".in", exist_ok=True)
        os.symlink(p, os.path.join(out + ".in", os.path.basename(p)))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "codec_cpp.corpus", "encode", "--model", model, "--input", out + ".in",
                    "--output", out, "--workers", str(workers), "--threads-per-worker", "1", "--num-cpus", str(workers),
                    "--no-progress"], check=True, env=env, capture_output=True)
    return time.perf_counter() - t0


def run_torch(arch, ckpt, rate, files, out, workers):
    lst = out + ".txt"
    with open(lst, "w") as f:
        f.write("\n".join(files))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "torch_corpus.py"), "--arch", arch, "--ckpt", ckpt,
                    "--rate", str(rate), "--files", lst, "--out", out, "--workers", str(workers)], check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def codes_agreement(files, ours_out, torch_out):
    """Fraction of equal codes over all files (SNAC: over all levels)."""
    import pyarrow.parquet as pq
    from codec_cpp.corpus import row_codes
    rows = {os.path.basename(r["path"]): r for r in pq.read_table(os.path.join(ours_out, "codes")).to_pylist()}
    eq = n = 0
    for i, p in enumerate(files):
        ours = row_codes(rows[os.path.basename(p)])
        if isinstance(ours, list):
            with np.load(os.path.join(torch_out, f"{i}.npz")) as z:
                ref = [z[f"arr_{k}"] for k in range(len(z.files))]
        else:
            ours, ref = [ours], [np.load(os.path.join(torch_out, f"{i}.npy"))]
        for o, r in zip(ours, ref):
            o = np.asarray(o)
            if o.shape == r.shape:
                eq += int((o == r).sum())
            n += r.size
    return eq / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mimi-mimi,snac-24khz,dac-44khz")
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks"))
    args = ap.parse_args()

    import codec_cpp
    from compare import cpu_name, fixture_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = make_corpus(tmp, args.files, args.seconds)
        hours = args.files * args.seconds / 3600
        for key in args.models.split(","):
            arch, paths = fixture_model(key)
            with codec_cpp.Model(paths["f32"], n_threads=1) as m:
                rate = m.sample_rate
            # The whole corpus, and one file per worker: the difference is the marginal
            # throughput (start-up, model loads and the pool's first files cancel out).
            best = {(side, n): float("inf") for side in ("ours", "torch") for n in ("all", "one")}
            for rnd in range(args.rounds):
                for side in (("torch", "ours") if rnd % 2 == 0 else ("ours", "torch")):
                    for n, fs in (("all", files), ("one", files[: args.workers])):
                        out = os.path.join(tmp, f"{key}-{side}-{n}")
                        shutil.rmtree(out, ignore_errors=True)
                        shutil.rmtree(out + ".in", ignore_errors=True)
                        if side == "ours":
                            wall = run_ours(paths["f32"], fs, out, args.workers)
                        else:
                            wall = run_torch(arch, paths["ckpt"], rate, fs, out, args.workers)
                        best[side, n] = min(best[side, n], wall)
            agree = codes_agreement(files, os.path.join(tmp, f"{key}-ours-all"), os.path.join(tmp, f"{key}-torch-all"))
            marginal_h = (args.files - args.workers) * args.seconds / 3600
            row = {"model": key, "files": args.files, "audio_h": hours, "workers": args.workers, "codes_equal": agree}
            for side in ("torch", "ours"):
                row[f"{side}_wall_s"] = best[side, "all"]
                row[f"{side}_fixed_s"] = best[side, "one"]
                row[f"{side}_audio_h_per_wall_h"] = hours * 3600 / best[side, "all"]
                row[f"{side}_marginal_audio_h_per_wall_h"] = marginal_h * 3600 / max(1e-9, best[side, "all"] - best[side, "one"])
            row["speedup"] = row["torch_wall_s"] / row["ours_wall_s"]
            row["marginal_speedup"] = row["ours_marginal_audio_h_per_wall_h"] / row["torch_marginal_audio_h_per_wall_h"]
            rows.append(row)
            print(f"{key}: PyTorch pool {row['torch_wall_s']:.1f} s, codec.cpp Ray job {row['ours_wall_s']:.1f} s "
                  f"(x{row['speedup']:.2f}); marginal x{row['marginal_speedup']:.2f}; codes equal {agree:.4f}", flush=True)
    meta = {"cpu": cpu_name(), "workers": args.workers, "files": args.files, "seconds": args.seconds,
            "load_average": os.getloadavg()[0]}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "corpus.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = [f"CPU: {meta['cpu']}; {args.files} FLAC files x {args.seconds:g} s (16/24/44.1/48 kHz, a quarter stereo); "
             f"{args.workers} workers x 1 thread each side; best wall time of {args.rounds} alternating rounds.", "",
             "| model | wall s PyTorch / ours | speedup | audio-h per wall-h PyTorch / ours | fixed s (1 file per worker) "
             "PyTorch / ours | marginal audio-h per wall-h PyTorch / ours | marginal speedup | codes equal |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['torch_wall_s']:.1f} / {r['ours_wall_s']:.1f} | {r['speedup']:.2f}x | "
                     f"{r['torch_audio_h_per_wall_h']:.2f} / {r['ours_audio_h_per_wall_h']:.2f} | "
                     f"{r['torch_fixed_s']:.1f} / {r['ours_fixed_s']:.1f} | {r['torch_marginal_audio_h_per_wall_h']:.2f} / "
                     f"{r['ours_marginal_audio_h_per_wall_h']:.2f} | {r['marginal_speedup']:.2f}x | {r['codes_equal']:.4f} |")
    with open(os.path.join(args.out, "corpus.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
