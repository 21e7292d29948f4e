//! The qplan computation (SPEC section 4): tracks and skills, manpower,
//! cumulative demand by triage, shortages, and the dev-complete schedule.
//!
//! Tracks are computed one at a time (the `All` track first), so memory for
//! per-day availability is that of one track, whatever the number of tracks.

use super::results::{PlannedItem, Results, TrackRow};
use super::schedule::Pool;
use crate::error::{Error, Location, Result};
use crate::model::{Amount, Arena, Calendar, Input, Person, Span, Triage, WorkItem, ALL};

/// From how many items the copy in rank order is done on two threads.
const PARALLEL_ITEMS: usize = 10_000;
/// Below how many items and people the tracks are computed on one thread.
const SERIAL_BELOW: usize = 1_000;

/// Sorted names and, for each input index, its position in that order.
fn sorted(names: impl Iterator<Item = String>) -> (Vec<String>, Vec<u32>) {
    let names: Vec<String> = names.collect();
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| names[a].cmp(&names[b]));
    let mut position = vec![0u32; names.len()];
    for (pos, &i) in order.iter().enumerate() {
        position[i] = pos as u32;
    }
    let sorted = order.iter().map(|&i| names[i].clone()).collect();
    (sorted, position)
}

/// Computes the results of SPEC section 4 from checked inputs. Every sum is
/// exact; a total too large for an [`Amount`] is bad input (exit 65).
pub fn compute(input: Input) -> Result<Results> {
    let Input {
        params,
        params_line,
        holidays,
        staff,
        work,
        arena: input_arena,
        tracks: track_names,
        skills: skill_names,
        provenance,
    } = input;
    let cal = Calendar::new(params.start, params.end, &holidays);

    let (sorted_tracks, track_pos) = sorted(track_names.iter().map(str::to_owned));
    let (skills, skill_pos) = sorted(skill_names.iter().map(str::to_owned));
    let mut tracks = vec![ALL.to_owned()];
    tracks.extend(sorted_tracks);
    // Result track of an input track: 0 is All.
    let track_of = |t: Option<u32>| t.map(|t| track_pos[t as usize] as usize + 1);
    // The scheduling skills that are skills (index into skills), and for
    // each skill its position among them.
    let sched: Vec<usize> = params
        .sched
        .iter()
        .filter_map(|s| skills.iter().position(|k| k == s))
        .collect();
    let mut sched_of = vec![None; skills.len()];
    for (k, &s) in sched.iter().enumerate() {
        sched_of[s] = Some(k as u32);
    }

    // People of each track (All holds everyone), with their vacation days.
    let mut people: Vec<Vec<usize>> = vec![Vec::new(); tracks.len()];
    let mut vac: Vec<Vec<u32>> = Vec::with_capacity(staff.len());
    let mut person_skill = Vec::with_capacity(staff.len());
    for (i, p) in staff.iter().enumerate() {
        people[0].push(i);
        if let Some(t) = track_of(p.track) {
            people[t].push(i);
        }
        vac.push(cal.vacation_workdays(&p.vacation));
        person_skill.push(p.skill.map(|s| skill_pos[s as usize] as usize));
    }

    // Work items in rank order (stable: equal ranks keep input order).
    // Each item's text and amounts are copied in that order, so that every
    // later pass (All in rank order, each track in rank order) walks memory
    // forwards instead of chasing items scattered by input order. The copy
    // reads the input in random order, which is slow for large plans, so
    // it is done in two halves on two threads, the second half's arena
    // then appended to the first's.
    let mut keyed: Vec<(i64, u32)> = work
        .iter()
        .enumerate()
        .map(|(i, w)| (w.rank, i as u32))
        .collect();
    keyed.sort_unstable();
    // Room for all the input's text and amounts: what a half does not use
    // is never touched, so costs no memory, and nothing is copied to grow.
    let (text_len, amounts_len) = input_arena.sizes();
    let rebuild = |part: &[(i64, u32)]| {
        let mut arena = Arena::with_capacity(text_len, amounts_len);
        let items: Vec<PlannedItem> = part
            .iter()
            .map(|&(_, i)| {
                let w: &WorkItem = &work[i as usize];
                PlannedItem {
                    id: arena.push_str(input_arena.str(w.id)),
                    rank: w.rank,
                    name: arena.push_str(input_arena.str(w.name)),
                    triage: w.triage,
                    estimate: w.estimate.map(|e| {
                        let amounts = input_arena.amounts(e).iter();
                        arena.push_amounts(amounts.map(|&(s, a)| (skill_pos[s as usize], a)))
                    }),
                    track: track_of(w.track).map(|t| t as u32),
                }
            })
            .collect();
        (items, arena)
    };
    let (items, mut arena) = if keyed.len() < PARALLEL_ITEMS {
        rebuild(&keyed)
    } else {
        let (first, second) = keyed.split_at(keyed.len() / 2);
        let (a, b) = std::thread::scope(|scope| {
            let b = scope.spawn(|| rebuild(second));
            let a = rebuild(first);
            (a, join(b))
        });
        let (mut items, mut arena) = a;
        let (text, amounts) = arena.append(&b.1);
        items.extend(b.0.into_iter().map(|item| PlannedItem {
            id: item.id.shifted(text),
            name: item.name.shifted(text),
            estimate: item.estimate.map(|e| e.shifted(amounts)),
            ..item
        }));
        (items, arena)
    };
    drop(keyed);
    drop(work);
    drop(input_arena);
    let mut track_items: Vec<Vec<u32>> = vec![Vec::new(); tracks.len()];
    track_items[0] = (0..items.len() as u32).collect();
    for (i, item) in items.iter().enumerate() {
        if let Some(t) = item.track {
            track_items[t as usize].push(i as u32);
        }
    }

    let workdays = cal.workday.iter().filter(|&&w| w).count();
    let ctx = Context {
        cal: &cal,
        items: &items,
        arena: &arena,
        staff: &staff,
        vac: &vac,
        person_skill: &person_skill,
        sched: &sched,
        sched_of: &sched_of,
        n_skills: skills.len(),
        workdays,
        tracks: &tracks,
        skills: &skills,
    };
    // Two threads: All (every item) on one, the other tracks on the other,
    // which is about half the work each. A small plan is computed on this
    // thread alone: starting a thread would cost more than it saves (and
    // `qwhatif solve` computes thousands of small plans, on every core
    // already).
    let others = || {
        (1..tracks.len())
            .map(|t| ctx.track(t, &people[t], &track_items[t]))
            .collect::<Result<Vec<_>>>()
    };
    let (all, rest) = if items.len() + staff.len() < SERIAL_BELOW {
        (ctx.track(0, &people[0], &track_items[0]), others())
    } else {
        std::thread::scope(|scope| {
            let rest = scope.spawn(others);
            let all = ctx.track(0, &people[0], &track_items[0]);
            (all, join(rest))
        })
    };
    let mut results = Results {
        params_line,
        tracks,
        skills,
        manpower: Vec::new(),
        demand: Vec::new(),
        staff: Vec::new(),
        // A person without a skill is in no skill group but in the head count.
        heads: people.iter().map(Vec::len).collect(),
        work: Vec::new(),
        items: Vec::new(),
        arena: Arena::default(),
        provenance,
    };
    // Each track's shortages join the item amounts in one arena.
    for t in std::iter::once(all?).chain(rest?) {
        results.manpower.push(t.manpower);
        results.demand.push(t.demand);
        results.staff.push(t.staff);
        let (_, by) = arena.append(&t.short);
        let mut rows = t.rows;
        for row in &mut rows {
            row.shortage = row.shortage.shifted(by);
        }
        results.work.push(rows);
    }
    results.items = items;
    results.arena = arena;
    Ok(results)
}

