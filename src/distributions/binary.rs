//! The binary Concrete distribution (RelaxedBernoulli): a relaxed coin on `(0, 1)`.
//!
//! # Notation
//! Logit `l` (`logit`), `α = e^l`, temperature `τ` (`temperature`), `L ~ Logistic(0, 1)`.
//!
//! # Formula
//! ```text
//! sample     X = σ((l + L)/τ),   L = ln u - ln(1 - u) = g₁ - g₂
//! density    p(x) = τ α x^(-τ-1) (1-x)^(-τ-1) / (α x^(-τ) + (1-x)^(-τ))²
//!            ln p(x) = ln τ + l - (τ+1)(ln x + ln(1-x)) - 2·logaddexp(l - τ ln x, -τ ln(1-x))
//!                    = ln τ - l + (τ-1) ln x - (τ+1) ln(1-x) - 2 ln(1 + e^(-t))   t ≥ 0
//!                    = ln τ + l - (τ+1) ln x + (τ-1) ln(1-x) - 2 ln(1 + e^t)      t < 0
//!            t = l - τ logit(x)   (the form computed: no cancellation of ±(τ+1) ln x)
//! cdf        P(X ≤ x) = σ(τ·logit(x) - l)
//! quantile   Q(p) = σ((l + logit p)/τ)
//! ```
//! It is the first coordinate of the k = 2 Concrete with logits `(l, 0)` (tested).
//!
//! # Numerical notes
//! - The logistic noise comes from one open-interval uniform with `ln_1p(-u)`, so `L` lies in
//!   `[-36.74, 36.74]` and is never infinite.
//! - `X` itself rounds to exactly 0 or 1 when `|l + L|/τ > 745` or so (small `τ`). The log-odds
//!   [`BinaryConcrete::sample_log_odds`] `(l + L)/τ` is always finite and exact: use it where the
//!   open interval matters. [`BinaryConcrete::ln_pdf`] and [`BinaryConcrete::cdf`] reject
//!   `x ∉ (0, 1)`.
//!
//! # References
//! - C. J. Maddison, A. Mnih, Y. W. Teh, *The Concrete Distribution*, ICLR 2017, §3.3 and
//!   Appendix B, <https://arxiv.org/abs/1611.00712>.

use rand::Rng;
use rand::distr::Distribution;

use crate::distributions::uniform::open_uniform;
use crate::error::{Error, check_temperature};
use crate::numeric::{logit, sigmoid};

/// Binary Concrete (RelaxedBernoulli) with logit `l` and temperature `τ`.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::BinaryConcrete;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let b = BinaryConcrete::new(0.4, 0.5)?;
/// let x = b.quantile(0.3)?;
/// assert!((b.cdf(x)? - 0.3).abs() < 1e-14);
/// assert!(b.ln_pdf(1.0).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryConcrete {
    logit: f64,
    temperature: f64,
}

fn check_unit(x: f64) -> Result<f64, Error> {
    if x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(Error::NotInUnitInterval { value: x })
    }
}

impl BinaryConcrete {
    /// Binary Concrete with logit `l` and temperature `τ`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `l` is finite; the temperature rules.
    pub fn new(logit: f64, temperature: f64) -> Result<Self, Error> {
        if !logit.is_finite() {
            return Err(Error::InvalidParameter {
                name: "logit",
                value: logit,
                rule: "finite",
            });
        }
        let temperature = check_temperature(temperature)?;
        Ok(BinaryConcrete { logit, temperature })
    }

    /// The logit `l`.
    pub fn logit(&self) -> f64 {
        self.logit
    }

    /// The temperature `τ`.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// Deterministic core: `σ((l + L)/τ)` from a logistic noise value `L`.
    ///
    /// # Errors
    /// [`Error::NoiseNotFinite`] unless `L` is finite.
    pub fn from_logistic(&self, noise: f64) -> Result<f64, Error> {
        if !noise.is_finite() {
            return Err(Error::NoiseNotFinite {
                index: 0,
                value: noise,
            });
        }
        Ok(sigmoid((self.logit + noise) / self.temperature))
    }

