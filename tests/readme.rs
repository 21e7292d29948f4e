//! The examples users read are run, so that they cannot rot (issue 19):
//! every shell block of README.md and the EXAMPLES of every man page
//! (`doc/man/*.md`), each in a fresh temp dir with copies of `examples/`
//! and `fixtures/` at hand, the built commands first on PATH, HOME and the
//! XDG directories inside the temp dir, and a throwaway store (QSNAP_REPO)
//! already holding the fixture quarter's raw, conditioned and results
//! versions, as after the README's walk-through.
//!
//! A README block is a fenced block whose info string is `sh` (a script:
//! run with bash `-e -o pipefail`, every command must succeed) or `console`
//! (a transcript: the `$ ` lines are run one by one; `$ echo $?` followed
//! by a number checks the status of the command before it, and an output
//! line `...` stands for any lines). Blocks of other kinds (toml,
//! crontab, output alone) are not run. An HTML comment just before a
//! block changes what is done with it:
//!
//! - `<!-- test: skip REASON -->`: not run; the test says so on stderr
//!   with the reason (servers that run until stopped, the network, make).
//! - `<!-- test: output -->` (console): the output shown must be the
//!   output given, line for line (`...` for any lines).
//! - `<!-- test: empty-store -->`: the store starts empty.
//! - `<!-- test: sources -->`: a qpull sources file (toml in the README,
//!   indented in a man page): read with qpull's own reader, which must take
//!   it.
//! - `<!-- test: every -->`: the `qwatch --every` recipe, which runs until
//!   stopped: run by its own test, stopped once its first pull landed.
//!
//! The crontab block (info string `crontab`) is run by its own test too,
//! under `env -i` with only what cron gives a job, against a local fake of
//! the sources of the README's sources file.
//!
//! A man page's EXAMPLES are its indented blocks under `## EXAMPLES`, run
//! as `sh` blocks, marked as README blocks are (the comment does not show
//! in the rendered page).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A block of shell to run, and where it came from.
#[derive(Debug, Clone)]
pub struct Block {
    /// `README.md:123`: where the block starts, for messages.
    pub origin: String,
    /// `sh` or `console`.
    pub kind: String,
    pub text: String,
    /// The words after `test:` in the HTML comment before the block.
    pub mark: Option<String>,
}

/// The fenced blocks of a Markdown text, with the mark before each.
pub fn fenced_blocks(file: &str, md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    let mut mark: Option<String> = None;
    while i < lines.len() {
        let line = lines[i];
        if let Some(info) = line.strip_prefix("```") {
            let start = i + 1;
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].starts_with("```") {
                body.push(lines[i]);
                i += 1;
            }
            out.push(Block {
                origin: format!("{file}:{start}"),
                kind: info.trim().to_owned(),
                text: body.join("\n") + "\n",
                mark: mark.take(),
            });
        } else if let Some(rest) = line.trim().strip_prefix("<!-- test:") {
            mark = Some(rest.trim_end_matches("-->").trim().to_owned());
        } else if !line.trim().is_empty() {
            mark = None;
        }
        i += 1;
    }
    out
}

