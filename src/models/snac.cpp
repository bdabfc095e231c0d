// SNAC: DAC-style snake/conv encoder and decoder with depthwise residual units, optional local
// attention, noise blocks, and a multi-scale RVQ whose level q runs at 1/vq_strides[q] of the
// latent frame rate. Module tree mirrors snac/layers.py; tensor names are its state-dict keys.
// Activations are channel-major [C, T] (blocks/conv_cm.h): SNAC is mostly 1x1 and depthwise
// convs, which are then plain matrix products and row-broadcast scalings. A batch of B sequences
// (codec_arch_ops::batch) is [C, T, B] throughout; the quantizer's projections run per sequence
// ([D, T/s, B]: a sequence of one code stays a one-column product, as alone) and its code search
// and lookups over all frames ([T/s * B]); the windowed attention sees [C, T * B]: neither the
// windows (T is a multiple of the window) nor the pooling groups (T is a multiple of every
// stride) cross from one sequence into the next.
#include "snac.h"

#include "blocks/attention.h"
#include "blocks/centered_conv.h"
#include "blocks/conv_cm.h"
#include "blocks/receptive_field.h"
#include "blocks/rvq.h"
#include "ops/argmax_first.h"
#include "stream_io.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace {

struct snac_res_unit {  // ResidualUnit: snake, depthwise dilated conv k7, snake, 1x1 conv
    codec_snake_w snake1, snake2;
    codec_conv conv1, conv2;
    int dilation;
};

struct snac_enc_block {  // EncoderBlock: 3 residual units, snake, strided conv
    snac_res_unit res[3];
    codec_snake_w snake;
    codec_conv conv;
    int stride;
};

struct snac_dec_block {  // DecoderBlock: snake, transposed conv, noise block, 3 residual units
    codec_snake_w snake;
    codec_conv conv_t;
    snac_res_unit res[3];
    int stride;
};

struct snac_model {
    int32_t enc_dim = 0, dec_dim = 0, window = 0, dim_head = 0;
    std::vector<int32_t> enc_rates, dec_rates, vq_strides;
    int64_t pad_to = 0;  // encode pads the input to a multiple of hop * lcm(vq_strides[0], window)

    codec_conv enc_conv_in, enc_conv_out;  // conv k7; depthwise conv k7
    std::vector<snac_enc_block> enc_blocks;
    codec_local_mha enc_attn, dec_attn;

    std::vector<codec_vq_factorized> vq;

    codec_conv dec_conv_dw, dec_conv_in;  // depthwise conv k7; 1x1 conv latent -> decoder_dim
    std::vector<snac_dec_block> dec_blocks;
    codec_snake_w dec_snake;
    codec_conv dec_conv_out;
};

const int k_dilations[3] = {1, 3, 9};

int stride_pad(int stride) { return (stride + 1) / 2; }  // math.ceil(stride / 2)

snac_res_unit load_res_unit(codec_model_loader & ld, const std::string & p, int dim, int dilation) {
    snac_res_unit r;
    r.snake1 = codec_load_cm_snake(ld, p + ".block.0", dim);
    r.conv1  = codec_load_cm_dw(ld, p + ".block.1", 7, dim);
    r.snake2 = codec_load_cm_snake(ld, p + ".block.2", dim);
    r.conv2  = codec_load_cm_conv(ld, p + ".block.3", 1, 1, dim, dim);
    r.dilation = dilation;
    return r;
}

