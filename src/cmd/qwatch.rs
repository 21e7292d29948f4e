//! `qwatch`: run a command whenever a resource gets a new snapshot, so the
//! stages chain themselves. Arguments are turned into rules and a source
//! here; [`crate::watch`] does the work.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use crate::cli::{Tool, Verbosity};
use crate::error::Error;
use crate::snap::Resource;
use crate::watch::runner::{self, Options, Rule, Stop};
use crate::watch::state::Checkpoint;
use crate::watch::{config, duration, BusSource, OnBusy, RepoSource, RuleSpec, Source};

/// Run a command whenever a resource gets a new snapshot.
///
/// qwatch watches one or more resources (APP STAGE pairs) of a snapshot
/// store and runs COMMAND (no shell: write `sh -c '...'` for one) whenever
/// one of them gets a new head. The command finds in its environment:
///
///   QWATCH_RESOURCE  the resource, `qplan raw`
///   QWATCH_COMMIT    its new head (the commit to read)
///   QWATCH_PARENT    the head this watcher processed before (empty the
///                    first time): `qsnap diff $QWATCH_RESOURCE $QWATCH_PARENT $QWATCH_COMMIT`
///   QWATCH_SEQ, QWATCH_EPOCH
///                    the bus's sequence number and epoch (empty with --store)
///   QWATCH_RULE      the rule's name
///   QSNAP_REPO       the store (with --store), so `qsnap get` reads the same
///
/// It watches a store directly (--store DIR: no service needed) or listens
/// to `qsnap serve` (--bus URL, the default without --store): events ring
/// the bell, the service's HEADS reply is the truth; a lost event, a
/// restarted service or a missed heartbeat makes it read the heads again.
///
/// Catch-up first: on start, qwatch reads the heads and runs once for every
/// head its checkpoint (--state) has not recorded, so a watcher that was down
/// misses nothing. The checkpoint moves only when the command succeeds. A
/// burst of puts coalesces: the command runs against the newest head. A
/// failed command is reported on stderr with its exit status and the end
/// of its stderr, and qwatch goes on (it is not rerun on the same head).
///
/// Memory stays bounded however long it runs, in both modes: libgit2
/// keeps at most 256 KiB of parsed commits and trees and maps at most 32 MiB
/// of packs (-v says so at start); nothing is kept per put or event, and
/// its threads share one malloc arena. Measured: about 5 MB resident in
/// --bus mode over 10,000 events, about 7 MB with --repo over 3,000 puts.
///
/// SIGINT or SIGTERM: qwatch starts nothing new, gives the running command
/// the grace period to finish (then SIGTERM to its process group, then
/// SIGKILL), and exits with 130.
///
/// Examples:
///
///   qwatch --store store qplan raw -- sh -c \
///     'qsnap get qplan raw | qcondition --map map.toml | qsnap put qplan conditioned'
///   qwatch --store store --config chain.toml
///   qwatch --store store --once qplan results -- make report
#[derive(Parser, Debug)]
#[command(name = "qwatch", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The resources to watch, as APP STAGE pairs (`qplan raw qplan
    /// conditioned`).
    #[arg(value_name = "APP STAGE")]
    pub watch: Vec<String>,

    /// The command to run, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    /// Watch this store directly (no service): the kernel (inotify) wakes
    /// qwatch when the store's refs change, nothing polls; a store that
    /// does not exist yet is waited for. With --bus, only where the
    /// checkpoints are kept.
    // `--repo`, its name before every command said `--store`, stays as a
    // hidden alias.
    #[arg(long = "store", alias = "repo", env = "QSNAP_REPO", value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// Watch through `qsnap serve` at this request address (the default
    /// when no --store is given: tcp://127.0.0.1:5000).
    #[arg(long, value_name = "URL", value_parser = crate::bus::client::address_arg)]
    pub bus: Option<String>,

    /// The service's events address (default: what its HEADS reply says).
    #[arg(long, value_name = "URL", value_parser = crate::bus::client::address_arg)]
    pub events: Option<String>,

    /// Send the token on this file's first line with every request (a
    /// service started with --public).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// What a newer head does while the command runs: queue (one more run
    /// against the newest head when it ends), restart (stop it: SIGTERM to
    /// its process group, SIGKILL after --grace, and run again), drop
    /// (skip the puts made meanwhile).
    #[arg(long, value_enum, default_value_t, value_name = "POLICY")]
    pub on_busy: OnBusy,

    /// Start a run only once the heads have not moved for MS milliseconds.
    #[arg(long, value_name = "MS")]
    pub debounce: Option<u64>,

    /// Also run the command on a timer (`15m`, `1h`, `30s`); with no
    /// resource to watch, the first run is at start.
    #[arg(long, value_name = "DURATION", value_parser = duration::arg)]
    pub every: Option<Duration>,

    /// How long a command is given to stop, at shutdown and on restart.
    #[arg(long, value_name = "DURATION", value_parser = duration::arg, default_value = "10s")]
    pub grace: Duration,

    /// The checkpoint file (default: under the store, in
    /// `qwatch/<rule>-<hash>.checkpoint`).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Run the catch-up and exit: 0 when every run succeeded. With --bus,
    /// a service that does not answer is an error (69), not waited for.
    #[arg(long)]
    pub once: bool,

    /// Exit (75) at the first failed command instead of going on.
    #[arg(long)]
    pub exit_on_error: bool,

    /// Run the rules of a chain file (several watches and commands in one
    /// process, each with its own queue and checkpoint) instead of one
    /// rule given on the command line.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["watch", "command", "state", "every", "debounce"])]
    pub config: Option<PathBuf>,

    /// Say what each rule last did and when, and exit: its last run (ok or
    /// failed, on which head, started and ended), and what its checkpoint
    /// records as processed. The rules are those of --config, or the one
    /// given (APP STAGE -- COMMAND, or --state FILE), or else every rule
    /// with a checkpoint in the store's `qwatch/` (--store) or in
    /// $XDG_STATE_HOME/qwatch. Exit 1 when a rule's last run failed.
    #[arg(long, conflicts_with_all = ["once", "exit_on_error"])]
    pub status: bool,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

