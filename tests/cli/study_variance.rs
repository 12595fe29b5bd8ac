//! `gumbel-audit study variance`: the CSV's shape, the exact REINFORCE rows, the sampled rows
//! against the `k = 2` quadrature truth (and through it docs/design/math.md §3's figures), bad input, and the
//! files written by `--out`.
//!
//! Scale between docs/design/math.md §3 and the CLI: MATH's `k = 2` figures are for the Bernoulli logit
//! `a = l_0 - l_1` and `f_MATH(b) = (b - 0.45)²`. The protocol's quadratic with target
//! `(0.45, 0.55)` is `f = (y_0 - 0.45)² + (y_1 - 0.55)² = 2 f_MATH(y_0)`, and every row is
//! `(r, -r)` with `r = ∂/∂a`, so the CLI's gradients are `2×` MATH's per coordinate, its
//! `bias_norm = √2 · 2 |bias_MATH|`, and its `variance = tr Cov = 2 Var r = 8 Var_MATH`.

use std::process::Output;

use gumbel_audit::distributions::Logits;
use gumbel_audit::grad::Objective;
use gumbel_audit::grad::truth::TwoCategory;

use crate::common::binary::{run, temp_dir};

const HEADER: &str = "estimator,tau,bias_norm,variance,mse,variance_ci_low,variance_ci_high";

/// One parsed CSV row: name, τ (None for an empty cell) and the five numbers.
#[derive(Debug)]
struct Row {
    estimator: String,
    tau: Option<f64>,
    bias_norm: f64,
    variance: f64,
    mse: f64,
    low: f64,
    high: f64,
}

fn parse(out: &Output) -> Vec<Row> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER));
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 7, "{line}");
            let num = |i: usize| cells[i].parse::<f64>().unwrap();
            Row {
                estimator: cells[0].to_string(),
                tau: (!cells[1].is_empty()).then(|| num(1)),
                bias_norm: num(2),
                variance: num(3),
                mse: num(4),
                low: num(5),
                high: num(6),
            }
        })
        .collect()
}

fn study(logits: &str, objective: &str, taus: &str, samples: &str, extra: &[&str]) -> Vec<Row> {
    let mut args = vec![
        "study",
        "variance",
        "--logits",
        logits,
        "--objective",
        objective,
        "--taus",
        taus,
        "--samples",
        samples,
    ];
    args.extend_from_slice(extra);
    parse(&run(&args))
}

#[test]
fn header_row_counts_and_internal_consistency() {
    let rows = study(
        "0,0",
        "quadratic:0.45,0.55",
        "0.1,0.5,1",
        "2000",
        &["--seed", "3"],
    );
    assert_eq!(rows.len(), 1 + 3 * 3);
    assert_eq!(rows[0].estimator, "reinforce");
    assert_eq!(rows[0].tau, None);
    let names = ["gumbel_softmax", "straight_through", "gumbel_rao_m10"];
    for (j, tau) in [0.1, 0.5, 1.0].into_iter().enumerate() {
        for (e, name) in names.iter().enumerate() {
            let r = &rows[1 + 3 * j + e];
            assert_eq!(r.estimator, *name);
            assert_eq!(r.tau, Some(tau));
        }
    }
    for r in &rows {
        assert!(r.bias_norm >= 0.0 && r.variance > 0.0, "{r:?}");
        assert!(r.low <= r.variance && r.variance <= r.high, "{r:?}");
        let mse = r.variance + r.bias_norm * r.bias_norm;
        assert!((r.mse - mse).abs() <= 1e-14 * mse, "{r:?}");
    }
    // --rao-draws names the Gumbel-Rao rows; the same seed gives the same output.
    let a = run(&[
        "study",
        "variance",
        "--logits",
        "0.5,0,-0.5",
        "--objective",
        "linear:1,0,-2",
        "--taus",
        "0.5",
        "--samples",
        "500",
        "--rao-draws",
        "3",
    ]);
    let rows = parse(&a);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3].estimator, "gumbel_rao_m3");
    let b = run(&[
        "study",
        "variance",
        "--logits",
        "0.5,0,-0.5",
        "--objective",
        "linear:1,0,-2",
        "--taus",
        "0.5",
        "--samples",
        "500",
        "--rao-draws",
        "3",
    ]);
    assert_eq!(a.stdout, b.stdout);
}

