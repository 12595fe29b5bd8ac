//! The tail checks on an in-process planted target: Gumbel noise built from uniforms with 23
//! random bits, `u = max(⌊U 2^23⌋ 2^-23, 2^-126)` with `U` an exact open uniform (the grid of a
//! float32 sampler that fills the fraction and subtracts 1, as JAX's `mode="low"`). Its largest
//! noise is 15.942385, below the Gumbel's 1 - 1e-7 quantile 16.118.
//!
//! `noise.extremes` alone (m = 1, α_i = α = 1e-3, Bonferroni over its 4 parts) at n = 1.5·10⁸:
//! the count above 16.118 is 0 with certainty where 15 are expected (two-sided p ≈ e^-15, times
//! 4 far below 1e-3), so the planted target fails for every seed; the reference at the same n
//! passes except with probability ≤ 1e-3 (fixed seed: reproducible). Seconds with 2 workers.

use gumbel_audit::audit::{
    Array, AuditOptions, Capabilities, Level, ReferenceTarget, SampleBudget, Selection, Target,
    TargetError, Verdict, run_battery_jobs,
};
use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::rng::seeded;

/// The reference, except that its Gumbel noise comes from 23-bit uniforms.
struct Bits23(ReferenceTarget);

impl Target for Bits23 {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        let mut c = self.0.capabilities()?;
        c.name = "planted: 23-bit uniforms".into();
        Ok(c)
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let mut rng = seeded(seed);
        let step = (-23f64).exp2();
        Ok(Array::from_f64(
            (0..n)
                .map(|_| {
                    let u = ((open_uniform(&mut rng) / step).floor() * step).max((-126f64).exp2());
                    -(-u.ln()).ln()
                })
                .collect(),
        ))
    }
}

/// The `noise.extremes` result of `factory`'s target at n = 1.5·10⁸, 2 workers.
fn extremes(
    factory: &(dyn Fn() -> Box<dyn Target + Send> + Sync),
) -> gumbel_audit::audit::CheckResult {
    let options = AuditOptions::new(Level::Standard, 14, 1e-3)
        .unwrap()
        .with_selection(Selection::new(Some(&["noise.extremes".to_string()]), &[]).unwrap())
        .with_samples(SampleBudget::new(Some(150_000_000), vec![]).unwrap());
    let f = || Ok(factory());
    let report = run_battery_jobs(&f, &options, 2, &mut |_| {}).unwrap();
    report.check("noise.extremes").unwrap().clone()
}

#[test]
fn a_23_bit_uniform_fails_noise_extremes_and_the_reference_passes() {
    let planted = extremes(&|| Box::new(Bits23(ReferenceTarget::new())) as Box<dyn Target + Send>);
    assert_eq!(planted.verdict, Verdict::Fail, "{}", planted.detail);
    assert!(
        planted
            .detail
            .contains("no noise above 15.9424: float32 uniform with 23 bits"),
        "{}",
        planted.detail
    );
    let reference = extremes(&|| Box::new(ReferenceTarget::new()) as Box<dyn Target + Send>);
    assert_eq!(reference.verdict, Verdict::Pass, "{}", reference.detail);
    assert_eq!(reference.n, 150_000_000);
}
