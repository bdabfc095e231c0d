// Custom CPU ops against the stock-op compositions they replace.
#include "blocks/conv_cm.h"
#include "ops/copy_rows.h"
#include "ops/elu.h"
#include "ops/gelu.h"
#include "ops/irfft.h"
#include "ops/snake_cm.h"

#include <cmath>

#include <ggml-cpu.h>
#include <ggml.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <utility>
#include <vector>

namespace {

void fill(ggml_tensor * t, std::mt19937 & rng, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    float * p = (float *) t->data;
    for (int64_t i = 0; i < ggml_nelements(t); ++i) p[i] = d(rng);
}

// Computes a and b in one graph on the CPU.
ggml_status compute_both(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, int threads) {
    ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, a);
    ggml_build_forward_expand(gf, b);
    return ggml_graph_compute_with_ctx(ctx, gf, threads);
}

// The polynomial sin^2 is within 4e-7 of sinf's square, so the fused snake is within 4e-7 * beta
// (plus an ulp of x) of the stock ops; |alpha * x| > 1000 takes libm's sinf: bit-equal there.
TEST(Ops, FusedSnakeMatchesStockOps) {
    for (int threads : {1, 3}) {
        ggml_init_params ip = {64 * 1024 * 1024, nullptr, false};
        ggml_context * ctx = ggml_init(ip);
        std::mt19937 rng(7);
        const int64_t C = 13, T = 1531;  // odd sizes: uneven thread split, vector tails
        ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, C, T);
        codec_snake_w w;
        w.alpha = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, C);
        w.beta = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, C);
        fill(x, rng, -20.0f, 20.0f);
        fill(w.alpha, rng, 0.05f, 3.0f);
        ((float *) w.alpha->data)[0] = 200.0f;  // |alpha * x| beyond 1000: the libm path
        for (int64_t c = 0; c < C; ++c) ((float *) w.beta->data)[c] = 1.0f / (((float *) w.alpha->data)[c] + 1e-9f);
        ggml_tensor * fused = codec_snake(ctx, x, w, true);
        ggml_tensor * stock = codec_snake(ctx, x, w, false);
        ASSERT_NE(fused->op, stock->op);
        ggml_cgraph * gf = ggml_new_graph(ctx);
        ggml_build_forward_expand(gf, fused);
        ggml_build_forward_expand(gf, stock);
        ASSERT_EQ(ggml_graph_compute_with_ctx(ctx, gf, threads), GGML_STATUS_SUCCESS);
        const float * f = (const float *) fused->data, * r = (const float *) stock->data, * xp = (const float *) x->data;
        double worst = 0;
        for (int64_t t = 0; t < T; ++t) {
            for (int64_t c = 0; c < C; ++c) {
                const int64_t i = t * C + c;
                const float a = ((float *) w.alpha->data)[c], b = ((float *) w.beta->data)[c];
                if (std::fabs(a * xp[i]) > 1000.0f) {
                    ASSERT_EQ(f[i], r[i]);
                    continue;
                }
                const double tol = 4e-7 * b + 2.4e-7 * std::fabs(r[i]);
                worst = std::max(worst, std::fabs((double) f[i] - r[i]) / tol);
            }
        }
        EXPECT_LE(worst, 1.0) << "threads=" << threads;
        ggml_free(ctx);
    }
}

