"""Soprano's decoder as a WINDOW stream of latents (sp_stream in src/models/soprano.cpp) against our
own one-shot codec_decode_latent: every layer is local and its LayerNorms are per frame, so each
block computed with the receptive field's context on both sides must give the one-shot samples
for any chunking (>= 80 dB asserted; measured bit-equal). Seeded random latents stand in for the
LM's hidden states; the model is the seeded SopranoDecoder fixture (the published config)."""
import os
import time

import numpy as np
import pytest

import codec_cpp
import soprano as soprano_fx
from conftest import CACHE, record, snr_db, stream_decode_cycling

SNR_FLOOR = 80.0  # dB, stream vs one-shot decode
LONG_SECONDS = float(os.environ.get("CODEC_STREAM_LONG_S", "60"))
_cache = {}


def model():
    if "m" not in _cache:
        _cache["m"] = codec_cpp.Model(soprano_fx.make_model(CACHE)["f32"], n_threads=2)
    return _cache["m"]


def latents(n_frames, seed):
    return np.random.default_rng(seed).standard_normal((model().latent_dim, n_frames)).astype(np.float32)


def derived_context(m):
    """(left, right) in latent frames, from the GGUF's hparams: the latent frames that output
    frame 0 (samples [0, hop)) reads. torch.istft(center=True): sample t sums the upsampled frames
    l with l * head_hop <= t + n_fft / 2 < l * head_hop + n_fft; the ConvNeXt depthwise convs and
    the embed conv are centered; interpolated frame j reads latents floor(j / U) and ceil(j / U)."""
    keys = ("n_fft", "head_hop", "upscale", "num_layers", "dw_kernel", "input_kernel")
    g = {k: int(m.meta(f"soprano.{k}")) for k in keys}
    n_fft, hh, u = g["n_fft"], g["head_hop"], g["upscale"]
    lo = -((n_fft // 2 - n_fft + 1) // -hh)  # ceil
    hi = (m.hop_size - 1 + n_fft // 2) // hh
    widen = g["num_layers"] * (g["dw_kernel"] // 2) + g["input_kernel"] // 2
    lo, hi = lo - widen, hi + widen
    return -(lo // u), -(-hi // u)


def sizes(kind, seed):
    if kind == "one_frame":
        return [1]
    if kind == "odd":
        return [3, 5, 1, 7, 13]
    return [int(n) for n in np.random.default_rng(seed).integers(1, 25, 64)]


def check(tag, ref, got):
    assert got.shape == ref.shape, tag
    snr, diff = snr_db(ref, got), float(np.abs(got - ref).max())
    print(f"{tag}: SNR vs one-shot {snr:.1f} dB, max abs diff {diff:.3g}")
    record(tag, "stream decode SNR dB", snr)
    record(tag, "stream decode max abs diff", diff)
    assert snr >= SNR_FLOOR, tag


def test_info_is_the_derived_context():
    m = model()
    left, right = derived_context(m)
    assert (left, right) == (3, 4)  # the published config (n_fft 2048, head_hop 512, U 4, 8 k3 blocks)
    for block in (0, 1, 5):
        with m.stream("decode", block_frames=block) as s:
            i = s.info
        assert not i["causal"] and i["align_frames"] == 1
        assert (i["left_frames"], i["lookahead_frames"]) == (left, right)
        assert i["block_frames"] == (block or -(-m.sample_rate // m.hop_size))
        assert i["first_frames"] == i["block_frames"] + right


def test_context_against_the_model():
    """Changing one latent frame u of a one-shot decode changes exactly output frames
    [u - right, u + left]: the derived context is the receptive field, not more."""
    m = model()
    left, right = derived_context(m)
    lat = latents(4 * (left + right) + 9, 1)
    u = 2 * (left + right)
    changed = lat.copy()
    changed[:, u] += 1.0
    d = np.nonzero(m.decode_latent(changed) != m.decode_latent(lat))[0] // m.hop_size
    assert (d[0], d[-1]) == (u - right, u + left)


@pytest.mark.parametrize("block", [1, 3, 0])
@pytest.mark.parametrize("kind", ["one_frame", "odd", "random"])
def test_chunkings(kind, block):
    m = model()
    lat = latents(57, 2)
    got = stream_decode_cycling(m, lat, sizes(kind, 3), block)
    check(f"soprano stream {kind} block={block}", m.decode_latent(lat), got)


def test_first_output_after_first_frames():
    """Frame by frame, audio first comes with push first_frames: block_frames frames of it."""
    m = model()
    lat = latents(40, 4)
    with m.stream("decode") as s:
        first, block = s.info["first_frames"], s.info["block_frames"]
        lens = []
        for t in range(first):
            s.push(lat[:, t:t + 1])
            lens.append(len(s.pull()))
    assert lens == [0] * (first - 1) + [block * m.hop_size]


@pytest.mark.parametrize("n_frames", [2, 3, 4, 8, 19, 20, 21])
def test_short_inputs(n_frames):
    """Shorter than the first block (default 16 + 4), just at it and past it."""
    m = model()
    lat = latents(n_frames, 5)
    check(f"soprano stream {n_frames} frames", m.decode_latent(lat), stream_decode_cycling(m, lat, [2]))


def test_one_frame_is_refused_like_one_shot():
    """One latent frame has no audio: refused at flush with the one-shot's message; the stream
    stays usable and a second frame gives the one-shot decode of two."""
    m = model()
    lat = latents(2, 6)
    with m.stream("decode") as s:
        s.push(lat[:, :1])
        with pytest.raises(codec_cpp.CodecError, match="at least 2 latent frames"):
            s.flush()
        s.push(lat[:, 1:])
        s.flush()
        got = s.pull()
    check("soprano stream 1 + 1 frames", m.decode_latent(lat), got)


def test_flush_empty_and_after_flush():
    m = model()
    with m.stream("decode") as s:
        s.flush()
        assert s.pull().shape == (0,)
        s.flush()  # twice: a no-op
        with pytest.raises(codec_cpp.CodecError, match="flushed"):
            s.push(latents(1, 7))


def test_reset_and_reuse():
    m = model()
    lat = latents(45, 8)
    ref = m.decode_latent(lat)
    with m.stream("decode", block_frames=3) as s:
        s.push(lat[:, :30])  # abandoned mid-way
        assert len(s.pull()) > 0
        for run in range(2):  # after the abandoned run, then after a flushed one
            s.reset()
            parts = []
            for i in range(0, lat.shape[1], 7):
                s.push(lat[:, i:i + 7])
                parts.append(s.pull())
            s.flush()
            parts.append(s.pull())
            check(f"soprano stream reuse {run}", ref, np.concatenate(parts))


def test_bad_pushes_and_encode_refused():
    m = model()
    with pytest.raises(codec_cpp.CodecError, match="no encoder"):
        m.stream("encode")
    with m.stream("decode") as s:
        with pytest.raises(codec_cpp.CodecError, match="latent_dim = 511"):
            s.push(np.zeros((511, 2), np.float32))
        bad = latents(3, 9)
        bad[4, 1] = np.nan
        with pytest.raises(codec_cpp.CodecError, match="not finite"):
            s.push(bad)
        lat = latents(5, 10)  # the refused pushes kept nothing
        s.push(lat)
        s.flush()
        check("soprano stream after refused pushes", m.decode_latent(lat), s.pull())


def test_long_input_with_the_generator_helper():
    """LONG_SECONDS of latents (default 60 s: 938 frames) through Model.stream_decode in random
    pushes at the default (~1 s) block, against one-shot; also records the times."""
    m = model()
    n = int(np.ceil(LONG_SECONDS * m.sample_rate / m.hop_size))
    lat = latents(n, 11)
    t = time.perf_counter()
    ref = m.decode_latent(lat)
    t_one = time.perf_counter() - t
    cuts = np.cumsum(np.random.default_rng(12).integers(1, 40, n))
    cuts = [0] + [int(c) for c in cuts if c < n] + [n]
    t = time.perf_counter()
    got = np.concatenate(list(m.stream_decode(lat[:, a:b] for a, b in zip(cuts, cuts[1:]))))
    t_stream = time.perf_counter() - t
    tag = f"soprano stream long {LONG_SECONDS:.0f} s ({n} frames)"
    print(f"{tag}: one-shot {t_one:.1f} s, stream {t_stream:.1f} s")
    record(tag, "one-shot decode s", t_one)
    record(tag, "stream decode s", t_stream)
    check(tag, ref, got)
