// Data movement for the CPU backend as row copies split over the threads. ggml's CPU concat
// copies one float at a time and splits the work over dim 2 only, so a [C, T] concat ran on one
// thread: 22 % of XCodec2's encode, whose anti-aliased activations pad and interleave every
// activation at twice the sample rate. Other backends (or rows that are not contiguous) use the
// stock ops.
#pragma once

#include <ggml.h>

#include <cstdint>

// ggml_pad_ext(x, 0, 0, left, right, 0, 0, 0, 0) (zeros around each sequence's frames) of an F32
// tensor whose rows are contiguous; the result is contiguous. ggml's CPU PAD writes one float at
// a time: 6-9 % of Mimi's encode, whose every conv pads its input.
ggml_tensor * codec_pad_zero(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, bool cpu);

// Whether a weight lives in host memory: the graph that reads it runs on the CPU backend (what
// `cpu` above asks), so blocks without a model handle can pick the row-copy ops.
bool codec_on_host(const ggml_tensor * w);

// ggml_concat(a, b, dim) of F32 tensors whose rows (dim 0) are contiguous; the result is contiguous.
ggml_tensor * codec_concat(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, int dim, bool cpu);

// x [C, T, B] with `left` copies of each sequence's first frame before it and `right` of its last
// after it: [C, T + left + right, B].
ggml_tensor * codec_pad_replicate(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, bool cpu);
