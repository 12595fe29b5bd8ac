//! Panics stop at the boundary: a Rust panic inside an entry point becomes a Python
//! `RuntimeError` naming it as an internal error, never an abort of the interpreter.
//!
//! (PyO3 already turns a panic escaping a `#[pyfunction]` into `pyo3_runtime.PanicException`, a
//! `BaseException` that `except Exception` does not catch; a `RuntimeError` is what a caller
//! handles.)

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::PyResult;
use pyo3::exceptions::PyRuntimeError;

/// Runs `f`; a panic is returned as `RuntimeError("gumbel-audit internal error: ...")`.
pub fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(PyRuntimeError::new_err(format!(
                "gumbel-audit internal error (a bug in gumbel-audit, please report it): {what}"
            )))
        }
    }
}
