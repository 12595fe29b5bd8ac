//! Studies: computations behind `gumbel-audit study …`, returning rows and plots as data.
//!
//! Pure functions of their inputs and a seed; the CLI prints and writes the files.

pub mod semi_supervised;
pub mod temperature;
pub mod variance;
