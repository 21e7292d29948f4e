//! The pieces the table and grid layouts share: a cell of a row, a required
//! column of the map, a row's stable id, and who is away (vacations).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::column::{Compiled, Got};
use super::gate::{Cell, Outcome, Problems, Tally};
use super::map;
use super::raw::{RawRow, Table};
use crate::error::Location;

/// A stable id from a row's identity (its name and track), not its place.
pub(crate) fn made_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

/// What one column makes of a row, as the row's outcome when it is not a
/// cell: skipped by the column's rule, or reported (a column past the end
/// of the row).
pub(crate) fn cell_of(
    f: &Compiled,
    t: &Table,
    row: &RawRow,
    p: &mut Problems,
) -> Result<Cell, Outcome> {
    match f.get(row) {
        Got::Cell(c) => Ok(c),
        Got::Skip => Err(Outcome::Skipped(f.skip_rule())),
        Got::Missing { width } => {
            p.error(
                &f.location(t, row),
                format!(
                    "map key {}: the row has {width} cell{}, so it has no such column",
                    f.key,
                    if width == 1 { "" } else { "s" }
                ),
            );
            Err(Outcome::Reported)
        }
    }
}

/// `[staff.vacations]`: the vacation rows by person name, each name's
/// entries joined by `:`, with the rows they came from so that a name no
/// one in the staff has is reported on its own lines.
#[derive(Default)]
pub struct Away {
    pub(super) by_name: HashMap<String, Vacation>,
    /// The rows read, to count once the staff is known.
    pub(super) tally: Option<Tally>,
}

#[derive(Default)]
pub(super) struct Vacation {
    pub(super) entries: String,
    /// The name cell of each row naming this person.
    pub(super) rows: Vec<Cell>,
    /// Where the first row's dates are: the person's vacation is told of
    /// there (a date outside the plan, say).
    pub(super) dates_at: Option<super::gate::CellAt>,
    pub(super) taken: bool,
}

impl Away {
    /// The vacation of a person of the staff, marking the name as found.
    pub fn of(&mut self, name: &Cell) -> Cell {
        match self.by_name.get_mut(&name.text) {
            Some(v) => {
                v.taken = true;
                let at = v.dates_at.clone().unwrap_or_default();
                Cell {
                    text: v.entries.clone(),
                    at,
                }
            }
            None => Cell::new(
                String::new(),
                Location::section("vacations").column(name.text.clone()),
            ),
        }
    }

    /// Vacation rows naming no one in the staff are errors: that person's
    /// vacation would be lost and their supply overstated.
    pub(super) fn finish(mut self, p: &mut Problems) {
        let Some(mut tally) = self.tally.take() else {
            return;
        };
        let mut rows: Vec<(bool, &Cell)> = self
            .by_name
            .values()
            .flat_map(|v| v.rows.iter().map(move |c| (v.taken, c)))
            .collect();
        rows.sort_by_key(|(_, c)| c.at.line);
        for (taken, c) in rows {
            if taken {
                tally.count(Outcome::Used(c.at.line.unwrap_or(0)));
            } else {
                p.bad(
                    c,
                    "no one of this name in the staff; their vacation would be lost",
                );
                tally.count(Outcome::Reported);
            }
        }
        p.tallies.push(tally);
    }
}

pub(crate) fn required<'m>(
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
