//! `gumbel-audit study …`: parses the arguments, runs a study, prints its CSV and optionally
//! writes the CSV and the SVG plot (both built in `gumbel_audit::study`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gumbel_audit::distributions::Logits;
use gumbel_audit::error::check_temperature;
use gumbel_audit::grad::Objective;
use gumbel_audit::study::semi_supervised::SemiSupervisedStudy;
use gumbel_audit::study::semi_supervised::report::{semi_supervised_csv, semi_supervised_plot};
use gumbel_audit::study::temperature::{default_grid, temperature_study};
use gumbel_audit::study::temperature_report::{temperature_csv, temperature_plot};
use gumbel_audit::study::variance::{self, MAX_COEFFICIENT_OVER_TAU, VarianceStudy};
use gumbel_audit::study::variance_report::{variance_csv, variance_svg};

use super::{fmt_f64, limits, parse_list};

fn logits_arg(text: &str) -> Result<Logits, String> {
    Logits::new(parse_list("--logits", text)?).map_err(|e| format!("--logits: {e}"))
}

/// Which study.
#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// E[1 - max y] against τ, with the predicted first-order rate ln2·τ·(1-Σπ²) as τ → 0.
    Temperature(TemperatureArgs),
    /// Bias, variance (trace of the gradient covariance) and MSE of REINFORCE (exact),
    /// Gumbel-Softmax, straight-through and Gumbel-Rao against the exact gradient of the
    /// discrete objective, per temperature. CSV: the REINFORCE row first, with an empty tau
    /// (it does not depend on τ), then one row per sampled estimator and τ.
    Variance(VarianceArgs),
    /// Semi-supervised objective U(x): time per training step with exact marginalisation over
    /// k classes against one Gumbel-Softmax / straight-through sample, the speedup, and the
    /// single-sample estimators' error against the exact value. CSV: one row per k; times in
    /// microseconds per step (thread CPU time on Linux, else wall clock: named on stderr); `<est>_value_bias*` is E[Û - U] with its interval; the
    /// `<est>_grad_*_rel` columns are the logits gradient's squared bias, variance (trace) and
    /// MSE divided by the mean squared norm of the exact gradient (est = gs, st).
    SemiSupervised(SemiSupervisedArgs),
}

