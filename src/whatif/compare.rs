//! Several scenarios against one baseline (`qwhatif compare`): per
//! scenario and track, the items done, the items DNF, the total shortage
//! per skill and the latest date.
//!
//! The scenarios are computed from the one input read, each through the
//! same engine; only their table rows are kept.

use chrono::NaiveDate;
use indicatif::ProgressBar;
use serde::Serialize;

use super::apply;
use super::lang::Located;
use crate::error::Result;
use crate::model::amount::Amount;
use crate::plan::{compute, Input, Results};

/// One scenario's figures in one track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub scenario: String,
    pub track: String,
    /// Items with a date.
    pub done: usize,
    pub dnf: usize,
    /// Per skill (of [`Table::skills`]): the sum of the items' shortages
    /// (negative, or zero).
    pub short: Vec<Amount>,
    /// The latest dev-complete date of the track's items; `None` when none
    /// finishes.
    #[serde(serialize_with = "iso")]
    pub latest: Option<NaiveDate>,
}

/// A date as ISO text in JSON (`null` when none).
fn iso<S: serde::Serializer>(d: &Option<NaiveDate>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

/// The table of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The skills of every scenario, sorted.
    pub skills: Vec<String>,
    pub rows: Vec<Row>,
}

/// The rows of one scenario's results, one per track, with the shortage
/// totals per skill of these results (`r.skills`).
fn rows(name: &str, r: &Results) -> Vec<Row> {
    r.tracks
        .iter()
        .zip(&r.work)
        .map(|(track, list)| {
            let mut short = vec![Amount::ZERO; r.skills.len()];
            let (mut done, mut dnf, mut latest) = (0, 0, None);
            for row in list {
                match row.done {
                    Some(d) => {
                        done += 1;
                        latest = latest.max(Some(d));
                    }
                    None => dnf += 1,
                }
                for &(k, a) in r.shortage(row) {
                    let total = &mut short[k as usize];
                    *total = Amount::from_units(total.units().saturating_add(a.units()));
                }
            }
            Row {
                scenario: name.to_owned(),
                track: track.clone(),
                done,
                dnf,
                short,
                latest,
            }
        })
        .collect()
}

/// The baseline and every named scenario, each applied to `base` and
/// computed. Every script is applied before anything is computed, so a
/// script that names nothing stops the comparison at once. Results are
/// computed two at a time (side by side on two threads) and let go once
/// their rows are taken. `bar` counts the plans computed (the baseline
/// and each scenario); the command's is drawn on a terminal only.
pub fn compare(
    base: Input,
    scenarios: &[(String, Vec<Located>)],
    bar: &ProgressBar,
) -> Result<Table> {
    let inputs: Vec<Input> = scenarios
        .iter()
        .map(|(_, changes)| apply(&base, changes))
        .collect::<Result<_>>()?;
    let names = std::iter::once("baseline").chain(scenarios.iter().map(|(n, _)| n.as_str()));
    let mut all: Vec<Input> = Vec::with_capacity(inputs.len() + 1);
    all.push(base);
    all.extend(inputs);
    // Each scenario's rows, with the skills their totals are in.
    let mut parts: Vec<(Vec<String>, Vec<Row>)> = Vec::with_capacity(all.len());
    let mut names = names;
    let mut it = all.into_iter();
    let mut take = |r: Results, name: Option<&str>| {
        let rows = rows(name.unwrap_or(""), &r);
        parts.push((r.skills.clone(), rows));
        bar.inc(1);
    };
    loop {
        match (it.next(), it.next()) {
            (None, _) => break,
            (Some(a), None) => take(compute(a)?, names.next()),
            (Some(a), Some(b)) => {
                let (ra, rb) = super::compute_both(a, b)?;
                take(ra, names.next());
                take(rb, names.next());
            }
        }
    }
    let mut skills: Vec<String> = parts.iter().flat_map(|(k, _)| k.iter().cloned()).collect();
    skills.sort();
    skills.dedup();
    let mut table = Vec::new();
    for (own, rows) in parts {
        let col: Vec<usize> = own
            .iter()
            .map(|k| skills.iter().position(|s| s == k).unwrap_or(0))
            .collect();
        table.extend(rows.into_iter().map(|mut row| {
            let mut short = vec![Amount::ZERO; skills.len()];
            for (k, a) in row.short.iter().enumerate() {
                short[col[k]] = *a;
            }
            row.short = short;
            row
        }));
    }
    Ok(Table {
        skills,
        rows: table,
    })
}

impl Table {
    /// The cells of the table, a header row first.
    fn cells(&self) -> Vec<Vec<String>> {
        let mut head: Vec<String> = ["scenario", "track", "done", "DNF"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        head.extend(self.skills.iter().map(|k| format!("short {k}")));
        head.push("latest".into());
        let mut out = vec![head];
        for r in &self.rows {
            let mut line = vec![
                r.scenario.clone(),
                r.track.clone(),
                r.done.to_string(),
                r.dnf.to_string(),
            ];
            line.extend(r.short.iter().map(|a| a.to_string()));
            line.push(r.latest.map_or("-".into(), |d| d.to_string()));
            out.push(line);
        }
        out
    }

    /// The table aligned in columns (numbers to the right).
    pub fn text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // Names are shown with their control characters escaped.
        let cells: Vec<Vec<String>> = self
            .cells()
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|c| crate::cli::visible::visible(&c).into_owned())
                    .collect()
            })
            .collect();
        let n = cells.first().map_or(0, Vec::len);
        let widths: Vec<usize> = (0..n)
            .map(|c| {
                cells
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &cells {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c > 0 {
                    line.push_str("  ");
                }
                if c < 2 {
                    line.push_str(cell);
                    if c + 1 < n {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                } else {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// The table as CSV, cells a spreadsheet would run as formulas
    /// neutralised unless `raw` ([`crate::cli::visible::csv_cell`]).
    pub fn csv(&self, raw: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        for row in self.cells() {
            let row: Vec<String> = row
                .iter()
                .map(|c| crate::cli::visible::csv_cell(c, raw).into_owned())
                .collect();
            w.write_record(&row).map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(e) => e,
                other => std::io::Error::other(format!("{other:?}")),
            })?;
        }
        w.flush()
    }

    /// The table as one JSON document.
    pub fn json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
}
