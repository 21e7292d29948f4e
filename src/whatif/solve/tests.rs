//! The search against a second method: every combination of the menu
//! applied to the whole plan and computed by the engine, the goal checked
//! on the full results, the best picked by the ask's rule. Small random
//! plans and menus, with ties, zero prices, rank moves, drops of goal items
//! and lines that the search leaves out.

use std::sync::atomic::AtomicBool;

use proptest::prelude::*;

use super::*;
use crate::rules::{read_plan as read, Loaded};
use crate::stream::Reader;
use crate::whatif::lang;

fn input_of(text: &str) -> Input {
    match read(&mut Reader::new(text.as_bytes())).expect("valid plan") {
        Loaded::Input(i) => *i,
        Loaded::Results(_) => panic!("not an input"),
    }
}

fn options<'a>(stop: &'a AtomicBool, threads: usize, max: u64) -> Options<'a> {
    Options {
        max_scenarios: max,
        threads,
        stop,
        progress: &|_, _| {},
    }
}

/// Whether item `id` is above the line and done by `by` in All and its
/// track, read from the whole results.
fn met(r: &Results, id: &str, track: Option<&str>, by: NaiveDate) -> bool {
    let mut lists = vec![ALL];
    lists.extend(track);
    lists.iter().all(|list| {
        let Some(t) = r.tracks.iter().position(|x| x == list) else {
            return false;
        };
        r.work[t].iter().any(|row| {
            r.id(r.item(row)) == id
                && r.shortage(row).is_empty()
                && row.done.is_some_and(|d| d <= by)
        })
    })
}

/// The naive answer: every combination, in the ask's order, computed on
/// the whole plan. Returns (the best's counts, its cost) or None, and per
/// goal item whether some combination meets it.
fn naive(
    base: &Input,
    ask: &Ask,
    goal: &[(String, Option<String>)],
    by: NaiveDate,
) -> (Option<(Vec<u32>, u128)>, Vec<bool>) {
    let n = ask.menu.len();
    let mut counts = vec![0u32; n];
    let mut best: Option<(u128, usize, Vec<usize>, Vec<u32>)> = None;
    let mut reached = vec![false; goal.len()];
    loop {
        let changes: Vec<Located> = counts
            .iter()
            .zip(&ask.menu)
            .filter(|(&k, _)| k > 0)
            .map(|(&k, o)| o.used(k))
            .collect();
        if let Ok(s) = apply::apply(base, &changes) {
            let r = compute(s).unwrap();
            let ok: Vec<bool> = goal
                .iter()
                .map(|(id, t)| met(&r, id, t.as_deref(), by))
                .collect();
            for (r, o) in reached.iter_mut().zip(&ok) {
                *r |= o;
            }
            if ok.iter().all(|&x| x) {
                let cost: u128 = counts
                    .iter()
                    .zip(&ask.menu)
                    .map(|(&k, o)| u128::from(k) * o.cost.units() as u128)
                    .sum();
                let used: Vec<usize> = (0..n).filter(|&i| counts[i] > 0).collect();
                let key = (cost, used.len(), used, counts.clone());
                if best.as_ref().is_none_or(|b| key < *b) {
                    best = Some(key);
                }
            }
        }
        // The next count vector.
        let mut i = 0;
        loop {
            if i == n {
                return (best.map(|b| (b.3, b.0)), reached);
            }
            if counts[i] < ask.menu[i].max {
                counts[i] += 1;
                break;
            }
            counts[i] = 0;
            i += 1;
        }
    }
}

