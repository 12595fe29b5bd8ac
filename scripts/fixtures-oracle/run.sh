#!/usr/bin/env sh
# Regenerates the mpmath-oracle fixtures (fixtures/*.json except value_stability.json, which
# `gumbel-audit fixtures regenerate` writes) with the pinned version of requirements.txt.
#
# Usage: scripts/fixtures-oracle/run.sh [OUTPUT_DIR]        (default: fixtures)
#
# The venv lives in $FIXTURES_VENV (default: <repo>/.venv-fixtures, ignored by git through
# /.venv*) and is created on first use with pip from PyPI. The output is deterministic: a
# second run gives byte-identical files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${FIXTURES_VENV:-$repo/.venv-fixtures}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# pip is a no-op when the pinned version is already installed.
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
exec "$venv/bin/python" "$here/generate.py" "${1:-$repo/fixtures}"
