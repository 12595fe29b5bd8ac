//! Golden fixtures (test kind 7 of the crate's taxonomy): the reference against the committed
//! conformance vectors of `fixtures/`, the files against their schema, and the power of the
//! comparison.
//!
//! # What is checked
//! - Every family of `fixtures/` agrees with the reference within its documented tolerance
//!   (`gumbel_audit::golden::tolerance`); the oracle families come from mpmath at 50 digits
//!   (`scripts/fixtures-oracle/generate.py`), not from this code.
//! - Every file validates against its schema (`fixtures/README.md`), and each schema rule is
//!   enforced: a file that breaks it is reported as invalid, not as a mismatch.
//! - Power: perturbing the stored values by less than the reference's target accuracy would
//!   be invisible; perturbing them by 1e-12 relative (ten times the 1e-13 target) is caught
//!   in every family, as are a changed index, a one-ulp change of a seeded stream and
//!   a 1e-9·scale change of a quadrature value (ten times its 1e-10 tolerance).
//! - The `statistics` family (the scipy oracle files `fixtures/stats/*.json`, which carry no
//!   schema header) validates against its documented structure and passes with the tolerances
//!   of `tests/stats/oracle_*.rs`; a stored p-value moved by a relative 1e-9 fails it.
//! - `value_stability.json` is what `gumbel-audit fixtures regenerate` writes now (on the
//!   platform that wrote it), and the CLI's exit codes: 0 pass, 1 mismatch, 2 invalid file.
//!
//! No test here is statistical: every comparison is deterministic.

use std::path::{Path, PathBuf};
use std::process::Command;

use gumbel_audit::golden::{
    Family, FixtureError, check_dir, check_file, check_text, statistics_text, value_stability_text,
};
use serde_json::Value;

use crate::common::binary;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The file's text; for the statistics family the combined object of its four files.
fn text(family: Family) -> String {
    if family == Family::Statistics {
        return statistics_text(&dir()).unwrap();
    }
    std::fs::read_to_string(dir().join(family.file_name())).unwrap()
}

fn parsed(family: Family) -> Value {
    serde_json::from_str(&text(family)).unwrap()
}

/// Applies `f` to every case of `section`, re-serialises (serde_json writes the shortest
/// round-trip text, so untouched floats keep their exact values) and checks the result.
fn check_modified(
    family: Family,
    section: &str,
    f: impl Fn(&mut Value),
) -> gumbel_audit::golden::FamilyCheck {
    let mut v = parsed(family);
    for case in v[section].as_array_mut().unwrap() {
        f(case);
    }
    check_text(family, &serde_json::to_string(&v).unwrap()).unwrap()
}

fn scale_member(case: &mut Value, key: &str, factor: f64) {
    let x = case[key].as_f64().unwrap();
    case[key] = Value::from(x * factor);
}

#[test]
fn every_family_agrees_with_the_reference() {
    let results = check_dir(&dir());
    assert_eq!(results.len(), Family::ALL.len());
    for (family, result) in Family::ALL.iter().zip(results) {
        let c = result.unwrap_or_else(|e| panic!("{family}: {e}"));
        println!(
            "{family:<20} cases {:>4} values {:>5} max rel {:.2e} max abs {:.2e} err/tol {:.2e}",
            c.cases,
            c.values,
            c.max_relative_error,
            c.max_absolute_error,
            c.max_error_over_tolerance
        );
        assert!(
            c.passed,
            "{family}: {} values outside tolerance: {:#?}",
            c.failures, c.failure_examples
        );
        assert!(
            c.cases >= 10 && c.values >= c.cases,
            "{family}: too few cases"
        );
        assert!(c.max_error_over_tolerance <= 1.0);
    }
}

