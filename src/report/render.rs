//! Human and tool formats of the results: a text report, one JSON document,
//! and the work list as CSV. Each renders a [`Results`], whether computed
//! now or read back from a stored results stream.

use std::io::{self, Write};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::cli::visible::{csv_cell, visible};
use crate::model::{Amount, Triage};
use crate::plan::results::{in_chunks, in_chunks_of, push_date, Results, TrackRow};
use crate::rules::fields::{fmt_num, push_num};

/// What part of the results to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    /// Only this track (index into [`Results::tracks`]).
    pub track: Option<usize>,
    /// Only work at this triage level or more important, and demand at
    /// this level.
    pub triage: Option<Triage>,
}

impl View {
    pub(super) fn tracks(&self, r: &Results) -> Vec<usize> {
        match self.track {
            Some(t) => vec![t],
            None => (0..r.tracks.len()).collect(),
        }
    }

    pub(super) fn shows(&self, r: &Results, row: &TrackRow) -> bool {
        self.triage.is_none_or(|t| r.item(row).triage <= t)
    }

    pub(super) fn levels(&self) -> &'static [Triage] {
        let last = self.triage.map_or(4, Triage::index);
        &Triage::ALL[..=last]
    }
}

/// The params line as (start, end, scheduling skills).
pub(super) fn params(r: &Results) -> (&str, &str, Vec<&str>) {
    let mut f = r.params_line.split('\t');
    let start = f.next().unwrap_or("");
    let end = f.next().unwrap_or("");
    let sched = f
        .next()
        .unwrap_or("")
        .split(':')
        .filter(|s| !s.is_empty())
        .collect();
    (start, end, sched)
}

