//! The model of the semi-supervised study: generated data, a linear encoder `q(y|x)` and a
//! two-hidden-layer decoder whose loss is the per-class term `L(x, y)`; gradients by hand.
//!
//! # Notation
//! ```text
//! data      x ∈ ℝ^d from a mixture of k Gaussian clusters: c ~ Uniform{0..k-1},
//!           x = μ_c + ε,  μ_c ~ N(0, 2² I_d) (drawn once),  ε ~ N(0, I_d)
//! encoder   logits a = V x + c  (V: k×d),  q(y|x) = softmax(a)
//! decoder   input: the class vector y ∈ Δ^{k-1} (one-hot e_y, or a relaxed sample)
//!           h₁ = tanh(W₁ y + b₁)   (W₁: w×k)
//!           h₂ = tanh(W₂ h₁ + b₂)  (W₂: w×w)
//!           o  = W₃ h₂ + b₃        (W₃: d×w)
//! per-class term   L(x, y) = ½ ‖x - o(y)‖²
//!           (the Gaussian reconstruction loss -ln p(x|y) up to a constant)
//! ```
//! `L(x, y)` is defined by the same formula for every `y` in the simplex, so a relaxed
//! Gumbel-Softmax sample `ŷ` enters the decoder as a soft class vector: the first layer mixes the
//! class embeddings (columns of `W₁`) with weights `ŷ` before the `tanh`. At a vertex `e_y` it is
//! the labelled term of class `y`.
//!
//! # Cost of a decoder pass
//! One forward pass is `w·k + w² + d·w` multiply-adds; the backward pass about twice that. `W₁ y`
//! is computed as a dense product even for one-hot `y`, as a framework's dense layer does (and
//! as the soft sample needs): a decoder that looked up the column for one-hot inputs would make
//! each exact pass cheaper by `w·k`, which matters only when `k` is comparable to `w`.
//!
//! # Gradients
//! ```text
//! δo = o - x,  ∂L/∂W₃ = δo h₂ᵀ,  ∂L/∂b₃ = δo
//! δ₂ = (W₃ᵀ δo) ⊙ (1 - h₂²),  ∂L/∂W₂ = δ₂ h₁ᵀ,  ∂L/∂b₂ = δ₂
//! δ₁ = (W₂ᵀ δ₂) ⊙ (1 - h₁²),  ∂L/∂W₁ = δ₁ yᵀ,   ∂L/∂b₁ = δ₁,   ∂L/∂y = W₁ᵀ δ₁
//! ```
//! checked against central finite differences in the unit tests.

use rand::Rng;

use crate::distributions::uniform::open_uniform;
use crate::error::Error;

/// Standard deviation of the cluster means.
const MEAN_SCALE: f64 = 2.0;

/// One standard normal draw (Box–Muller on two open-interval uniforms: never infinite).
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u = open_uniform(rng);
    let v = open_uniform(rng);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn check_count(value: usize, name: &'static str) -> Result<usize, Error> {
    if value == 0 {
        Err(Error::CountZero { name })
    } else {
        Ok(value)
    }
}

/// Points drawn from a mixture of `k` Gaussian clusters in `d` dimensions, with their labels.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Mixture {
    /// Number of clusters `k`.
    pub classes: usize,
    /// Dimension `d`.
    pub dim: usize,
    /// The cluster means `μ_c`, one row of `d` per class.
    pub means: Vec<Vec<f64>>,
    /// The points, one row of `d` each.
    pub points: Vec<Vec<f64>>,
    /// The cluster each point was drawn from.
    pub labels: Vec<usize>,
}

