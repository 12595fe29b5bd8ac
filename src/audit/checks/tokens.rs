//! Checks of the `token_sample` op (LLM token samplers): the support, the law and the
//! convention of temperature, top-k, top-p and min-p sampling against the exact laws of
//! [`crate::tokens`]. Notation and error control: `audit::checks`; the laws: docs/tokens.md.
//!
//! # Cases
//! [`token_cases`]: an ordinary nucleus, exact equality of the cumulative mass with `P`
//! (uniform rows at dyadic `P`), a tie at the top-p boundary (broken by index), `P =
//! 0.9999999` (a far tail dropped; and a row it keeps whole), top-k = 1 with a tie at the top,
//! top-k ≥ the vocabulary, min-p on a flat row (at `M = 0.5` and `M = 1`) and a peaked row, and
//! compositions in `hf` and `vllm` order. Every case's kept set is decided without an undecided
//! token (tested below).
//!
//! # Precision
//! A sampler computing in a dtype of epsilon `ε` moves a comparison `D ⋚ P·S` or
//! `p ⋚ M·p_max` by at most about `s = (k + 4)·ε` relative (recursive summation of `k` terms).
//! Each case has a tight and a loose kept set at slack `∓s` (`tokens::weights`, *Slack*); exact
//! equalities do not move. A draw outside the exact kept set but inside the loose one is a
//! `warn` (a precision limit), outside the loose one a `fail`. The law is tested only on cases
//! whose tight and loose sets agree at the declared dtype (all of them at float64; the far-tail
//! case at float32 is left out and named).
//!
//! # Draws
//! `tokens_n` per case (Plan), one request per case, shared by the three checks (stream
//! `"tokens <case>"`).

use crate::audit::checks::common::{fmt_p, integers, internal, valid};
use crate::audit::ctx::{Ctx, Shared};
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::result::Figure;
use crate::audit::target::{TargetError, TokenRequest};
use crate::error::Error;
use crate::stats::{Alternative, binomial_test, pearson_chi2};
use crate::tokens::{Convention, Order, TokenInput, TokenLaw, TokenParams};

/// One request of the token checks.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenCase {
    /// Short name used in reports and as the seed stream.
    pub name: &'static str,
    /// Logits (`-inf` masked).
    pub logits: Vec<f64>,
    /// Temperature.
    pub temperature: f64,
    /// Top-k (`None`: off).
    pub top_k: Option<usize>,
    /// Top-p (`None`: off).
    pub top_p: Option<f64>,
    /// Min-p (`None`: off).
    pub min_p: Option<f64>,
    /// The composition asked for, for cases with more than one truncation.
    pub order: Option<Order>,
}

impl TokenCase {
    fn new(name: &'static str, logits: Vec<f64>, temperature: f64) -> Self {
        TokenCase {
            name,
            logits,
            temperature,
            top_k: None,
            top_p: None,
            min_p: None,
            order: None,
        }
    }

    fn k(mut self, k: usize) -> Self {
        self.top_k = Some(k);
        self
    }

    fn p(mut self, p: f64) -> Self {
        self.top_p = Some(p);
        self
    }

    fn m(mut self, m: f64) -> Self {
        self.min_p = Some(m);
        self
    }

    fn order(mut self, o: Order) -> Self {
        self.order = Some(o);
        self
    }

    /// The protocol request of this case.
    pub fn request(&self, n: usize, seed: u64) -> TokenRequest {
        let mut r = TokenRequest::new(self.logits.clone(), self.temperature, n, seed);
        r.top_k = self.top_k.map(|k| k as i64);
        r.top_p = self.top_p;
        r.min_p = self.min_p;
        r.order = self.order.map(|o| o.name().to_string());
        r
    }

    /// The law of this case under `convention`, with `slack` (`tokens::weights`).
    pub fn law(&self, convention: Convention, slack: f64) -> Result<TokenLaw, Error> {
        let input = TokenInput::logits(self.logits.clone())?;
        let params = TokenParams::new(
            self.temperature,
            self.top_k,
            self.top_p.unwrap_or(1.0),
            self.min_p.unwrap_or(0.0),
        )?;
        let order = self.order.unwrap_or(Order::Hf);
        TokenLaw::with_slack(&input, &params, order, convention, slack)
    }
}

