//! `bad_input`'s temperature rules on planted targets (the reference with one τ behaviour
//! changed): a finite answer for τ < 0 is a `fail` (PyTorch's `F.gumbel_softmax` computes
//! `softmax((l + g)/τ)` there, a sample of another law); for τ = 0 a refusal or the exact hard
//! limit (one-hot of the argmax; 0 or 1 for binary samples; `-inf` log density) passes, NaN or
//! a soft sample fails. `bad_input` is an exact criterion: no false alarms, no seed to re-roll.

use gumbel_audit::audit::{
    Array, AuditOptions, AuditReport, Capabilities, GradRequest, Level, ReferenceTarget, Selection,
    Target, TargetError, Verdict, run_battery,
};
use gumbel_audit::numeric::argmax;

/// How the planted target answers a non-positive temperature (the reference refuses).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tau {
    /// τ < 0 answered like PyTorch: `softmax((l + g)/τ)`, binary `σ((l + L)/τ)`.
    NegativeLikeTorch,
    /// τ = 0 answered with NaN.
    ZeroNan,
    /// τ = 0 answered with a τ = 1 sample (finite, not the limit).
    ZeroSoft,
    /// τ = 0 answered with the exact limit; densities `-inf`.
    ZeroHardLimit,
}

struct Planted(ReferenceTarget, Tau);

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

impl Planted {
    /// Rows `f(l + g)` with the reference's Gumbel noise.
    fn rows(
        &mut self,
        l: &[f64],
        n: usize,
        seed: u64,
        f: impl Fn(&[f64]) -> Vec<f64>,
    ) -> Result<Array, TargetError> {
        let k = l.len();
        let g = self.0.gumbel(n * k, seed)?.to_f64();
        let mut out = Vec::with_capacity(n * k);
        for row in g.chunks_exact(k) {
            let z: Vec<f64> = row.iter().zip(l).map(|(g, l)| g + l).collect();
            out.extend(f(&z));
        }
        Array::new(vec![n, k], gumbel_audit::audit::ArrayData::F64(out))
    }
}

impl Target for Planted {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        let mut c = self.0.capabilities()?;
        c.name = format!("planted τ rule {:?}", self.1);
        Ok(c)
    }
    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        self.0.gumbel(n, seed)
    }
    fn categorical(&mut self, l: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        self.0.categorical(l, n, seed)
    }
    fn relaxed_sample(
        &mut self,
        l: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let valid_logits = !l.is_empty() && l.iter().all(|v| v.is_finite());
        let one_hot = |z: &[f64]| {
            let j = argmax(z).unwrap();
            (0..z.len())
                .map(|i| if i == j { 1.0 } else { 0.0 })
                .collect()
        };
        match self.1 {
            Tau::NegativeLikeTorch if tau < 0.0 && valid_logits => self.rows(l, n, seed, |z| {
                let y = softmax(&z.iter().map(|v| v / tau).collect::<Vec<_>>());
                if hard { one_hot(&y) } else { y }
            }),
            Tau::ZeroNan if tau == 0.0 && valid_logits => {
                self.rows(l, n, seed, |z| vec![f64::NAN; z.len()])
            }
            Tau::ZeroSoft if tau == 0.0 && valid_logits => {
                self.rows(l, n, seed, |z| if hard { one_hot(z) } else { softmax(z) })
            }
            Tau::ZeroHardLimit if tau == 0.0 && valid_logits => self.rows(l, n, seed, one_hot),
            _ => self.0.relaxed_sample(l, tau, hard, n, seed),
        }
    }
    fn relaxed_log_prob(&mut self, l: &[f64], tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        if self.1 == Tau::ZeroHardLimit && tau == 0.0 && l.iter().all(|v| v.is_finite()) {
            return Ok(Array::from_f64(vec![f64::NEG_INFINITY; y.len() / l.len()]));
        }
        self.0.relaxed_log_prob(l, tau, y)
    }
    fn binary_sample(
        &mut self,
        l: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        // L = g1 - g2 is Logistic(0, 1).
        let logistic = |t: &mut Self| -> Result<Vec<f64>, TargetError> {
            let g = t.0.gumbel(2 * n, seed)?.to_f64();
            Ok(g.chunks_exact(2).map(|p| p[0] - p[1]).collect())
        };
        if !l.is_finite() {
            return self.0.binary_sample(l, tau, n, seed);
        }
        match self.1 {
            Tau::NegativeLikeTorch if tau < 0.0 => Ok(Array::from_f64(
                logistic(self)?
                    .into_iter()
                    .map(|v| 1.0 / (1.0 + (-(l + v) / tau).exp()))
                    .collect(),
            )),
            Tau::ZeroHardLimit if tau == 0.0 => Ok(Array::from_f64(
                logistic(self)?
                    .into_iter()
                    .map(|v| if l + v > 0.0 { 1.0 } else { 0.0 })
                    .collect(),
            )),
            _ => self.0.binary_sample(l, tau, n, seed),
        }
    }
    fn binary_log_prob(&mut self, l: f64, tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        if self.1 == Tau::ZeroHardLimit && tau == 0.0 && l.is_finite() {
            return Ok(Array::from_f64(vec![f64::NEG_INFINITY; y.len()]));
        }
        self.0.binary_log_prob(l, tau, y)
    }
    fn grad(&mut self, request: &GradRequest) -> Result<Array, TargetError> {
        self.0.grad(request)
    }
}