impl Mixture {
    /// Draws `k` means `μ_c ~ N(0, 4 I_d)`, then `n` points `x = μ_c + N(0, I_d)` with
    /// `c` uniform on `0..k` (`c = ⌊u k⌋`).
    ///
    /// # Errors
    /// [`Error::CountZero`] if `k`, `d` or `n` is 0.
    ///
    /// # Example
    /// ```
    /// use gumbel_audit::study::semi_supervised::Mixture;
    /// let m = Mixture::generate(3, 2, 10, &mut gumbel_audit::rng::seeded(1))?;
    /// assert_eq!(m.points.len(), 10);
    /// assert!(m.labels.iter().all(|&c| c < 3));
    /// # Ok::<(), gumbel_audit::Error>(())
    /// ```
    pub fn generate<R: Rng + ?Sized>(
        classes: usize,
        dim: usize,
        n: usize,
        rng: &mut R,
    ) -> Result<Mixture, Error> {
        check_count(classes, "number of classes k")?;
        check_count(dim, "data dimension d")?;
        check_count(n, "number of points")?;
        let means: Vec<Vec<f64>> = (0..classes)
            .map(|_| {
                (0..dim)
                    .map(|_| MEAN_SCALE * standard_normal(rng))
                    .collect()
            })
            .collect();
        let mut points = Vec::with_capacity(n);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let c = ((open_uniform(rng) * classes as f64) as usize).min(classes - 1);
            points.push(means[c].iter().map(|m| m + standard_normal(rng)).collect());
            labels.push(c);
        }
        Ok(Mixture {
            classes,
            dim,
            means,
            points,
            labels,
        })
    }
}

/// The linear encoder `a = V x + c`, `q(y|x) = softmax(a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoder {
    k: usize,
    d: usize,
    /// `V`, row-major `k × d`.
    v: Vec<f64>,
    c: Vec<f64>,
}

impl Encoder {
    /// Random initialisation `V_ij ~ N(0, 1/d)`, `c = 0`.
    ///
    /// # Errors
    /// [`Error::CountZero`] if `k` or `d` is 0.
    pub fn new<R: Rng + ?Sized>(k: usize, d: usize, rng: &mut R) -> Result<Encoder, Error> {
        check_count(k, "number of classes k")?;
        check_count(d, "data dimension d")?;
        let s = 1.0 / (d as f64).sqrt();
        Ok(Encoder {
            k,
            d,
            v: (0..k * d).map(|_| s * standard_normal(rng)).collect(),
            c: vec![0.0; k],
        })
    }

    /// Number of classes `k`.
    pub fn classes(&self) -> usize {
        self.k
    }

    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// Writes the logits `a = V x + c` into `out[..k]` (`x` has `d` entries).
    pub fn logits_into(&self, x: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().take(self.k).enumerate() {
            let row = &self.v[i * self.d..(i + 1) * self.d];
            *o = self.c[i] + row.iter().zip(x).map(|(w, xi)| w * xi).sum::<f64>();
        }
    }

    #[cfg(test)]
    pub(crate) fn params_len(&self) -> usize {
        self.v.len()
    }

    #[cfg(test)]
    pub(crate) fn param(&self, i: usize) -> f64 {
        self.v[i]
    }

    #[cfg(test)]
    pub(crate) fn set_param(&mut self, i: usize, value: f64) {
        self.v[i] = value;
    }

    /// Accumulates `weight · ∂J/∂(V, c)` given `∂J/∂a` (`grad_a`) into `grads`.
    pub fn backward(&self, x: &[f64], grad_a: &[f64], weight: f64, grads: &mut EncoderGrads) {
        for (i, &g) in grad_a.iter().enumerate().take(self.k) {
            let wg = weight * g;
            grads.c[i] += wg;
            for (gv, xi) in grads.v[i * self.d..(i + 1) * self.d].iter_mut().zip(x) {
                *gv += wg * xi;
            }
        }
    }
}

/// Gradients with respect to the encoder's parameters (`V` row-major, `c`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EncoderGrads {
    /// `∂/∂V`, row-major `k × d`.
    pub v: Vec<f64>,
    /// `∂/∂c`.
    pub c: Vec<f64>,
}

impl EncoderGrads {
    /// Zeros shaped like `encoder`.
    pub fn zeros(encoder: &Encoder) -> EncoderGrads {
        EncoderGrads {
            v: vec![0.0; encoder.v.len()],
            c: vec![0.0; encoder.c.len()],
        }
    }

