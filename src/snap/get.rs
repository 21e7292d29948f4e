//! A stored version written out: its provenance section first (unless
//! raw), then its bytes, checked before the first byte goes out (`qsnap
//! get`, and GET on the bus of `qsnap serve`).

use std::io::{self, Write};

use super::history::{self, At};
use super::name::Resource;
use super::objects;
use super::store::{self, Store};
use super::trailer::Version;
use crate::stream::{Writer, PROVENANCE};

/// Writes a version as `qsnap get` does (also the bus's GET reply).
pub fn get(
    store: &Store,
    res: &Resource,
    at: &At,
    raw: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (blob, put) = history::version_at(&store.repo, res, at)?;
    write(store, res, blob, &put, raw, out)
}

/// Writes the stored version `blob` of `res`, put by commit `put`, as
/// [`get`] does (a replay's versions too, see [`super::replay`]).
pub fn write(
    store: &Store,
    res: &Resource,
    blob: git2::Oid,
    put: &git2::Commit,
    raw: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    // Checked before the first byte goes out: a damaged version writes
    // nothing.
    objects::check(&store.repo, blob)?;
    if !raw {
        let mut w = Writer::new(&mut *out);
        w.header(0, PROVENANCE)?;
        w.line(0, format!("{res}\t{}", put.id()).as_bytes())?;
        for p in Version::of(put).provenance {
            w.line(0, p.line().as_bytes())?;
        }
    }
    // Loose objects stream from disk; a packed one is read whole (libgit2).
    let odb = store.repo.odb().map_err(store::git("reading the store"))?;
    match odb.reader(blob) {
        Ok((mut reader, _, _)) => {
            io::copy(&mut reader, out)?;
        }
        Err(_) => {
            let blob = store
                .repo
                .find_blob(blob)
                .map_err(store::git(format!("reading {res}")))?;
            out.write_all(blob.content())?;
        }
    }
    Ok(())
}
