//! Checks of the categorical op: valid indices, and frequencies against `π` (Pearson χ²) for
//! five logit vectors. Notation and error control: `audit::checks`.

use crate::audit::checks::common::{fmt_p, integers, internal, valid};
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::result::Figure;
use crate::audit::target::TargetError;
use crate::distributions::Logits;
use crate::stats::pearson_chi2;

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
