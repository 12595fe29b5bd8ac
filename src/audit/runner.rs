//! The runner: plan → reduce → merge → decide over the check table ([`TABLE`]), then Holm
//! across the checks' p-values, each check's verdict, and the verdict of the audit.
//!
//! # Order of a run
//! 1. `capabilities()` (hello). Unknown op names it declared are kept for the report.
//! 2. **Plan** (`Work::plan`): the selected checks in table order; for each selected chunked
//!    check (`audit::chunked`) whose needs are offered, its cases (sizes from the level's
//!    [`Plan`] or `--samples`) and their units (chunks, each with its own seed).
//! 3. **Whole checks**, in table order on one target: if the target does not offer what the
//!    entry [`Needs`], the check is `skipped` without being called; otherwise its function runs
//!    with its own seed stream (`audit::seed`). After the last selected check that reads a
//!    [`Shared`](crate::audit::ctx::Shared) group, that group's arrays are freed.
//! 4. **Reduce**: every unit is drawn and reduced to its tally, on this thread
//!    ([`run_battery`]) or on N workers (`audit::pool`); a unit after a failed unit of the same
//!    check is not run.
//!    A shard of the run (`audit::shard`) does steps 3–4 for its part only and writes them to
//!    a partial file; `audit::partial::merge` gathers every shard's part and goes on at step 6
//!    with the same `Work::assemble`.
//! 5. `finish()` on every target.
//! 6. **Merge and decide**: each case's tallies merge in unit order (exact integer counts and
//!    extremes: the same for any number or order of workers); each chunked check decides from
//!    its merged tallies; Holm at `fwer` over the m p-values; a check fails if Holm rejects it or
//!    an exact criterion broke; warns on a warning; else passes.
//! 7. **Nothing tested**: if no check got a verdict other than `skipped` (no op offered, op
//!    names misspelled in hello, or a selection of checks the target cannot run), the audit is
//!    an error (`verdict: error`, exit code 2) whose [`AuditReport::problem`] says so and
//!    names the unknown op names, never a pass.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::audit::checks::{CheckSpec, Needs, Run, TABLE};
use crate::audit::chunked::{Case, Tally, Unit, run_unit, units_of};
use crate::audit::ctx::Ctx;
use crate::audit::options::AuditOptions;
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::result::{AuditReport, CheckResult, Progress, Verdict};
use crate::audit::seed::SeedUse;
use crate::audit::target::{Capabilities, Target, TargetError};
use crate::stats::holm;

/// A check's outcome, or why it could not be judged (the error and a message).
pub(crate) type Judged = Result<Outcome, (TargetError, String)>;

/// One check run, before Holm.
pub(crate) struct Ran {
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) judged: Judged,
    pub(crate) seeds: Vec<SeedUse>,
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

/// Runs the battery on `target`, on this thread.
///
/// Calls `target.capabilities()` first and `target.finish()` last; `progress` is called before
/// each piece of work (a whole check or a chunk of a chunked check) and once at the end.
/// Nothing is printed. The report is the one [`run_battery_jobs`](crate::audit::run_battery_jobs)
/// gives for any number of workers.
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
    let work = Work::plan(&caps, options);
    let total = work.total();
    let mut done = 0;
    let mut tick = |id: &'static str| {
        progress(&Progress { done, total, id });
        done += 1;
    };
    let whole = run_whole(target, &caps, &work, options, &mut tick);
    let mut results: Vec<Option<UnitResult>> = vec![None; work.units.len()];
    let first_error: Vec<AtomicUsize> = work.first_error_slots();
    for (i, slot) in results.iter_mut().enumerate() {
        tick(work.chunked[work.units[i].check].spec.id);
        *slot = work.run_unit(target, i, &first_error);
    }
    progress(&Progress {
        done: total,
        total,
        id: "",
    });
    let _ = target.finish();
    work.assemble(&caps, options, whole, results)
}

/// A chunk's result: its tally or the target's error.
pub(crate) type UnitResult = Result<Tally, TargetError>;

/// A selected chunked check whose needs are met: its cases and where its units start.
pub(crate) struct ChunkedRun {
    pub(crate) spec: &'static CheckSpec,
    pub(crate) cases: Vec<Case>,
}

