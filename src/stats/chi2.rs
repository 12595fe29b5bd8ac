//! Pearson chi-squared and G (likelihood-ratio) goodness-of-fit tests of category counts against
//! exact probabilities, with a documented pooling rule, and their power calculation through the
//! noncentral chi-squared distribution.
//!
//! # Notation
//! Counts `O_i` of `k` categories, `n = Σ O_i`, exact probabilities `p_i` (`Σ p = 1`), expected
//! counts `E_i = n p_i`, Cohen's effect size `w`.
//!
//! # Formulas
//! ```text
//! Pearson:    X² = Σ_c (O_c - E_c)² / E_c
//! G:          G  = 2 Σ_c O_c ln(O_c / E_c)           (terms with O_c = 0 are 0)
//! df = (number of cells c after masking and pooling) - 1
//! p-value:    P(χ²_df ≥ X²) = Q(df/2, X²/2)           (regularized upper incomplete gamma)
//! residual:   r_i = (O_i - E_i) / sqrt(E_i (1 - p_i))   (≈ N(0, 1) per cell under the null)
//!
//! effect:     w = sqrt(Σ_i (p1_i - p_i)² / p_i)          (p1 the true probabilities)
//! power:      P(χ²_df(λ) > c_α), λ = n w², c_α the upper-α point of χ²_df
//! noncentral: P(χ²_df(λ) > x) = Σ_{j≥0} e^{-λ/2} (λ/2)^j / j! · Q(df/2 + j, x/2)
//! ```
//!
//! # Masked cells and pooling (the rule)
//! 1. A cell with `p_i = 0` (a masked category) is left out of the cells and of `df`. A count
//!    in such a cell is an impossible event under the null: the test fails at once, exactly,
//!    with `p_value = 0`, `statistic = +inf`, and the cells are listed in
//!    [`GofResult::impossible`].
//! 2. Every cell with `E_i < min_expected` (default [`DEFAULT_MIN_EXPECTED`] = 5) goes into one
//!    pooled cell. If the pooled expectation is still below `min_expected`, the smallest of the
//!    remaining cells are added, in order of increasing `E_i` (ties by index), until it is at
//!    least `min_expected`. After pooling every cell has `E ≥ min_expected`.
//! 3. Fewer than two cells after pooling means `n` is too small for the approximation: an error
//!    (use the exact binomial test, [`crate::stats::binomial_test`], for one rare cell).
//!
//! The pooling depends only on `p` and `n`, never on the counts, so the test stays calibrated.
//!
//! # Numerical notes
//! - The p-value is `Q(df/2, X²/2)` from statrs's `gamma_ur`, never `1 - cdf`, so p-values down
//!   to ~1e-300 keep their relative accuracy.
//! - The noncentral upper tail sums the Poisson mixture outward from its mode `⌊λ/2⌋` in both
//!   directions with Poisson weights in log space, until the weights drop below `1e-17` of the
//!   sum; it is exact up to that truncation and to the accuracy of `gamma_ur`.
//! - Quantiles and the effect/sample-size inversions use bisection on monotone functions to a
//!   relative width of `1e-13`.
//!
//! # References
//! - K. Pearson (1900), and T. R. C. Read, N. A. C. Cressie, *Goodness-of-Fit Statistics for
//!   Discrete Multivariate Data*, Springer 1988, <https://doi.org/10.1007/978-1-4612-4578-0>.
//! - W. G. Cochran, *Some methods for strengthening the common χ² tests*, Biometrics 10 (1954),
//!   <https://doi.org/10.2307/3001616> (the "expected ≥ 5" rule).
//! - J. Cohen, *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., 1988, ch. 7
//!   (effect size `w`), <https://doi.org/10.4324/9780203771587>.
//! - N. L. Johnson, S. Kotz, N. Balakrishnan, *Continuous Univariate Distributions* vol. 2,
//!   ch. 29 (noncentral χ² as a Poisson mixture).

use statrs::function::gamma::{gamma_ur, ln_gamma};

use crate::error::Error;
use crate::numeric::sum;
use crate::stats::power::check_rate;
use crate::tolerance::{CHI2_BISECTION, SERIES_TRUNCATION, SIMPLEX_SUM};

/// The default pooling threshold: cells with expected count below 5 are pooled (Cochran 1954).
pub const DEFAULT_MIN_EXPECTED: f64 = 5.0;

/// Which goodness-of-fit statistic to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GofStatistic {
    /// Pearson's `X² = Σ (O - E)² / E`.
    Pearson,
    /// The likelihood-ratio statistic `G = 2 Σ O ln(O / E)`.
    G,
}

