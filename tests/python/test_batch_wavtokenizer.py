"""WavTokenizer's batch graphs (codec_encode_batch / codec_decode_batch with a batch axis): each
item of a batch equals its one-by-one call. Same-length inputs share one graph, [C, T, B]
throughout (the encoder's SEANet and LSTM, the decoder's backbone with the pos_net's group norms
and attention per sequence, the ISTFT head); the others run one by one.

Variants: 75 and 40 tokens/s (seeded random weights at the published configs)."""
import numpy as np
import pytest

import codec_cpp
import wavtokenizer as wt_fx
from conftest import CACHE, snr_db
from test_batch import assert_decode_batch_matches, dithered_inputs, one_graph

DECODE_SNR_FLOOR = 90.0  # dB: float rounding at most (measured: equal)
VARIANTS = ["75", "40"]
_cache = {}


def setup(variant):
    if variant not in _cache:
        paths = wt_fx.make_model(CACHE, variant)
        model = codec_cpp.Model(paths["f32"], n_threads=2)
        xs = dithered_inputs(model.sample_rate)
        _cache[variant] = (paths, model, xs, [model.encode(x) for x in xs])
    return _cache[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_batch_graph_flag(variant):
    _, model, _, _ = setup(variant)
    assert model.batch_graph


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_batch_equals_one_by_one(variant):
    _, model, xs, one = setup(variant)
    got = model.encode_batch(xs, workers=1)  # one context: the three 2 s inputs are one graph
    assert len(got) == len(xs)
    for i, (a, b) in enumerate(zip(got, one)):
        assert a.shape == b.shape, f"input {i}: {a.shape} vs {b.shape}"
        assert np.array_equal(a, b), f"input {i}: {np.mean(a == b):.4%} of the codes equal"
    assert len(np.unique(one[0])) > 8, "degenerate codes: the test would prove nothing"


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_batch_matches_one_by_one(variant):
    _, model, _, one = setup(variant)
    assert_decode_batch_matches(model, one, DECODE_SNR_FLOOR)


@pytest.mark.parametrize("variant", VARIANTS)
def test_batch_runs_as_one_graph(variant):
    """Three inputs of one length run as one graph (fresh context: the batch's compute buffer
    holds the three sequences), with the one-input results."""
    paths, model, xs, one = setup(variant)
    same = [xs[0], xs[1], xs[3]]
    codes = one_graph(paths["f32"], lambda f: f.encode(same[0]), lambda f: f.encode_batch(same, workers=1))
    assert all(np.array_equal(c, o) for c, o in zip(codes, [one[0], one[1], one[3]]))
    audio = one_graph(paths["f32"], lambda f: f.decode(codes[0]), lambda f: f.decode_batch(codes, workers=1))
    assert all(np.array_equal(a, model.decode(c)) for a, c in zip(audio, codes))


def test_reduced_precision_batch():
    """f16 weights: the batch still equals one by one."""
    paths, _, xs, _ = setup("75")
    with codec_cpp.Model(paths["f16"], n_threads=2) as m:
        one = [m.encode(x) for x in xs]
        assert all(np.array_equal(a, b) for a, b in zip(m.encode_batch(xs, workers=1), one))
        for a, c in zip(m.decode_batch(one, workers=1), one):
            assert snr_db(m.decode(c), a) >= DECODE_SNR_FLOOR
