// Pocket TTS's Mimi (arch pocket_mimi, continuous latents): hostile model files (its own keys and
// tensors, the shared mimi.* keys, the wrong arch), bad inputs to the latent API and latent
// streams, on a tiny fixture made once per build by tests/fixtures/pocket_tts.py --variant tiny and
// convert.py (fixture_gguf): hidden 16, latent_dim 4, SEANet [2, 2], latent_stride 2 (hop 8),
// 2 layers with window 6.
#include "test_util.h"

#include <algorithm>

using namespace codec_test;

namespace {

constexpr int kHop = 8, kLatent = 4;

std::string tiny_pocket_path(std::string & err) {
    return fixture_gguf("pocket-tiny.gguf", "tests/fixtures/pocket_tts.py", "--variant tiny --seed 0",
                        {"/tests/fixtures/pocket_tts.py", "/tests/fixtures/make_checkpoint.py", "/scripts/codec_convert/mimi.py",
                         "/scripts/codec_convert/pocket_tts.py"},
                        err);
}

class PocketErrors : public ::testing::Test {
protected:
    void SetUp() override {
        std::string err;
        path_ = tiny_pocket_path(err);
        ASSERT_FALSE(path_.empty()) << err;
    }
    std::string variant(const std::string & name, const GgufEdit & edit) { return gguf_variant(dir_, path_, name, edit); }

    std::string path_;
    TempDir dir_;
};

struct StreamDeleter { void operator()(codec_stream * s) const { codec_stream_free(s); } };
using StreamPtr = std::unique_ptr<codec_stream, StreamDeleter>;

StreamPtr new_stream(codec_context * ctx, codec_stream_direction dir, int32_t n_q = CODEC_N_Q_ALL) {
    codec_stream_params p = codec_stream_default_params();
    p.direction = dir;
    p.n_q = n_q;
    return StreamPtr(codec_stream_new(ctx, p));
}

float max_abs_diff(const std::vector<float> & a, const std::vector<float> & b) {
    float m = 0.0f;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

}  // namespace

TEST_F(PocketErrors, TinyModelLoads) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    EXPECT_STREQ(codec_model_arch(r.model.get()), "pocket_mimi");
    EXPECT_TRUE(codec_model_continuous(r.model.get()));
    EXPECT_EQ(codec_model_hop_size(r.model.get()), kHop);
    EXPECT_EQ(codec_model_latent_dim(r.model.get()), kLatent);
    EXPECT_EQ(codec_model_n_q(r.model.get()), 0);
    EXPECT_EQ(codec_model_codebook_size(r.model.get()), 0);
}

TEST_F(PocketErrors, MissingKey) {
    for (const char * key : {"mimi.hidden_act", "mimi.hidden_size", "mimi.num_filters", "mimi.downsample_stride",
                             "mimi.sliding_window", "mimi.rope_theta"}) {
        SCOPED_TRACE(key);
        expect_load_fail(variant("missing", kv_edit([key](gguf_context * g) { ASSERT_GE(gguf_remove_key(g, key), 0); })), {key});
    }
}

TEST_F(PocketErrors, InsaneKeysAndWrongArch) {
    struct Case { std::function<void(gguf_context *)> set; const char * needle; codec_status st = CODEC_ERR_FORMAT; };
    const Case cases[] = {
        {[](gguf_context * g) { gguf_set_val_str(g, "mimi.hidden_act", "relu"); }, "mimi.hidden_act"},
        {[](gguf_context * g) { gguf_set_val_u32(g, "mimi.hidden_act", 1); }, "mimi.hidden_act"},
        {[](gguf_context * g) { gguf_set_val_u32(g, "mimi.hidden_size", 0); }, "mimi.hidden_size"},
        {[](gguf_context * g) { gguf_set_val_u32(g, "mimi.hidden_size", 17); }, "weight"},       // every C-sized tensor disagrees
        {[](gguf_context * g) { gguf_set_val_u32(g, "codec.latent_dim", 5); }, "downsample.conv.weight"},
        {[](gguf_context * g) { gguf_set_val_u32(g, "mimi.downsample_stride", 3); }, "codec.hop_size"},
        {[](gguf_context * g) { gguf_set_val_str(g, "codec.arch", "mimi"); }, "mimi.num_semantic_quantizers"},  // no quantizer
        {[](gguf_context * g) { gguf_set_val_str(g, "codec.arch", "pocket_mimi_v2"); }, "pocket_mimi_v2", CODEC_ERR_UNSUPPORTED},
    };
    int i = 0;
    for (const Case & c : cases) {
        SCOPED_TRACE("case " + std::to_string(i));
        expect_load_fail(variant("insane" + std::to_string(i++), kv_edit(c.set)), {c.needle}, c.st);
    }
}

