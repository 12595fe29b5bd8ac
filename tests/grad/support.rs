//! Helpers shared by the modules of the grad binary (unbiased.rs, variance.rs): the test cases, exact
//! enumeration of the REINFORCE row distribution, an independent estimator of the relaxed
//! gradient (the Concrete score function), trace-variance estimates with a kurtosis-aware
//! standard error, and critical values.
//!
//! # Formulas
//! ```text
//! trace variance     V = tr Cov[ĝ] = E ||ĝ - μ||²
//! its estimate       V̂ = (1/(n-1)) Σ_r ||ĝ_r - ḡ||²,   se(V̂) = sd_r(||ĝ_r - ḡ||²) / √n
//! log-scale se       se(ln V̂) = se(V̂) / V̂                            (delta method)
//! Concrete score     ∂/∂l_j ln p_τ(y; l) = 1 - k' w_j,   w = softmax_{unmasked}(l - τ ln y)
//! score row          (f(y) - b)(1 - k' w)   unbiased for ∇_l E f(y), any constant b
//! Bernstein          P(|Ȳ - EY| ≥ t) ≤ 2 exp(-n t² / (2σ² + 2Mt/3)),  |Y - EY| ≤ M
//! ```
//! The score row follows from the Concrete log density (docs/design/math.md §1, with `ln π_i = l_i -
//! logsumexp l`): `ln p = Σ_i l_i - k' logsumexp_i(l_i - τ ln y_i) + (terms free of l)`. It
//! needs only the density, not the reparameterisation, so it is an estimator of `∇L_τ`
//! independent of the pathwise code under test. (`l_i - τ ln y_i = -g_i + const` at
//! `y = y(l, g)`, so it is bounded: `|1 - k' w_j| ≤ k' - 1`.)
use gumbel_audit::distributions::{Concrete, Logits};
use gumbel_audit::grad::Objective;
use gumbel_audit::stats::chi2_isf;
use nalgebra::DMatrix;

/// A test case: logits and objective, with a short name for messages.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub logits: Logits,
    pub objective: Objective,
}

/// The four cases used throughout: k = 2, k = 3, k = 5 and k = 4 with a masked category.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "k2 MATH quadratic",
            logits: Logits::new(vec![0.0, 0.0]).unwrap(),
            objective: Objective::quadratic(vec![0.45, 0.55]).unwrap(),
        },
        Case {
            name: "k3 linear",
            logits: Logits::new(vec![0.5, -0.3, 0.1]).unwrap(),
            objective: Objective::linear(vec![1.0, -1.0, 0.5]).unwrap(),
        },
        Case {
            name: "k5 quadratic",
            logits: Logits::new(vec![1.0, 0.2, -0.5, -1.2, 0.3]).unwrap(),
            objective: Objective::quadratic(vec![0.1, 0.4, -0.3, 0.8, 0.2]).unwrap(),
        },
        Case {
            name: "k4 masked linear",
            logits: Logits::new(vec![0.2, f64::NEG_INFINITY, -0.4, 0.9]).unwrap(),
            objective: Objective::linear(vec![2.0, 5.0, -1.0, 0.5]).unwrap(),
        },
    ]
}

/// The k = 3 quadratic case (a case where a good baseline beats Gumbel-Softmax).
pub fn k3_quadratic() -> Case {
    Case {
        name: "k3 quadratic",
        logits: Logits::new(vec![0.5, -0.3, 0.1]).unwrap(),
        objective: Objective::quadratic(vec![0.2, 0.5, 0.3]).unwrap(),
    }
}

/// Indices of the unmasked categories.
pub fn unmasked(logits: &Logits) -> Vec<usize> {
    (0..logits.len())
        .filter(|&i| !logits.is_masked(i))
        .collect()
}

/// The rows restricted to the coordinates `keep` (as `Vec` rows for the Hotelling tests).
pub fn project(rows: &DMatrix<f64>, keep: &[usize]) -> Vec<Vec<f64>> {
    rows.row_iter()
        .map(|r| keep.iter().map(|&j| r[j]).collect())
        .collect()
}

/// `v` restricted to `keep`.
pub fn pick(v: &[f64], keep: &[usize]) -> Vec<f64> {
    keep.iter().map(|&j| v[j]).collect()
}

