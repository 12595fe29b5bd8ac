//! Every tolerance and threshold of the audit's exact criteria, in one table, each with its
//! reason. Checks use these names; no check writes a bare `N * ε` literal.
//!
//! # Notation
//! ```text
//! ε    the dtype's epsilon: 2^-52 (float64), 2^-23 (float32), 2^-10 (float16) or 2^-7
//!      (bfloat16), the looser of hello's dtype and the array's (`Dtype::eps`)
//! k    number of categories
//! M    the magnitude rounding errors of a log density scale with: Σ |terms| of its formula
//! ```
//!
//! # The table
//! ```text
//! name                    value                 used for
//! SIMPLEX_SUM_F64         1e-9                  |Σ y_i - 1|, float64
//! SIMPLEX_SUM_F32         1e-6 + 4 k ε          |Σ y_i - 1|, float32, float16, bfloat16
//! DENSITY_ULPS            256                   |lp - lp_ref| ≤ 256 ε (1 + M), float32/64
//! DENSITY_ULPS_HALF       16                    |lp - lp_ref| ≤ 16 ε (1 + M), float16/bfloat16
//! GRAD_ROW_ULPS           64                    |Σ_i row_i| ≤ 64 ε (1 + Σ_i |row_i|)
//! DENSITY_MASS_F64        1e-6                  |∫ p - 1|, float64
//! DENSITY_MASS_F32        1e-4                  |∫ p - 1|, float32
//! DENSITY_MASS_HALF_EPS   32                    |∫ p - 1| ≤ 32 ε, float16 and bfloat16
//! CONSTANT_MEAN_REL       1e-9                  constant gradient rows: |mean - truth|
//! CONSTANT_VARIANCE_REL   1e-12                 zero-spread variance: |s² - σ²|
//! SATURATION_WARN_P       1e-3                  binary saturation: warn below this p-value
//! F32_MIN_POINT           1e-37                 smallest y_i judged in float32
//! F32_MAX_LOGIT           1e3                   largest |l_i| judged in float32
//! F16_MIN_POINT           5e-4                  smallest y_i judged in float16
//! HALF_MAX_LOGIT          1e2                   largest |l_i| judged in float16/bfloat16
//! HALF_TIE_FRACTION       1e-3                  float16/bfloat16 relaxed rows with a tied
//!                                               maximum beyond this fraction: argmax not judged
//! HALF_VALUE_ULPS         2                     a half-precision draw may sit 2 ε max(1, |x|)
//!                                               from an exact draw (KS band, checks::precision)
//! ```
//!
//! bfloat16 shares float32's exponent range, so its smallest point is F32_MIN_POINT.

use crate::audit::target::Dtype;

/// A named tolerance: its value and why it is what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// The name used in the code and the docs.
    pub name: &'static str,
    /// The value (a multiple of ε where the name says ULPS).
    pub value: f64,
    /// Why this value.
    pub reason: &'static str,
}

/// `|Σ y_i - 1|` of a float64 relaxed sample.
pub const SIMPLEX_SUM_F64: Tolerance = Tolerance {
    name: "SIMPLEX_SUM_F64",
    value: 1e-9,
    reason: "a softmax in float64 sums to 1 within k ε; 1e-9 leaves room for k up to ~10^6 \
             and catches a missing normalisation at once",
};

/// Base of `|Σ y_i - 1|` of a float32 relaxed sample; [`SIMPLEX_SUM_F32_KEPS`] `k ε` is added.
pub const SIMPLEX_SUM_F32: Tolerance = Tolerance {
    name: "SIMPLEX_SUM_F32",
    value: 1e-6,
    reason: "float32 rows are rounded entry by entry (k roundings of ε/2 each) and often \
             computed through exp in float32; 1e-6 plus 4 k ε covers both",
};

