//! The qplan input streams (SPEC section 3): reading and checking
//! `qplan params v1`, `qplan holidays v1`, `qplan staff v1` and
//! `qplan work v1` from a stacked stream, line by line.
//!
//! A stream that holds results instead (`qplan track work v1`) is collected
//! whole for [`super::results`] to read, so qplan can render stored results
//! without recomputing.

use std::collections::HashSet;

use rustc_hash::{FxHashMap, FxHashSet};

use chrono::NaiveDate;

use super::amount::Amount;
use super::arena::{Arena, Span};
use super::fields::{self, Triage};
use crate::error::{Error, Location, Result};
use crate::stream::{Event, LineSource, Reader, Section, PROVENANCE};

pub const PARAMS: &str = "qplan params v1";
pub const HOLIDAYS: &str = "qplan holidays v1";
pub const STAFF: &str = "qplan staff v1";
pub const WORK: &str = "qplan work v1";

/// The name of the track that holds all staff and all work.
pub const ALL: &str = "All";

/// Names given small numbers in order of first appearance.
#[derive(Debug, Default, Clone)]
pub struct Names {
    index: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        i
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The scheduling skills, in the order given, without repeats.
    pub sched: Vec<String>,
}

impl Params {
    /// The params line in its canonical form.
    pub fn line(&self) -> String {
        format!("{}\t{}\t{}", self.start, self.end, self.sched.join(":"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub team: String,
    /// Index into [`Input::tracks`]; `None` when the column is empty.
    pub track: Option<u32>,
    /// Index into [`Input::skills`]; `None` when the column is empty.
    pub skill: Option<u32>,
    pub vacation: Vec<(NaiveDate, NaiveDate)>,
}

/// A work item; its text and amounts are in [`Input::arena`].
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    pub id: Span,
    pub rank: i64,
    pub name: Span,
    /// Amounts per skill (index into [`Input::skills`]) in the order
    /// written; `None` when not estimated.
    pub estimate: Option<Span>,
    pub triage: Triage,
    pub track: Option<u32>,
    /// The line it was read from, for messages.
    pub line: u64,
}

/// Everything qplan computes from.
#[derive(Debug, Clone)]
pub struct Input {
    pub params: Params,
    /// The params content line exactly as read, copied to the output.
    pub params_line: String,
    pub holidays: Vec<NaiveDate>,
    pub staff: Vec<Person>,
    pub work: Vec<WorkItem>,
    /// The work items' ids, names and estimates.
    pub arena: Arena,
    pub tracks: Names,
    pub skills: Names,
    /// The `qsnap provenance v1` lines, passed through.
    pub provenance: Option<Vec<Vec<u8>>>,
}

/// What a qplan input stream turned out to hold.
pub enum Loaded {
    /// Conditioned inputs, to compute from.
    Input(Box<Input>),
    /// An already computed results stream, to render.
    Results(Vec<Section>),
}

/// Headers of a results stream (SPEC section 5) other than params.
const RESULT_SECTIONS: [&str; 7] = [
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

struct Builder {
    params: Option<(Params, String, u64)>,
    seen: HashSet<&'static str>,
    holidays: Vec<NaiveDate>,
    staff: Vec<Person>,
    work: Vec<WorkItem>,
    arena: Arena,
    tracks: Names,
    skills: Names,
    /// The sum of all estimates per skill (index into `skills`), so that a
    /// total too large to hold is refused at the line that makes it so.
    totals: Vec<Amount>,
}

fn at(section: &str, line: u64, column: usize, name: &str, value: &str) -> Location {
    Location::section(section)
        .line(line)
        .column(format!("{column} ({name})"))
        .value(value)
}

fn field_error(
    section: &str,
    line: u64,
    column: usize,
    name: &str,
    value: &str,
    msg: String,
) -> Error {
    Error::data(at(section, line, column, name, value), msg)
}

/// Splits a content line into its `N` TAB-separated fields, of which at
/// least `min` must be there (the others read as empty), naming the columns
/// expected when there are fewer. Extra columns are ignored.
fn split<'a, const N: usize>(
    section: &str,
    line: u64,
    text: &'a str,
    names: &[&str; N],
    min: usize,
) -> Result<[&'a str; N]> {
    let mut fields = [""; N];
    let mut n = 0;
    for (slot, f) in fields.iter_mut().zip(text.split('\t')) {
        *slot = f;
        n += 1;
    }
    if n < min {
        return Err(Error::data(
            Location::section(section).line(line),
            format!(
                "{} column{} where {} {} expected ({})",
                n,
                if n == 1 { "" } else { "s" },
                min,
                if min == 1 { "is" } else { "are" },
                names[..min].join(", ")
            ),
        ));
    }
    Ok(fields)
}

/// A non-empty name without surrounding blanks.
fn name_field<'a>(
    section: &str,
    line: u64,
    column: usize,
    name: &str,
    value: &'a str,
) -> Result<&'a str> {
    let v = value.trim();
    if v.is_empty() {
        return Err(field_error(
            section,
            line,
            column,
            name,
            value,
            format!("{name} is empty"),
        ));
    }
    Ok(v)
}

