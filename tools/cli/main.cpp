// codec-cli: command-line front end of the codec library.
//
// Exit status: 0 success, 1 runtime/library error, 2 usage error.
// stdout carries only `info` output; progress, timings and errors go to stderr.
#include "audio_io.h"
#include "batch.h"
#include "cli.h"
#include "npy.h"
#include "npz.h"

#include "codec.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace cli {

// ---------------------------------------------------------------------------------------
// Options

struct FlagSpec {
    const char * name;
    Flag         id;
    const char * value;  // nullptr: boolean switch
    const char * help;
};

const FlagSpec kFlags[] = {
    {"--model",     F_MODEL,     "M",     "model file (GGUF)"},
    {"--in",        F_IN,        "AUDIO", "input audio (wav, flac, ogg, mp3, ...); resampled and mixed to the model's format; repeat for several files"},
    {"--codes",     F_CODES,     "NPY",   "input codes, int32 [n_q, n_frames] (.npy); multi-rate models (SNAC): .npz, one array per level; "
                                          "continuous models (Pocket TTS's Mimi, Soprano): the latent, float32 [latent_dim, n_frames] (.npy); repeat for several files"},
    {"--out",       F_OUT,       "PATH",  "output file"},
    {"--codes-out", F_CODES_OUT, "NPY",   "also write the codes, int32 [n_q, n_frames] (.npy, or .npz: one array per level; "
                                          "continuous models: the latent, float32 [latent_dim, n_frames] .npy)"},
    {"--n-q",       F_NQ,        "N",     "number of codebooks to use (default: all)"},
    {"--subtype",   F_SUBTYPE,   "S",     "output sample format: pcm16 (default), pcm24 or float (wav only)"},
    {"--threads",   F_THREADS,   "N",     "CPU threads (default 0: all cores)"},
    {"--gpu",       F_GPU,       nullptr, "run on the first GPU backend if ggml has one"},
    {"--bandwidth", F_BANDWIDTH, "KBPS",  "target bandwidth, one of the model's (EnCodec: 1.5/3/6/12/24); sets n_q as the reference does"},
    {"--scales",    F_SCALES,    "NPY",   "per-chunk scales (EnCodec 48 kHz), float32 [n_chunks, 1] (default: <codes>.scales.npy)"},
    {"--block-seconds", F_BLOCK, "S",     "stream in blocks of about S seconds (default 10): memory stays bounded by the block, whatever the input's length"},
    {"--one-shot",  F_ONE_SHOT,  nullptr, "process the whole input in one call instead of streaming it in blocks"},
    {"--approx",    F_APPROX,    "L,R[,F]", "models that cannot decode exactly in blocks (XCodec2 / NeuCodec, WavTokenizer): decode each "
                                          "block with L frames of context before it and R after it, fading over F frames "
                                          "(approximate: not the one-shot output); other models ignore it"},
    {"--list",      F_LIST,      "FILE",  "several files: input paths, one per line, after any given on the command line "
                                          "(blank lines and lines starting with # skipped; '-': stdin)"},
    {"--out-dir",   F_OUT_DIR,   "DIR",   "several files: write each output into DIR (created if missing), named after its input"},
    {"--batch",     F_BATCH,     "N",     "several files: inputs per library call (default 8); memory grows with N"},
};

// Options of the several-files form only (batch.h), and of the one-file form only.
constexpr unsigned kMulti  = F_LIST | F_OUT_DIR | F_BATCH;
constexpr unsigned kSingle = F_OUT | F_CODES_OUT | F_SCALES | F_BLOCK | F_APPROX;

struct Command {
    const char * name;
    const char * summary;
    unsigned     allowed;
    unsigned     required;
    int (*run)(const Options &);
};

int cmd_info(const Options & o);
int cmd_encode(const Options & o);
int cmd_decode(const Options & o);
int cmd_roundtrip(const Options & o);

constexpr unsigned kCommon = F_THREADS | F_GPU;
constexpr unsigned kStream = F_BLOCK | F_ONE_SHOT | F_APPROX;

const Command kCommands[] = {
    {"info", "print model information", F_MODEL | kCommon, F_MODEL, cmd_info},
    {"encode", "audio -> codes (.npy; .npz for multi-rate models; continuous models: float32 latent .npy)", F_MODEL | F_IN | F_OUT | F_NQ | F_BANDWIDTH | F_SCALES | kCommon | kStream | kMulti,
     F_MODEL | F_IN | F_OUT, cmd_encode},
    {"decode", "codes (.npy or .npz; continuous models: float32 latent .npy) -> audio", F_MODEL | F_CODES | F_OUT | F_SUBTYPE | F_SCALES | kCommon | kStream | kMulti,
     F_MODEL | F_CODES | F_OUT, cmd_decode},
    {"roundtrip", "audio -> codes -> audio",
     F_MODEL | F_IN | F_OUT | F_NQ | F_BANDWIDTH | F_CODES_OUT | F_SUBTYPE | kCommon | kStream | kMulti, F_MODEL | F_IN | F_OUT,
     cmd_roundtrip},
};

void print_main_usage(std::FILE * f) {
    std::fprintf(f, "usage: codec-cli <command> [options]\n\ncommands:\n");
    for (const Command & c : kCommands) std::fprintf(f, "  %-10s %s\n", c.name, c.summary);
    std::fprintf(f, "\nrun 'codec-cli <command> --help' for the options of a command\n");
}

void print_command_usage(std::FILE * f, const Command & c) {
    std::fprintf(f, "usage: codec-cli %s", c.name);
    for (const FlagSpec & fl : kFlags) {
        if (!(c.allowed & fl.id) || (fl.id & kMulti)) continue;
        const bool req = c.required & fl.id;
        std::fprintf(f, " %s%s%s%s%s", req ? "" : "[", fl.name, fl.value ? " " : "",
                     fl.value ? fl.value : "", req ? "" : "]");
    }
    if (c.allowed & F_OUT_DIR) {  // the several-files form: inputs repeated or listed, outputs named after them
        std::fprintf(f, "\n       codec-cli %s", c.name);
        for (const FlagSpec & fl : kFlags) {
            if (!(c.allowed & fl.id) || (fl.id & kSingle)) continue;
            const bool req = fl.id == F_MODEL || fl.id == F_OUT_DIR, rep = fl.id == F_IN || fl.id == F_CODES;
            std::fprintf(f, " %s%s%s%s%s%s", req ? "" : "[", fl.name, fl.value ? " " : "", fl.value ? fl.value : "",
                         req ? "" : "]", rep ? "..." : "");
        }
    }
    std::fprintf(f, "\n\n%s\n", c.summary);
    if (c.allowed & F_OUT_DIR) batch_print_help(f, c.allowed & F_IN, c.allowed & F_SUBTYPE);
    std::fprintf(f, "\noptions:\n");
    for (const FlagSpec & fl : kFlags) {
        if (!(c.allowed & fl.id)) continue;
        std::string lhs = std::string(fl.name) + (fl.value ? std::string(" ") + fl.value : "");
        std::fprintf(f, "  %-19s %s\n", lhs.c_str(), fl.help);
    }
    std::fprintf(f, "  %-19s %s\n", "-h, --help", "show this help");
}

