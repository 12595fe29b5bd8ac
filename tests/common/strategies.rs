//! The proptest strategies, each defined once. Bounded ranges, never `any::<f64>()`.
//!
//! Two ranges exist for logits, temperatures and noise, and each has its own name:
//!
//! | strategy | values | used by |
//! |---|---|---|
//! | [`logits`]`(k)` | `k` logits uniform in `[-3, 3]` | grad/relaxed |
//! | [`logits_masked`]`(k)` | [`logits`], then one category set to `-inf` with probability about 1/2 (`k > 1`) | grad/reinforce |
//! | [`logits_wide`]`(k_range)` | mostly `[-10, 10]`, some anywhere in `[-10⁴, 10⁴]`, some exactly `±10⁴`, some `-inf`; at least one finite | distributions/properties |
//! | [`temperature`]`()` | uniform in `[0.25, 4)` | grad/relaxed |
//! | [`temperature_wide`]`()` | log-uniform over `[10⁻³, 10³]` | distributions/properties |
//! | [`objective`]`(k)` | linear or quadratic, coefficients in `[-2, 2]` | grad/reinforce, grad/relaxed |
//! | [`uniforms`]`(n)` | uniforms in `[0.01, 0.99)` | grad/relaxed |
//! | [`noise`]`(k)` | standard Gumbel of [`uniforms`] (about `[-1.53, 4.60]`) | grad/relaxed |
//! | [`noise_wide`]`(k)` | standard Gumbel over the samplers' whole range `[STANDARD_NOISE_MIN, STANDARD_NOISE_MAX]`, ends included | distributions/properties |
//!
//! The finite-difference bounds of grad/relaxed assume `τ ≥ 0.25` and coefficients in
//! `[-2, 2]`; the forward-error tolerances of distributions/properties are derived for the
//! wide ranges. A strategy's values are a function of proptest's seed, so the seeds stored in
//! `proptest-regressions/` replay the same cases only while these definitions are unchanged.

use gumbel_audit::distributions::Gumbel;
use gumbel_audit::distributions::gumbel::{STANDARD_NOISE_MAX, STANDARD_NOISE_MIN};
use gumbel_audit::distributions::uniform::{U_MAX, U_MIN};
use gumbel_audit::grad::Objective;
use proptest::prelude::*;
use proptest::sample::Index;

const NEG_INF: f64 = f64::NEG_INFINITY;

/// `k` logits uniform in `[-3, 3]`.
pub fn logits(k: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-3.0..3.0f64, k)
}

/// [`logits`] with category `masked` (drawn from `0..2k`, so masking happens when `masked < k`,
/// and only for `k > 1`) set to `-inf`.
pub fn logits_masked(k: usize) -> impl Strategy<Value = Vec<f64>> {
    (logits(k), 0..2 * k).prop_map(move |(mut v, masked)| {
        if masked < k && k > 1 {
            v[masked] = NEG_INF;
        }
        v
    })
}

/// One logit: mostly moderate, sometimes anywhere in `[-10⁴, 10⁴]`, at either end, or masked.
fn logit_wide() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -10.0..10.0f64,
        2 => -1e4..=1e4f64,
        1 => Just(1e4),
        1 => Just(-1e4),
        2 => Just(NEG_INF),
    ]
}

/// `k` logits (`k` drawn from `k_range`) over the documented range, with at least one finite
/// entry.
pub fn logits_wide(k_range: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<f64>> {
    (
        prop::collection::vec(logit_wide(), k_range),
        any::<Index>(),
        -1e4..=1e4f64,
    )
        .prop_map(|(mut v, i, finite)| {
            if v.iter().all(|x| *x == NEG_INF) {
                let j = i.index(v.len());
                v[j] = finite;
            }
            v
        })
}

/// A temperature uniform in `[0.25, 4)`.
pub fn temperature() -> impl Strategy<Value = f64> {
    0.25..4.0f64
}

/// A temperature, log-uniform over `[10⁻³, 10³]`.
pub fn temperature_wide() -> impl Strategy<Value = f64> {
    (-3.0..=3.0f64).prop_map(|e| 10f64.powf(e))
}

/// A linear or quadratic objective with coefficients in `[-2, 2]`.
pub fn objective(k: usize) -> impl Strategy<Value = Objective> {
    (prop::bool::ANY, prop::collection::vec(-2.0..2.0f64, k)).prop_map(|(lin, c)| {
        if lin {
            Objective::linear(c).unwrap()
        } else {
            Objective::quadratic(c).unwrap()
        }
    })
}

/// Open-interval uniforms in `[0.01, 0.99)`.
pub fn uniforms(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.01..0.99f64, n)
}

/// Standard Gumbel noise from [`uniforms`] through the library's transform (values in about
/// `[-1.53, 4.60]`).
pub fn noise(k: usize) -> impl Strategy<Value = Vec<f64>> {
    uniforms(k).prop_map(|u| {
        u.iter()
            .map(|&u| Gumbel::standard().from_uniform(u).unwrap())
            .collect()
    })
}

/// A standard Gumbel value from a uniform, `-ln(-ln u)` written out here (independent of the
/// library's transform), clamped to the samplers' range.
fn gumbel_of(u: f64) -> f64 {
    let e = if u > 0.5 { -(u - 1.0).ln_1p() } else { -u.ln() };
    (-e.ln()).clamp(STANDARD_NOISE_MIN, STANDARD_NOISE_MAX)
}

/// One noise value inside `[STANDARD_NOISE_MIN, STANDARD_NOISE_MAX]`: mostly [`gumbel_of`] a
/// uniform, some uniform over the range, some exactly at either end.
fn noise_value_wide() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => (U_MIN..U_MAX).prop_map(gumbel_of),
        2 => STANDARD_NOISE_MIN..=STANDARD_NOISE_MAX,
        1 => Just(STANDARD_NOISE_MIN),
        1 => Just(STANDARD_NOISE_MAX),
    ]
}

/// `k` noise values over the samplers' whole range.
pub fn noise_wide(k: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(noise_value_wide(), k)
}
