//! Checks of the gradient estimators: REINFORCE against the exact gradient, the relaxed
//! estimators against k = 2 quadrature truths and the reference's rows, and every estimator's
//! variance. Notation and error control: `audit::checks`; tolerances: `audit::tolerance`.

use crate::audit::checks::common::{floats, fmt_p, internal, valid};
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::reference::ReferenceTarget;
use crate::audit::target::{Dtype, GradRequest, ObjectiveSpec, Target, TargetError};
use crate::audit::tolerance;
use crate::distributions::Logits;
use crate::error::Error;
use crate::grad::Objective;
use crate::grad::truth::TwoCategory;
use crate::stats::{Coordinates, chi2_sf, hotelling_one_sample, hotelling_two_sample};

/// The k = 3 gradient setting.
const GRAD_LOGITS: [f64; 3] = [0.5, -0.3, 0.1];
const GRAD_TARGET: [f64; 3] = [0.2, 0.5, 0.3];
/// The k = 2 setting (quadrature truth): `f(z) = Σ (z_i - t_i)²`.
const K2_LOGITS: [f64; 2] = [0.25, -0.25];
const K2_TARGET: [f64; 2] = [0.45, 0.55];
/// Temperature of the k = 2 variance comparison and of most relaxed gradient cases.
const GRAD_TAU: f64 = 0.5;
/// Conditional draws of Gumbel-Rao.
pub(crate) const GR_DRAWS: usize = 4;

/// `grad_n` rows of `estimator` on the quadratic objective with target `target`.
///
/// The k = 2 rows at the estimator's variance temperature ([`k2_tau`]) are a shared request
/// (stream `"grad <estimator> <logits> <τ>"`): the estimator's own check and `grad.variance`
/// read the same rows, whichever runs first. Every other request is the running check's own
/// chunk; `reference` rows come from [`ReferenceTarget`] with the check's own seed.
fn grad_rows(
    ctx: &mut Ctx,
    estimator: &str,
    logits: &[f64],
    target: &[f64],
    tau: f64,
    reference: bool,
) -> Result<Result<Vec<f64>, String>, TargetError> {
    let n = ctx.plan.grad_n;
    let request = |seed: u64| {
        let mut req = GradRequest::new(
            estimator,
            logits.to_vec(),
            tau,
            ObjectiveSpec::Quadratic(target.to_vec()),
            n,
            seed,
        );
        if estimator == "gumbel_rao" {
            req.m = Some(GR_DRAWS);
        }
        req
    };
    let shared = !reference && logits == K2_LOGITS && tau == k2_tau(estimator);
    let r = if shared {
        let key = format!("grad {estimator} {logits:?} {tau}");
        ctx.cached(Shared::GradK2, &key, |t, seed| t.grad(&request(seed)))
            .cloned()
    } else {
        let seed = ctx.next_seed();
        if reference {
            ReferenceTarget::new().grad(&request(seed))
        } else {
            ctx.target.grad(&request(seed))
        }
    };
    match valid(r, estimator)? {
        Ok(a) => Ok(Ok(floats(&a, &[n, logits.len()], "grad")?)),
        Err(m) => Ok(Err(m)),
    }
}

/// The estimators `grad.variance` compares, in order.
const ESTIMATORS: [&str; 4] = [
    "reinforce",
    "gumbel_softmax",
    "straight_through",
    "gumbel_rao",
];

/// The temperature of an estimator's k = 2 rows that `grad.variance` reads: REINFORCE ignores
/// τ (its check sends 1), the relaxed estimators use [`GRAD_TAU`].
fn k2_tau(estimator: &str) -> f64 {
    if estimator == "reinforce" {
        1.0
    } else {
        GRAD_TAU
    }
}

/// Exact criterion on rows: finite, summing to zero within `64 ε (1 + Σ|row|)`.
fn check_rows(o: &mut Outcome, case: &str, rows: &[f64], k: usize, dtype: Dtype) -> Vec<Vec<f64>> {
    let mut good = Vec::new();
    let (mut nonfinite, mut sums) = (0, 0);
    for row in rows.chunks_exact(k) {
        if row.iter().any(|v| !v.is_finite()) {
            nonfinite += 1;
            continue;
        }
        let s: f64 = row.iter().sum();
        let scale: f64 = row.iter().map(|v| v.abs()).sum();
        if s.abs() > tolerance::grad_row_sum(dtype, scale) {
            sums += 1;
        }
        good.push(row.to_vec());
    }
    if nonfinite > 0 {
        o.fails.push(format!("{case}: {nonfinite} rows not finite"));
    }
    if sums > 0 {
        o.fails.push(format!(
            "{case}: {sums} rows do not sum to 0 (shift invariance)"
        ));
    }
    good
}

