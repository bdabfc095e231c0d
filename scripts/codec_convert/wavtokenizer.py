"""WavTokenizer (OuteTTS 0.2/0.3; the original repository, vendored by outetts 0.4.4 under
outetts/wav_tokenizer/): the training YAML (model.init_args.{feature_extractor, backbone, head},
as WavTokenizer.from_hparams0802 reads it) plus the Lightning .ckpt whose "state_dict" holds the
generator and everything training needed.

Converted: feature_extractor.encodec.encoder (SEANet + LSTM, weight norm folded), the one
codebook, backbone, head. Skipped (listed on stderr with their tensor counts): the
discriminators (multiperioddisc, multiresddisc, dac, dacdiscriminator), the mel loss buffers
(melspec_loss), the SEANet decoder of the EnCodec feature extractor (feature_extractor.encodec
.decoder: WavTokenizer never runs it) and the codebook's k-means/EMA training state.
"""
import glob
import math
import os
import sys

from .common import ConvertError, Weights, cm_conv_weight, conv_in_weight, fold_weight_norm
from . import vocos

ARCH = "wavtokenizer"

# EncodecFeatures builds its SEANetEncoder with these fixed arguments (only the ratios come
# from the YAML's `dowmsamples`).
SEANET = dict(n_filters=32, n_residual_layers=1, dilation_base=2, kernel_size=7, last_kernel_size=7,
              residual_kernel_size=3, compress=2, lstm=2, dimension=512)
SKIPPED_PREFIXES = ("multiperioddisc.", "multiresddisc.", "dac.", "dacdiscriminator.", "melspec_loss.",
                    "feature_extractor.encodec.decoder.")
FE = "feature_extractor.encodec."


def matches(config):
    return False  # never from a config.json: see detect_dir


def detect_dir(input_dir):
    return (not os.path.isfile(os.path.join(input_dir, "config.json")) and bool(glob.glob(os.path.join(input_dir, "*.yaml")))
            and bool(glob.glob(os.path.join(input_dir, "*.ckpt"))))


def _one(input_dir, pattern):
    files = sorted(glob.glob(os.path.join(input_dir, pattern)))
    if len(files) != 1:
        raise ConvertError(f"{input_dir}: expected one {pattern} file, found {len(files)}")
    return files[0]


def load_dir(input_dir):
    """(config dict from the YAML, float32 state dict from the .ckpt's "state_dict")."""
    import torch
    import yaml
    with open(_one(input_dir, "*.yaml")) as f:
        config = yaml.safe_load(f)
    path = _one(input_dir, "*.ckpt")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file here
        raise ConvertError(f"{path}: not a checkpoint torch.load(weights_only=True) can read ({type(e).__name__}: {e})")
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("state_dict"), dict):
        raise ConvertError(f"{path}: no 'state_dict' (not a Lightning checkpoint)")
    sd = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items() if hasattr(v, "is_floating_point")}
    return config, sd


def _section(config, name, class_path):
    try:
        s = config["model"]["init_args"][name]
    except (KeyError, TypeError):
        raise ConvertError(f"YAML has no model.init_args.{name}: not a WavTokenizer training config")
    if s.get("class_path") not in class_path:
        raise ConvertError(f"YAML {name} '{s.get('class_path')}' is not supported (supported: {', '.join(class_path)})")
    return s.get("init_args") or {}