    /// Sets every entry to 0.
    pub fn clear(&mut self) {
        self.v.fill(0.0);
        self.c.fill(0.0);
    }
}

/// The decoder MLP `y ↦ o(y)` and its loss `L(x, y) = ½ ‖x - o(y)‖²` (module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoder {
    k: usize,
    w: usize,
    d: usize,
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: Vec<f64>,
    w3: Vec<f64>,
    b3: Vec<f64>,
}

/// Gradients with respect to the decoder's parameters, shaped like its weights (row-major).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DecoderGrads {
    /// `∂/∂W₁` (`w × k`).
    pub w1: Vec<f64>,
    /// `∂/∂b₁`.
    pub b1: Vec<f64>,
    /// `∂/∂W₂` (`w × w`).
    pub w2: Vec<f64>,
    /// `∂/∂b₂`.
    pub b2: Vec<f64>,
    /// `∂/∂W₃` (`d × w`).
    pub w3: Vec<f64>,
    /// `∂/∂b₃`.
    pub b3: Vec<f64>,
}

impl DecoderGrads {
    /// Zeros shaped like `decoder`.
    pub fn zeros(decoder: &Decoder) -> DecoderGrads {
        DecoderGrads {
            w1: vec![0.0; decoder.w1.len()],
            b1: vec![0.0; decoder.b1.len()],
            w2: vec![0.0; decoder.w2.len()],
            b2: vec![0.0; decoder.b2.len()],
            w3: vec![0.0; decoder.w3.len()],
            b3: vec![0.0; decoder.b3.len()],
        }
    }

    /// Sets every entry to 0.
    pub fn clear(&mut self) {
        for v in [
            &mut self.w1,
            &mut self.b1,
            &mut self.w2,
            &mut self.b2,
            &mut self.w3,
            &mut self.b3,
        ] {
            v.fill(0.0);
        }
    }
}

/// Buffers of one decoder pass (activations and back-propagated errors), reused across calls.
#[derive(Debug, Clone, PartialEq)]
pub struct DecoderScratch {
    h1: Vec<f64>,
    h2: Vec<f64>,
    o: Vec<f64>,
    d2: Vec<f64>,
    d1: Vec<f64>,
}

impl DecoderScratch {
    /// Buffers for `decoder`.
    pub fn new(decoder: &Decoder) -> DecoderScratch {
        DecoderScratch {
            h1: vec![0.0; decoder.w],
            h2: vec![0.0; decoder.w],
            o: vec![0.0; decoder.d],
            d2: vec![0.0; decoder.w],
            d1: vec![0.0; decoder.w],
        }
    }
}

fn matvec(m: &[f64], cols: usize, x: &[f64], bias: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        let row = &m[i * cols..(i + 1) * cols];
        *o = bias[i] + row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    }
}

/// `out = Mᵀ δ` for row-major `M` (`rows × cols`).
fn matvec_t(m: &[f64], cols: usize, delta: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for (i, &di) in delta.iter().enumerate() {
        let row = &m[i * cols..(i + 1) * cols];
        for (o, a) in out.iter_mut().zip(row) {
            *o += a * di;
        }
    }
}

/// `G += s · δ xᵀ`, `g_b += s · δ`.
fn outer_add(g: &mut [f64], gb: &mut [f64], cols: usize, delta: &[f64], x: &[f64], s: f64) {
    for (i, &di) in delta.iter().enumerate() {
        let sd = s * di;
        gb[i] += sd;
        for (gij, xj) in g[i * cols..(i + 1) * cols].iter_mut().zip(x) {
            *gij += sd * xj;
        }
    }
}

