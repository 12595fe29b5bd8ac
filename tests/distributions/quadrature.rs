//! The Concrete density integrates to 1: quadrature for k = 2 and k = 3, `τ ∈ {0.1, 0.5, 1, 5}`,
//! several logits (one with a masked category); and the ExpConcrete convention of docs/design/math.md §1.
//!
//! # Coordinates
//! In `y` the density has integrable singularities at the boundary of the simplex for small `τ`
//! (factors `y_i^(-τ-1)`; for small `τ` the mass sits near the vertices), so a plain
//! rule on the simplex converges slowly. In the additive log-ratio coordinates
//! ```text
//! t_i = ln(y_i / y_k),  i < k,      y = softmax(t_1, …, t_{k-1}, 0)
//! |∂(y_1 … y_{k-1}) / ∂(t_1 … t_{k-1})| = Π_{i=1..k} y_i
//! q(t) = p(y(t)) · Π_{i=1..k} y_i   (= p_exp(ln y), the raw ExpConcrete formula)
//! ```
//! `q` is smooth: `t_i = (z_i - z_k)/τ` is Logistic(`(l_i - l_k)/τ`, `1/τ`) (docs/design/math.md §2 fact 2),
//! so `q` decays like `e^(-τ|t_i|)` and is analytic in a strip of half-width about `π/τ`. The
//! trapezoid rule on a uniform grid is then exponentially accurate: error about
//! `exp(-2π·(π/τ)/h)`, `≈ 1e-17` at the step `h = 1/(4τ)` used here.
//!
//! # Box and tolerance
//! Each `t_i` ranges over `(l_i - l_k)/τ ± 40/τ`, which leaves out at most `2(k-1)e⁻⁴⁰ ≈ 1e-17`
//! of the mass (each marginal is logistic with scale `1/τ`). The discretisation error is
//! estimated by halving the step (the rule on every second point, step `2h`): the test asserts
//! that estimate is at most `1e-12` (the rule has converged: in practice the two agree to a few
//! `1e-15`, the rounding of the sums). Then `|∫ - 1| ≤ 1e-11`: truncation `≈ 1e-17`, the
//! discretisation as estimated, and the rounding of the density values. Because every term is
//! positive, the relative error of the sum is at most the largest relative error of a density
//! value, `ε` times the magnitudes of the terms of the log density, at most about `3e-12` even
//! at the box corners (`τ = 5`, `|ln y| ≈ 800`) and about `1e-13` where the mass is; the sums
//! are compensated. Any error of the formula (a wrong constant, a wrong power of `τ`, a wrong
//! exponent) is of order `1e-3` or more.
//!
//! # The ExpConcrete convention (docs/design/math.md §1, [derived])
//! The raw ExpConcrete formula `p_exp(x)` at `x = ln y` is the density `q` above, so it *is*
//! normalised in the log-ratio coordinates. In the chart `x_1 … x_{k-1}` (`x_i = ln y_i`, `x_k`
//! determined) the Jacobian of `y = e^x` is `Π_{i<k} y_i`, so the normalised density there is
//! `p(y)·Π_{i<k} y_i = p_exp / y_k`, and the raw formula integrates to
//! `∫ p_exp dx = ∫ p(y) y_k dy = E[y_k]`, which depends on the parameters (½ for equal logits by
//! symmetry). For k = 2 the test integrates directly in the chart coordinate `x₁ = ln y₁`
//! (substituting `x₁ = -e^s`), checks `∫ p_exp/y₂ dx₁ = 1`, and checks `∫ p_exp dx₁ = E[y₂]`
//! against an independent quadrature of `E[σ((l₂ - l₁ + L)/τ)]` over the logistic noise `L`.
//! docs/design/math.md's "about 0.675" reproduces at, e.g., `π = (0.3, 0.7)`, `τ = 0.5` (0.6747) and
//! `π = (0.25, 0.75)`, `τ = 1` (0.6760).

use gumbel_audit::distributions::{Concrete, Logits};

