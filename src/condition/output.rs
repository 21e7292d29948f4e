//! The conditioned data written as the v1 input streams (SPEC section 3),
//! with the provenance passed through and `=====end`.

use std::io::{self, Write};

use super::gate::{Cell, Conditioned};
use crate::model::{HOLIDAYS, PARAMS, STAFF, WORK};
use crate::stream::{Writer, PROVENANCE};

/// Writes the v1 streams, the provenance passed through, and `=====end`.
pub fn write(
    out: &mut dyn Write,
    data: &Conditioned,
    provenance: Option<&[Vec<u8>]>,
) -> io::Result<()> {
    let mut w = Writer::new(out);
    let texts = |row: &[Cell]| row.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
    w.header(0, PARAMS)?;
    w.fields(0, texts(&data.params))?;
    w.header(0, HOLIDAYS)?;
    for h in &data.holidays {
        w.line(0, h.text.as_bytes())?;
    }
    w.header(0, STAFF)?;
    for row in &data.staff {
        w.fields(0, texts(row))?;
    }
    w.header(0, WORK)?;
    for row in &data.work {
        w.fields(0, texts(row))?;
    }
    if let Some(lines) = provenance {
        w.section(0, PROVENANCE, lines)?;
    }
    w.end()
}
