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

use git2::{build::TreeUpdateBuilder, Commit, FileMode, Oid, Repository, RepositoryInitOptions};

use super::check::{self, DataDigest};
use super::history::{self, Provenance};
use super::lock::{self, StoreLock};
use super::name::Resource;
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
        let mut writing = Some(lock::writing(self.repo.path())?);
        let streamed = self.stream_blob(input, complete)?;
        let Streamed {
            writer,
            bytes,
            data,
            fetch,
            provenance,
        } = streamed;
        let commit_blob = |w| commit_blob(self.repo.path(), w, bytes);
        let mut cache = None;
        // A first look without the lock: a likely "same data" keeps the
        // temporary file until the lock confirms it; anything else becomes
        // an object now, outside the lock, as a put always did.
        let first = match self.main_commit()? {
            Some(head) => Some((
                head.id(),
                self.same_data(res, &head, &data, &provenance, &mut cache)?,
            )),
            None => None,
        };
        let likely_same = matches!(first, Some((_, Some(_))));
        let mut pending = Some(writer);
        let mut blob = None;
        if !likely_same {
            blob = pending.take().map(commit_blob).transpose()?;
            writing = None;
        }
        let lock = self.lock(wait)?;
        let head = self.main_commit()?;
        guard(head.as_ref())?;
        let same = match (&head, first) {
            // main has not moved since the first look: its answer holds.
            (Some(h), Some((seen, answer))) if h.id() == seen => answer,
            (Some(h), _) => self.same_data(res, h, &data, &provenance, &mut cache)?,
            (None, _) => None,
        };
        if let Some(version) = same {
            // The temporary file goes with the writer.
            drop(pending);
            drop(writing);
            lock.remove_leftovers()?;
            let sig = signature(&self.repo)?;
            let note = check::commit(&self.repo, res, &version, &fetch, &sig)?;
            sync_dir(&self.repo.path().join("objects"))?;
            self.repo
                .reference(
                    &check::checked_ref(res),
                    note,
                    true,
                    &format!("checked {res}"),
                )
                .map_err(git(format!("recording the check of {res}")))?;
            return Ok(Put::Unchanged(version.id()));
        }
        let blob = match blob {
            Some(b) => b,
            None => pending
                .take()
                .map(commit_blob)
                .transpose()?
                .ok_or_else(|| {
                    Error::io("writing to the store", std::io::Error::other("no blob"))
                })?,
        };
        drop(writing);
        // Only what no put is writing goes; the next put retries.
        lock.remove_leftovers()?;
        let base = match &head {
            Some(c) => objects::tree(&self.repo, c)?,
            None => {
                let empty = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(git("writing an empty tree"))?;
                self.repo
                    .find_tree(empty)
                    .map_err(git("writing an empty tree"))?
            }
        };
        let tree = TreeUpdateBuilder::new()
            .upsert(res.path(), blob, FileMode::Blob)
            .create_updated(&self.repo, &base)
            .map_err(git("writing the tree"))?;
        let tree = self.repo.find_tree(tree).map_err(git("writing the tree"))?;
        let sig = signature(&self.repo)?;
        let text = history::commit_message_with(res, message, &provenance, &data, trailers);
        let parents: Vec<&Commit> = head.iter().collect();
        let oid = self
            .repo
            .commit(None, &sig, &sig, &text, &tree, &parents)
            .map_err(git(format!("committing {res}")))?;
        self.move_main(
            &lock,
            oid,
            head.as_ref().map(Commit::id),
            &format!("put {res}"),
        )?;
        Ok(Put::Committed(oid))
    }

    /// The commit that put the version of `res` current at `head`, when
    /// that version has the same provenance and the same data (digest
    /// `data`). `cache` keeps the digest of a version read whole, for the
    /// second look under the lock.
    fn same_data<'r>(
        &'r self,
        res: &Resource,
        head: &Commit<'r>,
        data: &str,
        provenance: &[Provenance],
        cache: &mut Option<(Oid, String)>,
    ) -> Result<Option<Commit<'r>>> {
        let current = objects::tree(&self.repo, head)?
            .get_path(Path::new(&res.path()))
            .ok()
            .map(|entry| entry.id());
        let Some(blob) = current else {
            return Ok(None);
        };
        let Some(last) = history::last_put(&self.repo, head.id(), res)? else {
            return Ok(None);
        };
        let version = history::Version::of(&last);
        if version.provenance != provenance {
            return Ok(None);
        }
        let stored = match (&version.data, &*cache) {
            (Some(d), _) => d.clone(),
            (None, Some((b, d))) if *b == blob => d.clone(),
            (None, _) => {
                let d = check::digest_of_blob(&self.repo, blob)?;
                *cache = Some((blob, d.clone()));
                d
            }
        };
        Ok((stored == data).then_some(last))
    }

    /// Points main at `oid`, which must be a child of `from` (what main was
    /// when the lock was taken). The commit is announced in the lock file
    /// first so that a `main.lock` left by a kill is recognised.
    pub(crate) fn move_main(
        &self,
        lock: &StoreLock,
        oid: Oid,
        from: Option<Oid>,
        why: &str,
    ) -> Result<()> {
        // libgit2 flushed each object and its fan-out directory; a new
        // fan-out directory also needs its name flushed in objects/.
        sync_dir(&self.repo.path().join("objects"))?;
        lock.committing(oid)?;
        let moved = match from {
            Some(from) => self.repo.reference_matching(MAIN, oid, true, from, why),
            None => self.repo.reference(MAIN, oid, false, why),
        };
        match moved {
            Ok(_) => {}
            Err(e) if e.code() == git2::ErrorCode::Locked => {
                return Err(Error::Temporary {
                    what: "store".into(),
                    message: format!(
                        "another program is moving main ({}); try again",
                        e.message()
                    ),
                })
            }
            Err(e) => return Err(git("moving the main branch")(e)),
        }
        lock.committed()
    }

    /// Streams the input into a temporary file, without its provenance
    /// sections and with exactly one `=====end`; nothing is an object yet
    /// (see [`commit_blob`]).
    fn stream_blob(&self, input: impl BufRead, complete: bool) -> Result<Streamed<'_>> {
        let blob = self
            .repo
            .blob_writer(None)
            .map_err(git("writing to the store"))?;
        let blob = Counted { blob, bytes: 0 };
        let mut out = Writer::new(BufWriter::with_capacity(256 * 1024, blob));
        let mut reader = Reader::new(input);
        let mut provenance: Vec<Provenance> = Vec::new();
        let (mut in_provenance, mut ended, mut sections) = (false, false, 0u64);
        // libgit2's stream says "Write error" whatever happened: the
        // system's reason, when there is one, is the cause to give.
        let write_err = |e: std::io::Error| {
            Error::io("writing to the store", objects::system_cause().unwrap_or(e))
        };
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
        let Counted {
            blob: writer,
            bytes,
        } = out
            .into_inner()
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        let (data, fetch) = digest.finish();
        Ok(Streamed {
            writer,
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

/// A stream written to a temporary file by [`Store::stream_blob`]; dropping
/// the writer removes the file.
struct Streamed<'r> {
    writer: git2::BlobWriter<'r>,
    /// What was written to the temporary file.
    bytes: u64,
    /// The SHA-256 of its data, fetch sections aside.
    data: String,
    fetch: check::Fetch,
    provenance: Vec<Provenance>,
}

/// The blob stream, counting what goes through.
struct Counted<'r> {
    blob: git2::BlobWriter<'r>,
    bytes: u64,
}

