#include "seanet.h"

#include "conv_cm.h"
#include "model_loader.h"
#include "ops/copy_rows.h"
#include "ops/elu.h"
#include "stream_io.h"

#include <algorithm>
#include <cmath>

// A conv's padding (k_eff - stride in all): all left when causal, else the larger half left.
static int64_t pad_left(const codec_seanet & sn, int64_t pad_total) {
    return sn.causal ? pad_total : pad_total - pad_total / 2;
}

ggml_tensor * codec_seanet_elu(ggml_context * ctx, ggml_tensor * x, bool cpu) {
    return codec_elu(ctx, x, cpu);
}

// GroupNorm(1, C) on x [C, T, B]: one mean and variance over each sequence's C*T values, then
// w * x + b per channel.
static ggml_tensor * time_group_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b) {
    if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
    ggml_tensor * y = ggml_norm(ctx, ggml_reshape_2d(ctx, x, x->ne[0] * x->ne[1], x->ne[2]), 1e-5f);
    return ggml_add(ctx, ggml_mul(ctx, ggml_reshape(ctx, y, x), w), b);
}

// Frames a .. a + n - 1 of x [C, T, B] (a view).
static ggml_tensor * frames(ggml_context * ctx, ggml_tensor * x, int64_t a, int64_t n) {
    return ggml_view_3d(ctx, x, x->ne[0], n, x->ne[2], x->nb[1], x->nb[2], a * x->nb[1]);
}

static ggml_tensor * tap(ggml_context * ctx, ggml_tensor * w, int64_t j) {  // tap j of a stride-1 conv: [Cin, Cout]
    return ggml_view_2d(ctx, w, w->ne[0], w->ne[1], w->nb[1], j * w->nb[2]);
}

// Stride-1 conv with `left` + `right` = k_eff - 1 padding frames, T >= k_eff, tap j0 reading
// frame t for output t (j0 * dilation == left). No padded copy of x: tap j0 covers every output,
// every other tap is added onto the outputs it reaches (as if padded with zeros; causal
// zero-padded convs are then exactly codec_causal_conv1d). Other pad modes recompute the `left`
// first and `right` last outputs from padded k_eff-frame edge slices and overwrite them.
static ggml_tensor * same_length_conv(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, int dilation,
                                      int64_t left, int64_t right, codec_pad_mode mode) {
    const int64_t T = x->ne[1], n = w->ne[2], k_eff = (n - 1) * dilation + 1, j0 = left / dilation;
    ggml_tensor * y = ggml_mul_mat(ctx, tap(ctx, w, j0), x);  // [Cout, T, B]
    for (int64_t j = n - 1; j >= 0; --j) {
        const int64_t shift = j * dilation - left;  // output t reads frame t + shift
        const int64_t len = T - (shift < 0 ? -shift : shift);
        if (j == j0 || len <= 0) continue;
        ggml_tensor * p = codec_mul_mat_window(ctx, tap(ctx, w, j), x, shift > 0 ? shift : 0, len);
        y = ggml_acc_inplace(ctx, y, p, y->nb[1], y->nb[2], y->nb[3], (shift < 0 ? -shift : 0) * y->nb[1]);
    }
    // (ggml_set_2d takes y's ne2 stride: the edges of every sequence of a batch at once)
    if (mode != CODEC_PAD_CONSTANT && left > 0) {  // outputs 0 .. left - 1
        ggml_tensor * e = codec_pad_time_cm(ctx, frames(ctx, x, 0, k_eff), left, 0, mode);
        e = codec_cm_conv1d(ctx, e, w, nullptr, 1, 0, dilation);  // [Cout, left + 1, B]
        y = ggml_set_2d_inplace(ctx, y, frames(ctx, e, 0, left), y->nb[1], 0);
    }
    if (mode != CODEC_PAD_CONSTANT && right > 0) {  // outputs T - right .. T - 1
        ggml_tensor * e = codec_pad_time_cm(ctx, frames(ctx, x, T - k_eff, k_eff), 0, right, mode);
        e = codec_cm_conv1d(ctx, e, w, nullptr, 1, 0, dilation);  // [Cout, right + 1, B]
        y = ggml_set_2d_inplace(ctx, y, frames(ctx, e, 1, right), y->nb[1], (T - right) * y->nb[1]);
    }
    return b ? ggml_add(ctx, y, b) : y;
}

