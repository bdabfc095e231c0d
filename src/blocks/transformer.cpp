#include "transformer.h"

#include "model_loader.h"

#include <cmath>

void codec_load_transformer(codec_model_loader & ld, const std::string & prefix, codec_transformer & tr,
                            int n_layer, int dim, int ffn, bool layer_scale) {
    const int inner = tr.n_head * tr.head_dim;
    tr.layers.clear();
    for (int i = 0; i < n_layer; ++i) {
        const std::string p = prefix + ".layers." + std::to_string(i);
        codec_transformer_layer l;
        l.ln1_w = ld.tensor(p + ".input_layernorm.weight", {dim}, CODEC_W_F32);
        l.ln1_b = ld.tensor(p + ".input_layernorm.bias", {dim}, CODEC_W_F32);
        l.wq = ld.tensor(p + ".self_attn.q_proj.weight", {dim, inner}, CODEC_W_MATMUL);
        l.wk = ld.tensor(p + ".self_attn.k_proj.weight", {dim, inner}, CODEC_W_MATMUL);
        l.wv = ld.tensor(p + ".self_attn.v_proj.weight", {dim, inner}, CODEC_W_MATMUL);
        l.wo = ld.tensor(p + ".self_attn.o_proj.weight", {inner, dim}, CODEC_W_MATMUL);
        l.ln2_w = ld.tensor(p + ".post_attention_layernorm.weight", {dim}, CODEC_W_F32);
        l.ln2_b = ld.tensor(p + ".post_attention_layernorm.bias", {dim}, CODEC_W_F32);
        l.fc1 = ld.tensor(p + ".mlp.fc1.weight", {dim, ffn}, CODEC_W_MATMUL);
        l.fc2 = ld.tensor(p + ".mlp.fc2.weight", {ffn, dim}, CODEC_W_MATMUL);
        if (layer_scale) {
            l.ls_attn = ld.tensor(p + ".self_attn_layer_scale.scale", {dim}, CODEC_W_F32);
            l.ls_mlp  = ld.tensor(p + ".mlp_layer_scale.scale", {dim}, CODEC_W_F32);
        }
        tr.layers.push_back(l);
    }
}

ggml_tensor * codec_causal_mask(ggml_context * ctx, int64_t kv0, int64_t n_kv, int64_t q0, int64_t n_q, int window) {
    // d[kv, q] = q - kv, exact in F32 for positions below 2^24
    ggml_tensor * qpos = ggml_arange(ctx, (float) q0, (float) (q0 + n_q), 1.0f);
    ggml_tensor * kpos = ggml_arange(ctx, (float) kv0, (float) (kv0 + n_kv), 1.0f);
    ggml_tensor * d = ggml_sub(ctx, ggml_repeat_4d(ctx, ggml_reshape_2d(ctx, qpos, 1, n_q), n_kv, n_q, 1, 1), kpos);
    // blocked = [d < 0] + [d >= window]  (step(x) = x > 0; d is an integer)
    ggml_tensor * blocked = ggml_step(ctx, ggml_scale(ctx, d, -1.0f));
    if (window > 0) blocked = ggml_add(ctx, blocked, ggml_step(ctx, ggml_scale_bias(ctx, d, 1.0f, (float) (1 - window))));
    // log(1 - blocked): 0 where visible, log(0) = -inf where blocked, as the reference's mask
    return ggml_log(ctx, ggml_scale_bias(ctx, blocked, -1.0f, 1.0f));
}

void codec_rope_tables(ggml_context * ctx, ggml_tensor * inv_freq, int64_t p0, int64_t n, ggml_tensor ** cos,
                       ggml_tensor ** sin) {
    const int64_t half = inv_freq->ne[0];
    ggml_tensor * pos = ggml_reshape_2d(ctx, ggml_arange(ctx, (float) p0, (float) (p0 + n), 1.0f), 1, n);
    // freqs[i, t] = pos[t] * inv_freq[i], one F32 rounding as in the reference
    ggml_tensor * freqs = ggml_mul(ctx, ggml_repeat_4d(ctx, inv_freq, half, n, 1, 1), pos);
    freqs = ggml_reshape_3d(ctx, freqs, half, 1, n);
    *cos = ggml_cos(ctx, freqs);
    *sin = ggml_sin(ctx, freqs);
}

