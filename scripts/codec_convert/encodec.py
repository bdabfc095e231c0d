"""EnCodec (transformers `EncodecModel`: facebook/encodec_24khz, facebook/encodec_48khz).

Weight norm (24 kHz) is folded; the 48 kHz model's plain convs keep their GroupNorm(1, C)
("time_group_norm") parameters. Convs are written in the runtime's channel-major layouts
(common.cm_conv_weight / cm_conv_t_weight / conv_in_weight). LSTM gates are reordered to
(i, f, o, g) so the runtime applies one sigmoid to a contiguous 3H block, and the two biases
are summed. Chunking constants are computed here exactly as EncodecConfig computes them.
"""
import math

import torch

from .common import ConvertError, Weights, cm_conv_t_weight, cm_conv_weight, conv_in_weight, fold_weight_norm

ARCH = "encodec"


def matches(config):
    return config.get("model_type") == "encodec"


def _cfg(config, key, default):
    v = config.get(key, default)
    return default if v is None else v


def convert(config, sd, out):
    sd = fold_weight_norm(sd)
    get = Weights(sd)

    # ---- configuration (validated against the weights where the weights say it)
    norm_type = _cfg(config, "norm_type", "weight_norm")
    if norm_type not in ("weight_norm", "time_group_norm"):
        raise ConvertError(f"norm_type '{norm_type}' is not supported")
    tgn = norm_type == "time_group_norm"
    pad_mode = _cfg(config, "pad_mode", "reflect")
    if pad_mode not in ("reflect", "constant"):
        raise ConvertError(f"pad_mode '{pad_mode}' is not supported (reflect or constant)")
    causal = bool(_cfg(config, "use_causal_conv", True))
    trim_right_ratio = float(_cfg(config, "trim_right_ratio", 1.0))
    if not causal and trim_right_ratio != 1.0:
        raise ConvertError("trim_right_ratio != 1.0 only makes sense for causal convolutions")
    shortcut = bool(_cfg(config, "use_conv_shortcut", True))
    ratios = [int(r) for r in _cfg(config, "upsampling_ratios", [8, 5, 4, 2])]
    channels = int(_cfg(config, "audio_channels", 1))
    if channels not in (1, 2):
        raise ConvertError(f"audio_channels {channels}: EnCodec takes 1 or 2")
    n_filters = get("encoder.layers.0.conv.weight").shape[0]
    if n_filters != int(_cfg(config, "num_filters", 32)):
        raise ConvertError(f"config num_filters {config.get('num_filters')} disagrees with the weights ({n_filters})")
    if get("encoder.layers.0.conv.weight").shape[1] != channels:
        raise ConvertError("config audio_channels disagrees with the first conv's input channels")
    n_res = int(_cfg(config, "num_residual_layers", 1))
    growth = int(_cfg(config, "dilation_growth_rate", 2))
    kernel, last_kernel = int(_cfg(config, "kernel_size", 7)), int(_cfg(config, "last_kernel_size", 7))
    res_kernel = int(_cfg(config, "residual_kernel_size", 3))
    compress = int(_cfg(config, "compress", 2))
    n_lstm = int(_cfg(config, "num_lstm_layers", 2))
    if n_lstm < 1:
        raise ConvertError("num_lstm_layers must be >= 1")
    hidden = int(_cfg(config, "hidden_size", 128))
    sr = int(config["sampling_rate"])
    hop = math.prod(ratios)

    codebook_size, codebook_dim = get("quantizer.layers.0.codebook.embed").shape
    if codebook_dim != hidden:
        raise ConvertError(f"codebook dim {codebook_dim} != hidden_size {hidden}")
    if codebook_size != int(_cfg(config, "codebook_size", 1024)) or codebook_size & (codebook_size - 1):
        raise ConvertError(f"codebook size {codebook_size}: must match the config and be a power of 2")
    n_q = sum(1 for k in sd if k.startswith("quantizer.layers.") and k.endswith(".codebook.embed"))
    # EncodecConfig.num_quantizers / frame_rate, as the reference computes them
    frame_rate = math.ceil(sr / hop)
    bandwidths = [float(b) for b in _cfg(config, "target_bandwidths", [1.5, 3.0, 6.0, 12.0, 24.0])]
    want_q = int(1000 * bandwidths[-1] // (frame_rate * math.ceil(math.log2(codebook_size))))
    if n_q != want_q:
        raise ConvertError(f"the checkpoint has {n_q} codebooks; the config's bandwidths imply {want_q}")
    bps = [round(b * 1000) for b in bandwidths]
    if any(abs(b * 1000 - r) > 1e-6 for b, r in zip(bandwidths, bps)):
        raise ConvertError(f"target_bandwidths {bandwidths} are not whole bits per second")

    chunk_length_s = config.get("chunk_length_s")
    overlap = config.get("overlap")
    chunk_length = chunk_stride = 0
    if chunk_length_s is not None:
        chunk_length = int(chunk_length_s * sr)  # EncodecConfig.chunk_length
        if overlap is None:
            raise ConvertError("chunk_length_s without overlap: the reference has no chunk stride")
        chunk_stride = max(1, int((1.0 - overlap) * chunk_length))  # EncodecConfig.chunk_stride
        if chunk_length < 1:
            raise ConvertError(f"chunk_length_s {chunk_length_s} is shorter than one sample")
        if chunk_stride > chunk_length:
            raise ConvertError(f"overlap {overlap} < 0 leaves gaps between chunks")

    out.add_common(sample_rate=sr, hop_size=hop, n_q=n_q, codebook_size=codebook_size, codebook_dim=codebook_dim,
                   latent_dim=hidden, channels=channels, has_encoder=True, has_decoder=True)
    w = out.writer
    out.add_u32("encodec.num_filters", n_filters)
    out.add_i32_array("encodec.upsampling_ratios", ratios)
    out.add_u32("encodec.num_residual_layers", n_res)
    out.add_u32("encodec.dilation_growth_rate", growth)
    out.add_u32("encodec.kernel_size", kernel)
    out.add_u32("encodec.last_kernel_size", last_kernel)
    out.add_u32("encodec.residual_kernel_size", res_kernel)
    out.add_u32("encodec.compress", compress)
    out.add_u32("encodec.num_lstm_layers", n_lstm)
    w.add_bool("encodec.use_causal_conv", causal)
    w.add_bool("encodec.use_conv_shortcut", shortcut)
    w.add_string("encodec.pad_mode", pad_mode)
    w.add_string("encodec.norm_type", norm_type)
    w.add_float32("encodec.trim_right_ratio", trim_right_ratio)
    w.add_bool("encodec.normalize", bool(_cfg(config, "normalize", False)))
    out.add_u32("encodec.chunk_length", chunk_length)
    out.add_u32("encodec.chunk_stride", chunk_stride)
    out.add_i32_array("encodec.target_bandwidths_bps", bps)

    # ---- tensors
    # The runtime is channel-major (src/blocks/seanet.h): biases and norms [C], convs in tap groups.
    def conv(prefix, stride=1, first=False):
        name = prefix + ".conv.weight"
        if first:  # read from PCM through an im2col
            out.tensor(name, conv_in_weight(get(name)))
        else:
            out.tensor(name, cm_conv_weight(get(name), stride, name), matmul=True)
        out.tensor(prefix + ".conv.bias", get(prefix + ".conv.bias"))
        if tgn:
            out.tensor(prefix + ".norm.weight", get(prefix + ".norm.weight"))
            out.tensor(prefix + ".norm.bias", get(prefix + ".norm.bias"))

    def convt(prefix, stride):
        name = prefix + ".conv.weight"
        out.tensor(name, cm_conv_t_weight(get(name), stride, name), matmul=True)
        out.tensor(prefix + ".conv.bias", get(prefix + ".conv.bias"))
        if tgn:
            out.tensor(prefix + ".norm.weight", get(prefix + ".norm.weight"))
            out.tensor(prefix + ".norm.bias", get(prefix + ".norm.bias"))

    def resblock(prefix):
        conv(prefix + ".block.1")
        conv(prefix + ".block.3")
        if shortcut:
            conv(prefix + ".shortcut")

    def lstm(prefix):
        for layer in range(n_lstm):
            def gates(t):  # PyTorch (i, f, g, o) -> (i, f, o, g)
                i, f, g, o = t.chunk(4, 0)
                return torch.cat([i, f, o, g], 0)
            out.tensor(f"{prefix}.lstm.weight_ih_l{layer}", gates(get(f"{prefix}.lstm.weight_ih_l{layer}")), matmul=True)
            out.tensor(f"{prefix}.lstm.weight_hh_l{layer}", gates(get(f"{prefix}.lstm.weight_hh_l{layer}")), matmul=True)
            out.tensor(f"{prefix}.lstm.bias_l{layer}",
                       gates(get(f"{prefix}.lstm.bias_ih_l{layer}") + get(f"{prefix}.lstm.bias_hh_l{layer}")))

    idx = 0
    conv(f"encoder.layers.{idx}", first=True)
    idx += 1
    for i, r in enumerate(reversed(ratios)):
        for _ in range(n_res):
            resblock(f"encoder.layers.{idx}")
            idx += 1
        idx += 1  # ELU
        k = get(f"encoder.layers.{idx}.conv.weight").shape[-1]
        if k != 2 * r:
            raise ConvertError(f"encoder downsampling layer {i} has kernel {k}; config ratio {r} implies {2 * r}")
        conv(f"encoder.layers.{idx}", stride=r)
        idx += 1
    lstm(f"encoder.layers.{idx}")
    conv(f"encoder.layers.{idx + 2}")  # after the ELU

    conv("decoder.layers.0")
    lstm("decoder.layers.1")
    idx = 2
    for i, r in enumerate(ratios):
        k = get(f"decoder.layers.{idx + 1}.conv.weight").shape[-1]
        if k != 2 * r:
            raise ConvertError(f"decoder upsampling layer {i} has kernel {k}; config ratio {r} implies {2 * r}")
        convt(f"decoder.layers.{idx + 1}", r)
        idx += 2
        for _ in range(n_res):
            resblock(f"decoder.layers.{idx}")
            idx += 1
    conv(f"decoder.layers.{idx + 1}")

    for q in range(n_q):
        p = f"quantizer.layers.{q}.codebook"
        embed = get(p + ".embed")  # [N, D] = ggml [D, N]
        out.tensor(p + ".embed", embed)
        out.tensor(p + ".embed_sq", embed.t().pow(2).sum(0))  # exactly as EncodecEuclideanCodebook.quantize
        for buf in ("inited", "cluster_size", "embed_avg"):  # training state
            get.skip(f"{p}.{buf}")

    get.check_all_used("EnCodec")