/// The standardized residual of one original cell.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CellResidual {
    /// The category index.
    pub index: usize,
    /// Observed count `O_i`.
    pub observed: u64,
    /// Expected count `E_i = n p_i`.
    pub expected: f64,
    /// `(O_i - E_i) / sqrt(E_i (1 - p_i))`.
    pub residual: f64,
}

/// The outcome of a chi-squared or G goodness-of-fit test.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GofResult {
    /// Which statistic was computed.
    pub kind: GofStatistic,
    /// The statistic (`X²` or `G`); `+inf` when a count fell in a zero-probability cell.
    pub statistic: f64,
    /// Upper-tail p-value `P(χ²_df ≥ statistic)`; exactly 0 for an impossible count.
    pub p_value: f64,
    /// Degrees of freedom: cells after masking and pooling, minus one.
    pub df: usize,
    /// Total count `n`.
    pub n: u64,
    /// Number of cells the statistic was summed over (after masking and pooling).
    pub cells: usize,
    /// The original category indices merged into the one pooled cell (empty: no pooling).
    pub pooled: Vec<usize>,
    /// Expected count of the pooled cell (0 when nothing was pooled).
    pub pooled_expected: f64,
    /// Categories with probability 0 that received a count: impossible under the null. When
    /// non-empty the test stops there (`statistic = +inf`, `p_value = 0`, no pooling, `df` and
    /// `cells` count the positive-probability categories).
    pub impossible: Vec<usize>,
    /// The original cell (probability in `(0, 1)`) with the largest `|residual|`, if any.
    pub largest_residual: Option<CellResidual>,
}

/// Checks `counts` against `probs` and returns `(n, normalised probs)`.
fn validate(counts: &[u64], probs: &[f64]) -> Result<(u64, Vec<f64>), Error> {
    if probs.is_empty() {
        return Err(Error::NoCategories);
    }
    if counts.len() != probs.len() {
        return Err(Error::WrongLength {
            expected: probs.len(),
            found: counts.len(),
        });
    }
    if let Some(&value) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(Error::ProbabilityOutOfRange { value });
    }
    let total = sum(probs.iter().copied());
    if (total - 1.0).abs() > SIMPLEX_SUM {
        return Err(Error::InvalidParameter {
            name: "sum of probabilities",
            value: total,
            rule: "within 1e-6 of 1 (tolerance::SIMPLEX_SUM)",
        });
    }
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return Err(Error::CountZero {
            name: "total count n",
        });
    }
    Ok((n, probs.iter().map(|p| p / total).collect()))
}

/// The pooled cell under the rule of the module doc: the indices of the positive-probability
/// cells that are merged, in the order they were taken.
fn pooled_cells(expected: &[f64], min_expected: f64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..expected.len()).filter(|&i| expected[i] > 0.0).collect();
    order.sort_by(|&a, &b| expected[a].total_cmp(&expected[b]).then(a.cmp(&b)));
    let mut pooled = Vec::new();
    let mut mass = 0.0;
    for &i in &order {
        if expected[i] < min_expected || (!pooled.is_empty() && mass < min_expected) {
            pooled.push(i);
            mass += expected[i];
        } else {
            break;
        }
    }
    pooled
}

/// Pearson's chi-squared test of `counts` against exact probabilities `probs`, pooling cells
/// with expected count below 5 ([`DEFAULT_MIN_EXPECTED`]).
///
/// False-alarm rate: the p-value is asymptotic (χ²_df); with every cell's `E ≥ 5` its size at
/// `α = 0.01` is within Monte-Carlo error of `α` (tests/stats/calibration_counts_multivariate.rs). Detectable
/// effect at `(α, power, n)`: [`chi2_detectable_w`].
///
/// # Errors
/// See [`goodness_of_fit`].
///
/// # Example
/// ```
/// use gumbel_audit::stats::pearson_chi2;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // O = (30, 70), E = (50, 50): X² = 16, df = 1, p = erfc(sqrt(8)) (value from Python math.erfc).
/// let r = pearson_chi2(&[30, 70], &[0.5, 0.5])?;
/// assert!((r.statistic - 16.0).abs() < 1e-12 && r.df == 1);
/// assert!((r.p_value - 6.334248366623977e-5).abs() < 1e-15);
/// // A count in a masked cell fails exactly.
/// let r = pearson_chi2(&[50, 49, 1], &[0.5, 0.5, 0.0])?;
/// assert_eq!((r.p_value, r.impossible.clone()), (0.0, vec![2]));
/// # Ok(()) }
/// ```
pub fn pearson_chi2(counts: &[u64], probs: &[f64]) -> Result<GofResult, Error> {
    goodness_of_fit(counts, probs, GofStatistic::Pearson, DEFAULT_MIN_EXPECTED)
}

