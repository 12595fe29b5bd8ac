//! The Gumbel-Softmax paper's application: the semi-supervised objective for unlabelled data with one
//! Gumbel-Softmax sample instead of the sum over `k` classes (Jang et al. 2017, §4.3): time per
//! training step of each estimator, the speedup, and the single-sample estimators' error.
//!
//! # Objective
//! ```text
//! U(x) = H[q(y|x)] - Σ_{y=1..k} q(y|x) L(x, y)          (k decoder passes)
//! Û(x) = H[q(y|x)] - L(x, ŷ),  ŷ one Gumbel-Softmax sample   (one decoder pass)
//! ```
//! The model (generated mixture data, linear encoder, two-hidden-layer decoder of width `w`) is
//! in [`model`]; the estimators and the training step in [`estimator`].
//!
//! # Cost model
//! ```text
//! T_exact ≈ c₀ + k·c_dec,     T_gs ≈ c₀' + c_dec,     speedup = T_exact / T_gs
//! speedup → k            when c_dec ≫ c₀, c₀'   (the decoder dominates)
//! speedup ≈ k·c_dec / (c₀' + c_dec)   in general,   → 1 + k·c_dec/c₀ when c₀ ≫ k·c_dec
//! ```
//! `c₀` is what the step costs besides the per-class term (encoder, entropy, the labelled
//! points, clearing the gradients); `c₀' ≈ c₀ + k` Gumbel draws and a softmax. Here
//! `c_dec ≈ 3(w·k + w² + d·w)` multiply-adds (forward and backward), the encoder
//! `≈ 2k·d` per point, and each labelled point one more decoder pass.
//!
//! # Error measurement
//! At the initial parameters, for each of the batch's `P` unlabelled points `x_i`, the exact
//! `U(x_i)` and `g*_i = ∂U/∂a` (logits), then `n` independent single-sample estimates `Û`, `ĝ`:
//! ```text
//! value bias    b = (1/(P n)) Σ_i Σ_r (Û_ir - U(x_i)),   interval b ± z_{1-α/2} · SE
//!               SE² = mean_i s_i² / (P n)   (s_i² the sample variance at point i; the draws
//!               are independent, so this is the exact variance of the pooled mean)
//! value sd      √(mean_i s_i²)
//! gradient (all divided by N² = mean_i ‖g*_i‖²):
//!   bias²       mean_i (‖ḡ_i - g*_i‖² - tr Ĉov_i / n)   (unbiased for mean_i ‖E ĝ - g*‖²)
//!   variance    mean_i tr Ĉov_i
//!   mse         (1/(P n)) Σ_i Σ_r ‖ĝ_ir - g*_i‖²,  interval ± z · SE as for the value
//! ```
//! The Gumbel-Softmax value is biased for `U` by design (it is unbiased for the relaxed
//! objective `U_τ`, tested against quadrature at `k = 2` in `tests/cli/study_semi_supervised.rs`);
//! straight-through's value is unbiased for `U`, its gradient is not.
//!
//! # Timing
//! The three estimators are timed in interleaved blocks (exact, Gumbel-Softmax,
//! straight-through, repeated `reps` times) of whole training steps over the same batch; each
//! block runs enough steps (counted from one wall-clock-timed step) to last about 200 ms (CPU
//! clock, which advances in scheduler ticks of a few ms) or 20 ms (wall clock). The time per step is the **minimum** over the
//! blocks of the block's mean: on a shared machine other processes only add time, so the
//! minimum is the least disturbed figure. The clock ([`Clock`]) is the thread's CPU time where
//! Linux exposes it (`/proc/thread-self/schedstat`, nanoseconds on the CPU), so that time spent
//! waiting for a core while other processes run is not counted; elsewhere the wall clock
//! ([`std::time::Instant`]). Cache and memory-bandwidth contention still count. The numbers
//! are measurements to print, not to assert on.
//!
//! # References
//! - E. Jang, S. Gu, B. Poole, *Categorical Reparameterization with Gumbel-Softmax*, ICLR 2017,
//!   §4.3 and Fig. 5 (2x faster at k = 10, 9.9x at k = 100), <https://arxiv.org/abs/1611.01144>.
//! - D. P. Kingma, D. J. Rezende, S. Mohamed, M. Welling, *Semi-Supervised Learning with Deep
//!   Generative Models*, NeurIPS 2014, <https://arxiv.org/abs/1406.5298>.

