//! What one check found before Holm: its p-value (if statistical), its power statement, the
//! failures, warnings and notes, the criterion and a figure.

use serde_json::{Value, json};

use crate::audit::partial::{Obj, f64_json, opt_f64_json};
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

impl Outcome {
    /// The outcome as JSON, for a shard's partial (`audit::partial`): every field, floats
    /// exactly (`"inf"`, `"-inf"`, `"NaN"` for the non-finite).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "p_value": opt_f64_json(self.p_value),
            "power": self.power.as_ref().map_or(Value::Null, Power::to_json),
            "n": self.n,
            "fails": self.fails,
            "warns": self.warns,
            "notes": self.notes,
            "criterion": self.criterion,
            "figure": self.figure.as_ref().map_or(Value::Null, Figure::to_json),
            "max_tolerance": f64_json(self.max_tolerance),
        })
    }

    /// Reads what [`Outcome::to_json`] wrote.
    ///
    /// # Errors
    /// A message naming the missing or mistyped field.
    pub(crate) fn from_json(o: &Obj<'_>) -> Result<Self, String> {
        Ok(Outcome {
            p_value: o.opt_f64("p_value")?,
            power: match o.opt("power")? {
                Some(_) => Some(Power::from_json(&o.obj("power")?)?),
                None => None,
            },
            n: o.u64("n")?,
            fails: o.strings("fails")?,
            warns: o.strings("warns")?,
            notes: o.strings("notes")?,
            criterion: o.str("criterion")?.to_string(),
            figure: match o.opt("figure")? {
                Some(_) => Some(Figure::from_json(&o.obj("figure")?)?),
                None => None,
            },
            max_tolerance: o.f64("max_tolerance")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_round_trips_through_json() {
        let mut o = Outcome::new("KS on 100 draws");
        o.p_value = Some(0.123_456_789_012_345_67);
        o.power = Some(Power::Tail { n: 7, q: 1e-6 });
        o.n = 100;
        o.fails.push("x".into());
        o.warns.push("y".into());
        o.notes.push("z; w".into());
        o.figure = Some(Figure::Exceedances {
            title: "t".into(),
            thresholds: vec![1.0, f64::INFINITY],
            observed: vec![3, 0],
            expected: vec![2.5, 0.0],
        });
        o.max_tolerance = 1e-12;
        let text = serde_json::to_string(&o.to_json()).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let back = Outcome::from_json(&Obj::new(&v, "o").unwrap()).unwrap();
        assert_eq!(format!("{o:?}"), format!("{back:?}"));
        let mut bad = v.clone();
        bad["n"] = json!(-1);
        let e = Outcome::from_json(&Obj::new(&bad, "o").unwrap()).unwrap_err();
        assert!(e.contains("o.n"), "{e}");
    }
}
