//! A child process speaking adapter protocol v1, as a [`Target`].
//!
//! [`AdapterTarget::spawn`] creates a private work directory, starts `COMMAND ARGS...` with
//! piped standard input and output as the leader of its own process group, sends `hello` and
//! validates the answer. Each op of the [`Target`] trait is then one request line and one
//! response line; arrays travel as `.npy` files in the work directory ([`crate::audit::npy`]).
//! `finish` sends `bye`, waits briefly for the child to exit, kills its process group and
//! removes the work directory; dropping the target does the same without `bye`.
//!
//! # Protocol v1, as implemented
//! ```text
//! request    {"id": i, "op": name, fields...}            one JSON object per line, i = 0, 1, 2, ...
//! response   {"id": i, "ok": true, ...}                  the result in the file named by "out"
//!            {"id": i, "ok": false, "error": text}       -> TargetError::Rejected(text)
//!            {"id": i, "ok": false, "unsupported": true} -> TargetError::Unsupported
//! floats     ±inf and NaN travel as the strings "inf", "-inf", "nan"
//! arrays     "out": <workdir>/<i>.npy (written by the adapter; its dtype is the truth)
//!            "y":   <workdir>/<i>-y.npy (written here, float64)
//! ```
//! Shapes and dtypes checked per op: `gumbel`, `binary_sample` float `[n]`; `categorical`,
//! `token_sample` integer `[n]`; `relaxed_sample`, `grad` float `[n, k]`; `relaxed_log_prob`,
//! `binary_log_prob` float `[m]`. A float result is `<f2`, `<f4` or `<f8`; when `hello.dtype` is
//! `"bfloat16"` a `<f4` result must hold only bfloat16 values (the bfloat16 rule,
//! docs/adapter-protocol.md) and is read as bfloat16. Values are returned as they are (NaN
//! included): the battery
//! judges finiteness and ranges. The `name` from `hello` is made safe to print (control
//! characters escaped as `\u{1b}`, at most 200 characters).
//!
//! # Timeouts
//! Every request, `hello` included, waits at most [`AdapterOptions::timeout`] (default 300 s,
//! the command line's `--timeout` default); `hello` may be given its own
//! [`AdapterOptions::hello_timeout`]. No floor is imposed: a Python interpreter with numpy
//! starts in well under a second, and an adapter that imports a large framework needs a
//! `--timeout` that allows for it. `bye` waits at most min(timeout, 5 s) for the answer and 3 s
//! for the exit.
//!
//! # Faults
//! Every failure of the plumbing is a [`TargetError::Fault`] with a message that says what
//! happened and, for a crash, the exit status and the last 20 lines (at most 2000 bytes) of
//! what this child wrote to standard error, quoted once.
//! - **Fatal** (the stream can no longer be trusted): the child exited (noticed within 50 ms,
//!   even while a grandchild keeps its standard output open), no response within the timeout,
//!   a line that is not a JSON object, a wrong `id`, a missing `ok`, a response line above
//!   1 MiB. The child's process group is killed.
//! - **Per request** (the stream is still in step): a missing or unreadable `out` file, a
//!   result that is not a regular file (a symbolic link, a FIFO, a device: refused without
//!   being opened for blocking reads), a wrong shape, a wrong dtype kind (float for
//!   `categorical`, integer elsewhere), the auditor's own failure to write an input array.
//! - **Full disk**: when the adapter refuses a request (`ok: false`), the auditor writes a probe
//!   of the result's size into the work directory; if that fails (no space), the refusal is a
//!   `Fault` naming the disk, not a `Rejected` blamed on the implementation.
//!
//! # Restarts (per op)
//! After a fatal fault the next request starts a fresh child, sends `hello` again and checks
//! that it answers with the same capabilities, then goes on. The budget is per op: an op whose
//! requests have ended the adapter more than [`AdapterOptions::restarts`] times (default 2) is
//! no longer sent (its requests return `Fault` at once, naming its last fault), while the other
//! ops still get a fresh child. So an adapter that crashes on every `gumbel` costs three
//! crashes, and its `categorical`, relaxed and `grad` checks still run. At most
//! `1 + (number of ops) × (restarts + 1)` children are started. A restart that fails (or
//! answers `hello` differently) ends all requests.
//!
//! # Processes and files
//! The adapter and everything it starts share a process group that is killed on timeout,
//! fatal fault, finish and drop; a watchdog kills it (and removes the work directory) if the
//! auditor dies by a signal (`src/audit/process.rs` has the details). The work directory is
//! private (mode 0700), reached by the auditor through an open handle, its input files are
//! created exclusively without following links, and at the end only the auditor's names and
//! the directory it created are removed (`src/audit/workdir.rs`). What happened at
//! shutdown that a report should show is in [`AdapterTarget::shutdown_notes`].
//!
//! # Memory
//! The response reader keeps one line (at most 1 MiB); arrays are read after their header
//! and length are checked against the request, and each request's files are deleted once read.
//! Standard error is kept as a ring of its last [`AdapterOptions::stderr_limit`] bytes.
//!
//! # References
//! - `docs/adapter-protocol.md` (the protocol for adapter authors).

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::audit::half;
use crate::audit::npy;
use crate::audit::process::{GroupChild, SharedWatchdog, Watchdog};
use crate::audit::target::{
    Array, ArrayData, Capabilities, Dtype, GradRequest, ObjectiveSpec, Op, Target, TargetError,
    TokenRequest,
};
use crate::audit::workdir::WorkDir;

/// The protocol version this auditor speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// Longest response line accepted (responses carry no arrays, so this is generous).
const MAX_LINE: usize = 1 << 20;

/// How long `finish` waits for the child to exit after answering `bye`, and a crash report
/// waits for the exit status, before the group is killed.
const EXIT_GRACE: Duration = Duration::from_secs(3);

/// Longest wait for the answer to `bye` (or the per-request timeout, if shorter).
const BYE_WAIT: Duration = Duration::from_secs(5);

/// How often a pending request checks whether the child has exited.
const POLL: Duration = Duration::from_millis(50);

