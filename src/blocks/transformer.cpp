#include "transformer.h"

#include "attention.h"
#include "chunked.h"
#include "model_loader.h"
#include "ops/copy_rows.h"
#include "ops/gelu.h"
#include "stream_io.h"

#include <algorithm>
#include <cmath>

// The projections both layer kinds share: "<p>.self_attn.{q,k,v,o}_proj.weight".
static void load_attention(codec_model_loader & ld, const std::string & p, codec_transformer_layer & l, int dim, int inner) {
    l.wq = ld.tensor(p + ".self_attn.q_proj.weight", {dim, inner}, CODEC_W_MATMUL);
    l.wk = ld.tensor(p + ".self_attn.k_proj.weight", {dim, inner}, CODEC_W_MATMUL);
    l.wv = ld.tensor(p + ".self_attn.v_proj.weight", {dim, inner}, CODEC_W_MATMUL);
    l.wo = ld.tensor(p + ".self_attn.o_proj.weight", {inner, dim}, CODEC_W_MATMUL);
}

void codec_load_transformer(codec_model_loader & ld, const std::string & prefix, codec_transformer & tr,
                            int n_layer, int dim, int ffn, bool layer_scale) {
    const int inner = tr.n_head * tr.head_dim;
    tr.layers.clear();
    for (int i = 0; i < n_layer; ++i) {
        const std::string p = prefix + ".layers." + std::to_string(i);
        codec_transformer_layer l;
        l.ln1_w = ld.tensor(p + ".input_layernorm.weight", {dim}, CODEC_W_F32);
        if (!tr.rms_norm) l.ln1_b = ld.tensor(p + ".input_layernorm.bias", {dim}, CODEC_W_F32);
        load_attention(ld, p, l, dim, inner);
        l.ln2_w = ld.tensor(p + ".post_attention_layernorm.weight", {dim}, CODEC_W_F32);
        if (!tr.rms_norm) l.ln2_b = ld.tensor(p + ".post_attention_layernorm.bias", {dim}, CODEC_W_F32);
        l.fc1 = ld.tensor(p + ".mlp.fc1.weight", {dim, ffn}, CODEC_W_MATMUL);
        l.fc2 = ld.tensor(p + ".mlp.fc2.weight", {ffn, dim}, CODEC_W_MATMUL);
        if (layer_scale) {
            l.ls_attn = ld.tensor(p + ".self_attn_layer_scale.scale", {dim}, CODEC_W_F32);
            l.ls_mlp  = ld.tensor(p + ".mlp_layer_scale.scale", {dim}, CODEC_W_F32);
        }
        tr.layers.push_back(l);
    }
}

void codec_load_transformer_swiglu(codec_model_loader & ld, const std::string & prefix, codec_transformer & tr,
                                   int n_layer, int dim, int ffn) {
    const int inner = tr.n_head * tr.head_dim;
    tr.rms_norm = tr.swiglu = true;
    tr.layers.clear();
    for (int i = 0; i < n_layer; ++i) {
        const std::string p = prefix + ".layers." + std::to_string(i);
        codec_transformer_layer l;
        l.ln1_w = ld.tensor(p + ".input_layernorm.weight", {dim}, CODEC_W_F32);
        load_attention(ld, p, l, dim, inner);
        l.ln2_w = ld.tensor(p + ".post_attention_layernorm.weight", {dim}, CODEC_W_F32);
        l.fc1 = ld.tensor(p + ".mlp.gate_proj.weight", {dim, ffn}, CODEC_W_MATMUL);
        l.fc3 = ld.tensor(p + ".mlp.up_proj.weight", {dim, ffn}, CODEC_W_MATMUL);
        l.fc2 = ld.tensor(p + ".mlp.down_proj.weight", {ffn, dim}, CODEC_W_MATMUL);
        l.ls_attn = ld.tensor(p + ".self_attn_layer_scale.scale", {dim}, CODEC_W_F32);
        l.ls_mlp  = ld.tensor(p + ".mlp_layer_scale.scale", {dim}, CODEC_W_F32);
        tr.layers.push_back(l);
    }
}

