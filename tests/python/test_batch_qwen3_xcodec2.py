"""Batch graphs of the Qwen3-TTS tokenizer (both directions) and XCodec2 / NeuCodec (decode): each
item of a batch equals its one-by-one call (codes 100 %, PCM within float rounding), and
same-shape inputs really run as one graph. Each one-by-one call is parity-tested against its
reference elsewhere (test_qwen3_tokenizer_parity.py, test_xcodec2_parity.py).

Qwen3: [C, T, B] throughout, the decoder's 300-frame chunks cut per sequence (the tiny config's
inputs cross them). XCodec2 / NeuCodec: the decoder's GroupNorms and full attention per
sequence; their encoder (fbank normalization over the input, conformer) runs one by one."""
import numpy as np
import pytest

import codec_cpp
import qwen3_tokenizer as q3
import xcodec2 as xc
from conftest import CACHE, record, snr_db
from test_batch import assert_decode_batch_matches, dithered_inputs, one_graph

DECODE_SNR_FLOOR = 90.0  # dB: float rounding at most
_cache = {}


def model(kind, variant):
    if (kind, variant) not in _cache:
        paths = (q3 if kind == "qwen3" else xc).model_paths(CACHE, variant)
        _cache[kind, variant] = (paths, codec_cpp.Model(paths["f32"], n_threads=2))
    return _cache[kind, variant]


@pytest.mark.parametrize("variant", ["tiny", "12hz"])
def test_qwen3_flags_and_encode_batch(variant):
    _, m = model("qwen3", variant)
    assert m.batch_graph and m.batch_encode_graph and m.batch_decode_graph
    xs = dithered_inputs(m.sample_rate)
    if variant == "tiny":  # 700 frames: three chunks of the decoder (300 + 25 left context) in the batch below
        xs = [np.tile(x, 700 * m.hop_size // len(x) + 1)[: 700 * m.hop_size] for x in xs[:2]] + xs
    one = [m.encode(x) for x in xs]
    got = m.encode_batch(xs, workers=1)  # one context: the same-length inputs share a graph
    for i, (a, b) in enumerate(zip(got, one)):
        assert a.shape == b.shape and np.array_equal(a, b), f"input {i}: {np.mean(a == b):.4%} of the codes equal"
    assert len(np.unique(one[0])) > 8, "degenerate codes: the test would prove nothing"
    assert_decode_batch_matches(m, one, DECODE_SNR_FLOOR)
    worst = min(snr_db(m.decode(c), a) for c, a in zip(one, m.decode_batch(one, workers=1)))
    record(f"qwen3-{variant} decode_batch vs one by one", "min SNR dB", worst)


def test_qwen3_batch_runs_as_one_graph():
    paths, m = model("qwen3", "tiny")
    xs = dithered_inputs(m.sample_rate)
    same = [xs[0], xs[1], xs[3]]
    codes = one_graph(paths["f32"], lambda f: f.encode(same[0]), lambda f: f.encode_batch(same, workers=1))
    assert all(np.array_equal(c, m.encode(x)) for c, x in zip(codes, same))
    audio = one_graph(paths["f32"], lambda f: f.decode(codes[0]), lambda f: f.decode_batch(codes, workers=1))
    assert all(np.array_equal(a, m.decode(c)) for a, c in zip(audio, codes))


def random_codes(n, size, seed):
    return np.random.default_rng(seed).integers(0, size, (1, n)).astype(np.int32)


@pytest.mark.parametrize("variant", ["xcodec2-l2", "neucodec-l2"])
def test_xcodec2_decode_batch(variant):
    paths, m = model("xcodec2", variant)
    assert m.batch_decode_graph and not m.batch_encode_graph and not m.batch_graph
    # three of 75 frames (one graph), one of 76, one of 37 (600 frames: the attention's query blocks)
    codes = [random_codes(n, m.codebook_size, s) for s, n in enumerate([75, 75, 76, 75, 37])]
    codes.append(random_codes(600, m.codebook_size, 9))
    codes.append(random_codes(600, m.codebook_size, 10))
    assert_decode_batch_matches(m, codes, DECODE_SNR_FLOOR)
    same = [codes[0], codes[1], codes[3]]
    audio = one_graph(paths["f32"], lambda f: f.decode(same[0]), lambda f: f.decode_batch(same, workers=1))
    assert all(np.array_equal(a, m.decode(c)) for a, c in zip(audio, same))


def test_xcodec2_encode_batch_runs_one_by_one():
    _, m = model("xcodec2", "tiny-enc")
    xs = dithered_inputs(m.encode_sample_rate)[:3]
    for a, b in zip(m.encode_batch(xs, workers=1), [m.encode(x) for x in xs]):
        assert np.array_equal(a, b)
