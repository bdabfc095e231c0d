"""XCodec2 (Llasa's codec) and NeuCodec (NeuTTS): transformers' Xcodec2Model / NeuCodecModel
layout (HKUSTAudio/xcodec2-hf, neuphonic/neucodec): config.json (model_type "xcodec2" or
"neucodec") + model.safetensors with quantizer.*, acoustic_decoder.* and the encoder side.

Also the original tree (HKUSTAudio/xcodec2: config.json by its BigCodecConfig, model_type
"xcodec"; NeuCodec's own package), renamed here to the transformers names. The decoder side:
generator.quantizer.project_out (or .fsqs.0.project_out), fc_post_a (= fc),
generator.backbone.{embed, prior_net, transformers.<i>.{att_norm, att.c_attn (q, k, v stacked),
att.c_proj, ffn_norm, mlp.fc1, mlp.fc2}, post_net, final_layer_norm}, generator.head.out (and its
window, checked to be the hann window). Its q/k rows are in the interleaved-RoPE order, which
transformers' port permutes per head; the same permutation of q and k leaves q . k unchanged, and
the RoPE cancels anyway (below), so they are used as they are. The decoder hop is n_fft / 4 of
the head; the rate is the config's (sampling_rate, NeuCodec: output_sampling_rate) or, where it
has none, 50 frames/s (16 kHz for XCodec2's hop 320, 24 kHz for NeuCodec's 480). The encoder
side (ORIGINAL_ENCODER_NAMES): semantic_model (w2v-BERT 2.0, all 24 layers; the original takes
hidden_states[16], so layers 16+ are left out), SemanticEncoder_module (= semantic_adapter),
CodecEnc (= acoustic_encoder: conv_blocks.0, conv_blocks.{1..5}.block.{0,1,2 (residual units:
block.{0..3}), 3, 4}, conv_final_block.{0, 1}; weight norm folded, SnakeBeta's log-scale alpha and
beta as transformers' (beta named `beta` in the published file, `bias` in the 0.1.5 package), the
filter buffers checked to be the kaiser-sinc), fc_prior (= fc_encoder), generator.quantizer.
project_in. Tested against the original package's own encode (tests/fixtures/xcodec2_original.py)
and, decoder side, on state dicts renamed to these names (tests/fixtures/xcodec2.py); not on a
published original file.

The decoder side: the FSQ quantizer's project_out and the acoustic decoder (fc, embed conv,
GroupNorm ResNets, RMSNorm transformer, LayerNorm, ISTFT head). The encoder side, when the
checkpoint holds it (write_encoder): the w2v-BERT 2.0 conformer (semantic_encoder: feature
projection + layers; masked_spec_embed is training-only), semantic_adapter, the acoustic CNN
(acoustic_encoder: SnakeBeta parameters as exp(alpha) and 1 / (exp(beta) + 1e-9), the
anti-aliasing kaiser-sinc filters written once), fc_encoder, quantizer.project_in, the FSQ bound's
constants and the feature extractor's fbank (DFT basis with window, pre-emphasis and DC removal
folded in; Kaldi's mel matrix). NeuCodec's encoder takes 16 kHz while its decoder writes 24 kHz:
codec.encode_sample_rate says so. Not yet for a hop other than the fbank's 320: that converts
decoder-only (has_encoder = false), the skipped tensors listed on stderr. A checkpoint holding
only the decoder side converts the same.

The decoder's RoPE takes the head index as its position (the original's quirk, kept by
transformers): one fixed rotation per head applied to both q and k, which cancels in q . k, so
nothing of it is written (src/models/xcodec2.cpp). Its rope type must be "default" (scale 1).
"""
import math
import sys

import torch

from .common import ConvertError, Weights, cm_conv_weight, fold_weight_norm
from . import vocos