TEST_F(PocketErrors, BadTensors) {
    for (const char * name : {"latent_proj.weight", "downsample.conv.weight", "upsample.conv.weight", "rope.inv_freq",
                              "encoder.layers.0.conv.weight", "encoder_transformer.layers.1.mlp.fc1.weight",
                              "decoder_transformer.layers.0.mlp_layer_scale.scale", "decoder.layers.0.conv.weight"}) {
        SCOPED_TRACE(name);
        const std::string n = name;
        expect_load_fail(variant("drop", drop_tensor(n)), {name});
        expect_load_fail(variant("shape", widen_tensor(n)), {name});  // one element more along the first axis
    }
    // A norm stored as f16 (norms, biases and scales must stay f32).
    const std::string ln = "decoder_transformer.layers.0.input_layernorm.bias";
    expect_load_fail(variant("type", {nullptr, [ln](ggml_tensor * t, ggml_context * s) {
                         return ln == t->name ? retype(t, s, GGML_TYPE_F16) : t;
                     }, nullptr}),
                     {ln});
}

TEST_F(PocketErrors, BadInputs) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    const std::vector<float> pcm = make_signal(10 * kHop + 3, 3);
    // Code entry points: a continuous model has no codebook.
    codec_codes c{};
    EXPECT_EQ(codec_encode(ctx.get(), pcm.data(), (int64_t) pcm.size(), CODEC_N_Q_ALL, &c), CODEC_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("codec_encode_latent"), std::string::npos);
    const int32_t codes[2] = {0, 1};
    codec_audio a{};
    EXPECT_EQ(codec_decode(ctx.get(), codes, 1, 2, &a), CODEC_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("codec_decode_latent"), std::string::npos);
    c = codec_codes{};
    c.n_q = 1;
    c.n_frames = 2;
    c.data = codes;
    EXPECT_EQ(codec_decode_codes(ctx.get(), &c, &a), CODEC_ERR_UNSUPPORTED);
    // encode_latent
    codec_latent z{};
    EXPECT_EQ(codec_encode_latent(ctx.get(), nullptr, 5, &z), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_encode_latent(ctx.get(), pcm.data(), 0, &z), CODEC_ERR_INVALID_ARG);
    std::vector<float> bad = pcm;
    bad[17] = NAN;
    EXPECT_EQ(codec_encode_latent(ctx.get(), bad.data(), (int64_t) bad.size(), &z), CODEC_ERR_INVALID_ARG);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("pcm[17]"), std::string::npos);
    EXPECT_EQ(codec_encode_latent(nullptr, pcm.data(), 5, &z), CODEC_ERR_INVALID_ARG);
    for (int64_t n : {1, 7, 8, 9, 83}) {  // frames = ceil(n / hop); the decode of them: frames * hop samples
        SCOPED_TRACE(n);
        ASSERT_EQ(codec_encode_latent(ctx.get(), pcm.data(), n, &z), CODEC_OK) << codec_context_last_error(ctx.get());
        EXPECT_EQ(z.latent_dim, kLatent);
        EXPECT_EQ(z.n_frames, (n + kHop - 1) / kHop);
        const std::vector<float> lat(z.data, z.data + (size_t) z.latent_dim * z.n_frames);
        for (float v : lat) ASSERT_TRUE(std::isfinite(v));
        ASSERT_EQ(codec_decode_latent(ctx.get(), lat.data(), kLatent, z.n_frames, &a), CODEC_OK);
        EXPECT_EQ(a.n_samples, (int64_t) z.n_frames * kHop);
    }
    // decode_latent
    std::vector<float> lat((size_t) kLatent * 3, 0.5f);
    EXPECT_EQ(codec_decode_latent(ctx.get(), lat.data(), kLatent + 1, 3, &a), CODEC_ERR_INVALID_ARG);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("latent_dim"), std::string::npos);
    EXPECT_EQ(codec_decode_latent(ctx.get(), lat.data(), kLatent, 0, &a), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_decode_latent(ctx.get(), nullptr, kLatent, 3, &a), CODEC_ERR_INVALID_ARG);
    for (float v : {NAN, INFINITY, -INFINITY}) {
        lat[5] = v;
        EXPECT_EQ(codec_decode_latent(ctx.get(), lat.data(), kLatent, 3, &a), CODEC_ERR_INVALID_ARG);
        EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("latent[5]"), std::string::npos);
    }
}