#[test]
fn every_file_validates_against_its_schema() {
    for family in Family::ALL {
        let v = parsed(family);
        if family == Family::Statistics {
            // No schema header: one member per file, each with the scipy provenance.
            for stem in family.sections() {
                let prov = &v[*stem]["provenance"];
                assert_eq!(
                    prov["generator"], "scripts/scipy-oracle/generate.py",
                    "{stem}"
                );
                assert!(prov["versions"]["scipy"].is_string(), "{stem}");
            }
            assert!(check_text(family, &text(family)).is_ok(), "{family}");
            continue;
        }
        assert_eq!(v["schema"], "gumbel-audit-fixtures/1", "{family}");
        assert_eq!(v["family"], family.name(), "{family}");
        let prov = &v["provenance"];
        for key in ["generator", "versions", "description", "parameters"] {
            assert!(!prov[key].is_null(), "{family}: provenance.{key}");
        }
        if !family.is_rust_generated() {
            assert!(prov["precision_digits"].as_u64().unwrap() >= 30, "{family}");
            assert_eq!(
                prov["generator"], "scripts/fixtures-oracle/generate.py",
                "{family}"
            );
        }
        for section in family.sections() {
            assert!(
                !v[*section].as_array().unwrap().is_empty(),
                "{family}.{section}"
            );
        }
        // check_text validates every member it reads; a valid file yields a result.
        assert!(check_text(family, &text(family)).is_ok(), "{family}");
    }
}

#[test]
fn schema_rules_are_enforced() {
    let invalid = |family: Family, v: &Value, what: &str| {
        let r = check_text(family, &serde_json::to_string(v).unwrap());
        assert!(
            matches!(r, Err(FixtureError::Invalid { .. })),
            "{family}, {what}: {r:?}"
        );
    };
    assert!(matches!(
        check_text(Family::Gumbel, "not json"),
        Err(FixtureError::Invalid { .. })
    ));
    let base = parsed(Family::Concrete);
    let mut v = base.clone();
    v["schema"] = Value::from("gumbel-audit-fixtures/2");
    invalid(Family::Concrete, &v, "schema version");
    let mut v = base.clone();
    v["family"] = Value::from("gumbel");
    invalid(Family::Concrete, &v, "family name");
    invalid(Family::Gumbel, &base, "another family's file");
    let mut v = base.clone();
    v["provenance"]["precision_digits"] = Value::from(16);
    invalid(Family::Concrete, &v, "oracle precision");
    let mut v = base.clone();
    v["provenance"].as_object_mut().unwrap().remove("generator");
    invalid(Family::Concrete, &v, "provenance.generator");
    let mut v = base.clone();
    v["extra"] = Value::from(1);
    invalid(Family::Concrete, &v, "unknown member");
    let mut v = base.clone();
    v["cases"][3].as_object_mut().unwrap().remove("tau");
    invalid(Family::Concrete, &v, "missing tau");
    let mut v = base.clone();
    v["cases"][0]["y"][0] = Value::from("0.5");
    invalid(Family::Concrete, &v, "a string for a float");
    let mut v = base.clone();
    v["cases"][0]["tau"] = Value::from("-inf");
    invalid(Family::Concrete, &v, "an infinite temperature");
    let mut v = base;
    v["cases"] = Value::Array(vec![]);
    invalid(Family::Concrete, &v, "empty section");
    let mut v = parsed(Family::SamplingMaps);
    v["top_k"][0]["m"] = Value::from(-1);
    invalid(Family::SamplingMaps, &v, "negative m");
    let mut v = parsed(Family::ValueStability);
    v["streams"][0]["sampler"] = Value::from("no_such_sampler");
    invalid(Family::ValueStability, &v, "unknown sampler");
    let missing = check_file(Path::new("/nonexistent-fixtures-dir"), Family::Gumbel);
    assert!(matches!(missing, Err(FixtureError::Unreadable { .. })));
    let stats = parsed(Family::Statistics);
    let mut v = stats.clone();
    v["ks_tests"]["extra"] = Value::from(1);
    invalid(Family::Statistics, &v, "unknown member of a stats file");
    let mut v = stats.clone();
    v["chi2"]["provenance"]["generator"] = Value::from("scripts/fixtures-oracle/generate.py");
    invalid(Family::Statistics, &v, "another generator");
    let mut v = stats.clone();
    v.as_object_mut().unwrap().remove("anderson_darling");
    invalid(Family::Statistics, &v, "a missing file");
    let mut v = stats.clone();
    v["ks_one_sample"]["two_sided"][4]
        .as_object_mut()
        .unwrap()
        .remove("cdf");
    invalid(Family::Statistics, &v, "missing cdf");
    let mut v = stats.clone();
    v["ks_tests"]["two_sample"][0]["exact"]["statistic_sign"] = Value::from(2);
    invalid(Family::Statistics, &v, "a sign of 2");
    let mut v = stats.clone();
    v["chi2"]["cases"][0]["observed"][0] = Value::from(-3);
    invalid(Family::Statistics, &v, "a negative count");
    let mut v = stats;
    v["anderson_darling"]["finite_n"] = Value::Array(vec![]);
    invalid(Family::Statistics, &v, "empty section");
    let no_stats = binary::temp_dir("nostats");
    assert!(matches!(
        check_file(&no_stats, Family::Statistics),
        Err(FixtureError::Unreadable { .. })
    ));
}