fn hotelling_vs(
    o: &mut Outcome,
    case: &str,
    rows: &[Vec<f64>],
    mu: &[f64],
) -> Result<Option<f64>, TargetError> {
    if rows.len() < mu.len() + 1 {
        o.fails.push(format!("{case}: too few finite rows"));
        return Ok(None);
    }
    match hotelling_one_sample(rows, mu, Coordinates::DropLast) {
        Ok(r) => {
            let mean: Vec<String> = r
                .mean_difference
                .iter()
                .map(|d| format!("{d:+.5}"))
                .collect();
            o.notes.push(format!(
                "{case}: mean - truth = [{}], p = {}",
                mean.join(", "),
                fmt_p(r.p_value)
            ));
            Ok(Some(r.p_value))
        }
        Err(Error::SingularCovariance { .. }) => {
            // No spread: the rows are (almost) constant; compare the mean exactly.
            let k = mu.len();
            let mean: Vec<f64> = (0..k)
                .map(|i| rows.iter().map(|r| r[i]).sum::<f64>() / rows.len() as f64)
                .collect();
            let off = mean
                .iter()
                .zip(mu)
                .any(|(a, b)| (a - b).abs() > tolerance::CONSTANT_MEAN_REL.value * (1.0 + b.abs()));
            if off {
                o.fails.push(format!(
                    "{case}: constant rows with mean {mean:?}, truth {mu:?}"
                ));
            }
            Ok(None)
        }
        Err(e) => Err(internal(e)),
    }
}

fn hotelling_vs_reference(
    o: &mut Outcome,
    case: &str,
    rows: &[Vec<f64>],
    reference: &[f64],
    k: usize,
) -> Result<Option<f64>, TargetError> {
    let refs: Vec<Vec<f64>> = reference.chunks_exact(k).map(|r| r.to_vec()).collect();
    if rows.len() < k + 1 {
        o.fails.push(format!("{case}: too few finite rows"));
        return Ok(None);
    }
    let r = hotelling_two_sample(rows, &refs, Coordinates::DropLast).map_err(internal)?;
    let mean: Vec<String> = r
        .mean_difference
        .iter()
        .map(|d| format!("{d:+.5}"))
        .collect();
    o.notes.push(format!(
        "{case}: mean - reference mean = [{}], p = {}",
        mean.join(", "),
        fmt_p(r.p_value)
    ));
    Ok(Some(r.p_value))
}

fn k2_truth() -> Result<(Logits, Objective), TargetError> {
    Ok((
        Logits::from_slice(&K2_LOGITS).map_err(internal)?,
        Objective::quadratic(K2_TARGET.to_vec()).map_err(internal)?,
    ))
}

/// `grad.reinforce`: `grad_n` rows (2·10⁴ at standard) of `reinforce` at k = 3 (logits
/// (0.5, -0.3, 0.1), `f(z) = Σ(z_i - t_i)²`) and at the k = 2 setting, each against the exact
/// gradient `π_j (f(e_j) - L)` by one-sample Hotelling T² (last coordinate dropped: rows sum
/// to 0), Bonferroni over 2; (exact) rows finite and summing to 0. Detects a mean shift of
/// ≈ 0.053 standard deviations at standard. Catches a sign error, a missing `-π` term, an
/// unnormalised score.
pub(crate) fn grad_reinforce(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new(
        "Hotelling T² of rows vs exact ∇L (k = 3 and k = 2), Bonferroni over 2; exact: Σ row = 0",
    );
    let dtype = ctx.dtype();
    let mut ps = Vec::new();
    for (l, t) in [
        (GRAD_LOGITS.to_vec(), GRAD_TARGET.to_vec()),
        (K2_LOGITS.to_vec(), K2_TARGET.to_vec()),
    ] {
        let k = l.len();
        let case = format!("k = {k}");
        let rows = match grad_rows(ctx, "reinforce", &l, &t, 1.0, false)? {
            Ok(r) => r,
            Err(m) => {
                o.fails.push(m);
                continue;
            }
        };
        let good = check_rows(&mut o, &case, &rows, k, dtype);
        o.n += good.len() as u64;
        let lg = Logits::from_slice(&l).map_err(internal)?;
        let f = Objective::quadratic(t.clone()).map_err(internal)?;
        let exact = f.exact_gradient(&lg).map_err(internal)?;
        if let Some(p) = hotelling_vs(&mut o, &case, &good, &exact)? {
            ps.push(p);
        }
    }
    if !ps.is_empty() {
        o.combine(&ps);
        o.power = Some(Power::Mean {
            p: 2,
            n: ctx.plan.grad_n as u64,
            parts: 2,
        });
    }
    Ok(o)
}

