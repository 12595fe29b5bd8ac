//! Fixed points with a constant mock RNG: every word all-zero bits or all-one bits.
//!
//! Those words give the edge uniforms `2⁻⁵³` and `1 - 2⁻⁵³` (module `distributions::uniform`), the two
//! ends of the noise range. Every sampler must stay finite there: a uniform of exactly 0 or 1
//! would give infinite Gumbel noise and a NaN softmax (docs/design/math.md §1). With constant
//! noise every category gets the same `g`, so a Concrete sample is `softmax(l/τ)` exactly; the
//! extreme cases below use `|l| = 10⁴`, `-inf` masks and `τ ∈ {10⁻³, 10³}`.

use std::convert::Infallible;

use gumbel_audit::distributions::gumbel::{STANDARD_NOISE_MAX, STANDARD_NOISE_MIN};
use gumbel_audit::distributions::{
    BinaryConcrete, Categorical, Concrete, Gumbel, Logits, TruncatedGumbel,
};
use rand::TryRng;

use crate::simplex::simplex_sum_tol;

/// An RNG whose every output is the same word (`rand_core` 0.10: implementing `TryRng` with
/// `Error = Infallible` gives `rand::Rng` by the blanket impl).
#[derive(Debug)]
struct ConstRng(u64);

impl TryRng for ConstRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0 as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(self.0 as u8);
        Ok(())
    }
}

const ZEROS: u64 = 0;
const ONES: u64 = u64::MAX;
const NEG_INF: f64 = f64::NEG_INFINITY;

/// The logit vectors of the extreme cases: `±10⁴`, masks, one category, all equal.
fn extreme_logits() -> Vec<Vec<f64>> {
    vec![
        vec![1e4, -1e4, 0.0, NEG_INF],
        vec![NEG_INF, -1e4, NEG_INF, -1e4 + 1e-9],
        vec![-1e4],
        vec![0.0; 5],
        vec![NEG_INF, 1e4, NEG_INF],
        (0..1000).map(|i| -1e4 + 20.0 * i as f64).collect(),
    ]
}

// Sum tolerance for these samples, `simplex_sum_tol` (simplex.rs): all noise equal to
// `g ∈ {STANDARD_NOISE_MIN, STANDARD_NOISE_MAX}`, so the largest score is `g/τ` after centring,
// and the log-sum-exp is known to about `ε(|g|/τ + ln k)`; that error is a relative error of
// every `y_i`, so of `Σ y`. The exponentials and the naive sum add `(k + 2)ε`. Factor 4 for
// safety.

#[test]
fn gumbel_noise_at_the_edge_uniforms_is_finite_and_at_the_range_ends() {
    let g = Gumbel::standard();
    assert_eq!(g.sample(&mut ConstRng(ZEROS)), STANDARD_NOISE_MIN);
    assert_eq!(g.sample(&mut ConstRng(ONES)), STANDARD_NOISE_MAX);
    // The constants are the values -ln(-ln u) at u = 2⁻⁵³ and 1 - 2⁻⁵³, computed independently:
    // -ln(53 ln 2), and -ln(-ln_1p(-2⁻⁵³)) = -ln(2⁻⁵³ + 2⁻¹⁰⁷ + …).
    let lo = -(53.0 * std::f64::consts::LN_2).ln();
    let hi = -(-(-(2f64.powi(-53))).ln_1p()).ln();
    assert!((STANDARD_NOISE_MIN - lo).abs() <= 4.0 * f64::EPSILON * lo.abs());
    assert!((STANDARD_NOISE_MAX - hi).abs() <= 4.0 * f64::EPSILON * hi.abs());
    // A located, scaled Gumbel stays finite and hits its sample_range ends.
    let g = Gumbel::new(-1e4, 1e3).unwrap();
    let (lo, hi) = g.sample_range();
    assert_eq!(g.sample(&mut ConstRng(ZEROS)), lo);
    assert_eq!(g.sample(&mut ConstRng(ONES)), hi);
    assert!(lo.is_finite() && hi.is_finite() && lo < hi);
    let mut out = [0.0; 8];
    g.sample_into(&mut ConstRng(ONES), &mut out);
    assert!(out.iter().all(|&v| v == hi));
}

