// Channel-major 1-D convolutions: activations [C, T] (ne0 = C, every frame's channels
// contiguous), or [C, T, B] for B independent sequences (a batch): every conv here takes both. Per-channel parameters broadcast as whole rows and 1x1 convs are plain matrix
// products, so deep conv stacks run without im2col or transposes:
//   - full convs are a sum over kernel taps of matrix products with shifted views of the input;
//   - depthwise convs are a sum over taps of per-channel scalings of shifted views;
//   - transposed convs are one matrix product per stride-block of the kernel plus an overlap-add.
// Weight layouts (the converter's, numpy order reversed):
//   conv       [Cin * s, Cout, K / s]  tap-group j, row r * Cin + c holds w[cout, c, j * s + r]
//   depthwise  [C, K]
//   transposed [Cin, Cout * s, K / s]  group j, column r * Cout + o holds w[cin, o, j * s + r]
//   biases and snake parameters [C].
#pragma once

#include <ggml.h>

#include <cstdint>
#include <string>

// Weights of one conv layer and of one snake activation, as declared on the loader.
struct codec_conv {
    ggml_tensor * w = nullptr;
    ggml_tensor * b = nullptr;
};
struct codec_snake_w {
    ggml_tensor * alpha = nullptr;
    ggml_tensor * beta  = nullptr;
};

// Output length of a strided, dilated 1-D conv over `n` samples with total padding `pad`.
// Returns <= 0 when the (padded) input is shorter than the kernel's span.
int64_t codec_conv1d_out_len(int64_t n, int k, int stride, int dilation, int pad_total);

// Snake activation x + beta * sin(alpha * x)^2 (beta = 1 / (alpha + 1e-9) from the converter)
// on x [C, T]: on the CPU one fused pass with a vectorized sin (ops/snake_cm.h), elsewhere
// (`cpu` false) the stock-op composition.
ggml_tensor * codec_snake(ggml_context * ctx, ggml_tensor * x, const codec_snake_w & s, bool cpu);

// w x over a window: frames [off, off + n) of every sequence of x [K, T, B] (w [K, N]) -> [N, n, B].
// A batch runs as ONE product over its sequences' frames back to back, so the right-hand side is
// contiguous: ggml's fast GEMM (llamafile sgemm) takes only contiguous ones, per-sequence views
// would fall to its slow dot-product loop. The products that straddle two sequences are computed
// and dropped (the result is a strided view). B == 1: exactly the product with the window.
// Windows of one frame stay per-sequence views: the GEMM refuses n < 2 for a sequence alone.
ggml_tensor * codec_mul_mat_window(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x, int64_t off, int64_t n);

// y = conv1d(x, w) + b, zero padding `pad` on both sides. x [Cin, T] -> [Cout, T_out].
// stride > 1 needs dilation 1 and a kernel that is a multiple of the stride. Returns nullptr
// (and the caller reports it) when the padded input is shorter than the kernel.
ggml_tensor * codec_cm_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                              int stride, int pad, int dilation);

// Conv with one input channel, from its [T, 1] signal (time-major == channel-major for one
// channel) through an F32 im2col. w [K, 1, Cout] (PyTorch's layout). Returns [Cout, T_out].
ggml_tensor * codec_cm_conv1d_mono(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                   int stride, int pad, int dilation);

// Depthwise conv (groups == channels). x [C, T], w [C, K], b [C] or null.
ggml_tensor * codec_cm_conv1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                 int pad, int dilation, int stride = 1);

// Transposed conv keeping `out_len` samples from `crop` on (PyTorch: crop = padding, out_len =
// (L - 1) * s - 2 * padding + K + output_padding). x [Cin, L] -> [Cout, out_len].
ggml_tensor * codec_cm_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                        int stride, int crop, int64_t out_len);

class codec_model_loader;
// Declarations with the layouts above (bias optional for convs).
codec_conv    codec_load_cm_conv  (codec_model_loader & ld, const std::string & prefix, int k, int stride, int cin, int cout,
                                   bool bias = true);
codec_conv    codec_load_cm_mono  (codec_model_loader & ld, const std::string & prefix, int k, int cout);
codec_conv    codec_load_cm_dw    (codec_model_loader & ld, const std::string & prefix, int k, int c);
codec_conv    codec_load_cm_convt (codec_model_loader & ld, const std::string & prefix, int k, int stride, int cin, int cout);
codec_snake_w codec_load_cm_snake (codec_model_loader & ld, const std::string & prefix, int c);
