//! The row a token sampler is given: logits (the usual form) or probabilities, validated.
//!
//! # Rules
//! - Logits: `k ≥ 1`, each finite or `-inf` (a masked token), at least one finite
//!   (the rules of [`crate::distributions::Logits`]).
//! - Probabilities: `k ≥ 1`, each finite and in `[0, 1]` (0 is a masked token), at least one
//!   positive. They need not sum to 1: the law is normalised by their exact sum.

use crate::distributions::Logits;
use crate::error::Error;

/// A validated row of logits or probabilities.
///
/// # Example
/// ```
/// use gumbel_audit::tokens::TokenInput;
/// assert!(TokenInput::logits(vec![0.0, f64::NEG_INFINITY]).is_ok());
/// assert!(TokenInput::logits(vec![f64::NEG_INFINITY]).is_err());
/// assert!(TokenInput::probs(vec![0.5, 0.25, 0.25]).is_ok());
/// assert!(TokenInput::probs(vec![0.5, -0.1]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInput {
    values: Vec<f64>,
    is_probs: bool,
}

impl TokenInput {
    /// A row of logits.
    ///
    /// # Errors
    /// [`Error::NoCategories`], [`Error::LogitNotFinite`], [`Error::AllCategoriesMasked`].
    pub fn logits(values: Vec<f64>) -> Result<Self, Error> {
        Logits::from_slice(&values)?;
        Ok(TokenInput {
            values,
            is_probs: false,
        })
    }

    /// A row of probabilities.
    ///
    /// # Errors
    /// [`Error::NoCategories`]; [`Error::InvalidParameter`] for a value that is not finite or
    /// not in `[0, 1]`, or a row with no positive value.
    pub fn probs(values: Vec<f64>) -> Result<Self, Error> {
        if values.is_empty() {
            return Err(Error::NoCategories);
        }
        if let Some(&v) = values.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(Error::InvalidParameter {
                name: "probability",
                value: v,
                rule: "finite and in [0, 1] (0 masks a token)",
            });
        }
        if values.iter().all(|&v| v == 0.0) {
            return Err(Error::InvalidParameter {
                name: "largest probability",
                value: 0.0,
                rule: "positive: at least one token must have positive probability",
            });
        }
        Ok(TokenInput {
            values,
            is_probs: true,
        })
    }

    /// The values as given.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Whether the values are probabilities (else logits).
    pub fn is_probs(&self) -> bool {
        self.is_probs
    }

    /// Number of tokens `k`, masked ones included.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: validation guarantees `k ≥ 1`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_named() {
        assert_eq!(TokenInput::logits(vec![]), Err(Error::NoCategories));
        let e = TokenInput::logits(vec![0.0, f64::NAN]).unwrap_err();
        assert!(e.to_string().contains("finite or -inf"));
        let e = TokenInput::probs(vec![0.5, 1.5]).unwrap_err();
        assert!(e.to_string().contains("[0, 1]"), "{e}");
        let e = TokenInput::probs(vec![0.0, 0.0]).unwrap_err();
        assert!(e.to_string().contains("positive"), "{e}");
        let p = TokenInput::probs(vec![0.0, 1.0]).unwrap();
        assert!(p.is_probs() && p.len() == 2 && !p.is_empty());
    }
}