    /// Deterministic core from one uniform: `L = ln u - ln(1 - u)`, then as
    /// [`BinaryConcrete::from_logistic`]. Equals [`BinaryConcrete::quantile`] at `u`.
    ///
    /// # Errors
    /// [`Error::UniformOutOfRange`] unless `0 < u < 1`.
    pub fn from_uniform(&self, u: f64) -> Result<f64, Error> {
        if !(u > 0.0 && u < 1.0) {
            return Err(Error::UniformOutOfRange { value: u });
        }
        Ok(sigmoid((self.logit + logit(u)) / self.temperature))
    }

    /// One draw of the log-odds `(l + L)/τ`: always finite.
    pub fn sample_log_odds<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        (self.logit + logit(open_uniform(rng))) / self.temperature
    }

    /// One draw `X = σ((l + L)/τ)`; may round to exactly 0 or 1 at small `τ` (module doc).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        sigmoid(self.sample_log_odds(rng))
    }

    /// Log density at `x ∈ (0, 1)`.
    ///
    /// # Errors
    /// [`Error::NotInUnitInterval`] unless `0 < x < 1`.
    pub fn ln_pdf(&self, x: f64) -> Result<f64, Error> {
        let x = check_unit(x)?;
        let (l, tau) = (self.logit, self.temperature);
        let ln_x = x.ln();
        let ln_1mx = (-x).ln_1p();
        // t = (l - τ ln x) - (-τ ln(1-x)), the difference of the logaddexp's arguments. Taking
        // the larger argument out of the logaddexp by hand leaves the coefficient τ - 1 on one
        // log: at τ = 1 and x = 1e-300 the two ±(τ+1)·690 terms of the formula above would
        // otherwise cancel to an O(1) result and lose ~1e-13 (found by the fixtures).
        let d = ln_x - ln_1mx;
        // τ·d may overflow while t is finite (l and τ·d near f64::MAX cancel); τ > 1 then.
        let t = if (tau * d).is_finite() {
            l - tau * d
        } else {
            tau * (l / tau - d)
        };
        let tail = 2.0 * (-t.abs()).exp().ln_1p();
        let direct = if t >= 0.0 {
            tau.ln() - l + (tau - 1.0) * ln_x - (tau + 1.0) * ln_1mx - tail
        } else {
            tau.ln() + l - (tau + 1.0) * ln_x + (tau - 1.0) * ln_1mx - tail
        };
        // With l and τ near f64::MAX a term of the direct form overflows (inf - inf = NaN);
        // the same value is ln τ - |t| - ln x - ln(1-x) - tail, whose only large term is t.
        Ok(if direct.is_finite() {
            direct
        } else {
            tau.ln() - t.abs() - ln_x - ln_1mx - tail
        })
    }

    /// `P(X ≤ x) = σ(τ·logit(x) - l)`.
    ///
    /// # Errors
    /// [`Error::NotInUnitInterval`] unless `0 < x < 1`.
    pub fn cdf(&self, x: f64) -> Result<f64, Error> {
        let x = check_unit(x)?;
        Ok(sigmoid(self.temperature * logit(x) - self.logit))
    }

    /// `Q(p) = σ((l + logit p)/τ)`; `Q(0) = 0`, `Q(1) = 1`.
    ///
    /// # Errors
    /// [`Error::ProbabilityOutOfRange`] unless `0 ≤ p ≤ 1`.
    pub fn quantile(&self, p: f64) -> Result<f64, Error> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::ProbabilityOutOfRange { value: p });
        }
        if p == 0.0 || p == 1.0 {
            return Ok(p);
        }
        Ok(sigmoid((self.logit + logit(p)) / self.temperature))
    }
}

