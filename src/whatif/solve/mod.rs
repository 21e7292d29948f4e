//! `qwhatif solve`: the cheapest combination of allowed changes that meets
//! a goal (issue 28).
//!
//! The ask ([`ask`]) names goal items (chosen on the baseline) and a menu
//! of changes with prices. The answer is the combination of menu lines of
//! least total price whose scenario meets the goal; ties go to fewer
//! lines, then to lines earlier in the menu. Chosen lines are applied in
//! menu order, through [`super::apply`], and computed by the one engine
//! ([`crate::plan::compute`]): the search never models the plan itself.
//!
//! # The search
//!
//! Combinations are taken in increasing order of their key (price, number
//! of lines, the lines used in menu order, their counts): each combination
//! but the empty one has one parent (its last line used once less), and a
//! child's key is always greater than its parent's (prices are never
//! negative; at equal price a child has more lines, or more uses of its
//! last line), so a heap holding the children of what was taken gives
//! every combination exactly once, in key order (best-first search). The
//! first combination, in that order, whose scenario meets the goal is the
//! answer, and it is *proven*: every combination of smaller key was
//! computed and fails. A combination found beforehand by a quick greedy
//! pass (every line at its most, then lines taken away while the goal
//! still holds) bounds the search: it ends at that key. A budget of
//! scenarios (`--max-scenarios`) or Ctrl-C end it early with the best found,
//! said to be unproven.
//!
//! Scenarios are computed in batches on every core; the batch grows with
//! the time a scenario takes so that the work past the answer stays small.
//!
//! # What is left out, and why that is exact
//!
//! A menu line that cannot change any goal item's result in any
//! combination is never part of the answer (it only adds price and a
//! line), so it is left out of the search, and the answer says so. Two
//! kinds are, by how the engine computes:
//!
//! - `triage`: the engine reads an item's triage for the demand table
//!   only; shortages and dates follow the estimate, the supply and the
//!   days. Goal items are chosen on the baseline, so a triage change does
//!   not change them either.
//! - `drop X` and `estimate X` of an item X ranked after every goal item,
//!   when no `rank` line of the menu moves X or a goal item: the engine
//!   walks each list (All, each track) in rank order, and an item's
//!   shortage and date depend only on the items before it in the list (the
//!   running supply and the per-day pools are used up in that order). No
//!   change reorders two items it does not name (`rank` shifts every other
//!   item at or after its rank by one, `add work` inserts, `drop` removes),
//!   so X stays after every goal item in every scenario. For `drop X`, X's
//!   presence must not change how other lines find their items: it is left
//!   out only when no other line names an item by X's name and no `add
//!   work` line gives an id. The property test
//!   `left_out_lines_change_nothing_of_the_goal` holds this to the engine.
//!
//! For speed, each scenario is computed on a smaller input that gives the
//! goal items the same results, by the same two facts: items ranked after
//! the last goal item are cut (nothing after an item changes it), and
//! tracks holding no goal item are emptied into `All` only (`All` holds
//! every person and item whatever their track; a track's list is computed
//! from its own people and items alone).

pub mod ask;
pub mod render;

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Mutex;
use std::time::Instant;

use chrono::NaiveDate;
use rustc_hash::{FxHashMap, FxHashSet};

use self::ask::{Ask, Offer};
use super::apply;
use super::lang::{closest_text, Change, Located};
use crate::error::{Error, Result};
use crate::model::amount::Amount;
use crate::model::{Input, ALL};
use crate::plan::{compute, Results};

/// The default budget of scenarios.
pub const MAX_SCENARIOS: u64 = 100_000;

/// How a search runs.
pub struct Options<'a> {
    /// At most this many scenarios are computed.
    pub max_scenarios: u64,
    /// Threads computing scenarios (at least 1).
    pub threads: usize,
    /// Set (by Ctrl-C) to end the search with the best found.
    pub stop: &'a AtomicBool,
    /// Told (tried, of) after each batch; `of` is the budget or the
    /// number of combinations, whichever is smaller.
    pub progress: &'a (dyn Fn(u64, u64) + Sync),
}

