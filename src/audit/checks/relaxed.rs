//! Checks of relaxed (Concrete) samples, soft and hard: the simplex, the argmax law, the
//! log-ratio law, a two-sample comparison with the reference, and hard rows. Notation and error
//! control: `audit::checks`.

use crate::audit::checks::categorical::{RARE_D, rare_parts};
use crate::audit::checks::common::{floats, fmt_p, internal, precision, qq_points, valid};
use crate::audit::checks::precision::{band_note, ks_band, log_ratio_delta, rounded};
use crate::audit::chunked::{Case, ChunkedCheck, Request, Tally};
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::reference::ReferenceTarget;
use crate::audit::result::Figure;
use crate::audit::target::{Array, Capabilities, Dtype, Target, TargetError};
use crate::audit::tolerance;
use crate::distributions::Logits;
use crate::numeric::{argmax, sigmoid};
use crate::stats::{ks_one_sample, ks_two_sample, pearson_chi2};

/// A KS statistic and its p-value, plain or band (`checks::precision`).
struct KsSummary {
    statistic: f64,
    p_value: f64,
}

/// Logits of the relaxed checks.
pub(crate) const RELAXED_LOGITS: [f64; 3] = [1.0, 0.0, -1.0];
/// Temperatures of the relaxed checks.
const RELAXED_TAUS: [f64; 4] = [0.1, 0.5, 1.0, 5.0];
/// A case with masked categories, at τ = 0.5.
pub(crate) const MASKED_LOGITS: [f64; 3] = [0.5, f64::NEG_INFINITY, -0.5];

fn relaxed_cases() -> Vec<(Vec<f64>, f64)> {
    let mut v: Vec<(Vec<f64>, f64)> = RELAXED_TAUS
        .iter()
        .map(|&t| (RELAXED_LOGITS.to_vec(), t))
        .collect();
    v.push((MASKED_LOGITS.to_vec(), 0.5));
    v
}

