//! Ground truth for the relaxed estimators: exact moments by quadrature for `k = 2`, and a
//! Monte Carlo estimate with its standard error for larger `k`.
//!
//! # Notation
//! `k = 2`, logits `(l_0, l_1)`, logit difference `a = l_0 - l_1` (the Bernoulli logit of
//! category 0), logistic noise `L = g_0 - g_1 ~ Logistic(0, 1)` with density
//! `p(x) = σ(x) σ(-x)`, scaled score `s = (a + L)/τ`, `y = (σ(s), σ(-s))`, relaxed objective
//! `L_τ(l) = E_g f(y)`.
//!
//! # Formula
//! Every relaxed row for `k = 2` is `(r, -r)` with `r` a function of `s` alone:
//! ```text
//! Gumbel-Softmax     r(s) = (1/τ) y_0 y_1 (∂_0 f(y) - ∂_1 f(y))
//! straight-through   r(s) = (1/τ) y_0 y_1 (∂_0 f(h) - ∂_1 f(h)),   h = e_0 if s ≥ 0 else e_1
//! E φ(s) = ∫_ℝ τ p(τ s - a) φ(s) ds            (split at s = 0, each half by exp-sinh)
//! Gumbel-Rao (m)     mean = E r_ST,  Var = Var_d(μ_d) + E_d[σ_d²]/m,
//!                    μ_d, σ_d² the mean and variance of r_ST given argmax = d,
//!                    P(d = 0) = σ(a)
//! ```
//! The covariance of a row `(r, -r)` is `Var(r)·[[1, -1], [-1, 1]]`. The gradient of the
//! relaxed objective is the Gumbel-Softmax mean, `∇L_τ = (E r, -E r)`; with respect to the
//! scalar Bernoulli logit `a` it is `E r` (`L_τ` depends on `l` only through `a`, so
//! `∂/∂a = ∂/∂l_0 = -∂/∂l_1`).
//!
//! # Accuracy
//! Each integral is the exp-sinh rule of [`crate::grad::quadrature`], halved until two levels
//! agree to `1e-13 · scale` (`scale = 1 + max |∇f|` at a vertex, and `/τ` for second moments);
//! the reported `error_estimate` is the propagated `|I_h - I_{h/2}|` of the last halving plus a
//! rounding allowance. How we know the error is below 1e-10 (tests/grad/truth.rs): the estimate
//! itself is below 1e-10 in every tested case (`τ` from 1e-4 to 10, `|a| ≤ 9`); the values match
//! closed forms at `τ = 1` (polynomial integrals at `a = 0`, the difference-of-logistics density
//! for any `a`) to 1e-12; and they match an independent composite Simpson rule (400 000 panels
//! per half line) to 7.6e-14 over `τ ∈ {0.1, 0.5, 1, 3, 10}`, `a ∈ {0, 1.7, -4}`, far inside
//! that rule's own error bound (2e-9).
//!
//! A masked category (`-inf` logit) makes `y` a fixed vertex: every row is exactly 0 and the
//! moments are zeros with error 0.
//!
//! # References
//! - C. J. Maddison, A. Mnih, Y. W. Teh, ICLR 2017, <https://arxiv.org/abs/1611.00712> (the
//!   binary Concrete as `σ((a + L)/τ)`).
//! - M. B. Paulus, C. J. Maddison, A. Krause, ICLR 2021, <https://arxiv.org/abs/2010.04838>
//!   (the variance decomposition of Gumbel-Rao).

use nalgebra::DMatrix;

use crate::distributions::Logits;
use crate::error::{Error, check_temperature};
use crate::grad::quadrature::{Quadrature, real_line};
use crate::grad::{GradientEstimator, GumbelSoftmax, Objective};
use crate::numeric::{ln_sigmoid, sigmoid};
use crate::tolerance::GRAD_TRUTH_REL;

/// Relative tolerance of each integral (times its scale): [`GRAD_TRUTH_REL`].
const REL_TOL: f64 = GRAD_TRUTH_REL;

/// Moments of a row computed by quadrature, with their error estimate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QuadratureMoments {
    /// `E[row]`, length 2.
    pub mean: Vec<f64>,
    /// `Cov[row]`, `2 × 2`.
    pub covariance: DMatrix<f64>,
    /// Estimated absolute error, the largest over the entries of `mean` and `covariance`.
    pub error_estimate: f64,
}

