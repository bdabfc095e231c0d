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


REFERENCES = {"dac": _Dac, "mimi": _Mimi}
