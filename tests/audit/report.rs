//! The Markdown report and its plots: a failing count of 0 stays visible on a log axis,
//! `noise.tail` has a plot, details split only at top-level `; `, and the adapter's name cannot
//! break out of the Markdown it is written into.

use gumbel_audit::audit::report::{to_markdown, to_table};
use gumbel_audit::audit::{
    Array, AuditOptions, AuditReport, Capabilities, Dtype, Level, Op, ReferenceTarget, Selection,
    Target, TargetError, Verdict, run_battery,
};
use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::rng::seeded;

const SEED: u64 = 2026;

fn run(target: &mut dyn Target, level: Level, ids: &[&str]) -> AuditReport {
    let only: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let options = AuditOptions::new(level, SEED, 1e-3)
        .unwrap()
        .with_selection(Selection::new(Some(&only), &[]).unwrap());
    run_battery(target, &options, &mut |_| {}).unwrap()
}

/// Uniforms clamped to `[1e-3, 1 - 1e-3]` "for stability" (the NumPy adapter's
/// `clamped_noise`): the noise lives in `[-1.93, 6.91]`, nothing lies beyond the far tail and
/// the p = 1e-4 category is never drawn.
struct ClampedNoise {
    name: String,
}

fn clamped(rng: &mut gumbel_audit::rng::ChaCha8Rng) -> f64 {
    -(-open_uniform(rng).clamp(1e-3, 1.0 - 1e-3).ln()).ln()
}

impl Target for ClampedNoise {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            &self.name,
            Dtype::Float64,
            vec![Op::Gumbel, Op::Categorical],
            vec![],
        ))
    }
    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let mut rng = seeded(seed);
        Ok(Array::from_f64((0..n).map(|_| clamped(&mut rng)).collect()))
    }
    fn categorical(&mut self, logits: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        if logits.iter().any(|l| l.is_nan()) || logits.iter().all(|l| *l == f64::NEG_INFINITY) {
            return ReferenceTarget::new().categorical(logits, n, seed);
        }
        let mut rng = seeded(seed);
        let draws = (0..n)
            .map(|_| {
                let mut best = (0usize, f64::NEG_INFINITY);
                for (i, l) in logits.iter().enumerate() {
                    let z = l + clamped(&mut rng);
                    if z > best.1 {
                        best = (i, z);
                    }
                }
                best.0 as i64
            })
            .collect();
        Ok(Array::from_i64(draws))
    }
}

#[test]
fn zero_counts_are_drawn_and_noise_tail_has_a_plot() {
    let mut t = ClampedNoise {
        name: "clamped".into(),
    };
    let r = run(&mut t, Level::Standard, &["noise.tail", "categorical.chi2"]);
    for id in ["noise.tail", "categorical.chi2"] {
        assert_eq!(r.check(id).unwrap().verdict, Verdict::Fail, "{id}");
    }
    let md = to_markdown(&r);
    let svg = |name: &str| {
        md.plots
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| {
                panic!(
                    "no {name}: {:?}",
                    md.plots.iter().map(|p| &p.0).collect::<Vec<_>>()
                )
            })
    };
    // The observed 0 (expected > 0) is drawn at the axis floor with its "0" label.
    for name in ["categorical_chi2.svg", "noise_tail.svg"] {
        let s = svg(name);
        assert!(s.contains(r#"class="zero""#), "{name}: no zero marker\n{s}");
        assert!(s.contains(">0</text>"), "{name}");
    }
    assert!(md.markdown.contains("(noise_tail.svg)"));
}

#[test]
fn markdown_escapes_the_implementation_name() {
    let name = "evil` <script>alert(1)</script> [x](http://e) | *b*";
    let mut t = ClampedNoise { name: name.into() };
    let r = run(&mut t, Level::Quick, &["noise.finite"]);
    let md = to_markdown(&r).markdown;
    assert!(!md.contains("<script>"), "{md}");
    let line = md
        .lines()
        .find(|l| l.starts_with("- implementation:"))
        .unwrap();
    assert_eq!(
        line,
        "- implementation: evil\\` &lt;script&gt;alert(1)&lt;/script&gt; \\[x\\](http://e) \\| \
         \\*b\\* (float64)"
    );
    // No unescaped backtick anywhere on the line: no code span can open.
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'`' {
            assert_eq!(bytes[i - 1], b'\\', "{line}");
        }
    }
    // The terminal table prints the name as it is (already sanitized of control characters).
    assert!(to_table(&r).contains(name));
}
