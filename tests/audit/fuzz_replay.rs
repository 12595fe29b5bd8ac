//! Replays the committed inputs of the fuzz targets `npy` and `protocol_reply` (`fuzz/`, issue
//! 16 "Fuzzing"): every file of `fuzz/corpus-seeds/<target>/` and `fuzz/regressions/<target>/`
//! goes through the same function, with the same properties, as in the fuzz target. The long
//! coverage-guided runs are not repeated here (fuzz/README.md says how to run them).
//!
//! Kind: exact behavioural checks (no statistics). A panic fails the test.

use gumbel_audit::audit::adapter::parse_reply_for_fuzzing;
use gumbel_audit::audit::npy;

#[path = "../common/fuzz_inputs.rs"]
#[allow(dead_code)]
mod fuzz_inputs;
use fuzz_inputs::inputs;

/// The body of fuzz/fuzz_targets/npy.rs.
fn npy_property(data: &[u8]) -> bool {
    match npy::from_bytes(data) {
        Ok(array) => {
            let bytes = npy::to_bytes(&array);
            let again = npy::from_bytes(&bytes).expect("a written array reads back");
            assert_eq!(npy::to_bytes(&again), bytes, "round trip changed the array");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn npy_inputs_replay() {
    let inputs = inputs("npy");
    for (i, (path, data)) in inputs.files.iter().enumerate() {
        let accepted = npy_property(data);
        // Seeds named refused_* are hostile files that must be refused (a shape of 2^40 values
        // on a 8-byte data section; a 1 MiB header claimed by a 20-byte file); the others are
        // valid files written by NumPy that must be read.
        if i < inputs.seeds {
            let name = path.file_name().unwrap().to_string_lossy();
            assert_eq!(accepted, !name.starts_with("refused_"), "seed {name}");
        }
    }
}

/// The body of fuzz/fuzz_targets/protocol_reply.rs; whether the line was a valid `hello`.
fn protocol_reply_property(data: &[u8]) -> bool {
    let hello = parse_reply_for_fuzzing(data, 0, "hello");
    if let Ok(Some(caps)) = &hello {
        assert!(caps.name.chars().count() <= 203, "name not shortened");
        assert!(
            !caps.name.chars().any(|c| c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')),
            "name {:?} not sanitized",
            caps.name
        );
    }
    let _ = parse_reply_for_fuzzing(data, 0, "gumbel");
    matches!(hello, Ok(Some(_)))
}

#[test]
fn protocol_reply_inputs_replay() {
    let inputs = inputs("protocol_reply");
    for (i, (path, data)) in inputs.files.iter().enumerate() {
        let hello = protocol_reply_property(data);
        let name = path.file_name().unwrap().to_string_lossy();
        // Seeds named hello_* are valid hello answers; the others are not hello answers.
        if i < inputs.seeds {
            assert_eq!(hello, name.starts_with("hello_"), "seed {name}");
        }
    }
}