void codec_rope_tables(ggml_context * ctx, ggml_tensor * inv_freq, int64_t p0, int64_t n, ggml_tensor ** cos,
                       ggml_tensor ** sin) {
    codec_rope_tables_at(ctx, inv_freq, ggml_reshape_2d(ctx, ggml_arange(ctx, (float) p0, (float) (p0 + n), 1.0f), 1, n),
                         cos, sin);
}

void codec_rope_tables_at(ggml_context * ctx, ggml_tensor * inv_freq, ggml_tensor * pos, ggml_tensor ** cos,
                          ggml_tensor ** sin) {
    const int64_t half = inv_freq->ne[0], n = pos->ne[1];
    // freqs[i, t] = pos[t] * inv_freq[i], one F32 rounding as in the reference
    ggml_tensor * freqs = ggml_mul(ctx, ggml_repeat_4d(ctx, inv_freq, half, n, 1, 1), pos);
    freqs = ggml_reshape_3d(ctx, freqs, half, 1, n);
    *cos = ggml_cos(ctx, freqs);
    *sin = ggml_sin(ctx, freqs);
}

ggml_tensor * codec_rope_neox(ggml_context * ctx, ggml_tensor * x, ggml_tensor * cos, ggml_tensor * sin) {
    const int64_t half = x->ne[0] / 2;
    ggml_tensor * x1 = ggml_view_4d(ctx, x, half, x->ne[1], x->ne[2], x->ne[3], x->nb[1], x->nb[2], x->nb[3], 0);
    ggml_tensor * x2 = ggml_view_4d(ctx, x, half, x->ne[1], x->ne[2], x->ne[3], x->nb[1], x->nb[2], x->nb[3], half * x->nb[0]);
    // x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1]
    ggml_tensor * y1 = ggml_sub(ctx, ggml_mul(ctx, x1, cos), ggml_mul(ctx, x2, sin));
    ggml_tensor * y2 = ggml_add(ctx, ggml_mul(ctx, x2, cos), ggml_mul(ctx, x1, sin));
    return ggml_concat(ctx, y1, y2, 0);
}

// The layer's norms: LayerNorm (weight + bias) or RMSNorm (x * rsqrt(mean(x^2) + eps) * weight).
static ggml_tensor * layer_norm(ggml_context * ctx, const codec_transformer & tr, ggml_tensor * x, ggml_tensor * w,
                                ggml_tensor * b) {
    if (tr.rms_norm) return ggml_mul(ctx, ggml_rms_norm(ctx, x, tr.eps), w);
    return ggml_add(ctx, ggml_mul(ctx, ggml_norm(ctx, x, tr.eps), w), b);
}

// The feed-forward half of a layer: fc2(act(fc1(h))) or, SwiGLU, down(silu(gate(h)) * up(h)).
static ggml_tensor * layer_mlp(ggml_context * ctx, const codec_transformer & tr, const codec_transformer_layer & l,
                               ggml_tensor * h) {
    if (tr.swiglu) {
        return ggml_mul_mat(ctx, l.fc2, ggml_mul(ctx, ggml_silu(ctx, ggml_mul_mat(ctx, l.fc1, h)), ggml_mul_mat(ctx, l.fc3, h)));
    }
    ggml_tensor * a = ggml_mul_mat(ctx, l.fc1, h);
    a = tr.silu ? ggml_silu(ctx, a) : tr.gelu_tanh ? codec_gelu_tanh(ctx, a, codec_on_host(l.fc1))
                                              : codec_gelu_erf(ctx, a, codec_on_host(l.fc1));
    return ggml_mul_mat(ctx, l.fc2, a);
}

