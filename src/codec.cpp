// C API: model loading, contexts, and the checked encode/decode entry points.
#include "api_internal.h"
#include "codec_impl.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <thread>

std::string codec_fmt(const char * fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

codec_model::~codec_model() {
    if (ops && impl) ops->destroy(impl);
}

static int default_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : (int) n;
}

extern "C" {

const char * codec_status_str(codec_status s) {
    switch (s) {
        case CODEC_OK:              return "ok";
        case CODEC_ERR_INVALID_ARG: return "invalid argument";
        case CODEC_ERR_IO:          return "i/o error";
        case CODEC_ERR_FORMAT:      return "invalid model file";
        case CODEC_ERR_UNSUPPORTED: return "unsupported";
        case CODEC_ERR_BACKEND:     return "backend error";
        case CODEC_ERR_NO_MEMORY:   return "out of memory";
    }
    return "unknown status";
}

codec_model_params codec_model_default_params(void) {
    codec_model_params p;
    p.n_threads = 0;
    p.use_gpu = false;
    return p;
}

codec_context_params codec_context_default_params(void) {
    codec_context_params p;
    p.n_threads = 0;
    return p;
}

// codec.encode_sample_rate (optional: absent means the output rate): the encoder's frames span
// the same time as the decoder's, so its hop is hop_size scaled by the rate ratio, a whole number.
static bool read_encode_rate(const codec_model_loader & ld, codec_hparams & hp, std::string & err) {
    hp.encode_sample_rate = hp.sample_rate;
    hp.encode_hop_size = hp.hop_size;
    if (!ld.has_key("codec.encode_sample_rate")) return true;
    if (!ld.get_i32("codec.encode_sample_rate", hp.encode_sample_rate, 1000, 1000000, err)) return false;
    const int64_t scaled = (int64_t) hp.hop_size * hp.encode_sample_rate;
    if (scaled % hp.sample_rate != 0) {
        err = codec_fmt("codec.encode_sample_rate %d Hz does not give a whole encoder hop (hop_size %d at %d Hz)",
                        hp.encode_sample_rate, hp.hop_size, hp.sample_rate);
        return false;
    }
    hp.encode_hop_size = (int32_t) (scaled / hp.sample_rate);
    return true;
}

static codec_status load_model(codec_model & m, const char * path, const codec_model_params & params, std::string & err) {
    if (!m.loader.open(path, err)) {
        return err.rfind("cannot open", 0) == 0 ? CODEC_ERR_IO : CODEC_ERR_FORMAT;
    }
    codec_model_loader & ld = m.loader;
    codec_hparams & hp = m.hparams;
    if (!ld.get_str("codec.arch", hp.arch, err)) return CODEC_ERR_FORMAT;
    m.ops = codec_find_arch(hp.arch);
    if (!m.ops) {
        err = "unsupported architecture '" + hp.arch + "' (codec.arch)";
        return CODEC_ERR_UNSUPPORTED;
    }
    if (!ld.get_i32("codec.sample_rate",   hp.sample_rate,   1000, 1000000, err) ||
        !ld.get_i32("codec.hop_size",      hp.hop_size,      1, 1 << 20, err) ||
        !ld.get_i32("codec.n_q",           hp.n_q,           1, 1024, err) ||
        !ld.get_i32("codec.codebook_size", hp.codebook_size, 2, 1 << 20, err) ||
        !ld.get_i32("codec.codebook_dim",  hp.codebook_dim,  1, 1 << 16, err) ||
        !ld.get_i32("codec.latent_dim",    hp.latent_dim,    1, 1 << 20, err) ||
        !ld.get_i32("codec.channels",      hp.channels,      1, 64, err) ||
        !ld.get_bool("codec.has_encoder",  hp.has_encoder, err) ||
        !ld.get_bool("codec.has_decoder",  hp.has_decoder, err)) {
        return CODEC_ERR_FORMAT;
    }
    if (!read_encode_rate(ld, hp, err)) return CODEC_ERR_FORMAT;
    m.impl = m.ops->create();
    if (!m.ops->init(m, ld, err)) return CODEC_ERR_FORMAT;
    if (!ld.ok()) {
        err = ld.error();
        return CODEC_ERR_FORMAT;
    }
    if (hp.has_encoder && hp.encode_sample_rate != hp.sample_rate && !hp.encode_rate_checked) {
        err = codec_fmt("codec.encode_sample_rate is %d Hz, but a %s encoder takes the output rate (%d Hz)",
                        hp.encode_sample_rate, hp.arch.c_str(), hp.sample_rate);
        return CODEC_ERR_FORMAT;
    }

    m.n_threads = params.n_threads > 0 ? params.n_threads : default_threads();
    m.dev = nullptr;
    if (params.use_gpu) m.dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_GPU);
    m.on_gpu = m.dev != nullptr;
    if (!m.dev) m.dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!m.dev) {
        err = "no ggml CPU backend available";
        return CODEC_ERR_BACKEND;
    }
    if (!ld.load(ggml_backend_dev_buffer_type(m.dev), err)) {
        return err.rfind("cannot allocate", 0) == 0 ? CODEC_ERR_NO_MEMORY : CODEC_ERR_FORMAT;
    }
    return CODEC_OK;
}

