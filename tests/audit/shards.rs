//! Shards and merge through the binary (`audit --shard I/N --partial PATH`, `merge`):
//! - the reference at the deep level with `noise.tail` cut to 10 chunks, run as 1, 3 and 7
//!   shards and merged in shuffled file order, gives the single run's JSON report byte for
//!   byte (and its table and report.md);
//! - partials that do not belong together (another seed, level, implementation or battery
//!   version; a shard twice or missing; a truncated, hand-edited or foreign file) are refused
//!   with exit 2 and a message naming the problem;
//! - resume: a shard whose valid partial exists is not run again; any other file at the path is
//!   never overwritten without `--force`, and a planted link is replaced, not followed;
//! - through the library: when chunks fail, 2, 3 and 5 shards give the single run's error (that
//!   of the first failed chunk in unit order, whichever shard ran it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gumbel-audit"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("gumbel-audit-shards-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The deep level with `noise.tail` at 10⁷ draws (10 chunks of 10⁶, `Plan::chunk_n`), the
/// vocabulary of `categorical.bands` at 50 draws (3 chunks) and every other chunked check at
/// 10⁶ draws per case: seconds on the reference.
const DEEP: [&str; 7] = [
    "--reference",
    "--level",
    "deep",
    "--samples",
    "1e6,noise.tail=1e7,categorical.bands=50",
    "--seed",
    "3",
];

/// Runs shard `i/n` of `audit ARGS` into `path`; asserts exit 0 and no verdict printed.
fn shard(args: &[&str], i: usize, n: usize, path: &Path) -> Output {
    let spec = format!("{i}/{n}");
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--jobs", "1", "--shard", &spec, "--partial", s(path)]);
    let out = run(&all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("shard {spec}: ran")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("verdict"),
        "a shard prints no verdict: {stdout}"
    );
    out
}

/// A fixed permutation of `0..n` that is neither the identity nor the reverse for n ≥ 3.
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

