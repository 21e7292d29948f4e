//! A results stream read back (SPEC section 5): what qplan wrote, stored or
//! piped, rendered again without recomputing.

use rustc_hash::FxHashMap;

use crate::error::{Error, Location, Result};
use crate::model::{Amount, Arena, ALL, PARAMS};
use crate::plan::results::{
    PlannedItem, Results, TrackRow, DEMAND, MANPOWER, SKILLS, SKILL_ITEM, STAFF, TRACKS,
    TRACK_ITEM, TRIAGE_ITEM, WORK,
};
use crate::rules::fields;
use crate::stream::{Event, Section, PROVENANCE};

/// Reads a results stream back (the sections of a results stream as
/// [`crate::rules::read_plan`] collected them).
pub fn read(sections: Vec<Section>) -> Result<Results> {
    let find = |h: &str| sections.iter().find(|s| s.header == h);
    let need = |h: &str| {
        find(h).ok_or_else(|| {
            Error::data(
                Location::default(),
                format!("results stream has no '{h}' section"),
            )
        })
    };
    let params_line = match find(PARAMS) {
        Some(s) => first_text(s)?,
        None => {
            return Err(Error::data(
                Location::default(),
                format!("results stream has no '{PARAMS}' section"),
            ))
        }
    };
    let tracks = text_lines(need(TRACKS)?)?;
    let skills = text_lines(need(SKILLS)?)?;
    if tracks.first().map(String::as_str) != Some(ALL) {
        return Err(Error::data(
            Location::section(TRACKS),
            format!("the first track must be {ALL}"),
        ));
    }
    let track_index: FxHashMap<&str, u32> = tracks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u32))
        .collect();
    let skill_index: FxHashMap<&str, u32> = skills
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let count_error = |s: &Section, what: &str, n: usize, want: usize| {
        Error::data(
            Location::section(s.header.clone()).line(s.line),
            format!("{n} {what} where the tracks section lists {want}"),
        )
    };

    let manpower_section = need(MANPOWER)?;
    let manpower = manpower_section
        .text_lines()
        .map(|l| {
            let (line, text) = l?;
            numbers(MANPOWER, line, text, skills.len())
        })
        .collect::<Result<Vec<_>>>()?;
    if manpower.len() != tracks.len() {
        return Err(count_error(
            manpower_section,
            "manpower lines",
            manpower.len(),
            tracks.len(),
        ));
    }

    let demand_section = need(DEMAND)?;
    let mut demand = Vec::new();
    for item in nested(demand_section, TRIAGE_ITEM)? {
        let rows = item
            .text_lines()
            .map(|l| {
                let (line, text) = l?;
                numbers(DEMAND, line, text, skills.len())
            })
            .collect::<Result<Vec<_>>>()?;
        let rows: [Vec<Amount>; 5] = rows.try_into().map_err(|rows: Vec<_>| {
            Error::data(
                Location::section(DEMAND).line(item.line),
                format!("{} triage rows where there are 5", rows.len()),
            )
        })?;
        demand.push(rows);
    }
    if demand.len() != tracks.len() {
        return Err(count_error(
            demand_section,
            "demand items",
            demand.len(),
            tracks.len(),
        ));
    }

    let staff_section = need(STAFF)?;
    let mut staff = Vec::new();
    for track in nested(staff_section, TRACK_ITEM)? {
        let groups = nested(&track, SKILL_ITEM)?
            .iter()
            .map(text_lines)
            .collect::<Result<Vec<_>>>()?;
        if groups.len() != skills.len() {
            return Err(Error::data(
                Location::section(STAFF).line(track.line),
                format!(
                    "{} skill groups where the skills section lists {}",
                    groups.len(),
                    skills.len()
                ),
            ));
        }
        staff.push(groups);
    }
    if staff.len() != tracks.len() {
        return Err(count_error(
            staff_section,
            "staff items",
            staff.len(),
            tracks.len(),
        ));
    }

    let work_section = need(WORK)?;
    let mut work: Vec<Vec<TrackRow>> = Vec::new();
    let mut items = Vec::new();
    let mut arena = Arena::default();
    let mut scratch = Vec::new();
    // The lists are read as they come (a million lines are not copied
    // into nested sections first).
    let mut reader = work_section.nested();
    loop {
        let line = reader.line_no() + 1;
        let text = match reader.next_event()? {
            None => break,
            Some(Event::End) => continue,
            Some(Event::Header(h)) => {
                if h != TRACK_ITEM {
                    return Err(Error::data(
                        Location::section(WORK).line(line),
                        format!("nested section '{h}' where '{TRACK_ITEM}' is expected"),
                    ));
                }
                work.push(Vec::new());
                continue;
            }
            Some(Event::Line(l)) => std::str::from_utf8(l).map_err(|_| Error::Stream {
                line,
                message: format!("section '{TRACK_ITEM}': line is not UTF-8"),
            })?,
        };
        // The nested reader refuses lines outside a section.
        let t = work.len() - 1;
        let index = items.len() as u32;
        let (item, row) = work_line(
            line,
            text,
            &track_index,
            &skill_index,
            index,
            &mut arena,
            &mut scratch,
        )?;
        // All lists everything; every other list its own work.
        if t > 0 && item.track != Some(t as u32) {
            return Err(Error::data(
                Location::section(WORK)
                    .line(line)
                    .column("1 (track)")
                    .value(text.split('\t').next().unwrap_or("")),
                format!(
                    "an item of another track in the list of track {}",
                    tracks
                        .get(t)
                        .map_or("(beyond the tracks section)", String::as_str)
                ),
            ));
        }
        items.push(item);
        work[t].push(row);
    }
    if work.len() != tracks.len() {
        return Err(count_error(
            work_section,
            "work items",
            work.len(),
            tracks.len(),
        ));
    }
    let provenance = find(PROVENANCE).map(|s| s.lines.clone());
    let heads = staff
        .iter()
        .map(|groups| groups.iter().map(Vec::len).sum())
        .collect();
    Ok(Results {
        params_line,
        tracks,
        skills,
        manpower,
        demand,
        staff,
        heads,
        work,
        items,
        arena,
        provenance,
    })
}

