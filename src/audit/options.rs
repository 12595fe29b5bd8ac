//! Options of an audit run: the sampling [`Level`], its sample sizes ([`Plan`]), the master seed,
//! the family-wise false-alarm rate, the [`Selection`] of checks (`--only`, `--skip`) and the
//! [`SampleBudget`] of the chunked checks (`--samples`).
//!
//! The number of workers (`--jobs`) is not an option of the audit: the report is the same for
//! every number of workers (`audit::pool`).

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
    /// Standard sizes for the checks that need their whole sample, and 10⁸–10⁹ draws for the
    /// chunked tail checks, reduced chunk by chunk (memory of one chunk per worker).
    Deep,
}

impl Level {
    /// Every level, smallest first.
    pub const ALL: [Level; 4] = [Level::Quick, Level::Standard, Level::Thorough, Level::Deep];

    /// `"quick"`, `"standard"`, `"thorough"` or `"deep"`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Quick => "quick",
            Level::Standard => "standard",
            Level::Thorough => "thorough",
            Level::Deep => "deep",
        }
    }

    /// The level called `name`, if any.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
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
                extremes_n: 1_000_000,
                binary_extremes_n: 400_000,
                rare_n: 200_000,
                hard_rare_n: 50_000,
                bands_n: 500,
                vocab_n: 15_000,
                vocab_deep_n: 0,
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
                extremes_n: 10_000_000,
                binary_extremes_n: 4_000_000,
                rare_n: 1_000_000,
                hard_rare_n: 250_000,
                bands_n: 2_000,
                vocab_n: 150_000,
                vocab_deep_n: 0,
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
                extremes_n: 50_000_000,
                binary_extremes_n: 20_000_000,
                rare_n: 5_000_000,
                hard_rare_n: 1_250_000,
                bands_n: 20_000,
                vocab_n: 150_000,
                vocab_deep_n: 0,
                chunk_n: CHUNK_N,
            },
            // The whole-sample checks at standard size (their memory is standard's), the
            // chunked tail count at 10⁸ draws beyond the 1 - 10⁻⁶ quantile (13.8; expected
            // count 100), 5·10⁸ Gumbel draws for the extremes beyond the float32 grid (50
            // expected beyond each 1e-7 quantile), 1.5·10⁸ draws per rare-category case and
            // 10⁵ draws from the k = 50,000 vocabulary (300 expected in its rarest band), 2·10⁸
            // binary Concrete draws (20 expected beyond each 1e-7 Logistic quantile). On the
            // reference with 2 workers the first three take about 21, 13 and 45 s.
            Level::Deep => Plan {
                tail_n: 100_000_000,
                tail_q: 1e-6,
                extremes_n: 500_000_000,
                binary_extremes_n: 200_000_000,
                rare_n: 150_000_000,
                hard_rare_n: 10_000_000,
                bands_n: 100_000,
                vocab_deep_n: 100_000,
                ..Level::Standard.plan()
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
    /// Gumbel draws of `noise.extremes` (chunked).
    pub extremes_n: u64,
    /// Binary Concrete draws of `binary.extremes` (chunked).
    pub binary_extremes_n: u64,
    /// Categorical draws per two-category case of `categorical.rare` (chunked).
    pub rare_n: u64,
    /// Hard relaxed rows per two-category case of `relaxed.hard_rare` (chunked).
    pub hard_rare_n: u64,
    /// Categorical draws from the k = 50,000 vocabulary of `categorical.bands` (chunked).
    pub bands_n: u64,
    /// Draws of the 16,385-token race of `tokens.vocab` (chunked; its 32,768-token Zipf row gets
    /// a quarter). The cost of a Gumbel-max or race sampler is `n·k` noise values, so thorough
    /// keeps standard's 1.5·10⁵ (docs/audit.md).
    pub vocab_n: u64,
    /// Draws of the 262,145-token race and the 131,072-token Zipf row of `tokens.vocab`
    /// (chunked; 0: not run, every level but deep).
    pub vocab_deep_n: u64,
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
    /// Draws per case of the chunked checks, where not the level's (`--samples`).
    pub samples: SampleBudget,
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
            samples: SampleBudget::default(),
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

    /// These options with the chunked checks' sample sizes set by `samples`.
    pub fn with_samples(mut self, samples: SampleBudget) -> Self {
        self.samples = samples;
        self
    }
}

/// Draws per case of the chunked checks (`audit::chunked`), overriding the level's: `--samples N`
/// for every chunked check, `--samples ID=N` for one (the per-check value wins).
///
/// Only chunked checks take a budget: their memory is one chunk whatever n. A check that needs
/// its whole sample keeps its level's size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SampleBudget {
    all: Option<u64>,
    per_check: Vec<(String, u64)>,
}

/// Largest `--samples` value: 10¹³ draws (a count far beyond any single run's time, far below
/// where `u64` counts or their `f64` sums lose integers).
pub const MAX_SAMPLES: u64 = 10_000_000_000_000;

impl SampleBudget {
    /// A budget: `all` for every chunked check, `per_check` (id, n) for the named ones.
    ///
    /// # Errors
    /// A message naming the rule: an id that is not a chunked check of the table, a size of 0
    /// or above [`MAX_SAMPLES`], or an id given twice.
    pub fn new(all: Option<u64>, per_check: Vec<(String, u64)>) -> Result<Self, String> {
        let chunked: Vec<&str> = crate::audit::checks::TABLE
            .iter()
            .filter(|c| c.chunked().is_some())
            .map(|c| c.id)
            .collect();
        for n in all.iter().chain(per_check.iter().map(|(_, n)| n)) {
            if *n == 0 || *n > MAX_SAMPLES {
                return Err(format!(
                    "sample size {n}: it must be at least 1 and at most {MAX_SAMPLES:e}"
                ));
            }
        }
        for (i, (id, _)) in per_check.iter().enumerate() {
            if !chunked.contains(&id.as_str()) {
                return Err(format!(
                    "'{id}' takes no sample size: only the chunked checks do ({})",
                    chunked.join(", ")
                ));
            }
            if per_check[..i].iter().any(|(other, _)| other == id) {
                return Err(format!("'{id}' is given a sample size twice"));
            }
        }
        Ok(SampleBudget { all, per_check })
    }

    /// The draws per case for the chunked check `id`, if the budget sets them.
    pub fn for_check(&self, id: &str) -> Option<u64> {
        self.per_check
            .iter()
            .find(|(c, _)| c == id)
            .map(|&(_, n)| n)
            .or(self.all)
    }

    /// Whether the budget leaves every check at its level's size.
    pub fn is_default(&self) -> bool {
        self.all.is_none() && self.per_check.is_empty()
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
            samples: SampleBudget::default(),
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
