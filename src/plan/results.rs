//! The qplan results (SPEC section 5): the model every output format renders,
//! the v1 output streams, and reading a stored results stream back so it can
//! be rendered without recomputing.

use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::NaiveDate;

use crate::model::{Amount, Arena, Span, Triage, PARAMS};
use crate::stream::{Writer, PROVENANCE};

pub const TRACKS: &str = "qplan tracks v1";
pub const SKILLS: &str = "qplan skills v1";
pub const TRIAGES: &str = "qplan triages v1";
pub const MANPOWER: &str = "qplan track manpower v1";
pub const DEMAND: &str = "qplan track-triage demand v1";
pub const STAFF: &str = "qplan track-skill staff v1";
pub const WORK: &str = "qplan track work v1";
pub const TRIAGE_ITEM: &str = "qplan triage item";
pub const TRACK_ITEM: &str = "qplan track item";
pub const SKILL_ITEM: &str = "qplan skill item";
/// How many rows a thread formats at a time ([`in_chunks`]).
const CHUNK_ROWS: usize = 16_384;

/// A work item as the results show it; its text and amounts are in
/// [`Results::arena`] (read them with [`Results::id`], [`Results::name`],
/// [`Results::estimate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedItem {
    pub id: Span,
    pub rank: i64,
    pub name: Span,
    pub triage: Triage,
    /// Amounts per skill (index into [`Results::skills`]); `None` when not
    /// estimated.
    pub estimate: Option<Span>,
    /// The item's own track (index into [`Results::tracks`], never `All`).
    pub track: Option<u32>,
}

/// An item's line in one track's ranked list.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackRow {
    /// Index into [`Results::items`].
    pub item: u32,
    /// Skills short and by how much (negative), empty when above the
    /// line: amounts in [`Results::arena`] (read them with
    /// [`Results::shortage`]).
    pub shortage: Span,
    /// The dev-complete date; `None` is DNF.
    pub done: Option<NaiveDate>,
}

/// Everything qplan computes, per track (index 0 is `All`).
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// The params line, copied from the input.
    pub params_line: String,
    pub tracks: Vec<String>,
    pub skills: Vec<String>,
    /// `[track][skill]`, person-weeks.
    pub manpower: Vec<Vec<Amount>>,
    /// `[track][triage][skill]`, cumulative person-weeks.
    pub demand: Vec<[Vec<Amount>; 5]>,
    /// `[track][skill]`: names, sorted.
    pub staff: Vec<Vec<Vec<String>>>,
    /// `[track]`: the head count, people with or without a skill. A stored
    /// results stream lists people per skill only, so read back it counts
    /// the people of the skill groups.
    pub heads: Vec<usize>,
    /// `[track]`: rows in rank order.
    pub work: Vec<Vec<TrackRow>>,
    pub items: Vec<PlannedItem>,
    /// The items' ids, names and estimates.
    pub arena: Arena,
    /// The `qsnap provenance v1` lines, passed through.
    pub provenance: Option<Vec<Vec<u8>>>,
}

impl Results {
    pub fn item(&self, row: &TrackRow) -> &PlannedItem {
        &self.items[row.item as usize]
    }

    pub fn id(&self, item: &PlannedItem) -> &str {
        self.arena.str(item.id)
    }

    pub fn name(&self, item: &PlannedItem) -> &str {
        self.arena.str(item.name)
    }

    /// The amounts per skill; `None` when not estimated.
    pub fn estimate(&self, item: &PlannedItem) -> Option<&[(u32, Amount)]> {
        item.estimate.map(|e| self.arena.amounts(e))
    }

    /// Skills short and by how much (negative), empty when above the line.
    pub fn shortage(&self, row: &TrackRow) -> &[(u32, Amount)] {
        self.arena.amounts(row.shortage)
    }

    pub fn track_name(&self, t: Option<u32>) -> &str {
        t.map_or("", |t| &self.tracks[t as usize])
    }

    /// `Apps:2, Web:1` (empty when not estimated).
    pub fn estimate_text(&self, item: &PlannedItem) -> String {
        self.amounts_text(self.estimate(item).unwrap_or(&[]))
    }

    /// `Apps:-1.5, Web:-2` (empty when none).
    pub fn amounts_text(&self, amounts: &[(u32, Amount)]) -> String {
        let mut s = String::new();
        self.push_amounts(&mut s, amounts);
        s
    }

