//! The locks of a store, and what a killed put leaves behind.
//!
//! - `qsnap.lock` in the git directory serialises everything that moves a
//!   ref (put, gc, a pull, a push into the store): an exclusive `flock`,
//!   released by the kernel when its holder dies, so a held lock always has
//!   a live holder. The file also says who holds it and, while a put moves main,
//!   which commit it is writing (see [`StoreLock::committing`]).
//! - `qsnap.writers` is held shared by every put while it streams its input
//!   into the object database, outside the store lock. Whoever holds the
//!   store lock and gets it exclusively knows that no put is writing, so
//!   every temporary file libgit2 left in `objects/` belongs to a dead
//!   process and can go.
//! - `refs/heads/main.lock` belongs to whoever updates main: libgit2 in a
//!   put, but also `git` or any other program. It is only removed when it
//!   provably comes from a put that died while moving main (its content is
//!   the commit that put announced, or it is empty and newer than the
//!   announcement); any other is waited for, never broken.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use git2::Oid;

use crate::error::{Error, Result};

/// How long a put waits for the store by default (`put --wait`).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// The file names libgit2 gives its temporary files in `objects/`
/// (`streamed_git2_*` for a streamed blob, `tmp_object_git2_*` for a loose
/// object being written). libgit2 1.9 makes both in `objects/` itself
/// (`blob.c` and `odb_loose.c` join the objects directory with `streamed`
/// and `tmp_object`; `git_futils_mktmp` adds `_git2_` and a random tail in
/// the same directory), so that is the one directory looked at. qsnap's own
/// temporary files ([`PUT_PREFIX`]) are made there too.
const TEMP_PREFIXES: &[&str] = &["streamed_git2_", "tmp_object_git2_", PUT_PREFIX];

/// A put's own temporary files in `objects/`: its input, kept until the
/// put is done, and the loose objects it writes (see `store::Store::put_guarded`).
pub const PUT_PREFIX: &str = "qsnap_put_";

/// The store lock, held until dropped.
pub struct StoreLock {
    file: File,
    git_dir: PathBuf,
}

/// Takes the lock of the store whose git directory is `git_dir`, waiting
/// at most `wait` for another holder (then "temporary failure", 75). A
/// `refs/heads/main.lock` left by a put that died is cleared with a warning
/// on stderr; one held by another program is waited for within the same
/// bound. This is also what a push into a local store takes.
pub fn lock(git_dir: &Path, wait: Duration) -> Result<StoreLock> {
    let path = git_dir.join("qsnap.lock");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                // Another put holds the lock for milliseconds; poll with a
                // growing pause rather than block past the deadline.
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                let mut said = String::new();
                let _ = (&file).read_to_string(&mut said);
                let who = holder_pid(&said).map_or(String::new(), |p| format!(" (pid {p})"));
                return Err(Error::Temporary {
                    what: "store".into(),
                    message: format!(
                        "{} is locked by another qsnap{who} for more than {} s",
                        git_dir.display(),
                        wait.as_secs()
                    ),
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", path.display()), e))
            }
        }
    }
    // What the previous holder left: it has released the lock (or died).
    let mut previous = String::new();
    file.read_to_string(&mut previous)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let lock = StoreLock {
        file,
        git_dir: git_dir.to_path_buf(),
    };
    lock.settle_ref_lock(&previous, deadline)?;
    lock.record(None)?;
    Ok(lock)
}

fn holder_pid(content: &str) -> Option<u32> {
    content
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .and_then(|p| p.trim().parse().ok())
}