/// The G (likelihood-ratio) test of `counts` against exact probabilities `probs`, pooling as
/// [`pearson_chi2`] does.
///
/// # Errors
/// See [`goodness_of_fit`].
///
/// # Example
/// ```
/// use gumbel_audit::stats::g_test;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let r = g_test(&[30, 70], &[0.5, 0.5])?;
/// let g = 2.0 * (30.0 * (0.6f64).ln() + 70.0 * (1.4f64).ln());
/// assert!((r.statistic - g).abs() < 1e-12 && r.df == 1);
/// # Ok(()) }
/// ```
pub fn g_test(counts: &[u64], probs: &[f64]) -> Result<GofResult, Error> {
    goodness_of_fit(counts, probs, GofStatistic::G, DEFAULT_MIN_EXPECTED)
}

/// The goodness-of-fit test with a chosen statistic and pooling threshold (rule in the module
/// doc).
///
/// # Errors
/// [`Error::NoCategories`] for no cells; [`Error::WrongLength`] when `counts` and `probs`
/// differ in length; [`Error::ProbabilityOutOfRange`] for a probability outside `[0, 1]`;
/// [`Error::InvalidParameter`] when `Σ p` is not within [`SIMPLEX_SUM`] of 1, when
/// `min_expected` is not finite and positive, or when fewer than two cells remain after pooling
/// (`n` too small); [`Error::CountZero`] when all counts are 0.
///
/// # Example
/// ```
/// use gumbel_audit::stats::{goodness_of_fit, GofStatistic};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // n = 1000, p = (0.5, 0.4985, 0.001, 0.0005): the two rare cells (E = 1 and 0.5) are
/// // pooled, then the next smallest cell joins, leaving 1 pooled cell + 1 cell: df = 1.
/// let r = goodness_of_fit(&[500, 497, 2, 1], &[0.5, 0.4985, 0.001, 0.0005],
///                         GofStatistic::Pearson, 5.0)?;
/// assert_eq!(r.pooled, vec![3, 2, 1]);
/// assert_eq!((r.cells, r.df), (2, 1));
/// # Ok(()) }
/// ```
pub fn goodness_of_fit(
    counts: &[u64],
    probs: &[f64],
    kind: GofStatistic,
    min_expected: f64,
) -> Result<GofResult, Error> {
    if !(min_expected.is_finite() && min_expected > 0.0) {
        return Err(Error::InvalidParameter {
            name: "min_expected",
            value: min_expected,
            rule: "finite and positive",
        });
    }
    let (n, p) = validate(counts, probs)?;
    let nf = n as f64;
    let expected: Vec<f64> = p.iter().map(|pi| nf * pi).collect();
    let impossible: Vec<usize> = (0..p.len())
        .filter(|&i| p[i] == 0.0 && counts[i] > 0)
        .collect();
    let positive = p.iter().filter(|&&pi| pi > 0.0).count();
    if !impossible.is_empty() {
        return Ok(GofResult {
            kind,
            statistic: f64::INFINITY,
            p_value: 0.0,
            df: positive.saturating_sub(1),
            n,
            cells: positive,
            pooled: Vec::new(),
            pooled_expected: 0.0,
            impossible,
            largest_residual: None,
        });
    }
    let pooled = pooled_cells(&expected, min_expected);
    let cells = positive - pooled.len() + usize::from(!pooled.is_empty());
    if cells < 2 {
        return Err(Error::InvalidParameter {
            name: "total count n",
            value: nf,
            rule: "large enough that at least two cells have expected count >= min_expected \
                   after pooling (use the exact binomial test instead)",
        });
    }
    let mut in_pool = vec![false; p.len()];
    for &i in &pooled {
        in_pool[i] = true;
    }
    // (observed, expected) per cell after pooling.
    let mut cell_oe: Vec<(f64, f64)> = (0..p.len())
        .filter(|&i| p[i] > 0.0 && !in_pool[i])
        .map(|i| (counts[i] as f64, expected[i]))
        .collect();
    let pooled_expected = sum(pooled.iter().map(|&i| expected[i]));
    if !pooled.is_empty() {
        let o: u64 = pooled.iter().map(|&i| counts[i]).sum();
        cell_oe.push((o as f64, pooled_expected));
    }
    let statistic = match kind {
        GofStatistic::Pearson => sum(cell_oe.iter().map(|&(o, e)| (o - e) * (o - e) / e)),
        GofStatistic::G => {
            2.0 * sum(cell_oe
                .iter()
                .filter(|&&(o, _)| o > 0.0)
                .map(|&(o, e)| o * (o / e).ln()))
        }
    }
    // G is a sum of terms of both signs that is ≥ 0 in exact arithmetic.
    .max(0.0);
    let df = cells - 1;
    let largest_residual = (0..p.len())
        .filter(|&i| p[i] > 0.0 && p[i] < 1.0)
        .map(|i| CellResidual {
            index: i,
            observed: counts[i],
            expected: expected[i],
            residual: (counts[i] as f64 - expected[i]) / (expected[i] * (1.0 - p[i])).sqrt(),
        })
        // The first cell wins ties.
        .reduce(|a, b| {
            if b.residual.abs() > a.residual.abs() {
                b
            } else {
                a
            }
        });
    Ok(GofResult {
        kind,
        statistic,
        p_value: chi2_sf(statistic, df as f64),
        df,
        n,
        cells,
        pooled,
        pooled_expected,
        impossible,
        largest_residual,
    })
}

