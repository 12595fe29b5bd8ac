//! Test binary of the distributions layer (`src/distributions`): the samplers and densities of
//! Gumbel, Gumbel-Max, Concrete (Gumbel-Softmax), binary Concrete and truncated Gumbel.
//!
//! Run it alone with `cargo test --release --test distributions` (add a filter such as
//! `properties::` to run one module). Each module's doc states its kind; `tests/README.md`
//! has the whole map.

#[path = "../common/mod.rs"]
mod common;

mod edge_uniforms;
mod errors;
mod gof_reference;
mod parallel;
mod properties;
mod quadrature;
mod range;
mod simplex;
mod temperature_limits;
mod value_stability;
