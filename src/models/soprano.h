// Soprano-80M's decoder: LM hidden states (512-d, 15.625 Hz) -> 32 kHz audio through a Vocos
// backbone (linear interpolation x4, ConvNeXt stack) and a "center" ISTFT head. Latents only.
#pragma once

#include "codec_impl.h"

extern const codec_arch_ops codec_arch_soprano;
