//! Auditing your own Rust implementation with gumbel-audit's battery.
//!
//! `cargo run --release --example audit_own_target` audits a small Gumbel-Softmax
//! implementation written here (noise, Gumbel-Max, relaxed samples and their hard mode) and
//! prints the report table; the exit code is the audit's (0 pass, 1 fail, 2 error). In a real
//! project the same lines go into a `#[test]` that asserts the verdict.

use std::process::ExitCode;

use gumbel_audit::audit::report::to_table;
use gumbel_audit::audit::{
    Array, AuditOptions, Capabilities, Dtype, Level, Op, Target, TargetError, run_battery,
};
use rand::Rng;

/// The implementation under audit.
struct MyGumbelSoftmax;

fn uniform(rng: &mut impl Rng) -> f64 {
    // 53 random bits, shifted into the open interval (0, 1).
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

fn noise(rng: &mut impl Rng) -> f64 {
    -(-uniform(rng).ln()).ln()
}

fn check_logits(logits: &[f64]) -> Result<(), TargetError> {
    if logits.is_empty()
        || logits.iter().any(|l| l.is_nan() || *l == f64::INFINITY)
        || logits.iter().all(|l| *l == f64::NEG_INFINITY)
    {
        return Err(TargetError::Rejected(
            "logits must be finite or -inf, not all -inf".into(),
        ));
    }
    Ok(())
}

impl Target for MyGumbelSoftmax {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            "example Gumbel-Softmax 0.1",
            Dtype::Float64,
            vec![Op::Gumbel, Op::Categorical, Op::RelaxedSample],
            vec![],
        ))
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let mut rng = gumbel_audit::rng::seeded(seed);
        Ok(Array::from_f64((0..n).map(|_| noise(&mut rng)).collect()))
    }

    fn categorical(&mut self, logits: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        check_logits(logits)?;
        let mut rng = gumbel_audit::rng::seeded(seed);
        let draws = (0..n)
            .map(|_| {
                let mut best = (0, f64::NEG_INFINITY);
                for (i, l) in logits.iter().enumerate() {
                    let z = l + noise(&mut rng);
                    if z > best.1 {
                        best = (i, z);
                    }
                }
                best.0 as i64
            })
            .collect();
        Ok(Array::from_i64(draws))
    }

    fn relaxed_sample(
        &mut self,
        logits: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        check_logits(logits)?;
        if !(tau.is_finite() && tau > 0.0) {
            return Err(TargetError::Rejected("temperature must be positive".into()));
        }
        let k = logits.len();
        let mut rng = gumbel_audit::rng::seeded(seed);
        let mut out = Vec::with_capacity(n * k);
        for _ in 0..n {
            // Log space with max subtraction: no overflow at small τ.
            let s: Vec<f64> = logits.iter().map(|l| (l + noise(&mut rng)) / tau).collect();
            let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = s.iter().map(|v| (v - m).exp()).sum();
            if hard {
                let i = s.iter().position(|&v| v == m).unwrap_or(0);
                out.extend((0..k).map(|j| if j == i { 1.0 } else { 0.0 }));
            } else {
                out.extend(s.iter().map(|v| (v - m).exp() / total));
            }
        }
        Array::from_f64_matrix(n, k, out)
    }
}

fn main() -> ExitCode {
    let options = AuditOptions::new(Level::Standard, 7, 1e-3).expect("valid options");
    match run_battery(&mut MyGumbelSoftmax, &options, &mut |_| {}) {
        Ok(report) => {
            print!("{}", to_table(&report));
            ExitCode::from(report.exit_code())
        }
        Err(e) => {
            eprintln!("audit could not start: {e}");
            ExitCode::from(2)
        }
    }
}
