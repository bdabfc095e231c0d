// Row-wise argmax that returns the FIRST index among equal maxima, as torch.argmax/argmin do.
// ggml_argmax keeps the last one, so codebooks with tied distances (an all-zero or duplicated
// codebook, a ~0 latent) gave other codes than the references. A custom op (any backend: the
// scheduler runs it on the CPU where a device lacks it). NaN rows give the first NaN's index.
#pragma once

#include <ggml.h>

// x [N, T] F32 -> I32 [T]: for each column t, the smallest i with x[i, t] == max_i x[i, t].
ggml_tensor * codec_argmax_first(ggml_context * ctx, ggml_tensor * x);
