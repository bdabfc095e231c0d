"""WavTokenizer streams are windowed approximations (see wt_stream in src/models/wavtokenizer.cpp:
the encoder's LSTM sees the whole input): encode is measured against the one-shot call with an
asserted floor; decode is refused (the pos_net's GroupNorms and full attention see every frame)."""
import numpy as np
import pytest

import codec_cpp
import wavtokenizer as wt_fx
from conftest import CACHE, record, snr_db, speech

STREAM_CODE_RATE_FLOOR = 0.99   # measured 1.0 (10 s speech + noise, 0.5 s pushes)


@pytest.fixture(scope="module")
def wt75():
    paths = wt_fx.make_model(CACHE, "75")
    m = codec_cpp.Model(paths["f32"], n_threads=2)
    rng = np.random.default_rng(5)
    sp = speech(24000)
    x = np.concatenate([sp, (rng.standard_normal(24000) * 0.1).astype(np.float32), sp, sp])[: 10 * 24000]
    return m, x.astype(np.float32)


def test_stream_encode_close_to_one_shot(wt75):
    m, x = wt75
    want = m.encode(x)
    got = np.concatenate(list(m.stream_encode([x[i:i + 12000] for i in range(0, len(x), 12000)])), axis=1)
    assert got.shape == want.shape
    rate = float((got == want).mean())
    record("wavtokenizer-75 stream encode 10 s", "codes equal", rate)
    assert rate >= STREAM_CODE_RATE_FLOOR


def test_stream_decode_refused(wt75):
    """Windowed decode measured 30 dB against the one-shot decode (pos_net's global GroupNorms and
    attention): refused with the reason rather than offered."""
    m, _ = wt75
    with pytest.raises(codec_cpp.CodecError, match="whole sequence"):
        m.stream("decode", n_q=1)


def test_stream_refusals():
    m40 = codec_cpp.Model(wt_fx.make_model(CACHE, "40")["f32"], n_threads=1)
    with pytest.raises(codec_cpp.CodecError, match="whole sequence"):
        m40.stream("decode", n_q=1)
