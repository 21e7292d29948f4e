//! Replays (`qsnap replay`): every version of one resource on main run
//! again through a command, oldest first, the outputs kept as another
//! resource on a side ref of their own, `refs/qsnap/replay/NAME`, never
//! on main. When a team changes its map, the old raw snapshots can be read
//! again with the new one without mixing two meanings in main's history.
//!
//! The side history is a first-parent chain, one commit per source
//! version in the order of main (the first one a root commit, so that a
//! walk of the replay never wanders into main). A commit's tree holds the
//! output alone, at the output resource's path, and its message carries
//! what a put writes (`Qsnap-Resource`, `Qsnap-Provenance`: the source
//! version first, then its own provenance, `Qsnap-Data-Sha256`) and the
//! replay's own trailers: [`REPLAY_TRAILER`] (the name),
//! [`SOURCE_TRAILER`] (the source resource and commit: how a re-run knows
//! what is done), [`OUTPUT_TRAILER`] and [`COMMAND_TRAILER`]. A commit is
//! dated as its source version (author and committer), so a replay shares
//! main's time axis: `--at-time`, and the report's trend.
//!
//! A version whose command fails is, with `--keep-going`, recorded by a
//! commit with [`FAILED_TRAILER`] (why) and no `Qsnap-Resource`, whose
//! tree is its parent's: it changes no version. A recorded failure is not
//! done: the next run tries it again.
//!
//! Every move of the ref is one compare-and-swap under the store's lock,
//! made after the commits it points at are written, so a replay killed at
//! any moment leaves the ref at a whole chain, and the next run goes on
//! from there. When a version in the middle of the chain changes (a failure
//! that now succeeds), the commits after it are written again onto it
//! (same trees, messages and dates; no command is run again) and the ref
//! moves to the new chain in one step.

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use git2::{build::TreeUpdateBuilder, Commit, FileMode, Oid, Repository};

use super::history::{self, short, show_time, At, Provenance, Version};
use super::lock::StoreLock;
use super::name::{self, Resource};
use super::objects::{self, git};
use super::store::{self, Staged, Store};
use crate::error::{Error, Location, Result};
use crate::stream::{Writer, PROVENANCE};

/// Where replays live.
pub const REFS: &str = "refs/qsnap/replay/";
/// The replay's name, on each of its commits.
pub const REPLAY_TRAILER: &str = "Qsnap-Replay";
/// `APP STAGE COMMIT`: the source version a commit was made from.
pub const SOURCE_TRAILER: &str = "Qsnap-Replay-Source";
/// `APP STAGE`: the resource the replay writes (also on failures).
pub const OUTPUT_TRAILER: &str = "Qsnap-Replay-Output";
/// The command, as a JSON array of its words.
pub const COMMAND_TRAILER: &str = "Qsnap-Replay-Command";
/// Why the command failed on that version (a recorded failure).
pub const FAILED_TRAILER: &str = "Qsnap-Replay-Failed";

/// The side ref of a replay.
pub fn refname(name: &str) -> String {
    format!("{REFS}{name}")
}

/// A replay's name follows the rule of resource names (exit 2 when not).
pub fn check_name(name: &str) -> Result<()> {
    name::check("replay NAME", name)
}

fn data(message: impl Into<String>) -> Error {
    Error::data(Location::default(), message)
}

/// One commit of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub commit: Oid,
    pub parent: Option<Oid>,
    /// The source version's commit (on main).
    pub source: Oid,
    pub from: Resource,
    pub to: Resource,
    /// The command, as recorded (a JSON array).
    pub command: String,
    /// Why the command failed, for a recorded failure.
    pub failed: Option<String>,
    pub time: i64,
}

/// What a replay commit's trailers say: (source resource, source commit,
/// output resource, command, why it failed).
type Trailers = (Resource, Oid, Resource, String, Option<String>);

