// NPY file I/O for codes (int32) and latents (float32) as 2-D C-order arrays.
//
// Reading accepts format versions 1.0, 2.0 and 3.0 and little-endian dtypes:
//   npy_read_i32: '<i4', '<i8' (values must fit int32), '<i2', '<u2'
//   npy_read_f32: '<f4', '<f8' (finite values must fit float32)
// A 1-D array of n elements reads as [1, n]. Writing always produces version 1.0.
// Every function returns false with a message in err on failure; none throws.
#ifndef CODEC_CLI_NPY_H
#define CODEC_CLI_NPY_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

bool npy_read_i32(const std::string & path, std::vector<int32_t> & data,
                  int64_t & rows, int64_t & cols, std::string & err);
bool npy_write_i32(const std::string & path, const int32_t * data,
                   int64_t rows, int64_t cols, std::string & err);

// Delivers the next n values of an array being written, in C order (false: stop, err set).
using NpyI32Source = std::function<bool(int32_t * dst, size_t n, std::string & err)>;
// Writes int32 [rows, cols] whose values come from source a bounded piece at a time.
bool npy_write_i32_from(const std::string & path, int64_t rows, int64_t cols, const NpyI32Source & source,
                        std::string & err);

// Reads an integer array (the dtypes of npy_read_i32) a block of columns at a time: memory
// stays one block whatever the file's length. The header is validated as npy_read_i32 does.
class NpyColumnReader {
public:
    NpyColumnReader();
    ~NpyColumnReader();
    bool open(const std::string & path, std::string & err);
    int64_t rows() const { return rows_; }
    int64_t cols() const { return cols_; }
    // Columns [col0, col0 + n) of every row into out, [rows][n] row-major.
    bool read(int64_t col0, int64_t n, std::vector<int32_t> & out, std::string & err);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string path_;
    int64_t rows_ = 0, cols_ = 0;
};

bool npy_read_f32(const std::string & path, std::vector<float> & data,
                  int64_t & rows, int64_t & cols, std::string & err);
bool npy_write_f32(const std::string & path, const float * data,
                   int64_t rows, int64_t cols, std::string & err);

// The header parser, shared with the NPZ reader (each member is an NPY array).
struct NpyHeader {
    std::string          descr;          // e.g. "<i4"
    bool                 fortran_order = false;
    std::vector<int64_t> shape;
};
// Magic, version (1.0, 2.0, 3.0) and header length from the first n bytes of an array whose
// total size is `total`: the dict is bytes [dict_start, dict_start + dict_len), checked to lie
// inside `total` and to be of plausible size.
bool npy_parse_preamble(const unsigned char * p, size_t n, uint64_t total, uint64_t & dict_start,
                        uint64_t & dict_len, std::string & err);
// Strict parser for the dict numpy writes: {'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }
// (keys in any order, each exactly once, non-negative dims, at most 64 of them).
bool npy_parse_dict(const std::string & text, NpyHeader & h, std::string & err);

#endif  // CODEC_CLI_NPY_H
