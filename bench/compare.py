#!/usr/bin/env python3
"""Side-by-side benchmark: PyTorch reference vs codec.cpp, same input, same threads, one run.

    .venv/bin/python bench/compare.py [--models mimi-mimi,dac-44khz:10] [--lengths 1,10,60]
                                      [--threads 2] [--reps 3] [--rounds 2] [--types f32,f16,q8_0]
                                      [--out docs/benchmarks]
A model may carry its own lengths after a colon (dac-44khz:10 times only 10 s).

For each model it builds the seeded random-weight reference at the real config, converts it,
and for each input length runs the reference (bench/torch_runner.py) and ours
(build/bin/codec-bench), alternating which goes first, each in its own process so peak RSS is
per process. Parity of our output against the reference's is checked on the same input so
speed is never bought with accuracy. Writes JSON, a Markdown table and a PNG plot.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))

BENCH = os.environ.get("CODEC_BENCH", os.path.join(ROOT, "build", "bin", "codec-bench"))  # CODEC_LIB: the library
CLI = os.environ.get("CODEC_CLI", os.path.join(ROOT, "build", "bin", "codec-cli"))
PY = sys.executable


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_ours(model_path, wav, threads, reps, warmup):
    out = subprocess.run([BENCH, "--model", model_path, "--in", wav, "--threads", str(threads), "--reps", str(reps),
                          "--warmup", str(warmup), "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def run_cli(model_path, wav, ref_codes, threads, reps, tmp, extra):
    """codec-cli as a user meets it: one whole process per call (load, first call, file I/O), wall
    time, median of reps. Encode writes our codes, which the decode then reads; a model without
    an encoder (Soprano) decodes the reference's latents."""
    def timed(args):
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            subprocess.run([CLI, *args, "--model", model_path, "--threads", str(threads), *extra], check=True,
                           capture_output=True)
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts))
    multi = isinstance(ref_codes, list)
    codes = os.path.join(tmp, "cli-codes.npz" if multi else "cli-codes.npy")
    out = {}
    try:
        out["encode_s"] = timed(["encode", "--in", wav, "--out", codes])
    except subprocess.CalledProcessError as e:  # decoder-only: decode what the reference gave
        if b"encoder" not in e.stderr:
            raise
        ref_codes = np.asarray(ref_codes)
        if ref_codes.dtype != np.float32:
            return out
        np.save(codes, ref_codes)  # latents: the command decodes them only for a continuous model
    try:
        out["decode_s"] = timed(["decode", "--codes", codes, "--out", os.path.join(tmp, "cli-out.wav")])
    except subprocess.CalledProcessError as e:  # XCodec2's bench decodes random latents: no command for that
        print(f"codec-cli decode: {e.stderr.decode().strip()}: not timed", flush=True)
    return out


def gemm_peak_gflops(threads, n=2048):
    """The machine's F32 GEMM rate as PyTorch (MKL) reaches it: best of 5 n^3 products."""
    import torch
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(5))
    return 2 * n ** 3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_ref(arch, ckpt, npy, threads, reps, warmup, tmp):
    from references import REFERENCES
    from ref_env import ref_python
    venv = REFERENCES[arch].venv
    out = os.path.join(tmp, "ref.json")
    subprocess.run([ref_python(venv) if venv else PY, os.path.join(ROOT, "bench", "torch_runner.py"), "--arch", arch, "--ckpt", ckpt, "--in", npy,
                    "--threads", str(threads), "--reps", str(reps), "--warmup", str(warmup), "--out", out], check=True)
    with open(out) as f:
        r = json.load(f)
    npz = os.path.join(tmp, "ref-codes.npz")
    if os.path.exists(npz):  # multi-rate codes: one array per level
        with np.load(npz) as z:
            r["codes"] = [z[f"arr_{i}"] for i in range(len(z.files))]
    else:
        r["codes"] = np.load(os.path.join(tmp, "ref-codes.npy"))
    r["audio"] = np.load(os.path.join(tmp, "ref-audio.npy"))
    scales = os.path.join(tmp, "ref-scales.npy")
    r["scales"] = np.load(scales) if os.path.exists(scales) else None
    return r


