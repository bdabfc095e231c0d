"""codec_decode_latent_batch (Model.decode_latent_batch): each item equals its decode_latent call,
and same-length latents run as one graph where the model has one (batch_latent_graph): Soprano's
decoder (LM hidden states -> 32 kHz), Pocket TTS's Mimi and Mimi (the quantized latent); other
models decode latents one by one. Each one-input call is parity-tested against its reference
elsewhere (test_stream_soprano.py's fixture, test_pocket_tts_parity.py, test_mimi_parity.py)."""
import numpy as np
import pytest

import codec_cpp
import pocket_tts
import soprano as soprano_fx
from conftest import CACHE, make_model, record, snr_db
from test_batch import one_graph

DECODE_SNR_FLOOR = 90.0  # dB: float rounding at most (measured: equal)
_cache = {}


def paths(name):
    if name not in _cache:
        _cache[name] = {"soprano": lambda: soprano_fx.make_model(CACHE),
                        "pocket": lambda: pocket_tts.make_model(CACHE),
                        "mimi": lambda: make_model("mimi", "tiny"),
                        "dac": lambda: make_model("dac", "16khz")}[name]()
    return _cache[name]


def latents(dim, lens, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((dim, n)).astype(np.float32) for n in lens]


@pytest.mark.parametrize("name", ["soprano", "pocket", "mimi"])
def test_latent_batch_equals_one_by_one(name):
    p = paths(name)
    with codec_cpp.Model(p["f32"], n_threads=2) as m:
        assert m.batch_latent_graph
        zs = latents(m.latent_dim, [20, 20, 21, 20, 7, 2])  # three of one length (one graph), odd ones
        got = m.decode_latent_batch(zs, workers=1)
        worst = np.inf
        for i, (a, z) in enumerate(zip(got, zs)):
            b = m.decode_latent(z)
            assert a.shape == b.shape, f"latent {i}: {a.shape} vs {b.shape}"
            assert b.std() > 1e-4, "silent output: the test would prove nothing"
            worst = min(worst, snr_db(b, a))
        record(f"{name} decode_latent_batch vs one by one", "min SNR dB", worst)
        assert worst >= DECODE_SNR_FLOOR
    same = [zs[0], zs[1], zs[3]]
    audio = one_graph(p["f32"], lambda f: f.decode_latent(same[0]), lambda f: f.decode_latent_batch(same, workers=1))
    with codec_cpp.Model(p["f32"], n_threads=2) as m:
        assert all(np.array_equal(a, m.decode_latent(z)) for a, z in zip(audio, same))


def test_models_without_the_graph_run_one_by_one():
    with codec_cpp.Model(paths("dac")["f32"], n_threads=2) as m:
        assert not m.batch_latent_graph and m.batch_graph
        zs = latents(m.latent_dim, [9, 9, 4])
        for a, z in zip(m.decode_latent_batch(zs, workers=1), zs):
            assert np.array_equal(a, m.decode_latent(z))


def test_bad_latents_are_named():
    with codec_cpp.Model(paths("soprano")["f32"], n_threads=2) as m:
        zs = latents(m.latent_dim, [5, 5, 5])
        zs[2][3, 1] = np.nan
        with pytest.raises(codec_cpp.CodecError, match=r"input 2: latent\[.*\] is not finite"):
            m.decode_latent_batch(zs, workers=1)
        with pytest.raises(codec_cpp.CodecError, match="input 0: latent_dim"):
            m.decode_latent_batch([np.zeros((m.latent_dim + 1, 4), np.float32)], workers=1)
        with pytest.raises(ValueError, match="latent 1"):
            m.decode_latent_batch([zs[0], np.zeros((m.latent_dim + 1, 4), np.float32)], workers=1)
        # the context stays usable
        ok = m.decode_latent_batch(zs[:2], workers=1)
        assert len(ok) == 2 and np.isfinite(ok[0]).all()
