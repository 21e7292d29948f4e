//! Side branches: commits kept on refs of their own under `refs/qsnap/`,
//! beside main and never on it (a what-if scenario is one,
//! `refs/qsnap/whatif/NAME`). A side commit's parent is a commit of the
//! store and its tree is that commit's tree with some files written over
//! it, so revisions, `get --at` and `trace --at` work on it as on main.
//!
//! Side refs are moved under the store's lock, like main, so that they
//! never race a put, a gc or another side write; nothing here reads main
//! for writing or moves it.

use git2::{Commit, Oid, Repository};

use super::lock::StoreLock;
use super::objects::{git, MAIN};
use super::store::Store;
use crate::error::{Error, Result};

/// Where side branches live.
pub const SIDE_REFS: &str = "refs/qsnap/";

/// Refuses (as a usage error) a ref that is not a valid side ref: outside
/// [`SIDE_REFS`], main, or not a ref name git accepts.
fn check_ref(refname: &str) -> Result<()> {
    let ok = refname != MAIN
        && refname.len() > SIDE_REFS.len()
        && refname.starts_with(SIDE_REFS)
        && git2::Reference::is_valid_name(refname);
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{refname:?} is not a side branch of the store (a ref under {SIDE_REFS})"
        )))
    }
}

/// The commit a side ref points at; `None` when there is no such ref.
pub fn find(repo: &Repository, refname: &str) -> Result<Option<Oid>> {
    check_ref(refname)?;
    match repo.refname_to_id(refname) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git(format!("reading {refname}"))(e)),
    }
}

/// The side refs under `prefix` (itself under [`SIDE_REFS`], ending with
/// `/`), as (the name after the prefix, commit), sorted by name. A
/// symbolic ref is left out.
pub fn list(repo: &Repository, prefix: &str) -> Result<Vec<(String, Oid)>> {
    check_ref(prefix.trim_end_matches('/'))?;
    let refs = repo
        .references_glob(&format!("{prefix}*"))
        .map_err(git(format!("listing {prefix}")))?;
    let mut found = Vec::new();
    for r in refs {
        let r = r.map_err(git(format!("listing {prefix}")))?;
        let (Some(name), Some(oid)) = (r.name().ok(), r.target()) else {
            continue;
        };
        if let Some(rest) = name.strip_prefix(prefix) {
            found.push((rest.to_owned(), oid));
        }
    }
    found.sort();
    Ok(found)
}

/// Writes a commit whose parent is `parent` and whose tree is the parent's
/// with `files` (path, content) written over it, and points `refname` at
/// it. `expected` is what the ref points at now, as the caller read it
/// under `lock`: `None` creates the ref (failing when it exists),
/// `Some(old)` replaces it only while it still points at `old`. Written as
/// a put writes, safe beside git maintaining the store (see
/// [`Store::write_side`]); `wait` bounds the wait for a `git gc` running.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    store: &Store,
    lock: &StoreLock,
    refname: &str,
    parent: &Commit,
    files: &[(&str, &[u8])],
    message: &str,
    expected: Option<Oid>,
    wait: std::time::Duration,
) -> Result<Oid> {
    check_ref(refname)?;
    store.write_side(lock, refname, parent.id(), files, message, expected, wait)
}

/// Removes a side ref, while it still points at `expected` (read by the
/// caller under `_lock`). Its commits stay as objects until `git gc`.
pub fn remove(store: &Store, _lock: &StoreLock, refname: &str, expected: Oid) -> Result<()> {
    check_ref(refname)?;
    let mut r = store
        .repo
        .find_reference(refname)
        .map_err(git(format!("reading {refname}")))?;
    if r.target() != Some(expected) {
        return Err(Error::Temporary {
            what: "store".into(),
            message: format!("{refname} moved while it was being removed; try again"),
        });
    }
    r.delete().map_err(git(format!("removing {refname}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snap::{Put, Resource};
    use std::time::Duration;

    fn store_with_one_put() -> (tempfile::TempDir, Store, Oid) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("store")).unwrap().0;
        let res = Resource::new("qplan", "raw").unwrap();
        let put = store
            .put(
                &res,
                &b"=====a v1\n\tx\n=====end\n"[..],
                false,
                None,
                Duration::from_secs(5),
            )
            .unwrap();
        let Put::Committed(oid) = put else {
            panic!("{put:?}")
        };
        (dir, store, oid)
    }

    const W: Duration = Duration::from_secs(5);

    #[test]
    fn a_side_commit_leaves_main_alone_and_keeps_the_parent_tree() {
        let (_dir, store, main) = store_with_one_put();
        let lock = store.lock(Duration::from_secs(5)).unwrap();
        let parent = store.repo.find_commit(main).unwrap();
        let name = "refs/qsnap/test/one";
        assert_eq!(find(&store.repo, name).unwrap(), None);
        let side = commit(
            &store,
            &lock,
            name,
            &parent,
            &[("extra/file.txt", b"hello\n")],
            "side\n",
            None,
            W,
        )
        .unwrap();
        assert_eq!(store.main_commit().unwrap().unwrap().id(), main);
        assert_eq!(find(&store.repo, name).unwrap(), Some(side));
        let c = store.repo.find_commit(side).unwrap();
        assert_eq!(c.parent_ids().collect::<Vec<_>>(), vec![main]);
        let tree = c.tree().unwrap();
        for path in ["raw/qplan.txt", "extra/file.txt"] {
            assert!(tree.get_path(std::path::Path::new(path)).is_ok(), "{path}");
        }
        // Created only once; replaced only from what it points at.
        assert!(commit(&store, &lock, name, &parent, &[], "again\n", None, W).is_err());
        assert!(commit(&store, &lock, name, &parent, &[], "again\n", Some(main), W).is_err());
        let again = commit(&store, &lock, name, &parent, &[], "again\n", Some(side), W).unwrap();
        assert_eq!(
            list(&store.repo, "refs/qsnap/test/").unwrap(),
            vec![("one".to_owned(), again)]
        );
        assert!(remove(&store, &lock, name, side).is_err());
        remove(&store, &lock, name, again).unwrap();
        assert_eq!(find(&store.repo, name).unwrap(), None);
        assert!(list(&store.repo, "refs/qsnap/test/").unwrap().is_empty());
        assert_eq!(store.main_commit().unwrap().unwrap().id(), main);
    }

    #[test]
    fn main_and_refs_elsewhere_are_refused() {
        let (_dir, store, main) = store_with_one_put();
        let lock = store.lock(Duration::from_secs(5)).unwrap();
        let parent = store.repo.find_commit(main).unwrap();
        for bad in [
            MAIN,
            "refs/tags/x",
            "refs/qsnap/",
            "refs/qsnap/a..b",
            "refs/qsnap/x.lock",
        ] {
            let e = commit(&store, &lock, bad, &parent, &[], "x\n", None, W).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(find(&store.repo, bad).is_err(), "{bad}");
        }
        assert_eq!(store.main_commit().unwrap().unwrap().id(), main);
    }
}
