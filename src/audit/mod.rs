//! Auditing an implementation: the [`Target`] trait its ops are reached through, and (as they
//! land) the reference target, the adapter process, array interchange, the battery of checks and
//! the reports.
//!
//! Nothing here knows about terminals; the CLI prints what the battery returns.

pub mod adapter;
pub mod npy;
pub mod target;

pub use target::{
    Array, ArrayData, Capabilities, Dtype, GradRequest, ObjectiveSpec, Op, Target, TargetError,
};