ARCH = "xcodec2"
ENCODER_PREFIXES = ("semantic_encoder.", "semantic_adapter.", "acoustic_encoder.", "fc_encoder.", "quantizer.project_in.")
D = "acoustic_decoder."


def matches(config):
    # the original package's BigCodecConfig says "xcodec", as transformers' X-Codec (1) does: its
    # fields tell it apart
    return config.get("model_type") in ("xcodec2", "neucodec") or (
        config.get("model_type") == "xcodec" and "codec_decoder_hidden_size" in config)


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


ORIGINAL_ENCODER_NAMES = (  # original prefix -> transformers prefix, first match wins
    ("fc_prior.", "fc_encoder."),
    ("generator.quantizer.project_in.", "quantizer.project_in."),
    ("SemanticEncoder_module.initial_conv.", "semantic_adapter.conv1."),  # residual_blocks.0 / .2: ReLUs
    ("SemanticEncoder_module.residual_blocks.1.", "semantic_adapter.conv2."),
    ("SemanticEncoder_module.residual_blocks.3.", "semantic_adapter.conv3."),
    ("SemanticEncoder_module.final_conv.", "semantic_adapter.conv4."),
    ("semantic_model.", "semantic_encoder."),
    ("CodecEnc.conv_blocks.0.", "acoustic_encoder.conv1."),
    ("CodecEnc.conv_final_block.0.", "acoustic_encoder.snake1."),
    ("CodecEnc.conv_final_block.1.", "acoustic_encoder.conv2."),
)
# EncoderBlock's Sequential: 3 ResidualUnits, the SnakeBeta, the strided conv; a ResidualUnit's: snake,
# conv k7, snake, conv k1
ENC_BLOCK_PARTS = ("res_unit1", "res_unit2", "res_unit3", "snake1", "conv1")
RES_UNIT_PARTS = ("snake1", "conv1", "snake2", "conv2")
SEMANTIC_LAYERS = 16  # the original encodes with w2v-BERT's hidden_states[16]: its first 16 layers


def _acoustic_name(k):
    """CodecEnc.conv_blocks.{i}.block.{j}[.block.{m}].rest -> acoustic_encoder.block.{i-1}.<part>.rest."""
    parts = k.split(".")
    i, j = int(parts[2]) - 1, int(parts[4])
    if parts[3] != "block" or j >= len(ENC_BLOCK_PARTS):
        raise ConvertError(f"'{k}': unknown tensor of an original encoder block")
    name, rest = ENC_BLOCK_PARTS[j], parts[5:]
    if j < 3:
        if rest[0] != "block" or int(rest[1]) >= len(RES_UNIT_PARTS):
            raise ConvertError(f"'{k}': unknown tensor of an original residual unit")
        name, rest = name + "." + RES_UNIT_PARTS[int(rest[1])], rest[2:]
    return ".".join([f"acoustic_encoder.block.{i}", name] + rest)


def _original_encoder_name(k):
    """An original encoder-side tensor's transformers name (None: not one, or unused). Weight norm is
    folded before; SnakeBeta's alpha and beta are log-scale in both trees (exp in forward), the
    published file calls beta `beta`, the 0.1.5 package `bias`."""
    if k.startswith("semantic_model.encoder.layers.") and int(k.split(".")[3]) >= SEMANTIC_LAYERS:
        return None
    if k.startswith("CodecEnc.conv_blocks.") and not k.startswith("CodecEnc.conv_blocks.0."):
        new = _acoustic_name(k)
    else:
        new = next((t + k[len(o):] for o, t in ORIGINAL_ENCODER_NAMES if k.startswith(o)), None)
    if new is not None and new.endswith(".act.bias"):
        new = new[: -len("bias")] + "beta"
    return new


