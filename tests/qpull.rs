//! qpull end to end against a local HTTP server on 127.0.0.1 (an ephemeral
//! port): fail-closed output, retries, timeouts, limits, encodings,
//! secrets, conditional fetch and JIRA paging.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use predicates::prelude::*;
use sha2::{Digest, Sha256};
use tiny_http::{Header, Response, Server};

use crate::util::{shows_bar, Sandbox};

/// What a handler sees of a request.
#[derive(Clone, Debug)]
struct Seen {
    url: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Reply = Response<Box<dyn Read + Send>>;

/// A local server answering with `handler(request, n)`, n counting from 0.
struct Local {
    base: String,
    hits: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: Arc<Server>,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn serve(handler: impl Fn(&Seen, usize) -> Reply + Send + 'static) -> Local {
    let server = Arc::new(Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
    let port = server.server_addr().to_ip().expect("ip address").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, h, sn) = (server.clone(), hits.clone(), seen.clone());
    std::thread::spawn(move || {
        for req in s.incoming_requests() {
            let got = Seen {
                url: req.url().to_owned(),
                headers: req
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect(),
            };
            let n = h.fetch_add(1, Ordering::SeqCst);
            sn.lock().unwrap().push(got.clone());
            let _ = req.respond(handler(&got, n));
        }
    });
    Local {
        base: format!("http://127.0.0.1:{port}"),
        hits,
        seen,
        server,
    }
}

fn reply(status: u16, body: impl Into<Vec<u8>>, headers: &[(&str, &str)]) -> Reply {
    let body: Vec<u8> = body.into();
    let len = body.len();
    let mut r = Response::new(
        status.into(),
        Vec::new(),
        Box::new(std::io::Cursor::new(body)) as Box<dyn Read + Send>,
        Some(len),
        None,
    );
    for (k, v) in headers {
        r.add_header(Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
    }
    r
}

const CSV: &str = "Name,Track\nAna,Tenor\nBen,Bass\n";

fn csv_reply() -> Reply {
    reply(200, CSV, &[("Content-Type", "text/csv")])
}

fn sha(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs qpull with a config text; returns (exit, stdout, stderr).
fn pull(sb: &Sandbox, config: &str, args: &[&str]) -> (i32, String, String) {
    let cfg = sb.write("sources.toml", config);
    let out = sb
        .cmd("qpull")
        .arg("--config")
        .arg(cfg)
        .args(args)
        .env("JIRA_TOKEN", "sekret-token-42")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fields of `name`'s line in the section `header`.
fn line_of<'a>(stdout: &'a str, header: &str, name: &str) -> Vec<&'a str> {
    let start = stdout
        .find(&format!("====={header}\n"))
        .unwrap_or_else(|| panic!("no section {header}"));
    let section = &stdout[start + header.len() + 6..];
    let section = &section[..section.find("=====").unwrap_or(section.len())];
    section
        .lines()
        .find(|l| l.starts_with(&format!("\t{name}\t")))
        .expect("source line")[1..]
        .split('\t')
        .collect()
}

/// name, spec, bytes, sha256, content type, sheet, encoding.
fn source_line<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    line_of(stdout, "qpull sources v1", name)
}

/// name, fetched_at, status, etag, last_modified.
fn fetch_line<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    line_of(stdout, "qpull fetch v1", name)
}

#[test]
fn files_and_commands_become_raw_sections() {
    let sb = Sandbox::new();
    let file = sb.write("staff.csv", CSV);
    let out = sb
        .cmd("qpull")
        .arg(format!("staff={}", format_args!("file:{}", file.display())))
        .arg("work=cmd:printf 'Key,Name\\nW-1,Login\\n'")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "silent when all is well");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("=====raw staff\n\tName,Track\n\tAna,Tenor\n\tBen,Bass\n=====raw work\n\tKey,Name\n\tW-1,Login\n=====qpull sources v1\n"), "{stdout}");
    assert!(stdout.ends_with("=====end\n"));
    let f = source_line(&stdout, "staff");
    assert_eq!(
        f,
        [
            "staff",
            &format!("file:{}", file.display()),
            &CSV.len().to_string(),
            &sha(CSV),
            "",
            "",
            "UTF-8"
        ]
    );
    let f = fetch_line(&stdout, "staff");
    assert_eq!(f.len(), 5);
    assert!(f[1].ends_with('Z'));
    assert_eq!(f[2], "-");
}

#[test]
fn http_csv_byte_for_byte_with_its_metadata() {
    let srv = serve(|_, _| {
        reply(
            200,
            CSV,
            &[
                ("Content-Type", "text/csv; charset=utf-8"),
                ("ETag", "\"v1\""),
            ],
        )
    });
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.work]\nurl = \"{}/export?format=csv\"\n", srv.base),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("=====raw work\n\tName,Track\n\tAna,Tenor\n\tBen,Bass\n"));
    assert_eq!(source_line(&stdout, "work")[4], "text/csv; charset=utf-8");
    let f = fetch_line(&stdout, "work");
    assert_eq!(f[2], "200");
    assert_eq!(f[3], "\"v1\"");
    assert_eq!(srv.seen.lock().unwrap()[0].url, "/export?format=csv");
}

