// C API argument checking: every bad argument gives its status and a message naming the
// problem, and a context stays usable (bit for bit) after any failed call.
#include "test_util.h"

#include <cmath>
#include <limits>
#include <set>

using namespace codec_test;

namespace {

class ApiErrors : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!tiny_model_path().empty()) model_ = load_model(tiny_model_path()).model.release();
    }
    static void TearDownTestSuite() {
        codec_model_free(model_);
        model_ = nullptr;
    }
    void SetUp() override {
        REQUIRE_TINY_MODEL();
        ASSERT_NE(model_, nullptr) << "tiny model failed to load";
        ctx_ = new_context(model_);
        ASSERT_TRUE(ctx_);
    }

    // Checks `st` is `want` and that the context's last error contains every needle.
    void expect_error(codec_status st, codec_status want, std::initializer_list<std::string> needles) {
        EXPECT_EQ(st, want) << codec_context_last_error(ctx_.get());
        const std::string msg = codec_context_last_error(ctx_.get());
        EXPECT_FALSE(msg.empty());
        for (const auto & n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "'" << msg << "' lacks '" << n << "'";
    }

    static codec_model * model_;
    CtxPtr ctx_;
    const std::vector<float> pcm_ = make_signal(800, 7);  // 100 frames at hop 8
};

codec_model * ApiErrors::model_ = nullptr;

}  // namespace

// ---- NULL handles -----------------------------------------------------------------------------

TEST_F(ApiErrors, NullContextIsRejected) {
    codec_codes c{};
    codec_audio a{};
    const int32_t codes[4] = {0, 1, 2, 3};
    const std::vector<float> lat(16, 0.0f);
    EXPECT_EQ(codec_encode(nullptr, pcm_.data(), 800, 4, &c), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_decode(nullptr, codes, 1, 4, &a), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_decode_latent(nullptr, lat.data(), 16, 1, &a), CODEC_ERR_INVALID_ARG);
    EXPECT_STRNE(codec_context_last_error(nullptr), "");
    codec_context_set_n_threads(nullptr, 2);  // no-op, must not crash
    codec_context_free(nullptr);
}

TEST_F(ApiErrors, NullModelIsRejected) {
    EXPECT_EQ(codec_context_new(nullptr, codec_context_default_params()), nullptr);
    codec_model_free(nullptr);
    EXPECT_STREQ(codec_model_arch(nullptr), "");
    EXPECT_EQ(codec_model_sample_rate(nullptr), 0);
    EXPECT_EQ(codec_model_hop_size(nullptr), 0);
    EXPECT_EQ(codec_model_encode_sample_rate(nullptr), 0);
    EXPECT_EQ(codec_model_encode_hop_size(nullptr), 0);
    EXPECT_EQ(codec_model_n_q(nullptr), 0);
    EXPECT_EQ(codec_model_codebook_size(nullptr), 0);
    EXPECT_EQ(codec_model_codebook_dim(nullptr), 0);
    EXPECT_EQ(codec_model_latent_dim(nullptr), 0);
    EXPECT_EQ(codec_model_channels(nullptr), 0);
    EXPECT_FALSE(codec_model_has_encoder(nullptr));
    EXPECT_FALSE(codec_model_has_decoder(nullptr));
    EXPECT_FALSE(codec_model_uses_gpu(nullptr));
    char buf[8];
    EXPECT_EQ(codec_model_meta_str(nullptr, "codec.arch", buf, sizeof(buf)), -1);
}

// ---- encode -------------------------------------------------------------------------------------

TEST_F(ApiErrors, EncodeNullPcm) {
    codec_codes c{};
    expect_error(codec_encode(ctx_.get(), nullptr, 800, 4, &c), CODEC_ERR_INVALID_ARG, {"pcm", "NULL"});
}

TEST_F(ApiErrors, EncodeEmptyOrNegativeLength) {
    codec_codes c{};
    expect_error(codec_encode(ctx_.get(), pcm_.data(), 0, 4, &c), CODEC_ERR_INVALID_ARG, {"n_samples = 0"});
    expect_error(codec_encode(ctx_.get(), pcm_.data(), -5, 4, &c), CODEC_ERR_INVALID_ARG, {"n_samples = -5"});
    expect_error(codec_encode(ctx_.get(), pcm_.data(), INT64_MIN, 4, &c), CODEC_ERR_INVALID_ARG, {"n_samples"});
}

