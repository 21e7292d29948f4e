//! Replicas of a store: `push`, `pull` and `clone` against another store
//! directory, a `file://` URL, or a network remote (`https://`, `ssh://`,
//! `user@host:path`).
//!
//! The transport is the `git` command, for every kind of remote, as cargo
//! does with `net.git-fetch-with-cli`: the libgit2 that git2 builds here has
//! no TLS and no ssh, and even one built with them would not read
//! `~/.ssh/config`, the ssh agent's keys the way `ssh` does, git's
//! credential helpers or `http.*` settings. Through `git`, a remote works
//! with qsnap exactly when `git push` works with it. Local paths go through
//! `git` too: one code path, the same fast-forward rules everywhere, and no
//! libgit2 transport reading a damaged replica (libgit2 loops forever on a
//! truncated object, see [`super::objects`]). The price is that push, pull
//! and clone need `git` installed (`make deps` installs it); every other
//! command still runs on libgit2 alone.
//!
//! - A push sends `main` and the tags, atomically (`--atomic`: all or
//!   nothing), never forced: a remote whose main has commits this store
//!   lacks, or a tag that names another commit there, is refused (65, the
//!   data disagree and a person must decide). Into a store directory it
//!   holds that store's lock, like a put.
//! - A pull fetches the replica's main and tags into
//!   `refs/qsnap/pull/<pid>/` (its own: cleared before and after, and what
//!   a killed pull left is cleared by the next), without the store's lock,
//!   so that puts go on during a slow transfer; then, under the lock, it
//!   moves main only forward and adds missing tags. A diverged main or a tag that
//!   names another commit changes nothing (65); local commits are never
//!   lost. Other refs (such as `refs/qsnap/checked/`) are left alone, here
//!   and on the replica.
//! - A clone is a pull into a new store made in a temporary directory
//!   beside its place and renamed there once complete.
//!
//! git never waits for a password nobody will type: when stdin is not a
//! terminal, git gets `GIT_TERMINAL_PROMPT=0` and ssh (unless the user chose
//! their own ssh command) `BatchMode=yes`. git's stderr is read while it
//! runs; its lines go into the error, with passwords in URLs hidden.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use git2::Oid;
use indicatif::ProgressBar;

use super::lock;
use super::objects::{git, MAIN};
use super::store::Store;
use crate::error::{Error, Location, Result};
use crate::sources::redact::{percent_decode, url_redact};

/// Where a pull stages what it fetched, before deciding under the lock.
const STAGING: &str = "refs/qsnap/pull/";

/// A replica, as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    spec: String,
    /// The store directory, for a path or a `file://` URL.
    local: Option<PathBuf>,
    /// Reached with ssh (`ssh://`, `user@host:path`).
    ssh: bool,
}

impl Remote {
    /// Reads a remote the way git does: `scheme://...` is a URL, `host:path`
    /// with no `/` before the colon is ssh, anything else a path.
    pub fn parse(spec: &str) -> Result<Remote> {
        if spec.is_empty() {
            return Err(Error::Usage("the remote is empty".into()));
        }
        if spec.starts_with('-') {
            // git would read it as an option.
            return Err(Error::Usage(format!(
                "{spec:?} is not a remote (a path starting with '-' needs ./ in front)"
            )));
        }
        if let Some(rest) = spec.strip_prefix("file://") {
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(Error::Usage(format!(
                    "{spec}: a file:// URL names an absolute path (file:///path)"
                )));
            }
            return Ok(Remote {
                spec: spec.to_owned(),
                local: Some(PathBuf::from(percent_decode(path))),
                ssh: false,
            });
        }
        if let Some((scheme, _)) = spec.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            return Ok(Remote {
                spec: spec.to_owned(),
                local: None,
                ssh: matches!(scheme.as_str(), "ssh" | "git+ssh" | "ssh+git"),
            });
        }
        let scp = spec
            .find(':')
            .is_some_and(|colon| !spec[..colon].contains('/') && colon > 0);
        Ok(Remote {
            spec: spec.to_owned(),
            local: (!scp).then(|| PathBuf::from(spec)),
            ssh: scp,
        })
    }

    /// The remote as shown in messages: a URL's password (and, over http,
    /// a user name, often a token) replaced by `***`.
    pub fn shown(&self) -> String {
        if !self.ssh || !self.spec.contains("://") {
            return url_redact(&self.spec);
        }
        // ssh://user:password@host/path: the user name is not a secret.
        let (scheme, rest) = self.spec.split_once("://").unwrap_or(("", &self.spec));
        let end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
                None => self.spec.clone(),
            },
            None => self.spec.clone(),
        }
    }

    /// The store directory when the remote is one on this machine.
    pub fn local(&self) -> Option<&Path> {
        self.local.as_deref()
    }

    /// A local remote that does not exist: the one thing worth saying
    /// before git says something vaguer.
    fn check_exists(&self, doing: &str) -> Result<()> {
        match &self.local {
            Some(p) if !p.exists() => Err(Error::Unavailable {
                what: self.shown(),
                message: format!("cannot {doing}: the path does not exist ({})", p.display()),
            }),
            _ => Ok(()),
        }
    }
}

