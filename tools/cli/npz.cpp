// Minimal, strict NPZ reader/writer for code levels (see npz.h). Sizes and offsets are checked
// against the file before anything is read or allocated from them.
#include "npz.h"
#include "guarded.h"
#include "npy.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint64_t kMaxFile = uint64_t(1) << 31;  // codes files are small; refuse absurd inputs
constexpr size_t   kMaxLevels = 64;

// CRC-32 of n more bytes after a running value c (0 to start).
uint32_t crc32(const unsigned char * p, size_t n, uint32_t c0 = 0) {
    static uint32_t table[256];
    static bool init = false;
    if (!init) {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        init = true;
    }
    uint32_t c = c0 ^ 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint64_t le(const unsigned char * p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
}

void put(std::vector<unsigned char> & out, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

struct FileCloser {
    void operator()(std::FILE * f) const { if (f) std::fclose(f); }
};

bool read_file(const std::string & path, std::vector<unsigned char> & buf, std::string & err) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        err = std::string("cannot open: ") + std::strerror(errno);
        return false;
    }
    if (fseeko(f.get(), 0, SEEK_END) != 0) {
        err = "cannot determine the file size (not a regular file?)";
        return false;
    }
    const off_t size = ftello(f.get());
    if (size < 0 || uint64_t(size) > kMaxFile || fseeko(f.get(), 0, SEEK_SET) != 0) {
        err = size < 0 ? "cannot determine the file size" : "file is implausibly large for codes";
        return false;
    }
    buf.resize(size_t(size));
    if (!buf.empty() && std::fread(buf.data(), 1, buf.size(), f.get()) != buf.size()) {
        err = "cannot read the file";
        return false;
    }
    return true;
}

// The NPY member: a 1-D C-order '<i4' or '<i8' array, header parsed by npy.cpp's parser.
bool parse_npy_1d(const unsigned char * p, size_t n, std::vector<int32_t> & out, std::string & err) {
    uint64_t start = 0, hlen = 0;
    NpyHeader h;
    if (!npy_parse_preamble(p, n, n, start, hlen, err) ||
        !npy_parse_dict(std::string(reinterpret_cast<const char *>(p + start), size_t(hlen)), h, err)) {
        err = "is not a valid NPY array: " + err;
        return false;
    }
    const size_t item = h.descr == "<i4" ? 4 : h.descr == "<i8" ? 8 : 0;
    if (item == 0 || h.fortran_order) {
        err = "is not a C-order '<i4' or '<i8' NPY array (descr '" + h.descr + "'" + (h.fortran_order ? ", fortran_order" : "") + ")";
        return false;
    }
    if (h.shape.size() != 1) {
        err = "is not a 1-D array (one array per code level)";
        return false;
    }
    // The claimed count is checked against the bytes present before anything is allocated.
    const uint64_t count = uint64_t(h.shape[0]);
    const uint64_t avail = n - start - hlen;
    if (count > avail / item || count * item != avail) {
        err = "holds " + std::to_string(avail) + " data bytes but its header field 'shape' claims " + std::to_string(count) + " elements";
        return false;
    }
    out.resize(size_t(count));
    const unsigned char * d = p + start + hlen;
    for (uint64_t i = 0; i < count; ++i) {
        const uint64_t u = le(d + i * item, item);
        const int64_t v = item == 4 ? int64_t(int32_t(uint32_t(u))) : int64_t(u);
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
            err = "value " + std::to_string(v) + " at index " + std::to_string(i) + " does not fit int32";
            return false;
        }
        out[size_t(i)] = int32_t(v);
    }
    return true;
}

