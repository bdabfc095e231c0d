#include "model_loader.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <ggml-cpu.h>
#include <unistd.h>

static std::string fmt_ne(const int64_t * ne, int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) {
        s += std::to_string(ne[i]);
        if (i + 1 < n) s += ", ";
    }
    return s + "]";
}

static std::string codec_fmt_tensor_oob(const char * name, uint64_t off, uint64_t size, uint64_t file_size) {
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "tensor '%s' data [%" PRIu64 ", +%" PRIu64 ") lies outside the file (%" PRIu64 " bytes): truncated GGUF",
                  name, off, size, file_size);
    return buf;
}

// Walks the GGUF header (counts, key-values, tensor infos) checking every length and count
// against the bytes the file has left, before gguf_init_from_file allocates anything sized by
// them: a 40-byte file claiming 2^40 tensors or a 10^12-element array is refused here, with
// the field named. Tensor shapes must describe data that fits in the file.
namespace {

class header_walker {
public:
    header_walker(FILE * f, uint64_t size) : f_(f), size_(size) {}

    bool run(std::string & err) {
        uint32_t version = 0;
        uint64_t n_tensors = 0, n_kv = 0;
        if (!skip(4, "magic", err) || !u32(version, "version", err)) return false;
        if (version != 2 && version != 3) return fail(err, "header field 'version' = " + std::to_string(version) + " (supported: 2, 3)");
        if (!u64(n_tensors, "n_tensors", err) || !u64(n_kv, "n_kv", err)) return false;
        // Smallest encodings: a kv is key length + 1-byte key + type + 1-byte value; a tensor
        // info is name length + 1-byte name + n_dims + one dim + type + offset.
        if (!fits(n_kv, 14, "header field 'n_kv'", err) || !fits(n_tensors, 33, "header field 'n_tensors'", err)) return false;
        for (uint64_t i = 0; i < n_kv; ++i) {
            std::string key;
            uint32_t type = 0;
            if (!str(key, "key of kv " + std::to_string(i), err) || !u32(type, "type of key '" + key + "'", err)) return false;
            if (!value(type, key, /*in_array =*/ false, err)) return false;
        }
        for (uint64_t i = 0; i < n_tensors; ++i) {
            std::string name;
            uint32_t n_dims = 0, type = 0;
            uint64_t offset = 0;
            if (!str(name, "name of tensor " + std::to_string(i), err) || !u32(n_dims, "n_dims of tensor '" + name + "'", err)) return false;
            if (n_dims < 1 || n_dims > GGML_MAX_DIMS) {
                return fail(err, "tensor '" + name + "' field 'n_dims' = " + std::to_string(n_dims) + " (expected 1.." + std::to_string(GGML_MAX_DIMS) + ")");
            }
            int64_t ne[GGML_MAX_DIMS] = {1, 1, 1, 1};
            for (uint32_t d = 0; d < n_dims; ++d) {
                uint64_t v = 0;
                if (!u64(v, "ne of tensor '" + name + "'", err)) return false;
                ne[d] = (int64_t) v;
            }
            if (!u32(type, "type of tensor '" + name + "'", err) || !u64(offset, "offset of tensor '" + name + "'", err)) return false;
            if (!tensor_fits(name, ne, type, offset, err)) return false;
        }
        return true;
    }

private:
    FILE * f_;
    uint64_t size_, pos_ = 0;

