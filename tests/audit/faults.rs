//! A hostile adapter cannot hurt the auditor (issue 16).
//!
//! `tests/adapters/hostile_adapter.py MODE` (python3, standard library only) attacks the auditor
//! in one named way: it hangs with a grandchild, dies while a grandchild holds its standard
//! output, makes its result a FIFO or a symbolic link, plants a symbolic link where the auditor
//! will write, swaps the work directory for a link, crashes on one op forever, ignores `bye`,
//! starts slowly, or sends terminal escapes in its name. Every test records the process ids the
//! adapter started (`--pids`) and asserts that none is alive afterwards: no orphan.
//!
//! Linux only (the process checks read `/proc`). The full-disk test mounts a 64 KiB tmpfs and
//! is skipped, with a message saying so, when `mount` is not permitted (not root).

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use gumbel_audit::audit::adapter::{AdapterOptions, AdapterTarget};
use gumbel_audit::audit::{Array, GradRequest, ObjectiveSpec, Target, TargetError};

fn hostile_path() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/adapters/hostile_adapter.py")
        .display()
        .to_string()
}

/// A fresh empty directory for one test, removed by [`Scratch::drop`].
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "adapter-faults-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Arguments for `python3`: the hostile adapter in `mode`, recording its pids in `pids`.
fn hostile_args(mode: &str, pids: &Path, outside: Option<&Path>) -> Vec<String> {
    let mut a = vec![
        hostile_path(),
        mode.to_string(),
        "--pids".to_string(),
        pids.display().to_string(),
    ];
    if let Some(o) = outside {
        a.push("--outside".to_string());
        a.push(o.display().to_string());
    }
    a
}

fn options(timeout_ms: u64) -> AdapterOptions {
    AdapterOptions::with_timeout(Duration::from_millis(timeout_ms))
}

fn fault<T: std::fmt::Debug>(r: Result<T, TargetError>) -> String {
    match r {
        Err(TargetError::Fault(m)) => m,
        other => panic!("expected a Fault, got {other:?}"),
    }
}

fn assert_contains(msg: &str, needle: &str) {
    assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
}

/// `(state, pgrp)` of a process from `/proc/PID/stat`, or `None` when it does not exist.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Whether `pid` runs (a zombie has exited: it only waits to be reaped).
fn alive(pid: u32) -> bool {
    matches!(proc_stat(pid), Some((s, _)) if s != 'Z' && s != 'X')
}

/// Live processes whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((s, g)) = proc_stat(pid)
            && g == pgid
            && s != 'Z'
            && s != 'X'
        {
            v.push(pid);
        }
    }
    v
}

/// The `(role, pid, pgid)` lines the adapter recorded.
fn recorded(pids: &Path) -> Vec<(String, u32, u32)> {
    std::fs::read_to_string(pids)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((
                f.next()?.to_string(),
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
            ))
        })
        .collect()
}

/// Our own process group (the test runner's).
fn own_pgid() -> u32 {
    proc_stat(std::process::id()).unwrap().1
}

/// Asserts, waiting up to `within`, that no process the adapter recorded is alive and that its
/// process group (which must not be ours) is empty.
fn assert_no_orphans(pids: &Path, within: Duration) {
    let rec = recorded(pids);
    assert!(!rec.is_empty(), "the adapter recorded no pid in {pids:?}");
    let start = Instant::now();
    loop {
        let live: Vec<_> = rec.iter().filter(|r| alive(r.1)).cloned().collect();
        let groups: Vec<_> = rec
            .iter()
            .map(|r| r.2)
            .filter(|&g| g != own_pgid())
            .flat_map(group_members)
            .collect();
        if live.is_empty() && groups.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < within,
            "still alive after {within:?}: recorded {live:?}, group members {groups:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    for r in &rec {
        assert_ne!(
            r.2,
            own_pgid(),
            "{} {} ran in the auditor's process group, so a group kill cannot reach it alone",
            r.0,
            r.1
        );
    }
}

/// Runs `f` on another thread and fails the test if it takes longer than `limit` (so a hang
/// is a failure, not a stuck test run).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => panic!("the auditor did not return within {limit:?}: it hangs"),
    }
}

