// Windowed inverse real FFT of spectrogram frames, as a CPU custom op: what the ISTFT heads
// (blocks/istft.h) compute elsewhere as one product with a dense inverse-DFT basis. The dense
// product costs 2 (N + 2) N flops per frame (Soprano's 2048-point frames: 12 % of its decode);
// a mixed-radix FFT (radices 4, 2, 3, 5, any other factor by its own DFT) costs ~5 N log2 N.
#pragma once

#include <ggml.h>

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

// A complex FFT of size n with exp(+2 pi i j k / n) (unnormalized inverse), planned once.
class codec_fft_plan {
public:
    explicit codec_fft_plan(int n);
    int size() const { return n_; }
    // out[k] = sum_j in[j] exp(+2 pi i j k / n); in and out hold n values each and do not overlap.
    void inverse(const std::complex<float> * in, std::complex<float> * out) const;

private:
    void step(const std::complex<float> * in, std::complex<float> * out, int n, int stride, size_t level) const;
    int n_;
    std::vector<int> radices_;               // product n_
    std::vector<std::complex<float>> tw_;    // exp(+2 pi i j / n_), computed in double
};

// What the op needs besides its inputs; owned by the model (the op's userdata points to it).
struct codec_irfft {
    codec_fft_plan plan;
    int64_t frame_len;    // output rows: n_fft, zero-padded to frame_len (>= n_fft)
    bool zero_edge_bins;  // the model zeroes DC and Nyquist before its ISTFT (Soprano)
    codec_irfft(int n_fft, int64_t frame_len, bool zero_edge_bins);
};

// re, im [N / 2 + 1, T, B] (real and imaginary parts of each frame's bins; contiguous F32) and
// window [N] F32 -> frames [frame_len, T, B]: window[n] * irfft(re + i im)[n] for n < N, then
// zeros. irfft as torch's: the imaginary parts of DC and Nyquist are ignored.
ggml_tensor * codec_irfft_frames(ggml_context * ctx, ggml_tensor * re, ggml_tensor * im, ggml_tensor * window,
                                 const codec_irfft & op);
