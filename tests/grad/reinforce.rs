//! REINFORCE against its exact ground truth, without sampling: the mean and covariance over the
//! exact enumeration of categories equal the exact gradient and the closed-form covariance.
//!
//! Kinds (lib.rs "Notes on testing"): exact values (enumeration) and property tests. Nothing
//! here is statistical: every comparison is between two exact computations, so the tolerances
//! are rounding bounds, stated at each use.

use gumbel_audit::distributions::Logits;
use gumbel_audit::grad::{Baseline, GradientEstimator, LeaveOneOut, Objective, Reinforce};
use nalgebra::DMatrix;
use proptest::prelude::*;

use crate::common::regressions;
use crate::common::strategies::{logits_masked, objective};

/// A baseline: none, or a constant in `[-5, 5]`.
fn baseline() -> impl Strategy<Value = Baseline> {
    prop_oneof![
        Just(Baseline::None),
        (-5.0..5.0f64).prop_map(Baseline::Constant)
    ]
}

/// `Σ_z π_z ĝ(z)` and `Σ_z π_z ĝ(z) ĝ(z)ᵀ - mean meanᵀ` by enumeration of the categories.
fn enumerate(r: &Reinforce) -> (Vec<f64>, DMatrix<f64>) {
    let p = r.logits().probs();
    let k = p.len();
    let mut mean = vec![0.0; k];
    let mut second = DMatrix::<f64>::zeros(k, k);
    for (z, &pz) in p.iter().enumerate() {
        if pz == 0.0 {
            assert!(r.row(z).is_err(), "a masked category has no row");
            continue;
        }
        let g = r.row(z).unwrap();
        for i in 0..k {
            mean[i] += pz * g[i];
            for j in 0..k {
                second[(i, j)] += pz * g[i] * g[j];
            }
        }
    }
    let cov = DMatrix::from_fn(k, k, |i, j| second[(i, j)] - mean[i] * mean[j]);
    (mean, cov)
}

/// Largest |f(e_z) - b| over the vertices: the scale of a REINFORCE row.
fn row_scale(f: &Objective, b: f64) -> f64 {
    f.vertex_values()
        .iter()
        .map(|v| (v - b).abs())
        .fold(1.0, f64::max)
}

proptest! {
    #![proptest_config(regressions::config(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/grad/reinforce.txt"
    )))]

    /// E ĝ = Σ_z π_z ĝ(z) equals ∂L/∂l_j = π_j (f_j - L), to 1e-12 absolute: both are sums of
    /// ≤ 6 terms of size ≤ 29 (|f| ≤ (1+2)² + 5·2²), rounding ~1e-14.
    #[test]
    fn enumerated_mean_is_exact_gradient(
        (l, f) in (2usize..=6).prop_flat_map(|k| (logits_masked(k), objective(k))),
        b in baseline(),
    ) {
        let lg = Logits::new(l).unwrap();
        let exact = f.exact_gradient(&lg).unwrap();
        let r = Reinforce::new(lg, f, b).unwrap();
        let (mean, _) = enumerate(&r);
        for (m, e) in mean.iter().zip(&exact) {
            prop_assert!((m - e).abs() <= 1e-12, "mean {mean:?} exact {exact:?}");
        }
    }

    /// The closed-form covariance (objective.rs) equals the enumerated second moments minus the
    /// mean's outer product, to 1e-12 relative to the squared row scale (terms ≤ 34², k ≤ 6).
    #[test]
    fn closed_form_covariance_is_enumeration(
        (l, f) in (2usize..=6).prop_flat_map(|k| (logits_masked(k), objective(k))),
        b in baseline(),
    ) {
        let lg = Logits::new(l).unwrap();
        let bv = match b { Baseline::Constant(c) => c, _ => 0.0 };
        let scale = row_scale(&f, bv).powi(2);
        let r = Reinforce::new(lg, f, b).unwrap();
        let (_, cov) = enumerate(&r);
        let exact = r.exact_moments().unwrap().covariance;
        let diff = (&cov - &exact).abs().max();
        prop_assert!(diff <= 1e-12 * scale, "diff {diff}\n{cov}\n{exact}");
        prop_assert!((&exact - exact.transpose()).abs().max() == 0.0);
    }

    /// Every row sums to zero (shift invariance) within rounding: `Σ_i w (e_z - π)_i = w(1 - Σπ)`
    /// and `|1 - Σ π| ≤ k·ε`, so the bound is `8 k ε |w|` with `|w| ≤ row scale`.
    #[test]
    fn rows_sum_to_zero(
        (l, f) in (2usize..=6).prop_flat_map(|k| (logits_masked(k), objective(k))),
        b in baseline(),
        seed in 0u64..1000,
    ) {
        let k = l.len() as f64;
        let lg = Logits::new(l).unwrap();
        let bv = match b { Baseline::Constant(c) => c, _ => 0.0 };
        let tol = 8.0 * k * f64::EPSILON * row_scale(&f, bv);
        let r = Reinforce::new(lg.clone(), f.clone(), b).unwrap();
        let loo = LeaveOneOut::new(lg, f, 3).unwrap();
        for rows in [r.sample(4, seed), loo.sample(4, seed)] {
            for row in rows.row_iter() {
                prop_assert!(row.sum().abs() <= tol, "{row}");
            }
        }
    }

    /// Leave-one-out is unbiased: its exact mean over all `k'^m` tuples equals ∇L to 1e-12
    /// (sums of ≤ 4⁴ = 256 products of size ≤ 60, rounding ~1e-13).
    #[test]
    fn leave_one_out_exact_mean_is_exact_gradient(
        (l, f) in (2usize..=4).prop_flat_map(|k| (logits_masked(k), objective(k))),
        m in 2usize..=4,
    ) {
        let lg = Logits::new(l).unwrap();
        let exact = f.exact_gradient(&lg).unwrap();
        let loo = LeaveOneOut::new(lg, f, m).unwrap();
        let moments = loo.exact_moments().unwrap();
        for (a, e) in moments.mean.iter().zip(&exact) {
            prop_assert!((a - e).abs() <= 1e-12, "{:?} vs {exact:?}", moments.mean);
        }
    }
}

