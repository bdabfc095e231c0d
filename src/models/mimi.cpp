// Mimi: causal SEANet encoder -> 8-layer transformer -> stride-2 downsample -> split RVQ
// (semantic + acoustic Euclidean codebooks with 1x1 projections) -> depthwise transposed
// upsample -> transformer -> causal SEANet decoder. Module tree mirrors transformers'
// modeling_mimi.py; tensor names are the published checkpoint's (quantizer names shortened).
// Batches of same-length inputs run as one graph, activations [C, T, B] throughout.
// Pocket TTS's Mimi (arch pocket_mimi, transformers PocketTTSAudioTokenizerModel) is the same
// model without a quantizer: the downsample (stride 16) outputs a continuous latent (32 channels,
// 12.5 Hz), the decoder projects it back to the hidden size (latent_proj, 1x1) before the
// upsample; GELU-tanh MLPs; the converter renames its tensors to Mimi's flat layout.
#include "mimi.h"

#include "blocks/causal_conv.h"
#include "blocks/conv_cm.h"
#include "blocks/seanet.h"
#include "blocks/transformer.h"
#include "blocks/vq_euclidean.h"
#include "stream_io.h"

bool codec_mimi_load(codec_mimi & m, codec_model_loader & ld, const codec_hparams & hp, std::string & err) {
    std::string pad_mode;
    if (!ld.get_i32("mimi.num_filters", m.sn.n_filters, 1, 4096, err) ||
        !ld.get_i32_arr("mimi.upsampling_ratios", m.sn.ratios, 1, 8, 1, 64, err) ||
        !ld.get_i32("mimi.kernel_size", m.sn.kernel, 1, 64, err) ||
        !ld.get_i32("mimi.last_kernel_size", m.sn.last_kernel, 1, 64, err) ||
        !ld.get_i32("mimi.residual_kernel_size", m.sn.res_kernel, 1, 64, err) ||
        !ld.get_i32("mimi.num_residual_layers", m.sn.n_res, 0, 8, err) ||
        !ld.get_i32("mimi.dilation_growth_rate", m.sn.growth, 1, 16, err) ||
        !ld.get_i32("mimi.compress", m.sn.compress, 1, 64, err) ||
        !ld.get_str("mimi.pad_mode", pad_mode, err) ||
        !ld.get_i32("mimi.downsample_stride", m.stride, 1, 64, err) ||
        !ld.get_i32("mimi.num_hidden_layers", m.n_layer, 0, 64, err) ||
        !ld.get_i32("mimi.num_attention_heads", m.n_head, 1, 256, err) ||
        !ld.get_i32("mimi.head_dim", m.head_dim, 2, 1024, err) ||
        !ld.get_i32("mimi.intermediate_size", m.ffn, 1, 1 << 18, err) ||
        !ld.get_i32("mimi.sliding_window", m.window, 0, 1 << 24, err) ||
        !ld.get_f32("mimi.norm_eps", m.eps, err) ||
        !ld.get_f32("mimi.rope_theta", m.rope_theta, err) ||
        (m.latent == 0 && !ld.get_i32("mimi.num_semantic_quantizers", m.n_sem, 1, hp.n_q - 1, err))) {
        return false;
    }
    if (m.latent > 0) {  // continuous: the transformers' activation is a key (gelu or gelu_pytorch_tanh)
        std::string act;
        if (!ld.get_str("mimi.hidden_act", act, err)) return false;
        if (act == "gelu_pytorch_tanh") m.gelu_tanh = true;
        else if (act != "gelu") {
            err = "mimi.hidden_act '" + act + "' is not supported (gelu or gelu_pytorch_tanh)";
            return false;
        }
    }
    if (pad_mode == "constant") m.sn.pad = CODEC_PAD_CONSTANT;
    else if (pad_mode == "replicate") m.sn.pad = CODEC_PAD_REPLICATE;
    else {
        err = "mimi.pad_mode '" + pad_mode + "' is not supported (constant or replicate)";
        return false;
    }
    if (m.head_dim % 2 != 0) { err = "mimi.head_dim must be even (RoPE rotates pairs)"; return false; }
    if (!(m.eps > 0.0f) || !(m.rope_theta > 0.0f)) { err = "mimi.norm_eps and mimi.rope_theta must be > 0"; return false; }
    int64_t hop = m.stride;
    for (int r : m.sn.ratios) hop *= r;
    if (hop != hp.hop_size) {
        err = codec_fmt("codec.hop_size = %d but mimi.upsampling_ratios x mimi.downsample_stride = %lld", hp.hop_size, (long long) hop);
        return false;
    }
    const int64_t top = (int64_t) m.sn.n_filters << m.sn.ratios.size();  // SEANet channels at the latent rate
    if (top > 65536) { err = "mimi.num_filters x 2^len(mimi.upsampling_ratios) is too large"; return false; }
    for (int64_t c = m.sn.n_filters; c <= top; c *= 2) {
        if (c % m.sn.compress != 0) { err = "SEANet channel counts are not divisible by mimi.compress"; return false; }
    }
    const int C = hp.latent_dim, D = hp.codebook_dim, N = hp.codebook_size, ch = hp.channels;

    ggml_tensor * inv_freq = ld.tensor("rope.inv_freq", {m.head_dim / 2}, CODEC_W_F32);
    for (codec_transformer * tr : {&m.enc_tr, &m.dec_tr}) {
        tr->n_head = m.n_head;
        tr->head_dim = m.head_dim;
        tr->eps = m.eps;
        tr->window = m.window;
        tr->inv_freq = inv_freq;
        tr->gelu_tanh = m.gelu_tanh;
    }
    const int L = m.latent > 0 ? m.latent : C;  // the downsample's output channels

    if (hp.has_encoder) {  // MimiEncoder.layers: conv, stages, ELU, conv
        m.enc_in = codec_load_seanet_conv_in(ld, m.sn, "encoder.layers.0", m.sn.kernel, ch, m.sn.n_filters);
        int i = 1;
        m.enc = codec_load_seanet_encoder(ld, m.sn, "encoder.layers.", i);
        m.enc_out = codec_load_seanet_conv(ld, m.sn, "encoder.layers." + std::to_string(i + 1), m.sn.last_kernel, (int) top, C);
        codec_load_transformer(ld, "encoder_transformer", m.enc_tr, m.n_layer, C, m.ffn, true);
        m.downsample = codec_load_cm_conv(ld, "downsample.conv", 2 * m.stride, m.stride, C, L, false).w;
        if (m.latent == 0) {
            m.semantic.input_proj = ld.tensor("quantizer.semantic.input_proj.weight", {C, D}, CODEC_W_MATMUL);
            m.acoustic.input_proj = ld.tensor("quantizer.acoustic.input_proj.weight", {C, D}, CODEC_W_MATMUL);
        }
    }
    for (int q = 0; m.latent == 0 && q < hp.n_q; ++q) {
        const bool sem = q < m.n_sem;
        const int j = sem ? q : q - m.n_sem;
        const std::string p = std::string("quantizer.") + (sem ? "semantic" : "acoustic") + ".layers." + std::to_string(j);
        (sem ? m.semantic : m.acoustic).layers.push_back(codec_load_vq_euclidean(ld, p, D, N));
    }
    if (hp.has_decoder) {
        if (m.latent == 0) {
            m.semantic.output_proj = ld.tensor("quantizer.semantic.output_proj.weight", {D, C}, CODEC_W_MATMUL);
            m.acoustic.output_proj = ld.tensor("quantizer.acoustic.output_proj.weight", {D, C}, CODEC_W_MATMUL);
        } else {
            m.latent_proj = ld.tensor("latent_proj.weight", {m.latent, C}, CODEC_W_MATMUL);
        }
        m.upsample = ld.tensor("upsample.conv.weight", {C, 2 * m.stride}, CODEC_W_F32);
        codec_load_transformer(ld, "decoder_transformer", m.dec_tr, m.n_layer, C, m.ffn, true);
        m.dec_in = codec_load_seanet_conv(ld, m.sn, "decoder.layers.0", m.sn.kernel, C, (int) top);
        int i = 1;
        m.dec = codec_load_seanet_decoder(ld, m.sn, "decoder.layers.", i);  // MimiDecoder.layers: conv, stages, ELU, conv
        m.dec_out = codec_load_seanet_conv(ld, m.sn, "decoder.layers." + std::to_string(i + 1), m.sn.last_kernel, m.sn.n_filters, ch);
    }
    return true;
}