/// `rand`'s sampling interface: the same draw as [`BinaryConcrete::sample`].
///
/// # Example
/// ```
/// use gumbel_audit::distributions::BinaryConcrete;
/// use rand::RngExt;
/// use rand::distr::Distribution;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let d = BinaryConcrete::new(0.3, 0.5)?;
/// let mut rng = gumbel_audit::rng::seeded(7);
/// let x: f64 = rng.sample(&d);
/// assert!((0.0..=1.0).contains(&x));
/// let xs: Vec<f64> = d.sample_iter(&mut rng).take(1000).collect();
/// assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
/// // P(X > 1/2) = σ(l) = σ(0.3) = 0.574 at any τ; sd of the frequency 0.016: 6 sd is 0.094.
/// let above = xs.iter().filter(|&&x| x > 0.5).count() as f64 / 1000.0;
/// assert!((above - 0.574).abs() < 0.094);
/// # Ok(()) }
/// ```
impl Distribution<f64> for BinaryConcrete {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        BinaryConcrete::sample(self, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logit and τ near f64::MAX: the direct form overflowed to NaN (l = 1.79e308,
    /// τ = 1.5e308, x = 0.75); the value is ln τ - |t| - ln x - ln(1-x) with
    /// t = l - τ·ln 3 ≈ 1.42e307, so ≈ -1.42e307.
    #[test]
    fn extreme_logit_and_temperature_do_not_give_nan() {
        let b = BinaryConcrete::new(1.79e308, 1.5e308).unwrap();
        let t = 1.79e308 - 1.5e308 * 3f64.ln();
        let v = b.ln_pdf(0.75).unwrap();
        assert!((v + t).abs() <= 1e-12 * t, "{v} vs {}", -t);
        // τ·ln 3 overflows here but t = MAX·(1 - ln 3) ≈ -1.77e307 is finite.
        let b = BinaryConcrete::new(f64::MAX, f64::MAX).unwrap();
        let t = f64::MAX * (1.0 - 3f64.ln());
        let v = b.ln_pdf(0.75).unwrap();
        assert!((v - t).abs() <= 1e-12 * t.abs(), "{v} vs {t}");
        for l in [-f64::MAX, -1e308, 0.0, 1e308, f64::MAX] {
            for tau in [1e300, 1e308, f64::MAX] {
                for x in [1e-300, 0.1, 0.5, 0.75, 1.0 - 1e-16] {
                    let v = BinaryConcrete::new(l, tau).unwrap().ln_pdf(x).unwrap();
                    assert!(!v.is_nan() && v < f64::INFINITY, "l {l} τ {tau} x {x}: {v}");
                }
            }
        }
    }
    use approx::assert_relative_eq;

    #[test]
    fn rules() {
        assert!(BinaryConcrete::new(f64::NAN, 1.0).is_err());
        assert!(BinaryConcrete::new(f64::NEG_INFINITY, 1.0).is_err());
        assert!(BinaryConcrete::new(0.0, 0.0).is_err());
        let b = BinaryConcrete::new(0.0, 1.0).unwrap();
        assert!(b.cdf(0.0).is_err());
        assert!(b.from_uniform(1.0).is_err());
        assert!(b.quantile(-0.1).is_err());
    }

    #[test]
    fn uniform_at_tau_one_logit_zero() {
        // l = 0, τ = 1: X = σ(L) is uniform on (0, 1): density 1, cdf x.
        let b = BinaryConcrete::new(0.0, 1.0).unwrap();
        for x in [1e-300, 0.2, 0.5, 0.9] {
            assert_relative_eq!(b.ln_pdf(x).unwrap(), 0.0, epsilon = 1e-14);
            assert_relative_eq!(b.cdf(x).unwrap(), x, max_relative = 1e-14);
        }
    }

    #[test]
    fn small_temperature_log_odds_stay_finite() {
        let b = BinaryConcrete::new(5.0, 1e-3).unwrap();
        let x = b.ln_pdf(1e-300).unwrap();
        assert!(x.is_finite());
    }
}
