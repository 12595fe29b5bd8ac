//! Kolmogorov-Smirnov tests: one sample against a fully specified continuous CDF, and two
//! samples against each other, with exact p-values where exactness matters.
//!
//! # Notation
//! Sample size `n` (`n`), sorted sample `x₍₁₎ ≤ … ≤ x₍ₙ₎`, null CDF `F`, `Fᵢ = F(x₍ᵢ₎)`,
//! observed statistic `d`, `t = n·d`.
//!
//! # Formula
//! ```text
//! D⁺ = maxᵢ (i/n - Fᵢ)          empirical CDF above the null   (statistic_sign = +1)
//! D⁻ = maxᵢ (Fᵢ - (i-1)/n)      empirical CDF below the null   (statistic_sign = -1)
//! D  = max(D⁺, D⁻)              p = P(Dₙ ≥ d) under the null
//!
//! one-sided, exact (Smirnov; Birnbaum & Tingey 1951):
//! P(D⁺ₙ ≥ d) = d Σ_{j=0}^{⌊n(1-d)⌋} C(n,j) (1 - d - j/n)^(n-j) (d + j/n)^(j-1)
//!
//! two-sided, choice of method of Simard & L'Ecuyer (2011), as scipy.stats.kstwo:
//!   t ≤ 1/2                      P(Dₙ < d) = 0
//!   1/2 < t ≤ 1                  P(Dₙ < d) = n!/nⁿ (2t - 1)ⁿ             (Ruben & Gambino)
//!   d ≥ 1/2                      P(Dₙ ≥ d) = 2 P(D⁺ₙ ≥ d)                 (exact: disjoint events)
//!   n ≤ 140:   n d² ≤ 0.754693   P(Dₙ < d) by Durbin's matrix            (Marsaglia-Tsang-Wang)
//!              n d² ≤ 4          P(Dₙ < d) by Pomeranz's recursion
//!              otherwise         P(Dₙ ≥ d) ≈ 2 P(D⁺ₙ ≥ d)                 (Miller 1956)
//!   n > 140:   n d² ≥ 2.2        P(Dₙ ≥ d) ≈ 2 P(D⁺ₙ ≥ d)
//!              n ≤ 10⁵ and n d^(3/2) ≤ 1.4:   Durbin's matrix
//!              otherwise         Pelz-Good: K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^(3/2), z = √n d
//!
//! Durbin's matrix: k = ⌊t⌋ + 1, m = 2k - 1, h = k - t, H (m × m) with
//!   H[i][j] = 1/(i-j+1)!  for i - j + 1 ≥ 0, else 0, then
//!   H[i][0] -= h^(i+1)/(i+1)!,  H[m-1][j] -= h^(m-j)/(m-j)!,  H[m-1][0] += max(0, 2h-1)^m/m!
//!   P(Dₙ < d) = n!/nⁿ · (Hⁿ)[k-1][k-1]
//!
//! Pomeranz: with N(y) = #{i : n xᵢ ≤ y}, Dₙ < d  ⟺  |N(y) - y| < t for all y ∈ [0, n].
//!   The breakpoints {0, n} ∪ {j ± t} cut [0, n] into cells on which ⌊y - t⌋ and ⌈y + t⌉ are
//!   constant; the counts in the cells are multinomial, so
//!   V₀(0) = 1,  Vᵢ(j) = Σ_{l=loᵢ}^{j} Vᵢ₋₁(l) δᵢ^(j-l)/(j-l)!  for loᵢ ≤ j ≤ hiᵢ,
//!   loᵢ = ⌊ȳᵢ - t⌋ + 1, hiᵢ = ⌈ȳᵢ + t⌉ - 1 (ȳᵢ the cell's midpoint, δᵢ its length),
//!   P(Dₙ < d) = n!/nⁿ · V_last(n).
//!
//! two samples, sizes m and n, pooled ECDFs Fₘ, Gₙ:
//! D = sup |Fₘ - Gₙ| = h/(m n),  h = max |i n - j m| over the merged path (i, j)
//! exact: P(D ≥ d) = P(a uniformly random lattice path (0,0) → (m,n) meets |i n - j m| ≥ h)
//! asymptotic (scipy's choice): P(D ≥ d) ≈ P(D_{n'} ≥ d), n' = round(m n/(m + n))
//! ```
//!
//! # Numerical notes
//! - The matrix power keeps a separate power-of-two exponent: after every product the matrix
//!   is rescaled by an exact power of two so that its largest entry lies in `[1, 2)` (the
//!   exponent tracking of Marsaglia-Tsang-Wang, done in base 2 so the rescaling is exact).
//!   `n!/nⁿ` is applied in log space, so nothing overflows or underflows for `n ≤ 10⁵`.
//! - Pomeranz's vector is renormalised at every cell, with the log of the scale carried along.
//! - The one-sided sum has only positive terms; it is summed in log space (max-subtraction,
//!   compensated sum), with `ln C(n, j)` accumulated by a compensated recurrence and
//!   `ln(1 - d - j/n)` taken with `ln_1p`, so its relative error stays near `1e-12` up to
//!   `n = 10⁶` and tiny p-values (down to `1e-300`) keep their relative precision.
//! - Where the p-value is small the two-sided tail is computed directly (Miller's `2 P(D⁺ ≥ d)`,
//!   whose relative error `P(D⁺ ≥ d, D⁻ ≥ d) / P(Dₙ ≥ d)` is below `1e-5` in those regimes),
//!   never as `1 - cdf`, so tail p-values keep relative accuracy.
//! - The exact two-sample p-value propagates the probability mass of the random path (all
//!   terms positive, no binomial coefficients) and sums the mass that leaves the band: no
//!   overflow and no cancellation. It assumes no ties between the samples (continuous data).
//!
//! # References
//! - R. Simard, P. L'Ecuyer, *Computing the Two-Sided Kolmogorov-Smirnov Distribution*,
//!   J. Stat. Softw. 39(11) (2011), <https://doi.org/10.18637/jss.v039.i11>.
//! - G. Marsaglia, W. W. Tsang, J. Wang, *Evaluating Kolmogorov's Distribution*, J. Stat.
//!   Softw. 8(18) (2003), <https://doi.org/10.18637/jss.v008.i18>.
//! - J. Pomeranz, *Exact Cumulative Distribution of the Kolmogorov-Smirnov Statistic for Small
//!   Samples*, Comm. ACM 17(12) (1974), <https://doi.org/10.1145/361604.361627>.
//! - W. Pelz, I. J. Good, *Approximating the Lower Tail-Areas of the Kolmogorov-Smirnov
//!   One-Sample Statistic*, J. R. Stat. Soc. B 38(2) (1976),
//!   <https://doi.org/10.1111/j.2517-6161.1976.tb01582.x>.
//! - Z. W. Birnbaum, F. H. Tingey, *One-Sided Confidence Contours for Probability Distribution
//!   Functions*, Ann. Math. Stat. 22(4) (1951), <https://doi.org/10.1214/aoms/1177729550>.
//! - L. H. Miller, *Table of Percentage Points of Kolmogorov Statistics*, JASA 51 (1956),
//!   <https://doi.org/10.1080/01621459.1956.10501311>.
//! - H. Ruben, J. Gambino, *The Exact Distribution of Kolmogorov's Statistic Dₙ for n ≤ 10*,
//!   Ann. Inst. Stat. Math. 34 (1982), <https://doi.org/10.1007/BF02481056>.
//! - J. L. Hodges, *The Significance Probability of the Smirnov Two-Sample Test*, Ark. Mat. 3
//!   (1958), <https://doi.org/10.1007/BF02589501> (the lattice-path formulation).
//! - scipy.stats.kstwo and scipy.stats.ks_2samp,
//!   <https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.kstwo.html>.

