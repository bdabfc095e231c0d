// codec-bench: measures one model's encode and decode on one input.
//   codec-bench --model M [--in AUDIO | --seconds S] [--threads N] [--reps R] [--warmup W]
//               [--n-q N] [--mode encode|decode|both] [--gpu] [--json]
//               [--stream [--block-frames N] [--long-seconds S2]]
// Phases per call come from codec_context_perf (graph build, buffer placement, compute,
// upload); load time and peak RSS are the process's. Decode runs on the codes encode made; a
// decoder-only model (Soprano) decodes random latents, a frame per hop of the input.
// --stream measures the stream API instead: per-push latency (push + pull) and real-time factor
// for pushes of 1, 4 and 16 frames (blocks of the push's size unless --block-frames), the
// latency to the first output, and the peak RSS of streaming S and S2 seconds end to end
// (encode -> decode, input generated block by block).
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
    bool stream = false;
    int block_frames = 0;        // stream blocks (0: the push's size)
    double long_seconds = 60.0;  // the second length of the stream RSS measurement
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
                 "                   [--warmup W] [--n-q N] [--mode encode|decode|both] [--gpu] [--json]\n"
                 "                   [--stream [--block-frames N] [--long-seconds S2]]\n");
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


// ---- --stream

struct push_stats {
    std::vector<double> ms;       // per push (push + pull)
    double first_ms = -1;         // first push start -> first non-empty pull
    int64_t first_samples = -1;   // input samples (encode) or frames (decode) pushed by then
    double audio_s = 0;
    codec_stream_info info = {};
};

// Resets this process's peak RSS (Linux: clear_refs "5"); false if the kernel refuses.
bool reset_peak_rss() {
    FILE * f = std::fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    const bool ok = std::fputs("5", f) >= 0;
    return std::fclose(f) == 0 && ok;
}

codec_stream * new_stream(codec_context * ctx, codec_stream_direction dir, int n_q, int block) {
    codec_stream_params p = codec_stream_default_params();
    p.direction = dir;
    p.n_q = n_q;
    p.block_frames = block;
    codec_stream * s = codec_stream_new(ctx, p);
    if (!s) std::fprintf(stderr, "error: %s\n", codec_context_last_error(ctx));
    return s;
}

// Codes frames [t, t + n) of the longest row; multi-rate rows cut in proportion to their lengths.
codec_codes code_slice(const codec_codes & c, int64_t t, int64_t n, std::vector<int32_t> & buf, std::vector<int32_t> & len) {
    auto at = [&](int q, int64_t f) { const int64_t l = c.row_len ? c.row_len[q] : c.n_frames; return f >= c.n_frames ? l : f * l / c.n_frames; };
    len.resize((size_t) c.n_q);
    int32_t w = 0;
    for (int q = 0; q < c.n_q; ++q) w = std::max(w, len[(size_t) q] = (int32_t) (at(q, t + n) - at(q, t)));
    buf.assign((size_t) c.n_q * w, 0);
    for (int q = 0; q < c.n_q; ++q)
        std::copy_n(c.data + (size_t) q * c.n_frames + at(q, t), len[(size_t) q], buf.begin() + (ptrdiff_t) q * w);
    codec_codes s{};
    s.n_q = c.n_q;
    s.n_frames = w;
    s.data = buf.data();
    s.row_len = c.row_len ? len.data() : nullptr;
    return s;
}

// The rate and hop of each side: the encoder's input, the decoder's output (NeuCodec: 16 / 24 kHz).
struct rates {
    int in_sr, in_hop, out_sr, out_hop;
};

