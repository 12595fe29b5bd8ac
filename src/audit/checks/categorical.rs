//! Checks of the categorical op: valid indices, frequencies against `π` (Pearson χ²) for five
//! logit vectors, and rare categories (p ≈ 6e-6 … 4e-8, and the frequency bands of a
//! k = 50,000 vocabulary) with exact binomial tests. Notation and error control:
//! `audit::checks`; the finite-precision model that names a cause: `checks::ceilings`.

use crate::audit::checks::bands::{BANDS, Vocabulary, band_of};
use crate::audit::checks::ceilings::{Grid, consistent_grid};
use crate::audit::checks::common::{fmt_p, integers, internal, valid};
use crate::audit::chunked::{Case, ChunkedCheck, Request, Tally};
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::result::Figure;
use crate::audit::target::TargetError;
use crate::audit::target::{Array, Capabilities};
use crate::distributions::Logits;
use crate::stats::pearson_chi2;
use crate::stats::{Alternative, binomial_test};

/// The logit vectors of the categorical checks: uniform, skewed, a rare category at exactly
/// p = 1e-4, masked categories, and k = 100.
pub fn categorical_cases() -> Vec<(&'static str, Vec<f64>)> {
    let rare = (1e-4f64 / (1.0 - 1e-4) * 2.0).ln();
    vec![
        ("uniform k=5", vec![0.0; 5]),
        ("skewed k=5", vec![2.0, 1.0, 0.0, -1.0, -3.0]),
        ("rare p=1e-4", vec![0.0, 0.0, rare]),
        (
            "masked",
            vec![0.5, f64::NEG_INFINITY, -0.5, f64::NEG_INFINITY],
        ),
        ("k=100", (0..100).map(|i| (i as f64 * 0.37).sin()).collect()),
    ]
}

/// Draws per case: `categorical_n`, a tenth of it for k = 100 (still ≥ 200 expected per cell at
/// standard).
fn categorical_n(plan: Plan, l: &[f64]) -> usize {
    if l.len() > 20 {
        plan.categorical_n / 10
    } else {
        plan.categorical_n
    }
}

/// The draws of every case, shared by `categorical.indices` and `categorical.chi2` (stream
/// `"categorical <case>"`); a rejected case is `Err` with the message.
fn categorical_draws(ctx: &mut Ctx) -> Result<Vec<Result<Vec<i64>, String>>, TargetError> {
    let mut out = Vec::new();
    for (name, l) in categorical_cases() {
        let n = categorical_n(ctx.plan, &l);
        let key = format!("categorical {name}");
        let drawn = ctx.cached(Shared::Categorical, &key, |t, seed| {
            t.categorical(&l, n, seed)
        });
        match valid(drawn, name)? {
            Ok(a) => out.push(Ok(integers(a, n, "categorical")?)),
            Err(msg) => out.push(Err(msg)),
        }
    }
    Ok(out)
}

/// `categorical.indices` (exact): integer dtype, every index in `0..k`, none in a masked
/// category; valid logits are not rejected.
pub(crate) fn categorical_indices(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let draws = categorical_draws(ctx)?;
    let mut o = Outcome::new("exact: 0 ≤ index < k, probability of the index > 0");
    for ((name, l), d) in categorical_cases().into_iter().zip(draws) {
        match d {
            Err(msg) => o.fails.push(msg),
            Ok(d) => {
                o.n += d.len() as u64;
                let out = d
                    .iter()
                    .filter(|&&i| i < 0 || i as usize >= l.len())
                    .count();
                let masked = d
                    .iter()
                    .filter(|&&i| i >= 0 && (i as usize) < l.len())
                    .filter(|&&i| l[i as usize] == f64::NEG_INFINITY)
                    .count();
                if out > 0 {
                    o.fails
                        .push(format!("{name}: {out} indices outside 0..{}", l.len()));
                }
                if masked > 0 {
                    o.fails
                        .push(format!("{name}: {masked} draws of a masked category"));
                }
            }
        }
    }
    Ok(o)
}