ggml_tensor * codec_seanet_conv1d(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_conv & c, ggml_tensor * x,
                                  codec_stream_io * io) {
    if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
    const int s = c.stride, d = c.dilation;
    const int64_t T = x->ne[1], k_eff = (c.w->ne[2] * s - 1) * d + 1;
    const int64_t pad_total = k_eff - s, left = pad_left(sn, pad_total), right = pad_total - left;
    if (io && c.norm_w) io->report("a time-group-normed conv cannot stream (its norm spans the whole input)");
    if (io && sn.causal) {  // the one-shot conv over [context, x] minus the context's (k_eff - s) / s outputs
        ggml_tensor * xin = io->with_context(ctx, x, pad_total, sn.pad);
        return codec_drop_front(ctx, codec_seanet_conv1d(ctx, sn, c, xin), pad_total / s);
    }
    if (io) {  // centered: a lagging conv (stream_io.h), the last block padded as the one-shot's end
        return codec_cm_conv1d(ctx, io->lagged_input(ctx, x, k_eff, s, left, right, sn.pad, true), c.w, c.b, s, 0, d);
    }
    ggml_tensor * y;
    if (s == 1 && left % d == 0 && T >= k_eff) {  // stride 1 needs no extra padding
        y = same_length_conv(ctx, x, c.w, c.b, d, left, right, sn.pad);
    } else {
        x = codec_pad_time_cm(ctx, x, left, right + codec_causal_extra_pad(T, (int) k_eff, s), sn.pad, codec_on_host(c.w));
        y = codec_cm_conv1d(ctx, x, c.w, c.b, s, 0, d);
    }
    return c.norm_w ? time_group_norm(ctx, y, c.norm_w, c.norm_b) : y;
}

ggml_tensor * codec_seanet_conv_in(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_conv & c, ggml_tensor * x,
                                   codec_stream_io * io) {
    if (io) {  // as codec_seanet_conv1d, on the time-major input seen channel-major
        const int64_t pad_total = sn.kernel - 1, left = pad_left(sn, pad_total), right = pad_total - left;
        const int64_t n = x->ne[0], ch = x->ne[1];
        ggml_tensor * xc = ch == 1 ? ggml_reshape_2d(ctx, x, 1, n) : ggml_cont(ctx, ggml_transpose(ctx, x));
        xc = sn.causal ? io->with_context(ctx, xc, pad_total, sn.pad)
                       : io->lagged_input(ctx, xc, sn.kernel, 1, left, right, sn.pad);  // padded: the outputs
        const int64_t m = xc->ne[1];                                                     // left .. m - right - 1
        if (!ggml_is_contiguous(xc)) xc = ggml_cont(ctx, xc);
        xc = ch == 1 ? ggml_reshape_2d(ctx, xc, m, 1) : ggml_cont(ctx, ggml_transpose(ctx, xc));
        if (sn.causal) return codec_drop_front(ctx, codec_seanet_conv_in(ctx, sn, c, xc), pad_total);
        codec_seanet zero_pad = sn;  // (its own padding reaches only the outputs dropped)
        zero_pad.pad = CODEC_PAD_CONSTANT;
        ggml_tensor * y = codec_seanet_conv_in(ctx, zero_pad, c, xc);
        return ggml_view_2d(ctx, y, y->ne[0], m - pad_total, y->nb[1], left * y->nb[1]);
    }
    const int64_t T = x->ne[0], B = x->ne[2], K8 = c.w->ne[0], cin = c.w->ne[1], cout = c.w->ne[2], K = sn.kernel;
    const int64_t left = pad_left(sn, K - 1), right = K - 1 - left;
    // Output t of the im2col reads frames t - p0 .. t - p0 + K8 - 1; the first K8 - K taps are zero.
    int64_t p0 = left + K8 - K;  // zeros: im2col's own (symmetric, >= right) padding
    if (sn.pad != CODEC_PAD_CONSTANT) {
        if (sn.pad == CODEC_PAD_REFLECT) {  // ggml reflects along ne0, which is time here
            const int64_t extra = std::max<int64_t>(0, std::max(left, right) - T + 1);  // as _pad1d
            if (extra > 0) x = ggml_pad_ext(ctx, x, 0, (int) extra, 0, 0, 0, 0, 0, 0);
            if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
            x = ggml_pad_reflect_1d(ctx, x, (int) left, (int) right);
            if (extra > 0) x = ggml_cont(ctx, ggml_view_3d(ctx, x, x->ne[0] - extra, x->ne[1], B, x->nb[1], x->nb[2], 0));
        } else {  // edge frames: pad channel-major ([T, 1, B] is [1, T, B] for mono)
            if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
            ggml_tensor * xc = cin == 1 ? ggml_reshape_3d(ctx, x, 1, T, B) : ggml_cont(ctx, ggml_transpose(ctx, x));
            xc = ggml_cont(ctx, codec_pad_time_cm(ctx, xc, left, right, sn.pad));
            x = cin == 1 ? ggml_reshape_3d(ctx, xc, xc->ne[1], 1, B) : ggml_cont(ctx, ggml_transpose(ctx, xc));
        }
        p0 = K8 - K;
    }
    ggml_tensor * col = ggml_im2col(ctx, c.w, x, 1, 0, (int) p0, 0, 1, 0, false, GGML_TYPE_F32);  // [K8 * Cin, >= T, B]
    ggml_tensor * y = codec_mul_mat_window(ctx, ggml_reshape_2d(ctx, c.w, K8 * cin, cout), col, 0, T);
    y = ggml_add(ctx, y, c.b);  // [Cout, T, B]
    return c.norm_w ? time_group_norm(ctx, y, c.norm_w, c.norm_b) : y;
}

