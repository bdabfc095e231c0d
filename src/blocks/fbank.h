// Kaldi-style log-mel filterbank front end (torchaudio.compliance.kaldi.fbank as the
// SeamlessM4T / w2v-BERT feature extractors call it: snip_edges, no dither, no energy), then
// per-bin mean / variance normalization over the utterance and stacking of frame pairs.
// As ggml ops on the signal:
//   frames        an im2col of the signal (frame_length samples every frame_shift);
//   spectrum      one matrix product with the converter's basis [frame_length, 2 * n_bins]: the
//                 real and imaginary DFT rows (n_fft = the next power of two) with the window,
//                 the pre-emphasis (first sample against itself), the DC-offset removal and the
//                 input scale (2^15) folded in, all linear in the frame;
//   power         re^2 + im^2; mel energies = the mel matrix [n_bins, n_mel] times it;
//   log           log(max(energy, FLT_EPSILON));
//   normalize     (x - mean) / sqrt(var + 1e-7) per mel bin over all frames (var unbiased);
//   stack         frames 2k and 2k + 1 side by side: [stack * n_mel, F / stack].
#pragma once

#include <ggml.h>

#include <string>

struct codec_fbank {
    int frame_length = 0, frame_shift = 0, n_bins = 0, n_mel = 0, stack = 1;
    ggml_tensor * basis = nullptr;  // [frame_length, 2 * n_bins]
    ggml_tensor * mel = nullptr;    // [n_bins, n_mel]
};

// Frames of a signal of n samples (snip_edges): 1 + (n - frame_length) / frame_shift, 0 when shorter.
int64_t codec_fbank_frames(const codec_fbank & fb, int64_t n);

// signal [n] (already padded as the model wants) -> features [stack * n_mel, F / stack].
// F must be a positive multiple of `stack`, at least 2 (the unbiased variance).
ggml_tensor * codec_fbank_forward(ggml_context * ctx, const codec_fbank & fb, ggml_tensor * signal);

class codec_model_loader;
// "<prefix>.basis", "<prefix>.mel" (f32), with the sizes already set in fb.
bool codec_load_fbank(codec_model_loader & ld, const std::string & prefix, codec_fbank & fb);
