//! Relaxed (reparameterised) gradient estimators: Gumbel-Softmax pathwise, straight-through
//! Gumbel-Softmax, and Gumbel-Rao.
//!
//! # Notation
//! Logits `l`, temperature `τ`, standard Gumbel noise `g`, `z = l + g`, `y = softmax(z/τ)`,
//! `d = argmax z`, `h = e_d`, objective `f`, conditional draws per row `m` (`draws`).
//!
//! # Formula
//! The Jacobian of `y` with respect to `l` is `(1/τ)(diag y - y yᵀ)`, symmetric, so for any
//! vector `v` the backward pass is
//! ```text
//! J(y)ᵀ v = (1/τ)(y ⊙ v - y (yᵀ v))
//! Gumbel-Softmax     row = J(y)ᵀ ∇f(y)          = ∇_l f(y(l, g))   (pathwise)
//! straight-through   row = J(y)ᵀ ∇f(h)          (forward value f(h), backward through y)
//! Gumbel-Rao         row = (1/m) Σ_r J(y⁽ʳ⁾)ᵀ ∇f(h),  y⁽ʳ⁾ = softmax(z⁽ʳ⁾/τ),
//!                    z⁽ʳ⁾ ~ z | argmax z = d   drawn as
//!                    z_d = logsumexp(l) + G(u_d)                 (max ~ Gumbel(logsumexp l))
//!                    z_i = TruncatedGumbel(l_i, z_d)(u_i), i ≠ d (truncated at z_d)
//! ```
//! where `G(u) = -ln(-ln u)` and `u⁽ʳ⁾` are `k` open-interval uniforms per draw
//! (docs/design/math.md §2 facts 4 and 5). The conditional draw uses the hard sample `d`
//! only, not the original maximum (Paulus et al. 2021, Alg. 1): `z⁽ʳ⁾` has exactly the law of
//! `z` given `argmax z = d`, so the Gumbel-Rao row is `E[straight-through row | d]` estimated
//! from `m` draws; `m = 1` has the law of straight-through, and the mean does not depend on `m`.
//!
//! Every row sums to zero (`Σ_i y_i (v_i - yᵀv) = yᵀv (1 - Σ y)`).
//!
//! # Numerical notes
//! - `y` comes from [`Concrete::log_from_noise`] (log space, max-subtracted), so tiny `τ` and
//!   large logits neither overflow nor give NaN; `y_i` that underflow give row entries of 0.
//! - Masked categories (`-inf` logits) have `y_i = 0` exactly, so their row entry is exactly 0;
//!   in Gumbel-Rao their conditional score is `-inf`.
//! - `yᵀv` is a compensated sum.
//!
//! # References
//! - E. Jang, S. Gu, B. Poole, ICLR 2017, <https://arxiv.org/abs/1611.01144> (Gumbel-Softmax
//!   and straight-through Gumbel-Softmax).
//! - Y. Bengio, N. Léonard, A. Courville, *Estimating or Propagating Gradients Through
//!   Stochastic Neurons for Conditional Computation*, 2013, <https://arxiv.org/abs/1308.3432>.
//! - M. B. Paulus, C. J. Maddison, A. Krause, ICLR 2021, <https://arxiv.org/abs/2010.04838>.

use rand::Rng;

use crate::distributions::gumbel::{Gumbel, TruncatedGumbel};
use crate::distributions::uniform::open_uniform;
use crate::distributions::{Concrete, Logits};
use crate::error::Error;
use crate::grad::{GradientEstimator, Objective};
use crate::numeric::{argmax, log_sum_exp, sum};
use crate::rng::ChaCha8Rng;

/// `J(y)ᵀ v = (1/τ)(y ⊙ v - y (yᵀ v))`, added to `out` with weight `w`.
fn add_jacobian_t_product(y: &[f64], v: &[f64], inv_tau: f64, w: f64, out: &mut [f64]) {
    let ytv = sum(y.iter().zip(v).map(|(&yi, &vi)| yi * vi));
    for ((o, &yi), &vi) in out.iter_mut().zip(y).zip(v) {
        *o += w * inv_tau * yi * (vi - ytv);
    }
}

