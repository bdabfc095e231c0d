"""Batch calls (codec_encode_batch / codec_decode_batch through Model.encode_batch / decode_batch):
each result equals the one-input call, for models with a batch graph (DAC, EnCodec 24 kHz, Mimi:
same-length inputs in one graph, which really runs as one) and for models that run batches one
input at a time (EnCodec 48 kHz: per-chunk scales, stereo); one batched result is also checked
against the PyTorch reference's own batched call; bad inputs name the input."""
import ctypes

import numpy as np
import pytest
import torch

import codec_cpp
from conftest import make_model, record, snr_db
from make_checkpoint import load_dac_reference

_models = {}


def model(arch, variant):
    if (arch, variant) not in _models:
        paths = make_model(arch, variant)
        _models[arch, variant] = (paths, codec_cpp.Model(paths["f32"], n_threads=2))
    return _models[arch, variant]


def inputs(sr, hop, channels=1):
    """Five inputs, three of one length (one graph), one a little longer and one shorter, so a
    batch has a group and singletons; dithered noise with a speech-like envelope."""
    rng = np.random.default_rng(7)
    lens = [2 * sr, 2 * sr, 2 * sr + 123, 2 * sr, sr + hop // 2]
    out = []
    for n in lens:
        env = 0.5 + 0.5 * np.sin(np.linspace(0, 6 * np.pi, n)) ** 2
        x = (0.2 * env * rng.standard_normal(n) + 1e-4 * rng.standard_normal(n)).astype(np.float32)
        out.append(x if channels == 1 else np.ascontiguousarray(np.repeat(x[:, None], channels, axis=1)))
    return out


def dithered_inputs(rate):
    """Five inputs [2 s, 2 s, 2 s + 123, 2 s, 1 s] (three of one length: one graph) of Gaussian
    noise plus a uniform dither of one 16-bit step."""
    rng = np.random.default_rng(2024)
    lens = [2 * rate, 2 * rate, 2 * rate + 123, 2 * rate, rate]
    return [(rng.standard_normal(n) * 0.3 + rng.uniform(-1, 1, n) / 32768).astype(np.float32) for n in lens]


def assert_decode_batch_matches(model, codes, floor):
    """decode_batch on one context equals decode of each item: same shape, SNR >= floor dB."""
    got = model.decode_batch(codes, workers=1)
    assert len(got) == len(codes)
    for i, (a, c) in enumerate(zip(got, codes)):
        b = model.decode(c)
        assert a.shape == b.shape, f"input {i}: {a.shape} vs {b.shape}"
        snr = snr_db(b, a)
        assert snr >= floor, f"input {i}: {snr:.1f} dB vs the one-by-one decode"


def same_codes(a, b):
    if isinstance(a, tuple):  # (codes, scales)
        return same_codes(a[0], b[0]) and np.array_equal(a[1], b[1])
    if isinstance(a, list):  # multi-rate levels
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    return a.shape == b.shape and np.array_equal(a, b)


GRAPHS = [("dac", "24khz"), ("encodec", "24khz"), ("mimi", "mimi")]


@pytest.mark.parametrize("arch,variant,graph", [(a, v, True) for a, v in GRAPHS] + [("encodec", "48khz", False)])
def test_batch_equals_one_by_one(arch, variant, graph):
    _, m = model(arch, variant)
    assert m.batch_graph is graph
    xs = inputs(m.encode_sample_rate, m.encode_hop_size, m.channels)
    one = [m.encode(x) for x in xs]
    batch = m.encode_batch(xs, workers=1)  # one context: the same-length inputs share a graph on any machine
    assert all(same_codes(a, b) for a, b in zip(one, batch))
    dec_one = [m.decode(c) for c in one]
    dec_batch = m.decode_batch(batch, workers=1)
    worst = min(snr_db(a, b) for a, b in zip(dec_one, dec_batch))
    assert all(a.shape == b.shape for a, b in zip(dec_one, dec_batch))
    record(f"{arch}-{variant} decode_batch vs one by one", "min SNR dB", worst)
    assert worst >= 90.0


class _Perf(ctypes.Structure):  # codec_perf (include/codec.h)
    _fields_ = [("build_ms", ctypes.c_double), ("alloc_ms", ctypes.c_double), ("compute_ms", ctypes.c_double),
                ("io_ms", ctypes.c_double), ("gflop", ctypes.c_double), ("n_nodes", ctypes.c_int32),
                ("compute_buffer", ctypes.c_size_t)]


def perf(m):
    """codec_context_perf of the last call on m's only context (max_contexts=1)."""
    m._lib.codec_context_perf.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Perf)]
    p = _Perf()
    m._lib.codec_context_perf(m._ctx, ctypes.byref(p))
    return p


def one_graph(path, one_call, batch_call):
    """On a fresh context: one input, then the batch; perf of both and the batch's result."""
    m = codec_cpp.Model(path, n_threads=2, max_contexts=1)
    one_call(m)
    p1 = perf(m)
    out = batch_call(m)
    pb = perf(m)
    m.close()
    assert pb.n_nodes > 0 and pb.gflop > 2.5 * p1.gflop
    # the graph's compute buffer holds the three sequences; one by one would reuse the single
    # input's (a context's buffer only grows)
    assert pb.compute_buffer > 2 * p1.compute_buffer, (pb.compute_buffer, p1.compute_buffer)
    return out