/// The indented blocks under `## EXAMPLES` of a man page's Markdown, with
/// the mark of an HTML comment before each, as in the README.
pub fn man_examples(file: &str, md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let Some(at) = md.find("## EXAMPLES") else {
        return out;
    };
    let first_line = md[..at].lines().count() + 1;
    let section = &md[at..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut current: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut mark: Option<String> = None;
    let mut block_mark: Option<String> = None;
    let mut flush = |current: &mut Vec<&str>, start: usize, mark: Option<String>| {
        if !current.is_empty() {
            out.push(Block {
                origin: format!("{file}:{start}"),
                kind: "sh".into(),
                text: current.join("\n") + "\n",
                mark,
            });
            current.clear();
        }
    };
    for (n, line) in section[..end].lines().enumerate() {
        if let Some(code) = line.strip_prefix("    ") {
            if current.is_empty() {
                start = first_line + n;
                block_mark = mark.take();
            }
            current.push(code);
        } else if line.trim().is_empty() {
            continue;
        } else {
            flush(&mut current, start, block_mark.take());
            mark = line
                .trim()
                .strip_prefix("<!-- test:")
                .map(|r| r.trim_end_matches("-->").trim().to_owned());
        }
    }
    flush(&mut current, start, block_mark.take());
    out
}

/// The directory of the built commands.
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_qplan"))
        .parent()
        .expect("bin dir")
        .to_owned()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A fresh place to run an example: `examples/` and `fixtures/` copied,
/// HOME, XDG directories and the store inside it.
pub struct Place {
    pub dir: tempfile::TempDir,
}

impl Place {
    pub fn new(filled: bool) -> Place {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path();
        copy_dir(&root().join("examples"), &p.join("examples"));
        copy_dir(&root().join("fixtures"), &p.join("fixtures"));
        std::fs::create_dir_all(p.join("home")).expect("home");
        let place = Place { dir };
        if filled {
            let fill =
                "qsnap put qplan raw fixtures/quarter/raw.txt -m \"the fixture team's sheets\"
qsnap get qplan raw | qcondition --map fixtures/quarter/map.toml | qsnap put qplan conditioned
qsnap get qplan conditioned | qplan | qsnap put qplan results -m 'plan of the fixture quarter'
";
            let out = place.run_script(fill, Duration::from_secs(60));
            assert!(out.status == Some(0), "filling the store: {}", out.stderr);
        }
        place
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command with the example's environment: nothing of the caller's
    /// but PATH (behind the built commands), LANG and TMPDIR.
    pub fn command(&self, program: &str) -> Command {
        let p = self.path();
        let mut c = Command::new(program);
        c.current_dir(p).env_clear();
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        c.env("PATH", format!("{}:{path}", bin_dir().display()))
            .env("HOME", p.join("home"))
            .env("XDG_DATA_HOME", p.join("home/.local/share"))
            .env("XDG_STATE_HOME", p.join("home/.local/state"))
            .env("XDG_CONFIG_HOME", p.join("home/.config"))
            // The default store's place: `~/.local/share/qsnap` in an
            // example is this throwaway store too.
            .env("QSNAP_REPO", p.join("home/.local/share/qsnap"))
            .env("QSNAP_FSYNC", "0")
            .env("TMPDIR", p)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        c
    }

    /// Runs a bash script (`-e -o pipefail`) to its end or the deadline.
    pub fn run_script(&self, script: &str, limit: Duration) -> Ran {
        let mut c = self.command("bash");
        c.args(["-e", "-o", "pipefail", "-c", script]);
        run(c, limit)
    }
}

/// How a run ended: the exit status (None: killed at the deadline or by a
/// signal) and what it wrote.
pub struct Ran {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command in its own process group, killed (the whole group) if
/// it is still running at the deadline.
pub fn run(mut c: Command, limit: Duration) -> Ran {
    use std::os::unix::process::CommandExt;
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = c.spawn().expect("spawn");
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = so.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = se.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st.code();
        }
        if Instant::now() > deadline {
            // The whole group: a block may have started servers.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    Ran {
        status,
        stdout,
        stderr,
    }
}

/// Whether `got` is `want` line for line, a `...` line in `want` standing
/// for any number of lines.
fn matches_shown(want: &[&str], got: &[&str]) -> bool {
    match want.split_first() {
        None => got.is_empty(),
        Some((w, rest)) if w.trim() == "..." => {
            (0..=got.len()).any(|skip| matches_shown(rest, &got[skip..]))
        }
        Some((w, rest)) => {
            !got.is_empty() && got[0].trim_end() == w.trim_end() && matches_shown(rest, &got[1..])
        }
    }
}

/// Runs one block; an error says what went wrong.
fn run_block(block: &Block) -> Result<(), String> {
    let mark = block.mark.as_deref().unwrap_or("");
    let place = Place::new(mark != "empty-store");
    let limit = Duration::from_secs(60);
    match block.kind.as_str() {
        "sh" => {
            let ran = place.run_script(&block.text, limit);
            if ran.status.is_none() {
                return Err(format!(
                    "still running after {} s, killed: a server or a watcher? Mark the block \
                     `<!-- test: skip REASON -->` (and test it elsewhere)\n--- stderr\n{}",
                    limit.as_secs(),
                    ran.stderr
                ));
            }
            if ran.status != Some(0) {
                return Err(format!(
                    "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
                    ran.status, ran.stdout, ran.stderr
                ));
            }
        }
        "console" => {
            // Commands and the lines shown after each.
            let mut steps: Vec<(String, Vec<&str>)> = Vec::new();
            for line in block.text.lines() {
                if let Some(cmd) = line.strip_prefix("$ ") {
                    steps.push((cmd.to_owned(), Vec::new()));
                } else if let Some(last) = steps.last_mut() {
                    last.1.push(line);
                }
            }
            let mut last_status = None;
            for (cmd, shown) in &steps {
                if cmd == "echo $?" {
                    let want: i32 = shown
                        .first()
                        .and_then(|s| s.trim().parse().ok())
                        .ok_or("`$ echo $?` without a number after it")?;
                    if last_status != Some(want) {
                        return Err(format!(
                            "the command before `echo $?` exited {last_status:?}, the README shows {want}"
                        ));
                    }
                    continue;
                }
                // Each command alone: its status is the pipeline's, as in
                // an interactive shell without pipefail.
                let mut c = place.command("bash");
                c.args(["-c", cmd]);
                let ran = run(c, limit);
                last_status = ran.status;
                let expects_failure = shown
                    .iter()
                    .any(|l| l.starts_with(&format!("{}:", cmd.split(' ').next().unwrap_or(""))));
                if ran.status != Some(0) && !expects_failure {
                    return Err(format!(
                        "`{cmd}` exited {:?}\n--- stderr\n{}",
                        ran.status, ran.stderr
                    ));
                }
                if mark == "output" {
                    let all = format!("{}{}", ran.stdout, ran.stderr);
                    let got: Vec<&str> = all.lines().collect();
                    if !matches_shown(shown, &got) {
                        return Err(format!(
                            "`{cmd}`: the output differs from the README's\n--- shown\n{}\n--- got\n{all}",
                            shown.join("\n")
                        ));
                    }
                }
            }
        }
        other => return Err(format!("not a kind of block that runs: {other}")),
    }
    Ok(())
}

/// A sources file shown in the docs is one qpull takes: every key known,
/// every value of the right type (read by qpull's own reader; variables
/// and `${file:~/...}` secrets are given stand-ins).
fn check_sources_file(text: &str) -> Result<(), String> {
    let home = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = home.path().join(".config/qplan");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("jira"), "a-stand-in-token\n").map_err(|e| e.to_string())?;
    let h = home.path().to_string_lossy().into_owned();
    let env = |k: &str| {
        Some(if k == "HOME" {
            h.clone()
        } else {
            format!("{k}-value")
        })
    };
    let mut secrets = qplan::sources::redact::Secrets::default();
    qplan::sources::config::sources(Some((text, "the example")), &[], &[], &mut secrets, &env)
        .map(|_| ())
        .map_err(|e| format!("qpull refuses it: {e}"))
}

/// Runs the blocks that are to run, skipping the marked ones loudly; one
/// failure message per failed block.
fn run_all(blocks: &[Block]) -> (usize, Vec<String>) {
    let mut ran = 0;
    let mut failures = Vec::new();
    for b in blocks {
        if let Some(reason) = b.mark.as_deref().and_then(|m| m.strip_prefix("skip")) {
            eprintln!("SKIPPED example {}: {}", b.origin, reason.trim());
            continue;
        }
        if b.mark.as_deref() == Some("sources") {
            ran += 1;
            if let Err(e) = check_sources_file(&b.text) {
                failures.push(format!("{}:\n{}\n{e}", b.origin, b.text));
            }
            continue;
        }
        if b.mark.as_deref() == Some("every") {
            eprintln!(
                "example {}: runs until stopped; run by the_qwatch_every_recipe_pulls_at_start",
                b.origin
            );
            continue;
        }
        if b.kind != "sh" && b.kind != "console" {
            continue;
        }
        ran += 1;
        if let Err(e) = run_block(b) {
            failures.push(format!("{}:\n{}\n{e}", b.origin, b.text));
        }
    }
    (ran, failures)
}

#[test]
fn every_readme_example_runs() {
    let md = std::fs::read_to_string(root().join("README.md")).expect("README");
    let blocks = fenced_blocks("README.md", &md);
    let (ran, failures) = run_all(&blocks);
    assert!(ran >= 15, "only {ran} README blocks ran");
    assert!(
        failures.is_empty(),
        "{} README examples fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_man_page_example_runs() {
    let mut blocks = Vec::new();
    let mut pages = 0;
    for dir in ["doc/man", "doc/man5"] {
        for entry in std::fs::read_dir(root().join(dir)).expect(dir) {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "md") {
                let md = std::fs::read_to_string(&path).expect("man page text");
                let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
                let found = man_examples(&name, &md);
                pages += usize::from(!found.is_empty());
                blocks.extend(found);
            }
        }
    }
    // Every tool's page and every format's has examples.
    assert!(pages >= 10, "only {pages} man pages have EXAMPLES");
    let (ran, failures) = run_all(&blocks);
    assert!(ran >= 15, "only {ran} man page examples ran");
    assert!(
        failures.is_empty(),
        "{} man page examples fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The readers of blocks themselves: what is a block, what is its mark.
#[test]
fn blocks_and_marks_are_read_as_documented() {
    let md = "text\n\n<!-- test: skip a server -->\n```sh\nqsnap serve\n```\n\n```console\n$ qplan x\n```\n<!-- test: output -->\nmore text\n```toml\na = 1\n```\n";
    let b = fenced_blocks("R", md);
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].mark.as_deref(), Some("skip a server"));
    assert_eq!(b[0].text, "qsnap serve\n");
    assert_eq!(b[0].origin, "R:4");
    assert_eq!(
        (b[1].kind.as_str(), b[1].mark.as_deref()),
        ("console", None)
    );
    // A mark is for the block right after it, not one further down.
    assert_eq!((b[2].kind.as_str(), b[2].mark.as_deref()), ("toml", None));
    let man = "## EXAMPLES\n\nOne:\n\n    a\n    b\n\nTwo:\n\n<!-- test: skip needs x -->\n\n    c\n\n## SEE ALSO\n\n    d\n";
    let m = man_examples("M", man);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].text, "a\nb\n");
    assert_eq!(m[0].origin, "M:5");
    assert_eq!(m[1].mark.as_deref(), Some("skip needs x"));
    assert_eq!(m[1].text, "c\n");
    assert!(matches_shown(&["a", "...", "z"], &["a", "b", "c", "z"]));
    assert!(matches_shown(&["a", "..."], &["a"]));
    assert!(!matches_shown(&["a", "z"], &["a", "b", "z"]));
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README")
}

