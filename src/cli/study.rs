//! `gumbel-audit study …`: studies that print CSV and optionally write SVG plots.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gumbel_audit::distributions::Logits;
use gumbel_audit::grad::Objective;
use gumbel_audit::plot::{Plot, Series, Style};
use gumbel_audit::study::semi_supervised::{
    EstimatorError, PAPER_SPEEDUPS, SemiSupervisedRow, SemiSupervisedStudy,
};
use gumbel_audit::study::temperature::{TemperatureRow, default_grid, temperature_study};
use gumbel_audit::study::variance::{self, VarianceRow, VarianceStudy};

use super::{fmt_f64, parse_list};

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

/// Arguments of `study variance`.
#[derive(Debug, Args)]
pub struct VarianceArgs {
    /// Logits, comma-separated; `-inf` masks a category.
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
    #[arg(long, default_value_t = variance::DEFAULT_ALPHA)]
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
    #[arg(long, default_value_t = 0.5)]
    tau: f64,
    /// Single-sample draws per evaluation point for the error columns (at least 2).
    #[arg(long, default_value_t = 400)]
    draws: usize,
    /// Timing blocks per estimator (time per step is the minimum over blocks).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Two-sided error rate of each interval.
    #[arg(long, default_value_t = 0.05)]
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
    objective.map_err(|e| e.to_string())
}

