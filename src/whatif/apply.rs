//! Applying a change script to a plan's input (SPEC sections 4 and 6): the
//! scenario is the baseline's [`Input`] with each change made in order, so
//! that the one engine computes both and they count alike.
//!
//! Each change is made exactly as the computation counts it: `start` and
//! `end` move the range, and with it the workdays; holidays and vacations
//! stay as in the baseline unless a change names them; `add staff … count=3`
//! adds three people with ids no one else has; `rank` moves an item and
//! shifts the others down to make room; `drop` removes an item, so from
//! `All` and from its own track. A change that names nothing (person, item,
//! track, skill, holiday) is an error saying where in which script, what,
//! and the closest names there are.

use rustc_hash::FxHashSet;

use chrono::NaiveDate;

use super::lang::{closest_text, Change, Located};
use crate::error::Result;
use crate::model::amount::Amount;
use crate::model::MAX_DAYS;
use crate::model::{Input, Names, Person, WorkItem, ALL};

/// What a script did to the input, besides the input itself: the most
/// important rank from which work results may differ (`None`: every item
/// may change, as when the calendar or the staff change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Every item ranked strictly before this one (by the scenario's rank
    /// order) sees the same supply and days as in the baseline.
    pub from_rank: Option<i64>,
}

/// The scenario: `base` with every change made in order. Nothing is
/// computed; the first change that names nothing is the error (exit 65).
pub fn apply(base: &Input, changes: &[Located]) -> Result<Input> {
    apply_reach(base, changes).map(|(input, _)| input)
}

/// [`apply`], also telling from which rank on the results may differ.
pub fn apply_reach(base: &Input, changes: &[Located]) -> Result<(Input, Reach)> {
    let mut s = base.clone();
    let mut state = State::default();
    for c in changes {
        one(&mut s, c, &mut state)?;
    }
    if let Some(c) = state.last_range_change {
        let (start, end) = (s.params.start, s.params.end);
        if end < start {
            return Err(c.error(
                "name",
                format!("the plan would end ({end}) before it starts ({start})"),
            ));
        }
        let days = (end - start).num_days() + 1;
        if days > MAX_DAYS {
            return Err(c.error(
                "name",
                format!("the plan would span {days} days; at most {MAX_DAYS} are supported"),
            ));
        }
    }
    if state.renumber {
        renumber(&mut s);
    }
    let reach = Reach {
        from_rank: if state.all_items {
            None
        } else {
            state.from_rank
        },
    };
    Ok((s, reach))
}

#[derive(Default)]
struct State<'a> {
    /// Staff or work changed: tracks and skills are named anew.
    renumber: bool,
    /// The last `start` or `end`, checked after all changes (a script may
    /// move both, through an order that is briefly invalid).
    last_range_change: Option<&'a Located>,
    /// Every item's results may change.
    all_items: bool,
    /// The smallest rank touched by a work change.
    from_rank: Option<i64>,
}

impl State<'_> {
    fn touch_rank(&mut self, r: i64) {
        self.from_rank = Some(self.from_rank.map_or(r, |f| f.min(r)));
    }
}

