//! `qsnap maintenance`: the safe way to keep a store small while it is in
//! use.
//!
//! A store is a git repository and git keeps it small with `git gc`: it
//! packs loose objects and refs, and prunes objects nothing refers to. Run
//! beside live puts, plain git is unsafe in two ways: it removes an empty
//! fan-out directory (`objects/23/`) while a put writes into it, and with
//! `--prune=now` it deletes a put's new tree or commit in the moment
//! between its writing and `main` pointing at it. Maintenance here runs the
//! same `git gc`, but
//!
//! - while holding the store's lock, so no put moves `main` (or a side
//!   ref) meanwhile and every ref git reads is final;
//! - pruning only unreferenced objects older than a grace period (two
//!   weeks by default, as git's own default): a put streams its input into
//!   an object *before* it takes the lock, and that object, unreferenced
//!   until the put commits, is younger than the grace period;
//! - after removing what killed puts left (see [`super::lock`]).
//!
//! It reports the loose and packed objects and the loose refs before and
//! after. [`loose_estimate`] is git's own cheap guess at the number of
//! loose objects, for callers that run maintenance when there are many.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::store::Store;
use crate::error::{Error, Result};

/// git's default grace period (`gc.pruneExpire`): two weeks.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(14 * 24 * 3600);

/// The shortest grace period accepted: a put writes its input into an
/// unreferenced object before it waits for the lock, and must not lose it.
pub const MIN_GRACE: Duration = Duration::from_secs(60);

/// What maintenance is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Unreferenced objects younger than this are kept.
    pub grace: Duration,
    /// How long to wait for the store's lock, then 75.
    pub wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            grace: DEFAULT_GRACE,
            wait: super::lock::DEFAULT_WAIT,
        }
    }
}

/// The size of a store's object database and refs, as `git count-objects
/// -v` and the refs directory tell it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Loose objects, and their size in KiB.
    pub loose: u64,
    pub loose_kib: u64,
    /// Objects in packs, the packs, and their size in KiB.
    pub packed: u64,
    pub packs: u64,
    pub pack_kib: u64,
    /// Refs that are files of their own (not in `packed-refs`).
    pub loose_refs: u64,
}

/// What a maintenance run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub before: Counts,
    pub after: Counts,
    /// Temporary files of killed puts removed, and their bytes.
    pub leftovers: (u64, u64),
    pub grace: Duration,
    /// How long the store's lock was held.
    pub held: Duration,
    /// Whether it was the incremental pass of [`pack_loose`] (nothing
    /// pruned) rather than the whole of [`maintain`].
    pub incremental: bool,
}

impl Report {
    /// The report as lines for a person (what `qsnap maintenance` says).
    pub fn lines(&self) -> Vec<String> {
        let (b, a) = (&self.before, &self.after);
        // Objects that went: unreferenced ones past the grace period, and
        // loose copies of objects that were in a pack already.
        let gone = (b.loose + b.packed).saturating_sub(a.loose + a.packed);
        vec![
            format!(
                "loose objects: {} ({} KiB) -> {} ({} KiB)",
                b.loose, b.loose_kib, a.loose, a.loose_kib
            ),
            format!(
                "packed objects: {} in {} packs ({} KiB) -> {} in {} packs ({} KiB)",
                b.packed, b.packs, b.pack_kib, a.packed, a.packs, a.pack_kib
            ),
            format!("loose refs: {} -> {}", b.loose_refs, a.loose_refs),
            if self.incremental {
                format!(
                    "removed: {gone} objects (loose copies of packed ones; the loose objects \
                     were packed, nothing pruned), {} temporary files of killed puts ({} bytes)",
                    self.leftovers.0, self.leftovers.1
                )
            } else {
                format!(
                    "removed: {gone} objects (unreferenced for over {}, or loose copies of packed \
                     ones), {} temporary files of killed puts ({} bytes)",
                    show_duration(self.grace),
                    self.leftovers.0,
                    self.leftovers.1
                )
            },
            format!("the store was locked for {:.1} s", self.held.as_secs_f64()),
        ]
    }
}