impl Decoder {
    /// Random initialisation: `W₁ ~ N(0, 1)` (one-hot inputs: unit-scale class embeddings),
    /// `W₂ ~ N(0, 1/w)`, `W₃ ~ N(0, 1/w)`, biases 0.
    ///
    /// # Errors
    /// [`Error::CountZero`] if `k`, the width `w` or `d` is 0.
    pub fn new<R: Rng + ?Sized>(
        k: usize,
        width: usize,
        d: usize,
        rng: &mut R,
    ) -> Result<Decoder, Error> {
        check_count(k, "number of classes k")?;
        check_count(width, "decoder width w")?;
        check_count(d, "data dimension d")?;
        let mut draw =
            |n: usize, s: f64| -> Vec<f64> { (0..n).map(|_| s * standard_normal(rng)).collect() };
        let s = 1.0 / (width as f64).sqrt();
        Ok(Decoder {
            k,
            w: width,
            d,
            w1: draw(width * k, 1.0),
            b1: vec![0.0; width],
            w2: draw(width * width, s),
            b2: vec![0.0; width],
            w3: draw(d * width, s),
            b3: vec![0.0; d],
        })
    }

    /// Number of classes `k` (the input size).
    pub fn classes(&self) -> usize {
        self.k
    }

    /// Hidden width `w`.
    pub fn width(&self) -> usize {
        self.w
    }

    /// Output dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// Forward pass only: `L(x, y)` (`y` has `k` entries, `x` has `d`).
    pub fn loss(&self, x: &[f64], y: &[f64], s: &mut DecoderScratch) -> f64 {
        matvec(&self.w1, self.k, y, &self.b1, &mut s.h1);
        s.h1.iter_mut().for_each(|h| *h = h.tanh());
        matvec(&self.w2, self.w, &s.h1, &self.b2, &mut s.h2);
        s.h2.iter_mut().for_each(|h| *h = h.tanh());
        matvec(&self.w3, self.w, &s.h2, &self.b3, &mut s.o);
        0.5 * s
            .o
            .iter()
            .zip(x)
            .map(|(o, xi)| (o - xi).powi(2))
            .sum::<f64>()
    }

    /// Forward and backward pass: returns `L(x, y)`, accumulates `weight · ∂L/∂θ` into `grads`
    /// and, if `grad_y` is given, writes `∂L/∂y` (unweighted) into it.
    pub fn loss_backward(
        &self,
        x: &[f64],
        y: &[f64],
        weight: f64,
        s: &mut DecoderScratch,
        grads: &mut DecoderGrads,
        grad_y: Option<&mut [f64]>,
    ) -> f64 {
        let loss = self.loss(x, y, s);
        // δo = o - x, kept in s.o.
        for (o, xi) in s.o.iter_mut().zip(x) {
            *o -= xi;
        }
        outer_add(&mut grads.w3, &mut grads.b3, self.w, &s.o, &s.h2, weight);
        matvec_t(&self.w3, self.w, &s.o, &mut s.d2);
        for (d, h) in s.d2.iter_mut().zip(&s.h2) {
            *d *= 1.0 - h * h;
        }
        outer_add(&mut grads.w2, &mut grads.b2, self.w, &s.d2, &s.h1, weight);
        matvec_t(&self.w2, self.w, &s.d2, &mut s.d1);
        for (d, h) in s.d1.iter_mut().zip(&s.h1) {
            *d *= 1.0 - h * h;
        }
        outer_add(&mut grads.w1, &mut grads.b1, self.k, &s.d1, y, weight);
        if let Some(gy) = grad_y {
            matvec_t(&self.w1, self.k, &s.d1, gy);
        }
        loss
    }

