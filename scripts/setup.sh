#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian machine: system packages, the project venv
# with pinned Python packages, ggml built natively from its PyPI sdist, and the C++ build.
#   bash scripts/setup.sh            # CPU build in build/
#   CODEC_BUILD_TYPE=Debug bash scripts/setup.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

GGML_PKG="libggml-python==0.20.2.post1"
GGML_FLAGS=(-C cmake.define.GGML_NATIVE=ON -C cmake.define.GGML_LLAMAFILE=ON -C cmake.define.GGML_OPENMP=ON)
APT_PKGS=(build-essential cmake ninja-build pkg-config git python3-venv libsndfile1-dev libsoxr-dev sox
          espeak-ng googletest libgtest-dev)

missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== apt: installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# No wheel cache: torch and its CUDA libraries alone would leave several GB in ~/.cache/pip.
export PIP_NO_CACHE_DIR="${PIP_NO_CACHE_DIR:-1}"
PY="${CODEC_PYTHON_BOOTSTRAP:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "== venv: creating .venv"
    "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
if ! cmp -s requirements.lock .venv/.requirements.lock 2>/dev/null; then
    echo "== pip: installing requirements.lock"
    "$VPY" -m pip install -q --upgrade pip
    # The lock is the whole frozen closure (less triton, which only torch.compile imports: 1 GB).
    "$VPY" -m pip install -q --no-deps -r requirements.lock
    cp requirements.lock .venv/.requirements.lock
fi

# Pinned reference environments for references whose pins differ from the main venv's
# (requirements/ref-NAME.lock -> .venv-ref-NAME; the tests run them in a subprocess).
for lock in requirements/ref-*.lock; do
    [ -e "$lock" ] || continue
    name="$(basename "$lock" .lock)"; name="${name#ref-}"
    bash scripts/ref_venv.sh "$name"
done

# ggml: built from the sdist so the CPU code fits this machine and has llamafile's GEMM.
# The marker records the CPU it was built for; a different CPU rebuilds it.
STAMP="$GGML_PKG ${GGML_FLAGS[*]} $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true)"
if [ "$(cat .venv/.ggml-build 2>/dev/null)" != "$STAMP" ]; then
    echo "== pip: building $GGML_PKG from source (about 2 min)"
    "$VPY" -m pip install -q --no-cache-dir --force-reinstall --no-deps --no-binary libggml-python "$GGML_PKG" "${GGML_FLAGS[@]}"
    echo "$STAMP" > .venv/.ggml-build
fi
GGML_DIR="$("$VPY" -c 'import libggml, os; print(os.path.join(os.path.dirname(libggml.__file__), "lib", "cmake", "ggml"))')"

echo "== cmake: configuring and building build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CODEC_BUILD_TYPE:-Release}" -Dggml_DIR="$GGML_DIR" \
      -DCODEC_PYTHON="$VPY" >/dev/null
cmake --build build -j"$(nproc)"
echo "== set-up done: library build/libcodec.so, CLI build/bin/codec-cli, venv .venv"