/// `relaxed.simplex` (exact): every entry finite and in `[0, 1]`, rows sum to 1 within the
/// dtype's tolerance (module doc), masked entries exactly 0; unmasked entries that underflowed
/// to 0 are a `warn` (the float32 rule).
pub(crate) fn relaxed_simplex(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("exact: finite, 0 ≤ y_i ≤ 1, |Σy - 1| ≤ tol(dtype), masked y_i = 0");
    for (l, tau) in relaxed_cases() {
        let k = l.len();
        let (y, dtype) = match valid(relaxed_draws(ctx, &l, tau), "relaxed_sample")? {
            Ok(v) => v,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let tol = tolerance::simplex_sum(dtype, k);
        let t = SimplexTally::of(&l, &y, tol);
        o.n += t.rows;
        let case = format!("l = {l:?}, τ = {tau}");
        if t.nonfinite > 0 {
            o.fails
                .push(format!("{case}: {} rows with NaN or inf", t.nonfinite));
        }
        t.push_fails(&mut o, &case, tol);
        let zeros = t.zeros;
        if zeros > 0 {
            o.warns.push(format!(
                "{case}: {zeros} unmasked entries underflowed to exactly 0 ({} precision)",
                dtype.as_str()
            ));
        }
    }
    Ok(o)
}

/// `relaxed.argmax`: argmax frequencies of `relaxed_n` soft samples (10⁵ at standard) per
/// case against π: logits (1, 0, -1) at τ = 0.1, 0.5, 1, 5 and the masked case at τ = 0.5
/// (docs/design/math.md §2 fact 1: the argmax follows π at every τ), Pearson χ², Bonferroni over 5. Detects
/// w ≈ 0.024 (df = 2) at standard. Catches τ applied to the logits only, and probabilities
/// passed as logits.
pub(crate) fn relaxed_argmax(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("Pearson χ² of argmax counts vs π per (l, τ), Bonferroni over 5");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for (l, tau) in relaxed_cases() {
        let k = l.len();
        let Ok((y, _)) = valid(relaxed_draws(ctx, &l, tau), "relaxed_sample")? else {
            o.fails
                .push(format!("l = {l:?}, τ = {tau}: valid input rejected"));
            continue;
        };
        let mut counts = vec![0u64; k];
        for row in y.chunks_exact(k) {
            if let Some(i) = argmax_finite(row) {
                counts[i] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        o.n += total;
        if total == 0 {
            o.fails.push(format!("l = {l:?}, τ = {tau}: no finite row"));
            continue;
        }
        let probs = Logits::from_slice(&l).map_err(internal)?.probs();
        let r = pearson_chi2(&counts, &probs).map_err(internal)?;
        ps.push(r.p_value);
        o.notes.push(format!(
            "τ = {tau}{}: counts {counts:?}, p = {}",
            if l[1] == f64::NEG_INFINITY {
                " (masked)"
            } else {
                ""
            },
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            let nf = total as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("argmax of relaxed samples, l = {l:?}, τ = {tau}"),
                    observed: counts.iter().map(|&c| c as f64 / nf).collect(),
                    expected: probs,
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 2,
            n: ctx.plan.relaxed_n as u64,
            parts: 5,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}
/// The exact simplex criteria of `relaxed.simplex` and `relaxed.range`, tallied over rows of
/// `k = l.len()` entries: rows with a non-finite entry (left out of the rest), rows with an
/// entry outside `[0, 1]`, rows with `|Σy - 1| > tol` (and the worst), masked entries that are
/// not 0, unmasked entries that are exactly 0, and the argmax counts of the finite rows.
pub(crate) struct SimplexTally {
    pub(crate) rows: u64,
    pub(crate) nonfinite: u64,
    pub(crate) range: u64,
    pub(crate) sum: u64,
    pub(crate) worst_sum: f64,
    pub(crate) masked: u64,
    pub(crate) zeros: u64,
    pub(crate) argmax: Vec<u64>,
    /// Of `argmax`, the rows whose largest entry is shared by another entry (counted at the
    /// first of them): at half precision nearly equal entries round to the same value.
    pub(crate) tied: Vec<u64>,
}

impl SimplexTally {
    /// Tallies the rows of `y` (row-major, `l.len()` entries a row).
    pub(crate) fn of(l: &[f64], y: &[f64], tol: f64) -> Self {
        let k = l.len();
        let mut t = SimplexTally {
            rows: (y.len() / k) as u64,
            nonfinite: 0,
            range: 0,
            sum: 0,
            worst_sum: 0.0,
            masked: 0,
            zeros: 0,
            argmax: vec![0; k],
            tied: vec![0; k],
        };
        for row in y.chunks_exact(k) {
            if row.iter().any(|v| !v.is_finite()) {
                t.nonfinite += 1;
                continue;
            }
            if row.iter().any(|&v| !(0.0..=1.0).contains(&v)) {
                t.range += 1;
            }
            let s: f64 = row.iter().sum();
            t.worst_sum = t.worst_sum.max((s - 1.0).abs());
            if (s - 1.0).abs() > tol {
                t.sum += 1;
            }
            for (i, &v) in row.iter().enumerate() {
                if l[i] == f64::NEG_INFINITY && v != 0.0 {
                    t.masked += 1;
                }
                if l[i] > f64::NEG_INFINITY && v == 0.0 {
                    t.zeros += 1;
                }
            }
            if let Some(i) = argmax_finite(row) {
                t.argmax[i] += 1;
                if row.iter().filter(|&&v| v == row[i]).count() > 1 {
                    t.tied[i] += 1;
                }
            }
        }
        t
    }

    /// Pushes the fails both checks word alike: entries outside `[0, 1]`, sums off by more
    /// than `tol`, masked entries not 0. Non-finite rows and exact zeros are judged by the
    /// caller (the two checks explain them differently).
    pub(crate) fn push_fails(&self, o: &mut Outcome, case: &str, tol: f64) {
        if self.range > 0 {
            o.fails.push(format!(
                "{case}: {} rows with an entry outside [0, 1]",
                self.range
            ));
        }
        if self.sum > 0 {
            o.fails.push(format!(
                "{case}: {} rows with |Σy - 1| > {tol:.1e} (worst {:.2e})",
                self.sum, self.worst_sum
            ));
        }
        if self.masked > 0 {
            o.fails
                .push(format!("{case}: {} masked entries not 0", self.masked));
        }
    }
}

/// Index of the largest finite entry (first on ties); `None` if a NaN is present.
pub(crate) fn argmax_finite(row: &[f64]) -> Option<usize> {
    if row.iter().any(|v| v.is_nan()) {
        return None;
    }
    argmax(row)
}

/// `relaxed.log_ratio`: `ln(y_0/y_1)` and `ln(y_0/y_2)` for logits (1, 0, -1) at τ = 0.5 and 1,
/// and `ln(y_0/y_2)` for the masked case, against `Logistic((l_i - l_j)/τ, 1/τ)` (docs/design/math.md §2
/// fact 2), KS, Bonferroni over 5. Detects a CDF discrepancy ≈ 0.0137 at standard (n = 10⁵).
/// Rows where either entry is 0 (underflow) are left out and reported (`warn`).
pub(crate) fn relaxed_log_ratio(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("KS of ln(y_i/y_j) vs Logistic((l_i-l_j)/τ, 1/τ), Bonferroni over 5");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    let cases: Vec<(Vec<f64>, f64, usize, usize)> = vec![
        (RELAXED_LOGITS.to_vec(), 0.5, 0, 1),
        (RELAXED_LOGITS.to_vec(), 0.5, 0, 2),
        (RELAXED_LOGITS.to_vec(), 1.0, 0, 1),
        (RELAXED_LOGITS.to_vec(), 1.0, 0, 2),
        (MASKED_LOGITS.to_vec(), 0.5, 0, 2),
    ];
    for (l, tau, i, j) in cases {
        let k = l.len();
        let Ok((y, dtype)) = valid(relaxed_draws(ctx, &l, tau), "relaxed_sample")? else {
            o.fails
                .push(format!("l = {l:?}, τ = {tau}: valid input rejected"));
            continue;
        };
        let mut data = Vec::with_capacity(y.len() / k);
        let mut deltas = Vec::new();
        let mut left_out = 0;
        for row in y.chunks_exact(k) {
            let (a, b) = (row[i], row[j]);
            if a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() {
                data.push(a.ln() - b.ln());
                if dtype.is_half() {
                    deltas.push(log_ratio_delta(dtype, a, b));
                }
            } else {
                left_out += 1;
            }
        }
        if left_out > 0 {
            o.warns.push(format!(
                "τ = {tau}, (y_{i}, y_{j}): {left_out} rows left out (an entry 0 or not finite)"
            ));
        }
        if data.is_empty() {
            o.fails.push(format!("τ = {tau}: no usable row"));
            continue;
        }
        o.n += data.len() as u64;
        let loc = (l[i] - l[j]) / tau;
        let r = if dtype.is_half() {
            let pts: Vec<(f64, f64)> = data.iter().copied().zip(deltas).collect();
            let band = ks_band(&pts, |x| sigmoid((x - loc) * tau)).map_err(internal)?;
            o.notes.push(format!(
                "τ = {tau}, (y_{i}, y_{j}): {}",
                band_note(dtype, &band)
            ));
            KsSummary {
                statistic: band.statistic,
                p_value: band.p_value,
            }
        } else {
            let r = ks_one_sample(&data, |x| sigmoid((x - loc) * tau)).map_err(internal)?;
            KsSummary {
                statistic: r.statistic,
                p_value: r.p_value,
            }
        };
        ps.push(r.p_value);
        o.notes.push(format!(
            "τ = {tau}, ln(y_{i}/y_{j}){}: D = {:.5}, p = {}",
            if l[1] == f64::NEG_INFINITY {
                " (masked)"
            } else {
                ""
            },
            r.statistic,
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            worst = Some((
                r.p_value,
                Figure::Qq {
                    title: format!(
                        "ln(y_{i}/y_{j}) at l = {l:?}, τ = {tau}: observed vs logistic quantiles"
                    ),
                    points: qq_points(&data, |p| loc + (p / (1.0 - p)).ln() / tau),
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Dkwm {
            n: ctx.plan.relaxed_n as u64,
            parts: 5,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// `relaxed.vs_reference`: the target's samples at logits (1, 0, -1), τ = 0.5 against as many
/// reference samples, two-sample KS on five projections (`y_0`, `y_1`, `y_2`, `max_i y_i`,
/// `y_0 - y_2`), Bonferroni over 5. A multivariate comparison through projections: it detects
/// a CDF difference ≈ 0.028 in any of them at standard (n = 10⁵ per side).
///
/// Why not the energy test: its permutation p-value cannot go below `1/(B+1)`, and Holm at
/// `α = 1e-3` over ~20 checks needs p below `5e-5`, i.e. `B ≥ 2·10⁴` permutations of an
/// `O(m²)` statistic, too slow for CI; the projections have exact or asymptotic p-values at
/// any n.
pub(crate) fn relaxed_vs_reference(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let (l, tau) = (RELAXED_LOGITS.to_vec(), 0.5);
    let mut o = Outcome::new(
        "two-sample KS vs reference samples on y_0, y_1, y_2, max y, y_0 - y_2; Bonferroni over 5",
    );
    let (y, dtype) = match valid(relaxed_draws(ctx, &l, tau), "relaxed_sample")? {
        Ok(v) => v,
        Err(msg) => {
            o.fails.push(msg);
            return Ok(o);
        }
    };
    let seed = ctx.next_seed();
    let n = ctx.plan.relaxed_n;
    let mut r = ReferenceTarget::new()
        .relaxed_sample(&l, tau, false, n, seed)?
        .to_f64();
    if dtype.is_half() {
        // Half precision: the reference rows rounded entry by entry to the dtype, the law of
        // a correctly rounded implementation; ties in both samples only make KS conservative.
        r = rounded(dtype, &r);
        o.notes.push(format!(
            "reference rows rounded to {} before projecting",
            dtype.as_str()
        ));
    }
    let project = |rows: &[f64], which: usize| -> Vec<f64> {
        rows.chunks_exact(3)
            .filter(|r| r.iter().all(|v| v.is_finite()))
            .map(|r| match which {
                0..=2 => r[which],
                3 => r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                _ => r[0] - r[2],
            })
            .collect()
    };
    let names = ["y_0", "y_1", "y_2", "max y", "y_0 - y_2"];
    let mut ps = Vec::new();
    for (w, name) in names.iter().enumerate() {
        let a = project(&y, w);
        let b = project(&r, w);
        if a.is_empty() {
            o.fails.push("no finite row".into());
            break;
        }
        let t = ks_two_sample(&a, &b).map_err(internal)?;
        ps.push(t.p_value);
        o.notes.push(format!(
            "{name}: D = {:.5}, p = {}",
            t.statistic,
            fmt_p(t.p_value)
        ));
    }
    o.n = (y.len() / 3) as u64;
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Dkwm2 {
            n: n as u64,
            parts: 5,
        });
    }
    Ok(o)
}

/// `relaxed.hard`: hard samples (`hard: true`) at logits (1, 0, -1), τ = 0.5 and 2: every row
/// exactly one-hot (exact), and the hot category's frequencies against π (the argmax of a
/// Concrete sample follows π at every τ), χ², Bonferroni over 2. Detects w ≈ 0.024 at standard.
///
/// The soft sample behind a hard row is not visible, so "hard = one-hot of the sample's
/// argmax" is checked through its consequences: one-hot rows and argmax frequencies
/// (`relaxed.hard_matches_soft` adds the row-wise comparison when the implementation makes
/// the same noise for both modes).
pub(crate) fn relaxed_hard(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o =
        Outcome::new("exact: one-hot rows; Pearson χ² of the hot category vs π, Bonferroni over 2");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    let l = RELAXED_LOGITS.to_vec();
    let n = ctx.plan.relaxed_n;
    for tau in [0.5, 2.0] {
        let seed = ctx.next_seed();
        let a = match valid(ctx.target.relaxed_sample(&l, tau, true, n, seed), "hard")? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let y = floats(&a, &[n, 3], "relaxed_sample (hard)")?;
        let mut counts = [0u64; 3];
        let mut not_one_hot = 0;
        for row in y.chunks_exact(3) {
            let ones = row.iter().filter(|&&v| v == 1.0).count();
            let zeros = row.iter().filter(|&&v| v == 0.0).count();
            if ones == 1 && zeros == 2 {
                counts[row.iter().position(|&v| v == 1.0).unwrap_or(0)] += 1;
            } else {
                not_one_hot += 1;
            }
        }
        o.n += n as u64;
        if not_one_hot > 0 {
            o.fails
                .push(format!("τ = {tau}: {not_one_hot} rows not exactly one-hot"));
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            continue;
        }
        let probs = Logits::from_slice(&l).map_err(internal)?.probs();
        let r = pearson_chi2(&counts, &probs).map_err(internal)?;
        ps.push(r.p_value);
        o.notes.push(format!(
            "τ = {tau}: counts {counts:?}, p = {}",
            fmt_p(r.p_value)
        ));
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) {
            let nf = total as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("hard samples, l = {l:?}, τ = {tau}"),
                    observed: counts.iter().map(|&c| c as f64 / nf).collect(),
                    expected: probs,
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 2,
            n: n as u64,
            parts: 2,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// `relaxed.hard_matches_soft` (exact, note-level): soft and hard samples requested with the
/// same seed (1000 rows, logits (1, 0, -1), τ = 0.5). If every hard row is the one-hot of the
/// soft row's argmax: `pass`. Otherwise `warn`: the implementation may draw its noise
/// differently in the two modes, which the protocol allows, so row-wise agreement cannot be
/// required; `relaxed.hard` judges the hard mode's law.
pub(crate) fn relaxed_hard_matches_soft(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let (l, tau, n) = (RELAXED_LOGITS.to_vec(), 0.5, 1000);
    let seed = ctx.next_seed();
    let mut o =
        Outcome::new("exact (warn only): hard row = onehot(argmax soft row) under the same seed");
    o.n = n as u64;
    let soft = valid(ctx.target.relaxed_sample(&l, tau, false, n, seed), "soft")?;
    let hard = valid(ctx.target.relaxed_sample(&l, tau, true, n, seed), "hard")?;
    let (soft, hard) = match (soft, hard) {
        (Ok(s), Ok(h)) => (s, h),
        (Err(m), _) | (_, Err(m)) => {
            o.fails.push(m);
            return Ok(o);
        }
    };
    let s = floats(&soft, &[n, 3], "relaxed_sample")?;
    let h = floats(&hard, &[n, 3], "relaxed_sample (hard)")?;
    let differ = s
        .chunks_exact(3)
        .zip(h.chunks_exact(3))
        .filter(|(s, h)| {
            let d = argmax_finite(s);
            (0..3).any(|i| h[i] != if Some(i) == d { 1.0 } else { 0.0 })
        })
        .count();
    if differ == 0 {
        o.notes.push(format!(
            "all {n} hard rows are the one-hot of the same-seed soft argmax"
        ));
    } else {
        o.warns.push(format!(
            "{differ} of {n} hard rows differ from the one-hot of the same-seed soft argmax \
             (different noise per mode cannot be told from a bug here; see relaxed.hard)"
        ));
    }
    Ok(o)
}

/// Soft relaxed samples for a case, shared by the relaxed checks and `log_prob.own_samples`
/// (stream `"relaxed <logits> <τ>"`), and the precision they are judged at.
pub(crate) fn relaxed_draws(
    ctx: &mut Ctx,
    logits: &[f64],
    tau: f64,
) -> Result<(Vec<f64>, Dtype), TargetError> {
    let n = ctx.plan.relaxed_n;
    let declared = ctx.dtype();
    let key = format!("relaxed {logits:?} {tau}");
    let a = ctx.cached(Shared::Relaxed, &key, |t, seed| {
        t.relaxed_sample(logits, tau, false, n, seed)
    })?;
    let dtype = precision(declared, a);
    Ok((floats(a, &[n, logits.len()], "relaxed_sample")?, dtype))
}

/// `relaxed.hard_rare`: hard relaxed rows (straight-through forward value, τ = 1) of the
/// logits `(0, -d)`, d = 12, 15, 16, 17, `hard_rare_n` rows each (10⁷ at deep, 2.5·10⁵ at
/// standard); the rows hot at category 1 against Binomial(n, p₁), `p₁ = e^-d/(1 + e^-d)`, exact
/// two-sided, Bonferroni over 4 (the same parts and finite-precision diagnosis as
/// `categorical.rare`). At deep d = 12 expects 61 rows, where a sampler with 23-bit uniforms
/// draws 1 % fewer; the rarer cases see only a gross deficit or excess at this n (a certain fail
/// of the 23-bit model needs about 1.2·10⁹ rows at d = 17: `--samples`). A row that is not
/// one-hot is a fail.
///
/// Chunked: one case per d (chunks of ⌊chunk_n/2⌋ rows), counts `[hot at 1, not one-hot]`.
pub(crate) const RELAXED_HARD_RARE: ChunkedCheck = ChunkedCheck {
    cases: hard_rare_cases,
    reduce: hard_rare_reduce,
    decide: hard_rare_decide,
};

fn hard_rare_cases(plan: &Plan, _: &Capabilities) -> Vec<Case> {
    RARE_D
        .iter()
        .map(|&d| {
            Case::new(
                format!("d={d}"),
                Request::Relaxed {
                    logits: vec![0.0, -d],
                    tau: 1.0,
                    hard: true,
                },
                plan.hard_rare_n,
                vec![d],
            )
        })
        .collect()
}

/// One chunk → `[rows hot at category 1, rows not one-hot]`.
fn hard_rare_reduce(case: &Case, a: &Array, n: u64) -> Result<Tally, TargetError> {
    let y = case.request.floats(a, n as usize)?;
    let mut t = Tally::zeros(2, 0);
    for row in y.chunks_exact(2) {
        match (row[0], row[1]) {
            (a, b) if a == 1.0 && b == 0.0 => {}
            (a, b) if a == 0.0 && b == 1.0 => t.counts[0] += 1,
            _ => t.counts[1] += 1,
        }
    }
    Ok(t)
}

fn hard_rare_decide(
    _: &Plan,
    _: &Capabilities,
    cases: &[Case],
    tallies: &[Tally],
) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new(
        "exact two-sided binomial test of #(rows hot at 1) per (0, -d), Bonferroni over 4",
    );
    rare_parts(&mut o, cases, tallies, "rows not one-hot")?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::options::Level;
    use crate::audit::target::Dtype;

    #[test]
    fn hard_rare_tallies_merge_to_the_tally_of_the_whole() {
        let caps = Capabilities::new("t", Dtype::Float64, vec![], vec![]);
        let case = &hard_rare_cases(&Level::Standard.plan(), &caps)[0];
        let rows = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.0, 1.0, 1.0, 0.0];
        let whole = hard_rare_reduce(
            case,
            &Array::from_f64_matrix(5, 2, rows.to_vec()).unwrap(),
            5,
        )
        .unwrap();
        let mut parts = hard_rare_reduce(
            case,
            &Array::from_f64_matrix(2, 2, rows[..4].to_vec()).unwrap(),
            2,
        )
        .unwrap();
        parts
            .merge(
                &hard_rare_reduce(
                    case,
                    &Array::from_f64_matrix(3, 2, rows[4..].to_vec()).unwrap(),
                    3,
                )
                .unwrap(),
            )
            .unwrap();
        assert_eq!(whole, parts);
        assert_eq!(whole.counts, vec![2, 1]);
    }
}
