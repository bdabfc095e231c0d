"""SNAC (the `snac` package: hubertsiuzdak/snac_24khz, snac_32khz, snac_44khz).

The published repos hold config.json (SNAC's constructor arguments, no model_type) and
pytorch_model.bin (the package's state dict, weight norm as weight_g / weight_v).
"""
import math

import torch

from .common import (ConvertError, Weights, fold_weight_norm, write_cm_conv, write_cm_conv_t, write_conv_mono,
                     write_factorized_vq, write_snake)

ARCH = "snac"
CONFIG_KEYS = ("sampling_rate", "encoder_dim", "encoder_rates", "decoder_dim", "decoder_rates", "vq_strides")
DIM_HEAD = 64  # snac.attention.LocalMHA's default, used by every SNAC model


def matches(config):
    return "model_type" not in config and all(k in config for k in CONFIG_KEYS)


def convert(config, sd, out):
    sd = fold_weight_norm(sd)
    if not config.get("depthwise", True):
        raise ConvertError("SNAC with depthwise=false is not a published variant and is not supported")
    get = Weights(sd)

    # Structure from the weights: strides from the kernels (kernel = 2 * stride), attention
    # from the presence of its tensors.
    n_enc = len(config["encoder_rates"])
    n_dec = len(config["decoder_rates"])
    enc_rates = [get(f"encoder.block.{i + 1}.block.4.weight").shape[-1] // 2 for i in range(n_enc)]
    if enc_rates != list(config["encoder_rates"]):
        raise ConvertError(f"config encoder_rates {config['encoder_rates']} disagree with the weights {enc_rates}")
    enc_dim = sd["encoder.block.0.weight"].shape[0]
    latent = enc_dim << n_enc
    window = config.get("attn_window_size") or 0
    enc_attn = f"encoder.block.{n_enc + 1}.to_qkv.weight" in sd
    if enc_attn != (window > 0):
        raise ConvertError(f"attn_window_size = {config.get('attn_window_size')} but the encoder "
                           f"{'has' if enc_attn else 'lacks'} attention weights")
    dec_first = 3 if window else 2  # decoder.model: dw conv, 1x1 conv, [attention], blocks...
    dec_dim = sd["decoder.model.1.weight"].shape[0]
    dec_rates = [get(f"decoder.model.{dec_first + i}.block.1.weight").shape[-1] // 2 for i in range(n_dec)]
    if dec_rates != list(config["decoder_rates"]):
        raise ConvertError(f"config decoder_rates {config['decoder_rates']} disagree with the weights {dec_rates}")
    if dec_dim % (1 << n_dec):
        raise ConvertError(f"decoder_dim {dec_dim} is not divisible by 2^{n_dec}")
    strides = [int(s) for s in config["vq_strides"]]
    n_q = len(strides)
    codebook_size, codebook_dim = sd["quantizer.quantizers.0.codebook.weight"].shape
    if window and (latent % DIM_HEAD or dec_dim % DIM_HEAD):
        raise ConvertError(f"attention dims {latent}, {dec_dim} must be multiples of the head size {DIM_HEAD}")
    if config.get("latent_dim") not in (None, latent):
        raise ConvertError(f"config latent_dim {config['latent_dim']} but the encoder produces {latent} channels")
    hop = math.prod(enc_rates)

    out.add_common(sample_rate=int(config["sampling_rate"]), hop_size=hop, n_q=n_q, codebook_size=codebook_size,
                   codebook_dim=codebook_dim, latent_dim=latent, channels=1, has_encoder=True, has_decoder=True)
    out.add_u32("snac.encoder_dim", enc_dim)
    out.add_i32_array("snac.encoder_rates", enc_rates)
    out.add_u32("snac.decoder_dim", dec_dim)
    out.add_i32_array("snac.decoder_rates", dec_rates)
    out.add_i32_array("snac.vq_strides", strides)
    out.add_u32("snac.attn_window_size", window)  # 0: no attention
    out.add_u32("snac.attn_dim_head", DIM_HEAD)

    # The runtime is channel-major (src/blocks/conv_cm.h); these are its weight layouts.
    def conv(prefix, stride=1):
        write_cm_conv(out, get, prefix, stride)

    def conv_mono(prefix):
        write_conv_mono(out, get, prefix)

    def conv_dw(prefix):
        w = get(prefix + ".weight")
        if w.shape[1] != 1:
            raise ConvertError(f"'{prefix}.weight' has shape {tuple(w.shape)}: expected a depthwise kernel")
        out.tensor(prefix + ".weight", w[:, 0, :].t())  # (k, C) = ggml [C, k]; tiny, stays f32
        out.tensor(prefix + ".bias", get(prefix + ".bias"))

    def conv_t(prefix, stride):
        write_cm_conv_t(out, get, prefix, stride)

    def snake(prefix):
        write_snake(out, get, prefix)

    def res_unit(prefix):
        snake(prefix + ".block.0")
        conv_dw(prefix + ".block.1")  # dilated
        snake(prefix + ".block.2")
        conv(prefix + ".block.3")

    def attention(prefix):
        out.tensor(prefix + ".norm.weight", get(prefix + ".norm.weight"))
        out.tensor(prefix + ".norm.bias", get(prefix + ".norm.bias"))
        out.tensor(prefix + ".to_qkv.weight", get(prefix + ".to_qkv.weight"), matmul=True)  # ggml [C, 3C]
        out.tensor(prefix + ".to_out.weight", get(prefix + ".to_out.weight"), matmul=True)
        # Rotary tables over one window, computed as SinusoidalEmbeddings.forward does (xpos off:
        # scale 1). rotate_half(q) * sin == cat(q2, q1) * cat(-sin1, sin2): the sign lives in the table.
        # inv_freq is a persistent buffer in the package; a file without it gets the value
        # SinusoidalEmbeddings.__init__ computes. xpos is off, so a saved `scale` buffer is unused.
        if prefix + ".rel_pos.inv_freq" in sd:
            inv_freq = get(prefix + ".rel_pos.inv_freq")
        else:
            inv_freq = 1.0 / (10000 ** (torch.arange(0, DIM_HEAD, 2).float() / DIM_HEAD))
        if prefix + ".rel_pos.scale" in sd:
            get(prefix + ".rel_pos.scale")
        if inv_freq.shape != (DIM_HEAD // 2,):
            raise ConvertError(f"'{prefix}.rel_pos.inv_freq' has shape {tuple(inv_freq.shape)}, expected ({DIM_HEAD // 2},)")
        t = torch.arange(window).type_as(inv_freq)
        freqs = torch.einsum("i , j -> i j", t, inv_freq)
        freqs = torch.cat((freqs, freqs), dim=-1)  # [W, dh]
        sin = freqs.sin()
        half = DIM_HEAD // 2
        out.tensor(prefix + ".rel_pos.cos", freqs.cos().reshape(window, 1, DIM_HEAD))  # ggml [dh, 1, W]
        out.tensor(prefix + ".rel_pos.sin", torch.cat((-sin[:, :half], sin[:, half:]), -1).reshape(window, 1, DIM_HEAD))

    conv_mono("encoder.block.0")
    for i in range(n_enc):
        p = f"encoder.block.{i + 1}.block"
        for r in range(3):
            res_unit(f"{p}.{r}")
        snake(p + ".3")
        conv(p + ".4", enc_rates[i])
    if window:
        attention(f"encoder.block.{n_enc + 1}")
    conv_dw(f"encoder.block.{n_enc + 1 + (1 if window else 0)}")

    for q in range(n_q):
        write_factorized_vq(out, get, f"quantizer.quantizers.{q}", codebook_size, codebook_dim)
    if f"quantizer.quantizers.{n_q}.codebook.weight" in sd:
        raise ConvertError(f"the checkpoint has more quantizers than vq_strides {strides}")

    conv_dw("decoder.model.0")
    conv("decoder.model.1")
    if window:
        attention("decoder.model.2")
    for i in range(n_dec):
        p = f"decoder.model.{dec_first + i}.block"
        snake(p + ".0")
        conv_t(p + ".1", dec_rates[i])
        noise = f"{p}.2.linear.weight" in sd
        if noise:
            # Noise block: decode runs it with zero noise (the identity); kept for completeness.
            out.tensor(p + ".2.linear.weight", get(p + ".2.linear.weight")[:, :, 0], matmul=True)
        for r in range(3):
            res_unit(f"{p}.{r + (3 if noise else 2)}")
    snake(f"decoder.model.{dec_first + n_dec}")
    conv(f"decoder.model.{dec_first + n_dec + 1}")

    get.check_all_used("SNAC")
