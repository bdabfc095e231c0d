#include "rvq.h"

#include "ops/argmax_first.h"

#include <cmath>

ggml_tensor * codec_codes_row(ggml_context * ctx, ggml_tensor * codes, int q) {
    const int64_t T = codes->ne[0], B = codes->ne[2];
    if (B == 1) return ggml_view_1d(ctx, codes, T, q * codes->nb[1]);
    ggml_tensor * rows = ggml_view_2d(ctx, codes, T, B, codes->nb[2], q * codes->nb[1]);  // [T, B], strided
    return ggml_reshape_1d(ctx, ggml_cont(ctx, rows), T * B);
}

void codec_rvq_factorized_encode(ggml_context * ctx, const std::vector<codec_vq_factorized> & vq, int n_q,
                                 ggml_tensor * z, std::vector<ggml_tensor *> & codes) {
    ggml_tensor * residual = z;  // [C, T]
    for (int q = 0; q < n_q; ++q) {
        const codec_vq_factorized & l = vq[q];
        ggml_tensor * e = ggml_add(ctx, ggml_mul_mat(ctx, l.in_w, residual), l.in_b);  // [D, T]
        // F.normalize: e / max(|e|, 1e-12), divided (not multiplied by a reciprocal) like the reference
        ggml_tensor * norm = ggml_clamp(ctx, ggml_sqrt(ctx, ggml_sum_rows(ctx, ggml_sqr(ctx, e))), 1e-12f, INFINITY);
        ggml_tensor * en = ggml_div(ctx, e, norm);
        // Reference: dist = -(|e|^2 - 2 e.c) + |c|^2, argmax over the codebook.
        ggml_tensor * ec2 = ggml_scale(ctx, ggml_mul_mat(ctx, l.cb_norm, en), 2.0f);   // [N, T]
        ggml_tensor * e_sq = ggml_sum_rows(ctx, ggml_sqr(ctx, en));                      // [1, T]
        ggml_tensor * dist = ggml_add(ctx, ggml_sub(ctx, ec2, e_sq), l.cb_norm_sq);
        ggml_tensor * idx = codec_argmax_first(ctx, dist);                               // [T], first on ties
        codes.push_back(idx);
        if (q + 1 == n_q) break;  // the last stage's residual update is unused
        ggml_tensor * zq = ggml_get_rows(ctx, l.codebook, idx);                          // [D, T]
        zq = ggml_add(ctx, e, ggml_sub(ctx, zq, e));  // straight-through form, as the reference rounds it
        ggml_tensor * out = ggml_add(ctx, ggml_mul_mat(ctx, l.out_w, zq), l.out_b);      // [C, T]
        residual = ggml_sub(ctx, residual, out);
    }
}

ggml_tensor * codec_rvq_factorized_decode(ggml_context * ctx, const std::vector<codec_vq_factorized> & vq,
                                          ggml_tensor * codes) {
    const int n_q = (int) codes->ne[1];
    ggml_tensor * sum = nullptr;
    for (int q = 0; q < n_q; ++q) {
        const codec_vq_factorized & l = vq[q];
        ggml_tensor * row = codec_codes_row(ctx, codes, q);
        ggml_tensor * zq = ggml_get_rows(ctx, l.codebook, row);                          // [D, T]
        ggml_tensor * out = ggml_add(ctx, ggml_mul_mat(ctx, l.out_w, zq), l.out_b);      // [C, T]
        sum = sum ? ggml_add(ctx, sum, out) : out;
    }
    return sum;
}