/// Arguments of `study temperature`.
#[derive(Debug, Args)]
pub struct TemperatureArgs {
    /// Logits, comma-separated, or `@path` (text or .npy file) or `@-` (standard input);
    /// `-inf` masks a category.
    #[arg(long, allow_hyphen_values = true)]
    logits: String,
    /// Seed of the ChaCha8 RNG (temperature j uses seed + j).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Samples per temperature.
    #[arg(long, default_value_t = 1_000_000)]
    samples: usize,
    /// Two-sided error rate of each interval (0.01: 99% intervals).
    #[arg(long, default_value_t = 0.01, allow_hyphen_values = true)]
    alpha: f64,
    /// Directory to write temperature.csv and temperature.svg into (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `study variance`.
#[derive(Debug, Args)]
pub struct VarianceArgs {
    /// Logits, comma-separated, or `@path` (text or .npy file) or `@-` (standard input);
    /// `-inf` masks a category.
    #[arg(long, allow_hyphen_values = true)]
    logits: String,
    /// Objective: `linear:c0,c1,...` (f = Σ c_i z_i) or `quadratic:t0,t1,...`
    /// (f = Σ (z_i - t_i)²), one coefficient per category.
    #[arg(long, allow_hyphen_values = true)]
    objective: String,
    /// Temperatures, comma-separated [default: 10,5,2,1,0.5,0.2,0.1,0.05,0.02,0.01,0.005,0.002,0.001].
    #[arg(long, allow_hyphen_values = true)]
    taus: Option<String>,
    /// Rows per sampled estimator and temperature (keep samples·τ ≥ 20 for the intervals to
    /// hold their level).
    #[arg(long, default_value_t = 100_000)]
    samples: usize,
    /// Seed of the ChaCha8 RNG (temperature j uses seed + j, the same for every estimator).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Two-sided error rate of each variance interval (0.05: 95% intervals).
    #[arg(long, default_value_t = variance::DEFAULT_ALPHA, allow_hyphen_values = true)]
    alpha: f64,
    /// Conditional draws m per Gumbel-Rao row (the estimator is printed as gumbel_rao_m<m>).
    #[arg(long, default_value_t = variance::DEFAULT_RAO_DRAWS)]
    rao_draws: usize,
    /// Directory to write variance.csv and variance.svg into (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `study semi-supervised`.
#[derive(Debug, Args)]
pub struct SemiSupervisedArgs {
    /// Numbers of classes k, comma-separated integers ≥ 2.
    #[arg(long, default_value = "2,5,10,20,50,100")]
    classes: String,
    /// Seed of the ChaCha8 RNG (k uses seed + k for data and parameters).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Decoder hidden width w (two hidden layers).
    #[arg(long, default_value_t = 64)]
    width: usize,
    /// Data dimension d.
    #[arg(long, default_value_t = 8)]
    dim: usize,
    /// Unlabelled points per step (also the error's evaluation points).
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Labelled points per step (one decoder pass each, for every estimator).
    #[arg(long, default_value_t = 0)]
    labelled: usize,
    /// Temperature τ of the relaxed estimators.
    #[arg(long, default_value_t = 0.5, allow_hyphen_values = true)]
    tau: f64,
    /// Single-sample draws per evaluation point for the error columns (at least 2).
    #[arg(long, default_value_t = 400)]
    draws: usize,
    /// Timing blocks per estimator (time per step is the minimum over blocks).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Two-sided error rate of each interval.
    #[arg(long, default_value_t = 0.05, allow_hyphen_values = true)]
    alpha: f64,
    /// Directory to write semi_supervised.csv and semi_supervised.svg into (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs a study.
pub fn run(command: &StudyCommand) -> Result<ExitCode, String> {
    match command {
        StudyCommand::Temperature(args) => temperature(args),
        StudyCommand::Variance(args) => variance_study(args),
        StudyCommand::SemiSupervised(args) => semi_supervised(args),
    }
}

fn temperature(args: &TemperatureArgs) -> Result<ExitCode, String> {
    super::check_at_least("--samples", args.samples, 2)?;
    super::check_alpha("--alpha", args.alpha)?;
    let logits = logits_arg(&args.logits)?;
    let rows = temperature_study(
        &logits,
        &default_grid(),
        args.samples,
        args.alpha,
        args.seed,
    )
    .map_err(|e| format!("study temperature: {e}"))?;
    let csv = temperature_csv(&rows);
    super::write_stdout(&csv)?;
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

/// Parses `linear:c0,c1,...` or `quadratic:t0,t1,...`; the library judges the numbers.
fn parse_objective(text: &str) -> Result<Objective, String> {
    let (kind, list) = text.split_once(':').ok_or_else(|| {
        format!("--objective '{text}': expected linear:c0,c1,... or quadratic:t0,t1,...")
    })?;
    let values = parse_list("--objective", list)?;
    let objective = match kind.trim() {
        "linear" => Objective::linear(values),
        "quadratic" => Objective::quadratic(values),
        other => {
            return Err(format!(
                "--objective: unknown kind '{other}': expected linear or quadratic"
            ));
        }
    };
    objective.map_err(|e| format!("--objective: {e}"))
}

fn variance_study(args: &VarianceArgs) -> Result<ExitCode, String> {
    super::check_at_least("--samples", args.samples, 2)?;
    super::check_at_least("--rao-draws", args.rao_draws, 1)?;
    super::check_alpha("--alpha", args.alpha)?;
    let logits = logits_arg(&args.logits)?;
    let objective = parse_objective(&args.objective)?;
    // Gumbel-Rao draws m·k uniforms per row.
    limits::check_elements(
        &format!("--rao-draws {} × k {}", args.rao_draws, logits.len()),
        limits::product(&[args.rao_draws, logits.len()]),
    )?;
    let taus = match &args.taus {
        Some(text) => parse_list("--taus", text)?,
        None => variance::default_grid(),
    };
    if objective.len() != logits.len() {
        return Err(format!(
            "--objective: wrong length: {} coefficients for the {} categories of --logits; give \
             one per category",
            objective.len(),
            logits.len()
        ));
    }
    for &tau in &taus {
        check_temperature(tau).map_err(|e| format!("--taus: {e}"))?;
    }
    let taus_flag = if args.taus.is_some() {
        "--taus"
    } else {
        "the default --taus"
    };
    let tau_min = taus
        .iter()
        .copied()
        .filter(|t| *t > 0.0)
        .fold(1.0_f64, f64::min);
    let c_max = objective
        .coefficients()
        .iter()
        .fold(0.0_f64, |m, c| m.max(c.abs()));
    if c_max / tau_min > MAX_COEFFICIENT_OVER_TAU {
        return Err(format!(
            "--objective with {taus_flag}: max |coefficient| / min(1, smallest τ) is {} / {}: it \
             must be at most {} so that the gradients' variance and its interval are finite",
            fmt_f64(c_max),
            fmt_f64(tau_min),
            fmt_f64(MAX_COEFFICIENT_OVER_TAU)
        ));
    }
    let mut study = VarianceStudy::new(taus, args.samples, args.seed);
    study.alpha = args.alpha;
    study.rao_draws = args.rao_draws;
    let rows = study
        .run(&logits, &objective)
        .map_err(|e| format!("study variance: {e}"))?;
    let csv = variance_csv(&rows);
    super::write_stdout(&csv)?;
    if let Some(dir) = &args.out {
        write_file(dir, "variance.csv", &csv)?;
        let title = format!("logits {} · {}", args.logits, args.objective);
        let svg = variance_svg(&rows, &logits, &objective, &title, args.alpha)
            .map_err(|e| format!("--out: cannot draw variance.svg: {e}"))?;
        write_file(dir, "variance.svg", &svg)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The model's and the data's buffers for the largest k: the decoder's weights (`w·w`,
/// `w·(k + d)`), the encoder's (`k·d`), the points (`(batch + labelled)·d`) and the per-point
/// class scores (`(batch + labelled)·k`); each within [`limits::MAX_ELEMENTS`].
fn check_semi_supervised_memory(args: &SemiSupervisedArgs, k: usize) -> Result<(), String> {
    let (w, d) = (args.width, args.dim);
    // A saturated sum is far above the limit, so it is refused like the overflow it stands for.
    let n = args.batch.saturating_add(args.labelled);
    let kd = k.saturating_add(d);
    limits::check_elements(
        &format!("--width {w} × --width {w}"),
        limits::product(&[w, w]),
    )?;
    limits::check_elements(
        &format!("--width {w} × (k {k} + --dim {d})"),
        limits::product(&[w, kd]),
    )?;
    limits::check_elements(&format!("k {k} × --dim {d}"), limits::product(&[k, d]))?;
    limits::check_elements(
        &format!(
            "(--batch {} + --labelled {}) × (k {k} + --dim {d})",
            args.batch, args.labelled
        ),
        limits::product(&[n, kd]),
    )
}

fn parse_classes(text: &str) -> Result<Vec<usize>, String> {
    if text.trim().is_empty() {
        return Err("--classes is empty: give comma-separated integers ≥ 2".into());
    }
    text.split(',')
        .map(|item| {
            let item = item.trim();
            match item.parse::<usize>() {
                Ok(k) if k >= 2 => Ok(k),
                _ => Err(format!("--classes: '{item}' is not an integer ≥ 2")),
            }
        })
        .collect()
}

fn semi_supervised(args: &SemiSupervisedArgs) -> Result<ExitCode, String> {
    let classes = parse_classes(&args.classes)?;
    super::check_at_least("--draws", args.draws, 2)?;
    super::check_at_least("--reps", args.reps, 1)?;
    for (flag, v) in [
        ("--width", args.width),
        ("--dim", args.dim),
        ("--batch", args.batch),
    ] {
        super::check_at_least(flag, v, 1)?;
    }
    super::check_alpha("--alpha", args.alpha)?;
    check_temperature(args.tau).map_err(|e| format!("--tau: {e}"))?;
    let k_max = classes.iter().copied().max().unwrap_or(2);
    check_semi_supervised_memory(args, k_max)?;
    let mut study = SemiSupervisedStudy::new(classes, args.seed);
    study.width = args.width;
    study.dim = args.dim;
    study.batch = args.batch;
    study.labelled = args.labelled;
    study.temperature = args.tau;
    study.draws = args.draws;
    study.reps = args.reps;
    study.alpha = args.alpha;
    let rows = study
        .run()
        .map_err(|e| format!("study semi-supervised: {e}"))?;
    if let Some(r) = rows.first() {
        super::write_stderr(&format!("timing clock: {}\n", r.times.clock.name()));
    }
    let csv = semi_supervised_csv(&rows);
    super::write_stdout(&csv)?;
    if let Some(dir) = &args.out {
        write_file(dir, "semi_supervised.csv", &csv)?;
        write_file(
            dir,
            "semi_supervised.svg",
            &semi_supervised_plot(&rows, &study).to_svg(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn write_file(dir: &Path, name: &str, contents: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