/// `tr Cov` of REINFORCE without a baseline by enumerating the drawn category `z`:
/// `Σ_z π_z f_z² ‖e_z - π‖² - ‖∇L‖²`, with `∇L_j = π_j (f_j - L)` (docs/design/math.md §3), all computed here.
fn reinforce_trace_by_enumeration(logits: &[f64], vertex: &[f64]) -> f64 {
    let z: f64 = logits.iter().map(|l| l.exp()).sum();
    let p: Vec<f64> = logits.iter().map(|l| l.exp() / z).collect();
    let big_l: f64 = p.iter().zip(vertex).map(|(p, f)| p * f).sum();
    let grad_sq: f64 = p
        .iter()
        .zip(vertex)
        .map(|(p, f)| (p * (f - big_l)).powi(2))
        .sum();
    let second: f64 = (0..p.len())
        .map(|zz| {
            let dist_sq: f64 = (0..p.len())
                .map(|i| {
                    let e = if i == zz { 1.0 } else { 0.0 };
                    (e - p[i]).powi(2)
                })
                .sum();
            p[zz] * vertex[zz] * vertex[zz] * dist_sq
        })
        .sum();
    second - grad_sq
}

#[test]
fn reinforce_rows_are_the_exact_values() {
    // k = 2, MATH's case: f(e_0) = 0.55² + 0.55² = 0.605, f(e_1) = 0.45² + 0.45² = 0.405.
    let rows = study("0,0", "quadratic:0.45,0.55", "1", "100", &[]);
    let r = &rows[0];
    let exact = reinforce_trace_by_enumeration(&[0.0, 0.0], &[0.605, 0.405]);
    // By hand: r = f_z (1{z=0} - ½) is 0.3025 or -0.2025; Var r = 0.06625625 - 0.05² and
    // tr Cov = 2 Var r = 0.1275125 = 8 × MATH's 0.0159391.
    assert!((exact - 0.1275125).abs() < 1e-15);
    assert!((r.variance - exact).abs() < 1e-15, "{r:?}");
    assert_eq!(
        (r.bias_norm, r.mse, r.low, r.high),
        (0.0, r.variance, r.variance, r.variance)
    );
    // MATH prints 0.01594 for the scalar variance.
    assert!((r.variance / 8.0 - 0.01594).abs() <= 0.5e-5);

    // k = 3, linear objective: f(e_i) = c_i.
    let rows = study("0.5,0,-1.5", "linear:1,0,-2", "0.5", "100", &[]);
    let exact = reinforce_trace_by_enumeration(&[0.5, 0.0, -1.5], &[1.0, 0.0, -2.0]);
    let r = &rows[0];
    assert!(
        (r.variance - exact).abs() < 1e-14 * exact,
        "{r:?} vs {exact}"
    );
    assert_eq!(
        (r.bias_norm, r.mse, r.low, r.high),
        (0.0, r.variance, r.variance, r.variance)
    );
}

/// The quadrature truth for the sampled rows at `k = 2`: `(variance, bias_norm)` in the CLI's
/// scale, for the estimator named as in the CSV.
fn truth(name: &str, tau: f64) -> (f64, f64) {
    let l = Logits::new(vec![0.0, 0.0]).unwrap();
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    let t = TwoCategory::new(&l, tau, &f).unwrap();
    let m = match name {
        "gumbel_softmax" => t.gumbel_softmax_moments(),
        "straight_through" => t.straight_through_moments(),
        "gumbel_rao_m10" => t.gumbel_rao_moments(10).unwrap(),
        other => panic!("no truth for {other}"),
    };
    assert!(m.error_estimate < 1e-10);
    // Discrete gradient (0.05, -0.05): bias vector (m - 0.05, 0.05 - m).
    let bias = std::f64::consts::SQRT_2 * (m.mean[0] - 0.05).abs();
    (2.0 * m.scalar_variance(), bias)
}

/// docs/design/math.md §3's Gumbel-Softmax figures (scalar logit, `f_MATH`) are the quadrature truth divided
/// by the factor 8 (variance) and `2√2` (bias): mean / variance 0.0248 / 0.0862 (τ = 0.1),
/// 0.0215 / 0.0142 (τ = 0.5), 0.0167 / 0.0048 (τ = 1), against the exact gradient 0.025.
#[test]
fn math_figures_with_the_factor_eight() {
    for (tau, mean, var) in [
        (0.1, 0.0248, 0.0862),
        (0.5, 0.0215, 0.0142),
        (1.0, 0.0167, 0.0048),
    ] {
        let (v, b) = truth("gumbel_softmax", tau);
        assert!((v / 8.0 - var).abs() <= 0.5e-4, "τ = {tau}: {}", v / 8.0);
        let bias_math = b / (2.0 * std::f64::consts::SQRT_2);
        assert!(
            (bias_math - (0.025 - mean)).abs() <= 0.5e-4,
            "τ = {tau}: {bias_math}"
        );
    }
}

