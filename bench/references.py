"""How to load, encode and decode each architecture's PyTorch reference (numpy in/out). `venv` names
the reference venv a reference runs in (None: the main one; see tests/fixtures/ref_env.py):
bench/torch_runner.py is started with that venv's python, so imports stay inside load()."""
import importlib.util
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def _fixture(name, on_path=False):
    """A tests/fixtures module by file (the reference scripts are not on sys.path: vocos_ref keeps
    its directory's fixture modules from shadowing the installed soprano package). on_path: a
    main-venv fixture that imports its siblings (model_files) needs the directory on sys.path."""
    if on_path and FIXTURES not in sys.path:
        sys.path.insert(0, FIXTURES)
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(FIXTURES, name + ".py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def _main_venv_loader(fn):
    return staticmethod(lambda ckpt: getattr(_fixture("make_checkpoint"), fn)(ckpt))


class _Dac:
    venv = None
    load = _main_venv_loader("load_dac_reference")

    @staticmethod
    def encode(model, x):
        return model.encode(torch.from_numpy(x)[None, None]).audio_codes[0].numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        return model.decode(audio_codes=torch.from_numpy(codes.astype(np.int64))[None]).audio_values[0].numpy()


class _Mimi:
    venv = None
    load = _main_venv_loader("load_mimi_reference")

    @staticmethod
    def encode(model, x):
        return model.encode(torch.from_numpy(x)[None, None]).audio_codes[0].numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        return model.decode(torch.from_numpy(codes.astype(np.int64))[None]).audio_values[0, 0].numpy()


class _Snac:
    """Multi-rate codes: a list of 1-D int32 arrays, one per level. The decoder's noise blocks are
    run with zero noise, as codec.cpp does by default (see tests/python/test_snac_parity.py)."""
    venv = None
    load = _main_venv_loader("load_snac_reference")

    @staticmethod
    def encode(model, x):
        return [c[0].numpy().astype(np.int32) for c in model.encode(torch.from_numpy(x)[None, None])]

    @staticmethod
    def decode(model, codes):
        randn = torch.randn
        torch.randn = lambda *shape, **kw: torch.zeros(*shape, dtype=kw.get("dtype"), device=kw.get("device"))
        try:
            return model.decode([torch.from_numpy(c.astype(np.int64))[None] for c in codes])[0, 0].numpy()
        finally:
            torch.randn = randn


class Chunked:
    """EnCodec 48 kHz's encode: the raw output (what its decode takes) and, as ours gives them,
    the codes concatenated over the chunks [n_q, F] (the last chunk's padding dropped) and the
    per-chunk scales."""
    def __init__(self, r):
        self.raw = r
        chunks = [c for c in r.audio_codes[:, 0].numpy().astype(np.int32)]
        if r.last_frame_pad_length:
            chunks[-1] = chunks[-1][:, :-r.last_frame_pad_length]
        self.codes = np.concatenate(chunks, 1)
        self.scales = np.array([s.item() for s in r.audio_scales], np.float32)


class _Encodec:
    """At its highest bandwidth (all codebooks), as codec-bench runs it: 24 kHz mono, or 48 kHz
    stereo ([n, 2] in and out) in 1 s chunks with scales."""
    venv = None
    load = _main_venv_loader("load_encodec_reference")

    @staticmethod
    def encode(model, x):
        t = torch.from_numpy(np.ascontiguousarray(x.T))[None] if x.ndim == 2 else torch.from_numpy(x)[None, None]
        r = model.encode(t, bandwidth=model.config.target_bandwidths[-1])
        if r.audio_scales[0] is not None:
            return Chunked(r)
        return r.audio_codes[0, 0].numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        if isinstance(codes, Chunked):
            r = codes.raw
            a = model.decode(r.audio_codes, r.audio_scales, last_frame_pad_length=r.last_frame_pad_length).audio_values[0]
            return a.numpy().T  # [n, channels]
        c = torch.from_numpy(codes.astype(np.int64))[None, None]
        return model.decode(c, [None]).audio_values[0, 0].numpy()


class _Qwen3Tokenizer:
    """qwen-tts 0.1.1's public encode (16 codebooks) and chunked decode."""
    venv = "qwen"
    load = staticmethod(lambda ckpt: _fixture("qwen3_tokenizer_ref").load(ckpt))

    @staticmethod
    def encode(model, x):
        t = torch.from_numpy(x)[None]
        codes = model.encode(t, padding_mask=torch.ones_like(t, dtype=torch.long)).audio_codes[0]
        return codes.t().numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        return model.decode(torch.from_numpy(codes.astype(np.int64)).t()[None]).audio_values[0].numpy()


class _WavTokenizer:
    """The original WavTokenizer (outetts 0.4.4's vendored copy): encode_infer, features, decode."""
    venv = "vocos"
    load = staticmethod(lambda ckpt: _fixture("vocos_ref").load_wavtokenizer(ckpt))

    @staticmethod
    def encode(model, x):
        _, codes = model.encode_infer(torch.from_numpy(x)[None], bandwidth_id=torch.tensor([0]))
        return codes[:, 0].numpy().astype(np.int32)

    @staticmethod
    def decode(model, codes):
        feats = model.codes_to_features(torch.from_numpy(codes.astype(np.int64)))
        return model.decode(feats, bandwidth_id=torch.tensor([0]))[0].numpy()


class _Soprano:
    """SopranoDecoder (soprano-tts 0.2.0): decoder only. `encode` stands in for the TTS model: the
    random latents codec-bench decodes (a frame per hop), so both sides decode the same shape."""
    venv = "vocos"
    random_latents = True  # `encode` is not the model's: no encode timing or parity
    HOP = 2048  # samples per latent frame (head hop 512 x upscale 4)

    @staticmethod
    def load(ckpt):
        m = _fixture("vocos_ref").soprano_decoder_class()()
        m.load_state_dict(torch.load(os.path.join(ckpt, "decoder.pth"), map_location="cpu", weights_only=True))
        return m.eval()

    @staticmethod
    def encode(model, x):
        frames = max(1, -(-len(x) // _Soprano.HOP))
        dim = next(p for p in model.parameters() if p.dim() == 3).shape[1]  # the first conv's input channels
        return np.random.default_rng(1234).standard_normal((dim, frames)).astype(np.float32)

    @staticmethod
    def decode(model, latents):
        return model(torch.from_numpy(latents)[None])[0].numpy()


class _XCodec2:
    """XCodec2 / NeuCodec (transformers' Xcodec2Model / NeuCodecModel decoder, tests/fixtures/xcodec2.py):
    decode only here. Like Soprano's, `encode` gives random latents (a frame per hop of the input),
    the shape codec-bench decodes."""
    venv = None
    random_latents = True

    load = staticmethod(lambda ckpt: _fixture("xcodec2", on_path=True).load_reference(ckpt))

    @staticmethod
    def encode(model, x):
        cfg = model.acoustic_decoder.head  # its hop is the decoder's (NeuCodec: at 24 kHz)
        frames = max(1, -(-len(x) // cfg.hop_length))
        dim = model.quantizer.project_out.out_features
        return np.random.default_rng(1234).standard_normal((dim, frames)).astype(np.float32)

    @staticmethod
    def decode(model, latents):
        return model.decode_latent(torch.from_numpy(latents)[None]).numpy()


class _PocketMimi:
    """Pocket TTS's Mimi (transformers PocketTTSAudioTokenizerModel): continuous latents both ways."""
    venv = None

    load = staticmethod(lambda ckpt: _fixture("pocket_tts", on_path=True).load_reference(ckpt))

    @staticmethod
    def encode(model, x):
        return _fixture("pocket_tts").ref_encode(model, x)

    @staticmethod
    def decode(model, latents):
        return _fixture("pocket_tts").ref_decode(model, latents)


REFERENCES = {"dac": _Dac, "mimi": _Mimi, "snac": _Snac, "encodec": _Encodec,
              "qwen3_tts_tokenizer": _Qwen3Tokenizer, "wavtokenizer": _WavTokenizer, "soprano": _Soprano,
              "xcodec2": _XCodec2, "pocket_mimi": _PocketMimi}
