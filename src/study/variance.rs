//! Bias, variance and mean squared error of the gradient estimators against the exact gradient of
//! the discrete objective, per estimator and temperature: the bias-variance trade-off of the temperature in numbers.
//!
//! # Notation
//! Logits `l`, `π = softmax(l)`, objective `f`, discrete objective `L = Σ_i π_i f(e_i)` with exact
//! gradient `∇L` ([`Objective::exact_gradient`]), temperature `τ`, a per-sample gradient row
//! `ĝ ∈ ℝᵏ` of an estimator, its mean `μ = E ĝ`, `n` sampled rows `x_1 … x_n`, their mean `x̄`,
//! two-sided error rate `α` of each interval (`0.05`: 95 % intervals), `z = Φ⁻¹(1 - α/2)`.
//!
//! # Formula
//! ```text
//! variance   V   = tr Cov ĝ = E‖ĝ - μ‖²
//! bias       b   = ‖μ - ∇L‖                     (against the DISCRETE objective's gradient)
//! mse        MSE = E‖ĝ - ∇L‖² = V + b²
//! ```
//! **Exact rows.** REINFORCE without a baseline (`reinforce`) has `μ = ∇L`, so `b = 0`, and
//! `V = tr C` with `C` the exact covariance of [`Objective::reinforce_covariance`]; its interval
//! collapses to the value. Its row does not depend on `τ` and appears **once**, with `tau = None`
//! (an empty cell in the CSV), before the sampled rows.
//!
//! **Sampled rows** (`gumbel_softmax`, `straight_through`, `gumbel_rao_m<m>` with `m` conditional
//! draws per row, default [`DEFAULT_RAO_DRAWS`]), one per `τ`:
//! ```text
//! d_i  = ‖x_i - x̄‖²
//! V̂    = Σ_i d_i / (n - 1)                       unbiased for V
//! b̂²   = ‖x̄ - ∇L‖² - V̂/n                         unbiased for b²  (E‖x̄ - ∇L‖² = b² + V/n)
//! bias_norm = √max(b̂², 0)
//! mse       = V̂ + bias_norm²                     = (1/n) Σ_i ‖x_i - ∇L‖²  unless the clip binds
//! se(V̂)     = s_d / √n,   s_d² = sample variance of the d_i
//! CI for V  = [V̂ exp(-z se/V̂),  V̂ exp(+z se/V̂)]
//! CI for b  ≈ [max(bias_norm - z s_u/√n, 0),  bias_norm + z s_u/√n]   (plot only, see below)
//! ```
//! where `s_u` is the standard deviation of the rows projected on the direction
//! `u = (x̄ - ∇L)/‖x̄ - ∇L‖` (the delta method for a norm; rough when the bias is comparable to
//! `s_u/√n`, and an interval reaching 0 says the bias is not resolved).
//! The standard error is the delta method for the trace of a covariance: `V̂` is a U-statistic
//! with kernel `½‖x - x'‖²`, whose first-order projection is `½(‖x - μ‖² + V)`, so
//! `Var V̂ = Var(‖ĝ - μ‖²)/n + O(n⁻²)`, a fourth moment of `ĝ`, estimated by `s_d²`. The interval
//! is the normal interval for `ln V̂` (`se(ln V̂) = se(V̂)/V̂`): it stays positive, so it can be drawn
//! on a log axis, and its longer upper arm suits the right skew of `V̂` at small `τ`. Its level is
//! asymptotic (`n → ∞`); at small `τ` the rows are rare large values (`|ĝ| ~ 1/τ` with probability
//! `~ τ`), the kurtosis grows like `1/τ`, and the relative width like `1/√(nτ)`, so `n` must grow as
//! `τ` shrinks. Measured coverage of the 95 % interval (`k = 2`, logits `0,0`, quadratic
//! `0.45,0.55`, against the quadrature truth; a scratch run, not a committed test): with
//! `n = 2000` and 1000 repetitions, 94.0 % to 95.9 % for Gumbel-Softmax and straight-through at
//! `τ ∈ {1, 0.1, 0.01}` (`nτ ≥ 20`), but 85 % and 81 % at `τ = 0.001` (`nτ = 2`, misses mostly
//! with the truth above the interval); with `n = 10⁵` and 100 repetitions, 93 to 97 of 100 down
//! to `τ = 0.001`. Keep `nτ` at 20 or more for the stated level. When the clip binds, the bias is below what `n` rows resolve and `mse` is then
//! `V̂`, slightly above the unbiased value.
//!
//! For a linear objective `∇f` is constant, so the Gumbel-Softmax and straight-through rows are
//! the same function of the noise, and with common random numbers (below) their rows coincide.
//!
//! # Two passes, common random numbers
//! `d_i` needs `x̄`, so each sampled row set is drawn twice from the same seed (the rows are a
//! deterministic function of the seed): memory `O(k)` for any `n`, time `2n` rows. Temperature
//! number `j` (in the order given) seeds [`crate::rng::seeded`]`(seed + j)` for every sampled
//! estimator, so Gumbel-Softmax and straight-through at one `τ` see the same Gumbel noise (their
//! difference is not blurred by independent noise), and each `τ` is reproducible on its own.
//!
//! # References
//! - docs/design/math.md §3 (the estimators, the `k = 2` figures, and why the comparison with
//!   REINFORCE is conditional).
//! - W. Hoeffding, *A Class of Statistics with Asymptotically Normal Distribution*, Ann. Math.
//!   Statist. 19 (1948), <https://doi.org/10.1214/aoms/1177730196> (variance of a U-statistic).
//! - E. Jang, S. Gu, B. Poole, ICLR 2017, <https://arxiv.org/abs/1611.01144>.
//! - M. B. Paulus, C. J. Maddison, A. Krause, ICLR 2021, <https://arxiv.org/abs/2010.04838>.