    static bool fail(std::string & err, const std::string & msg) {
        err = "malformed or truncated GGUF: " + msg;
        return false;
    }
    uint64_t left() const { return size_ - pos_; }
    bool read(void * dst, uint64_t n, const std::string & what, std::string & err) {
        if (n > left() || std::fread(dst, 1, (size_t) n, f_) != n) return fail(err, "file ends inside the " + what);
        pos_ += n;
        return true;
    }
    bool skip(uint64_t n, const std::string & what, std::string & err) {
        if (n > left() || fseeko(f_, (off_t) n, SEEK_CUR) != 0) return fail(err, "file ends inside the " + what);
        pos_ += n;
        return true;
    }
    bool u32(uint32_t & v, const std::string & what, std::string & err) { return read(&v, 4, what, err); }
    bool u64(uint64_t & v, const std::string & what, std::string & err) { return read(&v, 8, what, err); }
    // n items of at least `each` bytes must fit in what is left of the file.
    bool fits(uint64_t n, uint64_t each, const std::string & field, std::string & err) {
        if (n > left() / each) {
            return fail(err, field + " = " + std::to_string(n) + " needs at least " + (n > UINT64_MAX / each ? std::string("2^64") : std::to_string(n * each)) +
                             " bytes, the file has " + std::to_string(left()) + " left");
        }
        return true;
    }
    bool str(std::string & out, const std::string & what, std::string & err) {
        uint64_t len = 0;
        if (!u64(len, "length of the " + what, err)) return false;
        if (len > left()) return fail(err, "string length " + std::to_string(len) + " of the " + what + " exceeds the " + std::to_string(left()) + " bytes left in the file");
        if (len > 65535) return fail(err, "string length " + std::to_string(len) + " of the " + what + " is implausibly large");
        out.resize((size_t) len);
        return read(out.data(), len, what, err);
    }
    static uint64_t scalar_size(uint32_t t) {
        switch (t) {
            case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL:      return 1;
            case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16:                         return 2;
            case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
            case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
            default:                                                             return 0;
        }
    }
    bool value(uint32_t type, const std::string & key, bool in_array, std::string & err) {
        if (const uint64_t sz = scalar_size(type)) return skip(sz, "value of key '" + key + "'", err);
        if (type == GGUF_TYPE_STRING) {
            uint64_t len = 0;
            if (!u64(len, "string length of key '" + key + "'", err)) return false;
            if (len > left()) return fail(err, "key '" + key + "' string length " + std::to_string(len) + " exceeds the " + std::to_string(left()) + " bytes left in the file");
            return skip(len, "string of key '" + key + "'", err);
        }
        if (type != GGUF_TYPE_ARRAY || in_array) return fail(err, "key '" + key + "' has invalid type " + std::to_string(type));
        uint32_t at = 0;
        uint64_t n = 0;
        if (!u32(at, "array type of key '" + key + "'", err) || !u64(n, "array length of key '" + key + "'", err)) return false;
        if (at == GGUF_TYPE_ARRAY) return fail(err, "key '" + key + "' is a nested array (unsupported)");
        if (at != GGUF_TYPE_STRING && scalar_size(at) == 0) return fail(err, "key '" + key + "' has invalid array type " + std::to_string(at));
        if (!fits(n, at == GGUF_TYPE_STRING ? 8 : scalar_size(at), "key '" + key + "' array length", err)) return false;
        if (at != GGUF_TYPE_STRING) return skip(n * scalar_size(at), "array of key '" + key + "'", err);
        for (uint64_t i = 0; i < n; ++i) {
            if (!value(GGUF_TYPE_STRING, key, true, err)) return false;
        }
        return true;
    }
    bool tensor_fits(const std::string & name, const int64_t * ne, uint32_t type, uint64_t offset, std::string & err) {
        const std::string shape = "[" + std::to_string(ne[0]) + ", " + std::to_string(ne[1]) + ", " + std::to_string(ne[2]) + ", " + std::to_string(ne[3]) + "]";
        if (type >= GGML_TYPE_COUNT || ggml_blck_size((ggml_type) type) <= 0 || ggml_type_size((ggml_type) type) == 0) {
            return fail(err, "tensor '" + name + "' field 'type' = " + std::to_string(type) + " is not a ggml type");
        }
        const int64_t blck = ggml_blck_size((ggml_type) type);
        uint64_t bytes = 0;
        bool ok = ne[0] >= 0 && ne[0] % blck == 0;
        if (ok) {
            bytes = (uint64_t) (ne[0] / blck) * ggml_type_size((ggml_type) type);
            for (int d = 1; d < GGML_MAX_DIMS && ok; ++d) {
                ok = ne[d] >= 0 && (ne[d] == 0 || bytes <= size_ / (uint64_t) ne[d]);
                bytes *= ok ? (uint64_t) ne[d] : 0;
            }
            ok = ok && bytes <= size_;
        }
        if (!ok) {
            return fail(err, "tensor '" + name + "' field 'ne' = " + shape + " of " + ggml_type_name((ggml_type) type) +
                             " describes more data than the " + std::to_string(size_) + "-byte file holds");
        }
        if (offset > size_) {
            return fail(err, "tensor '" + name + "' field 'offset' = " + std::to_string(offset) + " lies past the end of the " +
                             std::to_string(size_) + "-byte file");
        }
        return true;
    }
};

}  // namespace