codec_model * codec_model_load(const char * path, codec_model_params params, codec_status * status,
                               char * err, size_t err_size) {
    std::string msg;
    codec_status st = CODEC_OK;
    codec_model * m = nullptr;
    if (!path) {
        st = CODEC_ERR_INVALID_ARG;
        msg = "model path is NULL";
    } else {
        m = new (std::nothrow) codec_model();
        if (!m) {
            st = CODEC_ERR_NO_MEMORY;
            msg = "out of memory";
        } else {
            try {
                st = load_model(*m, path, params, msg);
            } catch (const std::bad_alloc &) {
                st = CODEC_ERR_NO_MEMORY;
                msg = "out of memory while loading the model";
            }
            if (st != CODEC_OK) {
                delete m;
                m = nullptr;
            }
        }
    }
    if (status) *status = st;
    if (err && err_size > 0) std::snprintf(err, err_size, "%s", msg.c_str());
    return m;
}

void codec_model_free(codec_model * model) { delete model; }

const char * codec_model_arch(const codec_model * m)          { return m ? m->hparams.arch.c_str() : ""; }
int32_t codec_model_sample_rate(const codec_model * m)        { return m ? m->hparams.sample_rate : 0; }
int32_t codec_model_hop_size(const codec_model * m)           { return m ? m->hparams.hop_size : 0; }
int32_t codec_model_encode_sample_rate(const codec_model * m) { return m ? m->hparams.encode_sample_rate : 0; }
int32_t codec_model_encode_hop_size(const codec_model * m)    { return m ? m->hparams.encode_hop_size : 0; }
int32_t codec_model_n_q(const codec_model * m)                { return m ? m->hparams.n_q : 0; }
int32_t codec_model_codebook_size(const codec_model * m)      { return m ? m->hparams.codebook_size : 0; }
int32_t codec_model_codebook_dim(const codec_model * m)       { return m ? m->hparams.codebook_dim : 0; }
int32_t codec_model_latent_dim(const codec_model * m)         { return m ? m->hparams.latent_dim : 0; }
int32_t codec_model_channels(const codec_model * m)           { return m ? m->hparams.channels : 0; }
bool    codec_model_has_encoder(const codec_model * m)        { return m && m->hparams.has_encoder; }
bool    codec_model_has_decoder(const codec_model * m)        { return m && m->hparams.has_decoder; }
bool    codec_model_uses_gpu(const codec_model * m)           { return m && m->on_gpu; }
bool    codec_model_has_scales(const codec_model * m)         { return m && m->hparams.has_scales; }
bool    codec_model_multi_rate(const codec_model * m)         { return m && m->hparams.multi_rate; }
bool    codec_model_continuous(const codec_model * m)         { return m && m->hparams.continuous; }

int32_t codec_model_n_q_for_bandwidth(const codec_model * m, float kbps) {
    if (!m) return 0;
    const codec_hparams & hp = m->hparams;
    for (size_t i = 0; i < hp.bandwidths.size(); ++i) {
        if (std::fabs(hp.bandwidths[i] - kbps) <= 1e-4f * hp.bandwidths[i]) return hp.bandwidth_n_q[i];
    }
    return 0;
}