fn track_field(
    tracks: &mut Names,
    section: &str,
    line: u64,
    column: usize,
    value: &str,
) -> Result<Option<u32>> {
    match value.trim() {
        "" => Ok(None),
        ALL => Err(field_error(
            section,
            line,
            column,
            "track",
            value,
            format!("the track name {ALL} is reserved for the track that holds everything"),
        )),
        t => Ok(Some(tracks.intern(t))),
    }
}

impl Builder {
    fn line(&mut self, current: Current, line: u64, text: &str) -> Result<()> {
        // Editors strip the lone TAB of empty lines; blank lines carry no data.
        if text.trim().is_empty() {
            return Ok(());
        }
        match current {
            Current::Params => self.params_line(line, text),
            Current::Holidays => {
                let f = split(HOLIDAYS, line, text, &["date"], 1)?;
                let d = fields::parse_date(f[0])
                    .map_err(|m| field_error(HOLIDAYS, line, 1, "date", f[0], m))?;
                self.holidays.push(d);
                Ok(())
            }
            Current::Staff => self.staff_line(line, text),
            Current::Work => self.work_line(line, text),
            Current::Keep | Current::Skip => Ok(()),
        }
    }

    fn params_line(&mut self, line: u64, text: &str) -> Result<()> {
        if self.params.is_some() {
            return Err(Error::data(
                Location::section(PARAMS).line(line),
                "more than one params line",
            ));
        }
        let f = split(PARAMS, line, text, &["start", "end", "skills"], 2)?;
        let start =
            fields::parse_date(f[0]).map_err(|m| field_error(PARAMS, line, 1, "start", f[0], m))?;
        let end =
            fields::parse_date(f[1]).map_err(|m| field_error(PARAMS, line, 2, "end", f[1], m))?;
        if end < start {
            return Err(field_error(
                PARAMS,
                line,
                2,
                "end",
                f[1],
                format!("end is before start ({start})"),
            ));
        }
        let days = (end - start).num_days() + 1;
        if days > super::MAX_DAYS {
            return Err(field_error(
                PARAMS,
                line,
                2,
                "end",
                f[1],
                format!(
                    "the plan spans {days} days; at most {} are supported",
                    super::MAX_DAYS
                ),
            ));
        }
        let mut sched: Vec<String> = Vec::new();
        for s in f[2].split(':').map(str::trim) {
            if !s.is_empty() && !sched.iter().any(|x| x == s) {
                sched.push(s.to_owned());
            }
        }
        self.params = Some((Params { start, end, sched }, text.to_owned(), line));
        Ok(())
    }

