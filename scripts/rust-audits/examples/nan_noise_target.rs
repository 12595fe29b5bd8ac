//! Reproducer for two ways the battery reads an all-NaN noise sampler (reported to the
//! gumbel-audit maintainers; not a finding about any library).
//!
//! `cargo run --release --example nan_noise_target` audits a target whose `gumbel` op returns
//! NaN for every draw **while using its seed** (the uniforms it draws differ between seeds;
//! only the output is NaN, exactly as statrs 0.19.1's sampler does). Observed with gumbel-audit
//! at commit 9f7278d:
//! - `noise.cdf` is `error` ("internal error of the battery: sample size is 0"), which makes
//!   the exit code 2 ("adapter error, audit incomplete") although the sampler is simply wrong;
//! - `reproducibility` is `fail` with "seeds S1 and S2 gave identical output (the seed is
//!   ignored)": NaN is compared equal to NaN, so every all-NaN output looks seed-independent;
//! - `noise.tail` reports "largest draw -inf" (`f64::max` skips NaN).

use gumbel_audit::audit::report::to_table;
use gumbel_audit::audit::{
    Array, AuditOptions, Capabilities, Dtype, Level, Op, Target, TargetError, run_battery,
};
use rand::Rng;

struct NanNoise;

impl Target for NanNoise {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            "NaN noise that uses its seed",
            Dtype::Float64,
            vec![Op::Gumbel],
            vec![],
        ))
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let mut rng = gumbel_audit::rng::seeded(seed);
        // ln of a negative number: the seed-dependent uniform is lost in a NaN.
        let v = (0..n)
            .map(|_| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                (-u).ln()
            })
            .collect();
        Ok(Array::from_f64(v))
    }
}

fn main() {
    let options = AuditOptions::new(Level::Quick, 1, 1e-3).expect("valid options");
    let report = run_battery(&mut NanNoise, &options, &mut |_| {}).expect("battery starts");
    print!("{}", to_table(&report));
    println!("exit code {}", report.exit_code());
}
