// Multi-layer unidirectional LSTM (torch.nn.LSTM, zero initial state) in ggml ops: the input
// projection of every step is one matrix product per layer; the recurrence is unrolled over
// the sequence (2 to 16 graph nodes per step and layer), several equal-length sequences
// stepping together as the columns of one product.
#pragma once

#include <ggml.h>

#include <string>
#include <vector>

// One layer. Gates are stored (i, f, o, g) (the converter reorders PyTorch's (i, f, g, o)) so
// one sigmoid covers a contiguous 3H block; b = b_ih + b_hh.
struct codec_lstm_layer {
    ggml_tensor * w_ih = nullptr;  // [H_in, 4H]
    ggml_tensor * w_hh = nullptr;  // [H, 4H]
    ggml_tensor * b    = nullptr;  // [4H]
};

// x is channel-major [C, T, B]: B independent sequences of T steps. Returns the last layer's
// hidden states [H, T, B]. cpu: each step's gate nonlinearities and state update run as one
// fused CPU op writing into one state tensor (the same float operations as the stock ops), so
// a step is two graph nodes instead of ten and the steps need no joining; elsewhere stock ops.
// Streaming (io set): each layer starts from the previous block's last h and c (zeros at first).
struct codec_stream_io;
ggml_tensor * codec_lstm(ggml_context * ctx, const std::vector<codec_lstm_layer> & layers, ggml_tensor * x, bool cpu,
                         codec_stream_io * io = nullptr);

// Tensors the builder creates for a sequence of T steps (an upper bound, for graph_size).
size_t codec_lstm_graph_size(size_t n_layers, size_t T);

class codec_model_loader;
// Declares "<prefix>.weight_ih_l{i}" [dim, 4 dim], "<prefix>.weight_hh_l{i}" [dim, 4 dim] and
// "<prefix>.bias_l{i}" [4 dim] for i < n_layers.
std::vector<codec_lstm_layer> codec_load_lstm(codec_model_loader & ld, const std::string & prefix, int dim, int n_layers);
