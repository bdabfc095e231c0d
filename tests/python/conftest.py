"""Shared fixtures for parity tests: seeded reference checkpoints, converted GGUFs, signals."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))

CACHE = os.environ.get("CODEC_TEST_CACHE", os.path.join(ROOT, "tests", ".cache"))
RESULTS = []  # (test, metric, value) rows printed at the end of the session

import torch  # noqa: E402

THREADS = int(os.environ.get("CODEC_TEST_THREADS", "2"))  # torch's, and the models' where a test uses it
torch.set_num_threads(THREADS)


def record(test, metric, value):
    RESULTS.append((test, metric, value))


@pytest.fixture(autouse=True, scope="module")
def _free_module_caches(request):
    """Test modules keep models, references and outputs in module-level dicts (`_cache`, ...) for
    their own tests; drop them when the module is done (a Model frees its native memory when
    collected), or the session's memory is the sum of every module's: 12 GB by 85 % of the suite
    on a 24 GB machine before this."""
    yield
    import gc
    for name, value in list(vars(request.module).items()):
        if name.startswith("_") and not name.startswith("__") and isinstance(value, dict):
            value.clear()
    gc.collect()


# Modules that make and convert full-size checkpoints in tmp_path (GBs of temporary disk, freed
# when each test passes) run first, while the fixture cache is still small: the suite's peak disk
# is then the larger of the two, not their sum.
RUN_FIRST = ("test_xcodec2_encode.py", "test_xcodec2_parity.py", "test_xcodec2_original.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 0 if item.path.name in RUN_FIRST else 1)  # stable: order kept otherwise


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    terminalreporter.section("parity numbers")
    for test, metric, value in RESULTS:
        v = f"{value:.4f}" if isinstance(value, float) else str(value)
        terminalreporter.write_line(f"{test:<48} {metric:<28} {v}")
    with open(os.path.join(CACHE, "parity.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)


def make_model(arch, variant, seed=0):
    """Reference checkpoint dir + GGUF paths by outtype (converted on first use), cached across the
    session (and runs)."""
    import make_checkpoint
    from model_files import ModelFiles, make_checkpoint_dir
    d = os.path.join(CACHE, f"{arch}-{variant}-seed{seed}")
    ckpt = os.path.join(d, "ckpt")
    if not any(os.path.exists(os.path.join(ckpt, f)) for f in ("model.safetensors", "pytorch_model.bin")):
        os.makedirs(d, exist_ok=True)
        make_checkpoint_dir(ckpt, lambda out: make_checkpoint.main(
            ["--arch", arch, "--variant", variant, "--seed", str(seed), "--out", out]))
    return ModelFiles(d, ckpt)


def speech(rate, text="The quick brown fox jumps over the lazy dog. Codecs must be exact."):
    """Generated speech (espeak-ng), resampled with sox to `rate`, float32 mono."""
    with tempfile.TemporaryDirectory() as t:
        raw, out = os.path.join(t, "s.wav"), os.path.join(t, "r.wav")
        subprocess.run(["espeak-ng", "-w", raw, text], check=True, capture_output=True)
        subprocess.run(["sox", raw, "-r", str(rate), "-c", "1", "-e", "float", "-b", "32", out], check=True,
                       capture_output=True)
        import soundfile
        x, sr = soundfile.read(out, dtype="float32")
        assert sr == rate
    return x


def signals(rate, hop):
    rng = np.random.default_rng(1234)
    return {
        "speech": speech(rate),
        "noise": (rng.standard_normal(rate) * 0.3).astype(np.float32),
        "silence": np.zeros(rate // 2, dtype=np.float32),
        "odd_length": (rng.standard_normal(7 * hop + 123) * 0.2).astype(np.float32),
    }


def record_long_run(tag, summary, t_enc, t_senc, t_dec, t_sdec):
    """A long stream-vs-one-shot test's times (s) and the process's peak RSS: printed and recorded."""
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{tag}: {summary}; encode one-shot {t_enc:.1f} s, stream {t_senc:.1f} s; "
          f"decode one-shot {t_dec:.1f} s, stream {t_sdec:.1f} s; process peak RSS {rss:.0f} MB")
    for k, v in (("one-shot encode s", t_enc), ("stream encode s", t_senc), ("one-shot decode s", t_dec),
                 ("stream decode s", t_sdec), ("process peak RSS MB", rss)):
        record(tag, k, v)


def snr_db(ref, out):
    ref = np.asarray(ref, dtype=np.float64)
    err = np.asarray(out, dtype=np.float64) - ref
    return float(10 * np.log10(np.sum(ref ** 2) / max(np.sum(err ** 2), 1e-30)))


def stream_decode_cycling(model, x, sizes, block_frames=0, approx=None):
    """Decode stream over x (codes or latents [rows, n_frames]) pushed in pieces of sizes[0],
    sizes[1], ... (cycling), pulling after each push; the flushed rest at the end."""
    out, i, k = [], 0, 0
    with model.stream("decode", n_q=x.shape[0], block_frames=block_frames, approx=approx) as s:
        while i < x.shape[1]:
            n = sizes[k % len(sizes)]
            s.push(x[:, i:i + n])
            out.append(s.pull())
            i, k = i + n, k + 1
        s.flush()
        out.append(s.pull())
    return np.concatenate(out)


@pytest.fixture(scope="session")
def lib_path():
    p = os.environ.get("CODEC_LIB", os.path.join(ROOT, "build", "libcodec.so"))
    if not os.path.exists(p):
        pytest.fail(f"{p} not built: run scripts/test.sh (or cmake --build build)")
    return p


def approx_windows(decode, codes, hop, block, left, right, fade):
    """The approximate window stream's rule (docs/streaming.md), with `decode` (codes [1, n] -> PCM)
    computing each window: block [e, e + B) is the decode of [max(0, e - L), e + B + R) cut to the
    block, its first F frames faded linearly from the previous window's continuation; the flushed
    rest decodes [max(0, e - L), end)."""
    total, out, tail, e = codes.shape[1], [], None, 0
    while e < total:
        last = e + block + right > total
        ws = max(0, e - left)
        y = decode(codes[:, ws:] if last else codes[:, ws:e + block + right])
        a, b = (e - ws) * hop, (e - ws + block) * hop
        blk = np.array(y[a:] if last else y[a:b], dtype=np.float32)
        if tail is not None:
            n = min(len(tail), len(blk))
            w = (np.arange(n, dtype=np.float64) + 0.5).astype(np.float32) / np.float32(fade * hop)
            blk[:n] = (np.float32(1) - w) * tail[:n] + w * blk[:n]
        tail = None if last or fade == 0 else y[b:b + fade * hop]
        out.append(blk)
        e = total if last else e + block
    return np.concatenate(out)
