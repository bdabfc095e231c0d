// Custom CPU ops against the stock-op compositions they replace: bit-identical results.
#include "blocks/conv.h"
#include "ops/snake.h"

#include <ggml-cpu.h>
#include <ggml.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace {

void fill(ggml_tensor * t, std::mt19937 & rng, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    float * p = (float *) t->data;
    for (int64_t i = 0; i < ggml_nelements(t); ++i) p[i] = d(rng);
}

TEST(Ops, FusedSnakeIsBitIdenticalToStockOps) {
    for (int threads : {1, 3}) {
        ggml_init_params ip = {64 * 1024 * 1024, nullptr, false};
        ggml_context * ctx = ggml_init(ip);
        std::mt19937 rng(7);
        const int64_t T = 1531, C = 13;  // odd sizes: uneven thread split
        ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, T, C);
        ggml_tensor * a = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, 1, C);
        ggml_tensor * b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, 1, C);
        fill(x, rng, -20.0f, 20.0f);
        fill(a, rng, 0.05f, 3.0f);
        for (int64_t c = 0; c < C; ++c) ((float *) b->data)[c] = 1.0f / (((float *) a->data)[c] + 1e-9f);
        ggml_tensor * fused = codec_op_snake(ctx, x, a, b);
        ggml_tensor * stock = codec_snake(ctx, x, a, b);
        ggml_cgraph * gf = ggml_new_graph(ctx);
        ggml_build_forward_expand(gf, fused);
        ggml_build_forward_expand(gf, stock);
        ASSERT_EQ(ggml_graph_compute_with_ctx(ctx, gf, threads), GGML_STATUS_SUCCESS);
        EXPECT_EQ(std::memcmp(fused->data, stock->data, ggml_nbytes(fused)), 0) << "threads=" << threads;
        ggml_free(ctx);
    }
}

}  // namespace