impl Args {
    /// The rules asked for, checked.
    fn rules(&self) -> anyhow::Result<Vec<RuleSpec>> {
        if let Some(path) = &self.config {
            return Ok(config::load(path)?);
        }
        if !self.watch.len().is_multiple_of(2) {
            return Err(Error::Usage(format!(
                "resources come in APP STAGE pairs; {:?} has no stage",
                self.watch.last().map(String::as_str).unwrap_or("")
            ))
            .into());
        }
        let watch = self
            .watch
            .chunks(2)
            .map(|p| Resource::new(&p[0], &p[1]))
            .collect::<Result<Vec<_>, _>>()?;
        if self.command.first().is_none_or(String::is_empty) {
            return Err(Error::Usage("no command: give it after `--`".into()).into());
        }
        if watch.is_empty() && self.every.is_none() {
            return Err(Error::Usage(
                "nothing to watch: give APP STAGE pairs, or --every DURATION".into(),
            )
            .into());
        }
        if self.every == Some(Duration::ZERO) {
            return Err(Error::Usage("--every must be longer than zero".into()).into());
        }
        let name = watch
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(vec![RuleSpec {
            name: if name.is_empty() {
                "timer".into()
            } else {
                name
            },
            watch,
            command: self.command.clone(),
            on_busy: self.on_busy,
            debounce: Duration::from_millis(self.debounce.unwrap_or(0)),
            every: self.every,
            state: self.state.clone(),
        }])
    }
}

impl Tool for Args {
    const NAME: &'static str = "qwatch";

    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        if self.status {
            return self.status(out);
        }
        let specs = self.rules()?;
        // A daemon: libgit2's memory capped before the store is opened.
        let bounds = crate::snap::daemon::bound_memory()?;
        if self.verbosity.verbose > 0 {
            eprintln!("qwatch: {}", bounds.describe());
        }
        let mut watch: Vec<Resource> = Vec::new();
        for s in &specs {
            for r in &s.watch {
                if !watch.contains(r) {
                    watch.push(r.clone());
                }
            }
        }
        let repo = self.repo.clone().filter(|p| !p.as_os_str().is_empty());
        let verbose = self.verbosity.verbose > 0;
        let (mut source, state_dir): (Box<dyn Source>, PathBuf) = match (&self.bus, repo) {
            (None, Some(repo)) => {
                let source = RepoSource::new(&repo, watch)?;
                let dir = source.dir().join("qwatch");
                (Box::new(source), dir)
            }
            (bus, repo) => {
                let url = bus.as_deref().unwrap_or(crate::bus::DEFAULT_REP);
                let token = self
                    .token_file
                    .as_deref()
                    .map(crate::bus::server::read_token)
                    .transpose()?;
                let dir = match repo {
                    Some(r) => std::path::absolute(&r)
                        .map_err(|e| Error::io(format!("finding {}", r.display()), e))?
                        .join("qwatch"),
                    None => state_home()?,
                };
                let source =
                    BusSource::new(url, self.events.clone(), token, verbose).fail_fast(self.once);
                (Box::new(source), dir)
            }
        };
        let rules = load_rules(specs, &state_dir)?;
        let opts = Options {
            once: self.once,
            exit_on_error: self.exit_on_error,
            grace: self.grace,
            verbose,
            quiet: self.verbosity.quiet,
        };
        let stop = Stop::install()?;
        runner::run(rules, source.as_mut(), &opts, &stop)?;
        Ok(())
    }
}