/// Packs the store's objects and refs and prunes unreferenced objects
/// older than `opts.grace`, holding the store's lock throughout (puts wait
/// for it, up to their `--wait`).
pub fn maintain(store: &Store, opts: &Options) -> Result<Report> {
    if opts.grace < MIN_GRACE {
        return Err(Error::Usage(format!(
            "a grace period of {} is too short: a put's input waits unreferenced for the \
             store's lock, so at least {} is needed",
            show_duration(opts.grace),
            show_duration(MIN_GRACE)
        )));
    }
    let git_dir = store.repo.path();
    let lock = store.lock(opts.wait)?;
    let start = Instant::now();
    let before = counts(git_dir)?;
    // A put streaming its input right now keeps its files; gc gets them
    // another time.
    let leftovers = lock.remove_leftovers()?.unwrap_or((0, 0));
    let prune = format!("--prune={}.seconds.ago", opts.grace.as_secs());
    run_git(
        git_dir,
        &[
            // No detaching: the lock must outlive git's work.
            "-c",
            "gc.autoDetach=false",
            "-c",
            "core.fsync=committed",
            "gc",
            "--quiet",
            &prune,
        ],
    )?;
    let after = counts(git_dir)?;
    let held = start.elapsed();
    drop(lock);
    Ok(Report {
        before,
        after,
        leftovers,
        grace: opts.grace,
        held,
        incremental: false,
    })
}

/// The light pass of automatic maintenance: the loose objects main and
/// the other refs reach go into one new pack (`git repack -d`: the
/// commits are walked, but only unpacked objects are written), their loose
/// copies are removed, nothing is pruned, the packs already there are
/// left alone. Its time grows with the loose objects, not with the store:
/// a whole `git gc` rewrote every object at every run, and held the
/// store's lock for over 10 s at 25,000 objects on a loaded machine (a
/// bus PUT waits 10 s). Under the store's lock, as [`maintain`].
pub fn pack_loose(store: &Store, opts: &Options) -> Result<Report> {
    let git_dir = store.repo.path();
    let lock = store.lock(opts.wait)?;
    let start = Instant::now();
    let before = counts(git_dir)?;
    let leftovers = lock.remove_leftovers()?.unwrap_or((0, 0));
    run_git(
        git_dir,
        &[
            "-c",
            "core.fsync=committed",
            "repack",
            "-d",
            "-q",
            "--no-write-bitmap-index",
        ],
    )?;
    let after = counts(git_dir)?;
    let held = start.elapsed();
    drop(lock);
    Ok(Report {
        before,
        after,
        leftovers,
        grace: opts.grace,
        held,
        incremental: true,
    })
}

/// The packs in a store (`objects/pack/*.pack`).
pub fn packs(git_dir: &Path) -> u64 {
    std::fs::read_dir(git_dir.join("objects/pack")).map_or(0, |d| {
        d.flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
            .count() as u64
    })
}

/// git's estimate of the loose objects (what `git gc --auto` uses): the
/// objects in one fan-out directory, `objects/17/`, times 256. Reads one
/// directory, so it is cheap enough to ask after every put.
pub fn loose_estimate(git_dir: &Path) -> u64 {
    std::fs::read_dir(git_dir.join("objects/17")).map_or(0, |d| {
        d.flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.len() == 38 && name.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .count() as u64
            * 256
    })
}

/// The counts of a store, from `git count-objects -v` and `refs/`.
pub fn counts(git_dir: &Path) -> Result<Counts> {
    let out = run_git(git_dir, &["count-objects", "-v"])?;
    let mut c = parse_count_objects(&out);
    c.loose_refs = loose_refs(&git_dir.join("refs"));
    Ok(c)
}

/// Reads `git count-objects -v`: `key: number` lines; unknown keys and
/// lines that are not numbers are skipped.
fn parse_count_objects(text: &str) -> Counts {
    let mut c = Counts::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let Ok(n) = value.trim().parse::<u64>() else {
            continue;
        };
        match key.trim() {
            "count" => c.loose = n,
            "size" => c.loose_kib = n,
            "in-pack" => c.packed = n,
            "packs" => c.packs = n,
            "size-pack" => c.pack_kib = n,
            _ => {}
        }
    }
    c
}

