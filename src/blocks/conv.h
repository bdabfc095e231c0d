// Shared 1-D building blocks. Activations are [T, C] (ne0 = time), i.e. PyTorch's [C, T]
// memory; conv weights are [K, Cin, Cout] and transposed-conv weights [K, Cout, Cin]
// (PyTorch's memory layouts), biases and per-channel parameters [1, C].
#pragma once

#include <ggml.h>

#include <cstdint>
#include <string>

// Output length of a strided, dilated 1-D conv over `n` samples with total padding `pad`.
// Returns <= 0 when the (padded) input is shorter than the kernel's span.
int64_t codec_conv1d_out_len(int64_t n, int k, int stride, int dilation, int pad_total);

// y = conv1d(x, w) + b with symmetric zero padding `pad` on each side (b may be null).
// F32 weights run an F32 im2col, so the result is exact F32 arithmetic.
ggml_tensor * codec_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                           int stride, int pad, int dilation);

// Transposed conv with PyTorch's `padding` cropped from both ends (ggml computes p0 = 0).
ggml_tensor * codec_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                     int stride, int pad);

// Transposed conv as one GEMM plus an overlap-add of K / stride shifted slices (needs K a
// multiple of the stride, as in every SEANet-style upsampler): ggml's conv_transpose_1d is a
// naive per-output dot product. Weight layout [Cin, K, Cout] (converter: PyTorch
// (Cin, Cout, K).permute(1, 2, 0)), so the GEMM contracts over Cin.
ggml_tensor * codec_conv_transpose1d_gemm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                          int stride, int pad);

// Snake activation: x + beta * sin(alpha * x)^2, beta = 1 / (alpha + 1e-9) from the converter.
ggml_tensor * codec_snake(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta);
// Same result; on the CPU backend (`cpu` true) one fused pass (src/ops/snake.h) instead of five.
ggml_tensor * codec_snake_fast(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta, bool cpu);

// Weights of one conv layer and of one snake activation, as declared on the loader.
struct codec_conv {
    ggml_tensor * w = nullptr;
    ggml_tensor * b = nullptr;
};
struct codec_snake_w {
    ggml_tensor * alpha = nullptr;
    ggml_tensor * beta  = nullptr;
};

class codec_model_loader;
// Declares "<prefix>.weight" [k, cin, cout] and "<prefix>.bias" [1, cout].
codec_conv    codec_load_conv (codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout, bool bias = true);
// Declares "<prefix>.weight" [k, cout, cin] and "<prefix>.bias" [1, cout].
codec_conv    codec_load_convt(codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout);
// Declares "<prefix>.weight" [cin, k, cout] (GEMM layout) and "<prefix>.bias" [1, cout].
codec_conv    codec_load_convt_gemm(codec_model_loader & ld, const std::string & prefix, int k, int cin, int cout);
// Declares "<prefix>.alpha" and "<prefix>.beta", both [1, c].
codec_snake_w codec_load_snake(codec_model_loader & ld, const std::string & prefix, int c);
