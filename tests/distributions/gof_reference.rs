//! Goodness of fit of the reference samplers against exact laws (issue 3, docs/design/math.md §2), and the
//! power of each check against four realistic planted bugs at the same sample size.
//!
//! Each check is written once, over an [`Impl`] (how noise is made, what the sampler is given as
//! logits, where τ is applied), and returns its p-value(s). The reference runs through the
//! library's own samplers; the planted bugs are written out here:
//! - `ExpNoise`: noise `-ln u` instead of `-ln(-ln u)`;
//! - `TauOnLogits`: `softmax(l/τ + g)`, τ applied to the logits but not the noise;
//! - `ProbsAsLogits`: the probabilities `π` passed where logits are expected;
//! - `Clamped`: uniforms clamped to `[1e-7, 0.999]` before the Gumbel transform (noise can never
//!   exceed 6.9, so rare categories are starved).
//!
//! Every check runs at `α = 10⁻³` per p-value (split by Holm where one check has several); its
//! doc states `n` and the smallest discrepancy it detects. One fixed seed per check.

use gumbel_audit::distributions::gumbel::STANDARD_NOISE_MAX;
use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::distributions::{BinaryConcrete, Categorical, Concrete, Gumbel, Logits};
use gumbel_audit::numeric::{argmax, log_sum_exp, sigmoid};
use gumbel_audit::rng::{ChaCha8Rng, seeded};
use gumbel_audit::stats::{
    Alternative, EnergyOptions, anderson_darling_dist, binomial_test, chi2_detectable_w,
    dkwm_detectable_discrepancy, energy_test, holm, ks_one_sample, pearson_chi2,
};

const ALPHA: f64 = 1e-3;
/// Detectable effects at power 0.999 quoted in the check docs (asserted below).
const W_TOP_K: f64 = 0.019;
const W_ARGMAX: f64 = 0.015;
const D_LOG_RATIO: f64 = 0.0126;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Impl {
    Reference,
    ExpNoise,
    TauOnLogits,
    ProbsAsLogits,
    Clamped,
}

impl Impl {
    fn noise(self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Impl::Reference | Impl::TauOnLogits | Impl::ProbsAsLogits => {
                Gumbel::standard().sample(rng)
            }
            Impl::ExpNoise => -open_uniform(rng).ln(),
            Impl::Clamped => -(-open_uniform(rng).clamp(1e-7, 0.999).ln()).ln(),
        }
    }

    fn given_logits(self, l: &[f64]) -> Vec<f64> {
        if self == Impl::ProbsAsLogits {
            Logits::from_slice(l).unwrap().probs()
        } else {
            l.to_vec()
        }
    }

    /// `z = l + g` as the implementation forms it (before any temperature).
    fn scores(self, l: &[f64], rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.given_logits(l)
            .iter()
            .map(|v| v + self.noise(rng))
            .collect()
    }

    fn categorical(self, l: &[f64], rng: &mut ChaCha8Rng) -> usize {
        if self == Impl::Reference {
            return Categorical::new(Logits::from_slice(l).unwrap()).sample(rng);
        }
        argmax(&self.scores(l, rng)).unwrap()
    }

    /// `ln y` of one relaxed sample.
    fn log_relaxed(self, l: &[f64], tau: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
        if self == Impl::Reference {
            let c = Concrete::new(Logits::from_slice(l).unwrap(), tau).unwrap();
            let noise: Vec<f64> = (0..l.len()).map(|_| self.noise(rng)).collect();
            return c.log_from_noise(&noise).unwrap();
        }
        let s: Vec<f64> = if self == Impl::TauOnLogits {
            let g: Vec<f64> = (0..l.len()).map(|_| self.noise(rng)).collect();
            self.given_logits(l)
                .iter()
                .zip(&g)
                .map(|(v, g)| v / tau + g)
                .collect()
        } else {
            self.scores(l, rng).iter().map(|v| v / tau).collect()
        };
        let lse = log_sum_exp(&s);
        s.iter().map(|v| v - lse).collect()
    }

    fn binary(self, logit: f64, tau: f64, rng: &mut ChaCha8Rng) -> f64 {
        if self == Impl::Reference {
            return BinaryConcrete::new(logit, tau).unwrap().sample(rng);
        }
        let y = self.log_relaxed(&[logit, 0.0], tau, rng);
        y[0].exp()
    }
}

