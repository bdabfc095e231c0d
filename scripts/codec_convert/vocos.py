"""Vocos-family pieces shared by the WavTokenizer and Soprano converters: the ConvNeXt stack,
LayerNorms and the ISTFT head's precomputed inverse-DFT basis (src/blocks/istft.h)."""
import math

import numpy as np
import torch

from .common import ConvertError, cm_conv_weight


def istft_basis(window, n_fft, hop, zero_edge_bins=False):
    """(R * hop, n_fft + 2) float32 matrix = ggml [n_fft + 2, R * hop], R = ceil(n_fft / hop):
    windowed irfft of [re(0..N/2), im(0..N/2)] as one product, computed in float64. irfft sums
    c_k (Re X_k cos - Im X_k sin)(2 pi k n / N) / N with c_k = 1 at DC and Nyquist (whose
    imaginary parts it ignores), 2 between. zero_edge_bins: the model zeroes DC and Nyquist
    before its ISTFT (Soprano). Also returns window^2 padded to R * hop."""
    w = np.asarray(window, dtype=np.float64).reshape(-1)
    if w.shape[0] != n_fft:
        raise ConvertError(f"ISTFT window has {w.shape[0]} samples, n_fft is {n_fft} (win_length != n_fft is not supported)")
    nb = n_fft // 2 + 1
    n = np.arange(n_fft)
    k = np.arange(nb)
    ang = 2 * math.pi * ((k[:, None] * n[None, :]) % n_fft) / n_fft  # integer phase first: exact
    c = np.full(nb, 2.0)
    c[0] = c[-1] = 1.0
    re = c[:, None] * np.cos(ang) / n_fft * w[None, :]
    im = -c[:, None] * np.sin(ang) / n_fft * w[None, :]
    im[0] = im[-1] = 0.0
    if zero_edge_bins:
        re[0] = re[-1] = 0.0
    R = -(-n_fft // hop)
    basis = np.zeros((R * hop, 2 * nb))
    basis[:n_fft, :nb] = re.T
    basis[:n_fft, nb:] = im.T
    wsq = np.zeros(R * hop)
    wsq[:n_fft] = w ** 2
    return basis.astype(np.float32), wsq.astype(np.float32)


def check_envelope(window, n_fft, hop, center):
    """The overlap-added window^2 must be nonzero where the output is kept (the reference asserts
    it: NOLA); a window and hop that break it cannot be converted."""
    w2 = np.asarray(window, dtype=np.float64) ** 2
    R = -(-n_fft // hop)
    env = np.zeros((R + 4) * hop + n_fft)
    for t in range(R + 4):
        env[t * hop:t * hop + n_fft] += w2
    pad = n_fft // 2 if center else (n_fft - hop) // 2
    if not (env[pad:pad + 4 * hop] > 1e-11).all():
        raise ConvertError("the ISTFT window does not overlap-add to a nonzero envelope at this hop")


def write_head(out, get, prefix, out_prefix, n_fft, hop, center, zero_edge_bins):
    """ISTFTHead: the linear layer (ggml [dim, n_fft + 2]) and the ISTFT constants."""
    w = get(prefix + ".out.weight")
    if w.shape[0] != n_fft + 2:
        raise ConvertError(f"'{prefix}.out.weight' has {w.shape[0]} outputs; n_fft {n_fft} needs {n_fft + 2}")
    out.tensor(out_prefix + ".out.weight", w, matmul=True)
    out.tensor(out_prefix + ".out.bias", get(prefix + ".out.bias"))
    write_istft(out, out_prefix + ".istft", get(prefix + ".istft.window").double().numpy(), n_fft, hop, center,
                zero_edge_bins)


def write_istft(out, out_prefix, window, n_fft, hop, center, zero_edge_bins=False):
    """The ISTFT constants of src/blocks/istft.h: "<out_prefix>.basis" and ".window_sq" (the dense
    inverse DFT), and ".window" (the CPU's FFT path, src/ops/irfft.h)."""
    check_envelope(window, n_fft, hop, center)
    basis, wsq = istft_basis(window, n_fft, hop, zero_edge_bins)
    out.tensor(out_prefix + ".basis", basis)
    out.tensor(out_prefix + ".window_sq", wsq)
    out.tensor(out_prefix + ".window", np.asarray(window, dtype=np.float32).reshape(-1))


def write_layer_norm(out, get, prefix, out_prefix):
    out.tensor(out_prefix + ".weight", get(prefix + ".weight"))
    out.tensor(out_prefix + ".bias", get(prefix + ".bias"))


def write_ada_norm(out, get, prefix, out_prefix):
    out.tensor(out_prefix + ".scale.weight", get(prefix + ".scale.weight"))  # [n, C] = ggml [C, n]
    out.tensor(out_prefix + ".shift.weight", get(prefix + ".shift.weight"))


def write_convnext(out, get, prefix, out_prefix, ada):
    """ConvNeXtBlock (src/blocks/convnext.h): depthwise conv [C, 1, K] -> ggml [C, K]; Linear
    weights [out, in] are already ggml [in, out]. Returns the depthwise kernel size."""
    dw = get(prefix + ".dwconv.weight")
    if dw.dim() != 3 or dw.shape[1] != 1:
        raise ConvertError(f"'{prefix}.dwconv.weight' is not a depthwise conv")
    out.tensor(out_prefix + ".dwconv.weight", dw[:, 0, :].t())
    out.tensor(out_prefix + ".dwconv.bias", get(prefix + ".dwconv.bias"))
    if ada:
        write_ada_norm(out, get, prefix + ".norm", out_prefix + ".norm")
    else:
        write_layer_norm(out, get, prefix + ".norm", out_prefix + ".norm")
    for lin in ("pwconv1", "pwconv2"):
        out.tensor(f"{out_prefix}.{lin}.weight", get(f"{prefix}.{lin}.weight"), matmul=True)
        out.tensor(f"{out_prefix}.{lin}.bias", get(f"{prefix}.{lin}.bias"))
    out.tensor(out_prefix + ".gamma", get(prefix + ".gamma"))
    return dw.shape[-1]


def write_conv(out, get, prefix, out_prefix):
    """A stride-1 Conv1d in codec_cm_conv1d's layout; returns its kernel size."""
    w = get(prefix + ".weight")
    out.tensor(out_prefix + ".weight", cm_conv_weight(w, 1, prefix), matmul=True)
    out.tensor(out_prefix + ".bias", get(prefix + ".bias"))
    return w.shape[-1]


def write_gn_resblock(out, get, prefix, out_prefix):
    """The pos_net / prior_net ResNet block (src/blocks/resnet_gn.h): GroupNorms norm1, norm2 and
    the k3 convs conv1, conv2."""
    for n in ("norm1", "norm2"):
        write_layer_norm(out, get, f"{prefix}.{n}", f"{out_prefix}.{n}")
    for c in ("conv1", "conv2"):
        if write_conv(out, get, f"{prefix}.{c}", f"{out_prefix}.{c}") != 3:
            raise ConvertError(f"{prefix}.{c}: ResNet block convs have kernel 3")


def count(sd, prefix):
    """Number of consecutive submodules prefix0, prefix1, ... present in the state dict."""
    n = 0
    while any(k.startswith(f"{prefix}{n}.") for k in sd):
        n += 1
    return n


__all__ = ["istft_basis", "write_head", "write_istft", "write_layer_norm", "write_ada_norm", "write_convnext", "write_conv", "write_gn_resblock", "count",
           "torch"]