pub mod estimator;
pub mod model;
pub mod report;

use std::time::{Duration, Instant};

use rand::Rng;

pub use estimator::{Batch, Estimator, Gradients, Model, Workspace};
pub use model::{Decoder, DecoderGrads, DecoderScratch, Encoder, EncoderGrads, Mixture};

use crate::error::Error;
use crate::rng::seeded;

/// The paper's measured speedups of one training step, `(k, speedup)` (Jang et al. 2017,
/// §4.3; docs/design/math.md §3).
pub const PAPER_SPEEDUPS: [(f64, f64); 2] = [(10.0, 2.0), (100.0, 9.9)];

/// Floor of the duration of one calibration step (100 ns, below any real step), so that a
/// clock reading of 0 cannot divide by zero.
const MIN_STEP_SECONDS: f64 = 1e-7;
/// Target duration of one timing block on the wall clock.
const BLOCK_WALL: Duration = Duration::from_millis(20);
/// Target duration of one timing block on the thread CPU clock: that clock advances in
/// scheduler ticks (4 ms here), so a block must be long for the tick to be a small error
/// (at most 2 % of 200 ms).
const BLOCK_CPU: Duration = Duration::from_millis(200);

/// Error of one single-sample estimator against the exact value (module doc for the formulas).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EstimatorError {
    /// Mean of `Û - U` over all draws.
    pub value_bias: f64,
    /// Lower end of the interval for the value bias.
    pub value_bias_ci_low: f64,
    /// Upper end.
    pub value_bias_ci_high: f64,
    /// Within-point standard deviation of `Û`.
    pub value_sd: f64,
    /// Relative squared bias of the logits gradient (may be slightly negative: unbiased
    /// estimate).
    pub grad_bias2_rel: f64,
    /// Relative variance (trace of the covariance) of the logits gradient.
    pub grad_variance_rel: f64,
    /// Relative mean squared error of the logits gradient.
    pub grad_mse_rel: f64,
    /// Lower end of the interval for the relative MSE.
    pub grad_mse_rel_ci_low: f64,
    /// Upper end.
    pub grad_mse_rel_ci_high: f64,
    /// Points `P`.
    pub points: usize,
    /// Draws per point `n`.
    pub draws: usize,
}

/// Time per training step of each estimator.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StepTimes {
    /// Exact marginalisation, seconds per step.
    pub exact: f64,
    /// One Gumbel-Softmax sample, seconds per step.
    pub gumbel_softmax: f64,
    /// One straight-through sample, seconds per step.
    pub straight_through: f64,
    /// Blocks per estimator (the minimum is over these).
    pub reps: usize,
    /// The clock the times were read from.
    pub clock: Clock,
}

/// Which clock a timing used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The thread's time on a CPU (Linux `/proc/thread-self/schedstat`): not inflated by
    /// waiting for a core on a loaded machine.
    ThreadCpu,
    /// Wall clock ([`std::time::Instant`]).
    Wall,
}

impl Clock {
    /// The thread CPU clock if it can be read, else the wall clock.
    pub fn best() -> Clock {
        if thread_cpu_ns().is_some() {
            Clock::ThreadCpu
        } else {
            Clock::Wall
        }
    }

    /// Name for reports: `thread-cpu` or `wall`.
    pub fn name(self) -> &'static str {
        match self {
            Clock::ThreadCpu => "thread-cpu",
            Clock::Wall => "wall",
        }
    }
}

/// Nanoseconds this thread has spent on a CPU (Linux only; `None` elsewhere or if unreadable).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A started measurement on one clock.
enum Stopwatch {
    Cpu(u64),
    Wall(Instant),
}

