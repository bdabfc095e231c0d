// SEANet (EnCodec, Mimi): the conv layers and the encoder / decoder stages, channel-major.
// Module trees and padding follow transformers' EncodecConv1d / EncodecConvTranspose1d (which
// MimiConv1d / MimiConvTranspose1d copy):
//   - conv: the kernel's (k_eff - stride) padding goes all left (causal) or centered (larger
//     half left), plus the "extra" right padding that completes the last stride window; pad
//     mode zeros, edge frames or reflection; then, for norm_type "time_group_norm",
//     GroupNorm(1, Cout) over the whole [Cout, T];
//   - transposed conv: the (k - stride) overlap is trimmed after the norm, causal:
//     ceil((k - stride) * trim_right_ratio) on the right and the rest left, else centered;
//   - resnet block: x + conv1x1(elu(conv_k,dilated(elu(x)))), shortcut a 1x1 conv or identity;
//   - encoder stage: resnet blocks, ELU, strided conv (k = 2 * stride, channels doubled);
//   - decoder stage: ELU, transposed conv (k = 2 * stride, channels halved), resnet blocks.
// Activations are [C, T] (ne0 = C), or [C, T, B] for a batch of B sequences of one length (each
// computed as alone, time-group norms per sequence; streaming is one sequence); weights use
// causal_conv.h's layouts. The first conv reads time-major PCM [T, Cin] (the API's planar audio;
// a batch [T, Cin, B]) through an im2col, weight [K8, Cin, Cout]
// F32, K8 = K rounded up to a multiple of 8 with zero taps prepended (a GEMM depth ggml's SIMD
// kernels take; K = 7 runs several times slower).
#pragma once

#include "causal_conv.h"
#include "receptive_field.h"

#include <ggml.h>

#include <cstdint>
#include <string>
#include <vector>

struct codec_stream_io;

// Streaming (io set, models without norm): causal, every conv takes its left context from the
// previous block (codec_stream_io::with_context); centered, every conv lags its input
// (codec_stream_io::lagged_input) and the resnet skips are held back to match. Either way a
// stream's blocks compute the one-shot call.
struct codec_seanet {  // hyperparameters (transformers' EncodecConfig / MimiConfig names)
    int32_t n_filters = 0, kernel = 0, last_kernel = 0, res_kernel = 0, n_res = 0, growth = 0, compress = 0;
    std::vector<int32_t> ratios;  // decoder order; the encoder runs them reversed
    bool causal = true, conv_shortcut = false, norm = false;  // norm: time-group norm after every conv
    codec_pad_mode pad = CODEC_PAD_CONSTANT;
    float trim_right_ratio = 1.0f;
};

struct codec_seanet_conv {
    ggml_tensor * w = nullptr, * b = nullptr;
    ggml_tensor * norm_w = nullptr, * norm_b = nullptr;  // [Cout], time-group norm only
    int stride = 1, dilation = 1;
};

struct codec_seanet_resblock {
    codec_seanet_conv conv1, conv2, shortcut;  // shortcut.w null: identity
};

struct codec_seanet_stage {
    codec_seanet_conv conv;  // encoder: the strided conv after the blocks; decoder: the transposed conv before them
    std::vector<codec_seanet_resblock> res;
};

// The ELU between layers: the fused CPU op on the CPU backend, ggml_elu elsewhere.
ggml_tensor * codec_seanet_elu(ggml_context * ctx, ggml_tensor * x, bool cpu);

// Conv layer (then the norm): x [Cin, T] -> [Cout, ceil(T / stride)].
ggml_tensor * codec_seanet_conv1d(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_conv & c, ggml_tensor * x,
                                  codec_stream_io * io = nullptr);
// The first conv, from time-major PCM x [T, Cin]: -> [Cout, T] (stride 1).
ggml_tensor * codec_seanet_conv_in(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_conv & c, ggml_tensor * x,
                                  codec_stream_io * io = nullptr);
// Transposed conv layer (norm, then trim): x [Cin, T] -> [Cout, T * stride].
ggml_tensor * codec_seanet_convt(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_conv & c, ggml_tensor * x,
                                  codec_stream_io * io = nullptr);

ggml_tensor * codec_seanet_resblock_forward(ggml_context * ctx, const codec_seanet & sn, const codec_seanet_resblock & r,
                                            ggml_tensor * x, bool cpu, codec_stream_io * io = nullptr);
// Encoder stages (resnets, ELU, strided conv) / decoder stages (ELU, transposed conv, resnets).
ggml_tensor * codec_seanet_encode(ggml_context * ctx, const codec_seanet & sn, const std::vector<codec_seanet_stage> & st,
                                  ggml_tensor * x, bool cpu, codec_stream_io * io = nullptr);
ggml_tensor * codec_seanet_decode(ggml_context * ctx, const codec_seanet & sn, const std::vector<codec_seanet_stage> & st,
                                  ggml_tensor * x, bool cpu, codec_stream_io * io = nullptr);

// Receptive field of a SEANet encoder (first conv, stages, last conv of `last_kernel`; an LSTM
// between them adds nothing): x, a span of output frames, becomes the input samples it reads.
void codec_seanet_encoder_rf(const codec_seanet & sn, codec_rf_span & x);

class codec_model_loader;
// "<prefix>.conv.weight" [s * cin, cout, k / s], "<prefix>.conv.bias" [cout] and, with sn.norm,
// "<prefix>.norm.weight" / ".bias" [cout].
codec_seanet_conv codec_load_seanet_conv(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix,
                                         int k, int cin, int cout, int stride = 1, int dilation = 1);
// The first conv: "<prefix>.conv.weight" [K8, cin, cout] F32 (see above).
codec_seanet_conv codec_load_seanet_conv_in(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix,
                                            int k, int cin, int cout);
// Transposed: "<prefix>.conv.weight" [cin, s * cout, k / s].
codec_seanet_conv codec_load_seanet_convt(codec_model_loader & ld, const codec_seanet & sn, const std::string & prefix,
                                          int k, int cin, int cout, int stride);
// Module indices as the reference's layer lists: encoder stages from "<prefix><idx>" on (resnets,
// ELU, conv), decoder stages (ELU, transposed conv, resnets); idx ends past the last stage.
std::vector<codec_seanet_stage> codec_load_seanet_encoder(codec_model_loader & ld, const codec_seanet & sn,
                                                          const std::string & prefix, int & idx);
std::vector<codec_seanet_stage> codec_load_seanet_decoder(codec_model_loader & ld, const codec_seanet & sn,
                                                          const std::string & prefix, int & idx);
