//! How Gumbel-Softmax approaches the categorical as `τ → 0`, measured against the exact rate.
//!
//! # Formula
//! ```text
//! E[1 - max_i y_i] = ln2 · τ · (1 - Σ_i π_i²) + o(τ)         (τ → 0, docs/design/math.md §2)
//! W₁(Concrete_τ, Categorical) ≤ 2 E[1 - max_i y_i]            (coupling y → onehot(argmax y))
//! ```
//! So the distance to the categorical goes to zero at rate `τ` with a known constant.
//!
//! # Estimator
//! For each `τ`, `n` samples of `1 - max y` computed as `Σ_{i ≠ argmax} y_i` (no cancellation, so
//! values down to the smallest f64 are resolved), their mean and a normal-theory interval
//! `mean ± z·s/√n` at the stated confidence. `1 - max y` is bounded in `[0, 1 - 1/k]`, so the CLT
//! applies; at small `τ` the mean is carried by rare near-ties (probability `O(τ)`), so the
//! relative standard error is about `1/√(nτ)`: at `n = 10⁶`, `τ = 10⁻³` it is a few percent.

use rand::Rng;

use crate::distributions::{Concrete, Logits};
use crate::error::Error;
use crate::rng::seeded;

/// One row of the study.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TemperatureRow {
    /// Temperature `τ`.
    pub tau: f64,
    /// Sample mean of `1 - max y`.
    pub mean_one_minus_max: f64,
    /// Lower end of the confidence interval for `E[1 - max y]`.
    pub ci_low: f64,
    /// Upper end of the confidence interval.
    pub ci_high: f64,
    /// The first-order prediction `ln2 · τ · (1 - Σ π²)`.
    pub predicted: f64,
    /// Number of samples.
    pub n: usize,
}

/// The τ grid of the study: 10 down to 1e-3, three points per decade (`10, 5, 2, 1, …, 1e-3`).
pub fn default_grid() -> Vec<f64> {
    vec![
        10.0, 5.0, 2.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001,
    ]
}

/// `ln2 · τ · (1 - Σ π²)`: the first-order term of `E[1 - max y]` as `τ → 0`.
pub fn predicted_one_minus_max(logits: &Logits, tau: f64) -> f64 {
    let collision: f64 = logits.probs().iter().map(|p| p * p).sum();
    std::f64::consts::LN_2 * tau * (1.0 - collision)
}

/// `1 - max y = Σ_{i≠argmax} y_i` for one sample drawn from `rng` (written into `buf`).
pub fn one_minus_max<R: Rng + ?Sized>(dist: &Concrete, rng: &mut R, buf: &mut [f64]) -> f64 {
    dist.sample_into(rng, buf);
    let top = crate::numeric::argmax(buf).unwrap_or(0);
    buf.iter()
        .enumerate()
        .filter(|(i, _)| *i != top)
        .map(|(_, v)| v)
        .sum()
}

/// Runs the study: for each `τ` in `taus`, `n` samples, and an interval at two-sided confidence
/// `1 - alpha` (normal quantile).
///
/// # Errors
/// Temperature rules for each `τ`; [`Error::InvalidParameter`] for `n < 2`;
/// [`Error::InvalidParameter`] unless `0 < alpha < 1`.
pub fn temperature_study(
    logits: &Logits,
    taus: &[f64],
    n: usize,
    alpha: f64,
    seed: u64,
) -> Result<Vec<TemperatureRow>, Error> {
    if n < 2 {
        return Err(Error::InvalidParameter {
            name: "samples per temperature n",
            value: n as f64,
            rule: "at least 2",
        });
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::InvalidParameter {
            name: "alpha",
            value: alpha,
            rule: "in (0, 1)",
        });
    }
    let z = normal_upper_quantile(alpha / 2.0);
    let mut rows = Vec::with_capacity(taus.len());
    for (j, &tau) in taus.iter().enumerate() {
        let dist = Concrete::new(logits.clone(), tau)?;
        // One seed per temperature, so each row is reproducible on its own.
        let mut rng = seeded(seed.wrapping_add(j as u64));
        let mut buf = vec![0.0; logits.len()];
        let (mut mean, mut m2) = (0.0, 0.0);
        for i in 0..n {
            let v = one_minus_max(&dist, &mut rng, &mut buf);
            let d = v - mean;
            mean += d / (i + 1) as f64;
            m2 += d * (v - mean);
        }
        let se = (m2 / (n - 1) as f64 / n as f64).sqrt();
        rows.push(TemperatureRow {
            tau,
            mean_one_minus_max: mean,
            ci_low: mean - z * se,
            ci_high: mean + z * se,
            predicted: predicted_one_minus_max(logits, tau),
            n,
        });
    }
    Ok(rows)
}

/// Upper quantile of the standard normal: the `z` with `P(Z > z) = q`, computed as `-Φ⁻¹(q)`
/// by symmetry. (`Φ⁻¹(1 - q)` rounds `1 - q` to 1 for `q < 1.1e-16` and gives `+inf`: an
/// infinite interval at `alpha = 1e-16`.)
fn normal_upper_quantile(q: f64) -> f64 {
    // statrs's inverse_cdf is accurate to ~1e-9 relative, ample for an interval's width.
    use statrs::distribution::{ContinuousCDF, Normal};
    -Normal::standard().inverse_cdf(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_spans_ten_to_one_thousandth() {
        let g = default_grid();
        assert_eq!(g.first(), Some(&10.0));
        assert_eq!(g.last(), Some(&1e-3));
        assert!(g.windows(2).all(|w| w[0] > w[1]));
        assert_eq!(g.len(), 13);
    }

    #[test]
    fn predicted_value_by_hand() {
        // π = (½, ½): 1 - Σπ² = ½.
        let l = Logits::new(vec![0.0, 0.0]).unwrap();
        let p = predicted_one_minus_max(&l, 0.1);
        assert!((p - 0.05 * std::f64::consts::LN_2).abs() < 1e-16);
    }

    /// Against Python's `statistics.NormalDist().inv_cdf` (Wichura's AS 241). Seen to fail with
    /// `inverse_cdf(1 - q)`: `+inf` at `q = 5e-17`.
    #[test]
    fn upper_quantile_deep_in_the_tail() {
        for (q, z) in [
            (0.025, 1.9599639845400538),
            (5e-17, 8.304785425194112),
            (1e-300, 37.0470962993612),
        ] {
            let got = normal_upper_quantile(q);
            assert!((got - z).abs() <= 1e-8 * z, "q = {q}: {got} vs {z}");
        }
    }

    #[test]
    fn rules() {
        let l = Logits::new(vec![0.0, 0.0]).unwrap();
        assert!(temperature_study(&l, &[0.1], 1, 0.01, 0).is_err());
        assert!(temperature_study(&l, &[0.0], 10, 0.01, 0).is_err());
        assert!(temperature_study(&l, &[0.1], 10, 1.5, 0).is_err());
    }
}
