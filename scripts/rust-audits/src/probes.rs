//! Independent confirmation of each finding: minimal reproducers run through each library's
//! public API, and the exact size of the effect computed from the library's source.
//!
//! Each probe returns Markdown (a list of what it ran and what it saw) that the binary appends
//! to the target's `report.md`. Nothing here feeds the battery's verdicts.
//!
//! # Formulas
//! ```text
//! G(x) = exp(-exp(-x))                          standard Gumbel CDF
//! candle noise: u ~ U[lo, hi), lo = 1e-7, hi = 0.999 (f32), g = -ln(-ln u)
//!   P(g ≤ x) = F_T(x) = clamp((G(x) - lo) / (hi - lo), 0, 1),  g ∈ [a, b], a = G⁻¹(lo), b = G⁻¹(hi)
//!   P(argmax_j (l_j + g_j) = i) = ∫_a^b f_T(x) Π_{j≠i} F_T(x + l_i - l_j) dx   (Simpson)
//! ```

use candle_core::Device;
use gumbel_audit::stats::chi2::pearson_chi2;
use rand::distr::Distribution as _;

use gumbel_audit::audit::{AuditOptions, Level, run_battery};

use crate::candle_target::{CandleOpsControl, candle_sample};

/// An RNG that returns the same word forever (the smallest reproducer of an endpoint draw).
struct ConstRng(u64);

impl rand::TryRng for ConstRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.0 >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for (i, b) in dst.iter_mut().enumerate() {
            *b = self.0.to_le_bytes()[i % 8];
        }
        Ok(())
    }
}

