// Depthwise 1-D convolution (groups == channels), on the [T, C] activations of blocks/conv.h.
#pragma once

#include "conv.h"

// y = depthwise_conv1d(x, w) + b. x [T, C], w [K, 1, C] (PyTorch's [C, 1, K]), b [1, C] or null.
// Runs an F32 im2col and per-channel dot products, so F32 weights give exact F32 arithmetic
// (ggml_conv_1d_dw would round the input to F16).
ggml_tensor * codec_conv1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                              int stride, int pad, int dilation);

// Declares "<prefix>.weight" [k, 1, c] (f32) and "<prefix>.bias" [1, c].
codec_conv codec_load_conv_dw(codec_model_loader & ld, const std::string & prefix, int k, int c, bool bias = true);
