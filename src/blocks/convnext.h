// ConvNeXt block (Vocos / WavTokenizer / Soprano, and Qwen3-TTS's tokenizer decoder), on
// channel-major x [C, T] (non-causal, not streaming: also a batch [C, T, B], each sequence as alone):
//   x + gamma * pwconv2(gelu(pwconv1(norm(dwconv(x)))))
// dwconv: depthwise, kernel K, stride 1, either centered (non-causal: (K - 1) / 2 zeros each
// side, Vocos) or causal (K - 1 zeros on the left, Qwen3's CausalConvNet). norm: LayerNorm over
// channels (weight + bias) or, with n_ada > 0, Vocos' AdaLayerNorm (no affine; the scale and
// shift rows of the conditioning id). pwconv1/2 Linear layers with bias (ggml [C, F] / [F, C]),
// exact (erf) GELU, gamma [C] optional (layer scale). One file for both families.
#pragma once

#include "conv_cm.h"

#include <ggml.h>

#include <string>

struct codec_stream_io;

// AdaLayerNorm: "<prefix>.scale.weight" / "<prefix>.shift.weight", ggml [C, n_ada] (Embedding rows).
struct codec_ada_norm {
    ggml_tensor * scale = nullptr, * shift = nullptr;
};
codec_ada_norm codec_load_ada_norm(class codec_model_loader & ld, const std::string & prefix, int dim, int n_ada);
// layer_norm(x) (no affine) * scale[cond] + shift[cond]; x [C, T].
ggml_tensor * codec_ada_layer_norm(ggml_context * ctx, ggml_tensor * x, const codec_ada_norm & n, int cond, float eps);

struct codec_convnext {
    codec_conv dw;                                       // [C, K] taps, [C] bias
    ggml_tensor * norm_w = nullptr, * norm_b = nullptr;  // [C] (LayerNorm)
    codec_ada_norm ada;                                  // AdaLayerNorm (n_ada > 0)
    ggml_tensor * pw1_w = nullptr, * pw1_b = nullptr;    // [C, F], [F]
    ggml_tensor * pw2_w = nullptr, * pw2_b = nullptr;    // [F, C], [C]
    ggml_tensor * gamma = nullptr;                       // [C] or null
    int kernel = 7;
    bool causal = false;
    float eps = 1e-6f;
};

class codec_model_loader;
// "<prefix>.<dw_name>.{weight [C, K], bias}", "<prefix>.norm.{weight, bias}" (n_ada == 0) or
// "<prefix>.norm.{scale, shift}.weight" (n_ada > 0), "<prefix>.pwconv1.{weight, bias}",
// "<prefix>.pwconv2.{weight, bias}", with has_gamma "<prefix>.gamma".
codec_convnext codec_load_convnext(codec_model_loader & ld, const std::string & prefix, int dim, int ffn, int kernel,
                                   int n_ada, bool has_gamma, bool causal, float eps = 1e-6f,
                                   const std::string & dw_name = "dwconv");

// x [C, T] -> [C, T]; cond: the AdaLayerNorm row. Streaming (io set, causal only): the dwconv's
// K - 1 frames of left context come from the previous block (exactly the one-shot result).
ggml_tensor * codec_convnext_forward(ggml_context * ctx, const codec_convnext & b, ggml_tensor * x, int cond = 0,
                                     codec_stream_io * io = nullptr);
