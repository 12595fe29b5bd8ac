//! The slow path of the ziggurat: the draws of a block that missed their fast-accept column
//! (about 1.6 %), collected in word order and finished together in rounds ([`Rejects`]).
//!
//! ```text
//! round   base layer (j = 0): the tail by its exact inverse CDF (one word), accepted
//!         layer j ≥ 1: wedge height y = y_{j-1} + U'·(y_j - y_{j-1}) (one word),
//!                      accept if y < f(x) (densities in one flat loop), else a new point
//!                      (one word), accepted at once if in its fast-accept column
//! after MAX_TRIES rounds   the inverse CDF -ln(-ln u) of a fresh word
//! ```
//! The words come from a separate buffer (`Words`, `words.rs`); every attempt uses fresh words, so each
//! finished point is `Gumbel(0, 1)` exactly and independent of the others (the ziggurat's
//! construction and the argument: `ziggurat.rs`).

use rand::Rng;

use super::simd::{self, Avx2};
use super::words::{Words, word_at};
use super::ziggurat::{GumbelZiggurat, TWO_M53, density_fast};
use crate::distributions::gumbel::standard_from_uniform;
use crate::distributions::uniform::open_uniform_from_bits;

/// Rejections in a row after which a draw falls back to the inverse CDF (module doc).
pub(super) const MAX_TRIES: usize = 64;

/// The draws of one block that missed the fast-accept column, finished together (module doc,
/// "Rejected draws"): per round, in the order of the block's words, a base-layer point draws
/// its tail and every other point the height of its wedge test (one word each); the wedge
/// tests are evaluated in one vectorisable loop; the points that fail draw a new point (one
/// word each, in order), which is accepted at once if it lies in its fast-accept column and
/// takes part in the next round otherwise. After [`MAX_TRIES`] rounds a point still
/// undecided falls back to the inverse CDF of a fresh word. Every attempt uses fresh words,
/// so each finished point is `Gumbel(0, 1)` exactly, independently of the others.
pub(super) struct Rejects {
    /// Position of each rejected draw in its block (ascending).
    pub(super) pos: Vec<usize>,
    /// Current layer and point of each; on return of [`Rejects::finish`], `x` is the noise.
    pub(super) layer: Vec<usize>,
    pub(super) x: Vec<f64>,
    /// Indices of the undecided draws, and scratch for the next round.
    pub(super) active: Vec<usize>,
    pub(super) next: Vec<usize>,
    /// The wedge tests of one round: the draw, its height and the density at its point.
    pub(super) wedge: Vec<usize>,
    pub(super) wedge_y: Vec<f64>,
    pub(super) density: Vec<f64>,
}

impl Rejects {
    pub(super) fn new() -> Self {
        Rejects {
            pos: Vec::new(),
            layer: Vec::new(),
            x: Vec::new(),
            active: Vec::new(),
            next: Vec::new(),
            wedge: Vec::new(),
            wedge_y: Vec::new(),
            density: Vec::new(),
        }
    }

    pub(super) fn clear(&mut self) {
        self.pos.clear();
        self.layer.clear();
        self.x.clear();
    }

    /// Records the draw at block position `pos`, from its word.
    #[inline]
    pub(super) fn push(&mut self, zig: &GumbelZiggurat, pos: usize, word: u64) {
        let (j, x) = zig.layer_point(word);
        self.pos.push(pos);
        self.layer.push(j);
        self.x.push(x);
    }

