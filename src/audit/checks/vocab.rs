//! `tokens.vocab`: token samplers at vocabulary scale, judged per band of probability with
//! exact binomial tests (a chunked check, `audit::chunked`). Notation: `audit::checks`; the
//! laws: docs/tokens.md; the band partition: `checks::tokens::frequency_bands`.
//!
//! # Cases
//! ```text
//! race 16k    1 head token (logit 0), m = 16,384 tail tokens at logit -d,
//!             d = ln(6 · 2^24) = 18.427                       n = vocab_n (every level)
//! zipf 32k    k = 32,768, l_i = -1.1 ln(i + 1), top-p 0.95    n = vocab_n / 4
//! race 262k   1 head token, m = 262,144 tail tokens at -20.5  n = vocab_deep_n (deep only)
//! zipf 131k   k = 131,072, l_i = -ln(i + 1), no truncation    n = vocab_deep_n (deep only)
//! ```
//! Every row is non-increasing in the index, so each band of probability is a range of
//! indices and the kept set is a prefix.
//!
//! # The floor of a float32 exponential race
//! The race `argmax_i π_i / q_i`, `q_i ~ Exp(1)`, draws a tail token (relative weight
//! `w = e^{-d}` against the head's 1) when `min_t q_t < w q_0`. Exact: probability
//! `T = m w / (1 + m w)`. If the noise is never below `f = 2^-24` (float32 as vLLM measured,
//! vllm-project/vllm#43150), a tail token wins only when also `f < w q_0`, i.e.
//! `q_0 > c = f / w`:
//! ```text
//! T_floor = ∫_c^∞ e^{-q} (1 - e^{-m w q}) dq = e^{-c} - e^{-c(1 + m w)} / (1 + m w)
//!         ≈ T (1 + c) e^{-c}   (m w ≪ 1)
//! ```
//! So the floor shows only when `c = 2^-24 e^d` is several units, and then
//! `T ≈ m · 2^-24 / c`: about `E·c·2^24` noise values (`n·m`) are needed to expect `E` tail
//! draws, whatever `m`. The 16k case takes `c = 6`: `T = 1.627·10⁻⁴`, 24.4 tail draws expected
//! in 1.5·10⁵ draws, 0.42 under the floor (exact two-sided binomial p of 0 observed:
//! 4.5·10⁻¹¹). The 262k
//! case is the one vLLM measured: `c = 2^-24 e^{20.5} = 47.6`, `T = 3.276·10⁻⁴`, 32.76 tail draws
//! expected in 10⁵, `T_floor ≈ 10⁻²⁰`. A tail of 16,384 tokens at total mass 10⁻³ would have
//! `c ≈ 1` and lose only a quarter of its draws: too little to show in few draws.
//!
//! # Test
//! Per case, the bands of `frequency_bands(π, n, 5)`; each band's count against
//! Binomial(n, band mass), exact two-sided; a draw in `0..k` outside the kept set gives
//! p = 0 for its case (exact criterion), an index outside `0..k` too. Bonferroni over every
//! band of every case; Holm across the battery. The power is that of the rarest band (smallest
//! `n · mass`). A case whose kept set the declared dtype may move (top-p at `(k + 4)·ε`
//! relative, as in `tokens.law`) is left out and named; so are the race rows for a float16
//! sampler, whose format has no value below 2⁻²⁴ (a limit of the declared format, not of the
//! implementation). Every other dtype is judged on the race rows: the float32 floor is
//! avoidable (float64 noise, or float32 noise from more than 24 random bits).
//!
//! The detail names a cause when it fits (descriptive only; the verdict is Holm's): no or few
//! tail draws in a race case consistent with noise floored at 2⁻²⁴, or draws past the nucleus
//! (a top-p cumulative sum that never reaches `P`, as a bfloat16 cumsum does:
//! NVIDIA/Megatron-LM#7182).