// The vectorized ELU against expm1 in double: within 2 float ulps of the exact value (libm's
// expm1f, ggml_elu's kernel, is within 1), and bit-equal on x > 0 and NaN.
TEST(Ops, FusedEluMatchesExpm1) {
    for (int threads : {1, 3}) {
        ggml_init_params ip = {64 * 1024 * 1024, nullptr, false};
        ggml_context * ctx = ggml_init(ip);
        const int64_t n = 200003;
        ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, 7, n);
        float * xp = (float *) x->data;
        std::mt19937 rng(11);
        std::uniform_real_distribution<float> wide(-100.0f, 20.0f), narrow(-1.0f, 1.0f);
        for (int64_t i = 0; i < ggml_nelements(x); ++i) xp[i] = (i % 3) ? narrow(rng) * ((i % 5) ? 1.0f : 1e-6f) : wide(rng);
        xp[0] = NAN; xp[1] = -INFINITY; xp[2] = INFINITY; xp[3] = -0.0f; xp[4] = 1e-30f; xp[5] = -1e-30f;
        ggml_tensor * y = codec_elu(ctx, x, true);
        ggml_tensor * ref = ggml_elu(ctx, x);
        ASSERT_EQ(compute_both(ctx, y, ref, threads), GGML_STATUS_SUCCESS);
        const float * yp = (const float *) y->data;
        EXPECT_TRUE(std::isnan(yp[0]));
        EXPECT_EQ(yp[1], -1.0f);
        EXPECT_EQ(yp[2], INFINITY);
        double worst_ulp = 0;
        for (int64_t i = 1; i < ggml_nelements(x); ++i) {
            if (xp[i] > 0) {
                ASSERT_EQ(yp[i], xp[i]);
                continue;
            }
            const double exact = std::expm1((double) xp[i]);
            const double ulp = std::nextafter((float) std::fabs(exact), INFINITY) - (float) std::fabs(exact);
            worst_ulp = std::max(worst_ulp, std::fabs(yp[i] - exact) / ulp);
        }
        EXPECT_LE(worst_ulp, 2.0) << "threads=" << threads;
        // And the stock op (libm expm1f) is close to the same values.
        const float * rp = (const float *) ref->data;
        for (int64_t i = 6; i < ggml_nelements(x); ++i) ASSERT_NEAR(yp[i], rp[i], 3e-7f * std::max(1.0f, std::fabs(rp[i])));
        ggml_free(ctx);
    }
}

// The row-copy zero pad equals ggml's PAD bit for bit: contiguous [C, T, B] and a strided view
// (every other frame of a batch), uneven thread splits.
TEST(Ops, RowCopyZeroPadEqualsStockPad) {
    for (int threads : {1, 3}) {
        ggml_init_params ip = {16 * 1024 * 1024, nullptr, false};
        ggml_context * ctx = ggml_init(ip);
        std::mt19937 rng(3);
        ggml_tensor * x = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, 5, 37, 3);
        fill(x, rng, -1.0f, 1.0f);
        ggml_tensor * v = ggml_view_3d(ctx, x, 5, 18, 3, 2 * x->nb[1], x->nb[2], x->nb[1]);
        std::vector<std::pair<ggml_tensor *, ggml_tensor *>> pairs;
        for (ggml_tensor * in : {x, v}) {
            for (auto lr : {std::pair<int, int>{0, 4}, {6, 0}, {3, 11}}) {
                ggml_tensor * fast = codec_pad_zero(ctx, in, lr.first, lr.second, true);
                ggml_tensor * stock = codec_pad_zero(ctx, in, lr.first, lr.second, false);
                ASSERT_NE(fast->op, stock->op);
                pairs.push_back({fast, stock});
            }
        }
        ggml_cgraph * gf = ggml_new_graph(ctx);
        for (auto & p : pairs) {
            ggml_build_forward_expand(gf, p.first);
            ggml_build_forward_expand(gf, p.second);
        }
        ASSERT_EQ(ggml_graph_compute_with_ctx(ctx, gf, threads), GGML_STATUS_SUCCESS);
        for (auto & p : pairs) {
            ASSERT_TRUE(ggml_are_same_shape(p.first, p.second));
            EXPECT_EQ(std::memcmp(p.first->data, p.second->data, ggml_nbytes(p.first)), 0) << "threads=" << threads;
        }
        ggml_free(ctx);
    }
}

// Inputs for the GELU tests: wide and narrow values, some tiny, then NaN, +-Inf, 0, +-1e30 first.
ggml_tensor * gelu_input(ggml_context * ctx, unsigned seed) {
    ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, 7, 300007 / 7 + 1);
    float * xp = (float *) x->data;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> wide(-12.0f, 12.0f), narrow(-1.5f, 1.5f);
    for (int64_t i = 0; i < ggml_nelements(x); ++i) xp[i] = (i % 4) ? wide(rng) : narrow(rng) * ((i % 3) ? 1.0f : 1e-5f);
    xp[0] = NAN; xp[1] = INFINITY; xp[2] = -INFINITY; xp[3] = 0.0f; xp[4] = 1e30f; xp[5] = -1e30f;
    return x;
}

