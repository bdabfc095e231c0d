"""The Python package: one Model shared by many threads (context pool), batch calls, streams in
threads, the library look-up, and `python -m codec_cpp` against codec-cli."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import codec_cpp
from conftest import ROOT, make_model

N_THREADS, N_CALLS = 4, 3


def _signals(rate, n=5, seed=7):
    rng = np.random.default_rng(seed)
    # different lengths: each context sizes its graphs for what it last ran
    return [(rng.standard_normal(int(rate * (0.2 + 0.13 * i))) * 0.2).astype(np.float32) for i in range(n)]


def _same(a, b):
    if isinstance(a, tuple):
        return _same(a[0], b[0]) and np.array_equal(a[1], b[1])
    if isinstance(a, list):
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    return a.shape == b.shape and np.array_equal(a, b)


@pytest.fixture(scope="module", params=[("snac", "tiny"), ("mimi", "tiny"), ("encodec", "tiny_stereo")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def model(request, lib_path):
    codec_cpp.load_library(lib_path)
    m = codec_cpp.Model(make_model(*request.param)["f32"], n_threads=1)
    yield m
    m.close()


def test_threads_match_serial(model):
    xs = _signals(model.sample_rate)
    ref_codes = [model.encode(x) for x in xs]
    ref_audio = [model.decode(c) for c in ref_codes]
    results, errors = {}, []
    start = threading.Barrier(N_THREADS)

    def work(t):
        try:
            start.wait()
            for k in range(N_CALLS):
                for i in np.random.default_rng(t * 100 + k).permutation(len(xs)):
                    c = model.encode(xs[i])
                    a = model.decode(c)
                    results[(t, k, i)] = (c, a)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(N_THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert len(results) == N_THREADS * N_CALLS * len(xs)
    for (t, k, i), (c, a) in results.items():
        assert _same(c, ref_codes[i]), f"thread {t} call {k} input {i}: codes differ from the serial result"
        assert np.array_equal(a, ref_audio[i]), f"thread {t} call {k} input {i}: audio differs"
    assert model.n_contexts <= N_THREADS + 1  # one per concurrent caller at most (+ the serial one)


def test_batch_equals_one_by_one(model):
    xs = _signals(model.sample_rate, n=6, seed=3)
    one = [model.encode(x) for x in xs]
    for workers in (None, 1, 3):
        got = model.encode_batch(xs, workers=workers)
        assert len(got) == len(xs) and all(_same(a, b) for a, b in zip(got, one))
    audio = model.decode_batch(one, workers=3)
    assert all(np.array_equal(a, model.decode(c)) for a, c in zip(audio, one))
    if model.has_scales:  # codes and scales as separate lists
        audio2 = model.decode_batch([c for c, _ in one], scales=[s for _, s in one], workers=2)
        assert all(np.array_equal(a, b) for a, b in zip(audio, audio2))
    assert model.encode_batch([]) == []


def test_batch_error_is_raised(model):
    bad = np.zeros(64, np.float32)
    bad[3] = np.nan
    with pytest.raises(codec_cpp.CodecError, match="not finite"):
        model.encode_batch([np.zeros(model.sample_rate // 4, np.float32), bad], workers=2)


def test_streams_in_threads(lib_path):
    m = codec_cpp.Model(make_model("mimi", "tiny")["f32"], n_threads=1)
    xs = _signals(m.sample_rate, n=4)
    ref = [m.encode(x) for x in xs]
    out, errors = {}, []

    def work(i):
        try:
            parts = list(m.stream_encode(np.array_split(xs[i], 7)))
            out[i] = np.concatenate(parts, axis=1)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors
    for i in range(len(xs)):
        assert np.array_equal(out[i], ref[i])
    # One stream pushed from two threads: calls are serialized, nothing crashes.
    s = m.stream("encode")
    chunk = xs[0][:m.hop_size * 5]
    ts = [threading.Thread(target=lambda: [s.push(chunk) for _ in range(10)]) for _ in range(2)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    s.flush()
    assert s.pull().shape[1] == 100
    m.close()
    with pytest.raises(ValueError, match="closed"):
        m.encode(xs[0])


def test_close_waits_for_calls(lib_path):
    m = codec_cpp.Model(make_model("dac", "tiny")["f32"], n_threads=1)
    x = np.zeros(m.sample_rate * 2, np.float32)
    res = []
    def run():
        try:
            res.append(m.encode(x))
        except ValueError as e:  # the close came first
            res.append(e)

    t = threading.Thread(target=run)
    t.start()
    m.close()  # waits for the encode running in the thread, then frees
    t.join()
    assert len(res) == 1  # it ran before the close, or was refused with 'model is closed'; never a crash


def test_library_lookup_order(tmp_path):
    # Next to the module first, then CODEC_LIB, then the repository's build/.
    code = ("import codec_cpp, os; print(codec_cpp.library_path())")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), CODEC_LIB="/x/libcodec.so")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "/x/libcodec.so"
    env.pop("CODEC_LIB")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == os.path.join(ROOT, "build", "libcodec.so")
    # A library that cannot be loaded is an ImportError with a message saying what to do.
    bad = tmp_path / "libcodec.so"
    bad.write_bytes(b"not an ELF file")
    code = "import codec_cpp; codec_cpp.Model('x.gguf')"
    env["CODEC_LIB"] = str(bad)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "LibraryError" in out.stderr and "libggml-python" in out.stderr


def _cli():
    lib = os.environ.get("CODEC_LIB", os.path.join(ROOT, "build", "libcodec.so"))
    p = os.path.join(os.path.dirname(lib), "bin", "codec-cli")
    return p if os.path.exists(p) else None


def _pym(*args, cwd):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    return subprocess.run([sys.executable, "-m", "codec_cpp", *args], env=env, cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("arch,variant", [("dac", "tiny"), ("snac", "tiny"), ("encodec", "tiny_stereo")])
def test_python_cli_matches_codec_cli(tmp_path, arch, variant):
    sf = pytest.importorskip("soundfile")
    pytest.importorskip("soxr")
    cli = _cli()
    if cli is None:
        pytest.skip("codec-cli not built next to CODEC_LIB")
    model = make_model(arch, variant)["f32"]
    rng = np.random.default_rng(5)
    wav = tmp_path / "in.wav"
    sf.write(wav, (rng.standard_normal((33075, 2)) * 0.2).astype(np.float32), 44100, subtype="PCM_16")
    ext = ".npz" if arch == "snac" else ".npy"
    r = _pym("encode", "--model", model, "--in", str(wav), "--out", "py" + ext, "--threads", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    subprocess.run([cli, "encode", "--model", model, "--in", str(wav), "--out", "cli" + ext, "--threads", "1",
                    "--one-shot"], cwd=tmp_path, check=True, capture_output=True)
    if ext == ".npz":
        a, b = np.load(tmp_path / "py.npz"), np.load(tmp_path / "cli.npz")
        assert sorted(a.files) == sorted(b.files) and all(np.array_equal(a[k], b[k]) for k in a.files)
    else:
        assert np.array_equal(np.load(tmp_path / "py.npy"), np.load(tmp_path / "cli.npy"))
        if "stereo" in variant:
            assert np.array_equal(np.load(tmp_path / "py.scales.npy"), np.load(tmp_path / "cli.scales.npy"))
    # decode and roundtrip give the CLI's audio
    r = _pym("decode", "--model", model, "--codes", "py" + ext, "--out", "py.wav", "--subtype", "float", "--threads", "1",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    subprocess.run([cli, "decode", "--model", model, "--codes", "cli" + ext, "--out", "cli.wav", "--subtype", "float",
                    "--threads", "1", "--one-shot"], cwd=tmp_path, check=True, capture_output=True)
    a, ra = sf.read(tmp_path / "py.wav", dtype="float32")
    b, rb = sf.read(tmp_path / "cli.wav", dtype="float32")
    assert ra == rb and a.shape == b.shape and np.max(np.abs(a - b)) < 1e-5
    r = _pym("roundtrip", "--model", model, "--in", str(wav), "--out", "rt.wav", "--codes-out", "rt" + ext,
             "--threads", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    info = _pym("info", "--model", model, cwd=tmp_path)
    assert info.returncode == 0 and f"arch:           {arch}" in info.stdout
    bad = _pym("encode", "--model", str(tmp_path / "missing.gguf"), "--in", str(wav), "--out", "x.npy", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stderr.startswith("error:")
