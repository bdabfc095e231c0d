"""WavTokenizer / Soprano converters on bad input: status (ConvertError) and a message naming the
problem, never a crash or a half-written GGUF."""
import os
import shutil

import pytest
import torch
import yaml

import convert
import soprano as soprano_fx
import wavtokenizer as wt_fx
from codec_convert.common import ConvertError
from conftest import CACHE


@pytest.fixture(scope="module")
def wt_ckpt():
    return wt_fx.make_model(CACHE, "75")["ckpt"]


def _copy(src, dst, ckpt=None, cfg=None):
    os.makedirs(dst)
    with open(os.path.join(src, "config.yaml")) as f:
        c = yaml.safe_load(f)
    if cfg:
        cfg(c)
    with open(os.path.join(dst, "config.yaml"), "w") as f:
        yaml.safe_dump(c, f)
    if ckpt is None:
        shutil.copy(os.path.join(src, "model.ckpt"), os.path.join(dst, "model.ckpt"))
    else:
        torch.save(ckpt, os.path.join(dst, "model.ckpt"))


def test_ckpt_without_expected_keys(wt_ckpt, tmp_path):
    ck = torch.load(os.path.join(wt_ckpt, "model.ckpt"), map_location="cpu", weights_only=True)
    del ck["state_dict"]["backbone.embed.weight"]
    _copy(wt_ckpt, tmp_path / "m", ckpt=ck)
    out = str(tmp_path / "m.gguf")
    with pytest.raises(ConvertError, match="missing tensor 'backbone.embed.weight'"):
        convert.convert(str(tmp_path / "m"), out)
    assert not os.path.exists(out) and not os.path.exists(out + ".tmp")


def test_ckpt_without_state_dict(wt_ckpt, tmp_path):
    _copy(wt_ckpt, tmp_path / "m", ckpt={"epoch": 0})
    with pytest.raises(ConvertError, match="no 'state_dict'"):
        convert.convert(str(tmp_path / "m"), str(tmp_path / "m.gguf"))


def test_yaml_with_unsupported_head(wt_ckpt, tmp_path):
    def imdct(c):
        c["model"]["init_args"]["head"] = {"class_path": "decoder.heads.IMDCTSymExpHead",
                                           "init_args": {"dim": 768, "mdct_frame_len": 1280}}
    _copy(wt_ckpt, tmp_path / "m", cfg=imdct)
    with pytest.raises(ConvertError, match="head 'decoder.heads.IMDCTSymExpHead' is not supported"):
        convert.convert(str(tmp_path / "m"), str(tmp_path / "m.gguf"))


def test_yaml_with_unsupported_padding(wt_ckpt, tmp_path):
    def pad(c):
        c["model"]["init_args"]["head"]["init_args"]["padding"] = "valid"
    _copy(wt_ckpt, tmp_path / "m", cfg=pad)
    with pytest.raises(ConvertError, match="padding 'valid'"):
        convert.convert(str(tmp_path / "m"), str(tmp_path / "m.gguf"))


def test_soprano_missing_keys(tmp_path):
    src = soprano_fx.make_model(CACHE)["ckpt"]
    sd = torch.load(os.path.join(src, "decoder.pth"), map_location="cpu", weights_only=True)
    del sd["head.istft.window"]
    os.makedirs(tmp_path / "s")
    torch.save(sd, tmp_path / "s" / "decoder.pth")
    with pytest.raises(ConvertError, match="missing tensor 'head.istft.window'"):
        convert.convert(str(tmp_path / "s"), str(tmp_path / "s.gguf"))
