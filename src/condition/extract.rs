//! Extraction: each table of the map (params, holidays, staff, work) reads
//! its raw section row by row into conditioned rows. Every row read is
//! accounted for in a [`Tally`]: it becomes data, is skipped by a rule the
//! map names (`skip`, `stop`), or is reported, naming its line.

use super::cell::{cell_of, made_id, required, Away};
use super::column::Compiled;
use super::gate::{self, Cell, Conditioned, Outcome, Problems, Tally};
use super::map::{self, Format, Layout, Map, Value};
use super::raw::{RawRow, Table};
use super::{grid, RawStream};
use crate::error::Location;

/// Conditions raw sections with a map. Problems (errors and warnings) and
/// the tallies of rows are collected in `p`; the result is only to be
/// written when there are no errors. The input is let go once read, before
/// the rows are checked.
pub fn condition(map: &Map, input: RawStream, p: &mut Problems) -> Conditioned {
    twice(map, &input, p);
    let mut out = Conditioned {
        params: params(map, &input, p),
        ..Conditioned::default()
    };
    holidays(map, &input, p, &mut out);
    staff(map, &input, p, &mut out);
    work(map, &input, p, &mut out);
    drop(input);
    if p.errors() == 0 {
        gate::check(&out, p);
    }
    out
}

/// A raw section the map reads that appears more than once (concatenated
/// streams) is an error: which one to read would be a guess.
fn twice(map: &Map, input: &RawStream, p: &mut Problems) {
    let mut sources: Vec<&str> = vec![&map.staff.source, &map.work.source];
    sources.extend(map.holidays.source.as_deref());
    sources.extend(map.staff.vacations.as_ref().map(|v| v.source.as_str()));
    for v in [&map.params.start, &map.params.end, &map.params.skills] {
        if let Value::From(f) = v {
            sources.push(&f.source);
        }
    }
    sources.sort_unstable();
    sources.dedup();
    for source in sources {
        let found = input.raw(source);
        if let [first, again @ ..] = found.as_slice() {
            for s in again {
                p.error(
                    &Location::section(s.header.clone()).line(s.line),
                    format!(
                        "the section appears again (first on line {}); \
                         the map reads one section per source",
                        first.line
                    ),
                );
            }
        }
    }
}

