//! The Gumbel distribution and the truncated Gumbel: the noise behind every sampler here.
//!
//! # Notation
//! Location `μ` (`location`), scale `β` (`scale`), standardised point `ζ = (x - μ)/β`.
//!
//! # Density
//! ```text
//! F(x) = exp(-e^(-ζ))            cdf
//! S(x) = 1 - F(x)                sf (computed as -expm1(-e^(-ζ)))
//! ln f(x) = -ln β - ζ - e^(-ζ)   ln_pdf
//! Q(p) = μ - β ln(-ln p)         quantile
//! ```
//! Sampling: `g = Q(u)` for an open-interval uniform `u` (module [`crate::distributions::uniform`]).
//!
//! # Numerical notes
//! - Range of the noise: `u ∈ [2⁻⁵³, 1 - 2⁻⁵³]`, so a standard draw lies in
//!   `[-ln(53 ln 2), -ln(-ln(1 - 2⁻⁵³))] = [-3.6037…, 36.7368…]` ([`STANDARD_NOISE_MIN`],
//!   [`STANDARD_NOISE_MAX`]); it is never infinite. The upper tail is resolved down to
//!   `P(g > 36.7) ≈ 1.1e-16`.
//! - For `u > ½` the inner logarithm is `-ln_1p(u - 1)` with `u - 1` exact (Sterbenz), so the
//!   upper tail keeps full relative precision instead of the ~1e-16 absolute precision of
//!   `ln u`.
//! - `sf` uses `expm1`, so `S(x) ≈ e^(-ζ)` stays accurate far into the upper tail.
//!
//! # References
//! - E. J. Gumbel, *Statistical Theory of Extreme Values and Some Practical Applications*,
//!   NBS Applied Mathematics Series 33 (1954).
//! - C. J. Maddison, D. Tarlow, T. Minka, *A\* Sampling*, NeurIPS 2014,
//!   <https://arxiv.org/abs/1411.0030> (the truncated Gumbel used by [`TruncatedGumbel`]).

use rand::Rng;
use rand::distr::Distribution;

use crate::distributions::uniform::{U_MAX, U_MIN, open_uniform};
use crate::error::Error;
use crate::numeric::{LnCdfSf, log_add_exp};

/// `E = -ln u` for `u ∈ (0, 1)`: an Exp(1) variate, accurate for `u` near 1.
#[inline]
pub(crate) fn neg_ln_uniform(u: f64) -> f64 {
    if u > 0.5 { -(u - 1.0).ln_1p() } else { -u.ln() }
}

/// Standard Gumbel from an open-interval uniform, unchecked: `-ln(-ln u)`.
#[inline]
pub(crate) fn standard_from_uniform(u: f64) -> f64 {
    -neg_ln_uniform(u).ln()
}

/// The smallest standard Gumbel noise the samplers can produce: `-ln(-ln 2⁻⁵³)`.
pub const STANDARD_NOISE_MIN: f64 = -3.603_778_992_970_457_6;
/// The largest standard Gumbel noise the samplers can produce: `-ln(-ln(1 - 2⁻⁵³))`.
pub const STANDARD_NOISE_MAX: f64 = 36.736_800_569_677_1;

fn check_uniform(u: f64) -> Result<f64, Error> {
    if u > 0.0 && u < 1.0 {
        Ok(u)
    } else {
        Err(Error::UniformOutOfRange { value: u })
    }
}

fn check_probability(p: f64) -> Result<f64, Error> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Error::ProbabilityOutOfRange { value: p })
    }
}

fn check_location(location: f64) -> Result<f64, Error> {
    if location.is_finite() {
        Ok(location)
    } else {
        Err(Error::InvalidParameter {
            name: "location",
            value: location,
            rule: "finite",
        })
    }
}

/// The Gumbel distribution with location `μ` and scale `β`.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Gumbel;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let g = Gumbel::standard();
/// let x = g.quantile(0.25)?;
/// assert!((g.cdf(x) - 0.25).abs() < 1e-15);
/// assert!(g.from_uniform(1.0).is_err()); // u must lie in (0, 1)
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gumbel {
    location: f64,
    scale: f64,
}

