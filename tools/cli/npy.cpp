// NPY reader/writer. The header is parsed by a small strict parser for the Python dict
// literal numpy writes; sizes are validated against the file length before any
// allocation so a hostile header cannot trigger a huge allocation.
#include "guarded.h"
#include "npy.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <system_error>

#include <sys/types.h>

namespace {

constexpr char     kMagic[]     = "\x93NUMPY";
constexpr size_t   kMagicLen    = 6;
constexpr uint64_t kMaxHeaderLen = 1u << 20;  // numpy itself caps at 10000 by default

struct FileCloser {
    void operator()(std::FILE * f) const { if (f) std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

enum class DType { I2, U2, I4, I8, F4, F8 };

struct DTypeInfo {
    const char * descr;
    DType        type;
    size_t       size;
};

constexpr DTypeInfo kDTypes[] = {
    {"<i2", DType::I2, 2}, {"<u2", DType::U2, 2}, {"<i4", DType::I4, 4},
    {"<i8", DType::I8, 8}, {"<f4", DType::F4, 4}, {"<f8", DType::F8, 8},
};

std::string shape_str(const std::vector<int64_t> & shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) {
        s += std::to_string(shape[i]);
        if (i + 1 < shape.size() || shape.size() == 1) s += ",";
        if (i + 1 < shape.size()) s += " ";
    }
    return s + ")";
}

// Strict parser for {'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }.
class HeaderParser {
public:
    explicit HeaderParser(const std::string & text) : s_(text) {}

    bool parse(NpyHeader & h, std::string & err) {
        bool seen_descr = false, seen_fortran = false, seen_shape = false;
        skip_ws();
        if (!eat('{')) return fail(err, "header is not a dict (expected '{')");
        for (;;) {
            skip_ws();
            if (eat('}')) break;
            std::string key;
            if (!parse_string(key, err)) return false;
            skip_ws();
            if (!eat(':')) return fail(err, "expected ':' after key '" + key + "'");
            skip_ws();
            if (key == "descr") {
                if (seen_descr) return fail(err, "duplicate key 'descr'");
                seen_descr = true;
                if (!parse_string(h.descr, err)) return false;
            } else if (key == "fortran_order") {
                if (seen_fortran) return fail(err, "duplicate key 'fortran_order'");
                seen_fortran = true;
                if (!parse_bool(h.fortran_order, err)) return false;
            } else if (key == "shape") {
                if (seen_shape) return fail(err, "duplicate key 'shape'");
                seen_shape = true;
                if (!parse_shape(h.shape, err)) return false;
            } else {
                return fail(err, "unexpected key '" + key + "'");
            }
            skip_ws();
            if (eat(',')) continue;
            if (eat('}')) break;
            return fail(err, "expected ',' or '}' after value of '" + key + "'");
        }
        skip_ws();
        if (pos_ != s_.size()) return fail(err, "unexpected text after the header dict");
        if (!seen_descr)   return fail(err, "missing key 'descr'");
        if (!seen_fortran) return fail(err, "missing key 'fortran_order'");
        if (!seen_shape)   return fail(err, "missing key 'shape'");
        return true;
    }

private:
    const std::string & s_;
    size_t pos_ = 0;