impl QuadratureMoments {
    /// `Var(r) = covariance[(0, 0)]`: the variance of the gradient with respect to the scalar
    /// Bernoulli logit `a = l_0 - l_1`.
    pub fn scalar_variance(&self) -> f64 {
        self.covariance[(0, 0)]
    }
}

fn two_by_two(mean: f64, var: f64, error_estimate: f64) -> QuadratureMoments {
    QuadratureMoments {
        mean: vec![mean, -mean],
        covariance: DMatrix::from_row_slice(2, 2, &[var, -var, -var, var]),
        error_estimate,
    }
}

/// The `k = 2` relaxed ground truth at given logits, temperature and objective.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{truth::TwoCategory, Objective};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // τ = 1, a = 0, linear f: ∇L_τ = (c_0 - c_1) E[σ'(L)] = (c_0 - c_1)/6.
/// let t = TwoCategory::new(&Logits::new(vec![0.0, 0.0])?, 1.0, &Objective::linear(vec![1.0, 0.0])?)?;
/// let m = t.gumbel_softmax_moments();
/// assert!((m.mean[0] - 1.0 / 6.0).abs() < 1e-13 && m.error_estimate < 1e-10);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TwoCategory {
    /// `a = l_0 - l_1`; `None` when a category is masked.
    a: Option<f64>,
    tau: f64,
    objective: Objective,
    /// `∂_0 f(e_d) - ∂_1 f(e_d)` for `d = 0, 1`.
    st_slope: [f64; 2],
    scale: f64,
    /// The unmasked category when the other one is masked (unused otherwise).
    sure_vertex: usize,
}

impl TwoCategory {
    /// Ground truth for logits `l` (`k = 2`), temperature `τ` and objective `f`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `l` and `f` have 2 entries; the temperature errors of
    /// [`check_temperature`].
    pub fn new(logits: &Logits, temperature: f64, objective: &Objective) -> Result<Self, Error> {
        if logits.len() != 2 {
            return Err(Error::WrongLength {
                expected: 2,
                found: logits.len(),
            });
        }
        objective.check_len(2)?;
        let tau = check_temperature(temperature)?;
        let l = logits.values();
        let a = if l[0].is_finite() && l[1].is_finite() {
            Some(l[0] - l[1])
        } else {
            None
        };
        let mut st_slope = [0.0; 2];
        let mut scale: f64 = 1.0;
        for (d, slope) in st_slope.iter_mut().enumerate() {
            let mut v = [0.0; 2];
            objective.gradient_at_vertex_into(d, &mut v);
            *slope = v[0] - v[1];
            scale = scale.max(v[0].abs()).max(v[1].abs());
        }
        Ok(TwoCategory {
            a,
            tau,
            objective: objective.clone(),
            st_slope,
            scale,
            sure_vertex: if l[0] == f64::NEG_INFINITY { 1 } else { 0 },
        })
    }

    /// The logit difference `a = l_0 - l_1` (`None` when a category is masked).
    pub fn logit_difference(&self) -> Option<f64> {
        self.a
    }

    /// `E φ(s) = ∫ τ p(τ s - a) φ(s) ds`, `φ` bounded and smooth on each side of `s = 0`.
    fn expect<F: Fn(f64) -> f64>(&self, a: f64, phi: F, tol: f64) -> Quadrature {
        let tau = self.tau;
        real_line(
            |s| {
                let x = tau * s - a;
                let density = (ln_sigmoid(x) + ln_sigmoid(-x)).exp();
                if density == 0.0 {
                    0.0
                } else {
                    tau * density * phi(s)
                }
            },
            tol,
        )
    }

    /// `y_0 y_1 / τ` at `s`, in log space.
    fn jac(&self, s: f64) -> f64 {
        (ln_sigmoid(s) + ln_sigmoid(-s)).exp() / self.tau
    }

    /// The Gumbel-Softmax row's `r(s)`.
    fn r_gs(&self, s: f64) -> f64 {
        let y = [sigmoid(s), sigmoid(-s)];
        let mut v = [0.0; 2];
        self.objective.gradient_into(&y, &mut v);
        self.jac(s) * (v[0] - v[1])
    }