bool read_levels(const std::string & path, std::vector<std::vector<int32_t>> & levels, std::string & err) {
    std::vector<unsigned char> buf;
    if (!read_file(path, buf, err)) return false;
    const size_t n = buf.size();
    const unsigned char * b = buf.data();
    // End of central directory: the last signature within the final 22 + 65535 bytes.
    if (n < 22) {
        err = "too short to be an NPZ (zip) file";
        return false;
    }
    size_t eocd = std::string::npos;
    for (size_t i = n - 22 + 1; i-- > 0 && n - i <= 22 + 65535;) {
        if (le(b + i, 4) == kEndSig && i + 22 + le(b + i + 20, 2) == n) {
            eocd = i;
            break;
        }
    }
    if (eocd == std::string::npos) {
        err = "not an NPZ (zip) file: no end-of-central-directory record";
        return false;
    }
    const uint64_t n_entries = le(b + eocd + 10, 2), cd_size = le(b + eocd + 12, 4), cd_off = le(b + eocd + 16, 4);
    if (le(b + eocd + 4, 2) != 0 || le(b + eocd + 6, 2) != 0 || le(b + eocd + 8, 2) != n_entries) {
        err = "multi-disk zip archives are not supported";
        return false;
    }
    if (cd_off == 0xFFFFFFFFu || n_entries == 0xFFFF) {
        err = "ZIP64 archives are not supported";
        return false;
    }
    if (cd_off > eocd || cd_size > eocd - cd_off) {
        err = "central directory lies outside the file";
        return false;
    }
    if (n_entries == 0 || n_entries > kMaxLevels) {
        err = "has " + std::to_string(n_entries) + " members; expected 1.." + std::to_string(kMaxLevels) + " code levels";
        return false;
    }
    levels.assign(size_t(n_entries), {});
    std::vector<bool> seen(size_t(n_entries), false);
    size_t p = size_t(cd_off);
    const size_t cd_end = size_t(cd_off + cd_size);
    for (uint64_t e = 0; e < n_entries; ++e) {
        if (cd_end - p < 46 || le(b + p, 4) != kCentralSig) {
            err = "corrupt central directory entry " + std::to_string(e);
            return false;
        }
        const uint64_t flags = le(b + p + 8, 2), method = le(b + p + 10, 2), crc = le(b + p + 16, 4);
        uint64_t csize = le(b + p + 20, 4), usize = le(b + p + 24, 4), off = le(b + p + 42, 4);
        const size_t name_len = size_t(le(b + p + 28, 2)), extra_len = size_t(le(b + p + 30, 2)),
                     comment_len = size_t(le(b + p + 32, 2));
        if (cd_end - p - 46 < name_len + extra_len + comment_len) {
            err = "central directory entry " + std::to_string(e) + " runs past the directory";
            return false;
        }
        const std::string name(reinterpret_cast<const char *>(b + p + 46), name_len);
        // ZIP64 extra field (numpy writes members with force_zip64): 8-byte values replace the
        // 0xFFFFFFFF ones, in the order usize, csize, offset.
        for (size_t x = p + 46 + name_len, xe = x + extra_len; xe - x >= 4;) {
            const uint64_t id = le(b + x, 2), len = le(b + x + 2, 2);
            if (len > xe - x - 4) break;
            if (id == 1) {
                size_t q = x + 4;
                uint64_t * fields[3] = {&usize, &csize, &off};
                for (uint64_t * f : fields) {
                    if (*f != 0xFFFFFFFFu) continue;
                    if (q + 8 > x + 4 + len) {
                        err = "member '" + name + "' has a truncated ZIP64 field";
                        return false;
                    }
                    *f = le(b + q, 8);
                    q += 8;
                }
            }
            x += 4 + size_t(len);
        }
        p += 46 + name_len + extra_len + comment_len;
        if (flags & 1) {
            err = "member '" + name + "' is encrypted";
            return false;
        }
        if (method != 0 || csize != usize) {
            err = "member '" + name + "' is compressed (np.savez_compressed); write codes with np.savez";
            return false;
        }
        size_t level = 0;
        if (std::sscanf(name.c_str(), "level_%zu.npy", &level) != 1 || name != "level_" + std::to_string(level) + ".npy" ||
            level >= n_entries || seen[level]) {
            err = "unexpected member '" + name + "': expected level_0.npy .. level_" + std::to_string(n_entries - 1) + ".npy";
            return false;
        }
        seen[level] = true;
        // Local header: its own name/extra lengths decide where the data starts.
        if (off > cd_off || cd_off - off < 30 || le(b + off, 4) != kLocalSig) {
            err = "member '" + name + "' has a corrupt local header";
            return false;
        }
        const uint64_t data = off + 30 + le(b + off + 26, 2) + le(b + off + 28, 2);
        if (data > cd_off || csize > cd_off - data) {
            err = "member '" + name + "' data lies outside the file";
            return false;
        }
        if (crc32(b + data, size_t(csize)) != crc) {
            err = "member '" + name + "' fails its CRC-32 check (corrupt file)";
            return false;
        }
        if (!parse_npy_1d(b + data, size_t(csize), levels[level], err)) {
            err = "member '" + name + "' " + err;
            return false;
        }
    }
    return true;
}