/// The cases of the token checks (module doc).
pub fn token_cases() -> Vec<TokenCase> {
    let ninf = f64::NEG_INFINITY;
    let wavy: Vec<f64> = (0..10).map(|i| 2.0 * (i as f64 * 0.37).sin()).collect();
    let six = vec![0.0, -0.2, -0.9, -1.0, -1.1, -1.2];
    let twelve = vec![
        2.0, 1.6, 1.2, 1.0, 0.5, 0.3, 0.0, -0.5, -1.0, -1.5, -2.0, -3.0,
    ];
    vec![
        TokenCase::new("top-p 0.9, T 0.7", wavy, 0.7).p(0.9),
        TokenCase::new("top-p 0.5 = mass of 2 of 4", vec![0.0; 4], 1.0).p(0.5),
        TokenCase::new(
            "top-p 0.75 = mass of 6 of 8, masked",
            vec![0.0, 0.0, 0.0, 0.0, ninf, 0.0, 0.0, 0.0, ninf, 0.0],
            0.8,
        )
        .p(0.75),
        TokenCase::new(
            "top-p 0.7, tie at the boundary",
            vec![1.0, 0.0, 0.0, 0.0, -1.0],
            1.0,
        )
        .p(0.7),
        TokenCase::new(
            "top-p 0.9999999, far tail",
            vec![0.0, -1.0, -2.0, -3.0, -30.0],
            1.0,
        )
        .p(0.9999999),
        TokenCase::new("top-p 0.9999999 keeps all", vec![0.0, -1.0, -2.0], 1.0).p(0.9999999),
        TokenCase::new("top-k 1, tie at the top", vec![0.0, 1.0, 1.0, -1.0], 1.0).k(1),
        TokenCase::new("top-k 50 > k", vec![0.3, -0.2, 1.1, ninf, 0.5], 1.3).k(50),
        TokenCase::new("min-p 0.5, flat", vec![0.0; 6], 1.0).m(0.5),
        TokenCase::new("min-p 1, flat", vec![0.25; 5], 0.6).m(1.0),
        TokenCase::new(
            "min-p 0.1, peaked",
            vec![3.0, 1.0, 0.0, -1.0, -2.0, -5.0],
            1.0,
        )
        .m(0.1),
        TokenCase::new("hf: T 0.8, top-k 4, top-p 0.7, min-p 0.12", twelve, 0.8)
            .k(4)
            .p(0.7)
            .m(0.12)
            .order(Order::Hf),
        TokenCase::new("hf: top-p 0.6, min-p 0.35", six.clone(), 1.0)
            .p(0.6)
            .m(0.35)
            .order(Order::Hf),
        TokenCase::new("vllm: min-p 0.35, top-p 0.6", six, 1.0)
            .p(0.6)
            .m(0.35)
            .order(Order::Vllm),
    ]
}

/// The relative slack of a sampler computing in the declared dtype (module doc).
fn slack(ctx: &Ctx, k: usize) -> f64 {
    (k as f64 + 4.0) * ctx.dtype().eps()
}

/// The three laws of a case: exact, tight and loose at the dtype's slack.
struct Laws {
    exact: TokenLaw,
    tight: TokenLaw,
    loose: TokenLaw,
}

impl Laws {
    fn of(case: &TokenCase, s: f64) -> Result<Laws, TargetError> {
        let c = Convention::Canonical;
        Ok(Laws {
            exact: case.law(c, 0.0).map_err(internal)?,
            tight: case.law(c, -s).map_err(internal)?,
            loose: case.law(c, s).map_err(internal)?,
        })
    }

    /// Whether the dtype cannot move the kept set.
    fn conditioned(&self) -> bool {
        self.tight.kept() == self.loose.kept()
    }
}