    pub fn push_amounts(&self, s: &mut String, amounts: &[(u32, Amount)]) {
        for (i, &(k, a)) in amounts.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&self.skills[k as usize]);
            s.push(':');
            a.push_to(s);
        }
    }

    /// Writes the v1 output streams of SPEC section 5, ending with `=====end`.
    ///
    /// A work line is `track, rank, triage, name, estimate, shortage, date`
    /// as SPEC section 5 lists, then the item id as an eighth column, so that
    /// what-ifs, diffs and reports can name items; readers of v1 ignore
    /// trailing columns.
    pub fn write_stream(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = Writer::new(out);
        w.section(0, PARAMS, [&self.params_line])?;
        w.section(0, TRACKS, &self.tracks)?;
        w.section(0, SKILLS, &self.skills)?;
        w.section(0, TRIAGES, Triage::ALL.iter().map(|t| t.as_str()))?;
        let mut line = String::new();
        let mut numbers = |values: &[Amount]| -> String {
            line.clear();
            for (i, &v) in values.iter().enumerate() {
                if i > 0 {
                    line.push('\t');
                }
                v.push_to(&mut line);
            }
            line.clone()
        };
        w.section(0, MANPOWER, self.manpower.iter().map(|m| numbers(m)))?;
        w.header(0, DEMAND)?;
        for rows in &self.demand {
            w.section(1, TRIAGE_ITEM, rows.iter().map(|r| numbers(r)))?;
        }
        w.header(0, STAFF)?;
        for groups in &self.staff {
            w.header(1, TRACK_ITEM)?;
            for names in groups {
                w.section(2, SKILL_ITEM, names)?;
            }
        }
        w.header(0, WORK)?;
        // The work lists are most of the output: formatted in chunks on two
        // threads, written in order.
        for rows in &self.work {
            w.header(1, TRACK_ITEM)?;
            in_chunks(rows, w.get_mut(), |_, chunk, buf| {
                let mut line = String::new();
                for row in chunk {
                    line.clear();
                    self.push_work_line(&mut line, row);
                    buf.extend_from_slice(b"\t\t");
                    buf.extend_from_slice(line.as_bytes());
                    buf.push(b'\n');
                }
                Ok(())
            })?;
        }
        if let Some(lines) = &self.provenance {
            w.section(0, PROVENANCE, lines)?;
        }
        w.end()
    }

    /// A work line of the results stream, without its indent.
    fn push_work_line(&self, line: &mut String, row: &TrackRow) {
        let item = self.item(row);
        line.push_str(self.track_name(item.track));
        line.push('\t');
        line.push_str(itoa::Buffer::new().format(item.rank));
        line.push('\t');
        line.push_str(item.triage.as_str());
        line.push('\t');
        line.push_str(self.name(item));
        line.push('\t');
        self.push_amounts(line, self.estimate(item).unwrap_or(&[]));
        line.push('\t');
        self.push_amounts(line, self.shortage(row));
        line.push('\t');
        push_date(line, row.done);
        line.push('\t');
        line.push_str(self.id(item));
    }
}

/// Formats `rows` into `out` in chunks, two at a time on two threads, and
/// writes them in order: a large list is formatted at twice the speed, in
/// memory of two chunks rather than of the whole output. `format` gets the
/// index of the chunk's first row, the chunk and the buffer to append to.
pub fn in_chunks<T: Sync>(
    rows: &[T],
    out: &mut dyn Write,
    format: impl Fn(usize, &[T], &mut Vec<u8>) -> io::Result<()> + Sync,
) -> io::Result<()> {
    in_chunks_of(CHUNK_ROWS, rows, out, format)
}

/// [`in_chunks`] with chunks of `n` rows.
pub fn in_chunks_of<T: Sync>(
    n: usize,
    rows: &[T],
    out: &mut dyn Write,
    format: impl Fn(usize, &[T], &mut Vec<u8>) -> io::Result<()> + Sync,
) -> io::Result<()> {
    let mut first = Vec::new();
    if rows.len() <= n {
        format(0, rows, &mut first)?;
        return out.write_all(&first);
    }
    let mut second = Vec::new();
    for (k, pair) in rows.chunks(2 * n).enumerate() {
        let (a, b) = pair.split_at(pair.len().min(n));
        let at = k * 2 * n;
        first.clear();
        second.clear();
        let (one, two) = (&mut first, &mut second);
        let format = &format;
        let (ra, rb) = std::thread::scope(|scope| {
            let rb = scope.spawn(move || format(at + a.len(), b, two));
            (format(at, a, one), rb.join())
        });
        ra?;
        rb.unwrap_or_else(|e| std::panic::resume_unwind(e))?;
        out.write_all(&first)?;
        out.write_all(&second)?;
    }
    Ok(())
}

/// The date in ISO form, or `DNF`. Written by hand because chrono's
/// formatter parses its pattern on every call, and a results stream has a
/// date on every line.
pub fn push_date(line: &mut String, done: Option<NaiveDate>) {
    use chrono::Datelike;
    match done {
        Some(d) if (0..=9999).contains(&d.year()) => {
            let (y, m, d) = (d.year() as u32, d.month(), d.day());
            let digits = [
                y / 1000,
                y / 100 % 10,
                y / 10 % 10,
                y % 10,
                10,
                m / 10,
                m % 10,
                10,
                d / 10,
                d % 10,
            ];
            line.extend(digits.iter().map(|&x| {
                if x == 10 {
                    '-'
                } else {
                    char::from(b'0' + x as u8)
                }
            }));
        }
        Some(d) => {
            let _ = write!(line, "{d}");
        }
        None => line.push_str("DNF"),
    }
}
