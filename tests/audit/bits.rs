//! The CI test of the tail checks: through the CLI and adapter protocol v1, a sampler whose
//! uniforms have 23 random bits fails `noise.extremes` and the same sampler with 53 bits passes
//! it (`scripts/adapters/bits_adapter.py --bits B`), in a few seconds with `--jobs 2`.
//!
//! # Why both hold at the stated α
//! `--only noise.extremes` makes it the only statistical check (m = 1, α_i = α = 1e-3); its four
//! parts (above the 1 - 1e-7 and 1 - 1e-8 Gumbel quantiles 16.118 and 18.421, below the 1e-7
//! and 1e-8 quantiles -2.780 and -2.913) are exact two-sided binomial tests, Bonferroni over 4.
//! With n = 1.5·10⁸ draws:
//! - 23 bits: the largest noise is -ln(-ln(1 - 2^-23)) = 15.942385 < 16.118, so the count above
//!   16.118 is 0 with certainty, where 15 are expected: its two-sided p is about
//!   P(X = 0) = e^-15 = 3.1e-7 (7.7e-7 as computed), 4 p < 1e-3 for every seed. (Also the
//!   uniform 0, replaced by 2^-126, puts mass 2^-23 at -4.4697: about 18 draws below -2.913
//!   where 1.5 are expected.) The fail is certain, not merely likely.
//! - 53 bits: the law departs from the exact one by less than 2^-53 per draw, so a fail has
//!   probability at most α = 1e-3 (the battery's false-alarm rate) for a fresh seed; the seed is
//!   fixed here, so the result is reproducible.
//!
//! The smallest discrepancy the check detects at this n is printed in the report ("a count of 0
//! (P = e^-15) or ≥ … × expected" at the 1e-7 parts). The deep level's n (5·10⁸) is in
//! docs/audit.md.
//!
//! Needs numpy (see `numpy`): `ignored` without it.

use std::process::Command;

use serde_json::Value;

use crate::common::{python_with_numpy, repo};

/// `(exit code, noise.extremes verdict, its detail)` of the audit of the sampler with `bits`.
fn extremes(bits: u32) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("gumbel-audit-bits-{}-{bits}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let json = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_gumbel-audit"))
        .args([
            "audit",
            "--quiet",
            "--only",
            "noise.extremes",
            "--samples",
            "1.5e8",
            "--jobs",
            "2",
            "--seed",
            "14",
            "--json",
        ])
        .arg(&json)
        .arg("--")
        .arg(python_with_numpy())
        .arg(repo().join("scripts/adapters/bits_adapter.py"))
        .args(["--bits", &bits.to_string()])
        .output()
        .expect("gumbel-audit runs");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or(Value::Null);
    let _ = std::fs::remove_dir_all(&dir);
    let check = &report["checks"][0];
    assert_eq!(
        check["id"],
        "noise.extremes",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        check["verdict"].as_str().unwrap_or("?").to_string(),
        check["detail"].as_str().unwrap_or("").to_string(),
    )
}

#[cfg_attr(
    not(gumbel_numpy),
    ignore = "needs numpy: run scripts/adapters/setup.sh"
)]
#[test]
fn a_23_bit_sampler_fails_noise_extremes_and_a_53_bit_one_passes() {
    let (code, verdict, detail) = extremes(23);
    assert_eq!((code, verdict.as_str()), (1, "fail"), "{detail}");
    assert!(
        detail.contains("0 above 16.1181 (expected 15.0"),
        "{detail}"
    );
    assert!(
        detail.contains("no noise above 15.9424: float32 uniform with 23 bits"),
        "{detail}"
    );
    let (code, verdict, detail) = extremes(53);
    assert_eq!((code, verdict.as_str()), (0, "pass"), "{detail}");
    assert!(!detail.contains("uniform with"), "{detail}");
}
