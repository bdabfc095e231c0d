// DAC: snake/conv SEANet-like encoder and decoder around a factorized RVQ.
// Module tree mirrors transformers' modeling_dac.py; tensor names are its state-dict keys.
#include "dac.h"

#include "blocks/centered_conv.h"
#include "blocks/conv_cm.h"
#include "blocks/receptive_field.h"
#include "blocks/rvq.h"

#include <algorithm>
#include <cmath>

namespace {

struct dac_res_unit {
    codec_snake_w snake1, snake2;
    codec_conv conv1, conv2;
    int dilation;
};

struct dac_enc_block {
    dac_res_unit res[3];
    codec_snake_w snake1;
    codec_conv conv1;
    int stride;
};

struct dac_dec_block {
    codec_snake_w snake1;
    codec_conv conv_t1;
    dac_res_unit res[3];
    int stride;
};

struct dac_model {
    int32_t enc_hidden = 0, dec_hidden = 0;
    std::vector<int32_t> down, up;  // encoder strides, decoder strides

    codec_conv enc_conv1, enc_conv2;
    std::vector<dac_enc_block> enc_blocks;
    codec_snake_w enc_snake;

    std::vector<codec_vq_factorized> vq;

    codec_conv dec_conv1, dec_conv2;
    std::vector<dac_dec_block> dec_blocks;
    codec_snake_w dec_snake;
};

const int k_dilations[3] = {1, 3, 9};

dac_res_unit load_res_unit(codec_model_loader & ld, const std::string & p, int dim, int dilation) {
    dac_res_unit r;
    r.snake1 = codec_load_cm_snake(ld, p + ".snake1", dim);
    r.conv1  = codec_load_cm_conv(ld, p + ".conv1", 7, 1, dim, dim);
    r.snake2 = codec_load_cm_snake(ld, p + ".snake2", dim);
    r.conv2  = codec_load_cm_conv(ld, p + ".conv2", 1, 1, dim, dim);
    r.dilation = dilation;
    return r;
}

bool dac_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    dac_model & m = *(dac_model *) model.impl;
    codec_hparams & hp = model.hparams;
    if (!ld.get_i32("dac.encoder_hidden_size", m.enc_hidden, 1, 4096, err) ||
        !ld.get_i32("dac.decoder_hidden_size", m.dec_hidden, 1, 65536, err) ||
        !ld.get_i32_arr("dac.downsampling_ratios", m.down, 1, 8, 1, 64, err) ||
        !ld.get_i32_arr("dac.upsampling_ratios", m.up, 1, 8, 1, 64, err)) {
        return false;
    }
    int64_t hop = 1;
    for (int s : m.down) hop *= s;
    const int64_t hidden = (int64_t) m.enc_hidden << m.down.size();
    if (hop != hp.hop_size) {
        err = "codec.hop_size = " + std::to_string(hp.hop_size) + " but dac.downsampling_ratios multiply to " + std::to_string(hop);
        return false;
    }
    if (hidden != hp.latent_dim) {
        err = "codec.latent_dim = " + std::to_string(hp.latent_dim) + " but the encoder produces " + std::to_string(hidden);
        return false;
    }
    if (m.dec_hidden % (1 << m.up.size()) != 0) {
        err = "dac.decoder_hidden_size is not divisible by 2^len(dac.upsampling_ratios)";
        return false;
    }
    if (hp.channels != 1) {
        err = "DAC is mono: codec.channels must be 1";
        return false;
    }

    if (hp.has_encoder) {
        m.enc_conv1 = codec_load_cm_mono(ld, "encoder.conv1", 7, m.enc_hidden);
        for (size_t i = 0; i < m.down.size(); ++i) {
            const int dim = m.enc_hidden << (i + 1);
            const std::string p = "encoder.block." + std::to_string(i);
            dac_enc_block b;
            for (int r = 0; r < 3; ++r) {
                b.res[r] = load_res_unit(ld, p + ".res_unit" + std::to_string(r + 1), dim / 2, k_dilations[r]);
            }
            b.snake1 = codec_load_cm_snake(ld, p + ".snake1", dim / 2);
            b.stride = m.down[i];
            b.conv1  = codec_load_cm_conv(ld, p + ".conv1", 2 * b.stride, b.stride, dim / 2, dim);
            m.enc_blocks.push_back(b);
        }
        m.enc_snake = codec_load_cm_snake(ld, "encoder.snake1", (int) hidden);
        m.enc_conv2 = codec_load_cm_conv(ld, "encoder.conv2", 3, 1, (int) hidden, (int) hidden);
    }
    const int C = (int) hidden, D = hp.codebook_dim, N = hp.codebook_size;
    for (int q = 0; q < hp.n_q; ++q) {
        const std::string p = "quantizer.quantizers." + std::to_string(q);
        codec_vq_factorized v;
        v.out_w      = ld.tensor(p + ".out_proj.weight", {D, C}, CODEC_W_MATMUL);
        v.out_b      = ld.tensor(p + ".out_proj.bias", {C}, CODEC_W_F32);
        v.codebook   = ld.tensor(p + ".codebook.weight", {D, N}, CODEC_W_F32);
        if (hp.has_encoder) {  // the search side of the quantizer
            v.in_w       = ld.tensor(p + ".in_proj.weight", {C, D}, CODEC_W_MATMUL);
            v.in_b       = ld.tensor(p + ".in_proj.bias", {D}, CODEC_W_F32);
            v.cb_norm    = ld.tensor(p + ".codebook.normalized", {D, N}, CODEC_W_F32);
            v.cb_norm_sq = ld.tensor(p + ".codebook.normalized_sq", {N}, CODEC_W_F32);
        }
        m.vq.push_back(v);
    }

