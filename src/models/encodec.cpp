// EnCodec: SEANet encoder -> 2-layer LSTM -> euclidean RVQ -> mirrored decoder.
// Module tree mirrors transformers' modeling_encodec.py; tensor names are its state-dict keys.
// The 48 kHz model encodes 1 s chunks (stride chunk * (1 - overlap)) each normalized by its RMS,
// and decodes them with a linear overlap-add; every step is a graph op. The only CPU-side
// bookkeeping is the chunk layout (offsets and lengths, integers). Batches of same-length inputs
// (codec_encode_batch / codec_decode_batch) run as one graph with a batch axis, 24 kHz only.
#include "encodec.h"

#include "blocks/chunked.h"
#include "blocks/lstm.h"
#include "blocks/seanet.h"
#include "blocks/vq_euclidean.h"
#include "stream_io.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace {

struct encodec_model {
    codec_seanet sn;
    int32_t n_lstm = 0;
    bool normalize = false;
    int32_t chunk_length = 0, chunk_stride = 0;  // 0: the whole input is one chunk

    codec_seanet_conv enc_in, enc_out;
    std::vector<codec_seanet_stage> enc;
    std::vector<codec_lstm_layer> enc_lstm;

    std::vector<codec_vq_euclidean> vq;

    codec_seanet_conv dec_in, dec_out;
    std::vector<codec_lstm_layer> dec_lstm;
    std::vector<codec_seanet_stage> dec;
};

// Frames of each chunk of an n-sample input, as EncodecModel.encode splits it (the last chunk,
// and possibly the one before it, may be short).
std::vector<int64_t> chunk_frames(const encodec_model & m, int64_t n, int hop) {
    if (m.chunk_length == 0) return {(n + hop - 1) / hop};
    std::vector<int64_t> f;
    for (int64_t off = 0; off < n; off += m.chunk_stride) {
        f.push_back((std::min<int64_t>(m.chunk_length, n - off) + hop - 1) / hop);
    }
    return f;
}

int64_t sum(const std::vector<int64_t> & v) {
    int64_t s = 0;
    for (int64_t x : v) s += x;
    return s;
}

// Chunk layout of codes with n_frames frames in n_chunks chunks: the one of any input length
// that gives this many chunks and frames (frames grow monotonically with the length).
bool decode_layout(const encodec_model & m, int64_t n_frames, int64_t n_chunks, int hop, std::vector<int64_t> & f,
                   std::string & err) {
    if (m.chunk_length == 0) {
        if (n_chunks != 0) {
            err = "this EnCodec model has no per-chunk scales (n_scales must be 0)";
            return false;
        }
        f = {n_frames};
        return true;
    }
    if (n_chunks < 1 || n_chunks > n_frames) {  // every chunk has at least one frame
        err = codec_fmt("n_scales = %lld: chunked EnCodec codes carry one scale per chunk", (long long) n_chunks);
        return false;
    }
    int64_t lo = (n_chunks - 1) * m.chunk_stride + 1, hi = n_chunks * m.chunk_stride;
    const int64_t f_lo = sum(chunk_frames(m, lo, hop)), f_hi = sum(chunk_frames(m, hi, hop));
    if (n_frames < f_lo || n_frames > f_hi) {
        err = codec_fmt("n_frames = %lld does not fit %lld chunks (%lld..%lld frames)", (long long) n_frames,
                        (long long) n_chunks, (long long) f_lo, (long long) f_hi);
        return false;
    }
    while (lo < hi) {  // smallest length with at least n_frames frames
        const int64_t mid = lo + (hi - lo) / 2;
        if (sum(chunk_frames(m, mid, hop)) < n_frames) lo = mid + 1; else hi = mid;
    }
    f = chunk_frames(m, lo, hop);
    if (sum(f) != n_frames) {
        err = codec_fmt("n_frames = %lld is not a frame count %lld chunks can have", (long long) n_frames, (long long) n_chunks);
        return false;
    }
    return true;
}

