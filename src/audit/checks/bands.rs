//! An LLM-like vocabulary for `categorical.bands`: k = 50,000 categories, a Zipf head and a
//! flat rare tail, grouped into bands by the decade of their probability.
//!
//! # The logits
//! ```text
//! head   i = 1 .. 20,000      l_i = -ln i                (Zipf, exponent 1)
//! tail   i = 20,001 .. 50,000 l_i = L, with e^L chosen so that each tail category has
//!                             p = 1e-7 exactly: e^L = 1e-7 · H / (1 - 30,000 · 1e-7),
//!                             H = Σ_{i ≤ 20,000} 1/i
//! ```
//! The head holds 99.7 % of the mass (p from 0.095 down to 4.8e-6), the tail 0.3 %. A sampler
//! whose uniforms have 23 bits draws a tail category at the rate `p ρ(c)`, `c ≈ 2^-23/p = 1.19`
//! (`checks::ceilings`): about 48 % of the tail's mass is missing, so 10⁵ draws show it (about
//! 300 expected, about 155 drawn).
//!
//! # The bands
//! Band 0 holds the categories with `p ≥ 10^-2`, band j = 1 .. 4 those with `p` in
//! `[10^-(j+2), 10^-(j+1))`, band 5 those with `p < 10^-6` (the tail): 9, 86, 856, 8,561,
//! 10,488 and 30,000 categories. The categories are sorted by decreasing p, so a band is a range
//! of indices.

/// Categories in the Zipf head.
pub(crate) const HEAD: usize = 20_000;
/// Categories in the flat tail.
pub(crate) const TAIL: usize = 30_000;
/// Probability of each tail category.
pub(crate) const TAIL_P: f64 = 1e-7;
/// Number of bands.
pub(crate) const BANDS: usize = 6;

/// The vocabulary: its logits and probabilities, and the first index of each band.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vocabulary {
    /// Logits, `HEAD + TAIL` of them, in decreasing order.
    pub(crate) logits: Vec<f64>,
    /// `softmax(logits)`.
    pub(crate) probs: Vec<f64>,
    /// `starts[j]` is the first index of band j; band j ends where band j + 1 starts (the last
    /// at k).
    pub(crate) starts: [usize; BANDS],
}

impl Vocabulary {
    /// The vocabulary of the module doc.
    pub(crate) fn new() -> Self {
        let h: f64 = (1..=HEAD).map(|i| 1.0 / i as f64).sum();
        let tail_logit = (TAIL_P * h / (1.0 - TAIL as f64 * TAIL_P)).ln();
        let mut logits: Vec<f64> = (1..=HEAD).map(|i| -(i as f64).ln()).collect();
        logits.extend(std::iter::repeat_n(tail_logit, TAIL));
        let total = h + TAIL as f64 * tail_logit.exp();
        let probs: Vec<f64> = logits.iter().map(|l| l.exp() / total).collect();
        let mut starts = [0; BANDS];
        for (j, s) in starts.iter_mut().enumerate().skip(1) {
            let edge = 10f64.powi(-(j as i32) - 1);
            *s = probs.partition_point(|&p| p >= edge);
        }
        Vocabulary {
            logits,
            probs,
            starts,
        }
    }

    /// The index range of band `j`.
    pub(crate) fn range(&self, j: usize) -> std::ops::Range<usize> {
        let end = self.starts.get(j + 1).copied().unwrap_or(self.probs.len());
        self.starts[j]..end
    }

    /// The probability mass of band `j`.
    pub(crate) fn mass(&self, j: usize) -> f64 {
        self.probs[self.range(j)].iter().sum()
    }
}

/// The band of index `i` of a `k`-category vocabulary whose bands start at `starts` (as
/// carried in a case's parameters; `starts[0] = 0`): `None` outside `0..k`.
pub(crate) fn band_of(starts: &[f64], k: usize, i: i64) -> Option<usize> {
    (i >= 0 && (i as usize) < k).then(|| starts.partition_point(|&s| s <= i as f64) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_has_the_stated_bands_and_tail() {
        let v = Vocabulary::new();
        assert_eq!(v.logits.len(), HEAD + TAIL);
        assert!((v.probs.iter().sum::<f64>() - 1.0).abs() < 1e-10);
        assert!((v.probs[HEAD] / TAIL_P - 1.0).abs() < 1e-9);
        assert_eq!(v.starts, [0, 9, 95, 951, 9512, HEAD]);
        assert!((v.mass(5) - 3e-3).abs() < 1e-12);
        let starts: Vec<f64> = v.starts.iter().map(|&s| s as f64).collect();
        let band = |i: i64| band_of(&starts, HEAD + TAIL, i);
        assert_eq!(band(0), Some(0));
        assert_eq!(band(9), Some(1));
        assert_eq!(band(HEAD as i64 - 1), Some(4));
        assert_eq!(band((HEAD + TAIL) as i64 - 1), Some(5));
        assert_eq!(band((HEAD + TAIL) as i64), None);
        assert_eq!(band(-1), None);
        for j in 0..BANDS {
            for i in v.range(j) {
                assert_eq!(band(i as i64), Some(j));
            }
        }
    }
}
