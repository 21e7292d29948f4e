//! What-if tests: every change kind on a small plan, with the numbers
//! before and after worked out by hand; the parser's round trip and
//! robustness; and "no changes is the baseline" on random plans.

use proptest::prelude::*;

use super::*;
use crate::model::amount::Amount;
use crate::rules::{read_plan as read, Loaded};
use crate::stream::Reader;

/// The small plan every case starts from. Two weeks, Mon 2013-10-07 to Fri
/// 2013-10-18: 10 workdays (day 0 to day 9), scheduled on Apps.
/// Ann (Tenor) and Ben (Bass) do Apps, Cat (Bass) does Web.
///
/// Baseline, worked out by hand:
/// - All: 2 Apps people a day. W1 (Apps:1 = 5 person-days, 1 at once)
///   takes one person days 0–4 → 2013-10-11; W2 the other person days 0–4
///   → 2013-10-11; W3 days 5–9 → 2013-10-18. Manpower Apps 2·10/5 = 4:
///   supply 4 → 3 → 2 → 1, nobody short.
/// - Tenor (Ann): W1 days 0–4 → 10-11, W2 days 5–9 → 10-18; manpower 2:
///   2 → 1 → 0, not short.
/// - Bass (Ben): W3 days 0–4 → 10-11; manpower 2.
const PLAN: &str = "=====qplan params v1
\t2013-10-07\t2013-10-18\tApps
=====qplan holidays v1
=====qplan staff v1
\tp1\tAnn\tT\tTenor\tApps\t
\tp2\tBen\tT\tBass\tApps\t
\tp3\tCat\tT\tBass\tWeb\t
=====qplan work v1
\tW1\t1\tOne\tApps:1\t1\tTenor
\tW2\t2\tTwo\tApps:1\t1\tTenor
\tW3\t3\tThree\tApps:1\t2\tBass
=====end
";

fn input_of(text: &str) -> Input {
    match read(&mut Reader::new(text.as_bytes())).expect("valid plan") {
        Loaded::Input(i) => *i,
        Loaded::Results(_) => panic!("not an input"),
    }
}

fn what_if(script: &str) -> WhatIf {
    let changes = parse("test", script).expect("valid script");
    run(input_of(PLAN), changes).expect("what-if runs")
}