/// The draws of every case (shared); a rejected case is `Err` with the message.
fn token_draws(ctx: &mut Ctx) -> Result<Vec<Result<Vec<i64>, String>>, TargetError> {
    let n = ctx.plan.tokens_n;
    let mut out = Vec::new();
    for case in token_cases() {
        let key = format!("tokens {}", case.name);
        let drawn = ctx.cached(Shared::Tokens, &key, |t, seed| {
            t.token_sample(&case.request(n, seed))
        })?;
        match valid(Ok(drawn), case.name)? {
            Ok(a) => out.push(Ok(integers(a, n, "token_sample")?)),
            Err(msg) => out.push(Err(msg)),
        }
    }
    Ok(out)
}

/// Counts per token; draws outside `0..k` are counted in `out_of_range`.
struct Counts {
    per_token: Vec<u64>,
    out_of_range: u64,
}

fn count(draws: &[i64], k: usize) -> Counts {
    let mut per_token = vec![0u64; k];
    let mut out_of_range = 0;
    for &d in draws {
        if d >= 0 && (d as usize) < k {
            per_token[d as usize] += 1;
        } else {
            out_of_range += 1;
        }
    }
    Counts {
        per_token,
        out_of_range,
    }
}

/// `tokens.support` (exact): every draw is a token id in `0..k`, never a masked token, and in
/// the kept set of the canonical law, at every case of [`token_cases`] (`tokens_n` draws
/// each). A draw outside the exact kept set but inside the loose one at the declared dtype is a
/// `warn` (module doc, *Precision*). Seen to catch (planted): an extra token kept at exact
/// equality of the cumulative mass, a value-predicate top-k keeping every tie, top-k after
/// top-p, temperature applied after truncation, an ignored `order`, and an index past the
/// vocabulary. Mistakes that only keep fewer tokens (the crossing token dropped, min-p
/// against the wrong reference) draw nothing outside the kept set: `tokens.law` catches them.
pub(crate) fn tokens_support(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let draws = token_draws(ctx)?;
    let mut o = Outcome::new("exact: every draw in 0..k, unmasked, inside the kept set");
    for (case, d) in token_cases().iter().zip(draws) {
        let d = match d {
            Ok(d) => d,
            Err(msg) => {
                o.fails.push(msg);
                continue;
            }
        };
        let k = case.logits.len();
        let laws = Laws::of(case, slack(ctx, k))?;
        let c = count(&d, k);
        o.n += d.len() as u64;
        if c.out_of_range > 0 {
            o.fails.push(format!(
                "{}: {} draws outside 0..{k}",
                case.name, c.out_of_range
            ));
        }
        let (mut outside, mut near) = (Vec::new(), Vec::new());
        for (i, &ci) in c.per_token.iter().enumerate() {
            if ci == 0 || laws.exact.contains(i) {
                continue;
            }
            if laws.loose.contains(i) {
                near.push(format!("token {i} ×{ci}"));
            } else {
                outside.push(format!("token {i} ×{ci}"));
            }
        }
        if !outside.is_empty() {
            o.fails.push(format!(
                "{}: draws outside the kept set {:?}: {}",
                case.name,
                sorted(laws.exact.kept()),
                outside.join(", ")
            ));
        }
        if !near.is_empty() {
            o.warns.push(format!(
                "{}: draws of tokens at the kept set's boundary within the dtype's precision \
                 (kept {:?}): {}",
                case.name,
                sorted(laws.exact.kept()),
                near.join(", ")
            ));
        }
    }
    if o.fails.is_empty() && o.warns.is_empty() {
        o.notes.push(format!(
            "all {} draws inside the kept sets of {} cases",
            o.n,
            token_cases().len()
        ));
    }
    Ok(o)
}

fn sorted(kept: &[usize]) -> Vec<usize> {
    let mut v = kept.to_vec();
    v.sort_unstable();
    v
}