codec_model_loader::~codec_model_loader() {
    if (buf_)  ggml_backend_buffer_free(buf_);
    if (map_)  munmap(map_, map_size_);
    if (ctx_)  ggml_free(ctx_);
    if (gguf_) gguf_free(gguf_);
}

bool codec_model_loader::open(const std::string & path, std::string & err) {
    path_ = path;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        err = "cannot open model file '" + path + "': " + std::strerror(errno);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        err = "cannot open model file '" + path + "': not a regular file";
        return false;
    }
    FILE * f = std::fopen(path.c_str(), "rb");
    if (!f) {
        err = "cannot open model file '" + path + "': " + std::strerror(errno);
        return false;
    }
    char magic[4] = {0};
    const size_t got = std::fread(magic, 1, 4, f);
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    std::fclose(f);
    if (got != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
        err = "'" + path + "' is not a GGUF file (bad magic)";
        return false;
    }
    file_size_ = size < 0 ? 0 : (uint64_t) size;
    {
        FILE * hf = std::fopen(path.c_str(), "rb");
        if (!hf) {
            err = "cannot open model file '" + path + "': " + std::strerror(errno);
            return false;
        }
        std::string herr;
        const bool ok = header_walker(hf, file_size_).run(herr);
        std::fclose(hf);
        if (!ok) {
            err = "'" + path + "': " + herr;
            return false;
        }
    }

    gguf_init_params params = { /*no_alloc =*/ true, /*ctx =*/ nullptr };
    gguf_ = gguf_init_from_file(path.c_str(), params);
    if (!gguf_) {
        err = "'" + path + "' is a malformed or truncated GGUF file (header could not be parsed)";
        return false;
    }
    // Every tensor's data must lie inside the file before anything is allocated for it.
    const int64_t n = gguf_get_n_tensors(gguf_);
    const uint64_t data_off = gguf_get_data_offset(gguf_);
    for (int64_t i = 0; i < n; ++i) {
        const uint64_t off = gguf_get_tensor_offset(gguf_, i);
        const uint64_t sz  = gguf_get_tensor_size(gguf_, i);
        if (data_off > file_size_ || off > file_size_ - data_off || sz > file_size_ - data_off - off) {
            err = codec_fmt_tensor_oob(gguf_get_tensor_name(gguf_, i), data_off + off, sz, file_size_);
            return false;
        }
    }
    ggml_init_params ip = { /*mem_size =*/ (size_t) (n + 1) * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true };
    ctx_ = ggml_init(ip);
    if (!ctx_) {
        err = "out of memory creating the weight context";
        return false;
    }
    return true;
}

bool codec_model_loader::has_key(const char * key) const {
    return gguf_ && gguf_find_key(gguf_, key) >= 0;
}

bool codec_model_loader::has_tensor(const std::string & name) const {
    return gguf_ && gguf_find_tensor(gguf_, name.c_str()) >= 0;
}

int64_t codec_model_loader::find_key(const char * key, std::string & err) const {
    const int64_t id = gguf_find_key(gguf_, key);
    if (id < 0) err = std::string("missing GGUF key '") + key + "' (re-convert the model with scripts/convert.py)";
    return id;
}

