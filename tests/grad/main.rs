//! Test binary of the gradient layer (`src/grad`): REINFORCE, Gumbel-Softmax, straight-through
//! and Gumbel-Rao rows against exact truths, finite differences, quadrature and sampling.
//!
//! Run it alone with `cargo test --release --test grad` (add a filter such as `variance::` to
//! run one module). Each module's doc states its kind; `tests/README.md` has the whole map.

#[path = "../common/mod.rs"]
mod common;

mod reinforce;
mod relaxed;
mod support;
mod truth;
mod unbiased;
mod variance;
