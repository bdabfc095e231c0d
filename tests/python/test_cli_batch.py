"""codec-cli over several files (--in / --codes repeated, --list, --out-dir, --batch: the library's
batch calls) against the one-file one-shot path (--one-shot), file by file; and its refusals: a bad
or missing file names the file (exit 1), a bad command line exits 2."""
import os
import subprocess

import numpy as np
import pytest
import soundfile as sf

from conftest import make_model, record

# (arch, variant, codes extension): DAC has a batch graph (same-length inputs in one graph);
# EnCodec 48 kHz (per-chunk scales, stereo) and SNAC (multi-rate levels, .npz) keep their own paths.
CASES = [("dac", "24khz", ".npy"), ("encodec", "48khz", ".npy"), ("snac", "24khz", ".npz")]


@pytest.fixture(scope="module")
def cli(lib_path):
    p = os.environ.get("CODEC_CLI", os.path.join(os.path.dirname(lib_path), "bin", "codec-cli"))
    if not os.path.exists(p):
        pytest.fail(f"{p} not built (set CODEC_CLI or build codec-cli next to CODEC_LIB)")
    return p


@pytest.fixture(scope="module")
def dac():
    return make_model("dac", "24khz")["f32"]


def call(cli, *args):
    return subprocess.run([cli, *map(str, args), "--threads", "2"], capture_output=True, text=True)


def run(cli, *args):
    r = call(cli, *args)
    assert r.returncode == 0, r.stderr
    return r.stderr


def write_inputs(d, rate):
    """Two inputs of one length (one graph where the model batches), a longer one, and one at
    another rate in stereo (resampled and mixed by the reader, as for one file)."""
    rng = np.random.default_rng(3)
    n = int(0.3 * rate)
    files = []
    for name, x, r in (("a", rng.standard_normal(n), rate), ("b", rng.standard_normal(n), rate),
                       ("c", rng.standard_normal(n + 777), rate), ("d", rng.standard_normal((int(0.3 * 44100), 2)), 44100)):
        sf.write(d / f"{name}.wav", (0.2 * x).astype(np.float32), r, subtype="FLOAT")
        files.append(d / f"{name}.wav")
    return files


def load_codes(path):
    if str(path).endswith(".npz"):
        z = np.load(path)
        return [z[f"level_{i}"] for i in range(len(z.files))]
    return [np.load(path)]


