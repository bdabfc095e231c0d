// Mimi: causal SEANet encoder -> 8-layer transformer -> stride-2 downsample -> split RVQ
// (semantic + acoustic Euclidean codebooks with 1x1 projections) -> depthwise transposed
// upsample -> transformer -> causal SEANet decoder. Module tree mirrors transformers'
// modeling_mimi.py; tensor names are the published checkpoint's (quantizer names shortened).
#include "mimi.h"

#include "blocks/causal_conv.h"
#include "blocks/conv.h"  // codec_conv
#include "blocks/transformer.h"
#include "blocks/vq_euclidean.h"

namespace {

struct mimi_resnet {  // MimiResnetBlock: x + conv(elu(conv(elu(x))))
    codec_conv conv1, conv2;  // block.1 (k = residual_kernel_size, dilated), block.3 (k = 1)
    int dilation = 1;
};

struct mimi_enc_stage {  // resnets, ELU, strided conv
    std::vector<mimi_resnet> res;
    codec_conv down;
    int stride = 1;
};

struct mimi_dec_stage {  // ELU, transposed conv, resnets
    codec_conv up;
    std::vector<mimi_resnet> res;
    int stride = 1;
};

struct mimi_rvq {  // MimiResidualVectorQuantizer
    ggml_tensor * input_proj = nullptr;   // [C, D]
    ggml_tensor * output_proj = nullptr;  // [D, C]
    std::vector<codec_vq_euclidean> layers;
};

struct mimi_model {
    int32_t n_filters = 0, kernel = 0, last_kernel = 0, res_kernel = 0, n_res = 0, growth = 0, compress = 0;
    int32_t stride = 0, n_layer = 0, n_head = 0, head_dim = 0, ffn = 0, window = 0, n_sem = 0;
    float eps = 0.0f, rope_theta = 0.0f;
    std::vector<int32_t> ratios;  // decoder order; the encoder runs them reversed
    codec_pad_mode pad = CODEC_PAD_CONSTANT;

    codec_conv enc_in, enc_out;
    std::vector<mimi_enc_stage> enc;
    codec_transformer enc_tr;
    ggml_tensor * downsample = nullptr;  // [2s, C, C], replicate-padded causal conv, no bias

    mimi_rvq semantic, acoustic;

