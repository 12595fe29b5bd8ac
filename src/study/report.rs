//! What the studies' CSV files share: the number format.
//!
//! Every float is written so that it reads back to the same `f64` (Rust's shortest
//! round-trip representation): plain notation for magnitudes in `[10⁻⁴, 10¹⁶)` and for 0 and
//! non-finite values, scientific notation otherwise (so `1e-300` is not 300 zeros).

/// Formats a float so that it reads back to the same value (module doc).
///
/// # Example
/// ```
/// use gumbel_audit::study::report::fmt_f64;
/// assert_eq!(fmt_f64(0.25), "0.25");
/// assert_eq!(fmt_f64(1e-300), "1e-300");
/// assert_eq!(fmt_f64(f64::NEG_INFINITY), "-inf");
/// ```
pub fn fmt_f64(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-4..1e16).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value reads back exactly, in a short string. Seen to fail with `{v:.6}` for the
    /// plain branch.
    #[test]
    fn floats_round_trip() {
        for v in [
            0.0,
            1e-300,
            3.7e-5,
            0.25,
            123.5,
            1e20,
            -2.5e-10,
            0.1 + 0.2,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::NEG_INFINITY,
        ] {
            let s = fmt_f64(v);
            assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
            assert!(s.len() < 30, "{s}");
        }
    }
}
