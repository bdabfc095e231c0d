// Qwen3-TTS-Tokenizer-12Hz: a Mimi encoder (the first 16 of its 32 codes kept) and its own
// decoder (qwen-tts `Qwen3TTSTokenizerV2Decoder`):
//   split RVQ decode (1 semantic + 15 acoustic, 2048 x 256, 1x1 output projections to 512)
//   -> causal conv k3 (512 -> 1024) -> input_proj -> 8 Llama-style layers (RMSNorm, RoPE, causal
//   sliding window 72, SwiGLU, layer scale) -> RMSNorm -> output_proj
//   -> 2 x (transposed conv k = s = 2, causal ConvNeXt) -> causal conv k7 (1024 -> 1536)
//   -> 4 DAC-style blocks (SnakeBeta, causal transposed conv k = 2s, 3 residual units with
//   dilations 1, 3, 9) -> SnakeBeta -> causal conv k7 -> clamp to [-1, 1].
// The public decode (chunked_decode) runs the decoder on chunks of 300 frames, each with 25
// frames of left context whose output is dropped; one-shot decode does the same, so long inputs
// equal the reference's. SnakeBeta is the Snake block with the converter's exp(alpha) and
// 1 / (exp(beta) + 1e-9). Batches: [C, T, B] throughout, each sequence computed as alone.
#include "qwen3_tokenizer.h"

#include "blocks/causal_conv.h"
#include "blocks/conv_cm.h"
#include "blocks/convnext.h"
#include "blocks/transformer.h"
#include "blocks/vq_euclidean.h"
#include "mimi.h"
#include "stream_io.h"

#include <algorithm>