use crate::distributions::Logits;
use crate::error::Error;
use crate::grad::{
    Baseline, GradientEstimator, GumbelRao, GumbelSoftmax, Objective, Reinforce, StraightThrough,
};
use crate::numeric::NeumaierSum;
use crate::rng::seeded;

/// Conditional draws per Gumbel-Rao row when the caller does not choose: `m = 10`, enough to
/// remove most of the within-category variance (`Var = Var_d(μ_d) + E_d σ_d²/m`) at a cost of
/// ten softmaxes per row.
pub const DEFAULT_RAO_DRAWS: usize = 10;

/// The default two-sided error rate of the variance intervals: `0.05`, 95 % intervals.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// The default temperature grid: 10 down to 1e-3, three points per decade (the grid of
/// [`crate::study::temperature::default_grid`]).
pub fn default_grid() -> Vec<f64> {
    crate::study::temperature::default_grid()
}

/// One row of the study: one estimator at one temperature (or at none, for REINFORCE).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VarianceRow {
    /// `reinforce`, `gumbel_softmax`, `straight_through` or `gumbel_rao_m<m>`.
    pub estimator: String,
    /// Temperature `τ`; `None` for REINFORCE, which does not depend on it.
    pub tau: Option<f64>,
    /// `‖E ĝ - ∇L‖` (exact, or the debiased estimate of the module doc).
    pub bias_norm: f64,
    /// `tr Cov ĝ` (exact, or the unbiased estimate `V̂`).
    pub variance: f64,
    /// `E‖ĝ - ∇L‖² = variance + bias_norm²`.
    pub mse: f64,
    /// Lower end of the interval for `variance` (equal to it for exact rows).
    pub variance_ci_low: f64,
    /// Upper end of the interval for `variance`.
    pub variance_ci_high: f64,
    /// Lower end of the approximate interval for `bias_norm` ([`SampledTrace::bias_interval`];
    /// 0 for exact rows). Drawn in the plot, not printed in the CSV.
    pub bias_ci_low: f64,
    /// Upper end of the approximate interval for `bias_norm`.
    pub bias_ci_high: f64,
    /// Rows drawn; `None` for exact rows.
    pub samples: Option<usize>,
}

