#!/usr/bin/env bash
# Sets up (if needed), builds, and runs every test: C++ unit tests (ctest) and the
# parity tests against the PyTorch references (pytest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh

echo "== ctest"
(cd build && ctest --output-on-failure -j2)

echo "== pytest"
export CODEC_LIB="$ROOT/build/libcodec.so"
.venv/bin/python -m pytest -q tests/python "$@"
