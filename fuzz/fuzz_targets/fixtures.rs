//! The fixtures JSON reader: `golden::check_text` on arbitrary text, the first byte choosing
//! the family. Properties: no panic, no hang.
#![no_main]

use gumbel_audit::golden::{Family, check_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let family = Family::ALL[usize::from(first) % Family::ALL.len()];
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = check_text(family, text);
    }
});