int32_t codec_model_bandwidths(const codec_model * m, float * out, int32_t max_n) {
    if (!m) return 0;
    const std::vector<float> & b = m->hparams.bandwidths;
    for (int32_t i = 0; out && i < max_n && i < (int32_t) b.size(); ++i) out[i] = b[(size_t) i];
    return (int32_t) b.size();
}

static std::string render_value(const gguf_context * g, int64_t id, gguf_type t, const void * data, size_t i) {
    switch (t) {
        case GGUF_TYPE_UINT8:   return std::to_string(((const uint8_t  *) data)[i]);
        case GGUF_TYPE_INT8:    return std::to_string(((const int8_t   *) data)[i]);
        case GGUF_TYPE_UINT16:  return std::to_string(((const uint16_t *) data)[i]);
        case GGUF_TYPE_INT16:   return std::to_string(((const int16_t  *) data)[i]);
        case GGUF_TYPE_UINT32:  return std::to_string(((const uint32_t *) data)[i]);
        case GGUF_TYPE_INT32:   return std::to_string(((const int32_t  *) data)[i]);
        case GGUF_TYPE_UINT64:  return std::to_string(((const uint64_t *) data)[i]);
        case GGUF_TYPE_INT64:   return std::to_string(((const int64_t  *) data)[i]);
        case GGUF_TYPE_FLOAT32: return codec_fmt("%.9g", ((const float  *) data)[i]);
        case GGUF_TYPE_FLOAT64: return codec_fmt("%.17g", ((const double *) data)[i]);
        case GGUF_TYPE_BOOL:    return ((const int8_t *) data)[i] ? "true" : "false";
        case GGUF_TYPE_STRING:  return gguf_get_arr_str(g, id, i);
        default:                return "?";
    }
}

int32_t codec_model_meta_str(const codec_model * m, const char * key, char * buf, size_t buf_size) {
    if (!m || !key || !m->loader.gguf()) return -1;
    const gguf_context * g = m->loader.gguf();
    const int64_t id = gguf_find_key(g, key);
    if (id < 0) return -1;
    std::string s;
    const gguf_type t = gguf_get_kv_type(g, id);
    if (t == GGUF_TYPE_STRING) {
        s = gguf_get_val_str(g, id);
    } else if (t == GGUF_TYPE_ARRAY) {
        const gguf_type at = gguf_get_arr_type(g, id);
        const size_t n = gguf_get_arr_n(g, id);
        const void * data = at == GGUF_TYPE_STRING ? nullptr : gguf_get_arr_data(g, id);
        s = "[";
        for (size_t i = 0; i < n; ++i) {
            s += render_value(g, id, at, data, i);
            if (i + 1 < n) s += ", ";
        }
        s += "]";
    } else {
        s = render_value(g, id, t, gguf_get_val_data(g, id), 0);
    }
    if (buf && buf_size > 0) std::snprintf(buf, buf_size, "%s", s.c_str());
    return (int32_t) std::min<size_t>(s.size(), INT32_MAX);
}

codec_context * codec_context_new(codec_model * model, codec_context_params params) {
    if (!model) return nullptr;
    codec_context * ctx = new (std::nothrow) codec_context();
    if (!ctx) return nullptr;
    ctx->model = model;
    ctx->n_threads = params.n_threads > 0 ? params.n_threads : model->n_threads;
    std::string err;
    if (!ctx->runner.init(model->dev, ctx->n_threads, err)) {
        delete ctx;
        return nullptr;
    }
    return ctx;
}

void codec_context_free(codec_context * ctx) { delete ctx; }

const char * codec_context_last_error(const codec_context * ctx) {
    return ctx ? ctx->last_error.c_str() : "context is NULL";
}

void codec_context_perf(const codec_context * ctx, codec_perf * out) {
    if (!out) return;
    *out = ctx ? ctx->perf : codec_perf{};
}

