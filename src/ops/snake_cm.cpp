#include "snake_cm.h"

#include <cmath>

namespace {

// sin(r) = r * P(r^2) on [-pi/2, pi/2], least-squares fit on Chebyshev nodes.
constexpr float kP0 = 1.0000000e+00f, kP1 = -1.6666667e-01f, kP2 = 8.3333291e-03f, kP3 = -1.9840703e-04f,
                kP4 = 2.7518836e-06f, kP5 = -2.3794433e-08f;
// pi in three parts (k * kPiA exact for |k| < 2^15), and round-to-nearest by the 1.5 * 2^23 trick.
constexpr float kPiA = 3.140625f, kPiB = 9.67502593994140625e-4f, kPiC = 1.509957990978376432e-7f;
constexpr float kInvPi = 0.31830988618379067154f, kRound = 12582912.0f;
constexpr float kMaxArg = 1000.0f;

void snake_row(float * __restrict y, const float * __restrict x, const float * __restrict a,
               const float * __restrict b, int64_t C) {
    for (int64_t c = 0; c < C; ++c) {  // branch-free: the compiler vectorizes it
        const float v = a[c] * x[c];
        const float k = (v * kInvPi + kRound) - kRound;
        const float r = ((v - k * kPiA) - k * kPiB) - k * kPiC;
        const float u = r * r;
        const float s = r * (kP0 + u * (kP1 + u * (kP2 + u * (kP3 + u * (kP4 + u * kP5)))));
        y[c] = x[c] + b[c] * (s * s);
    }
    for (int64_t c = 0; c < C; ++c) {
        const float v = a[c] * x[c];
        if (!(std::fabs(v) <= kMaxArg)) {
            const float s = sinf(v);
            y[c] = x[c] + b[c] * (s * s);
        }
    }
}

void snake_frames(ggml_tensor * dst, const ggml_tensor * x, const ggml_tensor * alpha, const ggml_tensor * beta,
                  int ith, int nth, void *) {
    const int64_t C = x->ne[0], T = ggml_nrows(x);
    const int64_t per = (T + nth - 1) / nth;
    const int64_t t0 = per * ith, t1 = t0 + per < T ? t0 + per : T;
    const float * a = (const float *) alpha->data;
    const float * b = (const float *) beta->data;
    for (int64_t t = t0; t < t1; ++t) {
        snake_row((float *) ((char *) dst->data + t * dst->nb[1]), (const float *) ((const char *) x->data + t * x->nb[1]),
                  a, b, C);
    }
}

}  // namespace

ggml_tensor * codec_op_snake_cm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * alpha, ggml_tensor * beta) {
    return ggml_map_custom3(ctx, x, alpha, beta, snake_frames, GGML_N_TASKS_MAX, nullptr);
}
