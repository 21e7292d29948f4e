//! The runner: one loop that reads the heads from a [`Source`], compares
//! them with each rule's checkpoint, and runs each rule's command, one at a
//! time per rule, in its own process group.
//!
//! A rule's resource is *due* when its head differs from the checkpoint
//! (and from the head its command last failed on, so a failing command is
//! not rerun in a loop: a new put, the timer or a restart of qwatch tries
//! again). Due resources run one after the other, each against the newest
//! head at the moment its run starts: that is how a burst of puts
//! coalesces into at most one rerun. While a run is going on, `--on-busy`
//! decides what a newer head does: nothing until the run ends (`queue`),
//! stop the run and start again (`restart`), or nothing at all (`drop`:
//! the checkpoint records the newest head when the run ends).

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::config::{OnBusy, RuleSpec};
use super::source::{Heads, Source};
use super::state::Checkpoint;
use crate::error::{Error, Result};
use crate::snap::Resource;

/// How many lines of a failed command's stderr are repeated in the log.
const TAIL_LINES: usize = 10;

/// How long the loop sleeps at most while a command runs, between looks
/// at whether it ended.
const CHILD_POLL: Duration = Duration::from_millis(2);

/// How long the loop waits at most when nothing runs, to notice a signal,
/// with a source that cannot be woken by one (the bus: its heartbeats
/// wake it every second anyway).
const IDLE_POLL: Duration = Duration::from_millis(100);

/// The same with a source that a signal wakes (the store through
/// inotify): only timers end an idle wait, so an idle qwatch does not
/// wake up.
const IDLE_WOKEN: Duration = Duration::from_secs(3600);

/// Everything the runner needs besides the rules.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run the catch-up and exit.
    pub once: bool,
    /// Exit at the first failed command instead of going on.
    pub exit_on_error: bool,
    /// How long a command is given to stop: after SIGTERM before SIGKILL,
    /// and at shutdown before SIGTERM.
    pub grace: Duration,
    /// Print what is done on stderr.
    pub verbose: bool,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// A rule with its checkpoint (where it is kept is decided by the caller).
pub struct Rule {
    pub spec: RuleSpec,
    pub checkpoint: Checkpoint,
}

/// Set by SIGINT and SIGTERM: stop taking events, finish, save, exit.
pub struct Stop {
    flag: Arc<AtomicBool>,
    /// Readable once a signal came (a byte is written to its other end by
    /// the handler), so that a wait on the store ends at once.
    pipe: Option<std::os::unix::net::UnixStream>,
}

impl Stop {
    /// Registers the handlers for SIGINT and SIGTERM.
    pub fn install() -> Result<Stop> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let flag = Arc::new(AtomicBool::new(false));
        let failed = |e| Error::io("installing the signal handlers", e);
        let (reader, writer) = std::os::unix::net::UnixStream::pair().map_err(failed)?;
        reader.set_nonblocking(true).map_err(failed)?;
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register(sig, flag.clone()).map_err(failed)?;
            // The flag first: whoever the pipe wakes finds it set.
            signal_hook::low_level::pipe::register(sig, writer.try_clone().map_err(failed)?)
                .map_err(failed)?;
        }
        Ok(Stop {
            flag,
            pipe: Some(reader),
        })
    }

    /// A stop that never fires (tests of the library).
    pub fn never() -> Stop {
        Stop {
            flag: Arc::new(AtomicBool::new(false)),
            pipe: None,
        }
    }

    /// The descriptor that becomes readable on a signal.
    fn fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.pipe.as_ref().map(AsRawFd::as_raw_fd)
    }

    fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// A command that runs.
struct Job {
    child: Child,
    resource: Option<Resource>,
    commit: Option<String>,
    stderr: Option<JoinHandle<VecDeque<String>>>,
    /// When SIGTERM was sent to its group, if it was.
    terminated: Option<Instant>,
    /// Stopped by us to start again against a newer head.
    restarting: bool,
    /// When it started, for `qwatch --status`.
    started: std::time::SystemTime,
}

/// A rule as it runs.
struct Live {
    spec: RuleSpec,
    checkpoint: Checkpoint,
    latest: BTreeMap<Resource, String>,
    epoch: Option<String>,
    seq: Option<u64>,
    /// Heads whose run failed: not retried until the head moves.
    failed: BTreeMap<Resource, String>,
    /// When the debounce lets the next run start.
    ready_at: Option<Instant>,
    next_timer: Option<Instant>,
    /// The timer fired: run even if nothing is due.
    forced: bool,
    job: Option<Job>,
    runs: u64,
    failures: u64,
}

