"""The `gumbel-audit` command installed with the package: the crate's own command line, run in
the Python process (python/src/cli.rs), with the binary's flags, output and exit codes."""
import os
import subprocess

import numpy as np

from gumbel_audit import reference as R


def run(cli, *args, **kw):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=120, **kw)


def test_sample_prints_the_reference_rows(cli):
    out = run(cli, "sample", "--logits", "0,-1.5,2", "--tau", "0.5", "-n", "3", "--seed", "11")
    assert out.returncode == 0, out.stderr
    rows = np.array([[float(v) for v in line.split(",")] for line in out.stdout.splitlines()])
    want = R.relaxed_sample([0.0, -1.5, 2.0], 0.5, n=3, seed=11)
    assert rows.shape == (3, 3)
    assert np.array_equal(rows, want)


def test_audit_of_the_reference_passes_with_exit_0(cli, tmp_path):
    report = tmp_path / "r.json"
    out = run(cli, "audit", "--reference", "--level", "quick", "--json", str(report))
    assert out.returncode == 0, out.stderr
    assert "verdict: PASS" in out.stdout
    assert report.exists()


def test_bad_input_is_exit_2_with_the_rule(cli):
    out = run(cli, "sample", "--logits", "0,1", "--tau", "0")
    assert out.returncode == 2
    assert "temperature" in out.stderr and "positive" in out.stderr
    out = run(cli, "audit", "--no-such-flag")
    assert out.returncode == 2
    assert "--no-such-flag" in out.stderr


def test_version_and_help_exit_0(cli):
    out = run(cli, "--version")
    assert out.returncode == 0 and out.stdout.startswith("gumbel-audit ")
    out = run(cli, "audit", "--help")
    assert out.returncode == 0 and "--only" in out.stdout


def test_a_planted_bug_fails_through_the_command_with_exit_1(cli):
    adapter = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "adapters", "numpy_adapter.py")
    import sys
    out = run(cli, "audit", "--level", "quick", "--only", "relaxed.argmax", "--",
              sys.executable, adapter, "--bug", "tau_logits_only")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "relaxed.argmax" in out.stdout and "FAIL" in out.stdout
