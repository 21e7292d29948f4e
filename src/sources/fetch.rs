//! Fetching one source: a file, a command, an HTTP URL or a JIRA search,
//! with a size limit, timeouts, retries for temporary failures, and the
//! checks that keep a bad export from replacing good data.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::source::{Kind, Source};

/// What a fetch brought back.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub text: String,
    pub status: String,
    pub content_type: String,
    pub etag: String,
    pub last_modified: String,
    pub fetched_at: String,
    /// What a command said on stderr, line by line (at most
    /// [`MAX_WARNINGS`] lines, then how many more there were).
    pub warnings: Vec<String>,
    /// A workbook's bytes, until [`super::workbook`] makes its sheet text.
    pub workbook: Option<Vec<u8>>,
    /// The sheet of a workbook that was read (empty for text).
    pub sheet: String,
    /// The encoding text was decoded from (empty for a workbook).
    pub encoding: String,
}

impl Fetched {
    pub fn sha256(&self) -> String {
        Sha256::digest(self.text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Why a fetch failed; a temporary failure is retried, then exits 75.
#[derive(Debug, Clone)]
pub struct Failure {
    pub temporary: bool,
    /// A mistake in the data itself (a missing sheet, an error cell).
    pub data: bool,
    pub message: String,
    pub retry_after: Option<Duration>,
    /// What a command said on stderr before it failed.
    pub warnings: Vec<String>,
}

pub(super) fn fail(temporary: bool, message: impl Into<String>) -> Failure {
    Failure {
        temporary,
        data: false,
        message: message.into(),
        retry_after: None,
        warnings: Vec::new(),
    }
}

/// What one source may still spend: time and bytes, over every page and
/// redirect of one attempt.
pub(super) struct Budget {
    deadline: Option<Instant>,
    timeout: Duration,
    bytes_left: u64,
    max_bytes: u64,
}

impl Budget {
    pub(super) fn new(src: &Source) -> Budget {
        Budget {
            // A timeout too large for the clock means no deadline.
            deadline: Instant::now().checked_add(src.timeout),
            timeout: src.timeout,
            bytes_left: src.max_bytes,
            max_bytes: src.max_bytes,
        }
    }

    /// The time left, or a temporary failure when there is none.
    pub(super) fn time_left(&self) -> Result<Option<Duration>, Failure> {
        match self.deadline {
            None => Ok(None),
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Ok(Some(left)),
                _ => Err(self.late()),
            },
        }
    }

    /// A timeout of the HTTP client after the deadline is the source's
    /// timeout, and says so.
    fn explain(&self, f: Failure) -> Failure {
        if f.temporary && f.message.starts_with("timed out") && self.time_left().is_err() {
            self.late()
        } else {
            f
        }
    }

    fn late(&self) -> Failure {
        fail(
            true,
            format!("timed out after {:?} (timeout)", self.timeout),
        )
    }

    fn too_big(&self) -> Failure {
        fail(
            false,
            format!(
                "more than {} bytes (max_bytes): refusing a runaway source",
                self.max_bytes
            ),
        )
    }
}

/// What a previous pull said of a source (`--since`).
#[derive(Debug, Clone, Default)]
pub struct Prior {
    pub text: String,
    pub etag: String,
    pub last_modified: String,
    pub content_type: String,
    pub sheet: String,
    pub encoding: String,
}

/// The checks on what came back: text, encoding, rows.
pub(super) fn check(src: &Source, f: &mut Fetched, force: bool) -> Result<(), Failure> {
    let rows = match &src.kind {
        Kind::Jira { .. } => serde_json::from_str::<Json>(&f.text)
            .ok()
            .and_then(|d| {
                d.get("issues")
                    .and_then(Json::as_array)
                    .map(|a| a.len() as u64)
            })
            .unwrap_or(0),
        // Data rows: non-empty lines after the header line.
        _ => f
            .text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count()
            .saturating_sub(1) as u64,
    };
    if rows < src.min_rows && !force {
        let what = if rows == 0 {
            "no data rows".to_owned()
        } else {
            format!("{rows} data rows, fewer than min_rows = {}", src.min_rows)
        };
        return Err(fail(
            false,
            format!(
                "{what}: refusing what may be an empty or cut export (--force takes it anyway)"
            ),
        ));
    }
    Ok(())
}

/// Bytes into text: a BOM decides, else `encoding`, else UTF-8.
pub(super) fn decode(
    bytes: Vec<u8>,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> Result<String, Failure> {
    super::encoding::decode(bytes, encoding)
        .map(|(text, _)| text)
        .map_err(|m| fail(false, m))
}

/// What came back, as the source is: a workbook's bytes kept for
/// [`super::workbook`], text decoded (a BOM decides, else the source's
/// `encoding`, else UTF-8).
pub(super) fn body(src: &Source, bytes: Vec<u8>, content_type: &str) -> Result<Fetched, Failure> {
    if super::source::is_workbook(src, &bytes, content_type) {
        return Ok(Fetched {
            workbook: Some(bytes),
            ..Fetched::default()
        });
    }
    let (text, encoding) =
        super::encoding::decode(bytes, src.encoding).map_err(|m| fail(false, m))?;
    Ok(Fetched {
        text,
        encoding: encoding.to_owned(),
        ..Fetched::default()
    })
}

pub(super) fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Reads what the budget allows, taking it from the budget; more is an
/// error, not a silent cut.
pub(super) fn read_limited(
    r: impl Read,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    let max = budget.bytes_left;
    let mut r = r.take(max.saturating_add(1));
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                progress.advance(budget.max_bytes - max + buf.len() as u64);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(&e)),
        }
    }
    if buf.len() as u64 > max {
        return Err(budget.too_big());
    }
    budget.bytes_left -= buf.len() as u64;
    Ok(buf)
}