fn counts(k: usize, draws: impl Iterator<Item = usize>) -> Vec<u64> {
    let mut c = vec![0u64; k];
    for d in draws {
        c[d] += 1;
    }
    c
}

/// Noise against the Gumbel CDF: KS and Anderson-Darling, n = 10⁶, Holm over the two at α.
/// DKWM detects a CDF discrepancy of `dkwm_detectable_discrepancy(1e-3, 0.999, 1e6)` ≈ 0.0038
/// (KS is sharper in practice; AD adds tail sensitivity).
fn noise_cdf_check(imp: Impl) -> f64 {
    let mut rng = seeded(11);
    let data: Vec<f64> = (0..1_000_000).map(|_| imp.noise(&mut rng)).collect();
    let g = Gumbel::standard();
    let ks = ks_one_sample(&data, |x| g.cdf(x)).unwrap().p_value;
    let ad = anderson_darling_dist(&data, &g).unwrap().p_value;
    holm(&[ks, ad], ALPHA)
        .unwrap()
        .adjusted
        .into_iter()
        .fold(1.0, f64::min)
}

/// Far upper tail: the number of n = 10⁷ draws beyond the `1 - 10⁻⁶` quantile (expected 10)
/// against Binomial(n, 10⁻⁶), two-sided exact test at α. Detects a tail with no mass there
/// (P(0 | 10) = 4.5e-5) or more than about 2.6 times the mass.
fn noise_tail_check(imp: Impl) -> f64 {
    let n = 10_000_000u64;
    let q = Gumbel::standard().isf(1e-6).unwrap();
    let mut rng = seeded(12);
    let k = (0..n).filter(|_| imp.noise(&mut rng) > q).count() as u64;
    binomial_test(k, n, 1e-6, Alternative::TwoSided)
        .unwrap()
        .p_value
}

/// The logit vectors of the categorical checks.
fn categorical_cases() -> Vec<(&'static str, Vec<f64>)> {
    let rare = (1e-4f64 / (1.0 - 1e-4) * 2.0).ln(); // π ≈ 1e-4 beside two logits 0
    vec![
        ("uniform", vec![0.0; 5]),
        ("skewed", vec![2.0, 1.0, 0.0, -1.0, -3.0]),
        ("rare", vec![0.0, 0.0, rare]),
        (
            "masked",
            vec![0.5, f64::NEG_INFINITY, -0.5, f64::NEG_INFINITY],
        ),
        // n = 5·10⁴ for this case (expectation ≈ 50 per cell) to bound the run time.
        (
            "k=1000",
            (0..1000).map(|i| (i as f64 * 0.37).sin()).collect(),
        ),
    ]
}

/// Gumbel-Max against π: Pearson chi-squared (pooling cells with expectation < 5), n = 10⁶ per
/// case (5·10⁴ at k = 1000), five cases, Holm at α over the five. At df = 4 the detectable effect at power 0.999 is
/// `chi2_detectable_w(1e-3, 0.999, 4, 1e6)` ≈ 0.0063 (Cohen's w); the rare cell has expectation
/// 100. A count in a masked cell is an immediate failure (p = 0).
fn categorical_check(imp: Impl) -> f64 {
    let mut ps = Vec::new();
    for (j, (_, l)) in categorical_cases().into_iter().enumerate() {
        let mut rng = seeded(20 + j as u64);
        let probs = Logits::from_slice(&l).unwrap().probs();
        let n = if l.len() > 100 { 50_000 } else { 1_000_000 };
        let c = counts(l.len(), (0..n).map(|_| imp.categorical(&l, &mut rng)));
        ps.push(pearson_chi2(&c, &probs).unwrap().p_value);
    }
    holm(&ps, ALPHA)
        .unwrap()
        .adjusted
        .into_iter()
        .fold(1.0, f64::min)
}

