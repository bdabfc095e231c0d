// C API: several inputs per call. Same-shape inputs of a direction with a batch graph
// (codec_arch_ops::batch) share one graph; everything else runs through the one-input calls.
#include "api_internal.h"

#include <algorithm>
#include <map>
#include <utility>

namespace {

using batch_item = codec_context::batch_item;

// CODEC_BATCH_* bits of the calls whose same-shape inputs share a graph.
uint32_t graph_batches(const codec_model & m) {
    const codec_hparams & hp = m.hparams;
    const uint32_t codes = hp.continuous || hp.has_scales ? 0u : m.ops->batch & (CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE);
    return codes | (m.ops->batch & CODEC_BATCH_DECODE_LATENT);
}

// Input indices grouped by key, each group in input order.
template <typename Key, typename F>
std::vector<std::vector<int32_t>> group_by(int32_t n, F && key) {
    std::map<Key, std::vector<int32_t>> groups;
    for (int32_t i = 0; i < n; ++i) groups[key(i)].push_back(i);
    std::vector<std::vector<int32_t>> out;
    for (auto & kv : groups) out.push_back(std::move(kv.second));
    return out;
}

codec_status failed_input(codec_context * ctx, codec_status st, int32_t i) {
    return codec_fail(ctx, st, codec_fmt("input %d: ", i) + ctx->last_error);
}

// A group's graph failed: every input of the group is named ("inputs 0, 3: ...").
codec_status failed_group(codec_context * ctx, codec_status st, const std::vector<int32_t> & idx) {
    std::string names = "inputs ";
    for (size_t k = 0; k < idx.size(); ++k) names += (k ? ", " : "") + std::to_string(idx[k]);
    return codec_fail(ctx, st, names + ": " + ctx->last_error);
}

// The perf of a batch: the sum of its graphs' calls.
void add_perf(codec_perf & sum, const codec_perf & p) {
    sum.build_ms += p.build_ms;
    sum.alloc_ms += p.alloc_ms;
    sum.compute_ms += p.compute_ms;
    sum.io_ms += p.io_ms;
    sum.gflop += p.gflop;
    sum.n_nodes = p.n_nodes;
    sum.compute_buffer = p.compute_buffer;
}

void keep_codes(const codec_codes & c, batch_item & it) {
    it.codes.assign(c.data, c.data + (size_t) c.n_q * c.n_frames);
    if (c.row_len) it.row_len.assign(c.row_len, c.row_len + c.n_q);
    else it.row_len.assign((size_t) c.n_q, c.n_frames);
    it.scales.assign(c.scales, c.scales + c.n_scales);
}

// Inputs idx (all n_in samples long) through one graph with the batch axis.
codec_status encode_group(codec_context * ctx, const std::vector<int32_t> & idx, const float * const * pcm, int64_t n_in,
                          int32_t n_q) {
    const codec_hparams & hp = ctx->model->hparams;
    const int64_t B = (int64_t) idx.size(), per = n_in * hp.channels;
    std::vector<float> planar((size_t) (per * B));
    for (int64_t b = 0; b < B; ++b) {  // interleaved [n][ch] -> planar [ch][n], item after item
        const float * src = pcm[idx[b]];
        float * dst = planar.data() + b * per;
        for (int64_t i = 0; i < n_in; ++i)
            for (int c = 0; c < hp.channels; ++c) dst[c * n_in + i] = src[i * hp.channels + c];
    }
    codec_graph_request req = codec_graph_request_for(CODEC_GRAPH_ENCODE, hp, n_q, n_in);
    req.n_batch = (int32_t) B;
    codec_graph * g = nullptr;
    if (const codec_status st = codec_run_graph(ctx, req, {{planar.data(), planar.size() * sizeof(float)}}, &g); st != CODEC_OK) {
        return st;
    }
    // Row q: I32 [T_q, B]; multi-rate rows differ in T_q (shorter rows zero-padded, as codec_encode).
    int64_t T = 0;
    bool shapes_ok = g->outputs.size() == (size_t) n_q;
    for (ggml_tensor * o : g->outputs) {
        shapes_ok = shapes_ok && o->ne[1] == B && o->type == GGML_TYPE_I32;
        T = std::max(T, o->ne[0]);
    }
    if (!shapes_ok) return codec_fail(ctx, CODEC_ERR_BACKEND, "batched encode graph has the wrong outputs (model bug)");
    for (int64_t b = 0; b < B; ++b) {
        batch_item & it = ctx->batch[idx[b]];
        it.codes.assign((size_t) (n_q * T), 0);
        it.row_len.resize((size_t) n_q);
    }
    std::vector<int32_t> rows;
    for (int32_t q = 0; q < n_q; ++q) {
        const int64_t Tq = g->outputs[q]->ne[0];
        rows.resize((size_t) (Tq * B));
        ggml_backend_tensor_get(g->outputs[q], rows.data(), 0, ggml_nbytes(g->outputs[q]));
        for (int64_t b = 0; b < B; ++b) {
            batch_item & it = ctx->batch[idx[b]];
            std::copy(rows.begin() + b * Tq, rows.begin() + (b + 1) * Tq, it.codes.begin() + q * T);
            it.row_len[q] = (int32_t) Tq;
        }
    }
    return CODEC_OK;
}

// A batched decode graph's output PCM [n, ch, B] -> each input's interleaved PCM.
codec_status read_batch_pcm(codec_context * ctx, codec_graph * g, const std::vector<int32_t> & idx) {
    const int64_t B = (int64_t) idx.size();
    ggml_tensor * t = g->outputs.empty() ? nullptr : g->outputs[0];
    if (!t || t->ne[1] != ctx->model->hparams.channels || t->ne[2] != B || t->type != GGML_TYPE_F32) {
        return codec_fail(ctx, CODEC_ERR_BACKEND, "batched decode graph has the wrong output (model bug)");
    }
    const int64_t n = t->ne[0], ch = t->ne[1];
    std::vector<float> planar((size_t) ggml_nelements(t));
    ggml_backend_tensor_get(t, planar.data(), 0, ggml_nbytes(t));
    for (int64_t b = 0; b < B; ++b) codec_interleave(planar.data() + b * n * ch, n, (int32_t) ch, ctx->batch[idx[b]].pcm);
    return CODEC_OK;
}

// Inputs idx (codes of one shape, checked) through one graph with the batch axis. Each input's rows
// go in back to back (multi-rate rows: their row_len codes each, as codec_decode_codes packs them).
codec_status decode_group(codec_context * ctx, const std::vector<int32_t> & idx, const codec_codes * codes) {
    const codec_hparams & hp = ctx->model->hparams;
    const codec_codes & c0 = codes[idx[0]];
    const int64_t B = (int64_t) idx.size();
    codec_graph_request req = codec_graph_request_for(CODEC_GRAPH_DECODE, hp, c0.n_q, c0.n_frames);
    req.n_batch = (int32_t) B;
    if (hp.multi_rate) req.row_len.assign(c0.row_len, c0.row_len + c0.n_q);
    std::vector<int32_t> packed;
    for (int64_t b = 0; b < B; ++b) {
        const codec_codes & c = codes[idx[b]];
        if (hp.multi_rate) codec_pack_levels(&c, packed);
        else packed.insert(packed.end(), c.data, c.data + (size_t) c.n_q * c.n_frames);
    }
    codec_graph * g = nullptr;
    if (const codec_status st = codec_run_graph(ctx, req, {{packed.data(), packed.size() * sizeof(int32_t)}}, &g); st != CODEC_OK) {
        return st;
    }
    return read_batch_pcm(ctx, g, idx);
}

// Latents idx (n_frames each, checked) through one graph with the batch axis.
codec_status decode_latent_group(codec_context * ctx, const std::vector<int32_t> & idx, const float * const * latents,
                                 int32_t n_frames, int32_t latent_dim) {
    const size_t per = (size_t) latent_dim * n_frames;
    std::vector<float> packed(per * idx.size());
    for (size_t b = 0; b < idx.size(); ++b) std::copy(latents[idx[b]], latents[idx[b]] + per, packed.begin() + b * per);
    codec_graph_request req = codec_graph_request_for(CODEC_GRAPH_DECODE_LATENT, ctx->model->hparams, 0, n_frames);
    req.latent_dim = latent_dim;
    req.n_batch = (int32_t) idx.size();
    codec_graph * g = nullptr;
    if (const codec_status st = codec_run_graph(ctx, req, {{packed.data(), packed.size() * sizeof(float)}}, &g); st != CODEC_OK) {
        return st;
    }
    return read_batch_pcm(ctx, g, idx);
}

// out[i]: input i's PCM as the batch left it in ctx->batch.
void audio_out(codec_context * ctx, int32_t n_batch, codec_audio * out) {
    const codec_hparams & hp = ctx->model->hparams;
    for (int32_t i = 0; i < n_batch; ++i) {
        out[i].n_channels = hp.channels;
        out[i].n_samples = (int64_t) ctx->batch[i].pcm.size() / hp.channels;
        out[i].sample_rate = hp.sample_rate;
        out[i].data = ctx->batch[i].pcm.data();
    }
}

// The checks of codec_decode_codes for a model with a batch graph (no scales).
codec_status check_batch_codes(codec_context * ctx, const codec_codes & c) {
    const codec_hparams & hp = ctx->model->hparams;
    if (c.n_scales != 0 || c.scales) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "this model's codes have no per-chunk scales");
    if (hp.multi_rate) return codec_check_levels(ctx, &c);
    if (const codec_status st = codec_check_decode(ctx, c.n_q, c.n_frames); st != CODEC_OK) return st;
    if (!c.data) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "codes->data is NULL");
    for (int32_t q = 0; c.row_len && q < c.n_q; ++q) {
        if (c.row_len[q] != c.n_frames) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("row_len[%d] = %d but this model's code rows all have n_frames = %d",
                                                                    q, c.row_len[q], c.n_frames));
        }
    }
    return codec_check_codes(ctx, c.data, c.n_q, c.n_frames);
}

}  // namespace

