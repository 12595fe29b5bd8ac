//! Checks of the Gumbel noise op: finiteness, the CDF (KS + Anderson-Darling) and the far upper
//! tail. Notation and error control: `audit::checks`.

use crate::audit::checks::common::{floats, fmt_p, internal, qq_points};
use crate::audit::checks::precision::{band_note, ks_band, noise_delta};
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::result::Figure;
use crate::audit::target::{Dtype, TargetError};
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
/// Binomial(n, q), exact two-sided test; expected count 20 (quick, standard) or 50 (thorough).
/// Detects a tail with no mass there (clamped uniforms) and one with several times the mass.
/// The figure adds the counts beyond the `q·10^j` quantiles, j = 1..4 (descriptive: only the
/// `1 - q` count enters the p-value), so a clamped tail shows as observed 0 against expected.
///
/// Chunked: the draws are requested in chunks of at most `plan.chunk_n` (chunk `c` seeded
/// `request_seed(master, "noise.tail", c)`), and each chunk is reduced to its exceedance count,
/// NaN count and largest draw before the next is drawn (the counts add, the maximum merges).
pub(crate) fn noise_tail(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let (n, q) = (ctx.plan.tail_n, ctx.plan.tail_q);
    let x = Gumbel::standard().isf(q).map_err(internal)?;
    let ladder_q = ladder_probabilities(q);
    let mut ladder = [f64::INFINITY; LADDER];
    for (t, &p) in ladder.iter_mut().zip(&ladder_q) {
        *t = Gumbel::standard().isf(p).map_err(internal)?;
    }
    let mut tail = TailCount::default();
    let mut left = n;
    while left > 0 {
        let m = left.min(ctx.plan.chunk_n.max(1));
        let seed = ctx.next_seed();
        let a = ctx.target.gumbel(m, seed)?;
        tail.merge(TailCount::reduce(&floats(&a, &[m], "gumbel")?, x, &ladder));
        left -= m;
    }
    let r = binomial_test(tail.above, n as u64, q, Alternative::TwoSided).map_err(internal)?;
    let mut o = Outcome::new(format!(
        "exact binomial test of #(g > {x:.3}) against Binomial(n, {q:e}), two-sided"
    ));
    o.n = n as u64;
    o.p_value = Some(r.p_value);
    o.power = Some(Power::Tail { n: n as u64, q });
    let (count, nan, top) = (tail.above, tail.nan, tail.max);
    o.notes.push(format!(
        "{count} draws beyond the 1 - {q:e} quantile {x:.3} (expected {:.1}); largest draw {}",
        n as f64 * q,
        if nan == n as u64 {
            "none (every draw is NaN)".to_string()
        } else if nan > 0 {
            format!("{top:.3} ({nan} NaN draws)")
        } else {
            format!("{top:.3}")
        }
    ));
    // The figure: observed and expected counts beyond the tested threshold and the lower
    // thresholds of the ladder (descriptive; only the tested threshold enters the p-value).
    let mut points: Vec<(f64, u64, f64)> = ladder
        .iter()
        .zip(&ladder_q)
        .zip(&tail.beyond)
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

    /// Adds another chunk's counts (associative and commutative).
    fn merge(&mut self, other: TailCount) {
        self.above += other.above;
        self.nan += other.nan;
        self.max = self.max.max(other.max);
        for (a, b) in self.beyond.iter_mut().zip(other.beyond) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_counts_merge_to_the_count_of_the_whole() {
        let v = [0.5, 12.0, f64::NAN, 11.0, -3.0, 15.0, 9.0];
        let ladder = [0.0, 9.5, 11.5, 14.0];
        let whole = TailCount::reduce(&v, 10.0, &ladder);
        let mut parts = TailCount::reduce(&v[..3], 10.0, &ladder);
        parts.merge(TailCount::reduce(&v[3..], 10.0, &ladder));
        assert_eq!(whole, parts);
        assert_eq!((whole.above, whole.nan, whole.max), (3, 1, 15.0));
        assert_eq!(whole.beyond, [5, 3, 2, 1]);
    }
}
