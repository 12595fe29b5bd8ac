//! Half precision in the audit: float16 and bfloat16 replies accepted and judged at their own
//! precision.
//!
//! - A target that rounds the reference's every float result to float16 (or bfloat16) — a
//!   correctly rounded half-precision implementation — gets no `fail` and no `error` at the
//!   standard level (warns are the float32 rule at half precision: underflow, ties); with τ
//!   applied to the logits only and the binary temperature doubled (planted), `relaxed.argmax`,
//!   `relaxed.log_ratio` and `binary.cdf` fail in both formats.
//! - A planted half-precision bug, Gumbel noise `-ln(-ln u)` from a float16 uniform (11 bits:
//!   `u = j 2⁻¹¹`, so `u = 0` gives `-inf` and nothing exceeds `-ln(-ln(1 - 2⁻¹¹)) = 7.62`),
//!   fails `noise.finite` and `noise.tail`.
//! - `.npy` `<f2` is read exactly: all 65536 bit patterns written by NumPy decode to the values
//!   NumPy gives them in float64.
//! - Through the adapter protocol: a bfloat16 adapter's float32 result holding a value that is
//!   not a bfloat16 value is a protocol fault naming the bfloat16 rule (the check is `error`);
//!   one holding bfloat16 values is accepted, and the report's dtype is `bfloat16`.
//!
//! One fixed master seed ([`SEED`]), never re-rolled; the battery's family-wise false-alarm
//! rate is 1e-3 (Holm), so the first test has false-alarm probability at most 1e-3 per dtype.

use std::path::PathBuf;

use gumbel_audit::audit::half::{bf16_bits, f16_bits, f16_to_f64};
use gumbel_audit::audit::npy;
use gumbel_audit::audit::{
    AdapterOptions, AdapterTarget, Array, ArrayData, AuditOptions, AuditReport, Capabilities,
    Dtype, GradRequest, Level, Op, ReferenceTarget, Selection, Target, TargetError, Verdict,
    run_battery,
};
use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::rng::seeded;

use crate::common::{python_with_numpy, repo};

const SEED: u64 = 2026;

fn run(target: &mut dyn Target, level: Level, only: Option<&[&str]>) -> AuditReport {
    let mut options = AuditOptions::new(level, SEED, 1e-3).unwrap();
    if let Some(ids) = only {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        options = options.with_selection(Selection::new(Some(&ids), &[]).unwrap());
    }
    run_battery(target, &options, &mut |_| {}).unwrap()
}

/// The reference with every float result rounded to `dtype` (ties to even): what a correctly
/// rounded half-precision implementation returns.
struct RoundedReference {
    dtype: Dtype,
    inner: ReferenceTarget,
}

impl RoundedReference {
    fn new(dtype: Dtype) -> Self {
        RoundedReference {
            dtype,
            inner: ReferenceTarget::new(),
        }
    }

    fn round(&self, r: Result<Array, TargetError>) -> Result<Array, TargetError> {
        let a = r?;
        let ArrayData::F64(v) = &a.data else {
            return Ok(a);
        };
        let data = match self.dtype {
            Dtype::Float16 => ArrayData::F16(v.iter().map(|&x| f16_bits(x)).collect()),
            Dtype::Bfloat16 => ArrayData::Bf16(v.iter().map(|&x| bf16_bits(x)).collect()),
            other => panic!("not a half dtype: {other:?}"),
        };
        Array::new(a.shape.clone(), data)
    }
}

impl Target for RoundedReference {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        let c = self.inner.capabilities()?;
        Ok(Capabilities::new(
            format!("reference rounded to {}", self.dtype.as_str()),
            self.dtype,
            c.ops,
            c.estimators,
        ))
    }
    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let r = self.inner.gumbel(n, seed);
        self.round(r)
    }
    fn categorical(&mut self, logits: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        self.inner.categorical(logits, n, seed)
    }
    fn relaxed_sample(
        &mut self,
        logits: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let r = self.inner.relaxed_sample(logits, tau, hard, n, seed);
        self.round(r)
    }
    fn relaxed_log_prob(
        &mut self,
        logits: &[f64],
        tau: f64,
        y: &[f64],
    ) -> Result<Array, TargetError> {
        let r = self.inner.relaxed_log_prob(logits, tau, y);
        self.round(r)
    }
    fn binary_sample(
        &mut self,
        logit: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let r = self.inner.binary_sample(logit, tau, n, seed);
        self.round(r)
    }
    fn binary_log_prob(&mut self, logit: f64, tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        let r = self.inner.binary_log_prob(logit, tau, y);
        self.round(r)
    }
    fn grad(&mut self, request: &GradRequest) -> Result<Array, TargetError> {
        let r = self.inner.grad(request);
        self.round(r)
    }
}