use crate::audit::checks::common::{fmt_p, internal};
use crate::audit::checks::tokens::frequency_bands;
use crate::audit::chunked::{Case, ChunkedCheck, Request, Tally};
use crate::audit::options::Plan;
use crate::audit::outcome::Outcome;
use crate::audit::power::Power;
use crate::audit::target::{Array, Capabilities, Dtype, TargetError, TokenRequest};
use crate::stats::{Alternative, binomial_test};
use crate::tokens::{Convention, Order, TokenInput, TokenLaw, TokenParams};

/// An internal error of the battery (never the implementation's).
fn bug(what: &str) -> TargetError {
    TargetError::Fault(format!("internal error of the battery: {what}"))
}

/// The float32 exponential floor `2^-24` (vllm-project/vllm#43150).
pub(crate) const FLOAT32_EXP_FLOOR: f64 = 1.0 / 16_777_216.0;

/// Fewest expected draws a band is given (rarer decades merge upward).
const MIN_EXPECTED: f64 = 5.0;

/// p-value under a cause's model at or above which the cause is named.
const CAUSE_P: f64 = 0.01;

/// One vocabulary-scale row (module doc, *Cases*).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VocabRow {
    /// Label of the case (its seed stream).
    pub(crate) label: &'static str,
    /// Logits, non-increasing.
    pub(crate) logits: Vec<f64>,
    /// Top-p (`None`: off).
    pub(crate) top_p: Option<f64>,
    /// The race's head/tail shape `(m, d)` when the row is one head and `m` tail tokens at `-d`.
    pub(crate) race: Option<(usize, f64)>,
}

impl VocabRow {
    fn race(label: &'static str, m: usize, d: f64) -> Self {
        let mut logits = vec![-d; m + 1];
        logits[0] = 0.0;
        VocabRow {
            label,
            logits,
            top_p: None,
            race: Some((m, d)),
        }
    }

    fn zipf(label: &'static str, k: usize, s: f64, top_p: Option<f64>) -> Self {
        VocabRow {
            label,
            logits: (0..k).map(|i| -s * ((i + 1) as f64).ln()).collect(),
            top_p,
            race: None,
        }
    }

    /// The protocol request (`n` and seed set per chunk).
    pub(crate) fn request(&self) -> TokenRequest {
        let mut r = TokenRequest::new(self.logits.clone(), 1.0, 0, 0);
        r.top_p = self.top_p;
        r
    }

    /// The canonical law at relative `slack` (`tokens::weights`).
    pub(crate) fn law(&self, slack: f64) -> Result<TokenLaw, TargetError> {
        let input = TokenInput::logits(self.logits.clone()).map_err(internal)?;
        let params =
            TokenParams::new(1.0, None, self.top_p.unwrap_or(1.0), 0.0).map_err(internal)?;
        TokenLaw::with_slack(&input, &params, Order::Hf, Convention::Canonical, slack)
            .map_err(internal)
    }

    /// Probability that a race with noise floored at `f` draws a tail token (module doc).
    pub(crate) fn floored_tail(&self, f: f64) -> Option<f64> {
        let (m, d) = self.race?;
        let w = (-d).exp();
        let c = f / w;
        let a = 1.0 + m as f64 * w;
        Some((-c).exp() - (-c * a).exp() / a)
    }
}

/// The gap of the 16k race: `ln(6 · 2^24)` (module doc).
pub(crate) fn race16k_gap() -> f64 {
    (6.0 / FLOAT32_EXP_FLOOR).ln()
}

/// The rows at a plan with their draws (module doc, *Cases*).
pub(crate) fn vocab_rows(plan: &Plan) -> Vec<(VocabRow, u64)> {
    let mut rows = vec![
        (
            VocabRow::race("race 16k", 16_384, race16k_gap()),
            plan.vocab_n,
        ),
        (
            VocabRow::zipf("zipf 32k top-p 0.95", 32_768, 1.1, Some(0.95)),
            plan.vocab_n / 4,
        ),
    ];
    if plan.vocab_deep_n > 0 {
        rows.push((
            VocabRow::race("race 262k", 262_144, 20.5),
            plan.vocab_deep_n,
        ));
        rows.push((
            VocabRow::zipf("zipf 131k", 131_072, 1.0, None),
            plan.vocab_deep_n,
        ));
    }
    rows.retain(|(_, n)| *n > 0);
    rows
}

