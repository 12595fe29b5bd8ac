//! Statistical tests that return result structs and state their error rates.
//!
//! Written here because statrs's p-values are wrong for a fully specified null
//! (docs/design/math.md §5); statrs stays the source of special functions and CDFs.

pub mod anderson_darling;
pub mod binomial;
pub mod chi2;
pub mod hotelling;
pub mod ks;
pub mod multiple;
pub mod power;
pub mod two_sample;

pub use anderson_darling::{
    AndersonDarlingResult, LnCdfSf, anderson_darling, anderson_darling_dist,
};
pub use binomial::{
    Alternative, BinomialResult, ProportionInterval, binomial_test, clopper_pearson,
};
pub use chi2::{
    CellResidual, DEFAULT_MIN_EXPECTED, GofResult, GofStatistic, chi2_detectable_w, chi2_isf,
    chi2_noncentrality_for_power, chi2_power, chi2_sample_size, chi2_sf, cohen_w, g_test,
    goodness_of_fit, noncentral_chi2_sf, pearson_chi2,
};
pub use hotelling::{
    Coordinates, HotellingResult, f_sf, hotelling_one_sample, hotelling_two_sample,
};
pub use ks::{KsMethod, KsResult, KsTwoSampleResult, ks_one_sample, ks_two_sample};
pub use multiple::{HolmResult, holm};
pub use power::{
    DkwmResult, dkwm_critical_value, dkwm_detectable_discrepancy, dkwm_sample_size, dkwm_test,
};
pub use two_sample::{EnergyOptions, EnergyResult, energy_test};
