#include "seanet.h"

#include "conv.h"
#include "model_loader.h"

#include <algorithm>
#include <cmath>

ggml_tensor * codec_seanet_pad1d(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right,
                                 codec_seanet_pad mode) {
    if (left == 0 && right == 0) return x;
    if (mode == CODEC_SEANET_PAD_ZERO) return ggml_pad_ext(ctx, x, (int) left, (int) right, 0, 0, 0, 0, 0, 0);
    const int64_t n = x->ne[0];
    const int64_t max_pad = std::max(left, right);
    const int64_t extra = n <= max_pad ? max_pad - n + 1 : 0;  // reflection needs n > pad
    if (extra > 0) x = ggml_pad_ext(ctx, x, 0, (int) extra, 0, 0, 0, 0, 0, 0);
    if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
    ggml_tensor * y = ggml_pad_reflect_1d(ctx, x, (int) left, (int) right);
    if (extra > 0) y = ggml_cont(ctx, ggml_view_2d(ctx, y, y->ne[0] - extra, y->ne[1], y->nb[1], 0));
    return y;
}

ggml_tensor * codec_time_group_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps) {
    if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
    const int64_t T = x->ne[0], C = x->ne[1];
    ggml_tensor * y = ggml_norm(ctx, ggml_reshape_1d(ctx, x, T * C), eps);  // one group: all of [T, C]
    y = ggml_reshape_2d(ctx, y, T, C);
    return ggml_add(ctx, ggml_mul(ctx, y, w), b);
}

// EncodecConv1d._get_extra_padding_for_conv1d: right padding that completes the last window.
static int64_t extra_padding(int64_t n, int k_eff, int stride) {
    const int64_t num = n - stride;  // n - k_eff + padding_total
    const int64_t frames = num > 0 ? (num + stride - 1) / stride : 0;  // ceil(num / stride); > -1 rounds to 0
    return frames * stride + stride - n;  // ideal_length - n, ideal = frames * stride + k_eff - padding_total
}

int64_t codec_seanet_conv1d_out_len(int64_t n, int stride) {
    return n < 1 ? 0 : (n + stride - 1) / stride;
}

ggml_tensor * codec_seanet_conv1d(ggml_context * ctx, const codec_seanet_conv & c, ggml_tensor * x, int stride,
                                  int dilation, bool causal, codec_seanet_pad mode) {
    const int k_eff = (int) (c.w->ne[0] - 1) * dilation + 1;
    const int64_t pad_total = k_eff - stride;
    const int64_t extra = extra_padding(x->ne[0], k_eff, stride);
    const int64_t right = causal ? 0 : pad_total / 2;
    x = codec_seanet_pad1d(ctx, x, pad_total - right, right + extra, mode);
    ggml_tensor * y = codec_conv1d(ctx, x, c.w, c.b, stride, 0, dilation);
    if (c.norm_w) y = codec_time_group_norm(ctx, y, c.norm_w, c.norm_b);
    return y;
}

ggml_tensor * codec_seanet_conv_transpose1d(ggml_context * ctx, const codec_seanet_conv & c, ggml_tensor * x,
                                            int stride, bool causal, float trim_right_ratio) {
    const int64_t T = x->ne[0], J = c.w->ne[0], cout = c.w->ne[2] / stride, K = J * stride;
    // Polyphase: output sample t*s + p sums taps j < J of W[:, co, j*s + p] . x[t - j], i.e. a
    // J-tap conv of x with s*Cout outputs per frame (one im2col + matrix product, far faster than
    // ggml_conv_transpose_1d), whose phases are then interleaved into time.
    ggml_tensor * y = codec_conv1d(ctx, x, c.w, c.b, 1, (int) J - 1, 1);                  // [T + J - 1, Cout * s]
    y = ggml_reshape_3d(ctx, y, T + J - 1, stride, cout);
    y = ggml_cont(ctx, ggml_permute(ctx, y, 1, 0, 2, 3));                                 // [s, T + J - 1, Cout]
    y = ggml_reshape_2d(ctx, y, stride * (T + J - 1), cout);                              // [(T-1)*s + K, Cout]
    if (c.norm_w) y = codec_time_group_norm(ctx, y, c.norm_w, c.norm_b);                   // over the untrimmed output
    const int64_t pad_total = K - stride;
    // math.ceil(padding_total * trim_right_ratio), in double like Python
    const int64_t right = causal ? (int64_t) std::ceil((double) pad_total * (double) trim_right_ratio) : pad_total / 2;
    const int64_t left = pad_total - right;
    if (left > 0 || right > 0) {
        y = ggml_cont(ctx, ggml_view_2d(ctx, y, y->ne[0] - left - right, y->ne[1], y->nb[1], left * y->nb[0]));
    }
    return y;
}

codec_seanet_conv codec_load_seanet_conv(codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout,
                                         bool norm, int transposed_stride) {
    codec_seanet_conv c;
    if (transposed_stride > 0) {  // polyphase layout: k / stride taps, stride * cout outputs
        const int64_t s = transposed_stride;
        c.w = ld.tensor(prefix + ".conv.weight", {k / s, cin, cout * s}, CODEC_W_MATMUL);
        c.b = ld.tensor(prefix + ".conv.bias", {1, cout * s}, CODEC_W_F32);
    } else {
        c.w = ld.tensor(prefix + ".conv.weight", {k, cin, cout}, CODEC_W_MATMUL);
        c.b = ld.tensor(prefix + ".conv.bias", {1, cout}, CODEC_W_F32);
    }
    if (norm) {
        c.norm_w = ld.tensor(prefix + ".norm.weight", {1, cout}, CODEC_W_F32);
        c.norm_b = ld.tensor(prefix + ".norm.bias", {1, cout}, CODEC_W_F32);
    }
    return c;
}