fn text_lines(s: &Section) -> Result<Vec<String>> {
    s.text_lines()
        .map(|l| l.map(|(_, t)| t.to_owned()))
        .collect()
}

fn first_text(s: &Section) -> Result<String> {
    text_lines(s)?.into_iter().next().ok_or_else(|| {
        Error::data(
            Location::section(s.header.clone()).line(s.line),
            "section is empty",
        )
    })
}

/// The nested sections of `s`, each of which must be `header`.
fn nested(s: &Section, header: &str) -> Result<Vec<Section>> {
    let inner = s.nested_sections()?;
    if let Some(bad) = inner.iter().find(|i| i.header != header) {
        return Err(Error::data(
            Location::section(s.header.clone()).line(bad.line),
            format!(
                "nested section '{}' where '{header}' is expected",
                bad.header
            ),
        ));
    }
    Ok(inner)
}

/// A line of totals per skill, which qplan writes as non-negative exact
/// decimals (NaN, infinities and negative totals are refused).
fn numbers(section: &str, line: u64, text: &str, want: usize) -> Result<Vec<Amount>> {
    let values: Vec<Amount> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\t')
            .enumerate()
            .map(|(i, v)| {
                let at = || {
                    Location::section(section)
                        .line(line)
                        .column((i + 1).to_string())
                        .value(v)
                };
                let a = Amount::parse_signed(v).map_err(|m| Error::data(at(), m))?;
                if a.is_negative() {
                    return Err(Error::data(at(), "a total is never negative"));
                }
                Ok(a)
            })
            .collect::<Result<_>>()?
    };
    if values.len() != want {
        return Err(Error::data(
            Location::section(section).line(line),
            format!(
                "{} values where the skills section lists {want}",
                values.len()
            ),
        ));
    }
    Ok(values)
}

