// Shared helpers for the core library tests: the tiny model fixture, RAII handles, temp
// files, deterministic signals and a GGUF rewriter to craft broken models.
#pragma once

#include "codec.h"

#include <ggml.h>
#include <gguf.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace codec_test {

namespace fs = std::filesystem;

// Path of the tiny DAC model made by the make_tiny_model ctest fixture ("" if unset).
inline std::string tiny_model_path() {
    const char * p = std::getenv("CODEC_TINY_MODEL");
    return p ? p : "";
}

// Fails (rather than skips) when the fixture is missing: a silently skipped suite proves nothing.
#define REQUIRE_TINY_MODEL()                                                                     \
    do {                                                                                         \
        if (::codec_test::tiny_model_path().empty() ||                                           \
            !::codec_test::fs::exists(::codec_test::tiny_model_path())) {                        \
            FAIL() << "CODEC_TINY_MODEL is unset or missing: run via ctest (fixture make_tiny_model)"; \
        }                                                                                        \
    } while (0)

// Repository root from this file's path: tests/unit/test_util.h.
inline std::string repo_root() { return fs::path(__FILE__).parent_path().parent_path().parent_path().string(); }

// A GGUF fixture made with the repository's own scripts next to the tiny DAC model: `script args
// --out CKPT` writes a checkpoint, convert.py converts it to `file_name`. Reused while newer than
// `sources` (repository-relative, leading slash). "" and a message in `err` when it cannot be made.
inline std::string fixture_gguf(const std::string & file_name, const std::string & script, const std::string & args,
                                std::initializer_list<const char *> sources, std::string & err) {
    if (tiny_model_path().empty()) {
        err = "CODEC_TINY_MODEL is unset: run via ctest (fixture make_tiny_model)";
        return "";
    }
    const fs::path out = fs::path(tiny_model_path()).parent_path() / file_name;
    std::error_code ec;
    bool fresh = fs::exists(out);
    for (const char * src : sources) {
        const fs::path p = repo_root() + src;
        if (fresh && fs::exists(p) && fs::last_write_time(p, ec) > fs::last_write_time(out, ec)) fresh = false;
    }
    if (fresh) return out.string();
    const char * env_py = std::getenv("CODEC_PYTHON");
    const std::string py = env_py ? env_py : repo_root() + "/.venv/bin/python";
    // Unique scratch names: ctest may run several of these tests at once; the rename is atomic.
    const std::string tag = std::to_string(::getpid());
    const std::string ckpt = out.string() + ".ckpt." + tag, tmp = out.string() + ".tmp." + tag;
    const std::string cmd = "'" + py + "' '" + repo_root() + "/" + script + "' " + args + " --out '" + ckpt +
                            "' > /dev/null && '" + py + "' '" + repo_root() + "/scripts/convert.py' --input-dir '" + ckpt +
                            "' --out '" + tmp + "' > /dev/null";
    const int rc = std::system(cmd.c_str());
    fs::remove_all(ckpt, ec);
    if (rc != 0 || !fs::exists(tmp)) {
        err = "could not make " + file_name + ": " + cmd;
        return "";
    }
    fs::rename(tmp, out, ec);
    if (ec && !fs::exists(out)) {
        err = "could not move " + tmp + " to " + out.string();
        return "";
    }
    fs::remove(tmp, ec);
    return out.string();
}

struct ModelDeleter { void operator()(codec_model * m) const { codec_model_free(m); } };
struct CtxDeleter   { void operator()(codec_context * c) const { codec_context_free(c); } };
using ModelPtr = std::unique_ptr<codec_model, ModelDeleter>;
using CtxPtr   = std::unique_ptr<codec_context, CtxDeleter>;

struct LoadResult {
    ModelPtr model;
    codec_status status = CODEC_OK;
    std::string message;
};

inline LoadResult load_model(const char * path, int n_threads = 1) {
    LoadResult r;
    codec_model_params p = codec_model_default_params();
    p.n_threads = n_threads;
    char err[1024];
    std::memset(err, 'x', sizeof(err));  // the library must terminate the message itself
    r.status = (codec_status) -1;
    r.model.reset(codec_model_load(path, p, &r.status, err, sizeof(err)));
    r.message = err;
    return r;
}
inline LoadResult load_model(const std::string & path, int n_threads = 1) { return load_model(path.c_str(), n_threads); }

inline CtxPtr new_context(codec_model * m, int n_threads = 1) {
    codec_context_params p = codec_context_default_params();
    p.n_threads = n_threads;
    return CtxPtr(codec_context_new(m, p));
}

