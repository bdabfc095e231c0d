#include "fbank.h"

#include "model_loader.h"

#include <cfloat>

int64_t codec_fbank_frames(const codec_fbank & fb, int64_t n) {
    return n < fb.frame_length ? 0 : 1 + (n - fb.frame_length) / fb.frame_shift;
}

ggml_tensor * codec_fbank_forward(ggml_context * ctx, const codec_fbank & fb, ggml_tensor * signal) {
    const int64_t F = codec_fbank_frames(fb, ggml_nelements(signal)), B = fb.n_bins, M = fb.n_mel;
    // the overlapping frames [frame_length, F] through an im2col (the kernel argument gives its width)
    ggml_tensor * kernel = ggml_view_2d(ctx, fb.basis, fb.frame_length, 1, fb.basis->nb[1], 0);
    ggml_tensor * frames = ggml_im2col(ctx, kernel, ggml_reshape_2d(ctx, signal, ggml_nelements(signal), 1), fb.frame_shift,
                                       0, 0, 0, 1, 0, false, GGML_TYPE_F32);
    frames = ggml_reshape_2d(ctx, frames, fb.frame_length, F);
    ggml_tensor * spec = ggml_mul_mat(ctx, fb.basis, frames);                                // [2B, F]
    ggml_tensor * re = ggml_view_2d(ctx, spec, B, F, spec->nb[1], 0);
    ggml_tensor * im = ggml_view_2d(ctx, spec, B, F, spec->nb[1], B * ggml_element_size(spec));
    ggml_tensor * power = ggml_add(ctx, ggml_sqr(ctx, re), ggml_sqr(ctx, im));             // [B, F]
    ggml_tensor * x = ggml_log(ctx, ggml_clamp(ctx, ggml_mul_mat(ctx, fb.mel, power), FLT_EPSILON, FLT_MAX));  // [M, F]
    // per-bin statistics over the frames, in the frame-major layout [F, M]
    ggml_tensor * xt = ggml_cont(ctx, ggml_transpose(ctx, x));
    ggml_tensor * d = ggml_sub(ctx, xt, ggml_mean(ctx, xt));
    ggml_tensor * var = ggml_scale_bias(ctx, ggml_sum_rows(ctx, ggml_sqr(ctx, d)), 1.0f / (float) (F - 1), 1e-7f);
    ggml_tensor * y = ggml_div(ctx, d, ggml_sqrt(ctx, var));                                // [F, M]
    y = ggml_cont(ctx, ggml_transpose(ctx, y));                                             // [M, F]
    return ggml_reshape_2d(ctx, y, fb.stack * M, F / fb.stack);
}

bool codec_load_fbank(codec_model_loader & ld, const std::string & prefix, codec_fbank & fb) {
    fb.basis = ld.tensor(prefix + ".basis", {fb.frame_length, 2 * fb.n_bins}, CODEC_W_F32);
    fb.mel = ld.tensor(prefix + ".mel", {fb.n_bins, fb.n_mel}, CODEC_W_F32);
    return fb.basis && fb.mel;
}