// Causal (sliding-window) attention in query blocks of B = window frames, batched as a 4th
// dimension: block b's queries [bB, bB + B) see keys [bB - B, bB + B) (B zero frames padded before
// the sequence and masked), so memory is O(T * B) instead of O(T^2). Without a window (or for an
// input within one window) a single block holds everything.
struct attn_blocks {
    int64_t T = 0, B = 0, P = 0, nb = 0;
    ggml_tensor * mask = nullptr;  // [P + B, B, 1, nb]
};

static attn_blocks make_blocks(ggml_context * ctx, int64_t T, int window) {
    attn_blocks a;
    a.T = T;
    const bool blocked = window > 0 && T > window;
    a.B = blocked ? window : T;
    a.P = blocked ? window : 0;  // the previous block (its first frame is outside the window: masked)
    a.nb = (T + a.B - 1) / a.B;
    const int64_t L = a.P + a.B;
    // block-local d[l, i] = q - kv = i + P - l; visible iff 0 <= d (< window) and the key is no padding
    ggml_tensor * qi = ggml_repeat_4d(ctx, ggml_reshape_2d(ctx, ggml_arange(ctx, 0.0f, (float) a.B, 1.0f), 1, a.B), L, a.B, 1, 1);
    ggml_tensor * d = ggml_sub(ctx, ggml_scale_bias(ctx, qi, 1.0f, (float) a.P), ggml_arange(ctx, 0.0f, (float) L, 1.0f));
    ggml_tensor * blk = ggml_step(ctx, ggml_scale(ctx, d, -1.0f));  // step(x) = [x > 0]; d is an integer
    if (window > 0) blk = ggml_add(ctx, blk, ggml_step(ctx, ggml_scale_bias(ctx, d, 1.0f, (float) (1 - window))));
    blk = ggml_repeat_4d(ctx, blk, L, a.B, 1, a.nb);
    if (a.P > 0) {
        // key position b * B + l - P < 0  <=>  P - l - b * B > 0
        ggml_tensor * b = ggml_reshape_4d(ctx, ggml_arange(ctx, 0.0f, (float) a.nb, 1.0f), 1, 1, 1, a.nb);
        b = ggml_scale(ctx, ggml_repeat_4d(ctx, b, L, 1, 1, a.nb), (float) -a.B);
        ggml_tensor * pad = ggml_add(ctx, b, ggml_scale_bias(ctx, ggml_arange(ctx, 0.0f, (float) L, 1.0f), -1.0f, (float) a.P));
        blk = ggml_add(ctx, blk, ggml_step(ctx, pad));
    }
    // log(1 - min(blocked, 1)): 0 where visible, -inf where blocked, as the reference's mask
    a.mask = ggml_log(ctx, ggml_scale_bias(ctx, ggml_clamp(ctx, blk, 0.0f, 1.0f), -1.0f, 1.0f));
    return a;
}

// Keys (or values) of every query block from x [hd, H, (nb + 1) * B, S], padded with one block
// in front: block b's are padded blocks b and b + 1 (P == B) -> [hd, H, 2B, nb * S].
static ggml_tensor * block_keys(ggml_context * ctx, ggml_tensor * x, int64_t B, int64_t nb) {
    const int64_t hd = x->ne[0], H = x->ne[1], S = x->ne[3];
    const size_t blk = B * x->nb[2];
    if (S == 1) {  // blocks as ne3, joined along time (ggml's concat splits its threads over ne2: 2B frames)
        return ggml_concat(ctx, ggml_view_4d(ctx, x, hd, H, B, nb, x->nb[1], x->nb[2], blk, 0),
                           ggml_view_4d(ctx, x, hd, H, B, nb, x->nb[1], x->nb[2], blk, blk), 2);
    }
    // a batch: each sequence's blocks are apart from the next one's by its padding block, so
    // frames (hd * H values) as rows, [frame, B, nb, S] views, joined per block, sequence-major
    ggml_tensor * prev = ggml_view_4d(ctx, x, hd * H, B, nb, S, x->nb[2], blk, x->nb[3], 0);
    ggml_tensor * cur = ggml_view_4d(ctx, x, hd * H, B, nb, S, x->nb[2], blk, x->nb[3], blk);
    return ggml_reshape_4d(ctx, ggml_concat(ctx, prev, cur, 1), hd, H, 2 * B, nb * S);
}

