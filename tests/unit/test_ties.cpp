// Tied distances pick the FIRST code, as the references' argmin/argmax do: every quantizer
// kind (factorized: DAC, SNAC; Euclidean: EnCodec, Mimi) on its tiny model with all-zero
// codebooks, where every code is equally near (ggml_argmax alone would return the last).
#include "test_util.h"

using namespace codec_test;

namespace {

bool is_codebook(const std::string & n) {
    for (const char * s : {".codebook.weight", ".codebook.normalized", ".codebook.normalized_sq", ".embed", ".embed_sq"}) {
        const std::string suf = s;
        if (n.size() >= suf.size() && n.compare(n.size() - suf.size(), suf.size(), suf) == 0) return true;
    }
    return false;
}

GgufEdit zero_codebooks() {
    return {nullptr, [](ggml_tensor * t, ggml_context * s) { return is_codebook(t->name) ? retype(t, s, GGML_TYPE_F32) : t; },
            nullptr};
}

}  // namespace

class Ties : public ::testing::TestWithParam<const char *> {};

TEST_P(Ties, AllZeroCodebooksGiveCodeZero) {
    const char * dir = std::getenv("CODEC_FUZZ_MODELS");
    ASSERT_TRUE(dir && *dir) << "CODEC_FUZZ_MODELS is unset: run via ctest (fixture fuzz_models)";
    const fs::path src = fs::path(dir) / (std::string(GetParam()) + ".gguf");
    ASSERT_TRUE(fs::exists(src)) << src << " is missing: run via ctest (fixture fuzz_models)";
    TempDir tmp;
    const std::string path = gguf_variant(tmp, src.string(), "zero", zero_codebooks());
    const LoadResult r = load_model(path);
    ASSERT_NE(r.model, nullptr) << r.message;
    CtxPtr ctx = new_context(r.model.get());
    const int ch = codec_model_channels(r.model.get());
    std::vector<float> pcm = make_signal(24000, 3), inter((size_t) pcm.size() * ch);
    for (size_t i = 0; i < inter.size(); ++i) inter[i] = pcm[i / (size_t) ch];
    codec_codes c{};
    ASSERT_EQ(codec_encode(ctx.get(), inter.data(), (int64_t) pcm.size(), CODEC_N_Q_ALL, &c), CODEC_OK)
        << codec_context_last_error(ctx.get());
    ASSERT_GT(c.n_frames, 0);
    for (int32_t q = 0; q < c.n_q; ++q) {
        const int32_t len = c.row_len ? c.row_len[q] : c.n_frames;
        for (int32_t t = 0; t < len; ++t) ASSERT_EQ(c.data[(size_t) q * c.n_frames + t], 0) << "codebook " << q << ", frame " << t;
    }
}

INSTANTIATE_TEST_SUITE_P(EveryQuantizer, Ties, ::testing::Values("dac", "snac", "encodec", "mimi"));
