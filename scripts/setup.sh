#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian machine: system packages, the project venv
# with pinned Python packages, ggml built natively from its PyPI sdist, and the C++ build.
#   bash scripts/setup.sh            # CPU build in build/
#   bash scripts/setup.sh --blas mkl # ggml with its BLAS backend on Intel's MKL (from PyPI): faster
#                                    # large F32 matrix products (docs/benchmarks.md); CODEC_BLAS=0 turns it off
#   CODEC_BUILD_TYPE=Debug bash scripts/setup.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BLAS=none
while [ $# -gt 0 ]; do
    case "$1" in
        --blas) BLAS="${2:-}"; shift 2 || shift ;;
        --blas=*) BLAS="${1#--blas=}"; shift ;;
        *) echo "usage: bash scripts/setup.sh [--blas mkl|none]" >&2; exit 2 ;;
    esac
done
case "$BLAS" in mkl|none) ;; *) echo "setup: --blas takes mkl or none, not '$BLAS'" >&2; exit 2 ;; esac

GGML_PKG="libggml-python==0.20.2.post1"
GGML_FLAGS=(-C cmake.define.GGML_NATIVE=ON -C cmake.define.GGML_LLAMAFILE=ON -C cmake.define.GGML_OPENMP=ON)
MKL_PKGS=(mkl==2026.2.0 mkl-include==2026.2.0)
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
[ "$BLAS" = none ] || STAMP="$STAMP blas=$BLAS ${MKL_PKGS[*]}"
if [ "$(cat .venv/.ggml-build 2>/dev/null)" != "$STAMP" ]; then
    BLAS_FLAGS=()
    BLAS_ENV=()
    if [ "$BLAS" = mkl ]; then
        echo "== pip: installing ${MKL_PKGS[*]} (MKL's libraries land in .venv/lib)"
        # No tbb / intel-openmp: the GNU OpenMP layer below needs neither.
        "$VPY" -m pip install -q --no-deps "${MKL_PKGS[@]}"
        VLIB="$ROOT/.venv/lib"
        # The wheels ship only versioned names (libmkl_core.so.N): give the linker plain ones.
        LINKS="$(mktemp -d)"
        trap 'rm -rf "$LINKS"' EXIT
        for n in mkl_intel_lp64 mkl_gnu_thread mkl_core; do
            lib="$(ls "$VLIB"/lib$n.so.* | head -1)"
            ln -s "$lib" "$LINKS/lib$n.so"
        done
        # Named libraries, because with GCC CMake's FindBLAS picks MKL's Intel OpenMP layer
        # (libiomp5), a second OpenMP runtime beside ggml's libgomp; the GNU layer shares ggml's.
        BLAS_FLAGS=(-C cmake.define.GGML_BLAS=ON -C cmake.define.GGML_BLAS_VENDOR=Intel10_64lp
                    -C "cmake.define.BLAS_INCLUDE_DIRS=$ROOT/.venv/include"
                    -C "cmake.define.BLAS_mkl_intel_lp64_LIBRARY=$LINKS/libmkl_intel_lp64.so"
                    -C "cmake.define.BLAS_mkl_intel_thread_LIBRARY=$LINKS/libmkl_gnu_thread.so"
                    -C "cmake.define.BLAS_mkl_core_LIBRARY=$LINKS/libmkl_core.so"
                    -C "cmake.define.BLAS_iomp5_LIBRARY=$(gcc -print-file-name=libgomp.so)")
        # libggml-blas.so finds MKL at run time in <venv>/lib, four levels above its own folder
        # (site-packages/libggml/lib); the link check finds MKL's own dependencies on LD_LIBRARY_PATH.
        BLAS_ENV=(LD_LIBRARY_PATH="$VLIB" LDFLAGS='-Wl,-rpath,\$ORIGIN/../../../..')
    fi
    echo "== pip: building $GGML_PKG from source (about 2 min)${BLAS_FLAGS:+, with BLAS ($BLAS)}"
    env "${BLAS_ENV[@]}" "$VPY" -m pip install -q --no-cache-dir --force-reinstall --no-deps --no-binary libggml-python \
        "$GGML_PKG" "${GGML_FLAGS[@]}" "${BLAS_FLAGS[@]}"
    echo "$STAMP" > .venv/.ggml-build
fi
GGML_DIR="$("$VPY" -c 'import libggml, os; print(os.path.join(os.path.dirname(libggml.__file__), "lib", "cmake", "ggml"))')"

echo "== cmake: configuring and building build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CODEC_BUILD_TYPE:-Release}" -Dggml_DIR="$GGML_DIR" \
      -DCODEC_PYTHON="$VPY" >/dev/null
cmake --build build -j"$(nproc)"
echo "== set-up done: library build/libcodec.so, CLI build/bin/codec-cli, venv .venv"