static bool read_int(const gguf_context * g, int64_t id, int64_t & v) {
    switch (gguf_get_kv_type(g, id)) {
        case GGUF_TYPE_UINT8:  v = gguf_get_val_u8 (g, id); return true;
        case GGUF_TYPE_INT8:   v = gguf_get_val_i8 (g, id); return true;
        case GGUF_TYPE_UINT16: v = gguf_get_val_u16(g, id); return true;
        case GGUF_TYPE_INT16:  v = gguf_get_val_i16(g, id); return true;
        case GGUF_TYPE_UINT32: v = gguf_get_val_u32(g, id); return true;
        case GGUF_TYPE_INT32:  v = gguf_get_val_i32(g, id); return true;
        case GGUF_TYPE_INT64:  v = gguf_get_val_i64(g, id); return true;
        case GGUF_TYPE_UINT64: {
            const uint64_t u = gguf_get_val_u64(g, id);
            if (u > (uint64_t) std::numeric_limits<int64_t>::max()) return false;
            v = (int64_t) u; return true;
        }
        default: return false;
    }
}

bool codec_model_loader::get_i32(const char * key, int32_t & out, int64_t lo, int64_t hi, std::string & err) const {
    const int64_t id = find_key(key, err);
    if (id < 0) return false;
    int64_t v = 0;
    if (!read_int(gguf_, id, v)) {
        err = std::string("GGUF key '") + key + "' has type " + gguf_type_name(gguf_get_kv_type(gguf_, id)) + ", expected an integer";
        return false;
    }
    if (v < lo || v > hi) {
        err = std::string("GGUF key '") + key + "' = " + std::to_string(v) + " is outside the valid range [" +
              std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return false;
    }
    out = (int32_t) v;
    return true;
}

bool codec_model_loader::get_f32(const char * key, float & out, std::string & err) const {
    const int64_t id = find_key(key, err);
    if (id < 0) return false;
    const auto t = gguf_get_kv_type(gguf_, id);
    if (t == GGUF_TYPE_FLOAT32)      out = gguf_get_val_f32(gguf_, id);
    else if (t == GGUF_TYPE_FLOAT64) out = (float) gguf_get_val_f64(gguf_, id);
    else {
        err = std::string("GGUF key '") + key + "' has type " + gguf_type_name(t) + ", expected a float";
        return false;
    }
    if (!(out == out) || out > std::numeric_limits<float>::max() || out < -std::numeric_limits<float>::max()) {
        err = std::string("GGUF key '") + key + "' is not a finite number";
        return false;
    }
    return true;
}

bool codec_model_loader::get_bool(const char * key, bool & out, std::string & err) const {
    const int64_t id = find_key(key, err);
    if (id < 0) return false;
    if (gguf_get_kv_type(gguf_, id) != GGUF_TYPE_BOOL) {
        err = std::string("GGUF key '") + key + "' has type " + gguf_type_name(gguf_get_kv_type(gguf_, id)) + ", expected bool";
        return false;
    }
    out = gguf_get_val_bool(gguf_, id);
    return true;
}

bool codec_model_loader::get_str(const char * key, std::string & out, std::string & err) const {
    const int64_t id = find_key(key, err);
    if (id < 0) return false;
    if (gguf_get_kv_type(gguf_, id) != GGUF_TYPE_STRING) {
        err = std::string("GGUF key '") + key + "' has type " + gguf_type_name(gguf_get_kv_type(gguf_, id)) + ", expected string";
        return false;
    }
    out = gguf_get_val_str(gguf_, id);
    return true;
}

bool codec_model_loader::get_i32_arr(const char * key, std::vector<int32_t> & out, size_t min_n, size_t max_n,
                                     int64_t lo, int64_t hi, std::string & err) const {
    const int64_t id = find_key(key, err);
    if (id < 0) return false;
    if (gguf_get_kv_type(gguf_, id) != GGUF_TYPE_ARRAY) {
        err = std::string("GGUF key '") + key + "' is not an array";
        return false;
    }
    const auto at = gguf_get_arr_type(gguf_, id);
    const size_t n = gguf_get_arr_n(gguf_, id);
    if (n < min_n || n > max_n) {
        err = std::string("GGUF key '") + key + "' has " + std::to_string(n) + " elements, expected " +
              std::to_string(min_n) + ".." + std::to_string(max_n);
        return false;
    }
    if (at != GGUF_TYPE_INT32 && at != GGUF_TYPE_UINT32 && at != GGUF_TYPE_INT64) {
        err = std::string("GGUF key '") + key + "' must be an array of integers, has " + gguf_type_name(at);
        return false;
    }
    const void * data = gguf_get_arr_data(gguf_, id);
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
        int64_t v;
        switch (at) {
            case GGUF_TYPE_INT32:  v = ((const int32_t  *) data)[i]; break;
            case GGUF_TYPE_UINT32: v = ((const uint32_t *) data)[i]; break;
            case GGUF_TYPE_INT64:  v = ((const int64_t  *) data)[i]; break;
            default:
                err = std::string("GGUF key '") + key + "' must be an array of integers, has " + gguf_type_name(at);
                return false;
        }
        if (v < lo || v > hi) {
            err = std::string("GGUF key '") + key + "'[" + std::to_string(i) + "] = " + std::to_string(v) +
                  " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
            return false;
        }
        out[i] = (int32_t) v;
    }
    return true;
}

