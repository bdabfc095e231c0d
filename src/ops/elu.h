// ELU (alpha = 1) for the CPU backend: x > 0 ? x : expm1(x), vectorized. ggml's ELU calls
// libm's scalar expm1f per element, which dominated the SEANet decoders (Mimi, EnCodec).
// expm1 here: x = k ln2 + r with |r| <= ln2 / 2, expm1(x) = 2^k expm1(r) + (2^k - 1), expm1(r)
// from its Taylor polynomial to r^9 (truncation < 1e-10 relative), so the result is within a
// couple of float ulps of expm1f (tested against double). Other backends use ggml_elu.
#pragma once

#include <ggml.h>

// Elementwise ELU of a contiguous F32 tensor; `cpu` false (or a non-contiguous x) gives ggml_elu.
ggml_tensor * codec_elu(ggml_context * ctx, ggml_tensor * x, bool cpu);
