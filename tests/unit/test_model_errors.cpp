// codec_model_load on broken files: every bad input must give the documented status and a
// message naming the problem; nothing may abort or touch memory it does not own.
#include "test_util.h"

#include <algorithm>
#include <limits>
#include <set>

using namespace codec_test;

namespace {

class ModelErrors : public ::testing::Test {
protected:
    void SetUp() override { REQUIRE_TINY_MODEL(); }

    // The tiny model with `edit` applied.
    std::string variant(const std::string & name, const GgufEdit & edit) { return gguf_variant(dir_, tiny_model_path(), name, edit); }
    void expect_fail(const std::string & path, codec_status status, std::initializer_list<std::string> needles) {
        expect_load_fail(path, needles, status);
    }

    TempDir dir_;
};

// Byte offset of `needle` in `hay` (npos if absent).
size_t find_bytes(const std::vector<uint8_t> & hay, const std::string & needle) {
    const auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
    return it == hay.end() ? std::string::npos : (size_t) (it - hay.begin());
}

}  // namespace

TEST_F(ModelErrors, TinyModelLoads) {
    const LoadResult r = load_model(tiny_model_path());
    ASSERT_NE(r.model, nullptr) << r.message;
    EXPECT_EQ(r.status, CODEC_OK);
    EXPECT_EQ(r.message, "");
    EXPECT_STREQ(codec_model_arch(r.model.get()), "dac");
    EXPECT_EQ(codec_model_sample_rate(r.model.get()), 16000);
    EXPECT_EQ(codec_model_hop_size(r.model.get()), 8);
    EXPECT_EQ(codec_model_encode_sample_rate(r.model.get()), 16000);  // no codec.encode_sample_rate: the output's
    EXPECT_EQ(codec_model_encode_hop_size(r.model.get()), 8);
    EXPECT_EQ(codec_model_n_q(r.model.get()), 4);
    EXPECT_EQ(codec_model_codebook_size(r.model.get()), 32);
    EXPECT_EQ(codec_model_latent_dim(r.model.get()), 16);
    EXPECT_EQ(codec_model_channels(r.model.get()), 1);
    EXPECT_TRUE(codec_model_has_encoder(r.model.get()));
    EXPECT_TRUE(codec_model_has_decoder(r.model.get()));
    EXPECT_FALSE(codec_model_uses_gpu(r.model.get()));
}

TEST_F(ModelErrors, UnchangedRewriteLoads) {
    // Guards the rewriter itself: a no-op edit must give a loadable model.
    const LoadResult r = load_model(variant("same", {}));
    EXPECT_NE(r.model, nullptr) << r.message;
}

TEST_F(ModelErrors, NullPath) {
    const LoadResult r = load_model(nullptr);
    EXPECT_EQ(r.model, nullptr);
    EXPECT_EQ(r.status, CODEC_ERR_INVALID_ARG);
    EXPECT_NE(r.message.find("NULL"), std::string::npos) << r.message;
}

TEST_F(ModelErrors, NonexistentPath) {
    const std::string path = dir_.file("does-not-exist.gguf");
    expect_fail(path, CODEC_ERR_IO, {path, "cannot open"});
}

TEST_F(ModelErrors, DirectoryPath) {
    // fopen() succeeds on a directory on Linux; reading it fails: an I/O error, not a format one.
    expect_fail(dir_.path().string(), CODEC_ERR_IO, {dir_.path().string()});
}

TEST_F(ModelErrors, EmptyFile) {
    const std::string path = dir_.file("empty.gguf");
    write_bytes(path, std::vector<uint8_t>());
    expect_fail(path, CODEC_ERR_FORMAT, {path, "GGUF"});
}

TEST_F(ModelErrors, WrongMagic) {
    std::vector<uint8_t> bytes = read_bytes(tiny_model_path());
    std::memcpy(bytes.data(), "GGUX", 4);
    const std::string path = dir_.file("magic.gguf");
    write_bytes(path, bytes);
    expect_fail(path, CODEC_ERR_FORMAT, {"not a GGUF file", "magic"});
}

