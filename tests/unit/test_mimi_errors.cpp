// Mimi: hostile model files (every mimi.* key and a sample of tensors) and bad inputs on the
// tiny Mimi fixture. The fixture is made once per build with the repository's own scripts
// (make_checkpoint.py --arch mimi --variant tiny, convert.py) next to the tiny DAC model
// (fixture_gguf, test_util.h).
#include "test_util.h"

#include <array>
#include <cstdio>
#include <initializer_list>
#include <thread>

using namespace codec_test;

namespace {

// Path of the tiny Mimi GGUF ("" and a message in `err` when it cannot be made).
std::string tiny_mimi_path(std::string & err) {
    return fixture_gguf("mimi-tiny.gguf", "tests/fixtures/make_checkpoint.py", "--arch mimi --variant tiny --seed 0",
                        {"/tests/fixtures/make_checkpoint.py", "/scripts/codec_convert/mimi.py"}, err);
}

class MimiErrors : public ::testing::Test {
protected:
    void SetUp() override {
        std::string err;
        path_ = tiny_mimi_path(err);
        ASSERT_FALSE(path_.empty()) << err;
    }

    std::string variant(const std::string & name, const GgufEdit & edit) { return gguf_variant(dir_, path_, name, edit); }
    void expect_fail(const std::string & path, std::initializer_list<std::string> needles) { expect_load_fail(path, needles); }

    std::string path_;
    TempDir dir_;
};

const char * const k_keys[] = {
    "mimi.num_filters", "mimi.upsampling_ratios", "mimi.kernel_size", "mimi.last_kernel_size",
    "mimi.residual_kernel_size", "mimi.num_residual_layers", "mimi.dilation_growth_rate", "mimi.compress",
    "mimi.pad_mode", "mimi.downsample_stride", "mimi.num_hidden_layers", "mimi.num_attention_heads",
    "mimi.head_dim", "mimi.intermediate_size", "mimi.sliding_window", "mimi.norm_eps", "mimi.rope_theta",
    "mimi.num_semantic_quantizers",
};

}  // namespace

TEST_F(MimiErrors, TinyModelLoads) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    EXPECT_STREQ(codec_model_arch(r.model.get()), "mimi");
    EXPECT_EQ(codec_model_sample_rate(r.model.get()), 16000);
    EXPECT_EQ(codec_model_hop_size(r.model.get()), 16);
    EXPECT_EQ(codec_model_n_q(r.model.get()), 4);
    EXPECT_EQ(codec_model_codebook_size(r.model.get()), 16);
    EXPECT_EQ(codec_model_codebook_dim(r.model.get()), 8);
    EXPECT_EQ(codec_model_latent_dim(r.model.get()), 16);
}

TEST_F(MimiErrors, MissingKey) {
    for (const char * key : k_keys) {
        SCOPED_TRACE(key);
        expect_fail(variant("missing", kv_edit([key](gguf_context * g) { ASSERT_GE(gguf_remove_key(g, key), 0); })), {key});
    }
}

TEST_F(MimiErrors, InsaneKeys) {
    struct Case { const char * key; std::function<void(gguf_context *)> set; const char * needle; };
    const Case cases[] = {
        {"mimi.pad_mode", [](gguf_context * g) { gguf_set_val_str(g, "mimi.pad_mode", "reflect"); }, "mimi.pad_mode"},
        {"mimi.pad_mode", [](gguf_context * g) { gguf_set_val_u32(g, "mimi.pad_mode", 1); }, "mimi.pad_mode"},
        {"mimi.num_semantic_quantizers", [](gguf_context * g) { gguf_set_val_u32(g, "mimi.num_semantic_quantizers", 0); }, "mimi.num_semantic_quantizers"},
        {"mimi.num_semantic_quantizers", [](gguf_context * g) { gguf_set_val_u32(g, "mimi.num_semantic_quantizers", 4); }, "mimi.num_semantic_quantizers"},
        {"mimi.head_dim", [](gguf_context * g) { gguf_set_val_u32(g, "mimi.head_dim", 7); }, "mimi.head_dim"},
        {"mimi.downsample_stride", [](gguf_context * g) { gguf_set_val_u32(g, "mimi.downsample_stride", 3); }, "codec.hop_size"},
        {"mimi.num_filters", [](gguf_context * g) { gguf_set_val_u32(g, "mimi.num_filters", 1u << 30); }, "mimi.num_filters"},
        {"mimi.compress", [](gguf_context * g) { gguf_set_val_u32(g, "mimi.compress", 3); }, "mimi.compress"},
        {"mimi.norm_eps", [](gguf_context * g) { gguf_set_val_f32(g, "mimi.norm_eps", -1.0f); }, "mimi.norm_eps"},
        {"mimi.norm_eps", [](gguf_context * g) { gguf_set_val_f32(g, "mimi.norm_eps", NAN); }, "mimi.norm_eps"},
        {"mimi.sliding_window", [](gguf_context * g) { gguf_set_val_i32(g, "mimi.sliding_window", -1); }, "mimi.sliding_window"},
        {"mimi.upsampling_ratios", [](gguf_context * g) { const int32_t r[] = {4, 0}; gguf_set_arr_data(g, "mimi.upsampling_ratios", GGUF_TYPE_INT32, r, 2); }, "mimi.upsampling_ratios"},
    };
    int i = 0;
    for (const Case & c : cases) {
        SCOPED_TRACE(std::string(c.key) + " case " + std::to_string(i));
        expect_fail(variant("insane" + std::to_string(i++), kv_edit(c.set)), {c.needle});
    }
}

