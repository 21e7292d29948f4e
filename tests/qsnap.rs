//! qsnap end to end: every command, every error path, concurrent writers,
//! puts killed with SIGKILL, provenance through a pipeline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::util::{fixture, fixture_text, Sandbox};

/// qsnap on the sandbox's store `store/`.
fn qsnap(sb: &Sandbox) -> Command {
    let mut c = sb.cmd("qsnap");
    c.arg("--store").arg(sb.path().join("store"));
    c
}

fn stdout_of(c: &mut Command) -> String {
    let out = c.output().expect("run qsnap");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Puts `content` from stdin (a pipe) and returns the commit printed.
fn put(sb: &Sandbox, app: &str, stage: &str, content: &str) -> String {
    let id = stdout_of(qsnap(sb).args(["put", app, stage]).write_stdin(content));
    assert!(is_commit_line(&id), "{id:?}");
    id.trim_end().to_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_commit_line(s: &str) -> bool {
    s.len() == 41 && s.ends_with('\n') && s[..40].bytes().all(|b| b.is_ascii_hexdigit())
}

fn stream(n: usize) -> String {
    format!("=====test data v1\n\tversion\t{n}\n=====end\n")
}

fn commits(store: &Path) -> usize {
    let repo = git2::Repository::open_bare(store).expect("store");
    let mut walk = repo.revwalk().expect("walk");
    walk.push_ref("refs/heads/main").expect("main");
    walk.count()
}

/// `git fsck` on the store, when the git command is installed.
fn fsck(store: &Path) {
    let Ok(out) = Process::new("git")
        .arg("--git-dir")
        .arg(store)
        .args(["fsck", "--full", "--strict"])
        .output()
    else {
        return;
    };
    assert!(
        out.status.success(),
        "git fsck: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_creates_a_bare_git_repository_once() {
    let sb = Sandbox::new();
    qsnap(&sb)
        .arg("init")
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("qsnap: store created at "));
    assert!(sb.path().join("store/HEAD").exists());
    qsnap(&sb).arg("init").assert().success().stderr("");
    let full = sb.path().join("notempty");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    sb.cmd("qsnap")
        .arg("--store")
        .arg(&full)
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not empty"));
    assert_eq!(
        std::fs::read_to_string(full.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn store_location_comes_from_the_environment() {
    let sb = Sandbox::new();
    sb.cmd("qsnap")
        .env("QSNAP_REPO", sb.path().join("env-store"))
        .args(["put", "qplan", "raw"])
        .write_stdin(stream(1))
        .assert()
        .success();
    assert!(sb.path().join("env-store/HEAD").exists());
    sb.cmd("qsnap")
        .env("XDG_DATA_HOME", sb.path().join("xdg"))
        .args(["put", "qplan", "raw"])
        .write_stdin(stream(1))
        .assert()
        .success();
    assert!(sb.path().join("xdg/qsnap/HEAD").exists());
    // HOME is the sandbox.
    sb.cmd("qsnap")
        .args(["put", "qplan", "raw"])
        .write_stdin(stream(1))
        .assert()
        .success();
    assert!(sb.path().join(".local/share/qsnap/HEAD").exists());
}

#[test]
fn put_then_get_gives_the_stream_with_its_provenance() {
    let sb = Sandbox::new();
    let text = fixture_text("quarter/conditioned.txt");
    let id = put(&sb, "qplan", "conditioned", &text);
    let got = stdout_of(qsnap(&sb).args(["get", "qplan", "conditioned"]));
    assert_eq!(
        got,
        format!("=====qsnap provenance v1\n\tqplan conditioned\t{id}\n{text}")
    );
    let raw = stdout_of(qsnap(&sb).args(["get", "qplan", "conditioned", "--raw"]));
    assert_eq!(raw, text);
    // A plain git repository: the path and the message make sense to git.
    if let Ok(out) = Process::new("git")
        .arg("--git-dir")
        .arg(sb.path().join("store"))
        .args(["show", "main:conditioned/qplan.txt"])
        .output()
    {
        assert_eq!(String::from_utf8_lossy(&out.stdout), text);
    }
    let repo = git2::Repository::open_bare(sb.path().join("store")).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    // The data's SHA-256 is that of the file: it has no fetch section.
    assert_eq!(
        head.message().unwrap(),
        format!(
            "put qplan conditioned\n\nQsnap-Resource: qplan conditioned\n\
             Qsnap-Data-Sha256: {}\n",
            sha256_hex(text.as_bytes())
        )
    );
}

#[test]
fn identical_content_makes_no_commit() {
    let sb = Sandbox::new();
    let first = put(&sb, "qplan", "raw", &stream(1));
    put(&sb, "qplan", "other", &stream(9));
    qsnap(&sb)
        .args(["put", "qplan", "raw"])
        .write_stdin(stream(1))
        .assert()
        .success()
        .stdout(format!("{first}\n"))
        .stderr("");
    // -v says so: without it an unchanged put from cron would mail every run.
    qsnap(&sb)
        .args(["put", "-v", "qplan", "raw"])
        .write_stdin(stream(1))
        .assert()
        .success()
        .stdout(format!("{first}\n"))
        .stderr(predicates::str::contains("qsnap: qplan raw unchanged\n"));
    assert_eq!(commits(&sb.path().join("store")), 2);
    // Different content is a new commit.
    let second = put(&sb, "qplan", "raw", &stream(2));
    assert_ne!(first, second);
    assert_eq!(commits(&sb.path().join("store")), 3);
}

#[test]
fn a_cut_stream_from_a_pipe_stores_nothing() {
    let sb = Sandbox::new();
    qsnap(&sb)
        .args(["put", "qplan", "raw"])
        .write_stdin("=====test data v1\n\tversion\t1\n")
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("does not end with '=====end'"));
    let store = sb.path().join("store");
    let repo = git2::Repository::open_bare(&store).unwrap();
    assert!(repo.find_reference("refs/heads/main").is_err());
    // Not a stream at all.
    qsnap(&sb)
        .args(["put", "qplan", "raw"])
        .write_stdin("name,estimate\nx,1\n=====end\n")
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::starts_with("qsnap: line 1: "));
    // Bad provenance line.
    qsnap(&sb)
        .args(["put", "qplan", "raw"])
        .write_stdin("=====qsnap provenance v1\n\tnonsense\n=====a\n\tx\n=====end\n")
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "line 2: a qsnap provenance v1 line",
        ));
    // Nothing at all (the producer failed before writing anything).
    qsnap(&sb)
        .args(["put", "qplan", "raw"])
        .write_stdin("")
        .assert()
        .code(65)
        .stderr("qsnap: the input is empty: nothing stored\n");
    // Nothing but an end marker.
    qsnap(&sb)
        .args(["put", "qplan", "raw"])
        .write_stdin("=====end\n")
        .assert()
        .code(65)
        .stderr(predicate::str::contains("no section"));
    assert!(repo.find_reference("refs/heads/main").is_err());
}

#[test]
fn a_named_file_is_complete_by_definition() {
    let sb = Sandbox::new();
    let file = sb.write("cut.txt", "=====test data v1\n\tversion\t1\n");
    let id = stdout_of(qsnap(&sb).args(["put", "qplan", "raw"]).arg(&file));
    assert!(is_commit_line(&id));
    let raw = stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"]));
    assert_eq!(raw, "=====test data v1\n\tversion\t1\n=====end\n");
    // So is a file redirected to stdin (`< cut.txt`): it is not a pipe.
    let other = sb.write("other.txt", "=====test data v1\n\tversion\t2\n");
    let out = Process::new(bin("qsnap"))
        .arg("--store")
        .arg(sb.path().join("store"))
        .args(["put", "qplan", "raw"])
        .stdin(std::fs::File::open(&other).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(is_commit_line(&String::from_utf8_lossy(&out.stdout)));
}

#[test]
fn bad_names_are_refused_before_the_store_is_touched() {
    let sb = Sandbox::new();
    for (app, stage) in [
        ("..", "raw"),
        ("qplan", "a/b"),
        ("qplan", "two words"),
        ("", "raw"),
        ("Qplan", "raw"),
        ("qplan", "-raw"),
    ] {
        qsnap(&sb)
            .args(["put", "--", app, stage])
            .write_stdin(stream(1))
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("name"));
    }
    let long = "x".repeat(65);
    for sub in ["put", "get", "log", "trace"] {
        qsnap(&sb)
            .args([sub, "qplan", &long])
            .write_stdin(stream(1))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("longer than 64"));
    }
    assert!(!sb.path().join("store").exists());
}

