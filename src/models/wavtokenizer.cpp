// WavTokenizer: the vendored original repository's decoder.pretrained.WavTokenizer (outetts
// 0.4.4, outetts/wav_tokenizer/). Encoder: EncodecFeatures = SEANetEncoder (non-causal, reflect
// padding, 1x1-conv skips) + 2-layer LSTM with skip, one euclidean codebook. Decoder:
// VocosBackbone (embed conv k7, pos_net, AdaLayerNorm with bandwidth id 0, ConvNeXt blocks,
// final LayerNorm) and ISTFTHead. GGUF tensor names are the checkpoint's with the module
// prefixes shortened (the converter's table).
// The 40 tokens/s model encodes with hop 640 ([8,5,4,4]) and decodes 600 samples per frame
// (its head's hop): codec.hop_size is the encoder's, wavtokenizer.head_hop the decoder's.
// Batches (codec_arch_ops::batch): [C, T, B] throughout, each sequence computed as alone (the
// pos_net's group norms and attention per sequence, the LSTM's sequences stepping together).
#include "wavtokenizer.h"

#include "blocks/convnext.h"
#include "blocks/istft.h"
#include "blocks/lstm.h"
#include "blocks/resnet_gn.h"
#include "blocks/seanet.h"
#include "blocks/vq_euclidean.h"
#include "blocks/attention.h"
#include "stream_io.h"

#include <algorithm>
#include <cmath>

namespace {

struct wavtokenizer_model {
    codec_seanet sn;
    int32_t n_lstm = 0;
    codec_seanet_conv enc_in, enc_out;
    std::vector<codec_seanet_stage> enc;
    std::vector<codec_lstm_layer> enc_lstm;
    std::vector<codec_vq_euclidean> vq;

