// Receptive fields for windowed streaming (codec_stream_spec::left/right), taken backwards
// through the layers as the span [lo, hi] of a layer's input positions that a span of its output
// positions reads (zero padding included). Models chain these from their hparams.
#pragma once

#include <algorithm>
#include <cstdint>

struct codec_rf_span { int64_t lo, hi; };

inline int64_t codec_floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t codec_ceil_div(int64_t a, int64_t b) { return -codec_floor_div(-a, b); }

// Conv1d(k, stride s, dilation d, padding p): output o reads inputs [o*s - p, o*s - p + d*(k-1)].
inline void codec_rf_conv(codec_rf_span & x, int k, int s, int d, int p) {
    x = {x.lo * s - p, x.hi * s - p + (int64_t) d * (k - 1)};
}
// ConvTranspose1d(k, stride s, padding p): input i writes outputs [i*s - p, i*s - p + k - 1].
inline void codec_rf_convt(codec_rf_span & x, int k, int s, int p) {
    x = {codec_ceil_div(x.lo + p - k + 1, s), codec_floor_div(x.hi + p, s)};
}

// Encode: the input samples [lo, hi] that the outputs of frames 0 .. n - 1 read, as whole frames
// of `hop` samples before frame 0 (lo) and after frame n - 1 (hi), at least 0.
inline codec_rf_span codec_rf_frames(codec_rf_span samples, int64_t hop, int64_t n = 1) {
    return {std::max<int64_t>(0, codec_ceil_div(-samples.lo, hop)),
            std::max<int64_t>(0, codec_ceil_div(samples.hi - (n * hop - 1), hop))};
}
