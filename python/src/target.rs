//! A Python object as a [`Target`]: the in-process route of the audit.
//!
//! # The object's methods (the protocol's ops; any subset)
//! ```text
//! gumbel(n, seed)                                  -> float [n]
//! categorical(logits, n, seed)                     -> int   [n]
//! relaxed_sample(logits, tau, n, seed, hard=False) -> float [n, k]
//! relaxed_log_prob(logits, tau, y)                 -> float [m]      y: float64 [m, k]
//! binary_sample(logit, tau, n, seed)               -> float [n]
//! binary_log_prob(logit, tau, y)                   -> float [m]      y: float64 [m]
//! grad(estimator, objective, logits, tau, n, seed[, m=M]) -> float [n, k]
//! ```
//! `logits` is a float64 array of shape `[k]`, `logit`, `tau` Python floats, `n`, `seed`, `m`
//! Python ints, `objective` a dict `{"kind": "linear", "c": array}` or
//! `{"kind": "quadratic", "target": array}`; `m` is passed (by keyword) for `gumbel_rao` only,
//! `hard=True` by keyword for hard samples only. These are the values adapter protocol v1
//! carries, so an object served by `gumbel_audit.adapter.serve` sees exactly the same calls.
//!
//! # Mapping to the battery's verdicts (as for an adapter, docs/adapter-protocol.md)
//! - a missing method, `NotImplementedError` or `gumbel_audit.Unsupported`: the op or estimator
//!   is not offered, its checks are `skipped`;
//! - any other `Exception`: the implementation's refusal ([`TargetError::Rejected`]), desired on
//!   invalid input, a `fail` ("valid input rejected") with the exception's type, message and
//!   innermost frames on valid input;
//! - a return value that is not a `numpy.ndarray`, or has a dtype other than float32/float64
//!   (int32/int64 for `categorical`), or the wrong shape: a fault of the plumbing
//!   ([`TargetError::Fault`], verdict `error`), with the rule it broke;
//! - `KeyboardInterrupt` (Ctrl-C, also seen by `Python::check_signals` before every request),
//!   `SystemExit` and other non-`Exception` exceptions: the target is not called again, the
//!   battery runs out, and the exception is re-raised by `audit`.

use gumbel_audit::audit::{
    Array, ArrayData, Capabilities, GradRequest, ObjectiveSpec, Op, Target, TargetError,
    TokenRequest,
};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyException, PyNotImplementedError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// A Python object under audit.
pub struct PyTarget<'py> {
    obj: Bound<'py, PyAny>,
    caps: Capabilities,
    /// The class `gumbel_audit.Unsupported`.
    unsupported: Bound<'py, PyAny>,
    /// The `KeyboardInterrupt` (or other `BaseException`) that stopped the audit.
    interrupt: Option<PyErr>,
}

/// What an op must return.
struct Expect {
    float: bool,
    shape: Vec<usize>,
}

impl<'py> PyTarget<'py> {
    /// The object `obj` with the capabilities read from it.
    pub fn new(obj: Bound<'py, PyAny>, caps: Capabilities, unsupported: Bound<'py, PyAny>) -> Self {
        PyTarget {
            obj,
            caps,
            unsupported,
            interrupt: None,
        }
    }

    /// The exception that stopped the audit, if any.
    pub fn take_interrupt(&mut self) -> Option<PyErr> {
        self.interrupt.take()
    }

    fn call(
        &mut self,
        op: Op,
        args: Bound<'py, PyTuple>,
        kwargs: Option<Bound<'py, PyDict>>,
        expect: Expect,
    ) -> Result<Array, TargetError> {
        if self.interrupt.is_some() {
            return Err(TargetError::Fault(
                "the audit was interrupted (KeyboardInterrupt)".into(),
            ));
        }
        if !self.caps.offers(op) {
            return Err(TargetError::Unsupported);
        }
        let py = self.obj.py();
        if let Err(e) = py.check_signals() {
            self.interrupt = Some(e);
            return Err(TargetError::Fault("the audit was interrupted".into()));
        }
        match self.obj.call_method(op.name(), args, kwargs.as_ref()) {
            Ok(value) => to_array(op, &value, &expect),
            Err(e) => Err(self.classify(op, e)),
        }
    }

    fn classify(&mut self, op: Op, e: PyErr) -> TargetError {
        let py = self.obj.py();
        if !e.is_instance_of::<PyException>(py) {
            let what = e.to_string();
            self.interrupt = Some(e);
            return TargetError::Fault(format!("the audit was interrupted: {what}"));
        }
        if e.is_instance_of::<PyNotImplementedError>(py) || e.is_instance(py, &self.unsupported) {
            return TargetError::Unsupported;
        }
        TargetError::Rejected(format!("{}: {}", op.name(), describe(py, &e)))
    }
}

