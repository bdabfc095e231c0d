// EnCodec on bad inputs: hostile model files (missing or insane encodec.* keys, missing or
// misshapen tensors) and bad API calls on chunked, scaled codes. The tiny models are written
// here with the gguf API (random weights, the converter's layout), so no Python is needed.
#include "test_util.h"

#include <limits>
#include <random>

using namespace codec_test;

namespace {

struct TinyEncodec {
    bool stereo;  // false: the 24 kHz layout (mono, causal); true: the 48 kHz one (chunked, normalized)
};

// Writes a tiny EnCodec GGUF: 4 filters, ratios [4, 2], hidden 8, 4 codebooks of 16,
// 8 kbps per codebook; stereo: 160-sample chunks every 144 samples, time-group norm.
void write_tiny_encodec(const std::string & path, TinyEncodec cfg) {
    const int C = cfg.stereo ? 2 : 1, F = 4, H = 8, N = 16, NQ = 4, D = 16;
    std::unique_ptr<gguf_context, GgufFree> g(gguf_init_empty());
    gguf_context * kv = g.get();
    gguf_set_val_str(kv, "codec.arch", "encodec");
    gguf_set_val_u32(kv, "codec.sample_rate", 16000);
    gguf_set_val_u32(kv, "codec.hop_size", 8);
    gguf_set_val_u32(kv, "codec.n_q", NQ);
    gguf_set_val_u32(kv, "codec.codebook_size", N);
    gguf_set_val_u32(kv, "codec.codebook_dim", H);
    gguf_set_val_u32(kv, "codec.latent_dim", H);
    gguf_set_val_u32(kv, "codec.channels", C);
    gguf_set_val_bool(kv, "codec.has_encoder", true);
    gguf_set_val_bool(kv, "codec.has_decoder", true);
    const int32_t ratios[2] = {4, 2}, bps[3] = {8000, 16000, 32000};
    gguf_set_val_u32(kv, "encodec.num_filters", F);
    gguf_set_arr_data(kv, "encodec.upsampling_ratios", GGUF_TYPE_INT32, ratios, 2);
    gguf_set_val_u32(kv, "encodec.num_residual_layers", 1);
    gguf_set_val_u32(kv, "encodec.dilation_growth_rate", 2);
    gguf_set_val_u32(kv, "encodec.kernel_size", 7);
    gguf_set_val_u32(kv, "encodec.last_kernel_size", 7);
    gguf_set_val_u32(kv, "encodec.residual_kernel_size", 3);
    gguf_set_val_u32(kv, "encodec.compress", 2);
    gguf_set_val_u32(kv, "encodec.num_lstm_layers", 2);
    gguf_set_val_bool(kv, "encodec.use_causal_conv", !cfg.stereo);
    gguf_set_val_bool(kv, "encodec.use_conv_shortcut", true);
    gguf_set_val_str(kv, "encodec.pad_mode", "reflect");
    gguf_set_val_str(kv, "encodec.norm_type", cfg.stereo ? "time_group_norm" : "weight_norm");
    gguf_set_val_f32(kv, "encodec.trim_right_ratio", 1.0f);
    gguf_set_val_bool(kv, "encodec.normalize", cfg.stereo);
    gguf_set_val_u32(kv, "encodec.chunk_length", cfg.stereo ? 160 : 0);
    gguf_set_val_u32(kv, "encodec.chunk_stride", cfg.stereo ? 144 : 0);
    gguf_set_arr_data(kv, "encodec.target_bandwidths_bps", GGUF_TYPE_INT32, bps, 3);

    ggml_init_params ip = { 4u << 20, nullptr, false };
    std::unique_ptr<ggml_context, GgmlFree> ctx(ggml_init(ip));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-0.3f, 0.3f);
    auto add = [&](const std::string & name, std::vector<int64_t> ne, float lo = 0.0f) {
        ggml_tensor * t = ggml_new_tensor(ctx.get(), GGML_TYPE_F32, (int) ne.size(), ne.data());
        ggml_set_name(t, name.c_str());
        float * d = (float *) t->data;
        for (int64_t i = 0; i < ggml_nelements(t); ++i) d[i] = lo + u(rng);
        gguf_add_tensor(kv, t);
    };
    // Channel-major layouts (src/blocks/seanet.h): conv [s * cin, cout, k / s], transposed
    // [cin, s * cout, k / s], first conv [8, cin, cout] (k = 7 rounded up).
    auto conv = [&](const std::string & p, int k, int cin, int cout, int stride = 1, bool transposed = false) {
        add(p + ".conv.weight", transposed ? std::vector<int64_t>{cin, (int64_t) stride * cout, k / stride}
                                           : std::vector<int64_t>{(int64_t) stride * cin, cout, k / stride});
        add(p + ".conv.bias", {cout});
        if (cfg.stereo) {
            add(p + ".norm.weight", {cout}, 1.0f);
            add(p + ".norm.bias", {cout});
        }
    };
    auto conv_in = [&](const std::string & p, int cin, int cout) {
        add(p + ".conv.weight", {8, cin, cout});
        add(p + ".conv.bias", {cout});
        if (cfg.stereo) {
            add(p + ".norm.weight", {cout}, 1.0f);
            add(p + ".norm.bias", {cout});
        }
    };
    auto res = [&](const std::string & p, int dim) {
        conv(p + ".block.1", 3, dim, dim / 2);
        conv(p + ".block.3", 1, dim / 2, dim);
        conv(p + ".shortcut", 1, dim, dim);
    };
    auto lstm = [&](const std::string & p) {
        for (int l = 0; l < 2; ++l) {
            add(p + ".weight_ih_l" + std::to_string(l), {D, 4 * D});
            add(p + ".weight_hh_l" + std::to_string(l), {D, 4 * D});
            add(p + ".bias_l" + std::to_string(l), {4 * D});
        }
    };
    conv_in("encoder.layers.0", C, F);
    res("encoder.layers.1", F);
    conv("encoder.layers.3", 4, F, 2 * F, 2);
    res("encoder.layers.4", 2 * F);
    conv("encoder.layers.6", 8, 2 * F, D, 4);
    lstm("encoder.layers.7.lstm");
    conv("encoder.layers.9", 7, D, H);
    for (int q = 0; q < NQ; ++q) {
        const std::string p = "quantizer.layers." + std::to_string(q) + ".codebook";
        add(p + ".embed", {H, N});
        add(p + ".embed_sq", {N});
    }
    conv("decoder.layers.0", 7, H, D);
    lstm("decoder.layers.1.lstm");
    conv("decoder.layers.3", 8, D, D / 2, 4, true);
    res("decoder.layers.4", D / 2);
    conv("decoder.layers.6", 4, D / 2, F, 2, true);
    res("decoder.layers.7", F);
    conv("decoder.layers.9", 7, F, C);
    ASSERT_TRUE(gguf_write_to_file(kv, path.c_str(), false));
}

