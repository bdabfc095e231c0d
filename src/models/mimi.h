// Mimi (Kyutai), transformers `MimiModel` layout.
#pragma once

#include "codec_impl.h"

extern const codec_arch_ops codec_arch_mimi;
