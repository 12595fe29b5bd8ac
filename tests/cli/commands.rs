//! The command line: output shape, exit codes, and the library's messages on bad input.

use std::process::Output;

use crate::common::binary::{run, temp_dir};

fn rows(out: &Output) -> Vec<Vec<f64>> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect())
        .collect()
}

#[test]
fn sample_prints_rows_on_the_simplex() {
    let out = run(&[
        "sample", "--logits", "0,-1.5,2", "--tau", "0.5", "-n", "50", "--seed", "3",
    ]);
    assert!(out.status.success());
    let rows = rows(&out);
    assert_eq!(rows.len(), 50);
    for r in &rows {
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn sample_is_reproducible_and_seed_dependent() {
    let a = run(&[
        "sample", "--logits", "1,2", "--tau", "1", "-n", "5", "--seed", "9",
    ]);
    let b = run(&[
        "sample", "--logits", "1,2", "--tau", "1", "-n", "5", "--seed", "9",
    ]);
    let c = run(&[
        "sample", "--logits", "1,2", "--tau", "1", "-n", "5", "--seed", "10",
    ]);
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn hard_rows_are_one_hot_and_masks_are_zero() {
    let out = run(&[
        "sample",
        "--logits",
        "-inf,0,0.5",
        "--tau",
        "2",
        "-n",
        "200",
        "--hard",
    ]);
    assert!(out.status.success());
    for r in rows(&out) {
        assert_eq!(r[0], 0.0);
        assert_eq!(r.iter().filter(|v| **v == 1.0).count(), 1);
        assert_eq!(r.iter().filter(|v| **v == 0.0).count(), 2);
    }
    let soft = run(&[
        "sample",
        "--logits",
        "-inf,0,0.5",
        "--tau",
        "0.01",
        "-n",
        "20",
    ]);
    assert!(rows(&soft).iter().all(|r| r[0] == 0.0));
}

#[test]
fn log_prob_prints_one_number() {
    let out = run(&[
        "log-prob",
        "--logits",
        "0,-1.5,2",
        "--tau",
        "0.5",
        "--y",
        "0.2,0.3,0.5",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let v: f64 = text.trim().parse().unwrap();
    // Independent value: mpmath at 30 digits, -2.64957777492170362707573980291.
    assert!((v - -2.649_577_774_921_703_6).abs() < 1e-13, "{v}");
}

#[test]
fn bad_input_exits_2_with_the_rule() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["sample", "--logits", "nan,1", "--tau", "1"],
            "finite or -inf",
        ),
        (
            &["sample", "--logits", "inf,1", "--tau", "1"],
            "finite or -inf",
        ),
        (
            &["sample", "--logits", "-inf,-inf", "--tau", "1"],
            "all logits are -inf",
        ),
        (
            &["sample", "--logits", "0,1", "--tau", "0"],
            "must be positive",
        ),
        (
            &["sample", "--logits", "0,1", "--tau", "nan"],
            "must be finite",
        ),
        (
            &[
                "log-prob", "--logits", "0,1", "--tau", "1", "--y", "0.5,0.6",
            ],
            "not in the open simplex",
        ),
        (
            &["log-prob", "--logits", "0,1", "--tau", "1", "--y", "1"],
            "wrong length",
        ),
    ];
    for (args, rule) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(rule), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["sample", "--tau", "1"]).status.code(), Some(2));
    assert_eq!(
        run(&["sample", "--logits", "0,x", "--tau", "1"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn study_temperature_prints_csv_and_writes_plot() {
    let dir = temp_dir("study");
    let out = run(&[
        "study",
        "temperature",
        "--logits",
        "1,0,-1",
        "--samples",
        "2000",
        "--seed",
        "4",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("tau,mean_one_minus_max,ci_low,ci_high,predicted")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 13);
    assert_eq!(rows[0][0], 10.0);
    assert_eq!(rows[12][0], 1e-3);
    for r in &rows {
        assert!(r[2] <= r[1] && r[1] <= r[3], "{r:?}");
        // predicted = ln2·τ·(1 - Σπ²) with π = softmax(1, 0, -1).
        let z: f64 = [1f64, 0.0, -1.0].iter().map(|l| l.exp()).sum();
        let s2: f64 = [1f64, 0.0, -1.0]
            .iter()
            .map(|l| (l.exp() / z).powi(2))
            .sum();
        assert!((r[4] - std::f64::consts::LN_2 * r[0] * (1.0 - s2)).abs() < 1e-15 * r[0].max(1.0));
    }
    let svg = std::fs::read_to_string(dir.join("temperature.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<circle"));
    assert_eq!(
        std::fs::read_to_string(dir.join("temperature.csv")).unwrap(),
        text
    );
    std::fs::remove_dir_all(dir).unwrap();
}