/// A goal item.
#[derive(Debug, Clone)]
pub struct GoalItem {
    pub id: String,
    pub name: String,
    pub rank: i64,
    /// Its own track, if any.
    pub track: Option<String>,
}

/// An item in one of its lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListState {
    pub list: String,
    /// `None`: DNF.
    pub date: Option<NaiveDate>,
    /// `Apps:-1.5, Web:-2`; empty when above the line.
    pub shortage: String,
}

/// A goal item in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Empty when the item is not in the scenario (dropped).
    pub lists: Vec<ListState>,
    /// Above the line and done by the goal's date in every list.
    pub met: bool,
}

impl Standing {
    /// `All: done 2013-12-10; Bass: short Apps:-1.5, DNF` (`dropped` when
    /// the item is not in the scenario). A date after `by` says so.
    pub fn text(&self, by: NaiveDate) -> String {
        if self.lists.is_empty() {
            return "dropped".into();
        }
        self.lists
            .iter()
            .map(|l| {
                let mut t = format!("{}: ", l.list);
                if !l.shortage.is_empty() {
                    t.push_str(&format!("short {}, ", l.shortage));
                }
                match l.date {
                    None => t.push_str("DNF"),
                    Some(d) if d > by => t.push_str(&format!("done {d} (after {by})")),
                    Some(d) => t.push_str(&format!("done {d}")),
                }
                t
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// One line of an answer: menu line `offer` (index into the menu) used
/// `uses` times.
#[derive(Debug, Clone)]
pub struct Use {
    pub offer: usize,
    pub uses: u32,
    /// The change as applied (`count=` multiplied by the uses).
    pub change: Located,
    /// Its price: uses × the line's price.
    pub cost: u128,
}

/// A combination and what it does to the goal items.
#[derive(Debug, Clone)]
pub struct Found {
    pub uses: Vec<Use>,
    /// In billionths, as [`Amount`].
    pub cost: u128,
    pub after: Vec<Standing>,
}

impl Found {
    pub fn met(&self) -> usize {
        self.after.iter().filter(|s| s.met).count()
    }

    /// The change script, one change a line, in menu order.
    pub fn script(&self) -> String {
        super::lang::script_text(self.uses.iter().map(|u| &u.change.change))
    }
}

/// How the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Every combination that could be cheaper was computed.
    Complete,
    /// The budget of scenarios ran out.
    Budget,
    /// Ctrl-C.
    Interrupted,
}

/// A menu line left out of the search, and why.
#[derive(Debug, Clone)]
pub struct LeftOut {
    pub offer: usize,
    pub why: String,
}

/// A goal item no combination meets, and why.
#[derive(Debug, Clone)]
pub struct Unreachable {
    pub item: usize,
    pub why: String,
}

/// The answer to an ask.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The goal's filters as written.
    pub goal: String,
    pub by: NaiveDate,
    pub items: Vec<GoalItem>,
    /// The goal items in the plan as it is.
    pub before: Vec<Standing>,
    /// The cheapest combination found that meets the goal.
    pub found: Option<Found>,
    /// `found` is the cheapest there is (or, with none found, no
    /// combination meets the goal).
    pub proven: bool,
    pub end: End,
    /// Scenarios computed.
    pub tried: u64,
    /// Combinations of the menu lines searched (saturating).
    pub combinations: u128,
    /// Combinations whose changes could not all be made (a line naming an
    /// item an earlier line dropped…).
    pub not_applied: u64,
    pub left_out: Vec<LeftOut>,
    /// With none found: the cheapest combination that meets the goal for
    /// the most goal items.
    pub most: Option<Found>,
    /// With none found and the search complete: the goal items no
    /// combination meets.
    pub unreachable: Vec<Unreachable>,
    /// The menu, for the answer's text.
    pub menu: Vec<Offer>,
    /// The data the input came from.
    pub based_on: Option<String>,
}

/// What the search computes for each scenario.
struct Ctx<'a> {
    base: &'a Input,
    menu: Vec<&'a Offer>,
    /// Indices into the menu of `menu`.
    index: Vec<usize>,
    goal_ids: FxHashMap<String, usize>,
    goal_tracks: Vec<String>,
    /// Per goal item, its lists' names (All, its track).
    lists: Vec<Vec<String>>,
    by: NaiveDate,
}

/// A scenario computed.
#[derive(Clone)]
struct Eval {
    /// `None`: the changes could not all be made.
    after: Option<Vec<Standing>>,
}

impl Eval {
    fn met(&self) -> usize {
        self.after
            .as_ref()
            .map_or(0, |a| a.iter().filter(|s| s.met).count())
    }
}

impl Ctx<'_> {
    fn changes(&self, counts: &[u32]) -> Vec<Located> {
        counts
            .iter()
            .zip(&self.menu)
            .filter(|(&k, _)| k > 0)
            .map(|(&k, o)| o.used(k))
            .collect()
    }

