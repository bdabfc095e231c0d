#include "snake.h"

#include <cmath>

static void snake_rows(ggml_tensor * dst, const ggml_tensor * x, const ggml_tensor * alpha, const ggml_tensor * beta,
                       int ith, int nth, void *) {
    const int64_t T = x->ne[0];
    const int64_t rows = ggml_nrows(x);  // channels (x batch)
    const int64_t C = x->ne[1];
    const int64_t per = (rows + nth - 1) / nth;
    const int64_t r0 = per * ith, r1 = r0 + per < rows ? r0 + per : rows;
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t c = r % C;
        const float a = *(const float *) ((const char *) alpha->data + c * alpha->nb[1]);
        const float b = *(const float *) ((const char *) beta->data + c * beta->nb[1]);
        const float * xr = (const float *) ((const char *) x->data + r * x->nb[1]);
        float * yr = (float *) ((char *) dst->data + r * dst->nb[1]);
        for (int64_t t = 0; t < T; ++t) {
            const float s = sinf(xr[t] * a);
            yr[t] = xr[t] + (s * s) * b;
        }
    }
}

ggml_tensor * codec_op_snake(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta) {
    return ggml_map_custom3(ctx, x, alpha, beta, snake_rows, GGML_N_TASKS_MAX, nullptr);
}
