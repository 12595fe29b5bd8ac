//! The exact binomial test (two-sided by the "minlike" rule, or one-sided) and the
//! Clopper-Pearson interval, for one rare cell or a tail count.
//!
//! # Notation
//! `X ~ Binomial(n, p)`, observed count `k`, `q = 1 - p`, `f(i) = P(X = i)`.
//!
//! # Formulas
//! ```text
//! f(i) = C(n, i) p^i q^(n-i)
//! greater:    P(X ≥ k)
//! less:       P(X ≤ k)
//! two-sided:  Σ_{i : f(i) ≤ f(k)·(1 + 1e-7)} f(i)      ("minlike", as scipy.stats.binomtest;
//!                                                       the factor absorbs rounding of f)
//! Clopper-Pearson at level c, a = (1 - c)/2:
//!   low  = the p with P(X ≥ k; p) = a   (0 when k = 0)
//!   high = the p with P(X ≤ k; p) = a   (1 when k = n)
//! ```
//!
//! # Numerical notes
//! - `ln f(i)` uses Loader's saddle-point form, `ln f = δ(n) - δ(i) - δ(n-i) - bd0(i, np) -
//!   bd0(n-i, nq) - ½ ln(2π i (n-i)/n)` with the Stirling remainder `δ` and the deviance
//!   `bd0(x, M) = x ln(x/M) + M - x` (computed by its series when `x ≈ M`), so `f` keeps its
//!   relative accuracy for `n` up to ~1e15, where `ln Γ(n+1)` differences would lose ~1e-7.
//! - Tails are sums over `i` starting at the end beyond the mode and running away from it
//!   (the terms then decrease); each term follows from the last by the ratio
//!   `f(i+1)/f(i) = (n-i)/(i+1) · p/q`. The sum stops when a term is below `1e-17` of the total.
//!   A tail that contains the mode is `1 -` the complementary tail, which is then ≤ ~½.
//! - The sum is carried relative to its first term and combined in log space, so tails far below
//!   `1e-308` underflow to 0 only at the very end.
//! - Clopper-Pearson limits are found by bisection in `p` on these tails (relative width 1e-13).
//!
//! # References
//! - C. Loader, *Fast and Accurate Computation of Binomial Probabilities*, 2000,
//!   <https://www.r-project.org/doc/reports/CLoader-dbinom-2002.pdf>.
//! - C. J. Clopper, E. S. Pearson, *The use of confidence or fiducial limits illustrated in the
//!   case of the binomial*, Biometrika 26 (1934), <https://doi.org/10.1093/biomet/26.4.404>.
//! - scipy.stats.binomtest, <https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.binomtest.html>.

use statrs::function::gamma::ln_gamma;

use crate::error::Error;
use crate::stats::chi2::bisect_increasing;
use crate::stats::power::check_rate;
use crate::tolerance::{BINOMIAL_TIE_REL, SERIES_TRUNCATION};

/// The largest `f64` below 1, `1 - 2⁻⁵³`: `p` is clamped to `[MIN_POSITIVE, this]` so that
/// `ln(1 - p)` stays finite (a representation limit, not a tolerance).
const LARGEST_BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// Which tail the test looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// Both tails, by the minlike rule.
    TwoSided,
    /// The true probability is larger than `p`: `P(X ≥ k)`.
    Greater,
    /// The true probability is smaller than `p`: `P(X ≤ k)`.
    Less,
}

/// The outcome of an exact binomial test.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BinomialResult {
    /// Observed count `k`.
    pub k: u64,
    /// Number of trials `n`.
    pub n: u64,
    /// The null probability `p`.
    pub p: f64,
    /// The alternative tested.
    pub alternative: Alternative,
    /// The exact p-value (super-uniform: `P(p_value ≤ a) ≤ a` under the null).
    pub p_value: f64,
    /// The estimate `k / n`.
    pub estimate: f64,
    /// Expected count `n p`.
    pub expected: f64,
}

