//! Reading the store's objects without hanging on a damaged one.
//!
//! libgit2 (1.9, the newest that git2 builds) loops forever on a truncated
//! loose object: its zlib reader takes `Z_BUF_ERROR` for "give me more
//! room", but the input is exhausted and nothing ever changes
//! (libgit2/libgit2#7342, fixed upstream by #7346 after 1.9.7). A disk that
//! lost the end of a file, or a copy cut short, therefore made `get`, `log`,
//! `ls` and `put` spin. So every object qsnap hands to libgit2 is checked
//! here first: when it is a loose file, its zlib stream is inflated
//! (flate2, output discarded) and must end, with a `<type> <size>` header
//! whose size is what follows. A packed object is not affected (libgit2
//! reads packs through their index, with checksums).
//!
//! This module is also where the libgit2 error helper lives, so that the
//! reading ([`super::history`]) and writing ([`super::store`]) sides depend
//! on it and not on each other.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};
use git2::{Blob, Commit, ObjectType, Oid, Repository, Tree};

use crate::error::{Error, Result};

/// The branch every put lands on.
pub const MAIN: &str = "refs/heads/main";

/// Turns a libgit2 failure into an I/O error that says what was being done.
/// When the system said why (a full disk, a read-only file system), that
/// is the cause given: libgit2 does not always set a message when a write
/// fails, and said "no error" for a full disk.
pub fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
    let context = context.into();
    // Read before anything else can change errno.
    let os = system_cause();
    move |e| match os {
        Some(os) => Error::io(
            context,
            io::Error::new(os.kind(), format!("{os} ({})", e.message())),
        ),
        None => Error::io(context, io::Error::other(e.message().to_owned())),
    }
}

/// The failure the system reported last (errno), when it is one that
/// explains a failed write: a full disk or quota, a read-only file system,
/// a file too large, an I/O error. Others (a missing file, say) are often
/// left over from a probe that was expected to fail, and say nothing.
pub fn system_cause() -> Option<io::Error> {
    let e = io::Error::last_os_error();
    let code = e.raw_os_error()?;
    [
        libc::ENOSPC,
        libc::EDQUOT,
        libc::EROFS,
        libc::EFBIG,
        libc::EIO,
    ]
    .contains(&code)
    .then_some(e)
}

/// Where a loose object would be.
fn loose_path(repo: &Repository, oid: Oid) -> PathBuf {
    let hex = oid.to_string();
    repo.path().join("objects").join(&hex[..2]).join(&hex[2..])
}

/// Sets the modification time of `oid`'s loose file, when it is one, to
/// `when` (see `store::Written::keep_from_prune`). Through the path, so
/// that a read-only object file (git makes them 0444) needs no opening
/// for writing.
pub fn date_loose(git_dir: &Path, oid: Oid, when: std::time::SystemTime) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let path = loose_path_in(git_dir, oid);
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let since = when
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(io::Error::other)?;
    let times = [
        libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        libc::timespec {
            tv_sec: libc::time_t::try_from(since.as_secs()).map_err(io::Error::other)?,
            tv_nsec: 0,
        },
    ];
    // SAFETY: a NUL-terminated path that outlives the call, and two
    // timespecs, as utimensat takes them.
    let r = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes sure `oid` (of `kind`, `size` bytes, read from `content`) is a
/// loose object of the store, writing the file itself when there is none
/// (the object packed, or deleted): libgit2 does not write an object it
/// finds in a pack, and a concurrent `git repack -a -d` drops a packed
/// object nothing referred to when it started, whereas a loose one stays
/// (see `store::Written::pin`). The file is written beside its place under
/// the put's own prefix (git removes only `tmp_*` files in `objects/`),
/// dated `dated`, flushed when `sync`, and renamed into place; an
/// `objects/xx` directory git removes in between is made again. A loose
/// file that is there already is only dated.
pub fn write_loose(
    git_dir: &Path,
    oid: Oid,
    kind: ObjectType,
    size: u64,
    mut content: impl Read,
    sync: bool,
    dated: std::time::SystemTime,
) -> io::Result<()> {
    let path = loose_path_in(git_dir, oid);
    if path.exists() {
        return date_loose(git_dir, oid, dated);
    }
    let objects = git_dir.join("objects");
    let mut tmp = tempfile::Builder::new()
        .prefix(super::lock::PUT_PREFIX)
        .tempfile_in(&objects)?;
    {
        // Fast compression, as git writes loose objects (its
        // `core.looseCompression` defaults to 1): a 4 MB version of the
        // results compresses in a third of the time of zlib's default
        // level, and packing (`qsnap maintenance`) compresses it again.
        let mut z = flate2::write::ZlibEncoder::new(
            io::BufWriter::new(tmp.as_file_mut()),
            flate2::Compression::fast(),
        );
        io::Write::write_all(&mut z, format!("{kind} {size}\0").as_bytes())?;
        let copied = io::copy(&mut content, &mut z)?;
        if copied != size {
            return Err(io::Error::other(format!(
                "object {oid}: {copied} bytes to write, not {size}"
            )));
        }
        io::Write::flush(&mut z.finish()?)?;
    }
    // Dated, and read-only as git makes its objects, before it has its
    // name.
    tmp.as_file().set_modified(dated)?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o444))?;
    }
    if sync {
        tmp.as_file().sync_all()?;
    }
    let mut tries = 0;
    loop {
        let dir = path.parent().unwrap_or(git_dir);
        std::fs::create_dir_all(dir)?;
        match tmp.persist(&path) {
            Ok(_) => {
                if sync {
                    std::fs::File::open(dir).and_then(|d| d.sync_all())?;
                }
                return Ok(());
            }
            // git removed the empty directory in between: again.
            Err(e) if e.error.kind() == io::ErrorKind::NotFound && tries < 8 => {
                tries += 1;
                tmp = e.file;
            }
            Err(e) => return Err(e.error),
        }
    }
}

