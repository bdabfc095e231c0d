"""Hostile model files for the models whose fixtures come from a reference venv, and XCodec2's (the
C++ error tests, tests/unit/test_*_errors.cpp, cover DAC, EnCodec, Mimi and SNAC on tiny models
made in the main venv): every model key removed, insane values, dropped and mis-shaped tensors, truncated files.
Each must fail to load with a message naming what is wrong, or (a value that is merely unusual)
load and decode without crashing. Edits are made on the cached fixture GGUFs (f16: half the bytes
to copy)."""
import os

import numpy as np
import pytest
from gguf import GGUFValueType

import codec_cpp
import gguf_edit
import pocket_tts as pocket_fx
import qwen3_tokenizer as q3
import soprano as soprano_fx
import wavtokenizer as wt_fx
import xcodec2 as xc_fx
from conftest import CACHE

MODELS = {
    "qwen3_tts_tokenizer": lambda: q3.model_paths(CACHE, "tiny")["f32"],
    "wavtokenizer": lambda: wt_fx.make_model(CACHE, "75")["f16"],
    "soprano": lambda: soprano_fx.make_model(CACHE)["f16"],
    "xcodec2": lambda: xc_fx.model_paths(CACHE, "tiny")["f32"],
    "mimi_pocket": lambda: pocket_fx.make_model(CACHE, "tiny")["f32"],  # Pocket TTS's Mimi: mimi.* keys
    "xcodec2_enc": lambda: xc_fx.model_paths(CACHE, "tiny-enc")["f16"],  # the encoder's keys and tensors
    "xcodec2_neu": lambda: xc_fx.model_paths(CACHE, "neucodec-tiny-enc")["f16"],  # 16 kHz in, 24 kHz out
}
_paths = {}


def model_path(name):
    if name not in _paths:
        _paths[name] = MODELS[name]()
    return _paths[name]


def load_error(path):
    """The load's error message, or None when it loads."""
    try:
        codec_cpp.Model(path, n_threads=1).close()
    except codec_cpp.CodecError as e:
        return str(e)
    return None


def exercise(path):
    """A model that loads must run a short call without crashing (errors are fine)."""
    try:
        with codec_cpp.Model(path, n_threads=1) as m:
            if m.continuous:  # latents, no codebook
                if m.has_encoder:
                    m.encode_latent(np.zeros(m.hop_size * 3, dtype=np.float32))
                if m.has_decoder:
                    m.decode_latent(np.ones((m.latent_dim, 3), dtype=np.float32))
            elif m.has_encoder:
                m.encode(np.zeros(m.encode_hop_size * 3, dtype=np.float32))
            elif m.has_decoder and m.n_q > 0:
                m.decode(np.zeros((m.n_q, 3), dtype=np.int32))
    except codec_cpp.CodecError:
        pass


def model_keys(path):
    return {k: v for k, v in gguf_edit.keys(path).items() if k.startswith("codec.") or "." in k and
            not k.startswith("general.")}


@pytest.mark.parametrize("name", MODELS)
def test_every_missing_key_is_named(name, tmp_path):
    src = model_path(name)
    assert load_error(src) is None
    keys = model_keys(src)
    assert len(keys) > 10 and any(k.startswith(name.split("_")[0]) for k in keys), sorted(keys)
    for key in keys:
        dst = gguf_edit.rewrite(src, str(tmp_path / "m.gguf"), drop_keys=[key])
        err = load_error(dst)
        assert err is not None and key in err, (key, err)
        os.remove(dst)


@pytest.mark.parametrize("name", MODELS)
def test_insane_values(name, tmp_path):
    """Every integer key at 2^30 must be refused; at 0 it must be refused or run without crashing;
    every float key NaN and negative likewise; a string key's unknown value is refused."""
    src = model_path(name)
    for key, (value, vtype, sub) in model_keys(src).items():
        cases = []
        if vtype in (GGUFValueType.UINT32, GGUFValueType.INT32):
            cases = [((1 << 30, vtype), True), ((0, vtype), False)]
        elif vtype == GGUFValueType.FLOAT32:
            cases = [((float("nan"), vtype), True), ((-1.0, vtype), False)]
        elif vtype == GGUFValueType.STRING:
            cases = [(("no-such-value", vtype), True)]
        elif vtype == GGUFValueType.ARRAY and sub in (GGUFValueType.INT32, GGUFValueType.UINT32):
            cases = [(([0] * len(value), vtype, sub), False), (([1 << 30] * len(value), vtype, sub), True)]
        for i, (v, must_fail) in enumerate(cases):
            dst = gguf_edit.rewrite(src, str(tmp_path / f"m{i}.gguf"), set_keys={key: v})
            err = load_error(dst)
            if err is None:
                assert not must_fail, f"{key} = {v[0]!r} loaded"
                exercise(dst)
            else:
                assert "status" in err
            os.remove(dst)


@pytest.mark.parametrize("name", MODELS)
def test_dropped_and_misshaped_tensors_are_named(name, tmp_path):
    src = model_path(name)
    ts = sorted(gguf_edit.tensors(src))
    sample = ts[:: max(1, len(ts) // 10)] + [ts[-1]]
    for t in sample:
        dst = gguf_edit.rewrite(src, str(tmp_path / "d.gguf"), drop_tensors=[t])
        err = load_error(dst)
        assert err is not None and t in err, (t, err)
        ne = list(gguf_edit.tensors(src)[t][0])
        ne[0] += 1
        dst = gguf_edit.rewrite(src, str(tmp_path / "s.gguf"), shapes={t: ne})
        err = load_error(dst)
        assert err is not None and t in err, (t, err)
    os.remove(str(tmp_path / "d.gguf"))
    os.remove(str(tmp_path / "s.gguf"))


@pytest.mark.parametrize("name", MODELS)
def test_truncated_files_fail_cleanly(name, tmp_path):
    src = model_path(name)
    end = gguf_edit.data_end(src)  # past it only alignment padding: not needed
    for n in (0, 3, 24, 200, 4096, end // 2, end - 1):
        dst = gguf_edit.truncate(src, str(tmp_path / "t.gguf"), n)
        err = load_error(dst)
        assert err is not None, n
        os.remove(dst)


def test_wrong_arch_is_named(tmp_path):
    src = model_path("soprano")
    dst = gguf_edit.rewrite(src, str(tmp_path / "a.gguf"), set_keys={"codec.arch": ("wavtokenizer", GGUFValueType.STRING)})
    err = load_error(dst)
    assert err is not None and ("wavtokenizer" in err), err