TEST_F(ModelErrors, TextFileIsNotGguf) {
    const std::string path = dir_.file("text.gguf");
    const std::string text = "this is not a model\n";
    write_bytes(path, text.data(), text.size());
    expect_fail(path, CODEC_ERR_FORMAT, {"not a GGUF file"});
}

TEST_F(ModelErrors, TruncatedAtEverySection) {
    const std::vector<uint8_t> bytes = read_bytes(tiny_model_path());
    gguf_init_params ip = { /*no_alloc =*/ true, nullptr };
    std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(tiny_model_path().c_str(), ip));
    ASSERT_TRUE(g);
    const size_t data_off = gguf_get_data_offset(g.get());
    size_t data_end = 0;  // end of the last tensor's bytes (the file may pad beyond it)
    for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) {
        data_end = std::max(data_end, data_off + gguf_get_tensor_offset(g.get(), i) + gguf_get_tensor_size(g.get(), i));
    }
    // Tensor infos start with the first tensor's name (its u64 length precedes it).
    const size_t tinfo = find_bytes(bytes, gguf_get_tensor_name(g.get(), 0));
    ASSERT_NE(tinfo, std::string::npos);
    ASSERT_LT(tinfo, data_off);
    const size_t kv_end = tinfo - 8;

    const std::vector<std::pair<const char *, size_t>> cuts = {
        {"header: version", 6},
        {"header: tensor count", 12},
        {"header: kv count", 20},
        {"header end", 24},
        {"first kv key", 30},
        {"first kv value", 60},
        {"last kv value", kv_end - 1},
        {"tensor info: name length", kv_end + 4},
        {"tensor info: name", tinfo + 5},
        {"tensor info: dims", tinfo + std::strlen(gguf_get_tensor_name(g.get(), 0)) + 6},
        {"last tensor info", data_off - 40},
        {"data start", data_off + 1},
        {"middle of data", data_off + (data_end - data_off) / 2},
        {"last tensor's last byte", data_end - 1},
    };
    QuietGgmlLog quiet;
    for (const auto & [what, n] : cuts) {
        SCOPED_TRACE(std::string(what) + " (" + std::to_string(n) + " bytes)");
        ASSERT_LT(n, bytes.size());
        const std::string path = dir_.file("trunc.gguf");
        write_bytes(path, bytes.data(), n);
        const LoadResult r = load_model(path);
        EXPECT_EQ(r.model, nullptr);
        EXPECT_EQ(r.status, CODEC_ERR_FORMAT) << r.message;
        const bool named = r.message.find("truncated") != std::string::npos ||
                           r.message.find("malformed") != std::string::npos;
        EXPECT_TRUE(named) << r.message;
    }
}

TEST_F(ModelErrors, TruncatedInsideMagic) {
    const std::vector<uint8_t> bytes = read_bytes(tiny_model_path());
    const std::string path = dir_.file("trunc3.gguf");
    write_bytes(path, bytes.data(), 3);
    expect_fail(path, CODEC_ERR_FORMAT, {"GGUF"});
}

TEST_F(ModelErrors, UnknownArch) {
    const auto path = variant("arch", kv_edit([](gguf_context * g) { gguf_set_val_str(g, "codec.arch", "nope"); }));
    expect_fail(path, CODEC_ERR_UNSUPPORTED, {"'nope'", "codec.arch"});
}

// ---- required keys ----------------------------------------------------------------------

class MissingKey : public ModelErrors, public ::testing::WithParamInterface<const char *> {};

TEST_P(MissingKey, NamesTheKey) {
    const char * key = GetParam();
    const auto path = variant("missing", kv_edit([key](gguf_context * g) { ASSERT_GE(gguf_remove_key(g, key), 0) << key; }));
    expect_fail(path, CODEC_ERR_FORMAT, {"missing", std::string("'") + key + "'"});
}

INSTANTIATE_TEST_SUITE_P(ModelErrors, MissingKey,
    ::testing::Values("codec.arch", "codec.sample_rate", "codec.hop_size", "codec.n_q", "codec.codebook_size",
                      "codec.codebook_dim", "codec.latent_dim", "codec.channels", "codec.has_encoder",
                      "codec.has_decoder", "dac.encoder_hidden_size", "dac.decoder_hidden_size",
                      "dac.downsampling_ratios", "dac.upsampling_ratios"),
    [](const auto & info) {
        std::string s = info.param;
        std::replace(s.begin(), s.end(), '.', '_');
        return s;
    });

