"""SNAC 24/32/44 kHz (+ tiny): our encode/decode against the `snac` package (seeded random weights
at the published configs, the published on-disk layout), compared as arrays.

The reference decoder's noise blocks draw torch.randn; the tests replace it with zeros during
the reference call (the package is not edited), which is what our decode does by default."""
import contextlib
import math
import os

import numpy as np
import pytest
import torch

import codec_cpp
from conftest import make_model, record, signals, snr_db
from make_checkpoint import load_snac_reference

VARIANTS = ["24khz", "32khz", "44khz"]
CODE_RATE_FLOOR = 0.995       # per level, the floor
DECODE_SNR_FLOOR = 50.0       # dB, the floor
# Reduced-precision GGUFs (the converter's --outtype): documented floors, asserted.
# dB; f16 weights and products through 4 decoder blocks
REDUCED_SNR_FLOOR = {"f16": 30.0, "q8_0": 17.0}  # dB (q8_0 measured 20-33 dB: ggml quantizes the activations to 8 bits too)
REDUCED_CODE_RATE_FLOOR = {"f16": 0.85, "q8_0": 0.35}  # per level: f16 rounding moves near-tie codes; finer levels follow
SECONDS = 3.0                 # speech clip: the reference takes ~0.3-1 s per second of audio on 2 threads
_cache = {}


@contextlib.contextmanager
def zero_noise():
    """snac.layers.NoiseBlock draws torch.randn((B, 1, T)); zeros make it the identity."""
    randn = torch.randn
    torch.randn = lambda *shape, **kw: torch.zeros(*shape, dtype=kw.get("dtype"), device=kw.get("device"))
    try:
        yield
    finally:
        torch.randn = randn


def ref_encode(ref, x):
    with torch.no_grad():
        return [c[0].numpy() for c in ref.encode(torch.from_numpy(x)[None, None])]


def ref_decode(ref, codes):
    with torch.no_grad(), zero_noise():
        return ref.decode([torch.from_numpy(c)[None].long() for c in codes])[0, 0].numpy()


_decoded = {}


def ref_decode_cached(variant, signal):
    """The reference's decode of its own codes for `signal` (shared by several tests)."""
    if (variant, signal) not in _decoded:
        paths, ref, model, sig, ref_codes = setup(variant)
        _decoded[variant, signal] = ref_decode(ref, ref_codes[signal])
    return _decoded[variant, signal]


def pad_unit(ref):
    return ref.hop_length * math.lcm(ref.vq_strides[0], ref.attn_window_size or 1)


def setup(variant):
    if variant not in _cache:
        paths = make_model("snac", variant)
        ref = load_snac_reference(paths["ckpt"])
        model = codec_cpp.Model(paths["f32"], n_threads=2)
        rate, unit = model.sample_rate, pad_unit(ref)
        sig = signals(rate, model.hop_size)
        sig["speech"] = sig["speech"][: int(SECONDS * rate)]
        sig["padded"] = sig["noise"][: unit + 123]           # needs the padding rule: 2 units
        sig["one_sample"] = sig["noise"][:1]                  # padded to one whole unit
        ref_codes = {k: ref_encode(ref, x) for k, x in sig.items()}
        _cache[variant] = (paths, ref, model, sig, ref_codes)
    return _cache[variant]