/// Upper tail `P(χ²_df ≥ x) = Q(df/2, x/2)` of the central chi-squared distribution, computed
/// directly (not as `1 - cdf`). 1 for `x ≤ 0`, 0 for `x = +inf`; NaN for `df ≤ 0` or NaN input.
///
/// # Example
/// ```
/// use gumbel_audit::stats::chi2_sf;
/// // df = 2: the upper tail is exp(-x/2), accurate far out.
/// assert!((chi2_sf(1000.0, 2.0) / (-500f64).exp() - 1.0).abs() < 1e-12);
/// ```
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 || !df.is_finite() {
        f64::NAN
    } else if x <= 0.0 {
        1.0
    } else if x == f64::INFINITY {
        0.0
    } else {
        gamma_ur(df / 2.0, x / 2.0)
    }
}

/// The upper-`q` point of `χ²_df`: the `x` with `P(χ²_df ≥ x) = q`.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `0 < q < 1` and `df` is finite and positive.
///
/// # Example
/// ```
/// use gumbel_audit::stats::chi2_isf;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // df = 2: x = -2 ln q.
/// assert!((chi2_isf(1e-6, 2.0)? - 2.0 * 1e6f64.ln()).abs() < 1e-10);
/// # Ok(()) }
/// ```
pub fn chi2_isf(q: f64, df: f64) -> Result<f64, Error> {
    let q = check_rate("upper-tail probability q", q)?;
    check_df(df)?;
    let mut hi = df.max(1.0);
    while chi2_sf(hi, df) > q {
        hi *= 2.0;
    }
    Ok(bisect_increasing(0.0, hi, |x| -chi2_sf(x, df), -q))
}

fn check_df(df: f64) -> Result<f64, Error> {
    if df.is_finite() && df > 0.0 {
        Ok(df)
    } else {
        Err(Error::InvalidParameter {
            name: "degrees of freedom df",
            value: df,
            rule: "finite and positive",
        })
    }
}