// Strict decimal integer in [lo, hi]: no sign tricks, no trailing text, no whitespace.
bool parse_int(const std::string & s, long long lo, long long hi, int & out) {
    if (s.empty() || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) return false;
    errno = 0;
    char * end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    out = int(v);
    return true;
}

bool set_value(Options & o, Flag id, const std::string & v, std::string & err) {
    switch (id) {
        case F_MODEL:     o.model = v; break;
        case F_IN:        o.in = v; o.inputs.push_back(v); break;
        case F_OUT:       o.out = v; break;
        case F_CODES:     o.codes = v; o.inputs.push_back(v); break;
        case F_LIST:      o.list = v; break;
        case F_OUT_DIR:   o.out_dir = v; break;
        case F_BATCH:
            if (!parse_int(v, 1, 4096, o.batch)) {
                err = "--batch needs an integer in [1, 4096], got '" + v + "'";
                return false;
            }
            break;
        case F_CODES_OUT: o.codes_out = v; break;
        case F_SUBTYPE:
            if (v != "pcm16" && v != "pcm24" && v != "float") {
                err = "--subtype must be pcm16, pcm24 or float, got '" + v + "'";
                return false;
            }
            o.subtype = v;
            break;
        case F_NQ:
            if (!parse_int(v, 1, std::numeric_limits<int32_t>::max(), o.n_q)) {
                err = "--n-q needs a positive integer, got '" + v + "'";
                return false;
            }
            break;
        case F_BANDWIDTH: {
            char * end = nullptr;
            errno = 0;
            o.bandwidth = std::strtod(v.c_str(), &end);
            if (errno != 0 || *end != '\0' || !(o.bandwidth > 0 && o.bandwidth < 1e6)) {
                err = "--bandwidth needs a positive number of kbps, got '" + v + "'";
                return false;
            }
            break;
        }
        case F_SCALES: o.scales = v; break;
        case F_BLOCK: {
            char * end = nullptr;
            errno = 0;
            o.block_seconds = std::strtod(v.c_str(), &end);
            if (errno != 0 || *end != '\0' || !(o.block_seconds > 0 && o.block_seconds <= 3600)) {
                err = "--block-seconds needs a number of seconds in (0, 3600], got '" + v + "'";
                return false;
            }
            break;
        }
        case F_APPROX: {
            std::vector<std::string> parts(1);
            for (char ch : v) {
                if (ch == ',') parts.emplace_back(); else parts.back().push_back(ch);
            }
            bool ok = parts.size() == 2 || parts.size() == 3;
            for (size_t i = 0; ok && i < parts.size(); ++i) ok = parse_int(parts[i], 0, 1 << 20, o.approx[i]);
            if (!ok || o.approx[2] > o.approx[1]) {
                err = "--approx needs L,R or L,R,F: frames of context before and after each block and frames to fade over "
                      "(integers >= 0, F <= R), got '" + v + "'";
                return false;
            }
            break;
        }
        case F_THREADS:
            if (!parse_int(v, 0, 4096, o.threads)) {
                err = "--threads needs an integer in [0, 4096], got '" + v + "'";
                return false;
            }
            break;
        default: break;
    }
    return true;
}

enum class ParseResult { Ok, Help, Error };

// Parses argv[first..] for command c. Accepts "--flag value" and "--flag=value".
ParseResult parse_args(int argc, char ** argv, int first, const Command & c, Options & o,
                       std::string & err) {
    unsigned seen = 0;
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") return ParseResult::Help;
        const size_t eq = arg.find('=');
        const std::string name = arg.substr(0, eq);
        const FlagSpec * spec = nullptr;
        for (const FlagSpec & fl : kFlags) {
            if (name == fl.name && (c.allowed & fl.id)) spec = &fl;
        }
        if (!spec) {
            err = arg.rfind("-", 0) == 0 ? "unknown option '" + name + "' for '" + c.name + "'"
                                         : "unexpected argument '" + arg + "'";
            return ParseResult::Error;
        }
        seen |= spec->id;
        if (!spec->value) {
            if (eq != std::string::npos) {
                err = std::string("option '") + spec->name + "' takes no value";
                return ParseResult::Error;
            }
            if (spec->id == F_GPU) o.gpu = true;
            if (spec->id == F_ONE_SHOT) o.one_shot = true;
            continue;
        }
        std::string value;
        if (eq != std::string::npos) {
            value = arg.substr(eq + 1);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            err = std::string("option '") + spec->name + "' needs a value";
            return ParseResult::Error;
        }
        if (value.empty()) {
            err = std::string("empty value for '") + spec->name + "'";
            return ParseResult::Error;
        }
        if (!set_value(o, spec->id, value, err)) return ParseResult::Error;
    }
    o.given = seen;
    if ((seen & F_APPROX) && o.one_shot) {
        err = "--approx sets how a stream decodes in windows: it does not go with --one-shot";
        return ParseResult::Error;
    }
    // The several-files form stands in for the one-file one: --list for --in / --codes, --out-dir for --out.
    const unsigned alt = (seen & F_LIST ? F_IN | F_CODES : 0u) | (seen & F_OUT_DIR ? F_OUT : 0u);
    for (const FlagSpec & fl : kFlags) {
        if ((c.required & fl.id) && !(seen & fl.id) && !(alt & fl.id)) {
            err = std::string("missing required option '") + fl.name + "'";
            if (fl.id == F_OUT && (c.allowed & F_OUT_DIR)) err += " (several files: --out-dir)";
            return ParseResult::Error;
        }
    }
    return ParseResult::Ok;
}

// ---------------------------------------------------------------------------------------
// Library helpers

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

int fail(const std::string & msg) {
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    return kExitError;
}

std::string lib_error(const codec_context * ctx, codec_status st) {
    const char * m = ctx ? codec_context_last_error(ctx) : nullptr;
    return (m && *m) ? m : codec_status_str(st);
}

ModelPtr load_model(const Options & o, std::string & err) {
    codec_model_params mp = codec_model_default_params();
    mp.n_threads = o.threads;
    mp.use_gpu   = o.gpu;
    char msg[1024] = {0};
    codec_status st = CODEC_OK;
    const auto t0 = Clock::now();
    ModelPtr m(codec_model_load(o.model.c_str(), mp, &st, msg, sizeof(msg)));
    if (!m) {
        err = msg[0] ? msg : std::string(codec_status_str(st)) + ": " + o.model;
        return nullptr;
    }
    std::fprintf(stderr, "load: %.3f s (%s, %d Hz, %s)\n", seconds_since(t0),
                 codec_model_arch(m.get()), codec_model_sample_rate(m.get()),
                 codec_model_uses_gpu(m.get()) ? "gpu" : "cpu");
    if (o.gpu && !codec_model_uses_gpu(m.get())) {
        std::fprintf(stderr, "warning: --gpu given but no GPU backend is available; using the CPU\n");
    }
    return m;
}

ContextPtr new_context(codec_model * m, std::string & err) {
    codec_context_params cp = codec_context_default_params();
    cp.n_threads = 0;  // inherit the model's --threads
    ContextPtr c(codec_context_new(m, cp));
    if (!c) err = "cannot create a context";
    return c;
}

