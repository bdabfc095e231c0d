// codec.cpp: neural audio codec inference on ggml.
//
// One model (weights, read-only after load) is shared by any number of contexts.
// Each context owns its backend state, graph cache, results and last error.
//
// Thread safety (checked under ThreadSanitizer by tests/unit/test_threads.cpp):
//   Safe concurrently:
//   - codec_model_load from several threads (separate models, same file or not).
//   - codec_model_* getters (codec_model_meta_str included) and codec_context_new/free, from
//     any thread, while other threads use contexts of the same model: a loaded model is
//     read-only.
//   - codec_encode/decode* on different contexts, of the same model or not, at the same time.
//   - codec_status_str, codec_*_default_params (pure).
//   Not safe:
//   - two threads calling into the same codec_context at once (encode, decode*, set_n_threads,
//     last_error, perf): a context is used by one thread at a time; use one per thread. It may
//     move between threads with external synchronization.
//   - codec_model_free while any context of that model exists or any call on it is running.
//   - result pointers (codes, audio, last error) outlive only until the next call on their
//     context; copy them before handing them to another thread that runs later.
//   - ggml's process-wide settings (ggml_log_set) are not the library's: set them before
//     starting threads.
//
// Layouts:
//   - PCM is float, interleaved [n_samples][n_channels], n_channels == codec_model_channels().
//   - codes are int32, row-major [n_q][n_frames]: row q holds codebook q for every frame.
//   - latents are float, row-major [latent_dim][n_frames] (PyTorch's [C, T] layout); continuous
//     models (no codebook: Pocket TTS's Mimi, Soprano) encode to and decode from them only.
// Result pointers returned by a context stay valid until the next call on that context.
#ifndef CODEC_H
#define CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CODEC_SHARED)
#  ifdef CODEC_BUILD
#    define CODEC_API __declspec(dllexport)
#  else
#    define CODEC_API __declspec(dllimport)
#  endif
#elif defined(CODEC_SHARED)
#  define CODEC_API __attribute__((visibility("default")))
#else
#  define CODEC_API
#endif

typedef enum codec_status {
    CODEC_OK = 0,
    CODEC_ERR_INVALID_ARG = 1,  // bad argument: NULL, n_q out of range, code out of range, empty input
    CODEC_ERR_IO = 2,           // file cannot be opened or read
    CODEC_ERR_FORMAT = 3,       // file is not a valid codec GGUF (bad magic, missing key, bad tensor)
    CODEC_ERR_UNSUPPORTED = 4,  // unknown architecture, or the model lacks the encoder/decoder
    CODEC_ERR_BACKEND = 5,      // backend could not be created, allocated or computed
    CODEC_ERR_NO_MEMORY = 6,
} codec_status;

CODEC_API const char * codec_status_str(codec_status status);

typedef struct codec_model   codec_model;
typedef struct codec_context codec_context;

typedef struct codec_model_params {
    int32_t n_threads;  // default CPU threads for contexts of this model (<= 0: all cores)
    bool    use_gpu;    // place weights and compute on the first GPU backend, if ggml has one
} codec_model_params;

typedef struct codec_context_params {
    int32_t n_threads;  // <= 0: the model's n_threads
} codec_context_params;

CODEC_API codec_model_params   codec_model_default_params(void);
CODEC_API codec_context_params codec_context_default_params(void);

// Loads a GGUF model. On failure returns NULL, sets *status (if not NULL) and writes a
// message naming the problem into err (if not NULL, truncated to err_size).
CODEC_API codec_model * codec_model_load(const char * path, codec_model_params params,
                                         codec_status * status, char * err, size_t err_size);
CODEC_API void          codec_model_free(codec_model * model);