fn bad_input(rule: Tau) -> AuditReport {
    let options = AuditOptions::new(Level::Quick, 11, 1e-3)
        .unwrap()
        .with_selection(Selection::new(Some(&["bad_input".to_string()]), &[]).unwrap());
    run_battery(
        &mut Planted(ReferenceTarget::new(), rule),
        &options,
        &mut |_| {},
    )
    .unwrap()
}

#[test]
fn a_sample_for_negative_temperature_fails_bad_input() {
    let r = bad_input(Tau::NegativeLikeTorch);
    let c = r.check("bad_input").unwrap();
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
    assert!(
        c.detail.contains("relaxed_sample τ = -0.5 hard=false"),
        "{}",
        c.detail
    );
    assert!(c.detail.contains("binary_sample τ = -0.5"), "{}", c.detail);
    assert!(c.detail.contains("different law"), "{}", c.detail);
}

#[test]
fn nan_for_zero_temperature_fails_bad_input() {
    let c = bad_input(Tau::ZeroNan).checks.remove(0);
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
    assert!(
        c.detail
            .contains("relaxed_sample τ = 0 hard=false: 300 of 300 values NaN"),
        "{}",
        c.detail
    );
}

#[test]
fn a_soft_sample_for_zero_temperature_fails_bad_input() {
    let c = bad_input(Tau::ZeroSoft).checks.remove(0);
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
    assert!(
        c.detail
            .contains("relaxed_sample τ = 0 hard=false: 100 rows are not the τ = 0 limit"),
        "{}",
        c.detail
    );
    // The hard rows are one-hot: only the soft request fails.
    assert!(!c.detail.contains("τ = 0 hard=true"), "{}", c.detail);
}

#[test]
fn the_exact_hard_limit_for_zero_temperature_passes_bad_input() {
    let r = bad_input(Tau::ZeroHardLimit);
    let c = r.check("bad_input").unwrap();
    assert_eq!(c.verdict, Verdict::Pass, "{}", c.detail);
    assert_eq!(r.exit_code(), 0);
    // And the reference, which refuses every non-positive τ, passes too.
    let options = AuditOptions::new(Level::Quick, 11, 1e-3)
        .unwrap()
        .with_selection(Selection::new(Some(&["bad_input".to_string()]), &[]).unwrap());
    let r = run_battery(&mut ReferenceTarget::new(), &options, &mut |_| {}).unwrap();
    assert_eq!(r.checks[0].verdict, Verdict::Pass, "{}", r.checks[0].detail);
}
