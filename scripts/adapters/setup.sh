#!/usr/bin/env sh
# Creates the venv of the NumPy adapter and prints the path of its python.
#
# Usage: scripts/adapters/setup.sh
#
# The venv lives in $ADAPTER_VENV (default: <repo>/.venv-adapters, ignored by git through
# /.venv*) and is created on first use with pip from PyPI; pip is a no-op when the pinned numpy
# of requirements.txt is already installed. Messages go to stderr, the python path alone to
# stdout, so that `GUMBEL_AUDIT_PYTHON=$(scripts/adapters/setup.sh)` works.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${ADAPTER_VENV:-$repo/.venv-adapters}
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv" >&2
    python3 -m venv "$venv" >&2
    # The build script (build.rs) decides whether the numpy tests run or show as ignored; make
    # cargo run it again now that the venv exists.
    touch "$repo/build.rs"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
"$venv/bin/python" -c 'import numpy' >&2
echo "$venv/bin/python"
