#include "attention.h"

#include "model_loader.h"

#include <cmath>

ggml_tensor * codec_layer_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps) {
    ggml_tensor * y = ggml_mul(ctx, ggml_norm(ctx, x, eps), w);
    return b ? ggml_add(ctx, y, b) : y;
}

ggml_tensor * codec_rope_table(ggml_context * ctx, ggml_tensor * x, ggml_tensor * cos, ggml_tensor * sin) {
    const int64_t half = x->ne[0] / 2;
    ggml_tensor * x1 = ggml_view_4d(ctx, x, half, x->ne[1], x->ne[2], x->ne[3], x->nb[1], x->nb[2], x->nb[3], 0);
    ggml_tensor * x2 = ggml_view_4d(ctx, x, half, x->ne[1], x->ne[2], x->ne[3], x->nb[1], x->nb[2], x->nb[3],
                                    half * ggml_element_size(x));
    ggml_tensor * swapped = ggml_concat(ctx, x2, x1, 0);
    return ggml_add(ctx, ggml_mul(ctx, x, cos), ggml_mul(ctx, swapped, sin));
}

ggml_tensor * codec_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * k, ggml_tensor * v,
                              float scale, ggml_tensor * mask) {
    const int64_t dh = q->ne[0], H = q->ne[1], Tq = q->ne[2], B = q->ne[3];
    ggml_tensor * qp = ggml_permute(ctx, q, 0, 2, 1, 3);                 // [dh, Tq, H, B]
    ggml_tensor * kp = ggml_permute(ctx, k, 0, 2, 1, 3);                 // [dh, Tk, H, B]
    ggml_tensor * kq = ggml_mul_mat(ctx, kp, qp);                        // [Tk, Tq, H, B]
    kq = ggml_soft_max_ext(ctx, kq, mask, scale, 0.0f);
    ggml_tensor * vt = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3)); // [Tk, dh, H, B]
    ggml_tensor * o = ggml_mul_mat(ctx, vt, kq);                         // [dh, Tq, H, B]
    o = ggml_cont(ctx, ggml_permute(ctx, o, 0, 2, 1, 3));                // [dh, H, Tq, B]
    return ggml_reshape_2d(ctx, o, dh * H, Tq * B);
}

codec_local_mha codec_load_local_mha(codec_model_loader & ld, const std::string & prefix, int dim, int window,
                                     int dim_head) {
    codec_local_mha a;
    a.norm_w = ld.tensor(prefix + ".norm.weight", {dim}, CODEC_W_F32);
    a.norm_b = ld.tensor(prefix + ".norm.bias", {dim}, CODEC_W_F32);
    a.qkv_w  = ld.tensor(prefix + ".to_qkv.weight", {dim, 3 * dim}, CODEC_W_MATMUL);
    a.out_w  = ld.tensor(prefix + ".to_out.weight", {dim, dim}, CODEC_W_MATMUL);
    a.cos    = ld.tensor(prefix + ".rel_pos.cos", {dim_head, 1, window}, CODEC_W_F32);
    a.sin    = ld.tensor(prefix + ".rel_pos.sin", {dim_head, 1, window}, CODEC_W_F32);
    a.window = window;
    a.dim_head = dim_head;
    return a;
}

ggml_tensor * codec_local_mha_forward(ggml_context * ctx, const codec_local_mha & a, ggml_tensor * x) {
    const int64_t C = x->ne[0], T = x->ne[1];
    const int64_t dh = a.dim_head, H = C / dh, W = a.window, n_win = T / W;
    ggml_tensor * h = codec_layer_norm(ctx, x, a.norm_w, a.norm_b, 1e-5f);
    ggml_tensor * qkv = ggml_mul_mat(ctx, a.qkv_w, h);  // [3C, T]
    // "b (w n) (h d) -> b h w n d": channels split into heads, time into windows.
    const auto part = [&](int i) {
        return ggml_view_4d(ctx, qkv, dh, H, W, n_win, dh * ggml_element_size(qkv), qkv->nb[1], qkv->nb[1] * W,
                            i * C * ggml_element_size(qkv));
    };
    ggml_tensor * q = codec_rope_table(ctx, part(0), a.cos, a.sin);
    ggml_tensor * k = codec_rope_table(ctx, part(1), a.cos, a.sin);
    ggml_tensor * o = codec_attention(ctx, q, k, part(2), 1.0f / std::sqrt((float) dh));  // [C, T]
    return ggml_add(ctx, x, ggml_mul_mat(ctx, a.out_w, o));
}
