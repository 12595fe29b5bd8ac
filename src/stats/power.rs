//! DKWM helpers: a distribution-free one-sample CDF check with a closed-form power calculation,
//! in the manner of TensorFlow Probability's `statistical_testing` module.
//!
//! # Notation
//! `F` the true CDF of the samples, `F₀` the CDF under test, `F_n` the empirical CDF of `n`
//! samples, `D_n = sup_x |F_n(x) - F₀(x)|`, false-fail rate `α`, miss rate `β = 1 - power`,
//! discrepancy `Δ = sup_x |F(x) - F₀(x)|`.
//!
//! # Formulas
//! ```text
//! DKWM (Massart's constant):   P(sup_x |F_n(x) - F(x)| > ε) ≤ 2 exp(-2 n ε²)
//! critical value:              ε_α = sqrt(ln(2/α) / (2n))       reject when D_n > ε_α
//! false-fail rate:             under F = F₀, P(D_n > ε_α) ≤ α   (for every continuous or
//!                                                                 discrete F₀)
//! p-value bound:               p ≤ min(1, 2 exp(-2 n D_n²))      (conservative, valid)
//!
//! power:   let x* be a point with |F(x*) - F₀(x*)| = Δ (or a sequence approaching the sup).
//!          D_n ≥ |F_n(x*) - F₀(x*)| ≥ Δ - s·(F_n(x*) - F(x*)) with s = sign(F(x*) - F₀(x*)),
//!          and by Hoeffding's one-sided inequality for the single Bernoulli mean F_n(x*),
//!          P(s·(F(x*) - F_n(x*)) ≥ ε) ≤ exp(-2 n ε²).
//!          With ε_β = sqrt(ln(1/β) / (2n)):  Δ ≥ ε_α + ε_β  ⇒  P(D_n > ε_α) ≥ 1 - β.
//! smallest detectable Δ at (α, power, n):   Δ_min = ε_α + ε_β
//! n needed for Δ at (α, power):              n ≥ (sqrt(ln(2/α)/2) + sqrt(ln(1/β)/2))² / Δ²
//! ```
//! The power side needs only the one-sided, one-point bound (`ln(1/β)`), not the two-sided
//! uniform DKWM bound (`ln(2/β)`) that TFP uses; both are valid, this one is slightly sharper.
//!
//! # References
//! - P. Massart, *The tight constant in the Dvoretzky-Kiefer-Wolfowitz inequality*, Ann.
//!   Probab. 18 (1990), <https://doi.org/10.1214/aop/1176990746>.
//! - W. Hoeffding, *Probability inequalities for sums of bounded random variables*, JASA 58
//!   (1963), <https://doi.org/10.1080/01621459.1963.10500830>.
//! - TensorFlow Probability, `tfp.distributions.internal.statistical_testing`,
//!   <https://github.com/tensorflow/probability/blob/main/tensorflow_probability/python/internal/monte_carlo_statistical_testing.py>.

use crate::error::Error;

/// Checks that a rate (`α`, power, ...) lies in the open interval `(0, 1)`.
pub(crate) fn check_rate(name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            rule: "in the open interval (0, 1)",
        })
    }
}

fn check_n(n: u64) -> Result<f64, Error> {
    if n == 0 {
        Err(Error::CountZero {
            name: "sample size n",
        })
    } else {
        Ok(n as f64)
    }
}

/// The DKWM critical value `ε_α = sqrt(ln(2/α) / (2n))`.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `0 < α < 1`; [`Error::CountZero`] for `n = 0`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::dkwm_critical_value;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let eps = dkwm_critical_value(0.01, 10_000)?;
/// assert!((eps - (200f64.ln() / 20_000.0).sqrt()).abs() < 1e-15);
/// # Ok(()) }
/// ```
pub fn dkwm_critical_value(alpha: f64, n: u64) -> Result<f64, Error> {
    let alpha = check_rate("alpha", alpha)?;
    let n = check_n(n)?;
    Ok(((2.0 / alpha).ln() / (2.0 * n)).sqrt())
}