/// The sampled rows against the quadrature truth, through the CLI.
///
/// Checks: for Gumbel-Softmax, straight-through and Gumbel-Rao (m = 10) at τ ∈ {0.1, 0.5, 1}
/// (logits 0,0, quadratic 0.45,0.55), n = 10⁵ rows each, seed 2026:
/// - the printed variance interval at `--alpha 0.001` (99.9 %) covers the true `tr Cov`;
/// - `|bias_norm - b| ≤ (z + 1) √(V/n)`, `z = 3.29` (two-sided 0.001); for `k = 2` the rows lie
///   on the line `(r, -r)`, so `√(V/n)` is exactly the standard error of `‖x̄ - ∇L‖`, and the `+1`
///   covers the `V/n` debiasing shift.
///
/// False-alarm rate: each of the 18 checks about 0.001 asymptotically, so at most about 0.018 for
/// the family (Bonferroni); the seed is fixed, so the outcome is deterministic.
/// Detectable discrepancy: the 99.9 % intervals have relative half-widths (measured at this
/// seed) of 2.8 %, 3.2 %, 1.4 % (Gumbel-Softmax, straight-through, Gumbel-Rao) at τ = 0.1,
/// 1.0 %, 1.2 %, 0.5 % at τ = 0.5 and 0.7 %, 0.7 %, 0.3 % at τ = 1: a variance off by one
/// half-width is caught with probability about ½, off by two half-widths (6.4 % at worst) almost
/// surely. A bias off by `2 (z + 1) √(V/n)` is caught almost surely: 0.023 (Gumbel-Softmax,
/// τ = 0.1) down to 0.0053 (Gumbel-Softmax, τ = 1).
#[test]
fn sampled_rows_cover_the_quadrature_truth() {
    let rows = study(
        "0,0",
        "quadratic:0.45,0.55",
        "0.1,0.5,1",
        "100000",
        &["--seed", "2026", "--alpha", "0.001"],
    );
    let n = 100_000.0;
    let z = 3.290_526_731_491_926; // Φ⁻¹(1 - 0.0005)
    for r in rows.iter().filter(|r| r.tau.is_some()) {
        let tau = r.tau.unwrap();
        let (v, b) = truth(&r.estimator, tau);
        assert!(
            r.low <= v && v <= r.high,
            "{} τ = {tau}: variance truth {v} outside [{}, {}]",
            r.estimator,
            r.low,
            r.high
        );
        let tol = (z + 1.0) * (v / n).sqrt();
        assert!(
            (r.bias_norm - b).abs() <= tol,
            "{} τ = {tau}: bias {} vs truth {b} (tol {tol})",
            r.estimator,
            r.bias_norm
        );
    }
}

#[test]
fn bad_input_exits_2_with_the_rule() {
    let base = |objective: &'static str, taus: &'static str, extra: &[&'static str]| {
        let mut v = vec![
            "study",
            "variance",
            "--logits",
            "0,0",
            "--objective",
            objective,
            "--taus",
            taus,
        ];
        v.extend_from_slice(if extra.is_empty() {
            &["--samples", "100"]
        } else {
            extra
        });
        v
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (base("cubic:1,2", "1", &[]), "unknown kind 'cubic'"),
        (base("1,2", "1", &[]), "expected linear:c0,c1"),
        (base("linear:1,nan", "1", &[]), "must be finite"),
        (base("quadratic:1,x", "1", &[]), "cannot read 'x'"),
        (base("linear:1,2,3", "1", &[]), "wrong length"),
        (base("linear:1,2", "0", &[]), "must be positive"),
        (base("linear:1,2", "1,nan", &[]), "must be finite"),
        (base("linear:1,2", "1", &["--samples", "1"]), "at least 2"),
        (base("linear:1,2", "1", &["--alpha", "1.5"]), "in (0, 1)"),
        (base("linear:1,2", "1", &["--rao-draws", "0"]), "at least 1"),
        (
            vec![
                "study",
                "variance",
                "--logits",
                "nan,0",
                "--objective",
                "linear:1,2",
            ],
            "finite or -inf",
        ),
    ];
    for (args, rule) in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(rule), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Missing --objective is a usage error.
    let out = run(&["study", "variance", "--logits", "0,0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn out_writes_csv_and_svg() {
    let dir = temp_dir("variance");
    let out = run(&[
        "study",
        "variance",
        "--logits",
        "0,0",
        "--objective",
        "quadratic:0.45,0.55",
        "--taus",
        "0.1,0.5,1",
        "--samples",
        "2000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("variance.csv")).unwrap(),
        String::from_utf8(out.stdout).unwrap()
    );
    let svg = std::fs::read_to_string(dir.join("variance.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    // Three panels (bias, variance, MSE), each with the three sampled estimators at three τ.
    assert_eq!(svg.matches("<svg").count(), 4);
    assert_eq!(svg.matches("<circle").count(), 3 * 3 * 3);
    for text in [
        "gumbel_softmax",
        "straight_through",
        "gumbel_rao_m10",
        "reinforce (exact)",
    ] {
        assert!(svg.contains(text), "{text}");
    }
    assert!(!svg.contains("NaN"));
    std::fs::remove_dir_all(dir).unwrap();
}
