// ELU (alpha = 1) for the CPU backend: x > 0 ? x : expm1(x), vectorized. ggml's ELU calls
// libm's scalar expm1f per element, which dominated the SEANet decoders (Mimi, EnCodec).
// expm1 by ops/expm1.h, within a couple of float ulps of expm1f (tested against double). Other
// backends use ggml_elu.
#pragma once

#include <ggml.h>

// Elementwise ELU of a contiguous F32 tensor; `cpu` false (or a non-contiguous x) gives ggml_elu.
ggml_tensor * codec_elu(ggml_context * ctx, ggml_tensor * x, bool cpu);
