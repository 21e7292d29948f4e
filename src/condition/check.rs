//! `qcondition --check`: conditioned v1 streams (a team's own script) read
//! with qplan's own reader ([`crate::rules::read`]), every problem
//! collected, and the stream written back as every tool writes it.

use std::io::{self, Write};

use super::gate::Problems;
use crate::error::{Location, Result};
use crate::model::Input;
use crate::rules;
use crate::rules::Loaded;
use crate::stream::{Event, Reader, Writer};

/// Reads a conditioned stream with the rule book, every problem and
/// warning into `p`. `Err` only when it is not a stacked stream at all
/// (or on I/O), as for qplan. Returns what was read, so that a caller about
/// to exit may leave it unfreed.
pub fn check(stream: &[u8], p: &mut Problems) -> Result<Option<Box<Input>>> {
    match rules::read(&mut Reader::new(stream), p)? {
        Some(Loaded::Results(_)) => {
            p.error(
                &Location::section("qplan track work v1"),
                "this is a results stream (qplan's output), not the v1 inputs qcondition checks",
            );
            Ok(None)
        }
        Some(Loaded::Input(input)) => Ok(Some(input)),
        None => Ok(None),
    }
}

/// Reads a stream with the rule book for its errors only: the final gate
/// of `--map`, whose warnings were given on the raw rows already. Returns
/// what was read, as [`check`] does.
pub fn errors(stream: &[u8], p: &mut Problems) -> Result<Option<Box<Input>>> {
    struct Errors<'a>(&'a mut Problems);
    impl rules::Sink for Errors<'_> {
        fn problem(&mut self, at: Location, message: String) -> Result<()> {
            self.0.error(&at, message);
            Ok(())
        }
    }
    match rules::read(&mut Reader::new(stream), &mut Errors(p))? {
        Some(Loaded::Input(input)) => Ok(Some(input)),
        _ => Ok(None),
    }
}

/// Writes a valid stream the way every tool writes (SPEC section 2): a
/// lone TAB for an empty content line, no `\r`, headers without trailing
/// blanks, and one `=====end`, at the end.
pub fn write_normalized(stream: &[u8], out: &mut dyn Write) -> Result<()> {
    let mut reader = Reader::new(stream);
    let mut w = Writer::new(io::BufWriter::with_capacity(1 << 16, out));
    let io = |e| crate::error::Error::io("writing the checked stream", e);
    while let Some(event) = reader.next_event()? {
        match event {
            Event::Header(h) => w.header(0, h).map_err(io)?,
            Event::Line(l) => w.line(0, l).map_err(io)?,
            Event::End => {}
        }
    }
    w.end().map_err(io)?;
    w.into_inner().flush().map_err(io)?;
    Ok(())
}
