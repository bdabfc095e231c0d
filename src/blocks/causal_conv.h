// Causal 1-D convs as SEANet-style codecs (EnCodec / Mimi, `use_causal_conv`) compute them:
// all of the kernel's padding on the left, plus the "extra" right padding that makes the last
// window complete (EncodecConv1d._get_extra_padding_for_conv1d); transposed convs trim their
// kernel - stride overlap from the right. Activations are [T, C] as in conv.h.
#pragma once

#include <ggml.h>

#include <cstdint>

enum codec_pad_mode {
    CODEC_PAD_CONSTANT  = 0,  // zeros
    CODEC_PAD_REPLICATE = 1,  // edge samples repeated
};

// Right padding that completes the last stride window of an n-sample input (>= 0).
int64_t codec_causal_extra_pad(int64_t n, int k_eff, int stride);
// Output length of codec_causal_conv1d for an n-sample input: ceil(n / stride) for k >= stride.
int64_t codec_causal_conv1d_out_len(int64_t n, int k, int stride, int dilation);

// Pads x [T, C] with `left` and `right` samples (zeros or edge values).
ggml_tensor * codec_pad_time(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, codec_pad_mode mode);

// y = conv1d(pad(x), w) + b with causal padding (k_eff - stride left, extra right); b may be null.
ggml_tensor * codec_causal_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                  int stride, int dilation, codec_pad_mode mode);

// Transposed conv with the (k - stride) overlap trimmed from the right (trim_right_ratio = 1):
// [T, Cin] -> [T * stride, Cout].
ggml_tensor * codec_causal_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                            int stride);

// Depthwise (groups = C) transposed conv with kernel 2 * stride, right-trimmed, no bias:
// y[s*m + p, c] = x[m, c] * w[p][c] + x[m - 1, c] * w[p + s][c]. w is ggml [1, C, 2 * stride]
// (one [1, C] plane per tap). [T, C] -> [T * stride, C], exact F32 products and sums.
ggml_tensor * codec_causal_conv_transpose1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, int stride);
