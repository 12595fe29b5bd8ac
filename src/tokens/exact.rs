//! Exact sums of non-negative doubles and exact comparisons `D ⋚ p·S`: the arithmetic that
//! decides the kept set of the probabilities form ([`crate::tokens::TokenInput::Probs`]).
//!
//! # Representation
//! Every finite double `v ≥ 0` is `m · 2^e` with an integer `m < 2⁵³` and `e ≥ -1074`, so a
//! sum of such values is an integer multiple of `2^-1074`: [`ExactSum`] holds that integer in
//! 64-bit limbs (little-endian). Adding a value is an integer addition; nothing is rounded.
//! A comparison `D ⋚ p · S` with `p = m_p · 2^{e_p}` (`p ∈ (0, 1]`, so `e_p < 0`) is decided
//! as `D · 2^{-e_p} ⋚ m_p · S`, again in integers. A sum of `k` values of at most 1 needs at
//! most `1074 + 1 + log₂ k` bits; the comparison at most `53 + 1126` more: about 40 limbs.
//!
//! # References
//! - IEEE 754-2019 §3.4 (binary interchange format: the decomposition `m · 2^e`).

use std::cmp::Ordering;

/// `v = m · 2^(e)` for a finite `v ≥ 0`, with `e ≥ -1074` (subnormals have `e = -1074`).
fn decompose(v: f64) -> (u64, i32) {
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    }
}

/// An exact non-negative sum of doubles: an integer count of `2^-1074` (module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExactSum {
    limbs: Vec<u64>,
}

impl ExactSum {
    /// The empty sum, 0.
    pub fn zero() -> Self {
        ExactSum::default()
    }

    /// Adds `v` exactly. `v` must be finite and `≥ 0` (the callers validate; other values are
    /// ignored).
    pub fn add(&mut self, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            return;
        }
        let (m, e) = decompose(v);
        self.add_shifted(m, (e + 1074) as usize);
    }

    fn add_shifted(&mut self, m: u64, shift: usize) {
        let (limb, bit) = (shift / 64, shift % 64);
        let wide = u128::from(m) << bit;
        if self.limbs.len() < limb + 3 {
            self.limbs.resize(limb + 3, 0);
        }
        let mut carry = 0u128;
        let mut add = wide;
        let mut i = limb;
        while add != 0 || carry != 0 {
            if i == self.limbs.len() {
                self.limbs.push(0);
            }
            let s = u128::from(self.limbs[i]) + (add & u128::from(u64::MAX)) + carry;
            self.limbs[i] = s as u64;
            carry = s >> 64;
            add >>= 64;
            i += 1;
        }
    }

    /// `self · 2^s`.
    fn shl(&self, s: usize) -> ExactSum {
        let (whole, bit) = (s / 64, s % 64);
        let mut out = vec![0u64; self.limbs.len() + whole + 1];
        for (i, &l) in self.limbs.iter().enumerate() {
            let w = u128::from(l) << bit;
            out[i + whole] |= w as u64;
            out[i + whole + 1] |= (w >> 64) as u64;
        }
        ExactSum { limbs: out }
    }

    /// `self · m`.
    fn mul(&self, m: u64) -> ExactSum {
        let mut out = Vec::with_capacity(self.limbs.len() + 1);
        let mut carry = 0u128;
        for &l in &self.limbs {
            let p = u128::from(l) * u128::from(m) + carry;
            out.push(p as u64);
            carry = p >> 64;
        }
        out.push(carry as u64);
        ExactSum { limbs: out }
    }

    fn significant(&self) -> &[u64] {
        let n = self
            .limbs
            .iter()
            .rposition(|&l| l != 0)
            .map_or(0, |i| i + 1);
        &self.limbs[..n]
    }

    /// Exact comparison of two sums.
    pub fn cmp_sum(&self, other: &ExactSum) -> Ordering {
        let (a, b) = (self.significant(), other.significant());
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    /// Exact comparison of `self` with `p · s` for `p ∈ [0, 1]` (module doc).
    pub fn cmp_scaled(&self, p: f64, s: &ExactSum) -> Ordering {
        if p == 0.0 {
            return self.cmp_sum(&ExactSum::zero());
        }
        let (m, e) = decompose(p);
        // p ≤ 1 means e < 0 (1 = 2^52 · 2^-52).
        let shift = (-e).max(0) as usize;
        self.shl(shift).cmp_sum(&s.mul(m))
    }

    /// The sum rounded to the nearest double (for display; comparisons use the exact value).
    pub fn to_f64(&self) -> f64 {
        let mut acc = 0.0f64;
        for (i, &l) in self.limbs.iter().enumerate().rev() {
            acc += (l as f64) * 2f64.powi(64 * i as i32 - 1074);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(v: &[f64]) -> ExactSum {
        let mut s = ExactSum::zero();
        for &x in v {
            s.add(x);
        }
        s
    }

    #[test]
    fn sums_are_exact_where_doubles_round() {
        // 0.1 + 0.2 rounds to 0.30000000000000004 in doubles, above the double 0.3; the exact
        // sum of the two doubles lies strictly between the doubles 0.3 and 0.30000000000000004.
        let a = sum(&[0.1, 0.2]);
        assert_eq!(a.cmp_sum(&sum(&[0.3])), Ordering::Greater);
        assert_eq!(a.cmp_sum(&sum(&[0.1 + 0.2])), Ordering::Less);
        // 1 + 2^-60 - 1 is lost in doubles, kept here.
        let b = sum(&[1.0, 2f64.powi(-60)]);
        assert_eq!(b.cmp_sum(&sum(&[1.0])), Ordering::Greater);
        // Subnormals count.
        assert_eq!(
            sum(&[5e-324, 5e-324]).cmp_sum(&sum(&[1e-323])),
            Ordering::Equal
        );
        assert_eq!(sum(&[0.5, 0.25]).to_f64(), 0.75);
    }

    #[test]
    fn scaled_comparison_is_exact_at_equality() {
        let d = sum(&[0.5, 0.25]);
        let s = sum(&[0.5, 0.25, 0.25]);
        assert_eq!(d.cmp_scaled(0.75, &s), Ordering::Equal);
        assert_eq!(d.cmp_scaled(0.7500000000000001, &s), Ordering::Less);
        assert_eq!(d.cmp_scaled(0.7499999999999999, &s), Ordering::Greater);
        assert_eq!(s.cmp_scaled(1.0, &s), Ordering::Equal);
        assert_eq!(d.cmp_scaled(0.0, &s), Ordering::Greater);
        // 0.9999999 is not a dyadic rational: the comparison is strict on both sides.
        let t = sum(&[0.9999999]);
        assert_eq!(t.cmp_scaled(0.9999999, &sum(&[1.0])), Ordering::Equal);
        assert_eq!(t.cmp_scaled(0.9999999, &sum(&[1.0, 1e-30])), Ordering::Less);
    }
}
