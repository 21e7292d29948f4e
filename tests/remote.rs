//! qsnap push, pull and clone against replicas: store directories, a
//! smart-HTTP server (`git http-backend`) over http and https, and ssh
//! through a stand-in `ssh` that runs git's command locally.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::githttp::{self, GitServer, Options};
use crate::util::Sandbox;

/// No remote command may wait for a prompt: each is given this long.
const LIMIT: Duration = Duration::from_secs(120);

/// What the machine's environment may say about CAs, ssh and prompts; each
/// test sets what it means to test.
const GIT_VARS: &[&str] = &[
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_TERMINAL_PROMPT",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_COUNT",
];

/// qsnap with no store given, bounded in time.
fn bare(sb: &Sandbox) -> Command {
    let mut c = sb.cmd("qsnap");
    c.timeout(LIMIT);
    for v in GIT_VARS {
        c.env_remove(v);
    }
    c
}

/// qsnap on the store `sandbox/NAME`.
fn qsnap(sb: &Sandbox, store: &str) -> Command {
    let mut c = bare(sb);
    c.arg("--store").arg(sb.path().join(store));
    c
}

fn ok(c: &mut Command) -> (String, String) {
    let out = c.output().expect("run qsnap");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

fn stream(n: usize) -> String {
    format!("=====test data v1\n\tversion\t{n}\n=====end\n")
}

fn put(sb: &Sandbox, store: &str, n: usize) -> String {
    let (id, _) = ok(qsnap(sb, store)
        .args(["put", "qplan", "raw"])
        .write_stdin(stream(n)));
    id.trim().to_owned()
}

fn get(sb: &Sandbox, store: &str) -> String {
    ok(qsnap(sb, store).args(["get", "qplan", "raw", "--raw"])).0
}

/// Where main of the store at `dir` points (git2, not qsnap).
fn main_of(dir: &Path) -> String {
    let repo = git2::Repository::open_bare(dir).expect("store");
    repo.refname_to_id("refs/heads/main")
        .expect("main")
        .to_string()
}

/// Holds the lock of the store at `dir` as a put would, until dropped or
/// unlocked.
fn hold_lock(dir: &Path) -> std::fs::File {
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("qsnap.lock"))
        .expect("lock file");
    held.lock().expect("lock");
    held
}

/// The commit the store's `qsnap.newest` file is for.
fn newest_tip(store: &Path) -> String {
    let text = std::fs::read_to_string(store.join("qsnap.newest")).expect("qsnap.newest");
    let tip = text.lines().nth(1).and_then(|l| l.strip_prefix("tip "));
    tip.expect("a tip line").to_owned()
}

/// An empty store to serve, made with qsnap init.
fn hub(sb: &Sandbox, root: &Path) -> PathBuf {
    let dir = root.join("hub.git");
    sb.cmd("qsnap")
        .arg("--store")
        .arg(&dir)
        .arg("init")
        .assert()
        .success();
    dir
}

