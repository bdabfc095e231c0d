// Shared by the fuzz targets: the input as a file path (a memfd, no disk I/O per run) and the
// tiny models the model-backed targets drive. Targets abort() on a broken invariant so
// libFuzzer records the input as a crash.
#pragma once

#include "codec.h"

#include <ggml.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace codec_fuzz {

// The fuzz input behind a path: one memfd per process, rewritten per input. The readers
// under test open files by name, exactly as the CLI does.
inline std::string as_file(const uint8_t * data, size_t size) {
    static int fd = -1;
    if (fd < 0) fd = memfd_create("codec_fuzz_input", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t) size)) {
        std::perror("codec_fuzz: memfd");
        std::abort();
    }
    return "/proc/self/fd/" + std::to_string(fd);
}

inline void check(bool ok, const char * what) {
    if (!ok) {
        std::fprintf(stderr, "codec_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

// gguf and the backends log every rejected file; at millions of runs that is the bottleneck.
inline void quiet_ggml() {
    ggml_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
}

// Input bytes consumed front to back; reads past the end give zeros.
struct Reader {
    const uint8_t * p;
    size_t n;
    uint8_t u8() { return n ? (--n, *p++) : 0; }
    uint16_t u16() { const uint16_t lo = u8(); return (uint16_t) (lo | (uint16_t) u8() << 8); }
    bool empty() const { return n == 0; }
};

// The tiny models (fuzz/make_models.py) from $CODEC_FUZZ_MODELS, loaded once; a missing one
// is fatal so a replay never passes by testing nothing.
// Each model has kContexts contexts and a target picks one per input length (its slot), so
// the graphs of the lengths in use stay in the contexts' caches (4 shapes each) instead of
// being rebuilt on nearly every run.
constexpr int kContexts = 16;

struct Model {
    const char * name;
    codec_model * model = nullptr;
    codec_context * ctxs[kContexts] = {};
    std::map<uint64_t, codec_context *> keyed{};  // ctx_keyed's, made on first use
    codec_context * ctx_for(uint64_t slot) const { return ctxs[slot % kContexts]; }
    // One context per key (made on first use, kept to the end): a target that keys by the
    // whole shape (length and n_q) sees each context run the same few graphs, all cached
    // and already planned by the allocator, instead of rebuilding one in a run of four.
    codec_context * ctx_keyed(uint64_t key) {
        codec_context *& c = keyed[key];
        if (!c) c = codec_context_new(model, codec_context_default_params());
        if (!c) std::exit(2);
        return c;
    }
};

inline std::vector<Model> & models() {
    static std::vector<Model> ms = [] {
        std::vector<Model> v = {{"dac"}, {"encodec"}, {"encodec_stereo"}, {"mimi"}, {"snac"}};
        const char * dir = std::getenv("CODEC_FUZZ_MODELS");
        if (!dir || !*dir) {
            std::fprintf(stderr, "codec_fuzz: set CODEC_FUZZ_MODELS to a directory made by fuzz/make_models.py\n");
            std::exit(2);
        }
        quiet_ggml();
        codec_model_params mp = codec_model_default_params();
        mp.n_threads = 1;
        for (Model & m : v) {
            const std::string path = std::string(dir) + "/" + m.name + ".gguf";
            char err[512] = "";
            m.model = codec_model_load(path.c_str(), mp, nullptr, err, sizeof err);
            if (!m.model) {
                std::fprintf(stderr, "codec_fuzz: cannot load %s: %s\n", path.c_str(), err);
                std::exit(2);
            }
            for (codec_context *& c : m.ctxs) {
                c = codec_context_new(m.model, codec_context_default_params());
                if (!c) std::exit(2);
            }
        }
        return v;
    }();
    // Freed at exit (before LeakSanitizer's exit-time check) so only real leaks show.
    static struct Owner {
        ~Owner() {
            for (Model & m : ms) {
                for (codec_context * c : m.ctxs) codec_context_free(c);
                for (auto & kc : m.keyed) codec_context_free(kc.second);
                codec_model_free(m.model);
            }
        }
    } owner;
    return ms;
}

}  // namespace codec_fuzz