/// `grad.gumbel_softmax`: `grad_n` rows at the k = 2 setting for τ = 0.5 and 2 against the
/// gradient of the relaxed objective `∇L_τ` by k = 2 quadrature (error < 1e-10,
/// [`TwoCategory`]), one-sample t (Hotelling on one coordinate); and at k = 3, τ = 0.5 against
/// as many reference rows by two-sample Hotelling; Bonferroni over 3; (exact) rows finite and
/// summing to 0. Detects a mean shift ≈ 0.052 standard deviations (one sample) at standard.
/// Catches a missing `1/τ` (the mean scales by τ).
pub(crate) fn grad_gumbel_softmax(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    relaxed_estimator(ctx, "gumbel_softmax", &[GRAD_TAU, 2.0])
}

/// `grad.straight_through`: as `grad.gumbel_softmax` for `straight_through` at τ = 0.5: the k = 2
/// mean against the quadrature mean of the straight-through row, and the k = 3 mean against
/// the reference's rows (two-sample Hotelling); Bonferroni over 2. The forward value (the
/// one-hot of the argmax) is checked by `relaxed.hard`.
pub(crate) fn grad_straight_through(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    relaxed_estimator(ctx, "straight_through", &[GRAD_TAU])
}

/// `grad.gumbel_rao` (if offered): `m = 4`; its mean equals the straight-through mean (the
/// quadrature truth at k = 2), and at k = 3 the reference's; Bonferroni over 2.
pub(crate) fn grad_gumbel_rao(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    relaxed_estimator(ctx, "gumbel_rao", &[GRAD_TAU])
}

fn relaxed_estimator(ctx: &mut Ctx, name: &str, taus: &[f64]) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new(format!(
        "t test of k = 2 rows vs quadrature truth at τ = {taus:?}; two-sample Hotelling vs reference at k = 3; Bonferroni; exact: Σ row = 0"
    ));
    let dtype = ctx.dtype();
    let mut ps = Vec::new();
    let (lg, f) = k2_truth()?;
    for &tau in taus {
        let case = format!("k = 2, τ = {tau}");
        let rows = match grad_rows(ctx, name, &K2_LOGITS, &K2_TARGET, tau, false)? {
            Ok(r) => r,
            Err(m) => {
                o.fails.push(m);
                continue;
            }
        };
        let good = check_rows(&mut o, &case, &rows, 2, dtype);
        o.n += good.len() as u64;
        let truth = TwoCategory::new(&lg, tau, &f).map_err(internal)?;
        let mean = if name == "gumbel_softmax" {
            truth.gumbel_softmax_moments().mean
        } else {
            truth.straight_through_moments().mean
        };
        if let Some(p) = hotelling_vs(&mut o, &case, &good, &mean)? {
            ps.push(p);
        }
    }
    let case = format!("k = 3, τ = {GRAD_TAU}");
    match grad_rows(ctx, name, &GRAD_LOGITS, &GRAD_TARGET, GRAD_TAU, false)? {
        Ok(rows) => {
            let good = check_rows(&mut o, &case, &rows, 3, dtype);
            o.n += good.len() as u64;
            let reference = grad_rows(ctx, name, &GRAD_LOGITS, &GRAD_TARGET, GRAD_TAU, true)?
                .map_err(|m| TargetError::Fault(format!("reference: {m}")))?;
            if let Some(p) = hotelling_vs_reference(&mut o, &case, &good, &reference, 3)? {
                ps.push(p);
            }
        }
        Err(m) => o.fails.push(m),
    }
    if !ps.is_empty() {
        let parts = ps.len();
        o.combine(&ps);
        o.power = Some(Power::Mean {
            p: 1,
            n: ctx.plan.grad_n as u64,
            parts,
        });
    }
    Ok(o)
}

