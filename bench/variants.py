#!/usr/bin/env python3
"""Times codec-bench under several environments (e.g. with and without ggml's BLAS backend)
against the PyTorch reference, one model at a time, in one run.

    .venv/bin/python bench/variants.py --models xcodec2-l2,wavtokenizer-75 --lengths 10 \
        --variants blas=CODEC_BLAS=1,cpu=CODEC_BLAS=0 [--threads 2] [--reps 3] [--rounds 3]
    (a variant's CODEC_BENCH=PATH times another build, e.g. before=CODEC_BENCH=../old/build/bin/codec-bench;
    parity is always this process's library's)

Each round runs the reference and every variant, each in its own process, in a rotated order;
each side keeps the median over its rounds of its per-round medians. Parity of each variant
(codes equal, decode SNR against the reference's output on the same input) is checked in this
process with the variant's environment set (the library reads CODEC_BLAS per context).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (its sys.path set-up brings the fixtures)


def run_variant(env_kv, model, wav, threads, reps, warmup):
    env = dict(os.environ)
    for kv in env_kv:
        k, _, v = kv.partition("=")
        env[k] = v
    bench = env.get("CODEC_BENCH", compare.BENCH)  # a variant may name another build's codec-bench
    out = subprocess.run([bench, "--model", model, "--in", wav, "--threads", str(threads), "--reps", str(reps),
                          "--warmup", str(warmup), "--json"], check=True, capture_output=True, text=True, env=env)
    r = json.loads(out.stdout)
    return {ph: r[ph]["median_ms"] / 1e3 for ph in ("encode", "decode") if ph in r}


def random_latents(arch):
    from references import REFERENCES
    return getattr(REFERENCES[arch], "random_latents", False)


def parity(env_kv, arch, path, x, ref, threads):
    """(codes equal, decode SNR dB) of our library under env_kv against the reference's run."""
    import codec_cpp
    from conftest import snr_db
    saved = dict(os.environ)
    os.environ.update(kv.partition("=")[::2] for kv in env_kv)
    try:
        with codec_cpp.Model(path, n_threads=threads) as m:
            if random_latents(arch) or m.continuous:
                codes, audio = None, m.decode_latent(ref["codes"])
            else:
                codes, audio = m.encode(x), m.decode(ref["codes"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    eq = compare.codes_equal(codes, ref["codes"]) if codes is not None else float("nan")
    snr = snr_db(ref["audio"], audio) if audio.shape == ref["audio"].shape else float("nan")
    return eq, snr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True)
    ap.add_argument("--lengths", default="10")
    ap.add_argument("--variants", required=True, help="NAME=K=V[+K=V...],... (an environment per variant)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-ref", action="store_true", help="time only the variants")
    ap.add_argument("--out", default=None, help="JSON of the rows")
    args = ap.parse_args()

    import soundfile
    import codec_cpp
    variants = {}
    for spec in args.variants.split(","):
        name, _, env = spec.partition("=")
        variants[name] = [kv for kv in env.split("+") if kv]
    sides = list(variants) + ([] if args.no_ref else ["pytorch"])
    rows = []
    for mspec in args.models.split(","):
        key, _, lengths = mspec.partition(":")
        arch, paths = compare.fixture_model(key)
        for seconds in [float(s) for s in (lengths or args.lengths).split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                with codec_cpp.Model(paths["f32"], n_threads=args.threads) as m:
                    rate = m.encode_sample_rate
                x = compare.make_input(rate, seconds)
                npy, wav = os.path.join(tmp, "x.npy"), os.path.join(tmp, "x.wav")
                np.save(npy, x)
                soundfile.write(wav, x, rate, subtype="FLOAT")
                times = {s: {"encode": [], "decode": []} for s in sides}
                ref = None
                for rnd in range(args.rounds):
                    order = sides[rnd % len(sides):] + sides[:rnd % len(sides)]
                    for s in order:
                        if s == "pytorch":
                            r = ref = compare.run_ref(arch, paths["ckpt"], npy, args.threads, args.reps, args.warmup, tmp)
                            t = {"decode": float(np.median(r["decode_s"]))}
                            if r.get("encode_s") and not random_latents(arch):  # else it only drew latents
                                t["encode"] = float(np.median(r["encode_s"]))
                        else:
                            t = run_variant(variants[s], paths["f32"], wav, args.threads, args.reps, args.warmup)
                        for ph, v in t.items():
                            times[s][ph].append(v)
                row = {"model": key, "seconds": seconds}
                for s in sides:
                    for ph in ("encode", "decode"):
                        row[f"{s}_{ph}_s"] = float(np.median(times[s][ph])) if times[s][ph] else float("nan")
                    if ref is not None and s in variants:
                        row[f"{s}_codes_equal"], row[f"{s}_snr_db"] = parity(variants[s], arch, paths["f32"], x, ref, args.threads)
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"cpu": compare.cpu_name(), "threads": args.threads, "rows": rows}, f, indent=1)
    ref = "pytorch" if "pytorch" in sides else sides[-1]
    base = "pytorch" if "pytorch" in sides else sides[-1]
    others = [s for s in sides if s != base]
    print(f"\n| model | s | " + " | ".join(f"{s} enc s | {s} dec s" for s in sides) + " | " +
          " | ".join(f"{s} enc / dec speedup" for s in others) + " | " +
          " | ".join(f"{s} codes / SNR dB" for s in variants) + " |")
    print("|---" * (2 + 2 * len(sides) + len(others) + len(variants)) + "|")
    for r in rows:
        cells = " | ".join(f"{r[f'{s}_encode_s']:.3f} | {r[f'{s}_decode_s']:.3f}" for s in sides)
        sp = " | ".join(f"{r[f'{base}_encode_s'] / r[f'{s}_encode_s']:.2f}x / {r[f'{base}_decode_s'] / r[f'{s}_decode_s']:.2f}x"
                        for s in others)
        par = " | ".join(f"{r.get(f'{s}_codes_equal', float('nan')):.4f} / {r.get(f'{s}_snr_db', float('nan')):.1f}" for s in variants)
        print(f"| {r['model']} | {r['seconds']:g} | {cells} | {sp} | {par} |")


if __name__ == "__main__":
    main()
