// Streaming state of stateful blocks (causal convs, transposed convs, LSTMs, KV caches).
//
// A stream computes its input block by block with the same graph builders as a one-shot call;
// the builders get a codec_stream_io (codec_graph::io) and every stateful block asks it for
// state tensors ("slots"), found by creation order, so each graph of the stream (first block,
// later blocks, the flushed tail) sees the same slots. Slots live in the stream's own backend
// buffer and survive between graphs; a graph writes new state with codec_stream_io::write.
//
// The one rule that makes in-place state correct in any node order: a slot is read by exactly
// one node, and that node is an ancestor of the slot's write (so the read runs first). A KV cache
// filled in place (attention without a window) is the other way round: the block writes a region
// no earlier read covers, and reads the cache only through views of that write.
#pragma once

#include "blocks/causal_conv.h"

#include <ggml-backend.h>
#include <ggml.h>

#include <string>
#include <vector>

struct codec_graph;

struct codec_stream_io {
    bool first = true;   // the stream's first block: left context is the one-shot call's padding
    bool last  = false;  // the input ends in this block (flush): right padding as the one-shot call
    // Causal attention without a window (every past frame): the KV cache's capacity in frames,
    // which the stream grows (grow_kv) before a block would need more (0: windowed attention);
    // the frames cached so far, and the frames the graph being built adds (commit() counts them
    // in once it computed).
    int64_t kv_frames = 0, kv_pos = 0, kv_step = 0;

    ~codec_stream_io();

    // Before each build of a graph (builds run twice: a probe, then the real one). cpu: the graph
    // runs on the CPU backend, where contexts are joined by row copies (ops/copy_rows.h).
    void begin(codec_graph & g, bool first, bool last, bool cpu);
    bool cpu() const { return cpu_; }

    // The next slot: F32 [ne0, ne1, ne2], created (zeroed at allocation) the first time.
    ggml_tensor * slot(int64_t ne0, int64_t ne1 = 1, int64_t ne2 = 1);
    // Copies src (any layout, same element count) into `slot` after src is computed.
    void write(ggml_context * ctx, ggml_tensor * src, ggml_tensor * slot);

    // Left context for a conv over x [C, T]: [C, n + T], the first n frames the one-shot call's
    // padding (first block) or the previous block's last n frames; saves the last n frames.
    ggml_tensor * with_context(ggml_context * ctx, ggml_tensor * x, int64_t n, codec_pad_mode mode);

    // Centered (non-causal) layers streamed with carried state: a conv with zero padding pad_l /
    // pad_r is a causal conv whose output lags its input; each block computes the outputs whose
    // windows are complete, so consecutive blocks give the one-shot output, without recomputing
    // context. The first block's lag fixes every later block's state length (constant, since
    // blocks hold whole frames and every stride divides the hop).
    // Input of such a conv (k_eff: the dilated kernel's span): [prefix, x] (+ pad_r zeros in the last
    // block); the prefix is pad_l zeros in the first block, then the frames from the next output's
    // window on, which it saves. Convolve it without padding. mode: the padding's kind (reflect:
    // of the block's own first frames, and in the last block of the input's last frames);
    // to_stride: the last block's right padding also completes the last stride window (EnCodec's
    // "extra" padding, so the output has ceil(T / stride) frames).
    ggml_tensor * lagged_input(ggml_context * ctx, ggml_tensor * x, int64_t k_eff, int64_t stride, int64_t pad_l,
                               int64_t pad_r, codec_pad_mode mode = CODEC_PAD_CONSTANT, bool to_stride = false);
    // x [C, T] aligned with the n_out frames a lagging branch made of it (a residual skip): the
    // first n_out frames of [the frames held back, x]; holds back the rest.
    ggml_tensor * delayed(ggml_context * ctx, ggml_tensor * x, int64_t n_out);
    // [the frames held back, x] cut to whole units of `unit` frames (windowed attention, pooling
    // groups), holding back the rest; the last block passes everything (the one-shot call's
    // lengths are whole units there).
    ggml_tensor * regroup(ggml_context * ctx, ggml_tensor * x, int64_t unit);

    // Allocates the slots created so far (after the first build) and zeroes them.
    bool allocate(ggml_backend_buffer_type_t buft, std::string & err);
    bool allocated() const { return buf_ != nullptr; }
    // Zeroes every slot (a reset stream starts again from the one-shot call's padding).
    void clear();
    // Raises kv_frames: saves the slots and drops them; the next build creates them at the new
    // capacity and allocate() restores them, each slot's content at the end of every axis that
    // grew (a KV cache fills from the end). Graphs built before refer to the old slots.
    void grow_kv(int64_t frames);
    // After a block's graph computed: its frames are in the KV cache.
    void commit() { kv_pos += kv_step; kv_step = 0; }
    // Drops the slots and the KV capacity: a reset stream of windowless attention starts small.
    void drop_kv();
    // A builder reports a state it cannot carry (a model bug, reported by the stream).
    void report(std::string msg) { if (err_.empty()) err_ = std::move(msg); }
    size_t bytes() const;
    // Non-empty when a build asked for a slot it may not have (a model bug, reported by the stream).
    const std::string & error() const { return err_; }

private:
    ggml_context * ctx_ = nullptr;  // slot metadata
    ggml_backend_buffer_t buf_ = nullptr;
    std::vector<ggml_tensor *> slots_;
    size_t cursor_ = 0;
    std::vector<int64_t> lags_;  // lagged_input / delayed: state lengths the first block fixed, by call order
    size_t lag_cursor_ = 0;
    int64_t fixed_len(int64_t first_block_len);
    // [prefix, x]: the prefix is first_pad frames of padding in the first block, then the `keep`
    // frames this saves from the end of [prefix, x] (the one join all carried context goes through).
    ggml_tensor * carry(ggml_context * ctx, ggml_tensor * x, int64_t first_pad, int64_t keep, codec_pad_mode mode);
    codec_graph * g_ = nullptr;
    std::string err_;
    bool cpu_ = false;
    struct saved_slot { int64_t ne[3]; std::vector<float> data; };
    std::vector<saved_slot> saved_;  // grow_kv: the slots to restore at the next allocate()
    void release();
};

// x [C, T] without its first n frames: [C, T - n] (a view).
ggml_tensor * codec_drop_front(ggml_context * ctx, ggml_tensor * x, int64_t n);