/// What every track's computation reads.
struct Context<'a> {
    cal: &'a Calendar,
    items: &'a [PlannedItem],
    arena: &'a Arena,
    staff: &'a [Person],
    vac: &'a [Vec<u32>],
    person_skill: &'a [Option<usize>],
    /// The scheduling skills (index into skills).
    sched: &'a [usize],
    /// For each skill, its position in `sched`.
    sched_of: &'a [Option<u32>],
    n_skills: usize,
    workdays: usize,
    /// Names, for messages.
    tracks: &'a [String],
    skills: &'a [String],
}

/// One track's results.
struct TrackResults {
    manpower: Vec<Amount>,
    demand: [Vec<Amount>; 5],
    staff: Vec<Vec<String>>,
    rows: Vec<TrackRow>,
    /// The rows' shortages (their spans point into its amounts).
    short: Arena,
}

impl Context<'_> {
    /// Everything of one track: its people (indices into staff) and its
    /// items (indices into items, in rank order).
    fn track(&self, t: usize, members: &[usize], list: &[u32]) -> Result<TrackResults> {
        let n_skills = self.n_skills;
        // Manpower: available days of the track's people per skill, / 5.
        let mut heads = vec![0usize; n_skills];
        let mut away = vec![0usize; n_skills];
        let mut names: Vec<Vec<&str>> = vec![Vec::new(); n_skills];
        for &p in members {
            if let Some(s) = self.person_skill[p] {
                heads[s] += 1;
                away[s] += self.vac[p].len();
                names[s].push(&self.staff[p].name);
            }
        }
        let too_large = |what: &str, s: usize| {
            Error::data(
                Location::default(),
                format!(
                    "the {what} of skill {} in track {} is larger than {}",
                    self.skills[s],
                    self.tracks[t],
                    Amount::MAX_TEXT
                ),
            )
        };
        let manpower: Vec<Amount> = (0..n_skills)
            .map(|s| {
                // Person-days: no overflow, as heads ≤ staff and workdays
                // ≤ MAX_DAYS; the amount (a fifth of a week each) may not fit.
                let days = heads[s] * self.workdays - away[s];
                i64::try_from(days)
                    .ok()
                    .and_then(Amount::days)
                    .ok_or_else(|| too_large("manpower", s))
            })
            .collect::<Result<_>>()?;
        let staff = names
            .into_iter()
            .map(|mut group| {
                group.sort_unstable();
                group.into_iter().map(str::to_owned).collect()
            })
            .collect();
        // Per-day availability of each scheduling skill in this track. A
        // skill nobody in the track has gets a pool of no days: whatever
        // needs it does not finish, as on days of no one, without a
        // calendar of zeros (cost follows the people, not tracks × skills
        // × days).
        let mut vacationers: Vec<Vec<usize>> = vec![Vec::new(); self.sched.len()];
        for &p in members {
            if let Some(k) = self.person_skill[p].and_then(|s| self.sched_of[s]) {
                if !self.vac[p].is_empty() {
                    vacationers[k as usize].push(p);
                }
            }
        }
        let mut pools: Vec<Pool> = self
            .sched
            .iter()
            .zip(&vacationers)
            .map(|(&s, away)| {
                if heads[s] == 0 {
                    return Pool::new(std::iter::empty());
                }
                // Counts of people fit u32: a plan of 4 billion people
                // would not fit in memory.
                let mut avail: Vec<u32> = self
                    .cal
                    .workday
                    .iter()
                    .map(|&w| if w { heads[s] as u32 } else { 0 })
                    .collect();
                for &p in away {
                    for &d in &self.vac[p] {
                        avail[d as usize] -= 1;
                    }
                }
                Pool::new(avail)
            })
            .collect();
        // One walk of the ranked list does demand, shortages and dates, so
        // that each item is fetched once (a track's items lie scattered
        // among all the others).
        let demand_error = |(level, s): (usize, usize)| {
            too_large(&format!("demand up to triage {}", Triage::ALL[level]), s)
        };
        let mut demand: [Vec<Amount>; 5] = std::array::from_fn(|_| vec![Amount::ZERO; n_skills]);
        let mut supply = manpower.clone();
        let mut short = Arena::default();
        let mut scratch = Vec::new();
        let mut rows = Vec::with_capacity(list.len());
        for &i in list {
            let item = &self.items[i as usize];
            let estimate = item.estimate.map(|e| self.arena.amounts(e));
            add_demand(&mut demand, item.triage.index(), estimate).map_err(demand_error)?;
            rows.push(TrackRow {
                item: i,
                shortage: shortage(&mut supply, estimate, &mut scratch, &mut short),
                done: dev_complete(estimate, self.sched_of, &mut pools).map(|d| self.cal.date(d)),
            });
        }
        cumulate(&mut demand).map_err(demand_error)?;
        Ok(TrackResults {
            manpower,
            demand,
            staff,
            rows,
            short,
        })
    }
}

