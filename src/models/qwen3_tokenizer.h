// Qwen3-TTS-Tokenizer-12Hz (qwen-tts `Qwen3TTSTokenizerV2Model`).
#pragma once

#include "codec_impl.h"

extern const codec_arch_ops codec_arch_qwen3_tokenizer;