TEST_F(ApiErrors, EncodeAbsurdLengthRejectedBeforeReading) {
    // Only 800 samples exist: the length must be refused before the finiteness scan reads them.
    codec_codes c{};
    expect_error(codec_encode(ctx_.get(), pcm_.data(), INT64_MAX, 4, &c), CODEC_ERR_INVALID_ARG, {"too long"});
    // Just past the documented cap (INT64_MAX / 64 / channels), so byte counts cannot overflow.
    expect_error(codec_encode(ctx_.get(), pcm_.data(), INT64_MAX / 64 + 1, 4, &c), CODEC_ERR_INVALID_ARG, {"too long"});
}

TEST_F(ApiErrors, EncodeNqOutOfRange) {
    codec_codes c{};
    for (int32_t nq : {0, 5, 1000, -2, INT32_MIN, INT32_MAX}) {
        SCOPED_TRACE(nq);
        expect_error(codec_encode(ctx_.get(), pcm_.data(), 800, nq, &c), CODEC_ERR_INVALID_ARG,
                     {"n_q = " + std::to_string(nq), "1..4"});
    }
}

TEST_F(ApiErrors, EncodeEveryValidNq) {
    codec_codes c{};
    ASSERT_EQ(codec_encode(ctx_.get(), pcm_.data(), 800, CODEC_N_Q_ALL, &c), CODEC_OK) << codec_context_last_error(ctx_.get());
    EXPECT_EQ(c.n_q, 4);
    EXPECT_EQ(c.n_frames, 100);
    EXPECT_STREQ(codec_context_last_error(ctx_.get()), "");
    const Codes all = copy_codes(c);
    for (int32_t v : all.data) {
        EXPECT_GE(v, 0);
        EXPECT_LT(v, 32);
    }
    for (int32_t nq = 1; nq <= 4; ++nq) {
        SCOPED_TRACE(nq);
        ASSERT_EQ(codec_encode(ctx_.get(), pcm_.data(), 800, nq, &c), CODEC_OK) << codec_context_last_error(ctx_.get());
        ASSERT_EQ(c.n_q, nq);
        ASSERT_EQ(c.n_frames, 100);
        // Residual VQ is sequential: fewer codebooks give a prefix of the full code rows.
        EXPECT_TRUE(std::equal(c.data, c.data + (size_t) nq * 100, all.data.begin()));
    }
}

TEST_F(ApiErrors, EncodeOutputPointerIsOptional) {
    EXPECT_EQ(codec_encode(ctx_.get(), pcm_.data(), 800, 4, nullptr), CODEC_OK) << codec_context_last_error(ctx_.get());
}

TEST_F(ApiErrors, EncodeRejectsNonFinite) {
    const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::signaling_NaN()};
    for (size_t pos : {(size_t) 0, (size_t) 123, (size_t) 799}) {
        for (float v : bad) {
            SCOPED_TRACE("pcm[" + std::to_string(pos) + "] = " + std::to_string(v));
            std::vector<float> x = pcm_;
            x[pos] = v;
            codec_codes c{};
            expect_error(codec_encode(ctx_.get(), x.data(), (int64_t) x.size(), 4, &c), CODEC_ERR_INVALID_ARG,
                         {"not finite", "pcm[" + std::to_string(pos) + "]"});
        }
    }
}

TEST_F(ApiErrors, EncodeTooShortInput) {
    // Tiny inputs must fail with a status until the strided convs can produce a frame; from
    // there on every length encodes.
    int64_t first_ok = -1;
    for (int64_t n = 1; n <= 32; ++n) {
        SCOPED_TRACE(n);
        codec_codes c{};
        const codec_status st = codec_encode(ctx_.get(), pcm_.data(), n, 4, &c);
        if (first_ok < 0 && st != CODEC_OK) {
            expect_error(st, CODEC_ERR_INVALID_ARG, {"too short", std::to_string(n) + " samples"});
            continue;
        }
        ASSERT_EQ(st, CODEC_OK) << codec_context_last_error(ctx_.get());
        if (first_ok < 0) first_ok = n;
        EXPECT_GE(c.n_frames, 1);
    }
    EXPECT_GT(first_ok, 1);  // one sample is never enough
    EXPECT_NE(first_ok, -1);
}

