//! The gate: every problem in the data is collected (not just the first),
//! each with where it is and what was expected. Conditioned rows are checked
//! here whether they come from a map or from a team's own script
//! (`--check`), so both paths apply the same rules.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::error::Location;
use crate::plan::fields;

/// One value of a conditioned row and where it came from.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub at: Location,
}

impl Cell {
    pub fn new(text: impl Into<String>, at: Location) -> Cell {
        Cell {
            text: text.into(),
            at,
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
}

/// What became of one row.
pub enum Outcome {
    Used,
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
            Outcome::Used => self.used += 1,
            Outcome::Skipped(rule) => *self.skipped.entry(rule).or_default() += 1,
            Outcome::Reported => self.reported += 1,
        }
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
        let at = cell.at.clone().value(cell.text.clone());
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
    if cell.text.contains(['\t', '\n', '\r']) {
        p.bad(cell, "contains a TAB or a line break");
    }
}

fn check_unique(p: &mut Problems, ids: &[&Cell], what: &str) {
    let mut seen: HashMap<&str, &Cell> = HashMap::new();
    for id in ids {
        if id.text.is_empty() {
            p.bad(id, format!("{what} id is empty"));
        } else if let Some(first) = seen.get(id.text.as_str()) {
            let first = first
                .at
                .line
                .map_or(String::new(), |l| format!(" (first on line {l})"));
            p.bad(id, format!("{what} id is not unique{first}"));
        } else {
            seen.insert(&id.text, id);
        }
    }
}

/// Checks everything SPEC section 3 asks of the v1 inputs, and warns of
/// what is legal but suspicious.
pub fn check(data: &Conditioned, p: &mut Problems) {
    if let [start, end, skills] = data.params.as_slice() {
        let s = fields::parse_date(&start.text)
            .map_err(|e| p.bad(start, e))
            .ok();
        let e = fields::parse_date(&end.text)
            .map_err(|e| p.bad(end, e))
            .ok();
        if let (Some(s), Some(e)) = (s, e) {
            if s > e {
                p.bad(end, format!("the end ({e}) is before the start ({s})"));
            }
        }
        if skills.text.split(':').any(|s| s.trim().is_empty()) {
            p.bad(
                skills,
                "scheduling skills are names joined by ':', none empty",
            );
        }
        for c in [start, end, skills] {
            check_text(p, c);
        }
    }
    for h in &data.holidays {
        if let Err(e) = fields::parse_date(&h.text) {
            p.bad(h, e);
        }
    }
    for row in &data.staff {
        for c in row {
            check_text(p, c);
        }
        for (c, what) in row[1..5].iter().zip(["name", "team", "track", "skill"]) {
            if c.text.trim().is_empty() && what != "team" {
                p.bad(c, format!("the {what} is empty"));
            }
        }
        if let Err(e) = fields::parse_vacations(&row[5].text) {
            p.bad(&row[5], e);
        }
    }
    check_unique(
        p,
        &data.staff.iter().map(|r| &r[0]).collect::<Vec<_>>(),
        "person",
    );
    for row in &data.work {
        for c in row {
            check_text(p, c);
        }
        if let Err(e) = fields::parse_rank(&row[1].text) {
            p.bad(&row[1], e);
        }
        if row[2].text.trim().is_empty() {
            p.bad(&row[2], "the name is empty");
        }
        if let Err(e) = fields::parse_estimate(&row[3].text) {
            p.bad(&row[3], e);
        }
        if let Err(e) = fields::parse_triage(&row[4].text) {
            p.bad(&row[4], e);
        }
    }
    check_unique(
        p,
        &data.work.iter().map(|r| &r[0]).collect::<Vec<_>>(),
        "work",
    );
    warnings(data, p);
}

fn warnings(data: &Conditioned, p: &mut Problems) {
    let staffed: HashSet<&str> = data.staff.iter().map(|r| r[3].text.as_str()).collect();
    let worked: HashSet<&str> = data.work.iter().map(|r| r[5].text.as_str()).collect();
    let mut names: HashMap<&str, u64> = HashMap::new();
    for row in &data.staff {
        let track = &row[3];
        if !worked.contains(track.text.as_str()) {
            let at = track.at.clone().value(track.text.clone());
            p.warn(&at, format!("{} is on a track with no work", row[1].text));
        }
        let line = row[1].at.line.unwrap_or(0);
        if let Some(first) = names.insert(&row[1].text, line) {
            let at = row[1].at.clone().value(row[1].text.clone());
            p.warn(&at, format!("the name appears twice (also line {first})"));
        }
    }
    let mut warned = HashSet::new();
    for row in &data.work {
        let track = &row[5];
        if !staffed.contains(track.text.as_str()) && warned.insert(track.text.as_str()) {
            let at = track.at.clone().value(track.text.clone());
            p.warn(&at, "work in a track with no staff");
        }
    }
    if data.work.is_empty() {
        p.warn(
            &Location::section("qplan work v1"),
            "the work list is empty",
        );
    }
}
