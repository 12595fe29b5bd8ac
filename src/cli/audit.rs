//! `gumbel-audit audit`: run the battery against the reference or an adapter process, print the
//! table, write `--json` and `--report`.
//!
//! With `--shard I/N --partial PATH` it runs one shard and writes its partial (no verdict,
//! exit 0; `merge` decides). Exit codes of a full audit: 0 no check failed; 1 a check failed; 2 usage error (including an unknown check
//! id in `--only` / `--skip`), I/O error, an adapter error (a check with verdict `error`, or an
//! adapter that cannot be started), or an audit that tested nothing (every check skipped).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use gumbel_audit::audit::adapter::{AdapterOptions, AdapterTarget};
use gumbel_audit::audit::partial::{Partial, write_atomic};
use gumbel_audit::audit::report::{to_json, to_markdown, to_table};
use gumbel_audit::audit::shard::{Shard, run_shard};
use gumbel_audit::audit::{
    AuditOptions, AuditReport, Capabilities, DEFAULT_FWER, Level, MAX_SAMPLES, Progress,
    ReferenceTarget, SampleBudget, Selection, Target, TargetError, default_jobs, run_battery_jobs,
};

/// Arguments of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit the built-in reference implementation.
    #[arg(long)]
    reference: bool,
    /// Sample sizes: quick (smoke test), standard (CI), thorough (about 4x standard), deep
    /// (standard plus 10⁸–10⁹ draws for the chunked tail checks, in bounded memory).
    #[arg(long, default_value = "standard", value_parser = ["quick", "standard", "thorough", "deep"])]
    level: String,
    /// Draws per case of the chunked checks, overriding the level's: `N` for every chunked
    /// check, `ID=N` for one (e.g. `1e9` or `noise.tail=2e8`; comma-separated or repeated).
    #[arg(long, value_name = "[ID=]N", value_delimiter = ',')]
    samples: Vec<String>,
    /// Workers: threads for the reference, adapter processes for an adapter (default: the
    /// number of cores). The report is the same for every number.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
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
    /// Run only shard I of N (0 ≤ I < N) of this audit and write its partial to --partial
    /// instead of a report: units u with u mod N = I, and the whole checks on shard 0
    /// (docs/distributed.md). `gumbel-audit merge` turns the N partials into the report.
    #[arg(long, value_name = "I/N", requires = "partial", conflicts_with_all = ["json", "report"])]
    shard: Option<String>,
    /// Where the shard writes its partial (atomically). If the file already holds this shard's
    /// valid partial of the same run, the shard is not run again.
    #[arg(long, value_name = "PATH", requires = "shard")]
    partial: Option<PathBuf>,
    /// Overwrite a --partial file that is not this shard's partial of this run.
    #[arg(long, requires = "partial")]
    force: bool,
    /// The adapter: COMMAND [ARGS...] after `--`, speaking adapter protocol v1.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Starts one adapter process for `command`.
fn adapter_target(
    command: &str,
    args: &[String],
    timeout: Duration,
) -> Result<Box<dyn Target + Send>, String> {
    let mut options = AdapterOptions::default();
    options.hello_timeout = timeout.max(options.hello_timeout);
    options.timeout = timeout;
    AdapterTarget::spawn(command, args, options)
        .map(|t| Box::new(t) as Box<dyn Target + Send>)
        .map_err(|e| format!("cannot start the adapter '{command}': {e}"))
}

/// Largest `--jobs`: 1024 workers (each an adapter process or a thread).
const MAX_JOBS: usize = 1024;

