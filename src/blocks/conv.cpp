#include "conv.h"

#include "model_loader.h"
#include "ops/snake.h"

int64_t codec_conv1d_out_len(int64_t n, int k, int stride, int dilation, int pad_total) {
    const int64_t span = (int64_t) dilation * (k - 1) + 1;
    const int64_t padded = n + pad_total;
    if (padded < span) return 0;
    return (padded - span) / stride + 1;
}

ggml_tensor * codec_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                           int stride, int pad, int dilation) {
    const int64_t K = w->ne[0], cin = w->ne[1], cout = w->ne[2];
    const bool quant = ggml_is_quantized(w->type);
    // im2col in the weight's precision (F32 for F32 weights: ggml_conv_1d would force F16).
    const ggml_type col_type = (w->type == GGML_TYPE_F32 || quant) ? GGML_TYPE_F32 : GGML_TYPE_F16;
    ggml_tensor * y;
    {
        ggml_tensor * col = ggml_im2col(ctx, w, x, stride, 0, pad, 0, dilation, 0, false, col_type);  // [K*Cin, T]
        ggml_tensor * col2 = ggml_reshape_2d(ctx, col, col->ne[0], col->ne[1]);
        ggml_tensor * w2 = ggml_reshape_2d(ctx, w, K * cin, cout);
        if (quant) {
            // quantized weights must be src0: [Cout, T] then back to time-major
            y = ggml_cont(ctx, ggml_transpose(ctx, ggml_mul_mat(ctx, w2, col2)));
        } else {
            y = ggml_mul_mat(ctx, col2, w2);                                            // [T, Cout]
        }
    }
    if (b) y = ggml_add(ctx, y, b);
    return y;
}

ggml_tensor * codec_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                     int stride, int pad) {
    ggml_tensor * y = ggml_conv_transpose_1d(ctx, w, x, stride, 0, 1);  // [(T-1)*s + K, Cout]
    if (pad > 0) {
        y = ggml_view_2d(ctx, y, y->ne[0] - 2 * pad, y->ne[1], y->nb[1], pad * y->nb[0]);
        if (!b) y = ggml_cont(ctx, y);
    }
    if (b) y = ggml_add(ctx, y, b);
    return y;
}

ggml_tensor * codec_conv_transpose1d_gemm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                          int stride, int pad) {
    const int64_t cin = w->ne[0], K = w->ne[1], cout = w->ne[2], T = x->ne[0];
    const int64_t m = K / stride;  // slices overlapping each output sample
    ggml_tensor * xt = ggml_cont(ctx, ggml_transpose(ctx, x));                          // [Cin, T]
    ggml_tensor * r = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, w, cin, K * cout), xt);   // [K*Cout, T]: r[k + K*o, t]
    // Slice j holds kernel taps [j*s, (j+1)*s): it lands on output samples (t + j)*s + [0, s).
    ggml_tensor * y = nullptr;
    for (int64_t j = 0; j < m; ++j) {
        ggml_tensor * sl = ggml_view_3d(ctx, r, stride, cout, T, K * r->nb[0], r->nb[1], j * stride * r->nb[0]);
        sl = ggml_permute(ctx, sl, 0, 2, 1, 3);                                          // [s, T, Cout] view
        sl = ggml_pad_ext(ctx, sl, 0, 0, (int) j, (int) (m - 1 - j), 0, 0, 0, 0);        // [s, T+m-1, Cout]
        y = y ? ggml_add(ctx, y, sl) : sl;
    }
    y = ggml_reshape_2d(ctx, y, stride * (T + m - 1), cout);                             // [(T-1)*s + K, Cout]
    if (pad > 0) y = ggml_view_2d(ctx, y, y->ne[0] - 2 * pad, cout, y->nb[1], pad * y->nb[0]);
    return b ? ggml_add(ctx, y, b) : ggml_cont(ctx, y);
}

ggml_tensor * codec_snake(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta) {
    ggml_tensor * s = ggml_sin(ctx, ggml_mul(ctx, x, alpha));
    return ggml_add(ctx, x, ggml_mul(ctx, ggml_sqr(ctx, s), beta));
}

ggml_tensor * codec_snake_fast(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta, bool cpu) {
    return cpu && ggml_is_contiguous(x) ? codec_op_snake(ctx, x, alpha, beta) : codec_snake(ctx, x, alpha, beta);
}

codec_conv codec_load_conv(codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout, bool bias) {
    codec_conv c;
    c.w = ld.tensor(prefix + ".weight", {k, cin, cout}, CODEC_W_MATMUL);
    if (bias) c.b = ld.tensor(prefix + ".bias", {1, cout}, CODEC_W_F32);
    return c;
}

codec_conv codec_load_convt(codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout) {
    codec_conv c;
    c.w = ld.tensor(prefix + ".weight", {k, cout, cin}, CODEC_W_FLOAT);
    c.b = ld.tensor(prefix + ".bias", {1, cout}, CODEC_W_F32);
    return c;
}

codec_conv codec_load_convt_gemm(codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout) {
    codec_conv c;
    c.w = ld.tensor(prefix + ".weight", {cin, k, cout}, CODEC_W_MATMUL);
    c.b = ld.tensor(prefix + ".bias", {1, cout}, CODEC_W_F32);
    return c;
}

codec_snake_w codec_load_snake(codec_model_loader & ld, const std::string & prefix, int c) {
    codec_snake_w s;
    s.alpha = ld.tensor(prefix + ".alpha", {1, c}, CODEC_W_F32);
    s.beta  = ld.tensor(prefix + ".beta",  {1, c}, CODEC_W_F32);
    return s;
}