/// Reads the trailers of a commit message of replay `name`; `None` when it
/// is not one (another replay's, or not a replay commit at all).
fn trailers(message: &str, name: &str) -> Option<Trailers> {
    let trailers = git2::message_trailers_strs(message).ok()?;
    let (mut replay, mut source, mut to, mut command, mut failed) = (None, None, None, None, None);
    for (key, value) in trailers.iter() {
        let value = value.trim();
        if key.eq_ignore_ascii_case(REPLAY_TRAILER) {
            replay = Some(value.to_owned());
        } else if key.eq_ignore_ascii_case(SOURCE_TRAILER) {
            let (res, commit) = value.rsplit_once(' ')?;
            source = Some((Resource::parse(res)?, Oid::from_str(commit).ok()?));
        } else if key.eq_ignore_ascii_case(OUTPUT_TRAILER) {
            to = Resource::parse(value);
        } else if key.eq_ignore_ascii_case(COMMAND_TRAILER) {
            command = Some(value.to_owned());
        } else if key.eq_ignore_ascii_case(FAILED_TRAILER) {
            failed = Some(value.to_owned());
        }
    }
    if replay.as_deref() != Some(name) {
        return None;
    }
    let (from, source) = source?;
    Some((from, source, to?, command.unwrap_or_default(), failed))
}

impl Entry {
    /// The replay commit `c`, when it is one of replay `name`.
    fn of(c: &Commit, name: &str) -> Option<Entry> {
        let message = String::from_utf8_lossy(c.message_bytes());
        let (from, source, to, command, failed) = trailers(&message, name)?;
        Some(Entry {
            commit: c.id(),
            parent: c.parent_ids().next(),
            source,
            from,
            to,
            command,
            failed,
            time: c.time().seconds(),
        })
    }
}

/// A replay as stored: its head and its commits, oldest first.
#[derive(Debug, Clone)]
pub struct Replay {
    pub name: String,
    pub head: Oid,
    pub entries: Vec<Entry>,
}

impl Replay {
    /// The resource it writes.
    pub fn to(&self) -> Option<&Resource> {
        self.entries.last().map(|e| &e.to)
    }

    /// The resource it reads.
    pub fn from(&self) -> Option<&Resource> {
        self.entries.last().map(|e| &e.from)
    }

    /// Refuses (65) a resource that is not the one this replay writes.
    pub fn check_resource(&self, res: &Resource) -> Result<()> {
        match self.to() {
            Some(to) if to == res => Ok(()),
            Some(to) => Err(data(format!(
                "replay {} holds {to} (made from {}), not {res}",
                self.name,
                self.from().map_or(String::new(), ToString::to_string)
            ))),
            None => Err(data(format!("replay {} holds nothing", self.name))),
        }
    }

    /// The replay commit a revision names: the newest (`At::Main`); the
    /// last one dated at or before a time (replay commits carry their
    /// source version's time); a commit of the replay; or any other
    /// revision (on main: `main~3`, a source commit), the replay commit
    /// made from the newest source version at or before it.
    pub fn resolve<'r>(&self, repo: &'r Repository, at: &At) -> Result<Commit<'r>> {
        let first = self.entries.first().map_or(0, |e| e.time);
        let oid = match at {
            At::Main => self.head,
            At::Time(t) => {
                let limit = t.timestamp();
                self.entries
                    .iter()
                    .rev()
                    .find(|e| e.time <= limit)
                    .map(|e| e.commit)
                    .ok_or_else(|| {
                        data(format!(
                            "replay {} has no version at or before {}: it begins at {}",
                            self.name,
                            show_time(limit),
                            show_time(first)
                        ))
                    })?
            }
            At::Rev(rev) => {
                let c = history::resolve_rev(repo, rev)?;
                if self.entries.iter().any(|e| e.commit == c.id()) {
                    c.id()
                } else {
                    let by_source: HashMap<Oid, Oid> =
                        self.entries.iter().map(|e| (e.source, e.commit)).collect();
                    let mut found = None;
                    for oid in history::first_parents(repo, c.id())? {
                        if let Some(r) = by_source.get(&oid?) {
                            found = Some(*r);
                            break;
                        }
                    }
                    found.ok_or_else(|| {
                        data(format!(
                            "replay {} has no version made from revision {rev:?} or before it",
                            self.name
                        ))
                    })?
                }
            }
        };
        objects::commit(repo, oid)
    }

    /// The stored output at a revision (see [`Replay::resolve`]): its
    /// blob, and the replay commit that wrote it.
    pub fn version_at<'r>(
        &self,
        repo: &'r Repository,
        res: &Resource,
        at: &At,
    ) -> Result<(Oid, Commit<'r>)> {
        self.check_resource(res)?;
        let commit = self.resolve(repo, at)?;
        let put = history::last_put(repo, commit.id(), res)?.ok_or_else(|| {
            data(format!(
                "replay {} has no version of {res} at or before {} (the versions \
                 before it failed)",
                self.name,
                short(commit.id())
            ))
        })?;
        let blob = objects::tree(repo, &put)?
            .get_path(Path::new(&res.path()))
            .map_err(git(format!("reading {res} in replay {}", self.name)))?
            .id();
        Ok((blob, put))
    }
}

