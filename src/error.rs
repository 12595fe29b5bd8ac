//! The crate's error type: every variant names the rule that the input broke.
//!
//! One enum serves the whole reference implementation because the rules are shared: logits,
//! temperatures, uniforms and simplex points are validated the same way by every distribution.
//! `Display` is lower case and says the rule, so the CLI can print it as is; every float in a
//! message is in the short round-trip form of [`crate::study::report::fmt_f64`] (`5e-324`, not
//! 330 digits).

use std::fmt;

use crate::study::report::fmt_f64;

/// An input that breaks a documented rule. Returned, never panicked on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A distribution over categories needs at least one category (`k ≥ 1`).
    NoCategories,
    /// A logit is NaN or `+inf`; logits must be finite or `-inf` (a masked category).
    LogitNotFinite {
        /// Position of the offending logit.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Every logit is `-inf`: no category has positive probability.
    AllCategoriesMasked,
    /// The temperature `τ` is zero or negative.
    TemperatureNotPositive {
        /// The offending value.
        value: f64,
    },
    /// The temperature `τ` is NaN or infinite.
    TemperatureNotFinite {
        /// The offending value.
        value: f64,
    },
    /// A scalar parameter (location, scale, rate, logit, ...) breaks its rule.
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// The rule it must satisfy, in words.
        rule: &'static str,
    },
    /// A uniform variate must lie in the open interval `(0, 1)`.
    UniformOutOfRange {
        /// The offending value.
        value: f64,
    },
    /// A probability passed to a quantile function must lie in `[0, 1]`.
    ProbabilityOutOfRange {
        /// The offending value.
        value: f64,
    },
    /// A vector has the wrong number of entries.
    WrongLength {
        /// What the rule asks for.
        expected: usize,
        /// What was given.
        found: usize,
    },
    /// A noise value is NaN or infinite; Gumbel noise is a finite real number.
    NoiseNotFinite {
        /// Position of the offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A point given to a density is not in the open simplex of the unmasked categories.
    NotOnSimplex {
        /// Which part of the rule is broken, in words.
        reason: String,
    },
    /// A point given to a binary density or CDF is not in its domain.
    NotInUnitInterval {
        /// The offending value.
        value: f64,
    },
    /// A covariance matrix is singular (or numerically so), so a test that inverts it has no
    /// answer: some direction of the data has no spread.
    SingularCovariance {
        /// Ratio of the smallest to the largest eigenvalue of the covariance.
        condition: f64,
    },
    /// Too few observations for a statistic to be defined.
    TooFewSamples {
        /// The least number of observations the statistic needs.
        needed: usize,
        /// The number given.
        found: usize,
    },
    /// More draws without replacement than there are categories with positive probability.
    TooManyDraws {
        /// Draws asked for.
        requested: usize,
        /// Categories with positive probability.
        available: usize,
    },
    /// A count that must be at least one is zero.
    CountZero {
        /// The count's name.
        name: &'static str,
    },
    /// A category index is out of range.
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// The number of categories.
        k: usize,
    },
    /// The same category appears twice in a draw without replacement.
    RepeatedIndex {
        /// The repeated index.
        index: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoCategories => write!(f, "no categories: k must be at least 1"),
            Error::LogitNotFinite { index, value } => write!(
                f,
                "logit {index} is {}: logits must be finite or -inf (a masked category)",
                fmt_f64(*value)
            ),
            Error::AllCategoriesMasked => write!(
                f,
                "all logits are -inf: at least one category must have positive probability"
            ),
            Error::TemperatureNotPositive { value } => {
                write!(f, "temperature is {}: it must be positive", fmt_f64(*value))
            }
            Error::TemperatureNotFinite { value } => {
                write!(f, "temperature is {}: it must be finite", fmt_f64(*value))
            }
            Error::InvalidParameter { name, value, rule } => {
                write!(f, "{name} is {}: it must be {rule}", fmt_f64(*value))
            }
            Error::UniformOutOfRange { value } => write!(
                f,
                "uniform variate is {}: it must lie in the open interval (0, 1)",
                fmt_f64(*value)
            ),
            Error::ProbabilityOutOfRange { value } => {
                write!(
                    f,
                    "probability is {}: it must lie in [0, 1]",
                    fmt_f64(*value)
                )
            }
            Error::WrongLength { expected, found } => {
                write!(
                    f,
                    "wrong length: expected {expected} entries, found {found}"
                )
            }
            Error::NoiseNotFinite { index, value } => {
                write!(
                    f,
                    "noise value {index} is {}: Gumbel noise must be finite",
                    fmt_f64(*value)
                )
            }
            Error::NotOnSimplex { reason } => {
                write!(f, "point is not in the open simplex: {reason}")
            }
            Error::NotInUnitInterval { value } => {
                write!(
                    f,
                    "value is {}: it must lie in the open interval (0, 1)",
                    fmt_f64(*value)
                )
            }
            Error::SingularCovariance { condition } => write!(
                f,
                "covariance is singular (smallest/largest eigenvalue {condition:e}): the data has no spread in some direction"
            ),
            Error::TooFewSamples { needed, found } => write!(
                f,
                "{found} observations given: the statistic needs at least {needed}"
            ),
            Error::TooManyDraws {
                requested,
                available,
            } => write!(
                f,
                "{requested} draws without replacement asked for, but only {available} categories have positive probability"
            ),
            Error::CountZero { name } => write!(f, "{name} is 0: it must be at least 1"),
            Error::IndexOutOfRange { index, k } => {
                write!(f, "category index {index} is out of range for k = {k}")
            }
            Error::RepeatedIndex { index } => write!(
                f,
                "category {index} appears twice in a draw without replacement"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Checks the temperature rule shared by every relaxed distribution: finite and positive.
///
/// # Errors
/// [`Error::TemperatureNotFinite`] for NaN or `±inf`, [`Error::TemperatureNotPositive`] for
/// `τ ≤ 0`.
pub fn check_temperature(value: f64) -> Result<f64, Error> {
    if !value.is_finite() {
        Err(Error::TemperatureNotFinite { value })
    } else if value <= 0.0 {
        Err(Error::TemperatureNotPositive { value })
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_rules() {
        assert_eq!(check_temperature(0.5), Ok(0.5));
        assert_eq!(
            check_temperature(0.0),
            Err(Error::TemperatureNotPositive { value: 0.0 })
        );
        assert_eq!(
            check_temperature(-1.0),
            Err(Error::TemperatureNotPositive { value: -1.0 })
        );
        assert!(matches!(
            check_temperature(f64::NAN),
            Err(Error::TemperatureNotFinite { .. })
        ));
        assert!(matches!(
            check_temperature(f64::INFINITY),
            Err(Error::TemperatureNotFinite { .. })
        ));
    }

    /// Seen to fail with `{value}` in `Display` (a 330-character decimal for `5e-324`).
    #[test]
    fn floats_in_messages_are_short() {
        let msg = Error::InvalidParameter {
            name: "temperature",
            value: 5e-324,
            rule: "large",
        }
        .to_string();
        assert_eq!(msg, "temperature is 5e-324: it must be large");
        let msg = Error::TemperatureNotPositive { value: -1e-310 }.to_string();
        assert!(msg.contains("-1e-310") && msg.len() < 60, "{msg}");
    }

    #[test]
    fn messages_name_the_rule() {
        let msg = Error::LogitNotFinite {
            index: 2,
            value: f64::NAN,
        }
        .to_string();
        assert!(
            msg.contains("logit 2") && msg.contains("finite or -inf"),
            "{msg}"
        );
        assert!(
            Error::AllCategoriesMasked
                .to_string()
                .contains("all logits are -inf")
        );
    }
}