fn io_failure(e: &io::Error) -> Failure {
    // ureq reports its own errors (a timeout while reading the body) inside
    // an io::Error.
    if let Some(u) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return match u {
            ureq::Error::Timeout(t) => fail(true, format!("timed out ({t})")),
            other => fail(false, other.to_string()),
        };
    }
    let temporary = matches!(
        e.kind(),
        io::ErrorKind::TimedOut
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::WouldBlock
    );
    let what = if e.kind() == io::ErrorKind::UnexpectedEof {
        "the body was cut short".to_owned()
    } else {
        e.to_string()
    };
    fail(temporary, what)
}

/// Where a pull shows its progress: `done` counts the sources fetched,
/// and a source that takes more than a second gets a line of its own in
/// `multi` (bytes so far, or a JIRA search's pages and issues). Both come
/// from the command: hidden when stderr is not a terminal or with `-q`.
#[derive(Clone)]
pub struct Shown {
    pub multi: MultiProgress,
    pub done: ProgressBar,
    /// The look of a counting bar, given its unit (`issues`): the
    /// command's, so that every bar of the toolkit looks alike.
    pub counting: fn(&str) -> ProgressStyle,
}

impl Shown {
    /// Nothing drawn.
    pub fn hidden() -> Shown {
        Shown {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
            done: ProgressBar::hidden(),
            counting: |_| ProgressStyle::default_bar(),
        }
    }
}

/// One source's line: drawn once the fetch has taken more than a second
/// (a quick fetch shows nothing but the count of sources), or at once
/// when a JIRA search has more than one page.
pub(super) struct Progress {
    bar: ProgressBar,
    multi: MultiProgress,
    counting: fn(&str) -> ProgressStyle,
    name: String,
    start: Instant,
    added: Cell<bool>,
    /// Counting issues (a JIRA search), not bytes.
    issues: Cell<bool>,
}