/// The names of the replays in the store, sorted.
pub fn names(store: &Store) -> Result<Vec<String>> {
    Ok(super::branch::list(&store.repo, REFS)?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// The replay called `name`, if the store has it. A commit on its ref that
/// is not one of its commits (made by hand) is an error (65).
pub fn find(store: &Store, name: &str) -> Result<Option<Replay>> {
    check_name(name)?;
    let Some(head) = super::branch::find(&store.repo, &refname(name))? else {
        return Ok(None);
    };
    let mut entries = Vec::new();
    for oid in history::first_parents(&store.repo, head)? {
        let c = objects::commit(&store.repo, oid?)?;
        let e = Entry::of(&c, name).ok_or_else(|| {
            data(format!(
                "{} points at a history with commit {}, which is not one of replay {name}'s",
                refname(name),
                c.id()
            ))
        })?;
        entries.push(e);
    }
    entries.reverse();
    Ok(Some(Replay {
        name: name.to_owned(),
        head,
        entries,
    }))
}

/// The replay called `name`; one the store does not have is bad input
/// (65), with the names it has.
pub fn open(store: &Store, name: &str) -> Result<Replay> {
    if let Some(r) = find(store, name)? {
        return Ok(r);
    }
    let known = names(store)?;
    Err(data(format!(
        "no replay named {name} in {}: {}",
        store.dir.display(),
        if known.is_empty() {
            "it has none (make one with `qsnap replay`)".to_owned()
        } else {
            format!("it has {}", known.join(", "))
        }
    )))
}

/// What `qsnap replay` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub name: String,
    pub from: Resource,
    pub to: Resource,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Redo every version.
    pub force: bool,
    /// Record a failed version and go on, instead of stopping.
    pub keep_going: bool,
    /// How long each move of the ref waits for the store's lock.
    pub wait: Duration,
    /// No progress bar.
    pub quiet: bool,
}

/// What a replay did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Versions run through the command (successes and failures).
    pub ran: usize,
    /// Versions already done, not run again.
    pub skipped: usize,
    /// Versions that failed in this run (recorded, with --keep-going):
    /// the source commit and why.
    pub failed: Vec<(Oid, String)>,
    /// Where the replay's ref points now.
    pub head: Option<Oid>,
}

/// A version of the source resource on main.
struct Source {
    commit: Oid,
    time: git2::Time,
    summary: String,
    provenance: Vec<Provenance>,
}

