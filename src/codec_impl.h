// Internal model/context structures shared by the C API, the graph cache and the models.
#pragma once

#include "codec.h"
#include "graph.h"
#include "model_loader.h"

#include <ggml-backend.h>
#include <ggml.h>
#include <gguf.h>

#include <memory>
#include <string>
#include <vector>

// Hyper-parameters every codec has (the codec.* GGUF keys).
struct codec_hparams {
    std::string arch;
    int32_t sample_rate   = 0;
    int32_t hop_size      = 0;
    // Encoder input (PCM the encoder takes): the same rate as the output except where the GGUF's
    // codec.encode_sample_rate says otherwise (NeuCodec: 16 kHz in, 24 kHz out); its hop follows.
    int32_t encode_sample_rate = 0;
    int32_t encode_hop_size    = 0;
    int32_t n_q           = 0;
    int32_t codebook_size = 0;
    int32_t codebook_dim  = 0;
    int32_t latent_dim    = 0;
    int32_t channels      = 1;
    bool    has_encoder   = false;
    bool    has_decoder   = false;
    bool    multi_rate    = false;  // code rows have their own lengths (SNAC): set by the model's init
    bool    has_scales    = false;  // codes carry one scale per chunk (EnCodec 48 kHz): set by the model's init
    bool    continuous    = false;  // latents without a codebook (Pocket TTS's Mimi, Soprano): set by the model's init
    bool    encode_rate_checked = false;  // the encoder was checked against encode_sample_rate / hop: set by the model's init
    std::vector<float>   bandwidths;     // published bandwidths (kbps), if the model has them
    std::vector<int32_t> bandwidth_n_q;  // codebooks used at each of them, mapped as the reference maps them
};

struct codec_model;

// How a model streams (codec_arch_ops::stream), read by the stream driver (stream.cpp):
//   STATEFUL: graphs of consecutive blocks carry state (codec_stream_io), so any chunking
//             gives the one-shot result. first_frames: frames the first block needs (e.g.
//             reflect padding at the start reads that far ahead). Causal models' output keeps
//             pace with the input; a non-causal model streamed this way (centered convs,
//             blocks/centered_conv.h) lags by `lookahead` frames, which the flushed last block
//             emits: the stream then holds one frame back so that block always has input.
//   WINDOW:   non-causal; each block of frames is computed by the one-shot graph over a window
//             with `left` and `right` frames of context that cover the receptive field, and only
//             the block is kept. Blocks start at multiples of `align` frames. Approximate
//             windows (spec.approx, on request) use the caller's context instead.
//   CHUNKED:  the input is cut into chunks of chunk_samples every chunk_stride samples, each
//             coded on its own with one scale (EnCodec 48 kHz): blocks of whole chunks; decoding
//             carries the last chunk's overlap for the overlap-add. A block that is not the
//             flushed tail has req.stream CODEC_STREAM_STEP without CODEC_STREAM_LAST and holds
//             exactly k whole chunks ((k - 1) * stride + chunk_samples samples, k * chunk_frames codes).
// Frames are hop-sized; row_stride[q] (multi-rate codes) is frames per code of row q.
enum codec_stream_kind {
    CODEC_STREAM_KIND_NONE     = 0,
    CODEC_STREAM_KIND_STATEFUL = 1,
    CODEC_STREAM_KIND_WINDOW   = 2,
    CODEC_STREAM_KIND_CHUNKED  = 3,
};