/// Adds an item's estimate to the demand at its triage level; the (level,
/// skill) of a total that does not fit when one does not.
fn add_demand(
    demand: &mut [Vec<Amount>; 5],
    level: usize,
    estimate: Option<&[(u32, Amount)]>,
) -> std::result::Result<(), (usize, usize)> {
    for &(s, a) in estimate.into_iter().flatten() {
        let total = &mut demand[level][s as usize];
        *total = total.checked_add(a).ok_or((level, s as usize))?;
    }
    Ok(())
}

/// Accumulates demand from triage 1 down to 3 (the row for 2 includes 1,
/// 1.5 and 2).
fn cumulate(demand: &mut [Vec<Amount>; 5]) -> std::result::Result<(), (usize, usize)> {
    for level in 1..Triage::ALL.len() {
        let (done, rest) = demand.split_at_mut(level);
        for (s, (acc, prev)) in rest[0].iter_mut().zip(&done[level - 1]).enumerate() {
            *acc = acc.checked_add(*prev).ok_or((level, s))?;
        }
    }
    Ok(())
}

/// The shortage of the next item of a ranked list: `supply` is the running
/// supply per skill, starting at the manpower; the item is short where
/// `max(supply, 0) - d` falls below zero, by that value. Both terms are at
/// least zero, so the difference always fits. The shortages of a list are
/// kept in one arena, each item's a span of it (empty when above the line).
fn shortage(
    supply: &mut [Amount],
    estimate: Option<&[(u32, Amount)]>,
    scratch: &mut Vec<(u32, Amount)>,
    short: &mut Arena,
) -> Span {
    scratch.clear();
    for &(s, d) in estimate.into_iter().flatten() {
        let have = supply[s as usize].max(Amount::ZERO);
        let next = Amount::from_units(have.units() - d.units());
        supply[s as usize] = next;
        if next.is_negative() {
            scratch.push((s, next));
        }
    }
    short.push_amounts(scratch.iter().copied())
}

/// The day an item is dev-complete: the latest over its scheduling skills;
/// `None` (DNF) when any runs out of days or the item has no estimate.
fn dev_complete(
    estimate: Option<&[(u32, Amount)]>,
    sched_of: &[Option<u32>],
    pools: &mut [Pool],
) -> Option<usize> {
    let estimate = estimate?;
    let mut done = Some(0);
    for &(s, e) in estimate {
        let Some(k) = sched_of[s as usize] else {
            continue;
        };
        let day = pools[k as usize].place(e);
        done = match (done, day) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    done
}

/// The result of a scoped thread; a panic in it is a bug of ours, passed on
/// as one.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}