use std::f64::consts::{LN_2, PI};

use crate::error::Error;
use crate::numeric::NeumaierSum;

/// Which formula produced a Kolmogorov-Smirnov p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KsMethod {
    /// Closed forms at the ends of the range (`t ≤ 1`, `d ≥ 1/2`, `d ≤ 0`, `d ≥ 1`); exact.
    ExactEnds,
    /// Durbin's matrix (Marsaglia-Tsang-Wang 2003); exact up to rounding.
    Durbin,
    /// Pomeranz's recursion (1974); exact up to rounding.
    Pomeranz,
    /// Twice the exact one-sided tail (Miller 1956); relative error below `1e-5` where used.
    TwiceSmirnov,
    /// The Pelz-Good (1976) asymptotic series for large `n`.
    PelzGood,
    /// Two samples: exact count of lattice paths.
    ExactLattice,
    /// Two samples: the one-sample distribution at the effective size `round(m n/(m + n))`.
    EffectiveSize,
}

/// The two-sided distribution of `Dₙ` at one point: `P(Dₙ < d)`, `P(Dₙ ≥ d)` and the method.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct KsTail {
    /// `P(Dₙ < d)` (equal to `P(Dₙ ≤ d)` for `d > 1/(2n)`, where the law is continuous).
    pub cdf: f64,
    /// `P(Dₙ ≥ d)`, the p-value; computed directly (not as `1 - cdf`) where it is small.
    pub sf: f64,
    /// The formula that was used.
    pub method: KsMethod,
}

/// Result of a one-sample Kolmogorov-Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct KsResult {
    /// `D = max(D⁺, D⁻)`.
    pub statistic: f64,
    /// Two-sided p-value `P(Dₙ ≥ D)` under the null.
    pub p_value: f64,
    /// Sample size `n`.
    pub n: usize,
    /// The data value at which the statistic is attained.
    pub statistic_location: f64,
    /// `+1` if the empirical CDF lies above the null there (`D = D⁺`), `-1` if below.
    pub statistic_sign: i8,
    /// `D⁺ = maxᵢ (i/n - Fᵢ)`.
    pub d_plus: f64,
    /// `D⁻ = maxᵢ (Fᵢ - (i-1)/n)`.
    pub d_minus: f64,
    /// One-sided p-value `P(D⁺ₙ ≥ D⁺)` (exact), for the alternative "data stochastically
    /// smaller than the null".
    pub p_value_plus: f64,
    /// One-sided p-value `P(D⁻ₙ ≥ D⁻)` (exact), for "data stochastically larger".
    pub p_value_minus: f64,
    /// How the two-sided p-value was computed.
    pub method: KsMethod,
}

/// How the p-value of the two-sample test is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KsTwoSampleMethod {
    /// Exact when `m·n ≤ 10⁷` (at most a few tens of milliseconds), asymptotic otherwise.
    #[default]
    Auto,
    /// Exact lattice-path count, cost `O(m·n)`.
    Exact,
    /// The one-sample distribution at the effective size `round(m n/(m + n))` (scipy's
    /// choice); meant for large samples, poor when the effective size is below ~10.
    Asymptotic,
}

