// codec_stream_io's lagged convs (the state DAC, SNAC and WavTokenizer's encoder carry) on random
// conv geometries, alone and as a residual unit (skip held back by `delayed`) before a strided
// conv: a signal streamed in blocks gives the one-shot output, and the one-shot output is
// F.pad + conv1d computed naively here.
// Blocks follow the stream driver's rules: whole stride units, the first long enough for the
// conv's window (and for its reflect padding), the last at least one unit (the held-back frame)
// plus any remainder.
#include "blocks/causal_conv.h"
#include "blocks/conv_cm.h"
#include "graph.h"
#include "stream_io.h"

#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using signal = std::vector<std::vector<float>>;  // [C][T]

struct geometry {
    int cin, cout, k, stride, dilation;
    int64_t pad_l, pad_r;
    codec_pad_mode mode;
    bool to_stride;  // EnCodec's extra right padding that completes the last stride window
    int64_t k_eff() const { return (int64_t) (k - 1) * dilation + 1; }
};

struct conv_layer {
    geometry g;
    std::vector<float> w, b;  // w[o][c][j]
};

std::string describe(const geometry & g) {
    return "k " + std::to_string(g.k) + " s " + std::to_string(g.stride) + " d " + std::to_string(g.dilation) +
           " " + std::to_string(g.cin) + "->" + std::to_string(g.cout) + " pad " + std::to_string(g.pad_l) + "+" +
           std::to_string(g.pad_r) + (g.mode == CODEC_PAD_REFLECT ? " reflect" : " zeros") + (g.to_stride ? " to_stride" : "");
}

// F.pad(x, (l, r), mode) as EncodecConv1d._pad1d does it (reflect on an input not longer than the
// padding: zero-extend, reflect, drop the extension).
signal pad_ref(const signal & x, int64_t l, int64_t r, codec_pad_mode mode) {
    signal out;
    for (std::vector<float> row : x) {
        const int64_t T = (int64_t) row.size();
        int64_t ext = 0;
        if (mode == CODEC_PAD_REFLECT && T <= std::max(l, r)) ext = std::max(l, r) - T + 1;
        row.resize((size_t) (T + ext), 0.0f);
        const int64_t n = T + ext;
        std::vector<float> p;
        for (int64_t i = -l; i < n + r; ++i) {
            if (i >= 0 && i < n) p.push_back(row[(size_t) i]);
            else if (mode == CODEC_PAD_CONSTANT) p.push_back(0.0f);
            else p.push_back(row[(size_t) (i < 0 ? -i : 2 * (n - 1) - i)]);
        }
        p.resize(p.size() - (size_t) ext);
        out.push_back(std::move(p));
    }
    return out;
}

// The one-shot conv, naively: pad, then y[o][t] = b[o] + sum_c,j w[o][c][j] x[c][t * s + j * d].
signal conv_ref(const conv_layer & l, const signal & x) {
    const geometry & g = l.g;
    const int64_t T = (int64_t) x[0].size(), ke = g.k_eff();
    int64_t right = g.pad_r;
    if (g.to_stride) {  // EnCodec's get_extra_padding_for_conv1d
        const int64_t total = g.pad_l + g.pad_r;
        const double frames = (double) (T - ke + total) / g.stride + 1;
        right += ((int64_t) std::ceil(frames) - 1) * g.stride + (ke - total) - T;
    }
    const signal p = pad_ref(x, g.pad_l, right, g.mode);
    const int64_t n_out = ((int64_t) p[0].size() - ke) / g.stride + 1;
    signal y((size_t) g.cout, std::vector<float>((size_t) std::max<int64_t>(n_out, 0)));
    for (int o = 0; o < g.cout; ++o)
        for (int64_t t = 0; t < n_out; ++t) {
            double acc = l.b[(size_t) o];
            for (int c = 0; c < g.cin; ++c)
                for (int j = 0; j < g.k; ++j)
                    acc += (double) l.w[((size_t) o * g.cin + c) * g.k + j] * p[(size_t) c][(size_t) (t * g.stride + j * g.dilation)];
            y[(size_t) o][(size_t) t] = (float) acc;
        }
    return y;
}

