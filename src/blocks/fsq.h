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

// codes I32 [T] (any shape with T elements) -> values F32 [D, T], D = levels.size().
ggml_tensor * codec_fsq_decode(ggml_context * ctx, const codec_fsq & q, ggml_tensor * codes);
