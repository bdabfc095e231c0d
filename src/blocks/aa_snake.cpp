#include "aa_snake.h"

#include "model_loader.h"
#include "ops/copy_rows.h"

namespace {

const int k_taps = 12, k_pad = k_taps / 2 - 1;  // ratio 2: the upsampler's padding, 5

// Depthwise conv with `stride` of frames [start, start + stride * (n - 1) + K) of xp: [C, n].
ggml_tensor * dw(ggml_context * ctx, ggml_tensor * xp, ggml_tensor * w, int64_t start, int64_t n, int stride = 1) {
    ggml_tensor * v = ggml_view_2d(ctx, xp, xp->ne[0], stride * (n - 1) + w->ne[1], xp->nb[1], start * xp->nb[1]);
    return codec_cm_conv1d_dw(ctx, v, w, nullptr, 0, 1, stride);
}

}  // namespace

ggml_tensor * codec_aa_snake(ggml_context * ctx, ggml_tensor * x, const codec_snake_w & s, const codec_aa_filters & f,
                             bool cpu) {
    const int64_t C = x->ne[0], T = x->ne[1];
    ggml_tensor * xp = codec_pad_replicate(ctx, x, k_pad, k_pad, cpu);               // [C, T + 10]
    ggml_tensor * even = dw(ctx, xp, f.up_even, 2, T), * odd = dw(ctx, xp, f.up_odd, 3, T);
    ggml_tensor * up = codec_concat(ctx, ggml_reshape_3d(ctx, even, C, 1, T), ggml_reshape_3d(ctx, odd, C, 1, T), 1, cpu);
    up = codec_snake(ctx, ggml_reshape_2d(ctx, up, C, 2 * T), s, cpu);        // frames interleaved
    return dw(ctx, codec_pad_replicate(ctx, up, k_taps / 2 - 1, k_taps / 2, cpu), f.down, 0, T, 2);  // [C, T]
}

codec_aa_filters codec_load_aa_filters(codec_model_loader & ld, const std::string & prefix, int c) {
    codec_aa_filters f;
    const std::string p = prefix + ".c" + std::to_string(c);
    f.up_even = ld.tensor(p + ".up_even", {c, k_taps / 2}, CODEC_W_F32);
    f.up_odd = ld.tensor(p + ".up_odd", {c, k_taps / 2}, CODEC_W_F32);
    f.down = ld.tensor(p + ".down", {c, k_taps}, CODEC_W_F32);
    return f;
}
