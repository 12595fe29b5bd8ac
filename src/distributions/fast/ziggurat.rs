//! The Gumbel ziggurat: 256 layers of equal area under the standard Gumbel density, built
//! once per process ([`GumbelZiggurat`]), and how one word becomes a point of a layer.
//! Finishing the points that miss the fast-accept column is `rejects.rs`.
//!
//! # Construction and draw
//! ```text
//! f(x) = exp(-x - e^(-x)),  mode 0,  f(0) = 1/e;   F(x) = exp(-e^(-x)),  S(x) = 1 - F(x)
//! layers j = 0 … 255, all of area v:
//!   base (j = 0)  [L₀, R₀] × [0, y₀]  plus both tails:  v = (R₀ - L₀)·y₀ + F(L₀) + S(R₀)
//!   j ≥ 1         [L_{j-1}, R_{j-1}] × [y_{j-1}, y_j],  y_j = y_{j-1} + v/(R_{j-1} - L_{j-1})
//!   where f(L_j) = f(R_j) = y_j, L_j ≤ 0 ≤ R_j; y₀ is the smallest height for which
//!   y_255 ≥ f(0) (bisection when the table is built, once per process; then
//!   L₀ = -2.3325, R₀ = 7.9712, v = 0.0039350, 256·v = 1.0074)
//! draw    word w:  j = w mod 2⁸,  U = ⌊w/2¹²⌋·2⁻⁵² ∈ [0, 1),  x = L_{j-1} + U·(R_{j-1} - L_{j-1})
//!         accept at once if L_j ≤ x ≤ R_j (that column lies under f)
//!         else wedge test: y = y_{j-1} + U'·(y_j - y_{j-1}), accept if y < f(x), else redraw
//!         base: x = L₀ + U·v/y₀, accept if x ≤ R₀, else a tail by its exact inverse CDF
//!         with a fresh open uniform u':
//!         right  x = -ln(-ln_1p(-u'·S(R₀))),   left  x = -ln(e^(-L₀) - ln u')
//! ```
//! Every layer has area `v` and is chosen with probability `1/256`, so an accepted point is
//! uniform under `f` and `x ~ Gumbel(0, 1)` exactly, up to the rounding of the tables (about
//! `10⁻¹⁶` relative per layer area, tested) and the 52-bit resolution of `U`. The fast-accept
//! columns are shrunk by `10⁻¹⁴` relative so that rounding cannot accept a point above `f`;
//! points in that margin go to the exact wedge test. After 64 rejections in a row
//! (probability below `10⁻¹⁰⁰` for a real RNG; it stops a constant mock RNG from looping
//! forever) the draw falls back to the inverse CDF `-ln(-ln u)` of a fresh word, which keeps
//! the law exact because the number of rejections is independent of the accepted value.
//!
//! **Range**: the noise lies in [`NOISE_RANGE`] `= [-3.8511, 44.7082]` (the tail draws use
//! open uniforms `u' ∈ [2⁻⁵³, 1 - 2⁻⁵³]`): wider than the inverse-CDF range
//! `[-3.6038, 36.7368]` of [`crate::distributions::Gumbel::sample`], because the tails are drawn
//! conditionally. Tested by Kolmogorov-Smirnov tests against the closed-form CDF, on the whole
//! line and on each tail.
//!
//! # References
//! - G. Marsaglia, W. W. Tsang, *The Ziggurat Method for Generating Random Variables*, J. Stat.
//!   Softw. 5(8), 2000, <https://doi.org/10.18637/jss.v005.i08>.
//! - J. A. Doornik, *An Improved Ziggurat Method to Generate Normal Random Samples*, 2005
//!   (independent bits for the layer index and the uniform), <https://www.doornik.com/research/ziggurat.pdf>.

use std::sync::OnceLock;

use super::exp::exp_kernel;
use crate::distributions::gumbel::neg_ln_uniform;
use crate::distributions::uniform::open_uniform_from_bits;
use crate::tolerance::{ZIGGURAT_ACCEPT_MARGIN, ZIGGURAT_BISECTION};

/// The range of the noise the ziggurat can produce (module doc), rounded outwards.
pub const NOISE_RANGE: (f64, f64) = (-3.8511, 44.7082);

/// Number of ziggurat layers (the low 8 bits of a word choose one).
pub(super) const LAYERS: usize = 256;
/// `2⁻⁵³`.
pub(super) const TWO_M53: f64 = 1.0 / 9_007_199_254_740_992.0;
/// `2⁻⁵²`.
pub(super) const TWO_M52: f64 = 1.0 / TWO52;
/// `2⁵²` and its bit pattern: OR-ing an integer `< 2⁵²` into the mantissa of `2⁵²` and
/// subtracting `2⁵²` converts it to `f64` exactly with integer vector operations only.
pub(super) const TWO52: f64 = 4_503_599_627_370_496.0;
pub(super) const TWO52_BITS: u64 = 0x4330_0000_0000_0000;

