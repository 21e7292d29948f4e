//! `qsnap`: keep every version of raw, conditioned and result data in a git
//! repository, with provenance from results back to raw (SPEC section 7).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::cli::{progress, Tool, Verbosity};
use crate::error::{Error, Location};
use crate::snap::history::{self, short, show_time};
use crate::snap::remote::{self, Pulled, Remote};
use crate::snap::{
    auto, check, diff, maintain, objects, replay, store, verify, At, Put, Resource, Store, Version,
};

/// Keep every version of raw, conditioned and result data in a git repository.
///
/// The store is a bare git repository (`git log` and `git show` work in
/// it); the resource `qplan raw` lives at `raw/qplan.txt` on branch `main`.
/// Every put is one commit whose trailers name the resource and the
/// versions it was made from, so `qsnap trace` can walk from a result back
/// to the raw data. Puts are serialised with a lock; a put that is killed
/// leaves the store as it was.
///
/// Examples:
///   qpull --config sources.toml | qsnap put qplan raw
///   qsnap get qplan raw | qcondition --map map.toml | qsnap put qplan conditioned
///   qsnap get qplan conditioned | qplan | qsnap put qplan results
///   qsnap get qplan results --at-time 2026-10-01 | qplan -f text
///   qsnap log qplan results -n 5
///   qsnap trace qplan results
#[derive(Parser, Debug)]
#[command(name = "qsnap", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap.
    // `--repo` was this option's name before every command called the store
    // `--store`; it stays as a hidden alias so scripts keep working.
    #[arg(
        long = "store",
        alias = "repo",
        global = true,
        env = "QSNAP_REPO",
        value_name = "DIR"
    )]
    pub repo: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the store (put also creates it on first use).
    Init,
    /// Run every version of APP FROM through a command; keep the outputs
    /// as APP TO on a side branch (a replay), never on main.
    ///
    /// For each version of APP FROM on main, oldest first (first parents),
    /// the command gets the version on stdin as `qsnap get` writes it (its
    /// provenance first) and its stdout is stored as APP TO on the side ref
    /// refs/qsnap/replay/NAME: one commit per version, with the provenance a
    /// put records (the source version first, then its own provenance),
    /// dated as the source version so that the replay and main share a time
    /// axis. No other ref moves. Prints the replay's newest commit. Read it
    /// with `log`, `get` and `diff --replay NAME`; `qplan -f html --store
    /// DIR --replay NAME` draws its trend beside main's (a replay into
    /// `qplan results`).
    ///
    /// The command runs with the environment qwatch gives its commands:
    /// QSNAP_REPO (the store, absolute), QWATCH_RESOURCE (APP FROM),
    /// QWATCH_COMMIT (the version on stdin), QWATCH_PARENT (the version
    /// before it; empty for the first), QWATCH_RULE (replay-NAME),
    /// QWATCH_SEQ and QWATCH_EPOCH (empty), and QSNAP_REPLAY (NAME).
    ///
    /// Running it again goes on where the last run stopped: each commit
    /// names the version it came from (trailer Qsnap-Replay-Source), the
    /// versions done are not run again, and versions new on main are added.
    /// The ref moves under the store's lock, one compare-and-swap after each
    /// version's commit is written, so a replay killed at any moment (kill
    /// -9 too) loses nothing it finished and the next run resumes. --force
    /// redoes every version (the old replay is replaced as the new one is
    /// made). Another FROM, TO or command under the same NAME is refused (2)
    /// without --force; a map file changed behind the same command line
    /// cannot be seen: give --force then.
    ///
    /// A version fails when the command exits non-zero or its output is not
    /// a stream a put would store (valid, ending with `=====end`). The
    /// replay stops there with 65, naming the version's commit (with 69, 74
    /// or 75 when the command exits so: not the data's fault; 130 when it
    /// was interrupted); what was done before stays. With --keep-going the
    /// failure is recorded and the replay goes on: a commit with the trailer
    /// `Qsnap-Replay-Failed: WHY` and no new version (its tree is its
    /// parent's), shown by `log --replay NAME`; the replay then ends with
    /// 65, naming the failed versions. A recorded failure is not done: the
    /// next run tries it again, and when it succeeds the commits after it
    /// are written again onto it (their outputs kept; nothing is rerun).
    /// A version no longer on main's history (after `verify --repair`) is
    /// left out of the replay at its next change.
    ///
    /// A progress bar shows on stderr when it is a terminal (none with -q).
    ///
    /// Examples:
    ///   qsnap replay qplan raw results --name new-map -- \
    ///     sh -c 'qcondition --map new-map.toml | qplan'
    ///   qsnap log qplan results --replay new-map
    ///   qsnap get qplan results --replay new-map --at-time 2026-11-01 |
    ///     qplan -f text
    ///   qplan -f html --store "$QSNAP_REPO" --replay new-map -o report.html
    #[command(verbatim_doc_comment)]
    Replay {
        app: String,
        /// The stage read (every version of APP FROM on main).
        from: String,
        /// The stage written, on the replay.
        to: String,
        /// The replay's name (its side ref is refs/qsnap/replay/NAME):
        /// lower-case letters, digits, '_' and '-'.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Run every version again, done or not.
        #[arg(long)]
        force: bool,
        /// Record a version whose command fails and go on (exit 65 at the end).
        #[arg(long)]
        keep_going: bool,
        /// Wait at most SECONDS for the store's lock at each step, then fail
        /// with 75.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        wait: u64,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Store a stacked stream as the new version of APP STAGE; print the commit.
    ///
    /// Input from a pipe must end with `=====end`, or nothing is stored (65);
    /// a file named as an argument is complete by definition. A
    /// `qsnap provenance v1` section is recorded in the commit trailers, not
    /// in the content. The same data and provenance as the current version
    /// make no commit: the current commit is printed (`unchanged` said on
    /// stderr with -v only, so that cron stays quiet), and the check
    /// recorded (shown by log and ls). Data is every
    /// section but those headed `<app> fetch v<N>` (volatile metadata, such
    /// as qpull's fetch times). After a commit, a put maintains the store
    /// when loose objects have piled up (see maintenance: `gc.auto`).
    Put {
        app: String,
        stage: String,
        /// Input stream; `-` or nothing reads stdin.
        #[arg(value_name = "FILE")]
        input: Option<PathBuf>,
        /// The commit message (default: `put APP STAGE`).
        #[arg(short, long)]
        message: Option<String>,
        /// Wait at most SECONDS for another put (or a program holding
        /// `refs/heads/main.lock`), then fail with 75.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        wait: u64,
    },
    /// Write a stored version, prefixed with its provenance section.
    Get {
        app: String,
        stage: String,
        #[command(flatten)]
        at: AtArgs,
        /// The stored bytes alone, without the provenance section.
        #[arg(long)]
        raw: bool,
        /// Write to FILE instead of stdout; FILE is replaced only on success.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Read replay NAME instead of main: its newest version, or at
        /// --at (a commit of the replay, or a revision on main: the
        /// replay's version made from the newest source version at or
        /// before it) or --at-time (replay commits carry their source
        /// version's time).
        #[arg(long, value_name = "NAME")]
        replay: Option<String>,
    },
    /// History, newest first: commit, time, resource, message, provenance,
    /// and when a put last found a version's data again (`checked`).
    Log {
        /// Only the history of this resource (APP STAGE).
        #[arg(requires = "stage")]
        app: Option<String>,
        stage: Option<String>,
        #[arg(short, long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// At most N entries.
        #[arg(short = 'n', long = "max-count", value_name = "N")]
        max_count: Option<usize>,
        /// The history of replay NAME instead of main's, its recorded
        /// failures included (resource `-`).
        #[arg(long, value_name = "NAME")]
        replay: Option<String>,
    },
    /// Per section, the lines added and removed between two versions.
    Diff {
        app: String,
        stage: String,
        rev1: String,
        /// Default: the newest commit (of the replay, with --replay).
        rev2: Option<String>,
        /// Compare two versions of replay NAME: each REV as for `get
        /// --replay`.
        #[arg(long, value_name = "NAME")]
        replay: Option<String>,
    },
    /// The resources at a revision, with the commit and time of their
    /// version, and when a put last found its data again (`checked`).
    Ls {
        #[arg(long, value_name = "REV")]
        at: Option<String>,
    },
    /// Name a revision (default: the newest commit); tags work as REV.
    ///
    /// A NAME that would shadow another revision is refused (2): `main`,
    /// `HEAD`, or 4 to 40 hex digits (a commit id).
    Tag { name: String, rev: Option<String> },
    /// The provenance chain of a version: results → conditioned → raw.
    Trace {
        app: String,
        stage: String,
        #[arg(long, value_name = "REV")]
        at: Option<String>,
    },
    /// Check that every version is readable and every provenance commit
    /// present; exit 1 with the list of problems (on stdout) when not.
    ///
    /// Reads every commit reachable from main and the tags, their trees and
    /// every blob whole (git checks each object's hash). A provenance commit
    /// from another store counts as missing.
    ///
    /// With --repair, first, under the store's lock: main (or a side ref
    /// under refs/qsnap/) pointing at a commit with missing objects is
    /// moved back to the newest intact commit on its line; the broken
    /// commit is kept as refs/qsnap/broken/HEAD/TIME (nothing is deleted),
    /// and each put no longer on main is listed (`redo:` with its
    /// resource, time and commit) so it can be run again. Then the store
    /// is verified as without it: exit 0 when it is whole now.
    Verify {
        /// Move broken heads back to their newest intact commit.
        #[arg(long)]
        repair: bool,
        /// With --repair: wait at most SECONDS for the store's lock, then
        /// fail with 75.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        wait: u64,
    },
    /// Remove what killed puts left behind: temporary files in `objects/`
    /// that no running put holds, and a `main.lock` a dead put left.
    ///
    /// Puts do this too, each time they take the lock; gc also waits for
    /// puts that are streaming their input (up to --wait) and says what it
    /// removed.
    Gc {
        /// Wait at most SECONDS for the store's lock, then fail with 75.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        wait: u64,
    },
    /// Keep the store small, safely beside running puts: pack its objects
    /// and refs, prune unreferenced objects older than --grace, and say
    /// what was done (on stderr; -q for none).
    ///
    /// Runs `git gc` while holding the store's lock, so no put moves a ref
    /// meanwhile (puts wait for the lock, up to their --wait), after
    /// removing what killed puts left (as `qsnap gc`). For a cron job or a
    /// systemd timer: `qsnap maintenance -q` once a day.
    ///
    /// Puts (local, and over the bus) also maintain the store by
    /// themselves, as git does with `gc.auto`: after a commit, once about
    /// as many loose objects as the store's `gc.auto` have piled up (git's
    /// default, 6,700: some 2,000 puts), they pack them (`git repack -d`
    /// under the lock: nothing pruned, old packs left alone, so it takes
    /// as long in a store of a year as in a new one); once the packs reach
    /// the store's `gc.autoPackLimit` (git's default, 50), they run this
    /// command instead. `git --git-dir STORE config gc.auto N` changes N;
    /// 0 turns it off. `qsnap put -v` says when it ran.
    ///
    /// Do not run `git gc --prune=now` (or `git prune`) on a store in use:
    /// a put writes its new objects before it points main at them, and
    /// git, which knows nothing of the store's lock, may delete them in
    /// that moment. Puts check their objects after moving main and write
    /// any that went missing again, and `qsnap verify --repair` moves a
    /// broken head back, but only maintenance under the lock, with a grace
    /// period, is safe by design.
    #[command(verbatim_doc_comment)]
    Maintenance {
        /// Keep unreferenced objects younger than this: a number with `s`,
        /// `m`, `h`, `d` or `w` (`12h`, `2w`). At least a minute.
        #[arg(long, value_name = "AGE", default_value = "2w", value_parser = grace_arg)]
        grace: Duration,
        /// Wait at most SECONDS for the store's lock, then fail with 75.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        wait: u64,
    },
    /// Send main and the tags to a replica: a store directory (created when
    /// missing), `file://`, `https://`, `ssh://` or `user@host:path`.
    ///
    /// Runs `git push`, so the ssh agent, `~/.ssh/config`, credential
    /// helpers and `GIT_SSL_CAINFO` work as with git. Never forced, all or
    /// nothing: a replica whose main has commits this store lacks, or a tag
    /// on another commit, is refused (65). Into a store directory, takes
    /// its lock like a put. On a terminal, a bar shows git's progress
    /// (objects counted, compressed, written: count, rate, ETA); -q or a
    /// stderr that is not a terminal shows none.
    #[command(verbatim_doc_comment)]
    Push {
        #[arg(value_name = "REMOTE")]
        dest: String,
        /// Wait at most SECONDS for the lock of a store directory pushed
        /// into, then fail with 75.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        wait: u64,
    },
    /// Fast-forward main from a replica and add its missing tags.
    ///
    /// Runs `git fetch` (REMOTE as for push), then, under the store's lock,
    /// moves main only forward: a replica that diverged changes nothing
    /// (65), a store ahead of it stays as it is, local commits are never
    /// lost. A tag there naming another commit than here is refused (65).
    /// A missing store is made as by clone. On a terminal, a bar shows
    /// git's progress (objects received, deltas resolved); -q: none.
    Pull {
        #[arg(value_name = "REMOTE")]
        remote: String,
        /// Wait at most SECONDS for the store's lock, then fail with 75.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        wait: u64,
    },
    /// Answer requests and announce new versions on the bus.
    ///
    /// Requests (GET, PUT, HEADS, PUBLISH) on an nng REP socket, events on
    /// a PUB socket: one event per new commit on main, whoever made it (a
    /// PUT on the bus, a local `qsnap put`, a pull), with the service's
    /// epoch (new at every start) and a sequence number; a heartbeat every
    /// second with the latest sequence number and every resource's head.
    /// An ipc socket file is made with mode 0600. Anything but loopback or
    /// ipc needs --public and --token-file: nng here has no encryption.
    /// SIGINT or SIGTERM stop it after the request in hand (exit 0).
    ///
    /// Memory stays bounded however long it runs: libgit2 keeps at most
    /// 256 KiB of parsed commits and trees and maps at most 32 MiB of packs;
    /// the last 10,000 PUT request ids are kept as digests (2 MiB at
    /// most); nothing else is kept per put or event (-v says so at start).
    /// What a request or a maintenance freed is given back to the system
    /// (every 100 requests, when idle, after maintenance). Measured: 10 to
    /// 15 MB resident over 10,000 PUTs, most of it the program itself.
    #[command(verbatim_doc_comment)]
    Serve {
        /// Where requests are answered (REQ/REP).
        #[arg(long, value_name = "URL", default_value = crate::bus::DEFAULT_REP, value_parser = crate::bus::client::address_arg)]
        rep: String,
        /// Where events are published (PUB/SUB).
        #[arg(long = "pub", value_name = "URL", default_value = crate::bus::DEFAULT_PUB, value_parser = crate::bus::client::address_arg)]
        publish: String,
        /// Allow addresses off this machine (needs --token-file).
        #[arg(long)]
        public: bool,
        /// Every request must carry the token on this file's first line.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Refuse requests over BYTES (default 64 MiB).
        #[arg(long, value_name = "BYTES", default_value_t = crate::bus::server::DEFAULT_MAX_REQUEST)]
        max_request: usize,
        /// How long a PUT waits for the store's lock, then is refused
        /// with 75. A maintenance the service runs itself is waited for
        /// to its end.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        wait: u64,
    },
    /// Make a new store in DIR from a replica (REMOTE as for push).
    ///
    /// All or nothing: the store is made beside DIR and renamed there when
    /// complete. DIR must not exist or be empty. On a terminal, a bar
    /// shows git's progress (objects received, deltas resolved); -q: none.
    Clone {
        #[arg(value_name = "REMOTE")]
        src: String,
        dir: PathBuf,
    },
}

