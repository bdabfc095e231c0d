// C API streams: cut pushed input into blocks and run each block's graph (see codec.h and
// codec_stream_spec in codec_impl.h for the two ways a model streams).
#include "codec_impl.h"
#include "stream_io.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <new>

struct codec_stream {
    codec_model * model = nullptr;
    bool encode = true;
    bool latent = false;  // continuous model: latents instead of codes (rows: latent_dim; n_q 0)
    int32_t n_q = 0;
    int64_t block = 0;  // frames per graph at most
    codec_stream_spec spec;

    codec_graph_runner runner;
    codec_stream_io io;
    std::string last_error;
    bool flushed = false;
    bool broken = false;   // a compute failed mid-way: the state is unknown until reset
    bool started = false;  // a block ran (stateful: the first block's padding is behind us)

    // Pending input from input index `base` on: PCM (interleaved) or codes (per row).
    int64_t base = 0;        // frames dropped from the front so far (stateful and window streams)
    int64_t emitted = 0;     // frames output so far (window models)
    std::vector<float> pcm;
    std::vector<std::vector<int32_t>> codes;  // row q: codes of frames [base / row_stride[q], ...)
    std::vector<std::vector<float>> lat;       // latent streams: row d of frames [base, ...)
    // Chunked decode (spec.chunk): the last chunk_left consumed frames of every row, and the chunk
    // start whose state was restarted last.
    std::vector<std::vector<int32_t>> tail;
    int64_t primed_at = 0;
    std::vector<float> scales;  // chunked models: pending per-chunk scales (decode)
    // Approximate windows with a fade: the previous block's continuation past its end
    // (spec.fade frames, interleaved), faded out over the start of the next block.
    std::vector<float> fade_pcm;

    // Output not yet pulled, and what the last pull returned.
    std::vector<std::vector<int32_t>> out_codes;
    std::vector<std::vector<float>> out_lat;   // latent encode streams: row d
    std::vector<float> out_pcm, out_scales, pulled_lat;
    std::vector<int32_t> pulled_codes, pulled_len;
    std::vector<float> pulled_pcm, pulled_scales;

    double last_build_ms = 0, last_alloc_ms = 0, last_compute_ms = 0;  // the last block's (get_info)
    int32_t n_blocks = 0;

    int32_t hop() const {  // samples per frame of the PCM side
        return encode ? model->hparams.encode_hop_size : spec.decode_hop > 0 ? spec.decode_hop : model->hparams.hop_size;
    }
    int32_t channels() const { return model->hparams.channels; }
    int32_t latent_dim() const { return model->hparams.latent_dim; }
    int32_t stride(int q) const { return spec.row_stride.empty() ? 1 : spec.row_stride[(size_t) q]; }
};

namespace {

codec_status fail(codec_stream * s, codec_status st, std::string msg) {
    s->last_error = std::move(msg);
    return st;
}

template <typename F>
codec_status guarded(codec_stream * s, F && f) {
    if (!s) return CODEC_ERR_INVALID_ARG;
    s->last_error.clear();
    try {
        return f();
    } catch (const std::bad_alloc &) {
        s->broken = true;
        return fail(s, CODEC_ERR_NO_MEMORY, "out of memory (the stream must be reset)");
    }
}

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Builds (or reuses) the graph of one block, uploads its input and computes it.
using block_inputs = std::vector<std::pair<const void *, size_t>>;

// Windowless attention (spec.kv_per_frame): before a block would see past frames the KV cache
// cannot hold, doubles the cache (or more), which re-creates the state and so the graphs.
void reserve_kv(codec_stream * s, codec_graph_request & req) {
    if (s->spec.kv_per_frame <= 0) return;
    const int64_t hop = s->hop();
    const int64_t frames = codec_graph_is_encode(req.kind) ? (req.n_in + hop - 1) / hop : req.n_frames;
    const int64_t need = (s->base + frames + 1) * s->spec.kv_per_frame;  // + 1: the flushed tail's padding
    if (need > s->io.kv_frames) {  // at least two blocks' worth to start with, then doubling
        s->io.grow_kv(std::max({need, 2 * s->io.kv_frames, 2 * s->block * s->spec.kv_per_frame}));
        s->runner.drop_graphs();
    }
    req.kv_frames = s->io.kv_frames;
    req.kv_pos = s->io.kv_pos;  // the graph's views and positions depend on it
}

codec_status run_block(codec_stream * s, codec_graph_request req, const block_inputs & inputs, codec_graph ** out) {
    const codec_model & m = *s->model;
    std::string err;
    const bool stateful = req.stream != 0;
    if (stateful) reserve_kv(s, req);
    const auto build = [&](codec_graph & g, std::string & e) {
        if (stateful) s->io.begin(g, (req.stream & CODEC_STREAM_FIRST) != 0, (req.stream & CODEC_STREAM_LAST) != 0, !m.on_gpu);
        return codec_graph_is_encode(req.kind) ? m.ops->encode(m, g, req, e) : m.ops->decode(m, g, req, e);
    };
    using clock = std::chrono::steady_clock;
    const auto ms = [](clock::time_point t0) { return std::chrono::duration<double, std::milli>(clock::now() - t0).count(); };
    auto t0 = clock::now();
    codec_graph * g = s->runner.get(req, build, m.ops->graph_size(m, req), err);
    if (!g) return fail(s, CODEC_ERR_INVALID_ARG, err);
    s->last_build_ms = s->runner.last_get_built() ? ms(t0) : 0.0;
    if (!s->io.error().empty()) {
        s->broken = true;
        return fail(s, CODEC_ERR_BACKEND, s->io.error());
    }
    if (stateful && !s->io.allocate(ggml_backend_dev_buffer_type(m.dev), err)) {
        s->broken = true;  // a grown KV cache's state may be lost
        return fail(s, CODEC_ERR_NO_MEMORY, err);
    }
    if (g->inputs.size() != inputs.size()) return fail(s, CODEC_ERR_BACKEND, "stream graph input count mismatch (model bug)");
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (ggml_nbytes(g->inputs[i]) != inputs[i].second) return fail(s, CODEC_ERR_BACKEND, "stream graph input mismatch (model bug)");
    }
    t0 = clock::now();
    if (!s->runner.alloc(*g, err)) return fail(s, CODEC_ERR_NO_MEMORY, err);
    s->last_alloc_ms = ms(t0);
    for (size_t i = 0; i < inputs.size(); ++i) ggml_backend_tensor_set(g->inputs[i], inputs[i].first, 0, inputs[i].second);
    s->broken = stateful;  // until the compute succeeds, the state may be half-written
    t0 = clock::now();
    if (!s->runner.compute(*g, err)) return fail(s, CODEC_ERR_BACKEND, err);
    s->last_compute_ms = ms(t0);
    if (stateful) s->io.commit();
    s->n_blocks++;
    s->broken = false;
    *out = g;
    return CODEC_OK;
}