void codec_context_set_n_threads(codec_context * ctx, int32_t n_threads) {
    if (!ctx) return;
    ctx->n_threads = n_threads > 0 ? n_threads : ctx->model->n_threads;
    ctx->runner.set_n_threads(ctx->n_threads);
}

}  // extern "C"

codec_status codec_fail(codec_context * ctx, codec_status st, std::string msg) {
    ctx->last_error = std::move(msg);
    return st;
}

using codec_clock = std::chrono::steady_clock;

static double ms_since(codec_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(codec_clock::now() - t0).count();
}

codec_status codec_run_graph(codec_context * ctx, const codec_graph_request & req,
                             const std::vector<std::pair<const void *, size_t>> & inputs, codec_graph ** out) {
    const codec_model & m = *ctx->model;
    std::string err;
    codec_perf perf = {};
    auto t0 = codec_clock::now();
    const auto build = [&](codec_graph & g, std::string & e) {
        return codec_graph_is_encode(req.kind) ? m.ops->encode(m, g, req, e) : m.ops->decode(m, g, req, e);
    };
    codec_graph * g = ctx->runner.get(req, build, m.ops->graph_size(m, req), err);
    if (!g) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, err);
    perf.build_ms = ctx->runner.last_get_built() ? ms_since(t0) : 0.0;
    if (g->inputs.size() != inputs.size()) return codec_fail(ctx, CODEC_ERR_BACKEND, "graph input count mismatch (model bug)");
    t0 = codec_clock::now();
    if (!ctx->runner.alloc(*g, err)) return codec_fail(ctx, CODEC_ERR_NO_MEMORY, err);
    perf.alloc_ms = ms_since(t0);
    t0 = codec_clock::now();
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (ggml_nbytes(g->inputs[i]) != inputs[i].second) {
            return codec_fail(ctx, CODEC_ERR_BACKEND, "graph input size mismatch (model bug)");
        }
        ggml_backend_tensor_set(g->inputs[i], inputs[i].first, 0, inputs[i].second);
    }
    perf.io_ms = ms_since(t0);
    t0 = codec_clock::now();
    if (!ctx->runner.compute(*g, err)) return codec_fail(ctx, CODEC_ERR_BACKEND, err);
    perf.compute_ms = ms_since(t0);
    perf.gflop = codec_graph_flops(g->gf) * 1e-9;
    perf.n_nodes = g->n_nodes;
    perf.compute_buffer = ctx->runner.compute_buffer_size();
    ctx->perf = perf;
    *out = g;
    return CODEC_OK;
}

void codec_interleave(const float * planar, int64_t n, int32_t ch, std::vector<float> & dst) {
    if (ch == 1) {
        dst.assign(planar, planar + n);
        return;
    }
    dst.resize((size_t) (n * ch));
    for (int32_t c = 0; c < ch; ++c)
        for (int64_t i = 0; i < n; ++i) dst[(size_t) (i * ch + c)] = planar[(size_t) (c * n + i)];
}

void codec_read_audio(codec_context * ctx, ggml_tensor * t, codec_audio * out) {
    const int64_t n = t->ne[0];
    const int32_t ch = (int32_t) t->ne[1];
    std::vector<float> planar((size_t) (n * ch));
    ggml_backend_tensor_get(t, planar.data(), 0, ggml_nbytes(t));
    if (ch == 1) ctx->pcm.swap(planar);
    else codec_interleave(planar.data(), n, ch, ctx->pcm);
    if (out) {
        out->n_samples = n;
        out->n_channels = ch;
        out->sample_rate = ctx->model->hparams.sample_rate;
        out->data = ctx->pcm.data();
    }
}


codec_status codec_check_decode(codec_context * ctx, int32_t n_q, int32_t n_frames, const char * rows) {
    const codec_hparams & hp = ctx->model->hparams;
    if (!hp.has_decoder) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model has no decoder");
    if (n_q < 1 || n_q > hp.n_q) {
        return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_q = %d is out of range: this model has 1..%d %s", n_q, hp.n_q, rows));
    }
    if (n_frames < 1) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_frames = %d: no codes to decode", n_frames));
    return CODEC_OK;
}

