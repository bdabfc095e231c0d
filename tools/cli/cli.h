// codec-cli's options and the one-shot helpers that main.cpp (one file) and batch.cpp (several
// files) share. Defined in main.cpp unless said otherwise.
#ifndef CODEC_CLI_CLI_H
#define CODEC_CLI_CLI_H

#include "codec.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cli {

constexpr int kExitOk    = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

enum Flag : unsigned {
    F_MODEL     = 1u << 0,
    F_IN        = 1u << 1,
    F_OUT       = 1u << 2,
    F_CODES     = 1u << 3,
    F_CODES_OUT = 1u << 4,
    F_NQ        = 1u << 5,
    F_SUBTYPE   = 1u << 6,
    F_THREADS   = 1u << 7,
    F_GPU       = 1u << 8,
    F_BANDWIDTH = 1u << 9,
    F_SCALES    = 1u << 10,
    F_BLOCK     = 1u << 11,
    F_ONE_SHOT  = 1u << 12,
    F_LIST      = 1u << 13,
    F_OUT_DIR   = 1u << 14,
    F_BATCH     = 1u << 15,
    F_APPROX    = 1u << 16,
};

struct Options {
    std::string model, in, out, codes, codes_out, subtype;
    int         n_q     = 0;  // 0: all
    double      bandwidth = 0;  // kbps; 0: not given
    std::string scales;       // scales file; "": next to the codes file
    int         threads = 0;  // 0: all cores
    bool        gpu     = false;
    double      block_seconds = 10.0;  // stream block length
    bool        one_shot = false;     // --one-shot: whole input in one call
    int         approx[3] = {-1, 0, 0};  // --approx L,R[,F]: approximate decode windows (approx[0] < 0: off)
    // Several files (batch.h): every --in / --codes in order (in / codes hold the last one).
    std::vector<std::string> inputs;
    std::string list;         // --list: a file of input paths, one per line ("-": stdin)
    std::string out_dir;      // --out-dir: outputs named after the inputs
    int         batch   = 8;  // --batch: inputs per batch call
    unsigned    given   = 0;  // Flag bits of the options on the command line
};

struct Codes {
    std::vector<int32_t> data;
    int32_t              n_q      = 0;
    int32_t              n_frames = 0;
    std::vector<float>   scales;  // per-chunk scales (EnCodec 48 kHz), else empty
    std::vector<int32_t> row_len; // multi-rate codes (SNAC): each row's length, else empty
};

// A copy of a library result (the context owns it only until its next call), and the library's
// view of a copy (valid while the copy lives).
Codes       codes_from(const codec_codes & c);
codec_codes codes_view(const Codes & c);

struct ModelFree {
    void operator()(codec_model * m) const { codec_model_free(m); }
};
struct ContextFree {
    void operator()(codec_context * c) const { codec_context_free(c); }
};
using ModelPtr   = std::unique_ptr<codec_model, ModelFree>;
using ContextPtr = std::unique_ptr<codec_context, ContextFree>;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0);

int         fail(const std::string & msg);  // prints "error: msg", returns kExitError
std::string lib_error(const codec_context * ctx, codec_status st);
ModelPtr    load_model(const Options & o, std::string & err);
ContextPtr  new_context(codec_model * m, std::string & err);
void        print_timing(const char * what, double secs, double audio_secs);
int64_t     output_samples(const codec_model * m, int64_t n_in);
bool        check_n_q(const Options & o, const codec_model * m, std::string & err);
bool        check_capability(const codec_model * m, bool need_encoder, bool need_decoder, std::string & err);
int         n_q_or_all(const Options & o, const codec_model * m);
std::string scales_path(const std::string & codes_path, const std::string & given);
// o.in read whole in the encoder's format.
bool read_input(const Options & o, const codec_model * m, std::vector<float> & pcm, int64_t & n_frames, std::string & err);
// o.codes (and their scales, from o.scales or beside them) for decode.
bool read_codes(const Options & o, const codec_model * m, Codes & codes, std::string & err);
bool read_scales(const Options & o, const codec_model * m, Codes & codes, std::string & err);
bool write_codes(const std::string & path, const Codes & codes, std::string & err, const std::string & scales = "");
// a's first n_samples to o.out, as o.subtype.
bool write_audio(const Options & o, const codec_audio & a, int64_t n_samples, std::string & err);
// encode / decode / roundtrip (both) of a continuous model, for one file: o.in or o.codes to o.out.
int  run_latent(const Options & o, const codec_model * m, codec_context * ctx, bool encode, bool decode);

}  // namespace cli

#endif  // CODEC_CLI_CLI_H