def convert(config, sd, out):
    fe = _section(config, "feature_extractor", ["decoder.feature_extractors.EncodecFeatures"])
    bb = _section(config, "backbone", ["decoder.models.VocosBackbone"])
    hd = _section(config, "head", ["decoder.heads.ISTFTHead"])
    if fe.get("encodec_model", "encodec_24khz") != "encodec_24khz" or int(fe.get("num_quantizers", 1)) != 1:
        raise ConvertError("feature_extractor: only encodec_24khz with num_quantizers 1 (what inference uses) is supported")
    padding = hd.get("padding", "same")
    if padding not in ("same", "center"):
        raise ConvertError(f"head padding '{padding}' is not supported (same or center)")

    skipped = {}
    for k in sd:
        for p in SKIPPED_PREFIXES:
            if k.startswith(p):
                skipped[p] = skipped.get(p, 0) + 1
    sd = fold_weight_norm({k: v for k, v in sd.items() if not k.startswith(SKIPPED_PREFIXES)})
    get = Weights(sd)

    ratios = [int(r) for r in fe.get("dowmsamples", [6, 5, 5, 4])]
    hop = math.prod(ratios)
    n_fft, head_hop = int(hd["n_fft"]), int(hd["hop_length"])
    dim, inter, n_layers = int(bb["dim"]), int(bb["intermediate_dim"]), int(bb["num_layers"])
    n_ada = bb.get("adanorm_num_embeddings")
    if not n_ada:
        raise ConvertError("backbone without adanorm_num_embeddings: WavTokenizer's backbone is conditional")
    if int(hd.get("dim", dim)) != dim:
        raise ConvertError("head dim != backbone dim")
    cb = get(FE + "quantizer.vq.layers.0._codebook.embed")
    codebook_size, latent = cb.shape
    if codebook_size != int(fe.get("vq_bins", codebook_size)) or latent != SEANET["dimension"]:
        raise ConvertError(f"codebook {tuple(cb.shape)} disagrees with vq_bins {fe.get('vq_bins')} / dimension 512")
    if any(k.startswith(FE + "quantizer.vq.layers.1.") for k in sd):
        raise ConvertError("more than one codebook: WavTokenizer inference uses n_q = 1")
    if int(bb.get("input_channels", latent)) != latent:
        raise ConvertError("backbone input_channels != the codebook dimension")

    out.add_common(sample_rate=24000, hop_size=hop, n_q=1, codebook_size=codebook_size, codebook_dim=latent,
                   latent_dim=latent, channels=1, has_encoder=True, has_decoder=True)
    w = out.writer
    out.add_u32("wavtokenizer.num_filters", SEANET["n_filters"])
    out.add_i32_array("wavtokenizer.upsampling_ratios", ratios)  # decoder order, as SEANet's `ratios`
    out.add_u32("wavtokenizer.num_residual_layers", SEANET["n_residual_layers"])
    out.add_u32("wavtokenizer.dilation_growth_rate", SEANET["dilation_base"])
    out.add_u32("wavtokenizer.kernel_size", SEANET["kernel_size"])
    out.add_u32("wavtokenizer.last_kernel_size", SEANET["last_kernel_size"])
    out.add_u32("wavtokenizer.residual_kernel_size", SEANET["residual_kernel_size"])
    out.add_u32("wavtokenizer.compress", SEANET["compress"])
    out.add_u32("wavtokenizer.num_lstm_layers", SEANET["lstm"])
    out.add_u32("wavtokenizer.dim", dim)
    out.add_u32("wavtokenizer.intermediate_dim", inter)
    out.add_u32("wavtokenizer.num_layers", n_layers)
    out.add_u32("wavtokenizer.adanorm_num_embeddings", int(n_ada))
    out.add_u32("wavtokenizer.bandwidth_id", 0)  # what OuteTTS and the reference's inference pass
    out.add_u32("wavtokenizer.pos_net_groups", 32)
    out.add_u32("wavtokenizer.n_fft", n_fft)
    out.add_u32("wavtokenizer.head_hop", head_hop)
    w.add_string("wavtokenizer.padding", padding)

    # ---- encoder: original EnCodec module names (model.N.conv.conv) -> seanet.h's (N.conv)
    E = FE + "encoder.model."

    def conv(i, sub="", stride=1, first=False):
        src = f"{E}{i}{sub}.conv.conv"
        dst = f"enc.{i}{sub}.conv"
        wt = get(src + ".weight")
        if first:
            out.tensor(dst + ".weight", conv_in_weight(wt))
        else:
            out.tensor(dst + ".weight", cm_conv_weight(wt, stride, src), matmul=True)
        out.tensor(dst + ".bias", get(src + ".bias"))

    import torch
    conv(0, first=True)
    idx = 1
    for r in reversed(ratios):
        conv(idx, ".block.1")
        conv(idx, ".block.3")
        conv(idx, ".shortcut")
        idx += 2  # resblock, ELU
        k = get(f"{E}{idx}.conv.conv.weight").shape[-1]
        if k != 2 * r:
            raise ConvertError(f"encoder downsampling conv {idx} has kernel {k}; ratio {r} implies {2 * r}")
        conv(idx, stride=r)
        idx += 1
    for layer in range(SEANET["lstm"]):
        def gates(t):  # PyTorch (i, f, g, o) -> (i, f, o, g), see src/blocks/lstm.h
            i, f, g, o = t.chunk(4, 0)
            return torch.cat([i, f, o, g], 0)
        p = f"{E}{idx}.lstm."
        out.tensor(f"enc.{idx}.lstm.weight_ih_l{layer}", gates(get(f"{p}weight_ih_l{layer}")), matmul=True)
        out.tensor(f"enc.{idx}.lstm.weight_hh_l{layer}", gates(get(f"{p}weight_hh_l{layer}")), matmul=True)
        out.tensor(f"enc.{idx}.lstm.bias_l{layer}", gates(get(f"{p}bias_ih_l{layer}") + get(f"{p}bias_hh_l{layer}")))
    conv(idx + 2)

    Q = FE + "quantizer.vq.layers.0._codebook."
    out.tensor("vq.embed", cb)
    out.tensor("vq.embed_sq", cb.t().pow(2).sum(0))  # as EuclideanCodebook.quantize
    for buf in ("inited", "cluster_size", "embed_avg"):
        get.skip(Q + buf)

    # ---- decoder
    ek = vocos.write_conv(out, get, "backbone.embed", "backbone.embed")
    out.add_u32("wavtokenizer.embed_kernel", ek)
    for i in (0, 1, 3, 4):
        vocos.write_gn_resblock(out, get, f"backbone.pos_net.{i}", f"backbone.pos_net.{i}")
    p = "backbone.pos_net.2"
    vocos.write_layer_norm(out, get, p + ".norm", p + ".norm")
    for lin in ("q", "k", "v", "proj_out"):
        out.tensor(f"{p}.{lin}.weight", get(f"{p}.{lin}.weight")[:, :, 0], matmul=True)
        out.tensor(f"{p}.{lin}.bias", get(f"{p}.{lin}.bias"))
    vocos.write_layer_norm(out, get, "backbone.pos_net.5", "backbone.pos_net.5")
    vocos.write_ada_norm(out, get, "backbone.norm", "backbone.norm")
    if vocos.count(sd, "backbone.convnext.") != n_layers:
        raise ConvertError(f"the checkpoint has {vocos.count(sd, 'backbone.convnext.')} ConvNeXt blocks, the YAML {n_layers}")
    dws = {vocos.write_convnext(out, get, f"backbone.convnext.{i}", f"backbone.convnext.{i}", True) for i in range(n_layers)}
    if len(dws) != 1:
        raise ConvertError("ConvNeXt blocks with different kernel sizes")
    out.add_u32("wavtokenizer.dw_kernel", dws.pop())
    vocos.write_layer_norm(out, get, "backbone.final_layer_norm", "backbone.final_layer_norm")
    vocos.write_head(out, get, "head", "head", n_fft, head_hop, padding == "center", False)

    get.check_all_used("WavTokenizer")
    if skipped:
        print("wavtokenizer: skipped " + ", ".join(f"{p.rstrip('.')} ({n} tensors)" for p, n in sorted(skipped.items())),
              file=sys.stderr)
