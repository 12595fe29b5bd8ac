//! Quantitative limits of Gumbel-Softmax in the temperature (docs/design/math.md §2, facts 6, 7).
//!
//! - `τ → 0`: `E[1 - max y] = ln2 · τ · (1 - Σπ²) + o(τ)`, so `W₁(Concrete_τ, Categorical) ≤
//!   2 E[1 - max y]` goes to zero at rate `τ`: the quantitative form of "becomes the categorical".
//! - `τ → ∞`: `y → (1/k, …, 1/k)` at rate `1/τ`: with `d = z - z̄` (`z = l + g`),
//!   `τ(y_i - 1/k) = d_i/k + (d_i² - mean_j d_j²)/(2τk) + O(τ⁻²)`, so
//!   `E[τ(y_i - 1/k)] = (l_i - l̄)/k + ((l_i - l̄)² - mean_j (l_j - l̄)²)/(2τk) + O(τ⁻²)` and
//!   `Var[τ(y_i - 1/k)] → Var(d_i)/k² = (π²/6)(1 - 1/k)/k²` (both exact limits, no estimate).
//!
//! Each check is written once, over a sampler closure, and run on the reference and on planted
//! bugs (realistic ones from the field) to show it fails on them at the same sample size.

use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::distributions::{Concrete, Gumbel, Logits};
use gumbel_audit::numeric::log_sum_exp;
use gumbel_audit::rng::{ChaCha8Rng, seeded};
use statrs::distribution::{ContinuousCDF, Normal};

/// A sampler of one relaxed row: `(logits, τ, rng) -> y`.
type Sampler = fn(&[f64], f64, &mut ChaCha8Rng) -> Vec<f64>;

fn reference(l: &[f64], tau: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    Concrete::new(Logits::from_slice(l).unwrap(), tau)
        .unwrap()
        .sample(rng)
}

fn softmax(s: &[f64]) -> Vec<f64> {
    let lse = log_sum_exp(s);
    s.iter().map(|v| (v - lse).exp()).collect()
}

/// Planted bug: the temperature divides the logits but not the noise, `softmax(l/τ + g)`.
fn bug_tau_on_logits_only(l: &[f64], tau: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let g = Gumbel::standard();
    let s: Vec<f64> = l.iter().map(|v| v / tau + g.sample(rng)).collect();
    softmax(&s)
}

/// Planted bug: exponential noise `-ln u` instead of Gumbel noise `-ln(-ln u)`.
fn bug_exponential_noise(l: &[f64], tau: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let s: Vec<f64> = l
        .iter()
        .map(|v| (v - open_uniform(rng).ln()) / tau)
        .collect();
    softmax(&s)
}

fn z_upper(q: f64) -> f64 {
    Normal::standard().inverse_cdf(1.0 - q)
}

/// Mean and standard error of `n` values.
fn mean_se(values: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let (mut n, mut mean, mut m2) = (0usize, 0.0, 0.0);
    for v in values {
        n += 1;
        let d = v - mean;
        mean += d / n as f64;
        m2 += d * (v - mean);
    }
    (mean, (m2 / (n - 1) as f64 / n as f64).sqrt(), n)
}

const LOGITS: [f64; 3] = [1.0, 0.0, -1.0];
const SMALL_TAUS: [f64; 4] = [0.01, 0.005, 0.002, 0.001];
const SMALL_N: usize = 1_000_000;
/// Family-wise false-alarm rate of each check, split evenly (Bonferroni) over its intervals.
const FAMILY_ALPHA: f64 = 1e-3;

/// `τ → 0` check. For each `τ` in {0.01, 0.005, 0.002, 0.001}, `n = 10⁶` rows with logits
/// (1, 0, -1): the two-sided interval for `E[1 - max y]` at `α = 2.5·10⁻⁴` must contain
/// `ln2·τ·(1 - Σπ²)`. Family false-alarm rate `10⁻³`, valid while the `o(τ)` remainder is small
/// against the standard error: the relative SE is about `1/√(nτ)` = 1% at `τ = 0.01` and 3% at
/// `τ = 10⁻³`, and the study (`gumbel-audit study temperature`) shows the ratio to the prediction
/// flat within 0.5% already from `τ = 0.2` down. Detects a constant off by more than about
/// `4·1/√(nτ)`: 4% at `τ = 0.01`, 13% at `τ = 10⁻³`.
/// Returns the first τ whose interval misses, if any.
fn small_tau_check(sampler: Sampler, seed: u64) -> Option<(f64, f64, f64, f64)> {
    let logits = Logits::from_slice(&LOGITS).unwrap();
    let z = z_upper(FAMILY_ALPHA / SMALL_TAUS.len() as f64 / 2.0);
    for (j, &tau) in SMALL_TAUS.iter().enumerate() {
        let mut rng = seeded(seed + j as u64);
        let (mean, se, _) = mean_se((0..SMALL_N).map(|_| {
            let y = sampler(&LOGITS, tau, &mut rng);
            let top = gumbel_audit::numeric::argmax(&y).unwrap();
            y.iter()
                .enumerate()
                .filter(|(i, _)| *i != top)
                .map(|(_, v)| v)
                .sum::<f64>()
        }));
        let predicted = gumbel_audit::study::temperature::predicted_one_minus_max(&logits, tau);
        if (mean - predicted).abs() > z * se {
            return Some((tau, mean, se, predicted));
        }
    }
    None
}

