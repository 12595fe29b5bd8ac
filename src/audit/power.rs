//! How a statistical check states its power: the smallest discrepancy it detects with
//! probability [`POWER`] at the per-check level `α_i` (known only once every check has run,
//! since `α_i = α/m`).

use crate::stats::{
    Alternative, binomial_test, chi2_detectable_w, chi2_isf, dkwm_detectable_discrepancy,
};

/// Power at which detectable discrepancies are stated.
pub const POWER: f64 = 0.999;

/// How a statistical check's power is stated (computed once `α_i` is known).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Power {
    /// One-sample KS: CDF discrepancy (DKWM).
    Dkwm { n: u64, parts: usize },
    /// Two-sample KS with `n` per side: CDF difference.
    Dkwm2 { n: u64, parts: usize },
    /// Chi-squared: Cohen's w.
    Chi2 { df: usize, n: u64, parts: usize },
    /// Mean vector (one sample): Mahalanobis length of the shift (large-n).
    Mean { p: usize, n: u64, parts: usize },
    /// Tail count: expected count `e` out of `n`.
    Tail { n: u64, q: f64 },
    /// Counts of rare events, two-sided exact binomial per part (Bonferroni over `parts`),
    /// stated for one part of probability `q` (`n` draws; the check says which).
    Rare { n: u64, q: f64, parts: usize },
    /// Variance: relative standard error of the sample variance.
    Variance { rel_se: f64, parts: usize },
}

/// The expected count `e = n q` and the smallest multiple of it that a two-sided exact binomial
/// test at `alpha` detects with probability [`POWER`]: the smallest count rejected above the
/// expectation, then the mean whose count exceeds it with probability `POWER` (normal
/// approximation).
fn count_power(n: u64, q: f64, alpha: f64, z_power: f64) -> (f64, f64) {
    let e = n as f64 * q;
    let mut c = e.ceil() as u64;
    while c < n
        && binomial_test(c, n, q, Alternative::TwoSided)
            .map(|r| r.p_value >= alpha)
            .unwrap_or(false)
    {
        c += 1;
    }
    let s = (z_power + (z_power * z_power + 4.0 * c as f64).sqrt()) / 2.0;
    (e, s * s / e)
}

impl Power {
    pub(crate) fn describe(&self, alpha: f64) -> String {
        let z = |a: f64| chi2_isf(a, 1.0).map(f64::sqrt).unwrap_or(f64::NAN);
        let z_power = z(2.0 * (1.0 - POWER));
        match *self {
            Power::Dkwm { n, parts } => {
                let d = dkwm_detectable_discrepancy(alpha / parts as f64, POWER, n.max(1));
                format!("CDF discrepancy ≥ {:.4} (DKWM)", d.unwrap_or(f64::NAN))
            }
            Power::Dkwm2 { n, parts } => {
                let d = dkwm_detectable_discrepancy(
                    alpha / (2 * parts) as f64,
                    1.0 - (1.0 - POWER) / 2.0,
                    n.max(1),
                );
                format!(
                    "CDF difference ≥ {:.4} between target and reference (2 × DKWM)",
                    2.0 * d.unwrap_or(f64::NAN)
                )
            }
            Power::Chi2 { df, n, parts } => {
                let w = chi2_detectable_w(alpha / parts as f64, POWER, df.max(1) as f64, n as f64);
                format!("Cohen's w ≥ {:.4}", w.unwrap_or(f64::NAN))
            }
            Power::Mean { p, n, parts } => {
                let w = chi2_detectable_w(alpha / parts as f64, POWER, p.max(1) as f64, n as f64);
                format!(
                    "mean shift ≥ {:.4} standard deviations (Mahalanobis)",
                    w.unwrap_or(f64::NAN)
                )
            }
            Power::Tail { n, q } => {
                let (e, ratio) = count_power(n, q, alpha, z_power);
                format!("a tail with no mass (P = e^-{e:.0}) or ≥ {ratio:.1}× the Gumbel's")
            }
            Power::Rare { n, q, parts } => {
                let (e, ratio) = count_power(n, q, alpha / parts.max(1) as f64, z_power);
                format!(
                    "at the part with q = {q:.2e}: a count of 0 (P = e^-{e:.1}) or ≥ {ratio:.1}× expected"
                )
            }
            Power::Variance { rel_se, parts } => {
                let d = (z(alpha / parts as f64) + z_power) * rel_se;
                format!("relative variance error ≥ {:.3}", d)
            }
        }
    }
}