    if (hp.has_decoder) {
        m.dec_conv1 = codec_load_cm_conv(ld, "decoder.conv1", 7, 1, C, m.dec_hidden);
        for (size_t i = 0; i < m.up.size(); ++i) {
            const int in = m.dec_hidden >> i, out = m.dec_hidden >> (i + 1);
            const std::string p = "decoder.block." + std::to_string(i);
            dac_dec_block b;
            b.stride  = m.up[i];
            b.snake1  = codec_load_cm_snake(ld, p + ".snake1", in);
            b.conv_t1 = codec_load_cm_convt(ld, p + ".conv_t1", 2 * b.stride, b.stride, in, out);
            for (int r = 0; r < 3; ++r) {
                b.res[r] = load_res_unit(ld, p + ".res_unit" + std::to_string(r + 1), out, k_dilations[r]);
            }
            m.dec_blocks.push_back(b);
        }
        const int out_dim = m.dec_hidden >> m.up.size();
        m.dec_snake = codec_load_cm_snake(ld, "decoder.snake1", out_dim);
        m.dec_conv2 = codec_load_cm_conv(ld, "decoder.conv2", 7, 1, out_dim, 1);
    }
    return true;
}

ggml_tensor * snake(ggml_context * ctx, const codec_model & model, ggml_tensor * x, const codec_snake_w & s) {
    return codec_snake(ctx, x, s, !model.on_gpu);
}

// io: a stream's state (null one-shot): every conv then carries its context (blocks/centered_conv.h).
ggml_tensor * res_unit(ggml_context * ctx, const codec_model & model, const dac_res_unit & r, ggml_tensor * x,
                       codec_stream_io * io) {
    ggml_tensor * y = snake(ctx, model, x, r.snake1);
    y = codec_centered_conv1d(ctx, y, r.conv1.w, r.conv1.b, 1, 3 * r.dilation, r.dilation, io);
    y = snake(ctx, model, y, r.snake2);
    y = codec_cm_conv1d(ctx, y, r.conv2.w, r.conv2.b, 1, 0, 1);
    return codec_residual_add(ctx, x, y, io);  // same length one-shot: the padding keeps it
}

int down_pad(int stride) { return (stride + 1) / 2; }  // math.ceil(stride / 2)

bool dac_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const dac_model & m = *(const dac_model *) model.impl;
    // Reject inputs too short for a stride-conv kernel up front, as the reference would fail.
    int64_t n = req.n_in;
    for (const auto & b : m.enc_blocks) {
        n = codec_conv1d_out_len(n, 2 * b.stride, b.stride, 1, 2 * down_pad(b.stride));
        if (n < 1) {
            err = "input of " + std::to_string(req.n_in) + " samples is too short for this model";
            return false;
        }
    }
    ggml_context * ctx = g.ctx;
    ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, req.n_in, 1, "pcm", req.n_batch);
    codec_stream_io * io = g.io;
    x = codec_centered_conv1d_mono(ctx, x, m.enc_conv1.w, m.enc_conv1.b, 3, 1, io);  // [C, T, B] from here on
    for (const auto & b : m.enc_blocks) {
        for (const auto & r : b.res) x = res_unit(ctx, model, r, x, io);
        x = snake(ctx, model, x, b.snake1);
        x = codec_centered_conv1d(ctx, x, b.conv1.w, b.conv1.b, b.stride, down_pad(b.stride), 1, io);
    }
    x = snake(ctx, model, x, m.enc_snake);
    x = codec_centered_conv1d(ctx, x, m.enc_conv2.w, m.enc_conv2.b, 1, 1, 1, io);  // [latent, T, B]
    const int64_t T = x->ne[1], B = x->ne[2];

    std::vector<ggml_tensor *> codes;
    codec_rvq_factorized_encode(ctx, m.vq, req.n_q, ggml_reshape_2d(ctx, x, x->ne[0], T * B), codes);
    for (ggml_tensor * c : codes) codec_graph_output(g, ggml_reshape_2d(ctx, c, T, B), "codes");
    return true;
}