#[test]
fn one_failing_source_means_nothing_on_stdout() {
    let srv = serve(|s, _| {
        if s.url.starts_with("/good") {
            csv_reply()
        } else {
            reply(404, "no", &[])
        }
    });
    let sb = Sandbox::new();
    let config = format!(
        "[source.good]\nurl = \"{0}/good\"\n[source.bad]\nurl = \"{0}/bad\"\n",
        srv.base
    );
    let (code, stdout, stderr) = pull(&sb, &config, &[]);
    assert_eq!(code, 69);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(&format!("qpull: source bad ({}/bad): HTTP 404", srv.base)),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("qpull: fetch: 1 of 2 sources failed: nothing written\n"),
        "{stderr}"
    );
    // Opting out writes what worked and says what did not.
    let (code, stdout, stderr) = pull(&sb, &config, &["--allow-partial"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("=====raw good\n"));
    assert!(!stdout.contains("raw bad"));
    assert!(stderr.contains("qpull: warning: source bad"), "{stderr}");
    // --only fetches just that one.
    let (code, stdout, _) = pull(&sb, &config, &["--only", "good"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("raw good"));
}

#[test]
fn temporary_failures_are_retried() {
    let srv = serve(|_, n| {
        if n == 0 {
            reply(500, "oops", &[])
        } else {
            csv_reply()
        }
    });
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/\"\nbackoff = 0.01\n", srv.base),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\tAna,Tenor\n"));
    assert_eq!(srv.hits.load(Ordering::SeqCst), 2);
}

#[test]
fn too_many_requests_honours_retry_after_then_gives_up_with_75() {
    let srv = serve(|_, n| {
        if n < 2 {
            reply(429, "slow down", &[("Retry-After", "0")])
        } else {
            csv_reply()
        }
    });
    let sb = Sandbox::new();
    // Retry-After: 0 means at once, whatever the backoff says.
    let (code, _, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/\"\nbackoff = 60\n", srv.base),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(srv.hits.load(Ordering::SeqCst), 3);
    let always = serve(|_, _| reply(503, "down", &[("Retry-After", "0")]));
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/\"\nretries = 2\n", always.base),
        &[],
    );
    assert_eq!(code, 75);
    assert_eq!(stdout, "");
    assert!(stderr.contains("HTTP 503 (after 3 attempts)"), "{stderr}");
    assert_eq!(always.hits.load(Ordering::SeqCst), 3);
}

#[test]
fn a_slow_source_times_out_with_75() {
    let srv = serve(|_, _| {
        // The server is slow on purpose; the client's timeout is what is tested.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        csv_reply()
    });
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &format!(
            "[source.w]\nurl = \"{}/\"\ntimeout = 0.2\nretries = 0\n",
            srv.base
        ),
        &[],
    );
    assert_eq!(code, 75, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn a_truncated_body_is_temporary() {
    // A server that promises 500 bytes, sends 17 and hangs up.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::Write;
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ =
                conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nName,Track\nAna,Te");
        }
    });
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"http://127.0.0.1:{port}/\"\nretries = 0\n"),
        &[],
    );
    assert_eq!(code, 75, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("cut short"), "{stderr}");
}

#[test]
fn a_huge_body_is_refused() {
    let srv = serve(|_, _| reply(200, "x,y\n".repeat(10_000), &[]));
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/\"\nmax_bytes = 1000\n", srv.base),
        &[],
    );
    assert_eq!(code, 69, "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("more than 1000 bytes (max_bytes)"),
        "{stderr}"
    );
}

#[test]
fn text_must_be_utf8_unless_latin1_and_loses_its_bom() {
    let srv = serve(|s, _| match s.url.as_str() {
        "/bom" => reply(200, b"\xef\xbb\xbfName\nAna\n".to_vec(), &[]),
        _ => reply(200, b"Name\nJos\xe9\n".to_vec(), &[]),
    });
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/latin\"\n", srv.base),
        &[],
    );
    assert_eq!(code, 69);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("source w") && stderr.contains("not UTF-8 at byte 8 (line 2)"),
        "{stderr}"
    );
    let (code, stdout, _) = pull(
        &sb,
        &format!(
            "[source.w]\nurl = \"{}/latin\"\nencoding = \"latin1\"\n",
            srv.base
        ),
        &[],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("\tJosé\n"));
    let (code, stdout, _) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/bom\"\n", srv.base),
        &[],
    );
    assert_eq!(code, 0);
    assert!(stdout.starts_with("=====raw w\n\tName\n"));
}

