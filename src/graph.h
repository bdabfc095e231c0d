// Graph building with exact capacities, a small per-context graph cache and execution
// through ggml's backend scheduler.
#pragma once

#include <ggml-backend.h>
#include <ggml.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

struct codec_stream_io;

// Flags of a streaming graph (codec_graph_request::stream). A streaming graph computes one block
// of a stream: stateful blocks read their carried state and write it back (codec_stream_io).
enum codec_stream_flags {
    CODEC_STREAM_STEP  = 1,  // a block of a stream (the graph carries state)
    CODEC_STREAM_FIRST = 2,  // the stream's first block: left context is the offline padding
    CODEC_STREAM_LAST  = 4,  // the input ends in this block: right padding as offline
};

enum codec_graph_kind {
    CODEC_GRAPH_ENCODE        = 0,
    CODEC_GRAPH_DECODE        = 1,  // from codes
    CODEC_GRAPH_DECODE_LATENT = 2,  // from the quantized latent (continuous models: the latent)
    CODEC_GRAPH_ENCODE_LATENT = 3,  // continuous models: PCM -> one F32 output [n_frames, latent_dim]
};

inline bool codec_graph_is_encode(codec_graph_kind k) { return k == CODEC_GRAPH_ENCODE || k == CODEC_GRAPH_ENCODE_LATENT; }

// One request for a graph; also the graph-cache key.
struct codec_graph_request {
    codec_graph_kind kind = CODEC_GRAPH_ENCODE;
    int64_t n_frames   = 0;  // decode: input frames
    int32_t n_q        = 0;
    int32_t hop        = 0;
    int64_t n_in       = 0;  // encode: input samples per channel
    int32_t latent_dim = 0;
    std::vector<int32_t> row_len;  // decode of multi-rate codes: each row's length (input rows back to back)
    int64_t n_scales   = 0;        // decode of chunked codes: chunks (one scale each, a second input)
    int32_t stream     = 0;        // CODEC_STREAM_* flags: 0 for a one-shot (offline) graph
    int32_t n_batch    = 1;        // independent inputs of this shape in one graph (codec_arch_ops::batch)
    int64_t kv_frames  = 0;        // streams of windowless attention: KV capacity and frames cached (codec_stream_io)
    int64_t kv_pos     = 0;

    bool operator==(const codec_graph_request & o) const {
        return kind == o.kind && n_frames == o.n_frames && n_q == o.n_q && hop == o.hop &&
               n_in == o.n_in && latent_dim == o.latent_dim && row_len == o.row_len &&
               n_scales == o.n_scales && stream == o.stream && n_batch == o.n_batch && kv_frames == o.kv_frames && kv_pos == o.kv_pos;
    }
};

// A built graph: its tensors' metadata context, inputs (in creation order) and outputs.
struct codec_graph {
    ggml_context * ctx = nullptr;
    ggml_cgraph  * gf  = nullptr;
    std::vector<ggml_tensor *> inputs;
    std::vector<ggml_tensor *> outputs;
    std::vector<ggml_tensor *> updates;   // state writes of a streaming graph, computed after the outputs
    codec_stream_io * io = nullptr;       // streaming graphs: where stateful blocks find their state
    int n_nodes = 0;
    int n_leafs = 0;
    uint64_t reserved_in = 0;  // the scheduler generation whose buffers were sized for this graph

    codec_graph() = default;
    codec_graph(const codec_graph &) = delete;
    codec_graph & operator=(const codec_graph &) = delete;
    ~codec_graph() { if (ctx) ggml_free(ctx); }
};

// Floating-point operations of a built graph (multiply-adds count 2), for benchmarks.
double codec_graph_flops(const ggml_cgraph * gf);

// Helpers for builders.
// Batched graphs (req.n_batch > 1) take one input per request with the batch as ne2.
ggml_tensor * codec_graph_input (codec_graph & g, ggml_type type, int64_t ne0, int64_t ne1 = 1, const char * name = "input",
                                 int64_t ne2 = 1);
void          codec_graph_output(codec_graph & g, ggml_tensor * t, const char * name = "output");

using codec_graph_builder = std::function<bool(codec_graph & g, std::string & err)>;

// Builds `build` twice: once in a probe context of at most `max_tensors` tensors, to count
// the tensors and the DAG's nodes and leafs; then into a context and graph sized exactly.
std::unique_ptr<codec_graph> codec_graph_build_exact(const codec_graph_builder & build, size_t max_tensors,
                                                     std::string & err);

// Runs graphs on the model's device (plus the CPU for ops the device lacks).
class codec_graph_runner {
public:
    ~codec_graph_runner();
    bool init(ggml_backend_dev_t dev, int n_threads, std::string & err);
    void set_n_threads(int n_threads);

    // Cached graph for `req`, built by `build` on a miss.
    codec_graph * get(const codec_graph_request & req, const codec_graph_builder & build, size_t max_tensors,
                      std::string & err);
    // Allocates the graph's tensors; set inputs after this, then compute().
    bool alloc(codec_graph & g, std::string & err);
    bool compute(codec_graph & g, std::string & err);
    size_t compute_buffer_size() const;
    bool last_get_built() const { return last_built_; }
    // Forgets every cached graph (a stream whose state tensors were re-created).
    void drop_graphs() { cache_.clear(); allocated_ = nullptr; }

private:
    using set_threads_fn = void (*)(ggml_backend_t, int);
    ggml_backend_t init_blas();

    struct entry {
        codec_graph_request req;
        std::unique_ptr<codec_graph> graph;
    };
    static constexpr size_t k_cache_size = 8;  // distinct shapes kept per context (a stream uses a few)

    ggml_backend_t backend_ = nullptr;  // the model's device
    ggml_backend_t cpu_     = nullptr;  // fallback (== backend_ on CPU-only)
    ggml_backend_t blas_    = nullptr;  // CPU models, ggml built with BLAS: its large matrix products
    set_threads_fn set_blas_threads_ = nullptr;
    ggml_backend_sched_t sched_ = nullptr;
    size_t sched_size_ = 0;
    uint64_t sched_gen_ = 0;  // counts the schedulers created (codec_graph::reserved_in)
    int n_threads_ = 1;
    std::list<entry> cache_;  // most recently used first
    bool last_built_ = false;
    // The graph the scheduler last allocated: run again, with no other graph in between, its
    // tensors still have their places in the compute buffer, so alloc() keeps them.
    const codec_graph * allocated_ = nullptr;
};