namespace {

bool mimi_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    return codec_mimi_load(*(codec_mimi *) model.impl, ld, model.hparams, err);
}

// Time-major [T, C] (the API's PCM) <-> channel-major [C, T] (everything inside), or [.., .., B]
// for a batch; free for mono.
ggml_tensor * transpose(ggml_context * ctx, ggml_tensor * x) {
    if (x->ne[0] == 1 || x->ne[1] == 1) return ggml_reshape_3d(ctx, x, x->ne[1], x->ne[0], x->ne[2]);
    return ggml_cont(ctx, ggml_transpose(ctx, x));
}

bool mimi_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const codec_mimi & m = *(const codec_mimi *) model.impl;
    const codec_hparams & hp = model.hparams;
    if ((m.latent > 0) != (req.kind == CODEC_GRAPH_ENCODE_LATENT)) {
        err = m.latent > 0 ? "this model encodes to continuous latents (codec_encode_latent)" : "this model encodes to codes";
        return false;
    }
    if (m.latent > 0) {  // [latent, frames] -> the API's row-major [latent_dim][n_frames] (ggml [frames, latent])
        ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, req.n_in, hp.channels, "pcm");
        codec_graph_output(g, transpose(g.ctx, codec_mimi_encode_latent(g.ctx, m, x, !model.on_gpu, g.io)), "latent");
        return true;
    }
    if (req.n_q < m.n_sem) {
        err = codec_fmt("n_q = %d: this model always encodes its %d semantic codebooks", req.n_q, m.n_sem);
        return false;
    }
    ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, req.n_in, hp.channels, "pcm", req.n_batch);  // time-major [T, ch, B]
    std::vector<ggml_tensor *> codes;
    codec_mimi_encode_codes(g.ctx, m, x, req.n_q, !model.on_gpu, g.io, codes);
    const int64_t B = req.n_batch;
    for (ggml_tensor * c : codes) codec_graph_output(g, B > 1 ? ggml_reshape_2d(g.ctx, c, c->ne[0] / B, B) : c, "codes");
    return true;
}

}  // namespace

