//! Finite-precision uniforms and what they do to Gumbel noise: the largest and smallest noise a
//! sampler can return when its uniform has few bits, and the rare-category deficit that
//! follows. The tail checks (`noise.extremes`, `categorical.rare`, `categorical.bands`) use it
//! to NAME the cause of a failure, never to decide it: the decision is always against the exact
//! law.
//!
//! # Notation
//! ```text
//! b        random bits of the uniform: u on the grid j·2^-b, j = 0 .. 2^b - 1
//! δ        2^-b
//! g        -ln(-ln u), the Gumbel noise built from u
//! c_b      largest noise: -ln(-ln(1 - δ)); P(G > c_b) = δ exactly for a standard Gumbel
//! λ_b      largest Logistic noise ln(u/(1 - u)) from the same grid: ln(2^b - 1) (the binary
//!          Concrete's noise); P(L > λ_b) = δ, and by symmetry the smallest is -λ_b when the
//!          smallest uniform is δ
//! f_s      smallest noise when the smallest uniform is s: -ln(-ln s); P(G < f_s) = s
//! ρ(c)     c / (e^c - 1), the relative win rate of a rare category
//! ```
//!
//! # The rare-category deficit (docs/design/math.md §1, Gumbel-max)
//! Category i with probability p wins iff `E_i < V`, where `E_i = -ln u_i` and
//! `V = exp(l_i - M)` with `M` the maximum of the other perturbed logits, so that
//! `V ~ Exponential(rate r)`, `r = (1 - p)/p`. For an exact uniform `E_i ~ Exponential(1)` and
//! the win probability is `1/(1 + r) = p`. With `b` bits the largest `u` is `1 - δ`, so near 0
//! `E_i` takes only the values `m δ` (m = 1, 2, ..., each with probability δ) and
//! ```text
//! P(win) = Σ_m δ e^{-r m δ} = δ/(e^{rδ} - 1) ≈ p · ρ(c),   c = δ (1 - p)/p.
//! ```
//! For the two categories `(0, -d)`, `c = e^d 2^-23` at b = 23: the deficit `1 - ρ(c)` is about
//! 1 % at d = 12, 18 % at d = 15, 44 % at d = 16 and 83 % at d = 17 (JAX's
//! `jax.random.gumbel(mode="low")` builds its float32 uniform from 23 bits).
//!
//! # References
//! - E. J. Gumbel, *Statistics of Extremes*, Columbia University Press (1958): the law.
//! - IEEE 754-2008: the float16, bfloat16 (8-bit exponent, 7 fraction bits), float32 and float64
//!   grids whose significand widths give the bit counts of [`GRIDS`].

/// A uniform built from `bits` random bits, as a dtype's sampler commonly builds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Grid {
    /// Random bits b of the uniform.
    pub(crate) bits: u32,
    /// What a uniform with these bits is, for a detail ("float32 uniform with 23 bits").
    pub(crate) name: &'static str,
}

/// The grids the diagnosis knows, most bits first.
pub(crate) const GRIDS: [Grid; 8] = [
    Grid {
        bits: 53,
        name: "float64 uniform with 53 bits",
    },
    Grid {
        bits: 52,
        name: "float64 uniform with 52 bits",
    },
    Grid {
        bits: 24,
        name: "float32 uniform with 24 bits",
    },
    Grid {
        bits: 23,
        name: "float32 uniform with 23 bits",
    },
    Grid {
        bits: 11,
        name: "float16 uniform with 11 bits",
    },
    Grid {
        bits: 10,
        name: "float16 uniform with 10 bits",
    },
    Grid {
        bits: 8,
        name: "bfloat16 uniform with 8 bits",
    },
    Grid {
        bits: 7,
        name: "bfloat16 uniform with 7 bits",
    },
];

/// A smallest positive uniform other than a grid's step: a dtype's smallest normal or
/// subnormal, used in place of 0 (JAX passes `minval = finfo(dtype).tiny`).
const FLOORS: [(f64, &str); 5] = [
    (
        1.1754943508222875e-38,
        "float32's smallest normal 2^-126 in place of a uniform 0",
    ),
    (
        1.401298464324817e-45,
        "float32's smallest subnormal 2^-149 in place of a uniform 0",
    ),
    (
        6.103515625e-5,
        "float16's smallest normal 2^-14 in place of a uniform 0",
    ),
    (
        2.2250738585072014e-308,
        "float64's smallest normal 2^-1022 in place of a uniform 0",
    ),
    (
        5e-324,
        "float64's smallest subnormal 2^-1074 in place of a uniform 0",
    ),
];

impl Grid {
    /// δ = 2^-b.
    pub(crate) fn step(self) -> f64 {
        (-f64::from(self.bits)).exp2()
    }

    /// The largest noise `c_b = -ln(-ln(1 - δ))`.
    pub(crate) fn ceiling(self) -> f64 {
        -(-(-self.step()).ln_1p()).ln()
    }

    /// The largest Logistic noise `λ_b = ln((1 - δ)/δ)`.
    pub(crate) fn logistic_ceiling(self) -> f64 {
        (-self.step()).ln_1p() - self.step().ln()
    }

    /// The smallest noise when the smallest uniform is δ: `-ln(b ln 2)`.
    pub(crate) fn floor(self) -> f64 {
        -(f64::from(self.bits) * std::f64::consts::LN_2).ln()
    }

