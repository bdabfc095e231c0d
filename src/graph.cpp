#include "graph.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <unordered_set>

ggml_tensor * codec_graph_input(codec_graph & g, ggml_type type, int64_t ne0, int64_t ne1, const char * name, int64_t ne2) {
    ggml_tensor * t = ggml_new_tensor_3d(g.ctx, type, ne0, ne1, ne2);
    ggml_set_name(t, name);
    ggml_set_input(t);
    g.inputs.push_back(t);
    return t;
}

void codec_graph_output(codec_graph & g, ggml_tensor * t, const char * name) {
    ggml_set_name(t, name);
    ggml_set_output(t);
    g.outputs.push_back(t);
}

// Counts what ggml_build_forward_expand will record: tensors without an op (and not
// trainable parameters) are leafs, everything else is a node.
static void count_dag(const std::vector<ggml_tensor *> & outputs, int & n_nodes, int & n_leafs) {
    std::unordered_set<const ggml_tensor *> seen;
    std::vector<const ggml_tensor *> stack(outputs.begin(), outputs.end());
    n_nodes = n_leafs = 0;
    while (!stack.empty()) {
        const ggml_tensor * t = stack.back();
        stack.pop_back();
        if (!seen.insert(t).second) continue;
        for (int i = 0; i < GGML_MAX_SRC; ++i) {
            if (t->src[i]) stack.push_back(t->src[i]);
        }
        if (t->op == GGML_OP_NONE && !(t->flags & GGML_TENSOR_FLAG_PARAM)) ++n_leafs;
        else ++n_nodes;
    }
}

static size_t count_tensors(ggml_context * ctx) {
    size_t n = 0;
    for (ggml_tensor * t = ggml_get_first_tensor(ctx); t; t = ggml_get_next_tensor(ctx, t)) ++n;
    return n;
}

std::unique_ptr<codec_graph> codec_graph_build_exact(const codec_graph_builder & build, size_t max_tensors,
                                                     std::string & err) {
    size_t n_tensors = 0;
    int n_nodes = 0, n_leafs = 0;
    {
        codec_graph probe;
        ggml_init_params ip = { max_tensors * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true };
        probe.ctx = ggml_init(ip);
        if (!probe.ctx) { err = "out of memory (graph probe context)"; return nullptr; }
        if (!build(probe, err)) return nullptr;
        if (probe.outputs.empty()) { err = "graph builder produced no output (model bug)"; return nullptr; }
        n_tensors = count_tensors(probe.ctx);
        std::vector<ggml_tensor *> roots = probe.outputs;
        roots.insert(roots.end(), probe.updates.begin(), probe.updates.end());
        count_dag(roots, n_nodes, n_leafs);
    }
    const size_t size = (size_t) std::max(n_nodes, n_leafs);
    auto g = std::make_unique<codec_graph>();
    ggml_init_params ip = { n_tensors * ggml_tensor_overhead() + ggml_graph_overhead_custom(size, false), nullptr, true };
    g->ctx = ggml_init(ip);
    if (!g->ctx) { err = "out of memory (graph context)"; return nullptr; }
    if (!build(*g, err)) return nullptr;
    g->gf = ggml_new_graph_custom(g->ctx, size, false);
    // State writes first, in creation order (layer order), then the outputs: each state tensor is
    // read by one node that is an ancestor of its own write (codec_stream_io's rule), so any order
    // is correct, and this one frees every layer's context copy as soon as its state is saved.
    for (ggml_tensor * up : g->updates) ggml_build_forward_expand(g->gf, up);
    for (ggml_tensor * out : g->outputs) ggml_build_forward_expand(g->gf, out);
    g->n_nodes = ggml_graph_n_nodes(g->gf);
    g->n_leafs = n_leafs;
    if (g->n_nodes != n_nodes) {
        err = "graph node count differs between probe and build (non-deterministic builder)";
        return nullptr;
    }
    return g;
}

codec_graph_runner::~codec_graph_runner() {
    cache_.clear();
    if (sched_) ggml_backend_sched_free(sched_);
    if (blas_) ggml_backend_free(blas_);
    if (cpu_ && cpu_ != backend_) ggml_backend_free(cpu_);
    if (backend_) ggml_backend_free(backend_);
}

