"""XCodec2 (Llasa's codec) and NeuCodec (NeuTTS): transformers' Xcodec2Model / NeuCodecModel
layout (HKUSTAudio/xcodec2-hf, neuphonic/neucodec): config.json (model_type "xcodec2" or
"neucodec") + model.safetensors with quantizer.*, acoustic_decoder.* and the encoder side.

Also the original tree (HKUSTAudio/xcodec2, NeuCodec's own package), renamed here to the
transformers names: generator.quantizer.project_out (or .fsqs.0.project_out), fc_post_a (= fc),
generator.backbone.{embed, prior_net, transformers.<i>.{att_norm, att.c_attn (q, k, v stacked),
att.c_proj, ffn_norm, mlp.fc1, mlp.fc2}, post_net, final_layer_norm}, generator.head.out (and its
window, checked to be the hann window). Its q/k rows are in the interleaved-RoPE order, which
transformers' port permutes per head; the same permutation of q and k leaves q . k unchanged, and
the RoPE cancels anyway (below), so they are used as they are. The decoder hop is n_fft / 4 of
the head; the rate is the config's (sampling_rate, NeuCodec: output_sampling_rate) or, where it
has none, 50 frames/s (16 kHz for XCodec2's hop 320, 24 kHz for NeuCodec's 480). Tested on
state dicts renamed to these names (tests/fixtures/xcodec2.py), not on a published original file.

Decode only for now: the FSQ quantizer's project_out and the acoustic decoder (fc, embed conv,
GroupNorm ResNets, RMSNorm transformer, LayerNorm, ISTFT head) are converted; the encoder side
(semantic_encoder = w2v-BERT 2.0, semantic_adapter, acoustic_encoder, fc_encoder,
quantizer.project_in) is skipped and listed on stderr, and the GGUF says has_encoder = false.
A checkpoint holding only the decoder side converts the same.

The decoder's RoPE takes the head index as its position (the original's quirk, kept by
transformers): one fixed rotation per head applied to both q and k, which cancels in q . k, so
nothing of it is written (src/models/xcodec2.cpp). Its rope type must be "default" (scale 1).
"""
import math
import sys

import torch

from .common import ConvertError, Weights
from . import vocos

ARCH = "xcodec2"
ENCODER_PREFIXES = ("semantic_encoder.", "semantic_adapter.", "acoustic_encoder.", "fc_encoder.", "quantizer.project_in.")
D = "acoustic_decoder."


def matches(config):
    return config.get("model_type") in ("xcodec2", "neucodec")


def _layout(sd):
    if any(k.startswith(D) for k in sd):
        return "transformers"
    if "generator.backbone.embed.weight" in sd and "fc_post_a.weight" in sd:
        return "original"
    raise ConvertError("neither acoustic_decoder.* (transformers) nor generator.backbone.* + fc_post_a.* (original) "
                       "tensors: not an XCodec2/NeuCodec checkpoint")


ORIGINAL_NAMES = (  # original prefix -> transformers prefix, first match wins
    ("fc_post_a.", D + "fc."),
    ("generator.quantizer.fsqs.0.project_out.", "quantizer.project_out."),
    ("generator.quantizer.project_out.", "quantizer.project_out."),
    ("generator.backbone.final_layer_norm.", D + "norm."),
    ("generator.head.out.", D + "head.linear."),
    ("generator.backbone.", D),
)
LAYER_NAMES = (("att_norm.", "input_layernorm."), ("ffn_norm.", "post_attention_layernorm."),
               ("att.c_proj.", "self_attn.o_proj."), ("mlp.", "mlp."))


def _from_original(sd):
    """The original tree's decoder side under the transformers names; the rest (encoder side,
    quantizer state) is returned apart, to be skipped."""
    dec, rest = {}, {}
    for k, v in sd.items():
        new = next((t + k[len(o):] for o, t in ORIGINAL_NAMES if k.startswith(o)), None)
        if k == "generator.head.istft.window":
            n_fft = v.shape[0]
            if not torch.allclose(v.double(), torch.hann_window(n_fft, dtype=torch.float64), atol=1e-6):
                raise ConvertError("generator.head.istft.window is not the hann window the runtime assumes")
            continue
        if new is None:
            if k.startswith("generator.") and not k.startswith("generator.quantizer."):
                raise ConvertError(f"'{k}': unknown tensor of the original decoder")
            rest[k] = v
            continue
        if new.startswith(D + "transformers."):
            i, tail = new[len(D + "transformers."):].split(".", 1)
            p = f"{D}layers.{i}."
            if tail == "att.c_attn.weight":
                for name, part in zip(("q_proj", "k_proj", "v_proj"), v.chunk(3, 0)):
                    dec[p + f"self_attn.{name}.weight"] = part
                continue
            m = next(((o, t) for o, t in LAYER_NAMES if tail.startswith(o)), None)
            if m is None:
                raise ConvertError(f"'{k}': unknown tensor of an original transformer block")
            new = p + m[1] + tail[len(m[0]):]
        dec[new] = v
    return dec, rest