extern "C" uint32_t codec_model_batch_graphs(const codec_model * m) { return m ? graph_batches(*m) : 0u; }

extern "C" bool codec_model_batch_graph(const codec_model * m) {
    const uint32_t both = CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE;
    return (codec_model_batch_graphs(m) & both) == both;
}

extern "C" codec_status codec_encode_batch(codec_context * ctx, const float * const * pcm, const int64_t * n_samples,
                                           int32_t n_batch, int32_t n_q, codec_codes * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        const codec_hparams & hp = ctx->model->hparams;
        if (!pcm || !n_samples || !out) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "pcm, n_samples and out must all be set");
        if (n_batch < 1) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_batch = %d: nothing to encode", n_batch));
        if (hp.continuous) {
            return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model (" + hp.arch + ") has continuous latents: encode them with codec_encode_latent");
        }
        if (n_q == CODEC_N_Q_ALL) n_q = hp.n_q;
        if (n_q < 1 || n_q > hp.n_q) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_q = %d is out of range: this model has 1..%d codebooks", n_q, hp.n_q));
        }
        for (int32_t i = 0; i < n_batch; ++i) {
            if (const codec_status st = codec_check_encode(ctx, pcm[i], n_samples[i]); st != CODEC_OK) return failed_input(ctx, st, i);
        }
        ctx->batch.assign((size_t) n_batch, batch_item{});
        codec_perf perf = {};
        const bool graphs = graph_batches(*ctx->model) & CODEC_BATCH_ENCODE;
        for (const auto & idx : group_by<int64_t>(n_batch, [&](int32_t i) { return graphs ? n_samples[i] : -1 - i; })) {
            if (idx.size() > 1) {
                if (const codec_status st = encode_group(ctx, idx, pcm, n_samples[idx[0]], n_q); st != CODEC_OK) {
                    return failed_group(ctx, st, idx);
                }
            } else {
                codec_codes c;
                if (const codec_status st = codec_encode(ctx, pcm[idx[0]], n_samples[idx[0]], n_q, &c); st != CODEC_OK) {
                    return failed_input(ctx, st, idx[0]);
                }
                keep_codes(c, ctx->batch[idx[0]]);
            }
            add_perf(perf, ctx->perf);
        }
        ctx->perf = perf;
        for (int32_t i = 0; i < n_batch; ++i) {
            const batch_item & it = ctx->batch[i];
            out[i] = codec_codes{};
            out[i].n_q = n_q;
            out[i].n_frames = it.row_len.empty() ? 0 : *std::max_element(it.row_len.begin(), it.row_len.end());
            out[i].data = it.codes.data();
            out[i].row_len = hp.multi_rate ? it.row_len.data() : nullptr;
            out[i].n_scales = (int32_t) it.scales.size();
            out[i].scales = it.scales.empty() ? nullptr : it.scales.data();
        }
        return CODEC_OK;
    });
}

