// XCodec2 / NeuCodec decoder (transformers 5.23 Xcodec2Model / NeuCodecModel, decode):
//   code -> FSQ values [8] -> quantizer.project_out (8 -> 2048) -> acoustic_decoder:
//   fc (2048 -> 1024) -> embed conv k7 -> prior_net (2 GroupNorm(32) ResNet blocks, SiLU)
//   -> 12 transformer layers (RMSNorm, q/k/v/o without bias, SiLU MLP, attention over every
//   frame) -> post_net (2 ResNet blocks) -> LayerNorm -> ISTFT head ("same" padding, hann,
//   n_fft = 4 hop). XCodec2: 16 kHz, hop 320; NeuCodec: the same decoder at 24 kHz, hop 480.
// The reference's RoPE uses the head index as its position (position_ids = arange(num_heads),
// broadcast over time): q and k of head h turn by one fixed rotation, which cancels in q . k,
// so the transformer runs without rotation (transformer.h, inv_freq = null). decode_latent takes
// the 2048-d latent after project_out (the reference's decode(latents=...)). Batched decode:
// [C, T, B] throughout, each sequence's GroupNorms and attention its own.
// Encode (Xcodec2FeatureExtractor + Xcodec2Model.encode; NeuCodec's the same at 16 kHz in with the
// differences in xc_encode), 16 kHz PCM: one zero appended, zeros up to a multiple of the hop (320)
// -> (a) fbank front end (blocks/fbank.h: 80 log-mels, normalized over the input, frame pairs
// stacked to 160-d; XCodec2 pads the signal by half a hop each side) -> feature projection
// (LayerNorm, linear) -> w2v-BERT conformer layers (blocks/conformer.h) -> semantic adapter
// (convs k3: relu, residual); (b) the acoustic CNN (anti-aliased SnakeBeta, blocks/aa_snake.h);
// concat [semantic; acoustic] -> fc_encoder -> project_in -> FSQ quantize.
#include "xcodec2.h"

#include "blocks/aa_snake.h"
#include "blocks/attention.h"
#include "blocks/conformer.h"
#include "blocks/conv_cm.h"
#include "blocks/fbank.h"
#include "blocks/fsq.h"
#include "blocks/istft.h"
#include "blocks/resnet_gn.h"
#include "blocks/transformer.h"
#include "ops/copy_rows.h"

