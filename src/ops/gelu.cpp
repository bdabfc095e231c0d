#include "gelu.h"

#include "expm1.h"
#include "unary.h"

#include <cmath>
#include <cstdint>

namespace {

// Chebyshev coefficients (scripts: numpy.polynomial.chebyshev.chebfit at 4000 Chebyshev nodes,
// in double). kSmall: erf(u) / u as a function of s = u^2 on [0, 1]; kLarge: erfc(u) on [1, 4].
constexpr float kSmall[] = {9.754769394e-01f, -1.422612051e-01f, 1.003558219e-02f, -5.768764700e-04f, 2.741993125e-05f,
                            -1.104317551e-06f, 3.848875543e-08f, -1.180858237e-09f, 3.233417321e-11f};
constexpr float kLarge[] = {3.030252054e-02f, -5.425132390e-02f, 3.876375644e-02f, -2.179748780e-02f, 9.314174793e-03f,
                            -2.748111833e-03f, 3.576751739e-04f, 1.268622107e-04f, -8.896524125e-05f, 2.228847529e-05f,
                            -7.040156716e-08f, -1.808171485e-06f, 5.517666254e-07f, -2.368918484e-08f, -3.172083481e-08f};
constexpr float kInvSqrt2 = 0.70710678118654752f;  // as ggml's GELU_ERF scales x

template <int N>
inline float clenshaw(const float (&c)[N], float t) {
    float b1 = 0.0f, b2 = 0.0f;
    const float t2 = t + t;
    for (int k = N - 1; k > 0; --k) {
        const float b = t2 * b1 - b2 + c[k];
        b2 = b1;
        b1 = b;
    }
    return t * b1 - b2 + c[0];
}

void gelu_span(float * __restrict y, const float * __restrict x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {  // branch-free so the compiler vectorizes it
        const float u = x[i] * kInvSqrt2;
        const float au = std::fabs(u);
        const float a = au < 4.0f ? au : 4.0f;  // NaN -> 4: the product below stays NaN
        const float small = a * clenshaw(kSmall, 2.0f * (a * a) - 1.0f);
        const float large = 1.0f - clenshaw(kLarge, (a - 2.5f) * (2.0f / 3.0f));
        const float e = a < 1.0f ? small : (au < 4.0f ? large : 1.0f);
        y[i] = 0.5f * x[i] * (1.0f + std::copysign(e, u));
    }
}

const codec_unary_op k_gelu = {gelu_span};

constexpr float kCubic = 0.044715f, kSqrt2OverPi = 0.7978845608028654f;

void gelu_tanh_span(float * __restrict y, const float * __restrict x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {  // branch-free so the compiler vectorizes it
        const float z = (x[i] + ((x[i] * x[i]) * x[i]) * kCubic) * kSqrt2OverPi;
        const float e = codec_expm1_nonpositive(-2.0f * std::fabs(z));  // NaN -> -1: y stays NaN through x
        const float t = -e / (e + 2.0f);
        y[i] = (0.5f * x[i]) * ((z < 0.0f ? -t : t) + 1.0f);
    }
}

const codec_unary_op k_gelu_tanh = {gelu_tanh_span};

}  // namespace

ggml_tensor * codec_gelu_erf(ggml_context * ctx, ggml_tensor * x, bool cpu) {
    if (!cpu || x->type != GGML_TYPE_F32 || !ggml_is_contiguous(x)) return ggml_gelu_erf(ctx, x);
    return codec_map_unary(ctx, x, k_gelu);
}

ggml_tensor * codec_gelu_tanh(ggml_context * ctx, ggml_tensor * x, bool cpu) {
    if (cpu && x->type == GGML_TYPE_F32 && ggml_is_contiguous(x)) return codec_map_unary(ctx, x, k_gelu_tanh);
    ggml_tensor * x3 = ggml_mul(ctx, ggml_sqr(ctx, x), x);
    ggml_tensor * t = ggml_tanh(ctx, ggml_scale(ctx, ggml_add(ctx, x, ggml_scale(ctx, x3, kCubic)), kSqrt2OverPi));
    return ggml_mul(ctx, ggml_scale(ctx, x, 0.5f), ggml_scale_bias(ctx, t, 1.0f, 1.0f));
}
