//! Fast batch sampling: a ziggurat for Gumbel noise, a branch-free table `exp`, and the batch
//! Concrete sampler built on them ([`crate::distributions::Concrete::sample_batch_into`]).
//!
//! # Design
//! A Concrete row is `y = softmax((c + g)/τ)` with centred logits `c` (`max c = 0`) and
//! standard Gumbel noise `g`. The sequential sampler ([`crate::distributions::Concrete::sample`]) pays,
//! per element, three opaque `std` calls (`ln`, `ln` for the inverse-CDF noise `-ln(-ln u)`,
//! `exp` for the softmax) plus a compensated log-sum-exp, one element at a time. The batch
//! sampler ([`crate::distributions::Concrete::sample_batch_into`]) removes both logarithms, needs no
//! row maximum, and does the noise and the `exp` in vectorised passes over blocks:
//!
//! ```text
//! words    one 64-bit word per element, fill_bytes over a block (little endian)
//! noise    g ~ Gumbel(0, 1) exactly, by a 256-layer ziggurat over the whole real line
//!          fast path (98.4 % of draws): one multiply-add and two compares, no ln
//! shift    σ = -NOISE_RANGE.0 = 3.8511: the row's largest logit has c + σ + g ≥ 0
//! exp      e_i = exp_kernel((c_i + σ + g_i)/τ)        (flat passes over an L1 block)
//! row      y_i = e_i / Σ_row e          (softmax is shift invariant: the same law)
//! ```
//!
//! **Shifted path** (`(σ + 44.7082)/τ + ln k ≤ 708`, i.e. `τ ≥ 0.0686` at `k = 10`, see
//! [`uses_shifted_path`]): every score lies below `708 - ln k`, so no `e_i` and no row sum can
//! overflow, and the largest-logit entry has `e ≥ 1`, so the sum is `≥ 1` and no entry that
//! matters underflows. The row maximum pass of the usual softmax disappears.
//! - **Grouped layout** (`k ≤` [`GROUPED_MAX_K`] `= 256`): rows are drawn four at a time,
//!   word `4i + l` of a group of `4k` words feeding category `i` of the group's row `l`, so
//!   that one 4-lane vector holds one category of four rows. Per block of whole groups (at
//!   most [`BLOCK_ELEMENTS`] words: words, values and tiled logits 8 KiB each, L1-resident):
//!   one `fill_bytes`; the fast pass (the ziggurat point, its fast-accept test, the score and
//!   its `exp`); the rejected draws finished together (`rejects.rs`); the row sums lane by lane
//!   (vector adds, category by category: no horizontal sum); one division per row; and the
//!   scaled rows written in row-major order through 4 × 4 transposes. A last, partial group
//!   draws a whole group's words and writes only its rows.
//! - Longer rows go row by row (whole rows per block), or for `k > BLOCK_ELEMENTS` in pieces
//!   of a block whose sums are added; the same fast pass and fix-up.
//! - **Fast pass.** Portable form (`shifted.rs`): two flat, branch-free loops (scores
//!   with NaN for a rejected draw, then `exp` in place), which LLVM vectorises; the NaNs are
//!   then found sixteen entries at a time. AVX2 form (`simd.rs`, chosen at run time): the same
//!   IEEE operations in the same order written with intrinsics, with each layer's four table
//!   values loaded as one 32-byte row per lane and transposed in registers (LLVM emulates
//!   the sixteen lookups element by element), and the rejected draws reported as bit masks
//!   (`movmsk`). Both forms are also compiled into the rest of the path with and without
//!   AVX2 (`simd.rs`). Without FMA every build executes the same IEEE operations, so the
//!   outputs are bit for bit equal (tested): seeded results do not depend on the CPU.
//! - **Rejected draws** (1.6 %): collected per block in word order and finished in rounds
//!   (tails and wedge heights, one flat loop for the wedge densities, redraws), with words
//!   from a separate buffer of [`WORD_BLOCK`] words (`rejects.rs`, `words.rs`).
//! - Outputs of at least [`STREAM_MIN_ENTRIES`] entries are written with streaming stores on
//!   the AVX2 path (staged per block, one `sfence` at the end).
//!
//! **Max-subtracted path** (smaller τ, or if the ziggurat tables failed to build): noise and
//! scores per block, the row maxima, one flat [`exp_nonpos`] pass of `s - max s`, the row
//! normalisation; not dispatched.
//!
//! Measured speed, the breakdown, what was tried and the command that reproduces it:
//! `docs/performance.md`.
//!
//! The Gumbel ziggurat (construction, exactness, range) and the `exp` kernel (formula, error)
//! are described in `ziggurat.rs` and `exp.rs`.
//!
//! # Files
//! | file | concept |
//! |---|---|
//! | `mod.rs` | the entry points (`concrete_rows` chooses the path, [`uses_shifted_path`]) and the block size |
//! | `exp.rs` | the branch-free table `exp` ([`exp_kernel`], [`exp_nonpos`]) |
//! | `words.rs` | RNG bytes to little-endian words, the slow path's word buffer |
//! | `ziggurat.rs` | the ziggurat's tables ([`GumbelZiggurat`]) and the point of a word |
//! | `rejects.rs` | the rejected draws, finished together in rounds |
//! | `noise.rs` | blocks of Gumbel noise ([`gumbel_noise`]) |
//! | `shifted.rs` | the shifted path: grouped layout, whole rows, long rows; the portable fast pass |
//! | `max_subtracted.rs` | the max-subtracted path |
//! | `parallel.rs` | both samplers on several threads, the same output for any thread count ([`gumbel_noise_par`]) |
//! | `simd.rs` | the runtime AVX2 dispatch and the AVX2 kernels: the crate's only `unsafe` code |

