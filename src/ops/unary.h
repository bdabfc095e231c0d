// Elementwise F32 ops for the CPU backend written as plain loops over a span (ops/elu.cpp,
// ops/gelu.cpp): the shared custom-op wrapper gives each thread a share of whole vectors.
#pragma once

#include <ggml.h>

#include <cstdint>

struct codec_unary_op {
    void (*span)(float * y, const float * x, int64_t n);  // y[i] = f(x[i]), i < n
};

// op over a contiguous F32 x (the caller checks), as a ggml custom op on all threads.
ggml_tensor * codec_map_unary(ggml_context * ctx, ggml_tensor * x, const codec_unary_op & op);
