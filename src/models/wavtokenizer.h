// WavTokenizer (OuteTTS 0.2/0.3, llama.cpp's tts example): EnCodec SEANet encoder + LSTM, one
// euclidean codebook, Vocos decoder (pos_net, AdaLayerNorm ConvNeXt stack, ISTFT head).
#pragma once

#include "codec_impl.h"

extern const codec_arch_ops codec_arch_wavtokenizer;
