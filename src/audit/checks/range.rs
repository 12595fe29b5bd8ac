//! Checks at the ends of the documented input range: relaxed and binary Concrete samples at
//! τ = 1e-3 and τ = 1e3, with logits of order ±1e4 and k = 10⁵ categories. A softmax or sigmoid
//! computed without subtracting the maximum overflows (`e^z = inf` for `z > 709.8`, so
//! `inf/inf = NaN`) or underflows (`0/0 = NaN`) here, while the other checks, at τ ∈ [0.1, 5]
//! with logits of order 1, never see it. Notation and error control: `audit::checks`.
//!
//! # What is exact and what is statistical
//! ```text
//! y = softmax((l + g)/τ),  g iid Gumbel(0, 1)        relaxed sample
//! x = σ((l + L)/τ),         L ~ Logistic(0, 1)        binary sample
//! argmax_i y_i ~ Cat(π),  π = softmax(l)              at every τ (docs/design/math.md §2)
//! P(x > 1/2) = σ(l)                                    at every τ
//! ```
//! Exact: finite entries in `[0, 1]`, `|Σ y - 1|` within the audit's tolerance
//! (`audit::tolerance::simplex_sum`, float32 aware), masked entries exactly 0, and no argmax
//! (resp. side of 1/2) whose probability is below the smallest positive float64 (`π_i = 0`
//! after rounding: `P < 5e-324`, impossible in any run). Statistical: Pearson χ² of the argmax
//! counts against π where π is not degenerate.
//!
//! # Rounding to 0 or 1 is not a fault here
//! At τ = 1e-3 the exact `y_i = e^{(z_i - z_max)}` with `z = (l + g)/τ` is below every
//! representable number as soon as the gap of `l + g` exceeds `745 τ` (float64) or `104 τ`
//! (float32): entries that round to exactly 0 (binary samples to exactly 0 or 1) are the
//! correctly rounded values. They are counted in the notes. An entry of exactly 0 in a case
//! where the exact value is representable at the target's dtype for every noise within
//! ±[`NOISE_MARGIN`] of the logits (probability of a wider noise gap below 1e-30 per row) is a
//! `warn`, as the float32 rule of `audit::checks` says.

use crate::audit::checks::common::{floats, fmt_p, internal, logit_laws, precision, valid};
use crate::audit::checks::relaxed::SimplexTally;
use crate::audit::ctx::Ctx;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::result::Figure;
use crate::audit::target::{Dtype, TargetError};
use crate::audit::tolerance;
use crate::distributions::Logits;
use crate::numeric::sigmoid;
use crate::stats::pearson_chi2;

/// Largest gap between two Gumbel (or Logistic) noise values assumed when deciding whether an
/// exact entry is representable: `P(|g_i - g_j| > 80) = 2/(1 + e^80) < 4e-35`.
pub(crate) const NOISE_MARGIN: f64 = 80.0;
/// `-ln` of the smallest positive float64 (subnormal `2^-1074`).
const F64_UNDERFLOW: f64 = 744.4;
/// `-ln` of the smallest positive float32 (subnormal `2^-149`).
const F32_UNDERFLOW: f64 = 103.3;
/// Number of categories of the large-k case.
pub(crate) const LARGE_K: usize = 100_000;
/// Rows of the large-k case: `relaxed_n / LARGE_K_DIVISOR` within
/// [`LARGE_K_MIN_ROWS`, `LARGE_K_MAX_ROWS`] (10 at quick, 50 at standard and thorough: one
/// request of 50 × 10⁵ float64 values is 40 MB on the wire).
const LARGE_K_DIVISOR: usize = 2_000;
/// Fewest rows of the large-k case.
const LARGE_K_MIN_ROWS: usize = 10;
/// Most rows of the large-k case.
const LARGE_K_MAX_ROWS: usize = 50;

/// A relaxed case of `relaxed.range`: logits, τ, and whether its argmax law is tested by χ².
struct RelaxedCase {
    logits: Vec<f64>,
    tau: f64,
    what: &'static str,
}

fn relaxed_range_cases() -> Vec<RelaxedCase> {
    let big = 1e4;
    vec![
        RelaxedCase {
            logits: vec![big + 1.0, big, big - 1.0],
            tau: 1e-3,
            what: "large positive",
        },
        RelaxedCase {
            logits: vec![-big + 1.0, -big, f64::NEG_INFINITY, -big - 1.0],
            tau: 1e-3,
            what: "large negative, masked",
        },
        RelaxedCase {
            logits: vec![1.0, 0.0, -1.0],
            tau: 1e3,
            what: "order 1, large τ",
        },
        RelaxedCase {
            logits: vec![big, 0.0, -big],
            tau: 1e-3,
            what: "widely spread",
        },
        RelaxedCase {
            logits: vec![big, 0.0, -big],
            tau: 1e3,
            what: "widely spread, large τ",
        },
    ]
}

