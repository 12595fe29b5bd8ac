//! The weights of one row at one temperature, the rank order, and the decisions of the
//! truncation stages with their certified error bounds: how the kept set is decided.
//!
//! # Notation
//! ```text
//! u          2^-53, the unit roundoff of f64
//! m          the largest finite logit
//! x_i        (l_i - m)/T ≤ 0 (logits form)
//! w_i        e^{x_i} (logits form), q_i (probabilities form); w_i = 0 for a masked token
//! rank       the unmasked tokens ordered by w descending, then index ascending
//! D_<r, S_n  Σ of w over ranks < r, over ranks < n (the current candidates)
//! ```
//!
//! # Probabilities form: exact
//! Sums of the given doubles are exact integers of `2^-1074` (`tokens::exact`) and
//! `D ⋚ P·S`, `q_r ⋚ M·q_max` are decided exactly. Nothing is left undecided.
//!
//! # Logits form: certified bound, exact ties
//! `ŵ_i = exp(fl(fl(l_i - m)/T))` has relative error at most `(2|x_i| + 2)·u·1.01` (two
//! roundings of `x_i`, each moving `e^x` by a factor `e^{|x|u}`, and `exp` within 1 ulp);
//! `ŵ_i = 0` only for `x_i < -745`, where `w_i < 5e-324`. Prefix sums are summed in rank order,
//! adding `r·u` (recursive summation). One bound covers every partial sum:
//! `η = (2·min(max|x|, 746) + 2 + k)·u·1.01`, plus `k·1e-323` absolute (sums are ≥ w_top = 1).
//! A comparison `D ⋚ P·S` whose f64 difference exceeds `η·(D̂ + P·Ŝ) + u·P·Ŝ` is decided.
//! Inside the bound, exact equality is decided exactly: the `e^{x_c}` of distinct rational
//! exponents are linearly independent over the rationals (Lindemann–Weierstrass), so
//! `Σ_c (d_c - P n_c) e^{x_c} = 0`, with `d_c` of the `n_c` tokens of tie class `c` (equal
//! logits) inside `D`, holds iff `d_c = P·n_c` for every class, which is checked in exact
//! arithmetic. A uniform candidate set at a dyadic `P` is the typical equality. Otherwise the
//! comparison is strict but too close to call in f64: its side is taken from the f64
//! difference and the token is reported as **undecided** ([`crate::tokens::TokenLaw::undecided`]).
//! For min-p, `e^{x} = M` with rational `x ≠ 0` and rational `M` is impossible (Lindemann), so
//! equality happens only at `x = 0`, which is kept; the other comparisons get the bound
//! `(2|x|+2)·u·1.01` and the same treatment.
//!
//! # Slack
//! The audit asks for the kept set with every comparison that is not an exact equality moved
//! by a relative slack `s` (keep when `D < P·S·(1 + s)`, `w ≥ M·w_max·(1 - s)`): `s > 0` gives
//! the largest set a sampler computing in a lower precision may keep, `s < 0` the smallest.

use std::cmp::Ordering;

use crate::tokens::exact::ExactSum;
use crate::tokens::input::TokenInput;

const U: f64 = f64::EPSILON / 2.0;

/// Which top-p predicate (`tokens::order`'s conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopPRule {
    /// Keep rank r iff `D_<r < P·S`.
    Canonical,
    /// Keep rank r iff `D_≤r ≤ P·S` (rank 0 always).
    DropCrossing,
    /// Keep rank r iff `D_<r ≤ P·S`.
    ExtraAtEquality,
}

/// The outcome of one comparison `a ⋚ b`.
#[derive(Debug, Clone, Copy)]
struct Decision {
    ord: Ordering,
    /// Decided beyond doubt (exactly, or outside the error bound).
    certain: bool,
    /// Exact equality (no slack applies).
    exact_tie: bool,
    /// `(b - a)/b` in f64, for the slack.
    gap: f64,
}