fn variance_study(args: &VarianceArgs) -> Result<ExitCode, String> {
    let logits = Logits::new(parse_list("--logits", &args.logits)?).map_err(|e| e.to_string())?;
    let objective = parse_objective(&args.objective)?;
    let taus = match &args.taus {
        Some(text) => parse_list("--taus", text)?,
        None => variance::default_grid(),
    };
    let mut study = VarianceStudy::new(taus, args.samples, args.seed);
    study.alpha = args.alpha;
    study.rao_draws = args.rao_draws;
    let rows = study.run(&logits, &objective).map_err(|e| e.to_string())?;
    let csv = variance_csv(&rows);
    super::write_stdout(&csv)?;
    if let Some(dir) = &args.out {
        write_file(dir, "variance.csv", &csv)?;
        let title = format!("logits {} · {}", args.logits, args.objective);
        let gradient = objective
            .exact_gradient(&logits)
            .map_err(|e| e.to_string())?;
        let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        let svg = variance_plot(&rows, &title, args.alpha, norm);
        write_file(dir, "variance.svg", &svg)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn variance_csv(rows: &[VarianceRow]) -> String {
    let mut s =
        String::from("estimator,tau,bias_norm,variance,mse,variance_ci_low,variance_ci_high\n");
    for r in rows {
        let tau = r.tau.map(fmt_f64).unwrap_or_default();
        let cells = [
            r.bias_norm,
            r.variance,
            r.mse,
            r.variance_ci_low,
            r.variance_ci_high,
        ];
        let cells: Vec<String> = cells.iter().map(|v| fmt_f64(*v)).collect();
        s.push_str(&format!("{},{tau},{}\n", r.estimator, cells.join(",")));
    }
    s
}

/// Three panels sharing the log τ axis: bias (linear axis, so that 0 and intervals reaching 0
/// show), variance with its interval (log axis), MSE (log axis); one colour per estimator in every
/// panel. REINFORCE (exact, τ-independent) is a horizontal dashed line; the bias panel also shows
/// `‖∇L‖`, the bias of the estimator that returns 0, where the relaxed estimators head as τ → ∞.
fn variance_plot(rows: &[VarianceRow], subtitle: &str, alpha: f64, gradient_norm: f64) -> String {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if r.tau.is_some() && !names.contains(&r.estimator.as_str()) {
            names.push(&r.estimator);
        }
    }
    let taus: Vec<f64> = {
        let mut t: Vec<f64> = rows.iter().filter_map(|r| r.tau).collect();
        t.sort_by(f64::total_cmp);
        t.dedup();
        t
    };
    // Estimators at one τ are drawn side by side (τ times 10^(0.03 i), centred, and pointing
    // inwards at the ends of the grid so the axis keeps its decades) so their bars do not hide
    // each other; the CSV has the exact τ.
    let (tau_min, tau_max) = (
        taus.first().copied().unwrap_or(1.0),
        taus.last().copied().unwrap_or(1.0),
    );
    let dodge = |name: &str, tau: f64| -> f64 {
        let i = names.iter().position(|n| *n == name).unwrap_or(0) as f64;
        let last = names.len().saturating_sub(1) as f64;
        let step = if taus.len() < 2 {
            0.0
        } else if tau == tau_min {
            i
        } else if tau == tau_max {
            i - last
        } else {
            i - last / 2.0
        };
        tau * 10f64.powf(0.03 * step)
    };
    let sampled = |name: &str, value: fn(&VarianceRow) -> f64| -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.estimator == name)
            .filter_map(|r| Some((dodge(name, r.tau?), value(r))))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts
    };
    let exact: Vec<&VarianceRow> = rows.iter().filter(|r| r.tau.is_none()).collect();
    let flat = |v: f64| -> Vec<(f64, f64)> {
        match (taus.first(), taus.last()) {
            (Some(&a), Some(&b)) => vec![(a, v), (b, v)],
            _ => Vec::new(),
        }
    };
    type Field = fn(&VarianceRow) -> f64;
    let panel =
        |title: String, y_label: &str, value: Field, ci: Option<(Field, Field)>, log_y: bool| {
            let mut series = Vec::new();
            for name in &names {
                let points = sampled(name, value);
                let errors = ci.map(|(low, high)| {
                    let lo = sampled(name, low);
                    let hi = sampled(name, high);
                    lo.iter().zip(&hi).map(|(a, b)| (a.1, b.1)).collect()
                });
                series.push(Series {
                    name: (*name).to_string(),
                    points,
                    errors,
                    style: Style::Markers,
                });
            }
            for r in &exact {
                let v = value(r);
                let (name, points) = if v > 0.0 || !log_y {
                    (format!("{} (exact)", r.estimator), flat(v))
                } else {
                    (format!("{}: 0 (exact)", r.estimator), Vec::new())
                };
                series.push(Series {
                    name,
                    points,
                    errors: None,
                    style: Style::Dashed,
                });
            }
            Plot {
                title,
                x_label: "temperature τ".into(),
                y_label: y_label.into(),
                log_x: true,
                log_y,
                series,
            }
        };
    let level = fmt_f64(100.0 * (1.0 - alpha));
    let mut bias = panel(
        format!("bias ‖E ĝ - ∇L‖ (bars: ~{level}%) · {subtitle}"),
        "bias norm",
        |r| r.bias_norm,
        Some((|r| r.bias_ci_low, |r| r.bias_ci_high)),
        false,
    );
    // The bias of the estimator that always returns 0: where every estimator heads as τ → ∞.
    bias.series.push(Series {
        name: "‖∇L‖ (ĝ = 0)".into(),
        points: flat(gradient_norm),
        errors: None,
        style: Style::Line,
    });
    Plot::stack(&[
        bias,
        panel(
            format!("variance tr Cov ĝ (bars: {level}% intervals)"),
            "variance",
            |r| r.variance,
            Some((|r| r.variance_ci_low, |r| r.variance_ci_high)),
            true,
        ),
        panel(
            "mean squared error E‖ĝ - ∇L‖² = variance + bias²".to_string(),
            "MSE",
            |r| r.mse,
            None,
            true,
        ),
    ])
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
    let mut study = SemiSupervisedStudy::new(parse_classes(&args.classes)?, args.seed);
    study.width = args.width;
    study.dim = args.dim;
    study.batch = args.batch;
    study.labelled = args.labelled;
    study.temperature = args.tau;
    study.draws = args.draws;
    study.reps = args.reps;
    study.alpha = args.alpha;
    let rows = study.run().map_err(|e| e.to_string())?;
    if let Some(r) = rows.first() {
        eprintln!("timing clock: {}", r.times.clock.name());
    }
    let csv = semi_supervised_csv(&rows);
    super::write_stdout(&csv)?;
    if let Some(dir) = &args.out {
        write_file(dir, "semi_supervised.csv", &csv)?;
        write_file(
            dir,
            "semi_supervised.svg",
            &semi_supervised_plot(&rows, args).to_svg(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

const ERROR_COLUMNS: [&str; 9] = [
    "value_bias",
    "value_bias_ci_low",
    "value_bias_ci_high",
    "value_sd",
    "grad_bias2_rel",
    "grad_variance_rel",
    "grad_mse_rel",
    "grad_mse_rel_ci_low",
    "grad_mse_rel_ci_high",
];

fn error_cells(e: &EstimatorError) -> [f64; 9] {
    [
        e.value_bias,
        e.value_bias_ci_low,
        e.value_bias_ci_high,
        e.value_sd,
        e.grad_bias2_rel,
        e.grad_variance_rel,
        e.grad_mse_rel,
        e.grad_mse_rel_ci_low,
        e.grad_mse_rel_ci_high,
    ]
}

fn semi_supervised_csv(rows: &[SemiSupervisedRow]) -> String {
    let mut header: Vec<String> = [
        "k",
        "exact_us_per_step",
        "gs_us_per_step",
        "st_us_per_step",
        "speedup_gs",
        "speedup_st",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for est in ["gs", "st"] {
        header.extend(ERROR_COLUMNS.iter().map(|c| format!("{est}_{c}")));
    }
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        let mut cells = vec![
            r.times.exact * 1e6,
            r.times.gumbel_softmax * 1e6,
            r.times.straight_through * 1e6,
            r.speedup_gumbel_softmax,
            r.speedup_straight_through,
        ];
        cells.extend(error_cells(&r.gumbel_softmax));
        cells.extend(error_cells(&r.straight_through));
        let cells: Vec<String> = cells.iter().map(|v| fmt_f64(*v)).collect();
        s.push_str(&format!("{},{}\n", r.k, cells.join(",")));
    }
    s
}

/// Speedup against k on log-log axes: measured (Gumbel-Softmax, straight-through), the paper's
/// two points, and the ceiling `speedup = k` of a step made only of decoder passes.
fn semi_supervised_plot(rows: &[SemiSupervisedRow], args: &SemiSupervisedArgs) -> Plot {
    let ks: Vec<f64> = rows.iter().map(|r| r.k as f64).collect();
    let (lo, hi) = ks
        .iter()
        .chain(PAPER_SPEEDUPS.iter().map(|p| &p.0))
        .fold((f64::INFINITY, 0.0f64), |(a, b), &k| (a.min(k), b.max(k)));
    Plot {
        title: format!(
            "step speedup, one sample vs exact (w {}, d {}, batch {}+{} lab., τ {})",
            args.width, args.dim, args.batch, args.labelled, args.tau
        ),
        x_label: "number of classes k".into(),
        y_label: "speedup T_exact / T_sample".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                name: "Gumbel-Softmax".into(),
                points: rows
                    .iter()
                    .map(|r| (r.k as f64, r.speedup_gumbel_softmax))
                    .collect(),
                errors: None,
                style: Style::Markers,
            },
            Series {
                name: "straight-through".into(),
                points: rows
                    .iter()
                    .map(|r| (r.k as f64, r.speedup_straight_through))
                    .collect(),
                errors: None,
                style: Style::Markers,
            },
            Series {
                name: "paper (Jang+ 2017)".into(),
                points: PAPER_SPEEDUPS.to_vec(),
                errors: None,
                style: Style::Markers,
            },
            Series {
                name: "speedup = k".into(),
                points: vec![(lo, lo), (hi, hi)],
                errors: None,
                style: Style::Dashed,
            },
        ],
    }
}

pub(crate) fn write_file(dir: &Path, name: &str, contents: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