// The layer's weights in conv_cm.h's layout: [Cin * s, Cout, K / s], row r * Cin + c of tap
// group j holds w[o][c][j * s + r].
struct conv_tensors {
    ggml_tensor * w, * b;
};
conv_tensors upload(ggml_context * ctx, const conv_layer & l) {
    const geometry & g = l.g;
    const int s = g.stride, groups = g.k / s;
    conv_tensors t{ggml_new_tensor_3d(ctx, GGML_TYPE_F32, (int64_t) g.cin * s, g.cout, groups),
                   ggml_new_tensor_1d(ctx, GGML_TYPE_F32, g.cout)};
    for (int j = 0; j < groups; ++j)
        for (int o = 0; o < g.cout; ++o)
            for (int r = 0; r < s; ++r)
                for (int c = 0; c < g.cin; ++c)
                    ((float *) t.w->data)[((size_t) j * g.cout + o) * g.cin * s + (size_t) r * g.cin + c] =
                        l.w[((size_t) o * g.cin + c) * g.k + j * s + r];
    std::copy(l.b.begin(), l.b.end(), (float *) t.b->data);
    return t;
}

// A layer of a streamed graph: its lagged input, convolved without padding.
ggml_tensor * lagged_conv(ggml_context * ctx, codec_stream_io & io, ggml_tensor * x, const conv_layer & l,
                          const conv_tensors & t) {
    const geometry & g = l.g;
    ggml_tensor * xin = io.lagged_input(ctx, x, g.k_eff(), g.stride, g.pad_l, g.pad_r, g.mode, g.to_stride);
    if (xin->ne[1] < g.k_eff()) {  // never, by the driver's block rules
        io.report("a block completes no window of " + describe(g));
        return x;
    }
    return codec_cm_conv1d(ctx, xin, t.w, t.b, g.stride, 0, g.dilation);
}

using block_graph = std::function<ggml_tensor *(ggml_context * ctx, codec_stream_io & io, ggml_tensor * x)>;

// Runs x block by block through `build` on one codec_stream_io (cpu: contexts joined by row
// copies, else by the stock ops); one block is the one-shot call. Returns the outputs joined.
signal run_blocks(const signal & x, const std::vector<int64_t> & blocks, bool cpu, const block_graph & build, std::string & err) {
    const int64_t C = (int64_t) x.size();
    codec_stream_io io;
    signal y;
    int64_t at = 0;
    for (size_t i = 0; i < blocks.size() && err.empty(); ++i) {
        const int64_t n = blocks[i];
        // Built twice on the first block, as the stream does: the probe creates the state slots,
        // which are allocated before the real build takes views of them.
        std::unique_ptr<codec_graph> gr;
        ggml_tensor * out = nullptr;
        for (int pass = io.allocated() ? 1 : 0; pass < 2 && err.empty(); ++pass) {
            if (pass == 1 && !io.allocate(ggml_backend_cpu_buffer_type(), err)) break;
            gr = std::make_unique<codec_graph>();
            ggml_init_params ip = {ggml_graph_overhead() + 1024 * 1024, nullptr, false};  // tens of frames: small
            gr->ctx = ggml_init(ip);
            ggml_tensor * xt = ggml_new_tensor_2d(gr->ctx, GGML_TYPE_F32, C, n);
            for (int64_t t = 0; t < n; ++t)
                for (int64_t c = 0; c < C; ++c) ((float *) xt->data)[t * C + c] = x[(size_t) c][(size_t) (at + t)];
            io.begin(*gr, i == 0, i + 1 == blocks.size(), cpu);
            out = build(gr->ctx, io, xt);
            err = io.error();
        }
        if (!err.empty()) break;
        at += n;
        ggml_cgraph * gf = ggml_new_graph(gr->ctx);
        ggml_build_forward_expand(gf, out);
        for (ggml_tensor * u : gr->updates) ggml_build_forward_expand(gf, u);  // state writes after the outputs
        if (ggml_graph_compute_with_ctx(gr->ctx, gf, 1) != GGML_STATUS_SUCCESS) {
            err = "compute failed";
            break;
        }
        y.resize((size_t) out->ne[0]);
        for (int64_t t = 0; t < out->ne[1]; ++t)
            for (int64_t o = 0; o < out->ne[0]; ++o)
                y[(size_t) o].push_back(*(const float *) ((const char *) out->data + t * out->nb[1] + o * out->nb[0]));
    }
    return y;
}

