#!/usr/bin/env bash
# Makes (idempotently) the pinned reference environment .venv-ref-NAME from
# requirements/ref-NAME.lock, for a PyTorch reference whose pins differ from the main venv's
# (the tests run it in a subprocess through tests/fixtures/ref_env.py).
#   bash scripts/ref_venv.sh NAME
set -euo pipefail
# Wheels are not cached: a second copy of torch and its CUDA libraries would cost GBs of disk.
export PIP_NO_CACHE_DIR="${PIP_NO_CACHE_DIR:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="$1"
LOCK="$ROOT/requirements/ref-$NAME.lock"
VENV="$ROOT/.venv-ref-$NAME"
[ -f "$LOCK" ] || { echo "no $LOCK" >&2; exit 2; }
if cmp -s "$LOCK" "$VENV/.requirements.lock" 2>/dev/null; then exit 0; fi
echo "== reference venv $NAME: installing $LOCK"
[ -x "$VENV/bin/python" ] || "${CODEC_PYTHON_BOOTSTRAP:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# A lock is a whole frozen closure: no resolution (a reference package's app-level deps stay out).
"$VENV/bin/python" -m pip install -q --no-deps -r "$LOCK"
# "# borrow-from-main-venv: ..." in the lock: the main venv's packages come last on sys.path (its
# torch, pinned in requirements.lock), so the lock's own pins always win.
if grep -q '^# borrow-from-main-venv' "$LOCK"; then
    SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    MAIN="$("$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$MAIN" > "$SITE/zz_borrow_main_venv.pth"
fi
# "# link-from-main-venv: DIR ...": top-level site-packages dirs symlinked from the main venv. For
# torch's CUDA libraries (nvidia/, ~3 GB, never used on CPU but needed for torch to import): the
# same major CUDA (13) as the main venv's torch, so one copy serves both.
LINKS="$(sed -n 's/^# link-from-main-venv: *//p' "$LOCK")"
if [ -n "$LINKS" ]; then
    SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    MAIN="$("$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    for d in $LINKS; do
        [ -e "$MAIN/$d" ] || { echo "link-from-main-venv: $MAIN/$d missing" >&2; exit 2; }
        rm -rf "${SITE:?}/$d"
        ln -s "$MAIN/$d" "$SITE/$d"
    done
fi
cp "$LOCK" "$VENV/.requirements.lock"