/// The plan of a run: the selected checks, the chunked ones' cases, and every unit of work.
pub(crate) struct Work {
    pub(crate) plan: Plan,
    /// The selected checks, in table order.
    pub(crate) selected: Vec<&'static CheckSpec>,
    /// The selected chunked checks the target can run, in table order.
    pub(crate) chunked: Vec<ChunkedRun>,
    /// Every chunk of every case of `chunked`, in order (check, case, chunk).
    pub(crate) units: Vec<Unit>,
}

impl Work {
    /// Plans a run of `options` on a target offering `caps`.
    pub(crate) fn plan(caps: &Capabilities, options: &AuditOptions) -> Self {
        let plan = options.level.plan();
        let selected: Vec<&'static CheckSpec> = TABLE
            .iter()
            .filter(|c| options.selection.includes(c.id))
            .collect();
        let mut chunked = Vec::new();
        let mut units = Vec::new();
        for spec in &selected {
            let Some(check) = spec.chunked() else {
                continue;
            };
            if missing(caps, spec.needs).is_some() {
                continue;
            }
            let mut cases = (check.cases)(&plan, caps);
            if let Some(n) = options.samples.for_check(spec.id) {
                for c in &mut cases {
                    c.n = n;
                }
            }
            units.extend(units_of(
                chunked.len(),
                spec.id,
                &cases,
                plan.chunk_n,
                options.seed,
            ));
            chunked.push(ChunkedRun { spec, cases });
        }
        Work {
            plan,
            selected,
            chunked,
            units,
        }
    }

    /// Pieces of work: the whole checks and the units.
    pub(crate) fn total(&self) -> usize {
        self.selected
            .iter()
            .filter(|c| c.chunked().is_none())
            .count()
            + self.units.len()
    }

    /// One slot per chunked check for the index of its first failed unit (`usize::MAX`: none).
    pub(crate) fn first_error_slots(&self) -> Vec<AtomicUsize> {
        self.chunked
            .iter()
            .map(|_| AtomicUsize::new(usize::MAX))
            .collect()
    }

    /// Runs unit `i` on `target`, unless an earlier unit of the same check failed (then
    /// `None`: the check's verdict is that earlier unit's error whatever this one would give).
    /// A failure lowers the check's `first_error` slot.
    pub(crate) fn run_unit(
        &self,
        target: &mut dyn Target,
        i: usize,
        first_error: &[AtomicUsize],
    ) -> Option<UnitResult> {
        let unit = &self.units[i];
        let slot = &first_error[unit.check];
        if slot.load(Ordering::SeqCst) < i {
            return None;
        }
        let run = &self.chunked[unit.check];
        let check = run.spec.chunked()?;
        let r = run_unit(target, check, &run.cases[unit.case], unit);
        if r.is_err() {
            slot.fetch_min(i, Ordering::SeqCst);
        }
        Some(r)
    }

    /// Merges the units' tallies per case in unit order, decides every chunked check, puts the
    /// whole checks' results beside them in table order, and decides the audit.
    ///
    /// # Errors
    /// Only an internal error of Holm's procedure.
    pub(crate) fn assemble(
        &self,
        caps: &Capabilities,
        options: &AuditOptions,
        whole: Vec<Ran>,
        results: Vec<Option<UnitResult>>,
    ) -> Result<AuditReport, TargetError> {
        let mut whole = whole.into_iter();
        let mut ran = Vec::with_capacity(self.selected.len());
        for spec in &self.selected {
            if spec.chunked().is_none() {
                if let Some(r) = whole.next() {
                    ran.push(r);
                }
                continue;
            }
            let Some(c) = self.chunked.iter().position(|r| r.spec.id == spec.id) else {
                // Needs not offered: skipped without a unit.
                let what = missing(caps, spec.needs).unwrap_or_default();
                ran.push(Ran {
                    id: spec.id,
                    title: spec.title,
                    judged: Err((TargetError::Unsupported, format!("not offered: {what}"))),
                    seeds: Vec::new(),
                });
                continue;
            };
            ran.push(self.decide_chunked(c, caps, &results));
        }
        finish_report(caps, options, ran, self.selected.len())
    }