/// Logits of the large-k case: `l_0 = ln(k - 1)`, the others 0, so that `π_0 = 1/2` and the
/// other `k - 1` categories share the other half.
fn large_k_logits() -> Vec<f64> {
    let mut l = vec![0.0; LARGE_K];
    l[0] = ((LARGE_K - 1) as f64).ln();
    l
}

/// Whether an unmasked entry of a row may round to exactly 0 at this dtype: the largest gap of
/// `(l + g)/τ` between unmasked entries (logit gap plus [`NOISE_MARGIN`]) exceeds the
/// underflow threshold.
fn zeros_possible(logits: &[f64], tau: f64, dtype: Dtype) -> bool {
    let finite: Vec<f64> = logits.iter().copied().filter(|v| v.is_finite()).collect();
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let limit = match dtype {
        Dtype::Float64 => F64_UNDERFLOW,
        Dtype::Float32 => F32_UNDERFLOW,
        // -ln of the smallest subnormal: 16.6 (float16), 92.2 (bfloat16).
        Dtype::Float16 | Dtype::Bfloat16 => -dtype.format().min_subnormal().ln(),
    };
    (hi - lo + NOISE_MARGIN) / tau + (finite.len() as f64).ln() > limit
}

/// Whether a binary sample `σ((l + L)/τ)` may round to exactly 1 (`1 + e^-t` rounds to 1:
/// `t > p ln 2` with p the dtype's precision: 53, float32 24, float16 11, bfloat16 8) or 0 for
/// a Logistic noise `|L| ≤` [`NOISE_MARGIN`]; rounding to 1 comes first, so it decides.
fn saturation_possible(l: f64, tau: f64, dtype: Dtype) -> bool {
    let bits = f64::from(dtype.format().precision);
    (l.abs() + NOISE_MARGIN) / tau > bits * std::f64::consts::LN_2
}

/// Exact criteria on the rows of one case; the argmax counts of the finite rows (for the half
/// types, of the rows without a tied maximum: [`untied_argmax`]).
fn judge_rows(
    o: &mut Outcome,
    case: &str,
    l: &[f64],
    tau: f64,
    y: &[f64],
    dtype: Dtype,
) -> Vec<u64> {
    let k = l.len();
    let tol = tolerance::simplex_sum(dtype, k);
    o.max_tolerance = o.max_tolerance.max(tol);
    let t = SimplexTally::of(l, y, tol);
    o.n += t.rows;
    if t.nonfinite > 0 {
        o.fails.push(format!(
            "{case}: {} of {} rows with NaN or inf (the math is finite: overflow or \
             0/0 in the softmax?)",
            t.nonfinite, t.rows
        ));
    }
    t.push_fails(o, case, tol);
    let zeros = t.zeros;
    if zeros > 0 {
        let name = dtype.as_str();
        if zeros_possible(l, tau, dtype) {
            o.notes.push(format!(
                "{case}: {zeros} unmasked entries are exactly 0 (their exact value is below \
                 the smallest {name} here: correct rounding)"
            ));
        } else {
            o.warns.push(format!(
                "{case}: {zeros} unmasked entries underflowed to exactly 0 although their \
                 exact value is a positive {name} number"
            ));
        }
    }
    untied_argmax(o, case, &t, dtype)
}

/// The argmax counts to judge. float32 and float64: every finite row (as before the half
/// types). float16 and bfloat16: the rows whose maximum is not shared: entries closer than an
/// ulp round to the same value (at τ = 1000 the entries of (1, 0, -1) differ by about 3e-4,
/// float16's spacing at 1/3 is 2.4e-4), and such a row has no argmax at that precision. If
/// more than `tolerance::HALF_TIE_FRACTION` of the rows are tied the case is not judged by
/// χ² (a `warn`: leaving them out could move the law by their fraction); below it they are
/// left out and counted in a note.
fn untied_argmax(o: &mut Outcome, case: &str, t: &SimplexTally, dtype: Dtype) -> Vec<u64> {
    if !dtype.is_half() {
        return t.argmax.clone();
    }
    let tied: u64 = t.tied.iter().sum();
    let finite: u64 = t.argmax.iter().sum();
    if tied == 0 {
        return t.argmax.clone();
    }
    if tied as f64 > tolerance::HALF_TIE_FRACTION.value * finite as f64 {
        o.warns.push(format!(
            "{case}: {tied} of {finite} rows have a tied maximum at {} (entries equal after \
             rounding: no argmax at this precision), so the argmax law is not judged here",
            dtype.as_str()
        ));
        return vec![0; t.argmax.len()];
    }
    o.notes.push(format!(
        "{case}: {tied} of {finite} rows with a tied maximum at {} left out of the argmax counts",
        dtype.as_str()
    ));
    t.argmax.iter().zip(&t.tied).map(|(a, b)| a - b).collect()
}

