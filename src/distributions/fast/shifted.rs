//! The shifted path of the batch sampler ([`ShiftedJob`]): for temperatures where no score
//! can overflow, the logits are shifted by [`SHIFT`] instead of subtracting each row's
//! maximum, and rows are drawn in the grouped layout (`k ≤` [`GROUPED_MAX_K`]), whole rows per
//! block, or pieces of a block (module doc of `fast`).
//!
//! ```text
//! score    s_i = (c_i + SHIFT + g_i)/τ ≤ 708 - ln k     (c centred: max c = 0)
//! exp      e_i = exp_kernel(s_i),   the largest-logit entry has e ≥ 1
//! row      y_i = e_i / Σ_row e      (softmax is shift invariant: the same law)
//! ```
//! The fast pass is written twice with the same IEEE operations in the same order: the
//! portable loops here ([`score_exp_loops`]) and the AVX2 intrinsics in `simd.rs`, which also
//! compiles [`ShiftedJob::run`] a second time with AVX2 enabled.

use rand::Rng;

use super::BLOCK_ELEMENTS;
use super::exp::exp_kernel;
use super::rejects::Rejects;
use super::simd::{self, Avx2};
use super::words::{Words, word_at};
use super::ziggurat::{GumbelZiggurat, NOISE_RANGE, TWO_M52, TWO52, TWO52_BITS};

/// The constant added to the centred logits on the shifted path: minus the lower end of
/// [`NOISE_RANGE`], so that the score of a largest logit, `(0 + SHIFT + g)/τ`, is `≥ 0` for
/// every noise value and the row sum of `e^score` is `≥ 1`.
pub(super) const SHIFT: f64 = -NOISE_RANGE.0;

/// Largest `(SHIFT + NOISE_RANGE.1)/τ + ln k` for which the shifted path is used: every score
/// is then at most `708 - ln k`, so each `e^score` and the row sum stay below
/// `e^708 = 3·10³⁰⁷ < f64::MAX` (with margin for rounding).
pub(super) const SHIFTED_MAX_EXPONENT: f64 = 708.0;

/// Sum of a row in a fixed order that vectorises: four interleaved partial sums (entries `i`
/// with the same `i mod 4`), then `(a₀ + a₂) + (a₁ + a₃)`. NaN if an entry is NaN.
#[inline(always)]
pub(super) fn row_sum(row: &[f64]) -> f64 {
    // Four scalar accumulators (not an array: LLVM spills an array through a masked store
    // for the remainder, and the reload stalls on it).
    let (mut a0, mut a1, mut a2, mut a3) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    let mut chunks = row.chunks_exact(4);
    for c in &mut chunks {
        a0 += c[0];
        a1 += c[1];
        a2 += c[2];
        a3 += c[3];
    }
    let rest = chunks.remainder();
    if let Some(&v) = rest.first() {
        a0 += v;
    }
    if let Some(&v) = rest.get(1) {
        a1 += v;
    }
    if let Some(&v) = rest.get(2) {
        a2 += v;
    }
    (a0 + a2) + (a1 + a3)
}

/// Sum of a whole row as the shifted path forms it: [`row_sum`] of each piece of
/// [`BLOCK_ELEMENTS`] entries, added in order (a row of at most one block: its [`row_sum`]).
#[cfg(test)]
pub(super) fn row_total(row: &[f64]) -> f64 {
    row.chunks(BLOCK_ELEMENTS)
        .fold(0.0, |t, piece| t + row_sum(piece))
}

/// Outputs of at least this many entries (16 MiB) are written with streaming stores on the
/// AVX2 path (`simd::stream_copy`): far beyond the L2 caches, where writing through the
/// cache would first read every line. Measured on the reference machine (`docs/performance.md`).
pub const STREAM_MIN_ENTRIES: usize = 1 << 21;

/// Rows per group of the grouped layout (module doc): one `f64` lane each.
pub(super) const LANES: usize = 4;

/// Largest `k` that the shifted path processes in groups of `LANES` rows (a group's
/// `LANES·k` words fit in a block); longer rows go row by row.
pub const GROUPED_MAX_K: usize = BLOCK_ELEMENTS / LANES;

