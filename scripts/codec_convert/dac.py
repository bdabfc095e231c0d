"""DAC (transformers `DacModel`: descript/dac_16khz, dac_24khz, dac_44khz)."""
import torch
import torch.nn.functional as F

from .common import ConvertError, fold_weight_norm

ARCH = "dac"


def matches(config):
    return config.get("model_type") == "dac"


def _strides(sd, fmt, n, what):
    """Strides from the kernels (kernel = 2 * stride): the architecture, not config fields."""
    out = []
    for i in range(n):
        key = fmt.format(i)
        if key not in sd:
            raise ConvertError(f"missing tensor '{key}'")
        k = sd[key].shape[-1]
        if k % 2:
            raise ConvertError(f"'{key}' has odd kernel {k}; DAC {what} kernels are 2 * stride")
        out.append(k // 2)
    return out


def convert(config, sd, out):
    sd = fold_weight_norm(sd)
    n_blocks = len(config["downsampling_ratios"])
    down = _strides(sd, "encoder.block.{}.conv1.weight", n_blocks, "encoder")
    up = _strides(sd, "decoder.block.{}.conv_t1.weight", n_blocks, "decoder")
    if list(down) != list(config["downsampling_ratios"]):
        raise ConvertError(f"config downsampling_ratios {config['downsampling_ratios']} disagree with the weights {down}")
    enc_hidden = sd["encoder.conv1.weight"].shape[0]
    dec_hidden = sd["decoder.conv1.weight"].shape[0]
    latent = sd["encoder.conv2.weight"].shape[0]
    n_q = sum(1 for k in sd if k.startswith("quantizer.quantizers.") and k.endswith(".codebook.weight"))
    codebook_size, codebook_dim = sd["quantizer.quantizers.0.codebook.weight"].shape
    hop = 1
    for s in down:
        hop *= s
    if config.get("hop_length") not in (None, hop):
        print(f"note: config hop_length {config['hop_length']} is stale; the encoder's stride is {hop}")
    if n_q != config.get("n_codebooks", n_q):
        raise ConvertError(f"config n_codebooks {config['n_codebooks']} but the checkpoint has {n_q} codebooks")

    out.add_common(sample_rate=int(config["sampling_rate"]), hop_size=hop, n_q=n_q, codebook_size=codebook_size,
                   codebook_dim=codebook_dim, latent_dim=latent, channels=1, has_encoder=True, has_decoder=True)
    out.add_u32("dac.encoder_hidden_size", enc_hidden)
    out.add_u32("dac.decoder_hidden_size", dec_hidden)
    out.add_i32_array("dac.downsampling_ratios", down)
    out.add_i32_array("dac.upsampling_ratios", up)

    used = set()

    def get(name):
        if name not in sd:
            raise ConvertError(f"missing tensor '{name}'")
        used.add(name)
        return sd[name]

    def conv(prefix):
        out.tensor(prefix + ".weight", get(prefix + ".weight"), matmul=True)  # [out, in, k] = ggml [k, in, out]
        out.tensor(prefix + ".bias", get(prefix + ".bias").reshape(-1, 1))

    def snake(prefix):
        alpha = get(prefix + ".alpha").reshape(-1, 1)
        out.tensor(prefix + ".alpha", alpha)
        out.tensor(prefix + ".beta", (alpha + 1e-9).reciprocal())  # as Snake1d computes it

    def res_unit(prefix):
        snake(prefix + ".snake1")
        conv(prefix + ".conv1")
        snake(prefix + ".snake2")
        conv(prefix + ".conv2")

    conv("encoder.conv1")
    for i in range(n_blocks):
        p = f"encoder.block.{i}"
        for r in (1, 2, 3):
            res_unit(f"{p}.res_unit{r}")
        snake(p + ".snake1")
        conv(p + ".conv1")
    snake("encoder.snake1")
    conv("encoder.conv2")

    for q in range(n_q):
        p = f"quantizer.quantizers.{q}"
        out.tensor(p + ".in_proj.weight", get(p + ".in_proj.weight")[:, :, 0], matmul=True)    # ggml [C, D]
        out.tensor(p + ".in_proj.bias", get(p + ".in_proj.bias"))
        out.tensor(p + ".out_proj.weight", get(p + ".out_proj.weight")[:, :, 0], matmul=True)  # ggml [D, C]
        out.tensor(p + ".out_proj.bias", get(p + ".out_proj.bias"))
        cb = get(p + ".codebook.weight")
        cbn = F.normalize(cb)
        out.tensor(p + ".codebook.weight", cb)
        out.tensor(p + ".codebook.normalized", cbn)
        out.tensor(p + ".codebook.normalized_sq", cbn.pow(2).sum(1))

    conv("decoder.conv1")
    for i in range(n_blocks):
        p = f"decoder.block.{i}"
        snake(p + ".snake1")
        # ConvTranspose1d (in, out, k) -> (out, k, in) = ggml [in, k, out]: the runtime's GEMM layout
        out.tensor(p + ".conv_t1.weight", get(p + ".conv_t1.weight").permute(1, 2, 0), matmul=True)
        out.tensor(p + ".conv_t1.bias", get(p + ".conv_t1.bias").reshape(-1, 1))
        for r in (1, 2, 3):
            res_unit(f"{p}.res_unit{r}")
    snake("decoder.snake1")
    conv("decoder.conv2")

    unused = sorted(set(sd) - used)
    if unused:
        raise ConvertError(f"{len(unused)} checkpoint tensors not converted, e.g. {unused[:3]}: unknown DAC variant?")
