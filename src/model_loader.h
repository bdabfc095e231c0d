// Reads a codec GGUF: checked hyper-parameter keys and validated weight upload.
// Every failure is recorded as a message naming the key or tensor; nothing aborts.
#pragma once

#include <ggml-backend.h>
#include <ggml.h>
#include <gguf.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

// Which storage types a declared weight may have.
enum codec_wtype {
    CODEC_W_F32    = 0,  // must stay exact: biases, norms, codebooks, snake alphas
    CODEC_W_MATMUL = 1,  // matrix weights: F32, F16 or Q8_0 (row size permitting)
    CODEC_W_FLOAT  = 2,  // F32 or F16 (ops without quantized kernels, e.g. conv-transpose)
};

class codec_model_loader {
public:
    ~codec_model_loader();

    // Parses the GGUF header; fails on unreadable/truncated/hostile files.
    bool open(const std::string & path, std::string & err);

    gguf_context * gguf() const { return gguf_; }
    bool has_key(const char * key) const;
    bool has_tensor(const std::string & name) const;  // for optional weights; declare with tensor()

    // Checked key reads: missing key, wrong type or value outside [lo, hi] is an error.
    bool get_i32 (const char * key, int32_t & out, int64_t lo, int64_t hi, std::string & err) const;
    bool get_f32 (const char * key, float & out, std::string & err) const;
    bool get_bool(const char * key, bool & out, std::string & err) const;
    bool get_str (const char * key, std::string & out, std::string & err) const;
    bool get_i32_arr(const char * key, std::vector<int32_t> & out, size_t min_n, size_t max_n,
                     int64_t lo, int64_t hi, std::string & err) const;

    // Declares a weight with its exact ggml shape (ne0 first). Returns nullptr and records
    // the first error if the tensor is missing, has another shape or a disallowed type.
    ggml_tensor * tensor(const std::string & name, std::initializer_list<int64_t> ne, codec_wtype wtype);
    ggml_tensor * tensor(const std::string & name, const std::vector<int64_t> & ne, codec_wtype wtype);
    bool ok() const { return err_.empty(); }
    const std::string & error() const { return err_; }

    // Places the declared weights on `buft` and reads them from the file. On the CPU the file
    // is mapped instead (weights used in place, pages shared by every process that maps it,
    // load time near zero); CODEC_NO_MMAP=1 reads it into an allocated buffer as elsewhere.
    bool load(ggml_backend_buffer_type_t buft, std::string & err);
    bool mapped() const { return map_ != nullptr; }
    size_t n_declared() const { return decls_.size(); }

private:
    struct decl { ggml_tensor * t; int64_t id; };

    int64_t find_key(const char * key, std::string & err) const;

    std::string path_;
    uint64_t file_size_ = 0;
    gguf_context * gguf_ = nullptr;
    ggml_context * ctx_  = nullptr;  // metadata of the declared weights
    ggml_backend_buffer_t buf_ = nullptr;
    void * map_ = nullptr;  // the whole file, when mapped
    size_t map_size_ = 0;
    std::vector<decl> decls_;

    bool load_mapped(std::string & err);
    std::string err_;
};