codec_graph_request block_request(const codec_stream * s, int64_t n, int32_t flags) {
    codec_graph_request req;
    req.kind = s->encode ? (s->latent ? CODEC_GRAPH_ENCODE_LATENT : CODEC_GRAPH_ENCODE)
                         : (s->latent ? CODEC_GRAPH_DECODE_LATENT : CODEC_GRAPH_DECODE);
    (codec_graph_is_encode(req.kind) ? req.n_in : req.n_frames) = n;
    req.n_q = s->n_q;
    req.hop = s->encode ? s->model->hparams.encode_hop_size : s->model->hparams.hop_size;  // as the one-shot call's (codec.cpp)
    req.latent_dim = s->model->hparams.latent_dim;
    req.stream = flags;
    return req;
}

// Encodes samples [from, from + n) of the pending PCM; appends the codes of frames
// [keep0, keep0 + keep_n) of the result (keep_n < 0: to the end) to the output.
codec_status encode_block(codec_stream * s, int64_t from, int64_t n, int32_t flags, int64_t keep0, int64_t keep_n) {
    const int ch = s->channels();
    std::vector<float> planar((size_t) (n * ch));
    const float * src = s->pcm.data() + from * ch;
    for (int64_t i = 0; i < n; ++i)
        for (int c = 0; c < ch; ++c) planar[(size_t) (c * n + i)] = src[i * ch + c];
    codec_graph * g = nullptr;
    codec_graph_request req = block_request(s, n, flags);
    if (const codec_status st = run_block(s, req, {{planar.data(), planar.size() * sizeof(float)}}, &g); st != CODEC_OK) return st;
    if (s->latent) {  // one output [frames, latent_dim]: row d holds latent channel d
        ggml_tensor * t = g->outputs[0];
        const int64_t len = t->ne[0], b = keep_n < 0 ? len : std::min<int64_t>(len, keep0 + keep_n);
        if (keep0 >= b) return CODEC_OK;
        std::vector<float> all((size_t) ggml_nelements(t));
        ggml_backend_tensor_get(t, all.data(), 0, ggml_nbytes(t));
        for (int d = 0; d < s->latent_dim(); ++d) {
            const float * row = all.data() + (size_t) d * len;
            s->out_lat[(size_t) d].insert(s->out_lat[(size_t) d].end(), row + keep0, row + b);
        }
        return CODEC_OK;
    }
    if (s->model->hparams.has_scales) {  // chunked: one scale per chunk, after the codes
        ggml_tensor * t = g->outputs[(size_t) s->n_q];
        const size_t at = s->out_scales.size();
        s->out_scales.resize(at + (size_t) ggml_nelements(t));
        ggml_backend_tensor_get(t, s->out_scales.data() + at, 0, ggml_nbytes(t));
    }
    for (int q = 0; q < s->n_q; ++q) {
        ggml_tensor * t = g->outputs[(size_t) q];
        const int64_t r = s->stride(q), a = keep0 / r, len = t->ne[0];
        const int64_t b = keep_n < 0 ? len : std::min<int64_t>(len, (keep0 + keep_n) / r);
        if (a >= b) continue;
        std::vector<int32_t> row((size_t) len);
        ggml_backend_tensor_get(t, row.data(), 0, ggml_nbytes(t));
        s->out_codes[(size_t) q].insert(s->out_codes[(size_t) q].end(), row.begin() + a, row.begin() + b);
    }
    return CODEC_OK;
}

// Approximate windows: the block just appended at out_pcm[at ...] starts with fade * hop samples
// that the previous block also computed (its continuation): sample i of them is
// (1 - w) * previous + w * this block, w = (i + 1/2) / (fade * hop). Then this block's own
// continuation (samples [end, end + fade * hop) of its window, inside its right context) is kept
// for the next block, unless this is the last.
void fade_block(codec_stream * s, const std::vector<float> & planar, int64_t len, int64_t ch, size_t at, int64_t end, bool last) {
    const int64_t n_fade = s->spec.fade * s->hop();
    const int64_t n_mix = std::min<int64_t>((int64_t) s->fade_pcm.size() / ch, ((int64_t) s->out_pcm.size() - (int64_t) at) / ch);
    for (int64_t i = 0; i < n_mix; ++i) {
        const float w = (float) ((double) i + 0.5) / (float) n_fade;
        for (int64_t c = 0; c < ch; ++c) {
            float & y = s->out_pcm[at + (size_t) (i * ch + c)];
            y = (1.0f - w) * s->fade_pcm[(size_t) (i * ch + c)] + w * y;
        }
    }
    s->fade_pcm.clear();
    if (last) return;
    const int64_t e = std::min(len, end + n_fade);
    for (int64_t i = end; i < e; ++i)
        for (int64_t c = 0; c < ch; ++c) s->fade_pcm.push_back(planar[(size_t) (c * len + i)]);
}