impl Args {
    /// The checkpoints `--status` reports on, with their rule's name when
    /// the rule was given.
    fn status_checkpoints(&self) -> anyhow::Result<Vec<(Option<String>, PathBuf)>> {
        let repo = self.repo.clone().filter(|p| !p.as_os_str().is_empty());
        let dir = match &repo {
            Some(r) => std::path::absolute(r)
                .map_err(|e| Error::io(format!("finding {}", r.display()), e))?
                .join("qwatch"),
            None => state_home()?,
        };
        if self.config.is_some() || !self.watch.is_empty() || !self.command.is_empty() {
            return Ok(self
                .rules()?
                .iter()
                .map(|spec| {
                    let path = spec
                        .state
                        .clone()
                        .unwrap_or_else(|| runner::default_state(&dir, spec));
                    (Some(spec.name.clone()), path)
                })
                .collect());
        }
        if let Some(state) = &self.state {
            return Ok(vec![(None, state.clone())]);
        }
        // Every rule that left a checkpoint or a last run there.
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Usage(format!(
                    "no rule has run here: {} does not exist (give --store DIR, --config FILE \
                     or the rule)",
                    dir.display()
                ))
                .into())
            }
            Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e).into()),
        };
        let mut found = std::collections::BTreeSet::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let base = name.strip_suffix(".last").unwrap_or(&name);
            if base.ends_with(".checkpoint") && !base.starts_with('.') {
                found.insert(dir.join(base));
            }
        }
        Ok(found.into_iter().map(|p| (None, p)).collect())
    }

    /// `--status`: what each rule last did.
    fn status(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        use crate::watch::status;
        let checkpoints = self.status_checkpoints()?;
        let now = std::time::SystemTime::now();
        let mut failed = Vec::new();
        let write = |r: std::io::Result<()>| r.map_err(|e| Error::io("writing the status", e));
        for (i, (given, path)) in checkpoints.iter().enumerate() {
            let checkpoint = Checkpoint::load(path)?;
            let last = status::load(path)?;
            let recorded = last.as_ref().map(|l| l.rule.clone());
            let name = given.clone().or(recorded).unwrap_or_else(|| {
                let names: Vec<String> = checkpoint.done.keys().map(|r| r.to_string()).collect();
                if names.is_empty() {
                    "(unnamed)".to_owned()
                } else {
                    names.join(", ")
                }
            });
            if i > 0 {
                write(writeln!(out))?;
            }
            write(writeln!(out, "{name}"))?;
            match &last {
                None => write(writeln!(out, "  last run    none recorded"))?,
                Some(l) => {
                    let on = if l.resource.is_empty() {
                        "on the timer".to_owned()
                    } else {
                        format!("on {} {}", l.resource, short(&l.commit))
                    };
                    write(writeln!(
                        out,
                        "  last run    {} {on}, ended {}{}",
                        l.outcome,
                        l.ended,
                        ago(&l.ended, now)
                    ))?;
                    write(writeln!(out, "  started     {}", l.started))?;
                    write(writeln!(out, "  command     {}", l.command))?;
                    if !l.ok() {
                        failed.push(name.clone());
                    }
                }
            }
            if checkpoint.done.is_empty() {
                write(writeln!(out, "  processed   nothing yet"))?;
            }
            for (res, commit) in &checkpoint.done {
                write(writeln!(out, "  processed   {res} {}", short(commit)))?;
            }
            write(writeln!(out, "  checkpoint  {}", path.display()))?;
        }
        if checkpoints.is_empty() {
            write(writeln!(out, "no rule has run yet"))?;
        }
        if failed.is_empty() {
            return Ok(());
        }
        Err(Error::No(format!(
            "the last run failed for {}: see its stderr (the journal, under systemd)",
            failed.join("; ")
        ))
        .into())
    }
}

/// The first 12 digits of a commit.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// ` (5 min ago)` for a time kept as `2026-12-07T05:50:02Z`.
fn ago(when: &str, now: std::time::SystemTime) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(when) else {
        return String::new();
    };
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let secs = now - t.timestamp();
    match secs {
        s if s < 0 => String::new(),
        s if s < 120 => format!(" ({s} s ago)"),
        s if s < 2 * 3600 => format!(" ({} min ago)", s / 60),
        s if s < 2 * 86400 => format!(" ({} h ago)", s / 3600),
        s => format!(" ({} days ago)", s / 86400),
    }
}

/// Where checkpoints go when no store is named: `$XDG_STATE_HOME/qwatch`,
/// else `~/.local/state/qwatch`.
fn state_home() -> anyhow::Result<PathBuf> {
    let nonempty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty());
    if let Some(dir) = nonempty("XDG_STATE_HOME") {
        return Ok(PathBuf::from(dir).join("qwatch"));
    }
    if let Some(home) = nonempty("HOME") {
        return Ok(PathBuf::from(home).join(".local/state/qwatch"));
    }
    Err(
        Error::Usage("where do checkpoints go? give --state FILE, --store DIR or set HOME".into())
            .into(),
    )
}

/// Each rule with its checkpoint, read before anything runs.
fn load_rules(specs: Vec<RuleSpec>, state_dir: &Path) -> anyhow::Result<Vec<Rule>> {
    let mut rules: Vec<Rule> = Vec::new();
    for spec in specs {
        let path = spec
            .state
            .clone()
            .unwrap_or_else(|| runner::default_state(state_dir, &spec));
        if rules.iter().any(|r| r.checkpoint.path == path) {
            return Err(Error::Usage(format!(
                "two rules share the checkpoint {}: give each its own `state`",
                path.display()
            ))
            .into());
        }
        let checkpoint = Checkpoint::load(&path)?;
        rules.push(Rule { spec, checkpoint });
    }
    Ok(rules)
}
