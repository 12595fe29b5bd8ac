//! The Concrete (Gumbel-Softmax) distribution, its log-space twin ExpConcrete, and hard samples.
//!
//! # Notation
//! Logits `l`, `π = softmax(l)`, temperature `τ` (`temperature`), `k` categories of which `k'`
//! are unmasked, noise `g_i` iid standard Gumbel, `z_i = l_i + g_i`.
//!
//! # Formula
//! ```text
//! sample        y = softmax(z / τ),  computed as  ln y_i = z_i/τ - logsumexp(z/τ)
//! hard sample   h = onehot(argmax_i z_i)          (the forward value of straight-through)
//! density       ln p(y) = ln Γ(k') + (k'-1) ln τ + Σ_i (ln π_i - (τ+1) ln y_i)
//!                         - k' · logsumexp_i(ln π_i - τ ln y_i)
//! ExpConcrete   ln p_exp(x) = ln Γ(k') + (k'-1) ln τ + Σ_i log_softmax(ln π - τ x)_i,  x = ln y
//!               ln p(y) = ln p_exp(ln y) - Σ_i ln y_i
//! ```
//! Sums run over the `k'` unmasked categories. The density is with respect to Lebesgue measure
//! on `y_1 … y_{k'-1}` (Maddison, Mnih & Teh 2017): the convention of adapter protocol v1 and of
//! `torch.distributions.RelaxedOneHotCategorical.log_prob` and TFP's `RelaxedOneHotCategorical`.
//!
//! # ExpConcrete convention
//! [`Concrete::ln_pdf_exp`] is the raw log-space formula, as TFP's
//! `ExpRelaxedOneHotCategorical.log_prob` and PyTorch's `ExpRelaxedCategorical.log_prob`
//! compute it. It is **not** a normalised density in the chart `x_1 … x_{k-1}`: that density is
//! `p_exp(x) / y_k` (the Jacobian of `y = e^x` restricted to the simplex is `Π_{i<k} y_i`; for
//! k = 2 the raw formula integrates to about 0.675, shared/design/MATH.md §1). Ratios of
//! densities and KL divergences are unaffected; integrate or goodness-of-fit test
//! `ln p_exp(x) - x_k`.
//!
//! # Numerical notes
//! - Samples are made in log space from the centred logits, so `τ = 10⁻³` with `|l| = 10⁴`
//!   neither overflows nor gives NaN; entries that underflow are exactly 0 and the row still
//!   sums to 1 within rounding. Masked categories are exactly 0 in every sample.
//! - The density takes `ln y_i - ln Σ y` (renormalising points within
//!   [`crate::tolerance::SIMPLEX_SUM`] of the simplex), so entries down to the smallest
//!   positive f64 give a finite result; the log-sum-exp and the sums are compensated.
//!
//! # References
//! - C. J. Maddison, A. Mnih, Y. W. Teh, *The Concrete Distribution*, ICLR 2017,
//!   <https://arxiv.org/abs/1611.00712>.
//! - E. Jang, S. Gu, B. Poole, *Categorical Reparameterization with Gumbel-Softmax*, ICLR 2017,
//!   <https://arxiv.org/abs/1611.01144>.

use rand::Rng;
use statrs::function::gamma::ln_gamma;

use crate::dist::categorical::check_noise;
use crate::dist::gumbel::standard_from_uniform;
use crate::dist::logits::Logits;
use crate::dist::uniform::open_uniform;
use crate::error::{Error, check_temperature};
use crate::numeric::{log_sum_exp, sum};
use crate::tolerance;

/// Concrete(π, τ): the Gumbel-Softmax distribution on the simplex.
///
/// # Example
/// ```
/// use gumbel_audit::dist::{Concrete, Logits};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let c = Concrete::new(Logits::new(vec![0.0, -1.5, 2.0])?, 0.5)?;
/// let y = c.from_noise(&[0.1, 0.2, -0.3])?;
/// assert!((y.iter().sum::<f64>() - 1.0).abs() < 1e-15);
/// assert!(c.ln_pdf(&y)?.is_finite());
/// assert!(Concrete::new(Logits::new(vec![0.0])?, 0.0).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Concrete {
    logits: Logits,
    temperature: f64,
    /// `1/τ`, so that the sampler multiplies.
    inv_temperature: f64,
    /// `ln Γ(k') + (k'-1) ln τ`, the density's constant.
    ln_norm: f64,
}