// Decodes pending frames [from, from + n); appends output samples [keep0, keep0 + keep_n) of the
// result (keep_n < 0: to the end).
codec_status decode_block(codec_stream * s, int64_t from, int64_t n, int32_t flags, int64_t keep0, int64_t keep_n,
                          int64_t n_scales = 0) {
    codec_graph_request req = block_request(s, n, flags);
    std::vector<int32_t> packed;
    std::vector<float> packed_lat;  // latent streams: [latent_dim][n]
    for (const std::vector<float> & row : s->lat) packed_lat.insert(packed_lat.end(), row.begin() + from, row.begin() + from + n);
    for (int q = 0; q < s->n_q; ++q) {
        const int64_t r = s->stride(q), a = from / r, len = n / r;
        const std::vector<int32_t> & row = s->codes[(size_t) q];
        packed.insert(packed.end(), row.begin() + a, row.begin() + a + len);
        if (!s->spec.row_stride.empty()) req.row_len.push_back((int32_t) len);
    }
    codec_graph * g = nullptr;
    block_inputs in = {s->latent ? std::pair<const void *, size_t>(packed_lat.data(), packed_lat.size() * sizeof(float))
                                 : std::pair<const void *, size_t>(packed.data(), packed.size() * sizeof(int32_t))};
    if (s->model->hparams.has_scales) {  // chunked: the scales of the block's chunks, from the front
        req.n_scales = n_scales;
        in.push_back({s->scales.data(), (size_t) n_scales * sizeof(float)});
    }
    if (const codec_status st = run_block(s, req, in, &g); st != CODEC_OK) return st;
    ggml_tensor * t = g->outputs[0];
    const int64_t len = t->ne[0], ch = t->ne[1];
    const int64_t b = keep_n < 0 ? len : std::min(len, keep0 + keep_n);
    if (keep0 >= b) return CODEC_OK;
    std::vector<float> planar((size_t) (len * ch));
    ggml_backend_tensor_get(t, planar.data(), 0, ggml_nbytes(t));
    const size_t at = s->out_pcm.size();
    s->out_pcm.resize(at + (size_t) ((b - keep0) * ch));
    for (int64_t i = keep0; i < b; ++i)
        for (int64_t c = 0; c < ch; ++c) s->out_pcm[at + (size_t) ((i - keep0) * ch + c)] = planar[(size_t) (c * len + i)];
    if (s->spec.fade > 0) fade_block(s, planar, len, ch, at, b, keep_n < 0);
    return CODEC_OK;
}

// Pending input, in frames (whole frames only for PCM).
int64_t pending_frames(const codec_stream * s) {
    if (s->encode) return (int64_t) (s->pcm.size() / (size_t) s->channels()) / s->hop();
    if (s->latent) return (int64_t) s->lat[0].size();
    int64_t n = INT64_MAX;
    for (int q = 0; q < s->n_q; ++q) n = std::min<int64_t>(n, (int64_t) s->codes[(size_t) q].size() * s->stride(q));
    return n;
}

// Drops the first n frames of pending input.
void consume(codec_stream * s, int64_t n) {
    if (n <= 0) return;
    if (s->encode) {
        s->pcm.erase(s->pcm.begin(), s->pcm.begin() + (ptrdiff_t) (n * s->hop() * s->channels()));
    } else {
        if (s->spec.chunk > 0) {  // keep the context the next chunk restarts from
            s->tail.resize((size_t) s->n_q);
            for (int q = 0; q < s->n_q; ++q) {
                auto & t = s->tail[(size_t) q];
                t.insert(t.end(), s->codes[(size_t) q].begin(), s->codes[(size_t) q].begin() + (ptrdiff_t) n);
                if ((int64_t) t.size() > s->spec.chunk_left) t.erase(t.begin(), t.end() - (ptrdiff_t) s->spec.chunk_left);
            }
        }
        for (int q = 0; q < s->n_q; ++q) {
            auto & row = s->codes[(size_t) q];
            row.erase(row.begin(), row.begin() + (ptrdiff_t) (n / s->stride(q)));
        }
        for (auto & row : s->lat) row.erase(row.begin(), row.begin() + (ptrdiff_t) n);
    }
    s->base += n;
}

codec_status run_frames(codec_stream * s, int64_t from, int64_t n, int32_t flags, int64_t keep0, int64_t keep_n) {
    return s->encode ? encode_block(s, from * s->hop(), n * s->hop(), flags, keep0, keep_n)
                     : decode_block(s, from, n, flags, keep0 * s->hop(), keep_n < 0 ? -1 : keep_n * s->hop());
}