/// `y = exp(ln y)` in place.
fn exp_in_place(x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = v.exp();
    }
}

/// Validated state shared by the three relaxed estimators.
#[derive(Debug, Clone, PartialEq)]
struct Relaxed {
    concrete: Concrete,
    objective: Objective,
}

impl Relaxed {
    fn new(logits: Logits, temperature: f64, objective: Objective) -> Result<Self, Error> {
        objective.check_len(logits.len())?;
        Ok(Relaxed {
            concrete: Concrete::new(logits, temperature)?,
            objective,
        })
    }

    fn k(&self) -> usize {
        self.concrete.len()
    }

    fn inv_tau(&self) -> f64 {
        1.0 / self.concrete.temperature()
    }

    fn draw_noise<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let mut g = vec![0.0; self.k()];
        Gumbel::standard().sample_into(rng, &mut g);
        g
    }

    /// `(ln y, d)` from noise; `d` is the first maximiser of `ln y` (equivalently of `z`).
    fn log_sample(&self, noise: &[f64]) -> Result<(Vec<f64>, usize), Error> {
        let log_y = self.concrete.log_from_noise(noise)?;
        // At least one logit is finite and the noise is finite, so some ln y_i is finite.
        let d = argmax(&log_y).ok_or(Error::AllCategoriesMasked)?;
        Ok((log_y, d))
    }
}

/// Gumbel-Softmax pathwise estimator `∇_l f(softmax((l + g)/τ))`.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{GumbelSoftmax, Objective};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let gs = GumbelSoftmax::new(Logits::new(vec![0.0, 0.0])?, 0.5, Objective::linear(vec![1.0, 0.0])?)?;
/// // g = 0: y = (½, ½), row = (1/τ)(y₁ - y₁²)(1, -1) = (0.5, -0.5).
/// let row = gs.row(&[0.0, 0.0])?;
/// assert!((row[0] - 0.5).abs() < 1e-15 && (row[0] + row[1]).abs() < 1e-15);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GumbelSoftmax {
    inner: Relaxed,
}

impl GumbelSoftmax {
    /// The pathwise estimator for `f` at logits `l` and temperature `τ`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] when `f` and `l` have different `k`; the temperature errors of
    /// [`Concrete::new`].
    pub fn new(logits: Logits, temperature: f64, objective: Objective) -> Result<Self, Error> {
        Ok(GumbelSoftmax {
            inner: Relaxed::new(logits, temperature, objective)?,
        })
    }

    /// The Concrete distribution of `y`.
    pub fn concrete(&self) -> &Concrete {
        &self.inner.concrete
    }

    /// The objective `f`.
    pub fn objective(&self) -> &Objective {
        &self.inner.objective
    }

    /// The row for given standard Gumbel noise `g` (one value per category).
    ///
    /// # Errors
    /// [`Error::WrongLength`], [`Error::NoiseNotFinite`].
    pub fn row(&self, noise: &[f64]) -> Result<Vec<f64>, Error> {
        let (mut y, _) = self.inner.log_sample(noise)?;
        exp_in_place(&mut y);
        let mut v = vec![0.0; self.inner.k()];
        self.inner.objective.gradient_into(&y, &mut v);
        let mut out = vec![0.0; self.inner.k()];
        add_jacobian_t_product(&y, &v, self.inner.inv_tau(), 1.0, &mut out);
        Ok(out)
    }

    /// One row from `k` fresh standard Gumbel draws of `rng` (the same draws
    /// [`Concrete::sample`] makes).
    pub fn sample_row_with<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let g = self.inner.draw_noise(rng);
        // Finite noise of the right length: cannot fail.
        self.row(&g).unwrap_or_default()
    }
}

impl GradientEstimator for GumbelSoftmax {
    fn name(&self) -> &'static str {
        "gumbel_softmax"
    }
    fn len(&self) -> usize {
        self.inner.k()
    }
    fn sample_row(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.sample_row_with(rng)
    }
}

