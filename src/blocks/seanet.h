// SEANet conv layers as EnCodec computes them (transformers' EncodecConv1d /
// EncodecConvTranspose1d): the kernel's (k_eff - stride) padding split causally (all left) or
// centered (the larger half left), plus the "extra" right padding that completes the last
// stride window; transposed convs trim the same (k - stride) overlap, after the optional
// time-group norm. Padding is zeros or reflection. Activations are [T, C] as in conv.h.
#pragma once

#include <ggml.h>

#include <cstdint>
#include <string>

enum codec_seanet_pad {
    CODEC_SEANET_PAD_ZERO    = 0,  // pad_mode "constant"
    CODEC_SEANET_PAD_REFLECT = 1,  // pad_mode "reflect"
};

// One conv layer: weights plus, for norm_type "time_group_norm", GroupNorm(1, Cout)'s affine.
struct codec_seanet_conv {
    ggml_tensor * w = nullptr;       // conv [K, Cin, Cout]; transposed: polyphase [K / s, Cin, Cout * s]
    ggml_tensor * b = nullptr;       // [1, Cout]; transposed: [1, Cout * s] (each bias repeated s times)
    ggml_tensor * norm_w = nullptr;  // [1, Cout] or null
    ggml_tensor * norm_b = nullptr;  // [1, Cout] or null
};

// F.pad of x [T, C] in time by (left, right). Reflect handles inputs not longer than the pad as
// EncodecConv1d._pad1d does: zero-extend on the right first, reflect, crop the extension.
ggml_tensor * codec_seanet_pad1d(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right,
                                 codec_seanet_pad mode);

// GroupNorm(1, C) on x [T, C]: one mean and variance over all T*C values, then w * x + b per channel.
ggml_tensor * codec_time_group_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                    float eps = 1e-5f);

// Output length of codec_seanet_conv1d for n >= 1 input samples: ceil(n / stride).
int64_t codec_seanet_conv1d_out_len(int64_t n, int stride);

// Padded conv (then the time-group norm if c.norm_w): [T, Cin] -> [ceil(T / stride), Cout].
ggml_tensor * codec_seanet_conv1d(ggml_context * ctx, const codec_seanet_conv & c, ggml_tensor * x, int stride,
                                  int dilation, bool causal, codec_seanet_pad mode);

// Transposed conv (then the time-group norm), (k - stride) trimmed: causal: ceil((k - stride) *
// trim_right_ratio) on the right, the rest left; centered: (k - stride) / 2 right, the rest
// left. [T, Cin] -> [T * stride, Cout]. Computed polyphase: a (k / stride)-tap conv with
// stride * Cout outputs, phases interleaved into time; k must be a multiple of the stride
// (SEANet: k = 2 * stride). The converter writes W'[co*s + p, ci, j] = W[ci, co, (J-1-j)*s + p].
ggml_tensor * codec_seanet_conv_transpose1d(ggml_context * ctx, const codec_seanet_conv & c, ggml_tensor * x,
                                            int stride, bool causal, float trim_right_ratio);

class codec_model_loader;
// Declares "<prefix>.conv.weight" [k, cin, cout], "<prefix>.conv.bias" [1, cout] and, if norm,
// "<prefix>.norm.weight" / ".bias" [1, cout]. A transposed conv (transposed_stride > 0) has the
// polyphase weight [k / s, cin, cout * s] and bias [1, cout * s].
codec_seanet_conv codec_load_seanet_conv(codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout,
                                         bool norm, int transposed_stride = 0);
