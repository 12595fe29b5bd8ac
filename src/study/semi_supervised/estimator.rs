//! Estimators of the unlabelled objective `U(x)` and of its gradient with respect to the
//! encoder's logits `a`, and one training step built on them.
//!
//! # Formulas
//! ```text
//! q = softmax(a),  H(q) = -Σ_y q_y ln q_y,  ∂H/∂a_j = -q_j (ln q_j + H)
//!
//! exact (k decoder passes):
//!   U(x) = H(q) - Σ_y q_y L(x, e_y)
//!   ∂U/∂a_j = q_j (f_j - Σ_y q_y f_y),   f_y = -ln q_y - L(x, e_y)
//!
//! Gumbel-Softmax (one decoder pass, at temperature τ):
//!   g_i ~ Gumbel(0, 1),  ŷ = softmax((a + g)/τ)
//!   Û = H(q) - L(x, ŷ)                                          (entropy kept exact)
//!   ∂Û/∂a_j = ∂H/∂a_j - (1/τ) ŷ_j (v_j - Σ_i ŷ_i v_i),   v = ∂L/∂y at ŷ
//!   E Û = U_τ(x) = H(q) - E_g L(x, ŷ): the relaxed objective, ≠ U(x) for τ > 0;
//!   E ∂Û/∂a = ∂U_τ/∂a (reparameterisation), biased for ∂U/∂a.
//!
//! straight-through (one decoder pass):
//!   y_h = onehot(argmax_i (a_i + g_i)) ~ Categorical(q)   (Gumbel-Max)
//!   Û = H(q) - L(x, y_h)                                  unbiased for U(x)
//!   ∂Û/∂a_j = ∂H/∂a_j - (1/τ) ŷ_j (v_j - Σ_i ŷ_i v_i),   v = ∂L/∂y at y_h   (biased)
//! ```
//!
//! A training step maximises
//! ```text
//! J = Σ_{labelled (x, y)} [ln q(y|x) - L(x, e_y)] + Σ_{unlabelled x} Û(x)
//! ```
//! (the M2 objective of Kingma et al. with classification weight 1 and without the latent `z`),
//! accumulating `∂J/∂θ` for every parameter of the encoder and the decoder. The labelled part
//! costs the same for every estimator: it is part of the "rest" `c₀` of the cost model.
//!
//! # References
//! - E. Jang, S. Gu, B. Poole, *Categorical Reparameterization with Gumbel-Softmax*, ICLR 2017,
//!   §4.3, <https://arxiv.org/abs/1611.01144>.
//! - D. P. Kingma, D. J. Rezende, S. Mohamed, M. Welling, *Semi-Supervised Learning with Deep
//!   Generative Models*, NeurIPS 2014, <https://arxiv.org/abs/1406.5298>.

use rand::Rng;

use super::model::{Decoder, DecoderGrads, DecoderScratch, Encoder, EncoderGrads};
use crate::distributions::Gumbel;
use crate::error::{Error, check_temperature};
use crate::numeric::{argmax, log_sum_exp};

/// How the sum over the `k` classes of `U(x)` is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// Marginalise over all `k` classes: `k` decoder passes, no noise.
    Exact,
    /// One relaxed Gumbel-Softmax sample `ŷ`: one decoder pass at a soft class vector.
    GumbelSoftmax,
    /// One hard Gumbel-Max sample in the forward pass, the Gumbel-Softmax Jacobian backward.
    StraightThrough,
}

impl Estimator {
    /// Short name used in CSV columns: `exact`, `gs`, `st`.
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Exact => "exact",
            Estimator::GumbelSoftmax => "gs",
            Estimator::StraightThrough => "st",
        }
    }
}

/// Encoder, decoder and the temperature `τ` of the relaxed estimators.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The encoder `q(y|x)`.
    pub encoder: Encoder,
    /// The decoder behind `L(x, y)`.
    pub decoder: Decoder,
    temperature: f64,
}

/// Gradients `∂J/∂θ` of a step, for every parameter.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Gradients {
    /// Encoder part.
    pub encoder: EncoderGrads,
    /// Decoder part.
    pub decoder: DecoderGrads,
}

impl Gradients {
    /// Zeros shaped like `model`.
    pub fn zeros(model: &Model) -> Gradients {
        Gradients {
            encoder: EncoderGrads::zeros(&model.encoder),
            decoder: DecoderGrads::zeros(&model.decoder),
        }
    }

    /// Sets every entry to 0.
    pub fn clear(&mut self) {
        self.encoder.clear();
        self.decoder.clear();
    }
}

