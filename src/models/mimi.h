// Mimi (Kyutai), transformers `MimiModel` layout.
#pragma once

#include "codec_impl.h"
#include "blocks/seanet.h"
#include "blocks/transformer.h"
#include "blocks/vq_euclidean.h"

#include <vector>

// The model's parts, shared with Mimi's descendants (Qwen3-TTS's tokenizer encodes with a Mimi).
struct codec_mimi_rvq {  // MimiResidualVectorQuantizer
    ggml_tensor * input_proj = nullptr;   // [C, D]
    ggml_tensor * output_proj = nullptr;  // [D, C]
    std::vector<codec_vq_euclidean> layers;
};

struct codec_mimi {
    // > 0: the continuous variant (Pocket TTS's Mimi): no quantizer; the downsample outputs this
    // many channels (the latent) and the decoder projects them back (latent_proj). Set before loading.
    int32_t latent = 0;
    bool gelu_tanh = false;  // its transformers' MLP GELU (mimi.hidden_act, continuous variant)
    codec_seanet sn;  // causal, identity shortcuts, no norm
    int32_t stride = 0, n_layer = 0, n_head = 0, head_dim = 0, ffn = 0, window = 0, n_sem = 0;
    float eps = 0.0f, rope_theta = 0.0f;

    codec_seanet_conv enc_in, enc_out;
    std::vector<codec_seanet_stage> enc;
    codec_transformer enc_tr;
    ggml_tensor * downsample = nullptr;  // [2s * C, C or latent, 1], replicate-padded causal conv, no bias
    ggml_tensor * latent_proj = nullptr;  // [latent, C] 1x1 conv, no bias (continuous variant)

    codec_mimi_rvq semantic, acoustic;

    ggml_tensor * upsample = nullptr;  // [1, C, 2s] depthwise transposed conv taps
    codec_transformer dec_tr;
    codec_seanet_conv dec_in, dec_out;
    std::vector<codec_seanet_stage> dec;
};


// Reads the mimi.* keys and declares the tensors of the halves hp says the file has (hp: the
// codec.* values of the Mimi part: n_q, codebook size/dim, latent_dim = hidden, channels, hop).
bool codec_mimi_load(codec_mimi & m, codec_model_loader & ld, const codec_hparams & hp, std::string & err);
// Encoder graph up to the downsample: time-major PCM x [T, ch] -> latent [C (or latent), frames]
// (a batch: x [T, ch, B] -> [C, frames, B]).
ggml_tensor * codec_mimi_encode_latent(ggml_context * ctx, const codec_mimi & m, ggml_tensor * x, bool cpu,
                                       codec_stream_io * io);
// Encoder graph: time-major PCM x [T, ch] -> n_q code rows I32 [frames] appended to codes
// (a batch: x [T, ch, B] -> rows I32 [frames * B], sequence after sequence).
void codec_mimi_encode_codes(ggml_context * ctx, const codec_mimi & m, ggml_tensor * x, int n_q, bool cpu,
                             codec_stream_io * io, std::vector<ggml_tensor *> & codes);
// How a Mimi streams (both directions, and the Qwen3 tokenizer's encoder): state carried, the
// KV cache bounded by the sliding window or, without one, grown to every past frame.
void codec_mimi_stream_spec(const codec_mimi & m, codec_stream_spec & spec);

extern const codec_arch_ops codec_arch_mimi;
// Pocket TTS's Mimi (transformers PocketTTSAudioTokenizerModel): the continuous variant.
extern const codec_arch_ops codec_arch_pocket_mimi;
