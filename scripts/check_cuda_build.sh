#!/usr/bin/env bash
# Compile-and-link check of the CUDA build (-DCODEC_CUDA=ON) against a prebuilt ggml with the CUDA
# backend (default ../shared/ggml-cuda, see its README; or $CODEC_GGML_CUDA): no GPU needed, so the
# CUDA configuration keeps building on CPU-only machines. Exits 0 saying "skipped" when the prebuilt
# ggml or the CUDA toolkit's libraries (for the link) are not on this machine.
#   bash scripts/check_cuda_build.sh            # into build-cuda/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SRC="${CODEC_GGML_CUDA:-$ROOT/../shared/ggml-cuda}"
CUDA_LIB="${CUDA_HOME:-/usr/local/cuda}/lib64"
if [ ! -d "$SRC/lib/cmake/ggml" ]; then echo "== CUDA build check skipped: no prebuilt CUDA ggml at $SRC"; exit 0; fi
if [ ! -e "$CUDA_LIB/stubs/libcuda.so" ]; then echo "== CUDA build check skipped: no CUDA toolkit at $CUDA_LIB"; exit 0; fi

OUT="$ROOT/build-cuda"
GGML="$OUT/ggml-cuda"
mkdir -p "$OUT/stubs"
if [ ! -e "$GGML/lib/libggml-cuda.so.0.20.2" ]; then
    rm -rf "$GGML"
    cp -a "$SRC" "$GGML"
    chmod -R u+w "$GGML"
    xz -dk "$GGML/lib/libggml-cuda.so.0.20.2.xz"
    # The shared copy stores the soname links as small text files naming their target: relink them.
    for f in "$GGML"/lib/*.so*; do
        [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c %s "$f")" -lt 256 ] || continue
        target="$(cat "$f")"
        [ -e "$GGML/lib/$target" ] && ln -sf "$target" "$f"
    done
fi
# The driver library (libcuda.so.1) exists only where a GPU is: link against the toolkit's stub.
ln -sf "$CUDA_LIB/stubs/libcuda.so" "$OUT/stubs/libcuda.so.1"

echo "== CUDA build check: build-cuda/ against $SRC"
cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=Release -Dggml_DIR="$GGML/lib/cmake/ggml" -DCODEC_CUDA=ON \
      -DCODEC_PYTHON="$ROOT/.venv/bin/python" -DCODEC_BUILD_TESTS=OFF \
      -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$OUT/stubs:$CUDA_LIB" \
      -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$OUT/stubs:$CUDA_LIB" >/dev/null
cmake --build "$OUT" -j"$(nproc)"
# The library must resolve ggml from the CUDA build (not the venv's CPU one) and its CUDA backend.
LD_LIBRARY_PATH="$GGML/lib:$CUDA_LIB:$OUT/stubs" ldd "$OUT/libcodec.so" | grep -q "$GGML/lib/libggml.so" \
    || { echo "libcodec.so does not resolve the CUDA ggml" >&2; exit 1; }
LD_LIBRARY_PATH="$GGML/lib:$CUDA_LIB:$OUT/stubs" ldd "$GGML/lib/libggml.so" | grep -q "libggml-cuda" \
    || { echo "the CUDA ggml does not link its CUDA backend" >&2; exit 1; }
# It loads and runs without a GPU (the stub driver: ggml's CUDA init fails, the CPU backend serves).
LD_LIBRARY_PATH="$GGML/lib:$CUDA_LIB:$OUT/stubs" "$OUT/bin/codec-cli" --help >/dev/null
echo "== CUDA build check passed: build-cuda/libcodec.so and build-cuda/bin/codec-cli link the CUDA backend"
