//! The presentation of the temperature study ([`super::temperature`]): its CSV and its SVG
//! plot, as strings and data; the CLI only prints and writes them.
//!
//! CSV columns: `tau,mean_one_minus_max,ci_low,ci_high,predicted`, one row per `τ`, floats
//! in [`fmt_f64`]'s round-trip form. The plot: the measured `E[1 - max y]` with its interval,
//! the first-order prediction `ln2·τ·(1 - Σπ²)` and the `τ → ∞` limit `1 - 1/k`, on log-log
//! axes.

use super::report::fmt_f64;
use super::temperature::TemperatureRow;
use crate::distributions::Logits;
use crate::plot::{Plot, Series, Style};

/// The study's CSV (header and one line per row).
///
/// # Example
/// ```
/// use gumbel_audit::distributions::Logits;
/// use gumbel_audit::study::temperature::{default_grid, temperature_study};
/// use gumbel_audit::study::temperature_report::temperature_csv;
/// # fn main() -> Result<(), gumbel_audit::Error> {
/// let logits = Logits::new(vec![1.0, 0.0])?;
/// let rows = temperature_study(&logits, &default_grid()[..2], 100, 0.01, 0)?;
/// let csv = temperature_csv(&rows);
/// assert!(csv.starts_with("tau,mean_one_minus_max,ci_low,ci_high,predicted\n"));
/// assert_eq!(csv.lines().count(), 3);
/// # Ok(()) }
/// ```
pub fn temperature_csv(rows: &[TemperatureRow]) -> String {
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

/// The study's plot; `text` is the logits as the user wrote them (for the title).
pub fn temperature_plot(rows: &[TemperatureRow], logits: &Logits, text: &str) -> Plot {
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
