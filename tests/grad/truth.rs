//! The `k = 2` relaxed ground truth (quadrature) against closed forms, an independent rule,
//! finite differences of the relaxed objective, and the cross-check figures of docs/design/math.md §3; the
//! Gumbel-Rao conditional expectation; the Monte Carlo ground truth for larger `k`.
//!
//! Kinds (lib.rs "Notes on testing"): exact values and quadrature; two distributional tests
//! (z-tests with an exactly known variance, no stats layer needed), each with its false-alarm
//! rate, sample size and detectable discrepancy in its doc comment.
//!
//! Parameterisation throughout: logits `(l_0, l_1)`, `a = l_0 - l_1`, row entry 0 is
//! `∂/∂l_0 = ∂/∂a` (the gradient with respect to the scalar Bernoulli logit of category 0),
//! and the scalar variance is `Cov[row][(0, 0)]`.

use gumbel_audit::distributions::Logits;
use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::grad::truth::{TwoCategory, relaxed_gradient_monte_carlo};
use gumbel_audit::grad::{GumbelRao, Objective};

use crate::support::beta;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn truth(a: f64, tau: f64, f: &Objective) -> TwoCategory {
    TwoCategory::new(&Logits::new(vec![a, 0.0]).unwrap(), tau, f).unwrap()
}

/// At `τ = 1`, `a = 0`, `u = y_0 = σ(L)` is uniform on (0, 1) and the rows are polynomials in
/// `u`: with `f = Σ (y_i - t_i)²`, `c = t_1 - t_0 - 1`,
/// `r_GS = u(1-u)·2(2u + c)`, so `E r = 2(2B(2,1) + c B(1,1))`,
/// `E r² = 4(4B(4,2) + 4c B(3,2) + c² B(2,2))`; `r_ST = u(1-u)·s_d`, `d = 0` iff `u ≥ ½`, so
/// `E r = (s_0 + s_1)/12`, `E r² = (s_0² + s_1²)/60`. The quadrature must match to 1e-12.
#[test]
fn closed_forms_at_unit_temperature_zero_logit() {
    for t in [[0.45, 0.55], [0.0, 0.0], [1.7, -0.4]] {
        let f = Objective::quadratic(t.to_vec()).unwrap();
        let q = truth(0.0, 1.0, &f);
        let c = t[1] - t[0] - 1.0;
        let gs = q.gumbel_softmax_moments();
        let mean = 2.0 * (2.0 * beta(2, 1) + c * beta(1, 1));
        let second = 4.0 * (4.0 * beta(4, 2) + 4.0 * c * beta(3, 2) + c * c * beta(2, 2));
        assert!(
            (gs.mean[0] - mean).abs() < 1e-12,
            "{t:?}: {} vs {mean}",
            gs.mean[0]
        );
        assert!(
            (gs.scalar_variance() - (second - mean * mean)).abs() < 1e-12,
            "{t:?}: {}",
            gs.scalar_variance()
        );
        assert!(gs.error_estimate < 1e-10, "{gs:?}");
        // Straight-through slopes s_d = ∂_0 f(e_d) - ∂_1 f(e_d) = 2(δ_{d0} - t_0) - 2(δ_{d1} - t_1).
        let s0 = 2.0 * (1.0 - t[0]) - 2.0 * (0.0 - t[1]);
        let s1 = 2.0 * (0.0 - t[0]) - 2.0 * (1.0 - t[1]);
        let st = q.straight_through_moments();
        let mean = (s0 + s1) / 12.0;
        let second = (s0 * s0 + s1 * s1) / 60.0;
        assert!(
            (st.mean[0] - mean).abs() < 1e-12,
            "{t:?}: {} vs {mean}",
            st.mean[0]
        );
        assert!((st.scalar_variance() - (second - mean * mean)).abs() < 1e-12);
        assert!(st.error_estimate < 1e-10, "{st:?}");
    }
}