void print_timing(const char * what, double secs, double audio_secs) {
    if (audio_secs > 0.0) {
        std::fprintf(stderr, "%s: %.3f s for %.2f s of audio (RTF %.4f, %.1fx real time)\n", what,
                     secs, audio_secs, secs / audio_secs, secs > 0.0 ? audio_secs / secs : 0.0);
    } else {
        std::fprintf(stderr, "%s: %.3f s\n", what, secs);
    }
}

// Output samples that span n_in input samples: the decoder's rate may differ from the encoder's
// (NeuCodec: 16 kHz in, 24 kHz out).
int64_t output_samples(const codec_model * m, int64_t n_in) {
    const int64_t in_rate = codec_model_encode_sample_rate(m), out_rate = codec_model_sample_rate(m);
    return in_rate == out_rate ? n_in : (n_in * out_rate + in_rate - 1) / in_rate;
}

// Reads the input audio in the encoder's format and reports what was converted.
bool read_input(const Options & o, const codec_model * m, std::vector<float> & pcm,
                int64_t & n_frames, std::string & err) {
    const int rate = codec_model_encode_sample_rate(m), ch = codec_model_channels(m);
    AudioInfo src;
    const auto t0 = Clock::now();
    if (!audio_read(o.in, rate, ch, pcm, n_frames, err, &src)) return false;
    std::fprintf(stderr, "input: %s: %d Hz, %d ch, %.2f s", o.in.c_str(), src.sample_rate,
                 src.channels, double(src.n_frames) / src.sample_rate);
    if (src.sample_rate != rate || src.channels != ch) {
        std::fprintf(stderr, " -> %d Hz, %d ch", rate, ch);
    }
    std::fprintf(stderr, " (read %.3f s)\n", seconds_since(t0));
    return true;
}

bool check_n_q(const Options & o, const codec_model * m, std::string & err) {
    if (o.bandwidth > 0) {
        if (o.n_q > 0) {
            err = "give --n-q or --bandwidth, not both";
            return false;
        }
        if (codec_model_n_q_for_bandwidth(m, float(o.bandwidth)) < 1) {
            float bw[16];
            const int n = codec_model_bandwidths(m, bw, 16);
            std::string list;
            char buf[64];
            for (int i = 0; i < n && i < 16; ++i) {
                std::snprintf(buf, sizeof(buf), "%s%g", i ? ", " : "", double(bw[i]));
                list += buf;
            }
            std::snprintf(buf, sizeof(buf), "%g", o.bandwidth);
            err = n ? std::string("--bandwidth ") + buf + " is not one of this model's bandwidths (" + list + " kbps)"
                    : "this model has no published bandwidths: use --n-q";
            return false;
        }
    }
    if (o.n_q > codec_model_n_q(m)) {
        err = "--n-q " + std::to_string(o.n_q) + " exceeds the model's " +
              std::to_string(codec_model_n_q(m)) + " codebooks";
        return false;
    }
    return true;
}

bool check_capability(const codec_model * m, bool need_encoder, bool need_decoder, std::string & err) {
    if (need_encoder && !codec_model_has_encoder(m)) {
        err = "this model has no encoder";
        return false;
    }
    if (need_decoder && !codec_model_has_decoder(m)) {
        err = "this model has no decoder";
        return false;
    }
    return true;
}

// An explicit count rather than relying on the library's "n_q <= 0 means all".
int n_q_or_all(const Options & o, const codec_model * m) {
    if (o.bandwidth > 0) return codec_model_n_q_for_bandwidth(m, float(o.bandwidth));
    return o.n_q > 0 ? o.n_q : codec_model_n_q(m);
}

// Scales travel beside the codes: "x.npy" -> "x.scales.npy" unless --scales names the file.
std::string scales_path(const std::string & codes_path, const std::string & given) {
    if (!given.empty()) return given;
    const std::string ext = ".npy";
    const bool has_ext = codes_path.size() >= ext.size() && codes_path.compare(codes_path.size() - ext.size(), ext.size(), ext) == 0;
    return (has_ext ? codes_path.substr(0, codes_path.size() - ext.size()) : codes_path) + ".scales.npy";
}

Codes codes_from(const codec_codes & c) {
    Codes codes;
    codes.n_q      = c.n_q;
    codes.n_frames = c.n_frames;
    codes.data.assign(c.data, c.data + size_t(c.n_q) * size_t(c.n_frames));
    codes.scales.assign(c.scales, c.scales + (c.scales ? c.n_scales : 0));
    codes.row_len.assign(c.row_len, c.row_len + (c.row_len ? c.n_q : 0));
    return codes;
}

codec_codes codes_view(const Codes & codes) {
    codec_codes c = {};
    c.n_q      = codes.n_q;
    c.n_frames = codes.n_frames;
    c.data     = codes.data.data();
    c.n_scales = int32_t(codes.scales.size());
    c.scales   = codes.scales.empty() ? nullptr : codes.scales.data();
    c.row_len  = codes.row_len.empty() ? nullptr : codes.row_len.data();
    return c;
}

bool run_encode(codec_context * ctx, const std::vector<float> & pcm, int64_t n_frames, int n_q,
                double audio_secs, Codes & codes, std::string & err) {
    codec_codes out = {};
    const auto t0 = Clock::now();
    const codec_status st = codec_encode(ctx, pcm.data(), n_frames, n_q, &out);
    if (st != CODEC_OK) {
        err = lib_error(ctx, st);
        return false;
    }
    print_timing("encode", seconds_since(t0), audio_secs);
    codes = codes_from(out);
    return true;
}

bool run_decode(codec_context * ctx, const Codes & codes, codec_audio & audio, std::string & err) {
    const auto t0 = Clock::now();
    const codec_codes in = codes_view(codes);
    const codec_status st = codes.scales.empty() && codes.row_len.empty()
                                ? codec_decode(ctx, in.data, in.n_q, in.n_frames, &audio)
                                : codec_decode_codes(ctx, &in, &audio);
    if (st != CODEC_OK) {
        err = lib_error(ctx, st);
        return false;
    }
    const double audio_secs = audio.sample_rate > 0 ? double(audio.n_samples) / audio.sample_rate : 0.0;
    print_timing("decode", seconds_since(t0), audio_secs);
    return true;
}

// Multi-rate codes (SNAC) go to an .npz with one 1-D array per level: level_0, level_1, ...
bool write_levels(const std::string & path, const Codes & codes, std::string & err) {
    std::vector<std::vector<int32_t>> levels(size_t(codes.n_q));
    std::string shape;
    for (int32_t q = 0; q < codes.n_q; ++q) {
        const int32_t len = codes.row_len.empty() ? codes.n_frames : codes.row_len[size_t(q)];
        const int32_t * row = codes.data.data() + size_t(q) * size_t(codes.n_frames);
        levels[size_t(q)].assign(row, row + len);
        shape += (q ? ", " : "") + std::to_string(len);
    }
    if (!npz_write_levels(path, levels, err)) return false;
    std::fprintf(stderr, "codes: %d levels [%s] -> %s\n", codes.n_q, shape.c_str(), path.c_str());
    return true;
}