fn one<'a>(s: &mut Input, c: &'a Located, st: &mut State<'a>) -> Result<()> {
    match &c.change {
        Change::Start(d) => {
            s.params.start = *d;
            s.params_line = s.params.line();
            st.last_range_change = Some(c);
            st.all_items = true;
        }
        Change::End(d) => {
            s.params.end = *d;
            s.params_line = s.params.line();
            st.last_range_change = Some(c);
            st.all_items = true;
        }
        Change::Skills(list) => {
            for k in list {
                skill(s, c, "name", k)?;
            }
            s.params.sched = list.clone();
            s.params_line = s.params.line();
            st.all_items = true;
        }
        Change::Holiday(d) => {
            if !s.holidays.contains(d) {
                s.holidays.push(*d);
            }
            st.all_items = true;
        }
        Change::Unholiday(d) => {
            let before = s.holidays.len();
            s.holidays.retain(|h| h != d);
            if s.holidays.len() == before {
                return Err(c.error(
                    "name",
                    format!("{d} is not a holiday; {}", nearest_dates(&s.holidays, *d)),
                ));
            }
            st.all_items = true;
        }
        Change::AddStaff {
            name,
            track: t,
            skill: k,
            team,
            count,
        } => {
            let name = name.trim();
            if name.is_empty() {
                return Err(c.error("name", "the new person's name is empty"));
            }
            let t = track(s, c, t)?;
            let k = skill(s, c, "skill", k)?;
            let taken: FxHashSet<&str> = s.staff.iter().map(|p| p.id.as_str()).collect();
            let ids = fresh_ids(&taken, *count as usize);
            for (i, id) in ids.into_iter().enumerate() {
                s.staff.push(Person {
                    id,
                    name: if *count == 1 {
                        name.to_owned()
                    } else {
                        format!("{name} {}", i + 1)
                    },
                    team: team.clone().unwrap_or_default(),
                    track: Some(t),
                    skill: Some(k),
                    vacation: Vec::new(),
                    line: 0,
                });
            }
            st.renumber = true;
            st.all_items = true;
        }
        Change::RemoveStaff(who) => {
            let p = person(s, c, who)?;
            s.staff.remove(p);
            st.renumber = true;
            st.all_items = true;
        }
        Change::MoveStaff { who, track: t } => {
            let p = person(s, c, who)?;
            let t = track(s, c, t)?;
            s.staff[p].track = Some(t);
            st.renumber = true;
            st.all_items = true;
        }
        Change::ReskillStaff { who, skill: k } => {
            let p = person(s, c, who)?;
            let k = skill(s, c, "skill", k)?;
            s.staff[p].skill = Some(k);
            st.renumber = true;
            st.all_items = true;
        }
        Change::Vacation { who, from, to } => {
            let p = person(s, c, who)?;
            s.staff[p].vacation.push((*from, *to));
            st.all_items = true;
        }
        Change::Rank { item, rank } => {
            let i = work(s, c, item)?;
            let old = s.work[i].rank;
            make_room(s, c, Some(i), *rank, "rank")?;
            s.work[i].rank = *rank;
            // Everything from the more important of the two places on may
            // move; what is above both sees the same list.
            st.touch_rank(old.min(*rank));
        }
        Change::Estimate { item, estimate } => {
            let i = work(s, c, item)?;
            let e = amounts(s, c, "estimate", estimate)?;
            s.work[i].estimate = e;
            st.touch_rank(s.work[i].rank);
            st.renumber = true;
        }
        Change::Triage { item, triage } => {
            let i = work(s, c, item)?;
            s.work[i].triage = *triage;
            // Triage moves demand only: no item's shortage or date.
            st.touch_rank(s.work[i].rank);
        }
        Change::Drop(item) => {
            let i = work(s, c, item)?;
            let w = s.work.remove(i);
            st.touch_rank(w.rank);
            st.renumber = true;
        }
        Change::AddWork {
            name,
            track: t,
            estimate,
            triage,
            rank,
            id,
        } => {
            let name = name.trim();
            if name.is_empty() {
                return Err(c.error("name", "the new item's name is empty"));
            }
            let t = track(s, c, t)?;
            let e = amounts(s, c, "estimate", estimate)?;
            let id = match id {
                Some(id) => {
                    let id = id.trim();
                    if id.is_empty() {
                        return Err(c.error("id", "the new item's id is empty"));
                    }
                    if s.work.iter().any(|w| s.arena.str(w.id) == id) {
                        return Err(c.error("id", format!("an item already has the id {id:?}")));
                    }
                    id.to_owned()
                }
                None => {
                    let taken: FxHashSet<&str> = s.work.iter().map(|w| s.arena.str(w.id)).collect();
                    fresh_ids(&taken, 1).pop().unwrap_or_default()
                }
            };
            let rank = match rank {
                Some(r) => {
                    make_room(s, c, None, *r, "rank")?;
                    *r
                }
                None => match s.work.iter().map(|w| w.rank).max() {
                    None => 1,
                    Some(m) => m.checked_add(1).ok_or_else(|| {
                        c.error("name", "no rank is left after the last item; give rank=")
                    })?,
                },
            };
            let id = s.arena.push_str(&id);
            let name = s.arena.push_str(name);
            s.work.push(WorkItem {
                id,
                rank,
                name,
                estimate: e,
                triage: *triage,
                track: Some(t),
                line: 0,
            });
            st.touch_rank(rank);
            st.renumber = true;
        }
    }
    Ok(())
}

