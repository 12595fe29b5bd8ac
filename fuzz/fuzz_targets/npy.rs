//! `.npy` reader: `npy::from_bytes` on arbitrary bytes. Properties: no panic, no hang, and an
//! accepted array writes back to bytes that read back to the same bytes (round trip).
#![no_main]

use gumbel_audit::audit::npy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = npy::from_bytes(data) {
        let bytes = npy::to_bytes(&array);
        let again = npy::from_bytes(&bytes).expect("a written array reads back");
        assert_eq!(npy::to_bytes(&again), bytes, "round trip changed the array");
    }
});