#[test]
fn missing_things_are_distinct_errors() {
    let sb = Sandbox::new();
    qsnap(&sb)
        .args(["get", "qplan", "raw"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("no store at"));
    let first = put(&sb, "qplan", "raw", &stream(1));
    put(&sb, "qplan", "results", &stream(2));
    let cases: [(&[&str], &str); 4] = [
        (
            &["get", "qplan", "raw", "--at", "nosuchrev"],
            "unknown revision \"nosuchrev\"",
        ),
        (
            &["get", "qplan", "nope"],
            "unknown resource qplan nope: the store has qplan raw, qplan results",
        ),
        (
            &["get", "qplan", "results", "--at", &first],
            "qplan results does not exist at revision",
        ),
        (
            &["get", "qplan", "raw", "--at-time", "2001-01-01"],
            "no version at or before 2001-01-01T23:59:59Z",
        ),
    ];
    for (args, message) in cases {
        qsnap(&sb)
            .args(args)
            .assert()
            .code(65)
            .stdout("")
            .stderr(predicate::str::contains(message));
    }
    qsnap(&sb)
        .args(["get", "qplan", "raw", "--at-time", "last week"])
        .assert()
        .code(2);
    qsnap(&sb)
        .args(["log", "qplan", "nope"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains("unknown resource qplan nope"));
}

#[test]
fn at_time_finds_the_last_version_at_or_before() {
    let sb = Sandbox::new();
    for (n, date) in [
        (1, "2026-01-01T10:00:00Z"),
        (2, "2026-02-01T10:00:00Z"),
        (3, "2026-03-01T10:00:00Z"),
    ] {
        qsnap(&sb)
            .env("GIT_COMMITTER_DATE", date)
            .args(["put", "qplan", "raw"])
            .write_stdin(stream(n))
            .assert()
            .success();
    }
    let at = |when: &str| {
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw", "--at-time", when]))
    };
    assert_eq!(at("2026-01-15"), stream(1));
    assert_eq!(at("2026-02-01"), stream(2), "a date is the end of that day");
    assert_eq!(at("2026-02-01T09:59:59Z"), stream(1));
    assert_eq!(at("2026-02-01T12:00:00+02:00"), stream(2));
    assert_eq!(at("2027-01-01"), stream(3));
    qsnap(&sb)
        .args(["get", "qplan", "raw", "--at-time", "2025-12-31"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "the store begins at 2026-01-01T10:00:00Z",
        ));
    // Revisions as git knows them.
    let rev = |r: &str| stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw", "--at", r]));
    assert_eq!(rev("main~2"), stream(1));
    assert_eq!(rev("HEAD~1"), stream(2));
}

#[test]
fn provenance_goes_from_results_back_to_raw() {
    let sb = Sandbox::new();
    let raw_id = put(&sb, "qplan", "raw", &stream(1));
    // A conditioning step: what it read came from `get qplan raw`.
    let from_raw = stdout_of(qsnap(&sb).args(["get", "qplan", "raw"]));
    let provenance: String = from_raw.lines().take(2).map(|l| format!("{l}\n")).collect();
    let conditioned = format!("{provenance}{}", fixture_text("quarter/conditioned.txt"));
    let cond_id = put(&sb, "qplan", "conditioned", &conditioned);
    // get | qplan | put
    let got = stdout_of(qsnap(&sb).args(["get", "qplan", "conditioned"]));
    let results = sb.cmd("qplan").write_stdin(got).output().unwrap();
    assert!(results.status.success());
    let res_id = stdout_of(
        qsnap(&sb)
            .args(["put", "qplan", "results", "-m", "weekly plan"])
            .write_stdin(results.stdout),
    );
    let res_id = res_id.trim_end();
    let got = stdout_of(qsnap(&sb).args(["get", "qplan", "results"]));
    assert!(got.starts_with(&format!(
        "=====qsnap provenance v1\n\tqplan results\t{res_id}\n\tqplan conditioned\t{cond_id}\n\tqplan raw\t{raw_id}\n=====qplan"
    )), "{got}");
    let trace = stdout_of(qsnap(&sb).args(["trace", "qplan", "results"]));
    let rows: Vec<&str> = trace.lines().collect();
    assert_eq!(rows.len(), 4, "{trace}");
    assert!(rows[0].starts_with("RESOURCE"));
    assert!(rows[1].starts_with(&format!("qplan results      {}", &res_id[..12])));
    assert!(rows[2].starts_with(&format!("qplan conditioned  {}", &cond_id[..12])));
    assert!(rows[3].starts_with(&format!("qplan raw          {}", &raw_id[..12])));
    // The log says the same, for scripts.
    let log = stdout_of(qsnap(&sb).args(["log", "qplan", "results", "--format", "json"]));
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert_eq!(log[0]["commit"], res_id);
    assert_eq!(log[0]["message"], "weekly plan");
    assert_eq!(log[0]["resource"], "qplan results");
    assert_eq!(log[0]["provenance"][1]["resource"], "qplan raw");
    assert_eq!(log[0]["provenance"][1]["commit"], raw_id);
}

#[test]
fn log_lists_history_newest_first() {
    let sb = Sandbox::new();
    let a = put(&sb, "qplan", "raw", &stream(1));
    let b = put(&sb, "qplan", "results", &stream(2));
    let c = put(&sb, "qplan", "raw", &stream(3));
    let log = stdout_of(qsnap(&sb).arg("log"));
    let firsts: Vec<&str> = log.lines().map(|l| &l[..12]).collect();
    assert_eq!(firsts, [&c[..12], &b[..12], &a[..12]]);
    assert!(log.lines().next().unwrap().contains("  qplan raw  "));
    let raw = stdout_of(qsnap(&sb).args(["log", "qplan", "raw", "-n", "5"]));
    assert_eq!(raw.lines().count(), 2);
    let one = stdout_of(qsnap(&sb).args(["log", "-n", "1", "--format", "json"]));
    let one: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["commit"], c);
    assert!(one[0]["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn ls_tag_and_diff() {
    let sb = Sandbox::new();
    let v1 = "=====a\n\tx\n\ty\n=====gone\n\tz\n=====end\n";
    let v2 = "=====a\n\ty\n\tw\n=====end\n";
    let first = put(&sb, "qplan", "raw", v1);
    stdout_of(qsnap(&sb).args(["tag", "before"]));
    let second = put(&sb, "qplan", "raw", v2);
    let third = put(&sb, "qplan", "results", &stream(1));
    let ls = stdout_of(qsnap(&sb).arg("ls"));
    assert_eq!(ls.lines().count(), 2);
    // Each resource is headed by the put that made its version, not by
    // the newest commit of the store.
    let lines: Vec<&str> = ls.lines().collect();
    assert!(
        lines[0].starts_with(&format!("qplan raw                 {}", &second[..12])),
        "{ls}"
    );
    assert!(
        lines[1].starts_with(&format!("qplan results             {}", &third[..12])),
        "{ls}"
    );
    let ls = stdout_of(qsnap(&sb).args(["ls", "--at", "before"]));
    assert!(
        ls.starts_with(&format!("qplan raw                 {}", &first[..12])),
        "{ls}"
    );
    assert_eq!(ls.lines().count(), 1);
    let diff = stdout_of(qsnap(&sb).args(["diff", "qplan", "raw", "before"]));
    assert_eq!(
        diff,
        "section 'a': 1 added, 1 removed\n-\tx\n+\tw\n\
         section 'gone' (section removed): 0 added, 1 removed\n-\tz\n"
    );
    assert_eq!(
        stdout_of(qsnap(&sb).args(["diff", "qplan", "raw", "main", "main"])),
        ""
    );
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw", "--at", "before"])),
        v1
    );
    qsnap(&sb)
        .args(["tag", "before"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains("tag before exists"));
    qsnap(&sb).args(["tag", "bad..name"]).assert().code(2);
    qsnap(&sb)
        .args(["diff", "qplan", "results", "before"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains("does not exist at revision"));
}

#[test]
fn push_and_clone_replicate_the_store() {
    let sb = Sandbox::new();
    let id = put(&sb, "qplan", "raw", &stream(1));
    stdout_of(qsnap(&sb).args(["tag", "q4"]));
    let copy = sb.path().join("copy");
    qsnap(&sb)
        .arg("push")
        .arg(&copy)
        .assert()
        .success()
        .stdout("");
    put(&sb, "qplan", "raw", &stream(2));
    qsnap(&sb).arg("push").arg(&copy).assert().success();
    let clone = sb.path().join("clone");
    sb.cmd("qsnap")
        .arg("clone")
        .arg(&copy)
        .arg(&clone)
        .assert()
        .success();
    let from_clone = |args: &[&str]| {
        let mut c = sb.cmd("qsnap");
        c.arg("--store").arg(&clone).args(args);
        stdout_of(&mut c)
    };
    assert_eq!(from_clone(&["get", "qplan", "raw", "--raw"]), stream(2));
    assert_eq!(
        from_clone(&["get", "qplan", "raw", "--raw", "--at", "q4"]),
        stream(1)
    );
    assert!(from_clone(&["log"]).contains(&id[..12]));
    sb.cmd("qsnap")
        .arg("clone")
        .arg(sb.path().join("nothing-here"))
        .arg(sb.path().join("c2"))
        .assert()
        .code(69);
}

fn bin(tool: &str) -> PathBuf {
    assert_cmd::cargo::cargo_bin(tool)
}

#[test]
fn concurrent_writers_never_lose_a_commit() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let (writers, puts) = (8, 50);
    std::thread::scope(|s| {
        for w in 0..writers {
            let store = &store;
            s.spawn(move || {
                for i in 0..puts {
                    let mut child = Process::new(bin("qsnap"))
                        .arg("--store")
                        .arg(store)
                        .args(["put", "team", &format!("w{w}")])
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .expect("spawn qsnap");
                    let mut stdin = child.stdin.take().unwrap();
                    stdin.write_all(stream(i).as_bytes()).unwrap();
                    drop(stdin);
                    let out = child.wait_with_output().unwrap();
                    assert!(
                        out.status.success(),
                        "writer {w} put {i}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            });
        }
    });
    assert_eq!(commits(&store), writers * puts);
    for w in 0..writers {
        let got = stdout_of(qsnap(&sb).args(["get", "team", &format!("w{w}"), "--raw"]));
        assert_eq!(got, stream(puts - 1));
        let log = stdout_of(qsnap(&sb).args(["log", "team", &format!("w{w}")]));
        assert_eq!(log.lines().count(), puts);
    }
    fsck(&store);
}

#[test]
fn a_put_killed_at_any_moment_leaves_the_store_whole() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    put(&sb, "qplan", "raw", &stream(0));
    // About 1 MB per put, so that a kill lands while reading, hashing or
    // committing.
    let big = |n: usize| {
        let mut s = String::from("=====test data v1\n");
        for i in 0..40_000 {
            s.push_str(&format!("\tline {i} of version {n}\n"));
        }
        s + "=====end\n"
    };
    let mut landed = 1;
    for round in 0..40 {
        let content = big(round);
        let mut child = Process::new(bin("qsnap"))
            .arg("--store")
            .arg(&store)
            .args(["put", "qplan", "raw"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn qsnap");
        let mut stdin = child.stdin.take().unwrap();
        // Even rounds die while reading (after a part of the input), odd
        // rounds right after the whole input went in.
        let cut = if round % 2 == 0 {
            content.len() * (round + 1) / 41
        } else {
            content.len()
        };
        let _ = stdin.write_all(&content.as_bytes()[..cut]);
        drop(stdin);
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            landed += 1;
        }
    }
    // Every commit on main is whole and readable, the last one too.
    let n = commits(&store);
    assert!(n >= landed, "{n} commits, {landed} puts reported success");
    let got = stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"]));
    assert!(got.ends_with("=====end\n"));
    fsck(&store);
    // And the store still takes puts.
    put(&sb, "qplan", "raw", &stream(99));
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"])),
        stream(99)
    );
}

#[test]
fn the_fixture_quarter_round_trips_byte_for_byte() {
    let sb = Sandbox::new();
    let file = fixture("quarter/conditioned.txt");
    stdout_of(qsnap(&sb).args(["put", "qplan", "conditioned"]).arg(&file));
    let got = stdout_of(qsnap(&sb).args(["get", "qplan", "conditioned", "--raw"]));
    assert_eq!(got.as_bytes(), std::fs::read(&file).unwrap());
}

/// The temporary files libgit2 writes in `objects/` and their total size.
fn temp_files(store: &Path) -> (usize, u64) {
    let mut found = (0, 0);
    let mut dirs = vec![store.join("objects")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                dirs.push(e.path());
            } else if ["streamed_git2_", "tmp_object_git2_", "qsnap_put_"]
                .iter()
                .any(|p| name.starts_with(p))
            {
                found.0 += 1;
                found.1 += e.metadata().map_or(0, |m| m.len());
            }
        }
    }
    found
}

/// Waits (with a deadline) until `cond` holds.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited too long for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A put that has read part of its input and waits for the rest.
fn put_in_progress(store: &Path, stage: &str) -> (std::process::Child, std::process::ChildStdin) {
    let mut child = Process::new(bin("qsnap"))
        .arg("--store")
        .arg(store)
        .args(["put", "qplan", stage])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn qsnap");
    let mut stdin = child.stdin.take().unwrap();
    let mut chunk = String::from("=====test data v1\n");
    while chunk.len() < 3_000_000 {
        chunk.push_str("\ta line of a put that is still streaming\n");
    }
    stdin.write_all(chunk.as_bytes()).unwrap();
    stdin.flush().unwrap();
    (child, stdin)
}

/// Issue 10: each killed put left a temporary file the size of its input
/// (`streamed_git2_*`), which `git gc` does not remove: 104 kills of a
/// 100 MB put left 10 GB.
#[test]
fn a_killed_put_leaves_nothing_behind() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    put(&sb, "qplan", "raw", &stream(0));
    for _ in 0..3 {
        let (mut child, stdin) = put_in_progress(&store, "raw");
        wait_until("the put's temporary file", || temp_files(&store).1 > 0);
        child.kill().unwrap();
        child.wait().unwrap();
        drop(stdin);
    }
    let (files, bytes) = temp_files(&store);
    assert_eq!(files, 3, "each kill leaves its file until the next put");
    assert!(bytes >= 3 * 256 * 1024, "{bytes} bytes");
    // A running put's file is in use: the next put and gc leave it alone.
    let (live, mut live_in) = put_in_progress(&store, "conditioned");
    wait_until("the live put's file", || temp_files(&store).0 == 4);
    put(&sb, "qplan", "raw", &stream(1));
    assert_eq!(temp_files(&store).0, 4, "a put removed a file in use");
    live_in.write_all(b"=====end\n").unwrap();
    drop(live_in);
    let out = live.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The next put removes what the dead ones left.
    put(&sb, "qplan", "raw", &stream(2));
    assert_eq!(temp_files(&store), (0, 0));
    // So does gc, and it says what it removed.
    let (mut child, stdin) = put_in_progress(&store, "raw");
    wait_until("the put's temporary file", || temp_files(&store).1 > 0);
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let (_, left) = temp_files(&store);
    qsnap(&sb)
        .arg("gc")
        .assert()
        .success()
        .stdout("")
        .stderr(format!("qsnap: removed 1 temporary files ({left} bytes)\n"));
    assert_eq!(temp_files(&store), (0, 0));
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"])),
        stream(2)
    );
    fsck(&store);
}

/// Issue 10: a put removed `refs/heads/main.lock` before committing,
/// whoever held it (git, another program).
#[test]
fn another_programs_ref_lock_is_waited_for_not_broken() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let first = put(&sb, "qplan", "raw", &stream(0));
    let ref_lock = store.join("refs/heads/main.lock");
    std::fs::write(&ref_lock, format!("{first}\n")).unwrap();
    qsnap(&sb)
        .args(["put", "qplan", "raw", "--wait", "1"])
        .write_stdin(stream(1))
        .assert()
        .code(75)
        .stdout("")
        .stderr(predicate::str::contains(
            "main.lock exists and no put made it",
        ));
    assert!(ref_lock.exists(), "the other program's lock was broken");
    assert_eq!(commits(&store), 1);
    // When the other program is done, puts go on.
    std::fs::remove_file(&ref_lock).unwrap();
    put(&sb, "qplan", "raw", &stream(1));
    assert_eq!(commits(&store), 2);
}

#[test]
fn a_held_store_lock_bounds_the_wait_with_75() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    put(&sb, "qplan", "raw", &stream(0));
    let held = std::fs::File::options()
        .write(true)
        .open(store.join("qsnap.lock"))
        .unwrap();
    held.lock().unwrap();
    let started = std::time::Instant::now();
    qsnap(&sb)
        .args(["put", "qplan", "raw", "--wait", "1"])
        .write_stdin(stream(1))
        .assert()
        .code(75)
        .stdout("")
        .stderr(predicate::str::contains("is locked by another qsnap"));
    // Not a timing assertion on speed: only that --wait bounded the wait
    // instead of the 60 s default.
    assert!(started.elapsed() < std::time::Duration::from_secs(50));
    held.unlock().unwrap();
    put(&sb, "qplan", "raw", &stream(1));
}

