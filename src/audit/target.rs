//! The ops an implementation under audit offers: protocol v1's ops as one trait.
//!
//! Every implementation is audited by the same code through [`Target`]: the built-in reference
//! (`audit::reference`), a child process speaking adapter protocol v1 (`audit::adapter`), or a
//! Rust type a user writes to audit their own sampler inside their own `cargo test`.
//!
//! # Notation
//! ```text
//! k          number of categories, len(logits)
//! n, N       sample count
//! S          seed (u64), fresh for every sampling request
//! τ (tau)    temperature
//! π          softmax(logits); a logit of -inf is a masked category (π_i = 0)
//! ```
//!
//! # Contract
//! - Inputs are passed **unvalidated**: the battery sends invalid parameters on purpose
//!   (`τ ≤ 0`, a NaN logit, `k = 0`, every logit `-inf`) to see how the implementation reacts.
//!   A target forwards them to the implementation and returns either
//!   [`TargetError::Rejected`] (the implementation's own error) or whatever it computed.
//! - Every op has a default body returning [`TargetError::Unsupported`]; a target overrides the
//!   ops it offers and lists them in [`Capabilities::ops`]. Checks needing an unsupported op are
//!   skipped, not failed.
//! - Arrays come back in the implementation's own dtype ([`ArrayData`]); the battery judges
//!   shape, dtype and finiteness itself, so a target must not "repair" values (no clamping, no
//!   NaN filtering).
//! - [`TargetError::Fault`] is for failures of the plumbing, not of the implementation: a crashed
//!   or hung adapter, malformed JSON, an unreadable array file. The battery reports it and runs
//!   the remaining checks where it can.
//!
//! # References
//! - docs/adapter-protocol.md (protocol v1) and docs/audit.md (the battery).

use std::fmt;

use crate::audit::half::{self, Format};

/// The floating-point precision an implementation computes in (protocol `hello.dtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE 754 binary32.
    Float32,
    /// IEEE 754 binary64.
    Float64,
    /// IEEE 754 binary16 (arrays travel as `.npy` `<f2`).
    Float16,
    /// bfloat16, the upper half of a binary32 (arrays travel as `.npy` `<f4` whose every
    /// value is a bfloat16 value: docs/adapter-protocol.md).
    Bfloat16,
}

impl Dtype {
    /// Every dtype, from the finest to the coarsest.
    pub const ALL: [Dtype; 4] = [
        Dtype::Float64,
        Dtype::Float32,
        Dtype::Float16,
        Dtype::Bfloat16,
    ];

    /// The protocol's spelling: `"float32"`, `"float64"`, `"float16"` or `"bfloat16"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
            Dtype::Float16 => "float16",
            Dtype::Bfloat16 => "bfloat16",
        }
    }

    /// The dtype spelled `name` in the protocol, if there is one.
    pub fn from_name(name: &str) -> Option<Dtype> {
        Dtype::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// The format's limits (precision, exponent range, largest finite value: `audit::half`).
    pub fn format(self) -> Format {
        match self {
            Dtype::Float64 => half::FLOAT64,
            Dtype::Float32 => half::FLOAT32,
            Dtype::Float16 => half::FLOAT16,
            Dtype::Bfloat16 => half::BFLOAT16,
        }
    }

    /// The dtype's epsilon `2^(1-p)`: 2⁻⁵², 2⁻²³, 2⁻¹⁰ (float16), 2⁻⁷ (bfloat16).
    pub fn eps(self) -> f64 {
        self.format().eps()
    }

    /// Whether the dtype is one of the 16-bit formats.
    pub fn is_half(self) -> bool {
        matches!(self, Dtype::Float16 | Dtype::Bfloat16)
    }

    /// The coarser of two dtypes (the larger epsilon; bfloat16 is coarser than float16).
    pub fn looser(self, other: Dtype) -> Dtype {
        if other.eps() > self.eps() {
            other
        } else {
            self
        }
    }
}

