//! Helpers shared by the audit test modules: the repository root and the python with numpy.

use std::path::PathBuf;
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The python with numpy (`GUMBEL_AUDIT_PYTHON`, else `.venv-adapters/bin/python`), or why
/// there is none.
pub fn numpy_python() -> Result<String, String> {
    let candidate = match std::env::var("GUMBEL_AUDIT_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let venv = repo().join(".venv-adapters/bin/python");
            if !venv.exists() {
                return Err(format!(
                    "GUMBEL_AUDIT_PYTHON is not set and {} does not exist (run scripts/adapters/setup.sh)",
                    venv.display()
                ));
            }
            venv.display().to_string()
        }
    };
    match Command::new(&candidate)
        .args(["-c", "import numpy"])
        .output()
    {
        Ok(o) if o.status.success() => Ok(candidate),
        Ok(o) => Err(format!(
            "{candidate} cannot import numpy: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("{candidate} does not run: {e}")),
    }
}

/// The python with numpy. Tests calling this are `ignored` when the build script found no
/// numpy (`cfg(gumbel_numpy)` unset); when they run without it (e.g. under `CI=true`), they
/// fail here with the reason.
pub fn python_with_numpy() -> String {
    numpy_python().unwrap_or_else(|why| panic!("this test needs numpy: {why}"))
}