ggml_tensor * codec_mimi_encode_latent(ggml_context * ctx, const codec_mimi & m, ggml_tensor * x, bool cpu,
                                       codec_stream_io * io) {
    x = codec_seanet_encode(ctx, m.sn, m.enc, codec_seanet_conv_in(ctx, m.sn, m.enc_in, x, io), cpu, io);
    x = codec_seanet_conv1d(ctx, m.sn, m.enc_out, codec_seanet_elu(ctx, x, cpu), io);  // [C, T, B]
    x = codec_transformer_forward(ctx, m.enc_tr, x, io);
    return codec_causal_conv1d(ctx, x, m.downsample, nullptr, m.stride, 1, CODEC_PAD_REPLICATE, io);  // as the reference
}

void codec_mimi_encode_codes(ggml_context * ctx, const codec_mimi & m, ggml_tensor * x, int n_q, bool cpu,
                             codec_stream_io * io, std::vector<ggml_tensor *> & codes) {
    ggml_tensor * latent = codec_mimi_encode_latent(ctx, m, x, cpu, io);

    codec_rvq_euclidean_encode(ctx, m.semantic.layers, m.n_sem, ggml_mul_mat(ctx, m.semantic.input_proj, latent), codes);
    if (n_q > m.n_sem) {
        codec_rvq_euclidean_encode(ctx, m.acoustic.layers, n_q - m.n_sem,
                                   ggml_mul_mat(ctx, m.acoustic.input_proj, latent), codes);
    }
}

// Causal throughout (convs padded on the left only): state carried between blocks, any block
// size. The downsample's replicate padding needs only the first frame, so the first block may be
// one frame. With a sliding window a block's queries see window - 1 cached keys plus the block's
// own: blocks of up to one window (in frames: the transformers run at stride x the frame rate)
// keep that linear. Without one the KV cache grows to every past frame.
void codec_mimi_stream_spec(const codec_mimi & m, codec_stream_spec & spec) {
    if (m.window == 1 && m.n_layer > 0) {
        spec.why = "its transformer's sliding window is 1 frame (mimi.sliding_window), which no stream state carries";
        return;
    }
    spec.kind = CODEC_STREAM_KIND_STATEFUL;
    spec.first_frames = 1;
    if (m.window > 0 || m.n_layer == 0) {
        spec.max_block = std::max<int64_t>(1, m.window / m.stride);
    } else {
        spec.kv_per_frame = m.stride;
    }
}

