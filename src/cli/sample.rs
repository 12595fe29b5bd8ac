//! `gumbel-audit sample` and `gumbel-audit log-prob`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Args;
use gumbel_audit::distributions::{Concrete, Logits};
use gumbel_audit::rng::seeded;

use super::{fmt_f64, parse_list};

/// Arguments of `sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Logits, comma-separated, or `@path` (text or .npy file) or `@-` (standard input);
    /// `-inf` masks a category.
    #[arg(long, allow_hyphen_values = true)]
    logits: String,
    /// Temperature τ > 0.
    #[arg(long, allow_hyphen_values = true)]
    tau: f64,
    /// Number of samples (rows).
    #[arg(short = 'n', long = "samples", default_value_t = 1)]
    n: u64,
    /// Seed of the ChaCha8 RNG (value-stable across platforms).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the hard (one-hot) sample instead of the relaxed one.
    #[arg(long)]
    hard: bool,
}

/// Arguments of `log-prob`.
#[derive(Debug, Args)]
pub struct LogProbArgs {
    /// Logits, comma-separated, or `@path` (text or .npy file) or `@-` (standard input);
    /// `-inf` masks a category.
    #[arg(long, allow_hyphen_values = true)]
    logits: String,
    /// Temperature τ > 0.
    #[arg(long, allow_hyphen_values = true)]
    tau: f64,
    /// The point of the simplex, comma-separated, or `@path` / `@-` as for --logits (masked
    /// categories exactly 0).
    #[arg(long, allow_hyphen_values = true)]
    y: String,
}

fn concrete(logits: &str, tau: f64) -> Result<Concrete, String> {
    let logits =
        Logits::new(parse_list("--logits", logits)?).map_err(|e| format!("--logits: {e}"))?;
    Concrete::new(logits, tau).map_err(|e| format!("--tau: {e}"))
}

/// Prints `n` rows of `k` values.
pub fn sample(args: &SampleArgs) -> Result<ExitCode, String> {
    let dist = concrete(&args.logits, args.tau)?;
    let mut rng = seeded(args.seed);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut row = vec![0.0; dist.len()];
    let io = |e: std::io::Error| format!("cannot write to stdout: {e}");
    for _ in 0..args.n {
        if args.hard {
            row = dist.sample_hard(&mut rng);
        } else {
            dist.sample_into(&mut rng, &mut row);
        }
        let mut first = true;
        for v in &row {
            if !first {
                out.write_all(b",").map_err(io)?;
            }
            first = false;
            out.write_all(fmt_f64(*v).as_bytes()).map_err(io)?;
        }
        out.write_all(b"\n").map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `ln p(y)`.
pub fn log_prob(args: &LogProbArgs) -> Result<ExitCode, String> {
    let dist = concrete(&args.logits, args.tau)?;
    let y = parse_list("--y", &args.y)?;
    let lp = dist.ln_pdf(&y).map_err(|e| format!("--y: {e}"))?;
    super::write_stdout(&format!("{}\n", fmt_f64(lp)))?;
    Ok(ExitCode::SUCCESS)
}
