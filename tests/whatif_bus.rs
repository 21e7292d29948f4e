//! `qwhatif serve --bus` (issue 12, SPEC section 9): WHATIF requests over
//! an ipc socket in the test's temp dir, answered from the store. Each
//! answer is checked against the command line on the same data (`qsnap
//! get qplan conditioned | qwhatif --format stream SCRIPT`), a second path
//! to the same result. No fixed ports, no sleeps.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qplan::bus::{Client, Reply};

use crate::util::{fixture, Sandbox};

const WAIT: Duration = Duration::from_secs(30);

/// A tool run on the sandbox's store, `store/`.
fn tool(sb: &Sandbox, name: &str) -> assert_cmd::Command {
    let mut c = sb.cmd(name);
    c.env("QSNAP_REPO", sb.path().join("store"));
    c
}

/// A store holding the fixture quarter's conditioned data.
fn store() -> Sandbox {
    let sb = Sandbox::new();
    let put = tool(&sb, "qsnap")
        .args(["put", "qplan", "conditioned"])
        .arg(fixture("quarter/conditioned.txt"))
        .output()
        .unwrap();
    assert!(put.status.success(), "{put:?}");
    sb
}

/// A running `qwhatif serve --bus` on an ipc socket in the sandbox.
struct Service {
    child: Child,
    url: String,
    _stderr: mpsc::Receiver<String>,
}

