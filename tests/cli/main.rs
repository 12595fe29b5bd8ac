//! Test binary of the command line and the studies (`src/main.rs`, `src/cli`, `src/study`):
//! output shape and exit codes of `sample`, `log-prob` and `study …`, and the studies' numbers
//! against independent truths.
//!
//! Run it alone with `cargo test --release --test cli` (add a filter such as
//! `study_variance::` to run one module). Each module's doc states its kind;
//! `tests/README.md` has the whole map.

#[path = "../common/mod.rs"]
mod common;

mod commands;
mod fuzz_replay;
mod hostile_input;
mod study_semi_supervised;
mod study_variance;
mod tokens;