/// Applies `f` to the combined statistics object and checks the result.
fn check_statistics(f: impl Fn(&mut Value)) -> gumbel_audit::golden::FamilyCheck {
    let mut v = parsed(Family::Statistics);
    f(&mut v);
    check_text(Family::Statistics, &serde_json::to_string(&v).unwrap()).unwrap()
}

/// The scipy oracle files agree with `crate::stats` under the tolerances of
/// `tests/stats/oracle_*.rs` (shared through `golden::tolerance`), every section counted.
#[test]
fn statistics_family_passes() {
    let c = check_file(&dir(), Family::Statistics).unwrap();
    println!("{c:#?}");
    assert!(c.passed, "{:#?}", c.failure_examples);
    // 249 + 12 + 48 two-sided, limit, one-sided tails; 4 + 7 KS tests; 21 + 52 + 3 AD;
    // 8 + 42 chi-squared.
    assert_eq!(c.cases, 249 + 12 + 48 + 4 + 7 + 21 + 52 + 3 + 8 + 42);
    assert!(c.max_error_over_tolerance <= 1.0);
}

/// A stored p-value moved by a relative 1e-9 fails the family: the chi-squared p-values and
/// the exact two-sample KS p-value (tolerance 1e-10) in every case; the KS p-values held to
/// 1e-9 fail when moved by 1e-8.
#[test]
fn a_relative_perturbation_of_a_p_value_fails_the_statistics_family() {
    let c = check_statistics(|v| {
        for case in v["chi2"]["cases"].as_array_mut().unwrap() {
            scale_member(case, "pearson_p_value", 1.0 + 1e-9);
        }
    });
    assert!(!c.passed);
    assert_eq!(c.failures, 8, "{:#?}", c.failure_examples);
    let c = check_statistics(|v| {
        for case in v["ks_tests"]["two_sample"].as_array_mut().unwrap() {
            scale_member(&mut case["exact"], "p_value", 1.0 + 1e-9);
        }
    });
    assert!(!c.passed);
    assert_eq!(c.failures, 7, "{:#?}", c.failure_examples);
    let c = check_statistics(|v| {
        for case in v["chi2"]["sf"].as_array_mut().unwrap() {
            scale_member(case, "sf", 1.0 - 1e-9);
        }
    });
    // One stored tail is 0 (df 999, x 5035): scaling leaves it unchanged.
    assert_eq!(c.failures, 41, "{:#?}", c.failure_examples);
    for (file, section, key, cases) in [
        ("ks_one_sample", "two_sided", "sf", 249),
        ("ks_one_sample", "one_sided", "sf", 48),
        ("ks_tests", "one_sample", "p_value", 4),
    ] {
        let c = check_statistics(|v| {
            for case in v[file][section].as_array_mut().unwrap() {
                scale_member(case, key, 1.0 + 1e-8);
            }
        });
        assert_eq!(
            c.failures, cases,
            "{file}.{section}: {:#?}",
            c.failure_examples
        );
    }
}