    /// The straight-through row's `r(s)`.
    fn r_st(&self, s: f64) -> f64 {
        let d = if s >= 0.0 { 0 } else { 1 };
        self.jac(s) * self.st_slope[d]
    }

    /// Mean and variance of `r` with a combined error estimate.
    fn moments_of<F: Fn(f64) -> f64>(&self, r: F) -> QuadratureMoments {
        let Some(a) = self.a else {
            return two_by_two(0.0, 0.0, 0.0);
        };
        let s1 = self.scale;
        let s2 = self.scale * self.scale / self.tau.min(1.0);
        let m1 = self.expect(a, &r, REL_TOL * s1);
        let m2 = self.expect(a, |s| r(s) * r(s), REL_TOL * s2);
        let var = m2.value - m1.value * m1.value;
        let e1 = m1.error_estimate;
        let e_var = m2.error_estimate + 2.0 * m1.value.abs() * e1 + e1 * e1;
        two_by_two(m1.value, var, e1.max(e_var))
    }

    /// Moments of the Gumbel-Softmax pathwise row; its mean is `∇L_τ`, the gradient of the
    /// relaxed objective.
    pub fn gumbel_softmax_moments(&self) -> QuadratureMoments {
        self.moments_of(|s| self.r_gs(s))
    }

    /// Moments of the straight-through row.
    pub fn straight_through_moments(&self) -> QuadratureMoments {
        self.moments_of(|s| self.r_st(s))
    }

    /// The relaxed objective `L_τ = E_g f(y)` itself, by the same quadrature.
    pub fn relaxed_objective(&self) -> Quadrature {
        let f = |s: f64| self.objective.value_unchecked(&[sigmoid(s), sigmoid(-s)]);
        match self.a {
            Some(a) => self.expect(a, f, REL_TOL * self.scale),
            None => {
                // One category is masked: y is the other vertex, surely.
                let mut y = [0.0; 2];
                y[self.sure_vertex] = 1.0;
                Quadrature {
                    value: self.objective.value_unchecked(&y),
                    error_estimate: 0.0,
                    evaluations: 0,
                }
            }
        }
    }

    /// Moments of the straight-through row **given** `argmax z = d` (the quantity Gumbel-Rao
    /// estimates), with `P(argmax z = d)`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for `d ≥ 2`.
    pub fn straight_through_given(&self, d: usize) -> Result<ConditionalMoments, Error> {
        if d >= 2 {
            return Err(Error::IndexOutOfRange { index: d, k: 2 });
        }
        let Some(a) = self.a else {
            return Ok(ConditionalMoments {
                probability: f64::NAN,
                moments: two_by_two(0.0, 0.0, 0.0),
            });
        };
        let probability = if d == 0 { sigmoid(a) } else { sigmoid(-a) };
        let side = |s: f64| if (s >= 0.0) == (d == 0) { 1.0 } else { 0.0 };
        let s1 = self.scale;
        let s2 = self.scale * self.scale / self.tau.min(1.0);
        let m1 = self.expect(a, |s| side(s) * self.r_st(s), REL_TOL * s1 * probability);
        let m2 = self.expect(
            a,
            |s| side(s) * self.r_st(s).powi(2),
            REL_TOL * s2 * probability,
        );
        let mean = m1.value / probability;
        let var = m2.value / probability - mean * mean;
        let e1 = m1.error_estimate / probability;
        let e_var = m2.error_estimate / probability + 2.0 * mean.abs() * e1 + e1 * e1;
        Ok(ConditionalMoments {
            probability,
            moments: two_by_two(mean, var, e1.max(e_var)),
        })
    }

