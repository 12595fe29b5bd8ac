//! What an audit returns: the [`Verdict`] of each check, its [`CheckResult`], the whole
//! [`AuditReport`], and the [`Progress`] passed to the caller while it runs.

use serde_json::{Value, json};

use crate::audit::options::Level;
use crate::audit::partial::{Obj, f64_json};
use crate::audit::seed::SeedUse;
use crate::audit::target::{Dtype, Op};

/// The verdict of one check (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every criterion met.
    Pass,
    /// A distribution or value is wrong.
    Fail,
    /// A numerical limitation, not a wrong distribution.
    Warn,
    /// The op or estimator is not offered.
    Skipped,
    /// The adapter failed; the check could not be judged.
    Error,
}

impl Verdict {
    /// `"pass"`, `"fail"`, `"warn"`, `"skipped"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::Skipped => "skipped",
            Verdict::Error => "error",
        }
    }
}

/// Data for a report figure.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Figure {
    /// Quantile-quantile plot: `(expected quantile, observed quantile)` pairs.
    Qq {
        /// Title.
        title: String,
        /// The points.
        points: Vec<(f64, f64)>,
    },
    /// Observed against expected category frequencies.
    Frequencies {
        /// Title.
        title: String,
        /// Observed relative frequency per category.
        observed: Vec<f64>,
        /// Expected probability per category.
        expected: Vec<f64>,
    },
    /// Observed against expected counts of draws beyond each of a ladder of thresholds.
    Exceedances {
        /// Title.
        title: String,
        /// The thresholds, increasing.
        thresholds: Vec<f64>,
        /// Draws beyond each threshold.
        observed: Vec<u64>,
        /// Expected number beyond each threshold under the tested law.
        expected: Vec<f64>,
    },
}

impl Figure {
    /// The figure as JSON, for a shard's partial (`audit::partial`): `{ kind, title, ... }`,
    /// floats exactly.
    pub(crate) fn to_json(&self) -> Value {
        let floats = |xs: &[f64]| xs.iter().map(|&x| f64_json(x)).collect::<Vec<_>>();
        match self {
            Figure::Qq { title, points } => json!({
                "kind": "qq",
                "title": title,
                "x": floats(&points.iter().map(|p| p.0).collect::<Vec<_>>()),
                "y": floats(&points.iter().map(|p| p.1).collect::<Vec<_>>()),
            }),
            Figure::Frequencies {
                title,
                observed,
                expected,
            } => json!({
                "kind": "frequencies",
                "title": title,
                "observed": floats(observed),
                "expected": floats(expected),
            }),
            Figure::Exceedances {
                title,
                thresholds,
                observed,
                expected,
            } => json!({
                "kind": "exceedances",
                "title": title,
                "thresholds": floats(thresholds),
                "observed": observed,
                "expected": floats(expected),
            }),
        }
    }

    /// Reads what [`Figure::to_json`] wrote.
    ///
    /// # Errors
    /// A message naming the unknown kind or the missing or mistyped field.
    pub(crate) fn from_json(o: &Obj<'_>) -> Result<Self, String> {
        let title = o.str("title")?.to_string();
        Ok(match o.str("kind")? {
            "qq" => {
                let (x, y) = (o.f64s("x")?, o.f64s("y")?);
                if x.len() != y.len() {
                    return Err(format!(
                        "{}: {} x against {} y values",
                        o.path(),
                        x.len(),
                        y.len()
                    ));
                }
                Figure::Qq {
                    title,
                    points: x.into_iter().zip(y).collect(),
                }
            }
            "frequencies" => Figure::Frequencies {
                title,
                observed: o.f64s("observed")?,
                expected: o.f64s("expected")?,
            },
            "exceedances" => Figure::Exceedances {
                title,
                thresholds: o.f64s("thresholds")?,
                observed: o.u64s("observed")?,
                expected: o.f64s("expected")?,
            },
            other => {
                return Err(format!(
                    "{}.kind: '{other}' is not a figure of this battery",
                    o.path()
                ));
            }
        })
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CheckResult {
    /// Stable identifier (`"noise.cdf"`, ...).
    pub id: String,
    /// One line saying what is checked.
    pub title: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The check's p-value (Bonferroni over its parts), `None` for exact criteria.
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value across the battery; `fail` when below `fwer`.
    pub p_adjusted: Option<f64>,
    /// Samples, rows or points used.
    pub n: u64,
    /// What was seen: statistics, counts, tolerances, fault messages.
    pub detail: String,
    /// The criterion: the statistical test and its parts, or the exact rule.
    pub criterion: String,
    /// Nominal false-alarm rate of this check on a correct implementation: `α/m` for a
    /// statistical check (Holm's first-step level), 0 for an exact criterion.
    pub false_alarm: f64,
    /// The smallest discrepancy detected with probability 0.999 at `α_i`.
    pub detectable: String,
    /// Data for a plot, if the check has one.
    pub figure: Option<Figure>,
    /// Every seed the check sent to the target (or drew reference samples with), in order.
    pub seeds: Vec<SeedUse>,
}

/// The outcome of an audit.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuditReport {
    /// The implementation's name (hello).
    pub implementation: String,
    /// The implementation's dtype (hello).
    pub dtype: Dtype,
    /// Level run.
    pub level: Level,
    /// Master seed.
    pub seed: u64,
    /// Family-wise false-alarm rate.
    pub fwer: f64,
    /// Ops offered.
    pub ops: Vec<Op>,
    /// Op names the implementation declared that protocol v1 does not know (ignored).
    pub unknown_ops: Vec<String>,
    /// Estimators offered.
    pub estimators: Vec<String>,
    /// `Pass` unless a check failed or errored (then `Fail`), or nothing was tested (then
    /// `Error`, with [`AuditReport::problem`] saying why).
    pub verdict: Verdict,
    /// Why the audit as a whole could not be judged (nothing was tested), if so.
    pub problem: Option<String>,
    /// The checks, in battery order.
    pub checks: Vec<CheckResult>,
}

impl AuditReport {
    /// Number of checks with the given verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == verdict).count()
    }

    /// Process exit code: 2 if nothing was tested or any check met an adapter error, else 1
    /// if any check failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.problem.is_some() || self.count(Verdict::Error) > 0 {
            2
        } else if self.count(Verdict::Fail) > 0 {
            1
        } else {
            0
        }
    }

    /// The check with id `id`.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Progress of a run, passed to the callback before each check and once at the end
/// (`done == total`, `id` empty).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress<'a> {
    /// Checks finished.
    pub done: usize,
    /// Checks in the battery.
    pub total: usize,
    /// The check about to run.
    pub id: &'a str,
}