// ---- keys with a wrong type or an insane value ----------------------------------------------

struct KeyCase {
    const char * name;     // test name
    const char * key;
    std::function<void(gguf_context *, const char *)> set;
    std::vector<std::string> needles;  // besides the key
};

void PrintTo(const KeyCase & c, std::ostream * os) { *os << c.name; }

class BadKey : public ModelErrors, public ::testing::WithParamInterface<KeyCase> {};

TEST_P(BadKey, NamesTheKey) {
    const KeyCase & c = GetParam();
    const auto path = variant(c.name, kv_edit([&c](gguf_context * g) { c.set(g, c.key); }));
    const LoadResult r = load_model(path);
    EXPECT_EQ(r.model, nullptr);
    EXPECT_EQ(r.status, CODEC_ERR_FORMAT) << r.message;
    EXPECT_NE(r.message.find(c.key), std::string::npos) << r.message;
    for (const auto & n : c.needles) EXPECT_NE(r.message.find(n), std::string::npos) << "'" << r.message << "' lacks '" << n << "'";
}

const auto set_str  = [](const char * v) { return [v](gguf_context * g, const char * k) { gguf_set_val_str(g, k, v); }; };
const auto set_u32  = [](uint32_t v) { return [v](gguf_context * g, const char * k) { gguf_set_val_u32(g, k, v); }; };
const auto set_i32  = [](int32_t v) { return [v](gguf_context * g, const char * k) { gguf_set_val_i32(g, k, v); }; };
const auto set_i64  = [](int64_t v) { return [v](gguf_context * g, const char * k) { gguf_set_val_i64(g, k, v); }; };
const auto set_u64  = [](uint64_t v) { return [v](gguf_context * g, const char * k) { gguf_set_val_u64(g, k, v); }; };
const auto set_f32  = [](float v) { return [v](gguf_context * g, const char * k) { gguf_set_val_f32(g, k, v); }; };
const auto set_i32s = [](std::vector<int32_t> v) {
    return [v](gguf_context * g, const char * k) { gguf_set_arr_data(g, k, GGUF_TYPE_INT32, v.data(), v.size()); };
};