/// A confidence interval for a binomial proportion.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProportionInterval {
    /// Lower limit.
    pub low: f64,
    /// Upper limit.
    pub high: f64,
    /// Confidence level `c`.
    pub level: f64,
}

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Stirling remainder `δ(n) = ln Γ(n+1) - (n + ½) ln n + n - ½ ln(2π)`, `n ≥ 1`.
fn stirlerr(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        return ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - LN_SQRT_2PI;
    }
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// Deviance term `bd0(x, m) = x ln(x/m) + m - x`, accurate when `x ≈ m`.
fn bd0(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let s1 = s + ej / f64::from(2 * j + 1);
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        s
    } else {
        x * (x / m).ln() + m - x
    }
}

/// `ln P(X = i)` for `X ~ Binomial(n, p)`, `0 < p < 1`, `i ≤ n`.
pub(crate) fn ln_pmf(i: u64, n: u64, p: f64) -> f64 {
    let q = 1.0 - p;
    let (x, nf) = (i as f64, n as f64);
    if i == 0 {
        return nf * (-p).ln_1p();
    }
    if i == n {
        return nf * p.ln();
    }
    let y = nf - x;
    let lc = stirlerr(nf) - stirlerr(x) - stirlerr(y) - bd0(x, nf * p) - bd0(y, nf * q);
    lc - LN_SQRT_2PI - 0.5 * (x * y / nf).ln()
}

/// The mode `⌊(n + 1) p⌋` (capped at `n`).
fn mode(n: u64, p: f64) -> u64 {
    (((n as f64 + 1.0) * p).floor() as u64).min(n)
}

/// `ln Σ` of the terms from `start` moving away from the mode (`up`: towards `n`).
fn ln_tail_from(start: u64, n: u64, p: f64, up: bool) -> f64 {
    let q = 1.0 - p;
    let nf = n as f64;
    let first = ln_pmf(start, n, p);
    let mut total = 1.0_f64;
    let mut term = 1.0_f64;
    let mut i = start;
    loop {
        if up {
            if i == n {
                break;
            }
            term *= (nf - i as f64) / (i as f64 + 1.0) * (p / q);
            i += 1;
        } else {
            if i == 0 {
                break;
            }
            term *= i as f64 / (nf - i as f64 + 1.0) * (q / p);
            i -= 1;
        }
        total += term;
        if term < SERIES_TRUNCATION * total {
            break;
        }
    }
    first + total.ln()
}

/// `P(X ≤ k)`.
pub(crate) fn cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        1.0
    } else if k < mode(n, p) {
        ln_tail_from(k, n, p, false).exp()
    } else {
        1.0 - ln_tail_from(k + 1, n, p, true).exp()
    }
}

/// `P(X ≥ k)`.
pub(crate) fn sf(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        1.0
    } else if k > n {
        0.0
    } else if k > mode(n, p) {
        ln_tail_from(k, n, p, true).exp()
    } else {
        1.0 - ln_tail_from(k - 1, n, p, false).exp()
    }
}

fn check_counts(k: u64, n: u64) -> Result<(), Error> {
    if n == 0 {
        return Err(Error::CountZero {
            name: "number of trials n",
        });
    }
    if k > n {
        return Err(Error::InvalidParameter {
            name: "count k",
            value: k as f64,
            rule: "at most the number of trials n",
        });
    }
    Ok(())
}