/// A small random plan: 19 workdays, Apps (scheduling) and Web, two
/// tracks, a few people, a few items of random triage.
fn plan_strategy() -> impl Strategy<Value = String> {
    let person = (0..2usize, 0..2usize, proptest::option::of(0..14u32));
    let item = (1..6i64, 0..2usize, 0..6u32, 0..4u32, any::<bool>(), 1..4u32);
    (
        proptest::collection::vec(person, 1..7),
        proptest::collection::vec(item, 2..8),
    )
        .prop_map(|(people, items)| {
            let tracks = ["Tenor", "Bass"];
            let skills = ["Apps", "Web"];
            let mut s = String::from(
                "=====qplan params v1\n\t2013-10-07\t2013-11-01\tApps\n=====qplan holidays v1\n\t2013-10-09\n=====qplan staff v1\n",
            );
            for (i, (t, k, vac)) in people.iter().enumerate() {
                let vac = vac.map_or(String::new(), |d| format!("2013-10-{:02}", 7 + d));
                s.push_str(&format!(
                    "\tp{i}\tP{i}\tT\t{}\t{}\t{vac}\n",
                    tracks[*t], skills[*k]
                ));
            }
            s.push_str("=====qplan work v1\n");
            for (i, (rank, t, apps, web, both, triage)) in items.iter().enumerate() {
                let apps = format!("Apps:{}", f64::from(*apps) / 2.0);
                let est = if *both {
                    format!("{apps},Web:{}", f64::from(*web) / 2.0)
                } else {
                    apps
                };
                s.push_str(&format!(
                    "\tW{i}\t{rank}\tI{i}\t{est}\t{triage}\t{}\n",
                    tracks[*t]
                ));
            }
            s.push_str("=====end\n");
            s
        })
}

/// A menu line for a plan of `items` items: (price, kind, item, a number).
fn line(items: usize, (cost, kind, item, x): (u32, u32, usize, u32)) -> String {
    let w = format!("W{}", item % items);
    let cost = f64::from(cost) / 2.0;
    match kind {
        0 => format!("allow {cost} max=2 add staff H track=Tenor skill=Apps"),
        1 if x % 2 == 0 => format!("allow {cost} add staff H track=Bass skill=Web count=2"),
        1 => format!("allow {cost} max=3 add staff H track=Bass skill=Apps"),
        2 => format!("allow {cost} drop {w}"),
        3 => format!("allow {cost} estimate {w} Apps:{}", f64::from(x) / 2.0),
        4 => format!("allow {cost} rank {w} {}", 1 + x % 5),
        5 => format!("allow {cost} triage {w} 1"),
        6 => format!("allow {cost} end 2013-11-0{}", 1 + x % 5),
        _ => format!("allow {cost} unholiday 2013-10-09"),
    }
}

/// A plan, menu lines (see [`line`]), a goal (triage level 1–3, or 4 for
/// `items=W0,W1`) and a day of October for `by`.
type AskCase = (String, Vec<(u32, u32, usize, u32)>, u32, Option<u32>);

