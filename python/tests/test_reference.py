"""gumbel_audit.reference: the crate's reference samplers, bit for bit the CLI's for the same
seed, and bad arguments raising the right exceptions."""
import json
import subprocess

import numpy as np
import pytest

import gumbel_audit
from gumbel_audit import reference as R


def cli_rows(cli, *args):
    out = subprocess.run([cli, *args], capture_output=True, text=True, check=True).stdout
    return np.array([[float(v) for v in line.split(",")] for line in out.splitlines()])


@pytest.mark.parametrize("hard", [False, True])
def test_relaxed_sample_matches_the_cli_bit_for_bit(cli, hard):
    logits, tau, n, seed = [0.5, -1.25, 2.0, float("-inf")], 0.3, 500, 123456789
    args = ["sample", "--logits", ",".join(map(str, logits)), "--tau", str(tau), "-n", str(n),
            "--seed", str(seed)] + (["--hard"] if hard else [])
    expected = cli_rows(cli, *args)
    got = R.relaxed_sample(logits, tau, n, seed, hard=hard)
    assert got.dtype == np.float64 and got.shape == (n, 4)
    # Bit for bit: the CLI prints the shortest decimal that reads back as the same double.
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))


def test_relaxed_log_prob_matches_the_cli_bit_for_bit(cli):
    logits, tau = [0.2, -0.7, 1.1], 0.8
    y = R.relaxed_sample(logits, tau, 20, 9)
    got = R.relaxed_log_prob(logits, tau, y)
    for row, lp in zip(y, got):
        out = subprocess.run([cli, "log-prob", "--logits", ",".join(map(repr, logits)), "--tau", repr(tau),
                              "--y", ",".join(repr(float(v)) for v in row)], capture_output=True, text=True, check=True)
        assert float(out.stdout) == lp


class ReferenceInPython:
    """The reference module as an in-process target."""

    dtype = "float64"
    name = "gumbel_audit.reference"
    estimators = ["reinforce", "gumbel_softmax", "straight_through", "gumbel_rao"]
    gumbel = staticmethod(R.gumbel)
    categorical = staticmethod(R.categorical)
    relaxed_sample = staticmethod(R.relaxed_sample)
    relaxed_log_prob = staticmethod(R.relaxed_log_prob)
    binary_sample = staticmethod(R.binary_sample)
    binary_log_prob = staticmethod(R.binary_log_prob)
    grad = staticmethod(R.grad)
    token_sample = staticmethod(R.token_sample)


def test_every_op_gives_the_audit_reference_p_values(cli, tmp_path):
    """Audited in process, the Python reference gives exactly the p-values of
    `gumbel-audit audit --reference`: every op (gumbel, categorical, binary_*, grad included)
    returns the ReferenceTarget's arrays."""
    out = tmp_path / "ref.json"
    subprocess.run([cli, "audit", "--reference", "--level", "quick", "--seed", "31", "--quiet",
                    "--json", str(out)], capture_output=True, check=True)
    via_cli = {c["id"]: c for c in json.loads(out.read_text())["checks"]}
    report = gumbel_audit.audit(ReferenceInPython(), level="quick", seed=31)
    assert report.passed, str(report)
    for c in report.checks:
        assert (c.verdict, c.p_value, c.n) == (via_cli[c.id]["verdict"], via_cli[c.id]["p_value"],
                                               via_cli[c.id]["n"]), c.id


def test_same_seed_same_array_and_dtypes():
    assert np.array_equal(R.gumbel(1000, 5), R.gumbel(1000, 5))
    assert not np.array_equal(R.gumbel(1000, 5), R.gumbel(1000, 6))
    assert R.categorical([0.0, 1.0], 10, 1).dtype == np.int64
    assert R.binary_sample(0.3, 0.5, 10, 1).dtype == np.float64
    g = R.grad("gumbel_rao", {"kind": "linear", "c": [1.0, -1.0, 0.5]}, [0.0, 0.1, 0.2], 0.5, 7, 3, m=4)
    assert g.shape == (7, 3)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("call, exc, rule", [
    (lambda: R.relaxed_sample([0.0, 1.0], 0.0, 5, 1), ValueError, "temperature"),
    (lambda: R.relaxed_sample([0.0, 1.0], -1.0, 5, 1), ValueError, "temperature"),
    (lambda: R.categorical([0.0, float("nan")], 5, 1), ValueError, "NaN"),
    (lambda: R.categorical([], 5, 1), ValueError, "k must be at least 1"),
    (lambda: R.categorical([float("-inf")] * 3, 5, 1), ValueError, "all logits are -inf"),
    (lambda: R.binary_sample(0.0, 0.0, 5, 1), ValueError, "temperature"),
    (lambda: R.gumbel(-1, 0), ValueError, "non-negative int"),
    (lambda: R.gumbel(3, -2), ValueError, "seed"),
    (lambda: R.gumbel(3.0, 1), ValueError, "non-negative int"),
    (lambda: R.categorical([[0.0, 1.0]], 5, 1), ValueError, "one-dimensional"),
    (lambda: R.categorical(["a", "b"], 5, 1), TypeError, "real numbers"),
    (lambda: R.relaxed_sample([0.0, 1.0], "hot", 5, 1), TypeError, "tau must be a real number"),
    (lambda: R.relaxed_sample([0.0, 1.0], 1.0, 5, 1, hard=1), TypeError, "hard must be True or False"),
    (lambda: R.relaxed_log_prob([0.0, 1.0], 1.0, np.full((2, 3), 1 / 3)), ValueError, "shape \\[m, k\\]"),
    (lambda: R.relaxed_log_prob([0.0, 1.0], 1.0, [[0.0, 1.0]]), ValueError, "not in the open simplex"),
    (lambda: R.binary_log_prob(0.0, 1.0, [1.5]), ValueError, "open interval \\(0, 1\\)"),
    (lambda: R.grad("reinforce", {"kind": "cubic"}, [0.0, 1.0], 1.0, 5, 1), ValueError, "linear"),
    (lambda: R.grad("reinforce", {"kind": "linear", "c": [1.0]}, [0.0, 1.0], 1.0, 5, 1), ValueError, "wrong length"),
    (lambda: R.grad("magic", {"kind": "linear", "c": [1.0, 0.0]}, [0.0, 1.0], 1.0, 5, 1), ValueError, "not offered"),
])
def test_bad_arguments_raise_naming_the_rule(call, exc, rule):
    with pytest.raises(exc, match=rule):
        call()