// Model information.
CODEC_API const char * codec_model_arch         (const codec_model * model);
CODEC_API int32_t      codec_model_sample_rate  (const codec_model * model);
CODEC_API int32_t      codec_model_hop_size     (const codec_model * model);  // samples per frame
// The encoder's input: PCM at this rate, this many samples per frame. The same as sample_rate /
// hop_size except for models whose encoder takes another rate (NeuCodec: 16 kHz in, 24 kHz out).
CODEC_API int32_t      codec_model_encode_sample_rate(const codec_model * model);
CODEC_API int32_t      codec_model_encode_hop_size   (const codec_model * model);
CODEC_API int32_t      codec_model_n_q          (const codec_model * model);  // max codebooks
CODEC_API int32_t      codec_model_codebook_size(const codec_model * model);
CODEC_API int32_t      codec_model_codebook_dim (const codec_model * model);
CODEC_API int32_t      codec_model_latent_dim   (const codec_model * model);
CODEC_API int32_t      codec_model_channels     (const codec_model * model);
CODEC_API bool         codec_model_has_encoder  (const codec_model * model);
CODEC_API bool         codec_model_has_decoder  (const codec_model * model);
CODEC_API bool         codec_model_uses_gpu     (const codec_model * model);
// True if codes carry per-chunk scales (EnCodec 48 kHz): decode them with codec_decode_codes.
CODEC_API bool         codec_model_has_scales   (const codec_model * model);
// Code rows (levels) have different lengths (SNAC): encode fills row_len, decode needs
// codec_decode_codes with row_len.
CODEC_API bool         codec_model_multi_rate   (const codec_model * model);
// Continuous latents, no codebook (Pocket TTS's Mimi, Soprano): encode with codec_encode_latent,
// decode with codec_decode_latent, stream latents (codec_stream_push_latent / pull_latent);
// the code calls return CODEC_ERR_UNSUPPORTED. n_q and codebook_size mean nothing for them.
CODEC_API bool         codec_model_continuous   (const codec_model * model);
// Published target bandwidths (kbps, e.g. EnCodec's 1.5/3/6/12/24): writes up to max_n into out
// (may be NULL) and returns how many the model has (0: none).
CODEC_API int32_t      codec_model_bandwidths   (const codec_model * model, float * out, int32_t max_n);
// Codebooks used at one of those bandwidths, mapped exactly as the reference maps it (EnCodec:
// max(1, floor(kbps * 1000 / (log2(codebook_size) * ceil(sample_rate / hop_size))))).
// Returns 0 if kbps is not one of the model's bandwidths.
CODEC_API int32_t      codec_model_n_q_for_bandwidth(const codec_model * model, float kbps);
// Any GGUF metadata value rendered as a string (numbers in decimal, arrays as [a, b, ...]).
// Returns the full length (like snprintf), or -1 if the key does not exist.
CODEC_API int32_t      codec_model_meta_str     (const codec_model * model, const char * key,
                                                 char * buf, size_t buf_size);

CODEC_API codec_context * codec_context_new (codec_model * model, codec_context_params params);
CODEC_API void            codec_context_free(codec_context * ctx);
// Message of the last failed call on this context ("" after a successful call).
CODEC_API const char *    codec_context_last_error(const codec_context * ctx);
CODEC_API void            codec_context_set_n_threads(codec_context * ctx, int32_t n_threads);

// Codes. Rows are codebooks (or, for multi-scale codecs such as SNAC, code levels).
// Single-rate codecs: every row has n_frames entries, row_len == NULL.
// Multi-rate codecs: row q's valid entries are its first row_len[q]; n_frames is the longest.
// Chunked codecs with per-chunk normalization (EnCodec 48 kHz) carry one scale per chunk;
// frames of consecutive chunks are concatenated along each row. EnCodec 48 kHz chunks are
// the reference's: input samples [i * 47520, i * 47520 + 48000), 150 frames each except the
// last (and, for some lengths, the one before it), which hold ceil(samples / 320); decoding
// derives that layout from n_frames and n_scales. A stereo model takes stereo PCM only (the
// CLI and the Python binding duplicate mono input into both channels).
// SNAC (multi-rate): level q runs at 1/vq_strides[q] of the latent frame rate (24 kHz: strides
// 4, 2, 1 = 12/23/47 Hz), so level q holds n / vq_strides[q] codes for n latent frames; encode
// returns row_len set and unused entries of shorter rows zeroed. Encode first right-pads the
// input with zeros to a multiple of hop * lcm(vq_strides[0], attention window or 1) samples
// (2048 at 24 kHz, 12288 at 32/44 kHz), as SNAC.preprocess does, and decode returns that padded
// length. The decoder's noise blocks add zero noise (the reference draws random noise there):
// decode is deterministic and equals the reference with torch.randn returning zeros.
typedef struct codec_codes {
    int32_t         n_q;       // rows
    int32_t         n_frames;  // columns (longest row)
    const int32_t * data;      // [n_q][n_frames] row-major
    const int32_t * row_len;   // [n_q] or NULL
    int32_t         n_scales;  // 0 when the codec has no per-chunk scales
    const float *   scales;    // [n_scales] or NULL
} codec_codes;