/// Lines and bytes of standard error quoted in a fault message.
const TAIL_LINES: usize = 20;
const TAIL_BYTES: usize = 2000;

/// Longest adapter name kept from `hello`, in characters.
const MAX_NAME_CHARS: usize = 200;

/// How a child adapter is run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AdapterOptions {
    /// Longest wait for the response to one request (default 300 s, the command line's
    /// `--timeout` default).
    pub timeout: Duration,
    /// Longest wait for the response to `hello`, which includes the adapter's start-up
    /// (imports of large frameworks). Default 0, which means [`AdapterOptions::timeout`]:
    /// `hello` obeys the same timeout as every request unless this is set.
    pub hello_timeout: Duration,
    /// How many times a fresh child is started to retry an op after that op ended the adapter
    /// (crash, timeout, broken stream) (default 2, per op). An op that has ended the adapter
    /// `restarts + 1` times is no longer sent; other ops still start a fresh child.
    pub restarts: u32,
    /// Directory in which the work directory is created (default: the system's temporary
    /// directory).
    pub work_dir_parent: Option<PathBuf>,
    /// Bytes of the adapter's standard error kept for the report (default 64 KiB).
    pub stderr_limit: usize,
}

impl Default for AdapterOptions {
    fn default() -> Self {
        AdapterOptions {
            timeout: Duration::from_secs(300),
            hello_timeout: Duration::ZERO,
            restarts: 2,
            work_dir_parent: None,
            stderr_limit: 64 * 1024,
        }
    }
}

impl AdapterOptions {
    /// The defaults with a per-request timeout of `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        AdapterOptions {
            timeout,
            ..AdapterOptions::default()
        }
    }
}

/// What the stdout reader thread saw.
enum LineEvent {
    Line(Vec<u8>),
    TooLong,
    Eof,
    Error(String),
}

/// The last bytes of the adapter's standard error.
#[derive(Debug)]
struct StderrRing {
    bytes: VecDeque<u8>,
    limit: usize,
    /// Bytes ever pushed.
    total: u64,
    /// `total` when the current session started.
    session_start: u64,
}

