//! Helpers every check group uses: reading a target's arrays with the expected shape and
//! dtype, telling a rejected valid request from a fault, formatting p-values, Q-Q points.

use crate::audit::chunked::Case;
use crate::audit::half;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::target::{Array, ArrayData, Dtype, TargetError};
use crate::error::Error;
use crate::stats::{Alternative, binomial_test};

/// The precision an array is judged at: the looser of the declared dtype (`hello.dtype`) and
/// the array's own float dtype (an integer array: the declared one).
pub(crate) fn precision(declared: Dtype, a: &Array) -> Dtype {
    a.data
        .float_dtype()
        .map_or(declared, |own| declared.looser(own))
}

/// The logit vectors whose laws an implementation in `dtype` may follow: the logits as sent,
/// and for the half types, if they differ, the logits rounded to the dtype (float16 holds
/// 1e4 ± 1 as 1e4, bfloat16 holds 0.7 as 0.69921875). An implementation that converts its
/// inputs to its dtype samples the second law, one that computes from the sent values the
/// first; both are correct. A check tests each and keeps the larger p-value, a valid test of
/// the union of the two nulls (under either, that p-value is at least the true null's). For
/// float32 and float64 only the sent logits (their rounding moves no law detectably).
pub(crate) fn logit_laws(logits: &[f64], dtype: Dtype) -> Vec<Vec<f64>> {
    let mut laws = vec![logits.to_vec()];
    if dtype.is_half() {
        let held: Vec<f64> = logits.iter().map(|&l| half::round_to(dtype, l)).collect();
        if held
            .iter()
            .zip(logits)
            .any(|(a, b)| a.to_bits() != b.to_bits())
        {
            laws.push(held);
        }
    }
    laws
}

/// The values of a float array of the expected shape, or a fault naming the mismatch.
pub(crate) fn floats(a: &Array, shape: &[usize], op: &str) -> Result<Vec<f64>, TargetError> {
    if a.shape != shape {
        return Err(TargetError::Fault(format!(
            "{op} returned shape {:?}, expected {shape:?}",
            a.shape
        )));
    }
    if !a.data.is_float() {
        return Err(TargetError::Fault(format!(
            "{op} returned dtype {}, expected float16, float32 or float64",
            a.data.dtype_name()
        )));
    }
    Ok(a.to_f64())
}

/// The values of an integer array of shape `[n]`.
pub(crate) fn integers(a: &Array, n: usize, op: &str) -> Result<Vec<i64>, TargetError> {
    if a.shape != [n] {
        return Err(TargetError::Fault(format!(
            "{op} returned shape {:?}, expected [{n}]",
            a.shape
        )));
    }
    match &a.data {
        ArrayData::I32(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
        ArrayData::I64(v) => Ok(v.clone()),
        other => Err(TargetError::Fault(format!(
            "{op} returned dtype {}, expected int32 or int64",
            other.dtype_name()
        ))),
    }
}

/// A valid-input request that the implementation rejected: a failure of the implementation.
pub(crate) fn valid<T>(
    r: Result<T, TargetError>,
    what: &str,
) -> Result<Result<T, String>, TargetError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(TargetError::Rejected(msg)) => Ok(Err(format!("valid input rejected ({what}): {msg}"))),
        Err(e) => Err(e),
    }
}

pub(crate) fn internal(e: Error) -> TargetError {
    TargetError::Fault(format!("internal error of the battery: {e}"))
}

pub(crate) fn fmt_p(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else if p < 1e-3 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

pub(crate) fn qq_points<F: Fn(f64) -> f64>(data: &[f64], quantile: F) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = data.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    (1..200)
        .map(|j| {
            let p = j as f64 / 200.0;
            let idx = ((p * n as f64) as usize).min(n - 1);
            (quantile(p), sorted[idx])
        })
        .collect()
}

/// One count of a rare-event check: `count` of `n` draws where the law gives probability `q`;
/// `what` names it in the detail ("above 16.1181").
pub(crate) struct CountPart {
    pub(crate) what: String,
    pub(crate) count: u64,
    pub(crate) q: f64,
}

/// The four parts of an extreme-tail check (`noise.extremes`, `binary.extremes`): counts
/// `[above u₁, above u₂, below l₁, below l₂]` of a tally against the tail probabilities `qs`
/// (thresholds in `case.params` in the same order, printed with `digits` decimals), judged by
/// [`binomial_parts`]; the power is stated at the first (largest) tail probability. Returns the
/// parts' p-values.
pub(crate) fn extreme_parts(
    o: &mut Outcome,
    case: &Case,
    counts: &[u64],
    qs: &[f64; 2],
    digits: usize,
) -> Result<Vec<f64>, TargetError> {
    let mut parts = Vec::new();
    for (j, side) in ["above", "below"].into_iter().enumerate() {
        for (i, &q) in qs.iter().enumerate() {
            parts.push(CountPart {
                what: format!("{side} {:.digits$}", case.params[2 * j + i]),
                count: counts[2 * j + i],
                q,
            });
        }
    }
    let ps = binomial_parts(o, case.n, &parts)?;
    // Stated at the larger tail probability: the parts whose zero count reveals a missing tail.
    o.power = Some(Power::Rare {
        n: case.n,
        q: qs[0],
        parts: parts.len(),
    });
    Ok(ps)
}

/// The exact two-sided binomial test of each part against Binomial(n, q), Bonferroni-combined
/// into `o`'s p-value, with one note listing every part; returns the parts' p-values.
pub(crate) fn binomial_parts(
    o: &mut Outcome,
    n: u64,
    parts: &[CountPart],
) -> Result<Vec<f64>, TargetError> {
    let mut ps = Vec::new();
    let mut lines = Vec::new();
    for part in parts {
        let r = binomial_test(part.count, n, part.q, Alternative::TwoSided).map_err(internal)?;
        ps.push(r.p_value);
        lines.push(format!(
            "{} {} (expected {:.1}, p = {})",
            part.count,
            part.what,
            n as f64 * part.q,
            fmt_p(r.p_value)
        ));
    }
    o.combine(&ps);
    o.notes.push(lines.join("; "));
    Ok(ps)
}
