//! Waiting for a store's refs to change without polling: the kernel's
//! inotify tells us when a file the main branch lives in may have changed,
//! and the caller reads the ref again (the file is the truth, the event
//! only a doorbell).
//!
//! How git writes a ref decides what is watched. A branch is written to
//! `refs/heads/main.lock` and renamed over `refs/heads/main` (one
//! `IN_MOVED_TO` on `refs/heads`); `git pack-refs` (and `qsnap maintain`)
//! moves it into `packed-refs` the same way (a rename in the store's
//! directory) and deletes the loose file. So the watches are on the
//! directories that change, never on the files (a watch on a file follows
//! the inode, which a rename replaces): the store's directory (for
//! `packed-refs`, `HEAD` and `refs` appearing), `refs/` and
//! `refs/heads/`. Lock files are not news: the rename that ends a lock is.
//!
//! The store may not exist yet (a watcher started before the first put)
//! or be replaced (moved away and another put in its place, `rm -rf` and
//! a new `qsnap init`): then the nearest existing ancestor is watched for
//! the next name on the way down, and every watch is set up again when a
//! directory on the way appears, is removed or is moved, with a wake-up
//! so that the caller reads everything again.
//!
//! Why `inotify` rather than the `notify` crate: a wait here is one
//! `poll(2)` on one descriptor with a deadline (and, for qwatch, the
//! signal pipe beside it), in the caller's thread. `notify` runs its own
//! thread and hands events over a channel, for the portability this
//! Linux-only toolkit does not need; it is a wrapper of the same crate.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Instant;

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

use crate::error::{Error, Result};

/// What a watch on a directory of the store listens for: names appearing,
/// going or written in place, and the directory itself going away.
fn dir_mask() -> WatchMask {
    WatchMask::CREATE
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM
        | WatchMask::DELETE
        | WatchMask::CLOSE_WRITE
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
}

/// The store's refs, watched.
pub struct RefWatch {
    dir: PathBuf,
    inotify: Inotify,
    /// The watches on the store: its directory, `refs`, `refs/heads`.
    inside: Vec<(WatchDescriptor, Inside)>,
    /// The watch on the nearest existing ancestor of a directory of the
    /// store that does not exist yet, and the name awaited in it.
    above: Option<(WatchDescriptor, PathBuf)>,
    /// Set when the watches were set up again since the caller last asked:
    /// the store may be another one now.
    replaced: bool,
    /// Another descriptor whose readiness ends a wait (a signal pipe).
    also: Option<RawFd>,
    /// Wake-ups that were news, for tests and `-v`.
    pub woken: u64,
}

/// Which directory of the store a watch is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inside {
    Store,
    Refs,
    Heads,
}

fn io(dir: &Path, e: std::io::Error) -> Error {
    Error::io(format!("watching the store {}", dir.display()), e)
}

impl RefWatch {
    /// Starts watching the store at `dir` (which need not exist).
    pub fn new(dir: &Path) -> Result<RefWatch> {
        let dir = std::path::absolute(dir).map_err(|e| io(dir, e))?;
        let inotify = Inotify::init().map_err(|e| io(&dir, e))?;
        let mut w = RefWatch {
            dir,
            inotify,
            inside: Vec::new(),
            above: None,
            replaced: false,
            also: None,
            woken: 0,
        };
        w.arm()?;
        w.replaced = false;
        Ok(w)
    }

    /// Ends waits also when `fd` is readable (it is not read).
    pub fn also_wake_on(&mut self, fd: RawFd) {
        self.also = Some(fd);
    }

    /// Whether the watches were set up again (the store appeared, went or
    /// was replaced) since the last call: a handle on the old store
    /// should be dropped.
    pub fn take_replaced(&mut self) -> bool {
        std::mem::take(&mut self.replaced)
    }

