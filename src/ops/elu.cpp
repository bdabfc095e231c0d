#include "elu.h"

#include "unary.h"

#include <cstdint>
#include <cstring>

namespace {

constexpr float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.428606765330187e-06f;  // ln 2 split: k * kLn2Hi exact
constexpr float kInvLn2 = 1.4426950408889634f, kRound = 12582912.0f;          // 1.5 * 2^23: round to nearest
constexpr float kMin = -87.0f;  // expm1 is -1 to float precision well before 2^k underflows

void elu_span(float * __restrict y, const float * __restrict x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {  // branch-free so the compiler vectorizes it
        float v = x[i] > kMin ? x[i] : kMin;  // NaN -> kMin; the result is x itself then
        v = v < 0.0f ? v : 0.0f;              // keeps 2^k in range (x > 0 returns x below)
        const float kf = (v * kInvLn2 + kRound) - kRound;
        const float r = (v - kf * kLn2Hi) - kf * kLn2Lo;
        // expm1(r) = r + r^2 (1/2 + r (1/6 + r (1/24 + ...)))
        const float p = 1.0f / 2 + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 +
                        r * (1.0f / 5040 + r * (1.0f / 40320 + r * (1.0f / 362880)))))));
        const float em = r + r * r * p;
        const int32_t bits = ((int32_t) kf + 127) << 23;  // 2^k, k in [-126, 0]
        float two_k;
        std::memcpy(&two_k, &bits, sizeof two_k);
        const float e = two_k * em + (two_k - 1.0f);
        y[i] = x[i] <= 0.0f ? e : x[i];  // NaN stays NaN
    }
}

const codec_unary_op k_elu = {elu_span};

}  // namespace

ggml_tensor * codec_elu(ggml_context * ctx, ggml_tensor * x, bool cpu) {
    if (!cpu || x->type != GGML_TYPE_F32 || !ggml_is_contiguous(x)) return ggml_elu(ctx, x);
    return codec_map_unary(ctx, x, k_elu);
}