impl Stopwatch {
    fn start(clock: Clock) -> Stopwatch {
        match (clock, thread_cpu_ns()) {
            (Clock::ThreadCpu, Some(ns)) => Stopwatch::Cpu(ns),
            _ => Stopwatch::Wall(Instant::now()),
        }
    }

    /// Seconds since the start (a CPU clock that became unreadable gives infinity, which the
    /// minimum over blocks ignores).
    fn seconds(&self) -> f64 {
        match self {
            Stopwatch::Cpu(start) => thread_cpu_ns()
                .map(|ns| ns.saturating_sub(*start) as f64 * 1e-9)
                .unwrap_or(f64::INFINITY),
            Stopwatch::Wall(t) => t.elapsed().as_secs_f64(),
        }
    }
}

/// One row of the study: one number of classes `k`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SemiSupervisedRow {
    /// Number of classes `k`.
    pub k: usize,
    /// Time per step.
    pub times: StepTimes,
    /// `T_exact / T_gs`.
    pub speedup_gumbel_softmax: f64,
    /// `T_exact / T_st`.
    pub speedup_straight_through: f64,
    /// Error of the Gumbel-Softmax estimator.
    pub gumbel_softmax: EstimatorError,
    /// Error of the straight-through estimator.
    pub straight_through: EstimatorError,
}

/// The study's settings. [`SemiSupervisedStudy::new`] gives the defaults; the fields are public
/// and checked by [`SemiSupervisedStudy::run`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SemiSupervisedStudy {
    /// The numbers of classes `k`, each at least 2.
    pub classes: Vec<usize>,
    /// Data dimension `d` (default 8).
    pub dim: usize,
    /// Decoder width `w` (default 64).
    pub width: usize,
    /// Unlabelled points per step `P` (default 32); also the error's evaluation points.
    pub batch: usize,
    /// Labelled points per step (default 0): each costs one decoder pass for every estimator.
    pub labelled: usize,
    /// Temperature `τ` of the relaxed estimators (default 0.5).
    pub temperature: f64,
    /// Draws per point `n` for the error (default 400, at least 2).
    pub draws: usize,
    /// Timing blocks per estimator (default 5).
    pub reps: usize,
    /// Two-sided error rate of each interval (default 0.05).
    pub alpha: f64,
    /// Seed: `k` uses `seeded(seed + k)` for data and parameters, `seeded(seed + k + 2³²)` for
    /// the error's noise, `seeded(seed + k + 2³³)` for the timed steps' noise.
    pub seed: u64,
}

/// Data and initial model for one `k`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Setup {
    /// The generated data: the first `batch` points are unlabelled, the rest labelled.
    pub data: Mixture,
    /// The model at its initial parameters.
    pub model: Model,
    /// Number of unlabelled points.
    pub batch: usize,
}

impl Setup {
    /// The batch: unlabelled points, then labelled points with their classes.
    pub fn as_batch(&self) -> Batch<'_> {
        Batch {
            unlabelled: &self.data.points[..self.batch],
            labelled: &self.data.points[self.batch..],
            labels: &self.data.labels[self.batch..],
        }
    }
}

fn upper_normal_quantile(alpha: f64) -> Result<f64, Error> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::InvalidParameter {
            name: "alpha",
            value: alpha,
            rule: "in (0, 1)",
        });
    }
    // statrs's inverse_cdf is accurate to ~1e-9 relative, ample for an interval's width.
    use statrs::distribution::{ContinuousCDF, Normal};
    Ok(Normal::standard().inverse_cdf(1.0 - alpha / 2.0))
}

/// Running mean and sum of squared deviations (Welford).
#[derive(Debug, Default, Clone, Copy)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, v: f64) {
        self.n += 1.0;
        let d = v - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (v - self.mean);
    }
    fn variance(&self) -> f64 {
        self.m2 / (self.n - 1.0)
    }
}

