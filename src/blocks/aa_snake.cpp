#include "aa_snake.h"

#include "model_loader.h"

namespace {

// Replicate padding of x [C, T] along time: l copies of the first frame, r of the last.
ggml_tensor * pad_replicate(ggml_context * ctx, ggml_tensor * x, int l, int r) {
    const int64_t C = x->ne[0], T = x->ne[1];
    ggml_tensor * first = ggml_view_2d(ctx, x, C, 1, x->nb[1], 0);
    ggml_tensor * last = ggml_view_2d(ctx, x, C, 1, x->nb[1], (T - 1) * x->nb[1]);
    ggml_tensor * y = ggml_concat(ctx, ggml_repeat(ctx, first, ggml_new_tensor_2d(ctx, x->type, C, l)), x, 1);
    return ggml_concat(ctx, y, ggml_repeat(ctx, last, ggml_new_tensor_2d(ctx, x->type, C, r)), 1);
}

// sum_j view_j * f[tap_j]: view_j frames start at (start + j * step) of xp, every `stride` frames.
ggml_tensor * tap_sum(ggml_context * ctx, ggml_tensor * xp, ggml_tensor * f, int64_t n, int n_taps, int64_t start,
                      int64_t step, int stride, int tap0, int tap_step) {
    ggml_tensor * y = nullptr;
    for (int j = 0; j < n_taps; ++j) {
        ggml_tensor * v = ggml_view_2d(ctx, xp, xp->ne[0], n, stride * xp->nb[1], (start + j * step) * xp->nb[1]);
        ggml_tensor * p = ggml_mul(ctx, v, ggml_view_1d(ctx, f, 1, (tap0 + j * tap_step) * ggml_element_size(f)));
        y = y ? ggml_add(ctx, y, p) : p;
    }
    return y;
}

}  // namespace

ggml_tensor * codec_aa_snake(ggml_context * ctx, ggml_tensor * x, const codec_snake_w & s, const codec_aa_filters & f,
                             bool cpu) {
    const int K = k_codec_aa_taps, R = 2, pad = K / R - 1;  // 5
    const int64_t C = x->ne[0], T = x->ne[1];
    // Upsample. PyTorch: y = conv_transpose(xp, f, stride 2)[15 : -15] on xp = x padded by 5,
    // y[t] = sum_i xp[i] f[t + 15 - 2 i]; for t = 2 m the taps are odd (f[2 j + 1], i = m + 7 - j),
    // for t = 2 m + 1 even (f[2 j], i = m + 8 - j), j in [0, 6), m in [0, T).
    ggml_tensor * xp = pad_replicate(ctx, x, pad, pad);                                  // [C, T + 10]
    ggml_tensor * even = tap_sum(ctx, xp, f.up, T, K / R, 7, -1, 1, 1, 2);
    ggml_tensor * odd = tap_sum(ctx, xp, f.up, T, K / R, 8, -1, 1, 0, 2);
    ggml_tensor * up = ggml_concat(ctx, ggml_reshape_3d(ctx, even, C, 1, T), ggml_reshape_3d(ctx, odd, C, 1, T), 1);
    up = ggml_reshape_2d(ctx, up, C, 2 * T);                                             // frames interleaved
    up = codec_snake(ctx, up, s, cpu);
    // Downsample: replicate pad 5 / 6, y[m] = sum_k up_p[2 m + k] f[k].
    ggml_tensor * dp = pad_replicate(ctx, up, K / 2 - 1, K / 2);                          // [C, 2T + 11]
    return tap_sum(ctx, dp, f.down, T, K, 0, 1, 2, 0, 1);
}

codec_aa_filters codec_load_aa_filters(codec_model_loader & ld, const std::string & prefix) {
    codec_aa_filters f;
    f.up = ld.tensor(prefix + ".up", {k_codec_aa_taps}, CODEC_W_F32);
    f.down = ld.tensor(prefix + ".down", {k_codec_aa_taps}, CODEC_W_F32);
    return f;
}