/// Largest `m·n` for which [`KsTwoSampleMethod::Auto`] uses the exact lattice count.
pub const TWO_SAMPLE_EXACT_MAX_CELLS: usize = 10_000_000;

/// Result of a two-sample Kolmogorov-Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct KsTwoSampleResult {
    /// `D = sup |Fₘ - Gₙ|`, a multiple of `1/(m n)`.
    pub statistic: f64,
    /// Two-sided p-value `P(D ≥ observed)` under the null of one continuous distribution.
    pub p_value: f64,
    /// Size `m` of the first sample.
    pub n_x: usize,
    /// Size `n` of the second sample.
    pub n_y: usize,
    /// The data value at which the statistic is attained.
    pub statistic_location: f64,
    /// `+1` if the first sample's ECDF lies above the second's there, `-1` if below.
    pub statistic_sign: i8,
    /// How the p-value was computed ([`KsMethod::ExactLattice`] or
    /// [`KsMethod::EffectiveSize`]).
    pub method: KsMethod,
}

fn check_size(n: usize) -> Result<usize, Error> {
    if n == 0 {
        Err(Error::CountZero {
            name: "sample size",
        })
    } else {
        Ok(n)
    }
}

fn check_statistic(d: f64) -> Result<f64, Error> {
    if d.is_nan() {
        Err(Error::InvalidParameter {
            name: "statistic",
            value: d,
            rule: "a number (not NaN)",
        })
    } else {
        Ok(d)
    }
}

fn check_data(data: &[f64]) -> Result<(), Error> {
    check_size(data.len())?;
    match data.iter().find(|v| v.is_nan()) {
        Some(&v) => Err(Error::InvalidParameter {
            name: "data value",
            value: v,
            rule: "a number (not NaN)",
        }),
        None => Ok(()),
    }
}

/// `ln(n!/nⁿ)`: a compensated sum of `ln(i/n)` for small `n`, Stirling's series beyond.
fn ln_factorial_over_power(n: usize) -> f64 {
    let nf = n as f64;
    if n < 64 {
        let mut acc = NeumaierSum::default();
        for i in 1..=n {
            acc.add((i as f64 / nf).ln());
        }
        acc.value()
    } else {
        // ln n! - n ln n = -n + ½ ln(2πn) + 1/(12n) - 1/(360n³) + 1/(1260n⁵) - …; the next term
        // is below 1e-16 for n ≥ 64.
        let inv = 1.0 / nf;
        let inv2 = inv * inv;
        -nf + 0.5 * (2.0 * PI * nf).ln() + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))
    }
}

/// `ln Σ exp(aᵢ)` over positive terms given by their logs (max-subtraction, compensated sum).
fn log_sum(terms: &[f64]) -> f64 {
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    let mut acc = NeumaierSum::default();
    for &a in terms {
        acc.add((a - m).exp());
    }
    m + acc.value().ln()
}

/// Exact one-sided tail `P(D⁺ₙ ≥ d)` (equal to `P(D⁻ₙ ≥ d)`), unchecked.
fn smirnov_sf_unchecked(n: usize, d: f64) -> f64 {
    if d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let j_max = ((nf * (1.0 - d)).floor() as usize).min(n);
    let mut terms = Vec::with_capacity(j_max + 1);
    let mut ln_choose = NeumaierSum::default(); // ln C(n, j)
    for j in 0..=j_max {
        if j > 0 {
            ln_choose.add(((n - j + 1) as f64 / j as f64).ln());
        }
        let b = d + j as f64 / nf; // d + j/n
        let ln_a = if b < 0.5 {
            (-b).ln_1p()
        } else {
            let a = (n - j) as f64 / nf - d;
            if a <= 0.0 {
                continue; // 0^(n-j) with n - j ≥ 1: the term is zero
            }
            a.ln()
        };
        let k = (n - j) as f64;
        terms.push(ln_choose.value() + k * ln_a + (j as f64 - 1.0) * b.ln());
    }
    (d.ln() + log_sum(&terms)).exp().min(1.0)
}

/// Exact one-sided tail `P(D⁺ₙ ≥ d)` of the Smirnov statistic (also `P(D⁻ₙ ≥ d)`).
///
/// # Formula
/// ```text
/// P(D⁺ₙ ≥ d) = d Σ_{j=0}^{⌊n(1-d)⌋} C(n,j) (1 - d - j/n)^(n-j) (d + j/n)^(j-1)
/// ```
/// Cost `O(n)`; all terms are positive and summed in log space.
///
/// # Errors
/// [`Error::CountZero`] for `n = 0`, [`Error::InvalidParameter`] for NaN `d`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::smirnov_sf;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // n = 1: P(1 - U ≥ d) = 1 - d.
/// assert!((smirnov_sf(1, 0.3)? - 0.7).abs() < 1e-15);
/// # Ok(()) }
/// ```
pub fn smirnov_sf(n: usize, d: f64) -> Result<f64, Error> {
    Ok(smirnov_sf_unchecked(check_size(n)?, check_statistic(d)?))
}

/// `C = A·B` for row-major `m × m` matrices, then rescaled by an exact power of two so that its
/// largest entry lies in `[1, 2)`; returns the exponent added.
fn mul_rescaled(a: &[f64], b: &[f64], m: usize) -> (Vec<f64>, i64) {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for l in 0..m {
            let ail = a[i * m + l];
            if ail == 0.0 {
                continue;
            }
            let brow = &b[l * m..(l + 1) * m];
            let crow = &mut c[i * m..(i + 1) * m];
            for (cv, bv) in crow.iter_mut().zip(brow) {
                *cv += ail * bv;
            }
        }
    }
    let e = rescale(&mut c);
    (c, e)
}