use rand::Rng;

mod exp;
mod max_subtracted;
mod noise;
mod parallel;
mod rejects;
mod shifted;
// The one exception to the crate's `#![deny(unsafe_code)]` (crate doc): runtime CPU detection
// and the AVX2 intrinsics, each `unsafe` block with its SAFETY comment.
#[allow(unsafe_code)]
mod simd;
mod words;
mod ziggurat;

pub use exp::{EXP_KERNEL_MAX, EXP_MAX_ULPS, exp_kernel, exp_nonpos};
pub use noise::gumbel_noise;
pub(crate) use parallel::concrete_rows_par;
pub use parallel::{SEGMENT_ENTRIES, gumbel_noise_par};
pub use shifted::{GROUPED_MAX_K, STREAM_MIN_ENTRIES};
pub use words::WORD_BLOCK;
pub use ziggurat::{GumbelZiggurat, NOISE_RANGE};

use max_subtracted::max_subtracted_rows;
use shifted::{SHIFT, SHIFTED_MAX_EXPONENT, ShiftedJob};
#[cfg(test)]
use {
    max_subtracted::softmax_rows,
    shifted::{LANES, row_total},
};

/// Elements per block of the batch sampler (rounded to whole rows): 8 KiB of words, 8 KiB of
/// output and 8 KiB of tiled logits, which stay in L1 cache with the tables (2048 was
/// measured slower).
pub const BLOCK_ELEMENTS: usize = 1024;

/// Largest relative difference between an entry of the batch kernel and
/// [`crate::distributions::Concrete::from_noise`] on the same noise, for entries above `1e-300`
/// (tested over the documented range on both paths). `from_noise` subtracts `logsumexp(s)`
/// from `s = (c + g)/τ`, rounded to an ulp of `|s| ≤ 4.5·10⁴` (`7.3·10⁻¹²` at `τ = 10⁻³`,
/// noise up to 44.7). The max-subtracted path subtracts the row maximum exactly and divides
/// by the sum; the shifted path (`τ ≥ 0.07`) exponentiates `(c + σ + g)/τ ≤ 708`, rounded to
/// an ulp of 708 (`1.1·10⁻¹³`), and divides by the sum. Two such ulps plus a few ulps of `y`
/// give the bound.
pub const BATCH_MAX_REL_ERROR: f64 = 2e-11;

/// Whether rows of `k` entries at `1/τ = inv_temperature` go through the shifted path (no row
/// maximum): `(SHIFT + NOISE_RANGE.1)/τ + ln k ≤ 708`, i.e. `τ ≥ 0.0686` for `k = 10` and
/// `τ ≥ 0.0697` for `k = 10⁵`. Smaller temperatures use the max-subtracted path.
pub fn uses_shifted_path(k: usize, inv_temperature: f64) -> bool {
    (SHIFT + NOISE_RANGE.1) * inv_temperature + (k as f64).ln() <= SHIFTED_MAX_EXPONENT
        && GumbelZiggurat::get().valid
}