/// The weights of one row at one temperature.
pub(crate) struct Weights<'a> {
    input: &'a TokenInput,
    /// `x_i` (logits form) or `ln q_i` (probabilities form); `-inf` for masked tokens.
    log_w: Vec<f64>,
    /// `ŵ_i`.
    w: Vec<f64>,
    /// Unmasked tokens in rank order.
    rank: Vec<usize>,
    /// Prefix sums `Σ_{j<r} ŵ_rank[j]`, `r = 0..=rank.len()`.
    prefix: Vec<f64>,
    /// `η` (logits form), 0 for the exact form.
    eta: f64,
}

impl<'a> Weights<'a> {
    /// The weights of `input` at temperature `t` (the probabilities form only at `t = 1`,
    /// checked by the caller).
    pub(crate) fn new(input: &'a TokenInput, t: f64) -> Self {
        Weights::with_tie_order(input, t, false)
    }

    /// As [`Weights::new`], with tied tokens ranked by index descending when
    /// `ties_descending` (the order of a stable ascending sort read from its top end, as
    /// transformers' top-p warper does; `Convention::ValueTies`).
    pub(crate) fn with_tie_order(input: &'a TokenInput, t: f64, ties_descending: bool) -> Self {
        let v = input.values();
        let k = v.len();
        let (log_w, w, eta) = if input.is_probs() {
            let lw = v.iter().map(|&q| q.ln()).collect();
            (lw, v.to_vec(), 0.0)
        } else {
            let m = v
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            let x: Vec<f64> = v.iter().map(|&l| (l - m) / t).collect();
            let w: Vec<f64> = x.iter().map(|&xi| xi.exp()).collect();
            let xmax = x
                .iter()
                .filter(|xi| xi.is_finite())
                .fold(0.0f64, |a, &xi| a.max(-xi))
                .min(746.0);
            let eta = (2.0 * xmax + 2.0 + k as f64) * U * 1.01;
            (x, w, eta)
        };
        let mut rank: Vec<usize> = (0..k).filter(|&i| log_w[i] > f64::NEG_INFINITY).collect();
        // Logits form: order by the logits themselves (exact); probabilities: by q.
        rank.sort_by(|&a, &b| {
            v[b].partial_cmp(&v[a])
                .unwrap_or(Ordering::Equal)
                .then(if ties_descending {
                    b.cmp(&a)
                } else {
                    a.cmp(&b)
                })
        });
        let mut prefix = Vec::with_capacity(rank.len() + 1);
        let mut acc = 0.0;
        prefix.push(0.0);
        for &i in &rank {
            acc += w[i];
            prefix.push(acc);
        }
        Weights {
            input,
            log_w,
            w,
            rank,
            prefix,
            eta,
        }
    }

    /// Unmasked tokens in rank order.
    pub(crate) fn rank(&self) -> &[usize] {
        &self.rank
    }

    /// `x_i` or `ln q_i`.
    pub(crate) fn log_w(&self) -> &[f64] {
        &self.log_w
    }

    /// `ŵ_i`.
    pub(crate) fn w(&self) -> &[f64] {
        &self.w
    }

    /// The relative error bound `η` of the weights' sums (0 for the exact form).
    pub(crate) fn eta(&self) -> f64 {
        self.eta
    }

    fn value(&self, r: usize) -> f64 {
        self.input.values()[self.rank[r]]
    }

    /// The number of ranks a top-k value predicate keeps among the first `n`: `min(n, k)`
    /// extended over every later rank whose input value equals the k-th's (exact equality of
    /// the given logits or probabilities: equal values, equal weights).
    pub(crate) fn top_k_value_len(&self, n: usize, k: usize) -> usize {
        let mut len = n.min(k);
        while len > 0 && len < n && self.value(len) == self.value(len - 1) {
            len += 1;
        }
        len
    }

