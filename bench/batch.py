#!/usr/bin/env python3
"""Batch benchmark: B inputs of L seconds in one call, codec.cpp against the PyTorch reference's
batched call (a [B, 1, T] tensor), same threads, one run, each side in its own process.

    .venv/bin/python bench/batch.py [--models mimi-mimi,encodec-24khz,dac-24khz,snac-24khz]
                                    [--batch 8] [--seconds 10] [--threads 2] [--reps 3]
                                    [--out docs/benchmarks/batch]

For codec.cpp it times Model.encode_batch / decode_batch (codec_encode_batch / codec_decode_batch:
the B same-length inputs as one graph where the model has a batch graph) and, for the batch
gain, the same B inputs one call each. Parity: our batched codes against the reference's batched
codes, our batched decode against the reference's (SNR). Writes JSON and a Markdown table.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for d in ("python", "bench", os.path.join("tests", "python"), os.path.join("tests", "fixtures")):
    sys.path.insert(0, os.path.join(ROOT, d))


# ---- the reference's batched calls (numpy in/out; codes as our batch returns them)

def torch_encode(arch, model, x):
    import torch
    t = torch.from_numpy(x)[:, None]  # [B, 1, T]
    if arch == "encodec":
        c = model.encode(t, bandwidth=model.config.target_bandwidths[-1]).audio_codes  # [chunks=1, B, n_q, T]
        return c[0].numpy().astype(np.int32)
    if arch == "snac":
        levels = model.encode(t)
        return [[lv[b].numpy().astype(np.int32) for lv in levels] for b in range(x.shape[0])]
    return model.encode(t).audio_codes.numpy().astype(np.int32)  # [B, n_q, T]


def torch_decode(arch, model, codes):
    import torch
    if arch == "snac":
        from references import REFERENCES
        levels = [torch.from_numpy(np.stack([c[q] for c in codes]).astype(np.int64)) for q in range(len(codes[0]))]
        randn = torch.randn  # zero noise, as codec.cpp (see references._Snac)
        torch.randn = lambda *shape, **kw: torch.zeros(*shape, dtype=kw.get("dtype"), device=kw.get("device"))
        try:
            return model.decode(levels)[:, 0].numpy()
        finally:
            torch.randn = randn
    c = torch.from_numpy(np.asarray(codes).astype(np.int64))
    if arch == "encodec":
        return model.decode(c[None], [None]).audio_values[:, 0].numpy()
    if arch == "dac":
        return model.decode(audio_codes=c).audio_values.numpy()
    return model.decode(c).audio_values[:, 0].numpy()


def timed(fn, reps):
    fn()  # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def worker_torch(a):
    import torch
    from references import REFERENCES
    torch.set_num_threads(a.threads)
    model = REFERENCES[a.arch].load(a.ckpt)
    x = np.load(a.inp)
    with torch.inference_mode():
        enc_s, codes = timed(lambda: torch_encode(a.arch, model, x), a.reps)
        dec_s, audio = timed(lambda: torch_decode(a.arch, model, codes), a.reps)
    return {"encode_s": enc_s, "decode_s": dec_s}, codes, audio


def worker_ours(a):
    import codec_cpp
    m = codec_cpp.Model(a.gguf, n_threads=a.threads)
    xs = list(np.load(a.inp))
    enc_s, codes = timed(lambda: m.encode_batch(xs, workers=1), a.reps)
    dec_s, audio = timed(lambda: m.decode_batch(codes, workers=1), a.reps)
    enc1_s, _ = timed(lambda: [m.encode(x) for x in xs], a.reps)
    dec1_s, _ = timed(lambda: [m.decode(c) for c in codes], a.reps)
    return ({"encode_s": enc_s, "decode_s": dec_s, "encode_one_by_one_s": enc1_s, "decode_one_by_one_s": dec1_s,
             "batch_graph": m.batch_graph}, codes, audio)


def run_worker(a):
    res, codes, audio = worker_torch(a) if a.worker == "torch" else worker_ours(a)
    np.save(a.out + ".audio.npy", np.stack([np.asarray(x) for x in audio]))
    with open(a.out + ".codes.json", "w") as f:
        json.dump([[np.asarray(lv).tolist() for lv in c] if isinstance(c, list) else np.asarray(c).tolist() for c in codes], f)
    with open(a.out, "w") as f:
        json.dump(res, f)


def spawn(worker, args, extra, tmp):
    from references import REFERENCES
    from ref_env import ref_python
    out = os.path.join(tmp, worker + ".json")
    py = sys.executable
    if worker == "torch" and REFERENCES[extra["arch"]].venv:
        py = ref_python(REFERENCES[extra["arch"]].venv)
    cmd = [py, os.path.abspath(__file__), "--worker", worker, "--in", extra["npy"], "--threads", str(args.threads),
           "--reps", str(args.reps), "--out", out, "--arch", extra["arch"], "--ckpt", extra["ckpt"], "--gguf", extra["gguf"]]
    subprocess.run(cmd, check=True)
    with open(out) as f:
        res = json.load(f)
    with open(out + ".codes.json") as f:
        codes = json.load(f)
    return res, codes, np.load(out + ".audio.npy")


def codes_rate(ours, ref):
    rates = []
    for o, r in zip(ours, ref):
        if isinstance(o[0], list):  # multi-rate levels
            rates += [float((np.asarray(a) == np.asarray(b)).mean()) if len(a) == len(b) else 0.0 for a, b in zip(o, r)]
        else:
            o, r = np.asarray(o), np.asarray(r)
            rates.append(float((o == r).mean()) if o.shape == r.shape else 0.0)
    return min(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mimi-mimi,encodec-24khz,dac-24khz,snac-24khz")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks", "batch"))
    ap.add_argument("--worker", choices=["torch", "ours"], help=argparse.SUPPRESS)
    for k in ("in", "arch", "ckpt", "gguf"):
        ap.add_argument("--" + k, dest="inp" if k == "in" else k, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return run_worker(a)

    from compare import cpu_name, fixture_model, make_input
    from conftest import snr_db
    rows = []
    for key in a.models.split(","):
        arch, paths = fixture_model(key)
        import codec_cpp
        m = codec_cpp.Model(paths["f32"], n_threads=1)
        rate, hop = m.encode_sample_rate, m.encode_hop_size
        m.close()
        base = make_input(rate, a.seconds + a.batch * 0.37)
        rng = np.random.default_rng(0)
        n = int(round(a.seconds * rate))  # B different windows of the speech, a little noise apart
        x = np.stack([base[int(b * 0.37 * rate):][:n] + 1e-3 * rng.standard_normal(n) for b in range(a.batch)]).astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            npy = os.path.join(tmp, "x.npy")
            np.save(npy, x)
            extra = {"arch": arch, "ckpt": paths["ckpt"], "gguf": paths["f32"], "npy": npy}
            ref, ref_codes, ref_audio = spawn("torch", a, extra, tmp)
            ours, our_codes, our_audio = spawn("ours", a, extra, tmp)
        n_out = min(ref_audio.shape[-1], our_audio.shape[-1])
        snr = min(snr_db(r[..., :n_out], o[..., :n_out]) for r, o in zip(ref_audio, our_audio))
        row = {"model": key, "batch": a.batch, "seconds": a.seconds, "threads": a.threads, "torch": ref, "ours": ours,
               "codes_equal": codes_rate(our_codes, ref_codes), "decode_snr_db": snr}
        rows.append(row)
        print(json.dumps(row), flush=True)

    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out + ".json", "w") as f:
        json.dump({"cpu": cpu_name(), "rows": rows}, f, indent=1)
    lines = [f"CPU: {cpu_name()}; {a.threads} threads, f32, batch of {a.batch} x {a.seconds:g} s, medians of {a.reps}.", "",
             "| model | batch graph | encode: PyTorch batch / ours batch / ours 1-by-1 (s) | speedup vs PyTorch | "
             "decode: PyTorch batch / ours batch / ours 1-by-1 (s) | speedup vs PyTorch | codes equal | decode SNR |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t, o = r["torch"], r["ours"]
        lines.append(f"| {r['model']} | {'yes' if o['batch_graph'] else 'no'} | "
                     f"{t['encode_s']:.2f} / {o['encode_s']:.2f} / {o['encode_one_by_one_s']:.2f} | {t['encode_s'] / o['encode_s']:.2f}x | "
                     f"{t['decode_s']:.2f} / {o['decode_s']:.2f} / {o['decode_one_by_one_s']:.2f} | {t['decode_s'] / o['decode_s']:.2f}x | "
                     f"{100 * r['codes_equal']:.2f} % | {r['decode_snr_db']:.1f} dB |")
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
