// Centered (non-causal) convs, as nn.Conv1d / nn.ConvTranspose1d with zero padding on both sides,
// and the residual add around them, streamable: with io null they are the one-shot layers of
// conv_cm.h; with a stream they carry state (codec_stream_io::lagged_input / delayed), so the
// output of consecutive blocks is the one-shot output and no context is recomputed. Each layer's
// output lags its input by the frames its right padding stands for; the flushed last block
// applies that padding and emits the rest. Activations [C, T] (one sequence when streaming).
#pragma once

#include <ggml.h>

#include <cstdint>

struct codec_stream_io;

// codec_cm_conv1d(x, w, b, stride, pad, dilation).
ggml_tensor * codec_centered_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, int stride,
                                    int pad, int dilation, codec_stream_io * io);

// codec_cm_conv1d_dw(x, w, b, pad, dilation): depthwise, stride 1.
ggml_tensor * codec_centered_conv1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, int pad,
                                       int dilation, codec_stream_io * io);

// codec_cm_conv1d_mono(x, w, b, 1, pad, dilation): x [T, 1] (or [T, 1, B] one-shot).
ggml_tensor * codec_centered_conv1d_mono(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, int pad,
                                         int dilation, codec_stream_io * io);

// ConvTranspose1d cropped by crop_l / crop_r output frames (PyTorch: padding, and padding minus
// output_padding): x [Cin, T] -> [Cout, (T - 1) * stride + K - crop_l - crop_r].
ggml_tensor * codec_centered_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                              int stride, int crop_l, int crop_r, codec_stream_io * io);

// x + y, where y is a branch computed from x (same length one-shot; streamed, the branch lags).
ggml_tensor * codec_residual_add(ggml_context * ctx, ggml_tensor * x, ggml_tensor * y, codec_stream_io * io);