    static bool fail(std::string & err, const std::string & msg) {
        err = "malformed header: " + msg;
        return false;
    }
    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                    s_[pos_] == '\r')) {
            ++pos_;
        }
    }
    bool eat(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) { ++pos_; return true; }
        return false;
    }
    bool parse_string(std::string & out, std::string & err) {
        if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) {
            return fail(err, "expected a quoted string");
        }
        const char quote = s_[pos_++];
        const size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] != quote) {
            // numpy never escapes; refusing escapes keeps the parser trivially correct
            if (s_[pos_] == '\\') return fail(err, "escape sequences are not supported");
            ++pos_;
        }
        if (pos_ >= s_.size()) return fail(err, "unterminated string");
        out = s_.substr(start, pos_ - start);
        ++pos_;
        return true;
    }
    bool parse_bool(bool & out, std::string & err) {
        if (s_.compare(pos_, 4, "True") == 0)  { pos_ += 4; out = true;  return true; }
        if (s_.compare(pos_, 5, "False") == 0) { pos_ += 5; out = false; return true; }
        return fail(err, "'fortran_order' must be True or False");
    }
    bool parse_dim(int64_t & out, std::string & err) {
        if (pos_ < s_.size() && s_[pos_] == '-') return fail(err, "negative dimension in 'shape'");
        if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
            return fail(err, "'shape' must be a tuple of non-negative integers");
        }
        int64_t v = 0;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            const int d = s_[pos_++] - '0';
            if (v > (std::numeric_limits<int64_t>::max() - d) / 10) {
                return fail(err, "dimension in 'shape' is too large");
            }
            v = v * 10 + d;
        }
        if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
        out = v;
        return true;
    }
    bool parse_shape(std::vector<int64_t> & shape, std::string & err) {
        shape.clear();
        if (!eat('(')) return fail(err, "'shape' must be a tuple");
        for (;;) {
            skip_ws();
            if (eat(')')) break;
            // bound the tuple so a long header cannot make us collect huge vectors
            if (shape.size() >= 64) return fail(err, "'shape' has too many dimensions");
            int64_t dim = 0;
            if (!parse_dim(dim, err)) return false;
            shape.push_back(dim);
            skip_ws();
            if (eat(',')) continue;
            if (eat(')')) break;
            return fail(err, "expected ',' or ')' in 'shape'");
        }
        return true;
    }
};

uint64_t read_le(const unsigned char * p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
}

void write_le(unsigned char * p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

bool file_size(std::FILE * f, uint64_t & size) {
    if (fseeko(f, 0, SEEK_END) != 0) return false;
    const off_t end = ftello(f);
    if (end < 0 || fseeko(f, 0, SEEK_SET) != 0) return false;
    size = static_cast<uint64_t>(end);
    return true;
}

bool read_exact(std::FILE * f, void * dst, size_t n) {
    return n == 0 || std::fread(dst, 1, n, f) == n;
}

// Opens path, parses and validates the header (shape and dtype checked against the file size)
// and leaves f positioned at the data. On success rows/cols hold the 2-D shape (1-D as [1, n]).
bool open_npy(const std::string & path, const DTypeInfo * const * allowed, size_t n_allowed,
              const DTypeInfo *& dtype, FilePtr & f, int64_t & rows, int64_t & cols, std::string & err) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        err = "is a directory";
        return false;
    }
    f.reset(std::fopen(path.c_str(), "rb"));
    if (!f) {
        err = std::string("cannot open: ") + std::strerror(errno);
        return false;
    }
    uint64_t size = 0;
    if (!file_size(f.get(), size)) {
        err = "cannot determine the file size (not a regular file?)";
        return false;
    }

    unsigned char pre[12];
    const size_t n_pre = size_t(std::min<uint64_t>(size, sizeof pre));
    uint64_t preamble = 0, header_len = 0;
    if (!read_exact(f.get(), pre, n_pre)) {
        err = "cannot read the header";
        return false;
    }
    if (!npy_parse_preamble(pre, n_pre, size, preamble, header_len, err)) return false;
    if (fseeko(f.get(), off_t(preamble), SEEK_SET) != 0) {
        err = "cannot seek to the header";
        return false;
    }
    std::string text(static_cast<size_t>(header_len), '\0');
    if (!read_exact(f.get(), text.data(), text.size())) {
        err = "cannot read the header";
        return false;
    }

    NpyHeader h;
    if (!npy_parse_dict(text, h, err)) return false;
    if (h.fortran_order) {
        err = "fortran_order=True arrays are not supported (save with C order)";
        return false;
    }
    dtype = nullptr;
    for (size_t i = 0; i < n_allowed; ++i) {
        if (h.descr == allowed[i]->descr) dtype = allowed[i];
    }
    if (!dtype) {
        std::string list;
        for (size_t i = 0; i < n_allowed; ++i) list += (i ? ", '" : "'") + std::string(allowed[i]->descr) + "'";
        err = "unsupported dtype '" + h.descr + "' (expected one of " + list + ")";
        return false;
    }
    if (h.shape.empty() || h.shape.size() > 2) {
        err = "expected a 1-D or 2-D array, got shape " + shape_str(h.shape);
        return false;
    }
    rows = h.shape.size() == 2 ? h.shape[0] : 1;
    cols = h.shape.back();

    // Element count and byte size, each checked for overflow and against the file.
    const uint64_t data_avail = size - preamble - header_len;
    const uint64_t max_count = data_avail / dtype->size;
    if (rows != 0 && cols > std::numeric_limits<int64_t>::max() / rows) {
        err = "header field 'shape' = " + shape_str(h.shape) + " overflows the element count";
        return false;
    }
    const uint64_t count = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
    if (count > max_count) {
        err = "header field 'shape' = " + shape_str(h.shape) + " claims " + std::to_string(count) + " elements of '" +
              h.descr + "' but the file has only " + std::to_string(data_avail) + " data bytes";
        return false;
    }
    const uint64_t n_bytes = count * dtype->size;
    if (n_bytes != data_avail) {
        err = "file has " + std::to_string(data_avail - n_bytes) + " trailing bytes after the " +
              shape_str(h.shape) + " array";
        return false;
    }
    return true;
}