/// The band layout of a row at `n` draws, as carried in a case's parameters:
/// `[start_0, ..., start_{B-1}, kept_end, mass_0, ..., mass_{B-1}]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    /// First index of each band (most probable band first).
    pub(crate) starts: Vec<usize>,
    /// One past the last kept token.
    pub(crate) kept_end: usize,
    /// Mass of each band.
    pub(crate) masses: Vec<f64>,
}

impl Layout {
    /// The bands of `law` at `n` draws; the kept set must be a prefix and each band a range.
    pub(crate) fn of(law: &TokenLaw, n: u64) -> Result<Layout, TargetError> {
        let pmf = law.pmf();
        let bands = frequency_bands(pmf, n, MIN_EXPECTED);
        let kept_end = law.kept().iter().max().map_or(0, |&i| i + 1);
        if law.kept().len() != kept_end {
            return Err(bug("a vocabulary row whose kept set is not a prefix"));
        }
        let mut starts = Vec::new();
        let mut next = 0;
        for b in &bands {
            let lo = *b.tokens.iter().min().unwrap_or(&next);
            let hi = b.tokens.iter().max().map_or(lo, |&i| i + 1);
            if lo != next || hi - lo != b.tokens.len() {
                return Err(bug("a vocabulary band that is not a range of indices"));
            }
            starts.push(lo);
            next = hi;
        }
        if next != kept_end {
            return Err(bug("vocabulary bands that do not cover the kept set"));
        }
        Ok(Layout {
            starts,
            kept_end,
            masses: bands.iter().map(|b| b.mass).collect(),
        })
    }

    fn params(&self) -> Vec<f64> {
        let mut p: Vec<f64> = self.starts.iter().map(|&s| s as f64).collect();
        p.push(self.kept_end as f64);
        p.extend(&self.masses);
        p
    }

    fn from_params(p: &[f64]) -> Layout {
        let b = p.len().saturating_sub(1) / 2;
        Layout {
            starts: p[..b].iter().map(|&s| s as usize).collect(),
            kept_end: p.get(b).map_or(0, |&e| e as usize),
            masses: p[b + 1..].to_vec(),
        }
    }

    /// Slot of index `i` of a `k`-token row: its band, `B` past the kept set, `B + 1` outside
    /// `0..k`.
    fn slot(&self, k: usize, i: i64) -> usize {
        let b = self.starts.len();
        if i < 0 || i as usize >= k {
            b + 1
        } else if i as usize >= self.kept_end {
            b
        } else {
            self.starts.partition_point(|&s| s <= i as usize) - 1
        }
    }
}

/// `tokens.vocab` (module doc): `vocab_n` draws of the 16,385-token race (1.5·10⁵ at standard)
/// and a quarter of it from the 32,768-token Zipf row at top-p 0.95; at deep also 10⁵ draws of
/// the 262,145-token race and of a 131,072-token Zipf row. Exact binomial per band, Bonferroni
/// over all bands (Holm across the battery, α_i as every check); power: the rarest band's.
/// Seen to fail on: noise floored at 2⁻²⁴ in a float32 race (numpy `race_float32_floor`), a
/// top-p cumulative sum rounded to bfloat16 (numpy `top_p_bfloat16_cumsum`).
pub(crate) const TOKENS_VOCAB: ChunkedCheck = ChunkedCheck {
    cases: vocab_cases,
    reduce: vocab_reduce,
    decide: vocab_decide,
};

fn slack(caps: &Capabilities, k: usize) -> f64 {
    (k as f64 + 4.0) * caps.dtype.eps()
}

