"""The two routes of the audit agree: the same object audited in process and served over
protocol v1 by gumbel_audit.adapter.serve (numpy_adapter.py) to the `gumbel-audit` command gives
the same p-values and verdicts for the same seed. Also the SDK's protocol details."""
import json
import subprocess
import sys

import numpy as np
import pytest

import gumbel_audit
from conftest import NUMPY_ADAPTER
from numpy_adapter import NumpyTarget


def cli_audit(cli, tmp_path, level, seed, *adapter_args):
    out = tmp_path / "cli.json"
    proc = subprocess.run(
        [cli, "audit", "--level", level, "--seed", str(seed), "--json", str(out), "--quiet", "--",
         sys.executable, NUMPY_ADAPTER, *adapter_args],
        capture_output=True, text=True, timeout=600)
    assert out.exists(), proc.stderr
    return proc.returncode, json.loads(out.read_text())


@pytest.mark.parametrize("bug", [None, "tau_logits_only"])
def test_in_process_and_adapter_give_the_same_p_values(cli, tmp_path, bug):
    code, via_cli = cli_audit(cli, tmp_path, "quick", 77, *(["--bug", bug] if bug else []))
    in_process = gumbel_audit.audit(NumpyTarget(bug), level="quick", seed=77).to_dict()
    assert code == in_process["exit_code"]
    assert via_cli["implementation"] == in_process["implementation"]
    cli_checks = {c["id"]: c for c in via_cli["checks"]}
    assert len(cli_checks) == len(in_process["checks"]) == len(gumbel_audit.CHECK_IDS)
    for c in in_process["checks"]:
        other = cli_checks[c["id"]]
        assert (c["verdict"], c["p_value"], c["n"]) == (other["verdict"], other["p_value"], other["n"]), c["id"]
        assert c["detail"] == other["detail"], c["id"]
    if bug:
        assert cli_checks["relaxed.argmax"]["verdict"] == "fail"


def serve_lines(target, lines):
    """Runs gumbel_audit.adapter.serve on the given request lines, returns the replies."""
    import io

    out = io.StringIO()
    gumbel_audit.adapter.serve(target, stdin=io.StringIO("".join(json.dumps(l) + "\n" for l in lines)), stdout=out)
    return [json.loads(l) for l in out.getvalue().splitlines()]


def test_sdk_speaks_protocol_v1(tmp_path):
    out = str(tmp_path / "1.npy")
    replies = serve_lines(NumpyTarget(), [
        {"id": 0, "op": "hello", "protocol": 1},
        {"id": 1, "op": "categorical", "logits": [0.0, -1.5, "-inf"], "n": 1000, "seed": 11, "out": out},
        {"id": 2, "op": "relaxed_sample", "logits": [0.0, 1.0], "tau": 0.0, "hard": False, "n": 10,
         "seed": 12, "out": str(tmp_path / "2.npy")},
        {"id": 3, "op": "grad", "estimator": "magic", "logits": [0.0, 1.0], "tau": 1.0,
         "objective": {"kind": "linear", "c": [1.0, 0.0]}, "n": 10, "seed": 1, "out": str(tmp_path / "3.npy")},
        {"id": 4, "op": "bye"},
    ])
    assert replies[0]["ok"] and replies[0]["protocol"] == 1 and replies[0]["dtype"] == "float64"
    assert set(replies[0]["ops"]) == set(gumbel_audit.OPS)
    assert replies[1] == {"id": 1, "ok": True}
    draws = np.load(out)
    assert draws.dtype == np.int64 and draws.shape == (1000,) and not np.any(draws == 2)
    # The same call in process gives the same array.
    assert np.array_equal(draws, NumpyTarget().categorical(np.array([0.0, -1.5, -np.inf]), 1000, 11))
    assert replies[2]["ok"] is False and "tau must be positive" in replies[2]["error"]
    assert replies[3] == {"id": 3, "ok": False, "unsupported": True}
    assert replies[4] == {"id": 4, "ok": True}


def test_sdk_leaves_no_file_for_a_non_array_and_keeps_stdout_clean(tmp_path, capsys):
    class Chatty:
        dtype = "float32"

        def gumbel(self, n, seed):
            print("loading weights...")  # must not reach the protocol stream
            return [0.0] * n

    out = tmp_path / "1.npy"
    replies = serve_lines(Chatty(), [
        {"id": 0, "op": "hello", "protocol": 1},
        {"id": 1, "op": "gumbel", "n": 3, "seed": 1, "out": str(out)},
        {"id": 2, "op": "categorical", "logits": [0.0], "n": 3, "seed": 1, "out": str(tmp_path / "2.npy")},
    ])
    assert [r["id"] for r in replies] == [0, 1, 2]
    assert replies[0]["ops"] == ["gumbel"] and replies[0]["dtype"] == "float32"
    assert not out.exists()
    assert replies[2]["unsupported"] is True
    assert "expected a numpy.ndarray" in capsys.readouterr().err


def test_sdk_answers_an_unwritable_result_instead_of_crashing(tmp_path):
    """A result file that cannot be written (here: its directory does not exist; in the auditor's
    full-disk test, a full tmpfs) is an error reply, and the adapter keeps serving: the auditor,
    not a crash, decides whose fault it is (it probes the disk)."""
    replies = serve_lines(NumpyTarget(), [
        {"id": 0, "op": "hello", "protocol": 1},
        {"id": 1, "op": "gumbel", "n": 10, "seed": 1, "out": str(tmp_path / "missing" / "1.npy")},
        {"id": 2, "op": "gumbel", "n": 10, "seed": 1, "out": str(tmp_path / "2.npy")},
    ])
    assert replies[1]["ok"] is False and replies[1]["error"].startswith("OSError: writing the result file")
    assert replies[2] == {"id": 2, "ok": True}
    assert np.load(tmp_path / "2.npy").shape == (10,)
