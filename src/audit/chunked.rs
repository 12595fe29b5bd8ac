//! Chunked checks: a check whose sample is drawn in chunks and reduced to integer counts and
//! extremes as each chunk arrives, so that its memory is one chunk whatever n (10⁸–10⁹ draws at
//! `--level deep`), its chunks can run on any number of workers (`audit::pool`) or machines, and
//! its result does not depend on how the chunks were spread.
//!
//! # Plan → reduce → merge → decide
//! ```text
//! plan     cases(plan, caps)        the check's cases: a request (op + parameters) and n each
//!          units                    case c of check id: chunks j = 0, 1, ... of at most
//!                                   B = max(1, ⌊chunk_n / w⌋) draws (w = values per draw: k for
//!                                   relaxed rows, categorical and token draws, else 1),
//!                                   seed = request_seed(master, s, j)
//!                                   with stream s = id (one unnamed case) or "id label"
//! reduce   reduce(case, array)      one chunk's array → Tally (counts, minima, maxima)
//! merge    Tally::merge             counts add, minima and maxima merge: exact, associative
//!                                   and commutative, so any order and any split give the same
//! decide   decide(plan, caps, ...)  the merged tallies of every case → the check's Outcome
//! ```
//!
//! A tally holds integers and extremes only (never a floating-point sum, whose value would
//! depend on the order of the merge), so the merged tally of a case is a pure function of
//! `(implementation, master seed, case)`.
//!
//! # Errors
//! A chunk whose request fails makes the whole check fail the way a whole check does
//! (`unsupported` → skipped, `rejected` → fail, `fault` → error). When several chunks fail,
//! the error of the first chunk in unit order is the check's (deterministic for any number of
//! workers: `audit::pool` runs every unit before the first failed one).

use crate::audit::checks::common::{floats, integers};
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::seed::request_seed;
use crate::audit::target::{Array, Capabilities, Op, Target, TargetError, TokenRequest};

/// The request of a chunked case (one op with fixed parameters; the chunk sets n and the seed).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `gumbel`: `[n]` standard Gumbel draws.
    Gumbel,
    /// `categorical`: `[n]` indices from Categorical(softmax(logits)).
    Categorical {
        /// The logits (`-inf` masks a category).
        logits: Vec<f64>,
    },
    /// `relaxed_sample`: `[n, k]` Concrete samples (one-hot rows with `hard`).
    Relaxed {
        /// The logits.
        logits: Vec<f64>,
        /// Temperature τ.
        tau: f64,
        /// The straight-through forward value (one-hot rows).
        hard: bool,
    },
    /// `token_sample`: `[n]` token ids of an LLM sampler; `n` and `seed` of the request are
    /// set per chunk (the request's own are ignored).
    Tokens(Box<TokenRequest>),
    /// `binary_sample`: `[n]` binary Concrete samples.
    Binary {
        /// The logit.
        logit: f64,
        /// Temperature τ.
        tau: f64,
    },
}

impl Request {
    /// The op of the request.
    pub fn op(&self) -> Op {
        match self {
            Request::Gumbel => Op::Gumbel,
            Request::Categorical { .. } => Op::Categorical,
            Request::Relaxed { .. } => Op::RelaxedSample,
            Request::Binary { .. } => Op::BinarySample,
            Request::Tokens(_) => Op::TokenSample,
        }
    }

    /// Values per draw: `k` for relaxed rows, categorical draws and token draws (an
    /// implementation such as `jax.random.categorical` or an exponential race materialises
    /// `n × k` noise), 1 otherwise.
    pub fn width(&self) -> usize {
        match self {
            Request::Relaxed { logits, .. } | Request::Categorical { logits } => {
                logits.len().max(1)
            }
            Request::Tokens(r) => r.logits.len().max(1),
            _ => 1,
        }
    }

    /// Asks `target` for `n` draws with `seed`.
    ///
    /// # Errors
    /// Whatever the target answers.
    pub fn draw(&self, target: &mut dyn Target, n: usize, seed: u64) -> Result<Array, TargetError> {
        match self {
            Request::Gumbel => target.gumbel(n, seed),
            Request::Categorical { logits } => target.categorical(logits, n, seed),
            Request::Relaxed { logits, tau, hard } => {
                target.relaxed_sample(logits, *tau, *hard, n, seed)
            }
            Request::Binary { logit, tau } => target.binary_sample(*logit, *tau, n, seed),
            Request::Tokens(r) => {
                let mut r = (**r).clone();
                r.n = n;
                r.seed = seed;
                target.token_sample(&r)
            }
        }
    }

