"""python -m codec_cpp: codec-cli's verbs for people who installed only the Python package.

    python -m codec_cpp info      --model dac44.gguf
    python -m codec_cpp encode    --model dac44.gguf --in speech.flac --out codes.npy [--n-q 4 | --bandwidth 6]
    python -m codec_cpp decode    --model dac44.gguf --codes codes.npy --out out.wav [--subtype pcm16|pcm24|float]
    python -m codec_cpp roundtrip --model dac44.gguf --in speech.wav --out out.wav [--codes-out codes.npy]
    common: --threads N, --gpu

Files are the CLI's (see README.md): audio read with soundfile and converted to the model's rate
and channels with soxr exactly as codec-cli does; codes .npy int32 [n_q, n_frames], .npz with
level_0.. for multi-rate models (SNAC), x.scales.npy beside x.npy for EnCodec 48 kHz. The whole
input is processed in one call (codec-cli's --one-shot). Exit status: 0 ok, 1 error, 2 usage.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from typing import List, Optional

import numpy as np

from . import CodecError, LibraryError, Model


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m codec_cpp", description="Neural audio codec inference (codec.cpp).")
    sub = p.add_subparsers(dest="command", metavar="command")
    sub.required = True

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--model", required=True, metavar="M", help="model file (GGUF)")
        sp.add_argument("--threads", type=int, default=0, metavar="N", help="CPU threads (default 0: all cores)")
        sp.add_argument("--gpu", action="store_true", help="run on the first GPU backend if ggml has one")

    def n_q(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--n-q", type=int, default=-1, metavar="N", help="number of codebooks to use (default: all)")
        sp.add_argument("--bandwidth", type=float, metavar="KBPS",
                        help="target bandwidth, one of the model's (EnCodec: 1.5/3/6/12/24); sets n_q as the reference does")

    sp = sub.add_parser("info", help="print the model's properties")
    common(sp)
    sp = sub.add_parser("encode", help="audio file -> codes (.npy, .npz for multi-rate models)")
    common(sp)
    n_q(sp)
    sp.add_argument("--in", dest="input", required=True, metavar="AUDIO", help="input audio (wav, flac, ogg, mp3, ...)")
    sp.add_argument("--out", required=True, metavar="NPY", help="output codes")
    sp.add_argument("--scales", metavar="NPY", help="per-chunk scales output (default: <codes>.scales.npy)")
    sp = sub.add_parser("decode", help="codes -> audio file")
    common(sp)
    sp.add_argument("--codes", required=True, metavar="NPY", help="input codes (.npy, or .npz for multi-rate models)")
    sp.add_argument("--scales", metavar="NPY", help="per-chunk scales (EnCodec 48 kHz; default: <codes>.scales.npy)")
    sp.add_argument("--out", required=True, metavar="AUDIO", help="output audio (.wav, .flac, .ogg)")
    sp.add_argument("--subtype", default="pcm16", choices=("pcm16", "pcm24", "float"), help="output sample format")
    sp = sub.add_parser("roundtrip", help="audio -> codes -> audio")
    common(sp)
    n_q(sp)
    sp.add_argument("--in", dest="input", required=True, metavar="AUDIO", help="input audio")
    sp.add_argument("--out", required=True, metavar="AUDIO", help="output audio (trimmed to the input's length)")
    sp.add_argument("--codes-out", metavar="NPY", help="also write the codes")
    sp.add_argument("--subtype", default="pcm16", choices=("pcm16", "pcm24", "float"), help="output sample format")
    return p


def _info(m: Model, path: str) -> None:
    rows = [("model", path), ("arch", m.arch), ("sample_rate", m.sample_rate), ("hop_size", m.hop_size)]
    if m.encode_sample_rate != m.sample_rate:  # the encoder takes another rate (NeuCodec)
        rows += [("encode_rate", m.encode_sample_rate), ("encode_hop", m.encode_hop_size)]
    rows += [("n_q", m.n_q), ("codebook_size", m.codebook_size), ("codebook_dim", m.codebook_dim),
            ("latent_dim", m.latent_dim), ("channels", m.channels),
            ("encoder", "yes" if m.has_encoder else "no"), ("decoder", "yes" if m.has_decoder else "no")]
    if m.hop_size > 0 and m.sample_rate > 0:
        fr = m.sample_rate / m.hop_size
        rows.append(("frame_rate", f"{fr:.3f} Hz"))
        if m.codebook_size > 0 and m.n_q > 0:
            bits = m.n_q * math.log2(m.codebook_size)
            rows += [("bits_per_frame", f"{bits:.4g}"), ("bitrate", f"{bits * fr / 1000:.3f} kbps (n_q={m.n_q})")]
    if m.bandwidths:
        rows.append(("bandwidths", " ".join(f"{b:g}" for b in m.bandwidths) + " kbps"))
    rows.append(("backend", "gpu" if m.uses_gpu else "cpu"))
    for k, v in rows:
        print(f"{k + ':':<15} {v}")


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    from . import audio as aio
    try:
        if args.command in ("encode", "decode", "roundtrip"):
            aio._soundfile()  # fail before loading a model if audio I/O is missing
        if getattr(args, "bandwidth", None) is not None and args.n_q != -1:
            raise ValueError("give --n-q or --bandwidth, not both")
        t0 = time.perf_counter()
        with Model(args.model, n_threads=args.threads, use_gpu=args.gpu) as m:
            print(f"load: {time.perf_counter() - t0:.3f} s ({m.arch}, {m.sample_rate} Hz, "
                  f"{'gpu' if m.uses_gpu else 'cpu'})", file=sys.stderr)
            if args.command == "info":
                _info(m, args.model)
                return 0
            if m.continuous and args.command != "decode" and (args.n_q != -1 or args.bandwidth is not None):
                raise ValueError(f"this model ({m.arch}) has continuous latents, no codebooks: --n-q and --bandwidth do not apply")
            if args.command == "decode":
                # continuous models (Pocket TTS's Mimi, Soprano): the .npy holds the float32 latent [latent_dim, n_frames]
                codes = np.load(args.codes) if m.continuous else aio.read_codes(args.codes, m.has_scales, args.scales)
                t0 = time.perf_counter()
                audio = m.decode_latent(codes) if m.continuous else m.decode(codes)
                secs = len(audio) / m.sample_rate
                print(f"decode: {time.perf_counter() - t0:.3f} s for {secs:.2f} s of audio", file=sys.stderr)
                aio.write_audio(args.out, audio, m.sample_rate, args.subtype)
                return 0
            pcm, src = aio.read_audio(args.input, m.encode_sample_rate, m.channels)
            t0 = time.perf_counter()
            codes = m.encode_latent(pcm) if m.continuous else m.encode(pcm, n_q=args.n_q, bandwidth=args.bandwidth)
            print(f"encode: {time.perf_counter() - t0:.3f} s for {len(pcm) / m.encode_sample_rate:.2f} s of audio",
                  file=sys.stderr)
            save = (lambda path, c, *_: np.save(path, c)) if m.continuous else aio.write_codes
            if args.command == "encode":
                save(args.out, codes, args.scales)
                return 0
            if args.codes_out:
                save(args.codes_out, codes)
            audio = (m.decode_latent(codes) if m.continuous else m.decode(codes))[:m.output_samples(len(pcm))]
            aio.write_audio(args.out, audio, m.sample_rate, args.subtype)
            return 0
    except (CodecError, LibraryError, ValueError, OSError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