fn ask_strategy() -> impl Strategy<Value = AskCase> {
    (
        plan_strategy(),
        proptest::collection::vec((0..5u32, 0..8u32, 0..8usize, 0..6u32), 1..6),
        1..5u32,
        proptest::option::of(18..32u32),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The search gives what every combination computed on the whole plan
    /// gives: the same best combination (so the same price), or none, and
    /// the same goal items that no combination meets.
    #[test]
    fn solve_agrees_with_every_combination_computed((plan, lines, triage, by) in ask_strategy()) {
        let base = input_of(&plan);
        let n = base.work.len();
        let mut text = if triage == 4 {
            "goal items=W0,W1".to_owned()
        } else {
            format!("goal triage<={triage}")
        };
        if let Some(d) = by {
            text.push_str(&format!(" by 2013-10-{d}"));
        }
        text.push('\n');
        for l in &lines {
            text.push_str(&line(n, *l));
            text.push('\n');
        }
        let ask = ask::parse("ask", &text).unwrap();
        let stop = AtomicBool::new(false);
        let answer = match solve(&base, &ask, &options(&stop, 2, u64::MAX)) {
            Ok(a) => a,
            Err(e) => {
                // Only a goal of no item, or a line naming nothing.
                prop_assert_eq!(e.exit_code(), 2, "{}", e);
                return Ok(());
            }
        };
        prop_assert!(answer.proven);
        let goal: Vec<(String, Option<String>)> = answer
            .items
            .iter()
            .map(|g| (g.id.clone(), g.track.clone()))
            .collect();
        let (best, reached) = naive(&base, &ask, &goal, answer.by);
        match (&best, &answer.found) {
            (None, None) => {
                let unreachable: Vec<usize> = answer.unreachable.iter().map(|u| u.item).collect();
                let want: Vec<usize> = (0..goal.len()).filter(|&g| !reached[g]).collect();
                prop_assert_eq!(unreachable, want);
            }
            (Some((counts, cost)), Some(f)) => {
                prop_assert_eq!(*cost, f.cost, "{}", text);
                let mut got = vec![0u32; ask.menu.len()];
                for u in &f.uses {
                    got[u.offer] = u.uses;
                }
                prop_assert_eq!(counts, &got, "{}", text);
                prop_assert!(f.after.iter().all(|s| s.met));
            }
            (want, got) => prop_assert!(false, "naive {:?}, solve {:?}\n{}", want, got.as_ref().map(|f| f.cost), text),
        }
    }

    /// A line the search leaves out changes no goal item: with any other
    /// lines around it, the scenario with it and without it give every
    /// goal item the same shortage and date in its lists (or both cannot
    /// be made).
    #[test]
    fn left_out_lines_change_nothing_of_the_goal(
        (plan, lines, triage, _) in ask_strategy(),
        pick in proptest::collection::vec(any::<bool>(), 6),
    ) {
        let base = input_of(&plan);
        let n = base.work.len();
        let mut text = format!("goal triage<={}\n", triage.min(3));
        for l in &lines {
            text.push_str(&line(n, *l));
            text.push('\n');
        }
        let ask = ask::parse("ask", &text).unwrap();
        let goal_idx: Vec<usize> = (0..n).filter(|&i| base.work[i].triage <= ask.goal.triage.unwrap()).collect();
        if goal_idx.is_empty() || ask.menu.iter().any(|o| apply::apply(&base, &[o.used(o.max)]).is_err()) {
            return Ok(());
        }
        let ids: Vec<String> = goal_idx.iter().map(|&i| base.arena.str(base.work[i].id).to_owned()).collect();
        let rows = |r: &Results| -> Vec<Vec<(String, String, Option<NaiveDate>)>> {
            ids.iter().map(|id| {
                let mut v = Vec::new();
                for (t, name) in r.tracks.iter().enumerate() {
                    for row in &r.work[t] {
                        if r.id(r.item(row)) == id {
                            v.push((name.clone(), r.amounts_text(r.shortage(row)), row.done));
                        }
                    }
                }
                v
            }).collect()
        };
        for l in left_out(&base, &ask, &goal_idx) {
            let with: Vec<Located> = ask.menu.iter().enumerate()
                .filter(|(i, _)| *i == l.offer || pick[*i % pick.len()])
                .map(|(_, o)| o.used(o.max)).collect();
            let without: Vec<Located> = ask.menu.iter().enumerate()
                .filter(|(i, _)| *i != l.offer && pick[*i % pick.len()])
                .map(|(_, o)| o.used(o.max)).collect();
            let a = apply::apply(&base, &with);
            let b = apply::apply(&base, &without);
            if let Ok(a) = a {
                let b = b.map_err(|e| TestCaseError::fail(format!("{e}: without {} it cannot be made\n{text}", l.offer)))?;
                let (ra, rb) = (compute(a).unwrap(), compute(b).unwrap());
                prop_assert_eq!(rows(&ra), rows(&rb), "{}\nline {}", text, l.offer);
            }
        }
    }
}

#[test]
fn the_goal_met_today_costs_nothing() {
    let plan = "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n=====qplan staff v1\n\tp1\tAnn\tT\tTenor\tApps\t\n=====qplan work v1\n\tA\t1\tA\tApps:1\t1\tTenor\n=====end\n";
    let base = input_of(plan);
    let ask = ask::parse("ask", "goal\nallow 1 drop A").unwrap();
    let stop = AtomicBool::new(false);
    let a = solve(&base, &ask, &options(&stop, 1, 10)).unwrap();
    let f = a.found.unwrap();
    assert!(f.uses.is_empty() && f.cost == 0 && a.proven);
    assert_eq!(a.tried, 1);
}

/// Ann does Apps in Tenor for 10 workdays (supply 2). A (Apps:1, 5
/// person-days) and B (Apps:1.5, 7.5 person-days) at ranks 1 and 2: B has
/// 1 of supply left for its 1.5 (short 0.5) and days 5–9 only: DNF. Hiring
/// one more (price 3) gives supply 4 and a second person a day: B done;
/// ranking B first (price 2) or dropping A (price 2) too. Rank and drop tie
/// on price and number of lines: the line written first wins.
#[test]
fn ties_go_to_menu_order_and_a_budget_leaves_it_unproven() {
    let plan = "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n=====qplan staff v1\n\tp1\tAnn\tT\tTenor\tApps\t\n=====qplan work v1\n\tA\t1\tA\tApps:1\t2\tTenor\n\tB\t2\tB\tApps:1.5\t1\tTenor\n=====end\n";
    let base = input_of(plan);
    let stop = AtomicBool::new(false);
    let ask = ask::parse(
        "ask",
        "goal triage<=1\nallow 3 add staff H track=Tenor skill=Apps\nallow 2 rank B 1\nallow 2 drop A",
    )
    .unwrap();
    let a = solve(&base, &ask, &options(&stop, 2, 1000)).unwrap();
    let f = a.found.as_ref().unwrap();
    assert!(a.proven);
    assert_eq!(f.script(), "rank B 1\n");
    assert_eq!(render::cost_text(f.cost), "2");
    // The budget of 2: the plan as it is, then every line at its most
    // (which meets the goal): that is the best found, not proven.
    let a = solve(&base, &ask, &options(&stop, 1, 2)).unwrap();
    assert!(!a.proven && a.end == End::Budget);
    assert_eq!(a.found.unwrap().uses.len(), 3);
    // Ctrl-C before anything: nothing found, not proven.
    let stopped = AtomicBool::new(true);
    let a = solve(&base, &ask, &options(&stopped, 2, 1000)).unwrap();
    assert!(a.found.is_none() && !a.proven && a.end == End::Interrupted);
}

#[test]
fn a_goal_of_nothing_and_a_line_naming_nothing_are_bad_asks() {
    let plan = "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n=====qplan staff v1\n\tp1\tAnn\tT\tTenor\tApps\t\n=====qplan work v1\n\tA\t1\tA\tApps:1\t2\tTenor\n=====end\n";
    let base = input_of(plan);
    let stop = AtomicBool::new(false);
    let err = |text: &str| {
        let ask = ask::parse("ask", text).unwrap();
        let e = solve(&base, &ask, &options(&stop, 1, 10)).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    };
    assert_eq!(
        err("goal triage<=1\nallow 1 drop A"),
        "ask, line 1, column 1: the goal names no item of the plan (its filters are ANDed)"
    );
    assert_eq!(
        err("goal items=A,Q\nallow 1 drop A"),
        "ask, line 1, column 14: no work item has the id \"Q\"; the closest is \"A\""
    );
    assert!(err("goal\nallow 1 drop Z")
        .starts_with("ask, line 2, column 14: no work item has the id or name \"Z\""));
    assert!(err("goal track=Bas\nallow 1 drop A")
        .starts_with("ask, line 1, column 6: no track is called \"Bas\""));
    let _ = lang::MAX_COUNT;
}