/// The exact binomial test of `k` successes in `n` trials against success probability `p`.
///
/// The two-sided p-value sums the probabilities of all counts no more likely than `k` (minlike,
/// as scipy.stats.binomtest). The test is exact: its false-alarm rate at `α` is at most `α`
/// (less, since `X` is discrete). Detects, e.g., for one rare cell with `p = 1e-4` and
/// `n = 1e6` (100 expected), a halving of the cell's probability at `α = 1e-3` with power
/// above 0.99 (tests/stats/power_counts_multivariate.rs).
///
/// # Errors
/// [`Error::CountZero`] for `n = 0`; [`Error::InvalidParameter`] for `k > n` or `p` outside
/// `(0, 1)`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::{binomial_test, Alternative};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // 3 of 3 at p = ½: one-sided P = 1/8, two-sided 2/8.
/// let r = binomial_test(3, 3, 0.5, Alternative::Greater)?;
/// assert!((r.p_value - 0.125).abs() < 1e-15);
/// let r = binomial_test(3, 3, 0.5, Alternative::TwoSided)?;
/// assert!((r.p_value - 0.25).abs() < 1e-15);
/// # Ok(()) }
/// ```
pub fn binomial_test(
    k: u64,
    n: u64,
    p: f64,
    alternative: Alternative,
) -> Result<BinomialResult, Error> {
    check_counts(k, n)?;
    let p = check_rate("probability p", p)?;
    let mean = n as f64 * p;
    let p_value = match alternative {
        Alternative::Greater => sf(k, n, p),
        Alternative::Less => cdf(k, n, p),
        Alternative::TwoSided => two_sided(k, n, p, mean),
    }
    .clamp(0.0, 1.0);
    Ok(BinomialResult {
        k,
        n,
        p,
        alternative,
        p_value,
        estimate: k as f64 / n as f64,
        expected: mean,
    })
}

