//! Checks of robustness: invalid input (`bad_input`, with the temperature rules) and
//! reproducibility under a seed. Notation and error control: `audit::checks`.

use crate::audit::checks::common::valid;
use crate::audit::checks::grad::GR_DRAWS;
use crate::audit::checks::relaxed::RELAXED_LOGITS;
use crate::audit::ctx::Ctx;
use crate::audit::outcome::Outcome;
use crate::audit::target::{Array, GradRequest, ObjectiveSpec, Op, TargetError};

/// What a correct implementation does with one invalid or edge request of `bad_input`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Refuse it, or answer with finite values (NaN or inf is a silent failure).
    RefuseOrFinite,
    /// The valid edge k = 1: every value equals this one.
    Single(f64),
    /// τ < 0: refuse it. A negative temperature defines no Concrete law: `softmax((l + g)/τ)`
    /// with τ < 0 is a sample of another law (PyTorch's `F.gumbel_softmax` returns it without
    /// a word), so any answer is a `fail`.
    Refuse,
    /// τ = 0 for samples: refuse it, or answer with the exact hard limit, the one-hot of the
    /// argmax (rows of `k` entries, one 1 and `k - 1` zeros; `k = 1` for binary samples, whose
    /// limit is 0 or 1). NaN, inf or anything else is a `fail`.
    RefuseOrHardLimit(usize),
    /// τ = 0 for densities: refuse it, or answer `-inf` (the limit of the log density at an
    /// interior point: the density is `τ^(k-1)` times a bounded factor). NaN or a finite value
    /// is a `fail`.
    RefuseOrMinusInf,
}

/// The verdict of one `bad_input` answer: `None` if correct, else the failure.
fn judge_answer(case: &str, expect: Expect, values: &[f64]) -> Option<String> {
    let nonfinite = values.iter().filter(|x| !x.is_finite()).count();
    let total = values.len();
    match expect {
        Expect::Refuse => Some(format!(
            "{case}: answered with {total} values instead of an error (τ < 0 is not a Concrete \
             distribution: softmax((l + g)/τ) then samples a different law)"
        )),
        Expect::RefuseOrMinusInf => {
            let wrong = values.iter().filter(|&&x| x != f64::NEG_INFINITY).count();
            (wrong > 0).then(|| {
                format!(
                    "{case}: {wrong} of {total} values are not -inf (the τ → 0 limit of the log \
                     density at an interior point), and no error was returned"
                )
            })
        }
        _ if nonfinite > 0 => Some(format!(
            "{case}: {nonfinite} of {total} values NaN or inf, returned without an error"
        )),
        Expect::RefuseOrFinite => None,
        Expect::Single(want) => values
            .iter()
            .any(|&x| x != want)
            .then(|| format!("{case}: k = 1 must always give {want}")),
        Expect::RefuseOrHardLimit(k) => {
            let not_hard = values
                .chunks(k.max(1))
                .filter(|row| {
                    let ones = row.iter().filter(|&&v| v == 1.0).count();
                    let zeros = row.iter().filter(|&&v| v == 0.0).count();
                    !((ones == 1 && zeros == row.len() - 1) || (k == 1 && zeros == 1))
                })
                .count();
            (not_hard > 0).then(|| {
                format!(
                    "{case}: {not_hard} rows are not the τ = 0 limit (the one-hot of the \
                     argmax), and no error was returned"
                )
            })
        }
    }
}

/// Counts of `bad_input`'s requests.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    rejected: usize,
    answered: usize,
}

impl Tally {
    /// Judges one answer into `o`.
    fn judge(
        &mut self,
        o: &mut Outcome,
        case: String,
        r: Result<Array, TargetError>,
        expect: Expect,
    ) -> Result<(), TargetError> {
        self.cases += 1;
        match r {
            Err(TargetError::Rejected(_)) => {
                self.rejected += 1;
                Ok(())
            }
            Err(TargetError::Unsupported) => Ok(()),
            Err(e) => Err(e),
            Ok(a) => {
                self.answered += 1;
                if let Some(msg) = judge_answer(&case, expect, &a.to_f64()) {
                    o.fails.push(msg);
                }
                Ok(())
            }
        }
    }
}