fn gumbel_audit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gumbel-audit"))
}

fn linear_grad(n: usize) -> GradRequest {
    GradRequest::new(
        "reinforce",
        vec![0.0, 1.0],
        1.0,
        ObjectiveSpec::Linear(vec![1.0, 0.0]),
        n,
        7,
    )
}

fn shape(r: Result<Array, TargetError>) -> Vec<usize> {
    match r {
        Ok(a) => a.shape,
        Err(e) => panic!("expected an array, got {e:?}"),
    }
}

// ------------------------------------------------------------------ 1. process groups

#[test]
fn hung_adapter_group_is_killed_on_timeout() {
    let s = Scratch::new("group");
    let pids = s.path("pids");
    // `sh` is the direct child; python, and its `sleep`, are grandchildren.
    let script = format!(
        "python3 '{}' hang_group --pids '{}'; true",
        hostile_path(),
        pids.display()
    );
    let mut o = options(2000);
    o.restarts = 0;
    let mut t = AdapterTarget::spawn("sh", &["-c".to_string(), script], o).unwrap();
    let m = fault(t.gumbel(10, 1));
    assert_contains(&m, "timeout");
    // The group is killed at the timeout, not only when the target is dropped.
    assert_no_orphans(&pids, Duration::from_secs(2));
    drop(t);
}

#[test]
fn adapter_exit_is_seen_while_a_grandchild_holds_stdout() {
    let s = Scratch::new("forkdie");
    let pids = s.path("pids");
    let mut o = options(20_000);
    o.restarts = 0;
    let mut t =
        AdapterTarget::spawn("python3", &hostile_args("fork_and_die", &pids, None), o).unwrap();
    let start = Instant::now();
    let m = fault(t.gumbel(10, 1));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the exit was noticed only after {:?} (timeout 20 s): {m}",
        start.elapsed()
    );
    assert_contains(&m, "exit status: 5");
    assert_contains(&m, "fatal error in gumbel (simulated)");
    assert_no_orphans(&pids, Duration::from_secs(2));
}

// ------------------------------------------------------------------ 2. FIFO and links as results

#[test]
fn fifo_result_is_refused_without_hanging() {
    let s = Scratch::new("fifo");
    let pids = s.path("pids");
    let t =
        AdapterTarget::spawn("python3", &hostile_args("fifo", &pids, None), options(3000)).unwrap();
    let dir = t.work_dir().unwrap().to_path_buf();
    let (m, mut t) = within(Duration::from_secs(15), move || {
        let mut t = t;
        let r = t.gumbel(10, 1);
        (fault(r), t)
    });
    assert_contains(&m, "not a regular file");
    // The stream is still in step: the next op works.
    assert_eq!(shape(t.categorical(&[0.0, 1.0], 5, 2)), vec![5]);
    t.finish().unwrap();
    assert!(!dir.exists(), "the work directory {dir:?} is left behind");
    assert_no_orphans(&pids, Duration::from_secs(2));
}

#[test]
fn symlinked_result_is_refused() {
    let s = Scratch::new("symout");
    let pids = s.path("pids");
    let outside = s.path("outside");
    std::fs::create_dir(&outside).unwrap();
    // A valid .npy outside the work directory: reading it through the link would "succeed".
    let secret = Array::from_f64(vec![0.5; 10]);
    gumbel_audit::audit::npy::write(&outside.join("secret.npy"), &secret).unwrap();
    let mut t = AdapterTarget::spawn(
        "python3",
        &hostile_args("symlink_out", &pids, Some(&outside)),
        options(3000),
    )
    .unwrap();
    let m = fault(t.gumbel(10, 1));
    assert_contains(&m, "symbolic link");
    assert!(outside.join("secret.npy").exists());
    t.finish().unwrap();
    assert_no_orphans(&pids, Duration::from_secs(2));
}

// ------------------------------------------------------------------ 3. per-op restart budget