bool snac_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    snac_model & m = *(snac_model *) model.impl;
    codec_hparams & hp = model.hparams;
    if (!ld.get_i32("snac.encoder_dim", m.enc_dim, 1, 4096, err) ||
        !ld.get_i32_arr("snac.encoder_rates", m.enc_rates, 1, 8, 1, 64, err) ||
        !ld.get_i32("snac.decoder_dim", m.dec_dim, 1, 65536, err) ||
        !ld.get_i32_arr("snac.decoder_rates", m.dec_rates, 1, 8, 1, 64, err) ||
        !ld.get_i32_arr("snac.vq_strides", m.vq_strides, 1, 16, 1, 64, err) ||
        !ld.get_i32("snac.attn_window_size", m.window, 0, 4096, err) ||
        !ld.get_i32("snac.attn_dim_head", m.dim_head, 2, 1024, err)) {
        return false;
    }
    int64_t hop = 1, dec_hop = 1;
    for (int s : m.enc_rates) hop *= s;
    for (int s : m.dec_rates) dec_hop *= s;
    const int64_t latent = (int64_t) m.enc_dim << m.enc_rates.size();
    const auto bad = [&](const std::string & msg) { err = msg; return false; };
    if (hop != hp.hop_size) {
        return bad(codec_fmt("codec.hop_size = %d but snac.encoder_rates multiply to %lld", hp.hop_size, (long long) hop));
    }
    if (dec_hop != hop) {
        return bad(codec_fmt("snac.decoder_rates multiply to %lld, not the hop size %lld", (long long) dec_hop, (long long) hop));
    }
    if (latent != hp.latent_dim) {
        return bad(codec_fmt("codec.latent_dim = %d but the encoder produces %lld channels", hp.latent_dim, (long long) latent));
    }
    if ((int) m.vq_strides.size() != hp.n_q) {
        return bad(codec_fmt("codec.n_q = %d but snac.vq_strides has %zu levels", hp.n_q, m.vq_strides.size()));
    }
    for (size_t q = 0; q < m.vq_strides.size(); ++q) {  // level 0 is the coarsest: the padding relies on it
        if (m.vq_strides[0] % m.vq_strides[q] != 0) {
            return bad(codec_fmt("snac.vq_strides[%zu] = %d does not divide snac.vq_strides[0] = %d", q, m.vq_strides[q], m.vq_strides[0]));
        }
    }
    if (m.dec_dim % (1 << m.dec_rates.size()) != 0) {
        return bad("snac.decoder_dim is not divisible by 2^len(snac.decoder_rates)");
    }
    if (m.window > 0 && (m.dim_head % 2 != 0 || latent % m.dim_head != 0 || m.dec_dim % m.dim_head != 0)) {
        return bad(codec_fmt("snac.attn_dim_head = %d must be even and divide the attention widths %lld and %d",
                             m.dim_head, (long long) latent, m.dec_dim));
    }
    if (hp.channels != 1) return bad("SNAC is mono: codec.channels must be 1");
    m.pad_to = hop * std::lcm<int64_t>(m.vq_strides[0], m.window > 0 ? m.window : 1);
    if (m.pad_to > (1 << 24)) return bad(codec_fmt("padding unit hop * lcm(vq_strides[0], window) = %lld is implausible", (long long) m.pad_to));
    hp.multi_rate = true;

    const size_t n_enc = m.enc_rates.size(), n_dec = m.dec_rates.size();
    const int C = (int) latent, D = hp.codebook_dim, N = hp.codebook_size;
    if (hp.has_encoder) {
        m.enc_conv_in = codec_load_cm_mono(ld, "encoder.block.0", 7, m.enc_dim);
        for (size_t i = 0; i < n_enc; ++i) {
            const int dim = m.enc_dim << i;  // input width; the block doubles it
            const std::string p = "encoder.block." + std::to_string(i + 1) + ".block";
            snac_enc_block b;
            for (int r = 0; r < 3; ++r) b.res[r] = load_res_unit(ld, p + "." + std::to_string(r), dim, k_dilations[r]);
            b.snake  = codec_load_cm_snake(ld, p + ".3", dim);
            b.stride = m.enc_rates[i];
            b.conv   = codec_load_cm_conv(ld, p + ".4", 2 * b.stride, b.stride, dim, 2 * dim);
            m.enc_blocks.push_back(b);
        }
        std::string p = "encoder.block." + std::to_string(n_enc + 1);
        if (m.window > 0) {
            m.enc_attn = codec_load_local_mha(ld, p, C, m.window, m.dim_head);
            p = "encoder.block." + std::to_string(n_enc + 2);
        }
        m.enc_conv_out = codec_load_cm_dw(ld, p, 7, C);
    }
    for (int q = 0; q < hp.n_q; ++q) {
        const std::string p = "quantizer.quantizers." + std::to_string(q);
        codec_vq_factorized v;
        v.out_w    = ld.tensor(p + ".out_proj.weight", {D, C}, CODEC_W_MATMUL);
        v.out_b    = ld.tensor(p + ".out_proj.bias", {C}, CODEC_W_F32);
        v.codebook = ld.tensor(p + ".codebook.weight", {D, N}, CODEC_W_F32);
        if (hp.has_encoder) {
            v.in_w       = ld.tensor(p + ".in_proj.weight", {C, D}, CODEC_W_MATMUL);
            v.in_b       = ld.tensor(p + ".in_proj.bias", {D}, CODEC_W_F32);
            v.cb_norm    = ld.tensor(p + ".codebook.normalized", {D, N}, CODEC_W_F32);
            v.cb_norm_sq = ld.tensor(p + ".codebook.normalized_sq", {N}, CODEC_W_F32);
        }
        m.vq.push_back(v);
    }
    if (hp.has_decoder) {
        m.dec_conv_dw = codec_load_cm_dw(ld, "decoder.model.0", 7, C);
        m.dec_conv_in = codec_load_cm_conv(ld, "decoder.model.1", 1, 1, C, m.dec_dim);
        size_t layer = 2;
        if (m.window > 0) m.dec_attn = codec_load_local_mha(ld, "decoder.model." + std::to_string(layer++), m.dec_dim, m.window, m.dim_head);
        for (size_t i = 0; i < n_dec; ++i) {
            const int in = m.dec_dim >> i, out = m.dec_dim >> (i + 1);
            const std::string p = "decoder.model." + std::to_string(layer++) + ".block";
            snac_dec_block b;
            b.stride = m.dec_rates[i];
            b.snake  = codec_load_cm_snake(ld, p + ".0", in);
            b.conv_t = codec_load_cm_convt(ld, p + ".1", 2 * b.stride, b.stride, in, out);
            // block.2 is the NoiseBlock: with the zero-noise decode (codec.h) it is the identity,
            // so its weight is not read. The residual units follow it.
            for (int r = 0; r < 3; ++r) b.res[r] = load_res_unit(ld, p + "." + std::to_string(r + 3), out, k_dilations[r]);
            m.dec_blocks.push_back(b);
        }
        const int out_dim = m.dec_dim >> n_dec;
        m.dec_snake = codec_load_cm_snake(ld, "decoder.model." + std::to_string(layer++), out_dim);
        m.dec_conv_out = codec_load_cm_conv(ld, "decoder.model." + std::to_string(layer), 7, 1, out_dim, 1);
    }
    return true;
}

