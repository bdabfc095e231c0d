"""WavTokenizer's batch graphs (codec_encode_batch / codec_decode_batch with a batch axis): each
item of a batch equals its one-by-one call. Same-length inputs share one graph (the decoder's
backbone, pos_net and ISTFT head over [C, F, B]; the encoder's SEANet sequence by sequence, its
LSTM stepping the sequences together); the others run one by one.

Variants: 75 and 40 tokens/s (seeded random weights at the published configs)."""
import numpy as np
import pytest

import codec_cpp
import wavtokenizer as wt_fx
from conftest import CACHE, snr_db

DECODE_SNR_FLOOR = 90.0  # dB: float rounding at most (measured: equal)
VARIANTS = ["75", "40"]
_cache = {}


def setup(variant):
    if variant not in _cache:
        model = codec_cpp.Model(wt_fx.make_model(CACHE, variant)["f32"], n_threads=2)
        rate = model.sample_rate
        rng = np.random.default_rng(2024)
        lens = [2 * rate, 2 * rate, 2 * rate + 123, 2 * rate, rate]
        # dithered noise: Gaussian noise plus a uniform dither of one 16-bit step
        xs = [(rng.standard_normal(n) * 0.3 + rng.uniform(-1, 1, n) / 32768).astype(np.float32) for n in lens]
        _cache[variant] = (model, xs, [model.encode(x) for x in xs])
    return _cache[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_batch_graph_flag(variant):
    model, _, _ = setup(variant)
    assert model.batch_graph


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_batch_equals_one_by_one(variant):
    model, xs, one = setup(variant)
    got = model.encode_batch(xs, workers=1)  # one context: the three 2 s inputs are one graph
    assert len(got) == len(xs)
    for i, (a, b) in enumerate(zip(got, one)):
        assert a.shape == b.shape, f"input {i}: {a.shape} vs {b.shape}"
        assert np.array_equal(a, b), f"input {i}: {np.mean(a == b):.4%} of the codes equal"
    assert len(np.unique(one[0])) > 8, "degenerate codes: the test would prove nothing"


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_batch_matches_one_by_one(variant):
    model, _, one = setup(variant)
    got = model.decode_batch(one, workers=1)
    assert len(got) == len(one)
    for i, (a, c) in enumerate(zip(got, one)):
        b = model.decode(c)
        assert a.shape == b.shape, f"input {i}: {a.shape} vs {b.shape}"
        snr = snr_db(b, a)
        assert snr >= DECODE_SNR_FLOOR, f"input {i}: {snr:.1f} dB vs the one-by-one decode"
