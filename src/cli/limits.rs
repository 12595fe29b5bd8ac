//! Size limits of the command line: sizes whose memory would exceed a stated budget are refused
//! before anything is allocated, with an error naming the flag and the rule (an allocation
//! failure would abort the process instead).
//!
//! # Rule
//! Every buffer a size flag makes the library allocate holds at most
//! [`MAX_ELEMENTS`] = 2²⁷ f64 values (1 GiB); the element count is computed with checked
//! arithmetic, so an overflowing product is refused too. Streamed sizes (`sample -n`,
//! `study temperature --samples`, `study variance --samples`) allocate nothing per sample and
//! have no limit beyond time.

/// Most f64 values one size-dependent allocation may hold: 2²⁷ (1 GiB).
pub(crate) const MAX_ELEMENTS: u64 = 1 << 27;

/// Checks that `elements` (`None`: the product overflowed) is within [`MAX_ELEMENTS`].
/// `what` names the flags and the product, e.g. `"--rao-draws 10 × k 3"`.
pub(crate) fn check_elements(what: &str, elements: Option<u64>) -> Result<(), String> {
    match elements {
        Some(n) if n <= MAX_ELEMENTS => Ok(()),
        _ => Err(format!(
            "{what} = {}: the buffer would exceed the limit of 2^27 f64 values (1 GiB) per \
             allocation; use smaller sizes",
            elements.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
        )),
    }
}

/// `a · b` with overflow as `None`.
pub(crate) fn product(factors: &[usize]) -> Option<u64> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(f as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_and_overflow() {
        assert!(check_elements("--x", product(&[1 << 13, 1 << 14])).is_ok());
        let err = check_elements("--x 2^28", product(&[1 << 14, 1 << 14])).unwrap_err();
        assert!(
            err.contains("--x 2^28 = 268435456") && err.contains("2^27"),
            "{err}"
        );
        let err = check_elements("--x", product(&[usize::MAX, 3])).unwrap_err();
        assert!(err.contains("more than 2^64"), "{err}");
    }
}