namespace {

const int k_groups = 32;       // Xcodec2ResNetBlock's GroupNorm(32, eps 1e-6)
const float k_norm_eps = 1e-6f;  // GroupNorm and the final LayerNorm

// The acoustic CNN (Xcodec2Encoder): conv k7 -> blocks (3 residual units of dilations 1, 3, 9:
// x + conv_k1(aa_snake(conv_k7_dilated(aa_snake(x))))), aa_snake, strided conv k = 2 s) ->
// aa_snake -> conv k3.
struct xc_res_unit {
    codec_snake_w act1, act2;
    codec_conv conv1, conv2;
    codec_aa_filters aa;  // of its width
};
struct xc_enc_block {
    xc_res_unit units[3];
    codec_snake_w act;
    codec_aa_filters aa;
    codec_conv down;
    int stride = 1;
};

struct xcodec2_encoder {
    codec_conv conv_in, conv_out;
    std::vector<xc_enc_block> blocks;
    codec_snake_w act;
    codec_aa_filters aa;  // of the last width
    codec_fbank fbank;
    int32_t fbank_pad = 0;  // zeros each side of the signal the fbank reads (XCodec2: half a hop; NeuCodec: none)
    ggml_tensor * fp_norm_w = nullptr, * fp_norm_b = nullptr, * fp_w = nullptr, * fp_b = nullptr;  // feature projection
    std::vector<codec_conformer_layer> layers;
    codec_conformer_hp chp;
    codec_conv adapter[4];
    ggml_tensor * fc_w = nullptr, * fc_b = nullptr;  // fc_encoder [latent, latent]
    ggml_tensor * pi_w = nullptr, * pi_b = nullptr;  // quantizer.project_in [latent, D]
    codec_fsq_bound bound;
};

struct xcodec2_model {
    codec_fsq fsq;
    bool has_enc = false;
    xcodec2_encoder enc;
    int32_t hidden = 0, n_layers = 0, n_fft = 0;
    ggml_tensor * po_w = nullptr, * po_b = nullptr;  // project_out [D, latent], [latent]
    ggml_tensor * fc_w = nullptr, * fc_b = nullptr;  // [latent, hidden], [hidden]
    codec_conv embed;
    codec_gn_resblock prior[2], post[2];
    codec_transformer tr;
    ggml_tensor * norm_w = nullptr, * norm_b = nullptr;
    codec_vocos_head head;
};

bool xc_init_encoder(xcodec2_model & m, const codec_hparams & hp, codec_model_loader & ld, std::string & err) {
    xcodec2_encoder & e = m.enc;
    int32_t E = 0, S = 0, n_sem = 0, ffn = 0, in_dim = 0;
    std::vector<int32_t> ratios;
    codec_fbank & fb = e.fbank;
    if (!ld.get_i32("xcodec2.encoder_hidden_size", E, 1, 1 << 16, err) ||
        !ld.get_i32_arr("xcodec2.downsampling_ratios", ratios, 1, 16, 1, 64, err) ||
        !ld.get_i32("xcodec2.semantic.hidden_size", S, 1, 1 << 16, err) ||
        !ld.get_i32("xcodec2.semantic.num_layers", n_sem, 0, 256, err) ||
        !ld.get_i32("xcodec2.semantic.num_heads", e.chp.n_head, 1, 1024, err) ||
        !ld.get_i32("xcodec2.semantic.intermediate_size", ffn, 1, 1 << 18, err) ||
        !ld.get_i32("xcodec2.semantic.input_dim", in_dim, 1, 1 << 16, err) ||
        !ld.get_i32("xcodec2.semantic.conv_kernel_size", e.chp.kernel, 1, 1024, err) ||
        !ld.get_i32("xcodec2.semantic.left_max_position", e.chp.left, 0, 1 << 16, err) ||
        !ld.get_i32("xcodec2.semantic.right_max_position", e.chp.right, 0, 1 << 16, err) ||
        !ld.get_f32("xcodec2.semantic.layer_norm_eps", e.chp.eps, err) ||
        !ld.get_i32("xcodec2.fbank.frame_length", fb.frame_length, 2, 1 << 16, err) ||
        !ld.get_i32("xcodec2.fbank.frame_shift", fb.frame_shift, 1, 1 << 16, err) ||
        !ld.get_i32("xcodec2.fbank.n_bins", fb.n_bins, 1, 1 << 16, err) ||
        !ld.get_i32("xcodec2.fbank.n_mel", fb.n_mel, 1, 4096, err) ||
        !ld.get_i32("xcodec2.fbank.stack", fb.stack, 1, 64, err) ||
        !ld.get_i32("xcodec2.fbank.pad", e.fbank_pad, 0, 1 << 16, err)) {
        return false;
    }
    int64_t prod = 1;
    for (int32_t r : ratios) prod *= r;
    int64_t width = (int64_t) E << ratios.size();
    if (hp.encode_sample_rate != 16000) {  // the fbank's mel scale and frames are the 16 kHz ones
        err = codec_fmt("xcodec2: the encoder takes 16 kHz, but codec.encode_sample_rate (absent: codec.sample_rate) "
                        "gives %d Hz", hp.encode_sample_rate);
        return false;
    }
    const int32_t hop = hp.encode_hop_size;
    if (!(e.chp.eps > 0.0f) || S % e.chp.n_head || prod != hop || width > (1 << 20) || e.fbank_pad > hop ||
        in_dim != fb.n_mel * fb.stack || fb.stack * fb.frame_shift != hop || fb.frame_length > 2 * hop ||
        S + m.hidden != hp.latent_dim) {
        err = "xcodec2: encoder keys inconsistent (semantic.layer_norm_eps > 0, semantic.hidden_size a multiple of "
              "num_heads, prod(downsampling_ratios) = the encoder's hop, fbank.pad <= hop, semantic.input_dim = "
              "fbank.n_mel * stack, fbank.stack * frame_shift = hop, frame_length <= 2 hop, semantic + acoustic hidden "
              "= codec.latent_dim)";
        return false;
    }
    const int H = m.hidden, Z = hp.latent_dim, D = hp.codebook_dim;
    codec_load_fbank(ld, "sem.fbank", fb);
    e.fp_norm_w = ld.tensor("sem.fp.norm.weight", {in_dim}, CODEC_W_F32);
    e.fp_norm_b = ld.tensor("sem.fp.norm.bias", {in_dim}, CODEC_W_F32);
    e.fp_w = ld.tensor("sem.fp.proj.weight", {in_dim, S}, CODEC_W_MATMUL);
    e.fp_b = ld.tensor("sem.fp.proj.bias", {S}, CODEC_W_F32);
    for (int i = 0; i < n_sem; ++i)
        e.layers.push_back(codec_load_conformer_layer(ld, "sem.layers." + std::to_string(i) + ".", S, ffn, e.chp));
    for (int j = 0; j < 4; ++j)
        e.adapter[j] = codec_load_cm_conv(ld, "sem.adapter.conv" + std::to_string(j + 1), 3, 1, S, S, j == 1 || j == 2);
    e.conv_in = codec_load_cm_mono(ld, "enc.conv1", 7, E);
    int c = E;
    for (size_t i = 0; i < ratios.size(); ++i, c *= 2) {
        xc_enc_block b;
        const std::string p = "enc.block." + std::to_string(i);
        b.aa = codec_load_aa_filters(ld, "enc.aa", c);
        for (int j = 0; j < 3; ++j) {
            const std::string u = p + ".res_unit" + std::to_string(j + 1);
            b.units[j].act1 = codec_load_cm_snake(ld, u + ".snake1", c);
            b.units[j].conv1 = codec_load_cm_conv(ld, u + ".conv1", 7, 1, c, c);
            b.units[j].act2 = codec_load_cm_snake(ld, u + ".snake2", c);
            b.units[j].conv2 = codec_load_cm_conv(ld, u + ".conv2", 1, 1, c, c);
        }
        b.act = codec_load_cm_snake(ld, p + ".snake1", c);
        b.stride = ratios[i];
        b.down = codec_load_cm_conv(ld, p + ".conv1", 2 * b.stride, b.stride, c, 2 * c);
        e.blocks.push_back(b);
    }
    e.act = codec_load_cm_snake(ld, "enc.snake1", c);
    e.aa = codec_load_aa_filters(ld, "enc.aa", c);
    e.conv_out = codec_load_cm_conv(ld, "enc.conv2", 3, 1, c, H);
    e.fc_w = ld.tensor("enc.fc.weight", {Z, Z}, CODEC_W_MATMUL);
    e.fc_b = ld.tensor("enc.fc.bias", {Z}, CODEC_W_F32);
    e.pi_w = ld.tensor("quantizer.project_in.weight", {Z, D}, CODEC_W_MATMUL);
    e.pi_b = ld.tensor("quantizer.project_in.bias", {D}, CODEC_W_F32);
    e.bound = codec_load_fsq_bound(ld, "quantizer.fsq", D);
    return true;
}

bool xc_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    xcodec2_model & m = *(xcodec2_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    std::vector<int32_t> levels;
    int32_t n_head = 0, head_dim = 0, ffn = 0;
    float eps = 0.0f;
    if (!ld.get_i32_arr("xcodec2.fsq_levels", levels, 1, 32, 2, 65536, err) ||
        !ld.get_i32("xcodec2.hidden_size", m.hidden, 1, 16384, err) ||
        !ld.get_i32("xcodec2.num_layers", m.n_layers, 0, 256, err) ||
        !ld.get_i32("xcodec2.num_heads", n_head, 1, 1024, err) ||
        !ld.get_i32("xcodec2.head_dim", head_dim, 1, 4096, err) ||
        !ld.get_i32("xcodec2.intermediate_size", ffn, 1, 1 << 18, err) ||
        !ld.get_f32("xcodec2.rms_norm_eps", eps, err) ||
        !ld.get_i32("xcodec2.n_fft", m.n_fft, 2, 1 << 16, err)) {
        return false;
    }
    if (!codec_fsq_init(m.fsq, levels, err)) return false;
    if (!(eps > 0.0f) || m.hidden % k_groups || m.n_fft % 2 || m.n_fft < hp.hop_size || (m.n_fft - hp.hop_size) % 2) {
        err = "xcodec2: rms_norm_eps must be > 0, hidden_size a multiple of 32, n_fft even, >= codec.hop_size, "
              "n_fft - hop_size even";
        return false;
    }
    if (!hp.has_decoder || hp.channels != 1 || hp.n_q != 1 || hp.codebook_size != m.fsq.size() ||
        hp.codebook_dim != (int32_t) levels.size()) {
        err = "xcodec2: a mono decoder-only model with one codebook of prod(xcodec2.fsq_levels) codes of "
              "len(xcodec2.fsq_levels) dimensions";
        return false;
    }
    const int D = hp.codebook_dim, Z = hp.latent_dim, C = m.hidden;
    m.po_w = ld.tensor("quantizer.project_out.weight", {D, Z}, CODEC_W_MATMUL);
    m.po_b = ld.tensor("quantizer.project_out.bias", {Z}, CODEC_W_F32);
    m.fc_w = ld.tensor("dec.fc.weight", {Z, C}, CODEC_W_MATMUL);
    m.fc_b = ld.tensor("dec.fc.bias", {C}, CODEC_W_F32);
    m.embed = codec_load_cm_conv(ld, "dec.embed", 7, 1, C, C);
    for (int i = 0; i < 2; ++i) {
        m.prior[i] = codec_load_gn_resblock(ld, "dec.prior_net." + std::to_string(i), C);
        m.post[i] = codec_load_gn_resblock(ld, "dec.post_net." + std::to_string(i), C);
    }
    m.tr.n_head = n_head;
    m.tr.head_dim = head_dim;
    m.tr.eps = eps;
    m.tr.rms_norm = m.tr.silu = true;
    m.tr.causal = false;  // inv_freq stays null: the head-index RoPE cancels (top of file)
    codec_load_transformer(ld, "dec", m.tr, m.n_layers, C, ffn, false);
    m.norm_w = ld.tensor("dec.norm.weight", {C}, CODEC_W_F32);
    m.norm_b = ld.tensor("dec.norm.bias", {C}, CODEC_W_F32);
    m.head = codec_load_vocos_head(ld, "dec.head", C, m.n_fft, hp.hop_size, false, false);
    // the encoder side is read when the GGUF says it has one, or holds its keys (then every key and
    // tensor is checked, but encode stays refused while codec.has_encoder is off)
    m.has_enc = hp.has_encoder || ld.has_key("xcodec2.semantic.num_layers");
    if (!m.has_enc) return true;
    model.hparams.encode_rate_checked = true;  // xc_init_encoder checks the hop and the 16 kHz input
    return xc_init_encoder(m, hp, ld, err);
}

bool xc_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const xcodec2_model & m = *(const xcodec2_model *) model.impl;
    const xcodec2_encoder & e = m.enc;
    ggml_context * ctx = g.ctx;
    const bool cpu = !model.on_gpu;
    // The feature extractor: one zero appended, then zeros up to a multiple of the hop; the fbank
    // reads that signal with fbank_pad zeros on each side (XCodec2: half a hop, F = 2T frames;
    // NeuCodec: none, F = 2T - 2: one frame fewer than the acoustic branch, which is cropped to it).
    const int64_t hop = req.hop, n = req.n_in, n_pad = (n + 1 + hop - 1) / hop * hop, T = n_pad / hop;
    if (n > ((int64_t) 1 << 31) - 2 * hop) {
        err = "input too long";
        return false;
    }
    const int64_t pad = e.fbank_pad, F = codec_fbank_frames(e.fbank, n_pad + 2 * pad), T_sem = F / e.fbank.stack;
    if (T_sem < 1) {
        const int64_t need = e.fbank.frame_length + (e.fbank.stack - 1) * e.fbank.frame_shift - 2 * pad;
        err = codec_fmt("input too short: %lld samples give no feature frame (at least %lld samples at 16 kHz)",
                        (long long) n, (long long) ((need + hop - 1) / hop * hop - hop));
        return false;
    }
    if (F % e.fbank.stack || T_sem > T) {
        err = "xcodec2: the fbank frame rate does not match the codec's hop (model bug)";
        return false;
    }
    ggml_tensor * pcm = codec_graph_input(g, GGML_TYPE_F32, n, 1, "pcm");
    ggml_tensor * x = ggml_pad_ext(ctx, pcm, 0, n_pad - n, 0, 0, 0, 0, 0, 0);                 // [n_pad, 1]
    // semantic branch: fbank -> feature projection -> conformer -> adapter
    ggml_tensor * sig = ggml_pad_ext(ctx, pcm, pad, n_pad - n + pad, 0, 0, 0, 0, 0, 0);
    ggml_tensor * h = codec_fbank_forward(ctx, e.fbank, sig);                                  // [160, T_sem]
    h = codec_layer_norm(ctx, h, e.fp_norm_w, e.fp_norm_b, e.chp.eps);
    h = ggml_add(ctx, ggml_mul_mat(ctx, e.fp_w, h), e.fp_b);
    for (const codec_conformer_layer & l : e.layers) h = codec_conformer_forward(ctx, l, e.chp, h);
    h = ggml_relu(ctx, codec_cm_conv1d(ctx, h, e.adapter[0].w, nullptr, 1, 1, 1));
    ggml_tensor * r = ggml_relu(ctx, codec_cm_conv1d(ctx, h, e.adapter[1].w, e.adapter[1].b, 1, 1, 1));
    h = ggml_add(ctx, codec_cm_conv1d(ctx, r, e.adapter[2].w, e.adapter[2].b, 1, 1, 1), h);
    h = codec_cm_conv1d(ctx, h, e.adapter[3].w, nullptr, 1, 1, 1);                             // [S, T_sem]
    // acoustic branch
    x = codec_cm_conv1d_mono(ctx, x, e.conv_in.w, e.conv_in.b, 1, 3, 1);                       // [E, n_pad]
    for (const xc_enc_block & b : e.blocks) {
        int dil = 1;
        for (const xc_res_unit & u : b.units) {
            ggml_tensor * y = codec_cm_conv1d(ctx, codec_aa_snake(ctx, x, u.act1, b.aa, cpu), u.conv1.w, u.conv1.b, 1, 3 * dil, dil);
            x = ggml_add(ctx, x, codec_cm_conv1d(ctx, codec_aa_snake(ctx, y, u.act2, b.aa, cpu), u.conv2.w, u.conv2.b, 1, 0, 1));
            dil *= 3;
        }
        x = codec_cm_conv1d(ctx, codec_aa_snake(ctx, x, b.act, b.aa, cpu), b.down.w, b.down.b, b.stride, (b.stride + 1) / 2, 1);
        if (!x) {
            err = "input too short for the acoustic encoder";
            return false;
        }
    }
    x = codec_cm_conv1d(ctx, codec_aa_snake(ctx, x, e.act, e.aa, cpu), e.conv_out.w, e.conv_out.b, 1, 1, 1);  // [H, T]
    if (x->ne[1] != T) {
        err = "xcodec2: the acoustic encoder's frames do not match the hop (model bug)";
        return false;
    }
    if (T_sem < T) x = ggml_view_2d(ctx, x, x->ne[0], T_sem, x->nb[1], 0);  // the reference trims to the shorter branch
    ggml_tensor * z = ggml_add(ctx, ggml_mul_mat(ctx, e.fc_w, codec_concat(ctx, h, x, 0, cpu)), e.fc_b);
    z = ggml_add(ctx, ggml_mul_mat(ctx, e.pi_w, z), e.pi_b);                                   // [D, T_sem]
    codec_graph_output(g, ggml_reshape_2d(ctx, codec_fsq_quantize(ctx, m.fsq, e.bound, z), T_sem, 1), "codes");
    return true;
}