def _check_original_buffer(k, v):
    """The head's window and the anti-aliasing filters are buffers in the original's file: checked
    to be what the runtime computes (the hann window, the converter's kaiser-sinc), not written."""
    if k == "generator.head.istft.window":
        want = torch.hann_window(v.shape[0], dtype=torch.float64)
    else:
        want = kaiser_sinc(0.5 / AA_RATIO, 0.6 / AA_RATIO, AA_KERNEL).double().view(1, 1, -1)
    if v.shape != want.shape or not torch.allclose(v.double(), want, atol=1e-6):
        raise ConvertError(f"'{k}' is not the {'hann window' if k.endswith('window') else 'kaiser-sinc filter'} "
                           "the runtime assumes")


ORIGINAL_BUFFERS = ("generator.head.istft.window", ".upsample.filter", ".downsample.lowpass.filter")


def _from_original(sd):
    """The original tree under the transformers names, weight norm folded; the tensors no side of
    the converted model uses (w2v-BERT's layers past 16, ...) returned apart."""
    out, unused = {}, {}
    for k, v in fold_weight_norm(sd).items():
        if k.endswith(ORIGINAL_BUFFERS):
            _check_original_buffer(k, v)
            continue
        new = next((t + k[len(o):] for o, t in ORIGINAL_NAMES if k.startswith(o)), None) or _original_encoder_name(k)
        if new is None:
            if k.startswith("generator.") and not k.startswith("generator.quantizer."):
                raise ConvertError(f"'{k}': unknown tensor of the original decoder")
            unused[k] = v
            continue
        if new.startswith(D + "transformers."):
            i, tail = new[len(D + "transformers."):].split(".", 1)
            p = f"{D}layers.{i}."
            if tail == "att.c_attn.weight":
                for name, part in zip(("q_proj", "k_proj", "v_proj"), v.chunk(3, 0)):
                    out[p + f"self_attn.{name}.weight"] = part
                continue
            m = next(((o, t) for o, t in LAYER_NAMES if tail.startswith(o)), None)
            if m is None:
                raise ConvertError(f"'{k}': unknown tensor of an original transformer block")
            new = p + m[1] + tail[len(m[0]):]
        out[new] = v
    n_sem = vocos.count(out, "semantic_encoder.encoder.layers.")
    if 0 < n_sem < SEMANTIC_LAYERS:
        raise ConvertError(f"semantic_model: {n_sem} layers, the original encodes with the output of {SEMANTIC_LAYERS}")
    return out, unused


def convert(config, sd, out):
    neu = config.get("model_type") == "neucodec"
    layout = _layout(sd)
    sd, unused = _from_original(sd) if layout == "original" else (sd, {})
    skipped = sum(1 for k in sd if k.startswith(ENCODER_PREFIXES))
    get = Weights(sd)
    ratios = [int(r) for r in config.get("downsampling_ratios", [2, 2, 4, 4, 5])]
    has_enc, why = _encoder_convertible(sd, ratios)
    if not has_enc:
        for k in sd:
            if k.startswith(ENCODER_PREFIXES):
                get.skip(k)
    else:
        skipped = 0

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

    if layout == "original":  # hop = n_fft / 4; the rate from the config if it has one, else 50 frames/s
        hop = (get(D + "head.linear.weight").shape[0] - 2) // 4
        rate = int(config.get("output_sampling_rate" if neu else "sampling_rate", 50 * hop))
        rate_in = FBANK["rate"] if neu else rate
    elif neu:  # the encoder takes 16 kHz, the decoder writes 24 kHz (codec.encode_sample_rate)
        rate_in = int(config.get("input_sampling_rate", 16000))
        rate = int(config.get("output_sampling_rate", 24000))
        hop = math.prod(ratios) * rate // rate_in
        if hop * rate_in != math.prod(ratios) * rate:
            raise ConvertError(f"NeuCodec: {rate} / {rate_in} Hz does not give a whole decoder hop")
    else:
        rate, hop = int(config.get("sampling_rate", 16000)), math.prod(ratios)
        rate_in = rate
    head = get(D + "head.linear.weight")
    n_fft = head.shape[0] - 2
    if n_fft != 4 * hop:
        raise ConvertError(f"ISTFT head of {head.shape[0]} outputs: n_fft {n_fft}, the config's hop {hop} needs {4 * hop}")

    out.add_common(sample_rate=rate, hop_size=hop, n_q=1, codebook_size=codebook_size, codebook_dim=len(levels),
                   latent_dim=latent, channels=1, has_encoder=ENCODE_AT_PARITY and has_enc, has_decoder=True,
                   encode_sample_rate=rate_in if has_enc else None)
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

    if has_enc:
        if rate_in != FBANK["rate"]:
            raise ConvertError(f"the encoder takes {rate_in} Hz, its feature extractor's fbank {FBANK['rate']} Hz")
        write_encoder(out, get, sd, config, hidden, latent, levels, ratios, neu)
    get.check_all_used("XCodec2/NeuCodec")
    print(f"xcodec2: {config.get('model_type')}, {layout} layout, {n_layers} decoder layers; "
          + ("with the encoder" if has_enc else "decoder only")
          + (f" (skipped {skipped} encoder-side tensors: {why})" if skipped else "")
          + (f"; {len(unused)} tensors of the original no side uses, e.g. {sorted(unused)[0]}" if unused else ""),
          file=sys.stderr)


