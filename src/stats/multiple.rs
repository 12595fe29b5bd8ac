//! Holm's step-down procedure: family-wise error control over a family of p-values.
//!
//! # Formulas
//! ```text
//! p-values p_1 … p_m, sorted p_(1) ≤ … ≤ p_(m)
//! adjusted p̃_(i) = max_{j ≤ i} min(1, (m - j + 1) · p_(j))
//! reject H_(i)  ⇔  p̃_(i) ≤ α
//! ```
//! Equivalently: reject `H_(1) … H_(r-1)` where `r` is the first index with
//! `p_(r) > α / (m - r + 1)`. The family-wise error rate (probability of rejecting at least one
//! true null) is at most `α` under **any** dependence between the p-values, provided each true
//! null's p-value is valid (`P(p ≤ a) ≤ a`). Ties are ordered by index (the adjusted values do
//! not depend on it).
//!
//! # References
//! - S. Holm, *A simple sequentially rejective multiple test procedure*, Scand. J. Statist. 6
//!   (1979), <https://www.jstor.org/stable/4615733>.

use crate::error::Error;
use crate::stats::power::check_rate;

/// The outcome of Holm's procedure, in the order the p-values were given.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HolmResult {
    /// Holm-adjusted p-values `p̃_i`.
    pub adjusted: Vec<f64>,
    /// `p̃_i ≤ α`.
    pub reject: Vec<bool>,
    /// Number of rejections.
    pub rejections: usize,
    /// The family-wise error rate `α`.
    pub alpha: f64,
}

/// Holm's step-down procedure over `p_values` at family-wise error rate `α`.
///
/// False-alarm rate: FWER ≤ `α` under any dependence (checked by simulation in
/// tests/stats/calibration_counts_multivariate.rs). Power: a false null with p-value `p` is rejected at least
/// whenever `m · p ≤ α` (Bonferroni), and often earlier.
///
/// # Errors
/// [`Error::TooFewSamples`] for an empty family; [`Error::ProbabilityOutOfRange`] for a
/// p-value outside `[0, 1]` (NaN included); [`Error::InvalidParameter`] for `α` outside
/// `(0, 1)`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::holm;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // m = 3: thresholds α/3, α/2, α. 0.01 ≤ 0.05/3 and 0.02 ≤ 0.05/2 are rejected,
/// // 0.3 is not.
/// let r = holm(&[0.3, 0.01, 0.02], 0.05)?;
/// assert_eq!(r.reject, vec![false, true, true]);
/// assert!((r.adjusted[1] - 0.03).abs() < 1e-15 && (r.adjusted[2] - 0.04).abs() < 1e-15);
/// # Ok(()) }
/// ```
pub fn holm(p_values: &[f64], alpha: f64) -> Result<HolmResult, Error> {
    let alpha = check_rate("alpha", alpha)?;
    if p_values.is_empty() {
        return Err(Error::TooFewSamples {
            needed: 1,
            found: 0,
        });
    }
    if let Some(&value) = p_values.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(Error::ProbabilityOutOfRange { value });
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        let scaled = ((m - rank) as f64 * p_values[i]).min(1.0);
        running = running.max(scaled);
        adjusted[i] = running;
    }
    let reject: Vec<bool> = adjusted.iter().map(|&p| p <= alpha).collect();
    let rejections = reject.iter().filter(|&&r| r).count();
    Ok(HolmResult {
        adjusted,
        reject,
        rejections,
        alpha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(matches!(holm(&[], 0.05), Err(Error::TooFewSamples { .. })));
        assert!(matches!(
            holm(&[0.5, f64::NAN], 0.05),
            Err(Error::ProbabilityOutOfRange { .. })
        ));
        assert!(matches!(
            holm(&[0.5, 1.5], 0.05),
            Err(Error::ProbabilityOutOfRange { .. })
        ));
        assert!(holm(&[0.5], 0.0).is_err());
    }

    #[test]
    fn step_down_stops_at_first_acceptance() {
        // m = 4, α = 0.05: thresholds 0.0125, 0.0167, 0.025, 0.05.
        // 0.001 ✓, 0.02 > 0.0167 ✗ → stop: 0.03 and 0.04 are not rejected even though
        // 0.04 ≤ 0.05.
        let r = holm(&[0.04, 0.001, 0.03, 0.02], 0.05).unwrap();
        assert_eq!(r.reject, vec![false, true, false, false]);
        assert_eq!(r.rejections, 1);
        // Adjusted: 4·0.001, max(., 3·0.02 = 0.06), max(., 2·0.03), max(., 0.04) = 0.06.
        let expected = [0.06, 0.004, 0.06, 0.06];
        for (a, e) in r.adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-15, "{a} vs {e}");
        }
    }

    #[test]
    fn single_p_value_and_caps() {
        let r = holm(&[0.05], 0.05).unwrap();
        assert_eq!(
            (r.adjusted.clone(), r.reject.clone()),
            (vec![0.05], vec![true])
        );
        let r = holm(&[0.9, 0.8], 0.05).unwrap();
        assert_eq!(r.adjusted, vec![1.0, 1.0]);
        // Ties: both get the same adjusted value.
        let r = holm(&[0.01, 0.01], 0.05).unwrap();
        assert_eq!(r.adjusted, vec![0.02, 0.02]);
    }
}
