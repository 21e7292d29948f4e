//! The gate: every problem in the data is collected (not just the first),
//! each with where it is and what was expected. Rows conditioned with a map
//! are checked here with the rule book ([`crate::rules`]), the rules qplan
//! reads its input with; a team's own stream (`--check`) is read with
//! qplan's reader itself ([`super::check`]).

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;

use crate::error::Location;
use crate::rules::{Book, Sink};

/// One value of a conditioned row and where it came from.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub at: CellAt,
}

impl Cell {
    pub fn new(text: impl Into<String>, at: impl Into<CellAt>) -> Cell {
        Cell {
            text: text.into(),
            at: at.into(),
        }
    }
}

/// Where a cell came from: a [`Location`] without a value whose section
/// and column names are shared by every cell of the column (one pointer
/// per cell), so that a hundred thousand rows do not copy them a million
/// times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellAt {
    pub place: Rc<Place>,
    pub line: Option<u64>,
}

/// The section and column of a column's cells.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub section: Option<String>,
    pub column: Option<String>,
}

impl CellAt {
    pub fn location(&self) -> Location {
        Location {
            section: self.place.section.clone(),
            line: self.line,
            column: self.place.column.clone(),
            value: None,
        }
    }
}

impl From<Location> for CellAt {
    fn from(at: Location) -> CellAt {
        CellAt {
            place: Rc::new(Place {
                section: at.section,
                column: at.column,
            }),
            line: at.line,
        }
    }
}

/// A problem: where, and what.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub severity: &'static str,
    pub section: Option<String>,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl Problem {
    /// A failure that stopped the run (the map unreadable, the stream
    /// malformed, an I/O error) as a problem, so that `--errors json` holds
    /// it too: its location when it has one, and the cause chain.
    pub fn from_error(err: &anyhow::Error) -> Problem {
        let mut p = Problem {
            severity: "error",
            section: None,
            line: None,
            column: None,
            value: None,
            message: String::new(),
        };
        let mut parts: Vec<String> = Vec::new();
        for cause in err.chain() {
            match cause.downcast_ref::<crate::error::Error>() {
                Some(crate::error::Error::Data { at, message }) => {
                    p.section.clone_from(&at.section);
                    p.line = at.line;
                    p.column.clone_from(&at.column);
                    p.value.clone_from(&at.value);
                    parts.push(message.clone());
                    break;
                }
                Some(crate::error::Error::Stream { line, message }) => {
                    p.line = Some(*line);
                    parts.push(message.clone());
                    break;
                }
                _ => parts.push(cause.to_string()),
            }
        }
        p.message = parts.join(": ");
        p
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = Location {
            section: self.section.clone(),
            line: self.line,
            column: self.column.clone(),
            value: self.value.clone(),
        }
        .to_string();
        if at.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{at}: {}", self.message)
        }
    }
}

/// Errors and warnings, in the order they were found, and what became of
/// every row read (`-v`).
#[derive(Debug, Default)]
pub struct Problems {
    pub list: Vec<Problem>,
    pub tallies: Vec<Tally>,
}

/// What became of the rows of one raw section read for one table of the
/// map: every row read is used, skipped by a rule the map names (or for
/// being blank), or reported.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// `raw work`.
    pub section: String,
    /// The map table that read it: `work`, `staff.vacations`.
    pub table: String,
    pub read: u64,
    pub used: u64,
    /// Rows left out, by rule (`work.estimate.skip`, `staff.stop`, `blank`).
    pub skipped: BTreeMap<String, u64>,
    /// Rows left out with an error or a warning naming them.
    pub reported: u64,
    /// The lines of the rows used, so that a row the rule book refuses
    /// later is counted as reported, not used.
    pub used_lines: Vec<u64>,
}

/// What became of one row.
pub enum Outcome {
    /// Data, from the row on this line.
    Used(u64),
    Skipped(String),
    Reported,
}

impl Tally {
    pub fn new(section: &str, table: &str, blank: u64) -> Tally {
        let mut t = Tally {
            section: section.to_owned(),
            table: table.to_owned(),
            read: blank,
            ..Tally::default()
        };
        if blank > 0 {
            t.skipped.insert("blank".into(), blank);
        }
        t
    }

    pub fn count(&mut self, outcome: Outcome) {
        self.read += 1;
        match outcome {
            Outcome::Used(line) => {
                self.used += 1;
                self.used_lines.push(line);
            }
            Outcome::Skipped(rule) => *self.skipped.entry(rule).or_default() += 1,
            Outcome::Reported => self.reported += 1,
        }
    }
}

impl Tally {
    /// Rows counted as used that the rule book then refused (an error on
    /// their line of this section) are reported rows: `-v` must not count
    /// them as data (issue 20).
    pub fn refused(&mut self, errors: &std::collections::HashSet<(&str, u64)>) {
        let section = self.section.as_str();
        let mut lines: Vec<u64> = self
            .used_lines
            .iter()
            .copied()
            .filter(|&l| errors.contains(&(section, l)))
            .collect();
        lines.sort_unstable();
        lines.dedup();
        self.used_lines.retain(|l| lines.binary_search(l).is_err());
        let n = self.used - self.used_lines.len() as u64;
        self.used -= n;
        self.reported += n;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = |n: u64| if n == 1 { "row" } else { "rows" };
        write!(
            f,
            "section '{}' for [{}]: {} {} read, {} used",
            self.section,
            self.table,
            self.read,
            rows(self.read),
            self.used
        )?;
        for (rule, n) in &self.skipped {
            if rule == "blank" {
                write!(f, ", {n} blank")?;
            } else {
                write!(f, ", {n} skipped by {rule}")?;
            }
        }
        write!(f, ", {} reported", self.reported)
    }
}

