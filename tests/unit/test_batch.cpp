// Batch calls on the tiny DAC model (it has a batch graph): each result equals the one-input
// call bit for bit; bad arguments and bad inputs give a status and a message naming the input,
// and the context stays usable. Runs under the sanitizer builds like the other unit tests.
#include "test_util.h"

#include <cmath>

using namespace codec_test;

namespace {

class Batch : public ::testing::Test {
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
        // Three of one length (one graph), one longer, one shorter (one-input calls).
        for (int64_t n : {800, 800, 803, 800, 400}) pcm_.push_back(make_signal(n, (uint32_t) (n + pcm_.size())));
        for (const auto & p : pcm_) {
            ptrs_.push_back(p.data());
            lens_.push_back((int64_t) p.size());
        }
    }

    void expect_error(codec_status st, codec_status want, const std::string & needle) {
        EXPECT_EQ(st, want);
        const std::string msg = codec_context_last_error(ctx_.get());
        EXPECT_NE(msg.find(needle), std::string::npos) << "'" << msg << "' lacks '" << needle << "'";
    }

    static codec_model * model_;
    CtxPtr ctx_;
    std::vector<std::vector<float>> pcm_;
    std::vector<const float *> ptrs_;
    std::vector<int64_t> lens_;
};

codec_model * Batch::model_ = nullptr;

struct CodeRows {
    int32_t n_q = 0, n_frames = 0;
    std::vector<int32_t> data;
};

CodeRows copy(const codec_codes & c) { return {c.n_q, c.n_frames, std::vector<int32_t>(c.data, c.data + (size_t) c.n_q * c.n_frames)}; }

}  // namespace

TEST_F(Batch, ModelHasABatchGraph) {
    EXPECT_TRUE(codec_model_batch_graph(model_));
    EXPECT_EQ(codec_model_batch_graphs(model_) & (CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE), CODEC_BATCH_ENCODE | CODEC_BATCH_DECODE);
    EXPECT_EQ(codec_model_batch_graphs(nullptr), 0u);
    EXPECT_FALSE(codec_model_batch_graph(nullptr));
}

TEST_F(Batch, EncodeAndDecodeEqualOneByOne) {
    const int32_t B = (int32_t) pcm_.size();
    std::vector<CodeRows> one;
    std::vector<std::vector<float>> one_pcm;
    for (int32_t i = 0; i < B; ++i) {
        codec_codes c;
        ASSERT_EQ(codec_encode(ctx_.get(), ptrs_[i], lens_[i], CODEC_N_Q_ALL, &c), CODEC_OK) << codec_context_last_error(ctx_.get());
        one.push_back(copy(c));
        codec_audio a;
        ASSERT_EQ(codec_decode(ctx_.get(), c.data, c.n_q, c.n_frames, &a), CODEC_OK);
        one_pcm.emplace_back(a.data, a.data + a.n_samples);
    }
    std::vector<codec_codes> out(B);
    ASSERT_EQ(codec_encode_batch(ctx_.get(), ptrs_.data(), lens_.data(), B, CODEC_N_Q_ALL, out.data()), CODEC_OK)
        << codec_context_last_error(ctx_.get());
    for (int32_t i = 0; i < B; ++i) {
        EXPECT_EQ(out[i].row_len, nullptr);
        const CodeRows got = copy(out[i]);
        EXPECT_EQ(got.n_q, one[i].n_q);
        EXPECT_EQ(got.n_frames, one[i].n_frames);
        EXPECT_EQ(got.data, one[i].data) << "input " << i;
    }
    std::vector<codec_audio> audio(B);
    ASSERT_EQ(codec_decode_batch(ctx_.get(), out.data(), B, audio.data()), CODEC_OK) << codec_context_last_error(ctx_.get());
    for (int32_t i = 0; i < B; ++i) {
        ASSERT_EQ(audio[i].n_samples, (int64_t) one_pcm[i].size());
        EXPECT_EQ(audio[i].n_channels, 1);
        EXPECT_EQ(std::vector<float>(audio[i].data, audio[i].data + audio[i].n_samples), one_pcm[i]) << "input " << i;
    }
}