impl StderrRing {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend(chunk);
        self.total += chunk.len() as u64;
        let excess = self.bytes.len().saturating_sub(self.limit);
        self.bytes.drain(..excess);
    }

    fn text(&self) -> String {
        self.text_since(0)
    }

    /// What the current session wrote (as far as the ring still holds it).
    fn session_text(&self) -> String {
        self.text_since(self.session_start)
    }

    fn text_since(&self, start: u64) -> String {
        let first = self.total - self.bytes.len() as u64;
        let skip = start.saturating_sub(first).min(self.bytes.len() as u64) as usize;
        let v: Vec<u8> = self.bytes.iter().skip(skip).copied().collect();
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// One running child with its three pipe threads.
struct Session {
    child: GroupChild,
    to_child: Option<Sender<Vec<u8>>>,
    lines: Receiver<LineEvent>,
    stderr_thread: Option<JoinHandle<()>>,
}

impl Session {
    /// Kills the child's process group and reaps the child. Pipe threads end when the pipes
    /// close.
    fn kill(&mut self) -> Option<ExitStatus> {
        self.to_child = None;
        self.child.kill()
    }

    /// Gives the stderr thread a moment to drain what the child wrote before it exited.
    fn drain_stderr(&mut self) {
        if let Some(h) = self.stderr_thread.take() {
            let start = Instant::now();
            while !h.is_finished() && start.elapsed() < Duration::from_millis(500) {
                thread::sleep(Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}

/// What a response's `out` file must look like.
struct Expect {
    float: bool,
    shape: Vec<usize>,
}

/// A child process speaking adapter protocol v1.
///
/// # Example
/// ```no_run
/// use gumbel_audit::audit::adapter::{AdapterOptions, AdapterTarget};
/// use gumbel_audit::audit::Target;
/// # fn main() -> Result<(), gumbel_audit::audit::TargetError> {
/// let mut t = AdapterTarget::spawn(
///     "python3",
///     &["scripts/adapters/numpy_adapter.py"],
///     AdapterOptions::default(),
/// )?;
/// let g = t.gumbel(1000, 7)?;
/// assert_eq!(g.shape, vec![1000]);
/// t.finish()?;
/// # Ok(())
/// # }
/// ```
pub struct AdapterTarget {
    command: String,
    args: Vec<String>,
    options: AdapterOptions,
    session: Option<Session>,
    capabilities: Capabilities,
    work_dir: Option<WorkDir>,
    next_id: u64,
    stderr: Arc<Mutex<StderrRing>>,
    /// The fatal fault that ended the last session, if the current one is gone.
    dead: Option<String>,
    /// Fatal faults per op (the op whose request was pending), and the last one's message.
    fatal_by_op: BTreeMap<String, (u32, String)>,
    /// Set when a restart failed: no further child is started.
    broken: Option<String>,
    restarts_used: u32,
    finished: bool,
    notes: Vec<String>,
    /// Kills the current group and removes the work directory if the auditor dies.
    watchdog: Option<SharedWatchdog>,
}

impl std::fmt::Debug for AdapterTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterTarget")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("capabilities", &self.capabilities)
            .field("work_dir", &self.work_dir())
            .field("dead", &self.dead)
            .field("restarts_used", &self.restarts_used)
            .finish()
    }
}

impl AdapterTarget {
    /// Starts `command args...`, creates the work directory and runs the `hello` handshake.
    ///
    /// # Errors
    /// [`TargetError::Fault`] when the work directory cannot be created, the command cannot be
    /// started, or `hello` fails: no answer within [`AdapterOptions::hello_timeout`] (by
    /// default [`AdapterOptions::timeout`]), a crash (with exit status and standard error),
    /// malformed JSON, `ok: false`, a protocol other than 1, a `dtype` other than `"float32"` /
    /// `"float64"`, or `name`, `ops`, `estimators` missing or of the wrong kind. Op names this
    /// version does not know are ignored (later versions may add optional ops). The name is
    /// made safe to print: control characters become `\u{..}` escapes and it is cut at 200
    /// characters.
    pub fn spawn<S: AsRef<str>>(
        command: &str,
        args: &[S],
        options: AdapterOptions,
    ) -> Result<Self, TargetError> {
        let work_dir =
            WorkDir::create(options.work_dir_parent.as_deref()).map_err(TargetError::Fault)?;
        let stderr = Arc::new(Mutex::new(StderrRing {
            bytes: VecDeque::new(),
            limit: options.stderr_limit,
            total: 0,
            session_start: 0,
        }));
        let watchdog = Watchdog::start(work_dir.path());
        let mut target = AdapterTarget {
            command: command.to_string(),
            args: args.iter().map(|a| a.as_ref().to_string()).collect(),
            options,
            session: None,
            capabilities: Capabilities::new("", Dtype::Float64, vec![], vec![]),
            work_dir: Some(work_dir),
            next_id: 0,
            stderr,
            dead: None,
            fatal_by_op: BTreeMap::new(),
            broken: None,
            restarts_used: 0,
            finished: false,
            notes: Vec::new(),
            watchdog,
        };
        // On error, `target` is dropped here: the group is killed and the directory removed.
        match target.start_session() {
            Ok(caps) => {
                target.capabilities = caps;
                Ok(target)
            }
            Err(TargetError::Fault(m)) if !m.contains("stderr tail") => {
                let tail = target.session_tail();
                if tail.is_empty() {
                    Err(TargetError::Fault(m))
                } else {
                    Err(TargetError::Fault(format!("{m}; stderr tail:\n{tail}")))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The last bytes (at most [`AdapterOptions::stderr_limit`]) of everything the adapter
    /// wrote to standard error, decoded lossily as UTF-8.
    pub fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|r| r.text())
            .unwrap_or_else(|e| e.into_inner().text())
    }

    /// The last lines the current (or last) session wrote to standard error, bounded.
    fn session_tail(&self) -> String {
        let text = self
            .stderr
            .lock()
            .map(|r| r.session_text())
            .unwrap_or_else(|e| e.into_inner().session_text());
        last_lines(&text, TAIL_LINES, TAIL_BYTES)
    }

    /// The work directory, while it exists.
    pub fn work_dir(&self) -> Option<&Path> {
        self.work_dir.as_ref().map(WorkDir::path)
    }

    /// How many times a fresh child was started after a fatal fault.
    pub fn restarts_used(&self) -> u32 {
        self.restarts_used
    }

    /// The fatal fault that ended the last session, if no child is running now.
    pub fn last_fatal_fault(&self) -> Option<&str> {
        self.dead.as_deref()
    }

    /// What happened when the session ended that is not a verdict but belongs in a report:
    /// an adapter that did not answer `bye` in time, or answered and did not exit (its process
    /// group was killed), or a work directory the adapter replaced. Empty when the shutdown was
    /// clean. Filled by [`Target::finish`] (and by a drop without `finish`).
    pub fn shutdown_notes(&self) -> &[String] {
        &self.notes
    }

    /// Starts a child and runs `hello`; returns its capabilities.
    fn start_session(&mut self) -> Result<Capabilities, TargetError> {
        if self.work_dir.is_none() {
            return Err(TargetError::Fault("the work directory is gone".to_string()));
        }
        let mut command = Command::new(&self.command);
        command
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = GroupChild::spawn(&mut command, self.watchdog.clone()).map_err(|e| {
            TargetError::Fault(format!("could not start adapter {:?}: {e}", self.command))
        })?;
        let c = child.child_mut();
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (c.stdin.take(), c.stdout.take(), c.stderr.take())
        else {
            child.kill();
            return Err(TargetError::Fault(
                "the adapter's pipes could not be opened".to_string(),
            ));
        };
        if let Ok(mut r) = self.stderr.lock() {
            r.session_start = r.total;
        }
        let to_child = spawn_writer(stdin);
        let lines = spawn_reader(stdout);
        let ring = Arc::clone(&self.stderr);
        let stderr_thread = thread::Builder::new()
            .name("adapter-stderr".to_string())
            .spawn(move || {
                let mut stderr = stderr;
                let mut chunk = [0u8; 4096];
                loop {
                    match stderr.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if let Ok(mut r) = ring.lock() {
                                r.push(&chunk[..n]);
                            }
                        }
                    }
                }
            })
            .ok();
        self.session = Some(Session {
            child,
            to_child: Some(to_child),
            lines,
            stderr_thread,
        });
        self.dead = None;
        let timeout = if self.options.hello_timeout.is_zero() {
            self.options.timeout
        } else {
            self.options.hello_timeout
        };
        let response = match self.exchange("hello", json!({"protocol": PROTOCOL_VERSION}), timeout)
        {
            Ok(r) => r,
            Err(TargetError::Fault(m)) => return Err(TargetError::Fault(m)),
            Err(TargetError::Rejected(m)) => {
                return Err(self.fatal("hello", format!("the adapter refused hello: {m}")));
            }
            Err(TargetError::Unsupported) => {
                return Err(self.fatal(
                    "hello",
                    "the adapter answered hello with unsupported".to_string(),
                ));
            }
        };
        match parse_hello(&response) {
            Ok(caps) => Ok(caps),
            Err(msg) => Err(self.fatal("hello", format!("invalid hello response: {msg}"))),
        }
    }

    /// Ends the current session after a fatal fault during `op`; returns the fault.
    fn fatal(&mut self, op: &str, reason: String) -> TargetError {
        if let Some(mut s) = self.session.take() {
            s.kill();
            s.drain_stderr();
        }
        let entry = self
            .fatal_by_op
            .entry(op.to_string())
            .or_insert((0, String::new()));
        entry.0 += 1;
        entry.1 = reason.clone();
        self.dead = Some(reason.clone());
        TargetError::Fault(reason)
    }

    /// Ends the session because the child exited or closed its stdout; the message has the
    /// exit status and the tail of this session's standard error (once).
    fn crashed(&mut self, id: u64, op: &str) -> TargetError {
        let mut status = None;
        if let Some(s) = self.session.as_mut() {
            status = s.child.wait_exit(EXIT_GRACE);
            s.drain_stderr();
        }
        let status = match status {
            Some(st) => format!("exited with {st}"),
            None => "closed its standard output".to_string(),
        };
        let tail = self.session_tail();
        let tail = if tail.is_empty() {
            "(nothing on stderr)".to_string()
        } else {
            format!("stderr tail:\n{tail}")
        };
        self.fatal(
            op,
            format!("adapter {status} before answering request {id} ({op}); {tail}"),
        )
    }

    /// Waits for the next line from the child, up to `timeout`, watching for its exit.
    fn next_line(&mut self, timeout: Duration) -> Result<LineEvent, RecvTimeoutError> {
        let start = Instant::now();
        loop {
            let Some(session) = self.session.as_mut() else {
                return Err(RecvTimeoutError::Disconnected);
            };
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(RecvTimeoutError::Timeout);
            }
            match session.lines.recv_timeout(left.min(POLL)) {
                Err(RecvTimeoutError::Timeout) => {}
                other => return other,
            }
            if session.child.exited().is_some() {
                // A line written just before the exit is still delivered.
                return match session.lines.recv_timeout(Duration::from_millis(200)) {
                    Err(RecvTimeoutError::Timeout) => Err(RecvTimeoutError::Disconnected),
                    other => other,
                };
            }
        }
    }

    /// Sends one request and returns the parsed response object; fatal faults end the session.
    fn exchange(
        &mut self,
        op: &str,
        fields: Value,
        timeout: Duration,
    ) -> Result<Map<String, Value>, TargetError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = Map::new();
        message.insert("id".to_string(), json!(id));
        message.insert("op".to_string(), json!(op));
        if let Value::Object(f) = fields {
            message.extend(f);
        }
        let mut line = Value::Object(message).to_string().into_bytes();
        line.push(b'\n');
        let Some(session) = self.session.as_mut() else {
            return Err(TargetError::Fault(
                "no adapter session is running".to_string(),
            ));
        };
        let sent = session
            .to_child
            .as_ref()
            .is_some_and(|tx| tx.send(line).is_ok());
        if !sent {
            return Err(self.crashed(id, op));
        }
        let raw = match self.next_line(timeout) {
            Ok(LineEvent::Line(raw)) => raw,
            Ok(LineEvent::Eof) | Err(RecvTimeoutError::Disconnected) => {
                return Err(self.crashed(id, op));
            }
            Ok(LineEvent::TooLong) => {
                return Err(self.fatal(
                    op,
                    format!(
                        "response to request {id} ({op}) is longer than {MAX_LINE} bytes without a newline"
                    ),
                ));
            }
            Ok(LineEvent::Error(e)) => {
                return Err(self.fatal(
                    op,
                    format!("reading the response to request {id} ({op}) failed: {e}"),
                ));
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(self.fatal(
                    op,
                    format!(
                        "no response to request {id} ({op}) within {:.1} s (timeout); the adapter's process group was killed",
                        timeout.as_secs_f64()
                    ),
                ));
            }
        };
        match parse_reply(&raw, id, op) {
            Ok(reply) => reply,
            Err(Fatal(reason)) => Err(self.fatal(op, reason)),
        }
    }

    /// Makes sure a child is running for a request of `op`: an op that has ended the adapter
    /// more often than its restart budget allows is not sent; otherwise a fresh child is
    /// started after a fatal fault.
    fn ensure_session(&mut self, op: &str) -> Result<(), TargetError> {
        if self.finished {
            return Err(TargetError::Fault(
                "the adapter session has already been finished (bye)".to_string(),
            ));
        }
        if let Some((count, last)) = self.fatal_by_op.get(op)
            && *count > self.options.restarts
        {
            return Err(TargetError::Fault(format!(
                "{op} (request not sent): the adapter is no longer running for this op: it ended \
                 the adapter {count} time(s), more than its restart budget of {} allows; last \
                 fault of this op: {}",
                self.options.restarts,
                summary(last)
            )));
        }
        if let Some(b) = &self.broken {
            return Err(TargetError::Fault(format!(
                "the adapter is no longer running: a restart failed: {}",
                summary(b)
            )));
        }
        if self.session.is_some() {
            return Ok(());
        }
        let reason = summary(self.dead.as_deref().unwrap_or("no adapter session"));
        self.restarts_used += 1;
        if let Ok(mut r) = self.stderr.lock() {
            r.push(
                format!(
                    "\n--- gumbel-audit: adapter restarted (restart {}, budget {} per op) after: {reason} ---\n",
                    self.restarts_used, self.options.restarts
                )
                .as_bytes(),
            );
        }
        let caps = match self.start_session() {
            Ok(c) => c,
            Err(e) => {
                let msg = match e {
                    TargetError::Fault(m) => m,
                    other => other.to_string(),
                };
                let tail = if msg.contains("stderr tail") {
                    String::new()
                } else {
                    let t = self.session_tail();
                    if t.is_empty() {
                        t
                    } else {
                        format!("; stderr tail:\n{t}")
                    }
                };
                let msg = format!("restarting the adapter after \"{reason}\" failed: {msg}{tail}");
                self.broken = Some(msg.clone());
                if let Some(mut s) = self.session.take() {
                    s.kill();
                }
                return Err(TargetError::Fault(msg));
            }
        };
        if caps != self.capabilities {
            let msg = format!(
                "the restarted adapter answered hello with different capabilities ({caps:?}, before {:?})",
                self.capabilities
            );
            self.broken = Some(msg.clone());
            return Err(self.fatal("hello", msg));
        }
        Ok(())
    }

    /// One array-returning request: checks the op is offered, writes `y` if given, sends the
    /// request with `out`, reads and checks the result.
    fn array_request(
        &mut self,
        op: Op,
        mut fields: Map<String, Value>,
        y: Option<Array>,
        expect: Expect,
    ) -> Result<Array, TargetError> {
        if !self.capabilities.offers(op) {
            return Err(TargetError::Unsupported);
        }
        self.ensure_session(op.name())?;
        let id = self.next_id;
        let out_name = format!("{id}.npy");
        let y_name = format!("{id}-y.npy");
        let Some(dir) = self.work_dir.as_mut() else {
            return Err(TargetError::Fault("the work directory is gone".to_string()));
        };
        dir.remove(&out_name);
        let out = dir.assign(&out_name);
        if let Some(y) = &y {
            let y_path = dir.assign(&y_name);
            let written = dir
                .create_file(&y_name)
                .map_err(|e| npy::NpyError::Io {
                    context: format!("creating {} (O_EXCL, O_NOFOLLOW)", y_path.display()),
                    message: e.to_string(),
                })
                .and_then(|mut f| npy::write_into(&mut f, y, &y_path.display().to_string()));
            if let Err(e) = written {
                dir.remove(&y_name);
                return Err(TargetError::Fault(format!(
                    "{} (request {id}): the auditor could not write the input array: {e}",
                    op.name()
                )));
            }
            fields.insert("y".to_string(), json!(path_string(&y_path)));
        }
        fields.insert("out".to_string(), json!(path_string(&out)));
        let timeout = self.options.timeout;
        let result = match self.exchange(op.name(), Value::Object(fields), timeout) {
            Ok(_) => self.read_result(&out_name, op, id, &expect),
            Err(TargetError::Rejected(msg)) => {
                // A partial result must not take the probe's room.
                if let Some(dir) = self.work_dir.as_mut() {
                    dir.remove(&out_name);
                }
                Err(self.blame_disk(op, id, &expect, msg))
            }
            Err(e) => Err(e),
        };
        if let Some(dir) = self.work_dir.as_mut() {
            dir.remove(&out_name);
            if y.is_some() {
                dir.remove(&y_name);
            }
        }
        result
    }

    /// A refusal after which the work directory cannot hold the result is the machine's
    /// fault, not the implementation's: probes by writing as many bytes as the result needs.
    fn blame_disk(&mut self, op: Op, id: u64, expect: &Expect, msg: String) -> TargetError {
        let Some(dir) = self.work_dir.as_mut() else {
            return TargetError::Rejected(msg);
        };
        let values: usize = expect.shape.iter().product();
        let bytes = values.saturating_mul(8).saturating_add(128);
        let name = format!("{id}-space-probe");
        let probe = dir.create_file(&name).and_then(|mut f| {
            let chunk = vec![0u8; 1 << 20];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                f.write_all(&chunk[..n])?;
                left -= n;
            }
            f.flush()
        });
        dir.remove(&name);
        match probe {
            Ok(()) => TargetError::Rejected(msg),
            Err(e) => TargetError::Fault(format!(
                "{} (request {id}): the adapter refused ({msg}), and the work directory {} has no \
                 room for the {bytes}-byte result (writing a probe of that size failed: {e}): out \
                 of disk space is the machine's fault, not the implementation's",
                op.name(),
                dir.path().display()
            )),
        }
    }

    /// Reads and checks the `out` file of request `id`: a regular file (links, FIFOs and
    /// devices are refused), then its header against `expect`, then its data.
    fn read_result(
        &self,
        name: &str,
        op: Op,
        id: u64,
        expect: &Expect,
    ) -> Result<Array, TargetError> {
        let ctx = |m: String| TargetError::Fault(format!("{} (request {id}): {m}", op.name()));
        let Some(dir) = self.work_dir.as_ref() else {
            return Err(ctx("the work directory is gone".to_string()));
        };
        let file = dir.open_result(name).map_err(ctx)?;
        let what = dir.path().join(name).display().to_string();
        let len = npy::file_len(&file, &what).map_err(|e| ctx(e.to_string()))?;
        let mut reader = BufReader::new(file);
        let header = npy::read_header_from(&mut reader, &what).map_err(|e| ctx(e.to_string()))?;
        if header.dtype.is_float() != expect.float {
            let want = if expect.float {
                "a float dtype (float16, float32 or float64)"
            } else {
                "an integer dtype (int32 or int64)"
            };
            return Err(ctx(format!(
                "result has dtype {}, expected {want}",
                header.dtype.name()
            )));
        }
        if header.shape != expect.shape {
            return Err(ctx(format!(
                "result has shape {:?}, expected {:?}",
                header.shape, expect.shape
            )));
        }
        let array =
            npy::read_data(&mut reader, &header, len, &what).map_err(|e| ctx(e.to_string()))?;
        if self.capabilities.dtype == Dtype::Bfloat16 {
            return bfloat16_array(array).map_err(ctx);
        }
        Ok(array)
    }

    /// Removes the work directory (see [`WorkDir::cleanup`]; a note if it was replaced) and
    /// dismisses the watchdog (after the session, which holds it too, has ended).
    fn remove_work_dir(&mut self) {
        if let Some(dir) = self.work_dir.take()
            && let Some(note) = dir.cleanup()
        {
            self.notes.push(note);
        }
        self.watchdog = None;
    }
}

