// Allocation bombs: small GGUF files whose headers claim huge counts or sizes must be refused
// before anything is allocated from those claims, with a message naming the lying field.
// (The NPY reader's equivalent is in test_npy.cpp.) The ASan build makes the "before
// allocation" part strict: a multi-TB request there aborts instead of returning an error.
#include "test_util.h"

#include <algorithm>

using namespace codec_test;

namespace {

// Raw GGUF v3 bytes, written field by field so any field can lie.
struct RawGguf {
    std::vector<uint8_t> b;
    template <typename T> RawGguf & put(T v) {
        const uint8_t * p = (const uint8_t *) &v;
        b.insert(b.end(), p, p + sizeof(T));
        return *this;
    }
    RawGguf & str(const std::string & s) {
        put<uint64_t>(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    RawGguf & header(uint64_t n_tensors, uint64_t n_kv) {
        b.insert(b.end(), {'G', 'G', 'U', 'F'});
        return put<uint32_t>(3).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
    }
    RawGguf & arch_kv() { return str("codec.arch").put<uint32_t>(GGUF_TYPE_STRING).str("dac"); }
};

class Bombs : public ::testing::Test {
protected:
    void expect_refused(const RawGguf & g, std::initializer_list<std::string> needles) {
        const std::string path = dir_.file("bomb.gguf");
        write_bytes(path, g.b);
        QuietGgmlLog quiet;
        const LoadResult r = load_model(path);
        EXPECT_EQ(r.model, nullptr);
        EXPECT_EQ(r.status, CODEC_ERR_FORMAT) << r.message;
        for (const std::string & n : needles) {
            EXPECT_NE(r.message.find(n), std::string::npos) << "message '" << r.message << "' lacks '" << n << "'";
        }
    }
    TempDir dir_;
};

}  // namespace

TEST_F(Bombs, HugeTensorCount) {
    expect_refused(RawGguf().header(uint64_t(1) << 40, 0), {"'n_tensors'", "1099511627776"});
    expect_refused(RawGguf().header(UINT64_MAX, 0), {"'n_tensors'"});
}

TEST_F(Bombs, HugeKvCount) {
    expect_refused(RawGguf().header(0, 1000000000000ull), {"'n_kv'", "1000000000000"});
}

TEST_F(Bombs, HugeArrayLength) {
    RawGguf g;
    g.header(0, 1).str("dac.upsampling_ratios").put<uint32_t>(GGUF_TYPE_ARRAY).put<uint32_t>(GGUF_TYPE_INT32)
     .put<uint64_t>(1000000000000ull).put<int32_t>(4);
    expect_refused(g, {"dac.upsampling_ratios", "array length"});
    RawGguf s;  // strings: each element at least its 8-byte length
    s.header(0, 1).str("names").put<uint32_t>(GGUF_TYPE_ARRAY).put<uint32_t>(GGUF_TYPE_STRING).put<uint64_t>(uint64_t(1) << 61);
    expect_refused(s, {"'names'", "array length"});
}

TEST_F(Bombs, HugeStringLength) {
    RawGguf g;
    g.header(0, 1).str("codec.arch").put<uint32_t>(GGUF_TYPE_STRING).put<uint64_t>(uint64_t(1) << 62);
    expect_refused(g, {"codec.arch", "string length"});
    RawGguf k;  // the key itself
    k.header(0, 1).put<uint64_t>(uint64_t(1) << 50).put<uint64_t>(0).put<uint64_t>(0);  // room for one kv
    expect_refused(k, {"key of kv 0", "string length"});
}

TEST_F(Bombs, HugeTensorShape) {
    // 2^31 x 2^31 f32 = 16 EiB claimed by a ~100-byte file.
    RawGguf g;
    g.header(1, 1).arch_kv().str("q.weight").put<uint32_t>(2).put<int64_t>(int64_t(1) << 31).put<int64_t>(int64_t(1) << 31)
     .put<uint32_t>(GGML_TYPE_F32).put<uint64_t>(0);
    expect_refused(g, {"'q.weight'", "field 'ne'"});
    RawGguf n;  // negative dimension
    n.header(1, 1).arch_kv().str("q.weight").put<uint32_t>(1).put<int64_t>(-5).put<uint32_t>(GGML_TYPE_F32).put<uint64_t>(0);
    expect_refused(n, {"'q.weight'", "field 'ne'"});
    RawGguf d;  // 9 dims
    d.header(1, 1).arch_kv().str("q.weight").put<uint32_t>(9);
    expect_refused(d, {"'q.weight'", "'n_dims'"});
}

TEST_F(Bombs, BadTensorTypeAndOffset) {
    RawGguf t;
    t.header(1, 1).arch_kv().str("q.weight").put<uint32_t>(1).put<int64_t>(4).put<uint32_t>(200).put<uint64_t>(0);
    expect_refused(t, {"'q.weight'", "field 'type'"});
    RawGguf o;
    o.header(1, 1).arch_kv().str("q.weight").put<uint32_t>(1).put<int64_t>(4).put<uint32_t>(GGML_TYPE_F32).put<uint64_t>(uint64_t(1) << 60);
    expect_refused(o, {"'q.weight'", "field 'offset'"});
}

TEST_F(Bombs, RealModelWithOneTensorClaimingTooMuch) {
    // The tiny model with one tensor's shape rewritten in place to a huge one.
    REQUIRE_TINY_MODEL();
    std::vector<uint8_t> bytes = read_bytes(tiny_model_path());
    gguf_init_params ip = { /*no_alloc =*/ true, nullptr };
    std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(tiny_model_path().c_str(), ip));
    ASSERT_TRUE(g);
    const std::string name = gguf_get_tensor_name(g.get(), 0);
    const auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
    ASSERT_NE(it, bytes.end());
    const size_t ne0_at = (size_t) (it - bytes.begin()) + name.size() + 4;  // after the name and n_dims
    const int64_t huge = int64_t(1) << 40;
    std::memcpy(bytes.data() + ne0_at, &huge, sizeof huge);
    const std::string path = dir_.file("big_tensor.gguf");
    write_bytes(path, bytes);
    QuietGgmlLog quiet;
    const LoadResult r = load_model(path);
    EXPECT_EQ(r.model, nullptr);
    EXPECT_EQ(r.status, CODEC_ERR_FORMAT);
    EXPECT_NE(r.message.find("'" + name + "' field 'ne'"), std::string::npos) << r.message;
}
