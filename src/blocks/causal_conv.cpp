#include "causal_conv.h"

#include "conv_cm.h"
#include "ops/copy_rows.h"
#include "stream_io.h"

#include <algorithm>

int64_t codec_causal_extra_pad(int64_t n, int k_eff, int stride) {
    // ideal = ceil((n - k_eff + pad_total) / stride) * stride + k_eff - pad_total, pad_total = k_eff - stride
    const int64_t pad_total = k_eff - stride;
    const int64_t num = n - stride;                    // n - k_eff + pad_total
    const int64_t frames = num >= 0 ? (num + stride - 1) / stride : -((-num) / stride);  // ceil(num / stride)
    const int64_t ideal = frames * stride + k_eff - pad_total;
    return ideal > n ? ideal - n : 0;
}

int64_t codec_causal_conv1d_out_len(int64_t n, int k_eff, int stride) {
    const int64_t padded = n + (k_eff - stride) + codec_causal_extra_pad(n, k_eff, stride);
    return padded < k_eff ? 0 : (padded - k_eff) / stride + 1;
}

// The n frames reflected about the first (or last) frame of x [C, T, B], n < T: ggml reflects
// along ne0 only, so just the n + 1 edge frames are transposed there and back.
static ggml_tensor * reflected_edge(ggml_context * ctx, ggml_tensor * x, int64_t n, bool left) {
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2];
    ggml_tensor * e = ggml_view_3d(ctx, x, C, n + 1, B, x->nb[1], x->nb[2], left ? 0 : (T - n - 1) * x->nb[1]);
    e = ggml_pad_reflect_1d(ctx, ggml_cont(ctx, ggml_transpose(ctx, e)), left ? (int) n : 0, left ? 0 : (int) n);  // [2n + 1, C, B]
    e = ggml_view_3d(ctx, e, n, C, B, e->nb[1], e->nb[2], left ? 0 : (n + 1) * e->nb[0]);
    return ggml_cont(ctx, ggml_transpose(ctx, e));  // [C, n, B]
}

ggml_tensor * codec_pad_time_cm(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, codec_pad_mode mode,
                               bool cpu) {
    if (left == 0 && right == 0) return x;
    if (mode == CODEC_PAD_CONSTANT) return codec_pad_zero(ctx, x, left, right, cpu);
    const int64_t C = x->ne[0];
    if (mode == CODEC_PAD_REFLECT) {
        const int64_t extra = std::max<int64_t>(0, std::max(left, right) - x->ne[1] + 1);  // reflection needs T > pad
        if (extra > 0) x = ggml_pad_ext(ctx, x, 0, 0, 0, (int) extra, 0, 0, 0, 0);
        if (left > 0) x = codec_concat(ctx, reflected_edge(ctx, x, left, true), x, 1, cpu);
        if (right > 0) x = codec_concat(ctx, x, reflected_edge(ctx, x, right, false), 1, cpu);
        // a prefix of the frames: still contiguous for one sequence
        return extra > 0 ? ggml_view_3d(ctx, x, C, x->ne[1] - extra, x->ne[2], x->nb[1], x->nb[2], 0) : x;
    }
    return codec_pad_replicate(ctx, x, left, right, cpu);
}

// Block j of a conv / transposed-conv weight as a [rows, cols] matrix.
static ggml_tensor * block(ggml_context * ctx, ggml_tensor * w, int64_t j) {
    return ggml_view_2d(ctx, w, w->ne[0], w->ne[1], w->nb[1], j * w->nb[2]);
}

ggml_tensor * codec_causal_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                  int stride, int dilation, codec_pad_mode mode, codec_stream_io * io) {
    if (io) {  // the one-shot conv over [context, x], minus the outputs of the context ((n - 1) * s frames)
        const int64_t left = (int64_t) (w->ne[2] * stride - 1) * dilation + 1 - stride;
        ggml_tensor * y = codec_causal_conv1d(ctx, io->with_context(ctx, x, left, mode), w, b, stride, dilation, mode);
        return codec_drop_front(ctx, y, left / stride);
    }
    const int64_t cin = x->ne[0], T = x->ne[1], n = w->ne[2], s = stride;
    const int k_eff = (int) (n * s - 1) * dilation + 1;
    const int64_t t_out = codec_causal_conv1d_out_len(T, k_eff, stride);
    ggml_tensor * y = nullptr;
    if (s == 1 && mode == CODEC_PAD_CONSTANT) {
        // No padded copy: the last tap reads frame t for every output; tap j reads frame
        // t - (n - 1 - j) * dilation and is added onto the frames it reaches (the rest see zeros).
        if (x->ne[2] > 1 && !ggml_is_contiguous(x)) x = ggml_cont(ctx, x);  // once, not per tap
        y = ggml_mul_mat(ctx, block(ctx, w, n - 1), x);  // [Cout, T, B]
        for (int64_t j = n - 2; j >= 0; --j) {
            const int64_t shift = (n - 1 - j) * dilation;
            if (shift >= T) continue;
            ggml_tensor * p = codec_mul_mat_window(ctx, block(ctx, w, j), x, 0, T - shift);
            y = ggml_acc_inplace(ctx, y, p, y->nb[1], y->nb[2], y->nb[3], shift * y->nb[1]);
        }
    } else {
        // Padded input seen as [s * Cin, L / s, B] (column c holds frames c*s .. c*s + s - 1, as the
        // weight's rows): block j of output t reads column t + j (stride 1: frame t + j * dilation).
        ggml_tensor * xp = codec_pad_time_cm(ctx, x, k_eff - s, codec_causal_extra_pad(T, k_eff, stride), mode, codec_on_host(w));
        if (!ggml_is_contiguous(xp)) xp = ggml_cont(ctx, xp);
        xp = ggml_view_3d(ctx, xp, cin * s, xp->ne[1] / s, xp->ne[2], xp->nb[1] * s, xp->nb[2], 0);
        if (xp->ne[2] > 1 && !ggml_is_contiguous(xp)) xp = ggml_cont(ctx, xp);  // L not a multiple of s
        for (int64_t j = 0; j < n; ++j) {
            const int64_t off = s > 1 ? j : j * dilation;
            ggml_tensor * p = codec_mul_mat_window(ctx, block(ctx, w, j), xp, off, t_out);
            y = y ? ggml_add(ctx, y, p) : p;
        }
    }
    return b ? ggml_add(ctx, y, b) : y;
}