// Chunked decode: at a chunk start, the state restarts and runs the chunk's left context (the
// consumed tail) without output, as the one-shot decode's chunk does. Returns the frames left
// in the current chunk (blocks never cross a chunk boundary).
codec_status chunk_boundary(codec_stream * s, int64_t * room) {
    *room = INT64_MAX;
    if (s->encode || s->spec.chunk <= 0) return CODEC_OK;
    const int64_t p = s->base, c = s->spec.chunk;
    *room = c - p % c;
    if (p == 0 || p % c != 0 || s->primed_at == p) return CODEC_OK;
    s->io.clear();
    s->primed_at = p;
    const int64_t left = std::min<int64_t>(s->spec.chunk_left, p);
    if (left == 0 || s->tail.empty()) return CODEC_OK;
    for (int q = 0; q < s->n_q; ++q) s->codes[(size_t) q].insert(s->codes[(size_t) q].begin(), s->tail[(size_t) q].end() - (ptrdiff_t) left, s->tail[(size_t) q].end());
    const codec_status st = decode_block(s, 0, left, CODEC_STREAM_STEP | CODEC_STREAM_FIRST, 0, 0);
    for (int q = 0; q < s->n_q; ++q) s->codes[(size_t) q].erase(s->codes[(size_t) q].begin(), s->codes[(size_t) q].begin() + (ptrdiff_t) left);
    return st;
}

// Stateful: every complete block runs as soon as its frames are there. Block sizes are the
// configured block or a power of two (times the alignment) below it, so a stream needs few
// distinct graphs.
codec_status process_stateful(codec_stream * s) {
    const int64_t align = std::max<int64_t>(1, s->spec.align);
    for (;;) {
        const int64_t avail = pending_frames(s) - (s->spec.lookahead > 0 ? 1 : 0);  // held back for the flush
        const int64_t need = s->started ? align : s->spec.first_frames;
        if (avail < need) return CODEC_OK;
        int64_t room = 0;
        if (const codec_status st = chunk_boundary(s, &room); st != CODEC_OK) return st;
        int64_t n = std::min(std::min(avail, s->block), room) / align * align;
        if (s->started && n < s->block && n < room) {
            int64_t p = align;
            while (p * 2 <= n) p *= 2;
            n = p;
        }
        const int32_t flags = CODEC_STREAM_STEP | (s->started ? 0 : CODEC_STREAM_FIRST);
        if (const codec_status st = run_frames(s, 0, n, flags, 0, -1); st != CODEC_OK) return st;
        s->started = true;
        consume(s, n);
    }
}

codec_status flush_stateful(codec_stream * s) {
    if (!s->encode && s->spec.chunk > 0) {  // chunked decode: the rest, chunk by chunk
        while (pending_frames(s) > 0) {
            int64_t room = 0;
            if (const codec_status st = chunk_boundary(s, &room); st != CODEC_OK) return st;
            const int64_t n = std::min(pending_frames(s), room);
            const int32_t flags = CODEC_STREAM_STEP | (s->started ? 0 : CODEC_STREAM_FIRST) | (n == pending_frames(s) ? CODEC_STREAM_LAST : 0);
            if (const codec_status st = decode_block(s, 0, n, flags, 0, -1); st != CODEC_OK) return st;
            s->started = true;
            consume(s, n);
        }
        return CODEC_OK;
    }
    const int64_t rest = s->encode ? (int64_t) (s->pcm.size() / (size_t) s->channels()) : pending_frames(s);
    if (rest == 0) return CODEC_OK;
    const int32_t flags = CODEC_STREAM_STEP | CODEC_STREAM_LAST | (s->started ? 0 : CODEC_STREAM_FIRST);
    codec_status st = s->encode ? encode_block(s, 0, rest, flags, 0, -1) : decode_block(s, 0, rest, flags, 0, -1);
    if (st != CODEC_OK) return st;
    s->started = true;
    if (s->encode) s->pcm.clear(); else consume(s, rest);
    return CODEC_OK;
}

// Window: block [e, e + B) runs once frames up to e + B + right are there, on the window
// [max(0, e - left), e + B + right); input before the next window's start is dropped.
codec_status process_window(codec_stream * s) {
    const int64_t B = s->block, L = s->spec.left, R = s->spec.right;
    for (;;) {
        const int64_t e = s->emitted, ws = std::max<int64_t>(0, e - L), end = e + B + R;
        if (s->base + pending_frames(s) < end) return CODEC_OK;
        if (const codec_status st = run_frames(s, ws - s->base, end - ws, 0, e - ws, B); st != CODEC_OK) return st;
        s->emitted += B;
        consume(s, std::max<int64_t>(0, s->emitted - L) - s->base);
    }
}

codec_status flush_window(codec_stream * s) {
    const int64_t e = s->emitted, ws = std::max<int64_t>(0, e - s->spec.left);
    if (s->encode) {
        const int64_t n = (int64_t) (s->pcm.size() / (size_t) s->channels()) - (ws - s->base) * s->hop();
        if (s->base * s->hop() + (int64_t) (s->pcm.size() / (size_t) s->channels()) <= e * s->hop()) return CODEC_OK;
        if (const codec_status st = encode_block(s, (ws - s->base) * s->hop(), n, 0, e - ws, -1); st != CODEC_OK) return st;
        s->pcm.clear();
    } else {
        const int64_t n = s->base + pending_frames(s) - ws;
        if (s->base + pending_frames(s) <= e) return CODEC_OK;
        if (const codec_status st = decode_block(s, ws - s->base, n, 0, (e - ws) * s->hop(), -1); st != CODEC_OK) return st;
        for (auto & row : s->codes) row.clear();
        for (auto & row : s->lat) row.clear();
    }
    return CODEC_OK;
}

