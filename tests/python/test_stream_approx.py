"""Approximate window decode streams (codec_stream_params.approximate) of the models that no bounded
context decodes exactly: XCodec2 / NeuCodec and WavTokenizer (attention and GroupNorm over the whole
sequence). What is exact here is the rule, not the audio: every block [e, e + B) is the one-shot
decode of the window [max(0, e - left), e + B + right) cut to the block, faded in linearly over its
first `fade` frames from the previous window's continuation. The expected output is computed from
that rule in numpy, from our own one-shot decodes of the windows (each parity-tested against its
reference elsewhere), and the stream must equal it for any chunking. How far the windows are from
the one-shot decode of the whole input is measured and recorded (seeded random weights: attention
near uniform, the worst case for windows), not asserted."""
import numpy as np
import pytest

import codec_cpp
import soprano as soprano_fx
import wavtokenizer as wt_fx
import xcodec2 as xc
from conftest import CACHE, approx_windows, record, snr_db, stream_decode_cycling

RULE_SNR_FLOOR = 100.0  # dB, stream vs the rule applied to one-shot window decodes (float rounding of the fade)
_models = {}


def model(name):
    if name not in _models:
        if name.startswith("wavtokenizer"):
            path = wt_fx.make_model(CACHE, name.split("-")[1])["f32"]
        else:
            path = xc.model_paths(CACHE, name)["f32"]
        _models[name] = codec_cpp.Model(path, n_threads=2)
    return _models[name]


def random_codes(m, n, seed):
    return np.random.default_rng(seed).integers(0, m.codebook_size, (1, n)).astype(np.int32)


def info_hop(m):
    """Output samples per frame of a one-shot decode (WavTokenizer 40 tok/s: 600, its encoder's hop 640)."""
    return len(m.decode(np.zeros((1, 4), np.int32))) // 4


def by_rule(m, codes, block, left, right, fade):
    return approx_windows(m.decode, codes, info_hop(m), block, left, right, fade)


def streamed(m, codes, block, approx, sizes):
    with m.stream("decode", n_q=codes.shape[0], block_frames=block, approx=approx) as s:
        info = s.info
    return stream_decode_cycling(m, codes, sizes, block, approx), info


CASES = [  # (model, total frames, block, left, right, fade)
    ("neucodec-l2", 173, 25, 50, 5, 1),  # NeuTTS's streaming geometry
    ("neucodec-l2", 120, 16, 8, 4, 4),
    ("xcodec2-l2", 131, 25, 20, 3, 0),  # no fade: hard cuts
    ("wavtokenizer-75", 160, 30, 40, 6, 2),
    ("wavtokenizer-40", 90, 20, 10, 0, 0),  # no lookahead
]


@pytest.mark.parametrize("name,total,block,left,right,fade", CASES)
def test_stream_follows_the_window_rule(name, total, block, left, right, fade):
    m = model(name)
    codes = random_codes(m, total, 7)
    want = by_rule(m, codes, block, left, right, fade)
    assert len(want) == total * info_hop(m)
    for sizes in ([1], [3, 11, 2, 40], [total]):
        got, info = streamed(m, codes, block, (left, right, fade), sizes)
        assert info["approximate"] and not info["carries_state"]
        assert (info["left_frames"], info["lookahead_frames"], info["fade_frames"]) == (left, right, fade)
        assert info["first_frames"] == block + right and info["hop_size"] == info_hop(m)
        assert got.shape == want.shape, sizes
        snr = snr_db(want, got)
        assert snr >= RULE_SNR_FLOOR, f"{name} pushes {sizes}: {snr:.1f} dB against the window rule"
    full = m.decode(codes)
    vs_full = snr_db(full, got)
    print(f"{name} block {block}, context {left}/{right}, fade {fade}: {snr:.1f} dB vs the rule, {vs_full:.1f} dB vs one-shot")
    record(f"{name} approx stream {block}/{left}/{right}/{fade}", "SNR dB vs one-shot decode", vs_full)
    if fade:  # the fade is real: without it the output differs
        hard, _ = streamed(m, codes, block, (left, right, 0), [total])
        assert snr_db(want, hard) < RULE_SNR_FLOOR


