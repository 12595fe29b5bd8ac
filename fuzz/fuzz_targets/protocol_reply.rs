//! Adapter protocol v1 response lines: the same bytes as the answer to `hello` (request 0,
//! then the capabilities are validated) and to a `gumbel` request (request 0). Properties: no
//! panic, no hang; an accepted adapter name is safe to print (no control or bidirectional
//! characters, at most 200 characters plus an ellipsis).
#![no_main]

use gumbel_audit::audit::adapter::parse_reply_for_fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(caps)) = parse_reply_for_fuzzing(data, 0, "hello") {
        assert!(caps.name.chars().count() <= 203, "name not shortened");
        assert!(
            !caps
                .name
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')),
            "name {:?} not sanitized",
            caps.name
        );
    }
    let _ = parse_reply_for_fuzzing(data, 0, "gumbel");
});
