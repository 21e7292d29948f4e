//! qwatch end to end, on a store watched directly (`--store`): catch-up,
//! bursts, failures, policies, signals and a chain driven only by qwatch.
//! No test sleeps to wait: each polls a condition with a deadline. Each
//! ends by checking that what the handler last processed is the store's
//! head.

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use crate::util::{wait_for, Sandbox, DEADLINE};

fn bin(tool: &str) -> PathBuf {
    assert_cmd::cargo::cargo_bin(tool)
}

fn store(sb: &Sandbox) -> PathBuf {
    sb.path().join("store")
}

/// A tool as a plain process in the sandbox, with a clean environment
/// except for PATH (the handlers' `sh`) and fast puts.
fn tool(sb: &Sandbox, name: &str) -> Process {
    let mut c = match name {
        "sh" => Process::new("sh"),
        _ => Process::new(bin(name)),
    };
    c.current_dir(sb.path()).env_clear();
    let dir = bin("qsnap");
    let path = format!(
        "{}:{}",
        dir.parent()
            .map(Path::display)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.env("PATH", path)
        .env("HOME", sb.path())
        .env("QSNAP_FSYNC", "0");
    c
}

/// Puts a one-line stream as resource `t <stage>`; returns the commit.
fn put(sb: &Sandbox, stage: &str, n: usize) -> String {
    let mut c = tool(sb, "qsnap");
    c.arg("--store").arg(store(sb)).args(["put", "t", stage]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().expect("qsnap");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        write!(stdin, "=====test data v1\n\t{stage} {n}\n=====end\n").expect("write");
    }
    let out = child.wait_with_output().expect("qsnap put");
    assert!(out.status.success(), "put failed");
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}

/// The store's head of `app stage`, read with the library.
fn head(sb: &Sandbox, app: &str, stage: &str) -> Option<String> {
    let repo = git2::Repository::open_bare(store(sb)).ok()?;
    let main = repo.refname_to_id("refs/heads/main").ok()?;
    qplan::snap::history::heads(&repo, main)
        .expect("heads")
        .into_iter()
        .find(|(r, _)| r.app == app && r.stage == stage)
        .map(|(_, c)| c.to_string())
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The commit a checkpoint records for `t <stage>`.
fn checkpoint(path: &Path, stage: &str) -> Option<String> {
    let want = format!("\tt {stage}\t");
    lines(path)
        .iter()
        .find_map(|l| l.strip_prefix(&want).map(str::to_owned))
}

/// A running watcher, stopped (SIGTERM, then killed) when dropped.
struct Watcher(Child);

impl Watcher {
    fn start(sb: &Sandbox, args: &[&str]) -> Watcher {
        let mut c = tool(sb, "qwatch");
        c.arg("--store").arg(store(sb)).args(args);
        Watcher(c.spawn().expect("qwatch"))
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory effects.
        unsafe { libc::kill(self.0.id() as i32, sig) };
    }

    /// Waits for the watcher to exit, returning its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(s) = self.0.try_wait().expect("wait") {
                return s.code();
            }
            assert!(Instant::now() < end, "qwatch did not exit");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.signal(libc::SIGTERM);
            let end = Instant::now() + Duration::from_secs(5);
            while Instant::now() < end {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A handler appending the commit it was given to `file`.
const APPEND: &str = r#"echo "$QWATCH_COMMIT" >> "$0""#;

fn once(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut c = tool(sb, "qwatch");
    c.arg("--store").arg(store(sb)).arg("--once").args(args);
    c.output().expect("qwatch --once")
}

#[test]
fn a_single_put_runs_the_command_once_with_its_environment() {
    let sb = Sandbox::new();
    let env = sb.path().join("env");
    let state = sb.path().join("cp");
    let script = r#"printf '%s|%s|%s|%s|%s|%s\n' "$QWATCH_RESOURCE" "$QWATCH_COMMIT" "$QWATCH_PARENT" "$QWATCH_SEQ" "$QWATCH_EPOCH" "$QSNAP_REPO" >> "$0""#;
    let _w = Watcher::start(
        &sb,
        &[
            "--state",
            state.to_str().unwrap(),
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            script,
            env.to_str().unwrap(),
        ],
    );
    let first = put(&sb, "raw", 1);
    wait_for("the first run", || lines(&env).len() == 1);
    let store = store(&sb).display().to_string();
    assert_eq!(lines(&env), [format!("t raw|{first}||||{store}")]);
    wait_for("the checkpoint", || {
        checkpoint(&state, "raw").as_deref() == Some(&*first)
    });
    let second = put(&sb, "raw", 2);
    wait_for("the second run", || lines(&env).len() == 2);
    assert_eq!(lines(&env)[1], format!("t raw|{second}|{first}|||{store}"));
    assert_eq!(head(&sb, "t", "raw").as_deref(), Some(&*second));
    wait_for("the checkpoint", || {
        checkpoint(&state, "raw").as_deref() == Some(&*second)
    });
}

/// Opens of the store's ref files (`refs/heads/*`, `packed-refs`, `HEAD`)
/// by anyone while `during` runs and for `window` after it.
fn ref_opens(sb: &Sandbox, window: Duration, during: impl FnOnce()) -> usize {
    use inotify::{Inotify, WatchMask};
    let mut ino = Inotify::init().expect("inotify");
    for dir in [store(sb), store(sb).join("refs/heads")] {
        ino.watches().add(&dir, WatchMask::OPEN).expect("watch");
    }
    during();
    let end = Instant::now() + window;
    let mut opens = 0;
    let mut buf = vec![0u8; 1 << 16];
    // Counting what happens in the window: the one wait here that is not
    // for a condition (it is the absence of reads that is tested).
    while Instant::now() < end {
        match ino.read_events(&mut buf) {
            Ok(events) => {
                opens += events
                    .filter(|e| {
                        e.name.and_then(|n| n.to_str()).is_some_and(|n| {
                            !n.ends_with(".lock")
                                && (n == "main" || n == "packed-refs" || n == "HEAD")
                        })
                    })
                    .count()
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("reading inotify: {e}"),
        }
    }
    opens
}

/// Issue 22: `--store` learns of puts from the kernel (inotify on the
/// refs), not by reading main every 2 ms: an idle watcher opens no ref
/// file (the polling one opened `refs/heads/main` ~500 times a second),
/// and a put still wakes it at once.
#[test]
fn an_idle_watcher_reads_no_ref_and_a_put_wakes_it() {
    let sb = Sandbox::new();
    let out = sb.path().join("out");
    put(&sb, "raw", 1);
    let _w = Watcher::start(
        &sb,
        &[
            "--state",
            sb.path().join("cp").to_str().unwrap(),
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            APPEND,
            out.to_str().unwrap(),
        ],
    );
    wait_for("the catch-up", || lines(&out).len() == 1);
    wait_for("the checkpoint's record", || {
        sb.path().join("cp.last").exists()
    });
    // Idle for a second: at most the one read of main that starts a wait.
    let idle = ref_opens(&sb, Duration::from_secs(1), || {});
    assert!(idle <= 2, "an idle watcher opened ref files {idle} times");
    // A put is seen without any timer: the run follows.
    let second = put(&sb, "raw", 2);
    wait_for("the run on the put", || lines(&out).len() == 2);
    assert_eq!(lines(&out)[1], second);
}

/// The burst's puts are made through the library by [`burst_putter`], run
/// in a child process of this test binary where `QSNAP_FSYNC=0` can be set
/// from the start (a thousand qsnap processes of a debug build take half a
/// minute, and flushed puts ten times that). The first run waits for a
/// gate the test opens after the last put, so the expected runs are known
/// by hand: the catch-up on the first head, then exactly one run on the
/// newest head for the 1,000 puts made meanwhile.
#[test]
fn a_burst_of_1000_puts_coalesces_and_ends_on_the_head() {
    let sb = Sandbox::new();
    let seen = sb.path().join("seen");
    let state = sb.path().join("cp");
    let first = put(&sb, "raw", 0);
    let script =
        r#"touch started; while [ ! -e gate ]; do sleep 0.01; done; echo "$QWATCH_COMMIT" >> "$0""#;
    let _w = Watcher::start(
        &sb,
        &[
            "--state",
            state.to_str().unwrap(),
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            script,
            seen.to_str().unwrap(),
        ],
    );
    wait_for("the catch-up run", || sb.path().join("started").exists());
    let out = Process::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "qwatch::burst_putter",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("QWATCH_TEST_BURST", store(&sb))
        .env("QSNAP_FSYNC", "0")
        .output()
        .expect("burst");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("1000 puts"), "{said}");
    sb.write("gate", "");
    let last = head(&sb, "t", "raw").expect("head");
    wait_for("the run on the last put", || lines(&seen).len() == 2);
    assert_eq!(lines(&seen), [first, last.clone()]);
    wait_for("the checkpoint", || {
        checkpoint(&state, "raw").as_deref() == Some(&*last)
    });
}

/// 1,000 puts to `t raw` of the store in `QWATCH_TEST_BURST` (see above).
#[test]
#[ignore = "a helper run by a_burst_of_1000_puts_coalesces_and_ends_on_the_head"]
fn burst_putter() {
    let Some(dir) = std::env::var_os("QWATCH_TEST_BURST") else {
        return;
    };
    let store = qplan::snap::Store::open(Path::new(&dir)).expect("store");
    let res = qplan::snap::Resource::new("t", "raw").expect("name");
    for n in 1..=1000 {
        let data = format!("=====test data v1\n\tburst {n}\n=====end\n");
        store
            .put(&res, data.as_bytes(), false, None, DEADLINE)
            .expect("put");
    }
    println!("1000 puts");
}

#[test]
fn a_watcher_started_after_the_puts_catches_up_once_on_the_head() {
    let sb = Sandbox::new();
    let seen = sb.path().join("seen");
    for n in 0..5 {
        put(&sb, "raw", n);
    }
    let state = sb.path().join("cp");
    let args = [
        "--state",
        state.to_str().unwrap(),
        "t",
        "raw",
        "--",
        "sh",
        "-c",
        APPEND,
        seen.to_str().unwrap(),
    ];
    let out = once(&sb, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = head(&sb, "t", "raw").expect("head");
    assert_eq!(lines(&seen), std::slice::from_ref(&last));
    assert_eq!(checkpoint(&state, "raw"), Some(last.clone()));
    // Nothing new: nothing runs.
    let out = once(&sb, &args);
    assert!(out.status.success());
    assert_eq!(lines(&seen), [last]);
}

#[test]
fn the_default_checkpoint_lives_in_the_store() {
    let sb = Sandbox::new();
    let seen = sb.path().join("seen");
    let first = put(&sb, "raw", 1);
    let args = ["t", "raw", "--", "sh", "-c", APPEND, seen.to_str().unwrap()];
    assert!(once(&sb, &args).status.success());
    assert!(once(&sb, &args).status.success());
    assert_eq!(lines(&seen), [first]);
    // One checkpoint (and, beside it, its last run for --status).
    let files: Vec<_> = std::fs::read_dir(store(&sb).join("qwatch"))
        .expect("qwatch/ in the store")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".checkpoint")).count(),
        1,
        "{files:?}"
    );
}

#[test]
fn a_failing_command_is_reported_and_the_checkpoint_waits_for_success() {
    let sb = Sandbox::new();
    let seen = sb.path().join("seen");
    let state = sb.path().join("cp");
    let first = put(&sb, "raw", 1);
    let script = r#"test -e ok || { echo "no ok file for $QWATCH_COMMIT" >&2; exit 3; }; echo "$QWATCH_COMMIT" >> "$0""#;
    let args = [
        "--state",
        state.to_str().unwrap(),
        "t",
        "raw",
        "--",
        "sh",
        "-c",
        script,
        seen.to_str().unwrap(),
    ];
    let out = once(&sb, &args);
    assert_eq!(out.status.code(), Some(75));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exit status 3"), "{err}");
    assert!(err.contains(&format!("no ok file for {first}")), "{err}");
    assert_eq!(checkpoint(&state, "raw"), None);
    sb.write("ok", "");
    let out = once(&sb, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&seen), std::slice::from_ref(&first));
    assert_eq!(checkpoint(&state, "raw"), Some(first));
}

