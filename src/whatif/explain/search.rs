//! The search for the smallest single fix, on a model of the item's lists
//! that follows only its own skills and the items ahead of it.

use super::answer::*;
use super::verify::Candidate;
use crate::model::amount::{Amount, DAY};
use crate::model::{Calendar, Input, ALL};
use crate::plan::schedule::Pool;
use crate::whatif::lang::{self, Change};

/// The item's lists, followed in its own skills only: enough to tell how
/// it stands with more people, a smaller estimate or a better rank.
pub struct Model<'a> {
    pub(super) input: &'a Input,
    pub(super) cal: Calendar,
    pub(super) workdays: i64,
    pub(super) target: usize,
    /// The item's amounts (input skill, person-weeks); `None` when not
    /// estimated.
    pub(super) estimate: Option<Vec<(u32, Amount)>>,
    /// `All`, then its own track.
    pub(super) lists: Vec<ListModel>,
    /// The track people are added to: its own, or the first there is.
    pub(super) hire_track: Option<u32>,
}

pub(super) struct ListModel {
    pub(super) name: String,
    /// Input track; `None` for `All`.
    pub(super) track: Option<u32>,
    /// The other items of the list in rank order (indices into work),
    /// and their ranks.
    pub(super) items: Vec<u32>,
    pub(super) ranks: Vec<i64>,
    /// How many of them are ahead of the item.
    pub(super) at: usize,
    /// One per amount of the item's estimate, in its order.
    pub(super) lanes: Vec<Lane>,
}

/// One skill of the item in one list.
pub(super) struct Lane {
    pub(super) sched: bool,
    pub(super) heads: u32,
    /// Available person-days of the list's people of the skill.
    pub(super) days: i64,
    /// People per day (for a scheduling skill).
    pub(super) avail: Vec<u32>,
    /// The other items' amounts in the skill: (position in the list, amount).
    pub(super) demand: Vec<(u32, Amount)>,
}

/// A lane just before the item.
#[derive(Clone)]
pub(super) struct LaneState {
    pub(super) supply: i64,
    pub(super) pool: Option<Pool>,
}

impl LaneState {
    /// Whether an amount `e` in this state is above the line and (for a
    /// scheduling skill) done before the end.
    pub(super) fn fits(&self, e: Amount) -> bool {
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

    pub(super) fn list_names(&self) -> Vec<String> {
        self.lists.iter().map(|l| l.name.clone()).collect()
    }

    pub(super) fn amount(&self, j: usize) -> Amount {
        self.estimate.as_ref().map_or(Amount::ZERO, |e| e[j].1)
    }

    pub(super) fn skill_name(&self, j: usize) -> &str {
        self.estimate
            .as_ref()
            .map_or("", |e| self.input.skills.name(e[j].0))
    }

    /// Lane `lane` with `extra` people (of the lane's skill, in the list)
    /// after the first `cutoff` other items of the list.
    pub(super) fn state(&self, lane: &Lane, extra: u32, cutoff: usize) -> LaneState {
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

    pub(super) fn pool(&self, lane: &Lane, extra: u32) -> Pool {
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
    pub(super) fn fits(
        &self,
        j: usize,
        extra: u32,
        cutoff: impl Fn(&ListModel) -> usize,
        e: Amount,
    ) -> bool {
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
    pub(super) fn troubled(&self) -> Vec<usize> {
        (0..self.estimate.as_ref().map_or(0, Vec::len))
            .filter(|&j| !self.fits(j, 0, |l| l.at, self.amount(j)))
            .collect()
    }

    /// The skills that ran out for the item in list `l`, and who took them.
    pub(super) fn causes(&self, l: &ListModel) -> Vec<Cause> {
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
    pub(super) fn cause(
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
    pub(super) fn staff_fix(&self) -> std::result::Result<Candidate, String> {
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
    pub(super) fn estimate_fix(&self) -> Candidate {
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

    pub(super) fn item_id(&self) -> &str {
        self.input.arena.str(self.input.work[self.target].id)
    }

    /// The least move up: `rank ITEM R` puts the item ahead of every other
    /// item ranked R or after, so the candidates are the ranks of the
    /// items ahead of it in `All`; binary search on them (the higher it
    /// stands, the fewer items take from its supply and days before it).
    pub(super) fn rank_fix(&self) -> std::result::Result<Candidate, String> {
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
pub(super) fn lane(
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
pub(super) fn vacation_workdays(
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