/// The versions of `res` on main, oldest first (first parents).
fn sources(store: &Store, res: &Resource) -> Result<Vec<Source>> {
    let Some(main) = store.main_commit()? else {
        return Err(data(format!(
            "the store at {} is empty: nothing to replay",
            store.dir.display()
        )));
    };
    let mut found = Vec::new();
    for oid in history::first_parents(&store.repo, main.id())? {
        let c = objects::commit(&store.repo, oid?)?;
        let v = Version::of(&c);
        if history::touches(&store.repo, &c, &v, res)? {
            found.push(Source {
                commit: c.id(),
                time: c.time(),
                summary: v.summary,
                provenance: v.provenance,
            });
        }
    }
    if found.is_empty() {
        return Err(data(format!(
            "main has no version of {res} to replay (the store has {})",
            history::resources(&store.repo, &main)?
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    found.reverse();
    Ok(found)
}

/// Why a version failed, and the exit code it stops the replay with.
struct Failure {
    why: String,
    code: u8,
}

/// The failure's error, naming the source version.
fn failure_error(opts: &Options, src: Oid, f: &Failure) -> Error {
    let message = format!(
        "replay {}: {} {src}: {} (nothing stored for it; --keep-going records it and goes on)",
        opts.name, opts.from, f.why
    );
    match f.code {
        crate::error::exit::UNAVAILABLE => Error::Unavailable {
            what: "replay".into(),
            message,
        },
        crate::error::exit::TEMPFAIL => Error::Temporary {
            what: "replay".into(),
            message,
        },
        crate::error::exit::IOERR => Error::io(message, std::io::Error::other("the command's I/O")),
        crate::error::exit::INTERRUPTED => Error::io(
            message,
            std::io::Error::from(std::io::ErrorKind::Interrupted),
        ),
        _ => data(message),
    }
}

/// The exit code a command's status stops the replay with: 69, 74, 75
/// (the command says the failure is not the data's: a service, I/O,
/// worth retrying) and 130 (interrupted) pass through; any other failure
/// is the version's data's (65).
fn code_of(status: ExitStatus) -> u8 {
    use crate::error::exit;
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _)
            if [
                exit::UNAVAILABLE,
                exit::IOERR,
                exit::TEMPFAIL,
                exit::INTERRUPTED,
            ]
            .iter()
            .any(|&x| i32::from(x) == c) =>
        {
            c as u8
        }
        (None, Some(libc::SIGINT)) | (None, Some(libc::SIGTERM)) => exit::INTERRUPTED,
        _ => exit::DATAERR,
    }
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("the command exited {c}"),
        (None, Some(s)) => format!("the command was killed by signal {s}"),
        _ => "the command failed".to_owned(),
    }
}

/// Runs the command on one source version: its stream (as `qsnap get`
/// writes it, provenance first) on stdin, stdout staged as a blob. `Err`
/// is a failure of the run (the caller's to stop on); `Ok(Err)` the
/// version's failure.
fn run_one(
    store: &Store,
    opts: &Options,
    src: &Source,
    previous: Option<Oid>,
) -> Result<std::result::Result<Staged, Failure>> {
    let repo = &store.repo;
    let commit = objects::commit(repo, src.commit)?;
    let blob = objects::tree(repo, &commit)?
        .get_path(Path::new(&opts.from.path()))
        .map_err(git(format!("reading {} at {}", opts.from, src.commit)))?
        .id();
    objects::check(repo, blob)?;
    let mut input = Vec::new();
    {
        let mut w = Writer::new(&mut input);
        w.header(0, PROVENANCE)?;
        w.line(0, format!("{}\t{}", opts.from, src.commit).as_bytes())?;
        for p in &src.provenance {
            w.line(0, p.line().as_bytes())?;
        }
    }
    input.extend_from_slice(objects::blob(repo, blob)?.content());
    let dir = std::fs::canonicalize(&store.dir).unwrap_or_else(|_| store.dir.clone());
    let mut cmd = Command::new(&opts.command[0]);
    cmd.args(&opts.command[1..])
        .env("QSNAP_REPO", &dir)
        .env("QWATCH_RESOURCE", opts.from.to_string())
        .env("QWATCH_COMMIT", src.commit.to_string())
        .env(
            "QWATCH_PARENT",
            previous.map(|p| p.to_string()).unwrap_or_default(),
        )
        .env("QWATCH_SEQ", "")
        .env("QWATCH_EPOCH", "")
        .env("QWATCH_RULE", format!("replay-{}", opts.name))
        .env("QSNAP_REPLAY", &opts.name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| {
        Error::Usage(format!(
            "replay {}: cannot run {:?}: {e}",
            opts.name, opts.command[0]
        ))
    })?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(Error::io(
            "starting the command",
            std::io::Error::other("no pipe"),
        ));
    };
    // Fed from a thread while stdout is read here: a command that writes
    // before it has read everything would otherwise block both sides. A
    // command that stops reading (a broken pipe) is not a failure of ours.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let staged = store.stage(BufReader::with_capacity(256 * 1024, stdout));
    let status = child
        .wait()
        .map_err(|e| Error::io("waiting for the command", e))?;
    let _ = feeder.join();
    if !status.success() {
        return Ok(Err(Failure {
            why: describe_status(status),
            code: code_of(status),
        }));
    }
    match staged {
        Ok(s) => Ok(Ok(s)),
        Err(e @ (Error::Stream { .. } | Error::Data { .. })) => Ok(Err(Failure {
            why: format!("its output is not a stream to store: {e}"),
            code: crate::error::exit::DATAERR,
        })),
        Err(e) => Err(e),
    }
}