/// Divides `v` by `2^e` with `e = ⌊log₂ max|vᵢ|⌋` (exact) and returns `e`.
fn rescale(v: &mut [f64]) -> i64 {
    let max = v.iter().fold(0.0_f64, |acc, x| acc.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return 0;
    }
    let e = max.log2().floor() as i32;
    let scale = 2f64.powi(-e);
    for x in v.iter_mut() {
        *x *= scale;
    }
    i64::from(e)
}

/// `(Hⁿ, e)` with the true power equal to `Hⁿ · 2^e`.
fn matrix_power_rescaled(h: &[f64], m: usize, mut n: usize) -> (Vec<f64>, i64) {
    let mut result = vec![0.0; m * m];
    for i in 0..m {
        result[i * m + i] = 1.0;
    }
    let mut result_exp = 0_i64;
    let mut base = h.to_vec();
    let mut base_exp = rescale(&mut base);
    loop {
        if n & 1 == 1 {
            let (r, e) = mul_rescaled(&result, &base, m);
            result = r;
            result_exp += base_exp + e;
        }
        n >>= 1;
        if n == 0 {
            break;
        }
        let (b, e) = mul_rescaled(&base, &base, m);
        base = b;
        base_exp = 2 * base_exp + e;
    }
    (result, result_exp)
}

/// `P(Dₙ < d)` by Durbin's matrix (Marsaglia-Tsang-Wang), for `1 < t = n d < n - 1`.
fn durbin_cdf(n: usize, d: f64) -> f64 {
    let t = n as f64 * d;
    let k = t.floor() as usize + 1;
    let m = 2 * k - 1;
    let h = k as f64 - t;
    let mut inv_fact = vec![1.0_f64; m + 1];
    for r in 1..=m {
        inv_fact[r] = inv_fact[r - 1] / r as f64;
    }
    let mut hm = vec![0.0_f64; m * m];
    for i in 0..m {
        for j in 0..=(i + 1).min(m - 1) {
            hm[i * m + j] = inv_fact[i + 1 - j];
        }
    }
    let mut h_pow = 1.0;
    for i in 0..m {
        h_pow *= h; // h^(i+1)
        hm[i * m] -= h_pow * inv_fact[i + 1];
    }
    // Last row: H[m-1][j] -= h^(m-j)/(m-j)!, i.e. h^r/r! for r = m - j = m … 1.
    let mut h_pow = 1.0;
    for r in 1..=m {
        h_pow *= h;
        hm[(m - 1) * m + (m - r)] -= h_pow * inv_fact[r];
    }
    if 2.0 * h - 1.0 > 0.0 {
        hm[(m - 1) * m] += (2.0 * h - 1.0).powi(m as i32) * inv_fact[m];
    }
    let (p, e) = matrix_power_rescaled(&hm, m, n);
    let centre = p[(k - 1) * m + (k - 1)];
    if centre <= 0.0 {
        return 0.0;
    }
    (centre.ln() + e as f64 * LN_2 + ln_factorial_over_power(n))
        .exp()
        .min(1.0)
}

/// `P(Dₙ < d)` by Pomeranz's recursion, for `1 < t = n d`.
fn pomeranz_cdf(n: usize, d: f64) -> f64 {
    let t = n as f64 * d;
    let frac = t - t.floor();
    let mut f = frac.min(1.0 - frac);
    // Breakpoints closer than KS_BREAKPOINT_MERGE to an integer are merged with it (its doc).
    if f < crate::tolerance::KS_BREAKPOINT_MERGE {
        f = 0.0;
    }
    // Cells of one unit interval [u, u + 1]: (start offset, end offset).
    let cells: Vec<(f64, f64)> = if f == 0.0 {
        vec![(0.0, 1.0)]
    } else if f == 0.5 {
        vec![(0.0, 0.5), (0.5, 1.0)]
    } else {
        vec![(0.0, f), (f, 1.0 - f), (1.0 - f, 1.0)]
    };
    let mut v = vec![0.0_f64; n + 1];
    v[0] = 1.0;
    let mut ln_scale = 0.0_f64;
    let mut next = vec![0.0_f64; n + 1];
    let mut pw: Vec<f64> = Vec::new();
    for u in 0..n {
        for &(s, e) in &cells {
            let delta = e - s;
            let mid = u as f64 + 0.5 * (s + e);
            let lo_f = (mid - t).floor() + 1.0;
            let hi_f = (mid + t).ceil() - 1.0;
            let lo = if lo_f <= 0.0 { 0 } else { lo_f as usize };
            let hi = if hi_f >= n as f64 { n } else { hi_f as usize };
            if lo > hi || hi_f < 0.0 {
                return 0.0;
            }
            pw.clear();
            let mut p = 1.0;
            for r in 0..=(hi - lo) {
                if r > 0 {
                    p *= delta / r as f64;
                }
                pw.push(p);
            }
            next.iter_mut().for_each(|x| *x = 0.0);
            for j in lo..=hi {
                let mut acc = 0.0;
                for l in lo..=j {
                    acc += v[l] * pw[j - l];
                }
                next[j] = acc;
            }
            std::mem::swap(&mut v, &mut next);
            let e2 = rescale(&mut v);
            if v.iter().all(|&x| x == 0.0) {
                return 0.0;
            }
            ln_scale += e2 as f64 * LN_2;
        }
    }
    if v[n] <= 0.0 {
        return 0.0;
    }
    (v[n].ln() + ln_scale + ln_factorial_over_power(n))
        .exp()
        .min(1.0)
}