/// The 1e-12 relative perturbation of the brief, applied to the stored value instead of the
/// reference (equivalent for the comparison, and permanent): each family must fail, and in
/// most of its cases, not only in a lucky one.
#[test]
fn a_relative_perturbation_of_1e_12_fails_every_density_family() {
    let p = 1.0 + 1e-12;
    for (family, section, key) in [
        (Family::Gumbel, "points", "ln_pdf"),
        (Family::Gumbel, "points", "cdf"),
        (Family::Gumbel, "quantiles", "quantile"),
        (Family::TruncatedGumbel, "points", "cdf"),
        (Family::Concrete, "cases", "ln_pdf"),
        (Family::ExpConcrete, "cases", "ln_pdf_exp"),
        (Family::BinaryConcrete, "points", "ln_pdf"),
        (Family::BinaryConcrete, "points", "cdf"),
    ] {
        let c = check_modified(family, section, |case| scale_member(case, key, p));
        assert!(
            !c.passed,
            "{family}.{section}.{key}: perturbation not caught"
        );
        println!(
            "{family}.{section}.{key} ×(1 + 1e-12): {} of {} cases fail",
            c.failures,
            parsed(family)[section].as_array().unwrap().len()
        );
        let n = parsed(family)[section].as_array().unwrap().len();
        assert!(
            c.failures * 2 > n,
            "{family}.{section}.{key}: only {} of {n} cases caught",
            c.failures
        );
    }
}

