//! Reports of an audit: a terminal table, JSON (schema in `docs/audit-report-schema.md`), and
//! Markdown with SVG plots.
//!
//! Everything here returns text; the caller decides where it goes (the CLI writes `--json PATH`
//! and `--report DIR`).
//!
//! # JSON schema (version 2, `"schema": "gumbel-audit-report/2"`)
//! ```text
//! { schema, implementation, dtype, level, seed, fwer, verdict: "pass" | "fail" | "error",
//!   problem, exit_code, ops: [..], unknown_ops: [..], estimators: [..],
//!   summary: { pass, fail, warn, skipped, error, statistical_checks, per_check_alpha },
//!   checks: [ { id, title, verdict, p_value, p_adjusted, n, detail, criterion,
//!               false_alarm, detectable, seeds: [ { stream, chunk, seed } ] } ] }
//! ```
//! `p_value` and `p_adjusted` are `null` for exact criteria and unjudged checks; `problem` is
//! `null` unless the audit tested nothing (then `verdict` is `"error"`). Version 2 added
//! `problem`, `unknown_ops` and each check's `seeds`; a version-1 reader that ignores unknown
//! fields still reads a version-2 report, except for the new verdict `"error"`.
//!
//! # Example
//! ```
//! use gumbel_audit::audit::{AuditOptions, Level, ReferenceTarget, run_battery};
//! use gumbel_audit::audit::report::{to_json, to_markdown, to_table};
//! let options = AuditOptions::new(Level::Quick, 3, 1e-3).unwrap();
//! let report = run_battery(&mut ReferenceTarget::new(), &options, &mut |_| {}).unwrap();
//! let json = to_json(&report);
//! assert_eq!(json["verdict"], "pass");
//! assert!(json["checks"].as_array().unwrap().iter().all(|c| c["id"].is_string()));
//! assert!(to_table(&report).contains("noise.cdf"));
//! let md = to_markdown(&report);
//! assert!(md.markdown.contains("| id |") && !md.plots.is_empty());
//! ```

use serde_json::{Value, json};

use crate::audit::result::{AuditReport, CheckResult, Figure, Verdict};
use crate::plot::{Plot, Series, Style};
use crate::study::report::fmt_f64;

/// Schema identifier written into every JSON report.
pub const SCHEMA: &str = "gumbel-audit-report/2";

fn num(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.is_finite() => json!(x),
        _ => Value::Null,
    }
}

fn check_json(c: &CheckResult) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "verdict": c.verdict.as_str(),
        "p_value": num(c.p_value),
        "p_adjusted": num(c.p_adjusted),
        "n": c.n,
        "detail": c.detail,
        "criterion": c.criterion,
        "false_alarm": c.false_alarm,
        "detectable": c.detectable,
        "seeds": c.seeds.iter().map(|u| json!({
            "stream": u.stream,
            "chunk": u.chunk,
            "seed": u.seed,
        })).collect::<Vec<_>>(),
    })
}

/// The report as JSON (schema in the module doc and `docs/audit-report-schema.md`).
pub fn to_json(report: &AuditReport) -> Value {
    let statistical = report.checks.iter().filter(|c| c.p_value.is_some()).count();
    json!({
        "schema": SCHEMA,
        "implementation": report.implementation,
        "dtype": report.dtype.as_str(),
        "level": report.level.name(),
        "seed": report.seed,
        "fwer": report.fwer,
        "verdict": report.verdict.as_str(),
        "problem": report.problem,
        "exit_code": report.exit_code(),
        "ops": report.ops.iter().map(|o| o.name()).collect::<Vec<_>>(),
        "unknown_ops": report.unknown_ops,
        "estimators": report.estimators,
        "summary": {
            "pass": report.count(Verdict::Pass),
            "fail": report.count(Verdict::Fail),
            "warn": report.count(Verdict::Warn),
            "skipped": report.count(Verdict::Skipped),
            "error": report.count(Verdict::Error),
            "statistical_checks": statistical,
            "per_check_alpha": report.fwer / statistical.max(1) as f64,
        },
        "checks": report.checks.iter().map(check_json).collect::<Vec<_>>(),
    })
}