#[test]
fn an_empty_or_short_export_is_an_error_unless_forced() {
    let srv = serve(|s, _| {
        if s.url == "/empty" {
            reply(200, "Name,Track\n", &[])
        } else {
            csv_reply()
        }
    });
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/empty\"\n", srv.base),
        &[],
    );
    assert_eq!(code, 69);
    assert_eq!(stdout, "");
    assert!(stderr.contains("no data rows"), "{stderr}");
    let (code, stdout, _) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/empty\"\n", srv.base),
        &["--force"],
    );
    assert_eq!(code, 0);
    assert!(stdout.starts_with("=====raw w\n\tName,Track\n=====qpull"));
    let (code, _, stderr) = pull(
        &sb,
        &format!(
            "[defaults]\nmin_rows = 3\n[source.w]\nurl = \"{}/\"\n",
            srv.base
        ),
        &[],
    );
    assert_eq!(code, 69);
    assert!(
        stderr.contains("2 data rows, fewer than min_rows = 3"),
        "{stderr}"
    );
}

#[test]
fn the_token_never_appears_in_any_output() {
    let token = "sekret-token-42";
    let srv = serve(|s, n| {
        if n == 0 {
            reply(
                401,
                format!(
                    "bad credentials {}",
                    s.header("authorization").unwrap_or("")
                ),
                &[],
            )
        } else {
            reply(200, format!("Name\n{}\n", "Ana"), &[("ETag", "\"e\"")])
        }
    });
    let sb = Sandbox::new();
    let config = format!(
        "[source.w]\nurl = \"{}/x?token={token}\"\nheaders = {{ Authorization = \"Bearer ${{JIRA_TOKEN}}\" }}\n",
        srv.base
    );
    let (code, stdout, stderr) = pull(&sb, &config, &[]);
    assert_eq!(code, 69);
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "{stderr}"
    );
    assert!(stderr.contains("token=***"), "{stderr}");
    let (code, stdout, stderr) = pull(&sb, &config, &["-v"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(token) && !stderr.contains(token));
    // It was sent, though.
    let seen = srv.seen.lock().unwrap();
    assert_eq!(
        seen[1].header("authorization"),
        Some("Bearer sekret-token-42")
    );
    // A secret file works the same way.
    drop(seen);
    let secret = sb.write("secret.txt", "file-secret-99\n");
    let config = format!(
        "[source.w]\nurl = \"{}/y\"\nheaders = {{ X-Key = \"${{file:{}}}\" }}\n",
        srv.base,
        secret.display()
    );
    let (_, stdout, stderr) = pull(&sb, &config, &[]);
    assert!(!stdout.contains("file-secret-99") && !stderr.contains("file-secret-99"));
    let (code, _, stderr) = pull(
        &sb,
        "[source.w]\nurl = \"http://127.0.0.1:1/\"\nheaders = { A = \"${NOT_SET_ANYWHERE}\" }\n",
        &[],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("environment variable NOT_SET_ANYWHERE is not set"));
}

