// SNAC on bad inputs: hostile model files (missing or insane snac.* keys, missing or misshapen
// tensors) and bad multi-rate codes. The tiny model is written here with the gguf API (random
// weights in the converter's layout: scripts/codec_convert/snac.py), so no Python is needed:
// encoder_dim 16, rates [2, 3], decoder_dim 64, rates [3, 2], attention window 4 (one 64-wide
// head), vq_strides [2, 1], 32 codes of dim 4.
#include "test_util.h"

#include <random>

using namespace codec_test;

namespace {

constexpr int kHop = 6, kWindow = 4, kPadTo = kHop * 4;  // hop * lcm(vq_strides[0] = 2, window = 4)

void write_tiny_snac(const std::string & path) {
    const int E = 16, L = 64, Dd = 64, D = 4, N = 32, W = kWindow, DH = 64;
    std::unique_ptr<gguf_context, GgufFree> g(gguf_init_empty());
    gguf_context * kv = g.get();
    gguf_set_val_str(kv, "codec.arch", "snac");
    gguf_set_val_u32(kv, "codec.sample_rate", 16000);
    gguf_set_val_u32(kv, "codec.hop_size", kHop);
    gguf_set_val_u32(kv, "codec.n_q", 2);
    gguf_set_val_u32(kv, "codec.codebook_size", N);
    gguf_set_val_u32(kv, "codec.codebook_dim", D);
    gguf_set_val_u32(kv, "codec.latent_dim", L);
    gguf_set_val_u32(kv, "codec.channels", 1);
    gguf_set_val_bool(kv, "codec.has_encoder", true);
    gguf_set_val_bool(kv, "codec.has_decoder", true);
    const int32_t enc_rates[2] = {2, 3}, dec_rates[2] = {3, 2}, strides[2] = {2, 1};
    gguf_set_val_u32(kv, "snac.encoder_dim", E);
    gguf_set_arr_data(kv, "snac.encoder_rates", GGUF_TYPE_INT32, enc_rates, 2);
    gguf_set_val_u32(kv, "snac.decoder_dim", Dd);
    gguf_set_arr_data(kv, "snac.decoder_rates", GGUF_TYPE_INT32, dec_rates, 2);
    gguf_set_arr_data(kv, "snac.vq_strides", GGUF_TYPE_INT32, strides, 2);
    gguf_set_val_u32(kv, "snac.attn_window_size", W);
    gguf_set_val_u32(kv, "snac.attn_dim_head", DH);

    ggml_init_params ip = { 8u << 20, nullptr, false };
    std::unique_ptr<ggml_context, GgmlFree> ctx(ggml_init(ip));
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-0.3f, 0.3f);
    auto add = [&](const std::string & name, std::vector<int64_t> ne, float lo = 0.0f) {
        ggml_tensor * t = ggml_new_tensor(ctx.get(), GGML_TYPE_F32, (int) ne.size(), ne.data());
        ggml_set_name(t, name.c_str());
        float * d = (float *) t->data;
        for (int64_t i = 0; i < ggml_nelements(t); ++i) d[i] = lo + u(rng);
        gguf_add_tensor(kv, t);
    };
    auto snake = [&](const std::string & p, int c) { add(p + ".alpha", {c}, 1.0f); add(p + ".beta", {c}, 1.0f); };
    auto res = [&](const std::string & p, int c) {
        snake(p + ".block.0", c);
        add(p + ".block.1.weight", {c, 7}); add(p + ".block.1.bias", {c});
        snake(p + ".block.2", c);
        add(p + ".block.3.weight", {c, c, 1}); add(p + ".block.3.bias", {c});
    };
    auto attn = [&](const std::string & p, int c) {
        add(p + ".norm.weight", {c}, 1.0f); add(p + ".norm.bias", {c});
        add(p + ".to_qkv.weight", {c, 3 * c}); add(p + ".to_out.weight", {c, c});
        add(p + ".rel_pos.cos", {DH, 1, W}); add(p + ".rel_pos.sin", {DH, 1, W});
    };
    add("encoder.block.0.weight", {7, 1, E}); add("encoder.block.0.bias", {E});
    for (int i = 0; i < 2; ++i) {
        const int c = E << i, s = enc_rates[i];
        const std::string p = "encoder.block." + std::to_string(i + 1) + ".block";
        for (int r = 0; r < 3; ++r) res(p + "." + std::to_string(r), c);
        snake(p + ".3", c);
        add(p + ".4.weight", {c * s, 2 * c, 2}); add(p + ".4.bias", {2 * c});
    }
    attn("encoder.block.3", L);
    add("encoder.block.4.weight", {L, 7}); add("encoder.block.4.bias", {L});
    for (int q = 0; q < 2; ++q) {
        const std::string p = "quantizer.quantizers." + std::to_string(q);
        add(p + ".in_proj.weight", {L, D}); add(p + ".in_proj.bias", {D});
        add(p + ".out_proj.weight", {D, L}); add(p + ".out_proj.bias", {L});
        add(p + ".codebook.weight", {D, N}); add(p + ".codebook.normalized", {D, N});
        add(p + ".codebook.normalized_sq", {N});
    }
    add("decoder.model.0.weight", {L, 7}); add("decoder.model.0.bias", {L});
    add("decoder.model.1.weight", {L, Dd, 1}); add("decoder.model.1.bias", {Dd});
    attn("decoder.model.2", Dd);
    for (int i = 0; i < 2; ++i) {
        const int in = Dd >> i, out = Dd >> (i + 1), s = dec_rates[i];
        const std::string p = "decoder.model." + std::to_string(3 + i) + ".block";
        snake(p + ".0", in);
        add(p + ".1.weight", {in, out * s, 2}); add(p + ".1.bias", {out});
        add(p + ".2.linear.weight", {out, out});
        for (int r = 0; r < 3; ++r) res(p + "." + std::to_string(3 + r), out);
    }
    snake("decoder.model.5", Dd / 4);
    add("decoder.model.6.weight", {Dd / 4, 1, 7}); add("decoder.model.6.bias", {1});
    ASSERT_TRUE(gguf_write_to_file(kv, path.c_str(), false));
}