/// Gumbel-top-2 against Plackett-Luce: the 20 ordered pairs of k = 5 categories, n = 2·10⁵,
/// chi-squared at α (df = 19; detectable w ≈ 0.019 at power 0.999).
fn top_k_check(imp: Impl) -> f64 {
    let l = [1.0, 0.5, 0.0, -0.5, -2.0];
    let cat = Categorical::new(Logits::from_slice(&l).unwrap());
    let mut pairs = Vec::new();
    for a in 0..5 {
        for b in 0..5 {
            if a != b {
                pairs.push((a, b));
            }
        }
    }
    let probs: Vec<f64> = pairs
        .iter()
        .map(|&(a, b)| cat.ln_prob_ordered(&[a, b]).unwrap().exp())
        .collect();
    let mut rng = seeded(30);
    let draws = (0..200_000).map(|_| {
        let (a, b) = if imp == Impl::Reference {
            let d = cat.sample_top_k(&mut rng, 2).unwrap();
            (d[0], d[1])
        } else {
            let z = imp.scores(&l, &mut rng);
            let a = argmax(&z).unwrap();
            let mut z2 = z.clone();
            z2[a] = f64::NEG_INFINITY;
            (a, argmax(&z2).unwrap())
        };
        pairs.iter().position(|&p| p == (a, b)).unwrap()
    });
    let c = counts(pairs.len(), draws);
    pearson_chi2(&c, &probs).unwrap().p_value
}

const CONCRETE_LOGITS: [f64; 3] = [1.0, 0.0, -1.0];

/// Argmax of relaxed samples against π at τ ∈ {0.01, 0.1, 1, 10} (docs/design/math.md §2 fact 1), n = 2·10⁵
/// each, chi-squared, Holm at α over the four. df = 2: detectable w ≈ 0.015 at power 0.999
/// (at α; Holm's first step uses α/4, a little less power).
fn concrete_argmax_check(imp: Impl) -> f64 {
    let probs = Logits::from_slice(&CONCRETE_LOGITS).unwrap().probs();
    let mut ps = Vec::new();
    for (j, tau) in [0.01, 0.1, 1.0, 10.0].into_iter().enumerate() {
        let mut rng = seeded(40 + j as u64);
        let c = counts(
            3,
            (0..200_000)
                .map(|_| argmax(&imp.log_relaxed(&CONCRETE_LOGITS, tau, &mut rng)).unwrap()),
        );
        ps.push(pearson_chi2(&c, &probs).unwrap().p_value);
    }
    holm(&ps, ALPHA)
        .unwrap()
        .adjusted
        .into_iter()
        .fold(1.0, f64::min)
}

/// Pairwise log-ratios (docs/design/math.md §2 fact 2): `ln(y_0/y_1) ~ Logistic((l_0 - l_1)/τ, 1/τ)` and
/// `ln(y_0/y_2) ~ Logistic((l_0 - l_2)/τ, 1/τ)`, τ ∈ {0.1, 1}, KS with n = 10⁵ each (computed in
/// log space, so nothing underflows), Holm at α over the four. Detects a CDF discrepancy of
/// ≈ 0.0126 (DKWM at α/4, power 0.999).
fn log_ratio_check(imp: Impl) -> f64 {
    let mut ps = Vec::new();
    for (j, tau) in [0.1, 1.0].into_iter().enumerate() {
        let mut rng = seeded(50 + j as u64);
        let rows: Vec<Vec<f64>> = (0..100_000)
            .map(|_| imp.log_relaxed(&CONCRETE_LOGITS, tau, &mut rng))
            .collect();
        for other in [1usize, 2] {
            let data: Vec<f64> = rows.iter().map(|r| r[0] - r[other]).collect();
            let loc = (CONCRETE_LOGITS[0] - CONCRETE_LOGITS[other]) / tau;
            ps.push(
                ks_one_sample(&data, |x| sigmoid((x - loc) * tau))
                    .unwrap()
                    .p_value,
            );
        }
    }
    holm(&ps, ALPHA)
        .unwrap()
        .adjusted
        .into_iter()
        .fold(1.0, f64::min)
}