// Pushes the input k frames at a time through a fresh stream, timing each push + pull.
bool run_pushes(codec_context * ctx, codec_stream_direction dir, const std::vector<float> & pcm, int64_t n,
                const codec_codes & codes, int k, const options & o, const rates & r, int ch, push_stats & st) {
    codec_stream * s = new_stream(ctx, dir, dir == CODEC_STREAM_ENCODE ? o.n_q : codes.n_q, o.block_frames > 0 ? o.block_frames : k);
    if (!s) return false;
    const bool enc = dir == CODEC_STREAM_ENCODE;
    const int64_t total = enc ? n : codes.n_frames, step = enc ? (int64_t) k * r.in_hop : k;
    std::vector<int32_t> buf, len;
    bool ok = true;
    const double t_first = now_ms();
    for (int64_t t = 0; ok; t += step) {  // pushes, then one more "push": the flush
        const int64_t m = std::max<int64_t>(0, std::min(step, total - t));
        const double t0 = now_ms();
        codec_status rc;
        int64_t got = 0;
        if (m == 0) rc = codec_stream_flush(s);
        else if (enc) rc = codec_stream_push_pcm(s, pcm.data() + t * ch, m);
        else { const codec_codes c = code_slice(codes, t, m, buf, len); rc = codec_stream_push_codes(s, &c); }
        if (rc == CODEC_OK && enc) { codec_codes c{}; rc = codec_stream_pull_codes(s, &c); got = c.n_frames; }
        else if (rc == CODEC_OK) { codec_audio a{}; rc = codec_stream_pull_pcm(s, &a); got = a.n_samples; }
        const double t1 = now_ms();
        if (rc != CODEC_OK) { std::fprintf(stderr, "error: %s\n", codec_stream_last_error(s)); ok = false; break; }
        st.ms.push_back(t1 - t0);
        if (got > 0 && st.first_ms < 0) { st.first_ms = t1 - t_first; st.first_samples = std::min(total, t + m); }
        if (m == 0) break;
    }
    codec_stream_get_info(s, &st.info);
    st.audio_s = enc ? (double) n / r.in_sr : (double) codes.n_frames * r.out_hop / r.out_sr;
    codec_stream_free(s);
    return ok;
}

// Streams `seconds` of generated noise through encode -> decode in ~1 s pushes; returns this
// run's peak RSS (MB), or -1 on error.
double stream_rss(codec_context * ctx, const options & o, double seconds, int sr, int ch) {
    codec_stream * e = new_stream(ctx, CODEC_STREAM_ENCODE, o.n_q, o.block_frames);
    codec_stream * d = nullptr;
    double rss = -1;
    if (e) {
        codec_stream_info info{};
        codec_stream_get_info(e, &info);
        codec_codes probe{};
        std::mt19937 rng(99);
        std::normal_distribution<float> dist(0.0f, 0.1f);
        std::vector<float> block((size_t) sr * ch);
        const int64_t n = (int64_t) std::llround(seconds * sr);
        bool ok = true;
        for (int64_t t = 0, m = 1; ok && m > 0; t += sr) {  // the last round (m = 0) flushes
            m = std::max<int64_t>(0, std::min<int64_t>(sr, n - t));
            for (int64_t i = 0; i < m * ch; ++i) block[(size_t) i] = dist(rng);
            ok = (m > 0 ? codec_stream_push_pcm(e, block.data(), m) : codec_stream_flush(e)) == CODEC_OK &&
                 codec_stream_pull_codes(e, &probe) == CODEC_OK;
            if (ok && !d && probe.n_q > 0) ok = (d = new_stream(ctx, CODEC_STREAM_DECODE, probe.n_q, o.block_frames)) != nullptr;
            if (ok && d) {
                codec_audio a{};
                ok = (probe.n_frames == 0 || codec_stream_push_codes(d, &probe) == CODEC_OK) &&
                     (m > 0 || codec_stream_flush(d) == CODEC_OK) && codec_stream_pull_pcm(d, &a) == CODEC_OK;
            }
        }
        if (ok) rss = peak_rss_mb();
        else std::fprintf(stderr, "error: %s%s\n", codec_stream_last_error(e), d ? codec_stream_last_error(d) : "");
    }
    codec_stream_free(d);
    codec_stream_free(e);
    return rss;
}