/// Measures the error of `estimator` against the exact `U` and `∂U/∂a` at each of `points`
/// (`draws` single-sample estimates per point, noise from `rng`); intervals at two-sided level
/// `1 - alpha`. Formulas in the module doc.
///
/// # Errors
/// [`Error::TooFewSamples`] for `draws < 2`; [`Error::CountZero`] for no points;
/// [`Error::InvalidParameter`] unless `0 < alpha < 1`; [`Error::WrongLength`] for a point
/// whose length is not the model's `d`.
///
/// # Example
/// ```
/// use gumbel_audit::rng::seeded;
/// use gumbel_audit::study::semi_supervised::{Estimator, SemiSupervisedStudy, estimator_error};
/// let mut study = SemiSupervisedStudy::new(vec![3], 1);
/// study.width = 4;
/// study.batch = 4;
/// let setup = study.setup(3)?;
/// let e = estimator_error(&setup.model, &setup.data.points[..4], Estimator::StraightThrough,
///                         50, 0.05, &mut seeded(2))?;
/// assert!(e.value_bias_ci_low <= e.value_bias && e.value_bias <= e.value_bias_ci_high);
/// assert!(e.grad_variance_rel > 0.0);
/// # Ok::<(), gumbel_audit::Error>(())
/// ```
pub fn estimator_error<R: Rng + ?Sized>(
    model: &Model,
    points: &[Vec<f64>],
    estimator: Estimator,
    draws: usize,
    alpha: f64,
    rng: &mut R,
) -> Result<EstimatorError, Error> {
    if draws < 2 {
        return Err(Error::TooFewSamples {
            needed: 2,
            found: draws,
        });
    }
    if points.is_empty() {
        return Err(Error::CountZero {
            name: "evaluation points",
        });
    }
    let z = upper_normal_quantile(alpha)?;
    let d = model.decoder.dim();
    if let Some(p) = points.iter().find(|p| p.len() != d) {
        return Err(Error::WrongLength {
            expected: d,
            found: p.len(),
        });
    }
    let k = model.encoder.classes();
    let mut ws = Workspace::new(model);
    let mut grads = Gradients::zeros(model);
    let n = draws as f64;
    let (mut value_sum, mut value_var_sum) = (0.0, 0.0);
    let (mut sq_sum, mut sq_var_sum) = (0.0, 0.0);
    let (mut bias2_sum, mut trcov_sum, mut norm2_sum) = (0.0, 0.0, 0.0);
    let mut g_mean = vec![0.0; k];
    for x in points {
        let u = model.unlabelled(x, Estimator::Exact, rng, &mut ws, &mut grads, 1.0);
        let g_star = ws.grad_logits().to_vec();
        norm2_sum += g_star.iter().map(|g| g * g).sum::<f64>();
        g_mean.fill(0.0);
        let mut value = Moments::default();
        let mut sq = Moments::default();
        for _ in 0..draws {
            let v = model.unlabelled(x, estimator, rng, &mut ws, &mut grads, 1.0);
            value.add(v - u);
            let mut e2 = 0.0;
            for ((m, &g), &gs) in g_mean.iter_mut().zip(ws.grad_logits()).zip(&g_star) {
                *m += g / n;
                e2 += (g - gs) * (g - gs);
            }
            sq.add(e2);
        }
        let mean_dev2: f64 = g_mean
            .iter()
            .zip(&g_star)
            .map(|(m, g)| (m - g) * (m - g))
            .sum();
        // Σ_r ‖ĝ_r - g*‖² = n ‖ḡ - g*‖² + Σ_r ‖ĝ_r - ḡ‖².
        let trcov = ((n * sq.mean - n * mean_dev2) / (n - 1.0)).max(0.0);
        bias2_sum += mean_dev2 - trcov / n;
        trcov_sum += trcov;
        value_sum += value.mean;
        value_var_sum += value.variance();
        sq_sum += sq.mean;
        sq_var_sum += sq.variance();
    }
    let p = points.len() as f64;
    let total = p * n;
    let norm2 = norm2_sum / p;
    // A zero exact gradient everywhere would make "relative" meaningless: report absolute.
    let scale = if norm2 > 0.0 { norm2 } else { 1.0 };
    let value_bias = value_sum / p;
    let value_se = (value_var_sum / p / total).sqrt();
    let mse = sq_sum / p / scale;
    let mse_se = (sq_var_sum / p / total).sqrt() / scale;
    Ok(EstimatorError {
        value_bias,
        value_bias_ci_low: value_bias - z * value_se,
        value_bias_ci_high: value_bias + z * value_se,
        value_sd: (value_var_sum / p).sqrt(),
        grad_bias2_rel: bias2_sum / p / scale,
        grad_variance_rel: trcov_sum / p / scale,
        grad_mse_rel: mse,
        grad_mse_rel_ci_low: mse - z * mse_se,
        grad_mse_rel_ci_high: mse + z * mse_se,
        points: points.len(),
        draws,
    })
}

