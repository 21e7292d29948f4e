//! qcondition: team layouts (raw sections, a map) into the v1 inputs of
//! SPEC section 3, and the gate that lets only good data through.
//!
//! - [`map`]: the map file (TOML);
//! - [`raw`]: raw sections as tables (CSV, TSV, JSON records);
//! - [`gate`]: problems and the checks every conditioned row passes;
//! - this module: the conditioning itself, `--check`, and the output.

pub mod gate;
pub mod map;
pub mod raw;

use std::collections::HashMap;
use std::io::{self, Write};

use regex::Regex;
use sha2::{Digest, Sha256};

use self::gate::{Cell, Conditioned, Problems};
use self::map::{ColRef, ColumnSpec, Format, Layout, Map, Value};
use self::raw::{Col, Row, Table};
use crate::error::Location;
use crate::plan::input::{HOLIDAYS, PARAMS, STAFF, WORK};
use crate::stream::{Section, Writer, PROVENANCE};

/// The input read whole: its sections by header.
pub struct Input {
    pub sections: Vec<Section>,
}

impl Input {
    fn raw(&self, source: &str) -> Option<&Section> {
        let header = format!("raw {source}");
        self.sections.iter().find(|s| s.header == header)
    }

    /// The provenance lines of every provenance section, each once.
    pub fn provenance(&self) -> Option<Vec<Vec<u8>>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut any = false;
        for s in self.sections.iter().filter(|s| s.header == PROVENANCE) {
            any = true;
            for l in &s.lines {
                if !lines.contains(l) {
                    lines.push(l.clone());
                }
            }
        }
        any.then_some(lines)
    }
}

/// A column of the map compiled against its table.
struct Field {
    col: Option<Col>,
    /// How the column is named in messages.
    name: String,
    spec: ColumnSpec,
    skip: Vec<Regex>,
}

enum Got {
    Skip,
    Cell(Cell),
}

impl Field {
    /// Compiles a column; problems go to `p` with the map key they are at.
    fn new(column: &map::Column, table: &Table, key: &str, p: &mut Problems) -> Option<Field> {
        let spec = column.spec();
        let at = Location::section("map").column(key.to_owned());
        let col = match (&spec.column, &spec.value) {
            (Some(c), _) => match table.column(c) {
                Ok(col) => Some(col),
                Err(e) => {
                    p.error(
                        &Location::section(table.section.clone())
                            .line(table.header_line)
                            .column(key.to_owned()),
                        format!("map key {key}: {e}"),
                    );
                    return None;
                }
            },
            (None, Some(_)) => None,
            (None, None) => {
                p.error(&at, "needs a `column` or a `value`");
                return None;
            }
        };
        let mut skip = Vec::new();
        for r in &spec.skip {
            match Regex::new(r) {
                Ok(r) => skip.push(r),
                Err(e) => p.error(
                    &at.clone().value(r.clone()),
                    format!("not a regular expression: {e}"),
                ),
            }
        }
        let name = spec
            .column
            .as_ref()
            .map_or_else(|| key.to_owned(), ToString::to_string);
        Some(Field {
            col,
            name,
            spec,
            skip,
        })
    }

    fn location(&self, table: &Table, row: &Row) -> Location {
        Location::section(table.section.clone())
            .line(row.line)
            .column(self.name.clone())
    }

    /// The cell of a row, with the column's rules applied.
    fn text(&self, raw: String) -> Option<String> {
        let mut text = if self.spec.trim.unwrap_or(true) {
            raw.trim().to_owned()
        } else {
            raw
        };
        if self.skip.iter().any(|r| r.is_match(&text)) {
            return None;
        }
        if let Some(new) = self.spec.rename.get(&text) {
            text = new.clone();
        }
        if text.is_empty() {
            if let Some(d) = &self.spec.default {
                text = d.clone();
            }
        }
        Some(text)
    }