class EncodecErrors : public ::testing::Test {
protected:
    void SetUp() override {
        mono_ = dir_.file("mono.gguf");
        stereo_ = dir_.file("stereo.gguf");
        write_tiny_encodec(mono_, {false});
        write_tiny_encodec(stereo_, {true});
    }

    std::string variant(const std::string & src, const std::string & name, const GgufEdit & edit) {
        return gguf_variant(dir_, src, name, edit);
    }
    void expect_fail(const std::string & path, const std::vector<std::string> & needles) { expect_load_fail(path, needles); }

    TempDir dir_;
    std::string mono_, stereo_;
};

std::vector<float> stereo_signal(int64_t n) {
    const std::vector<float> l = make_signal(n, 1), r = make_signal(n, 2);
    std::vector<float> x((size_t) (2 * n));
    for (int64_t i = 0; i < n; ++i) {
        x[(size_t) (2 * i)] = l[(size_t) i];
        x[(size_t) (2 * i + 1)] = r[(size_t) i];
    }
    return x;
}

}  // namespace

TEST_F(EncodecErrors, TinyModelsLoadWithBandwidths) {
    for (const auto & p : {mono_, stereo_}) {
        const LoadResult r = load_model(p);
        ASSERT_NE(r.model, nullptr) << r.message;
        EXPECT_STREQ(codec_model_arch(r.model.get()), "encodec");
        EXPECT_EQ(codec_model_has_scales(r.model.get()), p == stereo_);
        float bw[8];
        ASSERT_EQ(codec_model_bandwidths(r.model.get(), bw, 8), 3);
        EXPECT_EQ(bw[0], 8.0f);
        EXPECT_EQ(codec_model_n_q_for_bandwidth(r.model.get(), 8.0f), 1);   // 8000 / (4 bits * 2000 Hz)
        EXPECT_EQ(codec_model_n_q_for_bandwidth(r.model.get(), 32.0f), 4);
        EXPECT_EQ(codec_model_n_q_for_bandwidth(r.model.get(), 12.0f), 0);  // not published
    }
}