#[test]
fn since_asks_for_changes_only_and_reuses_content_on_304() {
    let srv = serve(|s, _| {
        if s.header("if-none-match") == Some("\"v1\"") {
            reply(304, "", &[("ETag", "\"v1\"")])
        } else {
            reply(
                200,
                CSV,
                &[
                    ("ETag", "\"v1\""),
                    ("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT"),
                    ("Content-Type", "text/csv"),
                ],
            )
        }
    });
    let sb = Sandbox::new();
    let config = format!("[source.w]\nurl = \"{}/\"\n", srv.base);
    let (code, first, _) = pull(&sb, &config, &[]);
    assert_eq!(code, 0);
    let prev = sb.write("prev.txt", &first);
    let (code, second, stderr) = pull(&sb, &config, &["--since", prev.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let seen = srv.seen.lock().unwrap();
    assert_eq!(
        seen[1].header("if-modified-since"),
        Some("Wed, 21 Oct 2026 07:28:00 GMT")
    );
    assert_eq!(fetch_line(&second, "w")[2], "304");
    let f = source_line(&second, "w");
    assert_eq!(f[3], sha(CSV));
    assert_eq!(f[4], "text/csv");
    // Only the fetch section differs.
    assert_eq!(
        first[..first.find("=====qpull fetch").unwrap()],
        second[..second.find("=====qpull fetch").unwrap()]
    );
}

#[test]
fn jira_search_is_paged_into_one_document() {
    let srv = serve(|s, _| {
        let start: usize = s
            .url
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("startAt="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let issues: Vec<String> = (start..(start + 2).min(5))
            .map(|i| format!("{{\"key\": \"MOB-{i}\", \"fields\": {{\"summary\": \"item {i}\"}}}}"))
            .collect();
        reply(
            200,
            format!(
                "{{\"startAt\": {start}, \"maxResults\": 2, \"total\": 5, \"issues\": [{}]}}",
                issues.join(",")
            ),
            &[("Content-Type", "application/json")],
        )
    });
    let sb = Sandbox::new();
    let config = format!(
        "[source.jira]\ntype = \"jira\"\nurl = \"{}/rest/api/2/search\"\njql = \"project = MOB\"\nfields = [\"summary\"]\npage_size = 2\n",
        srv.base
    );
    let (code, stdout, stderr) = pull(&sb, &config, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(srv.hits.load(Ordering::SeqCst), 3);
    let seen = srv.seen.lock().unwrap();
    assert!(
        seen[0].url.contains("jql=project+%3D+MOB")
            || seen[0].url.contains("jql=project%20%3D%20MOB"),
        "{}",
        seen[0].url
    );
    assert!(seen[2].url.contains("startAt=4"));
    let body = stdout.lines().nth(1).unwrap().trim_start_matches('\t');
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["total"], 5);
    assert_eq!(doc["issues"].as_array().unwrap().len(), 5);
    assert_eq!(doc["issues"][4]["key"], "MOB-4");
}

#[test]
fn a_failing_command_says_why() {
    let sb = Sandbox::new();
    sb.cmd("qpull")
        .arg("w=cmd:sh -c 'echo partial; echo boom >&2; exit 3'")
        .assert()
        .code(69)
        .stdout("")
        .stderr(predicate::str::contains(
            "sh exited with exit status: 3: boom",
        ));
    sb.cmd("qpull").arg("nonsense").assert().code(2);
    sb.cmd("qpull")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no sources"));
}

#[test]
fn extreme_limits_are_taken_without_overflow() {
    let sb = Sandbox::new();
    let file = sb.write("w.csv", CSV);
    let config = format!(
        "[defaults]\nretries = 4294967295\nbackoff = 86400\ntimeout = 86400\nmax_bytes = 18446744073709551615\n\
         [source.w]\nfile = \"{}\"\n[source.c]\ncmd = [\"cat\", \"{}\"]\n",
        file.display(),
        file.display()
    );
    let (code, stdout, stderr) = pull(&sb, &config, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("=====raw c\n\tName,Track\n"));
    for bad in [
        "timeout = -1",
        "timeout = 1e15",
        "backoff = nan",
        "connect_timeout = inf",
    ] {
        let (code, _, stderr) = pull(&sb, &format!("[source.w]\nfile = \"x\"\n{bad}\n"), &[]);
        assert_eq!(code, 2, "{bad}");
        assert!(
            stderr.contains("is not a number of seconds from 0 to 86400"),
            "{stderr}"
        );
    }
}

/// Runs qpull with a config text and extra environment variables.
fn pull_env(
    sb: &Sandbox,
    config: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let cfg = sb.write("sources.toml", config);
    let mut c = sb.cmd("qpull");
    c.arg("--config").arg(cfg).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits for `done` until `limit` has passed; false if it never came.
fn wait_for(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::yield_now();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    done()
}

/// Whether the process `pid` is still running (a zombie has ended).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// Regression: `timeout` killed only the shell, and the `sleep` it had
/// started kept the output pipe open, so qpull waited for it (300 s here)
/// and left it running.
#[test]
fn a_command_timeout_kills_everything_it_started() {
    let sb = Sandbox::new();
    let pidfile = sb.path().join("sleep.pid");
    let script = format!(
        "sleep 300 & echo $! > {}; wait; echo Name; echo Ana",
        pidfile.display()
    );
    let cfg = sb.write(
        "sources.toml",
        format!(
            "[source.w]\ncmd = [{:?}]\nshell = true\ntimeout = 1\nretries = 0\n",
            script
        ),
    );
    // Spawned, not run: the test must not hang with what it tests.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("qpull"))
        .current_dir(sb.path())
        .env_remove("QPULL_CONFIG")
        .arg("--config")
        .arg(cfg)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    let returned = wait_for(std::time::Duration::from_secs(60), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !returned {
        let _ = child.kill();
        let _ = child.wait();
    }
    let sleep: u32 = std::fs::read_to_string(&pidfile)
        .expect("the command started")
        .trim()
        .parse()
        .unwrap();
    let gone = wait_for(std::time::Duration::from_secs(10), || !running(sleep));
    if !gone {
        // Leave nothing behind even when the test fails.
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(sleep.to_string())
            .status();
    }
    assert!(returned, "qpull waited for the command's child");
    assert!(gone, "the command's child outlived qpull");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(75));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("source w") && stderr.contains("timed out after 1s"),
        "{stderr}"
    );
}

/// Regression: stderr was read only up to 64 KiB and then closed, so a
/// command that warned a lot died of SIGPIPE before writing its data.
#[test]
fn a_command_may_warn_a_lot_and_its_warnings_are_shown() {
    let sb = Sandbox::new();
    // 3,000 lines of 60 bytes: 180 KB on stderr, then the data.
    let script = "i=0; while [ $i -lt 3000 ]; do \
                  printf 'note %04d: a warning the exporter prints, 60 bytes long.\\n' $i >&2; \
                  i=$((i+1)); done; printf 'Name,Track\\nAna,Tenor\\n'";
    let config = format!("[source.w]\ncmd = [{script:?}]\nshell = true\n");
    let (code, stdout, stderr) = pull(&sb, &config, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("=====raw w\n\tName,Track\n\tAna,Tenor\n=====qpull sources v1\n"));
    let lines: Vec<&str> = stderr.lines().collect();
    // The first 100 lines, then how many more there were.
    assert_eq!(lines.len(), 101, "{stderr}");
    assert_eq!(
        lines[0],
        "qpull: warning: source w: note 0000: a warning the exporter prints, 60 bytes long."
    );
    assert_eq!(
        lines[99],
        "qpull: warning: source w: note 0099: a warning the exporter prints, 60 bytes long."
    );
    assert_eq!(
        lines[100],
        "qpull: warning: source w: ... and 2900 more lines on stderr"
    );
    // -q keeps them quiet; a failing command's warnings are shown too.
    let (code, _, stderr) = pull(&sb, &config, &["-q"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let (code, _, stderr) = pull(
        &sb,
        "[source.w]\ncmd = [\"echo first >&2; echo sekret-token-42 >&2; exit 4\"]\nshell = true\nheaders = { A = \"${JIRA_TOKEN}\" }\n",
        &[],
    );
    assert_eq!(code, 69);
    assert!(
        stderr.starts_with(
            "qpull: warning: source w: first\nqpull: warning: source w: ***\nqpull: source w (cmd:"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("exited with exit status: 4: ***"),
        "{stderr}"
    );
}

/// Regression: a redirect to another host received X-Api-Key and
/// PRIVATE-TOKEN, the values of ${VAR}s.
#[test]
fn secrets_do_not_follow_a_redirect_to_another_origin() {
    let other = serve(|_, _| csv_reply());
    let target = format!("{}/export.csv", other.base);
    let home = serve(move |s, _| match s.url.as_str() {
        "/moved" => reply(302, "", &[("Location", "/here")]),
        "/away" => reply(302, "", &[("Location", target.as_str())]),
        _ => csv_reply(),
    });
    let sb = Sandbox::new();
    let config = |path: &str| {
        format!(
            "[source.w]\nurl = \"{}{path}\"\nheaders = {{ X-Api-Key = \"${{API_KEY}}\", PRIVATE-TOKEN = \"${{GL_TOKEN}}\", Authorization = \"Basic YWxhZGRpbg==\", Accept = \"text/csv\" }}\n",
            home.base
        )
    };
    let env = [("API_KEY", "api-key-0451"), ("GL_TOKEN", "gl-token-0452")];
    // The same origin: everything is sent again.
    let (code, stdout, stderr) = pull_env(&sb, &config("/moved"), &[], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\tAna,Tenor\n"));
    {
        let seen = home.seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].url, "/here");
        assert_eq!(seen[1].header("x-api-key"), Some("api-key-0451"));
        assert_eq!(seen[1].header("private-token"), Some("gl-token-0452"));
    }
    // Another port: the secrets stay home, the rest goes.
    let (code, stdout, stderr) = pull_env(&sb, &config("/away"), &[], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\tAna,Tenor\n"));
    assert_eq!(
        home.seen.lock().unwrap()[2].header("x-api-key"),
        Some("api-key-0451")
    );
    let seen = other.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, "/export.csv");
    assert_eq!(seen[0].header("x-api-key"), None);
    assert_eq!(seen[0].header("private-token"), None);
    assert_eq!(seen[0].header("authorization"), None);
    assert_eq!(seen[0].header("accept"), Some("text/csv"));
}

/// A JIRA server that pages through `total` issues `per_page` at a time,
/// with `change` applied to each page's document before it is sent.
fn jira_server(
    total: u64,
    change: impl Fn(&mut serde_json::Value, usize) + Send + 'static,
) -> Local {
    serve(move |s, n| {
        let arg = |name: &str| -> u64 {
            s.url
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let (start, max) = (arg("startAt"), arg("maxResults"));
        let issues: Vec<serde_json::Value> = (start..(start + max).min(total))
            .map(|i| serde_json::json!({"key": format!("MOB-{i}"), "fields": {"summary": format!("item {i} {}", "x".repeat(40))}}))
            .collect();
        let mut doc = serde_json::json!({"startAt": start, "maxResults": max, "total": total, "issues": issues});
        change(&mut doc, n);
        reply(
            200,
            doc.to_string(),
            &[("Content-Type", "application/json")],
        )
    })
}

fn jira_config(base: &str, extra: &str) -> String {
    format!(
        "[source.jira]\ntype = \"jira\"\nurl = \"{base}/rest/api/2/search\"\njql = \"project = MOB\"\npage_size = 10\nretries = 0\n{extra}"
    )
}

/// Regression: max_bytes bounded each page, so a server announcing a total
/// of 10^9 drove qpull to 5.8 GB.
#[test]
fn jira_max_bytes_bounds_all_pages_together() {
    // It stops after 200 pages, so that a qpull without a bound ends too
    // (with another message).
    let srv = jira_server(1_000_000_000, |doc, n| {
        if n >= 200 {
            *doc = serde_json::json!({});
        }
    });
    let sb = Sandbox::new();
    // A page of 10 issues is about 800 bytes: 20,000 bytes is 25 pages.
    let (code, stdout, stderr) = pull(&sb, &jira_config(&srv.base, "max_bytes = 20000\n"), &[]);
    assert_eq!(code, 69, "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("more than 20000 bytes (max_bytes)"),
        "{stderr}"
    );
    let hits = srv.hits.load(Ordering::SeqCst);
    assert!((20..=30).contains(&hits), "{hits} pages");
}

/// Regression: timeout bounded each page, not the search.
#[test]
fn jira_timeout_bounds_all_pages_together() {
    // Each page takes 100 ms; 50 pages would take 5 s.
    let srv = serve(|s, _| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let start: u64 = s
            .url
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("startAt="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        reply(
            200,
            format!(
                "{{\"startAt\": {start}, \"total\": 50, \"issues\": [{{\"key\": \"K-{start}\"}}]}}"
            ),
            &[],
        )
    });
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &jira_config(&srv.base, "timeout = 0.5\npage_size = 1\n").replace("page_size = 10\n", ""),
        &[],
    );
    assert_eq!(code, 75, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("timed out after 500ms"), "{stderr}");
    assert!(srv.hits.load(Ordering::SeqCst) < 10);
}

#[test]
fn jira_pages_that_disagree_fail_closed() {
    let sb = Sandbox::new();
    // The total moves on the third page: the search changed while it was
    // read; temporary.
    let srv = jira_server(45, |doc, n| {
        if n == 2 {
            doc["total"] = 46.into();
        }
    });
    let (code, stdout, stderr) = pull(&sb, &jira_config(&srv.base, ""), &[]);
    assert_eq!((code, stdout.as_str()), (75, ""), "{stderr}");
    assert!(
        stderr.contains("the total changed from 45 to 46 at startAt=20"),
        "{stderr}"
    );
    // A server that ignores startAt sends the first page again.
    let srv = serve(|_, _| {
        reply(
            200,
            "{\"total\": 3, \"issues\": [{\"key\": \"A-1\"}, {\"key\": \"A-2\"}]}",
            &[],
        )
    });
    let (code, stdout, stderr) = pull(&sb, &jira_config(&srv.base, ""), &[]);
    assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
    assert!(
        stderr.contains("page at startAt=2: issue A-1 again"),
        "{stderr}"
    );
    // No total: the end cannot be told from a short page.
    let srv = jira_server(25, |doc, _| {
        doc.as_object_mut().unwrap().remove("total");
    });
    let (code, _, stderr) = pull(&sb, &jira_config(&srv.base, ""), &[]);
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains("page at startAt=0: no \"total\""),
        "{stderr}"
    );
    // An answer for another startAt.
    let srv = jira_server(25, |doc, n| {
        if n == 1 {
            doc["startAt"] = 0.into();
        }
    });
    let (code, _, stderr) = pull(&sb, &jira_config(&srv.base, ""), &[]);
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains("page at startAt=10: the server answered startAt=0"),
        "{stderr}"
    );
    // An empty page before the total.
    let srv = jira_server(25, |doc, n| {
        if n == 1 {
            doc["issues"] = serde_json::json!([]);
        }
    });
    let (code, _, stderr) = pull(&sb, &jira_config(&srv.base, ""), &[]);
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains("page at startAt=10: no issues, but only 10 of 25 were read"),
        "{stderr}"
    );
    // And when they agree, 25 issues in 3 pages.
    let srv = jira_server(25, |_, _| {});
    let (code, stdout, stderr) = pull(&sb, &jira_config(&srv.base, ""), &[]);
    assert_eq!(code, 0, "{stderr}");
    let body = stdout.lines().nth(1).unwrap().trim_start_matches('\t');
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["total"], 25);
    assert_eq!(doc["issues"][24]["key"], "MOB-24");
    assert_eq!(srv.hits.load(Ordering::SeqCst), 3);
}

/// Regression: client_secret, X-Amz-Signature, auth_token and access-token
/// were shown, and stored.
#[test]
fn credential_like_parameters_are_hidden() {
    let srv = serve(|s, _| {
        if s.url.starts_with("/ok") {
            csv_reply()
        } else {
            reply(404, "no", &[])
        }
    });
    let sb = Sandbox::new();
    let query = "client_secret=cs-1111&X-Amz-Signature=sig-2222&auth_token=at-3333&access-token=ac-4444&format=csv";
    let values = ["cs-1111", "sig-2222", "at-3333", "ac-4444"];
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/gone?{query}\"\n", srv.base),
        &[],
    );
    assert_eq!(code, 69);
    for v in values {
        assert!(!stderr.contains(v) && !stdout.contains(v), "{stderr}");
    }
    assert!(
        stderr.contains(
            "gone?client_secret=***&X-Amz-Signature=***&auth_token=***&access-token=***&format=csv"
        ),
        "{stderr}"
    );
    let (code, stdout, stderr) = pull(
        &sb,
        &format!("[source.w]\nurl = \"{}/ok?{query}\"\n", srv.base),
        &["-v"],
    );
    assert_eq!(code, 0, "{stderr}");
    for v in values {
        assert!(!stderr.contains(v) && !stdout.contains(v), "{stdout}");
    }
    assert!(source_line(&stdout, "w")[1].ends_with("format=csv"));
    // A variable set but empty is no token.
    let (code, _, stderr) = pull_env(
        &sb,
        "[source.w]\nurl = \"http://127.0.0.1:1/\"\nheaders = { A = \"${EMPTY_TOKEN}\" }\n",
        &[],
        &[("EMPTY_TOKEN", "")],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("sources.toml': environment variable EMPTY_TOKEN is set but empty"),
        "{stderr}"
    );
}