impl Target for AdapterTarget {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        Ok(self.capabilities.clone())
    }

    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        let fields = object(json!({"n": n, "seed": seed}));
        self.array_request(
            Op::Gumbel,
            fields,
            None,
            Expect {
                float: true,
                shape: vec![n],
            },
        )
    }

    fn categorical(&mut self, logits: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        let fields = object(json!({"logits": floats(logits), "n": n, "seed": seed}));
        self.array_request(
            Op::Categorical,
            fields,
            None,
            Expect {
                float: false,
                shape: vec![n],
            },
        )
    }

    fn relaxed_sample(
        &mut self,
        logits: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let fields = object(json!({
            "logits": floats(logits), "tau": float(tau), "hard": hard, "n": n, "seed": seed
        }));
        let expect = Expect {
            float: true,
            shape: vec![n, logits.len()],
        };
        self.array_request(Op::RelaxedSample, fields, None, expect)
    }

    fn relaxed_log_prob(
        &mut self,
        logits: &[f64],
        tau: f64,
        y: &[f64],
    ) -> Result<Array, TargetError> {
        if !self.capabilities.offers(Op::RelaxedLogProb) {
            return Err(TargetError::Unsupported);
        }
        let k = logits.len();
        let rows = y.len().checked_div(k).unwrap_or(0);
        if rows * k != y.len() {
            return Err(TargetError::Fault(format!(
                "relaxed_log_prob: y holds {} values, not a whole number of rows of k = {k}",
                y.len()
            )));
        }
        let y = Array::from_f64_matrix(rows, k, y.to_vec())?;
        let fields = object(json!({"logits": floats(logits), "tau": float(tau)}));
        let expect = Expect {
            float: true,
            shape: vec![rows],
        };
        self.array_request(Op::RelaxedLogProb, fields, Some(y), expect)
    }

    fn binary_sample(
        &mut self,
        logit: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        let fields =
            object(json!({"logit": float(logit), "tau": float(tau), "n": n, "seed": seed}));
        self.array_request(
            Op::BinarySample,
            fields,
            None,
            Expect {
                float: true,
                shape: vec![n],
            },
        )
    }

    fn binary_log_prob(&mut self, logit: f64, tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        if !self.capabilities.offers(Op::BinaryLogProb) {
            return Err(TargetError::Unsupported);
        }
        let fields = object(json!({"logit": float(logit), "tau": float(tau)}));
        let expect = Expect {
            float: true,
            shape: vec![y.len()],
        };
        let y = Array::from_f64(y.to_vec());
        self.array_request(Op::BinaryLogProb, fields, Some(y), expect)
    }

    fn grad(&mut self, request: &GradRequest) -> Result<Array, TargetError> {
        if !self.capabilities.offers_estimator(&request.estimator) {
            return Err(TargetError::Unsupported);
        }
        let objective = match &request.objective {
            ObjectiveSpec::Linear(c) => json!({"kind": "linear", "c": floats(c)}),
            ObjectiveSpec::Quadratic(t) => json!({"kind": "quadratic", "target": floats(t)}),
        };
        let mut fields = object(json!({
            "estimator": request.estimator,
            "logits": floats(&request.logits),
            "tau": float(request.tau),
            "objective": objective,
            "n": request.n,
            "seed": request.seed,
        }));
        if let Some(m) = request.m {
            fields.insert("m".to_string(), json!(m));
        }
        let expect = Expect {
            float: true,
            shape: vec![request.n, request.logits.len()],
        };
        self.array_request(Op::Grad, fields, None, expect)
    }

    fn token_sample(&mut self, request: &TokenRequest) -> Result<Array, TargetError> {
        let opt = |v: Option<f64>| v.map_or(Value::Null, float);
        let mut fields = object(json!({
            "logits": floats(&request.logits),
            "temperature": float(request.temperature),
            "top_k": request.top_k.map_or(Value::Null, |k| json!(k)),
            "top_p": opt(request.top_p),
            "min_p": opt(request.min_p),
            "n": request.n,
            "seed": request.seed,
        }));
        if let Some(order) = &request.order {
            fields.insert("order".to_string(), json!(order));
        }
        let expect = Expect {
            float: false,
            shape: vec![request.n],
        };
        self.array_request(Op::TokenSample, fields, None, expect)
    }

    /// Sends `bye` and waits at most min(timeout, 5 s) for the answer and 3 s more for the
    /// exit; then kills the adapter's process group and removes the work directory. An adapter
    /// that did not answer or did not exit is killed and the fact returned as a `Fault` and
    /// recorded in [`AdapterTarget::shutdown_notes`]. Calling it again does nothing. A session
    /// that already ended in a fatal fault is cleaned up without error (the fault was reported
    /// when it happened).
    fn finish(&mut self) -> Result<(), TargetError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let mut result = Ok(());
        if self.session.is_some() {
            let wait = self.options.timeout.min(BYE_WAIT);
            let note = match self.exchange("bye", json!({}), wait) {
                Ok(_) => match self.session.as_mut().map(|s| s.child.wait_exit(EXIT_GRACE)) {
                    Some(None) => Some(format!(
                        "the adapter answered bye but did not exit within {} s; its process \
                         group was killed",
                        EXIT_GRACE.as_secs()
                    )),
                    _ => None,
                },
                Err(TargetError::Fault(m)) => Some(format!(
                    "the adapter did not answer bye properly ({}); its process group was killed",
                    summary(&m)
                )),
                Err(e) => Some(format!(
                    "the adapter did not answer bye with ok ({e}); its process group was killed"
                )),
            };
            if let Some(n) = note {
                self.notes.push(n.clone());
                result = Err(TargetError::Fault(n));
            }
        }
        if let Some(mut s) = self.session.take() {
            s.kill();
            s.drain_stderr();
        }
        self.remove_work_dir();
        result
    }
}