INSTANTIATE_TEST_SUITE_P(ModelErrors, BadKey, ::testing::Values(
    // wrong types
    KeyCase{"n_q_string", "codec.n_q", set_str("four"), {"type", "expected an integer"}},
    KeyCase{"sample_rate_float", "codec.sample_rate", set_f32(16000.0f), {"expected an integer"}},
    KeyCase{"hop_size_array", "codec.hop_size", set_i32s({8}), {"expected an integer"}},
    KeyCase{"arch_int", "codec.arch", set_u32(1), {"expected string"}},
    KeyCase{"has_encoder_int", "codec.has_encoder", set_u32(1), {"expected bool"}},
    KeyCase{"has_decoder_string", "codec.has_decoder", set_str("true"), {"expected bool"}},
    KeyCase{"ratios_scalar", "dac.downsampling_ratios", set_u32(8), {"not an array"}},
    KeyCase{"ratios_float_array", "dac.downsampling_ratios",
            [](gguf_context * g, const char * k) { const float v[2] = {2, 4}; gguf_set_arr_data(g, k, GGUF_TYPE_FLOAT32, v, 2); },
            {"array of integers"}},
    KeyCase{"ratios_string_array", "dac.upsampling_ratios",
            [](gguf_context * g, const char * k) { const char * v[2] = {"4", "2"}; gguf_set_arr_str(g, k, v, 2); },
            {"array of integers"}},
    // insane values
    KeyCase{"n_q_zero", "codec.n_q", set_u32(0), {"= 0", "outside"}},
    KeyCase{"n_q_negative", "codec.n_q", set_i32(-4), {"= -4", "outside"}},
    KeyCase{"sample_rate_zero", "codec.sample_rate", set_u32(0), {"= 0", "outside"}},
    KeyCase{"sample_rate_negative_i64", "codec.sample_rate", set_i64(-16000), {"-16000", "outside"}},
    KeyCase{"codebook_size_2p31", "codec.codebook_size", set_u32(1u << 31), {"2147483648", "outside"}},
    KeyCase{"codebook_size_u64_max", "codec.codebook_size", set_u64(UINT64_MAX), {}},
    KeyCase{"hop_size_zero", "codec.hop_size", set_u32(0), {"outside"}},
    KeyCase{"channels_zero", "codec.channels", set_u32(0), {"outside"}},
    KeyCase{"latent_dim_negative", "codec.latent_dim", set_i32(-16), {"outside"}},
    KeyCase{"codebook_dim_huge", "codec.codebook_dim", set_u32(1u << 30), {"outside"}},
    KeyCase{"ratios_empty", "dac.downsampling_ratios", set_i32s({}), {"0 elements"}},
    KeyCase{"ratios_zero", "dac.downsampling_ratios", set_i32s({2, 0}), {"[1] = 0"}},
    KeyCase{"ratios_too_many", "dac.upsampling_ratios", set_i32s(std::vector<int32_t>(9, 1)), {"9 elements"}},
    KeyCase{"encoder_hidden_huge", "dac.encoder_hidden_size", set_u32(1u << 30), {"outside"}},
    // consistent ranges, inconsistent model
    KeyCase{"hop_vs_ratios", "codec.hop_size", set_u32(16), {"16", "dac.downsampling_ratios", "8"}},
    KeyCase{"ratios_vs_hop", "dac.downsampling_ratios", set_i32s({2, 2}), {"codec.hop_size", "4"}},
    KeyCase{"latent_dim_vs_encoder", "codec.latent_dim", set_u32(32), {"32", "16"}},
    KeyCase{"channels_stereo", "codec.channels", set_u32(2), {"mono"}},
    // the encoder's input rate: optional, a whole hop, and only where the model's encoder takes it
    KeyCase{"encode_rate_zero", "codec.encode_sample_rate", set_u32(0), {"outside"}},
    KeyCase{"encode_rate_float", "codec.encode_sample_rate", set_f32(16000.0f), {"expected an integer"}},
    KeyCase{"encode_rate_fractional_hop", "codec.encode_sample_rate", set_u32(11025), {"11025", "whole encoder hop"}},
    KeyCase{"encode_rate_not_this_arch", "codec.encode_sample_rate", set_u32(24000), {"24000", "dac", "16000"}}),
    [](const auto & info) { return std::string(info.param.name); });

// ---- values in range that disagree with the tensors ------------------------------------------

TEST_F(ModelErrors, MoreCodebooksThanTensors) {
    const auto path = variant("nq5", kv_edit([](gguf_context * g) { gguf_set_val_u32(g, "codec.n_q", 5); }));
    expect_fail(path, CODEC_ERR_FORMAT, {"missing tensor", "'quantizer.quantizers.4."});
}

TEST_F(ModelErrors, CodebookSizeDisagreesWithTensors) {
    const auto path = variant("cb64", kv_edit([](gguf_context * g) { gguf_set_val_u32(g, "codec.codebook_size", 64); }));
    expect_fail(path, CODEC_ERR_FORMAT, {"'quantizer.quantizers.0.codebook.weight'", "[4, 32, 1, 1]", "[4, 64, 1, 1]"});
}

// ---- tensors ----------------------------------------------------------------------------------

TEST_F(ModelErrors, EveryTensorIsRequired) {
    // Drop each tensor in turn: the model must refuse to load and name exactly that tensor.
    std::vector<std::string> names;
    {
        gguf_init_params ip = { true, nullptr };
        std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(tiny_model_path().c_str(), ip));
        ASSERT_TRUE(g);
        for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) names.emplace_back(gguf_get_tensor_name(g.get(), i));
    }
    ASSERT_GT(names.size(), 100u);
    for (const std::string & name : names) {
        SCOPED_TRACE(name);
        GgufEdit e;
        e.tensor = [&name](ggml_tensor * t, ggml_context *) { return name == t->name ? nullptr : t; };
        expect_fail(variant("drop", e), CODEC_ERR_FORMAT, {"missing tensor '" + name + "'"});
        if (HasFailure()) break;  // one broken case is enough detail
    }
}

