#!/usr/bin/env bash
# Sanitizer suite (after scripts/setup.sh): the library, CLI and unit tests (threads included)
# under ASan + UBSan. ggml itself is not instrumented. (A TSan build of the tests segfaults in
# the dynamic loader while relocating the natively built libggml: not usable here yet.)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VPY="$ROOT/.venv/bin/python"
GGML_DIR="$("$VPY" -c 'import libggml, os; print(os.path.join(os.path.dirname(libggml.__file__), "lib", "cmake", "ggml"))')"
common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -Dggml_DIR="$GGML_DIR" -DCODEC_PYTHON="$VPY")

echo "== ASan + UBSan: build-asan"
cmake -S . -B build-asan "${common[@]}" -DCODEC_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j2)