TEST_F(Batch, BadArgumentsAreRefused) {
    std::vector<codec_codes> out(pcm_.size());
    EXPECT_EQ(codec_encode_batch(nullptr, ptrs_.data(), lens_.data(), 1, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_decode_batch(nullptr, out.data(), 1, nullptr), CODEC_ERR_INVALID_ARG);
    expect_error(codec_encode_batch(ctx_.get(), nullptr, lens_.data(), 1, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG, "must all be set");
    expect_error(codec_encode_batch(ctx_.get(), ptrs_.data(), nullptr, 1, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG, "must all be set");
    expect_error(codec_encode_batch(ctx_.get(), ptrs_.data(), lens_.data(), 1, CODEC_N_Q_ALL, nullptr), CODEC_ERR_INVALID_ARG, "must all be set");
    expect_error(codec_encode_batch(ctx_.get(), ptrs_.data(), lens_.data(), 0, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG, "n_batch = 0");
    expect_error(codec_encode_batch(ctx_.get(), ptrs_.data(), lens_.data(), -3, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG, "n_batch = -3");
    expect_error(codec_encode_batch(ctx_.get(), ptrs_.data(), lens_.data(), 1, 0, out.data()), CODEC_ERR_INVALID_ARG, "n_q = 0");
    std::vector<codec_audio> audio(2);
    expect_error(codec_decode_batch(ctx_.get(), nullptr, 1, audio.data()), CODEC_ERR_INVALID_ARG, "must both be set");
    expect_error(codec_decode_batch(ctx_.get(), out.data(), 0, audio.data()), CODEC_ERR_INVALID_ARG, "n_batch = 0");
    const int32_t dim = codec_model_latent_dim(model_), frames[2] = {3, 3};
    std::vector<float> z((size_t) dim * 3, 0.1f);
    const float * zs[2] = {z.data(), nullptr};
    EXPECT_EQ(codec_decode_latent_batch(nullptr, zs, frames, 1, dim, audio.data()), CODEC_ERR_INVALID_ARG);
    expect_error(codec_decode_latent_batch(ctx_.get(), nullptr, frames, 1, dim, audio.data()), CODEC_ERR_INVALID_ARG, "must all be set");
    expect_error(codec_decode_latent_batch(ctx_.get(), zs, nullptr, 1, dim, audio.data()), CODEC_ERR_INVALID_ARG, "must all be set");
    expect_error(codec_decode_latent_batch(ctx_.get(), zs, frames, 0, dim, audio.data()), CODEC_ERR_INVALID_ARG, "n_batch = 0");
    expect_error(codec_decode_latent_batch(ctx_.get(), zs, frames, 2, dim, audio.data()), CODEC_ERR_INVALID_ARG, "input 1: latent is NULL");
    expect_error(codec_decode_latent_batch(ctx_.get(), zs, frames, 1, dim + 1, audio.data()), CODEC_ERR_INVALID_ARG, "input 0: latent_dim");
    ASSERT_EQ(codec_decode_latent_batch(ctx_.get(), zs, frames, 1, dim, audio.data()), CODEC_OK);  // still usable
    EXPECT_GT(audio[0].n_samples, 0);
}

TEST_F(Batch, BadInputsAreNamedAndTheContextStaysUsable) {
    const int32_t B = (int32_t) pcm_.size();
    std::vector<codec_codes> out(B);
    ASSERT_EQ(codec_encode_batch(ctx_.get(), ptrs_.data(), lens_.data(), B, CODEC_N_Q_ALL, out.data()), CODEC_OK);
    std::vector<CodeRows> good;
    for (const auto & c : out) good.push_back(copy(c));

    std::vector<float> bad = pcm_[2];
    bad[17] = std::nanf("");
    std::vector<const float *> ptrs = ptrs_;
    ptrs[2] = bad.data();
    expect_error(codec_encode_batch(ctx_.get(), ptrs.data(), lens_.data(), B, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG,
                 "input 2: pcm[17] is not finite");
    std::vector<int64_t> lens = lens_;
    lens[4] = 0;
    expect_error(codec_encode_batch(ctx_.get(), ptrs_.data(), lens.data(), B, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG,
                 "input 4: empty audio");
    ptrs = ptrs_;
    ptrs[1] = nullptr;
    expect_error(codec_encode_batch(ctx_.get(), ptrs.data(), lens_.data(), B, CODEC_N_Q_ALL, out.data()), CODEC_ERR_INVALID_ARG,
                 "input 1: pcm is NULL");

    // Decode: a code out of range, a row length that does not match, n_q out of range.
    std::vector<codec_codes> in(B);
    for (int32_t i = 0; i < B; ++i) in[i] = {good[i].n_q, good[i].n_frames, good[i].data.data(), nullptr, 0, nullptr};
    std::vector<int32_t> bad_codes = good[3].data;
    bad_codes[5] = codec_model_codebook_size(model_);
    in[3].data = bad_codes.data();
    std::vector<codec_audio> audio(B);
    expect_error(codec_decode_batch(ctx_.get(), in.data(), B, audio.data()), CODEC_ERR_INVALID_ARG, "input 3: code");
    in[3].data = good[3].data.data();
    std::vector<int32_t> row_len(good[0].n_q, good[0].n_frames - 1);
    in[0].row_len = row_len.data();
    expect_error(codec_decode_batch(ctx_.get(), in.data(), B, audio.data()), CODEC_ERR_INVALID_ARG, "input 0: row_len[0]");
    in[0].row_len = nullptr;
    in[1].n_q = codec_model_n_q(model_) + 1;
    expect_error(codec_decode_batch(ctx_.get(), in.data(), B, audio.data()), CODEC_ERR_INVALID_ARG, "input 1: n_q");
    in[1].n_q = good[1].n_q;

    // After the failures, the same call gives the same result.
    ASSERT_EQ(codec_encode_batch(ctx_.get(), ptrs_.data(), lens_.data(), B, CODEC_N_Q_ALL, out.data()), CODEC_OK);
    for (int32_t i = 0; i < B; ++i) EXPECT_EQ(copy(out[i]).data, good[i].data);
    EXPECT_EQ(codec_decode_batch(ctx_.get(), in.data(), B, audio.data()), CODEC_OK) << codec_context_last_error(ctx_.get());
}
