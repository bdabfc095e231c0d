"""Hugging Face checkpoint -> codec.cpp GGUF converters, one module per architecture."""


def source_tag(*extra_files):
    """A short hash of the converter's sources (plus extra_files): caches of converted GGUFs
    are keyed by it, so a converter change never leaves a stale model behind."""
    import hashlib
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.join(here, f) for f in sorted(os.listdir(here)) if f.endswith(".py")]
    h = hashlib.sha1()
    for path in files + list(extra_files):
        with open(path, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:10]