/// Per-category multiple of `ε` added to [`SIMPLEX_SUM_F32`].
pub const SIMPLEX_SUM_F32_KEPS: Tolerance = Tolerance {
    name: "SIMPLEX_SUM_F32_KEPS",
    value: 4.0,
    reason: "summing k float32 entries adds up to k ε/2 of rounding, rounding each entry \
             another k ε/2; 4 k ε is twice both",
};

/// Multiple of `ε (1 + M)` allowed between a log density and the reference's.
pub const DENSITY_ULPS: Tolerance = Tolerance {
    name: "DENSITY_ULPS",
    value: 256.0,
    reason: "the log density is a sum of O(k) terms of magnitude M, each computed to a few \
             ulps (ln, lgamma, log-sum-exp); 256 ε (1 + M) holds for every log-space \
             implementation seen and is far below every convention error (ExpConcrete's \
             Σ ln y_i, a missing ln (k-1)! or ln τ)",
};

/// Multiple of `ε (1 + Σ|row|)` allowed for the sum of a gradient row.
pub const GRAD_ROW_ULPS: Tolerance = Tolerance {
    name: "GRAD_ROW_ULPS",
    value: 64.0,
    reason: "a gradient row with respect to logits sums to 0 exactly (shift invariance); in \
             floating point the sum of k terms of magnitude Σ|row| is off by a few k ε",
};

/// `|∫ p - 1|` of a float64 density integrated on the audit's grid.
pub const DENSITY_MASS_F64: Tolerance = Tolerance {
    name: "DENSITY_MASS_F64",
    value: 1e-6,
    reason: "the trapezoid rule on 6001 points over [-60, 60] in logit space has quadrature \
             error below 1e-9; 1e-6 is far below the mass of a wrong convention (ExpConcrete \
             integrates to about 0.675)",
};

/// `|∫ p - 1|` of a float32 density.
pub const DENSITY_MASS_F32: Tolerance = Tolerance {
    name: "DENSITY_MASS_F32",
    value: 1e-4,
    reason: "6001 float32 values each off by ~ε (1 + M) relative, summed: about 1e-5; 1e-4 \
             is ten times that",
};

/// Relative tolerance of the mean of constant (zero-spread) gradient rows.
pub const CONSTANT_MEAN_REL: Tolerance = Tolerance {
    name: "CONSTANT_MEAN_REL",
    value: 1e-9,
    reason: "rows without spread leave no test statistic; their mean must then equal the \
             truth up to float64 rounding of the truth's quadrature (error below 1e-10)",
};

/// Relative tolerance of a variance compared when the sample variance has no spread.
pub const CONSTANT_VARIANCE_REL: Tolerance = Tolerance {
    name: "CONSTANT_VARIANCE_REL",
    value: 1e-12,
    reason: "a sample variance with zero standard error is exact: it must equal the exact \
             value up to rounding",
};

/// p-value below which binary saturation counts are a `warn` rather than a note.
pub const SATURATION_WARN_P: Tolerance = Tolerance {
    name: "SATURATION_WARN_P",
    value: 1e-3,
    reason: "saturation is a precision matter, never a fail; a one-sided binomial test at \
             1e-3 against the rate of an exact sampler rounded to the dtype separates a \
             sampler that saturates early from the unavoidable rounding",
};

/// Smallest entry of a conformance point judged for a float32 implementation.
pub const F32_MIN_POINT: Tolerance = Tolerance {
    name: "F32_MIN_POINT",
    value: 1e-37,
    reason: "float32's smallest normal number is 1.18e-38: below 1e-37 the point itself is \
             not a float32 point",
};

/// Largest `|l_i|` of a conformance case judged for a float32 implementation.
pub const F32_MAX_LOGIT: Tolerance = Tolerance {
    name: "F32_MAX_LOGIT",
    value: 1e3,
    reason: "beyond 1e3 float32's absolute resolution of a logit (~6e-5) exceeds the \
             density tolerance",
};