#[test]
fn concrete_samples_at_the_edge_uniforms_are_on_the_simplex() {
    for bits in [ZEROS, ONES] {
        for l in extreme_logits() {
            for tau in [1e-3, 1.0, 1e3] {
                let c = Concrete::new(Logits::from_slice(&l).unwrap(), tau).unwrap();
                let y = c.sample(&mut ConstRng(bits));
                let case = format!(
                    "bits {bits:#x}, τ = {tau}, l[..4] = {:?}",
                    &l[..l.len().min(4)]
                );
                assert_eq!(y.len(), l.len());
                for (i, &v) in y.iter().enumerate() {
                    assert!(
                        v.is_finite() && (0.0..=1.0).contains(&v),
                        "{case}: y[{i}] = {v}"
                    );
                    if l[i] == NEG_INF {
                        assert_eq!(v, 0.0, "{case}: masked y[{i}]");
                    }
                }
                let s: f64 = y.iter().sum();
                assert!(
                    (s - 1.0).abs() <= simplex_sum_tol(l.len(), tau),
                    "{case}: Σ y = {s}"
                );
                // Equal noise everywhere: y is softmax(l/τ), whose argmax is the largest logit.
                let top = (0..l.len())
                    .max_by(|&a, &b| l[a].total_cmp(&l[b]).then(b.cmp(&a)))
                    .unwrap();
                let max_y = y.iter().copied().fold(0.0, f64::max);
                assert_eq!(y[top], max_y, "{case}");
                let h = c.sample_hard(&mut ConstRng(bits));
                assert_eq!(h.iter().sum::<f64>(), 1.0, "{case}: hard sample");
                assert_eq!(h[top], 1.0, "{case}: hard sample picks the largest logit");
            }
        }
    }
}

#[test]
fn categorical_draws_at_the_edge_uniforms_are_in_range_and_unmasked() {
    for bits in [ZEROS, ONES] {
        for l in extreme_logits() {
            let c = Categorical::new(Logits::from_slice(&l).unwrap());
            let i = c.sample(&mut ConstRng(bits));
            assert!(i < l.len() && l[i] != NEG_INF, "bits {bits:#x}: drew {i}");
            let unmasked = l.iter().filter(|v| v.is_finite()).count();
            let top = c.sample_top_k(&mut ConstRng(bits), unmasked).unwrap();
            assert_eq!(top.len(), unmasked);
            assert!(top.iter().all(|&j| j < l.len() && l[j] != NEG_INF));
            assert_eq!(top[0], i);
        }
    }
}

#[test]
fn binary_concrete_at_the_edge_uniforms_has_finite_log_odds() {
    // logit(2⁻⁵³) = -53 ln 2 - ln(1 - 2⁻⁵³) ≈ -36.74: the logistic noise range.
    let edge = 53.0 * std::f64::consts::LN_2;
    for (bits, sign) in [(ZEROS, -1.0), (ONES, 1.0)] {
        for l in [-1e4, 0.0, 1e4] {
            for tau in [1e-3, 1.0, 1e3] {
                let b = BinaryConcrete::new(l, tau).unwrap();
                let t = b.sample_log_odds(&mut ConstRng(bits));
                let want = (l + sign * edge) / tau;
                assert!(t.is_finite(), "l = {l}, τ = {tau}: log-odds {t}");
                assert!(
                    (t - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "l = {l}, τ = {tau}: log-odds {t}, expected {want}"
                );
                let x = b.sample(&mut ConstRng(bits));
                assert!((0.0..=1.0).contains(&x), "l = {l}, τ = {tau}: x = {x}");
            }
        }
    }
}

#[test]
fn truncated_gumbel_at_the_edge_uniforms_is_finite_and_below_the_bound() {
    for bits in [ZEROS, ONES] {
        for mu in [-1e4, -30.0, 0.0, 30.0, 1e4] {
            for gap in [-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0, f64::INFINITY] {
                let upper = mu + gap;
                let t = TruncatedGumbel::new(mu, upper).unwrap();
                let x = t.sample(&mut ConstRng(bits));
                assert!(
                    x.is_finite() && x <= upper,
                    "bits {bits:#x}, μ = {mu}, M = {upper}: x = {x}"
                );
            }
        }
    }
}