#[test]
fn perturbed_maps_gradients_and_quadrature_fail() {
    // ln y of every relaxed sample shifted by 1e-12 relative.
    let c = check_modified(Family::SamplingMaps, "relaxed", |case| {
        for v in case["ln_y"].as_array_mut().unwrap() {
            if let Some(x) = v.as_f64() {
                *v = Value::from(x * (1.0 + 1e-12));
            }
        }
    });
    assert!(!c.passed && c.failures > 100, "{c:?}");
    // One Gumbel-Max index and one top-k order changed.
    let mut v = parsed(Family::SamplingMaps);
    let k = v["gumbel_max"][0]["logits"].as_array().unwrap().len() as u64;
    let a = v["gumbel_max"][0]["argmax"].as_u64().unwrap();
    v["gumbel_max"][0]["argmax"] = Value::from((a + 1) % k);
    let idx = v["top_k"][1]["indices"].as_array_mut().unwrap();
    idx.swap(0, 1);
    let c = check_text(Family::SamplingMaps, &serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(c.failures, 2, "{:#?}", c.failure_examples);
    // Exact gradients ×(1 + 1e-12).
    let c = check_modified(Family::Gradients, "cases", |case| {
        for g in case["gradient"].as_array_mut().unwrap() {
            *g = Value::from(g.as_f64().unwrap() * (1.0 + 1e-12));
        }
    });
    assert!(!c.passed, "gradients: perturbation not caught");
    // Covariances ×(1 + 1e-12).
    let c = check_modified(Family::Gradients, "cases", |case| {
        for row in case["covariance"].as_array_mut().unwrap() {
            for x in row.as_array_mut().unwrap() {
                *x = Value::from(x.as_f64().unwrap() * (1.0 + 1e-12));
            }
        }
    });
    assert!(!c.passed, "covariances: perturbation not caught");
    // Quadrature values shifted by 1e-9 (ten times the 1e-10·scale tolerance, scale ≤ 6 here).
    let c = check_modified(Family::RelaxedQuadrature, "cases", |case| {
        let m = case["gumbel_softmax"]["mean"].as_f64().unwrap();
        case["gumbel_softmax"]["mean"] = Value::from(m + 6e-9);
    });
    assert_eq!(c.failures, c.cases, "quadrature: {:#?}", c.failure_examples);
}

#[test]
fn a_one_ulp_change_of_a_seeded_stream_fails() {
    let mut v = parsed(Family::ValueStability);
    let streams = v["streams"].as_array_mut().unwrap();
    let gumbel = streams
        .iter_mut()
        .find(|s| s["sampler"] == "gumbel")
        .unwrap();
    let x = gumbel["values"][0].as_f64().unwrap();
    gumbel["values"][0] = Value::from(f64::from_bits(x.to_bits() + 1));
    let c = check_text(Family::ValueStability, &serde_json::to_string(&v).unwrap()).unwrap();
    #[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
    assert_eq!(c.failures, 1, "{:#?}", c.failure_examples);
    // Elsewhere one ulp is inside the libm allowance; 1e-9 relative is not.
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")))]
    let _ = c;
    let mut v = parsed(Family::ValueStability);
    let streams = v["streams"].as_array_mut().unwrap();
    let cat = streams
        .iter_mut()
        .find(|s| s["sampler"] == "categorical")
        .unwrap();
    cat["values"][0] = Value::from(cat["values"][0].as_u64().unwrap() ^ 1);
    let c = check_text(Family::ValueStability, &serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(c.failures, 1, "{:#?}", c.failure_examples);
}

/// The committed file is what the reference writes now (bit-exact only on the platform that
/// wrote it: elsewhere libm may differ in the last bit, which the check tolerates).
#[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
#[test]
fn value_stability_file_is_what_regenerate_writes() {
    assert_eq!(
        text(Family::ValueStability),
        value_stability_text(),
        "run `gumbel-audit fixtures regenerate` and record the value-stability break in CHANGELOG.md"
    );
}

#[test]
fn cli_exit_codes() {
    let bin = binary::BIN;
    let out = Command::new(bin)
        .args(["fixtures", "check", "--dir"])
        .arg(dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    for family in Family::ALL {
        assert!(stdout.contains(family.name()), "{stdout}");
    }
    // A copy with one perturbed value: exit 1; with one broken file: exit 2.
    let tmp = binary::temp_dir("fixtures");
    std::fs::create_dir_all(&tmp).unwrap();
    for family in Family::ALL {
        if family == Family::Statistics {
            std::fs::create_dir_all(tmp.join("stats")).unwrap();
            for stem in family.sections() {
                let name = format!("stats/{stem}.json");
                std::fs::copy(dir().join(&name), tmp.join(&name)).unwrap();
            }
            continue;
        }
        std::fs::write(tmp.join(family.file_name()), text(family)).unwrap();
    }
    let mut v = parsed(Family::Concrete);
    scale_member(&mut v["cases"][0], "ln_pdf", 1.0 + 1e-9);
    std::fs::write(
        tmp.join("concrete.json"),
        serde_json::to_string(&v).unwrap(),
    )
    .unwrap();
    let code = |d: &Path| {
        Command::new(bin)
            .args(["fixtures", "check", "--dir"])
            .arg(d)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&tmp), Some(1));
    std::fs::write(tmp.join("gumbel.json"), "{").unwrap();
    assert_eq!(code(&tmp), Some(2));
    // regenerate writes value_stability.json into a fresh directory.
    let fresh = tmp.join("fresh");
    let out = Command::new(bin)
        .args(["fixtures", "regenerate", "--dir"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(out.status.success());
    let written = std::fs::read_to_string(fresh.join("value_stability.json")).unwrap();
    assert_eq!(written, value_stability_text());
    std::fs::remove_dir_all(&tmp).unwrap();
}
