"""Qwen3-TTS-Tokenizer-12Hz (qwen-tts `Qwen3TTSTokenizerV2Model`: Qwen/Qwen3-TTS-Tokenizer-12Hz).

config.json: model_type "qwen3_tts_tokenizer_12hz" with encoder_config (a MimiConfig) and
decoder_config; model.safetensors holds the model's state dict: encoder.* (a transformers
MimiModel without its decoder half, converted by mimi.py; only the first
encoder_valid_num_quantizers codebooks are kept) and decoder.* (converted here).
"""
import torch

from . import mimi
from .common import ConvertError, Weights, cm_conv_t_weight, cm_conv_weight

ARCH = "qwen3_tts_tokenizer"
EPSILON = 1e-5  # EuclideanCodebook's clamp on cluster_usage


def matches(config):
    return config.get("model_type") == "qwen3_tts_tokenizer_12hz"


def convert(config, sd, out):
    enc_cfg, dec = config.get("encoder_config") or {}, config.get("decoder_config") or {}
    n_keep = int(config.get("encoder_valid_num_quantizers", 16))
    n_q = int(dec.get("num_quantizers", 16))
    if n_keep != n_q:
        raise ConvertError(f"encoder_valid_num_quantizers {n_keep} != decoder num_quantizers {n_q}")
    for k in ("input_sample_rate", "output_sample_rate"):
        if int(config.get(k, 24000)) != int(enc_cfg.get("sampling_rate", 24000)):
            raise ConvertError(f"{k} {config.get(k)} != the encoder's sampling_rate")
    if dec.get("hidden_act", "silu") != "silu" or dec.get("attention_bias", False):
        raise ConvertError("only the published decoder (silu SwiGLU, no attention bias) is supported")
    rope = dec.get("rope_scaling") or {}
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        raise ConvertError("decoder rope_scaling is not supported")
    n_head = int(dec.get("num_attention_heads", 16))
    if int(dec.get("num_key_value_heads", n_head)) != n_head:
        raise ConvertError("grouped-query attention (num_key_value_heads != num_attention_heads) is not supported")
    hidden = int(dec.get("hidden_size", 1024))
    head_dim = int(dec.get("head_dim", hidden // n_head))
    cb_dim = int(dec.get("codebook_dim", 512))
    vq_dim = cb_dim // 2  # SplitResidualVectorQuantizer(dimension=codebook_dim // 2)
    latent = int(dec.get("latent_dim", 1024))
    ffn = int(dec.get("intermediate_size", 3072))
    n_layer = int(dec.get("num_hidden_layers", 8))
    ratios = [int(r) for r in dec.get("upsampling_ratios", [2, 2])]
    rates = [int(r) for r in dec.get("upsample_rates", [8, 5, 4, 3])]
    decoder_dim = int(dec.get("decoder_dim", 1536))
    cb_size = int(dec.get("codebook_size", 2048))
    theta = float(dec.get("rope_theta", 10000.0))
    hop = 1
    for r in ratios + rates:
        hop *= r
    if hop != int(config.get("decode_upsample_rate", hop)) or hop != int(config.get("encode_downsample_rate", hop)):
        raise ConvertError(f"decoder upsampling {hop} != decode_upsample_rate / encode_downsample_rate")

    # ---- encoder: mimi.py on the encoder.* tensors (mimi.* keys, Mimi's tensor names)
    enc_sd = {k[len("encoder."):]: v for k, v in sd.items() if k.startswith("encoder.")}
    enc_get = Weights(enc_sd)
    if int(enc_cfg.get("codebook_size", 2048)) != cb_size:
        raise ConvertError("encoder and decoder codebook sizes differ")
    enc_vq_dim = int(enc_cfg.get("codebook_dim", 256))
    out.add_common(sample_rate=int(enc_cfg.get("sampling_rate", 24000)), hop_size=hop, n_q=n_q, codebook_size=cb_size,
                   codebook_dim=enc_vq_dim, latent_dim=cb_dim, channels=1, has_encoder=True, has_decoder=True)
    # transformers 4.57's Mimi (qwen-tts's pin) builds a plain causal mask and passes the sliding
    # window only to flash attention: the public encode on the CPU (sdpa / eager) attends to every
    # past frame, so the converted encoder does too (mimi.sliding_window 0).
    mimi.convert(dict(enc_cfg, sliding_window=None), enc_sd, out, encoder_only=(enc_get, n_keep))
    enc_get.check_all_used("Qwen3 tokenizer encoder")

    # ---- decoder
    get = Weights({k: v for k, v in sd.items() if k.startswith("decoder.")})
    o = out.add_u32
    o("qwen3.vq_dim", vq_dim)
    o("qwen3.latent_dim", latent)
    o("qwen3.hidden_size", hidden)
    o("qwen3.num_hidden_layers", n_layer)
    o("qwen3.num_attention_heads", n_head)
    o("qwen3.head_dim", head_dim)
    o("qwen3.intermediate_size", ffn)
    o("qwen3.sliding_window", int(dec.get("sliding_window", 72)))
    out.writer.add_float32("qwen3.rms_norm_eps", float(dec.get("rms_norm_eps", 1e-5)))
    out.writer.add_float32("qwen3.rope_theta", theta)
    out.add_i32_array("qwen3.upsampling_ratios", ratios)
    out.add_i32_array("qwen3.upsample_rates", rates)
    o("qwen3.decoder_dim", decoder_dim)
    o("qwen3.chunk_size", 300)           # Qwen3TTSTokenizerV2Decoder.chunked_decode's defaults,
    o("qwen3.chunk_left_context", 25)    # as the public decode() calls it

    def conv(src, dst, bias=True):
        out.tensor(dst + ".weight", cm_conv_weight(get(src + ".weight"), 1, src), matmul=True)
        if bias:
            out.tensor(dst + ".bias", get(src + ".bias"))

    def convt(src, dst, stride):
        out.tensor(dst + ".weight", cm_conv_t_weight(get(src + ".weight"), stride, src), matmul=True)
        out.tensor(dst + ".bias", get(src + ".bias"))

    def snake_beta(src, dst):  # SnakeBeta: x + 1 / (exp(beta) + 1e-9) * sin(exp(alpha) x)^2, as Snake's alpha / beta
        out.tensor(dst + ".alpha", get(src + ".alpha").exp())
        out.tensor(dst + ".beta", (get(src + ".beta").exp() + 1e-9).reciprocal())

    def linear(src, dst, bias=True):
        out.tensor(dst + ".weight", get(src + ".weight"), matmul=True)
        if bias:
            out.tensor(dst + ".bias", get(src + ".bias"))

    # split RVQ (decode only): the input projections are unused by decoding
    for src, dst, n in (("rvq_first", "semantic", 1), ("rvq_rest", "acoustic", n_q - 1)):
        p = f"decoder.quantizer.{src}"
        get.skip(p + ".input_proj.weight")
        out.tensor(f"dec.vq.{dst}.output_proj.weight", get(p + ".output_proj.weight")[:, :, 0], matmul=True)
        for q in range(n):
            c = f"{p}.vq.layers.{q}._codebook"
            embed = get(c + ".embedding_sum") / get(c + ".cluster_usage").clamp(min=EPSILON)[:, None]
            if tuple(embed.shape) != (cb_size, vq_dim):
                raise ConvertError(f"'{c}.embedding_sum' has shape {tuple(embed.shape)}, expected ({cb_size}, {vq_dim})")
            out.tensor(f"dec.vq.{dst}.layers.{q}.embed", embed)
            out.tensor(f"dec.vq.{dst}.layers.{q}.embed_sq", embed.pow(2).sum(-1))
    conv("decoder.pre_conv.conv", "dec.pre_conv")
    t = "decoder.pre_transformer"
    linear(t + ".input_proj", "dec.tr.input_proj")
    linear(t + ".output_proj", "dec.tr.output_proj")
    out.tensor("dec.tr.norm.weight", get(t + ".norm.weight"))
    out.tensor("dec.rope.inv_freq", 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim)))
    for i in range(n_layer):
        p = f"{t}.layers.{i}"
        for n in ("input_layernorm", "post_attention_layernorm"):
            out.tensor(f"dec.tr.layers.{i}.{n}.weight", get(f"{p}.{n}.weight"))
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            linear(f"{p}.self_attn.{n}", f"dec.tr.layers.{i}.self_attn.{n}", bias=False)
        for n in ("gate_proj", "up_proj", "down_proj"):
            linear(f"{p}.mlp.{n}", f"dec.tr.layers.{i}.mlp.{n}", bias=False)
        out.tensor(f"dec.tr.layers.{i}.self_attn_layer_scale.scale", get(f"{p}.self_attn_layer_scale.scale"))
        out.tensor(f"dec.tr.layers.{i}.mlp_layer_scale.scale", get(f"{p}.mlp_layer_scale.scale"))
    for i, s in enumerate(ratios):
        p, d = f"decoder.upsample.{i}", f"dec.up.{i}"
        convt(p + ".0.conv", d + ".conv", s)
        c = p + ".1"
        out.tensor(d + ".cnx.dwconv.weight", get(c + ".dwconv.conv.weight")[:, 0, :].t().contiguous())  # ggml [C, K]
        out.tensor(d + ".cnx.dwconv.bias", get(c + ".dwconv.conv.bias"))
        out.tensor(d + ".cnx.norm.weight", get(c + ".norm.weight"))
        out.tensor(d + ".cnx.norm.bias", get(c + ".norm.bias"))
        linear(c + ".pwconv1", d + ".cnx.pwconv1")
        linear(c + ".pwconv2", d + ".cnx.pwconv2")
        out.tensor(d + ".cnx.gamma", get(c + ".gamma"))
    conv("decoder.decoder.0.conv", "dec.conv_in")
    for i, s in enumerate(rates):
        p, d = f"decoder.decoder.{i + 1}.block", f"dec.blk.{i}"
        snake_beta(p + ".0", d + ".act")
        convt(p + ".1.conv", d + ".up", s)
        for j in range(3):
            r = f"{p}.{j + 2}"
            snake_beta(r + ".act1", f"{d}.res.{j}.act1")
            conv(r + ".conv1.conv", f"{d}.res.{j}.conv1")
            snake_beta(r + ".act2", f"{d}.res.{j}.act2")
            conv(r + ".conv2.conv", f"{d}.res.{j}.conv2")
    snake_beta(f"decoder.decoder.{len(rates) + 1}", "dec.act_out")
    conv(f"decoder.decoder.{len(rates) + 2}.conv", "dec.conv_out")
    get.check_all_used("Qwen3 tokenizer decoder")
    unknown = [k for k in sd if not k.startswith(("encoder.", "decoder."))]
    if unknown:
        raise ConvertError(f"{len(unknown)} checkpoint tensors not converted, e.g. {unknown[:3]}")
