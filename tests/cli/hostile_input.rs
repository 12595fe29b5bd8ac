//! Issue 16, items 5, 6, 7, 14 and 15: on hostile or extreme input the command line computes
//! the right value or refuses with a message naming the flag and the rule (exit 2); it never
//! panics (exit 101), aborts on an allocation failure (exit 134) or prints NaN.
//!
//! Kind: exact behavioural checks (no statistics). Each test states what the binary did before
//! the fix it guards.

use std::fs::File;
use std::process::{Output, Stdio};

use crate::common::binary::{command, run, temp_dir};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit 2 with one line on stderr that contains every one of `needles`.
fn refused(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "'{n}' missing from: {err}");
    }
}

fn to_full_disk(args: &[&str]) -> Output {
    command()
        .args(args)
        .stdout(Stdio::from(File::create("/dev/full").unwrap()))
        .output()
        .unwrap()
}

// ---- item 5: panics -------------------------------------------------------------------------

/// Before: `println!` panicked, exit 101.
#[test]
fn log_prob_to_a_full_disk_is_exit_2() {
    let out = to_full_disk(&[
        "log-prob", "--logits", "0,0", "--tau", "1", "--y", "0.5,0.5",
    ]);
    refused(&out, &["cannot write to stdout"]);
}

/// Before: exit 0 with nothing written (clap ignored the write error).
#[test]
fn help_to_a_full_disk_is_exit_2() {
    let out = to_full_disk(&["--help"]);
    refused(&out, &["cannot write"]);
    assert!(run(&["--help"]).status.success());
}

/// Before: `Duration::from_secs_f64(1e300)` panicked, exit 101.
#[test]
fn audit_timeout_is_bounded() {
    for t in ["1e300", "inf", "0", "-5", "1e6.5"] {
        let out = run(&["audit", "--timeout", t, "--", "true"]);
        if t == "1e6.5" {
            // Not a number: clap's own message, still exit 2 and naming the flag.
            refused(&out, &["--timeout"]);
        } else {
            refused(&out, &["--timeout", "at most 1000000"]);
        }
    }
}

// ---- item 6: aborts -------------------------------------------------------------------------

/// Before: "memory allocation of 1600000000000 bytes failed", exit 134.
#[test]
fn rao_draws_beyond_the_memory_budget_are_refused() {
    let out = run(&[
        "study",
        "variance",
        "--logits",
        "0,0",
        "--objective",
        "linear:1,0",
        "--rao-draws",
        "100000000000",
        "--samples",
        "10",
        "--taus",
        "1",
    ]);
    refused(&out, &["--rao-draws 100000000000", "2^27"]);
    let out = run(&[
        "study",
        "variance",
        "--logits",
        "0,0",
        "--objective",
        "linear:1,0",
        "--rao-draws",
        "18446744073709551615",
        "--taus",
        "1",
    ]);
    refused(&out, &["--rao-draws", "more than 2^64"]);
}

/// Before: allocation failures (exit 134) for each of the three flags.
#[test]
fn semi_supervised_sizes_beyond_the_memory_budget_are_refused() {
    for flag in ["--width", "--dim", "--batch", "--labelled"] {
        let out = run(&[
            "study",
            "semi-supervised",
            "--classes",
            "2",
            flag,
            "10000000000",
        ]);
        refused(&out, &[&format!("{flag} 10000000000"), "2^27"]);
    }
}

// ---- item 7: NaN or wrong numbers -----------------------------------------------------------