impl Concrete {
    /// Concrete distribution with logits `l` and temperature `τ`.
    ///
    /// # Errors
    /// [`Error::TemperatureNotPositive`], [`Error::TemperatureNotFinite`].
    pub fn new(logits: Logits, temperature: f64) -> Result<Self, Error> {
        let temperature = check_temperature(temperature)?;
        let kk = logits.unmasked() as f64;
        Ok(Concrete {
            ln_norm: ln_gamma(kk) + (kk - 1.0) * temperature.ln(),
            logits,
            temperature,
            inv_temperature: 1.0 / temperature,
        })
    }

    /// The logits `l`.
    pub fn logits(&self) -> &Logits {
        &self.logits
    }

    /// The temperature `τ`.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// Number of categories `k`, masked ones included.
    pub fn len(&self) -> usize {
        self.logits.len()
    }

    /// Always false (`k ≥ 1`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Log-space core, unchecked: writes `s_i = (l_i - max l + g_i)/τ` and returns
    /// `logsumexp(s)`.
    fn scaled_scores(&self, noise: &[f64], out: &mut [f64]) -> f64 {
        for ((o, &c), &g) in out.iter_mut().zip(self.logits.centered()).zip(noise) {
            *o = (c + g) * self.inv_temperature;
        }
        log_sum_exp(out)
    }

    /// ExpConcrete sample from given noise: `x = ln y = z/τ - logsumexp(z/τ)`; masked
    /// categories are `-inf`. Always finite elsewhere, even where `y` underflows.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `noise.len() == k`; [`Error::NoiseNotFinite`].
    pub fn log_from_noise(&self, noise: &[f64]) -> Result<Vec<f64>, Error> {
        check_noise(noise, self.len())?;
        let mut out = vec![0.0; self.len()];
        let lse = self.scaled_scores(noise, &mut out);
        for o in &mut out {
            *o -= lse;
        }
        Ok(out)
    }

    /// Deterministic core of the sampler: `y = softmax((l + g)/τ)`, written to `out`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `noise.len() == out.len() == k`; [`Error::NoiseNotFinite`].
    pub fn from_noise_into(&self, noise: &[f64], out: &mut [f64]) -> Result<(), Error> {
        check_noise(noise, self.len())?;
        if out.len() != self.len() {
            return Err(Error::WrongLength {
                expected: self.len(),
                found: out.len(),
            });
        }
        self.from_noise_unchecked(noise, out);
        Ok(())
    }

    fn from_noise_unchecked(&self, noise: &[f64], out: &mut [f64]) {
        let lse = self.scaled_scores(noise, out);
        for o in out.iter_mut() {
            *o = (*o - lse).exp();
        }
    }

    /// Deterministic core of the sampler: `y = softmax((l + g)/τ)`.
    ///
    /// # Errors
    /// As [`Concrete::from_noise_into`].
    pub fn from_noise(&self, noise: &[f64]) -> Result<Vec<f64>, Error> {
        let mut out = vec![0.0; self.len()];
        self.from_noise_into(noise, &mut out)?;
        Ok(out)
    }

    /// Hard sample from given noise: `onehot(argmax_i (l_i + g_i))`, which is also the one-hot
    /// of `argmax y` (ties in `y` by underflow are resolved on `z`, not on `y`).
    ///
    /// # Errors
    /// As [`Concrete::from_noise`].
    pub fn hard_from_noise(&self, noise: &[f64]) -> Result<Vec<f64>, Error> {
        check_noise(noise, self.len())?;
        let mut z = vec![0.0; self.len()];
        self.scaled_scores(noise, &mut z);
        Ok(one_hot_of_argmax(&z))
    }