    /// Moments of the Gumbel-Rao row with `m` conditional draws:
    /// mean `E r_ST`, variance `Var_d(μ_d) + E_d[σ_d²]/m`.
    ///
    /// # Errors
    /// [`Error::CountZero`] for `m = 0`.
    pub fn gumbel_rao_moments(&self, draws: usize) -> Result<QuadratureMoments, Error> {
        if draws == 0 {
            return Err(Error::CountZero {
                name: "conditional draws m",
            });
        }
        if self.a.is_none() {
            return Ok(two_by_two(0.0, 0.0, 0.0));
        }
        let c0 = self.straight_through_given(0)?;
        let c1 = self.straight_through_given(1)?;
        let (p0, p1) = (c0.probability, c1.probability);
        let (mu0, mu1) = (c0.moments.mean[0], c1.moments.mean[0]);
        let (v0, v1) = (c0.moments.scalar_variance(), c1.moments.scalar_variance());
        let mean = p0 * mu0 + p1 * mu1;
        // Var_d(μ_d) = p0 p1 (μ0 - μ1)².
        let between = p0 * p1 * (mu0 - mu1) * (mu0 - mu1);
        let within = p0 * v0 + p1 * v1;
        let var = between + within / draws as f64;
        let e = c0.moments.error_estimate + c1.moments.error_estimate;
        let e_var = e * (1.0 + 2.0 * (mu0 - mu1).abs() + e);
        Ok(two_by_two(mean, var, e.max(e_var)))
    }
}

/// Moments of a row conditional on the hard category, with the category's probability.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConditionalMoments {
    /// `P(argmax z = d)` (NaN when a category is masked and the question is moot).
    pub probability: f64,
    /// Conditional mean and covariance.
    pub moments: QuadratureMoments,
}

/// A Monte Carlo estimate of a mean vector with per-coordinate standard errors.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MonteCarloMean {
    /// Sample mean, length `k`.
    pub mean: Vec<f64>,
    /// Standard error of each coordinate, `sd / √n`.
    pub standard_error: Vec<f64>,
    /// Number of samples `n`.
    pub n: usize,
}

/// `∇L_τ` for any `k`, estimated by `n` Gumbel-Softmax pathwise rows (unbiased for it) from
/// [`crate::rng::seeded`]`(seed)`, with standard errors (Welford's one-pass variance).
///
/// # Independence
/// This truth averages the Gumbel-Softmax rows of [`GumbelSoftmax`] themselves, so it inherits
/// any bug in them: it is a ground truth for *other* code (an adapter, the straight-through
/// bias), never for testing [`GumbelSoftmax`]. `tests/grad/unbiased.rs` tests the pathwise rows
/// against the score-function estimator of the Concrete density instead, which shares no code
/// with them. Likewise [`crate::grad::LeaveOneOut::exact_moments`] enumerates the library's own
/// rows and is not an independent truth for them.
///
/// # Errors
/// [`Error::WrongLength`] and the temperature errors of [`GumbelSoftmax::new`];
/// [`Error::InvalidParameter`] for `n < 2` (a standard error needs two samples).
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{truth::relaxed_gradient_monte_carlo, Objective};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let l = Logits::new(vec![0.0, 0.5, -0.5])?;
/// let est = relaxed_gradient_monte_carlo(&l, 0.5, &Objective::linear(vec![1.0, 0.0, 0.0])?, 10_000, 1)?;
/// assert!(est.standard_error.iter().all(|&se| se > 0.0 && se < 0.01));
/// # Ok(()) }
/// ```
pub fn relaxed_gradient_monte_carlo(
    logits: &Logits,
    temperature: f64,
    objective: &Objective,
    n: usize,
    seed: u64,
) -> Result<MonteCarloMean, Error> {
    if n < 2 {
        return Err(Error::InvalidParameter {
            name: "sample size n",
            value: n as f64,
            rule: "at least 2",
        });
    }
    let gs = GumbelSoftmax::new(logits.clone(), temperature, objective.clone())?;
    let k = gs.len();
    let mut rng = crate::rng::seeded(seed);
    let mut mean = vec![0.0; k];
    let mut m2 = vec![0.0; k];
    for i in 0..n {
        let row = gs.sample_row(&mut rng);
        let w = 1.0 / (i + 1) as f64;
        for ((mu, s), &x) in mean.iter_mut().zip(m2.iter_mut()).zip(&row) {
            let delta = x - *mu;
            *mu += delta * w;
            *s += delta * (x - *mu);
        }
    }
    let nf = n as f64;
    let standard_error = m2.iter().map(|s| (s / (nf - 1.0) / nf).sqrt()).collect();
    Ok(MonteCarloMean {
        mean,
        standard_error,
        n,
    })
}
