#!/usr/bin/env bash
# Makes (idempotently) the pinned reference environment .venv-ref-NAME from
# requirements/ref-NAME.lock, for a PyTorch reference whose pins differ from the main venv's
# (the tests run it in a subprocess through tests/fixtures/ref_env.py).
#   bash scripts/ref_venv.sh NAME
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="$1"
LOCK="$ROOT/requirements/ref-$NAME.lock"
VENV="$ROOT/.venv-ref-$NAME"
[ -f "$LOCK" ] || { echo "no $LOCK" >&2; exit 2; }
if cmp -s "$LOCK" "$VENV/.requirements.lock" 2>/dev/null; then exit 0; fi
echo "== reference venv $NAME: installing $LOCK"
[ -x "$VENV/bin/python" ] || "${CODEC_PYTHON_BOOTSTRAP:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r "$LOCK"
cp "$LOCK" "$VENV/.requirements.lock"