bool codec_graph_runner::init(ggml_backend_dev_t dev, int n_threads, std::string & err) {
    backend_ = ggml_backend_dev_init(dev, nullptr);
    if (!backend_) {
        err = std::string("cannot initialize backend on device ") + ggml_backend_dev_name(dev);
        return false;
    }
    if (ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU) {
        cpu_ = backend_;
        blas_ = init_blas();
    } else {
        cpu_ = ggml_backend_cpu_init();
        if (!cpu_) { err = "cannot initialize the CPU backend"; return false; }
    }
    set_n_threads(n_threads);
    return true;
}

// A ggml built with BLAS (GGML_BLAS=ON) registers a "BLAS" device that takes the larger F32
// matrix products off the CPU backend; the default ggml build has none and nothing changes.
// CODEC_BLAS=0 leaves it out (to compare both in one run). It reads the weights' host buffers.
ggml_backend_t codec_graph_runner::init_blas() {
    const char * env = std::getenv("CODEC_BLAS");
    if (env && *env == '0') return nullptr;
    ggml_backend_reg_t reg = ggml_backend_reg_by_name("BLAS");
    if (!reg || ggml_backend_reg_dev_count(reg) == 0) return nullptr;
    ggml_backend_t b = ggml_backend_dev_init(ggml_backend_reg_dev_get(reg, 0), nullptr);
    // Its thread count is set through the registry (no link to ggml-blas's own symbols).
    set_blas_threads_ = (set_threads_fn) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads");
    return b;
}

void codec_graph_runner::set_n_threads(int n_threads) {
    n_threads_ = std::max(1, n_threads);
    if (cpu_) ggml_backend_cpu_set_n_threads(cpu_, n_threads_);
    if (blas_ && set_blas_threads_) set_blas_threads_(blas_, n_threads_);
}

codec_graph * codec_graph_runner::get(const codec_graph_request & req, const codec_graph_builder & build,
                                      size_t max_tensors, std::string & err) {
    last_built_ = false;
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
        if (it->req == req) {
            cache_.splice(cache_.begin(), cache_, it);
            return cache_.front().graph.get();
        }
    }
    auto g = codec_graph_build_exact(build, max_tensors, err);
    if (!g) return nullptr;
    last_built_ = true;
    allocated_ = nullptr;  // an evicted graph's address may be reused
    if (cache_.size() >= k_cache_size) cache_.pop_back();
    cache_.push_front({req, std::move(g)});
    return cache_.front().graph.get();
}

bool codec_graph_runner::alloc(codec_graph & g, std::string & err) {
    // The graph allocated last, again: the scheduler still holds its splits and the buffer its
    // tensors (what llama.cpp does when it reuses a graph). Re-planning it each call cost as
    // much as computing a tiny model's graph.
    if (&g == allocated_ && sched_) return true;
    allocated_ = nullptr;
    // ggml's contract: the scheduler's hash set must hold every node and leaf of the graph.
    const size_t need = (size_t) g.n_nodes + (size_t) g.n_leafs;
    if (!sched_ || sched_size_ < need) {
        if (sched_) ggml_backend_sched_free(sched_);
        // Priority order: the scheduler gives an op to the first backend that supports it.
        ggml_backend_t backends[3];
        int n = 0;
        if (blas_) backends[n++] = blas_;
        backends[n++] = backend_;
        if (cpu_ != backend_) backends[n++] = cpu_;
        sched_ = ggml_backend_sched_new(backends, nullptr, n, need, /*parallel =*/ false, /*op_offload =*/ false);
        sched_size_ = need;
        sched_gen_++;
        if (!sched_) { err = "cannot create the backend scheduler"; return false; }
    }
    ggml_backend_sched_reset(sched_);
    // A cached graph still points into the compute buffer of its previous run, which a larger
    // graph (or a new scheduler) may have freed since; ggml's allocator skips tensors that
    // already have data, so forget those addresses. The context holds only graph tensors.
    for (ggml_tensor * t = ggml_get_first_tensor(g.ctx); t; t = ggml_get_next_tensor(g.ctx, t)) {
        t->data = nullptr;
        t->buffer = nullptr;
    }
    // A graph new to this scheduler may need larger buffers. Reserve them first: when that
    // allocation fails, ggml 0.20's alloc_graph goes on with a null buffer and crashes, whereas
    // reserve returns false (the scheduler is then dropped: its allocator is left half-updated).
    // Buffers only grow, so a graph reserved once fits until the scheduler is replaced.
    if (g.reserved_in != sched_gen_) {
        if (!ggml_backend_sched_reserve(sched_, g.gf)) {
            ggml_backend_sched_free(sched_);
            sched_ = nullptr;
            sched_size_ = 0;
            err = "cannot allocate compute buffers for the graph (out of memory: try a shorter input or a stream)";
            return false;
        }
        g.reserved_in = sched_gen_;
    }
    if (!ggml_backend_sched_alloc_graph(sched_, g.gf)) {
        err = "cannot allocate compute buffers for the graph (out of memory?)";
        return false;
    }
    allocated_ = &g;
    return true;
}

