//! # gumbel-audit
//!
//! A reference implementation of Gumbel-Max sampling, the Gumbel-Softmax (Concrete) distribution
//! and its gradient estimators, and a statistical verification suite around it.
//!
//! ## Crate map
//! - [`audit`]: auditing an implementation through the [`audit::Target`] trait (protocol v1).
//! - [`distributions`]: the reference implementation (Gumbel noise, logits, categorical with Gumbel-Max
//!   and Gumbel-top-k, Concrete and ExpConcrete, binary Concrete, temperature schedules).
//! - [`golden`]: the checker of the golden conformance vectors in `fixtures/`: comparing the
//!   reference with them, regenerating the Rust-generated ones.
//! - [`plot`]: minimal SVG plots for studies and reports.
//! - [`grad`]: gradient estimators (REINFORCE with baselines, Gumbel-Softmax, straight-through,
//!   Gumbel-Rao) and their ground truth (exact discrete gradients and covariances, `k = 2`
//!   quadrature of the relaxed objective).
//! - [`numeric`]: compensated sums, log-space kernels and the log-CDF interface
//!   ([`numeric::LnCdfSf`]) shared by every layer.
//! - [`stats`]: statistical tests with stated error rates, each returning a result struct.
//! - [`study`]: the computations behind `gumbel-audit study …` and their presentation (rows,
//!   CSV text and plots as data; the CLI writes them).
//! - [`rng`]: the named portable RNG (`ChaCha8Rng`) behind every seeded entry point.
//! - [`tolerance`]: the library's tolerances, each with its reason.
//! - [`error`]: the error type; every variant names the rule that was broken.
//!
//! Layers: [`distributions`], [`grad`] and [`stats`] know nothing of each other except that
//! [`grad`] builds on [`distributions`]; all three may use [`numeric`] and [`tolerance`]. The
//! formulas are in `docs/design/math.md`.
//!
//! ## `unsafe` code
//! Only `src/distributions/fast/simd.rs` (runtime AVX2 selection for the batch sampler and its
//! intrinsics kernels, reachable only through a token made by CPU detection; a `SAFETY`
//! comment on every block, measured gains in `docs/performance.md`). The crate root says
//! `deny(unsafe_code)` and that one module declaration says `allow(unsafe_code)`: `forbid`
//! would be the stronger lint, but a crate-level `forbid` cannot be lowered for a single
//! module (rustc rejects the inner `allow`, E0453), so `deny` plus one reviewed exception is
//! the strongest form the language allows.
//!
//! ## Notes on testing
//! The tests are sorted into these kinds (unit tests sit at the bottom of each file, the rest in
//! `tests/`):
//! 1. **Construction and errors**: every rule of every constructor and function returns its
//!    named [`Error`] variant; nothing panics on bad input.
//! 2. **Fixed points with a constant mock RNG**: all-zero and all-one bits give the edge
//!    uniforms `2⁻⁵³` and `1 - 2⁻⁵³`, and the noise and samples built on them stay finite.
//! 3. **Value stability**: seeded outputs of each sampler on `ChaCha8Rng` are pinned.
//! 4. **Exact values and quadrature**: closed forms checked by hand, and the Concrete density
//!    integrated numerically to 1.
//! 5. **Property tests** (proptest, strategies as free functions, bounded ranges): invariances
//!    and identities that hold for every input. No statistical test runs inside `proptest!`.
//! 6. **Distributional tests**: goodness of fit with stated false-alarm rate, sample size and
//!    detectable discrepancy, each also run against a planted bug to show it can fail.
//! 7. **Golden fixtures** against an independent high-precision oracle (`fixtures/`).
// `deny`, not `forbid`: see "`unsafe` code" above; the one exception is `distributions::fast::simd`.
#![deny(unsafe_code)]
#![warn(missing_docs)]
// `from_uniform` / `from_noise` are the deterministic cores of the samplers; they
// are methods because they depend on the distribution's parameters.
#![allow(clippy::wrong_self_convention)]

pub mod audit;
pub mod distributions;
pub mod error;
pub mod golden;
pub mod grad;
pub mod numeric;
pub mod plot;
pub mod rng;
pub mod stats;
pub mod study;
pub mod tokens;
pub mod tolerance;

pub use distributions::{
    BinaryConcrete, Categorical, Concrete, Gumbel, Logits, TemperatureSchedule, TruncatedGumbel,
};
pub use error::Error;
