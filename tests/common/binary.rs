//! The `gumbel-audit` binary as the tests run it: its path (cargo builds it for every
//! integration test and passes the path in `CARGO_BIN_EXE_gumbel-audit`), a one-call runner,
//! and per-process scratch directories.
//!
//! All the tests of one layer run as threads of one process, so a scratch directory is named
//! by the caller's tag and the process id: `<temp>/gumbel-audit-<tag>-<pid>`. Tags must be
//! distinct across the tests of a binary that can run at the same time.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Path of the `gumbel-audit` binary built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_gumbel-audit");

/// `gumbel-audit` as a [`Command`], to add arguments to.
pub fn command() -> Command {
    Command::new(BIN)
}

/// Runs `gumbel-audit args…` to completion and returns its status, stdout and stderr.
pub fn run(args: &[&str]) -> Output {
    command().args(args).output().expect("the binary runs")
}

/// The scratch directory `<temp>/gumbel-audit-<tag>-<pid>` (not created here).
pub fn temp_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gumbel-audit-{tag}-{}", std::process::id()))
}
