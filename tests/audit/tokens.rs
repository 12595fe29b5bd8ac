//! The token-sampler checks (`tokens.*`): the reference passes them over 50 seeds at quick
//! with no `fail`; in-process planted samplers fail the check meant to catch them; the NumPy
//! adapter's convention bugs are named by `tokens.convention`.
//!
//! Error rates: each run controls the family-wise false-alarm rate at 1e-3 (Holm over the
//! selected checks), so 50 clean runs raise a false alarm with probability at most 0.05 under
//! fresh seeds; the seeds are fixed (0..50), so the result is reproducible.

use std::process::Command;

use gumbel_audit::audit::{
    Array, AuditOptions, AuditReport, Capabilities, Level, ReferenceTarget, Selection, Target,
    TargetError, TokenRequest, Verdict, run_battery,
};

use crate::common::{python_with_numpy, repo};

const TOKEN_CHECKS: [&str; 3] = ["tokens.support", "tokens.law", "tokens.convention"];

fn run(target: &mut dyn Target, level: Level, seed: u64) -> AuditReport {
    let ids: Vec<String> = TOKEN_CHECKS.iter().map(|s| s.to_string()).collect();
    let options = AuditOptions::new(level, seed, 1e-3)
        .unwrap()
        .with_selection(Selection::new(Some(&ids), &[]).unwrap());
    run_battery(target, &options, &mut |_| {}).unwrap()
}

#[test]
fn reference_passes_the_token_checks_over_50_seeds_at_quick() {
    let mut fails = Vec::new();
    for seed in 0..50 {
        let r = run(&mut ReferenceTarget::new(), Level::Quick, seed);
        for c in &r.checks {
            assert_ne!(c.verdict, Verdict::Skipped, "{}", c.id);
            if c.verdict == Verdict::Fail || c.verdict == Verdict::Error {
                fails.push(format!("seed {seed}: {} {}", c.id, c.detail));
            }
        }
    }
    assert!(fails.is_empty(), "{fails:#?}");
}

/// The reference's draws with every token id shifted by the planted mistake.
struct Planted {
    inner: ReferenceTarget,
    bug: fn(&mut ReferenceTarget, &TokenRequest) -> Result<Array, TargetError>,
}

impl Target for Planted {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        self.inner.capabilities()
    }
    fn token_sample(&mut self, request: &TokenRequest) -> Result<Array, TargetError> {
        (self.bug)(&mut self.inner, request)
    }
}

fn verdict(r: &AuditReport, id: &str) -> Verdict {
    r.check(id).map(|c| c.verdict).unwrap_or(Verdict::Skipped)
}

#[test]
fn a_sampler_ignoring_the_order_fails_the_law() {
    // Always the hf composition, whatever order the request asks for.
    let mut t = Planted {
        inner: ReferenceTarget::new(),
        bug: |r, req| {
            let mut req = req.clone();
            req.order = None;
            r.token_sample(&req)
        },
    };
    let rep = run(&mut t, Level::Standard, 7);
    assert_eq!(verdict(&rep, "tokens.law"), Verdict::Fail);
    assert_eq!(verdict(&rep, "tokens.support"), Verdict::Fail);
}

#[test]
fn a_sampler_indexing_past_the_vocabulary_fails_the_support() {
    // A cumulative sum that stays below top_p = 0.9999999 and returns k (TensorRT-LLM#19485).
    let mut t = Planted {
        inner: ReferenceTarget::new(),
        bug: |r, req| {
            let a = r.token_sample(req)?;
            if req.top_p == Some(0.9999999) {
                let k = req.logits.len() as i64;
                let v: Vec<i64> = a
                    .to_f64()
                    .iter()
                    .enumerate()
                    .map(|(j, &x)| if j % 1000 == 0 { k } else { x as i64 })
                    .collect();
                return Ok(Array::from_i64(v));
            }
            Ok(a)
        },
    };
    let rep = run(&mut t, Level::Standard, 7);
    let c = rep.check("tokens.support").unwrap();
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.detail.contains("outside 0..5"), "{}", c.detail);
}

#[test]
fn a_value_predicate_top_k_keeping_ties_fails_the_support() {
    // Top-k as `logits >= k-th largest` (the engines' predicate): every tie with the k-th
    // survives, so top-k 1 on (0, 1, 1, -1) keeps tokens 1 and 2 (flashinfer-ai/flashinfer#3774).
    let mut t = Planted {
        inner: ReferenceTarget::new(),
        bug: |r, req| {
            let mut req = req.clone();
            if let Some(k) = req.top_k {
                let mut sorted = req.logits.clone();
                sorted.sort_by(|a, b| b.total_cmp(a));
                let kth = sorted[(k as usize).min(sorted.len()) - 1];
                for l in req.logits.iter_mut() {
                    if *l < kth {
                        *l = f64::NEG_INFINITY;
                    }
                }
                req.top_k = None;
            }
            r.token_sample(&req)
        },
    };
    let rep = run(&mut t, Level::Standard, 7);
    let c = rep.check("tokens.support").unwrap();
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.detail.contains("top-k 1, tie at the top"), "{}", c.detail);
}

#[test]
fn a_rejected_valid_request_fails() {
    let mut t = Planted {
        inner: ReferenceTarget::new(),
        bug: |_, _| Err(TargetError::Rejected("no min-p here".into())),
    };
    let rep = run(&mut t, Level::Quick, 1);
    for id in TOKEN_CHECKS {
        assert_eq!(verdict(&rep, id), Verdict::Fail, "{id}");
    }
}

/// `tokens.convention` names the convention each NumPy convention bug follows.
#[cfg_attr(
    not(gumbel_numpy),
    ignore = "needs numpy: run scripts/adapters/setup.sh"
)]
#[test]
fn numpy_convention_bugs_are_named() {
    let python = python_with_numpy();
    let script = repo().join("scripts/adapters/numpy_adapter.py");
    for bug in [
        "top_p_drop_crossing",
        "top_p_extra_at_equality",
        "top_k_after_top_p",
        "temperature_after_truncation",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_gumbel-audit"))
            .args([
                "audit",
                "--level",
                "standard",
                "--only",
                "tokens.convention",
                "--",
            ])
            .arg(&python)
            .arg(&script)
            .args(["--bug", bug])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{bug}:\n{text}");
        assert!(
            text.contains(&format!("follows the convention {bug} ")),
            "{bug}:\n{text}"
        );
    }
}
