//! A stored version's bytes, inflated once.
//!
//! The store's reader ([`crate::snap::objects::blob`]) inflates a loose
//! object to check it (libgit2 loops forever on a truncated one) and then
//! libgit2 inflates it again. Blame reads hundreds of versions of several
//! megabytes each, so here a loose object is read and inflated once, with
//! the same checks: a zlib stream that ends, a `blob <size>` header whose
//! size is what follows. A packed object goes through the store's reader
//! (libgit2 reads packs through their index, with checksums).

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};
use git2::{Oid, Repository};

use crate::error::{Error, Result};
use crate::snap::objects;

/// The content of blob `oid`.
pub fn read(repo: &Repository, oid: Oid) -> Result<Vec<u8>> {
    let hex = oid.to_string();
    let path = repo.path().join("objects").join(&hex[..2]).join(&hex[2..]);
    let raw = match std::fs::File::open(&path) {
        Ok(mut f) => {
            let mut raw = Vec::new();
            f.read_to_end(&mut raw)
                .map_err(|e| Error::io(format!("reading object {oid} of the store"), e))?;
            raw
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(objects::blob(repo, oid)?.content().to_vec());
        }
        Err(e) => return Err(Error::io(format!("reading object {oid} of the store"), e)),
    };
    inflate(&raw).map_err(|why| {
        Error::io(
            format!("object {oid} of the store is unreadable"),
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {why}", path.display()),
            ),
        )
    })
}

/// A loose object's content: inflated whole, its header a blob's whose
/// size is what follows.
fn inflate(raw: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut z = Decompress::new(true);
    // The header first, from a small buffer, to size the content's.
    let mut head = [0u8; 64];
    match z.decompress(raw, &mut head, FlushDecompress::None) {
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
    // says fills it and is caught below.
    let mut out = vec![0u8; size + 1];
    out[..already.len()].copy_from_slice(already);
    let mut filled = already.len();
    let mut pos = z.total_in() as usize;
    loop {
        let (before_in, before_out) = (z.total_in(), z.total_out());
        let status = z
            .decompress(&raw[pos..], &mut out[filled..], FlushDecompress::None)
            .map_err(|e| format!("it is not a zlib stream ({e})"))?;
        pos += (z.total_in() - before_in) as usize;
        filled += (z.total_out() - before_out) as usize;
        if status == Status::StreamEnd {
            break;
        }
        if filled > size {
            return Err(format!(
                "its header says a blob of {size} bytes, it holds more"
            ));
        }
        if z.total_in() == before_in && z.total_out() == before_out {
            return Err(if pos >= raw.len() {
                "it is truncated: its zlib stream ends early (disk trouble or a bad copy)".into()
            } else {
                "its zlib stream does not progress".into()
            });
        }
    }
    if filled != size {
        return Err(format!(
            "its header says a blob of {size} bytes, it holds {filled}"
        ));
    }
    out.truncate(size);
    Ok(out)
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

    #[test]
    fn whole_blobs_read_and_damaged_ones_say_why() {
        assert_eq!(inflate(&deflate(b"blob 5\0hello")).unwrap(), b"hello");
        assert_eq!(inflate(&deflate(b"blob 0\0")).unwrap(), b"");
        let big: Vec<u8> = b"blob 300000\0"
            .iter()
            .copied()
            .chain((0..300_000u32).map(|i| (i % 251) as u8))
            .collect();
        let z = deflate(&big);
        assert_eq!(inflate(&z).unwrap(), &big[12..]);
        assert!(inflate(&z[..z.len() / 2])
            .unwrap_err()
            .contains("truncated"));
        let short = inflate(&deflate(b"blob 9\0hello")).unwrap_err();
        assert!(short.contains("9 bytes, it holds 5"), "{short}");
        let long = inflate(&deflate(b"blob 2\0hello")).unwrap_err();
        assert!(long.contains("holds more"), "{long}");
        assert!(inflate(&deflate(b"tree 5\0hello"))
            .unwrap_err()
            .contains("not a blob"));
        assert!(inflate(b"not zlib").unwrap_err().contains("zlib"));
        assert!(inflate(b"").is_err());
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
            let _ = inflate(&b);
            let z = deflate(&b);
            let _ = inflate(&z[..z.len() / 2]);
            let mut blob = format!("blob {}\0", b.len()).into_bytes();
            blob.extend_from_slice(&b);
            prop_assert_eq!(inflate(&deflate(&blob)).unwrap(), b);
        }
    }
}