/// Which version: a revision git understands, or a point in time.
#[derive(clap::Args, Debug)]
pub struct AtArgs {
    /// A revision: a commit (full or short), `main~2`, a tag.
    #[arg(long, value_name = "REV", conflicts_with = "at_time")]
    pub at: Option<String>,
    /// The last version at or before TIME: an ISO date (the end of that
    /// day, UTC), a date-time (UTC unless an offset is given), or
    /// `@SECONDS`, a Unix time (`--at-time @1385856000`).
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    pub at_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table to read.
    Text,
    /// A JSON array of entries, for scripts and jq.
    Json,
}

fn time_arg(s: &str) -> Result<DateTime<Utc>, String> {
    history::parse_time(s)
        .ok_or_else(|| "expected a date (2026-11-24) or date-time (2026-11-24T14:00:00Z)".into())
}

fn grace_arg(s: &str) -> Result<Duration, String> {
    maintain::parse_duration(s).ok_or_else(|| {
        "expected a whole number with s, m, h, d or w (90s, 30m, 12h, 14d, 2w)".into()
    })
}

fn at_of(rev: Option<String>, time: Option<DateTime<Utc>>) -> At {
    match (rev, time) {
        (Some(r), _) => At::Rev(r),
        (None, Some(t)) => At::Time(t),
        (None, None) => At::Main,
    }
}