TEST_F(ModelErrors, TensorWrongShape) {
    GgufEdit e;
    e.tensor = [](ggml_tensor * t, ggml_context * s) {
        return std::string(t->name) == "encoder.block.0.conv1.weight" ? reshape(t, s, {8, 8, 3}) : t;
    };
    expect_fail(variant("shape", e), CODEC_ERR_FORMAT,
                {"'encoder.block.0.conv1.weight'", "[8, 8, 3, 1]", "expected [8, 8, 2, 1]"});
}

TEST_F(ModelErrors, TensorWrongRank) {
    GgufEdit e;
    e.tensor = [](ggml_tensor * t, ggml_context * s) {
        return std::string(t->name) == "quantizer.quantizers.2.in_proj.bias" ? reshape(t, s, {4, 2}) : t;
    };
    expect_fail(variant("rank", e), CODEC_ERR_FORMAT,
                {"'quantizer.quantizers.2.in_proj.bias'", "[4, 2, 1, 1]", "expected [4, 1, 1, 1]"});
}

struct TypeCase {
    const char * name;
    const char * tensor;
    ggml_type type;
    const char * expected;
};

void PrintTo(const TypeCase & c, std::ostream * os) { *os << c.tensor << " as " << ggml_type_name(c.type); }

class TensorWrongType : public ModelErrors, public ::testing::WithParamInterface<TypeCase> {};

TEST_P(TensorWrongType, NamesTensorAndType) {
    const TypeCase c = GetParam();
    GgufEdit e;
    e.tensor = [&c](ggml_tensor * t, ggml_context * s) { return c.tensor == std::string(t->name) ? retype(t, s, c.type) : t; };
    expect_fail(variant("type", e), CODEC_ERR_FORMAT,
                {std::string("'") + c.tensor + "'", std::string("type ") + ggml_type_name(c.type), c.expected});
}

INSTANTIATE_TEST_SUITE_P(ModelErrors, TensorWrongType, ::testing::Values(
    TypeCase{"bias_f16", "encoder.conv1.bias", GGML_TYPE_F16, "expected f32"},  // biases stay exact
    TypeCase{"codebook_f16", "quantizer.quantizers.1.codebook.weight", GGML_TYPE_F16, "expected f32"},
    TypeCase{"snake_alpha_f16", "decoder.block.0.snake1.alpha", GGML_TYPE_F16, "expected f32"},
    TypeCase{"conv_weight_i32", "encoder.conv2.weight", GGML_TYPE_I32, "expected f32, f16 or q8_0"},
    TypeCase{"convt_weight_i32", "decoder.block.0.conv_t1.weight", GGML_TYPE_I32, "expected f32, f16 or q8_0"}),
    [](const auto & info) { return std::string(info.param.name); });

TEST_F(ModelErrors, F16MatrixWeightsAreAccepted) {
    // The allowed-type table is not just "f32 only": f16 conv weights must load.
    GgufEdit e;
    e.tensor = [](ggml_tensor * t, ggml_context * s) {
        const std::string n = t->name;
        return n == "encoder.conv2.weight" || n == "decoder.block.0.conv_t1.weight" ? retype(t, s, GGML_TYPE_F16) : t;
    };
    const LoadResult r = load_model(variant("f16", e));
    EXPECT_NE(r.model, nullptr) << r.message;
}

TEST_F(ModelErrors, ExtraTensorIsIgnored) {
    // Unknown tensors (e.g. from a newer converter) do not stop a load.
    GgufEdit e;
    e.extra = [](ggml_context * s) {
        ggml_tensor * t = ggml_new_tensor_1d(s, GGML_TYPE_F32, 8);
        ggml_set_name(t, "unused.extra.weight");
        std::memset(t->data, 0, ggml_nbytes(t));
        return std::vector<ggml_tensor *>{t};
    };
    const LoadResult r = load_model(variant("extra", e));
    EXPECT_NE(r.model, nullptr) << r.message;
}

// ---- error reporting plumbing ------------------------------------------------------------------

