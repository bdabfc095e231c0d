#include "conformer.h"

#include "attention.h"
#include "chunked.h"
#include "conv_cm.h"
#include "model_loader.h"

#include <algorithm>
#include <cmath>

namespace {

ggml_tensor * ln(ggml_context * ctx, ggml_tensor * x, const codec_ln_w & n, float eps) {
    return codec_layer_norm(ctx, x, n.w, n.b, eps);
}

ggml_tensor * linear(ggml_context * ctx, const codec_linear_w & l, ggml_tensor * x) {
    return ggml_add(ctx, ggml_mul_mat(ctx, l.w, x), l.b);
}

ggml_tensor * ffn(ggml_context * ctx, const codec_linear_w & up, const codec_linear_w & down, ggml_tensor * x) {
    return linear(ctx, down, ggml_silu(ctx, linear(ctx, up, x)));
}

// x [n, T, H] (contiguous) -> its column `col` repeated `n_rep` times: [n_rep, T, H].
ggml_tensor * repeat_col(ggml_context * ctx, ggml_tensor * x, int64_t col, int64_t n_rep) {
    ggml_tensor * c = ggml_cont(ctx, ggml_view_3d(ctx, x, 1, x->ne[1], x->ne[2], x->nb[1], x->nb[2],
                                                  col * ggml_element_size(x)));
    return ggml_repeat(ctx, c, ggml_new_tensor_3d(ctx, x->type, n_rep, x->ne[1], x->ne[2]));
}

// Queries [s, s + n) of q, qb [d, n, H], against T keys -> their relative_key bias [T, n, H],
// unscaled. Query i = s + l reads R_l[clamp(j - i) + left], j the key; over the block, m = j - l
// + n - 1 runs over [0, T + n - 1), where R_l is wanted at p = clamp(m + c), c = left + 1 - s - n:
// R's columns [p0, p1), R[0] repeated n_lo times before them, R[n_pos - 1] n_hi times after (the
// range always meets [0, n_pos)). Entry (j, l) then lies at (n - 1) + l (T + n - 2) + j.
ggml_tensor * rel_key_bias(ggml_context * ctx, ggml_tensor * dist, ggml_tensor * qb, int left, int right, int64_t T,
                           int64_t s) {
    const int64_t n = qb->ne[1], H = qb->ne[2], n_pos = left + right + 1, L = T + n - 1, c = left + 1 - s - n;
    ggml_tensor * r = ggml_mul_mat(ctx, dist, qb);  // [n_pos, n, H]: q_i . E_p
    const int64_t p0 = std::max<int64_t>(0, c), p1 = std::min<int64_t>(n_pos, L + c);
    const int64_t n_lo = std::max<int64_t>(0, std::min<int64_t>(L, -c)), n_hi = L - n_lo - (p1 - p0);
    ggml_tensor * row = ggml_view_3d(ctx, r, p1 - p0, n, H, r->nb[1], r->nb[2], p0 * ggml_element_size(r));
    if (n_lo > 0) row = ggml_concat(ctx, repeat_col(ctx, r, 0, n_lo), row, 0);
    if (n_hi > 0) row = ggml_concat(ctx, row, repeat_col(ctx, r, n_pos - 1, n_hi), 0);
    row = ggml_cont(ctx, row);  // [L, n, H]
    const size_t es = ggml_element_size(row);
    return ggml_view_3d(ctx, row, T, n, H, (L - 1) * es, row->nb[2], (n - 1) * es);
}

// Queries in blocks of k_block frames (the scores of one block at a time: memory linear in T).
const int64_t k_block = 512;

ggml_tensor * self_attn(ggml_context * ctx, const codec_conformer_layer & l, const codec_conformer_hp & hp, ggml_tensor * x) {
    const int64_t C = x->ne[0], T = x->ne[1], H = hp.n_head, d = C / H;
    auto heads = [&](const codec_linear_w & w) {  // [C, T] -> [d, T, H]
        return ggml_permute(ctx, ggml_reshape_3d(ctx, linear(ctx, w, x), d, H, T), 0, 2, 1, 3);
    };
    ggml_tensor * q = ggml_cont(ctx, heads(l.q)), * k = ggml_cont(ctx, heads(l.k));
    ggml_tensor * vt = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_3d(ctx, linear(ctx, l.v, x), d, H, T), 1, 2, 0, 3));  // [T, d, H]
    std::vector<ggml_tensor *> out;
    for (int64_t s0 = 0; s0 < T; s0 += k_block) {
        const int64_t n = std::min(k_block, T - s0);
        ggml_tensor * qb = ggml_view_3d(ctx, q, d, n, H, q->nb[1], q->nb[2], s0 * q->nb[1]);
        ggml_tensor * sc = ggml_add(ctx, rel_key_bias(ctx, l.dist, qb, hp.left, hp.right, T, s0), ggml_mul_mat(ctx, k, qb));
        sc = ggml_soft_max_ext(ctx, sc, nullptr, 1.0f / std::sqrt((float) d), 0.0f);  // [T, n, H]
        out.push_back(ggml_mul_mat(ctx, vt, sc));                                     // [d, n, H]
    }
    ggml_tensor * o = ggml_cont(ctx, ggml_permute(ctx, codec_concat_tree(ctx, out, 1), 0, 2, 1, 3));  // [d, H, T]
    return linear(ctx, l.o, ggml_reshape_2d(ctx, o, C, T));
}

