//! Test binary of the golden layer (`src/golden`): the committed conformance vectors of
//! `fixtures/` against the reference, their schema, and `gumbel-audit fixtures`.
//!
//! Run it alone with `cargo test --release --test golden`. `tests/README.md` has the whole map.

#[path = "../common/mod.rs"]
mod common;

mod fixtures;
mod fuzz_replay;
mod tokens;