TEST_F(ModelErrors, NullStatusAndMessageBuffersAreOptional) {
    const std::string path = dir_.file("none.gguf");
    EXPECT_EQ(codec_model_load(path.c_str(), codec_model_default_params(), nullptr, nullptr, 0), nullptr);
    char err[4] = {'a', 'b', 'c', 'd'};
    EXPECT_EQ(codec_model_load(path.c_str(), codec_model_default_params(), nullptr, err, 0), nullptr);
    EXPECT_EQ(err[0], 'a');  // err_size 0: untouched
}

TEST_F(ModelErrors, MessageIsTruncatedToBuffer) {
    const std::string path = dir_.file("none.gguf");
    char err[16];
    std::memset(err, 'x', sizeof(err));
    codec_status st = CODEC_OK;
    EXPECT_EQ(codec_model_load(path.c_str(), codec_model_default_params(), &st, err, 8), nullptr);
    EXPECT_EQ(st, CODEC_ERR_IO);
    EXPECT_EQ(std::strlen(err), 7u);
    EXPECT_EQ(err[8], 'x');  // nothing written past err_size
}

// ---- fuzzing --------------------------------------------------------------------------------

TEST_F(ModelErrors, RandomByteFlipsNeverCrash) {
    // A few hundred seeded mutations (1-4 bytes each), half of them aimed at the metadata where
    // parsing decisions are made. Each must load or fail cleanly; models that load must
    // encode/decode or fail with a status.
    const std::vector<uint8_t> orig = read_bytes(tiny_model_path());
    gguf_init_params ip = { true, nullptr };
    std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(tiny_model_path().c_str(), ip));
    ASSERT_TRUE(g);
    const size_t meta = gguf_get_data_offset(g.get());
    const std::set<codec_status> load_errors = {CODEC_ERR_FORMAT, CODEC_ERR_UNSUPPORTED, CODEC_ERR_NO_MEMORY};
    const std::vector<float> pcm = make_signal(200, 1);
    const std::string path = dir_.file("fuzz.gguf");
    QuietGgmlLog quiet;
    int n_loaded = 0, n_rejected = 0;
    for (uint32_t seed = 0; seed < 400; ++seed) {
        std::mt19937 rng(seed);
        std::vector<uint8_t> b = orig;
        const int n_flips = 1 + (int) (rng() % 4);
        std::string what;
        for (int k = 0; k < n_flips; ++k) {
            const size_t pos = (seed % 2 == 0) ? rng() % meta : rng() % b.size();
            const uint8_t v = (rng() % 2) ? (uint8_t) (b[pos] ^ (1u << (rng() % 8))) : (uint8_t) rng();
            what += " [" + std::to_string(pos) + "]=" + std::to_string(v);
            b[pos] = v;
        }
        SCOPED_TRACE("seed " + std::to_string(seed) + ":" + what);
        write_bytes(path, b);
        LoadResult r = load_model(path);
        if (!r.model) {
            ++n_rejected;
            EXPECT_TRUE(load_errors.count(r.status)) << "status " << r.status << ": " << r.message;
            EXPECT_FALSE(r.message.empty());
            continue;
        }
        ++n_loaded;
        EXPECT_EQ(r.status, CODEC_OK);
        CtxPtr ctx = new_context(r.model.get());
        ASSERT_TRUE(ctx);
        codec_codes c{};
        const codec_status st = codec_encode(ctx.get(), pcm.data(), (int64_t) pcm.size(), CODEC_N_Q_ALL, &c);
        if (st != CODEC_OK) {
            EXPECT_STRNE(codec_context_last_error(ctx.get()), "");
            continue;
        }
        const Codes codes = copy_codes(c);
        for (int32_t v : codes.data) {
            ASSERT_GE(v, 0);
            ASSERT_LT(v, codec_model_codebook_size(r.model.get()));
        }
        codec_audio a{};
        const codec_status sd = codec_decode(ctx.get(), codes.data.data(), codes.n_q, codes.n_frames, &a);
        if (sd != CODEC_OK) {
            EXPECT_STRNE(codec_context_last_error(ctx.get()), "");
        }
    }
    RecordProperty("loaded", n_loaded);
    RecordProperty("rejected", n_rejected);
    // Weight-only flips load; if none did, the mutations never reached the encode path.
    EXPECT_GT(n_loaded, 50);
    EXPECT_GT(n_rejected, 50);
}
