//! What every tool's tests share: running a tool in a fresh temp dir with a
//! clean environment, fixtures, and stdout compared with expected files.

#![allow(dead_code)] // Not every test module uses every helper.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// Environment variables the tools read; cleared so tests see only what
/// they set themselves.
const TOOL_VARS: &[&str] = &[
    "QSNAP_REPO",
    "XDG_DATA_HOME",
    "NO_COLOR",
    "QPULL_CONFIG",
    "JIRA_TOKEN",
    // Tests talk to 127.0.0.1 directly, never through a proxy.
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
];

/// Long enough for a debug build on a loaded two-core machine.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Polls `cond` until it holds; fails the test with `what` at the deadline.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + DEADLINE;
    while !cond() {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A test's own temporary directory, removed when the test ends.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A tool to run in this sandbox.
    pub fn cmd(&self, tool: &str) -> Command {
        let mut c = Command::cargo_bin(tool).expect("tool built");
        c.current_dir(self.path());
        for v in TOOL_VARS {
            c.env_remove(v);
        }
        c.env("HOME", self.path());
        c
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }
}

/// What a tool wrote with its stderr on a terminal.
pub struct OnTerminal {
    /// What the terminal got: the tool's stderr, progress bars and the
    /// codes that redraw them included.
    pub screen: String,
    /// Its stdout, sent to a file.
    pub stdout: Vec<u8>,
    pub code: i32,
}

impl Sandbox {
    /// Runs `tool ARGS` in this sandbox as from an interactive shell with
    /// `> FILE`: stdin and stderr on a pseudo-terminal (made by script(1)
    /// of util-linux, in every Debian), stdout to a file. Returns when the
    /// tool has ended; `envs` are set for it.
    pub fn on_terminal(&self, tool: &str, args: &[&str], envs: &[(&str, &str)]) -> OnTerminal {
        let bin = assert_cmd::cargo::cargo_bin(tool);
        let quote = |s: &str| shlex::try_quote(s).expect("no NUL").into_owned();
        let mut line = format!("exec {}", quote(bin.to_str().expect("UTF-8 path")));
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        line.push_str(" > .stdout-on-terminal");
        let mut c = std::process::Command::new("script");
        c.args(["-qec", &line, "/dev/null"])
            .current_dir(self.path())
            .stdin(std::process::Stdio::null());
        for v in TOOL_VARS {
            c.env_remove(v);
        }
        c.env("HOME", self.path()).env("TERM", "xterm");
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c
            .output()
            .expect("script(1) (util-linux) makes the pseudo-terminal");
        let file = self.path().join(".stdout-on-terminal");
        let stdout = std::fs::read(&file).expect("the tool's stdout");
        std::fs::remove_file(&file).expect("rm");
        OnTerminal {
            screen: String::from_utf8_lossy(&out.stdout).into_owned(),
            stdout,
            code: out.status.code().unwrap_or(-1),
        }
    }
}

/// Whether a terminal's screen shows a progress bar: its frame (`[`, the
/// bar, `] 3/5 unit (`) and an ETA.
pub fn shows_bar(screen: &str, counted: &str) -> bool {
    screen.contains(counted) && screen.contains("] ") && screen.contains("ETA")
}

/// A tool to run in a fresh sandbox (for tests that need no files).
pub fn cmd(tool: &str) -> Command {
    let sb = Sandbox::new();
    let c = sb.cmd(tool);
    // The directory must outlive the command; leaking it in a test is fine.
    std::mem::forget(sb);
    c
}

/// The path of a fixture file.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// The contents of a fixture file as text.
pub fn fixture_text(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// Runs every `<case>.in` under `fixtures/<tool>/` with the arguments in
/// `<case>.args` (one per line) and compares stdout with
/// `<case>.expected`. Returns the number of cases, so a test can assert
/// that it ran some.
pub fn run_fixture_cases(tool: &str) -> usize {
    let dir = fixture(tool);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "expected"))
        .collect();
    cases.sort();
    for expected in &cases {
        let case = expected.with_extension("");
        let args_file = case.with_extension("args");
        let args: Vec<String> = std::fs::read_to_string(&args_file)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        let input = std::fs::read(case.with_extension("in"))
            .unwrap_or_else(|e| panic!("{}.in: {e}", case.display()));
        let out = Sandbox::new()
            .cmd(tool)
            .args(&args)
            .write_stdin(input)
            .output()
            .expect("run tool");
        let want = std::fs::read_to_string(expected).expect("expected file");
        let got = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "case {}: exit {:?}, stderr: {}",
            case.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            got,
            want,
            "case {}: stdout differs from {}",
            case.display(),
            expected.display()
        );
    }
    cases.len()
}
