//! The floating-point formats an implementation may compute in, as facts the audit judges by:
//! IEEE 754 binary16 (`float16`), Google Brain's `bfloat16`, binary32 and binary64. Exact
//! decoding of the two 16-bit formats (Rust has no stable `f16`), rounding of an `f64` to any
//! of the four grids, and each format's limits.
//!
//! # Notation
//! ```text
//! p        precision: significand bits including the implicit one
//!          (float16 11, bfloat16 8, float32 24, float64 53)
//! e_min    exponent of the smallest normal number (float16 -14, bfloat16 and float32 -126,
//!          float64 -1022)
//! ε        2^(1-p), the spacing of the grid just above 1 (float16 2^-10, bfloat16 2^-7)
//! ulp(x)   2^(max(⌊log2 |x|⌋, e_min) + 1 - p): the spacing of the grid at x
//! round(x) the nearest grid value, ties to even; beyond the largest finite value
//!          (2 - 2^(1-p))·2^e_max by half an ulp or more, ±inf (IEEE 754 §4.3.1)
//! ```
//!
//! # The 16-bit formats
//! ```text
//! float16   sign 1, exponent 5 (bias 15), fraction 10; max 65504, smallest normal 2^-14,
//!           smallest subnormal 2^-24
//! bfloat16  the upper 16 bits of a float32: sign 1, exponent 8 (bias 127), fraction 7;
//!           max ≈ 3.39e38, smallest normal 2^-126, smallest subnormal 2^-133
//! ```
//! Every float16 and bfloat16 value is exactly an `f64` (and every bfloat16 value exactly an
//! `f32`), so decoding is exact. A float32 is a bfloat16 value exactly when its low 16 bits are
//! zero (a NaN is a NaN in every format and is accepted whatever its payload).
//!
//! # References
//! - IEEE 754-2019, *Standard for Floating-Point Arithmetic*, §3.6 (binary16) and §4.3.
//! - Google, *bfloat16: the secret to high performance on Cloud TPUs* (2019): the format as the
//!   upper half of binary32.

use crate::audit::target::Dtype;

