// Fused snake activation for the CPU backend: y = x + beta * sin(alpha * x)^2 in one pass
// instead of five (mul, sin, sqr, mul, add). Same arithmetic, same order, same libm sinf as
// ggml's SIN op, so it is bit-identical to the stock-op composition (tested), which stays the
// path on other backends (custom ops run only on the CPU).
#pragma once

#include <ggml.h>

// x [T, C] (time-major, contiguous), alpha and beta [1, C].
ggml_tensor * codec_op_snake(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta);
