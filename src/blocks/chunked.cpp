#include "chunked.h"

#include <algorithm>

ggml_tensor * codec_concat_tree(ggml_context * ctx, const std::vector<ggml_tensor *> & parts, int dim) {
    std::vector<ggml_tensor *> level = parts;
    while (level.size() > 1) {
        std::vector<ggml_tensor *> next;
        for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(ggml_concat(ctx, level[i], level[i + 1], dim));
        if (level.size() % 2) next.push_back(level.back());
        level.swap(next);
    }
    return level.empty() ? nullptr : level[0];
}

// Frame i starts at sample i * stride - origin; returns samples [0, total) of the sum.
static ggml_tensor * overlap_add(ggml_context * ctx, const std::vector<ggml_tensor *> & frames, int64_t stride,
                                 int64_t origin, int64_t N, int64_t total, std::string & err) {
    const int64_t n = (int64_t) frames.size();
    // time_vec = linspace(0, 1, N + 2)[1:-1]; weight = 0.5 - |time_vec - 0.5|
    ggml_tensor * t = ggml_scale(ctx, ggml_arange(ctx, 1.0f, (float) (N + 1), 1.0f), 1.0f / (float) (N + 1));
    ggml_tensor * w = ggml_scale_bias(ctx, ggml_abs(ctx, ggml_scale_bias(ctx, t, 1.0f, -0.5f)), -1.0f, 0.5f);  // [N] = [1, N]

    std::vector<ggml_tensor *> weighted(frames.size());
    for (int64_t i = 0; i < n; ++i) {
        const int64_t len = frames[i]->ne[1];
        if (len > N) {
            err = "overlap-add: a frame is longer than the first";
            return nullptr;
        }
        weighted[i] = ggml_mul(ctx, frames[i], ggml_view_2d(ctx, w, 1, len, sizeof(float), 0));  // broadcast over channels
    }
    // Spans between consecutive frame starts/ends are covered by a fixed set of frames.
    std::vector<int64_t> cuts = {0, total};
    for (int64_t i = 0; i < n; ++i) {
        cuts.push_back(std::clamp<int64_t>(i * stride - origin, 0, total));
        cuts.push_back(std::clamp<int64_t>(i * stride - origin + frames[i]->ne[1], 0, total));
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<ggml_tensor *> pieces;
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        const int64_t a = cuts[k], len = cuts[k + 1] - a;
        ggml_tensor * num = nullptr, * den = nullptr;
        for (int64_t i = 0; i < n; ++i) {
            const int64_t off = i * stride - origin;
            if (off > a || off + frames[i]->ne[1] < a + len) continue;
            ggml_tensor * f = weighted[i];
            ggml_tensor * fv = ggml_view_2d(ctx, f, f->ne[0], len, f->nb[1], (a - off) * f->nb[1]);
            ggml_tensor * wv = ggml_view_2d(ctx, w, 1, len, sizeof(float), (a - off) * sizeof(float));
            num = num ? ggml_add(ctx, num, fv) : fv;
            den = den ? ggml_add(ctx, den, wv) : wv;
        }
        if (!num) {
            err = "overlap-add: samples covered by no frame (stride longer than a frame)";
            return nullptr;
        }
        pieces.push_back(ggml_div(ctx, num, den));
    }
    return codec_concat_tree(ctx, pieces, 1);
}

ggml_tensor * codec_linear_overlap_add(ggml_context * ctx, const std::vector<ggml_tensor *> & frames, int64_t stride,
                                       std::string & err) {
    if (frames.empty()) {
        err = "overlap-add of no frames";
        return nullptr;
    }
    const int64_t total = stride * ((int64_t) frames.size() - 1) + frames.back()->ne[1];
    return overlap_add(ctx, frames, stride, 0, frames[0]->ne[1], total, err);
}

ggml_tensor * codec_linear_overlap_add_block(ggml_context * ctx, const std::vector<ggml_tensor *> & frames, ggml_tensor * prev,
                                             int64_t stride, int64_t n_weights, int64_t end, std::string & err) {
    if (frames.empty()) {
        err = "overlap-add of no frames";
        return nullptr;
    }
    if (!prev) return overlap_add(ctx, frames, stride, 0, n_weights, end, err);
    // The previous frame at -stride, its first `stride` samples (already output) as zeros: they
    // are weighted like the rest but lie before sample 0, so no span reads them.
    std::vector<ggml_tensor *> all = { ggml_pad_ext(ctx, prev, 0, 0, (int) stride, 0, 0, 0, 0, 0) };
    all.insert(all.end(), frames.begin(), frames.end());
    return overlap_add(ctx, all, stride, stride, n_weights, end, err);
}