TEST_F(MimiErrors, BadTensors) {
    const char * const names[] = {
        "rope.inv_freq", "encoder.layers.0.conv.weight", "encoder_transformer.layers.1.self_attn.k_proj.weight",
        "downsample.conv.weight", "quantizer.semantic.input_proj.weight", "quantizer.acoustic.layers.2.embed",
        "quantizer.acoustic.layers.2.embed_sq", "upsample.conv.weight", "decoder_transformer.layers.0.mlp.fc1.weight",
        "decoder.layers.2.conv.weight", "decoder.layers.2.conv.bias",
    };
    for (const char * name : names) {
        SCOPED_TRACE(name);
        const std::string n = name;
        expect_fail(variant("drop", drop_tensor(n)), {name});
        expect_fail(variant("shape", widen_tensor(n)), {name});  // one element more along the first axis
    }
}

TEST_F(MimiErrors, BadInputs) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    const std::vector<float> pcm = make_signal(1000, 3);
    codec_codes c{};
    EXPECT_EQ(codec_encode(ctx.get(), pcm.data(), (int64_t) pcm.size(), 0, &c), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_encode(ctx.get(), pcm.data(), (int64_t) pcm.size(), 5, &c), CODEC_ERR_INVALID_ARG);
    std::vector<float> bad = pcm;
    bad[500] = NAN;
    EXPECT_EQ(codec_encode(ctx.get(), bad.data(), (int64_t) bad.size(), CODEC_N_Q_ALL, &c), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_encode(ctx.get(), pcm.data(), 0, CODEC_N_Q_ALL, &c), CODEC_ERR_INVALID_ARG);
    ASSERT_EQ(codec_encode(ctx.get(), pcm.data(), (int64_t) pcm.size(), CODEC_N_Q_ALL, &c), CODEC_OK)
        << codec_context_last_error(ctx.get());
    Codes codes = copy_codes(c);
    codec_audio a{};
    codes.data[3] = 16;  // codebook size 16
    EXPECT_EQ(codec_decode(ctx.get(), codes.data.data(), codes.n_q, codes.n_frames, &a), CODEC_ERR_INVALID_ARG);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("out of range"), std::string::npos);
    codes.data[3] = -1;
    EXPECT_EQ(codec_decode(ctx.get(), codes.data.data(), codes.n_q, codes.n_frames, &a), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_decode(ctx.get(), codes.data.data(), 5, codes.n_frames, &a), CODEC_ERR_INVALID_ARG);
    std::vector<float> lat(16 * 3, 0.0f);
    EXPECT_EQ(codec_decode_latent(ctx.get(), lat.data(), 15, 3, &a), CODEC_ERR_INVALID_ARG);
    lat[7] = INFINITY;
    EXPECT_EQ(codec_decode_latent(ctx.get(), lat.data(), 16, 3, &a), CODEC_ERR_INVALID_ARG);
}

// Every length from one sample up, with every n_q: frames = ceil(n / hop), audio = frames * hop,
// finite, and the sliding window's blocked attention (window 6 at the tiny model's rate) over
// inputs from one block to many.
TEST_F(MimiErrors, LengthsAndCodebooks) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    for (int64_t n : {1, 15, 16, 17, 95, 97, 191, 1000, 4001}) {
        for (int32_t n_q = 1; n_q <= 4; ++n_q) {
            SCOPED_TRACE("n = " + std::to_string(n) + ", n_q = " + std::to_string(n_q));
            Codes codes;
            Audio audio;
            roundtrip(ctx.get(), make_signal(n, (uint32_t) n), n_q, codes, audio);
            EXPECT_EQ(codes.n_q, n_q);
            EXPECT_EQ(codes.n_frames, (n + 15) / 16);
            EXPECT_EQ(audio.n_samples, (int64_t) codes.n_frames * 16);
            for (float v : audio.data) ASSERT_TRUE(std::isfinite(v));
        }
    }
}