/// `categorical.chi2`: Pearson chi-squared of the counts against `π` for the five
/// [`categorical_cases`] (`categorical_n` draws each, 10⁶ at standard; a tenth for k = 100), pooling cells with
/// expectation below 5, Bonferroni over the five. The rare cell (p = 1e-4) expects 100 draws
/// at standard; a draw in a masked cell gives p = 0. Detects Cohen's w ≈ 0.0082 (df = 4) at
/// standard.
pub(crate) fn categorical_chi2(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let draws = categorical_draws(ctx)?;
    let mut o = Outcome::new("Pearson χ² vs π per logit vector, Bonferroni over 5");
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    for ((name, l), d) in categorical_cases().into_iter().zip(draws) {
        let Ok(d) = d else {
            o.fails.push(format!("{name}: valid logits rejected"));
            continue;
        };
        let k = l.len();
        let mut counts = vec![0u64; k];
        for &i in &d {
            if i >= 0 && (i as usize) < k {
                counts[i as usize] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            o.fails.push(format!("{name}: no index in range"));
            continue;
        }
        o.n += total;
        let probs = Logits::from_slice(&l).map_err(internal)?.probs();
        let r = pearson_chi2(&counts, &probs).map_err(internal)?;
        ps.push(r.p_value);
        let mut line = format!(
            "{name}: X² = {:.2}, df = {}, p = {}",
            r.statistic,
            r.df,
            fmt_p(r.p_value)
        );
        if let Some(c) = &r.largest_residual {
            line += &format!(
                "; largest residual category {} observed {} expected {:.1}",
                c.index, c.observed, c.expected
            );
        }
        o.notes.push(line);
        if worst.as_ref().is_none_or(|(p, _)| r.p_value < *p) && k <= 20 {
            let nf = total as f64;
            worst = Some((
                r.p_value,
                Figure::Frequencies {
                    title: format!("categorical {name}: observed vs expected frequencies"),
                    observed: counts.iter().map(|&c| c as f64 / nf).collect(),
                    expected: probs,
                },
            ));
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 4,
            n: ctx.plan.categorical_n as u64,
            parts: 5,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// The log-odds d of the two-category cases `(0, -d)` of `categorical.rare`.
pub(crate) const RARE_D: [f64; 4] = [12.0, 15.0, 16.0, 17.0];

/// A part's p-value below which the detail looks for a finite-precision model that fits
/// (descriptive only).
const CAUSE_P: f64 = 0.01;

/// `categorical.rare`: logits `(0, -d)`, d = 12, 15, 16, 17 (p₁ = 6.1e-6, 3.1e-7, 1.1e-7,
/// 4.1e-8), `rare_n` draws each (1.5·10⁸ at deep, 10⁶ at standard); the count of category 1
/// against Binomial(n, p₁), exact two-sided, Bonferroni over the 4 cases. A sampler whose
/// uniforms have 23 bits draws category 1 at `p₁ ρ(c)`, `c = e^d 2^-23` (deficit 1 %, 18 %,
/// 44 %, 83 %); at deep that is 6.2 expected against 1.05 at d = 17 and 16.9 against 9.5 at
/// d = 16: the level screens, it does not make that fail certain. A certain fail (power 0.999
/// at α_i/4 ≈ 8e-6) needs about 1.2·10⁹ draws at d = 17 (49.7 expected against 8.5:
/// `--samples categorical.rare=1.2e9`); the deep level's time budget leaves that to an
/// explicit budget. When a case is off (p < 0.01) and its count fits such a grid, the detail says so
/// ("consistent with float32 uniforms with 23 bits: expected X under that model"). Indices
/// outside {0, 1} are a fail.
///
/// Chunked: one case per d (stream "categorical.rare d=…", chunks of ⌊chunk_n/2⌋ draws),
/// counts `[category 1, outside 0..2]`.
pub(crate) const CATEGORICAL_RARE: ChunkedCheck = ChunkedCheck {
    cases: rare_cases,
    reduce: rare_reduce,
    decide: rare_decide,
};

fn rare_cases(plan: &Plan, _: &Capabilities) -> Vec<Case> {
    RARE_D
        .iter()
        .map(|&d| {
            Case::new(
                format!("d={d}"),
                Request::Categorical {
                    logits: vec![0.0, -d],
                },
                plan.rare_n,
                vec![d],
            )
        })
        .collect()
}

/// One chunk → `[draws of category 1, indices outside 0..2]`.
fn rare_reduce(case: &Case, a: &Array, n: u64) -> Result<Tally, TargetError> {
    let d = case.request.indices(a, n as usize)?;
    let mut t = Tally::zeros(2, 0);
    for &i in &d {
        match i {
            0 => {}
            1 => t.counts[0] += 1,
            _ => t.counts[1] += 1,
        }
    }
    Ok(t)
}

/// p₁ of `(0, -d)`: `e^-d / (1 + e^-d)`.
pub(crate) fn rare_p(d: f64) -> f64 {
    (-d).exp() / (1.0 + (-d).exp())
}

fn rare_decide(
    _: &Plan,
    _: &Capabilities,
    cases: &[Case],
    tallies: &[Tally],
) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new(
        "exact two-sided binomial test of #(category 1) per (0, -d), Bonferroni over 4",
    );
    rare_parts(&mut o, cases, tallies, "indices outside 0..2")?;
    Ok(o)
}

/// The `(0, -d)` cases of `categorical.rare` and `relaxed.hard_rare`: each case's count of
/// category 1 (`counts[0]`) against `rare_p(d)` with the b-bit uniform model, judged by
/// [`judge_parts`]; a positive `counts[1]` (draws that are not a category of the two) is a
/// fail, described as `bad` ("indices outside 0..2", "rows not one-hot").
pub(crate) fn rare_parts(
    o: &mut Outcome,
    cases: &[Case],
    tallies: &[Tally],
    bad: &str,
) -> Result<(), TargetError> {
    let mut parts = Vec::new();
    for (case, t) in cases.iter().zip(tallies) {
        let p = rare_p(case.params[0]);
        parts.push(Part {
            label: case.label.clone(),
            count: t.counts[0],
            n: case.n,
            q: p,
            model: Box::new(move |g: Grid| g.win_probability(p)),
        });
        if t.counts[1] > 0 {
            o.fails
                .push(format!("{}: {} {bad}", case.label, t.counts[1]));
        }
        o.n += case.n;
    }
    judge_parts(o, &parts)
}

/// One binomial part of a rare-category check: `count` of `n` against probability `q`;
/// `model(grid)` is the part's probability under a sampler with that uniform grid.
pub(crate) struct Part {
    pub(crate) label: String,
    pub(crate) count: u64,
    pub(crate) n: u64,
    pub(crate) q: f64,
    pub(crate) model: Box<dyn Fn(Grid) -> f64>,
}

/// The parts' exact two-sided binomial tests, Bonferroni-combined into `o`, with a note per part
/// (and the finite-precision model that fits a part that is off).
pub(crate) fn judge_parts(o: &mut Outcome, parts: &[Part]) -> Result<(), TargetError> {
    let mut ps = Vec::new();
    for part in parts {
        let r =
            binomial_test(part.count, part.n, part.q, Alternative::TwoSided).map_err(internal)?;
        ps.push(r.p_value);
        let mut line = format!(
            "{}: {} of {} (expected {:.1}, p = {})",
            part.label,
            part.count,
            part.n,
            part.n as f64 * part.q,
            fmt_p(r.p_value)
        );
        if let Some((g, e)) = consistent_grid(part.count, part.n, r.p_value, CAUSE_P, |g| {
            part.n as f64 * (part.model)(g)
        }) {
            line += &format!(
                "; consistent with a {}: expected {e:.1} under that model",
                g.name
            );
        }
        o.notes.push(line);
    }
    o.combine(&ps);
    let rarest = parts
        .iter()
        .min_by(|a, b| (a.n as f64 * a.q).total_cmp(&(b.n as f64 * b.q)));
    if let Some(r) = rarest {
        o.power = Some(Power::Rare {
            n: r.n,
            q: r.q,
            parts: parts.len(),
        });
    }
    Ok(())
}

/// `categorical.bands`: `bands_n` draws (10⁵ at deep, 2,000 at standard) from the k = 50,000
/// vocabulary of `checks::bands` (Zipf head, 30,000 tail categories at p = 1e-7); the count in
/// each of its 6 probability bands against Binomial(n, band mass), exact two-sided, Bonferroni
/// over 6. The tail band holds 0.3 % of the mass: 300 expected at deep, where a sampler with
/// 23-bit uniforms draws about 155 (the detail then names that model). Indices outside 0..k are
/// a fail.
///
/// Chunked: one case (chunks of ⌊chunk_n/k⌋ = 20 draws at chunk_n = 10⁶: a sampler may hold
/// n × k noise values), parameters the band starts, counts `[band 0 .. band 5, outside 0..k]`.
pub(crate) const CATEGORICAL_BANDS: ChunkedCheck = ChunkedCheck {
    cases: bands_cases,
    reduce: bands_reduce,
    decide: bands_decide,
};

fn bands_cases(plan: &Plan, _: &Capabilities) -> Vec<Case> {
    let v = Vocabulary::new();
    let params = v.starts.iter().map(|&s| s as f64).collect();
    vec![Case::new(
        "",
        Request::Categorical { logits: v.logits },
        plan.bands_n,
        params,
    )]
}

/// One chunk → `[draws per band, indices outside 0..k]`.
fn bands_reduce(case: &Case, a: &Array, n: u64) -> Result<Tally, TargetError> {
    let k = case.request.width();
    let d = case.request.indices(a, n as usize)?;
    let mut t = Tally::zeros(BANDS + 1, 0);
    for &i in &d {
        t.counts[band_of(&case.params, k, i).unwrap_or(BANDS)] += 1;
    }
    Ok(t)
}

fn bands_decide(
    _: &Plan,
    _: &Capabilities,
    cases: &[Case],
    tallies: &[Tally],
) -> Result<Outcome, TargetError> {
    let (case, t) = (&cases[0], &tallies[0]);
    let v = std::rc::Rc::new(Vocabulary::new());
    let mut o = Outcome::new(
        "exact two-sided binomial test of the draws per probability band of a k = 50,000 \
         vocabulary, Bonferroni over 6",
    );
    o.n = case.n;
    let parts: Vec<Part> = (0..BANDS)
        .map(|j| {
            let r = v.range(j);
            let v = std::rc::Rc::clone(&v);
            let (hi, lo) = (v.probs[r.start], v.probs[r.end - 1]);
            Part {
                label: format!("band {j} (p {lo:.1e} … {hi:.1e}, {} categories)", r.len()),
                count: t.counts[j],
                n: case.n,
                q: v.mass(j),
                model: Box::new(move |g: Grid| {
                    v.probs[r.clone()]
                        .iter()
                        .map(|&p| g.win_probability(p))
                        .sum()
                }),
            }
        })
        .collect();
    if t.counts[BANDS] > 0 {
        o.fails.push(format!(
            "{} indices outside 0..{}",
            t.counts[BANDS],
            v.probs.len()
        ));
    }
    judge_parts(&mut o, &parts)?;
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

    fn reduce_split(
        reduce: crate::audit::chunked::ReduceFn,
        case: &Case,
        d: &[i64],
        at: usize,
    ) -> (Tally, Tally) {
        let whole = reduce(case, &Array::from_i64(d.to_vec()), d.len() as u64).unwrap();
        let mut parts = reduce(case, &Array::from_i64(d[..at].to_vec()), at as u64).unwrap();
        let rest = reduce(
            case,
            &Array::from_i64(d[at..].to_vec()),
            (d.len() - at) as u64,
        )
        .unwrap();
        parts.merge(&rest).unwrap();
        (whole, parts)
    }

    #[test]
    fn rare_and_band_tallies_merge_to_the_tally_of_the_whole() {
        let plan = Level::Standard.plan();
        let rare = &rare_cases(&plan, &caps())[3];
        let (whole, parts) = reduce_split(rare_reduce, rare, &[0, 1, 0, 2, 1, -1, 0], 3);
        assert_eq!(whole, parts);
        assert_eq!(whole.counts, vec![2, 2]);
        let bands = &bands_cases(&plan, &caps())[0];
        let d = [0, 8, 9, 94, 95, 20_000, 49_999, 50_000, 12_000];
        let (whole, parts) = reduce_split(bands_reduce, bands, &d, 4);
        assert_eq!(whole, parts);
        assert_eq!(whole.counts, vec![2, 2, 1, 0, 1, 2, 1]);
    }

    /// The 23-bit model's counts at 1.2·10⁹ draws per case: the rare check fails and names the
    /// model; the exact law's expected counts pass.
    #[test]
    fn a_23_bit_deficit_fails_and_is_named() {
        let plan = Level::Deep.plan();
        let mut cases = rare_cases(&plan, &caps());
        for c in &mut cases {
            c.n = 1_200_000_000;
        }
        let g23 = crate::audit::checks::ceilings::GRIDS[3];
        assert_eq!(g23.bits, 23);
        let tallies_of = |f: &dyn Fn(f64) -> f64| -> Vec<Tally> {
            cases
                .iter()
                .map(|c| Tally {
                    counts: vec![(c.n as f64 * f(rare_p(c.params[0]))).round() as u64, 0],
                    min: vec![],
                    max: vec![],
                })
                .collect()
        };
        let o = rare_decide(
            &plan,
            &caps(),
            &cases,
            &tallies_of(&|p| g23.win_probability(p)),
        )
        .unwrap();
        assert!(o.p_value.unwrap() < 1e-6, "{:?}", o.p_value);
        let text = o.notes.join(" ");
        assert!(
            text.contains("consistent with a float32 uniform with 23 bits"),
            "{text}"
        );
        let o = rare_decide(&plan, &caps(), &cases, &tallies_of(&|p| p)).unwrap();
        assert!(o.p_value.unwrap() > 0.5);
        // bands: the tail band at 155 of 10⁵ instead of 300
        let bands = bands_cases(&plan, &caps());
        let v = Vocabulary::new();
        let mut counts: Vec<u64> = (0..BANDS)
            .map(|j| (bands[0].n as f64 * v.mass(j)).round() as u64)
            .collect();
        counts[BANDS - 1] = 155;
        counts.push(0);
        let t = Tally {
            counts,
            min: vec![],
            max: vec![],
        };
        let o = bands_decide(&plan, &caps(), &bands, &[t]).unwrap();
        assert!(o.p_value.unwrap() < 1e-10, "{:?}", o.p_value);
        assert!(o.notes.join(" ").contains("23 bits"), "{:?}", o.notes);
    }
}
