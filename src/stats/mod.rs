//! Statistical tests that return result structs and state their error rates.
//!
//! Written here because statrs's p-values are wrong for a fully specified null
//! (shared/design/MATH.md §5); statrs stays the source of special functions and CDFs.

pub mod anderson_darling;
pub mod ks;

pub use anderson_darling::{
    AndersonDarlingResult, LnCdfSf, anderson_darling, anderson_darling_dist,
};
pub use ks::{KsMethod, KsResult, KsTwoSampleResult, ks_one_sample, ks_two_sample};