    /// The float values of a reply to an `n`-draw request, checked for shape and dtype.
    ///
    /// # Errors
    /// A fault naming the shape or dtype that is wrong (categorical requests have no floats).
    pub fn floats(&self, a: &Array, n: usize) -> Result<Vec<f64>, TargetError> {
        match self {
            Request::Gumbel => floats(a, &[n], "gumbel"),
            Request::Relaxed { logits, .. } => floats(a, &[n, logits.len()], "relaxed_sample"),
            Request::Binary { .. } => floats(a, &[n], "binary_sample"),
            Request::Categorical { .. } | Request::Tokens(_) => Err(TargetError::Fault(
                "internal error of the battery: an index reply read as floats".into(),
            )),
        }
    }

    /// The indices of a reply to an `n`-draw categorical or token request.
    ///
    /// # Errors
    /// A fault naming the shape or dtype that is wrong.
    pub fn indices(&self, a: &Array, n: usize) -> Result<Vec<i64>, TargetError> {
        let op = match self {
            Request::Tokens(_) => "token_sample",
            _ => "categorical",
        };
        integers(a, n, op)
    }
}

/// One case of a chunked check: a request, its total number of draws and the reducer's
/// parameters (thresholds, bin edges, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Names the case in the seed stream and the detail (empty for a check's single case).
    pub label: String,
    /// What is drawn.
    pub request: Request,
    /// Draws in all (set by the level's [`Plan`] or by `--samples`).
    pub n: u64,
    /// Parameters of the reducer (for example the thresholds it counts beyond).
    pub params: Vec<f64>,
}

impl Case {
    /// A case with `n` draws of `request`, reduced with `params`.
    pub fn new(label: impl Into<String>, request: Request, n: u64, params: Vec<f64>) -> Self {
        Case {
            label: label.into(),
            request,
            n,
            params,
        }
    }

    /// The seed stream of the case within check `id`.
    pub fn stream(&self, id: &str) -> String {
        if self.label.is_empty() {
            id.to_string()
        } else {
            format!("{id} {}", self.label)
        }
    }

    /// Draws per chunk: `max(1, ⌊chunk_n / width⌋)`.
    pub fn chunk_draws(&self, chunk_n: usize) -> u64 {
        (chunk_n / self.request.width()).max(1) as u64
    }

    /// Number of chunks: `⌈n / chunk_draws⌉`.
    pub fn chunks(&self, chunk_n: usize) -> u64 {
        self.n.div_ceil(self.chunk_draws(chunk_n))
    }
}

/// The reduced statistics of one or more chunks of a case: integer counts and extremes.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    /// Counts (of bins, categories, exceedances, ...): the meaning is the check's.
    pub counts: Vec<u64>,
    /// Minima (NaN ignored; `+inf` when there was nothing).
    pub min: Vec<f64>,
    /// Maxima (NaN ignored; `-inf` when there was nothing).
    pub max: Vec<f64>,
}

impl Tally {
    /// A tally of `counts` zeros and `extremes` empty minima and maxima.
    pub fn zeros(counts: usize, extremes: usize) -> Self {
        Tally {
            counts: vec![0; counts],
            min: vec![f64::INFINITY; extremes],
            max: vec![f64::NEG_INFINITY; extremes],
        }
    }

    /// Adds `other` into `self`: counts add, minima and maxima merge (NaN never enters).
    ///
    /// # Errors
    /// A message when the two tallies have different lengths (they are not of the same case)
    /// or a count overflows `u64`.
    pub fn merge(&mut self, other: &Tally) -> Result<(), String> {
        if self.counts.len() != other.counts.len()
            || self.min.len() != other.min.len()
            || self.max.len() != other.max.len()
        {
            return Err(format!(
                "tallies of different shapes: {}/{}/{} against {}/{}/{} counts/minima/maxima",
                self.counts.len(),
                self.min.len(),
                self.max.len(),
                other.counts.len(),
                other.min.len(),
                other.max.len()
            ));
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a
                .checked_add(*b)
                .ok_or_else(|| "a count overflows u64".to_string())?;
        }
        for (a, &b) in self.min.iter_mut().zip(&other.min) {
            *a = a.min(b);
        }
        for (a, &b) in self.max.iter_mut().zip(&other.max) {
            *a = a.max(b);
        }
        Ok(())
    }
}

/// The cases of a chunked check at a plan.
pub(crate) type CasesFn = fn(&Plan, &Capabilities) -> Vec<Case>;
/// One chunk's array → its tally.
pub(crate) type ReduceFn = fn(&Case, &Array, u64) -> Result<Tally, TargetError>;
/// The merged tallies of every case → the check's outcome.
pub(crate) type DecideFn =
    fn(&Plan, &Capabilities, &[Case], &[Tally]) -> Result<Outcome, TargetError>;

