#include "istft.h"

#include "model_loader.h"
#include "ops/copy_rows.h"

#include <cmath>

static int64_t hops_per_frame(const codec_istft & s) { return (s.n_fft + s.hop - 1) / s.hop; }

int64_t codec_istft_out_len(const codec_istft & s, int64_t T) {
    return s.center ? (T - 1) * s.hop : T * s.hop;
}

// Overlap-add of frames [R * hop, T] (or [R * hop, T, B], each sequence on its own) with stride
// hop: chunk c of the output (hop samples) sums sub-block j of frame c - j. Each sub-block row j
// is a strided view [hop, T], zero-padded by j chunks before and R - 1 - j after, so the R views
// line up and add. Returns [hop * (T + R - 1)] (a batch: [hop * (T + R - 1), B]).
static ggml_tensor * overlap_add(ggml_context * ctx, ggml_tensor * frames, int64_t hop, int64_t R) {
    const int64_t T = frames->ne[1], B = frames->ne[2];
    ggml_tensor * y = nullptr;
    for (int64_t j = 0; j < R; ++j) {
        ggml_tensor * v = ggml_view_3d(ctx, frames, hop, T, B, frames->nb[1], frames->nb[2], (size_t) (j * hop) * frames->nb[0]);
        ggml_tensor * p = ggml_pad_ext(ctx, v, 0, 0, (int) j, (int) (R - 1 - j), 0, 0, 0, 0);  // [hop, T + R - 1, B]
        y = y ? ggml_add(ctx, y, p) : p;
    }
    return B == 1 ? ggml_reshape_1d(ctx, y, hop * (T + R - 1)) : ggml_reshape_2d(ctx, y, hop * (T + R - 1), B);
}

ggml_tensor * codec_istft_head(ggml_context * ctx, const codec_istft & s, ggml_tensor * x) {
    const int64_t nb = s.n_fft / 2 + 1, T = x->ne[1], B = x->ne[2], R = hops_per_frame(s);
    ggml_tensor * logmag = ggml_view_3d(ctx, x, nb, T, B, x->nb[1], x->nb[2], 0);
    ggml_tensor * phase = ggml_view_3d(ctx, x, nb, T, B, x->nb[1], x->nb[2], (size_t) nb * x->nb[0]);
    ggml_tensor * mag = ggml_clamp(ctx, ggml_exp(ctx, logmag), -INFINITY, 1e2f);  // exp overflow clips to 100, as torch.clip
    ggml_tensor * re = ggml_mul(ctx, mag, ggml_cos(ctx, phase));
    ggml_tensor * im = ggml_mul(ctx, mag, ggml_sin(ctx, phase));
    ggml_tensor * frames = s.fft && codec_on_host(s.window)                           // [R * hop, T, B]: windowed irfft
        ? codec_irfft_frames(ctx, re, im, s.window, *s.fft)
        : ggml_mul_mat(ctx, s.basis, ggml_concat(ctx, re, im, 0));
    ggml_tensor * y = overlap_add(ctx, frames, s.hop, R);
    // The envelope is the same for every sequence: one, broadcast in the division.
    ggml_tensor * wsq = ggml_repeat_4d(ctx, ggml_reshape_2d(ctx, s.win_sq, R * s.hop, 1), R * s.hop, T, 1, 1);
    ggml_tensor * env = overlap_add(ctx, wsq, s.hop, R);
    const int64_t crop = s.center ? s.n_fft / 2 : (s.n_fft - s.hop) / 2, n = codec_istft_out_len(s, T);
    y = B == 1 ? ggml_view_1d(ctx, y, n, (size_t) crop * y->nb[0]) : ggml_view_2d(ctx, y, n, B, y->nb[1], (size_t) crop * y->nb[0]);
    env = ggml_view_1d(ctx, env, n, (size_t) crop * env->nb[0]);
    return ggml_div(ctx, y, env);
}

codec_istft codec_load_istft(codec_model_loader & ld, const std::string & prefix, int n_fft, int hop, bool center,
                             bool zero_edge_bins) {
    codec_istft s;
    s.n_fft = n_fft;
    s.hop = hop;
    s.center = center;
    const int64_t R = hops_per_frame(s);
    s.basis = ld.tensor(prefix + ".basis", {n_fft + 2, R * hop}, CODEC_W_F32);
    s.win_sq = ld.tensor(prefix + ".window_sq", {R * hop}, CODEC_W_F32);
    if (ld.has_tensor(prefix + ".window")) {
        s.window = ld.tensor(prefix + ".window", {n_fft}, CODEC_W_F32);
        if (n_fft % 2 == 0) s.fft = std::make_shared<codec_irfft>(n_fft, R * hop, zero_edge_bins);
    }
    return s;
}

ggml_tensor * codec_vocos_head_forward(ggml_context * ctx, const codec_vocos_head & h, ggml_tensor * x) {
    return codec_istft_head(ctx, h.istft, ggml_add(ctx, ggml_mul_mat(ctx, h.w, x), h.b));
}

codec_vocos_head codec_load_vocos_head(codec_model_loader & ld, const std::string & prefix, int dim, int n_fft, int hop,
                                       bool center, bool zero_edge_bins) {
    codec_vocos_head h;
    h.w = ld.tensor(prefix + ".out.weight", {dim, n_fft + 2}, CODEC_W_MATMUL);
    h.b = ld.tensor(prefix + ".out.bias", {n_fft + 2}, CODEC_W_F32);
    h.istft = codec_load_istft(ld, prefix + ".istft", n_fft, hop, center, zero_edge_bins);
    return h;
}
