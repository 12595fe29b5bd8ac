//! The score-function (REINFORCE) estimator, with a constant baseline or the leave-one-out
//! baseline over `m` samples.
//!
//! # Notation
//! Logits `l`, `π = softmax(l)`, a drawn category `z ~ Categorical(π)`, `e_z` its one-hot row,
//! objective `f`, baseline `b`, group size `m` (`samples_per_group`).
//!
//! # Formula
//! ```text
//! ∇_l ln π_z = e_z - π
//! REINFORCE        ĝ(z) = (f(e_z) - b)(e_z - π)                                  E ĝ = ∇L
//! leave-one-out    ĝ(x_1 … x_m) = (1/m) Σ_i [f(e_{x_i}) - b_i](e_{x_i} - π),
//!                  b_i = (1/(m-1)) Σ_{j≠i} f(e_{x_j}),   x_i iid ~ Categorical(π)  E ĝ = ∇L
//! ```
//! The leave-one-out row is **one row per group of `m` samples**: it averages the `m`
//! per-sample terms, so it estimates `∇L` once from `m` draws (Kool et al. 2019; equivalently
//! `(1/(m-1)) Σ_i [f(e_{x_i}) - mean_j f(e_{x_j})](e_{x_i} - π)`). `b_i` does not depend on
//! `x_i`, which is why it is unbiased. Compare its variance with `m` single-sample REINFORCE
//! rows averaged, not with one.
//!
//! Exact moments: [`Reinforce::exact_moments`] uses the closed form of
//! [`Objective::reinforce_covariance`]; [`LeaveOneOut::exact_moments`] enumerates the `k'^m`
//! ordered tuples of unmasked categories (`k'^m ≤ 10⁶`).
//!
//! # Masked categories
//! A masked category is never drawn (asking for its row is an error), and every row is exactly
//! `0` at masked coordinates, because `π_i = 0` there and `e_z` is `0` there.
//!
//! # References
//! - R. J. Williams (1992), <https://doi.org/10.1007/BF00992696>.
//! - W. Kool, H. van Hoof, M. Welling, *Buy 4 REINFORCE Samples, Get a Baseline for Free!*,
//!   ICLR 2019 workshop DeepRLStructPred, <https://openreview.net/forum?id=r1lgTGL5DE>.

use nalgebra::DMatrix;
use rand::Rng;

use crate::distributions::{Categorical, Logits};
use crate::error::Error;
use crate::grad::{ExactMoments, GradientEstimator, Objective};
use crate::numeric::sum;
use crate::rng::ChaCha8Rng;

/// The baseline subtracted from `f` in [`Reinforce`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Baseline {
    /// `b = 0` (the protocol's `reinforce`).
    None,
    /// A constant `b` (must be finite).
    Constant(f64),
}

impl Baseline {
    fn value(self) -> Result<f64, Error> {
        match self {
            Baseline::None => Ok(0.0),
            Baseline::Constant(b) if b.is_finite() => Ok(b),
            Baseline::Constant(b) => Err(Error::InvalidParameter {
                name: "baseline",
                value: b,
                rule: "finite",
            }),
        }
    }
}

/// Shared validated state: the categorical, `π` and the vertex values `f(e_i)`.
#[derive(Debug, Clone, PartialEq)]
struct Score {
    categorical: Categorical,
    objective: Objective,
    probs: Vec<f64>,
    vertex: Vec<f64>,
}

impl Score {
    fn new(logits: Logits, objective: Objective) -> Result<Self, Error> {
        objective.check_len(logits.len())?;
        let probs = logits.probs();
        let vertex = objective.vertex_values();
        Ok(Score {
            categorical: Categorical::new(logits),
            objective,
            probs,
            vertex,
        })
    }

    fn check_category(&self, z: usize) -> Result<(), Error> {
        let k = self.probs.len();
        if z >= k {
            Err(Error::IndexOutOfRange { index: z, k })
        } else if self.probs[z] == 0.0 {
            Err(Error::InvalidParameter {
                name: "category",
                value: z as f64,
                rule: "a category with positive probability (not masked)",
            })
        } else {
            Ok(())
        }
    }

    /// `out += w (e_z - π)`.
    fn add_score(&self, z: usize, w: f64, out: &mut [f64]) {
        for (i, (o, &p)) in out.iter_mut().zip(&self.probs).enumerate() {
            let e = if i == z { 1.0 } else { 0.0 };
            *o += w * (e - p);
        }
    }
}

/// REINFORCE with no baseline or a constant baseline.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{Baseline, Objective, Reinforce};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let l = Logits::new(vec![0.0, 0.0])?;
/// let f = Objective::linear(vec![1.0, 3.0])?;
/// let r = Reinforce::new(l, f, Baseline::None)?;
/// // z = 1: f(e₁) = 3, e₁ - π = (-½, ½).
/// assert_eq!(r.row(1)?, vec![-1.5, 1.5]);
/// assert!(r.row(2).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Reinforce {
    score: Score,
    baseline: f64,
}