#[test]
fn one_crashing_op_leaves_the_others_running() {
    let s = Scratch::new("crash");
    let pids = s.path("pids");
    let mut o = options(10_000);
    o.restarts = 2;
    let mut t =
        AdapterTarget::spawn("python3", &hostile_args("crash_gumbel", &pids, None), o).unwrap();
    let mut messages = Vec::new();
    for i in 0..4 {
        messages.push(fault(t.gumbel(10, i)));
    }
    // Three tries (the first and two restarts), then gumbel is refused without a new child.
    for m in &messages[..3] {
        assert_contains(m, "exit status: 3");
        assert_eq!(m.matches("stderr tail").count(), 1, "{m}");
        assert_eq!(m.matches("crash line 29").count(), 1, "{m}");
        assert!(!m.contains("crash line 9\n"), "more than 20 lines: {m}");
        assert!(m.len() < 3000, "unbounded message: {m}");
    }
    assert_contains(&messages[3], "restart budget");
    assert!(messages[3].len() < 3000, "{}", messages[3]);
    assert_eq!(t.restarts_used(), 2);
    // The other ops still run (one more restart, charged to gumbel's crash).
    assert_eq!(shape(t.categorical(&[0.0, 1.0], 5, 2)), vec![5]);
    assert_eq!(
        shape(t.relaxed_sample(&[0.0, 1.0], 0.5, false, 4, 3)),
        vec![4, 2]
    );
    assert_eq!(shape(t.grad(&linear_grad(3))), vec![3, 2]);
    t.finish().unwrap();
    assert_no_orphans(&pids, Duration::from_secs(2));
}

// ------------------------------------------------------------------ 8. full disk

/// Mounts a 64 KiB tmpfs at `dir`. The tests calling this are `ignored` unless the build
/// script saw root (`cfg(gumbel_root)`, always set under `CI=true`); when they run, a mount
/// that fails is a test failure with the reason, never a silent pass.
fn mount_tiny_tmpfs(dir: &Path) {
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(dir)
        .stderr(Stdio::piped())
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "mount -t tmpfs is not permitted here ({}): this test needs root",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run mount: {e}"),
    }
}

/// Runs `body` with a 64 KiB tmpfs mounted at `mnt`, unmounting it whatever happens.
fn with_tiny_tmpfs(mnt: &Path, body: impl FnOnce() + std::panic::UnwindSafe) {
    std::fs::create_dir(mnt).unwrap();
    mount_tiny_tmpfs(mnt);
    let outcome = std::panic::catch_unwind(body);
    let _ = Command::new("umount").arg(mnt).status();
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}

#[test]
#[cfg_attr(
    not(gumbel_root),
    ignore = "needs root to mount a 64 KiB tmpfs (run as root, or CI=true)"
)]
fn full_disk_is_a_fault_not_a_rejection() {
    let s = Scratch::new("full");
    let pids = s.path("pids");
    let mnt = s.path("mnt");
    let mut o = options(5000);
    o.work_dir_parent = Some(mnt.clone());
    with_tiny_tmpfs(&mnt, || {
        let mut t = AdapterTarget::spawn("python3", &hostile_args("good", &pids, None), o).unwrap();
        // A small request fits.
        assert_eq!(shape(t.gumbel(10, 1)), vec![10]);
        // 800 kB of result cannot be written by the adapter: its OSError is answered as a
        // refusal, which must not be blamed on the implementation.
        let m = fault(t.gumbel(100_000, 2));
        assert_contains(&m, "space");
        // The auditor's own input file does not fit either.
        let y = vec![0.5; 40_000];
        let m = fault(t.relaxed_log_prob(&[0.0, 0.0], 1.0, &y));
        assert_contains(&m, "input array");
        // Invalid input is still the implementation's refusal.
        match t.relaxed_sample(&[0.0, 1.0], 0.0, false, 4, 3) {
            Err(TargetError::Rejected(m)) => assert_contains(&m, "tau must be positive"),
            other => panic!("expected Rejected, got {other:?}"),
        }
        t.finish().unwrap();
    });
    assert_no_orphans(&pids, Duration::from_secs(2));
}