/// Regression: some config mistakes were bad data (65), and some did not
/// say where.
#[test]
fn config_mistakes_are_usage_errors_with_their_line() {
    let sb = Sandbox::new();
    for (config, line, what) in [
        (
            "[source.w]\nfile = \"x\"\nretires = 2\n",
            3,
            "unknown field `retires`",
        ),
        ("[source.w]\nfile = \"x\n", 2, ""),
        (
            "[source.w]\nfile = \"x\"\nretries = \"3\"\n",
            3,
            "invalid type",
        ),
        ("[source.w]\nfile = \"x\"\nretries = -1\n", 3, ""),
        (
            "[defaults]\nmax_bytes = -5\n[source.w]\nfile = \"x\"\n",
            2,
            "",
        ),
        ("[source.w]\nfile = \"x\"\nmin_rows = -1\n", 3, ""),
        (
            "[source.w]\nfile = \"x\"\n\ntimeout = -1\n",
            4,
            "timeout -1 is not a number of seconds",
        ),
        (
            "[defaults]\nbackoff = -2\n[source.w]\nfile = \"x\"\n",
            2,
            "backoff -2",
        ),
        (
            "\n[source.w]\ntype = \"jira\"\nurl = \"http://x\"\njql = \"a\"\npage_size = 0\n",
            2,
            "page_size must be at least 1",
        ),
        ("[source.w]\nurl = \"ftp://x\"\n", 1, "http:// or https://"),
        ("[source.Bad]\nfile = \"x\"\n", 1, "not allowed"),
        ("[source.w]\nfile = \"x\"\nfields = 3\n", 3, "invalid type"),
        ("[sources.w]\nfile = \"x\"\n", 1, "unknown field `sources`"),
    ] {
        let (code, stdout, stderr) = pull(&sb, config, &[]);
        assert_eq!(code, 2, "{config}: {stderr}");
        assert_eq!(stdout, "");
        let path = sb.path().join("sources.toml");
        assert!(
            stderr.starts_with(&format!(
                "qpull: line {line}, section 'config {}': ",
                path.display()
            )),
            "{config}: {stderr}"
        );
        assert!(stderr.contains(what), "{config}: {stderr}");
    }
}

