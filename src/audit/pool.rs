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
//! A pool runs an `Assignment`: every unit and the whole checks for `run_battery_jobs`, or
//! one shard's units and (on shard 0) the whole checks for `audit::shard::run_shard`; the
//! queue is then the assigned units in increasing order.
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
use crate::audit::target::{Capabilities, Target, TargetError};

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
    let all: Vec<usize> = (0..work.units.len()).collect();
    let done = run_pool(
        first,
        &caps,
        factory,
        &work,
        &Assignment {
            units: &all,
            whole: true,
        },
        options,
        jobs,
        progress,
    );
    work.assemble(&caps, options, done.whole, done.results)
}

/// The part of a run's work a pool does: some units, and the whole checks or not.
pub(crate) struct Assignment<'a> {
    /// Indices of the units to run, increasing.
    pub(crate) units: &'a [usize],
    /// Whether worker 0 runs the whole checks first.
    pub(crate) whole: bool,
}

/// What a pool did: the whole checks' results (empty when not assigned) and one slot per unit
/// of the run (`None` for a unit not assigned, or not run after a failed unit of its check).
pub(crate) struct PoolDone {
    pub(crate) whole: Vec<Ran>,
    pub(crate) results: Vec<Option<UnitResult>>,
}

/// Runs `assignment` of `work` on `jobs` workers: `first` (whose hello was `caps`) is worker 0,
/// the others get targets from `factory`. Every target is `finish`ed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_pool(
    mut first: Box<dyn Target + Send>,
    caps: &Capabilities,
    factory: &TargetFactory<'_>,
    work: &Work,
    assignment: &Assignment<'_>,
    options: &AuditOptions,
    jobs: usize,
    progress: &mut dyn FnMut(&Progress),
) -> PoolDone {
    let whole_count = if assignment.whole {
        work.total() - work.units.len()
    } else {
        0
    };
    let total = whole_count + assignment.units.len();
    let first_error = work.first_error_slots();
    let next = AtomicUsize::new(0);
    let workers = jobs.clamp(1, assignment.units.len().max(1));
    let mut results: Vec<Option<UnitResult>> = vec![None; work.units.len()];
    let mut whole = Vec::new();
    let queue = Queue {
        work,
        units: assignment.units,
        next: &next,
        first_error: &first_error,
    };
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<Msg>();
        let queue = &queue;
        let run_whole_checks = assignment.whole;
        {
            let tx = tx.clone();
            s.spawn(move || {
                if run_whole_checks {
                    let mut tick = |id| {
                        let _ = tx.send(Msg::Whole(id));
                    };
                    let ran = run_whole(first.as_mut(), caps, work, options, &mut tick);
                    let _ = tx.send(Msg::WholeDone(ran));
                }
                queue.take(first.as_mut(), &tx);
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
                    queue.take(target.as_mut(), &tx);
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
    PoolDone { whole, results }
}

/// The shared queue of a pool: the assigned units, taken in order by index.
struct Queue<'a> {
    work: &'a Work,
    units: &'a [usize],
    next: &'a AtomicUsize,
    first_error: &'a [AtomicUsize],
}

impl Queue<'_> {
    /// Takes units from the queue until it is empty.
    fn take(&self, target: &mut dyn Target, tx: &mpsc::Sender<Msg>) {
        loop {
            let k = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(&i) = self.units.get(k) else {
                return;
            };
            let r = self.work.run_unit(target, i, self.first_error);
            if tx.send(Msg::Unit(i, r)).is_err() {
                return;
            }
        }
    }
}
