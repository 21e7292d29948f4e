//! What every long-running process sets up at its start (`qsnap serve`,
//! `qwatch` in both modes, `qwhatif serve` with or without `--bus`), so
//! that its memory stays bounded however long it lives (issue 27).
//!
//! libgit2 keeps the commits and trees it parsed in a cache per
//! repository, bounded only by a process-wide total of 256 MiB by default.
//! A daemon keeps its repository open for weeks and reads new commits and
//! trees at every put, so its memory grew with the store's history (3.5 KB
//! a put in `qsnap serve`, 1 KB in `qwatch --repo`). Packs are read through
//! memory-mapped windows, by default up to 1 GiB each and 8 GiB in all.
//! [`bound_memory`] caps both, once per process, before the first
//! repository is opened; a short command (`qsnap get`) keeps libgit2's
//! defaults, which serve one-shot reads of big histories best.
//!
//! What the daemons free, glibc's malloc kept. Its heap held 10 to 25 MB
//! in `qsnap serve` whose live data never passed 4.3 MB (heaptrack over
//! 3,000 PUTs), and `malloc_trim` gave 12 MB of 18.6 back at once: by
//! default malloc raises its mmap threshold each time a big block is
//! freed, so a put's 256 KiB buffers came from the heap after the first
//! put, and the heap cannot shrink past the small blocks kept between
//! them. [`bound_memory`] fixes the thresholds ([`MMAP_THRESHOLD`]): a
//! block that big is always mapped and unmapped whole; and all threads
//! share one arena ([`ARENAS`]). Daemons call
//! [`give_back`] after a big piece of work (a what-if, a maintenance) and
//! now and then, so what was freed in the heap goes back too.

use std::sync::Once;

use crate::error::{Error, Result};

/// The most libgit2 keeps of the objects it parsed (commits and trees; it
/// never caches blobs), counted as their size in the store. A put reads
/// three or four of them and a walk from the last announced commit a few
/// more: the cache still holds every object a put reads twice. At 1 MiB,
/// filled with small commits (250 bytes counted, about 1 KB parsed),
/// `qwatch --repo` grew 2 MB over 2,500 puts before it was full.
pub const OBJECT_CACHE: usize = 256 << 10;
/// How much of a pack libgit2 maps at once.
pub const PACK_WINDOW: usize = 8 << 20;
/// The most of all packs libgit2 keeps mapped.
pub const PACK_MAPPED: usize = 32 << 20;
/// The most pack files libgit2 keeps open (and mapped).
pub const PACK_FILES: usize = 64;

/// Blocks of this size or more are mapped on their own and unmapped when
/// freed (glibc's `M_MMAP_THRESHOLD`, fixed rather than rising), and the
/// heap is shrunk when this much at its top is free (`M_TRIM_THRESHOLD`).
pub const MMAP_THRESHOLD: usize = 128 << 10;

/// How many malloc arenas a daemon's threads share (glibc's
/// `M_ARENA_MAX`). glibc gives threads arenas of their own, up to 8 a
/// core; nng's threads (a dozen in `qwatch --bus`) took four that grew to
/// about 900 KB each over 9,000 events and were never trimmed, while
/// qwatch's own heap stayed under 0.5 MB (heaptrack): +3.2 MB, against
/// +0.1 MB with one arena. One heap is also what [`give_back`] trims
/// best; the daemons' threads mostly wait, so they seldom contend for it.
pub const ARENAS: usize = 1;

/// Fixes glibc's malloc thresholds and arenas (see the module's doc).
/// Elsewhere than glibc nothing is done.
fn steady_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets malloc's parameters; it is called before
    // the daemon starts its own threads.
    unsafe {
        let n = MMAP_THRESHOLD as libc::c_int;
        libc::mallopt(libc::M_MMAP_THRESHOLD, n);
        libc::mallopt(libc::M_TRIM_THRESHOLD, n);
        libc::mallopt(libc::M_ARENA_MAX, ARENAS as libc::c_int);
    }
}

/// Gives the memory freed in malloc's heaps back to the system (glibc's
/// `malloc_trim`; a fraction of a millisecond for a daemon's heap).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes malloc's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Calls [`give_back`] every `every` pieces of work.
#[derive(Debug)]
pub struct GiveBack {
    every: u32,
    done: u32,
}

impl GiveBack {
    pub fn every(every: u32) -> GiveBack {
        GiveBack {
            every: every.max(1),
            done: 0,
        }
    }