/// The value of the float16 with bit pattern `bits`, exactly.
pub fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x03ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        0x1f if fraction == 0.0 => sign * f64::INFINITY,
        0x1f => f64::NAN,
        e => sign * (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

/// The value of the bfloat16 with bit pattern `bits`, exactly.
pub fn bf16_to_f64(bits: u16) -> f64 {
    f64::from(f32::from_bits(u32::from(bits) << 16))
}

/// The bfloat16 bit pattern of `x` if `x` is a bfloat16 value (low 16 bits zero, or a NaN),
/// else `None`.
pub fn bf16_from_f32_exact(x: f32) -> Option<u16> {
    let bits = x.to_bits();
    if x.is_nan() {
        // The quiet NaN of the same sign: a NaN's payload carries no value.
        return Some(((bits >> 16) as u16 & 0x8000) | 0x7fc0);
    }
    (bits & 0xffff == 0).then_some((bits >> 16) as u16)
}

/// The float16 bit pattern of `x` rounded to float16 (ties to even; NaN as the quiet NaN).
pub fn f16_bits(x: f64) -> u16 {
    if x.is_nan() {
        return 0x7e00;
    }
    let sign: u16 = if x.is_sign_negative() { 0x8000 } else { 0 };
    let r = round_to(Dtype::Float16, x).abs();
    if r.is_infinite() {
        return sign | 0x7c00;
    }
    if r < FLOAT16.min_normal() {
        // Subnormal (or zero): an exact integer multiple of 2^-24 below 2^10.
        return sign | (r / FLOAT16.min_subnormal()) as u16;
    }
    let e = ((r.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let fraction = ((r / 2f64.powi(e) - 1.0) * 1024.0) as u16;
    sign | (((e + 15) as u16) << 10) | fraction
}

/// The bfloat16 bit pattern of `x` rounded to bfloat16 (ties to even; NaN as the quiet NaN).
pub fn bf16_bits(x: f64) -> u16 {
    if x.is_nan() {
        return 0x7fc0;
    }
    // Every bfloat16 value is a float32, so the conversion of the rounded value is exact.
    ((round_to(Dtype::Bfloat16, x) as f32).to_bits() >> 16) as u16
}

/// `x` rounded to the nearest value of `dtype`'s grid, ties to even (overflow to ±inf,
/// underflow through the subnormals to ±0); NaN and ±inf unchanged.
pub fn round_to(dtype: Dtype, x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let f = dtype.format();
    let quantum = ulp_of(f, x);
    let r = (x / quantum).round_ties_even() * quantum;
    if r.abs() > f.max_finite {
        x.signum() * f64::INFINITY
    } else {
        r
    }
}

/// The spacing of `dtype`'s grid at `x` (`ulp(x)` of the notation; `ulp(0)` is the smallest
/// subnormal).
pub fn ulp(dtype: Dtype, x: f64) -> f64 {
    ulp_of(dtype.format(), x)
}

fn ulp_of(f: Format, x: f64) -> f64 {
    // ⌊log2 |x|⌋ from the f64 exponent field (exact); f64 subnormals lie far below every
    // e_min used here, so the clamp to e_min covers them.
    let biased = ((x.abs().to_bits() >> 52) & 0x7ff) as i32;
    let e = (biased - 1023).max(f.e_min);
    2f64.powi(e + 1 - f.precision)
}

/// The limits of one format (module doc's notation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Format {
    /// `p`: significand bits including the implicit one.
    pub precision: i32,
    /// `e_min`: exponent of the smallest normal number.
    pub e_min: i32,
    /// The largest finite value.
    pub max_finite: f64,
}

impl Format {
    /// `ε = 2^(1-p)`.
    pub fn eps(self) -> f64 {
        2f64.powi(1 - self.precision)
    }

    /// The smallest positive normal number `2^e_min`.
    pub fn min_normal(self) -> f64 {
        2f64.powi(self.e_min)
    }

    /// The smallest positive subnormal number `2^(e_min + 1 - p)`.
    pub fn min_subnormal(self) -> f64 {
        2f64.powi(self.e_min + 1 - self.precision)
    }
}

/// IEEE binary16.
pub const FLOAT16: Format = Format {
    precision: 11,
    e_min: -14,
    max_finite: 65504.0,
};

/// bfloat16: binary32's exponent range with 8 bits of precision.
pub const BFLOAT16: Format = Format {
    precision: 8,
    e_min: -126,
    // (2 - 2^-7)·2^127
    max_finite: 3.3895313892515355e38,
};

/// IEEE binary32.
pub const FLOAT32: Format = Format {
    precision: 24,
    e_min: -126,
    max_finite: f32::MAX as f64,
};

/// IEEE binary64.
pub const FLOAT64: Format = Format {
    precision: 53,
    e_min: -1022,
    max_finite: f64::MAX,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_limits_match_the_standard_types() {
        assert_eq!(FLOAT32.eps(), f64::from(f32::EPSILON));
        assert_eq!(FLOAT32.min_normal(), f64::from(f32::MIN_POSITIVE));
        assert_eq!(FLOAT32.min_subnormal(), f64::from(f32::from_bits(1)));
        assert_eq!(FLOAT64.eps(), f64::EPSILON);
        assert_eq!(FLOAT64.min_subnormal(), f64::from_bits(1));
        assert_eq!(FLOAT16.eps(), 2f64.powi(-10));
        assert_eq!(FLOAT16.min_subnormal(), f16_to_f64(1));
        assert_eq!(FLOAT16.min_normal(), f16_to_f64(0x0400));
        assert_eq!(FLOAT16.max_finite, f16_to_f64(0x7bff));
        assert_eq!(BFLOAT16.max_finite, bf16_to_f64(0x7f7f));
        assert_eq!(BFLOAT16.min_subnormal(), bf16_to_f64(1));
    }

    #[test]
    fn float16_decoding_is_monotone_and_special_values_are_right() {
        // Positive finite patterns 0x0000..=0x7bff increase strictly, each step one ulp.
        for b in 0u16..0x7bff {
            let (a, c) = (f16_to_f64(b), f16_to_f64(b + 1));
            assert!(c > a, "{b:#x}");
            assert_eq!(c - a, ulp(Dtype::Float16, a), "{b:#x}");
            assert_eq!(f16_to_f64(b | 0x8000), -a);
        }
        assert_eq!(f16_to_f64(0x7c00), f64::INFINITY);
        assert_eq!(f16_to_f64(0xfc00), f64::NEG_INFINITY);
        assert!(f16_to_f64(0x7e00).is_nan());
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0x3555), 0.333251953125);
    }

    #[test]
    fn rounding_lands_on_the_grid_ties_to_even_and_overflows_as_ieee() {
        for b in 0u16..0x7c00 {
            let v = f16_to_f64(b);
            assert_eq!(round_to(Dtype::Float16, v), v, "{b:#x} is on the grid");
        }
        // 1 + ε/2 is a tie between 1 and 1 + ε: to even (1).
        let e = 2f64.powi(-10);
        assert_eq!(round_to(Dtype::Float16, 1.0 + e / 2.0), 1.0);
        assert_eq!(round_to(Dtype::Float16, 1.0 + 1.5 * e), 1.0 + 2.0 * e);
        // 65520 = max + half an ulp rounds to inf; just below it to max.
        assert_eq!(round_to(Dtype::Float16, 65520.0), f64::INFINITY);
        assert_eq!(round_to(Dtype::Float16, 65519.99), 65504.0);
        assert_eq!(round_to(Dtype::Float16, -1e6), f64::NEG_INFINITY);
        // Below half the smallest subnormal: 0; the subnormal grid is uniform.
        assert_eq!(round_to(Dtype::Float16, 2f64.powi(-26)), 0.0);
        assert_eq!(
            round_to(Dtype::Float16, 3.0 * 2f64.powi(-25)),
            2f64.powi(-23)
        );
        // bfloat16 agrees with truncating float32 bits where the rest is below half.
        assert_eq!(round_to(Dtype::Bfloat16, 0.7), 0.69921875);
        assert_eq!(round_to(Dtype::Float32, 0.1), f64::from(0.1f32));
        assert_eq!(round_to(Dtype::Float64, 0.1), 0.1);
    }

    #[test]
    fn encoding_inverts_decoding_for_every_pattern() {
        for b in 0u16..=u16::MAX {
            let v = f16_to_f64(b);
            if v.is_nan() {
                assert!(f16_to_f64(f16_bits(v)).is_nan());
            } else {
                assert_eq!(f16_bits(v), b, "float16 {b:#06x}");
            }
            let w = bf16_to_f64(b);
            if w.is_nan() {
                assert!(bf16_to_f64(bf16_bits(w)).is_nan());
            } else {
                assert_eq!(bf16_bits(w), b, "bfloat16 {b:#06x}");
            }
        }
        assert_eq!(f16_bits(0.1), 0x2e66);
        assert_eq!(bf16_bits(0.7), 0x3f33);
    }

    #[test]
    fn bfloat16_exactness_is_the_low_sixteen_bits() {
        assert_eq!(bf16_from_f32_exact(1.0), Some(0x3f80));
        assert_eq!(bf16_from_f32_exact(-0.69921875), Some(0xbf33));
        assert_eq!(bf16_from_f32_exact(0.7), None);
        assert_eq!(bf16_from_f32_exact(f32::INFINITY), Some(0x7f80));
        assert_eq!(
            bf16_from_f32_exact(f32::NAN)
                .map(bf16_to_f64)
                .map(f64::is_nan),
            Some(true)
        );
        for bits in [0x0001u16, 0x3f80, 0x7f7f, 0x8000, 0xc2c8] {
            let x = bf16_to_f64(bits) as f32;
            assert_eq!(bf16_from_f32_exact(x), Some(bits));
        }
    }
}