namespace {

struct q3_resunit { codec_snake_w act1, act2; codec_conv conv1, conv2; int dilation = 1; };
struct q3_block { codec_snake_w act; codec_conv up; int stride = 1; std::vector<q3_resunit> res; };

struct q3_model {
    codec_mimi enc;  // the Mimi encoder (mimi.* keys)
    // decoder
    int32_t vq_dim = 0, dec_cb_dim = 0, dec_latent = 0, hidden = 0, n_layer = 0, ffn = 0, n_sem = 1;
    int32_t decoder_dim = 0, chunk = 0, chunk_left = 0;
    std::vector<int32_t> up_ratios, up_rates;
    codec_mimi_rvq semantic, acoustic;
    codec_conv pre_conv, in_proj, out_proj, conv_in, conv_out;
    codec_transformer tr;
    ggml_tensor * tr_norm = nullptr;
    std::vector<codec_conv> up;
    std::vector<codec_convnext> cnx;
    std::vector<q3_block> blocks;
    codec_snake_w act_out;
};

bool q3_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    q3_model & m = *(q3_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    int32_t n_head = 0, head_dim = 0, window = 0;
    float eps = 0.0f, theta = 0.0f;
    if (!ld.get_i32("qwen3.vq_dim", m.vq_dim, 1, 4096, err) ||
        !ld.get_i32("qwen3.latent_dim", m.dec_latent, 1, 8192, err) ||
        !ld.get_i32("qwen3.hidden_size", m.hidden, 1, 8192, err) ||
        !ld.get_i32("qwen3.num_hidden_layers", m.n_layer, 0, 64, err) ||
        !ld.get_i32("qwen3.num_attention_heads", n_head, 1, 256, err) ||
        !ld.get_i32("qwen3.head_dim", head_dim, 2, 1024, err) ||
        !ld.get_i32("qwen3.intermediate_size", m.ffn, 1, 1 << 18, err) ||
        !ld.get_i32("qwen3.sliding_window", window, 1, 1 << 20, err) ||
        !ld.get_f32("qwen3.rms_norm_eps", eps, err) ||
        !ld.get_f32("qwen3.rope_theta", theta, err) ||
        !ld.get_i32_arr("qwen3.upsampling_ratios", m.up_ratios, 0, 8, 1, 64, err) ||
        !ld.get_i32_arr("qwen3.upsample_rates", m.up_rates, 1, 8, 1, 64, err) ||
        !ld.get_i32("qwen3.decoder_dim", m.decoder_dim, 1, 1 << 16, err) ||
        !ld.get_i32("qwen3.chunk_size", m.chunk, 1, 1 << 20, err) ||
        !ld.get_i32("qwen3.chunk_left_context", m.chunk_left, 0, 1 << 20, err)) {
        return false;
    }
    if (head_dim % 2 != 0 || !(eps > 0.0f) || !(theta > 0.0f)) { err = "qwen3.head_dim must be even, qwen3.rms_norm_eps and qwen3.rope_theta > 0"; return false; }
    if (m.chunk_left >= m.chunk) { err = "qwen3.chunk_left_context must be < qwen3.chunk_size"; return false; }
    int64_t hop = 1;
    for (int r : m.up_ratios) hop *= r;
    for (int r : m.up_rates) hop *= r;
    if (hop != hp.hop_size) { err = codec_fmt("codec.hop_size = %d but the decoder upsamples by %lld", hp.hop_size, (long long) hop); return false; }
    if ((m.decoder_dim >> m.up_rates.size()) < 1 || (m.decoder_dim % (1 << m.up_rates.size())) != 0) { err = "qwen3.decoder_dim is not divisible by 2^len(qwen3.upsample_rates)"; return false; }

    // The encoder: a Mimi with hp's n_q kept codebooks of codec.codebook_dim, latent = its hidden size.
    codec_hparams ehp = hp;
    ehp.has_decoder = false;
    int32_t enc_hidden = 0;
    if (!ld.get_i32("mimi.hidden_size", enc_hidden, 1, 8192, err)) return false;
    ehp.latent_dim = enc_hidden;
    if (hp.has_encoder && !codec_mimi_load(m.enc, ld, ehp, err)) return false;
    if (!hp.has_decoder) return true;

    const int D = m.vq_dim, C = hp.latent_dim, N = hp.codebook_size, L = m.dec_latent, H = m.hidden;
    for (int q = 0; q < hp.n_q; ++q) {
        const bool sem = q < m.n_sem;
        const std::string p = std::string("dec.vq.") + (sem ? "semantic" : "acoustic") + ".layers." + std::to_string(sem ? q : q - m.n_sem);
        (sem ? m.semantic : m.acoustic).layers.push_back(codec_load_vq_euclidean(ld, p, D, N));
    }
    m.semantic.output_proj = ld.tensor("dec.vq.semantic.output_proj.weight", {D, C}, CODEC_W_MATMUL);
    m.acoustic.output_proj = ld.tensor("dec.vq.acoustic.output_proj.weight", {D, C}, CODEC_W_MATMUL);
    m.pre_conv = codec_load_cm_conv(ld, "dec.pre_conv", 3, 1, C, L);
    m.in_proj = {ld.tensor("dec.tr.input_proj.weight", {L, H}, CODEC_W_MATMUL), ld.tensor("dec.tr.input_proj.bias", {H}, CODEC_W_F32)};
    m.tr.n_head = n_head;
    m.tr.head_dim = head_dim;
    m.tr.eps = eps;
    m.tr.window = window;
    m.tr.inv_freq = ld.tensor("dec.rope.inv_freq", {head_dim / 2}, CODEC_W_F32);
    codec_load_transformer_swiglu(ld, "dec.tr", m.tr, m.n_layer, H, m.ffn);
    m.tr_norm = ld.tensor("dec.tr.norm.weight", {H}, CODEC_W_F32);
    m.out_proj = {ld.tensor("dec.tr.output_proj.weight", {H, L}, CODEC_W_MATMUL), ld.tensor("dec.tr.output_proj.bias", {L}, CODEC_W_F32)};
    for (size_t i = 0; i < m.up_ratios.size(); ++i) {
        const std::string p = "dec.up." + std::to_string(i);
        const int s = m.up_ratios[i];
        m.up.push_back(codec_load_cm_convt(ld, p + ".conv", s, s, L, L));
        m.cnx.push_back(codec_load_convnext(ld, p + ".cnx", L, 4 * L, 7, 0, true, true));
    }
    m.conv_in = codec_load_cm_conv(ld, "dec.conv_in", 7, 1, L, m.decoder_dim);
    int cin = m.decoder_dim;
    for (size_t i = 0; i < m.up_rates.size(); ++i) {
        const std::string p = "dec.blk." + std::to_string(i);
        q3_block b;
        b.stride = m.up_rates[i];
        const int cout = cin / 2;
        b.act = codec_load_cm_snake(ld, p + ".act", cin);
        b.up = codec_load_cm_convt(ld, p + ".up", 2 * b.stride, b.stride, cin, cout);
        const int dil[3] = {1, 3, 9};
        for (int j = 0; j < 3; ++j) {
            const std::string r = p + ".res." + std::to_string(j);
            q3_resunit u;
            u.dilation = dil[j];
            u.act1 = codec_load_cm_snake(ld, r + ".act1", cout);
            u.conv1 = codec_load_cm_conv(ld, r + ".conv1", 7, 1, cout, cout);
            u.act2 = codec_load_cm_snake(ld, r + ".act2", cout);
            u.conv2 = codec_load_cm_conv(ld, r + ".conv2", 1, 1, cout, cout);
            b.res.push_back(u);
        }
        m.blocks.push_back(b);
        cin = cout;
    }
    m.act_out = codec_load_cm_snake(ld, "dec.act_out", cin);
    m.conv_out = codec_load_cm_conv(ld, "dec.conv_out", 7, 1, cin, hp.channels);
    return true;
}

bool q3_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string &) {
    const q3_model & m = *(const q3_model *) model.impl;
    const int64_t B = req.n_batch;
    ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, req.n_in, model.hparams.channels, "pcm", B);  // [T, ch, B]
    std::vector<ggml_tensor *> codes;
    codec_mimi_encode_codes(g.ctx, m.enc, x, req.n_q, !model.on_gpu, g.io, codes);
    for (ggml_tensor * c : codes) codec_graph_output(g, B > 1 ? ggml_reshape_2d(g.ctx, c, c->ne[0] / B, B) : c, "codes");
    return true;
}