/// A check that is planned, reduced per chunk, merged and decided.
#[derive(Clone, Copy)]
pub struct ChunkedCheck {
    pub(crate) cases: CasesFn,
    pub(crate) reduce: ReduceFn,
    pub(crate) decide: DecideFn,
}

/// One chunk of one case of one check: the unit of work of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Index of the check among the run's chunked checks.
    pub check: usize,
    /// Index of the case within the check.
    pub case: usize,
    /// Chunk index within the case (the seed's chunk).
    pub chunk: u64,
    /// Draws of this chunk.
    pub n: u64,
    /// The seed stream (`Case::stream`).
    pub stream: String,
    /// `request_seed(master, stream, chunk)`.
    pub seed: u64,
}

/// The units of the cases `cases` of the `check`-th chunked check `id`, in order.
pub fn units_of(check: usize, id: &str, cases: &[Case], chunk_n: usize, master: u64) -> Vec<Unit> {
    let mut out = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let stream = case.stream(id);
        let per = case.chunk_draws(chunk_n);
        let mut left = case.n;
        let mut chunk = 0;
        while left > 0 {
            let n = left.min(per);
            out.push(Unit {
                check,
                case: c,
                chunk,
                n,
                seed: request_seed(master, &stream, chunk),
                stream: stream.clone(),
            });
            left -= n;
            chunk += 1;
        }
    }
    out
}

/// Draws and reduces one unit on `target`.
///
/// # Errors
/// The target's error, or a fault when the chunk is larger than the platform's `usize`.
pub(crate) fn run_unit(
    target: &mut dyn Target,
    check: &ChunkedCheck,
    case: &Case,
    unit: &Unit,
) -> Result<Tally, TargetError> {
    let n = usize::try_from(unit.n)
        .map_err(|_| TargetError::Fault(format!("a chunk of {} draws", unit.n)))?;
    let a = case.request.draw(target, n, unit.seed)?;
    (check.reduce)(case, &a, unit.n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_merge_exactly_in_any_order() {
        let a = Tally {
            counts: vec![1, 2],
            min: vec![-1.0],
            max: vec![3.0],
        };
        let b = Tally {
            counts: vec![5, 0],
            min: vec![-4.0],
            max: vec![2.0],
        };
        let mut ab = Tally::zeros(2, 1);
        ab.merge(&a).unwrap();
        ab.merge(&b).unwrap();
        let mut ba = Tally::zeros(2, 1);
        ba.merge(&b).unwrap();
        ba.merge(&a).unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ab.counts, vec![6, 2]);
        assert_eq!((ab.min[0], ab.max[0]), (-4.0, 3.0));
        assert!(ab.merge(&Tally::zeros(3, 1)).is_err());
        let mut full = Tally {
            counts: vec![u64::MAX],
            min: vec![],
            max: vec![],
        };
        assert!(
            full.merge(&Tally {
                counts: vec![1],
                min: vec![],
                max: vec![]
            })
            .is_err()
        );
    }

    #[test]
    fn units_cover_each_case_once_with_chunk_seeds() {
        let cases = vec![
            Case::new("", Request::Gumbel, 25, vec![]),
            Case::new(
                "k3",
                Request::Relaxed {
                    logits: vec![0.0; 3],
                    tau: 1.0,
                    hard: true,
                },
                7,
                vec![],
            ),
        ];
        let cat = Case::new(
            "c4",
            Request::Categorical {
                logits: vec![0.0; 4],
            },
            5,
            vec![],
        );
        let c = units_of(0, "x.z", &[cat], 10, 9);
        // ⌊10 / 4⌋ = 2 draws per chunk
        assert_eq!(c.iter().map(|u| u.n).collect::<Vec<_>>(), vec![2, 2, 1]);
        let u = units_of(4, "x.y", &cases, 10, 9);
        let sizes: Vec<(usize, u64, u64)> = u.iter().map(|u| (u.case, u.chunk, u.n)).collect();
        assert_eq!(
            sizes,
            vec![
                (0, 0, 10),
                (0, 1, 10),
                (0, 2, 5),
                (1, 0, 3),
                (1, 1, 3),
                (1, 2, 1)
            ]
        );
        assert_eq!(u[1].seed, request_seed(9, "x.y", 1));
        assert_eq!(u[4].seed, request_seed(9, "x.y k3", 1));
        assert!(u.iter().all(|u| u.check == 4));
    }
}
