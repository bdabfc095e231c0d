#include "stream_io.h"

#include "graph.h"
#include "ops/copy_rows.h"

#include <ggml-alloc.h>

#include <algorithm>

namespace {
constexpr size_t k_max_slots = 4096;  // far above any model's stateful blocks
}

codec_stream_io::~codec_stream_io() { release(); }

void codec_stream_io::release() {
    if (buf_) ggml_backend_buffer_free(buf_);
    if (ctx_) ggml_free(ctx_);
    buf_ = nullptr;
    ctx_ = nullptr;
    slots_.clear();
}

void codec_stream_io::begin(codec_graph & g, bool is_first, bool is_last, bool cpu) {
    g.io = this;
    cpu_ = cpu;
    g_ = &g;
    cursor_ = 0;
    lag_cursor_ = 0;
    first = is_first;
    last = is_last;
}

ggml_tensor * codec_stream_io::slot(int64_t ne0, int64_t ne1, int64_t ne2) {
    if (!ctx_) {
        ggml_init_params ip = { k_max_slots * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true };
        ctx_ = ggml_init(ip);
    }
    const size_t i = cursor_++;
    if (i < slots_.size()) {
        ggml_tensor * t = slots_[i];
        if (t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == ne2) return t;
        err_ = "streaming state slot " + std::to_string(i) + " changed shape between graphs (model bug)";
    } else if (buf_ || i >= k_max_slots) {
        err_ = "a streaming graph asked for state its first graph did not have (model bug)";
    }
    if (!err_.empty()) {
        // Keep the build going on a tensor of the right shape; the stream reports err_ afterwards.
        return ggml_new_tensor_3d(g_->ctx, GGML_TYPE_F32, ne0, ne1, ne2);
    }
    ggml_tensor * t = ggml_new_tensor_3d(ctx_, GGML_TYPE_F32, ne0, ne1, ne2);
    ggml_format_name(t, "state.%zu", i);
    slots_.push_back(t);
    return t;
}

void codec_stream_io::write(ggml_context * ctx, ggml_tensor * src, ggml_tensor * slot) {
    if (ggml_are_same_shape(src, slot)) {  // one copy, whatever src's strides
        g_->updates.push_back(ggml_cpy(ctx, src, slot));
        return;
    }
    if (!ggml_is_contiguous(src)) src = ggml_cont(ctx, src);
    g_->updates.push_back(ggml_cpy(ctx, ggml_reshape_3d(ctx, src, slot->ne[0], slot->ne[1], slot->ne[2]), slot));
}

ggml_tensor * codec_stream_io::carry(ggml_context * ctx, ggml_tensor * x, int64_t first_pad, int64_t keep,
                                     codec_pad_mode mode) {
    if (first) x = codec_pad_time_cm(ctx, x, first_pad, 0, mode, cpu_);
    if (keep == 0) return x;
    const int64_t C = x->ne[0];
    ggml_tensor * s = slot(C, keep);
    ggml_tensor * xin = first ? x : codec_concat(ctx, s, x, 1, cpu_);  // first: the slot is only written
    if (!ggml_is_contiguous(xin)) xin = ggml_cont(ctx, xin);
    write(ctx, ggml_view_2d(ctx, xin, C, keep, xin->nb[1], (xin->ne[1] - keep) * xin->nb[1]), s);
    return xin;
}

ggml_tensor * codec_stream_io::with_context(ggml_context * ctx, ggml_tensor * x, int64_t n, codec_pad_mode mode) {
    return carry(ctx, x, n, n, mode);
}

int64_t codec_stream_io::fixed_len(int64_t first_block_len) {
    const size_t i = lag_cursor_++;
    if (first) {
        if (i >= lags_.size()) lags_.resize(i + 1);
        lags_[i] = first_block_len;
        return first_block_len;
    }
    if (i < lags_.size()) return lags_[i];
    report("a streaming graph asked for a lag its first graph did not fix (model bug)");
    return 0;
}

ggml_tensor * codec_stream_io::lagged_input(ggml_context * ctx, ggml_tensor * x, int64_t k_eff, int64_t stride,
                                            int64_t pad_l, int64_t pad_r, codec_pad_mode mode, bool to_stride) {
    // The last block's right padding, for a joined input of n frames (left padding included):
    // to_stride pads on until (n + right - k_eff) is a whole number of strides.
    auto right_pad = [&](int64_t n) {
        return pad_r + (to_stride ? ((k_eff - n - pad_r) % stride + stride) % stride : 0);
    };
    if (first && last) {  // the one-shot conv
        return codec_pad_time_cm(ctx, x, pad_l, right_pad(pad_l + x->ne[1]), mode, cpu_);
    }
    int64_t keep = 0;  // frames from the next output's window start on
    if (first) {
        const int64_t avail = pad_l + x->ne[1];
        // (the builders' length checks keep the last block from here)
        if (avail < k_eff || (mode == CODEC_PAD_REFLECT && x->ne[1] <= pad_l)) {
            report("a stream's first block is too short for a conv's window (model bug)");
            const int64_t fill = std::max<int64_t>(0, k_eff - avail);
            return codec_pad_time_cm(ctx, x, pad_l, fill, CODEC_PAD_CONSTANT, cpu_);  // keeps the build going
        }
        const int64_t n_out = (avail - k_eff) / stride + 1;
        keep = fixed_len(avail - n_out * stride);
    } else {
        keep = fixed_len(0);
    }
    ggml_tensor * xin = carry(ctx, x, pad_l, keep, mode);
    if (!last) return xin;
    const int64_t right = right_pad(xin->ne[1]);
    if (mode == CODEC_PAD_REFLECT && xin->ne[1] <= right) {  // the stream holds back a frame for the last block
        report("a stream's last block is too short to reflect a conv's padding (model bug)");
        return codec_pad_time_cm(ctx, xin, 0, right, CODEC_PAD_CONSTANT, cpu_);
    }
    return codec_pad_time_cm(ctx, xin, 0, right, mode, cpu_);
}

