//! The `gumbel-audit` command line: argument parsing and printing only (docs/design/style.md §12).
//!
//! Exit codes: 0 success, 1 an audited check failed, 2 usage, bad input, I/O or adapter error.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
