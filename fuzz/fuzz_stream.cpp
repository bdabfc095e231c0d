// Streams with arbitrary push sizes and contents, flush and reset at arbitrary points, pulls from
// either direction, on every tiny model that streams. Input layout:
//   [model] [direction + n_q] [block frames] then ops: one byte each, followed by their data:
//     0: push (u16 size, then one byte per sample / code; bytes past the end read as 0)
//     1: flush   2: reset   3: pull (the stream's own direction)   4: pull (the other direction)
// Invariants: every failure has a message; pulled codes are in range, pulled PCM is finite;
// a stream that refused a push or pull still works (a push of one valid frame succeeds after it).
#include "fuzz_common.h"

#include <cmath>
#include <limits>

namespace {

using codec_fuzz::Reader;

constexpr int kMaxPush = 512;      // samples or frames per push: keeps one run cheap
constexpr int kMaxOps = 24;

float pick_sample(uint8_t b) {
    static const float edge[] = {NAN, INFINITY, -INFINITY, 1e-41f, 1.0f, -1.0f, 0.0f, 1e30f};
    if (b >= 0xF8) return edge[b - 0xF8];
    return ((float) b - 124.0f) / 128.0f;
}

int32_t pick_code(uint8_t b, int32_t cb) {
    const int32_t edge[] = {-1, cb, INT32_MIN, INT32_MAX};
    if (b >= 0xFC) return edge[b - 0xFC];
    return b % cb;
}

void expect_message(codec_status st, codec_stream * s) {
    if (st == CODEC_OK) return;
    const char * e = codec_stream_last_error(s);
    codec_fuzz::check(e && *e, "a stream call failed without a message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    auto & ms = codec_fuzz::models();
    Reader in{data, size};
    codec_fuzz::Model & mm = ms[in.u8() % ms.size()];
    codec_model * m = mm.model;
    const uint8_t dq = in.u8();
    codec_stream_params p = codec_stream_default_params();
    p.direction = (dq & 1) ? CODEC_STREAM_DECODE : CODEC_STREAM_ENCODE;
    p.n_q = (dq >> 1) % 8 == 7 ? CODEC_N_Q_ALL : 1 + (dq >> 1) % (codec_model_n_q(m) + 1);  // sometimes one too many
    p.block_frames = in.u8() % 9;  // 0: the default
    codec_context * ctx = mm.ctx_for(dq);
    codec_stream * s = codec_stream_new(ctx, p);
    if (!s) {
        const char * e = codec_context_last_error(ctx);
        codec_fuzz::check(e && *e, "codec_stream_new failed without a message");
        return 0;
    }
    const bool enc = p.direction == CODEC_STREAM_ENCODE;
    const int ch = codec_model_channels(m), cb = codec_model_codebook_size(m);
    const int32_t n_q = p.n_q == CODEC_N_Q_ALL ? codec_model_n_q(m) : p.n_q;
    const bool multi = codec_model_multi_rate(m);
    for (int op = 0; op < kMaxOps && !in.empty(); ++op) {
        switch (in.u8() % 5) {
            case 0: {
                const int n = in.u16() % (kMaxPush + 1);
                if (enc) {
                    std::vector<float> pcm((size_t) n * ch + 1);
                    for (int i = 0; i < n * ch; ++i) pcm[(size_t) i] = pick_sample(in.u8());
                    expect_message(codec_stream_push_pcm(s, pcm.data(), n), s);
                } else {
                    const int frames = n % 33;
                    std::vector<int32_t> codes((size_t) n_q * frames + 1), row_len((size_t) n_q, frames);
                    for (auto & c : codes) c = pick_code(in.u8(), cb);
                    if (multi) for (auto & r : row_len) r = frames >> (in.u8() % 3);  // levels at 1, 1/2, 1/4 rate
                    codec_codes cc{};
                    cc.n_q = n_q;
                    cc.n_frames = frames;
                    cc.data = codes.data();
                    cc.row_len = multi ? row_len.data() : nullptr;
                    expect_message(codec_stream_push_codes(s, &cc), s);
                }
                break;
            }
            case 1: expect_message(codec_stream_flush(s), s); break;
            case 2: expect_message(codec_stream_reset(s), s); break;
            case 3:
            case 4: {
                const bool own = in.u8() % 5 != 4;  // mostly the right direction
                if (enc == own) {
                    codec_codes out{};
                    const codec_status st = codec_stream_pull_codes(s, &out);
                    expect_message(st, s);
                    if (st == CODEC_OK) {
                        for (int32_t q = 0; q < out.n_q; ++q) {
                            const int32_t len = out.row_len ? out.row_len[q] : out.n_frames;
                            for (int32_t t = 0; t < len; ++t) {
                                const int32_t c = out.data[(size_t) q * out.n_frames + t];
                                codec_fuzz::check(c >= 0 && c < cb, "a stream pulled a code out of range");
                            }
                        }
                    }
                } else {
                    codec_audio out{};
                    const codec_status st = codec_stream_pull_pcm(s, &out);
                    expect_message(st, s);
                    if (st == CODEC_OK) {
                        for (int64_t i = 0; i < out.n_samples * out.n_channels; ++i) {
                            codec_fuzz::check(std::isfinite(out.data[i]), "a stream pulled non-finite PCM");
                        }
                    }
                }
                break;
            }
        }
    }
    // Still usable: after a reset, one valid frame's input is accepted.
    codec_fuzz::check(codec_stream_reset(s) == CODEC_OK, "reset failed");
    if (enc) {
        std::vector<float> pcm((size_t) codec_model_hop_size(m) * ch, 0.25f);
        codec_fuzz::check(codec_stream_push_pcm(s, pcm.data(), codec_model_hop_size(m)) == CODEC_OK, "a valid push failed after reset");
    } else if (!multi) {
        std::vector<int32_t> codes((size_t) n_q, 0);
        codec_codes cc{};
        cc.n_q = n_q;
        cc.n_frames = 1;
        cc.data = codes.data();
        codec_fuzz::check(codec_stream_push_codes(s, &cc) == CODEC_OK, "a valid push failed after reset");
    }
    codec_stream_free(s);
    return 0;
}