/// A table with right-aligned numbers and left-aligned text.
struct Table {
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    fn write(&self, out: &mut dyn Write, indent: &str) -> io::Result<()> {
        let cols = self.right.len();
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::from(indent);
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c > 0 {
                    line.push_str("  ");
                }
                if self.right[c] {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if c + 1 < cols {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// The width of a cell in characters (ASCII text, the usual case, is
/// counted by its length).
fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn push_spaces(line: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        line.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// Lays out one line of a table: cells padded to `widths`, right-aligned
/// where `right` says, two spaces apart, without trailing blanks.
fn lay_out<'a>(
    line: &mut String,
    indent: &str,
    cells: impl Iterator<Item = &'a str>,
    widths: &[usize],
    right: &[bool],
) {
    line.clear();
    line.push_str(indent);
    let cols = widths.len();
    for (c, cell) in cells.enumerate() {
        let pad = widths[c] - width(cell);
        if c > 0 {
            line.push_str("  ");
        }
        if right[c] {
            push_spaces(line, pad);
            line.push_str(cell);
        } else {
            line.push_str(cell);
            if c + 1 < cols {
                push_spaces(line, pad);
            }
        }
    }
    line.truncate(line.trim_end().len());
    line.push('\n');
}

const WORK_HEADER: [&str; 8] = [
    "rank", "triage", "id", "name", "track", "estimate", "short", "done",
];
const WORK_RIGHT: [bool; 8] = [true, true, false, false, false, false, false, false];

/// How a cell's text is written: as it is (CSV), or for a terminal, its
/// control characters shown as escapes ([`visible`]).
#[derive(Clone, Copy, PartialEq)]
enum Cells {
    Exact,
    Text,
}

impl Cells {
    fn push(self, buf: &mut String, s: &str) {
        match self {
            Cells::Exact => buf.push_str(s),
            Cells::Text => buf.push_str(&visible(s)),
        }
    }

    /// `Apps:2, Web:1`, the skill names written as [`Cells::push`] does.
    fn push_amounts(self, buf: &mut String, r: &Results, amounts: &[(u32, Amount)]) {
        if self == Cells::Exact {
            return r.push_amounts(buf, amounts);
        }
        for (i, &(k, a)) in amounts.iter().enumerate() {
            if i > 0 {
                buf.push_str(", ");
            }
            self.push(buf, &r.skills[k as usize]);
            buf.push(':');
            push_num(buf, a);
        }
    }
}

/// The cells of a row of the work table, one after the other in `buf`;
/// cell `c` ends at `ends[c]`. The name is clipped for the text report.
fn work_cells(r: &Results, row: &TrackRow, how: Cells, buf: &mut String, ends: &mut [usize; 8]) {
    buf.clear();
    let item = r.item(row);
    buf.push_str(itoa::Buffer::new().format(item.rank));
    ends[0] = buf.len();
    buf.push_str(item.triage.as_str());
    ends[1] = buf.len();
    how.push(buf, r.id(item));
    ends[2] = buf.len();
    match how {
        Cells::Text => push_clipped(buf, &visible(r.name(item)), NAME_WIDTH),
        Cells::Exact => buf.push_str(r.name(item)),
    }
    ends[3] = buf.len();
    how.push(buf, r.track_name(item.track));
    ends[4] = buf.len();
    how.push_amounts(buf, r, r.estimate(item).unwrap_or(&[]));
    ends[5] = buf.len();
    how.push_amounts(buf, r, r.shortage(row));
    ends[6] = buf.len();
    push_date(buf, row.done);
    ends[7] = buf.len();
}

fn cells<'a>(buf: &'a str, ends: &'a [usize; 8]) -> impl Iterator<Item = &'a str> + 'a {
    (0..8).map(move |c| &buf[if c == 0 { 0 } else { ends[c - 1] }..ends[c]])
}

/// The cells of a block of rows of the work table: their text one after
/// the other, where each ends (eight a row), and the widest of each column.
struct Block {
    text: String,
    ends: Vec<u32>,
    widths: [usize; 8],
}

/// How many rows a [`Block`] holds.
const BLOCK_ROWS: usize = 16_384;

impl Block {
    fn new(r: &Results, rows: &[&TrackRow]) -> Block {
        let mut b = Block {
            text: String::with_capacity(rows.len() * 96),
            ends: Vec::with_capacity(rows.len() * 8),
            widths: [0; 8],
        };
        let (mut buf, mut ends) = (String::new(), [0; 8]);
        for row in rows {
            work_cells(r, row, Cells::Text, &mut buf, &mut ends);
            for (w, cell) in b.widths.iter_mut().zip(cells(&buf, &ends)) {
                *w = (*w).max(width(cell));
            }
            let base = b.text.len();
            b.text.push_str(&buf);
            // A block's text is far below 4 GiB.
            b.ends.extend(ends.iter().map(|&e| (base + e) as u32));
        }
        b
    }

    fn rows(&self) -> usize {
        self.ends.len() / 8
    }

    /// The cells of row `k`.
    fn cells(&self, k: usize) -> impl Iterator<Item = &str> + '_ {
        (0..8).map(move |c| {
            let i = 8 * k + c;
            let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
            &self.text[start..self.ends[i] as usize]
        })
    }
}

/// The ranked work list of a track as an aligned table. The cells are
/// formatted once, in blocks on two threads, measuring the columns; then
/// the lines are laid out, block by block on two threads. Memory holds the
/// cells of one track's table at a time.
fn work_table(r: &Results, rows: &[&TrackRow], out: &mut dyn Write) -> io::Result<()> {
    let chunks: Vec<&[&TrackRow]> = rows.chunks(BLOCK_ROWS).collect();
    let (a, b) = chunks.split_at(chunks.len().div_ceil(2));
    let make = |chunks: &[&[&TrackRow]]| -> Vec<Block> {
        chunks.iter().map(|rows| Block::new(r, rows)).collect()
    };
    let mut blocks = if b.is_empty() {
        make(a)
    } else {
        let (mut first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| make(b));
            (
                make(a),
                second
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        });
        first.extend(second);
        first
    };
    let mut widths = WORK_HEADER.map(width);
    for block in &blocks {
        for (w, b) in widths.iter_mut().zip(block.widths) {
            *w = (*w).max(b);
        }
    }
    let mut line = String::new();
    lay_out(
        &mut line,
        "  ",
        WORK_HEADER.into_iter(),
        &widths,
        &WORK_RIGHT,
    );
    out.write_all(line.as_bytes())?;
    in_chunks_of(1, &blocks, out, |_, blocks, out| {
        let mut line = String::new();
        for block in blocks {
            for k in 0..block.rows() {
                lay_out(&mut line, "  ", block.cells(k), &widths, &WORK_RIGHT);
                out.extend_from_slice(line.as_bytes());
            }
        }
        Ok(())
    })?;
    blocks.clear();
    Ok(())
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

const NAME_WIDTH: usize = 40;

/// `s`, or its first `width - 1` characters and `…` when it is wider.
fn push_clipped(buf: &mut String, s: &str, width: usize) {
    if self::width(s) <= width {
        buf.push_str(s);
    } else {
        buf.extend(s.chars().take(width - 1));
        buf.push('…');
    }
}

/// The text report: per track, supply against cumulative demand by triage,
/// then the ranked work list with shortages and dates.
pub fn text(r: &Results, view: View, out: &mut dyn Write) -> io::Result<()> {
    let (start, end, sched) = params(r);
    writeln!(
        out,
        "Plan {} to {}, scheduled on {}",
        visible(start),
        visible(end),
        if sched.is_empty() {
            "no skills".to_owned()
        } else {
            visible(&sched.join(", ")).into_owned()
        }
    )?;
    for t in view.tracks(r) {
        let people = r.heads[t];
        let rows: Vec<&TrackRow> = r.work[t].iter().filter(|row| view.shows(r, row)).collect();
        let short = rows.iter().filter(|row| !row.shortage.is_empty()).count();
        let dnf = rows.iter().filter(|row| row.done.is_none()).count();
        writeln!(out)?;
        writeln!(
            out,
            "== {} == {}, {}, {} short, {} DNF",
            visible(&r.tracks[t]),
            count(people, "person", "people"),
            count(rows.len(), "item", "items"),
            short,
            dnf
        )?;
        writeln!(out)?;

        let mut header = vec!["person-weeks".to_owned()];
        header.extend(r.skills.iter().map(|s| visible(s).into_owned()));
        let mut table = Table {
            rows: vec![header],
            right: std::iter::once(false)
                .chain(r.skills.iter().map(|_| true))
                .collect(),
        };
        let numbers = |label: String, values: &mut dyn Iterator<Item = Amount>| {
            std::iter::once(label)
                .chain(values.map(fmt_num))
                .collect::<Vec<_>>()
        };
        table
            .rows
            .push(numbers("supply".into(), &mut r.manpower[t].iter().copied()));
        for &level in view.levels() {
            table.rows.push(numbers(
                format!("demand ≤{level}"),
                &mut r.demand[t][level.index()].iter().copied(),
            ));
        }
        let last = view.levels().last().map_or(4, |l| l.index());
        table.rows.push(numbers(
            format!("balance ≤{}", Triage::ALL[last]),
            &mut r.manpower[t]
                .iter()
                .zip(&r.demand[t][last])
                // Both at least zero: the difference fits.
                .map(|(s, d)| Amount::from_units(s.units() - d.units())),
        ));
        table.write(out, "  ")?;
        writeln!(out)?;

        if rows.is_empty() {
            writeln!(out, "  no work")?;
            continue;
        }
        work_table(r, &rows, out)?;
    }
    if let Some(lines) = &r.provenance {
        writeln!(out)?;
        writeln!(out, "Provenance:")?;
        let lines: Vec<String> = lines
            .iter()
            .map(|l| visible(&String::from_utf8_lossy(l)).into_owned())
            .collect();
        let split = |l: &str| -> (String, String) {
            match l.split_once('\t') {
                Some((r, c)) => (r.to_owned(), c.to_owned()),
                None => (l.to_owned(), String::new()),
            }
        };
        let width = lines
            .iter()
            .map(|l| split(l).0.chars().count())
            .max()
            .unwrap_or(0);
        for l in &lines {
            let (resource, commit) = split(l);
            writeln!(out, "  {resource:<width$}  {commit}")?;
        }
    }
    Ok(())
}

/// Amounts per skill as a JSON object.
#[cfg(test)]
struct Amounts<'a>(&'a [String], &'a [(u32, Amount)]);

#[cfg(test)]
impl Serialize for Amounts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.1.len()))?;
        for &(k, v) in self.1 {
            m.serialize_entry(&self.0[k as usize], &v)?;
        }
        m.end()
    }
}

