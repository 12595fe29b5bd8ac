//! Validated parameters of a token sampler: temperature, top-k, top-p and min-p.
//!
//! # Notation
//! ```text
//! T        temperature, T > 0 finite          logits are divided by T before the softmax
//! K        top-k, K ≥ 1 or none               keep the K first tokens of the rank order
//! P        top-p, P in (0, 1] (1 = off)       keep the canonical nucleus of mass P
//! M        min-p, M in [0, 1] (0 = off)       keep tokens with p_i ≥ M · p_max
//! ```
//! The rank order, the nucleus and the compositions are defined in `tokens::law`;
//! docs/tokens.md has the conventions.

use crate::error::Error;

/// Sampling parameters, validated by [`TokenParams::new`].
///
/// # Example
/// ```
/// use gumbel_audit::tokens::TokenParams;
/// let p = TokenParams::new(0.7, Some(40), 0.9, 0.05).unwrap();
/// assert_eq!(p.top_k(), Some(40));
/// assert!(TokenParams::new(0.7, Some(0), 0.9, 0.0).is_err());
/// assert!(TokenParams::new(1.0, None, 0.0, 0.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenParams {
    temperature: f64,
    top_k: Option<usize>,
    top_p: f64,
    min_p: f64,
}

impl TokenParams {
    /// Parameters; `top_p = 1` and `min_p = 0` switch those truncations off.
    ///
    /// # Errors
    /// [`Error::TemperatureNotFinite`] / [`Error::TemperatureNotPositive`] for `T`;
    /// [`Error::CountZero`] for `top_k = Some(0)`; [`Error::InvalidParameter`] naming the rule
    /// for `top_p` outside `(0, 1]` or `min_p` outside `[0, 1]` (NaN included).
    pub fn new(
        temperature: f64,
        top_k: Option<usize>,
        top_p: f64,
        min_p: f64,
    ) -> Result<Self, Error> {
        if !temperature.is_finite() {
            return Err(Error::TemperatureNotFinite { value: temperature });
        }
        if temperature <= 0.0 {
            return Err(Error::TemperatureNotPositive { value: temperature });
        }
        if top_k == Some(0) {
            return Err(Error::CountZero { name: "top-k" });
        }
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "top-p",
                value: top_p,
                rule: "in (0, 1] (1 switches top-p off)",
            });
        }
        if !(0.0..=1.0).contains(&min_p) {
            return Err(Error::InvalidParameter {
                name: "min-p",
                value: min_p,
                rule: "in [0, 1] (0 switches min-p off)",
            });
        }
        Ok(TokenParams {
            temperature,
            top_k,
            top_p,
            min_p,
        })
    }

    /// Plain sampling at temperature 1 (no truncation).
    pub fn plain() -> Self {
        TokenParams {
            temperature: 1.0,
            top_k: None,
            top_p: 1.0,
            min_p: 0.0,
        }
    }

    /// `T`.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// `K`, `None` for no top-k.
    pub fn top_k(&self) -> Option<usize> {
        self.top_k
    }

    /// `P` (1 = off).
    pub fn top_p(&self) -> f64 {
        self.top_p
    }

    /// `M` (0 = off).
    pub fn min_p(&self) -> f64 {
        self.min_p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_named() {
        let msg = |r: Result<TokenParams, Error>| r.unwrap_err().to_string();
        assert!(msg(TokenParams::new(0.0, None, 1.0, 0.0)).contains("positive"));
        assert!(msg(TokenParams::new(f64::INFINITY, None, 1.0, 0.0)).contains("finite"));
        assert!(msg(TokenParams::new(1.0, Some(0), 1.0, 0.0)).contains("top-k"));
        assert!(msg(TokenParams::new(1.0, None, 1.5, 0.0)).contains("(0, 1]"));
        assert!(msg(TokenParams::new(1.0, None, f64::NAN, 0.0)).contains("top-p"));
        assert!(msg(TokenParams::new(1.0, None, 1.0, -0.1)).contains("[0, 1]"));
        assert!(msg(TokenParams::new(1.0, None, 1.0, f64::NAN)).contains("min-p"));
        let p = TokenParams::new(0.5, Some(1), 1.0, 1.0).unwrap();
        assert_eq!((p.temperature(), p.top_p(), p.min_p()), (0.5, 1.0, 1.0));
        assert_eq!(TokenParams::plain().top_k(), None);
    }
}