namespace {

bool mimi_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const codec_mimi & m = *(const codec_mimi *) model.impl;
    ggml_context * ctx = g.ctx;
    const bool cpu = !model.on_gpu;
    ggml_tensor * x;  // [C, T, B]
    if (m.latent > 0 && req.kind != CODEC_GRAPH_DECODE_LATENT) {
        err = "this model decodes continuous latents (codec_decode_latent), not codes: it has no codebook";
        return false;
    }
    if (req.kind == CODEC_GRAPH_DECODE) {
        ggml_tensor * codes = codec_graph_input(g, GGML_TYPE_I32, req.n_frames, req.n_q, "codes", req.n_batch);
        const int n_sem = std::min(req.n_q, m.n_sem);
        // [D, F * B] -> [D, F, B]: the projections per sequence, as alone
        const auto sum = [&](const codec_mimi_rvq & rvq, int row0, int n) {
            ggml_tensor * e = codec_rvq_euclidean_decode(ctx, rvq.layers, codes, row0, n);
            return ggml_mul_mat(ctx, rvq.output_proj, ggml_reshape_3d(ctx, e, e->ne[0], req.n_frames, req.n_batch));
        };
        ggml_tensor * z = sum(m.semantic, 0, n_sem);
        if (req.n_q > m.n_sem) z = ggml_add(ctx, z, sum(m.acoustic, m.n_sem, req.n_q - m.n_sem));
        x = z;
    } else {  // [T, latent, B] -> [latent, T, B]
        x = transpose(ctx, codec_graph_input(g, GGML_TYPE_F32, req.n_frames, req.latent_dim, "latent", req.n_batch));
        if (m.latent_proj) x = ggml_mul_mat(ctx, m.latent_proj, x);  // [latent, T, B] -> [C, T, B]
    }
    codec_stream_io * io = g.io;
    x = codec_causal_conv_transpose1d_dw(ctx, x, m.upsample, m.stride, io);
    x = codec_transformer_forward(ctx, m.dec_tr, x, io);
    x = codec_seanet_decode(ctx, m.sn, m.dec, codec_seanet_conv1d(ctx, m.sn, m.dec_in, x, io), cpu, io);
    x = codec_seanet_conv1d(ctx, m.sn, m.dec_out, codec_seanet_elu(ctx, x, cpu), io);  // [ch, N, B]
    codec_graph_output(g, transpose(ctx, x), "pcm");
    return true;
}

size_t mimi_graph_size(const codec_model & model, const codec_graph_request & req) {
    const codec_mimi & m = *(const codec_mimi *) model.impl;
    // Generous per-module bounds (about twice the counts): a causal conv makes <= 13 tensors, a
    // resnet <= 30, a stage <= 30 + resnets, a transformer layer ~65, a VQ stage 10, an upsample
    // phase 7. Sizes only the probe build; the final graph is sized exactly.
    const size_t stages = m.sn.ratios.size() * (size_t) (30 + m.sn.n_res * 30);
    const size_t n = 512 + 4 * stages + 2 * (size_t) m.n_layer * 130 + (size_t) req.n_q * 24 + (size_t) m.stride * 16;
    return req.stream ? 2 * n : n;  // streaming: context concats, state writes, the KV-cache mask
}

void mimi_stream(const codec_model & model, bool, codec_stream_spec & spec) {
    codec_mimi_stream_spec(*(const codec_mimi *) model.impl, spec);
}

void * mimi_create() { return new codec_mimi(); }
void mimi_destroy(void * p) { delete (codec_mimi *) p; }

// Pocket TTS's Mimi: codec.latent_dim is the continuous latent's, mimi.hidden_size the model's.
bool pocket_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    codec_mimi & m = *(codec_mimi *) model.impl;
    codec_hparams & hp = model.hparams;
    int32_t hidden = 0;
    if (!ld.get_i32("mimi.hidden_size", hidden, 1, 8192, err)) return false;
    hp.continuous = true;
    m.latent = hp.latent_dim;
    codec_hparams mhp = hp;  // the Mimi part's view: latent_dim is its hidden size
    mhp.latent_dim = hidden;
    if (!codec_mimi_load(m, ld, mhp, err)) return false;
    hp.n_q = hp.codebook_size = 0;  // no codebook (the file's codec.n_q / codebook_size are placeholders)
    return true;
}

}  // namespace

const codec_arch_ops codec_arch_mimi = {
    "mimi", mimi_create, mimi_destroy, mimi_init, mimi_encode, mimi_decode, mimi_graph_size, mimi_stream,
    /*batch =*/ CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE | CODEC_BATCH_DECODE_LATENT,
};

const codec_arch_ops codec_arch_pocket_mimi = {
    "pocket_mimi", mimi_create, mimi_destroy, pocket_init, mimi_encode, mimi_decode, mimi_graph_size, mimi_stream,
    /*batch =*/ CODEC_BATCH_DECODE_LATENT,
};