#[test]
fn a_correctly_rounded_half_precision_reference_passes_standard() {
    for dtype in [Dtype::Float16, Dtype::Bfloat16] {
        let r = run(&mut RoundedReference::new(dtype), Level::Standard, None);
        assert_eq!(r.dtype, dtype);
        for c in &r.checks {
            assert!(
                !matches!(c.verdict, Verdict::Fail | Verdict::Error),
                "{}: {} is {:?}: {}",
                dtype.as_str(),
                c.id,
                c.verdict,
                c.detail
            );
        }
        // The statistical checks ran at this precision (not skipped): the band test of the
        // noise and the binary CDF, the argmax laws (relaxed.log_ratio may warn: rows with an
        // entry underflowed to 0 at float16 are left out, the float32 rule).
        for id in [
            "noise.cdf",
            "binary.cdf",
            "relaxed.log_ratio",
            "relaxed.argmax",
        ] {
            let c = r.check(id).unwrap();
            assert!(
                matches!(c.verdict, Verdict::Pass | Verdict::Warn),
                "{}: {id}: {}",
                dtype.as_str(),
                c.detail
            );
            assert!(c.p_value.is_some(), "{id} produced a p-value");
        }
        let noise = r.check("noise.cdf").unwrap();
        assert!(
            noise.detail.contains("KS band test"),
            "noise.cdf judged by the band test: {}",
            noise.detail
        );
    }
}

/// The rounded reference with a planted law bug, to see that the half-precision paths (KS band,
/// the argmax law with ties left out) keep their power: relaxed samples with τ applied to the
/// logits only (`softmax(l/τ + g)`), binary samples at twice the temperature.
struct PlantedHalf(RoundedReference);

impl Target for PlantedHalf {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        self.0.capabilities()
    }
    fn relaxed_sample(
        &mut self,
        logits: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let scaled: Vec<f64> = logits.iter().map(|l| l / tau).collect();
        self.0.relaxed_sample(&scaled, 1.0, hard, n, seed)
    }
    fn binary_sample(
        &mut self,
        logit: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        self.0.binary_sample(logit, 2.0 * tau, n, seed)
    }
}

#[test]
fn planted_law_bugs_fail_at_half_precision() {
    for dtype in [Dtype::Float16, Dtype::Bfloat16] {
        let r = run(
            &mut PlantedHalf(RoundedReference::new(dtype)),
            Level::Standard,
            Some(&["relaxed.argmax", "relaxed.log_ratio", "binary.cdf"]),
        );
        for id in ["relaxed.argmax", "relaxed.log_ratio", "binary.cdf"] {
            let c = r.check(id).unwrap();
            assert_eq!(
                c.verdict,
                Verdict::Fail,
                "{}: {id}: {}",
                dtype.as_str(),
                c.detail
            );
        }
    }
}

/// Gumbel noise `-ln(-ln u)` from a float16 uniform `u = j 2⁻¹¹`, `j` uniform in `0..2¹¹`,
/// computed and returned in float16.
struct Float16UniformGumbel;

impl Target for Float16UniformGumbel {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            "float16 uniform Gumbel (planted)",
            Dtype::Float16,
            vec![Op::Gumbel],
            vec![],
        ))
    }
    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let mut rng = seeded(seed);
        let bits = (0..n)
            .map(|_| {
                let u = (open_uniform(&mut rng) * 2048.0).floor() / 2048.0;
                f16_bits(-(-u.ln()).ln())
            })
            .collect();
        Array::new(vec![n], ArrayData::F16(bits))
    }
}