impl Gumbel {
    /// A Gumbel distribution with location `μ` and scale `β`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `μ` is not finite or `β` is not finite and positive.
    pub fn new(location: f64, scale: f64) -> Result<Self, Error> {
        check_location(location)?;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::InvalidParameter {
                name: "scale",
                value: scale,
                rule: "finite and positive",
            });
        }
        Ok(Gumbel { location, scale })
    }

    /// The standard Gumbel, `μ = 0`, `β = 1`.
    pub fn standard() -> Self {
        Gumbel {
            location: 0.0,
            scale: 1.0,
        }
    }

    /// Location `μ`.
    pub fn location(&self) -> f64 {
        self.location
    }

    /// Scale `β`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Deterministic core of the sampler: `μ - β ln(-ln u)`.
    ///
    /// # Errors
    /// [`Error::UniformOutOfRange`] unless `0 < u < 1`.
    pub fn from_uniform(&self, u: f64) -> Result<f64, Error> {
        Ok(self.location + self.scale * standard_from_uniform(check_uniform(u)?))
    }

    /// One draw, from one open-interval uniform of `rng`. Never infinite.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.location + self.scale * standard_from_uniform(open_uniform(rng))
    }

    /// Fills `out` with independent draws.
    pub fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        for v in out {
            *v = self.sample(rng);
        }
    }

    /// The range `[min, max]` of the values [`Gumbel::sample`] can return.
    pub fn sample_range(&self) -> (f64, f64) {
        (
            self.location + self.scale * standard_from_uniform(U_MIN),
            self.location + self.scale * standard_from_uniform(U_MAX),
        )
    }

    fn zeta(&self, x: f64) -> f64 {
        (x - self.location) / self.scale
    }

    /// `F(x) = exp(-e^(-ζ))`.
    pub fn cdf(&self, x: f64) -> f64 {
        (-(-self.zeta(x)).exp()).exp()
    }

    /// `ln F(x) = -e^(-ζ)`.
    pub fn ln_cdf(&self, x: f64) -> f64 {
        -(-self.zeta(x)).exp()
    }

    /// Survival function `S(x) = 1 - F(x) = -expm1(-e^(-ζ))`, accurate in the upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        -(-(-self.zeta(x)).exp()).exp_m1()
    }

    /// `ln S(x)`, accurate in the upper tail (`≈ -ζ` there).
    ///
    /// `ln S = ln(-expm1(-w))`, `w = e^(-ζ)`. Beyond `ζ = 700` `S` itself underflows (at
    /// `ζ ≈ 745`) although `ln S` is finite; there `ln S = -ζ + ln(1 - w/2 + …) = -ζ` to within
    /// `w/2 < 1e-304`, far below an ulp of `ζ`.
    pub fn ln_sf(&self, x: f64) -> f64 {
        let z = self.zeta(x);
        if z > 700.0 { -z } else { self.sf(x).ln() }
    }

    /// Log density `ln f(x) = -ln β - ζ - e^(-ζ)`.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        let z = self.zeta(x);
        -self.scale.ln() - z - (-z).exp()
    }

    /// Density `f(x)`.
    pub fn pdf(&self, x: f64) -> f64 {
        self.ln_pdf(x).exp()
    }

    /// Quantile `Q(p) = μ - β ln(-ln p)`; `Q(0) = -inf`, `Q(1) = +inf`.
    ///
    /// # Errors
    /// [`Error::ProbabilityOutOfRange`] unless `0 ≤ p ≤ 1`.
    pub fn quantile(&self, p: f64) -> Result<f64, Error> {
        let p = check_probability(p)?;
        Ok(self.location + self.scale * standard_from_uniform(p))
    }

    /// Upper quantile: the `x` with `S(x) = q`, `μ - β ln(-ln_1p(-q))`, accurate for tiny `q`.
    ///
    /// # Errors
    /// [`Error::ProbabilityOutOfRange`] unless `0 ≤ q ≤ 1`.
    pub fn isf(&self, q: f64) -> Result<f64, Error> {
        let q = check_probability(q)?;
        Ok(self.location - self.scale * (-(-q).ln_1p()).ln())
    }
}

/// `rand`'s sampling interface: the same draw as [`Gumbel::sample`] (one open-interval uniform
/// per value), so `rng.sample(&d)`, `d.sample_iter(&mut rng)` and the seeded `sample` give the
/// same values from the same RNG state.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Gumbel;
/// use rand::RngExt;
/// use rand::distr::Distribution;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let d = Gumbel::new(1.0, 2.0)?;
/// let mut rng = gumbel_audit::rng::seeded(7);
/// let (lo, hi) = d.sample_range();
/// let x: f64 = rng.sample(&d);
/// assert!(x.is_finite() && (lo..=hi).contains(&x));
/// let xs: Vec<f64> = d.sample_iter(&mut rng).take(1000).collect();
/// assert!(xs.iter().all(|x| (lo..=hi).contains(x)));
/// // Mean μ + γβ = 1 + 0.5772·2; sd πβ/√6 = 2.57, so 6 sd of the mean of 1000 is 0.49.
/// let mean = xs.iter().sum::<f64>() / 1000.0;
/// assert!((mean - 2.154).abs() < 0.49);
/// # Ok(()) }
/// ```
impl Distribution<f64> for Gumbel {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        Gumbel::sample(self, rng)
    }
}