// ---- decode -------------------------------------------------------------------------------------

TEST_F(ApiErrors, DecodeNullCodes) {
    codec_audio a{};
    expect_error(codec_decode(ctx_.get(), nullptr, 4, 10, &a), CODEC_ERR_INVALID_ARG, {"codes", "NULL"});
}

TEST_F(ApiErrors, DecodeNqOutOfRange) {
    const std::vector<int32_t> codes(5 * 10, 1);
    codec_audio a{};
    for (int32_t nq : {0, 5, -1, INT32_MIN, INT32_MAX}) {
        SCOPED_TRACE(nq);
        expect_error(codec_decode(ctx_.get(), codes.data(), nq, 10, &a), CODEC_ERR_INVALID_ARG,
                     {"n_q = " + std::to_string(nq), "1..4"});
    }
}

TEST_F(ApiErrors, DecodeNoFrames) {
    const std::vector<int32_t> codes(4, 1);
    codec_audio a{};
    expect_error(codec_decode(ctx_.get(), codes.data(), 4, 0, &a), CODEC_ERR_INVALID_ARG, {"n_frames = 0"});
    expect_error(codec_decode(ctx_.get(), codes.data(), 4, -3, &a), CODEC_ERR_INVALID_ARG, {"n_frames = -3"});
    expect_error(codec_decode(ctx_.get(), codes.data(), 4, INT32_MIN, &a), CODEC_ERR_INVALID_ARG, {"n_frames"});
}

TEST_F(ApiErrors, DecodeCodeOutOfRange) {
    const int32_t n_frames = 10;
    for (int32_t bad : {-1, 32, 33, INT32_MAX, INT32_MIN}) {
        for (const auto & [q, t] : std::vector<std::pair<int, int>>{{0, 0}, {2, 7}, {3, 9}}) {
            SCOPED_TRACE("code " + std::to_string(bad) + " at " + std::to_string(q) + "," + std::to_string(t));
            std::vector<int32_t> codes(4 * n_frames, 31);
            codes[(size_t) q * n_frames + t] = bad;
            codec_audio a{};
            expect_error(codec_decode(ctx_.get(), codes.data(), 4, n_frames, &a), CODEC_ERR_INVALID_ARG,
                         {"code " + std::to_string(bad), "codebook " + std::to_string(q), "frame " + std::to_string(t),
                          "[0, 32)"});
        }
    }
}

TEST_F(ApiErrors, DecodeFewerCodebooks) {
    codec_codes c{};
    ASSERT_EQ(codec_encode(ctx_.get(), pcm_.data(), 800, 4, &c), CODEC_OK);
    const Codes codes = copy_codes(c);
    for (int32_t nq = 1; nq <= 4; ++nq) {
        SCOPED_TRACE(nq);
        codec_audio a{};
        ASSERT_EQ(codec_decode(ctx_.get(), codes.data.data(), nq, codes.n_frames, &a), CODEC_OK)
            << codec_context_last_error(ctx_.get());
        EXPECT_EQ(a.n_samples, (int64_t) codes.n_frames * 8);
        EXPECT_EQ(a.n_channels, 1);
        EXPECT_EQ(a.sample_rate, 16000);
        for (int64_t i = 0; i < a.n_samples; ++i) ASSERT_TRUE(std::isfinite(a.data[i])) << i;
    }
    EXPECT_EQ(codec_decode(ctx_.get(), codes.data.data(), 4, 1, nullptr), CODEC_OK);  // one frame, no out
}

// ---- decode_latent ------------------------------------------------------------------------------