    fn get(&self, table: &Table, row: &Row) -> Got {
        let raw = match (&self.col, &self.spec.value) {
            (Some(col), _) => Table::cell(row, col),
            (None, Some(v)) => v.clone(),
            (None, None) => String::new(),
        };
        match self.text(raw) {
            None => Got::Skip,
            Some(t) => Got::Cell(Cell::new(t, self.location(table, row))),
        }
    }
}

/// A stable id from a row's identity (its name and track), not its place.
fn made_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

fn table(
    input: &Input,
    source: &str,
    format: Option<Format>,
    records: Option<&str>,
    key: &str,
    p: &mut Problems,
) -> Option<Table> {
    let Some(section) = input.raw(source) else {
        let have: Vec<&str> = input
            .sections
            .iter()
            .filter_map(|s| s.header.strip_prefix("raw "))
            .collect();
        p.error(
            &Location::section("map").column(key.to_owned()),
            format!(
                "no section 'raw {source}' in the input (raw sections: {})",
                if have.is_empty() {
                    "none".into()
                } else {
                    have.join(", ")
                }
            ),
        );
        return None;
    };
    match Table::read(section, format, records) {
        Ok(t) => Some(t),
        Err((line, e)) => {
            p.error(&Location::section(section.header.clone()).line(line), e);
            None
        }
    }
}

/// Conditions raw sections with a map. Problems (errors and warnings) are
/// collected in `p`; the result is only to be written when there are no
/// errors.
pub fn condition(map: &Map, input: &Input, p: &mut Problems) -> Conditioned {
    let mut out = Conditioned {
        params: params(map, input, p),
        ..Conditioned::default()
    };
    holidays(map, input, p, &mut out);
    staff(map, input, p, &mut out);
    work(map, input, p, &mut out);
    if p.errors() == 0 {
        gate::check(&out, p);
    }
    out
}

fn params(map: &Map, input: &Input, p: &mut Problems) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (key, value) in [
        ("start", &map.params.start),
        ("end", &map.params.end),
        ("skills", &map.params.skills),
    ] {
        let at = Location::section("map").column(format!("params.{key}"));
        let cell = match value {
            Value::Text(t) => Cell::new(t.trim(), at),
            Value::List(l) => Cell::new(l.join(":"), at),
            Value::From(from) => {
                let Some(t) = table(input, &from.source, None, None, &format!("params.{key}"), p)
                else {
                    continue;
                };
                let col = match t.column(&from.column) {
                    Ok(c) => c,
                    Err(e) => {
                        p.error(&at, e);
                        continue;
                    }
                };
                let n = from.row.unwrap_or(1);
                let Some(row) = n.checked_sub(1).and_then(|i| t.rows.get(i)) else {
                    p.error(&at, format!("{} has no data row {n}", t.section));
                    continue;
                };
                let text = Table::cell(row, &col).trim().to_owned();
                let text = if key == "skills" {
                    text.replace([',', ';'], ":")
                } else {
                    text
                };
                Cell::new(
                    text,
                    Location::section(t.section.clone())
                        .line(row.line)
                        .column(from.column.to_string()),
                )
            }
        };
        cells.push(cell);
    }
    cells
}

fn holidays(map: &Map, input: &Input, p: &mut Problems, out: &mut Conditioned) {
    let h = &map.holidays;
    for d in &h.dates {
        out.holidays.push(Cell::new(
            d.trim(),
            Location::section("map").column("holidays.dates"),
        ));
    }
    match (&h.source, &h.column) {
        (Some(source), Some(column)) => {
            let Some(t) = table(input, source, h.format, None, "holidays.source", p) else {
                return;
            };
            let Some(f) = Field::new(column, &t, "holidays.column", p) else {
                return;
            };
            for row in &t.rows {
                if let Got::Cell(c) = f.get(&t, row) {
                    if !c.text.is_empty() {
                        out.holidays.push(c);
                    }
                }
            }
        }
        (None, None) => {}
        _ => p.error(
            &Location::section("map").column("holidays"),
            "holidays from a raw section need both `source` and `column`",
        ),
    }
}

