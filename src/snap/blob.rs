//! A stored version's bytes, inflated once.
//!
//! The store's reader ([`crate::snap::objects::blob`]) inflates a loose
//! object to check it (libgit2 loops forever on a truncated one) and then
//! libgit2 inflates it again. Blame reads hundreds of versions of several
//! megabytes each, so here a loose object is read and inflated once, with
//! the same checks: a zlib stream that ends, a `blob <size>` header whose
//! size is what follows. A packed object goes through the store's reader
//! (libgit2 reads packs through their index, with checksums).
//!
//! A [`Reader`] keeps its buffers from blob to blob and can stop where its
//! caller has what it needs (blame stops after the lists that can hold its
//! item), so a reader over hundreds of versions neither allocates per
//! version nor inflates what nobody reads.

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};
use git2::{Oid, Repository};

use crate::error::{Error, Result};
use crate::snap::objects;

/// Compressed bytes inflated between two looks at what has been read:
/// about 150 KB of text, still in the processor's cache when the caller
/// searches it.
const PIECE: usize = 32 * 1024;

/// The content of blob `oid`.
pub fn read(repo: &Repository, oid: Oid) -> Result<Vec<u8>> {
    let mut r = Reader::new();
    r.read_until(repo, oid, |_| false)?;
    Ok(std::mem::take(&mut r.data))
}

/// Reads blobs one after another into buffers it keeps, so that reading
/// hundreds of versions of several megabytes allocates (and the kernel
/// maps in) their memory once, not once per version. One per thread.
pub struct Reader {
    raw: Vec<u8>,
    data: Vec<u8>,
    z: Decompress,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader::new()
    }
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            raw: Vec::new(),
            data: Vec::new(),
            z: Decompress::new(true),
        }
    }

    /// Blob `oid`'s content from its start, inflated piece by piece until
    /// `enough(read so far)` says the caller has what it needs, or to its
    /// end; and whether it was read whole. What is read is checked as it
    /// is inflated (a damaged stream fails where it is damaged); the
    /// checksum at the end of the stream, and the size in its header, are
    /// checked only when it is read whole.
    pub fn read_until(
        &mut self,
        repo: &Repository,
        oid: Oid,
        enough: impl FnMut(&[u8]) -> bool,
    ) -> Result<(&[u8], bool)> {
        let hex = oid.to_string();
        let path = repo.path().join("objects").join(&hex[..2]).join(&hex[2..]);
        self.raw.clear();
        match std::fs::File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut self.raw)
                    .map_err(|e| Error::io(format!("reading object {oid} of the store"), e))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Packed: libgit2 reads it whole, through the pack's index.
                let mut enough = enough;
                self.data.clear();
                self.data
                    .extend_from_slice(objects::blob(repo, oid)?.content());
                enough(&self.data);
                return Ok((&self.data, true));
            }
            Err(e) => return Err(Error::io(format!("reading object {oid} of the store"), e)),
        }
        match inflate(&mut self.z, &self.raw, &mut self.data, enough) {
            Ok(whole) => Ok((&self.data, whole)),
            Err(why) => Err(Error::io(
                format!("object {oid} of the store is unreadable"),
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {why}", path.display()),
                ),
            )),
        }
    }
}