// Transposed conv with kernel k = n * s, right-trimmed by k - s: streaming takes n - 1 frames of context.
ggml_tensor * convt(ggml_context * ctx, const codec_conv & c, ggml_tensor * x, int s, codec_stream_io * io) {
    const int64_t n = c.w->ne[2] - 1;
    if (!io || n == 0) return codec_causal_conv_transpose1d(ctx, x, c.w, c.b, s);
    ggml_tensor * y = codec_causal_conv_transpose1d(ctx, io->with_context(ctx, x, n, CODEC_PAD_CONSTANT), c.w, c.b, s);
    return codec_drop_front(ctx, y, n * s);
}

ggml_tensor * conv(ggml_context * ctx, const codec_conv & c, ggml_tensor * x, int dilation, codec_stream_io * io) {
    return codec_causal_conv1d(ctx, x, c.w, c.b, 1, dilation, CODEC_PAD_CONSTANT, io);
}

// The decoder on the quantizer's output z [C, T] -> [ch, T * hop].
ggml_tensor * q3_decoder(ggml_context * ctx, const q3_model & m, ggml_tensor * z, bool cpu, codec_stream_io * io) {
    ggml_tensor * x = conv(ctx, m.pre_conv, z, 1, io);
    x = ggml_add(ctx, ggml_mul_mat(ctx, m.in_proj.w, x), m.in_proj.b);
    x = codec_transformer_forward(ctx, m.tr, x, io);
    x = ggml_mul(ctx, ggml_rms_norm(ctx, x, m.tr.eps), m.tr_norm);
    x = ggml_add(ctx, ggml_mul_mat(ctx, m.out_proj.w, x), m.out_proj.b);
    for (size_t i = 0; i < m.up.size(); ++i) {
        x = convt(ctx, m.up[i], x, m.up_ratios[i], io);
        x = codec_convnext_forward(ctx, m.cnx[i], x, 0, io);
    }
    x = conv(ctx, m.conv_in, x, 1, io);
    for (const q3_block & b : m.blocks) {
        x = convt(ctx, b.up, codec_snake(ctx, x, b.act, cpu), b.stride, io);
        for (const q3_resunit & u : b.res) {
            ggml_tensor * h = conv(ctx, u.conv1, codec_snake(ctx, x, u.act1, cpu), u.dilation, io);
            x = ggml_add(ctx, conv(ctx, u.conv2, codec_snake(ctx, h, u.act2, cpu), 1, io), x);
        }
    }
    x = conv(ctx, m.conv_out, codec_snake(ctx, x, m.act_out, cpu), 1, io);
    return ggml_clamp(ctx, x, -1.0f, 1.0f);
}

// codes I32 [T, n_q, B] -> z [C, T, B]
ggml_tensor * q3_dequantize(ggml_context * ctx, const q3_model & m, ggml_tensor * codes, int n_q) {
    const int64_t T = codes->ne[0], B = codes->ne[2];
    const auto sum = [&](const codec_mimi_rvq & rvq, int row0, int n) {
        ggml_tensor * e = codec_rvq_euclidean_decode(ctx, rvq.layers, codes, row0, n);  // [D, T * B]
        return ggml_mul_mat(ctx, rvq.output_proj, ggml_reshape_3d(ctx, e, e->ne[0], T, B));
    };
    ggml_tensor * z = sum(m.semantic, 0, std::min(n_q, m.n_sem));
    if (n_q > m.n_sem) z = ggml_add(ctx, z, sum(m.acoustic, m.n_sem, n_q - m.n_sem));
    return z;
}