fn loose_path_in(git_dir: &Path, oid: Oid) -> PathBuf {
    let hex = oid.to_string();
    git_dir.join("objects").join(&hex[..2]).join(&hex[2..])
}

/// What is wrong with a loose object file, if anything: `Ok(None)` when it
/// inflates whole and its header matches its size.
fn damage(path: &Path) -> io::Result<Option<String>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        // Packed, or missing: libgit2 says which, quickly.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut z = Decompress::new(true);
    let mut input = vec![0u8; 64 * 1024];
    let mut output = vec![0u8; 64 * 1024];
    let mut header: Vec<u8> = Vec::new();
    let mut declared: Option<(String, u64)> = None;
    let mut body = 0u64;
    loop {
        let n = file.read(&mut input)?;
        if n == 0 {
            return Ok(Some(
                "it is truncated: its zlib stream ends early (disk trouble or a bad copy)".into(),
            ));
        }
        let mut pos = 0;
        while pos < n {
            let (before_in, before_out) = (z.total_in(), z.total_out());
            let status = match z.decompress(&input[pos..n], &mut output, FlushDecompress::None) {
                Ok(s) => s,
                Err(e) => return Ok(Some(format!("it is not a zlib stream ({e})"))),
            };
            pos += (z.total_in() - before_in) as usize;
            let mut out = &output[..(z.total_out() - before_out) as usize];
            if declared.is_none() {
                match out.iter().position(|&b| b == 0) {
                    Some(i) => {
                        header.extend_from_slice(&out[..i]);
                        out = &out[i + 1..];
                        let text = String::from_utf8_lossy(&header).into_owned();
                        let parsed = text
                            .split_once(' ')
                            .and_then(|(kind, size)| Some((kind.to_owned(), size.parse().ok()?)));
                        match parsed {
                            Some(p) => declared = Some(p),
                            None => return Ok(Some(format!("its header {text:?} is not git's"))),
                        }
                    }
                    None if header.len() + out.len() > 64 => {
                        return Ok(Some("it has no object header".into()))
                    }
                    None => {
                        header.extend_from_slice(out);
                        out = &[];
                    }
                }
            }
            body += out.len() as u64;
            if status == Status::StreamEnd {
                return Ok(match declared {
                    Some((_, size)) if size == body => None,
                    Some((kind, size)) => Some(format!(
                        "its header says a {kind} of {size} bytes, it holds {body}"
                    )),
                    None => Some("it has no object header".into()),
                });
            }
            if z.total_in() == before_in && z.total_out() == before_out {
                // No progress with input left and room to write: broken.
                return Ok(Some("its zlib stream does not progress".into()));
            }
        }
    }
}

/// Fails (74, naming the object) when `oid` is a damaged loose object.
pub fn check(repo: &Repository, oid: Oid) -> Result<()> {
    let path = loose_path(repo, oid);
    let unreadable = |why: String| {
        Error::io(
            format!("object {oid} of the store is unreadable"),
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {why}", path.display()),
            ),
        )
    };
    match damage(&path) {
        Ok(None) => Ok(()),
        Ok(Some(why)) => Err(unreadable(why)),
        Err(e) => Err(unreadable(e.to_string())),
    }
}

/// A commit, checked first.
pub fn commit(repo: &Repository, oid: Oid) -> Result<Commit<'_>> {
    check(repo, oid)?;
    repo.find_commit(oid)
        .map_err(git(format!("reading commit {oid}")))
}