/// Max of `l + g` (docs/design/math.md §2 fact 4): Gumbel(logsumexp l), independent of the argmax. n = 3·10⁵
/// draws of `z`; KS of all maxima against Gumbel(lse l), and KS of the maxima within each argmax
/// group against the same law (independence: each conditional law equals the marginal); Holm at
/// α over the four. Detects a CDF discrepancy of ≈ 0.0073 overall and 0.009-0.025 per group
/// (DKWM at α/4, power 0.999; group sizes ≈ 3·10⁵·π_i).
fn max_check(imp: Impl) -> f64 {
    let l = CONCRETE_LOGITS;
    let target = Gumbel::new(log_sum_exp(&l), 1.0).unwrap();
    let mut rng = seeded(60);
    let mut all = Vec::new();
    let mut groups = vec![Vec::new(); 3];
    for _ in 0..300_000 {
        let z = imp.scores(&l, &mut rng);
        let a = argmax(&z).unwrap();
        all.push(z[a]);
        groups[a].push(z[a]);
    }
    let mut ps = vec![ks_one_sample(&all, |x| target.cdf(x)).unwrap().p_value];
    for g in &groups {
        ps.push(ks_one_sample(g, |x| target.cdf(x)).unwrap().p_value);
    }
    holm(&ps, ALPHA)
        .unwrap()
        .adjusted
        .into_iter()
        .fold(1.0, f64::min)
}

/// Binary Concrete against its closed-form CDF `σ(τ logit(x) - l)`, l = 0.7, τ = 0.5, KS with
/// n = 10⁵ at α. Detects a CDF discrepancy of ≈ 0.012 (DKWM, power 0.999).
fn binary_check(imp: Impl) -> f64 {
    let (l, tau) = (0.7, 0.5);
    let b = BinaryConcrete::new(l, tau).unwrap();
    let mut rng = seeded(70);
    let data: Vec<f64> = (0..100_000).map(|_| imp.binary(l, tau, &mut rng)).collect();
    ks_one_sample(&data, |x| {
        if x <= 0.0 {
            0.0
        } else if x >= 1.0 {
            1.0
        } else {
            b.cdf(x).unwrap()
        }
    })
    .unwrap()
    .p_value
}

#[test]
fn detectable_discrepancies_are_as_documented() {
    // The rare case really has a category at p = 1e-4 (expectation 100 at n = 10⁶).
    let rare = &categorical_cases()[2].1;
    let p_rare = Logits::from_slice(rare).unwrap().probs()[2];
    assert!((p_rare - 1e-4).abs() < 1e-15, "{p_rare}");
    let d = dkwm_detectable_discrepancy(ALPHA, 0.999, 1_000_000).unwrap();
    assert!((d - 0.0038).abs() < 1e-4, "{d}");
    let w = chi2_detectable_w(ALPHA, 0.999, 4.0, 1e6).unwrap();
    assert!((w - 0.0071).abs() < 1e-4, "{w}");
    let w = chi2_detectable_w(ALPHA, 0.999, 19.0, 2e5).unwrap();
    assert!((w - W_TOP_K).abs() < 1e-3, "{w}");
    let w = chi2_detectable_w(ALPHA, 0.999, 2.0, 2e5).unwrap();
    assert!((w - W_ARGMAX).abs() < 1e-3, "{w}");
    let d = dkwm_detectable_discrepancy(ALPHA / 4.0, 0.999, 100_000).unwrap();
    assert!((d - D_LOG_RATIO).abs() < 1e-3, "{d}");
}

/// Runs a check on the reference (must pass at α) and on the bugs it is meant to catch (each
/// must fail at α, same n and seed).
fn assert_check(name: &str, check: fn(Impl) -> f64, catches: &[Impl]) {
    let p = check(Impl::Reference);
    assert!(p >= ALPHA, "{name}: reference fails, p = {p}");
    for &bug in catches {
        let p = check(bug);
        assert!(p < ALPHA, "{name}: planted bug {bug:?} not caught, p = {p}");
    }
}

