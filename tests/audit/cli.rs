//! `gumbel-audit audit`: exit codes, table, `--json` and `--report` files.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gumbel-audit"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn reference_quick_passes_and_writes_json_and_report() {
    let dir = std::env::temp_dir().join(format!("gumbel-audit-cli-{}", std::process::id()));
    let json = dir.join("audit.json");
    let report = dir.join("report");
    std::fs::create_dir_all(&dir).unwrap();
    let out = run(&[
        "audit",
        "--reference",
        "--level",
        "quick",
        "--seed",
        "5",
        "--json",
        json.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("noise.cdf") && stdout.contains("verdict: PASS"),
        "{stdout}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["level"], "quick");
    assert_eq!(v["seed"], 5);
    assert_eq!(v["fwer"], 1e-3);
    assert!(v["implementation"].as_str().unwrap().contains("reference"));
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("| noise.cdf | pass |"), "{md}");
    assert!(report.join("categorical_chi2.svg").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    // Nothing to audit.
    let out = run(&["audit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("--reference")
    );
    // Both a reference and a command.
    assert_eq!(
        run(&["audit", "--reference", "--", "python3", "x.py"])
            .status
            .code(),
        Some(2)
    );
    // A bad level or rate.
    assert_eq!(
        run(&["audit", "--reference", "--level", "fast"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["audit", "--reference", "--fwer", "1.5"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn an_adapter_that_cannot_be_run_exits_2() {
    let out = run(&["audit", "--level", "quick", "--", "/nonexistent/adapter"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8(out.stderr).unwrap().is_empty());
}

#[test]
fn only_and_skip_run_a_subset_and_unknown_ids_exit_2() {
    let dir = std::env::temp_dir().join(format!("gumbel-audit-cli-only-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("only.json");
    let out = run(&[
        "audit",
        "--reference",
        "--level",
        "quick",
        "--only",
        "noise.cdf,bad_input",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["noise.cdf", "bad_input"]);
    let seeds = v["checks"][0]["seeds"].as_array().unwrap();
    assert_eq!(seeds[0]["stream"], "noise");
    assert!(seeds[0]["seed"].is_u64());
    std::fs::remove_dir_all(&dir).unwrap();

    for flag in ["--only", "--skip"] {
        let out = run(&[
            "audit",
            "--reference",
            "--level",
            "quick",
            flag,
            "noise.cdf,nois.tail",
        ]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(flag)
                && err.contains("'nois.tail'")
                && err.contains("noise.tail")
                && err.contains("reproducibility"),
            "{flag}: {err}"
        );
    }
}

/// An adapter whose hello offers nothing the battery can test: exit 2 with "nothing was
/// tested", never a pass; misspelled op names are named.
#[test]
fn an_audit_that_tests_nothing_exits_2() {
    let fake = crate::common::repo().join("tests/adapters/fake_adapter.py");
    for (mode, named) in [
        ("no_ops", None),
        ("misspelled_ops", Some("gumbel_noise, categorial")),
    ] {
        let dir =
            std::env::temp_dir().join(format!("gumbel-audit-cli-{mode}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("r.json");
        let out = run(&[
            "audit",
            "--level",
            "quick",
            "--quiet",
            "--json",
            json.to_str().unwrap(),
            "--",
            "python3",
            fake.to_str().unwrap(),
            mode,
        ]);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{mode}: {stdout}{stderr}");
        assert!(stderr.contains("nothing was tested"), "{mode}: {stderr}");
        assert!(stdout.contains("verdict: ERROR"), "{mode}: {stdout}");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(v["verdict"], "error");
        assert_eq!(v["exit_code"], 2);
        assert!(
            v["problem"]
                .as_str()
                .unwrap()
                .contains("nothing was tested")
        );
        if let Some(names) = named {
            assert!(stderr.contains(names), "{mode}: {stderr}");
            assert_eq!(
                v["unknown_ops"],
                serde_json::json!(["gumbel_noise", "categorial"])
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
