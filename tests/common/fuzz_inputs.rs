//! The committed inputs of a fuzz target (`fuzz/`, issue 16 "Fuzzing"), for the replay tests:
//! the files of `fuzz/corpus-seeds/<target>/` (valid inputs, plus any that found something)
//! then those of `fuzz/regressions/<target>/` (minimized inputs of findings), each sorted.

use std::path::{Path, PathBuf};

/// Every committed input of `target`: (path, bytes), seeds first; `seeds` counts the seeds.
pub struct Inputs {
    /// How many of `files` are seeds (they come first).
    pub seeds: usize,
    /// Path and content of every input.
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

/// The inputs of `target`; panics if it has no seeds (a replay of nothing tests nothing).
pub fn inputs(target: &str) -> Inputs {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let read_dir = |dir: PathBuf| -> Vec<(PathBuf, Vec<u8>)> {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<(PathBuf, Vec<u8>)> = entries
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .map(|p| {
                let bytes = std::fs::read(&p).expect("a committed fuzz input is readable");
                (p, bytes)
            })
            .collect();
        files.sort();
        files
    };
    let mut files = read_dir(root.join("corpus-seeds").join(target));
    let seeds = files.len();
    assert!(seeds > 0, "no seeds for the fuzz target {target}");
    files.extend(read_dir(root.join("regressions").join(target)));
    Inputs { seeds, files }
}