// Checks before any work that multi-rate codes are headed for an .npz, and scaled codes
// (EnCodec 48 kHz: codes .npy plus a .scales.npy beside it) are not.
bool check_codes_path(const codec_model * m, const std::string & path, std::string & err) {
    if (!path.empty() && codec_model_multi_rate(m) && !npz_path(path)) {
        err = std::string("this model's (") + codec_model_arch(m) + ") code levels have different lengths: "
              "write them to an .npz (one array per level), not '" + path + "'";
        return false;
    }
    if (!path.empty() && codec_model_has_scales(m) && npz_path(path)) {
        err = std::string("this model's (") + codec_model_arch(m) + ") codes carry per-chunk scales: write them to "
              "an .npy (the scales go beside it as <name>.scales.npy), not '" + path + "'";
        return false;
    }
    return true;
}

bool write_codes(const std::string & path, const Codes & codes, std::string & err, const std::string & scales) {
    if (npz_path(path) && !codes.scales.empty()) {  // check_codes_path refuses this first; never write NPY bytes to an .npz
        err = "codes with per-chunk scales cannot be written to an .npz: '" + path + "'";
        return false;
    }
    if (npz_path(path)) return write_levels(path, codes, err);
    if (!codes.row_len.empty()) {
        err = "code levels have different lengths: write them to an .npz (one array per level), not '" + path + "'";
        return false;
    }
    if (!npy_write_i32(path, codes.data.data(), codes.n_q, codes.n_frames, err)) return false;
    std::fprintf(stderr, "codes: [%d, %d] -> %s\n", codes.n_q, codes.n_frames, path.c_str());
    if (!codes.scales.empty()) {
        const std::string sp = scales_path(path, scales);
        if (!npy_write_f32(sp, codes.scales.data(), int64_t(codes.scales.size()), 1, err)) return false;
        std::fprintf(stderr, "scales: [%zu, 1] -> %s\n", codes.scales.size(), sp.c_str());
    }
    return true;
}

// The shape of decode's codes against the model, before any work.
bool check_codes_shape(const Options & o, const codec_model * m, int64_t rows, int64_t cols, std::string & err) {
    const int max_q = codec_model_n_q(m);
    const char * what = npz_path(o.codes) ? "code levels" : "codebook rows";
    if (rows < 1 || rows > max_q) {
        err = o.codes + ": has " + std::to_string(rows) + " " + what + "; the model takes 1.." + std::to_string(max_q) +
              (npz_path(o.codes) ? "" : " (expected int32 [n_q, n_frames])");
        return false;
    }
    if (cols < 1 || cols > std::numeric_limits<int32_t>::max()) {
        err = o.codes + ": invalid number of frames " + std::to_string(cols);
        return false;
    }
    return true;
}

// Codes for decode: an .npz (one 1-D array per level, rows of their own lengths) or an .npy
// [n_q, n_frames]; either way checked against the model's n_q before any work.
bool read_codes(const Options & o, const codec_model * m, Codes & codes, std::string & err) {
    int64_t rows = 0, cols = 0;
    const int max_q = codec_model_n_q(m);
    if (npz_path(o.codes)) {
        std::vector<std::vector<int32_t>> levels;
        if (!npz_read_levels(o.codes, levels, err)) return false;
        rows = int64_t(levels.size());
        for (const auto & l : levels) cols = std::max<int64_t>(cols, int64_t(l.size()));
        if (rows <= max_q && cols >= 1) {
            codes.data.assign(levels.size() * size_t(cols), 0);
            for (size_t q = 0; q < levels.size(); ++q) {
                std::copy(levels[q].begin(), levels[q].end(), codes.data.begin() + std::ptrdiff_t(q * size_t(cols)));
                codes.row_len.push_back(int32_t(levels[q].size()));
            }
        }
    } else if (codec_model_multi_rate(m)) {
        err = std::string("this model's (") + codec_model_arch(m) + ") code levels have different lengths: "
              "give them as an .npz (one array per level: level_0, level_1, ...), not '" + o.codes + "'";
        return false;
    } else if (!npy_read_i32(o.codes, codes.data, rows, cols, err)) {
        return false;
    }
    if (!check_codes_shape(o, m, rows, cols, err)) return false;
    codes.n_q      = int32_t(rows);
    codes.n_frames = int32_t(cols);
    std::fprintf(stderr, "codes: %s: [%d, %d]\n", o.codes.c_str(), codes.n_q, codes.n_frames);
    return true;
}

// The per-chunk scales a model's codes need, from --scales or the file beside the codes.
bool read_scales(const Options & o, const codec_model * m, Codes & codes, std::string & err) {
    if (!codec_model_has_scales(m)) {
        if (!o.scales.empty()) err = "--scales given, but this model's codes have no per-chunk scales";
        return o.scales.empty();
    }
    const std::string sp = scales_path(o.codes, o.scales);
    int64_t rows = 0, cols = 0;
    if (!npy_read_f32(sp, codes.scales, rows, cols, err)) {
        err = "this model's codes carry per-chunk scales, written by encode beside the codes: " + err;
        return false;
    }
    if (rows != 1 && cols != 1) {
        err = sp + ": scales must be float32 [n_chunks, 1] (or 1-D), got [" + std::to_string(rows) + ", " +
              std::to_string(cols) + "]";
        return false;
    }
    std::fprintf(stderr, "scales: %s: %zu chunks\n", sp.c_str(), codes.scales.size());
    return true;
}

bool write_audio(const Options & o, const codec_audio & a, int64_t n_samples, std::string & err) {
    if (!audio_write(o.out, a.data, n_samples, a.n_channels, a.sample_rate, err, o.subtype)) return false;
    std::fprintf(stderr, "output: %s: %d Hz, %d ch, %.2f s\n", o.out.c_str(), a.sample_rate,
                 a.n_channels, double(n_samples) / a.sample_rate);
    return true;
}

// ---------------------------------------------------------------------------------------
// Stream path: the input is read, pushed and pulled a block at a time and the outputs are
// written as they come (codes through temporary files), so memory stays bounded by the block
// whatever the input's length. Models that do not stream in a direction take the one-shot path.

struct StreamFree {
    void operator()(codec_stream * s) const { codec_stream_free(s); }
};
using StreamPtr = std::unique_ptr<codec_stream, StreamFree>;

// --block-seconds in frames.
int32_t block_frames(const Options & o, const codec_model * m) {
    const double f = o.block_seconds * codec_model_sample_rate(m) / std::max(1, codec_model_hop_size(m));
    return int32_t(std::min<long long>(std::max<long long>(std::llround(f), 1), 1 << 20));
}

// A stream in direction dir, or null for the one-shot path (--one-shot, or the model does not
// stream that way: said on stderr).
StreamPtr open_stream(codec_context * ctx, const codec_model * m, const Options & o, codec_stream_direction dir, int n_q) {
    if (o.one_shot) return nullptr;
    if (codec_model_has_scales(m)) {  // the stream carries them, but these file paths do not yet
        std::fprintf(stderr, "note: the CLI does not stream codes with per-chunk scales yet: processing the whole input at once\n");
        return nullptr;
    }
    codec_stream_params p = codec_stream_default_params();
    p.direction    = dir;
    p.n_q          = n_q;
    p.block_frames = block_frames(o, m);
    if (o.approx[0] >= 0) {
        p.approximate         = true;
        p.approx_left_frames  = o.approx[0];
        p.approx_right_frames = o.approx[1];
        p.approx_fade_frames  = o.approx[2];
    }
    StreamPtr s(codec_stream_new(ctx, p));
    if (!s) {
        std::fprintf(stderr, "note: no %s stream (%s): processing the whole input at once\n",
                     dir == CODEC_STREAM_ENCODE ? "encode" : "decode", codec_context_last_error(ctx));
    }
    return s;
}

