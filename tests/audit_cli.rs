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