// open_npy, then the raw data bytes.
bool read_npy(const std::string & path, const DTypeInfo * const * allowed, size_t n_allowed,
              const DTypeInfo *& dtype, std::vector<unsigned char> & raw, int64_t & rows,
              int64_t & cols, std::string & err) {
    FilePtr f;
    if (!open_npy(path, allowed, n_allowed, dtype, f, rows, cols, err)) return false;
    raw.resize(static_cast<size_t>(uint64_t(rows) * uint64_t(cols) * dtype->size));
    if (!read_exact(f.get(), raw.data(), raw.size())) {
        err = "cannot read the array data";
        return false;
    }
    return true;
}

// The integer dtypes npy_read_i32 accepts, and one element of them as int32 (false: out of range).
const DTypeInfo * const kIntTypes[] = {&kDTypes[2], &kDTypes[3], &kDTypes[0], &kDTypes[1]};

bool to_i32(const unsigned char * p, const DTypeInfo * dt, uint64_t index, int32_t & out, std::string & err) {
    const uint64_t u = read_le(p, dt->size);
    int64_t v = 0;
    switch (dt->type) {
        case DType::I2: v = int16_t(uint16_t(u)); break;
        case DType::U2: v = int64_t(u); break;
        case DType::I4: v = int32_t(uint32_t(u)); break;
        default:        v = int64_t(u); break;  // I8
    }
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        err = "value " + std::to_string(v) + " at index " + std::to_string(index) + " does not fit int32";
        return false;
    }
    out = int32_t(v);
    return true;
}

std::string header_text(const char * descr, int64_t rows, int64_t cols) {
    std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) + "), }";
    // Pad with spaces so magic + version + len + header + '\n' is a multiple of 64.
    const size_t unpadded = kMagicLen + 2 + 2 + dict.size() + 1;
    dict.append((64 - unpadded % 64) % 64, ' ');
    dict += '\n';
    return dict;
}