#[test]
fn a_live_watcher_goes_on_after_a_failure_and_exit_on_error_stops() {
    let sb = Sandbox::new();
    let seen = sb.path().join("seen");
    let script = r#"echo "$QWATCH_COMMIT" >> "$0"; test -e ok"#;
    let mut w = Watcher::start(
        &sb,
        &["t", "raw", "--", "sh", "-c", script, seen.to_str().unwrap()],
    );
    let first = put(&sb, "raw", 1);
    wait_for("the failed run", || lines(&seen).len() == 1);
    sb.write("ok", "");
    let second = put(&sb, "raw", 2);
    wait_for("the next run", || lines(&seen).len() == 2);
    assert_eq!(lines(&seen), [first, second]);
    assert_eq!(
        w.0.try_wait().expect("wait"),
        None,
        "qwatch died on a failure"
    );
    drop(w);

    std::fs::remove_file(sb.path().join("ok")).expect("rm ok");
    let mut w = Watcher::start(
        &sb,
        &["--exit-on-error", "t", "raw", "--", "sh", "-c", "exit 1"],
    );
    assert_eq!(w.exit_code(), Some(75));
}

/// Whether a process is gone (or a zombie nobody reaped yet).
fn dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn restart_stops_the_whole_process_group_and_runs_the_newest_head() {
    let sb = Sandbox::new();
    let started = sb.path().join("started");
    let pids = sb.path().join("pids");
    // The command's own child (sleep) must go too, not only the shell.
    let script = r#"echo "$QWATCH_COMMIT" >> "$0"; sleep 300 & echo $! >> "$1"; wait"#;
    let _w = Watcher::start(
        &sb,
        &[
            "--on-busy",
            "restart",
            "--grace",
            "5s",
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            script,
            started.to_str().unwrap(),
            pids.to_str().unwrap(),
        ],
    );
    let first = put(&sb, "raw", 1);
    wait_for("the first run", || lines(&pids).len() == 1);
    let second = put(&sb, "raw", 2);
    wait_for("the restart", || lines(&pids).len() == 2);
    assert_eq!(lines(&started), [first, second.clone()]);
    let sleeper = lines(&pids)[0].clone();
    wait_for("the first run's sleep to be killed", || dead(&sleeper));
    assert_eq!(head(&sb, "t", "raw"), Some(second));
}