bool encodec_init(codec_model & model, codec_model_loader & ld, std::string & err) {
    encodec_model & m = *(encodec_model *) model.impl;
    codec_hparams & hp = model.hparams;
    std::string pad, norm;
    std::vector<int32_t> bps;
    if (!ld.get_i32("encodec.num_filters", m.sn.n_filters, 1, 4096, err) ||
        !ld.get_i32_arr("encodec.upsampling_ratios", m.sn.ratios, 1, 8, 1, 64, err) ||
        !ld.get_i32("encodec.num_residual_layers", m.sn.n_res, 0, 8, err) ||
        !ld.get_i32("encodec.dilation_growth_rate", m.sn.growth, 1, 16, err) ||
        !ld.get_i32("encodec.kernel_size", m.sn.kernel, 1, 64, err) ||
        !ld.get_i32("encodec.last_kernel_size", m.sn.last_kernel, 1, 64, err) ||
        !ld.get_i32("encodec.residual_kernel_size", m.sn.res_kernel, 1, 64, err) ||
        !ld.get_i32("encodec.compress", m.sn.compress, 1, 64, err) ||
        !ld.get_i32("encodec.num_lstm_layers", m.n_lstm, 1, 8, err) ||
        !ld.get_bool("encodec.use_causal_conv", m.sn.causal, err) ||
        !ld.get_bool("encodec.use_conv_shortcut", m.sn.conv_shortcut, err) ||
        !ld.get_str("encodec.pad_mode", pad, err) ||
        !ld.get_str("encodec.norm_type", norm, err) ||
        !ld.get_f32("encodec.trim_right_ratio", m.sn.trim_right_ratio, err) ||
        !ld.get_bool("encodec.normalize", m.normalize, err) ||
        !ld.get_i32("encodec.chunk_length", m.chunk_length, 0, 1 << 26, err) ||
        !ld.get_i32("encodec.chunk_stride", m.chunk_stride, 0, 1 << 26, err) ||
        !ld.get_i32_arr("encodec.target_bandwidths_bps", bps, 1, 16, 1, 1 << 24, err)) {
        return false;
    }
    if (pad != "reflect" && pad != "constant") {
        err = "encodec.pad_mode = '" + pad + "': expected reflect or constant";
        return false;
    }
    m.sn.pad = pad == "reflect" ? CODEC_PAD_REFLECT : CODEC_PAD_CONSTANT;
    if (norm != "weight_norm" && norm != "time_group_norm") {
        err = "encodec.norm_type = '" + norm + "': expected weight_norm or time_group_norm";
        return false;
    }
    m.sn.norm = norm == "time_group_norm";
    if (!(m.sn.trim_right_ratio >= 0.0f && m.sn.trim_right_ratio <= 1.0f) || (!m.sn.causal && m.sn.trim_right_ratio != 1.0f)) {
        err = "encodec.trim_right_ratio must be in [0, 1], and 1 for non-causal convs";
        return false;
    }
    if ((m.chunk_length == 0) != (m.chunk_stride == 0) || m.chunk_stride > m.chunk_length) {
        err = "encodec.chunk_length / chunk_stride: both 0 (no chunks) or 0 < stride <= length";
        return false;
    }
    int64_t hop = 1;
    for (int r : m.sn.ratios) hop *= r;
    const int64_t enc_dim = (int64_t) m.sn.n_filters << m.sn.ratios.size();
    if (hop != hp.hop_size) {
        err = codec_fmt("codec.hop_size = %d but encodec.upsampling_ratios multiply to %lld", hp.hop_size, (long long) hop);
        return false;
    }
    if (hp.channels > 2) {
        err = "EnCodec takes 1 or 2 channels (codec.channels)";
        return false;
    }
    if (hp.codebook_dim != hp.latent_dim || enc_dim > 65536 || m.sn.n_filters < m.sn.compress) {
        err = "codec.codebook_dim must equal codec.latent_dim, encodec.num_filters >= encodec.compress";
        return false;
    }
    if (hp.codebook_size & (hp.codebook_size - 1)) {
        err = "codec.codebook_size must be a power of 2";
        return false;
    }
    // EncodecResidualVectorQuantizer.get_num_quantizers_for_bandwidth, per published bandwidth
    const double frame_rate = std::ceil((double) hp.sample_rate / (double) hop);
    const double bw_per_q = std::log2((double) hp.codebook_size) * frame_rate;
    for (int32_t b : bps) {
        const int n_q = (int) std::max(1.0, std::floor((double) b / bw_per_q));
        if (n_q > hp.n_q) {
            err = codec_fmt("encodec.target_bandwidths_bps: %d bps needs %d codebooks, the model has %d", b, n_q, hp.n_q);
            return false;
        }
        hp.bandwidths.push_back((float) b / 1000.0f);
        hp.bandwidth_n_q.push_back(n_q);
    }
    hp.has_scales = m.chunk_length > 0;

    const int H = hp.latent_dim, C = hp.channels, D = (int) enc_dim;
    if (hp.has_encoder) {  // EncodecEncoder.layers: conv, stages, LSTM, ELU, conv
        m.enc_in = codec_load_seanet_conv_in(ld, m.sn, "encoder.layers.0", m.sn.kernel, C, m.sn.n_filters);
        int idx = 1;
        m.enc = codec_load_seanet_encoder(ld, m.sn, "encoder.layers.", idx);
        m.enc_lstm = codec_load_lstm(ld, "encoder.layers." + std::to_string(idx) + ".lstm", D, m.n_lstm);
        m.enc_out = codec_load_seanet_conv(ld, m.sn, "encoder.layers." + std::to_string(idx + 2), m.sn.last_kernel, D, H);
    }
    for (int q = 0; q < hp.n_q; ++q) {
        m.vq.push_back(codec_load_vq_euclidean(ld, "quantizer.layers." + std::to_string(q) + ".codebook", H, hp.codebook_size));
    }
    if (hp.has_decoder) {  // EncodecDecoder.layers: conv, LSTM, stages, ELU, conv
        m.dec_in = codec_load_seanet_conv(ld, m.sn, "decoder.layers.0", m.sn.kernel, H, D);
        m.dec_lstm = codec_load_lstm(ld, "decoder.layers.1.lstm", D, m.n_lstm);
        int idx = 2;
        m.dec = codec_load_seanet_decoder(ld, m.sn, "decoder.layers.", idx);
        m.dec_out = codec_load_seanet_conv(ld, m.sn, "decoder.layers." + std::to_string(idx + 1), m.sn.last_kernel, m.sn.n_filters, C);
    }
    return true;
}

