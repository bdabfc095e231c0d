// Blocks of the Vocos-family pos_net (WavTokenizer's backbone, taken from the LDM/VQGAN
// "ResnetBlock" and "AttnBlock"), channel-major [C, T], or [C, T, B] for B sequences of one
// length (a batch: each computed as alone):
//   - GroupNorm(groups, C, eps) over (C / groups channels x T frames) per group (and sequence), with affine;
//   - ResNet block: x + conv2(silu(gn2(conv1(silu(gn1(x)))))), convs k3 "same", no time embedding
//     (dropout is identity at inference), in == out channels (identity shortcut);
//   - single-head self-attention over each whole sequence: x + proj(softmax(q^T k / sqrt(C)) v)
//     with q, k, v, proj 1x1 convs on GroupNorm(x).
#pragma once

#include "conv_cm.h"

#include <ggml.h>

#include <string>

struct codec_group_norm_w {
    ggml_tensor * w = nullptr, * b = nullptr;  // [C]
};

struct codec_gn_resblock {
    codec_group_norm_w norm1, norm2;
    codec_conv conv1, conv2;  // k3, codec_cm_conv1d layout
};

struct codec_attn_block {
    codec_group_norm_w norm;
    ggml_tensor * q_w = nullptr, * q_b = nullptr, * k_w = nullptr, * k_b = nullptr;  // [C, C], [C]
    ggml_tensor * v_w = nullptr, * v_b = nullptr, * o_w = nullptr, * o_b = nullptr;
};

ggml_tensor * codec_group_norm(ggml_context * ctx, ggml_tensor * x, const codec_group_norm_w & n, int groups, float eps);
ggml_tensor * codec_gn_resblock_forward(ggml_context * ctx, const codec_gn_resblock & r, ggml_tensor * x, int groups, float eps);
ggml_tensor * codec_attn_block_forward(ggml_context * ctx, const codec_attn_block & a, ggml_tensor * x, int groups, float eps);

class codec_model_loader;
// "<prefix>.{weight,bias}" [C].
codec_group_norm_w codec_load_group_norm(codec_model_loader & ld, const std::string & prefix, int dim);
// "<prefix>.norm1", ".conv1" (k3), ".norm2", ".conv2" (k3).
codec_gn_resblock codec_load_gn_resblock(codec_model_loader & ld, const std::string & prefix, int dim);
// "<prefix>.norm", ".q", ".k", ".v", ".proj_out": "{weight [C, C], bias [C]}" (1x1 convs).
codec_attn_block codec_load_attn_block(codec_model_loader & ld, const std::string & prefix, int dim);