/// One layer of the ziggurat: the draw is `lo + U·width`, accepted at once in `[in_lo, in_hi]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layer {
    pub(super) lo: f64,
    pub(super) width: f64,
    pub(super) in_lo: f64,
    pub(super) in_hi: f64,
}

/// The tables of the Gumbel ziggurat (module doc), built once per process.
#[derive(Debug, Clone)]
pub struct GumbelZiggurat {
    pub(super) layers: [Layer; LAYERS],
    /// `y_{j-1}` and `y_j`: bottom and top of layer `j ≥ 1`.
    pub(super) y_bottom: [f64; LAYERS],
    pub(super) y_top: [f64; LAYERS],
    /// Base layer: `R₀`, `y₀`, `S(R₀)`, `e^(-L₀)`.
    pub(super) r0: f64,
    pub(super) y0: f64,
    pub(super) right_tail: f64,
    pub(super) exp_neg_l0: f64,
    /// Common layer area `v`.
    pub(super) area: f64,
    /// Whether the construction succeeded (checked by a unit test); if not, draws use the
    /// inverse CDF.
    pub(super) valid: bool,
    /// The fields of `layers` as four arrays (structure of arrays), for the fast pass of the
    /// shifted path, which LLVM vectorises only in this layout.
    pub(super) lo: [f64; LAYERS],
    pub(super) width: [f64; LAYERS],
    pub(super) in_lo: [f64; LAYERS],
    pub(super) in_hi: [f64; LAYERS],
    /// The same four fields per layer, `[lo, width·2⁻⁵², in_lo, in_hi]`, one 32-byte row each
    /// (array of structures), for the AVX2 kernel's whole-row loads. `(m·2⁻⁵²)·width` and
    /// `m·(width·2⁻⁵²)` round the same exact product (scaling by a power of two is exact), so
    /// the kernel saves a multiplication and keeps the bits.
    pub(super) rows: [LayerRow; LAYERS],
}

/// `[lo, width·2⁻⁵², in_lo, in_hi]` of one layer, aligned to its 32 bytes.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub(super) struct LayerRow([f64; 4]);

/// Standard Gumbel density `exp(-x - e^(-x))` (with `std`'s `exp`, for the tests).
#[cfg(test)]
fn density(x: f64) -> f64 {
    (-x - (-x).exp()).exp()
}

/// The same density with [`exp_kernel`], for the wedge test of the slow path: within a few
/// `10⁻¹⁴` relative of [`density`] on the noise range (the inner `e^(-x) ≤ 47` is within an ulp,
/// so the outer argument within `10⁻¹⁴` absolute; tested), so the accepted law has the
/// Gumbel density to that relative accuracy.
#[inline]
pub(super) fn density_fast(x: f64) -> f64 {
    exp_kernel(-x - exp_kernel(-x))
}

/// `(L, R)` with `L ≤ 0 ≤ R` and `f(L) = f(R) = y` for `0 < y ≤ 1/e`, by bisection on
/// `h(x) = x + e^(-x) = -ln y`; each end is taken on the side where `f ≥ y`.
fn level_set(y: f64) -> (f64, f64) {
    let t = -y.ln();
    let h = |x: f64| x + (-x).exp();
    let (mut lo, mut hi) = (0.0_f64, t + 1.0);
    while hi - lo > 0.0 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if h(mid) <= t { lo = mid } else { hi = mid }
    }
    let right = lo;
    let (mut lo, mut hi) = (-t.ln() - 1.0, 0.0_f64);
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if h(mid) <= t { hi = mid } else { lo = mid }
    }
    (hi, right)
}

/// Layer heights and level sets from the base height `y₀`; `None` unless the 256 layers reach
/// the mode exactly at the last one (`Err(true)`: too few layers reach it, `Err(false)`: the
/// last layer is still below it).
#[allow(clippy::type_complexity)]
fn build_from(y0: f64) -> Result<(Vec<f64>, Vec<(f64, f64)>, f64), bool> {
    let fmax = (-1.0_f64).exp();
    let (l0, r0) = level_set(y0);
    let area = (r0 - l0) * y0 + (-(-l0).exp()).exp() + (-(-(-r0).exp()).exp_m1());
    let mut ys = vec![y0];
    let mut sets = vec![(l0, r0)];
    for j in 1..LAYERS {
        let (l, r) = sets[j - 1];
        let y = ys[j - 1] + area / (r - l);
        ys.push(y);
        if y >= fmax {
            return if j == LAYERS - 1 {
                sets.push((f64::INFINITY, f64::NEG_INFINITY));
                Ok((ys, sets, area))
            } else {
                Err(true)
            };
        }
        sets.push(level_set(y));
    }
    Err(false)
}

