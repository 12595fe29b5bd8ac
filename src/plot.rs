//! Minimal SVG plots (scatter with error bars, lines; linear or log axes) for studies and reports.
//!
//! Hand-written because the plots are few and simple and a plotting crate would pull a font and
//! raster stack into a library that must stay light; the output is plain SVG 1.1 text.

use std::fmt::Write;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Markers, with vertical error bars when the series has them.
    Markers,
    /// A polyline through the points.
    Line,
    /// A dashed polyline.
    Dashed,
}

/// One named series of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Optional `(low, high)` error bars, one per point.
    pub errors: Option<Vec<(f64, f64)>>,
    /// Drawing style.
    pub style: Style,
}

/// A plot: axes, labels, series.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// Title above the plot.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Logarithmic horizontal axis.
    pub log_x: bool,
    /// Logarithmic vertical axis.
    pub log_y: bool,
    /// The series, drawn in order.
    pub series: Vec<Series>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    /// Every finite value is a whole number (categories): linear ticks are at least 1 apart.
    integer: bool,
}

impl Axis {
    fn fit(values: impl Iterator<Item = f64>, log: bool) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut integer = true;
        for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
            integer &= v.fract() == 0.0;
            let t = if log { v.log10() } else { v };
            lo = lo.min(t);
            hi = hi.max(t);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if log {
            (lo, hi) = (lo.floor(), hi.ceil());
        }
        if hi - lo < crate::tolerance::PLOT_MIN_SPAN {
            (lo, hi) = (lo - 0.5, hi + 0.5);
        }
        Axis {
            log,
            lo,
            hi,
            integer,
        }
    }

    /// Position in [0, 1], or None for values the axis cannot show.
    fn frac(&self, v: f64) -> Option<f64> {
        if !v.is_finite() || (self.log && v <= 0.0) {
            return None;
        }
        let t = if self.log { v.log10() } else { v };
        Some((t - self.lo) / (self.hi - self.lo))
    }

    /// Tick positions and labels. Linear axes: multiples of a 1-2-5 step (`nice_step`) giving
    /// about five ticks, at least 1 apart when every value is a whole number (categories). Log axes: every decade (every other one and so on beyond eight), and
    /// 2 and 5 times each decade when the axis spans at most three decades, so that a plot of a
    /// few nearby values (three τ) still has ticks among its points.
    fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            let (a, b) = (self.lo as i32, self.hi as i32);
            let step = ((b - a) / 8).max(1);
            let mut t = Vec::new();
            for e in (a..=b).step_by(step as usize) {
                let d = 10f64.powi(e);
                t.push((d, fmt_tick(d, d)));
                if b - a <= 3 && e < b {
                    for m in [2.0, 5.0] {
                        t.push((m * d, fmt_tick(m * d, d)));
                    }
                }
            }
            t
        } else {
            let mut step = nice_step((self.hi - self.lo) / 5.0);
            if self.integer {
                step = step.max(1.0);
            }
            let first = (self.lo / step).ceil() as i64;
            let last = (self.hi / step + 1e-9).floor() as i64;
            (first..=last)
                .map(|i| {
                    let v = if i == 0 { 0.0 } else { i as f64 * step };
                    (v, fmt_tick(v, step))
                })
                .collect()
        }
    }
}

/// The 1-2-5 number (`1, 2 or 5 × 10^e`) nearest to `raw` (a positive span per tick), so that
/// a span cut in five gets between three and eight ticks.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let d = 10f64.powf(raw.log10().floor());
    let m = raw / d;
    let nice = if m < 1.5 {
        1.0
    } else if m < 3.0 {
        2.0
    } else if m < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * d
}

