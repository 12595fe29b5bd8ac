//! Seeds of the audit's requests: a pure function of (master seed, stream name, chunk index).
//!
//! # Formula
//! ```text
//! fnv1a64(s)   = FNV-1a over the UTF-8 bytes of s: h ← 0xcbf29ce484222325;
//!                for each byte b: h ← (h XOR b) · 0x100000001b3  (mod 2^64)
//! mix(x)       = splitmix64's output function of the state x + 0x9e3779b97f4a7c15:
//!                z ← x + 0x9e3779b97f4a7c15
//!                z ← (z XOR (z >> 30)) · 0xbf58476d1ce4e5b9
//!                z ← (z XOR (z >> 27)) · 0x94d049bb133111eb
//!                z XOR (z >> 31)                              (all mod 2^64)
//! seed(master, name, chunk) = mix( mix( mix(master) XOR fnv1a64(name) ) XOR chunk )
//! ```
//!
//! The stream `name` is a check's id for the requests only that check makes (chunk = the
//! check's request counter, 0, 1, 2, ... in the order the check makes them), or the stable
//! key of a request several checks share (`"relaxed [1.0, 0.0, -1.0] 0.5"`, chunk 0), so that
//! a shared sample has the same seed whichever check asks first. Consequences:
//! - skipping, adding or reordering checks moves no other check's seeds (a check run alone with
//!   `--only` gets the p-value it gets in the full battery);
//! - any chunk can be re-drawn alone from `(master, name, chunk)`, which is what sharding a run
//!   over several processes needs.
//!
//! FNV-1a and splitmix64 are fixed, public algorithms (no per-process keys, unlike std's
//! `DefaultHasher`), so the seeds are the same on every platform and Rust version.
//!
//! # References
//! - G. Fowler, L. C. Noll, K.-P. Vo, *FNV hash*, <http://www.isthe.com/chongo/tech/comp/fnv/>.
//! - G. L. Steele, D. Lea, C. H. Flood, *Fast splittable pseudorandom number generators*,
//!   OOPSLA 2014 (splitmix64's output function).

/// FNV-1a, 64 bits, over the bytes of `s`.
pub fn fnv1a64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// splitmix64's output for the state `x + 0x9e3779b97f4a7c15` (module doc).
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of chunk `chunk` of stream `name` under master seed `master` (module doc).
///
/// # Example
/// ```
/// use gumbel_audit::audit::seed::request_seed;
/// let a = request_seed(0, "noise.tail", 0);
/// assert_eq!(a, request_seed(0, "noise.tail", 0));
/// assert_ne!(a, request_seed(0, "noise.tail", 1));
/// assert_ne!(a, request_seed(1, "noise.tail", 0));
/// ```
pub fn request_seed(master: u64, name: &str, chunk: u64) -> u64 {
    mix(mix(mix(master) ^ fnv1a64(name)) ^ chunk)
}

/// One seed a check used: the stream, the chunk and the seed sent to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUse {
    /// The stream: a check id, or the key of a request shared by several checks.
    pub stream: String,
    /// The chunk index within the stream.
    pub chunk: u64,
    /// `request_seed(master, stream, chunk)`.
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        // The FNV reference test vectors for "" (the offset basis) and "a".
        assert_eq!(fnv1a64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn mix_is_splitmix64() {
        // The first output of splitmix64 started at state 0 (its published reference value).
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn seeds_differ_across_names_chunks_and_masters() {
        let mut seen = std::collections::HashSet::new();
        for master in 0..4u64 {
            for name in ["noise.cdf", "noise.tail", "relaxed [1.0] 0.5", "bad_input"] {
                for chunk in 0..16 {
                    assert!(seen.insert(request_seed(master, name, chunk)));
                }
            }
        }
    }
}
