//! `qwhatif explain ITEM`: why an item is short or late (DNF), and the
//! smallest single change that fixes it.
//!
//! The item's trouble is read from the plan the engine computes. The why
//! is per list the item is in (`All` and its own track) and per skill of
//! its estimate: the supply that ran out (a shortage) or the days that ran
//! out (its schedule, DNF), and the higher-ranked items that took them.
//!
//! The fixes are found by search on a [`Model`] of the item's lists that
//! follows only the item's own skills and only the items ahead of it
//! (nothing ranked after an item changes its results, and skills share
//! neither supply nor days): people added (binary search on the count),
//! weeks cut from its estimate (in tenths of a person-week), ranks moved up
//! (binary search on the ranks ahead of it). Every suggestion is then
//! printed as a change-language line, parsed back, applied with
//! [`super::apply`] and computed by the engine, and kept only when the
//! engine agrees that it fixes the item and that the next smaller change of
//! the same kind does not.

use std::io::{self, Write};
use std::sync::Arc;

use clap::ValueEnum;
use serde::Serialize;

use super::apply;
use super::lang::{self, quote, Change, Located, Pos};
use crate::error::Result;
use crate::plan::amount::{Amount, DAY, SCALE};
use crate::plan::engine::Calendar;
use crate::plan::fields::push_num;
use crate::plan::input::{Input, ALL};
use crate::plan::schedule::Pool;
use crate::plan::{compute, Results};

/// The output formats of `qwhatif explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Sentences to read.
    Text,
    /// One JSON document.
    Json,
}

/// Estimates are cut in steps of a tenth of a person-week.
pub const CUT_STEP: Amount = Amount::from_units(SCALE / 10);
/// How many higher-ranked items are listed per cause; the rest are counted.
pub const TAKERS: usize = 10;
/// The name `add staff` suggestions give the people they add.
const HIRE: &str = "hire";

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub item: Item,
    /// The data the input came from (its provenance), when known.
    pub based_on: Option<String>,
    /// Neither short nor DNF in any of its lists.
    pub fine: bool,
    /// `All`, then the item's own track.
    pub lists: Vec<ListWhy>,
    /// The smallest change of each kind that fixes it, verified.
    pub fixes: Vec<Fix>,
    /// The kinds of change that cannot fix it, and why.
    pub no_fix: Vec<NoFix>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub rank: i64,
    pub track: Option<String>,
    /// `Apps:2,Web:1`; empty when not estimated.
    pub estimate: String,
}

/// The item in one list.
#[derive(Debug, Clone, Serialize)]
pub struct ListWhy {
    pub list: String,
    /// ISO date; `None` is DNF.
    pub date: Option<String>,
    /// `Apps:-1.5, Web:-2`; empty when above the line.
    pub shortage: String,
    pub fine: bool,
    pub causes: Vec<Cause>,
}

/// One skill that ran out for the item in one list.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    pub skill: String,
    /// `supply`: the list's supply of the skill ran out (a shortage);
    /// `days`: the skill's days ran out before its work was done (DNF).
    pub kind: &'static str,
    /// People of the skill in the list.
    pub people: u32,
    /// Person-weeks: the list's manpower (`supply`), or the person-weeks
    /// of days from start to end (`days`).
    pub supply: Amount,
    /// What the higher-ranked items took of it.
    pub taken_above: Amount,
    /// What was left at the item's turn.
    pub left: Amount,
    /// The item's amount in the skill.
    pub asks: Amount,
    /// What it got (`days`: the work done by the end).
    pub got: Amount,
    /// `days`: how many people may work on it at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_once: Option<i64>,
    /// The higher-ranked items that took most, largest first.
    pub taken_by: Vec<Taker>,
    /// The higher-ranked items that took some and are not listed.
    pub others: Others,
}