/// Runs the rules until stopped (or, with `--once`, until the catch-up is
/// done). Returns the number of runs started, for tests and `-v`.
pub fn run(rules: Vec<Rule>, source: &mut dyn Source, opts: &Options, stop: &Stop) -> Result<u64> {
    let start = Instant::now();
    let mut live: Vec<Live> = rules
        .into_iter()
        .map(|r| Live {
            next_timer: r.spec.every.map(|d| {
                // With nothing to watch, the timer is the catch-up: run at once.
                if r.spec.watch.is_empty() {
                    start
                } else {
                    start + d
                }
            }),
            spec: r.spec,
            checkpoint: r.checkpoint,
            latest: BTreeMap::new(),
            epoch: None,
            seq: None,
            failed: BTreeMap::new(),
            ready_at: None,
            forced: false,
            job: None,
            runs: 0,
            failures: 0,
        })
        .collect();
    let env = source.child_env();
    let idle = match stop.fd() {
        Some(fd) if source.wake_on(fd) => IDLE_WOKEN,
        _ => IDLE_POLL,
    };
    let mut dirty = true;
    let mut stopping: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if stopping.is_none() && stop.requested() {
            stopping = Some(now);
            if !opts.quiet {
                eprintln!("qwatch: stopping: waiting for running commands to finish");
            }
        }
        let mut dirty_read = false;
        if dirty && stopping.is_none() {
            let heads = source.heads()?;
            for rule in &mut live {
                rule.see(&heads, now, opts);
            }
            dirty = false;
            dirty_read = true;
        }
        for rule in &mut live {
            if let Some(failure) = rule.reap(opts)? {
                source.publish_error(&failure.0, &failure.1);
                if opts.exit_on_error {
                    stop_all(&mut live, opts.grace);
                    return Err(Error::Temporary {
                        what: "qwatch".into(),
                        message: format!("{} (--exit-on-error)", failure.1),
                    });
                }
            }
        }
        if let Some(since) = stopping {
            let mut busy = false;
            for rule in &mut live {
                if let Some(job) = &mut rule.job {
                    busy = true;
                    job.stop_after(since, opts.grace, now);
                }
            }
            if !busy {
                return Err(Error::Io {
                    context: "stopped by a signal (checkpoints saved)".into(),
                    source: std::io::Error::from(std::io::ErrorKind::Interrupted),
                });
            }
        } else {
            // The store is the truth: a run starts against the heads as
            // they are now, not as the last doorbell left them.
            if !opts.once && !dirty_read && live.iter().any(|r| r.wants_start(now)) {
                let heads = source.heads()?;
                for rule in &mut live {
                    rule.see(&heads, now, opts);
                }
            }
            for rule in &mut live {
                rule.start(now, &env, opts)?;
            }
            if opts.once && live.iter().all(|r| r.job.is_none() && !r.due_now()) {
                let failed: u64 = live.iter().map(|r| r.failures).sum();
                if failed > 0 {
                    return Err(Error::Temporary {
                        what: "qwatch".into(),
                        message: format!(
                            "{failed} run{} failed; the checkpoint did not move past {}",
                            if failed == 1 { "" } else { "s" },
                            if failed == 1 { "it" } else { "them" }
                        ),
                    });
                }
                return Ok(live.iter().map(|r| r.runs).sum());
            }
        }
        // When to look again.
        let busy = live.iter().any(|r| r.job.is_some());
        let mut deadline = now + if busy { CHILD_POLL } else { idle };
        for rule in &live {
            for t in [rule.ready_at, rule.next_timer].into_iter().flatten() {
                deadline = deadline.min(t.max(now));
            }
        }
        if opts.once || stopping.is_some() {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        } else if source.wait(deadline)? {
            dirty = true;
        }
    }
}

/// Terminates every running command (on the way out after an error).
fn stop_all(live: &mut [Live], grace: Duration) {
    for rule in live {
        if let Some(mut job) = rule.job.take() {
            job.signal(libc::SIGTERM);
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = job.child.try_wait() {
                    break;
                }
                std::thread::sleep(CHILD_POLL);
            }
            job.signal(libc::SIGKILL);
            let _ = job.child.wait();
        }
    }
}

