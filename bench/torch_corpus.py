#!/usr/bin/env python3
"""The PyTorch side of bench/corpus_vs_torch.py: what a user writes without codec.cpp. A
multiprocessing pool of W workers, each with the reference model loaded once and one torch
thread; per file: read (soundfile), mix to mono, resample to the model's rate (soxr), encode, save
the codes as OUT/<index>.npy (SNAC: .npz, one array per level).

    torch_corpus.py --arch mimi --ckpt DIR --rate 24000 --files LIST.txt --out DIR --workers 2
"""
import argparse
import multiprocessing as mp
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

_model = None
_args = None


def _init(args):
    global _model, _args
    import torch
    from references import REFERENCES
    torch.set_num_threads(1)
    _args = args
    _model = REFERENCES[args.arch].load(args.ckpt)


def _encode(item):
    import soundfile
    import soxr
    import torch
    from references import REFERENCES
    i, path = item
    x, sr = soundfile.read(path, dtype="float32", always_2d=True)
    x = x.astype(np.float64).mean(axis=1).astype(np.float32)
    if sr != _args.rate:
        x = soxr.resample(x, sr, _args.rate, quality="HQ").astype(np.float32)
    with torch.inference_mode():
        codes = REFERENCES[_args.arch].encode(_model, np.ascontiguousarray(x))
    base = os.path.join(_args.out, str(i))
    if isinstance(codes, list):
        np.savez(base + ".npz", *codes)
    else:
        np.save(base + ".npy", codes)
    return len(x) / _args.rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--rate", type=int, required=True)
    ap.add_argument("--files", required=True, help="text file, one path per line")
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(args.files) as f:
        files = [line.strip() for line in f if line.strip()]
    with mp.get_context("spawn").Pool(args.workers, initializer=_init, initargs=(args,)) as pool:
        seconds = sum(pool.imap_unordered(_encode, list(enumerate(files)), chunksize=1))
    print(f"{len(files)} files, {seconds:.1f} s of audio")


if __name__ == "__main__":
    main()
