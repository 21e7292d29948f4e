//! What changed between two results of the same plan (the baseline and a
//! scenario): every item whose date or shortage differs, list by list, and
//! a summary of the movement (SPEC section 6, `qwhatif diff v1`).
//!
//! Items are matched by id within a list (`All` or a track, matched by
//! name); an item in one results only (added or dropped) is a change too.

use rustc_hash::FxHashMap;

use chrono::NaiveDate;

use crate::model::amount::Amount;
use crate::plan::results::{Results, TrackRow};

/// An item's outcome in one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The dev-complete date; `None` is DNF.
    pub done: Option<NaiveDate>,
    /// Skills short and by how much (negative); empty above the line.
    pub shortage: Vec<(String, Amount)>,
}

/// One item whose outcome changed in one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The list: `All` or the item's track.
    pub list: String,
    pub id: String,
    pub name: String,
    /// `None`: not in the baseline (added).
    pub before: Option<Outcome>,
    /// `None`: not in the scenario (dropped).
    pub after: Option<Outcome>,
}

impl Moved {
    /// Days later (positive) or earlier (negative) when both finish.
    pub fn days(&self) -> Option<i64> {
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => Some((a.done? - b.done?).num_days()),
            _ => None,
        }
    }
}

/// Every item whose date or shortage differs between `before` and
/// `after`: lists in the order of `after` (then lists only `before` has),
/// items in rank order of `after` (then those only `before` has).
pub fn diff(before: &Results, after: &Results) -> Vec<Moved> {
    let same_skills = before.skills == after.skills;
    let mut out = Vec::new();
    let lists = after
        .tracks
        .iter()
        .map(|t| (before.tracks.iter().position(|b| b == t), Some(t)))
        .chain(
            before
                .tracks
                .iter()
                .enumerate()
                .filter(|(_, t)| !after.tracks.contains(t))
                .map(|(i, _)| (Some(i), None)),
        )
        .collect::<Vec<_>>();
    for (b_list, a_name) in lists {
        let a_list = a_name.and_then(|n| after.tracks.iter().position(|t| t == n));
        let b_rows: &[TrackRow] = b_list.map_or(&[], |t| &before.work[t]);
        let a_rows: &[TrackRow] = a_list.map_or(&[], |t| &after.work[t]);
        let list = a_list
            .map(|t| after.tracks[t].clone())
            .or_else(|| b_list.map(|t| before.tracks[t].clone()))
            .unwrap_or_default();
        // Same ids in the same order (the usual case: the part of the list
        // above a change, and below it after an item added or dropped)
        // are compared pairwise at the last offset found, without a map.
        let mut index: Option<FxHashMap<&str, usize>> = None;
        let mut seen = vec![false; b_rows.len()];
        let mut offset = 0isize;
        for (k, a_row) in a_rows.iter().enumerate() {
            let a_item = after.item(a_row);
            let id = after.id(a_item);
            // At the offset, or one either side of it (an item added or
            // dropped just here).
            let at = |d: isize| {
                k.checked_add_signed(offset + d).filter(|&g| {
                    b_rows
                        .get(g)
                        .is_some_and(|r| before.id(before.item(r)) == id)
                })
            };
            let j = match at(0).or_else(|| at(1)).or_else(|| at(-1)) {
                Some(g) => {
                    offset = g as isize - k as isize;
                    Some(g)
                }
                None => index
                    .get_or_insert_with(|| {
                        b_rows
                            .iter()
                            .enumerate()
                            .map(|(j, r)| (before.id(before.item(r)), j))
                            .collect()
                    })
                    .get(id)
                    .copied()
                    .inspect(|&j| offset = j as isize - k as isize),
            };
            let same = match j {
                None => false,
                Some(j) => {
                    seen[j] = true;
                    let b_row = &b_rows[j];
                    b_row.done == a_row.done
                        && if same_skills {
                            before.shortage(b_row) == after.shortage(a_row)
                        } else {
                            outcome(before, b_row).shortage == outcome(after, a_row).shortage
                        }
                }
            };
            if !same {
                out.push(Moved {
                    list: list.clone(),
                    id: id.to_owned(),
                    name: after.name(a_item).to_owned(),
                    before: j.map(|j| outcome(before, &b_rows[j])),
                    after: Some(outcome(after, a_row)),
                });
            }
        }
        for (j, b_row) in b_rows.iter().enumerate() {
            if !seen[j] {
                let item = before.item(b_row);
                out.push(Moved {
                    list: list.clone(),
                    id: before.id(item).to_owned(),
                    name: before.name(item).to_owned(),
                    before: Some(outcome(before, b_row)),
                    after: None,
                });
            }
        }
    }
    out
}

