//! The bus end to end (SPEC section 9, issue 11): `qsnap serve` on ipc
//! sockets in the test's temp dir, driven by the client library and by
//! local `qsnap put`s. No fixed ports and no sleeps: every wait is on a
//! condition with a deadline.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qplan::bus::{Client, Heads, Message, PutOutcome, Reply, Subscriber};
use qplan::snap::Resource;

use crate::util::Sandbox;

const WAIT: Duration = Duration::from_secs(20);

fn raw() -> Resource {
    Resource::new("qplan", "raw").unwrap()
}

fn stream(n: usize) -> String {
    format!("=====test data v1\n\tversion\t{n}\n=====end\n")
}

/// A running `qsnap serve` on ipc sockets in the sandbox.
struct Service {
    child: Option<Child>,
    rep: String,
    publish: String,
    epoch: u64,
    stderr: mpsc::Receiver<String>,
}

fn ipc(sb: &Sandbox, name: &str) -> String {
    format!("ipc://{}", sb.path().join(name).display())
}

impl Service {
    /// Starts the service on the sandbox's store with `extra` arguments and
    /// waits (bounded) for the line that says it listens.
    fn start(sb: &Sandbox, extra: &[&str]) -> Service {
        let rep = ipc(sb, "rep.sock");
        let publish = ipc(sb, "pub.sock");
        let mut child = Process::new(assert_cmd::cargo::cargo_bin("qsnap"))
            .current_dir(sb.path())
            .env_remove("QSNAP_REPO")
            .env("HOME", sb.path())
            // A throwaway store: 1,000 puts need no flush to disk.
            .env("QSNAP_FSYNC", "0")
            .arg("--store")
            .arg(sb.path().join("store"))
            .args(["serve", "--rep", &rep, "--pub", &publish])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qsnap serve");
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
        let epoch = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stderr.recv_timeout(left) {
                Ok(line) if line.starts_with("qsnap: serving") => {
                    let e = line.rsplit_once("(epoch ").expect("epoch").1;
                    break e.trim_end_matches(')').parse().expect("epoch number");
                }
                Ok(_) => {}
                Err(_) => {
                    let status = child.wait();
                    panic!("qsnap serve did not start: {status:?}");
                }
            }
        };
        Service {
            child: Some(child),
            rep,
            publish,
            epoch,
            stderr,
        }
    }

    fn client(&self) -> Client {
        Client::connect(&self.rep, None, WAIT).expect("connect")
    }

    fn client_with(&self, token: &str) -> Client {
        Client::connect(&self.rep, Some(token.to_owned()), WAIT).expect("connect")
    }

    /// A subscriber that has received a heartbeat, so its subscription is
    /// in place (nng subscribes asynchronously).
    fn subscriber(&self, topics: &[&str]) -> Subscriber {
        let mut sub = Subscriber::connect(&self.publish, topics).expect("subscribe");
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match sub.recv(left).expect("recv") {
                Some(Message::Heartbeat(_)) => return sub,
                Some(_) => {}
                None => panic!("no heartbeat within {WAIT:?}"),
            }
        }
    }

    /// SIGTERM, and the exit status.
    fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = i32::try_from(child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        child.wait().expect("wait")
    }

    /// What the service said on stderr so far.
    fn said(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The next event (skipping heartbeats), within the deadline.
fn next_event(sub: &mut Subscriber) -> qplan::bus::Event {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match sub.recv(left).expect("recv") {
            Some(Message::Event(e)) => return e,
            Some(_) => {}
            None => panic!("no event within {WAIT:?}"),
        }
    }
}

fn main_of(store: &Path) -> git2::Oid {
    let repo = git2::Repository::open_bare(store).expect("store");
    repo.refname_to_id("refs/heads/main").expect("main")
}

fn commits(store: &Path) -> usize {
    let repo = git2::Repository::open_bare(store).expect("store");
    let mut walk = repo.revwalk().expect("walk");
    walk.push_ref("refs/heads/main").expect("main");
    walk.count()
}

