//! `--jobs`: the report of the battery on 1, 2 and 3 workers is the same byte for byte (JSON),
//! with chunked checks of several chunks, and when a chunk fails.

use gumbel_audit::audit::report::to_json;
use gumbel_audit::audit::{
    Array, AuditOptions, Capabilities, Level, ReferenceTarget, SampleBudget, Target, TargetError,
    Verdict, request_seed, run_battery, run_battery_jobs,
};

/// The deep level with its chunked checks cut to a few chunks each (`noise.tail`: 5·10⁶ draws,
/// 5 chunks of 10⁶; `categorical.bands`: 50 draws, 3 chunks of at most 20): seconds, not
/// minutes.
fn options() -> AuditOptions {
    let budget = [
        ("noise.tail", 5_000_000),
        ("noise.extremes", 3_000_000),
        ("categorical.rare", 1_200_000),
        ("categorical.bands", 50),
        ("relaxed.hard_rare", 1_200_000),
        ("binary.extremes", 2_500_000),
        ("tokens.vocab", 30),
    ];
    AuditOptions::new(Level::Deep, 11, 1e-3)
        .unwrap()
        .with_samples(
            SampleBudget::new(
                None,
                budget.iter().map(|&(id, n)| (id.to_string(), n)).collect(),
            )
            .unwrap(),
        )
}

fn json_with(jobs: usize, factory: &(dyn Fn() -> Box<dyn Target + Send> + Sync)) -> String {
    let f = || Ok(factory());
    let report = run_battery_jobs(&f, &options(), jobs, &mut |_| {}).unwrap();
    serde_json::to_string(&to_json(&report)).unwrap()
}

#[test]
fn the_report_is_the_same_for_one_two_and_three_workers() {
    let reference = || Box::new(ReferenceTarget::new()) as Box<dyn Target + Send>;
    let one = json_with(1, &reference);
    assert_eq!(one, json_with(2, &reference));
    assert_eq!(one, json_with(3, &reference));
    // and the same as the single-threaded runner on one target
    let single = run_battery(&mut ReferenceTarget::new(), &options(), &mut |_| {}).unwrap();
    assert_eq!(one, serde_json::to_string(&to_json(&single)).unwrap());
    assert!(
        one.contains("\"n\":5000000"),
        "noise.tail ran with the budget"
    );
}

/// The reference, except that the gumbel request of `noise.tail`'s chunks 2 and 4 is a fault.
struct FaultyChunks(ReferenceTarget);

impl Target for FaultyChunks {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        self.0.capabilities()
    }
    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        for chunk in [2, 4] {
            if seed == request_seed(11, "noise.tail", chunk) {
                return Err(TargetError::Fault(format!("chunk {chunk} crashed")));
            }
        }
        self.0.gumbel(n, seed)
    }
}

#[test]
fn a_failed_chunk_gives_the_same_error_for_every_number_of_workers() {
    let faulty = || Box::new(FaultyChunks(ReferenceTarget::new())) as Box<dyn Target + Send>;
    let one = json_with(1, &faulty);
    assert_eq!(one, json_with(2, &faulty));
    assert_eq!(one, json_with(3, &faulty));
    let f = || Ok(faulty());
    let report = run_battery_jobs(&f, &options(), 2, &mut |_| {}).unwrap();
    let tail = report.check("noise.tail").unwrap();
    assert_eq!(tail.verdict, Verdict::Error);
    assert!(tail.detail.contains("chunk 2 crashed"), "{}", tail.detail);
    assert_eq!(report.check("noise.cdf").unwrap().verdict, Verdict::Pass);
}