    int32_t dim = 0, inter = 0, n_layers = 0, n_ada = 0, cond = 0, groups = 32, embed_kernel = 7, dw_kernel = 7;
    int32_t head_hop = 0, n_fft = 0;
    float eps = 1e-6f;
    bool center = false;  // ISTFT padding: "same" (published) or "center"
    codec_conv embed;
    codec_gn_resblock pos_res[4];
    codec_attn_block pos_attn;
    codec_group_norm_w pos_norm;
    codec_ada_norm norm;
    std::vector<codec_convnext> convnext;
    ggml_tensor * final_w = nullptr, * final_b = nullptr;
    codec_vocos_head head;
};

bool wt_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    wavtokenizer_model & m = *(wavtokenizer_model *) model.impl;
    codec_hparams & hp = model.hparams;
    std::string padding;
    if (!ld.get_i32("wavtokenizer.num_filters", m.sn.n_filters, 1, 4096, err) ||
        !ld.get_i32_arr("wavtokenizer.upsampling_ratios", m.sn.ratios, 1, 8, 1, 64, err) ||
        !ld.get_i32("wavtokenizer.num_residual_layers", m.sn.n_res, 0, 8, err) ||
        !ld.get_i32("wavtokenizer.dilation_growth_rate", m.sn.growth, 1, 16, err) ||
        !ld.get_i32("wavtokenizer.kernel_size", m.sn.kernel, 1, 64, err) ||
        !ld.get_i32("wavtokenizer.last_kernel_size", m.sn.last_kernel, 1, 64, err) ||
        !ld.get_i32("wavtokenizer.residual_kernel_size", m.sn.res_kernel, 1, 64, err) ||
        !ld.get_i32("wavtokenizer.compress", m.sn.compress, 1, 64, err) ||
        !ld.get_i32("wavtokenizer.num_lstm_layers", m.n_lstm, 1, 8, err) ||
        !ld.get_i32("wavtokenizer.dim", m.dim, 1, 16384, err) ||
        !ld.get_i32("wavtokenizer.intermediate_dim", m.inter, 1, 65536, err) ||
        !ld.get_i32("wavtokenizer.num_layers", m.n_layers, 1, 256, err) ||
        !ld.get_i32("wavtokenizer.adanorm_num_embeddings", m.n_ada, 1, 64, err) ||
        !ld.get_i32("wavtokenizer.bandwidth_id", m.cond, 0, 63, err) ||
        !ld.get_i32("wavtokenizer.pos_net_groups", m.groups, 1, 4096, err) ||
        !ld.get_i32("wavtokenizer.embed_kernel", m.embed_kernel, 1, 63, err) ||
        !ld.get_i32("wavtokenizer.dw_kernel", m.dw_kernel, 1, 63, err) ||
        !ld.get_i32("wavtokenizer.n_fft", m.n_fft, 2, 1 << 16, err) ||
        !ld.get_i32("wavtokenizer.head_hop", m.head_hop, 1, 1 << 16, err) ||
        !ld.get_str("wavtokenizer.padding", padding, err)) {
        return false;
    }
    if (padding != "same" && padding != "center") {
        err = "wavtokenizer.padding = '" + padding + "': expected same or center";
        return false;
    }
    m.center = padding == "center";
    if (m.cond >= m.n_ada) {
        err = "wavtokenizer.bandwidth_id must be < wavtokenizer.adanorm_num_embeddings";
        return false;
    }
    if (m.dim % m.groups || m.embed_kernel % 2 == 0 || m.dw_kernel % 2 == 0 || m.n_fft % 2 || m.n_fft < m.head_hop ||
        (!m.center && (m.n_fft - m.head_hop) % 2)) {
        err = "wavtokenizer: dim must divide into pos_net_groups, kernels must be odd, n_fft even, >= head_hop, n_fft - head_hop even";
        return false;
    }
    int64_t hop = 1;
    for (int r : m.sn.ratios) hop *= r;
    if (hop != hp.hop_size) {
        err = codec_fmt("codec.hop_size = %d but wavtokenizer.upsampling_ratios multiply to %lld", hp.hop_size, (long long) hop);
        return false;
    }
    const int64_t enc_dim = (int64_t) m.sn.n_filters << m.sn.ratios.size();
    if (hp.channels != 1 || hp.n_q != 1 || hp.codebook_dim != hp.latent_dim || enc_dim > 65536 || m.sn.n_filters < m.sn.compress) {
        err = "WavTokenizer: mono, one codebook, codec.codebook_dim == codec.latent_dim, num_filters >= compress";
        return false;
    }
    m.sn.causal = false;  // EncodecFeatures' SEANetEncoder: non-causal, reflect, weight norm (folded), conv skips
    m.sn.conv_shortcut = true;
    m.sn.pad = CODEC_PAD_REFLECT;
    const int H = hp.latent_dim, D = (int) enc_dim;
    if (hp.has_encoder) {
        m.enc_in = codec_load_seanet_conv_in(ld, m.sn, "enc.0", m.sn.kernel, 1, m.sn.n_filters);
        int idx = 1;
        m.enc = codec_load_seanet_encoder(ld, m.sn, "enc.", idx);
        m.enc_lstm = codec_load_lstm(ld, "enc." + std::to_string(idx) + ".lstm", D, m.n_lstm);
        m.enc_out = codec_load_seanet_conv(ld, m.sn, "enc." + std::to_string(idx + 2), m.sn.last_kernel, D, H);
    }
    m.vq.push_back(codec_load_vq_euclidean(ld, "vq", H, hp.codebook_size));
    if (hp.has_decoder) {
        const int C = m.dim;
        m.embed = codec_load_cm_conv(ld, "backbone.embed", m.embed_kernel, 1, H, C);
        const int res_idx[4] = {0, 1, 3, 4};  // pos_net: res, res, attn, res, res, norm
        for (int i = 0; i < 4; ++i) m.pos_res[i] = codec_load_gn_resblock(ld, "backbone.pos_net." + std::to_string(res_idx[i]), C);
        m.pos_attn = codec_load_attn_block(ld, "backbone.pos_net.2", C);
        m.pos_norm = codec_load_group_norm(ld, "backbone.pos_net.5", C);
        m.norm = codec_load_ada_norm(ld, "backbone.norm", C, m.n_ada);
        for (int i = 0; i < m.n_layers; ++i) {
            m.convnext.push_back(codec_load_convnext(ld, "backbone.convnext." + std::to_string(i), C, m.inter, m.dw_kernel,
                                                     m.n_ada, true, false, m.eps));
        }
        m.final_w = ld.tensor("backbone.final_layer_norm.weight", {C}, CODEC_W_F32);
        m.final_b = ld.tensor("backbone.final_layer_norm.bias", {C}, CODEC_W_F32);
        m.head = codec_load_vocos_head(ld, "head", C, m.n_fft, m.head_hop, m.center, false);
    }
    return true;
}

