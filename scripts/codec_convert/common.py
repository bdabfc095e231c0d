"""Shared conversion steps: checkpoint loading, weight-norm folding, GGUF writing."""
import json
import os

import numpy as np
import torch

KEY_PREFIX = "codec."


class ConvertError(Exception):
    """A checkpoint the converter cannot handle; the message says why."""


class Weights:
    """A checkpoint's tensors as the converters consume them: calling it with a name returns the
    tensor and marks it converted; skip() marks one deliberately left out (training state);
    check_all_used() refuses a checkpoint with tensors no one converted (an unknown variant)."""

    def __init__(self, sd):
        self.sd = sd
        self.used = set()

    def __call__(self, name):
        if name not in self.sd:
            raise ConvertError(f"missing tensor '{name}'")
        self.used.add(name)
        return self.sd[name]

    def skip(self, name):
        self.used.add(name)

    def check_all_used(self, model):
        unused = sorted(set(self.sd) - self.used)
        if unused:
            raise ConvertError(f"{len(unused)} checkpoint tensors not converted, e.g. {unused[:3]}: unknown {model} variant?")


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


# Channel-major layouts of the runtime (src/blocks/conv_cm.h). Functions of PyTorch tensors.
def cm_conv_weight(w, stride=1, name="conv"):
    """Conv1d [out, in, k] -> tap groups (k/s, out, s*in) = ggml [s*in, out, k/s]: one matrix per group of s taps."""
    cout, cin, k = w.shape
    if k % stride:
        raise ConvertError(f"'{name}' kernel {k} is not a multiple of its stride {stride}")
    return w.reshape(cout, cin, k // stride, stride).permute(2, 0, 3, 1).reshape(k // stride, cout, stride * cin)


def cm_conv_t_weight(w, stride, name="conv_t"):
    """ConvTranspose1d [in, out, k] -> (k/s, s*out, in) = ggml [in, s*out, k/s]: one matrix per group of s taps."""
    cin, cout, k = w.shape
    if k % stride:
        raise ConvertError(f"'{name}' kernel {k} is not a multiple of its stride {stride}")
    return w.permute(2, 1, 0).reshape(k // stride, stride * cout, cin)


# Writers of whole layers: `get(name)` returns a checkpoint tensor (and marks it used).
def write_cm_conv(out, get, prefix, stride=1):
    out.tensor(prefix + ".weight", cm_conv_weight(get(prefix + ".weight"), stride, prefix), matmul=True)
    out.tensor(prefix + ".bias", get(prefix + ".bias"))


def write_cm_conv_t(out, get, prefix, stride):
    out.tensor(prefix + ".weight", cm_conv_t_weight(get(prefix + ".weight"), stride, prefix), matmul=True)
    out.tensor(prefix + ".bias", get(prefix + ".bias"))


def write_conv_mono(out, get, prefix):
    """A one-input-channel conv stays [out, 1, k] = ggml [k, 1, out] (f32) for the runtime's im2col."""
    out.tensor(prefix + ".weight", get(prefix + ".weight"))
    out.tensor(prefix + ".bias", get(prefix + ".bias"))


def write_snake(out, get, prefix):
    """Snake1d's alpha and 1 / (alpha + 1e-9), as DAC's and SNAC's Snake1d compute it."""
    alpha = get(prefix + ".alpha").reshape(-1)
    out.tensor(prefix + ".alpha", alpha)
    out.tensor(prefix + ".beta", (alpha + 1e-9).reciprocal())


def write_factorized_vq(out, get, prefix, codebook_size, codebook_dim):
    """One DAC-style VQ stage: 1x1 in/out projections, the codebook and its l2-normalized copy."""
    import torch.nn.functional as F
    out.tensor(prefix + ".in_proj.weight", get(prefix + ".in_proj.weight")[:, :, 0], matmul=True)    # ggml [C, D]
    out.tensor(prefix + ".in_proj.bias", get(prefix + ".in_proj.bias"))
    out.tensor(prefix + ".out_proj.weight", get(prefix + ".out_proj.weight")[:, :, 0], matmul=True)  # ggml [D, C]
    out.tensor(prefix + ".out_proj.bias", get(prefix + ".out_proj.bias"))
    cb = get(prefix + ".codebook.weight")
    if cb.shape != (codebook_size, codebook_dim):
        raise ConvertError(f"'{prefix}.codebook.weight' has shape {tuple(cb.shape)}, expected ({codebook_size}, {codebook_dim})")
    cbn = F.normalize(cb)
    out.tensor(prefix + ".codebook.weight", cb)
    out.tensor(prefix + ".codebook.normalized", cbn)
    out.tensor(prefix + ".codebook.normalized_sq", cbn.pow(2).sum(1))


def conv_in_weight(w):
    """A SEANet first conv read from PCM through an im2col: PyTorch's (out, in, K) = ggml
    [K, in, out], zero taps prepended up to a multiple of 8 (the same conv, and a GEMM depth
    ggml's SIMD kernels take; K = 7 runs several times slower). Stays f32 (the im2col's type)."""
    k8 = (w.shape[-1] + 7) // 8 * 8
    return torch.nn.functional.pad(w, (k8 - w.shape[-1], 0))


OUTTYPES = ("f32", "f16", "q8_0")


class GGUFOut:
    """Collects keys and tensors, then writes them with the official gguf package."""

    def __init__(self, path, arch, outtype):
        import gguf
        if outtype not in OUTTYPES:
            raise ConvertError(f"--outtype must be one of {', '.join(OUTTYPES)}, not {outtype}")
        self.gguf = gguf
        self.outtype = outtype
        self.writer = gguf.GGUFWriter(path, arch)
        self.writer.add_string(KEY_PREFIX + "arch", arch)
        self.names = set()

    def add_common(self, *, sample_rate, hop_size, n_q, codebook_size, codebook_dim, latent_dim, channels,
                   has_encoder, has_decoder, encode_sample_rate=None):
        """encode_sample_rate: the encoder's input rate where it differs from the output's."""
        w = self.writer
        w.add_uint32(KEY_PREFIX + "sample_rate", sample_rate)
        if encode_sample_rate is not None and encode_sample_rate != sample_rate:
            w.add_uint32(KEY_PREFIX + "encode_sample_rate", encode_sample_rate)
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
        else (biases, norms, codebooks, snake parameters) stays f32 so it is exact. q8_0 needs
        rows (ggml ne0) of a multiple of 32 values; narrower matmul weights fall back to f16.
        """
        if name in self.names:
            raise ConvertError(f"tensor '{name}' written twice")
        if len(name) >= 64:
            raise ConvertError(f"tensor name '{name}' is too long for GGUF (max 63)")
        self.names.add(name)
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        a = np.ascontiguousarray(a.astype(np.float32))
        if matmul and self.outtype == "q8_0" and a.shape[-1] % 32 == 0:
            q = self.gguf.GGMLQuantizationType.Q8_0
            self.writer.add_tensor(name, self.gguf.quants.quantize(a, q), raw_dtype=q)
            return
        if matmul and self.outtype in ("f16", "q8_0"):
            a = a.astype(np.float16)
        self.writer.add_tensor(name, a)

    def write(self):
        w = self.writer
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
