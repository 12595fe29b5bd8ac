//! The semi-supervised study (issue 8): single-sample estimators against independent truths,
//! and the `study semi-supervised` command line.
//!
//! Truths: at `k = 2` a Gumbel-Softmax sample is `ŷ = (b, 1 - b)`, `b = σ((Δ + s)/τ)` with
//! `Δ = a₀ - a₁` and `s = g₀ - g₁ ~ Logistic(0, 1)`, so the relaxed objective
//! ```text
//! U_τ(a) = H(softmax a) - ∫ L(x, (σ((Δ+s)/τ), 1 - σ((Δ+s)/τ))) φ(s) ds,   φ(s) = e^{-s}/(1+e^{-s})²
//! ```
//! is a one-dimensional integral, computed by the crate's double-exponential quadrature (its own
//! tests check it against closed forms) from the decoder's forward pass only. The exact `U` is
//! written out here from its definition. Neither uses the estimators' code.

use std::process::Output;

use gumbel_audit::grad::quadrature::real_line;
use gumbel_audit::numeric::{log_sum_exp, sigmoid};
use gumbel_audit::rng::seeded;
use gumbel_audit::study::semi_supervised::{
    DecoderScratch, Estimator, Gradients, Model, SemiSupervisedStudy, Setup, Workspace,
    estimator_error,
};

use crate::common::binary;

/// `H(softmax a)`.
fn entropy(a: &[f64]) -> f64 {
    let l = log_sum_exp(a);
    a.iter().map(|ai| -(ai - l).exp() * (ai - l)).sum()
}

/// `U(x)` at logits `a` from its definition.
fn exact_u(m: &Model, x: &[f64], a: &[f64]) -> f64 {
    let l = log_sum_exp(a);
    let mut s = DecoderScratch::new(&m.decoder);
    let mut u = entropy(a);
    for c in 0..a.len() {
        let mut e = vec![0.0; a.len()];
        e[c] = 1.0;
        u -= (a[c] - l).exp() * m.decoder.loss(x, &e, &mut s);
    }
    u
}

/// `U_τ(x)` at logits `a` (`k = 2`) by quadrature over the logistic difference of the noise.
fn relaxed_u(m: &Model, x: &[f64], a: &[f64]) -> f64 {
    let tau = m.temperature();
    let delta = a[0] - a[1];
    let mut s = DecoderScratch::new(&m.decoder);
    let q = real_line(
        |t| {
            let b = sigmoid((delta + t) / tau);
            let e = (-t.abs()).exp();
            let phi = e / ((1.0 + e) * (1.0 + e));
            m.decoder.loss(x, &[b, 1.0 - b], &mut s) * phi
        },
        1e-11,
    );
    assert!(q.error_estimate < 1e-9, "quadrature: {q:?}");
    entropy(a) - q.value
}

fn setup_k2() -> Setup {
    let mut study = SemiSupervisedStudy::new(vec![2], 17);
    study.width = 8;
    study.dim = 3;
    study.batch = 3;
    study.temperature = 0.5;
    study.setup(2).unwrap()
}

/// Standard normal upper quantile for the two-sided level used below: `Φ⁻¹(1 - α/2)` with
/// `α = 1e-3 / 3` per point (Bonferroni over 3 points, family-wise α = 1e-3).
const Z: f64 = 3.587_915;
/// Power quantile `Φ⁻¹(0.95)`: detectable discrepancy `(Z + Z_POWER) · sd / √n`.
const Z_POWER: f64 = 1.644_85;
/// Draws per point.
const N: usize = 20_000;

/// Mean and standard error of `N` single-sample values (and of the logits gradient's first
/// coordinate) at point `x`.
fn sample_means(setup: &Setup, x: &[f64], est: Estimator, seed: u64) -> [(f64, f64); 2] {
    let m = &setup.model;
    let mut ws = Workspace::new(m);
    let mut g = Gradients::zeros(m);
    let mut rng = seeded(seed);
    let (mut sv, mut sv2, mut sg, mut sg2) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..N {
        let v = m.unlabelled(x, est, &mut rng, &mut ws, &mut g, 1.0);
        let d = ws.grad_logits()[0];
        sv += v;
        sv2 += v * v;
        sg += d;
        sg2 += d * d;
    }
    let n = N as f64;
    let stats = |s: f64, s2: f64| {
        let mean = s / n;
        let var = (s2 - n * mean * mean) / (n - 1.0);
        (mean, (var / n).sqrt())
    };
    [stats(sv, sv2), stats(sg, sg2)]
}

