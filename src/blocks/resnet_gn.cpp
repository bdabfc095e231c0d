#include "resnet_gn.h"

#include "attention.h"
#include "model_loader.h"

#include <cmath>

// Group g holds channels [g * C/G, (g + 1) * C/G) of every frame: [C/G, G, T, B] -> [C/G, T, G, B]
// makes each group of each sequence one contiguous row for ggml_norm (mean, then the biased
// variance, as torch).
ggml_tensor * codec_group_norm(ggml_context * ctx, ggml_tensor * x, const codec_group_norm_w & n, int groups, float eps) {
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2], cg = C / groups;
    ggml_tensor * g = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, x, cg, groups, T, B), 0, 2, 1, 3));  // [cg, T, G, B]
    g = ggml_norm(ctx, ggml_reshape_2d(ctx, g, cg * T, groups * B), eps);
    g = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, g, cg, T, groups, B), 0, 2, 1, 3));  // [cg, G, T, B]
    return ggml_add(ctx, ggml_mul(ctx, ggml_reshape_3d(ctx, g, C, T, B), n.w), n.b);
}

ggml_tensor * codec_gn_resblock_forward(ggml_context * ctx, const codec_gn_resblock & r, ggml_tensor * x, int groups, float eps) {
    ggml_tensor * h = ggml_silu(ctx, codec_group_norm(ctx, x, r.norm1, groups, eps));
    h = codec_cm_conv1d(ctx, h, r.conv1.w, r.conv1.b, 1, 1, 1);
    h = ggml_silu(ctx, codec_group_norm(ctx, h, r.norm2, groups, eps));
    h = codec_cm_conv1d(ctx, h, r.conv2.w, r.conv2.b, 1, 1, 1);
    return ggml_add(ctx, x, h);
}

ggml_tensor * codec_attn_block_forward(ggml_context * ctx, const codec_attn_block & a, ggml_tensor * x, int groups, float eps) {
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2];
    ggml_tensor * h = codec_group_norm(ctx, x, a.norm, groups, eps);
    const auto proj = [&](ggml_tensor * w, ggml_tensor * b, ggml_tensor * in) { return ggml_add(ctx, ggml_mul_mat(ctx, w, in), b); };
    ggml_tensor * q = ggml_reshape_4d(ctx, proj(a.q_w, a.q_b, h), C, 1, T, B);  // one head of C channels, per sequence
    ggml_tensor * k = ggml_reshape_4d(ctx, proj(a.k_w, a.k_b, h), C, 1, T, B);
    ggml_tensor * v = ggml_reshape_4d(ctx, proj(a.v_w, a.v_b, h), C, 1, T, B);
    ggml_tensor * o = codec_attention(ctx, q, k, v, 1.0f / std::sqrt((float) C));  // [C, T * B]
    o = proj(a.o_w, a.o_b, o);
    return ggml_add(ctx, x, B == 1 ? o : ggml_reshape_3d(ctx, o, C, T, B));
}

codec_group_norm_w codec_load_group_norm(codec_model_loader & ld, const std::string & prefix, int dim) {
    codec_group_norm_w n;
    n.w = ld.tensor(prefix + ".weight", {dim}, CODEC_W_F32);
    n.b = ld.tensor(prefix + ".bias", {dim}, CODEC_W_F32);
    return n;
}

codec_gn_resblock codec_load_gn_resblock(codec_model_loader & ld, const std::string & prefix, int dim) {
    codec_gn_resblock r;
    r.norm1 = codec_load_group_norm(ld, prefix + ".norm1", dim);
    r.conv1 = codec_load_cm_conv(ld, prefix + ".conv1", 3, 1, dim, dim);
    r.norm2 = codec_load_group_norm(ld, prefix + ".norm2", dim);
    r.conv2 = codec_load_cm_conv(ld, prefix + ".conv2", 3, 1, dim, dim);
    return r;
}

codec_attn_block codec_load_attn_block(codec_model_loader & ld, const std::string & prefix, int dim) {
    codec_attn_block a;
    a.norm = codec_load_group_norm(ld, prefix + ".norm", dim);
    const auto lin = [&](const char * name, ggml_tensor *& w, ggml_tensor *& b) {
        w = ld.tensor(prefix + "." + name + ".weight", {dim, dim}, CODEC_W_MATMUL);
        b = ld.tensor(prefix + "." + name + ".bias", {dim}, CODEC_W_F32);
    };
    lin("q", a.q_w, a.q_b);
    lin("k", a.k_w, a.k_b);
    lin("v", a.v_w, a.v_b);
    lin("proj_out", a.o_w, a.o_b);
    return a;
}