/// Push, clone and pull (fast-forward, nothing to do, diverged refused)
/// through a replica at `url`, whose store directory is `hub`; `env` is
/// what the qsnap commands need to reach it.
fn round_trip(sb: &Sandbox, url: &str, hub: &Path, env: &[(&str, &str)]) {
    let with = |mut c: Command| {
        for (k, v) in env {
            c.env(k, v);
        }
        c
    };
    let first = put(sb, "a", 1);
    ok(qsnap(sb, "a").args(["tag", "q4"]));
    let (out, _) = ok(with(qsnap(sb, "a")).args(["push", url]));
    assert_eq!(out, "", "push writes nothing on stdout");
    assert_eq!(main_of(hub), first);

    // clone: a new store with main and the tags.
    ok(with(bare(sb))
        .arg("clone")
        .arg(url)
        .arg(sb.path().join("b")));
    assert_eq!(get(sb, "b"), stream(1));
    let (at_tag, _) = ok(qsnap(sb, "b").args(["get", "qplan", "raw", "--raw", "--at", "q4"]));
    assert_eq!(at_tag, stream(1));

    // pull: a fast-forward, with the new tag; other refs of qsnap's (a
    // put's "checked" record) are left as they are.
    {
        let b = git2::Repository::open_bare(sb.path().join("b")).expect("b");
        let first = git2::Oid::from_str(&first).expect("oid");
        b.reference("refs/qsnap/checked/qplan/raw", first, false, "test")
            .expect("ref");
    }
    let second = put(sb, "a", 2);
    ok(qsnap(sb, "a").args(["tag", "q5"]));
    ok(with(qsnap(sb, "a")).args(["push", url]));
    let (out, err) = ok(with(qsnap(sb, "b")).args(["pull", url]));
    assert_eq!(out, "");
    assert!(
        err.contains(&format!("-> {} (1 commit from", &second[..12])),
        "{err}"
    );
    assert!(err.contains("new tags from") && err.contains("q5"), "{err}");
    assert_eq!(main_of(&sb.path().join("b")), second);
    assert_eq!(get(sb, "b"), stream(2));
    // The store's guide to the newest versions is brought up to the pulled
    // main (issue 27), so readers do not walk what the pull brought.
    assert_eq!(newest_tip(&sb.path().join("b")), second);

    // pull again: nothing to do, nothing said without -v.
    let (out, err) = ok(with(qsnap(sb, "b")).args(["pull", url]));
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    assert_eq!(main_of(&sb.path().join("b")), second);

    // Both move on: b's commit stays, the pull and the push are refused.
    let ours = put(sb, "b", 3);
    let theirs = put(sb, "a", 4);
    ok(with(qsnap(sb, "a")).args(["push", url]));
    with(qsnap(sb, "b"))
        .args(["pull", url])
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("diverged"))
        .stderr(predicate::str::contains("1 commit here not there"));
    assert_eq!(main_of(&sb.path().join("b")), ours, "a local commit lost");
    with(qsnap(sb, "b"))
        .args(["push", url])
        .assert()
        .code(65)
        .stderr(predicate::str::contains("refused, nothing sent"));
    assert_eq!(main_of(hub), theirs);
    // No staging ref is left behind; the checked ref is still there.
    let b = git2::Repository::open_bare(sb.path().join("b")).expect("b");
    let refs = b
        .references_glob("refs/qsnap/pull/*")
        .expect("refs")
        .count();
    assert_eq!(refs, 0);
    assert_eq!(
        b.refname_to_id("refs/qsnap/checked/qplan/raw")
            .expect("checked ref")
            .to_string(),
        first
    );
}

#[test]
fn push_clone_and_pull_through_a_store_directory() {
    let sb = Sandbox::new();
    let dir = sb.path().join("replica");
    let url = dir.to_str().expect("UTF-8 path").to_owned();
    // A push creates a missing store directory, or one in an empty
    // directory.
    let seed = put(&sb, "seed", 0);
    ok(qsnap(&sb, "seed").arg("push").arg(&url));
    assert_eq!(main_of(&dir), seed);
    std::fs::remove_dir_all(&dir).expect("rm");
    std::fs::create_dir(&dir).expect("mkdir");
    ok(qsnap(&sb, "seed").arg("push").arg(&url));
    assert_eq!(main_of(&dir), seed);
    // file:// names the same directory.
    ok(qsnap(&sb, "seed").arg("push").arg(format!("file://{url}")));
    std::fs::remove_dir_all(&dir).expect("rm");
    let root = githttp::root_of(sb.path());
    let hub = hub(&sb, &root);
    round_trip(&sb, hub.to_str().expect("UTF-8"), &hub, &[]);
}

#[test]
fn push_clone_and_pull_over_http() {
    let sb = Sandbox::new();
    let root = githttp::root_of(sb.path());
    let hub = hub(&sb, &root);
    let server = GitServer::start(&root, Options::default());
    round_trip(&sb, &format!("{}/hub.git", server.base), &hub, &[]);
}