codec_status codec_check_codes(codec_context * ctx, const int32_t * codes, int32_t n_q, int32_t n_frames) {
    const int32_t cb = ctx->model->hparams.codebook_size;
    for (int32_t q = 0; q < n_q; ++q) {
        for (int32_t t = 0; t < n_frames; ++t) {
            const int32_t c = codes[(size_t) q * n_frames + t];
            if (c < 0 || c >= cb) {
                return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("code %d at codebook %d, frame %d is out of range [0, %d)", c, q, t, cb));
            }
        }
    }
    return CODEC_OK;
}

codec_graph_request codec_graph_request_for(codec_graph_kind kind, const codec_hparams & hp, int32_t n_q, int64_t n) {
    codec_graph_request req;
    req.kind = kind;
    (codec_graph_is_encode(kind) ? req.n_in : req.n_frames) = n;
    req.n_q = n_q;
    req.hop = codec_graph_is_encode(kind) ? hp.encode_hop_size : hp.hop_size;
    req.latent_dim = hp.latent_dim;
    return req;
}

codec_status codec_check_encode(codec_context * ctx, const float * pcm, int64_t n_samples) {
    const codec_hparams & hp = ctx->model->hparams;
    if (!hp.has_encoder) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model has no encoder (its GGUF holds the decoder only)");
    if (!pcm) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "pcm is NULL");
    if (n_samples <= 0) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "empty audio (n_samples = " + std::to_string(n_samples) + ")");
    if (n_samples > (INT64_MAX / 64) / hp.channels) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "audio too long");
    const int64_t total = n_samples * hp.channels;
    for (int64_t i = 0; i < total; ++i) {
        if (!std::isfinite(pcm[i])) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("pcm[%lld] is not finite (NaN or Inf)", (long long) i));
        }
    }
    return CODEC_OK;
}

// Runs the encode graph of `req` on interleaved PCM (checked): the graph takes planar [T, C]; most
// codecs are mono so this is usually a copy-free view.
static codec_status run_encode(codec_context * ctx, const codec_graph_request & req, const float * pcm, codec_graph ** g) {
    const int ch = ctx->model->hparams.channels;
    const int64_t n = req.n_in, total = n * ch;
    std::vector<float> planar;
    const float * src = pcm;
    if (ch > 1) {
        planar.resize((size_t) total);
        for (int64_t i = 0; i < n; ++i)
            for (int c = 0; c < ch; ++c) planar[(size_t) (c * n + i)] = pcm[i * ch + c];
        src = planar.data();
    }
    return codec_run_graph(ctx, req, {{src, (size_t) total * sizeof(float)}}, g);
}

static const char * k_continuous_codes = "this model (%s) has continuous latents, no codebook: use codec_%s_latent";