/// At `τ = 1` and any `a`, for linear `f`: `E r = (c_0 - c_1) E σ'(a + L) = (c_0 - c_1) q(a)`,
/// `q(a) = e^a ((a - 2) e^a + a + 2) / (e^a - 1)³` the density of the difference of two
/// standard logistics. Evaluated for `|a| ≥ 0.7` (no cancellation in `e^a - 1`): 1e-12.
#[test]
fn closed_form_linear_any_logit() {
    let f = Objective::linear(vec![1.5, -0.5]).unwrap();
    for a in [0.7f64, -2.5, 5.0, -9.0] {
        let q = a.exp() * ((a - 2.0) * a.exp() + a + 2.0) / (a.exp() - 1.0).powi(3);
        let m = truth(a, 1.0, &f).gumbel_softmax_moments();
        assert!(
            (m.mean[0] - 2.0 * q).abs() < 1e-12,
            "a={a}: {} vs {}",
            m.mean[0],
            2.0 * q
        );
        assert!(m.error_estimate < 1e-10);
    }
}

/// Independent rule: composite Simpson in `s = (a + L)/τ` over `[-S, 0]` and `[0, S]`
/// (`S = (45 + |a|)/τ`, beyond which the density `e^{-|τs - a|}` is below 3e-20), with the rows
/// written out here from their formulas, not taken from the library.
fn simpson_moments(a: f64, tau: f64, t: [f64; 2], straight_through: bool) -> (f64, f64) {
    let r = |s: f64, right: bool| {
        let y0 = sigmoid(s);
        let y1 = 1.0 - y0;
        let (v0, v1) = if straight_through {
            let h0 = if right { 1.0 } else { 0.0 };
            (2.0 * (h0 - t[0]), 2.0 * (1.0 - h0 - t[1]))
        } else {
            (2.0 * (y0 - t[0]), 2.0 * (y1 - t[1]))
        };
        y0 * y1 * (v0 - v1) / tau
    };
    let dens = |s: f64| {
        let x = tau * s - a;
        let p = sigmoid(x);
        tau * p * (1.0 - p)
    };
    let big_s = (45.0 + a.abs()) / tau;
    let n = 400_000usize; // even; h = S/n ≤ 1.2e-3 for τ ≥ 0.1
    let h = big_s / n as f64;
    let (mut m1, mut m2) = (0.0, 0.0);
    for right in [true, false] {
        for i in 0..=n {
            let s = if right { i as f64 * h } else { -(i as f64) * h };
            let w = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            } * h
                / 3.0;
            let ri = r(s, right);
            m1 += w * dens(s) * ri;
            m2 += w * dens(s) * ri * ri;
        }
    }
    (m1, m2 - m1 * m1)
}

/// Quadrature vs composite Simpson for both relaxed estimators over `τ ∈ {0.1, 0.5, 1, 3, 10}`,
/// `a ∈ {0, 1.7, -4}`. Simpson's error is `≤ S h⁴ max|F⁗| / 90`; with `h ≤ 1.2e-3` and
/// `|F⁗| ≲ 10/τ⁴` (derivatives of the logistic-type integrand, each `1/τ`) that is below
/// `1e-9` for `τ = 0.1` and far smaller above; the agreement required is 2e-9 absolute (and the
/// quadrature's own error estimate must be below 1e-10).
#[test]
fn quadrature_matches_independent_simpson() {
    let t = [0.45, 0.55];
    let f = Objective::quadratic(t.to_vec()).unwrap();
    let mut worst: f64 = 0.0;
    for tau in [0.1, 0.5, 1.0, 3.0, 10.0] {
        for a in [0.0, 1.7, -4.0] {
            let q = truth(a, tau, &f);
            for st in [false, true] {
                let m = if st {
                    q.straight_through_moments()
                } else {
                    q.gumbel_softmax_moments()
                };
                let (mean, var) = simpson_moments(a, tau, t, st);
                assert!(m.error_estimate < 1e-10, "τ={tau} a={a} st={st}: {m:?}");
                worst = worst
                    .max((m.mean[0] - mean).abs())
                    .max((m.scalar_variance() - var).abs());
                assert!(
                    (m.mean[0] - mean).abs() < 2e-9 && (m.scalar_variance() - var).abs() < 2e-9,
                    "τ={tau} a={a} st={st}: quad {} {} simpson {mean} {var}",
                    m.mean[0],
                    m.scalar_variance()
                );
            }
        }
    }
    println!("largest |quadrature - Simpson| = {worst:.2e}");
}

