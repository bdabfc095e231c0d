// Attention building blocks. Inside attention, activations are channel-major ([C, T], ne0 = C)
// so projections are plain matrix products; heads are [dh, H, T, B] (B: independent sequences
// or windows). The pieces (layer norm, table rotary, attention core) are meant for any codec's
// transformer; codec_local_mha is SNAC's windowed layer built from them.
#pragma once

#include <ggml.h>

#include <string>

class codec_model_loader;

// LayerNorm over channels of x [C, T]: (x - mean) / sqrt(var + eps) * w + b (w, b [C]; b may be null).
ggml_tensor * codec_layer_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps);

// Rotary embedding in rotate-half (GPT-NeoX) form from precomputed tables, exactly
// x * cos + rotate_half(x) * sin. x [dh, H, T, B] (views allowed); cos, sin [dh, 1, T] where the
// sin table carries rotate_half's sign (first half negated), so rotate_half(x) * sin ==
// cat(x2, x1) * sin_table.
ggml_tensor * codec_rope_table(ggml_context * ctx, ggml_tensor * x, ggml_tensor * cos, ggml_tensor * sin);

// softmax(q k^T * scale + mask) v per head. q [dh, H, Tq, B], k and v [dh, H, Tk, B]; mask
// [Tk, Tq] or null. Returns [dh * H, Tq * B].
ggml_tensor * codec_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * k, ggml_tensor * v,
                              float scale, ggml_tensor * mask = nullptr);

// Local (windowed) multi-head self-attention with rotary positions restarting in each window and
// a residual connection (SNAC's LocalMHA): y = x + to_out(attn(rope(q), rope(k), v)) over
// non-overlapping windows of `window` frames after a LayerNorm (eps 1e-5).
struct codec_local_mha {
    ggml_tensor * norm_w = nullptr;  // [C]
    ggml_tensor * norm_b = nullptr;  // [C]
    ggml_tensor * qkv_w  = nullptr;  // [C, 3C] (no bias)
    ggml_tensor * out_w  = nullptr;  // [C, C]  (no bias)
    ggml_tensor * cos    = nullptr;  // [dh, 1, window]
    ggml_tensor * sin    = nullptr;  // [dh, 1, window], sign folded (see codec_rope_table)
    int window   = 0;
    int dim_head = 0;
};

// Declares "<prefix>.norm.{weight,bias}", "<prefix>.to_qkv.weight", "<prefix>.to_out.weight",
// "<prefix>.rel_pos.{cos,sin}" for `dim` channels (dim % dim_head == 0 is the caller's check).
codec_local_mha codec_load_local_mha(codec_model_loader & ld, const std::string & prefix, int dim, int window,
                                     int dim_head);

// x [C, T] channel-major with T % window == 0 (the caller's check) -> [C, T].
ggml_tensor * codec_local_mha_forward(ggml_context * ctx, const codec_local_mha & a, ggml_tensor * x);
