//! Automatic maintenance (issue 27): the store kept compact without anyone
//! remembering to run `qsnap maintenance`.
//!
//! A put leaves three or four loose objects; a year of puts every 15
//! minutes through three stages left 300,000 files in `objects/`. As git
//! does with `gc.auto`, a put that made a commit looks at how many loose
//! objects there are and, from the store's `gc.auto` on (git's own setting
//! and default, 6,700; 0 turns it off: `git --git-dir STORE config gc.auto
//! 0`), maintains the store: under the store's lock, as `qsnap
//! maintenance` does, so puts beside it wait for the lock and lose
//! nothing.
//!
//! Most runs are light ([`maintain::pack_loose`]): the loose objects go
//! into a new pack and nothing else is rewritten, so a run costs about the
//! same in a store of a year as in a new one. When the packs have piled up
//! to the store's `gc.autoPackLimit` (git's setting and default, 50: about
//! 100,000 puts at the default `gc.auto`), the run is the whole of
//! `qsnap maintenance` instead: one pack, and unreferenced objects older
//! than two weeks pruned.
//!
//! The count is git's kind of estimate: the loose objects in a few fan-out
//! directories, scaled to 256. So many are sampled that about 32 objects
//! are expected there at the threshold (`objects/17/` alone from 8,192
//! on, all 256 for a threshold of 32 or less): a put reads a bounded
//! number of names whatever the size of the store. One process maintains
//! at a time: others skip, without waiting (`qsnap.maintaining`).

use std::fs::{OpenOptions, TryLockError};
use std::path::Path;

use super::maintain::{self, Options, Report};
use super::store::Store;
use crate::error::{Error, Result};

/// git's default `gc.auto`.
pub const DEFAULT_THRESHOLD: u64 = 6_700;
/// git's default `gc.autoPackLimit`.
pub const DEFAULT_PACK_LIMIT: u64 = 50;

/// What the check after a put found or did.
#[derive(Debug)]
pub enum Auto {
    /// `gc.auto` is 0 or less.
    Off,
    /// Fewer loose objects (estimated) than the threshold.
    NotDue,
    /// Due, but another process is maintaining the store right now.
    Busy,
    /// Maintained: the estimate that made it due, the threshold, and what
    /// maintenance did.
    Ran {
        estimate: u64,
        threshold: u64,
        report: Report,
    },
}

/// The store's `gc.auto` (its config, else the user's and the system's, as
/// git reads them), else git's default; 0 when off.
pub fn threshold(store: &Store) -> u64 {
    let set = store
        .repo
        .config()
        .ok()
        .and_then(|c| c.get_i64("gc.auto").ok());
    match set {
        Some(n) => u64::try_from(n).unwrap_or(0),
        None => DEFAULT_THRESHOLD,
    }
}

/// The store's `gc.autoPackLimit` (read as [`threshold`] is), else git's
/// default; 0 or less: never the whole maintenance automatically.
pub fn pack_limit(store: &Store) -> u64 {
    let set = store
        .repo
        .config()
        .ok()
        .and_then(|c| c.get_i64("gc.autoPackLimit").ok());
    match set {
        Some(n) => u64::try_from(n).unwrap_or(0),
        None => DEFAULT_PACK_LIMIT,
    }
}

/// How many fan-out directories to sample for a threshold: about 32
/// objects expected in them when the store is at the threshold.
fn sampled(threshold: u64) -> u64 {
    (256 * 32u64).div_ceil(threshold.max(1)).clamp(1, 256)
}

/// The estimated number of loose objects, from `dirs` fan-out directories
/// (`objects/17/` first, as git, then the next ones).
pub fn estimate(git_dir: &Path, dirs: u64) -> u64 {
    let dirs = dirs.clamp(1, 256);
    let mut found = 0u64;
    for i in 0..dirs {
        let dir = git_dir.join(format!("objects/{:02x}", (0x17 + i) % 256));
        if let Ok(list) = std::fs::read_dir(dir) {
            found += list
                .flatten()
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.len() == 38 && name.bytes().all(|b| b.is_ascii_hexdigit())
                })
                .count() as u64;
        }
    }
    found * 256 / dirs
}

/// Whether the store is due for maintenance: the estimate and the
/// threshold when it is.
pub fn due(store: &Store) -> Option<(u64, u64)> {
    let threshold = threshold(store);
    if threshold == 0 {
        return None;
    }
    let estimate = estimate(store.repo.path(), sampled(threshold));
    (estimate >= threshold).then_some((estimate, threshold))
}

/// After a put that made a commit: maintains the store when it is due.
/// The put has released the store's lock; maintenance takes it again.
pub fn after_put(store: &Store) -> Result<Auto> {
    if threshold(store) == 0 {
        return Ok(Auto::Off);
    }
    match due(store) {
        Some((estimate, threshold)) => run(store, estimate, threshold),
        None => Ok(Auto::NotDue),
    }
}

/// Maintains the store unless another process is doing it right now.
pub fn run(store: &Store, estimate: u64, threshold: u64) -> Result<Auto> {
    let path = store.repo.path().join("qsnap.maintaining");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Auto::Busy),
        Err(TryLockError::Error(e)) => {
            return Err(Error::io(format!("locking {}", path.display()), e))
        }
    }
    let limit = pack_limit(store);
    let whole = limit > 0 && maintain::packs(store.repo.path()) >= limit;
    let report = if whole {
        maintain::maintain(store, &Options::default())?
    } else {
        maintain::pack_loose(store, &Options::default())?
    };
    // The kernel releases the lock with the file.
    drop(file);
    Ok(Auto::Ran {
        estimate,
        threshold,
        report,
    })
}

/// The `-v` lines of a run: why, then what maintenance says.
pub fn describe(auto: &Auto) -> Vec<String> {
    match auto {
        Auto::Ran {
            estimate,
            threshold,
            report,
        } => {
            let mut lines = vec![format!(
                "automatic maintenance: about {estimate} loose objects, gc.auto is {threshold}"
            )];
            lines.extend(report.lines());
            lines
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_32_objects_are_sampled_at_the_threshold() {
        assert_eq!(sampled(DEFAULT_THRESHOLD), 2);
        assert_eq!(sampled(8192), 1);
        assert_eq!(sampled(1_000_000), 1);
        assert_eq!(sampled(32), 256);
        assert_eq!(sampled(1), 256);
        assert_eq!(sampled(100), 82);
    }

    /// The estimate scales what the sampled directories hold to 256; with
    /// every directory sampled it is the exact count.
    #[test]
    fn the_estimate_scales_the_sample() {
        let dir = tempfile::tempdir().unwrap();
        let object = |fanout: &str, n: usize| {
            let d = dir.path().join("objects").join(fanout);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("{n:038x}")), b"").unwrap();
        };
        for n in 0..3 {
            object("17", n);
        }
        object("18", 0);
        object("ab", 0);
        std::fs::write(dir.path().join("objects/17/tmp_obj_x"), b"").unwrap();
        assert_eq!(estimate(dir.path(), 1), 3 * 256);
        assert_eq!(estimate(dir.path(), 2), 4 * 256 / 2);
        assert_eq!(estimate(dir.path(), 256), 5);
    }
}
