// Tests for codec-cli's block-wise file I/O (the stream path): AudioReader/AudioWriter against
// audio_read/audio_write, NpyColumnReader against npy_read_i32, and the source-driven .npy/.npz
// writers against the in-memory ones (byte for byte).
#include "audio_io.h"
#include "npy.h"
#include "npz.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

class StreamIoTest : public ::testing::Test {
protected:
    fs::path dir;
    std::string err;
    void SetUp() override {
        const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
        dir = fs::temp_directory_path() / ("codec_stream_io_" + std::to_string(::getpid()) + "_" + std::to_string(tick));
        fs::create_directories(dir);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string file(const std::string & name) const { return (dir / name).string(); }
};

std::vector<float> noise(int64_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 0.2f);
    std::vector<float> out(static_cast<size_t>(n));
    for (float & x : out) x = d(rng);
    return out;
}

std::string bytes(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

// Reads path block by block with AudioReader.
bool read_blocks(const std::string & path, int rate, int ch, int64_t block, std::vector<float> & all, std::string & err) {
    AudioReader r;
    AudioInfo src;
    if (!r.open(path, rate, ch, err, &src, block)) return false;
    std::vector<float> buf;
    all.clear();
    while (!r.done()) {
        if (!r.read(buf, err)) return false;
        all.insert(all.end(), buf.begin(), buf.end());
    }
    return r.frames_out() == int64_t(all.size() / size_t(ch));
}

// The block reader gives audio_read's samples exactly: same channel mixing, and soxr fed block
// by block then flushed gives what its one-shot call gives.
TEST_F(StreamIoTest, BlockReaderEqualsWholeFileReader) {
    struct Case { int in_rate, in_ch, out_rate, out_ch; int64_t frames; };
    const Case cases[] = {
        {24000, 1, 24000, 1, 50000},  {44100, 2, 24000, 1, 100003}, {16000, 1, 24000, 2, 40001},
        {48000, 1, 44100, 1, 96000},  {22050, 2, 32000, 1, 7},
    };
    for (const Case & c : cases) {
        const std::string path = file("in.wav");
        const std::vector<float> in = noise(c.frames * c.in_ch, 7);
        ASSERT_TRUE(audio_write(path, in.data(), c.frames, c.in_ch, c.in_rate, err, "float")) << err;
        std::vector<float> whole;
        int64_t n = 0;
        ASSERT_TRUE(audio_read(path, c.out_rate, c.out_ch, whole, n, err)) << err;
        for (int64_t block : {int64_t(1), int64_t(999), int64_t(4096), int64_t(1) << 16}) {
            if (block == 1 && c.frames > 1000) continue;
            SCOPED_TRACE(std::to_string(c.in_rate) + " Hz x" + std::to_string(c.in_ch) + " -> " + std::to_string(c.out_rate) +
                         " Hz x" + std::to_string(c.out_ch) + ", block " + std::to_string(block));
            std::vector<float> blocks;
            ASSERT_TRUE(read_blocks(path, c.out_rate, c.out_ch, block, blocks, err)) << err;
            ASSERT_EQ(blocks.size(), whole.size());
            EXPECT_TRUE(blocks == whole);
        }
    }
}

TEST_F(StreamIoTest, BlockReaderErrors) {
    std::vector<float> all;
    EXPECT_FALSE(read_blocks(file("missing.wav"), 24000, 1, 4096, all, err));
    EXPECT_NE(err.find("no such file"), std::string::npos) << err;
    std::ofstream(file("junk.wav")) << "not audio";
    EXPECT_FALSE(read_blocks(file("junk.wav"), 24000, 1, 4096, all, err));
    const std::vector<float> in = noise(200 * 3, 1);
    ASSERT_TRUE(audio_write(file("three.wav"), in.data(), 200, 3, 16000, err, "float")) << err;
    EXPECT_FALSE(read_blocks(file("three.wav"), 24000, 2, 4096, all, err));
    EXPECT_NE(err.find("3 channels to 2"), std::string::npos) << err;
}

// Written block by block, the same bytes as one audio_write call.
TEST_F(StreamIoTest, BlockWriterEqualsWholeFileWriter) {
    const std::vector<float> in = noise(30011 * 2, 3);
    for (const char * name : {"a.wav", "a.flac"}) {
        for (const char * subtype : {"pcm16", "pcm24"}) {
            SCOPED_TRACE(std::string(name) + " " + subtype);
            ASSERT_TRUE(audio_write(file(std::string("ref_") + name), in.data(), 30011, 2, 24000, err, subtype)) << err;
            {
                AudioWriter w;
                ASSERT_TRUE(w.open(file(name), 2, 24000, subtype, 30011, err)) << err;
                for (int64_t t = 0; t < 30011; t += 1000) {
                    ASSERT_TRUE(w.write(in.data() + t * 2, std::min<int64_t>(1000, 30011 - t), err)) << err;
                }
                ASSERT_TRUE(w.close(err)) << err;
                EXPECT_EQ(w.frames(), 30011);
            }
            EXPECT_TRUE(bytes(file(name)) == bytes(file(std::string("ref_") + name)));
        }
    }
    {  // not closed: no half-written file is left
        AudioWriter w;
        ASSERT_TRUE(w.open(file("partial.wav"), 1, 24000, "", 0, err)) << err;
        ASSERT_TRUE(w.write(in.data(), 100, err)) << err;
    }
    EXPECT_FALSE(fs::exists(file("partial.wav")));
    AudioWriter empty;
    ASSERT_TRUE(empty.open(file("empty.wav"), 1, 24000, "", 0, err)) << err;
    EXPECT_FALSE(empty.close(err));
    EXPECT_NE(err.find("no audio"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(file("empty.wav")));
}

TEST_F(StreamIoTest, ColumnReaderEqualsWholeReader) {
    const int64_t rows = 5, cols = 1237;
    std::vector<int32_t> data(size_t(rows * cols));
    for (size_t i = 0; i < data.size(); ++i) data[i] = int32_t(i * 7919 % 2048) - (i % 3 == 0 ? 5 : 0);
    ASSERT_TRUE(npy_write_i32(file("c.npy"), data.data(), rows, cols, err)) << err;
    NpyColumnReader r;
    ASSERT_TRUE(r.open(file("c.npy"), err)) << err;
    EXPECT_EQ(r.rows(), rows);
    EXPECT_EQ(r.cols(), cols);
    std::vector<int32_t> block;
    for (int64_t t = 0; t < cols; t += 100) {
        const int64_t n = std::min<int64_t>(100, cols - t);
        ASSERT_TRUE(r.read(t, n, block, err)) << err;
        for (int64_t q = 0; q < rows; ++q)
            for (int64_t i = 0; i < n; ++i) ASSERT_EQ(block[size_t(q * n + i)], data[size_t(q * cols + t + i)]);
    }
    EXPECT_FALSE(r.read(cols - 1, 2, block, err));  // past the end
    // The same header checks as npy_read_i32.
    std::ofstream(file("bad.npy")) << "\x93NUMPY\x01";
    NpyColumnReader bad;
    EXPECT_FALSE(bad.open(file("bad.npy"), err));
    EXPECT_NE(err.find("bad.npy"), std::string::npos) << err;
}

// The source-driven writers produce the in-memory writers' bytes.
TEST_F(StreamIoTest, SourceWritersEqualInMemoryWriters) {
    const int64_t rows = 3, cols = 40000;  // more than one source piece
    std::vector<int32_t> data(size_t(rows * cols));
    for (size_t i = 0; i < data.size(); ++i) data[i] = int32_t(i % 4099);
    ASSERT_TRUE(npy_write_i32(file("ref.npy"), data.data(), rows, cols, err)) << err;
    size_t at = 0;
    ASSERT_TRUE(npy_write_i32_from(file("src.npy"), rows, cols, [&](int32_t * dst, size_t n, std::string &) {
        std::copy_n(data.begin() + std::ptrdiff_t(at), n, dst);
        at += n;
        return true;
    }, err)) << err;
    EXPECT_EQ(at, data.size());
    EXPECT_TRUE(bytes(file("src.npy")) == bytes(file("ref.npy")));
    // A failing source names its reason and leaves no file.
    EXPECT_FALSE(npy_write_i32_from(file("fail.npy"), rows, cols, [&](int32_t *, size_t, std::string & e) {
        e = "spool broke";
        return false;
    }, err));
    EXPECT_NE(err.find("spool broke"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(file("fail.npy")));

    const std::vector<std::vector<int32_t>> levels = {std::vector<int32_t>(20000, 3), std::vector<int32_t>(40000, 4),
                                                      std::vector<int32_t>(80000, 5)};
    ASSERT_TRUE(npz_write_levels(file("ref.npz"), levels, err)) << err;
    std::vector<size_t> pos(3, 0);
    ASSERT_TRUE(npz_write_levels_from(file("src.npz"), {20000, 40000, 80000}, [&](size_t q, int32_t * dst, size_t n, std::string &) {
        std::copy_n(levels[q].begin() + std::ptrdiff_t(pos[q]), n, dst);
        pos[q] += n;
        return true;
    }, err)) << err;
    EXPECT_TRUE(bytes(file("src.npz")) == bytes(file("ref.npz")));
    std::vector<std::vector<int32_t>> back;
    ASSERT_TRUE(npz_read_levels(file("src.npz"), back, err)) << err;
    EXPECT_TRUE(back == levels);
}

}  // namespace