/// `[staff.vacations]`: person name → vacation entries joined by `:`.
fn vacations(map: &Map, input: &Input, p: &mut Problems) -> HashMap<String, String> {
    let mut by_name: HashMap<String, String> = HashMap::new();
    let Some(v) = &map.staff.vacations else {
        return by_name;
    };
    let Some(t) = table(
        input,
        &v.source,
        v.format,
        None,
        "staff.vacations.source",
        p,
    ) else {
        return by_name;
    };
    let (Some(name), Some(dates)) = (
        Field::new(&v.name, &t, "staff.vacations.name", p),
        Field::new(&v.dates, &t, "staff.vacations.dates", p),
    ) else {
        return by_name;
    };
    for row in &t.rows {
        if let (Got::Cell(n), Got::Cell(d)) = (name.get(&t, row), dates.get(&t, row)) {
            let entry = by_name.entry(n.text).or_default();
            for part in d
                .text
                .split([':', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                if !entry.is_empty() {
                    entry.push(':');
                }
                entry.push_str(part);
            }
        }
    }
    by_name
}

fn required<'m>(
    col: &'m Option<map::Column>,
    key: &str,
    p: &mut Problems,
) -> Option<&'m map::Column> {
    if col.is_none() {
        p.error(
            &Location::section("map").column(key.to_owned()),
            "is required (a column, or { value = \"...\" } for a literal)",
        );
    }
    col.as_ref()
}

fn staff(map: &Map, input: &Input, p: &mut Problems, out: &mut Conditioned) {
    let s = &map.staff;
    let Some(t) = table(
        input,
        &s.source,
        s.format,
        s.records.as_deref(),
        "staff.source",
        p,
    ) else {
        return;
    };
    let away = vacations(map, input, p);
    let errors = p.errors();
    let field = |c: Option<&map::Column>, key: &str, p: &mut Problems| {
        c.and_then(|c| Field::new(c, &t, key, p))
    };
    match s.layout {
        Layout::Table => {
            let id = field(s.id.as_ref(), "staff.id", p);
            let name = field(required(&s.name, "staff.name", p), "staff.name", p);
            let team = field(required(&s.team, "staff.team", p), "staff.team", p);
            let track = field(required(&s.track, "staff.track", p), "staff.track", p);
            let skill = field(required(&s.skill, "staff.skill", p), "staff.skill", p);
            let vacation = field(s.vacation.as_ref(), "staff.vacation", p);
            if s.stop.is_some() {
                p.error(
                    &Location::section("map").column("staff.stop"),
                    "is for layout = \"grid\"",
                );
            }
            let (Some(name), Some(team), Some(track), Some(skill)) = (name, team, track, skill)
            else {
                return;
            };
            if p.errors() > errors {
                return;
            }
            'rows: for row in &t.rows {
                let mut cells = Vec::with_capacity(6);
                for f in [&name, &team, &track, &skill] {
                    match f.get(&t, row) {
                        Got::Skip => continue 'rows,
                        Got::Cell(c) => cells.push(c),
                    }
                }
                let vac = match vacation.as_ref().map(|v| v.get(&t, row)) {
                    Some(Got::Skip) => continue 'rows,
                    Some(Got::Cell(c)) => Cell::new(join_entries(&c.text), c.at),
                    None => vacation_of(&away, &cells[0]),
                };
                let idc = match id.as_ref().map(|f| f.get(&t, row)) {
                    Some(Got::Skip) => continue 'rows,
                    Some(Got::Cell(c)) => c,
                    None => Cell::new(
                        made_id("p", &[&cells[0].text, &cells[2].text, &cells[3].text]),
                        cells[0].at.clone(),
                    ),
                };
                let mut rowv = vec![idc];
                rowv.extend(cells);
                rowv.push(vac);
                out.staff.push(rowv);
            }
        }
        Layout::Grid => grid(s, &t, &away, p, out),
    }
}