/// `bad_input` (exact): invalid parameters sent on purpose (τ = 0, τ = -0.5, a NaN logit, all
/// logits `-inf`, k = 0) and the valid edge k = 1 to every op offered, 100 draws each.
///
/// Pass: a clear error ([`TargetError::Rejected`]), or the right answer for the request:
/// - τ < 0 (samples, densities, relaxed gradients): only an error is right ([`Expect::Refuse`]);
/// - τ = 0: samples must be the exact hard limit (one-hot rows; 0 or 1 for binary samples),
///   densities `-inf`; gradients finite;
/// - a NaN logit, all logits `-inf`, k = 0: finite values;
/// - k = 1: the single category (index 0, or the row `[1]`).
///
/// Fail: NaN or inf returned silently (it propagates into training unseen), a sample for
/// τ < 0 (a wrong law, silently), or a τ = 0 answer that is not the limit.
pub(crate) fn bad_input(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new(
        "exact: Rejected, or finite values (τ = 0: the hard limit; τ < 0: only an error); \
         never silent NaN/inf",
    );
    let n = 100;
    let nan = f64::NAN;
    let ninf = f64::NEG_INFINITY;
    let l3 = [0.0, 1.0, -1.0];
    let mut tally = Tally::default();
    let caps = ctx.caps.clone();
    let offers = |op| caps.offers(op);
    if offers(Op::Categorical) {
        for (name, l) in [
            ("NaN logit", vec![0.0, nan, 1.0]),
            ("all masked", vec![ninf, ninf]),
            ("k = 0", vec![]),
        ] {
            let s = ctx.next_seed();
            let r = ctx.target.categorical(&l, n, s);
            tally.judge(
                &mut o,
                format!("categorical {name}"),
                r,
                Expect::RefuseOrFinite,
            )?;
        }
        let s = ctx.next_seed();
        let r = ctx.target.categorical(&[0.3], n, s);
        tally.judge(&mut o, "categorical k = 1".into(), r, Expect::Single(0.0))?;
    }
    if offers(Op::RelaxedSample) {
        for (name, l, tau, expect) in [
            ("τ = 0", l3.to_vec(), 0.0, Expect::RefuseOrHardLimit(3)),
            ("τ = -0.5", l3.to_vec(), -0.5, Expect::Refuse),
            (
                "NaN logit",
                vec![0.0, nan, 1.0],
                0.5,
                Expect::RefuseOrFinite,
            ),
            (
                "all masked",
                vec![ninf, ninf, ninf],
                0.5,
                Expect::RefuseOrFinite,
            ),
            ("k = 0", vec![], 0.5, Expect::RefuseOrFinite),
        ] {
            for hard in [false, true] {
                let s = ctx.next_seed();
                let r = ctx.target.relaxed_sample(&l, tau, hard, n, s);
                let case = format!("relaxed_sample {name} hard={hard}");
                tally.judge(&mut o, case, r, expect)?;
            }
        }
        let s = ctx.next_seed();
        let r = ctx.target.relaxed_sample(&[0.3], 0.5, false, n, s);
        tally.judge(
            &mut o,
            "relaxed_sample k = 1".into(),
            r,
            Expect::Single(1.0),
        )?;
    }
    if offers(Op::RelaxedLogProb) {
        let y = [0.2, 0.3, 0.5];
        for (name, l, tau, expect) in [
            ("τ = 0", l3.to_vec(), 0.0, Expect::RefuseOrMinusInf),
            ("τ = -0.5", l3.to_vec(), -0.5, Expect::Refuse),
            (
                "NaN logit",
                vec![0.0, nan, 1.0],
                0.5,
                Expect::RefuseOrFinite,
            ),
            (
                "all masked",
                vec![ninf, ninf, ninf],
                0.5,
                Expect::RefuseOrFinite,
            ),
        ] {
            let r = ctx.target.relaxed_log_prob(&l, tau, &y);
            tally.judge(&mut o, format!("relaxed_log_prob {name}"), r, expect)?;
        }
    }
    if offers(Op::BinarySample) {
        for (name, l, tau, expect) in [
            ("τ = 0", 0.3, 0.0, Expect::RefuseOrHardLimit(1)),
            ("τ = -0.5", 0.3, -0.5, Expect::Refuse),
            ("NaN logit", nan, 0.5, Expect::RefuseOrFinite),
        ] {
            let s = ctx.next_seed();
            let r = ctx.target.binary_sample(l, tau, n, s);
            tally.judge(&mut o, format!("binary_sample {name}"), r, expect)?;
        }
    }
    if offers(Op::BinaryLogProb) {
        for (name, l, tau, expect) in [
            ("τ = 0", 0.3, 0.0, Expect::RefuseOrMinusInf),
            ("τ = -0.5", 0.3, -0.5, Expect::Refuse),
            ("NaN logit", nan, 0.5, Expect::RefuseOrFinite),
        ] {
            let r = ctx.target.binary_log_prob(l, tau, &[0.3, 0.6]);
            tally.judge(&mut o, format!("binary_log_prob {name}"), r, expect)?;
        }
    }
    if offers(Op::Grad) {
        for est in ctx.caps.estimators.clone() {
            for (name, l, tau, expect) in [
                ("τ = 0", l3.to_vec(), 0.0, Expect::RefuseOrFinite),
                ("τ = -0.5", l3.to_vec(), -0.5, Expect::Refuse),
                (
                    "NaN logit",
                    vec![0.0, nan, 1.0],
                    0.5,
                    Expect::RefuseOrFinite,
                ),
                (
                    "all masked",
                    vec![ninf, ninf, ninf],
                    0.5,
                    Expect::RefuseOrFinite,
                ),
            ] {
                if est == "reinforce" && tau <= 0.0 {
                    continue; // τ is ignored by REINFORCE
                }
                let s = ctx.next_seed();
                let mut req = GradRequest::new(
                    est.clone(),
                    l,
                    tau,
                    ObjectiveSpec::Linear(vec![1.0, 0.0, 0.5]),
                    n,
                    s,
                );
                if est == "gumbel_rao" {
                    req.m = Some(GR_DRAWS);
                }
                let r = ctx.target.grad(&req);
                tally.judge(&mut o, format!("grad {est} {name}"), r, expect)?;
            }
        }
    }
    if tally.cases == 0 {
        return Err(TargetError::Unsupported);
    }
    o.n = tally.cases as u64;
    o.notes.push(format!(
        "{} invalid or edge requests: {} rejected with an error, {} answered",
        tally.cases, tally.rejected, tally.answered
    ));
    Ok(o)
}