// ---- graph pieces; activations are channel-major [C, T], or [C, T, B] for a batch (24 kHz:
// one chunk per input; chunked models, whose chunks and scales vary per input, are not batched)

// EncodecLSTM (output + input) over chunks; chunks with equal frame counts step together.
// Streaming (io set) there is one chunk, and the LSTM carries h and c between blocks.
void lstm_skip(ggml_context * ctx, const std::vector<codec_lstm_layer> & lstm, std::vector<ggml_tensor *> & xs, bool cpu,
               codec_stream_io * io = nullptr) {
    if (xs.size() == 1) {  // one chunk, or a batch [C, T, B] (its sequences step together already)
        xs[0] = ggml_add(ctx, codec_lstm(ctx, lstm, xs[0], cpu, io), xs[0]);
        return;
    }
    std::map<int64_t, std::vector<size_t>> groups;
    for (size_t i = 0; i < xs.size(); ++i) groups[xs[i]->ne[1]].push_back(i);
    for (const auto & [T, idx] : groups) {
        std::vector<ggml_tensor *> cols;
        for (size_t i : idx) cols.push_back(ggml_reshape_3d(ctx, xs[i], xs[i]->ne[0], T, 1));
        ggml_tensor * x = codec_concat_tree(ctx, cols, 2);  // [C, T, B]
        ggml_tensor * y = ggml_add(ctx, codec_lstm(ctx, lstm, x, cpu, io), x);
        for (size_t b = 0; b < idx.size(); ++b) xs[idx[b]] = ggml_view_2d(ctx, y, y->ne[0], T, y->nb[1], b * y->nb[2]);
    }
}