/// A put killed while libgit2 held `main.lock` leaves it behind; the lock
/// file says which commit that put announced, so the next put knows the
/// ref lock is a dead put's and clears it, with a warning.
#[test]
fn a_ref_lock_left_by_a_dead_put_is_cleared_with_a_warning() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let first = put(&sb, "qplan", "raw", &stream(0));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // What a put killed inside libgit2's ref update leaves: the announced
    // commit (any id; it was never referenced) in both files.
    let dead = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(
        store.join("qsnap.lock"),
        format!("pid 4194304\ncommitting {dead} {nanos}\n"),
    )
    .unwrap();
    std::fs::write(store.join("refs/heads/main.lock"), format!("{dead}\n")).unwrap();
    let out = qsnap(&sb)
        .args(["put", "qplan", "raw", "--wait", "1"])
        .write_stdin(stream(1))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: removed") && stderr.contains("main.lock"),
        "{stderr}"
    );
    assert_eq!(commits(&store), 2);
    // Killed before writing anything into main.lock: an empty file newer
    // than the announcement is also the dead put's.
    std::fs::write(
        store.join("qsnap.lock"),
        format!("pid 4194304\ncommitting {dead} {nanos}\n"),
    )
    .unwrap();
    std::fs::write(store.join("refs/heads/main.lock"), "").unwrap();
    put(&sb, "qplan", "raw", &stream(2));
    // But an empty lock with no announcement is someone else's.
    std::fs::write(store.join("refs/heads/main.lock"), "").unwrap();
    qsnap(&sb)
        .args(["put", "qplan", "raw", "--wait", "0"])
        .write_stdin(stream(3))
        .assert()
        .code(75);
    let _ = first;
}

