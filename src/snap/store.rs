//! The store: a bare git repository whose `main` branch holds every version
//! of every resource. This module opens and creates it and writes to it.
//!
//! A put reads the whole input into a blob first (streamed to disk, never
//! held in memory) and only then takes the store's lock, re-reads `main` and
//! moves it by one commit. A put killed at any moment therefore leaves at
//! worst an unreferenced object, which `git fsck` reports as dangling, never
//! as an error.

use std::io::{BufRead, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{
    build::TreeUpdateBuilder, Commit, FileMode, ObjectType, Oid, Repository, RepositoryInitOptions,
};

use super::check::{self, DataDigest};
use super::history::{self, Provenance};
use super::lock::{self, StoreLock};
use super::name::Resource;
use super::newest;
use super::objects;
pub use super::objects::{git, MAIN};
use crate::error::{Error, Result};
use crate::stream::{Event, Reader, Writer, PROVENANCE};

pub struct Store {
    pub repo: Repository,
    pub dir: PathBuf,
}

/// The store directory: `--store` (or `QSNAP_REPO`, which clap folds into
/// it), else `$XDG_DATA_HOME/qsnap`, else `~/.local/share/qsnap`.
pub fn locate(repo: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = repo {
        return Ok(dir);
    }
    let nonempty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty());
    if let Some(data) = nonempty("XDG_DATA_HOME") {
        return Ok(PathBuf::from(data).join("qsnap"));
    }
    if let Some(home) = nonempty("HOME") {
        return Ok(PathBuf::from(home).join(".local/share/qsnap"));
    }
    Err(Error::Usage(
        "where is the store? give --store DIR or set QSNAP_REPO (HOME is not set either)".into(),
    ))
}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// A new commit on main.
    Committed(Oid),
    /// The content and provenance equal the current version, whose commit
    /// this is; nothing was written.
    Unchanged(Oid),
}

/// Whether puts flush what they write: yes, unless `QSNAP_FSYNC=0` (for
/// benchmarks, and throwaway stores in tests or CI, where a power loss
/// does not matter; `bench/faults.sh` measures the difference).
fn fsync_on() -> bool {
    std::env::var_os("QSNAP_FSYNC").is_none_or(|v| v != "0")
}

/// Makes libgit2 flush (fsync) every object and ref it writes, and the
/// directory that names it, before reporting success: a put whose commit
/// id was printed survives a power loss. Process-wide, and read by libgit2
/// when a repository is opened, so it is set before the first open.
fn durable() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        libgit2_sys::init();
        let on = std::ffi::c_int::from(fsync_on());
        // SAFETY: GIT_OPT_ENABLE_FSYNC_GITDIR takes one int; libgit2 is
        // initialised above and this runs once, before any repository is
        // opened by this process.
        unsafe {
            libgit2_sys::git_libgit2_opts(
                libgit2_sys::GIT_OPT_ENABLE_FSYNC_GITDIR as std::ffi::c_int,
                on,
            );
        }
    });
}

/// Runs a libgit2 open (or init); when it fails on a git configuration
/// file outside the store (a broken `~/.gitconfig`, the XDG or system
/// one), warns and runs it once more with those files out of libgit2's
/// search path. libgit2 reads them whenever it opens a repository, and
/// gives up on the repository when one does not parse, so a typo in the
/// user's git config made every store "not a qsnap store". A store needs
/// nothing from them; qsnap only takes the commit identity (`user.name`),
/// which then falls back to `qsnap`. They are not left out from the start,
/// so that a user whose config is fine keeps their identity.
fn outside_config_ignored<T>(
    open: impl Fn() -> std::result::Result<T, git2::Error>,
) -> std::result::Result<T, git2::Error> {
    match open() {
        Err(e) if e.class() == git2::ErrorClass::Config => {
            eprintln!(
                "qsnap: warning: ignoring the git configuration outside the store \
                 ({}); commits are made as qsnap",
                e.message()
            );
            for level in [
                git2::ConfigLevel::System,
                git2::ConfigLevel::XDG,
                git2::ConfigLevel::Global,
                git2::ConfigLevel::ProgramData,
            ] {
                // SAFETY: libgit2 options are process-wide and not
                // synchronised; qsnap opens its store from one thread,
                // before any other libgit2 work.
                unsafe { git2::opts::set_search_path(level, "") }?;
            }
            open()
        }
        other => other,
    }
}

/// Flushes a directory, so that the names of new files in it are durable.
pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    if !fsync_on() {
        return Ok(());
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("flushing {}", dir.display()), e))
}

/// A temporary directory beside `dir` (its parent is created), in which a
/// store is made whole before it is renamed to `dir`: a store is never
/// seen half made.
pub(super) fn staging_beside(dir: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| creating(dir, e))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .map_err(|e| creating(dir, e))
}

/// The error of making the store at `dir`.
pub(super) fn creating(dir: &Path, e: std::io::Error) -> Error {
    Error::io(format!("creating the store at {}", dir.display()), e)
}

impl Store {
    /// Opens an existing store; a missing one is "unavailable" (69).
    pub fn open(dir: &Path) -> Result<Store> {
        durable();
        match outside_config_ignored(|| Repository::open_bare(dir)) {
            Ok(repo) => Ok(Store {
                repo,
                dir: dir.to_path_buf(),
            }),
            Err(_) if !dir.exists() => Err(Error::Unavailable {
                what: "store".into(),
                message: format!(
                    "no store at {} (create it with `qsnap init`, or put something in it)",
                    dir.display()
                ),
            }),
            Err(e) => Err(Error::Unavailable {
                what: "store".into(),
                message: format!("{} is not a qsnap store: {}", dir.display(), e.message()),
            }),
        }
    }

