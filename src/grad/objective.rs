//! Objectives with exact answers: `f`, `∇f`, the exact discrete objective, its exact gradient and
//! the exact covariance of the REINFORCE estimator.
//!
//! # Notation
//! Logits `l`, `π = softmax(l)`, `k` categories, `e_i` the `i`-th vertex of the simplex (one-hot
//! row), `f_i = f(e_i)` the vertex values, baseline `b` (a constant).
//!
//! # Formula
//! ```text
//! linear       f(z) = Σ_i c_i z_i              ∇f(z) = c            f_i = c_i
//! quadratic    f(z) = Σ_i (z_i - t_i)²          ∇f(z) = 2 (z - t)    f_i = Σ_j t_j² + 1 - 2 t_i
//!
//! discrete objective   L = Σ_i π_i f_i
//! exact gradient       ∂L/∂l_j = π_j (f_j - L) = π_j Σ_i π_i (f_j - f_i)
//! REINFORCE            ĝ(z) = (f_z - b)(e_z - π),   z ~ Categorical(π)
//! its covariance       C = Σ_z π_z (f_z - b)² (e_z - π)(e_z - π)ᵀ - ∇L ∇Lᵀ
//!                        = diag(v) - v πᵀ - π vᵀ + (Σ_z v_z) π πᵀ - ∇L ∇Lᵀ,   v_z = π_z (f_z - b)²
//! ```
//! The last line is the closed form the code evaluates (`O(k²)`); the sum over `z` is what the
//! tests enumerate, so the two are independent computations of the same matrix.
//!
//! Both objectives are defined on the whole simplex (adapter protocol v1), so the relaxed
//! estimators of [`crate::grad::relaxed`] apply to them as well.
//!
//! # Masked categories
//! A `-inf` logit has `π_i = 0`: it contributes nothing to `L`, its gradient entry is exactly
//! `0`, and its row and column of `C` are exactly `0`.
//!
//! # Numerical notes
//! `f_j - L` is computed as `Σ_i π_i (f_j - f_i)` with a compensated sum, so the gradient keeps
//! its relative accuracy when the vertex values are large and close together (no cancellation
//! between `f_j` and a separately rounded `L`).
//!
//! # References
//! - R. J. Williams, *Simple statistical gradient-following algorithms for connectionist
//!   reinforcement learning*, Machine Learning 8 (1992), <https://doi.org/10.1007/BF00992696>.
//! - docs/design/math.md §3 (the covariance formula is labelled **derived** there; the tests
//!   check it against enumeration).

use nalgebra::DMatrix;

use crate::distributions::Logits;
use crate::error::Error;
use crate::numeric::sum;

/// Which of the two protocol objectives an [`Objective`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectiveKind {
    /// `f(z) = Σ_i c_i z_i` (protocol `{"kind": "linear", "c": [...]}`).
    Linear,
    /// `f(z) = Σ_i (z_i - t_i)²` (protocol `{"kind": "quadratic", "target": [...]}`).
    Quadratic,
}

/// An objective `f` on the simplex with exact discrete answers.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::grad::Objective;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // k = 2, π = (½, ½), f = (z₁ - 0.45)² + (z₂ - 0.55)².
/// let f = Objective::quadratic(vec![0.45, 0.55])?;
/// let l = Logits::new(vec![0.0, 0.0])?;
/// let g = f.exact_gradient(&l)?;
/// // f(e₁) = 0.605, f(e₂) = 0.405, L = 0.505, ∂L/∂l₁ = ½ (0.605 - 0.505) = 0.05.
/// assert!((g[0] - 0.05).abs() < 1e-15 && (g[0] + g[1]).abs() < 1e-15);
/// assert!(Objective::linear(vec![1.0, f64::NAN]).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    kind: ObjectiveKind,
    /// `c` for linear, `t` for quadratic.
    coefficients: Vec<f64>,
}

fn check_coefficients(name: &'static str, values: &[f64]) -> Result<(), Error> {
    if values.is_empty() {
        return Err(Error::NoCategories);
    }
    match values.iter().find(|v| !v.is_finite()) {
        Some(&value) => Err(Error::InvalidParameter {
            name,
            value,
            rule: "finite",
        }),
        None => Ok(()),
    }
}

