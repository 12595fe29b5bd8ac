//! The documented range (issue 2, "Range"): `τ` from 10⁻³ to 10³, `|l| ≤ 10⁴` plus `-inf`
//! masks, `k` from 1 to 10⁵: samples have no NaN or inf and lie on the simplex, and `ln_pdf` is
//! finite at every point of the open simplex representable in f64.
//!
//! # What "every representable point of the open simplex" means here
//! A point `y ∈ f64^k` whose unmasked entries are positive (so at least `2⁻¹⁰⁷⁴ ≈ 4.9e-324`, the
//! smallest subnormal), at most 1, masked entries exactly 0, and `|Σ y - 1| ≤ 1e-6` (the
//! documented tolerance). On that set the log density is a finite sum: each term is bounded by
//! its value at the extremes `|ln y_i| ∈ [0, 744.44]`, `|ln π_i| ≤ 2·10⁴ + ln k`,
//! `τ ∈ [10⁻³, 10³]`, so `|ln p| ≤ k'·(2·10⁴ + 2·10³·745) + ln Γ(k') + …` is about 10¹¹ at
//! `k' = 10⁵`, nowhere near overflow, *provided* no intermediate leaves log space (`y^(-τ)`
//! alone overflows at `y = 2⁻¹⁰⁷⁴`, `τ ≥ 1`). So the test evaluates the density at the corners
//! of that set (every unmasked entry either the smallest subnormal, `1e-310`, `1e-300`, or the
//! remaining mass) and at seeded random points with log-entries spread down to `-744`, for
//! every combination of the extreme temperatures, logit patterns and sizes.

use gumbel_audit::distributions::gumbel::{STANDARD_NOISE_MAX, STANDARD_NOISE_MIN};
use gumbel_audit::distributions::{Categorical, Concrete, Gumbel, Logits};
use gumbel_audit::rng::seeded;
use rand::Rng;

use crate::simplex::simplex_sum_tol;

const NEG_INF: f64 = f64::NEG_INFINITY;
const TAUS: [f64; 4] = [1e-3, 1e-2, 1.0, 1e3];
const SIZES: [usize; 4] = [1, 2, 1000, 100_000];
/// The smallest positive f64 (subnormal), `2⁻¹⁰⁷⁴`.
const TINIEST: f64 = 5e-324;

/// A uniform in `[0, 1)` from the RNG's top 53 bits (test-side helper).
fn unit<R: Rng>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 / 9_007_199_254_740_992.0
}

/// Logit patterns of length `k` at the range's extremes.
fn logit_patterns(k: usize) -> Vec<(&'static str, Vec<f64>)> {
    let mut rng = seeded(k as u64);
    let mut random: Vec<f64> = (0..k)
        .map(|_| {
            if unit(&mut rng) < 0.1 {
                NEG_INF
            } else {
                -1e4 + 2e4 * unit(&mut rng)
            }
        })
        .collect();
    if random.iter().all(|v| *v == NEG_INF) {
        random[0] = 1e4;
    }
    let mut one_top = vec![-1e4; k];
    one_top[k - 1] = 1e4;
    vec![
        ("zeros", vec![0.0; k]),
        (
            "alternating ±1e4",
            (0..k)
                .map(|i| if i % 2 == 0 { 1e4 } else { -1e4 })
                .collect(),
        ),
        ("uniform in ±1e4, 10% masked", random),
        ("one 1e4, rest -1e4", one_top),
        (
            "all masked but the last",
            (0..k)
                .map(|i| if i + 1 == k { -1e4 } else { NEG_INF })
                .collect(),
        ),
    ]
}

// `|Σ y - 1|` tolerance: `simplex_sum_tol` (simplex.rs): the log-sum-exp is known to
// `ε(36.74/τ + ln k)`, a relative error of every `y_i`; plus `(k + 2)ε` for the exponentials
// and the naive sum. Factor 4 for safety.

fn check_sample(y: &[f64], l: &[f64], tau: f64, case: &str) {
    assert_eq!(y.len(), l.len(), "{case}");
    for (i, &v) in y.iter().enumerate() {
        assert!(
            v.is_finite() && (0.0..=1.0).contains(&v),
            "{case}: y[{i}] = {v}"
        );
        if l[i] == NEG_INF {
            assert_eq!(v, 0.0, "{case}: masked y[{i}]");
        }
    }
    let s: f64 = y.iter().sum();
    assert!(
        (s - 1.0).abs() <= simplex_sum_tol(l.len(), tau),
        "{case}: Σ y - 1 = {:e}",
        s - 1.0
    );
}

