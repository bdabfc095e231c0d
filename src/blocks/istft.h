// Vocos ISTFT head's inverse STFT as ggml ops: spectrum -> windowed frames by one matrix product
// with a precomputed inverse-real-DFT basis, overlap-add of the frames, division by the
// overlap-added squared window (the envelope), then the crop of the padding mode:
//   "same"   (Vocos' custom ISTFT): (n_fft - hop) / 2 samples cropped on each side, T * hop out;
//   "center" (torch.istft(center=True)): n_fft / 2 on each side, (T - 1) * hop out.
// The basis (the converter's) holds window[n] * c_k * cos(2 pi k n / N) / N for the real parts
// and -window[n] * c_k * sin(2 pi k n / N) / N for the imaginary ones (c_k = 1 at DC and Nyquist,
// 2 between), exactly irfft's sum; bins a model zeroes before its ISTFT (Soprano: DC and Nyquist)
// are zero rows. Frames are padded to R = ceil(N / hop) hops (zero basis columns), so the
// overlap-add is a sum of R shifted views. On the CPU, a GGUF that also holds the window computes
// the frames by FFT instead (ops/irfft.h: the same sum, ~2 % of the product's flops).
#pragma once

#include "ops/irfft.h"

#include <ggml.h>

#include <memory>
#include <string>

struct codec_istft {
    ggml_tensor * basis  = nullptr;  // [N + 2, R * hop] F32: rows re(0..N/2), im(0..N/2)
    ggml_tensor * win_sq = nullptr;  // [R * hop] F32: window^2, zero past N
    ggml_tensor * window = nullptr;  // [N] F32, optional (GGUFs converted before it have none)
    std::shared_ptr<const codec_irfft> fft;  // with the window: the CPU's FFT path
    int n_fft = 0, hop = 0;
    bool center = false;
};

// Output length for T frames.
int64_t codec_istft_out_len(const codec_istft & s, int64_t T);

// Vocos' head after its linear layer: x [N + 2, T] holds log-magnitudes (first N/2 + 1 rows)
// and phases (the rest); magnitude = min(exp(.), 100). Returns the signal [n_out]. A batch x
// [N + 2, T, B] (B sequences of T frames) returns [n_out, B].
ggml_tensor * codec_istft_head(ggml_context * ctx, const codec_istft & s, ggml_tensor * x);

// The whole ISTFTHead: its linear layer (dim -> N + 2) and the inverse STFT.
struct codec_vocos_head {
    ggml_tensor * w = nullptr, * b = nullptr;  // [dim, N + 2], [N + 2]
    codec_istft istft;
};

// x [dim, T] -> the signal [n_out] (a batch [dim, T, B] -> [n_out, B]).
ggml_tensor * codec_vocos_head_forward(ggml_context * ctx, const codec_vocos_head & h, ggml_tensor * x);

class codec_model_loader;
// "<prefix>.basis" [N + 2, R * hop], "<prefix>.window_sq" [R * hop] and, if the file has it,
// "<prefix>.window" [N], all F32. zero_edge_bins: the model zeroes DC and Nyquist (as its basis).
codec_istft codec_load_istft(codec_model_loader & ld, const std::string & prefix, int n_fft, int hop, bool center,
                             bool zero_edge_bins);
// "<prefix>.out.{weight, bias}" and "<prefix>.istft.*" (codec_load_istft).
codec_vocos_head codec_load_vocos_head(codec_model_loader & ld, const std::string & prefix, int dim, int n_fft, int hop,
                                       bool center, bool zero_edge_bins);
