// Helpers for codecs that process audio in pieces: joining many tensors, and the linear
// overlap-add that stitches decoded chunks (EnCodec's EncodecModel._linear_overlap_add).
#pragma once

#include <ggml.h>

#include <cstdint>
#include <string>
#include <vector>

// Concatenates `parts` along `dim` pairwise (a balanced tree), so n parts cost O(size * log n)
// copies instead of the O(size * n) of a left-to-right chain. Parts must agree off `dim`.
ggml_tensor * codec_concat_tree(ggml_context * ctx, const std::vector<ggml_tensor *> & parts, int dim);

// frames[i] is channel-major [C, len_i], placed at sample i * stride; weight(t) = 0.5 - |t - 0.5|
// over a linspace of frames[0]'s length (frames[i] use its first len_i values); the output is the
// weighted sum divided by the summed weights: [C, stride * (n - 1) + len_last]. Sums run in
// frame order as the reference's; each output span is built from the frames covering it.
// Returns nullptr with err set if some sample is covered by no frame.
ggml_tensor * codec_linear_overlap_add(ggml_context * ctx, const std::vector<ggml_tensor *> & frames, int64_t stride,
                                       std::string & err);

// The same for one block of a stream: frames[0] starts at sample 0; `prev` (null in the first
// block) is the previous block's last frame from its sample `stride` on, which overlaps frames[0];
// weights run over a linspace of n_weights (the stream's first frame's length). Returns samples
// [0, end) of the block (end <= stride * (n - 1) + the last frame's length).
ggml_tensor * codec_linear_overlap_add_block(ggml_context * ctx, const std::vector<ggml_tensor *> & frames, ggml_tensor * prev,
                                             int64_t stride, int64_t n_weights, int64_t end, std::string & err);