    /// One piece of work done; gives memory back when it is the n-th.
    /// Returns whether it did.
    pub fn done(&mut self) -> bool {
        self.done += 1;
        if self.done >= self.every {
            self.done = 0;
            give_back();
            true
        } else {
            false
        }
    }
}

/// The bounds in force in this process, as libgit2 reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The object cache's limit, and what it holds now.
    pub cache: usize,
    pub cached: usize,
    pub window: usize,
    pub mapped: usize,
    pub files: usize,
}

impl Bounds {
    /// The `-v` line a daemon prints at its start.
    pub fn describe(&self) -> String {
        format!(
            "memory: libgit2 caches at most {} of parsed objects and maps at most {} of packs \
             ({} a window, {} files)",
            mib(self.cache),
            mib(self.mapped),
            mib(self.window),
            self.files
        )
    }
}

/// `1 MiB`, `256 KiB`; bytes when not whole kibibytes.
pub fn mib(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

fn git(what: &str) -> impl FnOnce(git2::Error) -> Error + '_ {
    move |e| {
        Error::io(
            format!("limiting libgit2's memory ({what})"),
            std::io::Error::other(e.message().to_owned()),
        )
    }
}

/// Caps libgit2's object cache and pack windows for the rest of the
/// process (the first call sets them; later ones only read them back), and
/// returns the bounds libgit2 reports.
pub fn bound_memory() -> Result<Bounds> {
    static ONCE: Once = Once::new();
    let mut set = Ok(());
    ONCE.call_once(|| {
        steady_malloc();
        // SAFETY: libgit2's options are process-wide and not synchronised
        // with its other work; a daemon calls this at its start, before any
        // thread of its own opens a repository, and `Once` keeps two
        // callers from writing them at the same time.
        set = unsafe {
            git2::opts::set_cache_max_size(OBJECT_CACHE as libc::ssize_t)
                .map_err(git("the object cache"))
                .and_then(|()| {
                    git2::opts::set_mwindow_size(PACK_WINDOW).map_err(git("the pack window"))
                })
                .and_then(|()| {
                    git2::opts::set_mwindow_mapped_limit(PACK_MAPPED)
                        .map_err(git("the mapped packs"))
                })
                .and_then(|()| {
                    git2::opts::set_mwindow_file_limit(PACK_FILES).map_err(git("the pack files"))
                })
        };
    });
    set?;
    current()
}

