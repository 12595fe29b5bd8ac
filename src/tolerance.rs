//! Tolerances of the library, in one place, each with the reason for its size (STYLE.md §6).

/// How far `Σ y_i` may stray from 1 for a point to count as on the simplex (`|Σ y - 1| ≤ this`).
///
/// The density is then evaluated at the renormalised point `y / Σ y`. 1e-6 admits rows that
/// were computed in float32 and widened (each entry carries a relative error of about 6e-8, so
/// a row of k ≤ 16 entries sums within ~1e-6 of 1), as `torch.distributions.constraints.simplex`
/// does, while rejecting points that are plainly off the simplex. Points computed in f64 sit
/// within ~k·1e-16.
pub const SIMPLEX_SUM: f64 = 1e-6;

/// How far `logsumexp(x)` may stray from 0 for a log-space point `x = ln y` (ExpConcrete).
/// The same 1e-6 as [`SIMPLEX_SUM`]: `logsumexp(ln y) = ln Σ y ≈ Σ y - 1`.
pub const LOG_SIMPLEX_SUM: f64 = 1e-6;

/// The smallest ratio of the smallest to the largest eigenvalue of a covariance matrix that
/// Hotelling's T² accepts; below it the matrix is treated as singular
/// ([`crate::Error::SingularCovariance`]). At 1e-12 the inverse still carries about 4 correct
/// digits (f64 has ~16; a relative perturbation ε of the matrix moves `S⁻¹` by ~ε/condition), while
/// rows that sum to a constant (condition ~1e-16 from rounding alone) are caught.
pub const COVARIANCE_CONDITION: f64 = 1e-12;