impl Tool for Args {
    const NAME: &'static str = "qsnap";

    fn output(&self) -> Option<&Path> {
        match &self.command {
            Command::Get { output, .. } => output.as_deref(),
            _ => None,
        }
    }

    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let repo = self.repo.filter(|p| !p.as_os_str().is_empty());
        let v = &self.verbosity;
        // Names are checked before the store is even located.
        match self.command {
            Command::Init => {
                let dir = store::locate(repo)?;
                // Creating a store is worth a line on stderr; finding one
                // is not, unless asked (-v).
                match Store::init(&dir)? {
                    (_, true) if !v.quiet => eprintln!("qsnap: store created at {}", dir.display()),
                    (_, true) => {}
                    (_, false) => v.note("qsnap", format!("store exists at {}", dir.display())),
                }
            }
            Command::Put {
                app,
                stage,
                input,
                message,
                wait,
            } => {
                let res = Resource::new(&app, &stage)?;
                let store = Store::init(&store::locate(repo)?)?.0;
                let (reader, complete) = open(input.as_deref())?;
                let wait = Duration::from_secs(wait);
                match store.put(&res, reader, complete, message.as_deref(), wait)? {
                    Put::Committed(oid) => {
                        writeln!(out, "{oid}")?;
                        out.flush()?;
                        // The put is done; a failed maintenance is said,
                        // not made the put's failure (the next put retries).
                        match auto::after_put(&store) {
                            Ok(a) => auto::describe(&a).iter().for_each(|l| v.note("qsnap", l)),
                            Err(e) => v.warn("qsnap", format!("automatic maintenance: {e}")),
                        }
                    }
                    Put::Unchanged(oid) => {
                        writeln!(out, "{oid}")?;
                        // Quiet unless asked: cron mails anything on stderr.
                        v.note("qsnap", format!("{res} unchanged"));
                    }
                }
            }
            Command::Replay {
                app,
                from,
                to,
                name,
                force,
                keep_going,
                wait,
                command,
            } => {
                let opts = replay::Options {
                    from: Resource::new(&app, &from)?,
                    to: Resource::new(&app, &to)?,
                    name,
                    command,
                    force,
                    keep_going,
                    wait: Duration::from_secs(wait),
                    quiet: v.quiet,
                };
                replay::check_name(&opts.name)?;
                let store = Store::open(&store::locate(repo)?)?;
                let done = replay::run(&store, &opts)?;
                if let Some(head) = done.head {
                    writeln!(out, "{head}")?;
                }
                out.flush()?;
                v.note(
                    "qsnap",
                    format!(
                        "replay {}: {} versions run, {} already done, {} failed",
                        opts.name,
                        done.ran,
                        done.skipped,
                        done.failed.len()
                    ),
                );
                if !done.failed.is_empty() {
                    let list: Vec<String> = done
                        .failed
                        .iter()
                        .map(|(c, why)| format!("{} ({why})", short(*c)))
                        .collect();
                    return Err(Error::data(
                        Location::default(),
                        format!(
                            "replay {}: {} of {} failed, recorded on the replay: {}",
                            opts.name,
                            match done.failed.len() {
                                1 => "1 version".to_owned(),
                                n => format!("{n} versions"),
                            },
                            opts.from,
                            list.join(", ")
                        ),
                    )
                    .into());
                }
            }
            Command::Get {
                app,
                stage,
                at,
                raw,
                output: _,
                replay: None,
            } => {
                let res = Resource::new(&app, &stage)?;
                let store = Store::open(&store::locate(repo)?)?;
                crate::snap::get::get(&store, &res, &at_of(at.at, at.at_time), raw, out)?;
            }
            Command::Get {
                app,
                stage,
                at,
                raw,
                output: _,
                replay: Some(name),
            } => {
                let res = Resource::new(&app, &stage)?;
                replay::check_name(&name)?;
                let store = Store::open(&store::locate(repo)?)?;
                let r = replay::open(&store, &name)?;
                let (blob, put) = r.version_at(&store.repo, &res, &at_of(at.at, at.at_time))?;
                crate::snap::get::write(&store, &res, blob, &put, raw, out)?;
            }
            Command::Log {
                app,
                stage,
                format,
                max_count,
                replay: name,
            } => {
                let res = match (app, stage) {
                    (Some(a), Some(s)) => Some(Resource::new(&a, &s)?),
                    _ => None,
                };
                if let Some(n) = &name {
                    replay::check_name(n)?;
                }
                let store = Store::open(&store::locate(repo)?)?;
                let side = match &name {
                    Some(n) => {
                        let r = replay::open(&store, n)?;
                        if let Some(res) = &res {
                            r.check_resource(res)?;
                        }
                        Some(r.head)
                    }
                    None => None,
                };
                log(&store, res.as_ref(), format, max_count, side, out)?;
            }
            Command::Diff {
                app,
                stage,
                rev1,
                rev2,
                replay: name,
            } => {
                let res = Resource::new(&app, &stage)?;
                if let Some(n) = &name {
                    replay::check_name(n)?;
                }
                let store = Store::open(&store::locate(repo)?)?;
                let side = name.map(|n| replay::open(&store, &n)).transpose()?;
                let content = |at: &At| -> anyhow::Result<Vec<u8>> {
                    let (blob, _) = match &side {
                        Some(r) => r.version_at(&store.repo, &res, at)?,
                        None => history::version_at(&store.repo, &res, at)?,
                    };
                    let blob = objects::blob(&store.repo, blob)?;
                    Ok(blob.content().to_vec())
                };
                let old = content(&At::Rev(rev1))?;
                let new = content(&rev2.map_or(At::Main, At::Rev))?;
                diff::write_text(out, &diff::diff(&old, &new)?)?;
            }
            Command::Ls { at } => {
                let store = Store::open(&store::locate(repo)?)?;
                ls(&store, &at_of(at, None), out)?;
            }
            Command::Tag { name, rev } => {
                crate::snap::name::check_tag(&name)?;
                let refname = format!("refs/tags/{name}");
                let store = Store::open(&store::locate(repo)?)?;
                let commit = history::resolve(&store.repo, &at_of(rev, None))?;
                if let Ok(existing) = store.repo.find_reference(&refname) {
                    let at = existing.target().map(short).unwrap_or_default();
                    return Err(Error::data(
                        Location::default(),
                        format!("tag {name} exists (at {at})"),
                    )
                    .into());
                }
                store
                    .repo
                    .tag_lightweight(&name, commit.as_object(), false)
                    .map_err(store::git(format!("tagging {name}")))?;
                writeln!(out, "{}", commit.id())?;
            }
            Command::Trace { app, stage, at } => {
                let res = Resource::new(&app, &stage)?;
                let store = Store::open(&store::locate(repo)?)?;
                trace(&store, &res, &at_of(at, None), out)?;
            }
            Command::Verify { repair, wait } => {
                let store = Store::open(&store::locate(repo)?)?;
                if repair {
                    repair_heads(&store, Duration::from_secs(wait), out)?;
                }
                let report = verify::verify(&store.repo)?;
                for p in &report.problems {
                    writeln!(out, "{p}")?;
                }
                if !report.problems.is_empty() {
                    return Err(Error::No(format!(
                        "{} problems in {}",
                        report.problems.len(),
                        store.dir.display()
                    ))
                    .into());
                }
                v.note(
                    "qsnap",
                    format!(
                        "{} commits, {} objects: all readable",
                        report.commits, report.objects
                    ),
                );
            }
            Command::Gc { wait } => {
                let store = Store::open(&store::locate(repo)?)?;
                let (files, bytes) = store.gc(Duration::from_secs(wait))?;
                if !v.quiet {
                    eprintln!("qsnap: removed {files} temporary files ({bytes} bytes)");
                }
            }
            Command::Maintenance { grace, wait } => {
                let store = Store::open(&store::locate(repo)?)?;
                let opts = maintain::Options {
                    grace,
                    wait: Duration::from_secs(wait),
                };
                let report = maintain::maintain(&store, &opts)?;
                if !v.quiet {
                    for line in report.lines() {
                        eprintln!("qsnap: {line}");
                    }
                }
            }
            Command::Push { dest, wait } => {
                let remote = Remote::parse(&dest)?;
                let store = Store::open(&store::locate(repo)?)?;
                let bar = progress::steps("qsnap push", v.quiet);
                let pushed = remote::push(
                    &store,
                    &remote,
                    Duration::from_secs(wait),
                    v.verbose > 0,
                    &bar,
                );
                bar.finish_and_clear();
                pushed?;
                v.note("qsnap", format!("pushed to {}", remote.shown()));
            }
            Command::Pull { remote, wait } => {
                let remote = Remote::parse(&remote)?;
                let dir = store::locate(repo)?;
                let wait = Duration::from_secs(wait);
                let bar = progress::steps("qsnap pull", v.quiet);
                let pulled = remote::pull_into(&dir, &remote, wait, v.verbose > 0, &bar);
                bar.finish_and_clear();
                let (pulled, tags) = pulled?;
                let shown = remote.shown();
                if !tags.is_empty() && !v.quiet {
                    eprintln!("qsnap: new tags from {shown}: {}", tags.join(", "));
                }
                match pulled {
                    Pulled::Forward { from, to, commits } if !v.quiet => eprintln!(
                        "qsnap: main {} -> {} ({} from {shown})",
                        from.map_or("(empty)".into(), short),
                        short(to),
                        remote::commits(commits)
                    ),
                    Pulled::Forward { .. } => {}
                    Pulled::UpToDate(at) => v.note(
                        "qsnap",
                        format!("main is up to date with {shown} at {}", short(at)),
                    ),
                    Pulled::Ahead(n) => v.note(
                        "qsnap",
                        format!(
                            "nothing to pull: main is {} ahead of {shown}",
                            remote::commits(n)
                        ),
                    ),
                }
            }
            Command::Serve {
                rep,
                publish,
                public,
                token_file,
                max_request,
                wait,
            } => {
                use crate::bus::server;
                server::check_addresses(&[&rep, &publish], public, token_file.is_some())?;
                let token = token_file.as_deref().map(server::read_token).transpose()?;
                let opts = server::Options {
                    store: store::locate(repo)?,
                    rep,
                    publish,
                    token,
                    max_request,
                    put_wait: Duration::from_secs(wait),
                    heartbeat: Duration::from_secs(1),
                    verbose: v.verbose > 0,
                };
                let stop = crate::cli::stop_on_signals()?;
                let quiet = v.quiet;
                let shown = opts.store.display().to_string();
                server::serve(opts, stop, |b| {
                    if !quiet {
                        eprintln!(
                            "qsnap: serving {shown}: requests on {}, events on {} (epoch {})",
                            b.rep, b.publish, b.epoch
                        );
                    }
                })?;
            }
            Command::Clone { src, dir } => {
                let remote = Remote::parse(&src)?;
                let bar = progress::steps("qsnap clone", v.quiet);
                let cloned = remote::clone(&remote, &dir, v.verbose > 0, &bar);
                bar.finish_and_clear();
                cloned?;
                v.note(
                    "qsnap",
                    format!("cloned {} into {}", remote.shown(), dir.display()),
                );
            }
        }
        Ok(())
    }
}