#[test]
fn samples_are_finite_and_on_the_simplex_over_the_range() {
    for k in SIZES {
        for (name, l) in logit_patterns(k) {
            let logits = Logits::from_slice(&l).unwrap();
            let noises: Vec<(&str, Vec<f64>)> = vec![
                ("min noise", vec![STANDARD_NOISE_MIN; k]),
                ("max noise", vec![STANDARD_NOISE_MAX; k]),
                (
                    "alternating min/max noise",
                    (0..k)
                        .map(|i| {
                            if i % 2 == 0 {
                                STANDARD_NOISE_MAX
                            } else {
                                STANDARD_NOISE_MIN
                            }
                        })
                        .collect(),
                ),
                ("seeded noise", {
                    let mut rng = seeded(11);
                    (0..k)
                        .map(|_| Gumbel::standard().sample(&mut rng))
                        .collect()
                }),
            ];
            for tau in TAUS {
                let c = Concrete::new(logits.clone(), tau).unwrap();
                for (nname, g) in &noises {
                    let case = format!("k = {k}, {name}, τ = {tau}, {nname}");
                    check_sample(&c.from_noise(g).unwrap(), &l, tau, &case);
                    let x = c.log_from_noise(g).unwrap();
                    for (i, &v) in x.iter().enumerate() {
                        if l[i] == NEG_INF {
                            assert_eq!(v, NEG_INF, "{case}");
                        } else {
                            assert!(v.is_finite() && v <= 0.0, "{case}: ln y[{i}] = {v}");
                        }
                    }
                }
                let mut rng = seeded(12);
                let case = format!("k = {k}, {name}, τ = {tau}, sample(rng)");
                check_sample(&c.sample(&mut rng), &l, tau, &case);
                let h = c.sample_hard(&mut rng);
                assert_eq!(h.iter().sum::<f64>(), 1.0, "{case}: hard");
            }
            let cat = Categorical::new(logits);
            let mut rng = seeded(13);
            let i = cat.sample(&mut rng);
            assert!(i < k && l[i] != NEG_INF, "k = {k}, {name}: drew {i}");
            let unmasked = l.iter().filter(|v| v.is_finite()).count();
            let top = cat.sample_top_k(&mut rng, unmasked.min(10)).unwrap();
            assert!(top.iter().all(|&j| j < k && l[j] != NEG_INF));
        }
    }
}

/// Points of the open simplex of the unmasked categories of `l`: corners where every unmasked
/// entry but one is `tiny` (the last carries the rest), one entry `tiny` and the others
/// sharing the rest, the centre, and seeded random points with log-entries down to -744.
fn extreme_points(l: &[f64]) -> Vec<(String, Vec<f64>)> {
    let unmasked: Vec<usize> = (0..l.len()).filter(|&i| l[i] != NEG_INF).collect();
    let kk = unmasked.len();
    let mut points = Vec::new();
    let mut place = |name: String, values: &[f64]| {
        let mut y = vec![0.0; l.len()];
        for (&i, &v) in unmasked.iter().zip(values) {
            y[i] = v;
        }
        points.push((name, y));
    };
    for tiny in [TINIEST, 1e-310, 1e-300] {
        for heavy in [0, kk - 1] {
            // All entries tiny but one (the one carries 1 - (k'-1)·tiny, which rounds to 1).
            let mut v = vec![tiny; kk];
            v[heavy] = 1.0 - (kk - 1) as f64 * tiny;
            place(format!("all {tiny:e} but entry {heavy}"), &v);
            // One entry tiny, the rest equal.
            if kk > 1 {
                let mut v = vec![(1.0 - tiny) / (kk - 1) as f64; kk];
                v[heavy] = tiny;
                place(format!("entry {heavy} = {tiny:e}, rest equal"), &v);
            }
        }
    }
    place("centre".into(), &vec![1.0 / kk as f64; kk]);
    let mut rng = seeded(kk as u64 + 99);
    for r in 0..3 {
        // ln w uniform on [-744, 0] (the heaviest entry then dominates), then normalised
        // with max-subtraction; entries that underflow are replaced by the smallest subnormal,
        // which moves the sum by at most k'·5e-324.
        let w: Vec<f64> = (0..kk).map(|_| -744.0 * unit(&mut rng)).collect();
        let m = w.iter().copied().fold(NEG_INF, f64::max);
        let lse = m + w.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let v: Vec<f64> = w.iter().map(|v| (v - lse).exp().max(TINIEST)).collect();
        place(format!("random {r}"), &v);
    }
    points
}