    /// (Re)creates every watch: on the store's directories that exist,
    /// and on the nearest ancestor of the first one that does not.
    fn arm(&mut self) -> Result<()> {
        let mut watches = self.inotify.watches();
        for (wd, _) in self.inside.drain(..) {
            // A watch whose directory went is already gone.
            let _ = watches.remove(wd);
        }
        if let Some((wd, _)) = self.above.take() {
            let _ = watches.remove(wd);
        }
        self.replaced = true;
        let wanted = [
            (self.dir.clone(), Inside::Store),
            (self.dir.join("refs"), Inside::Refs),
            (self.dir.join("refs/heads"), Inside::Heads),
        ];
        for (path, which) in wanted {
            match watches.add(&path, dir_mask() | WatchMask::ONLYDIR) {
                Ok(wd) => self.inside.push((wd, which)),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
                    // Wait for it to appear: watch the nearest ancestor
                    // that exists for the next name on the way down.
                    let mut at = path.clone();
                    loop {
                        let Some(parent) = at.parent().map(Path::to_path_buf) else {
                            return Err(io(&self.dir, e));
                        };
                        match watches.add(&parent, dir_mask() | WatchMask::ONLYDIR) {
                            Ok(wd) => {
                                let name = at.file_name().map(PathBuf::from).unwrap_or_default();
                                self.above = Some((wd, name));
                                break;
                            }
                            Err(e2)
                                if matches!(
                                    e2.raw_os_error(),
                                    Some(libc::ENOENT) | Some(libc::ENOTDIR)
                                ) =>
                            {
                                at = parent;
                            }
                            Err(e2) => return Err(io(&self.dir, e2)),
                        }
                    }
                    break;
                }
                Err(e) => return Err(io(&self.dir, e)),
            }
        }
        Ok(())
    }

    /// Waits until the refs may have changed (`true`) or until `deadline`
    /// (`false`; `None`: no deadline). The caller reads the ref again on
    /// `true`; a wake-up may be for nothing (a ref written with the same
    /// value), never silent on a change.
    pub fn wait(&mut self, deadline: Option<Instant>) -> Result<bool> {
        let mut buf = [0u8; 4096];
        loop {
            // Events already queued first (no blocking).
            if self.drain(&mut buf)? {
                self.woken += 1;
                return Ok(true);
            }
            let timeout = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    // Rounded up: a wait never ends before its deadline.
                    i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX)
                }
            };
            let mut fds = [
                libc::pollfd {
                    fd: self.inotify.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.also.unwrap_or(-1),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a valid array of two pollfd for the call's
            // duration; a negative fd is ignored by poll(2).
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    // A signal: let the caller look at its stop flag.
                    return Ok(true);
                }
                return Err(io(&self.dir, e));
            }
            if fds[1].revents != 0 {
                return Ok(true);
            }
            if n == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
        }
    }

    /// Reads the queued events; whether one was news. Sets the watches up
    /// again when a directory on the way appeared or went.
    fn drain(&mut self, buf: &mut [u8]) -> Result<bool> {
        let mut news = false;
        let mut rearm = false;
        loop {
            let events = match self.inotify.read_events(buf) {
                Ok(events) => events,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(&self.dir, e)),
            };
            let mut any = false;
            for ev in events {
                any = true;
                if ev.mask.contains(EventMask::Q_OVERFLOW) {
                    // Events were lost: read everything again.
                    news = true;
                    rearm = true;
                    continue;
                }
                if let Some((wd, name)) = &self.above {
                    if *wd == ev.wd {
                        if ev.name.is_some_and(|n| n == name.as_os_str())
                            || ev
                                .mask
                                .intersects(EventMask::DELETE_SELF | EventMask::MOVE_SELF)
                        {
                            news = true;
                            rearm = true;
                        }
                        continue;
                    }
                }
                let Some(which) = self
                    .inside
                    .iter()
                    .find(|(wd, _)| *wd == ev.wd)
                    .map(|(_, w)| *w)
                else {
                    // A watch already removed.
                    continue;
                };
                if ev
                    .mask
                    .intersects(EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::IGNORED)
                {
                    news = true;
                    rearm = true;
                    continue;
                }
                if is_news(which, ev.name, ev.mask) {
                    news = true;
                    if which != Inside::Heads && ev.mask.contains(EventMask::ISDIR) {
                        // refs/ or refs/heads/ appeared, went or was
                        // replaced: watch the new one.
                        rearm = true;
                    }
                }
            }
            if !any {
                break;
            }
        }
        if rearm {
            self.arm()?;
        }
        Ok(news)
    }
}

