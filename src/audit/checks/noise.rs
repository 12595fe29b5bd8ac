//! Checks of the Gumbel noise op: finiteness, the CDF (KS + Anderson-Darling), the far upper
//! tail, and the extremes beyond the float32 grid. Notation and error control: `audit::checks`.

use crate::audit::checks::ceilings::{lower_cause, upper_cause};
use crate::audit::checks::common::{extreme_parts, floats, fmt_p, internal, qq_points};
use crate::audit::checks::precision::{band_note, ks_band, noise_delta};
use crate::audit::chunked::{Case, ChunkedCheck, Request, Tally};
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::result::Figure;
use crate::audit::target::{Array, Capabilities, Dtype, TargetError};
use crate::distributions::Gumbel;
use crate::stats::{Alternative, anderson_darling_dist, binomial_test, ks_one_sample};

/// `noise.finite` (exact): every one of `noise_n` Gumbel draws is finite. A single `±inf`
/// (a uniform of exactly 0 or 1 in `-ln(-ln u)`) turns a softmax into NaN (docs/design/math.md §1).
pub(crate) fn noise_finite(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let values = noise(ctx)?;
    let mut o = Outcome::new("exact: every value finite");
    o.n = values.len() as u64;
    let bad = values.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        o.fails
            .push(format!("{bad} of {} values are not finite", values.len()));
    } else {
        o.notes.push(format!("all {} values finite", values.len()));
    }
    Ok(o)
}

/// The `noise_n` draws shared by `noise.finite` and `noise.cdf` (stream `"noise"`).
fn noise(ctx: &mut Ctx) -> Result<Vec<f64>, TargetError> {
    let n = ctx.plan.noise_n;
    let a = ctx.cached(Shared::Noise, "noise", |t, seed| t.gumbel(n, seed))?;
    floats(a, &[n], "gumbel")
}

/// `noise.cdf`: KS and Anderson-Darling of `noise_n` draws (10⁶ at standard) against the
/// standard Gumbel CDF, Bonferroni over the two. Detects a CDF discrepancy of about 0.0042 at
/// standard (DKWM at α_i/2, power 0.999); AD adds tail sensitivity. Catches `-ln u` noise
/// (an exponential, not a Gumbel).
pub(crate) fn noise_cdf(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let values = noise(ctx)?;
    let total = values.len();
    let data: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let mut o = Outcome::new("KS + Anderson-Darling vs Gumbel(0, 1), Bonferroni over 2");
    o.n = data.len() as u64;
    if data.len() < 8 {
        // Nothing to test the law on: the sampler is wrong, not the plumbing.
        o.fails.push(format!(
            "only {} of {total} draws are finite: no law to test",
            data.len()
        ));
        return Ok(o);
    }
    let g = Gumbel::standard();
    let dtype = ctx.dtype();
    if dtype.is_half() {
        // Half precision: KS band test alone (checks::precision); AD's null law needs
        // continuous data, and the grid's atoms are what it would see.
        return noise_cdf_half(o, &data, dtype);
    }
    let ks = ks_one_sample(&data, |x| g.cdf(x)).map_err(internal)?;
    let ad = anderson_darling_dist(&data, &g).map_err(internal)?;
    o.combine(&[ks.p_value, ad.p_value]);
    o.power = Some(Power::Dkwm { n: o.n, parts: 2 });
    o.notes.push(format!(
        "KS D = {:.5} at x = {:.3} (p = {}), AD A² = {:.3} (p = {})",
        ks.statistic,
        ks.statistic_location,
        fmt_p(ks.p_value),
        ad.statistic,
        fmt_p(ad.p_value)
    ));
    o.figure = Some(Figure::Qq {
        title: "Gumbel noise: observed against Gumbel(0, 1) quantiles".into(),
        points: qq_points(&data, |p| g.quantile(p).unwrap_or(f64::NAN)),
    });
    Ok(o)
}