/// What a run of git said.
struct Ran {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    /// Its stderr lines, passwords hidden.
    stderr: Vec<String>,
}

/// Runs `git --git-dir DIR ARGS... -- REMOTE REFSPECS...`, reading its
/// stderr while it runs (echoed as `qsnap: git: ...` when `echo`). When
/// `bar` is drawn (stderr is a terminal), git is asked for its progress
/// (`--progress`) and each of its phases (`Receiving objects`, `Writing
/// objects`...) moves the bar; otherwise git prints none, as before.
fn run_git(
    git_dir: &Path,
    remote: &Remote,
    args: &[&str],
    refspecs: &[String],
    echo: bool,
    bar: &ProgressBar,
) -> Result<Ran> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(git_dir);
    // No housekeeping in the store behind qsnap's back; what a pull
    // fetches (and a push writes into a store directory: `-c` reaches the
    // local receive-pack) flushed to disk before main moves, as a put is.
    cmd.args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"]);
    cmd.args(["-c", "core.fsync=committed"]);
    let progress = !bar.is_hidden();
    if progress {
        // `--quiet` would silence the progress asked for.
        cmd.args(args.iter().filter(|a| **a != "--quiet"));
        cmd.arg("--progress");
    } else {
        cmd.args(args);
    }
    cmd.arg("--").arg(&remote.spec).args(refspecs);
    for (k, v) in environment(git_dir, remote) {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Unavailable {
            what: "git".into(),
            message: "push, pull and clone run the git command, which is not installed \
                      (`make deps` installs it, or apt-get install git)"
                .into(),
        },
        _ => Error::io("running git", e),
    })?;
    let stderr = child.stderr.take();
    let bar = bar.clone();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut phases = Phases::new(bar);
        if let Some(mut err) = stderr {
            // Progress comes as updates ended by CR, read as they come; a
            // line ends with LF and keeps the last state of its updates.
            let mut chunk = [0u8; 8192];
            let mut part = Vec::new();
            let mut last = String::new();
            let end_line = |last: &mut String, lines: &mut Vec<String>, phases: &Phases| {
                let line = url_redact(last);
                if echo && !line.is_empty() {
                    phases.bar.suspend(|| eprintln!("qsnap: git: {line}"));
                }
                lines.push(line);
                last.clear();
            };
            loop {
                let n = match err.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                for &b in &chunk[..n] {
                    if b != b'\r' && b != b'\n' {
                        part.push(b);
                        continue;
                    }
                    let text = String::from_utf8_lossy(&part).trim_end().to_owned();
                    part.clear();
                    if !text.is_empty() {
                        phases.update(&text);
                        last = text;
                    }
                    if b == b'\n' {
                        end_line(&mut last, &mut lines, &phases);
                    }
                }
            }
            let text = String::from_utf8_lossy(&part).trim_end().to_owned();
            if !text.is_empty() {
                last = text;
            }
            if !last.is_empty() {
                end_line(&mut last, &mut lines, &phases);
            }
        }
        phases.bar.finish_and_clear();
        lines
    });
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        stdout = String::from_utf8_lossy(&bytes).into_owned();
    }
    let status = child.wait().map_err(|e| Error::io("waiting for git", e))?;
    let stderr = reader.join().unwrap_or_default();
    Ok(Ran {
        ok: status.success(),
        code: status.code(),
        stdout,
        stderr,
    })
}