impl Drop for AdapterTarget {
    fn drop(&mut self) {
        if let Some(mut s) = self.session.take() {
            s.kill();
        }
        self.remove_work_dir();
    }
}

/// The protocol's number: finite floats as JSON numbers, the rest as "inf", "-inf", "nan".
fn float(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("nan")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

fn floats(xs: &[f64]) -> Value {
    Value::Array(xs.iter().map(|&x| float(x)).collect())
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The first 200 characters of a line, quoted, for fault messages.
fn quote_start(text: &str) -> String {
    let cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// The last `lines` lines of `text`, at most `max_bytes` bytes.
fn last_lines(text: &str, lines: usize, max_bytes: usize) -> String {
    let trimmed = text.trim_end();
    let start = trimmed
        .rmatch_indices('\n')
        .nth(lines.saturating_sub(1))
        .map_or(0, |(i, _)| i + 1);
    let mut tail = &trimmed[start..];
    if tail.len() > max_bytes {
        let mut cut = tail.len() - max_bytes;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail = &tail[cut..];
    }
    tail.to_string()
}

/// The first line of a fault message, at most 300 characters: what a later message quotes, so
/// that standard error tails are never repeated inside one another.
fn summary(reason: &str) -> String {
    let first = reason.lines().next().unwrap_or("");
    let mut cut: String = first.chars().take(300).collect();
    if cut.len() < reason.len() {
        cut.push_str(" [...]");
    }
    cut
}

/// The adapter's name, safe to print: control characters (ESC, newline, BEL, DEL, C1)
/// become `\u{..}` escapes, and at most [`MAX_NAME_CHARS`] characters are kept (then `...`).
fn sanitize_name(name: &str) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for c in name.chars() {
        let piece = if c == '\n' {
            "\\n".to_string()
        } else if c.is_control() || is_bidi_control(c) {
            format!("\\u{{{:x}}}", c as u32)
        } else {
            c.to_string()
        };
        let n = piece.chars().count();
        if shown + n > MAX_NAME_CHARS {
            out.push_str("...");
            break;
        }
        shown += n;
        out.push_str(&piece);
    }
    out
}

/// Invisible characters that reorder or hide text on a terminal (Unicode bidirectional
/// controls and zero-width marks).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A fault in a response line that ends the session (module doc, *Faults*).
struct Fatal(String);

/// Parses one response line to request `id` (`op`): a JSON object with the matching integer
/// `"id"` and a boolean `"ok"`. `Ok(Ok(obj))` for `ok: true`; `Ok(Err(..))` for a refusal
/// (`Unsupported` or `Rejected`); `Err(Fatal)` when the stream can no longer be trusted.
fn parse_reply(
    raw: &[u8],
    id: u64,
    op: &str,
) -> Result<Result<Map<String, Value>, TargetError>, Fatal> {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches(['\n', '\r']);
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Fatal(format!(
            "malformed JSON in the response to request {id} ({op}): {e}; the line was {}",
            quote_start(text)
        ))
    })?;
    let Value::Object(obj) = value else {
        return Err(Fatal(format!(
            "the response to request {id} ({op}) is not a JSON object: {}",
            quote_start(text)
        )));
    };
    match obj.get("id").and_then(Value::as_u64) {
        Some(got) if got == id => {}
        Some(got) => {
            return Err(Fatal(format!(
                "response id {got} does not match request id {id} ({op}): responses out of step"
            )));
        }
        None => {
            return Err(Fatal(format!(
                "the response to request {id} ({op}) has no integer \"id\": {}",
                quote_start(text)
            )));
        }
    }
    match obj.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(Ok(obj)),
        Some(false) => {
            if obj.get("unsupported").and_then(Value::as_bool) == Some(true) {
                Ok(Err(TargetError::Unsupported))
            } else {
                let msg = match obj.get("error") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "(the adapter gave no error text)".to_string(),
                };
                Ok(Err(TargetError::Rejected(msg)))
            }
        }
        None => Err(Fatal(format!(
            "the response to request {id} ({op}) has no boolean \"ok\": {}",
            quote_start(text)
        ))),
    }
}