/// One case's p-values against a law: Pearson χ² over the kept set (a draw outside it gives
/// p = 0) and the exact two-sided binomial test of the count of the boundary token (the last
/// rank kept). A kept set of one token has only the binomial part (every draw must be it).
fn case_p_values(counts: &Counts, law: &TokenLaw) -> Result<Vec<f64>, TargetError> {
    let total: u64 = counts.per_token.iter().sum::<u64>() + counts.out_of_range;
    if counts.out_of_range > 0 || total == 0 {
        return Ok(vec![0.0]);
    }
    let kept = law.kept();
    let last = *kept.last().unwrap_or(&0);
    let q = law.pmf()[last];
    if q >= 1.0 {
        // One token carries all the mass: every draw must be it.
        let hit = counts.per_token[last] == total;
        return Ok(vec![if hit { 1.0 } else { 0.0 }]);
    }
    let b =
        binomial_test(counts.per_token[last], total, q, Alternative::TwoSided).map_err(internal)?;
    if kept.len() < 2 {
        return Ok(vec![b.p_value]);
    }
    let chi = pearson_chi2(&counts.per_token, law.pmf()).map_err(internal)?;
    Ok(vec![chi.p_value, b.p_value])
}

/// `tokens.law`: per case of [`token_cases`] (`tokens_n` draws each, 10⁵ at standard), Pearson
/// χ² of the counts against the canonical pmf over the kept set and the exact binomial test of
/// the boundary token's count; Bonferroni over the parts (2 per case, 1 for a one-token set;
/// cases whose kept set the declared dtype may move are left out and named). Detects Cohen's
/// w ≥ 0.0274 (df = 5, 27 parts, m = 18) per case at standard; the binomial part detects a boundary token whose
/// frequency is off by about 5σ. Catches the crossing token dropped, an extra token at
/// equality, top-k after top-p, temperature after truncation and a wrong min-p reference.
pub(crate) fn tokens_law(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let draws = token_draws(ctx)?;
    let mut o = Outcome::new(
        "Pearson χ² over the kept set + binomial of the boundary token, per case, Bonferroni",
    );
    let mut ps = Vec::new();
    let mut worst: Option<(f64, Figure)> = None;
    let mut left_out = Vec::new();
    for (case, d) in token_cases().iter().zip(draws) {
        let Ok(d) = d else {
            o.fails.push(format!("{}: valid input rejected", case.name));
            continue;
        };
        let k = case.logits.len();
        let laws = Laws::of(case, slack(ctx, k))?;
        if !laws.conditioned() {
            left_out.push(case.name);
            continue;
        }
        let c = count(&d, k);
        o.n += d.len() as u64;
        let case_ps = case_p_values(&c, &laws.exact)?;
        let p = case_ps.iter().copied().fold(1.0, f64::min);
        o.notes.push(format!(
            "{}: kept {:?}, p = {}",
            case.name,
            sorted(laws.exact.kept()),
            fmt_p(p)
        ));
        if worst.as_ref().is_none_or(|(w, _)| p < *w) {
            let nf = d.len().max(1) as f64;
            worst = Some((
                p,
                Figure::Frequencies {
                    title: format!("token_sample {}: observed vs expected", case.name),
                    observed: c.per_token.iter().map(|&x| x as f64 / nf).collect(),
                    expected: laws.exact.pmf().to_vec(),
                },
            ));
        }
        ps.extend(case_ps);
    }
    if !left_out.is_empty() {
        o.notes.push(format!(
            "left out (the declared dtype may move their kept set): {}",
            left_out.join(", ")
        ));
    }
    if !ps.is_empty() {
        let parts = ps.len();
        o.combine(&ps);
        o.power = Some(Power::Chi2 {
            df: 5,
            n: ctx.plan.tokens_n as u64,
            parts,
        });
    }
    o.figure = worst.map(|(_, f)| f);
    Ok(o)
}