// ---- streams (codec_stream_*), on the tiny Mimi (a causal model: streamed == one-shot exactly)

namespace {

struct StreamDeleter { void operator()(codec_stream * s) const { codec_stream_free(s); } };
using StreamPtr = std::unique_ptr<codec_stream, StreamDeleter>;

StreamPtr new_stream(codec_context * ctx, codec_stream_direction dir, int32_t n_q) {
    codec_stream_params p = codec_stream_default_params();
    p.direction = dir;
    p.n_q = n_q;
    return StreamPtr(codec_stream_new(ctx, p));
}

// Encodes pcm through a stream in pushes of `step` samples; returns the codes row-major.
// The one-shot codes of pcm (n_q rows, row after row): what a stream must reproduce.
std::vector<int32_t> one_shot_codes(codec_context * ctx, const std::vector<float> & pcm, int32_t n_q) {
    codec_codes c{};
    if (codec_encode(ctx, pcm.data(), (int64_t) pcm.size(), n_q, &c) != CODEC_OK) {
        ADD_FAILURE() << codec_context_last_error(ctx);
        return {};
    }
    return std::vector<int32_t>(c.data, c.data + (size_t) c.n_q * c.n_frames);
}

std::vector<int32_t> stream_encode(codec_stream * s, const std::vector<float> & pcm, size_t step, int32_t & n_frames) {
    std::vector<std::vector<int32_t>> rows;
    auto pull = [&] {
        codec_codes c{};
        EXPECT_EQ(codec_stream_pull_codes(s, &c), CODEC_OK) << codec_stream_last_error(s);
        rows.resize((size_t) c.n_q);
        for (int32_t q = 0; q < c.n_q; ++q) rows[(size_t) q].insert(rows[(size_t) q].end(), c.data + (size_t) q * c.n_frames, c.data + (size_t) (q + 1) * c.n_frames);
    };
    for (size_t i = 0; i < pcm.size(); i += step) {
        EXPECT_EQ(codec_stream_push_pcm(s, pcm.data() + i, (int64_t) std::min(step, pcm.size() - i)), CODEC_OK) << codec_stream_last_error(s);
        pull();
    }
    EXPECT_EQ(codec_stream_flush(s), CODEC_OK) << codec_stream_last_error(s);
    pull();
    std::vector<int32_t> out;
    n_frames = rows.empty() ? 0 : (int32_t) rows[0].size();
    for (auto & r : rows) out.insert(out.end(), r.begin(), r.end());
    return out;
}

}  // namespace