    fn eval(&self, counts: &[u32]) -> Result<Eval> {
        let changes = self.changes(counts);
        let Ok(mut s) = apply::apply(self.base, &changes) else {
            return Ok(Eval { after: None });
        };
        self.reduce(&mut s);
        let r = compute(s)?;
        Ok(Eval {
            after: Some(self.standings(&r)),
        })
    }

    /// The smaller input that gives the goal items the same results (see
    /// the module's documentation).
    fn reduce(&self, s: &mut Input) {
        let mut cut: Option<(i64, usize)> = None;
        for (i, w) in s.work.iter().enumerate() {
            if self.goal_ids.contains_key(s.arena.str(w.id)) {
                cut = cut.max(Some((w.rank, i)));
            }
        }
        match cut {
            None => s.work.clear(),
            Some(cut) => {
                let mut i = 0;
                s.work.retain(|w| {
                    let keep = (w.rank, i) <= cut;
                    i += 1;
                    keep
                });
            }
        }
        let keep: Vec<u32> = self
            .goal_tracks
            .iter()
            .filter_map(|t| s.tracks.get(t))
            .collect();
        for t in s
            .work
            .iter_mut()
            .map(|w| &mut w.track)
            .chain(s.staff.iter_mut().map(|p| &mut p.track))
        {
            if t.is_some_and(|x| !keep.contains(&x)) {
                *t = None;
            }
        }
    }

    fn standings(&self, r: &Results) -> Vec<Standing> {
        let mut rows: Vec<FxHashMap<&str, (Option<NaiveDate>, String)>> =
            vec![FxHashMap::default(); r.tracks.len()];
        let wanted: FxHashSet<&str> = self.lists.iter().flatten().map(String::as_str).collect();
        for (t, name) in r.tracks.iter().enumerate() {
            if !wanted.contains(name.as_str()) {
                continue;
            }
            for row in &r.work[t] {
                let id = r.id(r.item(row));
                if self.goal_ids.contains_key(id) {
                    rows[t].insert(id, (row.done, r.amounts_text(r.shortage(row))));
                }
            }
        }
        let mut out = vec![
            Standing {
                lists: Vec::new(),
                met: false
            };
            self.goal_ids.len()
        ];
        for (id, &g) in &self.goal_ids {
            let mut lists = Vec::new();
            let mut met = true;
            for name in &self.lists[g] {
                let row = r
                    .tracks
                    .iter()
                    .position(|t| t == name)
                    .and_then(|t| rows[t].get(id.as_str()));
                match row {
                    Some((date, shortage)) => {
                        met &= shortage.is_empty() && date.is_some_and(|d| d <= self.by);
                        lists.push(ListState {
                            list: name.clone(),
                            date: *date,
                            shortage: shortage.clone(),
                        });
                    }
                    None => {
                        met = false;
                        lists.clear();
                        break;
                    }
                }
            }
            out[g] = Standing { lists, met };
        }
        out
    }

    fn cost(&self, counts: &[u32]) -> u128 {
        counts
            .iter()
            .zip(&self.menu)
            .map(|(&k, o)| u128::from(k) * o.cost.units() as u128)
            .sum()
    }

