// Audio I/O via libsndfile + libsoxr. All library handles are RAII-owned so every early
// return releases them; exceptions (bad_alloc) are caught at the public entry points.
#include "audio_io.h"
#include "guarded.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <system_error>
#include <type_traits>

namespace {

constexpr sf_count_t kChunkFrames = 1 << 16;   // writing: frames per sf_writef_float call
constexpr sf_count_t kChunkSamples = 1 << 16;  // reading: samples (all channels) per call
constexpr int64_t    kMaxResampledFrames = int64_t(1) << 31;  // ~12 h at 48 kHz
constexpr int        kMaxUpsampling = 256;                     // 8 kHz -> 48 kHz is 6

struct SndfileCloser {
    void operator()(SNDFILE * f) const { if (f) sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// "WAV (Microsoft) / Signed 16 bit PCM"; SFC_GET_FORMAT_INFO looks up a major format or,
// when no major bits are set, a subtype.
std::string format_name(int format) {
    auto name = [](int f) -> std::string {
        SF_FORMAT_INFO fi = {};
        fi.format = f;
        if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) != 0 || !fi.name) return "unknown";
        return fi.name;
    };
    return name(format & SF_FORMAT_TYPEMASK) + " / " + name(format & SF_FORMAT_SUBMASK);
}

bool open_for_read(const std::string & path, SndfilePtr & sf, SF_INFO & info, std::string & err) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        err = "no such file";
        return false;
    }
    if (std::filesystem::is_directory(path, ec)) {
        err = "is a directory";
        return false;
    }
    info = {};
    sf.reset(sf_open(path.c_str(), SFM_READ, &info));
    if (!sf) {
        err = std::string("cannot read audio: ") + sf_strerror(nullptr);
        return false;
    }
    if (info.channels <= 0) {
        err = "file reports " + std::to_string(info.channels) + " channels";
        return false;
    }
    if (info.samplerate <= 0) {
        err = "file reports sample rate " + std::to_string(info.samplerate);
        return false;
    }
    return true;
}

// Reads until EOF instead of trusting info.frames, which is only an estimate for some
// formats (MP3) and could be hostile.
bool read_all(SNDFILE * sf, const SF_INFO & info, std::vector<float> & out, std::string & err) {
    const size_t ch = size_t(info.channels);
    // The read chunk holds a bounded number of samples, not frames (a header may claim
    // hundreds of channels), and no more frames than the header claims (short files stay
    // cheap). The frame count is the header's word only: it sizes no more than a modest
    // reservation, and reading goes on until the decoder runs dry.
    sf_count_t chunk = std::max<sf_count_t>(1, kChunkSamples / sf_count_t(ch));
    if (info.frames > 0) chunk = std::min(chunk, info.frames);
    std::vector<float> buf(size_t(chunk) * ch);
    out.clear();
    if (info.frames > 0 && uint64_t(info.frames) * ch <= (uint64_t(1) << 24)) {
        out.reserve(size_t(info.frames) * ch);
    }
    for (;;) {
        const sf_count_t got = sf_readf_float(sf, buf.data(), chunk);
        if (got > 0) out.insert(out.end(), buf.begin(), buf.begin() + std::ptrdiff_t(got) * std::ptrdiff_t(ch));
        if (got < chunk) break;
    }
    if (sf_error(sf) != SF_ERR_NO_ERROR) {
        err = std::string("decode error: ") + sf_strerror(sf);
        return false;
    }
    if (out.empty()) {
        err = "contains no audio samples";
        return false;
    }
    return true;
}

std::string lower_extension(const std::string & path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext;
}

