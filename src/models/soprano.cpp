// Soprano's decoder (soprano-tts 0.2.0, soprano/vocos/decoder.py SopranoDecoder): LM hidden
// states [512, T] -> linear interpolation to upscale * (T - 1) + 1 frames (align_corners) ->
// VocosBackbone (embed conv k1, LayerNorm, ConvNeXt blocks with depthwise k3 and layer scale,
// final LayerNorm) -> ISTFTHead in "center" mode (torch.istft) with the DC and Nyquist bins
// zeroed (the reference sets spec[:, 0] = spec[:, -1] = 0; the converter zeroes their basis
// rows). Output: (upscale * (T - 1)) * hop samples; one latent frame gives no audio, as the
// reference. Decodes latents only (codec_decode_latent): it has no codebook. Batches of latents:
// [C, L, B] throughout, each sequence computed as alone.
#include "soprano.h"

#include "blocks/attention.h"
#include "blocks/convnext.h"
#include "blocks/istft.h"
#include "blocks/receptive_field.h"

#include <algorithm>

namespace {

struct soprano_model {
    int32_t dim = 0, inter = 0, n_layers = 0, dw_kernel = 3, in_kernel = 1, upscale = 4, n_fft = 0, head_hop = 0;
    codec_conv embed;
    ggml_tensor * norm_w = nullptr, * norm_b = nullptr;
    std::vector<codec_convnext> convnext;
    ggml_tensor * final_w = nullptr, * final_b = nullptr;
    codec_vocos_head head;
};

const float k_eps = 1e-6f;

bool sp_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    soprano_model & m = *(soprano_model *) model.impl;
    codec_hparams & hp = model.hparams;
    if (!ld.get_i32("soprano.dim", m.dim, 1, 16384, err) ||
        !ld.get_i32("soprano.intermediate_dim", m.inter, 1, 65536, err) ||
        !ld.get_i32("soprano.num_layers", m.n_layers, 1, 256, err) ||
        !ld.get_i32("soprano.dw_kernel", m.dw_kernel, 1, 63, err) ||
        !ld.get_i32("soprano.input_kernel", m.in_kernel, 1, 63, err) ||
        !ld.get_i32("soprano.upscale", m.upscale, 1, 64, err) ||
        !ld.get_i32("soprano.n_fft", m.n_fft, 2, 1 << 16, err) ||
        !ld.get_i32("soprano.head_hop", m.head_hop, 1, 1 << 16, err)) {
        return false;
    }
    if (m.dw_kernel % 2 == 0 || m.in_kernel % 2 == 0 || m.n_fft % 2) {
        err = "soprano: kernels must be odd and n_fft even";
        return false;
    }
    if (hp.has_encoder || !hp.has_decoder || hp.channels != 1 || (int64_t) m.upscale * m.head_hop != hp.hop_size) {
        err = "Soprano is a mono decoder only, and codec.hop_size must be soprano.upscale * soprano.head_hop";
        return false;
    }
    hp.continuous = true;  // LM hidden states in, no codebook (codec.n_q / codebook_size are placeholders)
    const int C = m.dim, H = hp.latent_dim;
    m.embed = codec_load_cm_conv(ld, "decoder.embed", m.in_kernel, 1, H, C);
    m.norm_w = ld.tensor("decoder.norm.weight", {C}, CODEC_W_F32);
    m.norm_b = ld.tensor("decoder.norm.bias", {C}, CODEC_W_F32);
    for (int i = 0; i < m.n_layers; ++i) {
        m.convnext.push_back(codec_load_convnext(ld, "decoder.convnext." + std::to_string(i), C, m.inter, m.dw_kernel, 0,
                                                 true, false, k_eps));
    }
    m.final_w = ld.tensor("decoder.final_layer_norm.weight", {C}, CODEC_W_F32);
    m.final_b = ld.tensor("decoder.final_layer_norm.bias", {C}, CODEC_W_F32);
    m.head = codec_load_vocos_head(ld, "head", C, m.n_fft, m.head_hop, true, true);
    return true;
}

// F.interpolate(mode="linear", align_corners=True) to U (T - 1) + 1 frames: output U i + r is
// x_i (1 - r/U) + x_{i+1} r/U (the source position r/U is exact in float for U a power of two,
// as torch computes it), and the last output is x_{T-1}.
ggml_tensor * upsample(ggml_context * ctx, ggml_tensor * x, int U) {
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2];
    if (T == 1 || U == 1) return x;
    // frames 0..T-2 and 1..T-1 of each sequence; a batch's are strided views, made contiguous (ggml_scale's rule)
    const size_t nb2 = B > 1 ? x->nb[2] : (T - 1) * x->nb[1];
    ggml_tensor * a = ggml_view_3d(ctx, x, C, T - 1, B, x->nb[1], nb2, 0);
    ggml_tensor * b = ggml_view_3d(ctx, x, C, T - 1, B, x->nb[1], nb2, x->nb[1]);
    if (B > 1) {
        a = ggml_cont(ctx, a);
        b = ggml_cont(ctx, b);
    }
    ggml_tensor * y = ggml_reshape_4d(ctx, B > 1 ? a : ggml_cont(ctx, a), C, 1, T - 1, B);
    for (int r = 1; r < U; ++r) {
        const float l = (float) r / (float) U;
        ggml_tensor * yr = ggml_add(ctx, ggml_scale(ctx, a, 1.0f - l), ggml_scale(ctx, b, l));
        y = ggml_concat(ctx, y, ggml_reshape_4d(ctx, yr, C, 1, T - 1, B), 1);  // [C, r + 1, T - 1, B]
    }
    y = ggml_reshape_3d(ctx, y, C, U * (T - 1), B);
    return ggml_concat(ctx, y, ggml_view_3d(ctx, x, C, 1, B, x->nb[1], x->nb[2], (T - 1) * x->nb[1]), 1);
}