// Chunked (EnCodec 48 kHz): blocks of whole chunks. Encode: chunk i needs its samples
// [i * stride, i * stride + chunk_samples). Decode: the first pending chunk is whole (every chunk
// but the last two is, and the one before the last is too unless the last has < 3 frames) once
// the next chunk's scale and 3 of its frames are there.
codec_status process_chunked(codec_stream * s, bool flush) {
    const int64_t L = s->spec.chunk_samples, S = s->spec.chunk_stride, F = s->spec.chunk_frames;
    for (;;) {
        const int32_t first = s->started ? 0 : CODEC_STREAM_FIRST;
        if (s->encode) {
            const int64_t pend = (int64_t) (s->pcm.size() / (size_t) s->channels());
            if (pend < L) break;
            const int64_t k = std::min(s->block, (pend - L) / S + 1);
            if (const codec_status st = encode_block(s, 0, (k - 1) * S + L, CODEC_STREAM_STEP | first, 0, -1); st != CODEC_OK) return st;
            s->pcm.erase(s->pcm.begin(), s->pcm.begin() + (ptrdiff_t) (k * S * s->channels()));
        } else {
            const int64_t nf = (int64_t) s->codes[0].size(), ns = (int64_t) s->scales.size();
            const int64_t k = std::min({s->block, ns - 1, (nf - 3) / F});
            if (k < 1) break;
            if (const codec_status st = decode_block(s, 0, k * F, CODEC_STREAM_STEP | first, 0, -1, k); st != CODEC_OK) return st;
            consume(s, k * F);
            s->scales.erase(s->scales.begin(), s->scales.begin() + (ptrdiff_t) k);
        }
        s->started = true;
    }
    if (!flush) return CODEC_OK;
    const int32_t flags = CODEC_STREAM_STEP | CODEC_STREAM_LAST | (s->started ? 0 : CODEC_STREAM_FIRST);
    if (s->encode) {  // the rest starts on a chunk: the one-shot layout of it
        const int64_t pend = (int64_t) (s->pcm.size() / (size_t) s->channels());
        if (pend == 0) return CODEC_OK;
        if (const codec_status st = encode_block(s, 0, pend, flags, 0, -1); st != CODEC_OK) return st;
        s->pcm.clear();
    } else {
        const int64_t nf = (int64_t) s->codes[0].size(), ns = (int64_t) s->scales.size();
        if (nf == 0 && ns == 0) return CODEC_OK;
        if (nf == 0 || ns == 0) {
            return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("the stream ends with %lld frames and %lld scales: every chunk needs both",
                                                            (long long) nf, (long long) ns));
        }
        if (const codec_status st = decode_block(s, 0, nf, flags, 0, -1, ns); st != CODEC_OK) return st;
        consume(s, nf);
        s->scales.clear();
    }
    s->started = true;
    return CODEC_OK;
}

codec_status process(codec_stream * s) {
    if (s->spec.kind == CODEC_STREAM_KIND_CHUNKED) return process_chunked(s, false);
    return s->spec.kind == CODEC_STREAM_KIND_STATEFUL ? process_stateful(s) : process_window(s);
}

enum push_kind { PUSH_PCM, PUSH_CODES, PUSH_LATENT };

codec_status check_pushable(codec_stream * s, push_kind k) {
    const char * what = s->latent ? "latents" : "codes";
    if (s->encode != (k == PUSH_PCM)) {
        return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt(s->encode ? "this is an encode stream: push PCM, not %s" : "this is a decode stream: push %s, not PCM", what));
    }
    if (k != PUSH_PCM && s->latent != (k == PUSH_LATENT)) {
        return fail(s, CODEC_ERR_INVALID_ARG, s->latent ? "this model (" + s->model->hparams.arch + ") has continuous latents: push them with codec_stream_push_latent"
                                                        : "this model's streams carry codes: push them with codec_stream_push_codes");
    }
    if (s->flushed) return fail(s, CODEC_ERR_INVALID_ARG, "the stream was flushed: reset it before pushing more input");
    if (s->broken) return fail(s, CODEC_ERR_INVALID_ARG, "a previous block of this stream failed: reset the stream");
    return CODEC_OK;
}

void fill_info(const codec_stream * s, codec_stream_info * out) {
    codec_stream_info i = {};
    const bool stateful = s->spec.kind == CODEC_STREAM_KIND_STATEFUL;
    const int64_t held = stateful && s->spec.lookahead > 0 ? 1 : 0;  // process_stateful's held-back frame
    i.causal = stateful && s->spec.lookahead == 0;
    i.carries_state = stateful;
    i.hop_size = s->hop();
    i.block_frames = (int32_t) s->block;
    i.first_frames = (int32_t) (stateful ? s->spec.first_frames + held : s->block + s->spec.right);
    i.lookahead_frames = (int32_t) (stateful ? s->spec.lookahead + held : s->spec.right);
    i.left_frames = (int32_t) s->spec.left;
    i.align_frames = (int32_t) s->spec.align;
    i.state_bytes = (int64_t) s->io.bytes();
    i.last_build_ms = s->last_build_ms;
    i.last_alloc_ms = s->last_alloc_ms;
    i.last_compute_ms = s->last_compute_ms;
    i.n_blocks = s->n_blocks;
    i.approximate = s->spec.approx;
    i.fade_frames = (int32_t) s->spec.fade;
    if (s->spec.kind == CODEC_STREAM_KIND_CHUNKED) {  // frames of whole chunks; decode waits for 3 of the next
        const int64_t F = s->spec.chunk_frames;
        i.block_frames = (int32_t) (s->block * F);
        i.align_frames = (int32_t) F;
        i.left_frames = 0;
        i.first_frames = (int32_t) (s->encode ? (s->spec.chunk_samples + s->hop() - 1) / s->hop() : F + 3);
        i.lookahead_frames = (int32_t) (s->encode ? (s->spec.chunk_samples - s->spec.chunk_stride + s->hop() - 1) / s->hop() : 3);
    }
    *out = i;
}

}  // namespace