const NEG_INF: f64 = f64::NEG_INFINITY;
const TAUS: [f64; 4] = [0.1, 0.5, 1.0, 5.0];

/// Compensated (Neumaier) sum, written out here so the test does not lean on the library's.
#[derive(Default)]
struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    fn add(&mut self, v: f64) {
        let t = self.s + v;
        if self.s.abs() >= v.abs() {
            self.c += (self.s - t) + v;
        } else {
            self.c += (v - t) + self.s;
        }
        self.s = t;
    }
    fn value(&self) -> f64 {
        self.s + self.c
    }
}

fn concrete(l: &[f64], tau: f64) -> Concrete {
    Concrete::new(Logits::from_slice(l).unwrap(), tau).unwrap()
}

/// `ln y` from log-ratio coordinates `t` (the last unmasked category is the reference) placed
/// into the positions of the unmasked categories; masked entries `-inf`.
fn log_point(t: &[f64], unmasked: &[usize], k: usize) -> Vec<f64> {
    let m = t.iter().copied().fold(0.0f64, f64::max);
    let lse = m + ((-m).exp() + t.iter().map(|v| (v - m).exp()).sum::<f64>()).ln();
    let mut x = vec![NEG_INF; k];
    for (j, &i) in unmasked.iter().enumerate() {
        x[i] = if j < t.len() { t[j] } else { 0.0 } - lse;
    }
    x
}

/// The result of a trapezoid rule and of the same rule at twice the step.
struct Quad {
    fine: f64,
    coarse: f64,
}

/// Integrates `f` over a `d`-dimensional box (`d ∈ {1, 2}`) with the trapezoid rule on a
/// uniform grid of step `h` centred at `centre` with half-width `half`; `coarse` uses every
/// second point (step `2h`). The integrand is negligible at the edges, so the end weights of
/// ½ do not matter and all points get weight 1.
fn trapezoid(centre: &[f64], half: f64, h: f64, f: &dyn Fn(&[f64]) -> f64) -> Quad {
    let n = (half / h).ceil() as i64;
    let (mut fine, mut coarse) = (Sum::default(), Sum::default());
    let d = centre.len();
    let idx: Vec<i64> = (-n..=n).collect();
    let mut visit = |pt: &[f64], even: bool| {
        let v = f(pt);
        fine.add(v);
        if even {
            coarse.add(v);
        }
    };
    if d == 1 {
        for &i in &idx {
            visit(&[centre[0] + i as f64 * h], i % 2 == 0);
        }
    } else {
        for &i in &idx {
            for &j in &idx {
                let pt = [centre[0] + i as f64 * h, centre[1] + j as f64 * h];
                visit(&pt, i % 2 == 0 && j % 2 == 0);
            }
        }
    }
    Quad {
        fine: fine.value() * h.powi(d as i32),
        coarse: coarse.value() * (2.0 * h).powi(d as i32),
    }
}

/// `∫ p(y) dy` and `∫ p_exp` over the log-ratio coordinates of the unmasked categories.
fn total_mass(l: &[f64], tau: f64) -> (Quad, Quad) {
    let c = concrete(l, tau);
    let unmasked: Vec<usize> = (0..l.len()).filter(|&i| l[i] != NEG_INF).collect();
    let reference = l[*unmasked.last().unwrap()];
    let centre: Vec<f64> = unmasked[..unmasked.len() - 1]
        .iter()
        .map(|&i| (l[i] - reference) / tau)
        .collect();
    let (half, h) = (40.0 / tau, 0.25 / tau);
    let k = l.len();
    let density = trapezoid(&centre, half, h, &|t| {
        let x = log_point(t, &unmasked, k);
        if x.iter().any(|&v| v.is_finite() && v < -740.0) {
            // Corners of the k = 3 box where a y_i would underflow: not a point of the open
            // simplex in f64. Its contribution is checked to be negligible in log space.
            let ln_q = c.ln_pdf_exp(&x).unwrap();
            assert!(ln_q < -50.0, "skipped point t = {t:?} has ln q = {ln_q}");
            return 0.0;
        }
        let y: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        // p(y) times the Jacobian Π y_i (of the y actually passed).
        let ln_jac: f64 = y.iter().filter(|&&v| v > 0.0).map(|v| v.ln()).sum();
        (c.ln_pdf(&y).unwrap() + ln_jac).exp()
    });
    let exp_density = trapezoid(&centre, half, h, &|t| {
        c.ln_pdf_exp(&log_point(t, &unmasked, k)).unwrap().exp()
    });
    (density, exp_density)
}

