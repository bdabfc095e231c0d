#include "unary.h"

namespace {

void unary_task(ggml_tensor * dst, const ggml_tensor * x, int ith, int nth, void * userdata) {
    const codec_unary_op & op = *(const codec_unary_op *) userdata;
    const int64_t n = ggml_nelements(x);
    const int64_t per = ((n + nth - 1) / nth + 15) & ~(int64_t) 15;  // whole vectors per thread
    const int64_t i0 = per * ith, i1 = i0 + per < n ? i0 + per : n;
    if (i0 < i1) op.span((float *) dst->data + i0, (const float *) x->data + i0, i1 - i0);
}

}  // namespace

ggml_tensor * codec_map_unary(ggml_context * ctx, ggml_tensor * x, const codec_unary_op & op) {
    return ggml_map_custom1(ctx, x, unary_task, GGML_N_TASKS_MAX, (void *) &op);
}