extern "C" {

codec_stream_params codec_stream_default_params(void) {
    codec_stream_params p;
    p.direction = CODEC_STREAM_ENCODE;
    p.n_q = CODEC_N_Q_ALL;
    p.block_frames = 0;
    p.approximate = false;
    p.approx_left_frames = p.approx_right_frames = p.approx_fade_frames = 0;
    return p;
}

codec_stream * codec_stream_new(codec_context * ctx, codec_stream_params params) {
    if (!ctx) return nullptr;
    const codec_model & m = *ctx->model;
    const codec_hparams & hp = m.hparams;
    // A C caller may pass any int: read it as one (loading an out-of-range enum is undefined in C++).
    static_assert(sizeof(params.direction) == sizeof(int32_t), "codec_stream_direction is int-sized");
    int32_t direction = 0;
    std::memcpy(&direction, &params.direction, sizeof direction);
    const bool encode = direction == CODEC_STREAM_ENCODE;
    auto refuse = [&](std::string msg) -> codec_stream * { ctx->last_error = std::move(msg); return nullptr; };
    if (direction != CODEC_STREAM_ENCODE && direction != CODEC_STREAM_DECODE) {
        return refuse(codec_fmt("direction = %d is neither CODEC_STREAM_ENCODE nor CODEC_STREAM_DECODE", direction));
    }
    if (encode ? !hp.has_encoder : !hp.has_decoder) return refuse(encode ? "this model has no encoder" : "this model has no decoder");
    int32_t n_q = params.n_q == CODEC_N_Q_ALL && encode ? hp.n_q : params.n_q;
    if (!hp.continuous && (n_q < 1 || n_q > hp.n_q)) {
        return refuse(codec_fmt("n_q = %d is out of range: this model has 1..%d codebooks", params.n_q, hp.n_q));
    }
    codec_stream_spec spec;
    if (m.ops->stream) m.ops->stream(m, encode, spec);
    const bool approx = params.approximate;
    if (approx && (params.approx_left_frames < 0 || params.approx_right_frames < 0 || params.approx_fade_frames < 0 ||
                   params.approx_fade_frames > params.approx_right_frames)) {
        return refuse(codec_fmt("approximate windows need approx_left_frames >= 0, approx_right_frames >= 0 and 0 <= "
                                "approx_fade_frames <= approx_right_frames (got %d, %d, %d)",
                                params.approx_left_frames, params.approx_right_frames, params.approx_fade_frames));
    }
    const bool can_approx = spec.kind == CODEC_STREAM_KIND_NONE && spec.approx;
    if (can_approx && approx) {
        spec.kind = CODEC_STREAM_KIND_WINDOW;
        spec.left = params.approx_left_frames;
        spec.right = params.approx_right_frames;
        spec.fade = params.approx_fade_frames;
    } else {
        spec.approx = false;  // exact streams ignore approx_*
    }
    if (spec.kind == CODEC_STREAM_KIND_NONE) {
        return refuse("this model (" + hp.arch + ") does not stream" + (spec.why.empty() ? std::string() : ": " + spec.why) +
                      (can_approx ? " (set codec_stream_params.approximate and approx_left_frames / approx_right_frames to stream it approximately in windows)" : ""));
    }
    if (hp.continuous) {  // latent rows, always all of them
        if (params.n_q != CODEC_N_Q_ALL && params.n_q != hp.latent_dim) {
            return refuse(codec_fmt("n_q = %d: this model (%s) streams continuous latents of %d rows (pass CODEC_N_Q_ALL or %d)",
                                    params.n_q, hp.arch.c_str(), hp.latent_dim, hp.latent_dim));
        }
        n_q = 0;
    }
    if (hp.has_scales != (spec.kind == CODEC_STREAM_KIND_CHUNKED)) return refuse("per-chunk scales need the chunked stream kind (model bug)");
    try {
        auto * s = new codec_stream();
        s->model = ctx->model;
        s->encode = encode;
        s->latent = hp.continuous;
        s->n_q = n_q;
        s->spec = spec;
        if (!spec.row_stride.empty() && (int32_t) spec.row_stride.size() < n_q) {
            delete s;
            return refuse("stream spec lacks row strides (model bug)");
        }
        // Blocks: about one second, whole alignment units, at least the first block's need.
        const int64_t align = std::max<int64_t>(1, spec.align);
        int64_t block = params.block_frames > 0 ? params.block_frames : (hp.sample_rate + hp.hop_size - 1) / hp.hop_size;
        block = std::max<int64_t>(round_up(block, align), 1);
        if (spec.max_block > 0) block = std::max(std::min(block, spec.max_block), spec.first_frames);
        // A stateful stream's first block holds first_frames at least (e.g. EnCodec's reflect padding
        // reads that far ahead): a smaller block would start the stream on too short an input.
        if (spec.kind == CODEC_STREAM_KIND_STATEFUL) block = std::max(block, spec.first_frames);
        if (spec.kind == CODEC_STREAM_KIND_CHUNKED) {  // blocks of whole chunks
            if (spec.chunk_samples < 1 || spec.chunk_stride < 1 || spec.chunk_stride > spec.chunk_samples || spec.chunk_frames < 1) {
                delete s;
                return refuse("chunked stream spec out of range (model bug)");
            }
            block = std::max<int64_t>(1, (params.block_frames > 0 ? params.block_frames : spec.chunk_frames) / spec.chunk_frames);
        }
        s->block = block;
        s->spec.left = round_up(spec.left, align);
        s->spec.right = round_up(spec.right, align);
        s->out_codes.resize((size_t) n_q);
        s->codes.resize((size_t) n_q);
        if (s->latent) {
            s->lat.resize((size_t) hp.latent_dim);
            s->out_lat.resize((size_t) hp.latent_dim);
        }
        std::string err;
        if (!s->runner.init(m.dev, ctx->n_threads, err)) {
            delete s;
            return refuse(err);
        }
        return s;
    } catch (const std::bad_alloc &) {
        return refuse("out of memory");
    }
}

void codec_stream_free(codec_stream * s) { delete s; }

const char * codec_stream_last_error(const codec_stream * s) { return s ? s->last_error.c_str() : "stream is NULL"; }

codec_status codec_stream_get_info(const codec_stream * s, codec_stream_info * out) {
    if (!s || !out) return CODEC_ERR_INVALID_ARG;
    fill_info(s, out);
    return CODEC_OK;
}

codec_status codec_stream_reset(codec_stream * s) {
    return guarded(s, [&]() -> codec_status {
        s->io.clear();
        if (s->spec.kv_per_frame > 0 && s->io.kv_frames > 0) {  // a long stream's KV cache is not kept
            s->io.drop_kv();
            s->runner.drop_graphs();
        }
        s->flushed = s->broken = s->started = false;
        s->base = s->emitted = s->primed_at = 0;
        s->n_blocks = 0;
        s->tail.clear();
        s->pcm.clear();
        for (auto & r : s->codes) r.clear();
        for (auto & r : s->out_codes) r.clear();
        for (auto & r : s->lat) r.clear();
        for (auto & r : s->out_lat) r.clear();
        s->out_pcm.clear();
        s->fade_pcm.clear();
        s->scales.clear();
        s->out_scales.clear();
        return CODEC_OK;
    });
}

codec_status codec_stream_push_pcm(codec_stream * s, const float * pcm, int64_t n_samples) {
    return guarded(s, [&]() -> codec_status {
        if (const codec_status st = check_pushable(s, PUSH_PCM); st != CODEC_OK) return st;
        if (n_samples < 0) return fail(s, CODEC_ERR_INVALID_ARG, "n_samples < 0");
        if (n_samples == 0) return CODEC_OK;
        if (!pcm) return fail(s, CODEC_ERR_INVALID_ARG, "pcm is NULL");
        if (n_samples > (INT64_MAX / 64) / s->channels()) return fail(s, CODEC_ERR_INVALID_ARG, "push too long");
        const int64_t total = n_samples * s->channels();
        for (int64_t i = 0; i < total; ++i) {
            if (!std::isfinite(pcm[i])) {
                return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("pcm[%lld] is not finite (NaN or Inf)", (long long) i));
            }
        }
        s->pcm.insert(s->pcm.end(), pcm, pcm + total);
        return process(s);
    });
}