    fn found(&self, counts: &[u32], after: Vec<Standing>) -> Found {
        let uses = counts
            .iter()
            .enumerate()
            .filter(|(_, &k)| k > 0)
            .map(|(i, &k)| Use {
                offer: self.index[i],
                uses: k,
                change: self.menu[i].used(k),
                cost: u128::from(k) * self.menu[i].cost.units() as u128,
            })
            .collect();
        Found {
            uses,
            cost: self.cost(counts),
            after,
        }
    }
}

/// A combination in the search's order.
#[derive(Clone, PartialEq, Eq)]
struct Combo {
    cost: u128,
    lines: u32,
    counts: Vec<u32>,
}

impl Ord for Combo {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cost
            .cmp(&other.cost)
            .then(self.lines.cmp(&other.lines))
            .then_with(|| {
                // The lines used, in menu order: earlier lines first.
                let a = self.counts.iter().enumerate().filter(|(_, &k)| k > 0);
                let b = other.counts.iter().enumerate().filter(|(_, &k)| k > 0);
                for ((i, _), (j, _)) in a.zip(b) {
                    match i.cmp(&j) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                Ordering::Equal
            })
            .then_with(|| self.counts.cmp(&other.counts))
    }
}

impl PartialOrd for Combo {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Number of combinations of the menu (saturating).
fn combinations(menu: &[&Offer]) -> u128 {
    menu.iter()
        .fold(1u128, |n, o| n.saturating_mul(u128::from(o.max) + 1))
}

/// Answers `ask` on the plan `base`.
pub fn solve(base: &Input, ask: &Ask, opts: &Options) -> Result<Answer> {
    let source = ask.goal.source.clone();
    let goal = &ask.goal;
    // The goal items, on the baseline.
    let track = match &goal.track {
        None => None,
        Some((name, at)) => Some(base.tracks.get(name).filter(|_| name != ALL).ok_or_else(
            || {
                ask::ask_error(
                    &source,
                    *at,
                    format!(
                        "no track is called {name:?}; {}",
                        closest_text(name, base.tracks.iter())
                    ),
                )
            },
        )?),
    };
    let a = &base.arena;
    let mut chosen: Option<FxHashSet<usize>> = None;
    if let Some(ids) = &goal.items {
        let by_id: FxHashMap<&str, usize> = base
            .work
            .iter()
            .enumerate()
            .map(|(i, w)| (a.str(w.id), i))
            .collect();
        let mut set = FxHashSet::default();
        for (id, at) in ids {
            let Some(&i) = by_id.get(id.as_str()) else {
                return Err(ask::ask_error(
                    &source,
                    *at,
                    format!(
                        "no work item has the id {id:?}; {}",
                        closest_text(id, base.work.iter().map(|w| a.str(w.id)))
                    ),
                ));
            };
            set.insert(i);
        }
        chosen = Some(set);
    }
    let goal_idx: Vec<usize> = (0..base.work.len())
        .filter(|&i| {
            let w = &base.work[i];
            goal.triage.is_none_or(|t| w.triage <= t)
                && track.is_none_or(|t| w.track == Some(t))
                && chosen.as_ref().is_none_or(|c| c.contains(&i))
        })
        .collect();
    if goal_idx.is_empty() {
        return Err(ask::ask_error(
            &source,
            goal.at,
            "the goal names no item of the plan (its filters are ANDed)",
        ));
    }
    let by = goal.by.unwrap_or(base.params.end);
    let items: Vec<GoalItem> = goal_idx
        .iter()
        .map(|&i| {
            let w = &base.work[i];
            GoalItem {
                id: a.str(w.id).to_owned(),
                name: a.str(w.name).to_owned(),
                rank: w.rank,
                track: w.track.map(|t| base.tracks.name(t).to_owned()),
            }
        })
        .collect();
    // Every menu line must apply to the plan on its own, at its most.
    for o in &ask.menu {
        apply::apply(base, &[o.used(o.max)]).map_err(ask::as_ask_error)?;
    }
    let left_out = left_out(base, ask, &goal_idx);
    let out: FxHashSet<usize> = left_out.iter().map(|l| l.offer).collect();
    let index: Vec<usize> = (0..ask.menu.len()).filter(|i| !out.contains(i)).collect();
    let mut goal_tracks: Vec<String> = items.iter().filter_map(|g| g.track.clone()).collect();
    goal_tracks.sort();
    goal_tracks.dedup();
    let ctx = Ctx {
        base,
        menu: index.iter().map(|&i| &ask.menu[i]).collect(),
        index,
        goal_ids: items
            .iter()
            .enumerate()
            .map(|(g, it)| (it.id.clone(), g))
            .collect(),
        goal_tracks,
        lists: items
            .iter()
            .map(|it| {
                let mut l = vec![ALL.to_owned()];
                l.extend(it.track.clone());
                l
            })
            .collect(),
        by,
    };
    let mut search = Search::new(&ctx, opts);
    search.run()?;
    let Search {
        before,
        best,
        proven,
        end,
        tried,
        not_applied,
        most,
        reached,
        full,
        ..
    } = search;
    let before = before.unwrap_or_default();
    let found = best.map(|(c, after)| ctx.found(&c.counts, after));
    let most = if found.is_none() {
        most.map(|(_, c, after)| ctx.found(&c.counts, after))
    } else {
        None
    };
    let unreachable = if found.is_none() && end == End::Complete {
        (0..items.len())
            .filter(|&g| !reached[g])
            .map(|g| Unreachable {
                item: g,
                why: why_unreachable(&ctx, goal_idx[g], g, full.as_ref()),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Answer {
        goal: goal.text.clone(),
        by,
        items,
        before,
        found,
        proven,
        end,
        tried,
        combinations: combinations(&ctx.menu),
        not_applied,
        left_out,
        most,
        unreachable,
        menu: ask.menu.clone(),
        based_on: super::based_on(base.provenance.as_ref()),
    })
}

/// The menu lines that cannot change a goal item (see the module's
/// documentation for why each is exact).
fn left_out(base: &Input, ask: &Ask, goal_idx: &[usize]) -> Vec<LeftOut> {
    let a = &base.arena;
    let goal: FxHashSet<usize> = goal_idx.iter().copied().collect();
    let last = goal_idx
        .iter()
        .map(|&i| (base.work[i].rank, i))
        .max()
        .unwrap_or((i64::MIN, 0));
    // The item each item-naming line names, on the baseline.
    let named = |c: &Located| -> Option<(usize, String)> {
        let s = match &c.change {
            Change::Rank { item, .. }
            | Change::Estimate { item, .. }
            | Change::Triage { item, .. }
            | Change::Drop(item) => item,
            _ => return None,
        };
        apply::work(base, c, s).ok().map(|i| (i, s.clone()))
    };
    let targets: Vec<Option<(usize, String)>> = ask.menu.iter().map(|o| named(&o.change)).collect();
    let moved: FxHashSet<usize> = ask
        .menu
        .iter()
        .zip(&targets)
        .filter(|(o, _)| matches!(o.change.change, Change::Rank { .. }))
        .filter_map(|(_, t)| t.as_ref().map(|(i, _)| *i))
        .collect();
    let goal_moved = moved.iter().any(|i| goal.contains(i));
    let add_work_id = ask
        .menu
        .iter()
        .any(|o| matches!(&o.change.change, Change::AddWork { id: Some(_), .. }));
    // Far from the largest rank, so no shift of the menu's can overflow.
    let ranks_safe = base
        .work
        .iter()
        .all(|w| w.rank < i64::MAX - ask.menu.len() as i64 - 1);
    let mut out = Vec::new();
    for (k, (o, t)) in ask.menu.iter().zip(&targets).enumerate() {
        let Some((x, _)) = t else { continue };
        let x = *x;
        let behind = !goal.contains(&x)
            && !moved.contains(&x)
            && !goal_moved
            && ranks_safe
            && (base.work[x].rank, x) > last;
        let why = match &o.change.change {
            Change::Triage { .. } => Some(
                "a triage level changes no item's shortage or date, and goal items are chosen on the plan as it is"
                    .to_owned(),
            ),
            Change::Estimate { .. } if behind => Some(format!(
                "{} is ranked after every goal item, so its estimate cannot change them",
                a.str(base.work[x].id)
            )),
            Change::Drop(_) if behind && !add_work_id => {
                let name = a.str(base.work[x].name);
                let others_by_name = targets
                    .iter()
                    .enumerate()
                    .any(|(j, t)| j != k && t.as_ref().is_some_and(|(_, s)| s == name));
                (!others_by_name).then(|| {
                    format!(
                        "{} is ranked after every goal item, so dropping it cannot change them",
                        a.str(base.work[x].id)
                    )
                })
            }
            _ => None,
        };
        if let Some(why) = why {
            out.push(LeftOut { offer: k, why });
        }
    }
    out
}

/// Why goal item `g` (work index `w`) is met by no combination.
fn why_unreachable(ctx: &Ctx, w: usize, g: usize, full: Option<&Vec<Standing>>) -> String {
    let base = ctx.base;
    let item = &base.work[w];
    let names_it = |c: &Located| match &c.change {
        Change::Estimate { item, .. } => apply::work(base, c, item).ok() == Some(w),
        _ => false,
    };
    let Some(est) = item.estimate else {
        if !ctx.menu.iter().any(|o| names_it(&o.change)) {
            return "it has no estimate, and an item without one is never done (no allow line estimates it)".into();
        }
        return at_best(ctx, g, full);
    };
    if !ctx.menu.iter().any(|o| names_it(&o.change)) {
        // A skill of its estimate that no one has in one of its lists,
        // and no line adds.
        for &(k, amount) in base.arena.amounts(est) {
            if !amount.is_positive() {
                continue;
            }
            for list in &ctx.lists[g] {
                let t = if list == ALL {
                    None
                } else {
                    base.tracks.get(list)
                };
                let has = base
                    .staff
                    .iter()
                    .any(|p| p.skill == Some(k) && (t.is_none() || p.track == t));
                let skill = base.skills.name(k);
                let added = ctx.menu.iter().any(|o| match &o.change.change {
                    Change::AddStaff {
                        track, skill: s, ..
                    } => s == skill && (t.is_none() || track == list),
                    Change::ReskillStaff { skill: s, .. } => s == skill,
                    Change::MoveStaff { track, .. } => t.is_some() && track == list,
                    Change::Skills(_) => true,
                    _ => false,
                });
                if !has && !added {
                    return format!(
                        "it needs {} {skill} and no one in {list} has {skill} (no allow line adds one)",
                        num(amount)
                    );
                }
            }
        }
    }
    at_best(ctx, g, full)
}

fn at_best(ctx: &Ctx, g: usize, full: Option<&Vec<Standing>>) -> String {
    match full.map(|f| &f[g]) {
        Some(s) if !s.lists.is_empty() => format!(
            "even with every allowed line at its most it is {}",
            s.text(ctx.by)
        ),
        Some(_) => "with every allowed line at its most it is dropped".into(),
        None => "no combination of the menu meets it".into(),
    }
}

fn num(a: Amount) -> String {
    crate::rules::fields::fmt_num(a)
}

/// The state of a search.
struct Search<'a, 'o> {
    ctx: &'a Ctx<'a>,
    opts: &'a Options<'o>,
    heap: BinaryHeap<std::cmp::Reverse<Combo>>,
    /// The goal items in the plan as it is.
    before: Option<Vec<Standing>>,
    best: Option<(Combo, Vec<Standing>)>,
    proven: bool,
    end: End,
    tried: u64,
    not_applied: u64,
    /// With the goal unmet: (met, combination) of the one meeting the
    /// most, cheapest first.
    most: Option<(usize, Combo, Vec<Standing>)>,
    /// Per goal item, whether some scenario met it.
    reached: Vec<bool>,
    /// The goal items with every line at its most.
    full: Option<Vec<Standing>>,
    /// Seconds per scenario, measured.
    per_scenario: f64,
    total: u64,
}

impl<'a, 'o> Search<'a, 'o> {
    fn new(ctx: &'a Ctx<'a>, opts: &'a Options<'o>) -> Self {
        let total = u64::try_from(combinations(&ctx.menu))
            .unwrap_or(u64::MAX)
            .min(opts.max_scenarios);
        Search {
            ctx,
            opts,
            heap: BinaryHeap::new(),
            before: None,
            best: None,
            proven: false,
            end: End::Complete,
            tried: 0,
            not_applied: 0,
            most: None,
            reached: vec![false; ctx.goal_ids.len()],
            full: None,
            per_scenario: 0.0,
            total,
        }
    }

    fn combo(&self, counts: Vec<u32>) -> Combo {
        Combo {
            cost: self.ctx.cost(&counts),
            lines: counts.iter().filter(|&&k| k > 0).count() as u32,
            counts,
        }
    }

    fn budget_left(&self) -> u64 {
        self.opts.max_scenarios.saturating_sub(self.tried)
    }

    fn stopped(&self) -> bool {
        self.opts.stop.load(AtomicOrdering::Relaxed)
    }

    /// Computes a batch of combinations on every core; `None` for those
    /// not computed (Ctrl-C).
    fn batch(&mut self, combos: &[Combo]) -> Result<Vec<Option<Eval>>> {
        let started = Instant::now();
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Eval>>> = Mutex::new(vec![None; combos.len()]);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        let threads = self.opts.threads.clamp(1, combos.len().max(1));
        let ctx = self.ctx;
        let stop = self.opts.stop;
        let work = || loop {
            if stop.load(AtomicOrdering::Relaxed) {
                break;
            }
            let i = next.fetch_add(1, AtomicOrdering::Relaxed);
            let Some(c) = combos.get(i) else { break };
            match ctx.eval(&c.counts) {
                Ok(e) => lock(&results)[i] = Some(e),
                Err(e) => {
                    *lock(&failure) = Some(e);
                    stop_all(&next, combos.len());
                    break;
                }
            }
        };
        if threads == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 1..threads {
                    s.spawn(work);
                }
                work();
            });
        }
        if let Some(e) = lock(&failure).take() {
            return Err(e);
        }
        let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        let done = results.iter().filter(|r| r.is_some()).count() as u64;
        self.tried += done;
        if done > 0 {
            let per = started.elapsed().as_secs_f64() * threads as f64 / done as f64;
            self.per_scenario = if self.per_scenario == 0.0 {
                per
            } else {
                0.5 * (self.per_scenario + per)
            };
        }
        for (c, r) in combos.iter().zip(&results) {
            if let Some(e) = r {
                self.note(c, e);
            }
        }
        (self.opts.progress)(self.tried, self.total.max(self.tried));
        Ok(results)
    }