/// `Type: message (at file:line in function; ...)`, the innermost three frames.
fn describe(py: Python<'_>, e: &PyErr) -> String {
    let head = e.to_string();
    let frames = e
        .traceback(py)
        .and_then(|tb| {
            let tbmod = py.import("traceback").ok()?;
            let summary = tbmod.call_method1("extract_tb", (tb,)).ok()?;
            let mut out = Vec::new();
            for frame in summary.try_iter().ok()? {
                let frame = frame.ok()?;
                let file: String = frame.getattr("filename").ok()?.extract().ok()?;
                let line: Option<u64> = frame.getattr("lineno").ok()?.extract().ok()?;
                let name: String = frame.getattr("name").ok()?.extract().ok()?;
                let file = file.rsplit('/').next().unwrap_or(&file).to_string();
                out.push(format!("{file}:{} in {name}", line.unwrap_or(0)));
            }
            Some(out)
        })
        .unwrap_or_default();
    if frames.is_empty() {
        head
    } else {
        let tail: Vec<String> = frames.iter().rev().take(3).rev().cloned().collect();
        format!("{head} (traceback, innermost last: {})", tail.join(" -> "))
    }
}

/// The value an op returned, checked against the protocol's rules.
fn to_array(op: Op, value: &Bound<'_, PyAny>, expect: &Expect) -> Result<Array, TargetError> {
    let fault = |m: String| TargetError::Fault(format!("{}: {m}", op.name()));
    let Ok(arr) = value.cast::<PyUntypedArray>() else {
        let ty = value
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(fault(format!(
            "the target returned a {ty}, expected a numpy.ndarray in the implementation's own dtype"
        )));
    };
    let shape = arr.shape().to_vec();
    let py = value.py();
    let dt = arr.dtype();
    let data = if dt.is_equiv_to(&numpy::dtype::<f64>(py)) {
        ArrayData::F64(values::<f64>(value)?)
    } else if dt.is_equiv_to(&numpy::dtype::<f32>(py)) {
        ArrayData::F32(values::<f32>(value)?)
    } else if dt.is_equiv_to(&numpy::dtype::<i64>(py)) {
        ArrayData::I64(values::<i64>(value)?)
    } else if dt.is_equiv_to(&numpy::dtype::<i32>(py)) {
        ArrayData::I32(values::<i32>(value)?)
    } else {
        let name = dt.str().map(|s| s.to_string()).unwrap_or_default();
        return Err(fault(format!(
            "result has dtype {name}; the protocol carries float32, float64, int32 or int64 \
             (native byte order)"
        )));
    };
    if data.is_float() != expect.float {
        let want = if expect.float {
            "a float dtype (float32 or float64)"
        } else {
            "an integer dtype (int32 or int64)"
        };
        return Err(fault(format!(
            "result has dtype {}, expected {want}",
            data.dtype_name()
        )));
    }
    if shape != expect.shape {
        return Err(fault(format!(
            "result has shape {shape:?}, expected {:?}",
            expect.shape
        )));
    }
    Array::new(shape, data)
}

/// The elements in C order (any strides).
fn values<T: numpy::Element + Copy>(value: &Bound<'_, PyAny>) -> Result<Vec<T>, TargetError> {
    let arr = value
        .cast::<PyArrayDyn<T>>()
        .map_err(|e| TargetError::Fault(format!("unreadable array: {e}")))?;
    let ro = arr
        .try_readonly()
        .map_err(|e| TargetError::Fault(format!("unreadable array: {e}")))?;
    Ok(ro.as_array().iter().copied().collect())
}

fn float_array<'py>(py: Python<'py>, v: &[f64]) -> Bound<'py, PyAny> {
    numpy::PyArray1::from_slice(py, v).into_any()
}

fn kw<'py>(
    py: Python<'py>,
    key: &str,
    value: impl IntoPyObject<'py>,
) -> Option<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(key, value).ok()?;
    Some(d)
}

/// Builds the positional arguments of a call; a conversion failure (never expected for these
/// plain values) is a fault.
fn args<'py>(
    py: Python<'py>,
    items: Vec<Bound<'py, PyAny>>,
) -> Result<Bound<'py, PyTuple>, TargetError> {
    PyTuple::new(py, items).map_err(|e| TargetError::Fault(format!("cannot build arguments: {e}")))
}

fn obj<'py>(py: Python<'py>, v: impl IntoPyObject<'py>) -> Result<Bound<'py, PyAny>, TargetError> {
    v.into_bound_py_any(py)
        .map_err(|e| TargetError::Fault(format!("cannot convert an argument: {e}")))
}