/// The Gumbel-Softmax mean is the gradient of the relaxed objective: central differences of
/// `L_τ(a)` (itself by quadrature, error ≤ 1e-13) with `δ = 1e-3` err by
/// `≤ δ² sup|L_τ'''|/6 + 1e-13/δ`; `L_τ''' = E[f(y) · (-p'''/p)(L)]` (derivatives moved onto
/// the logistic density) so `|L_τ'''| ≤ sup|f| ∫|p'''| ≤ 4 · 1` here: tolerance 1e-6.
#[test]
fn relaxed_gradient_is_derivative_of_relaxed_objective() {
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    let delta = 1e-3;
    for tau in [0.2, 1.0, 2.5] {
        for a in [0.0, 0.8, -3.0] {
            let g = truth(a, tau, &f).gumbel_softmax_moments().mean[0];
            let up = truth(a + delta, tau, &f).relaxed_objective();
            let down = truth(a - delta, tau, &f).relaxed_objective();
            assert!(up.error_estimate < 1e-12 && down.error_estimate < 1e-12);
            let fd = (up.value - down.value) / (2.0 * delta);
            assert!((g - fd).abs() < 1e-6, "τ={tau} a={a}: {g} vs {fd}");
        }
    }
}

/// docs/design/math.md §3 cross-check figures, k = 2 as a Bernoulli with logit 0 and `f(b) = (b - 0.45)²`,
/// reproduced by quadrature. Parameterisation: `∂/∂a` with `a` the scalar Bernoulli logit
/// (row entry 0 of the 2-vector gradient; MATH's figures are in this parameterisation: the
/// exact gradient 0.025 is `½ (f(1) - f(0))`). The protocol objective `quadratic:0.45,0.55` is
/// `2 f(y_0)`, so means are divided by 2 and variances by 4. Each figure must agree within half
/// a unit of its last printed digit.
#[test]
fn math_cross_check_pathwise() {
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    for (tau, mean, var) in [
        (0.1, 0.0248, 0.0862),
        (0.5, 0.0215, 0.0142),
        (1.0, 0.0167, 0.0048),
    ] {
        let m = truth(0.0, tau, &f).gumbel_softmax_moments();
        let (qm, qv) = (m.mean[0] / 2.0, m.scalar_variance() / 4.0);
        assert!(m.error_estimate < 1e-10);
        assert!(
            (qm - mean).abs() <= 0.5e-4 && (qv - var).abs() <= 0.5e-4,
            "τ={tau}: quadrature {qm:.6} / {qv:.6}, MATH {mean} / {var}"
        );
    }
}

/// docs/design/math.md §3: `τ·Var → 0.00875` and the pathwise mean → the exact gradient 0.025 as τ → 0.
/// The limit is `∫_0^1 (u - 0.45)² u (1 - u) du = B(3,1) - 0.9 B(2,1) + 0.2025 B(1,1)` (substitute
/// `L = τ s`, `p(τ s) → ¼`, `u = σ(s)`). The remainder is O(τ): the test requires that it
/// shrinks by a factor between 5 and 20 per decade of τ and is below 2e-6 at τ = 1e-4.
#[test]
fn math_small_temperature_limit() {
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    let limit = beta(3, 1) - 0.9 * beta(2, 1) + 0.2025 * beta(1, 1);
    assert!((limit - 0.00875).abs() < 1e-15, "{limit}");
    let mut prev: Option<(f64, f64)> = None;
    for tau in [1e-2, 1e-3, 1e-4] {
        let m = truth(0.0, tau, &f).gumbel_softmax_moments();
        let scaled = tau * m.scalar_variance() / 4.0;
        let gap = (scaled - limit).abs();
        let mean_gap = (m.mean[0] / 2.0 - 0.025).abs();
        assert!(m.error_estimate * tau < 1e-10, "τ={tau}: {m:?}");
        if let Some((g, mg)) = prev {
            let ratio = g / gap;
            assert!(
                (5.0..20.0).contains(&ratio),
                "τ={tau}: gap {gap}, previous {g}"
            );
            assert!(mean_gap < mg, "τ={tau}: mean gap {mean_gap} vs {mg}");
        }
        prev = Some((gap, mean_gap));
    }
    assert!(prev.is_some_and(|(g, _)| g < 2e-6));
}

