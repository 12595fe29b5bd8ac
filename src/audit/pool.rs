//! Every core: the battery on N workers, each with its own target (a thread for the reference or
//! an in-process target, one adapter process per worker for an adapter), with a report identical
//! for every N.
//!
//! # How
//! ```text
//! worker 0      the first target (its hello is the run's): the whole checks in table order,
//!               then units from the shared queue
//! worker 1..N   a target of their own from the factory, hello compared with worker 0's,
//!               then units from the shared queue
//! queue         the units of `audit::runner::Work` in order; a worker takes the next index
//!               (an atomic counter), draws and reduces it, and sends the tally to this thread
//! this thread   stores each tally in its unit's slot and reports progress; at the end merges
//!               per case in unit order and decides (`Work::assemble`)
//! ```
//!
//! **Why the report does not depend on N**: a unit's tally is a pure function of
//! `(implementation, seed of the unit)` (the target draws with that seed, whichever worker or
//! process it is); tallies hold integer counts and extremes, whose merge is exact; whole checks
//! run on one target in table order exactly as [`run_battery`](crate::audit::run_battery) runs
//! them; and when a unit fails, every unit before it runs, so the first failed unit of a check
//! (whose error becomes the check's) is the same for every N. The test
//! `tests/audit/jobs.rs` compares the JSON reports of 1, 2 and 3 workers byte for byte.
//!
//! A worker whose target cannot be made, or whose hello differs from worker 0's (a different
//! implementation answering), takes no units; the others do its share, and the report is the
//! same. Memory: each worker holds one chunk (`plan.chunk_n` values) at a time, plus worker 0's
//! whole checks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::audit::options::AuditOptions;
use crate::audit::result::{AuditReport, Progress};
use crate::audit::runner::{Ran, UnitResult, Work, run_whole};
use crate::audit::target::{Target, TargetError};

/// Makes one target per worker: `Ok` a fresh target (an adapter process, a reference, ...).
pub type TargetFactory<'a> = dyn Fn() -> Result<Box<dyn Target + Send>, TargetError> + Sync + 'a;

/// The default number of workers: the number of cores (`available_parallelism`), 1 if unknown.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What a worker tells this thread.
enum Msg {
    /// Worker 0 starts the whole check `id`.
    Whole(&'static str),
    /// Worker 0's whole checks are done.
    WholeDone(Vec<Ran>),
    /// Unit `i` is done (`None`: not run, an earlier unit of its check failed).
    Unit(usize, Option<UnitResult>),
}

/// Runs the battery on `jobs` workers (at least 1), each with a target from `factory`.
///
/// The report is byte-for-byte the one [`run_battery`](crate::audit::run_battery) gives on one
/// target (module doc). `progress` is called on this thread as the work is done.
///
/// # Errors
/// When the first target cannot be made or its `capabilities()` fails.
///
/// # Example
/// ```
/// use gumbel_audit::audit::{AuditOptions, Level, ReferenceTarget, Target, run_battery_jobs};
/// let options = AuditOptions::new(Level::Quick, 1, 1e-3).unwrap();
/// let factory = || Ok(Box::new(ReferenceTarget::new()) as Box<dyn Target + Send>);
/// let two = run_battery_jobs(&factory, &options, 2, &mut |_| {}).unwrap();
/// let one = run_battery_jobs(&factory, &options, 1, &mut |_| {}).unwrap();
/// assert_eq!(one, two);
/// ```
pub fn run_battery_jobs(
    factory: &TargetFactory<'_>,
    options: &AuditOptions,
    jobs: usize,
    progress: &mut dyn FnMut(&Progress),
) -> Result<AuditReport, TargetError> {
    let mut first = factory()?;
    let caps = first.capabilities()?;
    let work = Work::plan(&caps, options);
    let total = work.total();
    let first_error = work.first_error_slots();
    let next = AtomicUsize::new(0);
    let workers = jobs.clamp(1, work.units.len().max(1));
    let mut results: Vec<Option<UnitResult>> = vec![None; work.units.len()];
    let mut whole = Vec::new();
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<Msg>();
        let (work, caps, next, first_error) = (&work, &caps, &next, &first_error[..]);
        {
            let tx = tx.clone();
            s.spawn(move || {
                let mut tick = |id| {
                    let _ = tx.send(Msg::Whole(id));
                };
                let ran = run_whole(first.as_mut(), caps, work, options, &mut tick);
                let _ = tx.send(Msg::WholeDone(ran));
                take_units(first.as_mut(), work, next, first_error, &tx);
                let _ = first.finish();
            });
        }
        for _ in 1..workers {
            let tx = tx.clone();
            s.spawn(move || {
                let Ok(mut target) = factory() else {
                    return;
                };
                if target.capabilities().as_ref() == Ok(caps) {
                    take_units(target.as_mut(), work, next, first_error, &tx);
                }
                let _ = target.finish();
            });
        }
        drop(tx);
        let mut done = 0;
        for msg in rx {
            let id = match msg {
                Msg::Whole(id) => id,
                Msg::WholeDone(ran) => {
                    whole = ran;
                    continue;
                }
                Msg::Unit(i, r) => {
                    results[i] = r;
                    work.chunked[work.units[i].check].spec.id
                }
            };
            progress(&Progress { done, total, id });
            done += 1;
        }
    });
    progress(&Progress {
        done: total,
        total,
        id: "",
    });
    work.assemble(&caps, options, whole, results)
}

/// Takes units from the queue until it is empty.
fn take_units(
    target: &mut dyn Target,
    work: &Work,
    next: &AtomicUsize,
    first_error: &[AtomicUsize],
    tx: &mpsc::Sender<Msg>,
) {
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= work.units.len() {
            return;
        }
        let r = work.run_unit(target, i, first_error);
        if tx.send(Msg::Unit(i, r)).is_err() {
            return;
        }
    }
}
