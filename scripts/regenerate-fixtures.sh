#!/usr/bin/env sh
# Rebuilds every golden fixture of fixtures/ (fixtures/README.md):
#   - the Rust-generated family (value_stability.json) through `gumbel-audit fixtures regenerate`;
#   - the mpmath-oracle families through scripts/fixtures-oracle/run.sh (a private venv with the
#     pinned mpmath, created on first use; needs python3 and PyPI on first use);
#   - the statistics family, fixtures/stats/*.json, through scripts/scipy-oracle/run.sh (its own
#     venv with the pinned scipy, numpy and mpmath; about 1.5 minutes of Monte Carlo, a few more
#     on first use to install); set SKIP_STATS=1 to keep the committed files;
# then checks the reference against all of them (`gumbel-audit fixtures check`).
#
# Usage: scripts/regenerate-fixtures.sh [DIR]      (default: fixtures)
#        SKIP_STATS=1 scripts/regenerate-fixtures.sh [DIR]
#
# Deterministic: running it twice gives byte-identical files. With SKIP_STATS=1 and a DIR other
# than fixtures/, DIR/stats must already hold the statistics files for the check to pass.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/fixtures}
cd "$repo"
cargo run --release --locked --quiet -- fixtures regenerate --dir "$dir"
"$repo/scripts/fixtures-oracle/run.sh" "$dir"
if [ "${SKIP_STATS:-0}" != 1 ]; then
    "$repo/scripts/scipy-oracle/run.sh" "$dir/stats"
fi
cargo run --release --locked --quiet -- fixtures check --dir "$dir"