    fn staff_line(&mut self, line: u64, text: &str) -> Result<()> {
        const NAMES: [&str; 6] = ["id", "name", "team", "track", "skill", "vacation"];
        let f = split(STAFF, line, text, &NAMES, 5)?;
        let id = f[0].trim().to_owned();
        let name = name_field(STAFF, line, 2, "name", f[1])?.to_owned();
        let track = track_field(&mut self.tracks, STAFF, line, 4, f[3])?;
        let skill = match f[4].trim() {
            "" => None,
            s => Some(self.skills.intern(s)),
        };
        let vac = f[5];
        let vacation = fields::parse_vacations(vac)
            .map_err(|m| field_error(STAFF, line, 6, "vacation", vac, m))?;
        self.staff.push(Person {
            id,
            name,
            team: f[2].trim().to_owned(),
            track,
            skill,
            vacation,
        });
        Ok(())
    }

    fn work_line(&mut self, line: u64, text: &str) -> Result<()> {
        const NAMES: [&str; 6] = ["id", "rank", "name", "estimate", "triage", "track"];
        let f = split(WORK, line, text, &NAMES, 6)?;
        let id = name_field(WORK, line, 1, "id", f[0])?;
        let rank =
            fields::parse_rank(f[1]).map_err(|m| field_error(WORK, line, 2, "rank", f[1], m))?;
        let name = name_field(WORK, line, 3, "name", f[2])?;
        let mut parts = Vec::new();
        let estimated = fields::parse_estimate_into(f[3], &mut parts)
            .map_err(|m| field_error(WORK, line, 4, "estimate", f[3], m))?;
        let skills = &mut self.skills;
        let totals = &mut self.totals;
        let mut interned = Vec::with_capacity(parts.len());
        for &(s, a) in &parts {
            let k = skills.intern(s);
            if totals.len() <= k as usize {
                totals.resize(k as usize + 1, Amount::ZERO);
            }
            let total = &mut totals[k as usize];
            *total = total.checked_add(a).ok_or_else(|| {
                field_error(
                    WORK,
                    line,
                    4,
                    "estimate",
                    f[3],
                    format!(
                        "the estimates of skill {s} add up to more than {}",
                        Amount::MAX_TEXT
                    ),
                )
            })?;
            interned.push((k, a));
        }
        let estimate = estimated.then(|| self.arena.push_amounts(interned));
        let triage = fields::parse_triage(f[4])
            .map_err(|m| field_error(WORK, line, 5, "triage", f[4], m))?;
        let track = track_field(&mut self.tracks, WORK, line, 6, f[5])?;
        self.work.push(WorkItem {
            id: self.arena.push_str(id),
            rank,
            name: self.arena.push_str(name),
            estimate,
            triage,
            track,
            line,
        });
        Ok(())
    }
}