    /// Keeps what a computed scenario tells beyond meeting the goal.
    fn note(&mut self, c: &Combo, e: &Eval) {
        let Some(after) = &e.after else {
            self.not_applied += 1;
            return;
        };
        for (r, s) in self.reached.iter_mut().zip(after) {
            *r |= s.met;
        }
        let met = e.met();
        let better = match &self.most {
            None => true,
            Some((m, mc, _)) => met > *m || (met == *m && c < mc),
        };
        if better {
            self.most = Some((met, c.clone(), after.clone()));
        }
    }

    fn one(&mut self, counts: Vec<u32>) -> Result<Option<(Combo, Eval)>> {
        if self.budget_left() == 0 || self.stopped() {
            return Ok(None);
        }
        let c = self.combo(counts);
        let r = self.batch(std::slice::from_ref(&c))?;
        Ok(r.into_iter().next().flatten().map(|e| (c, e)))
    }

    fn meets(&self, e: &Eval) -> bool {
        e.met() == self.ctx.goal_ids.len() && e.after.is_some()
    }

    fn run(&mut self) -> Result<()> {
        let n = self.ctx.menu.len();
        // The plan as it is.
        let Some((root, e)) = self.one(vec![0; n])? else {
            self.end = self.ended();
            return Ok(());
        };
        self.before = e.after.clone();
        if self.meets(&e) {
            self.best = Some((root, e.after.unwrap_or_default()));
            self.proven = true;
            return Ok(());
        }
        self.greedy()?;
        // Best-first over the combinations, from the children of the
        // empty one (computed above).
        self.push_children(&root);
        let mut batch_size = self.opts.threads.max(1);
        loop {
            if self.stopped() {
                self.end = End::Interrupted;
                return Ok(());
            }
            let left = self.budget_left();
            if left == 0 {
                self.end = End::Budget;
                return Ok(());
            }
            let mut combos = Vec::new();
            while (combos.len() as u64) < left.min(batch_size as u64) {
                let Some(std::cmp::Reverse(c)) = self.heap.pop() else {
                    break;
                };
                if self.best.as_ref().is_some_and(|(b, _)| c >= *b) {
                    // Nothing left is cheaper than the best found.
                    self.heap.clear();
                    break;
                }
                self.push_children(&c);
                combos.push(c);
            }
            if combos.is_empty() {
                // Every combination cheaper than the best was computed.
                self.proven = true;
                self.end = End::Complete;
                return Ok(());
            }
            let results = self.batch(&combos)?;
            for (c, r) in combos.into_iter().zip(results) {
                match r {
                    None => {
                        self.end = End::Interrupted;
                        return Ok(());
                    }
                    Some(e) if self.meets(&e) => {
                        self.best = Some((c, e.after.unwrap_or_default()));
                        self.proven = true;
                        self.end = End::Complete;
                        return Ok(());
                    }
                    Some(_) => {}
                }
            }
            // About a fifth of a second of work per batch: little is
            // computed past the answer, threads are started seldom.
            let per = self.per_scenario.max(1e-6);
            let want = (0.2 * self.opts.threads as f64 / per) as usize;
            batch_size = want.clamp(self.opts.threads.max(1), 4096);
        }
    }

