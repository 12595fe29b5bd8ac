//! Replays the committed inputs of the fuzz target `fixtures` (`fuzz/`, issue 16 "Fuzzing"):
//! every file of `fuzz/corpus-seeds/fixtures/` and `fuzz/regressions/fixtures/` goes through
//! `golden::check_text` as in the fuzz target (first byte: the family, `Family::ALL[b % 10]`;
//! the rest: the text).
//!
//! Kind: exact behavioural checks (no statistics). A panic fails the test.

use gumbel_audit::golden::{Family, check_text};

use crate::common::fuzz_inputs::inputs;

#[test]
fn fixtures_inputs_replay() {
    let inputs = inputs("fixtures");
    for (path, data) in &inputs.files {
        let (&first, rest) = data.split_first().expect("an input has a family byte");
        let family = Family::ALL[usize::from(first) % Family::ALL.len()];
        if let Ok(text) = std::str::from_utf8(rest) {
            let result = check_text(family, text);
            // A refusal names the family's file (or, for the statistics, the stats directory).
            if let Err(e) = result {
                assert!(
                    e.to_string().contains(&family.file_name()),
                    "{}: {e}",
                    path.display()
                );
            }
        }
    }
}
