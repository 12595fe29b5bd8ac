//! The categorical distribution and its Gumbel samplers: Gumbel-Max and Gumbel-top-k.
//!
//! # Formula
//! ```text
//! P(i) = π_i = softmax(l)_i
//! Gumbel-Max:    argmax_i (l_i + g_i) ~ Categorical(π),             g_i iid Gumbel(0, 1)
//! Gumbel-top-k:  the indices of the m largest l_i + g_i, in order, are an ordered sample
//!                without replacement (Plackett-Luce):
//!                P(i_1 … i_m) = Π_j π_{i_j} / (1 - Σ_{r<j} π_{i_r})
//! ```
//!
//! # Numerical notes
//! - Comparisons use the centred logits `l_i - max l` (module [`crate::distributions::logits`]); masked
//!   categories (`-inf`) never win, whatever their noise. Ties (probability 0 with continuous
//!   noise, possible with hand-made noise) go to the lowest index.
//! - The Plackett-Luce log-probability divides by the remaining mass computed as a log-sum-exp
//!   over the categories not yet drawn, never as `1 - Σ π`, which cancels.
//! - The samplers draw one noise value per category, masked ones included, so that `sample`
//!   equals `gumbel_max` of `k` standard draws from the same RNG (tested).
//!
//! # References
//! - E. J. Gumbel (1954), and C. J. Maddison, D. Tarlow, T. Minka, *A\* Sampling*, NeurIPS 2014,
//!   <https://arxiv.org/abs/1411.0030>.
//! - W. Kool, H. van Hoof, M. Welling, *Stochastic Beams and Where to Find Them*, ICML 2019,
//!   <https://arxiv.org/abs/1903.06059>.

use rand::Rng;
use rand::distr::Distribution;

use crate::distributions::gumbel::standard_from_uniform;
use crate::distributions::logits::Logits;
use crate::distributions::uniform::open_uniform;
use crate::error::Error;
use crate::numeric::log_sum_exp;

/// Checks that `noise` has one finite value per category.
pub(crate) fn check_noise(noise: &[f64], k: usize) -> Result<(), Error> {
    if noise.len() != k {
        return Err(Error::WrongLength {
            expected: k,
            found: noise.len(),
        });
    }
    match noise.iter().enumerate().find(|(_, g)| !g.is_finite()) {
        Some((index, &value)) => Err(Error::NoiseNotFinite { index, value }),
        None => Ok(()),
    }
}

/// Categorical(softmax(l)) with exact probabilities and Gumbel samplers.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::{Categorical, Logits};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let c = Categorical::new(Logits::new(vec![0.0, 1.0, f64::NEG_INFINITY])?);
/// assert_eq!(c.gumbel_max(&[0.3, -0.2, 50.0])?, 1); // masked category 2 never wins
/// assert_eq!(c.pmf(2), 0.0);
/// assert_eq!(c.top_k(&[0.3, -0.2, 50.0], 2)?, vec![1, 0]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    logits: Logits,
}

impl Categorical {
    /// The categorical distribution with the given logits.
    pub fn new(logits: Logits) -> Self {
        Categorical { logits }
    }

    /// The logits.
    pub fn logits(&self) -> &Logits {
        &self.logits
    }

    /// Number of categories `k`.
    pub fn len(&self) -> usize {
        self.logits.len()
    }

    /// Always false (`k ≥ 1`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `P(i) = π_i`; 0 for a masked or out-of-range category.
    pub fn pmf(&self, i: usize) -> f64 {
        self.ln_pmf(i).exp()
    }

    /// `ln π_i`; `-inf` for a masked or out-of-range category.
    pub fn ln_pmf(&self, i: usize) -> f64 {
        self.logits
            .log_probs()
            .get(i)
            .copied()
            .unwrap_or(f64::NEG_INFINITY)
    }

    /// All probabilities `π`.
    pub fn probs(&self) -> Vec<f64> {
        self.logits.probs()
    }