    /// One sample `y`, from `k` standard Gumbel values of `rng`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let mut out = vec![0.0; self.len()];
        self.sample_into(rng, &mut out);
        out
    }

    /// One sample written into `out[..k]`; `out` must hold at least `k` entries (extra entries
    /// are left alone).
    pub fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        let k = self.len().min(out.len());
        let out = &mut out[..k];
        for o in out.iter_mut() {
            *o = standard_from_uniform(open_uniform(rng));
        }
        // `out` holds the noise; the core reads each entry before overwriting it.
        let lse = {
            for (o, &c) in out.iter_mut().zip(self.logits.centered()) {
                *o = (c + *o) * self.inv_temperature;
            }
            log_sum_exp(out)
        };
        for o in out.iter_mut() {
            *o = (*o - lse).exp();
        }
    }

    /// One hard sample (one-hot row), from the same noise a soft sample would use.
    pub fn sample_hard<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let z: Vec<f64> = self
            .logits
            .centered()
            .iter()
            .map(|&c| c + standard_from_uniform(open_uniform(rng)))
            .collect();
        one_hot_of_argmax(&z)
    }

    /// Log density `ln p(y)` (module doc, Maddison et al. convention).
    ///
    /// # Errors
    /// [`Error::WrongLength`]; [`Error::NotOnSimplex`] when a masked entry is not exactly 0, an
    /// unmasked entry is not in `(0, 1]`, or `|Σ y - 1| > 1e-6`
    /// ([`crate::tolerance::SIMPLEX_SUM`]).
    pub fn ln_pdf(&self, y: &[f64]) -> Result<f64, Error> {
        let ln_y = self.log_point(y)?;
        let (lp, ln_y) = self.unmasked_pairs(&ln_y);
        let a: Vec<f64> = lp
            .iter()
            .zip(&ln_y)
            .map(|(&p, &x)| p - self.temperature * x)
            .collect();
        let lse = log_sum_exp(&a);
        let kk = lp.len() as f64;
        // Σ_i (a_i - ln y_i) - k'·lse(a), summed with compensation.
        let body = sum(a.iter().zip(&ln_y).map(|(&ai, &x)| ai - x)) - kk * lse;
        Ok(self.ln_norm + body)
    }

    /// ExpConcrete log density `ln p_exp(x)` at `x = ln y` (raw log-space formula; see the
    /// module doc for its convention).
    ///
    /// # Errors
    /// [`Error::WrongLength`]; [`Error::NotOnSimplex`] when a masked entry is not `-inf`, an
    /// unmasked entry is not finite and `≤ 0`, or `|logsumexp(x)| > 1e-6`
    /// ([`crate::tolerance::LOG_SIMPLEX_SUM`]).
    pub fn ln_pdf_exp(&self, x: &[f64]) -> Result<f64, Error> {
        self.check_len(x.len())?;
        for (i, &v) in x.iter().enumerate() {
            if self.logits.is_masked(i) {
                if v != f64::NEG_INFINITY {
                    return Err(not_on_simplex(format!(
                        "entry {i} of a masked category must be -inf in log space, found {v}"
                    )));
                }
            } else if !(v.is_finite() && v <= 0.0) {
                return Err(not_on_simplex(format!(
                    "log-space entry {i} is {v}: unmasked entries must be finite and at most 0"
                )));
            }
        }
        let lse_x = log_sum_exp(x);
        if lse_x.abs() > tolerance::LOG_SIMPLEX_SUM {
            return Err(not_on_simplex(format!(
                "logsumexp of the log-space point is {lse_x}, not 0 (tolerance {})",
                tolerance::LOG_SIMPLEX_SUM
            )));
        }
        let ln_y: Vec<f64> = x.iter().map(|&v| v - lse_x).collect();
        let (lp, ln_y) = self.unmasked_pairs(&ln_y);
        Ok(self.ln_norm + self.exp_body(&lp, &ln_y))
    }

    /// `Σ_i log_softmax(ln π - τ x)_i` over unmasked categories.
    fn exp_body(&self, lp: &[f64], ln_y: &[f64]) -> f64 {
        let a: Vec<f64> = lp
            .iter()
            .zip(ln_y)
            .map(|(&p, &x)| p - self.temperature * x)
            .collect();
        let lse = log_sum_exp(&a);
        sum(a.iter().map(|&ai| ai - lse))
    }

    fn check_len(&self, found: usize) -> Result<(), Error> {
        if found == self.len() {
            Ok(())
        } else {
            Err(Error::WrongLength {
                expected: self.len(),
                found,
            })
        }
    }

    /// Validates `y` and returns `ln y_i - ln Σ y` (masked entries `-inf`).
    fn log_point(&self, y: &[f64]) -> Result<Vec<f64>, Error> {
        self.check_len(y.len())?;
        for (i, &v) in y.iter().enumerate() {
            if self.logits.is_masked(i) {
                if v != 0.0 {
                    return Err(not_on_simplex(format!(
                        "entry {i} of a masked category must be exactly 0, found {v}"
                    )));
                }
            } else if !(v > 0.0 && v <= 1.0) {
                return Err(not_on_simplex(format!(
                    "entry {i} is {v}: unmasked entries must lie in (0, 1]"
                )));
            }
        }
        let total = sum(y.iter().copied());
        if (total - 1.0).abs() > tolerance::SIMPLEX_SUM {
            return Err(not_on_simplex(format!(
                "entries sum to {total}, not 1 (tolerance {})",
                tolerance::SIMPLEX_SUM
            )));
        }
        let ln_total = total.ln();
        Ok(y.iter().map(|&v| v.ln() - ln_total).collect())
    }

    /// `(ln π_i, ln y_i)` for the unmasked categories.
    fn unmasked_pairs(&self, ln_y: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.logits
            .log_probs()
            .iter()
            .zip(ln_y)
            .filter(|(lp, _)| lp.is_finite())
            .map(|(&lp, &x)| (lp, x))
            .unzip()
    }
}

