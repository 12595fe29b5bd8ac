//! `gumbel-audit merge PARTIAL...`: the partials of every shard of one audit (`audit --shard
//! I/N --partial PATH`) → the report, printed and written exactly as `audit` prints and writes
//! it for the same run on one machine.
//!
//! Exit codes: those of `audit` (0 no check failed, 1 a check failed, 2 an adapter error or
//! nothing tested); 2 also when the files do not belong together (another run, a shard given
//! twice or missing) or one is not a valid partial (truncated, edited, foreign), with a message
//! naming the file, the field and the values (`audit::partial`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use gumbel_audit::audit::partial::merge as merge_partials;

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial files, one per shard, in any order.
    #[arg(value_name = "PARTIAL", required = true)]
    partials: Vec<PathBuf>,
    /// Write the report as JSON to this path (schema: docs/audit-report-schema.md).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write report.md and SVG plots into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// No summary line on standard error.
    #[arg(long)]
    quiet: bool,
}

/// Runs `merge`.
pub fn merge(args: &MergeArgs) -> Result<ExitCode, String> {
    let mut files = Vec::with_capacity(args.partials.len());
    for path in &args.partials {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the partial {}: {e}", path.display()))?;
        files.push((path.display().to_string(), text));
    }
    let report = merge_partials(&files).map_err(|e| format!("merge: {e}"))?;
    if !args.quiet {
        super::write_stderr(&format!(
            "merged {} partial{} of '{}'\n",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            report.implementation
        ));
    }
    super::audit::emit(&report, args.json.as_deref(), args.report.as_deref())
}