// q, k, v [hd, H, T, S] (S independent sequences) -> attention output [hd * H, T, S]. The S * nb
// blocks run as ne3, sequence-major, so the [L, B, 1, nb] mask broadcasts over sequences.
static ggml_tensor * blocked_attention(ggml_context * ctx, const attn_blocks & a, ggml_tensor * q, ggml_tensor * k,
                                       ggml_tensor * v, float scale) {
    const int64_t hd = q->ne[0], H = q->ne[1], S = q->ne[3], T = a.T, B = a.B, P = a.P, nb = a.nb, L = P + B;
    const int64_t tail = nb * B - T;
    if (tail > 0) q = ggml_pad_ext(ctx, q, 0, 0, 0, 0, 0, (int) tail, 0, 0);
    if (P > 0 || tail > 0) {
        k = ggml_pad_ext(ctx, k, 0, 0, 0, 0, (int) P, (int) tail, 0, 0);
        v = ggml_pad_ext(ctx, v, 0, 0, 0, 0, (int) P, (int) tail, 0, 0);
    }
    if (P > 0) {
        k = block_keys(ctx, k, B, nb);
        v = block_keys(ctx, v, B, nb);
    } else {
        k = ggml_reshape_4d(ctx, k, hd, H, L, nb * S);
        v = ggml_reshape_4d(ctx, v, hd, H, L, nb * S);
    }
    q = ggml_permute(ctx, ggml_reshape_4d(ctx, q, hd, H, B, nb * S), 0, 2, 1, 3);  // [hd, B, H, nb S]
    k = ggml_cont(ctx, ggml_permute(ctx, k, 0, 2, 1, 3));                           // [hd, L, H, nb S]
    ggml_tensor * vt = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3));            // [L, hd, H, nb S]
    ggml_tensor * kq = ggml_mul_mat(ctx, k, q);                                      // [L, B, H, nb S]
    kq = ggml_soft_max_ext(ctx, kq, a.mask, scale, 0.0f);                            // softmax(kq * scale + mask)
    ggml_tensor * o = ggml_mul_mat(ctx, vt, kq);                                     // [hd, B, H, nb S]
    o = ggml_cont(ctx, ggml_permute(ctx, o, 0, 2, 1, 3));                           // [hd, H, B, nb S]
    o = ggml_reshape_3d(ctx, o, hd * H, nb * B, S);
    if (tail > 0) {  // the first T frames; a batch's are strided, made contiguous for o_proj's GEMM
        o = ggml_view_3d(ctx, o, hd * H, T, S, o->nb[1], o->nb[2], 0);
        if (S > 1) o = ggml_cont(ctx, o);
    }
    return o;
}

// The rest of a streaming layer once its keys kp [hd, L, H] and transposed values vt [L, hd, H]
// are in place: the queries q [hd, H, T] attend (mask [L, T]), then the output projection and MLP.
static ggml_tensor * stream_layer_rest(ggml_context * ctx, const codec_transformer & tr, const codec_transformer_layer & l,
                                       ggml_tensor * x, ggml_tensor * q, ggml_tensor * kp, ggml_tensor * vt, ggml_tensor * mask) {
    const int64_t T = x->ne[1];
    const float scale = 1.0f / std::sqrt((float) tr.head_dim);
    ggml_tensor * qp = ggml_permute(ctx, q, 0, 2, 1, 3);  // [hd, T, H]
    ggml_tensor * kq = ggml_soft_max_ext(ctx, ggml_mul_mat(ctx, kp, qp), mask, scale, 0.0f);  // [L, T, H]
    ggml_tensor * o = ggml_cont(ctx, ggml_permute(ctx, ggml_mul_mat(ctx, vt, kq), 0, 2, 1, 3));  // [hd, H, T]
    o = ggml_mul_mat(ctx, l.wo, ggml_reshape_2d(ctx, o, (int64_t) tr.head_dim * tr.n_head, T));
    x = ggml_add(ctx, x, l.ls_attn ? ggml_mul(ctx, o, l.ls_attn) : o);
    ggml_tensor * h = layer_mlp(ctx, tr, l, layer_norm(ctx, tr, x, l.ln2_w, l.ln2_b));
    return ggml_add(ctx, x, l.ls_mlp ? ggml_mul(ctx, h, l.ls_mlp) : h);
}

