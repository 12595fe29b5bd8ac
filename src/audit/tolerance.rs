//! Every tolerance and threshold of the audit's exact criteria, in one table, each with its
//! reason. Checks use these names; no check writes a bare `N * ε` literal.
//!
//! # Notation
//! ```text
//! ε    the dtype's epsilon: 2^-52 (float64) or 2^-23 (float32), the looser of hello's dtype
//!      and the array's
//! k    number of categories
//! M    the magnitude rounding errors of a log density scale with: Σ |terms| of its formula
//! ```
//!
//! # The table
//! ```text
//! name                    value                 used for
//! SIMPLEX_SUM_F64         1e-9                  |Σ y_i - 1|, float64
//! SIMPLEX_SUM_F32         1e-6 + 4 k ε          |Σ y_i - 1|, float32
//! DENSITY_ULPS            256                   |lp - lp_ref| ≤ 256 ε (1 + M)
//! GRAD_ROW_ULPS           64                    |Σ_i row_i| ≤ 64 ε (1 + Σ_i |row_i|)
//! DENSITY_MASS_F64        1e-6                  |∫ p - 1|, float64
//! DENSITY_MASS_F32        1e-4                  |∫ p - 1|, float32
//! CONSTANT_MEAN_REL       1e-9                  constant gradient rows: |mean - truth|
//! CONSTANT_VARIANCE_REL   1e-12                 zero-spread variance: |s² - σ²|
//! SATURATION_WARN_P       1e-3                  binary saturation: warn below this p-value
//! F32_MIN_POINT           1e-37                 smallest y_i judged in float32
//! F32_MAX_LOGIT           1e3                   largest |l_i| judged in float32
//! ```

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

/// Every tolerance of the audit, in the order of the module doc's table.
pub const ALL: [Tolerance; 12] = [
    SIMPLEX_SUM_F64,
    SIMPLEX_SUM_F32,
    SIMPLEX_SUM_F32_KEPS,
    DENSITY_ULPS,
    GRAD_ROW_ULPS,
    DENSITY_MASS_F64,
    DENSITY_MASS_F32,
    CONSTANT_MEAN_REL,
    CONSTANT_VARIANCE_REL,
    SATURATION_WARN_P,
    F32_MIN_POINT,
    F32_MAX_LOGIT,
];

/// The dtype's epsilon: float32's for single precision, else float64's.
pub fn eps(single: bool) -> f64 {
    if single {
        f64::from(f32::EPSILON)
    } else {
        f64::EPSILON
    }
}

/// `|Σ y_i - 1|` allowed for a relaxed row of `k` entries.
pub fn simplex_sum(single: bool, k: usize) -> f64 {
    if single {
        SIMPLEX_SUM_F32.value + SIMPLEX_SUM_F32_KEPS.value * k as f64 * eps(true)
    } else {
        SIMPLEX_SUM_F64.value
    }
}

/// `|lp - lp_ref|` allowed for a log density whose terms have magnitude `m`.
pub fn density(single: bool, m: f64) -> f64 {
    DENSITY_ULPS.value * eps(single) * (1.0 + m)
}

/// `|Σ row|` allowed for a gradient row whose entries have absolute sum `scale`.
pub fn grad_row_sum(single: bool, scale: f64) -> f64 {
    GRAD_ROW_ULPS.value * eps(single) * (1.0 + scale)
}

/// `|∫ p - 1|` allowed.
pub fn density_mass(single: bool) -> f64 {
    if single {
        DENSITY_MASS_F32.value
    } else {
        DENSITY_MASS_F64.value
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
    fn float32_tolerances_are_looser_than_float64() {
        assert!(simplex_sum(true, 3) > simplex_sum(false, 3));
        assert!(density(true, 1.0) > density(false, 1.0));
        assert!(grad_row_sum(true, 1.0) > grad_row_sum(false, 1.0));
        assert!(density_mass(true) > density_mass(false));
    }
}