#[test]
fn sigterm_lets_the_running_command_finish_and_saves_the_checkpoint() {
    let sb = Sandbox::new();
    let seen = sb.path().join("seen");
    let state = sb.path().join("cp");
    let script =
        r#"touch started; while [ ! -e go ]; do sleep 0.01; done; echo "$QWATCH_COMMIT" >> "$0""#;
    let mut w = Watcher::start(
        &sb,
        &[
            "--state",
            state.to_str().unwrap(),
            "--grace",
            "60s",
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            script,
            seen.to_str().unwrap(),
        ],
    );
    let first = put(&sb, "raw", 1);
    wait_for("the command to start", || {
        sb.path().join("started").exists()
    });
    w.signal(libc::SIGTERM);
    // A put after the signal is not taken.
    put(&sb, "raw", 2);
    sb.write("go", "");
    assert_eq!(w.exit_code(), Some(130));
    assert_eq!(lines(&seen), std::slice::from_ref(&first));
    assert_eq!(checkpoint(&state, "raw"), Some(first));
}

#[test]
fn sigterm_stops_a_command_that_outlives_the_grace_period() {
    let sb = Sandbox::new();
    let state = sb.path().join("cp");
    let script = "touch started; sleep 300";
    let mut w = Watcher::start(
        &sb,
        &[
            "--state",
            state.to_str().unwrap(),
            "--grace",
            "100ms",
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    put(&sb, "raw", 1);
    wait_for("the command to start", || {
        sb.path().join("started").exists()
    });
    w.signal(libc::SIGTERM);
    assert_eq!(w.exit_code(), Some(130));
    assert_eq!(checkpoint(&state, "raw"), None);
}

#[test]
fn a_chain_file_with_two_rules_runs_each_on_its_own_resource() {
    let sb = Sandbox::new();
    let one = put(&sb, "one", 1);
    let two = put(&sb, "two", 1);
    let chain = sb.write(
        "chain.toml",
        r#"
[[rule]]
name = "first"
watch = ["t one"]
command = ["sh", "-c", "echo \"$QWATCH_RESOURCE $QWATCH_COMMIT\" >> seen-first"]
state = "cp-first"

[[rule]]
name = "second"
watch = ["t two"]
command = ["sh", "-c", "echo \"$QWATCH_RESOURCE $QWATCH_COMMIT\" >> seen-second"]
state = "cp-second"
"#,
    );
    let out = once(&sb, &["--config", chain.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        lines(&sb.path().join("seen-first")),
        [format!("t one {one}")]
    );
    assert_eq!(
        lines(&sb.path().join("seen-second")),
        [format!("t two {two}")]
    );
    assert_eq!(checkpoint(&sb.path().join("cp-first"), "one"), Some(one));
    assert_eq!(checkpoint(&sb.path().join("cp-second"), "two"), Some(two));
}

#[test]
fn the_fixture_chain_turns_raw_into_results_driven_only_by_qwatch() {
    let sb = Sandbox::new();
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut c = tool(&sb, "qwatch");
    c.current_dir(top)
        .arg("--store")
        .arg(store(&sb))
        .arg("--config")
        .arg(top.join("fixtures/quarter/chain.toml"))
        .stdout(Stdio::null());
    let _w = Watcher(c.spawn().expect("qwatch"));
    let mut p = tool(&sb, "qsnap");
    p.arg("--store")
        .arg(store(&sb))
        .args(["put", "qplan", "raw"])
        .arg(top.join("fixtures/quarter/raw.txt"));
    let raw = String::from_utf8(p.output().expect("put raw").stdout).expect("utf8");
    let raw = raw.trim().to_owned();
    wait_for("the results", || head(&sb, "qplan", "results").is_some());
    let results = head(&sb, "qplan", "results").expect("results");
    let conditioned = head(&sb, "qplan", "conditioned").expect("conditioned");
    // The results come from this raw data, through the conditioned data.
    let trace = tool(&sb, "qsnap")
        .arg("--store")
        .arg(store(&sb))
        .args(["trace", "qplan", "results"])
        .output()
        .expect("trace");
    let trace = String::from_utf8(trace.stdout).expect("utf8");
    for (what, commit) in [
        ("results", &results),
        ("conditioned", &conditioned),
        ("raw", &raw),
    ] {
        assert!(
            trace.contains(&commit[..12]),
            "{what} {commit} not in\n{trace}"
        );
    }
    assert_eq!(head(&sb, "qplan", "raw"), Some(raw));
}

#[test]
fn usage_and_config_errors() {
    let sb = Sandbox::new();
    let out = tool(&sb, "qwatch")
        .args(["--store", "s", "t", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("APP STAGE pairs"));
    let out = tool(&sb, "qwatch")
        .args(["--store", "s", "t", "raw"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = tool(&sb, "qwatch")
        .args(["--store", "s", "T", "raw", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let bad = sb.write("bad.toml", "[[rule]]\nwatch = [\"t raw\"]\ncommand = []\n");
    let out = tool(&sb, "qwatch")
        .args(["--store", "s", "--config"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("qwatch: ") && err.contains("command is empty"),
        "{err}"
    );
    let out = tool(&sb, "qwatch")
        .args(["--store", "s", "--every", "0s", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// `qsnap serve` on ipc sockets in the sandbox, stopped when dropped.
struct Service {
    child: Child,
    rep: String,
}

impl Service {
    /// Starts the service and waits (bounded) for the line saying it serves.
    fn start(sb: &Sandbox) -> Service {
        use std::io::BufRead;
        let rep = format!("ipc://{}", sb.path().join("rep.sock").display());
        let publish = format!("ipc://{}", sb.path().join("pub.sock").display());
        let mut c = tool(sb, "qsnap");
        c.arg("--store")
            .arg(store(sb))
            .args(["serve", "--rep", &rep, "--pub", &publish])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("qsnap serve");
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let end = Instant::now() + DEADLINE;
        loop {
            match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("qsnap: serving") => break,
                Ok(_) => {}
                Err(_) => panic!("qsnap serve did not start"),
            }
        }
        Service { child, rep }
    }

    fn stop(mut self) {
        // SAFETY: kill has no memory effects.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bus_watcher(sb: &Sandbox, svc: &Service, args: &[&str]) -> Watcher {
    let mut c = tool(sb, "qwatch");
    c.args(["--bus", &svc.rep]).args(args);
    Watcher(c.spawn().expect("qwatch"))
}

#[test]
fn bus_a_watcher_started_after_the_first_event_catches_up_then_follows() {
    let sb = Sandbox::new();
    put(&sb, "raw", 0);
    let svc = Service::start(&sb);
    // Announced to nobody: the watcher is not there yet.
    let first = put(&sb, "raw", 1);
    let seen = sb.path().join("seen");
    let state = sb.path().join("cp");
    let script = r#"echo "$QWATCH_COMMIT $QWATCH_SEQ" >> "$0""#;
    let _w = bus_watcher(
        &sb,
        &svc,
        &[
            "--state",
            state.to_str().unwrap(),
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            script,
            seen.to_str().unwrap(),
        ],
    );
    wait_for("the catch-up run", || lines(&seen).len() == 1);
    // The service announced one put (the one made after it started), so
    // the heads reply is at sequence 1.
    assert_eq!(lines(&seen), [format!("{first} 1")]);
    let second = put(&sb, "raw", 2);
    wait_for("the run on the event", || lines(&seen).len() == 2);
    assert_eq!(lines(&seen)[1], format!("{second} 2"));
    assert_eq!(head(&sb, "t", "raw").as_deref(), Some(&*second));
    wait_for("the checkpoint", || {
        checkpoint(&state, "raw").as_deref() == Some(&*second)
    });
}

#[test]
fn bus_a_service_restart_is_a_new_epoch_and_puts_made_meanwhile_are_caught_up() {
    let sb = Sandbox::new();
    put(&sb, "raw", 0);
    let svc = Service::start(&sb);
    let seen = sb.path().join("seen");
    let script = r#"echo "$QWATCH_COMMIT $QWATCH_EPOCH" >> "$0""#;
    let mut w = bus_watcher(
        &sb,
        &svc,
        &[
            "-v",
            "t",
            "raw",
            "--",
            "sh",
            "-c",
            script,
            seen.to_str().unwrap(),
        ],
    );
    wait_for("the catch-up run", || lines(&seen).len() == 1);
    let old_epoch = lines(&seen)[0]
        .split(' ')
        .nth(1)
        .map(str::to_owned)
        .expect("epoch");
    svc.stop();
    // Nobody announces this one.
    let meanwhile = put(&sb, "raw", 1);
    let svc = Service::start(&sb);
    wait_for("the run after the restart", || lines(&seen).len() == 2);
    let (commit, epoch) = lines(&seen)[1]
        .split_once(' ')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .expect("line");
    assert_eq!(commit, meanwhile);
    assert_ne!(epoch, old_epoch);
    let last = put(&sb, "raw", 2);
    wait_for("the run on the new service's event", || {
        lines(&seen).len() == 3
    });
    assert!(lines(&seen)[2].starts_with(&last));
    assert_eq!(head(&sb, "t", "raw"), Some(last));
    assert_eq!(w.0.try_wait().expect("wait"), None);
    drop(svc);
}

#[test]
fn bus_a_service_not_there_yet_is_waited_for_and_said_once() {
    let sb = Sandbox::new();
    let first = put(&sb, "raw", 1);
    let seen = sb.path().join("seen");
    let rep = format!("ipc://{}", sb.path().join("rep.sock").display());
    let mut c = tool(&sb, "qwatch");
    c.args([
        "--bus",
        &rep,
        "t",
        "raw",
        "--",
        "sh",
        "-c",
        APPEND,
        seen.to_str().unwrap(),
    ])
    .stderr(Stdio::piped());
    let mut w = Watcher(c.spawn().expect("qwatch"));
    let (tx, rx) = std::sync::mpsc::channel();
    let pipe = w.0.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut err = String::new();
    // The service starts only once qwatch has found it away.
    let end = Instant::now() + DEADLINE;
    while !err.contains("retrying until it answers") {
        let line = rx
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .expect("qwatch says the service is away");
        err.push_str(&line);
        err.push('\n');
    }
    let svc = Service::start(&sb);
    wait_for("the catch-up run", || lines(&seen).len() == 1);
    assert_eq!(lines(&seen), std::slice::from_ref(&first));
    w.signal(libc::SIGTERM);
    assert_eq!(w.exit_code(), Some(130));
    drop(svc);
    err.extend(rx.iter().map(|l| l + "\n"));
    assert_eq!(err.matches("retrying until it answers").count(), 1, "{err}");
    assert!(err.contains("answers again"), "{err}");
}

#[test]
fn bus_a_failed_command_is_published_on_app_errors() {
    let sb = Sandbox::new();
    put(&sb, "raw", 0);
    let svc = Service::start(&sb);
    let publish = format!("ipc://{}", sb.path().join("pub.sock").display());
    let mut sub = qplan::bus::Subscriber::connect(&publish, ["t errors"]).expect("subscribe");
    // Wait until the subscription is in place: a heartbeat arrives.
    let end = Instant::now() + DEADLINE;
    while !matches!(
        sub.recv(Duration::from_millis(100)),
        Ok(Some(qplan::bus::Message::Heartbeat(_)))
    ) {
        assert!(Instant::now() < end, "no heartbeat");
    }
    let _w = bus_watcher(
        &sb,
        &svc,
        &["t", "raw", "--", "sh", "-c", "echo broken >&2; exit 4"],
    );
    let end = Instant::now() + DEADLINE;
    let text = loop {
        assert!(Instant::now() < end, "no failure published");
        if let Ok(Some(qplan::bus::Message::Error { app, text })) =
            sub.recv(Duration::from_millis(100))
        {
            assert_eq!(app, "t");
            break text;
        }
    };
    assert!(
        text.contains("exit status 4") && text.contains("broken"),
        "{text}"
    );
}

#[test]
fn bus_the_fixture_chain_runs_through_the_service() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb);
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut c = tool(&sb, "qwatch");
    c.current_dir(top)
        .env("QSNAP_REPO", store(&sb))
        .args(["--bus", &svc.rep, "--config"])
        .arg(top.join("fixtures/quarter/chain.toml"))
        .stdout(Stdio::null());
    let _w = Watcher(c.spawn().expect("qwatch"));
    let mut p = tool(&sb, "qsnap");
    p.arg("--store")
        .arg(store(&sb))
        .args(["put", "qplan", "raw"])
        .arg(top.join("fixtures/quarter/raw.txt"));
    let raw = String::from_utf8(p.output().expect("put raw").stdout).expect("utf8");
    wait_for("the results", || head(&sb, "qplan", "results").is_some());
    let conditioned = head(&sb, "qplan", "conditioned").expect("conditioned");
    // The checkpoints are kept in the store named by QSNAP_REPO.
    let is_checkpoint = |p: &std::path::Path| p.extension().is_some_and(|e| e == "checkpoint");
    let cps: Vec<String> = std::fs::read_dir(store(&sb).join("qwatch"))
        .expect("checkpoints")
        .map(|e| e.expect("entry").path())
        .filter(|p| is_checkpoint(p))
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect();
    wait_for("both checkpoints", || {
        let all: String = std::fs::read_dir(store(&sb).join("qwatch"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| is_checkpoint(&e.path()))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        all.contains(raw.trim()) && all.contains(&conditioned)
    });
    assert!(cps.len() <= 2);
    assert_eq!(head(&sb, "qplan", "raw").as_deref(), Some(raw.trim()));
}

/// The same burst through the bus: nng drops events of a 1,000-put burst
/// (a full subscriber queue), and whatever is lost, the run after the
/// gate is on the store's head (a gap or a heartbeat makes qwatch ask).
#[test]
fn bus_a_burst_of_1000_puts_ends_on_the_head_whatever_events_were_lost() {
    let sb = Sandbox::new();
    let seen = sb.path().join("seen");
    let first = put(&sb, "raw", 0);
    let svc = Service::start(&sb);
    let script =
        r#"touch started; while [ ! -e gate ]; do sleep 0.01; done; echo "$QWATCH_COMMIT" >> "$0""#;
    let _w = bus_watcher(
        &sb,
        &svc,
        &["t", "raw", "--", "sh", "-c", script, seen.to_str().unwrap()],
    );
    wait_for("the catch-up run", || sb.path().join("started").exists());
    let out = Process::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "qwatch::burst_putter",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("QWATCH_TEST_BURST", store(&sb))
        .env("QSNAP_FSYNC", "0")
        .output()
        .expect("burst");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1000 puts"));
    let last = head(&sb, "t", "raw").expect("head");
    sb.write("gate", "");
    wait_for("the run on the last put", || {
        lines(&seen).last() == Some(&last)
    });
    // The catch-up, then at most a few runs: the events that arrived
    // while the first run waited are one rerun; at most a late heartbeat
    // or resync adds another.
    let runs = lines(&seen);
    assert_eq!(runs[0], first);
    assert!(runs.len() <= 3, "{} runs for 1,000 puts", runs.len());
}

/// `qwatch --bus URL --once` with no service there exited 0 after saying
/// "retrying until it answers": a cron job would report success having
/// watched nothing. Once means one look: an absent service is a failure
/// (69 or 75), and no command runs.
#[test]
fn once_over_the_bus_with_no_service_fails() {
    let sb = Sandbox::new();
    let ran = sb.path().join("ran");
    let url = format!("ipc://{}", sb.path().join("nobody.sock").display());
    let out = tool(&sb, "qwatch")
        .args(["--bus", &url, "--once", "t", "raw", "--", "sh", "-c"])
        .arg(format!("touch {}", ran.display()))
        .output()
        .expect("qwatch --once");
    let code = out.status.code();
    assert!(
        matches!(code, Some(69) | Some(75)),
        "exit {code:?}, stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!ran.exists(), "the command ran with no service");
    assert!(out.stdout.is_empty());
}

/// Issue 22: an idle watcher has no timer to notice a signal by (with
/// `--store` it sleeps in poll(2) until the kernel or the signal pipe
/// wakes it; with `--bus`, between heartbeats): SIGTERM still ends it,
/// with 130 and its checkpoint kept.
#[test]
fn an_idle_watcher_stops_on_sigterm_store_and_bus() {
    let sb = Sandbox::new();
    let out = sb.path().join("out");
    put(&sb, "raw", 1);
    let svc = Service::start(&sb);
    let cp_store = sb.path().join("cp-store");
    let cp_bus = sb.path().join("cp-bus");
    let mut watchers = [
        Watcher::start(
            &sb,
            &[
                "--state",
                cp_store.to_str().unwrap(),
                "t",
                "raw",
                "--",
                "sh",
                "-c",
                APPEND,
                out.to_str().unwrap(),
            ],
        ),
        bus_watcher(
            &sb,
            &svc,
            &[
                "--state",
                cp_bus.to_str().unwrap(),
                "t",
                "raw",
                "--",
                "sh",
                "-c",
                APPEND,
                out.to_str().unwrap(),
            ],
        ),
    ];
    wait_for("both catch-ups", || lines(&out).len() == 2);
    wait_for("both checkpoints", || {
        checkpoint(&cp_store, "raw").is_some() && checkpoint(&cp_bus, "raw").is_some()
    });
    for w in &mut watchers {
        w.signal(libc::SIGTERM);
        assert_eq!(w.exit_code(), Some(130));
    }
    svc.stop();
}
