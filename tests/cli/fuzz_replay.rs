//! Replays the committed inputs of the fuzz target `cli_args` (`fuzz/`, issue 16 "Fuzzing")
//! through the binary: `gumbel-audit log-prob --logits L --tau T --y Y`, with the input split
//! into L, T, Y by the fuzz target's length prefix, and a list starting with `@` written to a
//! file and given as `@path`. An argument with a NUL byte cannot be passed on a command line
//! (the parsers refuse it: a NUL is neither a number nor a separator); such inputs are skipped. The fuzz target calls the same
//! parsers (`src/cli/input.rs`) in process.
//!
//! Kind: exact behavioural checks (no statistics): exit 0 with a number that is not NaN, or
//! exit 2 with a message; never a panic (101) or an abort.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::common::binary::{command, temp_dir};
use crate::common::fuzz_inputs::inputs;

/// `(logits, tau, y)` as fuzz/fuzz_targets/cli_args.rs splits its input: bytes 0-1 the length
/// of the logits (u16, little-endian), byte 2 the length of τ, clipped to the input.
fn split(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let n = |i: usize| data.get(i).copied().map_or(0, usize::from);
    let rest = data.get(3..).unwrap_or_default();
    let (logits, rest) = rest.split_at((n(0) | (n(1) << 8)).min(rest.len()));
    let (tau, y) = rest.split_at(n(2).min(rest.len()));
    (logits, tau, y)
}

#[test]
fn cli_args_inputs_replay() {
    let dir = temp_dir("fuzz-replay-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let inputs = inputs("cli_args");
    for (n, (path, data)) in inputs.files.iter().enumerate() {
        let (logits, tau, y) = split(data);
        let mut args: Vec<Vec<u8>> = Vec::new();
        for (i, (flag, part)) in [("--logits", logits), ("--tau", tau), ("--y", y)]
            .into_iter()
            .enumerate()
        {
            let value = match part.strip_prefix(b"@") {
                Some(content) if i != 1 => {
                    let file = dir.join(format!("{n}-{i}.txt"));
                    std::fs::write(&file, content).unwrap();
                    let mut v = b"@".to_vec();
                    v.extend_from_slice(file.as_os_str().as_bytes());
                    v
                }
                _ => part.to_vec(),
            };
            args.push(flag.as_bytes().to_vec());
            args.push(value);
        }
        if args.iter().any(|a| a.contains(&0)) {
            continue;
        }
        let out = command()
            .arg("log-prob")
            .args(args.iter().map(|a| OsStr::from_bytes(a)))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => assert!(
                stdout.trim().parse::<f64>().is_ok_and(|v| !v.is_nan()),
                "{}: printed {stdout:?}",
                path.display()
            ),
            Some(2) => assert!(
                !stderr.trim().is_empty() && !stderr.contains("panicked"),
                "{}: {stderr}",
                path.display()
            ),
            other => panic!("{}: exit {other:?}, stderr {stderr}", path.display()),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
