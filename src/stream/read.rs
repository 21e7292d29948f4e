//! Reading stacked streams: line sources, the event reader, owned sections.

use std::io::{self, BufRead};

use memchr::memchr;

use super::{END, HEADER_PREFIX};
use crate::error::{Error, Result};

/// Where lines come from: a byte stream, or the content lines of a section
/// being read as a nested stream. Lines come without their `\n` and without
/// a trailing `\r`.
pub trait LineSource {
    /// The next line, or `None` at the end of the input.
    fn next_line(&mut self) -> io::Result<Option<&[u8]>>;
    /// The 1-based number of the line last returned (0 before the first).
    fn line_no(&self) -> u64;
}

/// Lines of any `BufRead`. Lines that lie whole in the reader's buffer are
/// returned in place; only a line split across two reads is copied.
pub struct IoLines<R> {
    inner: R,
    /// Bytes of the inner buffer handed out by the last call, consumed on the next.
    pending: usize,
    line: Vec<u8>,
    line_no: u64,
}

impl<R: BufRead> IoLines<R> {
    pub fn new(inner: R) -> Self {
        IoLines {
            inner,
            pending: 0,
            line: Vec::new(),
            line_no: 0,
        }
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

impl<R: BufRead> LineSource for IoLines<R> {
    fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        let found = loop {
            match self.inner.fill_buf() {
                Ok([]) => return Ok(None),
                Ok(buf) => break memchr(b'\n', buf),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.line_no += 1;
        if let Some(i) = found {
            // The whole line is in the buffer: hand it out in place. The
            // buffer is unchanged since the fill above, so this re-borrow
            // returns the same bytes without reading.
            self.pending = i + 1;
            let buf = self.inner.fill_buf()?;
            return Ok(Some(strip_cr(&buf[..i])));
        }
        self.line.clear();
        self.inner.read_until(b'\n', &mut self.line)?;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        Ok(Some(strip_cr(&self.line)))
    }

    fn line_no(&self) -> u64 {
        self.line_no
    }
}

/// The content lines of a section, read as a stream of their own. Line
/// numbers stay those of the outer input, so errors point at the real line.
pub struct SliceLines<'a> {
    lines: std::slice::Iter<'a, Vec<u8>>,
    line_no: u64,
}

impl<'a> SliceLines<'a> {
    /// `first_line` is the number of the line holding `lines[0]`.
    pub fn new(lines: &'a [Vec<u8>], first_line: u64) -> Self {
        SliceLines {
            lines: lines.iter(),
            line_no: first_line.saturating_sub(1),
        }
    }
}

impl LineSource for SliceLines<'_> {
    fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        Ok(self.lines.next().map(|l| {
            self.line_no += 1;
            l.as_slice()
        }))
    }

    fn line_no(&self) -> u64 {
        self.line_no
    }
}