// Worst errors of y and of the stock ops' ref against exact(x) in double, from element `first`,
// in units of 0.5 |x| abs_err + 2 ulps of the result (GELU adds its erf or tanh to 1, so their
// absolute error reaches the result scaled by x / 2).
template <typename F>
std::pair<double, double> gelu_worst(const ggml_tensor * x, const ggml_tensor * y, const ggml_tensor * ref, int64_t first,
                                     double abs_err, F exact_of) {
    const float * xp = (const float *) x->data, * yp = (const float *) y->data, * rp = (const float *) ref->data;
    double worst = 0, worst_stock = 0;
    for (int64_t i = first; i < ggml_nelements(x); ++i) {
        const double exact = exact_of((double) xp[i]);
        const double ulp = std::nextafter((float) std::fabs(exact), INFINITY) - (float) std::fabs(exact);
        const double tol = 0.5 * std::fabs((double) xp[i]) * abs_err + 2 * ulp;
        worst = std::max(worst, std::fabs(yp[i] - exact) / tol);
        worst_stock = std::max(worst_stock, std::fabs(rp[i] - exact) / tol);
    }
    return {worst, worst_stock};
}

// The vectorized GELU against 0.5 x (1 + erf(x / sqrt 2)) in double: within 1.2e-7 * |x| / 2 of
// it (erf's absolute error) plus 2 ulps, over normal and huge inputs; NaN and +-Inf as ggml's.
TEST(Ops, FusedGeluErfMatchesDouble) {
    for (int threads : {1, 3}) {
        ggml_init_params ip = {32 * 1024 * 1024, nullptr, false};
        ggml_context * ctx = ggml_init(ip);
        ggml_tensor * x = gelu_input(ctx, 5);
        float * xp = (float *) x->data;
        xp[6] = 1.4142135f; xp[7] = 5.656854f; xp[8] = -5.656854f;  // the fits' seams: |u| = 1 and 4
        ggml_tensor * y = codec_gelu_erf(ctx, x, true);
        ggml_tensor * ref = ggml_gelu_erf(ctx, x);
        ASSERT_NE(y->op, ref->op);
        ASSERT_EQ(compute_both(ctx, y, ref, threads), GGML_STATUS_SUCCESS);
        const float * yp = (const float *) y->data, * rp = (const float *) ref->data;
        for (int i = 0; i < 3; ++i) EXPECT_EQ(std::isnan(yp[i]), std::isnan(rp[i])) << i;
        EXPECT_EQ(yp[1], INFINITY);
        EXPECT_EQ(yp[4], 1e30f);
        const auto [worst, worst_stock] = gelu_worst(x, y, ref, 3, 1.2e-7,
                                                     [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); });
        EXPECT_LE(worst, 1.0) << "threads=" << threads << " (libm's erff: " << worst_stock << ")";
        ggml_free(ctx);
    }
}

