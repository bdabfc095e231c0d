#include "elu.h"

#include "expm1.h"
#include "unary.h"

#include <cstdint>

namespace {

void elu_span(float * __restrict y, const float * __restrict x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] <= 0.0f ? codec_expm1_nonpositive(x[i]) : x[i];  // NaN stays NaN
}

const codec_unary_op k_elu = {elu_span};

}  // namespace

ggml_tensor * codec_elu(ggml_context * ctx, ggml_tensor * x, bool cpu) {
    if (!cpu || x->type != GGML_TYPE_F32 || !ggml_is_contiguous(x)) return ggml_elu(ctx, x);
    return codec_map_unary(ctx, x, k_elu);
}
