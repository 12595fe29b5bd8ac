#!/usr/bin/env bash
# Audits real Gumbel / Concrete implementations (PyTorch, JAX, TFP on JAX, NumPyro, Pyro) with
# `gumbel-audit audit` and writes the reports to docs/audits/<target>/.
#
# Usage: scripts/audit-frameworks.sh [TARGET...]     (default: every target below, and `rust`)
#
#   TARGET `rust` runs the in-process Rust audits (rand_distr, statrs, candle) of
#   scripts/rust-audits/ (a separate crate; its first build compiles candle, about 11 minutes on
#   2 cores) and writes docs/audits/{rand_distr,rand_distr_f32,statrs,candle}/.
#
#   Environment: FRAMEWORKS_VENV (default <repo>/.venv-frameworks, ignored by git via /.venv*),
#                FRAMEWORKS_PIP (default 1; 0 = use the venv as it is, install nothing),
#                SEED (master seed, default 0), JOBS (workers = adapter processes, default 2),
#                CARGO_TARGET_DIR (as cargo uses it).
#
# Creates its own venv with pip from PyPI (pinned: scripts/adapters/requirements-frameworks.txt;
# torch from PyPI pulls its CUDA libraries, about 5 GB, and runs on the CPU), builds the release
# binary, and runs each target's audit. With FRAMEWORKS_PIP=0 and a venv holding only some of
# the frameworks (say jax and numpyro), a target whose framework does not import is skipped with
# a message and its committed report is left as it is; naming such a target is an error (exit 2). Per target it writes report.md (with the versions and
# the exact command appended), report.json, the SVG plots and summary.txt (the table). An audit
# whose checks fail exits 1: that is a finding, recorded, and the script goes on. Not run in CI.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv=${FRAMEWORKS_VENV:-$repo/.venv-frameworks}
seed=${SEED:-0}
jobs=${JOBS:-2}
req=scripts/adapters/requirements-frameworks.txt

avail_kb=$(df -Pk "$repo" | awk 'NR == 2 { print $4 }')
pip_install=${FRAMEWORKS_PIP:-1}
if [ "$pip_install" != 0 ] && [ ! -x "$venv/bin/python" ] && [ "$avail_kb" -lt $((12 * 1024 * 1024)) ]; then
    echo "audit-frameworks: need about 12 GB free for the venv (torch with CUDA libraries); $((avail_kb / 1024)) MB free" >&2
    exit 2
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv" >&2
    python3 -m venv "$venv"