fn two_sided(k: u64, n: u64, p: f64, mean: f64) -> f64 {
    let kf = k as f64;
    if kf == mean {
        return 1.0;
    }
    let ln_d = ln_pmf(k, n, p) + BINOMIAL_TIE_REL.ln_1p();
    if kf < mean {
        // f is non-increasing on [⌈np⌉, n]: find the first j there with f(j) ≤ d.
        let (mut lo, mut hi) = (mean.ceil() as u64, n + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if ln_pmf(mid, n, p) <= ln_d {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        cdf(k, n, p) + if lo <= n { sf(lo, n, p) } else { 0.0 }
    } else {
        // f is non-decreasing on [0, ⌊np⌋]: find the last j there with f(j) ≤ d.
        let top = mean.floor() as u64;
        if ln_pmf(0, n, p) > ln_d {
            return sf(k, n, p);
        }
        let (mut lo, mut hi) = (0_u64, top);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if ln_pmf(mid, n, p) <= ln_d {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        cdf(lo, n, p) + sf(k, n, p)
    }
}

/// The Clopper-Pearson ("exact") confidence interval for a proportion from `k` successes in
/// `n` trials, at confidence `level` (formulas in the module doc). Its coverage is at least
/// `level` for every true `p`.
///
/// # Errors
/// [`Error::CountZero`] for `n = 0`; [`Error::InvalidParameter`] for `k > n` or `level`
/// outside `(0, 1)`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::clopper_pearson;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // k = 0: high = 1 - (a)^(1/n), a = (1 - level)/2.
/// let ci = clopper_pearson(0, 100, 0.95)?;
/// assert_eq!(ci.low, 0.0);
/// assert!((ci.high - (1.0 - 0.025f64.powf(0.01))).abs() < 1e-12);
/// # Ok(()) }
/// ```
pub fn clopper_pearson(k: u64, n: u64, level: f64) -> Result<ProportionInterval, Error> {
    check_counts(k, n)?;
    let level = check_rate("confidence level", level)?;
    let a = (1.0 - level) / 2.0;
    // P(X ≥ k; p) increases with p; P(X ≤ k; p) decreases with p.
    let low = if k == 0 {
        0.0
    } else {
        bisect_increasing(0.0, 1.0, |p| tail_at(p, |p| sf(k, n, p)), a)
    };
    let high = if k == n {
        1.0
    } else {
        bisect_increasing(0.0, 1.0, |p| -tail_at(p, |p| cdf(k, n, p)), -a)
    };
    Ok(ProportionInterval { low, high, level })
}

/// Evaluates a tail at `p`, mapping the ends of `[0, 1]` into the open interval.
fn tail_at<F: Fn(f64) -> f64>(p: f64, tail: F) -> f64 {
    tail(p.clamp(f64::MIN_POSITIVE, LARGEST_BELOW_ONE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Binomial pmf by direct products, for small n (independent of the code under test).
    fn pmf_direct(n: u64, p: f64) -> Vec<f64> {
        (0..=n)
            .map(|i| {
                let mut c = 1.0_f64;
                for j in 0..i {
                    c *= (n - j) as f64 / (j + 1) as f64;
                }
                c * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32)
            })
            .collect()
    }

    #[test]
    fn rules() {
        assert!(matches!(
            binomial_test(1, 0, 0.5, Alternative::Less),
            Err(Error::CountZero { .. })
        ));
        assert!(matches!(
            binomial_test(5, 4, 0.5, Alternative::Less),
            Err(Error::InvalidParameter {
                name: "count k",
                ..
            })
        ));
        assert!(binomial_test(1, 4, 0.0, Alternative::Less).is_err());
        assert!(binomial_test(1, 4, 1.0, Alternative::Less).is_err());
        assert!(clopper_pearson(1, 4, 1.0).is_err());
    }

    #[test]
    fn pmf_matches_direct_products() {
        for &(n, p) in &[(10u64, 0.3), (40, 0.01), (25, 0.9), (60, 0.5)] {
            let f = pmf_direct(n, p);
            for (i, &fi) in f.iter().enumerate() {
                assert_relative_eq!(ln_pmf(i as u64, n, p).exp(), fi, max_relative = 1e-12);
            }
        }
    }

    #[test]
    fn exact_small_case_by_enumeration() {
        let (n, p) = (20u64, 0.3);
        let f = pmf_direct(n, p);
        for k in 0..=n {
            let fk = f[k as usize];
            let two: f64 = f.iter().filter(|&&fi| fi <= fk * (1.0 + 1e-7)).sum();
            let less: f64 = f[..=k as usize].iter().sum();
            let greater: f64 = f[k as usize..].iter().sum();
            let r = binomial_test(k, n, p, Alternative::TwoSided).unwrap();
            assert_relative_eq!(r.p_value, two.min(1.0), max_relative = 1e-11);
            let r = binomial_test(k, n, p, Alternative::Less).unwrap();
            assert_relative_eq!(r.p_value, less.min(1.0), max_relative = 1e-11);
            let r = binomial_test(k, n, p, Alternative::Greater).unwrap();
            assert_relative_eq!(r.p_value, greater.min(1.0), max_relative = 1e-11);
        }
    }

    #[test]
    fn symmetric_case_counts_both_tails() {
        // p = ½, n = 10, k = 2: the minlike set is {0, 1, 2, 8, 9, 10}: 2·(1 + 10 + 45)/1024.
        let r = binomial_test(2, 10, 0.5, Alternative::TwoSided).unwrap();
        assert_relative_eq!(r.p_value, 112.0 / 1024.0, max_relative = 1e-13);
        let r = binomial_test(8, 10, 0.5, Alternative::TwoSided).unwrap();
        assert_relative_eq!(r.p_value, 112.0 / 1024.0, max_relative = 1e-13);
        let r = binomial_test(5, 10, 0.5, Alternative::TwoSided).unwrap();
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn rare_cell_poisson_limit() {
        // n = 1e7, p = 1e-5: X ≈ Poisson(100). P(X ≥ 150) for Poisson(100) is 1.23e-6-ish;
        // the binomial tail differs from it by O(p); compare with a direct Poisson sum.
        let (n, p) = (10_000_000u64, 1e-5);
        let lambda: f64 = 100.0;
        let mut poisson_tail = 0.0;
        for i in 150..400u64 {
            let x = i as f64;
            poisson_tail += (x * lambda.ln() - lambda - ln_gamma(x + 1.0)).exp();
        }
        let r = binomial_test(150, n, p, Alternative::Greater).unwrap();
        assert_relative_eq!(r.p_value, poisson_tail, max_relative = 1e-3);
        // Far tail: no underflow to 0 before the true value does.
        let r = binomial_test(600, n, p, Alternative::Greater).unwrap();
        assert!(r.p_value > 0.0 && r.p_value < 1e-200, "{}", r.p_value);
    }

    #[test]
    fn against_scipy_binomtest() {
        // scipy 1.14.1 `stats.binomtest(k, n, p, alternative).pvalue` and
        // `.proportion_ci(0.95, 'exact')` (two-sided cases), computed once in a throwaway venv.
        let two_sided = [
            (
                0u64,
                20_000u64,
                1e-4,
                0.2781892658048508,
                0.0,
                0.00018442696396351086,
            ),
            (
                7,
                20_000,
                1e-4,
                0.004531399796256283,
                0.00014072936109723008,
                0.0007209999554352849,
            ),
            (
                150,
                10_000_000,
                1e-5,
                3.042370501696043e-06,
                1.2695630107765532e-05,
                1.760169371172803e-05,
            ),
            (
                60,
                1_000_000,
                1e-4,
                2.0428803911635227e-05,
                4.578662323301114e-05,
                7.723122795738794e-05,
            ),
            (
                480,
                1000,
                0.5,
                0.2174482932041411,
                0.44863294269453413,
                0.5114851175478534,
            ),
        ];
        for &(k, n, p, pv, low, high) in &two_sided {
            let r = binomial_test(k, n, p, Alternative::TwoSided).unwrap();
            assert_relative_eq!(r.p_value, pv, max_relative = 1e-9);
            // scipy's exact interval (boost's beta quantile) itself carries up to ~1e-9
            // relative error: checked with 40-digit mpmath, e.g. at k = 150, n = 1e7 the tail at
            // scipy's lower limit is 0.0249999992, at ours 0.0250000000000.
            let ci = clopper_pearson(k, n, 0.95).unwrap();
            assert_relative_eq!(ci.low, low, max_relative = 1e-8);
            assert_relative_eq!(ci.high, high, max_relative = 1e-8);
        }
        let r = binomial_test(37, 1000, 0.03, Alternative::Less).unwrap();
        assert_relative_eq!(r.p_value, 0.9142393002467581, max_relative = 1e-12);
        let r = binomial_test(3, 100_000_000, 1e-6, Alternative::Greater).unwrap();
        assert_relative_eq!(r.p_value, 1.0, max_relative = 1e-12);
    }

    #[test]
    fn clopper_pearson_closed_forms_and_duality() {
        // k = n: low = a^(1/n).
        let ci = clopper_pearson(50, 50, 0.99).unwrap();
        assert_eq!(ci.high, 1.0);
        assert_relative_eq!(ci.low, 0.005f64.powf(1.0 / 50.0), max_relative = 1e-11);
        // Duality: at the limits, the one-sided tails equal a.
        let (k, n) = (37u64, 1000u64);
        let ci = clopper_pearson(k, n, 0.95).unwrap();
        assert_relative_eq!(sf(k, n, ci.low), 0.025, max_relative = 1e-9);
        assert_relative_eq!(cdf(k, n, ci.high), 0.025, max_relative = 1e-9);
        assert!(ci.low < 0.037 && 0.037 < ci.high);
    }

    #[test]
    fn tails_are_complementary() {
        for &(n, p) in &[(1000u64, 0.5), (100_000, 1e-4), (50, 0.97)] {
            for &k in &[0u64, 1, 5, n / 2, n - 1] {
                assert_relative_eq!(cdf(k, n, p) + sf(k + 1, n, p), 1.0, max_relative = 1e-12);
            }
        }
    }
}