/// A loose object's content, inflated into `out` (its header a blob's
/// whose size is what follows) until `enough(out)`; whether it was read
/// whole.
fn inflate(
    z: &mut Decompress,
    raw: &[u8],
    out: &mut Vec<u8>,
    mut enough: impl FnMut(&[u8]) -> bool,
) -> std::result::Result<bool, String> {
    z.reset(true);
    out.clear();
    // The header first, from a small buffer, to size the content's.
    let mut head = [0u8; 64];
    let head_in = raw.len().min(PIECE);
    match z.decompress(&raw[..head_in], &mut head, FlushDecompress::None) {
        Ok(_) => {}
        Err(e) => return Err(format!("it is not a zlib stream ({e})")),
    }
    let got = z.total_out() as usize;
    let Some(nul) = head[..got].iter().position(|&b| b == 0) else {
        return Err("it has no object header".into());
    };
    let text = String::from_utf8_lossy(&head[..nul]).into_owned();
    let size: usize = match text.split_once(' ') {
        Some(("blob", size)) => size
            .parse()
            .map_err(|_| format!("its header {text:?} is not git's"))?,
        Some((kind, _)) => return Err(format!("it is a {kind}, not a blob")),
        None => return Err(format!("its header {text:?} is not git's")),
    };
    let already = &head[nul + 1..got];
    if already.len() > size {
        return Err(format!(
            "its header says a blob of {size} bytes, it holds more"
        ));
    }
    // One byte of room beyond the size: a stream longer than its header
    // says fills it and is caught below. (The buffer may be larger, from
    // an earlier blob; that is caught as well.) Inflating writes into the
    // spare room without zeroing it first.
    let room = size.checked_add(1).ok_or("its header size is too large")?;
    out.reserve(room);
    out.extend_from_slice(already);
    let mut pos = z.total_in() as usize;
    loop {
        let (before_in, before_out) = (z.total_in(), z.total_out());
        let piece = &raw[pos..raw.len().min(pos + PIECE)];
        let status = z
            .decompress_vec(piece, out, FlushDecompress::None)
            .map_err(|e| format!("it is not a zlib stream ({e})"))?;
        pos += (z.total_in() - before_in) as usize;
        if out.len() > size {
            return Err(format!(
                "its header says a blob of {size} bytes, it holds more"
            ));
        }
        if status == Status::StreamEnd {
            break;
        }
        if z.total_in() == before_in && z.total_out() == before_out {
            return Err(if pos >= raw.len() {
                "it is truncated: its zlib stream ends early (disk trouble or a bad copy)".into()
            } else {
                "its zlib stream does not progress".into()
            });
        }
        if enough(out) {
            return Ok(false);
        }
    }
    if out.len() != size {
        return Err(format!(
            "its header says a blob of {size} bytes, it holds {}",
            out.len()
        ));
    }
    enough(out);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::ZlibEncoder;
    use flate2::Compression;
    use proptest::prelude::*;
    use std::io::Write;

    /// A whole read with a fresh inflater and buffer.
    fn whole(raw: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let mut out = Vec::new();
        assert!(inflate(&mut Decompress::new(true), raw, &mut out, |_| {
            false
        })?);
        Ok(out)
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn whole_blobs_read_and_damaged_ones_say_why() {
        assert_eq!(whole(&deflate(b"blob 5\0hello")).unwrap(), b"hello");
        assert_eq!(whole(&deflate(b"blob 0\0")).unwrap(), b"");
        let big: Vec<u8> = b"blob 300000\0"
            .iter()
            .copied()
            .chain((0..300_000u32).map(|i| (i % 251) as u8))
            .collect();
        let z = deflate(&big);
        assert_eq!(whole(&z).unwrap(), &big[12..]);
        assert!(whole(&z[..z.len() / 2]).unwrap_err().contains("truncated"));
        let short = whole(&deflate(b"blob 9\0hello")).unwrap_err();
        assert!(short.contains("9 bytes, it holds 5"), "{short}");
        let long = whole(&deflate(b"blob 2\0hello")).unwrap_err();
        assert!(long.contains("holds more"), "{long}");
        assert!(whole(&deflate(b"tree 5\0hello"))
            .unwrap_err()
            .contains("not a blob"));
        assert!(whole(b"not zlib").unwrap_err().contains("zlib"));
        assert!(whole(b"").is_err());
    }

    /// The buffers are kept from blob to blob: a small blob after a big
    /// one is itself, and a stream longer than its header is caught even
    /// when the kept buffer has room for it.
    #[test]
    fn a_reader_reused_reads_each_blob_as_itself() {
        let big: Vec<u8> = b"blob 200000\0"
            .iter()
            .copied()
            .chain((0..200_000u32).map(|i| (i % 253) as u8))
            .collect();
        let mut z = Decompress::new(true);
        let mut out = Vec::new();
        assert!(inflate(&mut z, &deflate(&big), &mut out, |_| false).unwrap());
        assert_eq!(out, &big[12..]);
        assert!(inflate(&mut z, &deflate(b"blob 5\0hello"), &mut out, |_| false).unwrap());
        assert_eq!(out, b"hello");
        inflate(&mut z, &deflate(&big), &mut out, |_| false).unwrap();
        let long = inflate(&mut z, &deflate(b"blob 2\0hello"), &mut out, |_| false).unwrap_err();
        assert!(long.contains("holds more"), "{long}");
    }

    /// A read stopped by the caller gives a prefix of the content, at
    /// least as long as what was asked for, and says it is not whole.
    #[test]
    fn a_read_stops_when_the_caller_has_enough() {
        let text: Vec<u8> = (0..400_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let mut blob = format!("blob {}\0", text.len()).into_bytes();
        blob.extend_from_slice(&text);
        let mut out = Vec::new();
        let mut looks = 0;
        let whole = inflate(
            &mut Decompress::new(true),
            &deflate(&blob),
            &mut out,
            |got| {
                looks += 1;
                got.len() > 1_000_000
            },
        )
        .unwrap();
        assert!(!whole);
        assert!(
            looks > 1 && out.len() > 1_000_000 && out.len() < text.len(),
            "{looks} {}",
            out.len()
        );
        assert_eq!(out, &text[..out.len()]);
    }

    #[test]
    fn a_store_blob_reads_the_same_loose_or_packed() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let oid = repo.blob(b"=====a v1\n\tx\n=====end\n").unwrap();
        assert_eq!(read(&repo, oid).unwrap(), b"=====a v1\n\tx\n=====end\n");
    }

    proptest! {
        #[test]
        fn any_bytes_are_judged_without_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = whole(&b);
            let z = deflate(&b);
            let _ = whole(&z[..z.len() / 2]);
            let mut blob = format!("blob {}\0", b.len()).into_bytes();
            blob.extend_from_slice(&b);
            prop_assert_eq!(whole(&deflate(&blob)).unwrap(), b);
        }
    }
}