fn log_prob(logits: &str, tau: &str, y: &str) -> String {
    let out = run(&["log-prob", "--logits", logits, "--tau", tau, "--y", y]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Before: `NaN` (τ·ln y overflowed, then inf - inf). The true value is below -f64::MAX.
#[test]
fn log_prob_with_overflowing_tau_log_y_is_minus_inf() {
    assert_eq!(log_prob("0,0", "1e306", "1e-300,1"), "-inf");
}

/// Before: `-1.1102230246251565e-16`: category 2, whose ln π underflows to -inf, was dropped as
/// if masked although y has mass 0.5 there. True value ≈ -1.8e308 (below -f64::MAX).
#[test]
fn log_prob_with_overflowing_logit_spread_is_minus_inf() {
    assert_eq!(log_prob("9e307,-9e307", "0.5", "0.5,0.5"), "-inf");
    // An ordinary point is untouched: k = 2, π = (½, ½), τ = 1 has density 1 on (0, 1).
    assert_eq!(log_prob("0,0", "1", "0.25,0.75"), "0");
}

/// Before: every variance column NaN.
#[test]
fn variance_refuses_objective_scales_whose_squares_overflow() {
    let out = run(&[
        "study",
        "variance",
        "--logits",
        "0,0",
        "--objective",
        "linear:1e160,0",
    ]);
    refused(&out, &["--objective", "1e160", "at most 1e70"]);
    // At the bound the study runs and every number is finite.
    let out = run(&[
        "study",
        "variance",
        "--logits",
        "0,0,0",
        "--objective",
        "linear:1e67,-1e67,3",
        "--samples",
        "200",
        "--taus",
        "1,0.001",
        "--rao-draws",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    for line in csv.lines().skip(1) {
        for v in line.split(',').skip(2) {
            let v: f64 = v.parse().unwrap();
            assert!(v.is_finite(), "{line}");
        }
    }
}

/// Before: every interval `-inf,inf` (`Φ⁻¹(1 - 5e-17)`: 1 - q rounds to 1).
#[test]
fn temperature_interval_is_finite_for_tiny_alpha() {
    let out = run(&[
        "study",
        "temperature",
        "--logits",
        "0,0",
        "--alpha",
        "1e-16",
        "--samples",
        "1000",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for line in stdout(&out).lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|s| s.parse().unwrap()).collect();
        let (mean, low, high) = (v[1], v[2], v[3]);
        assert!(
            low.is_finite() && high.is_finite() && low <= mean && mean <= high,
            "{line}"
        );
    }
}

/// Before: "smallest detectable ≥ NaN" (and a 330-digit rate in the header).
#[test]
fn fwer_below_its_bound_is_refused_and_the_bound_is_finite() {
    let out = run(&["audit", "--reference", "--fwer", "5e-324"]);
    refused(&out, &["--fwer", "5e-324", "[1e-300, 1)"]);
    let out = run(&[
        "audit",
        "--reference",
        "--level",
        "quick",
        "--fwer",
        "1e-300",
        "--only",
        "noise.cdf,categorical.chi2",
    ]);
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{table}{}", stderr(&out));
    assert!(table.contains("1e-300"), "{table}");
    assert!(!table.contains("NaN") && !table.contains("inf"), "{table}");
}

// ---- item 14: messages ----------------------------------------------------------------------

/// Before: a 330-character decimal for 5e-324.
#[test]
fn floats_in_messages_are_short() {
    let out = run(&["sample", "--logits", "1,0", "--tau", "5e-324"]);
    refused(&out, &["5e-324"]);
    assert!(stderr(&out).len() < 200, "{}", stderr(&out));
}

/// Before: "samples per temperature (at least 2) is 0: it must be at least 1".
#[test]
fn count_messages_give_the_value_the_flag_and_the_rule() {
    let out = run(&["study", "temperature", "--logits", "0,0", "--samples", "1"]);
    refused(&out, &["--samples 1", "at least 2"]);
    // Before: "1 observations given: the statistic needs at least 2" (no flag).
    let out = run(&["study", "semi-supervised", "--classes", "2", "--draws", "1"]);
    refused(&out, &["--draws 1", "at least 2"]);
}

/// Before: the library's rule without the flag ("temperature is 0: it must be positive").
#[test]
fn library_rules_are_prefixed_with_their_flag() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["sample", "--logits", "0,1", "--tau", "0"],
            "--tau: temperature is 0",
        ),
        (
            &["sample", "--logits", "nan,1", "--tau", "1"],
            "--logits: logit 0 is NaN",
        ),
        (
            &[
                "log-prob", "--logits", "0,1", "--tau", "1", "--y", "0.5,0.6",
            ],
            "--y: point is not in the open simplex",
        ),
        (
            &[
                "study",
                "variance",
                "--logits",
                "0,0",
                "--objective",
                "linear:1,0",
                "--taus",
                "1,-2",
            ],
            "--taus: temperature is -2",
        ),
    ];
    for (args, message) in cases {
        refused(&run(args), &[message]);
    }
}

/// Before: clap's "unexpected argument '-0' found".
#[test]
fn negative_numbers_reach_the_rule() {
    for (cmd, flag) in [
        (&["study", "temperature", "--logits", "0,0"][..], "--alpha"),
        (
            &[
                "study",
                "variance",
                "--logits",
                "0,0",
                "--objective",
                "linear:1,0",
            ][..],
            "--alpha",
        ),
        (&["study", "semi-supervised"][..], "--alpha"),
        (&["study", "semi-supervised"][..], "--tau"),
        (&["audit", "--reference"][..], "--fwer"),
        (&["audit", "--reference"][..], "--timeout"),
    ] {
        let mut args = cmd.to_vec();
        args.extend([flag, "-0.5"]);
        let out = run(&args);
        refused(&out, &[flag, "-0.5"]);
        assert!(
            !stderr(&out).contains("unexpected argument"),
            "{}",
            stderr(&out)
        );
    }
}

/// Before: the table was printed first, so a failing stdout (exit 2) lost the JSON report.
#[test]
fn the_json_report_is_written_even_when_stdout_fails() {
    let dir = temp_dir("json-full");
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let out = to_full_disk(&[
        "audit",
        "--reference",
        "--level",
        "quick",
        "--only",
        "bad_input",
        "--json",
        json.to_str().unwrap(),
    ]);
    refused(&out, &["cannot write to stdout"]);
    let text = std::fs::read_to_string(&json).expect("the JSON report exists");
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(value.is_object());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- item 15: k = 10⁵ from a file -----------------------------------------------------------

const K: usize = 100_000;

fn logits_k() -> Vec<f64> {
    (0..K)
        .map(|i| ((i * 7919) % 1000) as f64 / 100.0 - 5.0)
        .collect()
}

/// One hard sample over k = 10⁵ categories: k values, exactly one 1.
fn check_one_hot_row(out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
    let row = stdout(out);
    let v: Vec<f64> = row.trim().split(',').map(|s| s.parse().unwrap()).collect();
    assert_eq!(v.len(), K);
    assert_eq!(v.iter().filter(|x| **x == 1.0).count(), 1);
}

/// Before: impossible (one argument is limited to 128 KiB: "Argument list too long").
#[test]
fn a_hundred_thousand_logits_from_a_text_file_an_npy_file_and_stdin() {
    let dir = temp_dir("k1e5");
    std::fs::create_dir_all(&dir).unwrap();
    let logits = logits_k();
    let text: String = logits
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{v}{}", if i % 10 == 9 { "\n" } else { ", " }))
        .collect();
    assert!(text.len() > 128 * 1024);
    let txt = dir.join("logits.txt");
    std::fs::write(&txt, &text).unwrap();
    let npy = dir.join("logits.npy");
    gumbel_audit::audit::npy::write(&npy, &gumbel_audit::audit::Array::from_f64(logits)).unwrap();
    let args = |src: &str| {
        vec![
            "sample".to_string(),
            "--logits".into(),
            format!("@{src}"),
            "--tau".into(),
            "0.5".into(),
            "--hard".into(),
            "--seed".into(),
            "4".into(),
        ]
    };
    let from_text = command()
        .args(args(txt.to_str().unwrap()))
        .output()
        .unwrap();
    check_one_hot_row(&from_text);
    let from_npy = command()
        .args(args(npy.to_str().unwrap()))
        .output()
        .unwrap();
    check_one_hot_row(&from_npy);
    // Same logits, same seed: the same sample.
    assert_eq!(from_text.stdout, from_npy.stdout);
    let from_stdin = command()
        .args(args("-"))
        .stdin(Stdio::from(File::open(&txt).unwrap()))
        .output()
        .unwrap();
    assert_eq!(from_stdin.stdout, from_text.stdout);
    // log-prob with --y from a file too: the uniform point over k categories.
    let y = dir.join("y.txt");
    std::fs::write(
        &y,
        format!("{}\n", vec![(1.0 / K as f64).to_string(); K].join("\n")),
    )
    .unwrap();
    let out = command()
        .args([
            "log-prob",
            "--logits",
            &format!("@{}", npy.display()),
            "--tau",
            "1",
            "--y",
            &format!("@{}", y.display()),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).trim().parse::<f64>().unwrap().is_finite());
    // A missing file names the flag.
    let out = run(&["sample", "--logits", "@/nonexistent/l.txt", "--tau", "1"]);
    refused(&out, &["--logits @/nonexistent/l.txt", "cannot read"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
