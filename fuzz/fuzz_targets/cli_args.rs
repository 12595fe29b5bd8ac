//! The `log-prob` arguments: `--logits`, `--tau`, `--y`, parsed as the command line parses them
//! (the CLI's own `src/cli/input.rs`, included by path) and handed to `Logits::new`,
//! `Concrete::new` and `Concrete::ln_pdf`. The input is split into the three arguments by a
//! length prefix: bytes 0-1 the length of `--logits` (u16, little-endian), byte 2 the length of
//! `--tau`, then the two arguments, and the rest is `--y` (lengths beyond the end are clipped,
//! so every input splits). A list argument starting with `@` is parsed as the content of an `@path` file
//! (text or `.npy`) without touching the file system. Properties: no panic, no hang, and an
//! accepted (logits, τ, y) never gives a NaN log-density.
#![no_main]

use gumbel_audit::distributions::{Concrete, Logits};
use libfuzzer_sys::fuzz_target;

#[path = "../../src/cli/input.rs"]
#[allow(dead_code)]
mod input;

fn list(flag: &str, arg: &[u8]) -> Option<Vec<f64>> {
    match arg.strip_prefix(b"@") {
        Some(content) => input::parse_file(flag, "fuzz", content).ok(),
        None => input::read_list(flag, std::str::from_utf8(arg).ok()?).ok(),
    }
}

/// `(logits, tau, y)` by the length prefix of the module doc.
fn split(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let n = |i: usize| data.get(i).copied().map_or(0, usize::from);
    let rest = data.get(3..).unwrap_or_default();
    let (logits, rest) = rest.split_at((n(0) | (n(1) << 8)).min(rest.len()));
    let (tau, y) = rest.split_at(n(2).min(rest.len()));
    (logits, tau, y)
}

fuzz_target!(|data: &[u8]| {
    let (logits, tau, y) = split(data);
    let Some(logits) = list("--logits", logits) else {
        return;
    };
    let y = list("--y", y);
    let Ok(logits) = Logits::new(logits) else {
        return;
    };
    let Some(tau) = std::str::from_utf8(tau)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
    else {
        return;
    };
    let Ok(dist) = Concrete::new(logits, tau) else {
        return;
    };
    if let Some(y) = y
        && let Ok(lp) = dist.ln_pdf(&y)
    {
        assert!(!lp.is_nan(), "ln p(y) is NaN for tau {tau}, y {y:?}");
    }
});