#[derive(Debug, Clone, Serialize)]
pub struct Taker {
    pub id: String,
    pub name: String,
    pub rank: i64,
    pub track: Option<String>,
    pub took: Amount,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Others {
    pub items: usize,
    pub took: Amount,
}

/// A change that fixes the item.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// `staff`, `estimate` or `rank`.
    pub kind: &'static str,
    /// Change-language lines to paste into qwhatif (one, or one per skill
    /// for people of several skills).
    pub changes: Vec<String>,
    /// What it is, in words.
    pub summary: String,
    /// The next smaller changes of the same kind, each verified not to fix
    /// the item.
    pub smaller: Vec<Smaller>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<People>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<Cut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<RankMove>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Smaller {
    /// The lines (none: the plan as it is).
    pub changes: Vec<String>,
    /// How the item then stands in each list it is in.
    pub result: Vec<ListState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListState {
    pub list: String,
    pub date: Option<String>,
    pub shortage: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct People {
    pub skill: String,
    pub track: String,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cut {
    pub skill: String,
    pub from: Amount,
    pub to: Amount,
    pub cut: Amount,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankMove {
    pub from: i64,
    pub to: i64,
    /// Per list, how many more items it is ahead of.
    pub ahead: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoFix {
    pub kind: &'static str,
    pub why: String,
}

/// The item named by id or exact name, as the change language finds it:
/// a name that matches nothing is an error with the closest names (65).
pub fn find_item(input: &Input, item: &str) -> Result<usize> {
    let at = Pos { line: 1, column: 1 };
    let located = Located {
        change: Change::Drop(item.to_owned()),
        source: Arc::from("ITEM"),
        at,
        args: vec![("name", at)],
    };
    apply::work(input, &located, item)
}

/// Explains item `item` of the plan computed from `base`.
pub fn explain(base: &Input, item: &str) -> Result<Explanation> {
    let target = find_item(base, item)?;
    let baseline = compute(base.clone())?;
    let model = Model::new(base, target);
    let w = &base.work[target];
    let a = &base.arena;
    let id = a.str(w.id).to_owned();
    let track = w.track.map(|t| base.tracks.name(t).to_owned());
    let item = Item {
        id: id.clone(),
        name: a.str(w.name).to_owned(),
        rank: w.rank,
        track: track.clone(),
        estimate: lang::estimate_text(&w.estimate.map(|e| {
            a.amounts(e)
                .iter()
                .map(|&(k, x)| (base.skills.name(k).to_owned(), x))
                .collect()
        })),
    };
    let names = model.list_names();
    let states = standing(&baseline, &id, &names);
    let fine = states.iter().all(ListState::fine);
    let mut lists = Vec::new();
    for (l, st) in model.lists.iter().zip(&states) {
        let causes = if st.fine() {
            Vec::new()
        } else {
            model.causes(l)
        };
        lists.push(ListWhy {
            list: st.list.clone(),
            date: st.date.clone(),
            shortage: st.shortage.clone(),
            fine: st.fine(),
            causes,
        });
    }
    let mut out = Explanation {
        item,
        based_on: super::based_on(base.provenance.as_ref()),
        fine,
        lists,
        fixes: Vec::new(),
        no_fix: Vec::new(),
    };
    if fine {
        return Ok(out);
    }
    if model.estimate.is_none() {
        out.no_fix.push(NoFix {
            kind: "estimate",
            why: format!(
                "{} has no estimate, and an item without one is DNF whatever the people, the cuts or the rank: estimate it (`estimate {} Skill:N`)",
                id,
                quote(&id)
            ),
        });
        return Ok(out);
    }
    let v = Verifier {
        base,
        baseline: &baseline,
        id: &id,
        names: &names,
    };
    for kind in ["staff", "estimate", "rank"] {
        let found = match kind {
            "staff" => model.staff_fix(),
            "estimate" => Ok(model.estimate_fix()),
            _ => model.rank_fix(),
        };
        match found {
            Err(why) => out.no_fix.push(NoFix { kind, why }),
            Ok(c) => match v.verify(&c) {
                Ok(Ok(fix)) => out.fixes.push(fix),
                Ok(Err(why)) => out.no_fix.push(NoFix { kind, why }),
                // The change does not apply (a rank past the last there
                // is, a name the change language cannot write): no fix of
                // this kind, said with the reason.
                Err(e) => out.no_fix.push(NoFix {
                    kind,
                    why: format!("`{}` cannot be run: {e}", c.changes.join("; ")),
                }),
            },
        }
    }
    Ok(out)
}

/// The item's standing in each of its lists, as the engine computed it.
fn standing(r: &Results, id: &str, lists: &[String]) -> Vec<ListState> {
    let mut out = Vec::with_capacity(lists.len());
    for name in lists {
        let row = r
            .tracks
            .iter()
            .position(|t| t == name)
            .and_then(|t| r.work[t].iter().find(|row| r.id(r.item(row)) == id));
        out.push(match row {
            Some(row) => ListState {
                list: name.clone(),
                date: row.done.map(|d| d.to_string()),
                shortage: r.amounts_text(r.shortage(row)),
            },
            // Not in the list: cannot be called fixed.
            None => ListState {
                list: name.clone(),
                date: None,
                shortage: "(not in the list)".into(),
            },
        });
    }
    out
}

impl ListState {
    pub fn fine(&self) -> bool {
        self.date.is_some() && self.shortage.is_empty()
    }

    fn text(&self) -> String {
        let mut s = format!(
            "{}: {}",
            self.list,
            self.date
                .as_deref()
                .map_or("DNF".into(), |d| format!("done {d}"))
        );
        if !self.shortage.is_empty() {
            s.push_str(", short ");
            s.push_str(&self.shortage);
        }
        s
    }
}

/// A suggestion the search found, before the engine checks it.
struct Candidate {
    kind: &'static str,
    changes: Vec<String>,
    summary: String,
    /// The next smaller changes of the same kind.
    smaller: Vec<Vec<String>>,
    people: Vec<People>,
    cuts: Vec<Cut>,
    rank: Option<RankMove>,
}

/// Runs suggestions through the change language, `apply` and the engine.
struct Verifier<'a> {
    base: &'a Input,
    baseline: &'a Results,
    id: &'a str,
    names: &'a [String],
}

impl Verifier<'_> {
    fn input(&self, lines: &[String]) -> Result<Input> {
        let changes = lang::parse("explain", &lines.join("\n"))?;
        apply::apply(self.base, &changes)
    }

    /// The candidate as a fix when the engine says it fixes the item and
    /// none of the smaller changes does; else why not (a disagreement
    /// between the search and the engine, which would be a bug).
    fn verify(&self, c: &Candidate) -> Result<std::result::Result<Fix, String>> {
        let mut runs: Vec<&[String]> = vec![&c.changes];
        runs.extend(c.smaller.iter().map(Vec::as_slice));
        // Two at a time, as compare does: the engine's threads wait on each
        // other part of the time.
        let mut results: Vec<Vec<ListState>> = Vec::with_capacity(runs.len());
        let mut i = 0;
        while i < runs.len() {
            let a = runs[i];
            let b = runs.get(i + 1).copied();
            let pair = match b {
                Some(b) if !a.is_empty() && !b.is_empty() => {
                    let (ra, rb) = super::compute_both(self.input(a)?, self.input(b)?)?;
                    vec![ra, rb]
                }
                _ => vec![],
            };
            if pair.is_empty() {
                results.push(self.run(a)?);
                if let Some(b) = b {
                    results.push(self.run(b)?);
                }
            } else {
                for r in &pair {
                    results.push(standing(r, self.id, self.names));
                }
            }
            i += 2;
        }
        let fixed = results[0].iter().all(ListState::fine);
        if !fixed {
            return Ok(Err(format!(
                "the search found `{}` but the plan re-run with it says {} (please report this)",
                c.changes.join("; "),
                results[0]
                    .iter()
                    .map(ListState::text)
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let mut smaller = Vec::new();
        for (lines, st) in c.smaller.iter().zip(&results[1..]) {
            if st.iter().all(ListState::fine) {
                return Ok(Err(format!(
                    "the search found `{}` smallest but the plan re-run with `{}` is fixed too (please report this)",
                    c.changes.join("; "),
                    lines.join("; ")
                )));
            }
            smaller.push(Smaller {
                changes: lines.clone(),
                result: st.clone(),
            });
        }
        Ok(Ok(Fix {
            kind: c.kind,
            changes: c.changes.clone(),
            summary: c.summary.clone(),
            smaller,
            people: c.people.clone(),
            cuts: c.cuts.clone(),
            rank: c.rank.clone(),
        }))
    }

    fn run(&self, lines: &[String]) -> Result<Vec<ListState>> {
        if lines.is_empty() {
            return Ok(standing(self.baseline, self.id, self.names));
        }
        let r = compute(self.input(lines)?)?;
        Ok(standing(&r, self.id, self.names))
    }
}

/// The item's lists, followed in its own skills only: enough to tell how
/// it stands with more people, a smaller estimate or a better rank.
pub struct Model<'a> {
    input: &'a Input,
    cal: Calendar,
    workdays: i64,
    target: usize,
    /// The item's amounts (input skill, person-weeks); `None` when not
    /// estimated.
    estimate: Option<Vec<(u32, Amount)>>,
    /// `All`, then its own track.
    lists: Vec<ListModel>,
    /// The track people are added to: its own, or the first there is.
    hire_track: Option<u32>,
}

struct ListModel {
    name: String,
    /// Input track; `None` for `All`.
    track: Option<u32>,
    /// The other items of the list in rank order (indices into work),
    /// and their ranks.
    items: Vec<u32>,
    ranks: Vec<i64>,
    /// How many of them are ahead of the item.
    at: usize,
    /// One per amount of the item's estimate, in its order.
    lanes: Vec<Lane>,
}

/// One skill of the item in one list.
struct Lane {
    sched: bool,
    heads: u32,
    /// Available person-days of the list's people of the skill.
    days: i64,
    /// People per day (for a scheduling skill).
    avail: Vec<u32>,
    /// The other items' amounts in the skill: (position in the list, amount).
    demand: Vec<(u32, Amount)>,
}

/// A lane just before the item.
#[derive(Clone)]
struct LaneState {
    supply: i64,
    pool: Option<Pool>,
}

impl LaneState {
    /// Whether an amount `e` in this state is above the line and (for a
    /// scheduling skill) done before the end.
    fn fits(&self, e: Amount) -> bool {
        if self.supply.max(0) < e.units() {
            return false;
        }
        match &self.pool {
            None => true,
            Some(p) => p.clone().place(e).is_some(),
        }
    }
}

impl<'a> Model<'a> {
    pub fn new(input: &'a Input, target: usize) -> Self {
        let cal = Calendar::new(input.params.start, input.params.end, &input.holidays);
        let workdays = cal.workday.iter().filter(|&&w| w).count() as i64;
        let w = &input.work[target];
        let estimate = w.estimate.map(|e| input.arena.amounts(e).to_vec());
        let mut order: Vec<(i64, u32)> = input
            .work
            .iter()
            .enumerate()
            .map(|(i, w)| (w.rank, i as u32))
            .collect();
        order.sort_unstable();
        let vacations: Vec<Vec<u32>> = input
            .staff
            .iter()
            .map(|p| vacation_workdays(&cal, &p.vacation))
            .collect();
        let mut lists = vec![(ALL.to_owned(), None)];
        if let Some(t) = w.track {
            lists.push((input.tracks.name(t).to_owned(), Some(t)));
        }
        let lists = lists
            .into_iter()
            .map(|(name, track)| {
                let members: Vec<(i64, u32)> = order
                    .iter()
                    .copied()
                    .filter(|&(_, i)| track.is_none() || input.work[i as usize].track == track)
                    .collect();
                let at = members
                    .iter()
                    .position(|&(_, i)| i as usize == target)
                    .unwrap_or(members.len());
                let others: Vec<(i64, u32)> = members
                    .into_iter()
                    .filter(|&(_, i)| i as usize != target)
                    .collect();
                let lanes = estimate
                    .iter()
                    .flatten()
                    .map(|&(skill, _)| {
                        lane(input, &cal, workdays, &vacations, track, skill, &others)
                    })
                    .collect();
                ListModel {
                    name,
                    track,
                    items: others.iter().map(|&(_, i)| i).collect(),
                    ranks: others.iter().map(|&(r, _)| r).collect(),
                    at,
                    lanes,
                }
            })
            .collect();
        let hire_track = w.track.or_else(|| {
            (0..input.tracks.len() as u32)
                .min_by(|&a, &b| input.tracks.name(a).cmp(input.tracks.name(b)))
        });
        Model {
            input,
            cal,
            workdays,
            target,
            estimate,
            lists,
            hire_track,
        }
    }

    fn list_names(&self) -> Vec<String> {
        self.lists.iter().map(|l| l.name.clone()).collect()
    }

    fn amount(&self, j: usize) -> Amount {
        self.estimate.as_ref().map_or(Amount::ZERO, |e| e[j].1)
    }

    fn skill_name(&self, j: usize) -> &str {
        self.estimate
            .as_ref()
            .map_or("", |e| self.input.skills.name(e[j].0))
    }

    /// Lane `lane` with `extra` people (of the lane's skill, in the list)
    /// after the first `cutoff` other items of the list.
    fn state(&self, lane: &Lane, extra: u32, cutoff: usize) -> LaneState {
        let mut supply = (lane.days + i64::from(extra) * self.workdays).saturating_mul(DAY);
        let mut pool = lane.sched.then(|| self.pool(lane, extra));
        for &(pos, a) in &lane.demand {
            if pos as usize >= cutoff {
                break;
            }
            supply = supply.max(0) - a.units();
            if let Some(p) = &mut pool {
                p.place(a);
            }
        }
        LaneState { supply, pool }
    }

    fn pool(&self, lane: &Lane, extra: u32) -> Pool {
        if lane.heads == 0 && extra == 0 {
            return Pool::new(std::iter::empty());
        }
        Pool::new(lane.avail.iter().zip(&self.cal.workday).map(|(&p, &w)| {
            if w {
                p.saturating_add(extra)
            } else {
                0
            }
        }))
    }

    /// Whether amount `j` of the item fits in every list with `extra`
    /// people added in the hire track and the item after `cutoff(list)`
    /// other items, with amount `e`.
    fn fits(&self, j: usize, extra: u32, cutoff: impl Fn(&ListModel) -> usize, e: Amount) -> bool {
        self.lists.iter().all(|l| {
            let x = if l.track.is_none() || l.track == self.hire_track {
                extra
            } else {
                0
            };
            self.state(&l.lanes[j], x, cutoff(l)).fits(e)
        })
    }

    /// The amounts of the item that do not fit as the plan is.
    fn troubled(&self) -> Vec<usize> {
        (0..self.estimate.as_ref().map_or(0, Vec::len))
            .filter(|&j| !self.fits(j, 0, |l| l.at, self.amount(j)))
            .collect()
    }

    /// The skills that ran out for the item in list `l`, and who took them.
    fn causes(&self, l: &ListModel) -> Vec<Cause> {
        let mut out = Vec::new();
        for (j, lane) in l.lanes.iter().enumerate() {
            let e = self.amount(j);
            let supply0 = lane.days.saturating_mul(DAY);
            let mut supply = supply0;
            let mut pool = lane.sched.then(|| self.pool(lane, 0));
            let pool_days = if lane.heads == 0 { 0 } else { self.cal.days() };
            let mut pool_left: i64 = pool
                .as_ref()
                .map_or(0, |p| (0..pool_days).map(|d| p.left(d).units()).sum());
            let pool0 = pool_left;
            let mut took_supply: Vec<(u32, i64)> = Vec::new();
            let mut took_days: Vec<(u32, i64)> = Vec::new();
            for &(pos, a) in &lane.demand {
                if pos as usize >= l.at {
                    break;
                }
                let have = supply.max(0);
                took_supply.push((pos, have.min(a.units())));
                supply = have - a.units();
                if let Some(p) = &mut pool {
                    if pool_left > 0 {
                        let taken = if p.place(a).is_some() {
                            a.units()
                        } else {
                            let now: i64 = (0..pool_days).map(|d| p.left(d).units()).sum();
                            pool_left - now
                        };
                        pool_left -= taken;
                        took_days.push((pos, taken));
                    }
                }
            }
            let have = supply.max(0);
            if have < e.units() {
                out.push(self.cause(l, j, "supply", supply0, have, have, None, took_supply));
            }
            if let Some(p) = &mut pool {
                if p.clone().place(e).is_none() {
                    p.place(e);
                    let now: i64 = (0..pool_days).map(|d| p.left(d).units()).sum();
                    out.push(self.cause(
                        l,
                        j,
                        "days",
                        pool0,
                        pool_left,
                        pool_left - now,
                        Some(Pool::people_at_once(e)),
                        took_days,
                    ));
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)] // One cause's figures, named at the one call site.
    fn cause(
        &self,
        l: &ListModel,
        j: usize,
        kind: &'static str,
        supply: i64,
        left: i64,
        got: i64,
        at_once: Option<i64>,
        mut took: Vec<(u32, i64)>,
    ) -> Cause {
        took.retain(|&(_, t)| t > 0);
        // Largest first; equal takes in rank order.
        took.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let a = &self.input.arena;
        let taker = |&(pos, t): &(u32, i64)| {
            let w = &self.input.work[l.items[pos as usize] as usize];
            Taker {
                id: a.str(w.id).to_owned(),
                name: a.str(w.name).to_owned(),
                rank: w.rank,
                track: w.track.map(|t| self.input.tracks.name(t).to_owned()),
                took: Amount::from_units(t),
            }
        };
        let taken_by = took.iter().take(TAKERS).map(taker).collect();
        let rest = took.get(TAKERS..).unwrap_or(&[]);
        Cause {
            skill: self.skill_name(j).to_owned(),
            kind,
            people: l.lanes[j].heads,
            supply: Amount::from_units(supply),
            taken_above: Amount::from_units(supply - left),
            left: Amount::from_units(left),
            asks: self.amount(j),
            got: Amount::from_units(got),
            at_once,
            taken_by,
            others: Others {
                items: rest.len(),
                took: Amount::from_units(rest.iter().map(|&(_, t)| t).sum()),
            },
        }
    }

    /// The fewest people, per skill that ran out, added to the item's
    /// track: binary search on the count (more people never make an item
    /// later or shorter: supply and every day's availability only grow).
    fn staff_fix(&self) -> std::result::Result<Candidate, String> {
        let Some(track) = self.hire_track else {
            return Err("the plan has no track to add people to".into());
        };
        let track = self.input.tracks.name(track).to_owned();
        let mut counts = Vec::new();
        for j in self.troubled() {
            let fits = |n: u32| self.fits(j, n, |l| l.at, self.amount(j));
            let (mut lo, mut hi) = (0u32, 1u32);
            while !fits(hi) {
                if hi == lang::MAX_COUNT {
                    let at_once = Pool::people_at_once(self.amount(j));
                    return Err(format!(
                        "no number of {} people up to {} in {track} fixes it{}",
                        self.skill_name(j),
                        lang::MAX_COUNT,
                        if self.lists.iter().any(|l| l.lanes[j].sched) {
                            format!(
                                " ({} {} at most work on its {} person-weeks at once, and the days until the end are too few for that)",
                                at_once,
                                if at_once == 1 { "person" } else { "people" },
                                num(self.amount(j))
                            )
                        } else {
                            String::new()
                        }
                    ));
                }
                lo = hi;
                hi = (hi * 2).min(lang::MAX_COUNT);
            }
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if fits(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            counts.push((j, hi));
        }
        let line = |j: usize, n: u32| {
            Change::AddStaff {
                name: format!("{} {HIRE}", self.skill_name(j)),
                track: track.clone(),
                skill: self.skill_name(j).to_owned(),
                team: None,
                count: n,
            }
            .to_string()
        };
        let lines = |less: Option<usize>| -> Vec<String> {
            counts
                .iter()
                .enumerate()
                .filter_map(|(i, &(j, n))| {
                    let n = if Some(i) == less { n - 1 } else { n };
                    (n > 0).then(|| line(j, n))
                })
                .collect()
        };
        let people: Vec<People> = counts
            .iter()
            .map(|&(j, n)| People {
                skill: self.skill_name(j).to_owned(),
                track: track.clone(),
                count: n,
            })
            .collect();
        let summary = people
            .iter()
            .map(|p| {
                format!(
                    "{} more {} {} in {}",
                    p.count,
                    p.skill,
                    if p.count == 1 { "person" } else { "people" },
                    p.track
                )
            })
            .collect::<Vec<_>>()
            .join(" and ");
        Ok(Candidate {
            kind: "staff",
            changes: lines(None),
            summary,
            smaller: (0..counts.len()).map(|i| lines(Some(i))).collect(),
            people,
            cuts: Vec::new(),
            rank: None,
        })
    }

    /// The smallest cut, in tenths of a person-week, of each amount that
    /// ran out. Less work never hurts with the same number of people at
    /// once, but an amount over 2 person-weeks may be worked on by several
    /// people at once, so a cut can make it later: the cuts are searched
    /// in runs of the same effective number of people at once, the first
    /// run (the smallest cuts) with a fix giving the smallest cut.
    fn estimate_fix(&self) -> Candidate {
        let estimate = self.estimate.clone().unwrap_or_default();
        let mut cuts: Vec<(usize, i64)> = Vec::new();
        for j in self.troubled() {
            let e = self.amount(j).units();
            let states: Vec<LaneState> = self
                .lists
                .iter()
                .map(|l| self.state(&l.lanes[j], 0, l.at))
                .collect();
            // The most people any day: more at once than that is the same.
            let most = self
                .lists
                .iter()
                .flat_map(|l| l.lanes[j].avail.iter().copied())
                .max()
                .unwrap_or(0)
                .max(1) as i64;
            let step = CUT_STEP.units();
            let last = e / step + i64::from(e % step != 0);
            let left = |k: i64| Amount::from_units(e.saturating_sub(k.saturating_mul(step)).max(0));
            let at_once = |k: i64| Pool::people_at_once(left(k)).min(most);
            let fits = |k: i64| states.iter().all(|s| s.fits(left(k)));
            let mut lo = 1;
            let mut found = last;
            while lo <= last {
                // The run of cuts from lo with the same people at once.
                let c = at_once(lo);
                let (mut a, mut b) = (lo, last);
                while a < b {
                    let mid = a + (b - a + 1) / 2;
                    if at_once(mid) == c {
                        a = mid;
                    } else {
                        b = mid - 1;
                    }
                }
                let end = a;
                if fits(end) {
                    let (mut a, mut b) = (lo, end);
                    while a < b {
                        let mid = a + (b - a) / 2;
                        if fits(mid) {
                            b = mid;
                        } else {
                            a = mid + 1;
                        }
                    }
                    found = a;
                    break;
                }
                lo = end + 1;
            }
            cuts.push((j, found));
        }
        let step = CUT_STEP.units();
        let new_amount = |j: usize, k: i64| {
            let e = self.amount(j).units();
            Amount::from_units(e.saturating_sub(k.saturating_mul(step)).max(0))
        };
        let line = |less: Option<usize>| -> Vec<String> {
            let mut parts: Vec<(String, Amount)> = estimate
                .iter()
                .map(|&(k, a)| (self.input.skills.name(k).to_owned(), a))
                .collect();
            let mut changed = false;
            for (i, &(j, k)) in cuts.iter().enumerate() {
                let k = if Some(i) == less { k - 1 } else { k };
                if k > 0 {
                    parts[j].1 = new_amount(j, k);
                    changed = true;
                }
            }
            if !changed {
                return Vec::new();
            }
            vec![Change::Estimate {
                item: self.item_id().to_owned(),
                estimate: Some(parts),
            }
            .to_string()]
        };
        let cut_list: Vec<Cut> = cuts
            .iter()
            .map(|&(j, k)| Cut {
                skill: self.skill_name(j).to_owned(),
                from: self.amount(j),
                to: new_amount(j, k),
                cut: Amount::from_units(self.amount(j).units() - new_amount(j, k).units()),
            })
            .collect();
        let summary = cut_list
            .iter()
            .map(|c| {
                format!(
                    "{} person-weeks less {}, from {} to {}",
                    num(c.cut),
                    c.skill,
                    num(c.from),
                    num(c.to)
                )
            })
            .collect::<Vec<_>>()
            .join(" and ");
        Candidate {
            kind: "estimate",
            changes: line(None),
            summary,
            smaller: (0..cuts.len()).map(|i| line(Some(i))).collect(),
            people: Vec::new(),
            cuts: cut_list,
            rank: None,
        }
    }

    fn item_id(&self) -> &str {
        self.input.arena.str(self.input.work[self.target].id)
    }

    /// The least move up: `rank ITEM R` puts the item ahead of every other
    /// item ranked R or after, so the candidates are the ranks of the
    /// items ahead of it in `All`; binary search on them (the higher it
    /// stands, the fewer items take from its supply and days before it).
    fn rank_fix(&self) -> std::result::Result<Candidate, String> {
        let all = &self.lists[0];
        let mut ranks: Vec<i64> = all.ranks[..all.at].to_vec();
        ranks.dedup();
        let own = self.input.work[self.target].rank;
        if ranks.is_empty() {
            return Err(format!(
                "it is first in All already (rank {own}), and no move up can fix it"
            ));
        }
        let cutoff = |r: i64| move |l: &ListModel| l.ranks[..l.at].partition_point(|&x| x < r);
        let n = self.estimate.as_ref().map_or(0, Vec::len);
        let fits = |r: i64| (0..n).all(|j| self.fits(j, 0, cutoff(r), self.amount(j)));
        if !fits(ranks[0]) {
            return Err(format!(
                "even first of all (rank {}) it is not fixed",
                ranks[0]
            ));
        }
        // ranks[..=lo] fit, ranks[hi..] do not.
        let (mut lo, mut hi) = (0, ranks.len());
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(ranks[mid]) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let to = ranks[lo];
        let line = |r: i64| {
            Change::Rank {
                item: self.item_id().to_owned(),
                rank: r,
            }
            .to_string()
        };
        let smaller = match ranks.get(hi) {
            Some(&r) => vec![line(r)],
            None => Vec::new(),
        };
        let ahead: Vec<(String, usize)> = self
            .lists
            .iter()
            .map(|l| (l.name.clone(), l.at - cutoff(to)(l)))
            .collect();
        let summary = format!(
            "from rank {own} to {to}: ahead of {}",
            ahead
                .iter()
                .map(|(l, k)| format!("{k} more {} in {l}", if *k == 1 { "item" } else { "items" }))
                .collect::<Vec<_>>()
                .join(" and ")
        );
        Ok(Candidate {
            kind: "rank",
            changes: vec![line(to)],
            summary,
            smaller: vec![smaller],
            people: Vec::new(),
            cuts: Vec::new(),
            rank: Some(RankMove {
                from: own,
                to,
                ahead,
            }),
        })
    }
}

/// One lane: the list's people of `skill` and the other items' amounts in it.
fn lane(
    input: &Input,
    cal: &Calendar,
    workdays: i64,
    vacations: &[Vec<u32>],
    track: Option<u32>,
    skill: u32,
    others: &[(i64, u32)],
) -> Lane {
    let sched = input
        .params
        .sched
        .iter()
        .any(|s| s == input.skills.name(skill));
    let mut heads = 0u32;
    let mut away = 0i64;
    let mut avail: Vec<u32> = Vec::new();
    let members = input
        .staff
        .iter()
        .enumerate()
        .filter(|(_, p)| p.skill == Some(skill) && (track.is_none() || p.track == track));
    let members: Vec<usize> = members.map(|(i, _)| i).collect();
    heads = heads.saturating_add(members.len() as u32);
    if sched {
        avail = cal
            .workday
            .iter()
            .map(|&w| if w { heads } else { 0 })
            .collect();
    }
    for &p in &members {
        away += vacations[p].len() as i64;
        if sched {
            for &d in &vacations[p] {
                avail[d as usize] -= 1;
            }
        }
    }
    let mut demand = Vec::new();
    for (pos, &(_, i)) in others.iter().enumerate() {
        let w = &input.work[i as usize];
        if let Some(e) = w.estimate {
            if let Some(&(_, a)) = input.arena.amounts(e).iter().find(|(k, _)| *k == skill) {
                demand.push((pos as u32, a));
            }
        }
    }
    Lane {
        sched,
        heads,
        days: i64::from(heads) * workdays - away,
        avail,
        demand,
    }
}

/// A person's vacation days on workdays of the plan, each once (as the
/// engine counts them).
fn vacation_workdays(
    cal: &Calendar,
    vacation: &[(chrono::NaiveDate, chrono::NaiveDate)],
) -> Vec<u32> {
    let mut days = Vec::new();
    if cal.days() == 0 {
        return days;
    }
    let last = cal.date(cal.days() - 1);
    for &(from, to) in vacation {
        let (Some(a), Some(b)) = (cal.index(from.max(cal.start)), cal.index(to.min(last))) else {
            continue;
        };
        days.extend((a..=b).filter(|&d| cal.workday[d]).map(|d| d as u32));
    }
    days.sort_unstable();
    days.dedup();
    days
}

fn num(a: Amount) -> String {
    let mut s = String::new();
    push_num(&mut s, a);
    s
}

/// The explanation as text to read.
pub fn text(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    let it = &e.item;
    write!(out, "{} {:?}: rank {}", it.id, it.name, it.rank)?;
    if let Some(t) = &it.track {
        write!(out, ", track {t}")?;
    }
    if it.estimate.is_empty() {
        writeln!(out, ", not estimated")?;
    } else {
        writeln!(out, ", estimate {}", it.estimate)?;
    }
    if let Some(b) = &e.based_on {
        writeln!(out, "Based on {b}.")?;
    }
    writeln!(out)?;
    if e.fine {
        let lists: Vec<String> = e
            .lists
            .iter()
            .map(|l| format!("{} (done {})", l.list, l.date.as_deref().unwrap_or("")))
            .collect();
        writeln!(
            out,
            "{} is neither short nor late: above the line and done before the end in {}.",
            it.id,
            lists.join(" and ")
        )?;
        return Ok(());
    }
    for l in &e.lists {
        if l.fine {
            writeln!(
                out,
                "In {}: above the line, done {}.",
                l.list,
                l.date.as_deref().unwrap_or("")
            )?;
            continue;
        }
        let mut status = Vec::new();
        if !l.shortage.is_empty() {
            status.push(format!("short {}", l.shortage));
        }
        match &l.date {
            None => status.push("DNF (not done by the end)".into()),
            Some(d) => status.push(format!("done {d}")),
        }
        writeln!(out, "In {}: {}.", l.list, status.join(", "))?;
        for c in &l.causes {
            let (s, a) = (num(c.supply), num(c.asks));
            let (t, left, got) = (num(c.taken_above), num(c.left), num(c.got));
            let people = format!(
                "{} {} {}",
                c.people,
                c.skill,
                if c.people == 1 { "person" } else { "people" }
            );
            if c.kind == "supply" {
                writeln!(
                    out,
                    "  {} ran out in {}: supply {s} person-weeks ({people}); the items ranked above took {t}, leaving {left}; {} asks {a}: short by {}.",
                    c.skill,
                    l.list,
                    it.id,
                    num(Amount::from_units(c.asks.units() - c.got.units()))
                )?;
            } else {
                let at_once = c.at_once.unwrap_or(1);
                writeln!(
                    out,
                    "  {}'s days ran out in {}: {people}, {s} person-weeks of days until the end; the items ranked above took {t}, leaving {left}; {} needs {a}, at most {at_once} {} at once, and gets {got} done by the end.",
                    c.skill,
                    l.list,
                    it.id,
                    if at_once == 1 { "person" } else { "people" }
                )?;
            }
            if !c.taken_by.is_empty() {
                writeln!(
                    out,
                    "    Taken above it ({}, person-weeks, largest first):",
                    c.skill
                )?;
                for k in &c.taken_by {
                    writeln!(
                        out,
                        "    {:>9}  {}  {:?}  rank {}{}",
                        num(k.took),
                        k.id,
                        k.name,
                        k.rank,
                        k.track
                            .as_deref()
                            .map(|t| format!(", {t}"))
                            .unwrap_or_default()
                    )?;
                }
                if c.others.items > 0 {
                    writeln!(
                        out,
                        "    {:>9}  and {} more {}",
                        num(c.others.took),
                        c.others.items,
                        if c.others.items == 1 { "item" } else { "items" }
                    )?;
                }
            }
        }
    }
    writeln!(out)?;
    if !e.fixes.is_empty() {
        writeln!(
            out,
            "Smallest single changes that fix it, each verified by re-running the plan with it (paste into qwhatif):"
        )?;
        for f in &e.fixes {
            for c in &f.changes {
                writeln!(out, "  {c}")?;
            }
            let mut why = format!("    {}", f.summary);
            if f.kind == "estimate" {
                why.push_str(" (cuts in tenths of a person-week)");
            }
            writeln!(out, "{why}.")?;
            for s in &f.smaller {
                let still: Vec<String> = s
                    .result
                    .iter()
                    .filter(|r| !r.fine())
                    .map(ListState::text)
                    .collect();
                if s.changes.is_empty() {
                    writeln!(out, "    Without it: {}.", still.join("; "))?;
                } else {
                    writeln!(
                        out,
                        "    One step less, `{}`, does not: {}.",
                        s.changes.join("; "),
                        still.join("; ")
                    )?;
                }
            }
        }
    }
    for n in &e.no_fix {
        writeln!(out, "No {} change fixes it: {}.", n.kind, n.why)?;
    }
    Ok(())
}

/// The explanation as one JSON document.
pub fn json(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, e)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::plan::input::{read, Loaded};
    use crate::stream::Reader;

    fn input_of(text: &str) -> Input {
        match read(&mut Reader::new(text.as_bytes())).expect("valid plan") {
            Loaded::Input(i) => *i,
            Loaded::Results(_) => panic!("not an input"),
        }
    }

    /// Two weeks, Mon 2013-10-07 to Fri 2013-10-18, no holidays: 10
    /// workdays (days 0–9). Ann and Ben do Apps in Tenor: 2 people a day,
    /// 20 person-days, supply 4 person-weeks. Apps schedules.
    ///
    /// - A1 (Apps:2, 1 at once, 10 person-days) takes one person days 0–9.
    /// - A2 (Apps:1.5, 1 at once, 7.5 person-days) the other, days 0–7
    ///   (half of day 7): left are 0.5 + 1 + 1 = 2.5 person-days (days
    ///   7–9), 0.5 person-weeks.
    /// - X (Apps:6, 3 at once, 30 person-days): supply 4 − 2 − 1.5 = 0.5,
    ///   it asks 6: short by 5.5 (Apps:-5.5); it gets the 2.5 person-days
    ///   left (0.5 person-weeks) and is DNF. Same in All (all in Tenor).
    ///   Cindy does Web in Bass and nothing else matters.
    const PLAN_A: &str = "=====qplan params v1
\t2013-10-07\t2013-10-18\tApps
=====qplan holidays v1
=====qplan staff v1
\tp1\tAnn\tT\tTenor\tApps\t
\tp2\tBen\tT\tTenor\tApps\t
\tp3\tCindy\tT\tBass\tWeb\t
=====qplan work v1
\tA1\t1\tFirst\tApps:2\t1\tTenor
\tA2\t2\tSecond\tApps:1.5\t1\tTenor
\tX\t3\tBig one\tApps:6\t1\tTenor
\tW\t4\tWeb thing\tWeb:1\t1\tBass
=====end
";

    /// The same two weeks and two Apps people in Tenor (supply 4). Four
    /// items of Apps:1 (5 person-days each, 1 at once): B1 and B2 take both
    /// people days 0–4, B3 and B4 days 5–9. Y (Apps:2, 10 person-days, 1 at
    /// once) finds no day left: DNF; supply 4 − 4 = 0, it asks 2: short 2.
    const PLAN_B: &str = "=====qplan params v1
\t2013-10-07\t2013-10-18\tApps
=====qplan holidays v1
=====qplan staff v1
\tp1\tAnn\tT\tTenor\tApps\t
\tp2\tBen\tT\tTenor\tApps\t
=====qplan work v1
\tB1\t1\tOne\tApps:1\t1\tTenor
\tB2\t2\tTwo\tApps:1\t1\tTenor
\tB3\t3\tThree\tApps:1\t1\tTenor
\tB4\t4\tFour\tApps:1\t1\tTenor
\tY\t5\tWhy\tApps:2\t1\tTenor
=====end
";

    fn fix<'a>(e: &'a Explanation, kind: &str) -> &'a Fix {
        e.fixes
            .iter()
            .find(|f| f.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} fix: {:?}", e.no_fix))
    }

    /// The item's standing in its lists after `script`, by the engine.
    fn after(plan: &str, script: &str, id: &str) -> Vec<ListState> {
        let base = input_of(plan);
        let changes = lang::parse("test", script).expect("script");
        let r = compute(apply::apply(&base, &changes).expect("applies")).expect("computes");
        let lists = Model::new(&base, find_item(&base, id).unwrap()).list_names();
        standing(&r, id, &lists)
    }

    fn fixed(plan: &str, script: &str, id: &str) -> bool {
        after(plan, script, id).iter().all(ListState::fine)
    }

    #[test]
    fn the_supply_and_the_days_that_ran_out_and_who_took_them() {
        let e = explain(&input_of(PLAN_A), "X").unwrap();
        assert!(!e.fine);
        assert_eq!(e.lists.len(), 2);
        let tenor = &e.lists[1];
        assert_eq!(tenor.list, "Tenor");
        assert_eq!(tenor.date, None);
        assert_eq!(tenor.shortage, "Apps:-5.5");
        let [supply, days] = &tenor.causes[..] else {
            panic!("{:?}", tenor.causes)
        };
        // Supply 4, A1 and A2 took 2 and 1.5, 0.5 left of the 6 asked.
        assert_eq!(supply.kind, "supply");
        assert_eq!(supply.people, 2);
        assert_eq!(num(supply.supply), "4");
        assert_eq!(num(supply.taken_above), "3.5");
        assert_eq!(num(supply.left), "0.5");
        assert_eq!(num(supply.asks), "6");
        let took: Vec<(&str, String)> = supply
            .taken_by
            .iter()
            .map(|t| (t.id.as_str(), num(t.took)))
            .collect();
        assert_eq!(took, [("A1", "2".into()), ("A2", "1.5".into())]);
        // Days: 20 person-days (4 person-weeks), 17.5 taken, 2.5 left
        // (0.5 person-weeks), all of which X gets; 3 people at once.
        assert_eq!(days.kind, "days");
        assert_eq!(num(days.supply), "4");
        assert_eq!(num(days.left), "0.5");
        assert_eq!(num(days.got), "0.5");
        assert_eq!(days.at_once, Some(3));
        assert_eq!(days.taken_by.len(), 2);
    }

    #[test]
    fn fewest_people_cut_and_their_next_smaller_change() {
        let e = explain(&input_of(PLAN_A), "X").unwrap();
        // Staff: n people add 2n person-weeks; 4 + 2n − 3.5 ≥ 6 needs
        // n ≥ 2.75, so 3. With 3 (5 people a day) X takes 3 a day on days
        // 0–6 (21), 3 on days 7, 8, 9 (the others take 1.5 and 1 on day 7,
        // 1 on days 8–9): 30 on day 9, 2013-10-18. With 2: 4 + 4 − 3.5 =
        // 4.5, short by 1.5, and 2·7 + 2.5 + 3 + 3 = 22.5 of 30: DNF.
        let staff = fix(&e, "staff");
        assert_eq!(
            staff.changes,
            ["add staff \"Apps hire\" track=Tenor skill=Apps count=3"]
        );
        assert_eq!(
            staff.smaller[0].changes,
            ["add staff \"Apps hire\" track=Tenor skill=Apps count=2"]
        );
        let two = &staff.smaller[0].result[1];
        assert_eq!(
            (two.date.as_deref(), two.shortage.as_str()),
            (None, "Apps:-1.5")
        );
        assert!(fixed(PLAN_A, &staff.changes[0], "X"));
        assert!(!fixed(PLAN_A, &staff.smaller[0].changes[0], "X"));
        let three = after(PLAN_A, &staff.changes[0], "X");
        assert_eq!(three[1].date.as_deref(), Some("2013-10-18"));
        // Estimate: 0.5 person-weeks of supply and of days are left at its
        // turn, so 6 → 0.5 (a cut of 5.5); at 0.6 it is short 0.1 and
        // needs 3 person-days of the 2.5 left: DNF.
        let cut = fix(&e, "estimate");
        assert_eq!(cut.changes, ["estimate X Apps:0.5"]);
        assert_eq!(num(cut.cuts[0].cut), "5.5");
        assert_eq!(cut.smaller[0].changes, ["estimate X Apps:0.6"]);
        assert_eq!(cut.smaller[0].result[1].shortage, "Apps:-0.1");
        assert!(fixed(PLAN_A, "estimate X Apps:0.5", "X"));
        assert!(!fixed(PLAN_A, "estimate X Apps:0.6", "X"));
        // Rank: first of all it has 4 of supply for its 6: no move fixes it.
        assert!(e.fixes.iter().all(|f| f.kind != "rank"));
        assert!(e.no_fix.iter().any(|n| n.kind == "rank"));
    }

    #[test]
    fn least_move_up_and_one_place_less() {
        // Y after B1 only (rank 2, ahead of B2, B3, B4): supply 4 − 1 = 3
        // for its 2, and one person is free on days 0–9 (B1 takes the
        // other on days 0–4, B2–B4 come after): 10 person-days, done
        // 2013-10-18. After B1 and B2 (rank 3): days 0–4 are full, 5 days
        // are left for its 10 person-days at 1 at once: DNF.
        let e = explain(&input_of(PLAN_B), "Y").unwrap();
        let rank = fix(&e, "rank");
        assert_eq!(rank.changes, ["rank Y 2"]);
        let mv = rank.rank.as_ref().unwrap();
        assert_eq!((mv.from, mv.to), (5, 2));
        assert_eq!(mv.ahead, [("All".into(), 3), ("Tenor".into(), 3)]);
        assert_eq!(rank.smaller[0].changes, ["rank Y 3"]);
        assert!(fixed(PLAN_B, "rank Y 2", "Y"));
        assert!(!fixed(PLAN_B, "rank Y 3", "Y"));
        // People: each pool day is filled from day 0, so with n more the
        // four items of 1 at once fill days 0–4 while 2 + n ≤ 4 and Y (1 at
        // once, 10 person-days) needs a free person on every one of the 10
        // days: n = 3 (5 a day: 4 busy, 1 free on days 0–4, then 5 free),
        // done 2013-10-18. With n = 2, days 0–4 are full and Y gets days
        // 5–9 only: DNF, though not short (4 + 4 − 4 = 4 ≥ 2).
        let staff = fix(&e, "staff");
        assert_eq!(
            staff.changes,
            ["add staff \"Apps hire\" track=Tenor skill=Apps count=3"]
        );
        let two = &staff.smaller[0];
        assert_eq!(
            two.changes,
            ["add staff \"Apps hire\" track=Tenor skill=Apps count=2"]
        );
        assert_eq!(
            (
                two.result[1].date.as_deref(),
                two.result[1].shortage.as_str()
            ),
            (None, "")
        );
        assert!(fixed(PLAN_B, &staff.changes[0], "Y"));
        assert!(!fixed(PLAN_B, &two.changes[0], "Y"));
        // Nothing is left at its turn: the whole 2 is cut; 0.1 is short.
        assert_eq!(fix(&e, "estimate").changes, ["estimate Y Apps:0"]);
        assert!(!fixed(PLAN_B, "estimate Y Apps:0.1", "Y"));
    }

    #[test]
    fn a_fine_item_is_said_to_be_fine() {
        // B1 is first: supply 4 for its 1, done day 4 (2013-10-11).
        let e = explain(&input_of(PLAN_B), "One").unwrap();
        assert!(e.fine);
        assert!(e.fixes.is_empty() && e.no_fix.is_empty());
        assert_eq!(e.lists[0].date.as_deref(), Some("2013-10-11"));
        let mut out = Vec::new();
        text(&e, &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("B1 is neither short nor late"));
    }

    #[test]
    fn an_unknown_item_names_the_closest() {
        let err = explain(&input_of(PLAN_B), "Too").unwrap_err();
        assert_eq!(err.exit_code(), 65);
        let msg = err.to_string();
        assert!(msg.starts_with("ITEM, line 1, column 1: no work item has the id or name \"Too\"; the closest are \"Two\""), "{msg}");
    }

    #[test]
    fn at_most_ten_takers_and_a_count_of_the_rest() {
        // One Apps person, 10 days: supply 2. Twelve items of 0.1 take 1.2;
        // Z asks 1 of the 0.8 left: short 0.2.
        let mut plan = String::from(
            "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n=====qplan staff v1\n\tp1\tAnn\tT\tTenor\tApps\t\n=====qplan work v1\n",
        );
        for i in 1..=12 {
            plan.push_str(&format!("\tI{i}\t{i}\tItem {i}\tApps:0.1\t1\tTenor\n"));
        }
        plan.push_str("\tZ\t13\tZed\tApps:1\t1\tTenor\n=====end\n");
        let e = explain(&input_of(&plan), "Z").unwrap();
        let c = &e.lists[1].causes[0];
        assert_eq!(c.kind, "supply");
        assert_eq!(num(c.left), "0.8");
        assert_eq!(c.taken_by.len(), TAKERS);
        // Equal takes in rank order: I1..I10 listed, I11 and I12 counted.
        assert_eq!(c.taken_by[0].id, "I1");
        assert_eq!((c.others.items, num(c.others.took)), (2, "0.2".into()));
    }

    #[test]
    fn an_unestimated_item_has_no_fix_but_an_estimate() {
        let plan = PLAN_B.replace("\tY\t5\tWhy\tApps:2\t", "\tY\t5\tWhy\t\t");
        let e = explain(&input_of(&plan), "Y").unwrap();
        assert!(!e.fine && e.fixes.is_empty());
        assert!(e.no_fix[0].why.contains("has no estimate"));
    }

    /// A small random plan: 10 workdays, skills Apps (scheduling) and Web,
    /// two tracks, a few people with a vacation day or none, a few items.
    fn plan_strategy() -> impl Strategy<Value = String> {
        let person = (0..2usize, 0..2usize, proptest::option::of(0..14u32));
        let item = (1..6i64, 0..2usize, 0..12u32, 0..6u32, any::<bool>());
        (
            proptest::collection::vec(person, 0..5),
            proptest::collection::vec(item, 1..8),
        )
            .prop_map(|(people, items)| {
                let tracks = ["Tenor", "Bass"];
                let skills = ["Apps", "Web"];
                let mut s = String::from(
                    "=====qplan params v1\n\t2013-10-07\t2013-10-20\tApps\n=====qplan holidays v1\n\t2013-10-09\n=====qplan staff v1\n",
                );
                for (i, (t, k, vac)) in people.iter().enumerate() {
                    let vac = vac.map_or(String::new(), |d| format!("2013-10-{:02}", 7 + d));
                    s.push_str(&format!(
                        "\tp{i}\tP{i}\tT\t{}\t{}\t{vac}\n",
                        tracks[*t], skills[*k]
                    ));
                }
                s.push_str("=====qplan work v1\n");
                for (i, (rank, t, apps, web, both)) in items.iter().enumerate() {
                    let apps = format!("Apps:{}", f64::from(*apps) / 2.0);
                    let est = if *both {
                        format!("{apps},Web:{}", f64::from(*web) / 2.0)
                    } else {
                        apps
                    };
                    s.push_str(&format!("\tW{i}\t{rank}\tI{i}\t{est}\t1\t{}\n", tracks[*t]));
                }
                s.push_str("=====end\n");
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// On any plan, explain answers for every item, and every fix the
        /// search finds is one the engine confirms, smallest included (a
        /// disagreement is a "please report" instead of a fix).
        #[test]
        fn explain_answers_and_the_engine_confirms_every_fix(plan in plan_strategy()) {
            let base = input_of(&plan);
            for w in &base.work {
                let id = base.arena.str(w.id).to_owned();
                let e = explain(&base, &id).unwrap();
                for n in &e.no_fix {
                    prop_assert!(!n.why.contains("please report"), "{}: {}", id, n.why);
                }
                if !e.fine && w.estimate.is_some() {
                    // A cut to nothing always fixes an estimated item.
                    prop_assert!(e.fixes.iter().any(|f| f.kind == "estimate"), "{}", id);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The model the search runs on tells exactly what the engine
        /// computes after `apply`: for people added, a cut and a move up.
        #[test]
        fn the_model_agrees_with_the_engine(
            plan in plan_strategy(),
            which in 0..8usize,
            extra in 0..4u32,
            cut in 0..8i64,
            up in 0..8usize,
        ) {
            let base = input_of(&plan);
            let target = which % base.work.len();
            let m = Model::new(&base, target);
            let id = m.item_id().to_owned();
            let names = m.list_names();
            let n = m.estimate.as_ref().map_or(0, Vec::len);
            let track = base.tracks.name(m.hire_track.unwrap()).to_owned();
            // People: one lane at a time (the others as they are).
            for j in 0..n {
                let skill = m.skill_name(j).to_owned();
                let script = if extra == 0 { String::new() } else {
                    format!("add staff H track={track} skill={skill} count={extra}")
                };
                let r = compute(apply::apply(&base, &lang::parse("t", &script).unwrap()).unwrap()).unwrap();
                let engine = standing(&r, &id, &names).iter().all(ListState::fine);
                let model = (0..n).all(|i| m.fits(i, if i == j { extra } else { 0 }, |l| l.at, m.amount(i)));
                prop_assert_eq!(engine, model, "add {} {}", extra, skill);
            }
            // A cut of the first amount.
            if n > 0 {
                let e = m.estimate.clone().unwrap();
                let to = Amount::from_units((e[0].1.units() - cut * CUT_STEP.units()).max(0));
                let mut parts: Vec<(String, Amount)> = e.iter().map(|&(k, a)| (base.skills.name(k).to_owned(), a)).collect();
                parts[0].1 = to;
                let script = Change::Estimate { item: id.clone(), estimate: Some(parts) }.to_string();
                let r = compute(apply::apply(&base, &lang::parse("t", &script).unwrap()).unwrap()).unwrap();
                let engine = standing(&r, &id, &names).iter().all(ListState::fine);
                let model = m.fits(0, 0, |l| l.at, to) && (1..n).all(|i| m.fits(i, 0, |l| l.at, m.amount(i)));
                prop_assert_eq!(engine, model, "{}", script);
            }
            // A move up to the rank of an item ahead of it in All.
            let all = &m.lists[0];
            if all.at > 0 && n > 0 {
                let r = all.ranks[all.at - 1 - up % all.at];
                let script = format!("rank {id} {r}");
                let res = compute(apply::apply(&base, &lang::parse("t", &script).unwrap()).unwrap()).unwrap();
                let engine = standing(&res, &id, &names).iter().all(ListState::fine);
                let model = (0..n).all(|j| m.fits(j, 0, |l| l.ranks[..l.at].partition_point(|&x| x < r), m.amount(j)));
                prop_assert_eq!(engine, model, "{}", script);
            }
        }
    }
}
