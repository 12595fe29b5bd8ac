//! The presentation of the semi-supervised study ([`super`]): its CSV and its SVG plot, as
//! strings and data; the CLI only prints and writes them.
//!
//! CSV: one row per `k`; times in microseconds per step; per estimator (`gs`, `st`) the
//! columns of [`ERROR_COLUMNS`]. The plot: the speedup against `k` on log-log axes.

use super::{EstimatorError, PAPER_SPEEDUPS, SemiSupervisedRow, SemiSupervisedStudy};
use crate::plot::{Plot, Series, Style};
use crate::study::report::fmt_f64;

/// The error columns written per estimator, after its `gs_` or `st_` prefix.
pub const ERROR_COLUMNS: [&str; 9] = [
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

/// The study's CSV (header and one line per row).
pub fn semi_supervised_csv(rows: &[SemiSupervisedRow]) -> String {
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

/// The study's plot (the settings in the title from `study`): speedup against k on log-log axes: measured (Gumbel-Softmax, straight-through), the paper's
/// two points, and the ceiling `speedup = k` of a step made only of decoder passes.
pub fn semi_supervised_plot(rows: &[SemiSupervisedRow], study: &SemiSupervisedStudy) -> Plot {
    let ks: Vec<f64> = rows.iter().map(|r| r.k as f64).collect();
    let (lo, hi) = ks
        .iter()
        .chain(PAPER_SPEEDUPS.iter().map(|p| &p.0))
        .fold((f64::INFINITY, 0.0f64), |(a, b), &k| (a.min(k), b.max(k)));
    Plot {
        title: format!(
            "step speedup, one sample vs exact (w {}, d {}, batch {}+{} lab., τ {})",
            study.width, study.dim, study.batch, study.labelled, study.temperature
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