/// Straight-through Gumbel-Softmax: forward value `f(h)`, backward `J(y)ᵀ ∇f(h)`.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{Objective, StraightThrough};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let f = Objective::quadratic(vec![0.0, 0.0])?;
/// let st = StraightThrough::new(Logits::new(vec![0.0, 0.0])?, 1.0, f)?;
/// // g = (1, 0): h = e₀, ∇f(h) = (2, 0), y₀ = σ(1), row₀ = y₀(1 - y₀)·2.
/// let row = st.row(&[1.0, 0.0])?;
/// let y0 = 1.0 / (1.0 + (-1.0f64).exp());
/// assert!((row[0] - 2.0 * y0 * (1.0 - y0)).abs() < 1e-15);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StraightThrough {
    inner: Relaxed,
}

impl StraightThrough {
    /// The straight-through estimator for `f` at logits `l` and temperature `τ`.
    ///
    /// # Errors
    /// As [`GumbelSoftmax::new`].
    pub fn new(logits: Logits, temperature: f64, objective: Objective) -> Result<Self, Error> {
        Ok(StraightThrough {
            inner: Relaxed::new(logits, temperature, objective)?,
        })
    }

    /// The Concrete distribution of `y`.
    pub fn concrete(&self) -> &Concrete {
        &self.inner.concrete
    }

    /// The row for given standard Gumbel noise `g`.
    ///
    /// # Errors
    /// [`Error::WrongLength`], [`Error::NoiseNotFinite`].
    pub fn row(&self, noise: &[f64]) -> Result<Vec<f64>, Error> {
        let (mut y, d) = self.inner.log_sample(noise)?;
        exp_in_place(&mut y);
        let mut v = vec![0.0; self.inner.k()];
        self.inner.objective.gradient_at_vertex_into(d, &mut v);
        let mut out = vec![0.0; self.inner.k()];
        add_jacobian_t_product(&y, &v, self.inner.inv_tau(), 1.0, &mut out);
        Ok(out)
    }

    /// The hard sample `d = argmax_i (l_i + g_i)` the row uses.
    ///
    /// # Errors
    /// [`Error::WrongLength`], [`Error::NoiseNotFinite`].
    pub fn hard_category(&self, noise: &[f64]) -> Result<usize, Error> {
        Ok(self.inner.log_sample(noise)?.1)
    }

    /// One row from `k` fresh standard Gumbel draws of `rng`.
    pub fn sample_row_with<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let g = self.inner.draw_noise(rng);
        self.row(&g).unwrap_or_default()
    }
}

impl GradientEstimator for StraightThrough {
    fn name(&self) -> &'static str {
        "straight_through"
    }
    fn len(&self) -> usize {
        self.inner.k()
    }
    fn sample_row(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.sample_row_with(rng)
    }
}

/// Gumbel-Rao: the straight-through row averaged over `m` draws of `z` given `argmax z`.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::{GumbelRao, Objective};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let f = Objective::linear(vec![1.0, 0.0, -1.0])?;
/// let gr = GumbelRao::new(Logits::new(vec![0.5, 0.0, -0.5])?, 0.5, f, 2)?;
/// let row = gr.row(&[0.3, 0.1, -0.2], &[0.2, 0.5, 0.9, 0.7, 0.4, 0.1])?;
/// assert!(row.iter().sum::<f64>().abs() < 1e-15);
/// assert!(gr.row(&[0.3, 0.1, -0.2], &[0.2, 0.5]).is_err()); // needs m·k uniforms
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GumbelRao {
    inner: Relaxed,
    m: usize,
    /// `logsumexp` of the centred logits: the location of `max_i z_i` (shift-invariant form).
    lse_centered: f64,
}