/// `P(Dₙ < d)` by the Pelz-Good asymptotic series.
fn pelz_good_cdf(n: usize, d: f64) -> f64 {
    let nf = n as f64;
    let z = nf.sqrt() * d;
    let z2 = z * z;
    let e1 = -PI * PI / (8.0 * z2); // exponent of q for (k - ½)² → factor (2k-1)²
    if e1 < -745.0 {
        return 0.0;
    }
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let (z4, z6, z8) = (z2 * z2, z2 * z2 * z2, z2 * z2 * z2 * z2);
    let k_max = (16.0 * z / PI).ceil() as usize + 2;
    // Sums over half-integers h = k - ½: weights exp(-π² h²/(2 z²)).
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    // Sums over integers k: weights exp(-π² k²/(2 z²)).
    let (mut r2, mut r3) = (0.0, 0.0);
    for k in (1..=k_max).rev() {
        let hh = (k as f64 - 0.5).powi(2);
        let w = (-pi2 * hh / (2.0 * z2)).exp();
        s0 += w;
        s1 += (pi2 * hh - z2) * w;
        s2 += (6.0 * z6
            + 2.0 * z4
            + pi2 * (2.0 * z4 - 5.0 * z2) * hh
            + pi4 * (1.0 - 2.0 * z2) * hh * hh)
            * w;
        s3 += (pi6 * (5.0 - 30.0 * z2) * hh * hh * hh
            + pi4 * (212.0 * z4 - 60.0 * z2) * hh * hh
            + pi2 * (135.0 * z4 - 96.0 * z6) * hh
            - 30.0 * z6
            - 90.0 * z8)
            * w;
        let kk = (k as f64).powi(2);
        let wk = (-pi2 * kk / (2.0 * z2)).exp();
        r2 += kk * wk;
        r3 += (3.0 * pi2 * kk * z2 - pi4 * kk * kk) * wk;
    }
    let c = (PI / 2.0).sqrt();
    let k0 = (2.0 * PI).sqrt() / z * s0;
    let k1 = c / (3.0 * z4) * s1;
    let k2 = c / (36.0 * z4 * z2 * z) * s2 - c * pi2 / (18.0 * z2 * z) * r2;
    let k3 = c / (3240.0 * z8 * z2) * s3 + c / (108.0 * z6) * r3;
    (k0 + k1 / nf.sqrt() + k2 / nf + k3 / (nf * nf.sqrt())).clamp(0.0, 1.0)
}

fn tail(cdf: f64, method: KsMethod) -> KsTail {
    KsTail {
        cdf,
        sf: 1.0 - cdf,
        method,
    }
}

fn upper_tail(sf: f64, method: KsMethod) -> KsTail {
    let sf = sf.clamp(0.0, 1.0);
    KsTail {
        cdf: 1.0 - sf,
        sf,
        method,
    }
}

fn kolmogorov_unchecked(n: usize, d: f64) -> KsTail {
    if d <= 0.0 {
        return tail(0.0, KsMethod::ExactEnds);
    }
    if d >= 1.0 {
        return tail(1.0, KsMethod::ExactEnds);
    }
    let nf = n as f64;
    let t = nf * d;
    if t <= 0.5 {
        return tail(0.0, KsMethod::ExactEnds);
    }
    if t <= 1.0 {
        let cdf = (ln_factorial_over_power(n) + nf * (2.0 * t - 1.0).ln()).exp();
        return tail(cdf, KsMethod::ExactEnds);
    }
    if d >= 0.5 {
        // D⁺ ≥ ½ and D⁻ ≥ ½ cannot both happen; for d ≥ 1 - 1/n this is 2(1 - d)ⁿ.
        return upper_tail(2.0 * smirnov_sf_unchecked(n, d), KsMethod::ExactEnds);
    }
    let nd2 = t * d;
    if n <= 140 {
        if nd2 <= 0.754693 {
            tail(durbin_cdf(n, d), KsMethod::Durbin)
        } else if nd2 <= 4.0 {
            tail(pomeranz_cdf(n, d), KsMethod::Pomeranz)
        } else {
            upper_tail(2.0 * smirnov_sf_unchecked(n, d), KsMethod::TwiceSmirnov)
        }
    } else if nd2 >= 2.2 {
        upper_tail(2.0 * smirnov_sf_unchecked(n, d), KsMethod::TwiceSmirnov)
    } else if n <= 100_000 && nf * d.powf(1.5) <= 1.4 {
        tail(durbin_cdf(n, d), KsMethod::Durbin)
    } else {
        tail(pelz_good_cdf(n, d), KsMethod::PelzGood)
    }
}