/// The date (or DNF) and shortage of item `id` in list `list` of `r`.
fn row(r: &Results, list: &str, id: &str) -> (String, String) {
    let t = r.tracks.iter().position(|t| t == list).expect("list");
    let row = r.work[t]
        .iter()
        .find(|row| r.id(r.item(row)) == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"));
    (
        row.done.map_or("DNF".into(), |d| d.to_string()),
        r.amounts_text(r.shortage(row)),
    )
}

fn d(date: &str) -> (String, String) {
    (date.to_owned(), String::new())
}

fn short(date: &str, short: &str) -> (String, String) {
    (date.to_owned(), short.to_owned())
}

/// The ids of a list in rank order.
fn order(r: &Results, list: &str) -> Vec<String> {
    let t = r.tracks.iter().position(|t| t == list).expect("list");
    r.work[t]
        .iter()
        .map(|row| r.id(r.item(row)).to_owned())
        .collect()
}

/// The diff as `list id before after` lines.
fn moved(w: &WhatIf) -> Vec<String> {
    w.diff
        .iter()
        .map(|m| {
            format!(
                "{} {} {} {}",
                m.list,
                m.id,
                diff::date_text(m.before.as_ref()),
                diff::date_text(m.after.as_ref())
            )
        })
        .collect()
}

fn manpower(r: &Results, list: &str, skill: &str) -> Amount {
    let t = r.tracks.iter().position(|t| t == list).expect("list");
    let k = r.skills.iter().position(|k| k == skill).expect("skill");
    r.manpower[t][k]
}

fn pw(s: &str) -> Amount {
    Amount::parse_signed(s).expect("amount")
}

#[test]
fn the_baseline_is_as_worked_out() {
    let w = what_if("");
    let b = &w.baseline;
    assert_eq!(row(b, "All", "W1"), d("2013-10-11"));
    assert_eq!(row(b, "All", "W2"), d("2013-10-11"));
    assert_eq!(row(b, "All", "W3"), d("2013-10-18"));
    assert_eq!(row(b, "Tenor", "W2"), d("2013-10-18"));
    assert_eq!(row(b, "Bass", "W3"), d("2013-10-11"));
    assert_eq!(manpower(b, "All", "Apps"), pw("4"));
    assert!(w.diff.is_empty());
    assert_eq!(w.scenario, w.baseline);
}

#[test]
fn end_earlier_shortens_range_and_workdays() {
    // Oct 7–11: 5 workdays. All: W1 and W2 on days 0–4 → 10-11; W3 has no
    // day left → DNF. Manpower 2·5/5 = 2: 2 → 1 → 0 → -1, W3 short 1.
    // Tenor: Ann's 5 days go to W1; W2 DNF, supply 1 → 0 → -1.
    let w = what_if("end 2013-10-11");
    let s = &w.scenario;
    assert_eq!(row(s, "All", "W1"), d("2013-10-11"));
    assert_eq!(row(s, "All", "W3"), short("DNF", "Apps:-1"));
    assert_eq!(row(s, "Tenor", "W2"), short("DNF", "Apps:-1"));
    assert_eq!(row(s, "Bass", "W3"), d("2013-10-11"));
    assert_eq!(manpower(s, "All", "Apps"), pw("2"));
    assert_eq!(s.params_line, "2013-10-07\t2013-10-11\tApps");
    assert_eq!(
        moved(&w),
        ["All W3 2013-10-18 DNF", "Tenor W2 2013-10-18 DNF"]
    );
}

#[test]
fn start_later_moves_the_range() {
    // Oct 14–18: 5 workdays, as above a week later.
    let w = what_if("start 2013-10-14");
    let s = &w.scenario;
    assert_eq!(row(s, "All", "W1"), d("2013-10-18"));
    assert_eq!(row(s, "All", "W2"), d("2013-10-18"));
    assert_eq!(row(s, "All", "W3"), short("DNF", "Apps:-1"));
    assert_eq!(row(s, "Tenor", "W2"), short("DNF", "Apps:-1"));
}

#[test]
fn a_holiday_takes_a_workday_and_unholiday_gives_it_back() {
    // Tue Oct 8 off: 9 workdays. All: W1 and W2 on Oct 7, 9, 10, 11, 14 →
    // 10-14; W3 has Oct 15–18, 4 days of 5 → DNF. Manpower 2·9/5 = 3.6:
    // 2.6, 1.6, 0.6, nobody short. Tenor: 1.8 → 0.8 → -0.2; W1 10-14, W2
    // 4 days left → DNF.
    let w = what_if("holiday 2013-10-08");
    let s = &w.scenario;
    assert_eq!(row(s, "All", "W1"), d("2013-10-14"));
    assert_eq!(row(s, "All", "W3"), d("DNF"));
    assert_eq!(row(s, "Tenor", "W2"), short("DNF", "Apps:-0.2"));
    assert_eq!(manpower(s, "All", "Apps"), pw("3.6"));
    let back = what_if("holiday 2013-10-08; unholiday 2013-10-08");
    assert!(back.diff.is_empty());
    assert_eq!(back.scenario, back.baseline);
}

#[test]
fn add_staff_count_adds_people_with_unique_ids() {
    // Two more Apps people in Tenor: All has 4 a day, every item takes
    // days 0–4 → 10-11 (W3 7 days earlier); Tenor has 3, W2 → 10-11.
    // Manpower Tenor 3·10/5 = 6 (+4), All 8.
    let w = what_if(r#"add staff "Cy" track=Tenor skill=Apps count=2"#);
    let s = &w.scenario;
    assert_eq!(row(s, "All", "W3"), d("2013-10-11"));
    assert_eq!(row(s, "Tenor", "W2"), d("2013-10-11"));
    assert_eq!(manpower(s, "Tenor", "Apps"), pw("6"));
    assert_eq!(manpower(s, "All", "Apps"), pw("8"));
    assert_eq!(s.staff[2][0], ["Ann", "Cy 1", "Cy 2"]);
    assert_eq!(
        moved(&w),
        [
            "All W3 2013-10-18 2013-10-11",
            "Tenor W2 2013-10-18 2013-10-11"
        ]
    );
    assert_eq!(w.diff[0].days(), Some(-7));
    let input = apply(
        &input_of(PLAN),
        &parse("t", r#"add staff "Cy" track=Tenor skill=Apps count=3"#).unwrap(),
    )
    .unwrap();
    let ids: Vec<&str> = input.staff.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p1", "p2", "p3", "new-1", "new-2", "new-3"]);
}

#[test]
fn remove_staff() {
    // Without Ann: All has Ben alone: W1 days 0–4 → 10-11, W2 days 5–9 →
    // 10-18, W3 DNF; supply 2 → 1 → 0 → -1. Tenor has nobody: W1 and W2
    // DNF, supply 0 → -1, then max(-1, 0) - 1 = -1.
    let w = what_if("remove staff Ann");
    let s = &w.scenario;
    assert_eq!(row(s, "All", "W2"), d("2013-10-18"));
    assert_eq!(row(s, "All", "W3"), short("DNF", "Apps:-1"));
    assert_eq!(row(s, "Tenor", "W1"), short("DNF", "Apps:-1"));
    assert_eq!(row(s, "Tenor", "W2"), short("DNF", "Apps:-1"));
    assert_eq!(manpower(s, "Tenor", "Apps"), pw("0"));
}

#[test]
fn move_staff_changes_the_track_not_all() {
    // Ben to Tenor: Tenor has 2 a day, W1 and W2 → 10-11; Bass has no Apps
    // person: W3 DNF, short 1. All is unchanged.
    let w = what_if("move staff p2 track=Tenor");
    let s = &w.scenario;
    assert_eq!(row(s, "Tenor", "W2"), d("2013-10-11"));
    assert_eq!(row(s, "Bass", "W3"), short("DNF", "Apps:-1"));
    assert_eq!(row(s, "All", "W3"), d("2013-10-18"));
    assert!(w.diff.iter().all(|m| m.list != "All"));
}

#[test]
fn reskill_staff_and_scheduling_skills() {
    // Ben to Web: All has Ann alone for Apps: W2 10-18, W3 DNF short 1.
    let w = what_if("reskill staff Ben skill=Web");
    assert_eq!(row(&w.scenario, "All", "W3"), short("DNF", "Apps:-1"));
    assert_eq!(manpower(&w.scenario, "Bass", "Web"), pw("4"));
    // Scheduled on Web only, no item has a scheduling-skill amount: every
    // item finishes on the start date.
    let w = what_if("skills Web");
    assert_eq!(row(&w.scenario, "All", "W3"), d("2013-10-07"));
    assert_eq!(w.scenario.params_line, "2013-10-07\t2013-10-18\tWeb");
}

#[test]
fn vacation_takes_days_off() {
    // Ann away Mon–Wed: All has 1 person days 0–2, 2 after. W1: one a
    // day, days 0–4 → 10-11; W2: days 3, 4, 5, 6, 7 → 10-16; W3: days
    // 5–9 (1 left on 5–7, 2 on 8–9) → 10-18. Tenor: Ann has days 3–9: W1
    // 10-10 … 10-16, W2 2 days left → DNF; manpower 7/5 = 1.4 → 0.4 → -0.6.
    let w = what_if("vacation Ann 2013-10-07..2013-10-09");
    let s = &w.scenario;
    assert_eq!(row(s, "All", "W2"), d("2013-10-16"));
    assert_eq!(row(s, "All", "W3"), d("2013-10-18"));
    assert_eq!(row(s, "Tenor", "W1"), d("2013-10-16"));
    assert_eq!(row(s, "Tenor", "W2"), short("DNF", "Apps:-0.6"));
    assert_eq!(manpower(s, "All", "Apps"), pw("3.4"));
    assert_eq!(w.diff[0].days(), Some(5));
}

#[test]
fn rank_moves_an_item_and_shifts_the_others() {
    // Three to rank 1: One (rank 1) and all after move down one. All:
    // W3, W1 on days 0–4 → 10-11, W2 days 5–9 → 10-18.
    let w = what_if("rank Three 1");
    let s = &w.scenario;
    assert_eq!(order(s, "All"), ["W3", "W1", "W2"]);
    let ranks: Vec<i64> = s.work[0].iter().map(|r| s.item(r).rank).collect();
    assert_eq!(ranks, [1, 2, 3]);
    assert_eq!(row(s, "All", "W3"), d("2013-10-11"));
    assert_eq!(row(s, "All", "W2"), d("2013-10-18"));
    assert_eq!(
        moved(&w),
        [
            "All W3 2013-10-18 2013-10-11",
            "All W2 2013-10-11 2013-10-18"
        ]
    );
    // A free rank moves nothing else.
    let w = what_if("rank W1 10");
    assert_eq!(order(&w.scenario, "All"), ["W2", "W3", "W1"]);
    let ranks: Vec<i64> = w.scenario.work[0]
        .iter()
        .map(|r| w.scenario.item(r).rank)
        .collect();
    assert_eq!(ranks, [2, 3, 10]);
}

#[test]
fn estimate_changes_the_work() {
    // Two becomes Apps:2 (10 person-days, 1 at once). All: W2 one a day
    // days 0–9 → 10-18; W3 the other person days 5–9 → 10-18. Tenor: Ann
    // has 5 days after W1, W2 DNF; supply 2 → 1 → -1.
    let w = what_if("estimate Two Apps:2");
    let s = &w.scenario;
    assert_eq!(row(s, "All", "W2"), d("2013-10-18"));
    assert_eq!(row(s, "All", "W3"), d("2013-10-18"));
    assert_eq!(row(s, "Tenor", "W2"), short("DNF", "Apps:-1"));
    let sd = diff::supply_demand(&w.baseline, s);
    assert_eq!(
        sd,
        [
            ("All".into(), "Apps".into(), pw("0"), pw("1")),
            ("Tenor".into(), "Apps".into(), pw("0"), pw("1"))
        ]
    );
}

#[test]
fn triage_moves_demand_not_dates() {
    // One to triage 3: demand up to triage 1 in All is Two's 1 (was 2);
    // the total (up to 3) is 3 as before; no date or shortage moves.
    let w = what_if("triage One 3");
    assert!(w.diff.is_empty());
    assert_eq!(w.baseline.demand[0][0][0], pw("2"));
    assert_eq!(w.scenario.demand[0][0][0], pw("1"));
    assert_eq!(w.scenario.demand[0][4][0], pw("3"));
}

#[test]
fn drop_removes_from_every_list() {
    // Without One: All: W2 and W3 days 0–4 → 10-11; Tenor: W2 → 10-11.
    let w = what_if("drop One");
    assert_eq!(order(&w.scenario, "All"), ["W2", "W3"]);
    assert_eq!(order(&w.scenario, "Tenor"), ["W2"]);
    assert_eq!(
        moved(&w),
        [
            "All W3 2013-10-18 2013-10-11",
            "All W1 2013-10-11 -",
            "Tenor W2 2013-10-18 2013-10-11",
            "Tenor W1 2013-10-11 -"
        ]
    );
}

#[test]
fn add_work_at_a_rank() {
    // Four (Apps:1, Bass) at rank 1: the others move down. All: Four and
    // W1 days 0–4 → 10-11; W2 and W3 days 5–9 → 10-18. Bass: Four 10-11,
    // W3 days 5–9 → 10-18.
    let w = what_if(r#"add work "Four" track=Bass estimate=Apps:1 triage=1 rank=1"#);
    let s = &w.scenario;
    assert_eq!(order(s, "All"), ["new-1", "W1", "W2", "W3"]);
    assert_eq!(row(s, "All", "W2"), d("2013-10-18"));
    assert_eq!(row(s, "Bass", "W3"), d("2013-10-18"));
    assert_eq!(
        moved(&w),
        [
            "All new-1 - 2013-10-11",
            "All W2 2013-10-11 2013-10-18",
            "Bass new-1 - 2013-10-11",
            "Bass W3 2013-10-11 2013-10-18"
        ]
    );
    // Without a rank, last. Tenor: Ann's 10 days went to W1 and W2: W5
    // DNF, supply 2 → 1 → 0 → -1.
    let w = what_if(r#"add work Five track=Tenor estimate=Apps:1 id=W5"#);
    assert_eq!(order(&w.scenario, "All"), ["W1", "W2", "W3", "W5"]);
    assert_eq!(row(&w.scenario, "Tenor", "W5"), short("DNF", "Apps:-1"));
}

#[test]
fn a_track_no_one_names_any_more_disappears() {
    // Bass's people and work gone: the tracks are All and Tenor, as for a
    // fresh input without them (SPEC section 4: the union named).
    let w = what_if("remove staff Ben; remove staff Cat; drop W3");
    assert_eq!(w.scenario.tracks, ["All", "Tenor"]);
    assert_eq!(w.scenario.skills, ["Apps"]);
}

fn apply_error(script: &str) -> String {
    let changes = parse("s.whatif", script).expect("valid script");
    match apply(&input_of(PLAN), &changes) {
        Ok(_) => panic!("{script}: applied"),
        Err(e) => {
            assert_eq!(e.exit_code(), 65);
            e.to_string()
        }
    }
}

#[test]
fn names_that_match_nothing_say_where_and_suggest() {
    assert_eq!(
        apply_error("end 2013-10-11\nremove staff Ana"),
        "s.whatif, line 2, column 14: no person has the id or name \"Ana\"; the closest are \"Ann\", \"Ben\", \"Cat\""
    );
    assert_eq!(
        apply_error("drop Tree"),
        "s.whatif, line 1, column 6: no work item has the id or name \"Tree\"; the closest are \"Three\", \"One\", \"Two\""
    );
    assert!(apply_error("move staff Ann track=Tenr").starts_with(
        "s.whatif, line 1, column 16: no track is called \"Tenr\"; the closest are \"Tenor\""
    ));
    assert!(apply_error("reskill staff Ann skill=app")
        .contains("column 19: no skill is called \"app\"; the closest are \"Apps\""));
    assert!(apply_error("unholiday 2013-10-08").contains("2013-10-08 is not a holiday"));
    assert!(apply_error("end 2013-10-01").contains("would end (2013-10-01) before it starts"));
    assert!(apply_error("move staff Ann track=All").contains("All holds everyone"));
}

#[test]
fn syntax_errors_say_where() {
    let err = |s: &str| parse("x", s).unwrap_err().to_string();
    assert_eq!(
        err("end 2014-02-28; sack staff Bob"),
        "x, line 1, column 17: no change is called \"sack\"; the closest are \"rank\", \"start\", \"skills\""
    );
    assert_eq!(
        err("drop \"Item X"),
        "x, line 1, column 6: a quoted name is not closed on its line"
    );
    assert_eq!(
        err("\n\nend 2014-02-30"),
        "x, line 3, column 5: \"2014-02-30\": not a date, there is no such day (expected 2013-10-07 or Oct 7, 2013)"
    );
    assert_eq!(
        err("drop Item X"),
        "x, line 1, column 11: \"X\" is one word too many for drop (names with spaces are quoted)"
    );
    assert_eq!(
        err("add staff Al track=T"),
        "x, line 1, column 1: add staff needs skill="
    );
    assert_eq!(
        err("add staff Al track=T skill=A colour=red"),
        "x, line 1, column 30: add staff takes no colour=; it takes track=, skill=, team=, count="
    );
    assert_eq!(
        err("add staff Al track=T skill=A count=0"),
        "x, line 1, column 30: count=\"0\" is not a number from 1 to 10000"
    );
    assert_eq!(err("rank W1"), "x, line 1, column 1: rank needs a rank");
    assert_eq!(err("estimate W1 Apps:x"), "x, line 1, column 13: estimate \"Apps:x\": skill Apps: \"x\" is not a number or a T-shirt size (S, M, L, Q)");
}

#[test]
fn every_change_of_the_spec_example_parses() {
    let script = r#"
start 2013-10-14;            end 2014-02-28 ;           skills Apps:Native
holiday 2013-12-24          ; unholiday 2013-12-26
add staff "New hire" track=Tenor skill=Apps team=Mobile count=2
remove staff "Bob";          move staff "Bob" track=Money ;     reskill staff "Bob" skill=Web
vacation "Bob" 2013-12-01..2013-12-10
rank "Item X" 3  ;           estimate "Item X" Apps:4,Web:1  ;  triage "Item X" 1
drop "Item X"  ;             add work "New item" track=Tenor estimate=Apps:2 triage=1.5 rank=4
# a comment
"#;
    let changes = parse("spec", script).unwrap();
    assert_eq!(changes.len(), 15);
    let text = lang::script_text(changes.iter().map(|c| &c.change));
    assert_eq!(
        text,
        r#"start 2013-10-14
end 2014-02-28
skills Apps:Native
holiday 2013-12-24
unholiday 2013-12-26
add staff "New hire" track=Tenor skill=Apps team=Mobile count=2
remove staff Bob
move staff Bob track=Money
reskill staff Bob skill=Web
vacation Bob 2013-12-01..2013-12-10
rank "Item X" 3
estimate "Item X" Apps:4,Web:1
triage "Item X" 1
drop "Item X"
add work "New item" track=Tenor estimate=Apps:2 triage=1.5 rank=4
"#
    );
    assert_eq!(
        changes[5].pos("track"),
        lang::Pos {
            line: 4,
            column: 22
        }
    );
}

/// A name of a plan: anything printable but TAB, without surrounding
/// blanks.
fn name() -> impl Strategy<Value = String> {
    "[^\t\n\r\\p{Cc}]{1,12}".prop_map(|s| s.trim().to_owned())
}

/// A skill name: no `:` or `,`, which separate skills.
fn skill() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 _#\"=;]{0,6}".prop_map(|s| s.trim().to_owned())
}

fn date() -> impl Strategy<Value = chrono::NaiveDate> {
    (0i64..20_000).prop_map(|n| {
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(n as u64)
    })
}

fn amount() -> impl Strategy<Value = Amount> {
    (0i64..1_000_000_000_000).prop_map(Amount::from_units)
}

fn estimate() -> impl Strategy<Value = Option<Vec<(String, Amount)>>> {
    proptest::option::of(proptest::collection::vec((skill(), amount()), 1..4)).prop_map(|e| {
        e.map(|mut parts| {
            let mut seen = Vec::new();
            parts.retain(|(k, _)| {
                !k.is_empty() && !seen.contains(k) && {
                    seen.push(k.clone());
                    true
                }
            });
            parts
        })
        .filter(|p| !p.is_empty())
    })
}

fn triage() -> impl Strategy<Value = crate::rules::fields::Triage> {
    (0usize..5).prop_map(|i| crate::rules::fields::Triage::ALL[i])
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        date().prop_map(Change::Start),
        date().prop_map(Change::End),
        proptest::collection::vec(skill(), 0..3).prop_map(|v| {
            let mut out: Vec<String> = Vec::new();
            for k in v.into_iter().filter(|k| !k.is_empty()) {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
            Change::Skills(out)
        }),
        date().prop_map(Change::Holiday),
        date().prop_map(Change::Unholiday),
        (
            name(),
            name(),
            name(),
            proptest::option::of(name()),
            1u32..20
        )
            .prop_map(|(name, track, skill, team, count)| Change::AddStaff {
                name,
                track,
                skill,
                team,
                count
            }),
        name().prop_map(Change::RemoveStaff),
        (name(), name()).prop_map(|(who, track)| Change::MoveStaff { who, track }),
        (name(), name()).prop_map(|(who, skill)| Change::ReskillStaff { who, skill }),
        (name(), date(), 0u64..30).prop_map(|(who, from, n)| Change::Vacation {
            who,
            from,
            to: from + chrono::Days::new(n)
        }),
        (name(), any::<i64>()).prop_map(|(item, rank)| Change::Rank { item, rank }),
        (name(), estimate()).prop_map(|(item, estimate)| Change::Estimate { item, estimate }),
        (name(), triage()).prop_map(|(item, triage)| Change::Triage { item, triage }),
        name().prop_map(Change::Drop),
        (
            name(),
            name(),
            estimate(),
            triage(),
            proptest::option::of(any::<i64>()),
            proptest::option::of(name())
        )
            .prop_map(
                |(name, track, estimate, triage, rank, id)| Change::AddWork {
                    name,
                    track,
                    estimate,
                    triage,
                    rank,
                    id
                }
            ),
    ]
}

/// A small random plan: 1–3 tracks, 0–6 people, 0–12 items.
fn plan() -> impl Strategy<Value = String> {
    let person = (0usize..3, 0usize..3, proptest::option::of(0u32..10));
    let item = (
        0i64..8,
        0usize..3,
        proptest::option::of((0usize..3, 0u32..40)),
        0usize..5,
    );
    (
        proptest::collection::vec(person, 0..6),
        proptest::collection::vec(item, 0..12),
        0u32..30,
    )
        .prop_map(|(staff, work, holiday)| {
            let tracks = ["Tenor", "Bass", "Alto"];
            let skills = ["Apps", "Web", "QA"];
            let mut s = String::from(
                "=====qplan params v1\n\t2013-10-07\t2013-11-29\tApps:Web\n=====qplan holidays v1\n",
            );
            s.push_str(&format!(
                "\t{}\n=====qplan staff v1\n",
                chrono::NaiveDate::from_ymd_opt(2013, 10, 7).unwrap() + chrono::Days::new(holiday.into())
            ));
            for (i, (t, k, vac)) in staff.iter().enumerate() {
                let vac = vac.map_or(String::new(), |v| format!("2013-10-{:02}..2013-10-{:02}", 7 + v, 9 + v));
                s.push_str(&format!("\tp{i}\tP{i}\tX\t{}\t{}\t{vac}\n", tracks[*t], skills[*k]));
            }
            s.push_str("=====qplan work v1\n");
            for (i, (rank, t, e, tri)) in work.iter().enumerate() {
                let e = e.map_or(String::new(), |(k, n)| format!("{}:{}", skills[k], f64::from(n) / 4.0));
                s.push_str(&format!("\tW{i}\t{rank}\tItem {i}\t{e}\t{}\t{}\n", tri + 1, tracks[*t]));
            }
            s.push_str("=====end\n");
            s
        })
}

proptest! {
    #[test]
    fn the_parser_never_panics(s in "\\PC{0,80}") {
        let _ = parse("p", &s);
    }

    #[test]
    fn the_parser_never_panics_on_script_like_text(s in "(add |staff |work |drop |rank |\"|=|;|\n|track=|[A-Za-z0-9 .:,\\\\-]){0,30}") {
        let _ = parse("p", &s);
    }

    #[test]
    fn printed_changes_parse_back_the_same(changes in proptest::collection::vec(change(), 0..6)) {
        let text = lang::script_text(&changes);
        let back = parse("p", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let back: Vec<Change> = back.into_iter().map(|l| l.change).collect();
        prop_assert_eq!(back, changes);
    }

    #[test]
    fn no_changes_is_exactly_the_baseline(text in plan()) {
        let input = input_of(&text);
        let direct = crate::plan::compute(input.clone()).unwrap();
        let w = run(input, Vec::new()).unwrap();
        prop_assert!(w.diff.is_empty());
        prop_assert_eq!(&w.scenario, &w.baseline);
        prop_assert_eq!(&w.scenario, &direct);
    }

    #[test]
    fn a_change_undone_is_the_baseline(text in plan(), day in 0u64..40) {
        let d = chrono::NaiveDate::from_ymd_opt(2013, 10, 8).unwrap() + chrono::Days::new(day);
        let input = input_of(&text);
        let script = if input.holidays.contains(&d) {
            format!("unholiday {d}; holiday {d}")
        } else {
            format!("holiday {d}; unholiday {d}")
        };
        let w = run(input, parse("p", &script).unwrap()).unwrap();
        prop_assert!(w.diff.is_empty());
    }
}

/// Every (list, id, before, after) that differs, found the plain way: a
/// map of each list's items by id, both ways.
fn naive_diff(b: &Results, a: &Results) -> Vec<String> {
    use std::collections::BTreeMap;
    let outcomes = |r: &Results| -> BTreeMap<(String, String), String> {
        let mut m = BTreeMap::new();
        for (t, rows) in r.tracks.iter().zip(&r.work) {
            for row in rows {
                let o = format!(
                    "{}|{}",
                    row.done.map_or("DNF".into(), |d| d.to_string()),
                    r.amounts_text(r.shortage(row)).replace(' ', "")
                );
                m.insert((t.clone(), r.id(r.item(row)).to_owned()), o);
            }
        }
        m
    };
    let (ob, oa) = (outcomes(b), outcomes(a));
    let mut keys: Vec<&(String, String)> = ob.keys().chain(oa.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| ob.get(*k) != oa.get(*k))
        .map(|k| {
            let x = |o: Option<&String>| o.cloned().unwrap_or_else(|| "-|".into());
            format!("{} {} {} {}", k.0, k.1, x(ob.get(k)), x(oa.get(k)))
        })
        .collect()
}

proptest! {
    #[test]
    fn the_diff_is_every_item_that_moved(text in plan(), kind in 0usize..5, i in 0usize..12, rank in 0i64..9) {
        let input = input_of(&text);
        let Some(item) = input.work.get(i % input.work.len().max(1)).map(|w| input.arena.str(w.id).to_owned()) else {
            return Ok(());
        };
        let script = match kind {
            0 => format!("drop {item}"),
            1 => format!("rank {item} {rank}"),
            2 => format!("add work New track=Tenor estimate=Apps:{rank} rank={rank}"),
            3 => format!("estimate {item} Web:{rank}"),
            _ => "end 2013-11-15".to_owned(),
        };
        let Ok(changes) = parse("p", &script) else { return Ok(()) };
        let Ok(w) = run(input, changes) else { return Ok(()) };
        let mut got: Vec<String> = w
            .diff
            .iter()
            .map(|m| {
                let x = |o: Option<&diff::Outcome>| match o {
                    None => "-|".to_owned(),
                    Some(_) => format!("{}|{}", diff::date_text(o), diff::shortage_text(o).replace(' ', "")),
                };
                format!("{} {} {} {}", m.list, m.id, x(m.before.as_ref()), x(m.after.as_ref()))
            })
            .collect();
        got.sort();
        prop_assert_eq!(got, naive_diff(&w.baseline, &w.scenario));
    }
}

#[test]
fn compare_tables_scenarios_with_different_skills() {
    // cut (end 2013-10-11): All has W1, W2 done 10-11 and W3 DNF short
    // Apps 1 (see end_earlier_shortens_range_and_workdays). noweb: Cat
    // does Apps now, so Web is no skill of that plan; All has 3 Apps
    // people a day and every item takes days 0–4 → 10-11.
    let scenarios = vec![
        ("cut".to_owned(), parse("t", "end 2013-10-11").unwrap()),
        (
            "noweb".to_owned(),
            parse("t", "reskill staff Cat skill=Apps").unwrap(),
        ),
    ];
    let t = compare::compare(
        input_of(PLAN),
        &scenarios,
        &indicatif::ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!(t.skills, ["Apps", "Web"]);
    let line = |r: &compare::Row| {
        format!(
            "{} {} {} {} {:?} {}",
            r.scenario,
            r.track,
            r.done,
            r.dnf,
            r.short.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            r.latest.map_or("-".into(), |d| d.to_string())
        )
    };
    let lines: Vec<String> = t.rows.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "baseline All 3 0 [\"0\", \"0\"] 2013-10-18",
            "baseline Bass 1 0 [\"0\", \"0\"] 2013-10-11",
            "baseline Tenor 2 0 [\"0\", \"0\"] 2013-10-18",
            "cut All 2 1 [\"-1\", \"0\"] 2013-10-11",
            "cut Bass 1 0 [\"0\", \"0\"] 2013-10-11",
            "cut Tenor 1 1 [\"-1\", \"0\"] 2013-10-11",
            "noweb All 3 0 [\"0\", \"0\"] 2013-10-11",
            "noweb Bass 1 0 [\"0\", \"0\"] 2013-10-11",
            "noweb Tenor 2 0 [\"0\", \"0\"] 2013-10-18",
        ]
    );
}