/// Values in skill order as a JSON object keyed by skill.
struct PerSkill<'a>(&'a [String], &'a [Amount]);

impl Serialize for PerSkill<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter().zip(self.1) {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Cumulative demand per triage level (those shown) as a JSON object keyed
/// by level, each a [`PerSkill`].
struct Demand<'a>(&'a [Triage], &'a [String], &'a [Vec<Amount>; 5]);

impl Serialize for Demand<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for l in self.0 {
            m.serialize_entry(l.as_str(), &PerSkill(self.1, &self.2[l.index()]))?;
        }
        m.end()
    }
}

#[cfg(test)]
#[derive(Serialize)]
struct JsonWork<'a> {
    id: &'a str,
    rank: i64,
    name: &'a str,
    track: &'a str,
    triage: &'static str,
    estimated: bool,
    estimate: Amounts<'a>,
    shortage: Amounts<'a>,
    /// ISO date, or null when the item does not finish.
    done: Option<String>,
    dnf: bool,
}

#[derive(Serialize)]
struct JsonProvenance {
    resource: String,
    commit: String,
}

/// Appends `value` as pretty JSON nested `level` deep: serde_json's pretty
/// form, each line after the first indented by two spaces a level (a JSON
/// text has no newline but between its tokens, so this is exact).
fn pretty_at(buf: &mut Vec<u8>, scratch: &mut Vec<u8>, level: usize, value: &impl Serialize) {
    scratch.clear();
    // Writing to memory cannot fail, nor can serializing these types.
    let _ = serde_json::to_writer_pretty(&mut *scratch, value);
    for (i, line) in scratch.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            buf.push(b'\n');
            buf.extend(std::iter::repeat_n(b' ', 2 * level));
        }
        buf.extend_from_slice(line);
    }
}