/// Whether the declared dtype may move the row's kept set.
fn conditioned(row: &VocabRow, caps: &Capabilities) -> Result<bool, TargetError> {
    if row.top_p.is_none() {
        return Ok(true);
    }
    let s = slack(caps, row.logits.len());
    if s >= 1.0 {
        // (k + 4)·ε ≥ 1 (half precision at these k): the dtype may move any boundary.
        return Ok(false);
    }
    Ok(row.law(-s)?.kept() == row.law(s)?.kept())
}

fn vocab_cases(plan: &Plan, _: &Capabilities) -> Vec<Case> {
    vocab_rows(plan)
        .into_iter()
        .map(|(row, n)| {
            // The rows are fixed and valid (tested below); a failure here is the battery's
            // own and shows in decide, which recomputes the law.
            let params = row
                .law(0.0)
                .and_then(|law| Layout::of(&law, n))
                .map(|l| l.params())
                .unwrap_or_default();
            Case::new(
                row.label,
                Request::Tokens(Box::new(row.request())),
                n,
                params,
            )
        })
        .collect()
}

/// One chunk → `[draws per band, draws past the kept set, indices outside 0..k]`.
fn vocab_reduce(case: &Case, a: &Array, n: u64) -> Result<Tally, TargetError> {
    let k = case.request.width();
    let d = case.request.indices(a, n as usize)?;
    let layout = Layout::from_params(&case.params);
    let mut t = Tally::zeros(layout.starts.len() + 2, 0);
    for &i in &d {
        t.counts[layout.slot(k, i)] += 1;
    }
    Ok(t)
}

fn vocab_decide(
    _: &Plan,
    caps: &Capabilities,
    cases: &[Case],
    tallies: &[Tally],
) -> Result<Outcome, TargetError> {
    let mut o = Outcome::new(
        "exact two-sided binomial test of the draws per probability band of vocabulary-scale \
         rows (every draw inside the kept set), Bonferroni over all bands",
    );
    let rows = vocab_rows_by_label();
    let mut ps = Vec::new();
    let mut rarest: Option<(u64, f64)> = None;
    let mut left_out = Vec::new();
    for (case, t) in cases.iter().zip(tallies) {
        let row = rows
            .iter()
            .find(|r| r.label == case.label)
            .ok_or_else(|| bug("a vocabulary case without its row"))?;
        if !conditioned(row, caps)? {
            left_out.push(format!(
                "{} (the declared dtype may move its kept set)",
                row.label
            ));
            continue;
        }
        if row.race.is_some() && caps.dtype == Dtype::Float16 {
            left_out.push(format!(
                "{} (float16 holds no noise value below its smallest subnormal 2⁻²⁴: the \
                 floor is the format's)",
                row.label
            ));
            continue;
        }
        // The bands planned for the level's n (`--samples` may change n after planning: the
        // exact tests stay valid, only the merging of rare decades was planned for another n).
        let layout = Layout::from_params(&case.params);
        if layout.starts.is_empty() {
            return Err(bug("a vocabulary case planned without bands"));
        }
        let b = layout.starts.len();
        let k = row.logits.len();
        let n: u64 = t.counts.iter().sum();
        o.n += n;
        let (past, outside) = (t.counts[b], t.counts[b + 1]);
        if outside > 0 {
            o.fails
                .push(format!("{}: {outside} indices outside 0..{k}", row.label));
        }
        if past > 0 {
            o.fails.push(format!(
                "{}: {past} draws past the kept set (tokens {}..{k} are outside the nucleus); \
                 consistent with a top-p cumulative sum that stays below P (e.g. rounded to \
                 bfloat16)",
                row.label, layout.kept_end
            ));
            ps.push(0.0);
        }
        for j in 0..b {
            let end = layout.starts.get(j + 1).copied().unwrap_or(layout.kept_end);
            let q = layout.masses[j].clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
            let r = binomial_test(t.counts[j], n, q, Alternative::TwoSided).map_err(internal)?;
            ps.push(r.p_value);
            let mut line = format!(
                "{}: band {j} (tokens {}..{end}): {} of {n} (expected {:.1}, p = {})",
                row.label,
                layout.starts[j],
                t.counts[j],
                n as f64 * layout.masses[j],
                fmt_p(r.p_value)
            );
            if j > 0 && row.race.is_some() {
                line += &floor_cause(row, t.counts[j], n, r.p_value)?;
            }
            o.notes.push(line);
            if rarest.is_none_or(|(rn, rq)| (n as f64) * q < rn as f64 * rq) {
                rarest = Some((n, q));
            }
        }
    }
    if !left_out.is_empty() {
        o.notes.push(format!("left out: {}", left_out.join("; ")));
    }
    if !ps.is_empty() {
        let parts = ps.len();
        o.combine(&ps);
        if let Some((n, q)) = rarest {
            o.power = Some(Power::Rare { n, q, parts });
        }
    }
    Ok(o)
}