class SnacErrors : public ::testing::Test {
protected:
    void SetUp() override {
        tiny_ = dir_.file("snac.gguf");
        write_tiny_snac(tiny_);
    }

    std::string variant(const std::string & name, const GgufEdit & edit) { return gguf_variant(dir_, tiny_, name, edit); }
    void expect_fail(const std::string & path, const std::vector<std::string> & needles) { expect_load_fail(path, needles); }

    TempDir dir_;
    std::string tiny_;
};

GgufEdit set_arr(const char * key, std::vector<int32_t> v) {
    return kv_edit([key, v](gguf_context * kv) { gguf_set_arr_data(kv, key, GGUF_TYPE_INT32, v.data(), v.size()); });
}

GgufEdit set_u32(const char * key, uint32_t v) {
    return kv_edit([key, v](gguf_context * kv) { gguf_set_val_u32(kv, key, v); });
}

}  // namespace

TEST_F(SnacErrors, TinyModelLevelsAndPaddingRule) {
    const LoadResult r = load_model(tiny_);
    ASSERT_NE(r.model, nullptr) << r.message;
    EXPECT_TRUE(codec_model_multi_rate(r.model.get()));
    CtxPtr ctx = new_context(r.model.get());
    for (int64_t n : {1, 23, 24, 25, 1000}) {
        const std::vector<float> x = make_signal(n, 5);
        codec_codes c{};
        ASSERT_EQ(codec_encode(ctx.get(), x.data(), n, CODEC_N_Q_ALL, &c), CODEC_OK) << codec_context_last_error(ctx.get());
        const int64_t frames = (n + kPadTo - 1) / kPadTo * kPadTo / kHop;  // right zero-padding to whole units
        ASSERT_NE(c.row_len, nullptr);
        EXPECT_EQ(c.n_q, 2);
        EXPECT_EQ(c.n_frames, frames);
        EXPECT_EQ(c.row_len[0], frames / 2);
        EXPECT_EQ(c.row_len[1], frames);
        for (int32_t t = c.row_len[0]; t < c.n_frames; ++t) EXPECT_EQ(c.data[t], 0);  // unused entries zeroed
        const Codes codes = copy_codes(c);
        const std::vector<int32_t> row_len(c.row_len, c.row_len + 2);
        codec_codes in{codes.n_q, codes.n_frames, codes.data.data(), row_len.data(), 0, nullptr};
        codec_audio a{};
        ASSERT_EQ(codec_decode_codes(ctx.get(), &in, &a), CODEC_OK) << codec_context_last_error(ctx.get());
        EXPECT_EQ(a.n_samples, frames * kHop);  // the padded length
        for (int64_t i = 0; i < a.n_samples; ++i) ASSERT_TRUE(std::isfinite(a.data[i]));
        // One level only: the coarsest.
        ASSERT_EQ(codec_encode(ctx.get(), x.data(), n, 1, &c), CODEC_OK);
        EXPECT_EQ(c.n_q, 1);
        EXPECT_EQ(c.n_frames, frames / 2);
        ASSERT_NE(c.row_len, nullptr);  // a multi-rate model's codes always say their lengths
        EXPECT_EQ(c.row_len[0], frames / 2);
    }
}

