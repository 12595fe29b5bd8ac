//! Checks of the binary Concrete ops: samples (range, saturation, KS against the closed-form
//! CDF) and the log density at fixed points. Notation and error control: `audit::checks`.

use crate::audit::checks::ceilings::{logistic_lower_cause, logistic_upper_cause};
use crate::audit::checks::common::{
    extreme_parts, floats, fmt_p, internal, logit_laws, precision, qq_points, valid,
};
use crate::audit::checks::log_prob::compare_points;
use crate::audit::checks::noise::EXTREME_Q;
use crate::audit::checks::precision::{BandKs, band_note, ks_band, unit_delta};
use crate::audit::chunked::{Case, ChunkedCheck, Request, Tally};
use crate::audit::ctx::Ctx;
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::result::Figure;
use crate::audit::target::{Array, Capabilities, Dtype, TargetError};
use crate::audit::tolerance;
use crate::distributions::BinaryConcrete;
use crate::numeric::sigmoid;
use crate::stats::{Alternative, binomial_test, ks_one_sample};

/// `t` above which `σ(t) = 1/(1 + e^-t)` rounds to 1 in float64 (`e^-t < 2^-53`): a fact of
/// the format, not a tolerance.
const F64_ROUNDS_TO_ONE: f64 = 53.0 * std::f64::consts::LN_2;
/// `t` below which `e^t` underflows to 0 in float64 (`ln` of the smallest subnormal).
const F64_UNDERFLOW: f64 = -744.4;
/// As [`F64_ROUNDS_TO_ONE`] for float32 (`2^-24`).
const F32_ROUNDS_TO_ONE: f64 = 24.0 * std::f64::consts::LN_2;
/// As [`F64_UNDERFLOW`] for float32.
const F32_UNDERFLOW: f64 = -103.3;

/// A KS statistic and its p-value, plain or band (`checks::precision`).
struct KsSummary {
    statistic: f64,
    p_value: f64,
}

pub(crate) const BINARY_CASES: [(f64, f64); 2] = [(0.7, 0.5), (-2.0, 2.0)];

