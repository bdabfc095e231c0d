"""Mimi (kyutai/mimi config, and a tiny variant): our encode/decode against transformers' MimiModel
(seeded random weights, the published on-disk layout), compared as arrays."""
import numpy as np
import pytest
import torch

import codec_cpp
from conftest import make_model, record, signals, snr_db
from make_checkpoint import load_mimi_reference

VARIANTS = ["tiny", "mimi"]
N_Q = [1, 8, 32]              # the n_q values (clipped to the model's count)
DECODE_SNR_FLOOR = 50.0       # dB, the floor
# Reduced-precision GGUFs (the converter's --outtype): documented floors, asserted.
# dB; f16 weights through 16 transformer layers and 2 SEANets (measured ~60)
REDUCED_SNR_FLOOR = {"f16": 50.0, "q8_0": 17.0}  # dB (q8_0 measured 20-33 dB: ggml quantizes the activations to 8 bits too)
REDUCED_CODE_RATE_FLOOR = {"f16": 0.90, "q8_0": 0.35}  # f16 rounding moves near-tie codes; later quantizers follow (measured ~0.95)
_cache = {}


def ref_encode(ref, x, n_q=None):
    with torch.no_grad():
        return ref.encode(torch.from_numpy(x)[None, None], num_quantizers=n_q).audio_codes[0].numpy()


def ref_decode(ref, codes):
    with torch.no_grad():
        return ref.decode(torch.from_numpy(codes)[None].long()).audio_values[0, 0].numpy()


def long_signal(sig, rate, seconds):
    """Speech repeated past the attention window, with a little noise so no two repeats are equal."""
    n = int(seconds * rate)
    x = np.tile(sig["speech"], n // len(sig["speech"]) + 1)[:n]
    return (x + 0.01 * np.random.default_rng(7).standard_normal(n)).astype(np.float32)


def setup(variant):
    if variant not in _cache:
        paths = make_model("mimi", variant)
        ref = load_mimi_reference(paths["ckpt"])
        model = codec_cpp.Model(paths["f32"], n_threads=2)
        sig = signals(model.sample_rate, model.hop_size)
        # real config: 25 s = 2.5 x its 250-frame window at the transformer's 25 Hz; tiny: 40 windows
        window_s = ref.config.sliding_window * model.hop_size / 2 / model.sample_rate
        sig["long"] = long_signal(sig, model.sample_rate, 25.0 if variant == "mimi" else 40 * window_s)
        sig["short"] = sig["noise"][: model.hop_size // 3]
        ref_codes = {k: ref_encode(ref, x) for k, x in sig.items()}
        _cache[variant] = (paths, ref, model, sig, ref_codes)
    return _cache[variant]


def nq_values(n_q):
    return sorted({min(q, n_q) for q in N_Q})


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("signal", ["speech", "noise", "silence", "odd_length", "long", "short"])
def test_encode_all_codebooks(variant, signal):
    paths, ref, model, sig, ref_codes = setup(variant)
    ours = model.encode(sig[signal])
    rc = ref_codes[signal]
    assert rc.shape == (model.n_q, -(-len(sig[signal]) // model.hop_size))
    assert ours.shape == rc.shape
    rates = (ours == rc).mean(axis=1)
    print(f"{variant} {signal} per-quantizer equality: {np.round(rates, 4).tolist()}")
    rate = float((ours == rc).mean())
    record(f"mimi-{variant} encode {signal}", "codes equal", rate)
    record(f"mimi-{variant} encode {signal}", "worst quantizer", float(rates.min()))
    assert rate >= 0.995
    if signal in ("speech", "noise", "long"):
        for q in range(model.n_q):  # every quantizer must carry information, or the test proves little
            assert len(np.unique(rc[q])) > min(4, rc.shape[1] // 4), f"degenerate reference codes at quantizer {q}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_long_input_exercises_the_window(variant):
    """The long input must depend on the sliding window: a reference without it gives other codes."""
    paths, ref, model, sig, ref_codes = setup(variant)
    from transformers import MimiModel
    no_window = MimiModel.from_pretrained(paths["ckpt"], sliding_window=1 << 20).eval()
    x = sig["long"]
    window_frames = ref.config.sliding_window // 2 + 1  # codes frames whose attention reaches past the window
    changed = float((ref_encode(no_window, x) != ref_codes["long"])[:, window_frames:].mean())
    record(f"mimi-{variant} long input", "codes changed w/o window", changed)
    assert changed > 0.2


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_n_q(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    x = sig["speech"]
    for n_q in nq_values(model.n_q):
        ours = model.encode(x, n_q=n_q)
        rc = ref_encode(ref, x, n_q)
        assert ours.shape == rc.shape == (n_q, rc.shape[1])
        assert (rc == ref_codes["speech"][:n_q]).all()  # RVQ prefix property of the reference
        rate = float((ours == rc).mean())
        record(f"mimi-{variant} encode n_q={n_q}", "codes equal", rate)
        assert rate >= 0.995


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("signal", ["speech", "long"])
def test_decode_reference_codes(variant, signal):
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = ref_codes[signal]
    for n_q in (nq_values(model.n_q) if signal == "speech" else [model.n_q]):
        ours = model.decode(codes[:n_q])
        ra = ref_decode(ref, codes[:n_q])
        assert ours.shape == ra.shape == (codes.shape[1] * model.hop_size,)
        snr = snr_db(ra, ours)
        record(f"mimi-{variant} decode {signal} n_q={n_q}", "SNR dB", snr)
        record(f"mimi-{variant} decode {signal} n_q={n_q}", "max abs err", f"{np.abs(ours - ra).max():.2e}")
        assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_latent(variant):
    paths, ref, model, sig, ref_codes = setup(variant)
    with torch.no_grad():
        z = ref.quantizer.decode(torch.from_numpy(ref_codes["speech"])[None].long())
        ra = ref.decoder(z).audio_values[0, 0].numpy()
    ours = model.decode_latent(z[0].numpy())
    snr = snr_db(ra, ours)
    record(f"mimi-{variant} decode_latent", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("wtype", ["f16", "q8_0"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_reduced_precision_documented_floor(variant, wtype):
    paths, ref, model, sig, ref_codes = setup(variant)
    codes = ref_codes["speech"]
    with codec_cpp.Model(paths[wtype], n_threads=2) as m16:
        snr = snr_db(ref_decode(ref, codes), m16.decode(codes))
        rate = float((m16.encode(sig["speech"]) == codes).mean())
    record(f"mimi-{variant} {wtype} decode", "SNR dB", snr)
    record(f"mimi-{variant} {wtype} encode", "codes equal", rate)
    assert snr >= REDUCED_SNR_FLOOR[wtype]
    assert rate >= REDUCED_CODE_RATE_FLOOR[wtype]