TEST_F(SnacErrors, BadCodesAreRejectedWithMessages) {
    const LoadResult r = load_model(tiny_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    codec_context * c = ctx.get();
    const int32_t F = 8;  // latent frames: a multiple of the window
    std::vector<int32_t> data(2 * F, 1);
    std::vector<int32_t> row_len = {F / 2, F};
    codec_audio a{};
    const auto expect = [&](codec_status st, const char * needle) {
        EXPECT_EQ(st, CODEC_ERR_INVALID_ARG);
        EXPECT_NE(std::string(codec_context_last_error(c)).find(needle), std::string::npos)
            << "message '" << codec_context_last_error(c) << "' lacks '" << needle << "'";
    };
    codec_codes in{2, F, data.data(), row_len.data(), 0, nullptr};
    ASSERT_EQ(codec_decode_codes(c, &in, &a), CODEC_OK) << codec_context_last_error(c);
    EXPECT_EQ(a.n_samples, F * kHop);

    expect(codec_decode(c, data.data(), 2, F, &a), "codec_decode_codes");  // flat codes
    codec_codes no_len{2, F, data.data(), nullptr, 0, nullptr};
    expect(codec_decode_codes(c, &no_len, &a), "row_len");
    std::vector<int32_t> bad = {F / 2 - 1, F};
    codec_codes mismatched{2, F, data.data(), bad.data(), 0, nullptr};
    expect(codec_decode_codes(c, &mismatched, &a), "level 1 has 8 codes, expected 6");
    bad = {F / 2, F + 1};
    expect(codec_decode_codes(c, &mismatched, &a), "outside [1, n_frames");
    bad = {0, F};
    expect(codec_decode_codes(c, &mismatched, &a), "row_len[0] = 0");
    bad = {3, 6};  // 6 latent frames: not a multiple of the attention window
    expect(codec_decode_codes(c, &mismatched, &a), "attention window");
    codec_codes too_many{3, F, data.data(), row_len.data(), 0, nullptr};
    expect(codec_decode_codes(c, &too_many, &a), "n_q = 3");
    data[F + 3] = 32;  // level 1, index 3: past the codebook
    expect(codec_decode_codes(c, &in, &a), "level 1, index 3");
    data[F + 3] = 1;
    data[F / 2] = -5;  // level 0's unused tail is ignored
    EXPECT_EQ(codec_decode_codes(c, &in, &a), CODEC_OK) << codec_context_last_error(c);
    const float scale = 1.0f;
    codec_codes scaled{2, F, data.data(), row_len.data(), 1, &scale};
    expect(codec_decode_codes(c, &scaled, &a), "scales");
    std::vector<float> latent(64 * 6, 0.1f);
    expect(codec_decode_latent(c, latent.data(), 64, 6, &a), "attention window");
}

TEST_F(SnacErrors, HostileKeys) {
    expect_fail(variant("no_strides", kv_edit([](gguf_context * kv) { gguf_remove_key(kv, "snac.vq_strides"); })),
                {"snac.vq_strides"});
    expect_fail(variant("window_type", kv_edit([](gguf_context * kv) { gguf_set_val_str(kv, "snac.attn_window_size", "4"); })),
                {"snac.attn_window_size", "expected an integer"});
    expect_fail(variant("window_huge", set_u32("snac.attn_window_size", 1u << 30)), {"snac.attn_window_size", "outside"});
    expect_fail(variant("strides_not_dividing", set_arr("snac.vq_strides", {2, 3})), {"vq_strides[1] = 3", "does not divide"});
    expect_fail(variant("strides_count", set_arr("snac.vq_strides", {4, 2, 1})), {"codec.n_q = 2", "3 levels"});
    expect_fail(variant("stride_zero", set_arr("snac.vq_strides", {2, 0})), {"'snac.vq_strides'[1] = 0"});
    expect_fail(variant("dec_rates", set_arr("snac.decoder_rates", {2, 2})), {"snac.decoder_rates multiply to 4"});
    expect_fail(variant("enc_rates", set_arr("snac.encoder_rates", {2, 2})), {"codec.hop_size = 6"});
    expect_fail(variant("enc_dim", set_u32("snac.encoder_dim", 8)), {"codec.latent_dim = 64"});
    expect_fail(variant("head_odd", set_u32("snac.attn_dim_head", 3)), {"snac.attn_dim_head = 3"});
    expect_fail(variant("dec_dim", set_u32("snac.decoder_dim", 66)), {"snac.decoder_dim"});
    expect_fail(variant("stereo", set_u32("codec.channels", 2)), {"mono"});
}

TEST_F(SnacErrors, HostileTensors) {
    expect_fail(variant("no_cos", drop_tensor("encoder.block.3.rel_pos.cos")), {"missing tensor 'encoder.block.3.rel_pos.cos'"});
    expect_fail(variant("no_dw", drop_tensor("decoder.model.4.block.5.block.1.weight")),
                {"decoder.model.4.block.5.block.1.weight"});
    expect_fail(variant("qkv_shape", reshape_tensor("decoder.model.2.to_qkv.weight", {64, 64})),
                {"decoder.model.2.to_qkv.weight", "shape"});
    expect_fail(variant("convt_shape", reshape_tensor("decoder.model.3.block.1.weight", {64, 32, 3})),
                {"decoder.model.3.block.1.weight", "shape"});
    expect_fail(variant("codebook_f16", GgufEdit{nullptr, [](ggml_tensor * t, ggml_context * s) {
                            return std::string(t->name) == "quantizer.quantizers.1.codebook.weight" ? retype(t, s, GGML_TYPE_F16) : t;
                        }, nullptr}),
                {"quantizer.quantizers.1.codebook.weight", "expected f32"});
    // The window key sets the rotary tables' shape: a smaller window no longer matches them.
    expect_fail(variant("window_tables", set_u32("snac.attn_window_size", 2)), {"rel_pos.cos", "shape"});
}