TEST_F(PocketErrors, LatentStreams) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    const std::vector<float> pcm = make_signal(kHop * 40 + 5, 11);
    codec_latent z{};
    ASSERT_EQ(codec_encode_latent(ctx.get(), pcm.data(), (int64_t) pcm.size(), &z), CODEC_OK);
    const std::vector<float> want(z.data, z.data + (size_t) kLatent * z.n_frames);
    const int32_t F = z.n_frames;
    codec_audio a{};
    ASSERT_EQ(codec_decode_latent(ctx.get(), want.data(), kLatent, F, &a), CODEC_OK);
    const std::vector<float> want_pcm(a.data, a.data + a.n_samples);

    StreamPtr s = new_stream(ctx.get(), CODEC_STREAM_ENCODE);
    ASSERT_NE(s, nullptr) << codec_context_last_error(ctx.get());
    for (size_t step : {1, 7, 8, 100}) {  // samples per push
        SCOPED_TRACE("encode step " + std::to_string(step));
        ASSERT_EQ(codec_stream_reset(s.get()), CODEC_OK);
        std::vector<std::vector<float>> rows(kLatent);
        auto pull = [&] {
            codec_latent o{};
            ASSERT_EQ(codec_stream_pull_latent(s.get(), &o), CODEC_OK) << codec_stream_last_error(s.get());
            ASSERT_EQ(o.latent_dim, kLatent);
            for (int d = 0; d < kLatent; ++d) rows[d].insert(rows[d].end(), o.data + (size_t) d * o.n_frames, o.data + (size_t) (d + 1) * o.n_frames);
        };
        for (size_t i = 0; i < pcm.size(); i += step) {
            ASSERT_EQ(codec_stream_push_pcm(s.get(), pcm.data() + i, (int64_t) std::min(step, pcm.size() - i)), CODEC_OK);
            pull();
        }
        ASSERT_EQ(codec_stream_flush(s.get()), CODEC_OK);
        pull();
        std::vector<float> got;
        for (auto & row : rows) got.insert(got.end(), row.begin(), row.end());
        ASSERT_EQ(got.size(), want.size());
        EXPECT_LT(max_abs_diff(got, want), 1e-4f);
    }
    codec_codes c{};
    EXPECT_EQ(codec_stream_pull_codes(s.get(), &c), CODEC_ERR_INVALID_ARG);
    EXPECT_NE(std::string(codec_stream_last_error(s.get())).find("pull_latent"), std::string::npos);

    StreamPtr d = new_stream(ctx.get(), CODEC_STREAM_DECODE);
    ASSERT_NE(d, nullptr) << codec_context_last_error(ctx.get());
    EXPECT_EQ(codec_stream_pull_latent(d.get(), &z), CODEC_ERR_INVALID_ARG);  // wrong direction
    std::vector<float> one((size_t) kLatent * 2, 0.1f);
    EXPECT_EQ(codec_stream_push_latent(d.get(), one.data(), kLatent - 1, 2), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_stream_push_latent(d.get(), nullptr, kLatent, 2), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_stream_push_latent(d.get(), one.data(), kLatent, -1), CODEC_ERR_INVALID_ARG);
    one[3] = NAN;
    EXPECT_EQ(codec_stream_push_latent(d.get(), one.data(), kLatent, 2), CODEC_ERR_INVALID_ARG);
    const int32_t codes[2] = {0, 0};
    c = codec_codes{};
    c.n_q = 1;
    c.n_frames = 2;
    c.data = codes;
    EXPECT_EQ(codec_stream_push_codes(d.get(), &c), CODEC_ERR_INVALID_ARG);
    EXPECT_NE(std::string(codec_stream_last_error(d.get())).find("push_latent"), std::string::npos);
    // After the refused pushes the stream is intact: frame by frame, then in odd pushes.
    for (int32_t step : {1, 3}) {
        SCOPED_TRACE("decode step " + std::to_string(step));
        ASSERT_EQ(codec_stream_reset(d.get()), CODEC_OK);
        std::vector<float> got;
        for (int32_t t = 0; t < F; t += step) {
            const int32_t n = std::min(step, F - t);
            std::vector<float> part((size_t) kLatent * n);
            for (int k = 0; k < kLatent; ++k)
                std::copy(want.begin() + (ptrdiff_t) k * F + t, want.begin() + (ptrdiff_t) k * F + t + n, part.begin() + (ptrdiff_t) k * n);
            ASSERT_EQ(codec_stream_push_latent(d.get(), part.data(), kLatent, n), CODEC_OK) << codec_stream_last_error(d.get());
            ASSERT_EQ(codec_stream_pull_pcm(d.get(), &a), CODEC_OK);
            got.insert(got.end(), a.data, a.data + a.n_samples);
        }
        ASSERT_EQ(codec_stream_flush(d.get()), CODEC_OK);
        ASSERT_EQ(codec_stream_pull_pcm(d.get(), &a), CODEC_OK);
        got.insert(got.end(), a.data, a.data + a.n_samples);
        ASSERT_EQ(got.size(), want_pcm.size());
        EXPECT_LT(max_abs_diff(got, want_pcm), 1e-4f);
    }
    // Latent streams take all latent rows.
    EXPECT_EQ(new_stream(ctx.get(), CODEC_STREAM_DECODE, 3), nullptr);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("n_q = 3"), std::string::npos);
    EXPECT_NE(new_stream(ctx.get(), CODEC_STREAM_DECODE, kLatent), nullptr);
}