/// Batch Concrete rows (module doc): `out` holds whole rows of `k = centered.len()` entries
/// (unchecked: the caller validates); `inv_temperature = 1/τ`.
pub(crate) fn concrete_rows<R: Rng + ?Sized>(
    rng: &mut R,
    centered: &[f64],
    inv_temperature: f64,
    out: &mut [f64],
) {
    if uses_shifted_path(centered.len(), inv_temperature) {
        let mut job = ShiftedJob::new(rng, centered, inv_temperature);
        simd::shifted_rows(&mut job, out);
    } else {
        max_subtracted_rows(rng, centered, inv_temperature, out);
    }
}

/// In place: each row of `k = centered.len()` entries of `rows` holds Gumbel noise `g` on
/// entry and the batch sampler's row on return, by the same arithmetic as [`concrete_rows`]
/// on the same noise (`rows.len()` a multiple of `k`, unchecked). The noise is in row-major
/// order: for `k ≤ GROUPED_MAX_K` the sampler reads it from its words in the grouped order
/// ([`grouped_to_row_major`]).
#[cfg(test)]
pub(crate) fn concrete_rows_from_noise(centered: &[f64], inv_temperature: f64, rows: &mut [f64]) {
    let k = centered.len();
    if uses_shifted_path(k, inv_temperature) {
        for row in rows.chunks_exact_mut(k) {
            for (y, &c) in row.iter_mut().zip(centered) {
                *y = exp_kernel(((c + SHIFT) + *y) * inv_temperature);
            }
            // Grouped rows are summed category by category from 0, the others as `row_sum`
            // of each piece of a block, added.
            let total = if k <= GROUPED_MAX_K {
                row.iter().fold(0.0, |t, &e| t + e)
            } else {
                row_total(row)
            };
            let inv = 1.0 / total;
            for y in row.iter_mut() {
                *y *= inv;
            }
        }
    } else {
        for row in rows.chunks_exact_mut(k) {
            for (y, &c) in row.iter_mut().zip(centered) {
                *y = (c + *y) * inv_temperature;
            }
        }
        softmax_rows(k, rows);
    }
}

/// The noise of `rows` rows of `k ≤ GROUPED_MAX_K` in the order the grouped layout draws it
/// (word `LANES·i + l` of group `g` feeds category `i` of row `LANES·g + l`; the last group
/// is whole), rearranged in row-major order.
#[cfg(test)]
pub(crate) fn grouped_to_row_major(k: usize, rows: usize, grouped: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; rows * k];
    for (r, row) in out.chunks_exact_mut(k).enumerate() {
        let (g, l) = (r / LANES, r % LANES);
        for (i, y) in row.iter_mut().enumerate() {
            *y = grouped[g * LANES * k + LANES * i + l];
        }
    }
    out
}

/// An RNG whose every byte is the same: the constant mock of the crate's test taxonomy.
#[cfg(test)]
struct ConstRng(u8);

