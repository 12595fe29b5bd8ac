//! The audit battery: every check of issue 6, run through the [`Target`] trait, with a stated
//! family-wise false-alarm rate.
//!
//! # Notation
//! ```text
//! α          family-wise false-alarm rate of the battery (`fwer`, default 1e-3)
//! m          number of checks that produced a p-value
//! α_i        α/m: the level of Holm's first step, used for every stated power figure
//! n          sample size of a check (rows, draws or points; total over its cases)
//! parts      statistical tests inside one check, combined by Bonferroni: p = min(1, parts·min p)
//! ```
//!
//! # Error control
//! A check is either **statistical** (a p-value; the check's p-value is the Bonferroni
//! combination of its parts) or **exact** (a criterion that a correct implementation meets by
//! construction: finiteness, ranges, one-hot rows, pointwise values within a stated tolerance).
//! Holm's step-down procedure at `α` runs over the m check p-values, so the probability that a
//! correct implementation gets any statistical `fail` is at most `α` under any dependence
//! between checks; exact criteria add no false alarms. Every power figure ("smallest detectable
//! discrepancy") is computed at `α_i = α/m` and power 0.999.
//!
//! # Verdicts
//! - `pass`: every criterion met and Holm does not reject.
//! - `fail`: a distribution or value is wrong (Holm rejects, or an exact criterion is broken,
//!   or valid input was rejected).
//! - `warn`: a numerical limitation, reported with what happened; never a wrong distribution.
//!   **The float32 rule**: an unmasked entry of a relaxed sample that underflowed to exactly 0,
//!   binary samples saturated to exactly 0 or 1 more often than an exact sampler rounded to the
//!   dtype would (binomial test at 1e-3 against that rate; at the expected rate it is a note:
//!   even an exact float64 sampler returns 1.0 once `(l + L)/τ > 53 ln 2`), and a density that
//!   is `-inf` or NaN at such a boundary point are `warn` in every dtype; those rows are left out of the statistics that would need their logarithm, and
//!   the number left out is reported. NaN or `±inf` anywhere else is a `fail` in every dtype.
//!   Tolerances of pointwise comparisons scale with the dtype's epsilon (below).
//!   The same seed giving different output is a `warn` (the protocol says "should"); different
//!   seeds giving identical output is a `fail` (the samples of fresh requests would repeat).
//! - `skipped`: the op or estimator is not offered.
//! - `error`: the adapter failed ([`TargetError::Fault`]: crash, timeout, malformed reply,
//!   wrong shape or dtype). The check reports the message; the remaining checks still run.
//!
//! # Tolerances of exact criteria
//! ```text
//! ε = 2^-52 (float64) or 2^-23 (float32): the dtype's epsilon, the looser of hello's dtype and
//!                                          the array's
//! simplex          |Σ_i y_i - 1| ≤ 1e-9 (float64) or 1e-6 + 4kε (float32)
//! density values   |lp - lp_ref| ≤ 256 ε (1 + M),  M = Σ |terms| of the log-density formula
//!                  (the magnitude rounding errors scale with)
//! gradient rows    |Σ_i row_i| ≤ 64 ε (1 + Σ_i |row_i|)
//! density mass     |∫ p - 1| ≤ 1e-6 (float64) or 1e-4 (float32) (trapezoid in logit space,
//!                  quadrature error below 1e-9)
//! ```
//!
//! # Checks and sample sizes
//! See [`CHECKS`] for the ids and [`Plan`] for the sizes per [`Level`]; each check's doc comment
//! (on its function) states what it tests, its n and the smallest discrepancy it detects, and
//! the report repeats these numbers for the run's `α_i`. The figures quoted in the check docs
//! are the standard level's with every op offered (m = 14, `α_i = 7.1e-5`); docs/audit.md has
//! the table for every level, and the measured calibration over 200 seeds.
//!
//! # References
//! - S. Holm, *A simple sequentially rejective multiple test procedure*, Scand. J. Statist. 6
//!   (1979), <https://www.jstor.org/stable/4615733>.
//! - shared/design/MATH.md §2 (the exact laws tested) and §4 (the machinery).

use std::collections::HashMap;

use crate::audit::reference::ReferenceTarget;
use crate::audit::target::{
    Array, ArrayData, Capabilities, Dtype, GradRequest, ObjectiveSpec, Op, Target, TargetError,
};
use crate::distributions::{BinaryConcrete, Concrete, Gumbel, Logits};
use crate::error::Error;
use crate::grad::Objective;
use crate::grad::truth::TwoCategory;
use crate::numeric::{argmax, log_sum_exp, sigmoid};
use crate::rng::seeded;
use crate::stats::{
    Alternative, Coordinates, anderson_darling_dist, binomial_test, chi2_detectable_w, chi2_isf,
    chi2_sf, dkwm_detectable_discrepancy, holm, hotelling_one_sample, hotelling_two_sample,
    ks_one_sample, ks_two_sample, pearson_chi2,
};

/// Default family-wise false-alarm rate of the battery.
pub const DEFAULT_FWER: f64 = 1e-3;

/// Power at which detectable discrepancies are stated.
pub const POWER: f64 = 0.999;

/// How much sampling the battery does: time against power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Smallest samples (about a tenth of standard): a smoke test.
    Quick,
    /// The CI level: every planted bug of the test suite fails it.
    Standard,
    /// About four times standard.
    Thorough,
}

impl Level {
    /// `"quick"`, `"standard"` or `"thorough"`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Quick => "quick",
            Level::Standard => "standard",
            Level::Thorough => "thorough",
        }
    }

    /// The level called `name`, if any.
    pub fn from_name(name: &str) -> Option<Level> {
        [Level::Quick, Level::Standard, Level::Thorough]
            .into_iter()
            .find(|l| l.name() == name)
    }

    /// The sample sizes of this level.
    pub fn plan(self) -> Plan {
        match self {
            Level::Quick => Plan {
                noise_n: 100_000,
                tail_n: 500_000,
                tail_q: 4e-5,
                categorical_n: 200_000,
                relaxed_n: 20_000,
                binary_n: 20_000,
                grad_n: 4_000,
            },
            Level::Standard => Plan {
                noise_n: 1_000_000,
                tail_n: 2_000_000,
                tail_q: 1e-5,
                categorical_n: 1_000_000,
                relaxed_n: 100_000,
                binary_n: 100_000,
                grad_n: 20_000,
            },
            Level::Thorough => Plan {
                noise_n: 4_000_000,
                tail_n: 10_000_000,
                tail_q: 5e-6,
                categorical_n: 4_000_000,
                relaxed_n: 400_000,
                binary_n: 400_000,
                grad_n: 100_000,
            },
        }
    }
}

/// Sample sizes of one level.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Plan {
    /// Gumbel draws for the CDF checks.
    pub noise_n: usize,
    /// Gumbel draws for the upper-tail count.
    pub tail_n: usize,
    /// Upper-tail probability `q` of the tail count (expected count `n q`).
    pub tail_q: f64,
    /// Categorical draws per logit vector.
    pub categorical_n: usize,
    /// Relaxed samples per (logits, τ) case.
    pub relaxed_n: usize,
    /// Binary Concrete samples per case.
    pub binary_n: usize,
    /// Gradient rows per (estimator, case).
    pub grad_n: usize,
}

/// Options of one audit run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuditOptions {
    /// Sampling level.
    pub level: Level,
    /// Master seed: every request's seed is derived from it, so a run is reproducible.
    pub seed: u64,
    /// Family-wise false-alarm rate `α` controlled by Holm across the battery.
    pub fwer: f64,
}

impl AuditOptions {
    /// Options; `fwer` must lie in `(0, 1)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `fwer` outside `(0, 1)`.
    pub fn new(level: Level, seed: u64, fwer: f64) -> Result<Self, Error> {
        if !(fwer > 0.0 && fwer < 1.0) {
            return Err(Error::InvalidParameter {
                name: "family-wise false-alarm rate",
                value: fwer,
                rule: "in the open interval (0, 1)",
            });
        }
        Ok(AuditOptions { level, seed, fwer })
    }
}

impl Default for AuditOptions {
    /// Standard level, seed 0, `fwer = 1e-3`.
    fn default() -> Self {
        AuditOptions {
            level: Level::Standard,
            seed: 0,
            fwer: DEFAULT_FWER,
        }
    }
}

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
    /// Estimators offered.
    pub estimators: Vec<String>,
    /// `Pass` unless a check failed or errored (then `Fail`).
    pub verdict: Verdict,
    /// The checks, in battery order.
    pub checks: Vec<CheckResult>,
}

impl AuditReport {
    /// Number of checks with the given verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == verdict).count()
    }

    /// Process exit code: 2 if any check met an adapter error, else 1 if any check failed,
    /// else 0.
    pub fn exit_code(&self) -> u8 {
        if self.count(Verdict::Error) > 0 {
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

/// How a statistical check's power is stated (computed once `α_i` is known).
#[derive(Debug, Clone, PartialEq)]
enum Power {
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
    /// Variance: relative standard error of the sample variance.
    Variance { rel_se: f64, parts: usize },
}

impl Power {
    fn describe(&self, alpha: f64) -> String {
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
                let e = n as f64 * q;
                // Smallest count rejected above the expectation, then the tail mass whose
                // count exceeds it with probability 0.999 (normal approximation).
                let mut c = e.ceil() as u64;
                while c < n
                    && binomial_test(c, n, q, Alternative::TwoSided)
                        .map(|r| r.p_value >= alpha)
                        .unwrap_or(false)
                {
                    c += 1;
                }
                let s = (z_power + (z_power * z_power + 4.0 * c as f64).sqrt()) / 2.0;
                format!(
                    "a tail with no mass (P = e^-{e:.0}) or ≥ {:.1}× the Gumbel's",
                    s * s / e
                )
            }
            Power::Variance { rel_se, parts } => {
                let d = (z(alpha / parts as f64) + z_power) * rel_se;
                format!("relative variance error ≥ {:.3}", d)
            }
        }
    }
}

/// What a check found, before Holm.
#[derive(Debug, Default)]
struct Outcome {
    p_value: Option<f64>,
    power: Option<Power>,
    n: u64,
    fails: Vec<String>,
    warns: Vec<String>,
    notes: Vec<String>,
    criterion: String,
    figure: Option<Figure>,
    /// For exact criteria: the largest tolerance used (what "any violation" means).
    max_tolerance: f64,
}

impl Outcome {
    fn new(criterion: impl Into<String>) -> Self {
        Outcome {
            criterion: criterion.into(),
            ..Outcome::default()
        }
    }

    /// Sets the Bonferroni combination of `ps` as the p-value.
    fn combine(&mut self, ps: &[f64]) {
        let min = ps.iter().copied().fold(1.0, f64::min);
        self.p_value = Some((min * ps.len() as f64).min(1.0));
    }
}

type CheckFn = fn(&mut Ctx) -> Result<Outcome, TargetError>;

/// A check's outcome, or why it could not be judged (the error and a message).
type Judged = Result<Outcome, (TargetError, String)>;

/// One (logits, τ, rows) case of the pointwise density checks.
type DensityCase = (Vec<f64>, f64, Vec<f64>);

