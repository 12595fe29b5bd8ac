"""In-process audit: verdicts, the report object, options, and how a target's failures map to
verdicts (skipped, refusal, fail with traceback, error) and to exceptions (bad arguments)."""
import json
import os
import signal

import numpy as np
import pytest

import gumbel_audit
from numpy_adapter import NumpyTarget


@pytest.mark.parametrize("level", ["quick", "standard"])
def test_numpy_target_passes(level):
    report = gumbel_audit.audit(NumpyTarget(), level=level, seed=2026)
    assert report.passed, str(report)
    assert report.verdict == "pass" and report.level == level and report.seed == 2026
    verdicts = {c.id: c.verdict for c in report.checks}
    assert set(verdicts) == set(gumbel_audit.CHECK_IDS)
    # Every op is offered: nothing is skipped, and the statistical checks have p-values.
    assert "skipped" not in verdicts.values()
    assert report.check("noise.cdf").p_value is not None and report.check("noise.cdf").n > 0


def test_report_renderings(tmp_path):
    report = gumbel_audit.audit(NumpyTarget(), level="quick", seed=3, json=str(tmp_path / "r.json"),
                                report=str(tmp_path / "md"))
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["schema"] == "gumbel-audit-report/2"
    assert [c["id"] for c in data["checks"]] == [c.id for c in report.checks]
    assert json.loads(report.to_json())["verdict"] == report.verdict
    text = str(report)
    assert "noise.cdf" in text and "verdict: PASS" in text
    md = report._repr_markdown_()
    assert "| id |" in md
    assert (tmp_path / "md" / "report.md").read_text() == md
    assert any(name.endswith(".svg") for name in os.listdir(tmp_path / "md"))


def test_only_and_skip_keep_the_full_runs_p_values():
    full = gumbel_audit.audit(NumpyTarget(), level="quick", seed=5)
    only = gumbel_audit.audit(NumpyTarget(), level="quick", seed=5, only=["noise.cdf", "grad.reinforce"])
    assert [c.id for c in only.checks] == ["noise.cdf", "grad.reinforce"]
    for c in only.checks:
        assert c.p_value == full.check(c.id).p_value
    skip = gumbel_audit.audit(NumpyTarget(), level="quick", seed=5, skip="noise.cdf")
    assert "noise.cdf" not in [c.id for c in skip.checks]
    assert len(skip.checks) == len(full.checks) - 1


class GumbelOnly:
    """Only Gumbel noise, correct (float64, open-interval uniforms)."""

    dtype = "float64"
    name = "gumbel only"

    def gumbel(self, n, seed):
        u = (np.random.default_rng(seed).integers(0, 2**52, size=n) + 0.5) * 2.0**-52
        return -np.log(-np.log(u))


def test_missing_methods_are_skipped():
    report = gumbel_audit.audit(GumbelOnly(), level="quick", seed=1)
    assert report.check("noise.cdf").verdict == "pass"
    assert report.check("categorical.chi2").verdict == "skipped"
    assert report.check("grad.reinforce").verdict == "skipped"
    assert report.passed


class Broken(GumbelOnly):
    """Answers gumbel() with something other than a float ndarray of shape [n]."""

    def __init__(self, mode):
        self.mode = mode

    def gumbel(self, n, seed):
        g = super().gumbel(n, seed)
        if self.mode == "list":
            return list(g)
        if self.mode == "float16":
            return g.astype(np.float16)
        if self.mode == "int":
            return g.astype(np.int64)
        if self.mode == "short":
            return g[:-1]
        if self.mode == "raises":
            return helper_that_fails(n)
        raise AssertionError(self.mode)


def helper_that_fails(n):
    raise RuntimeError("device out of memory for n = %d" % n)


@pytest.mark.parametrize("mode, rule", [
    ("list", "returned a list, expected a numpy.ndarray"),
    ("float16", "protocol carries float32, float64, int32 or int64"),
    ("int", "expected a float dtype"),
    ("short", "expected [100000]"),
])
def test_malformed_results_are_errors_naming_the_rule(mode, rule):
    report = gumbel_audit.audit(Broken(mode), level="quick", seed=1, only=["noise.cdf"])
    check = report.check("noise.cdf")
    assert check.verdict == "error", check.detail
    assert rule in check.detail
    assert not report.passed and report.exit_code == 2


def test_exception_on_valid_input_fails_with_traceback():
    report = gumbel_audit.audit(Broken("raises"), level="quick", seed=1, only=["noise.cdf"])
    check = report.check("noise.cdf")
    assert check.verdict == "fail"
    assert "valid input rejected" in check.detail
    assert "RuntimeError: device out of memory" in check.detail
    assert "helper_that_fails" in check.detail  # the innermost frame


@pytest.mark.parametrize("kwargs, exc, rule", [
    ({"level": "huge"}, ValueError, "level must be one of"),
    ({"seed": -1}, ValueError, "seed must be an int"),
    ({"seed": 2**64}, ValueError, "seed must be an int"),
    ({"fwer": 0.0}, ValueError, "open interval (0, 1)"),
    ({"fwer": float("nan")}, ValueError, "open interval (0, 1)"),
    ({"only": ["noise.nope"]}, ValueError, "unknown check id 'noise.nope'"),
    ({"skip": [3]}, TypeError, "check ids"),
])
def test_bad_audit_arguments_raise(kwargs, exc, rule):
    with pytest.raises(exc, match=rule.replace("(", r"\(").replace(")", r"\)")):
        gumbel_audit.audit(NumpyTarget(), **kwargs)


def test_target_must_declare_its_dtype():
    class NoDtype:
        def gumbel(self, n, seed):
            return np.zeros(n)

    with pytest.raises(TypeError, match="dtype = 'float32' or 'float64'"):
        gumbel_audit.audit(NoDtype())

    class Half(NoDtype):
        dtype = "float16"

    with pytest.raises(ValueError, match="must be .float32. or .float64."):
        gumbel_audit.audit(Half())

    class BadEstimators(GumbelOnly):
        estimators = ["reinforce", "magic"]

    with pytest.raises(ValueError, match="unknown"):
        gumbel_audit.audit(BadEstimators())


class InterruptedOnThirdRequest(NumpyTarget):
    """Sends itself SIGINT (what Ctrl-C does) during its third request."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def _count(self):
        self.calls += 1
        if self.calls == 3:
            signal.raise_signal(signal.SIGINT)

    def gumbel(self, n, seed):
        self._count()
        return super().gumbel(n, seed)

    def categorical(self, logits, n, seed):
        self._count()
        return super().categorical(logits, n, seed)


def test_ctrl_c_stops_the_audit_cleanly():
    target = InterruptedOnThirdRequest()
    with pytest.raises(KeyboardInterrupt):
        gumbel_audit.audit(target, level="quick", seed=1)
    # No request after the interrupt, and the interpreter is fine: the next audit runs.
    assert target.calls == 3
    assert gumbel_audit.audit(GumbelOnly(), level="quick", seed=1, only=["noise.cdf"]).passed


def test_a_rust_panic_becomes_a_python_exception():
    with pytest.raises(RuntimeError, match="internal error.*boom"):
        gumbel_audit._native._panic_for_test("boom")
    # The interpreter survived.
    assert gumbel_audit.reference.gumbel(2, 0).shape == (2,)