ggml_tensor * snake(ggml_context * ctx, const codec_model & model, ggml_tensor * x, const codec_snake_w & s) {
    return codec_snake(ctx, x, s, !model.on_gpu);
}

// io: a stream's state (null one-shot): every conv then carries its context (blocks/centered_conv.h).
ggml_tensor * res_unit(ggml_context * ctx, const codec_model & model, const snac_res_unit & r, ggml_tensor * x,
                       codec_stream_io * io) {
    ggml_tensor * y = snake(ctx, model, x, r.snake1);
    y = codec_centered_conv1d_dw(ctx, y, r.conv1.w, r.conv1.b, 3 * r.dilation, r.dilation, io);
    y = snake(ctx, model, y, r.snake2);
    y = codec_cm_conv1d(ctx, y, r.conv2.w, r.conv2.b, 1, 0, 1);
    return codec_residual_add(ctx, x, y, io);  // same length one-shot: the padding keeps it
}

// repeat_interleave(stride) along time of a channel-major [C, T] -> [C, T * stride]
// (T frames of B sequences back to back: each sequence's frames repeated in place).
ggml_tensor * repeat_frames(ggml_context * ctx, ggml_tensor * x, int stride) {
    if (stride == 1) return x;
    const int64_t C = x->ne[0], T = x->ne[1];
    ggml_tensor * x3 = ggml_reshape_3d(ctx, x, C, 1, T);
    ggml_tensor * r = ggml_repeat(ctx, x3, ggml_new_tensor_3d(ctx, x->type, C, stride, T));
    return ggml_reshape_2d(ctx, r, C, T * stride);
}