impl Live {
    /// Takes in new heads.
    fn see(&mut self, heads: &Heads, now: Instant, opts: &Options) {
        let latest: BTreeMap<Resource, String> = self
            .spec
            .watch
            .iter()
            .filter_map(|r| heads.heads.get(r).map(|c| (r.clone(), c.clone())))
            .collect();
        self.epoch = heads.epoch.clone();
        self.seq = heads.seq;
        if latest == self.latest {
            return;
        }
        self.latest = latest;
        if self.due().is_some() {
            // Debounce: the run starts once the heads stay put that long.
            self.ready_at = Some(now + self.spec.debounce);
        }
        let due = self.due();
        if let Some(job) = &mut self.job {
            if self.spec.on_busy == OnBusy::Restart && job.terminated.is_none() {
                let moved = job
                    .resource
                    .as_ref()
                    .is_some_and(|r| self.latest.get(r) != job.commit.as_ref());
                if moved || due.is_some_and(|r| Some(&r) != job.resource.as_ref()) {
                    if opts.verbose {
                        eprintln!(
                            "qwatch: {}: a newer head: restarting the command",
                            self.spec.name
                        );
                    }
                    job.restarting = true;
                    job.terminated = Some(now);
                    job.signal(libc::SIGTERM);
                }
            }
        }
    }

    /// The first watched resource whose head is neither processed nor
    /// failed.
    fn due(&self) -> Option<Resource> {
        self.spec
            .watch
            .iter()
            .find(|r| {
                let head = self.latest.get(*r);
                head.is_some()
                    && head != self.checkpoint.done.get(*r)
                    && head != self.failed.get(*r)
            })
            .cloned()
    }

    /// Whether `start` would start a run now (on the heads it knows).
    fn wants_start(&self, now: Instant) -> bool {
        self.job.is_none()
            && (self.forced
                || self.next_timer.is_some_and(|t| now >= t)
                || (self.due().is_some() && self.ready_at.is_none_or(|t| now >= t)))
    }

    fn due_now(&self) -> bool {
        self.forced || self.due().is_some()
    }

    /// Starts the command when something is due and nothing runs.
    fn start(&mut self, now: Instant, env: &[(String, String)], opts: &Options) -> Result<()> {
        if let Some(t) = self.next_timer {
            if now >= t {
                self.forced = true;
                let every = self.spec.every.unwrap_or(Duration::from_secs(60));
                let mut next = t + every;
                while next <= now {
                    next += every;
                }
                self.next_timer = Some(next);
            }
        }
        if self.job.is_some() {
            return Ok(());
        }
        let due = self.due();
        let ready = self.ready_at.is_none_or(|t| now >= t);
        if !(self.forced || (due.is_some() && ready)) {
            return Ok(());
        }
        self.forced = false;
        self.ready_at = None;
        let resource = due.or_else(|| self.spec.watch.first().cloned());
        let commit = resource.as_ref().and_then(|r| self.latest.get(r).cloned());
        let parent = resource
            .as_ref()
            .and_then(|r| self.checkpoint.done.get(r).cloned());
        let mut cmd = Command::new(&self.spec.command[0]);
        cmd.args(&self.spec.command[1..])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env(
                "QWATCH_RESOURCE",
                resource.as_ref().map(|r| r.to_string()).unwrap_or_default(),
            )
            .env("QWATCH_COMMIT", commit.clone().unwrap_or_default())
            .env("QWATCH_PARENT", parent.unwrap_or_default())
            .env(
                "QWATCH_SEQ",
                self.seq.map(|s| s.to_string()).unwrap_or_default(),
            )
            .env("QWATCH_EPOCH", self.epoch.clone().unwrap_or_default())
            .env("QWATCH_RULE", &self.spec.name)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group, so that stopping it stops everything
            // it started, and a Ctrl-C at the terminal reaches only qwatch,
            // which then lets it finish.
            .process_group(0);
        let what = describe(&self.spec.name, resource.as_ref(), commit.as_deref());
        let mut child = cmd.spawn().map_err(|e| {
            Error::Usage(format!(
                "{}: cannot run {:?}: {e}",
                self.spec.name, self.spec.command[0]
            ))
        })?;
        if opts.verbose {
            eprintln!("qwatch: {what}: running {:?}", self.spec.command);
        }
        let stderr = child.stderr.take().map(|err| {
            std::thread::spawn(move || {
                let mut tail = VecDeque::new();
                let mut reader = BufReader::new(err);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                    // Passed through as it comes, so that the log shows it.
                    let _ = std::io::stderr().lock().write_all(&line);
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(String::from_utf8_lossy(&line).trim_end().to_owned());
                    line.clear();
                }
                tail
            })
        });
        self.runs += 1;
        self.job = Some(Job {
            child,
            resource,
            commit,
            stderr,
            terminated: None,
            restarting: false,
            started: std::time::SystemTime::now(),
        });
        Ok(())
    }

    /// Looks at whether the command ended; on success moves the checkpoint
    /// and saves it. Returns a failure to publish: `(app, text)`.
    fn reap(&mut self, opts: &Options) -> Result<Option<(String, String)>> {
        let Some(job) = &mut self.job else {
            return Ok(None);
        };
        let status = match job.child.try_wait() {
            Ok(Some(s)) => s,
            Ok(None) => {
                if let Some(t) = job.terminated {
                    if t.elapsed() >= opts.grace {
                        job.signal(libc::SIGKILL);
                    }
                }
                return Ok(None);
            }
            Err(e) => {
                return Err(Error::io(
                    format!("{}: waiting for the command", self.spec.name),
                    e,
                ))
            }
        };
        let Some(mut job) = self.job.take() else {
            return Ok(None);
        };
        if job.terminated.is_some() {
            // Whatever it left behind in its group goes with it.
            job.signal(libc::SIGKILL);
        }
        let tail = job
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let what = describe(
            &self.spec.name,
            job.resource.as_ref(),
            job.commit.as_deref(),
        );
        if job.restarting {
            if opts.verbose {
                eprintln!("qwatch: {what}: stopped for a newer head");
            }
            return Ok(None);
        }
        self.record(&job, status, opts);
        if status.success() {
            if let (Some(res), Some(commit)) = (&job.resource, &job.commit) {
                let done = match self.spec.on_busy {
                    // Skip what was put while it ran.
                    OnBusy::Drop => self.latest.get(res).unwrap_or(commit).clone(),
                    _ => commit.clone(),
                };
                self.checkpoint.done.insert(res.clone(), done);
                self.failed.remove(res);
                self.checkpoint.save()?;
            }
            if opts.verbose {
                eprintln!("qwatch: {what}: done");
            }
            return Ok(None);
        }
        self.failures += 1;
        if let (Some(res), Some(commit)) = (&job.resource, &job.commit) {
            self.failed.insert(res.clone(), commit.clone());
        }
        let mut text = format!("{what}: the command failed ({})", show_status(status));
        if !tail.is_empty() {
            text.push_str("; the end of its stderr:");
            for l in &tail {
                text.push_str("\n  ");
                text.push_str(l);
            }
        }
        eprintln!("qwatch: {text}");
        let app = job
            .resource
            .as_ref()
            .or(self.spec.watch.first())
            .map(|r| r.app.clone())
            .unwrap_or_else(|| "qwatch".into());
        Ok(Some((app, text)))
    }
}