/// Vacation entries as a sheet writes them (`a; b`, `a:b`) joined by `:`.
fn join_entries(text: &str) -> String {
    text.split([':', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect::<Vec<_>>()
        .join(":")
}

fn vacation_of(away: &HashMap<String, String>, name: &Cell) -> Cell {
    Cell::new(
        away.get(&name.text).cloned().unwrap_or_default(),
        Location::section("vacations").column(name.text.clone()),
    )
}

/// The team sheet: track names across the header row, the skill in the
/// first column (carried down until the next), people in the cells.
fn grid(
    s: &map::Staff,
    t: &Table,
    away: &HashMap<String, String>,
    p: &mut Problems,
    out: &mut Conditioned,
) {
    let spec_of = |c: &Option<map::Column>| c.as_ref().map(map::Column::spec).unwrap_or_default();
    let compile = |spec: ColumnSpec, key: &str, p: &mut Problems| {
        let mut col = spec;
        col.column.get_or_insert(ColRef::Index(1));
        Field::new(&map::Column::Spec(col), t, key, p)
    };
    for key in ["id", "vacation"] {
        let set = if key == "id" {
            s.id.is_some()
        } else {
            s.vacation.is_some()
        };
        if set {
            p.error(
                &Location::section("map").column(format!("staff.{key}")),
                "is for layout = \"table\"",
            );
        }
    }
    let Some(team) =
        required(&s.team, "staff.team", p).and_then(|c| Field::new(c, t, "staff.team", p))
    else {
        return;
    };
    let (Some(skill), Some(name), Some(track)) = (
        compile(spec_of(&s.skill), "staff.skill", p),
        compile(spec_of(&s.name), "staff.name", p),
        compile(spec_of(&s.track), "staff.track", p),
    ) else {
        return;
    };
    let stop = match s.stop.as_deref().map(Regex::new) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            p.error(
                &Location::section("map").column("staff.stop"),
                format!("not a regular expression: {e}"),
            );
            return;
        }
    };
    let skill_col = match &skill.col {
        Some(Col::Index(i)) => *i,
        _ => 0,
    };
    let tracks: Vec<Option<String>> = t
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == skill_col {
                None
            } else {
                track.text(h.clone()).filter(|s| !s.is_empty())
            }
        })
        .collect();
    let mut current: Option<Cell> = None;
    for row in &t.rows {
        let raw::RowData::Cells(cells) = &row.data else {
            p.error(
                &Location::section(t.section.clone()),
                "the grid layout needs CSV or TSV",
            );
            return;
        };
        let first = cells.get(skill_col).map_or("", |c| c.trim());
        if stop.as_ref().is_some_and(|r| r.is_match(first)) {
            break;
        }
        match skill.get(t, row) {
            Got::Skip => continue,
            Got::Cell(c) if !c.text.is_empty() => current = Some(c),
            Got::Cell(_) => {}
        }
        let Got::Cell(teamc) = team.get(t, row) else {
            continue;
        };
        for (i, cell) in cells.iter().enumerate() {
            let Some(Some(trk)) = tracks.get(i) else {
                continue;
            };
            let Some(person) = name.text(cell.clone()).filter(|n| !n.is_empty()) else {
                continue;
            };
            let at = Location::section(t.section.clone())
                .line(row.line)
                .column(format!("{} ({trk})", i + 1));
            let Some(sk) = &current else {
                p.error(
                    &at.value(person),
                    "a name before any skill row (the first column names the skill)",
                );
                continue;
            };
            let namec = Cell::new(person, at.clone());
            let id = made_id("p", &[&namec.text, trk, &sk.text]);
            let vac = vacation_of(away, &namec);
            out.staff.push(vec![
                Cell::new(id, at.clone()),
                namec,
                teamc.clone(),
                Cell::new(trk.clone(), at.clone()),
                Cell::new(sk.text.clone(), sk.at.clone()),
                vac,
            ]);
        }
    }
}