/// `reproducibility` (exact): every sampling op offered, asked twice with the same seed and once
/// with another (1000 draws). Different seeds with identical output: `fail` (the seed is
/// ignored, fresh requests would repeat their samples). The same seed with different output:
/// `warn` (the protocol asks for reproducibility as a "should").
pub(crate) fn reproducibility(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new("exact: f(S) == f(S) (warn if not); f(S) != f(S') (fail if equal)");
    let n = 1000;
    let l = RELAXED_LOGITS;
    let mut any = false;
    let ops = [
        Op::Gumbel,
        Op::Categorical,
        Op::RelaxedSample,
        Op::BinarySample,
    ];
    for op in ops {
        if !ctx.caps.offers(op) {
            continue;
        }
        let s1 = ctx.next_seed();
        let s2 = ctx.next_seed();
        // Relaxed samples in soft mode, or hard mode if the target offers only that (Pyro's
        // straight-through distribution); an op that turns out unsupported is left out.
        let mut hard = false;
        let mut call = |seed: u64, hard: bool| -> Result<Array, TargetError> {
            match op {
                Op::Gumbel => ctx.target.gumbel(n, seed),
                Op::Categorical => ctx.target.categorical(&l, n, seed),
                Op::RelaxedSample => ctx.target.relaxed_sample(&l, 0.5, hard, n, seed),
                _ => ctx.target.binary_sample(0.7, 0.5, n, seed),
            }
        };
        let first = match call(s1, false) {
            Err(TargetError::Unsupported) if op == Op::RelaxedSample => {
                hard = true;
                call(s1, true)
            }
            r => r,
        };
        if matches!(first, Err(TargetError::Unsupported)) {
            o.notes
                .push(format!("{}: not offered for these parameters", op.name()));
            continue;
        }
        let first = valid(first, op.name())?;
        let second = valid(call(s1, hard), op.name())?;
        let other = valid(call(s2, hard), op.name())?;
        any = true;
        let (a, b, c) = match (first, second, other) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            _ => {
                o.fails.push(format!("{}: valid input rejected", op.name()));
                continue;
            }
        };
        o.n += 3 * n as u64;
        let same = |x: &Array, y: &Array| {
            x.shape == y.shape
                && x.to_f64()
                    .iter()
                    .zip(y.to_f64().iter())
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        };
        // Output without finite values says nothing about the seed (all-NaN output is the
        // same for every seed); noise.finite and the other checks judge such output.
        let finite = |x: &Array| x.to_f64().iter().filter(|v| v.is_finite()).count();
        if finite(&a) < 2 || finite(&c) < 2 {
            o.notes.push(format!(
                "{}: seeds not judged: the output has fewer than 2 finite values",
                op.name()
            ));
        } else if same(&a, &c) {
            o.fails.push(format!(
                "{}: seeds {s1} and {s2} gave identical output (the seed is ignored)",
                op.name()
            ));
        }
        if !same(&a, &b) {
            o.warns.push(format!(
                "{}: the same seed {s1} gave different output (not reproducible)",
                op.name()
            ));
        }
    }
    if !any {
        return Err(TargetError::Unsupported);
    }
    if o.fails.is_empty() && o.warns.is_empty() {
        o.notes
            .push("same seed same output, different seeds different output".into());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_temperature_must_be_refused_whatever_the_values() {
        assert!(judge_answer("x", Expect::Refuse, &[0.2, 0.3, 0.5]).is_some());
        assert!(judge_answer("x", Expect::RefuseOrFinite, &[0.2, 0.3, 0.5]).is_none());
    }

    #[test]
    fn zero_temperature_accepts_only_the_hard_limit() {
        let hard = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        assert!(judge_answer("x", Expect::RefuseOrHardLimit(3), &hard).is_none());
        let soft = [0.9, 0.1, 0.0, 0.0, 0.0, 1.0];
        assert!(judge_answer("x", Expect::RefuseOrHardLimit(3), &soft).is_some());
        let nan = [f64::NAN, 0.0, 1.0];
        assert!(judge_answer("x", Expect::RefuseOrHardLimit(3), &nan).is_some());
        assert!(judge_answer("x", Expect::RefuseOrHardLimit(1), &[0.0, 1.0, 1.0]).is_none());
        assert!(judge_answer("x", Expect::RefuseOrHardLimit(1), &[0.5]).is_some());
        assert!(judge_answer("x", Expect::RefuseOrMinusInf, &[f64::NEG_INFINITY]).is_none());
        assert!(judge_answer("x", Expect::RefuseOrMinusInf, &[f64::NAN]).is_some());
        assert!(judge_answer("x", Expect::RefuseOrMinusInf, &[-3.0]).is_some());
    }
}