#[test]
fn a_float16_uniform_gumbel_fails_finiteness_and_the_tail() {
    let r = run(
        &mut Float16UniformGumbel,
        Level::Standard,
        Some(&["noise.finite", "noise.tail"]),
    );
    let finite = r.check("noise.finite").unwrap();
    assert_eq!(finite.verdict, Verdict::Fail, "{}", finite.detail);
    let tail = r.check("noise.tail").unwrap();
    assert_eq!(tail.verdict, Verdict::Fail, "{}", tail.detail);
    assert!(tail.detail.contains("0 draws beyond"), "{}", tail.detail);
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gumbel-audit-half-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg_attr(
    not(gumbel_numpy),
    ignore = "needs numpy: run scripts/adapters/setup.sh"
)]
#[test]
fn npy_float16_is_read_exactly_for_every_bit_pattern() {
    let python = python_with_numpy();
    let dir = scratch("npy");
    let (f2, f8) = (dir.join("all.f2.npy"), dir.join("all.f8.npy"));
    let status = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, numpy as np\n\
             a = np.arange(65536, dtype=np.uint16).view(np.float16)\n\
             np.save(sys.argv[1], a)\n\
             with np.errstate(invalid='ignore'):\n    np.save(sys.argv[2], a.astype(np.float64))\n",
            f2.to_str().unwrap(),
            f8.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let half = npy::read(&f2).unwrap();
    let wide = npy::read(&f8).unwrap();
    assert_eq!(half.shape, vec![65536]);
    let ArrayData::F16(bits) = &half.data else {
        panic!("<f2 read as {}", half.data.dtype_name());
    };
    assert!(bits.iter().enumerate().all(|(i, &b)| usize::from(b) == i));
    let (ours, numpys) = (half.to_f64(), wide.to_f64());
    for (i, (a, b)) in ours.iter().zip(&numpys).enumerate() {
        if b.is_nan() {
            assert!(a.is_nan(), "pattern {i:#06x}");
        } else {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "pattern {i:#06x}: {a} vs numpy {b}"
            );
        }
    }
    assert_eq!(f16_to_f64(0x7bff), 65504.0);
    // Written back, the bytes are NumPy's.
    assert_eq!(npy::to_bytes(&half), std::fs::read(&f2).unwrap());
    std::fs::remove_dir_all(dir).ok();
}

/// A bfloat16 adapter on the SDK whose `gumbel` returns `values` (a Python expression in `n`
/// and `rng`, a float32 array).
fn bfloat16_adapter(values: &str) -> AdapterTarget {
    let python = python_with_numpy();
    let dir = scratch(&format!("bf16-{}", values.len()));
    let script = dir.join("adapter.py");
    let sdk = repo().join("python");
    std::fs::write(
        &script,
        format!(
            "import sys\nsys.path.insert(0, {sdk:?})\nimport numpy as np\n\
             from gumbel_audit.adapter import serve\n\
             class T:\n    dtype = 'bfloat16'\n    name = 'bfloat16 test adapter'\n\
             \x20   def gumbel(self, n, seed):\n        rng = np.random.default_rng(seed)\n\
             \x20       return {values}\n\
             serve(T())\n",
            sdk = sdk.display().to_string()
        ),
    )
    .unwrap();
    AdapterTarget::spawn(
        &python,
        &[script.display().to_string()],
        AdapterOptions::default(),
    )
    .unwrap()
}

#[cfg_attr(
    not(gumbel_numpy),
    ignore = "needs numpy: run scripts/adapters/setup.sh"
)]
#[test]
fn a_bfloat16_reply_that_is_not_bfloat16_is_a_fault_naming_the_rule() {
    let mut t = bfloat16_adapter("np.full(n, 0.7, dtype=np.float32)");
    let r = run(&mut t, Level::Quick, Some(&["noise.finite"]));
    let c = r.check("noise.finite").unwrap();
    assert_eq!(c.verdict, Verdict::Error, "{}", c.detail);
    assert!(c.detail.contains("bfloat16 rule"), "{}", c.detail);
    assert!(c.detail.contains("value 0 is 7e-1"), "{}", c.detail);
}

#[cfg_attr(
    not(gumbel_numpy),
    ignore = "needs numpy: run scripts/adapters/setup.sh"
)]
#[test]
fn a_bfloat16_reply_of_bfloat16_values_is_accepted_and_judged() {
    // Gumbel draws truncated to bfloat16 (the low 16 bits of each float32 cleared).
    let mut t = bfloat16_adapter(
        "(rng.gumbel(size=n).astype(np.float32).view(np.uint32) & np.uint32(0xFFFF0000))\
         .view(np.float32)",
    );
    let r = run(&mut t, Level::Quick, Some(&["noise.finite"]));
    assert_eq!(r.dtype, Dtype::Bfloat16);
    let c = r.check("noise.finite").unwrap();
    assert_eq!(c.verdict, Verdict::Pass, "{}", c.detail);
    assert!(c.n > 0);
}