// One chunk's normalization (EncodecModel._encode_frame): x / (rms(mean over channels) + 1e-8),
// per sequence of a batch [T, C, B] (scale [1, 1, B]).
ggml_tensor * normalize(ggml_context * ctx, ggml_tensor * x, ggml_tensor ** scale) {
    const int64_t T = x->ne[0], C = x->ne[1];
    ggml_tensor * mono = nullptr;
    for (int64_t c = 0; c < C; ++c) {
        ggml_tensor * ch = ggml_view_3d(ctx, x, T, 1, x->ne[2], x->nb[1], x->nb[2], c * x->nb[1]);
        mono = mono ? ggml_add(ctx, mono, ch) : ch;
    }
    if (C > 1) mono = ggml_scale(ctx, mono, 1.0f / (float) C);  // exact for C = 2
    *scale = ggml_scale_bias(ctx, ggml_sqrt(ctx, ggml_mean(ctx, ggml_sqr(ctx, mono))), 1.0f, 1e-8f);  // [1, 1, B]
    return ggml_div(ctx, x, *scale);
}

// The stream state of a streaming graph, null for one-shot graphs. A stream whose whole input
// is one block (shorter than first_frames, then flushed) runs the one-shot graph: reflect
// padding of a too-short input zero-extends it first (as _pad1d), jointly for both edges, which
// the per-block context split would not reproduce; the one-shot graph is exact by definition.
codec_stream_io * stream_io(const encodec_model & m, const codec_graph & g) {
    return g.io && !(g.io->first && g.io->last) && !m.chunk_length ? g.io : nullptr;
}

// Chunked models stream whole chunks (independent: no state but the overlap-add's): a block
// that is not the flushed tail holds exactly k full chunks, n = (k - 1) * stride + length samples
// (the one-shot layout would add a short chunk at k * stride) or k * frames-per-chunk codes.
bool whole_chunks(const encodec_model & m, const codec_graph_request & req) {
    return m.chunk_length && (req.stream & CODEC_STREAM_STEP) && !(req.stream & CODEC_STREAM_LAST);
}

bool encodec_encode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const encodec_model & m = *(const encodec_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    ggml_context * ctx = g.ctx;
    const int64_t n = req.n_in;
    const bool cpu = !model.on_gpu;
    const int64_t stride = m.chunk_length ? m.chunk_stride : n, len_max = m.chunk_length ? m.chunk_length : n;
    if (req.n_batch > 1 && m.chunk_length) {
        err = "chunked EnCodec encodes one input per graph (batch API bug)";
        return false;
    }
    ggml_tensor * x = codec_graph_input(g, GGML_TYPE_F32, n, hp.channels, "pcm", req.n_batch);  // [n, ch, B]
    codec_stream_io * io = stream_io(m, g);
    const int64_t end = whole_chunks(m, req) ? n - (m.chunk_length - m.chunk_stride) : n;
    if (end < 1) {
        err = "a block of whole chunks is shorter than one chunk (stream driver bug)";
        return false;
    }
    std::vector<ggml_tensor *> zs, scales;
    for (int64_t off = 0; off < end; off += stride) {
        const int64_t len = std::min(len_max, n - off);
        ggml_tensor * xi = len == n ? x : ggml_view_2d(ctx, x, len, hp.channels, x->nb[1], off * x->nb[0]);
        if (m.normalize) {
            ggml_tensor * s = nullptr;
            xi = normalize(ctx, xi, &s);
            scales.push_back(s);
        } else if (!ggml_is_contiguous(xi)) {
            xi = ggml_cont(ctx, xi);
        }
        xi = codec_seanet_conv_in(ctx, m.sn, m.enc_in, xi, io);  // time-major PCM in, [C, T] out
        zs.push_back(codec_seanet_encode(ctx, m.sn, m.enc, xi, cpu, io));
    }
    lstm_skip(ctx, m.enc_lstm, zs, cpu, io);
    for (auto & z : zs) z = codec_seanet_conv1d(ctx, m.sn, m.enc_out, codec_seanet_elu(ctx, z, cpu), io);  // [H, F_i, B]
    ggml_tensor * z = codec_concat_tree(ctx, zs, 1);  // [H, F, B]: chunks back to back

    std::vector<ggml_tensor *> codes;
    codec_rvq_euclidean_encode(ctx, m.vq, req.n_q, z, codes);
    for (ggml_tensor * c : codes) codec_graph_output(g, req.n_batch > 1 ? ggml_reshape_2d(ctx, c, z->ne[1], req.n_batch) : c, "codes");
    if (hp.has_scales) {
        // Chunked but not normalized: scale 1 per chunk, so decode needs no special case.
        ggml_tensor * s = m.normalize ? codec_concat_tree(ctx, scales, 0)
                                      : ggml_scale_bias(ctx, ggml_arange(ctx, 0.0f, (float) zs.size(), 1.0f), 0.0f, 1.0f);
        codec_graph_output(g, s, "scales");  // [n_chunks, 1]
    }
    return true;
}

