//! The store under maintenance (issue 24): `qsnap maintenance`, puts that
//! survive git maintaining the store beside them, and `verify --repair`.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::util::Sandbox;

fn qsnap(sb: &Sandbox) -> Command {
    let mut c = sb.cmd("qsnap");
    c.arg("--repo").arg(store(sb));
    c
}

fn store(sb: &Sandbox) -> PathBuf {
    sb.path().join("store")
}

fn stream(n: usize) -> String {
    format!("=====test data v1\n\tversion\t{n}\n=====end\n")
}

fn put(sb: &Sandbox, stage: &str, content: &str) -> String {
    let out = qsnap(sb)
        .args(["put", "qplan", stage])
        .write_stdin(content.to_owned())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `git --git-dir STORE ARGS`, its stdout, and whether it succeeded.
fn git(store: &Path, args: &[&str]) -> (bool, String) {
    let out = Process::new("git")
        .arg("--git-dir")
        .arg(store)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("git is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Writes an object nothing refers to, with its file's time `age` ago.
fn unreferenced(store: &Path, content: &str, age: Duration) -> String {
    let out = Process::new("git")
        .arg("--git-dir")
        .arg(store)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(content.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let oid = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let path = store.join("objects").join(&oid[..2]).join(&oid[2..]);
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
    oid
}

#[test]
fn maintenance_packs_and_prunes_only_past_the_grace_period() {
    let sb = Sandbox::new();
    let store = store(&sb);
    let ids: Vec<String> = (0..3).map(|i| put(&sb, "raw", &stream(i))).collect();
    let old = unreferenced(&store, "old garbage\n", Duration::from_secs(7200));
    let young = unreferenced(&store, "young garbage\n", Duration::from_secs(60));
    assert!(store.join("refs/heads/main").exists());
    qsnap(&sb)
        .args(["maintenance", "--grace", "1h"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("qsnap: loose refs: 1 -> 0\n"))
        .stderr(predicate::str::contains("loose objects: "))
        .stderr(predicate::str::contains("unreferenced for over 1h"));
    // Past the grace period: gone. Within it: kept (packed or loose).
    assert!(!git(&store, &["cat-file", "-e", &old]).0, "old kept");
    assert!(git(&store, &["cat-file", "-e", &young]).0, "young pruned");
    // Refs packed, objects packed: no loose object is left but the young
    // unreferenced one (git may keep it loose or in a cruft pack).
    assert!(!store.join("refs/heads/main").exists());
    let (_, packed) = git(&store, &["show-ref"]);
    assert!(packed.contains(&format!("{} refs/heads/main", ids[2])));
    let (_, count) = git(&store, &["count-objects", "-v"]);
    let loose: u64 = count
        .lines()
        .find_map(|l| l.strip_prefix("count: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(loose <= 1, "{count}");
    // Nothing referenced went: the history is whole and readable.
    qsnap(&sb).arg("verify").assert().success();
    let log = qsnap(&sb).args(["log"]).output().unwrap().stdout;
    let log = String::from_utf8(log).unwrap();
    for id in &ids {
        assert!(log.contains(&id[..12]), "{id} not in {log}");
    }
    assert_eq!(
        qsnap(&sb)
            .args(["get", "qplan", "raw", "--raw"])
            .output()
            .unwrap()
            .stdout,
        stream(2).into_bytes()
    );
    // Quiet for cron; a put after maintenance works on packed refs.
    qsnap(&sb)
        .args(["maintenance", "-q"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    put(&sb, "raw", &stream(3));
}

#[test]
fn maintenance_waits_for_the_lock_and_refuses_a_short_grace() {
    let sb = Sandbox::new();
    let store = store(&sb);
    put(&sb, "raw", &stream(0));
    qsnap(&sb)
        .args(["maintenance", "--grace", "59s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least 1m"));
    qsnap(&sb)
        .args(["maintenance", "--grace", "soon"])
        .assert()
        .code(2);
    let held = std::fs::File::options()
        .write(true)
        .open(store.join("qsnap.lock"))
        .unwrap();
    held.lock().unwrap();
    qsnap(&sb)
        .args(["maintenance", "--wait", "1"])
        .assert()
        .code(75)
        .stderr(predicate::str::contains("is locked by another qsnap"));
    // Nothing was packed while another held the lock.
    assert!(store.join("refs/heads/main").exists());
    held.unlock().unwrap();
    qsnap(&sb).args(["maintenance", "-q"]).assert().success();
}

fn bin(tool: &str) -> PathBuf {
    assert_cmd::cargo::cargo_bin(tool)
}

/// Issue 24: with git maintaining the store in a loop (`git gc`, `git gc
/// --aggressive --prune=now`, `git pack-refs --all`, `qsnap maintenance`),
/// puts failed with 74 and raw libgit2 messages, and a pruned tree left
/// main broken for every later put. Now every put either reports a commit
/// that is in the log afterwards, or fails with 75 having stored nothing,
/// and the store verifies. (bench/maintenance.sh is the full-size run.)
#[test]
fn puts_survive_git_maintaining_the_store_beside_them() {
    let sb = Sandbox::new();
    let store = store(&sb);
    put(&sb, "seed", &stream(0));
    let (writers, puts) = (4, 8);
    let done = std::sync::atomic::AtomicBool::new(false);
    let results = std::sync::Mutex::new(Vec::new());
    let rounds = std::thread::scope(|s| {
        let maintainer = s.spawn(|| {
            let mut round = 0usize;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || round < 4 {
                let mut cmd = match round % 4 {
                    0 => git_cmd(&store, &["gc", "-q"]),
                    1 => git_cmd(&store, &["gc", "-q", "--aggressive", "--prune=now"]),
                    2 => git_cmd(&store, &["pack-refs", "--all"]),
                    _ => {
                        let mut c = Process::new(bin("qsnap"));
                        c.arg("--repo").arg(&store).args(["maintenance", "-q"]);
                        c
                    }
                };
                // git may refuse now and then (another gc holds gc.pid):
                // what matters is that it ran beside the puts.
                let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
                round += 1;
            }
            round
        });
        let writers: Vec<_> = (0..writers)
            .map(|w| {
                let (store, results) = (&store, &results);
                s.spawn(move || {
                    for i in 0..puts {
                        let out = Process::new(bin("qsnap"))
                            .arg("--repo")
                            .arg(store)
                            .args(["put", "team", &format!("w{w}")])
                            .stdin(Stdio::piped())
                            .stdout(Stdio::piped())
                            .stderr(Stdio::piped())
                            .spawn()
                            .and_then(|mut c| {
                                use std::io::Write;
                                let text = format!("=====t v1\n\twriter {w} put {i}\n=====end\n");
                                c.stdin.take().unwrap().write_all(text.as_bytes())?;
                                c.wait_with_output()
                            })
                            .expect("run qsnap");
                        results.lock().unwrap().push((
                            format!("writer {w} put {i}"),
                            out.status.code(),
                            String::from_utf8_lossy(&out.stdout).into_owned(),
                            String::from_utf8_lossy(&out.stderr).into_owned(),
                        ));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        maintainer.join().unwrap()
    });
    assert!(rounds >= 4, "maintenance ran {rounds} times");
    let log = qsnap(&sb)
        .args(["log", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        log.status.success(),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    let log = String::from_utf8(log.stdout).unwrap();
    let mut committed = 0;
    for (what, code, stdout, stderr) in results.into_inner().unwrap() {
        match code {
            Some(0) => {
                let id = stdout.trim();
                assert_eq!(id.len(), 40, "{what}: {stdout:?}");
                assert!(
                    log.contains(&format!("\"commit\": \"{id}\"")),
                    "{what}: {id} is not in the log"
                );
                committed += 1;
            }
            Some(75) => assert_eq!(stdout, "", "{what}: {stderr}"),
            other => panic!("{what}: exit {other:?}: {stderr}"),
        }
    }
    // Nothing half-written: main holds the seed and the successful puts.
    let (_, count) = git(&store, &["rev-list", "--count", "main"]);
    assert_eq!(count.trim(), (committed + 1).to_string());
    qsnap(&sb).arg("verify").assert().success().stdout("");
    assert!(git(&store, &["fsck", "--no-dangling"]).0, "git fsck");
}

/// The same for what-if scenarios: `qwhatif save` writes a side commit
/// (refs/qsnap/whatif/NAME) with git pruning the store in a loop beside
/// it. Every save that reports a commit leaves its ref on objects that are
/// all there, or fails with 75 having stored nothing; the store verifies.
#[test]
fn scenario_saves_survive_git_pruning_the_store_beside_them() {
    let sb = Sandbox::new();
    let store = store(&sb);
    put(
        &sb,
        "conditioned",
        &crate::util::fixture_text("quarter/conditioned.txt"),
    );
    let (writers, saves) = (3, 6);
    let done = std::sync::atomic::AtomicBool::new(false);
    let results = std::sync::Mutex::new(Vec::new());
    let rounds = std::thread::scope(|s| {
        let maintainer = s.spawn(|| {
            let mut round = 0usize;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || round < 4 {
                let mut cmd = match round % 2 {
                    0 => git_cmd(&store, &["gc", "-q", "--prune=now"]),
                    _ => git_cmd(&store, &["gc", "-q", "--aggressive", "--prune=now"]),
                };
                let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
                round += 1;
            }
            round
        });
        let writers: Vec<_> = (0..writers)
            .map(|w| {
                let (store, results) = (&store, &results);
                s.spawn(move || {
                    for i in 0..saves {
                        // A script of its own: a new conditioned stream,
                        // so new blobs and trees each time.
                        let name = format!("w{w}-{i}");
                        let script = format!("end 2013-12-{}", 10 + w * saves + i);
                        let out = Process::new(bin("qwhatif"))
                            .env("QSNAP_REPO", store)
                            .args(["save", &name, &script])
                            .stdin(Stdio::null())
                            .output()
                            .expect("run qwhatif");
                        results.lock().unwrap().push((
                            name,
                            out.status.code(),
                            String::from_utf8_lossy(&out.stdout).into_owned(),
                            String::from_utf8_lossy(&out.stderr).into_owned(),
                        ));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        maintainer.join().unwrap()
    });
    assert!(rounds >= 4, "git gc ran {rounds} times");
    let mut saved = 0;
    for (name, code, stdout, stderr) in results.into_inner().unwrap() {
        let refname = format!("refs/qsnap/whatif/{name}");
        match code {
            Some(0) => {
                let (ok, at) = git(&store, &["rev-parse", "--verify", &refname]);
                assert!(ok, "{name}: no ref: {stdout} {stderr}");
                assert!(stdout.contains(at.trim()), "{name}: {stdout} vs {at}");
                saved += 1;
            }
            Some(75) => {
                assert_eq!(stdout, "", "{name}: {stderr}");
                assert!(!git(&store, &["rev-parse", "--verify", &refname]).0);
            }
            other => panic!("{name}: exit {other:?}: {stderr}"),
        }
    }
    assert!(saved > 0, "no save went through");
    // Every saved scenario reads back whole.
    assert!(git(&store, &["fsck", "--no-dangling"]).0, "git fsck");
    qsnap(&sb).arg("verify").assert().success().stdout("");
}

/// And for a replay (`qsnap replay`, issue 23), which writes its commits
/// on refs/qsnap/replay/NAME: with git pruning the store in a loop beside
/// it, a replay either ends (0) or stops with 75 and is run again to go
/// on; when the loop ends, the replay is whole and the store verifies.
#[test]
fn a_replay_survives_git_pruning_the_store_beside_it() {
    let sb = Sandbox::new();
    let store = store(&sb);
    for i in 0..12 {
        put(&sb, "raw", &stream(i));
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let (rounds, tries) = std::thread::scope(|s| {
        let maintainer = s.spawn(|| {
            let mut round = 0usize;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || round < 4 {
                let _ = git_cmd(&store, &["gc", "-q", "--prune=now"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                round += 1;
            }
            round
        });
        let mut tries = 0;
        let ended = loop {
            tries += 1;
            let out = qsnap(&sb)
                .args([
                    "replay", "qplan", "raw", "copy", "--name", "copy", "--", "cat",
                ])
                .output()
                .unwrap();
            match out.status.code() {
                Some(75) if tries < 20 => continue,
                _ => break out,
            }
        };
        // The loop of git ends before any assertion, which would otherwise
        // leave the scope waiting for it.
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let rounds = maintainer.join().unwrap();
        assert_eq!(ended.status.code(), Some(0), "{ended:?}");
        (rounds, tries)
    });
    assert!(rounds >= 4, "git gc ran {rounds} times");
    let log = qsnap(&sb)
        .args(["log", "--replay", "copy"])
        .output()
        .unwrap();
    assert!(log.status.success(), "{log:?}");
    let entries = String::from_utf8_lossy(&log.stdout)
        .lines()
        .filter(|l| !l.starts_with(' '))
        .count();
    assert_eq!(entries, 12, "after {tries} runs");
    assert!(git(&store, &["fsck", "--no-dangling"]).0, "git fsck");
    qsnap(&sb).arg("verify").assert().success().stdout("");
}

fn git_cmd(store: &Path, args: &[&str]) -> Process {
    let mut c = Process::new("git");
    c.arg("--git-dir")
        .arg(store)
        .args(args)
        .stdin(Stdio::null());
    c
}

/// Issue 24: a store whose main pointed at a commit with a missing tree
/// (`git gc --prune=now` beside a put) refused every later put, and only
/// git surgery got it back. `verify --repair` moves main back to the
/// newest intact commit, keeps the broken one, and says what to redo.
#[test]
fn verify_repair_moves_main_back_and_keeps_the_broken_history() {
    let sb = Sandbox::new();
    let store = store(&sb);
    let a = put(&sb, "raw", &stream(1));
    let b = put(&sb, "conditioned", &stream(2));
    let c = put(&sb, "raw", &stream(3));
    // Delete the root tree of the newest commit, by hand.
    let (_, tree) = git(&store, &["rev-parse", &format!("{c}^{{tree}}")]);
    let tree = tree.trim();
    let (_, b_tree) = git(&store, &["rev-parse", &format!("{b}^{{tree}}")]);
    assert_ne!(tree, b_tree.trim());
    std::fs::remove_file(store.join("objects").join(&tree[..2]).join(&tree[2..])).unwrap();
    qsnap(&sb).arg("verify").assert().code(1);
    qsnap(&sb)
        .args(["put", "qplan", "raw"])
        .write_stdin(stream(4))
        .assert()
        .code(74)
        .stdout("")
        .stderr(predicate::str::contains("qsnap verify --repair"));
    // The commit's time, read independently of qsnap: the committer
    // line's Unix time.
    let (_, raw) = git(&store, &["cat-file", "commit", &c]);
    let secs: i64 = raw
        .lines()
        .find_map(|l| l.strip_prefix("committer "))
        .and_then(|l| l.rsplit(' ').nth(1))
        .unwrap()
        .parse()
        .unwrap();
    let time = chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let out = qsnap(&sb).args(["verify", "--repair"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("main: commit {} is broken (", &c[..12])),
        "{stdout}"
    );
    assert!(
        lines[0].contains(&format!(
            "moved back to {}, the newest intact commit",
            &b[..12]
        )),
        "{stdout}"
    );
    assert!(
        lines[0].contains("kept as refs/qsnap/broken/main/"),
        "{stdout}"
    );
    assert_eq!(
        lines[1],
        format!("redo: qplan raw put at {time} (commit {c}: put qplan raw)")
    );
    // Main is back at b; the broken commit is kept, not deleted.
    assert_eq!(git(&store, &["rev-parse", "main"]).1.trim(), b);
    // And the store's guide to the newest versions is for b (issue 27).
    let newest = std::fs::read_to_string(store.join("qsnap.newest")).unwrap();
    assert_eq!(newest.lines().nth(1), Some(format!("tip {b}").as_str()));
    let (_, refs) = git(&store, &["for-each-ref", "refs/qsnap/broken/"]);
    assert!(
        refs.starts_with(&format!("{c} commit\trefs/qsnap/broken/main/")),
        "{refs}"
    );
    qsnap(&sb).arg("verify").assert().success();
    // The store takes puts again, on top of b; a is still the raw before.
    let d = put(&sb, "raw", &stream(3));
    assert_eq!(git(&store, &["rev-parse", &format!("{d}^")]).1.trim(), b);
    assert_eq!(
        qsnap(&sb)
            .args(["get", "qplan", "raw", "--raw", "--at", &b])
            .output()
            .unwrap()
            .stdout,
        stream(1).into_bytes()
    );
    let _ = a;
    // Repairing a whole store changes nothing.
    qsnap(&sb)
        .args(["verify", "--repair"])
        .assert()
        .success()
        .stdout("");
}