/// The battery: id, title, function. Run in this order.
pub const CHECKS: [(&str, &str); 23] = [
    ("noise.finite", "Gumbel noise: every value finite"),
    (
        "noise.cdf",
        "Gumbel noise: KS and Anderson-Darling against exp(-exp(-x))",
    ),
    ("noise.tail", "Gumbel noise: far upper tail count"),
    (
        "categorical.indices",
        "categorical: integer indices in 0..k, never a masked category",
    ),
    (
        "categorical.chi2",
        "categorical: frequencies against π (incl. p = 1e-4, masked)",
    ),
    (
        "relaxed.simplex",
        "relaxed samples: on the simplex, masked entries 0",
    ),
    (
        "relaxed.argmax",
        "relaxed samples: argmax follows π at τ = 0.1, 0.5, 1, 5",
    ),
    (
        "relaxed.log_ratio",
        "relaxed samples: ln(y_i/y_j) is Logistic((l_i-l_j)/τ, 1/τ)",
    ),
    (
        "relaxed.vs_reference",
        "relaxed samples: same law as the reference's (two-sample)",
    ),
    (
        "relaxed.hard",
        "hard samples: one-hot rows whose category follows π",
    ),
    (
        "relaxed.hard_matches_soft",
        "hard samples: one-hot of the soft sample's argmax (same seed)",
    ),
    (
        "log_prob.pointwise",
        "relaxed_log_prob: equals the reference's at fixed points",
    ),
    (
        "log_prob.conformance",
        "relaxed_log_prob: the mpmath conformance vectors (fixtures/concrete.json)",
    ),
    (
        "log_prob.shift",
        "relaxed_log_prob: invariant under logits + c",
    ),
    (
        "log_prob.own_samples",
        "relaxed_log_prob: integrates to 1 and fits its own samples",
    ),
    (
        "binary.cdf",
        "binary Concrete samples: in (0, 1), KS against σ(τ logit(x) - l)",
    ),
    (
        "binary.log_prob",
        "binary_log_prob: equals the closed form at fixed points",
    ),
    (
        "grad.reinforce",
        "REINFORCE: unbiased for the exact gradient (Hotelling)",
    ),
    (
        "grad.gumbel_softmax",
        "Gumbel-Softmax: unbiased for the relaxed objective's gradient",
    ),
    (
        "grad.straight_through",
        "straight-through: mean equal to the reference's",
    ),
    (
        "grad.gumbel_rao",
        "Gumbel-Rao: mean equal to straight-through's",
    ),
    (
        "grad.variance",
        "estimator variances against their exact / quadrature values",
    ),
    (
        "bad_input",
        "invalid input: a clear error or finite values, never silent NaN",
    ),
];

/// One more: reproducibility is the last check.
const REPRO: (&str, &str) = (
    "reproducibility",
    "same seed same output; different seeds different output",
);

fn check_fn(id: &str) -> CheckFn {
    match id {
        "noise.finite" => noise_finite,
        "noise.cdf" => noise_cdf,
        "noise.tail" => noise_tail,
        "categorical.indices" => categorical_indices,
        "categorical.chi2" => categorical_chi2,
        "relaxed.simplex" => relaxed_simplex,
        "relaxed.argmax" => relaxed_argmax,
        "relaxed.log_ratio" => relaxed_log_ratio,
        "relaxed.vs_reference" => relaxed_vs_reference,
        "relaxed.hard" => relaxed_hard,
        "relaxed.hard_matches_soft" => relaxed_hard_matches_soft,
        "log_prob.pointwise" => log_prob_pointwise,
        "log_prob.conformance" => log_prob_conformance,
        "log_prob.shift" => log_prob_shift,
        "log_prob.own_samples" => log_prob_own_samples,
        "binary.cdf" => binary_cdf,
        "binary.log_prob" => binary_log_prob,
        "grad.reinforce" => grad_reinforce,
        "grad.gumbel_softmax" => grad_gumbel_softmax,
        "grad.straight_through" => grad_straight_through,
        "grad.gumbel_rao" => grad_gumbel_rao,
        "grad.variance" => grad_variance,
        "bad_input" => bad_input,
        _ => reproducibility,
    }
}

/// State shared by the checks of one run.
struct Ctx<'a> {
    target: &'a mut dyn Target,
    caps: Capabilities,
    plan: Plan,
    seed_state: u64,
    /// Cached requests that several checks use: key → array.
    cache: HashMap<String, Array>,
    /// `∂/∂a` rows of the k = 2 gradient setting, per estimator (for `grad.variance`).
    k2_rows: Vec<(String, Vec<f64>)>,
    /// What the last skipped check needed and the target does not offer.
    missing: Option<String>,
}

impl Ctx<'_> {
    /// A fresh seed for every request (splitmix64 of the master seed's stream).
    fn next_seed(&mut self) -> u64 {
        self.seed_state = self.seed_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.seed_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn require(&mut self, op: Op) -> Result<(), TargetError> {
        if self.caps.offers(op) {
            Ok(())
        } else {
            self.missing = Some(format!("op {}", op.name()));
            Err(TargetError::Unsupported)
        }
    }

    fn f32(&self) -> bool {
        self.caps.dtype == Dtype::Float32
    }

    /// Soft relaxed samples for a case, requested once per run.
    fn relaxed(&mut self, logits: &[f64], tau: f64) -> Result<(Vec<f64>, bool), TargetError> {
        let key = format!("relaxed {logits:?} {tau}");
        if !self.cache.contains_key(&key) {
            let seed = self.next_seed();
            let n = self.plan.relaxed_n;
            let a = self.target.relaxed_sample(logits, tau, false, n, seed)?;
            self.cache.insert(key.clone(), a);
        }
        let a = &self.cache[&key];
        let single = is_f32(a) || self.f32();
        Ok((
            floats(a, &[self.plan.relaxed_n, logits.len()], "relaxed_sample")?,
            single,
        ))
    }
}

fn is_f32(a: &Array) -> bool {
    matches!(a.data, ArrayData::F32(_))
}

fn eps(single: bool) -> f64 {
    if single {
        f64::from(f32::EPSILON)
    } else {
        f64::EPSILON
    }
}

/// The values of a float array of the expected shape, or a fault naming the mismatch.
fn floats(a: &Array, shape: &[usize], op: &str) -> Result<Vec<f64>, TargetError> {
    if a.shape != shape {
        return Err(TargetError::Fault(format!(
            "{op} returned shape {:?}, expected {shape:?}",
            a.shape
        )));
    }
    if !a.data.is_float() {
        return Err(TargetError::Fault(format!(
            "{op} returned dtype {}, expected float32 or float64",
            a.data.dtype_name()
        )));
    }
    Ok(a.to_f64())
}

/// The values of an integer array of shape `[n]`.
fn integers(a: &Array, n: usize, op: &str) -> Result<Vec<i64>, TargetError> {
    if a.shape != [n] {
        return Err(TargetError::Fault(format!(
            "{op} returned shape {:?}, expected [{n}]",
            a.shape
        )));
    }
    match &a.data {
        ArrayData::I32(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
        ArrayData::I64(v) => Ok(v.clone()),
        other => Err(TargetError::Fault(format!(
            "{op} returned dtype {}, expected int32 or int64",
            other.dtype_name()
        ))),
    }
}

/// A valid-input request that the implementation rejected: a failure of the implementation.
fn valid<T>(r: Result<T, TargetError>, what: &str) -> Result<Result<T, String>, TargetError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(TargetError::Rejected(msg)) => Ok(Err(format!("valid input rejected ({what}): {msg}"))),
        Err(e) => Err(e),
    }
}

fn internal(e: Error) -> TargetError {
    TargetError::Fault(format!("internal error of the battery: {e}"))
}