bool wt_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const wavtokenizer_model & m = *(const wavtokenizer_model *) model.impl;
    ggml_context * ctx = g.ctx;
    const bool cpu = !model.on_gpu;
    // A stream's block (io; a block both first and last is the one-shot call): every conv lags
    // (wt_stream), the LSTM carries h and c.
    codec_stream_io * io = g.io && !(g.io->first && g.io->last) ? g.io : nullptr;
    ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, req.n_in, 1, "pcm", req.n_batch);  // [n_in, 1, B]
    x = codec_seanet_conv_in(ctx, m.sn, m.enc_in, x, io);             // [C, T, B]
    x = codec_seanet_encode(ctx, m.sn, m.enc, x, cpu, io);            // [D, F, B]
    x = ggml_add(ctx, codec_lstm(ctx, m.enc_lstm, x, cpu, io), x);    // SLSTM: lstm(x) + x
    x = codec_seanet_conv1d(ctx, m.sn, m.enc_out, codec_seanet_elu(ctx, x, cpu), io);  // [H, F, B]
    std::vector<ggml_tensor *> codes;
    codec_rvq_euclidean_encode(ctx, m.vq, 1, x, codes);               // [F * B]
    codec_graph_output(g, req.n_batch > 1 ? ggml_reshape_2d(ctx, codes[0], x->ne[1], req.n_batch) : codes[0], "codes");
    return true;
}

bool wt_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const wavtokenizer_model & m = *(const wavtokenizer_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    ggml_context * ctx = g.ctx;
    ggml_tensor * x;
    const int64_t B = req.n_batch;
    if (B > 1 && req.kind != CODEC_GRAPH_DECODE) {
        err = "WavTokenizer decodes latents one input per graph (batch API bug)";
        return false;
    }
    if (req.kind == CODEC_GRAPH_DECODE) {  // codes_to_features: the codebook rows
        ggml_tensor * codes = codec_graph_input(g, GGML_TYPE_I32, req.n_frames, req.n_q, "codes", B);
        x = codec_rvq_euclidean_decode(ctx, m.vq, codes, 0, 1);  // [D, F * B]
        if (B > 1) x = ggml_reshape_3d(ctx, x, x->ne[0], req.n_frames, B);
    } else {
        x = ggml_cont(ctx, ggml_transpose(ctx, codec_graph_input(g, GGML_TYPE_F32, req.n_frames, hp.latent_dim, "latent")));
    }
    x = codec_cm_conv1d(ctx, x, m.embed.w, m.embed.b, 1, m.embed_kernel / 2, 1);  // [C, F, B]
    x = codec_gn_resblock_forward(ctx, m.pos_res[0], x, m.groups, m.eps);
    x = codec_gn_resblock_forward(ctx, m.pos_res[1], x, m.groups, m.eps);
    x = codec_attn_block_forward(ctx, m.pos_attn, x, m.groups, m.eps);  // full self-attention over each sequence's frames
    x = codec_gn_resblock_forward(ctx, m.pos_res[2], x, m.groups, m.eps);
    x = codec_gn_resblock_forward(ctx, m.pos_res[3], x, m.groups, m.eps);
    x = codec_group_norm(ctx, x, m.pos_norm, m.groups, m.eps);
    x = codec_ada_layer_norm(ctx, x, m.norm, m.cond, m.eps);
    for (const codec_convnext & b : m.convnext) x = codec_convnext_forward(ctx, b, x, m.cond);
    x = codec_layer_norm(ctx, x, m.final_w, m.final_b, m.eps);
    ggml_tensor * y = codec_vocos_head_forward(ctx, m.head, x);        // [F * head_hop] (a batch: [F * head_hop, B])
    codec_graph_output(g, ggml_reshape_3d(ctx, y, y->ne[0], 1, B), "pcm");
    return true;
}