codec_status codec_stream_push_codes(codec_stream * s, const codec_codes * c) {
    return guarded(s, [&]() -> codec_status {
        if (const codec_status st = check_pushable(s, PUSH_CODES); st != CODEC_OK) return st;
        if (!c) return fail(s, CODEC_ERR_INVALID_ARG, "codes is NULL");
        if (c->n_q != s->n_q) {
            return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("codes->n_q = %d, but this stream decodes %d rows", c->n_q, s->n_q));
        }
        if (c->n_frames < 0) return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("codes->n_frames = %d < 0", c->n_frames));
        const bool scaled = s->model->hparams.has_scales;
        if (!scaled && (c->n_scales != 0 || c->scales)) return fail(s, CODEC_ERR_INVALID_ARG, "this model's codes have no per-chunk scales");
        if (scaled) {  // any number per push (a chunk's scale may come before or after its frames)
            if (c->n_scales < 0 || (c->n_scales > 0 && !c->scales)) {
                return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("n_scales = %d with scales %s", c->n_scales, c->scales ? "set" : "NULL"));
            }
            for (int32_t i = 0; i < c->n_scales; ++i) {
                if (!std::isfinite(c->scales[i])) return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("scales[%d] is not finite", i));
            }
        }
        const bool multi = !s->spec.row_stride.empty();
        if (multi && !c->row_len) return fail(s, CODEC_ERR_INVALID_ARG, "this model's code levels have different lengths: set codes->row_len");
        if (c->n_frames > 0 && !c->data) return fail(s, CODEC_ERR_INVALID_ARG, "codes->data is NULL");
        const int32_t cb = s->model->hparams.codebook_size;
        for (int32_t q = 0; q < c->n_q; ++q) {
            const int32_t len = c->row_len ? c->row_len[q] : c->n_frames;
            if (len < 0 || len > c->n_frames) {
                return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("row_len[%d] = %d is outside [0, n_frames = %d]", q, len, c->n_frames));
            }
            if (!multi && len != c->n_frames) {
                return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("row_len[%d] = %d but this model's rows all have n_frames = %d", q, len, c->n_frames));
            }
            for (int32_t t = 0; t < len; ++t) {
                const int32_t v = c->data[(size_t) q * c->n_frames + t];
                if (v < 0 || v >= cb) {
                    return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("code %d at row %d, index %d is out of range [0, %d)", v, q, t, cb));
                }
            }
        }
        for (int32_t q = 0; q < c->n_q; ++q) {
            const int32_t len = c->row_len ? c->row_len[q] : c->n_frames;
            const int32_t * row = c->data + (size_t) q * c->n_frames;
            s->codes[(size_t) q].insert(s->codes[(size_t) q].end(), row, row + len);
        }
        if (scaled) s->scales.insert(s->scales.end(), c->scales, c->scales + c->n_scales);
        return process(s);
    });
}