fn local_put(sb: &Sandbox, content: &str) -> git2::Oid {
    let out = sb
        .cmd("qsnap")
        .env("QSNAP_FSYNC", "0")
        .arg("--store")
        .arg(sb.path().join("store"))
        .args(["put", "qplan", "raw"])
        .write_stdin(content)
        .output()
        .expect("qsnap put");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git2::Oid::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("commit")
}

fn class_of(e: qplan::Error) -> u8 {
    match e {
        qplan::Error::Refused { class, .. } => class,
        other => panic!("not a refusal: {other}"),
    }
}

#[test]
fn get_put_heads_round_trip() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[]);
    let c = svc.client();
    let empty = c.heads().unwrap();
    assert_eq!((empty.epoch, empty.seq), (svc.epoch, 0));
    assert!(empty.heads.is_empty());
    assert_eq!(empty.events_url.as_deref(), Some(svc.publish.as_str()));

    let PutOutcome::Committed(a) = c.put(&raw(), "r1", stream(1).as_bytes()).unwrap() else {
        panic!("a new version makes a commit")
    };
    assert_eq!(main_of(&sb.path().join("store")), a);
    let got = c.get(&raw(), None).unwrap();
    assert_eq!(
        String::from_utf8(got).unwrap(),
        format!("=====qsnap provenance v1\n\tqplan raw\t{a}\n{}", stream(1))
    );
    let heads = c.heads().unwrap();
    assert_eq!(heads.seq, 1);
    assert_eq!(heads.heads, vec![(raw(), a)]);

    // The same data again: no commit, the head answered as unchanged.
    assert_eq!(
        c.put(&raw(), "r2", stream(1).as_bytes()).unwrap(),
        PutOutcome::Unchanged(a)
    );
    let PutOutcome::Committed(b) = c.put(&raw(), "r3", stream(2).as_bytes()).unwrap() else {
        panic!()
    };
    // GET at a revision.
    let old = c.get(&raw(), Some(&a.to_string())).unwrap();
    assert!(String::from_utf8(old).unwrap().ends_with(&stream(1)));
    assert_eq!(c.heads().unwrap().heads, vec![(raw(), b)]);
    // A store error keeps its class: an unknown resource is bad data.
    let e = c
        .get(&Resource::new("qplan", "nope").unwrap(), None)
        .unwrap_err();
    assert_eq!(class_of(e), 65);
    // A stream cut short is refused (65) and stores nothing.
    let e = c
        .put(&raw(), "r4", b"=====test data v1\n\tx\n")
        .unwrap_err();
    assert_eq!(class_of(e), 65);
    assert_eq!(commits(&sb.path().join("store")), 2);
}

#[test]
fn every_put_is_announced_local_or_bus() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[]);
    let mut sub = svc.subscriber(&["qplan raw"]);
    // A local put, beside the service: announced.
    let a = local_put(&sb, &stream(1));
    let e = next_event(&mut sub);
    assert_eq!((e.epoch, e.seq, &e.resource), (svc.epoch, 1, &raw()));
    assert_eq!((e.commit, e.parent), (a, None));
    // A put on the bus: announced the same way, parent the previous head.
    let c = svc.client();
    let PutOutcome::Committed(b) = c.put(&raw(), "x", stream(2).as_bytes()).unwrap() else {
        panic!()
    };
    let e = next_event(&mut sub);
    assert_eq!((e.seq, e.commit, e.parent), (2, b, Some(a)));
    // Another resource is not on this subscription; the next raw one is.
    c.put(
        &Resource::new("qplan", "results").unwrap(),
        "y",
        stream(3).as_bytes(),
    )
    .unwrap();
    let d = local_put(&sb, &stream(4));
    let e = next_event(&mut sub);
    assert_eq!((e.seq, e.commit, e.parent), (4, d, Some(b)));
    // A failure report comes back on `<app> errors`.
    let mut errors = svc.subscriber(&["qplan errors"]);
    c.publish_error("qplan", "handler exited 3\nlast line")
        .unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        match errors
            .recv(deadline.saturating_duration_since(Instant::now()))
            .unwrap()
        {
            Some(Message::Error { app, text }) => {
                assert_eq!(
                    (app.as_str(), text.as_str()),
                    ("qplan", "handler exited 3\nlast line")
                );
                break;
            }
            Some(Message::Event(e)) => panic!("not subscribed to {}", e.resource),
            Some(Message::Heartbeat(_)) => {}
            None => panic!("no failure report"),
        }
    }
}