/// What a commit of the chain is made of, to write it onto any parent.
struct Made {
    source: Oid,
    tree: Oid,
    message: String,
    time: git2::Time,
    failed: Option<String>,
}

impl Made {
    fn of(repo: &Repository, e: &Entry) -> Result<Made> {
        let c = objects::commit(repo, e.commit)?;
        let time = c.committer().when();
        Ok(Made {
            source: e.source,
            tree: c.tree_id(),
            message: String::from_utf8_lossy(c.message_bytes()).into_owned(),
            time,
            failed: e.failed.clone(),
        })
    }
}

/// Writes the commit `m` onto `parent` (none: a root commit), as the
/// store's identity dated `m.time`. The same parent and the same parts make
/// the same commit id, so writing again what is there changes nothing.
fn write(store: &Store, mem: &Repository, m: &Made, parent: Option<Oid>) -> Result<Oid> {
    let repo = mem;
    let who = store::signature(&store.repo)?;
    let sig = git2::Signature::new(
        who.name().unwrap_or("qsnap"),
        who.email().unwrap_or("qsnap@localhost"),
        &m.time,
    )
    .map_err(git("making the commit signature"))?;
    let parent = parent.map(|p| objects::commit(repo, p)).transpose()?;
    // A recorded failure changes no version: its tree is its parent's.
    let tree = match (&m.failed, &parent) {
        (None, _) => m.tree,
        (Some(_), Some(p)) => p.tree_id(),
        (Some(_), None) => empty_tree(repo)?,
    };
    let tree = repo
        .find_tree(tree)
        .map_err(store::write_error("reading the tree of a replay commit"))?;
    let parents: Vec<&Commit> = parent.iter().collect();
    repo.commit(None, &sig, &sig, &m.message, &tree, &parents)
        .map_err(store::write_error("writing a replay commit"))
}

/// The tree holding `blob` at `res`'s path and nothing else.
fn tree_of(repo: &Repository, res: &Resource, blob: Oid) -> Result<Oid> {
    let empty = repo
        .treebuilder(None)
        .and_then(|b| b.write())
        .and_then(|t| repo.find_tree(t))
        .map_err(store::write_error("writing an empty tree"))?;
    TreeUpdateBuilder::new()
        .upsert(res.path(), blob, FileMode::Blob)
        .create_updated(repo, &empty)
        .map_err(store::write_error("writing the tree"))
}

fn empty_tree(repo: &Repository) -> Result<Oid> {
    repo.treebuilder(None)
        .and_then(|b| b.write())
        .map_err(store::write_error("writing an empty tree"))
}