// One streaming block of T frames. Keys of layer l: the cached W = window - 1 frames before the
// block, then the block's own; key j (0 <= j < W + T) of query i is d = i + W - j frames back,
// visible iff 0 <= d < window and the key exists (j >= W - pos, pos = frames before the block).
static ggml_tensor * transformer_stream(ggml_context * ctx, const codec_transformer & tr, ggml_tensor * x,
                                        codec_stream_io * io) {
    const int64_t T = x->ne[1], W = tr.window - 1, L = W + T;
    const int H = tr.n_head, hd = tr.head_dim;

    ggml_tensor * pos_slot = io->slot(1);
    ggml_tensor * pos = ggml_scale(ctx, pos_slot, 1.0f);  // the slot's one reader (stream_io.h)
    io->write(ctx, ggml_scale_bias(ctx, pos, 1.0f, (float) T), pos_slot);
    ggml_tensor * cos = nullptr, * sin = nullptr;
    codec_rope_tables_at(ctx, tr.inv_freq, ggml_reshape_2d(ctx, ggml_add(ctx, ggml_arange(ctx, 0.0f, (float) T, 1.0f), pos), 1, T),
                         &cos, &sin);

    ggml_tensor * mask = nullptr;  // [L, T]: 0 visible, -inf blocked (log of 1 - blocked)
    {
        ggml_tensor * qi = ggml_repeat_4d(ctx, ggml_reshape_2d(ctx, ggml_arange(ctx, 0.0f, (float) T, 1.0f), 1, T), L, T, 1, 1);
        ggml_tensor * j = ggml_arange(ctx, 0.0f, (float) L, 1.0f);
        ggml_tensor * d = ggml_sub(ctx, ggml_scale_bias(ctx, qi, 1.0f, (float) W), j);
        ggml_tensor * blk = ggml_add(ctx, ggml_step(ctx, ggml_scale(ctx, d, -1.0f)),                      // d < 0
                                     ggml_step(ctx, ggml_scale_bias(ctx, d, 1.0f, (float) (1 - tr.window))));  // d >= window
        ggml_tensor * missing = ggml_step(ctx, ggml_sub(ctx, ggml_scale_bias(ctx, j, -1.0f, (float) W), pos));  // W - j - pos > 0
        blk = ggml_add(ctx, blk, missing);  // broadcast over queries
        mask = ggml_log(ctx, ggml_scale_bias(ctx, ggml_clamp(ctx, blk, 0.0f, 1.0f), -1.0f, 1.0f));
    }
    for (const codec_transformer_layer & l : tr.layers) {
        ggml_tensor * h = layer_norm(ctx, tr, x, l.ln1_w, l.ln1_b);
        ggml_tensor * q = codec_rope_neox(ctx, ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wq, h), hd, H, T), cos, sin);
        ggml_tensor * k = codec_rope_neox(ctx, ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wk, h), hd, H, T), cos, sin);
        ggml_tensor * v = ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wv, h), hd, H, T);
        // keys cached as the products read them, [hd, W, H]: one row-copy join, no permuting copy
        ggml_tensor * kc = io->slot(hd, W, H), * vc = io->slot(hd, H, W);
        k = codec_concat(ctx, kc, ggml_permute(ctx, k, 0, 2, 1, 3), 1, io->cpu());  // [hd, L, H]
        v = codec_concat(ctx, vc, v, 2, io->cpu());                                  // [hd, H, L]
        io->write(ctx, ggml_view_3d(ctx, k, hd, W, H, k->nb[1], k->nb[2], T * k->nb[1]), kc);
        io->write(ctx, ggml_view_3d(ctx, v, hd, H, W, v->nb[1], v->nb[2], T * v->nb[2]), vc);

        x = stream_layer_rest(ctx, tr, l, x, q, k, ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3)), mask);  // v: [L, hd, H]
    }
    return x;
}