/// Parses one response line as the answer to request `id` and, when it is an accepted `hello`
/// answer, validates its capabilities: the path every response line of the adapter takes,
/// without a child process. It exists for the fuzz targets (`fuzz/`) and their replay tests;
/// it never panics, and the result says only whether the line was accepted.
#[doc(hidden)]
pub fn parse_reply_for_fuzzing(
    raw: &[u8],
    id: u64,
    op: &str,
) -> Result<Option<Capabilities>, String> {
    match parse_reply(raw, id, op) {
        Err(Fatal(reason)) => Err(reason),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(obj)) if op == "hello" => parse_hello(&obj).map(Some),
        Ok(Ok(_)) => Ok(None),
    }
}

/// Validates a `hello` response.
/// The bfloat16 rule of the protocol: an adapter whose `hello.dtype` is `"bfloat16"` sends its
/// float results as `<f4` whose every value is a bfloat16 value (the low 16 bits of each float32
/// zero; NaN accepted whatever its payload). Such an array becomes [`ArrayData::Bf16`]; a value
/// that is not a bfloat16 value is a protocol fault naming the rule and the first such index.
/// Arrays of other dtypes (float64, float16, integers) pass unchanged.
fn bfloat16_array(array: Array) -> Result<Array, String> {
    let ArrayData::F32(values) = &array.data else {
        return Ok(array);
    };
    let mut bits = Vec::with_capacity(values.len());
    for (i, &x) in values.iter().enumerate() {
        match half::bf16_from_f32_exact(x) {
            Some(b) => bits.push(b),
            None => {
                return Err(format!(
                    "bfloat16 rule: hello declared dtype \"bfloat16\", so every float32 value of \
                     a result must be a bfloat16 value (low 16 bits zero); value {i} is {x:e} \
                     (bits {:#010x}), not a bfloat16 value",
                    x.to_bits()
                ));
            }
        }
    }
    Array::new(array.shape, ArrayData::Bf16(bits)).map_err(|e| e.to_string())
}