/// The log-CDF interface of the goodness-of-fit tests (`stats::anderson_darling_dist`), with
/// [`Gumbel::ln_cdf`] and [`Gumbel::ln_sf`] (each accurate in its own tail).
impl LnCdfSf for Gumbel {
    fn ln_cdf(&self, x: f64) -> f64 {
        Gumbel::ln_cdf(self, x)
    }
    fn ln_sf(&self, x: f64) -> f64 {
        Gumbel::ln_sf(self, x)
    }
}

/// A unit-scale Gumbel with location `μ` conditioned to be at most `M` (`upper`).
///
/// # Formula
/// ```text
/// F(x | X ≤ M) = exp(-(e^(μ-x) - e^(μ-M)))      for x ≤ M, 1 above
/// x(u) = μ - ln(-ln u + e^(μ-M))                 sampler (inverse CDF)
///      = -ln(e^(-g) + e^(-M)),  g = μ - ln(-ln u) ~ Gumbel(μ)
/// ```
/// the form of docs/design/math.md §2 fact 5, used by Gumbel-Rao, REBAR and RELAX.
///
/// # Numerical notes
/// Everything is in log space: `ln(-ln u + e^(μ-M))` is a `log_add_exp`, and the CDF uses
/// `e^(μ-x)(1 - e^(x-M))` with `expm1`, so `M` far below `μ` neither overflows nor cancels.
/// `upper = +inf` is the untruncated Gumbel.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::TruncatedGumbel;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let t = TruncatedGumbel::new(2.0, 0.5)?;
/// let x = t.from_uniform(0.999_999)?;
/// assert!(x <= 0.5);
/// assert!((t.cdf(x) - 0.999_999).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruncatedGumbel {
    location: f64,
    upper: f64,
}

impl TruncatedGumbel {
    /// Gumbel(`location`, 1) conditioned on `X ≤ upper`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `location` is not finite or `upper` is NaN or `-inf`.
    pub fn new(location: f64, upper: f64) -> Result<Self, Error> {
        check_location(location)?;
        if upper.is_nan() || upper == f64::NEG_INFINITY {
            return Err(Error::InvalidParameter {
                name: "upper bound",
                value: upper,
                rule: "a number or +inf",
            });
        }
        Ok(TruncatedGumbel { location, upper })
    }

    /// Location `μ` of the untruncated Gumbel.
    pub fn location(&self) -> f64 {
        self.location
    }

    /// Upper bound `M`.
    pub fn upper(&self) -> f64 {
        self.upper
    }

    /// Deterministic core: `μ - ln(-ln u + e^(μ-M))`.
    ///
    /// # Errors
    /// [`Error::UniformOutOfRange`] unless `0 < u < 1`.
    pub fn from_uniform(&self, u: f64) -> Result<f64, Error> {
        Ok(self.from_uniform_unchecked(check_uniform(u)?))
    }

    #[inline]
    pub(crate) fn from_uniform_unchecked(&self, u: f64) -> f64 {
        let x = self.location - log_add_exp(neg_ln_uniform(u).ln(), self.location - self.upper);
        // Rounding can put x one ulp above M when the conditioning is nearly certain to bind.
        x.min(self.upper)
    }

    /// One draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.from_uniform_unchecked(open_uniform(rng))
    }

    /// `ln F(x | X ≤ M) = -e^(μ-x)(1 - e^(x-M))` for `x < M`, `0` for `x ≥ M`.
    pub fn ln_cdf(&self, x: f64) -> f64 {
        if x >= self.upper {
            return 0.0;
        }
        -((self.location - x) + (-(x - self.upper).exp_m1()).ln()).exp()
    }

    /// `F(x | X ≤ M)`.
    pub fn cdf(&self, x: f64) -> f64 {
        self.ln_cdf(x).exp()
    }

    /// Log density: `-(x-μ) + ln F(x | X ≤ M)` for `x ≤ M`, `-inf` above.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        if x > self.upper {
            return f64::NEG_INFINITY;
        }
        self.location - x + self.ln_cdf(x)
    }

    /// Quantile, the inverse of [`TruncatedGumbel::cdf`]; `Q(0) = -inf`, `Q(1) = M`.
    ///
    /// # Errors
    /// [`Error::ProbabilityOutOfRange`] unless `0 ≤ p ≤ 1`.
    pub fn quantile(&self, p: f64) -> Result<f64, Error> {
        let p = check_probability(p)?;
        if p == 0.0 {
            return Ok(f64::NEG_INFINITY);
        }
        if p == 1.0 {
            return Ok(self.upper);
        }
        Ok(self.from_uniform_unchecked(p))
    }
}

