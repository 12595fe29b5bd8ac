//! The audit's checks: one table ([`TABLE`]) with an entry per check, and one file per group
//! holding the check functions.
//!
//! # Notation
//! ```text
//! α          family-wise false-alarm rate of the battery (`fwer`, default 1e-3)
//! m          number of checks that produced a p-value
//! α_i        α/m: the level of Holm's first step, used for every stated power figure
//! n          sample size of a check (rows, draws or points; total over its cases)
//! parts      statistical tests inside one check, combined by Bonferroni: p = min(1, parts·min p)
//! ε          the dtype's epsilon (`audit::tolerance`)
//! ```
//!
//! # Error control
//! A check is either **statistical** (a p-value; the check's p-value is the Bonferroni
//! combination of its parts) or **exact** (a criterion that a correct implementation meets by
//! construction: finiteness, ranges, one-hot rows, pointwise values within a stated tolerance).
//! Holm's step-down procedure at `α` runs over the m check p-values (`audit::runner`), so the
//! probability that a correct implementation gets any statistical `fail` is at most `α` under
//! any dependence between checks; exact criteria add no false alarms. Every power figure
//! ("smallest detectable discrepancy") is computed at `α_i = α/m` and power 0.999.
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
//!   is `-inf` or NaN at such a boundary point are `warn` in every dtype; those rows are left
//!   out of the statistics that would need their logarithm, and the number left out is
//!   reported. NaN or `±inf` anywhere else is a `fail` in every dtype. Tolerances of pointwise
//!   comparisons scale with the dtype's epsilon (`audit::tolerance` holds every one, with its
//!   reason). The same seed giving different output is a `warn` (the protocol says "should");
//!   different seeds giving identical output is a `fail` (the samples of fresh requests would
//!   repeat).
//! - `skipped`: the op or estimator is not offered.
//! - `error`: the adapter failed ([`TargetError::Fault`]: crash, timeout, malformed reply,
//!   wrong shape or dtype). The check reports the message; the remaining checks still run.
//!
//! An audit in which no check got a verdict other than `skipped` tested nothing: it is an
//! error of the run (exit 2), never a pass (`audit::runner`).
//!
//! # The table
//! Each [`CheckSpec`] has the check's `id` (stable, used by `--only` / `--skip` and in
//! reports), its [`Group`] (the file its function lives in), a title, the ops it needs
//! ([`Needs`]), the [`Shared`] request groups it reads, and its function. The runner walks the
//! table in order; a check whose needs are not offered is `skipped` without being called.
//! **Adding a check** = one entry here + one function in its group's file (a whole check: a
//! `CheckFn`; a chunked check: a [`ChunkedCheck`] const with its cases, reduce and decide).
//!
//! # Seeds and chunks
//! A check's requests are numbered chunks of its own seed stream (`audit::seed`): the seed of
//! chunk `c` of check `id` is `request_seed(master, id, c)`, and a request shared by several
//! checks (the [`Shared`] groups) is seeded from its own stable key. Skipping a check moves no
//! other check's seeds; a check run alone gets the p-value it gets in the full battery.
//!
//! Which checks are chunked (`audit::chunked`: planned as cases and chunks, reduced per chunk to
//! integer counts and extremes, merged exactly, decided; memory of one chunk per worker, any
//! number of workers, `--samples` sets their n), and which need the whole sample:
//! ```text
//! chunked (Run::Chunked)
//!   noise.tail            count above the 1 - q quantile, NaN count, largest draw
//!   noise.extremes        counts beyond the 1e-7 and 1e-8 quantiles on both sides, NaN count,
//!                         smallest and largest draw (the float32 grid's ceiling, checks::ceilings)
//!   categorical.rare      count of category 1 of (0, -d) per d, indices out of range
//!   categorical.bands     counts per probability band of a k = 50,000 vocabulary (checks::bands)
//!   tokens.vocab          token draws per probability band of 16k-262k-token rows, draws past
//!                         the kept set (checks::vocab)
//!   relaxed.hard_rare     rows hot at category 1 of (0, -d) per d, rows not one-hot
//!   binary.extremes       counts beyond the Logistic's 1e-7 and 1e-8 tails at τ = 10, NaN and
//!                         out-of-range counts, smallest and largest sample
//! could be chunked (integer counts), drawn as one request per case today
//!   noise.finite, categorical.indices, categorical.chi2, relaxed.argmax, relaxed.simplex,
//!   relaxed.hard, binary.cdf's range and saturation counts
//! need the whole sample at these levels (exact KS / AD on raw draws, Hotelling's covariance)
//!   noise.cdf, relaxed.log_ratio, relaxed.vs_reference, log_prob.own_samples, binary.cdf,
//!   grad.* (rows: mean and covariance are sums, mergeable, but kept whole for now)
//! fixed small requests (no n to chunk)
//!   relaxed.hard_matches_soft, log_prob.*, binary.log_prob, bad_input, reproducibility
//! ```
//!
//! # Checks and sample sizes
//! [`TABLE`] lists the ids; [`Plan`](crate::audit::Plan) the sizes per level; each check's doc
//! comment (on its function) states what it tests, its n and the smallest discrepancy it
//! detects, and the report repeats these numbers for the run's `α_i`. The figures quoted in
//! the check docs are the standard level's with every op offered (m = 21, `α_i = 4.8e-5`);
//! docs/audit.md has the table for every level.
//!
//! # References
//! - S. Holm, *A simple sequentially rejective multiple test procedure*, Scand. J. Statist. 6
//!   (1979), <https://www.jstor.org/stable/4615733>.
//! - docs/design/math.md §2 (the exact laws tested) and §4 (the machinery).