/// The one README block of a kind, or with a mark.
fn the_block(pick: impl Fn(&Block) -> bool, what: &str) -> Block {
    let blocks: Vec<Block> = fenced_blocks("README.md", &readme())
        .into_iter()
        .filter(|b| pick(b))
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "README: one {what} block, not {}",
        blocks.len()
    );
    blocks[0].clone()
}

/// The versions of `qplan raw` in a store, newest first.
fn raw_versions(place: &Place, store: &Path) -> Vec<serde_json::Value> {
    let mut c = place.command("qsnap");
    c.env("QSNAP_REPO", store)
        .args(["log", "--format", "json", "qplan", "raw"]);
    let ran = run(c, Duration::from_secs(30));
    if ran.status != Some(0) {
        return Vec::new();
    }
    serde_json::from_str::<Vec<serde_json::Value>>(&ran.stdout).expect("log json")
}

/// The JIRA user of the README's sources file.
const USER: &str = "ana@example.com";

/// A fake of the README's sources: the sheet's CSV export, and a JIRA
/// (Server) whose search answers only to the README's user with the token
/// of the secret file. `fail` makes the sheet answer 404.
struct FakeSources {
    base: String,
    server: std::sync::Arc<tiny_http::Server>,
    fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
    authorized: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for FakeSources {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn fake_sources(token: &'static str) -> FakeSources {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
    let port = server.server_addr().to_ip().expect("ip").port();
    let fail = Arc::new(AtomicBool::new(false));
    let authorized = Arc::new(AtomicUsize::new(0));
    let (s, f, a) = (server.clone(), fail.clone(), authorized.clone());
    let staff = std::fs::read_to_string(root().join("examples/staff.csv")).expect("staff");
    // The README's `user` and the file's token, as Basic auth.
    let basic = {
        use base64::Engine;
        let pair = format!("{USER}:{token}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    std::thread::spawn(move || {
        for req in s.incoming_requests() {
            let url = req.url().to_owned();
            let auth = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"))
                .map(|h| h.value.to_string());
            let (status, body) = if url.starts_with("/spreadsheets/d/SHEET/export") {
                if f.load(Ordering::SeqCst) {
                    (404, "gone".to_owned())
                } else {
                    (200, staff.clone())
                }
            } else if url.starts_with("/rest/api/2/serverInfo") {
                (200, r#"{"deploymentType": "Server"}"#.to_owned())
            } else if url.starts_with("/rest/api/2/search") {
                if auth.as_deref() == Some(&basic) {
                    a.fetch_add(1, Ordering::SeqCst);
                    (
                        200,
                        r#"{"startAt": 0, "maxResults": 100, "total": 2, "issues": [
                            {"key": "MOB-1", "fields": {"summary": "Login rewrite"}},
                            {"key": "MOB-2", "fields": {"summary": "Dark mode"}}]}"#
                            .to_owned(),
                    )
                } else {
                    (401, "no".to_owned())
                }
            } else {
                (404, "no such page".to_owned())
            };
            let _ = req.respond(tiny_http::Response::from_string(body).with_status_code(status));
        }
    });
    FakeSources {
        base: format!("http://127.0.0.1:{port}"),
        server,
        fail,
        authorized,
    }
}

/// The README's crontab entry, run as cron runs it: `/bin/sh -c` in HOME,
/// under `env -i` with only what cron sets (HOME, LOGNAME, SHELL=/bin/sh,
/// PATH=/usr/bin:/bin) and the entry's own variable lines, the install
/// prefix's bin being where this test's commands are. The sources file is
/// the README's, pointed at a local fake; the JIRA token is read from its
/// file. Quiet when all is well and when nothing changed; loud and
/// non-zero when a source fails, with nothing stored (issue 19).
#[test]
fn the_readme_crontab_works_under_crons_environment() {
    let cron = the_block(|b| b.kind == "crontab", "crontab");
    let mut vars: Vec<(String, String)> = vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("SHELL".into(), "/bin/sh".into()),
        ("LOGNAME".into(), "qplan".into()),
    ];
    let mut jobs = Vec::new();
    for line in cron
        .text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((k, v)) = first.split_once('=').filter(|_| !line.contains(' ')) {
            vars.retain(|(n, _)| n != k);
            vars.push((k.to_owned(), v.to_owned()));
        } else {
            let fields: Vec<&str> = line.splitn(6, ' ').collect();
            assert_eq!(fields.len(), 6, "a crontab job line: {line}");
            assert_eq!(fields[..5].join(" "), "*/15 * * * *");
            jobs.push(fields[5].to_owned());
        }
    }
    assert_eq!(jobs.len(), 1, "{}", cron.text);
    let path = &mut vars.iter_mut().find(|(k, _)| k == "PATH").expect("PATH").1;
    assert!(path.contains("/usr/local/bin"), "the entry's PATH: {path}");
    *path = path.replace("/usr/local/bin", &bin_dir().to_string_lossy());

    let token = "tok-7f3a-from-the-file";
    let fake = fake_sources(token);
    let place = Place::new(false);
    let home = place.path().join("home");
    let config_dir = home.join(".config/qplan");
    std::fs::create_dir_all(&config_dir).unwrap();
    // The README's sources file, its hosts and file made local.
    let toml = the_block(
        |b| b.kind == "toml" && b.text.starts_with("# ~/.config/qplan/sources.toml"),
        "sources file",
    )
    .text;
    let holidays = home.join("holidays.csv");
    std::fs::copy(root().join("examples/holidays.csv"), &holidays).unwrap();
    let mut local = toml.clone();
    for (from, to) in [
        ("https://docs.google.com", fake.base.clone()),
        ("https://acme.atlassian.net", fake.base.clone()),
        (
            "/srv/plan/holidays.csv",
            holidays.to_string_lossy().into_owned(),
        ),
    ] {
        assert!(
            local.contains(from),
            "the README's sources file lacks {from}"
        );
        local = local.replace(from, &to);
    }
    assert!(
        local.contains("token = \"${file:~/.config/qplan/jira}\""),
        "the token comes from its file"
    );
    assert!(local.contains(&format!("user = \"{USER}\"")));
    std::fs::write(config_dir.join("sources.toml"), local).unwrap();
    std::fs::write(config_dir.join("jira"), format!("{token}\n")).unwrap();

    let cron_run = || {
        let mut c = Command::new("env");
        c.arg("-i")
            .arg(format!("HOME={}", home.display()))
            .args(vars.iter().map(|(k, v)| format!("{k}={v}")))
            .args(["/bin/sh", "-c", &jobs[0]])
            .current_dir(&home)
            .stdin(Stdio::null());
        run(c, Duration::from_secs(60))
    };
    let store = home.join(".local/share/qsnap");

    let first = cron_run();
    assert_eq!(first.status, Some(0), "{}", first.stderr);
    assert_eq!((first.stdout.as_str(), first.stderr.as_str()), ("", ""));
    assert_eq!(raw_versions(&place, &store).len(), 1);
    assert_eq!(
        fake.authorized.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "JIRA was asked with the file's token"
    );

    // Nothing changed: no version, and not a word (cron would mail it).
    let again = cron_run();
    assert_eq!(again.status, Some(0), "{}", again.stderr);
    assert_eq!((again.stdout.as_str(), again.stderr.as_str()), ("", ""));
    assert_eq!(raw_versions(&place, &store).len(), 1);

    // A source fails: loud, non-zero, nothing stored.
    fake.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = cron_run();
    assert_ne!(failed.status, Some(0));
    assert!(failed.stderr.contains("qpull: "), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("nothing stored"),
        "{}",
        failed.stderr
    );
    assert!(!failed.stderr.contains(token), "{}", failed.stderr);
    assert_eq!(raw_versions(&place, &store).len(), 1);
}