/// `"key": value` at `level`, then a comma unless it is the last.
fn json_field(
    buf: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    level: usize,
    key: &str,
    value: &impl Serialize,
    last: bool,
) {
    buf.extend(std::iter::repeat_n(b' ', 2 * level));
    buf.push(b'"');
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\": ");
    pretty_at(buf, scratch, level, value);
    buf.extend_from_slice(if last { b"\n" } else { b",\n" });
}

/// One JSON document with everything, for web pages and jq: the layout
/// serde_json's pretty printer gives the whole document, written part by
/// part so that the work lists are formatted in chunks on two threads
/// instead of held whole.
pub fn json(r: &Results, view: View, out: &mut dyn Write) -> io::Result<()> {
    let (start, end, scheduling_skills) = params(r);
    let (mut buf, mut scratch) = (Vec::new(), Vec::new());
    buf.extend_from_slice(b"{\n");
    json_field(&mut buf, &mut scratch, 1, "start", &start, false);
    json_field(&mut buf, &mut scratch, 1, "end", &end, false);
    json_field(
        &mut buf,
        &mut scratch,
        1,
        "scheduling_skills",
        &scheduling_skills,
        false,
    );
    json_field(&mut buf, &mut scratch, 1, "skills", &r.skills, false);
    let triages: Vec<&str> = Triage::ALL.iter().map(|t| t.as_str()).collect();
    json_field(&mut buf, &mut scratch, 1, "triages", &triages, false);
    buf.extend_from_slice(b"  \"tracks\": [\n");
    let tracks = view.tracks(r);
    for (k, &t) in tracks.iter().enumerate() {
        buf.extend_from_slice(b"    {\n");
        json_field(&mut buf, &mut scratch, 3, "name", &r.tracks[t], false);
        let manpower = PerSkill(&r.skills, &r.manpower[t]);
        json_field(&mut buf, &mut scratch, 3, "manpower", &manpower, false);
        let demand = Demand(view.levels(), &r.skills, &r.demand[t]);
        json_field(&mut buf, &mut scratch, 3, "demand", &demand, false);
        let staff: std::collections::BTreeMap<&str, &[String]> = r
            .skills
            .iter()
            .zip(&r.staff[t])
            .map(|(s, names)| (s.as_str(), names.as_slice()))
            .collect();
        json_field(&mut buf, &mut scratch, 3, "staff", &staff, false);
        buf.extend_from_slice(b"      \"work\": ");
        let rows: Vec<&TrackRow> = r.work[t].iter().filter(|row| view.shows(r, row)).collect();
        if rows.is_empty() {
            buf.extend_from_slice(b"[]\n");
        } else {
            buf.extend_from_slice(b"[\n");
            out.write_all(&buf)?;
            buf.clear();
            in_chunks(&rows, out, |at, chunk, buf| {
                let mut scratch = String::new();
                for (i, row) in chunk.iter().enumerate() {
                    if at + i > 0 {
                        buf.extend_from_slice(b",\n");
                    }
                    buf.extend_from_slice(b"        ");
                    push_json_work(buf, &mut scratch, r, row);
                }
                Ok(())
            })?;
            buf.extend_from_slice(b"\n      ]\n");
        }
        buf.extend_from_slice(if k + 1 < tracks.len() {
            b"    },\n"
        } else {
            b"    }\n"
        });
    }
    buf.extend_from_slice(b"  ],\n");
    let provenance: Vec<JsonProvenance> = r
        .provenance
        .iter()
        .flatten()
        .map(|l| {
            let l = String::from_utf8_lossy(l);
            let (resource, commit) = l.split_once('\t').unwrap_or((&l, ""));
            JsonProvenance {
                resource: resource.to_owned(),
                commit: commit.to_owned(),
            }
        })
        .collect();
    json_field(&mut buf, &mut scratch, 1, "provenance", &provenance, true);
    buf.extend_from_slice(b"}\n");
    out.write_all(&buf)
}