fn softmax(l: &[f64]) -> Vec<f64> {
    let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = l.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

fn counts(draws: &[u32], k: usize) -> Vec<u64> {
    let mut c = vec![0u64; k];
    for &d in draws {
        c[d as usize] += 1;
    }
    c
}

fn chi2_p(c: &[u64], p: &[f64]) -> String {
    match pearson_chi2(c, p) {
        Ok(r) => format!("{:.3e}", r.p_value),
        Err(e) => format!("n/a ({e})"),
    }
}

/// statrs 0.19.1 `Gumbel::sample`.
pub fn statrs() -> String {
    use statrs::distribution::{ContinuousCDF, Gumbel};
    let d = Gumbel::new(0.0, 1.0).expect("valid parameters");
    let mut md = String::new();
    let first: Vec<f64> = {
        let mut rng = gumbel_audit::rng::seeded(0);
        (0..5).map(|_| d.sample(&mut rng)).collect()
    };
    md +=
        &format!("- `Gumbel::new(0.0, 1.0)?.sample(&mut seeded(0))`, first 5 draws: `{first:?}`\n");
    for seed in [1u64, 2] {
        let mut rng = gumbel_audit::rng::seeded(seed);
        let n = 1_000_000;
        let nan = (0..n).filter(|_| d.sample(&mut rng).is_nan()).count();
        md += &format!("- seed {seed}: {nan} of {n} draws NaN\n");
    }
    // The endpoint x = 0 (StandardUniform's lower end): all-zero RNG words.
    let at_zero = d.sample(&mut ConstRng(0));
    md += &format!("- RNG word 0 (x = 0): sample = `{at_zero}`\n");
    // The same uniforms through the inverse CDF statrs itself ships: finite and correct.
    let mut rng = gumbel_audit::rng::seeded(1);
    let n = 1_000_000;
    let xs: Vec<f64> = (0..n)
        .map(|_| d.inverse_cdf(rand::RngExt::random::<f64>(&mut rng)))
        .collect();
    let finite = xs.iter().filter(|x| x.is_finite()).count();
    let mean = xs.iter().filter(|x| x.is_finite()).sum::<f64>() / finite as f64;
    md += &format!(
        "- control: statrs' own `inverse_cdf` on the same kind of uniforms (seed 1): {finite} of \
         {n} finite, mean {mean:.4} (Euler's γ = 0.5772); `ln(-x)` vs `-ln x` is the whole bug\n"
    );
    md
}

/// rand_distr 0.6.0 `Gumbel`: the `u = 1` endpoint.
pub fn rand_distr() -> String {
    use rand_distr::Gumbel;
    let d64 = Gumbel::<f64>::new(0.0, 1.0).expect("valid parameters");
    let d32 = Gumbel::<f32>::new(0.0, 1.0).expect("valid parameters");
    let mut md = String::new();
    let s64 = d64.sample(&mut ConstRng(u64::MAX));
    let s32 = d32.sample(&mut ConstRng(u64::MAX));
    md += &format!(
        "- RNG word all ones (`OpenClosed01` gives u = 1): `Gumbel::<f64>` sample = `{s64}`, \
         `Gumbel::<f32>` sample = `{s32}` (probability 2^-53 = 1.1e-16 and 2^-24 = 6.0e-8 per draw)\n"
    );
    let s64_lo = d64.sample(&mut ConstRng(0));
    let s32_lo = d32.sample(&mut ConstRng(0));
    let s64_hi = d64.sample(&mut ConstRng(u64::MAX - (1 << 11)));
    let s32_hi = d32.sample(&mut ConstRng(u64::MAX - (1 << 40)));
    md += &format!(
        "- finite range: f64 [{s64_lo:.4}, {s64_hi:.4}], f32 [{s32_lo:.4}, {s32_hi:.4}] \
         (RNG words 0 and the largest word below all ones)\n"
    );
    // A real, seeded stream: the first +inf of Gumbel<f32> from seeded(0).
    let mut rng = gumbel_audit::rng::seeded(0);
    let limit: u64 = 200_000_000;
    let mut first = None;
    let mut count = 0u64;
    for i in 0..limit {
        let x = d32.sample(&mut rng);
        if x.is_infinite() {
            count += 1;
            if first.is_none() {
                first = Some(i);
            }
        }
    }
    md += &format!(
        "- `Gumbel::<f32>` from `gumbel_audit::rng::seeded(0)`: {count} draws of +inf in the \
         first {limit} (expected {:.1}); the first is draw index {}\n",
        limit as f64 * 2f64.powi(-24),
        first.map_or("none".into(), |i| i.to_string())
    );
    // Sanity of the reproducer: the same RNG word through OpenClosed01 directly.
    let u: f32 = rand::RngExt::sample(&mut ConstRng(u64::MAX), rand::distr::OpenClosed01);
    md += &format!("- `OpenClosed01` on that word: u = `{u}`\n");
    md
}

fn gumbel_cdf(x: f64) -> f64 {
    (-(-x).exp()).exp()
}

/// candle's uniform bounds, as the f32 values it passes to `Uniform::new`.
pub const CANDLE_LO: f32 = 1e-7;
/// See [`CANDLE_LO`].
pub const CANDLE_HI: f32 = 0.999;

/// Exact category probabilities under candle's truncated noise (module doc), by Simpson's rule.
pub fn candle_exact_probs(l: &[f64]) -> Vec<f64> {
    truncated_gumbel_max_probs(l, f64::from(CANDLE_LO), f64::from(CANDLE_HI))
}

/// `P(argmax_j (l_j + g_j) = i)` for `g = -ln(-ln u)`, `u ~ U[lo, hi)` (module doc).
pub fn truncated_gumbel_max_probs(l: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let a = -(-lo.ln()).ln();
    let b = -(-hi.ln()).ln();
    let ft = |x: f64| ((gumbel_cdf(x) - lo) / (hi - lo)).clamp(0.0, 1.0);
    let dens = |x: f64| (-x - (-x).exp()).exp() / (hi - lo);
    let m = 20_000; // even; the integrand is smooth on [a, b]
    let h = (b - a) / m as f64;
    l.iter()
        .enumerate()
        .map(|(i, &li)| {
            if li == f64::NEG_INFINITY {
                return 0.0;
            }
            let f = |x: f64| {
                dens(x)
                    * l.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, &lj)| ft(x + li - lj))
                        .product::<f64>()
            };
            let mut s = f(a) + f(b);
            for t in 1..m {
                let w = if t % 2 == 1 { 4.0 } else { 2.0 };
                s += w * f(a + t as f64 * h);
            }
            s * h / 3.0
        })
        .collect()
}