// Audio, owned by the context.
typedef struct codec_audio {
    int64_t       n_samples;   // per channel
    int32_t       n_channels;
    int32_t       sample_rate;
    const float * data;        // interleaved [n_samples][n_channels]
} codec_audio;

#define CODEC_N_Q_ALL (-1)

// Mono/multi-channel PCM at the model's encode sample rate (codec_model_encode_sample_rate) -> codes. n_q: 1..codec_model_n_q(),
// or CODEC_N_Q_ALL; 0 and values above the model's are errors. n_samples must be >= 1.
// Non-finite samples (NaN, Inf) are rejected with CODEC_ERR_INVALID_ARG naming the first
// one; samples should lie in [-1, 1] (finite values far outside it may give meaningless codes,
// and models with per-chunk scales reject audio whose chunk RMS overflows float).
CODEC_API codec_status codec_encode(codec_context * ctx, const float * pcm, int64_t n_samples,
                                    int32_t n_q, codec_codes * out);

// Codes -> PCM. codes is [n_q][n_frames] row-major with 1 <= n_q <= codec_model_n_q().
// For single-rate codecs without scales; others return CODEC_ERR_INVALID_ARG pointing to
// codec_decode_codes.
CODEC_API codec_status codec_decode(codec_context * ctx, const int32_t * codes, int32_t n_q,
                                    int32_t n_frames, codec_audio * out);

// Codes -> PCM for every codec: takes codes exactly as codec_encode returned them (row
// lengths and scales included).
CODEC_API codec_status codec_decode_codes(codec_context * ctx, const codec_codes * codes, codec_audio * out);

// Quantized latent [latent_dim][n_frames] (the decoder's input) -> PCM. For continuous models
// this is the decoder (latent_dim == codec_model_latent_dim()). Non-finite values are rejected.
CODEC_API codec_status codec_decode_latent(codec_context * ctx, const float * latent,
                                           int32_t latent_dim, int32_t n_frames, codec_audio * out);

// ---- Batches
//
// Several inputs in one call: out[i] is what the one-input call (codec_encode / codec_decode_codes)
// returns for input i: the same codes, PCM equal within float rounding. Inputs of the same length
// (decode: the same n_q and n_frames) run as one graph with a batch axis where the model has one
// for that direction (codec_model_batch_graphs): bigger matrix products for the CPU, fewer launches for a GPU.
// Memory grows with the number of same-length inputs; split very large batches. Other inputs,
// and every input of models without a batch graph, run one after another. Results stay valid
// until the next call on ctx. A bad input fails the whole call before anything runs, with a
// message naming the input (the same checks as the one-input calls).
// Which batch calls have the graph: CODEC_BATCH_ENCODE (codec_encode_batch), CODEC_BATCH_DECODE
// (codec_decode_batch; neither for models with per-chunk scales or continuous latents),
// CODEC_BATCH_DECODE_LATENT (codec_decode_latent_batch).
#define CODEC_BATCH_ENCODE        1u
#define CODEC_BATCH_DECODE        2u
#define CODEC_BATCH_DECODE_LATENT 4u
CODEC_API uint32_t codec_model_batch_graphs(const codec_model * model);
// Both directions have the graph (codec_model_batch_graphs() has both bits).
CODEC_API bool codec_model_batch_graph(const codec_model * model);
// pcm[i]: n_samples[i] samples per channel, as codec_encode takes them; out: n_batch entries.
CODEC_API codec_status codec_encode_batch(codec_context * ctx, const float * const * pcm, const int64_t * n_samples,
                                          int32_t n_batch, int32_t n_q, codec_codes * out);
// codes[i]: as codec_decode_codes takes them; out: n_batch entries.
CODEC_API codec_status codec_decode_batch(codec_context * ctx, const codec_codes * codes, int32_t n_batch,
                                          codec_audio * out);