// [C, T, B] <-> [T, C, B]
ggml_tensor * to_time_major(ggml_context * ctx, ggml_tensor * x) {
    if (x->ne[0] == 1 || x->ne[1] == 1) return ggml_reshape_3d(ctx, x, x->ne[1], x->ne[0], x->ne[2]);
    return ggml_cont(ctx, ggml_transpose(ctx, x));
}

bool q3_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const q3_model & m = *(const q3_model *) model.impl;
    ggml_context * ctx = g.ctx;
    const bool cpu = !model.on_gpu;
    const int64_t T = req.n_frames, B = req.n_batch, hop = model.hparams.hop_size;
    ggml_tensor * z;  // [C, T, B]
    if (req.kind == CODEC_GRAPH_DECODE) {
        z = q3_dequantize(ctx, m, codec_graph_input(g, GGML_TYPE_I32, T, req.n_q, "codes", B), req.n_q);
    } else {
        if (B > 1) {
            err = "latents decode one input per graph (batch API bug)";
            return false;
        }
        z = to_time_major(ctx, codec_graph_input(g, GGML_TYPE_F32, T, req.latent_dim, "latent"));
    }
    if (g.io) {  // a stream computes its chunk's frames (the driver restarts the state per chunk)
        codec_graph_output(g, to_time_major(ctx, q3_decoder(ctx, m, z, cpu, g.io)), "pcm");
        return true;
    }
    // chunked_decode: chunk [s, e) runs on frames [s - left, e) from a fresh state; the left
    // context's output is dropped. The quantizer is per frame, so it runs once on everything.
    ggml_tensor * y = nullptr;
    for (int64_t s = 0; s < T; s += m.chunk) {
        const int64_t e = std::min<int64_t>(s + m.chunk, T), left = s - m.chunk_left > 0 ? m.chunk_left : s;
        ggml_tensor * zc = ggml_view_3d(ctx, z, z->ne[0], e - s + left, B, z->nb[1], z->nb[2], (s - left) * z->nb[1]);
        ggml_tensor * out = q3_decoder(ctx, m, ggml_cont(ctx, zc), cpu, nullptr);  // [ch, (e - s + left) * hop, B]
        if (left > 0) out = ggml_view_3d(ctx, out, out->ne[0], (e - s) * hop, B, out->nb[1], out->nb[2], left * hop * out->nb[1]);
        y = y ? ggml_concat(ctx, y, out, 1) : out;
    }
    codec_graph_output(g, to_time_major(ctx, ggml_cont(ctx, y)), "pcm");
    return true;
}

size_t q3_graph_size(const codec_model & model, const codec_graph_request & req) {
    const q3_model & m = *(const q3_model *) model.impl;
    const codec_mimi & e = m.enc;
    const size_t enc = 512 + e.sn.ratios.size() * (size_t) (60 + e.sn.n_res * 60) + 2 * (size_t) e.n_layer * 130 + (size_t) req.n_q * 24;
    const size_t dec = 256 + (size_t) m.n_layer * 160 + m.up.size() * 80 + m.blocks.size() * 200 + (size_t) req.n_q * 24;
    const size_t chunks = req.kind == CODEC_GRAPH_ENCODE ? 1 : (size_t) ((req.n_frames + m.chunk - 1) / m.chunk) + 1;
    const size_t n = req.kind == CODEC_GRAPH_ENCODE ? enc : dec * chunks;
    return req.stream ? 2 * n + 256 : n;
}

// The decoder streams (causal): state carried within one chunked_decode chunk and restarted at
// each chunk (stream.cpp's chunk rule). The encoder streams as a Mimi's; it attends to every past
// frame (as qwen-tts's encode does without flash attention), so its KV cache grows with the stream.
void q3_stream(const codec_model & model, bool encode, codec_stream_spec & spec) {
    const q3_model & m = *(const q3_model *) model.impl;
    if (encode) {
        codec_mimi_stream_spec(m.enc, spec);
        return;
    }
    spec.kind = CODEC_STREAM_KIND_STATEFUL;
    spec.first_frames = 1;
    spec.max_block = std::max<int64_t>(1, m.tr.window);
    spec.chunk = m.chunk;
    spec.chunk_left = m.chunk_left;
}

void * q3_create() { return new q3_model(); }
void q3_destroy(void * p) { delete (q3_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_qwen3_tokenizer = {
    "qwen3_tts_tokenizer", q3_create, q3_destroy, q3_init, q3_encode, q3_decode, q3_graph_size, q3_stream,
    /*batch =*/ CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE,
};