bool xc_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const xcodec2_model & m = *(const xcodec2_model *) model.impl;
    ggml_context * ctx = g.ctx;
    const int64_t T = req.n_frames, B = req.n_batch;
    ggml_tensor * z;  // [latent, T, B]
    if (req.kind == CODEC_GRAPH_DECODE) {
        ggml_tensor * q = codec_fsq_decode(ctx, m.fsq, codec_graph_input(g, GGML_TYPE_I32, T, 1, "codes", B));  // [8, T * B]
        z = ggml_reshape_3d(ctx, ggml_add(ctx, ggml_mul_mat(ctx, m.po_w, q), m.po_b), m.po_w->ne[1], T, B);
    } else {
        if (B > 1) {
            err = "XCodec2 decodes latents one input per graph (batch API bug)";
            return false;
        }
        z = ggml_cont(ctx, ggml_transpose(ctx, codec_graph_input(g, GGML_TYPE_F32, T, req.latent_dim, "latent")));
    }
    ggml_tensor * x = ggml_add(ctx, ggml_mul_mat(ctx, m.fc_w, z), m.fc_b);
    x = codec_cm_conv1d(ctx, x, m.embed.w, m.embed.b, 1, 3, 1);
    for (const codec_gn_resblock & r : m.prior) x = codec_gn_resblock_forward(ctx, r, x, k_groups, k_norm_eps);
    x = codec_transformer_forward(ctx, m.tr, x);
    for (const codec_gn_resblock & r : m.post) x = codec_gn_resblock_forward(ctx, r, x, k_groups, k_norm_eps);
    x = codec_layer_norm(ctx, x, m.norm_w, m.norm_b, k_norm_eps);
    ggml_tensor * y = codec_vocos_head_forward(ctx, m.head, x);                 // [T * hop] (a batch: [T * hop, B])
    codec_graph_output(g, ggml_reshape_3d(ctx, y, y->ne[0], 1, B), "pcm");
    return true;
}