// latents[i]: [latent_dim][n_frames[i]] as codec_decode_latent takes it (a TTS server's hidden
// states, or latents of a continuous model); out: n_batch entries. Same-length latents share one
// graph where the model has CODEC_BATCH_DECODE_LATENT.
CODEC_API codec_status codec_decode_latent_batch(codec_context * ctx, const float * const * latents,
                                                 const int32_t * n_frames, int32_t n_batch, int32_t latent_dim,
                                                 codec_audio * out);

// Latents, owned by the context (one-shot calls) or the stream (pulls).
typedef struct codec_latent {
    int32_t       latent_dim;  // rows
    int32_t       n_frames;    // columns
    const float * data;        // [latent_dim][n_frames] row-major
} codec_latent;

// Continuous models: PCM -> latent [latent_dim][n_frames], the mirror of codec_decode_latent (same
// layout; its output decodes with it). Input as codec_encode (n_samples >= 1, finite samples).
// Models with codebooks return CODEC_ERR_UNSUPPORTED (use codec_encode).
CODEC_API codec_status codec_encode_latent(codec_context * ctx, const float * pcm, int64_t n_samples,
                                           codec_latent * out);

// Where the last successful encode/decode call on a context spent its time.
typedef struct codec_perf {
    double  build_ms;        // graph construction (0 when a cached graph was reused)
    double  alloc_ms;        // placing the graph's tensors in the compute buffer
    double  compute_ms;      // graph execution on the backend
    double  io_ms;           // input upload to the backend
    double  gflop;           // floating-point work of the graph, counted from its nodes
    int32_t n_nodes;         // nodes in the graph
    size_t  compute_buffer;  // bytes of the context's compute buffer(s)
} codec_perf;

CODEC_API void codec_context_perf(const codec_context * ctx, codec_perf * out);


// ---- Streaming
//
// A stream computes one direction piece by piece: push PCM and pull codes (encode), or push
// codes and pull PCM (decode); flush at the end of the input; reset to start over. Pushes may
// have any size (down to one sample or one frame); each push computes every block whose input
// is complete, and pull returns everything computed since the last pull. Memory stays bounded
// by the block size, whatever the length of the input.
//
// Exactness: causal models (Mimi, EnCodec 24 kHz) carry their state between blocks (conv
// context, LSTM state, the transformer's sliding-window KV cache), so any chunking gives the
// one-shot result. DAC, SNAC and WavTokenizer's encoder, not causal, carry state too: each of
// their convs computes the outputs whose window is complete, so their output lags the input by
// their receptive field.
// Soprano's decoder computes each block with enough context on both sides to cover the receptive
// field and keeps only the block's own part: the one-shot result up to float rounding.
// XCodec2 / NeuCodec and WavTokenizer decode only approximately, when asked (approx_* below).
// codec_stream_get_info tells which, and the latency that follows.
//
// Lifetime: a stream uses its context's model, not the context: free it before the model (it
// may outlive the context). One thread at a time per stream; different streams may run at once.
// Result pointers stay valid until the next call on the stream.
typedef struct codec_stream codec_stream;

// Continuous models (codec_model_continuous) stream latents instead of codes: encode streams
// pull them with codec_stream_pull_latent, decode streams take them with codec_stream_push_latent.
typedef enum codec_stream_direction {
    CODEC_STREAM_ENCODE = 0,  // push PCM, pull codes (continuous models: latents)
    CODEC_STREAM_DECODE = 1,  // push codes (continuous models: latents), pull PCM
} codec_stream_direction;

typedef struct codec_stream_params {
    codec_stream_direction direction;
    int32_t n_q;           // encode: codebooks to produce (CODEC_N_Q_ALL: all); decode: rows of every push
                           // (continuous models: CODEC_N_Q_ALL or codec_model_latent_dim())
    int32_t block_frames;  // frames computed per graph at most (<= 0: about one second)
    // Approximate decode, for the models that no bounded context decodes exactly (XCodec2 / NeuCodec
    // and WavTokenizer: attention and normalization over the whole sequence), which otherwise refuse
    // to stream. With `approximate` set, such a model decodes each block in a window of
    // approx_left_frames frames of context before it and approx_right_frames after it, and fades
    // linearly from the previous block's continuation into the block over its first
    // approx_fade_frames frames (0 .. approx_right_frames). Not the one-shot output
    // (docs/streaming.md; codec_stream_info.approximate says so). NeuTTS streams NeuCodec with 50 / 5
    // frames of context in 25-frame blocks. Models that stream exactly ignore these. Default: off.
    bool    approximate;
    int32_t approx_left_frames, approx_right_frames, approx_fade_frames;
} codec_stream_params;