TEST_F(ApiErrors, DecodeLatentBadArguments) {
    const std::vector<float> lat(17 * 10, 0.1f);
    codec_audio a{};
    expect_error(codec_decode_latent(ctx_.get(), nullptr, 16, 10, &a), CODEC_ERR_INVALID_ARG, {"latent", "NULL"});
    for (int32_t dim : {15, 17, 0, -16, 4}) {
        SCOPED_TRACE(dim);
        expect_error(codec_decode_latent(ctx_.get(), lat.data(), dim, 10, &a), CODEC_ERR_INVALID_ARG,
                     {"latent_dim = " + std::to_string(dim), "16"});
    }
    expect_error(codec_decode_latent(ctx_.get(), lat.data(), 16, 0, &a), CODEC_ERR_INVALID_ARG, {"n_frames = 0"});
    expect_error(codec_decode_latent(ctx_.get(), lat.data(), 16, -1, &a), CODEC_ERR_INVALID_ARG, {"n_frames = -1"});
    std::vector<float> nan = lat;
    nan[16 * 10 - 1] = std::numeric_limits<float>::infinity();
    expect_error(codec_decode_latent(ctx_.get(), nan.data(), 16, 10, &a), CODEC_ERR_INVALID_ARG, {"latent[159]", "not finite"});
}

TEST_F(ApiErrors, DecodeLatentWorks) {
    std::vector<float> lat(16 * 10);
    for (size_t i = 0; i < lat.size(); ++i) lat[i] = 0.05f * (float) ((int) (i % 13) - 6);
    codec_audio a{};
    ASSERT_EQ(codec_decode_latent(ctx_.get(), lat.data(), 16, 10, &a), CODEC_OK) << codec_context_last_error(ctx_.get());
    EXPECT_EQ(a.n_samples, 80);
    EXPECT_EQ(a.n_channels, 1);
}

// ---- metadata and status strings ----------------------------------------------------------------

TEST_F(ApiErrors, MetaStr) {
    char buf[64];
    EXPECT_EQ(codec_model_meta_str(model_, "codec.arch", buf, sizeof(buf)), 3);
    EXPECT_STREQ(buf, "dac");
    EXPECT_EQ(codec_model_meta_str(model_, "codec.sample_rate", buf, sizeof(buf)), 5);
    EXPECT_STREQ(buf, "16000");
    EXPECT_GT(codec_model_meta_str(model_, "codec.has_encoder", buf, sizeof(buf)), 0);
    EXPECT_STREQ(buf, "true");
    EXPECT_GT(codec_model_meta_str(model_, "dac.downsampling_ratios", buf, sizeof(buf)), 0);
    EXPECT_STREQ(buf, "[2, 4]");

    std::memset(buf, 'x', sizeof(buf));
    EXPECT_EQ(codec_model_meta_str(model_, "no.such.key", buf, sizeof(buf)), -1);
    EXPECT_EQ(buf[0], 'x');  // untouched
    EXPECT_EQ(codec_model_meta_str(model_, "", buf, sizeof(buf)), -1);
    EXPECT_EQ(codec_model_meta_str(model_, nullptr, buf, sizeof(buf)), -1);

    // snprintf semantics: full length returned, output truncated and terminated.
    EXPECT_EQ(codec_model_meta_str(model_, "codec.sample_rate", nullptr, 0), 5);
    std::memset(buf, 'x', sizeof(buf));
    EXPECT_EQ(codec_model_meta_str(model_, "codec.sample_rate", buf, 3), 5);
    EXPECT_STREQ(buf, "16");
    EXPECT_EQ(buf[3], 'x');
}

TEST_F(ApiErrors, StatusStrings) {
    std::set<std::string> seen;
    for (int s = CODEC_OK; s <= CODEC_ERR_NO_MEMORY; ++s) {
        const char * str = codec_status_str((codec_status) s);
        ASSERT_NE(str, nullptr) << s;
        EXPECT_STRNE(str, "") << s;
        seen.insert(str);
    }
    EXPECT_EQ(seen.size(), 7u);  // distinct, so a message tells statuses apart
    for (int s : {-1, 7, 1000}) {
        const char * str = codec_status_str((codec_status) s);
        ASSERT_NE(str, nullptr);
        EXPECT_STRNE(str, "");
    }
}

TEST_F(ApiErrors, DefaultParams) {
    EXPECT_LE(codec_model_default_params().n_threads, 0);
    EXPECT_FALSE(codec_model_default_params().use_gpu);
    EXPECT_LE(codec_context_default_params().n_threads, 0);
}

// ---- recovery -----------------------------------------------------------------------------------

