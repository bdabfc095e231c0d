// Anti-aliased activation (BigVGAN's Activation1d, as XCodec2's acoustic encoder uses it with
// SnakeBeta), channel-major x [C, T] -> [C, T]:
//   upsample 2x: replicate-pad 5 frames each side, transposed conv (stride 2) with the 12-tap
//     kaiser-sinc low-pass times 2, crop 15 each side -> [C, 2T]; written as two polyphase 6-tap
//     depthwise convs (even output frames: taps 11, 9, .., 1 of the filter over padded frames
//     m + 2 ..; odd: taps 10, 8, .., 0 over m + 3 ..) interleaved in time;
//   snake (codec_snake: x + beta sin^2(alpha x), SnakeBeta's exp(alpha), 1 / (exp(beta) + 1e-9));
//   downsample 2x: replicate-pad 5 left / 6 right, the 12-tap low-pass, stride 2 -> [C, T]
//     (a stride-2 depthwise conv: only the kept frames are computed).
// The converter writes the filter taps as depthwise weights [C, K] per channel width.
#pragma once

#include "conv_cm.h"

#include <ggml.h>

#include <string>

struct codec_aa_filters {
    ggml_tensor * up_even = nullptr, * up_odd = nullptr;  // [C, 6]
    ggml_tensor * down = nullptr;                         // [C, 12]
};

ggml_tensor * codec_aa_snake(ggml_context * ctx, ggml_tensor * x, const codec_snake_w & s, const codec_aa_filters & f,
                             bool cpu);

class codec_model_loader;
// "<prefix>.c<C>.{up_even, up_odd, down}" (f32).
codec_aa_filters codec_load_aa_filters(codec_model_loader & ld, const std::string & prefix, int c);
