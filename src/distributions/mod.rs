//! The reference implementation: pure math, no I/O.
//!
//! Every sampler is a deterministic function of its noise (`from_uniform`, `from_noise`) plus a
//! thin layer that draws the noise from an RNG through [`uniform`]'s open-interval uniforms.

pub mod anneal;
pub mod binary;
pub mod categorical;
pub mod concrete;
pub mod fast;
pub mod gumbel;
pub mod logits;
pub mod uniform;

pub use anneal::TemperatureSchedule;
pub use binary::BinaryConcrete;
pub use categorical::Categorical;
pub use concrete::Concrete;
pub use gumbel::{Gumbel, TruncatedGumbel};
pub use logits::Logits;
