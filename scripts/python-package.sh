#!/usr/bin/env bash
# Builds the Python package gumbel_audit (python/) into a wheel, installs it into a venv and runs
# its pytest suite. Exits non-zero on any failure; the last line is pytest's summary.
#
# Usage: scripts/python-package.sh            (venv: $PYTHON_VENV, default <repo>/.venv-python)
#
# Steps: make the venv (python3 -m venv) and pip install the pinned maturin, numpy and pytest of
# python/requirements.txt; `maturin build --release --locked` the wheel into target/wheels/ (the
# extension module carries the audit, the reference and the `gumbel-audit` command line);
# install it; run `pytest python/tests -q`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv=${PYTHON_VENV:-$repo/.venv-python}
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv" >&2
    python3 -m venv "$venv"
fi
echo "== pinned build and test tools (python/requirements.txt)" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements.txt
echo "== wheel" >&2
rm -f target/wheels/gumbel_audit-*.whl
"$venv/bin/maturin" build --release --locked --quiet -m python/Cargo.toml -i "$venv/bin/python" --out target/wheels
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/gumbel_audit-*.whl
echo "== pytest python/tests" >&2
# From the repository root: python/tests is on sys.path, python/ is not, so `import gumbel_audit`
# is the installed wheel, not the source tree.
"$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider
