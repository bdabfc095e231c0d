"""Stream time against the one-shot call, in one process: 10 s of a modulated tone with noise, pushed
1 s at a time (encode: PCM, decode: the one-shot codes; --push-seconds: pushes and blocks of that
length), best of N runs alternated with the one-shot call. Also checks the stream's codes and PCM
against the one-shot's.

    .venv/bin/python bench/stream_throughput.py MODEL.gguf [--threads 1] [--reps 3] [--push-seconds 1]

For a before/after comparison, run it with CODEC_LIB (and PYTHONPATH) of each build in turn.
"""
import argparse
import time

import numpy as np

import codec_cpp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--push-seconds", type=float, default=1.0)
    a = ap.parse_args()
    m = codec_cpp.Model(a.model, n_threads=a.threads)
    sr = m.sample_rate
    t = np.arange(10 * sr) / sr
    noise = 0.05 * np.random.default_rng(0).standard_normal(len(t))
    x = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + noise).astype(np.float32)
    ref = m.encode(x)
    multi = isinstance(ref, list)  # SNAC: levels at their own rates
    n_q = len(ref) if multi else (ref[0] if m.has_scales else ref).shape[0]
    push = -(-round(a.push_seconds * sr) // m.hop_size)  # frames per decode push and per block
    step = round(a.push_seconds * sr)                      # samples per encode push

    def cat(pieces):
        if m.has_scales:  # (codes, scales) per pull
            return np.concatenate([p[0] for p in pieces], axis=1), np.concatenate([p[1] for p in pieces])
        if multi:
            return [np.concatenate([p[q] for p in pieces]) for q in range(len(pieces[0]))]
        return np.concatenate(pieces, axis=1)

    def enc_stream():
        return cat(list(m.stream_encode([x[i:i + step] for i in range(0, len(x), step)], block_frames=push)))

    def dec_stream():
        with m.stream("decode", n_q=n_q, block_frames=push) as s:
            out = []
            if m.has_scales:  # codes of whole chunks, with their scales
                codes, scales = ref
                per = -(-int(m.meta("encodec.chunk_length")) // m.hop_size)
                k = max(1, push // per)
                for i in range(0, len(scales), k):
                    s.push((codes[:, i * per:(i + k) * per], scales[i:i + k]))
                    out.append(s.pull())
            elif multi:
                strides = [len(ref[-1]) // len(r) for r in ref]
                for i in range(0, len(ref[-1]), push):
                    s.push([r[i // st:(i + push) // st] for r, st in zip(ref, strides)])
                    out.append(s.pull())
            else:
                for i in range(0, ref.shape[1], push):
                    s.push(ref[:, i:i + push])
                    out.append(s.pull())
            s.flush()
            out.append(s.pull())
        return np.concatenate(out)

    try:  # models whose decoder does not stream (WavTokenizer): encode only
        m.stream("decode", n_q=n_q).close()
        decodes = True
    except codec_cpp.CodecError:
        decodes = False
    codes = enc_stream()
    if m.has_scales:
        same = np.concatenate([(codes[0] == ref[0]).ravel(), codes[1] == ref[1]])
    else:
        same = np.concatenate([c == r for c, r in zip(codes, ref)]) if multi else codes == ref
    snr = ""
    if decodes:
        pcm1, pcm_s = m.decode(ref), dec_stream()
        err = np.sum((pcm1.astype(np.float64) - pcm_s) ** 2)
        snr = ", decode vs one-shot " + (
            "bit-identical" if err == 0 else f"{10 * np.log10(np.sum(pcm1.astype(np.float64) ** 2) / err):.1f} dB")
    best = dict.fromkeys(("enc1", "encS", "dec1", "decS"), float("inf"))
    for _ in range(a.reps):
        for k, f in (("enc1", lambda: m.encode(x)), ("encS", enc_stream), ("dec1", lambda: m.decode(ref)), ("decS", dec_stream)):
            if k.startswith("dec") and not decodes:
                continue
            t0 = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t0)
    dec = (f"decode one-shot {best['dec1']:.3f} s, stream {best['decS']:.3f} s ({best['decS'] / best['dec1']:.3f}x)"
           if decodes else "decode does not stream")
    print(f"{a.model} threads={a.threads} push={a.push_seconds} s: encode one-shot {best['enc1']:.3f} s, stream {best['encS']:.3f} s "
          f"({best['encS'] / best['enc1']:.3f}x); {dec}; codes equal {100 * same.mean():.3f} %{snr}")


if __name__ == "__main__":
    main()