impl GumbelZiggurat {
    /// The tables, built on first use (a few hundred thousand flops, once per process).
    pub fn get() -> &'static GumbelZiggurat {
        static TABLES: OnceLock<GumbelZiggurat> = OnceLock::new();
        TABLES.get_or_init(GumbelZiggurat::build)
    }

    fn build() -> GumbelZiggurat {
        // Smallest y₀ (largest base, smallest area v) for which 256 layers reach the mode.
        let (mut lo, mut hi) = (1e-6_f64, (-1.0_f64).exp());
        let mut best = None;
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            match build_from(mid) {
                Ok(t) => {
                    best = Some(t);
                    hi = mid;
                }
                Err(true) => hi = mid,
                Err(false) => lo = mid,
            }
            if hi - lo <= ZIGGURAT_BISECTION * hi {
                break;
            }
        }
        // Failure is unreachable in practice (the construction is checked by a unit test); if
        // it happened, `valid = false` sends every draw to the inverse CDF, still exact.
        let valid = best.is_some();
        let (ys, sets, area) =
            best.unwrap_or_else(|| (vec![1.0; LAYERS], vec![(0.0, 1.0); LAYERS], 1.0));
        let mut layers = [Layer {
            lo: 0.0,
            width: 0.0,
            in_lo: f64::INFINITY,
            in_hi: f64::NEG_INFINITY,
        }; LAYERS];
        let mut y_bottom = [0.0; LAYERS];
        let mut y_top = [0.0; LAYERS];
        let (l0, r0) = sets[0];
        let y0 = ys[0];
        layers[0] = Layer {
            lo: l0,
            width: area / y0,
            in_lo: l0,
            in_hi: r0,
        };
        for j in 1..LAYERS {
            let (l, r) = sets[j - 1];
            let (il, ir) = sets[j];
            // A margin of a few ulps keeps the fast-accept column strictly under f despite the
            // rounding of the level set; points in the margin go to the (exact) wedge test.
            let margin = ZIGGURAT_ACCEPT_MARGIN;
            layers[j] = Layer {
                lo: l,
                width: r - l,
                in_lo: il + margin * (1.0 + il.abs()),
                in_hi: ir - margin * (1.0 + ir.abs()),
            };
            y_bottom[j] = ys[j - 1];
            y_top[j] = ys[j];
        }
        GumbelZiggurat {
            lo: layers.map(|l| l.lo),
            width: layers.map(|l| l.width),
            in_lo: layers.map(|l| l.in_lo),
            in_hi: layers.map(|l| l.in_hi),
            rows: layers.map(|l| LayerRow([l.lo, l.width * TWO_M52, l.in_lo, l.in_hi])),
            layers,
            y_bottom,
            y_top,
            r0,
            y0,
            right_tail: -(-(-r0).exp()).exp_m1(),
            exp_neg_l0: (-l0).exp(),
            area,
            valid,
        }
    }

    /// The common area `v` of the 256 layers.
    pub fn layer_area(&self) -> f64 {
        self.area
    }

    /// Probability that a draw is accepted at once (no wedge test, no tail): the sum over
    /// layers of the fast-accept fraction of each.
    pub fn fast_fraction(&self) -> f64 {
        let mut total = 0.0;
        for (j, layer) in self.layers.iter().enumerate() {
            let inner = if j == 0 {
                (self.r0 - layer.lo) * self.y0 / self.area
            } else {
                ((layer.in_hi - layer.in_lo) / layer.width).max(0.0)
            };
            total += inner / LAYERS as f64;
        }
        total
    }

    /// Layer index `j = w mod 2⁸` and point `x = lo_j + U·width_j` of a word, with the
    /// 52-bit uniform `U = ⌊w/2¹²⌋·2⁻⁵² ∈ [0, 1)` (bits disjoint from `j`).
    #[inline(always)]
    pub(super) fn layer_point(&self, w: u64) -> (usize, f64) {
        let j = (w & 0xff) as usize;
        // ⌊w/2¹²⌋ < 2⁵² converted exactly with integer vector operations (the 2⁵² trick).
        let u = (f64::from_bits(TWO52_BITS | (w >> 12)) - TWO52) * TWO_M52;
        let layer = &self.layers[j];
        (j, layer.lo + u * layer.width)
    }

    /// Whether point `x` of layer `j` lies in the layer's fast-accept column.
    #[inline(always)]
    pub(super) fn inside(&self, j: usize, x: f64) -> bool {
        (x >= self.in_lo[j]) & (x <= self.in_hi[j])
    }

    /// A base-layer point `x > R₀` (the two tails beyond the base rectangle): the tail it
    /// falls in, drawn by its exact inverse CDF from the open uniform of `word` (module doc).
    #[cold]
    pub(super) fn tail(&self, x: f64, word: u64) -> f64 {
        let b = (x - self.r0) * self.y0;
        let u = open_uniform_from_bits(word);
        if b < self.right_tail {
            -(-(-u * self.right_tail).ln_1p()).ln()
        } else {
            -(self.exp_neg_l0 + neg_ln_uniform(u)).ln()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wedge test's density with `exp_kernel` is within `10⁻¹³` relative of `std`'s on
    /// the noise range (a sweep of 10⁶ points), so the wedge decisions match up to points
    /// that close to the curve. Seen to fail with the sign of the outer argument flipped.
    #[test]
    fn fast_density_matches_std() {
        let (lo, hi) = NOISE_RANGE;
        let n = 1_000_000;
        let mut worst: f64 = 0.0;
        for i in 0..=n {
            let x = lo + (hi - lo) * i as f64 / n as f64;
            let (a, b) = (density_fast(x), density(x));
            assert!(a.is_finite() && a > 0.0, "{x}");
            worst = worst.max((a - b).abs() / b);
        }
        assert!(worst <= 1e-13, "max relative difference {worst}");
    }

    #[test]
    fn ziggurat_tables_are_a_valid_cover() {
        let z = GumbelZiggurat::get();
        let v = z.layer_area();
        let fmax = (-1.0_f64).exp();
        // Base layer: rectangle plus both tails has area v.
        let l0 = z.layers[0].lo;
        let base = (z.r0 - l0) * z.y0 + (-(-l0).exp()).exp() + z.right_tail;
        assert!((base - v).abs() <= 1e-14 * v, "base area {base} vs {v}");
        assert!((density(l0) - z.y0).abs() <= 1e-14 && (density(z.r0) - z.y0).abs() <= 1e-14);
        for j in 1..LAYERS {
            let layer = &z.layers[j];
            let area = layer.width * (z.y_top[j] - z.y_bottom[j]);
            assert!(
                (area - v).abs() <= 1e-12 * v,
                "layer {j}: area {area} vs {v}"
            );
            // Consecutive layers stack without gaps.
            assert_eq!(z.y_bottom[j], if j == 1 { z.y0 } else { z.y_top[j - 1] });
            // The layer's rectangle spans the level set of its bottom height.
            assert!(density(layer.lo) >= z.y_bottom[j] * (1.0 - 1e-14));
            assert!(density(layer.lo + layer.width) >= z.y_bottom[j] * (1.0 - 1e-14));
            if j < LAYERS - 1 {
                assert!(z.y_top[j] < fmax);
                // The fast-accept column lies under f.
                assert!(density(layer.in_lo) >= z.y_top[j], "layer {j}");
                assert!(density(layer.in_hi) >= z.y_top[j], "layer {j}");
                assert!(layer.in_lo > layer.lo && layer.in_hi < layer.lo + layer.width);
            } else {
                // The top layer covers the mode and accepts nothing at once.
                assert!(z.y_top[j] >= fmax && z.y_bottom[j] < fmax);
                assert!(layer.in_lo > layer.in_hi);
            }
        }
        // 256 layers of area v hold the unit mass plus the rejected area.
        assert!(v * LAYERS as f64 > 1.0 && v * (LAYERS as f64) < 1.02);
        assert!(z.valid);
        assert!(z.fast_fraction() > 0.98, "{}", z.fast_fraction());
    }

    #[test]
    fn noise_range_holds_at_the_edge_uniforms() {
        let z = GumbelZiggurat::get();
        let l0 = z.layers[0].lo;
        let right_max = -(-(-crate::distributions::uniform::U_MIN * z.right_tail).ln_1p()).ln();
        let left_min = -(z.exp_neg_l0 + neg_ln_uniform(crate::distributions::uniform::U_MIN)).ln();
        assert!(
            right_max <= NOISE_RANGE.1 && right_max > NOISE_RANGE.1 - 0.01,
            "{right_max}"
        );
        assert!(
            left_min >= NOISE_RANGE.0 && left_min < NOISE_RANGE.0 + 0.01,
            "{left_min}"
        );
        assert!(l0 > NOISE_RANGE.0);
        // The inverse-CDF fallback stays inside too.
        assert!(crate::distributions::gumbel::STANDARD_NOISE_MIN > NOISE_RANGE.0);
        assert!(crate::distributions::gumbel::STANDARD_NOISE_MAX < NOISE_RANGE.1);
    }
}
