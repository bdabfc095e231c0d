"""Shared conversion steps: checkpoint loading, weight-norm folding, GGUF writing."""
import json
import os

import numpy as np
import torch

KEY_PREFIX = "codec."


class ConvertError(Exception):
    """A checkpoint the converter cannot handle; the message says why."""


def load_config(model_dir):
    path = os.path.join(model_dir, "config.json")
    if not os.path.isfile(path):
        raise ConvertError(f"{model_dir}: no config.json")
    with open(path) as f:
        return json.load(f)


def load_state_dict(model_dir):
    """All tensors of a checkpoint directory (safetensors, sharded safetensors or .bin), as float32 CPU."""
    from safetensors.torch import load_file
    files = sorted(os.listdir(model_dir))
    st = [f for f in files if f.endswith(".safetensors")]
    bins = [f for f in files if f.endswith(".bin") and f.startswith("pytorch_model")]
    sd = {}
    if st:
        for f in st:
            sd.update(load_file(os.path.join(model_dir, f)))
    elif bins:
        for f in bins:
            sd.update(torch.load(os.path.join(model_dir, f), map_location="cpu", weights_only=True))
    else:
        raise ConvertError(f"{model_dir}: no model.safetensors or pytorch_model.bin")
    return {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}


def fold_weight_norm(sd):
    """Replaces weight-norm pairs by the effective weight, computed as torch computes it.

    Handles both legacy (`weight_g`/`weight_v`) and parametrization
    (`parametrizations.weight.original0/1`) key names; dim=0 as nn.utils.weight_norm uses.
    """
    out = {}
    pairs = {}
    for k, v in sd.items():
        for g_suffix, v_suffix in ((".weight_g", ".weight_v"),
                                   (".parametrizations.weight.original0", ".parametrizations.weight.original1")):
            if k.endswith(g_suffix):
                pairs.setdefault(k[: -len(g_suffix)], {})["g"] = v
                break
            if k.endswith(v_suffix):
                pairs.setdefault(k[: -len(v_suffix)], {})["v"] = v
                break
        else:
            out[k] = v
    for prefix, p in pairs.items():
        if "g" not in p or "v" not in p:
            raise ConvertError(f"weight norm of '{prefix}' is missing its g or v tensor")
        out[prefix + ".weight"] = torch._weight_norm(p["v"], p["g"], 0)
    return out


class GGUFOut:
    """Collects keys and tensors, then writes them with the official gguf package."""

    def __init__(self, path, arch, outtype):
        import gguf
        if outtype not in ("f32", "f16"):
            raise ConvertError(f"--outtype must be f32 or f16, not {outtype}")
        self.gguf = gguf
        self.outtype = outtype
        self.writer = gguf.GGUFWriter(path, arch)
        self.writer.add_string(KEY_PREFIX + "arch", arch)
        self.names = set()

    def add_common(self, *, sample_rate, hop_size, n_q, codebook_size, codebook_dim, latent_dim, channels,
                   has_encoder, has_decoder):
        w = self.writer
        w.add_uint32(KEY_PREFIX + "sample_rate", sample_rate)
        w.add_uint32(KEY_PREFIX + "hop_size", hop_size)
        w.add_uint32(KEY_PREFIX + "n_q", n_q)
        w.add_uint32(KEY_PREFIX + "codebook_size", codebook_size)
        w.add_uint32(KEY_PREFIX + "codebook_dim", codebook_dim)
        w.add_uint32(KEY_PREFIX + "latent_dim", latent_dim)
        w.add_uint32(KEY_PREFIX + "channels", channels)
        w.add_bool(KEY_PREFIX + "has_encoder", has_encoder)
        w.add_bool(KEY_PREFIX + "has_decoder", has_decoder)

    def add_u32(self, key, value):
        self.writer.add_uint32(key, int(value))

    def add_i32_array(self, key, values):
        self.writer.add_array(key, [int(v) for v in values])

    def tensor(self, name, t, *, matmul=False):
        """Adds a tensor given in numpy axis order (ggml ne is the reverse).

        matmul=True marks weights that may be stored in the reduced --outtype; everything
        else (biases, norms, codebooks, snake parameters) stays f32 so it is exact.
        """
        if name in self.names:
            raise ConvertError(f"tensor '{name}' written twice")
        if len(name) >= 64:
            raise ConvertError(f"tensor name '{name}' is too long for GGUF (max 63)")
        self.names.add(name)
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        a = np.ascontiguousarray(a.astype(np.float32))
        if matmul and self.outtype == "f16":
            a = a.astype(np.float16)
        self.writer.add_tensor(name, a)

    def write(self):
        w = self.writer
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