ggml_tensor * codec_model_loader::tensor(const std::string & name, std::initializer_list<int64_t> ne, codec_wtype wtype) {
    return tensor(name, std::vector<int64_t>(ne), wtype);
}

ggml_tensor * codec_model_loader::tensor(const std::string & name, const std::vector<int64_t> & ne, codec_wtype wtype) {
    if (!err_.empty()) return nullptr;
    const int64_t id = gguf_find_tensor(gguf_, name.c_str());
    if (id < 0) {
        err_ = "missing tensor '" + name + "'";
        return nullptr;
    }
    for (const auto & d : decls_) {
        if (d.id == id) {
            err_ = "tensor '" + name + "' declared twice (model bug)";
            return nullptr;
        }
    }
    const int64_t * fne = gguf_get_tensor_ne(gguf_, id);
    int64_t want[GGML_MAX_DIMS] = {1, 1, 1, 1};
    for (size_t i = 0; i < ne.size() && i < GGML_MAX_DIMS; ++i) want[i] = ne[i];
    for (int i = 0; i < GGML_MAX_DIMS; ++i) {
        if (fne[i] != want[i]) {
            err_ = "tensor '" + name + "' has shape " + fmt_ne(fne, GGML_MAX_DIMS) + ", expected " +
                   fmt_ne(want, GGML_MAX_DIMS);
            return nullptr;
        }
    }
    const ggml_type type = gguf_get_tensor_type(gguf_, id);
    bool type_ok = type == GGML_TYPE_F32;
    if (wtype == CODEC_W_FLOAT) type_ok = type_ok || type == GGML_TYPE_F16;
    if (wtype == CODEC_W_MATMUL) {
        type_ok = type_ok || type == GGML_TYPE_F16 ||
                  (type == GGML_TYPE_Q8_0 && want[0] % ggml_blck_size(GGML_TYPE_Q8_0) == 0);
    }
    if (!type_ok) {
        err_ = "tensor '" + name + "' has type " + ggml_type_name(type) +
               (wtype == CODEC_W_F32 ? ", expected f32" : wtype == CODEC_W_FLOAT ? ", expected f32 or f16" : ", expected f32, f16 or q8_0");
        return nullptr;
    }
    if (ggml_get_mem_size(ctx_) - ggml_used_mem(ctx_) < ggml_tensor_overhead()) {
        err_ = "too many tensors declared (model bug)";
        return nullptr;
    }
    ggml_tensor * t = ggml_new_tensor(ctx_, type, GGML_MAX_DIMS, want);
    ggml_set_name(t, name.c_str());
    decls_.push_back({t, id});
    return t;
}