/// Regression: --allow-partial with every source failed wrote an output
/// with no data and exited 0.
#[test]
fn allow_partial_with_every_source_failed_is_a_failure() {
    let srv = serve(|s, _| {
        if s.url.starts_with("/busy") {
            reply(503, "later", &[])
        } else {
            reply(404, "no", &[])
        }
    });
    let sb = Sandbox::new();
    let out = sb.path().join("out.txt");
    let config = format!(
        "[defaults]\nretries = 0\n[source.a]\nurl = \"{0}/a\"\n[source.b]\nurl = \"{0}/busy\"\n",
        srv.base
    );
    let (code, stdout, stderr) = pull(
        &sb,
        &config,
        &["--allow-partial", "-o", out.to_str().unwrap()],
    );
    assert_eq!(code, 69, "{stderr}");
    assert_eq!(stdout, "");
    assert!(!out.exists());
    assert!(
        stderr.ends_with("qpull: fetch: all 2 sources failed: nothing written\n"),
        "{stderr}"
    );
    assert!(stderr.contains("qpull: source a ("), "{stderr}");
    // Every failure temporary: 75, worth retrying.
    let (code, stdout, _) = pull(&sb, &config, &["--allow-partial", "--only", "b"]);
    assert_eq!((code, stdout.as_str()), (75, ""));
}