/// `relaxed.range`: soft relaxed samples at the ends of the documented range, `relaxed_n`
/// rows (10⁵ at standard) per case:
/// logits (1e4+1, 1e4, 1e4-1) at τ = 1e-3, (-1e4+1, -1e4, masked, -1e4-1) at τ = 1e-3,
/// (1, 0, -1) at τ = 1e3, (1e4, 0, -1e4) at τ = 1e-3 and at τ = 1e3; and k = 10⁵ categories
/// (`l_0 = ln(k-1)`, the others 0, so `π_0 = 1/2`) at τ = 1e-3, `relaxed_n / 2000` rows
/// within [10, 50] (50 at standard).
///
/// Exact (every case): entries finite and in `[0, 1]`, `|Σy - 1|` within
/// `tolerance::simplex_sum` (float32 aware), masked entries 0; for (1e4, 0, -1e4) the argmax is
/// never 1 or 2 (`π_1 = e^-1e4`, `π_2 = e^-2e4`: below every float64). Exactly-0 entries are
/// judged by the module doc's rule.
///
/// Statistical: Pearson χ² of the argmax counts against π for the three non-degenerate k ≤ 4
/// cases (df = 2) and of `[#argmax = 0, #other]` against `(1/2, 1/2)` for the large-k case
/// (df = 1), Bonferroni over 4, at the battery's α (Holm, `α_i = α/m`). Detects Cohen's
/// w ≈ 0.024 on a k ≤ 4 case at standard (n = 10⁵ each). The large-k part (n = 50) is there
/// for the exact criteria: at power 0.999 its χ² detects only w ≈ 1.05, i.e. category 0
/// never or always the argmax.
/// Catches a softmax without max-subtraction (`--bug naive_softmax`: NaN rows at τ = 1e-3).
pub(crate) fn relaxed_range(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new(
        "exact: finite, 0 ≤ y_i ≤ 1, |Σy - 1| ≤ tol(dtype), masked y_i = 0, no argmax of \
         probability 0; Pearson χ² of argmax counts vs π, Bonferroni over 4",
    );
    let n = ctx.plan.relaxed_n;
    let declared = ctx.dtype();
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for c in relaxed_range_cases() {
        let (l, tau) = (&c.logits, c.tau);
        let k = l.len();
        let case = format!("{} l = {l:?}, τ = {tau}", c.what);
        let seed = ctx.next_seed();
        let a = match valid(ctx.target.relaxed_sample(l, tau, false, n, seed), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let dtype = precision(declared, &a);
        let y = floats(&a, &[n, k], "relaxed_sample")?;
        let counts = judge_rows(&mut o, &case, l, tau, &y, dtype);
        let probs = Logits::from_slice(l).map_err(internal)?.probs();
        let impossible: u64 = counts
            .iter()
            .zip(&probs)
            .filter(|(_, p)| **p == 0.0)
            .map(|(c, _)| *c)
            .sum();
        let masked_or_impossible = probs.iter().filter(|p| **p == 0.0).count();
        if impossible > 0 {
            o.fails.push(format!(
                "{case}: {impossible} rows whose argmax is a category of probability 0 \
                 (argmax counts {counts:?})"
            ));
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            continue;
        }
        if masked_or_impossible + 1 >= k {
            // Degenerate law: the exact criterion above is the whole test.
            o.notes.push(format!("{case}: argmax counts {counts:?}"));
            continue;
        }
        // Every law the implementation may follow (`logit_laws`: float16 holds 1e4 ± 1 as
        // 1e4); the larger p-value.
        let mut r = pearson_chi2(&counts, &probs).map_err(internal)?;
        for held in logit_laws(l, dtype).into_iter().skip(1) {
            let p = Logits::from_slice(&held).map_err(internal)?.probs();
            let other = pearson_chi2(&counts, &p).map_err(internal)?;
            if other.p_value > r.p_value {
                r = other;
            }
        }
        ps.push(r.p_value);
        o.notes.push(format!(
            "{case}: argmax counts {counts:?}, p = {}",
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            let nf = total as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("argmax of relaxed samples, {case}"),
                    observed: counts.iter().map(|&c| c as f64 / nf).collect(),
                    expected: probs,
                },
            ));
        }
    }

    // Large k at τ = 1e-3.
    let nk = (n / LARGE_K_DIVISOR).clamp(LARGE_K_MIN_ROWS, LARGE_K_MAX_ROWS);
    let l = large_k_logits();
    let tau = 1e-3;
    let case = format!("k = {LARGE_K}, l_0 = ln(k-1), others 0, τ = {tau}");
    let seed = ctx.next_seed();
    match valid(ctx.target.relaxed_sample(&l, tau, false, nk, seed), &case)? {
        Err(msg) => o.fails.push(msg),
        Ok(a) => {
            let dtype = precision(declared, &a);
            let y = floats(&a, &[nk, LARGE_K], "relaxed_sample")?;
            let counts = judge_rows(&mut o, &case, &l, tau, &y, dtype);
            let first = counts[0];
            let total: u64 = counts.iter().sum();
            if total > 0 {
                let r = pearson_chi2(&[first, total - first], &[0.5, 0.5]).map_err(internal)?;
                ps.push(r.p_value);
                o.notes.push(format!(
                    "{case}: argmax = 0 in {first} of {total} rows (π_0 = 1/2), p = {}",
                    fmt_p(r.p_value)
                ));
            }
        }
    }

    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 2,
            n: n as u64,
            parts: 4,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// Binary cases of `binary.range`: (l, τ).