/// One op of protocol v1 (besides `hello` and `bye`, which every target has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `gumbel`: standard Gumbel noise.
    Gumbel,
    /// `categorical`: draws from Categorical(softmax(logits)).
    Categorical,
    /// `relaxed_sample`: Gumbel-Softmax (Concrete) samples, soft or hard.
    RelaxedSample,
    /// `relaxed_log_prob`: the Concrete log density (Maddison et al. convention).
    RelaxedLogProb,
    /// `binary_sample`: binary Concrete (RelaxedBernoulli) samples.
    BinarySample,
    /// `binary_log_prob`: the binary Concrete log density.
    BinaryLogProb,
    /// `grad`: single-sample gradient estimates with respect to the logits.
    Grad,
    /// `token_sample`: token ids drawn by an LLM sampler (temperature, top-k, top-p, min-p).
    TokenSample,
}

impl Op {
    /// Every op, in protocol order.
    pub const ALL: [Op; 8] = [
        Op::Gumbel,
        Op::Categorical,
        Op::RelaxedSample,
        Op::RelaxedLogProb,
        Op::BinarySample,
        Op::BinaryLogProb,
        Op::Grad,
        Op::TokenSample,
    ];

    /// The protocol's name of the op (`"relaxed_sample"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Op::Gumbel => "gumbel",
            Op::Categorical => "categorical",
            Op::RelaxedSample => "relaxed_sample",
            Op::RelaxedLogProb => "relaxed_log_prob",
            Op::BinarySample => "binary_sample",
            Op::BinaryLogProb => "binary_log_prob",
            Op::Grad => "grad",
            Op::TokenSample => "token_sample",
        }
    }

    /// The op with protocol name `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// What a target says about itself (protocol `hello` response).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Free text: implementation and version.
    pub name: String,
    /// The precision the implementation computes in.
    pub dtype: Dtype,
    /// The ops offered.
    pub ops: Vec<Op>,
    /// The gradient estimators offered (`"reinforce"`, `"gumbel_softmax"`,
    /// `"straight_through"`, optionally `"gumbel_rao"`), possibly empty.
    pub estimators: Vec<String>,
    /// Op names the implementation declared that protocol v1 does not know: ignored by the
    /// battery, named in the report (a misspelled op is otherwise silently untested).
    pub unknown_ops: Vec<String>,
}

impl Capabilities {
    /// Capabilities with the given fields.
    pub fn new(
        name: impl Into<String>,
        dtype: Dtype,
        ops: Vec<Op>,
        estimators: Vec<String>,
    ) -> Self {
        Capabilities {
            name: name.into(),
            dtype,
            ops,
            estimators,
            unknown_ops: Vec::new(),
        }
    }

    /// These capabilities with the unknown op names `names` recorded.
    pub fn with_unknown_ops(mut self, names: Vec<String>) -> Self {
        self.unknown_ops = names;
        self
    }

    /// Whether `op` is offered.
    pub fn offers(&self, op: Op) -> bool {
        self.ops.contains(&op)
    }

    /// Whether the gradient estimator `name` is offered.
    pub fn offers_estimator(&self, name: &str) -> bool {
        self.ops.contains(&Op::Grad) && self.estimators.iter().any(|e| e == name)
    }
}

/// The values of an array in the dtype the implementation produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// float32 values.
    F32(Vec<f32>),
    /// float64 values.
    F64(Vec<f64>),
    /// int32 values.
    I32(Vec<i32>),
    /// int64 values.
    I64(Vec<i64>),
    /// float16 values as their bit patterns (decoded exactly by [`Array::to_f64`]).
    F16(Vec<u16>),
    /// bfloat16 values as their bit patterns (the upper 16 bits of the float32 each is).
    Bf16(Vec<u16>),
}

impl ArrayData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I32(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::F16(v) | ArrayData::Bf16(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dtype's NumPy name (`"float32"`, `"float64"`, `"int32"`, `"int64"`, `"float16"`;
    /// `"bfloat16"` as ml_dtypes names it).
    pub fn dtype_name(&self) -> &'static str {
        match self {
            ArrayData::F32(_) => "float32",
            ArrayData::F64(_) => "float64",
            ArrayData::I32(_) => "int32",
            ArrayData::I64(_) => "int64",
            ArrayData::F16(_) => "float16",
            ArrayData::Bf16(_) => "bfloat16",
        }
    }

    /// Whether the values are floating point.
    pub fn is_float(&self) -> bool {
        self.float_dtype().is_some()
    }

    /// The floating-point dtype of the values (`None` for integers).
    pub fn float_dtype(&self) -> Option<Dtype> {
        match self {
            ArrayData::F32(_) => Some(Dtype::Float32),
            ArrayData::F64(_) => Some(Dtype::Float64),
            ArrayData::F16(_) => Some(Dtype::Float16),
            ArrayData::Bf16(_) => Some(Dtype::Bfloat16),
            ArrayData::I32(_) | ArrayData::I64(_) => None,
        }
    }
}