#[cfg(test)]
impl rand::TryRng for ConstRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes([self.0; 4]))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes([self.0; 8]))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.fill(self.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::noise::NoiseBlock;
    use super::rejects::Rejects;
    use super::words::{Words, word_at};
    use super::*;
    use crate::rng::seeded;

    /// The shifted path is used exactly where its scores cannot overflow. Seen to fail with
    /// the `ln k` term dropped from the condition.
    #[test]
    fn shifted_path_threshold() {
        let span = SHIFT + NOISE_RANGE.1;
        for k in [1, 10, 1000, 100_000] {
            let tau_min = span / (SHIFTED_MAX_EXPONENT - (k as f64).ln());
            assert!(uses_shifted_path(k, 1.0 / (tau_min * (1.0 + 1e-12))));
            assert!(!uses_shifted_path(k, 1.0 / (tau_min * (1.0 - 1e-12))));
            // The largest possible row sum stays finite.
            let max_score = span / tau_min;
            assert!(k as f64 * exp_kernel(max_score) < f64::MAX / 2.0);
        }
        assert!(uses_shifted_path(10, 1.0 / 0.07) && !uses_shifted_path(10, 1.0 / 0.068));
        assert!(uses_shifted_path(100_000, 1.0 / 0.07) && !uses_shifted_path(100_000, 1e3));
        assert!(uses_shifted_path(100_000, 1e-3));
    }

    /// Rows longer than a block: the shifted path equals, bit for bit, the kernel
    /// (`concrete_rows_from_noise`) applied to the noise of a separately written draw loop
    /// that consumes the RNG as documented (per row, per piece of a block: `fill_bytes` of
    /// the piece, then the rejected entries of the piece finished together, with words from
    /// one extra-word buffer shared by the whole call). Checks the word and logit offsets of
    /// the pieces and of the fix-up. Seen to fail with the fix-up of every piece reading the
    /// logits of the first piece.
    #[test]
    fn long_rows_are_the_kernel_on_the_documented_word_stream() {
        let zig = GumbelZiggurat::get();
        let k = 2 * BLOCK_ELEMENTS + 300;
        let l: Vec<f64> = (0..k).map(|i| 4.0 * (i as f64 * 0.61).sin()).collect();
        let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let centered: Vec<f64> = l.iter().map(|v| v - m).collect();
        let tau = 0.8;
        let rows = 3;
        let mut batch = vec![0.0; rows * k];
        concrete_rows(&mut seeded(21), &centered, 1.0 / tau, &mut batch);
        // The documented word stream, drawn by a loop written for this test.
        let mut rng = seeded(21);
        let mut extra = Words::new_empty();
        let mut rejects = Rejects::new();
        let mut noise = vec![0.0; rows * k];
        let mut rejected = 0;
        for row in noise.chunks_mut(k) {
            for piece in row.chunks_mut(BLOCK_ELEMENTS) {
                let mut bytes = vec![0u8; 8 * piece.len()];
                rng.fill_bytes(&mut bytes);
                rejects.clear();
                for (i, g) in piece.iter_mut().enumerate() {
                    let (j, x) = zig.layer_point(word_at(&bytes, i));
                    if x >= zig.layers[j].in_lo && x <= zig.layers[j].in_hi {
                        *g = x;
                    } else {
                        rejects.push(zig, i, word_at(&bytes, i));
                    }
                }
                rejected += rejects.pos.len();
                rejects.finish(zig, &mut rng, &mut extra, None);
                for (&p, &x) in rejects.pos.iter().zip(&rejects.x) {
                    piece[p] = x;
                }
            }
        }
        assert!(rejected > 10, "{rejected}"); // the fix-up was exercised
        concrete_rows_from_noise(&centered, 1.0 / tau, &mut noise);
        let first = batch
            .iter()
            .zip(&noise)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert!(first.is_none(), "first difference at {first:?}");
    }

    /// Rows of `GROUPED_MAX_K < k ≤ BLOCK_ELEMENTS` (whole rows per block, row by row) and
    /// rows of the grouped layout with a partial last group, including both sides of
    /// `GROUPED_MAX_K` and `k = BLOCK_ELEMENTS`: the sampler is the kernel on
    /// `gumbel_noise` of the same seed (rearranged from the grouped order for the latter).
    /// Seen to fail with the rows of a partial group written from the wrong lanes.
    #[test]
    fn row_and_partial_group_paths_are_the_kernel() {
        let edges = [
            (GROUPED_MAX_K, 9),
            (GROUPED_MAX_K + 1, 9),
            (BLOCK_ELEMENTS, 2),
        ];
        for (k, rows) in [(300, 7), (10, 1001), (3, 2)].into_iter().chain(edges) {
            let l: Vec<f64> = (0..k).map(|i| 2.0 * (i as f64 * 1.3).cos()).collect();
            let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let centered: Vec<f64> = l.iter().map(|v| v - m).collect();
            let tau = 0.6;
            let mut batch = vec![0.0; rows * k];
            concrete_rows(&mut seeded(33), &centered, 1.0 / tau, &mut batch);
            // The sampler's blocks: whole groups, or whole rows; one extra-word buffer.
            let (words, block_words) = if k <= GROUPED_MAX_K {
                let group = LANES * k;
                (
                    rows.div_ceil(LANES) * group,
                    (BLOCK_ELEMENTS / group) * group,
                )
            } else {
                (rows * k, (BLOCK_ELEMENTS / k) * k)
            };
            let mut noise = vec![0.0; words];
            let mut rng = seeded(33);
            let mut block = NoiseBlock::new();
            let mut extra = Words::new_empty();
            let zeros = vec![0.0; BLOCK_ELEMENTS];
            for chunk in noise.chunks_mut(block_words) {
                let zig = GumbelZiggurat::get();
                block.fill_scores(zig, &mut rng, &mut extra, &zeros, 1.0, chunk);
            }
            if k <= GROUPED_MAX_K {
                noise = grouped_to_row_major(k, rows, &noise);
            }
            concrete_rows_from_noise(&centered, 1.0 / tau, &mut noise);
            let first = batch
                .iter()
                .zip(&noise)
                .position(|(a, b)| a.to_bits() != b.to_bits());
            assert!(first.is_none(), "k = {k}: first difference at {first:?}");
        }
    }

    /// The AVX2 build and the baseline build of the shifted path give the same bits (the same
    /// IEEE operations, no FMA). On a CPU without AVX2 both sides are the baseline build.
    /// Covers rows within a block, rows longer than a block, masked categories, both ends of
    /// the temperature range and the constant RNGs; with AVX2 the left side runs the
    /// intrinsics kernels. Seen to fail when the AVX2 build alone scales its last entry by
    /// `1 + ε`, and when the AVX2 `exp` adds `hi + lo` before `hi·p` (a reassociation).
    #[test]
    fn dispatched_and_baseline_builds_agree_bit_for_bit() {
        let wide: Vec<f64> = (0..2500).map(|i| 5.0 * (i as f64 * 0.37).sin()).collect();
        let cases: Vec<(Vec<f64>, f64)> = vec![
            ((0..10).map(|i| 3.0 * (i as f64).sin()).collect(), 0.5),
            (vec![1e4, -1e4, 0.0, f64::NEG_INFINITY, 2.0], 0.07),
            (vec![1e4, -1e4, 0.0, f64::NEG_INFINITY, 2.0], 1e3),
            (wide, 0.3),
        ];
        for (l, tau) in cases {
            let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let centered: Vec<f64> = l.iter().map(|v| v - m).collect();
            let k = centered.len();
            assert!(uses_shifted_path(k, 1.0 / tau));
            let rows = 3 * BLOCK_ELEMENTS / k + 1;
            let mut a = vec![0.0; rows * k];
            let mut b = vec![0.0; rows * k];
            let mut rng = seeded(5);
            simd::shifted_rows(&mut ShiftedJob::new(&mut rng, &centered, 1.0 / tau), &mut a);
            let mut rng = seeded(5);
            simd::shifted_rows_baseline(
                &mut ShiftedJob::new(&mut rng, &centered, 1.0 / tau),
                &mut b,
            );
            let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "k = {k}, tau = {tau}");
            for byte in [0, 0xff] {
                let mut a = vec![0.0; 2 * k];
                let mut b = vec![0.0; 2 * k];
                let mut rng = ConstRng(byte);
                simd::shifted_rows(&mut ShiftedJob::new(&mut rng, &centered, 1.0 / tau), &mut a);
                let mut rng = ConstRng(byte);
                simd::shifted_rows_baseline(
                    &mut ShiftedJob::new(&mut rng, &centered, 1.0 / tau),
                    &mut b,
                );
                assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
                assert!(a.iter().all(|y| y.is_finite()));
            }
        }
    }

    /// Outputs of at least `STREAM_MIN_ENTRIES` go out through the staging buffer and
    /// streaming stores on the AVX2 path: the same bits as the baseline build, also into a
    /// slice that does not start on a 32-byte boundary and ends in a partial group. Seen to
    /// fail with the streaming copy's last `n mod 4` entries not copied.
    #[test]
    fn streamed_output_agrees_bit_for_bit() {
        let centered: Vec<f64> = (0..10).map(|i| 3.0 * (i as f64).sin() - 3.0).collect();
        let tau = 0.5;
        let rows = STREAM_MIN_ENTRIES / 10 + 3;
        let mut a = vec![0.0; rows * 10 + 1];
        let mut b = vec![0.0; rows * 10];
        let mut rng = seeded(8);
        simd::shifted_rows(
            &mut ShiftedJob::new(&mut rng, &centered, 1.0 / tau),
            &mut a[1..],
        );
        let mut rng = seeded(8);
        simd::shifted_rows_baseline(&mut ShiftedJob::new(&mut rng, &centered, 1.0 / tau), &mut b);
        let first = a[1..]
            .iter()
            .zip(&b)
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert!(first.is_none(), "first difference at {first:?}");
    }
}