bool codec_model_loader::load(ggml_backend_buffer_type_t buft, std::string & err) {
    if (!err_.empty()) {
        err = err_;
        return false;
    }
    if (decls_.empty()) {
        err = "model declares no weights";
        return false;
    }
    // Every tensor must lie inside the file (a truncated file is refused before any access).
    const uint64_t data_off0 = gguf_get_data_offset(gguf_);
    for (const auto & d : decls_) {
        const uint64_t end = data_off0 + gguf_get_tensor_offset(gguf_, d.id) + gguf_get_tensor_size(gguf_, d.id);
        if (end > file_size_) {
            err = std::string("cannot read tensor '") + ggml_get_name(d.t) + "' from the file (truncated? it ends at byte " +
                  std::to_string(end) + " of " + std::to_string(file_size_) + ")";
            return false;
        }
    }
    const char * no_mmap = std::getenv("CODEC_NO_MMAP");
    if (ggml_backend_buft_is_host(buft) && buft == ggml_backend_cpu_buffer_type() && !(no_mmap && *no_mmap && *no_mmap != '0')) {
        if (load_mapped(err)) return true;
        if (!err.empty()) return false;  // otherwise mapping is unavailable: read as below
    }
    buf_ = ggml_backend_alloc_ctx_tensors_from_buft(ctx_, buft);
    if (!buf_) {
        err = "cannot allocate the weight buffer on " + std::string(ggml_backend_buft_name(buft));
        return false;
    }
    ggml_backend_buffer_set_usage(buf_, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);

    FILE * f = std::fopen(path_.c_str(), "rb");
    if (!f) {
        err = "cannot reopen model file '" + path_ + "'";
        return false;
    }
    const bool host = ggml_backend_buffer_is_host(buf_);
    std::vector<uint8_t> staging;
    const uint64_t data_off = gguf_get_data_offset(gguf_);
    bool ok = true;
    for (const auto & d : decls_) {
        const size_t nbytes = ggml_nbytes(d.t);
        if (nbytes != gguf_get_tensor_size(gguf_, d.id)) {
            err = std::string("tensor '") + ggml_get_name(d.t) + "' size mismatch";
            ok = false;
            break;
        }
        const uint64_t off = data_off + gguf_get_tensor_offset(gguf_, d.id);
        void * dst = d.t->data;
        if (!host) {
            staging.resize(nbytes);
            dst = staging.data();
        }
        if (fseeko(f, (off_t) off, SEEK_SET) != 0 || std::fread(dst, 1, nbytes, f) != nbytes) {
            err = std::string("cannot read tensor '") + ggml_get_name(d.t) + "' from the file (truncated?)";
            ok = false;
            break;
        }
        if (!host) ggml_backend_tensor_set(d.t, staging.data(), 0, nbytes);
    }
    std::fclose(f);
    return ok;
}

// Maps the file and points every declared weight into the mapping. Returns false with `err`
// empty when the file cannot be mapped (the caller reads it instead).
bool codec_model_loader::load_mapped(std::string & err) {
    const uint64_t data_off = gguf_get_data_offset(gguf_);
    for (const auto & d : decls_) {
        if (ggml_nbytes(d.t) != gguf_get_tensor_size(gguf_, d.id)) {
            err = std::string("tensor '") + ggml_get_name(d.t) + "' size mismatch";
            return false;
        }
        // The mapping starts on a page: a tensor is as aligned as its file offset. SIMD kernels
        // want 32 bytes (converters write that); other files are read into an aligned buffer.
        if ((data_off + gguf_get_tensor_offset(gguf_, d.id)) % 32 != 0) return false;
    }
    const int fd = ::open(path_.c_str(), O_RDONLY);
    if (fd < 0) return false;
    // Private and writable: pages stay shared until written, and nothing here writes weights.
    void * p = mmap(nullptr, (size_t) file_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return false;
    map_ = p;
    map_size_ = (size_t) file_size_;
    uint8_t * base = (uint8_t *) map_ + data_off;
    buf_ = ggml_backend_cpu_buffer_from_ptr(base, (size_t) (file_size_ - data_off));
    if (!buf_) {
        err = "cannot wrap the mapped model file in a backend buffer";
        return false;
    }
    ggml_backend_buffer_set_usage(buf_, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
    for (const auto & d : decls_) {  // inside the file and aligned: checked above
        if (ggml_backend_tensor_alloc(buf_, d.t, base + gguf_get_tensor_offset(gguf_, d.id)) != GGML_STATUS_SUCCESS) {
            err = std::string("cannot place tensor '") + ggml_get_name(d.t) + "' in the mapped file";
            return false;
        }
    }
    madvise(map_, map_size_, MADV_WILLNEED);
    return true;
}
