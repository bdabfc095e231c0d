// GGUF load + validation into a model (src/model_loader.cpp, every arch's init): any bytes as
// a model file. A model that loads is also queried and run once on a short input, so
// hostile-but-consistent hyper-parameters reach the graph builders.
#include "fuzz_common.h"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static const bool quiet = (codec_fuzz::quiet_ggml(), true);
    (void) quiet;
    const std::string path = codec_fuzz::as_file(data, size);
    codec_model_params mp = codec_model_default_params();
    mp.n_threads = 1;
    codec_status st = CODEC_OK;
    char err[256] = "";
    codec_model * m = codec_model_load(path.c_str(), mp, &st, err, sizeof err);
    if (!m) {
        codec_fuzz::check(st != CODEC_OK && err[0] != '\0', "failed load without status or message");
        return 0;
    }
    char buf[64];
    codec_model_meta_str(m, "codec.arch", buf, sizeof buf);
    float bw[8];
    const int32_t n_bw = codec_model_bandwidths(m, bw, 8);
    for (int32_t i = 0; i < n_bw && i < 8; ++i) codec_model_n_q_for_bandwidth(m, bw[i]);
    codec_context * ctx = codec_context_new(m, codec_context_default_params());
    if (ctx) {
        const int32_t hop = codec_model_hop_size(m), ch = codec_model_channels(m);
        // Two frames' worth: bounded work even when the header claims a huge hop.
        if (codec_model_has_encoder(m) && (int64_t) hop * ch <= 1 << 16) {
            std::vector<float> pcm((size_t) hop * 2 * ch);
            for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = 0.5f * std::sin(0.1f * (float) i);
            codec_codes codes{};
            if (codec_encode(ctx, pcm.data(), (int64_t) hop * 2, 1, &codes) == CODEC_OK) {
                codec_audio audio{};
                codec_decode_codes(ctx, &codes, &audio);
            }
        } else if (codec_model_has_decoder(m) && !codec_model_multi_rate(m) && !codec_model_has_scales(m)) {
            const int32_t zeros[2] = {0, 0};
            codec_audio audio{};
            codec_decode(ctx, zeros, 1, 2, &audio);
        }
        codec_context_free(ctx);
    }
    codec_model_free(m);
    return 0;
}
