//! The checkpoint: for each watched resource, the commit the command last
//! processed successfully. It is what makes catch-up possible (a watcher
//! that was down runs once for every head it has not processed) and it
//! only ever moves on success.
//!
//! The file is a stacked stream, one content line per resource:
//!
//! ```text
//! =====qwatch checkpoint v1
//! <TAB>qplan raw<TAB>4b825dc642cb6eb9a060e54bf8d69288fbee4904
//! =====end
//! ```
//!
//! It is written whole to a temporary file beside it, flushed and renamed
//! over the old one, so a watcher killed at any moment leaves either the
//! old checkpoint or the new one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};
use crate::snap::Resource;

const HEADER: &str = "=====qwatch checkpoint v1";

/// What a rule has processed, and where that is kept.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    pub path: PathBuf,
    pub done: BTreeMap<Resource, String>,
}

impl Checkpoint {
    /// Reads the checkpoint at `path`; a missing file is an empty one (a
    /// watcher's first start).
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Checkpoint {
                    path: path.to_path_buf(),
                    done: BTreeMap::new(),
                })
            }
            Err(e) => {
                return Err(Error::io(
                    format!("reading the checkpoint {}", path.display()),
                    e,
                ))
            }
        };
        let done = parse(&text).map_err(|(line, message)| {
            Error::data(
                Location::section(format!("checkpoint {}", path.display())).line(line),
                message,
            )
        })?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            done,
        })
    }

    /// Writes the checkpoint atomically (temporary file, flush, rename),
    /// creating its directory when needed.
    pub fn save(&self) -> Result<()> {
        let shown = || format!("writing the checkpoint {}", self.path.display());
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(|e| Error::io(shown(), e))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".qwatch-checkpoint-")
            .tempfile_in(dir)
            .map_err(|e| Error::io(shown(), e))?;
        tmp.write_all(render(&self.done).as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| Error::io(shown(), e))?;
        tmp.persist(&self.path)
            .map_err(|e| Error::io(shown(), e.error))?;
        Ok(())
    }
}

/// The file's text.
pub fn render(done: &BTreeMap<Resource, String>) -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for (res, commit) in done {
        s.push_str(&format!("\t{res}\t{commit}\n"));
    }
    s.push_str("=====end\n");
    s
}

/// Reads the file's text; an error is the line number and what is wrong.
pub fn parse(text: &[u8]) -> std::result::Result<BTreeMap<Resource, String>, (u64, String)> {
    let text = std::str::from_utf8(text).map_err(|_| (1, "not UTF-8".to_owned()))?;
    let mut done = BTreeMap::new();
    let mut seen_header = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with("=====") {
            match line.trim_end() {
                HEADER if !seen_header => seen_header = true,
                "=====end" if seen_header => {}
                other => return Err((n, format!("unexpected header {other:?}"))),
            }
            continue;
        }
        if !seen_header {
            return Err((n, format!("expected {HEADER:?}")));
        }
        let Some(content) = line.strip_prefix('\t') else {
            return Err((n, "a line must start with a TAB or =====".into()));
        };
        if content.is_empty() {
            continue;
        }
        let (res, commit) = content
            .split_once('\t')
            .ok_or_else(|| (n, "expected `<app> <stage><TAB><commit>`".to_owned()))?;
        let res = Resource::parse(res).ok_or_else(|| (n, format!("{res:?} is not a resource")))?;
        if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((n, format!("{commit:?} is not a commit id")));
        }
        done.insert(res, commit.to_ascii_lowercase());
    }
    if !seen_header && !text.is_empty() {
        return Err((1, format!("expected {HEADER:?}")));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_atomic_save() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/cp");
        let mut cp = Checkpoint::load(&path).expect("missing is empty");
        assert!(cp.done.is_empty());
        let raw = Resource::new("qplan", "raw").expect("name");
        cp.done.insert(raw.clone(), "a".repeat(40));
        cp.save().expect("save");
        let again = Checkpoint::load(&path).expect("load");
        assert_eq!(
            again.done.get(&raw).map(String::as_str),
            Some(&*"a".repeat(40))
        );
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            format!(
                "=====qwatch checkpoint v1\n\tqplan raw\t{}\n=====end\n",
                "a".repeat(40)
            )
        );
    }

    #[test]
    fn damaged_checkpoint_names_the_line() {
        let e = parse(b"=====qwatch checkpoint v1\n\tqplan raw\tnope\n").unwrap_err();
        assert_eq!(e.0, 2);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
        }
    }
}