    ggml_tensor * upsample = nullptr;  // [1, C, 2s] depthwise transposed conv taps
    codec_transformer dec_tr;
    codec_conv dec_in, dec_out;
    std::vector<mimi_dec_stage> dec;
};

// Conv weights in causal_conv.h's channel-major layout [s * Cin, Cout, K / s], biases [Cout].
codec_conv load_conv(codec_model_loader & ld, const std::string & p, int k, int stride, int cin, int cout, bool bias = true) {
    codec_conv c;
    c.w = ld.tensor(p + ".weight", {(int64_t) stride * cin, cout, k / stride}, CODEC_W_MATMUL);
    if (bias) c.b = ld.tensor(p + ".bias", {cout}, CODEC_W_F32);
    return c;
}

mimi_resnet load_resnet(codec_model_loader & ld, const std::string & p, const mimi_model & m, int dim, int dilation) {
    mimi_resnet r;
    r.conv1 = load_conv(ld, p + ".block.1.conv", m.res_kernel, 1, dim, dim / m.compress);
    r.conv2 = load_conv(ld, p + ".block.3.conv", 1, 1, dim / m.compress, dim);
    r.dilation = dilation;
    return r;
}

bool mimi_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    mimi_model & m = *(mimi_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    std::string pad_mode;
    if (!ld.get_i32("mimi.num_filters", m.n_filters, 1, 4096, err) ||
        !ld.get_i32_arr("mimi.upsampling_ratios", m.ratios, 1, 8, 1, 64, err) ||
        !ld.get_i32("mimi.kernel_size", m.kernel, 1, 64, err) ||
        !ld.get_i32("mimi.last_kernel_size", m.last_kernel, 1, 64, err) ||
        !ld.get_i32("mimi.residual_kernel_size", m.res_kernel, 1, 64, err) ||
        !ld.get_i32("mimi.num_residual_layers", m.n_res, 0, 8, err) ||
        !ld.get_i32("mimi.dilation_growth_rate", m.growth, 1, 16, err) ||
        !ld.get_i32("mimi.compress", m.compress, 1, 64, err) ||
        !ld.get_str("mimi.pad_mode", pad_mode, err) ||
        !ld.get_i32("mimi.downsample_stride", m.stride, 1, 64, err) ||
        !ld.get_i32("mimi.num_hidden_layers", m.n_layer, 0, 64, err) ||
        !ld.get_i32("mimi.num_attention_heads", m.n_head, 1, 256, err) ||
        !ld.get_i32("mimi.head_dim", m.head_dim, 2, 1024, err) ||
        !ld.get_i32("mimi.intermediate_size", m.ffn, 1, 1 << 18, err) ||
        !ld.get_i32("mimi.sliding_window", m.window, 0, 1 << 24, err) ||
        !ld.get_f32("mimi.norm_eps", m.eps, err) ||
        !ld.get_f32("mimi.rope_theta", m.rope_theta, err) ||
        !ld.get_i32("mimi.num_semantic_quantizers", m.n_sem, 1, hp.n_q - 1, err)) {
        return false;
    }
    if (pad_mode == "constant") m.pad = CODEC_PAD_CONSTANT;
    else if (pad_mode == "replicate") m.pad = CODEC_PAD_REPLICATE;
    else {
        err = "mimi.pad_mode '" + pad_mode + "' is not supported (constant or replicate)";
        return false;
    }
    if (m.head_dim % 2 != 0) { err = "mimi.head_dim must be even (RoPE rotates pairs)"; return false; }
    if (!(m.eps > 0.0f) || !(m.rope_theta > 0.0f)) { err = "mimi.norm_eps and mimi.rope_theta must be > 0"; return false; }
    int64_t hop = m.stride;
    for (int r : m.ratios) hop *= r;
    if (hop != hp.hop_size) {
        err = codec_fmt("codec.hop_size = %d but mimi.upsampling_ratios x mimi.downsample_stride = %lld", hp.hop_size, (long long) hop);
        return false;
    }
    const int64_t top = (int64_t) m.n_filters << m.ratios.size();  // SEANet channels at the latent rate
    if (top > 65536) { err = "mimi.num_filters x 2^len(mimi.upsampling_ratios) is too large"; return false; }
    for (int64_t c = m.n_filters; c <= top; c *= 2) {
        if (c % m.compress != 0) { err = "SEANet channel counts are not divisible by mimi.compress"; return false; }
    }
    const int C = hp.latent_dim, D = hp.codebook_dim, N = hp.codebook_size, ch = hp.channels;

    ggml_tensor * inv_freq = ld.tensor("rope.inv_freq", {m.head_dim / 2}, CODEC_W_F32);
    for (codec_transformer * tr : {&m.enc_tr, &m.dec_tr}) {
        tr->n_head = m.n_head;
        tr->head_dim = m.head_dim;
        tr->eps = m.eps;
        tr->window = m.window;
        tr->inv_freq = inv_freq;
    }

    if (hp.has_encoder) {
        int i = 0, dim = m.n_filters;
        if (ch == 1) {  // mono: PyTorch's layout through an F32 im2col, taps zero-padded to a multiple of 8
            m.enc_in.w = ld.tensor("encoder.layers.0.conv.weight", {(m.kernel + 7) / 8 * 8, 1, dim}, CODEC_W_F32);
            m.enc_in.b = ld.tensor("encoder.layers.0.conv.bias", {dim}, CODEC_W_F32);
        } else {
            m.enc_in = load_conv(ld, "encoder.layers.0.conv", m.kernel, 1, ch, dim);
        }
        ++i;
        for (auto it = m.ratios.rbegin(); it != m.ratios.rend(); ++it) {
            mimi_enc_stage s;
            s.stride = *it;
            for (int j = 0, d = 1; j < m.n_res; ++j, d *= m.growth) {
                s.res.push_back(load_resnet(ld, "encoder.layers." + std::to_string(i++), m, dim, d));
            }
            ++i;  // ELU
            s.down = load_conv(ld, "encoder.layers." + std::to_string(i++) + ".conv", 2 * s.stride, s.stride, dim, 2 * dim);
            dim *= 2;
            m.enc.push_back(s);
        }
        ++i;  // ELU
        m.enc_out = load_conv(ld, "encoder.layers." + std::to_string(i) + ".conv", m.last_kernel, 1, dim, C);
        codec_load_transformer(ld, "encoder_transformer", m.enc_tr, m.n_layer, C, m.ffn, true);
        m.downsample = load_conv(ld, "downsample.conv", 2 * m.stride, m.stride, C, C, false).w;
        m.semantic.input_proj = ld.tensor("quantizer.semantic.input_proj.weight", {C, D}, CODEC_W_MATMUL);
        m.acoustic.input_proj = ld.tensor("quantizer.acoustic.input_proj.weight", {C, D}, CODEC_W_MATMUL);
    }
    for (int q = 0; q < hp.n_q; ++q) {
        const bool sem = q < m.n_sem;
        const int j = sem ? q : q - m.n_sem;
        const std::string p = std::string("quantizer.") + (sem ? "semantic" : "acoustic") + ".layers." + std::to_string(j);
        (sem ? m.semantic : m.acoustic).layers.push_back(codec_load_vq_euclidean(ld, p, D, N));
    }
    if (hp.has_decoder) {
        m.semantic.output_proj = ld.tensor("quantizer.semantic.output_proj.weight", {D, C}, CODEC_W_MATMUL);
        m.acoustic.output_proj = ld.tensor("quantizer.acoustic.output_proj.weight", {D, C}, CODEC_W_MATMUL);
        m.upsample = ld.tensor("upsample.conv.weight", {C, 2 * m.stride}, CODEC_W_F32);
        codec_load_transformer(ld, "decoder_transformer", m.dec_tr, m.n_layer, C, m.ffn, true);
        int i = 0, dim = (int) top;
        m.dec_in = load_conv(ld, "decoder.layers.0.conv", m.kernel, 1, C, dim);
        ++i;
        for (int r : m.ratios) {
            mimi_dec_stage s;
            s.stride = r;
            ++i;  // ELU
            const std::string p = "decoder.layers." + std::to_string(i++) + ".conv";
            s.up.w = ld.tensor(p + ".weight", {dim, (int64_t) r * (dim / 2), 2}, CODEC_W_MATMUL);  // [Cin, s * Cout, K / s]
            s.up.b = ld.tensor(p + ".bias", {dim / 2}, CODEC_W_F32);
            dim /= 2;
            for (int j = 0, d = 1; j < m.n_res; ++j, d *= m.growth) {
                s.res.push_back(load_resnet(ld, "decoder.layers." + std::to_string(i++), m, dim, d));
            }
            m.dec.push_back(s);
        }
        ++i;  // ELU
        m.dec_out = load_conv(ld, "decoder.layers." + std::to_string(i) + ".conv", m.last_kernel, 1, dim, ch);
    }
    return true;
}

ggml_tensor * resnet(ggml_context * ctx, const mimi_resnet & r, ggml_tensor * x, codec_pad_mode pad) {
    ggml_tensor * y = codec_causal_conv1d(ctx, ggml_elu(ctx, x), r.conv1.w, r.conv1.b, 1, r.dilation, pad);
    y = codec_causal_conv1d(ctx, ggml_elu(ctx, y), r.conv2.w, r.conv2.b, 1, 1, pad);
    return ggml_add(ctx, x, y);
}

// Time-major [T, C] (the API's PCM) <-> channel-major [C, T] (everything inside); free for mono.
ggml_tensor * transpose(ggml_context * ctx, ggml_tensor * x) {
    if (x->ne[0] == 1 || x->ne[1] == 1) return ggml_reshape_2d(ctx, x, x->ne[1], x->ne[0]);
    return ggml_cont(ctx, ggml_transpose(ctx, x));
}

bool mimi_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const mimi_model & m = *(const mimi_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    if (req.n_q < m.n_sem) {
        err = codec_fmt("n_q = %d: this model always encodes its %d semantic codebooks", req.n_q, m.n_sem);
        return false;
    }
    ggml_context * ctx = g.ctx;
    ggml_tensor * x = transpose(ctx, codec_graph_input(g, GGML_TYPE_F32, req.n_in, hp.channels, "pcm"));  // [ch, T]
    x = hp.channels == 1 ? codec_causal_conv1d_mono(ctx, x, m.enc_in.w, m.enc_in.b, 1, m.pad)
                         : codec_causal_conv1d(ctx, x, m.enc_in.w, m.enc_in.b, 1, 1, m.pad);
    for (const mimi_enc_stage & s : m.enc) {
        for (const mimi_resnet & r : s.res) x = resnet(ctx, r, x, m.pad);
        x = codec_causal_conv1d(ctx, ggml_elu(ctx, x), s.down.w, s.down.b, s.stride, 1, m.pad);
    }
    x = codec_causal_conv1d(ctx, ggml_elu(ctx, x), m.enc_out.w, m.enc_out.b, 1, 1, m.pad);  // [C, T]
    x = codec_transformer_forward(ctx, m.enc_tr, x);
    ggml_tensor * latent = codec_causal_conv1d(ctx, x, m.downsample, nullptr, m.stride, 1, CODEC_PAD_REPLICATE);  // as the reference

    std::vector<ggml_tensor *> codes;
    codec_rvq_euclidean_encode(ctx, m.semantic.layers, m.n_sem, ggml_mul_mat(ctx, m.semantic.input_proj, latent), codes);
    if (req.n_q > m.n_sem) {
        codec_rvq_euclidean_encode(ctx, m.acoustic.layers, req.n_q - m.n_sem,
                                   ggml_mul_mat(ctx, m.acoustic.input_proj, latent), codes);
    }
    for (ggml_tensor * c : codes) codec_graph_output(g, c, "codes");
    return true;
}

bool mimi_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const mimi_model & m = *(const mimi_model *) model.impl;
    ggml_context * ctx = g.ctx;
    ggml_tensor * x;  // [C, T]
    if (req.kind == CODEC_GRAPH_DECODE) {
        ggml_tensor * codes = codec_graph_input(g, GGML_TYPE_I32, req.n_frames, req.n_q, "codes");
        const int n_sem = std::min(req.n_q, m.n_sem);
        ggml_tensor * z = ggml_mul_mat(ctx, m.semantic.output_proj,
                                       codec_rvq_euclidean_decode(ctx, m.semantic.layers, codes, 0, n_sem));
        if (req.n_q > m.n_sem) {
            ggml_tensor * a = codec_rvq_euclidean_decode(ctx, m.acoustic.layers, codes, m.n_sem, req.n_q - m.n_sem);
            z = ggml_add(ctx, z, ggml_mul_mat(ctx, m.acoustic.output_proj, a));
        }
        x = z;
    } else {
        x = transpose(ctx, codec_graph_input(g, GGML_TYPE_F32, req.n_frames, req.latent_dim, "latent"));
    }
    x = codec_causal_conv_transpose1d_dw(ctx, x, m.upsample, m.stride);
    x = codec_transformer_forward(ctx, m.dec_tr, x);
    x = codec_causal_conv1d(ctx, x, m.dec_in.w, m.dec_in.b, 1, 1, m.pad);
    for (const mimi_dec_stage & s : m.dec) {
        x = codec_causal_conv_transpose1d(ctx, ggml_elu(ctx, x), s.up.w, s.up.b, s.stride);
        for (const mimi_resnet & r : s.res) x = resnet(ctx, r, x, m.pad);
    }
    x = codec_causal_conv1d(ctx, ggml_elu(ctx, x), m.dec_out.w, m.dec_out.b, 1, 1, m.pad);  // [ch, N]
    codec_graph_output(g, transpose(ctx, x), "pcm");
    return true;
}

size_t mimi_graph_size(const codec_model & model, const codec_graph_request & req) {
    const mimi_model & m = *(const mimi_model *) model.impl;
    // Generous per-module bounds (about twice the counts): a causal conv makes <= 13 tensors, a
    // resnet <= 30, a stage <= 30 + resnets, a transformer layer ~65, a VQ stage 10, an upsample
    // phase 7. Sizes only the probe build; the final graph is sized exactly.
    const size_t stages = m.ratios.size() * (size_t) (30 + m.n_res * 30);
    return 512 + 4 * stages + 2 * (size_t) m.n_layer * 130 + (size_t) req.n_q * 24 + (size_t) m.stride * 16;
}

void * mimi_create() { return new mimi_model(); }
void mimi_destroy(void * p) { delete (mimi_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_mimi = {
    "mimi", mimi_create, mimi_destroy, mimi_init, mimi_encode, mimi_decode, mimi_graph_size,
};