extern "C" codec_status codec_decode_batch(codec_context * ctx, const codec_codes * codes, int32_t n_batch, codec_audio * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        if (!codes || !out) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "codes and out must both be set");
        if (n_batch < 1) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_batch = %d: nothing to decode", n_batch));
        const bool graphs = graph_batches(*ctx->model) & CODEC_BATCH_DECODE;
        for (int32_t i = 0; i < n_batch && graphs; ++i) {  // the graph path's checks (others: codec_decode_codes checks)
            if (const codec_status st = check_batch_codes(ctx, codes[i]); st != CODEC_OK) return failed_input(ctx, st, i);
        }
        ctx->batch.assign((size_t) n_batch, batch_item{});
        codec_perf perf = {};
        const auto key = [&](int32_t i) {  // the shape: n_q, n_frames, row lengths (one group per input without graphs)
            const codec_codes & c = codes[i];
            std::vector<int32_t> k = {graphs ? c.n_q : -1 - i, c.n_frames};
            if (graphs && ctx->model->hparams.multi_rate) k.insert(k.end(), c.row_len, c.row_len + c.n_q);
            return k;
        };
        for (const auto & idx : group_by<std::vector<int32_t>>(n_batch, key)) {
            if (idx.size() > 1) {
                if (const codec_status st = decode_group(ctx, idx, codes); st != CODEC_OK) return failed_group(ctx, st, idx);
            } else {
                codec_audio a;
                if (const codec_status st = codec_decode_codes(ctx, &codes[idx[0]], &a); st != CODEC_OK) return failed_input(ctx, st, idx[0]);
                ctx->batch[idx[0]].pcm.swap(ctx->pcm);
            }
            add_perf(perf, ctx->perf);
        }
        ctx->perf = perf;
        audio_out(ctx, n_batch, out);
        return CODEC_OK;
    });
}

