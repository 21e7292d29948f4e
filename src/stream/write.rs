//! Writing stacked streams at any nesting depth.

use std::io::{self, Write};

use super::{END, HEADER_PREFIX};

const TABS: &[u8] = b"\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";

/// Writes sections. Depth 0 is the top-level stream; a section at depth `d`
/// has its header line indented by `d` TABs and its content by `d + 1`.
pub struct Writer<W> {
    out: W,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer { out }
    }

    fn indent(&mut self, depth: usize) -> io::Result<()> {
        let mut left = depth;
        while left > 0 {
            let n = left.min(TABS.len());
            self.out.write_all(&TABS[..n])?;
            left -= n;
        }
        Ok(())
    }

    /// A header line `=====<header>` at `depth`.
    pub fn header(&mut self, depth: usize, header: &str) -> io::Result<()> {
        self.indent(depth)?;
        self.out.write_all(HEADER_PREFIX)?;
        self.out.write_all(header.as_bytes())?;
        self.out.write_all(b"\n")
    }

    /// A content line of a section at `depth`. An empty line is written as a
    /// lone TAB, as SPEC section 2 asks of writers.
    pub fn line(&mut self, depth: usize, content: &[u8]) -> io::Result<()> {
        self.indent(depth + 1)?;
        self.out.write_all(content)?;
        self.out.write_all(b"\n")
    }

    /// A content line made of TAB-separated fields.
    pub fn fields<I, F>(&mut self, depth: usize, fields: I) -> io::Result<()>
    where
        I: IntoIterator<Item = F>,
        F: AsRef<[u8]>,
    {
        self.indent(depth + 1)?;
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.write_all(b"\t")?;
            }
            self.out.write_all(f.as_ref())?;
        }
        self.out.write_all(b"\n")
    }

    /// A whole section: its header and its lines.
    pub fn section<I, L>(&mut self, depth: usize, header: &str, lines: I) -> io::Result<()>
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u8]>,
    {
        self.header(depth, header)?;
        for l in lines {
            self.line(depth, l.as_ref())?;
        }
        Ok(())
    }

    /// The end marker, `=====end`: the last line every tool writes.
    pub fn end(&mut self) -> io::Result<()> {
        self.header(0, END)
    }

    /// Access to the underlying writer, for formats that embed raw text.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