/// A JSON string as serde_json writes it: `"`, `\\` and control
/// characters escaped, everything else as is.
fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        // Writing to memory cannot fail.
        let _ = serde_json::to_writer(&mut *buf, s);
    }
}

/// Amounts per skill as a pretty JSON object whose members are `level`
/// deep (`{}` when there are none).
fn push_json_amounts(buf: &mut Vec<u8>, r: &Results, amounts: &[(u32, Amount)], level: usize) {
    if amounts.is_empty() {
        buf.extend_from_slice(b"{}");
        return;
    }
    buf.extend_from_slice(b"{\n");
    for (i, &(k, a)) in amounts.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b",\n");
        }
        buf.extend(std::iter::repeat_n(b' ', 2 * level));
        push_json_str(buf, &r.skills[k as usize]);
        buf.extend_from_slice(b": ");
        let _ = serde_json::to_writer(&mut *buf, &a);
    }
    buf.push(b'\n');
    buf.extend(std::iter::repeat_n(b' ', 2 * (level - 1)));
    buf.push(b'}');
}

/// A work item of the JSON document, four levels deep, exactly as
/// serde_json's pretty printer writes a [`JsonWork`] there (the test
/// `json_work_by_hand_is_serde_json_pretty` holds them together), without
/// its generic machinery: the work lists are most of the document.
fn push_json_work(buf: &mut Vec<u8>, scratch: &mut String, r: &Results, row: &TrackRow) {
    // A member's start: the comma ending the one before, its indentation
    // and its name.
    fn key(buf: &mut Vec<u8>, name: &[u8]) {
        if buf.last() != Some(&b'\n') {
            buf.extend_from_slice(b",\n");
        }
        buf.extend_from_slice(b"          \"");
        buf.extend_from_slice(name);
        buf.extend_from_slice(b"\": ");
    }
    let item = r.item(row);
    buf.extend_from_slice(b"{\n");
    key(buf, b"id");
    push_json_str(buf, r.id(item));
    key(buf, b"rank");
    buf.extend_from_slice(itoa::Buffer::new().format(item.rank).as_bytes());
    key(buf, b"name");
    push_json_str(buf, r.name(item));
    key(buf, b"track");
    push_json_str(buf, r.track_name(item.track));
    key(buf, b"triage");
    push_json_str(buf, item.triage.as_str());
    key(buf, b"estimated");
    buf.extend_from_slice(bool_text(item.estimate.is_some()));
    key(buf, b"estimate");
    push_json_amounts(buf, r, r.estimate(item).unwrap_or(&[]), 6);
    key(buf, b"shortage");
    push_json_amounts(buf, r, r.shortage(row), 6);
    key(buf, b"done");
    match row.done {
        Some(_) => {
            scratch.clear();
            push_date(scratch, row.done);
            push_json_str(buf, scratch);
        }
        None => buf.extend_from_slice(b"null"),
    }
    key(buf, b"dnf");
    buf.extend_from_slice(bool_text(row.done.is_none()));
    buf.extend_from_slice(b"\n        }");
}