TEST_F(ApiErrors, ContextWorksAfterEveryKindOfError) {
    // Fail in every way the checks and the graph builder can, then run a valid round trip; it
    // must match a fresh context bit for bit (no stale graph, buffer or error state).
    codec_codes c{};
    codec_audio a{};
    std::vector<float> nan = pcm_;
    nan[5] = std::nanf("");
    const std::vector<int32_t> bad_codes(4 * 10, 99);
    const std::vector<float> lat(16 * 10, 0.0f);

    // Populate the graph cache first, with a shape the valid call below does not reuse (graph
    // reuse has its own tests).
    Codes warm_codes;
    Audio warm_audio;
    roundtrip(ctx_.get(), make_signal(512, 3), 4, warm_codes, warm_audio);

    EXPECT_NE(codec_encode(ctx_.get(), nullptr, 800, 4, &c), CODEC_OK);
    EXPECT_NE(codec_encode(ctx_.get(), pcm_.data(), 0, 4, &c), CODEC_OK);
    EXPECT_NE(codec_encode(ctx_.get(), pcm_.data(), 800, 0, &c), CODEC_OK);
    EXPECT_NE(codec_encode(ctx_.get(), nan.data(), 800, 4, &c), CODEC_OK);
    EXPECT_NE(codec_encode(ctx_.get(), pcm_.data(), 1, 4, &c), CODEC_OK);  // fails inside the graph builder
    EXPECT_NE(codec_encode(ctx_.get(), pcm_.data(), 2, 2, &c), CODEC_OK);
    EXPECT_NE(codec_decode(ctx_.get(), bad_codes.data(), 4, 10, &a), CODEC_OK);
    EXPECT_NE(codec_decode(ctx_.get(), bad_codes.data(), 4, 0, &a), CODEC_OK);
    EXPECT_NE(codec_decode(ctx_.get(), bad_codes.data(), 9, 4, &a), CODEC_OK);
    EXPECT_NE(codec_decode_latent(ctx_.get(), lat.data(), 15, 10, &a), CODEC_OK);
    EXPECT_STRNE(codec_context_last_error(ctx_.get()), "");

    Codes codes;
    Audio audio;
    roundtrip(ctx_.get(), pcm_, CODEC_N_Q_ALL, codes, audio);
    EXPECT_STREQ(codec_context_last_error(ctx_.get()), "");  // cleared by the successful call

    CtxPtr fresh = new_context(model_);
    ASSERT_TRUE(fresh);
    Codes ref_codes;
    Audio ref_audio;
    roundtrip(fresh.get(), pcm_, CODEC_N_Q_ALL, ref_codes, ref_audio);
    EXPECT_EQ(codes.data, ref_codes.data);
    EXPECT_EQ(audio.n_samples, ref_audio.n_samples);
    EXPECT_TRUE(bit_equal(audio.data, ref_audio.data));
}

// ---- graph cache --------------------------------------------------------------------------------
// A context caches built graphs per input shape. Reusing one after another shape ran (which may
// grow or recreate the compute buffers) must still give the fresh-context result.

TEST_F(ApiErrors, CachedGraphReusedAfterLargerGraph) {
    const std::vector<float> small = make_signal(400, 11), large = make_signal(800, 12);
    codec_codes c{};
    ASSERT_EQ(codec_encode(ctx_.get(), small.data(), 400, 4, &c), CODEC_OK);
    ASSERT_EQ(codec_encode(ctx_.get(), large.data(), 800, 4, &c), CODEC_OK);
    ASSERT_EQ(codec_encode(ctx_.get(), small.data(), 400, 4, &c), CODEC_OK) << codec_context_last_error(ctx_.get());
    const Codes reused = copy_codes(c);

    CtxPtr fresh = new_context(model_);
    ASSERT_EQ(codec_encode(fresh.get(), small.data(), 400, 4, &c), CODEC_OK);
    EXPECT_EQ(reused.data, copy_codes(c).data);
}

TEST_F(ApiErrors, RepeatedRoundTripOnOneContext) {
    // The everyday pattern: encode, decode, encode the same audio again.
    Codes c1, c2;
    Audio a1, a2;
    roundtrip(ctx_.get(), pcm_, 4, c1, a1);
    roundtrip(ctx_.get(), pcm_, 4, c2, a2);
    EXPECT_EQ(c1.data, c2.data);
    EXPECT_TRUE(bit_equal(a1.data, a2.data));
}

