//! The qplan results (SPEC section 5): the model every output format renders,
//! the v1 output streams, and reading a stored results stream back so it can
//! be rendered without recomputing.

use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::NaiveDate;

use super::amount::Amount;
use super::arena::{Arena, Span};
use super::fields::{self, push_num, Triage};
use super::input::{ALL, PARAMS};
use crate::error::{Error, Location, Result};
use crate::stream::{Event, Section, Writer, PROVENANCE};

use rustc_hash::FxHashMap;

pub const TRACKS: &str = "qplan tracks v1";
pub const SKILLS: &str = "qplan skills v1";
pub const TRIAGES: &str = "qplan triages v1";
pub const MANPOWER: &str = "qplan track manpower v1";
pub const DEMAND: &str = "qplan track-triage demand v1";
pub const STAFF: &str = "qplan track-skill staff v1";
pub const WORK: &str = "qplan track work v1";
const TRIAGE_ITEM: &str = "qplan triage item";
const TRACK_ITEM: &str = "qplan track item";
const SKILL_ITEM: &str = "qplan skill item";
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

    pub(super) fn push_amounts(&self, s: &mut String, amounts: &[(u32, Amount)]) {
        for (i, &(k, a)) in amounts.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&self.skills[k as usize]);
            s.push(':');
            push_num(s, a);
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
                push_num(&mut line, v);
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

    /// Reads a results stream back (the sections of a results stream as
    /// [`super::input::read`] collected them).
    pub fn from_sections(sections: Vec<Section>) -> Result<Results> {
        let find = |h: &str| sections.iter().find(|s| s.header == h);
        let need = |h: &str| {
            find(h).ok_or_else(|| {
                Error::data(
                    Location::default(),
                    format!("results stream has no '{h}' section"),
                )
            })
        };
        let params_line = match find(PARAMS) {
            Some(s) => first_text(s)?,
            None => {
                return Err(Error::data(
                    Location::default(),
                    format!("results stream has no '{PARAMS}' section"),
                ))
            }
        };
        let tracks = text_lines(need(TRACKS)?)?;
        let skills = text_lines(need(SKILLS)?)?;
        if tracks.first().map(String::as_str) != Some(ALL) {
            return Err(Error::data(
                Location::section(TRACKS),
                format!("the first track must be {ALL}"),
            ));
        }
        let track_index: FxHashMap<&str, u32> = tracks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let skill_index: FxHashMap<&str, u32> = skills
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i as u32))
            .collect();
        let count_error = |s: &Section, what: &str, n: usize, want: usize| {
            Error::data(
                Location::section(s.header.clone()).line(s.line),
                format!("{n} {what} where the tracks section lists {want}"),
            )
        };

        let manpower_section = need(MANPOWER)?;
        let manpower = manpower_section
            .text_lines()
            .map(|l| {
                let (line, text) = l?;
                numbers(MANPOWER, line, text, skills.len())
            })
            .collect::<Result<Vec<_>>>()?;
        if manpower.len() != tracks.len() {
            return Err(count_error(
                manpower_section,
                "manpower lines",
                manpower.len(),
                tracks.len(),
            ));
        }

        let demand_section = need(DEMAND)?;
        let mut demand = Vec::new();
        for item in nested(demand_section, TRIAGE_ITEM)? {
            let rows = item
                .text_lines()
                .map(|l| {
                    let (line, text) = l?;
                    numbers(DEMAND, line, text, skills.len())
                })
                .collect::<Result<Vec<_>>>()?;
            let rows: [Vec<Amount>; 5] = rows.try_into().map_err(|rows: Vec<_>| {
                Error::data(
                    Location::section(DEMAND).line(item.line),
                    format!("{} triage rows where there are 5", rows.len()),
                )
            })?;
            demand.push(rows);
        }
        if demand.len() != tracks.len() {
            return Err(count_error(
                demand_section,
                "demand items",
                demand.len(),
                tracks.len(),
            ));
        }

        let staff_section = need(STAFF)?;
        let mut staff = Vec::new();
        for track in nested(staff_section, TRACK_ITEM)? {
            let groups = nested(&track, SKILL_ITEM)?
                .iter()
                .map(text_lines)
                .collect::<Result<Vec<_>>>()?;
            if groups.len() != skills.len() {
                return Err(Error::data(
                    Location::section(STAFF).line(track.line),
                    format!(
                        "{} skill groups where the skills section lists {}",
                        groups.len(),
                        skills.len()
                    ),
                ));
            }
            staff.push(groups);
        }
        if staff.len() != tracks.len() {
            return Err(count_error(
                staff_section,
                "staff items",
                staff.len(),
                tracks.len(),
            ));
        }

        let work_section = need(WORK)?;
        let mut work: Vec<Vec<TrackRow>> = Vec::new();
        let mut items = Vec::new();
        let mut arena = Arena::default();
        let mut scratch = Vec::new();
        // The lists are read as they come (a million lines are not copied
        // into nested sections first).
        let mut reader = work_section.nested();
        loop {
            let line = reader.line_no() + 1;
            let text = match reader.next_event()? {
                None => break,
                Some(Event::End) => continue,
                Some(Event::Header(h)) => {
                    if h != TRACK_ITEM {
                        return Err(Error::data(
                            Location::section(WORK).line(line),
                            format!("nested section '{h}' where '{TRACK_ITEM}' is expected"),
                        ));
                    }
                    work.push(Vec::new());
                    continue;
                }
                Some(Event::Line(l)) => std::str::from_utf8(l).map_err(|_| Error::Stream {
                    line,
                    message: format!("section '{TRACK_ITEM}': line is not UTF-8"),
                })?,
            };
            // The nested reader refuses lines outside a section.
            let t = work.len() - 1;
            let index = items.len() as u32;
            let (item, row) = work_line(
                line,
                text,
                &track_index,
                &skill_index,
                index,
                &mut arena,
                &mut scratch,
            )?;
            // All lists everything; every other list its own work.
            if t > 0 && item.track != Some(t as u32) {
                return Err(Error::data(
                    Location::section(WORK)
                        .line(line)
                        .column("1 (track)")
                        .value(text.split('\t').next().unwrap_or("")),
                    format!(
                        "an item of another track in the list of track {}",
                        tracks
                            .get(t)
                            .map_or("(beyond the tracks section)", String::as_str)
                    ),
                ));
            }
            items.push(item);
            work[t].push(row);
        }
        if work.len() != tracks.len() {
            return Err(count_error(
                work_section,
                "work items",
                work.len(),
                tracks.len(),
            ));
        }
        let provenance = find(PROVENANCE).map(|s| s.lines.clone());
        let heads = staff
            .iter()
            .map(|groups| groups.iter().map(Vec::len).sum())
            .collect();
        Ok(Results {
            params_line,
            tracks,
            skills,
            manpower,
            demand,
            staff,
            heads,
            work,
            items,
            arena,
            provenance,
        })
    }
}

