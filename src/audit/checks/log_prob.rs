//! Checks of the Concrete log density: pointwise against the reference, the mpmath conformance
//! vectors, invariance under a logit shift, and mass and fit against the target's own samples.
//! Notation and error control: `audit::checks`; tolerances: `audit::tolerance`.

use crate::audit::checks::common::{floats, fmt_p, internal, precision, valid};
use crate::audit::checks::precision::{band_note, ks_band, log_ratio_delta};
use crate::audit::checks::relaxed::relaxed_draws;
use crate::audit::ctx::Ctx;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::target::{Dtype, TargetError};
use crate::audit::tolerance;
use crate::distributions::{Concrete, Logits};
use crate::error::Error;
use crate::numeric::{log_sum_exp, sigmoid};
use crate::rng::seeded;
use crate::stats::ks_one_sample;

/// One (logits, τ, rows) case of the pointwise density checks.
type DensityCase = (Vec<f64>, f64, Vec<f64>);

/// The fixed points of the pointwise density checks: (logits, τ, rows). Rows are reference
/// Concrete samples (seeded, so the points are the same in every run) plus hand-picked points.
fn density_points() -> Result<Vec<DensityCase>, Error> {
    let mut cases = vec![
        (vec![1.0, 0.0, -1.0], 0.5, vec![1.0 / 3.0; 3]),
        (vec![2.0, -1.0, 0.5, 0.0, -3.0], 1.0, Vec::new()),
        (
            vec![0.3, -0.3],
            0.1,
            vec![0.5, 0.5, 0.9, 0.1, 1e-3, 1.0 - 1e-3],
        ),
        ((0..10).map(|i| (i as f64).sin()).collect(), 2.0, Vec::new()),
    ];
    cases[0].2.extend([0.98, 0.0199, 0.0001]);
    let mut rng = seeded(0xD0C5);
    for (l, tau, rows) in cases.iter_mut() {
        let c = Concrete::new(Logits::from_slice(l)?, *tau)?;
        for _ in 0..5 {
            let y = c.sample(&mut rng);
            // Entries above 1e-20 so that the points are representable in float32 too.
            if y.iter().all(|&v| v > 1e-20) {
                rows.extend(y);
            }
        }
    }
    Ok(cases)
}

/// The magnitude `M` that rounding errors of the log density scale with (module doc).
fn density_magnitude(l: &[f64], tau: f64, row: &[f64]) -> f64 {
    let k = l.len() as f64;
    let lp = Logits::from_slice(l)
        .map(|x| x.log_probs().to_vec())
        .unwrap_or_default();
    let a: Vec<f64> = lp.iter().zip(row).map(|(p, y)| p - tau * y.ln()).collect();
    let lse = log_sum_exp(&a);
    statrs::function::gamma::ln_gamma(k).abs()
        + (k - 1.0) * tau.ln().abs()
        + l.iter().map(|v| v.abs()).sum::<f64>()
        + lp.iter().map(|v| v.abs()).sum::<f64>()
        + (tau + 1.0) * row.iter().map(|y| y.ln().abs()).sum::<f64>()
        + k * lse.abs()
}

/// The rule for values beyond the dtype's range: where the exact log density exceeds the
/// dtype's largest finite value (65504 in float16) and the implementation returned the
/// infinity of the same sign, no implementation at that precision can do better: a `warn`,
/// stated, and the value is set to the reference's so that the comparison leaves it alone.
/// Returns the number of such values.
fn overflow_warn(
    o: &mut Outcome,
    case: &str,
    dtype: Dtype,
    got: &mut [f64],
    want: &[f64],
) -> usize {
    let max = dtype.format().max_finite;
    let mut count = 0;
    for (g, &w) in got.iter_mut().zip(want) {
        if w.is_finite() && w.abs() > max && g.is_infinite() && g.signum() == w.signum() {
            *g = w;
            count += 1;
        }
    }
    if count > 0 {
        o.warns.push(format!(
            "{case}: {count} log densities beyond {}'s largest finite value {max:e} came back \
             infinite (the exact values are finite; unavoidable at this precision)",
            dtype.as_str()
        ));
    }
    count
}

