// XCodec2 (Llasa's codec) and NeuCodec (NeuTTS): FSQ codes -> Vocos-style transformer decoder
// with an ISTFT head. Decode only in this build.
#pragma once

#include "codec_impl.h"

extern const codec_arch_ops codec_arch_xcodec2;
