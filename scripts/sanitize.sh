#!/usr/bin/env bash
# Sanitizer suite (after scripts/setup.sh):
#   1. ASan + UBSan (build-asan): the library, CLI and every unit test, fuzz regression replays included.
#   2. TSan (build-tsan): the thread test (tests/unit/test_threads.cpp) only, to keep CI time small.
# ggml itself is not instrumented in either. The TSan build links the same natively built
# libggml (OpenMP on); it loads and passes with GCC 12's libtsan here. TSan runtimes before
# GCC 14 / LLVM 18 can crash at start-up (in ld.so, before main) when the kernel randomizes
# mmap with more bits than their fixed shadow layout allows (vm.mmap_rnd_bits = 32), so the
# run disables ASLR for itself where the kernel lets it (setarch -R).
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

echo "== TSan: build-tsan (thread test)"
tsan=(-fsanitize=thread -fno-omit-frame-pointer)
cmake -S . -B build-tsan "${common[@]}" -DCODEC_BUILD_CLI=OFF -DCMAKE_C_FLAGS="${tsan[*]}" -DCMAKE_CXX_FLAGS="${tsan[*]}" \
      -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan -j"$(nproc)" --target codec_unit_tests
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then no_aslr=(setarch "$(uname -m)" -R); fi
# make_tiny_model (the fixture) runs first; halt_on_error turns any report into a failure.
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "${no_aslr[@]}" \
     ctest --output-on-failure -R '^Threads(Streams)?\.')