struct codec_stream_spec {
    codec_stream_kind kind = CODEC_STREAM_KIND_NONE;
    int64_t first_frames = 1;
    int64_t lookahead = 0;  // stateful: frames of input past a frame before it is computed (non-causal)
    int64_t max_block = 0;  // stateful: most frames per block (0: any), e.g. to keep attention linear
    // Stateful decode of a model whose one-shot decode runs in chunks (Qwen3-TTS's chunked_decode):
    // every `chunk` frames the state restarts, primed with the previous `chunk_left` frames
    // (their output dropped). 0: no chunks.
    int64_t chunk = 0, chunk_left = 0;
    // Stateful models whose causal attention has no window (it sees every past frame): attention
    // frames per stream frame. The stream grows the KV cache (codec_stream_io::kv_frames) so that
    // it always holds every past frame: exact, and memory grows with the stream. 0: windowed.
    int64_t kv_per_frame = 0;
    int64_t left = 0, right = 0, align = 1;  // window: context each side; stateful non-causal: the receptive field
    int64_t chunk_samples = 0, chunk_stride = 0, chunk_frames = 0;  // chunked
    std::vector<int32_t> row_stride;
    std::string why;  // kind NONE: why the model does not stream (shown to the caller)
    // Kind NONE: the caller may still ask for approximate windows (codec_stream_params.approx_*),
    // blocks starting at multiples of `align` frames; the driver then sets kind WINDOW, left, right
    // and fade (frames of each block faded in from the previous block's continuation).
    bool approx = false;
    int64_t fade = 0;
    int32_t decode_hop = 0;  // decode: output samples per frame where not hop_size (WavTokenizer 40 tok/s: 600, not 640)
};

// Per-architecture operations. Every model registers one of these in models/registry.cpp.
struct codec_arch_ops {
    const char * name;
    void * (*create)();
    void   (*destroy)(void * impl);
    // Reads model-specific hparams and declares every weight on the loader (validated there).
    bool   (*init)(codec_model & model, codec_model_loader & loader, std::string & err);
    // Graph builders: create inputs with codec_graph_input() and mark outputs on `g`.
    // encode: input F32 [n_in, channels] -> n_q outputs I32 [n_frames] (continuous models,
    // CODEC_GRAPH_ENCODE_LATENT: one output F32 [n_frames, latent_dim])
    bool   (*encode)(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err);
    // decode: input I32 [n_frames, n_q] codes (or F32 [n_frames, latent_dim] latent) -> F32 [n_out, channels]
    bool   (*decode)(const codec_model & model, codec_graph & g, const codec_graph_request & req, std::string & err);
    // Upper bound on the tensors the builder creates for `req` (sizes the probe context).
    size_t (*graph_size)(const codec_model & model, const codec_graph_request & req);
    // How the model streams in one direction (null: it does not). Stateful models build their
    // graphs with g.io set when req.stream != 0 and pass it to every stateful block.
    void   (*stream)(const codec_model & model, bool encode, codec_stream_spec & spec);
    // The builders take req.n_batch > 1 (codec_encode_batch / codec_decode_batch): n_batch inputs
    // of one shape in one graph, the batch as the inputs' and outputs' last axis: encode PCM
    // [n_in, channels, B] -> code rows I32 [n_frames, B]; decode codes I32 [n_frames, n_q, B] -> PCM
    // [n_out, channels, B]. Multi-rate codes: encode rows I32 [row_len[q], B]; decode input each
    // sequence's rows back to back, I32 [sum of req.row_len, 1, B]. Models with per-chunk scales
    // or continuous latents, and directions without their bit, run batches one input at a time.
    uint32_t batch = 0;  // CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE (codec.h): the builders that take n_batch > 1
};

const codec_arch_ops * codec_find_arch(const std::string & name);

struct codec_model {
    codec_hparams hparams;
    const codec_arch_ops * ops = nullptr;
    void * impl = nullptr;  // model-specific struct (hparams + tensors)

    codec_model_loader loader;  // owns gguf metadata and the weight buffer

    ggml_backend_dev_t dev = nullptr;  // device holding the weights
    bool on_gpu = false;
    int32_t n_threads = 1;

    ~codec_model();
};

struct codec_context {
    codec_model * model = nullptr;
    int32_t n_threads = 1;

    codec_graph_runner runner;

    std::string last_error;
    codec_perf perf = {};
    std::vector<int32_t> codes;
    std::vector<int32_t> row_len;  // per-row code lengths of the last multi-rate encode
    std::vector<float> scales;     // per-chunk scales of the last encode (has_scales models)
    std::vector<float> pcm;
    std::vector<float> latent;     // the last codec_encode_latent's [latent_dim][n_frames]

    struct batch_item {  // one input's result of the last batch call
        std::vector<int32_t> codes, row_len;
        std::vector<float> scales, pcm;
    };
    std::vector<batch_item> batch;
};

std::string codec_fmt(const char * fmt, ...);