bool encodec_decode(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err) {
    const encodec_model & m = *(const encodec_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    ggml_context * ctx = g.ctx;
    const bool cpu = !model.on_gpu;
    std::vector<int64_t> frames;
    ggml_tensor * z, * scales = nullptr;
    const int64_t chunk_frames_full = m.chunk_length ? (m.chunk_length + hp.hop_size - 1) / hp.hop_size : 0;
    if (req.kind == CODEC_GRAPH_DECODE && whole_chunks(m, req)) {
        if (req.n_scales < 1 || req.n_frames != req.n_scales * chunk_frames_full) {
            err = "a block of whole chunks needs frames-per-chunk codes per scale (stream driver bug)";
            return false;
        }
        frames.assign((size_t) req.n_scales, chunk_frames_full);
    } else if (req.kind == CODEC_GRAPH_DECODE && !decode_layout(m, req.n_frames, req.n_scales, hp.hop_size, frames, err)) {
        return false;
    }
    if (req.n_batch > 1 && (m.chunk_length || req.kind != CODEC_GRAPH_DECODE)) {
        err = "chunked EnCodec and latents decode one input per graph (batch API bug)";
        return false;
    }
    if (req.kind == CODEC_GRAPH_DECODE) {
        ggml_tensor * codes = codec_graph_input(g, GGML_TYPE_I32, req.n_frames, req.n_q, "codes", req.n_batch);
        if (hp.has_scales) scales = codec_graph_input(g, GGML_TYPE_F32, req.n_scales, 1, "scales");
        z = codec_rvq_euclidean_decode(ctx, m.vq, codes, 0, req.n_q);  // [H, F * B]
        if (req.n_batch > 1) z = ggml_reshape_3d(ctx, z, z->ne[0], req.n_frames, req.n_batch);
    } else {
        if (hp.has_scales) {
            err = "this EnCodec model decodes per-chunk scaled codes: use codec_decode_codes, not a latent";
            return false;
        }
        frames = {req.n_frames};
        z = ggml_cont(ctx, ggml_transpose(ctx, codec_graph_input(g, GGML_TYPE_F32, req.n_frames, req.latent_dim, "latent")));
    }
    codec_stream_io * io = stream_io(m, g);
    std::vector<ggml_tensor *> ys;
    int64_t f0 = 0;
    for (int64_t f : frames) {
        ggml_tensor * zi = f == z->ne[1] ? z : ggml_view_2d(ctx, z, z->ne[0], f, z->nb[1], f0 * z->nb[1]);
        ys.push_back(codec_seanet_conv1d(ctx, m.sn, m.dec_in, zi, io));
        f0 += f;
    }
    lstm_skip(ctx, m.dec_lstm, ys, cpu, io);
    for (size_t i = 0; i < ys.size(); ++i) {
        ggml_tensor * y = codec_seanet_decode(ctx, m.sn, m.dec, ys[i], cpu, io);
        y = codec_seanet_conv1d(ctx, m.sn, m.dec_out, codec_seanet_elu(ctx, y, cpu), io);  // [C, F_i * hop]
        if (scales) y = ggml_mul(ctx, y, ggml_view_1d(ctx, scales, 1, i * sizeof(float)));
        ys[i] = y;
    }
    ggml_tensor * y = ys[0];
    if (m.chunk_length && g.io) {
        // A stream block: chunk starts are block-relative; the previous block's last chunk
        // overlaps the first one (its tail is the state), and this block's last chunk's tail
        // waits for the next block unless the input ends here. Weights span a full chunk's
        // output, as the stream's first chunk (only a stream of one short chunk differs: first).
        const int64_t S = m.chunk_stride, full = chunk_frames_full * hp.hop_size;
        ggml_tensor * slot = g.io->slot(hp.channels, full - S);
        ggml_tensor * prev = g.io->first ? nullptr : ggml_cont(ctx, slot);  // the slot's one reader
        const int64_t n_weights = g.io->first ? ys[0]->ne[1] : full;
        const int64_t total = S * ((int64_t) ys.size() - 1) + ys.back()->ne[1];
        y = codec_linear_overlap_add_block(ctx, ys, prev, S, n_weights, g.io->last ? total : S * (int64_t) ys.size(), err);
        if (!y) return false;
        if (!g.io->last) {  // written through a node that reads prev, so the write runs after that read
            ggml_tensor * tail = ggml_view_2d(ctx, ys.back(), hp.channels, full - S, ys.back()->nb[1], S * ys.back()->nb[1]);
            if (prev) {
                ggml_tensor * both = ggml_concat(ctx, prev, tail, 1);
                tail = ggml_view_2d(ctx, both, hp.channels, full - S, both->nb[1], (full - S) * both->nb[1]);
            }
            g.io->write(ctx, tail, slot);
        }
    } else if (m.chunk_length) {
        y = codec_linear_overlap_add(ctx, ys, m.chunk_stride, err);
        if (!y) return false;
    }
    // [C, T, B] -> the API's time-major [T, C, B]: free for mono
    if (!ggml_is_contiguous(y)) y = ggml_cont(ctx, y);
    y = y->ne[0] == 1 ? ggml_reshape_3d(ctx, y, y->ne[1], 1, y->ne[2]) : ggml_cont(ctx, ggml_transpose(ctx, y));
    codec_graph_output(g, y, "pcm");
    return true;
}

size_t encodec_graph_size(const codec_model & model, const codec_graph_request & req) {
    const encodec_model & m = *(const encodec_model *) model.impl;
    const codec_hparams & hp = model.hparams;
    int64_t n_chunks = 1, n_frames = req.n_frames;
    if (req.kind == CODEC_GRAPH_ENCODE) {
        const std::vector<int64_t> f = chunk_frames(m, req.n_in, hp.hop_size);
        n_chunks = (int64_t) f.size();
        n_frames = sum(f);
    } else if (req.kind == CODEC_GRAPH_DECODE && m.chunk_length) {
        n_chunks = std::max<int64_t>(1, req.n_scales);
    }
    // A conv of n taps makes <= 12 n + 48 tensors (taps, reflected edges, norm); per stage
    // 3 convs and 2 ELUs per residual block, the strided conv and an ELU.
    const codec_seanet & sn = m.sn;
    const size_t taps = (size_t) std::max({sn.kernel, sn.last_kernel, sn.res_kernel, 2});
    const size_t n_convs = 2 + sn.ratios.size() * (3 * (size_t) sn.n_res + 1);
    const size_t per_chunk = 2 * (n_convs * (12 * taps + 48) + sn.ratios.size() * (2 * (size_t) sn.n_res + 1) + 64);
    // Overlap-add: <= 2 n + 1 spans, each summing the frames covering it (<= length / stride + 1).
    const size_t cover = m.chunk_length ? (size_t) (m.chunk_length / m.chunk_stride + 2) : 1;
    const size_t overlap_add = (2 * (size_t) n_chunks + 2) * (4 * std::min<size_t>(cover, (size_t) n_chunks) + 4);
    const size_t n = 256 + (size_t) n_chunks * (per_chunk + 40) + overlap_add + (size_t) n_frames +
                     codec_lstm_graph_size(m.n_lstm, (size_t) n_frames) + (size_t) std::max(req.n_q, hp.n_q) * 12;
    return req.stream ? 2 * n : n;  // streaming: context concats and state writes per conv, the LSTM's state column
}

// Causal 24 kHz layout: every conv is left-padded only and the LSTMs carry h and c, so blocks
// carry state (stateful) and any chunking gives the one-shot codes. The one exception is the
// start: reflect padding of p frames mirrors input frames 1..p, so the first block must hold
// more than p frames at the rate of every reflect-padded conv (k_eff - stride of left padding).
// A conv running at R samples per code frame (hop at the PCM, 1 at the latent rate) needs
// first_frames * R > p; the k = 7 convs at the latent rate set 7 for the published models.
void encodec_stream(const codec_model & model, bool encode, codec_stream_spec & spec) {
    const encodec_model & m = *(const encodec_model *) model.impl;
    const codec_seanet & sn = m.sn;
    if (m.chunk_length) {  // chunks are encoded independently (non-causal inside): stream whole chunks
        spec.kind = CODEC_STREAM_KIND_CHUNKED;
        spec.chunk_samples = m.chunk_length;
        spec.chunk_stride = m.chunk_stride;
        spec.chunk_frames = (m.chunk_length + model.hparams.hop_size - 1) / model.hparams.hop_size;
        return;
    }
    std::string why;
    if (!sn.causal) why += std::string(why.empty() ? "" : "; ") + "its convs are non-causal (centered padding reads ahead)";
    if (sn.norm) why += std::string(why.empty() ? "" : "; ") + "its time-group norms average over the whole chunk";
    if (!why.empty()) {
        spec.why = why;
        return;
    }
    for (int r : sn.ratios) {
        if ((int64_t) std::ceil((double) r * (double) sn.trim_right_ratio) != r) {  // as codec_seanet_convt trims
            spec.why = "encodec.trim_right_ratio < 1 trims its transposed convs on the left too, which needs future input";
            return;
        }
    }
    int64_t first = 1;
    const auto need = [&](int64_t pad, int64_t rate) {  // a conv with `pad` reflected frames at `rate` samples per frame
        if (sn.pad == CODEC_PAD_REFLECT) first = std::max(first, pad / rate + 1);
    };
    const auto resblocks = [&](int64_t rate) {  // conv1: k = res_kernel, dilation growth^j; conv2 and shortcut: k = 1
        for (int j = 0, d = 1; j < sn.n_res; ++j, d *= sn.growth) need((int64_t) (sn.res_kernel - 1) * d, rate);
    };
    int64_t rate = model.hparams.hop_size;
    if (encode) {  // conv_in, stages (resblocks, strided conv k = 2r: r frames of padding), LSTM, conv_out
        need(sn.kernel - 1, rate);
        for (auto it = sn.ratios.rbegin(); it != sn.ratios.rend(); ++it) {
            resblocks(rate);
            need(*it, rate);
            rate /= *it;
        }
        need(sn.last_kernel - 1, rate);
    } else {  // conv_in, LSTM, stages (transposed conv: no padding, resblocks), conv_out
        rate = 1;
        need(sn.kernel - 1, rate);
        for (int r : sn.ratios) resblocks(rate *= r);
        need(sn.last_kernel - 1, rate);
    }
    spec.kind = CODEC_STREAM_KIND_STATEFUL;
    spec.first_frames = first;
}

void * encodec_create() { return new encodec_model(); }
void encodec_destroy(void * p) { delete (encodec_model *) p; }

}  // namespace

const codec_arch_ops codec_arch_encodec = {
    "encodec", encodec_create, encodec_destroy, encodec_init, encodec_encode, encodec_decode, encodec_graph_size, encodec_stream,
    // 24 kHz; codec_encode_batch runs chunked (has_scales) models one input at a time
    /*batch =*/ CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE,
};