/// `tokens.convention`: the same draws against every case's canonical law, combined (as
/// `tokens.law`, Bonferroni over all parts: its p-value), and against each alternative
/// convention of [`Convention::ALTERNATIVES`] (crossing token dropped, extra token at
/// equality, top-k after top-p, temperature after truncation). The detail names every
/// alternative whose combined p-value is at least 0.01 while the canonical one is below
/// 1e-6: the convention the sampler follows. The verdict is Holm's on the canonical p-value
/// (false-alarm rate α_i as every check; power as `tokens.law`).
pub(crate) fn tokens_convention(ctx: &mut Ctx) -> Result<Outcome, TargetError> {
    let draws = token_draws(ctx)?;
    let mut o = Outcome::new("canonical law vs the named alternative conventions, per case");
    let cases = token_cases();
    let mut canonical = Vec::new();
    let mut alt: Vec<Vec<f64>> = vec![Vec::new(); Convention::ALTERNATIVES.len()];
    for (case, d) in cases.iter().zip(&draws) {
        let Ok(d) = d else {
            o.fails.push(format!("{}: valid input rejected", case.name));
            continue;
        };
        let k = case.logits.len();
        let laws = Laws::of(case, slack(ctx, k))?;
        if !laws.conditioned() {
            continue;
        }
        let c = count(d, k);
        o.n += d.len() as u64;
        canonical.extend(case_p_values(&c, &laws.exact)?);
        for (j, conv) in Convention::ALTERNATIVES.iter().enumerate() {
            let law = case.law(*conv, 0.0).map_err(internal)?;
            alt[j].extend(case_p_values(&c, &law)?);
        }
    }
    if canonical.is_empty() {
        return Ok(o);
    }
    let combined = |ps: &[f64]| (ps.iter().copied().fold(1.0, f64::min) * ps.len() as f64).min(1.0);
    let p_canonical = combined(&canonical);
    let mut fits = Vec::new();
    let mut lines = Vec::new();
    for (j, conv) in Convention::ALTERNATIVES.iter().enumerate() {
        let p = combined(&alt[j]);
        lines.push(format!("{} p = {}", conv.name(), fmt_p(p)));
        if p >= 0.01 {
            fits.push(conv.name());
        }
    }
    if p_canonical < 1e-6 {
        if fits.is_empty() {
            o.notes.push(
                "the sampler follows none of the named conventions (canonical law rejected)"
                    .to_string(),
            );
        } else {
            o.notes.push(format!(
                "the sampler follows the convention {} (canonical law rejected, p = {})",
                fits.join(" or "),
                fmt_p(p_canonical)
            ));
        }
    } else {
        o.notes
            .push(format!("canonical law p = {}", fmt_p(p_canonical)));
    }
    o.notes.push(format!("alternatives: {}", lines.join(", ")));
    o.combine(&canonical);
    o.power = Some(Power::Chi2 {
        df: 5,
        n: ctx.plan.tokens_n as u64,
        parts: canonical.len(),
    });
    Ok(o)
}

/// One frequency band of a vocabulary-scale row: the tokens whose probability lies in
/// `[lo, hi)` (a decade, or several merged), and their total mass.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Lower end of the band's probability range.
    pub lo: f64,
    /// Upper end (exclusive; the top band includes 1).
    pub hi: f64,
    /// The tokens of the band.
    pub tokens: Vec<usize>,
    /// `Σ p` over the band.
    pub mass: f64,
}

/// The vocabulary-scale band partition of `tokens.vocab` (`checks::vocab`): tokens with `p > 0` grouped by decade of probability, `[10^-(j+1), 10^-j)`, then,
/// from the rarest band upward, each band whose expected count `n·mass` is below
/// `min_expected` merged into the next more probable one (the most probable band absorbs what
/// is left). Depends only on `pmf` and `n`, never on counts, so a test on the bands stays
/// calibrated. A tail of 262,144 tokens at `e^-20.5` each below a head token is one band of
/// mass 3.3e-4 (expected 32.8 in 10⁵ draws): a float32 noise floor that never draws it shows as
/// 0 observed in that band.
pub(crate) fn frequency_bands(pmf: &[f64], n: u64, min_expected: f64) -> Vec<Band> {
    use std::collections::BTreeMap;
    let mut decades: BTreeMap<i32, Band> = BTreeMap::new();
    for (i, &p) in pmf.iter().enumerate() {
        if p > 0.0 {
            let j = (-p.log10()).floor().max(0.0) as i32;
            let b = decades.entry(j).or_insert_with(|| Band {
                lo: 10f64.powi(-(j + 1)),
                hi: 10f64.powi(-j),
                tokens: Vec::new(),
                mass: 0.0,
            });
            b.tokens.push(i);
            b.mass += p;
        }
    }
    // Rarest first; merge upward while the expectation is too small.
    let mut rare_first: Vec<Band> = decades.into_values().rev().collect();
    let mut out: Vec<Band> = Vec::new();
    let mut carry: Option<Band> = None;
    for b in rare_first.drain(..) {
        let merged = match carry.take() {
            None => b,
            Some(c) => Band {
                lo: c.lo,
                hi: b.hi,
                tokens: c.tokens.into_iter().chain(b.tokens).collect(),
                mass: c.mass + b.mass,
            },
        };
        if (n as f64) * merged.mass < min_expected {
            carry = Some(merged);
        } else {
            out.push(merged);
        }
    }
    if let Some(c) = carry {
        match out.last_mut() {
            Some(last) => {
                last.lo = last.lo.min(c.lo);
                last.tokens.extend(c.tokens);
                last.mass += c.mass;
            }
            None => out.push(c),
        }
    }
    out.reverse();
    out
}