/// Cuts a loose object of the store to half its length, as a disk that
/// lost the end of a file would.
fn truncate_object(store: &Path, oid: git2::Oid) {
    let hex = oid.to_string();
    let path = store.join("objects").join(&hex[..2]).join(&hex[2..]);
    let len = std::fs::metadata(&path).expect("a loose object").len();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)] // A test damaging its own file.
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
}

/// A store with three versions of `qplan raw` and one of `qplan results`,
/// and the ids of main, its tree, the raw blob and the oldest commit.
fn store_to_damage(sb: &Sandbox) -> [git2::Oid; 4] {
    let first = put(sb, "qplan", "raw", &stream(1));
    put(sb, "qplan", "raw", &stream(2));
    put(sb, "qplan", "results", &stream(3));
    put(sb, "qplan", "raw", &stream(4));
    let repo = git2::Repository::open_bare(sb.path().join("store")).unwrap();
    let main = repo.head().unwrap().peel_to_commit().unwrap();
    let blob = main
        .tree()
        .unwrap()
        .get_path(Path::new("raw/qplan.txt"))
        .unwrap()
        .id();
    [
        main.id(),
        main.tree_id(),
        blob,
        git2::Oid::from_str(&first).unwrap(),
    ]
}

/// Runs qsnap with a generous time limit (the bug was an endless loop):
/// it must fail with 74, name the object and print nothing on stdout.
fn fails_on(sb: &Sandbox, args: &[&str], object: git2::Oid) {
    qsnap(sb)
        .args(args)
        .write_stdin(stream(9))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(74)
        .stdout("")
        .stderr(predicate::str::contains(format!("object {object}")))
        .stderr(predicate::str::contains("truncated"));
}

