//! The max-subtracted path of the batch sampler, for temperatures too small for the shifted
//! path (scores up to `44.7/τ` would overflow `e^score`), or if the ziggurat tables failed to
//! build:
//!
//! ```text
//! s_i = (c_i + g_i)/τ,   m = max_i s_i,   y_i = exp_nonpos(s_i - m) / Σ_j exp_nonpos(s_j - m)
//! ```
//! noise and scores per block ([`NoiseBlock`]), the row maxima, one flat `exp` pass, the row
//! normalisation. Not dispatched: the same code on every CPU.

use rand::Rng;

use super::BLOCK_ELEMENTS;
use super::exp::exp_nonpos;
use super::noise::NoiseBlock;
use super::words::Words;
use super::ziggurat::GumbelZiggurat;

/// The max-subtracted path, for temperatures too small for the shifted one (scores up to
/// `44.7/τ` would overflow `e^score`): noise and scores per block, then the row maxima, one
/// flat [`exp_nonpos`] pass and the normalisation ([`softmax_rows`]).
pub(super) fn max_subtracted_rows<R: Rng + ?Sized>(
    rng: &mut R,
    centered: &[f64],
    inv_temperature: f64,
    out: &mut [f64],
) {
    let k = centered.len();
    let zig = GumbelZiggurat::get();
    let mut noise = NoiseBlock::new();
    let mut extra = Words::new_empty();
    if k <= BLOCK_ELEMENTS {
        // Whole rows per block, with the logits tiled so that the score pass is flat.
        let rows = BLOCK_ELEMENTS / k;
        let tiled: Vec<f64> = centered.iter().copied().cycle().take(rows * k).collect();
        for chunk in out.chunks_mut(rows * k) {
            noise.fill_scores(zig, rng, &mut extra, &tiled, inv_temperature, chunk);
            softmax_rows(k, chunk);
        }
    } else {
        // A row longer than a block gets its noise in pieces.
        for row in out.chunks_mut(k) {
            for (piece, c) in row
                .chunks_mut(BLOCK_ELEMENTS)
                .zip(centered.chunks(BLOCK_ELEMENTS))
            {
                noise.fill_scores(zig, rng, &mut extra, c, inv_temperature, piece);
            }
            softmax_rows(k, row);
        }
    }
}

/// Rows of scores `s` in place to `softmax(s)`: subtract the row maximum, exponentiate in one
/// flat (vectorised) pass, divide by the row sum.
#[inline]
pub(super) fn softmax_rows(k: usize, chunk: &mut [f64]) {
    for row in chunk.chunks_exact_mut(k) {
        let mut m = f64::NEG_INFINITY;
        for &s in row.iter() {
            m = if s > m { s } else { m };
        }
        for y in row.iter_mut() {
            *y -= m;
        }
    }
    for y in chunk.iter_mut() {
        *y = exp_nonpos(*y);
    }
    for row in chunk.chunks_exact_mut(k) {
        let total: f64 = row.iter().sum();
        let inv = 1.0 / total;
        for y in row.iter_mut() {
            *y *= inv;
        }
    }
}
