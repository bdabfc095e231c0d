// Causal 1-D convs as SEANet-style codecs (EnCodec / Mimi with `use_causal_conv`) compute them:
// all of the kernel's padding on the left, plus the "extra" right padding that completes the
// last stride window (EncodecConv1d._get_extra_padding_for_conv1d); transposed convs trim their
// kernel - stride overlap from the right (trim_right_ratio 1).
//
// Activations are channel-major [C, T] (ne0 = C), or [C, T, B] for a batch of B sequences (one
// shot, not the mono conv), each computed as alone: a conv is a sum over kernel taps (or stride
// blocks of taps) of weight-first matrix products with shifted views of the input, so there is
// no im2col and no transpose, 1x1 convs are one product, and the transformer and quantizer
// that follow use the same layout. Weight layouts (written by the converter):
//   conv        [s * Cin, Cout, K / s]  block j, row r * Cin + i holds w[cout, i, j * s + r]
//   mono conv   [K, 1, Cout]            Cin == 1 (PyTorch's layout, F32, through an im2col; the
//                                       converter may prepend zero taps to round K up)
//   transposed  [Cin, s * Cout, K / s]  block j, column r * Cout + o holds w[i, o, j * s + r]
//   depthwise transposed [C, K]         tap k's per-channel weights in one row
//   biases [C].
#pragma once

#include <ggml.h>

#include <cstdint>

struct codec_stream_io;

enum codec_pad_mode {
    CODEC_PAD_CONSTANT  = 0,  // zeros
    CODEC_PAD_REPLICATE = 1,  // edge frames repeated
    CODEC_PAD_REFLECT   = 2,  // mirrored about the edge frames (F.pad "reflect")
};

// Right padding that completes the last stride window of an n-frame input (>= 0).
int64_t codec_causal_extra_pad(int64_t n, int k_eff, int stride);
// Output length of a causal conv on n >= 1 frames: ceil(n / stride) for k_eff >= stride.
int64_t codec_causal_conv1d_out_len(int64_t n, int k_eff, int stride);

// Pads x [C, T] (or [C, T, B]) in time with `left` and `right` frames. Reflect handles inputs not longer than
// the pad as EncodecConv1d._pad1d does: zero-extend on the right, reflect, drop the extension. cpu: the
// graph runs on the CPU backend (codec_on_host of its weights): zeros and edges by row copies.
ggml_tensor * codec_pad_time_cm(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, codec_pad_mode mode,
                               bool cpu = false);

// y = conv1d(causal_pad(x), w) + b; x [Cin, T] -> [Cout, ceil(T / stride)], w in the conv layout
// above (K = w->ne[2] * stride), b [Cout] or null. stride > 1 needs dilation 1.
// Streaming (io set): the k_eff - stride frames of left context come from the previous block.
ggml_tensor * codec_causal_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                  int stride, int dilation, codec_pad_mode mode, codec_stream_io * io = nullptr);

// The same for one input channel with the mono layout (stride 1): x [1, T] -> [Cout, T].
ggml_tensor * codec_causal_conv1d_mono(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                       int dilation, codec_pad_mode mode);

// Transposed conv, right-trimmed: x [Cin, T] -> [Cout, T * stride]; w in the transposed layout
// (K = w->ne[2] * stride), b [Cout] or null. Block j's product of frame m lands on output
// frames (m + j) * s .. + s - 1, so the overlap-add is a sum of shifted products.
ggml_tensor * codec_causal_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                            int stride);

// Depthwise (groups = C) transposed conv with kernel 2 * stride, right-trimmed, no bias:
// y[c, s*m + p] = x[c, m] * w[c, p] + x[c, m - 1] * w[c, p + s]; x [C, T] -> [C, T * s], exact F32.
// Streaming (io set): frame m - 1 of the first frame comes from the previous block.
ggml_tensor * codec_causal_conv_transpose1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, int stride,
                                               codec_stream_io * io = nullptr);