    fn ended(&self) -> End {
        if self.stopped() {
            End::Interrupted
        } else {
            End::Budget
        }
    }

    fn push_children(&mut self, c: &Combo) {
        let last = c.counts.iter().rposition(|&k| k > 0);
        let from = last.unwrap_or(0);
        for j in from..c.counts.len() {
            let mut counts = c.counts.clone();
            if Some(j) == last {
                if counts[j] >= self.ctx.menu[j].max {
                    continue;
                }
                counts[j] += 1;
            } else if last.is_none() || j > from {
                counts[j] = 1;
            } else {
                continue;
            }
            let child = self.combo(counts);
            self.heap.push(std::cmp::Reverse(child));
        }
    }

    /// A quick upper bound: every line at its most; when that meets the
    /// goal, lines are taken away, the dearest first, while it still does.
    fn greedy(&mut self) -> Result<()> {
        let full: Vec<u32> = self.ctx.menu.iter().map(|o| o.max).collect();
        let Some((c, e)) = self.one(full.clone())? else {
            return Ok(());
        };
        self.full = e.after.clone();
        if !self.meets(&e) {
            return Ok(());
        }
        let mut best = (c, e.after.unwrap_or_default());
        let mut order: Vec<usize> = (0..full.len()).collect();
        order.sort_by_key(|&i| {
            std::cmp::Reverse(u128::from(full[i]) * self.ctx.menu[i].cost.units() as u128)
        });
        for i in order {
            // The fewest uses of line i that still meet the goal (binary
            // search; each answer is computed, so whatever is kept meets
            // it).
            let (mut lo, mut hi) = (0u32, best.0.counts[i]);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let mut counts = best.0.counts.clone();
                counts[i] = mid;
                match self.one(counts)? {
                    None => {
                        self.best = Some(best);
                        return Ok(());
                    }
                    Some((c, e)) if self.meets(&e) => {
                        best = (c, e.after.unwrap_or_default());
                        hi = mid;
                    }
                    Some(_) => lo = mid + 1,
                }
            }
        }
        self.best = Some(best);
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes every worker of a batch stop at its next look.
fn stop_all(next: &AtomicUsize, len: usize) {
    next.store(len, AtomicOrdering::Relaxed);
}

#[cfg(test)]
mod tests;