    /// Creates the store, or opens it when it exists. Returns whether it was
    /// created. The repository is made in a temporary directory beside its
    /// place and renamed there, so that puts racing to create the same store
    /// all end up using one whole repository.
    pub fn init(dir: &Path) -> Result<(Store, bool)> {
        durable();
        if dir.join("HEAD").exists() {
            return Ok((Store::open(dir)?, false));
        }
        if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
            return Err(Error::Usage(format!(
                "{} exists and is not empty: a store needs a directory of its own",
                dir.display()
            )));
        }
        let tmp = staging_beside(dir, ".qsnap-init-")?;
        let mut opts = RepositoryInitOptions::new();
        opts.bare(true).initial_head("main");
        outside_config_ignored(|| Repository::init_opts(tmp.path(), &opts))
            .map_err(git(format!("creating the store at {}", dir.display())))?;
        match std::fs::rename(tmp.path(), dir) {
            Ok(()) => {
                // The directory is the store now; nothing left to clean.
                let _ = tmp.keep();
                Ok((Store::open(dir)?, true))
            }
            // Another process made it first: use theirs.
            Err(_) if dir.join("HEAD").exists() => Ok((Store::open(dir)?, false)),
            Err(e) => Err(creating(dir, e)),
        }
    }

    /// The commit main points at; `None` in a store nothing was put in.
    pub fn main_commit(&self) -> Result<Option<Commit<'_>>> {
        objects::main_commit(&self.repo)
    }

    /// Stores a stacked stream as the new version of `res`. The input must be
    /// a valid stream; unless `complete` (a regular file, complete by
    /// definition) it must end with `=====end`. Provenance sections are taken
    /// out of the content and recorded in the commit's trailers.
    ///
    /// When the stream holds the same data as the current version (its
    /// fetch sections aside, see [`check`]) and the same provenance, nothing
    /// is added to main: the check is recorded and the version returned as
    /// unchanged. The input is streamed into a temporary file first; it
    /// becomes an object only when it is a new version, so a pull every 15
    /// minutes of unchanged data adds no copy of it to the store.
    pub fn put(
        &self,
        res: &Resource,
        input: impl BufRead,
        complete: bool,
        message: Option<&str>,
        wait: Duration,
    ) -> Result<Put> {
        self.put_guarded(res, input, complete, message, &[], &|_| Ok(()), wait)
    }

    /// [`Store::put`] with trailers of the caller's (`key`, `value`) after
    /// the store's own, and a `guard` called under the store's lock with
    /// main's head before anything is committed: its error ends the put
    /// with nothing written to main. `qwhatif apply` records its scenario
    /// and change script in the trailers, and checks in the guard that
    /// main's `qplan conditioned` is still the scenario's base.
    #[allow(clippy::too_many_arguments)] // The put's arguments, plus two.
    pub fn put_guarded(
        &self,
        res: &Resource,
        input: impl BufRead,
        complete: bool,
        message: Option<&str>,
        trailers: &[(String, String)],
        guard: &dyn Fn(Option<&Commit>) -> Result<()>,
        wait: Duration,
    ) -> Result<Put> {
        // Held while the temporary file exists, so that no lock holder
        // takes it for a dead put's leftover.
        let writing = lock::writing(self.repo.path())?;
        let streamed = self.stream_input(input, complete)?;
        let mut cache = None;
        // A first look without the lock: a likely "same data" makes no
        // object; anything else becomes an object now, outside the lock.
        // Only a hint: should git maintenance get in its way, the look
        // under the lock decides.
        let first = self.main_commit().ok().flatten().and_then(|head| {
            let same = same_data(&self.repo, res, &head, &streamed, &mut cache).ok()?;
            Some((head.id(), same.map(|c| c.id())))
        });
        let mut blob = None;
        if !matches!(first, Some((_, Some(_)))) {
            blob = Some(self.write_blob(&streamed)?);
        }
        let lock = self.lock(wait)?;
        let put = Attempt {
            res,
            streamed: &streamed,
            message,
            trailers,
            guard,
        };
        let mut tries = 0;
        let done = loop {
            let repo = self.reopen_for_put()?;
            match self.put_locked(&repo, &lock, &put, first, &mut blob, &mut cache) {
                Err(Error::Temporary { .. }) if tries < RETRIES => {
                    tries += 1;
                    std::thread::sleep(pause(tries));
                }
                other => break other,
            }
        };
        let (outcome, written) = done?;
        // Main (or the checked ref) points at the new objects: make sure
        // they are there, writing again any that git pruned meanwhile.
        let what = match outcome {
            Put::Committed(_) => "main",
            Put::Unchanged(_) => "the checked ref",
        };
        self.ensure_written(&written, what, Some(&streamed), wait)?;
        drop(streamed);
        drop(writing);
        // Only what no put is writing goes; the next put retries. The put
        // is done: a failure here is for the next one to meet.
        let _ = lock.remove_leftovers();
        Ok(outcome)
    }

    /// One try at the part of a put done under the store's lock: read
    /// main, run the guard, then record a check or commit and move main.
    /// Returns what was done and the objects written, with their bytes.
    /// A failure git maintenance may have caused (a vanished directory, a
    /// ref locked by `git pack-refs`) is [`Error::Temporary`] and nothing
    /// was moved: the caller tries again.
    fn put_locked(
        &self,
        repo: &Repository,
        lock: &StoreLock,
        put: &Attempt,
        first: Option<(Oid, Option<Oid>)>,
        blob: &mut Option<Oid>,
        cache: &mut Option<(Oid, String)>,
    ) -> Result<(Put, Written)> {
        let Attempt {
            res,
            streamed,
            message,
            trailers,
            guard,
        } = put;
        let head = objects::main_commit(repo)?;
        if let Some(c) = &head {
            // Nothing can be put on a broken main: say how to mend it.
            objects::tree(repo, c).map_err(|e| match e {
                Error::Io { context, source } => Error::Io {
                    context: format!(
                        "main points at commit {}, whose tree is damaged: nothing was \
                         stored; `qsnap verify --repair` moves main back to the newest \
                         intact commit: {context}",
                        c.id()
                    ),
                    source,
                },
                other => other,
            })?;
        }
        guard(head.as_ref())?;
        let same = match (&head, first) {
            // main has not moved since the first look: its answer holds.
            (Some(h), Some((seen, answer))) if h.id() == seen => answer,
            (Some(h), _) => same_data(repo, res, h, streamed, cache)?.map(|c| c.id()),
            (None, _) => None,
        };
        if let Some(version) = same {
            let version = objects::commit(repo, version)?;
            let sig = signature(repo)?;
            let note = check::commit(repo, res, &version, &streamed.fetch, &sig)?;
            let written = Written::capture(repo, note, None, res)?;
            written.pin(repo.path(), streamed)?;
            sync_dir(&repo.path().join("objects"))?;
            repo.reference(
                &check::checked_ref(res),
                note,
                true,
                &format!("checked {res}"),
            )
            .map_err(write_error(format!("recording the check of {res}")))?;
            return Ok((Put::Unchanged(version.id()), written));
        }
        let blob = match *blob {
            Some(b) => b,
            None => *blob.insert(self.write_blob(streamed)?),
        };
        // Written before the lock was taken, it may have been packed or
        // pruned since: the tree must name an object that is there.
        pin_blob(repo.path(), blob, streamed)?;
        let base = match &head {
            Some(c) => objects::tree(repo, c)?,
            None => {
                let empty = repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(write_error("writing an empty tree"))?;
                repo.find_tree(empty)
                    .map_err(write_error("writing an empty tree"))?
            }
        };
        let tree = TreeUpdateBuilder::new()
            .upsert(res.path(), blob, FileMode::Blob)
            .create_updated(repo, &base)
            .map_err(write_error("writing the tree"))?;
        let tree = repo
            .find_tree(tree)
            .map_err(write_error("writing the tree"))?;
        let sig = signature(repo)?;
        let text = history::commit_message_with(
            res,
            *message,
            &streamed.provenance,
            &streamed.data,
            trailers,
        );
        let parents: Vec<&Commit> = head.iter().collect();
        let oid = repo
            .commit(None, &sig, &sig, &text, &tree, &parents)
            .map_err(write_error(format!("committing {res}")))?;
        let written = Written::capture(repo, oid, Some(blob), res)?;
        written.pin(repo.path(), streamed)?;
        let parent = head.as_ref().map(Commit::id);
        // Where each resource's newest version is, for the new commit: one
        // commit read when the file is current. Only a guide for readers
        // (see `newest`): a history it cannot be worked out from is for
        // `verify` to report, not for the put to refuse.
        let newest = history::newest_after_put(repo, parent, oid, res).ok();
        move_main(repo, lock, oid, parent, &format!("put {res}"))?;
        if let Some(n) = newest {
            let _ = newest::write(repo.path(), &n);
        }
        Ok((Put::Committed(oid), written))
    }

    /// Checks, with a fresh handle (libgit2 caches what it read), that the
    /// objects a put just made current are in the store, and writes again
    /// any that are not: their ids are content addresses, so writing the
    /// same bytes restores them. `git gc --prune=now` racing a put may
    /// delete them between their writing and main pointing at them.
    ///
    /// A `git gc` that started before main moved read the refs before, and
    /// may delete the objects after any check: so a running gc (its
    /// `gc.pid`) is waited for first, up to `wait`.
    ///
    /// `what` is the ref that points at them now (for the messages), and
    /// `streamed` the put's input, which holds the blob (none for a side
    /// commit, whose objects are all in `written`).
    fn ensure_written(
        &self,
        written: &Written,
        what: &str,
        streamed: Option<&Streamed>,
        wait: Duration,
    ) -> Result<()> {
        wait_for_git_gc(self.repo.path(), wait);
        let mut restored = 0;
        for round in 0..=RETRIES {
            let repo = self.reopen()?;
            let odb = repo.odb().map_err(git("reading the store"))?;
            let mut missing = 0;
            for (oid, kind, data) in &written.objects {
                if !odb.exists(*oid) {
                    missing += 1;
                    pin_one(repo.path(), *oid, *kind, data.len() as u64, &data[..])?;
                }
            }
            let blob = written.blob.filter(|b| !odb.exists(*b));
            if let (Some(blob), Some(streamed)) = (blob, streamed) {
                missing += 1;
                pin_blob(repo.path(), blob, streamed)?;
            }
            if missing == 0 {
                if restored > 0 {
                    eprintln!(
                        "qsnap: warning: git deleted {restored} new objects before or while \
                         {what} pointed at them (git gc --prune=now on a live store?); \
                         they were written again. Use `qsnap maintenance` instead."
                    );
                }
                return Ok(());
            }
            restored += missing;
            std::thread::sleep(pause(round + 1));
        }
        Err(Error::io(
            format!("{what} points at {}", written.objects[0].0),
            std::io::Error::other(format!(
                "git kept deleting its objects while they were written again; stop the \
                 program that prunes the store, then run `qsnap verify --repair` in {}",
                self.dir.display()
            )),
        ))
    }

    /// Writes a side commit (see [`super::branch::commit`]) and points
    /// `refname` at it, as a put writes: the objects go to memory first,
    /// then each is made a loose object dated now, by our own writer (git
    /// maintenance beside a libgit2 write made it fail with 74, or name a
    /// blob already pruned); a failure maintenance may have caused is tried
    /// again; and once the ref points at them, each is checked and written
    /// again if git pruned it meanwhile. Called under the store's `_lock`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_side(
        &self,
        _lock: &StoreLock,
        refname: &str,
        parent: Oid,
        files: &[(&str, &[u8])],
        message: &str,
        expected: Option<Oid>,
        wait: Duration,
    ) -> Result<Oid> {
        let mut tries = 0;
        let (oid, written) = loop {
            match self.side_once(refname, parent, files, message, expected) {
                Err(Error::Temporary { .. }) if tries < RETRIES => {
                    tries += 1;
                    std::thread::sleep(pause(tries));
                }
                other => break other?,
            }
        };
        self.ensure_written(&written, refname, None, wait)?;
        Ok(oid)
    }

    /// One try of [`Store::write_side`]: nothing is moved when it fails.
    fn side_once(
        &self,
        refname: &str,
        parent: Oid,
        files: &[(&str, &[u8])],
        message: &str,
        expected: Option<Oid>,
    ) -> Result<(Oid, Written)> {
        let repo = self.reopen_for_put()?;
        let parent = objects::commit(&repo, parent)?;
        let base = objects::tree(&repo, &parent)?;
        let mut update = TreeUpdateBuilder::new();
        for (path, content) in files {
            let blob = repo
                .blob(content)
                .map_err(write_error(format!("writing {path} to the store")))?;
            update.upsert(*path, blob, FileMode::Blob);
        }
        let tree = update
            .create_updated(&repo, &base)
            .map_err(write_error("writing the tree"))?;
        let tree = repo
            .find_tree(tree)
            .map_err(write_error("writing the tree"))?;
        let sig = signature(&repo)?;
        let oid = repo
            .commit(None, &sig, &sig, message, &tree, &[&parent])
            .map_err(write_error(format!("committing {refname}")))?;
        let paths: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        let written = Written::capture_files(&repo, oid, &paths)?;
        written.pin_objects(repo.path())?;
        sync_dir(&repo.path().join("objects"))?;
        let why = format!("side commit {refname}");
        let moved = match expected {
            Some(old) => repo.reference_matching(refname, oid, true, old, &why),
            None => repo.reference(refname, oid, false, &why),
        };
        moved.map_err(write_error(format!("moving {refname}")))?;
        Ok((oid, written))
    }

    /// A handle for a writer beside puts (a replay): its new objects go to
    /// memory, for [`Store::pin_and_point`] to make loose objects of.
    pub(crate) fn memory_writer(&self) -> Result<Repository> {
        self.reopen_for_put()
    }

    /// For a writer beside puts (a replay), under the store's lock: makes
    /// the new `commits` written to `mem` (a [`Store::memory_writer`]) and,
    /// for the first, the trees on the way to `res` in its tree, loose
    /// objects dated now, with the `staged` output they name; then `point`
    /// moves the ref (`what`) to them; then each is checked, and written
    /// again if git pruned it meanwhile, as after a put.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pin_and_point(
        &self,
        mem: &Repository,
        commits: &[Oid],
        res: &Resource,
        staged: Option<&Staged>,
        what: &str,
        wait: Duration,
        point: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let Some(&first) = commits.first() else {
            return point();
        };
        let mut written = Written::capture(mem, first, staged.map(|s| s.blob), res)?;
        let odb = mem.odb().map_err(git("reading the store"))?;
        let mut keep = |oid: Oid| -> Result<()> {
            let o = odb
                .read(oid)
                .map_err(write_error(format!("reading object {oid} just written")))?;
            written.objects.push((oid, o.kind(), o.data().to_vec()));
            Ok(())
        };
        if staged.is_none() {
            // A recorded failure: its tree may be new (the empty tree).
            let c = mem
                .find_commit(first)
                .map_err(write_error(format!("reading commit {first}")))?;
            keep(c.tree_id())?;
        }
        for &oid in &commits[1..] {
            keep(oid)?;
        }
        match staged {
            Some(s) => written.pin(mem.path(), &s._streamed)?,
            None => written.pin_objects(mem.path())?,
        }
        sync_dir(&mem.path().join("objects"))?;
        point()?;
        self.ensure_written(&written, what, staged.map(|s| &s._streamed), wait)
    }

    /// The store opened again: a handle without libgit2's caches.
    fn reopen(&self) -> Result<Repository> {
        outside_config_ignored(|| Repository::open_bare(&self.dir))
            .map_err(git(format!("opening {}", self.dir.display())))
    }

    /// Makes the streamed input an object of the store: hashed, then
    /// written by [`pin_blob`] (a loose object, dated so that no prune
    /// running now takes it), never by libgit2, whose write git
    /// maintenance can break (it removes an empty `objects/xx/` between
    /// libgit2 making it and using it).
    fn write_blob(&self, streamed: &Streamed) -> Result<Oid> {
        let oid = Oid::hash_file(ObjectType::Blob, streamed.file.path())
            .map_err(git("reading the put's input"))?;
        pin_blob(self.repo.path(), oid, streamed)?;
        Ok(oid)
    }

    /// The store opened again for the part of a put under the lock: a
    /// handle without libgit2's caches (git may have replaced the packs it
    /// knew), whose new objects go to memory first; [`Written::pin`] then
    /// writes them to disk itself.
    fn reopen_for_put(&self) -> Result<Repository> {
        let repo = self.reopen()?;
        repo.odb()
            .and_then(|odb| odb.add_new_mempack_backend(1000).map(drop))
            .map_err(git("opening the store"))?;
        Ok(repo)
    }

    /// Points main at `oid`, which must be a child of `from` (what main was
    /// when the lock was taken); see [`move_main`].
    pub(crate) fn move_main(
        &self,
        lock: &StoreLock,
        oid: Oid,
        from: Option<Oid>,
        why: &str,
    ) -> Result<()> {
        move_main(&self.repo, lock, oid, from, why)
    }

    /// Streams the input into a temporary file of the put's own
    /// (`objects/qsnap_put_*`), without its provenance sections and with
    /// exactly one `=====end`; nothing is an object yet (see
    /// [`Store::write_blob`]). The file stays until the put is done, so
    /// that a blob git maintenance deleted can be written again; git
    /// removes only `tmp_*` files there.
    fn stream_input(&self, input: impl BufRead, complete: bool) -> Result<Streamed> {
        let objects = self.repo.path().join("objects");
        let file = tempfile::Builder::new()
            .prefix(lock::PUT_PREFIX)
            .tempfile_in(&objects)
            .map_err(|e| stream_error(&objects, e))?;
        let counted = Counted {
            file: file
                .as_file()
                .try_clone()
                .map_err(|e| stream_error(&objects, e))?,
            bytes: 0,
        };
        let mut out = Writer::new(BufWriter::with_capacity(256 * 1024, counted));
        let mut reader = Reader::new(input);
        let mut provenance: Vec<Provenance> = Vec::new();
        let (mut in_provenance, mut ended, mut sections) = (false, false, 0u64);
        let write_err = |e: std::io::Error| stream_error(&objects, e);
        let mut bad: Option<String> = None;
        let mut digest = DataDigest::default();
        while let Some(event) = reader.next_event()? {
            ended = false;
            digest.event(&event);
            match event {
                Event::Header(h) if h == PROVENANCE => in_provenance = true,
                Event::Header(h) => {
                    in_provenance = false;
                    sections += 1;
                    out.header(0, h).map_err(write_err)?;
                }
                Event::Line(line) if in_provenance => match Provenance::parse(line) {
                    Some(p) if !provenance.contains(&p) => provenance.push(p),
                    Some(_) => {}
                    None => bad = Some(String::from_utf8_lossy(line).into_owned()),
                },
                Event::Line(line) => out.line(0, line).map_err(write_err)?,
                Event::End => {
                    in_provenance = false;
                    ended = true;
                }
            }
            if let Some(bad) = bad.take() {
                return Err(Error::Stream {
                    line: reader.line_no(),
                    message: format!(
                        "a {PROVENANCE} line is '<app> <stage>' TAB '<commit>', not {bad:?}"
                    ),
                });
            }
        }
        if reader.line_no() == 0 {
            return Err(Error::data(
                Default::default(),
                "the input is empty: nothing stored",
            ));
        }
        if !ended && !complete {
            return Err(Error::Stream {
                line: reader.line_no(),
                message: "the stream does not end with '=====end', so it may be cut short: \
                          nothing stored"
                    .into(),
            });
        }
        if sections == 0 {
            return Err(Error::Stream {
                line: reader.line_no(),
                message: "the stream has no section: nothing stored".into(),
            });
        }
        out.end().map_err(write_err)?;
        let Counted { bytes, .. } = out
            .into_inner()
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        let (data, fetch) = digest.finish();
        Ok(Streamed {
            file,
            bytes,
            data,
            fetch,
            provenance,
        })
    }

    /// Removes the temporary files of dead puts, waiting up to `wait` for
    /// the lock and for puts streaming their input. Returns the files and
    /// bytes removed.
    pub fn gc(&self, wait: Duration) -> Result<(u64, u64)> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // Taken anew each round: a put that holds its temporary file
            // while it waits for the lock (see `put`) gets in between.
            let lock = self.lock(left)?;
            if let Some(done) = lock.remove_leftovers()? {
                return Ok(done);
            }
            drop(lock);
            if std::time::Instant::now() >= deadline {
                return Err(Error::Temporary {
                    what: "store".into(),
                    message: format!(
                        "puts kept writing to {} for {} s: their files are in use",
                        self.dir.display(),
                        wait.as_secs()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Serialises writers (see [`lock`]): waits at most `wait`.
    pub fn lock(&self, wait: Duration) -> Result<StoreLock> {
        lock::lock(self.repo.path(), wait)
    }
}

/// A stream made an object of the store for a commit that its caller
/// writes itself (a replay's side commits, see [`super::replay`]): the
/// blob, the SHA-256 of its data and the provenance taken out of it. Its
/// temporary file, and the writers' lock that keeps the file from being
/// taken for a dead put's, are kept until it is dropped.
pub struct Staged {
    pub blob: Oid,
    pub data: String,
    pub provenance: Vec<Provenance>,
    _streamed: Streamed,
    _writing: lock::Writing,
}

impl Store {
    /// Checks and stores a stacked stream as a blob, as a put does (it must
    /// be valid and end with `=====end`; provenance sections are taken out
    /// and returned), without committing it anywhere.
    pub fn stage(&self, input: impl BufRead) -> Result<Staged> {
        let writing = lock::writing(self.repo.path())?;
        let streamed = self.stream_input(input, false)?;
        let blob = self.write_blob(&streamed)?;
        Ok(Staged {
            blob,
            data: streamed.data.clone(),
            provenance: streamed.provenance.clone(),
            _streamed: streamed,
            _writing: writing,
        })
    }
}

/// The input of a put, streamed to a temporary file by
/// [`Store::stream_input`]; dropping it removes the file.
struct Streamed {
    file: tempfile::NamedTempFile,
    /// What was written to the temporary file.
    bytes: u64,
    /// The SHA-256 of its data, fetch sections aside.
    data: String,
    fetch: check::Fetch,
    provenance: Vec<Provenance>,
}

/// The temporary file, counting what goes through.
struct Counted {
    file: std::fs::File,
    bytes: u64,
}

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = std::io::Write::write(&mut self.file, buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::Write::flush(&mut self.file)
    }
}

/// The commit that put the version of `res` current at `head`, when
/// that version has the same provenance and the same data (digest of
/// `streamed`). `cache` keeps the digest of a version read whole, for the
/// second look under the lock.
fn same_data<'r>(
    repo: &'r Repository,
    res: &Resource,
    head: &Commit<'r>,
    streamed: &Streamed,
    cache: &mut Option<(Oid, String)>,
) -> Result<Option<Commit<'r>>> {
    let Streamed {
        data, provenance, ..
    } = streamed;
    let current = objects::tree(repo, head)?
        .get_path(Path::new(&res.path()))
        .ok()
        .map(|entry| entry.id());
    let Some(blob) = current else {
        return Ok(None);
    };
    let Some(last) = history::last_put(repo, head.id(), res)? else {
        return Ok(None);
    };
    let version = history::Version::of(&last);
    if version.provenance != *provenance {
        return Ok(None);
    }
    let stored = match (&version.data, &*cache) {
        (Some(d), _) => d.clone(),
        (None, Some((b, d))) if *b == blob => d.clone(),
        (None, _) => {
            let d = check::digest_of_blob(repo, blob)?;
            *cache = Some((blob, d.clone()));
            d
        }
    };
    Ok((stored == *data).then_some(last))
}

