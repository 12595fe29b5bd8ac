//! Relaxed estimators for fixed noise: pathwise rows are derivatives, straight-through rows are
//! the Jacobian of `y` transposed times `∇f(h)`, Gumbel-Rao with one conditional draw is
//! straight-through under an exact coupling, and every row sums to zero.
//!
//! Kinds (lib.rs "Notes on testing"): property tests with deterministic noise. Nothing here is
//! statistical. Finite differences are compared with tolerances derived from the step (below).
//!
//! # Finite-difference tolerance
//! Central differences `(F(l + δ e_j) - F(l - δ e_j)) / 2δ` err by at most
//! `δ² sup|F'''| / 6 + ρ / δ`, `ρ` the absolute rounding error of `F`. Along one logit `l_j`,
//! with the others fixed, `y_j = σ((l_j - c)/τ)` and `y_i = w_i (1 - y_j)` (`w_i` free of `l_j`),
//! so `|∂ⁿ y_i / ∂l_jⁿ| ≤ sup|σ⁽ⁿ⁾| / τⁿ ≤ 1/(4τ), 1/(10τ²), 1/(8τ³)` for `n = 1, 2, 3`. Hence
//! - linear `f`: `|F'''| ≤ Σ_i |c_i| / (8τ³)`;
//! - quadratic `f`: `F''' = Σ_i [2(y_i - t_i) y_i''' + 6 y_i' y_i'']`, so
//!   `|F'''| ≤ Σ_i [2(1 + |t_i|)/8 + 6/40] / τ³`.
//!
//! `ρ ≤ 4 k ε sup|f|` with `sup|f| ≤ Σ_i (1 + |t_i|)²` (quadratic) or `Σ|c_i|` (linear).
//! With `δ = 1e-4`, `τ ≥ 0.25`, coefficients in `[-2, 2]` and `k ≤ 5`, the bound is below
//! `3e-6`; the tests use the bound itself, computed per case, times 2 for safety of the `sup`s.

use gumbel_audit::distributions::gumbel::{Gumbel, TruncatedGumbel};
use gumbel_audit::distributions::{Concrete, Logits};
use gumbel_audit::grad::{
    GradientEstimator, GumbelRao, GumbelSoftmax, Objective, ObjectiveKind, StraightThrough,
};
use gumbel_audit::numeric::log_sum_exp;
use proptest::prelude::*;

use crate::common::regressions;
use crate::common::strategies::{logits, noise, objective, temperature, uniforms};

const DELTA: f64 = 1e-4;

/// The finite-difference bound of the module doc for `F = f(y)`.
fn fd_bound(f: &Objective, tau: f64) -> f64 {
    let c = f.coefficients();
    let k = c.len() as f64;
    let (third, sup) = match f.kind() {
        ObjectiveKind::Linear => {
            let s: f64 = c.iter().map(|v| v.abs()).sum();
            (s / 8.0, s)
        }
        _ => (
            c.iter()
                .map(|t| 2.0 * (1.0 + t.abs()) / 8.0 + 6.0 / 40.0)
                .sum(),
            c.iter().map(|t| (1.0 + t.abs()).powi(2)).sum(),
        ),
    };
    let truncation = DELTA * DELTA * third / (6.0 * tau.powi(3));
    let rounding = 4.0 * k * f64::EPSILON * sup / DELTA;
    2.0 * (truncation + rounding)
}

fn concrete(l: &[f64], tau: f64) -> Concrete {
    Concrete::new(Logits::from_slice(l).unwrap(), tau).unwrap()
}

/// Central difference of `F(l) = f(y(l, g))` along `l_j`, from `Concrete::from_noise` (distributions layer).
fn fd_objective(l: &[f64], tau: f64, g: &[f64], f: &Objective, j: usize) -> f64 {
    let at = |sign: f64| {
        let mut lj = l.to_vec();
        lj[j] += sign * DELTA;
        f.value(&concrete(&lj, tau).from_noise(g).unwrap()).unwrap()
    };
    (at(1.0) - at(-1.0)) / (2.0 * DELTA)
}

/// Central difference of `y(l, g)` along `l_j` (column `j` of the Jacobian).
fn fd_jacobian_column(l: &[f64], tau: f64, g: &[f64], j: usize) -> Vec<f64> {
    let at = |sign: f64| {
        let mut lj = l.to_vec();
        lj[j] += sign * DELTA;
        concrete(&lj, tau).from_noise(g).unwrap()
    };
    let (p, m) = (at(1.0), at(-1.0));
    p.iter()
        .zip(&m)
        .map(|(a, b)| (a - b) / (2.0 * DELTA))
        .collect()
}

fn case() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Objective, f64)> {
    (2usize..=5).prop_flat_map(|k| (logits(k), noise(k), objective(k), temperature()))
}