    /// The `Ran` of the `c`-th chunked check from its units' results.
    fn decide_chunked(&self, c: usize, caps: &Capabilities, results: &[Option<UnitResult>]) -> Ran {
        let run = &self.chunked[c];
        let mut seeds = Vec::new();
        let mut tallies: Vec<Option<Tally>> = vec![None; run.cases.len()];
        let mut error = None;
        for (u, r) in self.units.iter().zip(results) {
            if u.check != c {
                continue;
            }
            seeds.push(SeedUse {
                stream: u.stream.clone(),
                chunk: u.chunk,
                seed: u.seed,
            });
            if error.is_some() {
                continue;
            }
            match r {
                Some(Ok(t)) => {
                    let slot = &mut tallies[u.case];
                    match slot {
                        None => *slot = Some(t.clone()),
                        Some(acc) => {
                            if let Err(e) = acc.merge(t) {
                                error = Some((TargetError::Fault(e), String::new()));
                            }
                        }
                    }
                }
                Some(Err(e)) => error = Some(unit_error(e, u, &run.cases[u.case])),
                None => {
                    error = Some((
                        TargetError::Fault(format!(
                            "internal error of the battery: chunk {} of {} was not run",
                            u.chunk, u.stream
                        )),
                        String::new(),
                    ))
                }
            }
        }
        let judged = match error {
            Some(e) => Err(e),
            None => {
                let tallies: Option<Vec<Tally>> = tallies.into_iter().collect();
                match (tallies, run.spec.chunked()) {
                    (Some(t), Some(check)) => (check.decide)(&self.plan, caps, &run.cases, &t)
                        .map_err(|e| (e, String::new())),
                    _ => Err((
                        TargetError::Fault(
                            "internal error of the battery: a case without draws".into(),
                        ),
                        String::new(),
                    )),
                }
            }
        };
        Ran {
            id: run.spec.id,
            title: run.spec.title,
            judged,
            seeds,
        }
    }
}

/// The check's error for a failed unit, with the op named when it was not offered.
fn unit_error(e: &TargetError, u: &Unit, case: &Case) -> (TargetError, String) {
    match e {
        TargetError::Unsupported => (
            TargetError::Unsupported,
            format!(
                "the target answered 'unsupported' for {} (chunk {} of {})",
                case.request.op().name(),
                u.chunk,
                u.stream
            ),
        ),
        other => (other.clone(), String::new()),
    }
}

/// Runs the selected whole checks on `target` in table order, calling `tick` before each.
pub(crate) fn run_whole(
    target: &mut dyn Target,
    caps: &Capabilities,
    work: &Work,
    options: &AuditOptions,
    tick: &mut dyn FnMut(&'static str),
) -> Vec<Ran> {
    let whole: Vec<&'static CheckSpec> = work
        .selected
        .iter()
        .copied()
        .filter(|c| c.chunked().is_none())
        .collect();
    let mut ctx = Ctx::new(target, caps.clone(), work.plan, options.seed);
    let mut ran = Vec::with_capacity(whole.len());
    for (done, spec) in whole.iter().enumerate() {
        tick(spec.id);
        ctx.begin(spec.id);
        let judged = match (missing(caps, spec.needs), spec.run) {
            (Some(what), _) => Err((TargetError::Unsupported, format!("not offered: {what}"))),
            (None, Run::Whole(f)) => match (f(&mut ctx), ctx.missing.take()) {
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
            (None, Run::Chunked(_)) => continue,
        };
        // Free each shared group after the last selected check that reads it (from the table).
        for group in spec.shares {
            let later = whole[done + 1..].iter().any(|c| c.shares.contains(group));
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
    ran
}

/// Holm over the checks, the audit's verdict and its problem (nothing tested).
fn finish_report(
    caps: &Capabilities,
    options: &AuditOptions,
    ran: Vec<Ran>,
    total: usize,
) -> Result<AuditReport, TargetError> {
    let checks = decide(ran, options.fwer)?;
    let failed = checks
        .iter()
        .any(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error));
    let problem = checks
        .iter()
        .all(|c| c.verdict == Verdict::Skipped)
        .then(|| nothing_tested(caps, total));
    Ok(AuditReport {
        implementation: caps.name.clone(),
        dtype: caps.dtype,
        level: options.level,
        seed: options.seed,
        fwer: options.fwer,
        ops: caps.ops.clone(),
        unknown_ops: caps.unknown_ops.clone(),
        estimators: caps.estimators.clone(),
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