fn work(map: &Map, input: &Input, p: &mut Problems, out: &mut Conditioned) {
    let w = &map.work;
    let Some(t) = table(
        input,
        &w.source,
        w.format,
        w.records.as_deref(),
        "work.source",
        p,
    ) else {
        return;
    };
    let errors = p.errors();
    let field = |c: Option<&map::Column>, key: &str, p: &mut Problems| {
        c.and_then(|c| Field::new(c, &t, key, p))
    };
    let id = field(w.id.as_ref(), "work.id", p);
    let rank = field(w.rank.as_ref(), "work.rank", p);
    let name = field(Some(&w.name), "work.name", p);
    let triage = field(w.triage.as_ref(), "work.triage", p);
    let track = field(required(&w.track, "work.track", p), "work.track", p);
    let estimate = field(w.estimate.as_ref(), "work.estimate", p);
    let per_skill: Vec<(String, Option<Field>)> = w
        .estimates
        .iter()
        .map(|(skill, c)| {
            (
                skill.clone(),
                Field::new(c, &t, &format!("work.estimates.{skill}"), p),
            )
        })
        .collect();
    if w.estimate.is_some() != w.estimates.is_empty() {
        p.error(
            &Location::section("map").column("work.estimate"),
            "give either `estimate` (one column) or `[work.estimates]` (a column per skill)",
        );
    }
    let (Some(name), Some(track)) = (name, track) else {
        return;
    };
    if p.errors() > errors {
        return;
    }
    let prefix = w.id_prefix.as_deref().unwrap_or("W");
    let mut order = 0u64;
    'rows: for row in &t.rows {
        let get = |f: &Field| match f.get(&t, row) {
            Got::Skip => None,
            Got::Cell(c) => Some(c),
        };
        let Some(namec) = get(&name) else { continue };
        let Some(trackc) = get(&track) else { continue };
        let opt = |f: &Option<Field>, at: &Cell| match f {
            None => Some(Cell::new("", at.at.clone())),
            Some(f) => get(f),
        };
        let Some(triagec) = opt(&triage, &namec) else {
            continue;
        };
        let est = if let Some(f) = &estimate {
            match get(f) {
                Some(c) => c,
                None => continue,
            }
        } else {
            let mut parts = Vec::new();
            let mut at = namec.at.clone();
            for (skill, f) in &per_skill {
                let Some(f) = f else { continue };
                let Some(c) = get(f) else { continue 'rows };
                if !c.text.is_empty() {
                    parts.push(format!("{skill}:{}", c.text));
                    at = c.at.clone();
                }
            }
            Cell::new(parts.join(","), at)
        };
        order += 1;
        let rankc = match &rank {
            Some(f) => match get(f) {
                Some(c) => c,
                None => continue,
            },
            None => Cell::new(order.to_string(), namec.at.clone()),
        };
        let idc = match &id {
            Some(f) => match get(f) {
                Some(c) => c,
                None => continue,
            },
            None => Cell::new(
                made_id(prefix, &[&namec.text, &trackc.text]),
                namec.at.clone(),
            ),
        };
        out.work.push(vec![idc, rankc, namec, est, triagec, trackc]);
    }
}

