//! Temperature annealing schedules.
//!
//! # Formula
//! ```text
//! τ(t) = max(τ_min, τ₀ · exp(-r · N⌊t/N⌋))
//! ```
//! the schedule of Jang, Gu & Poole (2017, §4.1 and Appendix): `τ₀ = 1`, `τ_min = 0.5`,
//! `r ∈ {1e-5, 1e-4}`, the temperature updated every `N` steps (`t` counts steps from 0), so it
//! is constant on each block of `N` steps.
//!
//! # References
//! - E. Jang, S. Gu, B. Poole, *Categorical Reparameterization with Gumbel-Softmax*, ICLR 2017,
//!   <https://arxiv.org/abs/1611.01144>.

use crate::error::{Error, check_temperature};

/// An exponentially decaying temperature with a floor, updated every `N` steps.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::TemperatureSchedule;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let s = TemperatureSchedule::new(0.5, 1e-4, 1000)?;
/// assert_eq!(s.temperature(0), 1.0);
/// assert_eq!(s.temperature(999), 1.0);
/// assert!((s.temperature(1000) - (-0.1f64).exp()).abs() < 1e-15);
/// assert_eq!(s.temperature(1_000_000), 0.5);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemperatureSchedule {
    initial: f64,
    minimum: f64,
    rate: f64,
    update_every: u64,
}

impl TemperatureSchedule {
    /// `τ(t) = max(τ_min, exp(-r·N⌊t/N⌋))`, starting from `τ₀ = 1`.
    ///
    /// # Errors
    /// The temperature rules for `τ_min`; [`Error::InvalidParameter`] unless `r` is finite and
    /// `≥ 0`; [`Error::CountZero`] for `N = 0`.
    pub fn new(minimum: f64, rate: f64, update_every: u64) -> Result<Self, Error> {
        Self::with_initial(1.0, minimum, rate, update_every)
    }

    /// As [`TemperatureSchedule::new`] with a starting temperature `τ₀`.
    ///
    /// # Errors
    /// As [`TemperatureSchedule::new`], and the temperature rules for `τ₀`.
    pub fn with_initial(
        initial: f64,
        minimum: f64,
        rate: f64,
        update_every: u64,
    ) -> Result<Self, Error> {
        let initial = check_temperature(initial)?;
        let minimum = check_temperature(minimum)?;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "rate",
                value: rate,
                rule: "finite and non-negative",
            });
        }
        if update_every == 0 {
            return Err(Error::CountZero {
                name: "update interval",
            });
        }
        Ok(TemperatureSchedule {
            initial,
            minimum,
            rate,
            update_every,
        })
    }

    /// The temperature in force at step `t`.
    pub fn temperature(&self, step: u64) -> f64 {
        let last_update = (step / self.update_every) * self.update_every;
        (self.initial * (-self.rate * last_update as f64).exp()).max(self.minimum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(TemperatureSchedule::new(0.0, 1e-4, 1).is_err());
        assert!(TemperatureSchedule::new(0.5, -1.0, 1).is_err());
        assert!(TemperatureSchedule::new(0.5, f64::NAN, 1).is_err());
        assert!(TemperatureSchedule::new(0.5, 1e-4, 0).is_err());
    }

    #[test]
    fn non_increasing_and_floored() {
        let s = TemperatureSchedule::with_initial(2.0, 0.1, 1e-3, 7).unwrap();
        let mut prev = f64::INFINITY;
        for t in 0..20_000 {
            let tau = s.temperature(t);
            assert!(tau <= prev && tau >= 0.1);
            prev = tau;
        }
        assert_eq!(s.temperature(19_999), 0.1);
    }
}