TEST_F(MimiErrors, StreamEqualsOneShotAndRefusesBadInput) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    const std::vector<float> pcm = make_signal(16 * 40 + 9, 11);
    const std::vector<int32_t> want = one_shot_codes(ctx.get(), pcm, 4);
    ASSERT_FALSE(want.empty());

    StreamPtr s = new_stream(ctx.get(), CODEC_STREAM_ENCODE, 4);
    ASSERT_NE(s, nullptr) << codec_context_last_error(ctx.get());
    codec_stream_info info{};
    ASSERT_EQ(codec_stream_get_info(s.get(), &info), CODEC_OK);
    EXPECT_TRUE(info.causal);
    EXPECT_EQ(info.first_frames, 1);
    EXPECT_EQ(info.lookahead_frames, 0);
    for (size_t step : {1, 7, 16, 100}) {
        SCOPED_TRACE("step " + std::to_string(step));
        ASSERT_EQ(codec_stream_reset(s.get()), CODEC_OK);
        int32_t n_frames = 0;
        EXPECT_EQ(stream_encode(s.get(), pcm, step, n_frames), want);
        EXPECT_EQ((size_t) n_frames * 4, want.size());
    }

    // Bad pushes change nothing; the stream stays usable.
    ASSERT_EQ(codec_stream_reset(s.get()), CODEC_OK);
    std::vector<float> bad(pcm.begin(), pcm.begin() + 50);
    bad[20] = NAN;
    EXPECT_EQ(codec_stream_push_pcm(s.get(), bad.data(), (int64_t) bad.size()), CODEC_ERR_INVALID_ARG);
    EXPECT_NE(std::string(codec_stream_last_error(s.get())).find("pcm[20]"), std::string::npos);
    EXPECT_EQ(codec_stream_push_pcm(s.get(), nullptr, 5), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_stream_push_pcm(s.get(), pcm.data(), -1), CODEC_ERR_INVALID_ARG);
    codec_audio a{};
    EXPECT_EQ(codec_stream_pull_pcm(s.get(), &a), CODEC_ERR_INVALID_ARG);  // wrong direction
    codec_codes c{};
    EXPECT_EQ(codec_stream_push_codes(s.get(), &c), CODEC_ERR_INVALID_ARG);
    int32_t n_frames = 0;
    EXPECT_EQ(stream_encode(s.get(), pcm, 33, n_frames), want);
    EXPECT_EQ(codec_stream_push_pcm(s.get(), pcm.data(), 3), CODEC_ERR_INVALID_ARG);  // after flush
    EXPECT_NE(std::string(codec_stream_last_error(s.get())).find("flushed"), std::string::npos);

    // Decode streams: codes out of range or with the wrong row count are refused.
    StreamPtr d = new_stream(ctx.get(), CODEC_STREAM_DECODE, 2);
    ASSERT_NE(d, nullptr);
    std::vector<int32_t> codes = {0, 1, 2, 3};
    codec_codes cc{};
    cc.n_q = 2;
    cc.n_frames = 2;
    cc.data = codes.data();
    codes[3] = codec_model_codebook_size(r.model.get());
    EXPECT_EQ(codec_stream_push_codes(d.get(), &cc), CODEC_ERR_INVALID_ARG);
    codes[3] = 3;
    cc.n_q = 3;
    EXPECT_EQ(codec_stream_push_codes(d.get(), &cc), CODEC_ERR_INVALID_ARG);
    cc.n_q = 2;
    EXPECT_EQ(codec_stream_push_codes(d.get(), &cc), CODEC_OK) << codec_stream_last_error(d.get());
    EXPECT_EQ(codec_stream_pull_pcm(d.get(), &a), CODEC_OK);
    EXPECT_EQ(a.n_samples, 2 * 16);
    EXPECT_EQ(codec_stream_pull_codes(d.get(), &c), CODEC_ERR_INVALID_ARG);
    EXPECT_EQ(codec_stream_flush(d.get()), CODEC_OK);  // nothing pending: a causal decoder emitted everything
    EXPECT_EQ(codec_stream_pull_pcm(d.get(), &a), CODEC_OK);
    EXPECT_EQ(a.n_samples, 0);

    // approx_* ask for approximate windows from the models that cannot stream exactly (XCodec2,
    // WavTokenizer decode: tests/python/test_stream_approx.py): an exact stream ignores valid ones.
    codec_stream_params p = codec_stream_default_params();
    EXPECT_FALSE(p.approximate);
    p.n_q = 4;
    p.approximate = true;
    p.approx_left_frames = 3;
    p.approx_right_frames = 2;
    p.approx_fade_frames = 1;
    StreamPtr x(codec_stream_new(ctx.get(), p));
    ASSERT_NE(x, nullptr) << codec_context_last_error(ctx.get());
    ASSERT_EQ(codec_stream_get_info(x.get(), &info), CODEC_OK);
    EXPECT_TRUE(info.causal && !info.approximate);
    EXPECT_EQ(info.fade_frames, 0);
    EXPECT_EQ(stream_encode(x.get(), pcm, 13, n_frames), want);

    // Creation errors name the problem.
    for (const auto & bad : std::vector<std::array<int32_t, 3>>{{-1, 2, 0}, {3, -1, 0}, {3, 2, 3}, {3, 2, -1}}) {
        p.approx_left_frames = bad[0];
        p.approx_right_frames = bad[1];
        p.approx_fade_frames = bad[2];
        EXPECT_EQ(codec_stream_new(ctx.get(), p), nullptr);
        EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("approx_fade_frames <= approx_right_frames"), std::string::npos)
            << codec_context_last_error(ctx.get());
    }
    p = codec_stream_default_params();
    p.direction = CODEC_STREAM_DECODE;
    p.n_q = 5;
    EXPECT_EQ(codec_stream_new(ctx.get(), p), nullptr);
    EXPECT_NE(std::string(codec_context_last_error(ctx.get())).find("n_q = 5"), std::string::npos);
    const int32_t bad_direction = 7;  // as a C caller could pass (not a valid C++ enum value: copied, not cast)
    std::memcpy(&p.direction, &bad_direction, sizeof bad_direction);
    EXPECT_EQ(codec_stream_new(ctx.get(), p), nullptr);
    EXPECT_EQ(codec_stream_new(nullptr, p), nullptr);
    EXPECT_EQ(codec_stream_push_pcm(nullptr, pcm.data(), 1), CODEC_ERR_INVALID_ARG);
    EXPECT_STREQ(codec_stream_last_error(nullptr), "stream is NULL");
}