/// Bisection for the `x` in `[lo, hi]` with `f(x) = target`, `f` non-decreasing, to a relative
/// width of 1e-13 (or 300 halvings).
pub(crate) fn bisect_increasing<F: Fn(f64) -> f64>(
    mut lo: f64,
    mut hi: f64,
    f: F,
    target: f64,
) -> f64 {
    for _ in 0..300 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= CHI2_BISECTION * hi.abs().max(f64::MIN_POSITIVE) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Upper tail `P(χ²_df(λ) > x)` of the noncentral chi-squared distribution with noncentrality
/// `λ` (Poisson mixture in the module doc). NaN for invalid arguments.
///
/// # Example
/// ```
/// use gumbel_audit::stats::{chi2_sf, noncentral_chi2_sf};
/// assert_eq!(noncentral_chi2_sf(3.0, 4.0, 0.0), chi2_sf(3.0, 4.0));
/// assert!(noncentral_chi2_sf(3.0, 4.0, 5.0) > chi2_sf(3.0, 4.0));
/// ```
pub fn noncentral_chi2_sf(x: f64, df: f64, lambda: f64) -> f64 {
    if lambda.is_nan() || lambda < 0.0 || !lambda.is_finite() {
        return f64::NAN;
    }
    if lambda == 0.0 || x.is_nan() || df.is_nan() || df <= 0.0 || x <= 0.0 {
        return chi2_sf(x, df);
    }
    let half = lambda / 2.0;
    let ln_weight = |j: f64| -half + j * half.ln() - ln_gamma(j + 1.0);
    let mode = half.floor();
    let mut total = 0.0;
    let mut weights = 0.0;
    // Upward from the mode.
    let mut j = mode;
    loop {
        let w = ln_weight(j).exp();
        total += w * chi2_sf(x, df + 2.0 * j);
        weights += w;
        if w < SERIES_TRUNCATION * weights || j > mode + 1e7 {
            break;
        }
        j += 1.0;
    }
    // Downward from the mode.
    let mut j = mode - 1.0;
    while j >= 0.0 {
        let w = ln_weight(j).exp();
        total += w * chi2_sf(x, df + 2.0 * j);
        weights += w;
        if w < SERIES_TRUNCATION * weights {
            break;
        }
        j -= 1.0;
    }
    total.min(1.0)
}

/// Power `P(χ²_df(n w²) > c_α)` of a chi-squared test at level `α` with `n` observations
/// against an effect of size `w` (Cohen's w, [`cohen_w`]).
///
/// # Errors
/// [`Error::InvalidParameter`] for `α` outside `(0, 1)`, `df` not positive, `n` or `w`
/// negative or not finite.
///
/// # Example
/// ```
/// use gumbel_audit::stats::chi2_power;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// assert!((chi2_power(0.05, 3.0, 100.0, 0.0)? - 0.05).abs() < 1e-12);
/// assert!(chi2_power(1e-6, 9.0, 1e6, 0.01)? > 0.999);
/// # Ok(()) }
/// ```
pub fn chi2_power(alpha: f64, df: f64, n: f64, w: f64) -> Result<f64, Error> {
    let crit = chi2_isf(alpha, df)?;
    check_nonnegative("n", n)?;
    check_nonnegative("effect size w", w)?;
    Ok(noncentral_chi2_sf(crit, df, n * w * w))
}

fn check_nonnegative(name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            rule: "finite and non-negative",
        })
    }
}

/// The noncentrality `λ` at which a chi-squared test at level `α` with `df` degrees of freedom
/// has the given power.
///
/// # Errors
/// [`Error::InvalidParameter`] for `α` or `power` outside `(0, 1)`, or `df` not positive;
/// `power ≤ α` gives `λ = 0`.
pub fn chi2_noncentrality_for_power(alpha: f64, power: f64, df: f64) -> Result<f64, Error> {
    let crit = chi2_isf(alpha, df)?;
    let power = check_rate("power", power)?;
    if power <= alpha {
        return Ok(0.0);
    }
    let mut hi = df.max(1.0);
    while noncentral_chi2_sf(crit, df, hi) < power {
        hi *= 2.0;
    }
    Ok(bisect_increasing(
        0.0,
        hi,
        |l| noncentral_chi2_sf(crit, df, l),
        power,
    ))
}

/// The smallest Cohen's `w` that a chi-squared test at level `α` with `df` degrees of freedom
/// and `n` observations detects with the given power: `sqrt(λ(α, power, df) / n)`.
///
/// # Errors
/// As [`chi2_noncentrality_for_power`]; [`Error::InvalidParameter`] unless `n > 0`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::{chi2_detectable_w, chi2_sample_size};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let w = chi2_detectable_w(1e-6, 0.999, 9.0, 1e6)?;
/// assert!(w > 0.009 && w < 0.01);
/// assert!((chi2_sample_size(1e-6, 0.999, 9.0, w)? / 1e6 - 1.0).abs() < 1e-9);
/// # Ok(()) }
/// ```
pub fn chi2_detectable_w(alpha: f64, power: f64, df: f64, n: f64) -> Result<f64, Error> {
    if !(n.is_finite() && n > 0.0) {
        return Err(Error::InvalidParameter {
            name: "n",
            value: n,
            rule: "finite and positive",
        });
    }
    Ok((chi2_noncentrality_for_power(alpha, power, df)? / n).sqrt())
}

/// The number of observations `n = λ(α, power, df) / w²` at which a chi-squared test at level
/// `α` detects an effect of size `w` with the given power (real-valued: round up).
///
/// # Errors
/// As [`chi2_noncentrality_for_power`]; [`Error::InvalidParameter`] unless `w > 0`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::chi2_sample_size;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // k = 10 categories (df = 9), α = 1e-6, power 0.999, w = 0.01: n ≈ 8.61e5
/// // (λ = 86.07; scipy.stats.ncx2 agrees, docs/design/math.md §4).
/// let n = chi2_sample_size(1e-6, 0.999, 9.0, 0.01)?;
/// assert!(n > 8.55e5 && n < 8.65e5);
/// # Ok(()) }
/// ```
pub fn chi2_sample_size(alpha: f64, power: f64, df: f64, w: f64) -> Result<f64, Error> {
    if !(w.is_finite() && w > 0.0) {
        return Err(Error::InvalidParameter {
            name: "effect size w",
            value: w,
            rule: "finite and positive",
        });
    }
    Ok(chi2_noncentrality_for_power(alpha, power, df)? / (w * w))
}