/// Multiple of `ε (1 + M)` allowed between a half-precision log density and the reference's.
pub const DENSITY_ULPS_HALF: Tolerance = Tolerance {
    name: "DENSITY_ULPS_HALF",
    value: 16.0,
    reason: "256 ε would be 2 (1 + M) at bfloat16 and hide every convention error; a log \
             density computed in float16 or bfloat16 rounds each of its O(k) terms of \
             magnitude at most M a few times (and its inputs once), so 16 ε (1 + M) allows \
             eight roundings of the whole magnitude",
};

/// Multiple of `ε` allowed for `|∫ p - 1|` of a half-precision density.
pub const DENSITY_MASS_HALF_EPS: Tolerance = Tolerance {
    name: "DENSITY_MASS_HALF_EPS",
    value: 32.0,
    reason: "the integral is a weighted mean of exp(lp) whose relative errors are the absolute \
             errors of lp, a few ε M with M ≈ 8 at the bulk of the k = 2 case: 32 ε (0.031 at \
             float16, 0.25 at bfloat16) still separates the ExpConcrete convention (mass 0.675)",
};

/// Smallest entry of a conformance point judged for a float16 implementation.
pub const F16_MIN_POINT: Tolerance = Tolerance {
    name: "F16_MIN_POINT",
    value: 5e-4,
    reason: "float16's smallest normal number is 6.1e-5: below it a point keeps fewer than 11 \
             bits; 5e-4 keeps the ratio to the smallest normal that F32_MIN_POINT keeps (about \
             8)",
};

/// Largest `|l_i|` of a conformance case judged for a float16 or bfloat16 implementation.
pub const HALF_MAX_LOGIT: Tolerance = Tolerance {
    name: "HALF_MAX_LOGIT",
    value: 1e2,
    reason: "a logit of 100 is held to 0.03 (float16) or 0.25 (bfloat16): beyond 1e2 the \
             rounding of the input alone moves the density by more than its tolerance",
};

/// Fraction of half-precision relaxed rows with a tied maximum above which a case's argmax
/// counts are not judged.
pub const HALF_TIE_FRACTION: Tolerance = Tolerance {
    name: "HALF_TIE_FRACTION",
    value: 1e-3,
    reason: "leaving out a fraction f of the rows moves the argmax law by at most f in total \
             variation, Cohen's w by at most f / sqrt(min π) ≈ 3e-3 for the range cases, an \
             eighth of the smallest w the χ² detects at standard (0.024)",
};

/// Multiple of `ε max(1, |x|)` a half-precision draw may be from an exact draw in the KS band.
pub const HALF_VALUE_ULPS: Tolerance = Tolerance {
    name: "HALF_VALUE_ULPS",
    value: 2.0,
    reason: "a correctly rounded draw is within ε |x| / 2 of an exact one; an implementation \
             computing in the half format rounds two or three times more (a log of a log, a \
             division), each ε/2 relative to a magnitude at most max(1, |x|): 2 ε max(1, |x|) \
             covers four such roundings (checks::precision)",
};

/// Every tolerance of the audit, in the order of the module doc's table.
pub const ALL: [Tolerance; 18] = [
    SIMPLEX_SUM_F64,
    SIMPLEX_SUM_F32,
    SIMPLEX_SUM_F32_KEPS,
    DENSITY_ULPS,
    DENSITY_ULPS_HALF,
    GRAD_ROW_ULPS,
    DENSITY_MASS_F64,
    DENSITY_MASS_F32,
    DENSITY_MASS_HALF_EPS,
    CONSTANT_MEAN_REL,
    CONSTANT_VARIANCE_REL,
    SATURATION_WARN_P,
    F32_MIN_POINT,
    F32_MAX_LOGIT,
    F16_MIN_POINT,
    HALF_MAX_LOGIT,
    HALF_TIE_FRACTION,
    HALF_VALUE_ULPS,
];