/// The state of one call on the shifted path: the RNG, the word buffers, the logits plus
/// [`SHIFT`] tiled over a block, and scratch.
pub(super) struct ShiftedJob<'a, R: Rng + ?Sized> {
    rng: &'a mut R,
    zig: &'static GumbelZiggurat,
    extra: Words,
    bytes: Vec<u8>,
    /// `c + SHIFT` tiled over a block: grouped layout (`k ≤ GROUPED_MAX_K`: entry `p` of a
    /// group is category `p / LANES`), whole rows (`k ≤ BLOCK_ELEMENTS`), or one row.
    offset: Vec<f64>,
    /// The block's `e^score` values (grouped layout) and the groups' sums, lane by lane.
    values: Vec<f64>,
    sums: Vec<f64>,
    rejects: Rejects,
    /// The AVX2 kernel of the fast pass, if the CPU has AVX2 and `simd::shifted_rows` chose it.
    pub(super) kernel: Option<Avx2>,
    /// Its reject masks, one bit per entry of the block.
    masks: Vec<u64>,
    /// Whether whole groups go to the output through `stage` and streaming stores.
    stream: bool,
    stage: Vec<f64>,
    k: usize,
    inv_temperature: f64,
}

impl<'a, R: Rng + ?Sized> ShiftedJob<'a, R> {
    pub(super) fn new(rng: &'a mut R, centered: &[f64], inv_temperature: f64) -> Self {
        let k = centered.len();
        let offset: Vec<f64> = if k <= GROUPED_MAX_K {
            let group = LANES * k;
            (0..(BLOCK_ELEMENTS / group) * group)
                .map(|p| centered[(p % group) / LANES] + SHIFT)
                .collect()
        } else {
            let len = if k <= BLOCK_ELEMENTS {
                (BLOCK_ELEMENTS / k) * k
            } else {
                k
            };
            centered
                .iter()
                .map(|&c| c + SHIFT)
                .cycle()
                .take(len)
                .collect()
        };
        ShiftedJob {
            rng,
            zig: GumbelZiggurat::get(),
            extra: Words::new_empty(),
            bytes: vec![0; 8 * offset.len().min(BLOCK_ELEMENTS)],
            values: if k <= GROUPED_MAX_K {
                vec![0.0; offset.len()]
            } else {
                Vec::new()
            },
            sums: Vec::new(),
            offset,
            rejects: Rejects::new(),
            kernel: None,
            masks: Vec::new(),
            stream: false,
            stage: Vec::new(),
            k,
            inv_temperature,
        }
    }

    /// The shifted path on whole rows (module doc). `#[inline(always)]`: compiled once for
    /// the baseline target and once with AVX2 enabled (`simd.rs`), same arithmetic.
    #[inline(always)]
    pub(super) fn run(&mut self, out: &mut [f64]) {
        let k = self.k;
        if k <= GROUPED_MAX_K {
            self.run_grouped(out);
        } else if k <= BLOCK_ELEMENTS {
            let block = (BLOCK_ELEMENTS / k) * k;
            for chunk in out.chunks_mut(block) {
                let n = chunk.len();
                self.rng.fill_bytes(&mut self.bytes[..8 * n]);
                self.fast_pass(0, chunk);
                for row in chunk.chunks_exact_mut(k) {
                    let inv = 1.0 / row_sum(row);
                    for y in row.iter_mut() {
                        *y *= inv;
                    }
                }
            }
        } else {
            for row in out.chunks_mut(k) {
                let mut total = 0.0;
                for (p, piece) in row.chunks_mut(BLOCK_ELEMENTS).enumerate() {
                    let n = piece.len();
                    self.rng.fill_bytes(&mut self.bytes[..8 * n]);
                    self.fast_pass(p * BLOCK_ELEMENTS, piece);
                    total += row_sum(piece);
                }
                let inv = 1.0 / total;
                for y in row.iter_mut() {
                    *y *= inv;
                }
            }
        }
    }

