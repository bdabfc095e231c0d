#include "conv_dw.h"

#include "model_loader.h"

ggml_tensor * codec_conv1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                              int stride, int pad, int dilation) {
    const int64_t T = x->ne[0], C = x->ne[1];
    // Channels as im2col's batch axis: [T, 1, C] -> columns [K, T_out, C].
    ggml_tensor * xb = ggml_reshape_3d(ctx, x, T, 1, C);
    ggml_tensor * col = ggml_im2col(ctx, w, xb, stride, 0, pad, 0, dilation, 0, false, GGML_TYPE_F32);
    ggml_tensor * y = ggml_mul_mat(ctx, col, w);              // [T_out, 1, C]: one K-tap dot per output
    y = ggml_reshape_2d(ctx, y, y->ne[0], C);
    if (b) y = ggml_add(ctx, y, b);
    return y;
}

codec_conv codec_load_conv_dw(codec_model_loader & ld, const std::string & prefix, int k, int c, bool bias) {
    codec_conv cv;
    cv.w = ld.tensor(prefix + ".weight", {k, 1, c}, CODEC_W_F32);
    if (bias) cv.b = ld.tensor(prefix + ".bias", {1, c}, CODEC_W_F32);
    return cv;
}