TEST_F(ApiErrors, ThreadCountDoesNotChangeResults) {
    // Separate contexts, so only the thread count differs (no graph reuse involved).
    Codes c1, c2;
    Audio a1, a2;
    roundtrip(ctx_.get(), pcm_, 4, c1, a1);
    CtxPtr two = new_context(model_, 1);
    ASSERT_TRUE(two);
    codec_context_set_n_threads(two.get(), 2);
    roundtrip(two.get(), pcm_, 4, c2, a2);
    EXPECT_EQ(c1.data, c2.data);
    EXPECT_TRUE(bit_equal(a1.data, a2.data));
    codec_context_set_n_threads(two.get(), 0);  // <= 0: back to the model's default, must not crash
    codec_context_set_n_threads(two.get(), -7);
}

// ---- models without an encoder or decoder -----------------------------------------------------

TEST(ApiCapabilities, EncoderOrDecoderMissing) {
    REQUIRE_TINY_MODEL();
    TempDir dir;
    const std::string no_enc = dir.file("no_enc.gguf"), no_dec = dir.file("no_dec.gguf");
    ASSERT_TRUE(rewrite_gguf(tiny_model_path(), no_enc, kv_edit([](gguf_context * g) { gguf_set_val_bool(g, "codec.has_encoder", false); })));
    ASSERT_TRUE(rewrite_gguf(tiny_model_path(), no_dec, kv_edit([](gguf_context * g) { gguf_set_val_bool(g, "codec.has_decoder", false); })));
    const std::vector<float> pcm = make_signal(800, 1);
    const std::vector<int32_t> codes(4 * 10, 1);
    const std::vector<float> lat(16 * 10, 0.0f);
    {
        LoadResult r = load_model(no_enc);
        ASSERT_NE(r.model, nullptr) << r.message;
        EXPECT_FALSE(codec_model_has_encoder(r.model.get()));
        CtxPtr ctx = new_context(r.model.get());
        codec_codes c{};
        EXPECT_EQ(codec_encode(ctx.get(), pcm.data(), 800, 4, &c), CODEC_ERR_UNSUPPORTED);
        EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("no encoder"), std::string::npos);
        codec_audio a{};
        EXPECT_EQ(codec_decode(ctx.get(), codes.data(), 4, 10, &a), CODEC_OK) << codec_context_last_error(ctx.get());
    }
    {
        LoadResult r = load_model(no_dec);
        ASSERT_NE(r.model, nullptr) << r.message;
        EXPECT_FALSE(codec_model_has_decoder(r.model.get()));
        CtxPtr ctx = new_context(r.model.get());
        codec_audio a{};
        EXPECT_EQ(codec_decode(ctx.get(), codes.data(), 4, 10, &a), CODEC_ERR_UNSUPPORTED);
        EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("no decoder"), std::string::npos);
        EXPECT_EQ(codec_decode_latent(ctx.get(), lat.data(), 16, 10, &a), CODEC_ERR_UNSUPPORTED);
        EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("no decoder"), std::string::npos);
        codec_codes c{};
        EXPECT_EQ(codec_encode(ctx.get(), pcm.data(), 800, 4, &c), CODEC_OK) << codec_context_last_error(ctx.get());
    }
}

// A decoder-only file (codec.has_encoder = false) needs no encoder weights.
TEST(ApiCapabilities, DecoderOnlyFileWithoutEncoderWeights) {
    REQUIRE_TINY_MODEL();
    TempDir dir;
    const std::string path = dir.file("decoder_only.gguf");
    GgufEdit e;
    e.kv = [](gguf_context * g) { gguf_set_val_bool(g, "codec.has_encoder", false); };
    e.tensor = [](ggml_tensor * t, ggml_context *) { return std::string(t->name).rfind("encoder.", 0) == 0 ? nullptr : t; };
    ASSERT_TRUE(rewrite_gguf(tiny_model_path(), path, e));
    LoadResult r = load_model(path);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    const std::vector<int32_t> codes(4 * 10, 1);
    codec_audio a{};
    EXPECT_EQ(codec_decode(ctx.get(), codes.data(), 4, 10, &a), CODEC_OK) << codec_context_last_error(ctx.get());
    const std::vector<float> pcm = make_signal(800, 1);
    codec_codes c{};
    EXPECT_EQ(codec_encode(ctx.get(), pcm.data(), 800, 4, &c), CODEC_ERR_UNSUPPORTED);
}