ggml_tensor * codec_rope_neox(ggml_context * ctx, ggml_tensor * x, ggml_tensor * cos, ggml_tensor * sin) {
    const int64_t half = x->ne[0] / 2;
    ggml_tensor * x1 = ggml_view_3d(ctx, x, half, x->ne[1], x->ne[2], x->nb[1], x->nb[2], 0);
    ggml_tensor * x2 = ggml_view_3d(ctx, x, half, x->ne[1], x->ne[2], x->nb[1], x->nb[2], half * x->nb[0]);
    // x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1]
    ggml_tensor * y1 = ggml_sub(ctx, ggml_mul(ctx, x1, cos), ggml_mul(ctx, x2, sin));
    ggml_tensor * y2 = ggml_add(ctx, ggml_mul(ctx, x2, cos), ggml_mul(ctx, x1, sin));
    return ggml_concat(ctx, y1, y2, 0);
}

static ggml_tensor * layer_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps) {
    return ggml_add(ctx, ggml_mul(ctx, ggml_norm(ctx, x, eps), w), b);
}

ggml_tensor * codec_transformer_forward(ggml_context * ctx, const codec_transformer & tr, ggml_tensor * x) {
    const int64_t T = x->ne[1];
    const int H = tr.n_head, hd = tr.head_dim;
    const float scale = 1.0f / std::sqrt((float) hd);
    ggml_tensor * cos = nullptr, * sin = nullptr;
    codec_rope_tables(ctx, tr.inv_freq, 0, T, &cos, &sin);
    ggml_tensor * mask = codec_causal_mask(ctx, 0, T, 0, T, tr.window);  // shared by every layer
    for (const codec_transformer_layer & l : tr.layers) {
        ggml_tensor * h = layer_norm(ctx, x, l.ln1_w, l.ln1_b, tr.eps);
        ggml_tensor * q = codec_rope_neox(ctx, ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wq, h), hd, H, T), cos, sin);
        ggml_tensor * k = codec_rope_neox(ctx, ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wk, h), hd, H, T), cos, sin);
        ggml_tensor * v = ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wv, h), hd, H, T);
        q = ggml_permute(ctx, q, 0, 2, 1, 3);                         // [hd, T, H]
        k = ggml_permute(ctx, k, 0, 2, 1, 3);                         // [hd, T, H]
        ggml_tensor * vt = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3));  // [T, hd, H]
        ggml_tensor * kq = ggml_mul_mat(ctx, k, q);                   // [T_kv, T_q, H]
        kq = ggml_soft_max_ext(ctx, kq, mask, scale, 0.0f);           // softmax(kq * scale + mask)
        ggml_tensor * o = ggml_mul_mat(ctx, vt, kq);                  // [hd, T_q, H]
        o = ggml_cont(ctx, ggml_permute(ctx, o, 0, 2, 1, 3));        // [hd, H, T]
        o = ggml_mul_mat(ctx, l.wo, ggml_reshape_2d(ctx, o, hd * H, T));
        x = ggml_add(ctx, x, l.ls_attn ? ggml_mul(ctx, o, l.ls_attn) : o);

        h = layer_norm(ctx, x, l.ln2_w, l.ln2_b, tr.eps);
        h = ggml_mul_mat(ctx, l.fc2, ggml_gelu_erf(ctx, ggml_mul_mat(ctx, l.fc1, h)));
        x = ggml_add(ctx, x, l.ls_mlp ? ggml_mul(ctx, h, l.ls_mlp) : h);
    }
    return x;
}
