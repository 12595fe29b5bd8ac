//! Gradient estimators for categorical and relaxed objectives, and their exact ground truth.
//!
//! # Notation
//! Logits `l` (`logits`), `π = softmax(l)`, temperature `τ` (`temperature`), `k` categories,
//! noise `g_i` iid standard Gumbel, `z = l + g`, relaxed sample `y = softmax(z/τ)`, hard sample
//! `h = onehot(argmax z)`, objective `f` ([`Objective`]), discrete objective
//! `L(l) = Σ_i π_i f(e_i)`, relaxed objective `L_τ(l) = E_g f(y)`.
//!
//! # Formula
//! Every estimator returns one **row**: an estimate of a gradient with respect to the logits,
//! a vector of length `k` whose entries sum to zero (shift invariance `l → l + c`).
//! ```text
//! REINFORCE            (f(e_z) - b)(e_z - π)                   unbiased for ∇L      reinforce.rs
//! leave-one-out        (1/m) Σ_i [f(x_i) - mean_{j≠i} f(x_j)](e_{x_i} - π)
//!                                                              unbiased for ∇L      reinforce.rs
//! Gumbel-Softmax       (1/τ)(y ⊙ ∇f(y) - y (yᵀ∇f(y)))          unbiased for ∇L_τ    relaxed.rs
//! straight-through     (1/τ)(y ⊙ ∇f(h) - y (yᵀ∇f(h)))          biased               relaxed.rs
//! Gumbel-Rao (m)       mean of the straight-through row over m draws of z | argmax z
//!                                                              same mean as ST      relaxed.rs
//! ```
//! Ground truth: [`Objective`] gives `L`, `∇L` and the REINFORCE covariance exactly;
//! [`truth`] gives `∇L_τ` and the moments of the relaxed estimators by quadrature for `k = 2`
//! (error below 1e-10) and by Monte Carlo with a standard error for larger `k`.
//!
//! # Determinism
//! Each estimator is a pure function of its noise (`row` methods take the drawn category, the
//! Gumbel noise or the conditional uniforms), plus seeded sampling through
//! [`crate::rng::seeded`] ([`GradientEstimator::sample`]).
//!
//! # References
//! - E. Jang, S. Gu, B. Poole, *Categorical Reparameterization with Gumbel-Softmax*, ICLR 2017,
//!   <https://arxiv.org/abs/1611.01144>.
//! - C. J. Maddison, A. Mnih, Y. W. Teh, *The Concrete Distribution*, ICLR 2017,
//!   <https://arxiv.org/abs/1611.00712>.
//! - W. Kool, H. van Hoof, M. Welling, *Buy 4 REINFORCE Samples, Get a Baseline for Free!*,
//!   ICLR 2019 workshop DeepRLStructPred, <https://openreview.net/forum?id=r1lgTGL5DE>.
//! - M. B. Paulus, C. J. Maddison, A. Krause, *Rao-Blackwellizing the Straight-Through
//!   Gumbel-Softmax Gradient Estimator*, ICLR 2021, <https://arxiv.org/abs/2010.04838>.

use nalgebra::DMatrix;

use crate::rng::ChaCha8Rng;

pub mod objective;
pub mod quadrature;
pub mod reinforce;
pub mod relaxed;
pub mod truth;

pub use objective::{Objective, ObjectiveKind};
pub use reinforce::{Baseline, LeaveOneOut, Reinforce};
pub use relaxed::{GumbelRao, GumbelSoftmax, StraightThrough};

/// Exact mean vector and covariance matrix of a gradient estimator's row.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExactMoments {
    /// `E[ĝ]`, length `k`.
    pub mean: Vec<f64>,
    /// `Cov[ĝ]`, `k × k`.
    pub covariance: DMatrix<f64>,
}

/// A gradient estimator that can draw its own noise: the common face of every estimator here,
/// for code that iterates over estimators (the variance study, the audit battery).
pub trait GradientEstimator {
    /// The estimator's name in adapter protocol v1 (`"reinforce"`, `"gumbel_softmax"`,
    /// `"straight_through"`, `"gumbel_rao"`; `"reinforce_loo"` for leave-one-out).
    fn name(&self) -> &'static str;

    /// Number of categories `k` (the length of a row).
    fn len(&self) -> usize;

    /// Always false (`k ≥ 1`).
    fn is_empty(&self) -> bool {
        false
    }

    /// One row, from fresh noise drawn from `rng`.
    fn sample_row(&self, rng: &mut ChaCha8Rng) -> Vec<f64>;

    /// `n` independent rows (an `n × k` matrix) from [`crate::rng::seeded`]`(seed)`.
    fn sample(&self, n: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = crate::rng::seeded(seed);
        let mut out = DMatrix::zeros(n, self.len());
        for r in 0..n {
            let row = self.sample_row(&mut rng);
            for (c, v) in row.into_iter().enumerate() {
                out[(r, c)] = v;
            }
        }
        out
    }
}