#[test]
fn https_with_a_self_signed_certificate() {
    let sb = Sandbox::new();
    let root = githttp::root_of(sb.path());
    let hub = hub(&sb, &root);
    let (pem, tls) = githttp::self_signed();
    let ca = sb.write("ca.pem", pem);
    let server = GitServer::start(
        &root,
        Options {
            tls: Some(tls),
            ..Options::default()
        },
    );
    let url = format!("{}/hub.git", server.base);
    assert!(url.starts_with("https://127.0.0.1:"));
    // Not trusted: a clean failure, 69, saying why.
    put(&sb, "x", 1);
    qsnap(&sb, "x")
        .args(["push", &url])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("qsnap: https://127.0.0.1:"))
        .stderr(predicate::str::contains("certificate"));
    std::fs::remove_dir_all(sb.path().join("x")).expect("rm");
    let ca = ca.to_str().expect("UTF-8");
    round_trip(&sb, &url, &hub, &[("GIT_SSL_CAINFO", ca)]);
    // SSL_CERT_FILE works as well, for a pull and a clone.
    put(&sb, "a", 5);
    ok(qsnap(&sb, "a")
        .args(["push", &url])
        .env("GIT_SSL_CAINFO", ca));
    let mut c = bare(&sb);
    c.env("SSL_CERT_FILE", ca);
    ok(c.arg("clone").arg(&url).arg(sb.path().join("c")));
    assert_eq!(get(&sb, "c"), stream(5));
    // git's own setting for this URL wins over SSL_CERT_FILE, as in git.
    sb.write(
        ".gitconfig",
        format!("[http \"{}\"]\n\tsslCAInfo = {ca}\n", server.base),
    );
    let bogus = sb.write("bogus.pem", "not a certificate\n");
    ok(qsnap(&sb, "c")
        .args(["pull", &url])
        .env("SSL_CERT_FILE", &bogus));
}

#[test]
fn a_server_asking_for_a_password_fails_cleanly_without_a_prompt() {
    let sb = Sandbox::new();
    let root = githttp::root_of(sb.path());
    hub(&sb, &root);
    let server = GitServer::start(
        &root,
        Options {
            auth: Some("bob:s3cret-pw".into()),
            ..Options::default()
        },
    );
    let url = format!("{}/hub.git", server.base);
    put(&sb, "a", 1);
    // stdin is not a terminal: git must not ask, and qsnap says what to do.
    qsnap(&sb, "a")
        .args(["push", &url])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("terminal prompts disabled"))
        .stderr(predicate::str::contains("credential helper"));
    // A wrong password in the URL is never shown.
    let wrong = url.replacen("http://", "http://bob:hunter2-wrong@", 1);
    let out = qsnap(&sb, "a")
        .args(["push", &wrong])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(69));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("hunter2-wrong"), "{err}");
    assert!(err.contains("bob:***@127.0.0.1"), "{err}");
    // The user's credential helper is used, as git push would.
    sb.write(".gitconfig", "[credential]\n\thelper = store\n");
    sb.write(
        ".git-credentials",
        format!(
            "{}\n",
            url.replacen("http://", "http://bob:s3cret-pw@", 1)
                .trim_end_matches("/hub.git")
        ),
    );
    ok(qsnap(&sb, "a").args(["push", &url]));
    ok(bare(&sb).arg("clone").arg(&url).arg(sb.path().join("b")));
    assert_eq!(get(&sb, "b"), stream(1));
}

#[test]
fn unreachable_and_failing_servers_are_69_and_75() {
    let sb = Sandbox::new();
    put(&sb, "a", 1);
    // A port nobody listens on any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    qsnap(&sb, "a")
        .args(["push", &format!("http://127.0.0.1:{port}/hub.git")])
        .assert()
        .code(69)
        .stderr(predicate::str::starts_with(format!(
            "qsnap: http://127.0.0.1:{port}/hub.git: push failed: "
        )));
    let root = githttp::root_of(sb.path());
    hub(&sb, &root);
    let server = GitServer::start(
        &root,
        Options {
            fail_with: Some(503),
            ..Options::default()
        },
    );
    qsnap(&sb, "a")
        .args(["pull", &format!("{}/hub.git", server.base)])
        .assert()
        .code(75)
        .stderr(predicate::str::contains("503"));
}