/// The parts of a check's detail: split at `"; "` outside parentheses and brackets only, so a
/// part like `"z = 0.4 (τ = 0.5; exact 1.2)"` stays whole.
pub fn detail_parts(detail: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    let bytes = detail.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = (depth - 1).max(0),
            b';' if depth == 0 && bytes.get(i + 1) == Some(&b' ') => {
                parts.push(&detail[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    parts.push(&detail[start..]);
    parts.retain(|p| !p.is_empty());
    parts
}

/// Text from outside the auditor (the adapter's name, its messages) made inert in Markdown:
/// `&`, `<`, `>` become entities (no HTML), the inline markup characters
/// `` \ ` * _ [ ] | ~ `` are backslash-escaped (no code span, link, emphasis or table cell can
/// be opened or closed), and line breaks become spaces.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn fmt_p(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(0.0) => "0".into(),
        Some(p) if p < 1e-3 => format!("{p:.1e}"),
        Some(p) => format!("{p:.3}"),
    }
}

/// A plain-text table for the terminal: one line per check (id, verdict, p, Holm p, n), then
/// the detail indented below checks that did not pass, and a summary line.
pub fn to_table(report: &AuditReport) -> String {
    let mut s = String::new();
    s += &format!(
        "gumbel-audit: {} ({}), level {}, seed {}, family-wise false-alarm rate {}\n\n",
        report.implementation,
        report.dtype.as_str(),
        report.level.name(),
        report.seed,
        fmt_f64(report.fwer)
    );
    s += &format!(
        "{:<26} {:<8} {:>9} {:>9} {:>10}  {}\n",
        "check", "verdict", "p", "p (Holm)", "n", "smallest detectable"
    );
    s += &format!("{}\n", "-".repeat(100));
    for c in &report.checks {
        s += &format!(
            "{:<26} {:<8} {:>9} {:>9} {:>10}  {}\n",
            c.id,
            c.verdict.as_str().to_uppercase(),
            fmt_p(c.p_value),
            fmt_p(c.p_adjusted),
            c.n,
            c.detectable
        );
        if c.verdict != Verdict::Pass && !c.detail.is_empty() {
            for part in detail_parts(&c.detail) {
                s += &format!("    {part}\n");
            }
        }
    }
    let m = report.checks.iter().filter(|c| c.p_value.is_some()).count();
    if m == 0 {
        s += "\nno statistical check produced a p-value; exact criteria add no false alarms.\n";
    } else {
        s += &format!(
            "\n{m} statistical checks under Holm at {}: each at most {:.1e} on a correct \
             implementation; exact criteria add no false alarms.\n",
            report.fwer,
            report.fwer / m as f64
        );
    }
    s += &format!(
        "verdict: {}  ({} pass, {} fail, {} warn, {} skipped, {} error)\n",
        report.verdict.as_str().to_uppercase(),
        report.count(Verdict::Pass),
        report.count(Verdict::Fail),
        report.count(Verdict::Warn),
        report.count(Verdict::Skipped),
        report.count(Verdict::Error)
    );
    if let Some(problem) = &report.problem {
        s += &format!("ERROR: {problem}\n");
    } else if !report.unknown_ops.is_empty() {
        s += &format!(
            "note: unknown op names in hello (ignored): {}\n",
            report.unknown_ops.join(", ")
        );
    }
    s
}

/// A Markdown report and its plots.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MarkdownReport {
    /// `report.md`.
    pub markdown: String,
    /// `(file name, SVG text)` of every plot the Markdown links to.
    pub plots: Vec<(String, String)>,
}

