//! Build script: finds out whether the numpy adapter tests can run, so that without numpy they
//! show as `ignored` in the test summary instead of passing without testing anything.
//!
//! Emits `cfg(gumbel_numpy)` when the python of `GUMBEL_AUDIT_PYTHON` (else
//! `.venv-adapters/bin/python`) imports numpy, and `cfg(gumbel_venv)` when
//! `.venv-adapters/bin/python` exists, and `cfg(gumbel_root)` when it runs as root (the
//! full-disk tests mount a tmpfs). Under `CI=true` all are emitted whatever the probe says: CI
//! must run those tests and fail loudly if numpy or root is missing, never ignore them.
//!
//! Cost: at most one `python -c "import numpy"`, and none when there is no python to ask. The
//! script reruns when `GUMBEL_AUDIT_PYTHON` or `CI` changes, or the venv's python changes; a
//! venv created after the last build is seen after `touch build.rs` (or with
//! `GUMBEL_AUDIT_PYTHON` set).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(gumbel_numpy)");
    println!("cargo::rustc-check-cfg=cfg(gumbel_venv)");
    println!("cargo::rustc-check-cfg=cfg(gumbel_root)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=GUMBEL_AUDIT_PYTHON");
    println!("cargo::rerun-if-env-changed=CI");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let venv = Path::new(".venv-adapters/bin/python");
    let venv_exists = venv.exists();
    if venv_exists {
        // Only an existing path: a missing one would make cargo rerun this script every build.
        println!("cargo::rerun-if-changed=.venv-adapters/bin/python");
    }
    let python = match std::env::var("GUMBEL_AUDIT_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if venv_exists => Some(venv.display().to_string()),
        _ => None,
    };
    let numpy = python.is_some_and(|p| {
        Command::new(p)
            .args(["-c", "import numpy"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if numpy || ci {
        println!("cargo::rustc-cfg=gumbel_numpy");
    }
    if venv_exists || ci {
        println!("cargo::rustc-cfg=gumbel_venv");
    }
    if is_root() || ci {
        println!("cargo::rustc-cfg=gumbel_root");
    }
}

/// Whether the build runs as root (effective uid 0 in `/proc/self/status`), so that tests which
/// mount a tmpfs can run. Not Linux, or unreadable: false.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            .is_some_and(|euid| euid == "0")
    })
}
