#include "lstm.h"

#include "chunked.h"
#include "model_loader.h"
#include "stream_io.h"

#include <cmath>
#include <cstdint>

namespace {

// Fused step t of the CPU path. y [2H, T, B] holds the states: column t gets h_t in rows
// 0 .. H - 1 and c_t in rows H .. 2H - 1 (written in place, so no per-step tensors to join);
// xp = x W_ih^T + b [4H, T, B] (gates i, f, o, g); mm = W_hh h_{t-1} [4H, 1, B], null at t = 0
// (zero state). Per element exactly the stock graph's float operations: gates = xp + mm,
// sigmoid 1 / (1 + expf(-v)), tanhf, c = f * c + i * g (two rounded products), h = o * tanh(c).
// x_off: xp's column of step t is t - x_off (1 when y starts with a carried state column).
void lstm_step(ggml_tensor * y, const ggml_tensor * xp, const ggml_tensor * mm, int64_t t, int ith, int nth,
               int64_t x_off = 0) {
    const int64_t H = y->ne[0] / 2, B = y->ne[2];
    const int64_t per = (H + nth - 1) / nth, j0 = per * ith, j1 = std::min(H, j0 + per);
    for (int64_t col = 0; col < B; ++col) {
        const float * ga = (const float *) ((const char *) xp->data + (t - x_off) * xp->nb[1] + col * xp->nb[2]);
        const float * gb = mm ? (const float *) ((const char *) mm->data + col * mm->nb[2]) : nullptr;
        float * out = (float *) ((char *) y->data + t * y->nb[1] + col * y->nb[2]);
        const float * cp = t > 0 ? (const float *) ((const char *) out - y->nb[1]) + H : nullptr;
        for (int64_t j = j0; j < j1; ++j) {
            auto gate = [&](int64_t k) { return gb ? ga[k * H + j] + gb[k * H + j] : ga[k * H + j]; };
            const float i = 1.0f / (1.0f + expf(-gate(0)));
            const float o = 1.0f / (1.0f + expf(-gate(2)));
            const float g = tanhf(gate(3));
            const float ig = i * g;
            float cn = ig;
            if (cp) {
                const float f = 1.0f / (1.0f + expf(-gate(1)));
                const volatile float fc = f * cp[j];  // rounded, as the stock graph's mul: never fused into an FMA
                cn = fc + ig;
            }
            out[H + j] = cn;
            out[j] = o * tanhf(cn);
        }
    }
}

// t = 0: dst is the new state tensor (a only gives its shape), b = xp.
void step_first(ggml_tensor * dst, const ggml_tensor *, const ggml_tensor * xp, int ith, int nth, void *) {
    lstm_step(dst, xp, nullptr, 0, ith, nth);
}
// t > 0, in place on the state tensor a; t comes as userdata.
void step_next(ggml_tensor * dst, const ggml_tensor *, const ggml_tensor * xp, const ggml_tensor * mm, int ith, int nth,
               void * t) {
    lstm_step(dst, xp, mm, (int64_t) (intptr_t) t, ith, nth);
}

// Streaming: y's column 0 is the carried state, step t (1..T) reads xp column t - 1.
void step_carried(ggml_tensor * dst, const ggml_tensor *, const ggml_tensor * xp, const ggml_tensor * mm, int ith, int nth,
                  void * t) {
    lstm_step(dst, xp, mm, (int64_t) (intptr_t) t, ith, nth, 1);
}

// h of column t of the CPU path's states y [2H, T, B], as [H, 1, B]: one column per sequence, so
// W_hh h is one product per sequence as alone (a [H, B] right-hand side would take ggml's GEMM
// for B >= 2 with f16 weights, which rounds differently than the single column's dot products).
ggml_tensor * h_prev(ggml_context * ctx, ggml_tensor * y, int64_t t) {
    return ggml_view_3d(ctx, y, y->ne[0] / 2, 1, y->ne[2], y->nb[1], y->nb[2], t * y->nb[1]);
}

}  // namespace

