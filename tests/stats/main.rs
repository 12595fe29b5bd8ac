//! Test binary of the statistics layer (`src/stats`): the p-values against scipy (oracle), their
//! calibration on correct samples and their power against planted bugs.
//!
//! Run it alone with `cargo test --release --test stats` (add a filter such as
//! `calibration_ks_ad::` to run one module). Each module's doc states its kind;
//! `tests/README.md` has the whole map.

#[path = "../common/mod.rs"]
mod common;

mod calibration_counts_multivariate;
mod calibration_ks_ad;
mod gaussian;
mod oracle_chi2;
mod oracle_ks_ad;
mod power_counts_multivariate;
mod power_ks_ad;
