//! Open-interval uniforms: the only source of randomness for every sampler in the crate.
//!
//! A uniform of exactly 0 or 1 turns Gumbel noise into `±inf` and a softmax into NaN, the most
//! frequent bug of this family (docs/design/math.md §1). Here it cannot happen by construction.
//!
//! # Formula
//! ```text
//! u = (⌊b / 2¹²⌋ + ½) · 2⁻⁵²,   b a uniform 64-bit word
//! ```
//! so `u` takes the `2⁵²` values `(m + ½)·2⁻⁵²`, `m = 0 … 2⁵² - 1`, each with probability `2⁻⁵²`.
//!
//! # Numerical notes
//! - Range: exactly `[2⁻⁵³, 1 - 2⁻⁵³]`, symmetric about ½; both ends are representable, and
//!   `1 - u` is computed exactly, which the Gumbel and logistic transforms use for the upper
//!   tail.
//! - The all-zero word gives `2⁻⁵³`, the all-one word `1 - 2⁻⁵³` (tested with a constant RNG).
//! - The top 52 bits of the word are used, so a `ChaCha8Rng` stream is portable across
//!   platforms (value stability).

use rand::Rng;

/// The smallest uniform this module produces, `2⁻⁵³`.
pub const U_MIN: f64 = 1.0 / 9_007_199_254_740_992.0;
/// The largest uniform this module produces, `1 - 2⁻⁵³`.
pub const U_MAX: f64 = 1.0 - U_MIN;

/// Maps a 64-bit word to an open-interval uniform in `[2⁻⁵³, 1 - 2⁻⁵³]`.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::uniform::{open_uniform_from_bits, U_MAX, U_MIN};
/// assert_eq!(open_uniform_from_bits(0), U_MIN);
/// assert_eq!(open_uniform_from_bits(u64::MAX), U_MAX);
/// assert_eq!(open_uniform_from_bits(1 << 63), 0.5 + U_MIN);
/// ```
#[inline]
pub fn open_uniform_from_bits(bits: u64) -> f64 {
    const SCALE: f64 = 1.0 / 4_503_599_627_370_496.0; // 2⁻⁵²
    ((bits >> 12) as f64 + 0.5) * SCALE
}

/// Draws one open-interval uniform from `rng` (one 64-bit word).
#[inline]
pub fn open_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    open_uniform_from_bits(rng.next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_is_open_and_symmetric() {
        const { assert!(U_MIN > 0.0 && U_MAX < 1.0) };
        assert_eq!(U_MIN, 2f64.powi(-53));
        assert_eq!(1.0 - U_MAX, U_MIN);
        assert_eq!(open_uniform_from_bits(0), U_MIN);
        assert_eq!(open_uniform_from_bits(u64::MAX), U_MAX);
        // The low 12 bits are discarded.
        assert_eq!(open_uniform_from_bits(0xfff), U_MIN);
    }

    #[test]
    fn values_are_symmetric_pairs() {
        for m in [0_u64, 1, 12345, (1 << 51) - 7] {
            let lo = open_uniform_from_bits(m << 12);
            let hi = open_uniform_from_bits(((1 << 52) - 1 - m) << 12);
            assert_eq!(lo, 1.0 - hi);
        }
    }
}