/// 1,000 puts as fast as the bus takes them: a subscriber that resyncs on
/// every gap (NNG's PUB drops under load) accounts for every sequence
/// number, and the final HEADS is the store's head.
#[test]
fn a_thousand_puts_are_all_accounted_for() {
    const N: u64 = 1000;
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[]);
    let mut sub = svc.subscriber(&["qplan raw"]);
    let rep = svc.rep.clone();
    let putter = std::thread::spawn(move || {
        let c = Client::connect(&rep, None, WAIT).unwrap();
        for i in 0..N {
            c.put(&raw(), &format!("p{i}"), stream(i as usize).as_bytes())
                .unwrap();
        }
    });
    let c = svc.client();
    let mut seen: BTreeSet<u64> = BTreeSet::new();
    let mut last = 0u64;
    let mut resyncs = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    let resync = |last: &mut u64, seen: &mut BTreeSet<u64>| {
        let h: Heads = c.heads().unwrap();
        assert_eq!(h.epoch, svc.epoch);
        seen.extend(*last + 1..=h.seq);
        *last = (*last).max(h.seq);
    };
    while last < N {
        assert!(Instant::now() < deadline, "stuck at {last}");
        match sub.recv(Duration::from_secs(2)).unwrap() {
            Some(Message::Event(e)) => {
                assert_eq!(e.epoch, svc.epoch);
                if e.seq > last + 1 {
                    resyncs += 1;
                    resync(&mut last, &mut seen);
                }
                seen.insert(e.seq);
                last = last.max(e.seq);
            }
            Some(Message::Heartbeat(h)) if h.seq > last => {
                resyncs += 1;
                resync(&mut last, &mut seen);
            }
            Some(_) => {}
            // A quiet bus with events missing at the end: the heartbeat
            // will say so; resync now.
            None => resync(&mut last, &mut seen),
        }
    }
    putter.join().unwrap();
    assert_eq!(seen, (1..=N).collect::<BTreeSet<_>>());
    let h = c.heads().unwrap();
    assert_eq!(h.seq, N, "one event per commit");
    assert_eq!(h.heads, vec![(raw(), main_of(&sb.path().join("store")))]);
    eprintln!("{resyncs} resyncs");
}

/// A PUT resent with its request id (its reply was lost) stores once: the
/// second send answers the first commit and makes none, even though the
/// data now differs from the head.
#[test]
fn a_resent_put_stores_once() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[]);
    let c = svc.client();
    let first = c.put(&raw(), "same-id", stream(1).as_bytes()).unwrap();
    let second = c.put(&raw(), "other-id", stream(2).as_bytes()).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        c.put(&raw(), "same-id", stream(1).as_bytes()).unwrap(),
        first
    );
    assert_eq!(commits(&sb.path().join("store")), 2);
    let PutOutcome::Committed(head) = second else {
        panic!()
    };
    assert_eq!(main_of(&sb.path().join("store")), head);
    // The same id for another resource is a client's mistake.
    let e = c
        .put(
            &Resource::new("qplan", "results").unwrap(),
            "same-id",
            stream(1).as_bytes(),
        )
        .unwrap_err();
    assert_eq!(class_of(e), 65);
}