/// `verify --repair`: moves broken heads back and says what to redo.
fn repair_heads(store: &Store, wait: Duration, out: &mut dyn Write) -> anyhow::Result<()> {
    let lock = store.lock(wait)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let repaired = verify::repair(&store.repo, &lock, now)?;
    drop(lock);
    for r in &repaired {
        let head = r.head.strip_prefix("refs/heads/").unwrap_or(&r.head);
        match (r.moved_to, &r.kept_as) {
            (Some(to), kept) => writeln!(
                out,
                "{head}: commit {} is broken ({}): moved back to {}, the newest intact commit{}",
                short(r.broken),
                r.damage,
                short(to),
                kept.as_ref().map_or(String::new(), |k| format!(
                    "; the broken one is kept as {k}"
                ))
            )?,
            (None, _) => writeln!(
                out,
                "{head}: commit {} is broken ({}) and no intact commit is on its line: \
                 left as it is",
                short(r.broken),
                r.damage
            )?,
        }
        if r.moved_to.is_some() {
            for v in &r.lost {
                let resource = v
                    .resource
                    .as_ref()
                    .map_or("(no resource trailer)".into(), ToString::to_string);
                writeln!(
                    out,
                    "redo: {resource} put at {} (commit {}: {})",
                    show_time(v.time),
                    v.commit,
                    v.summary
                )?;
            }
        }
    }
    Ok(())
}