/// Issue 10: a truncated loose object made get, log, ls and put spin
/// forever inside libgit2's zlib reader (libgit2/libgit2#7342).
#[test]
fn a_truncated_object_fails_fast_naming_it() {
    for (which, cases) in [
        (
            0,
            &[
                &["get", "qplan", "raw"][..],
                &["log"],
                &["ls"],
                &["put", "qplan", "raw"],
            ][..],
        ),
        (
            1,
            &[
                &["get", "qplan", "raw"][..],
                &["ls"],
                &["put", "qplan", "raw"],
                &["log", "qplan", "raw"],
            ],
        ),
        (
            2,
            &[
                &["get", "qplan", "raw"][..],
                &["get", "qplan", "raw", "--raw"],
                &["diff", "qplan", "raw", "main~1"],
            ],
        ),
        (
            3,
            &[
                &["log"][..],
                &["log", "qplan", "raw"],
                &["get", "qplan", "raw", "--at", "main~3"],
            ],
        ),
    ] {
        let sb = Sandbox::new();
        let ids = store_to_damage(&sb);
        truncate_object(&sb.path().join("store"), ids[which]);
        for args in cases {
            fails_on(&sb, args, ids[which]);
        }
        // What does not need the damaged object still works.
        if which == 2 {
            stdout_of(qsnap(&sb).args(["get", "qplan", "results"]));
            stdout_of(qsnap(&sb).arg("log"));
        }
    }
}

