//! Where a watcher learns about new snapshots. A source answers two
//! questions: "what are the heads now?" (the truth, read from the store)
//! and "wait until something may have changed, or until a deadline" (the
//! doorbell). The runner never trusts the doorbell for content: when it
//! rings it asks for the heads again and compares them with its checkpoint,
//! so a lost, duplicated or reordered notification cannot lose a put.
//!
//! [`RepoSource`] watches a local store through inotify ([`RefWatch`]: no
//! polling, no wake-up while nothing is put), reads its main branch when
//! the kernel says a ref may have changed, and reads the heads of the
//! watched resources with one first-parent walk of the new commits only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use git2::Oid;

use crate::error::{Error, Result};
use crate::snap::history::{self, Version};
use crate::snap::refwatch::RefWatch;
use crate::snap::store::{self, Store};
use crate::snap::{objects, Resource};

/// The heads of the watched resources, with the bus's epoch and sequence
/// when there is a bus (empty in `--store` mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heads {
    pub epoch: Option<String>,
    pub seq: Option<u64>,
    pub heads: BTreeMap<Resource, String>,
}

/// What a watcher reads the store through.
pub trait Source {
    /// The truth: the current head of every watched resource that exists.
    fn heads(&mut self) -> Result<Heads>;

    /// The doorbell: returns `true` as soon as the heads may have changed,
    /// `false` at `deadline` when nothing happened.
    fn wait(&mut self, deadline: Instant) -> Result<bool>;

    /// Makes a failure of a watcher's command visible beyond its stderr
    /// (the bus publishes it on `<app> errors`). Nothing by default.
    fn publish_error(&mut self, _app: &str, _text: &str) {}

    /// Environment the command needs to read the same store
    /// (`QSNAP_REPO` in repo mode).
    fn child_env(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Makes `wait` also end when `fd` is readable (the runner's signal
    /// pipe). Returns whether this source can: when it cannot, the runner
    /// looks at its stop flag on a short timer instead.
    fn wake_on(&mut self, _fd: std::os::fd::RawFd) -> bool {
        false
    }
}

/// A local store, watched through inotify.
pub struct RepoSource {
    dir: PathBuf,
    store: Option<Store>,
    watch: Vec<Resource>,
    /// main as last read by `heads`, and the heads at that commit.
    seen: Option<(Oid, BTreeMap<Resource, String>)>,
    /// main as last read by `wait`.
    rung: Option<Oid>,
    said_missing: bool,
    /// The kernel's doorbell, set up at the first wait.
    doorbell: Option<RefWatch>,
    /// The runner's signal pipe, handed to the watch.
    wake: Option<std::os::fd::RawFd>,
}

impl RepoSource {
    /// Watches the store at `dir` (made absolute, since it is handed to
    /// commands run elsewhere). A store that does not exist yet is waited
    /// for, with one note on stderr.
    pub fn new(dir: &Path, watch: Vec<Resource>) -> Result<RepoSource> {
        let dir = std::path::absolute(dir)
            .map_err(|e| Error::io(format!("finding the store {}", dir.display()), e))?;
        Ok(RepoSource {
            dir,
            store: None,
            watch,
            seen: None,
            rung: None,
            said_missing: false,
            doorbell: None,
            wake: None,
        })
    }

    /// The store's directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn store(&mut self) -> Result<Option<&Store>> {
        if self.store.is_none() {
            if !self.dir.join("HEAD").exists() {
                if !self.said_missing {
                    eprintln!(
                        "qwatch: no store at {} yet; waiting for the first put",
                        self.dir.display()
                    );
                    self.said_missing = true;
                }
                return Ok(None);
            }
            self.store = Some(Store::open(&self.dir)?);
        }
        Ok(self.store.as_ref())
    }

    fn main(&mut self) -> Result<Option<Oid>> {
        let Some(store) = self.store()? else {
            return Ok(None);
        };
        match store.repo.refname_to_id(store::MAIN) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(store::git("reading the main branch")(e)),
        }
    }
}

impl Source for RepoSource {
    fn heads(&mut self) -> Result<Heads> {
        let Some(main) = self.main()? else {
            self.rung = None;
            return Ok(Heads::default());
        };
        self.rung = Some(main);
        if let Some((at, heads)) = &self.seen {
            if *at == main {
                return Ok(Heads {
                    heads: heads.clone(),
                    ..Heads::default()
                });
            }
        }
        let Some(store) = self.store.as_ref() else {
            return Ok(Heads::default());
        };
        let heads = walk(&store.repo, main, &self.watch, self.seen.as_ref())?;
        self.seen = Some((main, heads.clone()));
        Ok(Heads {
            heads,
            ..Heads::default()
        })
    }

    fn wait(&mut self, deadline: Instant) -> Result<bool> {
        if self.doorbell.is_none() {
            // Watching starts before the first read of main below, so
            // that a put in between is an event, not lost.
            let mut w = RefWatch::new(&self.dir)?;
            if let Some(fd) = self.wake {
                w.also_wake_on(fd);
            }
            self.doorbell = Some(w);
        }
        if self.main()? != self.rung {
            return Ok(true);
        }
        let Some(w) = self.doorbell.as_mut() else {
            return Ok(false);
        };
        let woke = w.wait(Some(deadline))?;
        if w.take_replaced() {
            // Another store at the same path: open it afresh.
            self.store = None;
            self.seen = None;
            self.said_missing = false;
        }
        // News or a signal: the runner looks (a wake-up for nothing costs
        // it one read of main).
        Ok(woke)
    }

    fn wake_on(&mut self, fd: std::os::fd::RawFd) -> bool {
        self.wake = Some(fd);
        if let Some(w) = self.doorbell.as_mut() {
            w.also_wake_on(fd);
        }
        true
    }

    fn child_env(&self) -> Vec<(String, String)> {
        vec![("QSNAP_REPO".into(), self.dir.display().to_string())]
    }
}

/// The heads of `watch` at `main`: a first-parent walk that stops when
/// every watched resource is found, or when it reaches the commit of the
/// previous walk, whose heads then stand for whatever was not found since.
fn walk(
    repo: &git2::Repository,
    main: Oid,
    watch: &[Resource],
    before: Option<&(Oid, BTreeMap<Resource, String>)>,
) -> Result<BTreeMap<Resource, String>> {
    let mut found: BTreeMap<Resource, String> = BTreeMap::new();
    for oid in history::first_parents(repo, main)? {
        if found.len() == watch.len() {
            return Ok(found);
        }
        let oid = oid?;
        if let Some((at, heads)) = before {
            if *at == oid {
                for (res, head) in heads {
                    found.entry(res.clone()).or_insert_with(|| head.clone());
                }
                return Ok(found);
            }
        }
        let c = objects::commit(repo, oid)?;
        let version = Version::of(&c);
        for res in watch {
            if !found.contains_key(res) && history::touches(repo, &c, &version, res)? {
                found.insert(res.clone(), oid.to_string());
            }
        }
    }
    Ok(found)
}