/// The two-sided Kolmogorov distribution of `Dₙ` at `d`: `P(Dₙ < d)`, `P(Dₙ ≥ d)` and the
/// method used (module docs: Simard & L'Ecuyer's choice, as `scipy.stats.kstwo`).
///
/// # Errors
/// [`Error::CountZero`] for `n = 0`, [`Error::InvalidParameter`] for NaN `d`.
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::{kolmogorov_tail, KsMethod};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // n = 1: D₁ = max(U, 1 - U), so P(D₁ ≥ d) = 2(1 - d) for d ≥ ½.
/// let t = kolmogorov_tail(1, 0.8)?;
/// assert!((t.sf - 0.4).abs() < 1e-15);
/// assert_eq!(t.method, KsMethod::ExactEnds);
/// # Ok(()) }
/// ```
pub fn kolmogorov_tail(n: usize, d: f64) -> Result<KsTail, Error> {
    Ok(kolmogorov_unchecked(check_size(n)?, check_statistic(d)?))
}

/// Two-sided p-value `P(Dₙ ≥ d)` (see [`kolmogorov_tail`]).
///
/// # Errors
/// As [`kolmogorov_tail`].
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::kolmogorov_sf;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // The 5% critical value for n = 20 is about 0.294 (Miller's table).
/// let p = kolmogorov_sf(20, 0.29408)?;
/// assert!((p - 0.05).abs() < 1e-3);
/// # Ok(()) }
/// ```
pub fn kolmogorov_sf(n: usize, d: f64) -> Result<f64, Error> {
    Ok(kolmogorov_tail(n, d)?.sf)
}

/// `P(Dₙ < d)` (see [`kolmogorov_tail`]).
///
/// # Errors
/// As [`kolmogorov_tail`].
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::kolmogorov_cdf;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// assert_eq!(kolmogorov_cdf(10, 0.04)?, 0.0); // d ≤ 1/(2n)
/// # Ok(()) }
/// ```
pub fn kolmogorov_cdf(n: usize, d: f64) -> Result<f64, Error> {
    Ok(kolmogorov_tail(n, d)?.cdf)
}

/// Survival function of the limiting Kolmogorov distribution, `P(K > z)` with
/// `K = lim √n Dₙ`.
///
/// # Formula
/// ```text
/// P(K > z) = 2 Σ_{k≥1} (-1)^(k-1) exp(-2 k² z²)                        z ≥ 1
/// P(K ≤ z) = √(2π)/z Σ_{k≥1} exp(-(2k-1)² π²/(8 z²))                  z < 1
/// ```
/// This limit ignores the `O(1/√n)` corrections and is conservative for small `n`; use
/// [`kolmogorov_sf`] for a finite sample.
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::kolmogorov_limit_sf;
/// assert!((kolmogorov_limit_sf(1.3580986393225505) - 0.05).abs() < 1e-12);
/// assert_eq!(kolmogorov_limit_sf(0.0), 1.0);
/// ```
pub fn kolmogorov_limit_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z <= 0.0 {
        return 1.0;
    }
    if z >= 1.0 {
        let mut s = 0.0;
        let mut sign = 1.0;
        for k in 1..=20 {
            let kf = k as f64;
            s += sign * (-2.0 * kf * kf * z * z).exp();
            sign = -sign;
        }
        (2.0 * s).clamp(0.0, 1.0)
    } else {
        let mut s = 0.0;
        for k in 1..=20 {
            let m = (2 * k - 1) as f64;
            s += (-m * m * PI * PI / (8.0 * z * z)).exp();
        }
        (1.0 - (2.0 * PI).sqrt() / z * s).clamp(0.0, 1.0)
    }
}

/// One-sample Kolmogorov-Smirnov test of `data` against the fully specified continuous CDF
/// `cdf`. The data need not be sorted (a sorted copy is made).
///
/// The smallest discrepancy detected: at level `α` and size `n` the test rejects when
/// `D ≥ d_α ≈ √(ln(2/α)/(2n))` (DKWM bound, conservative), so any `F` with
/// `sup |F - F₀| ≥ 2 d_α` is detected with probability at least `1 - α`.
///
/// # Errors
/// [`Error::CountZero`] for empty data, [`Error::InvalidParameter`] for a NaN data value,
/// [`Error::ProbabilityOutOfRange`] if `cdf` returns a value outside `[0, 1]` (or NaN).
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::ks_one_sample;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let data = [0.1, 0.25, 0.5, 0.65, 0.9];
/// let r = ks_one_sample(&data, |x: f64| x.clamp(0.0, 1.0))?;
/// assert!((r.statistic - 0.15).abs() < 1e-12);
/// assert!(r.p_value > 0.9);
/// # Ok(()) }
/// ```
pub fn ks_one_sample<F: Fn(f64) -> f64>(data: &[f64], cdf: F) -> Result<KsResult, Error> {
    check_data(data)?;
    let mut sorted = data.to_vec();
    sorted.sort_by(f64::total_cmp);
    ks_one_sample_sorted(&sorted, cdf)
}