// One streaming block of T frames without a window: every past frame is a key. The cache of
// capacity C = io->kv_frames holds them in place, filled from the end: the block's keys go to
// slots [C - pos - T, C - pos), in front of the older ones, so the block attends to one strided
// view [C - pos - T, C) that starts at its own write (which orders the write first). Keys as
// [hd, C, H], values transposed [C, hd, H]: the views feed the products without copies. pos
// is the stream's host count (io->kv_pos), so each block builds its own graph.
static ggml_tensor * transformer_stream_all_past(ggml_context * ctx, const codec_transformer & tr, ggml_tensor * x,
                                                 codec_stream_io * io) {
    const int64_t T = x->ne[1], pos = io->kv_pos, C = io->kv_frames, L = pos + T;
    const int H = tr.n_head, hd = tr.head_dim;
    if (L > C) {
        io->report("a stream's KV cache is smaller than the frames it has seen (model bug)");
        return x;
    }
    io->kv_step = T;
    ggml_tensor * cos = nullptr, * sin = nullptr;
    if (tr.inv_freq) codec_rope_tables(ctx, tr.inv_freq, pos, T, &cos, &sin);
    const auto rope = [&](ggml_tensor * t) { return tr.inv_freq ? codec_rope_neox(ctx, t, cos, sin) : t; };
    ggml_tensor * mask = nullptr;  // [L, T]: view key v < T is the block's frame v, visible iff v <= i; older keys all visible
    {
        ggml_tensor * v = ggml_arange(ctx, 0.0f, (float) L, 1.0f);
        ggml_tensor * i = ggml_repeat_4d(ctx, ggml_reshape_2d(ctx, ggml_arange(ctx, 0.0f, (float) T, 1.0f), 1, T), L, T, 1, 1);
        ggml_tensor * later = ggml_step(ctx, ggml_scale(ctx, ggml_sub(ctx, i, v), -1.0f));  // v > i
        ggml_tensor * in_block = ggml_step(ctx, ggml_scale_bias(ctx, v, -1.0f, (float) T));  // v < T
        ggml_tensor * blk = ggml_mul(ctx, later, in_block);
        mask = ggml_log(ctx, ggml_scale_bias(ctx, blk, -1.0f, 1.0f));
    }
    const size_t f = sizeof(float), c0 = (size_t) (C - L);
    for (const codec_transformer_layer & l : tr.layers) {
        ggml_tensor * h = layer_norm(ctx, tr, x, l.ln1_w, l.ln1_b);
        ggml_tensor * q = rope(ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wq, h), hd, H, T));
        ggml_tensor * k = rope(ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wk, h), hd, H, T));
        ggml_tensor * v = ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.wv, h), hd, H, T);
        ggml_tensor * kc = io->slot(hd, C, H), * vc = io->slot(C, hd, H);
        ggml_tensor * kw = ggml_cpy(ctx, ggml_permute(ctx, k, 0, 2, 1, 3),  // [hd, T, H]
                                    ggml_view_3d(ctx, kc, hd, T, H, hd * f, C * hd * f, c0 * hd * f));
        ggml_tensor * vw = ggml_cpy(ctx, ggml_permute(ctx, v, 1, 2, 0, 3),  // [T, hd, H]
                                    ggml_view_3d(ctx, vc, T, hd, H, C * f, C * hd * f, c0 * f));
        x = stream_layer_rest(ctx, tr, l, x, q, ggml_view_3d(ctx, kw, hd, L, H, hd * f, C * hd * f, 0),  // [hd, L, H]
                              ggml_view_3d(ctx, vw, L, hd, H, C * f, C * hd * f, 0), mask);           // [L, hd, H]
    }
    return x;
}

