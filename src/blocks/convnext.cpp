#include "convnext.h"

#include "blocks/causal_conv.h"
#include "model_loader.h"
#include "ops/copy_rows.h"
#include "ops/gelu.h"
#include "stream_io.h"

codec_ada_norm codec_load_ada_norm(codec_model_loader & ld, const std::string & prefix, int dim, int n_ada) {
    codec_ada_norm n;
    n.scale = ld.tensor(prefix + ".scale.weight", {dim, n_ada}, CODEC_W_F32);
    n.shift = ld.tensor(prefix + ".shift.weight", {dim, n_ada}, CODEC_W_F32);
    return n;
}

ggml_tensor * codec_ada_layer_norm(ggml_context * ctx, ggml_tensor * x, const codec_ada_norm & n, int cond, float eps) {
    const int64_t C = n.scale->ne[0];
    ggml_tensor * s = ggml_view_1d(ctx, n.scale, C, cond * n.scale->nb[1]);
    ggml_tensor * b = ggml_view_1d(ctx, n.shift, C, cond * n.shift->nb[1]);
    return ggml_add(ctx, ggml_mul(ctx, ggml_norm(ctx, x, eps), s), b);
}

codec_convnext codec_load_convnext(codec_model_loader & ld, const std::string & prefix, int dim, int ffn, int kernel,
                                   int n_ada, bool has_gamma, bool causal, float eps, const std::string & dw_name) {
    codec_convnext b;
    b.kernel = kernel;
    b.causal = causal;
    b.eps = eps;
    b.dw = codec_load_cm_dw(ld, prefix + "." + dw_name, kernel, dim);
    if (n_ada > 0) {
        b.ada = codec_load_ada_norm(ld, prefix + ".norm", dim, n_ada);
    } else {
        b.norm_w = ld.tensor(prefix + ".norm.weight", {dim}, CODEC_W_F32);
        b.norm_b = ld.tensor(prefix + ".norm.bias", {dim}, CODEC_W_F32);
    }
    b.pw1_w = ld.tensor(prefix + ".pwconv1.weight", {dim, ffn}, CODEC_W_MATMUL);
    b.pw1_b = ld.tensor(prefix + ".pwconv1.bias", {ffn}, CODEC_W_F32);
    b.pw2_w = ld.tensor(prefix + ".pwconv2.weight", {ffn, dim}, CODEC_W_MATMUL);
    b.pw2_b = ld.tensor(prefix + ".pwconv2.bias", {dim}, CODEC_W_F32);
    if (has_gamma) b.gamma = ld.tensor(prefix + ".gamma", {dim}, CODEC_W_F32);
    return b;
}

ggml_tensor * codec_convnext_forward(ggml_context * ctx, const codec_convnext & b, ggml_tensor * x, int cond,
                                     codec_stream_io * io) {
    const int64_t k1 = b.kernel - 1;
    ggml_tensor * h;
    if (!b.causal) {
        h = codec_cm_conv1d_dw(ctx, x, b.dw.w, b.dw.b, (int) (k1 / 2), 1);
    } else {  // all of the kernel's padding on the left (a stride-1 causal conv has no extra right padding)
        ggml_tensor * xp = io ? io->with_context(ctx, x, k1, CODEC_PAD_CONSTANT) : codec_pad_time_cm(ctx, x, k1, 0, CODEC_PAD_CONSTANT, codec_on_host(b.dw.w));
        h = codec_cm_conv1d_dw(ctx, xp, b.dw.w, b.dw.b, 0, 1);
    }
    h = b.ada.scale ? codec_ada_layer_norm(ctx, h, b.ada, cond, b.eps)
                    : ggml_add(ctx, ggml_mul(ctx, ggml_norm(ctx, h, b.eps), b.norm_w), b.norm_b);
    h = ggml_add(ctx, ggml_mul_mat(ctx, b.pw1_w, h), b.pw1_b);
    h = ggml_add(ctx, ggml_mul_mat(ctx, b.pw2_w, codec_gelu_erf(ctx, h, codec_on_host(b.pw2_w))), b.pw2_b);
    if (b.gamma) h = ggml_mul(ctx, h, b.gamma);
    return ggml_add(ctx, x, h);
}