/// A tick label for `v` on a grid of spacing `step`: as many decimals as the step needs, or
/// scientific notation for very large or small values.
fn fmt_tick(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) || step < 1e-4 {
        return format!("{v:e}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

impl Plot {
    /// Renders the plot as an SVG document. Points that an axis cannot show (non-finite, or
    /// negative on a log axis) are left out; a marker at exactly 0 on a log vertical axis is
    /// drawn at the axis floor as a hollow triangle labelled "0".
    pub fn to_svg(&self) -> String {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = self.series.iter().flat_map(|s| {
            let errs = s.errors.iter().flatten().flat_map(|e| [e.0, e.1]);
            s.points.iter().map(|p| p.1).chain(errs)
        });
        let ax = Axis::fit(xs, self.log_x);
        let ay = Axis::fit(ys, self.log_y);
        let pw = WIDTH - LEFT - RIGHT;
        let ph = HEIGHT - TOP - BOTTOM;
        let px = |v: f64| ax.frac(v).map(|f| LEFT + f * pw);
        let py = |v: f64| ay.frac(v).map(|f| TOP + (1.0 - f) * ph);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            LEFT + pw / 2.0,
            escape(&self.title)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        for (v, label) in ax.ticks() {
            if let Some(x) = px(v) {
                let _ = writeln!(
                    s,
                    r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
                    TOP + ph,
                    TOP + ph + 16.0
                );
            }
        }
        for (v, label) in ay.ticks() {
            if let Some(y) = py(v) {
                let _ = writeln!(
                    s,
                    r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"##,
                    LEFT + pw,
                    LEFT - 6.0,
                    y + 4.0
                );
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + pw / 2.0,
            HEIGHT - 15.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            s,
            r#"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">{}</text>"#,
            TOP + ph / 2.0,
            TOP + ph / 2.0,
            escape(&self.y_label)
        );
        for (i, series) in self.series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64)> = series
                .points
                .iter()
                .filter_map(|&(x, y)| Some((px(x)?, py(y)?)))
                .collect();
            match series.style {
                Style::Line | Style::Dashed => {
                    let path: Vec<String> =
                        pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                    let dash = if series.style == Style::Dashed {
                        r#" stroke-dasharray="6,4""#
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        s,
                        r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
                        path.join(" ")
                    );
                }
                Style::Markers => {
                    if let Some(errors) = &series.errors {
                        for (&(x, _), &(lo, hi)) in series.points.iter().zip(errors) {
                            if let (Some(x), Some(a), Some(b)) = (px(x), py(lo), py(hi)) {
                                let _ = writeln!(
                                    s,
                                    r#"<line x1="{x:.1}" y1="{a:.1}" x2="{x:.1}" y2="{b:.1}" stroke="{color}"/>"#
                                );
                            }
                        }
                    }
                    for (x, y) in &pts {
                        let _ = writeln!(
                            s,
                            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{color}"/>"#
                        );
                    }
                    if self.log_y {
                        // A value of exactly 0 has no place on a log axis: it is drawn at the
                        // axis floor as a hollow triangle labelled "0", never left out (a
                        // count of 0 is often the finding).
                        let floor = TOP + ph;
                        for x in series
                            .points
                            .iter()
                            .filter(|p| p.1 == 0.0)
                            .filter_map(|p| px(p.0))
                        {
                            let _ = writeln!(
                                s,
                                r#"<polygon class="zero" points="{:.1},{:.1} {:.1},{:.1} {x:.1},{floor:.1}" fill="white" stroke="{color}" stroke-width="2"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="{color}">0</text>"#,
                                x - 6.0,
                                floor - 10.0,
                                x + 6.0,
                                floor - 10.0,
                                floor - 13.0
                            );
                        }
                    }
                }
            }
            let ly = TOP + 16.0 + 20.0 * i as f64;
            let lx = LEFT + pw + 12.0;
            let _ = writeln!(
                s,
                r#"<rect x="{lx}" y="{:.1}" width="14" height="4" fill="{color}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                ly - 4.0,
                lx + 20.0,
                ly + 1.0,
                escape(&series.name)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

impl Plot {
    /// Renders several plots as one SVG document, stacked top to bottom, each panel as a nested
    /// `<svg>` of its own size.
    pub fn stack(plots: &[Plot]) -> String {
        let total = HEIGHT * plots.len() as f64;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total}" viewBox="0 0 {WIDTH} {total}">"#
        );
        for (i, plot) in plots.iter().enumerate() {
            let svg = plot.to_svg();
            // Place the panel: its root element gets a y offset.
            let placed = svg.replacen("<svg ", &format!(r#"<svg y="{}" "#, HEIGHT * i as f64), 1);
            s.push_str(&placed);
        }
        s.push_str("</svg>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_points_lines_and_skips_unshowable() {
        let plot = Plot {
            title: "a < b".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series {
                    name: "data".into(),
                    points: vec![(1e-3, 1e-4), (1.0, 0.5), (10.0, 0.0)],
                    errors: Some(vec![(5e-5, 2e-4), (0.4, 0.6), (0.0, 0.1)]),
                    style: Style::Markers,
                },
                Series {
                    name: "line".into(),
                    points: vec![(1e-3, 1e-4), (10.0, 1.0)],
                    errors: None,
                    style: Style::Dashed,
                },
            ],
        };
        let svg = plot.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("a &lt; b"));
        // The y = 0 point has no place on a log axis: two circles, and a "0" triangle at the
        // axis floor (y = TOP + ph = 420).
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches(r#"class="zero""#).count(), 1);
        assert!(svg.contains(",420.0\"") && svg.contains(">0</text>"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        let two = Plot::stack(&[plot.clone(), plot]);
        assert!(two.starts_with("<svg") && two.ends_with("</svg>\n"));
        assert_eq!(two.matches("<svg").count(), 3);
        assert!(two.contains(r#"<svg y="480" "#));
        assert_eq!(two.matches("<circle").count(), 4);
    }

    #[test]
    fn linear_ticks_are_multiples_of_one_two_five() {
        for (lo, hi, step) in [
            (-3.7, 9.2, 2.0),
            (0.0, 1.0, 0.2),
            (0.31, 0.37, 0.01),
            (-1e4, 3e4, 1e4),
        ] {
            let ticks = Axis {
                log: false,
                lo,
                hi,
                integer: false,
            }
            .ticks();
            assert!(
                ticks.len() >= 3 && ticks.len() <= 8,
                "{lo}..{hi}: {ticks:?}"
            );
            for (v, label) in &ticks {
                assert!(*v >= lo - 1e-12 && *v <= hi + 1e-12);
                let k = v / step;
                assert!((k - k.round()).abs() < 1e-9, "{v} not a multiple of {step}");
                let shown: f64 = label.parse().unwrap();
                assert!((shown - v).abs() < 1e-9 * step, "{label} for {v}");
            }
        }
        // Categories 0, 1, 2: whole-number ticks only.
        let cats = Axis::fit([0.0, 1.0, 2.0].into_iter(), false).ticks();
        assert_eq!(
            cats.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(),
            ["0", "1", "2"]
        );
        assert_eq!(nice_step(0.37), 0.5);
        assert_eq!(nice_step(1.2), 1.0);
        assert_eq!(nice_step(2.58), 2.0);
        assert_eq!(nice_step(7.0), 10.0);
    }

    #[test]
    fn narrow_log_axes_get_two_and_five_ticks() {
        // Three τ (0.5, 1, 2): the axis spans 1e-1..1e1; ticks at 0.2, 0.5, 1, 2, 5 among them.
        let labels: Vec<String> = Axis {
            integer: false,
            log: true,
            lo: -1.0,
            hi: 1.0,
        }
        .ticks()
        .into_iter()
        .map(|t| t.1)
        .collect();
        assert_eq!(labels, ["0.1", "0.2", "0.5", "1", "2", "5", "10"]);
        // Wide axes keep decades only.
        let wide = Axis {
            integer: false,
            log: true,
            lo: -12.0,
            hi: 0.0,
        }
        .ticks();
        assert!(
            wide.iter()
                .all(|(v, _)| (v.log10() - v.log10().round()).abs() < 1e-12)
        );
    }
}
