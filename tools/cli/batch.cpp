// codec-cli over several files (batch.h). The inputs go through the library in groups of --batch:
// read a group, run its batch call(s), then write its outputs. Nothing of a group is written before
// its calls succeeded, so a failure leaves the outputs of the inputs before it and no partial group.
#include "batch.h"

#include "audio_io.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

namespace cli {

namespace {

namespace fs = std::filesystem;

// The inputs: --in / --codes in order, then --list's lines.
bool collect_inputs(const Options & o, std::vector<std::string> & files, std::string & err) {
    files = o.inputs;
    if (o.list.empty()) return true;
    const std::string name = o.list == "-" ? "stdin" : o.list;
    std::ifstream file;
    std::istream * in = &std::cin;
    if (o.list != "-") {
        std::error_code ec;
        if (fs::is_directory(o.list, ec)) {
            err = o.list + ": --list needs a file of paths, not a directory";
            return false;
        }
        file.open(o.list);
        if (!file) {
            err = o.list + ": cannot open the list: " + std::strerror(errno);
            return false;
        }
        in = &file;
    }
    const size_t before = files.size();
    std::string line;
    while (std::getline(*in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();  // a list written on Windows
        if (line.empty() || line[0] == '#') continue;
        files.push_back(line);
    }
    if (in->bad()) {
        err = name + ": cannot read the list";
        return false;
    }
    if (files.size() == before) {
        err = name + ": the list names no files";
        return false;
    }
    return true;
}

// Every input is there before any work: a missing file late in a long list costs nothing.
bool check_inputs_exist(const std::vector<std::string> & files, std::string & err) {
    for (const std::string & f : files) {
        std::error_code ec;
        const fs::file_status st = fs::status(f, ec);
        if (!fs::exists(st)) err = f + ": no such file";
        else if (fs::is_directory(st)) err = f + ": is a directory";
        if (!err.empty()) return false;
    }
    return true;
}

// DIR/<stem of input><ext> for every input, refusing two inputs with one output (a.wav, x/a.flac)
// and outputs that would overwrite an input (roundtrip into the inputs' folder).
bool output_paths(const Options & o, const std::vector<std::string> & in, const std::string & ext, bool scales,
                  std::vector<std::string> & out, std::string & err) {
    auto key = [](const std::string & p) {
        std::error_code ec;
        const fs::path c = fs::weakly_canonical(p, ec);
        return ec ? fs::path(p).lexically_normal().string() : c.string();
    };
    std::set<std::string> inputs;
    for (const std::string & f : in) inputs.insert(key(f));
    std::map<std::string, size_t> owner;  // output -> its input
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
        out.push_back((fs::path(o.out_dir) / fs::path(in[i]).stem()).string() + ext);
        std::vector<std::string> writes = {out.back()};
        if (scales) writes.push_back(scales_path(out.back(), ""));
        for (const std::string & w : writes) {
            const std::string k = key(w);
            if (inputs.count(k)) {
                err = "the output of '" + in[i] + "' would overwrite the input '" + w + "': choose another --out-dir";
                return false;
            }
            const auto [it, fresh] = owner.emplace(k, i);
            if (!fresh) {
                err = "'" + in[it->second] + "' and '" + in[i] + "' would both write '" + w +
                      "' (outputs are named after the inputs): rename one or run them separately";
                return false;
            }
        }
    }
    return true;
}

// An input's file name in errors from the readers, which mostly name it themselves.
std::string named(const std::string & file, const std::string & err) {
    return err.find(file) == std::string::npos ? file + ": " + err : err;
}

// The library names a batch's inputs by index ("input 2: ...", "inputs 0, 3: ..."): name the files.
std::string name_inputs(const std::string & msg, const std::vector<std::string> & files, size_t first, size_t n) {
    const bool several = msg.rfind("inputs ", 0) == 0;
    size_t p = several ? 7 : msg.rfind("input ", 0) == 0 ? 6 : std::string::npos;
    std::string names;
    while (p != std::string::npos && p < msg.size() && std::isdigit(static_cast<unsigned char>(msg[p]))) {
        size_t k = 0;
        while (p < msg.size() && std::isdigit(static_cast<unsigned char>(msg[p])) && k < n) k = k * 10 + size_t(msg[p++] - '0');
        if (k >= n) break;
        names += (names.empty() ? "'" : ", '") + files[first + k] + "'";
        if (msg.compare(p, 2, ": ") == 0) return names + msg.substr(p);
        if (msg.compare(p, 2, ", ") != 0) break;
        p += 2;
    }
    return "the batch '" + files[first] + "' .. '" + files[first + n - 1] + "': " + msg;
}

class BatchRun {
public:
    BatchRun(const Options & o, const codec_model * m, codec_context * ctx, std::vector<std::string> in,
             std::vector<std::string> out)
        : o_(o), m_(m), ctx_(ctx), in_(std::move(in)), out_(std::move(out)) {}

