//! `gumbel_audit._native`: the Rust half of the Python package `gumbel_audit` (issue 17).
//!
//! The Python package (python/gumbel_audit/) is the public face; this extension module holds
//! only what must run in Rust:
//! - [`audit`]: the crate's battery (`gumbel_audit::audit::run_battery`) run on a Python object
//!   through [`target::PyTarget`], the same battery, seeds and verdicts as `gumbel-audit audit`;
//! - the `ref_*` functions ([`reference`]): the reference samplers and densities of
//!   `gumbel_audit::audit::ReferenceTarget`, returned as NumPy arrays;
//! - [`report::NativeReport`]: the crate's renderers (table, JSON, Markdown);
//! - [`cli::cli_main`]: the `gumbel-audit` command line itself, run in the Python process.
//!
//! Every entry point runs inside [`guard::guarded`]: a Rust panic becomes a Python
//! `RuntimeError`, never an abort across the boundary.

mod cli;
mod guard;
mod reference;
mod report;
mod target;

use gumbel_audit::audit::battery::check_ids as battery_check_ids;
use gumbel_audit::audit::{AuditOptions, Capabilities, Dtype, Level, Op, Selection, run_battery};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::report::NativeReport;
use crate::target::PyTarget;

/// Every check id, in battery order.
#[pyfunction]
fn check_ids() -> Vec<&'static str> {
    battery_check_ids()
}

/// Runs the battery on `target`, whose capabilities the Python side has read
/// (`gumbel_audit._target.describe`). `only`/`skip` select checks by id, exactly as
/// `gumbel-audit audit --only/--skip` do: the other checks are not run, and every check's seeds
/// depend only on (master seed, check id, chunk), so a check run alone has the p-value it has in
/// the full battery.
#[pyfunction]
#[pyo3(signature = (target, name, dtype, ops, estimators, unsupported, level, seed, fwer, only, skip))]
#[allow(clippy::too_many_arguments)]
fn audit(
    target: Bound<'_, PyAny>,
    name: String,
    dtype: &str,
    ops: Vec<String>,
    estimators: Vec<String>,
    unsupported: Bound<'_, PyAny>,
    level: &str,
    seed: u64,
    fwer: f64,
    only: Option<Vec<String>>,
    skip: Option<Vec<String>>,
) -> PyResult<NativeReport> {
    let level = Level::from_name(level).ok_or_else(|| {
        PyValueError::new_err(format!(
            "level {level:?}: must be \"quick\", \"standard\" or \"thorough\""
        ))
    })?;
    let selection = Selection::new(only.as_deref(), skip.as_deref().unwrap_or(&[]))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let options = AuditOptions::new(level, seed, fwer)
        .map_err(|e| PyValueError::new_err(e.to_string()))?
        .with_selection(selection);
    let dtype = match dtype {
        "float32" => Dtype::Float32,
        "float64" => Dtype::Float64,
        other => {
            return Err(PyValueError::new_err(format!(
                "target.dtype {other:?}: must be \"float32\" or \"float64\""
            )));
        }
    };
    let ops = ops
        .iter()
        .map(|o| Op::from_name(o).ok_or_else(|| PyTypeError::new_err(format!("unknown op {o:?}"))))
        .collect::<PyResult<Vec<Op>>>()?;
    let caps = Capabilities::new(name, dtype, ops, estimators);
    let mut py_target = PyTarget::new(target, caps, unsupported);
    let report = guard::guarded(|| {
        run_battery(&mut py_target, &options, &mut |_| {})
            .map_err(|e| PyValueError::new_err(format!("the audit could not start: {e}")))
    })?;
    // Ctrl-C (or SystemExit) met during a request: the battery stopped asking the target and
    // ran out quickly; re-raise it rather than return a half-empty report.
    if let Some(err) = py_target.take_interrupt() {
        return Err(err);
    }
    Ok(NativeReport::new(report))
}

/// Panics inside the guard (test hook: a Rust panic must reach Python as an exception).
#[pyfunction]
fn _panic_for_test(message: String) -> PyResult<()> {
    guard::guarded(|| -> PyResult<()> { panic!("{message}") })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check_ids, m)?)?;
    m.add_function(wrap_pyfunction!(cli::cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(audit, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_class::<NativeReport>()?;
    reference::register(m)?;
    Ok(())
}