/// Which rows of `y` (`k` entries each) are points of `dtype` (every entry at least
/// `tolerance::min_point`; only the half types are restricted here: the fixed points keep
/// their entries above 1e-20 for float32). Rows that are not are left out; a non-finite value
/// there is a `warn` (the dtype cannot represent the point), counted with the rest in a note.
fn points_of(
    o: &mut Outcome,
    case: &str,
    dtype: Dtype,
    y: &[f64],
    k: usize,
    got: &[f64],
) -> Vec<bool> {
    let min = match tolerance::min_point(dtype) {
        Some(min) if dtype.is_half() => min,
        _ => return vec![true; got.len()],
    };
    let keep: Vec<bool> = y
        .chunks_exact(k)
        .map(|row| row.iter().all(|&v| v >= min))
        .collect();
    let left: Vec<usize> = (0..keep.len()).filter(|&j| !keep[j]).collect();
    if !left.is_empty() {
        let nonfinite = left.iter().filter(|&&j| !got[j].is_finite()).count();
        o.notes.push(format!(
            "{case}: {} points with an entry below {min:e} not judged at {}",
            left.len(),
            dtype.as_str()
        ));
        if nonfinite > 0 {
            o.warns.push(format!(
                "{case}: {nonfinite} of the {} points outside {}'s range gave non-finite values",
                left.len(),
                dtype.as_str()
            ));
        }
    }
    keep
}

/// The values whose `keep` is true.
fn pick(values: &[f64], keep: &[bool]) -> Vec<f64> {
    values
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(v, _)| *v)
        .collect()
}

/// A KS statistic and its p-value, plain or band (`checks::precision`).
struct KsSummary {
    statistic: f64,
    p_value: f64,
}

/// Compares target values against reference values at points; pushes failures.
pub(crate) fn compare_points(
    o: &mut Outcome,
    case: &str,
    got: &[f64],
    want: &[f64],
    tols: &[f64],
) -> usize {
    let mut bad = 0;
    let mut worst = (0.0f64, 0usize);
    o.max_tolerance = tols.iter().copied().fold(o.max_tolerance, f64::max);
    for (j, ((&g, &w), &t)) in got.iter().zip(want).zip(tols).enumerate() {
        let d = (g - w).abs();
        if d.is_nan() || d > t {
            bad += 1;
            if d.is_nan() || d > worst.0 {
                worst = (if d.is_nan() { f64::INFINITY } else { d }, j);
            }
        }
    }
    if bad > 0 {
        let j = worst.1;
        o.fails.push(format!(
            "{case}: {bad} of {} values off; e.g. point {j}: got {}, expected {} (tolerance {:.1e})",
            got.len(),
            got[j],
            want[j],
            tols[j]
        ));
    }
    bad
}

