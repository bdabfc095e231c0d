#include "argmax_first.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace {

void argmax_first_op(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x = dst->src[0];
    const int64_t N = x->ne[0], T = x->ne[1];
    const int64_t per = (T + nth - 1) / nth, t0 = per * ith, t1 = std::min(T, t0 + per);
    for (int64_t t = t0; t < t1; ++t) {
        const float * row = (const float *) ((const char *) x->data + t * x->nb[1]);
        int64_t best = 0;
        float m = row[0];
        for (int64_t i = 1; i < N && !std::isnan(m); ++i) {
            if (row[i] > m || std::isnan(row[i])) {  // strictly greater: ties keep the first
                m = row[i];
                best = i;
            }
        }
        ((int32_t *) dst->data)[t] = (int32_t) best;
    }
}

}  // namespace

ggml_tensor * codec_argmax_first(ggml_context * ctx, ggml_tensor * x) {
    if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
    ggml_tensor * args[] = { x };
    return ggml_custom_4d(ctx, GGML_TYPE_I32, x->ne[1], 1, 1, 1, args, 1, argmax_first_op, GGML_N_TASKS_MAX, nullptr);
}
