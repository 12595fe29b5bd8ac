//! Auditing an implementation: the [`Target`] trait its ops are reached through, the reference
//! target, the battery of checks and the reports.
//!
//! Nothing here knows about terminals; the CLI prints what the battery returns.

pub mod battery;
pub mod reference;
pub mod report;
pub mod target;

pub use battery::{
    AuditOptions, AuditReport, CheckResult, DEFAULT_FWER, Figure, Level, Plan, Progress, Verdict,
    run_battery,
};
pub use reference::ReferenceTarget;
pub use target::{
    Array, ArrayData, Capabilities, Dtype, GradRequest, ObjectiveSpec, Op, Target, TargetError,
};
