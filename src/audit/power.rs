//! How a statistical check states its power: the smallest discrepancy it detects with
//! probability [`POWER`] at the per-check level `α_i` (known only once every check has run,
//! since `α_i = α/m`).

use serde_json::{Value, json};

use crate::audit::partial::{Obj, f64_json};
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

impl Power {
    /// The power statement as JSON, for a shard's partial (`audit::partial`): `{ kind, ... }`.
    pub(crate) fn to_json(&self) -> Value {
        match *self {
            Power::Dkwm { n, parts } => json!({"kind": "dkwm", "n": n, "parts": parts}),
            Power::Dkwm2 { n, parts } => json!({"kind": "dkwm2", "n": n, "parts": parts}),
            Power::Chi2 { df, n, parts } => {
                json!({"kind": "chi2", "df": df, "n": n, "parts": parts})
            }
            Power::Mean { p, n, parts } => {
                json!({"kind": "mean", "p": p, "n": n, "parts": parts})
            }
            Power::Tail { n, q } => json!({"kind": "tail", "n": n, "q": f64_json(q)}),
            Power::Rare { n, q, parts } => {
                json!({"kind": "rare", "n": n, "q": f64_json(q), "parts": parts})
            }
            Power::Variance { rel_se, parts } => {
                json!({"kind": "variance", "rel_se": f64_json(rel_se), "parts": parts})
            }
        }
    }

    /// Reads what [`Power::to_json`] wrote.
    ///
    /// # Errors
    /// A message naming the unknown kind or the missing or mistyped field.
    pub(crate) fn from_json(o: &Obj<'_>) -> Result<Self, String> {
        Ok(match o.str("kind")? {
            "dkwm" => Power::Dkwm {
                n: o.u64("n")?,
                parts: o.usize("parts")?,
            },
            "dkwm2" => Power::Dkwm2 {
                n: o.u64("n")?,
                parts: o.usize("parts")?,
            },
            "chi2" => Power::Chi2 {
                df: o.usize("df")?,
                n: o.u64("n")?,
                parts: o.usize("parts")?,
            },
            "mean" => Power::Mean {
                p: o.usize("p")?,
                n: o.u64("n")?,
                parts: o.usize("parts")?,
            },
            "tail" => Power::Tail {
                n: o.u64("n")?,
                q: o.f64("q")?,
            },
            "rare" => Power::Rare {
                n: o.u64("n")?,
                q: o.f64("q")?,
                parts: o.usize("parts")?,
            },
            "variance" => Power::Variance {
                rel_se: o.f64("rel_se")?,
                parts: o.usize("parts")?,
            },
            other => {
                return Err(format!(
                    "{}.kind: '{other}' is not a power statement of this battery",
                    o.path()
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_power_statement_round_trips_through_json() {
        let all = [
            Power::Rare {
                n: 9,
                q: 1e-7,
                parts: 4,
            },
            Power::Dkwm { n: 10, parts: 2 },
            Power::Dkwm2 { n: 11, parts: 3 },
            Power::Chi2 {
                df: 4,
                n: 12,
                parts: 1,
            },
            Power::Mean {
                p: 3,
                n: 13,
                parts: 2,
            },
            Power::Tail { n: 14, q: 1e-6 },
            Power::Variance {
                rel_se: 0.1,
                parts: 5,
            },
        ];
        for p in all {
            let v: Value = serde_json::from_str(&p.to_json().to_string()).unwrap();
            assert_eq!(Power::from_json(&Obj::new(&v, "p").unwrap()).unwrap(), p);
        }
        let v = json!({"kind": "magic"});
        assert!(Power::from_json(&Obj::new(&v, "p").unwrap()).is_err());
    }
}