#[test]
fn density_is_finite_at_extreme_points_of_the_open_simplex() {
    for k in SIZES {
        for (name, l) in logit_patterns(k) {
            let logits = Logits::from_slice(&l).unwrap();
            let points = extreme_points(&l);
            for tau in TAUS {
                let c = Concrete::new(logits.clone(), tau).unwrap();
                for (pname, y) in &points {
                    let case = format!("k = {k}, {name}, τ = {tau}, {pname}");
                    let p = c
                        .ln_pdf(y)
                        .unwrap_or_else(|e| panic!("{case}: rejected: {e}"));
                    assert!(p.is_finite(), "{case}: ln p = {p}");
                    let x: Vec<f64> = y
                        .iter()
                        .zip(&l)
                        .map(|(&v, &li)| if li == NEG_INF { NEG_INF } else { v.ln() })
                        .collect();
                    let q = c
                        .ln_pdf_exp(&x)
                        .unwrap_or_else(|e| panic!("{case}: ExpConcrete rejected: {e}"));
                    assert!(q.is_finite(), "{case}: ln p_exp = {q}");
                }
            }
        }
    }
}

/// The subnormal corner by hand, k = 2 (a check that the finite value is also right): with
/// `π = (½, ½)` and `τ = 1` the Concrete is uniform on the simplex, `ln p = 0` everywhere,
/// including `y = (2⁻¹⁰⁷⁴, 1)`.
#[test]
fn uniform_case_at_the_subnormal_corner() {
    let c = Concrete::new(Logits::new(vec![0.0, 0.0]).unwrap(), 1.0).unwrap();
    for y1 in [TINIEST, 1e-310, 1e-300, 1e-17] {
        let p = c.ln_pdf(&[y1, 1.0 - y1]).unwrap();
        assert!(p.abs() <= 1e-12, "y₁ = {y1:e}: ln p = {p}");
    }
}

/// Gumbel tails over the whole finite range: `ln S(x)` is finite wherever it is representable
/// (it is `≈ -ζ`, `ζ = (x - μ)/β`, in the upper tail, where `S` itself underflows past
/// `ζ ≈ 745`), and `ln F`, `ln f` are finite down to `ζ = -700` (below about `-709.8`,
/// `ln F = -e^(-ζ)` exceeds the f64 range and `-inf` is the correctly rounded value).
/// Tolerance for `ln S ≈ -ζ`: `ln(1 - e^(-w)) = ln w - w/2 + O(w²)`, `w = e^(-ζ)`, so the
/// difference from `-ζ` is `w/2 ≤ 1e-12` for `ζ ≥ 28`, plus a few ulps of `ζ`.
#[test]
fn gumbel_tails_are_finite() {
    for (mu, beta) in [(0.0, 1.0), (-1e4, 1e-3), (1e4, 1e3)] {
        let g = Gumbel::new(mu, beta).unwrap();
        for zeta in [28.0, 100.0, 700.0, 701.0, 745.0, 746.0, 800.0, 1e4, 1e6] {
            let x = mu + beta * zeta;
            let z = (x - mu) / beta; // the standardised point as the library computes it
            let ln_s = g.ln_sf(x);
            assert!(
                ln_s.is_finite(),
                "μ = {mu}, β = {beta}, ζ = {zeta}: ln S = {ln_s}"
            );
            let tol = 1e-12 + 4.0 * f64::EPSILON * z.abs();
            assert!(
                (ln_s + z).abs() <= tol,
                "μ = {mu}, β = {beta}, ζ = {zeta}: ln S = {ln_s}, -ζ = {}",
                -z
            );
        }
        for zeta in [-700.0, -30.0, 0.0, 30.0, 1e4] {
            let x = mu + beta * zeta;
            assert!(
                g.ln_cdf(x).is_finite() && g.ln_pdf(x).is_finite(),
                "ζ = {zeta}"
            );
        }
    }
}