size_t wt_graph_size(const codec_model & model, const codec_graph_request & req) {
    const wavtokenizer_model & m = *(const wavtokenizer_model *) model.impl;
    const codec_seanet & sn = m.sn;
    if (req.kind == CODEC_GRAPH_ENCODE) {  // as encodec_graph_size for one chunk
        const int64_t frames = (req.n_in + model.hparams.hop_size - 1) / model.hparams.hop_size;
        const size_t taps = (size_t) std::max({sn.kernel, sn.last_kernel, sn.res_kernel, 2});
        const size_t n_convs = 2 + sn.ratios.size() * (3 * (size_t) sn.n_res + 1);
        return 512 + 2 * (n_convs * (12 * taps + 48) + sn.ratios.size() * (2 * (size_t) sn.n_res + 1) + 64) +
               codec_lstm_graph_size(m.n_lstm, (size_t) frames) + 64;
    }
    // pos_net ~ 4 x 40 + 40, ConvNeXt ~ 16 + taps each, the head ~ 40 + 8 per hop of a frame.
    return 1024 + (size_t) m.n_layers * (32 + (size_t) m.dw_kernel) + (size_t) m.embed_kernel * 4 +
           (size_t) (m.n_fft / m.head_hop + 2) * 16;
}

// Streaming.
//   - encode: the SEANet encoder's convs are centered (reflect padding), its LSTM runs forward
//     over the whole input. Streamed with carried state (stream_io.h's lagged_input): each conv
//     computes the outputs whose window is complete and keeps the rest of its input, the first
//     block reflects as the one-shot start, the last pads as its end (reflect, plus the padding
//     that completes the last stride window), the resnet skips wait for their branch, and the
//     LSTM steps on from the previous block's h and c. The output lags by the receptive field
//     of one frame, derived below (both published configs: 4 frames back, 4 ahead).
//   - decode: the pos_net's GroupNorms (statistics over all frames) and its single-head full
//     self-attention see the whole sequence. A window of the local receptive field plus 2 s each
//     side measured 30 dB against the one-shot decode: approximate windows on request only
//     (codec_stream_params.approx_*; frame s is samples [s * head_hop, (s + 1) * head_hop)).
void wt_stream(const codec_model & model, bool encode, codec_stream_spec & spec) {
    const wavtokenizer_model & m = *(const wavtokenizer_model *) model.impl;
    if (!encode) {
        spec.approx = true;
        spec.decode_hop = m.head_hop;
        spec.why = "its decoder's pos_net normalizes (GroupNorm) and attends (full self-attention) over the whole "
                   "sequence, so no bounded context reproduces the one-shot decode (a windowed stream measured 30 dB)";
        return;
    }
    codec_rf_span x = {0, 0};  // latent frame 0, back to the input samples it reads
    codec_seanet_encoder_rf(m.sn, x);
    const codec_rf_span f = codec_rf_frames(x, model.hparams.hop_size);
    spec.kind = CODEC_STREAM_KIND_STATEFUL;
    spec.left = f.lo;
    spec.right = f.hi;
    spec.lookahead = spec.right;
    spec.first_frames = spec.right + 1;
    spec.align = 1;
}

void * wt_create() { return new wavtokenizer_model(); }
void wt_destroy(void * p) { delete (wavtokenizer_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_wavtokenizer = {
    "wavtokenizer", wt_create, wt_destroy, wt_init, wt_encode, wt_decode, wt_graph_size, wt_stream,
    /*batch =*/ CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE,
};
