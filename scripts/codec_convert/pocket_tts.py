"""Pocket TTS's audio tokenizer (transformers `PocketTTSAudioTokenizerModel`; checkpoint doc
eustlb/pocket-tts-audio-tokenizer): a Mimi with continuous latents (no quantizer).

The checkpoint is the save_pretrained layout (config.json + model.safetensors) of the model tree
encoder.{encoder_seanet, encoder_transformer, downsample}, decoder.{upsample, decoder_transformer,
decoder_seanet}, latent_proj. Its tensors are renamed to Mimi's flat layout and converted by
mimi.py's continuous variant, so both share one converter and one runtime model.
"""
from . import mimi
from .common import ConvertError

ARCH = "pocket_mimi"

# PocketTTSAudioTokenizerModel module paths -> the flat Mimi names mimi.py (and the runtime) use.
RENAMES = (
    ("encoder.encoder_seanet.layers.", "encoder.layers."),
    ("encoder.encoder_transformer.", "encoder_transformer."),
    ("encoder.downsample.", "downsample."),
    ("decoder.upsample.", "upsample."),
    ("decoder.decoder_transformer.", "decoder_transformer."),
    ("decoder.decoder_seanet.layers.", "decoder.layers."),
    ("latent_proj.", "latent_proj."),
)


def matches(config):
    return config.get("model_type") == "pocket_tts_audio_tokenizer"


def convert(config, sd, out):
    if config.get("encoder_config", {}) is None or config.get("decoder_config", {}) is None:
        raise ConvertError("a Pocket TTS tokenizer without its encoder or decoder is not supported")
    if int(config.get("audio_channels", 1)) != 1:
        raise ConvertError("only mono Pocket TTS tokenizers exist and are supported")
    flat = {}
    for k, v in sd.items():
        for a, b in RENAMES:
            if k.startswith(a):
                flat[b + k[len(a):]] = v
                break
        else:
            raise ConvertError(f"unexpected tensor '{k}' in a Pocket TTS tokenizer checkpoint")
    mimi.convert(config, flat, out, latent=True)