def _encoder_convertible(sd, ratios):
    """(True, "") when the checkpoint's encoder side is converted, else (False, why)."""
    if not any(k.startswith("acoustic_encoder.") for k in sd):
        return False, "no encoder side"
    if math.prod(ratios) != FBANK["stack"] * FBANK["frame_shift"]:
        return False, (f"hop {math.prod(ratios)} is not the feature extractor's "
                       f"{FBANK['stack'] * FBANK['frame_shift']} (the reference cannot encode it either)")
    return True, ""


ENCODE_AT_PARITY = True  # codec.has_encoder (measured: tests/python/test_xcodec2_encode.py)
AA_RATIO, AA_KERNEL = 2, 12  # Xcodec2AntiAliasedActivation1d's defaults, as the encoder builds it


def kaiser_sinc(cutoff, half_width, k):
    """The anti-aliasing low-pass: a kaiser-windowed sinc of k taps (even k: taps at half-integer
    offsets), normalized to unit DC gain; the kaiser beta from the transition width by Kaiser's
    attenuation formula."""
    half = k // 2
    atten = 2.285 * (half - 1) * math.pi * 4 * half_width + 7.95
    beta = 0.1102 * (atten - 8.7) if atten > 50 else (0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
                                                      if atten >= 21 else 0.0)
    t = (torch.arange(-half, half) + 0.5) if k % 2 == 0 else (torch.arange(k) - half)
    f = 2 * cutoff * torch.kaiser_window(k, beta=beta, periodic=False, dtype=torch.float32) * torch.sinc(2 * cutoff * t)
    return f / f.sum()


# The feature extractor's fbank (Xcodec2FeatureExtractor: fixed, not in the config): 25 ms frames
# every 10 ms at 16 kHz, 80 mel bins from 20 Hz to Nyquist, povey window, pre-emphasis 0.97, DC
# offset removed, input scaled by 2^15, n_fft the next power of two; frame pairs stacked.
FBANK = dict(rate=16000, frame_length=400, frame_shift=160, n_mel=80, low=20.0, preemph=0.97, scale=2.0 ** 15, stack=2)


