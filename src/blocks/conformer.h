// The w2v-BERT 2.0 conformer layer (transformers' Wav2Vec2BertEncoderLayer; Conformer, Gulati
// et al.), channel-major x [C, T] -> [C, T], every norm a LayerNorm(eps):
//   x += 0.5 ffn1(ln(x))                    ffn: intermediate_dense -> swish -> output_dense
//   x += attn(ln(x))                        all-frame attention, q/k/v/out with bias, plus the
//                                           relative_key bias q_i . E[clamp(j - i, -left, right) + left]
//                                           (both scaled by 1 / sqrt(head_dim))
//   x += conv(x)                            ln -> pointwise (C -> 2C) -> GLU -> depthwise conv
//                                           (kernel K, CAUSAL: K - 1 frames of zeros on the left)
//                                           -> ln -> swish -> pointwise (C -> C); no biases
//   x += 0.5 ffn2(ln(x)); x = ln(x)
// The relative bias is a view: for each query, the row R_i = q_i . E (left + right + 1 values)
// extended by its edge values to the distances the keys reach, read with a row stride one element
// shorter than the row (the Transformer-XL skew), so entry (j, i) lands on R_i[clamp(j - i) + left].
// Queries go in blocks of 512 frames (memory linear in T).
#pragma once

#include <ggml.h>

#include <string>
#include <vector>

struct codec_conformer_hp {
    int n_head = 0, left = 0, right = 0, kernel = 0;
    float eps = 1e-5f;
};

struct codec_ln_w {
    ggml_tensor * w = nullptr, * b = nullptr;  // [C]
};
struct codec_linear_w {
    ggml_tensor * w = nullptr, * b = nullptr;  // [in, out], [out]
};

struct codec_conformer_layer {
    codec_ln_w ffn1_norm, attn_norm, conv_norm, dw_norm, ffn2_norm, final_norm;
    codec_linear_w ffn1_up, ffn1_down, ffn2_up, ffn2_down, q, k, v, o;
    ggml_tensor * dist = nullptr;  // distance_embedding, ggml [head_dim, left + right + 1]
    ggml_tensor * pw1 = nullptr;   // [C, 2C]
    ggml_tensor * dw = nullptr;    // [C, K] (codec_cm_conv1d_dw)
    ggml_tensor * pw2 = nullptr;   // [C, C]
};

ggml_tensor * codec_conformer_forward(ggml_context * ctx, const codec_conformer_layer & l, const codec_conformer_hp & hp,
                                      ggml_tensor * x);

class codec_model_loader;
// transformers' names under "<prefix>." ("ffn1_layer_norm", "ffn1.intermediate_dense", ...,
// "self_attn.linear_q", "self_attn.distance_embedding", "conv_module.pointwise_conv1", ...).
codec_conformer_layer codec_load_conformer_layer(codec_model_loader & ld, const std::string & prefix, int dim, int ffn,
                                                 const codec_conformer_hp & hp);