/// `rand`'s sampling interface: the same draw as [`TruncatedGumbel::sample`].
///
/// # Example
/// ```
/// use gumbel_audit::distributions::TruncatedGumbel;
/// use rand::RngExt;
/// use rand::distr::Distribution;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let d = TruncatedGumbel::new(2.0, 0.5)?;
/// let mut rng = gumbel_audit::rng::seeded(7);
/// let x: f64 = rng.sample(&d);
/// assert!(x.is_finite() && x <= 0.5);
/// let xs: Vec<f64> = d.sample_iter(&mut rng).take(1000).collect();
/// assert!(xs.iter().all(|&x| x.is_finite() && x <= 0.5));
/// # Ok(()) }
/// ```
impl Distribution<f64> for TruncatedGumbel {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        TruncatedGumbel::sample(self, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn constructor_rules() {
        assert!(Gumbel::new(0.0, 0.0).is_err());
        assert!(Gumbel::new(f64::NAN, 1.0).is_err());
        assert!(Gumbel::new(0.0, f64::INFINITY).is_err());
        assert!(TruncatedGumbel::new(0.0, f64::NAN).is_err());
        assert!(TruncatedGumbel::new(0.0, f64::NEG_INFINITY).is_err());
        assert!(TruncatedGumbel::new(0.0, f64::INFINITY).is_ok());
    }

    #[test]
    fn noise_range_constants() {
        let (lo, hi) = Gumbel::standard().sample_range();
        assert_eq!(lo, STANDARD_NOISE_MIN);
        assert_eq!(hi, STANDARD_NOISE_MAX);
        assert_relative_eq!(lo, -(53.0 * 2f64.ln()).ln(), max_relative = 1e-15);
        // -ln(-ln(1 - ε)) = -ln(ε + ε²/2 + …) ≈ 53 ln 2 - ε/2.
        assert_relative_eq!(hi, 53.0 * 2f64.ln(), max_relative = 1e-15);
    }

    #[test]
    fn uniform_rules() {
        let g = Gumbel::standard();
        for u in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            assert!(g.from_uniform(u).is_err(), "u = {u}");
        }
        assert!(g.quantile(1.1).is_err());
        assert_eq!(g.quantile(0.0), Ok(f64::NEG_INFINITY));
        assert_eq!(g.quantile(1.0), Ok(f64::INFINITY));
    }

    #[test]
    fn known_values() {
        let g = Gumbel::standard();
        // Median: -ln(ln 2).
        assert_relative_eq!(
            g.quantile(0.5).unwrap(),
            -(2f64.ln()).ln(),
            max_relative = 1e-15
        );
        assert_relative_eq!(g.cdf(0.0), (-1f64).exp(), max_relative = 1e-15);
        assert_relative_eq!(g.ln_pdf(0.0), -1.0, max_relative = 1e-15);
        // Upper tail: S(40) = 1 - exp(-e^-40) ≈ e^-40.
        assert_relative_eq!(g.sf(40.0), (-40f64).exp(), max_relative = 1e-15);
        assert_relative_eq!(
            g.isf(1e-6).unwrap(),
            -(-(-1e-6f64).ln_1p()).ln(),
            max_relative = 1e-15
        );
        assert_relative_eq!(g.sf(g.isf(1e-12).unwrap()), 1e-12, max_relative = 1e-12);
    }

    #[test]
    fn truncated_reduces_to_gumbel_without_bound() {
        let t = TruncatedGumbel::new(1.5, f64::INFINITY).unwrap();
        let g = Gumbel::new(1.5, 1.0).unwrap();
        for u in [1e-10, 0.3, 0.9, 1.0 - 1e-12] {
            assert_relative_eq!(
                t.from_uniform(u).unwrap(),
                g.from_uniform(u).unwrap(),
                max_relative = 1e-14
            );
        }
    }

    #[test]
    fn truncated_far_below_location_is_finite() {
        let t = TruncatedGumbel::new(0.0, -800.0).unwrap();
        for u in [1e-300, 0.5, 1.0 - 1e-16] {
            let x = t.from_uniform(u).unwrap();
            assert!(x.is_finite() && x <= -800.0, "u = {u}: {x}");
        }
        // At the bound the density is e^(μ-M) = e^800 in log space; the truncated law is a
        // spike of width e^-800 just below M.
        assert_relative_eq!(t.ln_pdf(-800.0), 800.0, max_relative = 1e-15);
    }
}