/// The commit a dead put announced and when, from the lock file.
fn announced(content: &str) -> Option<(String, u128)> {
    let rest = content
        .lines()
        .find_map(|l| l.strip_prefix("committing "))?;
    let (oid, nanos) = rest.split_once(' ')?;
    Some((oid.to_owned(), nanos.trim().parse().ok()?))
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

impl StoreLock {
    /// Writes who holds the lock and, while main is being moved, to what.
    fn record(&self, committing: Option<Oid>) -> Result<()> {
        let path = self.git_dir.join("qsnap.lock");
        let mut text = format!("pid {}\n", std::process::id());
        if let Some(oid) = committing {
            text.push_str(&format!("committing {oid} {}\n", now_nanos()));
        }
        let mut f = &self.file;
        f.set_len(0)
            .and_then(|()| f.rewind())
            .and_then(|()| f.write_all(text.as_bytes()))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// Announces the commit main is about to point at: should the put die
    /// while libgit2 holds `main.lock`, the next holder recognises the lock
    /// as ours by this.
    pub fn committing(&self, oid: Oid) -> Result<()> {
        self.record(Some(oid))
    }

    /// Main has moved (or the attempt failed cleanly).
    pub fn committed(&self) -> Result<()> {
        self.record(None)
    }

    /// Clears `main.lock` when a dead put left it, else waits for its owner
    /// to remove it until the deadline.
    fn settle_ref_lock(&self, previous: &str, deadline: Instant) -> Result<()> {
        let ref_lock = self.git_dir.join("refs/heads/main.lock");
        let mut pause = Duration::from_millis(1);
        loop {
            let content = match std::fs::read(&ref_lock) {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(Error::io(format!("reading {}", ref_lock.display()), e)),
            };
            if let Some((oid, since)) = announced(previous) {
                let text = String::from_utf8_lossy(&content);
                let newer = std::fs::metadata(&ref_lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .is_some_and(|t| t.as_nanos() + 1_000_000_000 >= since);
                if text.trim() == oid || (content.is_empty() && newer) {
                    std::fs::remove_file(&ref_lock)
                        .map_err(|e| Error::io(format!("removing {}", ref_lock.display()), e))?;
                    eprintln!(
                        "qsnap: warning: removed {}, left by a put that died while moving main",
                        ref_lock.display()
                    );
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::Temporary {
                    what: "store".into(),
                    message: format!(
                        "{} exists and no put made it: another program (git?) is moving main; \
                         if none is, remove the file",
                        ref_lock.display()
                    ),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Removes the temporary files no live put holds, when no put is
    /// streaming its input right now (else leaves them for the next time
    /// and returns `None`). Returns how many files and bytes went.
    pub fn remove_leftovers(&self) -> Result<Option<(u64, u64)>> {
        let writers = writers_file(&self.git_dir)?;
        match writers.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(
                    format!("locking {}", self.git_dir.join("qsnap.writers").display()),
                    e,
                ))
            }
        }
        let objects = self.git_dir.join("objects");
        let (mut files, mut bytes) = (0, 0);
        // One directory, whatever the size of the store: libgit2 makes its
        // temporary files in `objects/` itself, never in the fan-out
        // directories (see [`TEMP_PREFIXES`]), so those are not listed. A
        // put used to list all 256 of them: 520 `getdents` calls and most
        // of its system time in a store of 23,000 puts.
        if let Ok(list) = std::fs::read_dir(&objects) {
            for e in list.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if TEMP_PREFIXES.iter().any(|p| name.starts_with(p)) {
                    let size = e.metadata().map_or(0, |m| m.len());
                    if std::fs::remove_file(e.path()).is_ok() {
                        files += 1;
                        bytes += size;
                    }
                }
            }
        }
        let _ = writers.unlock();
        Ok(Some((files, bytes)))
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // The kernel releases the flock with the file; the content stays
        // for the next holder to read.
        let _ = self.file.unlock();
    }
}

fn writers_file(git_dir: &Path) -> Result<File> {
    let path = git_dir.join("qsnap.writers");
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))
}

/// Held (shared) by a put while it writes its input into the store: its
/// temporary files are then in use and not removed.
pub struct Writing(File);

pub fn writing(git_dir: &Path) -> Result<Writing> {
    let file = writers_file(git_dir)?;
    // Blocks only while a lock holder scans for leftovers (milliseconds).
    file.lock_shared().map_err(|e| {
        Error::io(
            format!("locking {}", git_dir.join("qsnap.writers").display()),
            e,
        )
    })?;
    Ok(Writing(file))
}

impl Drop for Writing {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_lock_file_says_who_and_what() {
        let text = "pid 42\ncommitting 0123abcd 1700000000000000000\n";
        assert_eq!(holder_pid(text), Some(42));
        assert_eq!(
            announced(text),
            Some(("0123abcd".to_owned(), 1_700_000_000_000_000_000))
        );
        assert_eq!(announced("pid 42\n"), None);
        assert_eq!(holder_pid(""), None);
    }

    proptest! {
        #[test]
        fn any_lock_file_is_read_without_panic(s in "\\PC{0,80}") {
            let _ = holder_pid(&s);
            let _ = announced(&s);
        }
    }
}