const BINARY_RANGE_CASES: [(f64, f64); 6] = [
    (1.0, 1e-3),
    (-1.0, 1e3),
    (1e4, 1e-3),
    (-1e4, 1e-3),
    (1e4, 1e3),
    (-1e4, 1e3),
];

/// `binary.range`: binary Concrete samples at the ends of the documented range, `binary_n`
/// (10⁵ at standard) per case: (l, τ) = (1, 1e-3), (-1, 1e3), (±1e4, 1e-3), (±1e4, 1e3).
///
/// Exact: every value finite and in `[0, 1]` (exactly 0 or 1 is the correctly rounded value
/// at τ = 1e-3, counted in the notes; at τ = 1e3, where `|l + L|/τ` stays far below
/// `53 ln 2`, it is a `warn`); for l = ±1e4 no value on the side of 1/2 of probability
/// `σ(-1e4) < 5e-324` (impossible). Statistical: Pearson χ² of `[#x > 1/2, #x < 1/2]` against
/// `(σ(l), 1 - σ(l))` for l = ±1 (`P(x > 1/2) = σ(l)` at every τ; values of exactly 1/2 are
/// left out and counted), df = 1, Bonferroni over 2, at the battery's α. Detects Cohen's
/// w ≈ 0.023 (a shift of `P(x > 1/2)` by about 0.011) at standard.
/// Catches a sigmoid computed as `e^x/(1 + e^x)` (`--bug naive_softmax`: `inf/inf = NaN`).
pub(crate) fn binary_range(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let n = ctx.plan.binary_n;
    let mut o = Outcome::new(
        "exact: finite, 0 ≤ x ≤ 1, no x on a side of 1/2 of probability 0; Pearson χ² of \
         #(x > 1/2) vs σ(l), Bonferroni over 2",
    );
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for (l, tau) in BINARY_RANGE_CASES {
        let seed = ctx.next_seed();
        let case = format!("l = {l}, τ = {tau}");
        let a = match valid(ctx.target.binary_sample(l, tau, n, seed), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let dtype = precision(ctx.dtype(), &a);
        let x = floats(&a, &[n], "binary_sample")?;
        o.n += n as u64;
        let bad = x
            .iter()
            .filter(|v| !(v.is_finite() && (0.0..=1.0).contains(*v)))
            .count();
        if bad > 0 {
            o.fails.push(format!(
                "{case}: {bad} of {n} values not finite or outside [0, 1] (the math is \
                 finite: overflow in the sigmoid?)"
            ));
        }
        let above = x.iter().filter(|&&v| v > 0.5 && v <= 1.0).count() as u64;
        let below = x.iter().filter(|&&v| (0.0..0.5).contains(&v)).count() as u64;
        let half = x.iter().filter(|&&v| v == 0.5).count();
        let edge = x.iter().filter(|&&v| v == 0.0 || v == 1.0).count();
        let p_above = sigmoid(l);
        let mut line = format!("{case}: {above} above 1/2, {below} below");
        if half > 0 {
            line += &format!(", {half} exactly 1/2 (left out)");
        }
        if edge > 0 {
            if saturation_possible(l, tau, dtype) {
                line += &format!(", {edge} exactly 0 or 1 (correct rounding at this τ)");
            } else {
                o.warns.push(format!(
                    "{case}: {edge} values exactly 0 or 1 although the exact value is not \
                     within rounding of 0 or 1 in {}",
                    dtype.as_str()
                ));
            }
        }
        if p_above == 0.0 || p_above == 1.0 {
            let impossible = if p_above == 1.0 { below } else { above };
            if impossible > 0 {
                o.fails.push(format!(
                    "{case}: {impossible} values on the side of 1/2 of probability 0"
                ));
            }
            o.notes.push(line);
            continue;
        }
        if above + below == 0 {
            continue;
        }
        if dtype.is_half() {
            // Values within 2 ε of 1/2 may sit on either side of it after the implementation's
            // roundings (and float16's grid is twice as fine below 1/2 as above): beyond
            // HALF_TIE_FRACTION of the rows such a case says nothing about σ(l) at this
            // precision.
            let w = 2.0 * dtype.eps();
            let near = x.iter().filter(|&&v| (v - 0.5).abs() <= w).count();
            if near as f64 > tolerance::HALF_TIE_FRACTION.value * n as f64 {
                o.warns.push(format!(
                    "{line}, and {near} of {n} values within {w:.1e} of 1/2, where {} cannot tell \
                     the side, so the case is not judged by χ²",
                    dtype.as_str()
                ));
                continue;
            }
        }
        // Every law the implementation may follow (`logit_laws`); the larger p-value.
        let mut r = pearson_chi2(&[above, below], &[p_above, 1.0 - p_above]).map_err(internal)?;
        for held in logit_laws(&[l], dtype).into_iter().skip(1) {
            let p = sigmoid(held[0]);
            let other = pearson_chi2(&[above, below], &[p, 1.0 - p]).map_err(internal)?;
            if other.p_value > r.p_value {
                r = other;
            }
        }
        ps.push(r.p_value);
        o.notes.push(format!("{line}, p = {}", fmt_p(r.p_value)));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            let nf = (above + below) as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("binary samples above / below 1/2, {case}"),
                    observed: vec![above as f64 / nf, below as f64 / nf],
                    expected: vec![p_above, 1.0 - p_above],
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 1,
            n: n as u64,
            parts: 2,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_are_possible_only_where_the_gap_underflows() {
        assert!(zeros_possible(&[1e4, 0.0, -1e4], 1e-3, Dtype::Float64));
        assert!(zeros_possible(&[1.0, 0.0, -1.0], 1e-3, Dtype::Float64));
        assert!(!zeros_possible(&[1.0, 0.0, -1.0], 1e3, Dtype::Float64));
        assert!(!zeros_possible(&[1e4, 0.0, -1e4], 1e3, Dtype::Float64));
        assert!(saturation_possible(1.0, 1e-3, Dtype::Float64));
        assert!(!saturation_possible(1e4, 1e3, Dtype::Float64));
        assert!(saturation_possible(1e4, 1e3 * 0.5, Dtype::Float32));
        // float32 underflows sooner.
        assert!(zeros_possible(&[1.0, 0.0, -1.0], 0.5, Dtype::Float32));
        assert!(!zeros_possible(&[1.0, 0.0, -1.0], 0.5, Dtype::Float64));
        // With the noise margin 80: float16 (smallest subnormal 2^-24: gap 16.6) underflows
        // sooner still; bfloat16 (2^-133: gap 92.2) between float16 and float32 (103.3).
        assert!(zeros_possible(&[1.0, 0.0, -1.0], 1.0, Dtype::Float16));
        assert!(!zeros_possible(&[1.0, 0.0, -1.0], 1.0, Dtype::Bfloat16));
        assert!(zeros_possible(&[1.0, 0.0, -1.0], 0.85, Dtype::Bfloat16));
        assert!(!zeros_possible(&[1.0, 0.0, -1.0], 0.85, Dtype::Float32));
        // A sigmoid rounds to 1 at t > 11 ln 2 = 7.6 in float16, 8 ln 2 = 5.5 in bfloat16.
        assert!(saturation_possible(1.0, 12.0, Dtype::Bfloat16));
        assert!(!saturation_possible(1.0, 12.0, Dtype::Float16));
    }

    #[test]
    fn large_k_logits_give_half_to_category_zero() {
        let p = Logits::from_slice(&large_k_logits()).unwrap().probs();
        assert!((p[0] - 0.5).abs() < 1e-12);
        assert_eq!(p.len(), LARGE_K);
    }
}
