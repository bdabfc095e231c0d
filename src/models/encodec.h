// EnCodec (Meta), transformers `EncodecModel` layout: facebook/encodec_24khz (mono, causal),
// facebook/encodec_48khz (stereo, chunked with per-chunk normalization scales).
#pragma once

#include "codec_impl.h"

extern const codec_arch_ops codec_arch_encodec;