// Picks the libsndfile format for path's extension and the requested subtype.
bool output_format(const std::string & path, const std::string & subtype, int64_t n_frames,
                   int channels, int & format, std::string & err) {
    const std::string ext = lower_extension(path);
    const std::string sub = subtype.empty() ? "pcm16" : subtype;
    int sub_fmt = 0;
    if (sub == "pcm16")      sub_fmt = SF_FORMAT_PCM_16;
    else if (sub == "pcm24") sub_fmt = SF_FORMAT_PCM_24;
    else if (sub == "float") sub_fmt = SF_FORMAT_FLOAT;
    else {
        err = "unknown subtype '" + subtype + "' (expected pcm16, pcm24 or float)";
        return false;
    }
    if (ext == ".wav") {
        // Plain RIFF sizes are 32-bit; switch to RF64 before the data would overflow them.
        const int bytes = sub_fmt == SF_FORMAT_PCM_16 ? 2 : sub_fmt == SF_FORMAT_PCM_24 ? 3 : 4;
        const bool big = double(n_frames) * channels * bytes > double(0xFFFFFFFFu) - 4096.0;
        format = (big ? SF_FORMAT_RF64 : SF_FORMAT_WAV) | sub_fmt;
    } else if (ext == ".flac") {
        if (sub_fmt == SF_FORMAT_FLOAT) {
            err = "FLAC cannot store float samples (use pcm16 or pcm24)";
            return false;
        }
        format = SF_FORMAT_FLAC | sub_fmt;
    } else if (ext == ".ogg") {
        if (!subtype.empty()) {
            err = "subtype '" + subtype + "' does not apply to .ogg (always Vorbis)";
            return false;
        }
        format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    } else {
        err = "unknown output extension '" + ext + "' (expected .wav, .flac or .ogg)";
        return false;
    }
    return true;
}

bool write_frames(SNDFILE * sf, const float * data, int64_t n_frames, int channels, bool clip,
                  std::string & err) {
    std::vector<float> chunk(size_t(kChunkFrames) * size_t(channels));
    for (int64_t done = 0; done < n_frames;) {
        const sf_count_t n = sf_count_t(std::min<int64_t>(kChunkFrames, n_frames - done));
        const float * src = data + size_t(done) * size_t(channels);
        const size_t n_samples = size_t(n) * size_t(channels);
        if (clip) {
            for (size_t i = 0; i < n_samples; ++i) {
                const float v = src[i];
                chunk[i] = std::isnan(v) ? 0.0f : std::min(1.0f, std::max(-1.0f, v));
            }
            src = chunk.data();
        }
        if (sf_writef_float(sf, src, n) != n) {
            err = std::string("write failed: ") + sf_strerror(sf);
            return false;
        }
        done += n;
    }
    return true;
}

}  // namespace

bool audio_probe(const std::string & path, AudioInfo & out, std::string & err) {
    return cli_guarded(path, err, [&] {
        SndfilePtr sf;
        SF_INFO info;
        if (!open_for_read(path, sf, info, err)) return false;
        out.sample_rate = info.samplerate;
        out.channels    = info.channels;
        out.n_frames    = info.frames;
        out.format      = format_name(info.format);
        return true;
    });
}

bool audio_convert_channels(const std::vector<float> & in, int in_channels, int out_channels,
                            std::vector<float> & out, std::string & err) {
    return cli_guarded("", err, [&] {
        if (in_channels <= 0 || out_channels <= 0) {
            err = "invalid channel counts " + std::to_string(in_channels) + " -> " +
                  std::to_string(out_channels);
            return false;
        }
        const size_t n_frames = in.size() / size_t(in_channels);
        if (in_channels == out_channels) {
            out = in;
        } else if (out_channels == 1) {
            out.assign(n_frames, 0.0f);
            for (size_t f = 0; f < n_frames; ++f) {
                double sum = 0.0;
                for (int c = 0; c < in_channels; ++c) sum += in[f * in_channels + c];
                out[f] = float(sum / in_channels);
            }
        } else if (in_channels == 1) {
            out.resize(n_frames * size_t(out_channels));
            for (size_t f = 0; f < n_frames; ++f) {
                std::fill_n(out.begin() + f * out_channels, out_channels, in[f]);
            }
        } else {
            err = "cannot convert " + std::to_string(in_channels) + " channels to " +
                  std::to_string(out_channels) + " (only downmix to mono or mono duplication)";
            return false;
        }
        return true;
    });
}