// The windowed attention on [C, T, B]: windows never span two sequences (T % window == 0), so
// the sequences back to back ([C, T * B]) are the same windows.
// Streamed, it runs on whole windows of the stream (the frames of a partial one wait).
ggml_tensor * local_attn(ggml_context * ctx, const codec_local_mha & a, ggml_tensor * x, codec_stream_io * io) {
    if (io) x = io->regroup(ctx, x, a.window);
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2];
    if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
    ggml_tensor * y = codec_local_mha_forward(ctx, a, ggml_reshape_2d(ctx, x, C, T * B));
    return ggml_reshape_3d(ctx, y, C, T, B);
}

// VectorQuantize.forward on the residual r [T, C, B]: average-pool by the stride, project, pick
// the nearest l2-normalized code (as blocks/rvq.cpp), project back and repeat to full rate
// ([C, T * B]). The codes: I32 [T/s * B], sequence after sequence.
ggml_tensor * vq_stage(ggml_context * ctx, const codec_vq_factorized & l, int stride, ggml_tensor * r,
                       bool need_out, ggml_tensor ** idx_out) {
    ggml_tensor * z = stride > 1 ? ggml_pool_1d(ctx, r, GGML_OP_POOL_AVG, stride, stride, 0) : r;
    z = ggml_cont(ctx, ggml_transpose(ctx, z));                                       // [C, T/s, B]
    const int64_t n = z->ne[1], B = z->ne[2];
    ggml_tensor * e = ggml_add(ctx, ggml_mul_mat(ctx, l.in_w, z), l.in_b);            // [D, T/s, B]
    ggml_tensor * norm = ggml_clamp(ctx, ggml_sqrt(ctx, ggml_sum_rows(ctx, ggml_sqr(ctx, e))), 1e-12f, INFINITY);
    ggml_tensor * en = ggml_div(ctx, e, norm);
    ggml_tensor * ec2 = ggml_scale(ctx, ggml_mul_mat(ctx, l.cb_norm, en), 2.0f);      // [N, T/s, B]
    ggml_tensor * dist = ggml_add(ctx, ggml_sub(ctx, ec2, ggml_sum_rows(ctx, ggml_sqr(ctx, en))), l.cb_norm_sq);
    ggml_tensor * idx = codec_argmax_first(ctx, ggml_reshape_2d(ctx, dist, dist->ne[0], n * B));  // [T/s * B], first on ties
    *idx_out = idx;
    if (!need_out) return nullptr;  // the last level's residual update is unused
    ggml_tensor * zq = ggml_reshape_3d(ctx, ggml_get_rows(ctx, l.codebook, idx), e->ne[0], n, B);  // [D, T/s, B]
    zq = ggml_add(ctx, e, ggml_sub(ctx, zq, e));  // straight-through form, as the reference rounds it
    ggml_tensor * out = ggml_add(ctx, ggml_mul_mat(ctx, l.out_w, zq), l.out_b);       // [C, T/s, B]
    return repeat_frames(ctx, ggml_reshape_2d(ctx, out, out->ne[0], n * B), stride);
}