/// Buffers reused across points, so that a step allocates nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    a: Vec<f64>,
    log_q: Vec<f64>,
    q: Vec<f64>,
    f: Vec<f64>,
    y: Vec<f64>,
    y_soft: Vec<f64>,
    grad_y: Vec<f64>,
    grad_a: Vec<f64>,
    scratch: DecoderScratch,
}

impl Workspace {
    /// Buffers for `model`.
    pub fn new(model: &Model) -> Workspace {
        let k = model.encoder.classes();
        Workspace {
            a: vec![0.0; k],
            log_q: vec![0.0; k],
            q: vec![0.0; k],
            f: vec![0.0; k],
            y: vec![0.0; k],
            y_soft: vec![0.0; k],
            grad_y: vec![0.0; k],
            grad_a: vec![0.0; k],
            scratch: DecoderScratch::new(&model.decoder),
        }
    }

    /// `∂Û/∂a` of the last unlabelled point (`∂U/∂a` for [`Estimator::Exact`]).
    pub fn grad_logits(&self) -> &[f64] {
        &self.grad_a
    }

    /// The encoder's logits `a` of the last point.
    pub fn logits(&self) -> &[f64] {
        &self.a
    }
}

/// A batch: unlabelled points and labelled `(point, class)` pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch<'a> {
    /// Unlabelled points.
    pub unlabelled: &'a [Vec<f64>],
    /// Labelled points.
    pub labelled: &'a [Vec<f64>],
    /// Classes of the labelled points.
    pub labels: &'a [usize],
}

impl Model {
    /// A model with the given parts and temperature `τ`.
    ///
    /// # Errors
    /// [`Error::WrongLength`] if the encoder's `k` differs from the decoder's, or its `d` from
    /// the decoder's output dimension; the temperature rules of
    /// [`crate::error::check_temperature`].
    pub fn new(encoder: Encoder, decoder: Decoder, temperature: f64) -> Result<Model, Error> {
        if encoder.classes() != decoder.classes() {
            return Err(Error::WrongLength {
                expected: encoder.classes(),
                found: decoder.classes(),
            });
        }
        if encoder.dim() != decoder.dim() {
            return Err(Error::WrongLength {
                expected: encoder.dim(),
                found: decoder.dim(),
            });
        }
        let temperature = check_temperature(temperature)?;
        Ok(Model {
            encoder,
            decoder,
            temperature,
        })
    }

    /// Temperature `τ`.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// Logits, `ln q` and `q` into the workspace; returns `H(q)`.
    fn encode(&self, x: &[f64], ws: &mut Workspace) -> f64 {
        self.encoder.logits_into(x, &mut ws.a);
        let lse = log_sum_exp(&ws.a);
        let mut h = 0.0;
        for ((lq, q), &a) in ws.log_q.iter_mut().zip(ws.q.iter_mut()).zip(&ws.a) {
            *lq = a - lse;
            *q = lq.exp();
            h -= *q * *lq;
        }
        h
    }

    /// One unlabelled point: returns the estimate `Û(x)` (the exact `U(x)` for
    /// [`Estimator::Exact`]), leaves `∂Û/∂a` in [`Workspace::grad_logits`] and accumulates
    /// `weight · ∂Û/∂θ` into `grads`. `x` must have the model's `d` entries; `rng` is used only by
    /// the sampled estimators (`k` Gumbel draws).
    pub fn unlabelled<R: Rng + ?Sized>(
        &self,
        x: &[f64],
        estimator: Estimator,
        rng: &mut R,
        ws: &mut Workspace,
        grads: &mut Gradients,
        weight: f64,
    ) -> f64 {
        let h = self.encode(x, ws);
        let value = match estimator {
            Estimator::Exact => {
                let mut expected_loss = 0.0;
                let mut f_mean = 0.0;
                ws.y.fill(0.0);
                for c in 0..ws.q.len() {
                    ws.y[c] = 1.0;
                    let l = self.decoder.loss_backward(
                        x,
                        &ws.y,
                        -weight * ws.q[c],
                        &mut ws.scratch,
                        &mut grads.decoder,
                        None,
                    );
                    ws.y[c] = 0.0;
                    expected_loss += ws.q[c] * l;
                    ws.f[c] = -ws.log_q[c] - l;
                    f_mean += ws.q[c] * ws.f[c];
                }
                for ((g, &q), &f) in ws.grad_a.iter_mut().zip(&ws.q).zip(&ws.f) {
                    *g = q * (f - f_mean);
                }
                h - expected_loss
            }
            Estimator::GumbelSoftmax | Estimator::StraightThrough => {
                let inv_tau = 1.0 / self.temperature;
                Gumbel::standard().sample_into(rng, &mut ws.y_soft);
                for (s, &a) in ws.y_soft.iter_mut().zip(&ws.a) {
                    *s = (a + *s) * inv_tau;
                }
                let hard = argmax(&ws.y_soft).unwrap_or(0);
                let lse = log_sum_exp(&ws.y_soft);
                for s in ws.y_soft.iter_mut() {
                    *s = (*s - lse).exp();
                }
                let input = if estimator == Estimator::GumbelSoftmax {
                    &ws.y_soft
                } else {
                    ws.y.fill(0.0);
                    ws.y[hard] = 1.0;
                    &ws.y
                };
                let l = self.decoder.loss_backward(
                    x,
                    input,
                    -weight,
                    &mut ws.scratch,
                    &mut grads.decoder,
                    Some(&mut ws.grad_y),
                );
                let yv: f64 = ws.y_soft.iter().zip(&ws.grad_y).map(|(y, v)| y * v).sum();
                for (((g, &y), &v), (&q, &lq)) in ws
                    .grad_a
                    .iter_mut()
                    .zip(&ws.y_soft)
                    .zip(&ws.grad_y)
                    .zip(ws.q.iter().zip(&ws.log_q))
                {
                    *g = -q * (lq + h) - inv_tau * y * (v - yv);
                }
                h - l
            }
        };
        self.encoder
            .backward(x, &ws.grad_a, weight, &mut grads.encoder);
        value
    }