/// Parses one `--samples` value: a count `N` (an integer, or a float such as `1e9` that is
/// one) or `ID=N`.
fn parse_samples(values: &[String]) -> Result<SampleBudget, String> {
    let mut all = None;
    let mut per_check = Vec::new();
    for v in values {
        let (id, n) = match v.split_once('=') {
            Some((id, n)) => (Some(id.trim().to_string()), n.trim()),
            None => (None, v.trim()),
        };
        let count = n
            .parse::<u64>()
            .ok()
            .or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .filter(|x| {
                        x.is_finite() && *x >= 1.0 && x.fract() == 0.0 && *x <= MAX_SAMPLES as f64
                    })
                    .map(|x| x as u64)
            })
            .ok_or_else(|| {
                format!(
                    "--samples {v}: the count must be a whole number from 1 to {MAX_SAMPLES:e} \
                     (e.g. 1e9 or noise.tail=2e8)"
                )
            })?;
        match id {
            Some(id) => per_check.push((id, count)),
            None if all.is_some() => {
                return Err(format!(
                    "--samples {v}: a count for every check is given twice"
                ));
            }
            None => all = Some(count),
        }
    }
    SampleBudget::new(all, per_check).map_err(|e| format!("--samples: {e}"))
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
    let level = Level::from_name(&args.level).ok_or_else(|| {
        format!(
            "--level {}: use quick, standard, thorough or deep",
            args.level
        )
    })?;
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
        .with_selection(selection)
        .with_samples(parse_samples(&args.samples)?);
    let timeout = timeout_duration(args.timeout)?;
    let jobs = match args.jobs {
        None => default_jobs(),
        Some(j) if (1..=MAX_JOBS).contains(&j) => j,
        Some(j) => return Err(format!("--jobs {j}: use 1 to {MAX_JOBS} workers")),
    };
    // The first target is made here so that an adapter that cannot start is a usage error
    // (exit 2) before any work; the factory makes the other workers' targets.
    let first: std::sync::Mutex<Option<Box<dyn Target + Send>>> = std::sync::Mutex::new(None);
    let factory: Box<dyn Fn() -> Result<Box<dyn Target + Send>, TargetError> + Sync> =
        match (args.reference, args.command.split_first()) {
            (true, None) => {
                Box::new(|| Ok(Box::new(ReferenceTarget::new()) as Box<dyn Target + Send>))
            }
            (true, Some(_)) => {
                return Err(
                    "give either --reference or an adapter command after --, not both".into(),
                );
            }
            (false, Some((command, rest))) => {
                let started = adapter_target(command, rest, timeout)?;
                if let Ok(mut slot) = first.lock() {
                    *slot = Some(started);
                }
                let (command, rest) = (command.clone(), rest.to_vec());
                let first = &first;
                Box::new(move || {
                    if let Some(t) = first.lock().ok().and_then(|mut f| f.take()) {
                        return Ok(t);
                    }
                    adapter_target(&command, &rest, timeout).map_err(TargetError::Fault)
                })
            }
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
    if let (Some(shard), Some(path)) = (&args.shard, &args.partial) {
        let shard = Shard::parse(shard).map_err(|e| format!("--shard {e}"))?;
        // A directory that does not exist is found now, not after the shard's work.
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(format!(
                "--partial {}: the directory {} does not exist",
                path.display(),
                dir.display()
            ));
        }
        let mut first = factory().map_err(|e| format!("cannot start the audit: {e}"))?;
        let caps = match first.capabilities() {
            Ok(caps) => caps,
            Err(e) => {
                let _ = first.finish();
                return Err(format!("cannot start the audit: {e}"));
            }
        };
        if let Some(done) = existing_partial(path, &caps, &options, shard, args.force)? {
            let _ = first.finish();
            super::write_stderr(&format!(
                "shard {shard}: {} already holds this shard's partial of this run ({} of {} \
                 units); not run again\n",
                path.display(),
                done.unit_count(),
                done.units_total()
            ));
            return Ok(ExitCode::SUCCESS);
        }
        let partial = run_shard(
            first,
            &caps,
            factory.as_ref(),
            &options,
            shard,
            jobs,
            &mut progress,
        );
        write_atomic(path, &partial.to_text())?;
        let whole = if partial.whole_count() > 0 {
            let k = partial.whole_count();
            format!(" and the {k} whole check{}", if k == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        super::write_stdout(&format!(
            "shard {shard}: ran {} of the {} units{whole} of '{}'; wrote {} (`gumbel-audit \
             merge` the partials of every shard to decide)\n",
            partial.unit_count(),
            partial.units_total(),
            caps.name,
            path.display()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = run_battery_jobs(factory.as_ref(), &options, jobs, &mut progress)
        .map_err(|e| format!("cannot start the audit: {e}"))?;
    emit(&report, args.json.as_deref(), args.report.as_deref())
}

/// What a shard finds at its `--partial` path before running: `Some` this shard's valid
/// partial of this run (the shard is done), `None` nothing there (or `--force`).
///
/// # Errors
/// A file (or link, or directory) that is not this shard's partial of this run, without
/// `--force`: never overwritten silently.
fn existing_partial(
    path: &Path,
    caps: &Capabilities,
    options: &AuditOptions,
    shard: Shard,
    force: bool,
) -> Result<Option<Partial>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("--partial {}: {e}", path.display())),
    };
    let why = if meta.file_type().is_file() {
        match std::fs::read_to_string(path) {
            Ok(text) => match Partial::from_text(&text) {
                Ok(p) => match p.is_for(caps, options, shard) {
                    Ok(()) => return Ok(Some(p)),
                    Err(e) => e,
                },
                Err(e) => format!("not a valid partial: {e}"),
            },
            Err(e) => format!("unreadable: {e}"),
        }
    } else {
        "not a regular file (a link, a directory, ...)".to_string()
    };
    if force {
        return Ok(None);
    }
    Err(format!(
        "--partial {} exists and is not shard {shard}'s partial of this run ({why}); \
         remove it, choose another path, or pass --force to replace it",
        path.display()
    ))
}

/// Writes `--json` and `--report`, prints the table (and the problem of an audit that tested
/// nothing), and returns the report's exit code: what `audit` and `merge` both end with.
pub(crate) fn emit(
    report: &AuditReport,
    json: Option<&Path>,
    report_dir: Option<&Path>,
) -> Result<ExitCode, String> {
    // The files first: a failing standard output must not lose the report.
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&to_json(report))
            .map_err(|e| format!("cannot serialise the report: {e}"))?;
        write_file(path, &(text + "\n"))?;
    }
    if let Some(dir) = report_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let md = to_markdown(report);
        write_file(&dir.join("report.md"), &md.markdown)?;
        for (name, svg) in &md.plots {
            write_file(&dir.join(name), svg)?;
        }
    }
    super::write_stdout(&to_table(report))?;
    if let Some(problem) = &report.problem {
        super::write_stderr(&format!("error: {problem}\n"));
    }
    Ok(ExitCode::from(report.exit_code()))
}