/// The case: on a full work directory the clean NumPy adapter's `OSError` made
/// `noise.tail` fail ("valid input rejected: OSError"); it must be an adapter fault.
#[test]
#[cfg_attr(
    not(all(gumbel_root, gumbel_numpy)),
    ignore = "needs root (tmpfs mount) and numpy: run scripts/adapters/setup.sh as root, or CI=true"
)]
fn full_disk_numpy_adapter_is_a_fault() {
    let py = crate::common::python_with_numpy();
    let s = Scratch::new("full-numpy");
    let mnt = s.path("mnt");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/adapters/numpy_adapter.py")
        .display()
        .to_string();
    let mut o = options(20_000);
    o.work_dir_parent = Some(mnt.clone());
    with_tiny_tmpfs(&mnt, || {
        let mut t = AdapterTarget::spawn(&py, &[script], o).unwrap();
        assert_eq!(shape(t.gumbel(10, 1)), vec![10]);
        assert_contains(&fault(t.gumbel(100_000, 2)), "space");
        t.finish().unwrap();
    });
}

// ------------------------------------------------------------------ 9. SIGTERM to the auditor

#[test]
fn killing_the_auditor_leaves_no_adapter_and_no_work_dir() {
    // TERM and INT (Ctrl-C) end the auditor without running its destructors (it installs no
    // handler); KILL cannot be caught by anyone. The watchdog must clean up after all three.
    for signal in ["TERM", "INT", "KILL"] {
        auditor_killed_by(signal);
    }
}