impl Live {
    /// Keeps what this run did beside the checkpoint, for `qwatch
    /// --status`. A failure to write it is said, not fatal: the watcher's
    /// work does not depend on it.
    fn record(&self, job: &Job, status: ExitStatus, opts: &Options) {
        let run = super::status::LastRun {
            rule: self.spec.name.clone(),
            command: shlex::try_join(self.spec.command.iter().map(String::as_str))
                .unwrap_or_else(|_| self.spec.command.join(" ")),
            outcome: if status.success() {
                "ok".to_owned()
            } else {
                format!("failed ({})", show_status(status))
            },
            resource: job
                .resource
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_default(),
            commit: job.commit.clone().unwrap_or_default(),
            started: super::status::show(job.started),
            ended: super::status::show(std::time::SystemTime::now()),
        };
        if let Err(e) = super::status::save(&self.checkpoint.path, &run) {
            if !opts.quiet {
                eprintln!("qwatch: warning: {}: {e}", self.spec.name);
            }
        }
    }
}

impl Job {
    /// Sends `sig` to the command's process group.
    fn signal(&self, sig: libc::c_int) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill has no memory effects; the group is the one the
            // child leads (spawned with process_group(0)).
            unsafe {
                libc::kill(-pid, sig);
            }
        }
    }

    /// At shutdown: the command gets `grace` to finish, then SIGTERM, then
    /// after `grace` more SIGKILL (sent by `reap`).
    fn stop_after(&mut self, since: Instant, grace: Duration, now: Instant) {
        if self.terminated.is_none() && now >= since + grace {
            self.terminated = Some(now);
            self.signal(libc::SIGTERM);
        }
    }
}

fn describe(rule: &str, res: Option<&Resource>, commit: Option<&str>) -> String {
    match (res, commit) {
        (Some(r), Some(c)) => format!("{rule}: {r} {}", &c[..c.len().min(12)]),
        (Some(r), None) => format!("{rule}: {r}"),
        _ => rule.to_owned(),
    }
}

fn show_status(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => s.to_string(),
    }
}

/// The default checkpoint of a rule, under `dir`: named after the rule's
/// resources and command, so that two watchers of the same resource with
/// different commands keep apart.
pub fn default_state(dir: &std::path::Path, spec: &RuleSpec) -> PathBuf {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for r in &spec.watch {
        h.update(r.to_string().as_bytes());
        h.update([0]);
    }
    h.update([1]);
    for a in &spec.command {
        h.update(a.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let slug: String = spec
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    dir.join(format!("{slug}-{hex}.checkpoint"))
}