impl Progress {
    pub(super) fn new(name: &str, shown: &Shown) -> Progress {
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("qpull: {name}"));
        Progress {
            bar,
            multi: shown.multi.clone(),
            counting: shown.counting,
            name: name.to_owned(),
            start: Instant::now(),
            added: Cell::new(false),
            issues: Cell::new(false),
        }
    }

    fn show(&self) {
        if !self.added.get() && !self.multi.is_hidden() {
            self.added.set(true);
            self.multi.add(self.bar.clone());
        }
    }

    /// Shows `bytes` fetched so far.
    fn advance(&self, bytes: u64) {
        if self.start.elapsed() > Duration::from_secs(1) {
            self.show();
        }
        if !self.issues.get() {
            self.bar.set_position(bytes);
        }
    }

    /// A JIRA search read to page `page`: `have` issues of `total` (when
    /// the server says how many), `more` when another page is to come.
    pub(super) fn issues(&self, page: u64, have: u64, total: Option<u64>, more: bool) {
        if !self.issues.replace(true) {
            self.bar.set_style(match total {
                Some(_) => (self.counting)("issues"),
                None => ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            });
        }
        match total {
            Some(t) => {
                self.bar.set_length(t);
                self.bar.set_position(have);
                self.bar
                    .set_message(format!("qpull: {}: page {page}", self.name));
            }
            None => self
                .bar
                .set_message(format!("qpull: {}: page {page}, {have} issues", self.name)),
        }
        if more {
            self.show();
        }
        self.bar.tick();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        if self.added.get() {
            self.multi.remove(&self.bar);
        }
    }
}

/// At most this many lines of a command's stderr are shown, each cut to
/// [`MAX_WARNING_LEN`] bytes; the rest is read (so that the command never
/// blocks on a full pipe) and counted.
pub const MAX_WARNINGS: usize = 100;
const MAX_WARNING_LEN: usize = 500;

/// A command's stderr, read while it runs.
#[derive(Default)]
struct Stderr {
    lines: Vec<String>,
    more: usize,
    last: String,
}

impl Stderr {
    fn read(r: impl Read) -> Stderr {
        let mut got = Stderr::default();
        let mut r = io::BufReader::new(r);
        let mut line = Vec::new();
        loop {
            line.clear();
            // A line longer than the pipe is read in pieces of 64 KiB, so a
            // command printing no line break cannot fill memory.
            match (&mut r).take(64 * 1024).read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            let mut text = String::from_utf8_lossy(&line).trim_end().to_owned();
            if text.trim().is_empty() {
                continue;
            }
            if text.len() > MAX_WARNING_LEN {
                let mut cut = MAX_WARNING_LEN;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str("...");
            }
            if got.lines.len() < MAX_WARNINGS {
                got.lines.push(text.clone());
            } else {
                got.more += 1;
            }
            got.last = text;
        }
        got
    }

    fn warnings(self) -> Vec<String> {
        let mut w = self.lines;
        if self.more > 0 {
            w.push(format!("... and {} more lines on stderr", self.more));
        }
        w
    }
}

/// Whether the process `pid` has ended, without reaping it: until it is
/// reaped its process id, and so its process group's, cannot be reused,
/// which makes killing the group afterwards safe.
fn has_exited(pid: libc::pid_t) -> io::Result<bool> {
    // SAFETY: waitid only writes into the siginfo_t it is given; si_pid is
    // read only after a successful call, which sets it (0 when no child
    // has changed state).
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(info.si_pid() != 0)
    }
}

/// Kills every process of the group `pgid` (the command and whatever it
/// started and did not move elsewhere).
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: a plain system call; the group leader is not reaped yet, so
    // the group is still ours. An error (no such group left) is fine.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Runs a command (no shell unless the config says so) in its own process
