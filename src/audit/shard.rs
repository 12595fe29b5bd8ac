//! Shards: one run of the battery split into `N` pieces that can run on different machines and
//! are merged exactly (`audit::partial`), with the report one machine would give.
//!
//! # Assignment rule
//! ```text
//! units      u = 0, 1, ..., U - 1: the chunks of the run's chunked checks in the order of
//!            `Work::plan` (check in table order, then case, then chunk; audit::chunked)
//! shard I/N  runs unit u  ⇔  u mod N = I                      (0 ≤ I < N, N ≥ 1)
//!            and, when I = 0, every selected whole check (all of them, in table order, on one
//!            target, exactly as `run_battery` runs them)
//! ```
//! The rule is a pure function of `(u, N)`: any `N` works, and a shard with `I ≥ U` has no
//! unit (it is still a valid shard and writes a valid partial). Round-robin spreads each
//! check's chunks evenly over the shards (chunks of one case have equal sizes, except the last).
//!
//! # Why a shard is a pure function of its inputs
//! A unit's tally depends only on `(implementation, seed of the unit)` (`audit::chunked`), and
//! the whole checks run on one target in table order with their own seed streams
//! (`audit::seed`), so re-running a shard (a retry, a resume) gives the same partial.
//!
//! A failed unit: inside a shard, a unit after a failed unit of the same check is not run (as
//! on one machine); at the merge the check's error is that of its first failed unit in unit
//! order, so the merged report is the one-machine report (`audit::runner`).

use std::fmt;

use crate::audit::options::AuditOptions;
use crate::audit::partial::Partial;
use crate::audit::pool::{Assignment, TargetFactory, run_pool};
use crate::audit::result::Progress;
use crate::audit::runner::Work;
use crate::audit::target::{Capabilities, Target};

/// Largest number of shards: 10⁶ (far beyond any cluster; keeps `I/N` a small number).
pub const MAX_SHARDS: u64 = 1_000_000;

/// Shard `index` of `count` (`0 ≤ index < count ≤ MAX_SHARDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// A shard that breaks a rule (the message names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardError(pub String);

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShardError {}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// [`ShardError`] when `count` is 0 or above [`MAX_SHARDS`], or `index ≥ count`.
    pub fn new(index: u64, count: u64) -> Result<Self, ShardError> {
        if count == 0 || count > MAX_SHARDS {
            return Err(ShardError(format!(
                "shard count {count}: it must be from 1 to {MAX_SHARDS}"
            )));
        }
        if index >= count {
            return Err(ShardError(format!(
                "shard index {index} of {count}: the index must be from 0 to {} (shards are \
                 numbered from 0)",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// Parses `I/N` (e.g. `0/4`).
    ///
    /// # Errors
    /// [`ShardError`] for text that is not `I/N` with whole numbers, or a shard
    /// [`Shard::new`] refuses.
    ///
    /// # Example
    /// ```
    /// use gumbel_audit::audit::shard::Shard;
    /// let s = Shard::parse("2/3").unwrap();
    /// assert_eq!((s.index(), s.count()), (2, 3));
    /// assert!(s.owns_unit(5) && !s.owns_unit(4) && !s.runs_whole());
    /// assert!(Shard::parse("3/3").is_err() && Shard::parse("1of3").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ShardError> {
        let (i, n) = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)))
            .ok_or_else(|| {
                ShardError(format!(
                    "'{text}': write the shard as I/N with whole numbers, 0 ≤ I < N (e.g. 0/4)"
                ))
            })?;
        Shard::new(i, n)
    }

    /// The index `I`.
    pub fn index(self) -> u64 {
        self.index
    }

    /// The number of shards `N`.
    pub fn count(self) -> u64 {
        self.count
    }

    /// Whether unit `u` is this shard's: `u mod N = I`.
    pub fn owns_unit(self, u: usize) -> bool {
        u as u64 % self.count == self.index
    }

    /// Whether this shard runs the whole checks (shard 0).
    pub fn runs_whole(self) -> bool {
        self.index == 0
    }

    /// The indices of this shard's units among `total` units, increasing.
    pub fn units(self, total: usize) -> Vec<usize> {
        (0..total).filter(|&u| self.owns_unit(u)).collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Runs shard `shard` of the run `options` on `jobs` workers and returns its partial.
///
/// `first` is a target whose hello was `caps` (it runs the whole checks on shard 0); `factory`
/// makes the other workers' targets. Every target is `finish`ed. `progress` is called as the
/// shard's work is done.
///
/// # Example
/// ```
/// use gumbel_audit::audit::shard::{Shard, run_shard};
/// use gumbel_audit::audit::partial::merge;
/// use gumbel_audit::audit::{AuditOptions, Level, ReferenceTarget, Target, run_battery};
/// let options = AuditOptions::new(Level::Quick, 1, 1e-3).unwrap();
/// let factory = || Ok(Box::new(ReferenceTarget::new()) as Box<dyn Target + Send>);
/// let mut parts = Vec::new();
/// for i in 0..2 {
///     let mut first = factory().unwrap();
///     let caps = first.capabilities().unwrap();
///     let shard = Shard::new(i, 2).unwrap();
///     let p = run_shard(first, &caps, &factory, &options, shard, 1, &mut |_| {});
///     parts.push((format!("part{i}.json"), p.to_text()));
/// }
/// let merged = merge(&parts).unwrap();
/// let single = run_battery(&mut ReferenceTarget::new(), &options, &mut |_| {}).unwrap();
/// assert_eq!(merged, single);
/// ```
pub fn run_shard(
    first: Box<dyn Target + Send>,
    caps: &Capabilities,
    factory: &TargetFactory<'_>,
    options: &AuditOptions,
    shard: Shard,
    jobs: usize,
    progress: &mut dyn FnMut(&Progress),
) -> Partial {
    let work = Work::plan(caps, options);
    let units = shard.units(work.units.len());
    let done = run_pool(
        first,
        caps,
        factory,
        &work,
        &Assignment {
            units: &units,
            whole: shard.runs_whole(),
        },
        options,
        jobs,
        progress,
    );
    let mut results = done.results;
    let records = units.iter().map(|&u| (u, results[u].take())).collect();
    let whole = shard.runs_whole().then_some(done.whole);
    Partial::new(caps, options, &work, shard, records, whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_belongs_to_exactly_one_shard_for_any_count() {
        for n in [1, 2, 3, 7, 20] {
            let mut owners = vec![0; 13];
            for i in 0..n {
                let s = Shard::new(i, n).unwrap();
                for u in s.units(13) {
                    owners[u] += 1;
                }
                assert_eq!(s.runs_whole(), i == 0);
            }
            assert!(owners.iter().all(|&k| k == 1), "n = {n}: {owners:?}");
        }
        // more shards than units: the extra shards are empty and valid
        assert!(Shard::new(15, 20).unwrap().units(13).is_empty());
    }

    #[test]
    fn bad_shards_name_the_rule() {
        assert!(Shard::new(0, 0).unwrap_err().0.contains("from 1 to"));
        assert!(Shard::new(3, 3).unwrap_err().0.contains("numbered from 0"));
        assert!(Shard::parse("a/b").unwrap_err().0.contains("I/N"));
        assert!(Shard::parse("2").is_err());
        assert_eq!(Shard::parse(" 1 / 4 ").unwrap(), Shard::new(1, 4).unwrap());
        assert_eq!(Shard::new(1, 4).unwrap().to_string(), "1/4");
    }
}
