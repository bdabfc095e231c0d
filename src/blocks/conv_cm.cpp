#include "conv_cm.h"

#include "model_loader.h"
#include "ops/copy_rows.h"
#include "ops/snake_cm.h"

#include <algorithm>

int64_t codec_conv1d_out_len(int64_t n, int k, int stride, int dilation, int pad_total) {
    const int64_t span = (int64_t) dilation * (k - 1) + 1;
    const int64_t padded = n + pad_total;
    if (padded < span) return 0;
    return (padded - span) / stride + 1;
}

ggml_tensor * codec_snake(ggml_context * ctx, ggml_tensor * x, const codec_snake_w & s, bool cpu) {
    if (cpu && ggml_is_contiguous(x)) return codec_op_snake_cm(ctx, x, s.alpha, s.beta);
    ggml_tensor * sn = ggml_sin(ctx, ggml_mul(ctx, x, s.alpha));
    return ggml_add(ctx, x, ggml_mul(ctx, ggml_sqr(ctx, sn), s.beta));
}

ggml_tensor * codec_mul_mat_window(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x, int64_t off, int64_t n) {
    const int64_t B = x->ne[2];
    if (B > 1 && n < 2) {  // one frame: ggml's GEMM refuses single columns, so each sequence's alone
        // call runs the dot-product loop; the strided per-sequence views keep the batch on it too
        return ggml_mul_mat(ctx, w, ggml_view_3d(ctx, x, x->ne[0], n, B, x->nb[1], x->nb[2], off * x->nb[1]));
    }
    if (B > 1 && x->nb[2] != x->nb[1] * x->ne[1]) x = ggml_cont(ctx, x);
    const int64_t T = x->ne[1];
    ggml_tensor * p = ggml_mul_mat(ctx, w, ggml_view_2d(ctx, x, x->ne[0], (B - 1) * T + n, x->nb[1], off * x->nb[1]));
    return B == 1 ? p : ggml_view_3d(ctx, p, p->ne[0], n, B, p->nb[1], T * p->nb[1], 0);
}

// "Same" stride-1 convs (output length == input length) without padding the input: the centre
// tap covers every output frame, each other tap is added onto the frames it reaches. Zero
// padding is a slow per-element op in ggml; this costs only the taps' own products.
// tap(j, off, n) returns tap j's contribution from input frames [off, off + n) of each sequence.
template <typename F>
static ggml_tensor * same_conv_taps(ggml_context * ctx, ggml_tensor * x, int64_t n_taps, int pad, int dilation, F && tap) {
    const int64_t T = x->ne[1];
    const int64_t centre = pad / dilation;
    ggml_tensor * y = tap(centre, 0, T);
    for (int64_t j = 0; j < n_taps; ++j) {
        const int64_t shift = j * dilation - pad;  // output frame t reads input frame t + shift
        const int64_t n = T - (shift < 0 ? -shift : shift);
        if (j == centre || n <= 0) continue;
        y = ggml_acc_inplace(ctx, y, tap(j, shift > 0 ? shift : 0, n), y->nb[1], y->nb[2], y->nb[3], (shift < 0 ? -shift : 0) * y->nb[1]);
    }
    return y;
}

static bool is_same_conv(int64_t n_taps, int stride, int pad, int dilation) {
    return stride == 1 && 2 * (int64_t) pad == dilation * (n_taps - 1) && pad % dilation == 0;
}