fn figure_svg(f: &Figure) -> String {
    match f {
        Figure::Qq { title, points } => {
            let (lo, hi) = points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
                    (a.0.min(p.0).min(p.1), a.1.max(p.0).max(p.1))
                });
            Plot {
                title: title.clone(),
                x_label: "expected quantile".into(),
                y_label: "observed quantile".into(),
                log_x: false,
                log_y: false,
                series: vec![
                    Series {
                        name: "sample".into(),
                        points: points.clone(),
                        errors: None,
                        style: Style::Markers,
                    },
                    Series {
                        name: "y = x".into(),
                        points: vec![(lo, lo), (hi, hi)],
                        errors: None,
                        style: Style::Dashed,
                    },
                ],
            }
            .to_svg()
        }
        Figure::Frequencies {
            title,
            observed,
            expected,
        } => {
            let pts = |v: &[f64]| v.iter().enumerate().map(|(i, &p)| (i as f64, p)).collect();
            Plot {
                title: title.clone(),
                x_label: "category".into(),
                y_label: "frequency".into(),
                log_x: false,
                log_y: expected.iter().any(|&p| p > 0.0 && p < 1e-2),
                series: vec![
                    Series {
                        name: "observed".into(),
                        points: pts(observed),
                        errors: None,
                        style: Style::Markers,
                    },
                    Series {
                        name: "expected π".into(),
                        points: pts(expected),
                        errors: None,
                        style: Style::Dashed,
                    },
                ],
            }
            .to_svg()
        }
        Figure::Exceedances {
            title,
            thresholds,
            observed,
            expected,
        } => Plot {
            title: title.clone(),
            x_label: "threshold x".into(),
            y_label: "draws beyond x".into(),
            log_x: false,
            log_y: true,
            series: vec![
                Series {
                    name: "observed".into(),
                    points: thresholds
                        .iter()
                        .zip(observed)
                        .map(|(&x, &c)| (x, c as f64))
                        .collect(),
                    errors: None,
                    style: Style::Markers,
                },
                Series {
                    name: "expected".into(),
                    points: thresholds
                        .iter()
                        .copied()
                        .zip(expected.iter().copied())
                        .collect(),
                    errors: None,
                    style: Style::Dashed,
                },
            ],
        }
        .to_svg(),
    }
}

/// Markdown with a summary, the table of checks, details, and one SVG per check that has a
/// figure (QQ plots of marginals, observed against expected category frequencies).
pub fn to_markdown(report: &AuditReport) -> MarkdownReport {
    let mut md = String::new();
    md += "# gumbel-audit report\n\n";
    md += &format!(
        "- implementation: {} ({})\n- level: {}, seed: {}\n- family-wise false-alarm rate: {} \
         (Holm over the checks with a p-value)\n- verdict: **{}**\n\n",
        markdown_text(&report.implementation),
        report.dtype.as_str(),
        report.level.name(),
        report.seed,
        fmt_f64(report.fwer),
        report.verdict.as_str().to_uppercase()
    );
    if let Some(problem) = &report.problem {
        md += &format!("**Error: {}.**\n\n", markdown_text(problem));
    }
    md += "| id | verdict | p | p (Holm) | n | false-alarm rate | smallest detectable |\n";
    md += "|---|---|---|---|---|---|---|\n";
    for c in &report.checks {
        md += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            c.id,
            c.verdict.as_str(),
            fmt_p(c.p_value),
            fmt_p(c.p_adjusted),
            c.n,
            if c.p_value.is_some() {
                format!("{:.1e}", c.false_alarm)
            } else {
                "0 (exact)".into()
            },
            c.detectable.replace('|', "/")
        );
    }
    md += "\n## Details\n";
    let mut plots = Vec::new();
    for c in &report.checks {
        md += &format!("\n### {} — {}\n\n", c.id, c.verdict.as_str());
        md += &format!("{}\n\n", c.title);
        if !c.criterion.is_empty() {
            md += &format!("- criterion: {}\n", c.criterion);
        }
        for part in detail_parts(&c.detail) {
            md += &format!("- {}\n", markdown_text(part));
        }
        if let Some(f) = &c.figure {
            let name = format!("{}.svg", c.id.replace('.', "_"));
            md += &format!("\n![{}]({name})\n", c.id);
            plots.push((name, figure_svg(f)));
        }
    }
    MarkdownReport {
        markdown: md,
        plots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_split_only_at_top_level_semicolons() {
        let d = "reinforce: s² = 1.2 (exact 1.19; z = 0.4); st: [a; b] ok; last";
        assert_eq!(
            detail_parts(d),
            [
                "reinforce: s² = 1.2 (exact 1.19; z = 0.4)",
                "st: [a; b] ok",
                "last"
            ]
        );
        assert!(detail_parts("").is_empty());
        assert_eq!(detail_parts("a;b"), ["a;b"]);
    }

    #[test]
    fn markdown_text_is_inert() {
        assert_eq!(markdown_text("a`b<c>&d"), "a\\`b&lt;c&gt;&amp;d");
        assert_eq!(markdown_text("x\ny|z"), "x y\\|z");
    }
}