extern "C" codec_status codec_decode_latent_batch(codec_context * ctx, const float * const * latents, const int32_t * n_frames,
                                                  int32_t n_batch, int32_t latent_dim, codec_audio * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        if (!latents || !n_frames || !out) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "latents, n_frames and out must all be set");
        if (n_batch < 1) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_batch = %d: nothing to decode", n_batch));
        for (int32_t i = 0; i < n_batch; ++i) {
            if (const codec_status st = codec_check_latent(ctx, latents[i], latent_dim, n_frames[i]); st != CODEC_OK) {
                return failed_input(ctx, st, i);
            }
        }
        ctx->batch.assign((size_t) n_batch, batch_item{});
        codec_perf perf = {};
        const bool graphs = graph_batches(*ctx->model) & CODEC_BATCH_DECODE_LATENT;
        for (const auto & idx : group_by<int64_t>(n_batch, [&](int32_t i) { return graphs ? n_frames[i] : -1 - i; })) {
            if (idx.size() > 1) {
                if (const codec_status st = decode_latent_group(ctx, idx, latents, n_frames[idx[0]], latent_dim); st != CODEC_OK) {
                    return failed_group(ctx, st, idx);
                }
            } else {
                codec_audio a;
                if (const codec_status st = codec_decode_latent(ctx, latents[idx[0]], latent_dim, n_frames[idx[0]], &a); st != CODEC_OK) {
                    return failed_input(ctx, st, idx[0]);
                }
                ctx->batch[idx[0]].pcm.swap(ctx->pcm);
            }
            add_perf(perf, ctx->perf);
        }
        ctx->perf = perf;
        audio_out(ctx, n_batch, out);
        return CODEC_OK;
    });
}