/// Times whole training steps of the three estimators in interleaved blocks (module doc);
/// returns seconds per step, the minimum over `reps` blocks each.
///
/// # Errors
/// [`Error::CountZero`] for `reps = 0`; the rules of [`Model::step`].
pub fn time_steps<R: Rng + ?Sized>(
    model: &Model,
    batch: &Batch<'_>,
    reps: usize,
    rng: &mut R,
) -> Result<StepTimes, Error> {
    if reps == 0 {
        return Err(Error::CountZero {
            name: "timing blocks",
        });
    }
    let estimators = [
        Estimator::Exact,
        Estimator::GumbelSoftmax,
        Estimator::StraightThrough,
    ];
    let clock = Clock::best();
    let block = match clock {
        Clock::ThreadCpu => BLOCK_CPU,
        Clock::Wall => BLOCK_WALL,
    };
    let mut ws = Workspace::new(model);
    let mut grads = Gradients::zeros(model);
    // Calibration: one warm-up step each, then steps per block from its duration.
    let mut steps = [1usize; 3];
    for (s, &e) in steps.iter_mut().zip(&estimators) {
        model.step(batch, e, rng, &mut ws, &mut grads)?;
        // The wall clock: the CPU clock is too coarse for one step.
        let t = Instant::now();
        model.step(batch, e, rng, &mut ws, &mut grads)?;
        let one = t.elapsed().as_secs_f64().max(MIN_STEP_SECONDS);
        *s = ((block.as_secs_f64() / one).ceil() as usize).clamp(1, 1_000_000);
    }
    let mut best = [f64::INFINITY; 3];
    for _ in 0..reps {
        for ((b, &e), &s) in best.iter_mut().zip(&estimators).zip(&steps) {
            let t = Stopwatch::start(clock);
            for _ in 0..s {
                std::hint::black_box(model.step(batch, e, rng, &mut ws, &mut grads)?);
            }
            *b = b.min(t.seconds() / s as f64);
        }
    }
    Ok(StepTimes {
        exact: best[0],
        gumbel_softmax: best[1],
        straight_through: best[2],
        reps,
        clock,
    })
}

impl SemiSupervisedStudy {
    /// The defaults (field docs) for the given `k` values and seed.
    pub fn new(classes: Vec<usize>, seed: u64) -> SemiSupervisedStudy {
        SemiSupervisedStudy {
            classes,
            dim: 8,
            width: 64,
            batch: 32,
            labelled: 0,
            temperature: 0.5,
            draws: 400,
            reps: 5,
            alpha: 0.05,
            seed,
        }
    }

    /// Generated data (`batch + labelled` points of a `k`-cluster mixture) and the initial model,
    /// from `seeded(seed + k)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `k < 2`; [`Error::CountZero`] for a zero size; the
    /// temperature rules.
    pub fn setup(&self, k: usize) -> Result<Setup, Error> {
        if k < 2 {
            return Err(Error::InvalidParameter {
                name: "number of classes k",
                value: k as f64,
                rule: "at least 2",
            });
        }
        if self.batch == 0 {
            return Err(Error::CountZero {
                name: "unlabelled points per step",
            });
        }
        let mut rng = seeded(self.seed.wrapping_add(k as u64));
        let data = Mixture::generate(k, self.dim, self.batch + self.labelled, &mut rng)?;
        let encoder = Encoder::new(k, self.dim, &mut rng)?;
        let decoder = Decoder::new(k, self.width, self.dim, &mut rng)?;
        Ok(Setup {
            data,
            model: Model::new(encoder, decoder, self.temperature)?,
            batch: self.batch,
        })
    }

