//! Where the newest version of each resource was put, found without a walk
//! of the history (issue 27).
//!
//! A put changes one resource, so the commit that put the version of
//! `qplan conditioned` current today may be thousands of commits back:
//! finding it (for `get`, `ls`, `log -n 1 RESOURCE`, the bus's HEADS, a
//! what-if's base) walked main's first-parent chain back to it, one commit
//! read per put since. A year of puts every 15 minutes is 100,000 commits.
//!
//! The store keeps the answer beside the history, in `qsnap.newest` in its
//! git directory: for one commit (the *tip*, main when it was written), the
//! commit that put each resource's version current there. What is below a
//! commit never changes (commits are named by their content), so the
//! file is never wrong, only perhaps behind main: a reader walks from
//! where it starts back to the tip (no commit at all when main is the tip)
//! and takes the rest from the file; when the tip is not on its way (main
//! moved to another history, the file is missing, damaged or from another
//! store) it walks the whole history, as before. The history stays the
//! truth; the file only says where to stop reading it.
//!
//! Each put writes the file for its new commit under the store's lock,
//! from the file for main before it (one commit read), so the file is
//! current after every put. `qsnap pull` and `verify --repair` write it
//! too after they move main (a walk of the commits pulled, or of the whole
//! history after a repair). Plain git leaves it behind; the next put
//! catches up. The file is replaced by a rename, so a reader sees an old
//! one or a new one, whole; it ends with the SHA-256 of what precedes it,
//! so a damaged one is ignored. It is not part of what `push` and `clone`
//! copy: a clone makes its own at its first put or pull.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use git2::Oid;
use sha2::{Digest, Sha256};

use super::name::Resource;

/// The file, in the store's git directory.
pub const FILE: &str = "qsnap.newest";
const HEADER: &str = "qsnap newest v1";

/// For the commit `tip`: the commit that put the version current at `tip`
/// of every resource ever put at or below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newest {
    pub tip: Oid,
    pub puts: BTreeMap<Resource, Oid>,
}

fn path(git_dir: &Path) -> PathBuf {
    git_dir.join(FILE)
}

impl Newest {
    /// The file's text, its digest last.
    pub fn render(&self) -> String {
        let mut text = format!("{HEADER}\ntip {}\n", self.tip);
        for (res, put) in &self.puts {
            text.push_str(&format!("{res}\t{put}\n"));
        }
        let digest = hex(&Sha256::digest(text.as_bytes()));
        text.push_str(&format!("sha256 {digest}\n"));
        text
    }

    /// Reads the text [`Newest::render`] writes; `None` for anything else
    /// (a damaged, cut or foreign file is only not used).
    pub fn parse(text: &str) -> Option<Newest> {
        let body_end = text.strip_suffix('\n')?.rfind('\n')? + 1;
        let (body, last) = text.split_at(body_end);
        let digest = last.strip_prefix("sha256 ")?.trim_end_matches('\n');
        if digest != hex(&Sha256::digest(body.as_bytes())) {
            return None;
        }
        let mut lines = body.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let tip = Oid::from_str(lines.next()?.strip_prefix("tip ")?).ok()?;
        let mut puts = BTreeMap::new();
        for line in lines {
            let (res, put) = line.split_once('\t')?;
            puts.insert(Resource::parse(res)?, Oid::from_str(put).ok()?);
        }
        Some(Newest { tip, puts })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The store's file, when there is one and it reads whole.
pub fn read(git_dir: &Path) -> Option<Newest> {
    let text = std::fs::read_to_string(path(git_dir)).ok()?;
    Newest::parse(&text)
}

/// Replaces the store's file (a temporary file beside it, renamed). Not
/// flushed: after a power loss a lost or cut file is only not used.
pub fn write(git_dir: &Path, newest: &Newest) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".qsnap.newest.")
        .tempfile_in(git_dir)?;
    tmp.write_all(newest.render().as_bytes())?;
    tmp.persist(path(git_dir)).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Newest {
        let oid = |n: u8| Oid::from_bytes(&[n; 20]).unwrap();
        Newest {
            tip: oid(1),
            puts: [
                (Resource::new("qplan", "raw").unwrap(), oid(2)),
                (Resource::new("qplan", "results").unwrap(), oid(1)),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn the_file_reads_back_and_a_damaged_one_is_not_used() {
        let n = sample();
        let text = n.render();
        assert!(text.starts_with(
            "qsnap newest v1\ntip 0101010101010101010101010101010101010101\n\
             qplan raw\t0202020202020202020202020202020202020202\n"
        ));
        assert_eq!(Newest::parse(&text), Some(n.clone()));
        // Cut anywhere, or one byte changed: not used.
        for cut in 0..text.len() {
            assert_eq!(Newest::parse(&text[..cut]), None, "cut at {cut}");
        }
        let changed = text.replacen("0202", "0303", 1);
        assert_eq!(Newest::parse(&changed), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None);
        write(dir.path(), &n).unwrap();
        assert_eq!(read(dir.path()), Some(n));
        // Only the file itself is left in the directory.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE]);
    }

    proptest! {
        #[test]
        fn any_text_is_read_without_panic(s in "\\PC{0,200}") {
            let _ = Newest::parse(&s);
        }

        #[test]
        fn a_rendered_file_with_a_line_changed_is_never_used(line in 0usize..4, s in "[a-z0-9\t ]{0,40}") {
            let text = sample().render();
            let mut lines: Vec<&str> = text.lines().collect();
            if lines[line] != s {
                lines[line] = &s;
                let changed = lines.join("\n") + "\n";
                prop_assert_eq!(Newest::parse(&changed), None);
            }
        }
    }
}