/// The ref files under `dir` (lock files aside).
fn loose_refs(dir: &Path) -> u64 {
    let Ok(list) = std::fs::read_dir(dir) else {
        return 0;
    };
    list.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => loose_refs(&e.path()),
            Ok(t) if t.is_file() && !e.file_name().to_string_lossy().ends_with(".lock") => 1,
            _ => 0,
        })
        .sum()
}

/// Runs `git --git-dir DIR ARGS...` and returns its stdout; a failure is
/// an I/O error with git's message (75 when git says something is locked:
/// another git is maintaining the store).
fn run_git(git_dir: &Path, args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(git_dir).args(args);
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let doing = format!("running git {}", args.last().copied().unwrap_or(""));
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Unavailable {
            what: "git".into(),
            message: "maintenance runs the git command, which is not installed \
                      (apt-get install git)"
                .into(),
        },
        _ => Error::io(doing.clone(), e),
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if said.contains(".lock") || said.contains("gc is already running") {
        return Err(Error::Temporary {
            what: "store".into(),
            message: format!(
                "{doing} in {}: another git is working on the store ({said}); try again later",
                git_dir.display()
            ),
        });
    }
    Err(Error::io(
        format!("{doing} in {}", git_dir.display()),
        std::io::Error::other(if said.is_empty() {
            format!("git exited with {}", out.status)
        } else {
            said
        }),
    ))
}

/// Reads a duration: a whole number followed by `s`, `m`, `h`, `d` or `w`
/// (`90s`, `30m`, `12h`, `14d`, `2w`); a number alone is seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let unit: u64 = match &s[digits..] {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        "w" => 7 * 24 * 3600,
        _ => return None,
    };
    n.checked_mul(unit).map(Duration::from_secs)
}

/// A duration in the largest unit that divides it (`2w`, `36h`, `90s`).
pub fn show_duration(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, size) in [
        ("w", 7 * 24 * 3600),
        ("d", 24 * 3600),
        ("h", 3600),
        ("m", 60),
    ] {
        if s > 0 && s.is_multiple_of(size) {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_read_and_show_in_their_units() {
        let d = |s| parse_duration(s).map(|d| d.as_secs());
        assert_eq!(d("90"), Some(90));
        assert_eq!(d("90s"), Some(90));
        assert_eq!(d("30m"), Some(1800));
        assert_eq!(d("12h"), Some(43_200));
        assert_eq!(d("14d"), Some(1_209_600));
        assert_eq!(d("2w"), Some(1_209_600));
        for bad in ["", "w", "2x", "-1h", "1.5h", "2 w", "99999999999999999999w"] {
            assert_eq!(d(bad), None, "{bad}");
        }
        assert_eq!(show_duration(DEFAULT_GRACE), "2w");
        assert_eq!(show_duration(Duration::from_secs(36 * 3600)), "36h");
        assert_eq!(show_duration(Duration::from_secs(90)), "90s");
        assert_eq!(show_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn count_objects_output_is_read_by_key() {
        let c = parse_count_objects(
            "count: 12\nsize: 48\nin-pack: 300\npacks: 2\nsize-pack: 96\n\
             prune-packable: 0\ngarbage: 0\nsize-garbage: 0\nbogus line\nsize: x\n",
        );
        assert_eq!(
            c,
            Counts {
                loose: 12,
                loose_kib: 48,
                packed: 300,
                packs: 2,
                pack_kib: 96,
                loose_refs: 0
            }
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = parse_duration(&s);
            let _ = parse_count_objects(&s);
        }

        #[test]
        fn shown_durations_read_back(secs in 0u64..10_000_000) {
            let d = Duration::from_secs(secs);
            prop_assert_eq!(parse_duration(&show_duration(d)), Some(d));
        }
    }
}
