//! The `gumbel-audit` command of the Python package: the crate's command line, compiled into the
//! extension module and run in the Python process, so that `pip install` alone gives the whole
//! tool (no separate binary to find or bundle).
//!
//! The command line's source is the binary's own (`src/cli/`), included here by path: one
//! implementation, the same flags, messages and exit codes as the `gumbel-audit` binary.

#[allow(dead_code, unreachable_pub)]
#[path = "../../src/cli/mod.rs"]
mod command_line;

use std::process::ExitCode;

use pyo3::prelude::*;

/// The numeric value of an exit code (`ExitCode` has no stable accessor; it compares by value).
fn exit_status(code: ExitCode) -> u8 {
    (0..=u8::MAX)
        .find(|&i| ExitCode::from(i) == code)
        .unwrap_or(2)
}

/// Runs `gumbel-audit` with `argv` (program name first) and returns its exit status. Output goes
/// straight to the process's standard output and error (file descriptors 1 and 2): flush
/// Python's `sys.stdout`/`sys.stderr` before calling.
#[pyfunction]
pub fn cli_main(py: Python<'_>, argv: Vec<String>) -> PyResult<u8> {
    crate::guard::guarded(|| {
        let code = py.detach(|| command_line::run_from(argv));
        Ok(exit_status(code))
    })
}