/// An n-dimensional array in C (row-major) order, as a target returned it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Array {
    /// Dimensions, outermost first (`[N]` or `[N, k]`).
    pub shape: Vec<usize>,
    /// The values, `shape.iter().product()` of them.
    pub data: ArrayData,
}

impl Array {
    /// An array; `Err` with the rule if `data` does not have `Π shape` elements.
    pub fn new(shape: Vec<usize>, data: ArrayData) -> Result<Self, TargetError> {
        let want: usize = shape.iter().product();
        if want != data.len() {
            return Err(TargetError::Fault(format!(
                "array of shape {shape:?} must hold {want} values, found {}",
                data.len()
            )));
        }
        Ok(Array { shape, data })
    }

    /// A float64 vector of shape `[n]`.
    pub fn from_f64(values: Vec<f64>) -> Self {
        Array {
            shape: vec![values.len()],
            data: ArrayData::F64(values),
        }
    }

    /// A float64 matrix of shape `[rows, cols]`; `Err` if `values.len() != rows·cols`.
    pub fn from_f64_matrix(
        rows: usize,
        cols: usize,
        values: Vec<f64>,
    ) -> Result<Self, TargetError> {
        Array::new(vec![rows, cols], ArrayData::F64(values))
    }

    /// An int64 vector of shape `[n]`.
    pub fn from_i64(values: Vec<i64>) -> Self {
        Array {
            shape: vec![values.len()],
            data: ArrayData::I64(values),
        }
    }

    /// The values widened to f64 (exact for the float dtypes, int32, and int64 below 2⁵³).
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.data {
            ArrayData::F16(v) => v.iter().map(|&b| half::f16_to_f64(b)).collect(),
            ArrayData::Bf16(v) => v.iter().map(|&b| half::bf16_to_f64(b)).collect(),
            ArrayData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            ArrayData::F64(v) => v.clone(),
            ArrayData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            ArrayData::I64(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }
}

/// An objective for the `grad` op (protocol v1), passed unvalidated.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectiveSpec {
    /// `f(z) = Σ_i c_i z_i`.
    Linear(Vec<f64>),
    /// `f(z) = Σ_i (z_i - t_i)²`.
    Quadratic(Vec<f64>),
}

/// One `grad` request: `n` independent single-sample estimates of `∇_logits E[f(z)]`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GradRequest {
    /// Estimator name as in [`Capabilities::estimators`].
    pub estimator: String,
    /// Logits `l` (`k` of them; `-inf` masks a category).
    pub logits: Vec<f64>,
    /// Temperature `τ` (ignored by `reinforce`).
    pub tau: f64,
    /// The objective `f`.
    pub objective: ObjectiveSpec,
    /// Number of rows.
    pub n: usize,
    /// Seed.
    pub seed: u64,
    /// Conditional draws `m` for `gumbel_rao` (protocol field `m`); `None` for the others.
    pub m: Option<usize>,
}

impl GradRequest {
    /// A request without the optional `m`.
    pub fn new(
        estimator: impl Into<String>,
        logits: Vec<f64>,
        tau: f64,
        objective: ObjectiveSpec,
        n: usize,
        seed: u64,
    ) -> Self {
        GradRequest {
            estimator: estimator.into(),
            logits,
            tau,
            objective,
            n,
            seed,
            m: None,
        }
    }
}

/// One `token_sample` request: `n` token ids drawn by the sampler under test (docs/tokens.md).
/// Passed unvalidated, like every request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TokenRequest {
    /// Logits (`k` of them; `-inf` masks a token).
    pub logits: Vec<f64>,
    /// Temperature `T`.
    pub temperature: f64,
    /// Top-k (`None`: no top-k; protocol `null`).
    pub top_k: Option<i64>,
    /// Top-p (`None`: 1, no top-p; protocol `null`).
    pub top_p: Option<f64>,
    /// Min-p (`None`: 0, no min-p; protocol `null`).
    pub min_p: Option<f64>,
    /// The composition asked for (`"hf"`, `"vllm"`); `None` when at most one truncation is
    /// active, where every order gives the same law.
    pub order: Option<String>,
    /// Number of draws.
    pub n: usize,
    /// Seed.
    pub seed: u64,
}

