//! qpull end to end against a local HTTP server on 127.0.0.1 (an ephemeral
//! port): fail-closed output, retries, timeouts, limits, encodings,
//! secrets, conditional fetch and JIRA paging.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use predicates::prelude::*;
use sha2::{Digest, Sha256};
use tiny_http::{Header, Response, Server};

use crate::util::Sandbox;

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

fn source_line<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    let start = stdout
        .find("=====qpull sources v1\n")
        .expect("sources section");
    stdout[start..]
        .lines()
        .find(|l| l.starts_with(&format!("\t{name}\t")))
        .expect("source line")[1..]
        .split('\t')
        .collect()
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
    assert_eq!(f[1], format!("file:{}", file.display()));
    assert!(f[2].ends_with('Z'));
    assert_eq!(f[4], CSV.len().to_string());
    assert_eq!(f[5], sha(CSV));
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
    let f = source_line(&stdout, "work");
    assert_eq!(f[3], "200");
    assert_eq!(f[6], "text/csv; charset=utf-8");
    assert_eq!(f[7], "\"v1\"");
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
    let f = source_line(&second, "w");
    assert_eq!(f[3], "304");
    assert_eq!(f[5], sha(CSV));
    assert_eq!(f[6], "text/csv");
    assert_eq!(
        first[..first.find("=====qpull").unwrap()],
        second[..second.find("=====qpull").unwrap()]
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