    /// The win probability of a category of probability `p` under this grid: `p ρ(c)`,
    /// `c = δ (1 - p)/p` (module doc).
    pub(crate) fn win_probability(self, p: f64) -> f64 {
        if p <= 0.0 {
            return 0.0;
        }
        let c = self.step() * (1.0 - p) / p;
        if c == 0.0 { p } else { p * c / c.exp_m1() }
    }
}

/// Whether two noise values agree to the precision a float32 computation of the ceiling has.
fn matches(x: f64, c: f64) -> bool {
    (x - c).abs() <= 1e-4 * c.abs().max(1.0)
}

/// The grid whose ceiling is the observed largest draw `max`, if any.
pub(crate) fn upper_cause(max: f64) -> Option<Grid> {
    GRIDS.into_iter().find(|g| matches(max, g.ceiling()))
}

/// What makes `min` the smallest draw, if it is a grid's floor or a dtype's smallest positive
/// used in place of 0: the value's description.
pub(crate) fn lower_cause(min: f64) -> Option<String> {
    if let Some(g) = GRIDS.into_iter().find(|g| matches(min, g.floor())) {
        return Some(format!("{}: smallest uniform 2^-{}", g.name, g.bits));
    }
    FLOORS
        .iter()
        .find(|(s, _)| matches(min, -(-s.ln()).ln()))
        .map(|(_, what)| (*what).to_string())
}

/// The grid whose Logistic ceiling `λ_b` is the observed largest noise `max`, if any.
pub(crate) fn logistic_upper_cause(max: f64) -> Option<Grid> {
    GRIDS
        .into_iter()
        .find(|g| matches(max, g.logistic_ceiling()))
}

/// What makes `min` the smallest Logistic noise, if it is `-λ_b` or `ln(s/(1 - s))` for a
/// dtype's smallest positive `s` used in place of 0.
pub(crate) fn logistic_lower_cause(min: f64) -> Option<String> {
    if let Some(g) = GRIDS
        .into_iter()
        .find(|g| matches(min, -g.logistic_ceiling()))
    {
        return Some(format!("{}: smallest uniform 2^-{}", g.name, g.bits));
    }
    FLOORS
        .iter()
        .find(|(s, _)| matches(min, s.ln() - (-s).ln_1p()))
        .map(|(_, what)| (*what).to_string())
}

/// The grid (below float64's bits) under which `count` of `n` draws fits best (the largest
/// p-value), when the exact law does not: the grid and its expected count, `expected(grid)`
/// being the expected count under that grid. "Fits" = two-sided exact binomial p ≥ `level` under the grid
/// and < `level` under the exact law (`exact_p`). Descriptive: it names a likely cause.
pub(crate) fn consistent_grid(
    count: u64,
    n: u64,
    exact_p: f64,
    level: f64,
    expected: impl Fn(Grid) -> f64,
) -> Option<(Grid, f64)> {
    if exact_p >= level || n == 0 {
        return None;
    }
    // The grid that fits best (largest p-value of the count under its model), if any fits.
    GRIDS
        .into_iter()
        .filter(|g| g.bits < 52)
        .filter_map(|g| {
            let e = expected(g);
            let q = (e / n as f64).clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
            crate::stats::binomial_test(count, n, q, crate::stats::Alternative::TwoSided)
                .ok()
                .filter(|r| r.p_value >= level)
                .map(|r| (g, e, r.p_value))
        })
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(g, e, _)| (g, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_and_floors_are_the_stated_values() {
        let g23 = GRIDS.into_iter().find(|g| g.bits == 23).unwrap();
        assert!((g23.ceiling() - 15.942385).abs() < 1e-6);
        let g24 = GRIDS.into_iter().find(|g| g.bits == 24).unwrap();
        assert!((g24.ceiling() - 16.6355).abs() < 1e-4);
        // P(G > c_b) = 2^-b for the standard Gumbel.
        let sf = -(-(-g23.ceiling()).exp()).exp_m1();
        assert!((sf / g23.step() - 1.0).abs() < 1e-9);
        assert_eq!(upper_cause(15.94238).map(|g| g.bits), Some(23));
        assert_eq!(upper_cause(20.7), None);
        assert!(lower_cause(-(-(1.1754943508222875e-38f64).ln()).ln()).is_some());
        assert!(lower_cause(g23.floor()).unwrap().contains("2^-23"));
        assert_eq!(lower_cause(-2.0), None);
        assert!((g23.logistic_ceiling() - (8_388_607f64).ln()).abs() < 1e-12);
        assert_eq!(logistic_upper_cause(15.942385).map(|g| g.bits), Some(23));
        assert!(logistic_lower_cause(-15.942385).unwrap().contains("2^-23"));
        assert_eq!(logistic_upper_cause(17.3), None);
    }

    #[test]
    fn the_deficit_is_the_stated_one_at_d_12_to_17() {
        let g23 = GRIDS.into_iter().find(|g| g.bits == 23).unwrap();
        let deficit = |d: f64| {
            let p = (-d).exp() / (1.0 + (-d).exp());
            1.0 - g23.win_probability(p) / p
        };
        assert!((deficit(12.0) - 0.0097).abs() < 1e-3);
        assert!((deficit(15.0) - 0.18).abs() < 0.01);
        assert!((deficit(16.0) - 0.44).abs() < 0.01);
        assert!((deficit(17.0) - 0.83).abs() < 0.01);
        // and nothing at a common probability
        assert!((g23.win_probability(0.3) / 0.3 - 1.0).abs() < 1e-6);
    }
}
