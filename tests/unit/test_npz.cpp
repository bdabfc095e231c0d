// Tests for the NPZ reader/writer of codec-cli (tools/cli/npz.h): round trip and hostile zips.
#include "npz.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

std::string le(uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += char((v >> (8 * i)) & 0xff);
    return s;
}

uint32_t crc32(const std::string & s) {
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : s) {
        c ^= b;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

// A v1.0 NPY member with header dict `shape` ("(3,)") and raw `data`.
std::string npy(const std::string & descr, const std::string & shape, const std::string & data) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
    dict += '\n';
    return std::string("\x93NUMPY\x01\x00", 8) + le(dict.size(), 2) + dict + data;
}

// A stored (uncompressed) zip of `members` (name, bytes); method 8 when `deflate_flag`.
std::string zip(const std::vector<std::pair<std::string, std::string>> & members, uint16_t method = 0) {
    std::string out, cd;
    for (const auto & [name, body] : members) {
        const uint32_t crc = crc32(body);
        const size_t off = out.size();
        out += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(method, 2) + le(0, 4) + le(crc, 4) + le(body.size(), 4) +
               le(body.size(), 4) + le(name.size(), 2) + le(0, 2) + name + body;
        cd += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(method, 2) + le(0, 4) + le(crc, 4) +
              le(body.size(), 4) + le(body.size(), 4) + le(name.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) +
              le(0, 4) + le(off, 4) + name;
    }
    const size_t cd_off = out.size();
    return out + cd + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(members.size(), 2) + le(members.size(), 2) +
           le(cd.size(), 4) + le(cd_off, 4) + le(0, 2);
}

class NpzTest : public ::testing::Test {
protected:
    std::string path = (std::filesystem::temp_directory_path() / ("codec_npz_test_" + std::to_string(::getpid()) + ".npz")).string();
    std::vector<std::vector<int32_t>> levels;
    std::string err;
    void TearDown() override { std::remove(path.c_str()); }

    void write(const std::string & bytes) { std::ofstream(path, std::ios::binary) << bytes; }
    void expect_error(const std::string & bytes, const std::string & needle) {
        write(bytes);
        err.clear();
        EXPECT_FALSE(npz_read_levels(path, levels, err));
        EXPECT_NE(err.find(needle), std::string::npos) << "error was: " << err;
    }
};

}  // namespace

TEST_F(NpzTest, RoundTrip) {
    const std::vector<std::vector<int32_t>> in = {{1, 2}, {3, 4, 5, 6}, {-7, 2147483647, 0, 1, 2, 3, 4, 5}};
    ASSERT_TRUE(npz_write_levels(path, in, err)) << err;
    ASSERT_TRUE(npz_read_levels(path, levels, err)) << err;
    EXPECT_EQ(levels, in);
}

TEST_F(NpzTest, ReadsHandBuiltI4AndI8) {
    write(zip({{"level_1.npy", npy("<i8", "(1,)", le(9, 8))}, {"level_0.npy", npy("<i4", "(2,)", le(1, 4) + le(2, 4))}}));
    ASSERT_TRUE(npz_read_levels(path, levels, err)) << err;
    EXPECT_EQ(levels, (std::vector<std::vector<int32_t>>{{1, 2}, {9}}));
}

TEST_F(NpzTest, RejectsHostileFiles) {
    const std::string good = npy("<i4", "(2,)", le(1, 4) + le(2, 4));
    expect_error("PK", "too short");
    expect_error(std::string(64, 'x'), "end-of-central-directory");
    expect_error(zip({{"level_0.npy", good}}, 8), "compressed");
    expect_error(zip({{"level_1.npy", good}}), "unexpected member");
    expect_error(zip({{"level_0.npy", npy("<f4", "(2,)", le(1, 4) + le(2, 4))}}), "'<i4' or '<i8'");
    expect_error(zip({{"level_0.npy", npy("<i4", "(1, 2)", le(1, 4) + le(2, 4))}}), "1-D");
    expect_error(zip({{"level_0.npy", npy("<i8", "(1,)", le(uint64_t(1) << 40, 8))}}), "does not fit int32");
    std::string bad_crc = zip({{"level_0.npy", good}});
    bad_crc[30 + 11 + good.size() - 1] ^= 1;  // last data byte of the member
    expect_error(bad_crc, "CRC-32");
}

TEST_F(NpzTest, RejectsShapeBombBeforeAllocating) {
    // 10^12 elements claimed by an 8-byte member: refused naming the field, nothing allocated.
    expect_error(zip({{"level_0.npy", npy("<i4", "(1000000000000,)", le(1, 4) + le(2, 4))}}), "'shape'");
    expect_error(zip({{"level_0.npy", npy("<i8", "(9223372036854775807,)", "")}}), "'shape'");
}