@pytest.mark.parametrize("arch,variant", GRAPHS)
def test_batch_runs_as_one_graph(arch, variant):
    """Three inputs of one length run as one graph, encode and decode."""
    paths, m = model(arch, variant)
    xs = inputs(m.sample_rate, m.hop_size)
    same = [xs[0], xs[1], xs[3]]
    codes = one_graph(paths["f32"], lambda f: f.encode(same[0]), lambda f: f.encode_batch(same, workers=1))
    assert all(np.array_equal(c, m.encode(x)) for c, x in zip(codes, same))
    audio = one_graph(paths["f32"], lambda f: f.decode(codes[0]), lambda f: f.decode_batch(codes, workers=1))
    assert all(np.array_equal(a, m.decode(c)) for a, c in zip(audio, codes))


def test_batch_graph_against_reference_batch():
    """DAC's batched graph against transformers' DacModel called on the same batch."""
    paths, m = model("dac", "24khz")
    ref = load_dac_reference(paths["ckpt"])
    xs = inputs(m.sample_rate, m.hop_size)[:2]  # two of one length: one graph
    ours = m.encode_batch(xs)
    with torch.no_grad():
        rc = ref.encode(torch.from_numpy(np.stack(xs))[:, None]).audio_codes.numpy()
        ra = ref.decode(audio_codes=torch.from_numpy(rc)).audio_values.numpy()
    rate = float(np.mean([(o == r).mean() for o, r in zip(ours, rc)]))
    record("dac-24khz encode_batch vs reference batch", "codes equal", rate)
    assert rate >= 0.995
    dec = m.decode_batch([r for r in rc])
    worst = min(snr_db(r[: d.shape[0]], d) for r, d in zip(ra, dec))
    record("dac-24khz decode_batch vs reference batch", "min SNR dB", worst)
    assert worst >= 80.0


def test_batch_workers_and_n_q():
    """Slices over two contexts give the same result as one call; n_q applies to every input."""
    _, m = model("dac", "24khz")
    xs = inputs(m.sample_rate, m.hop_size)
    a = m.encode_batch(xs, n_q=4)
    b = m.encode_batch(xs, n_q=4, workers=2)
    assert all(x.shape[0] == 4 and np.array_equal(x, y) for x, y in zip(a, b))


def test_batch_bad_inputs_name_the_input():
    _, m = model("dac", "24khz")
    xs = inputs(m.sample_rate, m.hop_size)
    xs[3] = xs[3].copy()
    xs[3][10] = np.nan
    with pytest.raises(codec_cpp.CodecError, match=r"input 3: pcm\[10\] is not finite"):
        m.encode_batch(xs)
    codes = m.encode_batch(inputs(m.sample_rate, m.hop_size)[:3])
    codes[2] = codes[2].copy()
    codes[2][1, 5] = m.codebook_size
    with pytest.raises(codec_cpp.CodecError, match=r"input 2: code 1024 at codebook 1, frame 5 is out of range"):
        m.decode_batch(codes)
    with pytest.raises(codec_cpp.CodecError, match="n_q = 99 is out of range"):
        m.encode_batch(xs[:1], n_q=99)
    # Too short for the model: the one-input call's message, with the inputs of the graph named.
    with pytest.raises(codec_cpp.CodecError, match=r"inputs 0, 1: input of 5 samples is too short"):
        m.encode_batch([xs[0][:5], xs[0][:5].copy()])
    with pytest.raises(codec_cpp.CodecError, match=r"input 1: input of 7 samples is too short"):
        m.encode_batch([xs[0], xs[0][:7].copy()])
    assert m.encode_batch([]) == [] and m.decode_batch([]) == []


def test_batch_c_api_arguments(lib_path):
    """The C entry points refuse NULL arrays and n_batch < 1 with a message, and stay usable."""
    _, m = model("dac", "24khz")
    lib = m._lib
    ctx = m._ctx
    x = inputs(m.sample_rate, m.hop_size)[0]
    ptrs = (ctypes.POINTER(ctypes.c_float) * 1)(x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    lens = (ctypes.c_int64 * 1)(x.shape[0])
    outs = (codec_cpp._Codes * 1)()
    assert lib.codec_encode_batch(ctx, None, lens, 1, -1, outs) == 1
    assert "must all be set" in lib.codec_context_last_error(ctx).decode()
    assert lib.codec_encode_batch(ctx, ptrs, lens, 0, -1, outs) == 1
    assert "n_batch = 0" in lib.codec_context_last_error(ctx).decode()
    assert lib.codec_decode_batch(ctx, None, 1, None) == 1
    assert lib.codec_encode_batch(ctx, ptrs, lens, 1, -1, outs) == 0
    assert outs[0].n_q == m.n_q and outs[0].n_frames == x.shape[0] // m.hop_size