/// The input of a put, and whether it is complete by definition (a regular
/// file, named or redirected to stdin).
fn open(path: Option<&Path>) -> anyhow::Result<(Box<dyn BufRead>, bool)> {
    const BUF: usize = 256 * 1024;
    match path {
        Some(p) if p != Path::new("-") => {
            let f =
                File::open(p).map_err(|e| Error::io(format!("cannot open {}", p.display()), e))?;
            let regular = f.metadata().is_ok_and(|m| m.is_file());
            Ok((Box::new(BufReader::with_capacity(BUF, f)), regular))
        }
        _ => {
            let stdin = io::stdin();
            let regular = stdin
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(File::from)
                .and_then(|f| f.metadata().ok())
                .is_some_and(|m| m.is_file());
            Ok((Box::new(BufReader::with_capacity(BUF, stdin)), regular))
        }
    }
}

#[derive(Serialize)]
struct LogEntry {
    commit: String,
    time: String,
    resource: Option<String>,
    message: String,
    provenance: Vec<JsonProvenance>,
    /// When a later put last found the same data (see `snap::check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    checked: Option<String>,
}

#[derive(Serialize)]
struct JsonProvenance {
    resource: String,
    commit: String,
}

fn log(
    store: &Store,
    res: Option<&Resource>,
    format: Format,
    max: Option<usize>,
    side: Option<git2::Oid>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let main = match side {
        Some(head) => Some(objects::commit(&store.repo, head)?),
        None => store.main_commit()?,
    };
    let Some(main) = main else {
        if format == Format::Json {
            writeln!(out, "[]")?;
        }
        return Ok(());
    };
    if let (Some(res), None) = (res, side) {
        if !history::resources(&store.repo, &main)?.contains(res) {
            return Err(Error::data(
                Location::default(),
                format!("unknown resource {res}: nothing was ever put there"),
            )
            .into());
        }
    }
    let mut entries = Vec::new();
    let full = |entries: &Vec<Version>| max.is_some_and(|n| entries.len() >= n);
    match res {
        // From one version of the resource to the one before: the newest
        // is found without a walk (see `snap::newest`), so `log -n 1` of a
        // resource put long ago reads no more than one put yesterday.
        Some(r) => {
            let mut from = Some(main.id());
            while let Some(f) = from.filter(|_| !full(&entries)) {
                let Some(c) = history::last_put(&store.repo, f, r)? else {
                    break;
                };
                from = c.parent_ids().next();
                entries.push(Version::of(&c));
            }
        }
        None => {
            for oid in history::first_parents(&store.repo, main.id())? {
                if full(&entries) {
                    break;
                }
                entries.push(Version::of(&objects::commit(&store.repo, oid?)?));
            }
        }
    }
    let checks = check::last_checks(&store.repo)?;
    match format {
        Format::Text => {
            for v in &entries {
                let resource = v.resource.as_ref().map_or("-".into(), ToString::to_string);
                writeln!(
                    out,
                    "{}  {}  {resource:<24}  {}",
                    short(v.commit),
                    show_time(v.time),
                    v.summary
                )?;
                for p in &v.provenance {
                    writeln!(
                        out,
                        "{:14}from {} {}",
                        "",
                        p.resource,
                        &p.commit[..p.commit.len().min(12)]
                    )?;
                }
                if let Some(t) = checks.get(&v.commit) {
                    writeln!(out, "{:14}checked {}: same data", "", show_time(*t))?;
                }
            }
        }
        Format::Json => {
            let json: Vec<LogEntry> = entries
                .into_iter()
                .map(|v| LogEntry {
                    checked: checks.get(&v.commit).map(|t| show_time(*t)),
                    commit: v.commit.to_string(),
                    time: show_time(v.time),
                    resource: v.resource.map(|r| r.to_string()),
                    message: v.summary,
                    provenance: v
                        .provenance
                        .into_iter()
                        .map(|p| JsonProvenance {
                            resource: p.resource.to_string(),
                            commit: p.commit,
                        })
                        .collect(),
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

fn ls(store: &Store, at: &At, out: &mut dyn Write) -> anyhow::Result<()> {
    let commit = history::resolve(&store.repo, at)?;
    // Every line is worked out before the first is written: a damaged
    // object stops ls with nothing on stdout.
    let mut lines = Vec::new();
    let checks = check::last_checks(&store.repo)?;
    for (res, put) in history::heads(&store.repo, commit.id())? {
        let put = objects::commit(&store.repo, put)?;
        let checked = checks
            .get(&put.id())
            .map_or(String::new(), |t| format!("  checked {}", show_time(*t)));
        lines.push(format!(
            "{:<24}  {}  {}{checked}",
            res.to_string(),
            short(put.id()),
            show_time(put.time().seconds())
        ));
    }
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn trace(store: &Store, res: &Resource, at: &At, out: &mut dyn Write) -> anyhow::Result<()> {
    let (_, put) = history::version_at(&store.repo, res, at)?;
    let mut rows = vec![(res.to_string(), put.id().to_string())];
    rows.extend(
        Version::of(&put)
            .provenance
            .into_iter()
            .map(|p| (p.resource.to_string(), p.commit)),
    );
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(8);
    writeln!(out, "{:<width$}  {:<12}  TIME", "RESOURCE", "COMMIT")?;
    for (resource, commit) in rows {
        // An ancestor may come from another store: its time is then unknown.
        let time = history::resolve_rev(&store.repo, &commit)
            .ok()
            .map_or("(not in this store)".to_owned(), |c| {
                show_time(c.time().seconds())
            });
        let shown = &commit[..commit.len().min(12)];
        writeln!(out, "{resource:<width$}  {shown:<12}  {time}")?;
    }
    Ok(())
}