/// The dtype's epsilon (`Dtype::eps`).
pub fn eps(dtype: Dtype) -> f64 {
    dtype.eps()
}

/// `|Σ y_i - 1|` allowed for a relaxed row of `k` entries.
pub fn simplex_sum(dtype: Dtype, k: usize) -> f64 {
    match dtype {
        Dtype::Float64 => SIMPLEX_SUM_F64.value,
        _ => SIMPLEX_SUM_F32.value + SIMPLEX_SUM_F32_KEPS.value * k as f64 * eps(dtype),
    }
}

/// `|lp - lp_ref|` allowed for a log density whose terms have magnitude `m`.
pub fn density(dtype: Dtype, m: f64) -> f64 {
    let ulps = if dtype.is_half() {
        DENSITY_ULPS_HALF.value
    } else {
        DENSITY_ULPS.value
    };
    ulps * eps(dtype) * (1.0 + m)
}

/// `|Σ row|` allowed for a gradient row whose entries have absolute sum `scale`.
pub fn grad_row_sum(dtype: Dtype, scale: f64) -> f64 {
    GRAD_ROW_ULPS.value * eps(dtype) * (1.0 + scale)
}

/// `|∫ p - 1|` allowed.
pub fn density_mass(dtype: Dtype) -> f64 {
    match dtype {
        Dtype::Float64 => DENSITY_MASS_F64.value,
        Dtype::Float32 => DENSITY_MASS_F32.value,
        Dtype::Float16 | Dtype::Bfloat16 => DENSITY_MASS_HALF_EPS.value * eps(dtype),
    }
}

/// Smallest entry `y_i` of a conformance point judged at `dtype` (`None`: every point).
pub fn min_point(dtype: Dtype) -> Option<f64> {
    match dtype {
        Dtype::Float64 => None,
        Dtype::Float32 | Dtype::Bfloat16 => Some(F32_MIN_POINT.value),
        Dtype::Float16 => Some(F16_MIN_POINT.value),
    }
}

/// Largest `|l_i|` of a conformance case judged at `dtype` (`None`: every case).
pub fn max_logit(dtype: Dtype) -> Option<f64> {
    match dtype {
        Dtype::Float64 => None,
        Dtype::Float32 => Some(F32_MAX_LOGIT.value),
        Dtype::Float16 | Dtype::Bfloat16 => Some(HALF_MAX_LOGIT.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tolerance_is_positive_named_and_explained() {
        let mut names = std::collections::HashSet::new();
        for t in ALL {
            assert!(t.value > 0.0 && t.value.is_finite(), "{}", t.name);
            assert!(t.reason.len() > 40, "{} needs a reason", t.name);
            assert!(names.insert(t.name), "{} twice", t.name);
        }
    }

    #[test]
    fn coarser_dtypes_get_looser_tolerances() {
        // float64, float32, float16, bfloat16: each strictly looser than the one before.
        let order = [
            Dtype::Float64,
            Dtype::Float32,
            Dtype::Float16,
            Dtype::Bfloat16,
        ];
        for w in order.windows(2) {
            let (fine, coarse) = (w[0], w[1]);
            assert!(simplex_sum(coarse, 3) > simplex_sum(fine, 3), "{coarse:?}");
            assert!(density(coarse, 1.0) > density(fine, 1.0), "{coarse:?}");
            assert!(
                grad_row_sum(coarse, 1.0) > grad_row_sum(fine, 1.0),
                "{coarse:?}"
            );
            assert!(density_mass(coarse) > density_mass(fine), "{coarse:?}");
        }
        // The float32 and float64 values are the ones they were before the half types.
        assert_eq!(
            density(Dtype::Float32, 0.0),
            256.0 * f64::from(f32::EPSILON)
        );
        assert_eq!(density_mass(Dtype::Float32), 1e-4);
        // Half densities still separate ExpConcrete's mass (0.675).
        assert!(density_mass(Dtype::Bfloat16) < 0.3);
    }
}