/// `noise.cdf` for a float16 or bfloat16 implementation: the KS band test with
/// `δ = 2 ε max(1, |x|)` (`checks::precision`), conservative; one part.
fn noise_cdf_half(mut o: Outcome, data: &[f64], dtype: Dtype) -> Result<Outcome, TargetError> {
    let g = Gumbel::standard();
    let pts: Vec<(f64, f64)> = data.iter().map(|&x| (x, noise_delta(dtype, x))).collect();
    let r = ks_band(&pts, |x| g.cdf(x)).map_err(internal)?;
    o.criterion = "KS band test vs Gumbel(0, 1) at the dtype's precision (no AD)".into();
    o.p_value = Some(r.p_value);
    o.power = Some(Power::Dkwm { n: o.n, parts: 1 });
    o.notes.push(format!(
        "KS band D = {:.5} at x = {:.3} (p = {}); {}",
        r.statistic,
        r.location,
        fmt_p(r.p_value),
        band_note(dtype, &r)
    ));
    o.figure = Some(Figure::Qq {
        title: "Gumbel noise: observed against Gumbel(0, 1) quantiles".into(),
        points: qq_points(data, |p| g.quantile(p).unwrap_or(f64::NAN)),
    });
    Ok(o)
}

/// `noise.tail`: the number of `tail_n` draws above the Gumbel's `1 - q` quantile against
/// Binomial(n, q), exact two-sided test; expected count 20 (quick, standard), 50 (thorough) or
/// 100 (deep: 10⁸ draws beyond the 1 - 10⁻⁶ quantile). Detects a tail with no mass there
/// (clamped uniforms) and one with several times the mass. The figure adds the counts beyond
/// the `q·10^j` quantiles, j = 1..4 (descriptive: only the `1 - q` count enters the p-value), so
/// a clamped tail shows as observed 0 against expected.
///
/// Chunked (`audit::chunked`): one case, chunks of at most `plan.chunk_n` draws, each reduced to
/// its exceedance counts, NaN count and largest draw (the counts add, the maximum merges).
pub(crate) const NOISE_TAIL: ChunkedCheck = ChunkedCheck {
    cases: tail_cases,
    reduce: tail_reduce,
    decide: tail_decide,
};

/// The one case of `noise.tail`: `tail_n` Gumbel draws; parameters `[x, ladder...]` with `x` the
/// `1 - q` quantile.
fn tail_cases(plan: &Plan, _: &Capabilities) -> Vec<Case> {
    let g = Gumbel::standard();
    let q = plan.tail_q;
    let mut params = vec![g.isf(q).unwrap_or(f64::NAN)];
    params.extend(
        ladder_probabilities(q)
            .iter()
            .map(|&p| g.isf(p).unwrap_or(f64::NAN)),
    );
    vec![Case::new("", Request::Gumbel, plan.tail_n as u64, params)]
}

/// One chunk → counts `[above x, NaN, beyond ladder_1..ladder_4]`, maximum `[largest draw]`.
fn tail_reduce(case: &Case, a: &Array, n: u64) -> Result<Tally, TargetError> {
    let values = case.request.floats(a, n as usize)?;
    let ladder: [f64; LADDER] = case.params[1..=LADDER]
        .try_into()
        .map_err(|_| TargetError::Fault("internal error of the battery: ladder".into()))?;
    let t = TailCount::reduce(&values, case.params[0], &ladder);
    let mut counts = vec![t.above, t.nan];
    counts.extend(t.beyond);
    Ok(Tally {
        counts,
        min: vec![],
        max: vec![t.max],
    })
}