/// Moves the replay's ref from `from` to `to` under the store's lock:
/// only while it still points at `from` (another run moved it: 75).
/// `mem` is the handle the commits were written with: libgit2 checks that
/// a ref's target exists, and git pruning the store may have deleted the
/// loose copy already (it is written again after, see
/// [`Store::pin_and_point`]).
fn move_ref(
    store: &Store,
    mem: &Repository,
    lock: &StoreLock,
    name: &str,
    from: Option<Oid>,
    to: Oid,
) -> Result<()> {
    let _ = lock;
    let refname = refname(name);
    // Only replays move this ref, and only under the store's lock, which
    // is held: a lock file of the ref is what a replay killed while moving
    // it left.
    let ref_lock = store.repo.path().join(format!("{refname}.lock"));
    if ref_lock.exists() {
        eprintln!(
            "qsnap: warning: removing {}, left by a replay that was stopped while moving it",
            ref_lock.display()
        );
        std::fs::remove_file(&ref_lock)
            .map_err(|e| Error::io(format!("removing {}", ref_lock.display()), e))?;
    }
    store::sync_dir(&store.repo.path().join("objects"))?;
    let why = format!("replay {name}");
    let moved = match from {
        Some(old) => mem.reference_matching(&refname, to, true, old, &why),
        None => mem.reference(&refname, to, false, &why),
    };
    moved.map(drop).map_err(|e| match e.code() {
        git2::ErrorCode::Locked => Error::Temporary {
            what: "replay".into(),
            message: format!(
                "{refname} is locked by another program (git pack-refs?) ({}); \
                 run the replay again to go on from there",
                e.message()
            ),
        },
        git2::ErrorCode::Modified | git2::ErrorCode::Exists => Error::Temporary {
            what: "replay".into(),
            message: format!(
                "{refname} was moved by another run while this one worked ({}); \
                     run the replay again to go on from there",
                e.message()
            ),
        },
        _ => git(format!("moving {refname}"))(e),
    })
}

/// The message of a replay commit: a put's, and the replay's trailers.
fn message(
    opts: &Options,
    command: &str,
    src: &Source,
    outcome: std::result::Result<&Staged, &str>,
) -> String {
    let mut extra = vec![
        (REPLAY_TRAILER.to_owned(), opts.name.clone()),
        (
            SOURCE_TRAILER.to_owned(),
            format!("{} {}", opts.from, src.commit),
        ),
        (OUTPUT_TRAILER.to_owned(), opts.to.to_string()),
        (COMMAND_TRAILER.to_owned(), command.to_owned()),
    ];
    match outcome {
        Ok(staged) => {
            // The source version first, then its own provenance, then
            // what the command added.
            let mut provenance = vec![Provenance {
                resource: opts.from.clone(),
                commit: src.commit.to_string(),
            }];
            for p in src.provenance.iter().chain(&staged.provenance) {
                if !provenance.contains(p) {
                    provenance.push(p.clone());
                }
            }
            let subject = format!("replay {}: {}", opts.name, src.summary);
            history::commit_message_with(
                &opts.to,
                Some(&subject),
                &provenance,
                &staged.data,
                &extra,
            )
        }
        Err(why) => {
            extra.push((FAILED_TRAILER.to_owned(), why.to_owned()));
            let mut text = format!(
                "replay {}: failed on {} {}\n\n",
                opts.name,
                opts.from,
                short(src.commit)
            );
            for (k, v) in extra {
                let v = v.lines().next().unwrap_or("").trim().to_owned();
                text.push_str(&format!("{k}: {v}\n"));
            }
            text
        }
    }
}

/// The chain as the ref holds it, and the chain being made: the ref is
/// moved to the new one whenever they differ, with what is left of the
/// old one after it (written again onto it), so that no done version is
/// ever off the ref.
struct Chain<'a> {
    store: &'a Store,
    opts: &'a Options,
    /// Where the ref points (None: no ref yet).
    head: Option<Oid>,
    /// The commits the ref holds, oldest first.
    published: Vec<Oid>,
    /// The new chain so far, oldest first.
    made: Vec<Oid>,
    /// The old entries still to be carried over, by source commit.
    old: HashMap<Oid, Entry>,
}

