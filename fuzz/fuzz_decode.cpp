// Decode with arbitrary codes through every decode entry point (codec_decode, codec_decode_codes
// with row lengths and scales, codec_decode_latent) on every tiny model. Input layout:
//   [model] [mode] [n_q] [n_frames u16] [n_scales] then one byte per code / row_len / scale /
//   latent value; bytes past the end read as 0. Byte values near 0xFF pick edge values
//   (-1, codebook_size, INT32_MIN, NaN, Inf, ...) so most inputs still reach the graphs.
#include "fuzz_common.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

namespace {

using codec_fuzz::Reader;

constexpr int32_t kMaxFrames = 64;  // keeps one run well under a millisecond

int32_t pick_count(uint8_t b, int64_t lo, int64_t hi) {  // in [lo, hi] (within int32) or an edge value
    static const int32_t edge[] = {0, -1, INT32_MIN, INT32_MAX};
    if (b >= 0xFC) return edge[b - 0xFC];
    return (int32_t) std::min<int64_t>(lo + b % (hi - lo + 1), INT32_MAX);
}

int32_t pick_code(uint8_t b, int32_t cb) {
    const int32_t edge[] = {-1, cb, cb + 1, INT32_MIN, INT32_MAX, -2, 2 * cb, cb - 1};
    if (b >= 0xF8) return edge[b - 0xF8];
    return b % cb;
}

float pick_float(uint8_t b) {
    static const float edge[] = {NAN, INFINITY, -INFINITY, 1e-41f, -1e-41f, 0.0f, -0.0f, 1e30f,
                                 -1e30f, std::numeric_limits<float>::max(), 1.0f, -1.0f, 1e-20f, 64.0f, 0.5f, 2.0f};
    if (b >= 0xF0) return edge[b - 0xF0];
    return ((float) b - 120.0f) / 32.0f;
}

// "[4, 2, 1]" -> {4, 2, 1} (SNAC's vq_strides; empty for other models).
std::vector<int32_t> strides_of(codec_model * m) {
    char buf[128];
    std::vector<int32_t> v;
    if (codec_model_meta_str(m, "snac.vq_strides", buf, sizeof buf) < 0) return v;
    for (const char * p = buf; *p; ++p) {
        if (*p >= '0' && *p <= '9') {
            v.push_back((int32_t) std::strtol(p, nullptr, 10));
            while (p[1] >= '0' && p[1] <= '9') ++p;
        }
    }
    return v;
}

void expect_audio(codec_status st, const codec_audio & a, codec_model * m) {
    if (st != CODEC_OK) return;
    codec_fuzz::check(a.data && a.n_samples > 0 && a.n_channels == codec_model_channels(m) &&
                      a.sample_rate == codec_model_sample_rate(m), "decode succeeded with a bad audio result");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    auto & ms = codec_fuzz::models();
    Reader in{data, size};
    codec_fuzz::Model & mm = ms[in.u8() % ms.size()];
    codec_model * m = mm.model;
    const uint8_t mode = in.u8();
    const int32_t max_q = codec_model_n_q(m), cb = codec_model_codebook_size(m);
    const int32_t n_q = pick_count(in.u8(), 1, (int64_t) max_q + 1);
    const uint16_t nf = in.u16();
    // Mostly frame counts from a short list (cached graphs keep runs fast), sometimes any.
    static const int32_t frames[] = {1, 2, 3, 4, 5, 6, 7, 8, 12, 15, 16, 17, 23, 24, 31, kMaxFrames};
    // Edge counts are ones the library must refuse before reading the codes: a huge n_frames
    // would be a caller's promise of a buffer this harness does not have.
    static const int32_t frame_edge[] = {0, -1, INT32_MIN, -7};
    const int32_t n_frames = nf >= 0xFFFC ? frame_edge[nf - 0xFFFC] : (nf & 0x8000) ? 1 + nf % kMaxFrames : frames[nf % 16];
    const int32_t n_scales_b = in.u8();
    codec_context * ctx = mm.ctx_for(nf % 16);  // the frames[] index

    // Buffers sized for whatever counts are in range; out-of-range counts are rejected by the
    // library before it reads the buffers (documented), so they never index past them.
    const bool sane = n_q >= 1 && n_q <= 64 && n_frames >= 1 && n_frames <= kMaxFrames;
    std::vector<int32_t> codes(sane ? (size_t) n_q * n_frames : 1);
    codec_audio audio{};

    switch (mode % 4) {
        case 0: {  // flat: codec_decode
            for (auto & c : codes) c = pick_code(in.u8(), cb);
            expect_audio(codec_decode(ctx, codes.data(), n_q, n_frames, &audio), audio, m);
            break;
        }
        case 1:
        case 2: {  // codec_decode_codes: row lengths (derived from vq_strides or raw) and scales
            std::vector<int32_t> row_len(n_q >= 1 && n_q <= 64 ? (size_t) n_q : 1, n_frames);  // n_q entries, as documented
            const std::vector<int32_t> strides = strides_of(m);
            const bool derive = mode & 0x10;
            for (size_t q = 0; q < row_len.size(); ++q) {
                if (derive && q < strides.size() && strides[q] > 0) row_len[q] = n_frames / strides[q];
                else if ((mode & 0x20) && n_frames >= 1) row_len[q] = pick_count(in.u8(), 1, (int64_t) n_frames + 1);
            }
            for (auto & c : codes) c = pick_code(in.u8(), cb);
            // As for n_frames: only edge counts the library must refuse before reading scales.
            const int32_t n_scales = n_scales_b >= 0xFD ? frame_edge[n_scales_b - 0xFC] : 1 + n_scales_b % 8;
            std::vector<float> scales(n_scales >= 1 && n_scales <= 8 ? (size_t) n_scales : 1);
            for (auto & s : scales) s = (mode & 0x40) ? pick_float(in.u8()) : 1.0f;
            codec_codes cc{};
            cc.n_q = n_q;
            cc.n_frames = n_frames;
            cc.data = codes.data();
            cc.row_len = (mode % 4 == 2 || codec_model_multi_rate(m)) ? row_len.data() : nullptr;
            if (codec_model_has_scales(m) != bool(mode & 0x80)) {  // mostly the right kind, sometimes not
                cc.n_scales = n_scales;
                cc.scales = scales.data();
            }
            expect_audio(codec_decode_codes(ctx, &cc, &audio), audio, m);
            break;
        }
        case 3: {  // quantized latent
            const int32_t dim = (mode & 0x10) ? pick_count(in.u8(), 1, 64) : codec_model_latent_dim(m);
            const bool ok_dim = dim >= 1 && dim <= 1024;
            const bool frames_ok = n_frames >= 1 && n_frames <= kMaxFrames;  // n_q plays no part here
            std::vector<float> lat(ok_dim && frames_ok ? (size_t) dim * n_frames : 1);
            for (auto & v : lat) v = pick_float(in.u8());
            expect_audio(codec_decode_latent(ctx, lat.data(), dim, n_frames, &audio), audio, m);
            break;
        }
    }
    return 0;
}
