"""pytest helpers: fail a test when an implementation does not pass the audit.

    from gumbel_audit.testing import assert_audit_passes

    def test_my_sampler():
        assert_audit_passes(MySampler(), level="quick", seed=0)

The battery's family-wise false-alarm rate is `fwer` (default 1e-3, Holm): a correct
implementation fails with probability at most `fwer`, and with a fixed seed the outcome is
reproducible. A failure is a finding; do not re-roll the seed to make it pass.
"""
from . import audit as _audit


def _call(target, level, kw, only):
    if type(target).__repr__ is object.__repr__:
        shown = "%s(...)" % type(target).__qualname__
    else:
        shown = repr(target)
    args = [shown, "level=%r" % level]
    args += ["%s=%r" % (k, v) for k, v in sorted(kw.items()) if k not in ("only", "json", "report")]
    args.append("only=%r" % ([only] if isinstance(only, str) else list(only)))
    return "gumbel_audit.audit(%s)" % ", ".join(args)


def assert_audit_passes(target, level="quick", **kw):
    """Runs `gumbel_audit.audit(target, level=level, **kw)` and raises AssertionError unless every
    check is pass, warn or skipped and at least one check passed (nothing tested is not a pass).

    The message names each failing check with its verdict, p-value and detail, and the call
    that reproduces it (the same seed gives the same p-value). Returns the AuditReport."""
    kw.setdefault("seed", 0)
    report = _audit(target, level=level, **kw)
    bad = [c for c in report.checks if c.verdict in ("fail", "error")]
    if not bad and any(c.verdict == "pass" for c in report.checks):
        return report
    lines = ["gumbel-audit: %s (%s) did not pass the %s audit (seed %d, fwer %g)"
             % (report.implementation, report.dtype, report.level, report.seed, report.fwer)]
    if not bad:
        lines.append("  no check passed: %s" % (report.problem or
                     "the target offers none of the ops the selected checks need "
                     "(every check was skipped)"))
    for c in bad:
        p = "" if c.p_value is None else ", p = %.3g" % c.p_value
        lines.append("  %s: %s%s: %s" % (c.id, c.verdict.upper(), p, c.detail))
        lines.append("    reproduce: %s" % _call(target, level, kw, c.id))
    raise AssertionError("\n".join(lines))
