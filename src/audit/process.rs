//! An adapter process in a process group of its own, killed as a group, and a watchdog that
//! cleans up if the auditor itself dies.
//!
//! An adapter is often a shell wrapper, a Python interpreter with worker processes, or a
//! program that forks helpers; killing only the direct child leaves the rest running (and
//! holding the response pipe open). So [`GroupChild::spawn`] starts the adapter as the leader
//! of a new process group (`setpgid(0, 0)` through
//! [`std::os::unix::process::CommandExt::process_group`]) and every kill is a group kill,
//! `kill -s KILL -- -PGID` run through `/bin/kill` (this crate has no `libc` dependency and
//! keeps `unsafe` out of this module).
//!
//! # When the group is killed
//! - timeout, fatal fault, the end of the session, [`Drop`] (every normal and error path of the
//!   auditor, including a panic that unwinds);
//! - as soon as the leader is seen to have exited ([`GroupChild::exited`]), so a grandchild
//!   that still holds the adapter's standard output cannot keep the auditor waiting. The exit is
//!   observed without reaping (`/proc/PID/stat` state `Z`), so the group id cannot be reused
//!   between the observation and the kill;
//! - when the auditor dies without running destructors (SIGTERM, SIGINT, SIGKILL, abort): the
//!   [`Watchdog`], one `/bin/sh` per work directory in a process group of its own, blocks
//!   reading a pipe whose only writer is the auditor. The auditor tells it which group is
//!   current (`group PGID`, `group -` once that group is killed) and, at a normal end,
//!   `done` (it exits quietly). The auditor's death closes the pipe: at end of file the
//!   watchdog kills the current group and removes the work directory (`rm -rf` of the path,
//!   which removes a symbolic link put in its place, not what it points to). No signal handler
//!   is needed, so no `unsafe`.
//!
//! The adapter's own group does not receive the terminal's Ctrl-C (only the auditor's
//! foreground group does); the auditor's death then reaches the adapter through the watchdog,
//! and through the end of file on its standard input (protocol: an adapter exits at EOF).
//!
//! # Limits
//! A process that leaves the group on purpose (`setsid`, `setpgid`) escapes the group kill.
//! Without `/bin/sh` there is no watchdog (the rest still works). On a system without `/proc`
//! the exit is observed by `try_wait`, which reaps.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

/// The watchdog's script; `$1` is the work directory.
const WATCHDOG: &str = "trap '' INT HUP TERM PIPE
pg=
while read -r cmd arg; do
  case $cmd in
    group) pg=$arg ;;
    done) exit 0 ;;
  esac
done
case $pg in ''|-) ;; *) kill -s KILL -- \"-$pg\" 2>/dev/null ;; esac
rm -rf -- \"$1\"";

/// A shell that kills the current adapter group and removes the work directory if the
/// auditor dies (its pipe closes without `done`).
pub(crate) struct Watchdog {
    child: Child,
    pipe: ChildStdin,
}

/// The watchdog as shared by the target and its sessions.
pub(crate) type SharedWatchdog = Arc<Mutex<Watchdog>>;