#[test]
fn a_replica_without_main_or_a_path_that_is_not_there() {
    let sb = Sandbox::new();
    let root = githttp::root_of(sb.path());
    let hub = hub(&sb, &root);
    qsnap(&sb, "a")
        .arg("pull")
        .arg(&hub)
        .assert()
        .code(69)
        .stderr(predicate::str::contains("it has no main branch"));
    assert!(!sb.path().join("a").exists(), "a failed pull made a store");
    bare(&sb)
        .arg("clone")
        .arg(sb.path().join("missing"))
        .arg(sb.path().join("b"))
        .assert()
        .code(69)
        .stderr(predicate::str::contains("the path does not exist"));
    assert!(!sb.path().join("b").exists(), "a failed clone left DEST");
    // Nothing left beside DEST either.
    let left: Vec<_> = std::fs::read_dir(sb.path())
        .expect("ls")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".qsnap-"))
        .collect();
    assert!(left.is_empty());
    qsnap(&sb, "empty").args(["init"]).assert().success();
    qsnap(&sb, "empty")
        .arg("push")
        .arg(&hub)
        .assert()
        .code(69)
        .stderr(predicate::str::contains("nothing to push"));
}

#[test]
fn push_and_pull_wait_for_the_lock_of_the_store_they_move() {
    let sb = Sandbox::new();
    put(&sb, "a", 1);
    let root = githttp::root_of(sb.path());
    let hub = hub(&sb, &root);
    let held = hold_lock(&hub);
    qsnap(&sb, "a")
        .args(["push", "--wait", "1"])
        .arg(&hub)
        .assert()
        .code(75)
        .stderr(predicate::str::contains("locked"));
    held.unlock().expect("unlock");
    ok(qsnap(&sb, "a").arg("push").arg(&hub));
    // The store a pull moves is locked the same way.
    ok(bare(&sb).arg("clone").arg(&hub).arg(sb.path().join("b")));
    let _held = hold_lock(&sb.path().join("b"));
    qsnap(&sb, "b")
        .args(["pull", "--wait", "1"])
        .arg(&hub)
        .assert()
        .code(75);
}

/// A pull transfers before it waits for the lock (a put need not wait for
/// a slow transfer), stages in a namespace of its own, and clears what it
/// and pulls that died left there.
#[test]
fn a_pull_fetches_before_it_takes_the_lock_and_leaves_no_staging_refs() {
    let sb = Sandbox::new();
    put(&sb, "a", 1);
    let hub = sb.path().join("hub");
    ok(qsnap(&sb, "a").arg("push").arg(&hub));
    ok(bare(&sb).arg("clone").arg(&hub).arg(sb.path().join("b")));
    let before = put(&sb, "a", 2);
    ok(qsnap(&sb, "a").arg("push").arg(&hub));
    let b = sb.path().join("b");
    let old = main_of(&b);
    {
        // What a killed pull left: a namespace whose process is gone
        // (above Linux's largest pid), and the layout of earlier versions.
        let repo = git2::Repository::open_bare(&b).expect("store");
        let at = git2::Oid::from_str(&old).expect("oid");
        for name in ["refs/qsnap/pull/4194305/main", "refs/qsnap/pull/main"] {
            repo.reference(name, at, true, "left").expect("ref");
        }
    }
    let held = hold_lock(&b);
    qsnap(&sb, "b")
        .args(["pull", "--wait", "1"])
        .arg(&hub)
        .assert()
        .code(75);
    let repo = git2::Repository::open_bare(&b).expect("store");
    // The commit came over; main did not move without the lock.
    let fetched = git2::Oid::from_str(&before).expect("oid");
    assert!(repo.find_commit(fetched).is_ok());
    assert_eq!(main_of(&b), old);
    let staged: Vec<String> = repo
        .references_glob("refs/qsnap/pull/*")
        .expect("refs")
        .flatten()
        .filter_map(|r| r.name().ok().map(str::to_owned))
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
    held.unlock().expect("unlock");
    ok(qsnap(&sb, "b").arg("pull").arg(&hub));
    assert_eq!(main_of(&b), before);
}