size_t xc_graph_size(const codec_model & model, const codec_graph_request & req) {
    const xcodec2_model & m = *(const xcodec2_model *) model.impl;
    if (req.kind == CODEC_GRAPH_ENCODE) {  // aa_snake ~ 130 tensors, 7 per block with 7 convs; a conformer
                                           // layer ~ 100 plus ~ 16 per block of 512 queries
        const size_t q_blocks = (size_t) ((req.n_in + req.hop) / req.hop + 511) / 512;
        return 2048 + m.enc.layers.size() * (192 + 24 * q_blocks) + (m.enc.blocks.size() + 1) * 7 * 256;
    }
    const size_t blocks = (size_t) (req.n_frames + 511) / 512;  // transformer.cpp's query blocks
    return 512 + m.fsq.levels.size() * 12 + (size_t) m.n_layers * (40 + 16 * blocks) + 4 * 40 +
           (size_t) (m.n_fft / model.hparams.hop_size + 2) * 16;
}

// The decoder sees the whole sequence twice over: every transformer layer attends to all frames
// and every ResNet block's GroupNorm takes its statistics over all frames, so no bounded context
// reproduces the one-shot decode. Measured (2-layer published config, seeded random weights, 50-frame
// blocks against the one-shot decode of 500 frames): 25 / 100 / 250 frames of context each side
// gave 14.9 / 19.8 / 26.4 dB on random codes, 8.6 / 12.8 / 18.9 dB on runs of codes with a held
// code (a pause): far from the 80 dB of an exact stream, so it streams only when the caller asks
// for approximate windows (codec_stream_params.approx_*, as NeuTTS streams NeuCodec). The decoder
// maps frame s to samples [s * hop, (s + 1) * hop) (the ISTFT head's same padding): any window
// start keeps the phase. The encoder's codes would not be the codes: no approximate encode.
void xc_stream(const codec_model &, bool encode, codec_stream_spec & spec) {
    spec.approx = !encode;
    spec.align = 1;
    spec.why = encode ? "its encoder normalizes the fbank features by their mean and variance over the whole input "
                        "and its conformer attends over every frame, so no bounded context reproduces the one-shot encode"
                      : "its decoder attends over every frame (non-causal transformer) and normalizes over the whole "
                        "sequence (GroupNorm), so no bounded context reproduces the one-shot decode (a windowed "
                        "decode with 5 s of context each side measured 26 dB)";
}

void * xc_create() { return new xcodec2_model(); }
void xc_destroy(void * p) { delete (xcodec2_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_xcodec2 = {
    "xcodec2", xc_create, xc_destroy, xc_init, xc_encode, xc_decode, xc_graph_size, xc_stream,
    // decode only: the encoder's fbank normalization and conformer take one input per graph
    /*batch =*/ CODEC_BATCH_DECODE,
};
