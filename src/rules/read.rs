//! The rules of the stream: which sections, how many columns, blank lines,
//! the end marker. One reader for qplan and `qcondition --check`; the
//! [`Sink`] decides whether a problem ends the read.
//!
//! A stream that holds results instead (`qplan track work v1`) is collected
//! whole for the report to read, so qplan can render stored
//! results without recomputing.

use std::collections::HashSet;

use super::book::{HOLIDAYS_COLUMNS, PARAMS_COLUMNS, STAFF_COLUMNS, WORK_COLUMNS};
use super::{Book, Sink, HOLIDAYS, PARAMS, STAFF, WORK};
use crate::error::{Error, Location, Result};
use crate::model::Input;
use crate::stream::{Event, LineSource, Reader, Section, PROVENANCE};

/// What a qplan input stream turned out to hold.
pub enum Loaded {
    /// Conditioned inputs, to compute from.
    Input(Box<Input>),
    /// An already computed results stream, to render.
    Results(Vec<Section>),
}

/// Reads a qplan input stream (conditioned inputs or a results stream),
/// stopping at the first problem.
pub fn read_plan<S: LineSource>(reader: &mut Reader<S>) -> Result<Loaded> {
    // The Stop sink ends the read at the first problem, so a read that
    // went through holds a plan.
    read(reader, &mut super::Stop)?
        .ok_or_else(|| Error::data(Location::section(PARAMS), "the input holds no plan"))
}

/// [`read_plan`], keeping the warnings of the rule book (legal but suspicious
/// data: a blank estimate or triage, a holiday or vacation with no day in
/// the plan, a person on a track with no work…) to be printed on stderr.
/// With `strict`, the first warning ends the read as an error (exit 65).
/// The first [`super::Warn::KEEP`] warnings are kept; the count of the
/// others comes with them.
pub fn read_plan_warned<S: LineSource>(
    reader: &mut Reader<S>,
    strict: bool,
) -> Result<(Loaded, Vec<Error>, usize)> {
    let mut sink = super::Warn::new(strict);
    let loaded = read(reader, &mut sink)?
        .ok_or_else(|| Error::data(Location::section(PARAMS), "the input holds no plan"))?;
    // In the order of the lines they are about (those found over all rows
    // come last in reading order).
    let mut warnings = std::mem::take(&mut sink.warnings);
    warnings.sort_by_key(|w| match w {
        Error::Data { at, .. } => at.line.unwrap_or(u64::MAX),
        _ => u64::MAX,
    });
    Ok((loaded, warnings, sink.more))
}

/// Headers of a results stream (SPEC section 5) other than params.
pub const RESULT_SECTIONS: [&str; 7] = [
    "qplan tracks v1",
    "qplan skills v1",
    "qplan triages v1",
    "qplan track manpower v1",
    "qplan track-triage demand v1",
    "qplan track-skill staff v1",
    "qplan track work v1",
];

#[derive(Clone, Copy, PartialEq)]
enum Current {
    Params,
    Holidays,
    Staff,
    Work,
    /// Kept whole: provenance and results sections.
    Keep,
    /// Sections qplan does not read (`qpull sources v1`, …).
    Skip,
}

/// Where column `c` of a content line is (`c` = 0: the line itself).
fn locate(section: &'static str, names: &'static [&'static str], line: u64, c: usize) -> Location {
    let at = Location::section(section).line(line);
    match c {
        0 => at,
        c => at.column(format!("{c} ({})", names[c - 1])),
    }
}

/// The `N` TAB-separated fields of a content line, of which at least `min`
/// must be there (the others read as empty); extra columns are ignored.
/// `None` when there are fewer (the problem told to the sink).
fn split<'a, const N: usize, K: Sink>(
    k: &mut K,
    section: &'static str,
    line: u64,
    text: &'a str,
    names: &[&str; N],
    min: usize,
) -> Result<Option<[&'a str; N]>> {
    let (fields, n) = super::fields::tab_fields::<N>(text);
    if n < min {
        k.problem(
            Location::section(section).line(line),
            format!(
                "{} column{} where {} {} expected ({})",
                n,
                if n == 1 { "" } else { "s" },
                min,
                if min == 1 { "is" } else { "are" },
                names[..min].join(", ")
            ),
        )?;
        return Ok(None);
    }
    Ok(Some(fields))
}

/// One content line of an input section, to the book.
fn line<K: Sink>(b: &mut Book, k: &mut K, current: Current, line: u64, text: &str) -> Result<()> {
    // Editors strip the lone TAB of empty lines; blank lines carry no data.
    if super::fields::trim(text).is_empty() {
        return Ok(());
    }
    match current {
        Current::Params => {
            match split(k, PARAMS, line, text, &PARAMS_COLUMNS, 2)? {
                Some(f) => b.params(k, text, f, |c| locate(PARAMS, &PARAMS_COLUMNS, line, c))?,
                // A line that was there, refused for its columns: the
                // section is not without a line (issue 20).
                None => b.params_row_refused(),
            }
        }
        Current::Holidays => {
            if let Some(f) = split(k, HOLIDAYS, line, text, &HOLIDAYS_COLUMNS, 1)? {
                b.holiday(k, f[0], |c| locate(HOLIDAYS, &HOLIDAYS_COLUMNS, line, c))?;
            }
        }
        Current::Staff => {
            if let Some(f) = split(k, STAFF, line, text, &STAFF_COLUMNS, 5)? {
                b.staff(k, f, line, |c| locate(STAFF, &STAFF_COLUMNS, line, c))?;
            }
        }
        Current::Work => {
            if let Some(f) = split(k, WORK, line, text, &WORK_COLUMNS, 5)? {
                b.work(k, f, line, |c| locate(WORK, &WORK_COLUMNS, line, c))?;
            }
        }
        Current::Keep | Current::Skip => {}
    }
    Ok(())
}