/// `new-1`, `new-2`, … : `n` ids none of `taken` has.
fn fresh_ids(taken: &FxHashSet<&str>, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut k = 1u64;
    while out.len() < n {
        let id = format!("new-{k}");
        if !taken.contains(id.as_str()) {
            out.push(id);
        }
        k += 1;
    }
    out
}

/// Gives rank `r` to a moving item (`skip`, or a new one): when another
/// item already has it, every other item at `r` or after moves down one,
/// so the item comes first among its equals and the others keep their
/// order.
fn make_room(s: &mut Input, c: &Located, skip: Option<usize>, r: i64, role: &str) -> Result<()> {
    let others = |(i, w): &(usize, &WorkItem)| Some(*i) != skip && w.rank >= r;
    if !s
        .work
        .iter()
        .enumerate()
        .any(|(i, w)| Some(i) != skip && w.rank == r)
    {
        return Ok(());
    }
    if s.work
        .iter()
        .enumerate()
        .filter(others)
        .any(|(_, w)| w.rank == i64::MAX)
    {
        return Err(c.error(
            role,
            "the items after this rank cannot move down: rank too large",
        ));
    }
    for (i, w) in s.work.iter_mut().enumerate() {
        if Some(i) != skip && w.rank >= r {
            w.rank += 1;
        }
    }
    Ok(())
}

