"""XCodec2's original checkpoint layout (HKUSTAudio/xcodec2, what Llasa users hold) converted with its
encoder: codes against the original package's own XCodec2Model.encode_code (xcodec2 0.1.5 from
PyPI, its w2v-bert-2.0 feature extractor and ResidualFSQ; tests/fixtures/xcodec2_original.py),
seeded random weights saved as the published file names them. Fast suite: orig-tiny (toy widths,
the published hop, conformer kernel, 17 w2v-BERT layers of which the original uses 16)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import codec_cpp
import xcodec2_original as fo
from conftest import CACHE, record, speech
from test_xcodec2_encode import ENCODE_FLOOR, NAMES, inputs, ties

_cache = {}


def setup():
    if not _cache:
        paths = fo.model_paths(CACHE, "orig-tiny")
        inp = inputs("tiny-enc")  # XCodec2's inputs (none too short for it)
        _cache.update(paths=paths, inp=inp, ref=fo.encode_reference(CACHE, "orig-tiny", paths, inp),
                      model=codec_cpp.Model(paths["f32"], n_threads=2))
    return _cache


@pytest.mark.parametrize("name", NAMES)
def test_encode(name):
    c = setup()
    want = c["ref"][f"codes:{name}"]
    got = c["model"].encode(c["inp"][f"pcm:{name}"]).reshape(-1)
    assert got.shape == want.shape
    rate = float((got == want).mean())
    diff = got != want
    n_ties = int((diff & ties(c["ref"][f"lat:{name}"], [4] * 8)).sum())
    record(f"xcodec2 orig-tiny encode {name} ({len(want)} frames)", "codes equal", rate)
    record(f"xcodec2 orig-tiny encode {name}", "differences / of them ties", f"{int(diff.sum())} / {n_ties}")
    if len(want) >= 20 and name != "long":  # (long tiles the speech: its codes repeat)
        assert len(np.unique(want)) >= len(want) // 4, "random weights collapsed the codes"
    assert rate >= ENCODE_FLOOR


def test_converter_reports_layout(tmp_path):
    """The converter names the layout, that it kept the encoder, and the w2v-BERT layers the
    original does not use (layer 16 of 17)."""
    import convert
    paths = fo.model_paths(CACHE, "orig-tiny")
    r = subprocess.run([sys.executable, convert.__file__, "--input-dir", paths["ckpt"], "--out", str(tmp_path / "m.gguf")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "original layout" in r.stderr and "with the encoder" in r.stderr, r.stderr
    assert "semantic_model.encoder.layers.16." in r.stderr, r.stderr
    assert codec_cpp.Model(str(tmp_path / "m.gguf"), n_threads=2).has_encoder


def _gguf_tensors(path):
    import gguf
    return {t.name: np.array(t.data) for t in gguf.GGUFReader(path).tensors}


def test_other_original_names_convert_alike(tmp_path):
    """The other names original trees write give the same GGUF: weight norm as weight_g / weight_v
    (torch's legacy weight_norm: NeuCodec's package) and SnakeBeta's magnitude as `bias` (the
    xcodec2 0.1.5 module's name); an anti-aliasing filter that is not the runtime's is refused."""
    import shutil
    import torch
    from safetensors.torch import load_file, save_file
    import convert
    from codec_convert import xcodec2 as conv
    from codec_convert.common import ConvertError
    paths = fo.model_paths(CACHE, "orig-tiny")
    sd = load_file(os.path.join(paths["ckpt"], "model.safetensors"))
    other = {k.replace(".parametrizations.weight.original0", ".weight_g").replace(".parametrizations.weight.original1",
                                                                              ".weight_v").replace(".act.beta", ".act.bias"): v
             for k, v in sd.items()}
    assert other.keys() != sd.keys()
    d = tmp_path / "other"
    d.mkdir()
    shutil.copy(os.path.join(paths["ckpt"], "config.json"), d / "config.json")
    save_file(other, str(d / "model.safetensors"))
    convert.convert(str(d), str(tmp_path / "other.gguf"))
    want, got = _gguf_tensors(paths["f32"]), _gguf_tensors(str(tmp_path / "other.gguf"))
    assert want.keys() == got.keys()
    assert all(np.array_equal(want[k], got[k]) for k in want)
    k = next(k for k in sd if k.endswith(".upsample.filter"))
    with pytest.raises(ConvertError, match="kaiser-sinc"):
        conv.convert({"model_type": "xcodec2"}, dict(sd, **{k: sd[k].flip(-1) * torch.linspace(0.9, 1.1, 12)}), None)


def test_full_size(tmp_path):
    """The original constructor as published (w2v-BERT 2.0's 24 layers, the 48-wide acoustic CNN,
    the 12-layer decoder): one encode of 3 s of speech, made and converted in a temporary dir (not
    cached: 3.3 GB)."""
    import shutil
    import convert
    ckpt = str(tmp_path / "ckpt")
    fo.make(CACHE, "orig-whole", 0, ckpt)
    gguf_path = str(tmp_path / "m.gguf")
    convert.convert(ckpt, gguf_path, "f32")
    x = speech(16000)[: 3 * 16000]
    ref = fo.encode_reference(CACHE, "orig-whole", {"ckpt": ckpt, "dir": str(tmp_path)}, {"pcm:speech3s": x})
    shutil.rmtree(ckpt)
    want = ref["codes:speech3s"]
    got = codec_cpp.Model(gguf_path, n_threads=2).encode(x).reshape(-1)
    rate = float((got == want).mean())
    diff = got != want
    record(f"xcodec2 original full-size encode 3 s ({len(want)} frames)", "codes equal", rate)
    record("xcodec2 original full-size encode 3 s", "differences / of them ties",
           f"{int(diff.sum())} / {int((diff & ties(ref['lat:speech3s'], [4] * 8)).sum())}")
    assert len(np.unique(want)) >= len(want) // 4, "random weights collapsed the codes"
    assert rate >= ENCODE_FLOOR