def test_reset_forgets_the_fade_tail():
    m = model("neucodec-l2")
    codes = random_codes(m, 70, 3)
    want = by_rule(m, codes, 20, 10, 4, 2)
    with m.stream("decode", n_q=1, block_frames=20, approx=(10, 4, 2)) as s:
        s.push(random_codes(m, 37, 4))  # leaves a fade tail behind
        s.pull()
        s.reset()
        s.push(codes)
        s.flush()
        got = s.pull()
    assert snr_db(want, got) >= RULE_SNR_FLOOR


def test_refused_unless_asked_and_bad_geometry():
    for name in ("neucodec-l2", "wavtokenizer-75"):
        with pytest.raises(codec_cpp.CodecError, match="whole sequence.*approximate"):
            model(name).stream("decode", n_q=1)
    m = model("xcodec2-l2")
    for approx in ((-1, 5), (10, -2), (10, 2, 3), (10, 2, -1)):
        with pytest.raises(codec_cpp.CodecError, match="approx_fade_frames <= approx_right_frames"):
            m.stream("decode", n_q=1, approx=approx)
    with pytest.raises(ValueError, match="approx must be"):
        m.stream("decode", n_q=1, approx=(1,))
    with pytest.raises(codec_cpp.CodecError, match="conformer"):  # approximate codes would not be the codes
        model("tiny-enc").stream("encode", approx=(10, 5))


def test_exact_streams_ignore_approx():
    """Soprano streams exactly in windows of its receptive field: approx_* leave them alone."""
    m = codec_cpp.Model(soprano_fx.make_model(CACHE)["f32"], n_threads=2)
    with m.stream("decode", approx=(0, 0, 0)) as s:
        i = s.info
    assert not i["approximate"] and (i["left_frames"], i["lookahead_frames"], i["fade_frames"]) == (3, 4, 0)


def test_cli_decodes_in_approximate_windows(lib_path, tmp_path):
    """codec-cli decode --approx L,R,F streams in those windows (the Python stream's output, written
    as float WAV); without it the model takes the one-shot path and says why; --approx with
    --one-shot or several files is a usage error."""
    import os
    import subprocess

    import soundfile as sf

    cli = os.environ.get("CODEC_CLI", os.path.join(os.path.dirname(lib_path), "bin", "codec-cli"))
    m = model("neucodec-l2")
    path = xc.model_paths(CACHE, "neucodec-l2")["f32"]
    codes = random_codes(m, 150, 11)
    np.save(tmp_path / "c.npy", codes)
    block = round(0.5 * m.sample_rate / m.hop_size)  # --block-seconds 0.5 in frames, as the CLI rounds it

    def cli_run(*args):
        return subprocess.run([cli, "decode", "--model", path, "--codes", tmp_path / "c.npy", "--subtype", "float",
                               "--threads", "2", *map(str, args)], capture_output=True, text=True)

    r = cli_run("--out", tmp_path / "a.wav", "--block-seconds", 0.5, "--approx", "50,5,1")
    assert r.returncode == 0, r.stderr
    assert "decode (stream)" in r.stderr
    want, _ = streamed(m, codes, block, (50, 5, 1), [150])
    got = sf.read(tmp_path / "a.wav", dtype="float32")[0]
    assert got.shape == want.shape and snr_db(want, got) >= RULE_SNR_FLOOR

    r = cli_run("--out", tmp_path / "o.wav")
    assert r.returncode == 0 and "no decode stream" in r.stderr and "approximate" in r.stderr
    assert np.abs(sf.read(tmp_path / "o.wav", dtype="float32")[0] - m.decode(codes)).max() < 1e-5

    for bad in (["--approx", "5"], ["--approx", "5,2,3"], ["--approx", "5,-1"], ["--approx", "a,b"],
                ["--approx", "5,2", "--one-shot"]):
        r = cli_run("--out", tmp_path / "x.wav", *bad)
        assert r.returncode == 2 and "--approx" in r.stderr, (bad, r.stderr)
    r = subprocess.run([cli, "decode", "--model", path, "--codes", tmp_path / "c.npy", "--codes", tmp_path / "c.npy",
                        "--out-dir", tmp_path / "d", "--approx", "5,2"], capture_output=True, text=True)
    assert r.returncode == 2 and "--approx does not apply to several files" in r.stderr, r.stderr
