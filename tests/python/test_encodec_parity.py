"""EnCodec 24/48 kHz: our encode/decode against transformers' EncodecModel (seeded random
weights, published configs), compared as arrays. 48 kHz codes are compared chunk by chunk
(the reference stacks chunks and pads the last; ours concatenates them) with their scales."""
import numpy as np
import pytest
import torch

import codec_cpp
from conftest import make_model, record, snr_db, speech
from make_checkpoint import load_encodec_reference

VARIANTS = ["24khz", "48khz"]
CODE_RATE_FLOOR = 0.995
DECODE_SNR_FLOOR = 50.0    # dB
SCALE_RTOL = 1e-5
# Reduced-precision GGUFs (the converter's --outtype): documented floors, asserted.
REDUCED_SNR_FLOOR = {"f16": 30.0, "q8_0": 17.0}  # dB (q8_0 measured 20-33 dB: ggml quantizes the activations to 8 bits too)
REDUCED_CODE_RATE_FLOOR = {"f16": 0.90, "q8_0": 0.35}
_cache = {}


def signals(rate, channels, hop):
    """Short inputs (the test machine is small). Stereo signals differ per channel."""
    rng = np.random.default_rng(1234)
    sp = speech(rate)[: int(2.5 * rate)]

    def st(a, b):
        return np.stack([a, b], 1).astype(np.float32) if channels == 2 else a.astype(np.float32)

    n = lambda k: (rng.standard_normal(k) * 0.3).astype(np.float32)  # noqa: E731
    sig = {
        "speech": st(sp, n(len(sp)) * 0.3),  # stereo: speech left, quiet noise right
        "noise": st(n(rate), n(rate)),
        "silence": st(np.zeros(rate // 2), np.zeros(rate // 2)),
        "odd_length": st(n(7 * hop + 123), n(7 * hop + 123)),  # not a multiple of the hop
        "short": st(n(hop - 37), n(hop - 37)),                  # less than one hop
    }
    if channels == 2:
        sig["two_chunks_odd"] = st(n(int(1.3 * rate) + 17), n(int(1.3 * rate) + 17))  # 2 chunks, short last
        sig["chunk_edge"] = st(n(47600), n(47600))  # first chunk 47600 samples (149 frames), second 80
    return sig


def ref_input(x, channels):
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = np.repeat(x[:, None], channels, 1)  # our documented rule for mono to a stereo model
    return torch.from_numpy(np.ascontiguousarray(x.T))[None]  # [1, C, T]


def ref_encode(ref, x, bandwidth):
    """EncodecModel.encode -> (raw output, codes concatenated over chunks [n_q, F], scales or None)."""
    with torch.no_grad():
        r = ref.encode(ref_input(x, ref.config.audio_channels), bandwidth=bandwidth)
    chunks = [c for c in r.audio_codes[:, 0].numpy()]  # each [n_q, F0]
    if r.last_frame_pad_length:
        chunks[-1] = chunks[-1][:, : -r.last_frame_pad_length]
    scales = None if r.audio_scales[0] is None else np.array([s.item() for s in r.audio_scales], np.float32)
    return r, np.concatenate(chunks, 1), scales


def ref_decode(ref, r):
    with torch.no_grad():
        a = ref.decode(r.audio_codes, r.audio_scales, last_frame_pad_length=r.last_frame_pad_length).audio_values[0]
    a = a.numpy().T  # [T, C]
    return a[:, 0] if a.shape[1] == 1 else a


def ours_encode(model, x, bandwidth):
    out = model.encode(x, bandwidth=bandwidth)
    return out if model.has_scales else (out, None)


def setup(variant):
    if variant not in _cache:
        paths = make_model("encodec", variant)
        ref = load_encodec_reference(paths["ckpt"])
        model = codec_cpp.Model(paths["f32"], n_threads=2)
        sig = signals(model.sample_rate, model.channels, model.hop_size)
        top = ref.config.target_bandwidths[-1]
        refs = {k: ref_encode(ref, x, top) for k, x in sig.items()}
        _cache[variant] = (paths, ref, model, sig, refs)
    return _cache[variant]


def check_codes(name, ours, scales, want, want_scales):
    assert ours.shape == want.shape
    rate = float((ours == want).mean())
    print(f"{name} per-quantizer equality: {np.round((ours == want).mean(axis=1), 4).tolist()}")
    record(f"encodec-{name}", "codes equal", rate)
    assert rate >= CODE_RATE_FLOOR
    if want_scales is None:
        assert scales is None
    else:
        err = float(np.max(np.abs(scales.astype(np.float64) / want_scales - 1)))
        record(f"encodec-{name}", "scales max rel err", err)
        assert scales.shape == want_scales.shape and err <= SCALE_RTOL


@pytest.mark.parametrize("variant", VARIANTS)
def test_bandwidth_maps_to_n_q_as_the_reference(variant):
    paths, ref, model, sig, refs = setup(variant)
    assert model.bandwidths == [float(b) for b in ref.config.target_bandwidths]
    for bw in ref.config.target_bandwidths:
        assert model.n_q_for_bandwidth(bw) == ref.quantizer.get_num_quantizers_for_bandwidth(bw)
    with pytest.raises(ValueError, match="not one of"):
        model.n_q_for_bandwidth(5.0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_every_bandwidth(variant):
    paths, ref, model, sig, refs = setup(variant)
    x = sig["speech"]
    for bw in ref.config.target_bandwidths:
        r, want, want_scales = ref_encode(ref, x, bw) if bw != ref.config.target_bandwidths[-1] else refs["speech"]
        ours, scales = ours_encode(model, x, bw)
        assert ours.shape[0] == model.n_q_for_bandwidth(bw)
        check_codes(f"{variant} encode speech {bw} kbps", ours, scales, want, want_scales)
    assert len(np.unique(refs["speech"][1][0])) > 4, "degenerate reference codes: the test would prove nothing"
    assert len(np.unique(refs["speech"][1][-1])) > 4


COMMON_SIGNALS = ["noise", "silence", "odd_length", "short"]
CHUNK_SIGNALS = ["two_chunks_odd", "chunk_edge"]  # 48 kHz only
CASES = [(v, s) for v in VARIANTS for s in COMMON_SIGNALS] + [("48khz", s) for s in CHUNK_SIGNALS]


@pytest.mark.parametrize("variant,signal", CASES)
def test_encode_signal(variant, signal):
    paths, ref, model, sig, refs = setup(variant)
    r, want, want_scales = refs[signal]
    ours, scales = ours_encode(model, sig[signal], ref.config.target_bandwidths[-1])
    check_codes(f"{variant} encode {signal}", ours, scales, want, want_scales)
    if signal == "noise":
        assert len(np.unique(want[0])) > 4, "degenerate reference codes"
    if signal == "silence" and want_scales is not None:
        assert np.all(scales == np.float32(1e-8))  # rms 0 + 1e-8: no division by zero


@pytest.mark.parametrize("variant,signal", [(v, "speech") for v in VARIANTS] + CASES)
def test_decode_reference_codes(variant, signal):
    paths, ref, model, sig, refs = setup(variant)
    r, codes, scales = refs[signal]
    want = ref_decode(ref, r)
    ours = model.decode(codes, scales) if scales is not None else model.decode(codes)
    assert ours.shape == want.shape
    snr = snr_db(want, ours)
    record(f"encodec-{variant} decode {signal}", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_lowest_bandwidth(variant):
    paths, ref, model, sig, refs = setup(variant)
    bw = ref.config.target_bandwidths[0]
    r, codes, scales = ref_encode(ref, sig["speech"], bw)
    want = ref_decode(ref, r)
    ours = model.decode(codes, scales) if scales is not None else model.decode(codes)
    snr = snr_db(want, ours)
    record(f"encodec-{variant} decode speech {bw} kbps", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


def test_48khz_mono_input_is_duplicated_to_both_channels():
    paths, ref, model, sig, refs = setup("48khz")
    mono = sig["speech"][:, 0]
    bw = ref.config.target_bandwidths[-1]
    r, want, want_scales = ref_encode(ref, mono, bw)  # reference given [mono, mono]
    ours, scales = ours_encode(model, mono, bw)
    check_codes("48khz encode mono->stereo", ours, scales, want, want_scales)
    dup, dup_scales = ours_encode(model, np.stack([mono, mono], 1), bw)
    assert np.array_equal(ours, dup) and np.array_equal(scales, dup_scales)
    out = model.decode(want, want_scales)
    ref_out = ref_decode(ref, r)
    assert out.shape == ref_out.shape and out.shape[1] == 2
    snr = snr_db(ref_out, out)
    record("encodec-48khz decode mono->stereo", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


def test_48khz_codes_need_their_scales():
    paths, ref, model, sig, refs = setup("48khz")
    r, codes, scales = refs["noise"]
    with pytest.raises(codec_cpp.CodecError, match="per-chunk scales"):
        model.decode(codes)
    with pytest.raises(codec_cpp.CodecError, match="does not fit"):
        model.decode(codes, scales[:1])
    bad = scales.copy()
    bad[0] = np.nan
    with pytest.raises(codec_cpp.CodecError, match="not finite"):
        model.decode(codes, bad)


def _chunked_reference(ref, x, bandwidth):
    """The reference's per-chunk steps (_encode_frame / _decode_frame / _linear_overlap_add), for
    lengths where EncodecModel.encode itself cannot stack the chunks (a short chunk before the last)."""
    cfg = ref.config
    xt = ref_input(x, cfg.audio_channels)
    codes, scales, frames = [], [], []
    with torch.no_grad():
        for off in range(0, xt.shape[-1], cfg.chunk_stride):
            c, s = ref._encode_frame(xt[..., off: off + cfg.chunk_length], bandwidth)
            codes.append(c[0].numpy())
            scales.append(s.item())
            frames.append(ref._decode_frame(c, s))
        audio = ref._linear_overlap_add(frames, cfg.chunk_stride)[0].numpy().T
    return np.concatenate(codes, 1), np.array(scales, np.float32), audio


@pytest.mark.parametrize("n", [2 * 144 + 150, 5 * 144 + 1, 1600])
def test_tiny_stereo_many_chunks(n):
    """Toy 48 kHz layout (160-sample chunks every 144): many chunks, ragged layouts."""
    paths = make_model("encodec", "tiny_stereo")
    ref = load_encodec_reference(paths["ckpt"])
    x = (np.random.default_rng(n).standard_normal((n, 2)) * 0.3).astype(np.float32)
    want, want_scales, want_audio = _chunked_reference(ref, x, 32.0)
    with codec_cpp.Model(paths["f32"], n_threads=2) as m:
        codes, scales = m.encode(x, bandwidth=32.0)
        check_codes(f"tiny_stereo encode {n}", codes, scales, want, want_scales)
        assert len(np.unique(want[0])) > 4, "degenerate reference codes"
        audio = m.decode(want, want_scales)
    assert audio.shape == want_audio.shape
    snr = snr_db(want_audio, audio)
    record(f"encodec-tiny_stereo decode {n}", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("wtype", ["f16", "q8_0"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_reduced_precision_documented_floor(variant, wtype):
    paths, ref, model, sig, refs = setup(variant)
    r, codes, scales = refs["speech"]
    want = ref_decode(ref, r)
    with codec_cpp.Model(paths[wtype], n_threads=2) as m16:
        ours = m16.decode(codes, scales) if scales is not None else m16.decode(codes)
        snr = snr_db(want, ours)
        c16, _ = ours_encode(m16, sig["speech"], ref.config.target_bandwidths[-1])
        rate = float((c16 == codes).mean())
    record(f"encodec-{variant} {wtype} decode", "SNR dB", snr)
    record(f"encodec-{variant} {wtype} encode", "codes equal", rate)
    assert snr >= REDUCED_SNR_FLOOR[wtype]
    assert rate >= REDUCED_CODE_RATE_FLOOR[wtype]


def test_tiny_mono_matches_reference():
    paths = make_model("encodec", "tiny")
    ref = load_encodec_reference(paths["ckpt"])
    x = (np.random.default_rng(5).standard_normal(1999) * 0.3).astype(np.float32)
    r, want, _ = ref_encode(ref, x, 32.0)
    with codec_cpp.Model(paths["f32"], n_threads=2) as m:
        codes = m.encode(x, bandwidth=32.0)
        check_codes("tiny encode", codes, None, want, None)
        assert len(np.unique(want[0])) > 4, "degenerate reference codes"
        snr = snr_db(ref_decode(ref, r), m.decode(want))
    record("encodec-tiny decode", "SNR dB", snr)
    assert snr >= DECODE_SNR_FLOOR


@pytest.mark.parametrize("change,match", [
    ({"num_filters": 8}, "num_filters"),
    ({"target_bandwidths": [8.0, 64.0]}, "codebooks"),
    ({"norm_type": "batch_norm"}, "norm_type"),
    ({"pad_mode": "circular"}, "pad_mode"),
    ({"upsampling_ratios": [2, 4]}, "kernel"),
])
def test_converter_refuses_inconsistent_configs(tmp_path, change, match):
    import json
    import shutil

    import convert
    from codec_convert.common import ConvertError
    src = make_model("encodec", "tiny")["ckpt"]
    d = tmp_path / "ckpt"
    shutil.copytree(src, d)
    cfg = json.loads((d / "config.json").read_text())
    cfg.update(change)
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConvertError, match=match):
        convert.convert(str(d), str(tmp_path / "x.gguf"))
    assert not (tmp_path / "x.gguf").exists()
