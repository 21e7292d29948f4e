//! Fetching one source: a file, a command, an HTTP URL or a JIRA search,
//! with a size limit, timeouts, retries for temporary failures, and the
//! checks that keep a bad export from replacing good data.

use std::io::{self, IsTerminal, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::Rng;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::config::{Encoding, Kind, Source};

/// What a fetch brought back.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub text: String,
    pub status: String,
    pub content_type: String,
    pub etag: String,
    pub last_modified: String,
    pub fetched_at: String,
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
    pub message: String,
    pub retry_after: Option<Duration>,
}

fn fail(temporary: bool, message: impl Into<String>) -> Failure {
    Failure {
        temporary,
        message: message.into(),
        retry_after: None,
    }
}

/// What a previous pull said of a source (`--since`).
#[derive(Debug, Clone, Default)]
pub struct Prior {
    pub text: String,
    pub etag: String,
    pub last_modified: String,
    pub content_type: String,
}

/// The longest pause between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// Fetches with retries: temporary failures are tried again after an
/// exponential backoff with jitter, or after `Retry-After` when the server
/// says so.
pub fn fetch(src: &Source, prior: Option<&Prior>, force: bool) -> Result<Fetched, Failure> {
    let mut attempt = 0;
    loop {
        match fetch_once(src, prior) {
            Ok(mut f) => {
                check(src, &mut f, force)?;
                return Ok(f);
            }
            Err(e) if e.temporary && attempt < src.retries => {
                let jitter: f64 = rand::rng().random_range(0.5..1.5);
                // Computed in f64 and capped: a config may ask for any
                // number of retries without overflowing a Duration.
                let backoff =
                    src.backoff.as_secs_f64() * 2f64.powi(attempt.min(30) as i32) * jitter;
                let wait = e
                    .retry_after
                    .unwrap_or_else(|| Duration::try_from_secs_f64(backoff).unwrap_or(MAX_WAIT))
                    .min(MAX_WAIT);
                std::thread::sleep(wait);
                attempt += 1;
            }
            Err(mut e) => {
                if attempt > 0 {
                    e.message = format!("{} (after {} attempts)", e.message, attempt + 1);
                }
                return Err(e);
            }
        }
    }
}

/// The checks on what came back: text, encoding, rows.
fn check(src: &Source, f: &mut Fetched, force: bool) -> Result<(), Failure> {
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

/// Bytes into text: UTF-8 (a BOM removed) unless the source says latin1.
pub fn decode(bytes: Vec<u8>, encoding: Encoding) -> Result<String, Failure> {
    match encoding {
        Encoding::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
        Encoding::Utf8 => {
            let mut bytes = bytes;
            if bytes.starts_with(b"\xef\xbb\xbf") {
                bytes.drain(..3);
            }
            // In place: a large export is not copied.
            String::from_utf8(bytes).map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                fail(
                    false,
                    format!("not UTF-8 at byte {at} (line {line}); set encoding = \"latin1\" if the source is Latin-1"),
                )
            })
        }
    }
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Reads at most `max` bytes; more is an error, not a silent cut.
fn read_limited(r: impl Read, max: u64, progress: &Progress) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    let mut r = r.take(max.saturating_add(1));
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                progress.advance(buf.len() as u64);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(&e)),
        }
    }
    if buf.len() as u64 > max {
        return Err(fail(
            false,
            format!("more than {max} bytes (max_bytes): refusing a runaway source"),
        ));
    }
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

/// A progress line on stderr, shown only when stderr is a terminal and the
/// fetch has taken more than a second.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    tty: bool,
}

impl Progress {
    fn new(name: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("qpull: {name}"));
        Progress {
            bar,
            start: Instant::now(),
            tty: io::stderr().is_terminal(),
        }
    }

    fn advance(&self, bytes: u64) {
        if self.tty && self.bar.is_hidden() && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_position(bytes);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn fetch_once(src: &Source, prior: Option<&Prior>) -> Result<Fetched, Failure> {
    let progress = Progress::new(&src.name);
    let fetched_at = now();
    let mut f = match &src.kind {
        Kind::File(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| fail(false, format!("cannot open {}: {e}", path.display())))?;
            let bytes = read_limited(file, src.max_bytes, &progress)?;
            Fetched {
                text: decode(bytes, src.encoding)?,
                status: "-".into(),
                ..Fetched::default()
            }
        }
        Kind::Cmd { argv, shell } => run(src, argv, *shell, &progress)?,
        Kind::Http(url) => http(src, url, prior, &[], &progress)?,
        Kind::Jira {
            url,
            jql,
            fields,
            page_size,
        } => jira(src, url, jql, fields, *page_size, &progress)?,
    };
    f.fetched_at = fetched_at;
    Ok(f)
}

