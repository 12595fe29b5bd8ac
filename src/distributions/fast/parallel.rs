//! The batch samplers on several threads, with output that does not depend on the number of
//! threads: the output is cut into fixed segments, and segment `s` is drawn from its own ChaCha
//! stream.
//!
//! # Formula
//! ```text
//! segment   S = max(1, ⌊SEGMENT_ENTRIES / k⌋) rows (k = 1 for noise): rows sS .. (s+1)S - 1
//! stream    segment s draws from ChaCha8Rng::seed_from_u64(seed) with set_stream(s)
//!           (the same key, an independent 2⁶⁴-block stream per segment)
//! threads   t threads take contiguous runs of whole segments; any t gives the same bytes
//! ```
//!
//! The segments depend only on `(seed, k, n)`, never on the thread count, and each segment is
//! the sequential batch sampler ([`gumbel_noise`], [`concrete_rows`]) run on its own stream, so
//! every segment has exactly the law of the sequential sampler; the streams are disjoint
//! (ChaCha's 64-bit stream id is part of its input block, so two streams never share a
//! keystream block). The output differs from one sequential call with `seeded(seed)`, which
//! reads stream 0 only: a parallel batch is value-stable in its own right (pinned in the tests).
//!
//! # References
//! - D. J. Bernstein, *ChaCha, a variant of Salsa20* (2008): the 64-bit nonce selects the
//!   stream.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{concrete_rows, gumbel_noise};

/// Entries per segment (rounded down to whole rows, at least one row): 2¹⁶ (512 KiB of f64),
/// large enough that a stream's set-up and a thread's hand-over cost nothing beside the draws.
pub const SEGMENT_ENTRIES: usize = 1 << 16;

/// The RNG of segment `s`: `ChaCha8Rng::seed_from_u64(seed)` on stream `s`.
fn segment_rng(seed: u64, s: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(s as u64);
    rng
}

/// Runs `fill(segment_index, segment)` over the segments of `out` (`seg` entries each, the last
/// possibly shorter) on `threads` threads (at least 1), each taking a contiguous run.
fn segments(
    out: &mut [f64],
    seg: usize,
    threads: usize,
    fill: &(dyn Fn(usize, &mut [f64]) + Sync),
) {
    let count = out.len().div_ceil(seg.max(1));
    let threads = threads.clamp(1, count.max(1));
    if threads == 1 {
        for (s, part) in out.chunks_mut(seg).enumerate() {
            fill(s, part);
        }
        return;
    }
    let per = count.div_ceil(threads);
    std::thread::scope(|scope| {
        for (t, run) in out.chunks_mut(per * seg).enumerate() {
            scope.spawn(move || {
                for (j, part) in run.chunks_mut(seg).enumerate() {
                    fill(t * per + j, part);
                }
            });
        }
    });
}

/// Fills `out` with standard Gumbel noise on `threads` threads (module doc): the same values for
/// every thread count.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::fast::gumbel_noise_par;
/// let (mut a, mut b) = (vec![0.0; 300_000], vec![0.0; 300_000]);
/// gumbel_noise_par(7, &mut a, 1);
/// gumbel_noise_par(7, &mut b, 3);
/// assert_eq!(a, b);
/// ```
pub fn gumbel_noise_par(seed: u64, out: &mut [f64], threads: usize) {
    segments(out, SEGMENT_ENTRIES, threads, &|s, part| {
        gumbel_noise(&mut segment_rng(seed, s), part);
    });
}

/// Batch Concrete rows of `k = centered.len()` entries on `threads` threads (module doc); `out`
/// holds whole rows (unchecked: the caller validates).
pub(crate) fn concrete_rows_par(
    seed: u64,
    centered: &[f64],
    inv_temperature: f64,
    out: &mut [f64],
    threads: usize,
) {
    let k = centered.len().max(1);
    let seg = (SEGMENT_ENTRIES / k).max(1) * k;
    segments(out, seg, threads, &|s, part| {
        concrete_rows(&mut segment_rng(seed, s), centered, inv_temperature, part);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_the_same_for_every_thread_count_and_segment_by_segment() {
        let n = 3 * SEGMENT_ENTRIES + 123;
        let mut one = vec![0.0; n];
        gumbel_noise_par(42, &mut one, 1);
        for t in [2, 3, 4, 8, 64] {
            let mut other = vec![0.0; n];
            gumbel_noise_par(42, &mut other, t);
            assert_eq!(one, other, "{t} threads");
        }
        // Segment 2 is the sequential sampler on stream 2.
        let mut seg = vec![0.0; SEGMENT_ENTRIES];
        gumbel_noise(&mut segment_rng(42, 2), &mut seg);
        assert_eq!(seg[..], one[2 * SEGMENT_ENTRIES..3 * SEGMENT_ENTRIES]);
        // Segments differ from each other (distinct streams).
        assert_ne!(one[..16], one[SEGMENT_ENTRIES..SEGMENT_ENTRIES + 16]);
    }

    #[test]
    fn rows_never_straddle_segments_and_match_for_every_thread_count() {
        let centered = [0.0, -1.0, -2.5];
        let rows = 2 * (SEGMENT_ENTRIES / 3) + 5;
        let mut one = vec![0.0; rows * 3];
        concrete_rows_par(9, &centered, 2.0, &mut one, 1);
        let mut two = vec![0.0; rows * 3];
        concrete_rows_par(9, &centered, 2.0, &mut two, 2);
        assert_eq!(one, two);
        for row in one.chunks(3) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        }
    }
}