fn table(
    input: &RawStream,
    source: &str,
    format: Option<Format>,
    records: Option<&str>,
    key: &str,
    p: &mut Problems,
) -> Option<Table> {
    let Some(section) = input.raw(source).first().copied() else {
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

/// A CSV/TSV row shorter than the header row has lost cells (a cut line,
/// a missing separator): reported rather than read as empty cells.
pub(crate) fn short_row(t: &Table, row: &RawRow, p: &mut Problems) -> bool {
    match Table::width(row) {
        Some(w) if w < t.headers.len() => {
            p.error(
                &Location::section(t.section.clone()).line(row.line),
                format!(
                    "the row has {w} cell{} where the header row (line {}) has {}",
                    if w == 1 { "" } else { "s" },
                    t.header_line,
                    t.headers.len()
                ),
            );
            true
        }
        _ => false,
    }
}

fn params(map: &Map, input: &RawStream, p: &mut Problems) -> Vec<Cell> {
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
                if let (super::raw::Col::Index(i), Some(w)) = (&col, Table::width(row)) {
                    if *i >= w {
                        p.error(
                            &Location::section(t.section.clone())
                                .line(row.line)
                                .column(from.column.to_string()),
                            format!("map key params.{key}: the row has {w} cells, so it has no such column"),
                        );
                        continue;
                    }
                }
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

fn holidays(map: &Map, input: &RawStream, p: &mut Problems, out: &mut Conditioned) {
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
            let Some(f) = Compiled::new(column, &t, "holidays.column", p) else {
                return;
            };
            let mut tally = Tally::new(&t.section, "holidays", t.blank_rows);
            for row in &t.rows {
                let outcome = if short_row(&t, row, p) {
                    Outcome::Reported
                } else {
                    match cell_of(&f, &t, row, p) {
                        Err(o) => o,
                        Ok(c) if c.text.is_empty() => {
                            p.warn(
                                &c.at.location(),
                                "no date in this row of the holidays; the row is left out",
                            );
                            Outcome::Reported
                        }
                        Ok(c) => {
                            out.holidays.push(c);
                            Outcome::Used(row.line)
                        }
                    }
                };
                tally.count(outcome);
            }
            p.tallies.push(tally);
        }
        (None, None) => {}
        _ => p.error(
            &Location::section("map").column("holidays"),
            "holidays from a raw section need both `source` and `column`",
        ),
    }
}

fn vacations(map: &Map, input: &RawStream, p: &mut Problems) -> Away {
    let mut away = Away::default();
    let Some(v) = &map.staff.vacations else {
        return away;
    };
    if map.staff.vacation.is_some() {
        p.error(
            &Location::section("map").column("staff.vacations"),
            "give either `staff.vacation` (a column of the staff) or [staff.vacations] (a sheet of its own), not both",
        );
    }
    let Some(t) = table(
        input,
        &v.source,
        v.format,
        None,
        "staff.vacations.source",
        p,
    ) else {
        return away;
    };
    let (Some(name), Some(dates)) = (
        Compiled::new(&v.name, &t, "staff.vacations.name", p),
        Compiled::new(&v.dates, &t, "staff.vacations.dates", p),
    ) else {
        return away;
    };
    let mut tally = Tally::new(&t.section, "staff.vacations", t.blank_rows);
    for row in &t.rows {
        if short_row(&t, row, p) {
            tally.count(Outcome::Reported);
            continue;
        }
        let (n, d) = match (cell_of(&name, &t, row, p), cell_of(&dates, &t, row, p)) {
            (Ok(n), Ok(d)) => (n, d),
            (Err(o), _) | (_, Err(o)) => {
                tally.count(o);
                continue;
            }
        };
        // Each entry read here, so that a bad date names its own row of
        // the vacation sheet (joined with the others, it would not).
        let parts: Vec<&str> = d
            .text
            .split([':', ';'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let bad: Vec<String> = parts
            .iter()
            .filter_map(|e| {
                crate::rules::fields::parse_vacation(e)
                    .err()
                    .map(|m| format!("vacation {e:?}: {m}"))
            })
            .collect();
        if !bad.is_empty() {
            for m in bad {
                p.bad(&d, m);
            }
            tally.count(Outcome::Reported);
            continue;
        }
        let entry = away.by_name.entry(n.text.clone()).or_default();
        if entry.dates_at.is_none() {
            entry.dates_at = Some(d.at.clone());
        }
        for part in parts {
            if !entry.entries.is_empty() {
                entry.entries.push(':');
            }
            entry.entries.push_str(part);
        }
        // Counted once the staff is known.
        entry.rows.push(n);
    }
    away.tally = Some(tally);
    away
}

fn staff(map: &Map, input: &RawStream, p: &mut Problems, out: &mut Conditioned) {
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
    let mut away = vacations(map, input, p);
    match s.layout {
        Layout::Table => staff_table(s, &t, &mut away, p, out),
        Layout::Grid => grid::staff(s, &t, &mut away, p, out),
    }
    away.finish(p);
}

fn staff_table(
    s: &map::StaffTable,
    t: &Table,
    away: &mut Away,
    p: &mut Problems,
    out: &mut Conditioned,
) {
    let errors = p.errors();
    let field = |c: Option<&map::Column>, key: &str, p: &mut Problems| {
        c.and_then(|c| Compiled::new(c, t, key, p))
    };
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
    let (Some(name), Some(team), Some(track), Some(skill)) = (name, team, track, skill) else {
        return;
    };
    if p.errors() > errors {
        return;
    }
    let mut tally = Tally::new(&t.section, "staff", t.blank_rows);
    for row in &t.rows {
        let outcome = staff_row(
            t,
            row,
            [&name, &team, &track, &skill],
            id.as_ref(),
            vacation.as_ref(),
            away,
            p,
        );
        match outcome {
            Ok(r) => {
                out.staff.push(r);
                tally.count(Outcome::Used(row.line));
            }
            Err(o) => tally.count(o),
        }
    }
    p.tallies.push(tally);
}

fn staff_row(
    t: &Table,
    row: &RawRow,
    fields: [&Compiled; 4],
    id: Option<&Compiled>,
    vacation: Option<&Compiled>,
    away: &mut Away,
    p: &mut Problems,
) -> Result<Vec<Cell>, Outcome> {
    if short_row(t, row, p) {
        return Err(Outcome::Reported);
    }
    let mut cells = Vec::with_capacity(6);
    for f in fields {
        cells.push(cell_of(f, t, row, p)?);
    }
    let vac = match vacation {
        Some(v) => {
            let c = cell_of(v, t, row, p)?;
            Cell::new(join_entries(&c.text), c.at)
        }
        None => away.of(&cells[0]),
    };
    let idc = match id {
        Some(f) => cell_of(f, t, row, p)?,
        None => Cell::new(
            made_id("p", &[&cells[0].text, &cells[2].text, &cells[3].text]),
            cells[0].at.clone(),
        ),
    };
    let mut r = vec![idc];
    r.extend(cells);
    r.push(vac);
    Ok(r)
}

/// Vacation entries as a sheet writes them (`a; b`, `a:b`) joined by `:`.
fn join_entries(text: &str) -> String {
    text.split([':', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect::<Vec<_>>()
        .join(":")
}

fn work(map: &Map, input: &RawStream, p: &mut Problems, out: &mut Conditioned) {
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
        c.and_then(|c| Compiled::new(c, &t, key, p))
    };
    let id = field(w.id.as_ref(), "work.id", p);
    let rank = field(w.rank.as_ref(), "work.rank", p);
    let name = field(Some(&w.name), "work.name", p);
    let triage = field(w.triage.as_ref(), "work.triage", p);
    let track = field(required(&w.track, "work.track", p), "work.track", p);
    let estimate = field(w.estimate.as_ref(), "work.estimate", p);
    let per_skill: Vec<(String, Option<Compiled>)> = w
        .estimates
        .iter()
        .map(|(skill, c)| {
            (
                skill.clone(),
                Compiled::new(c, &t, &format!("work.estimates.{skill}"), p),
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
    let cols = WorkColumns {
        id: id.as_ref(),
        rank: rank.as_ref(),
        name: &name,
        triage: triage.as_ref(),
        track: &track,
        estimate: estimate.as_ref(),
        per_skill: &per_skill,
        prefix: w.id_prefix.as_deref().unwrap_or("W"),
    };
    let mut tally = Tally::new(&t.section, "work", t.blank_rows);
    let mut order = 0u64;
    for row in &t.rows {
        match work_row(&t, row, &cols, &mut order, p) {
            Ok(r) => {
                out.work.push(r);
                tally.count(Outcome::Used(row.line));
            }
            Err(o) => tally.count(o),
        }
    }
    p.tallies.push(tally);
}

struct WorkColumns<'a> {
    id: Option<&'a Compiled>,
    rank: Option<&'a Compiled>,
    name: &'a Compiled,
    triage: Option<&'a Compiled>,
    track: &'a Compiled,
    estimate: Option<&'a Compiled>,
    per_skill: &'a [(String, Option<Compiled>)],
    prefix: &'a str,
}

fn work_row(
    t: &Table,
    row: &RawRow,
    c: &WorkColumns,
    order: &mut u64,
    p: &mut Problems,
) -> Result<Vec<Cell>, Outcome> {
    if short_row(t, row, p) {
        return Err(Outcome::Reported);
    }
    let namec = cell_of(c.name, t, row, p)?;
    let trackc = cell_of(c.track, t, row, p)?;
    let triagec = match c.triage {
        // No triage column in the map: every item is triage 3, said so in
        // the output rather than left blank (a blank cell is a warning).
        None => Cell::new("3", namec.at.clone()),
        Some(f) => cell_of(f, t, row, p)?,
    };
    let est = match c.estimate {
        Some(f) => cell_of(f, t, row, p)?,
        None => {
            let mut parts = Vec::new();
            let mut at = namec.at.clone();
            for (skill, f) in c.per_skill {
                let Some(f) = f else { continue };
                let cell = cell_of(f, t, row, p)?;
                if !cell.text.is_empty() {
                    parts.push(format!("{skill}:{}", cell.text));
                    at = cell.at.clone();
                }
            }
            Cell::new(parts.join(","), at)
        }
    };
    *order += 1;
    let rankc = match c.rank {
        Some(f) => cell_of(f, t, row, p)?,
        None => Cell::new(order.to_string(), namec.at.clone()),
    };
    let idc = match c.id {
        Some(f) => cell_of(f, t, row, p)?,
        None => Cell::new(
            made_id(c.prefix, &[&namec.text, &trackc.text]),
            namec.at.clone(),
        ),
    };
    Ok(vec![idc, rankc, namec, est, triagec, trackc])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::{check, map, output};
    use crate::stream::Section;
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
            let input = RawStream {
                sections: vec![section("raw staff", &staff), section("raw work", &work)],
            };
            let mut p = Problems::default();
            let data = condition(&map, input, &mut p);
            // Every row read is accounted for.
            for t in &p.tallies {
                prop_assert_eq!(t.read, t.used + t.reported + t.skipped.values().sum::<u64>(), "{}", t);
            }
            if p.errors() == 0 {
                let mut out = Vec::new();
                output::write(&mut out, &data, None).unwrap();
                let mut again = Problems::default();
                check::check(&out, &mut again).unwrap();
                prop_assert_eq!(again.errors(), 0, "{:?}", again.list);
            }
        }
    }
}