// One layer of a stream: the recurrence starts from the slot's [h; c] ([2H, 1, B]) and leaves its
// last column there. The fused CPU step reads c_{t-1} from y, so y = [state, T columns]; with a zero
// state (the first block) f * 0 + i * g and xp + W_hh 0 round exactly as the one-shot first step.
static ggml_tensor * lstm_layer_stream(ggml_context * ctx, const codec_lstm_layer & l, ggml_tensor * xp, bool cpu,
                                       codec_stream_io * io) {
    const int64_t H = l.w_hh->ne[0], T = xp->ne[1], B = xp->ne[2];
    ggml_tensor * st = io->slot(2 * H, 1, B);
    ggml_tensor * y;
    if (cpu) {
        y = ggml_concat(ctx, st, ggml_view_3d(ctx, xp, 2 * H, T, B, xp->nb[1], xp->nb[2], 0), 1);  // [2H, T + 1, B]
        for (int64_t t = 1; t <= T; ++t) {
            ggml_tensor * hp = h_prev(ctx, y, t - 1);
            y = ggml_map_custom3_inplace(ctx, y, xp, ggml_mul_mat(ctx, l.w_hh, hp), step_carried, GGML_N_TASKS_MAX,
                                         (void *) (intptr_t) t);
        }
    } else {
        ggml_tensor * s0 = ggml_cont(ctx, st);  // the slot's one reader
        ggml_tensor * h = ggml_cont(ctx, ggml_view_2d(ctx, s0, H, B, s0->nb[2], 0));
        ggml_tensor * c = ggml_cont(ctx, ggml_view_2d(ctx, s0, H, B, s0->nb[2], H * s0->nb[0]));
        std::vector<ggml_tensor *> cols = { ggml_reshape_3d(ctx, s0, 2 * H, 1, B) };
        for (int64_t t = 0; t < T; ++t) {
            ggml_tensor * gates = ggml_add(ctx, ggml_view_2d(ctx, xp, 4 * H, B, xp->nb[2], t * xp->nb[1]), ggml_mul_mat(ctx, l.w_hh, h));
            ggml_tensor * sig = ggml_sigmoid(ctx, ggml_view_2d(ctx, gates, 3 * H, B, gates->nb[1], 0));
            ggml_tensor * g = ggml_tanh(ctx, ggml_view_2d(ctx, gates, H, B, gates->nb[1], 3 * H * gates->nb[0]));
            ggml_tensor * i = ggml_view_2d(ctx, sig, H, B, sig->nb[1], 0);
            ggml_tensor * f = ggml_view_2d(ctx, sig, H, B, sig->nb[1], H * sig->nb[0]);
            ggml_tensor * o = ggml_view_2d(ctx, sig, H, B, sig->nb[1], 2 * H * sig->nb[0]);
            c = ggml_add(ctx, ggml_mul(ctx, f, c), ggml_mul(ctx, i, g));
            h = ggml_mul(ctx, o, ggml_tanh(ctx, c));
            cols.push_back(ggml_reshape_3d(ctx, ggml_concat(ctx, h, c, 0), 2 * H, 1, B));
        }
        y = codec_concat_tree(ctx, cols, 1);  // [2H, T + 1, B]
    }
    io->write(ctx, ggml_view_3d(ctx, y, 2 * H, 1, B, y->nb[1], y->nb[2], T * y->nb[1]), st);
    return ggml_cont(ctx, ggml_view_3d(ctx, y, H, T, B, y->nb[1], y->nb[2], y->nb[1]));  // h of steps 1..T
}

ggml_tensor * codec_lstm(ggml_context * ctx, const std::vector<codec_lstm_layer> & layers, ggml_tensor * x, bool cpu,
                         codec_stream_io * io) {
    const int64_t T = x->ne[1], B = x->ne[2];
    for (const codec_lstm_layer & l : layers) {
        const int64_t H = l.w_hh->ne[0];
        ggml_tensor * xp = ggml_add(ctx, ggml_mul_mat(ctx, l.w_ih, x), l.b);  // [4H, T, B], every step at once
        if (io) {
            x = lstm_layer_stream(ctx, l, xp, cpu, io);
            continue;
        }
        if (cpu) {
            // y: a fresh [2H, T, B] from step 0 (xp's first 2H rows only give the shape)
            ggml_tensor * y = ggml_map_custom2(ctx, ggml_view_3d(ctx, xp, 2 * H, T, B, xp->nb[1], xp->nb[2], 0), xp,
                                               step_first, GGML_N_TASKS_MAX, nullptr);
            for (int64_t t = 1; t < T; ++t) {
                ggml_tensor * hp = h_prev(ctx, y, t - 1);
                y = ggml_map_custom3_inplace(ctx, y, xp, ggml_mul_mat(ctx, l.w_hh, hp), step_next, GGML_N_TASKS_MAX,
                                             (void *) (intptr_t) t);
            }
            x = ggml_cont(ctx, ggml_view_3d(ctx, y, H, T, B, y->nb[1], y->nb[2], 0));  // [H, T, B]
            continue;
        }
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
    return n_layers * (12 + T * 22);  // <= 18 per step, 1 per concat, slack
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