impl Watchdog {
    /// Starts the watchdog for `work_dir`; `None` when `/bin/sh` cannot be started.
    pub(crate) fn start(work_dir: &Path) -> Option<SharedWatchdog> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("gumbel-audit-watchdog")
            .arg(work_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        match child.stdin.take() {
            Some(pipe) => Some(Arc::new(Mutex::new(Watchdog { child, pipe }))),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }

    fn say(&mut self, line: &str) {
        let _ = self
            .pipe
            .write_all(line.as_bytes())
            .and_then(|_| self.pipe.flush());
    }
}

impl Drop for Watchdog {
    /// `done`, then reaps the watchdog (it exits at once; killed after 1 s otherwise).
    fn drop(&mut self) {
        self.say("done\n");
        let start = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if start.elapsed() < Duration::from_secs(1) => {
                    thread::sleep(Duration::from_millis(5));
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
    }
}

fn tell(watchdog: Option<&SharedWatchdog>, line: &str) {
    if let Some(w) = watchdog {
        match w.lock() {
            Ok(mut w) => w.say(line),
            Err(e) => e.into_inner().say(line),
        }
    }
}

/// The adapter process, leader of its own process group.
pub(crate) struct GroupChild {
    child: Child,
    pgid: u32,
    status: Option<ExitStatus>,
    watchdog: Option<SharedWatchdog>,
}

impl GroupChild {
    /// Spawns `command` as the leader of a new process group and tells `watchdog` (if any)
    /// that this group is the one to kill should the auditor die.
    pub(crate) fn spawn(
        command: &mut Command,
        watchdog: Option<SharedWatchdog>,
    ) -> std::io::Result<GroupChild> {
        let child = command.process_group(0).spawn()?;
        let pgid = child.id();
        tell(watchdog.as_ref(), &format!("group {pgid}\n"));
        Ok(GroupChild {
            child,
            pgid,
            status: None,
            watchdog,
        })
    }

    /// The child, for its pipes.
    pub(crate) fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The exit status once the leader has exited; the group is killed at that moment (a
    /// grandchild must not keep the session alive). `None` while it runs.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_some() {
            return self.status;
        }
        let gone = match std::fs::read_to_string(format!("/proc/{}/stat", self.pgid)) {
            Ok(stat) => stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .is_some_and(|s| s == "Z" || s == "X"),
            // Without /proc: reaping is the only way to look.
            Err(_) => match self.child.try_wait() {
                Ok(Some(st)) => {
                    self.status = Some(st);
                    kill_group(self.pgid);
                    tell(self.watchdog.as_ref(), "group -\n");
                    return self.status;
                }
                Ok(None) => false,
                Err(_) => true,
            },
        };
        if !gone {
            return None;
        }
        self.kill()
    }

    /// Waits up to `grace` for the leader to exit by itself; the group is then killed.
    pub(crate) fn wait_exit(&mut self, grace: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(st) = self.exited() {
                return Some(st);
            }
            if start.elapsed() >= grace {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the whole group (the leader is not reaped before, so the group id is still
    /// ours), reaps the leader and tells the watchdog the group is gone. Idempotent.
    pub(crate) fn kill(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            kill_group(self.pgid);
            // If /bin/kill could not run, the leader at least.
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
            tell(self.watchdog.as_ref(), "group -\n");
        }
        self.status
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `kill -s KILL -- -PGID`; errors (no such group any more) are ignored.
fn kill_group(pgid: u32) {
    let _ = Command::new("/bin/kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Live members of process group `pgid`, from `/proc/*/stat` (Linux).
    fn members(pgid: u32) -> usize {
        std::fs::read_dir("/proc")
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
                    .filter(|stat| {
                        let Some(i) = stat.rfind(')') else {
                            return false;
                        };
                        let f: Vec<&str> = stat[i + 1..].split_whitespace().collect();
                        f.len() > 2 && f[0] != "Z" && f[2] == pgid.to_string()
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Waits up to 2 s (a killed process dies when it is next scheduled) for the group to empty.
    fn gone(pgid: u32) -> bool {
        let start = Instant::now();
        while members(pgid) > 0 {
            if start.elapsed() > Duration::from_secs(2) {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        true
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn kill_reaches_grandchildren_and_exit_is_seen() {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "sleep 60 & sleep 60 & wait"]);
        let mut g = GroupChild::spawn(&mut cmd, None).unwrap();
        let start = Instant::now();
        while members(g.pgid) < 3 && start.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(members(g.pgid), 3, "sh and two sleeps");
        assert!(g.exited().is_none());
        g.kill();
        assert!(gone(g.pgid));

        // The leader exits while its child lives on: the exit is seen and the group killed.
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "sleep 60 & exit 4"]);
        let mut g = GroupChild::spawn(&mut cmd, None).unwrap();
        let st = g.wait_exit(Duration::from_secs(5)).unwrap();
        assert_eq!(st.code(), Some(4));
        assert!(gone(g.pgid));
    }
}
