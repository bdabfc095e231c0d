// NPZ (numpy's zip of .npy members) for code levels of different lengths (SNAC):
// members "level_0.npy", "level_1.npy", ..., each a 1-D integer array, as np.savez(path,
// level_0=a0, level_1=a1, ...) writes them and np.load(path)["level_0"] reads them.
//
// Writing produces uncompressed ("stored") zip entries of v1.0 '<i4' arrays. Reading
// validates the zip structure (signatures, bounds, CRC-32, stored entries only: not
// np.savez_compressed), the member names (exactly level_0..level_{n-1}) and each member's NPY
// header: 1-D, C order, dtype '<i4' or '<i8' (values must fit int32).
// Every function returns false with a message in err on failure; none throws.
#ifndef CODEC_CLI_NPZ_H
#define CODEC_CLI_NPZ_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

bool npz_read_levels(const std::string & path, std::vector<std::vector<int32_t>> & levels, std::string & err);
bool npz_write_levels(const std::string & path, const std::vector<std::vector<int32_t>> & levels, std::string & err);

// Delivers the next n values of level q (levels are asked for in order; false: stop, err set).
using NpzLevelSource = std::function<bool(size_t q, int32_t * dst, size_t n, std::string & err)>;
// Writes levels of lengths lens whose values come from source a bounded piece at a time (the
// same bytes as npz_write_levels).
bool npz_write_levels_from(const std::string & path, const std::vector<int64_t> & lens, const NpzLevelSource & source,
                           std::string & err);

// True if path ends with ".npz" (case-sensitive, as numpy names them).
bool npz_path(const std::string & path);

#endif  // CODEC_CLI_NPZ_H