// A fresh directory per fixture instance, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = fs::temp_directory_path() / ("codec_core_test_" + std::to_string(::getpid()) + "_" +
                                             std::to_string(tick) + "_" + std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir & operator=(const TempDir &) = delete;
    std::string file(const std::string & name) const { return (path_ / name).string(); }
    const fs::path & path() const { return path_; }

private:
    fs::path path_;
};

inline std::vector<uint8_t> read_bytes(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string & path, const void * data, size_t n) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write((const char *) data, (std::streamsize) n);
}
inline void write_bytes(const std::string & path, const std::vector<uint8_t> & b) { write_bytes(path, b.data(), b.size()); }

// Deterministic test audio: a few sines plus seeded noise, well inside [-1, 1].
inline std::vector<float> make_signal(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> noise(-0.1f, 0.1f);
    const float f1 = 110.0f + (float) (seed % 7) * 37.0f, f2 = 1234.0f + (float) (seed % 5) * 91.0f;
    std::vector<float> x((size_t) n);
    for (int64_t i = 0; i < n; ++i) {
        const float t = (float) i / 16000.0f;
        x[(size_t) i] = 0.4f * std::sin(6.2831853f * f1 * t) + 0.3f * std::sin(6.2831853f * f2 * t) + noise(rng);
    }
    return x;
}

// Copies of a context's results (its pointers die on the next call).
struct Codes {
    int32_t n_q = 0, n_frames = 0;
    std::vector<int32_t> data;
};
struct Audio {
    int64_t n_samples = 0;
    int32_t n_channels = 0;
    std::vector<float> data;
};
inline Codes copy_codes(const codec_codes & c) {
    return {c.n_q, c.n_frames, std::vector<int32_t>(c.data, c.data + (size_t) c.n_q * c.n_frames)};
}
inline Audio copy_audio(const codec_audio & a) {
    return {a.n_samples, a.n_channels, std::vector<float>(a.data, a.data + (size_t) a.n_samples * a.n_channels)};
}

