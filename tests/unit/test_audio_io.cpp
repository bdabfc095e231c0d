// Tests for the audio reader/writer of codec-cli (tools/cli/audio_io.h).
#include "audio_io.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;

// A fresh directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = fs::temp_directory_path() /
                ("codec_audio_test_" + std::to_string(::getpid()) + "_" + std::to_string(tick) + "_" +
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

std::string le(uint32_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += char((v >> (8 * i)) & 0xff);
    return s;
}

// Interleaved sine; channel c gets amplitude amp * (c + 1) / channels so channels differ.
std::vector<float> sine(int rate, int channels, int64_t n_frames, double freq, double amp) {
    std::vector<float> v(size_t(n_frames) * channels);
    for (int64_t i = 0; i < n_frames; ++i) {
        const double s = std::sin(2.0 * kPi * freq * double(i) / rate);
        for (int c = 0; c < channels; ++c) v[size_t(i) * channels + c] = float(amp * s * (c + 1) / channels);
    }
    return v;
}

float max_abs_diff(const std::vector<float> & a, const std::vector<float> & b, size_t from = 0,
                   size_t to = SIZE_MAX) {
    float m = 0.0f;
    to = std::min({to, a.size(), b.size()});
    for (size_t i = from; i < to; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

class AudioIoTest : public ::testing::Test {
protected:
    TempDir dir;
    std::vector<float> pcm;
    int64_t n_frames = -1;
    std::string err;

    // Writes `in`, reads it back in the same format and checks the samples.
    void round_trip(const std::string & name, const std::string & subtype, int rate, int channels,
                    float tolerance) {
        const std::vector<float> in = sine(rate, channels, rate / 2, 440.0, 0.8);
        const std::string path = dir.file(name);
        ASSERT_TRUE(audio_write(path, in.data(), rate / 2, channels, rate, err, subtype)) << err;
        AudioInfo src;
        ASSERT_TRUE(audio_read(path, rate, channels, pcm, n_frames, err, &src)) << err;
        EXPECT_EQ(src.sample_rate, rate);
        EXPECT_EQ(src.channels, channels);
        EXPECT_EQ(n_frames, rate / 2);
        ASSERT_EQ(pcm.size(), in.size());
        EXPECT_LE(max_abs_diff(pcm, in), tolerance);
    }

    void expect_read_error(const std::string & path, const std::string & needle) {
        err.clear();
        EXPECT_FALSE(audio_read(path, 16000, 1, pcm, n_frames, err));
        EXPECT_NE(err.find(needle), std::string::npos) << "error was: " << err;
    }
};

TEST_F(AudioIoTest, WavPcm16RoundTrip) { round_trip("a.wav", "", 16000, 1, 1.0f / 16000); }
TEST_F(AudioIoTest, WavPcm24RoundTrip) { round_trip("a.wav", "pcm24", 24000, 2, 1e-6f); }
TEST_F(AudioIoTest, WavFloatRoundTripIsExact) { round_trip("a.wav", "float", 44100, 1, 0.0f); }
TEST_F(AudioIoTest, FlacPcm16RoundTrip) { round_trip("a.flac", "pcm16", 22050, 2, 1.0f / 16000); }
TEST_F(AudioIoTest, FlacPcm24RoundTrip) { round_trip("a.flac", "pcm24", 48000, 1, 1e-6f); }
TEST_F(AudioIoTest, UppercaseExtension) { round_trip("A.WAV", "", 16000, 1, 1.0f / 16000); }

TEST_F(AudioIoTest, OggVorbisRoundTripIsClose) {
    const int rate = 44100;
    const std::vector<float> in = sine(rate, 1, rate, 440.0, 0.5);
    const std::string path = dir.file("a.ogg");
    ASSERT_TRUE(audio_write(path, in.data(), rate, 1, rate, err)) << err;
    ASSERT_TRUE(audio_read(path, rate, 1, pcm, n_frames, err)) << err;
    EXPECT_NEAR(double(n_frames), double(rate), 0.01 * rate);
    // lossy: compare energy, not samples
    double e_in = 0, e_out = 0;
    for (float v : in) e_in += double(v) * v;
    for (float v : pcm) e_out += double(v) * v;
    EXPECT_NEAR(e_out / e_in, 1.0, 0.05);
}

TEST_F(AudioIoTest, ProbeReportsFileProperties) {
    const std::vector<float> in = sine(32000, 2, 3200, 440.0, 0.5);
    const std::string path = dir.file("p.flac");
    ASSERT_TRUE(audio_write(path, in.data(), 3200, 2, 32000, err)) << err;
    AudioInfo info;
    ASSERT_TRUE(audio_probe(path, info, err)) << err;
    EXPECT_EQ(info.sample_rate, 32000);
    EXPECT_EQ(info.channels, 2);
    EXPECT_EQ(info.n_frames, 3200);
    EXPECT_NE(info.format.find("FLAC"), std::string::npos) << info.format;
    EXPECT_NE(info.format.find("16 bit"), std::string::npos) << info.format;
}

TEST_F(AudioIoTest, Resample16kTo24kScalesLengthAndKeepsTheTone) {
    const int64_t n_in = 16000;
    const std::vector<float> in = sine(16000, 1, n_in, 440.0, 0.5);
    const std::string path = dir.file("16k.wav");
    ASSERT_TRUE(audio_write(path, in.data(), n_in, 1, 16000, err, "float")) << err;
    ASSERT_TRUE(audio_read(path, 24000, 1, pcm, n_frames, err)) << err;
    EXPECT_NEAR(double(n_frames), n_in * 1.5, 1.0);
    // away from the edges the output is the same tone sampled at 24 kHz (soxr is phase-aligned)
    const std::vector<float> want = sine(24000, 1, n_frames, 440.0, 0.5);
    EXPECT_LE(max_abs_diff(pcm, want, 1000, size_t(n_frames) - 1000), 1e-3f);
}

TEST_F(AudioIoTest, ResampleDownKeepsRatio) {
    const std::vector<float> in = sine(44100, 2, 44100, 1000.0, 0.5);
    std::vector<float> out;
    ASSERT_TRUE(audio_resample(in, 2, 44100, 16000, out, err)) << err;
    EXPECT_NEAR(double(out.size() / 2), 16000.0, 1.0);
    EXPECT_EQ(out.size() % 2, 0u);
    EXPECT_FALSE(audio_resample(in, 2, 0, 16000, out, err));
    EXPECT_FALSE(audio_resample(in, 0, 44100, 16000, out, err));
}

TEST_F(AudioIoTest, ResampleRejectsAbsurdOutputLength) {
    // 100k frames claimed to be at 1 Hz would become 4.8e9 frames at 48 kHz
    const std::vector<float> in(100000, 0.0f);
    std::vector<float> out;
    EXPECT_FALSE(audio_resample(in, 1, 1, 48000, out, err));
    EXPECT_NE(err.find("too much audio"), std::string::npos) << err;
}

TEST_F(AudioIoTest, RejectsTinySampleRateBeforeAllocating) {
    // A 16 KB file claiming 1 Hz: 16000 frames would become 2.6e8 frames (1 GB) at 16 kHz.
    const std::vector<float> in(16000, 0.25f);
    const std::string path = dir.file("one_hz.wav");
    ASSERT_TRUE(audio_write(path, in.data(), int64_t(in.size()), 1, 1, err, "pcm16")) << err;
    EXPECT_FALSE(audio_read(path, 16000, 1, pcm, n_frames, err));
    EXPECT_NE(err.find("sample rate 1 Hz"), std::string::npos) << err;
    std::vector<float> out;  // 4 kHz -> 48 kHz (12x) is fine
    ASSERT_TRUE(audio_resample(std::vector<float>(400, 0.0f), 1, 4000, 48000, out, err)) << err;
}

// VmHWM and VmRSS of this process in KB (0 when /proc is not there).
int64_t proc_status_kb(const char * key) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind(key, 0) == 0) return std::stoll(line.substr(std::strlen(key)));
    }
    return 0;
}