#[test]
fn a_restart_gives_a_new_epoch_and_clients_reconnect() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[]);
    let c = svc.client();
    c.put(&raw(), "a", stream(1).as_bytes()).unwrap();
    let before = c.heads().unwrap();
    let (rep, publish) = (svc.rep.clone(), svc.publish.clone());
    // ipc socket files are the owner's alone.
    for url in [&rep, &publish] {
        let path = PathBuf::from(url.trim_start_matches("ipc://"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    let status = svc.stop();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop");
    let svc = Service::start(&sb, &[]);
    assert_ne!(svc.epoch, before.epoch);
    // The same client: nng redials the new service.
    let after = c.heads().unwrap();
    assert_eq!(after.epoch, svc.epoch);
    assert_eq!((after.seq, &after.heads), (0, &before.heads));
}

#[test]
fn bad_requests_get_an_error_and_the_service_goes_on() {
    let sb = Sandbox::new();
    sb.write("token", "s3cret\n");
    let svc = Service::start(&sb, &["--token-file", "token", "--max-request", "1000"]);
    let good = svc.client_with("s3cret");
    let ok = |c: &Client| assert_eq!(c.heads().unwrap().epoch, svc.epoch);
    ok(&good);
    // No token, a wrong one: refused as usage errors (2).
    assert_eq!(class_of(svc.client().heads().unwrap_err()), 2);
    ok(&good);
    assert_eq!(class_of(svc.client_with("s3cre").heads().unwrap_err()), 2);
    ok(&good);
    assert_eq!(
        class_of(
            svc.client_with("s3cret!")
                .put(&raw(), "i", stream(1).as_bytes())
                .unwrap_err()
        ),
        2
    );
    ok(&good);
    // Garbage: bad data (65).
    for garbage in [
        &b"\x00\xff\xfe not a stream"[..],
        b"",
        b"=====",
        b"\t=====HEADS\n",
    ] {
        match good.request_raw(garbage).unwrap() {
            Reply::Error { class, .. } => assert_eq!(class, 65, "{garbage:?}"),
            other => panic!("{other:?}"),
        }
        ok(&good);
    }
    // Over --max-request (1000 bytes): refused (65), nothing stored.
    let big = format!("=====test data v1\n{}=====end\n", "\tline\n".repeat(400));
    assert_eq!(
        class_of(good.put(&raw(), "big", big.as_bytes()).unwrap_err()),
        65
    );
    ok(&good);
    // Unknown verbs, and WHATIF (qwhatif serve's): usage errors (2).
    for verb in ["=====FROB qplan raw\n", "=====WHATIF qplan\n\tx\n"] {
        let bytes = format!("=====qsnap auth v1\n\ts3cret\n{verb}=====end\n");
        match good.request_raw(bytes.as_bytes()).unwrap() {
            Reply::Error { class, message } => {
                assert_eq!(class, 2, "{verb}");
                assert!(message.contains("unknown request"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        ok(&good);
    }
    // None of it stored anything; a good put does.
    assert!(!sb.path().join("store/refs/heads/main").exists());
    good.put(&raw(), "fine", stream(1).as_bytes()).unwrap();
    assert_eq!(commits(&sb.path().join("store")), 1);
    let _ = svc.said();
}

#[test]
fn addresses_off_this_machine_need_public_and_a_token() {
    let sb = Sandbox::new();
    sb.write("token", "s3cret\n");
    let serve = |args: &[&str]| {
        sb.cmd("qsnap")
            .arg("--store")
            .arg(sb.path().join("store"))
            .arg("serve")
            .args(args)
            .timeout(WAIT)
            .assert()
            .code(2)
    };
    serve(&["--rep", "tcp://0.0.0.0:0", "--pub", &ipc(&sb, "p")])
        .stderr(predicates::str::contains("needs --public"));
    serve(&["--rep", &ipc(&sb, "r"), "--pub", "tcp://0.0.0.0:0"])
        .stderr(predicates::str::contains("needs --public"));
    serve(&[
        "--rep",
        "tcp://0.0.0.0:0",
        "--pub",
        &ipc(&sb, "p"),
        "--public",
    ])
    .stderr(predicates::str::contains("--token-file"));
    // Nothing was bound or created.
    assert!(!sb.path().join("r").exists() && !sb.path().join("p").exists());
    assert!(!sb.path().join("store").exists());
}

#[test]
fn an_unreachable_service_is_unavailable() {
    let sb = Sandbox::new();
    let e = Client::connect(&ipc(&sb, "nobody.sock"), None, Duration::from_secs(1))
        .err()
        .expect("nobody listens");
    assert_eq!(e.exit_code(), 69, "{e}");
    let e = Client::connect("nonsense", None, Duration::from_secs(1))
        .err()
        .expect("not an address");
    assert_eq!(e.exit_code(), 2, "{e}");
}

/// A commit made with git itself (no qsnap trailer) moving main is
/// announced for the resource it changed, and the heartbeat then carries
/// the new head at the new sequence number.
#[test]
fn a_commit_made_with_git_is_announced_and_heartbeats_carry_the_heads() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[]);
    let c = svc.client();
    let PutOutcome::Committed(a) = c.put(&raw(), "a", stream(1).as_bytes()).unwrap() else {
        panic!()
    };
    let mut sub = svc.subscriber(&["qplan raw"]);
    let repo = git2::Repository::open_bare(sb.path().join("store")).unwrap();
    let head = repo.find_commit(a).unwrap();
    let blob = repo.blob(stream(2).as_bytes()).unwrap();
    let mut tb = git2::build::TreeUpdateBuilder::new();
    tb.upsert("raw/qplan.txt", blob, git2::FileMode::Blob);
    let tree = tb.create_updated(&repo, &head.tree().unwrap()).unwrap();
    let tree = repo.find_tree(tree).unwrap();
    let sig = git2::Signature::now("someone", "someone@localhost").unwrap();
    let b = repo
        .commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "edited by hand",
            &tree,
            &[&head],
        )
        .unwrap();
    let e = next_event(&mut sub);
    assert_eq!((e.seq, e.commit, e.parent), (2, b, Some(a)));
    // The next message is a heartbeat (nothing else is published).
    match sub.recv(WAIT).unwrap() {
        Some(Message::Heartbeat(h)) => {
            assert_eq!((h.epoch, h.seq), (svc.epoch, 2));
            assert_eq!(h.heads, vec![(raw(), b)]);
            assert_eq!(h.events_url, None);
        }
        other => panic!("{other:?}"),
    }
}

/// A bus PUT takes the store's lock like a local put: while someone else
/// holds it past `--wait`, the PUT is refused as temporary (75) and stores
/// nothing; once it is free, the same request goes through.
#[test]
fn a_bus_put_waits_for_the_store_lock() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &["--wait", "0"]);
    let c = svc.client();
    c.put(&raw(), "first", stream(1).as_bytes()).unwrap();
    let store = sb.path().join("store");
    let held = qplan::snap::lock::lock(&store, Duration::from_secs(5)).unwrap();
    let e = c.put(&raw(), "second", stream(2).as_bytes()).unwrap_err();
    assert_eq!(class_of(e), 75);
    assert_eq!(commits(&store), 1);
    drop(held);
    assert!(matches!(
        c.put(&raw(), "second", stream(2).as_bytes()).unwrap(),
        PutOutcome::Committed(_)
    ));
    assert_eq!(commits(&store), 2);
}

/// The voluntary context switches of the service's thread named `name`
/// (from `/proc`): how often it went to sleep and was woken.
fn wakeups_of_thread(pid: u32, name: &str) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the service's threads");
    for task in tasks.map_while(Result::ok) {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let status = std::fs::read_to_string(task.path().join("status")).expect("status");
            return status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .expect("voluntary_ctxt_switches")
                .trim()
                .parse()
                .expect("a count");
        }
    }
    panic!("no thread named {name} in {pid}");
}

/// Issue 22: the announcer sleeps in the kernel until the refs change
/// (inotify), not in a 2 ms loop of `stat`s: idle, it wakes for the
/// heartbeat (one a second) and nothing else (the polling one woke ~500
/// times a second), and a local put still wakes it at once.
#[test]
fn an_idle_service_does_not_poll_the_refs() {
    let sb = Sandbox::new();
    local_put(&sb, &stream(1));
    let svc = Service::start(&sb, &[]);
    let mut sub = svc.subscriber(&["qplan raw"]);
    let pid = svc.child.as_ref().expect("running").id();
    let before = wakeups_of_thread(pid, "qsnap-announcer");
    // The one wait here that is not for a condition: it is the absence of
    // wake-ups over a window that is tested (two heartbeats' worth).
    std::thread::sleep(Duration::from_secs(2));
    let idle = wakeups_of_thread(pid, "qsnap-announcer") - before;
    assert!(idle <= 12, "the idle announcer woke {idle} times in 2 s");
    let a = local_put(&sb, &stream(2));
    let e = next_event(&mut sub);
    assert_eq!(e.commit, a);
}
