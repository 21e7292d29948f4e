//! Human and tool formats of the results: a text report, one JSON document,
//! and the work list as CSV. Each renders a [`Results`], whether computed
//! now or read back from a stored results stream.

use std::io::{self, Write};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::amount::Amount;
use super::fields::{fmt_num, Triage};
use super::results::{Results, TrackRow};

/// What part of the results to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    /// Only this track (index into [`Results::tracks`]).
    pub track: Option<usize>,
    /// Only work at this triage level or more important, and demand at
    /// this level.
    pub triage: Option<Triage>,
}

impl View {
    fn tracks(&self, r: &Results) -> Vec<usize> {
        match self.track {
            Some(t) => vec![t],
            None => (0..r.tracks.len()).collect(),
        }
    }

    fn shows(&self, r: &Results, row: &TrackRow) -> bool {
        self.triage.is_none_or(|t| r.item(row).triage <= t)
    }

    fn levels(&self) -> &'static [Triage] {
        let last = self.triage.map_or(4, Triage::index);
        &Triage::ALL[..=last]
    }
}

fn date_text(row: &TrackRow) -> String {
    row.done.map_or_else(|| "DNF".to_owned(), |d| d.to_string())
}

/// The params line as (start, end, scheduling skills).
fn params(r: &Results) -> (&str, &str, Vec<&str>) {
    let mut f = r.params_line.split('\t');
    let start = f.next().unwrap_or("");
    let end = f.next().unwrap_or("");
    let sched = f
        .next()
        .unwrap_or("")
        .split(':')
        .filter(|s| !s.is_empty())
        .collect();
    (start, end, sched)
}

/// A table with right-aligned numbers and left-aligned text.
struct Table {
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    fn write(&self, out: &mut dyn Write, indent: &str) -> io::Result<()> {
        let cols = self.right.len();
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::from(indent);
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c > 0 {
                    line.push_str("  ");
                }
                if self.right[c] {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if c + 1 < cols {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

const NAME_WIDTH: usize = 40;

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(width - 1).collect();
        c.push('…');
        c
    }
}

/// The text report: per track, supply against cumulative demand by triage,
/// then the ranked work list with shortages and dates.
pub fn text(r: &Results, view: View, out: &mut dyn Write) -> io::Result<()> {
    let (start, end, sched) = params(r);
    writeln!(
        out,
        "Plan {start} to {end}, scheduled on {}",
        if sched.is_empty() {
            "no skills".to_owned()
        } else {
            sched.join(", ")
        }
    )?;
    for t in view.tracks(r) {
        let people = r.heads[t];
        let rows: Vec<&TrackRow> = r.work[t].iter().filter(|row| view.shows(r, row)).collect();
        let short = rows.iter().filter(|row| !row.shortage.is_empty()).count();
        let dnf = rows.iter().filter(|row| row.done.is_none()).count();
        writeln!(out)?;
        writeln!(
            out,
            "== {} == {}, {}, {} short, {} DNF",
            r.tracks[t],
            count(people, "person", "people"),
            count(rows.len(), "item", "items"),
            short,
            dnf
        )?;
        writeln!(out)?;

        let mut header = vec!["person-weeks".to_owned()];
        header.extend(r.skills.iter().cloned());
        let mut table = Table {
            rows: vec![header],
            right: std::iter::once(false)
                .chain(r.skills.iter().map(|_| true))
                .collect(),
        };
        let numbers = |label: String, values: &mut dyn Iterator<Item = Amount>| {
            std::iter::once(label)
                .chain(values.map(fmt_num))
                .collect::<Vec<_>>()
        };
        table
            .rows
            .push(numbers("supply".into(), &mut r.manpower[t].iter().copied()));
        for &level in view.levels() {
            table.rows.push(numbers(
                format!("demand ≤{level}"),
                &mut r.demand[t][level.index()].iter().copied(),
            ));
        }
        let last = view.levels().last().map_or(4, |l| l.index());
        table.rows.push(numbers(
            format!("balance ≤{}", Triage::ALL[last]),
            &mut r.manpower[t]
                .iter()
                .zip(&r.demand[t][last])
                // Both at least zero: the difference fits.
                .map(|(s, d)| Amount::from_units(s.units() - d.units())),
        ));
        table.write(out, "  ")?;
        writeln!(out)?;

        if rows.is_empty() {
            writeln!(out, "  no work")?;
            continue;
        }
        let mut table = Table {
            rows: vec![[
                "rank", "triage", "id", "name", "track", "estimate", "short", "done",
            ]
            .map(str::to_owned)
            .to_vec()],
            right: vec![true, true, false, false, false, false, false, false],
        };
        for row in rows {
            let item = r.item(row);
            table.rows.push(vec![
                item.rank.to_string(),
                item.triage.to_string(),
                r.id(item).to_owned(),
                clip(r.name(item), NAME_WIDTH),
                r.track_name(item.track).to_owned(),
                r.estimate_text(item),
                r.amounts_text(r.shortage(row)),
                date_text(row),
            ]);
        }
        table.write(out, "  ")?;
    }
    if let Some(lines) = &r.provenance {
        writeln!(out)?;
        writeln!(out, "Provenance:")?;
        let lines: Vec<String> = lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let split = |l: &str| -> (String, String) {
            match l.split_once('\t') {
                Some((r, c)) => (r.to_owned(), c.to_owned()),
                None => (l.to_owned(), String::new()),
            }
        };
        let width = lines
            .iter()
            .map(|l| split(l).0.chars().count())
            .max()
            .unwrap_or(0);
        for l in &lines {
            let (resource, commit) = split(l);
            writeln!(out, "  {resource:<width$}  {commit}")?;
        }
    }
    Ok(())
}

/// Amounts per skill as a JSON object.
struct Amounts<'a>(&'a [String], &'a [(u32, Amount)]);

impl Serialize for Amounts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.1.len()))?;
        for &(k, v) in self.1 {
            m.serialize_entry(&self.0[k as usize], &v)?;
        }
        m.end()
    }
}

