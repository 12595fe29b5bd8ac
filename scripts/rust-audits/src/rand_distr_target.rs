//! `rand_distr::Gumbel` (rand_distr 0.6, on rand 0.10) as an audit [`Target`].
//!
//! # Notation
//! ```text
//! u    rand::distr::OpenClosed01 draw: u = (v + 1)·2^-p, v the top p bits of one RNG word,
//!      p = 53 (f64) or 24 (f32); so u ∈ [2^-p, 1], and u = 1 when v = 2^p - 1
//! g    rand_distr's Gumbel(0, 1) sample: g = 0 - 1·ln(-ln u)  (+inf when u = 1)
//! l    logits; π = softmax(l)
//! ```
//!
//! Ops offered:
//! - `gumbel`: `n` draws of `Gumbel::<F>::new(0, 1)` from `gumbel_audit::rng::seeded(seed)`
//!   (ChaCha8, the same `rand` 0.10 `Rng` the library takes).
//! - `categorical`: **not a rand_distr op**. Gumbel-Max written here over rand_distr's noise,
//!   `argmax_i (l_i + g_i)` with `k` fresh draws per row, first index on ties; so what is audited
//!   is whether rand_distr's noise is good enough for Gumbel-Max. The wrapper rejects invalid
//!   logits (NaN, +inf, empty, all `-inf`) itself: `bad_input` on this op judges the wrapper,
//!   not rand_distr (whose `Gumbel::new` has no logits).
//!
//! Values are returned as drawn: no clamping, no filtering.

use gumbel_audit::audit::{Array, ArrayData, Capabilities, Dtype, Op, Target, TargetError};
use rand_distr::{Distribution, Gumbel};

/// Which float type rand_distr samples in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `Gumbel<f64>`.
    F64,
    /// `Gumbel<f32>`.
    F32,
}

/// The audited sampler.
#[derive(Debug)]
pub struct RandDistrGumbel {
    precision: Precision,
}

impl RandDistrGumbel {
    /// A target sampling `Gumbel<f64>` or `Gumbel<f32>`.
    pub fn new(precision: Precision) -> Self {
        RandDistrGumbel { precision }
    }
}

fn check_logits(logits: &[f64]) -> Result<(), TargetError> {
    if logits.is_empty()
        || logits.iter().any(|l| l.is_nan() || *l == f64::INFINITY)
        || logits.iter().all(|l| *l == f64::NEG_INFINITY)
    {
        return Err(TargetError::Rejected(
            "Gumbel-Max wrapper: logits must be finite or -inf, not all -inf, k >= 1".into(),
        ));
    }
    Ok(())
}

fn rejected(e: rand_distr::GumbelError) -> TargetError {
    TargetError::Rejected(format!("rand_distr::Gumbel::new: {e}"))
}

/// Index of the largest value, first on ties (`>` never holds for NaN).
fn argmax<T: PartialOrd + Copy>(z: &[T], lowest: T) -> usize {
    let mut best = (0, lowest);
    for (i, &v) in z.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

impl Target for RandDistrGumbel {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        let (name, dtype) = match self.precision {
            Precision::F64 => (
                "rand_distr 0.6.0 Gumbel<f64> (categorical = Gumbel-Max over its noise, wrapper in scripts/rust-audits)",
                Dtype::Float64,
            ),
            Precision::F32 => (
                "rand_distr 0.6.0 Gumbel<f32> (categorical = Gumbel-Max over its noise, wrapper in scripts/rust-audits)",
                Dtype::Float32,
            ),
        };
        Ok(Capabilities::new(
            name,
            dtype,
            vec![Op::Gumbel, Op::Categorical],
            vec![],
        ))
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let mut rng = gumbel_audit::rng::seeded(seed);
        let data = match self.precision {
            Precision::F64 => {
                let d = Gumbel::<f64>::new(0.0, 1.0).map_err(rejected)?;
                ArrayData::F64((0..n).map(|_| d.sample(&mut rng)).collect())
            }
            Precision::F32 => {
                let d = Gumbel::<f32>::new(0.0, 1.0).map_err(rejected)?;
                ArrayData::F32((0..n).map(|_| d.sample(&mut rng)).collect())
            }
        };
        Array::new(vec![n], data)
    }

    fn categorical(&mut self, logits: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        check_logits(logits)?;
        let mut rng = gumbel_audit::rng::seeded(seed);
        let k = logits.len();
        let draws: Vec<i64> = match self.precision {
            Precision::F64 => {
                let d = Gumbel::<f64>::new(0.0, 1.0).map_err(rejected)?;
                let mut z = vec![0.0f64; k];
                (0..n)
                    .map(|_| {
                        for (zi, li) in z.iter_mut().zip(logits) {
                            *zi = li + d.sample(&mut rng);
                        }
                        argmax(&z, f64::NEG_INFINITY) as i64
                    })
                    .collect()
            }
            Precision::F32 => {
                // The logits are rounded to f32 once, as a float32 user holds them.
                let l32: Vec<f32> = logits.iter().map(|&l| l as f32).collect();
                let d = Gumbel::<f32>::new(0.0, 1.0).map_err(rejected)?;
                let mut z = vec![0.0f32; k];
                (0..n)
                    .map(|_| {
                        for (zi, li) in z.iter_mut().zip(&l32) {
                            *zi = li + d.sample(&mut rng);
                        }
                        argmax(&z, f32::NEG_INFINITY) as i64
                    })
                    .collect()
            }
        };
        Ok(Array::from_i64(draws))
    }
}