std::string stream_error(const codec_stream * s, codec_status st) {
    const char * m = codec_stream_last_error(s);
    return (m && *m) ? m : codec_status_str(st);
}

// Codes pulled from an encode stream, one anonymous temporary file per row (std::tmpfile: gone
// when closed), assembled into the .npy / .npz once their lengths are known.
class CodeSpool {
public:
    ~CodeSpool() {
        for (std::FILE * f : rows_) std::fclose(f);
    }
    bool append(const codec_codes & c, std::string & err) {
        if (rows_.empty()) {
            for (int32_t q = 0; q < c.n_q; ++q) {
                rows_.push_back(std::tmpfile());
                if (!rows_.back()) return io_error("cannot create a temporary file", err);
            }
            len_.assign(size_t(c.n_q), 0);
        }
        for (int32_t q = 0; q < c.n_q && q < int32_t(rows_.size()); ++q) {
            const size_t n = size_t(c.row_len ? c.row_len[q] : c.n_frames);
            if (std::fwrite(c.data + size_t(q) * size_t(c.n_frames), 4, n, rows_[size_t(q)]) != n) {
                return io_error("cannot write a temporary file", err);
            }
            len_[size_t(q)] += int64_t(n);
        }
        return true;
    }
    // The codes so far into path: .npz (one array per level) or .npy [n_q, n_frames].
    bool write(const std::string & path, std::string & err) {
        for (std::FILE * f : rows_) {
            if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0) return io_error("cannot read a temporary file", err);
        }
        auto read = [&](size_t q, int32_t * dst, size_t n, std::string & e) {
            return std::fread(dst, 4, n, rows_[q]) == n || io_error("cannot read a temporary file", e);
        };
        std::string shape;
        for (size_t q = 0; q < len_.size(); ++q) shape += (q ? ", " : "") + std::to_string(len_[q]);
        if (npz_path(path)) {
            if (!npz_write_levels_from(path, len_, read, err)) return false;
            std::fprintf(stderr, "codes: %zu levels [%s] -> %s\n", len_.size(), shape.c_str(), path.c_str());
            return true;
        }
        const int64_t cols = len_.empty() ? 0 : len_[0];
        if (std::any_of(len_.begin(), len_.end(), [&](int64_t l) { return l != cols; })) {
            err = "code levels have different lengths: write them to an .npz (one array per level), not '" + path + "'";
            return false;
        }
        size_t q = 0;
        int64_t left = cols;  // values of row q still to read
        auto source = [&](int32_t * dst, size_t n, std::string & e) {
            while (n > 0) {  // a piece may span rows
                while (left == 0) left = cols, ++q;
                const size_t k = std::min(n, size_t(left));
                if (!read(q, dst, k, e)) return false;
                dst += k, n -= k, left -= int64_t(k);
            }
            return true;
        };
        if (!npy_write_i32_from(path, int64_t(len_.size()), cols, source, err)) return false;
        std::fprintf(stderr, "codes: [%zu, %" PRId64 "] -> %s\n", len_.size(), cols, path.c_str());
        return true;
    }

private:
    std::vector<std::FILE *> rows_;
    std::vector<int64_t>     len_;
    static bool io_error(const char * what, std::string & err) {
        err = std::string(what) + ": " + std::strerror(errno);
        return false;
    }
};

// Writes decoded PCM as it comes, at most `limit` frames in all (roundtrip: the input's length).
bool write_pcm(codec_stream * dec, AudioWriter & w, int64_t limit, std::string & err) {
    codec_audio a = {};
    if (const codec_status st = codec_stream_pull_pcm(dec, &a); st != CODEC_OK) {
        err = stream_error(dec, st);
        return false;
    }
    const int64_t n = std::min<int64_t>(a.n_samples, std::max<int64_t>(0, limit - w.frames()));
    return w.write(a.data, n, err);
}

bool close_audio(const Options & o, AudioWriter & w, const codec_model * m, std::string & err) {
    if (!w.close(err)) return false;
    std::fprintf(stderr, "output: %s: %d Hz, %d ch, %.2f s\n", o.out.c_str(), codec_model_sample_rate(m),
                 codec_model_channels(m), double(w.frames()) / codec_model_sample_rate(m));
    return true;
}

// Latents pulled from an encode stream (continuous models), kept by row: a few KB per second.
class LatentRows {
public:
    explicit LatentRows(int32_t dim) : rows_(static_cast<size_t>(dim)) {}
    void append(const codec_latent & z) {
        for (size_t d = 0; d < rows_.size(); ++d) {
            rows_[d].insert(rows_[d].end(), z.data + d * size_t(z.n_frames), z.data + (d + 1) * size_t(z.n_frames));
        }
    }
    bool write(const std::string & path, std::string & err) const;

private:
    std::vector<std::vector<float>> rows_;
};

// encode (dec null) or roundtrip: audio in blocks -> encode stream -> codes (spooled for
// out_path; continuous models: latents) -> decode stream -> audio out, trimmed to the input's length.
int stream_encode(const Options & o, const codec_model * m, codec_stream * enc, codec_stream * dec,
                  const std::string & out_path) {
    std::string err;
    const int rate = codec_model_encode_sample_rate(m), ch = codec_model_channels(m);
    const int64_t block = int64_t(block_frames(o, m)) * codec_model_encode_hop_size(m);
    AudioReader in;
    AudioInfo src;
    if (!in.open(o.in, rate, ch, err, &src, block)) return fail(err);
    std::fprintf(stderr, "input: %s: %d Hz, %d ch", o.in.c_str(), src.sample_rate, src.channels);
    if (src.sample_rate != rate || src.channels != ch) std::fprintf(stderr, " -> %d Hz, %d ch", rate, ch);
    std::fprintf(stderr, " (streamed in blocks of %" PRId64 " samples)\n", block);
    AudioWriter out;
    const int64_t hint = src.n_frames > 0 ? output_samples(m, int64_t(double(src.n_frames) * rate / src.sample_rate)) : 0;
    if (dec && !out.open(o.out, ch, codec_model_sample_rate(m), o.subtype, hint, err)) return fail(err);
    CodeSpool spool;
    LatentRows latents(codec_model_latent_dim(m));
    const bool latent = codec_model_continuous(m);
    // Moves what the encoder made on: kept for out_path, and through the decoder to the output.
    auto drain = [&]() {
        if (latent) {
            codec_latent z = {};
            if (const codec_status st = codec_stream_pull_latent(enc, &z); st != CODEC_OK) {
                err = stream_error(enc, st);
                return false;
            }
            if (z.n_frames == 0) return true;
            latents.append(z);
            if (!dec) return true;
            if (const codec_status st = codec_stream_push_latent(dec, z.data, z.latent_dim, z.n_frames); st != CODEC_OK) {
                err = stream_error(dec, st);
                return false;
            }
            return write_pcm(dec, out, output_samples(m, in.frames_out()), err);
        }
        codec_codes c = {};
        if (const codec_status st = codec_stream_pull_codes(enc, &c); st != CODEC_OK) {
            err = stream_error(enc, st);
            return false;
        }
        if (c.n_frames == 0) return true;
        if (!out_path.empty() && !spool.append(c, err)) return false;
        if (!dec) return true;
        if (const codec_status st = codec_stream_push_codes(dec, &c); st != CODEC_OK) {
            err = stream_error(dec, st);
            return false;
        }
        return write_pcm(dec, out, output_samples(m, in.frames_out()), err);
    };
    const auto t0 = Clock::now();
    double t_read = 0;
    std::vector<float> pcm;
    while (!in.done()) {
        const auto tr = Clock::now();
        if (!in.read(pcm, err)) return fail(err);
        t_read += seconds_since(tr);
        if (const codec_status st = codec_stream_push_pcm(enc, pcm.data(), int64_t(pcm.size()) / ch); st != CODEC_OK) {
            return fail(stream_error(enc, st));
        }
        if (!drain()) return fail(err);
    }
    if (const codec_status st = codec_stream_flush(enc); st != CODEC_OK) return fail(stream_error(enc, st));
    if (!drain()) return fail(err);
    if (dec) {
        if (const codec_status st = codec_stream_flush(dec); st != CODEC_OK) return fail(stream_error(dec, st));
        if (!write_pcm(dec, out, output_samples(m, in.frames_out()), err)) return fail(err);
    }
    std::fprintf(stderr, "read: %.3f s (%" PRId64 " frames at %d Hz)\n", t_read, in.frames_in(), src.sample_rate);
    print_timing(dec ? "roundtrip (stream)" : "encode (stream)", seconds_since(t0) - t_read, double(in.frames_out()) / rate);
    if (dec && !close_audio(o, out, m, err)) return fail(err);
    if (!out_path.empty() && !(latent ? latents.write(out_path, err) : spool.write(out_path, err))) return fail(err);
    return kExitOk;
}