/// Sample summary of one estimator's rows against a reference gradient.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SampledTrace {
    /// `x̄`, length `k`.
    pub mean: Vec<f64>,
    /// `V̂`, unbiased for `tr Cov ĝ`.
    pub variance: f64,
    /// Delta-method standard error of `V̂` (`s_d/√n`).
    pub variance_se: f64,
    /// `‖x̄ - g*‖² - V̂/n`, unbiased for `‖E ĝ - g*‖²` (may be negative).
    pub bias_squared: f64,
    /// Delta-method standard error of the bias norm: `s_u/√n`, `s_u` the sample standard
    /// deviation of the rows projected on `u = (x̄ - g*)/‖x̄ - g*‖` (0 when `x̄ = g*`).
    pub bias_se: f64,
    /// Number of rows `n`.
    pub n: usize,
}

impl SampledTrace {
    /// `√max(bias_squared, 0)`.
    pub fn bias_norm(&self) -> f64 {
        self.bias_squared.max(0.0).sqrt()
    }

    /// The interval `[V̂ exp(-z se/V̂), V̂ exp(z se/V̂)]` at two-sided error rate `alpha`
    /// (`[0, 0]` when `V̂ = 0`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 < alpha < 1`.
    pub fn variance_interval(&self, alpha: f64) -> Result<(f64, f64), Error> {
        let z = upper_normal_quantile(alpha)?;
        if self.variance <= 0.0 {
            return Ok((0.0, 0.0));
        }
        let w = (z * self.variance_se / self.variance).exp();
        Ok((self.variance / w, self.variance * w))
    }

    /// The approximate interval `[max(b̂ - z se, 0), b̂ + z se]` for the bias norm at two-sided
    /// error rate `alpha`, `b̂` = [`SampledTrace::bias_norm`]. The delta method is accurate when
    /// the bias is large against `se`; when the interval reaches 0 the bias is not resolved.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 < alpha < 1`.
    pub fn bias_interval(&self, alpha: f64) -> Result<(f64, f64), Error> {
        let z = upper_normal_quantile(alpha)?;
        let b = self.bias_norm();
        Ok(((b - z * self.bias_se).max(0.0), b + z * self.bias_se))
    }
}

fn check_alpha(alpha: f64) -> Result<(), Error> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "alpha",
            value: alpha,
            rule: "in (0, 1)",
        })
    }
}

/// `Φ⁻¹(1 - α/2)`.
fn upper_normal_quantile(alpha: f64) -> Result<f64, Error> {
    check_alpha(alpha)?;
    // statrs's inverse_cdf is accurate to ~1e-9 relative, ample for an interval's width.
    use statrs::distribution::{ContinuousCDF, Normal};
    Ok(Normal::standard().inverse_cdf(1.0 - alpha / 2.0))
}