fn outcome(r: &Results, row: &TrackRow) -> Outcome {
    Outcome {
        done: row.done,
        shortage: r
            .shortage(row)
            .iter()
            .map(|&(k, a)| (r.skills[k as usize].clone(), a))
            .collect(),
    }
}

/// `2013-11-08`, `DNF`, or `-` when the item is not in that plan.
pub fn date_text(o: Option<&Outcome>) -> String {
    match o {
        None => "-".into(),
        Some(Outcome { done: None, .. }) => "DNF".into(),
        Some(Outcome { done: Some(d), .. }) => d.to_string(),
    }
}

/// `Apps:-1.5, Web:-2` (empty above the line or when not in that plan).
pub fn shortage_text(o: Option<&Outcome>) -> String {
    let mut s = String::new();
    for (i, (k, a)) in o.map_or(&[][..], |o| &o.shortage).iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(k);
        s.push(':');
        crate::rules::fields::push_num(&mut s, *a);
    }
    s
}

/// The movement in one list, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub list: String,
    /// DNF before, a date after.
    pub newly_done: usize,
    /// A date before, DNF after.
    pub newly_dnf: usize,
    /// Finishing earlier: how many, and the most days.
    pub earlier: usize,
    pub most_earlier: i64,
    pub later: usize,
    pub most_later: i64,
    /// Above the line before, short after; and the reverse.
    pub short_appear: usize,
    pub short_vanish: usize,
    pub added: usize,
    pub dropped: usize,
}

/// The movement of each list that has any, in the order of the diff.
pub fn tally(moved: &[Moved]) -> Vec<Tally> {
    let mut out: Vec<Tally> = Vec::new();
    for m in moved {
        if out.last().is_none_or(|t| t.list != m.list) {
            out.push(Tally {
                list: m.list.clone(),
                ..Tally::default()
            });
        }
        let Some(t) = out.last_mut() else { continue };
        match (&m.before, &m.after) {
            (None, _) => t.added += 1,
            (_, None) => t.dropped += 1,
            (Some(b), Some(a)) => {
                match (b.done, a.done) {
                    (None, Some(_)) => t.newly_done += 1,
                    (Some(_), None) => t.newly_dnf += 1,
                    (Some(x), Some(y)) if y < x => {
                        t.earlier += 1;
                        t.most_earlier = t.most_earlier.max((x - y).num_days());
                    }
                    (Some(x), Some(y)) if y > x => {
                        t.later += 1;
                        t.most_later = t.most_later.max((y - x).num_days());
                    }
                    _ => {}
                }
                match (b.shortage.is_empty(), a.shortage.is_empty()) {
                    (true, false) => t.short_appear += 1,
                    (false, true) => t.short_vanish += 1,
                    _ => {}
                }
            }
        }
    }
    out
}

/// Manpower and demand (all triage levels) per track and skill, scenario
/// minus baseline, where they differ: (track, skill, manpower delta,
/// demand delta). Tracks and skills are matched by name; one missing on
/// a side counts as zero there.
pub fn supply_demand(before: &Results, after: &Results) -> Vec<(String, String, Amount, Amount)> {
    let mut tracks: Vec<&String> = after.tracks.iter().collect();
    tracks.extend(before.tracks.iter().filter(|t| !after.tracks.contains(t)));
    let mut skills: Vec<&String> = after.skills.iter().collect();
    skills.extend(before.skills.iter().filter(|k| !after.skills.contains(k)));
    skills.sort();
    let get = |r: &Results, t: &str, k: &str| -> (Amount, Amount) {
        let (Some(t), Some(k)) = (
            r.tracks.iter().position(|x| x == t),
            r.skills.iter().position(|x| x == k),
        ) else {
            return (Amount::ZERO, Amount::ZERO);
        };
        (r.manpower[t][k], r.demand[t][4][k])
    };
    let mut out = Vec::new();
    for t in &tracks {
        for k in &skills {
            let (m0, d0) = get(before, t, k);
            let (m1, d1) = get(after, t, k);
            if m0 != m1 || d0 != d1 {
                out.push((
                    (*t).clone(),
                    (*k).clone(),
                    Amount::from_units(m1.units().saturating_sub(m0.units())),
                    Amount::from_units(d1.units().saturating_sub(d0.units())),
                ));
            }
        }
    }
    out
}