proptest! {
    #![proptest_config(regressions::config(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/grad/relaxed.txt"
    )))]

    /// Gumbel-Softmax row = ∇_l f(y(l, g)) by central differences (bound in the module doc).
    #[test]
    fn pathwise_is_finite_difference((l, g, f, tau) in case()) {
        let gs = GumbelSoftmax::new(Logits::from_slice(&l).unwrap(), tau, f.clone()).unwrap();
        let row = gs.row(&g).unwrap();
        let tol = fd_bound(&f, tau);
        for j in 0..l.len() {
            let fd = fd_objective(&l, tau, &g, &f, j);
            prop_assert!((row[j] - fd).abs() <= tol, "j={j}: row {row:?}, fd {fd}, tol {tol}");
        }
    }

    /// Straight-through row = J(y)ᵀ ∇f(h), `J` by central differences of `y`
    /// (`|y'''| ≤ 1/(8τ³)` per entry, rounding `2ε/δ`; times `Σ|∇f(h)|`, times 2).
    #[test]
    fn straight_through_is_jacobian_times_hard_gradient((l, g, f, tau) in case()) {
        let st = StraightThrough::new(Logits::from_slice(&l).unwrap(), tau, f.clone()).unwrap();
        let row = st.row(&g).unwrap();
        // h from the distributions layer's hard sample, ∇f(h) from the objective.
        let h = concrete(&l, tau).hard_from_noise(&g).unwrap();
        let v = f.gradient(&h).unwrap();
        let sv: f64 = v.iter().map(|x| x.abs()).sum();
        let tol = 2.0 * sv * (DELTA * DELTA / (48.0 * tau.powi(3)) + 2.0 * f64::EPSILON / DELTA);
        for j in 0..l.len() {
            let col = fd_jacobian_column(&l, tau, &g, j);
            // J is symmetric; (Jᵀ v)_j = Σ_i ∂y_i/∂l_j v_i.
            let want: f64 = col.iter().zip(&v).map(|(a, b)| a * b).sum();
            prop_assert!((row[j] - want).abs() <= tol, "j={j}: row {row:?}, want {want}, tol {tol}");
        }
    }

    /// Gumbel-Rao with m = 1 under the exact coupling: the conditional uniforms are the
    /// conditional CDFs of the original `z` (`u_d = F_Gumbel(logsumexp l)(z_d)`,
    /// `u_i = F_TruncGumbel(l_i, z_d)(z_i)`), which are iid U(0,1) given `argmax z = d` (docs/design/math.md
    /// §2 facts 4 and 5), and map back to `z` exactly. So the Gumbel-Rao row must equal the
    /// straight-through row of the same `z`, up to the CDF round trip: `z` is recovered to
    /// `≲ ε e^{M - l_i}` ≤ 1e-16·e^{15}` absolute on these ranges, so the row to
    /// `≲ 1e-9/τ² · max|∇f(h)|`; the tolerance is 1e-8 of `max|∇f(h)|/τ²`.
    #[test]
    fn gumbel_rao_one_draw_is_straight_through_under_coupling((l, g, f, tau) in case()) {
        let lg = Logits::from_slice(&l).unwrap();
        let st = StraightThrough::new(lg.clone(), tau, f.clone()).unwrap();
        let gr = GumbelRao::new(lg.clone(), tau, f.clone(), 1).unwrap();
        let d = st.hard_category(&g).unwrap();
        let c = lg.centered();
        let z: Vec<f64> = c.iter().zip(&g).map(|(a, b)| a + b).collect();
        let lse = log_sum_exp(c);
        let u: Vec<f64> = (0..l.len())
            .map(|i| {
                if i == d {
                    Gumbel::new(lse, 1.0).unwrap().cdf(z[i])
                } else {
                    TruncatedGumbel::new(c[i], z[d]).unwrap().cdf(z[i])
                }
            })
            .collect();
        let want = st.row(&g).unwrap();
        let got = gr.row(&g, &u).unwrap();
        let h = concrete(&l, tau).hard_from_noise(&g).unwrap();
        let vmax = f.gradient(&h).unwrap().iter().fold(1.0f64, |a, b| a.max(b.abs()));
        let tol = 1e-8 * vmax / (tau * tau);
        for j in 0..l.len() {
            prop_assert!((got[j] - want[j]).abs() <= tol, "GR {got:?} ST {want:?}");
        }
    }

    /// Every relaxed row sums to zero: `Σ_i y_i (v_i - yᵀv)/τ = (yᵀv)(1 - Σ y)/τ`, and
    /// `|1 - Σ y| ≤ 2kε`; with `k` rounded terms of size ≤ `y_i |v_i - yᵀv| / τ`, the bound is
    /// `8 k ε · 2 max|v| / τ`.
    #[test]
    fn relaxed_rows_sum_to_zero(
        (l, g, f, tau) in case(),
        m in 1usize..4,
        u in uniforms(20),
    ) {
        let k = l.len();
        let lg = Logits::from_slice(&l).unwrap();
        let vmax = match f.kind() {
            ObjectiveKind::Linear => f.coefficients().iter().fold(0.0f64, |a, b| a.max(b.abs())),
            _ => 2.0 * (1.0 + f.coefficients().iter().fold(0.0f64, |a, b| a.max(b.abs()))),
        };
        let tol = 8.0 * k as f64 * f64::EPSILON * 2.0 * vmax / tau;
        let rows = [
            GumbelSoftmax::new(lg.clone(), tau, f.clone()).unwrap().row(&g).unwrap(),
            StraightThrough::new(lg.clone(), tau, f.clone()).unwrap().row(&g).unwrap(),
            GumbelRao::new(lg, tau, f, m).unwrap().row(&g, &u[..m * k]).unwrap(),
        ];
        for r in rows {
            let s: f64 = r.iter().sum();
            prop_assert!(s.abs() <= tol, "{r:?} sums to {s}, tol {tol}");
        }
    }

    /// Masked categories: every relaxed row is exactly 0 there, and the rest of the row is the
    /// row of the logits without the masked category (the same noise on the others).
    #[test]
    fn masked_category_is_removed_exactly(
        (l, g, f, tau) in case(),
        u in uniforms(15),
        masked_noise in -3.0..30.0f64,
    ) {
        let k = l.len();
        let mut lm = l.clone();
        lm.push(f64::NEG_INFINITY);
        let mut gm = g.clone();
        gm.push(masked_noise);
        let mut cm = f.coefficients().to_vec();
        cm.push(0.7);
        let fm = match f.kind() {
            ObjectiveKind::Linear => Objective::linear(cm).unwrap(),
            _ => Objective::quadratic(cm).unwrap(),
        };
        // For the quadratic, the masked coordinate adds the constant (0 - t)² to f and the
        // entry 2(0 - t) to ∇f, which y_masked = 0 multiplies away; rows must match exactly
        // up to the rounding of yᵀ∇f (one extra zero term).
        let lg = Logits::from_slice(&l).unwrap();
        let lgm = Logits::from_slice(&lm).unwrap();
        let mut um = Vec::new();
        for chunk in u[..2 * k].chunks(k) {
            um.extend_from_slice(chunk);
            um.push(0.5);
        }
        let pairs = [
            (GumbelSoftmax::new(lg.clone(), tau, f.clone()).unwrap().row(&g).unwrap(),
             GumbelSoftmax::new(lgm.clone(), tau, fm.clone()).unwrap().row(&gm).unwrap()),
            (StraightThrough::new(lg.clone(), tau, f.clone()).unwrap().row(&g).unwrap(),
             StraightThrough::new(lgm.clone(), tau, fm.clone()).unwrap().row(&gm).unwrap()),
            (GumbelRao::new(lg, tau, f, 2).unwrap().row(&g, &u[..2 * k]).unwrap(),
             GumbelRao::new(lgm, tau, fm, 2).unwrap().row(&gm, &um).unwrap()),
        ];
        for (plain, with_mask) in pairs {
            prop_assert_eq!(with_mask[k], 0.0);
            for j in 0..k {
                prop_assert!((plain[j] - with_mask[j]).abs() <= 1e-14 * (1.0 + plain[j].abs()) / tau,
                    "{plain:?} vs {with_mask:?}");
            }
        }
    }
}

/// Seeded sampling is the deterministic core applied to the RNG's draws: the same seed gives
/// the same rows, and a Gumbel-Softmax row from `sample` equals `row` of the noise that
/// `Concrete::sample` would draw from the same stream (k standard Gumbels).
#[test]
fn seeded_sampling_matches_core() {
    let l = Logits::new(vec![0.2, -0.7, 1.1]).unwrap();
    let f = Objective::quadratic(vec![0.3, 0.3, 0.4]).unwrap();
    let gs = GumbelSoftmax::new(l.clone(), 0.5, f.clone()).unwrap();
    let rows = gs.sample(3, 17);
    assert_eq!(rows, gs.sample(3, 17));
    let mut rng = gumbel_audit::rng::seeded(17);
    for r in 0..3 {
        let mut g = vec![0.0; 3];
        Gumbel::standard().sample_into(&mut rng, &mut g);
        let want = gs.row(&g).unwrap();
        for j in 0..3 {
            assert_eq!(rows[(r, j)], want[j]);
        }
    }
    let gr = GumbelRao::new(l, 0.5, f, 4).unwrap();
    assert_eq!(gr.sample(2, 5), gr.sample(2, 5));
}