ggml_tensor * codec_causal_conv1d_mono(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                       int dilation, codec_pad_mode mode) {
    const int64_t T = x->ne[1], K = w->ne[0], cout = w->ne[2];
    const int pad = (int) (K - 1) * dilation;
    // x [1, T] is also the time-major [T, 1] im2col wants. Zeros: im2col's symmetric padding with
    // the first T outputs kept; edge frames: padded explicitly.
    if (mode == CODEC_PAD_REPLICATE) x = ggml_cont(ctx, codec_pad_time_cm(ctx, x, pad, 0, mode));
    const int p0 = mode == CODEC_PAD_REPLICATE ? 0 : pad;
    ggml_tensor * col = ggml_im2col(ctx, w, ggml_reshape_2d(ctx, x, x->ne[1], 1), 1, 0, p0, 0, dilation, 0, false,
                                    GGML_TYPE_F32);
    col = ggml_view_2d(ctx, col, K, T, col->nb[1], 0);                                   // [K, T]
    ggml_tensor * y = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, w, K, cout), col);          // [Cout, T]
    return b ? ggml_add(ctx, y, b) : y;
}

ggml_tensor * codec_causal_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                            int stride) {
    const int64_t T = x->ne[1], B = x->ne[2], n = w->ne[2], cout = w->ne[1] / stride;
    if (B > 1 && !ggml_is_contiguous(x)) x = ggml_cont(ctx, x);  // once, not per block
    ggml_tensor * y = ggml_mul_mat(ctx, block(ctx, w, 0), x);  // [s * Cout, T, B]: output block m
    for (int64_t j = 1; j < n && j < T; ++j) {
        ggml_tensor * p = codec_mul_mat_window(ctx, block(ctx, w, j), x, 0, T - j);
        y = ggml_acc_inplace(ctx, y, p, y->nb[1], y->nb[2], y->nb[3], j * y->nb[1]);  // lands on block m + j
    }
    y = ggml_reshape_3d(ctx, y, cout, stride * T, B);  // row r * Cout + o of block m = output frame m * s + r
    return b ? ggml_add(ctx, y, b) : y;
}

ggml_tensor * codec_causal_conv_transpose1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, int stride,
                                               codec_stream_io * io) {
    if (io) {  // one frame of context (zeros at the start, as the one-shot call's missing predecessor)
        ggml_tensor * y = codec_causal_conv_transpose1d_dw(ctx, io->with_context(ctx, x, 1, CODEC_PAD_CONSTANT), w, stride);
        return codec_drop_front(ctx, y, stride);
    }
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2];
    ggml_tensor * y = nullptr;
    for (int p = 0; p < stride; ++p) {
        ggml_tensor * yp = ggml_mul(ctx, x, ggml_view_1d(ctx, w, C, p * w->nb[1]));  // [C, T, B]
        if (T > 1) {  // + x[m - 1] * w[p + s]; frame 0 has no predecessor
            ggml_tensor * prev = ggml_mul(ctx, ggml_view_3d(ctx, x, C, T - 1, B, x->nb[1], x->nb[2], 0),
                                          ggml_view_1d(ctx, w, C, (p + stride) * w->nb[1]));
            yp = ggml_acc_inplace(ctx, yp, prev, yp->nb[1], yp->nb[2], yp->nb[3], yp->nb[1]);
        }
        yp = ggml_reshape_4d(ctx, yp, C, 1, T, B);
        y = y ? ggml_concat(ctx, y, yp, 1) : yp;  // [C, p + 1, T, B]
    }
    return ggml_reshape_3d(ctx, y, C, stride * T, B);
}
