// Audio file I/O for codec-cli: libsndfile for reading/writing, libsoxr for resampling.
// Samples are float, interleaved [n_frames][channels]. Every function returns false with
// a message in err on failure; none throws.
#ifndef CODEC_CLI_AUDIO_IO_H
#define CODEC_CLI_AUDIO_IO_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct AudioInfo {
    int         sample_rate = 0;
    int         channels    = 0;
    int64_t     n_frames    = 0;  // as reported by the file header (may be an estimate)
    std::string format;           // e.g. "WAV (Microsoft) / Signed 16 bit PCM"
};

// Reads the header of an audio file without decoding it.
bool audio_probe(const std::string & path, AudioInfo & info, std::string & err);

// Reads any format the installed libsndfile supports (WAV, FLAC, OGG, MP3, ...), converts
// channels (N -> 1 averages, 1 -> N duplicates) and resamples with soxr (high quality) to
// target_rate. If source is not null it receives the file's own properties.
bool audio_read(const std::string & path, int target_rate, int target_channels,
                std::vector<float> & interleaved, int64_t & n_frames_out, std::string & err,
                AudioInfo * source = nullptr);

// Writes .wav, .flac or .ogg (chosen by extension, case-insensitive). subtype is "pcm16"
// (the default when empty), "pcm24" or "float" (WAV only); .ogg is always Vorbis and takes
// no subtype. PCM/Vorbis output is clipped to [-1, 1] (NaN becomes 0).
bool audio_write(const std::string & path, const float * interleaved, int64_t n_frames,
                 int channels, int rate, std::string & err, const std::string & subtype = "");

// Checks that audio_write would accept path's extension with subtype, so a caller can
// reject a bad --out before doing any expensive work.
bool audio_check_output(const std::string & path, const std::string & subtype, std::string & err);

// audio_read a block at a time, in memory bounded by the block: the same channel conversion
// and the same soxr resampler (fed block by block, flushed at the end), so the same samples as
// audio_read (checked by tests/unit/test_audio_io.cpp).
class AudioReader {
public:
    AudioReader();
    ~AudioReader();
    // block_frames: about how many frames (at target_rate) each read returns.
    bool open(const std::string & path, int target_rate, int target_channels, std::string & err,
              AudioInfo * source = nullptr, int64_t block_frames = 1 << 16);
    // The next block, converted (possibly empty while the resampler fills); false on error,
    // including an input that ends with no audio at all.
    bool read(std::vector<float> & interleaved, std::string & err);
    bool done() const;
    int64_t frames_out() const;  // converted frames returned so far
    int64_t frames_in() const;   // source frames decoded so far

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// audio_write a block at a time. n_frames_hint (the expected length; 0: unknown) only picks
// RF64 over WAV for outputs past 4 GB. An AudioWriter destroyed before close() removes the file.
class AudioWriter {
public:
    AudioWriter();
    ~AudioWriter();
    bool open(const std::string & path, int channels, int rate, const std::string & subtype,
              int64_t n_frames_hint, std::string & err);
    bool write(const float * interleaved, int64_t n_frames, std::string & err);
    bool close(std::string & err);  // fails if nothing was written
    int64_t frames() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Building blocks of audio_read, exposed for tests.
bool audio_convert_channels(const std::vector<float> & in, int in_channels, int out_channels,
                            std::vector<float> & out, std::string & err);
bool audio_resample(const std::vector<float> & in, int channels, int in_rate, int out_rate,
                    std::vector<float> & out, std::string & err);

#endif  // CODEC_CLI_AUDIO_IO_H