/// Column means of an `n × k` matrix.
pub fn column_means(rows: &DMatrix<f64>) -> Vec<f64> {
    rows.column_iter().map(|c| c.mean()).collect()
}

/// Euclidean norm.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// A trace-variance estimate with its standard error.
#[derive(Debug, Clone, Copy)]
pub struct TraceVariance {
    pub value: f64,
    pub se: f64,
}

impl TraceVariance {
    /// `se(ln V̂)`.
    pub fn log_se(&self) -> f64 {
        self.se / self.value
    }
}

/// `V̂` and `se(V̂)` of the module doc (two passes: centre, then sum squared norms).
pub fn trace_variance(rows: &DMatrix<f64>) -> TraceVariance {
    let n = rows.nrows() as f64;
    let mean = column_means(rows);
    let d2: Vec<f64> = rows
        .row_iter()
        .map(|r| r.iter().zip(&mean).map(|(x, m)| (x - m) * (x - m)).sum())
        .collect();
    let m = d2.iter().sum::<f64>() / n;
    let var_d2 = d2.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    TraceVariance {
        value: m * n / (n - 1.0),
        se: (var_d2 / n).sqrt(),
    }
}

/// Two-sided standard normal critical value at level `alpha`: `√(χ²₁ upper-α quantile)`.
pub fn z_two_sided(alpha: f64) -> f64 {
    chi2_isf(alpha, 1.0).unwrap().sqrt()
}

/// One-sided standard normal critical value at level `alpha`.
pub fn z_one_sided(alpha: f64) -> f64 {
    z_two_sided(2.0 * alpha)
}

/// The Bernstein threshold `t` with `2 exp(-n t² / (2σ² + 2Mt/3)) = alpha`.
pub fn bernstein_threshold(n: f64, sigma2: f64, range: f64, alpha: f64) -> f64 {
    let l = (2.0 / alpha).ln();
    let b = 2.0 * range * l / 3.0;
    (b + (b * b + 8.0 * n * sigma2 * l).sqrt()) / (2.0 * n)
}

/// `∫_0^1 u^p (1-u)^q du = p! q! / (p+q+1)!`.
pub fn beta(p: u32, q: u32) -> f64 {
    let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
    fact(p) * fact(q) / fact(p + q + 1)
}

/// The exact distribution of a row: `(probability, row)` over the support.
pub type Support = Vec<(f64, Vec<f64>)>;

/// Every ordered tuple of length `m` over the unmasked categories, with its probability.
pub fn tuples(logits: &Logits, m: usize) -> Vec<(f64, Vec<usize>)> {
    let p = logits.probs();
    let keep = unmasked(logits);
    let mut out: Vec<(f64, Vec<usize>)> = vec![(1.0, Vec::new())];
    for _ in 0..m {
        let mut next = Vec::with_capacity(out.len() * keep.len());
        for (w, xs) in &out {
            for &c in &keep {
                let mut ys = xs.clone();
                ys.push(c);
                next.push((w * p[c], ys));
            }
        }
        out = next;
    }
    out
}

/// One row of the Concrete score-function estimator `(f(y) - b)(1 - k' w)` (module doc) from
/// standard Gumbel noise; masked coordinates are 0.
pub fn concrete_score_row(concrete: &Concrete, f: &Objective, b: f64, noise: &[f64]) -> Vec<f64> {
    let l = concrete.logits();
    let tau = concrete.temperature();
    let keep = unmasked(l);
    let y = concrete.from_noise(noise).unwrap();
    let log_y = concrete.log_from_noise(noise).unwrap();
    let s: Vec<f64> = keep
        .iter()
        .map(|&i| l.values()[i] - tau * log_y[i])
        .collect();
    let mx = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = s.iter().map(|v| (v - mx).exp()).collect();
    let tot: f64 = e.iter().sum();
    let kk = keep.len() as f64;
    let fy = f.value(&y).unwrap() - b;
    let mut row = vec![0.0; l.len()];
    for (&i, ei) in keep.iter().zip(&e) {
        row[i] = fy * (1.0 - kk * ei / tot);
    }
    row
}