/// The Gumbel-Softmax single-sample value and logits gradient are unbiased for the relaxed
/// objective `U_τ` and its gradient `∂U_τ/∂a₀` (k = 2, τ = 0.5, three points).
///
/// Six z-tests of the mean of `n = 20 000` draws (3 points × {value, gradient}), each two-sided
/// at `1e-3/3`: family-wise α ≤ 1e-3 for the values and for the gradients, ≤ 2e-3 in all.
/// Detectable discrepancy at 95 % power:
/// `(3.59 + 1.64) · sd/√n ≈ 0.037 sd`, printed per point and asserted to be smaller than
/// `|U_τ - U|`, so the test also tells the relaxed objective from the exact one (a
/// Gumbel-Softmax that evaluated the decoder at the hard sample would fail it).
#[test]
fn gumbel_softmax_mean_is_the_relaxed_objective() {
    let setup = setup_k2();
    let m = &setup.model;
    for (i, x) in setup.data.points.iter().enumerate() {
        let mut a = vec![0.0; 2];
        m.encoder.logits_into(x, &mut a);
        let u_tau = relaxed_u(m, x, &a);
        let u = exact_u(m, x, &a);
        // ∂U_τ/∂a₀ by central differences of the quadrature (error ~1e-8 ≪ the SE below).
        let h = 1e-4;
        let du =
            (relaxed_u(m, x, &[a[0] + h, a[1]]) - relaxed_u(m, x, &[a[0] - h, a[1]])) / (2.0 * h);
        let [(mean, se), (gmean, gse)] =
            sample_means(&setup, x, Estimator::GumbelSoftmax, 100 + i as u64);
        let detectable = (Z + Z_POWER) * se;
        eprintln!(
            "point {i}: U_τ = {u_tau:.6}, U = {u:.6}, mean = {mean:.6} ± {se:.2e}, detectable {detectable:.3e}; \
             ∂U_τ/∂a₀ = {du:.6}, mean = {gmean:.6} ± {gse:.2e}"
        );
        assert!(
            (mean - u_tau).abs() <= Z * se,
            "point {i}: value mean {mean} vs U_τ {u_tau} (se {se})"
        );
        assert!(
            (gmean - du).abs() <= Z * gse,
            "point {i}: gradient mean {gmean} vs ∂U_τ/∂a₀ {du} (se {gse})"
        );
        assert!(
            (u_tau - u).abs() > detectable,
            "point {i}: the test cannot tell U_τ from U"
        );
    }
}

/// Straight-through's forward value is a Gumbel-Max sample of the per-class term, so its mean is
/// the exact `U` (k = 2, three points). z-test, n = 20 000 per point, family-wise α = 1e-3;
/// detectable discrepancy `≈ 0.037 sd` at 95 % power, asserted smaller than `|U_τ - U|` so that
/// a straight-through that fed the soft sample forward would fail.
#[test]
fn straight_through_value_mean_is_the_exact_objective() {
    let setup = setup_k2();
    let m = &setup.model;
    for (i, x) in setup.data.points.iter().enumerate() {
        let mut a = vec![0.0; 2];
        m.encoder.logits_into(x, &mut a);
        let u = exact_u(m, x, &a);
        let u_tau = relaxed_u(m, x, &a);
        let [(mean, se), _] = sample_means(&setup, x, Estimator::StraightThrough, 200 + i as u64);
        assert!(
            (mean - u).abs() <= Z * se,
            "point {i}: value mean {mean} vs U {u} (se {se})"
        );
        assert!(
            (u_tau - u).abs() > (Z + Z_POWER) * se,
            "point {i}: no power"
        );
    }
}