impl std::io::Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.blob.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.blob.flush()
    }
}

/// Makes the streamed file (`bytes` long) an object of the store.
///
/// When libgit2 fails here it often says "no error": its last write failed
/// and the cleanup reset errno. So the file system is asked: with less
/// room than the file and its object need (the temporary file is gone by
/// now), or read-only, that is the cause given.
fn commit_blob(git_dir: &Path, writer: git2::BlobWriter<'_>, bytes: u64) -> Result<Oid> {
    writer.commit().map_err(|e| {
        let context = "writing to the store";
        match room(git_dir) {
            Some(Room {
                read_only: true, ..
            }) => Error::io(
                context,
                std::io::Error::new(
                    std::io::ErrorKind::ReadOnlyFilesystem,
                    format!("Read-only file system ({})", git_dir.display()),
                ),
            ),
            Some(Room { free, .. }) if free / 2 < bytes.saturating_add(1 << 20) => Error::io(
                context,
                std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    format!(
                        "No space left on device: the input is {bytes} bytes and \
                         {} has {free} bytes free",
                        git_dir.display()
                    ),
                ),
            ),
            _ => git(context)(e),
        }
    })
}

struct Room {
    free: u64,
    read_only: bool,
}

/// The room left on the file system that holds `dir`.
fn room(dir: &Path) -> Option<Room> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct it is given; the path is a
    // NUL-terminated string that outlives the call.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(path.as_ptr(), &mut st) == 0).then_some(st)
    }?;
    Some(Room {
        #[allow(clippy::unnecessary_cast)] // The field types differ by platform.
        free: (st.f_bavail as u64).saturating_mul(st.f_frsize as u64),
        read_only: st.f_flag & libc::ST_RDONLY != 0,
    })
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
