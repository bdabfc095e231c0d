// expm1 of a float v <= 0, branch-free so loops over it vectorize (ops/elu.cpp, ops/gelu.cpp):
// v = k ln2 + r with |r| <= ln2 / 2, expm1(v) = 2^k expm1(r) + (2^k - 1), expm1(r) from its Taylor
// polynomial to r^9 (truncation < 1e-10 relative): within a couple of float ulps of expm1f.
// v below -87 (and NaN) gives -1, which expm1 is to float precision there.
#pragma once

#include <cstdint>
#include <cstring>

inline float codec_expm1_nonpositive(float v) {
    constexpr float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.428606765330187e-06f;  // ln 2 split: k * kLn2Hi exact
    constexpr float kInvLn2 = 1.4426950408889634f, kRound = 12582912.0f;          // 1.5 * 2^23: round to nearest
    constexpr float kMin = -87.0f;
    v = v > kMin ? v : kMin;  // NaN -> kMin
    v = v < 0.0f ? v : 0.0f;  // keeps 2^k in range
    const float kf = (v * kInvLn2 + kRound) - kRound;
    const float r = (v - kf * kLn2Hi) - kf * kLn2Lo;
    const float p = 1.0f / 2 + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 +
                    r * (1.0f / 5040 + r * (1.0f / 40320 + r * (1.0f / 362880)))))));
    const float em = r + r * r * p;
    const int32_t bits = ((int32_t) kf + 127) << 23;  // 2^k, k in [-126, 0]
    float two_k;
    std::memcpy(&two_k, &bits, sizeof two_k);
    return two_k * em + (two_k - 1.0f);
}