// Codes for a decode stream, a block of frames at a time: an .npy read by columns, or an .npz
// (SNAC levels, a few KB a minute: read whole) cut into blocks level by level in proportion to
// the levels' lengths.
class CodeSource {
public:
    bool open(const Options & o, const codec_model * m, std::string & err) {
        if (npz_path(o.codes)) {
            if (!npz_read_levels(o.codes, levels_, err)) return false;
            rows_ = int64_t(levels_.size());
            for (const auto & l : levels_) cols_ = std::max<int64_t>(cols_, int64_t(l.size()));
        } else if (codec_model_multi_rate(m)) {
            Codes unused;
            return read_codes(o, m, unused, err);  // its message for a multi-rate model given an .npy
        } else {
            if (!npy_.open(o.codes, err)) return false;
            rows_ = npy_.rows();
            cols_ = npy_.cols();
        }
        if (!check_codes_shape(o, m, rows_, cols_, err)) return false;
        std::fprintf(stderr, "codes: %s: [%" PRId64 ", %" PRId64 "]\n", o.codes.c_str(), rows_, cols_);
        return true;
    }
    int64_t rows() const { return rows_; }
    int64_t cols() const { return cols_; }
    // Frames [t, t + n) (of the longest row) as c, valid until the next call.
    bool read(int64_t t, int64_t n, codec_codes & c, std::string & err) {
        c = codec_codes{};
        c.n_q = int32_t(rows_);
        if (levels_.empty()) {
            if (!npy_.read(t, n, buf_, err)) return false;
            c.n_frames = int32_t(n);
            c.data = buf_.data();
            return true;
        }
        // Level q's part: codes [t * len_q / cols, (t + n) * len_q / cols).
        auto at = [&](size_t q, int64_t f) { return f >= cols_ ? int64_t(levels_[q].size()) : f * int64_t(levels_[q].size()) / cols_; };
        len_.assign(size_t(rows_), 0);
        for (size_t q = 0; q < levels_.size(); ++q) len_[q] = int32_t(at(q, t + n) - at(q, t));
        c.n_frames = *std::max_element(len_.begin(), len_.end());
        buf_.assign(size_t(rows_) * size_t(c.n_frames), 0);
        for (size_t q = 0; q < levels_.size(); ++q) {
            std::copy_n(levels_[q].begin() + std::ptrdiff_t(at(q, t)), len_[q], buf_.begin() + std::ptrdiff_t(q * size_t(c.n_frames)));
        }
        c.data = buf_.data();
        c.row_len = len_.data();
        return true;
    }

private:
    NpyColumnReader npy_;
    std::vector<std::vector<int32_t>> levels_;
    int64_t rows_ = 0, cols_ = 0;
    std::vector<int32_t> buf_, len_;
};

int stream_decode(const Options & o, const codec_model * m, CodeSource & codes, codec_stream * dec) {
    std::string err;
    AudioWriter out;
    const int64_t hop = codec_model_hop_size(m), block = block_frames(o, m);
    if (!out.open(o.out, codec_model_channels(m), codec_model_sample_rate(m), o.subtype, codes.cols() * hop, err)) return fail(err);
    const auto t0 = Clock::now();
    codec_codes c = {};
    for (int64_t t = 0; t < codes.cols(); t += block) {
        if (!codes.read(t, std::min(block, codes.cols() - t), c, err)) return fail(err);
        if (const codec_status st = codec_stream_push_codes(dec, &c); st != CODEC_OK) return fail(stream_error(dec, st));
        if (!write_pcm(dec, out, std::numeric_limits<int64_t>::max(), err)) return fail(err);
    }
    if (const codec_status st = codec_stream_flush(dec); st != CODEC_OK) return fail(stream_error(dec, st));
    if (!write_pcm(dec, out, std::numeric_limits<int64_t>::max(), err)) return fail(err);
    print_timing("decode (stream)", seconds_since(t0), double(out.frames()) / codec_model_sample_rate(m));
    return close_audio(o, out, m, err) ? kExitOk : fail(err);
}

// ---------------------------------------------------------------------------------------
// Continuous models (codec_model_continuous: Pocket TTS's Mimi, Soprano): latents, float32
// [latent_dim, n_frames] in an .npy, where other models have codes; processed in one call (the
// library streams latents, this CLI does not yet).

bool write_latent(const std::string & path, const std::vector<float> & lat, int32_t dim, int32_t frames, std::string & err) {
    if (!npy_write_f32(path, lat.data(), dim, frames, err)) return false;
    std::fprintf(stderr, "latent: [%d, %d] -> %s\n", dim, frames, path.c_str());
    return true;
}

// The decoder's latent input: float32 [latent_dim, n_frames] from --codes (read whole: a few KB per second).
bool read_latent_input(const Options & o, const codec_model * m, std::vector<float> & lat, int32_t & frames, std::string & err) {
    const int32_t dim = codec_model_latent_dim(m);
    int64_t rows = 0, cols = 0;
    if (!npy_read_f32(o.codes, lat, rows, cols, err)) {
        err = std::string("this model (") + codec_model_arch(m) + ") decodes a float32 latent [" + std::to_string(dim) + ", n_frames]: " + err;
        return false;
    }
    if (rows != dim || cols < 1 || cols > std::numeric_limits<int32_t>::max()) {
        err = o.codes + ": shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "], but this model's latent is [" +
              std::to_string(dim) + ", n_frames >= 1]";
        return false;
    }
    frames = int32_t(cols);
    std::fprintf(stderr, "latent: %s: [%d, %d]\n", o.codes.c_str(), dim, frames);
    return true;
}