bool snac_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const snac_model & m = *(const snac_model *) model.impl;
    ggml_context * ctx = g.ctx;
    const int64_t n_pad = (req.n_in + m.pad_to - 1) / m.pad_to * m.pad_to;  // SNAC.preprocess: right zero-pad
    ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, req.n_in, 1, "pcm", req.n_batch);  // [n_in, 1, B]
    if (n_pad > req.n_in) x = ggml_pad(ctx, x, (int) (n_pad - req.n_in), 0, 0, 0);
    // Streamed (io), blocks but the last hold whole units of hop * A samples (snac_stream), so
    // the padding above is the one-shot's.
    codec_stream_io * io = g.io;
    x = codec_centered_conv1d_mono(ctx, x, m.enc_conv_in.w, m.enc_conv_in.b, 3, 1, io);  // [C, T, B] from here on
    for (const auto & b : m.enc_blocks) {
        for (const auto & r : b.res) x = res_unit(ctx, model, r, x, io);
        x = snake(ctx, model, x, b.snake);
        x = codec_centered_conv1d(ctx, x, b.conv.w, b.conv.b, b.stride, stride_pad(b.stride), 1, io);
    }
    if (m.window > 0) x = local_attn(ctx, m.enc_attn, x, io);
    x = codec_centered_conv1d_dw(ctx, x, m.enc_conv_out.w, m.enc_conv_out.b, 3, 1, io);  // [latent, T, B]
    if (io) x = io->regroup(ctx, x, m.vq_strides[0]);  // whole pooling groups of every level
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2];

    // The quantizer's average pooling runs over time: keep its residual time-major ([T, C, B]).
    ggml_tensor * residual = ggml_cont(ctx, ggml_transpose(ctx, x));
    for (int q = 0; q < req.n_q; ++q) {
        ggml_tensor * idx = nullptr;
        ggml_tensor * out = vq_stage(ctx, m.vq[q], m.vq_strides[q], residual, q + 1 < req.n_q, &idx);
        codec_graph_output(g, ggml_reshape_2d(ctx, idx, T / m.vq_strides[q], B), "codes");  // [T/s, B]
        if (out) residual = ggml_sub(ctx, residual, ggml_transpose(ctx, ggml_reshape_3d(ctx, out, C, T, B)));
    }
    (void) err;
    return true;
}

// Checks the code levels' lengths against the strides: level q holds n / vq_strides[q] codes.
bool check_levels(const snac_model & m, const codec_graph_request & req, int64_t & n, std::string & err) {
    if (req.row_len.empty()) {
        err = "SNAC codes are levels of different lengths: decode them with codec_decode_codes (row_len set)";
        return false;
    }
    n = (int64_t) req.row_len[0] * m.vq_strides[0];
    for (int q = 0; q < req.n_q; ++q) {
        if ((int64_t) req.row_len[q] * m.vq_strides[q] != n) {
            err = codec_fmt("code level %d has %d codes, expected %lld (level 0 has %d; vq_strides[%d] = %d)", q,
                            req.row_len[q], (long long) (n / m.vq_strides[q]), req.row_len[0], q, m.vq_strides[q]);
            return false;
        }
    }
    return true;
}

