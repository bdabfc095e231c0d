"""How to load, encode and decode each architecture's PyTorch reference (numpy in/out)."""
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))

import make_checkpoint  # noqa: E402


class _Dac:
    load = staticmethod(make_checkpoint.load_dac_reference)

    @staticmethod
    def encode(model, x):
        return model.encode(torch.from_numpy(x)[None, None]).audio_codes[0].numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        return model.decode(audio_codes=torch.from_numpy(codes.astype(np.int64))[None]).audio_values[0].numpy()


class _Mimi:
    load = staticmethod(make_checkpoint.load_mimi_reference)

    @staticmethod
    def encode(model, x):
        return model.encode(torch.from_numpy(x)[None, None]).audio_codes[0].numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        return model.decode(torch.from_numpy(codes.astype(np.int64))[None]).audio_values[0, 0].numpy()


class _Snac:
    """Multi-rate codes: a list of 1-D int32 arrays, one per level. The decoder's noise blocks are
    run with zero noise, as codec.cpp does by default (see tests/python/test_snac_parity.py)."""
    load = staticmethod(make_checkpoint.load_snac_reference)

    @staticmethod
    def encode(model, x):
        return [c[0].numpy().astype(np.int32) for c in model.encode(torch.from_numpy(x)[None, None])]

    @staticmethod
    def decode(model, codes):
        randn = torch.randn
        torch.randn = lambda *shape, **kw: torch.zeros(*shape, dtype=kw.get("dtype"), device=kw.get("device"))
        try:
            return model.decode([torch.from_numpy(c.astype(np.int64))[None] for c in codes])[0, 0].numpy()
        finally:
            torch.randn = randn


class _Encodec:
    """Mono 24 kHz model at its highest bandwidth (all codebooks), as codec-bench runs it."""
    load = staticmethod(make_checkpoint.load_encodec_reference)

    @staticmethod
    def encode(model, x):
        r = model.encode(torch.from_numpy(x)[None, None], bandwidth=model.config.target_bandwidths[-1])
        if r.audio_codes.shape[0] != 1 or r.audio_scales[0] is not None:
            raise SystemExit("bench: only the unchunked (24 kHz) EnCodec model is timed")
        return r.audio_codes[0, 0].numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        c = torch.from_numpy(codes.astype(np.int64))[None, None]
        return model.decode(c, [None]).audio_values[0, 0].numpy()


REFERENCES = {"dac": _Dac, "mimi": _Mimi, "snac": _Snac, "encodec": _Encodec}