/// As [`ks_one_sample`] for data already sorted in ascending order (no copy).
///
/// # Errors
/// As [`ks_one_sample`], and [`Error::InvalidParameter`] if `sorted` is not ascending.
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::ks_one_sample_sorted;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let r = ks_one_sample_sorted(&[0.5], |x: f64| x)?;
/// assert_eq!(r.statistic, 0.5);
/// assert!((r.p_value - 1.0).abs() < 1e-15);
/// assert!(ks_one_sample_sorted(&[0.6, 0.5], |x: f64| x).is_err());
/// # Ok(()) }
/// ```
pub fn ks_one_sample_sorted<F: Fn(f64) -> f64>(sorted: &[f64], cdf: F) -> Result<KsResult, Error> {
    check_data(sorted)?;
    if let Some(w) = sorted.windows(2).find(|w| w[1] < w[0]) {
        return Err(Error::InvalidParameter {
            name: "sorted data value",
            value: w[1],
            rule: "in ascending order",
        });
    }
    let n = sorted.len();
    let nf = n as f64;
    let (mut d_plus, mut loc_plus) = (f64::NEG_INFINITY, sorted[0]);
    let (mut d_minus, mut loc_minus) = (f64::NEG_INFINITY, sorted[0]);
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        if !(0.0..=1.0).contains(&f) {
            return Err(Error::ProbabilityOutOfRange { value: f });
        }
        let above = (i + 1) as f64 / nf - f;
        let below = f - i as f64 / nf;
        if above > d_plus {
            d_plus = above;
            loc_plus = x;
        }
        if below > d_minus {
            d_minus = below;
            loc_minus = x;
        }
    }
    let (statistic, statistic_location, statistic_sign) = if d_plus >= d_minus {
        (d_plus, loc_plus, 1)
    } else {
        (d_minus, loc_minus, -1)
    };
    let t = kolmogorov_unchecked(n, statistic);
    Ok(KsResult {
        statistic,
        p_value: t.sf,
        n,
        statistic_location,
        statistic_sign,
        d_plus,
        d_minus,
        p_value_plus: smirnov_sf_unchecked(n, d_plus),
        p_value_minus: smirnov_sf_unchecked(n, d_minus),
        method: t.method,
    })
}

/// Exact `P(D ≥ h/(m n))` for two samples of sizes `m`, `n` without ties: the probability that
/// a uniformly random lattice path from `(0,0)` to `(m,n)` meets `|i n - j m| ≥ h`.
fn two_sample_exact_sf(m: usize, n: usize, h: u128) -> f64 {
    if h == 0 {
        return 1.0;
    }
    let (mu, nu) = (m as i128, n as i128);
    let hi = h as i128;
    let outside = |i: usize, j: usize| (i as i128 * nu - j as i128 * mu).abs() >= hi;
    let total = m + n;
    // mass[j]: probability of being at (i, j) without having left the band.
    let mut mass = vec![0.0_f64; n + 1];
    mass[0] = 1.0;
    let mut left = NeumaierSum::default();
    for i in 0..=m {
        for j in 0..=n {
            if i == 0 && j == 0 {
                continue;
            }
            // Arrive from (i-1, j) (the x-step) or from (i, j-1) (the y-step).
            let mut arrive = 0.0;
            if j > 0 {
                let rem = (total - i - (j - 1)) as f64;
                arrive += mass[j - 1] * (n - (j - 1)) as f64 / rem;
            }
            if i > 0 {
                // mass[j] still holds row i-1.
                let rem = (total - (i - 1) - j) as f64;
                arrive += mass[j] * (m - (i - 1)) as f64 / rem;
            }
            if outside(i, j) {
                left.add(arrive);
                mass[j] = 0.0;
            } else {
                mass[j] = arrive;
            }
        }
    }
    left.value().clamp(0.0, 1.0)
}

/// Two-sample Kolmogorov-Smirnov test: are `x` and `y` drawn from the same continuous
/// distribution? The p-value is exact for `m·n ≤ 10⁷` ([`KsTwoSampleMethod::Auto`]).
///
/// # Errors
/// [`Error::CountZero`] for an empty sample, [`Error::InvalidParameter`] for a NaN value.
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::{ks_two_sample, KsMethod};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// // Completely separated samples of sizes 3 and 3: P(D = 1) = 2/C(6,3) = 0.1.
/// let r = ks_two_sample(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0])?;
/// assert_eq!(r.statistic, 1.0);
/// assert!((r.p_value - 0.1).abs() < 1e-15);
/// assert_eq!(r.method, KsMethod::ExactLattice);
/// # Ok(()) }
/// ```
pub fn ks_two_sample(x: &[f64], y: &[f64]) -> Result<KsTwoSampleResult, Error> {
    ks_two_sample_with(x, y, KsTwoSampleMethod::Auto)
}

