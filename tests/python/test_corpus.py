"""python -m codec_cpp.corpus on a local Ray (2 CPUs): ~20 generated files of different rates,
channel counts and formats plus a corrupt and an empty one. Every good file's codes in the
Parquet equal codec-cli's and Model.encode's; the bad files are in the errors table; a second
run adds nothing; a run killed midway and restarted ends with exactly one row per good file;
decode writes the audio back."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, make_model

ray = pytest.importorskip("ray")
sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")
pq = pytest.importorskip("pyarrow.parquet")

import codec_cpp  # noqa: E402
from codec_cpp import audio as aio  # noqa: E402
from codec_cpp import corpus  # noqa: E402

FORMATS = [("wav", "PCM_16"), ("flac", "PCM_16"), ("wav", "FLOAT"), ("flac", "PCM_24"), ("ogg", "VORBIS"),
           ("wav", "PCM_24")]
RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(11)
    good = []
    for i in range(20):
        ext, subtype = FORMATS[i % len(FORMATS)]
        rate, ch = RATES[i % len(RATES)], 1 + (i % 3 == 1) + (i % 7 == 3)
        n = int(rate * (0.25 + 0.05 * (i % 9)))
        t = np.arange(n) / rate
        x = 0.3 * np.sin(2 * np.pi * (150 + 40 * i) * t)[:, None] + 0.05 * rng.standard_normal((n, ch))
        sub = d / f"spk{i % 4}" / ("deep" if i % 5 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        p = sub / f"utt{i:02d}_{rate}_{ch}ch.{ext}"
        sf.write(p, x.astype(np.float32), rate, subtype=subtype)
        good.append(str(p))
    (d / "spk0" / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(64))
    (d / "spk1" / "empty.flac").write_bytes(b"")
    # Reads fine but is too short to encode: its batch falls back to one call per file.
    sf.write(d / "spk2" / "one_sample.wav", np.zeros((1, 1), np.float32) + 0.1, 16000, subtype="FLOAT")
    bad = [str(d / "spk0" / "corrupt.wav"), str(d / "spk1" / "empty.flac"), str(d / "spk2" / "one_sample.wav")]
    return d, sorted(good), sorted(bad)


@pytest.fixture(scope="module")
def ray_local(lib_path):
    # Workers (started by the local raylet) inherit these: the source-tree package and its library.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.join(ROOT, "python"), os.environ.get("PYTHONPATH"))
                                               if p)
    os.environ["CODEC_LIB"] = lib_path
    ctx = ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    yield ctx.address_info["address"]
    ray.shutdown()


@pytest.fixture(scope="module")
def model():
    return make_model("dac", "tiny")["f32"]


def _encode(model, inp, out, *extra):
    return corpus.main(["encode", "--model", model, "--input", inp, "--output", str(out), "--workers", "2",
                        "--batch-size", "4", "--keep-ray", "--no-progress", *extra])


def _rows(out):
    t = corpus.read_codes_table(str(out))
    return {r["path"]: r for r in t.to_pylist()}, t.num_rows


def _cli():
    p = os.path.join(os.path.dirname(os.environ["CODEC_LIB"]), "bin", "codec-cli")
    return p if os.path.exists(p) else None


def test_encode_matches_cli_and_resumes(ray_local, corpus_dir, model, tmp_path):
    d, good, bad = corpus_dir
    out = tmp_path / "codes"
    assert _encode(model, str(d / "**" / "*.*"), out) == 0
    rows, n = _rows(out)
    assert n == len(good) and sorted(rows) == good
    errs = corpus.read_errors_table(str(out)).to_pylist()
    assert sorted(e["path"] for e in errs) == bad and all(e["error"] for e in errs)
    assert [e["stage"] for e in errs if e["path"].endswith("one_sample.wav")] == ["encode"]
    sha = corpus.file_sha256(model)
    cli = _cli()
    m = codec_cpp.Model(model, n_threads=1)
    for i, p in enumerate(good):
        r = rows[p]
        assert r["model_sha256"] == sha and r["arch"] == "dac"
        info = sf.info(p)
        assert (r["sample_rate"], r["channels"], r["samples"]) == (info.samplerate, info.channels, info.frames)
        codes = corpus.row_codes(r)
        assert codes.dtype == np.int32 and r["n_q"] == codes.shape[0] and r["frames"] == codes.shape[1]
        pcm, _ = aio.read_audio(p, m.sample_rate, m.channels)
        assert np.array_equal(codes, m.encode(pcm)), p
        if cli and i % 2 == 0:  # codec-cli on every other file (the same reader and resampler)
            subprocess.run([cli, "encode", "--model", model, "--in", p, "--out", str(tmp_path / "c.npy"), "--threads",
                            "1", "--one-shot"], check=True, capture_output=True)
            assert np.array_equal(codes, np.load(tmp_path / "c.npy")), p
    m.close()
    parts = sorted(os.listdir(out / "codes"))
    # A second run adds nothing (errors are not retried unless --retry-errors).
    assert _encode(model, str(d / "**" / "*.*"), out) == 0
    assert sorted(os.listdir(out / "codes")) == parts and _rows(out)[1] == len(good)
    assert len(corpus.read_errors_table(str(out))) == len(bad)

    # decode: one audio file per row, trimmed to the encoded length
    aud = tmp_path / "audio"
    assert corpus.main(["decode", "--model", model, "--input", str(out), "--output", str(aud), "--workers", "2",
                        "--limit", "5", "--keep-ray", "--no-progress"]) == 0
    files = sorted(os.listdir(aud))
    assert len(files) == 5 and all(f.endswith(".wav") for f in files)
    by_name = {corpus.audio_name(p, "wav"): rows[p] for p in rows}
    for f in files:
        x, rate = sf.read(aud / f)
        assert rate == 16000 and len(x) == by_name[f]["model_samples"]


def test_killed_run_restarts_to_one_row_per_file(ray_local, corpus_dir, model, tmp_path):
    d, good, bad = corpus_dir
    out = tmp_path / "codes"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    cmd = [sys.executable, "-m", "codec_cpp.corpus", "encode", "--model", model, "--input", str(d / "**" / "*.*"),
           "--output", str(out), "--workers", "1", "--batch-size", "1", "--address", ray_local, "--test-delay", "0.4",
           "--no-progress"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts_dir = out / "codes"
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            if parts_dir.exists() and len([f for f in os.listdir(parts_dir) if f.endswith(".parquet")]) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the job's driver (its own session); Ray then ends its actors
        proc.wait()
    # Let the dead job's actors go (a batch in flight may still land, whole or not at all).
    last, still = -1, 0
    while still < 3:
        time.sleep(1)
        n = len(os.listdir(parts_dir))
        still, last = (still + 1, n) if n == last else (0, n)
    killed_rows = _rows(out)[1]
    assert 0 < killed_rows < len(good)
    # a half-written part from a crash: hidden temporary name, never counted
    (parts_dir / ".part-deadbeef.parquet.1234.tmp").write_bytes(b"PAR1 half")
    assert _encode(model, str(d / "**" / "*.*"), out) == 0
    rows, n = _rows(out)
    assert n == len(good) and sorted(rows) == good, f"{n} rows for {len(good)} files (killed run had {killed_rows})"
    assert sorted(e["path"] for e in corpus.read_errors_table(str(out)).to_pylist()) == bad


def test_formats_snac_levels_and_encodec_scales(corpus_dir, lib_path):
    """The table layout for multi-rate codes (a list per level) and per-chunk scales, without Ray."""
    pa = pytest.importorskip("pyarrow")
    d, good, _ = corpus_dir
    for arch, variant in (("snac", "tiny"), ("encodec", "tiny_stereo")):
        path = make_model(arch, variant)["f32"]
        m = codec_cpp.Model(path, n_threads=1)
        batch = corpus.load_stage(pa.table({"path": good[:3] + [str(d / "spk1" / "empty.flac")]}), m.sample_rate,
                                  m.channels)
        out = d.parent / f"fmt-{arch}"
        actor = corpus.EncodeActor(path, corpus.file_sha256(path), str(out), 1, -1)
        s = actor(batch).to_pylist()[0]
        assert (s["files"], s["errors"]) == (3, 1)
        for r in corpus.read_codes_table(str(out)).to_pylist():
            pcm, _ = aio.read_audio(r["path"], m.sample_rate, m.channels)
            ref, got = m.encode(pcm), corpus.row_codes(r)
            if arch == "snac":
                assert isinstance(got, list) and len({len(x) for x in got}) > 1
                assert all(np.array_equal(a, b) for a, b in zip(got, ref))
            else:
                assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1]) and len(r["scales"]) >= 1
        m.close()


def test_table_input(ray_local, corpus_dir, model, tmp_path):
    """A Parquet table whose audio column holds the files' bytes ({bytes, path} structs, as
    Hugging Face datasets write them) instead of files."""
    pa = pytest.importorskip("pyarrow")
    d, good, bad = corpus_dir
    files = good[:3] + bad[:1]
    audio = pa.array([{"bytes": open(p, "rb").read(), "path": p} for p in files],
                     pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    pq.write_table(pa.table({"audio": audio}), tmp_path / "table.parquet")
    out = tmp_path / "codes"
    assert _encode(model, str(tmp_path / "table.parquet"), out) == 0
    rows, n = _rows(out)
    assert sorted(rows) == good[:3]
    assert [e["path"] for e in corpus.read_errors_table(str(out)).to_pylist()] == bad[:1]
    m = codec_cpp.Model(model, n_threads=1)
    for p in good[:3]:
        assert np.array_equal(corpus.row_codes(rows[p]), m.encode(aio.read_audio(p, m.sample_rate, 1)[0]))
    m.close()
    assert _encode(model, str(tmp_path / "table.parquet"), out) == 0  # resumes: nothing new
    assert _rows(out)[1] == 3
