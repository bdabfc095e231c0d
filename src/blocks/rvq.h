// Residual vector quantization blocks. The residual is kept channel-major ([C, T], ne0 = C)
// inside the quantizer so projections are plain matrix products.
#pragma once

#include <ggml.h>

#include <vector>

// One factorized, l2-normalized VQ stage (DAC / improved-VQGAN style).
struct codec_vq_factorized {
    ggml_tensor * in_w = nullptr;       // [C, D]
    ggml_tensor * in_b = nullptr;       // [D]
    ggml_tensor * out_w = nullptr;      // [D, C]
    ggml_tensor * out_b = nullptr;      // [C]
    ggml_tensor * codebook = nullptr;   // [D, N]
    ggml_tensor * cb_norm = nullptr;    // [D, N] l2-normalized codebook (converter)
    ggml_tensor * cb_norm_sq = nullptr; // [N]    squared norms of cb_norm (converter)
};

// Code row q of codes I32 [T, n_q] or, for a batch, [T, n_q, B]: I32 [T * B], sequence after
// sequence, so the per-frame lookups below see the batch as more frames.
ggml_tensor * codec_codes_row(ggml_context * ctx, ggml_tensor * codes, int q);

// The quantizers work frame by frame: a batch [C, T, B] passes through them reshaped to [C, T * B].
// Encodes the latent z ([C, T]) with the first n_q stages; appends one I32 [T] code row per stage.
void codec_rvq_factorized_encode(ggml_context * ctx, const std::vector<codec_vq_factorized> & vq, int n_q,
                                 ggml_tensor * z, std::vector<ggml_tensor *> & codes);

// Sum of the first n_q stages' projected codebook vectors for codes I32 [T, n_q] (or [T, n_q, B]);
// returns [C, T] (or [C, T * B]).
ggml_tensor * codec_rvq_factorized_decode(ggml_context * ctx, const std::vector<codec_vq_factorized> & vq,
                                          ggml_tensor * codes);
