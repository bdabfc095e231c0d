#include "fsq.h"

#include "codec_impl.h"
#include "model_loader.h"

int64_t codec_fsq::size() const {
    int64_t n = 1;
    for (int32_t l : levels) n *= l;
    return n;
}

bool codec_fsq_init(codec_fsq & q, const std::vector<int32_t> & levels, std::string & err) {
    q.levels = levels;
    int64_t n = 1;
    for (int32_t l : levels) {
        if (l < 2 || l > 65536) { err = codec_fmt("FSQ level %d: every level must be in [2, 65536]", l); return false; }
        n *= l;
        if (n > (int64_t) 1 << 22) { err = "FSQ levels multiply to more than 2^22 codes"; return false; }
    }
    if (levels.empty()) { err = "FSQ without levels"; return false; }
    return true;
}

// floor(x / b) for whole numbers 0 <= x < 2^22 and b >= 1: (x + 0.5) / b lies at least 0.5 / b
// from the next integer, far more than the rounding of the scale, so the floor is exact.
static ggml_tensor * floor_div(ggml_context * ctx, ggml_tensor * x, int64_t b) {
    if (b == 1) return x;
    return ggml_floor(ctx, ggml_scale_bias(ctx, x, 1.0f / (float) b, 0.5f / (float) b));
}

ggml_tensor * codec_fsq_decode(ggml_context * ctx, const codec_fsq & q, ggml_tensor * codes) {
    const int64_t T = ggml_nelements(codes);
    ggml_tensor * x = ggml_cast(ctx, ggml_reshape_2d(ctx, codes, 1, T), GGML_TYPE_F32);  // [1, T], exact below 2^24
    ggml_tensor * out = nullptr;
    int64_t basis = 1;
    for (int32_t L : q.levels) {
        ggml_tensor * v = floor_div(ctx, x, basis);                                        // x // basis
        ggml_tensor * digit = ggml_sub(ctx, v, ggml_scale(ctx, floor_div(ctx, v, L), (float) L));  // % L
        const int half = L / 2;
        ggml_tensor * val = ggml_scale_bias(ctx, digit, 1.0f / (float) half, -1.0f);       // (digit - half) / half
        out = out ? ggml_concat(ctx, out, val, 0) : val;
        basis *= L;
    }
    return out;
}

static ggml_tensor * fsq_bound(ggml_context * ctx, const codec_fsq_bound & b, ggml_tensor * z) {
    return ggml_sub(ctx, ggml_mul(ctx, ggml_tanh(ctx, ggml_add(ctx, z, b.shift)), b.scale), b.offset);
}

ggml_tensor * codec_fsq_quantize(ggml_context * ctx, const codec_fsq & q, const codec_fsq_bound & b, ggml_tensor * z) {
    ggml_tensor * r = ggml_round(ctx, fsq_bound(ctx, b, fsq_bound(ctx, b, z)));   // levels [-L/2, L/2) per digit
    int64_t base = 0, basis = 1;  // sum over digits of (L / 2) * basis: the digits' offset
    for (int32_t L : q.levels) {
        base += (int64_t) (L / 2) * basis;
        basis *= L;
    }
    ggml_tensor * code = ggml_sum_rows(ctx, ggml_mul(ctx, r, b.basis));               // [1, T], exact below 2^24
    code = ggml_scale_bias(ctx, code, 1.0f, (float) base);
    return ggml_cast(ctx, ggml_reshape_1d(ctx, code, code->ne[1]), GGML_TYPE_I32);
}

codec_fsq_bound codec_load_fsq_bound(codec_model_loader & ld, const std::string & prefix, int dim) {
    codec_fsq_bound b;
    b.scale = ld.tensor(prefix + ".scale", {dim}, CODEC_W_F32);
    b.shift = ld.tensor(prefix + ".shift", {dim}, CODEC_W_F32);
    b.offset = ld.tensor(prefix + ".offset", {dim}, CODEC_W_F32);
    b.basis = ld.tensor(prefix + ".basis", {dim}, CODEC_W_F32);
    return b;
}
