//! Property tests of the reference implementation (`src/distributions`): invariances and identities that
//! hold for every input in the documented range.
//!
//! # Strategies
//! Bounded ranges (docs/design/style.md §9), never `any::<f64>()`. The shared ones are in
//! `tests/common/strategies.rs`, used here with their wide ranges:
//! - `logits_wide`: `k` logits, mostly in `[-10, 10]`, some anywhere in `[-10⁴, 10⁴]`, some
//!   exactly `±10⁴`, some `-inf` (masked); at least one is finite.
//! - `temperature_wide`: log-uniform over `[10⁻³, 10³]`.
//! - `noise_wide`: `k` standard Gumbel values inside the range the samplers can produce,
//!   `[STANDARD_NOISE_MIN, STANDARD_NOISE_MAX]`: mostly `-ln(-ln u)` of a uniform `u` (computed
//!   there, not by the library), some uniform over the range, some exactly at either end.
//!
//! Defined here (used only here):
//! - [`simplex_point`]: interior points of the simplex of the unmasked categories, entries down
//!   to about `e⁻⁷⁰⁰`.
//! - [`probability`]: probabilities with both tails resolved.
//!
//! # Tolerances
//! Every comparison that is not exact states its tolerance as a multiple of the machine epsilon
//! `ε = 2⁻⁵²` times the magnitude of the quantities whose rounding it absorbs, derived in the
//! helper that computes it ([`simplex_sum_tol`], [`density_tol`], ...). They are forward error
//! bounds with a safety factor, not fitted to the observed errors. Where the exact result is
//! not representable (a CDF that rounds to 1, a sample that rounds to 0 or 1) the test checks
//! that the rounding is legitimate and says so.
//!
//! No statistical test runs here (docs/design/style.md §8). 256 cases per property.

use gumbel_audit::distributions::gumbel::STANDARD_NOISE_MAX;
use gumbel_audit::distributions::{
    BinaryConcrete, Categorical, Concrete, Gumbel, Logits, TruncatedGumbel,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use crate::common::regressions;
use crate::common::strategies::{logits_wide, noise_wide, temperature_wide};

use crate::simplex::simplex_sum_tol;

const EPS: f64 = f64::EPSILON;
const NEG_INF: f64 = f64::NEG_INFINITY;

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Logits, a temperature and one noise vector of the same length.
fn concrete_case(
    k_range: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = (Vec<f64>, f64, Vec<f64>)> {
    logits_wide(k_range).prop_flat_map(|l| {
        let k = l.len();
        (Just(l), temperature_wide(), noise_wide(k))
    })
}

/// An interior point of the simplex of the unmasked categories of `l`, as `(y, ln y)`: log
/// weights in `[-700, 0]` (mostly `[-30, 0]`), normalised here with max-subtraction. Masked
/// entries are `0` and `-inf`.
fn simplex_point(l: Vec<f64>) -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    let k = l.len();
    let w = prop_oneof![4 => -30.0..=0.0f64, 1 => -700.0..=0.0f64];
    prop::collection::vec(w, k).prop_map(move |w| {
        let w: Vec<f64> = w
            .iter()
            .zip(&l)
            .map(|(&wi, &li)| if li == NEG_INF { NEG_INF } else { wi })
            .collect();
        let m = w.iter().copied().fold(NEG_INF, f64::max);
        let lse = m + w.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let x: Vec<f64> = w.iter().map(|v| v - lse).collect();
        let y: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        (y, x)
    })
}

/// A probability in `(0, 1)` with both tails resolved: uniform, or `10^-e`, or `1 - 10^-e`.
fn probability() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => 1e-9..1.0 - 1e-9f64,
        1 => (1.0..300.0f64).prop_map(|e| 10f64.powf(-e)),
        1 => (1.0..15.0f64).prop_map(|e| 1.0 - 10f64.powf(-e)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers and tolerances
// ---------------------------------------------------------------------------------------------

fn concrete(l: &[f64], tau: f64) -> Concrete {
    Concrete::new(Logits::from_slice(l).expect("valid logits"), tau).expect("valid temperature")
}

fn categorical(l: &[f64]) -> Categorical {
    Categorical::new(Logits::from_slice(l).expect("valid logits"))
}

/// Largest finite `|l_i|`.
fn max_abs_finite(l: &[f64]) -> f64 {
    l.iter()
        .filter(|v| v.is_finite())
        .fold(0.0, |a, v| a.max(v.abs()))
}

/// `logit(v) = ln v - ln(1 - v)`, written out here.
fn logit(v: f64) -> f64 {
    v.ln() - (-v).ln_1p()
}

/// Relative spacing of `v` in ulps of `ε`, large for subnormal `v`: the extra relative error
/// of a result that lands below `f64::MIN_POSITIVE`, in units of `ε`.
fn sub(v: f64) -> f64 {
    5e-324 / (EPS * v)
}

/// `|a - b| ≤ tol`, with a message.
fn close(a: f64, b: f64, tol: f64, what: &str) -> Result<(), TestCaseError> {
    if (a - b).abs() <= tol {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "{what}: {a:e} vs {b:e}, difference {:e} > tolerance {tol:e}",
            (a - b).abs()
        )))
    }
}

