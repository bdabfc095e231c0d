"""SNAC's batch graphs (codec_encode_batch / codec_decode_batch with a batch axis): each item of a
batch equals its one-by-one call. Same-length inputs share one graph ([C, T, B] through the convs,
the quantizer's products per sequence, its search and the windowed attention over the frames back
to back); the others run one by one.

Variants: 24 kHz (no attention), 32 kHz (windowed attention, four levels) and tiny (windowed
attention, odd strides, two levels)."""
import numpy as np
import pytest

import codec_cpp
from conftest import make_model, snr_db
from test_batch import assert_decode_batch_matches, dithered_inputs, one_graph

DECODE_SNR_FLOOR = 90.0  # dB: float rounding at most (measured: equal)
VARIANTS = ["24khz", "32khz", "tiny"]
_cache = {}


def setup(variant):
    if variant not in _cache:
        paths = make_model("snac", variant)
        model = codec_cpp.Model(paths["f32"], n_threads=2)
        xs = dithered_inputs(model.sample_rate)
        _cache[variant] = (paths, model, xs, [model.encode(x) for x in xs])
    return _cache[variant]


def same_levels(a, b):
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("variant", VARIANTS)
def test_batch_graph_flag(variant):
    _, model, _, _ = setup(variant)
    assert model.batch_graph and model.multi_rate


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_batch_equals_one_by_one(variant):
    _, model, xs, one = setup(variant)
    got = model.encode_batch(xs, workers=1)  # one context: the three 2 s inputs are one graph
    assert len(got) == len(xs)
    for i, (a, b) in enumerate(zip(got, one)):
        assert len(a) == len(b) == model.n_q
        for q, (ra, rb) in enumerate(zip(a, b)):
            assert ra.shape == rb.shape, f"input {i} level {q}: {ra.shape} vs {rb.shape}"
            assert np.array_equal(ra, rb), f"input {i} level {q}: {np.mean(ra == rb):.4%} of the codes equal"


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_batch_fewer_levels(variant):
    _, model, xs, _ = setup(variant)
    got = model.encode_batch(xs[:2], n_q=1, workers=1)
    for x, a in zip(xs[:2], got):
        b = model.encode(x, n_q=1)
        assert len(a) == len(b) == 1 and np.array_equal(a[0], b[0])


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_batch_matches_one_by_one(variant):
    _, model, _, one = setup(variant)
    assert_decode_batch_matches(model, one, DECODE_SNR_FLOOR)


@pytest.mark.parametrize("variant", ["24khz", "tiny"])
def test_batch_runs_as_one_graph(variant):
    """Three inputs of one length run as one graph (fresh context: the batch's compute buffer
    holds the three sequences), with the one-input results."""
    paths, model, xs, one = setup(variant)
    same = [xs[0], xs[1], xs[3]]
    codes = one_graph(paths["f32"], lambda f: f.encode(same[0]), lambda f: f.encode_batch(same, workers=1))
    assert all(same_levels(c, o) for c, o in zip(codes, [one[0], one[1], one[3]]))
    audio = one_graph(paths["f32"], lambda f: f.decode(codes[0]), lambda f: f.decode_batch(codes, workers=1))
    assert all(np.array_equal(a, model.decode(c)) for a, c in zip(audio, codes))


@pytest.mark.parametrize("wtype", ["f16", "q8_0"])
def test_reduced_precision_batch(wtype):
    """f16 / q8_0 weights: the batch still equals one by one (products per sequence as alone),
    also for 24 kHz inputs whose coarsest level holds one code (one-column products)."""
    paths, _, xs, _ = setup("24khz")
    with codec_cpp.Model(paths[wtype], n_threads=2) as m:
        rng = np.random.default_rng(3)
        short = [(rng.standard_normal(1000) * 0.3).astype(np.float32) for _ in range(3)]  # 1, 2, 4 codes
        for group in (xs, short):
            one = [m.encode(x) for x in group]
            assert all(same_levels(a, b) for a, b in zip(m.encode_batch(group, workers=1), one))
            for a, c in zip(m.decode_batch(one, workers=1), one):
                assert snr_db(m.decode(c), a) >= DECODE_SNR_FLOOR
