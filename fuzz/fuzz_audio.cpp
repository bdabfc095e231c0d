// Audio reader of the CLI (tools/cli/audio_io.cpp: libsndfile, channel mixing, soxr): any
// bytes as an audio file, read as the mono 16 kHz and stereo 24 kHz models would read it.
#include "audio_io.h"
#include "fuzz_common.h"

static void read_as(const std::string & path, int rate, int channels) {
    std::vector<float> pcm;
    int64_t n = -1;
    std::string err;
    AudioInfo src;
    if (audio_read(path, rate, channels, pcm, n, err, &src)) {
        codec_fuzz::check(n > 0 && (uint64_t) n * (uint64_t) channels == pcm.size(), "audio_read frame count");
    } else {
        codec_fuzz::check(!err.empty(), "audio_read failed without a message");
    }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const std::string path = codec_fuzz::as_file(data, size);
    AudioInfo info;
    std::string err;
    if (!audio_probe(path, info, err)) return 0;  // libsndfile refuses it: nothing of ours runs
    read_as(path, 16000, 1);
    read_as(path, 24000, 2);
    return 0;
}