ggml_tensor * codec_seanet_convt(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_conv & c, ggml_tensor * x,
                                 codec_stream_io * io) {
    const int s = c.stride;
    const int64_t L = x->ne[1], K = c.w->ne[2] * s, pad_total = K - s;
    // math.ceil(padding_total * trim_right_ratio), in double like Python
    const int64_t right = sn.causal ? (int64_t) std::ceil((double) pad_total * (double) sn.trim_right_ratio) : pad_total / 2;
    const int64_t left = pad_total - right, full = (L - 1) * s + K;
    if (io && left == 0 && !c.norm_w) {  // right-trimmed: output block m needs input frames m - K/s + 1 .. m
        const int64_t n = K / s - 1;
        ggml_tensor * y = codec_causal_conv_transpose1d(ctx, io->with_context(ctx, x, n, CODEC_PAD_CONSTANT), c.w, c.b, s);
        return codec_drop_front(ctx, y, n * s);
    }
    if (!c.norm_w) {
        if (left == 0) return codec_causal_conv_transpose1d(ctx, x, c.w, c.b, s);  // right-trimmed, no padded copy
        return codec_cm_conv_transpose1d(ctx, x, c.w, c.b, s, (int) left, full - pad_total);
    }
    ggml_tensor * y = codec_cm_conv_transpose1d(ctx, x, c.w, c.b, s, 0, full);
    y = time_group_norm(ctx, y, c.norm_w, c.norm_b);  // over the untrimmed output, as the reference
    if (pad_total == 0) return y;
    return ggml_cont(ctx, frames(ctx, y, left, full - pad_total));
}

ggml_tensor * codec_seanet_resblock_forward(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_resblock & r,
                                            ggml_tensor * x, bool cpu, codec_stream_io * io) {
    ggml_tensor * y = codec_seanet_conv1d(ctx, sn, r.conv1, codec_seanet_elu(ctx, x, cpu), io);
    y = codec_seanet_conv1d(ctx, sn, r.conv2, codec_seanet_elu(ctx, y, cpu), io);
    ggml_tensor * skip = r.shortcut.w ? codec_seanet_conv1d(ctx, sn, r.shortcut, x, io) : x;
    // A centered stream: the branch lags its input, the skip is held back to match.
    if (io && !sn.causal) skip = io->delayed(ctx, skip, y->ne[1]);
    return ggml_add(ctx, skip, y);
}

ggml_tensor * codec_seanet_encode(ggml_context * ctx, const codec_seanet & sn, const std::vector<codec_seanet_stage> & st,
                                  ggml_tensor * x, bool cpu, codec_stream_io * io) {
    for (const codec_seanet_stage & s : st) {
        for (const codec_seanet_resblock & r : s.res) x = codec_seanet_resblock_forward(ctx, sn, r, x, cpu, io);
        x = codec_seanet_conv1d(ctx, sn, s.conv, codec_seanet_elu(ctx, x, cpu), io);
    }
    return x;
}

ggml_tensor * codec_seanet_decode(ggml_context * ctx, const codec_seanet & sn, const std::vector<codec_seanet_stage> & st,
                                  ggml_tensor * x, bool cpu, codec_stream_io * io) {
    for (const codec_seanet_stage & s : st) {
        x = codec_seanet_convt(ctx, sn, s.conv, codec_seanet_elu(ctx, x, cpu), io);
        for (const codec_seanet_resblock & r : s.res) x = codec_seanet_resblock_forward(ctx, sn, r, x, cpu, io);
    }
    return x;
}

