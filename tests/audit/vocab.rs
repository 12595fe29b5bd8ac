//! `tokens.vocab` (vocabulary-scale token draws per probability band): the reference passes it
//! at quick over 20 seeds and at standard; in-process planted samplers fail it at standard
//! (a tail that is never drawn, the nucleus ignored at vocabulary scale); its report is the
//! same on one and two workers. The NumPy adapter's `race_float32_floor` and
//! `top_p_bfloat16_cumsum` are tested in `numpy.rs`.
//!
//! Error rates: each run controls the family-wise false-alarm rate at 1e-3 (one check, so its
//! α is 1e-3): the 21 clean runs raise a false alarm with probability at most 0.021 under fresh
//! seeds; the seeds are fixed, so the result is reproducible. Sample size and smallest
//! detectable discrepancy: the check's doc (src/audit/checks/vocab.rs) and docs/audit.md.

use gumbel_audit::audit::report::to_json;
use gumbel_audit::audit::{
    Array, ArrayData, AuditOptions, AuditReport, Capabilities, Level, ReferenceTarget, Selection,
    Target, TargetError, TokenRequest, Verdict, run_battery, run_battery_jobs,
};

fn options(level: Level, seed: u64) -> AuditOptions {
    AuditOptions::new(level, seed, 1e-3)
        .unwrap()
        .with_selection(Selection::new(Some(&["tokens.vocab".to_string()]), &[]).unwrap())
}

fn run(target: &mut dyn Target, level: Level, seed: u64) -> AuditReport {
    run_battery(target, &options(level, seed), &mut |_| {}).unwrap()
}

fn vocab(r: &AuditReport) -> (Verdict, String) {
    let c = r.check("tokens.vocab").expect("tokens.vocab ran");
    (c.verdict, c.detail.clone())
}

#[test]
fn reference_passes_at_quick_over_20_seeds_and_at_standard() {
    for seed in 0..20 {
        let (v, d) = vocab(&run(&mut ReferenceTarget::new(), Level::Quick, seed));
        assert_eq!(v, Verdict::Pass, "seed {seed}: {d}");
    }
    let (v, d) = vocab(&run(&mut ReferenceTarget::new(), Level::Standard, 7));
    assert_eq!(v, Verdict::Pass, "{d}");
    assert!(d.contains("race 16k") && d.contains("zipf 32k"), "{d}");
}

/// The reference, with the planted mistake applied to its token draws.
struct Planted {
    inner: ReferenceTarget,
    bug: fn(&TokenRequest, Vec<i64>) -> Vec<i64>,
}

impl Target for Planted {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        self.inner.capabilities()
    }
    fn token_sample(&mut self, request: &TokenRequest) -> Result<Array, TargetError> {
        let a = self.inner.token_sample(request)?;
        let ArrayData::I64(d) = a.data else {
            panic!("the reference draws int64 token ids")
        };
        Ok(Array::from_i64((self.bug)(request, d)))
    }
}

fn planted(bug: fn(&TokenRequest, Vec<i64>) -> Vec<i64>) -> (Verdict, String) {
    let mut t = Planted {
        inner: ReferenceTarget::new(),
        bug,
    };
    vocab(&run(&mut t, Level::Standard, 3))
}

/// Every draw of a token more than 18 nats below the top logit becomes the top token (a tail
/// lost below a noise floor, as a float32 race loses it).
#[test]
fn a_lost_tail_fails_at_standard_and_the_floor_is_named() {
    let (v, d) = planted(|r, d| {
        let top = r.logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        d.into_iter()
            .map(|i| {
                if r.logits[i as usize] < top - 18.0 {
                    0
                } else {
                    i
                }
            })
            .collect()
    });
    assert_eq!(v, Verdict::Fail, "{d}");
    assert!(d.contains("no tail token drawn"), "{d}");
    assert!(d.contains("floored at 2⁻²⁴"), "{d}");
}

/// The nucleus ignored at vocabulary scale: a draw in the top-p case comes from the whole
/// vocabulary one time in 20 (token `k - 1 - i` for the reference's draw i).
#[test]
fn draws_past_the_nucleus_fail_at_standard() {
    let (v, d) = planted(|r, d| {
        let k = r.logits.len() as i64;
        if r.top_p.is_none() {
            return d;
        }
        d.into_iter()
            .enumerate()
            .map(|(j, i)| if j % 20 == 0 { k - 1 - i } else { i })
            .collect()
    });
    assert_eq!(v, Verdict::Fail, "{d}");
    assert!(d.contains("past the kept set"), "{d}");
}

/// The chunked check on one and two workers (deep cut to a few chunks per case by
/// `--samples`: 20 draws per case, so the 262,145-token race takes 7 chunks of at most 3).
#[test]
fn the_report_is_the_same_for_one_and_two_workers() {
    let budget =
        gumbel_audit::audit::SampleBudget::new(None, vec![("tokens.vocab".to_string(), 20)])
            .unwrap();
    let o = options(Level::Deep, 5).with_samples(budget);
    let f = || Ok(Box::new(ReferenceTarget::new()) as Box<dyn Target + Send>);
    let json = |jobs| {
        let r = run_battery_jobs(&f, &o, jobs, &mut |_| {}).unwrap();
        serde_json::to_string(&to_json(&r)).unwrap()
    };
    let one = json(1);
    assert_eq!(one, json(2));
    assert!(one.contains("race 262k"), "the deep cases ran");
}