/// Formats `rows` into `out` in chunks, two at a time on two threads, and
/// writes them in order: a large list is formatted at twice the speed, in
/// memory of two chunks rather than of the whole output. `format` gets the
/// index of the chunk's first row, the chunk and the buffer to append to.
pub(super) fn in_chunks<T: Sync>(
    rows: &[T],
    out: &mut dyn Write,
    format: impl Fn(usize, &[T], &mut Vec<u8>) -> io::Result<()> + Sync,
) -> io::Result<()> {
    in_chunks_of(CHUNK_ROWS, rows, out, format)
}

/// [`in_chunks`] with chunks of `n` rows.
pub(super) fn in_chunks_of<T: Sync>(
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
pub(super) fn push_date(line: &mut String, done: Option<NaiveDate>) {
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

fn text_lines(s: &Section) -> Result<Vec<String>> {
    s.text_lines()
        .map(|l| l.map(|(_, t)| t.to_owned()))
        .collect()
}

fn first_text(s: &Section) -> Result<String> {
    text_lines(s)?.into_iter().next().ok_or_else(|| {
        Error::data(
            Location::section(s.header.clone()).line(s.line),
            "section is empty",
        )
    })
}

/// The nested sections of `s`, each of which must be `header`.
fn nested(s: &Section, header: &str) -> Result<Vec<Section>> {
    let inner = s.nested_sections()?;
    if let Some(bad) = inner.iter().find(|i| i.header != header) {
        return Err(Error::data(
            Location::section(s.header.clone()).line(bad.line),
            format!(
                "nested section '{}' where '{header}' is expected",
                bad.header
            ),
        ));
    }
    Ok(inner)
}

/// A line of totals per skill, which qplan writes as non-negative exact
/// decimals (NaN, infinities and negative totals are refused).
fn numbers(section: &str, line: u64, text: &str, want: usize) -> Result<Vec<Amount>> {
    let values: Vec<Amount> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\t')
            .enumerate()
            .map(|(i, v)| {
                let at = || {
                    Location::section(section)
                        .line(line)
                        .column((i + 1).to_string())
                        .value(v)
                };
                let a = Amount::parse_signed(v).map_err(|m| Error::data(at(), m))?;
                if a.is_negative() {
                    return Err(Error::data(at(), "a total is never negative"));
                }
                Ok(a)
            })
            .collect::<Result<_>>()?
    };
    if values.len() != want {
        return Err(Error::data(
            Location::section(section).line(line),
            format!(
                "{} values where the skills section lists {want}",
                values.len()
            ),
        ));
    }
    Ok(values)
}

fn work_line(
    line: u64,
    text: &str,
    tracks: &FxHashMap<&str, u32>,
    skills: &FxHashMap<&str, u32>,
    index: u32,
    arena: &mut Arena,
    scratch: &mut Vec<(u32, Amount)>,
) -> Result<(PlannedItem, TrackRow)> {
    // The first eight fields (more are ignored) and how many there are.
    let mut f = [""; 8];
    let mut n = 0;
    for field in fields::split_ascii(text, b'\t') {
        if let Some(slot) = f.get_mut(n) {
            *slot = field;
        }
        n += 1;
    }
    let at = |col: usize, name: &str| {
        Location::section(WORK)
            .line(line)
            .column(format!("{col} ({name})"))
            .value(f[col - 1])
    };
    if n < 7 {
        return Err(Error::data(
            Location::section(WORK).line(line),
            format!("{n} columns where 7 are expected (track, rank, triage, name, estimate, shortage, date)"),
        ));
    }
    let track =
        match f[0] {
            "" => None,
            ALL => {
                return Err(Error::data(
                    at(1, "track"),
                    format!("an item's own track is never {ALL}"),
                ))
            }
            t => Some(*tracks.get(t).ok_or_else(|| {
                Error::data(at(1, "track"), "track is not in the tracks section")
            })?),
        };
    let rank = fields::parse_rank(f[1]).map_err(|m| Error::data(at(2, "rank"), m))?;
    let triage = fields::parse_triage(f[2]).map_err(|m| Error::data(at(3, "triage"), m))?;
    // `Skill:Amount, …` (amounts may be negative: shortages) into
    // `scratch`; false when empty.
    let amounts = |col: usize, name: &str, scratch: &mut Vec<(u32, Amount)>| -> Result<bool> {
        scratch.clear();
        let s = f[col - 1];
        if s.trim().is_empty() {
            return Ok(false);
        }
        for part in fields::split_ascii(s, b',') {
            let (k, v) = fields::split_once_ascii(part.trim(), b':').ok_or_else(|| {
                Error::data(at(col, name), format!("{part:?} is not Skill:Amount"))
            })?;
            let v = Amount::parse_signed(v).map_err(|m| Error::data(at(col, name), m))?;
            let k = k.trim();
            let k = skills.get(k).ok_or_else(|| {
                Error::data(
                    at(col, name),
                    format!("skill {k} is not in the skills section"),
                )
            })?;
            scratch.push((*k, v));
        }
        Ok(true)
    };
    // qplan writes estimates of at least zero, and a shortage only where
    // it is below zero.
    let estimated = amounts(5, "estimate", scratch)?;
    if scratch.iter().any(|(_, a)| a.is_negative()) {
        return Err(Error::data(
            at(5, "estimate"),
            "an estimate is never negative",
        ));
    }
    let estimate = estimated.then(|| arena.push_amounts(scratch.iter().copied()));
    amounts(6, "shortage", scratch)?;
    if scratch.iter().any(|(_, a)| !a.is_negative()) {
        return Err(Error::data(
            at(6, "shortage"),
            "a shortage is below zero; qplan writes none where there is none",
        ));
    }
    let shortage = arena.push_amounts(scratch.iter().copied());
    let done = match f[6] {
        "DNF" => None,
        d => Some(fields::parse_date(d).map_err(|m| Error::data(at(7, "date"), m))?),
    };
    let item = PlannedItem {
        id: arena.push_str(f[7]),
        rank,
        name: arena.push_str(f[3]),
        triage,
        estimate,
        track,
    };
    Ok((
        item,
        TrackRow {
            item: index,
            shortage,
            done,
        },
    ))
}
