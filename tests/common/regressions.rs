//! The one place where proptest persists failing cases: `proptest-regressions/` at the package
//! root, one file per test module, `proptest-regressions/<layer>/<module>.txt` (committed).
//!
//! Proptest's default (`FileFailurePersistence::SourceParallel`) derives the file from the
//! source path, which for a module of a multi-file test binary lands in
//! `tests/proptest-regressions/`; the tests therefore name their file explicitly:
//! ```text
//! #![proptest_config(common::regressions::config(concat!(
//!     env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/grad/relaxed.txt")))]
//! ```
//! The absolute path (from `CARGO_MANIFEST_DIR`) makes the location independent of the working
//! directory the binary is started from. Each file holds the seeds of past failures; proptest
//! replays them before drawing new cases, so they must keep their contents.

use proptest::test_runner::{Config, FileFailurePersistence};

/// The default proptest configuration (256 cases unless `PROPTEST_CASES` says otherwise) with
/// failures persisted in `file`.
pub fn config(file: &'static str) -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}