/// git's progress, read into a bar: one phase at a time (`Counting
/// objects`, `Receiving objects`, `Writing objects`, `Resolving deltas`),
/// each counted from its start so that its rate and ETA are its own.
struct Phases {
    bar: ProgressBar,
    /// What the bar said before git spoke (`qsnap clone`).
    what: String,
    phase: String,
}

impl Phases {
    fn new(bar: ProgressBar) -> Phases {
        let what = bar.message();
        Phases {
            bar,
            what,
            phase: String::new(),
        }
    }

    /// Takes one update of git's stderr; what is not progress is left.
    fn update(&mut self, text: &str) {
        let Some((phase, done, total)) = progress_of(text) else {
            return;
        };
        if phase != self.phase {
            self.bar.set_message(format!("{}: {phase}", self.what));
            self.bar.reset();
            self.phase = phase.to_owned();
        }
        // A phase that counts without a total (`Enumerating objects: 5`)
        // is drawn full.
        self.bar.set_length(total.unwrap_or(done).max(done));
        self.bar.set_position(done);
    }
}

/// A progress update of git: `Receiving objects:  45% (450/1000), 1.2
/// MiB | 500 KiB/s`, `remote: Counting objects: 100% (5/5), done.` or
/// `Enumerating objects: 5, done.`: its phase, count and total.
fn progress_of(text: &str) -> Option<(&str, u64, Option<u64>)> {
    let text = text.strip_prefix("remote: ").unwrap_or(text).trim();
    let (phase, rest) = text.split_once(": ")?;
    let rest = rest.trim_start();
    if phase.is_empty() || !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let number = |s: &str| -> Option<u64> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    if let Some((_, counted)) = rest.split_once('(') {
        let (done, total) = counted.split_once('/')?;
        return Some((phase, number(done)?, Some(number(total)?)));
    }
    if rest.contains('%') {
        return None;
    }
    Some((phase, number(rest)?, None))
}

/// The environment git runs in: the user's, for ssh, credentials and CA
/// settings, with what would point git at another repository removed,
/// messages in English (qsnap reads them), and no prompt without a
/// terminal.
fn environment(git_dir: &Path, remote: &Remote) -> Vec<(&'static str, Option<OsString>)> {
    let mut env: Vec<(&'static str, Option<OsString>)> = [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    ]
    .into_iter()
    .map(|k| (k, None))
    .collect();
    env.push(("LC_ALL", Some("C".into())));
    env.push(("LANGUAGE", None));
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if !std::io::stdin().is_terminal() {
        // Cron, CI, a pipe: a prompt would wait for ever.
        env.push(("GIT_TERMINAL_PROMPT", Some("0".into())));
        if remote.ssh
            && !set("GIT_SSH_COMMAND")
            && !set("GIT_SSH")
            && config(git_dir, "core.sshCommand", None).is_none()
        {
            // The agent and ~/.ssh/config still apply; passphrase,
            // password and unknown-host questions fail at once.
            env.push(("GIT_SSH_COMMAND", Some("ssh -o BatchMode=yes".into())));
        }
    }
    // SSL_CERT_FILE is what OpenSSL programs read; the GnuTLS git of Debian
    // does not, so it is handed to git as its own setting (unless the user
    // gave git one).
    if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
        if remote.spec.to_ascii_lowercase().starts_with("https://")
            && !set("GIT_SSL_CAINFO")
            && config(git_dir, "http.sslCAInfo", Some(&remote.spec)).is_none()
        {
            env.push(("GIT_SSL_CAINFO", Some(file)));
        }
    }
    env
}

