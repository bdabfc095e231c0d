#!/usr/bin/env bash
# Main job: set up everything on a fresh machine, then run the offline demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
"$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py"