impl GumbelRao {
    /// Gumbel-Rao for `f` at logits `l` and temperature `τ` with `m ≥ 1` conditional draws.
    ///
    /// # Errors
    /// As [`GumbelSoftmax::new`]; [`Error::CountZero`] for `m = 0`.
    pub fn new(
        logits: Logits,
        temperature: f64,
        objective: Objective,
        draws: usize,
    ) -> Result<Self, Error> {
        if draws == 0 {
            return Err(Error::CountZero {
                name: "conditional draws m",
            });
        }
        let lse_centered = log_sum_exp(logits.centered());
        Ok(GumbelRao {
            inner: Relaxed::new(logits, temperature, objective)?,
            m: draws,
            lse_centered,
        })
    }

    /// The number of conditional draws `m`.
    pub fn draws(&self) -> usize {
        self.m
    }

    /// The Concrete distribution of `y`.
    pub fn concrete(&self) -> &Concrete {
        &self.inner.concrete
    }

    /// One conditional draw of the centred scores `z - max l` given `argmax z = d`, from `k`
    /// open-interval uniforms (entry `d` sets the maximum, the others their truncated Gumbel);
    /// masked categories are `-inf` and ignore their uniform.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `uniforms.len() == k`; [`Error::IndexOutOfRange`] or
    /// [`Error::InvalidParameter`] for `d` out of range or masked; [`Error::UniformOutOfRange`].
    pub fn conditional_scores(&self, d: usize, uniforms: &[f64]) -> Result<Vec<f64>, Error> {
        let k = self.inner.k();
        if uniforms.len() != k {
            return Err(Error::WrongLength {
                expected: k,
                found: uniforms.len(),
            });
        }
        let centered = self.inner.concrete.logits().centered();
        if d >= k {
            return Err(Error::IndexOutOfRange { index: d, k });
        }
        if centered[d] == f64::NEG_INFINITY {
            return Err(Error::InvalidParameter {
                name: "hard category",
                value: d as f64,
                rule: "an unmasked category",
            });
        }
        let top = Gumbel::new(self.lse_centered, 1.0)?.from_uniform(uniforms[d])?;
        let mut z = vec![f64::NEG_INFINITY; k];
        for (i, (zi, (&c, &u))) in z.iter_mut().zip(centered.iter().zip(uniforms)).enumerate() {
            if i == d {
                *zi = top;
            } else if c > f64::NEG_INFINITY {
                *zi = TruncatedGumbel::new(c, top)?.from_uniform(u)?;
            }
        }
        Ok(z)
    }

    /// The row for the noise `g` of the original sample (which fixes `d = argmax(l + g)`) and
    /// `m·k` open-interval uniforms for the conditional draws (draw `r` uses
    /// `uniforms[r·k .. (r+1)·k]`).
    ///
    /// # Errors
    /// [`Error::WrongLength`], [`Error::NoiseNotFinite`], [`Error::UniformOutOfRange`].
    pub fn row(&self, noise: &[f64], uniforms: &[f64]) -> Result<Vec<f64>, Error> {
        let k = self.inner.k();
        if uniforms.len() != self.m * k {
            return Err(Error::WrongLength {
                expected: self.m * k,
                found: uniforms.len(),
            });
        }
        let (_, d) = self.inner.log_sample(noise)?;
        self.row_given_category(d, uniforms)
    }

    /// The row given the hard category `d` directly (the Rao-Blackwellised part only).
    ///
    /// # Errors
    /// As [`GumbelRao::conditional_scores`]; [`Error::WrongLength`] unless
    /// `uniforms.len() == m·k`.
    pub fn row_given_category(&self, d: usize, uniforms: &[f64]) -> Result<Vec<f64>, Error> {
        let k = self.inner.k();
        if uniforms.len() != self.m * k {
            return Err(Error::WrongLength {
                expected: self.m * k,
                found: uniforms.len(),
            });
        }
        let inv_tau = self.inner.inv_tau();
        let mut v = vec![0.0; k];
        self.inner.objective.gradient_at_vertex_into(d, &mut v);
        let mut out = vec![0.0; k];
        let w = 1.0 / self.m as f64;
        let mut s = vec![0.0; k];
        for chunk in uniforms.chunks_exact(k) {
            let z = self.conditional_scores(d, chunk)?;
            for (si, &zi) in s.iter_mut().zip(&z) {
                *si = zi * inv_tau;
            }
            let lse = log_sum_exp(&s);
            for si in s.iter_mut() {
                *si = (*si - lse).exp();
            }
            add_jacobian_t_product(&s, &v, inv_tau, w, &mut out);
        }
        Ok(out)
    }

