#include "vq_euclidean.h"

#include "model_loader.h"
#include "ops/argmax_first.h"
#include "rvq.h"

codec_vq_euclidean codec_load_vq_euclidean(codec_model_loader & ld, const std::string & prefix, int dim, int size) {
    codec_vq_euclidean v;
    v.embed    = ld.tensor(prefix + ".embed", {dim, size}, CODEC_W_F32);
    v.embed_sq = ld.tensor(prefix + ".embed_sq", {size}, CODEC_W_F32);
    return v;
}

void codec_rvq_euclidean_encode(ggml_context * ctx, const std::vector<codec_vq_euclidean> & vq, int n,
                                ggml_tensor * x, std::vector<ggml_tensor *> & codes) {
    const int64_t D = x->ne[0], T = x->ne[1], B = x->ne[2];
    ggml_tensor * residual = x;  // [D, T, B]
    for (int q = 0; q < n; ++q) {
        const codec_vq_euclidean & l = vq[q];
        ggml_tensor * dot = ggml_mul_mat(ctx, l.embed, residual);                    // [N, T, B]
        ggml_tensor * r_sq = ggml_sum_rows(ctx, ggml_sqr(ctx, residual));            // [1, T, B]
        if (B > 1) {  // the product per sequence (T columns, as alone), the search frame by frame
            dot = ggml_reshape_2d(ctx, dot, dot->ne[0], T * B);
            r_sq = ggml_reshape_2d(ctx, r_sq, 1, T * B);
        }
        ggml_tensor * dist = ggml_add(ctx, ggml_add(ctx, ggml_scale(ctx, dot, -2.0f), r_sq), l.embed_sq);
        ggml_tensor * idx = codec_argmax_first(ctx, ggml_scale(ctx, dist, -1.0f));   // argmin, first on ties
        codes.push_back(idx);
        if (q + 1 == n) break;  // the last residual is unused
        ggml_tensor * e = ggml_get_rows(ctx, l.embed, idx);                          // [D, T * B]
        residual = ggml_sub(ctx, residual, B > 1 ? ggml_reshape_3d(ctx, e, D, T, B) : e);
    }
}

ggml_tensor * codec_rvq_euclidean_decode(ggml_context * ctx, const std::vector<codec_vq_euclidean> & vq,
                                         ggml_tensor * codes, int row0, int n) {
    ggml_tensor * sum = nullptr;
    for (int q = 0; q < n; ++q) {
        ggml_tensor * row = codec_codes_row(ctx, codes, row0 + q);
        ggml_tensor * e = ggml_get_rows(ctx, vq[q].embed, row);  // [D, T]
        sum = sum ? ggml_add(ctx, sum, e) : e;
    }
    return sum;
}