/// A value of the user's git configuration, as git reads it for the store
/// (and for `url`: `http.<url>.sslCAInfo` counts).
fn config(git_dir: &Path, key: &str, url: Option<&str>) -> Option<String> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(git_dir).arg("config");
    match url {
        Some(u) => cmd.args(["--get-urlmatch", key, u]),
        None => cmd.args(["--get", key]),
    };
    let out = cmd
        .env_remove("GIT_DIR")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !v.is_empty()).then_some(v)
}

/// A failure of git itself (it could not reach, or was refused by, the
/// remote): 75 when retrying may help (timeouts, 5xx, a dropped
/// connection, a ref locked there), else 69.
fn git_failure(doing: &str, remote: &Remote, ran: &Ran) -> Error {
    let lines: Vec<&str> = ran
        .stderr
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let mut detail = lines[lines.len().saturating_sub(6)..].join("; ");
    if detail.is_empty() {
        detail = match ran.code {
            Some(c) => format!("git exited with {c}"),
            None => "git was killed".into(),
        };
    }
    let all = detail.to_ascii_lowercase();
    let hint = if all.contains("terminal prompts disabled") {
        " (git would ask for a password, and there is no terminal: use a git \
         credential helper, or an ssh remote with the key in the agent)"
    } else if all.contains("host key verification failed") {
        " (the host key is unknown or changed: connect once by hand, `ssh HOST true`, \
         to check and accept it)"
    } else if all.contains("permission denied (publickey") {
        " (no key was accepted: add one to the ssh agent with ssh-add)"
    } else {
        ""
    };
    detail.push_str(hint);
    let permanent = [
        "authentication failed",
        "terminal prompts disabled",
        "permission denied",
        "host key verification failed",
        "certificate",
        "ssl",
        "tls",
        "not found",
        "does not appear to be a git repository",
        "could not resolve",
        "returned error: 4",
    ];
    let temporary = [
        "timed out",
        "timeout",
        "returned error: 5",
        "returned error: 429",
        "returned error: 408",
        "connection reset",
        "early eof",
        "hung up unexpectedly",
        "cannot lock ref",
        "unable to lock",
    ];
    let retry = (!permanent.iter().any(|p| all.contains(p))
        || all.contains("returned error: 429")
        || all.contains("returned error: 408"))
        && temporary.iter().any(|t| all.contains(t));
    let what = remote.shown();
    let message = format!("{doing} failed: {detail}");
    if retry {
        Error::Temporary { what, message }
    } else {
        Error::Unavailable { what, message }
    }
}

