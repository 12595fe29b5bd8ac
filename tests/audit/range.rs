//! The range checks (`relaxed.range`, `binary.range`): the reference passes them at every
//! level, and an in-process float64 sampler whose softmax and sigmoid skip the
//! max-subtraction (right at τ and logits of order 1) passes the other relaxed and binary
//! checks but fails both range checks at the standard level.
//!
//! One fixed master seed per run ([`SEED`]), never re-rolled; the battery's family-wise
//! false-alarm rate is 1e-3 (Holm).

use gumbel_audit::audit::{
    Array, AuditOptions, AuditReport, Capabilities, Dtype, Level, Op, ReferenceTarget, Selection,
    Target, TargetError, Verdict, run_battery,
};
use gumbel_audit::distributions::Gumbel;
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

#[test]
fn reference_passes_the_range_checks_at_every_level() {
    for level in [Level::Quick, Level::Standard, Level::Thorough] {
        let r = run(
            &mut ReferenceTarget::new(),
            level,
            &["relaxed.range", "binary.range"],
        );
        for id in ["relaxed.range", "binary.range"] {
            let c = r.check(id).unwrap();
            assert_eq!(c.verdict, Verdict::Pass, "{level:?} {id}: {}", c.detail);
            assert!(c.p_value.is_some(), "{id}: a statistical part ran");
            assert!(c.n > 0);
        }
    }
}

/// Float64 softmax `exp(z)/Σ exp(z)` and sigmoid `e^x/(1 + e^x)` without max-subtraction,
/// with correct Gumbel / Logistic noise.
struct NaiveSoftmax;

impl Target for NaiveSoftmax {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            "naive softmax (planted)",
            Dtype::Float64,
            vec![Op::RelaxedSample, Op::BinarySample],
            vec![],
        ))
    }
    fn relaxed_sample(
        &mut self,
        logits: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        if hard {
            return ReferenceTarget::new().relaxed_sample(logits, tau, true, n, seed);
        }
        let mut rng = seeded(seed);
        let k = logits.len();
        let mut out = Vec::with_capacity(n * k);
        for _ in 0..n {
            let e: Vec<f64> = logits
                .iter()
                .map(|l| ((l + Gumbel::standard().sample(&mut rng)) / tau).exp())
                .collect();
            let total: f64 = e.iter().sum();
            out.extend(e.iter().map(|v| v / total));
        }
        Ok(Array::new(vec![n, k], gumbel_audit::audit::ArrayData::F64(out)).unwrap())
    }
    fn binary_sample(
        &mut self,
        logit: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let mut rng = seeded(seed);
        let v = (0..n)
            .map(|_| {
                let u = open_uniform(&mut rng);
                let e = ((logit + u.ln() - (-u).ln_1p()) / tau).exp();
                e / (1.0 + e)
            })
            .collect();
        Ok(Array::from_f64(v))
    }
}

#[test]
fn naive_softmax_passes_the_old_checks_and_fails_the_range_checks() {
    let old = ["relaxed.simplex", "relaxed.argmax", "binary.cdf"];
    let new = ["relaxed.range", "binary.range"];
    let all: Vec<&str> = old.iter().chain(&new).copied().collect();
    let r = run(&mut NaiveSoftmax, Level::Standard, &all);
    for id in old {
        let c = r.check(id).unwrap();
        assert_ne!(c.verdict, Verdict::Fail, "{id}: {}", c.detail);
        assert_ne!(c.verdict, Verdict::Error, "{id}: {}", c.detail);
    }
    for id in new {
        let c = r.check(id).unwrap();
        assert_eq!(c.verdict, Verdict::Fail, "{id}: {}", c.detail);
        assert!(
            c.detail.contains("NaN") || c.detail.contains("not finite"),
            "{id}: {}",
            c.detail
        );
    }
    assert_eq!(r.exit_code(), 1);
}