/// The count of one band against its expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct BandTest {
    /// Draws in the band.
    pub observed: u64,
    /// `n · mass`.
    pub expected: f64,
    /// Exact two-sided binomial p-value of `observed` out of `n` at the band's mass.
    pub p_value: f64,
}

/// Exact binomial test of every band's count (`counts` per token, `n` their total); the parts
/// of a check, to be combined by Bonferroni.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn band_tests(counts: &[u64], bands: &[Band]) -> Result<Vec<BandTest>, Error> {
    let n: u64 = counts.iter().sum();
    bands
        .iter()
        .map(|b| {
            let observed: u64 = b.tokens.iter().map(|&i| counts[i]).sum();
            let q = b.mass.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
            let r = binomial_test(observed, n, q, Alternative::TwoSided)?;
            Ok(BandTest {
                observed,
                expected: n as f64 * b.mass,
                p_value: r.p_value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_is_decided_and_conditioned_at_float64() {
        for case in token_cases() {
            let exact = case.law(Convention::Canonical, 0.0).unwrap();
            assert!(exact.undecided().is_empty(), "{}", case.name);
            let s = (case.logits.len() as f64 + 4.0) * f64::EPSILON;
            let tight = case.law(Convention::Canonical, -s).unwrap();
            let loose = case.law(Convention::Canonical, s).unwrap();
            assert_eq!(tight.kept(), loose.kept(), "{}", case.name);
            assert_eq!(tight.kept(), exact.kept(), "{}", case.name);
        }
    }

    #[test]
    fn only_the_far_tail_case_moves_at_float32() {
        let moved: Vec<&str> = token_cases()
            .into_iter()
            .filter(|c| {
                let s = (c.logits.len() as f64 + 4.0) * f64::from(f32::EPSILON);
                let t = c.law(Convention::Canonical, -s).unwrap();
                let l = c.law(Convention::Canonical, s).unwrap();
                t.kept() != l.kept()
            })
            .map(|c| c.name)
            .collect();
        assert_eq!(moved, vec!["top-p 0.9999999, far tail"]);
    }

    #[test]
    fn the_boundary_cases_keep_what_the_definition_says() {
        let kept = |name: &str| {
            let c = token_cases().into_iter().find(|c| c.name == name).unwrap();
            sorted(c.law(Convention::Canonical, 0.0).unwrap().kept())
        };
        assert_eq!(kept("top-p 0.5 = mass of 2 of 4"), vec![0, 1]);
        assert_eq!(
            kept("top-p 0.75 = mass of 6 of 8, masked"),
            vec![0, 1, 2, 3, 5, 6]
        );
        assert_eq!(kept("top-p 0.7, tie at the boundary"), vec![0, 1, 2]);
        assert_eq!(kept("top-p 0.9999999, far tail"), vec![0, 1, 2, 3]);
        assert_eq!(kept("top-p 0.9999999 keeps all"), vec![0, 1, 2]);
        assert_eq!(kept("top-k 1, tie at the top"), vec![1]);
        assert_eq!(kept("top-k 50 > k"), vec![0, 1, 2, 4]);
        assert_eq!(kept("min-p 0.5, flat"), (0..6).collect::<Vec<_>>());
        assert_eq!(kept("min-p 1, flat"), (0..5).collect::<Vec<_>>());
        assert_eq!(kept("min-p 0.1, peaked"), vec![0, 1]);
        assert_eq!(kept("hf: top-p 0.6, min-p 0.35"), vec![0, 1, 2]);
        assert_eq!(kept("vllm: min-p 0.35, top-p 0.6"), vec![0, 1]);
    }

    #[test]
    fn every_alternative_convention_differs_on_some_case() {
        for conv in Convention::ALTERNATIVES {
            let differs = token_cases().iter().any(|c| {
                c.law(conv, 0.0).unwrap().pmf() != c.law(Convention::Canonical, 0.0).unwrap().pmf()
            });
            assert!(differs, "{}", conv.name());
        }
    }

    #[test]
    fn case_p_values_reject_an_impossible_draw_and_accept_the_expectation() {
        let c = &token_cases()[1];
        let law = c.law(Convention::Canonical, 0.0).unwrap();
        let ok = Counts {
            per_token: vec![500, 500, 0, 0],
            out_of_range: 0,
        };
        assert!(case_p_values(&ok, &law).unwrap().iter().all(|&p| p > 0.5));
        let extra = Counts {
            per_token: vec![500, 499, 1, 0],
            out_of_range: 0,
        };
        assert_eq!(case_p_values(&extra, &law).unwrap()[0], 0.0);
        let oob = Counts {
            per_token: vec![500, 500, 0, 0],
            out_of_range: 1,
        };
        assert_eq!(case_p_values(&oob, &law).unwrap(), vec![0.0]);
    }

    #[test]
    fn a_lost_tail_of_262144_tokens_shows_in_its_band() {
        // One head token and 262,144 tail tokens at a gap of 20.5 nats (vllm-project/vllm#43150).
        let k = 262_145;
        let w_tail = (-20.5f64).exp();
        let z = 1.0 + (k - 1) as f64 * w_tail;
        let mut pmf = vec![w_tail / z; k];
        pmf[0] = 1.0 / z;
        let n = 100_000u64;
        let bands = frequency_bands(&pmf, n, 5.0);
        assert_eq!(bands.len(), 2);
        assert_eq!(bands[1].tokens.len(), k - 1);
        assert!((n as f64 * bands[1].mass - 32.76).abs() < 0.01);
        // Every draw on the head token (float32 noise that never reaches the tail).
        let mut counts = vec![0u64; k];
        counts[0] = n;
        let lost = band_tests(&counts, &bands).unwrap();
        assert_eq!(lost[1].observed, 0);
        assert!(lost[1].p_value < 1e-12, "{:?}", lost[1]);
        // 33 tail draws, spread over the tail: consistent.
        counts[0] = n - 33;
        for c in counts.iter_mut().skip(1).step_by(7000).take(33) {
            *c = 1;
        }
        let fine = band_tests(&counts, &bands).unwrap();
        assert!(fine.iter().all(|t| t.p_value > 0.5), "{fine:?}");
    }

    #[test]
    fn rare_bands_merge_upward_until_expected_counts_suffice() {
        let pmf = [0.5, 0.3, 0.15, 0.04, 0.009, 0.0009, 0.0001, 0.0];
        let bands = frequency_bands(&pmf, 1000, 5.0);
        // Decades: [0.1, 1): 3 tokens; [0.01, 0.1): 0.04; below: 0.009 + 0.0009 + 0.0001 = 0.01,
        // expected 10 in 1000 draws after merging the three rarest decades.
        let sizes: Vec<usize> = bands.iter().map(|b| b.tokens.len()).collect();
        assert_eq!(sizes, vec![3, 1, 3]);
        assert!(bands.iter().all(|b| 1000.0 * b.mass >= 5.0));
        assert!(!bands.iter().any(|b| b.tokens.contains(&7)));
    }
}
