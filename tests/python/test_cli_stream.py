"""codec-cli's stream path (encode/decode/roundtrip in blocks, files written as they come) against
its one-shot path (--one-shot), and its peak memory on a long input against a short one."""
import os
import subprocess

import numpy as np
import pytest
import soundfile as sf

from conftest import ROOT, make_model, record

BLOCKS = [0.013, 0.1, 1.0]  # seconds: 13, 100 and 1000 frames of the tiny Mimi (hop 16 at 16 kHz)
CAUSAL = {"mimi", "encodec"}  # state carried: the one-shot codes exactly; others up to float rounding
CASES = [("mimi", b) for b in BLOCKS] + [(arch, 0.1) for arch in ("dac", "encodec", "snac")]


@pytest.fixture(scope="module")
def cli(lib_path):
    p = os.environ.get("CODEC_CLI", os.path.join(os.path.dirname(lib_path), "bin", "codec-cli"))
    if not os.path.exists(p):
        pytest.fail(f"{p} not built (set CODEC_CLI or build codec-cli next to CODEC_LIB)")
    return p


@pytest.fixture(scope="module")
def mimi():
    return make_model("mimi", "tiny")["f32"]


def run(cli, *args):
    r = subprocess.run([cli, *map(str, args), "--threads", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stderr


def peak_rss_mb(cli, *args):
    """Peak RSS of one codec-cli run, from /usr/bin/time: a child's ru_maxrss starts from its
    parent's peak when forked from this (large) Python process, but not when forked from time."""
    if not os.path.exists("/usr/bin/time"):
        pytest.skip("/usr/bin/time is not installed")
    r = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M", cli, *map(str, args), "--threads", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stderr.strip().splitlines()[-1].split("=")[1]) / 1024.0


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """3.3 s of stereo noise at 44.1 kHz: the reader resamples and downmixes block by block."""
    d = tmp_path_factory.mktemp("audio")
    x = (np.random.default_rng(0).standard_normal((int(3.3 * 44100) + 77, 2)) * 0.2).astype(np.float32)
    sf.write(d / "in.wav", x, 44100, subtype="FLOAT")
    return d / "in.wav"


def load_codes(path):
    if str(path).endswith(".npz"):
        z = np.load(path)
        return [z[f"level_{i}"] for i in range(len(z.files))]
    return [np.load(path)]


def codes_match(arch, a, b, what):
    """Same codes: exactly for causal models, else all but near-ties (float rounding)."""
    a, b = load_codes(a), load_codes(b)
    assert [x.shape for x in a] == [y.shape for y in b]
    frac = float(np.mean(np.concatenate([(x == y).ravel() for x, y in zip(a, b)])))
    record(f"cli_stream {arch} {what}", "codes_equal_frac", frac)
    assert frac == 1.0 if arch in CAUSAL else frac >= 0.999


@pytest.mark.parametrize("arch,block", CASES)
def test_stream_equals_one_shot(cli, audio, tmp_path, arch, block):
    model = make_model(arch, "tiny")["f32"]
    t, ext = tmp_path, ".npz" if arch == "snac" else ".npy"
    err = run(cli, "encode", "--model", model, "--in", audio, "--out", t / f"s{ext}", "--block-seconds", block)
    if "note: no encode stream" in err:
        pytest.skip(f"{arch} does not stream yet")
    assert "encode (stream)" in err
    run(cli, "encode", "--model", model, "--in", audio, "--out", t / f"o{ext}", "--one-shot")
    codes_match(arch, t / f"s{ext}", t / f"o{ext}", f"encode block={block}")
    if arch in CAUSAL:
        assert (t / f"s{ext}").read_bytes() == (t / f"o{ext}").read_bytes()

    err = run(cli, "decode", "--model", model, "--codes", t / f"o{ext}", "--out", t / "s.wav", "--subtype", "float",
              "--block-seconds", block)
    assert "decode (stream)" in err
    run(cli, "decode", "--model", model, "--codes", t / f"o{ext}", "--out", t / "o.wav", "--subtype", "float", "--one-shot")
    s, o = sf.read(t / "s.wav")[0], sf.read(t / "o.wav")[0]
    assert s.shape == o.shape
    record(f"cli_stream {arch} decode block={block}", "max_abs_diff", float(np.abs(s - o).max()))
    assert np.abs(s - o).max() < 1e-4  # float rounding (blocks are graphs of other sizes)

    for mode, extra in (("s", ["--block-seconds", block]), ("o", ["--one-shot"])):
        run(cli, "roundtrip", "--model", model, "--in", audio, "--out", t / f"r{mode}.wav", "--codes-out",
            t / f"r{mode}{ext}", "--subtype", "float", *extra)
    codes_match(arch, t / f"rs{ext}", t / f"ro{ext}", f"roundtrip block={block}")
    rs, (ro, rate) = sf.read(t / "rs.wav")[0], sf.read(t / "ro.wav")
    n_in = sf.info(str(audio)).frames * rate // 44100  # the input's length at the model's rate
    assert len(rs) == len(ro) <= n_in + 1  # trimmed to the input's length
    record(f"cli_stream {arch} roundtrip block={block}", "max_abs_diff", float(np.abs(rs - ro).max()))
    assert np.abs(rs - ro).max() < 1e-4


@pytest.mark.parametrize("block", [0.08, 1.0])
def test_latent_stream_equals_one_shot(cli, tmp_path, block):
    """Continuous latents (Pocket TTS's Mimi, causal): encode, decode and roundtrip streamed in
    blocks of 1 and 12 frames against --one-shot (float rounding: graphs of other sizes)."""
    from conftest import CACHE
    import pocket_tts
    model, t = pocket_tts.make_model(CACHE, "tiny")["f32"], tmp_path
    x = (np.random.default_rng(1).standard_normal(24000 * 2 + 333) * 0.2).astype(np.float32)
    sf.write(t / "in.wav", x, 24000, subtype="FLOAT")
    modes = (("s", ["--block-seconds", block]), ("o", ["--one-shot"]))
    for mode, extra in modes:
        err = run(cli, "encode", "--model", model, "--in", t / "in.wav", "--out", t / f"{mode}.npy", *extra)
        assert ("encode (stream)" in err) == (mode == "s"), err
    for mode, extra in modes:
        err = run(cli, "decode", "--model", model, "--codes", t / "o.npy", "--out", t / f"{mode}.wav", "--subtype", "float",
                  *extra)
        assert ("decode (stream)" in err) == (mode == "s"), err
        run(cli, "roundtrip", "--model", model, "--in", t / "in.wav", "--out", t / f"r{mode}.wav", "--codes-out",
            t / f"r{mode}.npy", "--subtype", "float", *extra)
    for a, b, what in (("s.npy", "o.npy", "encode"), ("s.wav", "o.wav", "decode"), ("rs.wav", "ro.wav", "roundtrip"),
                       ("rs.npy", "ro.npy", "roundtrip latent")):
        read = np.load if a.endswith(".npy") else (lambda p: sf.read(p, dtype="float32")[0])
        s_, o_ = read(t / a), read(t / b)
        assert s_.shape == o_.shape, what
        diff = float(np.abs(s_ - o_).max())
        record(f"cli_stream pocket {what} block={block}", "max_abs_diff", diff)
        assert diff < 1e-4
    assert len(sf.read(t / "rs.wav")[0]) == len(x)  # trimmed to the input's length


def test_pcm16_output_and_flac(cli, mimi, audio, tmp_path):
    """Default subtype (pcm16, clipped per block) and FLAC: the same samples as the one-shot writer."""
    t = tmp_path
    run(cli, "roundtrip", "--model", mimi, "--in", audio, "--out", t / "s.flac", "--block-seconds", 0.05)
    run(cli, "roundtrip", "--model", mimi, "--in", audio, "--out", t / "o.flac", "--one-shot")
    s, o = sf.read(t / "s.flac", dtype="int16")[0], sf.read(t / "o.flac", dtype="int16")[0]
    assert s.shape == o.shape and np.abs(s.astype(int) - o).max() <= 1  # an LSB where rounding meets a tie


def test_errors_match_one_shot(cli, mimi, tmp_path):
    """Inputs the stream path refuses, with the one-shot path's messages."""
    sf.write(tmp_path / "empty.wav", np.zeros((0,), np.float32), 16000)
    np.save(tmp_path / "bad.npy", np.zeros((9, 10), np.int32))  # the tiny Mimi has fewer codebooks
    for args in (["encode", "--in", tmp_path / "empty.wav", "--out", tmp_path / "x.npy"],
                 ["decode", "--codes", tmp_path / "bad.npy", "--out", tmp_path / "x.wav"],
                 ["decode", "--codes", tmp_path / "missing.npy", "--out", tmp_path / "x.wav"]):
        msgs = []
        for mode in ([], ["--one-shot"]):
            r = subprocess.run([cli, args[0], "--model", mimi, *map(str, args[1:]), *mode], capture_output=True, text=True)
            assert r.returncode == 1
            msgs.append(r.stderr.strip().splitlines()[-1])
        assert msgs[0] == msgs[1]
        assert not (tmp_path / "x.wav").exists() and not (tmp_path / "x.npy").exists()


def test_peak_memory_is_bounded(cli, mimi, tmp_path):
    """A long input streams in about the peak memory of a short one."""
    rng = np.random.default_rng(1)
    rss = {}
    for name, secs in (("short", 10), ("long", 600)):
        path = tmp_path / f"{name}.flac"
        with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as f:
            for _ in range(secs // 10):
                f.write((rng.standard_normal(160000) * 0.2).astype(np.float32))
        rss[name] = peak_rss_mb(cli, "encode", "--model", mimi, "--in", path, "--out", tmp_path / f"{name}.npy",
                                "--block-seconds", 0.05)
        record(f"cli_stream encode {secs} s", "peak_rss_mb", rss[name])
    assert np.load(tmp_path / "long.npy").shape[1] == 600 * 1000
    assert rss["long"] <= 1.25 * rss["short"] + 8, rss
