//! The runner: walks the check table ([`TABLE`]) for the selected checks, runs each on the
//! target, then decides: Holm across the checks' p-values, each check's verdict, and the
//! verdict of the audit.
//!
//! # Order of a run
//! 1. `capabilities()` (hello). Unknown op names it declared are kept for the report.
//! 2. For each selected check in table order: if the target does not offer what the entry
//!    [`Needs`], the check is `skipped` without being called; otherwise its function runs with
//!    its own seed stream (`audit::seed`). After the last selected check that reads a
//!    [`Shared`](crate::audit::ctx::Shared) group, that group's arrays are freed.
//! 3. `finish()`.
//! 4. Decide (`decide`): Holm at `fwer` over the m p-values; a check fails if Holm rejects
//!    it or an exact criterion broke; warns on a warning; else passes.
//! 5. **Nothing tested**: if no check got a verdict other than `skipped` (no op offered, op
//!    names misspelled in hello, or a selection of checks the target cannot run), the audit is
//!    an error (`verdict: error`, exit code 2) whose [`AuditReport::problem`] says so and
//!    names the unknown op names, never a pass.

use crate::audit::checks::{Needs, TABLE};
use crate::audit::ctx::Ctx;
use crate::audit::options::AuditOptions;
use crate::audit::outcome::Outcome;
use crate::audit::result::{AuditReport, CheckResult, Progress, Verdict};
use crate::audit::seed::SeedUse;
use crate::audit::target::{Capabilities, Target, TargetError};
use crate::stats::holm;

/// A check's outcome, or why it could not be judged (the error and a message).
type Judged = Result<Outcome, (TargetError, String)>;

/// One check run, before Holm.
struct Ran {
    id: &'static str,
    title: &'static str,
    judged: Judged,
    seeds: Vec<SeedUse>,
}

/// What the target lacks of `needs`, if anything.
fn missing(caps: &Capabilities, needs: Needs) -> Option<String> {
    match needs {
        Needs::All(ops, estimator) => ops
            .iter()
            .find(|op| !caps.offers(**op))
            .map(|op| format!("op {}", op.name()))
            .or_else(|| {
                estimator
                    .filter(|e| !caps.offers_estimator(e))
                    .map(|e| format!("estimator {e}"))
            }),
        Needs::Any(ops) => (!ops.iter().any(|op| caps.offers(*op))).then(|| {
            let names: Vec<&str> = ops.iter().map(|op| op.name()).collect();
            format!("any of the ops {}", names.join(", "))
        }),
    }
}