impl Target for PyTarget<'_> {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(self.caps.clone())
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let py = self.obj.py();
        let a = args(py, vec![obj(py, n)?, obj(py, seed)?])?;
        let expect = Expect {
            float: true,
            shape: vec![n],
        };
        self.call(Op::Gumbel, a, None, expect)
    }

    fn categorical(&mut self, logits: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        let py = self.obj.py();
        let a = args(
            py,
            vec![float_array(py, logits), obj(py, n)?, obj(py, seed)?],
        )?;
        let expect = Expect {
            float: false,
            shape: vec![n],
        };
        self.call(Op::Categorical, a, None, expect)
    }

    fn token_sample(&mut self, request: &TokenRequest) -> Result<Array, TargetError> {
        let py = self.obj.py();
        let a = args(
            py,
            vec![
                float_array(py, &request.logits),
                obj(py, request.n)?,
                obj(py, request.seed)?,
            ],
        )?;
        // As the adapter SDK calls it: temperature always, the rest by keyword when not null.
        let k = PyDict::new(py);
        let fault = |e: PyErr| TargetError::Fault(format!("cannot build the arguments: {e}"));
        k.set_item("temperature", request.temperature)
            .map_err(fault)?;
        if let Some(top_k) = request.top_k {
            k.set_item("top_k", top_k).map_err(fault)?;
        }
        if let Some(top_p) = request.top_p {
            k.set_item("top_p", top_p).map_err(fault)?;
        }
        if let Some(min_p) = request.min_p {
            k.set_item("min_p", min_p).map_err(fault)?;
        }
        if let Some(order) = &request.order {
            k.set_item("order", order.as_str()).map_err(fault)?;
        }
        let expect = Expect {
            float: false,
            shape: vec![request.n],
        };
        self.call(Op::TokenSample, a, Some(k), expect)
    }

    fn relaxed_sample(
        &mut self,
        logits: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let py = self.obj.py();
        let a = args(
            py,
            vec![
                float_array(py, logits),
                obj(py, tau)?,
                obj(py, n)?,
                obj(py, seed)?,
            ],
        )?;
        let k = if hard { kw(py, "hard", true) } else { None };
        let expect = Expect {
            float: true,
            shape: vec![n, logits.len()],
        };
        self.call(Op::RelaxedSample, a, k, expect)
    }

    fn relaxed_log_prob(
        &mut self,
        logits: &[f64],
        tau: f64,
        y: &[f64],
    ) -> Result<Array, TargetError> {
        if !self.caps.offers(Op::RelaxedLogProb) {
            return Err(TargetError::Unsupported);
        }
        let py = self.obj.py();
        let k = logits.len();
        let rows = y.len().checked_div(k).unwrap_or(0);
        if rows * k != y.len() {
            return Err(TargetError::Fault(format!(
                "relaxed_log_prob: y holds {} values, not a whole number of rows of k = {k}",
                y.len()
            )));
        }
        let y2 = numpy::PyArray1::from_slice(py, y)
            .reshape([rows, k])
            .map_err(|e| TargetError::Fault(format!("cannot shape y: {e}")))?;
        let a = args(
            py,
            vec![float_array(py, logits), obj(py, tau)?, y2.into_any()],
        )?;
        let expect = Expect {
            float: true,
            shape: vec![rows],
        };
        self.call(Op::RelaxedLogProb, a, None, expect)
    }

    fn binary_sample(
        &mut self,
        logit: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let py = self.obj.py();
        let a = args(
            py,
            vec![obj(py, logit)?, obj(py, tau)?, obj(py, n)?, obj(py, seed)?],
        )?;
        let expect = Expect {
            float: true,
            shape: vec![n],
        };
        self.call(Op::BinarySample, a, None, expect)
    }

    fn binary_log_prob(&mut self, logit: f64, tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        if !self.caps.offers(Op::BinaryLogProb) {
            return Err(TargetError::Unsupported);
        }
        let py = self.obj.py();
        let a = args(py, vec![obj(py, logit)?, obj(py, tau)?, float_array(py, y)])?;
        let expect = Expect {
            float: true,
            shape: vec![y.len()],
        };
        self.call(Op::BinaryLogProb, a, None, expect)
    }

    fn grad(&mut self, request: &GradRequest) -> Result<Array, TargetError> {
        if !self.caps.offers_estimator(&request.estimator) {
            return Err(TargetError::Unsupported);
        }
        let py = self.obj.py();
        let objective = PyDict::new(py);
        let set = |k: &str, v: Bound<'_, PyAny>| {
            objective
                .set_item(k, v)
                .map_err(|e| TargetError::Fault(format!("cannot build the objective: {e}")))
        };
        match &request.objective {
            ObjectiveSpec::Linear(c) => {
                set("kind", obj(py, "linear")?)?;
                set("c", float_array(py, c))?;
            }
            ObjectiveSpec::Quadratic(t) => {
                set("kind", obj(py, "quadratic")?)?;
                set("target", float_array(py, t))?;
            }
        }
        let a = args(
            py,
            vec![
                obj(py, request.estimator.as_str())?,
                objective.into_any(),
                float_array(py, &request.logits),
                obj(py, request.tau)?,
                obj(py, request.n)?,
                obj(py, request.seed)?,
            ],
        )?;
        let k = request.m.and_then(|m| kw(py, "m", m));
        let expect = Expect {
            float: true,
            shape: vec![request.n, request.logits.len()],
        };
        self.call(Op::Grad, a, k, expect)
    }
}
