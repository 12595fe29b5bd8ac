"""gumbel_audit: a calibrated statistical audit of Gumbel-Max / Gumbel-Softmax implementations,
and the reference samplers at Rust speed (the Python face of the Rust crate gumbel-audit).

    import gumbel_audit
    report = gumbel_audit.audit(MySampler(), level="standard", seed=0)
    print(report)                     # the table `gumbel-audit audit` prints
    assert report.passed

A target is any object with some of these methods (adapter protocol v1's ops; arrays are NumPy
arrays, returned in the implementation's own dtype, never upcast or cleaned):

    gumbel(n, seed)                                  -> float [n]   standard Gumbel(0, 1) noise
    categorical(logits, n, seed)                     -> int   [n]   draws from Categorical(softmax(logits))
    relaxed_sample(logits, tau, n, seed, hard=False) -> float [n, k] softmax((logits + g)/tau);
                                                                    hard=True: the one-hot forward value
    relaxed_log_prob(logits, tau, y)                 -> float [m]   Concrete log density at each row of y [m, k]
    binary_sample(logit, tau, n, seed)               -> float [n]   sigmoid((logit + L)/tau), L ~ Logistic(0, 1)
    binary_log_prob(logit, tau, y)                   -> float [m]   its log density at each entry of y [m]
    grad(estimator, objective, logits, tau, n, seed, m=None) -> float [n, k]
                                                                    n single-sample estimates of d E[f]/d logits
    token_sample(logits, n, seed, temperature=1.0, top_k=None, top_p=None, min_p=None, order=None)
                                                     -> int   [n]   token ids of an LLM sampler (docs/tokens.md)

`logits` is a float64 array [k] (-inf masks a category), `logit` and `tau` floats, `n` and
`seed` ints (seed < 2**64; the same seed must give the same output), `objective` is
{"kind": "linear", "c": array} (f(z) = c.z) or {"kind": "quadratic", "target": array}
(f(z) = |z - t|^2), `m` is passed (by keyword) only for "gumbel_rao", `hard` only when True;
`token_sample` gets `temperature` always and `top_k`, `top_p`, `min_p`, `order` by keyword when
set (`order` "hf" or "vllm" when more than one truncation is active).
Attributes: `dtype = "float32" | "float64"` (required), `name` (free text), `estimators` (the
names `grad` accepts). The formulas and the densities' convention are those of
docs/adapter-protocol.md.

Verdicts: a missing method (or one raising NotImplementedError / gumbel_audit.Unsupported) makes
its checks `skipped`; an exception on invalid input (tau <= 0, a NaN logit, ...) is a refusal,
which is what the audit hopes for; an exception on valid input is a `fail` whose detail has the
exception and its innermost frames; a result that is not an ndarray, or has a wrong dtype or
shape, is an `error` (the plumbing failed, as for an adapter). Ctrl-C stops an audit between
requests and raises KeyboardInterrupt.

The same object can be audited by the CLI through an adapter: `gumbel_audit.adapter.serve(obj)`
speaks protocol v1; both routes give the same p-values for the same seed.
"""
import os as _os

from ._target import OPS, Unsupported, describe

__version__ = "0.1.0"
__all__ = ["audit", "AuditReport", "Check", "Unsupported", "CHECK_IDS", "OPS", "describe"]

try:
    from . import _native
except ImportError as _e:  # a source checkout without the built extension: the SDK still works
    _native = None
    _native_error = _e
    CHECK_IDS = ()
else:
    CHECK_IDS = tuple(_native.check_ids())

from .report import AuditReport, Check  # noqa: E402

LEVELS = ("quick", "standard", "thorough")


def _require_native():
    if _native is None:
        raise ImportError(
            "gumbel_audit's Rust extension is not built (%s); install the package "
            "(scripts/python-package.sh or `pip install ./python`)" % (_native_error,)
        )
    return _native


def _ids(value, what):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    value = list(value)
    for v in value:
        if not isinstance(v, str):
            raise TypeError("%s must be check ids (str), got %r" % (what, v))
        if v not in CHECK_IDS:
            raise ValueError("%s: unknown check id %r; the ids are: %s" % (what, v, ", ".join(CHECK_IDS)))
    return value


def audit(target, level="standard", seed=0, fwer=1e-3, only=None, skip=None, json=None, report=None):
    """Runs the audit battery on `target` in this process and returns an AuditReport.

    level: "quick", "standard" or "thorough" (sample sizes as `gumbel-audit audit --level`).
    seed: master seed (int in 0..2**64); every request's seed derives from it.
    fwer: family-wise false-alarm rate in (0, 1), controlled by Holm across the checks.
    only, skip: check ids (see CHECK_IDS) to run, or to leave out (as `gumbel-audit audit
        --only/--skip`); an unknown id is a ValueError naming the valid ones. Seeds depend only on
        (master seed, check id, chunk), so a check run alone has the p-value it has in the full
        battery; Holm then counts only the checks that ran.
    json: a path to write the JSON report to (as `--json`); report: a directory for report.md
        and its SVG plots (as `--report`).

    Raises TypeError/ValueError for bad arguments or a target without `dtype`, KeyboardInterrupt
    when interrupted; never lets a Rust panic through (RuntimeError)."""
    native = _require_native()
    if level not in LEVELS:
        raise ValueError("level must be one of %s, got %r" % (", ".join(LEVELS), level))
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise ValueError("seed must be an int in 0..2**64, got %r" % (seed,))
    if isinstance(fwer, bool) or not isinstance(fwer, (int, float)) or not 0 < fwer < 1:
        raise ValueError("fwer must be a number in the open interval (0, 1), got %r" % (fwer,))
    only, skip = _ids(only, "only"), _ids(skip, "skip")
    d = describe(target)
    raw = native.audit(target, d.name, d.dtype, d.ops, d.estimators, Unsupported,
                       level, seed, float(fwer), only, skip)
    result = AuditReport(raw)
    if json is not None:
        with open(json, "w", encoding="utf-8") as fh:
            fh.write(result.to_json() + "\n")
    if report is not None:
        _os.makedirs(report, exist_ok=True)
        text, plots = result.markdown()
        with open(_os.path.join(report, "report.md"), "w", encoding="utf-8") as fh:
            fh.write(text)
        for name, svg in plots:
            with open(_os.path.join(report, name), "w", encoding="utf-8") as fh:
                fh.write(svg)
    return result


from . import adapter, reference, testing  # noqa: E402,F401  (submodules: gumbel_audit.reference, ...)