    /// One row: `k` fresh standard Gumbel draws for the hard sample, then `m·k` uniforms.
    pub fn sample_row_with<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let g = self.inner.draw_noise(rng);
        let u: Vec<f64> = (0..self.m * self.inner.k())
            .map(|_| open_uniform(rng))
            .collect();
        self.row(&g, &u).unwrap_or_default()
    }
}

impl GradientEstimator for GumbelRao {
    fn name(&self) -> &'static str {
        "gumbel_rao"
    }
    fn len(&self) -> usize {
        self.inner.k()
    }
    fn sample_row(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.sample_row_with(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits(v: &[f64]) -> Logits {
        Logits::from_slice(v).unwrap()
    }

    #[test]
    fn constructor_rules() {
        let f = Objective::linear(vec![1.0, 2.0]).unwrap();
        assert!(GumbelSoftmax::new(logits(&[0.0, 0.0]), 0.0, f.clone()).is_err());
        assert!(StraightThrough::new(logits(&[0.0]), 1.0, f.clone()).is_err());
        assert!(GumbelRao::new(logits(&[0.0, 0.0]), 1.0, f.clone(), 0).is_err());
        let gs = GumbelSoftmax::new(logits(&[0.0, 0.0]), 1.0, f.clone()).unwrap();
        assert!(matches!(
            gs.row(&[0.0, f64::NAN]),
            Err(Error::NoiseNotFinite { .. })
        ));
        let gr = GumbelRao::new(logits(&[0.0, f64::NEG_INFINITY]), 1.0, f, 1).unwrap();
        assert!(gr.row(&[0.0, 0.0], &[0.5, 0.0]).is_ok()); // masked entry's uniform is ignored
        assert!(matches!(
            gr.row(&[0.0, 0.0], &[1.0, 0.5]),
            Err(Error::UniformOutOfRange { .. })
        ));
        assert!(gr.conditional_scores(1, &[0.5, 0.5]).is_err());
    }

    #[test]
    fn masked_entries_are_exactly_zero() {
        let l = logits(&[0.3, f64::NEG_INFINITY, -1.0]);
        let f = Objective::quadratic(vec![0.1, 0.7, 0.2]).unwrap();
        let g = [0.5, 30.0, -1.0];
        let u = [0.3, 0.6, 0.9, 0.2, 0.8, 0.4];
        let rows = [
            GumbelSoftmax::new(l.clone(), 0.3, f.clone())
                .unwrap()
                .row(&g)
                .unwrap(),
            StraightThrough::new(l.clone(), 0.3, f.clone())
                .unwrap()
                .row(&g)
                .unwrap(),
            GumbelRao::new(l, 0.3, f, 2).unwrap().row(&g, &u).unwrap(),
        ];
        for r in rows {
            assert_eq!(r[1], 0.0, "{r:?}");
            assert!(r[0] != 0.0 && r[2] != 0.0, "{r:?}");
        }
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        let l = logits(&[1e4, -1e4, 0.0]);
        let f = Objective::quadratic(vec![0.5, 0.5, 0.5]).unwrap();
        let g = [36.7, -3.6, 0.0];
        let gs = GumbelSoftmax::new(l.clone(), 1e-3, f.clone()).unwrap();
        assert!(gs.row(&g).unwrap().iter().all(|v| v.is_finite()));
        let gr = GumbelRao::new(l, 1e-3, f, 3).unwrap();
        let u = [1e-16, 0.5, 1.0 - 1e-16, 0.5, 1e-16, 0.9, 0.3, 0.3, 0.3];
        assert!(gr.row(&g, &u).unwrap().iter().all(|v| v.is_finite()));
    }
}
