//! The presentation of the variance study ([`super::variance`]): its CSV and its SVG plot, as
//! strings; the CLI only prints and writes them.
//!
//! CSV columns: `estimator,tau,bias_norm,variance,mse,variance_ci_low,variance_ci_high`, the
//! REINFORCE row first with an empty `tau` (it does not depend on `τ`), floats in
//! [`fmt_f64`]'s round-trip form. The plot: three panels (bias, variance, MSE) against `τ`.

use super::report::fmt_f64;
use super::variance::VarianceRow;
use crate::distributions::Logits;
use crate::error::Error;
use crate::grad::Objective;
use crate::plot::{Plot, Series, Style};

/// The study's CSV (header and one line per row).
pub fn variance_csv(rows: &[VarianceRow]) -> String {
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

/// The study's SVG for `logits` and `objective` ([`variance_plot`] with `‖∇L‖` of the exact
/// discrete gradient); `subtitle` names them as the user wrote them.
///
/// # Errors
/// As [`Objective::exact_gradient`].
pub fn variance_svg(
    rows: &[VarianceRow],
    logits: &Logits,
    objective: &Objective,
    subtitle: &str,
    alpha: f64,
) -> Result<String, Error> {
    let gradient = objective.exact_gradient(logits)?;
    let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
    Ok(variance_plot(rows, subtitle, alpha, norm))
}

/// Three panels sharing the log τ axis: bias (linear axis, so that 0 and intervals reaching 0
/// show), variance with its interval (log axis), MSE (log axis); one colour per estimator in every
/// panel. REINFORCE (exact, τ-independent) is a horizontal dashed line; the bias panel also shows
/// `‖∇L‖`, the bias of the estimator that returns 0, where the relaxed estimators head as τ → ∞.
pub fn variance_plot(
    rows: &[VarianceRow],
    subtitle: &str,
    alpha: f64,
    gradient_norm: f64,
) -> String {
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
