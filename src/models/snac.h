// SNAC (multi-scale neural audio codec), the `snac` package's layout.
#pragma once

#include "codec_impl.h"

extern const codec_arch_ops codec_arch_snac;
