//! `gumbel-audit audit`: run the battery against the reference or an adapter process, print the
//! table, write `--json` and `--report`.
//!
//! Exit codes: 0 no check failed; 1 a check failed; 2 usage error (including an unknown check
//! id in `--only` / `--skip`), I/O error, an adapter error (a check with verdict `error`, or an
//! adapter that cannot be started), or an audit that tested nothing (every check skipped).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use gumbel_audit::audit::adapter::{AdapterOptions, AdapterTarget};
use gumbel_audit::audit::report::{to_json, to_markdown, to_table};
use gumbel_audit::audit::{
    AuditOptions, DEFAULT_FWER, Level, Progress, ReferenceTarget, Selection, Target, run_battery,
};

/// Arguments of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit the built-in reference implementation.
    #[arg(long)]
    reference: bool,
    /// Sample sizes: quick (smoke test), standard (CI), thorough (about 4x standard).
    #[arg(long, default_value = "standard", value_parser = ["quick", "standard", "thorough"])]
    level: String,
    /// Master seed; every request's seed is derived from it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Family-wise false-alarm rate of the whole battery (Holm), in [1e-300, 1).
    #[arg(long, default_value_t = DEFAULT_FWER, allow_hyphen_values = true)]
    fwer: f64,
    /// Write the report as JSON to this path (schema: docs/audit-report-schema.md).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write report.md and SVG plots into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Per-request timeout for an adapter process, in seconds: positive, at most 10⁶ (about
    /// 11.6 days).
    #[arg(long, default_value_t = 300.0, allow_hyphen_values = true)]
    timeout: f64,
    /// Run only these checks (comma-separated ids, e.g. `noise.cdf,bad_input`).
    #[arg(long, value_name = "ID[,ID]", value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Leave out these checks (comma-separated ids).
    #[arg(long, value_name = "ID[,ID]", value_delimiter = ',')]
    skip: Vec<String>,
    /// No progress bar on standard error.
    #[arg(long)]
    quiet: bool,
    /// The adapter: COMMAND [ARGS...] after `--`, speaking adapter protocol v1.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Builds the target for an adapter command.
///
/// The child-process target (`audit::adapter`) is built by its own module; until it is part of
/// this build, this path reports that and exits with 2.
fn adapter_target(
    command: &str,
    args: &[String],
    timeout: Duration,
) -> Result<Box<dyn Target>, String> {
    let mut options = AdapterOptions::default();
    options.hello_timeout = timeout.max(options.hello_timeout);
    options.timeout = timeout;
    AdapterTarget::spawn(command, args, options)
        .map(|t| Box::new(t) as Box<dyn Target>)
        .map_err(|e| format!("cannot start the adapter '{command}': {e}"))
}

/// Draws a progress bar on standard error (only when it is a terminal).
fn progress_bar(p: &Progress) {
    let mut err = std::io::stderr();
    if p.done == p.total {
        let _ = write!(err, "\r{:80}\r", "");
    } else {
        let width = 30;
        let filled = width * p.done / p.total.max(1);
        let _ = write!(
            err,
            "\r[{}{}] {:>2}/{} {:<30}",
            "#".repeat(filled),
            " ".repeat(width - filled),
            p.done,
            p.total,
            p.id
        );
    }
    let _ = err.flush();
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Largest `--timeout`, in seconds: 10⁶ (about 11.6 days), far beyond any request's need and
/// far below the range where a `Duration` or a deadline `now + timeout` could overflow.
const MAX_TIMEOUT_SECONDS: f64 = 1e6;

/// Checks `--timeout` (finite, positive, at most [`MAX_TIMEOUT_SECONDS`]) and converts it.
fn timeout_duration(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECONDS {
        Duration::try_from_secs_f64(seconds).map_err(|e| format!("--timeout: {e}"))
    } else {
        Err(format!(
            "--timeout {}: it must be a positive number of seconds, at most {}",
            super::fmt_f64(seconds),
            super::fmt_f64(MAX_TIMEOUT_SECONDS)
        ))
    }
}

/// Runs `audit`.
pub fn audit(args: &AuditArgs) -> Result<ExitCode, String> {
    let level = Level::from_name(&args.level)
        .ok_or_else(|| format!("--level {}: use quick, standard or thorough", args.level))?;
    let selection = Selection::new(args.only.as_deref(), &args.skip).map_err(|e| {
        format!(
            "--{} {e}",
            if args.only.iter().flatten().any(|id| *id == e.id) {
                "only"
            } else {
                "skip"
            }
        )
    })?;
    let options = AuditOptions::new(level, args.seed, args.fwer)
        .map_err(|e| format!("--fwer: {e}"))?
        .with_selection(selection);
    let timeout = timeout_duration(args.timeout)?;
    let mut target: Box<dyn Target> = match (args.reference, args.command.split_first()) {
        (true, None) => Box::new(ReferenceTarget::new()),
        (true, Some(_)) => {
            return Err("give either --reference or an adapter command after --, not both".into());
        }
        (false, Some((command, rest))) => adapter_target(command, rest, timeout)?,
        (false, None) => {
            return Err(
                "nothing to audit: use --reference, or give an adapter after -- (e.g. \
                 `gumbel-audit audit -- python3 adapter.py`)"
                    .into(),
            );
        }
    };
    let show = !args.quiet && std::io::stderr().is_terminal();
    let mut progress = |p: &Progress| {
        if show {
            progress_bar(p);
        }
    };
    let report = run_battery(target.as_mut(), &options, &mut progress)
        .map_err(|e| format!("cannot start the audit: {e}"))?;
    // The files first: a failing standard output must not lose the report.
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&to_json(&report))
            .map_err(|e| format!("cannot serialise the report: {e}"))?;
        write_file(path, &(text + "\n"))?;
    }
    if let Some(dir) = &args.report {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let md = to_markdown(&report);
        write_file(&dir.join("report.md"), &md.markdown)?;
        for (name, svg) in &md.plots {
            write_file(&dir.join(name), svg)?;
        }
    }
    super::write_stdout(&to_table(&report))?;
    if let Some(problem) = &report.problem {
        super::write_stderr(&format!("error: {problem}\n"));
    }
    Ok(ExitCode::from(report.exit_code()))
}