impl Chain<'_> {
    /// Appends `m` to the new chain, then brings the ref up to date: the
    /// new chain, then the old entries of the sources after index `k`,
    /// written again onto it when need be.
    ///
    /// The commits are written to `mem` (a [`Store::memory_writer`]) and
    /// made loose objects on disk only under the lock, just before the ref
    /// moves, and checked after (see [`Store::pin_and_point`]): git
    /// pruning the store beside a replay cannot leave the ref on missing
    /// objects. `staged` is the output `m`'s tree holds, when it was made
    /// by this run.
    fn push(
        &mut self,
        mem: &Repository,
        m: &Made,
        staged: Option<&Staged>,
        k: usize,
        sources: &[Source],
    ) -> Result<()> {
        self.old.remove(&m.source);
        let oid = write(self.store, mem, m, self.made.last().copied())?;
        self.made.push(oid);
        if self.published.get(..self.made.len()) == Some(&self.made[..]) {
            return Ok(());
        }
        let mut chain = self.made.clone();
        let mut new = vec![oid];
        for s in &sources[k + 1..] {
            if let Some(e) = self.old.get(&s.commit) {
                let m = Made::of(&self.store.repo, e)?;
                let again = write(self.store, mem, &m, chain.last().copied())?;
                chain.push(again);
                new.push(again);
            }
        }
        let Some(&tip) = chain.last() else {
            return Ok(());
        };
        let lock = self.store.lock(self.opts.wait)?;
        self.store.pin_and_point(
            mem,
            &new,
            &self.opts.to,
            staged,
            &refname(&self.opts.name),
            self.opts.wait,
            || move_ref(self.store, mem, &lock, &self.opts.name, self.head, tip),
        )?;
        drop(lock);
        self.head = Some(tip);
        self.published = chain;
        Ok(())
    }
}