bool audio_resample(const std::vector<float> & in, int channels, int in_rate, int out_rate,
                    std::vector<float> & out, std::string & err) {
    return cli_guarded("", err, [&] {
        if (channels <= 0 || in_rate <= 0 || out_rate <= 0) {
            err = "invalid resampling parameters (channels " + std::to_string(channels) + ", " +
                  std::to_string(in_rate) + " Hz -> " + std::to_string(out_rate) + " Hz)";
            return false;
        }
        if (in_rate == out_rate) {
            out = in;
            return true;
        }
        const int64_t in_frames = int64_t(in.size() / size_t(channels));
        if (in_frames > std::numeric_limits<int64_t>::max() / out_rate) {
            err = "input too long to resample";
            return false;
        }
        // soxr's one-shot call flushes its filter, producing round(in * ratio) frames;
        // one frame of slack covers rounding.
        const int64_t out_cap = (in_frames * out_rate + in_rate - 1) / in_rate + 1;
        // A header with a tiny sample rate could otherwise demand a multi-GB allocation.
        if (out_cap > kMaxResampledFrames) {
            err = "resampling " + std::to_string(in_frames) + " frames from " + std::to_string(in_rate) +
                  " Hz to " + std::to_string(out_rate) + " Hz gives too much audio";
            return false;
        }
        // Below that total, a header's tiny sample rate could still turn a few KB into GBs.
        if (out_rate / in_rate >= kMaxUpsampling) {
            err = "sample rate " + std::to_string(in_rate) + " Hz is implausibly low: resampling to " +
                  std::to_string(out_rate) + " Hz would grow the audio more than " + std::to_string(kMaxUpsampling) + "x";
            return false;
        }
        out.resize(size_t(out_cap) * size_t(channels));
        const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        size_t done = 0;
        const soxr_error_t e = soxr_oneshot(in_rate, out_rate, unsigned(channels), in.data(),
                                            size_t(in_frames), nullptr, out.data(), size_t(out_cap),
                                            &done, &io, &q, nullptr);
        if (e) {
            err = std::string("resampling failed: ") + soxr_strerror(e);
            return false;
        }
        out.resize(done * size_t(channels));
        return true;
    });
}

bool audio_read(const std::string & path, int target_rate, int target_channels,
                std::vector<float> & interleaved, int64_t & n_frames_out, std::string & err,
                AudioInfo * source) {
    return cli_guarded(path, err, [&] {
        if (target_rate <= 0 || target_channels <= 0) {
            err = "invalid target format (" + std::to_string(target_rate) + " Hz, " +
                  std::to_string(target_channels) + " channels)";
            return false;
        }
        SndfilePtr sf;
        SF_INFO info;
        if (!open_for_read(path, sf, info, err)) return false;
        if (source) {
            source->sample_rate = info.samplerate;
            source->channels    = info.channels;
            source->n_frames    = info.frames;
            source->format      = format_name(info.format);
        }
        std::vector<float> raw;
        if (!read_all(sf.get(), info, raw, err)) return false;
        sf.reset();
        if (source) source->n_frames = int64_t(raw.size() / size_t(info.channels));

        // Mix channels first: resampling fewer channels is cheaper.
        std::vector<float> mixed;
        if (!audio_convert_channels(raw, info.channels, target_channels, mixed, err)) return false;
        std::vector<float>().swap(raw);
        if (!audio_resample(mixed, target_channels, info.samplerate, target_rate, interleaved, err)) {
            return false;
        }
        n_frames_out = int64_t(interleaved.size() / size_t(target_channels));
        if (n_frames_out == 0) {
            err = "no audio left after resampling";
            return false;
        }
        return true;
    });
}

bool audio_check_output(const std::string & path, const std::string & subtype, std::string & err) {
    return cli_guarded(path, err, [&] {
        int format = 0;
        return output_format(path, subtype, 1, 1, format, err);
    });
}

// Creates the output file for `channels` x `rate` audio of about n_frames frames (the length picks
// WAV or RF64); *clip tells whether the format is integer (samples clipped to [-1, 1]).
static SNDFILE * open_output(const std::string & path, const std::string & subtype, int64_t n_frames, int channels,
                             int rate, bool * clip, std::string & err) {
    if (channels <= 0 || rate <= 0) {
        err = "invalid output format (" + std::to_string(channels) + " channels, " + std::to_string(rate) + " Hz)";
        return nullptr;
    }
    SF_INFO info = {};
    if (!output_format(path, subtype, n_frames, channels, info.format, err)) return nullptr;
    info.samplerate = rate;
    info.channels   = channels;
    if (!sf_format_check(&info)) {
        err = "libsndfile cannot write " + std::to_string(channels) + " channels at " +
              std::to_string(rate) + " Hz in this format";
        return nullptr;
    }
    SNDFILE * sf = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!sf) err = std::string("cannot create: ") + sf_strerror(nullptr);
    *clip = (info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_FLOAT;
    return sf;
}

