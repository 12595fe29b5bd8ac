//! `statrs::distribution::Gumbel`'s sampler (statrs 0.19.1, feature `rand`, rand 0.10) as an
//! audit [`Target`].
//!
//! # Notation
//! ```text
//! x    rand's StandardUniform f64 draw, x ∈ [0, 1)
//! s    statrs' sample: s = μ - β·ln(ln(-x))      (source: src/distribution/gumbel.rs)
//!      the Gumbel inverse CDF is μ - β·ln(-ln x); statrs negates x before the logarithm
//!      instead of negating the logarithm, so ln(-x) is ln of a non-positive number:
//!      x > 0: ln(-x) = NaN, s = NaN;  x = 0: ln(-0) = -inf, ln(-inf) = NaN, s = NaN
//! ```
//!
//! Op offered: `gumbel` only (statrs has no categorical sampler): `n` draws of
//! `rand::distr::Distribution::<f64>::sample(&Gumbel::new(0, 1), rng)` from
//! `gumbel_audit::rng::seeded(seed)`. Values are returned as drawn (no NaN filtering).

use gumbel_audit::audit::{Array, Capabilities, Dtype, Op, Target, TargetError};
use rand::distr::Distribution;
use statrs::distribution::Gumbel;

/// The audited sampler.
#[derive(Debug, Default)]
pub struct StatrsGumbel;

impl Target for StatrsGumbel {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            "statrs 0.19.1 distribution::Gumbel (rand::distr::Distribution<f64>::sample)",
            Dtype::Float64,
            vec![Op::Gumbel],
            vec![],
        ))
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let d = Gumbel::new(0.0, 1.0)
            .map_err(|e| TargetError::Rejected(format!("statrs Gumbel::new: {e}")))?;
        let mut rng = gumbel_audit::rng::seeded(seed);
        Ok(Array::from_f64(
            (0..n).map(|_| d.sample(&mut rng)).collect(),
        ))
    }
}
