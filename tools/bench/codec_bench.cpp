// codec-bench: measures one model's encode and decode on one input.
//   codec-bench --model M [--in AUDIO | --seconds S] [--threads N] [--reps R] [--warmup W]
//               [--n-q N] [--mode encode|decode|both] [--gpu] [--json]
// Phases per call come from codec_context_perf (graph build, buffer placement, compute,
// upload); load time and peak RSS are the process's. Decode runs on the codes encode made.
#include "audio_io.h"
#include "codec.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct options {
    std::string model, in, mode = "both";
    double seconds = 10.0;
    int threads = 2, reps = 3, warmup = 1, n_q = CODEC_N_Q_ALL;
    bool gpu = false, json = false;
};

struct phase_stats {
    std::vector<double> total, build, alloc, compute, io;
    codec_perf last = {};
};

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// This process image's peak RSS. Linux's ru_maxrss survives exec, so a benchmark started from a
// large parent (a Python harness holding PyTorch) would report the parent's peak; /proc's VmHWM
// belongs to the current address space only.
double peak_rss_mb() {
    if (FILE * f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        long kb = -1;
        while (std::fgets(line, sizeof line, f)) {
            if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
        }
        std::fclose(f);
        if (kb >= 0) return kb / 1024.0;
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;  // Linux reports KiB
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double vmin(const std::vector<double> & v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

int usage(const char * msg) {
    if (msg) std::fprintf(stderr, "codec-bench: %s\n\n", msg);
    std::fprintf(stderr,
                 "usage: codec-bench --model M [--in AUDIO | --seconds S] [--threads N] [--reps R]\n"
                 "                   [--warmup W] [--n-q N] [--mode encode|decode|both] [--gpu] [--json]\n");
    return 2;
}

bool parse_int(const char * s, int & out) {
    char * end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (!*s || *end || v < -1 || v > 1 << 20) return false;
    out = (int) v;
    return true;
}

void record(phase_stats & st, double total, const codec_perf & p) {
    st.total.push_back(total);
    st.build.push_back(p.build_ms);
    st.alloc.push_back(p.alloc_ms);
    st.compute.push_back(p.compute_ms);
    st.io.push_back(p.io_ms);
    st.last = p;
}

void print_phase(const char * name, const phase_stats & st, double audio_s, bool json, bool last) {
    const double med = median(st.total);
    const double gflops = st.last.gflop / (median(st.compute) * 1e-3);
    if (json) {
        std::printf("  \"%s\": {\"min_ms\": %.3f, \"median_ms\": %.3f, \"rtf\": %.5f, \"build_ms\": %.3f, "
                    "\"alloc_ms\": %.3f, \"compute_ms\": %.3f, \"io_ms\": %.3f, \"gflop\": %.3f, \"gflops\": %.2f, "
                    "\"n_nodes\": %d, \"compute_buffer_mb\": %.1f}%s\n",
                    name, vmin(st.total), med, med * 1e-3 / audio_s, median(st.build), median(st.alloc),
                    median(st.compute), median(st.io), st.last.gflop, gflops, st.last.n_nodes,
                    st.last.compute_buffer / 1048576.0, last ? "" : ",");
    } else {
        std::printf("%-7s min %9.1f ms  median %9.1f ms  RTF %.4f  | build %.1f  alloc %.1f  compute %.1f  io %.1f ms"
                    "  | %.1f GFLOP, %.1f GFLOP/s, %d nodes, buffer %.0f MB\n",
                    name, vmin(st.total), med, med * 1e-3 / audio_s, median(st.build), median(st.alloc),
                    median(st.compute), median(st.io), st.last.gflop, gflops, st.last.n_nodes,
                    st.last.compute_buffer / 1048576.0);
    }
}

}  // namespace

int main(int argc, char ** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
        const char * v = nullptr;
        if (a == "--gpu") o.gpu = true;
        else if (a == "--json") o.json = true;
        else if (a == "-h" || a == "--help") return usage(nullptr);
        else if (!(v = next())) return usage(("missing value for " + a).c_str());
        else if (a == "--model") o.model = v;
        else if (a == "--in") o.in = v;
        else if (a == "--mode") o.mode = v;
        else if (a == "--seconds") { o.seconds = std::atof(v); if (!(o.seconds > 0 && o.seconds < 3600)) return usage("bad --seconds"); }
        else if (a == "--threads") { if (!parse_int(v, o.threads) || o.threads < 1) return usage("bad --threads"); }
        else if (a == "--reps") { if (!parse_int(v, o.reps) || o.reps < 1) return usage("bad --reps"); }
        else if (a == "--warmup") { if (!parse_int(v, o.warmup) || o.warmup < 0) return usage("bad --warmup"); }
        else if (a == "--n-q") { if (!parse_int(v, o.n_q) || o.n_q == 0) return usage("bad --n-q"); }
        else return usage(("unknown option " + a).c_str());
    }
    if (o.model.empty()) return usage("--model is required");
    if (o.mode != "encode" && o.mode != "decode" && o.mode != "both") return usage("bad --mode");

    codec_model_params mp = codec_model_default_params();
    mp.n_threads = o.threads;
    mp.use_gpu = o.gpu;
    char err[1024];
    codec_status st;
    const double t_load = now_ms();
    codec_model * model = codec_model_load(o.model.c_str(), mp, &st, err, sizeof(err));
    const double load_ms = now_ms() - t_load;
    if (!model) { std::fprintf(stderr, "error: %s\n", err); return 1; }
    const int sr = codec_model_sample_rate(model), ch = codec_model_channels(model);

    std::vector<float> pcm;
    int64_t n = 0;
    if (!o.in.empty()) {
        std::string e;
        if (!audio_read(o.in, sr, ch, pcm, n, e)) { std::fprintf(stderr, "error: %s\n", e.c_str()); return 1; }
    } else {  // deterministic noise: content does not change the work a codec does
        n = (int64_t) std::llround(o.seconds * sr);
        pcm.resize((size_t) (n * ch));
        std::mt19937 rng(1234);
        std::normal_distribution<float> dist(0.0f, 0.1f);
        for (float & x : pcm) x = dist(rng);
    }
    const double audio_s = (double) n / sr;

    codec_context_params cp = codec_context_default_params();
    cp.n_threads = o.threads;
    codec_context * ctx = codec_context_new(model, cp);
    if (!ctx) { std::fprintf(stderr, "error: cannot create a context\n"); return 1; }

    phase_stats enc, dec;
    codec_codes codes{};
    std::vector<int32_t> code_copy;
    int ret = 0;
    // Encode always runs once (decode needs its codes); its timings count only in encode mode.
    for (int r = 0; r < o.warmup + o.reps && ret == 0; ++r) {
        const double t0 = now_ms();
        if (codec_encode(ctx, pcm.data(), n, o.n_q, &codes) != CODEC_OK) {
            std::fprintf(stderr, "error: %s\n", codec_context_last_error(ctx));
            ret = 1;
            break;
        }
        codec_perf p;
        codec_context_perf(ctx, &p);
        if (r >= o.warmup) record(enc, now_ms() - t0, p);
        if (o.mode == "decode") break;
    }
    codec_codes saved = codes;
    if (ret == 0) {
        code_copy.assign(codes.data, codes.data + (size_t) codes.n_q * codes.n_frames);
        std::vector<int32_t> row_len;
        if (codes.row_len) row_len.assign(codes.row_len, codes.row_len + codes.n_q);
        std::vector<float> scales;
        if (codes.scales) scales.assign(codes.scales, codes.scales + codes.n_scales);
        saved.data = code_copy.data();
        saved.row_len = codes.row_len ? row_len.data() : nullptr;
        saved.scales = codes.scales ? scales.data() : nullptr;
        for (int r = 0; o.mode != "encode" && r < o.warmup + o.reps; ++r) {
            codec_audio audio{};
            const double t0 = now_ms();
            if (codec_decode_codes(ctx, &saved, &audio) != CODEC_OK) {
                std::fprintf(stderr, "error: %s\n", codec_context_last_error(ctx));
                ret = 1;
                break;
            }
            codec_perf p;
            codec_context_perf(ctx, &p);
            if (r >= o.warmup) record(dec, now_ms() - t0, p);
        }
    }
    if (ret == 0) {
        const bool do_enc = o.mode != "decode", do_dec = o.mode != "encode";
        if (o.json) {
            std::printf("{\n  \"model\": \"%s\", \"arch\": \"%s\", \"audio_s\": %.3f, \"threads\": %d, \"reps\": %d,"
                        " \"n_q\": %d, \"load_ms\": %.3f, \"peak_rss_mb\": %.1f%s\n",
                        o.model.c_str(), codec_model_arch(model), audio_s, o.threads, o.reps, saved.n_q, load_ms,
                        peak_rss_mb(), (do_enc || do_dec) ? "," : "");
            if (do_enc) print_phase("encode", enc, audio_s, true, !do_dec);
            if (do_dec) print_phase("decode", dec, audio_s, true, true);
            std::printf("}\n");
        } else {
            std::printf("%s (%s): %.2f s of audio at %d Hz, %d threads, %d reps, n_q %d, load %.1f ms\n",
                        o.model.c_str(), codec_model_arch(model), audio_s, sr, o.threads, o.reps, saved.n_q, load_ms);
            if (do_enc) print_phase("encode", enc, audio_s, false, false);
            if (do_dec) print_phase("decode", dec, audio_s, false, false);
            std::printf("peak RSS %.1f MB\n", peak_rss_mb());
        }
    }
    codec_context_free(ctx);
    codec_model_free(model);
    return ret;
}