/// The smallest sup-distance `Δ = sup|F - F₀|` that the DKWM check at false-fail rate `α` with
/// `n` samples detects with probability at least `power`: `ε_α + sqrt(ln(1/(1-power))/(2n))`
/// (derivation in the module doc).
///
/// # Errors
/// [`Error::InvalidParameter`] unless `α` and `power` lie in `(0, 1)`; [`Error::CountZero`].
///
/// # Example
/// ```
/// use gumbel_audit::stats::{dkwm_detectable_discrepancy, dkwm_sample_size};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let delta = dkwm_detectable_discrepancy(1e-3, 0.99, 100_000)?;
/// assert!(delta > 0.010 && delta < 0.012);
/// assert!(dkwm_sample_size(1e-3, 0.99, delta)? <= 100_000);
/// # Ok(()) }
/// ```
pub fn dkwm_detectable_discrepancy(alpha: f64, power: f64, n: u64) -> Result<f64, Error> {
    let eps_alpha = dkwm_critical_value(alpha, n)?;
    let beta = 1.0 - check_rate("power", power)?;
    Ok(eps_alpha + ((1.0 / beta).ln() / (2.0 * n as f64)).sqrt())
}

/// The least `n` at which the DKWM check at false-fail rate `α` detects a sup-distance
/// `discrepancy` with probability at least `power`:
/// `⌈(sqrt(ln(2/α)/2) + sqrt(ln(1/β)/2))² / Δ²⌉`.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `α`, `power` lie in `(0, 1)` and `0 < Δ ≤ 1`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::dkwm_sample_size;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // α = 1e-6, power 0.999, Δ = 0.01: about 2.1e5 samples.
/// let n = dkwm_sample_size(1e-6, 0.999, 0.01)?;
/// assert!(n > 200_000 && n < 215_000);
/// # Ok(()) }
/// ```
pub fn dkwm_sample_size(alpha: f64, power: f64, discrepancy: f64) -> Result<u64, Error> {
    let alpha = check_rate("alpha", alpha)?;
    let beta = 1.0 - check_rate("power", power)?;
    if !(discrepancy > 0.0 && discrepancy <= 1.0) {
        return Err(Error::InvalidParameter {
            name: "discrepancy",
            value: discrepancy,
            rule: "in (0, 1]",
        });
    }
    let root = ((2.0 / alpha).ln() / 2.0).sqrt() + ((1.0 / beta).ln() / 2.0).sqrt();
    Ok((root * root / (discrepancy * discrepancy)).ceil() as u64)
}

/// The outcome of a DKWM check ([`dkwm_test`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DkwmResult {
    /// `D_n = sup_x |F_n(x) - F₀(x)|`.
    pub statistic: f64,
    /// The sample point where the sup is attained.
    pub location: f64,
    /// The critical value `ε_α`.
    pub critical_value: f64,
    /// The false-fail rate `α` the check was run at.
    pub alpha: f64,
    /// Number of samples.
    pub n: usize,
    /// `min(1, 2 exp(-2 n D_n²))`: a conservative p-value (`P(p ≤ a) ≤ a` under the null).
    pub p_value_bound: f64,
    /// `D_n > ε_α`: the samples are inconsistent with `F₀` at false-fail rate `α`.
    pub reject: bool,
}