def codes_equal(ours, ref):
    """Fraction of equal codes; for multi-rate codes the worst level's."""
    if isinstance(ref, list):
        if not isinstance(ours, list) or len(ours) != len(ref):
            return 0.0
        return min(codes_equal(o, r) for o, r in zip(ours, ref))
    ours = np.asarray(ours)
    return float((ours == ref).mean()) if ours.shape == ref.shape else 0.0


def fixture_model(key):
    """(reference arch, {"ckpt", "f32", ...}) for a --models key: ARCH-VARIANT (the transformers
    and snac fixtures), qwen3-VARIANT, wavtokenizer-VARIANT, soprano, xcodec2[-l2], neucodec[-l2], pocket[-VARIANT]."""
    from conftest import CACHE, make_model
    arch, _, variant = key.partition("-")
    if arch == "qwen3":
        import qwen3_tokenizer
        return "qwen3_tts_tokenizer", qwen3_tokenizer.model_paths(CACHE, variant)
    if arch == "wavtokenizer":
        import wavtokenizer
        return arch, wavtokenizer.make_model(CACHE, variant)
    if arch == "soprano":
        import soprano
        return arch, soprano.make_model(CACHE)
    if arch == "pocket":
        import pocket_tts
        return "pocket_mimi", pocket_tts.make_model(CACHE, variant or "published")
    if arch in ("xcodec2", "neucodec"):
        import xcodec2
        return "xcodec2", xcodec2.model_paths(CACHE, key)
    return arch, make_model(arch, variant)