fn fmt_p(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else if p < 1e-3 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

fn qq_points<F: Fn(f64) -> f64>(data: &[f64], quantile: F) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = data.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    (1..200)
        .map(|j| {
            let p = j as f64 / 200.0;
            let idx = ((p * n as f64) as usize).min(n - 1);
            (quantile(p), sorted[idx])
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Noise

/// `noise.finite` (exact): every one of `noise_n` Gumbel draws is finite. A single `±inf`
/// (a uniform of exactly 0 or 1 in `-ln(-ln u)`) turns a softmax into NaN (MATH.md §1).
fn noise_finite(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let values = noise(ctx)?;
    let mut o = Outcome::new("exact: every value finite");
    o.n = values.len() as u64;
    let bad = values.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        o.fails
            .push(format!("{bad} of {} values are not finite", values.len()));
    } else {
        o.notes.push(format!("all {} values finite", values.len()));
    }
    Ok(o)
}

fn noise(ctx: &mut Ctx) -> Result<Vec<f64>, TargetError> {
    ctx.require(Op::Gumbel)?;
    let key = "noise".to_string();
    if !ctx.cache.contains_key(&key) {
        let seed = ctx.next_seed();
        let a = ctx.target.gumbel(ctx.plan.noise_n, seed)?;
        ctx.cache.insert(key.clone(), a);
    }
    floats(&ctx.cache[&key], &[ctx.plan.noise_n], "gumbel")
}

/// `noise.cdf`: KS and Anderson-Darling of `noise_n` draws (10⁶ at standard) against the
/// standard Gumbel CDF, Bonferroni over the two. Detects a CDF discrepancy of about 0.0042 at
/// standard (DKWM at α_i/2, power 0.999); AD adds tail sensitivity. Catches `-ln u` noise
/// (an exponential, not a Gumbel).
fn noise_cdf(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let values = noise(ctx)?;
    let total = values.len();
    let data: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let mut o = Outcome::new("KS + Anderson-Darling vs Gumbel(0, 1), Bonferroni over 2");
    o.n = data.len() as u64;
    if data.len() < 8 {
        // Nothing to test the law on: the sampler is wrong, not the plumbing.
        o.fails.push(format!(
            "only {} of {total} draws are finite: no law to test",
            data.len()
        ));
        return Ok(o);
    }
    let g = Gumbel::standard();
    let ks = ks_one_sample(&data, |x| g.cdf(x)).map_err(internal)?;
    let ad = anderson_darling_dist(&data, &g).map_err(internal)?;
    o.combine(&[ks.p_value, ad.p_value]);
    o.power = Some(Power::Dkwm { n: o.n, parts: 2 });
    o.notes.push(format!(
        "KS D = {:.5} at x = {:.3} (p = {}), AD A² = {:.3} (p = {})",
        ks.statistic,
        ks.statistic_location,
        fmt_p(ks.p_value),
        ad.statistic,
        fmt_p(ad.p_value)
    ));
    o.figure = Some(Figure::Qq {
        title: "Gumbel noise: observed against Gumbel(0, 1) quantiles".into(),
        points: qq_points(&data, |p| g.quantile(p).unwrap_or(f64::NAN)),
    });
    Ok(o)
}

/// `noise.tail`: the number of `tail_n` draws above the Gumbel's `1 - q` quantile against
/// Binomial(n, q), exact two-sided test; expected count 20 (quick, standard) or 50 (thorough).
/// Detects a tail with no mass there (clamped uniforms) and one with several times the mass.
fn noise_tail(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::Gumbel)?;
    let (n, q) = (ctx.plan.tail_n, ctx.plan.tail_q);
    let seed = ctx.next_seed();
    let a = ctx.target.gumbel(n, seed)?;
    let values = floats(&a, &[n], "gumbel")?;
    drop(a);
    let x = Gumbel::standard().isf(q).map_err(internal)?;
    let count = values.iter().filter(|&&v| v > x).count() as u64;
    let nan = values.iter().filter(|v| v.is_nan()).count();
    let top = values
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    let r = binomial_test(count, n as u64, q, Alternative::TwoSided).map_err(internal)?;
    let mut o = Outcome::new(format!(
        "exact binomial test of #(g > {x:.3}) against Binomial(n, {q:e}), two-sided"
    ));
    o.n = n as u64;
    o.p_value = Some(r.p_value);
    o.power = Some(Power::Tail { n: n as u64, q });
    o.notes.push(format!(
        "{count} draws beyond the 1 - {q:e} quantile {x:.3} (expected {:.1}); largest draw {}",
        n as f64 * q,
        if nan == n {
            "none (every draw is NaN)".to_string()
        } else if nan > 0 {
            format!("{top:.3} ({nan} NaN draws)")
        } else {
            format!("{top:.3}")
        }
    ));
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Categorical

/// The logit vectors of the categorical checks: uniform, skewed, a rare category at exactly
/// p = 1e-4, masked categories, and k = 100.
pub fn categorical_cases() -> Vec<(&'static str, Vec<f64>)> {
    let rare = (1e-4f64 / (1.0 - 1e-4) * 2.0).ln();
    vec![
        ("uniform k=5", vec![0.0; 5]),
        ("skewed k=5", vec![2.0, 1.0, 0.0, -1.0, -3.0]),
        ("rare p=1e-4", vec![0.0, 0.0, rare]),
        (
            "masked",
            vec![0.5, f64::NEG_INFINITY, -0.5, f64::NEG_INFINITY],
        ),
        ("k=100", (0..100).map(|i| (i as f64 * 0.37).sin()).collect()),
    ]
}

/// Draws per case: `categorical_n`, a tenth of it for k = 100 (still ≥ 200 expected per cell at
/// standard).
fn categorical_n(plan: Plan, l: &[f64]) -> usize {
    if l.len() > 20 {
        plan.categorical_n / 10
    } else {
        plan.categorical_n
    }
}

fn categorical_draws(ctx: &mut Ctx) -> Result<Vec<Result<Vec<i64>, String>>, TargetError> {
    ctx.require(Op::Categorical)?;
    let mut out = Vec::new();
    for (name, l) in categorical_cases() {
        let n = categorical_n(ctx.plan, &l);
        let key = format!("categorical {name}");
        if !ctx.cache.contains_key(&key) {
            let seed = ctx.next_seed();
            match valid(ctx.target.categorical(&l, n, seed), name)? {
                Ok(a) => {
                    ctx.cache.insert(key.clone(), a);
                }
                Err(msg) => {
                    out.push(Err(msg));
                    continue;
                }
            }
        }
        out.push(Ok(integers(&ctx.cache[&key], n, "categorical")?));
    }
    Ok(out)
}

/// `categorical.indices` (exact): integer dtype, every index in `0..k`, none in a masked
/// category; valid logits are not rejected.
fn categorical_indices(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let draws = categorical_draws(ctx)?;
    let mut o = Outcome::new("exact: 0 ≤ index < k, probability of the index > 0");
    for ((name, l), d) in categorical_cases().into_iter().zip(draws) {
        match d {
            Err(msg) => o.fails.push(msg),
            Ok(d) => {
                o.n += d.len() as u64;
                let out = d
                    .iter()
                    .filter(|&&i| i < 0 || i as usize >= l.len())
                    .count();
                let masked = d
                    .iter()
                    .filter(|&&i| i >= 0 && (i as usize) < l.len())
                    .filter(|&&i| l[i as usize] == f64::NEG_INFINITY)
                    .count();
                if out > 0 {
                    o.fails
                        .push(format!("{name}: {out} indices outside 0..{}", l.len()));
                }
                if masked > 0 {
                    o.fails
                        .push(format!("{name}: {masked} draws of a masked category"));
                }
            }
        }
    }
    Ok(o)
}

/// `categorical.chi2`: Pearson chi-squared of the counts against `π` for the five
/// [`categorical_cases`] (`categorical_n` draws each, 10⁶ at standard; a tenth for k = 100), pooling cells with
/// expectation below 5, Bonferroni over the five. The rare cell (p = 1e-4) expects 100 draws
/// at standard; a draw in a masked cell gives p = 0. Detects Cohen's w ≈ 0.0081 (df = 4) at
/// standard.
fn categorical_chi2(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let draws = categorical_draws(ctx)?;
    let mut o = Outcome::new("Pearson χ² vs π per logit vector, Bonferroni over 5");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for ((name, l), d) in categorical_cases().into_iter().zip(draws) {
        let Ok(d) = d else {
            o.fails.push(format!("{name}: valid logits rejected"));
            continue;
        };
        let k = l.len();
        let mut counts = vec![0u64; k];
        for &i in &d {
            if i >= 0 && (i as usize) < k {
                counts[i as usize] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            o.fails.push(format!("{name}: no index in range"));
            continue;
        }
        o.n += total;
        let probs = Logits::from_slice(&l).map_err(internal)?.probs();
        let r = pearson_chi2(&counts, &probs).map_err(internal)?;
        ps.push(r.p_value);
        let mut line = format!(
            "{name}: X² = {:.2}, df = {}, p = {}",
            r.statistic,
            r.df,
            fmt_p(r.p_value)
        );
        if let Some(c) = &r.largest_residual {
            line += &format!(
                "; largest residual category {} observed {} expected {:.1}",
                c.index, c.observed, c.expected
            );
        }
        o.notes.push(line);
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) && k <= 20 {
            let nf = total as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("categorical {name}: observed vs expected frequencies"),
                    observed: counts.iter().map(|&c| c as f64 / nf).collect(),
                    expected: probs,
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 4,
            n: ctx.plan.categorical_n as u64,
            parts: 5,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Relaxed samples

/// Logits of the relaxed checks.
const RELAXED_LOGITS: [f64; 3] = [1.0, 0.0, -1.0];
/// Temperatures of the relaxed checks.
const RELAXED_TAUS: [f64; 4] = [0.1, 0.5, 1.0, 5.0];
/// A case with masked categories, at τ = 0.5.
const MASKED_LOGITS: [f64; 3] = [0.5, f64::NEG_INFINITY, -0.5];

fn relaxed_cases() -> Vec<(Vec<f64>, f64)> {
    let mut v: Vec<(Vec<f64>, f64)> = RELAXED_TAUS
        .iter()
        .map(|&t| (RELAXED_LOGITS.to_vec(), t))
        .collect();
    v.push((MASKED_LOGITS.to_vec(), 0.5));
    v
}

/// `relaxed.simplex` (exact): every entry finite and in `[0, 1]`, rows sum to 1 within the
/// dtype's tolerance (module doc), masked entries exactly 0; unmasked entries that underflowed
/// to 0 are a `warn` (the float32 rule).
fn relaxed_simplex(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedSample)?;
    let mut o = Outcome::new("exact: finite, 0 ≤ y_i ≤ 1, |Σy - 1| ≤ tol(dtype), masked y_i = 0");
    for (l, tau) in relaxed_cases() {
        let k = l.len();
        let (y, single) = match valid(ctx.relaxed(&l, tau), "relaxed_sample")? {
            Ok(v) => v,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let tol = if single {
            1e-6 + 4.0 * k as f64 * eps(true)
        } else {
            1e-9
        };
        let (mut nonfinite, mut range, mut sum, mut masked, mut zeros) = (0, 0, 0, 0, 0);
        let mut worst_sum = 0.0f64;
        for row in y.chunks_exact(k) {
            if row.iter().any(|v| !v.is_finite()) {
                nonfinite += 1;
                continue;
            }
            if row.iter().any(|&v| !(0.0..=1.0).contains(&v)) {
                range += 1;
            }
            let s: f64 = row.iter().sum();
            worst_sum = worst_sum.max((s - 1.0).abs());
            if (s - 1.0).abs() > tol {
                sum += 1;
            }
            for (i, &v) in row.iter().enumerate() {
                if l[i] == f64::NEG_INFINITY && v != 0.0 {
                    masked += 1;
                }
                if l[i] > f64::NEG_INFINITY && v == 0.0 {
                    zeros += 1;
                }
            }
        }
        o.n += (y.len() / k) as u64;
        let case = format!("l = {l:?}, τ = {tau}");
        if nonfinite > 0 {
            o.fails
                .push(format!("{case}: {nonfinite} rows with NaN or inf"));
        }
        if range > 0 {
            o.fails
                .push(format!("{case}: {range} rows with an entry outside [0, 1]"));
        }
        if sum > 0 {
            o.fails.push(format!(
                "{case}: {sum} rows with |Σy - 1| > {tol:.1e} (worst {worst_sum:.2e})"
            ));
        }
        if masked > 0 {
            o.fails
                .push(format!("{case}: {masked} masked entries not 0"));
        }
        if zeros > 0 {
            o.warns.push(format!(
                "{case}: {zeros} unmasked entries underflowed to exactly 0 ({} precision)",
                if single { "float32" } else { "float64" }
            ));
        }
    }
    Ok(o)
}

/// `relaxed.argmax`: argmax frequencies of `relaxed_n` soft samples (10⁵ at standard) per
/// case against π: logits (1, 0, -1) at τ = 0.1, 0.5, 1, 5 and the masked case at τ = 0.5
/// (MATH §2 fact 1: the argmax follows π at every τ), Pearson χ², Bonferroni over 5. Detects
/// w ≈ 0.024 (df = 2) at standard. Catches τ applied to the logits only, and probabilities
/// passed as logits.
fn relaxed_argmax(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedSample)?;
    let mut o = Outcome::new("Pearson χ² of argmax counts vs π per (l, τ), Bonferroni over 5");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for (l, tau) in relaxed_cases() {
        let k = l.len();
        let Ok((y, _)) = valid(ctx.relaxed(&l, tau), "relaxed_sample")? else {
            o.fails
                .push(format!("l = {l:?}, τ = {tau}: valid input rejected"));
            continue;
        };
        let mut counts = vec![0u64; k];
        for row in y.chunks_exact(k) {
            if let Some(i) = argmax_finite(row) {
                counts[i] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        o.n += total;
        if total == 0 {
            o.fails.push(format!("l = {l:?}, τ = {tau}: no finite row"));
            continue;
        }
        let probs = Logits::from_slice(&l).map_err(internal)?.probs();
        let r = pearson_chi2(&counts, &probs).map_err(internal)?;
        ps.push(r.p_value);
        o.notes.push(format!(
            "τ = {tau}{}: counts {counts:?}, p = {}",
            if l[1] == f64::NEG_INFINITY {
                " (masked)"
            } else {
                ""
            },
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            let nf = total as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("argmax of relaxed samples, l = {l:?}, τ = {tau}"),
                    observed: counts.iter().map(|&c| c as f64 / nf).collect(),
                    expected: probs,
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 2,
            n: ctx.plan.relaxed_n as u64,
            parts: 5,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// Index of the largest finite entry (first on ties); `None` if a NaN is present.
fn argmax_finite(row: &[f64]) -> Option<usize> {
    if row.iter().any(|v| v.is_nan()) {
        return None;
    }
    argmax(row)
}

/// `relaxed.log_ratio`: `ln(y_0/y_1)` and `ln(y_0/y_2)` for logits (1, 0, -1) at τ = 0.5 and 1,
/// and `ln(y_0/y_2)` for the masked case, against `Logistic((l_i - l_j)/τ, 1/τ)` (MATH §2
/// fact 2), KS, Bonferroni over 5. Detects a CDF discrepancy ≈ 0.0136 at standard (n = 10⁵).
/// Rows where either entry is 0 (underflow) are left out and reported (`warn`).
fn relaxed_log_ratio(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedSample)?;
    let mut o = Outcome::new("KS of ln(y_i/y_j) vs Logistic((l_i-l_j)/τ, 1/τ), Bonferroni over 5");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    let cases: Vec<(Vec<f64>, f64, usize, usize)> = vec![
        (RELAXED_LOGITS.to_vec(), 0.5, 0, 1),
        (RELAXED_LOGITS.to_vec(), 0.5, 0, 2),
        (RELAXED_LOGITS.to_vec(), 1.0, 0, 1),
        (RELAXED_LOGITS.to_vec(), 1.0, 0, 2),
        (MASKED_LOGITS.to_vec(), 0.5, 0, 2),
    ];
    for (l, tau, i, j) in cases {
        let k = l.len();
        let Ok((y, _)) = valid(ctx.relaxed(&l, tau), "relaxed_sample")? else {
            o.fails
                .push(format!("l = {l:?}, τ = {tau}: valid input rejected"));
            continue;
        };
        let mut data = Vec::with_capacity(y.len() / k);
        let mut left_out = 0;
        for row in y.chunks_exact(k) {
            let (a, b) = (row[i], row[j]);
            if a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() {
                data.push(a.ln() - b.ln());
            } else {
                left_out += 1;
            }
        }
        if left_out > 0 {
            o.warns.push(format!(
                "τ = {tau}, (y_{i}, y_{j}): {left_out} rows left out (an entry 0 or not finite)"
            ));
        }
        if data.is_empty() {
            o.fails.push(format!("τ = {tau}: no usable row"));
            continue;
        }
        o.n += data.len() as u64;
        let loc = (l[i] - l[j]) / tau;
        let r = ks_one_sample(&data, |x| sigmoid((x - loc) * tau)).map_err(internal)?;
        ps.push(r.p_value);
        o.notes.push(format!(
            "τ = {tau}, ln(y_{i}/y_{j}){}: D = {:.5}, p = {}",
            if l[1] == f64::NEG_INFINITY {
                " (masked)"
            } else {
                ""
            },
            r.statistic,
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            worst = Some((
                r.p_value,
                Figure::Qq {
                    title: format!(
                        "ln(y_{i}/y_{j}) at l = {l:?}, τ = {tau}: observed vs logistic quantiles"
                    ),
                    points: qq_points(&data, |p| loc + (p / (1.0 - p)).ln() / tau),
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Dkwm {
            n: ctx.plan.relaxed_n as u64,
            parts: 5,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// `relaxed.vs_reference`: the target's samples at logits (1, 0, -1), τ = 0.5 against as many
/// reference samples, two-sample KS on five projections (`y_0`, `y_1`, `y_2`, `max_i y_i`,
/// `y_0 - y_2`), Bonferroni over 5. A multivariate comparison through projections: it detects
/// a CDF difference ≈ 0.028 in any of them at standard (n = 10⁵ per side).
///
/// Why not the energy test: its permutation p-value cannot go below `1/(B+1)`, and Holm at
/// `α = 1e-3` over ~20 checks needs p below `5e-5`, i.e. `B ≥ 2·10⁴` permutations of an
/// `O(m²)` statistic, too slow for CI; the projections have exact or asymptotic p-values at
/// any n.
fn relaxed_vs_reference(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedSample)?;
    let (l, tau) = (RELAXED_LOGITS.to_vec(), 0.5);
    let mut o = Outcome::new(
        "two-sample KS vs reference samples on y_0, y_1, y_2, max y, y_0 - y_2; Bonferroni over 5",
    );
    let y = match valid(ctx.relaxed(&l, tau), "relaxed_sample")? {
        Ok((y, _)) => y,
        Err(msg) => {
            o.fails.push(msg);
            return Ok(o);
        }
    };
    let seed = ctx.next_seed();
    let n = ctx.plan.relaxed_n;
    let r = ReferenceTarget::new()
        .relaxed_sample(&l, tau, false, n, seed)?
        .to_f64();
    let project = |rows: &[f64], which: usize| -> Vec<f64> {
        rows.chunks_exact(3)
            .filter(|r| r.iter().all(|v| v.is_finite()))
            .map(|r| match which {
                0..=2 => r[which],
                3 => r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                _ => r[0] - r[2],
            })
            .collect()
    };
    let names = ["y_0", "y_1", "y_2", "max y", "y_0 - y_2"];
    let mut ps = Vec::new();
    for (w, name) in names.iter().enumerate() {
        let a = project(&y, w);
        let b = project(&r, w);
        if a.is_empty() {
            o.fails.push("no finite row".into());
            break;
        }
        let t = ks_two_sample(&a, &b).map_err(internal)?;
        ps.push(t.p_value);
        o.notes.push(format!(
            "{name}: D = {:.5}, p = {}",
            t.statistic,
            fmt_p(t.p_value)
        ));
    }
    o.n = (y.len() / 3) as u64;
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Dkwm2 {
            n: n as u64,
            parts: 5,
        });
    }
    Ok(o)
}

/// `relaxed.hard`: hard samples (`hard: true`) at logits (1, 0, -1), τ = 0.5 and 2: every row
/// exactly one-hot (exact), and the hot category's frequencies against π (the argmax of a
/// Concrete sample follows π at every τ), χ², Bonferroni over 2. Detects w ≈ 0.024 at standard.
///
/// The soft sample behind a hard row is not visible, so "hard = one-hot of the sample's
/// argmax" is checked through its consequences: one-hot rows and argmax frequencies
/// (`relaxed.hard_matches_soft` adds the row-wise comparison when the implementation makes
/// the same noise for both modes).
fn relaxed_hard(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedSample)?;
    let mut o =
        Outcome::new("exact: one-hot rows; Pearson χ² of the hot category vs π, Bonferroni over 2");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    let l = RELAXED_LOGITS.to_vec();
    let n = ctx.plan.relaxed_n;
    for tau in [0.5, 2.0] {
        let seed = ctx.next_seed();
        let a = match valid(ctx.target.relaxed_sample(&l, tau, true, n, seed), "hard")? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let y = floats(&a, &[n, 3], "relaxed_sample (hard)")?;
        let mut counts = [0u64; 3];
        let mut not_one_hot = 0;
        for row in y.chunks_exact(3) {
            let ones = row.iter().filter(|&&v| v == 1.0).count();
            let zeros = row.iter().filter(|&&v| v == 0.0).count();
            if ones == 1 && zeros == 2 {
                counts[row.iter().position(|&v| v == 1.0).unwrap_or(0)] += 1;
            } else {
                not_one_hot += 1;
            }
        }
        o.n += n as u64;
        if not_one_hot > 0 {
            o.fails
                .push(format!("τ = {tau}: {not_one_hot} rows not exactly one-hot"));
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            continue;
        }
        let probs = Logits::from_slice(&l).map_err(internal)?.probs();
        let r = pearson_chi2(&counts, &probs).map_err(internal)?;
        ps.push(r.p_value);
        o.notes.push(format!(
            "τ = {tau}: counts {counts:?}, p = {}",
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            let nf = total as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("hard samples, l = {l:?}, τ = {tau}"),
                    observed: counts.iter().map(|&c| c as f64 / nf).collect(),
                    expected: probs,
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 2,
            n: n as u64,
            parts: 2,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// `relaxed.hard_matches_soft` (exact, note-level): soft and hard samples requested with the
/// same seed (1000 rows, logits (1, 0, -1), τ = 0.5). If every hard row is the one-hot of the
/// soft row's argmax: `pass`. Otherwise `warn`: the implementation may draw its noise
/// differently in the two modes, which the protocol allows, so row-wise agreement cannot be
/// required; `relaxed.hard` judges the hard mode's law.
fn relaxed_hard_matches_soft(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedSample)?;
    let (l, tau, n) = (RELAXED_LOGITS.to_vec(), 0.5, 1000);
    let seed = ctx.next_seed();
    let mut o =
        Outcome::new("exact (warn only): hard row = onehot(argmax soft row) under the same seed");
    o.n = n as u64;
    let soft = valid(ctx.target.relaxed_sample(&l, tau, false, n, seed), "soft")?;
    let hard = valid(ctx.target.relaxed_sample(&l, tau, true, n, seed), "hard")?;
    let (soft, hard) = match (soft, hard) {
        (Ok(s), Ok(h)) => (s, h),
        (Err(m), _) | (_, Err(m)) => {
            o.fails.push(m);
            return Ok(o);
        }
    };
    let s = floats(&soft, &[n, 3], "relaxed_sample")?;
    let h = floats(&hard, &[n, 3], "relaxed_sample (hard)")?;
    let differ = s
        .chunks_exact(3)
        .zip(h.chunks_exact(3))
        .filter(|(s, h)| {
            let d = argmax_finite(s);
            (0..3).any(|i| h[i] != if Some(i) == d { 1.0 } else { 0.0 })
        })
        .count();
    if differ == 0 {
        o.notes.push(format!(
            "all {n} hard rows are the one-hot of the same-seed soft argmax"
        ));
    } else {
        o.warns.push(format!(
            "{differ} of {n} hard rows differ from the one-hot of the same-seed soft argmax \
             (different noise per mode cannot be told from a bug here; see relaxed.hard)"
        ));
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// relaxed_log_prob

/// The fixed points of the pointwise density checks: (logits, τ, rows). Rows are reference
/// Concrete samples (seeded, so the points are the same in every run) plus hand-picked points.
fn density_points() -> Result<Vec<DensityCase>, Error> {
    let mut cases = vec![
        (vec![1.0, 0.0, -1.0], 0.5, vec![1.0 / 3.0; 3]),
        (vec![2.0, -1.0, 0.5, 0.0, -3.0], 1.0, Vec::new()),
        (
            vec![0.3, -0.3],
            0.1,
            vec![0.5, 0.5, 0.9, 0.1, 1e-3, 1.0 - 1e-3],
        ),
        ((0..10).map(|i| (i as f64).sin()).collect(), 2.0, Vec::new()),
    ];
    cases[0].2.extend([0.98, 0.0199, 0.0001]);
    let mut rng = seeded(0xD0C5);
    for (l, tau, rows) in cases.iter_mut() {
        let c = Concrete::new(Logits::from_slice(l)?, *tau)?;
        for _ in 0..5 {
            let y = c.sample(&mut rng);
            // Entries above 1e-20 so that the points are representable in float32 too.
            if y.iter().all(|&v| v > 1e-20) {
                rows.extend(y);
            }
        }
    }
    Ok(cases)
}

/// The magnitude `M` that rounding errors of the log density scale with (module doc).
fn density_magnitude(l: &[f64], tau: f64, row: &[f64]) -> f64 {
    let k = l.len() as f64;
    let lp = Logits::from_slice(l)
        .map(|x| x.log_probs().to_vec())
        .unwrap_or_default();
    let a: Vec<f64> = lp.iter().zip(row).map(|(p, y)| p - tau * y.ln()).collect();
    let lse = log_sum_exp(&a);
    statrs::function::gamma::ln_gamma(k).abs()
        + (k - 1.0) * tau.ln().abs()
        + l.iter().map(|v| v.abs()).sum::<f64>()
        + lp.iter().map(|v| v.abs()).sum::<f64>()
        + (tau + 1.0) * row.iter().map(|y| y.ln().abs()).sum::<f64>()
        + k * lse.abs()
}

/// Compares target values against reference values at points; pushes failures.
fn compare_points(o: &mut Outcome, case: &str, got: &[f64], want: &[f64], tols: &[f64]) -> usize {
    let mut bad = 0;
    let mut worst = (0.0f64, 0usize);
    o.max_tolerance = tols.iter().copied().fold(o.max_tolerance, f64::max);
    for (j, ((&g, &w), &t)) in got.iter().zip(want).zip(tols).enumerate() {
        let d = (g - w).abs();
        if d.is_nan() || d > t {
            bad += 1;
            if d.is_nan() || d > worst.0 {
                worst = (if d.is_nan() { f64::INFINITY } else { d }, j);
            }
        }
    }
    if bad > 0 {
        let j = worst.1;
        o.fails.push(format!(
            "{case}: {bad} of {} values off; e.g. point {j}: got {}, expected {} (tolerance {:.1e})",
            got.len(),
            got[j],
            want[j],
            tols[j]
        ));
    }
    bad
}

/// `log_prob.pointwise` (exact): `relaxed_log_prob` at 24 fixed points of four (logits, τ)
/// cases (k = 2, 3, 5, 10; τ = 0.1 to 2) against [`Concrete::ln_pdf`], within
/// `256 ε (1 + M)` (module doc). Catches the ExpConcrete convention (off by `Σ ln y_i`), a
/// missing `(k-1)!` or `τ^(k-1)`, and logits used where `ln π` belongs.
fn log_prob_pointwise(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedLogProb)?;
    let mut o = Outcome::new("exact: |lp - lp_ref| ≤ 256 ε (1 + M) at fixed points");
    for (l, tau, y) in density_points().map_err(internal)? {
        let k = l.len();
        let m = y.len() / k;
        let case = format!("k = {k}, τ = {tau}");
        let a = match valid(ctx.target.relaxed_log_prob(&l, tau, &y), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let single = is_f32(&a) || ctx.f32();
        let got = floats(&a, &[m], "relaxed_log_prob")?;
        let c = Concrete::new(Logits::from_slice(&l).map_err(internal)?, tau).map_err(internal)?;
        let mut want = Vec::new();
        let mut tols = Vec::new();
        for row in y.chunks_exact(k) {
            want.push(c.ln_pdf(row).map_err(internal)?);
            tols.push(256.0 * eps(single) * (1.0 + density_magnitude(&l, tau, row)));
        }
        o.n += m as u64;
        if compare_points(&mut o, &case, &got, &want, &tols) == 0 {
            o.notes.push(format!("{case}: {m} points agree"));
        }
    }
    Ok(o)
}

/// The conformance vectors of the Concrete density (`fixtures/concrete.json`, computed by the
/// mpmath oracle at 50 digits; `fixtures/README.md`), embedded so that the binary needs no files.
const CONCRETE_FIXTURES: &str = include_str!("../../fixtures/concrete.json");

/// One unmasked conformance case: name, logits, τ, the point `y` and the oracle's `ln p(y)`.
struct ConformanceCase {
    name: String,
    logits: Vec<f64>,
    tau: f64,
    y: Vec<f64>,
    ln_pdf: f64,
}

/// The unmasked cases of [`CONCRETE_FIXTURES`]. Masked cases are left out: the density of a
/// distribution with masked categories (over the unmasked sub-simplex) is this project's
/// convention, not protocol v1's, and a target is not judged on it.
fn conformance_cases() -> Result<Vec<ConformanceCase>, TargetError> {
    let bad =
        |what: &str| TargetError::Fault(format!("internal error: fixtures/concrete.json {what}"));
    let doc: serde_json::Value =
        serde_json::from_str(CONCRETE_FIXTURES).map_err(|e| bad(&e.to_string()))?;
    let cases = doc["cases"].as_array().ok_or_else(|| bad("has no cases"))?;
    let num = |v: &serde_json::Value| -> Option<f64> {
        match v {
            serde_json::Value::String(t) if t == "-inf" => Some(f64::NEG_INFINITY),
            other => other.as_f64(),
        }
    };
    let mut out = Vec::new();
    for c in cases {
        let list = |key: &str| -> Option<Vec<f64>> { c[key].as_array()?.iter().map(num).collect() };
        let (Some(logits), Some(y), Some(tau), Some(ln_pdf)) = (
            list("logits"),
            list("y"),
            c["tau"].as_f64(),
            num(&c["ln_pdf"]),
        ) else {
            return Err(bad("has a malformed case"));
        };
        if logits.iter().any(|l| !l.is_finite()) {
            continue;
        }
        out.push(ConformanceCase {
            name: c["name"].as_str().unwrap_or("?").to_string(),
            logits,
            tau,
            y,
            ln_pdf,
        });
    }
    Ok(out)
}

/// `log_prob.conformance` (exact): `relaxed_log_prob` at every unmasked case of the conformance
/// vectors (`fixtures/concrete.json`: τ from 1e-3 to 1e3, entries of `y` down to 1e-300, logits
/// up to ±1e3, `k` up to 1000) against the oracle's value, within `256 ε (1 + M)` (module doc).
///
/// A float64 implementation is judged at every case: each point and value is representable and
/// finite, and a log-space implementation reaches it. A float32 implementation is judged only at
/// the cases inside float32's range (every `y_i ≥ 1e-37`, `|l_i| ≤ 1e3`); the others are not
/// judged, and a NaN or inf there is a `warn` (float32 cannot represent the point).
fn log_prob_conformance(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedLogProb)?;
    let mut o = Outcome::new("exact: |lp - lp_oracle| ≤ 256 ε (1 + M) at the conformance vectors");
    let mut out_of_range = 0usize;
    let mut out_of_range_nonfinite = Vec::new();
    let mut off = Vec::new();
    for case in conformance_cases()? {
        let k = case.logits.len();
        let label = format!("{} (k = {k})", case.name);
        let representable =
            case.y.iter().all(|&v| v >= 1e-37) && case.logits.iter().all(|l| l.abs() <= 1e3);
        let r = ctx.target.relaxed_log_prob(&case.logits, case.tau, &case.y);
        let declared_single = ctx.f32();
        if declared_single && !representable {
            // Not judged: the point is not a float32 point. A refusal is fine; NaN/inf warns.
            out_of_range += 1;
            match r {
                Ok(a) => {
                    let got = floats(&a, &[1], "relaxed_log_prob")?;
                    if !got[0].is_finite() {
                        out_of_range_nonfinite.push(format!("{label}: {}", got[0]));
                    }
                }
                Err(TargetError::Rejected(_)) => {}
                Err(e) => return Err(e),
            }
            continue;
        }
        let a = match valid(r, &label)? {
            Ok(a) => a,
            Err(msg) => {
                off.push(msg);
                o.n += 1;
                continue;
            }
        };
        let single = is_f32(&a) || declared_single;
        let got = floats(&a, &[1], "relaxed_log_prob")?;
        if single && !representable {
            // Declared float64 but returned float32: the value cannot be judged either.
            out_of_range += 1;
            if !got[0].is_finite() {
                out_of_range_nonfinite.push(format!("{label}: {}", got[0]));
            }
            continue;
        }
        let tol = 256.0 * eps(single) * (1.0 + density_magnitude(&case.logits, case.tau, &case.y));
        o.n += 1;
        let mut one = Outcome::default();
        compare_points(&mut one, &label, &got, &[case.ln_pdf], &[tol]);
        o.max_tolerance = o.max_tolerance.max(one.max_tolerance);
        off.extend(one.fails);
    }
    if !off.is_empty() {
        let shown = off.len().min(3);
        o.fails.push(format!(
            "{} of {} cases off, e.g. {}",
            off.len(),
            o.n,
            off[..shown].join("; ")
        ));
    }
    if out_of_range > 0 {
        o.notes.push(format!(
            "{out_of_range} cases outside float32's range not judged"
        ));
    }
    if !out_of_range_nonfinite.is_empty() {
        o.warns.push(format!(
            "{} of {out_of_range} cases outside float32's range gave non-finite values, e.g. {}",
            out_of_range_nonfinite.len(),
            out_of_range_nonfinite[0]
        ));
    }
    if o.fails.is_empty() {
        o.notes.push(format!("{} cases agree with the oracle", o.n));
    }
    Ok(o)
}

/// `log_prob.shift` (exact): the target's own `relaxed_log_prob` at the fixed points is the
/// same for logits `l` and `l + 3.7` and `l - 2.5` (the density depends on `π` only), within
/// the pointwise tolerance.
fn log_prob_shift(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedLogProb)?;
    let mut o = Outcome::new("exact: |lp(l + c) - lp(l)| ≤ 256 ε (1 + M), c = 3.7 and -2.5");
    for (l, tau, y) in density_points().map_err(internal)? {
        let k = l.len();
        let m = y.len() / k;
        let case = format!("k = {k}, τ = {tau}");
        let Ok(base) = valid(ctx.target.relaxed_log_prob(&l, tau, &y), &case)? else {
            o.fails.push(format!("{case}: valid input rejected"));
            continue;
        };
        let single = is_f32(&base) || ctx.f32();
        let base = floats(&base, &[m], "relaxed_log_prob")?;
        for c in [3.7, -2.5] {
            let shifted: Vec<f64> = l.iter().map(|v| v + c).collect();
            let Ok(a) = valid(ctx.target.relaxed_log_prob(&shifted, tau, &y), &case)? else {
                o.fails
                    .push(format!("{case}, shift {c}: valid input rejected"));
                continue;
            };
            let got = floats(&a, &[m], "relaxed_log_prob")?;
            let tols: Vec<f64> = y
                .chunks_exact(k)
                .map(|row| {
                    256.0 * eps(single) * (1.0 + density_magnitude(&shifted, tau, row) + c.abs())
                })
                .collect();
            o.n += m as u64;
            compare_points(&mut o, &format!("{case}, shift {c}"), &got, &base, &tols);
        }
    }
    if o.fails.is_empty() {
        o.notes.push("invariant at every point".into());
    }
    Ok(o)
}

/// `log_prob.own_samples`: for k = 2 (logits (0.4, -0.3), τ = 0.5) the target's density is
/// integrated in logit space `s = ln(y_0/y_1)` on a grid of 6001 points over `[-60, 60]`
/// (trapezoid, `dy_0 = y_0 y_1 ds`): (exact) the mass is 1 within 1e-6 (float64) or 1e-4
/// (float32); and its CDF is the law of the target's own `relaxed_n` samples (KS, n = 10⁵ at
/// standard; detects a CDF discrepancy ≈ 0.013 at α_i). A sampler and density that disagree
/// fail, whichever of the two is wrong; the ExpConcrete convention integrates to about 0.675.
fn log_prob_own_samples(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::RelaxedLogProb)?;
    ctx.require(Op::RelaxedSample)?;
    let (l, tau) = (vec![0.4, -0.3], 0.5);
    let mut o =
        Outcome::new("exact: ∫p = 1 ± tol(dtype); KS of own samples vs the CDF of own density");
    let grid: Vec<f64> = (0..=6000).map(|j| -60.0 + 0.02 * j as f64).collect();
    let y: Vec<f64> = grid
        .iter()
        .flat_map(|&s| [sigmoid(s), sigmoid(-s)])
        .collect();
    let lp = match valid(ctx.target.relaxed_log_prob(&l, tau, &y), "grid")? {
        Ok(a) => a,
        Err(msg) => {
            o.fails.push(msg);
            return Ok(o);
        }
    };
    let single = is_f32(&lp) || ctx.f32();
    let lp = floats(&lp, &[grid.len()], "relaxed_log_prob")?;
    let nan = lp
        .iter()
        .filter(|v| v.is_nan() || **v == f64::INFINITY)
        .count();
    if nan > 0 {
        let msg = format!(
            "density NaN or +inf at {nan} of {} interior grid points",
            grid.len()
        );
        if single {
            o.warns.push(msg + " (float32; treated as 0)");
        } else {
            o.fails.push(msg);
        }
    }
    // Integrand in s: p(y(s)) y_0 y_1, in log space.
    let f: Vec<f64> = lp
        .iter()
        .zip(&grid)
        .map(|(&v, &s)| {
            if v.is_finite() {
                (v + crate::numeric::ln_sigmoid(s) + crate::numeric::ln_sigmoid(-s)).exp()
            } else {
                0.0
            }
        })
        .collect();
    let mut cdf = vec![0.0; f.len()];
    for j in 1..f.len() {
        cdf[j] = cdf[j - 1] + 0.01 * (f[j] + f[j - 1]);
    }
    let mass = cdf[cdf.len() - 1];
    let tol = if single { 1e-4 } else { 1e-6 };
    if mass.is_nan() || (mass - 1.0).abs() > tol {
        o.fails.push(format!(
            "the density integrates to {mass:.6}, not 1 (tolerance {tol:e})"
        ));
    } else {
        o.notes.push(format!("∫p = {mass:.8}"));
    }
    let Ok((samples, _)) = valid(ctx.relaxed(&l, tau), "relaxed_sample")? else {
        o.fails.push("valid relaxed_sample rejected".into());
        return Ok(o);
    };
    let mut data = Vec::new();
    let mut left_out = 0;
    for row in samples.chunks_exact(2) {
        if row[0] > 0.0 && row[1] > 0.0 && row.iter().all(|v| v.is_finite()) {
            data.push(row[0].ln() - row[1].ln());
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        o.warns
            .push(format!("{left_out} own samples on the boundary left out"));
    }
    if mass > 0.0 && !data.is_empty() {
        let cdf_at = |s: f64| -> f64 {
            if s <= grid[0] {
                return 0.0;
            }
            if s >= grid[grid.len() - 1] {
                return 1.0;
            }
            let pos = (s - grid[0]) / 0.02;
            let j = (pos.floor() as usize).min(grid.len() - 2);
            let t = pos - j as f64;
            (((1.0 - t) * cdf[j] + t * cdf[j + 1]) / mass).clamp(0.0, 1.0)
        };
        let r = ks_one_sample(&data, cdf_at).map_err(internal)?;
        o.p_value = Some(r.p_value);
        o.power = Some(Power::Dkwm {
            n: data.len() as u64,
            parts: 1,
        });
        o.notes.push(format!(
            "own samples vs own density: D = {:.5}, p = {}",
            r.statistic,
            fmt_p(r.p_value)
        ));
    }
    o.n = data.len() as u64;
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Binary Concrete

const BINARY_CASES: [(f64, f64); 2] = [(0.7, 0.5), (-2.0, 2.0)];

/// `binary.cdf`: `binary_n` samples (10⁵ at standard) at (l, τ) = (0.7, 0.5) and (-2, 2):
/// (exact) finite and in `[0, 1]` (exactly 0 or 1 is saturation: `warn`); KS against the
/// closed-form CDF `σ(τ logit(x) - l)` (MATH §1), Bonferroni over 2. Detects a CDF discrepancy
/// ≈ 0.0133 at standard.
fn binary_cdf(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::BinarySample)?;
    let n = ctx.plan.binary_n;
    let mut o = Outcome::new("exact: 0 ≤ x ≤ 1; KS vs σ(τ logit(x) - l), Bonferroni over 2");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for (l, tau) in BINARY_CASES {
        let seed = ctx.next_seed();
        let case = format!("l = {l}, τ = {tau}");
        let a = match valid(ctx.target.binary_sample(l, tau, n, seed), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let x = floats(&a, &[n], "binary_sample")?;
        let bad = x
            .iter()
            .filter(|v| !(v.is_finite() && (0.0..=1.0).contains(*v)))
            .count();
        let edge = x.iter().filter(|&&v| v == 0.0 || v == 1.0).count();
        if bad > 0 {
            o.fails
                .push(format!("{case}: {bad} values not finite or outside [0, 1]"));
        }
        if edge > 0 {
            // An exact sampler rounds σ(t) to 1 once 1 + e^-t rounds to 1 (t > 53 ln 2 in
            // float64, 24 ln 2 in float32) and to 0 once e^t underflows (t < -744.4 / -103.3):
            // with L ~ Logistic, P = σ(l - τ t_hi) + σ(τ t_lo - l). Saturation at about that
            // rate is what a correct sampler in this dtype gives (a note); more is a warn.
            let single = is_f32(&a) || ctx.f32();
            let (t_hi, t_lo) = if single {
                (24.0 * std::f64::consts::LN_2, -103.3)
            } else {
                (53.0 * std::f64::consts::LN_2, -744.4)
            };
            let q = (sigmoid(l - tau * t_hi) + sigmoid(tau * t_lo - l)).min(1.0);
            let expected = n as f64 * q;
            let p_more = binomial_test(edge as u64, n as u64, q, Alternative::Greater)
                .map(|r| r.p_value)
                .unwrap_or(0.0);
            let msg = format!(
                "{case}: {edge} values saturated to exactly 0 or 1 (an exact sampler rounded to \
                 {} expects {expected:.2e}; P(≥ {edge}) = {})",
                if single { "float32" } else { "float64" },
                fmt_p(p_more)
            );
            if p_more < 1e-3 {
                o.warns.push(msg);
            } else {
                o.notes.push(msg);
            }
        }
        let data: Vec<f64> = x
            .into_iter()
            .filter(|v| v.is_finite() && (0.0..=1.0).contains(v))
            .collect();
        if data.is_empty() {
            continue;
        }
        o.n += data.len() as u64;
        let b = BinaryConcrete::new(l, tau).map_err(internal)?;
        let cdf = |v: f64| {
            if v <= 0.0 {
                0.0
            } else if v >= 1.0 {
                1.0
            } else {
                b.cdf(v).unwrap_or(f64::NAN)
            }
        };
        let r = ks_one_sample(&data, cdf).map_err(internal)?;
        ps.push(r.p_value);
        o.notes.push(format!(
            "{case}: D = {:.5}, p = {}",
            r.statistic,
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            worst = Some((
                r.p_value,
                Figure::Qq {
                    title: format!("binary Concrete {case}: observed vs closed-form quantiles"),
                    points: qq_points(&data, |p| b.quantile(p).unwrap_or(f64::NAN)),
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Dkwm {
            n: n as u64,
            parts: 2,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// `binary.log_prob` (exact): the binary Concrete log density at x ∈ {0.01, 0.2, 0.5, 0.8,
/// 0.999} for both cases against [`BinaryConcrete::ln_pdf`], within `256 ε (1 + M)`.
fn binary_log_prob(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::BinaryLogProb)?;
    let xs = [0.01, 0.2, 0.5, 0.8, 0.999];
    let mut o = Outcome::new("exact: |lp - lp_ref| ≤ 256 ε (1 + M) at fixed points");
    for (l, tau) in BINARY_CASES {
        let case = format!("l = {l}, τ = {tau}");
        let a = match valid(ctx.target.binary_log_prob(l, tau, &xs), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let single = is_f32(&a) || ctx.f32();
        let got = floats(&a, &[xs.len()], "binary_log_prob")?;
        let b = BinaryConcrete::new(l, tau).map_err(internal)?;
        let mut want = Vec::new();
        let mut tols = Vec::new();
        for &x in &xs {
            want.push(b.ln_pdf(x).map_err(internal)?);
            let (lx, l1x) = (x.ln().abs(), (1.0 - x).ln().abs());
            let m = tau.ln().abs() + 3.0 * l.abs() + (3.0 * tau + 1.0) * (lx + l1x) + 2.0;
            tols.push(256.0 * eps(single) * (1.0 + m));
        }
        o.n += xs.len() as u64;
        if compare_points(&mut o, &case, &got, &want, &tols) == 0 {
            o.notes.push(format!("{case}: {} points agree", xs.len()));
        }
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Gradients

/// The k = 3 gradient setting.
const GRAD_LOGITS: [f64; 3] = [0.5, -0.3, 0.1];
const GRAD_TARGET: [f64; 3] = [0.2, 0.5, 0.3];
/// The k = 2 setting (quadrature truth): `f(z) = Σ (z_i - t_i)²`.
const K2_LOGITS: [f64; 2] = [0.25, -0.25];
const K2_TARGET: [f64; 2] = [0.45, 0.55];
/// Temperature of the k = 2 variance comparison and of most relaxed gradient cases.
const GRAD_TAU: f64 = 0.5;
/// Conditional draws of Gumbel-Rao.
const GR_DRAWS: usize = 4;

fn grad_rows(
    ctx: &mut Ctx,
    estimator: &str,
    logits: &[f64],
    target: &[f64],
    tau: f64,
    reference: bool,
) -> Result<Result<Vec<f64>, String>, TargetError> {
    let seed = ctx.next_seed();
    let n = ctx.plan.grad_n;
    let mut req = GradRequest::new(
        estimator,
        logits.to_vec(),
        tau,
        ObjectiveSpec::Quadratic(target.to_vec()),
        n,
        seed,
    );
    if estimator == "gumbel_rao" {
        req.m = Some(GR_DRAWS);
    }
    let r = if reference {
        ReferenceTarget::new().grad(&req)
    } else {
        ctx.target.grad(&req)
    };
    match valid(r, estimator)? {
        Ok(a) => Ok(Ok(floats(&a, &[n, logits.len()], "grad")?)),
        Err(m) => Ok(Err(m)),
    }
}

/// Exact criterion on rows: finite, summing to zero within `64 ε (1 + Σ|row|)`.
fn check_rows(o: &mut Outcome, case: &str, rows: &[f64], k: usize, single: bool) -> Vec<Vec<f64>> {
    let mut good = Vec::new();
    let (mut nonfinite, mut sums) = (0, 0);
    for row in rows.chunks_exact(k) {
        if row.iter().any(|v| !v.is_finite()) {
            nonfinite += 1;
            continue;
        }
        let s: f64 = row.iter().sum();
        let scale: f64 = row.iter().map(|v| v.abs()).sum();
        if s.abs() > 64.0 * eps(single) * (1.0 + scale) {
            sums += 1;
        }
        good.push(row.to_vec());
    }
    if nonfinite > 0 {
        o.fails.push(format!("{case}: {nonfinite} rows not finite"));
    }
    if sums > 0 {
        o.fails.push(format!(
            "{case}: {sums} rows do not sum to 0 (shift invariance)"
        ));
    }
    good
}

fn hotelling_vs(
    o: &mut Outcome,
    case: &str,
    rows: &[Vec<f64>],
    mu: &[f64],
) -> Result<Option<f64>, TargetError> {
    if rows.len() < mu.len() + 1 {
        o.fails.push(format!("{case}: too few finite rows"));
        return Ok(None);
    }
    match hotelling_one_sample(rows, mu, Coordinates::DropLast) {
        Ok(r) => {
            let mean: Vec<String> = r
                .mean_difference
                .iter()
                .map(|d| format!("{d:+.5}"))
                .collect();
            o.notes.push(format!(
                "{case}: mean - truth = [{}], p = {}",
                mean.join(", "),
                fmt_p(r.p_value)
            ));
            Ok(Some(r.p_value))
        }
        Err(Error::SingularCovariance { .. }) => {
            // No spread: the rows are (almost) constant; compare the mean exactly.
            let k = mu.len();
            let mean: Vec<f64> = (0..k)
                .map(|i| rows.iter().map(|r| r[i]).sum::<f64>() / rows.len() as f64)
                .collect();
            let off = mean
                .iter()
                .zip(mu)
                .any(|(a, b)| (a - b).abs() > 1e-9 * (1.0 + b.abs()));
            if off {
                o.fails.push(format!(
                    "{case}: constant rows with mean {mean:?}, truth {mu:?}"
                ));
            }
            Ok(None)
        }
        Err(e) => Err(internal(e)),
    }
}

fn hotelling_vs_reference(
    o: &mut Outcome,
    case: &str,
    rows: &[Vec<f64>],
    reference: &[f64],
    k: usize,
) -> Result<Option<f64>, TargetError> {
    let refs: Vec<Vec<f64>> = reference.chunks_exact(k).map(|r| r.to_vec()).collect();
    if rows.len() < k + 1 {
        o.fails.push(format!("{case}: too few finite rows"));
        return Ok(None);
    }
    let r = hotelling_two_sample(rows, &refs, Coordinates::DropLast).map_err(internal)?;
    let mean: Vec<String> = r
        .mean_difference
        .iter()
        .map(|d| format!("{d:+.5}"))
        .collect();
    o.notes.push(format!(
        "{case}: mean - reference mean = [{}], p = {}",
        mean.join(", "),
        fmt_p(r.p_value)
    ));
    Ok(Some(r.p_value))
}

fn estimator(ctx: &mut Ctx, name: &str) -> Result<(), TargetError> {
    if ctx.caps.offers_estimator(name) {
        Ok(())
    } else {
        ctx.missing = Some(format!("estimator {name}"));
        Err(TargetError::Unsupported)
    }
}

fn k2_truth() -> Result<(Logits, Objective), TargetError> {
    Ok((
        Logits::from_slice(&K2_LOGITS).map_err(internal)?,
        Objective::quadratic(K2_TARGET.to_vec()).map_err(internal)?,
    ))
}

/// `grad.reinforce`: `grad_n` rows (2·10⁴ at standard) of `reinforce` at k = 3 (logits
/// (0.5, -0.3, 0.1), `f(z) = Σ(z_i - t_i)²`) and at the k = 2 setting, each against the exact
/// gradient `π_j (f(e_j) - L)` by one-sample Hotelling T² (last coordinate dropped: rows sum
/// to 0), Bonferroni over 2; (exact) rows finite and summing to 0. Detects a mean shift of
/// ≈ 0.053 standard deviations at standard. Catches a sign error, a missing `-π` term, an
/// unnormalised score.
fn grad_reinforce(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::Grad)?;
    estimator(ctx, "reinforce")?;
    let mut o = Outcome::new(
        "Hotelling T² of rows vs exact ∇L (k = 3 and k = 2), Bonferroni over 2; exact: Σ row = 0",
    );
    let single = ctx.f32();
    let mut ps = Vec::new();
    for (l, t) in [
        (GRAD_LOGITS.to_vec(), GRAD_TARGET.to_vec()),
        (K2_LOGITS.to_vec(), K2_TARGET.to_vec()),
    ] {
        let k = l.len();
        let case = format!("k = {k}");
        let rows = match grad_rows(ctx, "reinforce", &l, &t, 1.0, false)? {
            Ok(r) => r,
            Err(m) => {
                o.fails.push(m);
                continue;
            }
        };
        let good = check_rows(&mut o, &case, &rows, k, single);
        o.n += good.len() as u64;
        let lg = Logits::from_slice(&l).map_err(internal)?;
        let f = Objective::quadratic(t.clone()).map_err(internal)?;
        let exact = f.exact_gradient(&lg).map_err(internal)?;
        if let Some(p) = hotelling_vs(&mut o, &case, &good, &exact)? {
            ps.push(p);
        }
        if k == 2 {
            ctx.k2_rows
                .push(("reinforce".into(), good.iter().map(|r| r[0]).collect()));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Mean {
            p: 2,
            n: ctx.plan.grad_n as u64,
            parts: 2,
        });
    }
    Ok(o)
}

/// `grad.gumbel_softmax`: `grad_n` rows at the k = 2 setting for τ = 0.5 and 2 against the
/// gradient of the relaxed objective `∇L_τ` by k = 2 quadrature (error < 1e-10,
/// [`TwoCategory`]), one-sample t (Hotelling on one coordinate); and at k = 3, τ = 0.5 against
/// as many reference rows by two-sample Hotelling; Bonferroni over 3; (exact) rows finite and
/// summing to 0. Detects a mean shift ≈ 0.052 standard deviations (one sample) at standard.
/// Catches a missing `1/τ` (the mean scales by τ).
fn grad_gumbel_softmax(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    relaxed_estimator(ctx, "gumbel_softmax", &[GRAD_TAU, 2.0])
}

/// `grad.straight_through`: as `grad.gumbel_softmax` for `straight_through` at τ = 0.5: the k = 2
/// mean against the quadrature mean of the straight-through row, and the k = 3 mean against
/// the reference's rows (two-sample Hotelling); Bonferroni over 2. The forward value (the
/// one-hot of the argmax) is checked by `relaxed.hard`.
fn grad_straight_through(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    relaxed_estimator(ctx, "straight_through", &[GRAD_TAU])
}

/// `grad.gumbel_rao` (if offered): `m = 4`; its mean equals the straight-through mean (the
/// quadrature truth at k = 2), and at k = 3 the reference's; Bonferroni over 2.
fn grad_gumbel_rao(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    relaxed_estimator(ctx, "gumbel_rao", &[GRAD_TAU])
}

fn relaxed_estimator(ctx: &mut Ctx, name: &str, taus: &[f64]) -> Result<Outcome, TargetError> {
    ctx.require(Op::Grad)?;
    estimator(ctx, name)?;
    let mut o = Outcome::new(format!(
        "t test of k = 2 rows vs quadrature truth at τ = {taus:?}; two-sample Hotelling vs reference at k = 3; Bonferroni; exact: Σ row = 0"
    ));
    let single = ctx.f32();
    let mut ps = Vec::new();
    let (lg, f) = k2_truth()?;
    for &tau in taus {
        let case = format!("k = 2, τ = {tau}");
        let rows = match grad_rows(ctx, name, &K2_LOGITS, &K2_TARGET, tau, false)? {
            Ok(r) => r,
            Err(m) => {
                o.fails.push(m);
                continue;
            }
        };
        let good = check_rows(&mut o, &case, &rows, 2, single);
        o.n += good.len() as u64;
        let truth = TwoCategory::new(&lg, tau, &f).map_err(internal)?;
        let mean = if name == "gumbel_softmax" {
            truth.gumbel_softmax_moments().mean
        } else {
            truth.straight_through_moments().mean
        };
        if let Some(p) = hotelling_vs(&mut o, &case, &good, &mean)? {
            ps.push(p);
        }
        if tau == GRAD_TAU {
            ctx.k2_rows
                .push((name.to_string(), good.iter().map(|r| r[0]).collect()));
        }
    }
    let case = format!("k = 3, τ = {GRAD_TAU}");
    match grad_rows(ctx, name, &GRAD_LOGITS, &GRAD_TARGET, GRAD_TAU, false)? {
        Ok(rows) => {
            let good = check_rows(&mut o, &case, &rows, 3, single);
            o.n += good.len() as u64;
            let reference = grad_rows(ctx, name, &GRAD_LOGITS, &GRAD_TARGET, GRAD_TAU, true)?
                .map_err(|m| TargetError::Fault(format!("reference: {m}")))?;
            if let Some(p) = hotelling_vs_reference(&mut o, &case, &good, &reference, 3)? {
                ps.push(p);
            }
        }
        Err(m) => o.fails.push(m),
    }
    if !ps.is_empty() {
        let parts = ps.len();
        o.combine(&ps);
        o.power = Some(Power::Mean {
            p: 1,
            n: ctx.plan.grad_n as u64,
            parts,
        });
    }
    Ok(o)
}

/// `grad.variance`: the variance of `∂/∂a` (k = 2 setting, τ = 0.5) of every estimator offered,
/// from the rows of the checks above, against its exact value (REINFORCE: the exact
/// covariance) or its quadrature value (Gumbel-Softmax, straight-through, Gumbel-Rao with
/// m = 4): `z = (s² - σ²) / √((m₄ - s⁴)/n)` with the sample fourth central moment `m₄`
/// (kurtosis-aware, asymptotically N(0, 1)), two-sided, Bonferroni over the estimators. The
/// detail lists each estimator's variance beside REINFORCE's exact variance. Catches a
/// baseline or a scale applied where none belongs. Detects a relative variance error ≈ 0.06
/// at standard. Asymptotic: over 200 seeds at quick (n = 4000 rows) 5 runs had p < 0.01
/// (2 expected), none below 6.8e-4 (docs/audit.md).
fn grad_variance(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    ctx.require(Op::Grad)?;
    if ctx.k2_rows.is_empty() {
        ctx.missing = Some("rows from an offered estimator (none was usable)".into());
        return Err(TargetError::Unsupported);
    }
    let mut o = Outcome::new(
        "kurtosis-aware z test of each sample variance vs exact/quadrature variance, Bonferroni",
    );
    let (lg, f) = k2_truth()?;
    let truth = TwoCategory::new(&lg, GRAD_TAU, &f).map_err(internal)?;
    let reinforce_exact = f.reinforce_covariance(&lg, 0.0).map_err(internal)?[(0, 0)];
    o.notes.push(format!(
        "REINFORCE exact variance {reinforce_exact:.6} (k = 2, no baseline)"
    ));
    let mut ps = Vec::new();
    let mut max_rel_se = 0.0f64;
    for (name, r) in ctx.k2_rows.clone() {
        let exact = match name.as_str() {
            "reinforce" => reinforce_exact,
            "gumbel_softmax" => truth.gumbel_softmax_moments().scalar_variance(),
            "straight_through" => truth.straight_through_moments().scalar_variance(),
            _ => truth
                .gumbel_rao_moments(GR_DRAWS)
                .map_err(internal)?
                .scalar_variance(),
        };
        let n = r.len() as f64;
        if n < 10.0 {
            continue;
        }
        let mean = r.iter().sum::<f64>() / n;
        let s2 = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let m4 = r.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
        let se = ((m4 - s2 * s2).max(0.0) / n).sqrt();
        o.n += r.len() as u64;
        let p = if se > 0.0 {
            chi2_sf(((s2 - exact) / se).powi(2), 1.0)
        } else if (s2 - exact).abs() <= 1e-12 * (1.0 + exact) {
            1.0
        } else {
            0.0
        };
        if exact > 0.0 {
            max_rel_se = max_rel_se.max(se / exact);
        }
        ps.push(p);
        o.notes.push(format!(
            "{name}: variance {s2:.6} (expected {exact:.6}; ratio to REINFORCE's exact {:.3}), p = {}",
            s2 / reinforce_exact,
            fmt_p(p)
        ));
    }
    if !ps.is_empty() {
        let parts = ps.len();
        o.combine(&ps);
        o.power = Some(Power::Variance {
            rel_se: max_rel_se,
            parts,
        });
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Bad input and reproducibility

/// `bad_input` (exact): invalid parameters sent on purpose (τ = 0, τ = -0.5, a NaN logit, all
/// logits `-inf`, k = 0) and the valid edge k = 1 to every op offered, 100 draws each. Pass:
/// a clear error ([`TargetError::Rejected`]) or finite values (and for k = 1, the single
/// category). Fail: NaN or inf returned silently (it propagates into training unseen).
fn bad_input(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("exact: Rejected, or finite values; never silent NaN/inf");
    let n = 100;
    let nan = f64::NAN;
    let ninf = f64::NEG_INFINITY;
    let l3 = [0.0, 1.0, -1.0];
    let mut rejected = 0;
    let mut finite = 0;
    let mut cases = 0;
    let mut judge = |o: &mut Outcome,
                     case: String,
                     r: Result<Array, TargetError>,
                     k1: Option<f64>|
     -> Result<(), TargetError> {
        cases += 1;
        match r {
            Err(TargetError::Rejected(_)) => {
                rejected += 1;
                Ok(())
            }
            Err(TargetError::Unsupported) => Ok(()),
            Err(e) => Err(e),
            Ok(a) => {
                let v = a.to_f64();
                let bad = v.iter().filter(|x| !x.is_finite()).count();
                if bad > 0 {
                    o.fails.push(format!(
                        "{case}: {bad} of {} values NaN or inf, returned without an error",
                        v.len()
                    ));
                } else if let Some(want) = k1 {
                    if v.iter().any(|&x| x != want) {
                        o.fails
                            .push(format!("{case}: k = 1 must always give {want}"));
                    } else {
                        finite += 1;
                    }
                } else {
                    finite += 1;
                }
                Ok(())
            }
        }
    };
    let caps = ctx.caps.clone();
    let offers = |op| caps.offers(op);
    if offers(Op::Categorical) {
        for (name, l) in [
            ("NaN logit", vec![0.0, nan, 1.0]),
            ("all masked", vec![ninf, ninf]),
            ("k = 0", vec![]),
        ] {
            let s = ctx.next_seed();
            let r = ctx.target.categorical(&l, n, s);
            judge(&mut o, format!("categorical {name}"), r, None)?;
        }
        let s = ctx.next_seed();
        let r = ctx.target.categorical(&[0.3], n, s);
        judge(&mut o, "categorical k = 1".into(), r, Some(0.0))?;
    }
    if offers(Op::RelaxedSample) {
        for (name, l, tau) in [
            ("τ = 0", l3.to_vec(), 0.0),
            ("τ = -0.5", l3.to_vec(), -0.5),
            ("NaN logit", vec![0.0, nan, 1.0], 0.5),
            ("all masked", vec![ninf, ninf, ninf], 0.5),
            ("k = 0", vec![], 0.5),
        ] {
            for hard in [false, true] {
                let s = ctx.next_seed();
                let r = ctx.target.relaxed_sample(&l, tau, hard, n, s);
                judge(
                    &mut o,
                    format!("relaxed_sample {name} hard={hard}"),
                    r,
                    None,
                )?;
            }
        }
        let s = ctx.next_seed();
        let r = ctx.target.relaxed_sample(&[0.3], 0.5, false, n, s);
        judge(&mut o, "relaxed_sample k = 1".into(), r, Some(1.0))?;
    }
    if offers(Op::RelaxedLogProb) {
        let y = [0.2, 0.3, 0.5];
        for (name, l, tau) in [
            ("τ = 0", l3.to_vec(), 0.0),
            ("τ = -0.5", l3.to_vec(), -0.5),
            ("NaN logit", vec![0.0, nan, 1.0], 0.5),
            ("all masked", vec![ninf, ninf, ninf], 0.5),
        ] {
            let r = ctx.target.relaxed_log_prob(&l, tau, &y);
            judge(&mut o, format!("relaxed_log_prob {name}"), r, None)?;
        }
    }
    if offers(Op::BinarySample) {
        for (name, l, tau) in [
            ("τ = 0", 0.3, 0.0),
            ("τ = -0.5", 0.3, -0.5),
            ("NaN logit", nan, 0.5),
        ] {
            let s = ctx.next_seed();
            let r = ctx.target.binary_sample(l, tau, n, s);
            judge(&mut o, format!("binary_sample {name}"), r, None)?;
        }
    }
    if offers(Op::BinaryLogProb) {
        for (name, l, tau) in [("τ = 0", 0.3, 0.0), ("NaN logit", nan, 0.5)] {
            let r = ctx.target.binary_log_prob(l, tau, &[0.3, 0.6]);
            judge(&mut o, format!("binary_log_prob {name}"), r, None)?;
        }
    }
    if offers(Op::Grad) {
        for est in ctx.caps.estimators.clone() {
            for (name, l, tau) in [
                ("τ = 0", l3.to_vec(), 0.0),
                ("NaN logit", vec![0.0, nan, 1.0], 0.5),
                ("all masked", vec![ninf, ninf, ninf], 0.5),
            ] {
                if est == "reinforce" && tau == 0.0 {
                    continue; // τ is ignored by REINFORCE
                }
                let s = ctx.next_seed();
                let mut req = GradRequest::new(
                    est.clone(),
                    l,
                    tau,
                    ObjectiveSpec::Linear(vec![1.0, 0.0, 0.5]),
                    n,
                    s,
                );
                if est == "gumbel_rao" {
                    req.m = Some(GR_DRAWS);
                }
                let r = ctx.target.grad(&req);
                judge(&mut o, format!("grad {est} {name}"), r, None)?;
            }
        }
    }
    if cases == 0 {
        return Err(TargetError::Unsupported);
    }
    o.n = cases as u64;
    o.notes.push(format!(
        "{cases} invalid or edge requests: {rejected} rejected with an error, {finite} answered with finite values"
    ));
    Ok(o)
}

/// `reproducibility` (exact): every sampling op offered, asked twice with the same seed and once
/// with another (1000 draws). Different seeds with identical output: `fail` (the seed is
/// ignored, fresh requests would repeat their samples). The same seed with different output:
/// `warn` (the protocol asks for reproducibility as a "should").
fn reproducibility(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("exact: f(S) == f(S) (warn if not); f(S) != f(S') (fail if equal)");
    let n = 1000;
    let l = RELAXED_LOGITS;
    let mut any = false;
    let ops = [
        Op::Gumbel,
        Op::Categorical,
        Op::RelaxedSample,
        Op::BinarySample,
    ];
    for op in ops {
        if !ctx.caps.offers(op) {
            continue;
        }
        let s1 = ctx.next_seed();
        let s2 = ctx.next_seed();
        // Relaxed samples in soft mode, or hard mode if the target offers only that (Pyro's
        // straight-through distribution); an op that turns out unsupported is left out.
        let mut hard = false;
        let mut call = |seed: u64, hard: bool| -> Result<Array, TargetError> {
            match op {
                Op::Gumbel => ctx.target.gumbel(n, seed),
                Op::Categorical => ctx.target.categorical(&l, n, seed),
                Op::RelaxedSample => ctx.target.relaxed_sample(&l, 0.5, hard, n, seed),
                _ => ctx.target.binary_sample(0.7, 0.5, n, seed),
            }
        };
        let first = match call(s1, false) {
            Err(TargetError::Unsupported) if op == Op::RelaxedSample => {
                hard = true;
                call(s1, true)
            }
            r => r,
        };
        if matches!(first, Err(TargetError::Unsupported)) {
            o.notes
                .push(format!("{}: not offered for these parameters", op.name()));
            continue;
        }
        let first = valid(first, op.name())?;
        let second = valid(call(s1, hard), op.name())?;
        let other = valid(call(s2, hard), op.name())?;
        any = true;
        let (a, b, c) = match (first, second, other) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            _ => {
                o.fails.push(format!("{}: valid input rejected", op.name()));
                continue;
            }
        };
        o.n += 3 * n as u64;
        let same = |x: &Array, y: &Array| {
            x.shape == y.shape
                && x.to_f64()
                    .iter()
                    .zip(y.to_f64().iter())
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        };
        // Output without finite values says nothing about the seed (all-NaN output is the
        // same for every seed); noise.finite and the other checks judge such output.
        let finite = |x: &Array| x.to_f64().iter().filter(|v| v.is_finite()).count();
        if finite(&a) < 2 || finite(&c) < 2 {
            o.notes.push(format!(
                "{}: seeds not judged: the output has fewer than 2 finite values",
                op.name()
            ));
        } else if same(&a, &c) {
            o.fails.push(format!(
                "{}: seeds {s1} and {s2} gave identical output (the seed is ignored)",
                op.name()
            ));
        }
        if !same(&a, &b) {
            o.warns.push(format!(
                "{}: the same seed {s1} gave different output (not reproducible)",
                op.name()
            ));
        }
    }
    if !any {
        return Err(TargetError::Unsupported);
    }
    if o.fails.is_empty() && o.warns.is_empty() {
        o.notes
            .push("same seed same output, different seeds different output".into());
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Running

/// Every check id in run order.
pub fn check_ids() -> Vec<&'static str> {
    CHECKS.iter().map(|c| c.0).chain([REPRO.0]).collect()
}

/// Runs the battery on `target`.
///
/// Calls `target.capabilities()` first and `target.finish()` last; `progress` is called before
/// each check and once at the end. Nothing is printed.
///
/// # Errors
/// Only when `capabilities()` fails (nothing can be audited then); every later failure of the
/// target is reported in its check (`error`, `fail` or `skipped`).
///
/// # Example
/// ```
/// use gumbel_audit::audit::{AuditOptions, Level, ReferenceTarget, Verdict, run_battery};
/// let options = AuditOptions::new(Level::Quick, 1, 1e-3).unwrap();
/// let report = run_battery(&mut ReferenceTarget::new(), &options, &mut |_| {}).unwrap();
/// assert_eq!(report.verdict, Verdict::Pass);
/// assert_eq!(report.exit_code(), 0);
/// ```
pub fn run_battery(
    target: &mut dyn Target,
    options: &AuditOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<AuditReport, TargetError> {
    let caps = target.capabilities()?;
    let mut ctx = Ctx {
        target,
        caps: caps.clone(),
        plan: options.level.plan(),
        seed_state: options.seed,
        cache: HashMap::new(),
        k2_rows: Vec::new(),
        missing: None,
    };
    let all: Vec<(&str, &str)> = CHECKS.iter().copied().chain([REPRO]).collect();
    let total = all.len();
    let mut raw: Vec<(String, String, Judged)> = Vec::new();
    for (done, (id, title)) in all.iter().enumerate() {
        progress(&Progress { done, total, id });
        ctx.missing = None;
        let outcome = check_fn(id)(&mut ctx);
        let outcome = match (outcome, ctx.missing.take()) {
            (Err(TargetError::Unsupported), Some(what)) => {
                Err((TargetError::Unsupported, format!("not offered: {what}")))
            }
            (Err(TargetError::Unsupported), None) => Err((
                TargetError::Unsupported,
                "the target answered 'unsupported' (or offers none of the ops this check needs)"
                    .to_string(),
            )),
            (Err(e), _) => Err((e, String::new())),
            (Ok(o), _) => Ok(o),
        };
        // Cached arrays are shared by a group of consecutive checks: free each group after
        // its last check, so memory stays bounded by a few requests' arrays.
        let prefix = match *id {
            "noise.tail" => "noise",
            "categorical.chi2" => "categorical",
            "log_prob.own_samples" => "relaxed",
            _ => "",
        };
        if !prefix.is_empty() {
            ctx.cache.retain(|k, _| !k.starts_with(prefix));
        }
        raw.push((id.to_string(), title.to_string(), outcome));
    }
    progress(&Progress {
        done: total,
        total,
        id: "",
    });
    let _ = ctx.target.finish();

    let ps: Vec<(usize, f64)> = raw
        .iter()
        .enumerate()
        .filter_map(|(i, (_, _, r))| r.as_ref().ok().and_then(|o| o.p_value).map(|p| (i, p)))
        .collect();
    let m = ps.len().max(1);
    let alpha_i = options.fwer / m as f64;
    let mut adjusted = vec![None; raw.len()];
    let mut rejected = vec![false; raw.len()];
    if !ps.is_empty() {
        let values: Vec<f64> = ps.iter().map(|&(_, p)| p).collect();
        let h = holm(&values, options.fwer).map_err(internal)?;
        for (j, &(i, _)) in ps.iter().enumerate() {
            adjusted[i] = Some(h.adjusted[j]);
            rejected[i] = h.reject[j];
        }
    }
    let mut checks = Vec::new();
    for (i, (id, title, r)) in raw.into_iter().enumerate() {
        let c = match r {
            Ok(o) => {
                let verdict = if !o.fails.is_empty() || rejected[i] {
                    Verdict::Fail
                } else if !o.warns.is_empty() {
                    Verdict::Warn
                } else {
                    Verdict::Pass
                };
                let mut detail: Vec<String> = Vec::new();
                if rejected[i] {
                    detail.push(format!(
                        "FAIL: Holm-adjusted p = {} < {}",
                        fmt_p(adjusted[i].unwrap_or(0.0)),
                        options.fwer
                    ));
                }
                detail.extend(o.fails.iter().map(|s| format!("FAIL: {s}")));
                detail.extend(o.warns.iter().map(|s| format!("WARN: {s}")));
                detail.extend(o.notes);
                CheckResult {
                    id,
                    title,
                    verdict,
                    p_value: o.p_value,
                    p_adjusted: adjusted[i],
                    n: o.n,
                    detail: detail.join("; "),
                    criterion: o.criterion,
                    false_alarm: if o.p_value.is_some() { alpha_i } else { 0.0 },
                    detectable: o.power.map(|p| p.describe(alpha_i)).unwrap_or_else(|| {
                        if o.max_tolerance > 0.0 {
                            format!(
                                "any value off by more than its tolerance (at most {:.1e})",
                                o.max_tolerance
                            )
                        } else {
                            "exact criterion: any violation".into()
                        }
                    }),
                    figure: o.figure,
                }
            }
            Err((e, why)) => {
                let (verdict, detail) = match e {
                    TargetError::Unsupported => (Verdict::Skipped, why),
                    TargetError::Rejected(m) => {
                        (Verdict::Fail, format!("valid input rejected: {m}"))
                    }
                    TargetError::Fault(m) => (Verdict::Error, format!("adapter fault: {m}")),
                };
                CheckResult {
                    id,
                    title,
                    verdict,
                    p_value: None,
                    p_adjusted: None,
                    n: 0,
                    detail,
                    criterion: String::new(),
                    false_alarm: 0.0,
                    detectable: String::new(),
                    figure: None,
                }
            }
        };
        checks.push(c);
    }
    let failed = checks
        .iter()
        .any(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error));
    Ok(AuditReport {
        implementation: caps.name,
        dtype: caps.dtype,
        level: options.level,
        seed: options.seed,
        fwer: options.fwer,
        ops: caps.ops,
        estimators: caps.estimators,
        verdict: if failed { Verdict::Fail } else { Verdict::Pass },
        checks,
    })
}