extern "C" codec_status codec_encode(codec_context * ctx, const float * pcm, int64_t n_samples, int32_t n_q,
                                     codec_codes * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        const codec_hparams & hp = ctx->model->hparams;
        if (hp.continuous) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, codec_fmt(k_continuous_codes, hp.arch.c_str(), "encode"));
        if (const codec_status st = codec_check_encode(ctx, pcm, n_samples); st != CODEC_OK) return st;
        if (n_q == CODEC_N_Q_ALL) n_q = hp.n_q;
        if (n_q < 1 || n_q > hp.n_q) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_q = %d is out of range: this model has 1..%d codebooks", n_q, hp.n_q));
        }
        codec_graph * g = nullptr;
        const codec_status st = run_encode(ctx, codec_graph_request_for(CODEC_GRAPH_ENCODE, hp, n_q, n_samples), pcm, &g);
        if (st != CODEC_OK) return st;
        // Rows may differ in length (multi-rate codecs): n_frames is the longest, shorter rows are
        // zero-padded and their lengths reported in row_len (always set for multi-rate models).
        int64_t n_frames = 0;
        bool ragged = false;
        for (int q = 0; q < n_q; ++q) {
            n_frames = std::max<int64_t>(n_frames, g->outputs[q]->ne[0]);
            ragged = ragged || g->outputs[q]->ne[0] != g->outputs[0]->ne[0];
        }
        ctx->codes.assign((size_t) (n_frames * n_q), 0);
        ctx->row_len.resize((size_t) n_q);
        for (int q = 0; q < n_q; ++q) {
            ctx->row_len[q] = (int32_t) g->outputs[q]->ne[0];
            ggml_backend_tensor_get(g->outputs[q], ctx->codes.data() + (size_t) q * n_frames, 0, ggml_nbytes(g->outputs[q]));
        }
        ctx->scales.clear();
        if (hp.has_scales) {  // chunked codecs: one more output, the per-chunk scales
            if (g->outputs.size() != (size_t) n_q + 1) return codec_fail(ctx, CODEC_ERR_BACKEND, "encode graph lacks the scales output (model bug)");
            ctx->scales.resize((size_t) ggml_nelements(g->outputs[n_q]));
            ggml_backend_tensor_get(g->outputs[n_q], ctx->scales.data(), 0, ggml_nbytes(g->outputs[n_q]));
            // Finite samples far outside [-1, 1] (|x| > ~1e19) overflow a chunk's RMS: such codes
            // could never be decoded (decode rejects non-finite scales), so refuse them here.
            for (size_t i = 0; i < ctx->scales.size(); ++i) {
                if (!std::isfinite(ctx->scales[i])) {
                    return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("audio too loud: the scale (RMS) of chunk %zu overflows float "
                                                                      "(samples should lie in [-1, 1])", i));
                }
            }
        }
        if (out) {
            *out = codec_codes{};
            out->n_q = n_q;
            out->n_frames = (int32_t) n_frames;
            out->data = ctx->codes.data();
            out->row_len = ragged || hp.multi_rate ? ctx->row_len.data() : nullptr;
            out->n_scales = (int32_t) ctx->scales.size();
            out->scales = ctx->scales.empty() ? nullptr : ctx->scales.data();
        }
        return CODEC_OK;
    });
}

extern "C" codec_status codec_decode(codec_context * ctx, const int32_t * codes, int32_t n_q, int32_t n_frames,
                                     codec_audio * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        const codec_hparams & hp = ctx->model->hparams;
        if (!hp.has_decoder) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model has no decoder");
        if (hp.continuous) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, codec_fmt(k_continuous_codes, hp.arch.c_str(), "decode"));
        if (hp.multi_rate) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "this model's (" + hp.arch + ") code levels have different lengths: "
                        "decode them with codec_decode_codes, row_len set as codec_encode returns it");
        }
        if (hp.has_scales) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "this model's (" + hp.arch + ") codes carry per-chunk scales: "
                        "decode them with codec_decode_codes, scales set as codec_encode returns them");
        }
        if (!codes) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "codes is NULL");
        if (const codec_status st = codec_check_decode(ctx, n_q, n_frames); st != CODEC_OK) return st;
        if (const codec_status st = codec_check_codes(ctx, codes, n_q, n_frames); st != CODEC_OK) return st;
        const codec_graph_request req = codec_graph_request_for(CODEC_GRAPH_DECODE, hp, n_q, n_frames);
        codec_graph * g = nullptr;
        const codec_status st = codec_run_graph(ctx, req, {{codes, (size_t) n_q * n_frames * sizeof(int32_t)}}, &g);
        if (st != CODEC_OK) return st;
        codec_read_audio(ctx, g->outputs[0], out);
        return CODEC_OK;
    });
}

codec_status codec_check_latent(codec_context * ctx, const float * latent, int32_t latent_dim, int32_t n_frames) {
    const codec_hparams & hp = ctx->model->hparams;
    if (!hp.has_decoder) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model has no decoder");
    if (!latent) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "latent is NULL");
    if (latent_dim != hp.latent_dim) {
        return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("latent_dim = %d, this model's is %d", latent_dim, hp.latent_dim));
    }
    if (n_frames < 1) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("n_frames = %d: nothing to decode", n_frames));
    const size_t total = (size_t) latent_dim * n_frames;
    for (size_t i = 0; i < total; ++i) {
        if (!std::isfinite(latent[i])) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("latent[%zu] is not finite", i));
    }
    return CODEC_OK;
}