#[test]
fn one_three_and_seven_shards_merge_to_the_single_run_byte_for_byte() {
    let dir = scratch("exact");
    let single = dir.join("single.json");
    let single_report = dir.join("single-report");
    let mut args = vec!["audit"];
    args.extend_from_slice(&DEEP);
    args.extend_from_slice(&["--json", s(&single), "--report", s(&single_report)]);
    let one = run(&args);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    let want = std::fs::read(&single).unwrap();
    let tail = r#""id": "noise.tail""#;
    assert!(text(&want).contains(tail) && text(&want).contains(r#""n": 10000000"#));
    for n in [1, 3, 7] {
        let files: Vec<PathBuf> = (0..n)
            .map(|i| dir.join(format!("p{i}of{n}.json")))
            .collect();
        for (i, f) in files.iter().enumerate() {
            shard(&DEEP, i, n, f);
        }
        let merged = dir.join(format!("merged{n}.json"));
        let report = dir.join(format!("report{n}"));
        let mut args = vec!["merge".to_string()];
        args.extend(shuffled(n).iter().map(|&i| s(&files[i]).to_string()));
        args.extend(["--json", s(&merged), "--report", s(&report)].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(out.stdout, one.stdout, "{n} shards: the table differs");
        assert!(
            std::fs::read(&merged).unwrap() == want,
            "{n} shards: the merged JSON differs from the single run's"
        );
        assert_eq!(
            std::fs::read_to_string(report.join("report.md")).unwrap(),
            std::fs::read_to_string(single_report.join("report.md")).unwrap(),
            "{n} shards: report.md differs"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// FNV-1a 64 (the partial's checksum: docs/distributed.md), to write a partial as another
/// build would.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `path` with `edit` applied to its `partial` body and the checksum recomputed: a valid
/// partial as a different build or run would have written it.
fn rewrite(path: &Path, to: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut doc["partial"]);
    let body = serde_json::to_string(&doc["partial"]).unwrap();
    doc["checksum"] = format!("fnv1a64:{:016x}", fnv1a64(body.as_bytes())).into();
    std::fs::write(to, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

/// `merge FILES`: asserts exit 2 and returns standard error.
fn refused(files: &[&Path]) -> String {
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|p| s(p)));
    let out = run(&args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "merge {files:?} gave: {err}");
    assert!(out.stdout.is_empty(), "no report on a refused merge");
    err
}

#[test]
fn partials_that_do_not_belong_together_are_refused_with_exit_2() {
    let dir = scratch("refused");
    // The quick level with noise.tail at 3·10⁶ draws: 3 units over 2 shards.
    let base = [
        "--reference",
        "--level",
        "quick",
        "--samples",
        "noise.tail=3e6",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    };
    let p0 = dir.join("p0.json");
    let p1 = dir.join("p1.json");
    shard(&with(&["--seed", "1"]), 0, 2, &p0);
    shard(&with(&["--seed", "1"]), 1, 2, &p1);
    // The good pair merges.
    let ok = run(&["merge", s(&p1), s(&p0), "--quiet"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    // Another seed.
    let seed2 = dir.join("seed2.json");
    shard(&with(&["--seed", "2"]), 1, 2, &seed2);
    let e = refused(&[&p0, &seed2]);
    assert!(
        e.contains("master seed is 1 in") && e.contains("but 2 in") && e.contains("seed2.json"),
        "{e}"
    );

    // Another level (shard 1 runs no whole check: quick to make at standard).
    let standard = dir.join("standard.json");
    let mut args = with(&["--seed", "1"]);
    args[2] = "standard";
    shard(&args, 1, 2, &standard);
    let e = refused(&[&p0, &standard]);
    assert!(
        e.contains("level is quick in") && e.contains("but standard in"),
        "{e}"
    );

    // Another implementation: the fake adapter of tests/adapters (it offers gumbel, so its
    // plan has the same units).
    let fake = crate::common::repo().join("tests/adapters/fake_adapter.py");
    let other = dir.join("other.json");
    let out = run(&[
        "audit",
        "--level",
        "quick",
        "--samples",
        "noise.tail=3e6",
        "--seed",
        "1",
        "--jobs",
        "1",
        "--shard",
        "1/2",
        "--partial",
        s(&other),
        "--",
        "python3",
        s(&fake),
        "good",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let e = refused(&[&p0, &other]);
    assert!(e.contains("implementation (hello name) is"), "{e}");

    // Another battery version (as another build of gumbel-audit would write it).
    let foreign = dir.join("foreign.json");
    rewrite(&p1, &foreign, |p| {
        p["battery"] = "gumbel-audit 0.0.9 table 0123456789abcdef".into();
    });
    let e = refused(&[&p0, &foreign]);
    assert!(
        e.contains("battery version is") && e.contains("gumbel-audit 0.0.9"),
        "{e}"
    );

    // A shard twice, a shard missing.
    let e = refused(&[&p0, &p1, &p0]);
    assert!(e.contains("shard 0/2 is given twice"), "{e}");
    let e = refused(&[&p0]);
    assert!(e.contains("1 of the 2 shards missing: 1/2"), "{e}");
    let e = refused(&[&p1]);
    assert!(e.contains("missing: 0/2"), "{e}");

    // Truncated.
    let cut = dir.join("cut.json");
    let full = std::fs::read(&p0).unwrap();
    std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
    let e = refused(&[&cut, &p1]);
    assert!(e.contains("cut.json") && e.contains("truncated"), "{e}");

    // Edited by hand: one count changed, the checksum left as it was.
    let edited = dir.join("edited.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p1).unwrap()).unwrap();
    let counts = &mut doc["partial"]["units"][0]["result"]["tally"]["counts"][0];
    *counts = (counts.as_u64().unwrap() + 1).into();
    std::fs::write(&edited, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let e = refused(&[&p0, &edited]);
    assert!(
        e.contains("edited.json") && e.contains("checksum mismatch"),
        "{e}"
    );

    // A shard holding a unit that is not its own (a valid checksum, a wrong assignment).
    let stolen = dir.join("stolen.json");
    rewrite(&p1, &stolen, |p| p["units"][0]["index"] = 0.into());
    let e = refused(&[&p0, &stolen]);
    assert!(
        e.contains("stolen.json") && e.contains("not the shard's next unit"),
        "{e}"
    );

    // Not a partial at all: a report.
    let report = dir.join("report.json");
    let out = run(&[
        "audit",
        "--reference",
        "--level",
        "quick",
        "--only",
        "noise.finite",
        "--json",
        s(&report),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let e = refused(&[&report, &p1]);
    assert!(e.contains("not a partial file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_resumed_shard_skips_its_work_and_never_overwrites_a_foreign_file() {
    let dir = scratch("resume");
    let args = [
        "--reference",
        "--level",
        "quick",
        "--only",
        "noise.tail,noise.finite",
        "--samples",
        "noise.tail=2e6",
    ];
    let p = dir.join("p0.json");
    shard(&args, 0, 2, &p);
    let written = std::fs::read(&p).unwrap();
    // Again: the same run and shard are found and not run again.
    let mut again = vec!["audit"];
    again.extend_from_slice(&args);
    again.extend_from_slice(&["--shard", "0/2", "--partial", s(&p)]);
    let out = run(&again);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("not run again"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&p).unwrap(), written);
    // Another shard (or run) at the same path: refused, the file kept.
    let mut other = vec!["audit"];
    other.extend_from_slice(&args);
    other.extend_from_slice(&["--shard", "1/2", "--partial", s(&p)]);
    let out = run(&other);
    assert_eq!(out.status.code(), Some(2));
    let e = text(&out.stderr);
    assert!(
        e.contains("exists and is not shard 1/2's partial") && e.contains("its shard is 0/2"),
        "{e}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), written);
    // Someone's file: refused; with --force, replaced.
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "my notes").unwrap();
    let mut mine = vec!["audit"];
    mine.extend_from_slice(&args);
    mine.extend_from_slice(&["--shard", "1/2", "--partial", s(&notes)]);
    let out = run(&mine);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");
    // A planted link: refused; with --force the link is replaced, its target untouched.
    #[cfg(unix)]
    {
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&notes, &link).unwrap();
        let mut linked = vec!["audit"];
        linked.extend_from_slice(&args);
        linked.extend_from_slice(&["--shard", "1/2", "--partial", s(&link)]);
        let out = run(&linked);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("not a regular file"));
        linked.push("--force");
        let out = run(&linked);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let ok = run(&["merge", s(&p), s(&link), "--quiet"]);
        assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    }
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_of_shards_exit_2() {
    for (args, needle) in [
        (
            vec!["--shard", "3/3", "--partial", "x.json"],
            "numbered from 0",
        ),
        (vec!["--shard", "0/0", "--partial", "x.json"], "from 1 to"),
        (vec!["--shard", "one/3", "--partial", "x.json"], "I/N"),
        (vec!["--shard", "0/3"], "--partial"),
        (
            vec![
                "--shard",
                "0/3",
                "--partial",
                "/nonexistent-dir-of-gumbel-audit/x.json",
            ],
            "does not exist",
        ),
        (
            vec!["--shard", "0/3", "--partial", "x.json", "--json", "r.json"],
            "--json",
        ),
    ] {
        let mut all = vec!["audit", "--reference", "--level", "quick"];
        all.extend_from_slice(&args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let e = text(&out.stderr);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    let out = run(&["merge"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The reference, except that the gumbel requests of `noise.tail`'s chunks 2 and 4 are faults.
struct FaultyChunks(gumbel_audit::audit::ReferenceTarget);

impl gumbel_audit::audit::Target for FaultyChunks {
    fn capabilities(
        &mut self,
    ) -> Result<gumbel_audit::audit::Capabilities, gumbel_audit::audit::TargetError> {
        self.0.capabilities()
    }
    fn gumbel(
        &mut self,
        n: usize,
        seed: u64,
    ) -> Result<gumbel_audit::audit::Array, gumbel_audit::audit::TargetError> {
        for chunk in [2, 4] {
            if seed == gumbel_audit::audit::request_seed(11, "noise.tail", chunk) {
                return Err(gumbel_audit::audit::TargetError::Fault(format!(
                    "chunk {chunk} crashed"
                )));
            }
        }
        self.0.gumbel(n, seed)
    }
}

#[test]
fn a_failed_chunk_gives_the_single_runs_error_for_every_number_of_shards() {
    use gumbel_audit::audit::partial::merge;
    use gumbel_audit::audit::report::to_json;
    use gumbel_audit::audit::shard::{Shard, run_shard};
    use gumbel_audit::audit::{
        AuditOptions, Level, ReferenceTarget, SampleBudget, Target, Verdict, run_battery,
    };
    // Deep with noise.tail at 5 chunks (the other chunked checks cut to seconds): chunks 2 and 4
    // fail; the check's error is chunk 2's.
    let budget = vec![
        ("noise.tail".to_string(), 5_000_000),
        ("categorical.bands".to_string(), 50),
    ];
    let options = AuditOptions::new(Level::Deep, 11, 1e-3)
        .unwrap()
        .with_samples(SampleBudget::new(Some(1_000_000), budget).unwrap());
    let factory = || Ok(Box::new(FaultyChunks(ReferenceTarget::new())) as Box<dyn Target + Send>);
    let single = run_battery(
        &mut FaultyChunks(ReferenceTarget::new()),
        &options,
        &mut |_| {},
    )
    .unwrap();
    let tail = single.check("noise.tail").unwrap();
    assert_eq!(tail.verdict, Verdict::Error);
    assert!(tail.detail.contains("chunk 2 crashed"), "{}", tail.detail);
    let want = serde_json::to_string(&to_json(&single)).unwrap();
    for n in [2, 3, 5] {
        let mut files = Vec::new();
        for i in (0..n).rev() {
            let mut first = factory().unwrap();
            let caps = first.capabilities().unwrap();
            let shard = Shard::new(i, n).unwrap();
            let p = run_shard(first, &caps, &factory, &options, shard, 2, &mut |_| {});
            files.push((format!("shard{i}of{n}"), p.to_text()));
        }
        let merged = merge(&files).unwrap();
        assert_eq!(
            serde_json::to_string(&to_json(&merged)).unwrap(),
            want,
            "{n} shards"
        );
    }
}