TEST_F(AudioIoTest, ManyChannelHeaderReadsInBoundedMemory) {
    // A 4 KB WAV claiming 1024 channels (2 frames): the reader once sized its read chunk as
    // 65536 frames x channels, zero-filling 256 MB per read of a tiny file.
    const int ch = 1024;
    std::string data;
    for (int f = 0; f < 2; ++f)
        for (int c = 0; c < ch; ++c) data += le(uint32_t(f == 0 ? 8192 : 0), 2);  // frame 0: 0.25
    const std::string fmt = le(1, 2) + le(ch, 2) + le(16000, 4) + le(16000 * ch * 2, 4) + le(ch * 2, 2) + le(16, 2);
    const std::string body = "WAVEfmt " + le(uint32_t(fmt.size()), 4) + fmt + "data" + le(uint32_t(data.size()), 4) + data;
    const std::string path = dir.file("many.wav");
    write_bytes(path, "RIFF" + le(uint32_t(body.size()), 4) + body);
    {
        std::ofstream reset("/proc/self/clear_refs");  // "5" resets VmHWM to the current RSS
        reset << "5";
        if (!reset.flush() || proc_status_kb("VmHWM:") == 0) GTEST_SKIP() << "cannot reset the peak RSS here";
    }
    const int64_t rss0 = proc_status_kb("VmRSS:");
    ASSERT_TRUE(audio_read(path, 16000, 1, pcm, n_frames, err)) << err;
    const int64_t grown_kb = proc_status_kb("VmHWM:") - rss0;
    ASSERT_EQ(n_frames, 2);
    EXPECT_NEAR(pcm[0], 0.25f, 1e-6f);
    EXPECT_EQ(pcm[1], 0.0f);
    EXPECT_LT(grown_kb, 64 * 1024) << "reading a 4 KB file raised the peak RSS by " << grown_kb << " KB";
}