fn auditor_killed_by(signal: &str) {
    let s = Scratch::new(signal);
    let pids = s.path("pids");
    let tmp = s.path("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut auditor = gumbel_audit()
        .args(["audit", "--quiet", "--timeout", "60", "--", "python3"])
        .args(hostile_args("hang_group", &pids, None))
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !recorded(&pids).iter().any(|r| r.0 == "grandchild") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the adapter never reached its hang"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // One work dir per adapter: with `--jobs` at its default (the cores) and several chunked
    // units, a second worker may have started its own adapter too; all must be removed.
    assert!(std::fs::read_dir(&tmp).unwrap().count() >= 1, "no work dir");
    let killed = Command::new("kill")
        .args(["-s", signal, &auditor.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = auditor.wait().unwrap();
    assert!(!status.success());
    assert_no_orphans(&pids, Duration::from_secs(3));
    let start = Instant::now();
    loop {
        let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "SIG{signal}: left behind in TMPDIR: {:?}",
            left.iter().map(|e| e.file_name()).collect::<Vec<_>>()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

// ------------------------------------------------------------------ 10. bye

#[test]
fn bye_problems_are_bounded_and_noted() {
    for (mode, note) in [
        ("silent_bye", "did not answer bye"),
        ("ignore_bye", "did not exit"),
    ] {
        let s = Scratch::new(mode);
        let pids = s.path("pids");
        let mut t =
            AdapterTarget::spawn("python3", &hostile_args(mode, &pids, None), options(30_000))
                .unwrap();
        let start = Instant::now();
        let r = t.finish();
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "{mode}: finish took {:?} (timeout 30 s)",
            start.elapsed()
        );
        assert_contains(&fault(r), note);
        // The report can show it after the fact.
        assert_eq!(t.shutdown_notes().len(), 1, "{:?}", t.shutdown_notes());
        assert_contains(&t.shutdown_notes()[0], note);
        assert_contains(&t.shutdown_notes()[0], "process group was killed");
        assert_no_orphans(&pids, Duration::from_secs(2));
    }
}

// ------------------------------------------------------------------ 11. links planted in the work dir

#[test]
fn planted_input_symlink_writes_nothing_outside() {
    let s = Scratch::new("planty");
    let pids = s.path("pids");
    let outside = s.path("outside");
    std::fs::create_dir(&outside).unwrap();
    let victim = outside.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let mut t = AdapterTarget::spawn(
        "python3",
        &hostile_args("plant_y", &pids, Some(&outside)),
        options(5000),
    )
    .unwrap();
    assert_eq!(shape(t.gumbel(10, 1)), vec![10]);
    // The planted link is removed (not followed) and the input created afresh: the adapter
    // reads the auditor's array (its answer is the sum of each row).
    let sums = t
        .relaxed_log_prob(&[0.0, 0.0], 1.0, &[0.5, 0.5, 0.25, 0.75])
        .unwrap();
    assert_eq!(sums.to_f64(), vec![1.0, 1.0]);
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"precious\n",
        "the file outside was written through the planted link"
    );
    t.finish().unwrap();
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"precious\n",
        "the file outside was written through the planted link"
    );
    assert_no_orphans(&pids, Duration::from_secs(2));
}

#[test]
fn swapped_work_dir_deletes_and_writes_nothing_outside() {
    let s = Scratch::new("swap");
    let pids = s.path("pids");
    let outside = s.path("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("keep.txt"), "keep\n").unwrap();
    let mut t = AdapterTarget::spawn(
        "python3",
        &hostile_args("swap_dir", &pids, Some(&outside)),
        options(5000),
    )
    .unwrap();
    let dir = t.work_dir().unwrap().to_path_buf();
    // Request 1: the adapter swaps the directory and plants outside/1.npy.
    let _ = t.gumbel(10, 1);
    let _ = t.relaxed_log_prob(&[0.0, 0.0], 1.0, &[0.5, 0.5]);
    let _ = t.finish();
    assert!(
        t.shutdown_notes()
            .iter()
            .any(|n| n.contains("was replaced")),
        "{:?}",
        t.shutdown_notes()
    );
    drop(t);
    let mut names: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["1.npy", "keep.txt"], "outside was changed");
    assert_eq!(
        std::fs::read_to_string(outside.join("1.npy")).unwrap(),
        "victim\n"
    );
    // The link the adapter planted is the adapter's; the moved directory is ours to remove.
    let _ = std::fs::remove_file(&dir);
    let moved = PathBuf::from(format!("{}.moved", dir.display()));
    let _ = std::fs::remove_dir_all(&moved);
    assert_no_orphans(&pids, Duration::from_secs(2));
}

// ------------------------------------------------------------------ 12. hello timeout

#[test]
fn hello_obeys_the_timeout() {
    let s = Scratch::new("hello");
    let pids = s.path("pids");
    let start = Instant::now();
    let r = AdapterTarget::spawn(
        "python3",
        &hostile_args("slow_hello", &pids, None),
        options(1000),
    );
    let m = fault(r);
    assert!(
        start.elapsed() < Duration::from_millis(2500),
        "hello waited {:?} with a 1 s timeout",
        start.elapsed()
    );
    assert_contains(&m, "(hello) within 1.0 s");
    assert_no_orphans(&pids, Duration::from_secs(2));

    // The command line's --timeout applies to hello too.
    let pids2 = s.path("pids2");
    let start = Instant::now();
    let out = gumbel_audit()
        .args(["audit", "--quiet", "--timeout", "1", "--", "python3"])
        .args(hostile_args("slow_hello", &pids2, None))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        start.elapsed() < Duration::from_millis(2800),
        "gumbel-audit --timeout 1 waited {:?} for hello",
        start.elapsed()
    );
    assert_no_orphans(&pids2, Duration::from_secs(2));
}

// ------------------------------------------------------------------ 13. the adapter's name

#[test]
fn adapter_name_is_sanitized() {
    let s = Scratch::new("name");
    let pids = s.path("pids");
    let mut t = AdapterTarget::spawn(
        "python3",
        &hostile_args("ansi_name", &pids, None),
        options(5000),
    )
    .unwrap();
    let name = t.capabilities().unwrap().name;
    assert!(
        !name.chars().any(char::is_control),
        "control characters in {name:?}"
    );
    assert!(
        name.starts_with("\\u{1b}[31mred\\u{1b}[0m\\nsecond line\\u{7}xxx"),
        "{name:?}"
    );
    assert!(
        name.chars().count() <= 210,
        "{} chars",
        name.chars().count()
    );
    t.finish().unwrap();
    assert_no_orphans(&pids, Duration::from_secs(2));
}
