//! Studies: computations behind `gumbel-audit study …`, returning rows and plots as data.
//!
//! Pure functions of their inputs and a seed. Each study's computation and its presentation
//! (CSV text, SVG plot) are separate files: `temperature.rs` and `temperature_report.rs`,
//! `variance.rs` and `variance_report.rs`, `semi_supervised/` and `semi_supervised/report.rs`;
//! the CLI parses arguments, calls them, and prints or writes the strings.

pub mod report;
pub mod semi_supervised;
pub mod temperature;
pub mod temperature_report;
pub mod variance;
pub mod variance_report;