    // Continuous models have no batch call: the one-file one-shot path, file after file.
    int run_latent_files(bool encode, bool decode) {
        std::fprintf(stderr, "note: this model (%s) has continuous latents and no batch call: one file at a time\n",
                     codec_model_arch(m_));
        for (size_t i = 0; i < in_.size(); ++i) {
            const Options fo = one_file(i);
            if (const int rc = run_latent(fo, m_, ctx_, encode, decode); rc != kExitOk) {
                std::fprintf(stderr, "error: stopped at '%s'\n", in_[i].c_str());
                note_written();
                return rc;
            }
            ++written_;
        }
        return kExitOk;
    }

    int run(bool encode, bool decode) {
        const size_t per = size_t(o_.batch);
        const uint32_t graphs = codec_model_batch_graphs(m_), used = (encode ? CODEC_BATCH_ENCODE : 0u) | (decode ? CODEC_BATCH_DECODE : 0u);
        std::fprintf(stderr, "batch: %zu files, up to %zu per call (%s)\n", in_.size(), per,
                     (graphs & used) == used ? "same-shape inputs share one graph"
                     : (graphs & used)       ? (graphs & CODEC_BATCH_ENCODE ? "same-length inputs share one encode graph; decode runs them one by one"
                                                                             : "encode runs them one by one; same-shape codes share one decode graph")
                                             : "this model runs them one by one");
        std::string err;
        std::vector<Codes> codes;
        std::vector<int64_t> len;  // roundtrip: each input's length, to trim its output to
        for (size_t first = 0; first < in_.size(); first += per) {
            const size_t n = std::min(per, in_.size() - first);
            std::fprintf(stderr, "batch %zu/%zu: '%s'%s\n", first / per + 1, (in_.size() + per - 1) / per, in_[first].c_str(),
                         n > 1 ? (" .. '" + in_[first + n - 1] + "'").c_str() : "");
            const bool ok = encode ? encode_group(first, n, codes, len, err) : read_codes_group(first, n, codes, err);
            if (!ok) return stop(err);
            if (!decode) {
                for (size_t k = 0; k < n; ++k, ++written_) {
                    if (!write_codes(out_[first + k], codes[k], err)) return stop(err);
                }
                continue;
            }
            std::vector<codec_codes> views;
            for (const Codes & c : codes) views.push_back(codes_view(c));
            std::vector<codec_audio> audio(n);
            const auto t0 = Clock::now();
            if (const codec_status st = codec_decode_batch(ctx_, views.data(), int32_t(n), audio.data()); st != CODEC_OK) {
                return stop(name_inputs(lib_error(ctx_, st), in_, first, n));
            }
            double secs = 0;
            for (const codec_audio & a : audio) secs += double(a.n_samples) / std::max(1, a.sample_rate);
            print_timing(("decode (batch of " + std::to_string(n) + ")").c_str(), seconds_since(t0), secs);
            for (size_t k = 0; k < n; ++k, ++written_) {
                // roundtrip: trimmed to the input's length (the encoder pads to whole frames)
                const int64_t n_out = encode ? std::min<int64_t>(audio[k].n_samples, output_samples(m_, len[k])) : audio[k].n_samples;
                if (!write_audio(one_file(first + k), audio[k], n_out, err)) return stop(err);
            }
        }
        return kExitOk;
    }

private:
    const Options & o_;
    const codec_model * m_;
    codec_context * ctx_;
    std::vector<std::string> in_, out_;
    size_t written_ = 0;  // inputs whose outputs are written, from the first on

    // The one-file options of input i, for the helpers shared with the one-file path (the command
    // reads in or codes, whichever it takes).
    Options one_file(size_t i) const {
        Options fo = o_;
        fo.in = fo.codes = in_[i];
        fo.out = out_[i];
        fo.one_shot = true;
        return fo;
    }

    // Inputs [first, first + n) read whole and encoded in one batch call.
    bool encode_group(size_t first, size_t n, std::vector<Codes> & codes, std::vector<int64_t> & len, std::string & err) {
        std::vector<std::vector<float>> pcm(n);
        std::vector<const float *> ptr(n);
        len.assign(n, 0);
        double secs = 0;
        for (size_t k = 0; k < n; ++k) {
            const Options fo = one_file(first + k);
            if (!read_input(fo, m_, pcm[k], len[k], err)) {
                err = named(fo.in, err);
                return false;
            }
            ptr[k] = pcm[k].data();
            secs += double(len[k]) / codec_model_encode_sample_rate(m_);
        }
        std::vector<codec_codes> out(n);
        const auto t0 = Clock::now();
        if (const codec_status st = codec_encode_batch(ctx_, ptr.data(), len.data(), int32_t(n), n_q_or_all(o_, m_), out.data());
            st != CODEC_OK) {
            err = name_inputs(lib_error(ctx_, st), in_, first, n);
            return false;
        }
        print_timing(("encode (batch of " + std::to_string(n) + ")").c_str(), seconds_since(t0), secs);
        codes.clear();
        for (const codec_codes & c : out) codes.push_back(codes_from(c));  // the next call on ctx_ reuses out
        return true;
    }