/// The note naming the float32 floor when the tail band's count is off and fits it.
fn floor_cause(row: &VocabRow, count: u64, n: u64, p: f64) -> Result<String, TargetError> {
    let Some(q) = row.floored_tail(FLOAT32_EXP_FLOOR) else {
        return Ok(String::new());
    };
    if p >= CAUSE_P || n == 0 {
        return Ok(String::new());
    }
    let qf = q.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
    let under = binomial_test(count, n, qf, Alternative::TwoSided).map_err(internal)?;
    Ok(if under.p_value >= CAUSE_P {
        format!(
            "; {}: consistent with exponential noise floored at 2⁻²⁴ (float32): expected {:.2} \
             under that model",
            if count == 0 {
                "no tail token drawn"
            } else {
                "too few tail tokens drawn"
            },
            n as f64 * q
        )
    } else {
        String::new()
    })
}

/// Every row any level uses (the deep ones included), by label.
fn vocab_rows_by_label() -> Vec<VocabRow> {
    let mut plan = crate::audit::options::Level::Deep.plan();
    plan.vocab_n = plan.vocab_n.max(1);
    plan.vocab_deep_n = plan.vocab_deep_n.max(1);
    vocab_rows(&plan).into_iter().map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::options::Level;

    fn caps() -> Capabilities {
        Capabilities::new("t", Dtype::Float64, vec![], vec![])
    }

    #[test]
    fn the_race_rows_have_the_derived_tail_masses() {
        let rows = vocab_rows_by_label();
        let r16 = &rows[0];
        let law = r16.law(0.0).unwrap();
        let tail: f64 = law.pmf()[1..].iter().sum();
        assert!((tail - 1.6273e-4).abs() < 1e-7, "{tail}");
        let floored = r16.floored_tail(FLOAT32_EXP_FLOOR).unwrap();
        assert!((150_000.0 * floored - 0.42).abs() < 0.01, "{floored}");
        let r262 = rows.iter().find(|r| r.label == "race 262k").unwrap();
        let tail: f64 = r262.law(0.0).unwrap().pmf()[1..].iter().sum();
        assert!((100_000.0 * tail - 32.76).abs() < 0.01);
        assert!(r262.floored_tail(FLOAT32_EXP_FLOOR).unwrap() < 1e-19);
        // without a floor the model is the exact tail mass
        assert!((r16.floored_tail(0.0).unwrap() - 1.6273e-4).abs() < 1e-7);
    }

    #[test]
    fn every_row_has_contiguous_bands_and_a_prefix_kept_set() {
        let plan = Level::Deep.plan();
        for (row, n) in vocab_rows(&plan) {
            let law = row.law(0.0).unwrap();
            assert!(law.undecided().is_empty(), "{}", row.label);
            let l = Layout::of(&law, n).unwrap();
            assert!(l.masses.iter().all(|&m| n as f64 * m >= MIN_EXPECTED));
            assert!(conditioned(&row, &caps()).unwrap(), "{}", row.label);
        }
        let zipf = &vocab_rows(&plan)[1].0;
        let kept = zipf.law(0.0).unwrap().kept().len();
        // the smallest prefix whose softmax mass reaches 0.95 (f64 sums, far from 0.95 here)
        let z: f64 = zipf.logits.iter().map(|l| l.exp()).sum();
        let before: f64 = zipf.logits[..kept - 1].iter().map(|l| l.exp() / z).sum();
        let with = before + zipf.logits[kept - 1].exp() / z;
        assert!(before < 0.95 && with >= 0.95, "{kept}: {before} {with}");
        assert!(kept < 32_768 / 2, "a long tail past the nucleus: {kept}");
    }

    #[test]
    fn vocab_tallies_merge_to_the_tally_of_the_whole() {
        let plan = Level::Standard.plan();
        let cases = vocab_cases(&plan, &caps());
        assert_eq!(cases.len(), 2);
        let zipf = &cases[1];
        let l = Layout::from_params(&zipf.params);
        assert!(l.starts.len() >= 3);
        let d: Vec<i64> = vec![
            0,
            1,
            5,
            40,
            400,
            l.kept_end as i64 - 1,
            l.kept_end as i64,
            32_767,
            32_768,
            -1,
            3,
            12_000,
        ];
        let whole = vocab_reduce(zipf, &Array::from_i64(d.clone()), d.len() as u64).unwrap();
        let mut parts = vocab_reduce(zipf, &Array::from_i64(d[..5].to_vec()), 5).unwrap();
        let rest = vocab_reduce(zipf, &Array::from_i64(d[5..].to_vec()), 7).unwrap();
        parts.merge(&rest).unwrap();
        assert_eq!(whole, parts);
        let b = l.starts.len();
        assert_eq!(whole.counts[b], 2, "past the kept set");
        assert_eq!(whole.counts[b + 1], 2, "outside 0..k");
        assert_eq!(whole.counts.iter().sum::<u64>(), d.len() as u64);
    }

    #[test]
    fn the_declared_dtype_leaves_out_what_its_format_cannot_decide() {
        let plan = Level::Standard.plan();
        let cases = vocab_cases(&plan, &caps());
        let tallies: Vec<Tally> = cases
            .iter()
            .map(|c| {
                let mut t = Tally::zeros(Layout::from_params(&c.params).starts.len() + 2, 0);
                t.counts[0] = c.n;
                t
            })
            .collect();
        let left = |dtype| {
            let c = Capabilities::new("t", dtype, vec![], vec![]);
            let o = vocab_decide(&plan, &c, &cases, &tallies).unwrap();
            o.notes
                .iter()
                .find(|l| l.starts_with("left out"))
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(left(Dtype::Float64), "");
        let f32 = left(Dtype::Float32);
        assert!(f32.contains("zipf 32k") && !f32.contains("race"), "{f32}");
        let f16 = left(Dtype::Float16);
        assert!(
            f16.contains("zipf 32k") && f16.contains("race 16k"),
            "{f16}"
        );
    }

    #[test]
    fn a_floored_race_fails_and_names_the_floor() {
        let plan = Level::Standard.plan();
        let cases = vocab_cases(&plan, &caps());
        let race = &cases[..1];
        let n = race[0].n;
        let b = Layout::from_params(&race[0].params).starts.len();
        assert_eq!(b, 2);
        let mut t = Tally::zeros(b + 2, 0);
        t.counts[0] = n;
        let o = vocab_decide(&plan, &caps(), race, &[t.clone()]).unwrap();
        assert!(o.p_value.unwrap() < 1e-9, "{:?}", o.p_value);
        assert!(
            o.notes.iter().any(|l| l.contains("floored at 2⁻²⁴")),
            "{:?}",
            o.notes
        );
        // 24 tail draws: consistent, and no cause named
        t.counts = vec![n - 24, 24, 0, 0];
        let o = vocab_decide(&plan, &caps(), race, &[t]).unwrap();
        assert!(o.p_value.unwrap() > 0.5);
        assert!(!o.notes.iter().any(|l| l.contains("floored")));
    }
}
