// Euclidean-distance residual VQ (EnCodec / Mimi codebooks). Vectors are channel-major
// [D, T] (ne0 = D) so the distance search is one matrix product per stage.
#pragma once

#include <ggml.h>

#include <string>
#include <vector>

struct codec_vq_euclidean {
    ggml_tensor * embed    = nullptr;  // [D, N] codebook (converter: embed_sum / clamp(cluster_usage))
    ggml_tensor * embed_sq = nullptr;  // [N]    |embed_j|^2 (converter)
};

class codec_model_loader;
// Declares "<prefix>.embed" [D, N] and "<prefix>.embed_sq" [N] (F32).
codec_vq_euclidean codec_load_vq_euclidean(codec_model_loader & ld, const std::string & prefix, int dim, int size);

// Quantizes x [D, T] (or a batch [D, T, B]) with the first n stages; appends one I32 [T] (or
// [T * B], sequence after sequence) code row per stage.
// argmin_j |r - e_j|^2 = |r|^2 - 2 r.e_j + |e_j|^2 (torch.cdist's matrix-product form).
void codec_rvq_euclidean_encode(ggml_context * ctx, const std::vector<codec_vq_euclidean> & vq, int n,
                                ggml_tensor * x, std::vector<ggml_tensor *> & codes);

// Sum over stages of embed[codes[q]] for codes I32 [T, n_rows] (or [T, n_rows, B]) rows
// row0..row0+n-1, stage q = row - row0; returns [D, T] (or [D, T * B]), summed in stage order as
// the reference.
ggml_tensor * codec_rvq_euclidean_decode(ggml_context * ctx, const std::vector<codec_vq_euclidean> & vq,
                                         ggml_tensor * codes, int row0, int n);