bool audio_write(const std::string & path, const float * interleaved, int64_t n_frames,
                 int channels, int rate, std::string & err, const std::string & subtype) {
    return cli_guarded(path, err, [&] {
        if (!interleaved || n_frames <= 0) {
            err = "no audio to write (" + std::to_string(n_frames) + " frames)";
            return false;
        }
        bool clip = false;
        SndfilePtr sf(open_output(path, subtype, n_frames, channels, rate, &clip, err));
        if (!sf) return false;
        bool ok = write_frames(sf.get(), interleaved, n_frames, channels, clip, err);
        if (sf_close(sf.release()) != 0 && ok) {
            err = "error finalizing the file";
            ok = false;
        }
        if (!ok) std::remove(path.c_str());
        return ok;
    });
}

// ---------------------------------------------------------------------------------------
// Block-wise reading and writing

struct SoxrDeleter {
    void operator()(soxr_t s) const { if (s) soxr_delete(s); }
};

struct AudioReader::Impl {
    std::string path;
    SndfilePtr sf;
    SF_INFO info = {};
    int rate = 0, channels = 0;
    sf_count_t chunk = 0;
    std::unique_ptr<std::remove_pointer_t<soxr_t>, SoxrDeleter> soxr;  // null: no resampling
    bool eof = false, done = false;
    int64_t in = 0, out = 0;
    std::vector<float> raw, mixed, buf;
};

AudioReader::AudioReader() = default;
AudioReader::~AudioReader() = default;
bool AudioReader::done() const { return !impl_ || impl_->done; }
int64_t AudioReader::frames_out() const { return impl_ ? impl_->out : 0; }
int64_t AudioReader::frames_in() const { return impl_ ? impl_->in : 0; }

bool AudioReader::open(const std::string & path, int target_rate, int target_channels, std::string & err,
                       AudioInfo * source, int64_t block_frames) {
    return cli_guarded(path, err, [&] {
        impl_ = std::make_unique<Impl>();
        Impl & r = *impl_;
        r.path = path;
        if (target_rate <= 0 || target_channels <= 0) {
            err = "invalid target format (" + std::to_string(target_rate) + " Hz, " +
                  std::to_string(target_channels) + " channels)";
            return false;
        }
        if (!open_for_read(path, r.sf, r.info, err)) return false;
        if (source) {
            source->sample_rate = r.info.samplerate;
            source->channels    = r.info.channels;
            source->n_frames    = r.info.frames;
            source->format      = format_name(r.info.format);
        }
        r.rate = target_rate;
        r.channels = target_channels;
        // Source frames per read for block_frames at the target rate, and a bounded number of
        // samples whatever the channel count claimed.
        const double src_frames = std::ceil(double(std::max<int64_t>(block_frames, 1)) * r.info.samplerate / target_rate);
        r.chunk = std::max<sf_count_t>(1, std::min<sf_count_t>(sf_count_t(std::min(src_frames, 1e9)),
                                                               kChunkSamples * 16 / r.info.channels));
        if (r.info.channels != target_channels && target_channels != 1 && r.info.channels != 1) {
            err = "cannot convert " + std::to_string(r.info.channels) + " channels to " +
                  std::to_string(target_channels) + " (only downmix to mono or mono duplication)";
            return false;
        }
        if (r.info.samplerate != target_rate) {
            if (target_rate / r.info.samplerate >= kMaxUpsampling) {
                err = "sample rate " + std::to_string(r.info.samplerate) + " Hz is implausibly low: resampling to " +
                      std::to_string(target_rate) + " Hz would grow the audio more than " + std::to_string(kMaxUpsampling) + "x";
                return false;
            }
            // The parameters of audio_resample's soxr_oneshot.
            const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
            const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
            soxr_error_t e = nullptr;
            r.soxr.reset(soxr_create(r.info.samplerate, target_rate, unsigned(target_channels), &e, &io, &q, nullptr));
            if (e || !r.soxr) {
                err = std::string("resampling failed: ") + (e ? soxr_strerror(e) : "cannot create the resampler");
                return false;
            }
        }
        return true;
    });
}