void codec_seanet_encoder_rf(const codec_seanet & sn, codec_rf_span & x) {
    const auto conv = [&](int k, int s, int d) {
        codec_rf_conv(x, k, s, d, (int) pad_left(sn, (int64_t) (k - 1) * d + 1 - s));
    };
    conv(sn.last_kernel, 1, 1);
    for (int32_t r : sn.ratios) {  // the encoder runs the ratios reversed: ratios[0] last
        conv(2 * r, r, 1);
        int d = 1;
        for (int j = 1; j < sn.n_res; ++j) d *= sn.growth;
        for (int j = sn.n_res; j-- > 0; d /= sn.growth) conv(sn.res_kernel, 1, d);  // the 1x1 convs add nothing
    }
    conv(sn.kernel, 1, 1);
}

// ---- loading

static void load_norm(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix, int cout,
                      codec_seanet_conv & c) {
    if (!sn.norm) return;
    c.norm_w = ld.tensor(prefix + ".norm.weight", {cout}, CODEC_W_F32);
    c.norm_b = ld.tensor(prefix + ".norm.bias", {cout}, CODEC_W_F32);
}

codec_seanet_conv codec_load_seanet_conv(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix,
                                         int k, int cin, int cout, int stride, int dilation) {
    codec_seanet_conv c;
    c.w = ld.tensor(prefix + ".conv.weight", {(int64_t) stride * cin, cout, k / stride}, CODEC_W_MATMUL);
    c.b = ld.tensor(prefix + ".conv.bias", {cout}, CODEC_W_F32);
    c.stride = stride;
    c.dilation = dilation;
    load_norm(ld, sn, prefix, cout, c);
    return c;
}

codec_seanet_conv codec_load_seanet_conv_in(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix,
                                            int k, int cin, int cout) {
    codec_seanet_conv c;
    c.w = ld.tensor(prefix + ".conv.weight", {(k + 7) / 8 * 8, cin, cout}, CODEC_W_F32);  // im2col runs in the weight's type
    c.b = ld.tensor(prefix + ".conv.bias", {cout}, CODEC_W_F32);
    load_norm(ld, sn, prefix, cout, c);
    return c;
}

codec_seanet_conv codec_load_seanet_convt(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix,
                                          int k, int cin, int cout, int stride) {
    codec_seanet_conv c;
    c.w = ld.tensor(prefix + ".conv.weight", {cin, (int64_t) stride * cout, k / stride}, CODEC_W_MATMUL);
    c.b = ld.tensor(prefix + ".conv.bias", {cout}, CODEC_W_F32);
    c.stride = stride;
    load_norm(ld, sn, prefix, cout, c);
    return c;
}

static codec_seanet_resblock load_resblock(codec_model_loader & ld, const codec_seanet & sn, const std::string & p, int dim,
                                           int dilation) {
    codec_seanet_resblock r;
    const int hidden = dim / sn.compress;
    r.conv1 = codec_load_seanet_conv(ld, sn, p + ".block.1", sn.res_kernel, dim, hidden, 1, dilation);
    r.conv2 = codec_load_seanet_conv(ld, sn, p + ".block.3", 1, hidden, dim);
    if (sn.conv_shortcut) r.shortcut = codec_load_seanet_conv(ld, sn, p + ".shortcut", 1, dim, dim);
    return r;
}

static void load_resblocks(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix, int & idx, int dim,
                           codec_seanet_stage & s) {
    for (int j = 0, d = 1; j < sn.n_res; ++j, d *= sn.growth) s.res.push_back(load_resblock(ld, sn, prefix + std::to_string(idx++), dim, d));
}

std::vector<codec_seanet_stage> codec_load_seanet_encoder(codec_model_loader & ld, const codec_seanet & sn,
                                                          const std::string & prefix, int & idx) {
    std::vector<codec_seanet_stage> st;
    int dim = sn.n_filters;
    for (auto it = sn.ratios.rbegin(); it != sn.ratios.rend(); ++it) {
        codec_seanet_stage s;
        load_resblocks(ld, sn, prefix, idx, dim, s);
        ++idx;  // ELU
        s.conv = codec_load_seanet_conv(ld, sn, prefix + std::to_string(idx++), 2 * *it, dim, 2 * dim, *it);
        dim *= 2;
        st.push_back(std::move(s));
    }
    return st;
}

std::vector<codec_seanet_stage> codec_load_seanet_decoder(codec_model_loader & ld, const codec_seanet & sn,
                                                          const std::string & prefix, int & idx) {
    std::vector<codec_seanet_stage> st;
    int dim = sn.n_filters << sn.ratios.size();
    for (int r : sn.ratios) {
        codec_seanet_stage s;
        ++idx;  // ELU
        s.conv = codec_load_seanet_convt(ld, sn, prefix + std::to_string(idx++), 2 * r, dim, dim / 2, r);
        dim /= 2;
        load_resblocks(ld, sn, prefix, idx, dim, s);
        st.push_back(std::move(s));
    }
    return st;
}