fn check_mass(q: &Quad, what: &str) {
    let halving = (q.fine - q.coarse).abs();
    println!(
        "{what}: ∫ = {:.17}, |∫ - 1| = {:.1e}, halving estimate {halving:.1e}",
        q.fine,
        (q.fine - 1.0).abs()
    );
    assert!(
        halving <= 1e-12,
        "{what}: not converged, halving estimate {halving:e}"
    );
    assert!(
        (q.fine - 1.0).abs() <= 1e-11,
        "{what}: ∫ = {:.17}, not 1",
        q.fine
    );
}

#[test]
fn concrete_density_integrates_to_one_for_two_categories() {
    let cases: [&[f64]; 4] = [
        &[0.0, 0.0],
        &[0.3, -1.2],
        &[2.5, -2.0],
        &[-1.0, NEG_INF, 1.5], // a masked category: integrates over the other two
    ];
    for l in cases {
        for tau in TAUS {
            let (p, p_exp) = total_mass(l, tau);
            check_mass(&p, &format!("p, l = {l:?}, τ = {tau}"));
            check_mass(
                &p_exp,
                &format!("p_exp in log-ratio coordinates, l = {l:?}, τ = {tau}"),
            );
        }
    }
}

#[test]
fn concrete_density_integrates_to_one_for_three_categories() {
    let cases: [&[f64]; 3] = [&[0.0, 0.0, 0.0], &[0.0, -1.5, 2.0], &[1.0, -0.5, -3.0]];
    for l in cases {
        for tau in TAUS {
            let (p, p_exp) = total_mass(l, tau);
            check_mass(&p, &format!("p, l = {l:?}, τ = {tau}"));
            check_mass(
                &p_exp,
                &format!("p_exp in log-ratio coordinates, l = {l:?}, τ = {tau}"),
            );
        }
    }
}

/// `E[y₂] = E[σ((l₂ - l₁ + L)/τ)]`, `L ~ Logistic(0, 1)`, by the trapezoid rule over `L`
/// (independent of the library's density): `σ((d + L)/τ)` varies on the scale `τ`, so the step
/// is `τ/100`, and the logistic density `σ(L)σ(-L) ≤ e^(-|L|)` is cut at `|L| = 45`.
fn expected_last(l1: f64, l2: f64, tau: f64) -> f64 {
    let sig = |t: f64| {
        if t >= 0.0 {
            1.0 / (1.0 + (-t).exp())
        } else {
            t.exp() / (1.0 + t.exp())
        }
    };
    let h = tau.min(1.0) / 100.0;
    let n = (45.0 / h) as i64;
    let mut s = Sum::default();
    for i in -n..=n {
        let lo = i as f64 * h;
        s.add(sig((l2 - l1 + lo) / tau) * sig(lo) * sig(-lo));
    }
    s.value() * h
}