    /// The grouped layout (`k ≤ GROUPED_MAX_K`, module doc): groups of [`LANES`] rows, word
    /// `LANES·i + l` of a group feeding category `i` of its row `l`; per block of whole
    /// groups, the two flat loops, the sums lane by lane (category by category, so no
    /// horizontal sum), the rejected draws, then each row scaled by `1/sum` while it is
    /// written out in row-major order. A last, partial group draws the words of a whole
    /// group and writes only its rows.
    #[inline(always)]
    fn run_grouped(&mut self, out: &mut [f64]) {
        let k = self.k;
        let group = LANES * k;
        self.stream = self.kernel.is_some() && out.len() >= STREAM_MIN_ENTRIES;
        if self.stream {
            self.stage.resize(self.values.len(), 0.0);
        }
        let rows = out.len() / k;
        let groups = rows.div_ceil(LANES);
        let per_block = BLOCK_ELEMENTS / group;
        let mut first = 0;
        while first < groups {
            let gb = per_block.min(groups - first);
            let n = gb * group;
            self.rng.fill_bytes(&mut self.bytes[..8 * n]);
            let mut values = std::mem::take(&mut self.values);
            self.fast_pass(0, &mut values[..n]);
            self.values = values;
            let values = &self.values[..n];
            self.sums.clear();
            self.sums.resize(LANES * gb, 0.0);
            lane_sums(values, group, &mut self.sums);
            for s in self.sums.iter_mut() {
                *s = 1.0 / *s;
            }
            let out_rows = &mut out[first * group..];
            // Whole groups of this block, then (last block only) a partial one.
            let whole = (out_rows.len() / group).min(gb);
            let (vals, rest) = values.split_at(whole * group);
            let (inv, inv_rest) = self.sums.split_at(LANES * whole);
            match self.kernel {
                Some(token) if self.stream => {
                    let stage = &mut self.stage[..whole * group];
                    simd::write_groups(token, k, vals, inv, stage);
                    simd::stream_copy(token, stage, &mut out_rows[..whole * group]);
                }
                Some(token) => {
                    simd::write_groups(token, k, vals, inv, &mut out_rows[..whole * group]);
                }
                None => {
                    for ((v, i), d) in vals
                        .chunks_exact(group)
                        .zip(inv.chunks_exact(LANES))
                        .zip(out_rows.chunks_exact_mut(group))
                    {
                        write_group(v, [i[0], i[1], i[2], i[3]], d);
                    }
                }
            }
            if whole < gb {
                // The last, partial group: only its rows.
                let dst = &mut out_rows[whole * group..];
                for (l, row) in dst.chunks_exact_mut(k).enumerate() {
                    for (i, y) in row.iter_mut().enumerate() {
                        *y = rest[LANES * i + l] * inv_rest[l];
                    }
                }
            }
            first += gb;
        }
        if let (true, Some(token)) = (self.stream, self.kernel) {
            simd::fence(token);
        }
    }

    /// One block's draws (its words already in `bytes`): `out_i ← e^((offset_{from+i} +
    /// g_i)/τ)` for the Gumbel noise `g_i` of word `i`. The fast pass (`simd::score_exp`
    /// where chosen, else [`score_exp_loops`]: the same bits) computes the ziggurat points and
    /// the `exp` of those in their fast-accept columns; the others are finished together
    /// (`Rejects`, in word order, extra words from `extra`) and their `exp` written.
    #[inline(always)]
    fn fast_pass(&mut self, from: usize, out: &mut [f64]) {
        let n = out.len();
        let bytes = &self.bytes[..8 * n];
        let offset = &self.offset[from..from + n];
        self.rejects.clear();
        match self.kernel {
            Some(token) => {
                simd::score_exp(
                    token,
                    self.zig,
                    bytes,
                    offset,
                    self.inv_temperature,
                    out,
                    &mut self.masks,
                );
                self.rejects.collect_masks(self.zig, bytes, &self.masks);
            }
            None => {
                score_exp_loops(self.zig, bytes, offset, self.inv_temperature, out);
                self.rejects.collect(self.zig, bytes, 0, out);
            }
        }
        if self.rejects.pos.is_empty() {
            return;
        }
        self.rejects
            .finish(self.zig, &mut *self.rng, &mut self.extra, self.kernel);
        let inv = self.inv_temperature;
        match self.kernel {
            Some(token) => {
                // Their scores in place of the noise, then `exp` four at a time.
                for (&p, x) in self.rejects.pos.iter().zip(self.rejects.x.iter_mut()) {
                    *x = (offset[p] + *x) * inv;
                }
                simd::exp_in_place(token, &mut self.rejects.x);
                for (&p, &e) in self.rejects.pos.iter().zip(&self.rejects.x) {
                    out[p] = e;
                }
            }
            None => {
                for (&p, &x) in self.rejects.pos.iter().zip(&self.rejects.x) {
                    out[p] = exp_kernel((offset[p] + x) * inv);
                }
            }
        }
    }
}