/// `binary.cdf`: `binary_n` samples (10⁵ at standard) at (l, τ) = (0.7, 0.5) and (-2, 2):
/// (exact) finite and in `[0, 1]` (exactly 0 or 1 is saturation: `warn`); KS against the
/// closed-form CDF `σ(τ logit(x) - l)` (docs/design/math.md §1), Bonferroni over 2. Detects a CDF discrepancy
/// ≈ 0.0134 at standard.
pub(crate) fn binary_cdf(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let n = ctx.plan.binary_n;
    let mut o = Outcome::new("exact: 0 ≤ x ≤ 1; KS vs σ(τ logit(x) - l), Bonferroni over 2");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for (l, tau) in BINARY_CASES {
        let seed = ctx.next_seed();
        let case = format!("l = {l}, τ = {tau}");
        let a = match valid(ctx.target.binary_sample(l, tau, n, seed), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let x = floats(&a, &[n], "binary_sample")?;
        let bad = x
            .iter()
            .filter(|v| !(v.is_finite() && (0.0..=1.0).contains(*v)))
            .count();
        let edge = x.iter().filter(|&&v| v == 0.0 || v == 1.0).count();
        if bad > 0 {
            o.fails
                .push(format!("{case}: {bad} values not finite or outside [0, 1]"));
        }
        if edge > 0 {
            // An exact sampler rounds σ(t) to 1 once 1 + e^-t rounds to 1 (t > 53 ln 2 in
            // float64, 24 ln 2 in float32) and to 0 once e^t underflows (t < -744.4 / -103.3):
            // with L ~ Logistic, P = σ(l - τ t_hi) + σ(τ t_lo - l). Saturation at about that
            // rate is what a correct sampler in this dtype gives (a note); more is a warn.
            let dtype = precision(ctx.dtype(), &a);
            let (t_hi, t_lo) = match dtype {
                Dtype::Float32 => (F32_ROUNDS_TO_ONE, F32_UNDERFLOW),
                Dtype::Float64 => (F64_ROUNDS_TO_ONE, F64_UNDERFLOW),
                // p ln 2 and ln of the smallest subnormal, as for float32 and float64.
                Dtype::Float16 | Dtype::Bfloat16 => {
                    let f = dtype.format();
                    (
                        f64::from(f.precision) * std::f64::consts::LN_2,
                        f.min_subnormal().ln(),
                    )
                }
            };
            let q = (sigmoid(l - tau * t_hi) + sigmoid(tau * t_lo - l)).min(1.0);
            let expected = n as f64 * q;
            let p_more = binomial_test(edge as u64, n as u64, q, Alternative::Greater)
                .map(|r| r.p_value)
                .unwrap_or(0.0);
            let msg = format!(
                "{case}: {edge} values saturated to exactly 0 or 1 (an exact sampler rounded to \
                 {} expects {expected:.2e}; P(≥ {edge}) = {})",
                dtype.as_str(),
                fmt_p(p_more)
            );
            if p_more < tolerance::SATURATION_WARN_P.value {
                o.warns.push(msg);
            } else {
                o.notes.push(msg);
            }
        }
        let data: Vec<f64> = x
            .into_iter()
            .filter(|v| v.is_finite() && (0.0..=1.0).contains(v))
            .collect();
        if data.is_empty() {
            continue;
        }
        o.n += data.len() as u64;
        let dtype = precision(ctx.dtype(), &a);
        let b = BinaryConcrete::new(l, tau).map_err(internal)?;
        let cdf = |v: f64| {
            if v <= 0.0 {
                0.0
            } else if v >= 1.0 {
                1.0
            } else {
                b.cdf(v).unwrap_or(f64::NAN)
            }
        };
        let r = if dtype.is_half() {
            // Every law the implementation may follow (`logit_laws`: bfloat16 holds 0.7 as
            // 0.69921875); the larger p-value.
            let pts: Vec<(f64, f64)> = data.iter().map(|&v| (v, unit_delta(dtype, v))).collect();
            let mut band: BandKs = ks_band(&pts, cdf).map_err(internal)?;
            for law in logit_laws(&[l], dtype).into_iter().skip(1) {
                let bl = BinaryConcrete::new(law[0], tau).map_err(internal)?;
                let cdf_l = |v: f64| {
                    if v <= 0.0 {
                        0.0
                    } else if v >= 1.0 {
                        1.0
                    } else {
                        bl.cdf(v).unwrap_or(f64::NAN)
                    }
                };
                let other = ks_band(&pts, cdf_l).map_err(internal)?;
                if other.p_value > band.p_value {
                    band = other;
                }
            }
            o.notes.push(format!("{case}: {}", band_note(dtype, &band)));
            KsSummary {
                statistic: band.statistic,
                p_value: band.p_value,
            }
        } else {
            let r = ks_one_sample(&data, cdf).map_err(internal)?;
            KsSummary {
                statistic: r.statistic,
                p_value: r.p_value,
            }
        };
        ps.push(r.p_value);
        o.notes.push(format!(
            "{case}: D = {:.5}, p = {}",
            r.statistic,
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            worst = Some((
                r.p_value,
                Figure::Qq {
                    title: format!("binary Concrete {case}: observed vs closed-form quantiles"),
                    points: qq_points(&data, |p| b.quantile(p).unwrap_or(f64::NAN)),
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Dkwm {
            n: n as u64,
            parts: 2,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// `binary.log_prob` (exact): the binary Concrete log density at x ∈ {0.01, 0.2, 0.5, 0.8,
/// 0.999} for both cases against [`BinaryConcrete::ln_pdf`], within `256 ε (1 + M)`.
pub(crate) fn binary_log_prob(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let xs = [0.01, 0.2, 0.5, 0.8, 0.999];
    let mut o = Outcome::new("exact: |lp - lp_ref| ≤ 256 ε (1 + M) at fixed points");
    for (l, tau) in BINARY_CASES {
        let case = format!("l = {l}, τ = {tau}");
        let a = match valid(ctx.target.binary_log_prob(l, tau, &xs), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let dtype = precision(ctx.dtype(), &a);
        let got = floats(&a, &[xs.len()], "binary_log_prob")?;
        let b = BinaryConcrete::new(l, tau).map_err(internal)?;
        let mut want = Vec::new();
        let mut tols = Vec::new();
        for &x in &xs {
            want.push(b.ln_pdf(x).map_err(internal)?);
            let (lx, l1x) = (x.ln().abs(), (1.0 - x).ln().abs());
            let m = tau.ln().abs() + 3.0 * l.abs() + (3.0 * tau + 1.0) * (lx + l1x) + 2.0;
            tols.push(tolerance::density(dtype, m));
        }
        o.n += xs.len() as u64;
        if compare_points(&mut o, &case, &got, &want, &tols) == 0 {
            o.notes.push(format!("{case}: {} points agree", xs.len()));
        }
    }
    Ok(o)
}

/// The (logit, τ) of `binary.extremes`: τ = 10 maps the Logistic tail thresholds ±16.1 and
/// ±18.4 to x = σ(±1.61) and σ(±1.84), far from saturation, so the count measures the noise's
/// tail, not the rounding of σ to 1.
const EXTREMES_CASE: (f64, f64) = (0.0, 10.0);

/// A part's p-value below which the detail names a matching finite-precision cause.
const CAUSE_P: f64 = 0.01;

/// `binary.extremes`: `binary_extremes_n` binary Concrete samples (2·10⁸ at deep, 4·10⁶ at
/// standard) at (l, τ) = (0, 10); the counts above `σ((l + t_q)/τ)` and below `σ((l - t_q)/τ)`
/// with `t_q = ln((1 - q)/q)` the Logistic's `1 - q` quantile, q = 1e-7 and 1e-8 (t = 16.118,
/// 18.421), against Binomial(n, q), exact two-sided, Bonferroni over 4. At deep 20 are expected
/// beyond each 1e-7 threshold: Logistic noise from a float32 uniform with 23 bits never exceeds
/// `ln(2^23 - 1) = 15.942385`, so it gives 0 (P = e^-20 under the exact law), and the detail
/// names that cause when the largest implied noise `τ logit(x) - l` is a grid's ceiling
/// (`checks::ceilings`). NaN or values outside `[0, 1]` are a fail.
///
/// Chunked: one case, counts `[above ×2, below ×2, NaN, outside [0, 1]]`, min and max.
pub(crate) const BINARY_EXTREMES: ChunkedCheck = ChunkedCheck {
    cases: extremes_cases,
    reduce: extremes_reduce,
    decide: extremes_decide,
};

/// The Logistic's `1 - q` quantile `ln((1 - q)/q)`.
fn logistic_isf(q: f64) -> f64 {
    (-q).ln_1p() - q.ln()
}

fn extremes_cases(plan: &Plan, _: &Capabilities) -> Vec<Case> {
    let (l, tau) = EXTREMES_CASE;
    let mut params: Vec<f64> = EXTREME_Q
        .iter()
        .map(|&q| sigmoid((l + logistic_isf(q)) / tau))
        .collect();
    params.extend(
        EXTREME_Q
            .iter()
            .map(|&q| sigmoid((l - logistic_isf(q)) / tau)),
    );
    vec![Case::new(
        "",
        Request::Binary { logit: l, tau },
        plan.binary_extremes_n,
        params,
    )]
}

fn extremes_reduce(case: &Case, a: &Array, n: u64) -> Result<Tally, TargetError> {
    let values = case.request.floats(a, n as usize)?;
    let p = &case.params;
    let mut t = Tally::zeros(6, 1);
    for &v in &values {
        if v.is_nan() {
            t.counts[4] += 1;
            continue;
        }
        t.counts[0] += u64::from(v > p[0]);
        t.counts[1] += u64::from(v > p[1]);
        t.counts[2] += u64::from(v < p[2]);
        t.counts[3] += u64::from(v < p[3]);
        t.counts[5] += u64::from(!(0.0..=1.0).contains(&v));
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
    let (case, t) = (&cases[0], &tallies[0]);
    let (l, tau) = EXTREMES_CASE;
    let n = case.n;
    let mut o = Outcome::new(
        "exact two-sided binomial tests of #(x above / below σ((l ± t_q)/τ)) at the 1e-7 and \
         1e-8 Logistic tails, Bonferroni over 4",
    );
    o.n = n;
    let ps = extreme_parts(&mut o, case, &t.counts, &EXTREME_Q, 6)?;
    // The implied noise L = τ logit(x) - l of the extremes.
    let noise = |x: f64| tau * (x.ln() - (-x).ln_1p()) - l;
    let (lo, hi) = (noise(t.min[0]), noise(t.max[0]));
    o.notes.push(format!(
        "smallest x {:.8} (noise {lo:.6}), largest x {:.8} (noise {hi:.6})",
        t.min[0], t.max[0]
    ));
    let short = (t.counts[0] as f64) < n as f64 * EXTREME_Q[0];
    if let Some(g) = logistic_upper_cause(hi).filter(|_| short && ps[0].min(ps[1]) < CAUSE_P) {
        o.notes.push(format!(
            "no Logistic noise above {:.4}: {} (ln(2^{} - 1); P(L > {:.4}) = 2^-{})",
            g.logistic_ceiling(),
            g.name,
            g.bits,
            g.logistic_ceiling(),
            g.bits
        ));
    }
    if let Some(what) = logistic_lower_cause(lo).filter(|_| ps[2].min(ps[3]) < CAUSE_P) {
        o.notes.push(format!(
            "the smallest noise {lo:.4} is ln(s/(1 - s)) for {what}"
        ));
    }
    if t.counts[4] > 0 {
        o.fails
            .push(format!("{} of {n} samples are NaN", t.counts[4]));
    }
    if t.counts[5] > 0 {
        o.fails
            .push(format!("{} of {n} samples outside [0, 1]", t.counts[5]));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::options::Level;
    use crate::audit::target::Dtype;

    fn caps() -> Capabilities {
        Capabilities::new("t", Dtype::Float64, vec![], vec![])
    }

    #[test]
    fn binary_extreme_tallies_merge_and_a_23_bit_ceiling_is_named() {
        let case = extremes_cases(&Level::Deep.plan(), &caps()).pop().unwrap();
        let v = [0.5, 0.9, f64::NAN, 0.1, 0.15, 1.5, 0.84];
        let whole = extremes_reduce(&case, &Array::from_f64(v.to_vec()), 7).unwrap();
        let mut parts = extremes_reduce(&case, &Array::from_f64(v[..2].to_vec()), 2).unwrap();
        parts
            .merge(&extremes_reduce(&case, &Array::from_f64(v[2..].to_vec()), 5).unwrap())
            .unwrap();
        assert_eq!(whole, parts);
        assert_eq!(whole.counts, vec![3, 2, 2, 1, 1, 1]);
        // 23-bit Logistic noise: largest x = σ(15.942385/10), nothing above σ(1.6118).
        let top = sigmoid((8_388_607f64).ln() / 10.0);
        let t = Tally {
            counts: vec![0, 0, 20, 2, 0, 0],
            min: vec![0.2],
            max: vec![top],
        };
        let o = extremes_decide(&Level::Deep.plan(), &caps(), &[case], &[t]).unwrap();
        assert!(o.p_value.unwrap() < 1e-6);
        let text = o.notes.join(" ");
        assert!(
            text.contains("no Logistic noise above 15.9424: float32 uniform with 23 bits"),
            "{text}"
        );
    }
}