/// Sends main and the tags to `remote`; see the module doc.
/// `bar` shows git's progress when it is drawn.
pub fn push(
    store: &Store,
    remote: &Remote,
    wait: Duration,
    echo: bool,
    bar: &ProgressBar,
) -> Result<()> {
    if store.main_commit()?.is_none() {
        return Err(Error::Unavailable {
            what: "store".into(),
            message: format!("{} is empty: nothing to push", store.dir.display()),
        });
    }
    // A store directory is created when missing, and locked like a put
    // would lock it while its refs move.
    let _dest_lock = match remote.local() {
        Some(dir) => {
            if dir
                .read_dir()
                .map_or(!dir.exists(), |mut d| d.next().is_none())
            {
                Store::init(dir)?;
            }
            match dir.join("HEAD").exists() {
                true => Some(lock::lock(dir, wait)?),
                false => None,
            }
        }
        None => None,
    };
    let refspecs = [
        format!("{MAIN}:{MAIN}"),
        "refs/tags/*:refs/tags/*".to_owned(),
    ];
    let ran = run_git(
        &store.dir,
        remote,
        &["push", "--porcelain", "--atomic"],
        &refspecs,
        echo,
        bar,
    )?;
    if ran.ok {
        return Ok(());
    }
    // `--porcelain`: `<flag> TAB <from>:<to> TAB <summary> (<reason>)`.
    let mut diverged = Vec::new();
    let mut refused = Vec::new();
    for line in ran.stdout.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(flag), Some(refs), Some(summary)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if flag != "!" || summary.contains("atomic push failed") {
            continue;
        }
        let name = refs.rsplit_once(':').map_or(refs, |(_, to)| to);
        let name = name
            .strip_prefix("refs/tags/")
            .map_or_else(|| name.to_owned(), |t| format!("tag {t}"))
            .replace(MAIN, "main");
        if summary.starts_with("[rejected]") {
            diverged.push(format!(
                "{name} {}",
                summary.trim_start_matches("[rejected] ")
            ));
        } else {
            refused.push(format!("{name}: {summary}"));
        }
    }
    if !diverged.is_empty() {
        return Err(Error::data(
            Location::default(),
            format!(
                "push to {} refused, nothing sent: {}. The remote has commits this store \
                 lacks, or a tag of the same name on another commit; `qsnap pull {}` \
                 catches up when this store is only behind, else the two have diverged \
                 and a person must reconcile them",
                remote.shown(),
                diverged.join(", "),
                remote.shown()
            ),
        ));
    }
    if !refused.is_empty() {
        let ran = Ran {
            stderr: refused.into_iter().chain(ran.stderr).collect(),
            ..ran
        };
        return Err(git_failure("push", remote, &ran));
    }
    Err(git_failure("push", remote, &ran))
}

/// What a pull did to main.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// Main was moved forward from `from` (none in an empty store) to `to`,
    /// by `commits` commits.
    Forward {
        from: Option<Oid>,
        to: Oid,
        commits: usize,
    },
    /// Main already is the replica's.
    UpToDate(Oid),
    /// This store has `0` commits the replica lacks, and nothing new.
    Ahead(usize),
}

/// A pull's own staging refs, `refs/qsnap/pull/<pid>/`, removed when
/// dropped.
struct Staging<'s> {
    store: &'s Store,
    prefix: String,
}