/// Draws `n` rows of `estimator` from [`crate::rng::seeded`]`(seed)` (twice: see the module doc)
/// and summarises them against the reference gradient `reference` (`∇L` in the study).
///
/// # Errors
/// [`Error::InvalidParameter`] for `n < 2`; [`Error::WrongLength`] unless
/// `reference.len() == k`.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{GumbelSoftmax, Objective};
/// use gumbel_audit::study::variance::sampled_trace;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let f = Objective::linear(vec![1.0, 0.0])?;
/// let gs = GumbelSoftmax::new(Logits::new(vec![0.0, 0.0])?, 1.0, f)?;
/// let s = sampled_trace(&gs, &[0.25, -0.25], 10_000, 7)?;
/// // τ = 1, a = 0: the row is (r, -r), r = σ'(L), L ~ Logistic; E r = 1/6, E r² = 1/30,
/// // so tr Cov = 2 Var r = 2 (1/30 - 1/36) = 1/90.
/// let (lo, hi) = s.variance_interval(0.001)?;
/// assert!(lo < 1.0 / 90.0 && 1.0 / 90.0 < hi);
/// # Ok(()) }
/// ```
pub fn sampled_trace(
    estimator: &dyn GradientEstimator,
    reference: &[f64],
    n: usize,
    seed: u64,
) -> Result<SampledTrace, Error> {
    if n < 2 {
        return Err(Error::InvalidParameter {
            name: "samples per estimator n",
            value: n as f64,
            rule: "at least 2",
        });
    }
    let k = estimator.len();
    if reference.len() != k {
        return Err(Error::WrongLength {
            expected: k,
            found: reference.len(),
        });
    }
    // Pass 1: the mean row.
    let mut sums = vec![NeumaierSum::default(); k];
    let mut rng = seeded(seed);
    for _ in 0..n {
        let row = estimator.sample_row(&mut rng);
        for (s, v) in sums.iter_mut().zip(row) {
            s.add(v);
        }
    }
    let nf = n as f64;
    let mean: Vec<f64> = sums.iter().map(|s| s.value() / nf).collect();
    let offset: f64 = mean
        .iter()
        .zip(reference)
        .map(|(m, g)| (m - g) * (m - g))
        .sum();
    // Unit direction of the bias (zero vector when x̄ = g*).
    let norm = offset.sqrt();
    let u: Vec<f64> = mean
        .iter()
        .zip(reference)
        .map(|(m, g)| if norm > 0.0 { (m - g) / norm } else { 0.0 })
        .collect();
    // Pass 2: the same rows again; d_i = ‖x_i - x̄‖² (Welford for its mean and variance) and the
    // projection (x_i - x̄)·u (its mean is 0 up to rounding).
    let mut rng = seeded(seed);
    let (mut d_mean, mut d_m2) = (0.0, 0.0);
    let mut proj_sq = NeumaierSum::default();
    for i in 0..n {
        let row = estimator.sample_row(&mut rng);
        let (mut d, mut p) = (0.0, 0.0);
        for ((x, m), ui) in row.iter().zip(&mean).zip(&u) {
            d += (x - m) * (x - m);
            p += (x - m) * ui;
        }
        proj_sq.add(p * p);
        let delta = d - d_mean;
        d_mean += delta / (i + 1) as f64;
        d_m2 += delta * (d - d_mean);
    }
    let variance = d_mean * nf / (nf - 1.0);
    let variance_se = (d_m2 / (nf - 1.0) / nf).sqrt();
    Ok(SampledTrace {
        mean,
        variance,
        variance_se,
        bias_squared: offset - variance / nf,
        bias_se: (proj_sq.value() / (nf - 1.0) / nf).sqrt(),
        n,
    })
}

/// Largest `max_i |c_i| / min(1, min τ)` (objective coefficients or targets over the smallest
/// temperature, and the coefficients themselves) the study accepts: `10⁷⁰`. Gradient rows scale like `c/τ`, the variance like
/// `(c/τ)²` and the variance interval's fourth moments like `(c/τ)⁴`; at `c/τ = 10¹⁵⁰` the
/// interval's upper end was `inf` and at `c = 10¹⁶⁰, τ = 1` every column was NaN. `10⁷⁰` keeps
/// `(c/τ)⁴ = 10²⁸⁰` with a margin of `10²⁸` for `k` and the sample sums. The bound on `|c|`
/// itself covers REINFORCE's variance, which grows like `c⁴` for the quadratic objective.
pub const MAX_COEFFICIENT_OVER_TAU: f64 = 1e70;

/// `max |c| / min(1, min τ) ≤ MAX_COEFFICIENT_OVER_TAU` (positive temperatures only: the
/// others are refused by their own rule).
fn check_scale(objective: &Objective, taus: &[f64]) -> Result<(), Error> {
    let tau_min = taus
        .iter()
        .copied()
        .filter(|t| *t > 0.0)
        .fold(1.0_f64, f64::min);
    let c_max = objective
        .coefficients()
        .iter()
        .fold(0.0_f64, |m, c| m.max(c.abs()));
    let ratio = c_max / tau_min;
    if ratio > MAX_COEFFICIENT_OVER_TAU {
        return Err(Error::InvalidParameter {
            name: "max |objective coefficient| / min(1, smallest temperature)",
            value: ratio,
            rule: "at most 1e70, so that the variance and its interval ((c/τ)² and (c/τ)⁴) stay finite",
        });
    }
    Ok(())
}

