"""Mimi (Kyutai; transformers `MimiModel`: kyutai/mimi).

The published model.safetensors uses the original flat layout (encoder.layers.*,
encoder_transformer.*, downsample.*, upsample.*, decoder_transformer.*, decoder.layers.*,
quantizer.*) with plain conv weights. Codebooks are stored as EMA buffers; the embedding is
computed here exactly as MimiEuclideanCodebook.embed computes it.
"""
import torch

from .common import ConvertError, Weights, cm_conv_t_weight, cm_conv_weight, conv_in_weight, fold_weight_norm

ARCH = "mimi"
EPSILON = 1e-5  # MimiEuclideanCodebook's clamp on cluster_usage

# GGUF tensor names are limited to 63 characters: the quantizer's long module names are shortened.
SEMANTIC = ("quantizer.semantic_residual_vector_quantizer", "quantizer.semantic")
ACOUSTIC = ("quantizer.acoustic_residual_vector_quantizer", "quantizer.acoustic")


def matches(config):
    return config.get("model_type") == "mimi"


def _cfg(config, key, default):
    v = config.get(key, default)
    return default if v is None else v


def convert(config, sd, out, encoder_only=None, latent=False):
    """encoder_only: (get, n_q_keep) when a descendant (Qwen3-TTS's tokenizer) converts this
    Mimi's encoder and its first n_q_keep codebooks; it writes the codec.* keys and checks use.
    latent: the continuous variant (Pocket TTS's Mimi, pocket_tts.py; sd already in Mimi's flat
    layout): no quantizer, the downsample outputs config latent_dim channels and latent_proj maps
    them back to hidden_size; GELU-tanh allowed."""
    if encoder_only is None:
        sd = fold_weight_norm(sd)  # no-op on the published file; harmless on a weight-normed export
        get = Weights(sd)
    else:
        get, n_q_keep = encoder_only

    # ---- configuration the runtime supports (everything else is refused, not approximated)
    if not _cfg(config, "use_causal_conv", True):
        raise ConvertError("use_causal_conv = false is not supported (published Mimi is causal)")
    if float(_cfg(config, "trim_right_ratio", 1.0)) != 1.0:
        raise ConvertError("trim_right_ratio != 1.0 is not supported")
    if _cfg(config, "use_conv_shortcut", False):
        raise ConvertError("use_conv_shortcut = true is not supported")
    hidden_act = _cfg(config, "hidden_act", "gelu")
    if hidden_act not in (("gelu", "gelu_pytorch_tanh") if latent else ("gelu",)):
        raise ConvertError(f"hidden_act '{hidden_act}' is not supported" + ("" if latent else " (exact-erf gelu only)"))
    if _cfg(config, "attention_bias", False):
        raise ConvertError("attention_bias = true is not supported")
    pad_mode = _cfg(config, "pad_mode", "constant")
    if pad_mode not in ("constant", "replicate"):
        raise ConvertError(f"pad_mode '{pad_mode}' is not supported (constant or replicate)")
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    rope_type = rope.get("rope_type", rope.get("type"))
    if rope_type not in (None, "default"):
        raise ConvertError(f"rope type '{rope_type}' is not supported")
    rope_theta = float(rope.get("rope_theta", _cfg(config, "rope_theta", 10000.0)))

    ratios = [int(r) for r in _cfg(config, "upsampling_ratios", [8, 6, 5, 4])]
    channels = int(_cfg(config, "audio_channels", 1))
    n_filters = sd["encoder.layers.0.conv.weight"].shape[0] if "encoder.layers.0.conv.weight" in sd else None
    if n_filters is None:
        raise ConvertError("missing tensor 'encoder.layers.0.conv.weight'")
    if n_filters != int(_cfg(config, "num_filters", 64)):
        raise ConvertError(f"config num_filters {config.get('num_filters')} disagrees with the weights ({n_filters})")
    hidden = int(_cfg(config, "hidden_size", 512))
    n_res = int(_cfg(config, "num_residual_layers", 1))
    growth = int(_cfg(config, "dilation_growth_rate", 2))
    kernel, last_kernel = int(_cfg(config, "kernel_size", 7)), int(_cfg(config, "last_kernel_size", 3))
    res_kernel = int(_cfg(config, "residual_kernel_size", 3))
    compress = int(_cfg(config, "compress", 2))
    n_layer = int(_cfg(config, "num_hidden_layers", 8))
    n_head = int(_cfg(config, "num_attention_heads", 8))
    n_kv_head = int(_cfg(config, "num_key_value_heads", n_head))
    head_dim = int(_cfg(config, "head_dim", hidden // n_head))
    if n_kv_head != n_head:
        raise ConvertError(f"num_key_value_heads {n_kv_head} != num_attention_heads {n_head} is not supported")
    ffn = int(_cfg(config, "intermediate_size", 2048))
    window = config.get("sliding_window", 250)
    window = 0 if window is None else int(window)  # 0: plain causal attention (sliding_window null)
    eps = float(_cfg(config, "norm_eps", 1e-5))
    if latent:
        latent_dim = int(_cfg(config, "latent_dim", 32))
        n_q, n_sem, cb_size, cb_dim = 1, 0, 2, latent_dim  # codec.* placeholders: no codebook
    else:
        latent_dim = hidden
        n_q = int(_cfg(config, "num_quantizers", 32))
        n_sem = int(_cfg(config, "num_semantic_quantizers", 1))
        cb_size, cb_dim = int(_cfg(config, "codebook_size", 2048)), int(_cfg(config, "codebook_dim", hidden))
        vq_dim = int(_cfg(config, "vector_quantization_hidden_dimension", 256))
        if vq_dim != cb_dim:
            raise ConvertError(f"vector_quantization_hidden_dimension {vq_dim} != codebook_dim {cb_dim}")
        if not 0 < n_sem < n_q:
            raise ConvertError(f"num_semantic_quantizers {n_sem} must be in [1, num_quantizers)")

    hop = 1
    for r in ratios:
        hop *= r
    # Downsample stride as MimiConfig derives it (latent_stride); the weights must agree.
    if "downsample.conv.weight" not in sd or ("upsample.conv.weight" not in sd and encoder_only is None):
        raise ConvertError("this Mimi has no downsample/upsample (frame_rate == encoder rate): not supported")
    stride = sd["downsample.conv.weight"].shape[-1] // 2
    if sd["downsample.conv.weight"].shape[-1] != 2 * stride or stride < 1:
        raise ConvertError("downsample kernel is not 2 * stride")
    if latent and stride != int(_cfg(config, "latent_stride", stride)):
        raise ConvertError(f"config latent_stride {config.get('latent_stride')} disagrees with the weights ({stride})")
    groups = int(_cfg(config, "upsample_groups", hidden))
    if encoder_only is None and (groups != hidden or tuple(sd["upsample.conv.weight"].shape) != (hidden, 1, 2 * stride)):
        raise ConvertError(f"only a depthwise upsample (upsample_groups == hidden_size) is supported, got groups "
                           f"{groups}, weight {tuple(sd['upsample.conv.weight'].shape)}")
    frame_rate = config.get("frame_rate")
    if frame_rate is not None and abs(float(frame_rate) * hop * stride - int(config["sampling_rate"])) > 1e-3:
        raise ConvertError(f"config frame_rate {frame_rate} disagrees with hop {hop} x downsample stride {stride}")

    if encoder_only is not None:
        n_q = n_q_keep
    else:
        out.add_common(sample_rate=int(config["sampling_rate"]), hop_size=hop * stride, n_q=n_q, codebook_size=cb_size,
                       codebook_dim=cb_dim, latent_dim=latent_dim, channels=channels, has_encoder=True, has_decoder=True)
    w = out.writer
    out.add_u32("mimi.num_filters", n_filters)
    out.add_i32_array("mimi.upsampling_ratios", ratios)
    out.add_u32("mimi.kernel_size", kernel)
    out.add_u32("mimi.last_kernel_size", last_kernel)
    out.add_u32("mimi.residual_kernel_size", res_kernel)
    out.add_u32("mimi.num_residual_layers", n_res)
    out.add_u32("mimi.dilation_growth_rate", growth)
    out.add_u32("mimi.compress", compress)
    w.add_string("mimi.pad_mode", pad_mode)
    out.add_u32("mimi.downsample_stride", stride)
    out.add_u32("mimi.num_hidden_layers", n_layer)
    out.add_u32("mimi.num_attention_heads", n_head)
    out.add_u32("mimi.head_dim", head_dim)
    out.add_u32("mimi.intermediate_size", ffn)
    out.add_u32("mimi.sliding_window", window)
    w.add_float32("mimi.norm_eps", eps)
    w.add_float32("mimi.rope_theta", rope_theta)
    if latent:
        w.add_string("mimi.hidden_act", hidden_act)
        out.add_u32("mimi.hidden_size", hidden)
    else:
        out.add_u32("mimi.num_semantic_quantizers", n_sem)

    # Channel-major layouts of src/blocks/seanet.h (common.py's helpers).
    def conv(src, stride=1, bias=True):
        out.tensor(src + ".weight", cm_conv_weight(get(src + ".weight"), stride, src), matmul=True)
        if bias:
            out.tensor(src + ".bias", get(src + ".bias"))

    def conv_in(src):  # read from PCM through an im2col, f32
        out.tensor(src + ".weight", conv_in_weight(get(src + ".weight")))
        out.tensor(src + ".bias", get(src + ".bias"))

    def convt(prefix, stride):
        out.tensor(prefix + ".weight", cm_conv_t_weight(get(prefix + ".weight"), stride, prefix), matmul=True)
        out.tensor(prefix + ".bias", get(prefix + ".bias"))

    def resnet(prefix):
        conv(prefix + ".block.1.conv")
        conv(prefix + ".block.3.conv")

    # SEANet encoder: same module indices as MimiEncoder.layers.
    i = 0
    conv_in(f"encoder.layers.{i}.conv")
    i += 1
    for r in reversed(ratios):
        for _ in range(n_res):
            resnet(f"encoder.layers.{i}")
            i += 1
        i += 1  # ELU
        conv(f"encoder.layers.{i}.conv", r)
        i += 1
    i += 1  # ELU
    conv(f"encoder.layers.{i}.conv")

    # Rotary inverse frequencies exactly as MimiRotaryEmbedding computes them (float32).
    inv_freq = 1.0 / (rope_theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    out.tensor("rope.inv_freq", inv_freq)

    def transformer(prefix):
        for li in range(n_layer):
            p = f"{prefix}.layers.{li}"
            for n in ("input_layernorm", "post_attention_layernorm"):
                out.tensor(f"{p}.{n}.weight", get(f"{p}.{n}.weight"))
                out.tensor(f"{p}.{n}.bias", get(f"{p}.{n}.bias"))
            for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
                out.tensor(f"{p}.self_attn.{n}.weight", get(f"{p}.self_attn.{n}.weight"), matmul=True)  # ggml [in, out]
            out.tensor(f"{p}.mlp.fc1.weight", get(f"{p}.mlp.fc1.weight"), matmul=True)
            out.tensor(f"{p}.mlp.fc2.weight", get(f"{p}.mlp.fc2.weight"), matmul=True)
            out.tensor(f"{p}.self_attn_layer_scale.scale", get(f"{p}.self_attn_layer_scale.scale"))
            out.tensor(f"{p}.mlp_layer_scale.scale", get(f"{p}.mlp_layer_scale.scale"))

    transformer("encoder_transformer")
    conv("downsample.conv", stride, bias=False)

    # Split RVQ: codebook embed = embed_sum / clamp(cluster_usage, eps), its squared norms for the search.
    n_cfg = int(_cfg(config, "num_quantizers", 32))
    for (src, dst), n, n_all in () if latent else ((SEMANTIC, n_sem, n_sem), (ACOUSTIC, n_q - n_sem, n_cfg - n_sem)):
        out.tensor(dst + ".input_proj.weight", get(src + ".input_proj.weight")[:, :, 0], matmul=True)   # ggml [C, D]
        if encoder_only is None:
            out.tensor(dst + ".output_proj.weight", get(src + ".output_proj.weight")[:, :, 0], matmul=True)  # ggml [D, C]
        else:
            get.skip(src + ".output_proj.weight")
        for q in range(n, n_all):  # codebooks past those kept (encoder_only): the codes are a prefix
            for t in ("initialized", "embed_sum", "cluster_usage"):
                get.skip(f"{src}.layers.{q}.codebook.{t}")
        n = min(n, n_all)
        for q in range(n):
            p = f"{src}.layers.{q}.codebook"
            get(p + ".initialized")
            embed = get(p + ".embed_sum") / get(p + ".cluster_usage").clamp(min=EPSILON)[:, None]
            if tuple(embed.shape) != (cb_size, cb_dim):
                raise ConvertError(f"'{p}.embed_sum' has shape {tuple(embed.shape)}, expected ({cb_size}, {cb_dim})")
            out.tensor(f"{dst}.layers.{q}.embed", embed)                      # ggml [D, N]
            out.tensor(f"{dst}.layers.{q}.embed_sq", embed.pow(2).sum(-1))  # ggml [N]
        if f"{src}.layers.{n_all}.codebook.embed_sum" in sd:
            raise ConvertError(f"{src} has more codebooks than the config's {n}")

    if encoder_only is not None:
        out.add_u32("mimi.hidden_size", hidden)
        return
    if latent:
        out.tensor("latent_proj.weight", get("latent_proj.weight")[:, :, 0], matmul=True)  # (C, L, 1) -> ggml [L, C]
    # Depthwise transposed upsample: (C, 1, K) -> (K, C) = ggml [C, K], one row of per-channel weights per tap.
    out.tensor("upsample.conv.weight", get("upsample.conv.weight")[:, 0, :].t().contiguous())
    transformer("decoder_transformer")

    # SEANet decoder: same module indices as MimiDecoder.layers.
    i = 0
    conv(f"decoder.layers.{i}.conv")
    i += 1
    for r in ratios:
        i += 1  # ELU
        convt(f"decoder.layers.{i}.conv", r)
        i += 1
        for _ in range(n_res):
            resnet(f"decoder.layers.{i}")
            i += 1
    i += 1  # ELU
    conv(f"decoder.layers.{i}.conv")

    get.check_all_used("Mimi")
