//! The built-in reference as a [`Target`]: every op of protocol v1 and the estimators
//! `reinforce`, `gumbel_softmax`, `straight_through` and `gumbel_rao`, computed by
//! [`crate::distributions`] and [`crate::grad`] from [`crate::rng::seeded`]`(S)`.
//!
//! # Formula
//! ```text
//! gumbel             g_j = -ln(-ln u_j),  u_j open uniforms           Gumbel::sample_into
//! categorical        argmax_i (l_i + g_i), g from the ziggurat        distributions::fast::gumbel_noise
//! relaxed_sample     softmax((l + g)/τ), hard: onehot(argmax(l + g))  Concrete::sample(_hard)
//! relaxed_log_prob   Maddison et al. density per row of y             Concrete::ln_pdf
//! binary_sample      σ((l + L)/τ)                                      BinaryConcrete::sample
//! binary_log_prob    binary Concrete density                          BinaryConcrete::ln_pdf
//! grad               n rows of the named estimator                    grad::GradientEstimator
//! token_sample       argmax_{i kept} (log_w_i + g_i) over the exact   tokens::TokenLaw
//!                    kept set (Gumbel-max in f64, g from the ziggurat),
//!                    or above 4,096 kept tokens the inverse CDF       InverseCdf
//! ```
//!
//! # Token samplers at vocabulary scale
//! Gumbel-max costs `m` noise values per draw over a kept set of `m` tokens: 2.6·10¹⁰ for the
//! 10⁵ draws of `tokens.vocab`'s 262,145-token case at deep. Above [`INVERSE_CDF_ABOVE`] kept
//! tokens the reference draws by the inverse CDF instead: `C_j = Σ_{i ≤ j} π_i` (f64, over the
//! kept tokens in the law's order), `u` an open uniform on `(0, 1)` times `C_m`, the token
//! `min{ j : C_j > u }` found by binary search: `O(log m)` per draw after an `O(m)` table, and
//! the same law as Gumbel-max (both are exact samplers of `π`) up to the rounding of `C`
//! (relative `m·ε_f64 ≈ 3·10⁻¹¹` at `m = 262,144`, far below what 10⁹ draws resolve). The
//! table of the last request is kept (keyed by everything but `n` and the seed), so the
//! chunks of one case build it once. At or below 4,096 kept tokens the sampler is Gumbel-max as
//! before, so the small cases keep their draws for a given seed.
//!
//! `categorical` takes its noise from the exact ziggurat of [`crate::distributions::fast`] in blocks
//! (several times faster than the inverse CDF at k = 100, which keeps the standard audit of
//! the reference within seconds); the other samplers are the sequential ones.
//!
//! # Invalid input
//! The reference validates with the library's own rules and answers
//! [`TargetError::Rejected`] with the rule's text ([`crate::Error`]'s `Display`): no
//! categories, a NaN or `+inf` logit, all logits `-inf`, `τ ≤ 0` or not finite, a density
//! point off the open simplex or outside `(0, 1)`, an objective of the wrong length, `gumbel_rao`
//! without `m` or with `m = 0`. `k = 1` is valid (every sample is the single vertex). Unknown
//! estimators are [`TargetError::Unsupported`].
//!
//! # Example
//! ```
//! use gumbel_audit::audit::{ReferenceTarget, Target, TargetError};
//! let mut r = ReferenceTarget::new();
//! let a = r.relaxed_sample(&[0.0, -1.0, 1.0], 0.5, false, 10, 7).unwrap();
//! assert_eq!(a.shape, vec![10, 3]);
//! assert_eq!(a, r.relaxed_sample(&[0.0, -1.0, 1.0], 0.5, false, 10, 7).unwrap());
//! assert!(matches!(r.relaxed_sample(&[0.0, 1.0], 0.0, false, 10, 7), Err(TargetError::Rejected(_))));
//! ```

use crate::audit::target::{
    Array, ArrayData, Capabilities, Dtype, GradRequest, ObjectiveSpec, Op, Target, TargetError,
    TokenRequest,
};
use crate::distributions::fast::gumbel_noise;
use crate::distributions::uniform::open_uniform;
use crate::distributions::{BinaryConcrete, Concrete, Gumbel, Logits};
use crate::error::Error;
use crate::grad::{
    Baseline, GradientEstimator, GumbelRao, GumbelSoftmax, Objective, Reinforce, StraightThrough,
};
use crate::rng::seeded;
use crate::tokens::{Order, TokenInput, TokenLaw, TokenParams};