bool dac_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const dac_model & m = *(const dac_model *) model.impl;
    ggml_context * ctx = g.ctx;
    ggml_tensor * x;
    if (req.kind == CODEC_GRAPH_DECODE) {
        ggml_tensor * codes = codec_graph_input(g, GGML_TYPE_I32, req.n_frames, req.n_q, "codes", req.n_batch);
        x = ggml_reshape_3d(ctx, codec_rvq_factorized_decode(ctx, m.vq, codes), m.vq[0].out_b->ne[0], req.n_frames, req.n_batch);
    } else {
        ggml_tensor * lat = codec_graph_input(g, GGML_TYPE_F32, req.n_frames, req.latent_dim, "latent");  // PyTorch's [C, T]
        x = ggml_cont(ctx, ggml_transpose(ctx, lat));
    }
    codec_stream_io * io = g.io;
    x = codec_centered_conv1d(ctx, x, m.dec_conv1.w, m.dec_conv1.b, 1, 3, 1, io);
    for (const auto & b : m.dec_blocks) {
        x = snake(ctx, model, x, b.snake1);
        // ConvTranspose1d(k = 2s, padding = ceil(s/2)): (T + 1) * s - 2 * ceil(s/2) samples.
        x = codec_centered_conv_transpose1d(ctx, x, b.conv_t1.w, b.conv_t1.b, b.stride, down_pad(b.stride), down_pad(b.stride), io);
        for (const auto & r : b.res) x = res_unit(ctx, model, r, x, io);
    }
    x = snake(ctx, model, x, m.dec_snake);
    x = codec_centered_conv1d(ctx, x, m.dec_conv2.w, m.dec_conv2.b, 1, 3, 1, io);  // [1, T, B]: also [T, 1, B]
    codec_graph_output(g, ggml_reshape_3d(ctx, ggml_tanh(ctx, x), x->ne[1], 1, x->ne[2]), "pcm");
    return true;
}

size_t dac_graph_size(const codec_model & model, const codec_graph_request & req) {
    const dac_model & m = *(const dac_model *) model.impl;
    // Generous per-module bounds (a res unit makes ~40 tensors, a VQ stage ~20); only sizes
    // the probe context, the built graph is sized exactly.
    const size_t blocks = m.enc_blocks.size() + m.dec_blocks.size();
    return 256 + blocks * 4 * 64 + (size_t) req.n_q * 32;
}

// Residual unit: the dilated k7 conv (padding 3d) widens by 3d each side; the 1x1 conv and the skip add nothing.
void rf_res(codec_rf_span & x) { for (int r = 2; r >= 0; --r) codec_rf_conv(x, 7, 1, k_dilations[r], 3 * k_dilations[r]); }

// Not causal (centered convs), streamed with carried state (blocks/centered_conv.h): every conv
// computes the outputs whose window is complete, so the stream lags by the receptive field of one
// frame, derived from the layers (strides from the hparams), in whole frames each side:
//   encode: latent frame 0 (samples [0, hop)) back through conv2, each block's strided conv and
//           res units, and conv1 to input samples [lo, hi]: left = ceil(-lo / hop),
//           right = ceil((hi - (hop - 1)) / hop) (44 kHz: [-3733, 4244]: 8 + 8 frames;
//           16/24 kHz: [-2501, 2812]: 8 + 8);
//   decode: the output samples of frame 0 back through conv2, each block's res units and
//           transposed conv, and conv1 to latent frames [lo, hi]: left = -lo, right = hi
//           (all three published configs: 10 + 10 frames).
// The first block needs right + 1 frames: then every layer has a complete window. Every strided
// layer's stride divides the hop, so blocks of whole frames keep each layer's lag constant.
void dac_stream(const codec_model & model, bool encode, codec_stream_spec & spec) {
    const dac_model & m = *(const dac_model *) model.impl;
    const int64_t hop = model.hparams.hop_size;
    codec_rf_span x;
    if (encode) {
        x = {0, 0};
        codec_rf_conv(x, 3, 1, 1, 1);  // conv2
        for (size_t i = m.down.size(); i-- > 0;) {
            codec_rf_conv(x, 2 * m.down[i], m.down[i], 1, down_pad(m.down[i]));
            rf_res(x);
        }
        codec_rf_conv(x, 7, 1, 1, 3);  // conv1
        const codec_rf_span f = codec_rf_frames(x, hop);
        spec.left = f.lo;
        spec.right = f.hi;
    } else {
        x = {0, hop - 1};
        codec_rf_conv(x, 7, 1, 1, 3);  // conv2
        for (size_t i = m.up.size(); i-- > 0;) {
            rf_res(x);
            codec_rf_convt(x, 2 * m.up[i], m.up[i], down_pad(m.up[i]));
        }
        codec_rf_conv(x, 7, 1, 1, 3);  // conv1 (the quantizer's projections are per frame)
        spec.left = -x.lo;
        spec.right = x.hi;
    }
    spec.kind = CODEC_STREAM_KIND_STATEFUL;
    spec.left = std::max<int64_t>(0, spec.left);
    spec.right = std::max<int64_t>(0, spec.right);
    spec.lookahead = spec.right;
    spec.first_frames = spec.right + 1;
    spec.align = 1;
}

void * dac_create() { return new dac_model(); }
void dac_destroy(void * p) { delete (dac_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_dac = {
    "dac", dac_create, dac_destroy, dac_init, dac_encode, dac_decode, dac_graph_size, dac_stream,
    /*batch =*/ CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE,
};