typedef struct codec_stream_info {
    bool    causal;            // output keeps pace with the input (no lookahead); state carried
    bool    carries_state;     // state carried between blocks (causal models, DAC, SNAC): the one-shot output for
                               // any chunking, no context recomputed; else windows (codec.h above)
    int32_t hop_size;          // samples per frame
    int32_t block_frames;      // frames per graph at most
    int32_t first_frames;      // frames of input before the first output can be computed
    int32_t lookahead_frames;  // frames of input past a frame that must arrive before that frame is output
    int32_t left_frames;       // past frames an output depends on (non-causal models): windows recompute
                               // them before each block, state-carrying streams hold them
    int32_t align_frames;      // blocks start at multiples of this many frames
    int64_t state_bytes;       // carried state (0 until the first block ran; grows with the input only
                               // where attention sees every past frame: Qwen3-TTS-Tokenizer's encoder)
    // The last block: graph build (0 when a cached graph was reused), allocation and compute time.
    double  last_build_ms, last_alloc_ms, last_compute_ms;
    int32_t n_blocks;          // blocks computed since the stream was created or reset
    bool    approximate;       // windows of a model that no bounded context decodes exactly
                               // (codec_stream_params.approx_*): not the one-shot output
    int32_t fade_frames;       // approximate windows: frames cross-faded at the start of each block
} codec_stream_info;

CODEC_API codec_stream_params codec_stream_default_params(void);

// Creates a stream for ctx's model (threads: ctx's). Returns NULL and writes the reason into
// ctx's last error if the model lacks that direction or does not stream, or n_q is out of range.
CODEC_API codec_stream * codec_stream_new (codec_context * ctx, codec_stream_params params);
CODEC_API void           codec_stream_free(codec_stream * stream);
// Drops pending input, output and state: the stream starts again as new.
CODEC_API codec_status   codec_stream_reset(codec_stream * stream);
CODEC_API const char *   codec_stream_last_error(const codec_stream * stream);
CODEC_API codec_status   codec_stream_get_info(const codec_stream * stream, codec_stream_info * out);

// Encode streams: interleaved PCM at the model's encode sample rate and channel count (n_samples per channel,
// 0 allowed). Non-finite samples are rejected; nothing of a rejected push is kept.
CODEC_API codec_status codec_stream_push_pcm(codec_stream * stream, const float * pcm, int64_t n_samples);
// Decode streams: the next codes->n_frames frames of every row (rows: the stream's n_q). Multi-
// rate codes (SNAC): row q holds codes->row_len[q] new codes. Models with per-chunk scales do not
// stream yet. Codes out of range are rejected; nothing of a rejected push is kept.
CODEC_API codec_status codec_stream_push_codes(codec_stream * stream, const codec_codes * codes);
// Decode streams of continuous models: the next n_frames frames of a latent [latent_dim][n_frames]
// (latent_dim: the model's). Non-finite values are rejected; nothing of a rejected push is kept.
CODEC_API codec_status codec_stream_push_latent(codec_stream * stream, const float * latent, int32_t latent_dim,
                                                int32_t n_frames);
// End of input: computes everything still pending (the one-shot call's end padding included).
// Pushing after a flush is an error until codec_stream_reset.
CODEC_API codec_status codec_stream_flush(codec_stream * stream);
// Output computed since the last pull (possibly empty: n_frames or n_samples 0).
// Encode streams: codes [n_q][n_frames]; multi-rate: row_len set.
CODEC_API codec_status codec_stream_pull_codes(codec_stream * stream, codec_codes * out);
// Decode streams: interleaved PCM.
CODEC_API codec_status codec_stream_pull_pcm(codec_stream * stream, codec_audio * out);
// Encode streams of continuous models: latent frames [latent_dim][n_frames] computed since the last pull.
CODEC_API codec_status codec_stream_pull_latent(codec_stream * stream, codec_latent * out);

#ifdef __cplusplus
}
#endif

#endif  // CODEC_H