/// The estimators the reference offers, in protocol spelling.
pub const REFERENCE_ESTIMATORS: [&str; 4] = [
    "reinforce",
    "gumbel_softmax",
    "straight_through",
    "gumbel_rao",
];

/// Kept-set size above which the reference's `token_sample` draws by the inverse CDF (module
/// doc, *Token samplers at vocabulary scale*).
pub const INVERSE_CDF_ABOVE: usize = 4096;

/// The reference implementation behind the [`Target`] trait (float64, every op).
#[derive(Debug, Clone, Default)]
pub struct ReferenceTarget {
    /// The inverse-CDF table of the last large `token_sample` request.
    token_table: Option<InverseCdf>,
}

impl ReferenceTarget {
    /// The reference target.
    pub fn new() -> Self {
        ReferenceTarget { token_table: None }
    }
}

/// The inverse-CDF table of one token law: the request it was built for (`n` and the seed
/// zeroed), the kept tokens and their f64 cumulative masses.
#[derive(Debug, Clone)]
struct InverseCdf {
    key: TokenRequest,
    kept: Vec<usize>,
    cumulative: Vec<f64>,
}

impl InverseCdf {
    fn key_of(request: &TokenRequest) -> TokenRequest {
        let mut key = request.clone();
        key.n = 0;
        key.seed = 0;
        key
    }

    /// Whether the table was built for `request` (every field but `n` and the seed).
    fn fits(&self, request: &TokenRequest) -> bool {
        let k = &self.key;
        k.logits == request.logits
            && k.temperature.to_bits() == request.temperature.to_bits()
            && k.top_k == request.top_k
            && k.top_p.map(f64::to_bits) == request.top_p.map(f64::to_bits)
            && k.min_p.map(f64::to_bits) == request.min_p.map(f64::to_bits)
            && k.order == request.order
    }

    fn new(request: &TokenRequest, law: &TokenLaw) -> Self {
        let kept = law.kept().to_vec();
        let mut acc = 0.0;
        let cumulative = kept
            .iter()
            .map(|&i| {
                acc += law.pmf()[i];
                acc
            })
            .collect();
        InverseCdf {
            key: Self::key_of(request),
            kept,
            cumulative,
        }
    }

    /// `n` draws: `min{ j : C_j > u·C_m }` for open uniforms `u`.
    fn draw(&self, n: usize, seed: u64) -> Vec<i64> {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let last = self.kept.len() - 1;
        let mut rng = seeded(seed);
        (0..n)
            .map(|_| {
                let u = open_uniform(&mut rng) * total;
                let j = self.cumulative.partition_point(|&c| c <= u).min(last);
                self.kept[j] as i64
            })
            .collect()
    }
}

fn rejected(e: Error) -> TargetError {
    TargetError::Rejected(e.to_string())
}

fn logits(values: &[f64]) -> Result<Logits, TargetError> {
    Logits::from_slice(values).map_err(rejected)
}

fn objective(spec: &ObjectiveSpec) -> Result<Objective, TargetError> {
    match spec {
        ObjectiveSpec::Linear(c) => Objective::linear(c.clone()),
        ObjectiveSpec::Quadratic(t) => Objective::quadratic(t.clone()),
    }
    .map_err(rejected)
}

fn rows_of(n: usize, k: usize, est: &dyn GradientEstimator, seed: u64) -> Array {
    let m = est.sample(n, seed);
    let mut out = Vec::with_capacity(n * k);
    for r in 0..n {
        for c in 0..k {
            out.push(m[(r, c)]);
        }
    }
    Array {
        shape: vec![n, k],
        data: ArrayData::F64(out),
    }
}