// The stream driver's blocks for a T-frame input: whole units, the first at least `first`, the last
// at least one unit (the frame the stream holds back) plus the remainder; 1..4 units between.
std::vector<int64_t> random_blocks(std::mt19937 & rng, int64_t T, int64_t unit, int64_t first) {
    const int64_t units = T / unit, rem = T % unit;
    std::vector<int64_t> out;
    int64_t u = std::min(units - 1, (first + unit - 1) / unit + (int64_t) (rng() % 3));
    out.push_back(u * unit);
    while (units - u > 1) {
        const int64_t take = std::min<int64_t>(units - u - 1, 1 + (int64_t) (rng() % 4));
        out.push_back(take * unit);
        u += take;
    }
    out.push_back((units - u) * unit + rem);
    return out;
}

// Unit-gain random weights and biases for a conv of geometry g.
conv_layer with_random_weights(std::mt19937 & rng, const geometry & g) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    conv_layer l{g, std::vector<float>((size_t) g.cout * g.cin * g.k), std::vector<float>((size_t) g.cout)};
    for (float & v : l.w) v = nd(rng) / std::sqrt((float) (g.cin * g.k));
    for (float & v : l.b) v = nd(rng);
    return l;
}

// A random conv: stride 1 (dilated) or strided (kernel a multiple of the stride, as conv_cm needs).
// Padding as the models have it: EnCodec's (k_eff - stride, the larger half left, to the stride
// window) or any split of up to k_eff - 1 frames (DAC, SNAC, the dilated units: (k_eff - 1) / 2).
conv_layer random_conv(std::mt19937 & rng, int cin, int cout, int stride, bool same_length) {
    geometry g{};
    g.cin = cin;
    g.cout = cout;
    g.stride = stride;
    g.dilation = stride > 1 ? 1 : 1 + (int) (rng() % 3);
    g.k = stride > 1 ? stride * (1 + (int) (rng() % 3)) : 1 + (int) (rng() % 7);
    g.mode = rng() % 2 ? CODEC_PAD_REFLECT : CODEC_PAD_CONSTANT;
    g.to_stride = stride > 1 && rng() % 2;
    const int64_t ke = g.k_eff();
    const int64_t total = same_length ? ke - 1 : g.to_stride ? ke - stride : (int64_t) (rng() % (uint32_t) ke);
    g.pad_r = g.to_stride ? total / 2 : (int64_t) (rng() % (uint32_t) (total + 1));
    g.pad_l = total - g.pad_r;
    return with_random_weights(rng, g);
}

// Input frames of a first block that gives `g` a complete window (and frames to reflect), and
// the layer's output frames from it.
bool first_block_ok(const geometry & g, int64_t n, int64_t & n_out) {
    const int64_t avail = g.pad_l + n;
    if (avail < g.k_eff() || (g.mode == CODEC_PAD_REFLECT && n <= g.pad_l)) return false;
    n_out = (avail - g.k_eff()) / g.stride + 1;
    return true;
}

signal random_signal(std::mt19937 & rng, int64_t C, int64_t T) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    signal x((size_t) C, std::vector<float>((size_t) T));
    for (auto & row : x) for (float & v : row) v = nd(rng);
    return x;
}

// Streams x in its one-shot split and in `blocks`, on both join paths; each must be `want`.
void expect_matches(const signal & want, const signal & x, const std::vector<int64_t> & blocks, const block_graph & build,
                    const std::string & what) {
    const int64_t T = (int64_t) x[0].size();
    for (bool cpu : {true, false}) {
        for (const std::vector<int64_t> & split : {std::vector<int64_t>{T}, blocks}) {
            const std::string how = what + (split.size() == 1 ? " (one-shot)" : " (stream)") + (cpu ? " cpu" : " stock");
            std::string err;
            const signal got = run_blocks(x, split, cpu, build, err);
            ASSERT_EQ(err, "") << how;
            ASSERT_EQ(got.size(), want.size()) << how;
            ASSERT_EQ(got[0].size(), want[0].size()) << how;
            double worst = 0;
            for (size_t o = 0; o < want.size(); ++o)
                for (size_t t = 0; t < want[0].size(); ++t)
                    worst = std::max(worst, (double) std::fabs(got[o][t] - want[o][t]) / (1.0 + std::fabs(want[o][t])));
            ASSERT_LE(worst, 1e-5) << how;
        }
    }
}