TEST_F(EncodecErrors, MonoEdgeLengthsAndNoScales) {
    const LoadResult r = load_model(mono_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    for (int64_t n : {1, 7, 9, 1001}) {  // reflect padding of inputs shorter than the pad
        const std::vector<float> x = make_signal(n, 3);
        codec_codes c{};
        ASSERT_EQ(codec_encode(ctx.get(), x.data(), n, CODEC_N_Q_ALL, &c), CODEC_OK) << codec_context_last_error(ctx.get());
        EXPECT_EQ(c.n_frames, (n + 7) / 8);
        EXPECT_EQ(c.n_scales, 0);
        EXPECT_EQ(c.scales, nullptr);
        const Codes codes = copy_codes(c);
        codec_audio a{};
        ASSERT_EQ(codec_decode(ctx.get(), codes.data.data(), codes.n_q, codes.n_frames, &a), CODEC_OK);
        EXPECT_EQ(a.n_samples, codes.n_frames * 8);
        for (int64_t i = 0; i < a.n_samples; ++i) ASSERT_TRUE(std::isfinite(a.data[i]));
        const float scale = 1.0f;
        codec_codes with_scales{codes.n_q, codes.n_frames, codes.data.data(), nullptr, 1, &scale};
        EXPECT_EQ(codec_decode_codes(ctx.get(), &with_scales, &a), CODEC_ERR_INVALID_ARG);
        EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("no per-chunk scales"), std::string::npos);
    }
}