/// The person named by id or by exact name.
fn person(s: &Input, c: &Located, who: &str) -> Result<usize> {
    if let Some(i) = s.staff.iter().position(|p| p.id == who) {
        return Ok(i);
    }
    let named: Vec<usize> = (0..s.staff.len())
        .filter(|&i| s.staff[i].name == who)
        .collect();
    match named.as_slice() {
        [i] => Ok(*i),
        [] => Err(c.error(
            "name",
            format!(
                "no person has the id or name {who:?}; {}",
                closest_text(
                    who,
                    s.staff
                        .iter()
                        .flat_map(|p| [p.id.as_str(), p.name.as_str()])
                )
            ),
        )),
        many => Err(c.error(
            "name",
            format!(
                "{} people are named {who:?} (ids {}): name one by its id",
                many.len(),
                many.iter()
                    .map(|&i| s.staff[i].id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The work item named by id or by exact name.
pub(crate) fn work(s: &Input, c: &Located, item: &str) -> Result<usize> {
    let a = &s.arena;
    if let Some(i) = s.work.iter().position(|w| a.str(w.id) == item) {
        return Ok(i);
    }
    let named: Vec<usize> = (0..s.work.len())
        .filter(|&i| a.str(s.work[i].name) == item)
        .collect();
    match named.as_slice() {
        [i] => Ok(*i),
        [] => Err(c.error(
            "name",
            format!(
                "no work item has the id or name {item:?}; {}",
                closest_text(
                    item,
                    s.work.iter().flat_map(|w| [a.str(w.id), a.str(w.name)])
                )
            ),
        )),
        many => Err(c.error(
            "name",
            format!(
                "{} items are named {item:?} (ids {}): name one by its id",
                many.len(),
                many.iter()
                    .map(|&i| a.str(s.work[i].id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// A track of the plan, by name (never `All`, which holds everyone).
fn track(s: &mut Input, c: &Located, name: &str) -> Result<u32> {
    if name == ALL {
        return Err(c.error(
            "track",
            format!("{ALL} holds everyone and everything; name one of the other tracks"),
        ));
    }
    s.tracks.get(name).ok_or_else(|| {
        c.error(
            "track",
            format!(
                "no track is called {name:?}; {}",
                closest_text(name, s.tracks.iter())
            ),
        )
    })
}

/// A skill of the plan, by name.
fn skill(s: &Input, c: &Located, role: &str, name: &str) -> Result<u32> {
    s.skills.get(name).ok_or_else(|| {
        c.error(
            role,
            format!(
                "no skill is called {name:?}; {}",
                closest_text(name, s.skills.iter())
            ),
        )
    })
}

/// An estimate's amounts in the plan's skills, in the arena.
fn amounts(
    s: &mut Input,
    c: &Located,
    role: &str,
    estimate: &Option<Vec<(String, Amount)>>,
) -> Result<Option<crate::model::arena::Span>> {
    let Some(parts) = estimate else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(parts.len());
    for (k, a) in parts {
        out.push((skill(s, c, role, k)?, *a));
    }
    Ok(Some(s.arena.push_amounts(out)))
}

/// `the nearest are 2013-12-25, 2014-01-01` — holidays near `d`.
fn nearest_dates(holidays: &[NaiveDate], d: NaiveDate) -> String {
    if holidays.is_empty() {
        return "the plan has no holidays".into();
    }
    let mut h: Vec<NaiveDate> = holidays.to_vec();
    h.sort_by_key(|x| ((*x - d).num_days().abs(), *x));
    h.dedup();
    let list: Vec<String> = h.iter().take(3).map(|x| x.to_string()).collect();
    format!("the nearest holidays are {}", list.join(", "))
}

/// Names tracks and skills anew from what the staff and work now name
/// (SPEC section 4: the union named by staff and by work), so that a track
/// or skill no longer named disappears as it would from a fresh input.
/// Nothing is touched when every name is still named (the usual case).
fn renumber(s: &mut Input) {
    let mut used = vec![false; s.tracks.len()];
    for t in s
        .staff
        .iter()
        .map(|p| p.track)
        .chain(s.work.iter().map(|w| w.track))
        .flatten()
    {
        used[t as usize] = true;
    }
    if let Some(map) = keep(&s.tracks, &used) {
        let (names, map) = map;
        for t in s
            .staff
            .iter_mut()
            .map(|p| &mut p.track)
            .chain(s.work.iter_mut().map(|w| &mut w.track))
        {
            *t = t.and_then(|x| map[x as usize]);
        }
        s.tracks = names;
    }
    let mut used = vec![false; s.skills.len()];
    for k in s.staff.iter().filter_map(|p| p.skill) {
        used[k as usize] = true;
    }
    for w in &s.work {
        for &(k, _) in w.estimate.map(|e| s.arena.amounts(e)).unwrap_or(&[]) {
            used[k as usize] = true;
        }
    }
    let Some((names, map)) = keep(&s.skills, &used) else {
        return;
    };
    for p in &mut s.staff {
        p.skill = p.skill.and_then(|k| map[k as usize]);
    }
    let mut buf = Vec::new();
    for w in &mut s.work {
        if let Some(e) = w.estimate {
            buf.clear();
            buf.extend(
                s.arena
                    .amounts(e)
                    .iter()
                    .filter_map(|&(k, a)| map[k as usize].map(|k| (k, a))),
            );
            w.estimate = Some(s.arena.push_amounts(buf.iter().copied()));
        }
    }
    s.skills = names;
}

/// The names that are `used`, and each old number's new one; `None` when
/// all are used.
fn keep(names: &Names, used: &[bool]) -> Option<(Names, Vec<Option<u32>>)> {
    if used.iter().all(|&u| u) {
        return None;
    }
    let mut kept = Names::default();
    let map = (0..names.len() as u32)
        .map(|k| used[k as usize].then(|| kept.intern(names.name(k))))
        .collect();
    Some((kept, map))
}