#[test]
fn without_git_push_says_it_is_needed() {
    let sb = Sandbox::new();
    put(&sb, "a", 1);
    let empty = sb.path().join("no-bin");
    std::fs::create_dir(&empty).expect("dir");
    qsnap(&sb, "a")
        .arg("push")
        .arg(sb.path().join("b"))
        .env("PATH", &empty)
        .assert()
        .code(69)
        .stderr(predicate::str::contains(
            "git command, which is not installed",
        ));
}

/// A stand-in for `ssh`: logs its arguments, then runs the command git asked
/// the remote side to run, here (as git's own tests do).
fn fake_ssh(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let bin = sb.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    let log = sb.path().join("ssh.log");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\n\
         while [ $# -gt 1 ]; do case \"$1\" in -o|-p|-i|-F|-l) shift 2;; -*) shift;; *) shift; break;; esac; done\n\
         if [ -n \"$FAKE_SSH_DENY\" ]; then echo 'qsnap@replica.invalid: Permission denied (publickey).' >&2; exit 255; fi\n\
         exec sh -c \"$*\"\n",
        log.display()
    );
    let ssh = bin.join("ssh");
    std::fs::write(&ssh, script).expect("ssh");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (PathBuf::from(path), log)
}

#[test]
fn ssh_remotes_run_ssh_in_batch_mode_without_a_terminal() {
    let sb = Sandbox::new();
    let root = githttp::root_of(sb.path());
    let hub = hub(&sb, &root);
    let (path, log) = fake_ssh(&sb);
    let hub_path = hub.to_str().expect("UTF-8");
    put(&sb, "a", 1);
    ok(qsnap(&sb, "a")
        .args([
            "push",
            &format!("ssh://qsnap@replica.invalid:2222{hub_path}"),
        ])
        .env("PATH", &path));
    let said = std::fs::read_to_string(&log).expect("ssh ran");
    assert!(said.contains("-o BatchMode=yes"), "{said}");
    assert!(said.contains("-p 2222"), "{said}");
    assert!(said.contains("qsnap@replica.invalid"), "{said}");
    assert!(said.contains("git-receive-pack"), "{said}");
    // scp-like syntax; the user's own ssh command is left as it is.
    std::fs::remove_file(&log).expect("rm");
    ok(bare(&sb)
        .args(["clone", &format!("replica.invalid:{hub_path}")])
        .arg(sb.path().join("b"))
        .env("PATH", &path)
        .env("GIT_SSH_COMMAND", "ssh -o User=me"));
    let said = std::fs::read_to_string(&log).expect("ssh ran");
    assert!(!said.contains("BatchMode"), "{said}");
    assert!(
        said.contains("User=me") && said.contains("git-upload-pack"),
        "{said}"
    );
    assert_eq!(get(&sb, "b"), stream(1));
    // A refused key: 69, with ssh's line and what to do.
    qsnap(&sb, "a")
        .args(["push", &format!("replica.invalid:{hub_path}")])
        .env("PATH", &path)
        .env("FAKE_SSH_DENY", "1")
        .assert()
        .code(69)
        .stderr(predicate::str::contains("Permission denied (publickey)"))
        .stderr(predicate::str::contains("ssh-add"));
}

#[test]
fn a_tag_that_names_another_commit_stops_the_whole_pull() {
    let sb = Sandbox::new();
    let root = githttp::root_of(sb.path());
    let hub = hub(&sb, &root);
    let first = put(&sb, "a", 1);
    ok(qsnap(&sb, "a").arg("push").arg(&hub));
    ok(bare(&sb).arg("clone").arg(&hub).arg(sb.path().join("b")));
    put(&sb, "a", 2);
    ok(qsnap(&sb, "a").args(["tag", "release"]));
    ok(qsnap(&sb, "a").arg("push").arg(&hub));
    ok(qsnap(&sb, "b").args(["tag", "release"]));
    qsnap(&sb, "b")
        .arg("pull")
        .arg(&hub)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("release (here"))
        .stderr(predicate::str::contains("nothing changed"));
    // Main could have moved forward, but nothing did.
    assert_eq!(main_of(&sb.path().join("b")), first);
    // A pull into a missing store makes it, as a clone.
    let (_, err) = ok(qsnap(&sb, "fresh").arg("pull").arg(&hub));
    assert!(err.contains("main (empty) -> "), "{err}");
    assert_eq!(main_of(&sb.path().join("fresh")), main_of(&hub));
}