    /// Gumbel-Max from given noise: `argmax_i (l_i + g_i)` over unmasked categories.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `noise.len() == k`; [`Error::NoiseNotFinite`].
    pub fn gumbel_max(&self, noise: &[f64]) -> Result<usize, Error> {
        check_noise(noise, self.len())?;
        Ok(self.argmax_unchecked(noise))
    }

    fn argmax_unchecked(&self, noise: &[f64]) -> usize {
        let mut best = 0;
        let mut best_z = f64::NEG_INFINITY;
        for (i, (&c, &g)) in self.logits.centered().iter().zip(noise).enumerate() {
            let z = c + g;
            if z > best_z {
                best = i;
                best_z = z;
            }
        }
        best
    }

    /// One draw by Gumbel-Max, from `k` standard Gumbel values of `rng`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let mut best = 0;
        let mut best_z = f64::NEG_INFINITY;
        for (i, &c) in self.logits.centered().iter().enumerate() {
            let z = c + standard_from_uniform(open_uniform(rng));
            if z > best_z {
                best = i;
                best_z = z;
            }
        }
        best
    }

    /// Gumbel-top-k from given noise: the indices of the `m` largest `l_i + g_i`, largest first.
    ///
    /// # Errors
    /// As [`Categorical::gumbel_max`]; [`Error::CountZero`] for `m = 0`;
    /// [`Error::TooManyDraws`] when `m` exceeds the number of unmasked categories.
    pub fn top_k(&self, noise: &[f64], m: usize) -> Result<Vec<usize>, Error> {
        check_noise(noise, self.len())?;
        self.check_draws(m)?;
        let mut order: Vec<usize> = (0..self.len())
            .filter(|&i| !self.logits.is_masked(i))
            .collect();
        let z: Vec<f64> = self
            .logits
            .centered()
            .iter()
            .zip(noise)
            .map(|(c, g)| c + g)
            .collect();
        // Descending by z, lowest index first on ties; total_cmp is total on finite values.
        order.sort_by(|&a, &b| z[b].total_cmp(&z[a]).then(a.cmp(&b)));
        order.truncate(m);
        Ok(order)
    }

    fn check_draws(&self, m: usize) -> Result<(), Error> {
        if m == 0 {
            return Err(Error::CountZero { name: "m" });
        }
        if m > self.logits.unmasked() {
            return Err(Error::TooManyDraws {
                requested: m,
                available: self.logits.unmasked(),
            });
        }
        Ok(())
    }

    /// One ordered sample of `m` categories without replacement, by Gumbel-top-k.
    ///
    /// # Errors
    /// [`Error::CountZero`], [`Error::TooManyDraws`].
    pub fn sample_top_k<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        m: usize,
    ) -> Result<Vec<usize>, Error> {
        self.check_draws(m)?;
        let noise: Vec<f64> = (0..self.len())
            .map(|_| standard_from_uniform(open_uniform(rng)))
            .collect();
        self.top_k(&noise, m)
    }

    /// Exact log-probability of an ordered draw without replacement (Plackett-Luce).
    ///
    /// # Formula
    /// ```text
    /// ln P(i_1 … i_m) = Σ_j [ln π_{i_j} - ln Σ_{r ∉ {i_1 … i_{j-1}}} π_r]
    /// ```
    /// `-inf` when a drawn category is masked.
    ///
    /// # Errors
    /// [`Error::CountZero`] for an empty draw, [`Error::IndexOutOfRange`],
    /// [`Error::RepeatedIndex`].
    pub fn ln_prob_ordered(&self, indices: &[usize]) -> Result<f64, Error> {
        if indices.is_empty() {
            return Err(Error::CountZero {
                name: "number of drawn indices",
            });
        }
        let k = self.len();
        let mut taken = vec![false; k];
        for &i in indices {
            if i >= k {
                return Err(Error::IndexOutOfRange { index: i, k });
            }
            if taken[i] {
                return Err(Error::RepeatedIndex { index: i });
            }
            taken[i] = true;
        }
        let lp = self.logits.log_probs();
        let mut remaining: Vec<f64> = lp.to_vec();
        let mut total = 0.0;
        for &i in indices {
            total += lp[i] - log_sum_exp(&remaining);
            remaining[i] = f64::NEG_INFINITY;
        }
        Ok(total)
    }
}

