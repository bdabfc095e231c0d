#!/usr/bin/env python3
"""Converts a Hugging Face codec checkpoint to a codec.cpp GGUF file.

    python scripts/convert.py --input-dir DIR --out model.gguf [--outtype f32|f16|q8_0]
    python scripts/convert.py --model-id descript/dac_44khz --out dac44.gguf

The architecture is detected from config.json. Every weight transform (weight-norm folding,
layouts) happens here, so the runtime only validates and uploads.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from codec_convert import dac, encodec, mimi, pocket_tts, qwen3_tts_tokenizer, snac, soprano, wavtokenizer, xcodec2  # noqa: E402
from codec_convert.common import OUTTYPES, ConvertError, GGUFOut, load_config, load_state_dict  # noqa: E402

ARCHS = [dac, mimi, snac, encodec, wavtokenizer, soprano, qwen3_tts_tokenizer, xcodec2, pocket_tts]


def convert(input_dir, out_path, outtype="f32"):
    # Checkpoints without a config.json (WavTokenizer's YAML + .ckpt, Soprano's decoder.pth)
    # are recognised by their files.
    arch = next((a for a in ARCHS if hasattr(a, "detect_dir") and a.detect_dir(input_dir)), None)
    if arch is not None:
        config, sd = arch.load_dir(input_dir)
    else:
        config = load_config(input_dir)
        arch = next((a for a in ARCHS if a.matches(config)), None)
        if arch is None:
            raise ConvertError(f"unsupported model_type '{config.get('model_type')}' in {input_dir}/config.json "
                               f"(supported: {', '.join(a.ARCH for a in ARCHS)})")
        sd = load_state_dict(input_dir)
    tmp = out_path + ".tmp"
    out = GGUFOut(tmp, arch.ARCH, outtype)
    try:
        arch.convert(config, sd, out)
        out.write()
        os.replace(tmp, out_path)  # never leave a half-written model under the final name
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return arch.ARCH


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--input-dir", help="directory with config.json and model weights")
    src.add_argument("--model-id", help="Hugging Face repo id (downloads; needs internet)")
    ap.add_argument("--out", required=True, help="output .gguf path")
    ap.add_argument("--outtype", default="f32", choices=list(OUTTYPES),
                    help="type of the matmul weights (q8_0: rows of a multiple of 32, others f16)")
    args = ap.parse_args(argv)
    try:
        input_dir = args.input_dir
        if args.model_id:
            from huggingface_hub import snapshot_download
            input_dir = snapshot_download(args.model_id, allow_patterns=["config.json", "*.safetensors", "*.bin", "*.json"])
        arch = convert(input_dir, args.out, args.outtype)
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({arch}, {args.outtype})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
