// Finite scalar quantization (FSQ, Mentzer et al.; lucidrains' vector-quantize-pytorch, as
// XCodec2 / NeuCodec use it): a code index is a mixed-radix number whose digit d has L_d levels
// (basis_d = L_0 * ... * L_{d-1}); digit d maps to (digit - L_d / 2) / (L_d / 2) with integer
// halves: the reference's codebook row (bit-exact when every L_d / 2 is a power of two, as
// [4] * 8). Decoding is ggml ops on the index (no table).
#pragma once

#include <ggml.h>

#include <cstdint>
#include <string>
#include <vector>

struct codec_fsq {
    std::vector<int32_t> levels;
    int64_t size() const;  // product of the levels: the number of codes
};

// Checks the levels (each 2..65536, product at most 2^22 so the float digit arithmetic is exact).
bool codec_fsq_init(codec_fsq & q, const std::vector<int32_t> & levels, std::string & err);

// The quantizer's bound (per digit, from the converter as the reference computes them in f32):
// bound(z) = tanh(z + shift) * scale - offset, scale = (L - 1) (1 + 1e-3) / 2, offset = 0.5 for
// even L, shift = atanh(offset / scale); basis = the digit weights L_0 * ... * L_{d-1}.
struct codec_fsq_bound {
    ggml_tensor * scale = nullptr, * shift = nullptr, * offset = nullptr, * basis = nullptr;  // [D]
};

// Values z F32 [D, T] -> codes I32 [T], as XCodec2's quantizer: bound applied twice (its
// Xcodec2Quantizer and its FSQ both bound), rounded to the nearest level, digit = level + L / 2,
// code = sum digit * basis. Rounding: halves away from zero (torch.round: to even); the two
// differ only when a bounded value is exactly a half-integer.
ggml_tensor * codec_fsq_quantize(ggml_context * ctx, const codec_fsq & q, const codec_fsq_bound & b, ggml_tensor * z);

class codec_model_loader;
// "<prefix>.{scale, shift, offset, basis}" [D] (f32).
codec_fsq_bound codec_load_fsq_bound(codec_model_loader & ld, const std::string & prefix, int dim);

// codes I32 [T] (any shape with T elements) -> values F32 [D, T], D = levels.size().
ggml_tensor * codec_fsq_decode(ggml_context * ctx, const codec_fsq & q, ggml_tensor * codes);