/// The sums of the rows of each group, lane by lane: `sums[LANES·g + l]` is the sum over
/// categories `i` (in order, from 0) of `values[group·g + LANES·i + l]`.
#[inline(always)]
fn lane_sums(values: &[f64], group: usize, sums: &mut [f64]) {
    for (vals, quad) in values.chunks_exact(group).zip(sums.chunks_exact_mut(LANES)) {
        let mut acc = [0.0_f64; LANES];
        for v in vals.chunks_exact(LANES) {
            for l in 0..LANES {
                acc[l] += v[l];
            }
        }
        quad.copy_from_slice(&acc);
    }
}

/// One whole group to row-major output: row `l`, category `i` is `vals[LANES·i + l]·inv[l]`.
/// Four categories at a time: four products of four lanes, transposed (a 4 × 4 block, which
/// LLVM turns into shuffles), then the rest one by one. Only multiplications: any order of
/// evaluation gives the same bits.
#[inline(always)]
pub(super) fn write_group(vals: &[f64], inv: [f64; LANES], dst: &mut [f64]) {
    let k = vals.len() / LANES;
    let (r0, rest) = dst.split_at_mut(k);
    let (r1, rest) = rest.split_at_mut(k);
    let (r2, r3) = rest.split_at_mut(k);
    let mut blocks = vals.chunks_exact(LANES * LANES);
    let mut i = 0;
    for b in &mut blocks {
        let p: [f64; 16] = std::array::from_fn(|t| b[t] * inv[t % LANES]);
        r0[i..i + 4].copy_from_slice(&[p[0], p[4], p[8], p[12]]);
        r1[i..i + 4].copy_from_slice(&[p[1], p[5], p[9], p[13]]);
        r2[i..i + 4].copy_from_slice(&[p[2], p[6], p[10], p[14]]);
        r3[i..i + 4].copy_from_slice(&[p[3], p[7], p[11], p[15]]);
        i += 4;
    }
    for v in blocks.remainder().chunks_exact(LANES) {
        r0[i] = v[0] * inv[0];
        r1[i] = v[1] * inv[1];
        r2[i] = v[2] * inv[2];
        r3[i] = v[3] * inv[3];
        i += 1;
    }
}

/// The loops of [`ShiftedJob::fast_pass`] (`bytes.len() = 8·out.len() = 8·offset.len()`):
/// scores (NaN for rejected points), then `exp` in place.
#[inline(always)]
fn score_exp_loops(zig: &GumbelZiggurat, bytes: &[u8], offset: &[f64], inv: f64, out: &mut [f64]) {
    let n = out.len();
    let bytes = &bytes[..8 * n];
    let offset = &offset[..n];
    for i in 0..n {
        // As `layer_point`, on the arrays.
        let w = word_at(bytes, i);
        let j = (w & 0xff) as usize;
        let u = (f64::from_bits(TWO52_BITS | (w >> 12)) - TWO52) * TWO_M52;
        let x = zig.lo[j] + u * zig.width[j];
        let inside = (x >= zig.in_lo[j]) & (x <= zig.in_hi[j]);
        out[i] = if inside {
            (offset[i] + x) * inv
        } else {
            f64::NAN
        };
    }
    for y in out.iter_mut() {
        *y = exp_kernel(*y);
    }
}