fn parse_hello(obj: &Map<String, Value>) -> Result<Capabilities, String> {
    match obj.get("protocol") {
        Some(p) if p.as_u64() == Some(PROTOCOL_VERSION) => {}
        Some(p) => {
            return Err(format!(
                "the adapter speaks protocol {p}; this auditor speaks protocol {PROTOCOL_VERSION}"
            ));
        }
        None => return Err("no \"protocol\" field".to_string()),
    }
    let name = match obj.get("name") {
        Some(Value::String(s)) => sanitize_name(s),
        _ => return Err("\"name\" must be a string".to_string()),
    };
    let dtype = match obj
        .get("dtype")
        .and_then(Value::as_str)
        .and_then(Dtype::from_name)
    {
        Some(d) => d,
        None => {
            let other = obj.get("dtype").and_then(Value::as_str);
            return Err(format!(
                "\"dtype\" must be \"float32\", \"float64\", \"float16\" or \"bfloat16\", \
                 found {}",
                other.map_or_else(|| format!("{:?}", obj.get("dtype")), |s| format!("{s:?}"))
            ));
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, String> {
        match obj.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("\"{key}\" must be a list of strings, found {v}"))
                })
                .collect(),
            _ => Err(format!("\"{key}\" must be a list of strings")),
        }
    };
    let declared = strings("ops")?;
    let mut ops: Vec<Op> = declared.iter().filter_map(|s| Op::from_name(s)).collect();
    ops.sort();
    ops.dedup();
    let unknown = declared.into_iter().filter(|s| Op::from_name(s).is_none());
    let estimators = strings("estimators")?;
    Ok(Capabilities::new(name, dtype, ops, estimators).with_unknown_ops(unknown.collect()))
}