def check_codes(tag, ours, rc, diverse):
    assert isinstance(ours, list) and len(ours) == len(rc)
    assert [len(o) for o in ours] == [len(r) for r in rc]
    rates = [float((o == r).mean()) for o, r in zip(ours, rc)]
    print(f"{tag} per-level equality: {np.round(rates, 4).tolist()}")
    for q, r in enumerate(rates):
        record(tag, f"codes equal level {q}", r)
    assert min(rates) >= CODE_RATE_FLOOR
    if diverse:  # every level must carry information, or the test proves little
        for q, r in enumerate(rc):
            assert len(np.unique(r)) > min(4, len(r) // 4), f"degenerate reference codes at level {q}"
    return rates


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("signal", ["speech", "noise", "silence", "odd_length", "padded", "one_sample"])
def test_encode(variant, signal):
    paths, ref, model, sig, ref_codes = setup(variant)
    x = sig[signal]
    rc = ref_codes[signal]
    frames = math.ceil(len(x) / pad_unit(ref)) * pad_unit(ref) // model.hop_size  # the padding rule
    assert [len(r) for r in rc] == [frames // s for s in ref.vq_strides]
    check_codes(f"snac-{variant} encode {signal}", model.encode(x), rc, signal in ("speech", "noise"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_fewer_levels(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    for n_q in range(1, model.n_q):
        ours = model.encode(sig["speech"], n_q=n_q)
        assert isinstance(ours, list) and [len(o) for o in ours] == [len(r) for r in ref_codes["speech"][:n_q]]
        assert all((o == r).mean() >= CODE_RATE_FLOOR for o, r in zip(ours, ref_codes["speech"]))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("signal", ["speech", "padded"])
def test_decode_reference_codes(variant, signal):
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = ref_codes[signal]
    ra = ref_decode_cached(variant, signal)
    ours = model.decode(codes)
    assert ours.shape == ra.shape == (len(codes[-1]) * ref.vq_strides[-1] * model.hop_size,)  # the padded length
    snr = snr_db(ra, ours)
    record(f"snac-{variant} decode {signal}", "SNR dB", snr)
    record(f"snac-{variant} decode {signal}", "max abs err", float(np.abs(ours - ra).max()))
    assert np.std(ra) > 1e-3, "silent reference output: the test would prove nothing"
    assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_latent(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = [torch.from_numpy(c)[None].long() for c in ref_codes["speech"]]
    with torch.no_grad():
        z = ref.quantizer.from_codes(codes)  # SNAC.decode is decoder(quantizer.from_codes(codes))
    snr = snr_db(ref_decode_cached(variant, "speech"), model.decode_latent(z[0].numpy()))
    record(f"snac-{variant} decode_latent", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("variant", ["32khz", "44khz"])
def test_long_input(variant):
    """>= 20 s: many attention windows (32 frames = 12288 samples each) in encoder and decoder."""
    paths, ref, model, sig, ref_codes = setup(variant)
    n = int(20.5 * model.sample_rate)
    x = np.tile(sig["speech"], n // len(sig["speech"]) + 1)[:n]
    x = (x + 0.01 * np.random.default_rng(7).standard_normal(n)).astype(np.float32)
    rc = ref_encode(ref, x)
    assert len(rc[-1]) // ref.attn_window_size >= 50
    check_codes(f"snac-{variant} encode long", model.encode(x), rc, True)
    ra = ref_decode(ref, rc)
    snr = snr_db(ra, model.decode(rc))
    record(f"snac-{variant} decode long", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("variant", VARIANTS)
def test_codes_shape_is_enforced(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = ref_codes["padded"]
    with pytest.raises(codec_cpp.CodecError, match="codec_decode_codes"):
        model.decode(np.zeros((model.n_q, len(codes[-1])), dtype=np.int32))  # flat [n_q, n_frames]
    bad = [c.copy() for c in codes]
    bad[0] = bad[0][:-1]
    with pytest.raises(codec_cpp.CodecError, match="level 1 has"):
        model.decode(bad)
    bad = [c.copy() for c in codes]
    bad[-1] = np.append(bad[-1], 0)
    with pytest.raises(codec_cpp.CodecError, match=f"level {model.n_q - 1} has"):
        model.decode(bad)
    bad = [c.copy() for c in codes]
    bad[1][0] = model.codebook_size
    with pytest.raises(codec_cpp.CodecError, match="out of range"):
        model.decode(bad)


@pytest.mark.parametrize("wtype", ["f16", "q8_0"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_reduced_precision_documented_floor(variant, wtype):
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = ref_codes["speech"]
    with codec_cpp.Model(paths[wtype], n_threads=2) as m16:
        snr = snr_db(ref_decode_cached(variant, "speech"), m16.decode(codes))
        rates = [float((o == r).mean()) for o, r in zip(m16.encode(sig["speech"]), codes)]
    record(f"snac-{variant} {wtype} decode", "SNR dB", snr)
    record(f"snac-{variant} {wtype} encode", "worst level", min(rates))
    assert snr >= REDUCED_SNR_FLOOR[wtype]
    assert min(rates) >= REDUCED_CODE_RATE_FLOOR[wtype]


def test_tiny_variant_parity():
    """The tiny variant (attention with one head, odd strides) used by the unit tests."""
    paths = make_model("snac", "tiny")
    ref = load_snac_reference(paths["ckpt"])
    with codec_cpp.Model(paths["f32"], n_threads=2) as model:
        x = (np.random.default_rng(3).standard_normal(model.sample_rate) * 0.3).astype(np.float32)
        rc = ref_encode(ref, x)
        check_codes("snac-tiny encode", model.encode(x), rc, True)
        snr = snr_db(ref_decode(ref, rc), model.decode(rc))
    record("snac-tiny decode", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


def test_converter_checks_config_against_weights(tmp_path):
    import json
    import shutil

    import convert
    from codec_convert.common import ConvertError
    paths = make_model("snac", "tiny")
    with open(os.path.join(paths["ckpt"], "config.json")) as f:
        cfg = json.load(f)
    cases = [({"encoder_rates": [3, 2]}, "encoder_rates"), ({"attn_window_size": None}, "attention"),
             ({"latent_dim": 32}, "latent_dim"), ({"depthwise": False}, "depthwise")]
    for i, (change, needle) in enumerate(cases):
        d = tmp_path / f"case{i}"
        shutil.copytree(paths["ckpt"], d)
        with open(d / "config.json", "w") as f:
            json.dump({**cfg, **change}, f)
        with pytest.raises(ConvertError, match=needle):
            convert.convert(str(d), str(tmp_path / f"case{i}.gguf"))
        assert not os.path.exists(tmp_path / f"case{i}.gguf")
    # A tensor the converter does not know is an error, not silently dropped.
    d = tmp_path / "extra"
    shutil.copytree(paths["ckpt"], d)
    sd = torch.load(d / "pytorch_model.bin", weights_only=True)
    sd["decoder.model.9.weight"] = torch.zeros(1)
    torch.save(sd, d / "pytorch_model.bin")
    with pytest.raises(ConvertError, match="not converted"):
        convert.convert(str(d), str(tmp_path / "extra.gguf"))
