#include "copy_rows.h"

#include <ggml-backend.h>

#include <cstring>

namespace {

const char * row(const ggml_tensor * t, int64_t i1, int64_t i2, int64_t i3) {
    return (const char *) t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

// This thread's share [r0, r1) of n rows.
void share(int64_t n, int ith, int nth, int64_t & r0, int64_t & r1) {
    const int64_t per = (n + nth - 1) / nth;
    r0 = per * ith;
    r1 = r0 + per < n ? r0 + per : n;
}

void concat_rows(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const int dim = (int) (intptr_t) userdata;
    const ggml_tensor * a = dst->src[0], * b = dst->src[1];
    const int64_t ne1 = dst->ne[1], ne2 = dst->ne[2];
    int64_t r0, r1;
    share(ne1 * ne2 * dst->ne[3], ith, nth, r0, r1);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i[4] = {0, r % ne1, (r / ne1) % ne2, r / (ne1 * ne2)};
        char * d = (char *) dst->data + i[1] * dst->nb[1] + i[2] * dst->nb[2] + i[3] * dst->nb[3];
        if (dim == 0) {
            std::memcpy(d, row(a, i[1], i[2], i[3]), a->ne[0] * sizeof(float));
            std::memcpy(d + a->ne[0] * sizeof(float), row(b, i[1], i[2], i[3]), b->ne[0] * sizeof(float));
            continue;
        }
        const ggml_tensor * s = i[dim] < a->ne[dim] ? a : b;
        if (s == b) i[dim] -= a->ne[dim];
        std::memcpy(d, row(s, i[1], i[2], i[3]), dst->ne[0] * sizeof(float));
    }
}

void pad_replicate_rows(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const ggml_tensor * x = dst->src[0];
    const int64_t left = (int64_t) (intptr_t) userdata, T = x->ne[1], ne1 = dst->ne[1];
    int64_t r0, r1;
    share(ne1 * dst->ne[2], ith, nth, r0, r1);
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t i1 = r % ne1, i2 = r / ne1;
        const int64_t t = i1 < left ? 0 : (i1 - left < T ? i1 - left : T - 1);
        std::memcpy((char *) dst->data + i1 * dst->nb[1] + i2 * dst->nb[2], row(x, t, i2, 0), dst->ne[0] * sizeof(float));
    }
}

void pad_zero_rows(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const ggml_tensor * x = dst->src[0];
    const int64_t left = (int64_t) (intptr_t) userdata, T = x->ne[1], ne1 = dst->ne[1], ne2 = dst->ne[2];
    const size_t bytes = dst->ne[0] * sizeof(float);
    int64_t r0, r1;
    share(ne1 * ne2 * dst->ne[3], ith, nth, r0, r1);
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
        char * d = (char *) dst->data + i1 * dst->nb[1] + i2 * dst->nb[2] + i3 * dst->nb[3];
        const int64_t t = i1 - left;
        if (t >= 0 && t < T) std::memcpy(d, row(x, t, i2, i3), bytes);
        else std::memset(d, 0, bytes);
    }
}

bool rows_contiguous_f32(const ggml_tensor * t) { return t->type == GGML_TYPE_F32 && t->nb[0] == sizeof(float); }

}  // namespace

ggml_tensor * codec_pad_zero(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, bool cpu) {
    if (!cpu || !rows_contiguous_f32(x)) return ggml_pad_ext(ctx, x, 0, 0, (int) left, (int) right, 0, 0, 0, 0);
    ggml_tensor * args[1] = {x};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, x->ne[0], x->ne[1] + left + right, x->ne[2], x->ne[3], args, 1, pad_zero_rows,
                          GGML_N_TASKS_MAX, (void *) (intptr_t) left);
}

bool codec_on_host(const ggml_tensor * w) { return w && w->buffer && ggml_backend_buffer_is_host(w->buffer); }

ggml_tensor * codec_concat(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, int dim, bool cpu) {
    if (!cpu || !rows_contiguous_f32(a) || !rows_contiguous_f32(b)) return ggml_concat(ctx, a, b, dim);
    int64_t ne[4];
    for (int d = 0; d < 4; ++d) {
        if (d != dim && a->ne[d] != b->ne[d]) return ggml_concat(ctx, a, b, dim);  // ggml_concat reports it
        ne[d] = d == dim ? a->ne[d] + b->ne[d] : a->ne[d];
    }
    ggml_tensor * args[2] = {a, b};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, ne[0], ne[1], ne[2], ne[3], args, 2, concat_rows, GGML_N_TASKS_MAX,
                          (void *) (intptr_t) dim);
}

ggml_tensor * codec_pad_replicate(ggml_context * ctx, ggml_tensor * x, int64_t left, int64_t right, bool cpu) {
    const int64_t C = x->ne[0], T = x->ne[1], B = x->ne[2];
    if (!cpu || !rows_contiguous_f32(x) || ggml_n_dims(x) > 3) {
        ggml_tensor * first = ggml_view_3d(ctx, x, C, 1, B, x->nb[1], x->nb[2], 0);
        ggml_tensor * last = ggml_view_3d(ctx, x, C, 1, B, x->nb[1], x->nb[2], (T - 1) * x->nb[1]);
        ggml_tensor * y = left > 0 ? ggml_concat(ctx, ggml_repeat_4d(ctx, first, C, left, B, 1), x, 1) : x;
        return right > 0 ? ggml_concat(ctx, y, ggml_repeat_4d(ctx, last, C, right, B, 1), 1) : y;
    }
    ggml_tensor * args[1] = {x};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, C, T + left + right, B, 1, args, 1, pad_replicate_rows, GGML_N_TASKS_MAX,
                          (void *) (intptr_t) left);
}
