//! The team-sheet layout of the staff (`layout = "grid"`): track names
//! across the header row, the skill in the first column (carried down until
//! the next), people's names in the cells. Rows from the one matching `stop`
//! on are left out, by that rule.

use regex::Regex;

use super::cell::{cell_of, made_id, required, Away};
use super::column::Compiled;
use super::gate::{Cell, Conditioned, Outcome, Problems, Tally};
use super::map::{self, ColRef, ColumnSpec};
use super::raw::{self, Col, Table};
use crate::error::Location;

/// A column of the header row: the track it names, or why it names none.
enum Head {
    /// The skill column.
    Skill,
    Track(String),
    /// The track column's `skip` rule matched the header: names under it
    /// are left out by that rule.
    Skipped,
    /// A blank header cell: a name under it is reported.
    Blank,
}

pub(super) fn staff(
    s: &map::StaffTable,
    t: &Table,
    away: &mut Away,
    p: &mut Problems,
    out: &mut Conditioned,
) {
    let spec_of = |c: &Option<map::Column>| c.as_ref().map(map::Column::spec).unwrap_or_default();
    let compile = |spec: ColumnSpec, key: &str, p: &mut Problems| {
        let mut col = spec;
        col.column.get_or_insert(ColRef::Index(1));
        Compiled::new(&map::Column::Spec(col), t, key, p)
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
        required(&s.team, "staff.team", p).and_then(|c| Compiled::new(c, t, "staff.team", p))
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
    let heads: Vec<Head> = t
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == skill_col {
                Head::Skill
            } else {
                match track.text(h.clone()) {
                    None => Head::Skipped,
                    Some(s) if s.is_empty() => Head::Blank,
                    Some(s) => Head::Track(s),
                }
            }
        })
        .collect();
    let mut tally = Tally::new(&t.section, "staff", t.blank_rows);
    let mut current: Option<Cell> = None;
    let mut stopped = false;
    for row in &t.rows {
        let raw::RowData::Cells(cells) = &row.data else {
            p.error(
                &Location::section(t.section.clone()),
                "the grid layout needs CSV or TSV",
            );
            return;
        };
        let first = cells.get(skill_col).map_or("", |c| c.trim());
        stopped = stopped || stop.as_ref().is_some_and(|r| r.is_match(first));
        if stopped {
            tally.count(Outcome::Skipped("staff.stop".into()));
            continue;
        }
        let mut set_skill = false;
        match skill.get(row) {
            super::column::Got::Skip => {
                tally.count(Outcome::Skipped(skill.skip_rule()));
                continue;
            }
            super::column::Got::Cell(c) if !c.text.is_empty() => {
                current = Some(c);
                set_skill = true;
            }
            // A short row has no skill cell: the skill carries down.
            super::column::Got::Cell(_) | super::column::Got::Missing { .. } => {}
        }
        let teamc = match cell_of(&team, t, row, p) {
            Ok(c) => c,
            Err(o) => {
                tally.count(o);
                continue;
            }
        };
        let (mut people, mut reported, mut skipped) = (0, 0, None);
        for (i, cell) in cells.iter().enumerate() {
            if i == skill_col || cell.trim().is_empty() {
                continue;
            }
            let at = Location::section(t.section.clone())
                .line(row.line)
                .column((i + 1).to_string());
            // A cell the name rules leave out is left out wherever it is.
            let Some(person) = name.text(cell.to_owned()).filter(|n| !n.is_empty()) else {
                skipped = Some(name.skip_rule());
                continue;
            };
            let trk = match heads.get(i) {
                Some(Head::Track(trk)) => trk,
                Some(Head::Skill) => continue,
                Some(Head::Skipped) => {
                    skipped = Some(track.skip_rule());
                    continue;
                }
                Some(Head::Blank) | None => {
                    p.error(
                        &at.value(person),
                        "a name under a column with no track in the header row",
                    );
                    reported += 1;
                    continue;
                }
            };
            let at = Location::section(t.section.clone())
                .line(row.line)
                .column(format!("{} ({trk})", i + 1));
            let Some(sk) = &current else {
                p.error(
                    &at.value(person),
                    "a name before any skill row (the first column names the skill)",
                );
                reported += 1;
                continue;
            };
            let namec = Cell::new(person, at.clone());
            let id = made_id("p", &[&namec.text, trk, &sk.text]);
            let vac = away.of(&namec);
            out.staff.push(vec![
                Cell::new(id, at.clone()),
                namec,
                teamc.clone(),
                Cell::new(trk.clone(), at.clone()),
                Cell::new(sk.text.clone(), sk.at.clone()),
                vac,
            ]);
            people += 1;
        }
        tally.count(if reported > 0 {
            Outcome::Reported
        } else if people > 0 || set_skill {
            Outcome::Used(row.line)
        } else {
            Outcome::Skipped(skipped.unwrap_or_else(|| "staff.name".into()))
        });
    }
    p.tallies.push(tally);
}
