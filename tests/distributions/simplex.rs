//! The tolerance on `|Σ y - 1|` of a Concrete sample computed from noise, shared by
//! properties.rs, range.rs and edge_uniforms.rs.

use gumbel_audit::distributions::gumbel::STANDARD_NOISE_MAX;

/// Tolerance on `|Σ y - 1|` for a sample computed from noise in the samplers' range.
///
/// `y_i = exp(s_i - lse(s))` with `s_i = (l_i - max l + g_i)/τ`. The largest score is
/// `max_i(l_i - max l + g_i)/τ ∈ [STANDARD_NOISE_MIN, STANDARD_NOISE_MAX]/τ`, so `lse(s)` is
/// known to an absolute error of about `ε(36.74/τ + ln k)`; that error enters every `ln y_i`
/// and becomes a relative error of `y_i`, so of `Σ y` (`Σ y = 1`). The exponentials add `ε`
/// each and the test's naive summation `k ε`. Factor 4 for safety.
pub fn simplex_sum_tol(k: usize, tau: f64) -> f64 {
    4.0 * f64::EPSILON * (k as f64 + STANDARD_NOISE_MAX / tau + (k as f64).ln() + 2.0)
}
