//! Auditing an implementation: the [`Target`] trait its ops are reached through, the reference
//! target, the table of checks, the runner and the reports.
//!
//! # Map
//! ```text
//! target.rs      the Target trait, Array, Capabilities, TargetError
//! reference.rs   the reference implementation as a Target
//! adapter.rs     an adapter process (protocol v1) as a Target; npy.rs its arrays
//! options.rs     Level, Plan (sample sizes), AuditOptions, Selection (--only / --skip)
//! seed.rs        seed(master, stream, chunk): every request's seed
//! checks/        the table of checks (mod.rs) and one file per group of checks
//! tolerance.rs   every tolerance of the exact criteria, with its reason
//! ctx.rs         the run context: target, plan, seeds, shared requests
//! outcome.rs     what a check found before Holm; power.rs how its power is stated
//! runner.rs      run_battery: run the selected checks, Holm, verdicts
//! pool.rs        run_battery_jobs: the same on N workers
//! shard.rs       shards I/N of a run (which units each runs); partial.rs their files and merge
//! result.rs      Verdict, CheckResult, AuditReport; report.rs renders them
//! ```
//!
//! Nothing here knows about terminals; the CLI prints what the battery returns.
//!
//! # Auditing your own Rust implementation in `cargo test`
//! Implement [`Target`] for a small wrapper around your sampler: override the ops you have and
//! list them in [`Capabilities`]; the checks for the others are `skipped`. Then run the battery
//! at the level your CI can afford and fail the test on any `fail` or `error`. The battery's
//! family-wise false-alarm rate is `fwer` (Holm), so a correct implementation passes with
//! probability at least `1 - fwer`; with a fixed seed the result is reproducible.
//!
//! ```
//! use gumbel_audit::audit::{
//!     run_battery, Array, AuditOptions, Capabilities, Dtype, Level, Op, Target, TargetError,
//!     Verdict,
//! };
//! use rand::Rng;
//!
//! /// "My" Gumbel-Max sampler: noise -ln(-ln u) with u in the open interval.
//! struct MySampler;
//!
//! fn noise(rng: &mut impl Rng) -> f64 {
//!     let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
//!     -(-u.ln()).ln()
//! }
//!
//! impl Target for MySampler {
//!     fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
//!         Ok(Capabilities::new("my sampler 0.1", Dtype::Float64,
//!                              vec![Op::Gumbel, Op::Categorical], vec![]))
//!     }
//!     fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
//!         let mut rng = gumbel_audit::rng::seeded(seed);
//!         Ok(Array::from_f64((0..n).map(|_| noise(&mut rng)).collect()))
//!     }
//!     fn categorical(&mut self, logits: &[f64], n: usize, seed: u64)
//!         -> Result<Array, TargetError> {
//!         if logits.is_empty() || logits.iter().any(|l| l.is_nan() || *l == f64::INFINITY)
//!             || logits.iter().all(|l| *l == f64::NEG_INFINITY) {
//!             return Err(TargetError::Rejected("invalid logits".into()));
//!         }
//!         let mut rng = gumbel_audit::rng::seeded(seed);
//!         let draws = (0..n).map(|_| {
//!             let mut best = (0, f64::NEG_INFINITY);
//!             for (i, l) in logits.iter().enumerate() {
//!                 let z = l + noise(&mut rng);
//!                 if z > best.1 { best = (i, z); }
//!             }
//!             best.0 as i64
//!         }).collect();
//!         Ok(Array::from_i64(draws))
//!     }
//! }
//!
//! // In your tests: #[test] fn my_sampler_passes_the_audit() { ... }
//! let options = AuditOptions::new(Level::Quick, 42, 1e-3).unwrap();
//! let report = run_battery(&mut MySampler, &options, &mut |_| {}).unwrap();
//! for check in &report.checks {
//!     assert!(!matches!(check.verdict, Verdict::Fail | Verdict::Error),
//!             "{}: {}", check.id, check.detail);
//! }
//! assert_eq!(report.check("categorical.chi2").unwrap().verdict, Verdict::Pass);
//! assert_eq!(report.check("relaxed.argmax").unwrap().verdict, Verdict::Skipped);
//! ```
//!
//! The same target run through `examples/audit_own_target.rs` prints the full table
//! (`cargo run --release --example audit_own_target`).

pub mod adapter;
pub mod battery;
pub mod checks;
pub mod chunked;
mod ctx;
pub mod half;
pub mod npy;
pub mod options;
mod outcome;
pub mod partial;
pub mod pool;
pub mod power;
mod process;
pub mod reference;
pub mod report;
pub mod result;
pub mod runner;
pub mod seed;
pub mod shard;
pub mod target;
pub mod tolerance;
mod workdir;

pub use adapter::{AdapterOptions, AdapterTarget};
pub use checks::{CheckSpec, Group, Needs, TABLE, check_ids};
pub use ctx::Shared;
pub use options::{
    AuditOptions, DEFAULT_FWER, Level, MAX_SAMPLES, Plan, SampleBudget, Selection, UnknownCheck,
};
pub use pool::{TargetFactory, default_jobs, run_battery_jobs};
pub use power::POWER;
pub use reference::ReferenceTarget;
pub use result::{AuditReport, CheckResult, Figure, Progress, Verdict};
pub use runner::run_battery;
pub use seed::{SeedUse, request_seed};
pub use target::{
    Array, ArrayData, Capabilities, Dtype, GradRequest, ObjectiveSpec, Op, Target, TargetError,
    TokenRequest,
};