// Non-causal attention over all T keys, queries in blocks of k_full_block frames (the scores of
// one block at a time: memory linear in T for a fixed block). q, k, v [hd, H, T, S] -> [hd * H, T, S].
static const int64_t k_full_block = 512;

static ggml_tensor * full_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * k, ggml_tensor * v, float scale) {
    const int64_t hd = q->ne[0], H = q->ne[1], T = q->ne[2], S = q->ne[3];
    std::vector<ggml_tensor *> o;
    for (int64_t s = 0; s < T; s += k_full_block) {
        const int64_t n = std::min(k_full_block, T - s);
        ggml_tensor * qb = ggml_view_4d(ctx, q, hd, H, n, S, q->nb[1], q->nb[2], q->nb[3], (size_t) s * q->nb[2]);
        ggml_tensor * ob = codec_attention(ctx, qb, k, v, scale);  // [hd * H, n * S]
        o.push_back(S > 1 ? ggml_reshape_3d(ctx, ob, hd * H, n, S) : ob);
    }
    return codec_concat_tree(ctx, o, 1);
}

ggml_tensor * codec_transformer_forward(ggml_context * ctx, const codec_transformer & tr, ggml_tensor * x,
                                        codec_stream_io * io) {
    if (io && tr.causal) return tr.window > 0 ? transformer_stream(ctx, tr, x, io) : transformer_stream_all_past(ctx, tr, x, io);
    const int64_t T = x->ne[1], S = x->ne[2];
    const int H = tr.n_head, hd = tr.head_dim;
    const float scale = 1.0f / std::sqrt((float) hd);
    ggml_tensor * cos = nullptr, * sin = nullptr;
    if (tr.inv_freq) codec_rope_tables(ctx, tr.inv_freq, 0, T, &cos, &sin);
    const auto rope = [&](ggml_tensor * t) { return tr.inv_freq ? codec_rope_neox(ctx, t, cos, sin) : t; };
    attn_blocks blocks;
    if (tr.causal) blocks = make_blocks(ctx, T, tr.window);  // mask shared by every layer
    for (const codec_transformer_layer & l : tr.layers) {
        ggml_tensor * h = layer_norm(ctx, tr, x, l.ln1_w, l.ln1_b);
        ggml_tensor * q = rope(ggml_reshape_4d(ctx, ggml_mul_mat(ctx, l.wq, h), hd, H, T, S));
        ggml_tensor * k = rope(ggml_reshape_4d(ctx, ggml_mul_mat(ctx, l.wk, h), hd, H, T, S));
        ggml_tensor * v = ggml_reshape_4d(ctx, ggml_mul_mat(ctx, l.wv, h), hd, H, T, S);
        ggml_tensor * a = tr.causal ? blocked_attention(ctx, blocks, q, k, v, scale) : full_attention(ctx, q, k, v, scale);
        ggml_tensor * o = ggml_mul_mat(ctx, l.wo, a);
        x = ggml_add(ctx, x, l.ls_attn ? ggml_mul(ctx, o, l.ls_attn) : o);

        h = layer_mlp(ctx, tr, l, layer_norm(ctx, tr, x, l.ln2_w, l.ln2_b));
        x = ggml_add(ctx, x, l.ls_mlp ? ggml_mul(ctx, h, l.ls_mlp) : h);
    }
    return x;
}