/// A commit's tree, checked first with every tree below it (a store's
/// trees are one per stage, small).
pub fn tree<'r>(repo: &'r Repository, commit: &Commit) -> Result<Tree<'r>> {
    let mut pending = vec![commit.tree_id()];
    let mut root = None;
    while let Some(oid) = pending.pop() {
        check(repo, oid)?;
        let t = repo
            .find_tree(oid)
            .map_err(git(format!("reading tree {oid}")))?;
        pending.extend(
            t.iter()
                .filter(|e| e.kind() == Some(ObjectType::Tree))
                .map(|e| e.id()),
        );
        root.get_or_insert(t);
    }
    root.ok_or_else(|| git("reading a tree")(git2::Error::from_str("no tree")))
}

/// A blob, checked first.
pub fn blob(repo: &Repository, oid: Oid) -> Result<Blob<'_>> {
    check(repo, oid)?;
    repo.find_blob(oid)
        .map_err(git(format!("reading blob {oid}")))
}

/// The first parent of a commit, checked.
pub fn parent<'r>(repo: &'r Repository, child: &Commit) -> Result<Option<Commit<'r>>> {
    match child.parent_ids().next() {
        Some(p) => commit(repo, p).map(Some),
        None => Ok(None),
    }
}

/// The commit main points at; `None` in a store nothing was put in.
pub fn main_commit(repo: &Repository) -> Result<Option<Commit<'_>>> {
    match repo.refname_to_id(MAIN) {
        Ok(oid) => commit(repo, oid).map(Some),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git("reading the main branch")(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::ZlibEncoder;
    use flate2::Compression;
    use proptest::prelude::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn damage_of(bytes: &[u8]) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("obj");
        std::fs::write(&p, bytes).unwrap();
        damage(&p).unwrap()
    }

    #[test]
    fn whole_objects_pass_and_damaged_ones_say_why() {
        let good = deflate(b"blob 5\0hello");
        assert_eq!(damage_of(&good), None);
        let cut = damage_of(&good[..good.len() - 3]).unwrap();
        assert!(cut.contains("truncated"), "{cut}");
        assert!(damage_of(b"").unwrap().contains("truncated"));
        let lying = damage_of(&deflate(b"blob 9\0hello")).unwrap();
        assert!(
            lying.contains("says a blob of 9 bytes, it holds 5"),
            "{lying}"
        );
        assert!(damage_of(&deflate(b"blob five\0hello"))
            .unwrap()
            .contains("header"));
        assert!(damage_of(b"not zlib at all").unwrap().contains("zlib"));
        // Big enough to need several reads and several output buffers.
        let big: Vec<u8> = b"blob 300000\0"
            .iter()
            .copied()
            .chain((0..300_000u32).map(|i| (i % 251) as u8))
            .collect();
        let z = deflate(&big);
        assert_eq!(damage_of(&z), None);
        assert!(damage_of(&z[..z.len() / 2]).is_some());
        assert_eq!(
            damage(Path::new("/nonexistent/qsnap/object")).unwrap(),
            None
        );
    }

    #[test]
    fn a_loose_object_written_here_is_what_git_reads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let data = b"=====a v1\n\tx\n=====end\n";
        // The id computed by libgit2, independently of the writer.
        let oid = Oid::hash_object(ObjectType::Blob, data).unwrap();
        let when =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        write_loose(
            repo.path(),
            oid,
            ObjectType::Blob,
            data.len() as u64,
            &data[..],
            true,
            when,
        )
        .unwrap();
        let path = loose_path_in(repo.path(), oid);
        assert_eq!(damage(&path).unwrap(), None);
        assert_eq!(repo.find_blob(oid).unwrap().content(), data);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o444);
        assert_eq!(meta.modified().unwrap(), when);
        // There already: only dated; a size that lies is refused.
        let later = when + std::time::Duration::from_secs(60);
        write_loose(
            repo.path(),
            oid,
            ObjectType::Blob,
            1,
            &b""[..],
            false,
            later,
        )
        .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), later);
        let other = Oid::hash_object(ObjectType::Blob, b"other").unwrap();
        assert!(write_loose(
            repo.path(),
            other,
            ObjectType::Blob,
            9,
            &b"other"[..],
            false,
            when
        )
        .is_err());
        assert!(!loose_path_in(repo.path(), other).exists());
    }

    proptest! {
        #[test]
        fn any_bytes_are_judged_without_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = damage_of(&b);
            let z = deflate(&b);
            let _ = damage_of(&z[..z.len() / 2]);
        }
    }
}
