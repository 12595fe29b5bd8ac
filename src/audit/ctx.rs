//! The run context of one audit: the target, its capabilities, the level's [`Plan`], the seeds
//! and the cache of requests that several checks share.
//!
//! # Seeds
//! Every request's seed comes from [`request_seed`] (`audit::seed`): a check's own requests use
//! the stream named by its id with chunk index 0, 1, 2, ... in the order the check makes them
//! ([`Ctx::next_seed`]); a request shared by several checks uses the stream named by its cache
//! key ([`Ctx::cached`]), so its seed does not depend on which check asks first. Every seed a
//! check uses is recorded for its report entry.
//!
//! # Shared requests
//! A shared request belongs to a [`Shared`] group; the check table says which groups each
//! check uses, and the runner frees a group's arrays once the last selected check that uses it
//! has run (decided from the table, never from id strings). Memory stays bounded by one group's
//! arrays.

use std::collections::HashMap;

use crate::audit::options::Plan;
use crate::audit::seed::{SeedUse, request_seed};
use crate::audit::target::{Array, Capabilities, Dtype, Target, TargetError};

/// A group of cached requests shared by several checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shared {
    /// The `noise_n` Gumbel draws of `noise.finite` and `noise.cdf`.
    Noise,
    /// The categorical draws per logit vector of `categorical.*`.
    Categorical,
    /// The soft relaxed samples per (logits, τ) of `relaxed.*` and `log_prob.own_samples`.
    Relaxed,
    /// The k = 2, τ = 0.5 gradient rows per estimator of `grad.*` and `grad.variance`.
    GradK2,
    /// The token ids per case of `tokens.*`.
    Tokens,
}

/// State of one run, seen by every check.
pub(crate) struct Ctx<'a> {
    pub(crate) target: &'a mut dyn Target,
    pub(crate) caps: Capabilities,
    pub(crate) plan: Plan,
    master: u64,
    /// The check running now: its id names its own seed stream.
    check: &'static str,
    /// The next chunk index of the running check's own stream.
    next_chunk: u64,
    /// Seeds used by the running check.
    seeds: Vec<SeedUse>,
    cache: HashMap<(Shared, String), Array>,
    /// What the running check needed and the target does not offer.
    pub(crate) missing: Option<String>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        target: &'a mut dyn Target,
        caps: Capabilities,
        plan: Plan,
        master: u64,
    ) -> Self {
        Ctx {
            target,
            caps,
            plan,
            master,
            check: "",
            next_chunk: 0,
            seeds: Vec::new(),
            cache: HashMap::new(),
            missing: None,
        }
    }

    /// Starts check `id`: its own stream restarts at chunk 0.
    pub(crate) fn begin(&mut self, id: &'static str) {
        self.check = id;
        self.next_chunk = 0;
        self.seeds.clear();
        self.missing = None;
    }

    /// The seeds the running check used.
    pub(crate) fn take_seeds(&mut self) -> Vec<SeedUse> {
        std::mem::take(&mut self.seeds)
    }

    fn record(&mut self, stream: &str, chunk: u64) -> u64 {
        let seed = request_seed(self.master, stream, chunk);
        self.seeds.push(SeedUse {
            stream: stream.to_string(),
            chunk,
            seed,
        });
        seed
    }

    /// The seed of the running check's next own request (its next chunk).
    pub(crate) fn next_seed(&mut self) -> u64 {
        let chunk = self.next_chunk;
        self.next_chunk += 1;
        let check = self.check;
        self.record(check, chunk)
    }

    /// The array of the shared request `key` of `group`, drawn with the seed of stream `key`,
    /// chunk 0, on first use.
    pub(crate) fn cached(
        &mut self,
        group: Shared,
        key: &str,
        draw: impl FnOnce(&mut dyn Target, u64) -> Result<Array, TargetError>,
    ) -> Result<&Array, TargetError> {
        let seed = self.record(key, 0);
        let k = (group, key.to_string());
        if !self.cache.contains_key(&k) {
            let a = draw(&mut *self.target, seed)?;
            self.cache.insert(k.clone(), a);
        }
        Ok(&self.cache[&k])
    }

    /// Frees the arrays of `group`.
    pub(crate) fn free(&mut self, group: Shared) {
        self.cache.retain(|(g, _), _| *g != group);
    }

    /// The precision the implementation declared (`hello.dtype`). Checks judge an array at the
    /// looser of this and the array's own dtype (`checks::common::precision`).
    pub(crate) fn dtype(&self) -> Dtype {
        self.caps.dtype
    }
}