/// Runs the replay (see the module doc). Stops at the first failed
/// version unless `keep_going`, with its error; a failed version with
/// `keep_going` is recorded and listed in the outcome.
pub fn run(store: &Store, opts: &Options) -> Result<Outcome> {
    check_name(&opts.name)?;
    if opts.command.is_empty() {
        return Err(Error::Usage(
            "replay: give the command after `--` (qsnap replay APP FROM TO --name NAME -- COMMAND)"
                .into(),
        ));
    }
    let command = serde_json::to_string(&opts.command)
        .map_err(|e| Error::Usage(format!("the command cannot be recorded: {e}")))?;
    let existing = find(store, &opts.name)?;
    if let (Some(r), false) = (&existing, opts.force) {
        if let Some(e) = r.entries.last() {
            if e.from != opts.from || e.to != opts.to || e.command != command {
                return Err(Error::Usage(format!(
                    "replay {} was made from {} into {} with {}; this run asks for {} into {} \
                     with {command}: give --force to redo it this way, or choose another --name",
                    opts.name, e.from, e.to, e.command, opts.from, opts.to
                )));
            }
        }
    }
    let sources = sources(store, &opts.from)?;
    let old: HashMap<Oid, Entry> = match (&existing, opts.force) {
        (Some(r), false) => r.entries.iter().map(|e| (e.source, e.clone())).collect(),
        _ => HashMap::new(),
    };
    let mut chain = Chain {
        store,
        opts,
        head: existing.as_ref().map(|r| r.head),
        published: existing
            .as_ref()
            .map(|r| r.entries.iter().map(|e| e.commit).collect())
            .unwrap_or_default(),
        made: Vec::new(),
        old,
    };
    let mut outcome = Outcome::default();
    let bar = crate::cli::progress::bar(sources.len() as u64, "replay", "versions", opts.quiet);
    let mut previous = None;
    // Where the commits and trees are written first (see `Chain::push`);
    // opened again every MEM_VERSIONS versions, which bounds what it holds
    // (a few KB a version) without the cost of opening one each time.
    const MEM_VERSIONS: usize = 100;
    let mut mem = store.memory_writer()?;
    for (k, src) in sources.iter().enumerate() {
        if k > 0 && k % MEM_VERSIONS == 0 {
            mem = store.memory_writer()?;
        }
        let prior = chain.old.get(&src.commit).cloned();
        let mut staged_here = None;
        let made = match prior {
            Some(e) if e.failed.is_none() => {
                outcome.skipped += 1;
                Made::of(&store.repo, &e)?
            }
            _ => {
                outcome.ran += 1;
                match run_one(store, opts, src, previous)? {
                    Ok(staged) => {
                        let made = Made {
                            source: src.commit,
                            tree: tree_of(&mem, &opts.to, staged.blob)?,
                            message: message(opts, &command, src, Ok(&staged)),
                            time: src.time,
                            failed: None,
                        };
                        staged_here = Some(staged);
                        made
                    }
                    Err(f) if !opts.keep_going => {
                        bar.finish_and_clear();
                        return Err(failure_error(opts, src.commit, &f));
                    }
                    Err(f) => {
                        if !opts.quiet {
                            bar.suspend(|| {
                                eprintln!(
                                    "qsnap: replay {}: {} {}: {} (recorded; going on)",
                                    opts.name, opts.from, src.commit, f.why
                                )
                            });
                        }
                        outcome.failed.push((src.commit, f.why.clone()));
                        match prior {
                            // Failed again, for the same reason: the record stands.
                            Some(e) if e.failed.as_deref() == Some(f.why.as_str()) => {
                                Made::of(&store.repo, &e)?
                            }
                            _ => {
                                Made {
                                    source: src.commit,
                                    // `write` takes the parent's.
                                    tree: empty_tree(&mem)?,
                                    message: message(opts, &command, src, Err(&f.why)),
                                    time: src.time,
                                    failed: Some(f.why),
                                }
                            }
                        }
                    }
                }
            }
        };
        chain.push(&mem, &made, staged_here.as_ref(), k, &sources)?;
        previous = Some(src.commit);
        bar.inc(1);
    }
    bar.finish_and_clear();
    outcome.head = chain.head;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn options() -> Options {
        Options {
            name: "m".into(),
            from: Resource::new("qplan", "raw").unwrap(),
            to: Resource::new("qplan", "results").unwrap(),
            command: vec!["sh".into(), "-c".into(), "a\nb".into()],
            force: false,
            keep_going: false,
            wait: Duration::from_secs(1),
            quiet: true,
        }
    }

    #[test]
    fn a_failure_record_reads_back_as_written() {
        let opts = options();
        let src = Source {
            commit: Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap(),
            time: git2::Time::new(0, 0),
            summary: "raw 1".into(),
            provenance: Vec::new(),
        };
        let command = serde_json::to_string(&opts.command).unwrap();
        // A newline in the command stays inside its JSON string: one line.
        assert_eq!(command, r#"["sh","-c","a\nb"]"#);
        let text = message(&opts, &command, &src, Err("the command exited 65\nmore"));
        assert!(text.starts_with("replay m: failed on qplan raw 0123456789ab\n\n"));
        let (from, source, to, cmd, failed) = trailers(&text, "m").unwrap();
        assert_eq!(
            (from, source, to),
            (opts.from.clone(), src.commit, opts.to.clone())
        );
        assert_eq!(cmd, command);
        assert_eq!(failed.as_deref(), Some("the command exited 65"));
        // Another replay's commit, or a put's, is not one of this replay's.
        assert!(trailers(&text, "n").is_none());
        assert!(trailers("put qplan raw\n\nQsnap-Resource: qplan raw\n", "m").is_none());
    }

    proptest! {
        #[test]
        fn any_message_is_read_without_panic(s in "\\PC{0,200}", name in "[a-z]{1,5}") {
            let _ = trailers(&s, &name);
            let _ = trailers(&format!("x\n\nQsnap-Replay: {name}\n{s}"), &name);
        }
    }

    #[test]
    fn exit_statuses_map_to_the_table() {
        use std::os::unix::process::ExitStatusExt;
        let code = |c: i32| code_of(ExitStatus::from_raw(c << 8));
        assert_eq!(code(65), 65);
        assert_eq!(code(1), 65);
        assert_eq!(code(2), 65);
        assert_eq!(code(69), 69);
        assert_eq!(code(74), 74);
        assert_eq!(code(75), 75);
        assert_eq!(code_of(ExitStatus::from_raw(libc::SIGKILL)), 65);
        assert_eq!(code_of(ExitStatus::from_raw(libc::SIGINT)), 130);
    }
}