codec_status codec_stream_push_latent(codec_stream * s, const float * latent, int32_t latent_dim, int32_t n_frames) {
    return guarded(s, [&]() -> codec_status {
        if (const codec_status st = check_pushable(s, PUSH_LATENT); st != CODEC_OK) return st;
        if (latent_dim != s->latent_dim()) {
            return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("latent_dim = %d, this model's is %d", latent_dim, s->latent_dim()));
        }
        if (n_frames < 0) return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("n_frames = %d < 0", n_frames));
        if (n_frames == 0) return CODEC_OK;
        if (!latent) return fail(s, CODEC_ERR_INVALID_ARG, "latent is NULL");
        const size_t total = (size_t) latent_dim * (size_t) n_frames;
        for (size_t i = 0; i < total; ++i) {
            if (!std::isfinite(latent[i])) return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("latent[%zu] is not finite", i));
        }
        for (int32_t d = 0; d < latent_dim; ++d) {
            const float * row = latent + (size_t) d * n_frames;
            s->lat[(size_t) d].insert(s->lat[(size_t) d].end(), row, row + n_frames);
        }
        return process(s);
    });
}

codec_status codec_stream_flush(codec_stream * s) {
    return guarded(s, [&]() -> codec_status {
        if (s->broken) return fail(s, CODEC_ERR_INVALID_ARG, "a previous block of this stream failed: reset the stream");
        if (s->flushed) return CODEC_OK;
        if (!s->encode && !s->spec.row_stride.empty()) {  // every level must end on the same frame
            const int64_t n = pending_frames(s);
            for (int q = 0; q < s->n_q; ++q) {
                if ((int64_t) s->codes[(size_t) q].size() * s->stride(q) != n) {
                    return fail(s, CODEC_ERR_INVALID_ARG, codec_fmt("code levels end on different frames at flush (level %d holds %zu codes "
                                                                    "past the last complete frame group)", q, s->codes[(size_t) q].size()));
                }
            }
        }
        const codec_status st = s->spec.kind == CODEC_STREAM_KIND_CHUNKED ? process_chunked(s, true)
                                : s->spec.kind == CODEC_STREAM_KIND_STATEFUL ? flush_stateful(s) : flush_window(s);
        if (st == CODEC_OK) s->flushed = true;
        return st;
    });
}

codec_status codec_stream_pull_codes(codec_stream * s, codec_codes * out) {
    return guarded(s, [&]() -> codec_status {
        if (!s->encode) return fail(s, CODEC_ERR_INVALID_ARG, "this is a decode stream: pull PCM, not codes");
        if (s->latent) return fail(s, CODEC_ERR_INVALID_ARG, "this model (" + s->model->hparams.arch + ") has continuous latents: pull them with codec_stream_pull_latent");
        size_t n = 0;
        for (const auto & r : s->out_codes) n = std::max(n, r.size());
        s->pulled_codes.assign(n * (size_t) s->n_q, 0);
        s->pulled_len.resize((size_t) s->n_q);
        for (int q = 0; q < s->n_q; ++q) {
            auto & r = s->out_codes[(size_t) q];
            std::copy(r.begin(), r.end(), s->pulled_codes.begin() + (ptrdiff_t) (q * n));
            s->pulled_len[(size_t) q] = (int32_t) r.size();
            r.clear();
        }
        s->pulled_scales.swap(s->out_scales);
        s->out_scales.clear();
        if (out) {
            *out = codec_codes{};
            out->n_q = s->n_q;
            out->n_frames = (int32_t) n;
            out->data = s->pulled_codes.data();
            out->row_len = s->spec.row_stride.empty() ? nullptr : s->pulled_len.data();
            out->n_scales = (int32_t) s->pulled_scales.size();
            out->scales = s->pulled_scales.empty() ? nullptr : s->pulled_scales.data();
        }
        return CODEC_OK;
    });
}

codec_status codec_stream_pull_latent(codec_stream * s, codec_latent * out) {
    return guarded(s, [&]() -> codec_status {
        if (!s->encode) return fail(s, CODEC_ERR_INVALID_ARG, "this is a decode stream: pull PCM, not latents");
        if (!s->latent) return fail(s, CODEC_ERR_INVALID_ARG, "this model's streams carry codes: pull them with codec_stream_pull_codes");
        const size_t n = s->out_lat[0].size();
        s->pulled_lat.resize(n * s->out_lat.size());
        for (size_t d = 0; d < s->out_lat.size(); ++d) {
            std::copy(s->out_lat[d].begin(), s->out_lat[d].end(), s->pulled_lat.begin() + (ptrdiff_t) (d * n));
            s->out_lat[d].clear();
        }
        if (out) {
            out->latent_dim = s->latent_dim();
            out->n_frames = (int32_t) n;
            out->data = s->pulled_lat.data();
        }
        return CODEC_OK;
    });
}

codec_status codec_stream_pull_pcm(codec_stream * s, codec_audio * out) {
    return guarded(s, [&]() -> codec_status {
        if (s->encode) return fail(s, CODEC_ERR_INVALID_ARG, "this is an encode stream: pull codes, not PCM");
        s->pulled_pcm.swap(s->out_pcm);
        s->out_pcm.clear();
        if (out) {
            out->n_samples = (int64_t) (s->pulled_pcm.size() / (size_t) s->channels());
            out->n_channels = s->channels();
            out->sample_rate = s->model->hparams.sample_rate;
            out->data = s->pulled_pcm.data();
        }
        return CODEC_OK;
    });
}

}  // extern "C"
