#include "irfft.h"

#include <algorithm>
#include <cmath>

using cf = std::complex<float>;

codec_fft_plan::codec_fft_plan(int n) : n_(n), tw_((size_t) n) {
    for (int m = n; m > 1;) {  // 4s first (the cheapest butterfly), then 2, 3, 5, 7, ...
        int p = m % 4 == 0 ? 4 : 2;
        while (m % p) p = p == 2 ? 3 : p + 2;
        radices_.push_back(p);
        m /= p;
    }
    for (int j = 0; j < n; ++j) {  // angles in double, rounded once to float
        const double a = 2.0 * 3.14159265358979323846 * j / n;
        tw_[j] = cf((float) std::cos(a), (float) std::sin(a));
    }
}

void codec_fft_plan::inverse(const cf * in, cf * out) const { step(in, out, n_, 1, 0); }

// Decimation in time: the p sub-transforms of every p-th input (stride * p apart) land in
// out[q * m .. q * m + m), then each column k combines them: X[k + s m] = sum_q W_n^{q k} Y_q[k]
// W_p^{q s}. Column k reads and writes the same p slots, so the combine works in place.
void codec_fft_plan::step(const cf * in, cf * out, int n, int stride, size_t level) const {
    if (n == 1) {
        out[0] = in[0];
        return;
    }
    const int p = radices_[level], m = n / p, ts = n_ / n, tp = n_ / p;
    for (int q = 0; q < p; ++q) step(in + (size_t) q * stride, out + (size_t) q * m, m, stride * p, level + 1);
    cf t[8];
    std::vector<cf> big(p > 8 ? p : 0);
    cf * v = p > 8 ? big.data() : t;
    for (int k = 0; k < m; ++k) {
        v[0] = out[k];
        for (int q = 1; q < p; ++q) v[q] = out[(size_t) q * m + k] * tw_[(size_t) q * k * ts];
        if (p == 4) {  // W_4 = +i
            const cf a = v[0] + v[2], b = v[0] - v[2], c = v[1] + v[3], d = v[1] - v[3];
            const cf id(-d.imag(), d.real());  // i d
            out[k] = a + c;
            out[k + m] = b + id;
            out[k + 2 * m] = a - c;
            out[k + 3 * m] = b - id;
        } else if (p == 2) {
            out[k] = v[0] + v[1];
            out[k + m] = v[0] - v[1];
        } else {  // 3, 5 and any other prime: its DFT
            for (int s = 0; s < p; ++s) {
                cf acc = v[0];
                for (int q = 1; q < p; ++q) acc += v[q] * tw_[(size_t) ((q * s) % p) * tp];
                out[k + (size_t) s * m] = acc;
            }
        }
    }
}

codec_irfft::codec_irfft(int n_fft, int64_t frame_len, bool zero_edge_bins)
    : plan(n_fft), frame_len(frame_len), zero_edge_bins(zero_edge_bins) {}

namespace {

// Whole frames per thread; each thread has its own two buffers of N values.
void irfft_task(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const codec_irfft & op = *(const codec_irfft *) userdata;
    const ggml_tensor * re = dst->src[0], * im = dst->src[1], * win = dst->src[2];
    const int N = op.plan.size(), half = N / 2;
    const int64_t nb = half + 1, F = re->ne[1] * re->ne[2], L = op.frame_len;
    const int64_t per = (F + nth - 1) / nth, f0 = per * ith, f1 = std::min(F, f0 + per);
    if (f0 >= f1) return;
    thread_local std::vector<cf> z, y;
    z.resize((size_t) N);
    y.resize((size_t) N);
    const float * w = (const float *) win->data, scale = 1.0f / (float) N;
    for (int64_t f = f0; f < f1; ++f) {
        const float * r = (const float *) re->data + f * nb, * i = (const float *) im->data + f * nb;
        z[0] = cf(op.zero_edge_bins ? 0.0f : r[0], 0.0f);  // irfft ignores DC's and Nyquist's imaginary parts
        z[half] = cf(op.zero_edge_bins ? 0.0f : r[half], 0.0f);
        for (int k = 1; k < half; ++k) {
            z[k] = cf(r[k], i[k]);
            z[N - k] = cf(r[k], -i[k]);  // a real signal's spectrum is Hermitian
        }
        op.plan.inverse(z.data(), y.data());
        float * o = (float *) dst->data + f * L;
        for (int n = 0; n < N; ++n) o[n] = w[n] * (y[n].real() * scale);
        std::fill(o + N, o + L, 0.0f);
    }
}

}  // namespace

ggml_tensor * codec_irfft_frames(ggml_context * ctx, ggml_tensor * re, ggml_tensor * im, ggml_tensor * window,
                                 const codec_irfft & op) {
    ggml_tensor * args[3] = {re, im, window};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, op.frame_len, re->ne[1], re->ne[2], 1, args, 3, irfft_task,
                          GGML_N_TASKS_MAX, (void *) &op);
}