/// Reads conditioned v1 streams into rows for the gate (`--check`).
pub fn from_v1(input: &Input, p: &mut Problems) -> Conditioned {
    let mut out = Conditioned::default();
    let rows = |header: &str, names: &[&str], p: &mut Problems| -> Option<Vec<Vec<Cell>>> {
        let sections: Vec<&Section> = input
            .sections
            .iter()
            .filter(|s| s.header == header)
            .collect();
        if sections.is_empty() {
            return None;
        }
        let mut rows = Vec::new();
        for s in sections {
            for (i, line) in s.lines.iter().enumerate() {
                let n = s.line + 1 + i as u64;
                let Ok(text) = std::str::from_utf8(line) else {
                    p.error(&Location::section(header).line(n), "the line is not UTF-8");
                    continue;
                };
                let mut cells: Vec<Cell> = text
                    .split('\t')
                    .zip(names)
                    .enumerate()
                    .map(|(j, (f, name))| {
                        Cell::new(
                            f,
                            Location::section(header)
                                .line(n)
                                .column(format!("{} ({name})", j + 1)),
                        )
                    })
                    .collect();
                if cells.len() < names.len() {
                    let optional =
                        names.len() - cells.len() == 1 && (header == STAFF || header == WORK);
                    if !optional {
                        p.error(
                            &Location::section(header).line(n),
                            format!(
                                "{} columns, expected {} ({})",
                                cells.len(),
                                names.len(),
                                names.join(", ")
                            ),
                        );
                        continue;
                    }
                    let last = names.len();
                    cells.push(Cell::new(
                        "",
                        Location::section(header)
                            .line(n)
                            .column(format!("{last} ({})", names[last - 1])),
                    ));
                }
                rows.push(cells);
            }
        }
        Some(rows)
    };
    match rows(PARAMS, &["start", "end", "skills"], p) {
        Some(mut r) if r.len() == 1 => out.params = r.remove(0),
        Some(r) if !r.is_empty() => p.error(
            &Location::section(PARAMS),
            format!("{} lines, expected one", r.len()),
        ),
        _ => p.error(
            &Location::section(PARAMS),
            "the section is missing or empty",
        ),
    }
    if let Some(r) = rows(HOLIDAYS, &["date"], p) {
        out.holidays = r.into_iter().flatten().collect();
    }
    match rows(
        STAFF,
        &["id", "name", "team", "track", "skill", "vacation"],
        p,
    ) {
        Some(r) => out.staff = r,
        None => p.error(&Location::section(STAFF), "the section is missing"),
    }
    match rows(
        WORK,
        &["id", "rank", "name", "estimate", "triage", "track"],
        p,
    ) {
        Some(r) => out.work = r,
        None => p.error(&Location::section(WORK), "the section is missing"),
    }
    gate::check(&out, p);
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAP: &str = r#"
[params]
start = "2013-10-07"
end = { source = "staff", column = 2 }
skills = "Apps:Web"
[holidays]
source = "work"
column = 1
[staff]
source = "staff"
layout = "grid"
team = { value = "T" }
stop = "^x"
[work]
source = "work"
name = 1
rank = 2
estimate = { column = 3, skip = ["^$"] }
track = 4
"#;

    fn section(header: &str, lines: &[String]) -> Section {
        Section {
            header: header.into(),
            line: 1,
            lines: lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
        }
    }

    proptest! {
        #[test]
        fn arbitrary_csv_never_panics(
            staff in proptest::collection::vec("[a-zA-Z0-9 ,\"\t:.()-]{0,30}", 0..6),
            work in proptest::collection::vec("[a-zA-Z0-9 ,\":.-]{0,30}", 0..6),
            grid in any::<bool>(),
        ) {
            let map = map::parse(&MAP.replace("\"grid\"", if grid { "\"grid\"" } else { "\"table\"" }), "m").unwrap();
            let input = Input {
                sections: vec![section("raw staff", &staff), section("raw work", &work)],
            };
            let mut p = Problems::default();
            let data = condition(&map, &input, &mut p);
            if p.errors() == 0 {
                let mut out = Vec::new();
                write(&mut out, &data, None).unwrap();
                let mut again = Problems::default();
                let sections = crate::stream::read_sections(&mut crate::stream::Reader::new(out.as_slice())).unwrap();
                from_v1(&Input { sections }, &mut again);
                prop_assert_eq!(again.errors(), 0, "{:?}", again.list);
            }
        }
    }
}