TEST_F(EncodecErrors, StereoChunksScalesAndBadCalls) {
    const LoadResult r = load_model(stereo_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    codec_context * c = ctx.get();
    const int64_t n = 1000;  // 7 chunks: 6 of 160 samples (20 frames), the last 136 (17 frames)
    const std::vector<float> x = stereo_signal(n);
    codec_codes out{};
    ASSERT_EQ(codec_encode(c, x.data(), n, CODEC_N_Q_ALL, &out), CODEC_OK) << codec_context_last_error(c);
    ASSERT_EQ(out.n_scales, 7);
    EXPECT_EQ(out.n_frames, 6 * 20 + 17);
    const Codes codes = copy_codes(out);
    const std::vector<float> scales(out.scales, out.scales + out.n_scales);
    for (float s : scales) EXPECT_GT(s, 0.01f);

    codec_codes in{codes.n_q, codes.n_frames, codes.data.data(), nullptr, (int32_t) scales.size(), scales.data()};
    codec_audio a{};
    ASSERT_EQ(codec_decode_codes(c, &in, &a), CODEC_OK) << codec_context_last_error(c);
    EXPECT_EQ(a.n_channels, 2);
    EXPECT_EQ(a.n_samples, 6 * 144 + 17 * 8);  // overlap-added
    for (int64_t i = 0; i < 2 * a.n_samples; ++i) ASSERT_TRUE(std::isfinite(a.data[i]));

    auto expect_err = [&](codec_status st, const std::string & needle) {
        EXPECT_EQ(st, CODEC_ERR_INVALID_ARG);
        EXPECT_NE(std::string(codec_context_last_error(c)).find(needle), std::string::npos) << codec_context_last_error(c);
    };
    expect_err(codec_decode(c, codes.data.data(), codes.n_q, codes.n_frames, &a), "codec_decode_codes");
    codec_codes bad = in;
    bad.n_scales = 0;
    expect_err(codec_decode_codes(c, &bad, &a), "one scale per chunk");
    bad = in;
    bad.scales = nullptr;
    expect_err(codec_decode_codes(c, &bad, &a), "one scale per chunk");
    bad = in;
    bad.n_scales = 3;  // 137 frames cannot be 3 chunks
    expect_err(codec_decode_codes(c, &bad, &a), "does not fit");
    bad.n_scales = codes.n_frames + 1;  // more chunks than frames
    std::vector<float> many((size_t) bad.n_scales, 1.0f);
    bad.scales = many.data();
    expect_err(codec_decode_codes(c, &bad, &a), "n_scales");
    std::vector<float> nan_scales = scales;
    nan_scales[3] = NAN;
    bad = in;
    bad.scales = nan_scales.data();
    expect_err(codec_decode_codes(c, &bad, &a), "scales[3] is not finite");
    std::vector<int32_t> row_len((size_t) codes.n_q, codes.n_frames);
    bad = in;
    bad.row_len = row_len.data();
    expect_err(codec_decode_codes(c, &bad, &a), "per-row lengths");
    std::vector<int32_t> oob = codes.data;
    oob[5] = 16;
    bad = in;
    bad.data = oob.data();
    expect_err(codec_decode_codes(c, &bad, &a), "out of range");
    std::vector<float> latent((size_t) 8 * 10, 0.0f);
    expect_err(codec_decode_latent(c, latent.data(), 8, 10, &a), "codec_decode_codes");

    // One sample: one chunk, one frame; silence: scale 1e-8, no division by zero.
    const std::vector<float> zeros(2 * 300, 0.0f);
    ASSERT_EQ(codec_encode(c, zeros.data(), 1, CODEC_N_Q_ALL, &out), CODEC_OK) << codec_context_last_error(c);
    EXPECT_EQ(out.n_frames, 1);
    ASSERT_EQ(codec_encode(c, zeros.data(), 300, CODEC_N_Q_ALL, &out), CODEC_OK);
    ASSERT_EQ(out.n_scales, 3);
    EXPECT_EQ(out.scales[0], 1e-8f);
    std::vector<float> nan_pcm = x;
    nan_pcm[101] = NAN;
    EXPECT_EQ(codec_encode(c, nan_pcm.data(), n, CODEC_N_Q_ALL, &out), CODEC_ERR_INVALID_ARG);
}

class EncodecMissingKey : public EncodecErrors, public ::testing::WithParamInterface<const char *> {};

TEST_P(EncodecMissingKey, NamesTheKey) {
    const char * key = GetParam();
    const auto path = variant(stereo_, "missing", kv_edit([key](gguf_context * g) { ASSERT_GE(gguf_remove_key(g, key), 0) << key; }));
    expect_fail(path, {"missing", std::string("'") + key + "'"});
}

INSTANTIATE_TEST_SUITE_P(EncodecErrors, EncodecMissingKey,
    ::testing::Values("encodec.num_filters", "encodec.upsampling_ratios", "encodec.num_residual_layers",
                      "encodec.dilation_growth_rate", "encodec.kernel_size", "encodec.last_kernel_size",
                      "encodec.residual_kernel_size", "encodec.compress", "encodec.num_lstm_layers",
                      "encodec.use_causal_conv", "encodec.use_conv_shortcut", "encodec.pad_mode", "encodec.norm_type",
                      "encodec.trim_right_ratio", "encodec.normalize", "encodec.chunk_length", "encodec.chunk_stride",
                      "encodec.target_bandwidths_bps"),
    [](const auto & info) {
        std::string s = info.param;
        std::replace(s.begin(), s.end(), '.', '_');
        return s;
    });

struct EncodecKeyCase {
    const char * name;
    std::function<void(gguf_context *)> set;
    std::vector<std::string> needles;
};

void PrintTo(const EncodecKeyCase & c, std::ostream * os) { *os << c.name; }

class EncodecBadKey : public EncodecErrors, public ::testing::WithParamInterface<EncodecKeyCase> {};

TEST_P(EncodecBadKey, IsRefusedWithAMessage) {
    const EncodecKeyCase & c = GetParam();
    expect_fail(variant(stereo_, c.name, kv_edit(c.set)), c.needles);
}

INSTANTIATE_TEST_SUITE_P(EncodecErrors, EncodecBadKey, ::testing::Values(
    EncodecKeyCase{"pad_mode", [](gguf_context * g) { gguf_set_val_str(g, "encodec.pad_mode", "circular"); },
                   {"encodec.pad_mode", "circular"}},
    EncodecKeyCase{"norm_type", [](gguf_context * g) { gguf_set_val_str(g, "encodec.norm_type", "batch_norm"); },
                   {"encodec.norm_type", "batch_norm"}},
    EncodecKeyCase{"stride_over_length", [](gguf_context * g) { gguf_set_val_u32(g, "encodec.chunk_stride", 161); },
                   {"encodec.chunk_length"}},
    EncodecKeyCase{"stride_without_length", [](gguf_context * g) { gguf_set_val_u32(g, "encodec.chunk_length", 0); },
                   {"encodec.chunk_length"}},
    EncodecKeyCase{"trim_ratio", [](gguf_context * g) { gguf_set_val_f32(g, "encodec.trim_right_ratio", 2.0f); },
                   {"encodec.trim_right_ratio"}},
    EncodecKeyCase{"bandwidth_needs_more_codebooks",
                   [](gguf_context * g) { const int32_t b[1] = {64000}; gguf_set_arr_data(g, "encodec.target_bandwidths_bps", GGUF_TYPE_INT32, b, 1); },
                   {"64000 bps", "8 codebooks"}},
    EncodecKeyCase{"three_channels", [](gguf_context * g) { gguf_set_val_u32(g, "codec.channels", 3); }, {"1 or 2 channels"}},
    EncodecKeyCase{"hop_vs_ratios", [](gguf_context * g) { gguf_set_val_u32(g, "codec.hop_size", 16); },
                   {"codec.hop_size", "encodec.upsampling_ratios"}},
    EncodecKeyCase{"lstm_layers_zero", [](gguf_context * g) { gguf_set_val_u32(g, "encodec.num_lstm_layers", 0); },
                   {"encodec.num_lstm_layers", "outside"}},
    EncodecKeyCase{"codebook_size_not_pow2", [](gguf_context * g) { gguf_set_val_u32(g, "codec.codebook_size", 12); },
                   {"power of 2"}}),
    [](const auto & info) { return std::string(info.param.name); });

// Found by fuzz/fuzz_encode (tests/regress/encode/encodec_stereo_fullscale_scale_overflow):
// finite samples so loud that a chunk's RMS overflows float gave an infinite scale, codes that
// decode then refused. Encode must refuse them itself, naming the chunk.
TEST_F(EncodecErrors, StereoRejectsChunkScaleOverflow) {
    const LoadResult r = load_model(stereo_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    std::vector<float> x = stereo_signal(400);  // 3 chunks; the second one is made too loud
    for (size_t i = 2 * 200; i < 2 * 260; ++i) x[i] = std::numeric_limits<float>::max();
    codec_codes out{};
    EXPECT_EQ(codec_encode(ctx.get(), x.data(), 400, CODEC_N_Q_ALL, &out), CODEC_ERR_INVALID_ARG);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("chunk 1"), std::string::npos)
        << codec_context_last_error(ctx.get());
    for (size_t i = 2 * 200; i < 2 * 260; ++i) x[i] = 1e3f;  // loud but representable: fine
    EXPECT_EQ(codec_encode(ctx.get(), x.data(), 400, CODEC_N_Q_ALL, &out), CODEC_OK) << codec_context_last_error(ctx.get());
}

TEST_F(EncodecErrors, EveryTensorIsRequired) {
    std::vector<std::string> names;
    {
        gguf_init_params ip = { true, nullptr };
        std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(stereo_.c_str(), ip));
        ASSERT_TRUE(g);
        for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) names.emplace_back(gguf_get_tensor_name(g.get(), i));
    }
    ASSERT_GT(names.size(), 90u);
    for (const std::string & name : names) {
        SCOPED_TRACE(name);
        expect_fail(variant(stereo_, "drop", drop_tensor(name)), {"missing tensor '" + name + "'"});
        if (HasFailure()) break;
    }
}

TEST_F(EncodecErrors, TensorWrongShape) {
    expect_fail(variant(stereo_, "shape", reshape_tensor("decoder.layers.1.lstm.weight_hh_l1", {16, 48})), {"'decoder.layers.1.lstm.weight_hh_l1'", "[16, 48, 1, 1]", "[16, 64, 1, 1]"});
}