/// The DKWM check of `samples` against the CDF `cdf` at false-fail rate `α`.
///
/// Rejects when `D_n > ε_α`; the false-fail rate is at most `α` for any `F₀` and the
/// discrepancy detected at a given power is [`dkwm_detectable_discrepancy`]. `D_n` is computed
/// exactly from the sorted samples: `max_i max(i/n - F₀(x_(i)), F₀(x_(i)) - (i-1)/n)`.
///
/// # Errors
/// [`Error::InvalidParameter`] for `α` outside `(0, 1)` or a NaN sample;
/// [`Error::TooFewSamples`] for no samples; [`Error::ProbabilityOutOfRange`] when `cdf`
/// returns a value outside `[0, 1]`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::dkwm_test;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let u: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
/// let r = dkwm_test(&u, |x| x.clamp(0.0, 1.0), 0.01)?;
/// assert!(!r.reject && r.statistic <= 0.0005 + 1e-12);
/// let r = dkwm_test(&u, |x| (x * x).clamp(0.0, 1.0), 0.01)?;
/// assert!(r.reject);
/// # Ok(()) }
/// ```
pub fn dkwm_test<F: Fn(f64) -> f64>(
    samples: &[f64],
    cdf: F,
    alpha: f64,
) -> Result<DkwmResult, Error> {
    let alpha = check_rate("alpha", alpha)?;
    if samples.is_empty() {
        return Err(Error::TooFewSamples {
            needed: 1,
            found: 0,
        });
    }
    if let Some(&value) = samples.iter().find(|v| v.is_nan()) {
        return Err(Error::InvalidParameter {
            name: "sample",
            value,
            rule: "a number (not NaN)",
        });
    }
    let mut x = samples.to_vec();
    x.sort_by(f64::total_cmp);
    let n = x.len();
    let nf = n as f64;
    let mut statistic = 0.0_f64;
    let mut location = x[0];
    for (i, &xi) in x.iter().enumerate() {
        let f = cdf(xi);
        if !(0.0..=1.0).contains(&f) {
            return Err(Error::ProbabilityOutOfRange { value: f });
        }
        let d = ((i + 1) as f64 / nf - f).max(f - i as f64 / nf);
        if d > statistic {
            statistic = d;
            location = xi;
        }
    }
    let critical_value = dkwm_critical_value(alpha, n as u64)?;
    Ok(DkwmResult {
        statistic,
        location,
        critical_value,
        alpha,
        n,
        p_value_bound: (2.0 * (-2.0 * nf * statistic * statistic).exp()).min(1.0),
        reject: statistic > critical_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn rules() {
        assert!(matches!(
            dkwm_critical_value(0.0, 10),
            Err(Error::InvalidParameter { name: "alpha", .. })
        ));
        assert!(matches!(
            dkwm_critical_value(0.5, 0),
            Err(Error::CountZero { .. })
        ));
        assert!(matches!(
            dkwm_detectable_discrepancy(0.5, 1.0, 10),
            Err(Error::InvalidParameter { name: "power", .. })
        ));
        assert!(dkwm_sample_size(0.01, 0.9, 0.0).is_err());
        assert!(matches!(
            dkwm_test(&[], |x| x, 0.01),
            Err(Error::TooFewSamples { .. })
        ));
        assert!(dkwm_test(&[f64::NAN], |x| x, 0.01).is_err());
        assert!(matches!(
            dkwm_test(&[0.5], |_| 1.5, 0.01),
            Err(Error::ProbabilityOutOfRange { .. })
        ));
    }

    #[test]
    fn closed_forms() {
        // α = 2e-2: ln(2/α) = ln 100; n = 50: ε = sqrt(ln 100 / 100).
        assert_relative_eq!(
            dkwm_critical_value(0.02, 50).unwrap(),
            (100f64.ln() / 100.0).sqrt(),
            max_relative = 1e-15
        );
        // power = 1 - e^-2: ε_β = sqrt(2 / (2n)) = sqrt(1/n).
        let d = dkwm_detectable_discrepancy(0.02, 1.0 - (-2f64).exp(), 50).unwrap();
        assert_relative_eq!(
            d,
            (100f64.ln() / 100.0).sqrt() + (1.0f64 / 50.0).sqrt(),
            max_relative = 1e-14
        );
        // The sample size inverts the detectable discrepancy.
        for &n in &[1000u64, 123_456, 10_000_000] {
            let d = dkwm_detectable_discrepancy(1e-4, 0.95, n).unwrap();
            let m = dkwm_sample_size(1e-4, 0.95, d).unwrap();
            assert!(m.abs_diff(n) <= 1, "{m} vs {n}");
        }
    }

    #[test]
    fn statistic_is_exact_on_a_small_case() {
        // Samples 0.1, 0.2, 0.9 against U(0, 1): steps of the ECDF give
        // max(1/3 - 0.1, 2/3 - 0.2, 1 - 0.9, 0.1, 0.2 - 1/3, 0.9 - 2/3) = 2/3 - 0.2.
        let r = dkwm_test(&[0.9, 0.1, 0.2], |x| x, 0.05).unwrap();
        assert_relative_eq!(r.statistic, 2.0 / 3.0 - 0.2, max_relative = 1e-15);
        assert_eq!(r.location, 0.2);
        assert_eq!(r.n, 3);
        assert!(!r.reject);
    }
}