/// One step of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A section header, trailing blanks removed (`qplan work v1`).
    Header(&'a str),
    /// A content line of the current section, its leading TAB removed.
    Line(&'a [u8]),
    /// The end marker `=====end`.
    End,
}

/// The streaming reader: events one at a time, strict about the format.
pub struct Reader<S> {
    src: S,
    in_section: bool,
    /// The last event was the end marker (for the message of a line after it).
    after_end: bool,
}

impl<R: BufRead> Reader<IoLines<R>> {
    /// A reader over any buffered byte stream.
    pub fn new(input: R) -> Self {
        Reader::from_source(IoLines::new(input))
    }
}

impl<S: LineSource> Reader<S> {
    pub fn from_source(src: S) -> Self {
        Reader {
            src,
            in_section: false,
            after_end: false,
        }
    }

    /// The number of the line of the last event.
    pub fn line_no(&self) -> u64 {
        self.src.line_no()
    }

    fn stream_error(&self, message: impl Into<String>) -> Error {
        Error::Stream {
            line: self.src.line_no(),
            message: message.into(),
        }
    }

    /// The next event, or `None` at the end of the input.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>> {
        let line_no = self.src.line_no() + 1;
        let line = match self.src.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Error::io(format!("reading line {line_no}"), e)),
        };
        if let Some(rest) = line.strip_prefix(HEADER_PREFIX) {
            let header = trim_end_blanks(rest);
            let Ok(header) = std::str::from_utf8(header) else {
                return Err(Error::Stream {
                    line: line_no,
                    message: "section header is not UTF-8".into(),
                });
            };
            if header.is_empty() {
                return Err(Error::Stream {
                    line: line_no,
                    message: "section header is empty (a header line is '=====' and a name)".into(),
                });
            }
            if header == END {
                self.in_section = false;
                self.after_end = true;
                return Ok(Some(Event::End));
            }
            self.in_section = true;
            self.after_end = false;
            return Ok(Some(Event::Header(header)));
        }
        let content = match line.first() {
            Some(b'\t') => &line[1..],
            None => line,
            Some(_) => {
                return Err(Error::Stream {
                    line: line_no,
                    message: format!(
                        "line starts with neither TAB nor '=====': {:?}",
                        preview(line)
                    ),
                })
            }
        };
        if !self.in_section {
            // Split the borrow: the error needs `self`, the line borrows `self.src`.
            let blank = content
                .iter()
                .all(|&b| b == b' ' || b == b'\t' || b == b'\r');
            let message = match (blank, self.after_end) {
                // Issue 20: a blank line at the end of a file was told that
                // a stream starts with a header, which it did.
                (true, true) => "a blank line after '=====end' (the end marker is the \
                                 last line of a stream; remove what follows it)"
                    .to_owned(),
                (true, false) => "a blank line before the first '=====' header (a stream \
                                  starts with its first header)"
                    .to_owned(),
                (false, true) => format!(
                    "a content line after '=====end' (the end marker is the last line of a \
                     stream, or comes between sections): {:?}",
                    preview(content)
                ),
                (false, false) => format!(
                    "content line outside any section (a stream starts with a '=====' header): {:?}",
                    preview(content)
                ),
            };
            return Err(Error::Stream {
                line: line_no,
                message,
            });
        }
        Ok(Some(Event::Line(content)))
    }

    /// Checks that the input is a valid stream and that it ends with the
    /// end marker, without keeping anything. Returns the line count.
    pub fn validate_to_end(&mut self) -> Result<u64> {
        let mut last_was_end = false;
        while let Some(event) = self.next_event()? {
            last_was_end = event == Event::End;
        }
        if !last_was_end {
            return Err(self.stream_error("stream does not end with '=====end'"));
        }
        Ok(self.src.line_no())
    }
}

fn trim_end_blanks(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t' && b != b'\r')
        .map_or(0, |i| i + 1);
    &s[..end]
}

/// The start of a bad line, for error messages.
fn preview(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
    if line.len() > 40 {
        s + "…"
    } else {
        s
    }
}

/// A whole section in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub header: String,
    /// The line number of the header.
    pub line: u64,
    /// Content lines, leading TAB removed.
    pub lines: Vec<Vec<u8>>,
}

impl Section {
    /// The content read as a nested stream, with the outer line numbers.
    pub fn nested(&self) -> Reader<SliceLines<'_>> {
        Reader::from_source(SliceLines::new(&self.lines, self.line + 1))
    }

    /// The content lines as text with their line numbers; a line that is
    /// not UTF-8 is an error naming it.
    pub fn text_lines(&self) -> impl Iterator<Item = Result<(u64, &str)>> + '_ {
        self.lines.iter().enumerate().map(move |(i, l)| {
            let line = self.line + 1 + i as u64;
            std::str::from_utf8(l)
                .map(|s| (line, s))
                .map_err(|_| Error::Stream {
                    line,
                    message: format!("section '{}': line is not UTF-8", self.header),
                })
        })
    }

    /// The sections of the nested stream, read whole.
    pub fn nested_sections(&self) -> Result<Vec<Section>> {
        read_sections(&mut self.nested())
    }
}

/// Reads every section of a stream into memory (end markers dropped).
pub fn read_sections<S: LineSource>(reader: &mut Reader<S>) -> Result<Vec<Section>> {
    let mut sections: Vec<Section> = Vec::new();
    loop {
        let line = reader.line_no() + 1;
        match reader.next_event()? {
            Some(Event::Header(h)) => sections.push(Section {
                header: h.to_owned(),
                line,
                lines: Vec::new(),
            }),
            // The reader refuses content outside a section, so there is one.
            Some(Event::Line(l)) => {
                if let Some(s) = sections.last_mut() {
                    s.lines.push(l.to_vec());
                }
            }
            Some(Event::End) => {}
            None => return Ok(sections),
        }
    }
}