// Bit-level equality: NaN-safe and -0.0 != 0.0, as "identical" should mean.
inline bool bit_equal(const std::vector<float> & a, const std::vector<float> & b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Encodes then decodes `pcm`; fails the test on any non-OK status.
inline void roundtrip(codec_context * ctx, const std::vector<float> & pcm, int32_t n_q, Codes & codes, Audio & audio) {
    codec_codes c{};
    ASSERT_EQ(codec_encode(ctx, pcm.data(), (int64_t) pcm.size(), n_q, &c), CODEC_OK) << codec_context_last_error(ctx);
    codes = copy_codes(c);
    codec_audio a{};
    ASSERT_EQ(codec_decode(ctx, codes.data.data(), codes.n_q, codes.n_frames, &a), CODEC_OK) << codec_context_last_error(ctx);
    audio = copy_audio(a);
}

// Silences ggml's log (gguf prints a line per rejected file) for a scope; restores the previous one.
class QuietGgmlLog {
public:
    QuietGgmlLog() {
        ggml_log_get(&cb_, &ud_);
        ggml_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    }
    ~QuietGgmlLog() { ggml_log_set(cb_, ud_); }

private:
    ggml_log_callback cb_ = nullptr;
    void * ud_ = nullptr;
};

// ---- GGUF rewriting ------------------------------------------------------------------------

// Edits applied while copying a GGUF: `kv` mutates the KV pairs; `tensor` returns the tensor
// to write for each source tensor (the source itself, a replacement made in `scratch`, or
// nullptr to drop it); `extra` may create more tensors in `scratch` to append.
struct GgufEdit {
    std::function<void(gguf_context * kv)> kv;
    std::function<ggml_tensor *(ggml_tensor * src, ggml_context * scratch)> tensor;
    std::function<std::vector<ggml_tensor *>(ggml_context * scratch)> extra;
};

struct GgufFree { void operator()(gguf_context * g) const { gguf_free(g); } };
struct GgmlFree { void operator()(ggml_context * c) const { ggml_free(c); } };

// Copies `src` to `dst` through gguf_write_to_file with `edit` applied. Returns false (and
// records a test failure) if the source cannot be read.
inline bool rewrite_gguf(const std::string & src, const std::string & dst, const GgufEdit & edit) {
    ggml_context * data_ctx = nullptr;
    gguf_init_params ip = { /*no_alloc =*/ false, &data_ctx };
    std::unique_ptr<gguf_context, GgufFree> in(gguf_init_from_file(src.c_str(), ip));
    std::unique_ptr<ggml_context, GgmlFree> data(data_ctx);
    if (!in) {
        ADD_FAILURE() << "cannot read " << src;
        return false;
    }
    // Room for replacement tensors: at most one per source tensor, each no larger than f32 of 64K elements.
    const int64_t n = gguf_get_n_tensors(in.get());
    ggml_init_params sp = { (size_t) n * (ggml_tensor_overhead() + 256 * 1024), nullptr, false };
    std::unique_ptr<ggml_context, GgmlFree> scratch(ggml_init(sp));

    std::unique_ptr<gguf_context, GgufFree> out(gguf_init_empty());
    gguf_set_kv(out.get(), in.get());
    if (edit.kv) edit.kv(out.get());
    for (int64_t i = 0; i < n; ++i) {
        ggml_tensor * t = ggml_get_tensor(data.get(), gguf_get_tensor_name(in.get(), i));
        if (edit.tensor) t = edit.tensor(t, scratch.get());
        if (t) gguf_add_tensor(out.get(), t);
    }
    if (edit.extra) {
        for (ggml_tensor * t : edit.extra(scratch.get())) gguf_add_tensor(out.get(), t);
    }
    if (!gguf_write_to_file(out.get(), dst.c_str(), /*only_meta =*/ false)) {
        ADD_FAILURE() << "cannot write " << dst;
        return false;
    }
    return true;
}

inline GgufEdit kv_edit(std::function<void(gguf_context *)> f) { return {std::move(f), nullptr, nullptr}; }

// Replacement tensor with the same name and data converted to `type` (f32/f16 only).
inline ggml_tensor * retype(ggml_tensor * src, ggml_context * scratch, ggml_type type) {
    ggml_tensor * t = ggml_new_tensor(scratch, type, GGML_MAX_DIMS, src->ne);
    ggml_set_name(t, src->name);
    const int64_t n = ggml_nelements(src);
    if (type == GGML_TYPE_F16) ggml_fp32_to_fp16_row((const float *) src->data, (ggml_fp16_t *) t->data, n);
    else std::memset(t->data, 0, ggml_nbytes(t));
    return t;
}

// Replacement tensor with the same name and type but shape `ne` (zero-filled).
inline ggml_tensor * reshape(ggml_tensor * src, ggml_context * scratch, std::vector<int64_t> ne) {
    ggml_tensor * t = ggml_new_tensor(scratch, src->type, (int) ne.size(), ne.data());
    ggml_set_name(t, src->name);
    std::memset(t->data, 0, ggml_nbytes(t));
    return t;
}

// Writes `src` with `edit` applied to `dir`/`name`.gguf and returns that path.
inline std::string gguf_variant(const TempDir & dir, const std::string & src, const std::string & name, const GgufEdit & edit) {
    const std::string path = dir.file(name + ".gguf");
    EXPECT_TRUE(rewrite_gguf(src, path, edit));
    return path;
}

// Loading `path` must fail with `status` and a message containing every needle.
inline void expect_load_fail(const std::string & path, const std::vector<std::string> & needles,
                             codec_status status = CODEC_ERR_FORMAT) {
    QuietGgmlLog quiet;
    const LoadResult r = load_model(path);
    EXPECT_EQ(r.model, nullptr);
    EXPECT_EQ(r.status, status) << "message: " << r.message;
    EXPECT_FALSE(r.message.empty());
    for (const std::string & n : needles) {
        EXPECT_NE(r.message.find(n), std::string::npos) << "message '" << r.message << "' lacks '" << n << "'";
    }
}

// Common edits: drop one tensor, give one tensor another shape (zero-filled).
inline GgufEdit drop_tensor(const std::string & name) {
    return {nullptr, [name](ggml_tensor * t, ggml_context *) { return name == t->name ? nullptr : t; }, nullptr};
}
inline GgufEdit reshape_tensor(const std::string & name, std::vector<int64_t> ne) {
    return {nullptr, [name, ne](ggml_tensor * t, ggml_context * s) { return name == t->name ? reshape(t, s, ne) : t; }, nullptr};
}
// One element more along the tensor's first axis.
inline GgufEdit widen_tensor(const std::string & name) {
    return {nullptr, [name](ggml_tensor * t, ggml_context * s) {
        if (name != t->name) return t;
        std::vector<int64_t> ne(t->ne, t->ne + ggml_n_dims(t));
        ne[0] += 1;
        return reshape(t, s, ne);
    }, nullptr};
}

}  // namespace codec_test
