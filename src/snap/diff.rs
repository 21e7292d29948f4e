//! The section-aware diff of two stored versions: per section, the lines
//! added and removed.
//!
//! Sections are tables of records, so lines are compared as a multiset: a
//! line counts as added when the new version has it more often than the old
//! one. Moving a line within its section is not a change. Lines are shown
//! in the order they have in their version.

use std::io::{self, Write};

use rustc_hash::FxHashMap;

use crate::error::Result;
use crate::stream::{read_sections, Reader, Section};

/// What changed in one section.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SectionDiff {
    pub header: String,
    /// Whether the section is only in the old (`Some(false)`) or only in
    /// the new version (`Some(true)`).
    pub only: Option<bool>,
    pub added: Vec<Vec<u8>>,
    pub removed: Vec<Vec<u8>>,
}

/// Sections by header, in order of first appearance, lines of repeated
/// headers joined.
fn by_header(stream: &[u8]) -> Result<Vec<(String, Vec<Vec<u8>>)>> {
    let sections: Vec<Section> = read_sections(&mut Reader::new(stream))?;
    let mut out: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for s in sections {
        match out.iter_mut().find(|(h, _)| *h == s.header) {
            Some((_, lines)) => lines.extend(s.lines),
            None => out.push((s.header, s.lines)),
        }
    }
    Ok(out)
}

/// Lines of `a` not matched by a line of `b` (counting repeats).
fn minus(a: &[Vec<u8>], b: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut count: FxHashMap<&[u8], usize> = FxHashMap::default();
    for l in b {
        *count.entry(l).or_default() += 1;
    }
    a.iter()
        .filter(|l| match count.get_mut(l.as_slice()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// The sections that differ between two streams, new sections last.
pub fn diff(old: &[u8], new: &[u8]) -> Result<Vec<SectionDiff>> {
    let (old, new) = (by_header(old)?, by_header(new)?);
    let empty = Vec::new();
    let find = |v: &'_ [(String, Vec<Vec<u8>>)], h: &str| v.iter().position(|(x, _)| x == h);
    let mut out = Vec::new();
    for (h, lines) in &old {
        let other = find(&new, h).map(|i| &new[i].1);
        let d = SectionDiff {
            header: h.clone(),
            only: other.is_none().then_some(false),
            added: minus(other.unwrap_or(&empty), lines),
            removed: minus(lines, other.unwrap_or(&empty)),
        };
        if d.only.is_some() || !d.added.is_empty() || !d.removed.is_empty() {
            out.push(d);
        }
    }
    for (h, lines) in &new {
        if find(&old, h).is_none() {
            out.push(SectionDiff {
                header: h.clone(),
                only: Some(true),
                added: lines.clone(),
                removed: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// The diff as text: a line per changed section, then its removed (`-`)
/// and added (`+`) lines, each with its TAB as in the stream.
pub fn write_text(out: &mut dyn Write, diffs: &[SectionDiff]) -> io::Result<()> {
    for d in diffs {
        let note = match d.only {
            Some(true) => " (new section)",
            Some(false) => " (section removed)",
            None => "",
        };
        writeln!(
            out,
            "section '{}'{note}: {} added, {} removed",
            d.header,
            d.added.len(),
            d.removed.len()
        )?;
        for (sign, lines) in [(b'-', &d.removed), (b'+', &d.added)] {
            for l in lines {
                out.write_all(&[sign, b'\t'])?;
                out.write_all(l)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_section_lines_added_and_removed() {
        let old = b"=====a\n\tx\n\ty\n\ty\n=====gone\n\tz\n=====end\n";
        let new = b"=====a\n\ty\n\tw\n\tx\n=====fresh\n\tq\n=====end\n";
        let d = diff(old, new).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].header, "a");
        assert_eq!(d[0].added, vec![b"w".to_vec()]);
        assert_eq!(d[0].removed, vec![b"y".to_vec()]);
        assert_eq!(d[1].only, Some(false));
        assert_eq!(d[2].only, Some(true));
        let mut text = Vec::new();
        write_text(&mut text, &d).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "section 'a': 1 added, 1 removed\n-\ty\n+\tw\n\
             section 'gone' (section removed): 0 added, 1 removed\n-\tz\n\
             section 'fresh' (new section): 1 added, 0 removed\n+\tq\n"
        );
        assert!(diff(old, old).unwrap().is_empty());
    }
}