fn work_line(
    line: u64,
    text: &str,
    tracks: &FxHashMap<&str, u32>,
    skills: &FxHashMap<&str, u32>,
    index: u32,
    arena: &mut Arena,
    scratch: &mut Vec<(u32, Amount)>,
) -> Result<(PlannedItem, TrackRow)> {
    // The first eight fields (more are ignored) and how many there are.
    let mut f = [""; 8];
    let mut n = 0;
    for field in fields::split_ascii(text, b'\t') {
        if let Some(slot) = f.get_mut(n) {
            *slot = field;
        }
        n += 1;
    }
    let at = |col: usize, name: &str| {
        Location::section(WORK)
            .line(line)
            .column(format!("{col} ({name})"))
            .value(f[col - 1])
    };
    if n < 7 {
        return Err(Error::data(
            Location::section(WORK).line(line),
            format!("{n} columns where 7 are expected (track, rank, triage, name, estimate, shortage, date)"),
        ));
    }
    let track =
        match f[0] {
            "" => None,
            ALL => {
                return Err(Error::data(
                    at(1, "track"),
                    format!("an item's own track is never {ALL}"),
                ))
            }
            t => Some(*tracks.get(t).ok_or_else(|| {
                Error::data(at(1, "track"), "track is not in the tracks section")
            })?),
        };
    let rank = fields::parse_rank(f[1]).map_err(|m| Error::data(at(2, "rank"), m))?;
    let triage = fields::parse_triage(f[2]).map_err(|m| Error::data(at(3, "triage"), m))?;
    // `Skill:Amount, …` (amounts may be negative: shortages) into
    // `scratch`; false when empty.
    let amounts = |col: usize, name: &str, scratch: &mut Vec<(u32, Amount)>| -> Result<bool> {
        scratch.clear();
        let s = f[col - 1];
        if s.trim().is_empty() {
            return Ok(false);
        }
        for part in fields::split_ascii(s, b',') {
            let (k, v) = fields::split_once_ascii(part.trim(), b':').ok_or_else(|| {
                Error::data(at(col, name), format!("{part:?} is not Skill:Amount"))
            })?;
            let v = Amount::parse_signed(v).map_err(|m| Error::data(at(col, name), m))?;
            let k = k.trim();
            let k = skills.get(k).ok_or_else(|| {
                Error::data(
                    at(col, name),
                    format!("skill {k} is not in the skills section"),
                )
            })?;
            scratch.push((*k, v));
        }
        Ok(true)
    };
    // qplan writes estimates of at least zero, and a shortage only where
    // it is below zero.
    let estimated = amounts(5, "estimate", scratch)?;
    if scratch.iter().any(|(_, a)| a.is_negative()) {
        return Err(Error::data(
            at(5, "estimate"),
            "an estimate is never negative",
        ));
    }
    let estimate = estimated.then(|| arena.push_amounts(scratch.iter().copied()));
    amounts(6, "shortage", scratch)?;
    if scratch.iter().any(|(_, a)| !a.is_negative()) {
        return Err(Error::data(
            at(6, "shortage"),
            "a shortage is below zero; qplan writes none where there is none",
        ));
    }
    let shortage = arena.push_amounts(scratch.iter().copied());
    let done = match f[6] {
        "DNF" => None,
        d => Some(fields::parse_date(d).map_err(|m| Error::data(at(7, "date"), m))?),
    };
    let item = PlannedItem {
        id: arena.push_str(f[7]),
        rank,
        name: arena.push_str(f[3]),
        triage,
        estimate,
        track,
    };
    Ok((
        item,
        TrackRow {
            item: index,
            shortage,
            done,
        },
    ))
}