extern "C" codec_status codec_decode_latent(codec_context * ctx, const float * latent, int32_t latent_dim,
                                            int32_t n_frames, codec_audio * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        const codec_hparams & hp = ctx->model->hparams;
        if (const codec_status st = codec_check_latent(ctx, latent, latent_dim, n_frames); st != CODEC_OK) return st;
        const size_t total = (size_t) latent_dim * n_frames;
        codec_graph_request req = codec_graph_request_for(CODEC_GRAPH_DECODE_LATENT, hp, 0, n_frames);
        req.latent_dim = latent_dim;
        codec_graph * g = nullptr;
        const codec_status st = codec_run_graph(ctx, req, {{latent, total * sizeof(float)}}, &g);
        if (st != CODEC_OK) return st;
        codec_read_audio(ctx, g->outputs[0], out);
        return CODEC_OK;
    });
}

extern "C" codec_status codec_encode_latent(codec_context * ctx, const float * pcm, int64_t n_samples, codec_latent * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        const codec_hparams & hp = ctx->model->hparams;
        if (!hp.continuous) {
            return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model (" + hp.arch + ") encodes to codes, not continuous latents: use codec_encode");
        }
        if (const codec_status st = codec_check_encode(ctx, pcm, n_samples); st != CODEC_OK) return st;
        codec_graph * g = nullptr;
        const codec_status st = run_encode(ctx, codec_graph_request_for(CODEC_GRAPH_ENCODE_LATENT, hp, 0, n_samples), pcm, &g);
        if (st != CODEC_OK) return st;
        ggml_tensor * t = g->outputs[0];  // [n_frames, latent_dim]: row-major [latent_dim][n_frames]
        if (g->outputs.size() != 1 || t->ne[1] != hp.latent_dim || t->type != GGML_TYPE_F32) {
            return codec_fail(ctx, CODEC_ERR_BACKEND, "encode graph's latent output has the wrong shape (model bug)");
        }
        ctx->latent.resize((size_t) ggml_nelements(t));
        ggml_backend_tensor_get(t, ctx->latent.data(), 0, ggml_nbytes(t));
        if (out) {
            out->latent_dim = hp.latent_dim;
            out->n_frames = (int32_t) t->ne[0];
            out->data = ctx->latent.data();
        }
        return CODEC_OK;
    });
}

codec_status codec_check_levels(codec_context * ctx, const codec_codes * codes) {
    const int32_t cb = ctx->model->hparams.codebook_size;
    if (!codes->data) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "codes->data is NULL");
    if (!codes->row_len) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "this model's code levels have different lengths: set codes->row_len");
    if (const codec_status st = codec_check_decode(ctx, codes->n_q, codes->n_frames, "code levels"); st != CODEC_OK) return st;
    for (int32_t q = 0; q < codes->n_q; ++q) {
        const int32_t len = codes->row_len[q];
        if (len < 1 || len > codes->n_frames) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("row_len[%d] = %d is outside [1, n_frames = %d]", q, len, codes->n_frames));
        }
        const int32_t * row = codes->data + (size_t) q * codes->n_frames;
        for (int32_t t = 0; t < len; ++t) {
            if (row[t] < 0 || row[t] >= cb) {
                return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("code %d at level %d, index %d is out of range [0, %d)", row[t], q, t, cb));
            }
        }
    }
    return CODEC_OK;
}

void codec_pack_levels(const codec_codes * codes, std::vector<int32_t> & packed) {
    for (int32_t q = 0; q < codes->n_q; ++q) {
        const int32_t * row = codes->data + (size_t) q * codes->n_frames;
        packed.insert(packed.end(), row, row + codes->row_len[q]);
    }
}