/// Values in skill order as a JSON object keyed by skill.
struct PerSkill<'a>(&'a [String], &'a [Amount]);

impl Serialize for PerSkill<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter().zip(self.1) {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Cumulative demand per triage level (those shown) as a JSON object keyed
/// by level, each a [`PerSkill`].
struct Demand<'a>(&'a [Triage], &'a [String], &'a [Vec<Amount>; 5]);

impl Serialize for Demand<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for l in self.0 {
            m.serialize_entry(l.as_str(), &PerSkill(self.1, &self.2[l.index()]))?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    start: &'a str,
    end: &'a str,
    scheduling_skills: Vec<&'a str>,
    skills: &'a [String],
    triages: Vec<&'static str>,
    tracks: Vec<JsonTrack<'a>>,
    provenance: Vec<JsonProvenance>,
}

#[derive(Serialize)]
struct JsonTrack<'a> {
    name: &'a str,
    manpower: PerSkill<'a>,
    /// Keyed by triage level, cumulative.
    demand: Demand<'a>,
    staff: std::collections::BTreeMap<&'a str, &'a [String]>,
    work: Vec<JsonWork<'a>>,
}

#[derive(Serialize)]
struct JsonWork<'a> {
    id: &'a str,
    rank: i64,
    name: &'a str,
    track: &'a str,
    triage: &'static str,
    estimated: bool,
    estimate: Amounts<'a>,
    shortage: Amounts<'a>,
    /// ISO date, or null when the item does not finish.
    done: Option<String>,
    dnf: bool,
}

#[derive(Serialize)]
struct JsonProvenance {
    resource: String,
    commit: String,
}

/// One JSON document with everything, for web pages and jq.
pub fn json(r: &Results, view: View, out: &mut dyn Write) -> io::Result<()> {
    let (start, end, scheduling_skills) = params(r);
    let tracks = view
        .tracks(r)
        .into_iter()
        .map(|t| JsonTrack {
            name: &r.tracks[t],
            manpower: PerSkill(&r.skills, &r.manpower[t]),
            demand: Demand(view.levels(), &r.skills, &r.demand[t]),
            staff: r
                .skills
                .iter()
                .zip(&r.staff[t])
                .map(|(s, names)| (s.as_str(), names.as_slice()))
                .collect(),
            work: r.work[t]
                .iter()
                .filter(|row| view.shows(r, row))
                .map(|row| {
                    let item = r.item(row);
                    JsonWork {
                        id: r.id(item),
                        rank: item.rank,
                        name: r.name(item),
                        track: r.track_name(item.track),
                        triage: item.triage.as_str(),
                        estimated: item.estimate.is_some(),
                        estimate: Amounts(&r.skills, r.estimate(item).unwrap_or(&[])),
                        shortage: Amounts(&r.skills, r.shortage(row)),
                        done: row.done.map(|d| d.to_string()),
                        dnf: row.done.is_none(),
                    }
                })
                .collect(),
        })
        .collect();
    let provenance = r
        .provenance
        .iter()
        .flatten()
        .map(|l| {
            let l = String::from_utf8_lossy(l);
            let (resource, commit) = l.split_once('\t').unwrap_or((&l, ""));
            JsonProvenance {
                resource: resource.to_owned(),
                commit: commit.to_owned(),
            }
        })
        .collect();
    let doc = JsonDoc {
        start,
        end,
        scheduling_skills,
        skills: &r.skills,
        triages: Triage::ALL.iter().map(|t| t.as_str()).collect(),
        tracks,
        provenance,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}

/// The work lists as CSV, one row per item per list (`list` is `All` or the
/// track whose schedule gave the date).
pub fn csv(r: &Results, view: View, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let to_io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    };
    w.write_record([
        "list", "track", "rank", "triage", "id", "name", "estimate", "shortage", "done",
    ])
    .map_err(to_io)?;
    for t in view.tracks(r) {
        for row in r.work[t].iter().filter(|row| view.shows(r, row)) {
            let item = r.item(row);
            w.write_record([
                r.tracks[t].as_str(),
                r.track_name(item.track),
                &item.rank.to_string(),
                item.triage.as_str(),
                r.id(item),
                r.name(item),
                &r.estimate_text(item),
                &r.amounts_text(r.shortage(row)),
                &date_text(row),
            ])
            .map_err(to_io)?;
        }
    }
    w.flush()
}