    /// The error rows only (no timing) for one `k`: `(Gumbel-Softmax, straight-through)`.
    ///
    /// # Errors
    /// As [`SemiSupervisedStudy::setup`] and [`estimator_error`].
    pub fn errors(&self, k: usize) -> Result<[EstimatorError; 2], Error> {
        let setup = self.setup(k)?;
        let points = &setup.data.points[..self.batch];
        let base = self.seed.wrapping_add(k as u64).wrapping_add(1 << 32);
        let mut rng = seeded(base);
        let gs = estimator_error(
            &setup.model,
            points,
            Estimator::GumbelSoftmax,
            self.draws,
            self.alpha,
            &mut rng,
        )?;
        let st = estimator_error(
            &setup.model,
            points,
            Estimator::StraightThrough,
            self.draws,
            self.alpha,
            &mut rng,
        )?;
        Ok([gs, st])
    }

    /// Runs the study: for each `k`, the error rows and the step times.
    ///
    /// # Errors
    /// [`Error::CountZero`] for an empty `classes`; as [`SemiSupervisedStudy::setup`],
    /// [`estimator_error`] and [`time_steps`].
    ///
    /// # Example
    /// ```
    /// use gumbel_audit::study::semi_supervised::SemiSupervisedStudy;
    /// let mut study = SemiSupervisedStudy::new(vec![2, 4], 0);
    /// (study.width, study.batch, study.draws, study.reps) = (4, 2, 10, 1);
    /// let rows = study.run()?;
    /// assert_eq!(rows.len(), 2);
    /// assert!(rows[1].times.exact > 0.0 && rows[1].speedup_gumbel_softmax > 0.0);
    /// # Ok::<(), gumbel_audit::Error>(())
    /// ```
    pub fn run(&self) -> Result<Vec<SemiSupervisedRow>, Error> {
        if self.classes.is_empty() {
            return Err(Error::CountZero {
                name: "number of k values",
            });
        }
        let mut rows = Vec::with_capacity(self.classes.len());
        for &k in &self.classes {
            let [gumbel_softmax, straight_through] = self.errors(k)?;
            let setup = self.setup(k)?;
            let mut rng = seeded(self.seed.wrapping_add(k as u64).wrapping_add(1 << 33));
            let times = time_steps(&setup.model, &setup.as_batch(), self.reps, &mut rng)?;
            rows.push(SemiSupervisedRow {
                k,
                speedup_gumbel_softmax: times.exact / times.gumbel_softmax,
                speedup_straight_through: times.exact / times.straight_through,
                times,
                gumbel_softmax,
                straight_through,
            });
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_rules() {
        let study = SemiSupervisedStudy::new(vec![1], 0);
        assert!(matches!(
            study.setup(1),
            Err(Error::InvalidParameter { .. })
        ));
        let mut s = SemiSupervisedStudy::new(vec![], 0);
        assert!(matches!(s.run(), Err(Error::CountZero { .. })));
        s.classes = vec![3];
        s.draws = 1;
        assert!(matches!(s.run(), Err(Error::TooFewSamples { .. })));
        s.draws = 3;
        s.alpha = 1.0;
        assert!(matches!(s.run(), Err(Error::InvalidParameter { .. })));
    }

    /// The exact estimator through `estimator_error` has no error at all: every draw equals the
    /// exact value (a check of the bookkeeping, not of the estimators).
    #[test]
    fn exact_against_itself_has_zero_error() {
        let mut study = SemiSupervisedStudy::new(vec![3], 5);
        study.width = 4;
        study.batch = 3;
        let setup = study.setup(3).unwrap();
        let e = estimator_error(
            &setup.model,
            &setup.data.points,
            Estimator::Exact,
            5,
            0.05,
            &mut seeded(1),
        )
        .unwrap();
        assert_eq!(e.value_bias, 0.0);
        assert_eq!(e.grad_mse_rel, 0.0);
        assert_eq!(e.grad_variance_rel, 0.0);
    }
}
