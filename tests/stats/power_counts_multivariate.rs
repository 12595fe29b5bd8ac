//! Power of the chi-squared, G, binomial, Hotelling, energy and DKWM checks: each is SEEN TO
//! FAIL on a realistic planted bug at a stated sample size, and passes on the correct sampler
//! at the same size. One fixed seed per case (never re-rolled).
//!
//! Each test states its false-alarm rate `α`, its sample size `n` and the smallest
//! discrepancy it detects (from the closed-form power calculations of `gumbel_audit::stats`
//! where one exists, otherwise measured). The buggy samplers are written here, from the
//! crate's open uniforms, next to the bug they plant.
//! Run with `cargo test --release --test stats power_counts_multivariate::`: about 2 s.

use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::distributions::{Categorical, Concrete, Gumbel, Logits};
use gumbel_audit::rng::seeded;
use gumbel_audit::stats::{
    Alternative, Coordinates, EnergyOptions, GofResult, binomial_test, chi2_detectable_w,
    chi2_power, cohen_w, dkwm_detectable_discrepancy, dkwm_sample_size, dkwm_test, energy_test,
    g_test, hotelling_one_sample, pearson_chi2,
};
use rand::Rng;
use statrs::distribution::{Binomial, Discrete};

use crate::gaussian::gaussian_rows;

/// Standard Gumbel noise `-ln(-ln u)`, the correct transform.
fn gumbel<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -(-open_uniform(rng).ln()).ln()
}

