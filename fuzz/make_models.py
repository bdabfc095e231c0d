#!/usr/bin/env python3
"""Writes the tiny models the model-backed fuzz targets (and their regression replay) use:
one GGUF per tiny fixture variant, made in a single process (torch is imported once).

    python fuzz/make_models.py OUT_DIR      # dac.gguf encodec.gguf encodec_stereo.gguf mimi.gguf snac.gguf

Existing files are kept while the converter and fixture sources are unchanged (a
SOURCE_TAG file records their hash), so a rerun costs only the missing ones. Weights are seeded random.
"""
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

# name -> (arch, variant); the names are what fuzz/fuzz_common.h looks for.
MODELS = {
    "dac": ("dac", "tiny"),
    "encodec": ("encodec", "tiny"),
    "encodec_stereo": ("encodec", "tiny_stereo"),
    "mimi": ("mimi", "tiny"),
    "snac": ("snac", "tiny"),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    from codec_convert import source_tag
    # Models made by another converter or fixture version are remade, all of them.
    tag = source_tag(os.path.join(ROOT, "tests", "fixtures", "make_checkpoint.py"), os.path.abspath(__file__))
    stamp = os.path.join(out, "SOURCE_TAG")
    if not os.path.exists(stamp) or open(stamp).read().strip() != tag:
        for n in MODELS:
            if os.path.exists(os.path.join(out, n + ".gguf")):
                os.remove(os.path.join(out, n + ".gguf"))
    todo = {n: av for n, av in MODELS.items() if not os.path.exists(os.path.join(out, n + ".gguf"))}
    if not todo:
        return
    import make_checkpoint
    from convert import convert
    for name, (arch, variant) in todo.items():
        ckpt = tempfile.mkdtemp(prefix=f"codec_fuzz_{name}_")
        try:
            make_checkpoint.ARCHS[arch][0](variant, 0, ckpt)
            tmp = os.path.join(out, name + ".gguf.tmp")
            convert(ckpt, tmp)
            os.replace(tmp, os.path.join(out, name + ".gguf"))  # atomic: a half-written model is never seen
        finally:
            shutil.rmtree(ckpt, ignore_errors=True)
        print(f"wrote {name}.gguf")
    with open(stamp, "w") as f:
        f.write(tag + "\n")


if __name__ == "__main__":
    main()
