//! The audit end to end through the command line and the adapter protocol, on the NumPy adapter
//! (`scripts/adapters/numpy_adapter.py`): the correct adapter passes at every level, and each of
//! its planted bugs (`--bug NAME`, listed by `--list-bugs`) fails the standard level on the check
//! that is meant to catch it.
//!
//! Error rates: the battery's family-wise false-alarm rate is 1e-3 (Holm, `--fwer` default) per
//! run, so the three clean runs would together raise a false alarm with probability at most
//! 3e-3 under a fresh seed; the seeds here are fixed, so the result is reproducible. The sample
//! sizes and detectable discrepancies of each check are printed in the report (docs/audit.md).
//!
//! Needs numpy: the python of `GUMBEL_AUDIT_PYTHON`, else `.venv-adapters/bin/python`
//! (`scripts/adapters/setup.sh` makes it; `.ci/run` does so). Without it these tests show as
//! `ignored` (the build script's `gumbel_numpy` cfg; under `CI=true` they run and fail loudly).

use std::process::Command;

use serde_json::Value;

use crate::common::{python_with_numpy, repo};

/// The outcome of one `gumbel-audit audit` run: exit code and the `--json` report.
struct Run {
    code: i32,
    report: Value,
    stdout: String,
}

impl Run {
    /// `(id, verdict)` of every check.
    fn verdicts(&self) -> Vec<(String, String)> {
        self.report["checks"]
            .as_array()
            .map(|checks| {
                checks
                    .iter()
                    .map(|c| {
                        (
                            c["id"].as_str().unwrap_or("?").to_string(),
                            c["verdict"].as_str().unwrap_or("?").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn verdict_of(&self, id: &str) -> Option<String> {
        self.verdicts()
            .into_iter()
            .find(|(i, _)| i == id)
            .map(|(_, v)| v)
    }
}

fn audit(python: &str, level: &str, seed: u64, bug: Option<&str>) -> Run {
    audit_with(python, level, seed, bug, &[])
}

/// As [`audit`], with extra arguments to `gumbel-audit audit` (before the adapter command).
fn audit_with(python: &str, level: &str, seed: u64, bug: Option<&str>, extra: &[&str]) -> Run {
    let dir = std::env::temp_dir().join(format!(
        "gumbel-audit-numpy-{}-{level}-{seed}-{}",
        std::process::id(),
        bug.unwrap_or("none")
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let json = dir.join("report.json");
    let script = repo().join("scripts/adapters/numpy_adapter.py");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gumbel-audit"));
    cmd.args(["audit", "--quiet", "--level", level, "--seed"])
        .arg(seed.to_string())
        .arg("--json")
        .arg(&json)
        .args(extra)
        .arg("--")
        .arg(python)
        .arg(&script);
    if let Some(b) = bug {
        cmd.args(["--bug", b]);
    }
    let out = cmd.output().expect("gumbel-audit runs");
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let report = serde_json::from_str(&text).unwrap_or(Value::Null);
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: out.status.code().unwrap_or(-1),
        report,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
    }
}

/// The correct NumPy adapter passes every level: exit 0, verdict `pass`, no check `fail` or
/// `error`, and no check skipped (the adapter offers every op and estimator).
#[cfg_attr(
    not(gumbel_numpy),
    ignore = "needs numpy: run scripts/adapters/setup.sh"
)]
#[test]
fn correct_numpy_adapter_passes_every_level() {
    let python = python_with_numpy();
    for (level, seed) in [("quick", 101), ("standard", 102), ("thorough", 103)] {
        let run = audit(&python, level, seed, None);
        assert_eq!(run.code, 0, "level {level}:\n{}", run.stdout);
        assert_eq!(run.report["verdict"], "pass", "level {level}");
        assert_eq!(run.report["level"], level);
        let verdicts = run.verdicts();
        assert!(verdicts.len() >= 20, "level {level}: {verdicts:?}");
        for (id, v) in &verdicts {
            assert_eq!(
                v, "pass",
                "level {level}: check {id} is {v}\n{}",
                run.stdout
            );
        }
    }
}

/// Each planted bug and the checks that must fail on it at the standard level.
const BUGS: [(&str, &[&str]); 24] = [
    ("uniform_closed", &["noise.finite"]),
    ("clamped_noise", &["categorical.chi2"]),
    ("exponential_noise", &["noise.cdf"]),
    ("tau_logits_only", &["relaxed.argmax"]),
    ("probs_as_logits", &["categorical.chi2"]),
    (
        "expconcrete_density",
        &["log_prob.pointwise", "log_prob.conformance"],
    ),
    (
        "missing_log_tau",
        &["log_prob.pointwise", "log_prob.conformance"],
    ),
    (
        "wrong_factorial",
        &["log_prob.pointwise", "log_prob.conformance"],
    ),
    ("hard_threshold", &["relaxed.hard"]),
    ("reinforce_sign", &["grad.reinforce"]),
    ("reinforce_missing_pi", &["grad.reinforce"]),
    ("gs_missing_inv_tau", &["grad.gumbel_softmax"]),
    ("st_backward_hard", &["grad.straight_through"]),
    ("seed_ignored", &["reproducibility"]),
    ("binary_gumbel_noise", &["binary.cdf"]),
    ("off_by_one", &["categorical.indices"]),
    ("naive_softmax", &["relaxed.range", "binary.range"]),
    ("top_p_drop_crossing", &["tokens.law", "tokens.convention"]),
    (
        "top_p_extra_at_equality",
        &["tokens.support", "tokens.law", "tokens.convention"],
    ),
    (
        "top_k_after_top_p",
        &["tokens.support", "tokens.law", "tokens.convention"],
    ),
    (
        "temperature_after_truncation",
        &["tokens.support", "tokens.law", "tokens.convention"],
    ),
    ("min_p_wrong_ref", &["tokens.law", "tokens.convention"]),
    ("race_float32_floor", &["tokens.vocab"]),
    ("top_p_bfloat16_cumsum", &["tokens.vocab"]),
];

/// The adapter's own list of bugs is the list tested here: a bug added to the adapter without a
/// test, or removed from it, fails this test.
#[cfg_attr(
    not(gumbel_numpy),
    ignore = "needs numpy: run scripts/adapters/setup.sh"
)]
#[test]
fn every_listed_bug_is_tested() {
    let python = python_with_numpy();
    let out = Command::new(&python)
        .arg(repo().join("scripts/adapters/numpy_adapter.py"))
        .arg("--list-bugs")
        .output()
        .expect("adapter runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    listed.sort_unstable();
    let mut tested: Vec<&str> = BUGS.iter().map(|(b, _)| *b).collect();
    tested.sort_unstable();
    assert_eq!(listed, tested);
    assert!(tested.len() >= 10);
}

/// Runs the standard level on one planted bug: exit 1, verdict `fail`, the named checks `fail`.
/// `tokens.vocab` is skipped for the bugs that do not name it: it costs about a minute of NumPy
/// noise (n·k ≈ 3.7·10⁹ values per run) and each other bug is caught by the checks named for
/// it (the clean runs above and the two vocabulary bugs run it).
fn bug_fails(name: &str) {
    let python = python_with_numpy();
    let expected = BUGS
        .iter()
        .find(|(b, _)| *b == name)
        .map(|(_, c)| *c)
        .expect("bug in the table");
    let skip: &[&str] = if expected.contains(&"tokens.vocab") {
        &[]
    } else {
        &["--skip", "tokens.vocab"]
    };
    let run = audit_with(&python, "standard", 2026, Some(name), skip);
    assert_eq!(run.code, 1, "bug {name}:\n{}", run.stdout);
    assert_eq!(run.report["verdict"], "fail", "bug {name}");
    for check in expected {
        assert_eq!(
            run.verdict_of(check).as_deref(),
            Some("fail"),
            "bug {name}: check {check}\n{}",
            run.stdout
        );
    }
}

macro_rules! bug_tests {
    ($($test:ident => $bug:literal),* $(,)?) => {
        $(
            #[doc = concat!("The standard level fails the NumPy adapter with `--bug ", $bug, "`.")]
            #[cfg_attr(not(gumbel_numpy), ignore = "needs numpy: run scripts/adapters/setup.sh")]
            #[test]
            fn $test() {
                bug_fails($bug);
            }
        )*
    };
}

bug_tests! {
    bug_uniform_closed => "uniform_closed",
    bug_clamped_noise => "clamped_noise",
    bug_exponential_noise => "exponential_noise",
    bug_tau_logits_only => "tau_logits_only",
    bug_probs_as_logits => "probs_as_logits",
    bug_expconcrete_density => "expconcrete_density",
    bug_missing_log_tau => "missing_log_tau",
    bug_wrong_factorial => "wrong_factorial",
    bug_hard_threshold => "hard_threshold",
    bug_reinforce_sign => "reinforce_sign",
    bug_reinforce_missing_pi => "reinforce_missing_pi",
    bug_gs_missing_inv_tau => "gs_missing_inv_tau",
    bug_st_backward_hard => "st_backward_hard",
    bug_seed_ignored => "seed_ignored",
    bug_binary_gumbel_noise => "binary_gumbel_noise",
    bug_off_by_one => "off_by_one",
    bug_naive_softmax => "naive_softmax",
    bug_top_p_drop_crossing => "top_p_drop_crossing",
    bug_top_p_extra_at_equality => "top_p_extra_at_equality",
    bug_top_k_after_top_p => "top_k_after_top_p",
    bug_temperature_after_truncation => "temperature_after_truncation",
    bug_min_p_wrong_ref => "min_p_wrong_ref",
    bug_race_float32_floor => "race_float32_floor",
    bug_top_p_bfloat16_cumsum => "top_p_bfloat16_cumsum",
}