#[test]
fn noise_follows_the_gumbel_cdf() {
    // Clamped noise differs from the Gumbel by at most 1e-3 in CDF: beyond KS/AD at this n,
    // which is why the tail check exists.
    assert_check("noise cdf", noise_cdf_check, &[Impl::ExpNoise]);
}

#[test]
fn noise_has_its_far_upper_tail() {
    // Not ExpNoise: `-ln u` has the same exponential upper tail as the Gumbel (S(x) ≈ e^-x), so
    // the tail count cannot tell them apart; the CDF check catches it.
    assert_check("noise tail", noise_tail_check, &[Impl::Clamped]);
    assert!(STANDARD_NOISE_MAX > Gumbel::standard().isf(1e-6).unwrap());
}

#[test]
fn gumbel_max_follows_pi() {
    assert_check(
        "gumbel-max",
        categorical_check,
        &[Impl::ExpNoise, Impl::ProbsAsLogits, Impl::Clamped],
    );
}

#[test]
fn gumbel_top_k_follows_plackett_luce() {
    assert_check("top-k", top_k_check, &[Impl::ExpNoise, Impl::ProbsAsLogits]);
}

#[test]
fn concrete_argmax_follows_pi_at_every_temperature() {
    assert_check(
        "concrete argmax",
        concrete_argmax_check,
        &[Impl::ExpNoise, Impl::TauOnLogits, Impl::ProbsAsLogits],
    );
}

#[test]
fn concrete_log_ratios_are_logistic() {
    assert_check(
        "log-ratios",
        log_ratio_check,
        &[Impl::ExpNoise, Impl::TauOnLogits, Impl::ProbsAsLogits],
    );
}

#[test]
fn max_is_gumbel_of_logsumexp_and_independent_of_argmax() {
    assert_check("max", max_check, &[Impl::ExpNoise, Impl::ProbsAsLogits]);
}

#[test]
fn binary_concrete_follows_its_cdf() {
    assert_check(
        "binary",
        binary_check,
        &[Impl::ExpNoise, Impl::TauOnLogits, Impl::ProbsAsLogits],
    );
}

/// A second, independently written sampler (the batch sampler: ziggurat noise, own `exp`
/// kernel, src/distributions/fast.rs) agrees with `Concrete::sample` in distribution: energy test on
/// 2000 rows per side (subsampled to 500), B = 1999 permutations (so p can go below α = 10⁻³),
/// at α. Against the τ-on-logits bug fed through the same test, it rejects.
#[test]
fn batch_sampler_agrees_with_reference_in_distribution() {
    let tau = 0.5;
    let c = Concrete::new(Logits::from_slice(&CONCRETE_LOGITS).unwrap(), tau).unwrap();
    let mut rng = seeded(80);
    let a: Vec<Vec<f64>> = (0..2000).map(|_| c.sample(&mut rng)).collect();
    let flat = c.sample_batch(&mut seeded(81), 2000);
    let b: Vec<Vec<f64>> = flat.chunks(3).map(|r| r.to_vec()).collect();
    let opts = EnergyOptions::new(1999, 500, 82).unwrap();
    let p = energy_test(&a, &b, &opts).unwrap().p_value;
    assert!(p >= ALPHA, "batch vs reference: p = {p}");
    let mut rng = seeded(83);
    let bug: Vec<Vec<f64>> = (0..2000)
        .map(|_| {
            Impl::TauOnLogits
                .log_relaxed(&CONCRETE_LOGITS, tau, &mut rng)
                .iter()
                .map(|v| v.exp())
                .collect()
        })
        .collect();
    let p = energy_test(&a, &bug, &opts).unwrap().p_value;
    assert!(
        p < ALPHA,
        "τ-on-logits bug not caught by the energy test: p = {p}"
    );
}