/// What the study runs: temperatures, rows per estimator and temperature, seed, interval error
/// rate and Gumbel-Rao draws.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VarianceStudy {
    /// Temperatures `τ`, in the order the rows appear.
    pub taus: Vec<f64>,
    /// Rows `n` per sampled estimator and temperature (at least 2).
    pub samples: usize,
    /// Seed; temperature `j` uses `seed + j`.
    pub seed: u64,
    /// Two-sided error rate of each variance interval.
    pub alpha: f64,
    /// Conditional draws `m` per Gumbel-Rao row (at least 1).
    pub rao_draws: usize,
}

impl VarianceStudy {
    /// The study on temperatures `taus` with `samples` rows each, seed `seed`, 95 % intervals
    /// ([`DEFAULT_ALPHA`]) and [`DEFAULT_RAO_DRAWS`] Gumbel-Rao draws; set the pub fields to change
    /// them.
    pub fn new(taus: Vec<f64>, samples: usize, seed: u64) -> Self {
        VarianceStudy {
            taus,
            samples,
            seed,
            alpha: DEFAULT_ALPHA,
            rao_draws: DEFAULT_RAO_DRAWS,
        }
    }

    /// Runs the study: the exact REINFORCE row, then for each `τ` the rows of Gumbel-Softmax,
    /// straight-through and Gumbel-Rao, so `1 + 3·taus.len()` rows.
    ///
    /// # Errors
    /// [`Error::WrongLength`] when `logits` and `objective` have different `k`; the temperature
    /// rules of [`crate::distributions::Concrete::new`] for each `τ`; [`Error::InvalidParameter`] for
    /// `samples < 2`, `alpha` outside `(0, 1)` or `max |c| / min(1, min τ)` above
    /// [`MAX_COEFFICIENT_OVER_TAU`]; [`Error::CountZero`] for `rao_draws = 0`.
    ///
    /// # Example
    /// ```
    /// use gumbel_audit::distributions::Logits;
    /// use gumbel_audit::grad::Objective;
    /// use gumbel_audit::study::variance::VarianceStudy;
    /// # fn main() -> Result<(), gumbel_audit::Error> {
    /// let l = Logits::new(vec![0.0, 0.0])?;
    /// let f = Objective::quadratic(vec![0.45, 0.55])?;
    /// let rows = VarianceStudy::new(vec![0.5, 1.0], 1000, 3).run(&l, &f)?;
    /// assert_eq!(rows.len(), 1 + 3 * 2);
    /// // REINFORCE without a baseline, exactly: 8 × 0.0159391 (docs/design/math.md §3).
    /// assert_eq!(rows[0].estimator, "reinforce");
    /// assert!((rows[0].variance - 0.1275125).abs() < 1e-15 && rows[0].bias_norm == 0.0);
    /// # Ok(()) }
    /// ```
    pub fn run(&self, logits: &Logits, objective: &Objective) -> Result<Vec<VarianceRow>, Error> {
        check_alpha(self.alpha)?;
        if self.samples < 2 {
            return Err(Error::InvalidParameter {
                name: "samples per estimator n",
                value: self.samples as f64,
                rule: "at least 2",
            });
        }
        check_scale(objective, &self.taus)?;
        let reinforce = Reinforce::new(logits.clone(), objective.clone(), Baseline::None)?;
        let exact = reinforce.exact_moments()?;
        let gradient = exact.mean;
        let trace = exact.covariance.trace();
        let mut rows = vec![VarianceRow {
            estimator: "reinforce".into(),
            tau: None,
            bias_norm: 0.0,
            variance: trace,
            mse: trace,
            variance_ci_low: trace,
            variance_ci_high: trace,
            bias_ci_low: 0.0,
            bias_ci_high: 0.0,
            samples: None,
        }];
        for (j, &tau) in self.taus.iter().enumerate() {
            let seed = self.seed.wrapping_add(j as u64);
            let gs = GumbelSoftmax::new(logits.clone(), tau, objective.clone())?;
            let st = StraightThrough::new(logits.clone(), tau, objective.clone())?;
            let gr = GumbelRao::new(logits.clone(), tau, objective.clone(), self.rao_draws)?;
            let rao_name = format!("gumbel_rao_m{}", self.rao_draws);
            let estimators: [(&dyn GradientEstimator, String); 3] = [
                (&gs, gs.name().to_string()),
                (&st, st.name().to_string()),
                (&gr, rao_name),
            ];
            for (estimator, name) in estimators {
                let s = sampled_trace(estimator, &gradient, self.samples, seed)?;
                let (low, high) = s.variance_interval(self.alpha)?;
                let (bias_low, bias_high) = s.bias_interval(self.alpha)?;
                let bias_norm = s.bias_norm();
                rows.push(VarianceRow {
                    estimator: name,
                    tau: Some(tau),
                    bias_norm,
                    variance: s.variance,
                    mse: s.variance + bias_norm * bias_norm,
                    variance_ci_low: low,
                    variance_ci_high: high,
                    bias_ci_low: bias_low,
                    bias_ci_high: bias_high,
                    samples: Some(self.samples),
                });
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Logits, Objective) {
        (
            Logits::new(vec![0.0, 0.0]).unwrap(),
            Objective::quadratic(vec![0.45, 0.55]).unwrap(),
        )
    }

    #[test]
    fn rules() {
        let (l, f) = setup();
        assert!(VarianceStudy::new(vec![0.5], 1, 0).run(&l, &f).is_err());
        assert!(VarianceStudy::new(vec![0.0], 10, 0).run(&l, &f).is_err());
        let mut s = VarianceStudy::new(vec![0.5], 10, 0);
        s.alpha = 1.0;
        assert!(s.run(&l, &f).is_err());
        let mut s = VarianceStudy::new(vec![0.5], 10, 0);
        s.rao_draws = 0;
        assert!(matches!(s.run(&l, &f), Err(Error::CountZero { .. })));
        let l3 = Logits::new(vec![0.0; 3]).unwrap();
        assert!(matches!(
            VarianceStudy::new(vec![0.5], 10, 0).run(&l3, &f),
            Err(Error::WrongLength { .. })
        ));
        let gs = GumbelSoftmax::new(l, 0.5, f).unwrap();
        assert!(sampled_trace(&gs, &[0.0], 10, 0).is_err());
    }

    /// The one-pass identity behind `mse`: `(1/n) Σ ‖x_i - g‖² = ((n-1)/n) V̂ + ‖x̄ - g‖²`, so
    /// `V̂ + b̂²` equals the direct mean of the squared errors (checked on rows drawn here).
    #[test]
    fn mse_is_the_mean_squared_error_of_the_rows() {
        let (l, f) = setup();
        let gs = GumbelSoftmax::new(l, 0.3, f).unwrap();
        // A reference far from the mean, so the bias term is not lost in the noise.
        let g = [1.0, -1.0];
        let n = 500;
        let s = sampled_trace(&gs, &g, n, 11).unwrap();
        let rows = gs.sample(n, 11);
        let direct: f64 = (0..n)
            .map(|i| (rows[(i, 0)] - g[0]).powi(2) + (rows[(i, 1)] - g[1]).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!(s.bias_squared > 0.0);
        assert!((s.variance + s.bias_squared - direct).abs() < 1e-13 * direct);
        let mean0 = (0..n).map(|i| rows[(i, 0)]).sum::<f64>() / n as f64;
        assert!((s.mean[0] - mean0).abs() < 1e-14);
    }

    #[test]
    fn zero_variance_gives_a_point_interval() {
        // One category masked: y = e_0 exactly, and every row is exactly 0.
        let l = Logits::new(vec![0.3, f64::NEG_INFINITY]).unwrap();
        let f = Objective::linear(vec![2.0, -1.0]).unwrap();
        let gs = GumbelSoftmax::new(l, 0.5, f).unwrap();
        let s = sampled_trace(&gs, &[0.0, 0.0], 10, 0).unwrap();
        assert_eq!(s.variance, 0.0);
        assert_eq!(s.variance_interval(0.05).unwrap(), (0.0, 0.0));
        assert!(s.variance_interval(0.0).is_err());
    }
}