/// `grad.variance`: the variance of `∂/∂a` (k = 2 setting, τ = 0.5) of every estimator offered,
/// from the rows of the checks above, against its exact value (REINFORCE: the exact
/// covariance) or its quadrature value (Gumbel-Softmax, straight-through, Gumbel-Rao with
/// m = 4): `z = (s² - σ²) / √((m₄ - s⁴)/n)` with the sample fourth central moment `m₄`
/// (kurtosis-aware, asymptotically N(0, 1)), two-sided, Bonferroni over the estimators. The
/// detail lists each estimator's variance beside REINFORCE's exact variance. Catches a
/// baseline or a scale applied where none belongs. Detects a relative variance error ≈ 0.06
/// at standard. Asymptotic: over 200 seeds at quick (n = 4000 rows) 3 runs had p < 0.01
/// (2 expected), none below 8.7e-3 (docs/audit.md).
pub(crate) fn grad_variance(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut k2_rows: Vec<(&str, Vec<f64>)> = Vec::new();
    for name in ESTIMATORS {
        if !ctx.caps.offers_estimator(name) {
            continue;
        }
        // A rejected request is judged by the estimator's own check.
        if let Ok(rows) = grad_rows(ctx, name, &K2_LOGITS, &K2_TARGET, k2_tau(name), false)? {
            let firsts = rows
                .chunks_exact(2)
                .filter(|r| r.iter().all(|v| v.is_finite()))
                .map(|r| r[0])
                .collect();
            k2_rows.push((name, firsts));
        }
    }
    if k2_rows.is_empty() {
        ctx.missing = Some("rows from an offered estimator (none was usable)".into());
        return Err(TargetError::Unsupported);
    }
    let mut o = Outcome::new(
        "kurtosis-aware z test of each sample variance vs exact/quadrature variance, Bonferroni",
    );
    let (lg, f) = k2_truth()?;
    let truth = TwoCategory::new(&lg, GRAD_TAU, &f).map_err(internal)?;
    let reinforce_exact = f.reinforce_covariance(&lg, 0.0).map_err(internal)?[(0, 0)];
    o.notes.push(format!(
        "REINFORCE exact variance {reinforce_exact:.6} (k = 2, no baseline)"
    ));
    let mut ps = Vec::new();
    let mut max_rel_se = 0.0f64;
    for (name, r) in k2_rows {
        let exact = match name {
            "reinforce" => reinforce_exact,
            "gumbel_softmax" => truth.gumbel_softmax_moments().scalar_variance(),
            "straight_through" => truth.straight_through_moments().scalar_variance(),
            _ => truth
                .gumbel_rao_moments(GR_DRAWS)
                .map_err(internal)?
                .scalar_variance(),
        };
        let n = r.len() as f64;
        if n < 10.0 {
            continue;
        }
        let mean = r.iter().sum::<f64>() / n;
        let s2 = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let m4 = r.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
        let se = ((m4 - s2 * s2).max(0.0) / n).sqrt();
        o.n += r.len() as u64;
        let p = if se > 0.0 {
            chi2_sf(((s2 - exact) / se).powi(2), 1.0)
        } else if (s2 - exact).abs() <= tolerance::CONSTANT_VARIANCE_REL.value * (1.0 + exact) {
            1.0
        } else {
            0.0
        };
        if exact > 0.0 {
            max_rel_se = max_rel_se.max(se / exact);
        }
        ps.push(p);
        o.notes.push(format!(
            "{name}: variance {s2:.6} (expected {exact:.6}; ratio to REINFORCE's exact {:.3}), p = {}",
            s2 / reinforce_exact,
            fmt_p(p)
        ));
    }
    if !ps.is_empty() {
        let parts = ps.len();
        o.combine(&ps);
        o.power = Some(Power::Variance {
            rel_se: max_rel_se,
            parts,
        });
    }
    Ok(o)
}