#[test]
fn verify_lists_unreadable_versions_and_missing_provenance() {
    let sb = Sandbox::new();
    let ids = store_to_damage(&sb);
    qsnap(&sb).arg("verify").assert().success().stdout("");
    // A result whose raw data came from a commit this store does not have.
    let foreign = "0123456789abcdef0123456789abcdef01234567";
    put(
        &sb,
        "qplan",
        "results",
        &format!(
            "=====qsnap provenance v1\n\tqplan raw\t{foreign}\n{}",
            stream(5)
        ),
    );
    // The oldest version's blob, cut short.
    let repo = git2::Repository::open_bare(sb.path().join("store")).unwrap();
    let oldest = repo.find_commit(ids[3]).unwrap();
    let blob = oldest
        .tree()
        .unwrap()
        .get_path(Path::new("raw/qplan.txt"))
        .unwrap()
        .id();
    truncate_object(&sb.path().join("store"), blob);
    let out = qsnap(&sb)
        .arg("verify")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let listed = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("object {blob}")) && l.contains("truncated")),
        "{listed}"
    );
    assert!(
        lines.iter().any(|l| l.contains(&format!(
            "provenance commit {foreign} (qplan raw) is not in this store"
        ))),
        "{listed}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 problems"));
    // The current versions are still whole and readable.
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"])),
        stream(4)
    );
}

/// Regression (issue 10): `qsnap tag main` made every `--at main` mean the
/// tag, and a tag of hex digits hid the commits it abbreviates.
#[test]
fn a_tag_that_would_shadow_a_revision_is_refused() {
    let sb = Sandbox::new();
    let first = put(&sb, "qplan", "raw", &stream(1));
    put(&sb, "qplan", "raw", &stream(2));
    for name in ["main", "HEAD", "beef", &first[..7], &first] {
        qsnap(&sb)
            .args(["tag", name, &first])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(format!("tag {name:?}")));
    }
    let repo = git2::Repository::open_bare(sb.path().join("store")).expect("store");
    assert_eq!(repo.tag_names(None).expect("tags").len(), 0);
    // Still the branch, still the newest version.
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw", "--at", "main"])),
        stream(2)
    );
    stdout_of(qsnap(&sb).args(["tag", "beefy", &first]));
}

/// A short id that several objects start with is "ambiguous", not
/// "unknown": the user needs more digits, not another id.
#[test]
fn an_ambiguous_short_id_says_so() {
    let sb = Sandbox::new();
    put(&sb, "qplan", "raw", &stream(1));
    let repo = git2::Repository::open_bare(sb.path().join("store")).expect("store");
    // Blobs until two ids share their first 4 hex digits (a few hundred,
    // by the birthday bound on 65,536 prefixes).
    let mut seen = std::collections::HashMap::new();
    let prefix = (0u32..)
        .find_map(|i| {
            let id = repo.blob(format!("blob {i}\n").as_bytes()).expect("blob");
            let p = id.to_string()[..4].to_owned();
            seen.insert(p.clone(), id).map(|_| p)
        })
        .expect("a shared prefix");
    for args in [
        &["get", "qplan", "raw", "--at", &prefix][..],
        &["ls", "--at", &prefix],
        &["tag", "x", &prefix],
    ] {
        qsnap(&sb)
            .args(args)
            .assert()
            .code(65)
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "revision {prefix:?} is ambiguous"
            )));
    }
}

/// A stream as qpull writes it: data, then volatile `fetch` metadata.
fn pulled(data: &str, fetched_at: &str) -> String {
    format!(
        "=====raw staff\n\tname,fte\n\t{data}\n=====qpull sources v1\n\tstaff\tfile:staff.csv\n\
         =====qpull fetch v1\n\tstaff\t{fetched_at}\t-\t\t\n=====end\n"
    )
}

fn put_at(sb: &Sandbox, time: &str, content: &str) -> String {
    stdout_of(
        qsnap(sb)
            .env("GIT_COMMITTER_DATE", time)
            .args(["put", "qplan", "raw"])
            .write_stdin(content),
    )
    .trim_end()
    .to_owned()
}