impl Concrete {
    /// `n` samples at once, written row-major into `out` (`out.len() = n·k`): the fast path
    /// for large batches (design and measured speed in module [`crate::dist::fast`] and
    /// `docs/performance.md`).
    ///
    /// # Formula
    /// ```text
    /// u = (⌊w/2¹²⌋ + ½)·2⁻⁵²,  g = -ln(-ln u) ∈ [-3.6038, 36.7368]   (as Concrete::sample)
    /// y = softmax((l - max l + g)/τ)                                   (one row per sample)
    /// ```
    ///
    /// # Numerical notes
    /// - The noise construction is the inverse-CDF Gumbel of [`Concrete::sample`] on the same
    ///   open uniforms, computed with the crate's own branch-free `ln` and `exp` kernels
    ///   ([`crate::dist::fast::ln_pos`], [`crate::dist::fast::exp_nonpos`], each within 1 ulp
    ///   of `std`). Each row equals [`Concrete::from_noise`] on that noise to within a few ulps
    ///   per entry ([`crate::dist::fast::BATCH_MAX_REL_ERROR`] relative, tested); the law is the Concrete law.
    /// - **RNG stream**: words are drawn in blocks with `Rng::fill_bytes` (little endian, one
    ///   64-bit word per entry, masked categories included), so for `ChaCha8Rng` the batch does
    ///   not reproduce the values of repeated [`Concrete::sample`] calls, and after a call the
    ///   RNG may have advanced past the last word used. Seeded batches are value-stable.
    /// - Range: masked categories are exactly 0; entries that underflow are exactly 0 (or
    ///   subnormal); every row sums to 1 within `k·2⁻⁵³`; no NaN or inf for
    ///   `τ ∈ [10⁻³, 10³]`, `|l| ≤ 10⁴` (tested at the edge uniforms).
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `out.len()` is a multiple of `k` (`expected` is then the
    /// largest multiple of `k` below `out.len()`).
    ///
    /// # Example
    /// ```
    /// use gumbel_audit::dist::{Concrete, Logits};
    /// # fn main() -> Result<(), gumbel_audit::Error> {
    /// let c = Concrete::new(Logits::new(vec![0.0, -1.5, 2.0, f64::NEG_INFINITY])?, 0.5)?;
    /// let mut rng = gumbel_audit::rng::seeded(1);
    /// let mut out = vec![0.0; 4 * 100];
    /// c.sample_batch_into(&mut rng, &mut out)?;
    /// for row in out.chunks(4) {
    ///     assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    ///     assert_eq!(row[3], 0.0);
    /// }
    /// assert!(c.sample_batch_into(&mut rng, &mut [0.0; 5]).is_err());
    /// # Ok(()) }
    /// ```
    pub fn sample_batch_into<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        out: &mut [f64],
    ) -> Result<(), Error> {
        let k = self.len();
        if out.len() % k != 0 {
            return Err(Error::WrongLength {
                expected: out.len() - out.len() % k,
                found: out.len(),
            });
        }
        crate::dist::fast::concrete_rows(rng, self.logits.centered(), self.inv_temperature, out);
        Ok(())
    }