impl Objective {
    /// The linear objective `f(z) = Σ_i c_i z_i`.
    ///
    /// # Errors
    /// [`Error::NoCategories`] for an empty `c`; [`Error::InvalidParameter`] when a coefficient
    /// is NaN or infinite.
    pub fn linear(c: Vec<f64>) -> Result<Self, Error> {
        check_coefficients("linear coefficient", &c)?;
        Ok(Objective {
            kind: ObjectiveKind::Linear,
            coefficients: c,
        })
    }

    /// The quadratic objective `f(z) = Σ_i (z_i - t_i)²`.
    ///
    /// # Errors
    /// [`Error::NoCategories`] for an empty `t`; [`Error::InvalidParameter`] when a target entry
    /// is NaN or infinite.
    pub fn quadratic(target: Vec<f64>) -> Result<Self, Error> {
        check_coefficients("quadratic target", &target)?;
        Ok(Objective {
            kind: ObjectiveKind::Quadratic,
            coefficients: target,
        })
    }

    /// Linear or quadratic.
    pub fn kind(&self) -> ObjectiveKind {
        self.kind
    }

    /// `c` (linear) or `t` (quadratic).
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// Number of categories `k` the objective is defined for.
    pub fn len(&self) -> usize {
        self.coefficients.len()
    }

    /// Always false: construction guarantees `k ≥ 1`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Checks that a vector of length `found` fits this objective.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `found == k`.
    pub fn check_len(&self, found: usize) -> Result<(), Error> {
        if found == self.len() {
            Ok(())
        } else {
            Err(Error::WrongLength {
                expected: self.len(),
                found,
            })
        }
    }

    /// `f(z)` at any point `z ∈ ℝᵏ` (the simplex is where it is used).
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `z.len() == k`.
    pub fn value(&self, z: &[f64]) -> Result<f64, Error> {
        self.check_len(z.len())?;
        Ok(self.value_unchecked(z))
    }

    pub(crate) fn value_unchecked(&self, z: &[f64]) -> f64 {
        let terms = z.iter().zip(&self.coefficients);
        match self.kind {
            ObjectiveKind::Linear => sum(terms.map(|(&zi, &ci)| ci * zi)),
            ObjectiveKind::Quadratic => sum(terms.map(|(&zi, &ti)| (zi - ti) * (zi - ti))),
        }
    }

    /// `∇f(z)`: `c` (linear) or `2 (z - t)` (quadratic).
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless `z.len() == k`.
    pub fn gradient(&self, z: &[f64]) -> Result<Vec<f64>, Error> {
        self.check_len(z.len())?;
        let mut out = vec![0.0; self.len()];
        self.gradient_into(z, &mut out);
        Ok(out)
    }

    /// `∇f(z)` into `out` (lengths already checked).
    pub(crate) fn gradient_into(&self, z: &[f64], out: &mut [f64]) {
        match self.kind {
            ObjectiveKind::Linear => out.copy_from_slice(&self.coefficients),
            ObjectiveKind::Quadratic => {
                for ((o, &zi), &ti) in out.iter_mut().zip(z).zip(&self.coefficients) {
                    *o = 2.0 * (zi - ti);
                }
            }
        }
    }

    /// `∇f(e_d)` into `out`, the gradient at a vertex (the straight-through forward value).
    pub(crate) fn gradient_at_vertex_into(&self, d: usize, out: &mut [f64]) {
        match self.kind {
            ObjectiveKind::Linear => out.copy_from_slice(&self.coefficients),
            ObjectiveKind::Quadratic => {
                for (i, (o, &ti)) in out.iter_mut().zip(&self.coefficients).enumerate() {
                    let zi = if i == d { 1.0 } else { 0.0 };
                    *o = 2.0 * (zi - ti);
                }
            }
        }
    }

    /// The vertex values `f_i = f(e_i)`, `i = 0 … k-1`.
    pub fn vertex_values(&self) -> Vec<f64> {
        match self.kind {
            ObjectiveKind::Linear => self.coefficients.clone(),
            ObjectiveKind::Quadratic => {
                let sq = sum(self.coefficients.iter().map(|t| t * t));
                // (1 - t_i)² + Σ_{j≠i} t_j² = Σ_j t_j² + (1 - 2 t_i).
                self.coefficients
                    .iter()
                    .map(|&ti| sq + (1.0 - 2.0 * ti))
                    .collect()
            }
        }
    }

    fn probs_checked(&self, logits: &Logits) -> Result<Vec<f64>, Error> {
        self.check_len(logits.len())?;
        Ok(logits.probs())
    }