impl<'s> Staging<'s> {
    /// Clears this process's namespace and those of pulls that died.
    fn new(store: &'s Store) -> Result<Staging<'s>> {
        let staging = Staging {
            store,
            prefix: format!("{STAGING}{}/", std::process::id()),
        };
        let left = staging.names(STAGING)?.into_iter().filter(|name| {
            let pid = name[STAGING.len()..].split('/').next().unwrap_or("");
            pid.parse::<u32>().map_or(true, |pid| !alive(pid))
        });
        staging.delete(left)?;
        staging.clear()?;
        Ok(staging)
    }

    fn names(&self, prefix: &str) -> Result<Vec<String>> {
        let refs = self
            .store
            .repo
            .references_glob(&format!("{prefix}*"))
            .map_err(git("listing staged refs"))?;
        Ok(refs
            .flatten()
            .filter_map(|r| r.name().ok().map(str::to_owned))
            .collect())
    }

    fn delete(&self, names: impl IntoIterator<Item = String>) -> Result<()> {
        for name in names {
            if let Ok(mut r) = self.store.repo.find_reference(&name) {
                r.delete()
                    .map_err(git(format!("removing the staged ref {name}")))?;
            }
        }
        Ok(())
    }

    fn clear(&self) -> Result<()> {
        self.delete(self.names(&self.prefix)?)
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        let _ = self.clear();
    }
}

/// Whether a process `pid` exists (one we may not signal exists too).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Fetches from `remote`, then fast-forwards main and adds the missing
/// tags under the store's lock (waited for up to `wait`); see the module
/// doc. `bar` shows git's progress when it is drawn.
pub fn pull(
    store: &Store,
    remote: &Remote,
    wait: Duration,
    echo: bool,
    bar: &ProgressBar,
) -> Result<(Pulled, Vec<String>)> {
    remote.check_exists("pull from it")?;
    let staging = Staging::new(store)?;
    let prefix = staging.prefix.clone();
    let refspecs = [
        format!("+{MAIN}:{prefix}main"),
        format!("+refs/tags/*:{prefix}tags/*"),
    ];
    let ran = run_git(
        &store.dir,
        remote,
        &["fetch", "--no-tags", "--no-write-fetch-head", "--quiet"],
        &refspecs,
        echo,
        bar,
    )?;
    if !ran.ok {
        if ran
            .stderr
            .iter()
            .any(|l| l.contains("couldn't find remote ref"))
        {
            return Err(Error::Unavailable {
                what: remote.shown(),
                message: "it has no main branch: nothing was put in that store, or it is \
                          not a qsnap store"
                    .into(),
            });
        }
        return Err(git_failure("fetch", remote, &ran));
    }
    let repo = &store.repo;
    let theirs = repo
        .refname_to_id(&format!("{prefix}main"))
        .map_err(git("reading the fetched main"))?;
    let mut tags = BTreeMap::new();
    for r in repo
        .references_glob(&format!("{prefix}tags/*"))
        .map_err(git("reading the fetched tags"))?
        .flatten()
    {
        if let (Ok(name), Some(oid)) = (r.name(), r.target()) {
            tags.insert(name[prefix.len() + "tags/".len()..].to_owned(), oid);
        }
    }
    // Everything is decided under the lock, before anything moves.
    let lock = store.lock(wait)?;
    let ours = store.main_commit()?.map(|c| c.id());
    let shown = remote.shown();
    let pulled = match ours {
        None => Pulled::Forward {
            from: None,
            to: theirs,
            commits: count(store, theirs, None)?,
        },
        Some(o) if o == theirs => Pulled::UpToDate(o),
        Some(o) => {
            let (ahead, behind) = repo
                .graph_ahead_behind(o, theirs)
                .map_err(git("comparing the histories"))?;
            match (ahead, behind) {
                (a, 0) => Pulled::Ahead(a),
                (0, b) => Pulled::Forward {
                    from: Some(o),
                    to: theirs,
                    commits: b,
                },
                (a, b) => {
                    return Err(Error::data(
                        Location::default(),
                        format!(
                            "main here and main of {shown} have diverged: {} here not there, \
                             {} there not here; nothing changed. Keep both by reconciling \
                             them by hand (the store is a git repository)",
                            commits(a),
                            commits(b)
                        ),
                    ))
                }
            }
        }
    };
    let mut new_tags = Vec::new();
    let mut clashes = Vec::new();
    for (name, oid) in &tags {
        match repo.refname_to_id(&format!("refs/tags/{name}")) {
            Ok(here) if here == *oid => {}
            Ok(here) => clashes.push(format!(
                "{name} (here {}, there {})",
                &here.to_string()[..12],
                &oid.to_string()[..12]
            )),
            Err(_) => new_tags.push((name.clone(), *oid)),
        }
    }
    if !clashes.is_empty() {
        return Err(Error::data(
            Location::default(),
            format!(
                "tags of the same name name other commits in {shown}: {}; nothing changed",
                clashes.join(", ")
            ),
        ));
    }
    for (name, oid) in &new_tags {
        repo.reference(
            &format!("refs/tags/{name}"),
            *oid,
            false,
            &format!("pull from {shown}"),
        )
        .map_err(git(format!("adding tag {name}")))?;
    }
    if let Pulled::Forward { from, to, .. } = &pulled {
        store.move_main(&lock, *to, *from, &format!("pull from {shown}"))?;
        // Only a guide for readers (see `newest`): main has moved, and a
        // file it could not be written for is for `verify` to report.
        let _ = super::history::refresh_newest(&store.repo, *to);
    }
    drop(staging);
    Ok((pulled, new_tags.into_iter().map(|(n, _)| n).collect()))
}

/// `1 commit`, `2 commits`.
pub fn commits(n: usize) -> String {
    match n {
        1 => "1 commit".into(),
        n => format!("{n} commits"),
    }
}

/// Commits reachable from `to` and not from `from`.
fn count(store: &Store, to: Oid, from: Option<Oid>) -> Result<usize> {
    let mut walk = store.repo.revwalk().map_err(git("walking the history"))?;
    walk.push(to).map_err(git("walking the history"))?;
    if let Some(f) = from {
        walk.hide(f).map_err(git("walking the history"))?;
    }
    Ok(walk.count())
}

/// Makes a new store at `dir` from `remote`: all of it or nothing.
pub fn clone(remote: &Remote, dir: &Path, echo: bool, bar: &ProgressBar) -> Result<Store> {
    make(remote, dir, echo, bar)?;
    Store::open(dir)
}

/// Pulls into the store at `dir`; a missing store is made as by a clone,
/// so that a failed first pull leaves nothing behind.
pub fn pull_into(
    dir: &Path,
    remote: &Remote,
    wait: Duration,
    echo: bool,
    bar: &ProgressBar,
) -> Result<(Pulled, Vec<String>)> {
    if !dir.join("HEAD").exists() {
        match make(remote, dir, echo, bar) {
            Ok(done) => return Ok(done),
            // Another process made the store meanwhile: pull into it.
            Err(_) if dir.join("HEAD").exists() => {}
            Err(e) => return Err(e),
        }
    }
    pull(&Store::open(dir)?, remote, wait, echo, bar)
}

/// A store pulled from `remote` in a temporary directory beside `dir`,
/// then renamed to `dir`.
fn make(
    remote: &Remote,
    dir: &Path,
    echo: bool,
    bar: &ProgressBar,
) -> Result<(Pulled, Vec<String>)> {
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::Usage(format!(
            "{} exists and is not empty",
            dir.display()
        )));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{} exists and is not a directory",
            dir.display()
        )));
    }
    remote.check_exists("clone")?;
    let tmp = super::store::staging_beside(dir, ".qsnap-clone-")?;
    let staged = tmp.path().join("store");
    let done = {
        let (store, _) = Store::init(&staged)?;
        pull(&store, remote, lock::DEFAULT_WAIT, echo, bar)?
    };
    // The lock file records this process; a clone starts with none.
    let _ = std::fs::remove_file(staged.join("qsnap.lock"));
    std::fs::rename(&staged, dir).map_err(|e| super::store::creating(dir, e))?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parsed(s: &str) -> (Option<PathBuf>, bool) {
        let r = Remote::parse(s).unwrap();
        (r.local, r.ssh)
    }

    #[test]
    fn remotes_are_read_as_git_reads_them() {
        assert_eq!(
            parsed("/backup/qsnap"),
            (Some("/backup/qsnap".into()), false)
        );
        assert_eq!(parsed("rel/dir"), (Some("rel/dir".into()), false));
        assert_eq!(parsed("./a:b"), (Some("./a:b".into()), false));
        assert_eq!(
            parsed("file:///srv/q%20s"),
            (Some("/srv/q s".into()), false)
        );
        assert_eq!(parsed("file://localhost/srv"), (Some("/srv".into()), false));
        assert_eq!(parsed("https://h/s.git"), (None, false));
        assert_eq!(parsed("ssh://git@h:2222/s.git"), (None, true));
        assert_eq!(parsed("git@h:stores/q.git"), (None, true));
        assert_eq!(parsed("backup:q"), (None, true));
        assert!(Remote::parse("").is_err());
        assert!(Remote::parse("--upload-pack=x").is_err());
        assert!(Remote::parse("file://host/srv").is_err());
    }

    #[test]
    fn shown_remotes_hide_passwords() {
        let shown = |s: &str| Remote::parse(s).unwrap().shown();
        assert_eq!(
            shown("https://bob:hunter2@h/s.git"),
            "https://bob:***@h/s.git"
        );
        assert_eq!(shown("https://ghp_token@h/s.git"), "https://***@h/s.git");
        assert_eq!(shown("ssh://git@h/s.git"), "ssh://git@h/s.git");
        assert_eq!(shown("ssh://git:pw@h/s.git"), "ssh://git:***@h/s.git");
        assert_eq!(shown("git@h:s.git"), "git@h:s.git");
        assert_eq!(shown("/backup/qsnap"), "/backup/qsnap");
    }

    fn ran(stderr: &[&str]) -> Ran {
        Ran {
            ok: false,
            code: Some(128),
            stdout: String::new(),
            stderr: stderr.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn git_progress_is_read_into_phases_and_counts() {
        assert_eq!(
            progress_of("Receiving objects:  45% (450/1000), 1.20 MiB | 500.00 KiB/s"),
            Some(("Receiving objects", 450, Some(1000)))
        );
        assert_eq!(
            progress_of("remote: Counting objects: 100% (5/5), done."),
            Some(("Counting objects", 5, Some(5)))
        );
        assert_eq!(
            progress_of("remote: Enumerating objects: 12, done."),
            Some(("Enumerating objects", 12, None))
        );
        assert_eq!(
            progress_of("Writing objects: 100% (3/3), 250 bytes | 250.00 KiB/s, done."),
            Some(("Writing objects", 3, Some(3)))
        );
        // Not progress: messages, errors, refs.
        for line in [
            "To /tmp/replica",
            "error: failed to push some refs to '/tmp/replica'",
            "fatal: '/nowhere' does not appear to be a git repository",
            " * [new branch]      main -> main",
            "hint: Updates were rejected",
            "Receiving objects:  45%",
            "",
        ] {
            assert_eq!(progress_of(line), None, "{line}");
        }
    }

    #[test]
    fn git_failures_are_unavailable_or_temporary() {
        let r = Remote::parse("https://h/s.git").unwrap();
        let code = |lines: &[&str]| git_failure("push", &r, &ran(lines)).exit_code();
        assert_eq!(
            code(&["fatal: Authentication failed for 'https://h/s.git/'"]),
            69
        );
        assert_eq!(
            code(&["fatal: could not read Username for 'https://h': terminal prompts disabled"]),
            69
        );
        assert_eq!(
            code(&["fatal: unable to access 'https://h/s.git/': server certificate verification failed. CAfile: none CRLfile: none"]),
            69
        );
        assert_eq!(
            code(&["fatal: unable to access 'https://h/': Failed to connect to h port 443: Connection refused"]),
            69
        );
        assert_eq!(
            code(&[
                "error: RPC failed; HTTP 503 curl 22 The requested URL returned error: 503",
                "fatal: the remote end hung up unexpectedly"
            ]),
            75
        );
        assert_eq!(
            code(&["fatal: unable to access 'https://h/': Operation timed out after 300000 milliseconds"]),
            75
        );
        assert_eq!(
            code(&["error: RPC failed; HTTP 429 curl 22 The requested URL returned error: 429"]),
            75
        );
        assert_eq!(code(&[]), 69);
        let e = git_failure("push", &r, &ran(&["", "hint: x", "fatal: boom"]));
        assert_eq!(e.to_string(), "https://h/s.git: push failed: fatal: boom");
    }

    proptest! {
        #[test]
        fn any_progress_line_is_read_without_panic(s in "\\PC{0,60}") {
            let _ = progress_of(&s);
        }

        #[test]
        fn any_remote_is_read_without_panic(s in "\\PC{0,40}") {
            if let Ok(r) = Remote::parse(&s) {
                let _ = r.shown();
            }
            let _ = percent_decode(&s);
        }

        #[test]
        fn a_password_is_never_shown(
            scheme in proptest::sample::select(vec!["https", "http", "ssh"]),
            user in "[a-z]{1,8}",
            pw in "[A-Za-z0-9]{6,12}",
            host in "[a-z]{1,8}",
        ) {
            let r = Remote::parse(&format!("{scheme}://{user}:{pw}@{host}/s.git")).unwrap();
            prop_assert!(!r.shown().contains(&pw), "{}", r.shown());
        }
    }
}
