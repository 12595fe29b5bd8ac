//! What one check found before Holm: its p-value (if statistical), its power statement, the
//! failures, warnings and notes, the criterion and a figure.

use crate::audit::power::Power;
use crate::audit::result::Figure;

/// What a check found, before Holm.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) p_value: Option<f64>,
    pub(crate) power: Option<Power>,
    pub(crate) n: u64,
    pub(crate) fails: Vec<String>,
    pub(crate) warns: Vec<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) criterion: String,
    pub(crate) figure: Option<Figure>,
    /// For exact criteria: the largest tolerance used (what "any violation" means).
    pub(crate) max_tolerance: f64,
}

impl Outcome {
    pub(crate) fn new(criterion: impl Into<String>) -> Self {
        Outcome {
            criterion: criterion.into(),
            ..Outcome::default()
        }
    }

    /// Sets the Bonferroni combination of `ps` as the p-value.
    pub(crate) fn combine(&mut self, ps: &[f64]) {
        let min = ps.iter().copied().fold(1.0, f64::min);
        self.p_value = Some((min * ps.len() as f64).min(1.0));
    }
}
