"""SNAC's batch graphs (codec_encode_batch / codec_decode_batch with a batch axis): each item of a
batch equals its one-by-one call. Same-length inputs share one graph ([C, T, B] through the convs,
[C, T * B] through the quantizer and the windowed attention); the others run one by one.

Variants: 24 kHz (no attention), 32 kHz (windowed attention, four levels) and tiny (windowed
attention, odd strides, two levels)."""
import numpy as np
import pytest

import codec_cpp
from conftest import make_model, snr_db

DECODE_SNR_FLOOR = 90.0  # dB: float rounding only (matrix products of other widths sum in other orders)
VARIANTS = ["24khz", "32khz", "tiny"]
_cache = {}


def setup(variant):
    if variant not in _cache:
        model = codec_cpp.Model(make_model("snac", variant)["f32"], n_threads=2)
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
    assert model.batch_graph and model.multi_rate


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_batch_equals_one_by_one(variant):
    model, xs, one = setup(variant)
    got = model.encode_batch(xs, workers=1)  # one context: the three 2 s inputs are one graph
    assert len(got) == len(xs)
    for i, (a, b) in enumerate(zip(got, one)):
        assert len(a) == len(b) == model.n_q
        for q, (ra, rb) in enumerate(zip(a, b)):
            assert ra.shape == rb.shape, f"input {i} level {q}: {ra.shape} vs {rb.shape}"
            assert np.array_equal(ra, rb), f"input {i} level {q}: {np.mean(ra == rb):.4%} of the codes equal"


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_batch_fewer_levels(variant):
    model, xs, _ = setup(variant)
    got = model.encode_batch(xs[:2], n_q=1, workers=1)
    for x, a in zip(xs[:2], got):
        b = model.encode(x, n_q=1)
        assert len(a) == len(b) == 1 and np.array_equal(a[0], b[0])


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
