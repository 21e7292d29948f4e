//! The column compiler: a column of the map (`name = "Summary"`,
//! `estimate = { column = 4, skip = ["^$"] }`) bound to the table it reads,
//! with its rules (trim, skip, rename, default) ready to apply to each row.

use regex::Regex;

use std::rc::Rc;

use super::gate::{Cell, CellAt, Place, Problems};
use super::map::{self, ColumnSpec};
use super::raw::{Col, RawRow, Table};
use crate::error::Location;

/// A map column compiled against its table.
pub struct Compiled {
    pub col: Option<Col>,
    /// The map key it comes from (`work.estimate`), naming its rules in
    /// `-v` and in messages.
    pub key: String,
    /// How the column is named in messages.
    name: String,
    /// Where its cells are: the table's section, the column's name.
    place: Rc<Place>,
    spec: ColumnSpec,
    skip: Vec<Regex>,
}

/// What a compiled column makes of a row.
pub enum Got {
    /// The column's `skip` rule matched: the row is left out, by rule.
    Skip,
    /// The column's index is past the end of this row (a short or cut row).
    Missing {
        width: usize,
    },
    Cell(Cell),
}

impl Compiled {
    /// Compiles a column; problems go to `p` with the map key they are at.
    pub fn new(column: &map::Column, table: &Table, key: &str, p: &mut Problems) -> Option<Self> {
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
        // A column number past the header row would read nothing from
        // every row: a mistake in the map, not empty data.
        if let Some(Col::Index(i)) = col {
            if !table.headers.is_empty() && i >= table.headers.len() {
                p.error(
                    &Location::section(table.section.clone())
                        .line(table.header_line)
                        .column(key.to_owned()),
                    format!(
                        "map key {key}: column {} is past the end of the header row ({} columns)",
                        i + 1,
                        table.headers.len()
                    ),
                );
                return None;
            }
        }
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
        Some(Compiled {
            col,
            key: key.to_owned(),
            place: Rc::new(Place {
                section: Some(table.section.clone()),
                column: Some(name.clone()),
            }),
            name,
            spec,
            skip,
        })
    }

    /// The rule that leaves a row out when this column skips it.
    pub fn skip_rule(&self) -> String {
        format!("{}.skip", self.key)
    }

    pub fn location(&self, table: &Table, row: &RawRow) -> Location {
        Location::section(table.section.clone())
            .line(row.line)
            .column(self.name.clone())
    }

    /// A cell's text with the column's rules applied; `None` when a `skip`
    /// rule matches.
    pub fn text(&self, raw: String) -> Option<String> {
        let mut text = match super::raw::trim(&raw) {
            // Most cells have nothing to trim: keep their allocation.
            t if t.len() < raw.len() && self.spec.trim.unwrap_or(true) => t.to_owned(),
            _ => raw,
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

    pub fn get(&self, row: &RawRow) -> Got {
        let raw = match (&self.col, &self.spec.value) {
            (Some(col), _) => {
                if let (Col::Index(i), Some(width)) = (col, Table::width(row)) {
                    if *i >= width {
                        return Got::Missing { width };
                    }
                }
                Table::cell(row, col)
            }
            (None, Some(v)) => v.clone(),
            (None, None) => String::new(),
        };
        match self.text(raw) {
            None => Got::Skip,
            Some(t) => Got::Cell(Cell::new(
                t,
                CellAt {
                    place: self.place.clone(),
                    line: Some(row.line),
                },
            )),
        }
    }
}