// Latent frames [t, t + n) of lat [dim][frames] row-major, as a [dim][n] block.
std::vector<float> latent_columns(const std::vector<float> & lat, int32_t dim, int64_t frames, int64_t t, int64_t n) {
    std::vector<float> block(size_t(dim) * size_t(n));
    for (int32_t d = 0; d < dim; ++d) {
        std::copy_n(lat.begin() + std::ptrdiff_t(d * frames + t), n, block.begin() + std::ptrdiff_t(d * n));
    }
    return block;
}

bool LatentRows::write(const std::string & path, std::string & err) const {
    std::vector<float> lat;
    for (const auto & r : rows_) lat.insert(lat.end(), r.begin(), r.end());
    return write_latent(path, lat, int32_t(rows_.size()), rows_.empty() ? 0 : int32_t(rows_[0].size()), err);
}

// decode of a continuous model: the latent (read whole) in blocks -> decode stream -> audio out as it comes.
int stream_decode_latent(const Options & o, const codec_model * m, const std::vector<float> & lat, codec_stream * dec) {
    std::string err;
    const int32_t dim = codec_model_latent_dim(m);
    const int64_t total = int64_t(lat.size()) / dim, block = block_frames(o, m);
    AudioWriter out;
    if (!out.open(o.out, codec_model_channels(m), codec_model_sample_rate(m), o.subtype, total * codec_model_hop_size(m), err)) {
        return fail(err);
    }
    const auto t0 = Clock::now();
    for (int64_t t = 0; t < total; t += block) {
        const int64_t n = std::min(block, total - t);
        const std::vector<float> z = latent_columns(lat, dim, total, t, n);
        if (const codec_status st = codec_stream_push_latent(dec, z.data(), dim, int32_t(n)); st != CODEC_OK) {
            return fail(stream_error(dec, st));
        }
        if (!write_pcm(dec, out, std::numeric_limits<int64_t>::max(), err)) return fail(err);
    }
    if (const codec_status st = codec_stream_flush(dec); st != CODEC_OK) return fail(stream_error(dec, st));
    if (!write_pcm(dec, out, std::numeric_limits<int64_t>::max(), err)) return fail(err);
    print_timing("decode (stream)", seconds_since(t0), double(out.frames()) / codec_model_sample_rate(m));
    return close_audio(o, out, m, err) ? kExitOk : fail(err);
}

// encode (decode false), decode (encode false) or roundtrip (both) of a continuous model.
int run_latent(const Options & o, const codec_model * m, codec_context * ctx, bool encode, bool decode) {
    std::string err;
    const char * arch = codec_model_arch(m);
    const int32_t dim = codec_model_latent_dim(m);
    if (o.n_q > 0 || o.bandwidth > 0) {
        return fail(std::string("this model (") + arch + ") has continuous latents, no codebooks: --n-q and --bandwidth do not apply");
    }
    if (!o.scales.empty()) return fail("--scales given, but this model has continuous latents, no codes with scales");
    const std::string lat_out = encode && !decode ? o.out : o.codes_out;
    if (!lat_out.empty() && npz_path(lat_out)) {
        return fail(std::string("this model's (") + arch + ") latent is one float32 array: write it to an .npy, not '" + lat_out + "'");
    }
    std::vector<float> lat;
    int32_t frames = 0;
    int64_t n_in = 0;
    if (!encode && !read_latent_input(o, m, lat, frames, err)) return fail(err);
    StreamPtr enc = encode ? open_stream(ctx, m, o, CODEC_STREAM_ENCODE, CODEC_N_Q_ALL) : nullptr;
    StreamPtr dec = decode && (enc || !encode) ? open_stream(ctx, m, o, CODEC_STREAM_DECODE, CODEC_N_Q_ALL) : nullptr;
    if (enc && (dec || !decode)) return stream_encode(o, m, enc.get(), dec.get(), lat_out);
    if (!encode && dec) return stream_decode_latent(o, m, lat, dec.get());
    if (encode) {
        std::vector<float> pcm;
        if (!read_input(o, m, pcm, n_in, err)) return fail(err);
        codec_latent z = {};
        const auto t0 = Clock::now();
        if (const codec_status st = codec_encode_latent(ctx, pcm.data(), n_in, &z); st != CODEC_OK) return fail(lib_error(ctx, st));
        print_timing("encode", seconds_since(t0), double(n_in) / codec_model_encode_sample_rate(m));
        lat.assign(z.data, z.data + size_t(z.latent_dim) * size_t(z.n_frames));
        frames = z.n_frames;
        if (!lat_out.empty() && !write_latent(lat_out, lat, dim, frames, err)) return fail(err);
    }
    if (!decode) return kExitOk;
    codec_audio audio = {};
    const auto t0 = Clock::now();
    if (const codec_status st = codec_decode_latent(ctx, lat.data(), dim, frames, &audio); st != CODEC_OK) return fail(lib_error(ctx, st));
    print_timing("decode", seconds_since(t0), double(audio.n_samples) / std::max(1, audio.sample_rate));
    // roundtrip: trimmed to the input's length (the encoder pads to whole frames)
    const int64_t n_out = encode ? std::min<int64_t>(audio.n_samples, output_samples(m, n_in)) : audio.n_samples;
    return write_audio(o, audio, n_out, err) ? kExitOk : fail(err);
}

// ---------------------------------------------------------------------------------------
// Commands

int cmd_info(const Options & o) {
    std::string err;
    ModelPtr m = load_model(o, err);
    if (!m) return fail(err);
    const codec_model * mm = m.get();
    const int rate = codec_model_sample_rate(mm), hop = codec_model_hop_size(mm);
    const int n_q = codec_model_n_q(mm), cb = codec_model_codebook_size(mm);
    std::printf("model:          %s\n", o.model.c_str());
    std::printf("arch:           %s\n", codec_model_arch(mm));
    std::printf("sample_rate:    %d\n", rate);
    std::printf("hop_size:       %d\n", hop);
    if (codec_model_encode_sample_rate(mm) != rate) {  // the encoder takes another rate (NeuCodec)
        std::printf("encode_rate:    %d\n", codec_model_encode_sample_rate(mm));
        std::printf("encode_hop:     %d\n", codec_model_encode_hop_size(mm));
    }
    std::printf("n_q:            %d\n", n_q);
    std::printf("codebook_size:  %d\n", cb);
    std::printf("codebook_dim:   %d\n", codec_model_codebook_dim(mm));
    std::printf("latent_dim:     %d\n", codec_model_latent_dim(mm));
    std::printf("channels:       %d\n", codec_model_channels(mm));
    std::printf("encoder:        %s\n", codec_model_has_encoder(mm) ? "yes" : "no");
    std::printf("decoder:        %s\n", codec_model_has_decoder(mm) ? "yes" : "no");
    if (codec_model_continuous(mm)) std::printf("latents:        continuous (no codebook)\n");
    if (hop > 0 && rate > 0) {
        const double frame_rate = double(rate) / hop;
        std::printf("frame_rate:     %.3f Hz\n", frame_rate);
        if (cb > 0 && n_q > 0) {
            const double bits = n_q * std::log2(double(cb));
            std::printf("bits_per_frame: %.4g\n", bits);
            std::printf("bitrate:        %.3f kbps (n_q=%d)\n", bits * frame_rate / 1000.0, n_q);
        }
    }
    std::printf("backend:        %s\n", codec_model_uses_gpu(mm) ? "gpu" : "cpu");
    return std::fflush(stdout) == 0 ? kExitOk : fail("cannot write to stdout");
}