TEST(StreamIo, LaggedConvMatchesTheOneShotConv) {
    std::mt19937 rng(20261201);
    for (int it = 0; it < 400; ++it) {
        const int stride = 1 + (int) (rng() % 4);
        const conv_layer l = random_conv(rng, 1 + (int) (rng() % 3), 1 + (int) (rng() % 3), stride, false);
        const int64_t unit = stride * (1 + (int64_t) (rng() % 2));  // a frame: whole strides
        int64_t first = 1, n_out = 0;
        while (!first_block_ok(l.g, first, n_out)) ++first;
        const int64_t T = ((first + unit - 1) / unit + 1 + (int64_t) (rng() % 12)) * unit + (int64_t) (rng() % unit);
        const signal x = random_signal(rng, l.g.cin, T);
        const std::vector<int64_t> blocks = random_blocks(rng, T, unit, first);
        ggml_init_params wp = {ggml_tensor_overhead() * 4 + 64 * 1024, nullptr, false};
        ggml_context * wctx = ggml_init(wp);
        const conv_tensors t = upload(wctx, l);
        expect_matches(conv_ref(l, x), x, blocks,
                       [&](ggml_context * ctx, codec_stream_io & io, ggml_tensor * xt) { return lagged_conv(ctx, io, xt, l, t); },
                       "case " + std::to_string(it) + ": " + describe(l.g) + " T " + std::to_string(T) + " in " +
                           std::to_string(blocks.size()) + " blocks");
        ggml_free(wctx);
        if (HasFatalFailure()) return;
    }
}

// A SEANet / DAC residual unit (a same-length dilated conv, a 1x1 conv, the skip held back by
// `delayed` to meet the branch's lag), then a strided conv: every layer's lag fixed by the first
// block, the skip aligned, the strided conv's padding at both ends.
TEST(StreamIo, LaggedResidualUnitAndDownsamplingMatchTheOneShot) {
    std::mt19937 rng(1201);
    for (int it = 0; it < 200; ++it) {
        const int C = 1 + (int) (rng() % 3), stride = 2 + (int) (rng() % 3);
        const conv_layer a = random_conv(rng, C, C, 1, true);
        const conv_layer one = with_random_weights(rng, geometry{C, C, 1, 1, 1, 0, 0, CODEC_PAD_CONSTANT, false});
        const conv_layer down = random_conv(rng, C, 1 + (int) (rng() % 3), stride, false);
        const int64_t unit = stride * (1 + (int64_t) (rng() % 2));
        int64_t first = 1, n_a = 0, n_down = 0;
        while (!first_block_ok(a.g, first, n_a) || !first_block_ok(down.g, n_a, n_down)) ++first;
        const int64_t T = ((first + unit - 1) / unit + 1 + (int64_t) (rng() % 10)) * unit + (int64_t) (rng() % unit);
        const signal x = random_signal(rng, C, T);

        signal h = conv_ref(one, conv_ref(a, x));
        for (int c = 0; c < C; ++c)
            for (int64_t t = 0; t < T; ++t) h[(size_t) c][(size_t) t] += x[(size_t) c][(size_t) t];
        const signal want = conv_ref(down, h);

        ggml_init_params wp = {ggml_tensor_overhead() * 8 + 256 * 1024, nullptr, false};
        ggml_context * wctx = ggml_init(wp);
        const conv_tensors ta = upload(wctx, a), t1 = upload(wctx, one), td = upload(wctx, down);
        const std::vector<int64_t> blocks = random_blocks(rng, T, unit, first);
        expect_matches(want, x, blocks,
                       [&](ggml_context * ctx, codec_stream_io & io, ggml_tensor * xt) {
                           ggml_tensor * y = lagged_conv(ctx, io, lagged_conv(ctx, io, xt, a, ta), one, t1);
                           y = ggml_add(ctx, y, io.delayed(ctx, xt, y->ne[1]));
                           return lagged_conv(ctx, io, y, down, td);
                       },
                       "case " + std::to_string(it) + ": unit " + describe(a.g) + ", down " + describe(down.g) + " T " +
                           std::to_string(T) + " in " + std::to_string(blocks.size()) + " blocks");
        ggml_free(wctx);
        if (HasFatalFailure()) return;
    }
}

}  // namespace