/// As [`ks_two_sample`] with the p-value method chosen by the caller.
///
/// # Errors
/// As [`ks_two_sample`].
///
/// # Example
/// ```
/// use gumbel_audit::stats::ks::{ks_two_sample_with, KsTwoSampleMethod, KsMethod};
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let x = [0.1, 0.4, 0.7, 1.0, 1.3, 1.6];
/// let y = [0.2, 0.5, 0.9, 1.1, 1.5];
/// let r = ks_two_sample_with(&x, &y, KsTwoSampleMethod::Asymptotic)?;
/// assert_eq!(r.method, KsMethod::EffectiveSize);
/// // Interleaved samples: the largest ECDF gap is one step, and nothing is rejected.
/// assert!((r.statistic - 1.0 / 6.0).abs() < 1e-15);
/// assert!(r.p_value > 0.9);
/// # Ok(()) }
/// ```
pub fn ks_two_sample_with(
    x: &[f64],
    y: &[f64],
    method: KsTwoSampleMethod,
) -> Result<KsTwoSampleResult, Error> {
    check_data(x)?;
    check_data(y)?;
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    let (m, n) = (xs.len(), ys.len());
    let (mi, ni) = (m as i128, n as i128);
    let (mut i, mut j) = (0_usize, 0_usize);
    let (mut best, mut location, mut sign) = (0_i128, xs[0].min(ys[0]), 1_i8);
    while i < m || j < n {
        let v = match (xs.get(i), ys.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        while i < m && xs[i] <= v {
            i += 1;
        }
        while j < n && ys[j] <= v {
            j += 1;
        }
        let diff = i as i128 * ni - j as i128 * mi; // m n (Fₘ - Gₙ)
        if diff.abs() > best {
            best = diff.abs();
            location = v;
            sign = if diff > 0 { 1 } else { -1 };
        }
    }
    let statistic = best as f64 / (m as f64 * n as f64);
    let exact = match method {
        KsTwoSampleMethod::Exact => true,
        KsTwoSampleMethod::Asymptotic => false,
        KsTwoSampleMethod::Auto => m.saturating_mul(n) <= TWO_SAMPLE_EXACT_MAX_CELLS,
    };
    let (p_value, method) = if exact {
        (
            two_sample_exact_sf(m, n, best as u128),
            KsMethod::ExactLattice,
        )
    } else {
        let en = (m as f64 * n as f64 / (m + n) as f64).round().max(1.0) as usize;
        (
            kolmogorov_unchecked(en, statistic).sf,
            KsMethod::EffectiveSize,
        )
    };
    Ok(KsTwoSampleResult {
        statistic,
        p_value,
        n_x: m,
        n_y: n,
        statistic_location: location,
        statistic_sign: sign,
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durbin_and_pomeranz_agree() {
        // Two exact algorithms written independently must agree to rounding.
        for &(n, d) in &[
            (5_usize, 0.3),
            (10, 0.2),
            (10, 0.35),
            (20, 0.15),
            (37, 0.123),
            (100, 0.05),
            (100, 0.1),
            (140, 0.07),
            (60, 0.1 + 1e-13),
        ] {
            let a = durbin_cdf(n, d);
            let b = pomeranz_cdf(n, d);
            assert!(
                (a - b).abs() <= 1e-12 * a.max(1e-300),
                "n={n} d={d}: Durbin {a} vs Pomeranz {b}"
            );
        }
    }

    #[test]
    fn durbin_exponent_tracking_at_large_n() {
        // Hⁿ for n = 20000 overflows f64 many times over without the rescaling, and n!/nⁿ
        // underflows; both exact algorithms must still agree (the cdf here is ~7e-18).
        let (n, d) = (20_000_usize, 1.2e-3);
        let a = durbin_cdf(n, d);
        let b = pomeranz_cdf(n, d);
        assert!(a > 1e-30 && a < 1e-3, "{a}");
        // Pomeranz takes 3n = 60000 steps, each with a few roundings over a band of ~50
        // terms: relative error ~1e-10 is its expected accumulation (measured 3e-10).
        assert!((a - b).abs() <= 1e-9 * a, "Durbin {a} vs Pomeranz {b}");
    }

    #[test]
    fn integer_t_is_handled() {
        // t = n d an integer (f = 0) and a half-integer (f = ½).
        for &(n, d) in &[(10_usize, 0.3), (20, 0.125), (8, 0.3125)] {
            let a = durbin_cdf(n, d);
            let b = pomeranz_cdf(n, d);
            assert!((a - b).abs() <= 1e-12, "n={n} d={d}: {a} vs {b}");
        }
    }

    #[test]
    fn small_n_closed_forms() {
        // n = 1: P(D₁ ≥ d) = 2(1 - d) for d ≥ ½.
        for &d in &[0.55, 0.7, 0.9] {
            let t = kolmogorov_unchecked(1, d);
            assert!((t.sf - 2.0 * (1.0 - d)).abs() < 1e-15);
        }
        // Ruben-Gambino lower end, n = 3, d = 0.3: 3!/27 · (1.8 - 1)³.
        let t = kolmogorov_unchecked(3, 0.3);
        assert!((t.cdf - 6.0 / 27.0 * 0.8_f64.powi(3)).abs() < 1e-15);
    }

    #[test]
    fn smirnov_matches_brute_force_n2() {
        // n = 2, d = 0.3, by hand: D⁺ < d iff u₍₁₎ > 0.2 and u₍₂₎ > 0.7, probability
        // P(both > 0.2) - P(both in (0.2, 0.7]) = 0.64 - 0.25 = 0.39, so P(D⁺ ≥ d) = 0.61.
        let p = smirnov_sf_unchecked(2, 0.3);
        assert!((p - 0.61).abs() < 1e-15, "{p}");
    }

    #[test]
    fn two_sample_exact_small_cases() {
        // m = n = 3, fully separated: 2 of 20 paths.
        assert!((two_sample_exact_sf(3, 3, 9) - 0.1).abs() < 1e-15);
        // m = 1, n = 1: D is always 1.
        assert!((two_sample_exact_sf(1, 1, 1) - 1.0).abs() < 1e-15);
        // m = 2, n = 1: paths xxy, xyx, yxx; |2j - i|... h = 2 (D = 1) hit by xxy and yxx.
        assert!((two_sample_exact_sf(2, 1, 2) - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            kolmogorov_sf(0, 0.1),
            Err(Error::CountZero { .. })
        ));
        assert!(kolmogorov_sf(5, f64::NAN).is_err());
        assert!(ks_one_sample(&[], |x: f64| x).is_err());
        assert!(ks_one_sample(&[f64::NAN], |x: f64| x).is_err());
        assert!(matches!(
            ks_one_sample(&[0.5], |_| 1.5),
            Err(Error::ProbabilityOutOfRange { .. })
        ));
        assert!(ks_two_sample(&[], &[1.0]).is_err());
    }
}