/// Whether an event in a directory of the store may mean main moved.
fn is_news(which: Inside, name: Option<&OsStr>, mask: EventMask) -> bool {
    let Some(name) = name.and_then(OsStr::to_str) else {
        return false;
    };
    if name.ends_with(".lock") {
        // Taking or dropping a lock changes no ref: the rename that ends
        // it does.
        return false;
    }
    match which {
        Inside::Store => matches!(name, "packed-refs" | "HEAD" | "refs"),
        Inside::Refs => name == "heads" && mask.contains(EventMask::ISDIR),
        // Any branch: the caller reads the one it follows.
        Inside::Heads => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn soon() -> Option<Instant> {
        Some(Instant::now() + Duration::from_secs(10))
    }

    fn now() -> Option<Instant> {
        Some(Instant::now())
    }

    #[test]
    fn a_ref_renamed_into_place_wakes_and_a_lock_does_not() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        std::fs::create_dir_all(dir.join("refs/heads")).unwrap();
        let mut w = RefWatch::new(&dir).unwrap();
        assert!(!w.wait(now()).unwrap(), "nothing happened");
        std::fs::write(dir.join("refs/heads/main.lock"), "x\n").unwrap();
        assert!(!w.wait(now()).unwrap(), "a lock is not news");
        std::fs::rename(
            dir.join("refs/heads/main.lock"),
            dir.join("refs/heads/main"),
        )
        .unwrap();
        assert!(w.wait(soon()).unwrap(), "the rename is");
        // Packed: packed-refs renamed into place, the loose ref deleted.
        std::fs::write(dir.join("packed-refs.lock"), "x\n").unwrap();
        assert!(!w.wait(now()).unwrap());
        std::fs::rename(dir.join("packed-refs.lock"), dir.join("packed-refs")).unwrap();
        assert!(w.wait(soon()).unwrap());
        std::fs::remove_file(dir.join("refs/heads/main")).unwrap();
        assert!(w.wait(soon()).unwrap());
        // Other files of the store are not news.
        std::fs::write(dir.join("config"), "x\n").unwrap();
        std::fs::create_dir_all(dir.join("objects/ab")).unwrap();
        std::fs::write(dir.join("objects/ab/cd"), "x\n").unwrap();
        assert!(!w.wait(now()).unwrap());
        assert!(!w.take_replaced());
    }

    #[test]
    fn a_store_that_appears_later_or_is_replaced_is_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/store");
        let mut w = RefWatch::new(&dir).unwrap();
        assert!(!w.wait(now()).unwrap());
        // Made elsewhere, then moved into place (how a store is replaced).
        let made = tmp.path().join("made");
        std::fs::create_dir_all(made.join("refs/heads")).unwrap();
        std::fs::create_dir_all(tmp.path().join("a/b")).unwrap();
        // a/ appeared: the watch moves down, without it being news yet.
        let _ = w.wait(now()).unwrap();
        std::fs::rename(&made, &dir).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !w.take_replaced() {
            assert!(Instant::now() < deadline, "the new store is seen");
            let _ = w.wait(Some(deadline)).unwrap();
        }
        // And its refs are watched now.
        std::fs::write(dir.join("refs/heads/main"), "y\n").unwrap();
        assert!(w.wait(soon()).unwrap());
        // Removed and made again.
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(w.wait(soon()).unwrap());
        assert!(w.take_replaced());
        std::fs::create_dir_all(dir.join("refs/heads")).unwrap();
        std::fs::write(dir.join("refs/heads/main"), "z\n").unwrap();
        // The directory appearing wakes the caller, who reads it all.
        assert!(w.wait(soon()).unwrap(), "the new store is seen");
    }
}
