#include "centered_conv.h"

#include "conv_cm.h"
#include "stream_io.h"

ggml_tensor * codec_centered_conv1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, int stride,
                                    int pad, int dilation, codec_stream_io * io) {
    if (!io) return codec_cm_conv1d(ctx, x, w, b, stride, pad, dilation);
    const int64_t k_eff = (w->ne[2] * stride - 1) * dilation + 1;
    return codec_cm_conv1d(ctx, io->lagged_input(ctx, x, k_eff, stride, pad, pad), w, b, stride, 0, dilation);
}

ggml_tensor * codec_centered_conv1d_dw(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, int pad,
                                       int dilation, codec_stream_io * io) {
    if (!io) return codec_cm_conv1d_dw(ctx, x, w, b, pad, dilation);
    const int64_t k_eff = (w->ne[1] - 1) * dilation + 1;
    return codec_cm_conv1d_dw(ctx, io->lagged_input(ctx, x, k_eff, 1, pad, pad), w, b, 0, dilation);
}

ggml_tensor * codec_centered_conv1d_mono(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, int pad,
                                         int dilation, codec_stream_io * io) {
    if (!io) return codec_cm_conv1d_mono(ctx, x, w, b, 1, pad, dilation);
    const int64_t k_eff = (w->ne[0] - 1) * dilation + 1;
    ggml_tensor * xin = io->lagged_input(ctx, ggml_reshape_2d(ctx, x, 1, x->ne[0]), k_eff, 1, pad, pad);  // [1, T]
    if (!ggml_is_contiguous(xin)) xin = ggml_cont(ctx, xin);
    return codec_cm_conv1d_mono(ctx, ggml_reshape_2d(ctx, xin, xin->ne[1], 1), w, b, 1, 0, dilation);
}

ggml_tensor * codec_centered_conv_transpose1d(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b,
                                              int stride, int crop_l, int crop_r, codec_stream_io * io) {
    const int64_t T = x->ne[1], K = w->ne[2] * stride;
    // A block both first and last is the one-shot conv and takes no state: as the other centered
    // layers, so that the slots are all created by the stream's first block of a longer input.
    if (!io || (io->first && io->last)) {
        return codec_cm_conv_transpose1d(ctx, x, w, b, stride, crop_l, (T - 1) * stride + K - crop_l - crop_r);
    }
    // Output frames before T_seen * stride are final once inputs up to T_seen are in: each block
    // computes its own frames' stride-blocks from its frames and the K / stride - 1 before them.
    const int64_t ctx_frames = w->ne[2] - 1;
    ggml_tensor * xin = io->with_context(ctx, x, ctx_frames, CODEC_PAD_CONSTANT);  // zeros first: no input there
    const int64_t crop = ctx_frames * stride + (io->first ? crop_l : 0);
    const int64_t n_out = T * stride - (io->first ? crop_l : 0) + (io->last ? K - stride - crop_r : 0);
    return codec_cm_conv_transpose1d(ctx, xin, w, b, stride, (int) crop, n_out);
}

ggml_tensor * codec_residual_add(ggml_context * ctx, ggml_tensor * x, ggml_tensor * y, codec_stream_io * io) {
    return ggml_add(ctx, io ? io->delayed(ctx, x, y->ne[1]) : x, y);
}