def convert(config, sd, out):
    neu = config.get("model_type") == "neucodec"
    layout = _layout(sd)
    if layout == "original":
        sd, rest = _from_original(sd)
        skipped = len(rest)
    else:
        skipped = sum(1 for k in sd if k.startswith(ENCODER_PREFIXES))
    get = Weights(sd)
    for k in sd:
        if k.startswith(ENCODER_PREFIXES):
            get.skip(k)

    if config.get("hidden_act", "silu") != "silu" or config.get("attention_bias", False):
        raise ConvertError("only the published decoder (silu MLP, no attention bias) is supported")
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        raise ConvertError(f"rope type '{rope.get('rope_type')}' is not supported (only 'default' cancels exactly)")
    n_head = int(config.get("num_attention_heads", 16))
    if int(config.get("num_key_value_heads") or n_head) != n_head:
        raise ConvertError("grouped-query attention (num_key_value_heads != num_attention_heads) is not supported")
    levels = [int(v) for v in config.get("quantization_levels", [4] * 8)]
    if not levels or any(v < 2 for v in levels):
        raise ConvertError(f"quantization_levels {levels}: every level must be >= 2")
    codebook_size = math.prod(levels)

    fc = get(D + "fc.weight")  # [hidden, latent]
    hidden, latent = fc.shape
    po = get("quantizer.project_out.weight")  # [latent, n_levels]
    if tuple(po.shape) != (latent, len(levels)):
        raise ConvertError(f"quantizer.project_out.weight {tuple(po.shape)} != ({latent}, {len(levels)})")
    if int(config.get("quantization_dim", latent)) != latent:
        raise ConvertError(f"quantization_dim {config.get('quantization_dim')} != acoustic_decoder.fc's input {latent}")
    head_dim = int(config.get("head_dim") or hidden // n_head)
    n_layers = vocos.count(sd, D + "layers.")
    if n_layers == 0:
        raise ConvertError("no acoustic_decoder.layers.*")
    ffn = get(D + "layers.0.mlp.fc1.weight").shape[0]

    ratios = [int(r) for r in config.get("downsampling_ratios", [2, 2, 4, 4, 5])]
    if layout == "original":  # hop = n_fft / 4; the rate from the config if it has one, else 50 frames/s
        hop = (get(D + "head.linear.weight").shape[0] - 2) // 4
        rate = int(config.get("output_sampling_rate" if neu else "sampling_rate", 50 * hop))
    elif neu:
        rate_in = int(config.get("input_sampling_rate", 16000))
        rate = int(config.get("output_sampling_rate", 24000))
        hop = math.prod(ratios) * rate // rate_in
        if hop * rate_in != math.prod(ratios) * rate:
            raise ConvertError(f"NeuCodec: {rate} / {rate_in} Hz does not give a whole decoder hop")
    else:
        rate, hop = int(config.get("sampling_rate", 16000)), math.prod(ratios)
    head = get(D + "head.linear.weight")
    n_fft = head.shape[0] - 2
    if n_fft != 4 * hop:
        raise ConvertError(f"ISTFT head of {head.shape[0]} outputs: n_fft {n_fft}, the config's hop {hop} needs {4 * hop}")

    out.add_common(sample_rate=rate, hop_size=hop, n_q=1, codebook_size=codebook_size, codebook_dim=len(levels),
                   latent_dim=latent, channels=1, has_encoder=False, has_decoder=True)
    out.add_i32_array("xcodec2.fsq_levels", levels)
    out.add_u32("xcodec2.hidden_size", hidden)
    out.add_u32("xcodec2.num_layers", n_layers)
    out.add_u32("xcodec2.num_heads", n_head)
    out.add_u32("xcodec2.head_dim", head_dim)
    out.add_u32("xcodec2.intermediate_size", ffn)
    out.writer.add_float32("xcodec2.rms_norm_eps", float(config.get("rms_norm_eps", 1e-6)))
    out.add_u32("xcodec2.n_fft", n_fft)

    out.tensor("quantizer.project_out.weight", po, matmul=True)
    out.tensor("quantizer.project_out.bias", get("quantizer.project_out.bias"))
    out.tensor("dec.fc.weight", fc, matmul=True)
    out.tensor("dec.fc.bias", get(D + "fc.bias"))
    if vocos.write_conv(out, get, D + "embed", "dec.embed") != 7:
        raise ConvertError("acoustic_decoder.embed: kernel 7 expected")
    for net in ("prior_net", "post_net"):
        if vocos.count(sd, f"{D}{net}.") != 2:
            raise ConvertError(f"acoustic_decoder.{net}: 2 ResNet blocks expected")
        for i in range(2):
            vocos.write_gn_resblock(out, get, f"{D}{net}.{i}", f"dec.{net}.{i}")
    for i in range(n_layers):
        p = f"layers.{i}"
        for n in ("input_layernorm", "post_attention_layernorm"):
            out.tensor(f"dec.{p}.{n}.weight", get(f"{D}{p}.{n}.weight"))
        for lin in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.fc1", "mlp.fc2"):
            out.tensor(f"dec.{p}.{lin}.weight", get(f"{D}{p}.{lin}.weight"), matmul=True)
    vocos.write_layer_norm(out, get, D + "norm", "dec.norm")
    out.tensor("dec.head.out.weight", head, matmul=True)
    out.tensor("dec.head.out.bias", get(D + "head.linear.bias"))
    # the head's window is a non-persistent buffer: torch.hann_window(n_fft), as the model builds it
    vocos.write_istft(out, "dec.head.istft", torch.hann_window(n_fft, dtype=torch.float64).numpy(), n_fft, hop, False)

    get.check_all_used("XCodec2/NeuCodec decoder")
    print(f"xcodec2: {config.get('model_type')}, {layout} layout, {n_layers} decoder layers; decoder only"
          + (f" (skipped {skipped} encoder-side tensors)" if skipped else ""), file=sys.stderr)
