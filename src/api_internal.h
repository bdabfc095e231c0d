// What the C API's translation units (codec.cpp: one input per call, batch.cpp: several)
// share: the checks of user input, graph execution and result copying.
#pragma once

#include "codec_impl.h"

#include <new>
#include <string>
#include <utility>
#include <vector>

// Records msg as ctx's last error and returns st.
codec_status codec_fail(codec_context * ctx, codec_status st, std::string msg);

// Runs f() with ctx's last error cleared; an allocation failure becomes CODEC_ERR_NO_MEMORY.
template <typename F>
codec_status codec_guarded(codec_context * ctx, F && f) {
    if (!ctx) return CODEC_ERR_INVALID_ARG;
    ctx->last_error.clear();
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return codec_fail(ctx, CODEC_ERR_NO_MEMORY, "out of memory");
    }
}

// Builds (or reuses) the graph for `req`, uploads `inputs` (pointer, bytes; in the graph's input
// order, sizes checked) and computes it; ctx->perf describes the call.
codec_status codec_run_graph(codec_context * ctx, const codec_graph_request & req,
                             const std::vector<std::pair<const void *, size_t>> & inputs, codec_graph ** out);

// A graph request: n is the input's length, samples per channel for an encode, frames for a
// decode. Callers add what only their kind has (row lengths, scale count, a latent's dim, batch).
codec_graph_request codec_graph_request_for(codec_graph_kind kind, const codec_hparams & hp, int32_t n_q, int64_t n);

// Input checks shared by every entry point; each returns CODEC_OK or the failure recorded on ctx.
// Encode: an encoder, pcm set, n_samples >= 1, finite samples.
codec_status codec_check_encode(codec_context * ctx, const float * pcm, int64_t n_samples);
// Decode: a decoder, n_q in 1..model's (`rows` names them: codebooks or code levels), n_frames >= 1.
codec_status codec_check_decode(codec_context * ctx, int32_t n_q, int32_t n_frames, const char * rows = "codebooks");
// Latent decode: a decoder, latent set, latent_dim the model's, n_frames >= 1, finite values.
codec_status codec_check_latent(codec_context * ctx, const float * latent, int32_t latent_dim, int32_t n_frames);
// Every code of rows [0, n_q) x [0, n_frames) (row stride n_frames) indexes the codebook.
codec_status codec_check_codes(codec_context * ctx, const int32_t * codes, int32_t n_q, int32_t n_frames);
// Multi-rate codes (a decoder assumed): data and row_len set, n_q / n_frames in range, each
// row_len in [1, n_frames], every valid code in range.
codec_status codec_check_levels(codec_context * ctx, const codec_codes * codes);
// Appends the valid part of each row (row_len[q] codes), row after row: a multi-rate decode's input.
void codec_pack_levels(const codec_codes * codes, std::vector<int32_t> & packed);

// Planar [ch][n] PCM -> interleaved [n][ch] in dst.
void codec_interleave(const float * planar, int64_t n, int32_t ch, std::vector<float> & dst);
// The decoder's output tensor [n, ch] -> ctx->pcm (interleaved) and *out (if set).
void codec_read_audio(codec_context * ctx, ggml_tensor * t, codec_audio * out);