int cmd_encode(const Options & o) {
    if (batch_mode(o)) return batch_run(o, true, false);
    std::string err;
    ModelPtr m = load_model(o, err);
    if (!m) return fail(err);
    if (!check_capability(m.get(), true, false, err)) return fail(err);
    if (codec_model_continuous(m.get())) {
        ContextPtr ctx = new_context(m.get(), err);
        return ctx ? run_latent(o, m.get(), ctx.get(), true, false) : fail(err);
    }
    if (!check_n_q(o, m.get(), err) || !check_codes_path(m.get(), o.out, err)) return fail(err);
    ContextPtr ctx = new_context(m.get(), err);
    if (!ctx) return fail(err);
    if (StreamPtr enc = open_stream(ctx.get(), m.get(), o, CODEC_STREAM_ENCODE, n_q_or_all(o, m.get()))) {
        return stream_encode(o, m.get(), enc.get(), nullptr, o.out);
    }
    std::vector<float> pcm;
    int64_t n_frames = 0;
    if (!read_input(o, m.get(), pcm, n_frames, err)) return fail(err);
    Codes codes;
    const double secs = double(n_frames) / codec_model_encode_sample_rate(m.get());
    if (!run_encode(ctx.get(), pcm, n_frames, n_q_or_all(o, m.get()), secs, codes, err)) return fail(err);
    if (!write_codes(o.out, codes, err, o.scales)) return fail(err);
    return kExitOk;
}

int cmd_decode(const Options & o) {
    if (batch_mode(o)) return batch_run(o, false, true);
    std::string err;
    ModelPtr m = load_model(o, err);
    if (!m) return fail(err);
    if (!check_capability(m.get(), false, true, err)) return fail(err);
    ContextPtr ctx = new_context(m.get(), err);
    if (!ctx) return fail(err);
    if (codec_model_continuous(m.get())) return run_latent(o, m.get(), ctx.get(), false, true);
    if (!o.one_shot && !codec_model_has_scales(m.get())) {
        CodeSource src;
        if (!src.open(o, m.get(), err)) return fail(err);
        if (!o.scales.empty()) return fail("--scales given, but this model's codes have no per-chunk scales");
        if (StreamPtr dec = open_stream(ctx.get(), m.get(), o, CODEC_STREAM_DECODE, int(src.rows()))) {
            return stream_decode(o, m.get(), src, dec.get());
        }
    }
    Codes codes;
    if (!read_codes(o, m.get(), codes, err)) return fail(err);
    if (!read_scales(o, m.get(), codes, err)) return fail(err);
    codec_audio audio = {};
    if (!run_decode(ctx.get(), codes, audio, err)) return fail(err);
    if (!write_audio(o, audio, audio.n_samples, err)) return fail(err);
    return kExitOk;
}

int cmd_roundtrip(const Options & o) {
    if (batch_mode(o)) return batch_run(o, true, true);
    std::string err;
    ModelPtr m = load_model(o, err);
    if (!m) return fail(err);
    if (!check_capability(m.get(), true, true, err)) return fail(err);
    if (codec_model_continuous(m.get())) {
        ContextPtr ctx = new_context(m.get(), err);
        return ctx ? run_latent(o, m.get(), ctx.get(), true, true) : fail(err);
    }
    if (!check_n_q(o, m.get(), err) || !check_codes_path(m.get(), o.codes_out, err)) return fail(err);
    ContextPtr ctx = new_context(m.get(), err);
    if (!ctx) return fail(err);
    if (StreamPtr enc = open_stream(ctx.get(), m.get(), o, CODEC_STREAM_ENCODE, n_q_or_all(o, m.get()))) {
        if (StreamPtr dec = open_stream(ctx.get(), m.get(), o, CODEC_STREAM_DECODE, n_q_or_all(o, m.get()))) {
            return stream_encode(o, m.get(), enc.get(), dec.get(), o.codes_out);
        }
    }
    std::vector<float> pcm;
    int64_t n_frames = 0;
    if (!read_input(o, m.get(), pcm, n_frames, err)) return fail(err);
    Codes codes;
    const double secs = double(n_frames) / codec_model_encode_sample_rate(m.get());
    if (!run_encode(ctx.get(), pcm, n_frames, n_q_or_all(o, m.get()), secs, codes, err)) return fail(err);
    if (!o.codes_out.empty() && !write_codes(o.codes_out, codes, err)) return fail(err);
    codec_audio audio = {};
    if (!run_decode(ctx.get(), codes, audio, err)) return fail(err);
    // The encoder pads the input to whole frames; trim so the output aligns with the input.
    const int64_t n_out = std::min<int64_t>(audio.n_samples, output_samples(m.get(), n_frames));
    if (!write_audio(o, audio, n_out, err)) return fail(err);
    return kExitOk;
}

// Catches bad --out / --codes-out choices before loading a model or computing anything.
bool check_outputs(const Command & c, const Options & o, std::string & err) {
    if ((c.allowed & F_OUT_DIR) && !batch_check_usage(o, c.allowed & F_SUBTYPE, err)) return false;
    if ((c.allowed & F_SUBTYPE) && !o.out.empty() && !audio_check_output(o.out, o.subtype, err)) {
        return false;
    }
    return true;
}

int run(int argc, char ** argv) {
    if (argc < 2) {
        print_main_usage(stderr);
        return kExitUsage;
    }
    const std::string name = argv[1];
    if (name == "-h" || name == "--help" || name == "help") {
        print_main_usage(stdout);
        return kExitOk;
    }
    const Command * cmd = nullptr;
    for (const Command & c : kCommands) {
        if (name == c.name) cmd = &c;
    }
    if (!cmd) {
        std::fprintf(stderr, "codec-cli: unknown command '%s'\n\n", name.c_str());
        print_main_usage(stderr);
        return kExitUsage;
    }
    Options o;
    std::string err;
    switch (parse_args(argc, argv, 2, *cmd, o, err)) {
        case ParseResult::Help:
            print_command_usage(stdout, *cmd);
            return kExitOk;
        case ParseResult::Error:
            std::fprintf(stderr, "codec-cli %s: %s\n\n", cmd->name, err.c_str());
            print_command_usage(stderr, *cmd);
            return kExitUsage;
        case ParseResult::Ok: break;
    }
    if (!check_outputs(*cmd, o, err)) {
        std::fprintf(stderr, "codec-cli %s: %s\n\n", cmd->name, err.c_str());
        print_command_usage(stderr, *cmd);
        return kExitUsage;
    }
    return cmd->run(o);
}

}  // namespace cli

int main(int argc, char ** argv) {
    try {
        return cli::run(argc, argv);
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "error: out of memory\n");
    } catch (const std::exception & e) {
        std::fprintf(stderr, "error: %s\n", e.what());
    }
    return cli::kExitError;
}
