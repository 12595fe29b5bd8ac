//! Validated logits: the parameter of every categorical-type distribution in the crate.
//!
//! # Notation
//! Logits `l = (l_1, …, l_k)`, probabilities `π = softmax(l)`, `ln π_i = l_i - logsumexp(l)`.
//!
//! # Rules
//! - `k ≥ 1` ([`Error::NoCategories`]).
//! - Each logit is finite or `-inf`. A `-inf` logit is a **masked** category: probability
//!   exactly 0, never drawn, exactly 0 in every relaxed sample. NaN and `+inf` are rejected
//!   ([`Error::LogitNotFinite`]).
//! - At least one logit is finite ([`Error::AllCategoriesMasked`]).
//!
//! # Numerical notes
//! The maximum finite logit `m` is subtracted once at construction: `centered_i = l_i - m` lies
//! in `[-2·10⁴, 0]` over the documented range `|l| ≤ 10⁴`, and everything downstream works with
//! it. That makes every result invariant under `l → l + c` up to the rounding of `l_i + c`
//! itself. `log_softmax` is `centered_i - ln_1p(Σ_{j≠argmax} e^(centered_j))`, accurate even
//! when one category dominates.

use crate::error::Error;
use crate::numeric::{argmax, log_sum_exp};

/// Validated logits with their log-softmax precomputed.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let l = Logits::new(vec![0.0, (3.0f64).ln(), f64::NEG_INFINITY])?;
/// assert!((l.probs()[1] - 0.75).abs() < 1e-15);
/// assert_eq!(l.probs()[2], 0.0);
/// assert!(Logits::new(vec![f64::NAN]).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    values: Vec<f64>,
    centered: Vec<f64>,
    log_probs: Vec<f64>,
    unmasked: usize,
}

impl Logits {
    /// Validates `values` (rules in the module doc) and precomputes `ln π`.
    ///
    /// # Errors
    /// [`Error::NoCategories`], [`Error::LogitNotFinite`], [`Error::AllCategoriesMasked`].
    pub fn new(values: Vec<f64>) -> Result<Self, Error> {
        if values.is_empty() {
            return Err(Error::NoCategories);
        }
        if let Some((index, &value)) = values
            .iter()
            .enumerate()
            .find(|(_, v)| v.is_nan() || **v == f64::INFINITY)
        {
            return Err(Error::LogitNotFinite { index, value });
        }
        let top = argmax(&values).ok_or(Error::AllCategoriesMasked)?;
        let m = values[top];
        let centered: Vec<f64> = values.iter().map(|&v| v - m).collect();
        let lse = log_sum_exp(&centered);
        let log_probs = centered.iter().map(|&c| c - lse).collect();
        let unmasked = values.iter().filter(|v| v.is_finite()).count();
        Ok(Logits {
            values,
            centered,
            log_probs,
            unmasked,
        })
    }

    /// Validates a slice (copies it).
    ///
    /// # Errors
    /// As [`Logits::new`].
    pub fn from_slice(values: &[f64]) -> Result<Self, Error> {
        Self::new(values.to_vec())
    }

    /// Number of categories `k`, masked ones included.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: validation guarantees `k ≥ 1`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Number of unmasked categories (finite logits).
    pub fn unmasked(&self) -> usize {
        self.unmasked
    }

    /// Whether category `i` is masked (`l_i = -inf`). Out-of-range indices count as masked.
    pub fn is_masked(&self, i: usize) -> bool {
        self.values.get(i).is_none_or(|v| *v == f64::NEG_INFINITY)
    }

    /// The logits as given.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// `l_i - max_j l_j`: the shift-invariant form every computation uses (`-inf` stays `-inf`).
    pub fn centered(&self) -> &[f64] {
        &self.centered
    }

    /// `ln π = log_softmax(l)`.
    pub fn log_probs(&self) -> &[f64] {
        &self.log_probs
    }

    /// `π = softmax(l)`.
    pub fn probs(&self) -> Vec<f64> {
        self.log_probs.iter().map(|lp| lp.exp()).collect()
    }

    /// `logsumexp(l)`, the log normaliser of the logits as given.
    pub fn log_normalizer(&self) -> f64 {
        let m = self
            .values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        m + log_sum_exp(&self.centered)
    }
}

/// `log_softmax(x)` of any vector, computed as [`Logits`] does, without validation: NaN in,
/// NaN out. Returns an empty vector for an empty slice.
pub fn log_softmax(x: &[f64]) -> Vec<f64> {
    let lse = log_sum_exp(x);
    x.iter().map(|&v| v - lse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn rules() {
        assert_eq!(Logits::new(vec![]), Err(Error::NoCategories));
        assert!(matches!(
            Logits::new(vec![0.0, f64::NAN]),
            Err(Error::LogitNotFinite { index: 1, .. })
        ));
        assert!(matches!(
            Logits::new(vec![f64::INFINITY, 0.0]),
            Err(Error::LogitNotFinite { index: 0, .. })
        ));
        assert_eq!(
            Logits::new(vec![f64::NEG_INFINITY; 2]),
            Err(Error::AllCategoriesMasked)
        );
    }

    #[test]
    fn extreme_logits() {
        let l = Logits::new(vec![1e4, -1e4, 0.0, f64::NEG_INFINITY]).unwrap();
        assert_eq!(l.log_probs()[0], 0.0);
        assert_relative_eq!(l.log_probs()[1], -2e4, max_relative = 1e-15);
        assert_eq!(l.log_probs()[3], f64::NEG_INFINITY);
        assert_eq!(l.unmasked(), 3);
        assert_eq!(l.log_normalizer(), 1e4);
        let p = l.probs();
        assert!(p.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn single_category() {
        let l = Logits::new(vec![-3.0]).unwrap();
        assert_eq!(l.log_probs(), &[0.0]);
        assert_eq!(l.probs(), vec![1.0]);
    }

    #[test]
    fn dominant_category_keeps_small_mass() {
        // π_1 = e^-50 / (1 + e^-50): the log-probability of the dominant one is -e^-50, not 0.
        let l = Logits::new(vec![0.0, -50.0]).unwrap();
        assert_relative_eq!(l.log_probs()[0], -(-50f64).exp(), max_relative = 1e-14);
    }
}