/// The counts `a/b` a progress bar of `what` (`qsnap clone`) drew on a
/// terminal's screen: `qsnap clone: Receiving objects [===] 12/12 (`.
fn counts_drawn(screen: &str, what: &str) -> Vec<(u64, u64)> {
    screen
        .split(['\r', '\n'])
        .filter_map(|l| l.split_once(&format!("{what}: "))?.1.split_once("] "))
        .filter_map(|(_, rest)| {
            let (counts, _) = rest.split_once(" (")?;
            let (a, b) = counts.split_once('/')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect()
}

/// The objects `main` of the store at `dir` reaches, counted by git's own
/// rev-list (not by qsnap).
fn objects_of(dir: &Path) -> u64 {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(["rev-list", "--objects", "refs/heads/main"])
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).lines().count() as u64
}

/// On a terminal, clone, push and pull draw git's phases as a bar with
/// counts (a clone receives every object main reaches); through a pipe
/// or with -q nothing is drawn, and stdout is the same.
#[test]
fn transfers_show_their_progress_on_a_terminal_only() {
    let sb = Sandbox::new();
    for n in 0..3 {
        put(&sb, "seed", n);
    }
    let seed = sb.path().join("seed");
    let seed = seed.to_str().expect("UTF-8");
    let all = objects_of(Path::new(seed));
    let tty = sb.on_terminal("qsnap", &["clone", seed, "copy"], &[]);
    assert_eq!(tty.code, 0, "{}", tty.screen);
    let drawn = counts_drawn(&tty.screen, "qsnap clone");
    // Its first phase counts every object main reaches.
    assert!(
        drawn.iter().any(|&(_, b)| b == all),
        "{all} objects: {drawn:?} {:?}",
        tty.screen
    );
    assert!(tty.screen.contains("ETA"), "{:?}", tty.screen);
    assert_eq!(get(&sb, "copy"), get(&sb, "seed"));

    // A push of one new version writes its objects.
    put(&sb, "copy", 3);
    let copy = sb.path().join("copy");
    let tty = sb.on_terminal(
        "qsnap",
        &["--store", copy.to_str().expect("UTF-8"), "push", seed],
        &[],
    );
    assert_eq!(tty.code, 0, "{}", tty.screen);
    let drawn = counts_drawn(&tty.screen, "qsnap push");
    assert!(
        drawn.iter().any(|&(a, b)| a == b && b > 0),
        "{drawn:?} {:?}",
        tty.screen
    );
    assert_eq!(main_of(Path::new(seed)), main_of(&copy));

    // A pull of one new version: the same on a terminal, nothing with -q.
    put(&sb, "seed", 4);
    let tty = sb.on_terminal(
        "qsnap",
        &["--store", copy.to_str().expect("UTF-8"), "pull", seed],
        &[],
    );
    assert_eq!(tty.code, 0, "{}", tty.screen);
    let drawn = counts_drawn(&tty.screen, "qsnap pull");
    assert!(
        drawn.iter().any(|&(a, b)| a == b && b > 0),
        "{drawn:?} {:?}",
        tty.screen
    );
    put(&sb, "seed", 5);
    let quiet = sb.on_terminal(
        "qsnap",
        &["--store", copy.to_str().expect("UTF-8"), "-q", "pull", seed],
        &[],
    );
    assert_eq!(quiet.code, 0, "{}", quiet.screen);
    assert_eq!(quiet.screen, "");
    assert_eq!(main_of(Path::new(seed)), main_of(&copy));

    // Through a pipe: no bar, and stdout as on the terminal (empty).
    let out = bare(&sb)
        .args(["clone", seed, "copy2"])
        .output()
        .expect("run qsnap");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, tty.stdout);
    assert_eq!(get(&sb, "copy2"), get(&sb, "seed"));
}
