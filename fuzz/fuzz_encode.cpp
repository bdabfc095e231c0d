// Encode with arbitrary PCM (NaN, Inf, denormals, full scale, huge values, length 0 and 1)
// on every tiny model; whatever encodes must decode again. Input layout:
//   [model] [n_q] [n_samples u16] then two bytes per sample (int16, or an edge value when
//   the first byte is >= 0xF0); bytes past the end read as 0.
#include "fuzz_common.h"

#include <climits>
#include <cmath>
#include <limits>

namespace {

using codec_fuzz::Reader;

constexpr int64_t kMaxSamples = 512;  // per channel: up to 85 frames of the tiny models (hop 6-16)

float pick_sample(Reader & in) {
    static const float edge[] = {NAN, INFINITY, -INFINITY, 1e-41f, -1e-41f, 1.0f, -1.0f,
                                 std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                                 -0.0f, 1e-30f, 1e30f, 0.999999f, std::numeric_limits<float>::min(), 32767.0f, -32768.0f};
    const uint8_t b = in.u8();
    if (b >= 0xF0) return edge[b - 0xF0];
    return (float) (int16_t) (uint16_t) (b | in.u8() << 8) / 32768.0f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    auto & ms = codec_fuzz::models();
    Reader in{data, size};
    codec_fuzz::Model & mm = ms[in.u8() % ms.size()];
    codec_model * m = mm.model;
    const int32_t max_q = codec_model_n_q(m), cb = codec_model_codebook_size(m), ch = codec_model_channels(m);
    const uint8_t qb = in.u8();
    static const int32_t q_edge[] = {CODEC_N_Q_ALL, 0, -2, INT32_MIN, INT32_MAX, 1};
    const int32_t n_q = qb >= 0xFA ? (qb == 0xFF ? max_q + 1 : q_edge[qb - 0xFA]) : 1 + qb % max_q;
    const uint16_t nb = in.u16();
    // Mostly lengths from a short list (their graphs stay built and planned: see below),
    // sometimes any length; 0 and 1 always reachable.
    static const int64_t lens[] = {1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 255, 256, 319, 320, 511, 512};
    const int64_t n = nb >= 0xFFF0 ? (nb & 1) : (nb & 0x8000) ? nb % (kMaxSamples + 1) : lens[nb % 16];
    // A listed length encodes on a context of its own (length, n_q) and decodes on another:
    // each keeps its one graph cached and planned. A length off the list encodes and decodes
    // on one context per (length mod 16, n_q), which builds and alternates graphs as a caller's would.
    const bool listed = nb < 0xFFF0 && !(nb & 0x8000);
    const uint64_t key = ((listed ? nb % 16 : 16 + (uint64_t) n % 16) * 8 + (n_q >= 1 && n_q <= max_q ? (uint64_t) n_q : 0)) * 2;
    codec_context * ctx = mm.ctx_keyed(key);
    codec_context * dctx = listed ? mm.ctx_keyed(key + 1) : ctx;

    std::vector<float> pcm((size_t) (n * ch) + 1);
    bool finite = true;
    for (int64_t i = 0; i < n * ch; ++i) {
        pcm[(size_t) i] = pick_sample(in);
        finite = finite && std::isfinite(pcm[(size_t) i]);
    }
    codec_codes codes{};
    const codec_status st = codec_encode(ctx, pcm.data(), n, n_q, &codes);
    if (!finite || n == 0) codec_fuzz::check(st == CODEC_ERR_INVALID_ARG, "non-finite or empty PCM was not rejected");
    if (st != CODEC_OK) {
        codec_fuzz::check(codec_context_last_error(ctx)[0] != '\0', "encode failed without a message");
        return 0;
    }
    const int32_t want_q = n_q == CODEC_N_Q_ALL ? max_q : n_q;
    codec_fuzz::check(codes.n_q == want_q && codes.n_frames >= 1 && codes.data, "encode result shape");
    for (int32_t q = 0; q < codes.n_q; ++q) {
        const int32_t len = codes.row_len ? codes.row_len[q] : codes.n_frames;
        codec_fuzz::check(len >= 1 && len <= codes.n_frames, "encode row length");
        for (int32_t t = 0; t < len; ++t) {
            const int32_t c = codes.data[(size_t) q * codes.n_frames + t];
            codec_fuzz::check(c >= 0 && c < cb, "encode produced a code outside the codebook");
        }
    }
    for (int32_t i = 0; i < codes.n_scales; ++i) codec_fuzz::check(std::isfinite(codes.scales[i]), "encode produced a non-finite scale");
    // The codes live in the context until its next call: copy before decoding (on it, or not).
    std::vector<int32_t> c(codes.data, codes.data + (size_t) codes.n_q * codes.n_frames);
    std::vector<int32_t> rl;
    if (codes.row_len) rl.assign(codes.row_len, codes.row_len + codes.n_q);
    std::vector<float> sc(codes.scales, codes.scales + codes.n_scales);
    codec_codes again = codes;
    again.data = c.data();
    again.row_len = codes.row_len ? rl.data() : nullptr;
    again.scales = codes.scales ? sc.data() : nullptr;
    codec_audio audio{};
    const codec_status dst = codec_decode_codes(dctx, &again, &audio);
    if (dst != CODEC_OK) std::fprintf(stderr, "decode of encoded codes failed: %s\n", codec_context_last_error(dctx));
    codec_fuzz::check(dst == CODEC_OK, "codes from codec_encode do not decode");
    codec_fuzz::check(audio.n_samples >= 1 && audio.n_channels == ch, "decoded audio shape");
    return 0;
}
