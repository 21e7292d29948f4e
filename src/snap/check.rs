//! "Same data": a put whose stream differs from the stored version only in
//! its fetch sections makes no commit, but records that it checked.
//!
//! A producer may write volatile metadata (when it fetched, the HTTP
//! status, an ETag) in sections whose header is `<app> fetch v<N>`, such as
//! qpull's `qpull fetch v1`. They change on every run, so comparing bytes
//! would make a version out of every pull. The comparison is therefore on
//! the stream's *data*: every section but the fetch sections (and the
//! provenance section, compared on its own), written canonically. Its
//! SHA-256 is recorded in each new version's `Qsnap-Data-Sha256` trailer,
//! so a put never needs to read the stored version to compare (versions
//! made before the trailer existed, or by hand, are read once).
//!
//! A put that finds the same data writes nothing to main; it points
//! `refs/qsnap/checked/<app>/<stage>` at a small commit (not on main) whose
//! parent is the version it found, whose tree is that version's tree, and
//! whose message holds the new fetch sections and a `Qsnap-Checked`
//! trailer. One ref per resource, replaced by each check: the replaced
//! commit, a few hundred bytes, is unreferenced and `git gc` prunes it.
//! `log` and `ls` show the time of the last check next to the version.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};

use git2::{Oid, Repository};
use sha2::{Digest, Sha256};

use super::name::Resource;
use super::objects::{self, git};
use super::trailer::{self, Version, CHECKED_TRAILER};
use crate::error::{Error, Result};
use crate::stream::{Event, Reader, Writer, PROVENANCE};

/// Where the last check of each resource is kept.
pub const CHECKED_REFS: &str = "refs/qsnap/checked/";

/// The most of a stream's fetch sections a check commit keeps.
const MAX_FETCH_TEXT: usize = 64 * 1024;

