#!/usr/bin/env sh
# Creates the venv of the Ray driver (scripts/distributed/ray_audit.py) and prints the path of
# its python.
#
# Usage: scripts/distributed/setup.sh
#
# The venv lives in $RAY_VENV (default: <repo>/.venv-ray, ignored by git through /.venv*) and
# is created on first use with pip from PyPI; pip is a no-op when the pinned ray of
# requirements.txt is already installed. Messages go to stderr, the python path alone to
# stdout, so that `RAY_PYTHON=$(scripts/distributed/setup.sh)` works.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${RAY_VENV:-$repo/.venv-ray}
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv" >&2
    python3 -m venv "$venv" >&2
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
"$venv/bin/python" -c 'import ray' >&2
echo "$venv/bin/python"