// Writes a v1.0 NPY file. encode(i, dst) stores element i little-endian at dst (i in order;
// false: stop, err set).
template <typename Encode>
bool write_npy(const std::string & path, const char * descr, size_t item_size, int64_t rows,
               int64_t cols, bool have_data, Encode encode, std::string & err) {
    if (rows < 0 || cols < 0) {
        err = "negative shape (" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
        return false;
    }
    if (rows != 0 && cols > std::numeric_limits<int64_t>::max() / rows / int64_t(item_size)) {
        err = "shape too large";
        return false;
    }
    const uint64_t count = uint64_t(rows) * uint64_t(cols);
    if (count > 0 && !have_data) {
        err = "no data to write";
        return false;
    }
    const std::string header = header_text(descr, rows, cols);
    unsigned char pre[10];
    std::memcpy(pre, kMagic, kMagicLen);
    pre[6] = 1;
    pre[7] = 0;
    write_le(pre + 8, header.size(), 2);  // always < 65536 for a 2-D shape

    FilePtr f(std::fopen(path.c_str(), "wb"));
    if (!f) {
        err = std::string("cannot create: ") + std::strerror(errno);
        return false;
    }
    bool ok = std::fwrite(pre, 1, sizeof(pre), f.get()) == sizeof(pre) &&
              std::fwrite(header.data(), 1, header.size(), f.get()) == header.size();
    std::vector<unsigned char> chunk(size_t(1) << 16);
    bool source_failed = false;  // encode said why in err
    const uint64_t per_chunk = chunk.size() / item_size;
    for (uint64_t i = 0; ok && i < count; i += per_chunk) {
        const uint64_t n = std::min(per_chunk, count - i);
        for (uint64_t j = 0; ok && j < n; ++j) ok = !(source_failed = !encode(i + j, chunk.data() + j * item_size));
        ok = ok && std::fwrite(chunk.data(), item_size, size_t(n), f.get()) == size_t(n);
    }
    ok = (std::fclose(f.release()) == 0) && ok;
    if (!ok) {
        if (!source_failed) err = std::string("write failed: ") + std::strerror(errno);
        std::remove(path.c_str());
        return false;
    }
    return true;
}

}  // namespace

bool npy_parse_preamble(const unsigned char * p, size_t n, uint64_t total, uint64_t & dict_start,
                        uint64_t & dict_len, std::string & err) {
    if (total < 10 || n < 8) {
        err = "file too short to be an NPY file (" + std::to_string(total) + " bytes)";
        return false;
    }
    if (std::memcmp(p, kMagic, kMagicLen) != 0) {
        err = "not an NPY file (bad magic)";
        return false;
    }
    const int major = p[6], minor = p[7];
    if (major < 1 || major > 3 || minor != 0) {
        err = "unsupported NPY format version " + std::to_string(major) + "." + std::to_string(minor);
        return false;
    }
    const size_t len_bytes = major == 1 ? 2 : 4;
    dict_start = 8 + len_bytes;
    if (total < dict_start || n < dict_start) {
        err = "file truncated inside the header length field";
        return false;
    }
    dict_len = read_le(p + 8, len_bytes);
    if (dict_len > total - dict_start) {
        err = "header length " + std::to_string(dict_len) + " extends past the end of the file (" +
              std::to_string(total) + " bytes)";
        return false;
    }
    if (dict_len > kMaxHeaderLen) {
        err = "header length " + std::to_string(dict_len) + " is implausibly large";
        return false;
    }
    return true;
}

bool npy_parse_dict(const std::string & text, NpyHeader & h, std::string & err) {
    return HeaderParser(text).parse(h, err);
}

bool npy_read_i32(const std::string & path, std::vector<int32_t> & data, int64_t & rows,
                  int64_t & cols, std::string & err) {
    return cli_guarded(path, err, [&] {
        const DTypeInfo * dt = nullptr;
        std::vector<unsigned char> raw;
        if (!read_npy(path, kIntTypes, 4, dt, raw, rows, cols, err)) return false;
        const size_t count = raw.size() / dt->size;
        data.resize(count);
        for (size_t i = 0; i < count; ++i) {
            if (!to_i32(raw.data() + i * dt->size, dt, i, data[i], err)) return false;
        }
        return true;
    });
}

bool npy_read_f32(const std::string & path, std::vector<float> & data, int64_t & rows,
                  int64_t & cols, std::string & err) {
    return cli_guarded(path, err, [&] {
        static const DTypeInfo * const allowed[] = {&kDTypes[4], &kDTypes[5]};
        const DTypeInfo * dt = nullptr;
        std::vector<unsigned char> raw;
        if (!read_npy(path, allowed, 2, dt, raw, rows, cols, err)) return false;
        const size_t count = raw.size() / dt->size;
        data.resize(count);
        for (size_t i = 0; i < count; ++i) {
            const uint64_t u = read_le(raw.data() + i * dt->size, dt->size);
            if (dt->type == DType::F4) {
                const uint32_t u32 = uint32_t(u);
                std::memcpy(&data[i], &u32, 4);
                continue;
            }
            double d;
            std::memcpy(&d, &u, 8);
            if (std::isfinite(d) && std::fabs(d) > double(std::numeric_limits<float>::max())) {
                err = "value at index " + std::to_string(i) + " does not fit float32";
                return false;
            }
            data[i] = float(d);
        }
        return true;
    });
}