void print_pushes(const char * dir, int k, const push_stats & st, bool json, bool last) {
    double sum = 0, mx = 0;
    for (double v : st.ms) sum += v, mx = std::max(mx, v);
    const double mean = st.ms.empty() ? 0 : sum / st.ms.size();
    if (json) {
        std::printf("    \"%s_%d\": {\"pushes\": %zu, \"mean_ms\": %.3f, \"median_ms\": %.3f, \"max_ms\": %.3f, \"rtf\": %.5f, "
                    "\"first_output_ms\": %.3f, \"first_output_input\": %lld, \"block_frames\": %d, \"causal\": %s}%s\n",
                    dir, k, st.ms.size(), mean, median(st.ms), mx, sum * 1e-3 / st.audio_s, st.first_ms,
                    (long long) st.first_samples, st.info.block_frames, st.info.causal ? "true" : "false", last ? "" : ",");
    } else {
        std::printf("%-6s push %2d frames: %5zu pushes  mean %8.3f  median %8.3f  max %8.3f ms  RTF %.4f  first output %.1f ms "
                    "after %lld %s  (block %d, %s)\n",
                    dir, k, st.ms.size(), mean, median(st.ms), mx, sum * 1e-3 / st.audio_s, st.first_ms,
                    (long long) st.first_samples, dir[0] == 'e' ? "samples" : "frames", st.info.block_frames,
                    st.info.causal ? "causal" : "windowed");
    }
}

int run_stream_bench(codec_model * model, codec_context * ctx, const options & o, const std::vector<float> & pcm, int64_t n) {
    const int sr = codec_model_encode_sample_rate(model), ch = codec_model_channels(model);
    const rates r = {sr, codec_model_encode_hop_size(model), codec_model_sample_rate(model), codec_model_hop_size(model)};
    // Peak RSS first, before the one-shot encode below holds the whole input's activations.
    double rss[2];
    const double secs[2] = {o.seconds, o.long_seconds};
    for (int i = 0; i < 2; ++i) {
        reset_peak_rss();
        if ((rss[i] = stream_rss(ctx, o, secs[i], sr, ch)) < 0) return 1;
    }
    codec_codes codes{};
    if (codec_encode(ctx, pcm.data(), n, o.n_q, &codes) != CODEC_OK) {
        std::fprintf(stderr, "error: %s\n", codec_context_last_error(ctx));
        return 1;
    }
    std::vector<int32_t> data(codes.data, codes.data + (size_t) codes.n_q * codes.n_frames), row_len;
    if (codes.row_len) row_len.assign(codes.row_len, codes.row_len + codes.n_q);
    codes.data = data.data();
    codes.row_len = codes.row_len ? row_len.data() : nullptr;
    const int ks[3] = {1, 4, 16};
    std::vector<std::pair<std::string, push_stats>> res;
    for (const char * dir : {"encode", "decode"}) {
        if (o.mode != "both" && o.mode != dir) continue;
        for (int k : ks) {
            push_stats st;
            const auto d = dir[0] == 'e' ? CODEC_STREAM_ENCODE : CODEC_STREAM_DECODE;
            if (!run_pushes(ctx, d, pcm, n, codes, k, o, r, ch, st)) return 1;
            res.emplace_back(dir, st);
        }
    }
    if (o.json) {
        std::printf("{\n  \"model\": \"%s\", \"arch\": \"%s\", \"audio_s\": %.3f, \"threads\": %d, \"n_q\": %d,\n  \"stream\": {\n",
                    o.model.c_str(), codec_model_arch(model), (double) n / sr, o.threads, codes.n_q);
    } else {
        std::printf("%s (%s): stream, %.2f s of audio at %d Hz, %d threads, n_q %d\n", o.model.c_str(), codec_model_arch(model),
                    (double) n / sr, sr, o.threads, codes.n_q);
    }
    for (size_t i = 0; i < res.size(); ++i) print_pushes(res[i].first.c_str(), ks[i % 3], res[i].second, o.json, false);
    if (o.json) {
        std::printf("    \"peak_rss_mb\": {\"%.1f\": %.1f, \"%.1f\": %.1f}\n  }\n}\n", secs[0], rss[0], secs[1], rss[1]);
    } else {
        std::printf("peak RSS streaming encode -> decode: %.1f MB for %.1f s, %.1f MB for %.1f s\n", rss[0], secs[0], rss[1], secs[1]);
    }
    return 0;
}