// The FFT path of the ISTFT heads against irfft in double and against the dense basis product it
// replaces (the basis as the converter builds it): sizes with radices 4, 2, 3, 5 and a prime
// above the specialized ones (11), edge bins kept and zeroed, frames padded past N.
TEST(Ops, IrfftFramesMatchDenseBasis) {
    struct Case { int n, hop; bool zero_edges; };
    for (const Case cs : {Case{16, 4, false}, Case{24, 5, true}, Case{30, 30, false}, Case{22, 7, false}, Case{2048, 512, true}}) {
        for (int threads : {1, 3}) {
            const int N = cs.n, nb = N / 2 + 1;
            const int64_t L = (N + cs.hop - 1) / cs.hop * cs.hop, T = 9, B = 2;
            ggml_init_params ip = {(size_t) (L * (N + 2) * 4 + 6 * (L + N) * T * B * 4 + (4 << 20)), nullptr, false};
            ggml_context * ctx = ggml_init(ip);
            std::mt19937 rng(11 + N);
            ggml_tensor * re = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, nb, T, B);
            ggml_tensor * im = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, nb, T, B);
            ggml_tensor * win = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, N);
            ggml_tensor * basis = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, N + 2, L);
            fill(re, rng, -3.0f, 3.0f);
            fill(im, rng, -3.0f, 3.0f);
            fill(win, rng, -1.0f, 1.0f);  // any window, signs included
            const float * w = (const float *) win->data;
            std::vector<double> c(nb, 2.0);
            c[0] = c[nb - 1] = cs.zero_edges ? 0.0 : 1.0;
            float * bp = (float *) basis->data;
            for (int64_t n = 0; n < L; ++n) {
                for (int k = 0; k < nb; ++k) {
                    const double a = 2 * 3.14159265358979323846 * (double) ((k * n) % N) / N;
                    const bool in = n < N, edge = k == 0 || k == nb - 1;
                    bp[n * (N + 2) + k] = in ? (float) (c[k] * std::cos(a) / N * w[n]) : 0.0f;
                    bp[n * (N + 2) + nb + k] = in && !edge ? (float) (-c[k] * std::sin(a) / N * w[n]) : 0.0f;
                }
            }
            codec_irfft op(N, L, cs.zero_edges);
            ggml_tensor * fft = codec_irfft_frames(ctx, re, im, win, op);
            ggml_tensor * dense = ggml_mul_mat(ctx, basis, ggml_concat(ctx, re, im, 0));
            ggml_cgraph * gf = ggml_new_graph(ctx);
            ggml_build_forward_expand(gf, fft);
            ggml_build_forward_expand(gf, dense);
            ASSERT_EQ(ggml_graph_compute_with_ctx(ctx, gf, threads), GGML_STATUS_SUCCESS);
            ASSERT_TRUE(ggml_are_same_shape(fft, dense));
            double worst_fft = 0, worst_dense = 0, peak = 0;
            for (int64_t f = 0; f < T * B; ++f) {
                const float * r = (const float *) re->data + f * nb, * i = (const float *) im->data + f * nb;
                for (int64_t n = 0; n < L; ++n) {
                    double exact = 0;
                    for (int k = 0; n < N && k < nb; ++k) {
                        const double a = 2 * 3.14159265358979323846 * (double) ((k * n) % N) / N;
                        const bool edge = k == 0 || k == nb - 1;
                        exact += c[k] * (r[k] * std::cos(a) - (edge ? 0.0 : i[k] * std::sin(a)));
                    }
                    exact *= n < N ? w[n] / N : 0.0;
                    peak = std::max(peak, std::fabs(exact));
                    worst_fft = std::max(worst_fft, std::fabs(((const float *) fft->data)[f * L + n] - exact));
                    worst_dense = std::max(worst_dense, std::fabs(((const float *) dense->data)[f * L + n] - exact));
                    if (n >= N) ASSERT_EQ(((const float *) fft->data)[f * L + n], 0.0f);
                }
            }
            // float rounding of a sum of N terms; the FFT's is O(log N), the product's O(N)
            EXPECT_LE(worst_fft, 2e-6 * peak + 1e-7) << "N=" << N << " threads=" << threads << " dense: " << worst_dense;
            EXPECT_LE(worst_fft, std::max(2 * worst_dense, 2e-7 * peak)) << "N=" << N;
            ggml_free(ctx);
        }
    }
}

// The fused tanh-approximated GELU against the same formula in double (tanh from libm): within 2
// float ulps of tanh (as 0.5 |x| ulp(1)) plus 2 ulps of the result; the stock composition (ggml's
// scalar tanhf) is held to the same bound. NaN and +-Inf as the stock ops.
TEST(Ops, FusedGeluTanhMatchesDouble) {
    for (int threads : {1, 3}) {
        ggml_init_params ip = {32 * 1024 * 1024, nullptr, false};
        ggml_context * ctx = ggml_init(ip);
        ggml_tensor * x = gelu_input(ctx, 9);
        ggml_tensor * y = codec_gelu_tanh(ctx, x, true);
        ggml_tensor * ref = codec_gelu_tanh(ctx, x, false);
        ASSERT_NE(y->op, ref->op);
        ASSERT_EQ(compute_both(ctx, y, ref, threads), GGML_STATUS_SUCCESS);
        const float * yp = (const float *) y->data, * rp = (const float *) ref->data;
        for (int i = 0; i < 6; ++i) {
            EXPECT_EQ(std::isnan(yp[i]), std::isnan(rp[i])) << i;
            if (!std::isnan(rp[i])) EXPECT_EQ(yp[i], rp[i]) << i;
        }
        const auto [worst, worst_stock] = gelu_worst(x, y, ref, 6, 2.4e-7, [](double v) {
            return 0.5 * v * (1.0 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
        });
        EXPECT_LE(worst, 1.0) << "threads=" << threads << " (stock ops: " << worst_stock << ")";
        ggml_free(ctx);
    }
}

}  // namespace