// CODEC_PROFILE=1: time every node (the scheduler then runs them one by one) and print the
// time per op type after each compute. For finding hot spots, not for absolute numbers.
namespace {
struct op_profile {
    std::chrono::steady_clock::time_point last;
    std::map<std::string, std::pair<double, int>> by_op;
};

bool profile_cb(ggml_tensor * t, bool ask, void * user) {
    auto * p = (op_profile *) user;
    if (ask) return true;
    const auto now = std::chrono::steady_clock::now();
    std::string key = ggml_op_desc(t);
    if (t->op == GGML_OP_MUL_MAT) key += t->src[0]->type == GGML_TYPE_F32 ? " f32" : " f16/q";
    auto & e = p->by_op[key];
    e.first += std::chrono::duration<double, std::milli>(now - p->last).count();
    e.second += 1;
    p->last = now;
    return true;
}
}  // namespace

bool codec_graph_runner::compute(codec_graph & g, std::string & err) {
    static const bool profile = std::getenv("CODEC_PROFILE") != nullptr;
    op_profile prof;
    if (profile) {
        prof.last = std::chrono::steady_clock::now();
        ggml_backend_sched_set_eval_callback(sched_, profile_cb, &prof);
    }
    const ggml_status st = ggml_backend_sched_graph_compute(sched_, g.gf);
    if (profile) {
        ggml_backend_sched_set_eval_callback(sched_, nullptr, nullptr);
        double total = 0;
        for (const auto & kv : prof.by_op) total += kv.second.first;
        std::vector<std::pair<double, std::string>> rows;
        for (const auto & kv : prof.by_op) rows.push_back({kv.second.first, kv.first});
        std::sort(rows.rbegin(), rows.rend());
        std::fprintf(stderr, "codec profile: %d nodes, %.1f ms\n", g.n_nodes, total);
        for (const auto & r : rows) {
            std::fprintf(stderr, "  %-22s %9.1f ms %5.1f %%  (%d)\n", r.second.c_str(), r.first, 100.0 * r.first / total,
                         prof.by_op[r.second].second);
        }
    }
    if (st != GGML_STATUS_SUCCESS) {
        allocated_ = nullptr;
        err = std::string("graph compute failed: ") + ggml_status_to_string(st);
        return false;
    }
    return true;
}

size_t codec_graph_runner::compute_buffer_size() const {
    if (!sched_) return 0;
    // Backends sharing a buffer type share one buffer: the scheduler counts it once (first backend).
    size_t n = ggml_backend_sched_get_buffer_size(sched_, backend_);
    if (cpu_ != backend_) n += ggml_backend_sched_get_buffer_size(sched_, cpu_);
    if (blas_) n += ggml_backend_sched_get_buffer_size(sched_, blas_);
    return n;
}

double codec_graph_flops(const ggml_cgraph * gf_const) {
    ggml_cgraph * gf = const_cast<ggml_cgraph *>(gf_const);  // ggml's getters take non-const
    double flops = 0;
    for (int i = 0; i < ggml_graph_n_nodes(gf); ++i) {
        const ggml_tensor * t = ggml_graph_node(gf, i);
        switch (t->op) {
            case GGML_OP_MUL_MAT:  // [K, M] x [K, N]: K multiply-adds per output
                flops += 2.0 * (double) t->src[0]->ne[0] * (double) ggml_nelements(t);
                break;
            case GGML_OP_CONV_TRANSPOSE_1D:  // every input sample meets every kernel tap
                flops += 2.0 * (double) ggml_nelements(t->src[0]) * (double) t->src[1]->ne[0];
                break;
            case GGML_OP_NONE: case GGML_OP_VIEW: case GGML_OP_RESHAPE: case GGML_OP_PERMUTE:
            case GGML_OP_TRANSPOSE: case GGML_OP_CPY: case GGML_OP_CONT: case GGML_OP_IM2COL:
            case GGML_OP_GET_ROWS:
                break;  // data movement
            default:
                flops += (double) ggml_nelements(t);  // element-wise and reductions: ~1 per output
                break;
        }
    }
    return flops;
}
