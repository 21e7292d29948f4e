//! The formats of a what-if: the scenario's results streams followed by
//! `qwhatif changes v1` and `qwhatif diff v1`; a text report (a banner,
//! the summary of what moved, then qplan's report of the scenario); one
//! JSON document; the diff as CSV.

use std::io::{self, Write};

use serde::Serialize;

use super::diff::{date_text, shortage_text, supply_demand, tally, Moved, Tally};
use super::{based_on, WhatIf, CHANGES, DIFF};
use crate::cli::visible::{csv_cell, visible};
use crate::model::amount::Amount;
use crate::report::render::{self as plan_render, View};
use crate::stream::Writer;

/// How many changed items the text report lists (the stream and CSV list
/// them all).
const TEXT_ITEMS: usize = 40;

/// A diff line: id, name, list (`All` or a track), before, after (a date,
/// `DNF`, or `-` when not in that plan), then the shortages before and
/// after.
pub fn diff_fields(m: &Moved) -> [String; 7] {
    [
        m.id.clone(),
        m.name.clone(),
        m.list.clone(),
        date_text(m.before.as_ref()),
        date_text(m.after.as_ref()),
        shortage_text(m.before.as_ref()),
        shortage_text(m.after.as_ref()),
    ]
}

/// The scenario's results streams, then the changes and the diff, then
/// `=====end`.
pub fn stream(w: &WhatIf, out: &mut dyn Write) -> io::Result<()> {
    // The results end with the end marker; the what-if sections go before
    // it, so that the whole is one stream.
    let mut held = HoldEnd {
        out: &mut *out,
        tail: Vec::new(),
    };
    w.scenario.write_stream(&mut held)?;
    if held.tail != END {
        let tail = std::mem::take(&mut held.tail);
        out.write_all(&tail)?;
    }
    let mut wr = Writer::new(out);
    wr.section(0, CHANGES, w.changes.iter().map(|c| c.change.to_string()))?;
    wr.header(0, DIFF)?;
    for m in &w.diff {
        wr.fields(0, diff_fields(m).iter())?;
    }
    wr.end()
}

const END: &[u8] = b"=====end\n";

/// Passes everything on but the last bytes (as many as the end marker
/// has), so that a stream's end marker can be left out without holding
/// the stream.
struct HoldEnd<'a> {
    out: &'a mut dyn Write,
    tail: Vec<u8>,
}

