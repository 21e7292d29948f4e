//! Reads a stacked stream on stdin and writes it back on stdout through the
//! codec: the read+write throughput benchmark of `make bench`.

use std::io::{self, BufReader, BufWriter, Write};

use qplan::stream::{Event, Reader, Writer};

fn main() -> Result<(), qplan::Error> {
    let input = BufReader::with_capacity(256 * 1024, io::stdin().lock());
    let out = BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    let mut r = Reader::new(input);
    let mut w = Writer::new(out);
    while let Some(e) = r.next_event()? {
        match e {
            Event::Header(h) => w.header(0, h)?,
            Event::Line(l) => w.line(0, l)?,
            Event::End => w.end()?,
        }
    }
    w.get_mut().flush()?;
    Ok(())
}