impl Service {
    fn start(sb: &Sandbox, extra: &[&str]) -> Service {
        let url = format!("ipc://{}", sb.path().join("whatif.sock").display());
        let mut child = Process::new(assert_cmd::cargo::cargo_bin("qwhatif"))
            .env_remove("QSNAP_REPO")
            .env("HOME", sb.path())
            .arg("serve")
            .arg("--store")
            .arg(sb.path().join("store"))
            .args(["--bus", &url])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qwhatif serve");
        let (tx, stderr) = mpsc::channel();
        let pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stderr.recv_timeout(left) {
                Ok(line) if line.starts_with("qwhatif: answering WHATIF") => break,
                Ok(_) => {}
                Err(_) => panic!("qwhatif serve --bus did not start: {:?}", child.wait()),
            }
        }
        Service {
            child,
            url,
            _stderr: stderr,
        }
    }

    fn client(&self) -> Client {
        Client::connect(&self.url, None, WAIT).expect("connect")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the command line answers for `script` on the store's conditioned
/// data at `rev` (main when `None`).
fn by_command_line(sb: &Sandbox, rev: Option<&str>, script: &str) -> Vec<u8> {
    let mut get = tool(sb, "qsnap");
    get.args(["get", "qplan", "conditioned"]);
    if let Some(r) = rev {
        get.args(["--at", r]);
    }
    let input = get.output().unwrap();
    assert!(input.status.success(), "{input:?}");
    let path = sb.write("input.txt", input.stdout);
    let out = sb
        .cmd("qwhatif")
        .args(["--format", "stream", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    out.stdout
}

fn refused(e: qplan::Error) -> (u8, String) {
    match e {
        qplan::Error::Refused { class, message, .. } => (class, message),
        other => panic!("expected a refusal, got {other}"),
    }
}

#[test]
fn a_whatif_over_the_bus_is_the_command_lines_answer() {
    let sb = store();
    let service = Service::start(&sb, &[]);
    let client = service.client();
    let script = "end 2014-01-31\nadd staff \"New hire\" track=Tenor skill=Apps count=2";
    let answer = client.whatif("qplan", None, script).expect("whatif");
    assert_eq!(
        String::from_utf8(answer).unwrap(),
        String::from_utf8(by_command_line(&sb, None, script)).unwrap()
    );
    // Nothing was written: the store still has its one commit.
    let log = tool(&sb, "qsnap").arg("log").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 1);
}

#[test]
fn the_base_revision_is_the_one_asked_for() {
    let sb = store();
    let first = String::from_utf8(
        tool(&sb, "qsnap")
            .args(["log", "-n", "1", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let first = first[0]["commit"].as_str().unwrap().to_owned();
    // A second version: the quarter ends a month later.
    let text = std::fs::read_to_string(fixture("quarter/conditioned.txt")).unwrap();
    let later = text.replacen("2013-12-20", "2014-01-20", 1);
    assert_ne!(later, text);
    let put = tool(&sb, "qsnap")
        .args(["put", "qplan", "conditioned"])
        .arg(sb.write("later.txt", later))
        .output()
        .unwrap();
    assert!(put.status.success(), "{put:?}");

    let service = Service::start(&sb, &[]);
    let client = service.client();
    let script = "drop MOB-101";
    let old = client.whatif("qplan", Some(&first), script).unwrap();
    let new = client.whatif("qplan", None, script).unwrap();
    assert_ne!(old, new);
    assert_eq!(old, by_command_line(&sb, Some(&first), script));
    assert_eq!(new, by_command_line(&sb, None, script));
}

#[test]
fn bad_requests_are_refused_and_the_service_goes_on() {
    let sb = store();
    let service = Service::start(&sb, &[]);
    let client = service.client();
    // An unknown item: 65, located, with the closest name.
    let (class, message) = refused(
        client
            .whatif("qplan", None, "end 2014-01-31\ndrop MOB-1O1")
            .unwrap_err(),
    );
    assert_eq!(class, 65, "{message}");
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("MOB-101"), "{message}");
    // A base that does not exist.
    let (class, message) = refused(
        client
            .whatif("qplan", Some("nosuchrev"), "drop MOB-101")
            .unwrap_err(),
    );
    assert_eq!(class, 65, "{message}");
    // Another app, another verb, garbage, an oversized request.
    let (class, _) = refused(client.whatif("other", None, "drop MOB-101").unwrap_err());
    assert_eq!(class, 65);
    let (class, message) = refused(client.heads().unwrap_err());
    assert_eq!(class, 2, "{message}");
    assert!(message.contains("WHATIF"), "{message}");
    for bytes in [
        b"garbage\n".to_vec(),
        Vec::new(),
        vec![b'x'; (1 << 20) + 10],
    ] {
        match client.request_raw(&bytes).unwrap() {
            Reply::Error { class, .. } => assert!(class == 65 || class == 2, "{class}"),
            Reply::Ok(_) => panic!("accepted {} bytes of garbage", bytes.len()),
        }
    }
    // Still answering.
    let answer = client.whatif("qplan", None, "drop MOB-101").unwrap();
    assert!(String::from_utf8(answer)
        .unwrap()
        .contains("=====qwhatif diff v1"));
}

#[test]
fn a_token_is_needed_when_the_service_has_one() {
    let sb = store();
    let token = sb.write("token", "s3cret\n");
    let service = Service::start(&sb, &["--token-file", token.to_str().unwrap()]);
    let (class, _) = refused(
        service
            .client()
            .whatif("qplan", None, "drop MOB-101")
            .unwrap_err(),
    );
    assert_eq!(class, 2);
    let with = Client::connect(&service.url, Some("wrong".into()), WAIT).unwrap();
    let (class, _) = refused(with.whatif("qplan", None, "drop MOB-101").unwrap_err());
    assert_eq!(class, 2);
    let with = Client::connect(&service.url, Some("s3cret".into()), WAIT).unwrap();
    assert!(with.whatif("qplan", None, "drop MOB-101").is_ok());
}

#[test]
fn concurrent_requests_are_answered_independently() {
    let sb = store();
    let service = Service::start(&sb, &[]);
    let scripts: Vec<String> = (0..8)
        .map(|n| {
            if n % 4 == 3 {
                // A broken one among them gets its own error only.
                "drop NOPE".to_owned()
            } else {
                format!("rank MOB-1{:02} 1", 10 + n)
            }
        })
        .collect();
    let answers: Vec<Result<Vec<u8>, qplan::Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = scripts
            .iter()
            .map(|script| {
                let url = service.url.clone();
                s.spawn(move || {
                    Client::connect(&url, None, WAIT)
                        .unwrap()
                        .whatif("qplan", None, script)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (script, answer) in scripts.iter().zip(answers) {
        if script.contains("NOPE") {
            assert_eq!(refused(answer.unwrap_err()).0, 65);
        } else {
            assert_eq!(
                answer.unwrap(),
                by_command_line(&sb, None, script),
                "{script}"
            );
        }
    }
}

#[test]
fn addresses_off_this_machine_and_mixed_flags_are_usage_errors() {
    let sb = store();
    for args in [
        &["serve", "--bus", "tcp://0.0.0.0:0"][..],
        &["serve", "--bus", "tcp://0.0.0.0:0", "--public"],
        &[
            "serve",
            "--bus",
            "ipc:///nonexistent/x.sock",
            "--http",
            "127.0.0.1:0",
        ],
        &["serve", "--token-file", "t", "--http", "127.0.0.1:0"],
    ] {
        // A flag mix that is wrongly accepted would serve forever.
        let out = tool(&sb, "qwhatif")
            .args(args)
            .timeout(WAIT)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty());
    }
}