// Members are written one after another, each level's values coming from source a bounded piece
// at a time; a member's CRC-32 is known only after its data, so its local header is patched then.
bool write_levels(const std::string & path, const std::vector<int64_t> & lens, const NpzLevelSource & source,
                  std::string & err) {
    if (lens.empty() || lens.size() > kMaxLevels) {
        err = "cannot write " + std::to_string(lens.size()) + " code levels";
        return false;
    }
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "wb"));
    if (!f) {
        err = std::string("cannot create: ") + std::strerror(errno);
        return false;
    }
    bool said = false;  // err already says why
    auto write = [&](const std::vector<unsigned char> & v) { return std::fwrite(v.data(), 1, v.size(), f.get()) == v.size(); };
    auto body = [&]() -> bool {
        std::vector<unsigned char> central, out;
        std::vector<int32_t> vals(size_t(1) << 14);
        uint64_t off = 0;  // bytes written so far
        for (size_t q = 0; q < lens.size(); ++q) {
            const std::string name = "level_" + std::to_string(q) + ".npy";
            std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (" + std::to_string(lens[q]) + ",), }";
            dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
            dict += '\n';
            std::vector<unsigned char> npy = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
            put(npy, dict.size(), 2);
            npy.insert(npy.end(), dict.begin(), dict.end());
            const uint64_t size = npy.size() + uint64_t(lens[q]) * 4;
            if (lens[q] < 0 || uint64_t(lens[q]) > 0x3FFFFFFCu || size > 0xFFFFFFF0u || off > 0xFFFFFFF0u - size) {
                err = "codes too large for a zip file";
                return !(said = true);
            }
            // Local header: version 2.0, no flags, stored, DOS time 0 / date 1980-01-01; CRC patched below.
            out.clear();
            put(out, kLocalSig, 4); put(out, 20, 2); put(out, 0, 2); put(out, 0, 2); put(out, 0, 2); put(out, 0x21, 2);
            put(out, 0, 4); put(out, size, 4); put(out, size, 4); put(out, name.size(), 2); put(out, 0, 2);
            out.insert(out.end(), name.begin(), name.end());
            out.insert(out.end(), npy.begin(), npy.end());
            uint32_t crc = crc32(npy.data(), npy.size());
            if (!write(out)) return false;
            for (int64_t done = 0; done < lens[q];) {
                const size_t n = size_t(std::min<int64_t>(int64_t(vals.size()), lens[q] - done));
                if (!source(q, vals.data(), n, err)) return !(said = true);
                out.clear();
                for (size_t i = 0; i < n; ++i) put(out, uint32_t(vals[i]), 4);
                crc = crc32(out.data(), out.size(), crc);
                if (!write(out)) return false;
                done += int64_t(n);
            }
            unsigned char c[4] = {uint8_t(crc), uint8_t(crc >> 8), uint8_t(crc >> 16), uint8_t(crc >> 24)};
            if (fseeko(f.get(), off_t(off + 14), SEEK_SET) != 0 || std::fwrite(c, 1, 4, f.get()) != 4 ||
                fseeko(f.get(), 0, SEEK_END) != 0) {
                return false;
            }
            put(central, kCentralSig, 4); put(central, 20, 2); put(central, 20, 2); put(central, 0, 2); put(central, 0, 2);
            put(central, 0, 2); put(central, 0x21, 2); put(central, crc, 4); put(central, size, 4);
            put(central, size, 4); put(central, name.size(), 2); put(central, 0, 2); put(central, 0, 2);
            put(central, 0, 2); put(central, 0, 2); put(central, 0, 4); put(central, off, 4);
            central.insert(central.end(), name.begin(), name.end());
            off += 30 + name.size() + size;
        }
        out.clear();
        put(out, kEndSig, 4); put(out, 0, 2); put(out, 0, 2); put(out, lens.size(), 2); put(out, lens.size(), 2);
        put(out, central.size(), 4); put(out, off, 4); put(out, 0, 2);
        return write(central) && write(out);
    };
    bool ok = body();
    ok = std::fclose(f.release()) == 0 && ok;
    if (!ok) {
        if (!said) err = std::string("write failed: ") + std::strerror(errno);
        std::remove(path.c_str());
    }
    return ok;
}

}  // namespace

bool npz_read_levels(const std::string & path, std::vector<std::vector<int32_t>> & levels, std::string & err) {
    return cli_guarded(path, err, [&] { return read_levels(path, levels, err); });
}

bool npz_write_levels(const std::string & path, const std::vector<std::vector<int32_t>> & levels, std::string & err) {
    return cli_guarded(path, err, [&] {
        std::vector<int64_t> lens;
        for (const auto & l : levels) lens.push_back(int64_t(l.size()));
        std::vector<size_t> at(levels.size(), 0);
        return write_levels(path, lens, [&](size_t q, int32_t * dst, size_t n, std::string &) {
            std::copy_n(levels[q].begin() + std::ptrdiff_t(at[q]), n, dst);
            at[q] += n;
            return true;
        }, err);
    });
}

bool npz_write_levels_from(const std::string & path, const std::vector<int64_t> & lens, const NpzLevelSource & source,
                           std::string & err) {
    return cli_guarded(path, err, [&] { return write_levels(path, lens, source, err); });
}

bool npz_path(const std::string & path) {
    return path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0;
}