ggml_tensor * codec_cm_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                              int stride, int pad, int dilation) {
    const int64_t cin = x->ne[0], T = x->ne[1];
    const int64_t s = stride, n_taps = w->ne[2], K = n_taps * s, cout = w->ne[1];
    const int64_t t_out = codec_conv1d_out_len(T, (int) K, stride, dilation, 2 * pad);
    if (t_out < 1) return nullptr;
    if (is_same_conv(n_taps, stride, pad, dilation)) {
        ggml_tensor * y = same_conv_taps(ctx, x, n_taps, pad, dilation, [&](int64_t j, int64_t off, int64_t n) {
            return codec_mul_mat_window(ctx, ggml_view_2d(ctx, w, cin, cout, w->nb[1], j * w->nb[2]), x, off, n);
        });
        return b ? ggml_add(ctx, y, b) : y;
    }
    // Frames the taps read: tap group j of output t covers frames (t + j) * s .. + s - 1
    // (stride 1: frame t + j * dilation).
    const int64_t need = s > 1 ? (t_out + n_taps - 1) * s : t_out + (n_taps - 1) * dilation;
    const int64_t B = x->ne[2];
    int64_t right = std::max<int64_t>(0, need - T - pad);
    if (B > 1) right += (s - (T + pad + right) % s) % s;  // whole stride blocks per sequence: the batch reshapes below
    ggml_tensor * xp = x;
    if (pad > 0 || right > 0) xp = codec_pad_zero(ctx, x, pad, right, codec_on_host(w));
    // [Cin * s, frames / s, B]: column t holds frames t * s .. t * s + s - 1, matching w's rows.
    if (B > 1) xp = ggml_reshape_3d(ctx, ggml_is_contiguous(xp) ? xp : ggml_cont(ctx, xp), cin * s, xp->ne[1] / s, B);
    else xp = ggml_view_2d(ctx, xp, cin * s, need / s, xp->nb[1] * s, 0);
    ggml_tensor * y = nullptr;
    for (int64_t j = 0; j < n_taps; ++j) {
        const int64_t off = s > 1 ? j : j * dilation;
        ggml_tensor * wj = ggml_view_2d(ctx, w, w->ne[0], cout, w->nb[1], j * w->nb[2]);
        ggml_tensor * p = codec_mul_mat_window(ctx, wj, xp, off, t_out);  // [Cout, T_out, B]
        y = y ? ggml_add(ctx, y, p) : p;
    }
    if (b) y = ggml_add(ctx, y, b);
    return y;
}

ggml_tensor * codec_cm_conv1d_mono(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                   int stride, int pad, int dilation) {
    ggml_tensor * col = ggml_im2col(ctx, w, x, stride, 0, pad, 0, dilation, 0, false, GGML_TYPE_F32);  // [K, T_out, B]
    const int64_t t_out = col->ne[1], B = col->ne[2];
    col = ggml_reshape_2d(ctx, col, col->ne[0], t_out * B);
    ggml_tensor * y = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, w, w->ne[0], w->ne[2]), col);            // [Cout, T_out * B]
    y = ggml_reshape_3d(ctx, y, y->ne[0], t_out, B);
    return b ? ggml_add(ctx, y, b) : y;
}

ggml_tensor * codec_cm_conv1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                 int pad, int dilation, int stride) {
    const int64_t C = x->ne[0], T = x->ne[1], K = w->ne[1];
    const int64_t t_out = codec_conv1d_out_len(T, (int) K, stride, dilation, 2 * pad);
    if (t_out < 1) return nullptr;
    if (C < 3 || T < 2) {  // too narrow for the layout detection below (or one frame): a sum of per-tap scalings
        ggml_tensor * xp = pad > 0 ? ggml_pad_ext(ctx, x, 0, 0, pad, pad, 0, 0, 0, 0) : x;
        ggml_tensor * y = nullptr;
        for (int64_t k = 0; k < K; ++k) {
            ggml_tensor * xv = ggml_view_3d(ctx, xp, C, t_out, xp->ne[2], stride * xp->nb[1], xp->nb[2], k * dilation * xp->nb[1]);
            ggml_tensor * p = ggml_mul(ctx, xv, ggml_view_1d(ctx, w, C, k * w->nb[1]));
            y = y ? ggml_add(ctx, y, p) : p;
        }
        return b ? ggml_add(ctx, y, b) : y;
    }
    // ggml's direct depthwise 2-D conv in its channels-contiguous (CWHN) layout, time as the
    // height: one pass of F32 FMAs over all channels, threads split over time, zero padding
    // by bounds checks. x [C, T, B] is that layout with W = 1, H = T, N = B.
    const int64_t B = x->ne[2];
    ggml_tensor * src = ggml_view_4d(ctx, x, 1, T, C, B, x->nb[1], ggml_element_size(x), x->nb[2], 0);
    // ggml recognises CWHN by nb[0] lying strictly between the channel and row strides; the
    // width axis has one element, so its stride is never used for addressing.
    src->nb[0] = 2 * ggml_element_size(x);
    ggml_tensor * knl = ggml_view_4d(ctx, w, 1, K, 1, C, w->nb[1], ggml_element_size(w), ggml_element_size(w), 0);
    ggml_tensor * y = ggml_conv_2d_dw_direct(ctx, knl, src, 1, stride, 0, pad, 1, dilation);  // CWHN [1, T_out, C, B]
    y = ggml_view_3d(ctx, y, C, y->ne[1], B, C * ggml_element_size(y), y->nb[3], 0);     // [C, T_out, B]
    return b ? ggml_add(ctx, y, b) : ggml_cont(ctx, y);
}