/// The study's error bookkeeping (`estimator_error`) against the same truths: at k = 2, three
/// points, n = 20 000 draws each, intervals at α = 1e-3 each (two intervals: family-wise
/// α ≤ 2e-3): straight-through's value-bias interval covers 0, Gumbel-Softmax's covers the mean
/// relaxation bias `mean_i (U_τ(x_i) - U(x_i))` from quadrature. Detectable discrepancy at 95 %
/// power `≈ (3.29 + 1.64) · SE`, with SE printed. The gradient columns satisfy the algebraic
/// identity `mse = bias² + variance` (module doc of `study::semi_supervised`) to rounding.
#[test]
fn estimator_error_intervals_cover_the_truths() {
    let setup = setup_k2();
    let m = &setup.model;
    let points = &setup.data.points;
    let mut relaxation_bias = 0.0;
    for x in points {
        let mut a = vec![0.0; 2];
        m.encoder.logits_into(x, &mut a);
        relaxation_bias += (relaxed_u(m, x, &a) - exact_u(m, x, &a)) / points.len() as f64;
    }
    for (est, truth, seed) in [
        (Estimator::StraightThrough, 0.0, 300),
        (Estimator::GumbelSoftmax, relaxation_bias, 301),
    ] {
        let e = estimator_error(m, points, est, N, 1e-3, &mut seeded(seed)).unwrap();
        eprintln!("{est:?}: {e:?}; truth {truth}");
        assert!(
            e.value_bias_ci_low <= truth && truth <= e.value_bias_ci_high,
            "{est:?}: interval [{}, {}] misses {truth}",
            e.value_bias_ci_low,
            e.value_bias_ci_high
        );
        let sum = e.grad_bias2_rel + e.grad_variance_rel;
        assert!(
            (e.grad_mse_rel - sum).abs() <= 1e-9 * e.grad_mse_rel,
            "{e:?}"
        );
    }
    // The two truths differ by more than the intervals' width, so the check tells them apart.
    assert!(relaxation_bias.abs() > 0.01, "{relaxation_bias}");
}

// ---------------------------------------------------------------------------------------------
// The command line.

const HEADER: &str = "k,exact_us_per_step,gs_us_per_step,st_us_per_step,speedup_gs,speedup_st,\
gs_value_bias,gs_value_bias_ci_low,gs_value_bias_ci_high,gs_value_sd,gs_grad_bias2_rel,\
gs_grad_variance_rel,gs_grad_mse_rel,gs_grad_mse_rel_ci_low,gs_grad_mse_rel_ci_high,\
st_value_bias,st_value_bias_ci_low,st_value_bias_ci_high,st_value_sd,st_grad_bias2_rel,\
st_grad_variance_rel,st_grad_mse_rel,st_grad_mse_rel_ci_low,st_grad_mse_rel_ci_high";

/// Small and fast: width 4, two unlabelled points, 20 draws, one timing block.
const SMALL: [&str; 10] = [
    "--width", "4", "--batch", "2", "--draws", "20", "--reps", "1", "--dim", "2",
];

fn run(args: &[&str]) -> Output {
    binary::command()
        .args(["study", "semi-supervised"])
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn cli_prints_header_and_one_row_per_k() {
    let mut args = vec!["--classes", "2,3", "--seed", "4"];
    args.extend(SMALL);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse::<f64>().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    for (row, k) in rows.iter().zip([2.0, 3.0]) {
        assert_eq!(row.len(), HEADER.split(',').count());
        assert_eq!(row[0], k);
        // Times positive; speedup is their ratio.
        assert!(row[1] > 0.0 && row[2] > 0.0 && row[3] > 0.0);
        assert!((row[4] - row[1] / row[2]).abs() <= 1e-9 * row[4]);
        // Intervals contain their estimate.
        assert!(row[7] <= row[6] && row[6] <= row[8]);
        assert!(row[13] <= row[12] && row[12] <= row[14]);
    }
}

#[test]
fn cli_rejects_bad_input_with_exit_2() {
    for bad in [
        &["--classes", "1"][..],
        &["--classes", "2,x"],
        &["--classes", ""],
        &["--classes", "2", "--tau", "0"],
        &["--classes", "2", "--draws", "1"],
        &["--classes", "2", "--alpha", "1.5"],
        &["--classes", "2", "--width", "0"],
        &["--classes", "2", "--batch", "0"],
    ] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty(), "{bad:?}");
        assert!(!out.stderr.is_empty(), "{bad:?}");
    }
}

#[test]
fn cli_writes_csv_and_svg_with_the_paper_points() {
    let dir = binary::temp_dir("semisup");
    let mut args = vec!["--classes", "2", "--out", dir.to_str().unwrap()];
    args.extend(SMALL);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.join("semi_supervised.csv")).unwrap();
    assert_eq!(csv, String::from_utf8(out.stdout).unwrap());
    let svg = std::fs::read_to_string(dir.join("semi_supervised.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("paper (Jang+ 2017)"));
    std::fs::remove_dir_all(&dir).unwrap();
}