/// `log_prob.pointwise` (exact): `relaxed_log_prob` at 24 fixed points of four (logits, τ)
/// cases (k = 2, 3, 5, 10; τ = 0.1 to 2) against [`Concrete::ln_pdf`], within
/// `256 ε (1 + M)` (module doc). Catches the ExpConcrete convention (off by `Σ ln y_i`), a
/// missing `(k-1)!` or `τ^(k-1)`, and logits used where `ln π` belongs.
pub(crate) fn log_prob_pointwise(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("exact: |lp - lp_ref| ≤ 256 ε (1 + M) at fixed points");
    for (l, tau, y) in density_points().map_err(internal)? {
        let k = l.len();
        let m = y.len() / k;
        let case = format!("k = {k}, τ = {tau}");
        let a = match valid(ctx.target.relaxed_log_prob(&l, tau, &y), &case)? {
            Ok(a) => a,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let dtype = precision(ctx.dtype(), &a);
        let mut got = floats(&a, &[m], "relaxed_log_prob")?;
        let c = Concrete::new(Logits::from_slice(&l).map_err(internal)?, tau).map_err(internal)?;
        let mut want = Vec::new();
        let mut tols = Vec::new();
        for row in y.chunks_exact(k) {
            want.push(c.ln_pdf(row).map_err(internal)?);
            tols.push(tolerance::density(dtype, density_magnitude(&l, tau, row)));
        }
        overflow_warn(&mut o, &case, dtype, &mut got, &want);
        let keep = points_of(&mut o, &case, dtype, &y, k, &got);
        let (got, want, tols) = (pick(&got, &keep), pick(&want, &keep), pick(&tols, &keep));
        let m = got.len();
        o.n += m as u64;
        if compare_points(&mut o, &case, &got, &want, &tols) == 0 {
            o.notes.push(format!("{case}: {m} points agree"));
        }
    }
    Ok(o)
}

/// The conformance vectors of the Concrete density (`fixtures/concrete.json`, computed by the
/// mpmath oracle at 50 digits; `fixtures/README.md`), embedded so that the binary needs no files.
const CONCRETE_FIXTURES: &str = include_str!("../../../fixtures/concrete.json");

/// One unmasked conformance case: name, logits, τ, the point `y` and the oracle's `ln p(y)`.
struct ConformanceCase {
    name: String,
    logits: Vec<f64>,
    tau: f64,
    y: Vec<f64>,
    ln_pdf: f64,
}

/// The unmasked cases of [`CONCRETE_FIXTURES`]. Masked cases are left out: the density of a
/// distribution with masked categories (over the unmasked sub-simplex) is this project's
/// convention, not protocol v1's, and a target is not judged on it.
fn conformance_cases() -> Result<Vec<ConformanceCase>, TargetError> {
    let bad =
        |what: &str| TargetError::Fault(format!("internal error: fixtures/concrete.json {what}"));
    let doc: serde_json::Value =
        serde_json::from_str(CONCRETE_FIXTURES).map_err(|e| bad(&e.to_string()))?;
    let cases = doc["cases"].as_array().ok_or_else(|| bad("has no cases"))?;
    let num = |v: &serde_json::Value| -> Option<f64> {
        match v {
            serde_json::Value::String(t) if t == "-inf" => Some(f64::NEG_INFINITY),
            other => other.as_f64(),
        }
    };
    let mut out = Vec::new();
    for c in cases {
        let list = |key: &str| -> Option<Vec<f64>> { c[key].as_array()?.iter().map(num).collect() };
        let (Some(logits), Some(y), Some(tau), Some(ln_pdf)) = (
            list("logits"),
            list("y"),
            c["tau"].as_f64(),
            num(&c["ln_pdf"]),
        ) else {
            return Err(bad("has a malformed case"));
        };
        if logits.iter().any(|l| !l.is_finite()) {
            continue;
        }
        out.push(ConformanceCase {
            name: c["name"].as_str().unwrap_or("?").to_string(),
            logits,
            tau,
            y,
            ln_pdf,
        });
    }
    Ok(out)
}

/// `log_prob.conformance` (exact): `relaxed_log_prob` at every unmasked case of the conformance
/// vectors (`fixtures/concrete.json`: τ from 1e-3 to 1e3, entries of `y` down to 1e-300, logits
/// up to ±1e3, `k` up to 1000) against the oracle's value, within `256 ε (1 + M)` (module doc).
///
/// A float64 implementation is judged at every case: each point and value is representable and
/// finite, and a log-space implementation reaches it. A float32 implementation is judged only at
/// the cases inside float32's range (every `y_i ≥ 1e-37`, `|l_i| ≤ 1e3`); the others are not
/// judged, and a NaN or inf there is a `warn` (float32 cannot represent the point).
pub(crate) fn log_prob_conformance(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("exact: |lp - lp_oracle| ≤ 256 ε (1 + M) at the conformance vectors");
    let mut out_of_range = 0usize;
    let mut out_of_range_nonfinite = Vec::new();
    let mut off = Vec::new();
    for case in conformance_cases()? {
        let k = case.logits.len();
        let label = format!("{} (k = {k})", case.name);
        // Whether the point is one of `dtype`'s points (float32: every y_i ≥ 1e-37 and
        // |l_i| ≤ 1e3; float16: y_i ≥ 5e-4, |l_i| ≤ 1e2; bfloat16: y_i ≥ 1e-37, |l_i| ≤ 1e2).
        let representable = |dtype: Dtype| {
            tolerance::min_point(dtype).is_none_or(|min| case.y.iter().all(|&v| v >= min))
                && tolerance::max_logit(dtype)
                    .is_none_or(|max| case.logits.iter().all(|l| l.abs() <= max))
        };
        let r = ctx.target.relaxed_log_prob(&case.logits, case.tau, &case.y);
        let declared = ctx.dtype();
        if !representable(declared) {
            // Not judged: the point is not a float32 point. A refusal is fine; NaN/inf warns.
            out_of_range += 1;
            match r {
                Ok(a) => {
                    let got = floats(&a, &[1], "relaxed_log_prob")?;
                    if !got[0].is_finite() {
                        out_of_range_nonfinite.push(format!("{label}: {}", got[0]));
                    }
                }
                Err(TargetError::Rejected(_)) => {}
                Err(e) => return Err(e),
            }
            continue;
        }
        let a = match valid(r, &label)? {
            Ok(a) => a,
            Err(msg) => {
                off.push(msg);
                o.n += 1;
                continue;
            }
        };
        let dtype = precision(declared, &a);
        let mut got = floats(&a, &[1], "relaxed_log_prob")?;
        if !representable(dtype) {
            // Declared finer than the array returned: the value cannot be judged either.
            out_of_range += 1;
            if !got[0].is_finite() {
                out_of_range_nonfinite.push(format!("{label}: {}", got[0]));
            }
            continue;
        }
        let tol = tolerance::density(dtype, density_magnitude(&case.logits, case.tau, &case.y));
        if overflow_warn(&mut o, &label, dtype, &mut got, &[case.ln_pdf]) > 0 {
            continue;
        }
        o.n += 1;
        let mut one = Outcome::default();
        compare_points(&mut one, &label, &got, &[case.ln_pdf], &[tol]);
        o.max_tolerance = o.max_tolerance.max(one.max_tolerance);
        off.extend(one.fails);
    }
    if !off.is_empty() {
        let shown = off.len().min(3);
        o.fails.push(format!(
            "{} of {} cases off, e.g. {}",
            off.len(),
            o.n,
            off[..shown].join("; ")
        ));
    }
    if out_of_range > 0 {
        o.notes.push(format!(
            "{out_of_range} cases outside the dtype's range not judged"
        ));
    }
    if !out_of_range_nonfinite.is_empty() {
        o.warns.push(format!(
            "{} of {out_of_range} cases outside the dtype's range gave non-finite values, e.g. {}",
            out_of_range_nonfinite.len(),
            out_of_range_nonfinite[0]
        ));
    }
    if o.fails.is_empty() {
        o.notes.push(format!("{} cases agree with the oracle", o.n));
    }
    Ok(o)
}

/// `log_prob.shift` (exact): the target's own `relaxed_log_prob` at the fixed points is the
/// same for logits `l` and `l + 3.7` and `l - 2.5` (the density depends on `π` only), within
/// the pointwise tolerance.
pub(crate) fn log_prob_shift(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("exact: |lp(l + c) - lp(l)| ≤ 256 ε (1 + M), c = 3.7 and -2.5");
    for (l, tau, y) in density_points().map_err(internal)? {
        let k = l.len();
        let m = y.len() / k;
        let case = format!("k = {k}, τ = {tau}");
        let Ok(base) = valid(ctx.target.relaxed_log_prob(&l, tau, &y), &case)? else {
            o.fails.push(format!("{case}: valid input rejected"));
            continue;
        };
        let dtype = precision(ctx.dtype(), &base);
        let base = floats(&base, &[m], "relaxed_log_prob")?;
        for c in [3.7, -2.5] {
            let shifted: Vec<f64> = l.iter().map(|v| v + c).collect();
            let Ok(a) = valid(ctx.target.relaxed_log_prob(&shifted, tau, &y), &case)? else {
                o.fails
                    .push(format!("{case}, shift {c}: valid input rejected"));
                continue;
            };
            let got = floats(&a, &[m], "relaxed_log_prob")?;
            let tols: Vec<f64> = y
                .chunks_exact(k)
                .map(|row| {
                    tolerance::density(dtype, density_magnitude(&shifted, tau, row) + c.abs())
                })
                .collect();
            let label = format!("{case}, shift {c}");
            let keep = points_of(&mut o, &label, dtype, &y, k, &got);
            let (got, base, tols) = (pick(&got, &keep), pick(&base, &keep), pick(&tols, &keep));
            o.n += got.len() as u64;
            compare_points(&mut o, &label, &got, &base, &tols);
        }
    }
    if o.fails.is_empty() {
        o.notes.push("invariant at every point".into());
    }
    Ok(o)
}

/// `log_prob.own_samples`: for k = 2 (logits (0.4, -0.3), τ = 0.5) the target's density is
/// integrated in logit space `s = ln(y_0/y_1)` on a grid of 6001 points over `[-60, 60]`
/// (trapezoid, `dy_0 = y_0 y_1 ds`): (exact) the mass is 1 within 1e-6 (float64) or 1e-4
/// (float32); and its CDF is the law of the target's own `relaxed_n` samples (KS, n = 10⁵ at
/// standard; detects a CDF discrepancy ≈ 0.013 at α_i). A sampler and density that disagree
/// fail, whichever of the two is wrong; the ExpConcrete convention integrates to about 0.675.
pub(crate) fn log_prob_own_samples(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let (l, tau) = (vec![0.4, -0.3], 0.5);
    let mut o =
        Outcome::new("exact: ∫p = 1 ± tol(dtype); KS of own samples vs the CDF of own density");
    let grid: Vec<f64> = (0..=6000).map(|j| -60.0 + 0.02 * j as f64).collect();
    let y: Vec<f64> = grid
        .iter()
        .flat_map(|&s| [sigmoid(s), sigmoid(-s)])
        .collect();
    let lp = match valid(ctx.target.relaxed_log_prob(&l, tau, &y), "grid")? {
        Ok(a) => a,
        Err(msg) => {
            o.fails.push(msg);
            return Ok(o);
        }
    };
    let dtype = precision(ctx.dtype(), &lp);
    let lp = floats(&lp, &[grid.len()], "relaxed_log_prob")?;
    let nan = lp
        .iter()
        .filter(|v| v.is_nan() || **v == f64::INFINITY)
        .count();
    if nan > 0 {
        let msg = format!(
            "density NaN or +inf at {nan} of {} interior grid points",
            grid.len()
        );
        if dtype != Dtype::Float64 {
            o.warns
                .push(msg + &format!(" ({}; treated as 0)", dtype.as_str()));
        } else {
            o.fails.push(msg);
        }
    }
    // Integrand in s: p(y(s)) y_0 y_1, in log space.
    let f: Vec<f64> = lp
        .iter()
        .zip(&grid)
        .map(|(&v, &s)| {
            if v.is_finite() {
                (v + crate::numeric::ln_sigmoid(s) + crate::numeric::ln_sigmoid(-s)).exp()
            } else {
                0.0
            }
        })
        .collect();
    let mut cdf = vec![0.0; f.len()];
    for j in 1..f.len() {
        cdf[j] = cdf[j - 1] + 0.01 * (f[j] + f[j - 1]);
    }
    let mass = cdf[cdf.len() - 1];
    let tol = tolerance::density_mass(dtype);
    if mass.is_nan() || (mass - 1.0).abs() > tol {
        o.fails.push(format!(
            "the density integrates to {mass:.6}, not 1 (tolerance {tol:e})"
        ));
    } else {
        o.notes.push(format!("∫p = {mass:.8}"));
    }
    let Ok((samples, sample_dtype)) = valid(relaxed_draws(ctx, &l, tau), "relaxed_sample")? else {
        o.fails.push("valid relaxed_sample rejected".into());
        return Ok(o);
    };
    let mut data = Vec::new();
    let mut deltas = Vec::new();
    let mut left_out = 0;
    for row in samples.chunks_exact(2) {
        if row[0] > 0.0 && row[1] > 0.0 && row.iter().all(|v| v.is_finite()) {
            data.push(row[0].ln() - row[1].ln());
            deltas.push(log_ratio_delta(sample_dtype, row[0], row[1]));
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        o.warns
            .push(format!("{left_out} own samples on the boundary left out"));
    }
    if mass > 0.0 && !data.is_empty() {
        let cdf_at = |s: f64| -> f64 {
            if s <= grid[0] {
                return 0.0;
            }
            if s >= grid[grid.len() - 1] {
                return 1.0;
            }
            let pos = (s - grid[0]) / 0.02;
            let j = (pos.floor() as usize).min(grid.len() - 2);
            let t = pos - j as f64;
            (((1.0 - t) * cdf[j] + t * cdf[j + 1]) / mass).clamp(0.0, 1.0)
        };
        let r = if sample_dtype.is_half() {
            let pts: Vec<(f64, f64)> = data.iter().copied().zip(deltas).collect();
            let band = ks_band(&pts, cdf_at).map_err(internal)?;
            o.notes.push(band_note(sample_dtype, &band));
            KsSummary {
                statistic: band.statistic,
                p_value: band.p_value,
            }
        } else {
            let r = ks_one_sample(&data, cdf_at).map_err(internal)?;
            KsSummary {
                statistic: r.statistic,
                p_value: r.p_value,
            }
        };
        o.p_value = Some(r.p_value);
        o.power = Some(Power::Dkwm {
            n: data.len() as u64,
            parts: 1,
        });
        o.notes.push(format!(
            "own samples vs own density: D = {:.5}, p = {}",
            r.statistic,
            fmt_p(r.p_value)
        ));
    }
    o.n = data.len() as u64;
    Ok(o)
}