fn bool_text(b: bool) -> &'static [u8] {
    if b {
        b"true"
    } else {
        b"false"
    }
}

#[cfg(test)]
fn json_work<'a>(r: &'a Results, row: &'a TrackRow) -> JsonWork<'a> {
    let item = r.item(row);
    JsonWork {
        id: r.id(item),
        rank: item.rank,
        name: r.name(item),
        track: r.track_name(item.track),
        triage: item.triage.as_str(),
        estimated: item.estimate.is_some(),
        estimate: Amounts(&r.skills, r.estimate(item).unwrap_or(&[])),
        shortage: Amounts(&r.skills, r.shortage(row)),
        done: row.done.map(|d| d.to_string()),
        dnf: row.done.is_none(),
    }
}

/// The work lists as CSV, one row per item per list (`list` is `All` or the
/// track whose schedule gave the date). A cell a spreadsheet would run as
/// a formula (`=…`, `+…`, `@…`, `-…` not a number, a leading TAB or CR) is
/// written with a `'` before it ([`csv_cell`]).
pub fn csv(r: &Results, view: View, out: &mut dyn Write) -> io::Result<()> {
    csv_as(r, view, false, out)
}

/// [`csv`]; with `raw`, every cell exactly as the data has it, formulas
/// too (`--csv-raw`, for programs that read the CSV, not spreadsheets).
pub fn csv_as(r: &Results, view: View, raw: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(&mut *out);
    let to_io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    };
    w.write_record([
        "list", "track", "rank", "triage", "id", "name", "estimate", "shortage", "done",
    ])
    .map_err(to_io)?;
    w.flush()?;
    drop(w);
    // The rows in chunks on two threads, each chunk a CSV writer of its own.
    for t in view.tracks(r) {
        in_chunks(&r.work[t], out, |_, chunk, buf| {
            let mut w = csv::Writer::from_writer(buf);
            let (mut cells, mut ends) = (String::new(), [0; 8]);
            for row in chunk.iter().filter(|row| view.shows(r, row)) {
                work_cells(r, row, Cells::Exact, &mut cells, &mut ends);
                let cell = |c: usize| &cells[if c == 0 { 0 } else { ends[c - 1] }..ends[c]];
                let item = r.item(row);
                w.write_record(
                    [
                        r.tracks[t].as_str(),
                        cell(4),
                        cell(0),
                        cell(1),
                        cell(2),
                        r.name(item),
                        cell(5),
                        cell(6),
                        cell(7),
                    ]
                    .map(|c| csv_cell(c, raw))
                    .iter()
                    .map(|c| c.as_bytes()),
                )
                .map_err(to_io)?;
            }
            w.flush()
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::Reader;
    use crate::{plan::compute, rules::Loaded};

    fn results(stream: &str) -> Results {
        let loaded =
            crate::rules::read(&mut Reader::new(stream.as_bytes()), &mut crate::rules::Stop);
        match loaded {
            Ok(Some(Loaded::Input(input))) => compute(*input).unwrap(),
            _ => panic!("not a plan"),
        }
    }

    #[test]
    fn json_work_by_hand_is_serde_json_pretty() {
        // Quotes, a backslash, non-ASCII text, a shortage, a DNF, an
        // amount too precise for an f64 (written as its decimal text) and
        // an item without estimate.
        let r = results(
            "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n\
             =====qplan staff v1\n\ta\tAlice\tM\tT\"1\tApps\t\n\
             =====qplan work v1\n\
             \tW\"1\t1\tSay \"hi\" \\ café…\tApps:1.5,Web:0.25\t1\tT\"1\n\
             \tW2\t2\tBig\tApps:1234567.123456789\t2\tT\"1\n\
             \tW3\t3\tNone\t\t\t\n=====end\n",
        );
        let (mut by_hand, mut serde, mut scratch) = (Vec::new(), Vec::new(), String::new());
        let mut rows = 0;
        for list in &r.work {
            for row in list {
                by_hand.clear();
                serde.clear();
                push_json_work(&mut by_hand, &mut scratch, &r, row);
                pretty_at(&mut serde, &mut Vec::new(), 4, &json_work(&r, row));
                assert_eq!(
                    String::from_utf8_lossy(&by_hand),
                    String::from_utf8_lossy(&serde)
                );
                rows += 1;
            }
        }
        assert_eq!(rows, 3 + 2);
        let doc = {
            let mut out = Vec::new();
            json(&r, View::default(), &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["tracks"][0]["work"][0]["name"], "Say \"hi\" \\ café…");
        assert_eq!(v["tracks"][0]["work"][1]["done"], serde_json::Value::Null);
        assert!(doc.contains("\"Apps\": 1234567.123456789"));
    }

    #[test]
    fn text_table_lines_are_padded_to_the_widest_cell() {
        let r = results(
            "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n\
             =====qplan staff v1\n\ta\tAlice\tM\tT\tApps\t\n\
             =====qplan work v1\n\
             \tW1\t1\tÉtude\tApps:1\t1\tT\n\
             \tLONG-ID\t10\tA name longer than forty characters, clipped\tApps:0.5\t3\tT\n=====end\n",
        );
        let mut out = Vec::new();
        text(
            &r,
            View {
                track: Some(1),
                triage: None,
            },
            &mut out,
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        let table: Vec<&str> = out.lines().skip_while(|l| !l.contains("rank")).collect();
        // Widths: rank 4 (header), triage 6, id 7, name 40 (clipped),
        // track 5, estimate 8, short 5 (header), done last.
        let line = |c: [&str; 8]| {
            format!(
                "  {:>4}  {:>6}  {:<7}  {:<40}  {:<5}  {:<8}  {:<5}  {}",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
            )
        };
        assert_eq!(
            table,
            [
                line(["rank", "triage", "id", "name", "track", "estimate", "short", "done"]),
                // 5 days of Alice: Friday.
                line(["1", "1", "W1", "Étude", "T", "Apps:1", "", "2013-10-11"]),
                // 2.5 days from the next Monday: Wednesday.
                line([
                    "10",
                    "3",
                    "LONG-ID",
                    "A name longer than forty characters, cl…",
                    "T",
                    "Apps:0.5",
                    "",
                    "2013-10-16"
                ]),
            ]
        );
    }
}