    #[cfg(test)]
    pub(crate) fn params_mut(&mut self) -> [&mut Vec<f64>; 6] {
        [
            &mut self.w1,
            &mut self.b1,
            &mut self.w2,
            &mut self.b2,
            &mut self.w3,
            &mut self.b3,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    /// Central differences with step 1e-6 have error O(h²·L''') + O(ε/h) ≈ 1e-9 here; 1e-6
    /// relative to the gradient's scale is far above that and far below a wrong factor or a
    /// missing `1 - h²`.
    const FD_TOL: f64 = 1e-6;
    const H: f64 = 1e-6;

    fn setup() -> (Decoder, Vec<f64>, Vec<f64>) {
        let mut rng = seeded(11);
        let dec = Decoder::new(4, 5, 3, &mut rng).unwrap();
        let x: Vec<f64> = (0..3).map(|_| standard_normal(&mut rng)).collect();
        // A soft class vector (interior of the simplex) so that ∂L/∂y is exercised generally.
        let y = vec![0.1, 0.5, 0.15, 0.25];
        (dec, x, y)
    }

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= FD_TOL * scale.max(1.0)
    }

    #[test]
    fn decoder_input_gradient_matches_finite_differences() {
        let (dec, x, y) = setup();
        let mut s = DecoderScratch::new(&dec);
        let mut g = DecoderGrads::zeros(&dec);
        let mut gy = vec![0.0; 4];
        dec.loss_backward(&x, &y, 1.0, &mut s, &mut g, Some(&mut gy));
        let scale = gy.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..4 {
            let (mut yp, mut ym) = (y.clone(), y.clone());
            yp[i] += H;
            ym[i] -= H;
            let fd = (dec.loss(&x, &yp, &mut s) - dec.loss(&x, &ym, &mut s)) / (2.0 * H);
            assert!(close(gy[i], fd, scale), "dL/dy_{i}: {} vs {fd}", gy[i]);
        }
    }

    #[test]
    fn decoder_parameter_gradients_match_finite_differences() {
        let (mut dec, x, y) = setup();
        let mut s = DecoderScratch::new(&dec);
        let mut g = DecoderGrads::zeros(&dec);
        // weight 2: the accumulated gradient is 2 ∂L/∂θ.
        dec.loss_backward(&x, &y, 2.0, &mut s, &mut g, None);
        let analytic = [
            g.w1.clone(),
            g.b1.clone(),
            g.w2.clone(),
            g.b2.clone(),
            g.w3.clone(),
            g.b3.clone(),
        ];
        for (p, grad) in analytic.iter().enumerate() {
            for (j, &analytic_j) in grad.iter().enumerate() {
                let orig = dec.params_mut()[p][j];
                dec.params_mut()[p][j] = orig + H;
                let lp = dec.loss(&x, &y, &mut s);
                dec.params_mut()[p][j] = orig - H;
                let lm = dec.loss(&x, &y, &mut s);
                dec.params_mut()[p][j] = orig;
                let fd = 2.0 * (lp - lm) / (2.0 * H);
                assert!(
                    close(analytic_j, fd, fd.abs()),
                    "param {p}[{j}]: {analytic_j} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn gradients_accumulate() {
        let (dec, x, y) = setup();
        let mut s = DecoderScratch::new(&dec);
        let mut once = DecoderGrads::zeros(&dec);
        dec.loss_backward(&x, &y, 1.0, &mut s, &mut once, None);
        let mut twice = DecoderGrads::zeros(&dec);
        dec.loss_backward(&x, &y, 0.5, &mut s, &mut twice, None);
        dec.loss_backward(&x, &y, 0.5, &mut s, &mut twice, None);
        for (a, b) in once.w1.iter().zip(&twice.w1) {
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0));
        }
        twice.clear();
        assert!(twice.w2.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn constructors_reject_zero_sizes() {
        let mut rng = seeded(0);
        assert!(matches!(
            Decoder::new(3, 0, 2, &mut rng),
            Err(Error::CountZero { .. })
        ));
        assert!(matches!(
            Encoder::new(0, 2, &mut rng),
            Err(Error::CountZero { .. })
        ));
        assert!(matches!(
            Mixture::generate(2, 2, 0, &mut rng),
            Err(Error::CountZero { .. })
        ));
    }

    #[test]
    fn encoder_is_affine() {
        let mut rng = seeded(3);
        let enc = Encoder::new(3, 2, &mut rng).unwrap();
        let mut a0 = vec![0.0; 3];
        let mut a1 = vec![0.0; 3];
        let mut a2 = vec![0.0; 3];
        enc.logits_into(&[0.0, 0.0], &mut a0);
        enc.logits_into(&[1.0, 0.0], &mut a1);
        enc.logits_into(&[2.0, 0.0], &mut a2);
        for i in 0..3 {
            assert_eq!(a0[i], 0.0);
            assert!((a2[i] - 2.0 * a1[i]).abs() < 1e-15);
        }
    }
}