/// candle-nn 0.11.1 `sampling::gumbel_softmax`.
pub fn candle() -> String {
    let mut md = String::new();
    match Device::Cpu.set_seed(1) {
        Ok(()) => md += "- `Device::Cpu.set_seed(1)`: Ok\n",
        // First line only: with RUST_BACKTRACE set, candle appends a backtrace.
        Err(e) => {
            md += &format!(
                "- `Device::Cpu.set_seed(1)`: Err(`{}`)\n",
                e.to_string().lines().next().unwrap_or("")
            )
        }
    }
    let (lo, hi) = (f64::from(CANDLE_LO), f64::from(CANDLE_HI));
    let (a, b) = (-(-lo.ln()).ln(), -(-hi.ln()).ln());
    md += &format!(
        "- noise range from the source's bounds: g ∈ [{a:.4}, {b:.4}); largest possible \
         noise gap {:.4}: a category whose logit is more than that below the top logit has \
         probability exactly 0\n",
        b - a
    );
    // Smallest reproducer: k = 2, logits [0, -10].
    let n = 1_000_000;
    for run in 1..=2 {
        match candle_sample(&[0.0, -10.0], 1.0, n) {
            Ok(d) => {
                let c = counts(&d, 2);
                md += &format!(
                    "- run {run}: `gumbel_softmax(&Tensor([0, -10]) broadcast to ({n}, 2), 1.0, D::Minus1)`: \
                     category 1 drawn {} times; Categorical(softmax) expects {:.1} (π₁ = {:.3e})\n",
                    c[1],
                    n as f64 * softmax(&[0.0, -10.0])[1],
                    softmax(&[0.0, -10.0])[1]
                );
            }
            Err(e) => md += &format!("- run {run}: {e}\n"),
        }
    }
    // The battery's rare case: exact effect size from the source vs observed.
    let rare = (1e-4f64 / (1.0 - 1e-4) * 2.0).ln();
    let l = [0.0, 0.0, rare];
    let pt = candle_exact_probs(&l);
    let pi = softmax(&l);
    md += &format!(
        "- battery case `rare p=1e-4` (logits [0, 0, {rare:.4}]): π₂ = {:.3e}; under candle's \
         truncated noise P₂ = {:.3e} (ratio {:.3}, numerical integration)\n",
        pi[2],
        pt[2],
        pt[2] / pi[2]
    );
    for run in 1..=2 {
        match candle_sample(&l, 1.0, n) {
            Ok(d) => {
                let c = counts(&d, 3);
                md += &format!(
                    "  - run {run}, {n} draws: counts {c:?}; expected under π {:.1}, under the \
                     truncated noise {:.1}; χ² p vs π {}, vs the truncated-noise probabilities {}\n",
                    n as f64 * pi[2],
                    n as f64 * pt[2],
                    chi2_p(&c, &pi),
                    chi2_p(&c, &pt)
                );
            }
            Err(e) => md += &format!("  - run {run}: {e}\n"),
        }
    }
    // How large: k = 2, logits [0, -Δ]: P(category 1) under the truncated noise vs π₁.
    md += "- k = 2, logits [0, -Δ]: probability of category 1 under candle's noise (integration) \
           against π₁ = σ(-Δ):\n\n  | Δ | π₁ | candle | ratio |\n  |---|---|---|---|\n";
    for gap in [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 9.5, 10.0] {
        let pt = candle_exact_probs(&[0.0, -gap]);
        let pi = softmax(&[0.0, -gap]);
        md += &format!(
            "  | {gap} | {:.3e} | {:.3e} | {:.4} |\n",
            pi[1],
            pt[1],
            pt[1] / pi[1]
        );
    }
    md += "\n";
    // Every battery case: does the truncated-noise model explain candle's frequencies?
    md += "- the battery's categorical cases, 1,000,000 fresh candle draws each (100,000 at \
           k = 100): χ² p-value against π and against the probabilities the truncated noise \
           implies (integration); total variation distance and Cohen's w between the two:\n\n  \
           | case | χ² p vs π | χ² p vs truncated-noise model | TV(π, model) | w(π, model) |\n  \
           |---|---|---|---|---|\n";
    for (name, l) in gumbel_audit::audit::battery::categorical_cases() {
        let rows = if l.len() > 20 { n / 10 } else { n };
        let pi = softmax(&l);
        let pt = candle_exact_probs(&l);
        let tv = 0.5 * pi.iter().zip(&pt).map(|(a, b)| (a - b).abs()).sum::<f64>();
        let w = gumbel_audit::stats::chi2::cohen_w(&pt, &pi)
            .map_or("n/a".into(), |w| format!("{w:.4}"));
        match candle_sample(&l, 1.0, rows) {
            Ok(d) => {
                let c = counts(&d, l.len());
                md += &format!(
                    "  | {name} | {} | {} | {tv:.2e} | {w} |\n",
                    chi2_p(&c, &pi),
                    chi2_p(&c, &pt)
                );
            }
            Err(e) => md += &format!("  | {name} | {e} | | | |\n"),
        }
    }
    md += "\n";
    // Temperature convention.
    let l = [1.0, 0.0, -1.0];
    for tau in [0.5, 2.0] {
        let scaled: Vec<f64> = l.iter().map(|x| x / tau).collect();
        let p_scaled = candle_exact_probs(&scaled);
        let p_concrete = softmax(&l);
        match candle_sample(&l, tau, n) {
            Ok(d) => {
                let c = counts(&d, 3);
                let f: Vec<f64> = c.iter().map(|&x| x as f64 / n as f64).collect();
                md += &format!(
                    "- τ = {tau}, logits {l:?}, {n} draws: frequencies [{:.4}, {:.4}, {:.4}]; \
                     softmax(l) = [{:.4}, {:.4}, {:.4}] (the argmax of a Concrete(l, τ) sample), χ² p = {}; \
                     softmax(l/τ) = [{:.4}, {:.4}, {:.4}], χ² p vs softmax(l/τ) under the truncated noise = {}\n",
                    f[0],
                    f[1],
                    f[2],
                    p_concrete[0],
                    p_concrete[1],
                    p_concrete[2],
                    chi2_p(&c, &p_concrete),
                    softmax(&scaled)[0],
                    softmax(&scaled)[1],
                    softmax(&scaled)[2],
                    chi2_p(&c, &p_scaled)
                );
            }
            Err(e) => md += &format!("- τ = {tau}: {e}\n"),
        }
    }
    for (name, bad) in [
        ("NaN logit [0, NaN, 1]", vec![0.0, f64::NAN, 1.0]),
        ("all masked [-inf, -inf]", vec![f64::NEG_INFINITY; 2]),
        ("k = 0", vec![]),
    ] {
        match candle_sample(&bad, 1.0, 1000) {
            Ok(d) => {
                let mut c = std::collections::BTreeMap::new();
                for x in d {
                    *c.entry(x).or_insert(0u32) += 1;
                }
                md += &format!("- {name}, 1000 rows at τ = 1: index counts {c:?}\n");
            }
            Err(e) => md += &format!("- {name}: {}\n", e.to_string().lines().next().unwrap_or("")),
        }
    }
    // Control: candle's source lines rebuilt from its public tensor ops, through the battery.
    md += "- control (not candle's API; `CandleOpsControl` in candle_target.rs): candle's source \
           lines rebuilt from its public tensor ops, with the uniform's bounds as parameters, \
           through the battery's categorical checks at the standard level:\n";
    for (lo, hi) in [
        (f64::from(CANDLE_LO), f64::from(CANDLE_HI)),
        (2f64.powi(-24), 1.0),
    ] {
        let options = AuditOptions::new(Level::Standard, 2026, 1e-3).expect("valid options");
        let mut control = CandleOpsControl { lo, hi };
        match run_battery(&mut control, &options, &mut |_| {}) {
            Ok(r) => {
                let c = r.check("categorical.chi2");
                md += &format!(
                    "  - u ~ U[{lo:.3e}, {hi:.6}): categorical.chi2 {} (p = {})\n",
                    c.map_or("missing", |c| c.verdict.as_str()),
                    c.and_then(|c| c.p_value)
                        .map_or("-".into(), |p| format!("{p:.2e}"))
                );
            }
            Err(e) => md += &format!("  - u ~ U[{lo:.3e}, {hi:.6}): {e}\n"),
        }
    }
    match candle_sample(&l, 0.0, 5) {
        Ok(d) => md += &format!("- τ = 0, logits {l:?}, 5 rows: {d:?} (greedy argmax)\n"),
        Err(e) => md += &format!("- τ = 0: {e}\n"),
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integration itself: with (almost) untruncated noise it must give softmax(l) (the
    /// Gumbel-Max theorem), so a deviation under candle's bounds is the bounds', not the
    /// quadrature's. Tolerance 1e-6 absolute (Simpson error on 20,000 panels is far below).
    #[test]
    fn untruncated_noise_gives_softmax() {
        for l in [
            vec![2.0, 1.0, 0.0, -1.0, -3.0],
            vec![0.0, -5.0],
            vec![0.5, f64::NEG_INFINITY, -0.5],
        ] {
            // lo = 1e-300: a = -6.54; hi = 1 - 2^-52: b = 36.0.
            let p = truncated_gumbel_max_probs(&l, 1e-300, 1.0 - f64::EPSILON);
            let q = softmax(&l);
            for (x, y) in p.iter().zip(&q) {
                assert!((x - y).abs() < 1e-6, "{l:?}: {p:?} vs {q:?}");
            }
        }
    }

    /// Under candle's bounds a category more than b - a = 9.687 below the top is impossible,
    /// and one 5 below is visibly underweighted (the published table's values).
    #[test]
    fn candle_bounds_starve_the_tail() {
        let p = candle_exact_probs(&[0.0, -10.0]);
        assert_eq!(p[1], 0.0);
        let p5 = candle_exact_probs(&[0.0, -5.0]);
        let pi5 = softmax(&[0.0, -5.0]);
        assert!(p5[1] / pi5[1] < 0.9 && p5[1] / pi5[1] > 0.8, "{p5:?}");
        assert!((p5[0] + p5[1] - 1.0).abs() < 1e-6);
    }
}