ggml_tensor * codec_stream_io::delayed(ggml_context * ctx, ggml_tensor * x, int64_t n_out) {
    if (first && last) return x;  // nothing lags in the one-shot graph
    const int64_t C = x->ne[0];
    const int64_t held = fixed_len(first ? x->ne[1] - n_out : 0);
    if (held < 0 || n_out > held + x->ne[1] || n_out < 1) {
        report("a residual branch's lag changed between stream blocks (model bug)");
        return ggml_new_tensor_2d(ctx, GGML_TYPE_F32, C, std::max<int64_t>(n_out, 1));  // keeps the build going
    }
    ggml_tensor * xin = carry(ctx, x, 0, held, CODEC_PAD_CONSTANT);
    return n_out == xin->ne[1] ? xin : ggml_view_2d(ctx, xin, C, n_out, xin->nb[1], 0);
}

ggml_tensor * codec_stream_io::regroup(ggml_context * ctx, ggml_tensor * x, int64_t unit) {
    if (first && last) return x;
    const int64_t n = x->ne[1];
    const int64_t held = fixed_len(first ? n % unit : 0);
    const int64_t total = (first ? 0 : held) + n;
    const int64_t n_out = last ? total : total / unit * unit;
    if (n_out < 1 || n_out % unit != 0 || (!last && total - n_out != held)) {
        report("a stream block is not made of whole units (model bug)");
        return ggml_new_tensor_2d(ctx, GGML_TYPE_F32, x->ne[0], unit);  // keeps the build going
    }
    return delayed(ctx, x, n_out);
}

bool codec_stream_io::allocate(ggml_backend_buffer_type_t buft, std::string & err) {
    if (buf_ || slots_.empty()) return true;
    buf_ = ggml_backend_alloc_ctx_tensors_from_buft(ctx_, buft);
    if (!buf_) {
        err = "cannot allocate the stream's state buffer";
        return false;
    }
    ggml_backend_buffer_clear(buf_, 0);
    for (size_t i = 0; i < saved_.size() && i < slots_.size(); ++i) {  // after grow_kv
        const saved_slot & o = saved_[i];
        ggml_tensor * t = slots_[i];
        if (t->ne[0] < o.ne[0] || t->ne[1] < o.ne[1] || t->ne[2] < o.ne[2]) {
            err = "streaming state slot " + std::to_string(i) + " shrank when the KV cache grew (model bug)";
            saved_.clear();
            return false;
        }
        const int64_t d0 = t->ne[0] - o.ne[0], d1 = t->ne[1] - o.ne[1], d2 = t->ne[2] - o.ne[2];
        std::vector<float> grown((size_t) ggml_nelements(t), 0.0f);
        for (int64_t i2 = 0; i2 < o.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < o.ne[1]; ++i1) {
                const float * src = o.data.data() + (i2 * o.ne[1] + i1) * o.ne[0];
                std::copy(src, src + o.ne[0], grown.begin() + ((i2 + d2) * t->ne[1] + i1 + d1) * t->ne[0] + d0);
            }
        ggml_backend_tensor_set(t, grown.data(), 0, ggml_nbytes(t));
    }
    if (saved_.size() > slots_.size()) {
        err = "a streaming graph lost state when the KV cache grew (model bug)";
        saved_.clear();
        return false;
    }
    saved_.clear();
    return true;
}

void codec_stream_io::grow_kv(int64_t frames) {
    if (frames <= kv_frames) return;
    kv_frames = frames;
    saved_.clear();
    if (buf_) {  // unallocated slots (a build that failed before its compute) hold nothing
        for (ggml_tensor * t : slots_) {
            saved_slot o{{t->ne[0], t->ne[1], t->ne[2]}, std::vector<float>((size_t) ggml_nelements(t))};
            ggml_backend_tensor_get(t, o.data.data(), 0, ggml_nbytes(t));
            saved_.push_back(std::move(o));
        }
    }
    release();
}

void codec_stream_io::clear() {
    if (buf_) ggml_backend_buffer_clear(buf_, 0);
    saved_.clear();
    kv_pos = kv_step = 0;
    first = true;
    last = false;
}

void codec_stream_io::drop_kv() {
    saved_.clear();
    release();
    kv_frames = kv_pos = kv_step = 0;
}

size_t codec_stream_io::bytes() const { return buf_ ? ggml_backend_buffer_get_size(buf_) : 0; }

ggml_tensor * codec_drop_front(ggml_context * ctx, ggml_tensor * x, int64_t n) {
    if (n == 0) return x;
    return ggml_view_2d(ctx, x, x->ne[0], x->ne[1] - n, x->nb[1], n * x->nb[1]);
}
