// Tests for the NPY reader/writer of codec-cli (tools/cli/npy.h), including hostile files.
#include "npy.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

// A fresh directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = fs::temp_directory_path() /
                ("codec_npy_test_" + std::to_string(::getpid()) + "_" + std::to_string(tick) + "_" +
                 std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string & name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

void write_bytes(const std::string & path, const std::string & bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read_bytes(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string le(uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += char((v >> (8 * i)) & 0xff);
    return s;
}

// Builds an NPY file the way numpy does: magic, version, header length, padded dict, data.
std::string npy_bytes(const std::string & dict, const std::string & payload, int major = 1) {
    const size_t len_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    const size_t unpadded = 8 + len_bytes + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    return std::string("\x93NUMPY", 6) + char(major) + char(0) + le(header.size(), int(len_bytes)) +
           header + payload;
}

std::string dict(const std::string & descr, const std::string & shape, const char * fortran = "False") {
    return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

template <typename T>
std::string payload(const std::vector<T> & v) {
    std::string s;
    for (T x : v) s += le(uint64_t(x), int(sizeof(T)));
    return s;
}

class NpyTest : public ::testing::Test {
protected:
    TempDir dir;
    std::vector<int32_t> data;
    int64_t rows = -1, cols = -1;
    std::string err;

    // Expects reading bytes as int32 to fail with a message containing `needle`.
    void expect_i32_error(const std::string & bytes, const std::string & needle) {
        const std::string path = dir.file("bad.npy");
        write_bytes(path, bytes);
        err.clear();
        EXPECT_FALSE(npy_read_i32(path, data, rows, cols, err));
        EXPECT_NE(err.find(needle), std::string::npos) << "error was: " << err;
        EXPECT_NE(err.find(path), std::string::npos) << "error should name the file: " << err;
    }
};

TEST_F(NpyTest, RoundTripI32) {
    const std::vector<int32_t> in = {0, 1, -1, 1023, std::numeric_limits<int32_t>::max(),
                                     std::numeric_limits<int32_t>::min(), 7, 8, 9, 10, 11, 12};
    const std::string path = dir.file("codes.npy");
    ASSERT_TRUE(npy_write_i32(path, in.data(), 3, 4, err)) << err;
    ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << err;
    EXPECT_EQ(rows, 3);
    EXPECT_EQ(cols, 4);
    EXPECT_EQ(data, in);
}

TEST_F(NpyTest, WritesNumpyV1Layout) {
    const std::vector<int32_t> in = {1, 2, 3, 4, 5, 6};
    const std::string path = dir.file("codes.npy");
    ASSERT_TRUE(npy_write_i32(path, in.data(), 2, 3, err)) << err;
    const std::string bytes = read_bytes(path);
    ASSERT_GE(bytes.size(), 10u);
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t header_len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    EXPECT_EQ((10 + header_len) % 64, 0u);  // data is 64-byte aligned
    const std::string header = bytes.substr(10, header_len);
    EXPECT_NE(header.find("'descr': '<i4'"), std::string::npos);
    EXPECT_NE(header.find("'fortran_order': False"), std::string::npos);
    EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos);
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ(bytes.substr(10 + header_len), payload(in));
}

TEST_F(NpyTest, RoundTripF32) {
    const std::vector<float> in = {0.0f, -1.5f, 3.25f, 1e-30f, -1e30f, 0.1f};
    const std::string path = dir.file("latent.npy");
    ASSERT_TRUE(npy_write_f32(path, in.data(), 2, 3, err)) << err;
    std::vector<float> out;
    ASSERT_TRUE(npy_read_f32(path, out, rows, cols, err)) << err;
    EXPECT_EQ(rows, 2);
    EXPECT_EQ(cols, 3);
    EXPECT_EQ(out, in);
}

TEST_F(NpyTest, ReadsF64AsF32) {
    const std::string path = dir.file("f8.npy");
    std::string p;
    for (double d : {0.5, -2.0, 1e300}) {
        uint64_t u;
        std::memcpy(&u, &d, 8);
        p += le(u, 8);
    }
    write_bytes(path, npy_bytes(dict("<f8", "(1, 2)"), p.substr(0, 16)));
    std::vector<float> out;
    ASSERT_TRUE(npy_read_f32(path, out, rows, cols, err)) << err;
    EXPECT_EQ(out, (std::vector<float>{0.5f, -2.0f}));
    write_bytes(path, npy_bytes(dict("<f8", "(3,)"), p));
    EXPECT_FALSE(npy_read_f32(path, out, rows, cols, err));
    EXPECT_NE(err.find("float32"), std::string::npos) << err;
}

TEST_F(NpyTest, ReadsInt64) {
    const std::string path = dir.file("i8.npy");
    write_bytes(path, npy_bytes(dict("<i8", "(2, 2)"), payload<int64_t>({5, -6, 2147483647, -2147483648LL})));
    ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << err;
    EXPECT_EQ(rows, 2);
    EXPECT_EQ(cols, 2);
    EXPECT_EQ(data, (std::vector<int32_t>{5, -6, 2147483647, std::numeric_limits<int32_t>::min()}));
}

TEST_F(NpyTest, RejectsInt64OutsideInt32) {
    expect_i32_error(npy_bytes(dict("<i8", "(1, 2)"), payload<int64_t>({1, 2147483648LL})), "int32");
    expect_i32_error(npy_bytes(dict("<i8", "(1, 1)"), payload<int64_t>({-2147483649LL})), "int32");
}

TEST_F(NpyTest, ReadsInt16AndUInt16) {
    const std::string path = dir.file("i2.npy");
    write_bytes(path, npy_bytes(dict("<i2", "(1, 3)"), payload<int16_t>({-1, 2, 32767})));
    ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << err;
    EXPECT_EQ(data, (std::vector<int32_t>{-1, 2, 32767}));
    write_bytes(path, npy_bytes(dict("<u2", "(1, 2)"), payload<uint16_t>({65535, 3})));
    ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << err;
    EXPECT_EQ(data, (std::vector<int32_t>{65535, 3}));
}

TEST_F(NpyTest, OneDimensionalReadsAsSingleRow) {
    const std::string path = dir.file("1d.npy");
    write_bytes(path, npy_bytes(dict("<i4", "(4,)"), payload<int32_t>({1, 2, 3, 4})));
    ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << err;
    EXPECT_EQ(rows, 1);
    EXPECT_EQ(cols, 4);
    EXPECT_EQ(data.size(), 4u);
}

TEST_F(NpyTest, ReadsFormatVersions2And3) {
    for (int major : {2, 3}) {
        const std::string path = dir.file("v" + std::to_string(major) + ".npy");
        write_bytes(path, npy_bytes(dict("<i4", "(1, 2)"), payload<int32_t>({7, 8}), major));
        ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << "v" << major << ": " << err;
        EXPECT_EQ(data, (std::vector<int32_t>{7, 8}));
    }
}

TEST_F(NpyTest, AcceptsKeyOrderQuotesAndEmptyArray) {
    const std::string path = dir.file("ok.npy");
    write_bytes(path, npy_bytes("{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"<i4\"}",
                                payload<int32_t>({3, 4})));
    ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << err;
    EXPECT_EQ(data, (std::vector<int32_t>{3, 4}));
    write_bytes(path, npy_bytes(dict("<i4", "(0, 5)"), ""));
    ASSERT_TRUE(npy_read_i32(path, data, rows, cols, err)) << err;
    EXPECT_EQ(rows, 0);
    EXPECT_TRUE(data.empty());
}

TEST_F(NpyTest, RejectsMissingAndEmptyFiles) {
    EXPECT_FALSE(npy_read_i32(dir.file("nope.npy"), data, rows, cols, err));
    EXPECT_NE(err.find("nope.npy"), std::string::npos) << err;
    expect_i32_error("", "too short");
    EXPECT_FALSE(npy_read_i32(dir.file(""), data, rows, cols, err));  // the directory itself
}

TEST_F(NpyTest, RejectsTruncatedPreamble) {
    expect_i32_error(std::string("\x93NUM", 4), "too short");
    expect_i32_error(std::string("\x93NUMPY\x02\x00\x10", 9), "too short");
    expect_i32_error(std::string("\x93NUMPY\x02\x00\x10\x00", 10), "truncated");
}

TEST_F(NpyTest, RejectsBadMagicAndVersion) {
    std::string bytes = npy_bytes(dict("<i4", "(1, 1)"), payload<int32_t>({1}));
    std::string bad = bytes;
    bad[1] = 'X';
    expect_i32_error(bad, "magic");
    bad = bytes;
    bad[6] = 4;
    expect_i32_error(bad, "version 4.0");
    bad = bytes;
    bad[7] = 1;
    expect_i32_error(bad, "version 1.1");
}

TEST_F(NpyTest, RejectsHugeShapeClaimBeforeAllocating) {
    // 10^12 elements claimed by a ~100-byte file: must fail without trying to allocate 4 TB.
    const std::string bytes = npy_bytes(dict("<i4", "(1000000, 1000000)"), payload<int32_t>({1, 2, 3}));
    ASSERT_LT(bytes.size(), 200u);
    expect_i32_error(bytes, "(1000000, 1000000)");
    expect_i32_error(bytes, "header field 'shape'");  // names the field that lies
    expect_i32_error(npy_bytes(dict("<i4", "(1000000000000,)"), ""), "(1000000000000,)");
    expect_i32_error(npy_bytes(dict("<i4", "(1000000000000,)"), ""), "'shape'");
    std::vector<float> f;
    const std::string path = dir.file("bomb_f32.npy");
    write_bytes(path, npy_bytes(dict("<f4", "(1000000, 1000000)"), ""));
    EXPECT_FALSE(npy_read_f32(path, f, rows, cols, err));
    EXPECT_NE(err.find("'shape'"), std::string::npos) << err;
}

TEST_F(NpyTest, RejectsShapeProductOverflow) {
    expect_i32_error(npy_bytes(dict("<i4", "(4294967296, 4294967296)"), ""), "overflow");
    expect_i32_error(npy_bytes(dict("<i8", "(9223372036854775807, 2)"), ""), "overflow");
    // count fits int64 but count * itemsize does not: caught by the file-size check
    expect_i32_error(npy_bytes(dict("<i8", "(1, 4611686018427387904)"), ""), "data bytes");
    expect_i32_error(npy_bytes(dict("<i4", "(99999999999999999999, 1)"), ""), "too large");
}

TEST_F(NpyTest, RejectsFortranOrder) {
    expect_i32_error(npy_bytes(dict("<i4", "(1, 2)", "True"), payload<int32_t>({1, 2})), "fortran_order");
}

TEST_F(NpyTest, RejectsWrongDtype) {
    expect_i32_error(npy_bytes(dict("<f4", "(1, 1)"), payload<int32_t>({0})), "dtype '<f4'");
    expect_i32_error(npy_bytes(dict(">i4", "(1, 1)"), payload<int32_t>({0})), "dtype '>i4'");
    expect_i32_error(npy_bytes(dict("|u1", "(1, 4)"), payload<int32_t>({0})), "dtype '|u1'");
    expect_i32_error(npy_bytes(dict("<U3", "(1, 1)"), std::string(12, 'a')), "dtype '<U3'");
    const std::string path = dir.file("i4.npy");
    write_bytes(path, npy_bytes(dict("<i4", "(1, 1)"), payload<int32_t>({0})));
    std::vector<float> f;
    EXPECT_FALSE(npy_read_f32(path, f, rows, cols, err));
    EXPECT_NE(err.find("dtype '<i4'"), std::string::npos) << err;
}

TEST_F(NpyTest, RejectsWrongRank) {
    expect_i32_error(npy_bytes(dict("<i4", "(2, 2, 2)"), payload<int32_t>({1, 2, 3, 4, 5, 6, 7, 8})),
                     "(2, 2, 2)");
    expect_i32_error(npy_bytes(dict("<i4", "()"), payload<int32_t>({1})), "1-D or 2-D");
}

TEST_F(NpyTest, RejectsNegativeAndGarbageDims) {
    expect_i32_error(npy_bytes(dict("<i4", "(-1, 2)"), ""), "negative");
    expect_i32_error(npy_bytes(dict("<i4", "(2, -3)"), ""), "negative");
    expect_i32_error(npy_bytes(dict("<i4", "(abc, 2)"), ""), "malformed");
    expect_i32_error(npy_bytes(dict("<i4", "(2.5, 2)"), ""), "malformed");
    expect_i32_error(npy_bytes(dict("<i4", "(1 2)"), ""), "malformed");
    expect_i32_error(npy_bytes(dict("<i4", "[1, 2]"), ""), "tuple");
    expect_i32_error(npy_bytes(dict("<i4", "(1, 2"), ""), "malformed");
}

TEST_F(NpyTest, RejectsMalformedHeaderDicts) {
    const std::string one = payload<int32_t>({1});
    const struct {
        const char * header;
        const char * needle;
    } cases[] = {
        {"", "malformed"},
        {"not a dict", "malformed"},
        {"{'descr': '<i4', 'fortran_order': False}", "'shape'"},
        {"{'descr': '<i4', 'shape': (1, 1)}", "'fortran_order'"},
        {"{'fortran_order': False, 'shape': (1, 1)}", "'descr'"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1), 'extra': 1}", "'extra'"},
        {"{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (1, 1)}", "duplicate"},
        {"{'descr': '<i4, 'fortran_order': False, 'shape': (1, 1)}", "malformed"},
        {"{'descr': '<i4', 'fortran_order': Maybe, 'shape': (1, 1)}", "True or False"},
        {"{'descr': '<i4' 'fortran_order': False, 'shape': (1, 1)}", "malformed"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1)", "malformed"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1)} trailing", "after the header"},
        {"{'descr': '<\\x69', 'fortran_order': False, 'shape': (1, 1)}", "escape"},
        {"{descr: '<i4', 'fortran_order': False, 'shape': (1, 1)}", "quoted string"},
        {"{'descr' '<i4', 'fortran_order': False, 'shape': (1, 1)}", "':'"},
    };
    for (const auto & c : cases) {
        SCOPED_TRACE(c.header);
        expect_i32_error(npy_bytes(c.header, one), c.needle);
    }
    // NUL bytes inside the header
    static const char kNul[] = "{'descr': '<i4'\0, 'fortran_order': False, 'shape': (1, 1)}";
    expect_i32_error(npy_bytes(std::string(kNul, sizeof(kNul) - 1), one), "malformed");
}

TEST_F(NpyTest, RejectsHeaderLengthPastEof) {
    std::string bytes = npy_bytes(dict("<i4", "(1, 1)"), payload<int32_t>({1}));
    bytes[8] = char(0x60);  // header_len = 0xEA60 = 60000 in a ~132-byte file
    bytes[9] = char(0xEA);
    expect_i32_error(bytes, "past the end");
    std::string v2 = npy_bytes(dict("<i4", "(1, 1)"), payload<int32_t>({1}), 2);
    v2[8] = v2[9] = v2[10] = v2[11] = char(0xff);  // 4 GiB header in v2
    expect_i32_error(v2, "past the end");
}

TEST_F(NpyTest, RejectsDataSizeMismatch) {
    expect_i32_error(npy_bytes(dict("<i4", "(2, 3)"), payload<int32_t>({1, 2, 3, 4, 5})), "(2, 3)");
    expect_i32_error(npy_bytes(dict("<i4", "(2, 3)"), payload<int32_t>({1, 2, 3, 4, 5}) + "xx"), "(2, 3)");
    expect_i32_error(npy_bytes(dict("<i4", "(1, 2)"), payload<int32_t>({1, 2, 3})), "trailing");
}

TEST_F(NpyTest, WriteErrors) {
    const int32_t v[2] = {1, 2};
    EXPECT_FALSE(npy_write_i32(dir.file("missing_dir/x.npy"), v, 1, 2, err));
    EXPECT_NE(err.find("missing_dir/x.npy"), std::string::npos) << err;
    EXPECT_FALSE(npy_write_i32(dir.file("neg.npy"), v, -1, 2, err));
    EXPECT_NE(err.find("negative"), std::string::npos) << err;
    EXPECT_FALSE(npy_write_i32(dir.file("null.npy"), nullptr, 1, 2, err));
    EXPECT_FALSE(npy_write_f32(dir.file("huge.npy"), nullptr, std::numeric_limits<int64_t>::max(), 2, err));
    // an empty array needs no data
    EXPECT_TRUE(npy_write_i32(dir.file("empty.npy"), nullptr, 0, 4, err)) << err;
}

}  // namespace