/// Three pulls of unchanged data into the store make one commit: what
/// changes on every pull (here the fetch time and Last-Modified) is in
/// `qpull fetch v1`, which qsnap put leaves out of its comparison.
#[test]
fn an_unchanged_pull_makes_no_commit() {
    let srv = serve(|_, n| {
        let modified = format!("Wed, 21 Oct 2026 07:28:0{} GMT", n.min(9));
        let body = if n < 3 {
            CSV.to_owned()
        } else {
            format!("{CSV}Cy,Alto\n")
        };
        reply(200, body, &[("Last-Modified", modified.as_str())])
    });
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let config = format!("[source.staff]\nurl = \"{}/staff.csv\"\n", srv.base);
    let mut pulls = Vec::new();
    let commits = |pulls: &mut Vec<String>| {
        let (code, pulled, stderr) = pull(&sb, &config, &[]);
        assert_eq!(code, 0, "{stderr}");
        pulls.push(pulled.clone());
        sb.cmd("qsnap")
            .args(["--store", store.to_str().unwrap(), "put", "qplan", "raw"])
            .write_stdin(pulled)
            .assert()
            .success();
        let log = sb
            .cmd("qsnap")
            .args(["--store", store.to_str().unwrap(), "log", "qplan", "raw"])
            .output()
            .unwrap();
        // One line per commit; the lines under it (indented) say when
        // it was last checked.
        String::from_utf8_lossy(&log.stdout)
            .lines()
            .filter(|l| !l.starts_with(' '))
            .count()
    };
    assert_eq!(commits(&mut pulls), 1);
    assert_eq!(commits(&mut pulls), 1);
    assert_eq!(commits(&mut pulls), 1);
    // The pulls did differ, in their fetch sections only.
    assert_ne!(pulls[0], pulls[1]);
    let data = |p: &str| p[..p.find("=====qpull fetch v1").unwrap()].to_owned();
    assert_eq!(data(&pulls[0]), data(&pulls[2]));
    // The data changed: a new commit.
    assert_eq!(commits(&mut pulls), 2);
}