/// k = 2 in the chart coordinate `x₁ = ln y₁ ∈ (-∞, 0)`, `x₂ = ln(1 - e^(x₁))`, substituted
/// `x₁ = -e^s` (`dx₁ = e^s ds`). Returns `(∫ p_exp dx₁, ∫ p_exp/y₂ dx₁)` with their halving
/// estimates. Range of `s`: on the left `p_exp/y₂ · e^s ~ e^(τs)` (from the logistic tail in
/// `t ≈ -s`), so `s ≥ -(45 + |l₁ - l₂|)/τ - 10`; on the right `p_exp ~ exp(-τe^s)`, cut at
/// `e^s = 10⁵`. Step `0.002`: near the right end `t ≈ -e^s` moves fast with `s`, on the scale
/// `1/(τe^s)`, and the double-exponential decay there makes the rule converge anyway (the
/// halving estimate checks it).
fn chart_integrals(l1: f64, l2: f64, tau: f64) -> (Quad, Quad) {
    let c = concrete(&[l1, l2], tau);
    let s_min = -(45.0 + (l1 - l2).abs()) / tau - 10.0;
    let s_max = 1e5f64.ln();
    let h = 0.002;
    let n = ((s_max - s_min) / h).ceil() as i64;
    let (mut raw, mut raw2, mut norm, mut norm2) = (
        Sum::default(),
        Sum::default(),
        Sum::default(),
        Sum::default(),
    );
    for i in 0..=n {
        let s = s_min + i as f64 * h;
        let x1 = -s.exp();
        let x2 = (-x1.exp_m1()).ln(); // ln(1 - e^(x₁)), accurate for x₁ near 0
        let ln_p_exp = c.ln_pdf_exp(&[x1, x2]).unwrap();
        let raw_v = (ln_p_exp + s).exp(); // p_exp · dx₁/ds
        let norm_v = (ln_p_exp - x2 + s).exp(); // p_exp / y₂ · dx₁/ds
        raw.add(raw_v);
        norm.add(norm_v);
        if i % 2 == 0 {
            raw2.add(raw_v);
            norm2.add(norm_v);
        }
    }
    (
        Quad {
            fine: raw.value() * h,
            coarse: raw2.value() * 2.0 * h,
        },
        Quad {
            fine: norm.value() * h,
            coarse: norm2.value() * 2.0 * h,
        },
    )
}

#[test]
fn exp_concrete_is_normalised_only_after_dividing_by_the_last_coordinate() {
    let cases = [
        (0.0, 0.0),
        (0.3_f64.ln(), 0.7_f64.ln()),
        (0.25_f64.ln(), 0.75_f64.ln()),
        (1.0, -2.0),
    ];
    for (l1, l2) in cases {
        for tau in TAUS {
            let (raw, normalised) = chart_integrals(l1, l2, tau);
            check_mass(
                &normalised,
                &format!("p_exp/y₂ in the chart ln y₁, l = ({l1:.4}, {l2:.4}), τ = {tau}"),
            );
            let e_y2 = expected_last(l1, l2, tau);
            let halving = (raw.fine - raw.coarse).abs();
            println!(
                "raw p_exp in the chart, l = ({l1:.4}, {l2:.4}), τ = {tau}: ∫ = {:.10}, E[y₂] = {e_y2:.10}",
                raw.fine
            );
            assert!(halving <= 1e-12, "raw: halving estimate {halving:e}");
            // Both sides are converged quadratures of positive terms: 1e-11 as above.
            assert!(
                (raw.fine - e_y2).abs() <= 1e-11,
                "∫ p_exp dx₁ = {} but E[y₂] = {e_y2}",
                raw.fine
            );
            if l1 != l2 {
                // Not normalised: off by far more than any quadrature error.
                assert!((raw.fine - 1.0).abs() > 0.1, "raw ∫ = {}", raw.fine);
            } else {
                assert!((raw.fine - 0.5).abs() <= 1e-11, "equal logits: E[y₂] = ½");
            }
        }
    }
    // docs/design/math.md §1's "about 0.675", at the parameters where it reproduces.
    let (raw, _) = chart_integrals(0.3_f64.ln(), 0.7_f64.ln(), 0.5);
    assert!((raw.fine - 0.675).abs() < 5e-4, "{}", raw.fine);
    let (raw, _) = chart_integrals(0.25_f64.ln(), 0.75_f64.ln(), 1.0);
    assert!((raw.fine - 0.675).abs() < 2e-3, "{}", raw.fine);
}