bool snac_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const snac_model & m = *(const snac_model *) model.impl;
    ggml_context * ctx = g.ctx;
    int64_t n = req.n_frames;
    ggml_tensor * x;
    if (req.kind == CODEC_GRAPH_DECODE) {
        if (!check_levels(m, req, n, err)) return false;
        if (m.window > 0 && n % m.window != 0) {
            err = codec_fmt("%lld latent frames is not a multiple of the attention window %d: level 0 needs a multiple of %d codes",
                            (long long) n, m.window, (int) (std::lcm<int64_t>(m.window, m.vq_strides[0]) / m.vq_strides[0]));
            return false;
        }
        int64_t total = 0;
        for (int q = 0; q < req.n_q; ++q) total += req.row_len[q];
        // Levels back to back, one sequence after another: [total, 1, B].
        ggml_tensor * codes = codec_graph_input(g, GGML_TYPE_I32, total, 1, "codes", req.n_batch);
        const int64_t B = req.n_batch;
        ggml_tensor * sum = nullptr;
        int64_t off = 0;
        for (int q = 0; q < req.n_q; ++q) {  // ResidualVectorQuantize.from_codes
            const codec_vq_factorized & l = m.vq[q];
            const int64_t len = req.row_len[q];
            ggml_tensor * row = B == 1 ? ggml_view_1d(ctx, codes, len, off * ggml_element_size(codes))
                                       : ggml_reshape_1d(ctx, ggml_cont(ctx, ggml_view_2d(ctx, codes, len, B, codes->nb[2],
                                                                                          off * ggml_element_size(codes))),
                                                         len * B);  // [len * B], sequence after sequence
            off += len;
            ggml_tensor * zq = ggml_get_rows(ctx, l.codebook, row);                     // [D, len * B]
            zq = ggml_reshape_3d(ctx, zq, zq->ne[0], len, B);                           // the product per sequence
            ggml_tensor * out = ggml_add(ctx, ggml_mul_mat(ctx, l.out_w, zq), l.out_b); // [C, len, B]
            out = repeat_frames(ctx, ggml_reshape_2d(ctx, out, out->ne[0], len * B), m.vq_strides[q]);  // [C, n * B]
            sum = sum ? ggml_add(ctx, sum, out) : out;
        }
        x = ggml_reshape_3d(ctx, sum, sum->ne[0], n, B);  // [C, n, B]
    } else {
        if (m.window > 0 && n % m.window != 0) {
            err = codec_fmt("%lld latent frames is not a multiple of the attention window %d", (long long) n, m.window);
            return false;
        }
        ggml_tensor * lat = codec_graph_input(g, GGML_TYPE_F32, n, req.latent_dim, "latent");  // PyTorch's [C, T]
        x = ggml_cont(ctx, ggml_transpose(ctx, lat));
    }
    codec_stream_io * io = g.io;
    x = codec_centered_conv1d_dw(ctx, x, m.dec_conv_dw.w, m.dec_conv_dw.b, 3, 1, io);
    x = codec_cm_conv1d(ctx, x, m.dec_conv_in.w, m.dec_conv_in.b, 1, 0, 1);
    if (m.window > 0) x = local_attn(ctx, m.dec_attn, x, io);
    for (const auto & b : m.dec_blocks) {
        x = snake(ctx, model, x, b.snake);
        // ConvTranspose1d(k = 2s, padding = ceil(s/2), output_padding = s % 2): T*s samples.
        const int p = stride_pad(b.stride);
        x = codec_centered_conv_transpose1d(ctx, x, b.conv_t.w, b.conv_t.b, b.stride, p, b.stride - p, io);
        for (const auto & r : b.res) x = res_unit(ctx, model, r, x, io);
    }
    x = snake(ctx, model, x, m.dec_snake);
    x = codec_centered_conv1d(ctx, x, m.dec_conv_out.w, m.dec_conv_out.b, 1, 3, 1, io);  // [1, T, B]: also [T, 1, B]
    codec_graph_output(g, ggml_reshape_3d(ctx, ggml_tanh(ctx, x), x->ne[1], 1, x->ne[2]), "pcm");
    return true;
}

size_t snac_graph_size(const codec_model & model, const codec_graph_request & req) {
    const snac_model & m = *(const snac_model *) model.impl;
    // Generous per-module bounds (a residual unit makes ~25 tensors, attention ~40, a VQ level
    // ~30); only sizes the probe context, the built graph is sized exactly.
    const size_t blocks = m.enc_blocks.size() + m.dec_blocks.size();
    return 256 + blocks * 4 * 48 + (size_t) req.n_q * 48;
}

// Residual unit: the dilated k7 conv (padding 3d) widens by 3d each side; the 1x1 conv and the skip add nothing.
void rf_res(codec_rf_span & x) { for (int r = 2; r >= 0; --r) codec_rf_conv(x, 7, 1, k_dilations[r], 3 * k_dilations[r]); }

