"""Converter behaviour that does not need the full-size models."""
import json
import os

import numpy as np
import pytest
import torch

import convert
import make_checkpoint
from codec_convert.common import ConvertError, fold_weight_norm

import codec_cpp


def test_fold_weight_norm_matches_torch_for_both_key_styles():
    conv = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(3, 5, 7))
    with torch.no_grad():
        conv.parametrizations.weight.original0.uniform_(0.5, 1.5)
    want = conv.weight.detach()
    sd = {"conv." + k: v for k, v in conv.state_dict().items()}
    legacy = {k.replace("parametrizations.weight.original0", "weight_g").replace("parametrizations.weight.original1",
                                                                               "weight_v"): v for k, v in sd.items()}
    for d in (sd, legacy):
        got = fold_weight_norm(d)["conv.weight"]
        assert torch.equal(got, want)


def test_fold_weight_norm_rejects_half_pair():
    with pytest.raises(ConvertError, match="missing its g or v"):
        fold_weight_norm({"conv.weight_v": torch.zeros(2, 2, 2)})


def test_unknown_model_type_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "not_a_codec"}))
    with pytest.raises(ConvertError, match="unsupported model_type 'not_a_codec'"):
        convert.convert(str(tmp_path), str(tmp_path / "x.gguf"))
    assert not os.path.exists(tmp_path / "x.gguf")


def test_checkpoint_with_folded_weights_converts_identically(tmp_path, lib_path):
    """A checkpoint saved with plain `.weight` keys gives the same GGUF model outputs."""
    from safetensors.torch import load_file, save_file
    src = tmp_path / "wn"
    make_checkpoint.main(["--arch", "dac", "--variant", "tiny", "--seed", "3", "--out", str(src)])
    folded = tmp_path / "folded"
    folded.mkdir()
    (folded / "config.json").write_text((src / "config.json").read_text())
    save_file({k: v.contiguous() for k, v in fold_weight_norm(load_file(str(src / "model.safetensors"))).items()},
              str(folded / "model.safetensors"))
    convert.convert(str(src), str(tmp_path / "a.gguf"))
    convert.convert(str(folded), str(tmp_path / "b.gguf"))
    x = np.random.default_rng(0).standard_normal(800).astype(np.float32) * 0.3
    with codec_cpp.Model(str(tmp_path / "a.gguf")) as a, codec_cpp.Model(str(tmp_path / "b.gguf")) as b:
        ca, cb = a.encode(x), b.encode(x)
        assert np.array_equal(ca, cb)
        assert np.array_equal(a.decode(ca), b.decode(cb))


def test_stale_hop_length_is_ignored(tmp_path, lib_path):
    """Published 16/24 kHz configs say hop_length 512; the real stride is 320."""
    d = tmp_path / "m"
    make_checkpoint.main(["--arch", "dac", "--variant", "tiny", "--seed", "1", "--out", str(d)])
    cfg = json.loads((d / "config.json").read_text())
    cfg["hop_length"] = 512
    (d / "config.json").write_text(json.dumps(cfg))
    convert.convert(str(d), str(tmp_path / "m.gguf"))
    with codec_cpp.Model(str(tmp_path / "m.gguf")) as m:
        assert m.hop_size == 8
        assert m.meta("codec.hop_size") == "8"