// Without a sliding window the transformers attend to every past frame: the stream's KV cache
// grows (here from blocks of 2 frames, many times) and the codes still equal the one-shot call's;
// a reset drops the grown cache.
TEST_F(MimiErrors, StreamWithoutWindowGrowsItsCache) {
    const std::string path = variant("nowindow", kv_edit([](gguf_context * g) { gguf_set_val_u32(g, "mimi.sliding_window", 0); }));
    const LoadResult r = load_model(path);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    const std::vector<float> pcm = make_signal(16 * 60 + 5, 12);
    const std::vector<int32_t> want = one_shot_codes(ctx.get(), pcm, 4);
    ASSERT_FALSE(want.empty());
    const std::vector<float> head(pcm.begin(), pcm.begin() + 16 * 3);
    const std::vector<int32_t> want_head = one_shot_codes(ctx.get(), head, 4);
    ASSERT_FALSE(want_head.empty());
    codec_stream_params p = codec_stream_default_params();
    p.n_q = 4;
    p.block_frames = 2;
    StreamPtr s(codec_stream_new(ctx.get(), p));
    ASSERT_NE(s, nullptr) << codec_context_last_error(ctx.get());
    codec_stream_info info{};
    for (size_t step : {1, 7, 100}) {
        SCOPED_TRACE("step " + std::to_string(step));
        ASSERT_EQ(codec_stream_reset(s.get()), CODEC_OK);
        ASSERT_EQ(codec_stream_get_info(s.get(), &info), CODEC_OK);
        EXPECT_EQ(info.state_bytes, 0);
        int32_t n_frames = 0;
        EXPECT_EQ(stream_encode(s.get(), head, step, n_frames), want_head);
        ASSERT_EQ(codec_stream_get_info(s.get(), &info), CODEC_OK);
        const int64_t small = info.state_bytes;
        ASSERT_EQ(codec_stream_reset(s.get()), CODEC_OK);
        EXPECT_EQ(stream_encode(s.get(), pcm, step, n_frames), want);
        EXPECT_EQ((size_t) n_frames * 4, want.size());
        ASSERT_EQ(codec_stream_get_info(s.get(), &info), CODEC_OK);
        EXPECT_GT(info.state_bytes, small);
    }
}

// The documented lifetime: a stream needs its model, not its context.
TEST_F(MimiErrors, StreamOutlivesItsContext) {
    const LoadResult r = load_model(path_);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    StreamPtr s = new_stream(ctx.get(), CODEC_STREAM_ENCODE, 2);
    ASSERT_NE(s, nullptr);
    const std::vector<float> pcm = make_signal(16 * 10, 5);
    const std::vector<int32_t> want = one_shot_codes(ctx.get(), pcm, 2);
    ASSERT_FALSE(want.empty());
    ctx.reset();
    int32_t n_frames = 0;
    EXPECT_EQ(stream_encode(s.get(), pcm, 16, n_frames), want);
}

// Streams of one model on several threads at once give the serial result (run under TSan by
// scripts/sanitize.sh with the other Threads.* tests).
TEST(ThreadsStreams, MimiStreamsInParallel) {
    std::string err;
    const std::string path = tiny_mimi_path(err);
    ASSERT_FALSE(path.empty()) << err;
    const LoadResult r = load_model(path);
    ASSERT_NE(r.model, nullptr) << r.message;
    const std::vector<float> pcm = make_signal(16 * 30 + 3, 9);
    CtxPtr ctx = new_context(r.model.get());
    StreamPtr s = new_stream(ctx.get(), CODEC_STREAM_ENCODE, CODEC_N_Q_ALL);
    int32_t n_frames = 0;
    const std::vector<int32_t> want = stream_encode(s.get(), pcm, 10, n_frames);
    std::vector<std::vector<int32_t>> got(3);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < got.size(); ++t) {
        threads.emplace_back([&, t] {
            CtxPtr c = new_context(r.model.get());
            StreamPtr st = new_stream(c.get(), CODEC_STREAM_ENCODE, CODEC_N_Q_ALL);
            int32_t nf = 0;
            for (int rep = 0; rep < 2; ++rep) {
                codec_stream_reset(st.get());
                got[t] = stream_encode(st.get(), pcm, 5 + 7 * t, nf);
            }
        });
    }
    for (auto & th : threads) th.join();
    for (const auto & g : got) EXPECT_EQ(g, want);
}