/// Regression (issue 10): three pulls of the same data made three commits
/// (the fetch time differs), so cron every 15 minutes wrote 96 versions a
/// day. Sections `<app> fetch v<N>` are left out of the comparison; the
/// last check is recorded outside main and shown by log and ls.
#[test]
fn an_unchanged_pull_makes_no_commit_but_is_recorded_as_checked() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let first = pulled("ann,1", "2026-11-29T10:00:00Z");
    let v1 = put_at(&sb, "@1000", &first);
    // 00:33:20 and 00:50:00 UTC on 1970-01-01.
    assert_eq!(
        put_at(&sb, "@2000", &pulled("ann,1", "2026-11-29T10:15:00Z")),
        v1
    );
    let third = pulled("ann,1", "2026-11-29T10:30:00Z");
    assert_eq!(put_at(&sb, "@3000", &third), v1);
    assert_eq!(commits(&store), 1);
    // get returns the stored version, with the fetch section it was put with.
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"])),
        first
    );
    // The later streams were never made objects.
    let repo = git2::Repository::open_bare(&store).expect("store");
    let odb = repo.odb().expect("odb");
    for later in ["10:15", "10:30"] {
        let text = pulled("ann,1", &format!("2026-11-29T{later}:00Z"));
        let id = git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes()).expect("hash");
        assert!(!odb.exists(id), "the {later} stream is in the store");
    }
    assert_eq!(temp_files(&store), (0, 0));
    // One ref records the last check: on top of the version, off main.
    let refs: Vec<String> = repo
        .references_glob("refs/qsnap/*")
        .expect("refs")
        .names()
        .map(|n| n.expect("name").to_owned())
        .collect();
    assert_eq!(refs, ["refs/qsnap/checked/qplan/raw"]);
    let check = repo
        .find_reference("refs/qsnap/checked/qplan/raw")
        .and_then(|r| r.peel_to_commit())
        .expect("check");
    assert_eq!(check.parent_id(0).expect("parent").to_string(), v1);
    assert_eq!(check.time().seconds(), 3000);
    assert!(check
        .message()
        .expect("message")
        .contains("\tstaff\t2026-11-29T10:30:00Z\t"));
    let log = stdout_of(qsnap(&sb).args(["log", "qplan", "raw"]));
    assert_eq!(
        log,
        format!(
            "{}  1970-01-01T00:16:40Z  qplan raw                 put qplan raw\n\
             {:14}checked 1970-01-01T00:50:00Z: same data\n",
            &v1[..12],
            ""
        )
    );
    let json = stdout_of(qsnap(&sb).args(["log", "--format", "json"]));
    assert!(
        json.contains("\"checked\": \"1970-01-01T00:50:00Z\""),
        "{json}"
    );
    assert_eq!(
        stdout_of(qsnap(&sb).arg("ls")),
        format!(
            "qplan raw                 {}  1970-01-01T00:16:40Z  checked 1970-01-01T00:50:00Z\n",
            &v1[..12]
        )
    );
    qsnap(&sb).arg("verify").assert().success().stdout("");
    fsck(&store);

    // A change in a data section is a new version, with its own fetch section.
    let changed = pulled("ann,0.5", "2026-11-29T10:45:00Z");
    let v2 = put_at(&sb, "@4000", &changed);
    assert_ne!(v2, v1);
    assert_eq!(commits(&store), 2);
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"])),
        changed
    );
    let log = stdout_of(qsnap(&sb).args(["log", "qplan", "raw"]));
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log
        .lines()
        .nth(2)
        .unwrap()
        .contains("checked 1970-01-01T00:50:00Z"));
    // The same data with other provenance is a new version too.
    let with_provenance = format!("=====qsnap provenance v1\n\tqplan src\t{v1}\n{changed}");
    assert_ne!(put_at(&sb, "@5000", &with_provenance), v2);
    assert_eq!(commits(&store), 3);
}

/// The rule is about the stream, not about qpull: any producer's
/// `<app> fetch v<N>` sections, wherever they are, and a stored version
/// made before the data trailer existed (read to compare).
#[test]
fn any_fetch_section_is_left_out_even_of_a_version_made_by_hand() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    put(&sb, "qplan", "other", &stream(1));
    // A version committed by hand: no Qsnap-Data-Sha256 trailer.
    let stored = "=====myapp fetch v2\n\tat 1\n=====x data v1\n\t1\n=====end\n";
    let repo = git2::Repository::open_bare(&store).expect("store");
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let blob = repo.blob(stored.as_bytes()).unwrap();
    let mut tree = repo.treebuilder(Some(&head.tree().unwrap())).unwrap();
    let mut raw = repo.treebuilder(None).unwrap();
    raw.insert("qplan.txt", blob, 0o100644).unwrap();
    tree.insert("raw", raw.write().unwrap(), 0o040000).unwrap();
    let tree = repo.find_tree(tree.write().unwrap()).unwrap();
    let sig = git2::Signature::now("hand", "hand@localhost").unwrap();
    let by_hand = repo
        .commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "by hand",
            &tree,
            &[&head],
        )
        .unwrap()
        .to_string();
    let again = "=====x data v1\n\t1\n=====myapp fetch v2\n\tat 2\n\t\n=====end\n";
    assert_eq!(put(&sb, "qplan", "raw", again), by_hand);
    assert_eq!(commits(&store), 2);
    // Without any fetch section it is the same data too.
    assert_eq!(
        put(&sb, "qplan", "raw", "=====x data v1\n\t1\n=====end\n"),
        by_hand
    );
    assert_eq!(commits(&store), 2);
    // `myapp fetch` without a version is data.
    let data = "=====x data v1\n\t1\n=====myapp fetch\n\tat 3\n=====end\n";
    assert_ne!(put(&sb, "qplan", "raw", data), by_hand);
    assert_eq!(commits(&store), 3);
}