/// Reads a qplan input stream: conditioned inputs or a results stream.
pub fn read<S: LineSource>(reader: &mut Reader<S>) -> Result<Loaded> {
    let mut b = Builder {
        params: None,
        seen: HashSet::new(),
        holidays: Vec::new(),
        staff: Vec::new(),
        work: Vec::new(),
        arena: Arena::default(),
        tracks: Names::default(),
        skills: Names::default(),
        totals: Vec::new(),
    };
    let mut kept: Vec<Section> = Vec::new();
    let mut current = Current::Skip;
    let mut current_name: &'static str = "";
    loop {
        let line = reader.line_no() + 1;
        let Some(event) = reader.next_event()? else {
            break;
        };
        match event {
            Event::Header(h) => {
                let known = [PARAMS, HOLIDAYS, STAFF, WORK]
                    .into_iter()
                    .chain(RESULT_SECTIONS)
                    .chain([PROVENANCE])
                    .find(|k| *k == h);
                current = match known {
                    Some(k) => {
                        current_name = k;
                        // Provenance may come once per concatenated stream;
                        // its lines are gathered into one section.
                        if !b.seen.insert(k) && k != PROVENANCE {
                            return Err(Error::data(
                                Location::section(k).line(line),
                                "section appears twice",
                            ));
                        }
                        match k {
                            PARAMS => Current::Params,
                            HOLIDAYS => Current::Holidays,
                            STAFF => Current::Staff,
                            WORK => Current::Work,
                            _ => Current::Keep,
                        }
                    }
                    None => Current::Skip,
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
                            line,
                            lines: Vec::new(),
                        }),
                    }
                }
            }
            Event::Line(l) => match current {
                Current::Skip => {}
                Current::Keep => {
                    if let Some(s) = kept.last_mut() {
                        s.lines.push(l.to_vec());
                    }
                }
                _ => {
                    let Ok(text) = std::str::from_utf8(l) else {
                        return Err(Error::data(
                            Location::section(current_name).line(line),
                            "line is not UTF-8 text",
                        ));
                    };
                    b.line(current, line, text)?;
                }
            },
            Event::End => current = Current::Skip,
        }
    }
    let is_results = b.seen.contains("qplan track work v1");
    let is_input = b.seen.contains(WORK);
    if is_results && !is_input {
        if let Some((_, text, line)) = b.params {
            kept.insert(
                0,
                Section {
                    header: PARAMS.into(),
                    line: line - 1,
                    lines: vec![text.into_bytes()],
                },
            );
        }
        return Ok(Loaded::Results(kept));
    }
    if is_results {
        return Err(Error::data(
            Location::default(),
            "the input holds both work items (qplan work v1) and results (qplan track work v1); give one or the other",
        ));
    }
    let missing: Vec<&str> = [PARAMS, HOLIDAYS, STAFF, WORK]
        .into_iter()
        .filter(|s| !b.seen.contains(s))
        .collect();
    if !missing.is_empty() {
        return Err(Error::data(
            Location::default(),
            format!(
                "missing input section{}: {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        ));
    }
    let mut ids: FxHashSet<&str> = FxHashSet::default();
    ids.reserve(b.work.len());
    if let Some(dup) = b.work.iter().find(|w| !ids.insert(b.arena.str(w.id))) {
        return Err(field_error(
            WORK,
            dup.line,
            1,
            "id",
            b.arena.str(dup.id),
            "id is used by an earlier item".into(),
        ));
    }
    drop(ids);
    let Some((params, params_line, _)) = b.params else {
        return Err(Error::data(
            Location::section(PARAMS),
            "the params section has no line",
        ));
    };
    check_manpower(&params, &b.holidays, &b.staff, &b.skills)?;
    let provenance = kept.into_iter().find(|s| s.header == PROVENANCE).map(|s| {
        let mut seen = HashSet::new();
        s.lines
            .into_iter()
            .filter(|l| seen.insert(l.clone()))
            .collect()
    });
    Ok(Loaded::Input(Box::new(Input {
        params,
        params_line,
        holidays: b.holidays,
        staff: b.staff,
        work: b.work,
        arena: b.arena,
        tracks: b.tracks,
        skills: b.skills,
        provenance,
    })))
}

/// Refuses a plan whose manpower in one skill (all its people's workdays,
/// a fifth of a person-week each) is too large for an [`Amount`].
fn check_manpower(
    params: &Params,
    holidays: &[NaiveDate],
    staff: &[Person],
    skills: &Names,
) -> Result<()> {
    let mut heads = vec![0u64; skills.len()];
    for p in staff {
        if let Some(s) = p.skill {
            heads[s as usize] += 1;
        }
    }
    let cal = super::engine::Calendar::new(params.start, params.end, holidays);
    let workdays = cal.workday.iter().filter(|&&w| w).count() as u64;
    for (s, &n) in heads.iter().enumerate() {
        let days = n.checked_mul(workdays).and_then(|d| i64::try_from(d).ok());
        if days.and_then(Amount::days).is_none() {
            return Err(Error::data(
                Location::section(STAFF),
                format!(
                    "the manpower of skill {} ({n} people for {workdays} workdays) is larger than {}",
                    skills.name(s as u32),
                    Amount::MAX_TEXT
                ),
            ));
        }
    }
    Ok(())
}
