// GELU with the exact erf, 0.5 x (1 + erf(x / sqrt 2)), for the CPU backend, vectorized. ggml's
// GELU_ERF calls libm's scalar erff per element: 10 % of WavTokenizer's decode (its ConvNeXt
// MLPs), 2-3 % of Mimi's. erf here: odd; for |u| < 1 it is u P(u^2), for 1 <= |u| < 4 it is
// 1 - Q(|u|) with Q ~ erfc, P and Q Chebyshev fits (degrees 8 and 14, fitted in double to erf and
// erfc, evaluated by Clenshaw's recurrence), and 1 beyond (erfc(4) = 1.5e-8 rounds away). Its
// absolute error is about 1e-7 (erff's: one ulp, 6e-8 near 1), which GELU sees as absolute too (it
// adds erf to 1); tested against double. Other backends use ggml_gelu_erf.
#pragma once

#include <ggml.h>

// Elementwise GELU (erf form) of a contiguous F32 tensor; `cpu` false (or a non-contiguous x)
// gives ggml_gelu_erf.
ggml_tensor * codec_gelu_erf(ggml_context * ctx, ggml_tensor * x, bool cpu);

// GELU with PyTorch's tanh approximation, 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), in the
// order of the composed stock ops (the fallback, `cpu` false or x not contiguous F32: ggml_gelu
// may go through an f16 table, which costs parity), with tanh |z| = -e / (e + 2), e = expm1(-2 |z|)
// (ops/expm1.h) in one vectorized pass: ggml's TANH calls libm's tanhf per element, and with the
// six other ops it was 21 % of Pocket TTS's Mimi.
ggml_tensor * codec_gelu_tanh(ggml_context * ctx, ggml_tensor * x, bool cpu);
