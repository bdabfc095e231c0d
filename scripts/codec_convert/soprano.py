"""Soprano's decoder (soprano-tts 0.2.0, soprano/vocos/decoder.py SopranoDecoder; the hub's
decoder.pth, a plain state dict). The published repository has no config file: the
constructor's defaults are the config (hop 512, upscale 4, 32 kHz), the rest is read from the
weights (dims, layer count, kernels, n_fft) and checked against them."""
import os

import torch

from .common import ConvertError, Weights
from . import vocos

ARCH = "soprano"
SAMPLE_RATE = 32000
HOP, UPSCALE = 512, 4  # SopranoDecoder(hop_length=512, upscale=4)


def matches(config):
    return False  # never from a config.json: see detect_dir


def detect_dir(input_dir):
    return (not os.path.isfile(os.path.join(input_dir, "config.json"))
            and os.path.isfile(os.path.join(input_dir, "decoder.pth")))


def load_dir(input_dir):
    path = os.path.join(input_dir, "decoder.pth")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise ConvertError(f"{path}: not a state dict torch.load(weights_only=True) can read ({type(e).__name__}: {e})")
    if not isinstance(sd, dict):
        raise ConvertError(f"{path}: not a state dict")
    return {}, {k: v.float() for k, v in sd.items() if hasattr(v, "float")}


def convert(config, sd, out):
    get = Weights(sd)
    emb = get("decoder.embed.weight")  # [dim, 512, k]
    dim, latent, in_k = emb.shape
    n_layers = vocos.count(sd, "decoder.convnext.")
    if n_layers == 0:
        raise ConvertError("no decoder.convnext.* blocks: not a Soprano decoder")
    inter = get("decoder.convnext.0.pwconv1.weight").shape[0]
    n_fft = get("head.istft.window").shape[0]
    out.add_common(sample_rate=SAMPLE_RATE, hop_size=HOP * UPSCALE, n_q=1, codebook_size=2, codebook_dim=latent,
                   latent_dim=latent, channels=1, has_encoder=False, has_decoder=True)
    out.add_u32("soprano.dim", dim)
    out.add_u32("soprano.intermediate_dim", inter)
    out.add_u32("soprano.num_layers", n_layers)
    out.add_u32("soprano.input_kernel", in_k)
    out.add_u32("soprano.upscale", UPSCALE)
    out.add_u32("soprano.n_fft", n_fft)
    out.add_u32("soprano.head_hop", HOP)
    vocos.write_conv(out, get, "decoder.embed", "decoder.embed")
    vocos.write_layer_norm(out, get, "decoder.norm", "decoder.norm")
    dws = {vocos.write_convnext(out, get, f"decoder.convnext.{i}", f"decoder.convnext.{i}", False) for i in range(n_layers)}
    if len(dws) != 1:
        raise ConvertError("ConvNeXt blocks with different kernel sizes")
    out.add_u32("soprano.dw_kernel", dws.pop())
    vocos.write_layer_norm(out, get, "decoder.final_layer_norm", "decoder.final_layer_norm")
    # ISTFT(padding="center") zeroes the DC and Nyquist bins before torch.istft
    vocos.write_head(out, get, "head", "head", n_fft, HOP, True, True)
    get.check_all_used("Soprano decoder")
