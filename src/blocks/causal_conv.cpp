#include "causal_conv.h"

#include "conv.h"

int64_t codec_causal_extra_pad(int64_t n, int k_eff, int stride) {
    // ideal = ceil((n - k_eff + pad_total) / stride) * stride + k_eff - pad_total, pad_total = k_eff - stride
    const int64_t pad_total = k_eff - stride;
    const int64_t num = n - k_eff + pad_total;          // = n - stride
    const int64_t frames = num >= 0 ? (num + stride - 1) / stride : -((-num) / stride);  // ceil(num / stride)
    const int64_t ideal = frames * stride + k_eff - pad_total;
    return ideal > n ? ideal - n : 0;
}

int64_t codec_causal_conv1d_out_len(int64_t n, int k, int stride, int dilation) {
    const int k_eff = (k - 1) * dilation + 1;
    const int64_t padded = n + (k_eff - stride) + codec_causal_extra_pad(n, k_eff, stride);
    return padded < k_eff ? 0 : (padded - k_eff) / stride + 1;
}

ggml_tensor * codec_pad_time(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, codec_pad_mode mode) {
    if (left == 0 && right == 0) return x;
    if (mode == CODEC_PAD_CONSTANT) return ggml_pad_ext(ctx, x, (int) left, (int) right, 0, 0, 0, 0, 0, 0);
    const int64_t C = x->ne[1];
    if (left > 0) {
        ggml_tensor * first = ggml_view_2d(ctx, x, 1, C, x->nb[1], 0);
        x = ggml_concat(ctx, ggml_repeat_4d(ctx, first, left, C, 1, 1), x, 0);
    }
    if (right > 0) {
        ggml_tensor * last = ggml_view_2d(ctx, x, 1, C, x->nb[1], (x->ne[0] - 1) * x->nb[0]);
        x = ggml_concat(ctx, x, ggml_repeat_4d(ctx, last, right, C, 1, 1), 0);
    }
    return x;
}

ggml_tensor * codec_causal_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                  int stride, int dilation, codec_pad_mode mode) {
    const int k_eff = (int) (w->ne[0] - 1) * dilation + 1;
    x = codec_pad_time(ctx, x, k_eff - stride, codec_causal_extra_pad(x->ne[0], k_eff, stride), mode);
    return codec_conv1d(ctx, x, w, b, stride, 0, dilation);
}

ggml_tensor * codec_causal_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                            int stride) {
    ggml_tensor * y = ggml_conv_transpose_1d(ctx, w, x, stride, 0, 1);  // [(T-1)*s + K, Cout]
    const int64_t n = x->ne[0] * stride;
    if (y->ne[0] != n) y = ggml_view_2d(ctx, y, n, y->ne[1], y->nb[1], 0);  // drop the right overlap
    if (b) return ggml_add(ctx, y, b);
    return ggml_cont(ctx, y);
}

ggml_tensor * codec_causal_conv_transpose1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, int stride) {
    const int64_t T = x->ne[0], C = x->ne[1];
    // x shifted right by one frame (x[m - 1], zero at m = 0); a single frame has no predecessor
    ggml_tensor * prev = T > 1 ? ggml_pad_ext(ctx, ggml_view_2d(ctx, x, T - 1, C, x->nb[1], 0), 1, 0, 0, 0, 0, 0, 0, 0)
                               : nullptr;
    ggml_tensor * y = nullptr;
    for (int p = 0; p < stride; ++p) {
        ggml_tensor * w0 = ggml_view_2d(ctx, w, 1, C, w->nb[1], p * w->nb[2]);
        ggml_tensor * w1 = ggml_view_2d(ctx, w, 1, C, w->nb[1], (p + stride) * w->nb[2]);
        ggml_tensor * yp = ggml_mul(ctx, x, w0);  // [T, C]
        if (prev) yp = ggml_add(ctx, yp, ggml_mul(ctx, prev, w1));
        yp = ggml_reshape_3d(ctx, yp, 1, T, C);
        y = y ? ggml_concat(ctx, y, yp, 0) : yp;  // [p + 1, T, C]: phase p is the fastest axis
    }
    return ggml_reshape_2d(ctx, y, stride * T, C);
}