/// Cohen's effect size `w = sqrt(Σ (p1_i - p0_i)² / p0_i)` of true probabilities `p1` against
/// null probabilities `p0`; `+inf` when `p1` puts mass where `p0` has none.
///
/// # Errors
/// [`Error::WrongLength`] for different lengths, [`Error::ProbabilityOutOfRange`].
///
/// # Example
/// ```
/// use gumbel_audit::stats::cohen_w;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// assert!((cohen_w(&[0.6, 0.4], &[0.5, 0.5])? - 0.2).abs() < 1e-15);
/// # Ok(()) }
/// ```
pub fn cohen_w(p1: &[f64], p0: &[f64]) -> Result<f64, Error> {
    if p1.len() != p0.len() {
        return Err(Error::WrongLength {
            expected: p0.len(),
            found: p1.len(),
        });
    }
    if let Some(&value) = p1.iter().chain(p0).find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(Error::ProbabilityOutOfRange { value });
    }
    let mut terms = Vec::with_capacity(p0.len());
    for (&a, &b) in p1.iter().zip(p0) {
        if b == 0.0 {
            if a > 0.0 {
                return Ok(f64::INFINITY);
            }
        } else {
            terms.push((a - b) * (a - b) / b);
        }
    }
    Ok(sum(terms).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use statrs::function::erf::erfc;

    #[test]
    fn rules() {
        assert_eq!(pearson_chi2(&[], &[]), Err(Error::NoCategories));
        assert!(matches!(
            pearson_chi2(&[1, 2], &[1.0]),
            Err(Error::WrongLength { .. })
        ));
        assert!(matches!(
            pearson_chi2(&[1, 2], &[1.5, -0.5]),
            Err(Error::ProbabilityOutOfRange { .. })
        ));
        assert!(matches!(
            pearson_chi2(&[1, 2], &[0.5, 0.6]),
            Err(Error::InvalidParameter {
                name: "sum of probabilities",
                ..
            })
        ));
        assert!(matches!(
            pearson_chi2(&[0, 0], &[0.5, 0.5]),
            Err(Error::CountZero { .. })
        ));
        // n = 6 over two cells of E = 3: one pooled cell, no test.
        assert!(matches!(
            pearson_chi2(&[3, 3], &[0.5, 0.5]),
            Err(Error::InvalidParameter {
                name: "total count n",
                ..
            })
        ));
        assert!(goodness_of_fit(&[5, 5], &[0.5, 0.5], GofStatistic::G, 0.0).is_err());
        assert!(chi2_isf(0.0, 2.0).is_err());
        assert!(chi2_isf(0.5, -1.0).is_err());
        assert!(cohen_w(&[0.5], &[0.5, 0.5]).is_err());
        assert!(chi2_sample_size(0.01, 0.9, 3.0, 0.0).is_err());
        assert!(chi2_detectable_w(0.01, 0.9, 3.0, 0.0).is_err());
    }

    #[test]
    fn closed_form_tails() {
        // df = 2: sf = exp(-x/2).  df = 1: sf = erfc(sqrt(x/2)).
        // df = 4: sf = exp(-x/2) (1 + x/2).
        for &x in &[0.01, 0.5, 3.0, 20.0, 200.0, 1400.0] {
            assert_relative_eq!(chi2_sf(x, 2.0), (-x / 2.0).exp(), max_relative = 1e-12);
            assert_relative_eq!(
                chi2_sf(x, 4.0),
                (-x / 2.0).exp() * (1.0 + x / 2.0),
                max_relative = 1e-12
            );
        }
        // df = 1 against erfc(sqrt(x/2)) from Python 3.11 `math.erfc` (C libm): statrs's own
        // `erfc` is off by ~1e-10 relative here, so it is not used as the reference.
        let erfc_values = [
            (0.01, 0.920344325445942),
            (0.5, 0.4795001221869535),
            (3.0, 0.08326451666355043),
            (20.0, 7.744216431044074e-06),
            (200.0, 2.088487583762545e-45),
        ];
        for &(x, sf) in &erfc_values {
            assert_relative_eq!(chi2_sf(x, 1.0), sf, max_relative = 1e-12);
        }
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
        assert_eq!(chi2_sf(f64::INFINITY, 3.0), 0.0);
        assert!(chi2_sf(1.0, 0.0).is_nan());
        // df = 2 quantile: x = -2 ln q.
        for &q in &[0.5, 0.01, 1e-6, 1e-12] {
            assert_relative_eq!(
                chi2_isf(q, 2.0).unwrap(),
                -2.0 * q.ln(),
                max_relative = 1e-11
            );
        }
    }

    #[test]
    fn noncentral_closed_form_df2() {
        // df = 2 has P(χ²_2(λ) > x) = Q_1(sqrt λ, sqrt x) (Marcum Q); for x → 0 it is 1 and its
        // mean is df + λ. Check the mean by integrating the tail: E X = ∫_0^∞ P(X > x) dx.
        let (df, lambda) = (2.0, 7.0);
        let h = 0.01;
        let integral: f64 = (0..20_000)
            .map(|i| {
                let x = (i as f64 + 0.5) * h;
                noncentral_chi2_sf(x, df, lambda) * h
            })
            .sum();
        assert_relative_eq!(integral, df + lambda, max_relative = 1e-5);
        // Second moment: E X² = 2 ∫ x P(X > x) dx = (df + λ)² + 2(df + 2λ).
        let second: f64 = (0..20_000)
            .map(|i| {
                let x = (i as f64 + 0.5) * h;
                2.0 * x * noncentral_chi2_sf(x, df, lambda) * h
            })
            .sum();
        assert_relative_eq!(
            second,
            (df + lambda).powi(2) + 2.0 * (df + 2.0 * lambda),
            max_relative = 1e-5
        );
    }

    #[test]
    fn noncentral_against_scipy() {
        // scipy 1.14.1 `stats.ncx2.sf(x, df, nc)` and the docs/design/math.md §4 sample size, computed
        // once in a throwaway venv (`stats.chi2.isf(1e-6, 9)`; brentq on `ncx2.sf(c, 9, λ) =
        // 0.999`, xtol 1e-12).
        let cases = [
            (30.0, 5.0, 10.0, 0.033085901233316464),
            (44.5, 9.0, 97.0, 0.99987875587345),
            (1200.0, 9.0, 1000.0, 0.0018812900157653167),
        ];
        for &(x, df, nc, sf) in &cases {
            assert_relative_eq!(noncentral_chi2_sf(x, df, nc), sf, max_relative = 1e-10);
        }
        assert_relative_eq!(
            chi2_isf(1e-6, 9.0).unwrap(),
            44.81093787068782,
            max_relative = 1e-12
        );
        assert_relative_eq!(
            chi2_noncentrality_for_power(1e-6, 0.999, 9.0).unwrap(),
            86.06783016192603,
            max_relative = 1e-10
        );
    }

    #[test]
    fn noncentral_large_lambda_is_normal_like() {
        // For large λ, χ²_df(λ) ≈ N(df + λ, 2(df + 2λ)): the median is near the mean.
        let (df, lambda) = (9.0, 1e5);
        let mean = df + lambda;
        let p = noncentral_chi2_sf(mean, df, lambda);
        assert!((p - 0.5).abs() < 0.01, "{p}");
    }

    #[test]
    fn pearson_and_g_by_hand() {
        // O = (10, 20, 30, 40), p uniform: E = 25 each.
        let counts = [10, 20, 30, 40];
        let p = [0.25; 4];
        let r = pearson_chi2(&counts, &p).unwrap();
        let x2 = (225.0 + 25.0 + 25.0 + 225.0) / 25.0;
        assert_relative_eq!(r.statistic, x2, max_relative = 1e-15);
        assert_eq!((r.df, r.cells, r.n), (3, 4, 100));
        assert!(r.pooled.is_empty() && r.impossible.is_empty());
        // df = 3: sf = erfc(sqrt(x/2)) + sqrt(2x/π) e^{-x/2}; at x = 20 from Python math.erfc.
        assert_relative_eq!(r.p_value, 0.00016974243555282643, max_relative = 1e-12);
        let res = r.largest_residual.unwrap();
        assert_eq!(res.index, 0); // |10 - 25| = |40 - 25|: the first wins ties.
        assert_relative_eq!(
            res.residual,
            -15.0 / (25.0f64 * 0.75).sqrt(),
            max_relative = 1e-14
        );

        let g = g_test(&counts, &p).unwrap();
        let gs = 2.0
            * (10.0 * (0.4f64).ln()
                + 20.0 * (0.8f64).ln()
                + 30.0 * (1.2f64).ln()
                + 40.0 * (1.6f64).ln());
        assert_relative_eq!(g.statistic, gs, max_relative = 1e-14);
        // statrs's erfc carries ~1e-10 relative error: the tolerance here is for it.
        let sf3 =
            erfc((gs / 2.0).sqrt()) + (2.0 * gs / std::f64::consts::PI).sqrt() * (-gs / 2.0).exp();
        assert_relative_eq!(g.p_value, sf3, max_relative = 1e-9);
    }

    #[test]
    fn masked_cells_leave_df_and_fail_exactly() {
        let p = [0.5, 0.0, 0.5];
        let r = pearson_chi2(&[48, 0, 52], &p).unwrap();
        assert_eq!(r.df, 1);
        assert_relative_eq!(r.statistic, 0.16, max_relative = 1e-14);
        // erfc(sqrt(0.08)) from Python math.erfc.
        assert_relative_eq!(r.p_value, 0.6891565167793516, max_relative = 1e-12);
        let r = g_test(&[48, 1, 52], &p).unwrap();
        assert_eq!(r.p_value, 0.0);
        assert_eq!(r.statistic, f64::INFINITY);
        assert_eq!(r.impossible, vec![1]);
    }

    #[test]
    fn pooling_rule() {
        // n = 100, p = (0.01, 0.02, 0.03, 0.04, 0.9): E = (1, 2, 3, 4, 90). All four small
        // cells are below 5 and pooled (E = 10); the 90-cell stays: df = 1.
        let p = [0.01, 0.02, 0.03, 0.04, 0.9];
        let r = pearson_chi2(&[1, 2, 3, 4, 90], &p).unwrap();
        assert_eq!(r.pooled, vec![0, 1, 2, 3]);
        assert_relative_eq!(r.pooled_expected, 10.0, max_relative = 1e-14);
        assert_eq!((r.cells, r.df), (2, 1));
        assert_eq!(r.statistic, 0.0);
        // One small cell (E = 2) pools with the next smallest (E = 8 < 10 < 80), by increasing E.
        let p = [0.8, 0.02, 0.1, 0.08];
        let r = pearson_chi2(&[80, 2, 10, 8], &p).unwrap();
        assert_eq!(r.pooled, vec![1, 3]);
        assert_eq!((r.cells, r.df), (3, 2));
        // Pooling follows expectations, never counts.
        let r2 = pearson_chi2(&[70, 12, 10, 8], &p).unwrap();
        assert_eq!(r2.pooled, r.pooled);
        // A higher threshold pools more.
        let r3 = goodness_of_fit(&[80, 2, 10, 8], &p, GofStatistic::Pearson, 9.0).unwrap();
        assert_eq!(r3.pooled, vec![1, 3]);
        let r4 = goodness_of_fit(&[80, 2, 10, 8], &p, GofStatistic::Pearson, 10.5).unwrap();
        assert_eq!(r4.pooled, vec![1, 3, 2]);
    }

    #[test]
    fn tiny_p_values_keep_relative_accuracy() {
        // O = (0, 2000) against (0.5, 0.5): X² = 2000, df = 1: p = erfc(sqrt(1000)) ≈ 1e-436,
        // which underflows f64; at O = (700, 1300): X² = 180, p = erfc(sqrt 90).
        let r = pearson_chi2(&[700, 1300], &[0.5, 0.5]).unwrap();
        assert_relative_eq!(r.statistic, 180.0, max_relative = 1e-14);
        // erfc(sqrt(90)) from Python math.erfc.
        assert_relative_eq!(r.p_value, 4.846411842405321e-41, max_relative = 1e-11);
        assert!(r.p_value > 0.0 && r.p_value < 1e-40);
    }

    #[test]
    fn cohen_w_cases() {
        assert_eq!(cohen_w(&[0.5, 0.5], &[1.0, 0.0]).unwrap(), f64::INFINITY);
        assert_eq!(cohen_w(&[0.2, 0.8], &[0.2, 0.8]).unwrap(), 0.0);
    }

    #[test]
    fn power_is_alpha_at_zero_effect_and_grows_with_n() {
        let a = chi2_power(0.01, 4.0, 1000.0, 0.0).unwrap();
        assert_relative_eq!(a, 0.01, max_relative = 1e-10);
        let p1 = chi2_power(0.01, 4.0, 1000.0, 0.1).unwrap();
        let p2 = chi2_power(0.01, 4.0, 2000.0, 0.1).unwrap();
        assert!(0.01 < p1 && p1 < p2 && p2 < 1.0);
        let lambda = chi2_noncentrality_for_power(0.01, 0.9, 4.0).unwrap();
        assert_relative_eq!(
            noncentral_chi2_sf(chi2_isf(0.01, 4.0).unwrap(), 4.0, lambda),
            0.9,
            max_relative = 1e-10
        );
    }
}