impl Problems {
    fn push(&mut self, severity: &'static str, at: &Location, message: impl Into<String>) {
        self.list.push(Problem {
            severity,
            section: at.section.clone(),
            line: at.line,
            column: at.column.clone(),
            value: at.value.clone(),
            message: message.into(),
        });
    }

    pub fn error(&mut self, at: &Location, message: impl Into<String>) {
        self.push("error", at, message);
    }

    pub fn warn(&mut self, at: &Location, message: impl Into<String>) {
        self.push("warning", at, message);
    }

    /// A problem about a cell: its location with its value.
    pub fn bad(&mut self, cell: &Cell, message: impl Into<String>) {
        let at = cell.at.location().value(cell.text.clone());
        self.error(&at, message);
    }

    pub fn errors(&self) -> usize {
        self.list.iter().filter(|p| p.severity == "error").count()
    }

    /// In reading order: problems of the map first, then by input line.
    pub fn sort(&mut self) {
        self.list.sort_by_key(|p| {
            let in_map = p
                .section
                .as_deref()
                .is_some_and(|s| s == "map" || s.starts_with("map "));
            (!in_map, p.line.unwrap_or(0))
        });
    }

    /// `--strict`: every warning is an error.
    pub fn strict(&mut self) {
        for p in &mut self.list {
            p.severity = "error";
        }
    }
}

/// The conditioned data, ready to be written as v1 streams.
#[derive(Debug, Default)]
pub struct Conditioned {
    /// start, end, skills.
    pub params: Vec<Cell>,
    pub holidays: Vec<Cell>,
    /// id, name, team, track, skill, vacation.
    pub staff: Vec<Vec<Cell>>,
    /// id, rank, name, estimate, triage, track.
    pub work: Vec<Vec<Cell>>,
}

fn check_text(p: &mut Problems, cell: &Cell) {
    if memchr::memchr3(b'\t', b'\n', b'\r', cell.text.as_bytes()).is_some() {
        p.bad(cell, "contains a TAB or a line break");
    }
}

/// Where column `c` of a conditioned row is: the cell's own place in the
/// raw input (`c` = 0: the row, where its first cell is).
fn cell_at(row: &[Cell], c: usize) -> Location {
    match c {
        0 => {
            let mut at = row.first().map(|c| c.at.location()).unwrap_or_default();
            at.column = None;
            at
        }
        c => row.get(c - 1).map(|c| c.at.location()).unwrap_or_default(),
    }
}

fn texts<const N: usize>(row: &[Cell]) -> [&str; N] {
    std::array::from_fn(|i| row.get(i).map_or("", |c| c.text.as_str()))
}

/// Checks the conditioned rows with the rule book ([`crate::rules`]), the
/// same rules qplan reads its input with, and warns of what is legal but
/// suspicious. Each problem names the raw cell it came from.
pub fn check(data: &Conditioned, p: &mut Problems) {
    for c in data
        .params
        .iter()
        .chain(&data.holidays)
        .chain(data.staff.iter().flatten())
        .chain(data.work.iter().flatten())
    {
        check_text(p, c);
    }
    if p.errors() > 0 {
        return;
    }
    // The Problems sink never stops the read, so these never fail.
    let before = p.list.len();
    let _ = fill(data, p);
    let errors: std::collections::HashSet<(&str, u64)> = p.list[before..]
        .iter()
        .filter(|e| e.severity == "error")
        .filter_map(|e| Some((e.section.as_deref()?, e.line?)))
        .collect();
    if errors.is_empty() {
        return;
    }
    let mut tallies = std::mem::take(&mut p.tallies);
    for t in &mut tallies {
        t.refused(&errors);
    }
    drop(errors);
    p.tallies = tallies;
}

fn fill(data: &Conditioned, p: &mut Problems) -> crate::error::Result<()> {
    let mut book = Book::new();
    if !data.params.is_empty() {
        let f: [&str; 3] = texts(&data.params);
        let text = f.join("\t");
        book.params(p, &text, f, |c| cell_at(&data.params, c))?;
    }
    for h in &data.holidays {
        book.holiday(p, &h.text, |_| h.at.location())?;
    }
    let line = |row: &[Cell]| cell_at(row, 0).line.unwrap_or(0);
    for row in &data.staff {
        book.staff(p, texts(row), line(row), |c| cell_at(row, c))?;
    }
    for row in &data.work {
        book.work(p, texts(row), line(row), |c| cell_at(row, c))?;
    }
    book.finish(p)?;
    Ok(())
}

/// `qcondition` hears of every problem the rule book finds, and of the
/// warnings, and goes on.
impl Sink for Problems {
    fn problem(&mut self, at: Location, message: String) -> crate::error::Result<()> {
        self.error(&at, message);
        Ok(())
    }

    fn warning(&mut self, at: Location, message: String) -> crate::error::Result<()> {
        self.warn(&at, message);
        Ok(())
    }

    fn wants_warnings(&self) -> bool {
        true
    }
}