fn spawn_writer(stdin: ChildStdin) -> Sender<Vec<u8>> {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    // A writer thread, so that a child that stops reading its input cannot block the auditor
    // past the timeout. It ends (closing the child's stdin) when the sender is dropped.
    let _ = thread::Builder::new()
        .name("adapter-stdin".to_string())
        .spawn(move || {
            let mut stdin = stdin;
            for line in rx {
                if stdin.write_all(&line).and_then(|_| stdin.flush()).is_err() {
                    break;
                }
            }
        });
    tx
}

fn spawn_reader(stdout: std::process::ChildStdout) -> Receiver<LineEvent> {
    let (tx, rx) = mpsc::channel::<LineEvent>();
    let _ = thread::Builder::new()
        .name("adapter-stdout".to_string())
        .spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut buf = Vec::new();
                let read = (&mut reader)
                    .take(MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut buf);
                let event = match read {
                    Ok(0) => LineEvent::Eof,
                    Ok(_) if buf.ends_with(b"\n") => LineEvent::Line(buf),
                    Ok(_) if buf.len() > MAX_LINE => LineEvent::TooLong,
                    // A last line without a newline before the end of the stream.
                    Ok(_) => LineEvent::Line(buf),
                    Err(e) => LineEvent::Error(e.to_string()),
                };
                let stop = !matches!(event, LineEvent::Line(_));
                if tx.send(event).is_err() || stop {
                    break;
                }
            }
        });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_json_floats_are_strings() {
        assert_eq!(float(1.5), json!(1.5));
        assert_eq!(float(f64::INFINITY), json!("inf"));
        assert_eq!(float(f64::NEG_INFINITY), json!("-inf"));
        assert_eq!(float(f64::NAN), json!("nan"));
        assert_eq!(
            floats(&[0.0, f64::NEG_INFINITY]).to_string(),
            r#"[0.0,"-inf"]"#
        );
    }

    #[test]
    fn hello_is_validated() {
        let ok = object(
            json!({"id": 0, "ok": true, "protocol": 1, "name": "x", "dtype": "float32",
            "ops": ["grad", "gumbel", "future_op", "gumbel"], "estimators": ["reinforce"]}),
        );
        let caps = parse_hello(&ok).unwrap();
        assert_eq!(caps.ops, vec![Op::Gumbel, Op::Grad]);
        assert_eq!(caps.dtype, Dtype::Float32);
        assert!(caps.offers_estimator("reinforce"));
        let cases = [
            (
                json!({"protocol": 2, "name": "x", "dtype": "float64", "ops": [], "estimators": []}),
                "protocol 2",
            ),
            (
                json!({"name": "x", "dtype": "float64", "ops": [], "estimators": []}),
                "protocol",
            ),
            (
                json!({"protocol": 1, "dtype": "float64", "ops": [], "estimators": []}),
                "name",
            ),
            (
                json!({"protocol": 1, "name": "x", "dtype": "float8_e4m3", "ops": [], "estimators": []}),
                "bfloat16",
            ),
            (
                json!({"protocol": 1, "name": "x", "dtype": "float64", "ops": "gumbel", "estimators": []}),
                "ops",
            ),
            (
                json!({"protocol": 1, "name": "x", "dtype": "float64", "ops": [1], "estimators": []}),
                "ops",
            ),
            (
                json!({"protocol": 1, "name": "x", "dtype": "float64", "ops": []}),
                "estimators",
            ),
        ];
        for (v, needle) in cases {
            let msg = parse_hello(&object(v)).unwrap_err();
            assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
        }
    }

    #[test]
    fn names_are_made_safe_to_print() {
        assert_eq!(sanitize_name("torch 2.1"), "torch 2.1");
        assert_eq!(
            sanitize_name("\u{1b}[2Jx\ny\u{7f}\u{202e}"),
            "\\u{1b}[2Jx\\ny\\u{7f}\\u{202e}"
        );
        let long = sanitize_name(&"é".repeat(1000));
        assert_eq!(long.chars().count(), MAX_NAME_CHARS + 3);
        assert!(long.ends_with("é..."));
        // An escape is never cut in the middle.
        let cut = sanitize_name(&format!("{}\u{1b}", "a".repeat(MAX_NAME_CHARS - 2)));
        assert_eq!(cut, format!("{}...", "a".repeat(MAX_NAME_CHARS - 2)));
        assert_eq!(summary("first\nsecond"), "first [...]");
    }

    #[test]
    fn stderr_ring_keeps_the_tail() {
        let mut r = StderrRing {
            bytes: VecDeque::new(),
            limit: 8,
            total: 0,
            session_start: 0,
        };
        r.push(b"0123456789");
        r.push(b"ab");
        assert_eq!(r.text(), "456789ab");
        // A session that started at byte 9 sees "9ab"; one that started before the ring's
        // first byte sees the whole ring.
        r.session_start = 9;
        assert_eq!(r.session_text(), "9ab");
        r.session_start = 1;
        assert_eq!(r.session_text(), "456789ab");
        r.session_start = 12;
        assert_eq!(r.session_text(), "");
        assert_eq!(last_lines("a\nb\nc\nd\n", 2, 100), "c\nd");
        assert_eq!(last_lines("a\nb", 5, 100), "a\nb");
        assert_eq!(last_lines("abcdef", 5, 3), "def");
    }
}
