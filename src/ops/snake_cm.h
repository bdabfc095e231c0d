// Fused snake activation for channel-major activations on the CPU backend:
// y = x + beta * sin(alpha * x)^2 in one pass, with sin^2 from a vectorizable polynomial
// instead of libm's scalar sinf (which dominates SNAC/DAC decoders otherwise). sin^2 has
// period pi, so one Cody-Waite reduction to [-pi/2, pi/2] and an odd degree-11 polynomial give
// an absolute error below 4e-7 (float sinf squared: 1e-7); |alpha * x| > 1000 and non-finite
// values take libm's sinf. Other backends use the stock-op composition (codec_snake).
#pragma once

#include <ggml.h>

// x [C, T] (channel-major, contiguous), alpha and beta [C].
ggml_tensor * codec_op_snake_cm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta);