/// Law of total variance: Gumbel-Rao with m = 1 has exactly the straight-through moments, and
/// its mean does not depend on m (quadrature against quadrature, to 1e-10).
#[test]
fn gumbel_rao_moments_decompose_straight_through() {
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    for (a, tau) in [(0.0, 0.5), (1.2, 0.1), (-2.0, 2.0)] {
        let q = truth(a, tau, &f);
        let st = q.straight_through_moments();
        let gr1 = q.gumbel_rao_moments(1).unwrap();
        let gr10 = q.gumbel_rao_moments(10).unwrap();
        assert!((gr1.mean[0] - st.mean[0]).abs() < 1e-10);
        assert!((gr1.scalar_variance() - st.scalar_variance()).abs() < 1e-10);
        assert!((gr10.mean[0] - st.mean[0]).abs() < 1e-10);
        assert!(gr10.scalar_variance() < gr1.scalar_variance());
    }
}

/// Gumbel-Rao's average over many conditional draws converges to `E[straight-through | d]`.
///
/// A z-test with the exactly known conditional standard deviation `σ_d` (quadrature): for
/// each of the 4 cases (two `(a, τ)` pairs × `d ∈ {0, 1}`) the row entry 0 of
/// `GumbelRao(m = 200 000).row_given_category(d, u)` is compared with `μ_d`;
/// `|z| = |r̄ - μ_d| / (σ_d / √m)` must be below 5.03, the two-sided critical value at
/// α = 5e-7 per case, 2e-6 family-wise (Bonferroni). Sample size `n = m = 200 000` conditional
/// draws per case; smallest discrepancy detected with probability 0.999: `(5.03 + 3.09) σ_d/√m
/// ≈ 0.018 σ_d`. One fixed seed per case. The averaged rows are bounded, so the normal
/// approximation is accurate far into the tail at this `m`.
#[test]
fn gumbel_rao_converges_to_conditional_expectation() {
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    let m = 200_000;
    for (case, (a, tau)) in [(0.3, 0.5), (-1.0, 0.2)].into_iter().enumerate() {
        let q = truth(a, tau, &f);
        let lg = Logits::new(vec![a, 0.0]).unwrap();
        let gr = GumbelRao::new(lg, tau, f.clone(), m).unwrap();
        for d in 0..2 {
            let c = q.straight_through_given(d).unwrap();
            let (mu, sd) = (c.moments.mean[0], c.moments.scalar_variance().sqrt());
            let mut rng = gumbel_audit::rng::seeded(1000 + 10 * case as u64 + d as u64);
            let u: Vec<f64> = (0..2 * m).map(|_| open_uniform(&mut rng)).collect();
            let r = gr.row_given_category(d, &u).unwrap()[0];
            let z = (r - mu) / (sd / (m as f64).sqrt());
            assert!(
                z.abs() < 5.03,
                "a={a} τ={tau} d={d}: mean {r} vs {mu}, z = {z}"
            );
        }
    }
}

/// Monte Carlo ground truth for larger k, checked where the answer is known: logits
/// `(a, 0, -inf)` behave exactly as `(a, 0)` (the masked category is exactly 0), so the Monte
/// Carlo mean must agree with the k = 2 quadrature. z-test on coordinate 0 (coordinate 1 is its
/// negative) with the estimator's own standard error: |z| < 5.33 (two-sided α = 1e-7 per case,
/// 2e-7 over the 2 cases), n = 400 000 rows; detects a bias of `(5.33 + 3.09)·SE` with
/// probability 0.999 (SE printed on failure). The masked coordinate must be exactly 0.
#[test]
fn monte_carlo_agrees_with_quadrature() {
    let f3 = Objective::quadratic(vec![0.45, 0.55, 0.3]).unwrap();
    let f2 = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    for (case, (a, tau)) in [(0.0, 0.5), (1.5, 1.0)].into_iter().enumerate() {
        let lg = Logits::new(vec![a, 0.0, f64::NEG_INFINITY]).unwrap();
        let mc = relaxed_gradient_monte_carlo(&lg, tau, &f3, 400_000, 77 + case as u64).unwrap();
        let exact = truth(a, tau, &f2).gumbel_softmax_moments().mean;
        assert_eq!(mc.mean[2], 0.0);
        assert_eq!(mc.standard_error[2], 0.0);
        // Coordinate 1 is minus coordinate 0 (rows sum to zero): one test per case.
        let z = (mc.mean[0] - exact[0]) / mc.standard_error[0];
        assert!(
            z.abs() < 5.33,
            "a={a} τ={tau}: {} vs {} (se {}), z = {z}",
            mc.mean[0],
            exact[0],
            mc.standard_error[0]
        );
    }
}