    // Codes files [first, first + n) (and their scales, beside them) for decode.
    bool read_codes_group(size_t first, size_t n, std::vector<Codes> & codes, std::string & err) {
        codes.assign(n, Codes{});
        for (size_t k = 0; k < n; ++k) {
            const Options fo = one_file(first + k);
            if (!read_codes(fo, m_, codes[k], err) || !read_scales(fo, m_, codes[k], err)) {
                err = named(fo.codes, err);
                return false;
            }
        }
        return true;
    }

    void note_written() const {
        if (written_ == 0) {
            std::fprintf(stderr, "note: no output written\n");
        } else {
            std::fprintf(stderr, "note: the outputs of the first %zu of %zu inputs were written (up to '%s' -> '%s'), none after\n",
                         written_, in_.size(), in_[written_ - 1].c_str(), out_[written_ - 1].c_str());
        }
    }

    int stop(const std::string & msg) const {
        std::fprintf(stderr, "error: %s\n", msg.c_str());
        note_written();
        return kExitError;
    }
};

}  // namespace

bool batch_mode(const Options & o) { return o.inputs.size() > 1 || !o.list.empty() || !o.out_dir.empty(); }

bool batch_check_usage(const Options & o, bool audio_out, std::string & err) {
    if (!batch_mode(o)) {
        if (o.given & F_BATCH) err = "--batch applies to several files (--out-dir DIR)";
        return err.empty();
    }
    if (!o.out.empty()) {
        err = "--out names one file: for several files give --out-dir DIR (outputs are named after the inputs)";
    } else if (o.out_dir.empty()) {
        err = "several files need --out-dir DIR (outputs are named after the inputs)";
    } else if (!o.codes_out.empty()) {
        err = "--codes-out names one file: it does not apply to several files";
    } else if (!o.scales.empty()) {
        err = "--scales names one file: with several files each one's scales are <codes stem>.scales.npy beside it";
    } else if (o.given & (F_BLOCK | F_APPROX)) {
        err = std::string(o.given & F_BLOCK ? "--block-seconds" : "--approx") + " does not apply to several files: each file is processed whole";
    } else if (audio_out && !audio_check_output("out.wav", o.subtype, err)) {
        err = "--subtype: " + err;
    }
    return err.empty();
}

void batch_print_help(std::FILE * f, bool audio_in, bool audio_out) {
    std::fprintf(f, "\nSeveral files (--%s repeated, --list, or --out-dir): each file is processed whole, not\n"
                    "streamed, --batch files per call of the library's batch API (files of the same length share\n"
                    "one graph where the model has a batch axis). Outputs:\n",
                 audio_in ? "in" : "codes");
    if (audio_in && audio_out) {
        std::fprintf(f, "  DIR/<input stem>.wav, trimmed to the input's length\n");
    } else if (audio_in) {
        std::fprintf(f, "  DIR/<input stem>.npy (multi-rate codes: .npz; codes with scales: + <stem>.scales.npy;\n"
                        "  continuous models: the latent .npy, one file at a time)\n");
    } else {
        std::fprintf(f, "  DIR/<codes stem>.wav (codes with scales: read from <stem>.scales.npy beside the codes)\n");
    }
    std::fprintf(f, "A batch's outputs are written once its calls succeeded; the first failure stops the run.\n");
}

int batch_run(const Options & o, bool encode, bool decode) {
    std::string err;
    std::vector<std::string> in, out;
    if (!collect_inputs(o, in, err) || !check_inputs_exist(in, err)) return fail(err);
    ModelPtr m = load_model(o, err);
    if (!m) return fail(err);
    if (!check_capability(m.get(), encode, decode, err)) return fail(err);
    const bool continuous = codec_model_continuous(m.get());
    if (encode && !continuous && !check_n_q(o, m.get(), err)) return fail(err);
    const std::string ext = decode ? ".wav" : codec_model_multi_rate(m.get()) ? ".npz" : ".npy";
    if (!output_paths(o, in, ext, encode && !decode && codec_model_has_scales(m.get()), out, err)) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return kExitUsage;
    }
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (!fs::is_directory(o.out_dir)) {
        return fail(o.out_dir + ": cannot create the output folder" + (ec ? ": " + ec.message() : std::string()));
    }
    ContextPtr ctx = new_context(m.get(), err);
    if (!ctx) return fail(err);
    BatchRun run(o, m.get(), ctx.get(), std::move(in), std::move(out));
    const auto t0 = Clock::now();
    const int rc = continuous ? run.run_latent_files(encode, decode) : run.run(encode, decode);
    if (rc == kExitOk) print_timing("total", seconds_since(t0), 0.0);
    return rc;
}

}  // namespace cli