impl TokenRequest {
    /// A request at temperature `temperature` with no truncation and no order.
    pub fn new(logits: Vec<f64>, temperature: f64, n: usize, seed: u64) -> Self {
        TokenRequest {
            logits,
            temperature,
            top_k: None,
            top_p: None,
            min_p: None,
            order: None,
            n,
            seed,
        }
    }
}

/// Why a target did not return an array.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetError {
    /// The op (or estimator) is not offered: the checks that need it are skipped.
    Unsupported,
    /// The implementation refused the input with its own error (protocol `ok: false` with
    /// `error`). For invalid input this is the desired behaviour.
    Rejected(String),
    /// The plumbing failed: crash, timeout, malformed response, unreadable or mis-shaped
    /// array. Never the implementation's verdict on its input.
    Fault(String),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Unsupported => write!(f, "op not offered by the implementation"),
            TargetError::Rejected(msg) => write!(f, "the implementation rejected the input: {msg}"),
            TargetError::Fault(msg) => write!(f, "adapter fault: {msg}"),
        }
    }
}

impl std::error::Error for TargetError {}

/// An implementation under audit: protocol v1's ops.
///
/// Override the ops the implementation offers and list them in [`Target::capabilities`]; the
/// rest default to [`TargetError::Unsupported`]. Shapes: `gumbel` `[n]` float;
/// `categorical` `[n]` integer in `0..k`; `relaxed_sample` `[n, k]` float;
/// `relaxed_log_prob` `[m]` float for `y` of `m` rows of `k` (row-major);
/// `binary_sample` `[n]` float in (0, 1); `binary_log_prob` `[m]` float; `grad` `[n, k]` float;
/// `token_sample` `[n]` integer in `0..k`.
pub trait Target {
    /// Name, dtype, ops and estimators (protocol `hello`). Called once, first.
    fn capabilities(&mut self) -> Result<Capabilities, TargetError>;

    /// `n` standard Gumbel(0, 1) draws as the implementation makes its noise.
    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let _ = (n, seed);
        Err(TargetError::Unsupported)
    }

    /// `n` draws from Categorical(softmax(logits)) by the implementation's sampler.
    fn categorical(&mut self, logits: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        let _ = (logits, n, seed);
        Err(TargetError::Unsupported)
    }

    /// `n` Concrete samples `softmax((logits + g)/τ)`; with `hard`, the forward value of the
    /// implementation's straight-through mode (one-hot rows).
    fn relaxed_sample(
        &mut self,
        logits: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let _ = (logits, tau, hard, n, seed);
        Err(TargetError::Unsupported)
    }

    /// Concrete log density (Maddison et al. convention, Lebesgue measure on `y_1..y_{k-1}`)
    /// at each row of `y` (`y.len() / logits.len()` rows of `k`, row-major).
    fn relaxed_log_prob(
        &mut self,
        logits: &[f64],
        tau: f64,
        y: &[f64],
    ) -> Result<Array, TargetError> {
        let _ = (logits, tau, y);
        Err(TargetError::Unsupported)
    }

    /// `n` binary Concrete samples `sigmoid((logit + L)/τ)`, `L ~ Logistic(0, 1)`.
    fn binary_sample(
        &mut self,
        logit: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let _ = (logit, tau, n, seed);
        Err(TargetError::Unsupported)
    }

    /// Binary Concrete log density at each entry of `y`.
    fn binary_log_prob(&mut self, logit: f64, tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        let _ = (logit, tau, y);
        Err(TargetError::Unsupported)
    }

    /// `request.n` single-sample gradient estimates, shape `[n, k]`.
    fn grad(&mut self, request: &GradRequest) -> Result<Array, TargetError> {
        let _ = request;
        Err(TargetError::Unsupported)
    }

    /// `request.n` token ids in `0..k` drawn by the implementation's LLM sampler, shape `[n]`
    /// integer.
    fn token_sample(&mut self, request: &TokenRequest) -> Result<Array, TargetError> {
        let _ = request;
        Err(TargetError::Unsupported)
    }

    /// End the session (protocol `bye`). Called once, last; the default does nothing.
    fn finish(&mut self) -> Result<(), TargetError> {
        Ok(())
    }
}