bool AudioReader::read(std::vector<float> & out, std::string & err) {
    out.clear();
    if (!impl_) return true;
    Impl & r = *impl_;
    return cli_guarded(r.path, err, [&] {
        if (r.done) return true;
        const size_t ch = size_t(r.info.channels);
        if (!r.eof) {
            r.raw.resize(size_t(r.chunk) * ch);
            const sf_count_t got = sf_readf_float(r.sf.get(), r.raw.data(), r.chunk);
            if (got < r.chunk) r.eof = true;
            if (sf_error(r.sf.get()) != SF_ERR_NO_ERROR) {
                err = std::string("decode error: ") + sf_strerror(r.sf.get());
                return false;
            }
            r.raw.resize(size_t(std::max<sf_count_t>(got, 0)) * ch);
            r.in += std::max<sf_count_t>(got, 0);
            if (r.eof && r.in == 0) {
                err = "contains no audio samples";
                return false;
            }
            if (!audio_convert_channels(r.raw, r.info.channels, r.channels, r.mixed, err)) return false;
        }
        if (!r.soxr) {
            out.swap(r.mixed);
        } else {
            // Feed the block until soxr took all of it and no longer fills the output buffer;
            // at the end of the input, flush (in = NULL) until nothing more comes out.
            const size_t in_frames = r.mixed.size() / size_t(r.channels);
            const size_t cap = size_t(double(std::max<size_t>(in_frames, 1024)) * r.rate / r.info.samplerate) + 64;
            r.buf.resize(cap * size_t(r.channels));
            size_t used = 0;
            for (bool flush = false;;) {
                size_t idone = 0, odone = 0;
                const float * in = r.mixed.data() + used * size_t(r.channels);
                const soxr_error_t e = soxr_process(r.soxr.get(), flush ? nullptr : in, flush ? 0 : in_frames - used,
                                                    flush ? nullptr : &idone, r.buf.data(), cap, &odone);
                if (e) {
                    err = std::string("resampling failed: ") + soxr_strerror(e);
                    return false;
                }
                used += idone;
                out.insert(out.end(), r.buf.begin(), r.buf.begin() + std::ptrdiff_t(odone * size_t(r.channels)));
                if (flush ? odone == 0 : (used >= in_frames && odone < cap)) {
                    if (flush || !r.eof) break;
                    flush = true;
                }
            }
        }
        r.out += int64_t(out.size() / size_t(r.channels));
        if (r.eof) {
            r.done = true;
            if (r.out == 0) {
                err = "no audio left after resampling";
                return false;
            }
        }
        return true;
    });
}

struct AudioWriter::Impl {
    std::string path;
    SndfilePtr sf;
    int channels = 0;
    bool clip = true;
    int64_t frames = 0;
};

AudioWriter::AudioWriter() = default;
AudioWriter::~AudioWriter() {
    if (impl_ && impl_->sf) {  // never closed: an incomplete file
        impl_->sf.reset();
        std::remove(impl_->path.c_str());
    }
}
int64_t AudioWriter::frames() const { return impl_ ? impl_->frames : 0; }

bool AudioWriter::open(const std::string & path, int channels, int rate, const std::string & subtype,
                       int64_t n_frames_hint, std::string & err) {
    return cli_guarded(path, err, [&] {
        impl_ = std::make_unique<Impl>();
        impl_->path = path;
        impl_->channels = channels;
        // A margin over the hint: the length is not known exactly before the end.
        const int64_t hint = n_frames_hint + n_frames_hint / 8 + 65536;
        impl_->sf.reset(open_output(path, subtype, hint, channels, rate, &impl_->clip, err));
        return impl_->sf != nullptr;
    });
}

bool AudioWriter::write(const float * data, int64_t n_frames, std::string & err) {
    if (!impl_ || !impl_->sf) {
        err = "audio output is not open";
        return false;
    }
    if (n_frames <= 0) return true;
    return cli_guarded(impl_->path, err, [&] {
        if (!write_frames(impl_->sf.get(), data, n_frames, impl_->channels, impl_->clip, err)) return false;
        impl_->frames += n_frames;
        return true;
    });
}

bool AudioWriter::close(std::string & err) {
    if (!impl_ || !impl_->sf) {
        err = "audio output is not open";
        return false;
    }
    return cli_guarded(impl_->path, err, [&] {
        const bool empty = impl_->frames == 0;
        const bool closed = sf_close(impl_->sf.release()) == 0;
        if (empty || !closed) {
            err = empty ? "no audio to write (0 frames)" : "error finalizing the file";
            std::remove(impl_->path.c_str());
            return false;
        }
        return true;
    });
}