    /// One labelled point: returns `ln q(y|x) - L(x, e_y)` and accumulates
    /// `weight · ∂/∂θ` of it into `grads`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] unless `label < k`.
    pub fn labelled(
        &self,
        x: &[f64],
        label: usize,
        ws: &mut Workspace,
        grads: &mut Gradients,
        weight: f64,
    ) -> Result<f64, Error> {
        let k = ws.q.len();
        if label >= k {
            return Err(Error::IndexOutOfRange { index: label, k });
        }
        self.encode(x, ws);
        ws.y.fill(0.0);
        ws.y[label] = 1.0;
        let l = self.decoder.loss_backward(
            x,
            &ws.y,
            -weight,
            &mut ws.scratch,
            &mut grads.decoder,
            None,
        );
        ws.y[label] = 0.0;
        // ∂ ln q_label / ∂a = e_label - q.
        for (j, (g, &q)) in ws.grad_a.iter_mut().zip(&ws.q).enumerate() {
            *g = if j == label { 1.0 - q } else { -q };
        }
        self.encoder
            .backward(x, &ws.grad_a, weight, &mut grads.encoder);
        Ok(ws.log_q[label] - l)
    }

    /// One training step: clears `grads`, then accumulates `∂J/∂θ` over the batch (weight 1 per
    /// point) and returns `J`. The parameter update (one axpy over the parameters, the same for
    /// every estimator) is left to the caller.
    ///
    /// # Errors
    /// [`Error::WrongLength`] if `labelled` and `labels` differ in length;
    /// [`Error::IndexOutOfRange`] for a label `≥ k`.
    pub fn step<R: Rng + ?Sized>(
        &self,
        batch: &Batch<'_>,
        estimator: Estimator,
        rng: &mut R,
        ws: &mut Workspace,
        grads: &mut Gradients,
    ) -> Result<f64, Error> {
        if batch.labelled.len() != batch.labels.len() {
            return Err(Error::WrongLength {
                expected: batch.labelled.len(),
                found: batch.labels.len(),
            });
        }
        grads.clear();
        let mut j = 0.0;
        for (x, &y) in batch.labelled.iter().zip(batch.labels) {
            j += self.labelled(x, y, ws, grads, 1.0)?;
        }
        for x in batch.unlabelled {
            j += self.unlabelled(x, estimator, rng, ws, grads, 1.0);
        }
        Ok(j)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;
    use crate::study::semi_supervised::model::standard_normal;

    const H: f64 = 1e-6;
    /// Central differences: truncation O(h²) and rounding O(ε/h) ≈ 1e-10 at these scales.
    const FD_TOL: f64 = 1e-6;

    fn model(k: usize, tau: f64) -> (Model, Vec<f64>) {
        let mut rng = seeded(21);
        let enc = Encoder::new(k, 3, &mut rng).unwrap();
        let dec = Decoder::new(k, 6, 3, &mut rng).unwrap();
        let x: Vec<f64> = (0..3).map(|_| 2.0 * standard_normal(&mut rng)).collect();
        (Model::new(enc, dec, tau).unwrap(), x)
    }

    /// The exact U as a function of the logits, written directly from its definition (not
    /// through the estimator's code path): `H(softmax a) - Σ q_y L(x, e_y)`.
    fn u_of_logits(m: &Model, x: &[f64], a: &[f64]) -> f64 {
        let k = a.len();
        let lse = log_sum_exp(a);
        let mut s = DecoderScratch::new(&m.decoder);
        let mut u = 0.0;
        for c in 0..k {
            let lq = a[c] - lse;
            let q = lq.exp();
            let mut e = vec![0.0; k];
            e[c] = 1.0;
            u += -q * lq - q * m.decoder.loss(x, &e, &mut s);
        }
        u
    }

    /// `H(softmax a) - L(x, softmax((a + g)/τ))` at fixed noise `g`: the single-sample relaxed
    /// objective, from its definition.
    fn relaxed_of_logits(m: &Model, x: &[f64], a: &[f64], g: &[f64]) -> f64 {
        let lse = log_sum_exp(a);
        let h: f64 = a.iter().map(|ai| -(ai - lse).exp() * (ai - lse)).sum();
        let s: Vec<f64> = a
            .iter()
            .zip(g)
            .map(|(ai, gi)| (ai + gi) / m.temperature())
            .collect();
        let ls = log_sum_exp(&s);
        let y: Vec<f64> = s.iter().map(|v| (v - ls).exp()).collect();
        h - m.decoder.loss(x, &y, &mut DecoderScratch::new(&m.decoder))
    }

    fn fd<F: Fn(&[f64]) -> f64>(f: F, a: &[f64], j: usize) -> f64 {
        let (mut p, mut n) = (a.to_vec(), a.to_vec());
        p[j] += H;
        n[j] -= H;
        (f(&p) - f(&n)) / (2.0 * H)
    }

    #[test]
    fn exact_gradient_matches_finite_differences() {
        let (m, x) = model(5, 0.7);
        let mut ws = Workspace::new(&m);
        let mut g = Gradients::zeros(&m);
        let u = m.unlabelled(&x, Estimator::Exact, &mut seeded(0), &mut ws, &mut g, 1.0);
        let a = ws.logits().to_vec();
        assert!((u - u_of_logits(&m, &x, &a)).abs() < 1e-12 * u.abs().max(1.0));
        for j in 0..5 {
            let want = fd(|b| u_of_logits(&m, &x, b), &a, j);
            let got = ws.grad_logits()[j];
            assert!(
                (got - want).abs() < FD_TOL * want.abs().max(1.0),
                "{j}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn gumbel_softmax_gradient_matches_finite_differences_at_fixed_noise() {
        let (m, x) = model(5, 0.7);
        let mut ws = Workspace::new(&m);
        let mut g = Gradients::zeros(&m);
        // Reproduce the noise the estimator draws: same seed, same draws.
        let mut noise = vec![0.0; 5];
        Gumbel::standard().sample_into(&mut seeded(4), &mut noise);
        let u = m.unlabelled(
            &x,
            Estimator::GumbelSoftmax,
            &mut seeded(4),
            &mut ws,
            &mut g,
            1.0,
        );
        let a = ws.logits().to_vec();
        let f = |b: &[f64]| relaxed_of_logits(&m, &x, b, &noise);
        assert!((u - f(&a)).abs() < 1e-12 * u.abs().max(1.0));
        for j in 0..5 {
            let want = fd(f, &a, j);
            let got = ws.grad_logits()[j];
            assert!(
                (got - want).abs() < FD_TOL * want.abs().max(1.0),
                "{j}: {got} vs {want}"
            );
        }
    }

    /// Straight-through's gradient is, by definition, the Gumbel-Softmax Jacobian applied to
    /// `∂L/∂y` at the hard sample; its value is `H - L(x, e_d)` with `d = argmax(a + g)`.
    #[test]
    fn straight_through_value_and_gradient() {
        let (m, x) = model(4, 0.5);
        let mut ws = Workspace::new(&m);
        let mut g = Gradients::zeros(&m);
        let mut noise = vec![0.0; 4];
        Gumbel::standard().sample_into(&mut seeded(9), &mut noise);
        let u = m.unlabelled(
            &x,
            Estimator::StraightThrough,
            &mut seeded(9),
            &mut ws,
            &mut g,
            1.0,
        );
        let a = ws.logits().to_vec();
        let z: Vec<f64> = a.iter().zip(&noise).map(|(ai, gi)| ai + gi).collect();
        let d = argmax(&z).unwrap();
        let mut e = vec![0.0; 4];
        e[d] = 1.0;
        let mut s = DecoderScratch::new(&m.decoder);
        let lse = log_sum_exp(&a);
        let h: f64 = a.iter().map(|ai| -(ai - lse).exp() * (ai - lse)).sum();
        assert!((u - (h - m.decoder.loss(&x, &e, &mut s))).abs() < 1e-12);
        // ∂/∂a of H(softmax a) - <∂L/∂y(e_d), softmax((a+g)/τ)>, by finite differences.
        let mut v = vec![0.0; 4];
        let mut scratch_grads = DecoderGrads::zeros(&m.decoder);
        m.decoder
            .loss_backward(&x, &e, 1.0, &mut s, &mut scratch_grads, Some(&mut v));
        let surrogate = |b: &[f64]| {
            let l = log_sum_exp(b);
            let h: f64 = b.iter().map(|bi| -(bi - l).exp() * (bi - l)).sum();
            let sc: Vec<f64> = b
                .iter()
                .zip(&noise)
                .map(|(bi, gi)| (bi + gi) / 0.5)
                .collect();
            let ls = log_sum_exp(&sc);
            h - sc
                .iter()
                .zip(&v)
                .map(|(si, vi)| (si - ls).exp() * vi)
                .sum::<f64>()
        };
        for j in 0..4 {
            let want = fd(surrogate, &a, j);
            let got = ws.grad_logits()[j];
            assert!(
                (got - want).abs() < FD_TOL * want.abs().max(1.0),
                "{j}: {got} vs {want}"
            );
        }
    }

    /// The whole step's encoder and decoder gradients against finite differences of `J`
    /// (exact estimator: `J` is deterministic), one labelled and one unlabelled point.
    #[test]
    fn step_parameter_gradients_match_finite_differences() {
        let (mut m, x) = model(3, 0.5);
        let x2: Vec<f64> = x.iter().map(|v| 0.5 - v).collect();
        let unl = vec![x.clone()];
        let lab = vec![x2];
        let labels = [2usize];
        let mut ws = Workspace::new(&m);
        let mut g = Gradients::zeros(&m);
        let j = |m: &Model, ws: &mut Workspace, g: &mut Gradients| {
            let batch = Batch {
                unlabelled: &unl,
                labelled: &lab,
                labels: &labels,
            };
            m.step(&batch, Estimator::Exact, &mut seeded(0), ws, g)
                .unwrap()
        };
        j(&m, &mut ws, &mut g);
        let analytic = g.clone();
        let mut g2 = Gradients::zeros(&m);
        // Decoder weights W₂ (index 2) and the encoder's V.
        for i in 0..m.decoder.params_mut()[2].len() {
            let orig = m.decoder.params_mut()[2][i];
            m.decoder.params_mut()[2][i] = orig + H;
            let p = j(&m, &mut ws, &mut g2);
            m.decoder.params_mut()[2][i] = orig - H;
            let n = j(&m, &mut ws, &mut g2);
            m.decoder.params_mut()[2][i] = orig;
            let want = (p - n) / (2.0 * H);
            let got = analytic.decoder.w2[i];
            assert!(
                (got - want).abs() < FD_TOL * want.abs().max(1.0),
                "W2[{i}]: {got} vs {want}"
            );
        }
        for i in 0..m.encoder.params_len() {
            let orig = m.encoder.param(i);
            m.encoder.set_param(i, orig + H);
            let p = j(&m, &mut ws, &mut g2);
            m.encoder.set_param(i, orig - H);
            let n = j(&m, &mut ws, &mut g2);
            m.encoder.set_param(i, orig);
            let want = (p - n) / (2.0 * H);
            let got = analytic.encoder.v[i];
            assert!(
                (got - want).abs() < FD_TOL * want.abs().max(1.0),
                "V[{i}]: {got} vs {want}"
            );
        }
    }

    #[test]
    fn rules() {
        let mut rng = seeded(1);
        let enc = Encoder::new(3, 2, &mut rng).unwrap();
        let dec = Decoder::new(4, 2, 2, &mut rng).unwrap();
        assert!(matches!(
            Model::new(enc.clone(), dec, 1.0),
            Err(Error::WrongLength { .. })
        ));
        let dec = Decoder::new(3, 2, 2, &mut rng).unwrap();
        assert!(matches!(
            Model::new(enc.clone(), dec.clone(), 0.0),
            Err(Error::TemperatureNotPositive { .. })
        ));
        let m = Model::new(enc, dec, 1.0).unwrap();
        let mut ws = Workspace::new(&m);
        let mut g = Gradients::zeros(&m);
        assert!(matches!(
            m.labelled(&[0.0, 0.0], 3, &mut ws, &mut g, 1.0),
            Err(Error::IndexOutOfRange { index: 3, k: 3 })
        ));
    }
}