/// Masked category: `y` is a fixed vertex, every moment is exactly 0.
#[test]
fn masked_two_category_truth_is_zero() {
    let f = Objective::quadratic(vec![0.45, 0.55]).unwrap();
    let q = TwoCategory::new(&Logits::new(vec![f64::NEG_INFINITY, 0.3]).unwrap(), 0.5, &f).unwrap();
    let m = q.gumbel_softmax_moments();
    assert_eq!(m.mean, vec![0.0, 0.0]);
    assert_eq!(m.scalar_variance(), 0.0);
    // L_τ = f(e_1) = 0.45² + 0.45².
    assert!((q.relaxed_objective().value - 2.0 * 0.45f64.powi(2)).abs() < 1e-16);
    assert!(TwoCategory::new(&Logits::new(vec![0.0, 0.0, 0.0]).unwrap(), 0.5, &f).is_err());
}

/// The seeded sample path of each relaxed estimator has the quadrature mean (k = 2).
///
/// z-test on the row entry 0 of `n = 200 000` rows from `GradientEstimator::sample`, with the
/// exactly known standard deviation from quadrature (Gumbel-Softmax, straight-through, and
/// Gumbel-Rao with m = 3, whose variance is `Var_d(μ_d) + E_d[σ_d²]/3`): `|z| < 5.73`, the
/// two-sided critical value at α = 1e-8 per case, 1.8e-7 over the 18 cases (3 estimators ×
/// 3 `(a, τ)` pairs × 2 objectives). Detects a bias of `(5.73 + 3.09) σ/√n ≈ 0.020 σ` with
/// probability 0.999. One fixed seed per case.
#[test]
fn sampled_relaxed_rows_have_quadrature_mean() {
    use gumbel_audit::grad::{GradientEstimator, GumbelSoftmax, StraightThrough};
    let n = 200_000;
    let objectives = [
        Objective::quadratic(vec![0.45, 0.55]).unwrap(),
        Objective::linear(vec![1.0, -2.0]).unwrap(),
    ];
    let mut seed = 500;
    for f in &objectives {
        for (a, tau) in [(0.0, 0.1), (0.7, 0.5), (-1.5, 2.0)] {
            let q = truth(a, tau, f);
            let lg = Logits::new(vec![a, 0.0]).unwrap();
            let cases: [(Box<dyn GradientEstimator>, _); 3] = [
                (
                    Box::new(GumbelSoftmax::new(lg.clone(), tau, f.clone()).unwrap()),
                    q.gumbel_softmax_moments(),
                ),
                (
                    Box::new(StraightThrough::new(lg.clone(), tau, f.clone()).unwrap()),
                    q.straight_through_moments(),
                ),
                (
                    Box::new(GumbelRao::new(lg.clone(), tau, f.clone(), 3).unwrap()),
                    q.gumbel_rao_moments(3).unwrap(),
                ),
            ];
            for (est, exact) in cases {
                seed += 1;
                let rows = est.sample(n, seed);
                let mean = rows.column(0).mean();
                let sd = exact.scalar_variance().sqrt();
                let z = (mean - exact.mean[0]) / (sd / (n as f64).sqrt());
                assert!(
                    z.abs() < 5.73,
                    "{} a={a} τ={tau} {:?}: mean {mean} vs {}, z = {z}",
                    est.name(),
                    f.kind(),
                    exact.mean[0]
                );
            }
        }
    }
}