/// The README's `qwatch --every` recipe, run as written (its sources file
/// being the fixture team's sheets): its first pull, at start, lands in
/// the store it names; then it is stopped.
#[test]
fn the_qwatch_every_recipe_pulls_at_start() {
    let every = the_block(|b| b.mark.as_deref() == Some("every"), "qwatch --every");
    assert!(every.text.starts_with("qwatch ") && every.text.contains("--every 15m"));
    let place = Place::new(false);
    let config_dir = place.path().join("home/.config/qplan");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::copy(
        root().join("examples/sources.toml"),
        config_dir.join("sources.toml"),
    )
    .unwrap();
    let store = place.path().join("home/.local/share/qsnap");
    use std::os::unix::process::CommandExt;
    let mut c = place.command("bash");
    c.args(["-c", &format!("exec {}", every.text.trim())])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = c.spawn().expect("spawn qwatch");
    let deadline = Instant::now() + Duration::from_secs(60);
    let landed = loop {
        if !raw_versions(&place, &store).is_empty() {
            break true;
        }
        if Instant::now() > deadline || child.try_wait().expect("wait").is_some() {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status();
    let out = child.wait_with_output().expect("qwatch output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        landed,
        "no version of qplan raw in {}: {stderr}",
        store.display()
    );
    assert!(!stderr.contains("failed"), "{stderr}");
    // SIGTERM: qwatch stops cleanly (130, its checkpoints saved).
    assert_eq!(out.status.code(), Some(130), "{stderr}");
}

/// `make demo` then `make up` as the README walks them (issue 19: the
/// first put after the demo said "unchanged" and nothing visibly
/// happened): make up says what runs and what to try, the put it suggests
/// is new data, and the chain's log shows each stage run and done. Run in
/// a copy of the Makefile, fixtures and examples, with this test's
/// commands (`-o build`: no cargo build from make).
#[test]
fn make_demo_then_make_up_shows_the_chain_at_work() {
    let place = Place::new(false);
    let p = place.path();
    std::fs::copy(root().join("Makefile"), p.join("Makefile")).unwrap();
    let make = |target: &str| {
        let mut c = place.command("make");
        c.args([
            "--no-print-directory",
            "-o",
            "build",
            "-o",
            "build-deps",
            target,
        ])
        .arg(format!("RELEASE={}", bin_dir().display()))
        .arg("CARGO=/nonexistent/cargo")
        .env_remove("QSNAP_REPO");
        run(c, Duration::from_secs(120))
    };
    let demo = make("demo");
    assert_eq!(demo.status, Some(0), "make demo: {}", demo.stderr);
    assert!(demo.stdout.contains("== All =="), "{}", demo.stdout);
    let up = make("up");
    // Whatever happens next, what make up started is stopped.
    struct Down<'a>(&'a dyn Fn(&str) -> Ran);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            (self.0)("down");
        }
    }
    let _down = Down(&make);
    assert_eq!(up.status, Some(0), "make up: {}", up.stderr);
    for said in [
        "qsnap serve (pid",
        "demo-out/up/chain.log",
        "qsnap put qplan raw examples/raw-later.txt",
        "make down",
    ] {
        assert!(
            up.stdout.contains(said),
            "make up does not say {said}: {}",
            up.stdout
        );
    }
    // The put make up suggests, on the demo's store: new data, a commit.
    let store = p.join("demo-out/store");
    let mut put = place.command("qsnap");
    put.env("QSNAP_REPO", &store)
        .args(["put", "qplan", "raw", "examples/raw-later.txt"]);
    let put = run(put, Duration::from_secs(30));
    assert_eq!(put.status, Some(0), "{}", put.stderr);
    let raw = put.stdout.trim().to_owned();
    assert_eq!(raw.len(), 40, "a new commit, not unchanged: {}", put.stdout);
    // The chain plans it: results whose provenance names that raw commit.
    let deadline = Instant::now() + Duration::from_secs(60);
    let planned = loop {
        let mut trace = place.command("qsnap");
        trace
            .env("QSNAP_REPO", &store)
            .args(["trace", "qplan", "results"]);
        let t = run(trace, Duration::from_secs(30));
        if t.stdout.contains(&raw[..12]) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(p.join("demo-out/up/chain.log")).unwrap_or_default();
    assert!(planned, "no results from {raw}; chain.log:\n{log}");
    let short = &raw[..12];
    assert!(
        log.contains(&format!("condition: qplan raw {short}: running"))
            && log.contains(&format!("condition: qplan raw {short}: done")),
        "chain.log:\n{log}"
    );
    assert!(log.contains("plan: qplan conditioned"), "chain.log:\n{log}");
}