/// Runs a command (no shell unless the config says so) with the source's
/// timeout; a non-zero exit is a failure that shows the command's last
/// line of stderr.
fn run(
    src: &Source,
    argv: &[String],
    shell: bool,
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
        .spawn()
        .map_err(|e| fail(false, format!("cannot run {}: {e}", argv[0])))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let max = src.max_bytes;
    let (out, err) = std::thread::scope(|s| {
        let err = s.spawn(move || {
            let mut buf = Vec::new();
            if let Some(e) = stderr {
                let _ = e.take(64 * 1024).read_to_end(&mut buf);
            }
            buf
        });
        let out = s.spawn(move || match stdout {
            Some(o) => read_limited(o, max, &Progress::new("")),
            None => Ok(Vec::new()),
        });
        // Wait for the command with a deadline, killing it when it is late.
        // A timeout too large for the clock means no deadline.
        let deadline = Instant::now().checked_add(src.timeout);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(fail(true, format!("timed out after {:?}", src.timeout)));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => break Err(fail(false, e.to_string())),
            }
        };
        let out = out
            .join()
            .unwrap_or_else(|_| Err(fail(false, "reading the command's output failed")));
        let err = err.join().unwrap_or_default();
        (status.and_then(|st| out.map(|o| (st, o))), err)
    });
    let (status, bytes) = match out {
        Ok(v) => v,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    progress.advance(bytes.len() as u64);
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(fail(
            false,
            format!(
                "{} exited with {status}{}",
                argv[0],
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            ),
        ));
    }
    Ok(Fetched {
        text: decode(bytes, src.encoding)?,
        status: "0".into(),
        ..Fetched::default()
    })
}

fn agent(src: &Source) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(src.timeout))
        .timeout_connect(Some(src.connect_timeout))
        .http_status_as_error(false)
        .user_agent(concat!("qpull/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
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

fn http(
    src: &Source,
    url: &str,
    prior: Option<&Prior>,
    query: &[(&str, String)],
    progress: &Progress,
) -> Result<Fetched, Failure> {
    let mut req = agent(src).get(url);
    for (k, v) in &src.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    for (k, v) in query {
        req = req.query(*k, v);
    }
    if let Some(p) = prior {
        if !p.etag.is_empty() {
            req = req.header("If-None-Match", p.etag.as_str());
        }
        if !p.last_modified.is_empty() {
            req = req.header("If-Modified-Since", p.last_modified.as_str());
        }
    }
    let mut resp = req.call().map_err(http_failure)?;
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
    let reader = resp
        .body_mut()
        .with_config()
        .limit(src.max_bytes.saturating_add(1))
        .reader();
    let bytes = read_limited(reader, src.max_bytes, progress).map_err(|mut f| {
        if f.message.contains("exceeds") || f.message.contains("limit") {
            f.message = format!(
                "more than {} bytes (max_bytes): refusing a runaway source",
                src.max_bytes
            );
            f.temporary = false;
        }
        f
    })?;
    Ok(Fetched {
        text: decode(bytes, src.encoding)?,
        status: status.to_string(),
        content_type,
        etag,
        last_modified,
        ..Fetched::default()
    })
}

/// A JIRA REST search, paged through `startAt`/`maxResults` until every
/// issue is fetched; the pages are combined into one search result.
fn jira(
    src: &Source,
    url: &str,
    jql: &str,
    fields: &[String],
    page_size: u32,
    progress: &Progress,
) -> Result<Fetched, Failure> {
    let mut issues: Vec<Json> = Vec::new();
    let last = loop {
        let mut query = vec![
            ("jql", jql.to_owned()),
            ("startAt", issues.len().to_string()),
            ("maxResults", page_size.to_string()),
        ];
        if !fields.is_empty() {
            query.push(("fields", fields.join(",")));
        }
        let page = http(src, url, None, &query, progress)?;
        let doc: Json = serde_json::from_str(&page.text).map_err(|e| {
            fail(
                false,
                format!("page at startAt={} is not JSON: {e}", issues.len()),
            )
        })?;
        let Some(got) = doc.get("issues").and_then(Json::as_array) else {
            return Err(fail(
                false,
                format!("page at startAt={} has no \"issues\" array", issues.len()),
            ));
        };
        let total = doc.get("total").and_then(Json::as_u64).unwrap_or(0);
        let n = got.len();
        issues.extend(got.iter().cloned());
        if n == 0 || issues.len() as u64 >= total {
            break Fetched {
                text: String::new(),
                ..page
            };
        }
    };
    let total = issues.len();
    let doc =
        serde_json::json!({ "startAt": 0, "maxResults": total, "total": total, "issues": issues });
    Ok(Fetched {
        text: doc.to_string() + "\n",
        ..last
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_is_utf8_without_bom_or_latin1() {
        assert_eq!(
            decode(b"\xef\xbb\xbfa,b\n".to_vec(), Encoding::Utf8).unwrap(),
            "a,b\n"
        );
        let e = decode(b"ok\nJos\xe9\n".to_vec(), Encoding::Utf8).unwrap_err();
        assert_eq!(
            e.message,
            "not UTF-8 at byte 6 (line 2); set encoding = \"latin1\" if the source is Latin-1"
        );
        assert_eq!(
            decode(b"Jos\xe9".to_vec(), Encoding::Latin1).unwrap(),
            "José"
        );
    }

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
            let _ = decode(b, Encoding::Utf8);
        }
    }
}