pub(crate) mod bands;
pub(crate) mod binary;
pub(crate) mod categorical;
pub(crate) mod ceilings;
pub(crate) mod common;
pub(crate) mod grad;
pub(crate) mod log_prob;
pub(crate) mod noise;
pub(crate) mod precision;
pub(crate) mod range;
pub(crate) mod relaxed;
pub(crate) mod robustness;
pub(crate) mod tokens;
pub(crate) mod vocab;

pub use categorical::categorical_cases;
pub use tokens::{TokenCase, token_cases};

use crate::audit::chunked::ChunkedCheck;
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::outcome::Outcome;
use crate::audit::target::{Op, TargetError};

/// The function of a check that draws its whole sample itself.
pub(crate) type CheckFn = fn(&mut Ctx) -> Result<Outcome, TargetError>;

/// How a check runs.
#[derive(Clone, Copy)]
pub(crate) enum Run {
    /// One function, run on one target with the run's context (its sample held whole).
    Whole(CheckFn),
    /// Planned as chunks, reduced per chunk on any worker, merged, decided
    /// (`audit::chunked`).
    Chunked(ChunkedCheck),
}

/// The group of a check: the file its function lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Gumbel noise (`checks/noise.rs`).
    Noise,
    /// Categorical sampling (`checks/categorical.rs`).
    Categorical,
    /// Relaxed (Concrete) samples, soft and hard (`checks/relaxed.rs`).
    Relaxed,
    /// The Concrete log density (`checks/log_prob.rs`).
    LogProb,
    /// Binary Concrete samples and density (`checks/binary.rs`).
    Binary,
    /// Gradient estimators (`checks/grad.rs`).
    Grad,
    /// Relaxed and binary samples at the ends of the documented range (`checks/range.rs`).
    Range,
    /// Invalid input and reproducibility (`checks/robustness.rs`).
    Robustness,
    /// LLM token samplers (`checks/tokens.rs`).
    Tokens,
}

/// The ops a check needs before it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Every one of these ops (and, if given, this gradient estimator).
    All(&'static [Op], Option<&'static str>),
    /// At least one of these ops.
    Any(&'static [Op]),
}

/// One entry of the check table.
#[derive(Clone, Copy)]
pub struct CheckSpec {
    /// Stable identifier (`"noise.cdf"`, ...).
    pub id: &'static str,
    /// The group (file) of its function.
    pub group: Group,
    /// One line saying what is checked.
    pub title: &'static str,
    /// What the target must offer.
    pub needs: Needs,
    /// The shared request groups it reads (freed after the last selected check reading them).
    pub shares: &'static [Shared],
    pub(crate) run: Run,
}

impl CheckSpec {
    /// The chunked form of the check, if it is chunked (`audit::chunked`).
    pub fn chunked(&self) -> Option<&ChunkedCheck> {
        match &self.run {
            Run::Chunked(c) => Some(c),
            Run::Whole(_) => None,
        }
    }
}

