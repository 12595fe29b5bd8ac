//! candle's Gumbel sampler, `candle_nn::sampling::gumbel_softmax` (candle-nn 0.11.1, CPU), as
//! an audit [`Target`].
//!
//! # What candle computes (source: candle-nn-0.11.1/src/sampling.rs)
//! ```text
//! τ ≤ 0:   argmax_i l_i                                   (greedy, no noise)
//! τ > 0:   l  <- l cast to f32
//!          u_i ~ Uniform[1e-7, 0.999)  in f32             (Tensor::rand_like(1e-7, 0.999))
//!          m_i = ln(-ln u_i)                              (= -g_i)
//!          τ = 1: argmax_i (l_i - m_i);  else argmax_i (l_i - τ·m_i)
//! ```
//! so it returns **indices** (a hard sample; no soft Concrete vector), with noise
//! `g = -ln(-ln u)` truncated to `[-ln(-ln 1e-7), -ln(-ln 0.999)] ≈ [-2.780, 6.907]`, and at
//! τ ≠ 1 draws `argmax(l/τ + g) ~ Categorical(softmax(l/τ))` (the text-generation temperature),
//! not the argmax of a Concrete(l, τ) sample, which is `Categorical(softmax(l))` for every τ.
//!
//! Op offered: `categorical` = `gumbel_softmax(logits, 1.0, D::Minus1)` on `n` broadcast rows
//! (chunks of at most [`CHUNK_ELEMS`] elements), the plain Gumbel-Max path. candle exposes
//! neither its noise nor a soft sample, so no other op is listed.
//!
//! # Seeding
//! On the CPU candle draws from `rand::rng()` (thread-local, seeded from the OS) and
//! `Device::Cpu.set_seed(s)` returns an error, so the request seed cannot reach the sampler:
//! it is ignored, and runs are not reproducible (the battery's `reproducibility` check reports
//! this). `candle_transformers::generation::LogitsProcessor` with `Sampling::GumbelSoftmax`
//! forwards to this function and likewise does not use its seed (its own comment says so).

use candle_core::{D, DType, Device, Tensor};
use gumbel_audit::audit::{Array, Capabilities, Dtype, Op, Target, TargetError};

/// Largest number of f32 elements per call (bounds memory at k = 100).
pub const CHUNK_ELEMS: usize = 4_000_000;

/// The audited sampler.
#[derive(Debug, Default)]
pub struct CandleGumbelSoftmax;

/// `gumbel_softmax(logits, tau, D::Minus1)` for `rows` copies of `logits`, as `u32` indices.
///
/// # Errors
/// candle's own error as [`TargetError::Rejected`]; a panic inside candle as
/// [`TargetError::Fault`] with its message.
pub fn candle_sample(logits: &[f64], tau: f64, rows: usize) -> Result<Vec<u32>, TargetError> {
    let k = logits.len();
    let owned = logits.to_vec();
    let run = move || -> candle_core::Result<Vec<u32>> {
        let row = Tensor::from_vec(owned, (1, k), &Device::Cpu)?;
        let batch = row.broadcast_as((rows, k))?;
        let idx = candle_nn::sampling::gumbel_softmax(&batch, tau, D::Minus1)?;
        idx.to_dtype(DType::U32)?.to_vec1::<u32>()
    };
    match std::panic::catch_unwind(run) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(TargetError::Rejected(format!("candle: {e}"))),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic payload".into());
            Err(TargetError::Fault(format!("candle panicked: {msg}")))
        }
    }
}

impl Target for CandleGumbelSoftmax {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            "candle-nn 0.11.1 sampling::gumbel_softmax(logits, 1.0, D::Minus1), CPU (unseedable)",
            Dtype::Float32,
            vec![Op::Categorical],
            vec![],
        ))
    }

    fn categorical(&mut self, logits: &[f64], n: usize, _seed: u64) -> Result<Array, TargetError> {
        let k = logits.len().max(1);
        let chunk = (CHUNK_ELEMS / k).max(1);
        let mut out = Vec::with_capacity(n);
        let mut left = n;
        while left > 0 {
            let rows = left.min(chunk);
            out.extend(candle_sample(logits, 1.0, rows)?.into_iter().map(i64::from));
            left -= rows;
        }
        Ok(Array::from_i64(out))
    }
}

/// A **control**, not candle's API: candle's own source lines rebuilt from public tensor ops
/// (`to_dtype(F32)`, `rand_like(lo, hi)`, `log`, `neg`, `log`, `-`, `argmax`), with the
/// uniform's bounds as parameters. With candle's bounds `(1e-7, 0.999)` it must reproduce
/// candle's failure; with `(2^-24, 1)` it shows what the same code gives with the clamp
/// removed. Labelled as such wherever it is reported.
#[derive(Debug)]
pub struct CandleOpsControl {
    /// Lower bound of the uniform.
    pub lo: f64,
    /// Upper bound of the uniform (exclusive).
    pub hi: f64,
}

/// `n` draws of the control's Gumbel-Max for `logits` at τ = 1.
///
/// # Errors
/// candle's own error as [`TargetError::Rejected`].
pub fn control_sample(
    logits: &[f64],
    lo: f64,
    hi: f64,
    rows: usize,
) -> Result<Vec<u32>, TargetError> {
    let k = logits.len();
    let run = || -> candle_core::Result<Vec<u32>> {
        let row = Tensor::from_vec(logits.to_vec(), (1, k), &Device::Cpu)?;
        let l = row.broadcast_as((rows, k))?.to_dtype(DType::F32)?;
        let minus_g = l.rand_like(lo, hi)?.log()?.neg()?.log()?;
        (l - minus_g)?.argmax(D::Minus1)?.to_vec1::<u32>()
    };
    run().map_err(|e| TargetError::Rejected(format!("candle: {e}")))
}

impl Target for CandleOpsControl {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            format!(
                "control: candle 0.11.1 tensor ops, u ~ U[{:e}, {}) (not candle's API)",
                self.lo, self.hi
            ),
            Dtype::Float32,
            vec![Op::Categorical],
            vec![],
        ))
    }

    fn categorical(&mut self, logits: &[f64], n: usize, _seed: u64) -> Result<Array, TargetError> {
        let k = logits.len().max(1);
        let chunk = (CHUNK_ELEMS / k).max(1);
        let mut out = Vec::with_capacity(n);
        let mut left = n;
        while left > 0 {
            let rows = left.min(chunk);
            out.extend(
                control_sample(logits, self.lo, self.hi, rows)?
                    .into_iter()
                    .map(i64::from),
            );
            left -= rows;
        }
        Ok(Array::from_i64(out))
    }
}