/// group, within the source's timeout and max_bytes. When the command ends
/// or is late, the whole group is killed: nothing it started outlives the
/// fetch. Its stderr is read while it runs and shown as warnings; a
/// non-zero exit is a failure that also shows the last line of stderr.
pub(super) fn run(
    src: &Source,
    argv: &[String],
    shell: bool,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Fetched, Failure> {
    let mut cmd = if shell {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&argv[0]);
        c
    } else {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| fail(false, format!("cannot run {}: {e}", argv[0])))?;
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(fail(false, "the command's process id is out of range"));
    };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let deadline = budget.deadline;
    let late = budget.late();
    let (ended, status, out, err) = std::thread::scope(|s| {
        let err = s.spawn(move || stderr.map(Stderr::read).unwrap_or_default());
        let mut out = Some(s.spawn(move || match stdout {
            Some(o) => read_limited(o, budget, &Progress::new("", &Shown::hidden())),
            None => Ok(Vec::new()),
        }));
        let mut got: Option<Result<Vec<u8>, Failure>> = None;
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<Vec<u8>, Failure>>| {
            h.join()
                .unwrap_or_else(|_| Err(fail(false, "reading the command's output failed")))
        };
        // Wait for the command to end, for its output to be refused (too
        // big, unreadable: no point letting it run on), or for the deadline.
        let ended = loop {
            match has_exited(pid) {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(e) => break Err(fail(false, format!("waiting for the command: {e}"))),
            }
            if out.as_ref().is_some_and(|h| h.is_finished()) {
                if let Some(h) = out.take() {
                    let r = join(h);
                    let refused = r.as_ref().err().cloned();
                    got = Some(r);
                    if let Some(e) = refused {
                        break Err(e);
                    }
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break Err(fail(
                    true,
                    format!(
                        "{}; the command and what it started were killed",
                        late.message
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // Whatever is left of the group goes: on a timeout the command
        // itself, after it ended what it left running (a background job
        // would otherwise hold the output pipe open, or outlive qpull).
        kill_group(pid);
        let status = child.wait();
        // With the whole group gone the pipes are closed: the readers end.
        let out = match (got, out) {
            (Some(r), _) => r,
            (None, Some(h)) => join(h),
            (None, None) => Ok(Vec::new()),
        };
        let err = err.join().unwrap_or_default();
        (ended, status, out, err)
    });
    let warn = |e: Failure, err: Stderr| Failure {
        warnings: err.warnings(),
        ..e
    };
    if let Err(e) = ended {
        return Err(warn(e, err));
    }
    let status = match status {
        Ok(st) => st,
        Err(e) => {
            return Err(warn(
                fail(false, format!("waiting for the command: {e}")),
                err,
            ))
        }
    };
    let bytes = match out {
        Ok(b) => b,
        Err(e) => return Err(warn(e, err)),
    };
    progress.advance(bytes.len() as u64);
    if !status.success() {
        let last = err.last.trim().to_owned();
        let message = format!(
            "{} exited with {status}{}",
            argv[0],
            if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            }
        );
        return Err(warn(fail(false, message), err));
    }
    match body(src, bytes, "") {
        Ok(f) => Ok(Fetched {
            status: "0".into(),
            warnings: err.warnings(),
            ..f
        }),
        Err(e) => Err(warn(e, err)),
    }
}

fn http_failure(e: ureq::Error) -> Failure {
    match e {
        ureq::Error::Timeout(t) => fail(true, format!("timed out ({t})")),
        ureq::Error::Io(e) => io_failure(&e),
        ureq::Error::ConnectionFailed => fail(false, "connection failed"),
        ureq::Error::HostNotFound => fail(false, "host not found"),
        ureq::Error::BodyExceedsLimit(n) => fail(
            false,
            format!("more than {n} bytes (max_bytes): refusing a runaway source"),
        ),
        other => fail(false, other.to_string()),
    }
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now = chrono::DateTime::from_timestamp(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs(),
        )
        .ok()?,
        0,
    )?;
    let secs = (when.timestamp() - now.timestamp()).max(0);
    Some(Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;

fn agent(src: &Source) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(src.timeout))
        .timeout_connect(Some(src.connect_timeout))
        .http_status_as_error(false)
        // Redirects are followed here, not by ureq, which would pass
        // headers such as X-Api-Key on to another host.
        .max_redirects(0)
        .user_agent(concat!("qpull/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Scheme, host (lower case) and port of an absolute URL: what must stay
/// the same for a secret to be sent along a redirect.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let port = uri.port_u16().or(match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some((scheme, uri.host()?.to_ascii_lowercase(), port))
}

/// The absolute URL a `Location` points to from `base`.
fn resolve_location(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.contains("://") {
        return origin(location).map(|_| location.to_owned());
    }
    let (scheme, rest) = base.split_once("://")?;
    if let Some(net) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{net}"));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    if location.starts_with('?') {
        return Some(format!("{scheme}://{authority}{path}{location}"));
    }
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    Some(format!("{scheme}://{authority}{dir}{location}"))
}

/// Sends a GET and follows redirects; the answer, whatever its status.
pub(super) fn send(
    src: &Source,
    url: &str,
    prior: Option<&Prior>,
    query: &[(&str, String)],
    budget: &mut Budget,
) -> Result<ureq::http::Response<ureq::Body>, Failure> {
    let agent = agent(src);
    let home = origin(url);
    let mut current = url.to_owned();
    let mut first = true;
    // Headers built from a secret go to the source's own origin only: a
    // redirect to another scheme, host or port drops them (and they stay
    // dropped for the rest of the chain).
    let mut secrets_allowed = true;
    let mut hops = 0;
    let resp = loop {
        let mut req = agent
            .get(&current)
            .config()
            .timeout_global(budget.time_left()?)
            .build();
        for h in &src.headers {
            if secrets_allowed || !h.secret {
                req = req.header(h.name.as_str(), h.value.as_str());
            }
        }
        if first {
            for (k, v) in query {
                req = req.query(*k, v);
            }
        }
        if let Some(p) = prior {
            if !p.etag.is_empty() {
                req = req.header("If-None-Match", p.etag.as_str());
            }
            if !p.last_modified.is_empty() {
                req = req.header("If-Modified-Since", p.last_modified.as_str());
            }
        }
        let resp = req.call().map_err(|e| budget.explain(http_failure(e)))?;
        if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
            break resp;
        }
        let status = resp.status().as_u16();
        // The URL as sent (with its query), to resolve against.
        current = ureq::ResponseExt::get_uri(&resp).to_string();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if location.is_empty() {
            return Err(fail(false, format!("HTTP {status} without a Location")));
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(fail(
                false,
                format!("more than {MAX_REDIRECTS} redirects (the last to {location})"),
            ));
        }
        let Some(next) = resolve_location(&current, &location) else {
            return Err(fail(
                false,
                format!("HTTP {status} to {location:?}, which is not an http(s) URL"),
            ));
        };
        if origin(&next).is_none() || origin(&next) != home {
            secrets_allowed = false;
        }
        current = next;
        first = false;
    };
    Ok(resp)
}

/// Reads a body within the budget.
pub(super) fn read_body(
    resp: &mut ureq::http::Response<ureq::Body>,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Vec<u8>, Failure> {
    let reader = resp
        .body_mut()
        .with_config()
        .limit(budget.bytes_left.saturating_add(1))
        .reader();
    read_limited(reader, budget, progress).map_err(|f| {
        if f.message.contains("exceeds") || f.message.contains("limit") {
            budget.too_big()
        } else {
            budget.explain(f)
        }
    })
}

pub(super) fn http(
    src: &Source,
    url: &str,
    prior: Option<&Prior>,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Fetched, Failure> {
    let mut resp = send(src, url, prior, &[], budget)?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (etag, last_modified, content_type) = (
        header("etag"),
        header("last-modified"),
        header("content-type"),
    );
    if status == 304 {
        if let Some(p) = prior {
            return Ok(Fetched {
                text: p.text.clone(),
                status: "304".into(),
                content_type: p.content_type.clone(),
                sheet: p.sheet.clone(),
                encoding: p.encoding.clone(),
                etag: if etag.is_empty() {
                    p.etag.clone()
                } else {
                    etag
                },
                last_modified: if last_modified.is_empty() {
                    p.last_modified.clone()
                } else {
                    last_modified
                },
                ..Fetched::default()
            });
        }
        return Err(fail(
            false,
            "304 Not Modified, but there is no previous content (--since)",
        ));
    }
    if status == 429 || status == 408 || (500..600).contains(&status) {
        let mut f = fail(true, format!("HTTP {status}"));
        f.retry_after = retry_after(&header("retry-after"));
        return Err(f);
    }
    if !(200..300).contains(&status) {
        return Err(fail(false, format!("HTTP {status}")));
    }
    let bytes = read_body(&mut resp, budget, progress)?;
    let got = body(src, bytes, &content_type)?;
    Ok(Fetched {
        status: status.to_string(),
        content_type,
        etag,
        last_modified,
        ..got
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn retry_after_in_seconds_or_a_date() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}", b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = retry_after(&s);
            let _ = super::super::encoding::decode(b, None);
        }
    }
}
