//! The reference samplers and densities as NumPy arrays: `gumbel_audit.reference`.
//!
//! Each function calls the op of `gumbel_audit::audit::ReferenceTarget` (the code path the CLI's
//! `audit --reference` and the battery's two-sample comparisons use), so for the same seed the
//! values are bit for bit those of the Rust crate: `gumbel(n, S)` is `Gumbel::sample_into` on
//! `rng::seeded(S)`, `relaxed_sample` is `Concrete::sample` row by row, and so on (formulas in
//! `src/audit/reference.rs`). The work runs with the GIL released.
//!
//! Arguments arrive already coerced by python/gumbel_audit/reference.py (float64 contiguous
//! arrays, Python ints and floats); the library's own validation answers invalid parameters,
//! and its message (naming the rule, e.g. "temperature τ must be > 0") becomes a `ValueError`.

use gumbel_audit::audit::{
    Array, ArrayData, GradRequest, ObjectiveSpec, ReferenceTarget, Target, TargetError,
    TokenRequest,
};
use numpy::{IntoPyArray, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::guard::guarded;

/// Runs one reference op without the GIL and converts its result.
fn run(
    py: Python<'_>,
    f: impl FnOnce(&mut ReferenceTarget) -> Result<Array, TargetError> + Send,
) -> PyResult<Py<PyAny>> {
    let result = guarded(|| Ok(py.detach(|| f(&mut ReferenceTarget::new()))))?;
    let array = result.map_err(|e| match e {
        TargetError::Rejected(m) => PyValueError::new_err(m),
        TargetError::Unsupported => PyValueError::new_err("not offered by the reference"),
        TargetError::Fault(m) => PyRuntimeError::new_err(m),
    })?;
    let shape = array.shape.clone();
    let out = match array.data {
        ArrayData::F64(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
        ArrayData::F32(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
        ArrayData::I64(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
        ArrayData::I32(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
        // The reference computes in float64 and never returns these; widened exactly if it did.
        half @ (ArrayData::F16(_) | ArrayData::Bf16(_)) => Array::new(shape.clone(), half)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?
            .to_f64()
            .into_pyarray(py)
            .reshape(shape)?
            .into_any(),
    };
    Ok(out.unbind())
}

#[pyfunction]
fn ref_gumbel(py: Python<'_>, n: usize, seed: u64) -> PyResult<Py<PyAny>> {
    run(py, |r| r.gumbel(n, seed))
}

#[pyfunction]
fn ref_categorical(
    py: Python<'_>,
    logits: PyReadonlyArray1<'_, f64>,
    n: usize,
    seed: u64,
) -> PyResult<Py<PyAny>> {
    let logits = logits.as_array().to_vec();
    run(py, |r| r.categorical(&logits, n, seed))
}

#[pyfunction]
fn ref_relaxed_sample(
    py: Python<'_>,
    logits: PyReadonlyArray1<'_, f64>,
    tau: f64,
    n: usize,
    seed: u64,
    hard: bool,
) -> PyResult<Py<PyAny>> {
    let logits = logits.as_array().to_vec();
    run(py, |r| r.relaxed_sample(&logits, tau, hard, n, seed))
}

/// `y` flattened row-major (`m` rows of `k`); the Python side checked its shape.
#[pyfunction]
fn ref_relaxed_log_prob(
    py: Python<'_>,
    logits: PyReadonlyArray1<'_, f64>,
    tau: f64,
    y: PyReadonlyArray1<'_, f64>,
) -> PyResult<Py<PyAny>> {
    let logits = logits.as_array().to_vec();
    let y = y.as_array().to_vec();
    run(py, |r| r.relaxed_log_prob(&logits, tau, &y))
}

#[pyfunction]
fn ref_binary_sample(
    py: Python<'_>,
    logit: f64,
    tau: f64,
    n: usize,
    seed: u64,
) -> PyResult<Py<PyAny>> {
    run(py, |r| r.binary_sample(logit, tau, n, seed))
}

#[pyfunction]
fn ref_binary_log_prob(
    py: Python<'_>,
    logit: f64,
    tau: f64,
    y: PyReadonlyArray1<'_, f64>,
) -> PyResult<Py<PyAny>> {
    let y = y.as_array().to_vec();
    run(py, |r| r.binary_log_prob(logit, tau, &y))
}

/// `kind` is `"linear"` (vector `c`) or `"quadratic"` (vector `target`).
#[pyfunction]
#[pyo3(signature = (estimator, kind, vector, logits, tau, n, seed, m=None))]
#[allow(clippy::too_many_arguments)]
fn ref_grad(
    py: Python<'_>,
    estimator: String,
    kind: &str,
    vector: PyReadonlyArray1<'_, f64>,
    logits: PyReadonlyArray1<'_, f64>,
    tau: f64,
    n: usize,
    seed: u64,
    m: Option<usize>,
) -> PyResult<Py<PyAny>> {
    let v = vector.as_array().to_vec();
    let objective = match kind {
        "linear" => ObjectiveSpec::Linear(v),
        "quadratic" => ObjectiveSpec::Quadratic(v),
        other => {
            return Err(PyValueError::new_err(format!(
                "objective kind {other:?}: must be \"linear\" or \"quadratic\""
            )));
        }
    };
    let mut request = GradRequest::new(
        estimator,
        logits.as_array().to_vec(),
        tau,
        objective,
        n,
        seed,
    );
    request.m = m;
    run(py, |r| r.grad(&request))
}

/// `n` token ids of the exact token-sampler law (`token_sample`, docs/tokens.md).
#[pyfunction]
#[pyo3(signature = (logits, n, seed, temperature, top_k=None, top_p=None, min_p=None, order=None))]
#[allow(clippy::too_many_arguments)]
fn ref_token_sample(
    py: Python<'_>,
    logits: PyReadonlyArray1<'_, f64>,
    n: usize,
    seed: u64,
    temperature: f64,
    top_k: Option<i64>,
    top_p: Option<f64>,
    min_p: Option<f64>,
    order: Option<String>,
) -> PyResult<Py<PyAny>> {
    let mut request = TokenRequest::new(logits.as_array().to_vec(), temperature, n, seed);
    request.top_k = top_k;
    request.top_p = top_p;
    request.min_p = min_p;
    request.order = order;
    run(py, |r| r.token_sample(&request))
}

/// Adds the `ref_*` functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ref_gumbel, m)?)?;
    m.add_function(wrap_pyfunction!(ref_categorical, m)?)?;
    m.add_function(wrap_pyfunction!(ref_relaxed_sample, m)?)?;
    m.add_function(wrap_pyfunction!(ref_relaxed_log_prob, m)?)?;
    m.add_function(wrap_pyfunction!(ref_binary_sample, m)?)?;
    m.add_function(wrap_pyfunction!(ref_binary_log_prob, m)?)?;
    m.add_function(wrap_pyfunction!(ref_grad, m)?)?;
    m.add_function(wrap_pyfunction!(ref_token_sample, m)?)?;
    Ok(())
}
