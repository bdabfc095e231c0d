// Pre-norm transformer layer stack (Mimi / Moshi style, transformers' module names):
//   x = x + ls1 * o_proj(attn(rope(q_proj(ln1(x))), rope(k_proj(..)), v_proj(..)))
//   x = x + ls2 * fc2(gelu(fc1(ln2(x))))
// with LayerNorm (weight + bias), NeoX/Llama-style RoPE (rotate_half), causal attention over
// an optional sliding window, optional layer scale. Variants (flags on codec_transformer):
// GELU with the tanh approximation (Pocket TTS's Mimi), and the Llama-style layer of
// Qwen3-TTS's tokenizer decoder: RMSNorm (weight only) and a SwiGLU MLP
// down(silu(gate(h)) * up(h)); both stream with the same KV cache. XCodec2's decoder layer:
// RMSNorm, fc1/fc2 MLP with SiLU, no RoPE (see inv_freq), attention over every frame (non-causal;
// one-shot only). Activations are channel-major [C, T] (ne0 = C) so every projection is one
// matrix product (and for a batch [C, T, S] one product over all sequences).
#pragma once

#include <ggml.h>

#include <string>
#include <vector>

struct codec_transformer_layer {
    ggml_tensor * ln1_w = nullptr, * ln1_b = nullptr;  // [C]
    ggml_tensor * wq = nullptr, * wk = nullptr, * wv = nullptr;  // [C, H * hd]
    ggml_tensor * wo = nullptr;                                   // [H * hd, C]
    ggml_tensor * ln2_w = nullptr, * ln2_b = nullptr;  // [C]
    ggml_tensor * fc1 = nullptr;                       // [C, F] (SwiGLU: gate_proj)
    ggml_tensor * fc2 = nullptr;                       // [F, C] (SwiGLU: down_proj)
    ggml_tensor * fc3 = nullptr;                       // [C, F] SwiGLU up_proj, else null
    ggml_tensor * ls_attn = nullptr, * ls_mlp = nullptr;  // [C] layer scales, or null
};

struct codec_transformer {
    std::vector<codec_transformer_layer> layers;
    int   n_head   = 0;
    int   head_dim = 0;
    float eps      = 1e-5f;          // LayerNorm / RMSNorm epsilon
    bool  rms_norm = false;          // RMSNorm (no bias) instead of LayerNorm
    bool  swiglu   = false;          // SwiGLU MLP (fc1 gate, fc3 up, fc2 down)
    bool  gelu_tanh = false;         // fc1/fc2 MLP with tanh-approximated GELU (else exact erf)
    bool  silu     = false;          // fc1/fc2 MLP with SiLU
    bool  causal   = true;           // false: every query sees every key (no window, no streaming)
    int   window   = 0;              // query q sees keys (q - window, q]; 0: every key <= q
    // [head_dim / 2] RoPE inverse frequencies (converter), or null: no rotation. Null is also
    // exactly a RoPE whose position is the HEAD index (XCodec2's): every frame's q and k of head
    // h turn by the same orthogonal rotation R_h, and (R_h q) . (R_h k) = q . k.
    ggml_tensor * inv_freq = nullptr;
};

class codec_model_loader;
// Declares "<prefix>.layers.<i>.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
// mlp.fc1, mlp.fc2, self_attn_layer_scale.scale, mlp_layer_scale.scale}" with exact shapes (the
// norms without bias when tr.rms_norm is set before the call).
void codec_load_transformer(codec_model_loader & ld, const std::string & prefix, codec_transformer & tr,
                            int n_layer, int dim, int ffn, bool layer_scale);

// The Llama-style variant (sets rms_norm, swiglu): "<prefix>.layers.<i>.{input_layernorm,
// post_attention_layernorm}.weight, self_attn.{q,k,v,o}_proj.weight, mlp.{gate,up,down}_proj.weight,
// self_attn_layer_scale.scale, mlp_layer_scale.scale}".
void codec_load_transformer_swiglu(codec_model_loader & ld, const std::string & prefix, codec_transformer & tr,
                                   int n_layer, int dim, int ffn);

struct codec_stream_io;

// x [C, T] -> [C, T]; positions 0..T-1 (one non-streaming pass, as the reference's forward).
// A batch x [C, T, S] of S sequences -> [C, T, S], each attending to its own frames only.
// Causal attention runs in query blocks of `window` frames, so memory grows linearly with T;
// non-causal attention in query blocks that each see all T keys.
// Streaming (io set, causal): positions continue from the previous block and every layer keeps
// the last window - 1 keys and values (after RoPE) as state: a KV cache of fixed size. Without a
// window, io->kv_frames keys: a cache the stream grows (codec_stream_spec::kv_per_frame).
ggml_tensor * codec_transformer_forward(ggml_context * ctx, const codec_transformer & tr, ggml_tensor * x,
                                        codec_stream_io * io = nullptr);

// RoPE tables for positions p0..p0+n-1: cos and sin of p * inv_freq, each [hd / 2, 1, n].
void codec_rope_tables(ggml_context * ctx, ggml_tensor * inv_freq, int64_t p0, int64_t n, ggml_tensor ** cos,
                       ggml_tensor ** sin);
// The same for positions given as a graph tensor pos [1, n] (F32, whole numbers).
void codec_rope_tables_at(ggml_context * ctx, ggml_tensor * inv_freq, ggml_tensor * pos, ggml_tensor ** cos,
                          ggml_tensor ** sin);
// Rotates x [hd, H, T] (or [hd, H, T, S]) by the tables (rotate_half convention: pairs (i, i + hd/2)).
ggml_tensor * codec_rope_neox(ggml_context * ctx, ggml_tensor * x, ggml_tensor * cos, ggml_tensor * sin);