/// The crontab paragraph of the help says what the job's status is under
/// pipefail when a source fails: qsnap's, since it fails last.
#[test]
fn the_cron_job_status_is_what_the_help_says() {
    let sb = Sandbox::new();
    let qpull = assert_cmd::cargo::cargo_bin("qpull");
    let qsnap = assert_cmd::cargo::cargo_bin("qsnap");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {} w=file:/nonexistent | {} --store {} put qplan raw >/dev/null",
            qpull.display(),
            qsnap.display(),
            sb.path().join("store").display()
        ))
        .current_dir(sb.path())
        .env("HOME", sb.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let help = sb.cmd("qpull").arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).replace('\n', " ");
    assert!(
        help.contains("qsnap's 65 (its input is empty), not qpull's 69 or 75"),
        "{help}"
    );
}

/// The output with the fetch times left out (two runs a second apart
/// differ there and nowhere else).
fn without_fetch_times(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    let mut in_fetch = false;
    text.lines()
        .map(|l| {
            if l.starts_with("=====") {
                in_fetch = l == "=====qpull fetch v1";
            }
            match l.split('\t').collect::<Vec<_>>().as_slice() {
                ["", name, _time, rest @ ..] if in_fetch => format!("{name}\t{}", rest.join("\t")),
                _ => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A pull of several sources on a terminal shows a bar counting them;
/// through a pipe or with -q it shows nothing, and stdout is the same.
#[test]
fn several_sources_show_a_bar_on_a_terminal_only() {
    let sb = Sandbox::new();
    for name in ["a", "b", "c"] {
        sb.write(&format!("{name}.csv"), format!("id,what\n{name}1,x\n"));
    }
    let args = ["a=file:a.csv", "b=file:b.csv", "c=file:c.csv"];
    let tty = sb.on_terminal("qpull", &args, &[]);
    assert_eq!(tty.code, 0, "{}", tty.screen);
    assert!(shows_bar(&tty.screen, "/3 sources"), "{:?}", tty.screen);
    let quiet = sb.on_terminal("qpull", &[&args[..], &["-q"]].concat(), &[]);
    assert_eq!(quiet.code, 0);
    assert_eq!(quiet.screen, "");
    let piped = sb.cmd("qpull").args(args).output().unwrap();
    assert!(piped.status.success());
    assert!(piped.stderr.is_empty(), "{:?}", piped.stderr);
    assert!(String::from_utf8_lossy(&piped.stdout).contains("=====raw c\n\tid,what\n\tc1,x\n"));
    assert_eq!(
        without_fetch_times(&tty.stdout),
        without_fetch_times(&piped.stdout)
    );
    assert_eq!(
        without_fetch_times(&quiet.stdout),
        without_fetch_times(&piped.stdout)
    );
    // One source: no count of sources to show.
    let one = sb.on_terminal("qpull", &["a=file:a.csv"], &[]);
    assert_eq!(one.code, 0);
    assert!(!one.screen.contains("sources"), "{:?}", one.screen);
}