fn tail_decide(
    plan: &Plan,
    _: &Capabilities,
    cases: &[Case],
    tallies: &[Tally],
) -> Result<Outcome, TargetError> {
    let (case, tally) = (&cases[0], &tallies[0]);
    let (n, q, x) = (case.n, plan.tail_q, case.params[0]);
    let ladder_q = ladder_probabilities(q);
    let (count, nan, top) = (tally.counts[0], tally.counts[1], tally.max[0]);
    let beyond = &tally.counts[2..2 + LADDER];
    let r = binomial_test(count, n, q, Alternative::TwoSided).map_err(internal)?;
    let mut o = Outcome::new(format!(
        "exact binomial test of #(g > {x:.3}) against Binomial(n, {q:e}), two-sided"
    ));
    o.n = n;
    o.p_value = Some(r.p_value);
    o.power = Some(Power::Tail { n, q });
    o.notes.push(format!(
        "{count} draws beyond the 1 - {q:e} quantile {x:.3} (expected {:.1}); largest draw {}",
        n as f64 * q,
        if nan == n {
            "none (every draw is NaN)".to_string()
        } else if nan > 0 {
            format!("{top:.3} ({nan} NaN draws)")
        } else {
            format!("{top:.3}")
        }
    ));
    // The figure: observed and expected counts beyond the tested threshold and the lower
    // thresholds of the ladder (descriptive; only the tested threshold enters the p-value).
    let mut points: Vec<(f64, u64, f64)> = case.params[1..=LADDER]
        .iter()
        .zip(&ladder_q)
        .zip(beyond)
        .map(|((&t, &p), &c)| (t, c, n as f64 * p))
        .collect();
    points.push((x, count, n as f64 * q));
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    o.figure = Some(Figure::Exceedances {
        title: format!("Gumbel noise: draws beyond x, n = {n} (tested: x = {x:.2})"),
        thresholds: points.iter().map(|p| p.0).collect(),
        observed: points.iter().map(|p| p.1).collect(),
        expected: points.iter().map(|p| p.2).collect(),
    });
    Ok(o)
}

/// Number of lower thresholds drawn beside the tested one in `noise.tail`'s figure.
const LADDER: usize = 4;

/// Tail probabilities of the figure's lower thresholds: `q·10^j`, j = 1..=4, capped at 1/2.
fn ladder_probabilities(q: f64) -> [f64; LADDER] {
    let mut p = [0.0; LADDER];
    for (j, v) in p.iter_mut().enumerate() {
        *v = (q * 10f64.powi(j as i32 + 1)).min(0.5);
    }
    p
}

/// The partial statistic of `noise.tail` for one chunk: mergeable exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TailCount {
    /// Draws above the threshold.
    above: u64,
    /// NaN draws.
    nan: u64,
    /// Largest non-NaN draw (`-inf` if none).
    max: f64,
    /// Draws above each threshold of the figure's ladder.
    beyond: [u64; LADDER],
}

impl Default for TailCount {
    fn default() -> Self {
        TailCount {
            above: 0,
            nan: 0,
            max: f64::NEG_INFINITY,
            beyond: [0; LADDER],
        }
    }
}