/// Runs the battery on `target`.
///
/// Calls `target.capabilities()` first and `target.finish()` last; `progress` is called before
/// each selected check and once at the end. Nothing is printed.
///
/// # Errors
/// Only when `capabilities()` fails (nothing can be audited then); every later failure of the
/// target is reported in its check (`error`, `fail` or `skipped`), and an audit that tested
/// nothing is reported through [`AuditReport::problem`] (exit code 2).
///
/// # Example
/// ```
/// use gumbel_audit::audit::{AuditOptions, Level, ReferenceTarget, Verdict, run_battery};
/// let options = AuditOptions::new(Level::Quick, 1, 1e-3).unwrap();
/// let report = run_battery(&mut ReferenceTarget::new(), &options, &mut |_| {}).unwrap();
/// assert_eq!(report.verdict, Verdict::Pass);
/// assert_eq!(report.exit_code(), 0);
/// ```
pub fn run_battery(
    target: &mut dyn Target,
    options: &AuditOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<AuditReport, TargetError> {
    let caps = target.capabilities()?;
    let selected: Vec<_> = TABLE
        .iter()
        .filter(|c| options.selection.includes(c.id))
        .collect();
    let total = selected.len();
    let mut ctx = Ctx::new(target, caps.clone(), options.level.plan(), options.seed);
    let mut ran = Vec::with_capacity(total);
    for (done, spec) in selected.iter().enumerate() {
        progress(&Progress {
            done,
            total,
            id: spec.id,
        });
        ctx.begin(spec.id);
        let judged = match missing(&caps, spec.needs) {
            Some(what) => Err((TargetError::Unsupported, format!("not offered: {what}"))),
            None => match ((spec.run)(&mut ctx), ctx.missing.take()) {
                (Err(TargetError::Unsupported), Some(what)) => {
                    Err((TargetError::Unsupported, format!("not offered: {what}")))
                }
                (Err(TargetError::Unsupported), None) => Err((
                    TargetError::Unsupported,
                    "the target answered 'unsupported' for every request of this check".to_string(),
                )),
                (Err(e), _) => Err((e, String::new())),
                (Ok(o), _) => Ok(o),
            },
        };
        // Free each shared group after the last selected check that reads it (from the table).
        for group in spec.shares {
            let later = selected[done + 1..]
                .iter()
                .any(|c| c.shares.contains(group));
            if !later {
                ctx.free(*group);
            }
        }
        ran.push(Ran {
            id: spec.id,
            title: spec.title,
            judged,
            seeds: ctx.take_seeds(),
        });
    }
    progress(&Progress {
        done: total,
        total,
        id: "",
    });
    let _ = ctx.target.finish();
    let checks = decide(ran, options.fwer)?;
    let failed = checks
        .iter()
        .any(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error));
    let problem = checks
        .iter()
        .all(|c| c.verdict == Verdict::Skipped)
        .then(|| nothing_tested(&caps, total));
    Ok(AuditReport {
        implementation: caps.name,
        dtype: caps.dtype,
        level: options.level,
        seed: options.seed,
        fwer: options.fwer,
        ops: caps.ops,
        unknown_ops: caps.unknown_ops,
        estimators: caps.estimators,
        verdict: if problem.is_some() {
            Verdict::Error
        } else if failed {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        problem,
        checks,
    })
}

/// The message of an audit that tested nothing.
fn nothing_tested(caps: &Capabilities, selected: usize) -> String {
    let mut msg = format!(
        "nothing was tested: none of the {selected} selected checks could run on what the \
         implementation offers"
    );
    let ops: Vec<&str> = caps.ops.iter().map(|op| op.name()).collect();
    msg += &format!(
        " (ops offered: [{}]; estimators: [{}])",
        ops.join(", "),
        caps.estimators.join(", ")
    );
    if !caps.unknown_ops.is_empty() {
        let known: Vec<&str> = crate::audit::target::Op::ALL
            .iter()
            .map(|op| op.name())
            .collect();
        msg += &format!(
            "; hello declared op names protocol v1 does not know: {} (the known ops are {})",
            caps.unknown_ops.join(", "),
            known.join(", ")
        );
    }
    msg
}

/// Holm across the checks' p-values, then each check's verdict, detail and power statement.
///
/// # Errors
/// Only an internal error of Holm's procedure (a p-value outside `[0, 1]`).
fn decide(ran: Vec<Ran>, fwer: f64) -> Result<Vec<CheckResult>, TargetError> {
    let ps: Vec<(usize, f64)> = ran
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.judged
                .as_ref()
                .ok()
                .and_then(|o| o.p_value)
                .map(|p| (i, p))
        })
        .collect();
    let m = ps.len().max(1);
    let alpha_i = fwer / m as f64;
    let mut adjusted = vec![None; ran.len()];
    let mut rejected = vec![false; ran.len()];
    if !ps.is_empty() {
        let values: Vec<f64> = ps.iter().map(|&(_, p)| p).collect();
        let h = holm(&values, fwer).map_err(crate::audit::checks::common::internal)?;
        for (j, &(i, _)) in ps.iter().enumerate() {
            adjusted[i] = Some(h.adjusted[j]);
            rejected[i] = h.reject[j];
        }
    }
    let mut checks = Vec::with_capacity(ran.len());
    for (i, r) in ran.into_iter().enumerate() {
        let (id, title) = (r.id.to_string(), r.title.to_string());
        let c = match r.judged {
            Ok(o) => {
                let verdict = if !o.fails.is_empty() || rejected[i] {
                    Verdict::Fail
                } else if !o.warns.is_empty() {
                    Verdict::Warn
                } else {
                    Verdict::Pass
                };
                let mut detail: Vec<String> = Vec::new();
                if rejected[i] {
                    detail.push(format!(
                        "FAIL: Holm-adjusted p = {} < {fwer}",
                        crate::audit::checks::common::fmt_p(adjusted[i].unwrap_or(0.0)),
                    ));
                }
                detail.extend(o.fails.iter().map(|s| format!("FAIL: {s}")));
                detail.extend(o.warns.iter().map(|s| format!("WARN: {s}")));
                detail.extend(o.notes);
                CheckResult {
                    id,
                    title,
                    verdict,
                    p_value: o.p_value,
                    p_adjusted: adjusted[i],
                    n: o.n,
                    detail: detail.join("; "),
                    criterion: o.criterion,
                    false_alarm: if o.p_value.is_some() { alpha_i } else { 0.0 },
                    detectable: o.power.map(|p| p.describe(alpha_i)).unwrap_or_else(|| {
                        if o.max_tolerance > 0.0 {
                            format!(
                                "any value off by more than its tolerance (at most {:.1e})",
                                o.max_tolerance
                            )
                        } else {
                            "exact criterion: any violation".into()
                        }
                    }),
                    figure: o.figure,
                    seeds: r.seeds,
                }
            }
            Err((e, why)) => {
                let (verdict, detail) = match e {
                    TargetError::Unsupported => (Verdict::Skipped, why),
                    TargetError::Rejected(m) => {
                        (Verdict::Fail, format!("valid input rejected: {m}"))
                    }
                    TargetError::Fault(m) => (Verdict::Error, format!("adapter fault: {m}")),
                };
                CheckResult {
                    id,
                    title,
                    verdict,
                    p_value: None,
                    p_adjusted: None,
                    n: 0,
                    detail,
                    criterion: String::new(),
                    false_alarm: 0.0,
                    detectable: String::new(),
                    figure: None,
                    seeds: r.seeds,
                }
            }
        };
        checks.push(c);
    }
    Ok(checks)
}
