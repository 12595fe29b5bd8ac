//! Subcommands of the binary. Each parses its arguments, calls the library, prints the result.

mod audit;
mod fixtures;
mod input;
mod limits;
mod merge;
mod sample;
mod study;
mod tokens;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Reference Gumbel-Max / Gumbel-Softmax (Concrete) sampling and a statistical audit suite.
#[derive(Debug, Parser)]
#[command(name = "gumbel-audit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Audit an implementation: the built-in reference (--reference) or an adapter process
    /// speaking protocol v1 (after --). Exit 0 pass, 1 a check failed, 2 usage or adapter error.
    Audit(audit::AuditArgs),
    /// Merge the partials of every shard of an audit (audit --shard I/N --partial PATH) into
    /// its report: the same output, files and exit code as the audit run on one machine.
    Merge(merge::MergeArgs),
    /// Draw Gumbel-Softmax (Concrete) samples from the reference: N rows of k comma-separated
    /// values.
    Sample(sample::SampleArgs),
    /// Log density of the Concrete distribution at one point of the simplex (Maddison et al.
    /// convention, adapter protocol v1).
    LogProb(sample::LogProbArgs),
    /// Studies that print CSV and, with --out, write SVG plots.
    #[command(subcommand)]
    Study(study::StudyCommand),
    /// Golden fixtures: check the reference against them, regenerate the Rust-generated ones.
    #[command(subcommand)]
    Fixtures(fixtures::FixturesCommand),
    /// The exact law of an LLM token sampler (temperature, top-k, top-p, min-p): kept set and
    /// pmf.
    Tokens(tokens::TokensArgs),
}

/// Runs the command line; the exit code is the process's.
pub fn run() -> ExitCode {
    run_from(std::env::args_os())
}

/// Runs the command line on `args` (the first item is the program name, as in
/// `std::env::args_os`); the exit code is the process's. The Python package's `gumbel-audit`
/// command calls this in its own process (python/src/cli.rs).
pub fn run_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    // `Cli::parse` would print help or a usage error and exit 0 even when standard output is
    // full; here a failed print is exit 2 with a message.
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            return match err.print() {
                Ok(()) => ExitCode::from(code),
                Err(e) => {
                    write_stderr(&format!("gumbel-audit: cannot write the message: {e}\n"));
                    ExitCode::from(2)
                }
            };
        }
    };
    let result = match cli.command {
        Command::Audit(args) => audit::audit(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Sample(args) => sample::sample(&args),
        Command::LogProb(args) => sample::log_prob(&args),
        Command::Study(command) => study::run(&command),
        Command::Fixtures(command) => fixtures::run(&command),
        Command::Tokens(args) => tokens::tokens(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            write_stderr(&format!("gumbel-audit: {err}\n"));
            ExitCode::from(2)
        }
    }
}

/// Writes `text` to standard output; a closed pipe (`| head`) or another I/O error is returned
/// as a message (exit status 2), never a panic as `print!` would give.
pub(crate) fn write_stdout(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

/// Writes `text` to standard error, ignoring a failure (there is nowhere left to report it;
/// `eprint!` would panic).
pub(crate) fn write_stderr(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Reads the list of numbers given to `flag`: comma-separated, or `@path` / `@-` (a text or
/// `.npy` file, or standard input; see `input`). `inf`, `-inf` and `nan` are accepted as
/// numbers so that the library, not the parser, judges them.
pub(crate) fn parse_list(flag: &str, text: &str) -> Result<Vec<f64>, String> {
    input::read_list(flag, text)
}

/// Checks a two-sided error rate given to `flag`: `0 < alpha < 1`.
pub(crate) fn check_alpha(flag: &str, alpha: f64) -> Result<(), String> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(format!("{flag} {}: it must be in (0, 1)", fmt_f64(alpha)))
    }
}

/// Checks a count given to `flag`: at least `min`.
pub(crate) fn check_at_least(flag: &str, value: usize, min: usize) -> Result<(), String> {
    if value >= min {
        Ok(())
    } else {
        Err(format!("{flag} {value}: it must be at least {min}"))
    }
}

/// Floats in CSV and on stdout: the library's round-trip format (one definition).
pub(crate) use gumbel_audit::study::report::fmt_f64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lists() {
        assert_eq!(
            parse_list("--x", "0,-1.5, 2").unwrap(),
            vec![0.0, -1.5, 2.0]
        );
        assert_eq!(
            parse_list("--x", "-inf,1").unwrap(),
            vec![f64::NEG_INFINITY, 1.0]
        );
        assert!(parse_list("--x", "1,,2").is_err());
        assert!(parse_list("--x", "").is_err());
        assert!(parse_list("--x", "a").unwrap_err().contains("'a'"));
    }
}
