#include "lstm.h"

#include "chunked.h"
#include "model_loader.h"

ggml_tensor * codec_lstm(ggml_context * ctx, const std::vector<codec_lstm_layer> & layers, ggml_tensor * x) {
    const int64_t T = x->ne[1], B = x->ne[2];
    for (const codec_lstm_layer & l : layers) {
        const int64_t H = l.w_hh->ne[0];
        ggml_tensor * xp = ggml_add(ctx, ggml_mul_mat(ctx, l.w_ih, x), l.b);  // [4H, T, B], every step at once
        ggml_tensor * h = nullptr, * c = nullptr;
        std::vector<ggml_tensor *> hs;
        hs.reserve((size_t) T);
        for (int64_t t = 0; t < T; ++t) {
            ggml_tensor * gates = ggml_view_2d(ctx, xp, 4 * H, B, xp->nb[2], t * xp->nb[1]);  // [4H, B]
            if (h) gates = ggml_add(ctx, gates, ggml_mul_mat(ctx, l.w_hh, h));  // h = 0 at t = 0
            ggml_tensor * sig = ggml_sigmoid(ctx, ggml_view_2d(ctx, gates, 3 * H, B, gates->nb[1], 0));   // i, f, o
            ggml_tensor * g = ggml_tanh(ctx, ggml_view_2d(ctx, gates, H, B, gates->nb[1], 3 * H * gates->nb[0]));
            ggml_tensor * i = ggml_view_2d(ctx, sig, H, B, sig->nb[1], 0);
            ggml_tensor * o = ggml_view_2d(ctx, sig, H, B, sig->nb[1], 2 * H * sig->nb[0]);
            ggml_tensor * ig = ggml_mul(ctx, i, g);
            if (c) {
                ggml_tensor * f = ggml_view_2d(ctx, sig, H, B, sig->nb[1], H * sig->nb[0]);
                c = ggml_add(ctx, ggml_mul(ctx, f, c), ig);
            } else {
                c = ig;  // c = 0 at t = 0
            }
            h = ggml_mul(ctx, o, ggml_tanh(ctx, c));  // [H, B]
            hs.push_back(ggml_reshape_3d(ctx, h, H, 1, B));
        }
        x = codec_concat_tree(ctx, hs, 1);  // [H, T, B]
    }
    return x;
}

size_t codec_lstm_graph_size(size_t n_layers, size_t T) {
    return n_layers * (4 + T * 20);  // 16 per step, 1 per concat, slack
}

std::vector<codec_lstm_layer> codec_load_lstm(codec_model_loader & ld, const std::string & prefix, int dim, int n_layers) {
    std::vector<codec_lstm_layer> layers;
    for (int i = 0; i < n_layers; ++i) {
        const std::string s = std::to_string(i);
        codec_lstm_layer l;
        l.w_ih = ld.tensor(prefix + ".weight_ih_l" + s, {dim, 4 * dim}, CODEC_W_MATMUL);
        l.w_hh = ld.tensor(prefix + ".weight_hh_l" + s, {dim, 4 * dim}, CODEC_W_MATMUL);
        l.b    = ld.tensor(prefix + ".bias_l" + s, {4 * dim}, CODEC_W_F32);
        layers.push_back(l);
    }
    return layers;
}