bool sp_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const soprano_model & m = *(const soprano_model *) model.impl;
    if (req.kind != CODEC_GRAPH_DECODE_LATENT) {
        err = "Soprano's decoder takes LM hidden states (codec_decode_latent), not codes: it has no codebook";
        return false;
    }
    ggml_context * ctx = g.ctx;
    const int64_t B = req.n_batch;
    ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, req.n_frames, model.hparams.latent_dim, "latent", B);
    x = upsample(ctx, ggml_cont(ctx, ggml_transpose(ctx, x)), m.upscale);        // [512, L, B]
    x = codec_cm_conv1d(ctx, x, m.embed.w, m.embed.b, 1, m.in_kernel / 2, 1);    // [C, L, B]
    x = codec_layer_norm(ctx, x, m.norm_w, m.norm_b, k_eps);
    for (const codec_convnext & b : m.convnext) x = codec_convnext_forward(ctx, b, x);
    x = codec_layer_norm(ctx, x, m.final_w, m.final_b, k_eps);
    if (x->ne[1] == 1) {  // (L - 1) * hop = 0 samples: an empty signal (ggml has no empty tensors)
        err = "Soprano needs at least 2 latent frames: the reference's output of 1 frame is empty ((T - 1) * 2048 samples)";
        return false;
    }
    ggml_tensor * y = codec_vocos_head_forward(ctx, m.head, x);                  // [(L - 1) * hop] (a batch: [.., B])
    codec_graph_output(g, ggml_reshape_3d(ctx, y, y->ne[0], 1, B), "pcm");
    return true;
}

bool sp_encode(const codec_model &, codec_graph &, const codec_graph_request &, std::string & err) {
    err = "Soprano's decoder has no encoder";
    return false;
}

size_t sp_graph_size(const codec_model & model, const codec_graph_request &) {
    const soprano_model & m = *(const soprano_model *) model.impl;
    return 512 + (size_t) m.upscale * 8 + (size_t) m.n_layers * (32 + (size_t) m.dw_kernel) + (size_t) m.in_kernel * 4 +
           (size_t) (m.n_fft / m.head_hop + 2) * 16;
}

// Every layer is local and its norms are per frame (the LayerNorms normalize channels; nothing
// normalizes over time), so a window of latent frames with the receptive field's context each
// side gives the one-shot samples: a WINDOW stream of latents. Context = the latent frames
// [lo, hi] that the samples of latent frame 0 ([0, hop)) read, walked back through the layers:
//   the ISTFT head (center): upsampled frame l overlap-adds into samples
//     [l * head_hop - n_fft / 2, l * head_hop + n_fft / 2) (and into the envelope they are divided
//     by): a transposed conv (k n_fft, stride head_hop, padding n_fft / 2); its linear layer, the
//     final LayerNorm and the ConvNeXt pointwise layers are per frame;
//   each ConvNeXt depthwise conv and the embed conv: centered convs (k, padding k / 2);
//   the interpolation: latent i weighs into upsampled frames [U i - U + 1, U i + U - 1], a
//     transposed conv (k 2U - 1, stride U, padding U - 1).
// left = -lo, right = hi (published config, n_fft 2048, head_hop 512, U 4, 8 k3 blocks, embed k1:
// upsampled [-1, 5] -> [-9, 13] -> latents [-3, 4]: 3 + 4 frames). A window starting on latent
// frame s starts on upsampled frame U s and on sample s * hop: the one-shot's phase (align 1).
// The last latent frame has no samples of its own: (T - 1) * hop in all, as the one-shot call.
void sp_stream(const codec_model & model, bool encode, codec_stream_spec & spec) {
    const soprano_model & m = *(const soprano_model *) model.impl;
    if (encode) {
        spec.why = "Soprano's decoder has no encoder";
        return;
    }
    codec_rf_span x = {0, model.hparams.hop_size - 1};
    codec_rf_convt(x, m.n_fft, m.head_hop, m.n_fft / 2);
    for (int i = 0; i < m.n_layers; ++i) codec_rf_conv(x, m.dw_kernel, 1, 1, m.dw_kernel / 2);
    codec_rf_conv(x, m.in_kernel, 1, 1, m.in_kernel / 2);
    codec_rf_convt(x, 2 * m.upscale - 1, m.upscale, m.upscale - 1);
    spec.kind = CODEC_STREAM_KIND_WINDOW;
    spec.left = std::max<int64_t>(0, -x.lo);
    spec.right = std::max<int64_t>(0, x.hi);
    spec.align = 1;
}

void * sp_create() { return new soprano_model(); }
void sp_destroy(void * p) { delete (soprano_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_soprano = {
    "soprano", sp_create, sp_destroy, sp_init, sp_encode, sp_decode, sp_graph_size, sp_stream,
    /*batch =*/ CODEC_BATCH_DECODE_LATENT,
};