impl Reinforce {
    /// REINFORCE for `f` at logits `l` with baseline `b`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] when `f` and `l` have different `k`; [`Error::InvalidParameter`]
    /// for a baseline that is not finite.
    pub fn new(logits: Logits, objective: Objective, baseline: Baseline) -> Result<Self, Error> {
        Ok(Reinforce {
            baseline: baseline.value()?,
            score: Score::new(logits, objective)?,
        })
    }

    /// The baseline `b` (`0` for [`Baseline::None`]).
    pub fn baseline(&self) -> f64 {
        self.baseline
    }

    /// The objective `f`.
    pub fn objective(&self) -> &Objective {
        &self.score.objective
    }

    /// The logits `l`.
    pub fn logits(&self) -> &Logits {
        self.score.categorical.logits()
    }

    /// The row for a drawn category `z`: `(f(e_z) - b)(e_z - π)`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for `z ≥ k`; [`Error::InvalidParameter`] for a masked `z`.
    pub fn row(&self, category: usize) -> Result<Vec<f64>, Error> {
        self.score.check_category(category)?;
        Ok(self.row_unchecked(category))
    }

    fn row_unchecked(&self, z: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.score.probs.len()];
        self.score
            .add_score(z, self.score.vertex[z] - self.baseline, &mut out);
        out
    }

    /// Draws `z` by Gumbel-Max ([`Categorical::sample`]) and returns its row.
    pub fn sample_row_with<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        self.row_unchecked(self.score.categorical.sample(rng))
    }

    /// Exact mean (`∇L`) and covariance (closed form of
    /// [`Objective::reinforce_covariance`], a `k × k` matrix).
    ///
    /// # Errors
    /// None in practice: the lengths and the baseline were checked at construction; the
    /// `Result` carries [`Objective::reinforce_covariance`]'s signature.
    pub fn exact_moments(&self) -> Result<ExactMoments, Error> {
        let logits = self.logits();
        let objective = &self.score.objective;
        Ok(ExactMoments {
            mean: objective.exact_gradient(logits)?,
            covariance: objective.reinforce_covariance(logits, self.baseline)?,
        })
    }
}

impl GradientEstimator for Reinforce {
    fn name(&self) -> &'static str {
        "reinforce"
    }
    fn len(&self) -> usize {
        self.score.probs.len()
    }
    fn sample_row(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.sample_row_with(rng)
    }
}

/// Largest number of tuples [`LeaveOneOut::exact_moments`] enumerates.
pub const MAX_ENUMERATION: usize = 1_000_000;

/// REINFORCE with the leave-one-out baseline over a group of `m ≥ 2` samples: one row per group.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{LeaveOneOut, Objective};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let l = Logits::new(vec![0.0, 0.0])?;
/// let f = Objective::linear(vec![1.0, 3.0])?;
/// let loo = LeaveOneOut::new(l, f, 2)?;
/// // Both samples equal: each baseline equals f, so the row is 0.
/// assert_eq!(loo.row(&[1, 1])?, vec![0.0, 0.0]);
/// // x = (0, 1): ½ [(1 - 3)(½, -½) + (3 - 1)(-½, ½)] = (-1, 1).
/// assert_eq!(loo.row(&[0, 1])?, vec![-1.0, 1.0]);
/// let exact = loo.exact_moments()?;
/// assert!((exact.mean[1] - 0.5).abs() < 1e-15); // ∇L = π₁(f₁ - L) = ½ (3 - 2)
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LeaveOneOut {
    score: Score,
    m: usize,
}

impl LeaveOneOut {
    /// Leave-one-out REINFORCE for `f` at logits `l` with groups of `m` samples.
    ///
    /// # Errors
    /// [`Error::WrongLength`] when `f` and `l` have different `k`; [`Error::InvalidParameter`]
    /// for `m < 2` (a leave-one-out baseline needs another sample).
    pub fn new(
        logits: Logits,
        objective: Objective,
        samples_per_group: usize,
    ) -> Result<Self, Error> {
        if samples_per_group < 2 {
            return Err(Error::InvalidParameter {
                name: "samples per group m",
                value: samples_per_group as f64,
                rule: "at least 2",
            });
        }
        Ok(LeaveOneOut {
            score: Score::new(logits, objective)?,
            m: samples_per_group,
        })
    }

    /// Group size `m`.
    pub fn samples_per_group(&self) -> usize {
        self.m
    }

    /// The logits `l`.
    pub fn logits(&self) -> &Logits {
        self.score.categorical.logits()
    }

    /// The row for one group of drawn categories `x_1 … x_m`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `categories.len() == m`; [`Error::IndexOutOfRange`] or
    /// [`Error::InvalidParameter`] for a category out of range or masked.
    pub fn row(&self, categories: &[usize]) -> Result<Vec<f64>, Error> {
        if categories.len() != self.m {
            return Err(Error::WrongLength {
                expected: self.m,
                found: categories.len(),
            });
        }
        for &z in categories {
            self.score.check_category(z)?;
        }
        Ok(self.row_unchecked(categories))
    }