fn softmax(x: &[f64]) -> Vec<f64> {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

fn counts_of(cat: &Categorical, n: usize, seed: u64) -> Vec<u64> {
    let mut rng = seeded(seed);
    let mut c = vec![0u64; cat.len()];
    for _ in 0..n {
        c[cat.sample(&mut rng)] += 1;
    }
    c
}

/// Bug: probabilities passed where logits are expected (`Categorical(softmax(π))` sampled
/// instead of `Categorical(π)`), π = softmax(1, 0.5, 0, -0.5, -1).
/// α = 1e-6, n = 300 draws, k = 5 (df = 4, no pooling: smallest E = 24). The bug's effect is
/// w = cohen_w(softmax(π), π) = 0.62; the smallest w detected with power 0.999 at this n is
/// `chi2_detectable_w(1e-6, 0.999, 4, 300)` = 0.50 (printed), below the bug's w.
#[test]
fn chi2_and_g_detect_probabilities_passed_as_logits() {
    let logits = [1.0, 0.5, 0.0, -0.5, -1.0];
    let pi = softmax(&logits);
    let (alpha, n) = (1e-6, 300);
    let w = cohen_w(&softmax(&pi), &pi).unwrap();
    let power = chi2_power(alpha, 4.0, n as f64, w).unwrap();
    let w_min = chi2_detectable_w(alpha, 0.999, 4.0, n as f64).unwrap();
    println!("probs-as-logits: w = {w:.4}, power at n = {n}: {power:.6}, w_min = {w_min:.4}");
    assert!(w_min < w);
    assert!(
        power >= 0.999,
        "n = {n} too small for w = {w}: power {power}"
    );

    let correct = Categorical::new(Logits::from_slice(&logits).unwrap());
    let buggy = Categorical::new(Logits::from_slice(&pi).unwrap());
    let good = counts_of(&correct, n, 11);
    let bad = counts_of(&buggy, n, 12);
    type Test = fn(&[u64], &[f64]) -> Result<GofResult, gumbel_audit::Error>;
    let tests: [(&str, Test); 2] = [("X2", pearson_chi2), ("G", g_test)];
    for (name, test) in tests {
        let r_good = test(&good, &pi).unwrap();
        let r_bad = test(&bad, &pi).unwrap();
        println!(
            "{name}: correct p = {:.3e}, bug p = {:.3e} (df {}, largest residual cell {:?})",
            r_good.p_value,
            r_bad.p_value,
            r_bad.df,
            r_bad
                .largest_residual
                .as_ref()
                .map(|c| (c.index, c.residual))
        );
        assert_eq!(r_bad.df, 4);
        assert!(
            r_good.p_value > alpha,
            "{name} false alarm: {}",
            r_good.p_value
        );
        assert!(
            r_bad.p_value <= alpha,
            "{name} missed the bug: {}",
            r_bad.p_value
        );
    }
}

/// Gumbel-Max on two categories with a rare one, `p = 1e-4`, with a planted bug in the noise:
/// uniforms clamped to `[1e-7, 0.999]` (noise capped at `-ln(-ln 0.999)` = 6.9, while the
/// rare category needs `g_rare - g_0 > 9.2`). Two-sided exact binomial test on the rare count,
/// α = 1e-3, n = 1e6 draws (E = 100). Smallest discrepancy: the exact power (rejection region
/// enumerated with statrs's pmf) is ≥ 0.99 against a rare-cell probability of 0.5·p or 1.7·p
/// (asserted below; it is only 0.86 at 0.6·p and 0.98 at 1.6·p); the clamp takes it to about
/// 1e-7 (0 rare draws in 1e6 with this seed).
#[test]
fn binomial_detects_clamped_uniforms_in_a_rare_cell() {
    let (alpha, n, p): (f64, u64, f64) = (1e-3, 1_000_000, 1e-4);
    let logits = [(1.0 - p).ln(), p.ln()];
    // Exact power at p1 = 0.6 p and 1.5 p.
    let region: Vec<u64> = (0..400u64)
        .filter(|&x| {
            binomial_test(x, n, p, Alternative::TwoSided)
                .unwrap()
                .p_value
                <= alpha
        })
        .collect();
    for ratio in [0.5, 1.7] {
        let b = Binomial::new(ratio * p, n).unwrap();
        let mut power: f64 = region.iter().map(|&x| b.pmf(x)).sum();
        // Counts ≥ 400 lie in the rejection region too (p-value tiny there).
        power += 1.0 - (0..400u64).map(|x| b.pmf(x)).sum::<f64>();
        println!("binomial power at p1 = {ratio}·p: {power:.5}");
        assert!(power >= 0.99, "power {power} at ratio {ratio}");
    }

    let count_rare = |clamp: bool, seed: u64| -> u64 {
        let mut rng = seeded(seed);
        let mut hits = 0;
        for _ in 0..n {
            let mut z = [0.0; 2];
            for (zi, l) in z.iter_mut().zip(logits) {
                let mut u = open_uniform(&mut rng);
                if clamp {
                    u = u.clamp(1e-7, 0.999);
                }
                *zi = l - (-u.ln()).ln();
            }
            if z[1] > z[0] {
                hits += 1;
            }
        }
        hits
    };
    let good = count_rare(false, 21);
    let bad = count_rare(true, 22);
    let r_good = binomial_test(good, n, p, Alternative::TwoSided).unwrap();
    let r_bad = binomial_test(bad, n, p, Alternative::TwoSided).unwrap();
    println!(
        "rare cell: correct {good} (p = {:.3e}), clamped {bad} (p = {:.3e}), expected 100",
        r_good.p_value, r_bad.p_value
    );
    assert!(r_good.p_value > alpha);
    assert!(r_bad.p_value <= alpha);
    // The crate's own sampler passes the same test at the same n.
    let cat = Categorical::new(Logits::from_slice(&logits).unwrap());
    let c = counts_of(&cat, n as usize, 23);
    let r = binomial_test(c[1], n, p, Alternative::TwoSided).unwrap();
    assert!(r.p_value > alpha, "crate sampler: {c:?}, p = {}", r.p_value);
}

/// Hotelling one-sample T² against a biased mean. α = 1e-3, n = 500, p = 3.
/// Bias: `δ = L (0.3, 0, 0)`, of Mahalanobis length Δ = 0.3 (noncentrality n Δ² = 45); the
/// power at this size is ≈ 0.998 (noncentral χ² approximation of the noncentral F, asserted
/// ≥ 0.98 below), so Δ = 0.3 is about the smallest bias detected reliably at n = 500.
/// Second case, gradient-like rows: `e_c - π` with c drawn with probabilities passed as
/// logits (π = (0.4, 0.3, 0.2, 0.1)), tested against mean 0 with `DropLast`, n = 200.
#[test]
fn hotelling_detects_a_biased_mean() {
    let (alpha, n) = (1e-3, 500);
    let power = chi2_power(alpha, 3.0, n as f64, 0.3).unwrap();
    println!("hotelling: power at Δ = 0.3, n = {n}: {power:.4}");
    assert!(power >= 0.98);
    let mu = [1.0, -2.0, 0.5];
    let biased = [mu[0] + 0.3, mu[1] + 0.15, mu[2] - 0.09];
    let good = gaussian_rows(&mut seeded(31), n, mu);
    let bad = gaussian_rows(&mut seeded(32), n, biased);
    let r_good = hotelling_one_sample(&good, &mu, Coordinates::All).unwrap();
    let r_bad = hotelling_one_sample(&bad, &mu, Coordinates::All).unwrap();
    println!(
        "hotelling gaussian: correct p = {:.3e}, biased p = {:.3e} (T² = {:.1})",
        r_good.p_value, r_bad.p_value, r_bad.t2
    );
    assert!(r_good.p_value > alpha);
    assert!(r_bad.p_value <= alpha);

    let pi = [0.4, 0.3, 0.2, 0.1];
    let rows_from = |cat: &Categorical, seed: u64| -> Vec<Vec<f64>> {
        let mut rng = seeded(seed);
        (0..200)
            .map(|_| {
                let c = cat.sample(&mut rng);
                (0..4)
                    .map(|j| f64::from(u8::from(j == c)) - pi[j])
                    .collect()
            })
            .collect()
    };
    let correct = Categorical::new(Logits::new(pi.iter().map(|p: &f64| p.ln()).collect()).unwrap());
    let buggy = Categorical::new(Logits::from_slice(&pi).unwrap());
    let r_good =
        hotelling_one_sample(&rows_from(&correct, 33), &[0.0; 4], Coordinates::DropLast).unwrap();
    let r_bad =
        hotelling_one_sample(&rows_from(&buggy, 34), &[0.0; 4], Coordinates::DropLast).unwrap();
    println!(
        "hotelling gradient-like: correct p = {:.3e}, probs-as-logits p = {:.3e}",
        r_good.p_value, r_bad.p_value
    );
    assert!(r_good.p_value > alpha);
    assert!(r_bad.p_value <= alpha);
}

/// Concrete sampler with a planted bug: the temperature applied to the logits but not to the
/// noise, `y = softmax(l/τ + g)` instead of `softmax((l + g)/τ)`; l = (1, 0, -1), τ = 0.5.
/// Energy test against the crate's `Concrete` sampler: α = 0.01, n = 300 per side, B = 199
/// (smallest p-value 0.005). Power measured over 10 seeds of the bug: all 10 rejected. The
/// same test on two independent correct samples of the same size does not reject.
/// The bug's size: measured energy distance E ≈ 0.072 against ≈ 0.007 between two correct
/// samples (printed).
#[test]
fn energy_detects_temperature_on_logits_only() {
    let (alpha, n, tau) = (0.01, 300, 0.5);
    let logits = [1.0, 0.0, -1.0];
    let concrete = Concrete::new(Logits::from_slice(&logits).unwrap(), tau).unwrap();
    let correct = |seed: u64| -> Vec<Vec<f64>> {
        let mut rng = seeded(seed);
        (0..n).map(|_| concrete.sample(&mut rng)).collect()
    };
    let buggy = |seed: u64| -> Vec<Vec<f64>> {
        let mut rng = seeded(seed);
        (0..n)
            .map(|_| {
                let z: Vec<f64> = logits.iter().map(|l| l / tau + gumbel(&mut rng)).collect();
                softmax(&z)
            })
            .collect()
    };
    let reference = correct(41);
    let r_good = energy_test(
        &reference,
        &correct(42),
        &EnergyOptions::new(199, 500, 43).unwrap(),
    )
    .unwrap();
    println!(
        "energy: correct vs correct p = {:.3} (E = {:.4})",
        r_good.p_value, r_good.energy_distance
    );
    assert!(r_good.p_value > alpha);
    let mut rejected = 0;
    for s in 0..10u64 {
        let r = energy_test(
            &reference,
            &buggy(100 + s),
            &EnergyOptions::new(199, 500, 200 + s).unwrap(),
        )
        .unwrap();
        if s == 0 {
            println!(
                "energy: correct vs bug p = {:.3} (E = {:.4})",
                r.p_value, r.energy_distance
            );
        }
        if r.p_value <= alpha {
            rejected += 1;
        }
    }
    println!("energy: bug rejected in {rejected}/10 seeds");
    assert_eq!(rejected, 10);
}

/// DKWM check of Gumbel noise against the Gumbel CDF with the classic bug `-ln u` (an
/// exponential) instead of `-ln(-ln u)`. The sup-distance between the two CDFs is
/// Δ = e⁻¹ ≈ 0.368, at 0 (computed on a grid below); at α = 1e-6 and power 0.999 the DKWM
/// sample size for it is `dkwm_sample_size(1e-6, 0.999, Δ)` = 154, the n used. The correct
/// noise passes at that n.
#[test]
fn dkwm_detects_exponential_instead_of_gumbel_noise() {
    let g = Gumbel::standard();
    let delta = (0..20_000)
        .map(|i| {
            let x = -5.0 + i as f64 * 1e-3;
            let exp_cdf = if x > 0.0 { 1.0 - (-x).exp() } else { 0.0 };
            (exp_cdf - g.cdf(x)).abs()
        })
        .fold(0.0, f64::max);
    let (alpha, power) = (1e-6, 0.999);
    let n = dkwm_sample_size(alpha, power, delta).unwrap() as usize;
    println!("dkwm: Δ = {delta:.4}, n = {n}");
    assert!(dkwm_detectable_discrepancy(alpha, power, n as u64).unwrap() <= delta);
    let mut rng = seeded(51);
    let good: Vec<f64> = (0..n).map(|_| gumbel(&mut rng)).collect();
    let mut rng = seeded(52);
    let bad: Vec<f64> = (0..n).map(|_| -open_uniform(&mut rng).ln()).collect();
    let r_good = dkwm_test(&good, |x| g.cdf(x), alpha).unwrap();
    let r_bad = dkwm_test(&bad, |x| g.cdf(x), alpha).unwrap();
    println!(
        "dkwm: correct D = {:.4}, bug D = {:.4}, critical {:.4}",
        r_good.statistic, r_bad.statistic, r_bad.critical_value
    );
    assert!(!r_good.reject);
    assert!(r_bad.reject);
}