ggml_tensor * codec_cm_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                        int stride, int crop, int64_t out_len) {
    const int64_t L = x->ne[1], m = w->ne[2], cols = w->ne[1], cout = cols / stride;
    // Group j's product of input frame l lands on output block l + j (block = `stride`
    // samples). With m - 1 zero frames on both sides of the (smaller) input, every group yields
    // all L + m - 1 blocks and the overlap-add is a plain sum.
    ggml_tensor * xp = m > 1 ? codec_pad_zero(ctx, x, m - 1, m - 1, codec_on_host(w)) : x;
    ggml_tensor * y = nullptr;
    for (int64_t j = 0; j < m; ++j) {
        ggml_tensor * wj = ggml_view_2d(ctx, w, w->ne[0], cols, w->nb[1], j * w->nb[2]);
        ggml_tensor * p = codec_mul_mat_window(ctx, wj, xp, m - 1 - j, L + m - 1);  // [Cout * s, L + m - 1, B]
        y = y ? ggml_add(ctx, y, p) : p;
    }
    if (!ggml_is_contiguous(y)) y = ggml_cont(ctx, y);
    y = ggml_reshape_3d(ctx, y, cout, stride * (L + m - 1), y->ne[2]);
    y = ggml_view_3d(ctx, y, cout, out_len, y->ne[2], y->nb[1], y->nb[2], crop * y->nb[1]);
    return b ? ggml_add(ctx, y, b) : ggml_cont(ctx, y);
}

codec_conv codec_load_cm_conv(codec_model_loader & ld, const std::string & prefix, int k, int stride, int cin, int cout,
                              bool bias) {
    codec_conv c;
    c.w = ld.tensor(prefix + ".weight", {(int64_t) cin * stride, cout, k / stride}, CODEC_W_MATMUL);
    if (bias) c.b = ld.tensor(prefix + ".bias", {cout}, CODEC_W_F32);
    return c;
}

codec_conv codec_load_cm_mono(codec_model_loader & ld, const std::string & prefix, int k, int cout) {
    codec_conv c;
    c.w = ld.tensor(prefix + ".weight", {k, 1, cout}, CODEC_W_F32);  // im2col runs in the weight's type
    c.b = ld.tensor(prefix + ".bias", {cout}, CODEC_W_F32);
    return c;
}

codec_conv codec_load_cm_dw(codec_model_loader & ld, const std::string & prefix, int k, int c) {
    codec_conv cv;
    cv.w = ld.tensor(prefix + ".weight", {c, k}, CODEC_W_F32);
    cv.b = ld.tensor(prefix + ".bias", {c}, CODEC_W_F32);
    return cv;
}

codec_conv codec_load_cm_convt(codec_model_loader & ld, const std::string & prefix, int k, int stride, int cin, int cout) {
    codec_conv c;
    c.w = ld.tensor(prefix + ".weight", {cin, (int64_t) cout * stride, k / stride}, CODEC_W_MATMUL);
    c.b = ld.tensor(prefix + ".bias", {cout}, CODEC_W_F32);
    return c;
}

codec_snake_w codec_load_cm_snake(codec_model_loader & ld, const std::string & prefix, int c) {
    codec_snake_w s;
    s.alpha = ld.tensor(prefix + ".alpha", {c}, CODEC_W_F32);
    s.beta  = ld.tensor(prefix + ".beta",  {c}, CODEC_W_F32);
    return s;
}
