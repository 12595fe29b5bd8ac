//! Helpers shared by every test binary: the proptest strategies (each defined once), the one
//! place where proptest persists its failures, and the way to run the `gumbel-audit` binary.
//!
//! Each binary (`tests/<layer>/main.rs`) includes this folder with
//! `#[path = "../common/mod.rs"] mod common;`; its modules reach it as `crate::common`. A
//! binary uses only part of it, hence `allow(dead_code)`.
#![allow(dead_code)]

pub mod binary;
pub mod fuzz_inputs;
pub mod regressions;
pub mod strategies;