    /// The discrete objective `L = Σ_i π_i f(e_i)`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless the logits have `k` entries.
    pub fn exact_objective(&self, logits: &Logits) -> Result<f64, Error> {
        let p = self.probs_checked(logits)?;
        let fv = self.vertex_values();
        Ok(sum(p.iter().zip(&fv).map(|(&pi, &fi)| pi * fi)))
    }

    /// The exact gradient `∂L/∂l_j = π_j (f_j - L)`; masked entries are exactly 0.
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless the logits have `k` entries.
    pub fn exact_gradient(&self, logits: &Logits) -> Result<Vec<f64>, Error> {
        let p = self.probs_checked(logits)?;
        let fv = self.vertex_values();
        Ok(p.iter()
            .zip(&fv)
            .map(|(&pj, &fj)| {
                if pj == 0.0 {
                    0.0
                } else {
                    pj * sum(p.iter().zip(&fv).map(|(&pi, &fi)| pi * (fj - fi)))
                }
            })
            .collect())
    }

    /// The exact covariance matrix (`k × k`) of the REINFORCE estimator
    /// `ĝ = (f(e_z) - b)(e_z - π)` with constant baseline `b` (`0` for no baseline).
    ///
    /// # Errors
    /// [`Error::WrongLength`] unless the logits have `k` entries; [`Error::InvalidParameter`]
    /// when `b` is not finite.
    pub fn reinforce_covariance(
        &self,
        logits: &Logits,
        baseline: f64,
    ) -> Result<DMatrix<f64>, Error> {
        if !baseline.is_finite() {
            return Err(Error::InvalidParameter {
                name: "baseline",
                value: baseline,
                rule: "finite",
            });
        }
        let p = self.probs_checked(logits)?;
        let grad = self.exact_gradient(logits)?;
        let fv = self.vertex_values();
        let k = p.len();
        let v: Vec<f64> = p
            .iter()
            .zip(&fv)
            .map(|(&pz, &fz)| pz * (fz - baseline) * (fz - baseline))
            .collect();
        let sv = sum(v.iter().copied());
        let mut cov = DMatrix::zeros(k, k);
        for i in 0..k {
            for j in 0..=i {
                let diag = if i == j { v[i] } else { 0.0 };
                let c = diag - (v[i] * p[j] + p[i] * v[j]) + sv * p[i] * p[j] - grad[i] * grad[j];
                // Symmetric by construction (the two orders of evaluation round differently).
                cov[(i, j)] = c;
                cov[(j, i)] = c;
            }
        }
        Ok(cov)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn constructor_rules() {
        assert_eq!(Objective::linear(vec![]), Err(Error::NoCategories));
        assert!(matches!(
            Objective::quadratic(vec![0.0, f64::INFINITY]),
            Err(Error::InvalidParameter { .. })
        ));
        let f = Objective::linear(vec![1.0, 2.0]).unwrap();
        assert!(matches!(
            f.value(&[1.0]),
            Err(Error::WrongLength {
                expected: 2,
                found: 1
            })
        ));
        let l = Logits::new(vec![0.0, 0.0, 0.0]).unwrap();
        assert!(f.exact_gradient(&l).is_err());
        let l2 = Logits::new(vec![0.0, 0.0]).unwrap();
        assert!(f.reinforce_covariance(&l2, f64::NAN).is_err());
    }

    #[test]
    fn vertex_values_match_value() {
        let f = Objective::quadratic(vec![0.3, -1.2, 2.5]).unwrap();
        let fv = f.vertex_values();
        for (i, &fi) in fv.iter().enumerate() {
            let mut e = vec![0.0; 3];
            e[i] = 1.0;
            assert_relative_eq!(fi, f.value(&e).unwrap(), max_relative = 1e-15);
            let mut g = vec![0.0; 3];
            f.gradient_at_vertex_into(i, &mut g);
            assert_eq!(g, f.gradient(&e).unwrap());
        }
    }

    #[test]
    fn masked_category_is_exactly_zero() {
        let f = Objective::linear(vec![1.0, -2.0, 5.0]).unwrap();
        let l = Logits::new(vec![0.3, f64::NEG_INFINITY, -0.7]).unwrap();
        let g = f.exact_gradient(&l).unwrap();
        assert_eq!(g[1], 0.0);
        let c = f.reinforce_covariance(&l, 0.5).unwrap();
        for j in 0..3 {
            assert_eq!(c[(1, j)], 0.0);
            assert_eq!(c[(j, 1)], 0.0);
        }
    }
}