#[test]
fn small_temperature_rate_is_ln2_tau() {
    assert_eq!(small_tau_check(reference, 100), None);
}

#[test]
fn small_temperature_check_catches_tau_on_logits_only() {
    let miss = small_tau_check(bug_tau_on_logits_only, 100);
    eprintln!("{miss:?}");
    assert!(miss.is_some());
}

#[test]
fn small_temperature_check_catches_exponential_noise() {
    let miss = small_tau_check(bug_exponential_noise, 100);
    eprintln!("{miss:?}");
    assert!(miss.is_some());
}

const LARGE_TAUS: [f64; 2] = [100.0, 1000.0];
const LARGE_N: usize = 200_000;

/// `τ → ∞` check. For `τ` in {100, 1000} and `n = 2·10⁵` rows with logits (1, 0, -1), for each
/// coordinate `i`: the interval for `E[τ(y_i - 1/k)]` must contain its expansion to order `1/τ`
/// (module doc; the `O(τ⁻²)` remainder is below 1e-4, against a standard error of 8e-4), and the
/// interval for `Var[τ(y_i - 1/k)]` (standard error from the fourth moment) must contain the limit
/// `(π²/6)(1 - 1/k)/k²` up to its own `O(1/τ)` drift (checked at `τ = 1000` only, where the drift
/// is below 1e-3 relative against a 0.5% standard error). 9 intervals, each at `α = 10⁻³/9`:
/// family false-alarm rate `10⁻³`. Detects a mean off by ~3.4·8e-4 and a variance off by ~2%.
/// Returns a description of the first miss.
fn large_tau_check(sampler: Sampler, seed: u64) -> Option<String> {
    let k = LOGITS.len() as f64;
    let lbar = LOGITS.iter().sum::<f64>() / k;
    let c: Vec<f64> = LOGITS.iter().map(|l| l - lbar).collect();
    let mean_c2 = c.iter().map(|v| v * v).sum::<f64>() / k;
    let var_limit = std::f64::consts::PI.powi(2) / 6.0 * (1.0 - 1.0 / k) / (k * k);
    let z = z_upper(FAMILY_ALPHA / 9.0 / 2.0);
    for (j, &tau) in LARGE_TAUS.iter().enumerate() {
        let mut rng = seeded(seed + j as u64);
        let rows: Vec<Vec<f64>> = (0..LARGE_N)
            .map(|_| {
                sampler(&LOGITS, tau, &mut rng)
                    .iter()
                    .map(|y| tau * (y - 1.0 / k))
                    .collect()
            })
            .collect();
        for i in 0..LOGITS.len() {
            let col = || rows.iter().map(move |r| r[i]);
            let (mean, se, n) = mean_se(col());
            let expected = c[i] / k + (c[i] * c[i] - mean_c2) / (2.0 * tau * k);
            if (mean - expected).abs() > z * se {
                return Some(format!(
                    "τ = {tau}, i = {i}: mean {mean} ± {se}, expected {expected}"
                ));
            }
            if tau == 1000.0 {
                let m2 = col().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                let m4 = col().map(|v| (v - mean).powi(4)).sum::<f64>() / n as f64;
                let se_var = ((m4 - m2 * m2) / n as f64).sqrt();
                if (m2 - var_limit).abs() > z * se_var {
                    return Some(format!(
                        "τ = {tau}, i = {i}: variance {m2} ± {se_var}, limit {var_limit}"
                    ));
                }
            }
        }
    }
    None
}

#[test]
fn large_temperature_goes_to_uniform_at_rate_one_over_tau() {
    assert_eq!(large_tau_check(reference, 200), None);
}

#[test]
fn large_temperature_check_catches_tau_on_logits_only() {
    let miss = large_tau_check(bug_tau_on_logits_only, 200);
    eprintln!("{miss:?}");
    assert!(miss.is_some());
}

#[test]
fn large_temperature_check_catches_exponential_noise() {
    // -ln u has variance 1, not π²/6: the variance limit is off by 39%.
    let miss = large_tau_check(bug_exponential_noise, 200);
    eprintln!("{miss:?}");
    assert!(miss.is_some_and(|m| m.contains("variance")));
}