// Not causal (centered convs, attention within windows), streamed with carried state
// (blocks/centered_conv.h): every conv computes the outputs whose window is complete; the
// attention runs on whole windows and the quantizer on whole pooling groups, the frames of a
// partial one waiting for the next block (codec_stream_io::regroup). Blocks hold whole units of
// A = lcm(vq_strides[0], attn window) latent frames, so the attention's windows (positions
// relative within each) and the quantizer's pooling groups (every stride divides vq_strides[0])
// are the one-shot's, and the flushed block pads as SNAC.preprocess does (to hop * A samples).
// The output lags by the receptive field of one unit of frames [0, A), derived from the layers,
// in whole frames past the unit:
//   encode: latent frames [0, A) back through conv_out, the attention (whole windows), each
//           block's strided conv and res units, and conv_in to samples [lo, hi]:
//           right = ceil((hi - (A * hop - 1)) / hop) (24 kHz: [-4757, 6804], 10 + 10 frames;
//           32/44 kHz: [-14735, 27020], 39 + 39);
//   decode: the samples of [0, A) back through conv_out, each block's res units and transposed
//           conv, the attention, and the depthwise conv to latent frames [lo, hi]:
//           right = hi - (A - 1) (24 kHz: 10 + 10; 32/44 kHz: 35 + 35).
// left (= -lo frames) is what the state holds. The first block needs A + right frames, rounded
// up to A. Codes of level q are vq_strides[q] frames each. The noise blocks add zeros (codec.h).
void snac_stream(const codec_model & model, bool encode, codec_stream_spec & spec) {
    const snac_model & m = *(const snac_model *) model.impl;
    const int64_t hop = model.hparams.hop_size, W = m.window > 0 ? m.window : 1;
    const int64_t A = std::lcm<int64_t>(m.vq_strides[0], W);
    const auto rf_attn = [&](codec_rf_span & x) { x = {codec_floor_div(x.lo, W) * W, codec_floor_div(x.hi, W) * W + W - 1}; };
    codec_rf_span x;
    if (encode) {
        x = {0, A - 1};          // the quantizer reads groups inside the unit: nothing more
        codec_rf_conv(x, 7, 1, 1, 3);  // conv_out (depthwise)
        rf_attn(x);
        for (size_t i = m.enc_rates.size(); i-- > 0;) {
            codec_rf_conv(x, 2 * m.enc_rates[i], m.enc_rates[i], 1, stride_pad(m.enc_rates[i]));
            rf_res(x);
        }
        codec_rf_conv(x, 7, 1, 1, 3);  // conv_in
        const codec_rf_span f = codec_rf_frames(x, hop, A);
        spec.left = f.lo;
        spec.right = f.hi;
    } else {
        x = {0, A * hop - 1};
        codec_rf_conv(x, 7, 1, 1, 3);  // conv_out
        for (size_t i = m.dec_rates.size(); i-- > 0;) {
            rf_res(x);  // (the noise block before them is the identity)
            codec_rf_convt(x, 2 * m.dec_rates[i], m.dec_rates[i], stride_pad(m.dec_rates[i]));
        }
        rf_attn(x);
        codec_rf_conv(x, 7, 1, 1, 3);  // the depthwise conv (the 1x1 conv after it adds nothing)
        spec.left = -x.lo;
        spec.right = x.hi - (A - 1);
    }
    spec.kind = CODEC_STREAM_KIND_STATEFUL;
    spec.left = std::max<int64_t>(0, spec.left);
    spec.right = std::max<int64_t>(0, spec.right);
    spec.lookahead = spec.right;
    spec.first_frames = codec_ceil_div(A + spec.right, A) * A;
    spec.align = A;
    spec.row_stride.assign(m.vq_strides.begin(), m.vq_strides.end());
}

void * snac_create() { return new snac_model(); }
void snac_destroy(void * p) { delete (snac_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_snac = {
    "snac", snac_create, snac_destroy, snac_init, snac_encode, snac_decode, snac_graph_size, snac_stream,
    /*batch =*/ CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE,
};