/// The bounds libgit2 applies now (its defaults when [`bound_memory`] was
/// not called).
pub fn current() -> Result<Bounds> {
    // SAFETY: the getters only read libgit2's process-wide options.
    unsafe {
        let (cached, cache) = git2::opts::get_cached_memory().map_err(git("the object cache"))?;
        Ok(Bounds {
            cache: usize::try_from(cache).unwrap_or(0),
            cached: usize::try_from(cached).unwrap_or(0),
            window: git2::opts::get_mwindow_size().map_err(git("the pack window"))?,
            mapped: git2::opts::get_mwindow_mapped_limit().map_err(git("the mapped packs"))?,
            files: git2::opts::get_mwindow_file_limit().map_err(git("the pack files"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::{Repository, Signature};

    /// A daemon's big blocks (a put's 256 KiB buffers) are mapped on
    /// their own every time, not only the first: glibc's default raises
    /// its threshold when the first is freed, and the next ones came from
    /// the heap, where they stayed. Counted by malloc itself: the bytes in
    /// mapped blocks while one is held.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn big_blocks_are_mapped_every_time() {
        // In a process of its own: other tests' freed memory would serve
        // the blocks here (malloc maps only what its free lists cannot).
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "snap::daemon::tests::big_blocks_probe",
                "--test-threads=1",
            ])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && said.contains("1 passed"),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    #[ignore = "run alone by big_blocks_are_mapped_every_time"]
    fn big_blocks_probe() {
        bound_memory().unwrap();
        for round in 0..4 {
            // No bigger than the one before: glibc raises its threshold to
            // the size of a mapped block freed.
            let size = 2 * MMAP_THRESHOLD + (4 - round) * 4096;
            let block = std::hint::black_box(vec![1u8; size]);
            // SAFETY: mallinfo2 only reads malloc's counters.
            let mapped = unsafe { libc::mallinfo2() }.hblkhd;
            assert!(
                mapped >= size,
                "round {round}: a {size}-byte block is not mapped on its own ({mapped} bytes are)"
            );
            drop(block);
        }
    }

    /// Threads share the daemon's malloc arena: threads that allocate at
    /// the same time make no arena of their own (glibc's default makes one
    /// for a new thread beside a busy one, up to 8 a core). Counted by
    /// malloc itself (`malloc_info`, one `<heap>` an arena), in a process
    /// of its own, as the test above.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn threads_make_no_arena_of_their_own() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "snap::daemon::tests::arena_probe",
                "--test-threads=1",
            ])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && said.contains("1 passed"),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The arenas malloc has, from `malloc_info`'s XML.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn arenas() -> usize {
        let file = tempfile::tempfile().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        // SAFETY: fdopen on a dup of a file we own, closed by fclose;
        // malloc_info writes its report to it.
        unsafe {
            let stream = libc::fdopen(libc::dup(fd), c"w".as_ptr());
            assert!(!stream.is_null());
            assert_eq!(libc::malloc_info(0, stream), 0);
            libc::fclose(stream);
        }
        use std::io::{Read, Seek};
        let mut text = String::new();
        let mut f = &file;
        f.rewind().unwrap();
        f.read_to_string(&mut text).unwrap();
        text.matches("<heap nr=").count()
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    #[ignore = "run alone by threads_make_no_arena_of_their_own"]
    fn arena_probe() {
        bound_memory().unwrap();
        let before = arenas();
        let go = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    go.wait();
                    let blocks: Vec<Vec<u8>> = (0..2000).map(|i| vec![i as u8; 500]).collect();
                    std::hint::black_box(blocks);
                });
            }
        });
        let after = arenas();
        assert_eq!(after, before, "4 threads made {} arenas", after - before);
    }

    #[test]
    fn give_back_every_n() {
        let mut g = GiveBack::every(3);
        let done: Vec<bool> = (0..7).map(|_| g.done()).collect();
        assert_eq!(done, [false, false, true, false, false, true, false]);
        assert!(GiveBack::every(0).done());
    }

    #[test]
    fn sizes_read_as_mebibytes() {
        assert_eq!(mib(1 << 20), "1 MiB");
        assert_eq!(mib(32 << 20), "32 MiB");
        assert_eq!(mib(256 << 10), "256 KiB");
        assert_eq!(mib(1000), "1000 bytes");
        assert_eq!(mib((1 << 20) + 1), "1048577 bytes");
    }

    /// Issue 27: `qsnap serve` grew 3.5 KB a put, all of it in libgit2's
    /// object cache. Reading 4,000 commits of about 700 bytes (ten times
    /// the bound) through one repository must leave the cache within its
    /// bound: counted by libgit2 itself, not timed. Without the bound the
    /// cache holds all of them (libgit2's default is 256 MiB).
    #[test]
    fn the_object_cache_stays_within_its_bound_however_much_is_read() {
        let bounds = bound_memory().unwrap();
        assert_eq!(bounds.cache, OBJECT_CACHE);
        assert_eq!(bounds.window, PACK_WINDOW);
        assert_eq!(bounds.mapped, PACK_MAPPED);
        assert_eq!(bounds.files, PACK_FILES);
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let sig = Signature::new("t", "t@localhost", &git2::Time::new(0, 0)).unwrap();
        let tree = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let padding = "x".repeat(600);
        let mut parent: Option<git2::Oid> = None;
        let mut read = 0usize;
        for i in 0..4000 {
            let parents: Vec<git2::Commit> = parent
                .iter()
                .map(|p| repo.find_commit(*p).unwrap())
                .collect();
            let refs: Vec<&git2::Commit> = parents.iter().collect();
            let oid = repo
                .commit(
                    None,
                    &sig,
                    &sig,
                    &format!("{i}\n\n{padding}\n"),
                    &tree,
                    &refs,
                )
                .unwrap();
            parent = Some(oid);
        }
        // A walk from the tip, as the announcer and qwatch make: every
        // commit parsed once.
        let mut next = parent;
        while let Some(oid) = next {
            let c = repo.find_commit(oid).unwrap();
            read += c.message_bytes().len();
            next = c.parent_ids().next();
        }
        assert!(read > 2 * OBJECT_CACHE, "read only {read} bytes");
        let now = current().unwrap();
        // Other tests of this process cache too, within the same global
        // bound; libgit2 evicts once over it, so one object's worth over.
        assert!(
            now.cached <= OBJECT_CACHE + 8 * 4096,
            "libgit2 holds {} bytes of objects, over its bound of {}",
            now.cached,
            OBJECT_CACHE
        );
    }
}