    fn row_unchecked(&self, xs: &[usize]) -> Vec<f64> {
        let m = xs.len() as f64;
        let total = sum(xs.iter().map(|&x| self.score.vertex[x]));
        let mut out = vec![0.0; self.score.probs.len()];
        for &x in xs {
            let fx = self.score.vertex[x];
            // f(x_i) - mean_{j≠i} f(x_j) = f(x_i) - (total - f(x_i))/(m - 1)
            //                           = (m f(x_i) - total)/(m - 1).
            let w = (m * fx - total) / (m - 1.0) / m;
            self.score.add_score(x, w, &mut out);
        }
        out
    }

    /// Draws `m` categories by Gumbel-Max and returns the group's row.
    pub fn sample_row_with<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let xs: Vec<usize> = (0..self.m)
            .map(|_| self.score.categorical.sample(rng))
            .collect();
        self.row_unchecked(&xs)
    }

    /// Exact mean and covariance of the group row, by enumerating all `k'^m` ordered tuples of
    /// unmasked categories with their probabilities `Π_i π_{x_i}`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `k'^m` exceeds [`MAX_ENUMERATION`].
    pub fn exact_moments(&self) -> Result<ExactMoments, Error> {
        let support: Vec<usize> = (0..self.score.probs.len())
            .filter(|&i| self.score.probs[i] > 0.0)
            .collect();
        let kk = support.len();
        let size = (kk as f64).powi(self.m as i32);
        if size > MAX_ENUMERATION as f64 {
            return Err(Error::InvalidParameter {
                name: "enumeration size k'^m",
                value: size,
                rule: "at most 1e6",
            });
        }
        let k = self.score.probs.len();
        let mut mean = vec![0.0; k];
        let mut second = DMatrix::<f64>::zeros(k, k);
        let mut digits = vec![0usize; self.m];
        let mut xs = vec![0usize; self.m];
        loop {
            let mut w = 1.0;
            for (x, &d) in xs.iter_mut().zip(&digits) {
                *x = support[d];
                w *= self.score.probs[*x];
            }
            let row = self.row_unchecked(&xs);
            for i in 0..k {
                mean[i] += w * row[i];
                for j in 0..k {
                    second[(i, j)] += w * row[i] * row[j];
                }
            }
            // Next tuple (odometer).
            let mut pos = 0;
            loop {
                if pos == self.m {
                    let covariance =
                        DMatrix::from_fn(k, k, |i, j| second[(i, j)] - mean[i] * mean[j]);
                    return Ok(ExactMoments { mean, covariance });
                }
                digits[pos] += 1;
                if digits[pos] < kk {
                    break;
                }
                digits[pos] = 0;
                pos += 1;
            }
        }
    }
}

impl GradientEstimator for LeaveOneOut {
    fn name(&self) -> &'static str {
        "reinforce_loo"
    }
    fn len(&self) -> usize {
        self.score.probs.len()
    }
    fn sample_row(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.sample_row_with(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits(v: &[f64]) -> Logits {
        Logits::from_slice(v).unwrap()
    }

    #[test]
    fn constructor_rules() {
        let f = Objective::linear(vec![1.0, 2.0]).unwrap();
        assert!(matches!(
            Reinforce::new(logits(&[0.0, 0.0, 0.0]), f.clone(), Baseline::None),
            Err(Error::WrongLength { .. })
        ));
        assert!(
            Reinforce::new(logits(&[0.0, 0.0]), f.clone(), Baseline::Constant(f64::NAN)).is_err()
        );
        assert!(LeaveOneOut::new(logits(&[0.0, 0.0]), f.clone(), 1).is_err());
        let r =
            Reinforce::new(logits(&[0.0, f64::NEG_INFINITY]), f.clone(), Baseline::None).unwrap();
        assert!(matches!(r.row(1), Err(Error::InvalidParameter { .. })));
        assert!(matches!(r.row(2), Err(Error::IndexOutOfRange { .. })));
        let loo = LeaveOneOut::new(logits(&[0.0, 0.0]), f, 3).unwrap();
        assert!(matches!(loo.row(&[0, 1]), Err(Error::WrongLength { .. })));
    }

    #[test]
    fn enumeration_limit() {
        let f = Objective::linear(vec![1.0; 10]).unwrap();
        let loo = LeaveOneOut::new(logits(&[0.0; 10]), f, 7).unwrap();
        assert!(loo.exact_moments().is_err());
    }

    #[test]
    fn seeded_rows_are_reproducible() {
        let f = Objective::quadratic(vec![0.2, 0.3, 0.5]).unwrap();
        let r = Reinforce::new(logits(&[0.1, -0.4, 1.0]), f, Baseline::Constant(0.7)).unwrap();
        assert_eq!(r.sample(5, 42), r.sample(5, 42));
    }
}
