#!/usr/bin/env sh
# Rebuilds every golden fixture of fixtures/ (fixtures/README.md):
#   - the Rust-generated family (value_stability.json) through `gumbel-audit fixtures regenerate`;
#   - the mpmath-oracle families through scripts/fixtures-oracle/run.sh (a private venv with the
#     pinned mpmath, created on first use; needs python3 and PyPI on first use);
# then checks the reference against all of them (`gumbel-audit fixtures check`).
#
# Usage: scripts/regenerate-fixtures.sh [DIR]      (default: fixtures)
#
# Deterministic: running it twice gives byte-identical files. The statistics fixtures of
# fixtures/stats/ come from scripts/scipy-oracle/run.sh (about 1.5 minutes, Monte Carlo); set
# WITH_STATS=1 to rebuild them too.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/fixtures}
cd "$repo"
cargo run --release --locked --quiet -- fixtures regenerate --dir "$dir"
"$repo/scripts/fixtures-oracle/run.sh" "$dir"
if [ "${WITH_STATS:-0}" = 1 ]; then
    "$repo/scripts/scipy-oracle/run.sh" "$dir/stats"
fi
cargo run --release --locked --quiet -- fixtures check --dir "$dir"