    /// Finishes every recorded draw (the struct doc), with words from `extra`.
    #[cold]
    #[inline(never)]
    pub(super) fn finish<R: Rng + ?Sized>(
        &mut self,
        zig: &GumbelZiggurat,
        rng: &mut R,
        extra: &mut Words,
        kernel: Option<Avx2>,
    ) {
        self.active.clear();
        self.active.extend(0..self.pos.len());
        for _ in 0..MAX_TRIES {
            if self.active.is_empty() {
                return;
            }
            self.wedge.clear();
            self.wedge_y.clear();
            for &a in &self.active {
                let j = self.layer[a];
                let word = extra.next_word(rng);
                if j == 0 {
                    // Rejected in the base layer means beyond R₀: a tail, always accepted.
                    self.x[a] = zig.tail(self.x[a], word);
                } else {
                    let u = (word >> 11) as f64 * TWO_M53;
                    self.wedge.push(a);
                    self.wedge_y
                        .push(zig.y_bottom[j] + u * (zig.y_top[j] - zig.y_bottom[j]));
                }
            }
            // The densities `exp(-x - exp(-x))` over contiguous points, in flat loops (the
            // AVX2 `exp` where chosen: the same bits as `density_fast`).
            self.density.clear();
            self.density.extend(self.wedge.iter().map(|&a| self.x[a]));
            match kernel {
                Some(token) => {
                    for d in self.density.iter_mut() {
                        *d = -*d;
                    }
                    simd::exp_in_place(token, &mut self.density);
                    for (d, &a) in self.density.iter_mut().zip(&self.wedge) {
                        *d = -self.x[a] - *d;
                    }
                    simd::exp_in_place(token, &mut self.density);
                }
                None => {
                    for d in self.density.iter_mut() {
                        *d = density_fast(*d);
                    }
                }
            }
            self.next.clear();
            for ((&a, &y), &d) in self.wedge.iter().zip(&self.wedge_y).zip(&self.density) {
                if y >= d {
                    let (j, x) = zig.layer_point(extra.next_word(rng));
                    self.layer[a] = j;
                    self.x[a] = x;
                    if !zig.inside(j, x) {
                        self.next.push(a);
                    }
                }
            }
            std::mem::swap(&mut self.active, &mut self.next);
        }
        for &a in &self.active {
            self.x[a] = standard_from_uniform(open_uniform_from_bits(extra.next_word(rng)));
        }
    }
}

impl Rejects {
    /// Records every NaN entry of `values` (the fast pass's mark of a rejected draw), in
    /// order: entry `i` is block position `from + i`, whose word is `word_at(bytes, from + i)`.
    ///
    /// Sixteen entries are tested at a time by their sum (vector adds: the entries are
    /// `≥ 0` and at most `e^708`, so the sum is NaN exactly when an entry is; about 23 % of the
    /// sixteens hold a rejected draw), then the entries of a NaN sixteen one by one.
    #[inline(always)]
    pub(super) fn collect(
        &mut self,
        zig: &GumbelZiggurat,
        bytes: &[u8],
        from: usize,
        values: &[f64],
    ) {
        let mut chunks = values.chunks_exact(16);
        for (c, q) in chunks.by_ref().enumerate() {
            let mut acc = [0.0_f64; 4];
            for (l, a) in acc.iter_mut().enumerate() {
                *a = (q[l] + q[l + 4]) + (q[l + 8] + q[l + 12]);
            }
            if ((acc[0] + acc[1]) + (acc[2] + acc[3])).is_nan() {
                for (i, v) in q.iter().enumerate() {
                    if v.is_nan() {
                        let p = from + 16 * c + i;
                        self.push(zig, p, word_at(bytes, p));
                    }
                }
            }
        }
        let done = values.len() - chunks.remainder().len();
        for (i, v) in chunks.remainder().iter().enumerate() {
            if v.is_nan() {
                let p = from + done + i;
                self.push(zig, p, word_at(bytes, p));
            }
        }
    }
}

impl Rejects {
    /// Records the rejected draws flagged in `masks` (bit `b` of `masks[m]`: entry `64m + b`,
    /// whose word is `word_at(bytes, 64m + b)`), in order.
    #[inline(always)]
    pub(super) fn collect_masks(&mut self, zig: &GumbelZiggurat, bytes: &[u8], masks: &[u64]) {
        for (m, &mask) in masks.iter().enumerate() {
            let mut bits = mask;
            while bits != 0 {
                let p = 64 * m + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.push(zig, p, word_at(bytes, p));
            }
        }
    }
}