// A decoder-only model (Soprano: its input is the TTS model's hidden states) is timed on
// decode_latent of deterministic random latents, one frame per hop of the input's length.
int bench_latent_decode(codec_model * model, codec_context * ctx, const options & o, int64_t n, double load_ms,
                        phase_stats & dec) {
    const int32_t dim = codec_model_latent_dim(model), hop = codec_model_hop_size(model);
    const int32_t frames = (int32_t) std::max<int64_t>(1, (n + hop - 1) / hop);
    std::vector<float> lat((size_t) dim * frames);
    std::mt19937 rng(1234);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float & x : lat) x = dist(rng);
    for (int r = 0; r < o.warmup + o.reps; ++r) {
        codec_audio audio{};
        const double t0 = now_ms();
        if (codec_decode_latent(ctx, lat.data(), dim, frames, &audio) != CODEC_OK) {
            std::fprintf(stderr, "error: %s\n", codec_context_last_error(ctx));
            codec_context_free(ctx);
            codec_model_free(model);
            return 1;
        }
        codec_perf p;
        codec_context_perf(ctx, &p);
        if (r >= o.warmup) record(dec, now_ms() - t0, p);
    }
    const double audio_s = (double) frames * hop / codec_model_sample_rate(model);
    if (o.json) {
        std::printf("{\n  \"model\": \"%s\", \"arch\": \"%s\", \"audio_s\": %.3f, \"threads\": %d, \"reps\": %d,"
                    " \"latent_frames\": %d, \"load_ms\": %.3f, \"peak_rss_mb\": %.1f,\n",
                    o.model.c_str(), codec_model_arch(model), audio_s, o.threads, o.reps, frames, load_ms, peak_rss_mb());
        print_phase("decode", dec, audio_s, true, true);
        std::printf("}\n");
    } else {
        std::printf("%s (%s): decode_latent of %d frames (%.2f s), %d threads, %d reps, load %.1f ms\n", o.model.c_str(),
                    codec_model_arch(model), frames, audio_s, o.threads, o.reps, load_ms);
        print_phase("decode", dec, audio_s, false, false);
        std::printf("peak RSS %.1f MB\n", peak_rss_mb());
    }
    codec_context_free(ctx);
    codec_model_free(model);
    return 0;
}

}  // namespace

int main(int argc, char ** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
        const char * v = nullptr;
        if (a == "--gpu") o.gpu = true;
        else if (a == "--stream") o.stream = true;
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
        else if (a == "--block-frames") { if (!parse_int(v, o.block_frames) || o.block_frames < 0) return usage("bad --block-frames"); }
        else if (a == "--long-seconds") { o.long_seconds = std::atof(v); if (!(o.long_seconds > 0 && o.long_seconds < 36000)) return usage("bad --long-seconds"); }
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
    const int sr = codec_model_encode_sample_rate(model), ch = codec_model_channels(model);  // the input's

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

    if (o.stream && codec_model_continuous(model)) {
        std::fprintf(stderr, "error: --stream does not bench latent streams yet (%s has continuous latents)\n", codec_model_arch(model));
        codec_context_free(ctx);
        codec_model_free(model);
        return 1;
    }
    if (o.stream) {
        const int ret = run_stream_bench(model, ctx, o, pcm, n);
        codec_context_free(ctx);
        codec_model_free(model);
        return ret;
    }

    phase_stats enc, dec;
    if (!codec_model_has_encoder(model)) return bench_latent_decode(model, ctx, o, n, load_ms, dec);
    const bool continuous = codec_model_continuous(model);  // latents (Pocket TTS's Mimi), not codes
    codec_codes codes{};
    codec_latent lat{};
    std::vector<int32_t> code_copy;
    std::vector<float> lat_copy;
    int ret = 0;
    // Encode always runs once (decode needs its codes); its timings count only in encode mode.
    for (int r = 0; r < o.warmup + o.reps && ret == 0; ++r) {
        const double t0 = now_ms();
        if ((continuous ? codec_encode_latent(ctx, pcm.data(), n, &lat) : codec_encode(ctx, pcm.data(), n, o.n_q, &codes)) != CODEC_OK) {
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
        if (continuous) lat_copy.assign(lat.data, lat.data + (size_t) lat.latent_dim * lat.n_frames);
        else code_copy.assign(codes.data, codes.data + (size_t) codes.n_q * codes.n_frames);
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
            if ((continuous ? codec_decode_latent(ctx, lat_copy.data(), lat.latent_dim, lat.n_frames, &audio)
                            : codec_decode_codes(ctx, &saved, &audio)) != CODEC_OK) {
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