ggml_tensor * conv_module(ggml_context * ctx, const codec_conformer_layer & l, const codec_conformer_hp & hp, ggml_tensor * x) {
    const int64_t C = x->ne[0], T = x->ne[1];
    ggml_tensor * h = ggml_mul_mat(ctx, l.pw1, ln(ctx, x, l.conv_norm, hp.eps));    // [2C, T]
    ggml_tensor * a = ggml_view_2d(ctx, h, C, T, h->nb[1], 0);
    ggml_tensor * g = ggml_view_2d(ctx, h, C, T, h->nb[1], C * ggml_element_size(h));
    h = ggml_mul(ctx, a, ggml_sigmoid(ctx, g));                                     // GLU
    h = ggml_pad_ext(ctx, h, 0, 0, hp.kernel - 1, 0, 0, 0, 0, 0);                   // causal
    h = codec_cm_conv1d_dw(ctx, h, l.dw, nullptr, 0, 1);
    h = ggml_silu(ctx, ln(ctx, h, l.dw_norm, hp.eps));
    return ggml_mul_mat(ctx, l.pw2, h);
}

}  // namespace

ggml_tensor * codec_conformer_forward(ggml_context * ctx, const codec_conformer_layer & l, const codec_conformer_hp & hp,
                                      ggml_tensor * x) {
    x = ggml_add(ctx, x, ggml_scale(ctx, ffn(ctx, l.ffn1_up, l.ffn1_down, ln(ctx, x, l.ffn1_norm, hp.eps)), 0.5f));
    x = ggml_add(ctx, x, self_attn(ctx, l, hp, ln(ctx, x, l.attn_norm, hp.eps)));
    x = ggml_add(ctx, x, conv_module(ctx, l, hp, x));
    x = ggml_add(ctx, x, ggml_scale(ctx, ffn(ctx, l.ffn2_up, l.ffn2_down, ln(ctx, x, l.ffn2_norm, hp.eps)), 0.5f));
    return ln(ctx, x, l.final_norm, hp.eps);
}

codec_conformer_layer codec_load_conformer_layer(codec_model_loader & ld, const std::string & prefix, int dim, int ffn,
                                                 const codec_conformer_hp & hp) {
    codec_conformer_layer l;
    auto norm = [&](const char * n) {
        return codec_ln_w{ld.tensor(prefix + n + ".weight", {dim}, CODEC_W_F32), ld.tensor(prefix + n + ".bias", {dim}, CODEC_W_F32)};
    };
    auto lin = [&](const char * n, int in, int out) {
        return codec_linear_w{ld.tensor(prefix + n + ".weight", {in, out}, CODEC_W_MATMUL),
                              ld.tensor(prefix + n + ".bias", {out}, CODEC_W_F32)};
    };
    l.ffn1_norm = norm("ffn1_layer_norm");
    l.attn_norm = norm("self_attn_layer_norm");
    l.conv_norm = norm("conv_module.layer_norm");
    l.dw_norm = norm("conv_module.depthwise_layer_norm");
    l.ffn2_norm = norm("ffn2_layer_norm");
    l.final_norm = norm("final_layer_norm");
    l.ffn1_up = lin("ffn1.intermediate_dense", dim, ffn);
    l.ffn1_down = lin("ffn1.output_dense", ffn, dim);
    l.ffn2_up = lin("ffn2.intermediate_dense", dim, ffn);
    l.ffn2_down = lin("ffn2.output_dense", ffn, dim);
    l.q = lin("self_attn.linear_q", dim, dim);
    l.k = lin("self_attn.linear_k", dim, dim);
    l.v = lin("self_attn.linear_v", dim, dim);
    l.o = lin("self_attn.linear_out", dim, dim);
    l.dist = ld.tensor(prefix + "self_attn.distance_embedding", {dim / hp.n_head, hp.left + hp.right + 1}, CODEC_W_F32);
    l.pw1 = ld.tensor(prefix + "conv_module.pointwise_conv1.weight", {dim, 2 * dim}, CODEC_W_MATMUL);
    l.dw = ld.tensor(prefix + "conv_module.depthwise_conv.weight", {dim, hp.kernel}, CODEC_W_F32);
    l.pw2 = ld.tensor(prefix + "conv_module.pointwise_conv2.weight", {dim, dim}, CODEC_W_MATMUL);
    return l;
}