def make_input(rate, seconds, channels=1):
    """Generated speech, repeated to the requested length; stereo: speech left, the speech 37
    samples later at 0.6 right ([n, 2])."""
    from conftest import speech
    s = speech(rate)
    n = int(round(seconds * rate))
    x = np.resize(s, n).astype(np.float32)
    return x if channels == 1 else np.stack([x, 0.6 * np.roll(x, 37)], 1).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="dac-44khz", help="e.g. mimi-mimi, dac-44khz, snac-24khz, encodec-24khz, "
                    "qwen3-12hz, wavtokenizer-75, soprano, xcodec2-l2, neucodec-l2 (xcodec2, neucodec: the 12-layer published configs), pocket")
    ap.add_argument("--lengths", default="1,10,60", help="input lengths in seconds")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (ref first, then ours first, ...)")
    ap.add_argument("--types", default="f32", help="GGUF types to time (parity is checked for each)")
    ap.add_argument("--cli", action="store_true", help="also time codec-cli encode / decode as whole processes "
                    "(load, first call, file I/O) against the reference's warm calls")
    ap.add_argument("--cli-args", default="", help="extra codec-cli options, e.g. --one-shot")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks"))
    args = ap.parse_args()

    import soundfile
    import codec_cpp
    from conftest import snr_db

    os.makedirs(args.out, exist_ok=True)
    meta = {"cpu": cpu_name(), "threads": args.threads, "reps": args.reps, "rounds": args.rounds,
            "gemm_peak_gflops": gemm_peak_gflops(args.threads)}
    rows = []
    for spec in args.models.split(","):
        key, _, lengths = spec.partition(":")
        arch, paths = fixture_model(key)
        for seconds in [float(s) for s in (lengths or args.lengths).split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                with codec_cpp.Model(paths["f32"], n_threads=args.threads) as m:
                    rate = m.encode_sample_rate  # the input (NeuCodec: 16 kHz)
                    channels = m.channels
                x = make_input(rate, seconds, channels)
                npy, wav = os.path.join(tmp, "x.npy"), os.path.join(tmp, "x.wav")
                np.save(npy, x)
                soundfile.write(wav, x, rate, subtype="FLOAT")
                # Alternate the order over the rounds; keep each side's best median.
                ref = ours_by_type = cli = None
                for rnd in range(args.rounds):
                    order = ["ref", "ours"] if rnd == 0 else ["ours", "ref"]
                    for side in order:
                        if side == "ref":
                            r = run_ref(arch, paths["ckpt"], npy, args.threads, args.reps, args.warmup, tmp)
                            if ref is None or np.median(r["decode_s"]) < np.median(ref["decode_s"]):
                                ref = r
                        else:
                            res = {t: run_ours(paths[t], wav, args.threads, args.reps, args.warmup)
                                   for t in args.types.split(",")}
                            if args.cli:  # the first type's GGUF as a whole process per call
                                c = run_cli(paths[args.types.split(",")[0]], wav, ref["codes"], args.threads, args.reps,
                                            tmp, args.cli_args.split())
                                cli = c if cli is None else {ph: min(v, cli[ph]) if ph in cli else v for ph, v in c.items()}
                            if ours_by_type is None:
                                ours_by_type = res
                            else:
                                for t, o in res.items():
                                    for ph in [p for p in ("encode", "decode") if p in o]:
                                        if o[ph]["median_ms"] < ours_by_type[t][ph]["median_ms"]:
                                            ours_by_type[t][ph] = o[ph]
                                    ours_by_type[t]["peak_rss_mb"] = max(ours_by_type[t]["peak_rss_mb"], o["peak_rss_mb"])
                for t, o in ours_by_type.items():
                    from references import REFERENCES
                    random_latents = getattr(REFERENCES[arch], "random_latents", False)
                    with codec_cpp.Model(paths[t], n_threads=args.threads) as m:
                        if random_latents:  # the reference's "codes" are random latents both decoded
                            codes, audio = None, m.decode_latent(ref["codes"])
                        elif m.continuous:  # latents both ways (Pocket): parity of the decode
                            codes, audio = None, m.decode_latent(ref["codes"])
                        elif m.has_scales:  # chunked (EnCodec 48 kHz): codes with their scales
                            codes = m.encode(x)[0]
                            audio = m.decode(ref["codes"], ref["scales"])
                        else:
                            codes = m.encode(x)
                            audio = m.decode(ref["codes"])
                    nan = float("nan")
                    enc = o.get("encode", {"median_ms": nan, "gflops": nan})  # none for a decoder-only model
                    row = {
                        "model": key, "type": t, "seconds": seconds, "threads": args.threads,
                        "ref_encode_s": float(np.median(ref["encode_s"])) if not random_latents else nan,
                        "ref_decode_s": float(np.median(ref["decode_s"])),
                        "ours_encode_s": enc["median_ms"] / 1e3, "ours_decode_s": o["decode"]["median_ms"] / 1e3,
                        "ours_encode_gflops": enc["gflops"], "ours_decode_gflops": o["decode"]["gflops"],
                        "ref_peak_rss_mb": ref["peak_rss_mb"], "ours_peak_rss_mb": o["peak_rss_mb"],
                        "codes_equal": codes_equal(codes, ref["codes"]) if codes is not None else nan,
                        "decode_snr_db": snr_db(ref["audio"], audio) if audio.shape == ref["audio"].shape else float("nan"),
                    }
                    if cli and "decode_s" in cli and t == args.types.split(",")[0]:
                        row["cli_encode_s"], row["cli_decode_s"] = cli.get("encode_s", nan), cli["decode_s"]
                        row["cli_encode_speedup"] = row["ref_encode_s"] / row["cli_encode_s"]
                        row["cli_decode_speedup"] = row["ref_decode_s"] / row["cli_decode_s"]
                    row["encode_speedup"] = row["ref_encode_s"] / row["ours_encode_s"]
                    row["decode_speedup"] = row["ref_decode_s"] / row["ours_decode_s"]
                    rows.append(row)
                    print(f"{key} {t} {seconds:g}s: encode {row['ref_encode_s']:.3f}s -> {row['ours_encode_s']:.3f}s "
                          f"(x{row['encode_speedup']:.2f}), decode {row['ref_decode_s']:.3f}s -> {row['ours_decode_s']:.3f}s "
                          f"(x{row['decode_speedup']:.2f}), codes {row['codes_equal']:.4f}, SNR {row['decode_snr_db']:.1f} dB, "
                          f"RSS {row['ref_peak_rss_mb']:.0f} / {row['ours_peak_rss_mb']:.0f} MB", flush=True)
            write_tables(args, meta, rows)  # after each model: a later failure keeps what was measured
    plot(args, meta, rows)


def write_tables(args, meta, rows):
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = [f"CPU: {meta['cpu']}, {args.threads} threads, median of {args.reps} reps (best of {args.rounds} alternating rounds); "
             f"F32 GEMM peak (PyTorch, 2048^3): {meta['gemm_peak_gflops']:.0f} GFLOP/s.", "",
             "| model | type | input s | PyTorch enc s | ours enc s | enc speedup | PyTorch dec s | ours dec s | dec speedup "
             "| ours enc/dec GFLOP/s | peak RSS PyTorch / ours MB | codes equal | decode SNR dB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    def f(v, spec, suffix=""):  # "-" where a phase does not exist (a decoder-only model's encode)
        return "-" if v != v else format(v, spec) + suffix
    for r in rows:
        lines.append(f"| {r['model']} | {r['type']} | {r['seconds']:g} | {f(r['ref_encode_s'], '.3f')} | "
                     f"{f(r['ours_encode_s'], '.3f')} | {f(r['encode_speedup'], '.2f', 'x')} | {r['ref_decode_s']:.3f} | "
                     f"{r['ours_decode_s']:.3f} | {r['decode_speedup']:.2f}x | {f(r['ours_encode_gflops'], '.0f')} / "
                     f"{r['ours_decode_gflops']:.0f} | {r['ref_peak_rss_mb']:.0f} / {r['ours_peak_rss_mb']:.0f} | "
                     f"{f(r['codes_equal'], '.4f')} | {r['decode_snr_db']:.1f} |")
    if args.cli:
        lines += ["", f"codec-cli as whole processes{(' (' + args.cli_args + ')') if args.cli_args else ''} against the "
                  "reference's warm calls:", "",
                  "| model | input s | PyTorch enc s | cli enc s | enc speedup | PyTorch dec s | cli dec s | dec speedup |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if "cli_decode_s" in r:
                lines.append(f"| {r['model']} | {r['seconds']:g} | {f(r['ref_encode_s'], '.3f')} | {f(r['cli_encode_s'], '.3f')} | "
                             f"{f(r['cli_encode_speedup'], '.2f', 'x')} | {r['ref_decode_s']:.3f} | {r['cli_decode_s']:.3f} | "
                             f"{r['cli_decode_speedup']:.2f}x |")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def plot(args, meta, rows):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, ph in zip(axes, ("encode", "decode")):
            for key in sorted({r["model"] for r in rows}):
                rs = [r for r in rows if r["model"] == key and r["type"] == "f32"]
                xs = [r["seconds"] for r in rs]
                ax.plot(xs, [r[f"ref_{ph}_s"] / r["seconds"] for r in rs], "o--", label=f"{key} PyTorch")
                ax.plot(xs, [r[f"ours_{ph}_s"] / r["seconds"] for r in rs], "o-", label=f"{key} codec.cpp")
            ax.set_xscale("log")
            ax.set_xlabel("input length (s)")
            ax.set_ylabel("real-time factor (lower is faster)")
            ax.set_title(f"{ph}, {args.threads} threads")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(meta["cpu"], fontsize=9)
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "rtf.png"), dpi=110)
    except ImportError:
        print("matplotlib not installed: no plot")


if __name__ == "__main__":
    main()
