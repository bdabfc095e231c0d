// Anti-aliased activation (BigVGAN's Activation1d, as XCodec2's acoustic encoder uses it with
// SnakeBeta), channel-major x [C, T] -> [C, T]:
//   upsample 2x: replicate-pad 5 frames each side, transposed conv (stride 2) with the 12-tap
//     kaiser-sinc low-pass (times 2, from the converter), crop 15 each side -> [C, 2T];
//   snake (codec_snake: x + beta sin^2(alpha x), SnakeBeta's exp(alpha), 1 / (exp(beta) + 1e-9));
//   downsample 2x: replicate-pad 5 left / 6 right, the same low-pass, stride 2 -> [C, T].
// The filter is shared by every channel, so each tap is a scalar [1] view of the filter tensor
// broadcast over the rows: the upsampler is two polyphase 6-tap sums interleaved in time, the
// downsampler one 12-tap sum of strided views. No weights are transposed at runtime.
#pragma once

#include "conv_cm.h"

#include <ggml.h>

struct codec_aa_filters {
    ggml_tensor * up = nullptr;    // [12]: the low-pass times the ratio (2)
    ggml_tensor * down = nullptr;  // [12]
};

constexpr int k_codec_aa_taps = 12;  // kernel of both filters (ratio 2)

ggml_tensor * codec_aa_snake(ggml_context * ctx, ggml_tensor * x, const codec_snake_w & s, const codec_aa_filters & f,
                             bool cpu);

class codec_model_loader;
// "<prefix>.up", "<prefix>.down" [12] (f32).
codec_aa_filters codec_load_aa_filters(codec_model_loader & ld, const std::string & prefix);