// Multi-rate codes: the rows' valid parts back to back; the model's builder checks the lengths
// against its structure (e.g. SNAC's vq_strides).
static codec_status decode_rows(codec_context * ctx, const codec_codes * codes, codec_audio * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        const codec_hparams & hp = ctx->model->hparams;
        if (!hp.has_decoder) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model has no decoder");
        if (const codec_status st = codec_check_levels(ctx, codes); st != CODEC_OK) return st;
        codec_graph_request req = codec_graph_request_for(CODEC_GRAPH_DECODE, hp, codes->n_q, codes->n_frames);
        req.row_len.assign(codes->row_len, codes->row_len + codes->n_q);
        std::vector<int32_t> packed;
        codec_pack_levels(codes, packed);
        codec_graph * g = nullptr;
        const codec_status st = codec_run_graph(ctx, req, {{packed.data(), packed.size() * sizeof(int32_t)}}, &g);
        if (st != CODEC_OK) return st;
        codec_read_audio(ctx, g->outputs[0], out);
        return CODEC_OK;
    });
}

// Chunked codes with one scale per chunk (EnCodec 48 kHz): the scales are a second graph input;
// the model's builder checks that n_frames fits n_scales chunks.
static codec_status decode_scaled(codec_context * ctx, const codec_codes * codes, codec_audio * out) {
    return codec_guarded(ctx, [&]() -> codec_status {
        const codec_hparams & hp = ctx->model->hparams;
        if (!hp.has_decoder) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, "this model has no decoder");
        if (!codes->data) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "codes->data is NULL");
        const int32_t n_q = codes->n_q, n_frames = codes->n_frames, n_scales = codes->n_scales;
        if (const codec_status st = codec_check_decode(ctx, n_q, n_frames); st != CODEC_OK) return st;
        if (n_scales < 1 || !codes->scales) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("this model's codes carry one scale per chunk: n_scales = %d, scales %s",
                                                              n_scales, codes->scales ? "set" : "NULL"));
        }
        for (int32_t i = 0; i < n_scales; ++i) {
            if (!std::isfinite(codes->scales[i])) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("scales[%d] is not finite", i));
        }
        if (const codec_status st = codec_check_codes(ctx, codes->data, n_q, n_frames); st != CODEC_OK) return st;
        codec_graph_request req = codec_graph_request_for(CODEC_GRAPH_DECODE, hp, n_q, n_frames);
        req.n_scales = n_scales;
        codec_graph * g = nullptr;
        const codec_status st = codec_run_graph(ctx, req, {{codes->data, (size_t) n_q * n_frames * sizeof(int32_t)},
                                                     {codes->scales, (size_t) n_scales * sizeof(float)}}, &g);
        if (st != CODEC_OK) return st;
        codec_read_audio(ctx, g->outputs[0], out);
        return CODEC_OK;
    });
}

extern "C" codec_status codec_decode_codes(codec_context * ctx, const codec_codes * codes, codec_audio * out) {
    if (!ctx) return CODEC_ERR_INVALID_ARG;
    const codec_hparams & hp = ctx->model->hparams;
    if (hp.continuous) return codec_fail(ctx, CODEC_ERR_UNSUPPORTED, codec_fmt(k_continuous_codes, hp.arch.c_str(), "decode"));
    if (!codes) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "codes is NULL");
    if (ctx->model->hparams.has_scales) {
        if (codes->row_len) return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "this model's code rows have no per-row lengths");
        return decode_scaled(ctx, codes, out);
    }
    if (codes->n_scales != 0 || codes->scales) {
        return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "this model's codes have no per-chunk scales");
    }
    if (ctx->model->hparams.multi_rate) {
        if (!codes->row_len) {
            return codec_fail(ctx, CODEC_ERR_INVALID_ARG, "this model's code levels have different lengths: set codes->row_len");
        }
        return decode_rows(ctx, codes, out);
    }
    if (codes->row_len && codes->n_q >= 1 && codes->n_q <= ctx->model->hparams.n_q) {  // single-rate: rows must be full
        for (int32_t q = 0; q < codes->n_q; ++q) {
            if (codes->row_len[q] != codes->n_frames) {
                return codec_fail(ctx, CODEC_ERR_INVALID_ARG, codec_fmt("row_len[%d] = %d but this model's code rows all have n_frames = %d",
                                                                  q, codes->row_len[q], codes->n_frames));
            }
        }
    }
    return codec_decode(ctx, codes->data, codes->n_q, codes->n_frames, out);
}
