//! Small numerical kernels shared by every layer: compensated sums, log-space arithmetic, and
//! the log-CDF interface ([`LnCdfSf`]) through which the goodness-of-fit tests read a null.
//!
//! # Numerical notes
//! - Sums use Neumaier's compensated summation, so the error of a sum of `k` terms is about one
//!   rounding of the result instead of growing with `k` (k goes up to 1e5 here).
//! - `log_sum_exp` subtracts the maximum before exponentiating, so no term overflows and the
//!   largest term contributes exactly `1`; `-inf` terms contribute `0`.
//!
//! # References
//! - A. Neumaier, *Rundungsfehleranalyse einiger Verfahren zur Summation endlicher Summen*,
//!   ZAMM 54 (1974), <https://doi.org/10.1002/zamm.19740540106>.
//! - P. Blanchard, D. J. Higham, N. J. Higham, *Accurately computing the log-sum-exp and softmax
//!   functions*, IMA J. Numer. Anal. 41 (2021), <https://doi.org/10.1093/imanum/draa038>.

/// A continuous distribution that can give `ln F(x)` and `ln S(x) = ln(1 - F(x))`, each
/// accurate in its own tail: the interface between the samplers (which implement it) and the
/// goodness-of-fit tests (which consume it, e.g. `stats::anderson_darling_dist`), kept here so
/// that neither layer depends on the other.
pub trait LnCdfSf {
    /// `ln F(x)`.
    fn ln_cdf(&self, x: f64) -> f64;
    /// `ln S(x) = ln(1 - F(x))`, accurate where `F(x)` rounds to 1.
    fn ln_sf(&self, x: f64) -> f64;
}

/// Neumaier's running compensated sum, for recurrences that cannot be written as an iterator.
///
/// # Example
/// ```
/// use gumbel_audit::numeric::NeumaierSum;
/// let mut acc = NeumaierSum::default();
/// for v in [1.0, 1e100, 1.0, -1e100] {
///     acc.add(v);
/// }
/// assert_eq!(acc.value(), 2.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NeumaierSum {
    s: f64,
    c: f64,
}

impl NeumaierSum {
    /// Adds `v`, carrying the rounding error of the addition in the compensation term.
    #[inline]
    pub fn add(&mut self, v: f64) {
        let t = self.s + v;
        if self.s.abs() >= v.abs() {
            self.c += (self.s - t) + v;
        } else {
            self.c += (v - t) + self.s;
        }
        self.s = t;
    }

    /// The compensated total.
    #[inline]
    pub fn value(&self) -> f64 {
        self.s + self.c
    }
}

/// Neumaier's compensated sum of `values`.
///
/// # Example
/// ```
/// use gumbel_audit::numeric::sum;
/// assert_eq!(sum([1.0, 1e100, 1.0, -1e100]), 2.0);
/// ```
pub fn sum<I: IntoIterator<Item = f64>>(values: I) -> f64 {
    let mut acc = NeumaierSum::default();
    for v in values {
        acc.add(v);
    }
    acc.value()
}

/// `ln Σ_i exp(x_i)`, computed as `m + ln Σ_i exp(x_i - m)` with `m = max_i x_i`.
///
/// Returns `-inf` for an empty slice or when every entry is `-inf`. NaN in, NaN out (callers
/// validate first).
///
/// # Example
/// ```
/// use gumbel_audit::numeric::log_sum_exp;
/// let v = log_sum_exp(&[1000.0, 1000.0]);
/// assert!((v - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// assert_eq!(log_sum_exp(&[f64::NEG_INFINITY, 0.0]), 0.0);
/// ```
pub fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || !m.is_finite() {
        return m;
    }
    // The maximum contributes exactly 1: summing the rest separately and using ln_1p keeps the
    // result accurate when one term dominates (Blanchard, Higham & Higham 2021, Alg. 2).
    let mut seen_max = false;
    let rest = sum(x.iter().filter_map(|&v| {
        if v == m && !seen_max {
            seen_max = true;
            None
        } else {
            Some((v - m).exp())
        }
    }));
    m + rest.ln_1p()
}

/// `ln(exp(a) + exp(b))` without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    if hi == f64::INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^(-x))`, accurate in both tails.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln σ(x) = -ln(1 + e^(-x))`, accurate in both tails.
pub fn ln_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

/// The log-odds `logit(p) = ln p - ln(1 - p)`, with `ln_1p` for accuracy near `p = 1`.
pub fn logit(p: f64) -> f64 {
    p.ln() - (-p).ln_1p()
}

/// Index of the largest entry; the first one wins ties. `None` for an empty slice or when every
/// entry is `-inf` or NaN.
pub fn argmax(x: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &v) in x.iter().enumerate() {
        if v > f64::NEG_INFINITY && best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn compensated_sum_beats_naive() {
        let xs = vec![0.1_f64; 100_000];
        assert_relative_eq!(sum(xs.iter().copied()), 10_000.0, max_relative = 1e-15);
    }

    #[test]
    fn log_sum_exp_cases() {
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
        assert_relative_eq!(
            log_sum_exp(&[0.0, 0.0, 0.0]),
            3f64.ln(),
            max_relative = 1e-15
        );
        assert_relative_eq!(log_sum_exp(&[-1e4, 1e4]), 1e4, max_relative = 1e-15);
        // One dominant term: ln(1 + 1e-20) must not be lost.
        assert_relative_eq!(
            log_sum_exp(&[0.0, -46.051701859880914]),
            1e-20,
            max_relative = 1e-12
        );
    }

    #[test]
    fn log_add_exp_cases() {
        assert_relative_eq!(log_add_exp(0.0, 0.0), 2f64.ln(), max_relative = 1e-15);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, 3.0), 3.0);
        assert_eq!(log_add_exp(800.0, 800.0), 800.0 + 2f64.ln());
    }

    #[test]
    fn sigmoid_tails() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_relative_eq!(sigmoid(-700.0), (-700f64).exp(), max_relative = 1e-14);
        assert_relative_eq!(ln_sigmoid(-700.0), -700.0, max_relative = 1e-15);
        assert_relative_eq!(ln_sigmoid(40.0), -(-40f64).exp(), max_relative = 1e-14);
        assert_relative_eq!(logit(sigmoid(3.0)), 3.0, max_relative = 1e-14);
    }

    #[test]
    fn argmax_first_wins() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[f64::NEG_INFINITY, f64::NEG_INFINITY]), None);
        assert_eq!(argmax(&[]), None);
    }
}