@pytest.mark.parametrize("arch,variant,ext", CASES)
def test_batch_equals_one_shot(cli, tmp_path, arch, variant, ext):
    model = make_model(arch, variant)["f32"]
    t = tmp_path
    files = write_inputs(t, 48000 if variant == "48khz" else 24000)
    ins = [a for f in files for a in ("--in", f)]
    # --batch 3: a call with the same-length pair and one more, then a call of one
    err = run(cli, "encode", "--model", model, *ins, "--out-dir", t / "enc", "--batch", 3)
    assert "batch 2/2" in err
    for f in files:
        run(cli, "encode", "--model", model, "--in", f, "--out", t / f"{f.stem}.one{ext}", "--one-shot")
        a, b = load_codes(t / "enc" / f"{f.stem}{ext}"), load_codes(t / f"{f.stem}.one{ext}")
        assert len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b)), f.name
        if arch == "encodec":  # the scales beside the codes, as one file's encode writes them
            assert np.array_equal(np.load(t / "enc" / f"{f.stem}.scales.npy"), np.load(t / f"{f.stem}.one.scales.npy"))

    # decode over several codes files, given by --list (comments and blank lines skipped)
    codes = [t / "enc" / f"{f.stem}{ext}" for f in files]
    (t / "list.txt").write_text("# codes\n" + "\n".join(map(str, codes[1:])) + "\n\n")
    run(cli, "decode", "--model", model, "--codes", codes[0], "--list", t / "list.txt", "--out-dir", t / "dec",
        "--subtype", "float")
    worst = 0.0
    for c in codes:
        run(cli, "decode", "--model", model, "--codes", c, "--out", t / f"{c.stem}.one.wav", "--subtype", "float", "--one-shot")
        a, b = sf.read(t / "dec" / f"{c.stem}.wav")[0], sf.read(t / f"{c.stem}.one.wav")[0]
        assert a.shape == b.shape, c.name
        worst = max(worst, float(np.abs(a - b).max()))
    record(f"cli_batch {arch}-{variant} decode", "max_abs_diff", worst)  # float rounding at most
    assert worst < 1e-4

    if arch != "dac":
        return
    # roundtrip: the batch encode's codes through the batch decode, trimmed to each input's length
    run(cli, "roundtrip", "--model", model, *ins, "--out-dir", t / "rt", "--subtype", "float")
    for f in files:
        (a, rate), b = sf.read(t / "rt" / f"{f.stem}.wav"), sf.read(t / "dec" / f"{f.stem}.wav")[0]
        info = sf.info(str(f))
        assert len(a) == min(len(b), -(-info.frames * rate // info.samplerate)), f.name
        assert np.abs(a - b[:len(a)]).max() < 1e-4, f.name
    run(cli, "roundtrip", "--model", model, "--in", files[3], "--out", t / "d.rt.wav", "--subtype", "float", "--one-shot")
    a, b = sf.read(t / "rt" / "d.wav")[0], sf.read(t / "d.rt.wav")[0]
    assert a.shape == b.shape and np.abs(a - b).max() < 1e-4


def test_continuous_one_by_one(cli, tmp_path):
    """Continuous latents (Pocket TTS's Mimi) have no batch call: file after file, as --one-shot."""
    from conftest import CACHE
    import pocket_tts
    model, t = pocket_tts.make_model(CACHE, "tiny")["f32"], tmp_path
    files = write_inputs(t, 24000)
    err = run(cli, "encode", "--model", model, *[a for f in files for a in ("--in", f)], "--out-dir", t / "enc")
    assert "one file at a time" in err
    lat = [t / "enc" / f"{f.stem}.npy" for f in files]
    run(cli, "decode", "--model", model, *[a for f in lat for a in ("--codes", f)], "--out-dir", t / "dec", "--subtype", "float")
    for f, z in zip(files, lat):
        run(cli, "encode", "--model", model, "--in", f, "--out", t / f"{f.stem}.one.npy", "--one-shot")
        assert np.array_equal(np.load(z), np.load(t / f"{f.stem}.one.npy")), f.name
        run(cli, "decode", "--model", model, "--codes", z, "--out", t / f"{f.stem}.one.wav", "--subtype", "float", "--one-shot")
        assert np.array_equal(sf.read(t / "dec" / f"{f.stem}.wav")[0], sf.read(t / f"{f.stem}.one.wav")[0]), f.name


def test_bad_files_name_the_file(cli, dac, tmp_path):
    t = tmp_path
    a, b = write_inputs(t, 24000)[:2]
    (t / "bad.wav").write_bytes(b"not audio")
    # missing: found before any work, nothing written
    r = call(cli, "encode", "--model", dac, "--in", a, "--in", t / "missing.wav", "--out-dir", t / "o1")
    assert r.returncode == 1 and "missing.wav" in r.stderr
    assert not (t / "o1").exists() or not os.listdir(t / "o1")
    # unreadable, in the second call: the first call's output stays, and the message says so
    r = call(cli, "encode", "--model", dac, "--in", a, "--in", t / "bad.wav", "--in", b, "--out-dir", t / "o2", "--batch", 1)
    assert r.returncode == 1 and "bad.wav" in r.stderr, r.stderr
    assert sorted(os.listdir(t / "o2")) == ["a.npy"] and "first 1 of 3" in r.stderr
    # a missing --list
    r = call(cli, "encode", "--model", dac, "--list", t / "nolist.txt", "--out-dir", t / "o3")
    assert r.returncode == 1 and "nolist.txt" in r.stderr
    # decode: a code out of range, found by the library's batch call, named by file; nothing of the batch written
    np.save(t / "ok.npy", np.zeros((4, 10), np.int32))
    np.save(t / "big.npy", np.full((4, 10), 1 << 20, np.int32))
    r = call(cli, "decode", "--model", dac, "--codes", t / "ok.npy", "--codes", t / "big.npy", "--out-dir", t / "o4")
    assert r.returncode == 1 and "big.npy" in r.stderr, r.stderr
    assert not os.listdir(t / "o4") and "no output written" in r.stderr
    # decode: a file of the wrong shape
    np.save(t / "flat.npy", np.zeros((3, 2, 2), np.int32))
    r = call(cli, "decode", "--model", dac, "--codes", t / "ok.npy", "--codes", t / "flat.npy", "--out-dir", t / "o5")
    assert r.returncode == 1 and "flat.npy" in r.stderr, r.stderr


def test_usage_errors(cli, dac, tmp_path):
    t = tmp_path
    a, b = write_inputs(t, 24000)[:2]
    (t / "x").mkdir()
    sf.write(t / "x" / "a.wav", np.zeros(2400, np.float32), 24000)
    two = ["--in", a, "--in", b]
    for args in (["encode", *two, "--out", t / "o.npy"],                          # --out names one file
                 ["encode", *two],                                                # no --out-dir
                 ["roundtrip", *two, "--out-dir", t / "o", "--codes-out", t / "c.npy"],
                 ["decode", "--codes", t / "a.npy", "--codes", t / "b.npy", "--out-dir", t / "o", "--scales", t / "s.npy"],
                 ["encode", *two, "--out-dir", t / "o", "--block-seconds", 0.5],  # several files are not streamed
                 ["encode", *two, "--out-dir", t / "o", "--batch", 0],
                 ["encode", "--in", a, "--out", t / "o.npy", "--batch", 2],       # --batch with one file
                 ["decode", "--codes", t / "a.npy", "--out-dir", t / "o", "--subtype", "pcm8"],
                 ["encode", "--in", a, "--in", t / "x" / "a.wav", "--out-dir", t / "o"],  # both would write o/a.npy
                 ["roundtrip", *two, "--out-dir", t]):                             # would overwrite the inputs
        r = call(cli, args[0], "--model", dac, *args[1:])
        assert r.returncode == 2, (args, r.stderr)
    assert not (t / "o").exists()