impl Write for HoldEnd<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.len() >= END.len() {
            self.out.write_all(&self.tail)?;
            self.tail.clear();
            let (pass, keep) = buf.split_at(buf.len() - END.len());
            self.out.write_all(pass)?;
            self.tail.extend_from_slice(keep);
        } else {
            self.tail.extend_from_slice(buf);
            let over = self.tail.len().saturating_sub(END.len());
            if over > 0 {
                self.out.write_all(&self.tail[..over])?;
                self.tail.drain(..over);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// `+2.5`, `-1`, `0`.
fn signed(a: Amount) -> String {
    if a.is_positive() {
        format!("+{a}")
    } else {
        a.to_string()
    }
}

/// Left-aligned columns, two spaces apart.
fn table(rows: &[Vec<String>], indent: &str, out: &mut dyn Write) -> io::Result<()> {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    // Names are shown with their control characters escaped.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| visible(c).into_owned()).collect())
        .collect();
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in &rows {
        let mut line = String::from(indent);
        for (c, cell) in r.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if c + 1 < r.len() {
                line.extend(std::iter::repeat_n(' ', widths[c] - cell.chars().count()));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// One list's movement in words.
fn tally_text(t: &Tally) -> String {
    let mut parts = Vec::new();
    let mut say = |n: usize, what: String| {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    };
    say(t.newly_done, "newly done".into());
    say(t.newly_dnf, "newly DNF".into());
    say(
        t.earlier,
        format!("earlier (by up to {} days)", t.most_earlier),
    );
    say(t.later, format!("later (by up to {} days)", t.most_later));
    say(t.short_appear, "newly short".into());
    say(t.short_vanish, "no longer short".into());
    say(t.added, "added".into());
    say(t.dropped, "dropped".into());
    if parts.is_empty() {
        "no item moves".into()
    } else {
        parts.join(", ")
    }
}

/// The text report: a banner saying this is a what-if and what it is based
/// on, the changes, the summary of what moved, then the scenario's report.
pub fn text(w: &WhatIf, out: &mut dyn Write) -> io::Result<()> {
    let base = based_on(w.scenario.provenance.as_ref());
    writeln!(
        out,
        "WHAT-IF, not a plan of record: based on {}",
        visible(
            base.as_deref()
                .unwrap_or("input without provenance (not from the store)")
        )
    )?;
    writeln!(out)?;
    if w.changes.is_empty() {
        writeln!(out, "No changes: the scenario is the baseline.")?;
    } else {
        writeln!(out, "Changes:")?;
        for c in &w.changes {
            writeln!(out, "  {}", visible(&c.change.to_string()))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "What moves (scenario against baseline):")?;
    let tallies = tally(&w.diff);
    if tallies.is_empty() {
        writeln!(out, "  nothing: every item keeps its date and shortage")?;
    }
    for t in &tallies {
        writeln!(out, "  {}: {}", visible(&t.list), tally_text(t))?;
    }
    // The items of All (each item once), the most important first.
    let all: Vec<&Moved> = match w.scenario.tracks.first() {
        Some(all) => w.diff.iter().filter(|m| &m.list == all).collect(),
        None => Vec::new(),
    };
    if !all.is_empty() {
        writeln!(out)?;
        let mut rows = vec![vec![
            "id".to_owned(),
            "name".to_owned(),
            "before".to_owned(),
            "after".to_owned(),
            "days".to_owned(),
            "shortage before".to_owned(),
            "shortage after".to_owned(),
        ]];
        for m in all.iter().take(TEXT_ITEMS) {
            let f = diff_fields(m);
            rows.push(vec![
                f[0].clone(),
                f[1].clone(),
                f[3].clone(),
                f[4].clone(),
                m.days().map_or(String::new(), |d| format!("{d:+}")),
                f[5].clone(),
                f[6].clone(),
            ]);
        }
        table(&rows, "  ", out)?;
        if all.len() > TEXT_ITEMS {
            writeln!(
                out,
                "  … and {} more (all of them: --format stream or csv)",
                all.len() - TEXT_ITEMS
            )?;
        }
    }
    let sd = supply_demand(&w.baseline, &w.scenario);
    writeln!(out)?;
    if sd.is_empty() {
        writeln!(out, "Supply and demand: unchanged")?;
    } else {
        writeln!(
            out,
            "Supply and demand (person-weeks, scenario minus baseline):"
        )?;
        let mut rows = vec![vec![
            "track".to_owned(),
            "skill".to_owned(),
            "manpower".to_owned(),
            "demand".to_owned(),
        ]];
        for (t, k, m, d) in &sd {
            rows.push(vec![t.clone(), k.clone(), signed(*m), signed(*d)]);
        }
        table(&rows, "  ", out)?;
    }
    writeln!(out)?;
    writeln!(out, "Report of the scenario")?;
    writeln!(out, "======================")?;
    writeln!(out)?;
    plan_render::text(&w.scenario, View::default(), out)
}

#[derive(Serialize)]
struct JsonMoved<'a> {
    list: &'a str,
    id: &'a str,
    name: &'a str,
    before: String,
    after: String,
    shortage_before: String,
    shortage_after: String,
    days: Option<i64>,
}

#[derive(Serialize)]
struct JsonSupply<'a> {
    track: &'a str,
    skill: &'a str,
    manpower: Amount,
    demand: Amount,
}

#[derive(Serialize)]
struct JsonWhatIf<'a> {
    based_on: Option<String>,
    changes: Vec<String>,
    summary: Vec<JsonTally<'a>>,
    supply_demand: Vec<JsonSupply<'a>>,
    diff: Vec<JsonMoved<'a>>,
}

#[derive(Serialize)]
struct JsonTally<'a> {
    list: &'a str,
    newly_done: usize,
    newly_dnf: usize,
    earlier: usize,
    most_days_earlier: i64,
    later: usize,
    most_days_later: i64,
    newly_short: usize,
    no_longer_short: usize,
    added: usize,
    dropped: usize,
}

/// One JSON document: `{"whatif": {based_on, changes, summary,
/// supply_demand, diff}, "results": <qplan's JSON of the scenario>}`.
pub fn json(w: &WhatIf, out: &mut dyn Write) -> io::Result<()> {
    let tallies = tally(&w.diff);
    let sd = supply_demand(&w.baseline, &w.scenario);
    let doc = JsonWhatIf {
        based_on: based_on(w.scenario.provenance.as_ref()),
        changes: w.changes.iter().map(|c| c.change.to_string()).collect(),
        summary: tallies
            .iter()
            .map(|t| JsonTally {
                list: &t.list,
                newly_done: t.newly_done,
                newly_dnf: t.newly_dnf,
                earlier: t.earlier,
                most_days_earlier: t.most_earlier,
                later: t.later,
                most_days_later: t.most_later,
                newly_short: t.short_appear,
                no_longer_short: t.short_vanish,
                added: t.added,
                dropped: t.dropped,
            })
            .collect(),
        supply_demand: sd
            .iter()
            .map(|(t, k, m, d)| JsonSupply {
                track: t,
                skill: k,
                manpower: *m,
                demand: *d,
            })
            .collect(),
        diff: w
            .diff
            .iter()
            .map(|m| JsonMoved {
                list: &m.list,
                id: &m.id,
                name: &m.name,
                before: date_text(m.before.as_ref()),
                after: date_text(m.after.as_ref()),
                shortage_before: shortage_text(m.before.as_ref()),
                shortage_after: shortage_text(m.after.as_ref()),
                days: m.days(),
            })
            .collect(),
    };
    out.write_all(b"{\n\"whatif\": ")?;
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    out.write_all(b",\n\"results\": ")?;
    plan_render::json(&w.scenario, View::default(), out)?;
    out.write_all(b"}\n")
}

/// The diff as CSV: list, id, name, before, after, shortage before and
/// after, days (later positive). A cell a spreadsheet would run as a
/// formula gets a `'` before it ([`csv_cell`]).
pub fn csv(w: &WhatIf, out: &mut dyn Write) -> io::Result<()> {
    csv_as(w, false, out)
}

/// [`csv`]; with `raw`, every cell exactly as the data has it
/// (`--csv-raw`).
pub fn csv_as(w: &WhatIf, raw: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    let map = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    };
    wr.write_record([
        "list",
        "id",
        "name",
        "before",
        "after",
        "shortage_before",
        "shortage_after",
        "days",
    ])
    .map_err(map)?;
    for m in &w.diff {
        let f = diff_fields(m);
        let days = m.days().map_or(String::new(), |d| d.to_string());
        let cells = [&f[2], &f[0], &f[1], &f[3], &f[4], &f[5], &f[6], &days];
        wr.write_record(cells.map(|c| csv_cell(c, raw)).iter().map(|c| c.as_bytes()))
            .map_err(map)?;
    }
    wr.flush()
}