    /// `n` samples as one row-major vector of `n·k` entries; see [`Concrete::sample_batch_into`].
    pub fn sample_batch<R: Rng + ?Sized>(&self, rng: &mut R, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n * self.len()];
        crate::dist::fast::concrete_rows(rng, self.logits.centered(), self.inv_temperature, &mut out);
        out
    }
}

fn not_on_simplex(reason: String) -> Error {
    Error::NotOnSimplex { reason }
}

/// One-hot row of the first maximum of `z` (all zeros cannot happen: `z` has a finite entry).
fn one_hot_of_argmax(z: &[f64]) -> Vec<f64> {
    let mut h = vec![0.0; z.len()];
    if let Some(i) = crate::numeric::argmax(z) {
        h[i] = 1.0;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn concrete(l: &[f64], tau: f64) -> Concrete {
        Concrete::new(Logits::from_slice(l).unwrap(), tau).unwrap()
    }

    #[test]
    fn temperature_rules() {
        let l = Logits::new(vec![0.0, 1.0]).unwrap();
        for tau in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Concrete::new(l.clone(), tau).is_err(), "tau = {tau}");
        }
    }

    #[test]
    fn simplex_rules() {
        let c = concrete(&[0.0, 1.0, f64::NEG_INFINITY], 0.5);
        assert!(matches!(
            c.ln_pdf(&[0.5, 0.5]),
            Err(Error::WrongLength { .. })
        ));
        assert!(matches!(
            c.ln_pdf(&[0.5, 0.4, 0.1]),
            Err(Error::NotOnSimplex { .. })
        ));
        assert!(matches!(
            c.ln_pdf(&[0.6, 0.6, 0.0]),
            Err(Error::NotOnSimplex { .. })
        ));
        assert!(matches!(
            c.ln_pdf(&[1.0, 0.0, 0.0]),
            Err(Error::NotOnSimplex { .. })
        ));
        assert!(matches!(
            c.ln_pdf(&[f64::NAN, 0.5, 0.0]),
            Err(Error::NotOnSimplex { .. })
        ));
        assert!(c.ln_pdf(&[0.3, 0.7, 0.0]).unwrap().is_finite());
    }

    #[test]
    fn two_category_density_by_hand() {
        // k = 2, π = (½, ½), τ = 1: p(y) = 1·1·(¼ y₁⁻² y₂⁻²)/(½(y₁⁻¹ + y₂⁻¹))² = 1 on (0, 1).
        let c = concrete(&[0.0, 0.0], 1.0);
        for y1 in [1e-300, 0.01, 0.3, 0.5] {
            assert_relative_eq!(c.ln_pdf(&[y1, 1.0 - y1]).unwrap(), 0.0, epsilon = 1e-14);
        }
    }

    #[test]
    fn exp_density_relation() {
        let c = concrete(&[0.3, -1.0, 2.0], 0.7);
        let y = [0.2, 0.1, 0.7];
        let x: Vec<f64> = y.iter().map(|v: &f64| v.ln()).collect();
        let lhs = c.ln_pdf(&y).unwrap();
        let rhs = c.ln_pdf_exp(&x).unwrap() - x.iter().sum::<f64>();
        assert_relative_eq!(lhs, rhs, max_relative = 1e-14);
    }

    #[test]
    fn extreme_range_is_finite() {
        let c = concrete(&[1e4, -1e4, 0.0, f64::NEG_INFINITY], 1e-3);
        let y = c.from_noise(&[36.7, -3.6, 0.0, 5.0]).unwrap();
        assert!(y.iter().all(|v| v.is_finite()));
        assert_eq!(y[3], 0.0);
        assert_relative_eq!(y.iter().sum::<f64>(), 1.0, max_relative = 1e-15);
        let x = c.log_from_noise(&[36.7, -3.6, 0.0, 5.0]).unwrap();
        assert!(x[..3].iter().all(|v| v.is_finite()));
        let c = concrete(&[1e3, -1e3, 0.0], 1e3);
        let p = c.ln_pdf(&[1e-300, 1e-300, 1.0 - 2e-300]).unwrap();
        assert!(p.is_finite(), "{p}");
    }
}