TEST_F(AudioIoTest, StereoDownmixAverages) {
    // L = 0.25, R = 0.75 -> mono 0.5; L = -1, R = 1 -> 0
    const std::vector<float> in = {0.25f, 0.75f, -1.0f, 1.0f, 0.5f, 0.5f};
    const std::string path = dir.file("st.wav");
    ASSERT_TRUE(audio_write(path, in.data(), 3, 2, 16000, err, "float")) << err;
    ASSERT_TRUE(audio_read(path, 16000, 1, pcm, n_frames, err)) << err;
    ASSERT_EQ(n_frames, 3);
    EXPECT_EQ(pcm, (std::vector<float>{0.5f, 0.0f, 0.5f}));
}

TEST_F(AudioIoTest, MonoIsDuplicatedToStereo) {
    const std::vector<float> in = {0.1f, -0.2f};
    std::vector<float> out;
    ASSERT_TRUE(audio_convert_channels(in, 1, 2, out, err)) << err;
    EXPECT_EQ(out, (std::vector<float>{0.1f, 0.1f, -0.2f, -0.2f}));
}

TEST_F(AudioIoTest, UnsupportedChannelConversionNamesBothCounts) {
    const std::vector<float> in = sine(16000, 3, 100, 440.0, 0.5);
    const std::string path = dir.file("3ch.wav");
    ASSERT_TRUE(audio_write(path, in.data(), 100, 3, 16000, err)) << err;
    EXPECT_FALSE(audio_read(path, 16000, 2, pcm, n_frames, err));
    EXPECT_NE(err.find("3 channels to 2"), std::string::npos) << err;
}

TEST_F(AudioIoTest, PcmOutputIsClipped) {
    const std::vector<float> in = {2.0f, -3.0f, NAN, 0.5f};
    const std::string pcm_path = dir.file("clip.wav"), float_path = dir.file("noclip.wav");
    ASSERT_TRUE(audio_write(pcm_path, in.data(), 4, 1, 16000, err)) << err;
    ASSERT_TRUE(audio_read(pcm_path, 16000, 1, pcm, n_frames, err)) << err;
    ASSERT_EQ(pcm.size(), 4u);
    EXPECT_NEAR(pcm[0], 1.0f, 1e-4f);
    EXPECT_NEAR(pcm[1], -1.0f, 1e-4f);
    EXPECT_EQ(pcm[2], 0.0f);
    EXPECT_NEAR(pcm[3], 0.5f, 1e-4f);
    // float WAV keeps out-of-range values
    ASSERT_TRUE(audio_write(float_path, in.data(), 4, 1, 16000, err, "float")) << err;
    ASSERT_TRUE(audio_read(float_path, 16000, 1, pcm, n_frames, err)) << err;
    EXPECT_EQ(pcm[0], 2.0f);
    EXPECT_EQ(pcm[1], -3.0f);
}