/// Reads a qplan input stream: conditioned inputs or a results stream.
/// Every problem goes to `k`; `Ok(None)` when the problems told leave no
/// plan to compute from. A stream that is not a stacked stream at all (SPEC
/// section 2) and I/O errors are `Err` whatever the sink.
pub fn read<S: LineSource, K: Sink>(reader: &mut Reader<S>, k: &mut K) -> Result<Option<Loaded>> {
    let mut b = Book::new();
    let mut seen: HashSet<&'static str> = HashSet::new();
    let mut kept: Vec<Section> = Vec::new();
    let mut current = Current::Skip;
    let mut current_name: &'static str = "";
    let mut header = String::new();
    let mut last_was_end = false;
    let mut params_header = 0;
    // The first section qplan does not read, with its line: when nothing
    // else is there, the stream is raw data and the error says so.
    let mut other: Option<(String, u64)> = None;
    loop {
        let n = reader.line_no() + 1;
        let Some(event) = reader.next_event()? else {
            break;
        };
        last_was_end = event == Event::End;
        match event {
            Event::Header(h) => {
                let known = [PARAMS, HOLIDAYS, STAFF, WORK]
                    .into_iter()
                    .chain(RESULT_SECTIONS)
                    .chain([PROVENANCE])
                    .find(|k| *k == h);
                header.clear();
                header.push_str(h);
                current = match known {
                    Some(s) => {
                        current_name = s;
                        // Provenance may come once per concatenated stream;
                        // its lines are gathered into one section.
                        if !seen.insert(s) && s != PROVENANCE {
                            k.problem(
                                Location::section(s).line(n),
                                "the section appears twice (a stream gives each input section once)"
                                    .into(),
                            )?;
                        }
                        match s {
                            PARAMS => {
                                params_header = n;
                                Current::Params
                            }
                            HOLIDAYS => Current::Holidays,
                            STAFF => Current::Staff,
                            WORK => Current::Work,
                            _ => Current::Keep,
                        }
                    }
                    None => {
                        if other.is_none() {
                            other = Some((h.to_owned(), n));
                        }
                        Current::Skip
                    }
                };
                if current == Current::Keep {
                    // Gathered provenance goes last, whatever came after it.
                    match kept.iter().position(|s| s.header == h) {
                        Some(i) => {
                            let again = kept.remove(i);
                            kept.push(again);
                        }
                        None => kept.push(Section {
                            header: h.to_owned(),
                            line: n,
                            lines: Vec::new(),
                        }),
                    }
                }
            }
            Event::Line(l) if memchr::memchr(b'\r', l).is_some() => {
                // Only a trailing `\r` is a line ending; one inside a line
                // would not survive being written and read back.
                k.problem(
                    Location::section(header.as_str()).line(n),
                    "the line holds a carriage return (\\r) before its end".into(),
                )?;
            }
            Event::Line(l) => match current {
                Current::Skip => {}
                Current::Keep => {
                    if let Some(s) = kept.last_mut() {
                        s.lines.push(l.to_vec());
                    }
                }
                _ => match std::str::from_utf8(l) {
                    Ok(text) => line(&mut b, k, current, n, text)?,
                    Err(_) => k.problem(
                        Location::section(current_name).line(n),
                        "line is not UTF-8 text".into(),
                    )?,
                },
            },
            Event::End => current = Current::Skip,
        }
    }
    if reader.line_no() == 0 {
        k.problem(
            Location::default(),
            "the input is empty (the v1 inputs are four sections and '=====end')".into(),
        )?;
    } else if !last_was_end {
        k.problem(
            Location::default().line(reader.line_no()),
            "the stream does not end with '=====end' (cut off? every complete stream ends with that line)"
                .into(),
        )?;
    }
    let is_results = seen.contains("qplan track work v1");
    let is_input = seen.contains(WORK);
    if is_results && !is_input {
        if let Some(text) = b.params_text() {
            kept.insert(
                0,
                Section {
                    header: PARAMS.into(),
                    line: params_header,
                    lines: vec![text.as_bytes().to_vec()],
                },
            );
        }
        return Ok(Some(Loaded::Results(kept)));
    }
    if is_results {
        k.problem(
            Location::default(),
            "the input holds both work items (qplan work v1) and results (qplan track work v1); give one or the other".into(),
        )?;
    }
    let none = [PARAMS, HOLIDAYS, STAFF, WORK]
        .iter()
        .all(|s| !seen.contains(s));
    if let (true, false, Some((h, n))) = (none, is_results, &other) {
        k.problem(
            Location::section(h.as_str()).line(*n),
            "no qplan input section here (qplan params, holidays, staff and work v1): raw \
             sections go through qcondition first (`qcondition --map MAP.toml | qplan`)"
                .into(),
        )?;
        return Ok(None);
    }
    for s in [PARAMS, HOLIDAYS, STAFF, WORK] {
        if !seen.contains(s) {
            k.problem(
                Location::section(s),
                "the section is missing (a section with no lines is its header alone)".into(),
            )?;
        }
    }
    if seen.contains(PARAMS) && b.params_rows() == 0 {
        k.problem(
            Location::section(PARAMS).line(params_header),
            "the params section has no line".into(),
        )?;
    }
    let Some(mut input) = b.finish(k)? else {
        return Ok(None);
    };
    input.provenance = kept.into_iter().find(|s| s.header == PROVENANCE).map(|s| {
        let mut seen = HashSet::new();
        s.lines
            .into_iter()
            .filter(|l| seen.insert(l.clone()))
            .collect()
    });
    Ok(Some(Loaded::Input(Box::new(input))))
}