/// docs/design/math.md §3 [derived]: for k = 2, REINFORCE with baseline `b = π_1 f(e_0) + π_0 f(e_1)` (the
/// `(1-θ) f(1) + θ f(0)` of MATH with `θ = π_0`, category 0 playing `b = 1`) has zero
/// variance. Both rows equal `π_0 π_1 (f_0 - f_1)(1, -1)`, so the closed form must give 0 up to
/// rounding of terms of size ~1 (1e-15).
#[test]
fn two_category_optimal_baseline_has_zero_variance() {
    for (l0, t) in [(0.0, [0.45, 0.55]), (1.3, [0.1, -2.0]), (-2.2, [1.5, 0.3])] {
        let lg = Logits::new(vec![l0, 0.0]).unwrap();
        let f = Objective::quadratic(t.to_vec()).unwrap();
        let p = lg.probs();
        let fv = f.vertex_values();
        let b = p[1] * fv[0] + p[0] * fv[1];
        let r = Reinforce::new(lg.clone(), f.clone(), Baseline::Constant(b)).unwrap();
        let cov = r.exact_moments().unwrap().covariance;
        assert!(cov.abs().max() < 1e-15, "{cov}");
        // Without a baseline the variance is positive.
        let r0 = Reinforce::new(lg, f, Baseline::None).unwrap();
        assert!(r0.exact_moments().unwrap().covariance[(0, 0)] > 1e-4);
    }
}

/// docs/design/math.md §3 cross-check, k = 2 as a Bernoulli with logit 0 and `f(b) = (b - 0.45)²`.
///
/// Parameterisation: logits `(a, 0)` with category 0 as `b = 1`, so `∂/∂a = ∂/∂l_0` (row entry
/// 0). The protocol objective `quadratic:0.45,0.55` is `(y_0 - 0.45)² + (y_1 - 0.55)² =
/// 2 (y_0 - 0.45)²`, twice MATH's `f`: gradients are 2×, variances 4× MATH's figures.
/// MATH: exact gradient 0.025 (here exactly: ½·(0.3025 - 0.2525)), REINFORCE (no baseline)
/// variance 0.01594 (exactly 0.0159391 = ½(0.15125² + 0.10125²) - 0.025²).
#[test]
fn math_cross_check_discrete() {
    let lg = Logits::new(vec![0.0, 0.0]).unwrap();
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    let grad = f.exact_gradient(&lg).unwrap();
    assert!((grad[0] / 2.0 - 0.025).abs() < 1e-16, "{grad:?}");
    let r = Reinforce::new(lg, f, Baseline::None).unwrap();
    let var = r.exact_moments().unwrap().covariance[(0, 0)] / 4.0;
    let by_hand = 0.5 * (0.15125f64.powi(2) + 0.10125f64.powi(2)) - 0.025f64.powi(2);
    assert!((var - by_hand).abs() < 1e-16, "{var} vs {by_hand}");
    // MATH prints 0.01594: within half a unit of its last digit.
    assert!((var - 0.01594).abs() <= 0.5e-5, "{var}");
}