impl TailCount {
    /// The counts of one chunk against threshold `x` and the figure's `ladder`.
    fn reduce(values: &[f64], x: f64, ladder: &[f64; LADDER]) -> Self {
        let mut beyond = [0; LADDER];
        for (b, &t) in beyond.iter_mut().zip(ladder) {
            *b = values.iter().filter(|&&v| v > t).count() as u64;
        }
        TailCount {
            beyond,
            above: values.iter().filter(|&&v| v > x).count() as u64,
            nan: values.iter().filter(|v| v.is_nan()).count() as u64,
            max: values
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Tail probabilities of `noise.extremes`: the upper survival and lower CDF levels, beyond
/// the float32 grid (a 23-bit uniform puts nothing above the 1 - 1.19e-7 quantile).
pub(crate) const EXTREME_Q: [f64; 2] = [1e-7, 1e-8];

/// A part's p-value below which the detail names a matching finite-precision cause
/// (descriptive only: the verdict is Holm's on the Bonferroni p-value).
const CAUSE_P: f64 = 0.01;

/// `noise.extremes`: the counts of `extremes_n` draws above the Gumbel's `1 - q` quantiles and
/// below its `q` quantiles, q = 1e-7 and 1e-8 (16.118, 18.421; -2.7799, -2.9134), each against
/// Binomial(n, q) with an exact two-sided test, Bonferroni over the 4 parts; the smallest and
/// largest draw are reported. n = 5·10⁸ at deep (expected 50 and 5 per side), 10⁷ at standard
/// (expected 1 and 0.1: it sees an excess, not a missing tail). A float32 uniform with 23 bits
/// cannot exceed 15.942385 (P(G > 15.942385) = 2^-23), so at deep it gives 0 where 50 are
/// expected (P = e^-50 under the exact law); the detail names that cause when the largest (or
/// smallest) draw is a uniform grid's ceiling (floor) (`checks::ceilings`). NaN draws are a fail.
///
/// Chunked: one case, counts `[above u₁, above u₂, below l₁, below l₂, NaN]`, minimum and
/// maximum of the non-NaN draws.
pub(crate) const NOISE_EXTREMES: ChunkedCheck = ChunkedCheck {
    cases: extremes_cases,
    reduce: extremes_reduce,
    decide: extremes_decide,
};

/// The one case: parameters `[u₁, u₂, l₁, l₂]` (upper thresholds, then lower).
fn extremes_cases(plan: &Plan, _: &Capabilities) -> Vec<Case> {
    let g = Gumbel::standard();
    let mut params: Vec<f64> = EXTREME_Q
        .iter()
        .map(|&q| g.isf(q).unwrap_or(f64::NAN))
        .collect();
    params.extend(EXTREME_Q.iter().map(|&q| g.quantile(q).unwrap_or(f64::NAN)));
    vec![Case::new("", Request::Gumbel, plan.extremes_n, params)]
}

/// One chunk → its counts and extremes, in one pass.
fn extremes_reduce(case: &Case, a: &Array, n: u64) -> Result<Tally, TargetError> {
    let values = case.request.floats(a, n as usize)?;
    let p = &case.params;
    let mut t = Tally::zeros(5, 1);
    for &v in &values {
        if v.is_nan() {
            t.counts[4] += 1;
            continue;
        }
        t.counts[0] += u64::from(v > p[0]);
        t.counts[1] += u64::from(v > p[1]);
        t.counts[2] += u64::from(v < p[2]);
        t.counts[3] += u64::from(v < p[3]);
        t.min[0] = t.min[0].min(v);
        t.max[0] = t.max[0].max(v);
    }
    Ok(t)
}

fn extremes_decide(
    _: &Plan,
    _: &Capabilities,
    cases: &[Case],
    tallies: &[Tally],
) -> Result<Outcome, TargetError> {
    let (case, tally) = (&cases[0], &tallies[0]);
    let n = case.n;
    let mut o = Outcome::new(
        "exact two-sided binomial tests of #(g > u) and #(g < l) at the 1e-7 and 1e-8 tails, \
         Bonferroni over 4",
    );
    o.n = n;
    let (lo, hi) = (tally.min[0], tally.max[0]);
    let ps = extreme_parts(&mut o, case, &tally.counts, &EXTREME_Q, 4)?;
    o.notes
        .push(format!("smallest draw {lo:.6}, largest draw {hi:.6}"));
    // The cause (named, never decided on): the largest draw is a uniform grid's ceiling and
    // the upper counts are short of their expectation (part p < 0.01), or the smallest draw is
    // a grid's floor or a dtype's smallest positive and the lower counts are off (p < 0.01).
    let short = (tally.counts[0] as f64) < n as f64 * EXTREME_Q[0];
    if let Some(g) = upper_cause(hi).filter(|_| short && ps[0].min(ps[1]) < CAUSE_P) {
        o.notes.push(format!(
            "no noise above {:.4}: {} (its largest value below 1 is 1 - 2^-{}, and \
             P(G > {:.4}) = 2^-{} = {:.3e})",
            g.ceiling(),
            g.name,
            g.bits,
            g.ceiling(),
            g.bits,
            g.step()
        ));
    }
    if let Some(what) = lower_cause(lo).filter(|_| ps[2].min(ps[3]) < CAUSE_P) {
        o.notes.push(format!(
            "the smallest draw {lo:.4} is -ln(-ln s) for {what}"
        ));
    }
    let nan = tally.counts[4];
    if nan > 0 {
        o.fails.push(format!("{nan} of {n} draws are NaN"));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::options::Level;

    #[test]
    fn tail_tallies_merge_to_the_tally_of_the_whole() {
        let v = [0.5, 12.0, f64::NAN, 11.0, -3.0, 15.0, 9.0];
        let case = Case::new("", Request::Gumbel, 7, vec![10.0, 0.0, 9.5, 11.5, 14.0]);
        let whole = tail_reduce(&case, &Array::from_f64(v.to_vec()), 7).unwrap();
        let mut parts = tail_reduce(&case, &Array::from_f64(v[..3].to_vec()), 3).unwrap();
        parts
            .merge(&tail_reduce(&case, &Array::from_f64(v[3..].to_vec()), 4).unwrap())
            .unwrap();
        assert_eq!(whole, parts);
        assert_eq!(whole.counts, vec![3, 1, 5, 3, 2, 1]);
        assert_eq!(whole.max, vec![15.0]);
        assert!(tail_reduce(&case, &Array::from_f64(v.to_vec()), 6).is_err());
    }

    fn caps() -> Capabilities {
        Capabilities::new("t", crate::audit::target::Dtype::Float64, vec![], vec![])
    }

    #[test]
    fn extreme_tallies_merge_to_the_tally_of_the_whole() {
        let v = [0.5, 17.0, f64::NAN, -2.8, -3.0, 19.0, f64::INFINITY, -2.85];
        let case = extremes_cases(&Level::Standard.plan(), &caps())
            .pop()
            .unwrap();
        let whole = extremes_reduce(&case, &Array::from_f64(v.to_vec()), 8).unwrap();
        let mut parts = extremes_reduce(&case, &Array::from_f64(v[..3].to_vec()), 3).unwrap();
        parts
            .merge(&extremes_reduce(&case, &Array::from_f64(v[3..].to_vec()), 5).unwrap())
            .unwrap();
        assert_eq!(whole, parts);
        assert_eq!(whole.counts, vec![3, 2, 3, 1, 1]);
        assert_eq!((whole.min[0], whole.max[0]), (-3.0, f64::INFINITY));
    }

    #[test]
    fn a_23_bit_ceiling_fails_and_is_named() {
        let mut case = extremes_cases(&Level::Deep.plan(), &caps()).pop().unwrap();
        case.n = 1_000_000_000;
        // 0 above 16.118 where 100 are expected; the lower counts as expected.
        let tally = Tally {
            counts: vec![0, 0, 100, 10, 0],
            min: vec![-3.2],
            max: vec![15.942385],
        };
        let o = extremes_decide(&Level::Deep.plan(), &caps(), &[case.clone()], &[tally]).unwrap();
        assert!(o.p_value.unwrap() < 1e-30);
        let text = o.notes.join(" ");
        assert!(
            text.contains("no noise above 15.9424: float32 uniform with 23 bits"),
            "{text}"
        );
        // the exact law's counts pass and name nothing
        let fine = Tally {
            counts: vec![100, 10, 100, 10, 0],
            min: vec![-3.2],
            max: vec![20.5],
        };
        let o = extremes_decide(&Level::Deep.plan(), &caps(), &[case], &[fine]).unwrap();
        assert!(o.p_value.unwrap() > 0.5);
        assert!(!o.notes.join(" ").contains("uniform"));
    }
}