def kaldi_mel_banks(n_mel, n_fft, rate, low, high):
    """Kaldi's triangular mel filters [n_mel, n_fft / 2 + 1] (mel = 1127 ln(1 + f / 700), evenly
    spaced between low and high, the Nyquist bin's weight 0), in f32 as Kaldi computes them."""
    mel_lo, mel_hi = 1127.0 * math.log(1.0 + low / 700.0), 1127.0 * math.log(1.0 + high / 700.0)
    step = (mel_hi - mel_lo) / (n_mel + 1)
    b = torch.arange(n_mel).unsqueeze(1)
    left, center, right = mel_lo + b * step, mel_lo + (b + 1) * step, mel_lo + (b + 2) * step
    m = (1127.0 * (1.0 + (rate / n_fft) * torch.arange(n_fft // 2) / 700.0).log()).unsqueeze(0)
    banks = torch.clamp(torch.minimum((m - left) / (center - left), (right - m) / (right - center)), min=0.0)
    return torch.nn.functional.pad(banks, (0, 1))


def fbank_basis(frame_length, n_fft, preemph, scale):
    """[2 (n_fft / 2 + 1), frame_length]: a frame -> the real and imaginary DFT of its scaled,
    DC-removed, pre-emphasized (the first sample against itself), povey-windowed samples."""
    n, t = frame_length, torch.arange(frame_length, dtype=torch.float64)
    dc = torch.eye(n, dtype=torch.float64) - 1.0 / n
    pre = torch.eye(n, dtype=torch.float64) - preemph * torch.diag(torch.ones(n - 1, dtype=torch.float64), -1)
    pre[0, 0] = 1.0 - preemph
    window = torch.hann_window(n, periodic=False, dtype=torch.float64).pow(0.85)
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64).unsqueeze(1)
    ang = 2 * math.pi * k * t / n_fft
    dft = torch.cat([ang.cos(), -ang.sin()], 0)
    return (dft * window) @ pre @ dc * scale


def write_fbank(out, prefix, pad):
    """pad: zeros the feature extractor adds each side of the (hop-padded) signal before the fbank."""
    fb = FBANK
    n_fft = 1 << (fb["frame_length"] - 1).bit_length()
    out.tensor(prefix + ".basis", fbank_basis(fb["frame_length"], n_fft, fb["preemph"], fb["scale"]))
    out.tensor(prefix + ".mel", kaldi_mel_banks(fb["n_mel"], n_fft, fb["rate"], fb["low"], fb["rate"] / 2))
    for k in ("frame_length", "frame_shift", "n_mel", "stack"):
        out.add_u32("xcodec2.fbank." + k, fb[k])
    out.add_u32("xcodec2.fbank.n_bins", n_fft // 2 + 1)
    out.add_u32("xcodec2.fbank.pad", pad)


def _snake_beta(out, get, prefix, out_prefix):
    """SnakeBeta x + 1 / (exp(beta) + 1e-9) * sin^2(exp(alpha) x) as codec_snake's alpha and beta."""
    out.tensor(out_prefix + ".alpha", get(prefix + ".act.alpha").exp())
    out.tensor(out_prefix + ".beta", (get(prefix + ".act.beta").exp() + 1e-9).reciprocal())


def _conv(out, get, prefix, out_prefix, k, stride=1, bias=True):
    w = get(prefix + ".weight")
    if w.shape[-1] != k:
        raise ConvertError(f"{prefix}: kernel {w.shape[-1]}, expected {k}")
    out.tensor(out_prefix + ".weight", cm_conv_weight(w, stride, prefix), matmul=True)
    if bias:
        out.tensor(out_prefix + ".bias", get(prefix + ".bias"))


def write_encoder(out, get, sd, config, hidden, latent, levels, ratios, neu):
    """The encoder side under enc.* (acoustic CNN), sem.* (conformer + adapter), enc.fc and
    quantizer.project_in, with the xcodec2.* keys the runtime checks them against. The feature
    extractors differ in one place: Xcodec2FeatureExtractor pads the signal by half a hop each
    side before the fbank, NeuCodecFeatureExtractor does not (its codes: one frame fewer)."""
    sc = config.get("semantic_model_config") or {}
    if not isinstance(sc, dict):
        sc = sc.to_dict()
    if sc.get("position_embeddings_type", "relative_key") != "relative_key" or sc.get("add_adapter", False) \
            or sc.get("hidden_act", "swish") not in ("swish", "silu") or sc.get("use_intermediate_ffn_before_adapter"):
        raise ConvertError("semantic_model_config: only w2v-BERT with relative_key positions, swish, no adapter")
    # acoustic CNN
    e = get("acoustic_encoder.conv1.weight").shape[0]
    if len(ratios) != vocos.count(sd, "acoustic_encoder.block."):
        raise ConvertError(f"acoustic_encoder: {len(ratios)} downsampling_ratios but "
                           f"{vocos.count(sd, 'acoustic_encoder.block.')} blocks")
    out.tensor("enc.conv1.weight", get("acoustic_encoder.conv1.weight"))  # [E, 1, 7]: codec_cm_conv1d_mono's
    out.tensor("enc.conv1.bias", get("acoustic_encoder.conv1.bias"))
    for i, s in enumerate(ratios):
        p, q = f"acoustic_encoder.block.{i}", f"enc.block.{i}"
        for j in (1, 2, 3):
            _snake_beta(out, get, f"{p}.res_unit{j}.snake1", f"{q}.res_unit{j}.snake1")
            _conv(out, get, f"{p}.res_unit{j}.conv1", f"{q}.res_unit{j}.conv1", 7)
            _snake_beta(out, get, f"{p}.res_unit{j}.snake2", f"{q}.res_unit{j}.snake2")
            _conv(out, get, f"{p}.res_unit{j}.conv2", f"{q}.res_unit{j}.conv2", 1)
        _snake_beta(out, get, f"{p}.snake1", f"{q}.snake1")
        _conv(out, get, f"{p}.conv1", f"{q}.conv1", 2 * s, s)
    _snake_beta(out, get, "acoustic_encoder.snake1", "enc.snake1")
    _conv(out, get, "acoustic_encoder.conv2", "enc.conv2", 3)
    # the anti-aliasing filters (src/blocks/aa_snake.h) as depthwise weights [K, C] for each width C:
    # the upsampler's two polyphase halves (reversed, times its ratio as Xcodec2UpSample1d scales it)
    # and the downsampler
    f = kaiser_sinc(0.5 / AA_RATIO, 0.6 / AA_RATIO, AA_KERNEL)
    up = (f * AA_RATIO).flip(0)
    for c in sorted({e << i for i in range(len(ratios) + 1)}):
        for name, taps in (("up_even", up[0::2]), ("up_odd", up[1::2]), ("down", f)):
            out.tensor(f"enc.aa.c{c}.{name}", taps.unsqueeze(1).expand(-1, c).contiguous())
    # w2v-BERT conformer
    S = "semantic_encoder."
    get.skip(S + "masked_spec_embed")
    n_sem = vocos.count(sd, S + "encoder.layers.")
    sh = get(S + "feature_projection.projection.weight").shape[0]
    feat = get(S + "feature_projection.layer_norm.weight").shape[0]
    n_head = int(sc.get("num_attention_heads", 16))
    if n_sem == 0 or sh % n_head:
        raise ConvertError(f"semantic_encoder: {n_sem} layers, hidden {sh} for {n_head} heads")
    dist = get(S + "encoder.layers.0.self_attn.distance_embedding.weight").shape[0]
    left = int(sc.get("left_max_position_embeddings", 64))
    right = int(sc.get("right_max_position_embeddings", 8))
    if dist != left + right + 1:
        raise ConvertError(f"distance_embedding of {dist} rows != {left} + {right} + 1")
    kdw = get(S + "encoder.layers.0.conv_module.depthwise_conv.weight").shape[-1]
    ffn = get(S + "encoder.layers.0.ffn1.intermediate_dense.weight").shape[0]
    out.tensor("sem.fp.norm.weight", get(S + "feature_projection.layer_norm.weight"))
    out.tensor("sem.fp.norm.bias", get(S + "feature_projection.layer_norm.bias"))
    out.tensor("sem.fp.proj.weight", get(S + "feature_projection.projection.weight"), matmul=True)
    out.tensor("sem.fp.proj.bias", get(S + "feature_projection.projection.bias"))
    norms = ("ffn1_layer_norm", "self_attn_layer_norm", "conv_module.layer_norm", "conv_module.depthwise_layer_norm",
             "ffn2_layer_norm", "final_layer_norm")
    linears = ("ffn1.intermediate_dense", "ffn1.output_dense", "ffn2.intermediate_dense", "ffn2.output_dense",
               "self_attn.linear_q", "self_attn.linear_k", "self_attn.linear_v", "self_attn.linear_out")
    for i in range(n_sem):
        p, q = f"{S}encoder.layers.{i}.", f"sem.layers.{i}."
        for n in norms:
            vocos.write_layer_norm(out, get, p + n, q + n)
        for n in linears:
            out.tensor(q + n + ".weight", get(p + n + ".weight"), matmul=True)
            out.tensor(q + n + ".bias", get(p + n + ".bias"))
        out.tensor(q + "self_attn.distance_embedding", get(p + "self_attn.distance_embedding.weight"))
        for n in ("pointwise_conv1", "pointwise_conv2"):
            out.tensor(q + f"conv_module.{n}.weight", get(p + f"conv_module.{n}.weight")[:, :, 0], matmul=True)
        out.tensor(q + "conv_module.depthwise_conv.weight",  # [C, 1, K] -> codec_cm_conv1d_dw's ggml [C, K]
                   get(p + "conv_module.depthwise_conv.weight")[:, 0, :].T.contiguous())
    for j, bias in ((1, False), (2, True), (3, True), (4, False)):
        _conv(out, get, f"semantic_adapter.conv{j}", f"sem.adapter.conv{j}", 3, bias=bias)
    # fusion and the quantizer's input projection
    fc = get("fc_encoder.weight")
    if tuple(fc.shape) != (sh + hidden, sh + hidden) or sh + hidden != latent:
        raise ConvertError(f"fc_encoder {tuple(fc.shape)}: expected ({sh + hidden}, {sh + hidden}) = quantization_dim")
    out.tensor("enc.fc.weight", fc, matmul=True)
    out.tensor("enc.fc.bias", get("fc_encoder.bias"))
    out.tensor("quantizer.project_in.weight", get("quantizer.project_in.weight"), matmul=True)
    out.tensor("quantizer.project_in.bias", get("quantizer.project_in.bias"))
    # the FSQ bound's constants, with the reference's f32 operations (Xcodec2FiniteScalarQuantization.bound)
    lv = torch.tensor(levels, dtype=torch.int32)
    scale = (lv - 1) * (1 + 1e-3) / 2
    offset = torch.where(lv % 2 == 0, 0.5, 0.0)
    out.tensor("quantizer.fsq.scale", scale)
    out.tensor("quantizer.fsq.shift", (offset / scale).atanh())
    out.tensor("quantizer.fsq.offset", offset)
    out.tensor("quantizer.fsq.basis", torch.cumprod(torch.tensor([1] + levels[:-1]), 0).float())
    write_fbank(out, "sem.fbank", 0 if neu else math.prod(ratios) // 2)
    out.add_u32("xcodec2.encoder_hidden_size", e)
    out.add_i32_array("xcodec2.downsampling_ratios", ratios)
    for k, v in dict(hidden_size=sh, num_layers=n_sem, num_heads=n_head, intermediate_size=ffn, input_dim=feat,
                     conv_kernel_size=kdw, left_max_position=left, right_max_position=right).items():
        out.add_u32("xcodec2.semantic." + k, v)
    out.writer.add_float32("xcodec2.semantic.layer_norm_eps", float(sc.get("layer_norm_eps", 1e-5)))