impl Target for ReferenceTarget {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(Capabilities::new(
            format!("gumbel-audit {} reference", env!("CARGO_PKG_VERSION")),
            Dtype::Float64,
            Op::ALL.to_vec(),
            REFERENCE_ESTIMATORS.iter().map(|s| s.to_string()).collect(),
        ))
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let mut out = vec![0.0; n];
        Gumbel::standard().sample_into(&mut seeded(seed), &mut out);
        Ok(Array::from_f64(out))
    }

    fn categorical(&mut self, l: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        let lg = logits(l)?;
        let c = lg.centered();
        let k = c.len();
        let mut rng = seeded(seed);
        let mut out = Vec::with_capacity(n);
        let rows_per_block = (4096 / k).max(1);
        let mut g = vec![0.0; rows_per_block * k];
        while out.len() < n {
            let rows = (n - out.len()).min(rows_per_block);
            let block = &mut g[..rows * k];
            gumbel_noise(&mut rng, block);
            for row in block.chunks_exact(k) {
                let (mut best, mut best_z) = (0usize, f64::NEG_INFINITY);
                for (i, (&ci, &gi)) in c.iter().zip(row).enumerate() {
                    let z = ci + gi;
                    if z > best_z {
                        (best, best_z) = (i, z);
                    }
                }
                out.push(best as i64);
            }
        }
        Ok(Array::from_i64(out))
    }

    fn relaxed_sample(
        &mut self,
        l: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let c = Concrete::new(logits(l)?, tau).map_err(rejected)?;
        let k = c.len();
        let mut rng = seeded(seed);
        let mut out = vec![0.0; n * k];
        for row in out.chunks_exact_mut(k) {
            if hard {
                row.copy_from_slice(&c.sample_hard(&mut rng));
            } else {
                c.sample_into(&mut rng, row);
            }
        }
        Array::from_f64_matrix(n, k, out)
    }

    fn relaxed_log_prob(&mut self, l: &[f64], tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        let c = Concrete::new(logits(l)?, tau).map_err(rejected)?;
        let k = c.len();
        if y.len() % k != 0 {
            return Err(rejected(Error::WrongLength {
                expected: y.len() - y.len() % k,
                found: y.len(),
            }));
        }
        let out = y
            .chunks_exact(k)
            .map(|row| c.ln_pdf(row))
            .collect::<Result<Vec<f64>, Error>>()
            .map_err(rejected)?;
        Ok(Array::from_f64(out))
    }

    fn binary_sample(
        &mut self,
        logit: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let b = BinaryConcrete::new(logit, tau).map_err(rejected)?;
        let mut rng = seeded(seed);
        Ok(Array::from_f64(
            (0..n).map(|_| b.sample(&mut rng)).collect(),
        ))
    }

    fn binary_log_prob(&mut self, logit: f64, tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        let b = BinaryConcrete::new(logit, tau).map_err(rejected)?;
        let out = y
            .iter()
            .map(|&x| b.ln_pdf(x))
            .collect::<Result<Vec<f64>, Error>>()
            .map_err(rejected)?;
        Ok(Array::from_f64(out))
    }

    fn grad(&mut self, request: &GradRequest) -> Result<Array, TargetError> {
        let l = logits(&request.logits)?;
        let k = l.len();
        let f = objective(&request.objective)?;
        let tau = request.tau;
        let (n, seed) = (request.n, request.seed);
        match request.estimator.as_str() {
            "reinforce" => {
                let e = Reinforce::new(l, f, Baseline::None).map_err(rejected)?;
                Ok(rows_of(n, k, &e, seed))
            }
            "gumbel_softmax" => {
                let e = GumbelSoftmax::new(l, tau, f).map_err(rejected)?;
                Ok(rows_of(n, k, &e, seed))
            }
            "straight_through" => {
                let e = StraightThrough::new(l, tau, f).map_err(rejected)?;
                Ok(rows_of(n, k, &e, seed))
            }
            "gumbel_rao" => {
                let m = request.m.ok_or_else(|| {
                    TargetError::Rejected("gumbel_rao needs the field m (conditional draws)".into())
                })?;
                let e = GumbelRao::new(l, tau, f, m).map_err(rejected)?;
                Ok(rows_of(n, k, &e, seed))
            }
            _ => Err(TargetError::Unsupported),
        }
    }

    fn token_sample(&mut self, request: &TokenRequest) -> Result<Array, TargetError> {
        if let Some(t) = self.token_table.as_ref().filter(|t| t.fits(request)) {
            return Ok(Array::from_i64(t.draw(request.n, request.seed)));
        }
        let input = TokenInput::logits(request.logits.clone()).map_err(rejected)?;
        let top_k = match request.top_k {
            None => None,
            Some(k) if k < 0 => {
                return Err(TargetError::Rejected(format!(
                    "top-k is {k}: it must be at least 1 (null for no top-k)"
                )));
            }
            Some(k) => Some(usize::try_from(k).unwrap_or(usize::MAX)),
        };
        let params = TokenParams::new(
            request.temperature,
            top_k,
            request.top_p.unwrap_or(1.0),
            request.min_p.unwrap_or(0.0),
        )
        .map_err(rejected)?;
        let order = match request.order.as_deref() {
            None => Order::Hf,
            Some(name) => Order::from_name(name).ok_or_else(|| {
                TargetError::Rejected(format!(
                    "unknown order {name:?}: the reference offers \"hf\" and \"vllm\""
                ))
            })?,
        };
        let law = TokenLaw::new(&input, &params, order).map_err(rejected)?;
        let kept = law.kept();
        if kept.len() > INVERSE_CDF_ABOVE {
            let t = InverseCdf::new(request, &law);
            let out = t.draw(request.n, request.seed);
            self.token_table = Some(t);
            return Ok(Array::from_i64(out));
        }
        let lw: Vec<f64> = kept.iter().map(|&i| law.log_weights()[i]).collect();
        let m = kept.len();
        let mut rng = seeded(request.seed);
        let mut out = Vec::with_capacity(request.n);
        let rows_per_block = (4096 / m).max(1);
        let mut g = vec![0.0; rows_per_block * m];
        while out.len() < request.n {
            let rows = (request.n - out.len()).min(rows_per_block);
            let block = &mut g[..rows * m];
            gumbel_noise(&mut rng, block);
            for row in block.chunks_exact(m) {
                let (mut best, mut best_z) = (0usize, f64::NEG_INFINITY);
                for (j, (&w, &gj)) in lw.iter().zip(row).enumerate() {
                    let z = w + gj;
                    if z > best_z {
                        (best, best_z) = (j, z);
                    }
                }
                out.push(kept[best] as i64);
            }
        }
        Ok(Array::from_i64(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_answers_with_the_documented_shape() {
        let mut r = ReferenceTarget::new();
        let caps = r.capabilities().unwrap();
        assert_eq!(caps.ops.len(), 8);
        assert_eq!(r.gumbel(5, 1).unwrap().shape, vec![5]);
        let c = r
            .categorical(&[0.0, f64::NEG_INFINITY, 1.0], 50, 2)
            .unwrap();
        assert_eq!(c.data.dtype_name(), "int64");
        assert!(c.to_f64().iter().all(|&v| v == 0.0 || v == 2.0));
        let h = r.relaxed_sample(&[0.0, 1.0, 2.0], 0.3, true, 4, 3).unwrap();
        for row in h.to_f64().chunks(3) {
            assert_eq!(row.iter().sum::<f64>(), 1.0);
            assert!(row.iter().all(|&v| v == 0.0 || v == 1.0));
        }
        let lp = r
            .relaxed_log_prob(&[0.0, 1.0], 0.5, &[0.3, 0.7, 0.5, 0.5])
            .unwrap();
        assert_eq!(lp.shape, vec![2]);
        assert!(r.binary_log_prob(0.3, 0.5, &[0.2, 0.9]).unwrap().to_f64()[1].is_finite());
        for est in REFERENCE_ESTIMATORS {
            let mut req = GradRequest::new(
                est,
                vec![0.0, 0.5, -0.5],
                0.5,
                ObjectiveSpec::Quadratic(vec![0.1, 0.2, 0.7]),
                6,
                9,
            );
            req.m = Some(3);
            let g = r.grad(&req).unwrap();
            assert_eq!(g.shape, vec![6, 3]);
            for row in g.to_f64().chunks(3) {
                assert!(row.iter().sum::<f64>().abs() < 1e-12, "{est}");
            }
        }
    }

    #[test]
    fn invalid_input_is_rejected_with_the_rule() {
        let mut r = ReferenceTarget::new();
        let msg = |e: TargetError| match e {
            TargetError::Rejected(m) => m,
            other => panic!("{other:?}"),
        };
        let m = msg(r
            .relaxed_sample(&[0.0, 1.0], -1.0, false, 3, 1)
            .unwrap_err());
        assert!(m.contains("positive"), "{m}");
        let m = msg(r.categorical(&[0.0, f64::NAN], 3, 1).unwrap_err());
        assert!(m.contains("finite or -inf"), "{m}");
        let m = msg(r.categorical(&[f64::NEG_INFINITY; 2], 3, 1).unwrap_err());
        assert!(m.contains("all logits"), "{m}");
        assert!(matches!(
            r.categorical(&[], 3, 1),
            Err(TargetError::Rejected(_))
        ));
        let mut req = GradRequest::new(
            "gumbel_rao",
            vec![0.0, 1.0],
            0.5,
            ObjectiveSpec::Linear(vec![1.0, 0.0]),
            2,
            1,
        );
        assert!(matches!(r.grad(&req), Err(TargetError::Rejected(_))));
        req.estimator = "rebar".into();
        assert_eq!(r.grad(&req), Err(TargetError::Unsupported));
        // k = 1 is valid: the single vertex.
        let one = r.relaxed_sample(&[0.3], 0.5, false, 3, 1).unwrap();
        assert_eq!(one.to_f64(), vec![1.0; 3]);
    }

    #[test]
    fn large_kept_sets_draw_by_the_inverse_cdf_the_same_with_or_without_the_table() {
        // 20,000 Zipf tokens, top-p 0.9 (about 7,000 kept: above INVERSE_CDF_ABOVE): the draws of a fresh target equal
        // those of a target holding the table, every draw is kept, and the head is drawn at
        // about its probability.
        let logits: Vec<f64> = (0..20_000).map(|i| -((i + 1) as f64).ln()).collect();
        let mut req = TokenRequest::new(logits, 1.0, 20_000, 3);
        req.top_p = Some(0.9);
        let mut warm = ReferenceTarget::new();
        warm.token_sample(&TokenRequest {
            seed: 9,
            ..req.clone()
        })
        .unwrap();
        assert!(warm.token_table.is_some());
        let a = warm.token_sample(&req).unwrap();
        assert_eq!(a, ReferenceTarget::new().token_sample(&req).unwrap());
        let law = TokenLaw::new(
            &TokenInput::logits(req.logits.clone()).unwrap(),
            &TokenParams::new(1.0, None, 0.9, 0.0).unwrap(),
            Order::Hf,
        )
        .unwrap();
        assert!(law.kept().len() > INVERSE_CDF_ABOVE);
        let ArrayData::I64(d) = a.data else { panic!() };
        assert!(d.iter().all(|&i| law.contains(i as usize)));
        let head = d.iter().filter(|&&i| i == 0).count() as f64;
        let p0 = law.pmf()[0];
        // 6 standard deviations of Binomial(20,000, p0)
        let sd = (20_000.0 * p0 * (1.0 - p0)).sqrt();
        assert!(
            (head - 20_000.0 * p0).abs() < 6.0 * sd,
            "{head} vs {}",
            20_000.0 * p0
        );
        // another law replaces the table
        req.top_p = Some(0.95);
        let b = warm.token_sample(&req).unwrap();
        assert_eq!(b, ReferenceTarget::new().token_sample(&req).unwrap());
    }

    #[test]
    fn token_sample_draws_inside_the_kept_set_and_names_broken_rules() {
        let mut r = ReferenceTarget::new();
        let mut req = TokenRequest::new(vec![1.0, 0.0, 0.0, 0.0, -1.0], 1.0, 2000, 5);
        req.top_p = Some(0.7);
        let a = r.token_sample(&req).unwrap();
        assert_eq!(
            (a.shape.clone(), a.data.dtype_name()),
            (vec![2000], "int64")
        );
        let ids = a.to_f64();
        assert!(ids.iter().all(|&i| i == 0.0 || i == 1.0 || i == 2.0));
        assert!(ids.contains(&2.0), "the crossing token is drawn");
        let msg = |req: &TokenRequest, r: &mut ReferenceTarget| match r.token_sample(req) {
            Err(TargetError::Rejected(m)) => m,
            other => panic!("{other:?}"),
        };
        let mut bad = req.clone();
        bad.top_p = Some(1.5);
        assert!(msg(&bad, &mut r).contains("top-p"));
        let mut bad = req.clone();
        bad.top_k = Some(-1);
        assert!(msg(&bad, &mut r).contains("top-k is -1"));
        let mut bad = req.clone();
        bad.temperature = 0.0;
        assert!(msg(&bad, &mut r).contains("positive"));
        let mut bad = req.clone();
        bad.order = Some("sglang".into());
        assert!(msg(&bad, &mut r).contains("unknown order"));
        let mut bad = req;
        bad.logits = vec![f64::NEG_INFINITY; 3];
        assert!(msg(&bad, &mut r).contains("all logits"));
    }
}
