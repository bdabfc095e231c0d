"""DAC 16/24/44 kHz: our encode/decode against transformers' DacModel (seeded random weights,
real published configs), compared as float arrays."""
import numpy as np
import pytest
import torch

import codec_cpp
from conftest import make_model, record, signals, snr_db
from make_checkpoint import load_dac_reference

VARIANTS = ["16khz", "24khz", "44khz"]
# Reduced-precision GGUFs (the converter's --outtype): documented floors, asserted.
# dB; f16 weights + f16 im2col (measured ~43 dB on 16 kHz)
REDUCED_SNR_FLOOR = {"f16": 30.0, "q8_0": 17.0}  # dB (q8_0 measured 20-33 dB: ggml quantizes the activations to 8 bits too)
REDUCED_CODE_RATE_FLOOR = {"f16": 0.90, "q8_0": 0.35}  # f16 rounding moves some near-tie codes; later quantizers follow
_cache = {}


def setup(variant):
    if variant not in _cache:
        paths = make_model("dac", variant)
        ref = load_dac_reference(paths["ckpt"])
        model = codec_cpp.Model(paths["f32"], n_threads=2)
        sig = signals(model.sample_rate, model.hop_size)
        with torch.no_grad():
            ref_codes = {k: ref.encode(torch.from_numpy(x)[None, None]).audio_codes[0].numpy() for k, x in sig.items()}
        _cache[variant] = (paths, ref, model, sig, ref_codes)
    return _cache[variant]


def nq_values(n_q):
    return sorted({1, n_q // 2, n_q})


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("signal", ["speech", "noise", "silence", "odd_length"])
def test_encode_all_codebooks(variant, signal):
    paths, ref, model, sig, ref_codes = setup(variant)
    ours = model.encode(sig[signal])
    rc = ref_codes[signal]
    assert ours.shape == rc.shape
    rates = (ours == rc).mean(axis=1)
    print(f"{variant} {signal} per-quantizer equality: {np.round(rates, 4).tolist()}")
    record(f"dac-{variant} encode {signal}", "codes equal", float((ours == rc).mean()))
    assert (ours == rc).mean() >= 0.995
    if signal in ("speech", "noise"):
        assert len(np.unique(rc[0])) > 4, "degenerate reference codes: the test would prove nothing"


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_n_q(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    x = sig["speech"]
    for n_q in nq_values(model.n_q):
        ours = model.encode(x, n_q=n_q)
        with torch.no_grad():
            rc = ref.encode(torch.from_numpy(x)[None, None], n_quantizers=n_q).audio_codes[0].numpy()
        assert ours.shape == rc.shape == (n_q, rc.shape[1])
        rate = float((ours == rc).mean())
        record(f"dac-{variant} encode n_q={n_q}", "codes equal", rate)
        assert rate >= 0.995


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_reference_codes(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = ref_codes["speech"]
    for n_q in nq_values(model.n_q):
        ours = model.decode(codes[:n_q])
        with torch.no_grad():
            ra = ref.decode(audio_codes=torch.from_numpy(codes[:n_q])[None].long()).audio_values[0].numpy()
        assert ours.shape == ra.shape
        snr = snr_db(ra, ours)
        record(f"dac-{variant} decode n_q={n_q}", "SNR dB", snr)
        record(f"dac-{variant} decode n_q={n_q}", "max abs err", float(np.abs(ours - ra).max()))
        assert snr >= 60.0


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_latent(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    with torch.no_grad():
        z = ref.encode(torch.from_numpy(sig["speech"])[None, None]).quantized_representation
        ra = ref.decode(quantized_representation=z).audio_values[0].numpy()
    ours = model.decode_latent(z[0].numpy())
    snr = snr_db(ra, ours)
    record(f"dac-{variant} decode_latent", "SNR dB", snr)
    assert snr >= 60.0


@pytest.mark.parametrize("variant", VARIANTS)
def test_output_length_matches_reference(variant):
    """16/24 kHz decoders return N - 8 samples for N = frames * hop (no output padding)."""
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = ref_codes["odd_length"]
    ours = model.decode(codes)
    with torch.no_grad():
        ra = ref.decode(audio_codes=torch.from_numpy(codes)[None].long()).audio_values[0].numpy()
    assert len(ours) == len(ra)
    if variant in ("16khz", "24khz"):
        assert len(ours) == codes.shape[1] * model.hop_size - 8


@pytest.mark.parametrize("variant", VARIANTS)
def test_shorter_than_hop(variant):
    """One input shorter than the hop: same codes as the reference, or the same refusal."""
    paths, ref, model, sig, ref_codes = setup(variant)
    x = sig["noise"][: model.hop_size - 1]
    try:
        with torch.no_grad():
            rc = ref.encode(torch.from_numpy(x)[None, None]).audio_codes[0].numpy()
    except RuntimeError:
        rc = None
    if rc is None:
        with pytest.raises(codec_cpp.CodecError, match="too short"):
            model.encode(x)
        record(f"dac-{variant} encode {len(x)} samples", "both refuse", 1)
    else:
        ours = model.encode(x)
        assert ours.shape == rc.shape
        assert (ours == rc).mean() >= 0.995
        record(f"dac-{variant} encode {len(x)} samples", "codes equal", float((ours == rc).mean()))


@pytest.mark.parametrize("wtype", ["f16", "q8_0"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_reduced_precision_documented_floor(variant, wtype):
    paths, ref, model, sig, ref_codes = setup(variant)
    with codec_cpp.Model(paths[wtype], n_threads=2) as m16:
        codes = ref_codes["speech"]
        with torch.no_grad():
            ra = ref.decode(audio_codes=torch.from_numpy(codes)[None].long()).audio_values[0].numpy()
        snr = snr_db(ra, m16.decode(codes))
        rate = float((m16.encode(sig["speech"]) == codes).mean())
    record(f"dac-{variant} {wtype} decode", "SNR dB", snr)
    record(f"dac-{variant} {wtype} encode", "codes equal", rate)
    assert snr >= REDUCED_SNR_FLOOR[wtype]
    assert rate >= REDUCED_CODE_RATE_FLOOR[wtype]