/// Whether a section header is `<app> fetch v<N>`: volatile metadata, left
/// out of the "same data" comparison.
pub fn is_fetch(header: &str) -> bool {
    let mut words = header.split(' ');
    let (Some(app), Some("fetch"), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return false;
    };
    let digits = version.strip_prefix('v').unwrap_or("");
    Resource::new(app, "fetch").is_ok()
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The ref that records the last check of `res`.
pub fn checked_ref(res: &Resource) -> String {
    format!("{CHECKED_REFS}{}/{}", res.app, res.stage)
}

/// What a stream is, for the comparison: fed one event at a time, it
/// hashes the data and keeps the fetch sections (up to 64 KiB).
pub struct DataDigest {
    hash: Writer<HashWrite>,
    fetch: Writer<Vec<u8>>,
    fetch_more: u64,
    in_fetch: bool,
    in_provenance: bool,
    has_fetch: bool,
}

struct HashWrite(Sha256);

impl Write for HashWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Default for DataDigest {
    fn default() -> Self {
        DataDigest {
            hash: Writer::new(HashWrite(Sha256::new())),
            fetch: Writer::new(Vec::new()),
            fetch_more: 0,
            in_fetch: false,
            in_provenance: false,
            has_fetch: false,
        }
    }
}

impl DataDigest {
    pub fn event(&mut self, event: &Event) {
        // Writing to a hash or a Vec cannot fail.
        match *event {
            Event::Header(h) => {
                self.in_provenance = h == PROVENANCE;
                self.in_fetch = is_fetch(h);
                if self.in_fetch {
                    self.has_fetch = true;
                    self.keep_fetch(h.len() + 6, |w| w.header(0, h));
                } else if !self.in_provenance {
                    let _ = self.hash.header(0, h);
                }
            }
            Event::Line(l) if self.in_fetch => self.keep_fetch(l.len() + 2, |w| w.line(0, l)),
            Event::Line(l) if !self.in_provenance => {
                let _ = self.hash.line(0, l);
            }
            Event::Line(_) => {}
            Event::End => {
                self.in_fetch = false;
                self.in_provenance = false;
            }
        }
    }

    fn keep_fetch(
        &mut self,
        len: usize,
        write: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>,
    ) {
        if self.fetch_more == 0 && self.fetch.get_mut().len() + len <= MAX_FETCH_TEXT {
            let _ = write(&mut self.fetch);
        } else {
            self.fetch_more += len as u64;
        }
    }

    /// The data's SHA-256 in hex, and the fetch sections as a stream (no
    /// end marker; a note when they were cut at 64 KiB).
    pub fn finish(self) -> (String, Fetch) {
        let mut hash = self.hash.into_inner().0;
        hash.update(b"=====end\n");
        let hex = hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        let mut text = String::from_utf8_lossy(&self.fetch.into_inner()).into_owned();
        if self.fetch_more > 0 {
            text.push_str(&format!(
                "({} more bytes of fetch sections not kept)\n",
                self.fetch_more
            ));
        }
        (
            hex,
            Fetch {
                present: self.has_fetch,
                text,
            },
        )
    }
}

/// A stream's fetch sections.
#[derive(Debug, Default, Clone)]
pub struct Fetch {
    pub present: bool,
    pub text: String,
}

/// The data digest of a stored blob, read (checked first) as a stream.
pub fn digest_of_blob(repo: &Repository, blob: Oid) -> Result<String> {
    objects::check(repo, blob)?;
    let odb = repo.odb().map_err(git("reading the store"))?;
    let input: Box<dyn BufRead> = match odb.reader(blob) {
        Ok((reader, _, _)) => Box::new(BufReader::with_capacity(256 * 1024, reader)),
        // Packed: libgit2 reads it whole.
        Err(_) => {
            let blob = repo
                .find_blob(blob)
                .map_err(git(format!("reading blob {blob}")))?;
            Box::new(io::Cursor::new(blob.content().to_vec()))
        }
    };
    let mut reader = Reader::new(input);
    let mut digest = DataDigest::default();
    while let Some(event) = reader.next_event().map_err(|e| {
        Error::data(
            Default::default(),
            format!("the stored blob {blob} is not a stream: {e}"),
        )
    })? {
        digest.event(&event);
    }
    Ok(digest.finish().0)
}

/// The data digest of the version `version` put: its trailer, else read.
pub fn digest_of_version(repo: &Repository, version: &Version, blob: Oid) -> Result<String> {
    match &version.data {
        Some(d) => Ok(d.clone()),
        None => digest_of_blob(repo, blob),
    }
}

/// The commit that records that a put found the data of `version` again;
/// the caller points the resource's checked ref at it.
pub fn commit(
    repo: &Repository,
    res: &Resource,
    version: &git2::Commit,
    fetch: &Fetch,
    sig: &git2::Signature,
) -> Result<Oid> {
    let tree = objects::tree(repo, version)?;
    let mut text = format!(
        "checked {res}: same data as {}\n\n",
        trailer::short(version.id())
    );
    if !fetch.text.is_empty() {
        text.push_str(&fetch.text);
        text.push('\n');
    }
    text.push_str(&format!(
        "{}: {res}\n{CHECKED_TRAILER}: {}\n",
        trailer::RESOURCE_TRAILER,
        version.id()
    ));
    repo.commit(None, sig, sig, &text, &tree, &[version])
        .map_err(git(format!("recording the check of {res}")))
}

/// The last check of every version that has one: version commit → time
/// of the check. A damaged or foreign ref under `refs/qsnap/checked/` is
/// skipped: it is a note, not data.
pub fn last_checks(repo: &Repository) -> Result<HashMap<Oid, i64>> {
    let mut found: HashMap<Oid, i64> = HashMap::new();
    let refs = repo
        .references_glob(&format!("{CHECKED_REFS}*"))
        .map_err(git("listing the checked refs"))?;
    for r in refs.flatten() {
        let Some(oid) = r.target() else { continue };
        let Ok(c) = objects::commit(repo, oid) else {
            continue;
        };
        let v = Version::of(&c);
        if let Some(version) = v.checked {
            let t = found.entry(version).or_insert(v.time);
            *t = (*t).max(v.time);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fetch_headers_are_any_app_any_version() {
        for yes in ["qpull fetch v1", "myapp fetch v12", "a-b_c fetch v0"] {
            assert!(is_fetch(yes), "{yes}");
        }
        for no in [
            "qpull fetch",
            "qpull fetch v",
            "qpull fetch vx",
            "qpull fetch v1 x",
            "qpull sources v1",
            "Qpull fetch v1",
            "fetch v1",
            "qpull  fetch v1",
            "qpull fetch 1",
        ] {
            assert!(!is_fetch(no), "{no}");
        }
    }

    fn digest(stream: &str) -> (String, Fetch) {
        let mut r = Reader::new(stream.as_bytes());
        let mut d = DataDigest::default();
        while let Some(e) = r.next_event().unwrap() {
            d.event(&e);
        }
        d.finish()
    }

    #[test]
    fn the_digest_ignores_fetch_and_provenance_sections_only() {
        let a = digest("=====x data v1\n\t1\n=====qpull fetch v1\n\tat 1\n=====end\n");
        let b = digest(
            "=====qsnap provenance v1\n\tqplan raw\tabcd\n=====x data v1\n\t1\n\
             =====qpull fetch v1\n\tat 2\n\tmore\n=====other fetch v3\n=====end\n",
        );
        let c = digest("=====x data v1\n\t1\n=====end\n");
        let d = digest("=====x data v1\n\t2\n=====qpull fetch v1\n\tat 1\n=====end\n");
        assert_eq!(a.0, b.0);
        assert_eq!(a.0, c.0);
        assert_ne!(a.0, d.0);
        assert!(a.1.present && !c.1.present);
        assert_eq!(
            b.1.text,
            "=====qpull fetch v1\n\tat 2\n\tmore\n=====other fetch v3\n"
        );
        // A section boundary is data: moving a line across one is a change.
        assert_ne!(
            digest("=====x\n\t1\n=====y\n=====end\n").0,
            digest("=====x\n=====y\n\t1\n=====end\n").0
        );
    }

    proptest! {
        #[test]
        fn is_fetch_never_panics(s in "\\PC{0,40}") {
            let _ = is_fetch(&s);
        }
    }
}
