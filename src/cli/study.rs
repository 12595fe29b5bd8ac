//! `gumbel-audit study …`: studies that print CSV and optionally write SVG plots.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gumbel_audit::dist::Logits;
use gumbel_audit::plot::{Plot, Series, Style};
use gumbel_audit::study::temperature::{TemperatureRow, default_grid, temperature_study};

use super::{fmt_f64, parse_list};

/// Which study.
#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// E[1 - max y] against τ, with the predicted first-order rate ln2·τ·(1-Σπ²) as τ → 0.
    Temperature(TemperatureArgs),
}

/// Arguments of `study temperature`.
#[derive(Debug, Args)]
pub struct TemperatureArgs {
    /// Logits, comma-separated; `-inf` masks a category.
    #[arg(long, allow_hyphen_values = true)]
    logits: String,
    /// Seed of the ChaCha8 RNG (temperature j uses seed + j).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Samples per temperature.
    #[arg(long, default_value_t = 1_000_000)]
    samples: usize,
    /// Two-sided error rate of each interval (0.01: 99% intervals).
    #[arg(long, default_value_t = 0.01)]
    alpha: f64,
    /// Directory to write temperature.csv and temperature.svg into (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs a study.
pub fn run(command: &StudyCommand) -> Result<ExitCode, String> {
    match command {
        StudyCommand::Temperature(args) => temperature(args),
    }
}

fn temperature(args: &TemperatureArgs) -> Result<ExitCode, String> {
    let logits = Logits::new(parse_list("--logits", &args.logits)?).map_err(|e| e.to_string())?;
    let rows = temperature_study(
        &logits,
        &default_grid(),
        args.samples,
        args.alpha,
        args.seed,
    )
    .map_err(|e| e.to_string())?;
    let csv = temperature_csv(&rows);
    print!("{csv}");
    if let Some(dir) = &args.out {
        write_file(dir, "temperature.csv", &csv)?;
        write_file(
            dir,
            "temperature.svg",
            &temperature_plot(&rows, &logits, &args.logits).to_svg(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn temperature_csv(rows: &[TemperatureRow]) -> String {
    let mut s = String::from("tau,mean_one_minus_max,ci_low,ci_high,predicted\n");
    for r in rows {
        let cells = [
            r.tau,
            r.mean_one_minus_max,
            r.ci_low,
            r.ci_high,
            r.predicted,
        ];
        let cells: Vec<String> = cells.iter().map(|v| fmt_f64(*v)).collect();
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

fn temperature_plot(rows: &[TemperatureRow], logits: &Logits, text: &str) -> Plot {
    let limit = 1.0 - 1.0 / logits.unmasked() as f64;
    Plot {
        title: format!("Gumbel-Softmax → categorical as τ → 0 (logits {text})"),
        x_label: "temperature τ".into(),
        y_label: "E[1 - max y]".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                name: "measured (CI)".into(),
                points: rows.iter().map(|r| (r.tau, r.mean_one_minus_max)).collect(),
                errors: Some(rows.iter().map(|r| (r.ci_low, r.ci_high)).collect()),
                style: Style::Markers,
            },
            Series {
                name: "ln2·τ·(1-Σπ²)".into(),
                points: rows.iter().map(|r| (r.tau, r.predicted)).collect(),
                errors: None,
                style: Style::Dashed,
            },
            Series {
                name: "τ → ∞ limit 1 - 1/k".into(),
                points: rows.iter().map(|r| (r.tau, limit)).collect(),
                errors: None,
                style: Style::Line,
            },
        ],
    }
}

pub(crate) fn write_file(dir: &Path, name: &str, contents: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
