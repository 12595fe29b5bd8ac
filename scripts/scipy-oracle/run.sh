#!/usr/bin/env sh
# Regenerates fixtures/stats/*.json from scipy with the pinned versions of requirements.txt.
#
# Usage: scripts/scipy-oracle/run.sh [OUTPUT_DIR]        (default: fixtures/stats)
#
# The venv lives in $ORACLE_VENV (default: <repo>/.venv-oracle, ignored by git through
# /.venv*) and is created on first use with pip from PyPI. The output is deterministic: a
# second run gives byte-identical files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${ORACLE_VENV:-$repo/.venv-oracle}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# pip is a no-op when the pinned versions are already installed.
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
exec "$venv/bin/python" "$here/generate.py" "${1:-$repo/fixtures/stats}"
