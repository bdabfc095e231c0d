"""DAC (transformers `DacModel`: descript/dac_16khz, dac_24khz, dac_44khz)."""
from .common import (ConvertError, Weights, fold_weight_norm, write_cm_conv, write_cm_conv_t, write_conv_mono,
                     write_factorized_vq, write_snake)

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

    get = Weights(sd)

    # The runtime is channel-major (src/blocks/conv_cm.h); these are its weight layouts.
    def conv(prefix, stride=1):
        write_cm_conv(out, get, prefix, stride)

    def conv_mono(prefix):
        write_conv_mono(out, get, prefix)

    def snake(prefix):
        write_snake(out, get, prefix)

    def res_unit(prefix):
        snake(prefix + ".snake1")
        conv(prefix + ".conv1")
        snake(prefix + ".snake2")
        conv(prefix + ".conv2")

    conv_mono("encoder.conv1")
    for i in range(n_blocks):
        p = f"encoder.block.{i}"
        for r in (1, 2, 3):
            res_unit(f"{p}.res_unit{r}")
        snake(p + ".snake1")
        conv(p + ".conv1", down[i])
    snake("encoder.snake1")
    conv("encoder.conv2")

    for q in range(n_q):
        write_factorized_vq(out, get, f"quantizer.quantizers.{q}", codebook_size, codebook_dim)

    conv("decoder.conv1")
    for i in range(n_blocks):
        p = f"decoder.block.{i}"
        snake(p + ".snake1")
        write_cm_conv_t(out, get, p + ".conv_t1", up[i])
        for r in (1, 2, 3):
            res_unit(f"{p}.res_unit{r}")
    snake("decoder.snake1")
    conv("decoder.conv2")

    get.check_all_used("DAC")