impl std::fmt::Debug for CheckSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckSpec")
            .field("id", &self.id)
            .field("group", &self.group)
            .field("needs", &self.needs)
            .field("shares", &self.shares)
            .field("chunked", &self.chunked().is_some())
            .finish()
    }
}

const NONE: &[Shared] = &[];

/// The battery, in run order.
pub const TABLE: [CheckSpec; 35] = [
    CheckSpec {
        id: "noise.finite",
        group: Group::Noise,
        title: "Gumbel noise: every value finite",
        needs: Needs::All(&[Op::Gumbel], None),
        shares: &[Shared::Noise],
        run: Run::Whole(noise::noise_finite),
    },
    CheckSpec {
        id: "noise.cdf",
        group: Group::Noise,
        title: "Gumbel noise: KS and Anderson-Darling against exp(-exp(-x))",
        needs: Needs::All(&[Op::Gumbel], None),
        shares: &[Shared::Noise],
        run: Run::Whole(noise::noise_cdf),
    },
    CheckSpec {
        id: "noise.tail",
        group: Group::Noise,
        title: "Gumbel noise: far upper tail count",
        needs: Needs::All(&[Op::Gumbel], None),
        shares: NONE,
        run: Run::Chunked(noise::NOISE_TAIL),
    },
    CheckSpec {
        id: "noise.extremes",
        group: Group::Noise,
        title: "Gumbel noise: counts beyond the float32 grid (1e-7, 1e-8 tails), min and max",
        needs: Needs::All(&[Op::Gumbel], None),
        shares: NONE,
        run: Run::Chunked(noise::NOISE_EXTREMES),
    },
    CheckSpec {
        id: "categorical.indices",
        group: Group::Categorical,
        title: "categorical: integer indices in 0..k, never a masked category",
        needs: Needs::All(&[Op::Categorical], None),
        shares: &[Shared::Categorical],
        run: Run::Whole(categorical::categorical_indices),
    },
    CheckSpec {
        id: "categorical.chi2",
        group: Group::Categorical,
        title: "categorical: frequencies against π (incl. p = 1e-4, masked)",
        needs: Needs::All(&[Op::Categorical], None),
        shares: &[Shared::Categorical],
        run: Run::Whole(categorical::categorical_chi2),
    },
    CheckSpec {
        id: "categorical.rare",
        group: Group::Categorical,
        title: "categorical: rare category of (0, -d), d = 12, 15, 16, 17 (p = 6e-6 … 4e-8)",
        needs: Needs::All(&[Op::Categorical], None),
        shares: NONE,
        run: Run::Chunked(categorical::CATEGORICAL_RARE),
    },
    CheckSpec {
        id: "categorical.bands",
        group: Group::Categorical,
        title: "categorical: probability bands of a k = 50,000 Zipf vocabulary (tail p = 1e-7)",
        needs: Needs::All(&[Op::Categorical], None),
        shares: NONE,
        run: Run::Chunked(categorical::CATEGORICAL_BANDS),
    },
    CheckSpec {
        id: "relaxed.simplex",
        group: Group::Relaxed,
        title: "relaxed samples: on the simplex, masked entries 0",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: &[Shared::Relaxed],
        run: Run::Whole(relaxed::relaxed_simplex),
    },
    CheckSpec {
        id: "relaxed.argmax",
        group: Group::Relaxed,
        title: "relaxed samples: argmax follows π at τ = 0.1, 0.5, 1, 5",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: &[Shared::Relaxed],
        run: Run::Whole(relaxed::relaxed_argmax),
    },
    CheckSpec {
        id: "relaxed.log_ratio",
        group: Group::Relaxed,
        title: "relaxed samples: ln(y_i/y_j) is Logistic((l_i-l_j)/τ, 1/τ)",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: &[Shared::Relaxed],
        run: Run::Whole(relaxed::relaxed_log_ratio),
    },
    CheckSpec {
        id: "relaxed.vs_reference",
        group: Group::Relaxed,
        title: "relaxed samples: same law as the reference's (two-sample)",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: &[Shared::Relaxed],
        run: Run::Whole(relaxed::relaxed_vs_reference),
    },
    CheckSpec {
        id: "relaxed.hard",
        group: Group::Relaxed,
        title: "hard samples: one-hot rows whose category follows π",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: NONE,
        run: Run::Whole(relaxed::relaxed_hard),
    },
    CheckSpec {
        id: "relaxed.hard_matches_soft",
        group: Group::Relaxed,
        title: "hard samples: one-hot of the soft sample's argmax (same seed)",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: NONE,
        run: Run::Whole(relaxed::relaxed_hard_matches_soft),
    },
    CheckSpec {
        id: "relaxed.hard_rare",
        group: Group::Relaxed,
        title: "hard samples: rare category of (0, -d), d = 12, 15, 16, 17, at τ = 1",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: NONE,
        run: Run::Chunked(relaxed::RELAXED_HARD_RARE),
    },
    CheckSpec {
        id: "log_prob.pointwise",
        group: Group::LogProb,
        title: "relaxed_log_prob: equals the reference's at fixed points",
        needs: Needs::All(&[Op::RelaxedLogProb], None),
        shares: NONE,
        run: Run::Whole(log_prob::log_prob_pointwise),
    },
    CheckSpec {
        id: "log_prob.conformance",
        group: Group::LogProb,
        title: "relaxed_log_prob: the mpmath conformance vectors (fixtures/concrete.json)",
        needs: Needs::All(&[Op::RelaxedLogProb], None),
        shares: NONE,
        run: Run::Whole(log_prob::log_prob_conformance),
    },
    CheckSpec {
        id: "log_prob.shift",
        group: Group::LogProb,
        title: "relaxed_log_prob: invariant under logits + c",
        needs: Needs::All(&[Op::RelaxedLogProb], None),
        shares: NONE,
        run: Run::Whole(log_prob::log_prob_shift),
    },
    CheckSpec {
        id: "log_prob.own_samples",
        group: Group::LogProb,
        title: "relaxed_log_prob: integrates to 1 and fits its own samples",
        needs: Needs::All(&[Op::RelaxedLogProb, Op::RelaxedSample], None),
        shares: &[Shared::Relaxed],
        run: Run::Whole(log_prob::log_prob_own_samples),
    },
    CheckSpec {
        id: "binary.cdf",
        group: Group::Binary,
        title: "binary Concrete samples: in (0, 1), KS against σ(τ logit(x) - l)",
        needs: Needs::All(&[Op::BinarySample], None),
        shares: NONE,
        run: Run::Whole(binary::binary_cdf),
    },
    CheckSpec {
        id: "binary.log_prob",
        group: Group::Binary,
        title: "binary_log_prob: equals the closed form at fixed points",
        needs: Needs::All(&[Op::BinaryLogProb], None),
        shares: NONE,
        run: Run::Whole(binary::binary_log_prob),
    },
    CheckSpec {
        id: "binary.extremes",
        group: Group::Binary,
        title: "binary Concrete samples: counts beyond the 1e-7, 1e-8 Logistic tails at τ = 10",
        needs: Needs::All(&[Op::BinarySample], None),
        shares: NONE,
        run: Run::Chunked(binary::BINARY_EXTREMES),
    },
    CheckSpec {
        id: "relaxed.range",
        group: Group::Range,
        title: "relaxed samples at τ = 1e-3 and 1e3, |logits| up to 1e4, k = 1e5: finite, simplex, argmax law",
        needs: Needs::All(&[Op::RelaxedSample], None),
        shares: NONE,
        run: Run::Whole(range::relaxed_range),
    },
    CheckSpec {
        id: "binary.range",
        group: Group::Range,
        title: "binary samples at τ = 1e-3 and 1e3, |logit| up to 1e4: finite, in [0, 1], P(x > 1/2) = σ(l)",
        needs: Needs::All(&[Op::BinarySample], None),
        shares: NONE,
        run: Run::Whole(range::binary_range),
    },
    CheckSpec {
        id: "grad.reinforce",
        group: Group::Grad,
        title: "REINFORCE: unbiased for the exact gradient (Hotelling)",
        needs: Needs::All(&[Op::Grad], Some("reinforce")),
        shares: &[Shared::GradK2],
        run: Run::Whole(grad::grad_reinforce),
    },
    CheckSpec {
        id: "grad.gumbel_softmax",
        group: Group::Grad,
        title: "Gumbel-Softmax: unbiased for the relaxed objective's gradient",
        needs: Needs::All(&[Op::Grad], Some("gumbel_softmax")),
        shares: &[Shared::GradK2],
        run: Run::Whole(grad::grad_gumbel_softmax),
    },
    CheckSpec {
        id: "grad.straight_through",
        group: Group::Grad,
        title: "straight-through: mean equal to the reference's",
        needs: Needs::All(&[Op::Grad], Some("straight_through")),
        shares: &[Shared::GradK2],
        run: Run::Whole(grad::grad_straight_through),
    },
    CheckSpec {
        id: "grad.gumbel_rao",
        group: Group::Grad,
        title: "Gumbel-Rao: mean equal to straight-through's",
        needs: Needs::All(&[Op::Grad], Some("gumbel_rao")),
        shares: &[Shared::GradK2],
        run: Run::Whole(grad::grad_gumbel_rao),
    },
    CheckSpec {
        id: "grad.variance",
        group: Group::Grad,
        title: "estimator variances against their exact / quadrature values",
        needs: Needs::All(&[Op::Grad], None),
        shares: &[Shared::GradK2],
        run: Run::Whole(grad::grad_variance),
    },
    CheckSpec {
        id: "bad_input",
        group: Group::Robustness,
        title: "invalid input: a clear error or the correct limit, never silent NaN or a wrong law",
        needs: Needs::Any(&[
            Op::Categorical,
            Op::RelaxedSample,
            Op::RelaxedLogProb,
            Op::BinarySample,
            Op::BinaryLogProb,
            Op::Grad,
        ]),
        shares: NONE,
        run: Run::Whole(robustness::bad_input),
    },
    CheckSpec {
        id: "reproducibility",
        group: Group::Robustness,
        title: "same seed same output; different seeds different output",
        needs: Needs::Any(&[
            Op::Gumbel,
            Op::Categorical,
            Op::RelaxedSample,
            Op::BinarySample,
        ]),
        shares: NONE,
        run: Run::Whole(robustness::reproducibility),
    },
    CheckSpec {
        id: "tokens.support",
        group: Group::Tokens,
        title: "token samplers: every draw inside the exact kept set (boundary cases included)",
        needs: Needs::All(&[Op::TokenSample], None),
        shares: &[Shared::Tokens],
        run: Run::Whole(tokens::tokens_support),
    },
    CheckSpec {
        id: "tokens.law",
        group: Group::Tokens,
        title: "token samplers: frequencies against the exact truncated pmf",
        needs: Needs::All(&[Op::TokenSample], None),
        shares: &[Shared::Tokens],
        run: Run::Whole(tokens::tokens_law),
    },
    CheckSpec {
        id: "tokens.convention",
        group: Group::Tokens,
        title: "token samplers: canonical law, or which alternative convention is followed",
        needs: Needs::All(&[Op::TokenSample], None),
        shares: &[Shared::Tokens],
        run: Run::Whole(tokens::tokens_convention),
    },
    CheckSpec {
        id: "tokens.vocab",
        group: Group::Tokens,
        title: "token samplers: probability bands at vocabulary scale (16k-262k tokens, the float32 race floor)",
        needs: Needs::All(&[Op::TokenSample], None),
        shares: NONE,
        run: Run::Chunked(vocab::TOKENS_VOCAB),
    },
];

/// Every check id, in run order.
pub fn check_ids() -> Vec<&'static str> {
    TABLE.iter().map(|c| c.id).collect()
}

/// The table entry of `id`.
pub fn spec(id: &str) -> Option<&'static CheckSpec> {
    TABLE.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_shared_group_has_a_reader() {
        let ids = check_ids();
        let set: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(set.len(), ids.len());
        for g in [
            Shared::Noise,
            Shared::Categorical,
            Shared::Relaxed,
            Shared::GradK2,
            Shared::Tokens,
        ] {
            assert!(TABLE.iter().filter(|c| c.shares.contains(&g)).count() >= 2);
        }
    }

    #[test]
    fn every_check_needs_at_least_one_op() {
        for c in TABLE {
            match c.needs {
                Needs::All(ops, _) | Needs::Any(ops) => assert!(!ops.is_empty(), "{}", c.id),
            }
        }
        assert!(spec("noise.cdf").is_some() && spec("nois.cdf").is_none());
    }
}
