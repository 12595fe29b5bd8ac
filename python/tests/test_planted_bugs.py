"""assert_audit_passes on the NumPy target's planted bugs (scripts/adapters/numpy_adapter.py):
each must fail, at the standard level, the checks the bug table of tests/audit/numpy.rs names,
and the message must name them with their detail and a reproducing call."""
import re

import pytest

from gumbel_audit.testing import assert_audit_passes
from numpy_adapter import BUGS, NumpyTarget

# bug -> the checks it must fail (the same table as tests/audit/numpy.rs).
EXPECTED = {
    "uniform_closed": ["noise.finite"],
    "clamped_noise": ["categorical.chi2"],
    "exponential_noise": ["noise.cdf"],
    "tau_logits_only": ["relaxed.argmax"],
    "probs_as_logits": ["categorical.chi2"],
    "expconcrete_density": ["log_prob.pointwise", "log_prob.conformance"],
    "missing_log_tau": ["log_prob.pointwise", "log_prob.conformance"],
    "wrong_factorial": ["log_prob.pointwise", "log_prob.conformance"],
    "hard_threshold": ["relaxed.hard"],
    "reinforce_sign": ["grad.reinforce"],
    "reinforce_missing_pi": ["grad.reinforce"],
    "gs_missing_inv_tau": ["grad.gumbel_softmax"],
    "st_backward_hard": ["grad.straight_through"],
    "seed_ignored": ["reproducibility"],
    "binary_gumbel_noise": ["binary.cdf"],
    "off_by_one": ["categorical.indices"],
    "naive_softmax": ["relaxed.range", "binary.range"],
    "top_p_drop_crossing": ["tokens.law", "tokens.convention"],
    "top_p_extra_at_equality": ["tokens.support", "tokens.law", "tokens.convention"],
    "top_k_after_top_p": ["tokens.support", "tokens.law", "tokens.convention"],
    "temperature_after_truncation": ["tokens.support", "tokens.law", "tokens.convention"],
    "min_p_wrong_ref": ["tokens.law", "tokens.convention"],
    "race_float32_floor": ["tokens.vocab"],
    "top_p_bfloat16_cumsum": ["tokens.vocab"],
}


def test_every_bug_is_in_the_table():
    assert sorted(EXPECTED) == sorted(BUGS)


@pytest.mark.parametrize("bug", sorted(EXPECTED))
def test_planted_bug_fails_its_checks(bug):
    with pytest.raises(AssertionError) as info:
        assert_audit_passes(NumpyTarget(bug), level="standard", seed=2026)
    message = str(info.value)
    assert "planted bug: %s" % bug in message
    for check in EXPECTED[bug]:
        assert re.search(r"^  %s: FAIL" % re.escape(check), message, re.M), message
        assert ("reproduce: gumbel_audit.audit(NumpyTarget(bug=%r), level='standard', seed=2026, "
                "only=['%s'])" % (bug, check)) in message, message


def test_correct_target_passes_assert_audit_passes():
    report = assert_audit_passes(NumpyTarget(), level="quick", seed=2026)
    assert report.passed


def test_nothing_tested_is_not_a_pass():
    class NothingOffered:
        dtype = "float64"

    with pytest.raises(AssertionError, match="no check passed"):
        assert_audit_passes(NothingOffered())