bool npy_write_i32(const std::string & path, const int32_t * data, int64_t rows, int64_t cols,
                   std::string & err) {
    return cli_guarded(path, err, [&] {
        return write_npy(path, "<i4", 4, rows, cols, data != nullptr,
                         [&](uint64_t i, unsigned char * dst) { write_le(dst, uint32_t(data[i]), 4); return true; },
                         err);
    });
}

bool npy_write_f32(const std::string & path, const float * data, int64_t rows, int64_t cols,
                   std::string & err) {
    return cli_guarded(path, err, [&] {
        return write_npy(path, "<f4", 4, rows, cols, data != nullptr,
                         [&](uint64_t i, unsigned char * dst) {
                             uint32_t u;
                             std::memcpy(&u, &data[i], 4);
                             write_le(dst, u, 4);
                             return true;
                         },
                         err);
    });
}

bool npy_write_i32_from(const std::string & path, int64_t rows, int64_t cols, const NpyI32Source & source,
                        std::string & err) {
    return cli_guarded(path, err, [&] {
        std::vector<int32_t> buf(size_t(1) << 14);
        uint64_t have = 0, used = 0;  // buffered values, and how many of them were written
        const uint64_t count = rows > 0 && cols > 0 ? uint64_t(rows) * uint64_t(cols) : 0;
        return write_npy(path, "<i4", 4, rows, cols, true,
                         [&](uint64_t i, unsigned char * dst) {
                             if (used == have) {
                                 have = std::min<uint64_t>(buf.size(), count - i);
                                 used = 0;
                                 if (!source(buf.data(), size_t(have), err)) return false;
                             }
                             write_le(dst, uint32_t(buf[size_t(used++)]), 4);
                             return true;
                         },
                         err);
    });
}

struct NpyColumnReader::Impl {
    FilePtr           f;
    const DTypeInfo * dt = nullptr;
    off_t             data = 0;  // offset of element [0, 0]
    std::vector<unsigned char> raw;
};

NpyColumnReader::NpyColumnReader() = default;
NpyColumnReader::~NpyColumnReader() = default;

bool NpyColumnReader::open(const std::string & path, std::string & err) {
    path_ = path;
    return cli_guarded(path, err, [&] {
        impl_ = std::make_unique<Impl>();
        if (!open_npy(path, kIntTypes, 4, impl_->dt, impl_->f, rows_, cols_, err)) return false;
        impl_->data = ftello(impl_->f.get());
        return impl_->data >= 0;
    });
}

bool NpyColumnReader::read(int64_t col0, int64_t n, std::vector<int32_t> & out, std::string & err) {
    return cli_guarded(path_, err, [&] {
        if (!impl_ || col0 < 0 || n < 0 || col0 > cols_ - n) {
            err = "columns [" + std::to_string(col0) + ", " + std::to_string(col0 + n) + ") are outside the array";
            return false;
        }
        const size_t item = impl_->dt->size;
        out.resize(size_t(rows_) * size_t(n));
        impl_->raw.resize(size_t(n) * item);
        for (int64_t q = 0; q < rows_; ++q) {
            const uint64_t first = uint64_t(q) * uint64_t(cols_) + uint64_t(col0);
            if (fseeko(impl_->f.get(), impl_->data + off_t(first * item), SEEK_SET) != 0 ||
                !read_exact(impl_->f.get(), impl_->raw.data(), impl_->raw.size())) {
                err = "cannot read the array data";
                return false;
            }
            for (int64_t t = 0; t < n; ++t) {
                if (!to_i32(impl_->raw.data() + size_t(t) * item, impl_->dt, first + uint64_t(t),
                            out[size_t(q * n + t)], err)) {
                    return false;
                }
            }
        }
        return true;
    });
}
