//! The audit report as the Python package sees it: the crate's renderers, unchanged, behind a
//! small class.
//!
//! The Python `gumbel_audit.AuditReport` is built from [`NativeReport::json`] (the CLI's
//! `--json` schema, `gumbel-audit-report/2`); its `__str__` is [`NativeReport::table`] (the
//! CLI's table) and its `_repr_markdown_` [`NativeReport::markdown`] (the CLI's `--report`).

use gumbel_audit::audit::AuditReport;
use gumbel_audit::audit::report::{to_json, to_markdown, to_table};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A finished audit (opaque to Python except through its renderings).
#[pyclass(module = "gumbel_audit._native", frozen)]
pub struct NativeReport {
    report: AuditReport,
}

impl NativeReport {
    /// Wraps a report.
    pub fn new(report: AuditReport) -> Self {
        NativeReport { report }
    }
}

#[pymethods]
impl NativeReport {
    /// The report as JSON text (schema `gumbel-audit-report/2`, as `gumbel-audit audit --json`).
    fn json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&to_json(&self.report))
            .map_err(|e| PyValueError::new_err(format!("cannot serialise the report: {e}")))
    }

    /// The terminal table `gumbel-audit audit` prints.
    fn table(&self) -> String {
        to_table(&self.report)
    }

    /// `(markdown, [(file name, svg text), ...])` as `gumbel-audit audit --report DIR` writes.
    fn markdown(&self) -> (String, Vec<(String, String)>) {
        let md = to_markdown(&self.report);
        (md.markdown, md.plots)
    }
}