/// Compares a probability `got` with a log-odds `want` in log-odds space: `|logit(got) - want|
/// ≤ tol`. A `got` of exactly 1 or 0 (σ saturates: `σ(t)` rounds to 1 for `t > 36.7` and to
/// 0 below `t ≈ -745.1`) passes only if the tolerance band around `want` reaches the
/// saturation region, i.e. if the rounding to 0 or 1 is explained by the stated error.
fn close_log_odds(got: f64, want: f64, tol: f64, what: &str) -> Result<(), TestCaseError> {
    let ok = if got == 1.0 {
        want + tol >= 36.0
    } else if got == 0.0 {
        want - tol <= -744.0
    } else {
        return close(logit(got), want, tol, what);
    };
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "{what}: saturated to {got} but the log-odds {want:e} ± {tol:e} does not reach the saturation region"
        )))
    }
}

/// Forward-error scale of `ln p(y)` and `ln p_exp(x)`: the sum of the magnitudes of the terms
/// of the log-density formula (module doc of `concrete.rs`). Each term is computed with a
/// relative error of a few `ε`, and an error of `ε` in `ln y_i` (from rounding `y = exp(x)`)
/// enters with weight `τ + 1`.
fn density_scale(log_probs: &[f64], x: &[f64], tau: f64) -> f64 {
    let pairs: Vec<(f64, f64)> = log_probs
        .iter()
        .zip(x)
        .filter(|(lp, _)| lp.is_finite())
        .map(|(&lp, &xi)| (lp, xi))
        .collect();
    let kk = pairs.len() as f64;
    let max_a = pairs
        .iter()
        .fold(0.0f64, |m, &(lp, xi)| m.max((lp - tau * xi).abs()));
    let norm = (1.0 + kk) * (1.0 + kk.ln()) + (kk - 1.0) * tau.ln().abs();
    norm + pairs
        .iter()
        .map(|&(lp, xi)| lp.abs() + (tau + 1.0) * (xi.abs() + 1.0))
        .sum::<f64>()
        + kk * max_a
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    // Failures are persisted in proptest-regressions/ at the package root (committed).
    #![proptest_config(ProptestConfig {
        cases: 256,
        ..regressions::config(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/distributions/properties.txt"
        ))
    })]

    /// Samples from noise lie on the simplex: finite, in `[0, 1]`, masked entries exactly 0,
    /// sum 1 within [`simplex_sum_tol`].
    #[test]
    fn samples_on_simplex((l, tau, g) in concrete_case(1..=40)) {
        let c = concrete(&l, tau);
        let y = c.from_noise(&g).unwrap();
        for (i, &v) in y.iter().enumerate() {
            prop_assert!(v.is_finite() && (0.0..=1.0).contains(&v), "y[{}] = {}", i, v);
        }
        let s: f64 = y.iter().sum();
        close(s, 1.0, simplex_sum_tol(l.len(), tau), "sum of y")?;
        let x = c.log_from_noise(&g).unwrap();
        for (i, &v) in x.iter().enumerate() {
            if l[i] == NEG_INF {
                prop_assert_eq!(v, NEG_INF);
            } else {
                prop_assert!(v.is_finite() && v <= 0.0, "ln y[{}] = {}", i, v);
            }
        }
    }

    /// `y(l + c) = y(l)` for the same noise. Tolerance: the centred logits `l_i + c - (max l + c)`
    /// differ from `l_i - max l` by the rounding of the shifted logits, `≤ 2ε(M + |c|)` with
    /// `M = max|l_i|`; divided by `τ` it is an absolute error of `ln y_i`, on top of the
    /// `ε|ln y_i|` of representing it and [`simplex_sum_tol`]. So
    /// `|ln y_i(l+c) - ln y_i(l)| ≤ 8ε((M + |c|)/τ + |ln y_i|) + 2·simplex_sum_tol`, and `y_i`
    /// within that relative error (plus the subnormal spacing).
    #[test]
    fn shift_invariance_of_samples((l, tau, g) in concrete_case(1..=30), shift in -1e4..=1e4f64) {
        let shifted: Vec<f64> = l.iter().map(|v| v + shift).collect();
        let a = concrete(&l, tau);
        let b = concrete(&shifted, tau);
        let xa = a.log_from_noise(&g).unwrap();
        let xb = b.log_from_noise(&g).unwrap();
        let ya = a.from_noise(&g).unwrap();
        let yb = b.from_noise(&g).unwrap();
        let m = max_abs_finite(&l);
        for i in 0..l.len() {
            if l[i] == NEG_INF {
                prop_assert_eq!(xa[i], NEG_INF);
                prop_assert_eq!(xb[i], NEG_INF);
                prop_assert_eq!(ya[i], 0.0);
                prop_assert_eq!(yb[i], 0.0);
                continue;
            }
            let d = 8.0 * EPS * ((m + shift.abs()) / tau + xa[i].abs())
                + 2.0 * simplex_sum_tol(l.len(), tau);
            close(xa[i], xb[i], d, &format!("ln y[{i}]"))?;
            let scale = ya[i].max(yb[i]);
            close(ya[i], yb[i], 2.0 * d * scale + 4.0 * f64::MIN_POSITIVE, &format!("y[{i}]"))?;
        }
    }

    /// `ln p(y | l + c) = ln p(y | l)`. Tolerance: `ln π` moves by the rounding of the shifted
    /// logits, `≤ 4ε(M + |c|)` per entry, and enters the density `2k'` times (once in `Σ` and
    /// `k'` times through the log-sum-exp); plus the evaluation error `8ε·S` of the formula
    /// ([`density_scale`]).
    #[test]
    fn shift_invariance_of_density(
        ((l, tau), (y, x)) in logits_wide(1..=20)
            .prop_flat_map(|l| (Just(l.clone()), temperature_wide()))
            .prop_flat_map(|(l, t)| (Just((l.clone(), t)), simplex_point(l))),
        shift in -1e4..=1e4f64,
    ) {
        let shifted: Vec<f64> = l.iter().map(|v| v + shift).collect();
        let a = concrete(&l, tau);
        let b = concrete(&shifted, tau);
        let pa = a.ln_pdf(&y).unwrap();
        let pb = b.ln_pdf(&y).unwrap();
        prop_assert!(pa.is_finite() && pb.is_finite(), "{} {}", pa, pb);
        let kk = l.iter().filter(|v| v.is_finite()).count() as f64;
        let s = density_scale(a.logits().log_probs(), &x, tau);
        let tol = 8.0 * kk * EPS * (max_abs_finite(&l) + shift.abs()) + 8.0 * EPS * s;
        close(pa, pb, tol, "ln p")?;
        let ea = a.ln_pdf_exp(&x).unwrap();
        let eb = b.ln_pdf_exp(&x).unwrap();
        close(ea, eb, tol, "ln p_exp")?;
    }

    /// docs/design/math.md §2 fact 1 with shared noise, at every τ: the Gumbel-Max index is a maximiser of
    /// `y` and of `ln y`, and when `ln y` has a unique maximiser it is that index. Exact: `ln y`
    /// is a monotone (non-decreasing, rounding included) function of `z = l - max l + g`, the
    /// quantity Gumbel-Max compares, so rounding can merge values into ties but never reorder
    /// them. `y` itself may underflow into ties; the hard sample resolves them on `z` and is
    /// the one-hot of the Gumbel-Max index.
    #[test]
    fn argmax_of_sample_is_gumbel_max((l, tau, g) in concrete_case(1..=40)) {
        let c = concrete(&l, tau);
        let d = categorical(&l).gumbel_max(&g).unwrap();
        prop_assert!(l[d] != NEG_INF);
        let x = c.log_from_noise(&g).unwrap();
        let y = c.from_noise(&g).unwrap();
        let max_x = x.iter().copied().fold(NEG_INF, f64::max);
        let max_y = y.iter().copied().fold(0.0, f64::max);
        prop_assert_eq!(x[d], max_x);
        prop_assert_eq!(y[d], max_y);
        if x.iter().filter(|&&v| v == max_x).count() == 1 {
            let first = x.iter().position(|&v| v == max_x).unwrap();
            prop_assert_eq!(first, d);
        }
        let h = c.hard_from_noise(&g).unwrap();
        for (i, &v) in h.iter().enumerate() {
            prop_assert_eq!(v, if i == d { 1.0 } else { 0.0 });
        }
    }

    /// docs/design/math.md §2 fact 8: for fixed noise, `max_i y_i` is non-increasing in `τ`
    /// (`max y = 1/Σ_j exp((z_j - z_max)/τ)` and every term grows with `τ`). Tolerance: the
    /// rounding of each `max y`, [`simplex_sum_tol`] at each temperature.
    #[test]
    fn max_is_non_increasing_in_temperature(
        (l, t1, g) in concrete_case(1..=30),
        t2 in temperature_wide(),
    ) {
        let (lo, hi) = if t1 <= t2 { (t1, t2) } else { (t2, t1) };
        let a = concrete(&l, lo).from_noise(&g).unwrap();
        let b = concrete(&l, hi).from_noise(&g).unwrap();
        let ma = a.iter().copied().fold(0.0, f64::max);
        let mb = b.iter().copied().fold(0.0, f64::max);
        let tol = simplex_sum_tol(l.len(), lo) + simplex_sum_tol(l.len(), hi);
        prop_assert!(ma >= mb - tol, "max y at τ = {}: {}, at τ = {}: {}", lo, ma, hi, mb);
    }

    /// `ln p(y) = ln p_exp(ln y) - Σ_i ln y_i` (docs/design/math.md §1), sums over unmasked categories.
    /// Tolerance `8ε·S` ([`density_scale`]).
    #[test]
    fn density_equals_exp_density_minus_log_jacobian(
        ((l, tau), (y, x)) in logits_wide(1..=20)
            .prop_flat_map(|l| (Just(l.clone()), temperature_wide()))
            .prop_flat_map(|(l, t)| (Just((l.clone(), t)), simplex_point(l))),
    ) {
        let c = concrete(&l, tau);
        let lhs = c.ln_pdf(&y).unwrap();
        // `x` from the strategy is on the log-simplex only up to the rounding of its own
        // normaliser (`lse(x) = δ`, up to `ε·700`), and both densities evaluate at the
        // renormalised point `x - δ`; so the Jacobian term is `Σ (x_i - δ)`. Without this
        // the identity is off by `k'δ`, up to ~1e-13 (seen at 50 000 cases).
        let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
        let m = finite.iter().copied().fold(NEG_INF, f64::max);
        let delta = m + finite.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let sum_x: f64 = finite.iter().map(|v| v - delta).sum();
        let rhs = c.ln_pdf_exp(&x).unwrap() - sum_x;
        let s = density_scale(c.logits().log_probs(), &x, tau);
        close(lhs, rhs, 8.0 * EPS * s, "ln p(y) vs ln p_exp(ln y) - Σ ln y")?;
    }

    /// The binary Concrete with logit `l` is the first coordinate of the k = 2 Concrete with
    /// logits `(l, 0)`: same log density at `y = (x, 1 - x)` (tolerance `8ε·S` of the k = 2
    /// formula), same sample from the same noise `L = g₁ - g₂` (tolerance: the scores
    /// `(l + g₁ - g₂)/τ` are rounded to `ε(|l| + |g₁| + |g₂|)/τ` absolute, a relative error of
    /// `x`), and its CDF at that sample is the logistic CDF `σ(L)` of the noise (probability
    /// integral transform; tolerance from the conditioning of `logit(x)`, see the body).
    #[test]
    fn binary_concrete_is_two_category_concrete(
        l in prop_oneof![3 => -20.0..20.0f64, 1 => -1e4..=1e4f64],
        tau in temperature_wide(),
        x in prop_oneof![
            3 => (-36.0..36.0f64).prop_map(|t| 1.0 / (1.0 + (-t).exp())),
            1 => (1.0..300.0f64).prop_map(|e| 10f64.powf(-e)),
        ],
        g in noise_wide(2),
    ) {
        let b = BinaryConcrete::new(l, tau).unwrap();
        let c = concrete(&[l, 0.0], tau);
        // Density.
        let y = [x, 1.0 - x];
        let ln_y = [x.ln(), (-x).ln_1p()];
        let s = density_scale(c.logits().log_probs(), &ln_y, tau);
        close(b.ln_pdf(x).unwrap(), c.ln_pdf(&y).unwrap(), 8.0 * EPS * s, "binary vs k = 2 ln p")?;
        // Sample from shared noise.
        let lo = g[0] - g[1];
        let xb = b.from_logistic(lo).unwrap();
        let xc = c.from_noise(&g).unwrap()[0];
        let rel = 8.0 * EPS * ((l.abs() + g[0].abs() + g[1].abs()) / tau + 2.0);
        close(xb, xc, rel * xb.max(xc) + 4.0 * f64::MIN_POSITIVE, "binary vs k = 2 sample")?;
        // CDF at the sample: P(X ≤ x(L)) = σ(L). x may round to exactly 0 or 1 (|t| large:
        // module doc of binary.rs); then the CDF is outside its domain and the check is that
        // the rounding was legitimate.
        let t = (l + lo) / tau;
        if xb == 0.0 || xb == 1.0 {
            prop_assert!(!(-700.0..=36.0).contains(&t), "x rounded to {} at log-odds {}", xb, t);
        } else {
            // Compared in log-odds, where the error is additive: logit F should be L. The
            // error of τ·logit(x) - l: representing x costs ε(1 + 1/(1-x)) in logit(x) (plus
            // the subnormal spacing relative to x), the affine map ε(τ|logit x| + |l|), the
            // noise difference ε(|g₁| + |g₂|); reading logit F back costs ε(1 + 1/(1-F)).
            let f = b.cdf(xb).unwrap();
            let cond = tau * (2.0 + 1.0 / (1.0 - xb) + sub(xb) + 2.0 * t.abs())
                + 2.0 * l.abs()
                + g[0].abs()
                + g[1].abs()
                + 2.0
                + 1.0 / (1.0 - f)
                + sub(f);
            close_log_odds(f, lo, 16.0 * EPS * cond, "logit of binary cdf at the sample vs L")?;
        }
    }

    /// Gumbel: `F(Q(p)) = p` and `Q(F(x)) = x`. Tolerances from the conditioning (derivation in
    /// the body): the standardised point `ζ = (x - μ)/β` is known to `ε(|x| + |μ|)/β`, which
    /// moves `ln F = -e^(-ζ)` by a relative `Δζ`; going back, `F` rounded to `ε` moves
    /// `-ln F` by a relative `ε/(-ln F) = ε e^ζ`.
    #[test]
    fn gumbel_quantile_cdf_identity(
        mu in -100.0..100.0f64,
        beta in (-2.0..2.0f64).prop_map(|e| 10f64.powf(e)),
        p in probability(),
        zeta in -6.5..30.0f64,
    ) {
        let g = Gumbel::new(mu, beta).unwrap();
        // cdf ∘ quantile.
        let x = g.quantile(p).unwrap();
        let z = (x - mu) / beta;
        let tol = 16.0 * EPS * p * (1.0 + p.ln().abs() * (2.0 + (x.abs() + mu.abs()) / beta + z.abs()));
        close(g.cdf(x), p, tol, "Gumbel F(Q(p))")?;
        // quantile ∘ cdf, on ζ ∈ [-6.5, 30] where F is a normal number below 1.
        let x = mu + beta * zeta;
        let f = g.cdf(x);
        prop_assert!(f > 0.0 && f < 1.0);
        let tol = 16.0 * EPS * (beta * (3.0 + zeta.abs() + zeta.exp()) + 2.0 * (x.abs() + mu.abs()));
        close(g.quantile(f).unwrap(), x, tol, "Gumbel Q(F(x))")?;
    }

    /// TruncatedGumbel(μ, M): `F(Q(p)) = p` and `Q(F(x)) = x` for `M` far below, near and far
    /// above `μ`, and `M = +inf`. Tolerances: `x` is known to `ε(2 + |μ| + |x|)` (the sampler
    /// subtracts a log-sum-exp from `μ`); `d ln(-ln F)/dx = -1/(1 - e^(x-M))`; going back, `F`
    /// rounded to `ε` moves `ln(-ln F)` by `ε/|ln F|`.
    #[test]
    fn truncated_gumbel_quantile_cdf_identity(
        mu in -50.0..50.0f64,
        gap in prop_oneof![4 => -40.0..40.0f64, 1 => Just(f64::INFINITY)],
        p in probability(),
        t in (-10.0..1.8f64).prop_map(|e| 10f64.powf(e)),
        zeta in -6.5..30.0f64,
    ) {
        let upper = mu + gap;
        let tg = TruncatedGumbel::new(mu, upper).unwrap();
        // cdf ∘ quantile.
        let x = tg.quantile(p).unwrap();
        prop_assert!(x <= upper && x.is_finite());
        let resolution = 16.0 * EPS * (2.0 + mu.abs() + x.abs());
        if x == upper {
            // With M far below μ the whole law can sit within an ulp of M: the quantile rounds
            // to M. Legitimate only if the exact quantile is within the resolution of x.
            prop_assert!(tg.cdf(upper - resolution) <= p, "Q({}) = M but F(M - {:e}) > p", p, resolution);
        } else {
            // Compared in log space: when the law is squeezed against M, M - x is a few ulps
            // and its relative error, times |ln p|, is not small, so a linearised bound on F
            // itself would be wrong; on ln F it is exact to first order.
            let bind = -(x - upper).exp_m1(); // 1 - e^(x-M) > 0, 1 when M = +inf
            let tol = 16.0 * EPS * (1.0 + p.ln().abs() * (1.0 + (2.0 + mu.abs() + x.abs()) / bind));
            close(tg.ln_cdf(x), p.ln(), tol, "truncated Gumbel ln F(Q(p))")?;
        }
        // quantile ∘ cdf, at x = M - t (or μ + ζ without a bound).
        let x = if upper.is_finite() { upper - t } else { mu + zeta };
        let ln_f = tg.ln_cdf(x);
        let f = tg.cdf(x);
        if f == 0.0 {
            prop_assert!(ln_f < -700.0, "cdf underflowed at ln F = {}", ln_f);
        } else {
            let bind = -(x - upper).exp_m1();
            // A subnormal F adds its spacing relative to F to the error of ln F.
            let tol = 16.0 * EPS * ((2.0 + mu.abs() + x.abs()) + bind * (1.0 + (1.0 + sub(f)) / ln_f.abs()));
            close(tg.quantile(f).unwrap(), x, tol, "truncated Gumbel Q(F(x))")?;
        }
    }

    /// BinaryConcrete: `F(Q(p)) = p` and `Q(F(x)) = x`. Where the exact `x = Q(p)` (or `F(x)`)
    /// is not representable in `(0, 1)` (it rounds to 0 or 1 at large log-odds), the check is
    /// that the rounding was legitimate. Tolerances from the conditioning of `logit` (body).
    #[test]
    fn binary_concrete_quantile_cdf_identity(
        l in prop_oneof![3 => -20.0..20.0f64, 1 => -1e4..=1e4f64],
        tau in temperature_wide(),
        p in probability(),
        x in prop_oneof![
            3 => (-36.0..36.0f64).prop_map(|t| 1.0 / (1.0 + (-t).exp())),
            1 => (1.0..300.0f64).prop_map(|e| 10f64.powf(-e)),
        ],
    ) {
        let b = BinaryConcrete::new(l, tau).unwrap();
        // Both identities are compared in log-odds space, where errors are additive and the
        // bound is not a linearisation that fails when 1 - x is a few ulps.
        // cdf ∘ quantile: logit F(Q(p)) = logit p.
        let q = b.quantile(p).unwrap();
        let t = (l + logit(p)) / tau;
        if q == 0.0 || q == 1.0 {
            prop_assert!(!(-700.0..=36.0).contains(&t), "Q({}) rounded to {} at log-odds {}", p, q, t);
        } else {
            // t = (l + logit p)/τ carries ε(|l| + |ln p| + |ln(1-p)|)/τ + ε|t|; representing
            // q = σ(t) costs ε(1 + 1/(1-q)) in logit q (plus subnormal spacing); F's log-odds
            // τ·logit(q) - l add ε(τ|t| + |l|); reading logit F back ε(1 + 1/(1-F)).
            let f = b.cdf(q).unwrap();
            let cond = 2.0 * l.abs()
                + p.ln().abs()
                + (-p).ln_1p().abs()
                + tau * (3.0 + 1.0 / (1.0 - q) + sub(q) + 2.0 * t.abs())
                + 1.0
                + 1.0 / (1.0 - f)
                + sub(f);
            close_log_odds(f, logit(p), 16.0 * EPS * cond, "binary logit F(Q(p))")?;
        }
        // quantile ∘ cdf: logit Q(F(x)) = logit x.
        let f = b.cdf(x).unwrap();
        let s = tau * logit(x) - l;
        if f == 0.0 || f == 1.0 {
            prop_assert!(!(-700.0..=36.0).contains(&s), "F({}) rounded to {} at {}", x, f, s);
        } else {
            // s carries ε(τ(|ln x| + |ln(1-x)|) + |l|); representing F costs ε(1 + 1/(1-F))
            // (plus subnormal spacing) in logit F; (l + logit F)/τ divides all that by τ and
            // adds ε|logit x|; representing the result ε(1 + 1/(1-x')).
            let back = b.quantile(f).unwrap();
            let lx = logit(x);
            let cond = (tau * (x.ln().abs() + (-x).ln_1p().abs()) + 2.0 * l.abs()
                + 2.0 + 1.0 / (1.0 - f) + sub(f) + s.abs()) / tau
                + 2.0 * lx.abs()
                + 2.0 + 1.0 / (1.0 - back) + sub(back);
            close_log_odds(back, lx, 16.0 * EPS * cond, "binary logit Q(F(x))")?;
        }
    }

    /// Gumbel-top-k: the first index is the Gumbel-Max draw; the draw has `m` distinct unmasked
    /// indices, in non-increasing order of `l_i + g_i`, and is a prefix of the draw of `m + 1`.
    /// Exact.
    #[test]
    fn top_k_starts_with_gumbel_max(
        (l, g) in logits_wide(1..=40).prop_flat_map(|l| { let k = l.len(); (Just(l), noise_wide(k)) }),
        mi in any::<Index>(),
    ) {
        let c = categorical(&l);
        let unmasked = l.iter().filter(|v| v.is_finite()).count();
        let m = 1 + mi.index(unmasked);
        let top = c.top_k(&g, m).unwrap();
        prop_assert_eq!(top.len(), m);
        prop_assert_eq!(top[0], c.gumbel_max(&g).unwrap());
        let mut seen = vec![false; l.len()];
        let z: Vec<f64> = c.logits().centered().iter().zip(&g).map(|(a, b)| a + b).collect();
        for w in top.windows(2) {
            prop_assert!(z[w[0]] >= z[w[1]]);
        }
        for &i in &top {
            prop_assert!(!seen[i] && l[i] != NEG_INF, "index {} repeated or masked", i);
            seen[i] = true;
        }
        if m < unmasked {
            let more = c.top_k(&g, m + 1).unwrap();
            prop_assert_eq!(&more[..m], &top[..]);
        }
    }

    /// Masked categories (`-inf` logits) are never drawn, whatever their noise: not by
    /// Gumbel-Max, not by Gumbel-top-k (down to the last unmasked category), not by the hard
    /// sample; they are exactly `0` in `y` and `-inf` in `ln y`. The strategy gives masked
    /// categories the largest noise, so a leak shows.
    #[test]
    fn masked_categories_never_drawn(
        (l, tau, g) in concrete_case(2..=40),
    ) {
        // Masked entries get the maximal noise, unmasked ones keep theirs.
        let g: Vec<f64> = g.iter().zip(&l)
            .map(|(&gi, &li)| if li == NEG_INF { STANDARD_NOISE_MAX } else { gi })
            .collect();
        let cat = categorical(&l);
        let unmasked = l.iter().filter(|v| v.is_finite()).count();
        prop_assert!(l[cat.gumbel_max(&g).unwrap()] != NEG_INF);
        for &i in &cat.top_k(&g, unmasked).unwrap() {
            prop_assert!(l[i] != NEG_INF);
        }
        let c = concrete(&l, tau);
        let y = c.from_noise(&g).unwrap();
        let x = c.log_from_noise(&g).unwrap();
        let h = c.hard_from_noise(&g).unwrap();
        for i in 0..l.len() {
            if l[i] == NEG_INF {
                prop_assert_eq!(y[i], 0.0);
                prop_assert_eq!(x[i], NEG_INF);
                prop_assert_eq!(h[i], 0.0);
            }
        }
    }

    /// `Categorical::sample(rng)` is Gumbel-Max of `k` draws of `Gumbel::standard().sample` from
    /// an identically seeded RNG (one noise value per category, masked ones included). Exact.
    #[test]
    fn categorical_sample_is_gumbel_max_of_rng_noise(l in logits_wide(1..=40), seed in any::<u64>()) {
        let c = categorical(&l);
        let mut a = gumbel_audit::rng::seeded(seed);
        let mut b = gumbel_audit::rng::seeded(seed);
        for _ in 0..4 {
            let drawn = c.sample(&mut a);
            let g: Vec<f64> = (0..l.len()).map(|_| Gumbel::standard().sample(&mut b)).collect();
            prop_assert_eq!(drawn, c.gumbel_max(&g).unwrap());
        }
    }
}
