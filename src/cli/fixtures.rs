//! `gumbel-audit fixtures …`: check the reference against the golden fixtures, regenerate the
//! Rust-generated ones.
//!
//! Exit codes: 0 every family passes, 1 a value is outside its tolerance, 2 a file is missing,
//! unreadable or breaks its schema.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gumbel_audit::golden::{self, Family};

/// What to do with the fixtures.
#[derive(Debug, Subcommand)]
pub enum FixturesCommand {
    /// Write the Rust-generated fixtures (value_stability.json) from the reference.
    Regenerate(DirArgs),
    /// Compare the reference with every fixture family; prints cases and the largest errors.
    Check(CheckArgs),
}

/// The fixtures directory.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Directory holding the fixture files.
    #[arg(long, default_value = "fixtures")]
    dir: PathBuf,
}

/// Arguments of `fixtures check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Directory holding the fixture files.
    #[arg(long, default_value = "fixtures")]
    dir: PathBuf,
    /// Also print, per family, the tolerance rule and the value closest to it.
    #[arg(long)]
    verbose: bool,
}

/// Runs a fixtures command.
pub fn run(command: &FixturesCommand) -> Result<ExitCode, String> {
    match command {
        FixturesCommand::Regenerate(args) => {
            let mut text = String::new();
            for path in golden::regenerate(&args.dir).map_err(|e| format!("--dir: {e}"))? {
                text.push_str(&format!("wrote {}\n", path.display()));
            }
            super::write_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        FixturesCommand::Check(args) => {
            let (text, code) = check(&args.dir, args.verbose);
            super::write_stdout(&text)?;
            Ok(code)
        }
    }
}

/// The check's table and its exit code.
fn check(dir: &std::path::Path, verbose: bool) -> (String, ExitCode) {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<20} {:>6} {:>7} {:>10} {:>10} {:>10}  verdict",
        "family", "cases", "values", "max rel", "max abs", "err/tol"
    );
    let mut invalid = false;
    let mut failed = false;
    for (family, result) in Family::ALL.iter().zip(golden::check_dir(dir)) {
        match result {
            Ok(c) => {
                let _ = writeln!(
                    text,
                    "{:<20} {:>6} {:>7} {:>10.2e} {:>10.2e} {:>10.2e}  {}",
                    family.name(),
                    c.cases,
                    c.values,
                    c.max_relative_error,
                    c.max_absolute_error,
                    c.max_error_over_tolerance,
                    if c.passed {
                        "pass".to_string()
                    } else {
                        format!("FAIL ({} values)", c.failures)
                    }
                );
                if verbose {
                    let _ = writeln!(text, "    tolerance: {}", family.tolerance_summary());
                    if !c.worst_case.is_empty() {
                        let _ = writeln!(text, "    closest to tolerance: {}", c.worst_case);
                    }
                }
                for example in &c.failure_examples {
                    let _ = writeln!(text, "    {example}");
                }
                failed |= !c.passed;
            }
            Err(e) => {
                let _ = writeln!(text, "{:<20} invalid: {e}", family.name());
                invalid = true;
            }
        }
    }
    let code = if invalid {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    (text, code)
}