/// The error of writing a put's input to its temporary file: a full disk
/// is temporary (75), with what to do.
fn stream_error(objects: &Path, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => Error::Temporary {
            what: "store".into(),
            message: format!(
                "writing to the store: {e} ({}): nothing was stored; free some space, \
                 then run the put again",
                objects.display()
            ),
        },
        _ => Error::io("writing to the store", e),
    }
}

/// Waits while a `git gc` runs in the store (its `gc.pid` names a live
/// process), at most `limit`. Returns whether none runs now.
fn wait_for_git_gc(git_dir: &Path, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    let pidfile = git_dir.join("gc.pid");
    loop {
        let Ok(text) = std::fs::read_to_string(&pidfile) else {
            return true;
        };
        let pid = text
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<libc::pid_t>().ok());
        // SAFETY: kill with signal 0 sends nothing; it only asks whether
        // the process exists.
        let alive = pid.is_some_and(|p| {
            p > 0
                && (unsafe { libc::kill(p, 0) } == 0
                    || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
        });
        if !alive {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many times a write that git maintenance got in the way of is tried
/// again (with pauses from 10 to 200 ms, about a second in all).
const RETRIES: u32 = 8;

fn pause(tries: u32) -> Duration {
    Duration::from_millis((10u64 << tries.min(5)).min(200))
}

/// The parts of a put that do not change between tries.
struct Attempt<'a> {
    res: &'a Resource,
    streamed: &'a Streamed,
    message: Option<&'a str>,
    trailers: &'a [(String, String)],
    guard: &'a dyn Fn(Option<&Commit>) -> Result<()>,
}

/// The new objects a put points a ref at: the commit first, then the
/// trees on the resource's path, with their bytes; and the blob, which is
/// written again from the put's temporary file.
struct Written {
    objects: Vec<(Oid, ObjectType, Vec<u8>)>,
    blob: Option<Oid>,
}

impl Written {
    fn capture(
        repo: &Repository,
        commit: Oid,
        blob: Option<Oid>,
        res: &Resource,
    ) -> Result<Written> {
        let odb = repo.odb().map_err(git("reading the store"))?;
        let read = |oid: Oid| -> Result<(Oid, ObjectType, Vec<u8>)> {
            let o = odb
                .read(oid)
                .map_err(write_error(format!("reading object {oid} just written")))?;
            Ok((oid, o.kind(), o.data().to_vec()))
        };
        let mut objects = vec![read(commit)?];
        if blob.is_some() {
            // The root tree and the trees on the way to the resource: the
            // rest of the tree is the previous version's, reachable.
            let c = repo
                .find_commit(commit)
                .map_err(write_error(format!("reading commit {commit}")))?;
            let mut tree = c.tree_id();
            let path = res.path();
            let dirs: Vec<&str> = path.split('/').collect();
            for (i, dir) in dirs.iter().enumerate() {
                objects.push(read(tree)?);
                if i + 1 == dirs.len() {
                    break;
                }
                let t = repo
                    .find_tree(tree)
                    .map_err(write_error(format!("reading tree {tree}")))?;
                let next = t.get_name(dir).map(|e| e.id());
                match next {
                    Some(id) => tree = id,
                    None => break,
                }
            }
        }
        Ok(Written { objects, blob })
    }

    /// For a side commit: the commit, and the trees on the way to each of
    /// `paths` and the blob at its end, each once.
    fn capture_files(repo: &Repository, commit: Oid, paths: &[&str]) -> Result<Written> {
        let odb = repo.odb().map_err(git("reading the store"))?;
        let mut seen = std::collections::HashSet::new();
        let mut objects = Vec::new();
        let mut keep = |oid: Oid| -> Result<()> {
            if seen.insert(oid) {
                let o = odb
                    .read(oid)
                    .map_err(write_error(format!("reading object {oid} just written")))?;
                objects.push((oid, o.kind(), o.data().to_vec()));
            }
            Ok(())
        };
        keep(commit)?;
        let root = repo
            .find_commit(commit)
            .map_err(write_error(format!("reading commit {commit}")))?
            .tree_id();
        for path in paths {
            let mut tree = root;
            let parts: Vec<&str> = path.split('/').collect();
            for (i, part) in parts.iter().enumerate() {
                keep(tree)?;
                let entry = repo
                    .find_tree(tree)
                    .map_err(write_error(format!("reading tree {tree}")))?
                    .get_name(part)
                    .map(|e| e.id());
                let Some(id) = entry else { break };
                if i + 1 == parts.len() {
                    keep(id)?;
                } else {
                    tree = id;
                }
            }
        }
        Ok(Written {
            objects,
            blob: None,
        })
    }

    /// [`Written::pin`] for the objects kept in memory (a side commit's:
    /// all of them).
    fn pin_objects(&self, git_dir: &Path) -> Result<()> {
        for (oid, kind, data) in &self.objects {
            pin_one(git_dir, *oid, *kind, data.len() as u64, &data[..])?;
        }
        Ok(())
    }

    /// Makes sure each new object is a loose object, dated now: written
    /// from the bytes kept (or the put's input file) when it is only in a
    /// pack or gone. A loose object is what a `git repack -a -d` running
    /// beside the put leaves alone, and a fresh date is what a prune with
    /// a grace period keeps. (`--prune=now` deletes whatever is not
    /// referenced, whatever its date: see [`Store::ensure_written`].)
    fn pin(&self, git_dir: &Path, streamed: &Streamed) -> Result<()> {
        self.pin_objects(git_dir)?;
        if let Some(blob) = self.blob {
            pin_blob(git_dir, blob, streamed)?;
        }
        Ok(())
    }
}

/// [`Written::pin`] for one object.
fn pin_one(
    git_dir: &Path,
    oid: Oid,
    kind: ObjectType,
    size: u64,
    content: impl std::io::Read,
) -> Result<()> {
    let now = std::time::SystemTime::now();
    objects::write_loose(git_dir, oid, kind, size, content, fsync_on(), now)
        .map_err(|e| loose_error(git_dir, oid, e))
}

/// [`Written::pin`] for the put's blob, from its input file.
fn pin_blob(git_dir: &Path, blob: Oid, streamed: &Streamed) -> Result<()> {
    let file = std::fs::File::open(streamed.file.path())
        .map_err(|e| Error::io("reading the put's input again", e))?;
    pin_one(
        git_dir,
        blob,
        ObjectType::Blob,
        streamed.bytes,
        std::io::BufReader::with_capacity(256 * 1024, file),
    )
}

fn loose_error(git_dir: &Path, oid: Oid, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => Error::Temporary {
            what: "store".into(),
            message: format!(
                "writing object {oid}: {e} ({}): nothing was stored; free some space, \
                 then run the put again",
                git_dir.display()
            ),
        },
        _ => Error::io(format!("writing object {oid}"), e),
    }
}

/// Points main at `oid`, which must be a child of `from` (what main was
/// when the lock was taken). The commit is announced in the lock file
/// first so that a `main.lock` left by a kill is recognised. A ref that
/// another program (`git pack-refs`, `git gc`) holds for a moment, or that
/// reads as moved while the refs were being packed, is a temporary
/// failure: the put tries again.
fn move_main(
    repo: &Repository,
    lock: &StoreLock,
    oid: Oid,
    from: Option<Oid>,
    why: &str,
) -> Result<()> {
    // libgit2 flushed each object and its fan-out directory; a new
    // fan-out directory also needs its name flushed in objects/.
    sync_dir(&repo.path().join("objects"))?;
    lock.committing(oid)?;
    let moved = match from {
        Some(from) => repo.reference_matching(MAIN, oid, true, from, why),
        None => repo.reference(MAIN, oid, false, why),
    };
    match moved {
        Ok(_) => lock.committed(),
        Err(e) => {
            let _ = lock.committed();
            Err(match e.code() {
                git2::ErrorCode::Locked | git2::ErrorCode::Modified | git2::ErrorCode::Exists => {
                    Error::Temporary {
                        what: "store".into(),
                        message: format!(
                            "another program is moving main ({}); nothing was stored, \
                         run the put again",
                            e.message()
                        ),
                    }
                }
                _ => write_error("moving the main branch")(e),
            })
        }
    }
}

/// Turns a failed libgit2 write into an error that says what to do: a
/// full disk, or a file or directory that vanished under the write (git
/// maintenance removes empty `objects/xx/` directories and, with
/// `--prune=now`, fresh temporary files) or a ref another program holds,
/// is temporary (75): nothing was stored and the put may be run again.
/// Anything else is an I/O error (74), as [`git`] makes it.
pub(super) fn write_error(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
    let context = context.into();
    // Read before anything else can change errno.
    let os = std::io::Error::last_os_error();
    move |e| {
        let errno = os.raw_os_error();
        if errno == Some(libc::ENOSPC) || errno == Some(libc::EDQUOT) {
            return Error::Temporary {
                what: "store".into(),
                message: format!(
                    "{context}: {os} ({}): nothing was stored; free some space, \
                     then run the put again",
                    e.message()
                ),
            };
        }
        // A missing object, here, is one of the put's own that git pruned
        // before the tree or commit naming it was written.
        let vanished = e.code() == git2::ErrorCode::Locked
            || e.code() == git2::ErrorCode::NotFound
            || [
                "No such file or directory",
                "failed to rename lockfile",
                "invalid object specified",
                "doesn't exist",
            ]
            .iter()
            .any(|m| e.message().contains(m));
        if vanished {
            return Error::Temporary {
                what: "store".into(),
                message: format!(
                    "{context}: {}: something (git gc? git prune?) changed the store \
                     under the put; nothing was stored, run the put again \
                     (`qsnap maintenance` keeps a live store small safely)",
                    e.message()
                ),
            };
        }
        git(context)(e)
    }
}

/// The author and committer of a put: the git identity when one is
/// configured, else `qsnap`. The time is `GIT_COMMITTER_DATE` when set (as
/// git does), else now.
pub(super) fn signature(repo: &Repository) -> Result<git2::Signature<'static>> {
    let (name, email) = match repo.signature() {
        Ok(s) => (
            s.name().unwrap_or("qsnap").to_owned(),
            s.email().unwrap_or("qsnap@localhost").to_owned(),
        ),
        Err(_) => ("qsnap".to_owned(), "qsnap@localhost".to_owned()),
    };
    let time = match std::env::var("GIT_COMMITTER_DATE") {
        Ok(s) if !s.trim().is_empty() => {
            let t = history::parse_time(&s).ok_or_else(|| {
                Error::Usage(format!(
                    "GIT_COMMITTER_DATE {s:?} is not a date-time (2026-11-24T14:03:07Z or @SECONDS)"
                ))
            })?;
            git2::Time::new(t.timestamp(), 0)
        }
        _ => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            git2::Time::new(i64::try_from(now).unwrap_or(i64::MAX), 0)
        }
    };
    git2::Signature::new(&name, &email, &time).map_err(git("making the commit signature"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guarded_put_writes_only_what_the_guard_lets_through() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("store")).unwrap().0;
        let res = Resource::new("qplan", "conditioned").unwrap();
        let wait = Duration::from_secs(5);
        let first = match store
            .put(&res, &b"=====a v1\n\tx\n=====end\n"[..], false, None, wait)
            .unwrap()
        {
            Put::Committed(oid) => oid,
            other => panic!("{other:?}"),
        };
        // The guard sees main's head under the lock; its error is the put's.
        let seen = std::cell::Cell::new(None);
        let refuse = |head: Option<&Commit>| {
            seen.set(head.map(Commit::id));
            Err(Error::data(Default::default(), "moved"))
        };
        let input = &b"=====a v1\n\ty\n=====end\n"[..];
        let e = store
            .put_guarded(&res, input, false, None, &[], &refuse, wait)
            .unwrap_err();
        assert_eq!(e.to_string(), "moved");
        assert_eq!(seen.get(), Some(first));
        assert_eq!(store.main_commit().unwrap().unwrap().id(), first);
        // Let through, with trailers of the caller's after the store's own.
        let trailers = [("Qwhatif-Scenario".to_owned(), "hire".to_owned())];
        let second = match store
            .put_guarded(&res, input, false, Some("m"), &trailers, &|_| Ok(()), wait)
            .unwrap()
        {
            Put::Committed(oid) => oid,
            other => panic!("{other:?}"),
        };
        let c = store.main_commit().unwrap().unwrap();
        assert_eq!(c.id(), second);
        assert_eq!(c.parent_id(0).unwrap(), first);
        assert!(c.message().unwrap().ends_with("\nQwhatif-Scenario: hire\n"));
    }
}
