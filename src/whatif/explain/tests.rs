use proptest::prelude::*;

use super::*;
use crate::model::Amount;
use crate::rules::{read_plan as read, Loaded};
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