/// `rand`'s sampling interface: the same Gumbel-Max draw as [`Categorical::sample`].
///
/// # Example
/// ```
/// use gumbel_audit::distributions::{Categorical, Logits};
/// use rand::RngExt;
/// use rand::distr::Distribution;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let d = Categorical::new(Logits::new(vec![0.0, f64::NEG_INFINITY, 1.0])?);
/// let mut rng = gumbel_audit::rng::seeded(7);
/// let i: usize = rng.sample(&d);
/// assert!(i == 0 || i == 2); // never the masked category
/// let draws: Vec<usize> = d.sample_iter(&mut rng).take(1000).collect();
/// assert!(draws.iter().all(|&i| i != 1));
/// // P(2) = e/(1 + e) = 0.731, sd of the frequency 0.014: 6 sd is 0.084.
/// let f2 = draws.iter().filter(|&&i| i == 2).count() as f64 / 1000.0;
/// assert!((f2 - 0.731).abs() < 0.084);
/// # Ok(()) }
/// ```
impl Distribution<usize> for Categorical {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        Categorical::sample(self, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn cat(l: &[f64]) -> Categorical {
        Categorical::new(Logits::from_slice(l).unwrap())
    }

    #[test]
    fn noise_rules() {
        let c = cat(&[0.0, 1.0]);
        assert_eq!(
            c.gumbel_max(&[0.0]),
            Err(Error::WrongLength {
                expected: 2,
                found: 1
            })
        );
        assert!(matches!(
            c.gumbel_max(&[0.0, f64::INFINITY]),
            Err(Error::NoiseNotFinite { index: 1, .. })
        ));
        assert!(matches!(
            c.top_k(&[0.0, 0.0], 0),
            Err(Error::CountZero { .. })
        ));
        let masked = cat(&[0.0, f64::NEG_INFINITY]);
        assert_eq!(
            masked.top_k(&[0.0, 0.0], 2),
            Err(Error::TooManyDraws {
                requested: 2,
                available: 1
            })
        );
    }

    #[test]
    fn plackett_luce_small_case() {
        // π = (0.5, 0.25, 0.25): P(1, 0) = 0.25 · 0.5/0.75.
        let c = cat(&[2f64.ln(), 0.0, 0.0]);
        assert_relative_eq!(
            c.ln_prob_ordered(&[1, 0]).unwrap(),
            (0.25 * 0.5 / 0.75f64).ln(),
            max_relative = 1e-14
        );
        // A full ordering's probabilities sum to 1 over all 3! orders.
        let perms = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        let total: f64 = perms
            .iter()
            .map(|p| c.ln_prob_ordered(p).unwrap().exp())
            .sum();
        assert_relative_eq!(total, 1.0, max_relative = 1e-14);
        assert!(matches!(
            c.ln_prob_ordered(&[0, 0]),
            Err(Error::RepeatedIndex { index: 0 })
        ));
        assert!(matches!(
            c.ln_prob_ordered(&[3]),
            Err(Error::IndexOutOfRange { index: 3, k: 3 })
        ));
    }

    #[test]
    fn single_category_is_certain() {
        let c = cat(&[5.0]);
        assert_eq!(c.gumbel_max(&[-3.0]).unwrap(), 0);
        assert_eq!(c.pmf(0), 1.0);
        assert_eq!(c.ln_prob_ordered(&[0]).unwrap(), 0.0);
    }
}
