//! The word stream of the batch sampler: how RNG bytes become the 64-bit words that the
//! ziggurat consumes. Each word is read little endian from `fill_bytes` output, so the words
//! (and every seeded result built on them) are the same on every platform.
//!
//! ```text
//! fast path   one word per element: fill_bytes over a block, word i = bytes[8i .. 8i + 8]
//! slow path   a separate buffer of WORD_BLOCK words, refilled by fill_bytes when used up
//! ```

use rand::Rng;

/// Words per refill of the slow path's word buffer (the fast path draws one word per element,
/// a block at a time).
pub const WORD_BLOCK: usize = 512;

/// A buffered source of 64-bit words for the rare slow path: `fill_bytes` in blocks of
/// [`WORD_BLOCK`], little endian, so the words are the same on every platform.
pub(super) struct Words {
    words: [u64; WORD_BLOCK],
    pos: usize,
}

impl Words {
    /// An empty buffer: nothing is drawn until the first word is asked for.
    pub(super) fn new_empty() -> Self {
        Words {
            words: [0; WORD_BLOCK],
            pos: WORD_BLOCK,
        }
    }

    /// The next word, refilling from `rng` when the buffer is used up.
    pub(super) fn next_word<R: Rng + ?Sized>(&mut self, rng: &mut R) -> u64 {
        if self.pos == WORD_BLOCK {
            let mut bytes = [0u8; 8 * WORD_BLOCK];
            rng.fill_bytes(&mut bytes);
            for (w, b) in self.words.iter_mut().zip(bytes.chunks_exact(8)) {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                *w = u64::from_le_bytes(a);
            }
            self.pos = 0;
        }
        let w = self.words[self.pos];
        self.pos += 1;
        w
    }
}

/// The `i`-th little-endian word of `bytes`.
#[inline(always)]
pub(super) fn word_at(bytes: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&bytes[8 * i..8 * i + 8]);
    u64::from_le_bytes(a)
}