    /// `Σ_{ranks [0, end)} w ⋚ p · Σ_{ranks [0, n)} w`.
    fn cmp_prefix(&self, end: usize, n: usize, p: f64) -> Decision {
        let (d, s) = (self.prefix[end], self.prefix[n]);
        let ps = p * s;
        let gap = if ps > 0.0 { (ps - d) / ps } else { 0.0 };
        let diff = ps - d;
        if self.input.is_probs() {
            // Recursive f64 sums of the given doubles: relative error ≤ n·u; outside that
            // bound the f64 comparison is right, inside it the exact sums decide.
            let err = (n as f64 + 2.0) * U * 1.01 * (d + ps) + 1e-320;
            if diff.abs() > err {
                return Decision {
                    ord: if diff > 0.0 {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    },
                    certain: true,
                    exact_tie: false,
                    gap,
                };
            }
            let mut ds = ExactSum::zero();
            let mut ss = ExactSum::zero();
            for r in 0..n {
                if r < end {
                    ds.add(self.w[self.rank[r]]);
                }
                ss.add(self.w[self.rank[r]]);
            }
            let ord = ds.cmp_scaled(p, &ss);
            return Decision {
                ord,
                certain: true,
                exact_tie: ord == Ordering::Equal,
                gap,
            };
        }
        let err = self.eta * (d + ps) + U * ps + self.rank.len() as f64 * 1e-323;
        if diff.abs() > err {
            let ord = if diff > 0.0 {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            return Decision {
                ord,
                certain: true,
                exact_tie: false,
                gap,
            };
        }
        // Inside the bound: exact equality iff d_c = p·n_c for every tie class (module doc).
        let mut all_equal = true;
        let mut a = 0;
        while a < n {
            let mut b = a + 1;
            while b < n && self.value(b) == self.value(a) {
                b += 1;
            }
            let n_c = (b - a) as f64;
            let d_c = (end.clamp(a, b) - a) as f64;
            let h = p * n_c;
            let e = p.mul_add(n_c, -h);
            if !(h == d_c && e == 0.0) {
                all_equal = false;
                break;
            }
            a = b;
        }
        if all_equal {
            return Decision {
                ord: Ordering::Equal,
                certain: true,
                exact_tie: true,
                gap: 0.0,
            };
        }
        Decision {
            ord: if diff >= 0.0 {
                Ordering::Less
            } else {
                Ordering::Greater
            },
            certain: false,
            exact_tie: false,
            gap,
        }
    }

    /// `w_rank[r] ⋚ M · w_rank[0]`.
    fn cmp_min_p(&self, r: usize, min_p: f64) -> Decision {
        let (wr, wt) = (self.w[self.rank[r]], self.w[self.rank[0]]);
        let thr = min_p * wt;
        let gap = if thr > 0.0 { (wr - thr) / thr } else { 1.0 };
        if self.input.is_probs() {
            let mut a = ExactSum::zero();
            a.add(wr);
            let mut b = ExactSum::zero();
            b.add(wt);
            let ord = a.cmp_scaled(min_p, &b);
            return Decision {
                ord,
                certain: true,
                exact_tie: ord == Ordering::Equal,
                gap,
            };
        }
        if min_p == 0.0 || self.value(r) == self.value(0) {
            // w_r > 0 = M·w_top, or w_r = w_top ≥ M·w_top: kept, exactly.
            let ord = if min_p == 1.0 && self.value(r) == self.value(0) {
                Ordering::Equal
            } else {
                Ordering::Greater
            };
            return Decision {
                ord,
                certain: true,
                exact_tie: true,
                gap,
            };
        }
        let x = self.log_w[self.rank[r]];
        let err = (2.0 * x.abs().min(746.0) + 2.0) * U * 1.01 * wr + 1e-320;
        let diff = wr - thr;
        Decision {
            ord: if diff >= 0.0 {
                Ordering::Greater
            } else {
                Ordering::Less
            },
            certain: diff.abs() > err,
            exact_tie: false,
            gap,
        }
    }

    /// The number of the first `n` ranks that top-p keeps under `rule`, and the ranks decided
    /// inside the error bound.
    pub(crate) fn top_p_len(
        &self,
        n: usize,
        p: f64,
        rule: TopPRule,
        slack: f64,
    ) -> (usize, Vec<usize>) {
        let mut undecided = Vec::new();
        if p >= 1.0 && rule != TopPRule::DropCrossing {
            return (n, undecided);
        }
        let mut kept = 0;
        for r in 0..n {
            let (end, strict) = match rule {
                TopPRule::Canonical => (r, true),
                TopPRule::DropCrossing => (r + 1, false),
                TopPRule::ExtraAtEquality => (r, false),
            };
            let keep = if r == 0 && rule == TopPRule::DropCrossing {
                true
            } else {
                let d = self.cmp_prefix(end, n, p);
                if !d.certain {
                    undecided.push(self.rank[r]);
                }
                if d.exact_tie || slack == 0.0 {
                    match d.ord {
                        Ordering::Less => true,
                        Ordering::Equal => !strict,
                        Ordering::Greater => false,
                    }
                } else if strict {
                    d.gap > -slack
                } else {
                    d.gap >= -slack
                }
            };
            if !keep {
                break;
            }
            kept = r + 1;
        }
        (kept.max(1), undecided)
    }

    /// The number of the first `n` ranks that min-p keeps, and the undecided ones.
    pub(crate) fn min_p_len(&self, n: usize, min_p: f64, slack: f64) -> (usize, Vec<usize>) {
        let mut undecided = Vec::new();
        let mut kept = 0;
        for r in 0..n {
            let d = self.cmp_min_p(r, min_p);
            if !d.certain {
                undecided.push(self.rank[r]);
            }
            let keep = if d.exact_tie || slack == 0.0 {
                d.ord != Ordering::Less
            } else {
                d.gap >= -slack
            };
            if !keep {
                break;
            }
            kept = r + 1;
        }
        (kept.max(1), undecided)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_order_is_weight_then_index_and_masks_are_left_out() {
        let input = TokenInput::logits(vec![0.0, 1.0, f64::NEG_INFINITY, 1.0, -0.0]).unwrap();
        let w = Weights::new(&input, 1.0);
        assert_eq!(w.rank(), &[1, 3, 0, 4]);
        assert!(w.eta() > 0.0 && w.eta() < 1e-12);
    }

    #[test]
    fn exact_equality_of_a_uniform_row_is_decided_exactly() {
        let input = TokenInput::logits(vec![0.0; 4]).unwrap();
        let w = Weights::new(&input, 0.7);
        let d = w.cmp_prefix(2, 4, 0.5);
        assert!(d.certain && d.exact_tie && d.ord == Ordering::Equal);
        assert_eq!(w.top_p_len(4, 0.5, TopPRule::Canonical, 0.0).0, 2);
        assert_eq!(w.top_p_len(4, 0.5, TopPRule::ExtraAtEquality, 0.0).0, 3);
        assert_eq!(w.top_p_len(4, 0.5, TopPRule::DropCrossing, 0.0).0, 2);
        // Slack never moves an exact equality.
        assert_eq!(w.top_p_len(4, 0.5, TopPRule::Canonical, 1e-3).0, 2);
    }

    #[test]
    fn probabilities_are_decided_exactly() {
        let input = TokenInput::probs(vec![0.25, 0.5, 0.25]).unwrap();
        let w = Weights::new(&input, 1.0);
        assert_eq!(w.rank(), &[1, 0, 2]);
        assert_eq!(w.top_p_len(3, 0.75, TopPRule::Canonical, 0.0), (2, vec![]));
        assert_eq!(w.top_p_len(3, 0.75, TopPRule::ExtraAtEquality, 0.0).0, 3);
        assert_eq!(w.min_p_len(3, 0.5, 0.0).0, 3);
        assert_eq!(w.min_p_len(3, 0.5000000000000001, 0.0).0, 1);
    }

    #[test]
    fn a_comparison_inside_the_bound_is_reported_undecided() {
        // p = e^0 / (e^0 + e^x) with x the double nearest ln(1/3): the exact mass of rank 0 is
        // 1/(1 + e^x), within ~1e-16 of 0.75 but not equal (Lindemann), so undecidable in f64.
        let x = (1.0f64 / 3.0).ln();
        let input = TokenInput::logits(vec![0.0, x]).unwrap();
        let w = Weights::new(&input, 1.0);
        let (_, undecided) = w.top_p_len(2, 0.75, TopPRule::Canonical, 0.0);
        assert_eq!(undecided, vec![1]);
    }
}
