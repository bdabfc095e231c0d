#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, coverage) into build-fuzz/ and makes the
# tiny models and seed corpora under build-fuzz/fuzz-work/. Needs scripts/setup.sh first and
# clang with libclang-rt (apt: clang libclang-rt-14-dev, or the clang package of the release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VPY="$ROOT/.venv/bin/python"
GGML_DIR="$("$VPY" -c 'import libggml, os; print(os.path.join(os.path.dirname(libggml.__file__), "lib", "cmake", "ggml"))')"
B="${CODEC_FUZZ_BUILD:-build-fuzz}"
CC=clang CXX=clang++ cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -Dggml_DIR="$GGML_DIR" \
    -DCODEC_PYTHON="$VPY" -DCODEC_FUZZ=ON -DCODEC_SANITIZE=ON \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
targets=(fuzz_gguf fuzz_npy fuzz_npz fuzz_audio fuzz_decode fuzz_encode fuzz_stream)
cmake --build "$B" -j"${CODEC_FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}"
"$VPY" fuzz/make_models.py "$B/fuzz-work/models"
"$VPY" fuzz/make_seeds.py "$B/fuzz-work/models" "$B/fuzz-work/seeds"
echo "== fuzz targets in $B/fuzz/, models and seeds in $B/fuzz-work/"