/// A small tmpfs, unmounted when dropped; `None` (with a note) where
/// mounting is not permitted.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: PathBuf, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(&at).expect("mount point");
        let done = Process::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !done {
            eprintln!("note: cannot mount a tmpfs here (not root?): full-disk test skipped");
        }
        done.then_some(SmallDisk(at))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg(&self.0).status();
    }
}

/// Regression (issue 10): a put on a full disk said "writing to the store:
/// no error" (libgit2 sets no message, and its cleanup resets errno).
#[test]
fn a_put_on_a_full_disk_says_no_space_left() {
    let sb = Sandbox::new();
    let Some(disk) = SmallDisk::mount(sb.path().join("disk"), "1M") else {
        return;
    };
    let store = disk.0.join("store");
    let run = |content: &str| {
        let mut c = sb.cmd("qsnap");
        c.arg("--store").arg(&store).args(["put", "qplan", "raw"]);
        c.write_stdin(content.to_owned()).assert()
    };
    run(&stream(1)).success();
    // Smaller than libgit2's 2 MiB buffer (it fails when the blob is
    // committed), and larger (it fails while streaming).
    for lines in [80_000, 250_000] {
        let mut big = String::from("=====test data v1\n");
        for i in 0..lines {
            big.push_str(&format!("\tline {i:>12}\n"));
        }
        big.push_str("=====end\n");
        // A full disk may clear: temporary (75), saying what to do.
        run(&big)
            .code(75)
            .stdout("")
            .stderr(predicate::str::contains("No space left on device"))
            .stderr(predicate::str::contains("free some space"))
            .stderr(predicate::str::contains("no error").not());
        assert_eq!(temp_files(&store), (0, 0));
    }
    // Nothing half-stored: the store still works.
    run(&stream(2)).success();
    assert_eq!(commits(&store), 2);
}

/// Regression (issue 10): libgit2 reads ~/.gitconfig whenever it opens a
/// repository, and a broken one made every store "not a qsnap store".
#[test]
fn a_broken_gitconfig_does_not_hide_the_store() {
    let sb = Sandbox::new();
    let id = put(&sb, "qplan", "raw", &stream(1));
    sb.write(".gitconfig", "[user\n\tname = broken\n");
    qsnap(&sb)
        .args(["get", "qplan", "raw", "--raw"])
        .assert()
        .success()
        .stdout(stream(1))
        .stderr(predicate::str::contains(
            "warning: ignoring the git configuration outside the store",
        ))
        .stderr(predicate::str::contains(".gitconfig"));
    let log = stdout_of(qsnap(&sb).arg("log"));
    assert!(log.starts_with(&id[..12]), "{log}");
    put(&sb, "qplan", "raw", &stream(2));
    // A new store too.
    let mut c = sb.cmd("qsnap");
    c.arg("--store")
        .arg(sb.path().join("new"))
        .args(["put", "qplan", "raw"]);
    assert!(is_commit_line(&stdout_of(c.write_stdin(stream(1)))));
    // A .gitconfig that is a directory was never a problem; still not.
    std::fs::remove_file(sb.path().join(".gitconfig")).unwrap();
    std::fs::create_dir(sb.path().join(".gitconfig")).unwrap();
    assert_eq!(
        stdout_of(qsnap(&sb).args(["get", "qplan", "raw", "--raw"])),
        stream(2)
    );
}

/// Puts of the same data racing each other (and a gc) end with one
/// version per change, every put answered, and no temporary file left: a
/// put that keeps its temporary file while it waits for the lock holds
/// `qsnap.writers`, which the lock holder's cleanup must get past.
#[test]
fn concurrent_unchanged_puts_make_one_version_and_leave_nothing() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let (writers, puts) = (6, 10);
    std::thread::scope(|s| {
        for w in 0..writers {
            let store = &store;
            s.spawn(move || {
                for i in 0..puts {
                    // The data changes every 5 puts; the fetch section always.
                    let content = pulled(&format!("ann,{}", i / 5), &format!("w{w} p{i}"));
                    let out = Process::new(bin("qsnap"))
                        .arg("--store")
                        .arg(store)
                        .args(if i == 3 {
                            &["gc"][..]
                        } else {
                            &["put", "qplan", "raw"][..]
                        })
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .and_then(|mut child| {
                            let mut stdin = child.stdin.take().expect("stdin");
                            let _ = stdin.write_all(content.as_bytes());
                            drop(stdin);
                            child.wait_with_output()
                        })
                        .expect("run qsnap");
                    assert!(
                        out.status.success(),
                        "writer {w} put {i}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            });
        }
    });
    // ann,0 then ann,1 in each writer; a writer late with ann,0 after
    // another stored ann,1 flips the data back, which is a version. Never
    // a version per put: at most one per flip.
    let log = stdout_of(qsnap(&sb).args(["log", "qplan", "raw"]));
    let versions = log.lines().filter(|l| !l.starts_with(' ')).count();
    assert_eq!(versions, commits(&store));
    // Newest first: whether each version holds ann,1.
    let repo = git2::Repository::open_bare(&store).expect("store");
    let mut walk = repo.revwalk().expect("walk");
    walk.push_ref("refs/heads/main").expect("main");
    let data: Vec<bool> = walk
        .map(|id| {
            let c = repo.find_commit(id.expect("id")).expect("commit");
            let entry = c
                .tree()
                .unwrap()
                .get_path(Path::new("raw/qplan.txt"))
                .unwrap();
            let blob = repo.find_blob(entry.id()).expect("blob");
            blob.content().windows(5).any(|w| w == b"ann,1")
        })
        .collect();
    let flips = 1 + data.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(versions, flips, "two versions in a row hold the same data");
    assert_eq!(temp_files(&store), (0, 0));
    qsnap(&sb).arg("verify").assert().success();
    fsck(&store);
}