fi
if [ "$pip_install" != 0 ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
fi
py="$venv/bin/python"
# The python shown in the reports' commands: relative to the repository when the venv is in it.
py_shown=${py#"$repo"/}

cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$repo/target}/release/gumbel-audit"

# name | level | python modules it needs | adapter script and arguments
targets=(
    "torch-functional-float32|standard|torch|torch_functional.py --dtype float32"
    "torch-functional-float32-thorough|thorough|torch|torch_functional.py --dtype float32"
    "torch-functional-float64|standard|torch|torch_functional.py --dtype float64"
    "torch-distributions-float32|standard|torch|torch_distributions.py --dtype float32"
    "torch-distributions-float32-thorough|thorough|torch|torch_distributions.py --dtype float32"
    "torch-distributions-float64|standard|torch|torch_distributions.py --dtype float64"
    "torch-functional-bfloat16|standard|torch|torch_functional.py --dtype bfloat16"
    "torch-functional-float16|standard|torch|torch_functional.py --dtype float16"
    "torch-distributions-bfloat16|standard|torch|torch_distributions.py --dtype bfloat16"
    "torch-distributions-float16|standard|torch|torch_distributions.py --dtype float16"
    "jax-random-low|standard|jax|jax_random.py --mode low"
    "jax-random-low-thorough|thorough|jax|jax_random.py --mode low"
    "jax-random-high|standard|jax|jax_random.py --mode high"
    "jax-random-high-thorough|thorough|jax|jax_random.py --mode high"
    "jax-random-low-deep|deep|jax|jax_random.py --mode low"
    "jax-random-high-deep|deep|jax|jax_random.py --mode high"
    "torch-functional-float32-deep|deep|torch|torch_functional.py --dtype float32"
    "torch-distributions-float32-deep|deep|torch|torch_distributions.py --dtype float32"
    "tokens-hf-float32|standard|transformers|torch_tokens.py --sampler hf --dtype float32"
    "tokens-hf-bfloat16|standard|transformers|torch_tokens.py --sampler hf --dtype bfloat16"
    "tokens-race-float32|standard|transformers|torch_tokens.py --sampler race --dtype float32"
    "tokens-race-bfloat16|standard|transformers|torch_tokens.py --sampler race --dtype bfloat16"
    "tokens-race-float64|standard|transformers|torch_tokens.py --sampler race --dtype float64"
    "tokens-gumbel-float32|standard|transformers|torch_tokens.py --sampler gumbel --dtype float32"
    "tokens-gumbel-bfloat16|standard|transformers|torch_tokens.py --sampler gumbel --dtype bfloat16"
    "tokens-gumbel-float64|standard|transformers|torch_tokens.py --sampler gumbel --dtype float64"
    "jax-random-low-float16|standard|jax|jax_random.py --mode low --dtype float16"
    "tfp-jax|standard|tensorflow_probability.substrates.jax|tfp_jax.py"
    "tfp-jax-thorough|thorough|tensorflow_probability.substrates.jax|tfp_jax.py"
    "tfp-jax-validate-args|standard|tensorflow_probability.substrates.jax|tfp_jax.py --validate-args"
    "numpyro|standard|numpyro|numpyro_adapter.py"
    "numpyro-validate-args|standard|numpyro|numpyro_adapter.py --validate-args"
    "pyro|standard|pyro|pyro_adapter.py"
)

versions=$("$py" - <<'PY'
import importlib.metadata as m, platform
print("python %s" % platform.python_version())
for p in ["torch", "jax", "jaxlib", "tfp-nightly", "numpyro", "pyro-ppl", "numpy", "transformers"]:
    try:
        print("%s %s" % (p, m.version(p)))
    except m.PackageNotFoundError:
        print("%s not installed" % p)
PY
)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)

status=0
for t in "${targets[@]}"; do
    IFS='|' read -r name level module adapter <<<"$t"
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
        continue
    fi
    if ! "$py" -c "import $module" 2>/dev/null; then
        echo "== $name: skipped, $module does not import in $venv (docs/audits/$name left as it was)" >&2
        if [ $# -gt 0 ]; then status=2; fi
        continue
    fi
    out=docs/audits/$name
    rm -rf "$out"
    mkdir -p "$out"
    # shellcheck disable=SC2206
    args=($adapter)
    args[0]=scripts/adapters/${args[0]}
    cmd=(gumbel-audit audit --level "$level" --seed "$seed" --jobs "$jobs" --json "$out/report.json" --report "$out" --quiet -- "$py_shown" "${args[@]}")
    echo "== $name ($level)" >&2
    start=$(date +%s)
    rc=0
    load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
    "$bin" audit --level "$level" --seed "$seed" --jobs "$jobs" --json "$out/report.json" --report "$out" --quiet \
        -- "$py" "${args[@]}" >"$out/summary.txt" 2>"$out/stderr.txt" || rc=$?
    secs=$(( $(date +%s) - start ))
    cat "$out/summary.txt" >&2
    {
        echo
        echo "## How this report was produced"
        echo
        echo "- command (from the repository root, after scripts/audit-frameworks.sh made the venv $py_shown):"
        echo "  \`${cmd[*]}\`"
        echo "- exit code $rc, $secs s wall clock on $(uname -m) ($(nproc) cores), $(date -u +%Y-%m-%dT%H:%MZ); load average before the run: $load_before"
        echo "- gumbel-audit commit $commit"
        echo "- versions:"
        while IFS= read -r v; do echo "  - $v"; done <<<"$versions"
    } >>"$out/report.md"
    [ -s "$out/stderr.txt" ] || rm -f "$out/stderr.txt"
    if [ "$rc" -eq 2 ]; then status=2; fi
done

if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx rust; then
    echo "== rust (rand_distr, statrs, candle; in process)" >&2
    rc=0
    (cd scripts/rust-audits && cargo run --release --quiet -- all --out ../../docs/audits) || rc=$?
    # Exit code 1 means an audited check failed (a finding); 2 an error.
    if [ "$rc" -ge 2 ]; then status=2; fi
fi
exit "$status"
