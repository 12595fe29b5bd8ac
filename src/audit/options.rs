//! Options of an audit run: the sampling [`Level`], its sample sizes ([`Plan`]), the master seed,
//! the family-wise false-alarm rate and the [`Selection`] of checks (`--only`, `--skip`).

use crate::audit::checks::check_ids;
use crate::error::Error;

/// Draws per request of a chunked check (10^6 float64 values: 8 MB).
pub const CHUNK_N: usize = 1_000_000;

/// Default family-wise false-alarm rate of the battery.
pub const DEFAULT_FWER: f64 = 1e-3;

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
                tokens_n: 20_000,
                chunk_n: CHUNK_N,
            },
            Level::Standard => Plan {
                noise_n: 1_000_000,
                tail_n: 2_000_000,
                tail_q: 1e-5,
                categorical_n: 1_000_000,
                relaxed_n: 100_000,
                binary_n: 100_000,
                grad_n: 20_000,
                tokens_n: 100_000,
                chunk_n: CHUNK_N,
            },
            Level::Thorough => Plan {
                noise_n: 4_000_000,
                tail_n: 10_000_000,
                tail_q: 5e-6,
                categorical_n: 4_000_000,
                relaxed_n: 400_000,
                binary_n: 400_000,
                grad_n: 100_000,
                tokens_n: 400_000,
                chunk_n: CHUNK_N,
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
    /// Token draws per case of the `tokens.*` checks.
    pub tokens_n: usize,
    /// Largest number of draws in one request of a chunked check (module doc of
    /// `audit::checks`): what one chunk holds in memory.
    pub chunk_n: usize,
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
    /// Which checks run (all by default).
    pub selection: Selection,
}

impl AuditOptions {
    /// Options; `fwer` must lie in `(0, 1)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `fwer` outside `[MIN_FWER, 1)`.
    pub fn new(level: Level, seed: u64, fwer: f64) -> Result<Self, Error> {
        if !(MIN_FWER..1.0).contains(&fwer) {
            return Err(Error::InvalidParameter {
                name: "family-wise false-alarm rate",
                value: fwer,
                rule: "in [1e-300, 1): below about 1e-308 the per-check rates fwer/(checks·parts) \
                       are subnormal and the smallest detectable discrepancy overflows to inf or NaN",
            });
        }
        Ok(AuditOptions {
            level,
            seed,
            fwer,
            selection: Selection::all(),
        })
    }
}

/// Smallest family-wise false-alarm rate [`AuditOptions::new`] accepts: `1e-300`. The
/// per-check rates are `fwer / (checks · parts)`; below the smallest normal f64 (`2.2e-308`)
/// their reciprocals overflow, and the power computation (DKWM, χ²) gives `inf` or NaN. On the
/// whole quick battery the first `inf` appears at `fwer = 1e-306` (NaN at `5e-324`); `1e-305`
/// is still finite. `1e-300` keeps a factor 10⁵ of margin for a larger battery.
pub const MIN_FWER: f64 = 1e-300;

impl AuditOptions {
    /// These options with only the checks of `selection` run.
    pub fn with_selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }
}

impl Default for AuditOptions {
    /// Standard level, seed 0, `fwer = 1e-3`.
    fn default() -> Self {
        AuditOptions {
            level: Level::Standard,
            seed: 0,
            fwer: DEFAULT_FWER,
            selection: Selection::all(),
        }
    }
}

/// Which checks of the table run: `--only` (if given) minus `--skip`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    only: Option<Vec<String>>,
    skip: Vec<String>,
}

/// A selection naming a check that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCheck {
    /// The id given.
    pub id: String,
    /// Every valid id, in table order.
    pub valid: Vec<&'static str>,
}

impl std::fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown check id '{}': the valid ids are {}",
            self.id,
            self.valid.join(", ")
        )
    }
}

impl std::error::Error for UnknownCheck {}

impl Selection {
    /// Every check.
    pub fn all() -> Self {
        Selection::default()
    }

    /// The checks of `only` (every check if `None`) except those of `skip`.
    ///
    /// # Errors
    /// [`UnknownCheck`] for the first id that is not in the table, with the valid ids.
    ///
    /// # Example
    /// ```
    /// use gumbel_audit::audit::Selection;
    /// let s = Selection::new(Some(&["noise.cdf".to_string()]), &[]).unwrap();
    /// assert!(s.includes("noise.cdf") && !s.includes("noise.tail"));
    /// assert!(Selection::new(None, &["nois.cdf".to_string()]).is_err());
    /// ```
    pub fn new(only: Option<&[String]>, skip: &[String]) -> Result<Self, UnknownCheck> {
        let valid = check_ids();
        for id in only.unwrap_or(&[]).iter().chain(skip) {
            if !valid.contains(&id.as_str()) {
                return Err(UnknownCheck {
                    id: id.clone(),
                    valid,
                });
            }
        }
        Ok(Selection {
            only: only.map(<[String]>::to_vec),
            skip: skip.to_vec(),
        })
    }

    /// Whether the check `id` runs.
    pub fn includes(&self, id: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == id))
            && !self.skip.iter().any(|s| s == id)
    }

    /// Whether every check runs.
    pub fn is_all(&self) -> bool {
        self.only.is_none() && self.skip.is_empty()
    }
}