TEST_F(AudioIoTest, ReadErrors) {
    expect_read_error(dir.file("missing.wav"), "no such file");
    expect_read_error(dir.file(""), "directory");

    std::string garbage(4096, '\0');
    std::mt19937 rng(1234);
    for (char & c : garbage) c = char(rng());
    write_bytes(dir.file("garbage.wav"), garbage);
    expect_read_error(dir.file("garbage.wav"), "cannot read audio");

    write_bytes(dir.file("zero.wav"), "");
    expect_read_error(dir.file("zero.wav"), "cannot read audio");

    // A valid 16-bit mono WAV header with an empty data chunk.
    const std::string empty_wav = "RIFF" + le(36, 4) + "WAVE" + "fmt " + le(16, 4) + le(1, 2) + le(1, 2) +
                                  le(16000, 4) + le(32000, 4) + le(2, 2) + le(16, 2) + "data" + le(0, 4);
    write_bytes(dir.file("empty.wav"), empty_wav);
    expect_read_error(dir.file("empty.wav"), "no audio");

    // errors name the file
    EXPECT_NE(err.find("empty.wav"), std::string::npos) << err;

    const std::vector<float> in = sine(16000, 1, 100, 440.0, 0.5);
    ASSERT_TRUE(audio_write(dir.file("ok.wav"), in.data(), 100, 1, 16000, err)) << err;
    EXPECT_FALSE(audio_read(dir.file("ok.wav"), 0, 1, pcm, n_frames, err));
    EXPECT_FALSE(audio_read(dir.file("ok.wav"), 16000, 0, pcm, n_frames, err));
}

TEST_F(AudioIoTest, WriteErrors) {
    const std::vector<float> in = sine(16000, 1, 100, 440.0, 0.5);
    const struct {
        std::string path, subtype;
        int64_t frames;
        int channels, rate;
        const float * data;
        const char * needle;
    } cases[] = {
        {dir.file("a.mp4"), "", 100, 1, 16000, in.data(), "extension '.mp4'"},
        {dir.file("noext"), "", 100, 1, 16000, in.data(), "extension ''"},
        {dir.file("a.wav"), "pcm8", 100, 1, 16000, in.data(), "subtype 'pcm8'"},
        {dir.file("a.flac"), "float", 100, 1, 16000, in.data(), "FLAC"},
        {dir.file("a.ogg"), "pcm16", 100, 1, 16000, in.data(), "Vorbis"},
        {dir.file("a.wav"), "", 0, 1, 16000, in.data(), "no audio"},
        {dir.file("a.wav"), "", 100, 1, 16000, nullptr, "no audio"},
        {dir.file("a.wav"), "", 100, 0, 16000, in.data(), "0 channels"},
        {dir.file("a.wav"), "", 50, 2, 0, in.data(), "0 Hz"},
        {dir.file("a.flac"), "", 10, 10, 16000, in.data(), "10 channels"},
        {dir.file("no_dir/a.wav"), "", 100, 1, 16000, in.data(), "cannot create"},
    };
    for (const auto & c : cases) {
        SCOPED_TRACE(c.path + " " + c.subtype);
        err.clear();
        EXPECT_FALSE(audio_write(c.path, c.data, c.frames, c.channels, c.rate, err, c.subtype));
        EXPECT_NE(err.find(c.needle), std::string::npos) << "error was: " << err;
        EXPECT_NE(err.find(c.path), std::string::npos) << "error should name the file: " << err;
    }
    EXPECT_FALSE(fs::exists(dir.file("a.wav")));  // nothing half-written is left behind
}

TEST_F(AudioIoTest, CheckOutput) {
    EXPECT_TRUE(audio_check_output("x.wav", "float", err)) << err;
    EXPECT_TRUE(audio_check_output("x.flac", "", err)) << err;
    EXPECT_TRUE(audio_check_output("x.ogg", "", err)) << err;
    EXPECT_FALSE(audio_check_output("x.flac", "float", err));
    EXPECT_FALSE(audio_check_output("x.mp4", "", err));
}

}  // namespace
