//! Hand-worked checks of each computation step of SPEC section 4.
//!
//! The plans are small enough to check with a calendar: October 2013 starts
//! on a Tuesday, so 2013-10-07 is a Monday.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::{compute, Results};
use crate::error::Error;
use crate::model::Amount;
use crate::rules::{read_plan as read, Loaded};
use crate::stream::Reader;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A plan from its sections: `params` is the params line, the others are
/// lines with `|` standing for TAB.
fn plan(params: &str, holidays: &[&str], staff: &[&str], work: &[&str]) -> Results {
    let mut s = format!(
        "=====qplan params v1\n\t{}\n=====qplan holidays v1\n",
        params.replace('|', "\t")
    );
    for h in holidays {
        s += &format!("\t{h}\n");
    }
    s += "=====qplan staff v1\n";
    for p in staff {
        s += &format!("\t{}\n", p.replace('|', "\t"));
    }
    s += "=====qplan work v1\n";
    for w in work {
        s += &format!("\t{}\n", w.replace('|', "\t"));
    }
    s += "=====end\n";
    match read(&mut Reader::new(s.as_bytes())) {
        Ok(Loaded::Input(input)) => compute(*input).unwrap(),
        Ok(Loaded::Results(_)) => panic!("read as results"),
        Err(e) => panic!("{e}"),
    }
}

fn track(r: &Results, name: &str) -> usize {
    r.tracks.iter().position(|t| t == name).unwrap()
}

fn skill(r: &Results, name: &str) -> usize {
    r.skills.iter().position(|t| t == name).unwrap()
}

/// (id, done) of a track's rows in order.
fn dates(r: &Results, t: &str) -> Vec<(String, Option<NaiveDate>)> {
    r.work[track(r, t)]
        .iter()
        .map(|row| (r.id(r.item(row)).to_owned(), row.done))
        .collect()
}

/// Person-weeks from their decimal text.
fn pw(values: &[&str]) -> Vec<Amount> {
    values
        .iter()
        .map(|v| Amount::parse_signed(v).unwrap())
        .collect()
}

const WEEK: &str = "2013-10-07|2013-10-13|Apps";

#[test]
fn a_week_of_two_people() {
    let r = plan(WEEK, &[], &["a|Alice|M|T|Apps|", "b|Bob|M|T|Apps|"], &[]);
    assert_eq!(r.tracks, ["All", "T"]);
    assert_eq!(r.skills, ["Apps"]);
    assert_eq!(r.manpower[0], pw(&["2.0"]));
    assert_eq!(r.manpower[1], pw(&["2.0"]));
    assert_eq!(r.staff[1][0], ["Alice", "Bob"]);
}

#[test]
fn a_holiday_is_no_workday() {
    let r = plan(
        WEEK,
        &["2013-10-09"],
        &["a|Alice|M|T|Apps|", "b|Bob|M|T|Apps|"],
        &[],
    );
    assert_eq!(r.manpower[0], pw(&["1.6"]));
}

#[test]
fn vacation_days_on_workdays_only() {
    // Tue–Wed away, and a Saturday that was no workday anyway.
    let r = plan(
        WEEK,
        &[],
        &[
            "a|Alice|M|T|Apps|2013-10-08..2013-10-09:2013-10-12",
            "b|Bob|M|T|Apps|",
        ],
        &[],
    );
    assert_eq!(r.manpower[0], pw(&["1.6"]));
}

#[test]
fn overlapping_vacations_count_once() {
    let r = plan(
        WEEK,
        &[],
        &["a|Alice|M|T|Apps|2013-10-08..2013-10-10:2013-10-09"],
        &[],
    );
    assert_eq!(r.manpower[0], pw(&["0.4"]));
}

#[test]
fn demand_accumulates_from_triage_one_down() {
    let r = plan(
        WEEK,
        &[],
        &["a|Alice|M|T|Apps|"],
        &[
            "1|1|A|Apps:1|1|T",
            "2|2|B|Apps:2,Web:1|2|T",
            "3|3|C|Apps:M|3|T",
            "4|4|D|Web:0.5|1.2|T",
        ],
    );
    let (apps, web) = (skill(&r, "Apps"), skill(&r, "Web"));
    let col = |s: usize| -> Vec<Amount> { r.demand[0].iter().map(|row| row[s]).collect() };
    assert_eq!(col(apps), pw(&["1", "1", "3", "3", "5"]));
    assert_eq!(col(web), pw(&["0", "0.5", "1.5", "1.5", "1.5"]));
}

#[test]
fn shortage_walks_a_running_supply_that_restarts_at_zero() {
    // Supply 2 person-weeks of Apps. A: 1 → 1 left. B: 3 → -2 (short by
    // -2). C: 1 → max(-2, 0) - 1 = -1 (short by -1, not -3).
    let r = plan(
        WEEK,
        &[],
        &["a|Alice|M|T|Apps|", "b|Bob|M|T|Apps|"],
        &[
            "A|1|A|Apps:1||T",
            "B|2|B|Apps:3||T",
            "C|3|C|Apps:1||T",
            "D|4|D|||T",
        ],
    );
    let short: Vec<Vec<(u32, Amount)>> = r.work[1]
        .iter()
        .map(|row| r.shortage(row).to_vec())
        .collect();
    let minus = |s: &str| Amount::parse_signed(s).unwrap();
    assert_eq!(
        short,
        [
            vec![],
            vec![(0, minus("-2"))],
            vec![(0, minus("-1"))],
            vec![]
        ]
    );
}

#[test]
fn item_needing_three_people_at_once() {
    // Four people for two weeks (10 workdays). 6 person-weeks: 3 at once,
    // 30 person-days, 10 days; the fourth person is free for B.
    let r = plan(
        "2013-10-07|2013-10-18|Apps",
        &[],
        &[
            "a|A|M|T|Apps|",
            "b|B|M|T|Apps|",
            "c|C|M|T|Apps|",
            "e|E|M|T|Apps|",
        ],
        &["A|1|A|Apps:6||T", "B|2|B|Apps:1||T"],
    );
    assert_eq!(
        dates(&r, "T"),
        [
            ("A".into(), Some(d("2013-10-18"))),
            ("B".into(), Some(d("2013-10-11")))
        ]
    );
}

#[test]
fn item_that_runs_out_of_days_is_dnf_and_keeps_what_it_used() {
    // One person, one week: A needs 2 weeks and takes the whole week; B
    // finds nothing left.
    let r = plan(
        WEEK,
        &[],
        &["a|Alice|M|T|Apps|"],
        &["A|1|A|Apps:2||T", "B|2|B|Apps:0.2||T"],
    );
    assert_eq!(dates(&r, "T"), [("A".into(), None), ("B".into(), None)]);
}

#[test]
fn item_without_estimate_is_dnf_and_without_scheduling_skills_done_at_start() {
    let r = plan(
        WEEK,
        &[],
        &["a|Alice|M|T|Apps|"],
        &["A|1|A|||T", "B|2|B|QA:5||T", "C|3|C|Apps:0||T"],
    );
    assert_eq!(
        dates(&r, "T"),
        [
            ("A".into(), None),
            ("B".into(), Some(d("2013-10-07"))),
            ("C".into(), Some(d("2013-10-07")))
        ]
    );
}

#[test]
fn equal_ranks_keep_input_order() {
    let r = plan(
        WEEK,
        &[],
        &["a|Alice|M|T|Apps|"],
        &[
            "Z|5|Z|Apps:0.2||T",
            "Y|5|Y|Apps:0.2||T",
            "X|1|X|Apps:0.2||T",
        ],
    );
    let ids: Vec<String> = dates(&r, "T").into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["X", "Z", "Y"]);
    // One person-day each, one after the other.
    assert_eq!(
        dates(&r, "T")
            .into_iter()
            .map(|(_, d)| d.unwrap().to_string())
            .collect::<Vec<_>>(),
        ["2013-10-07", "2013-10-08", "2013-10-09"]
    );
}

#[test]
fn each_scheduling_skill_uses_its_own_availability() {
    // Regression: an older implementation paired scheduling skills with
    // availability by position in the sorted skill list. Here Web (second
    // scheduling skill, third skill) has nobody, so Web work must be DNF
    // even though Apps and Native people are free.
    let r = plan(
        "2013-10-07|2013-10-13|Apps:Web",
        &[],
        &["a|Alice|M|T|Apps|", "n|Nina|M|T|Native|"],
        &["W|1|W|Web:0.2||T", "A|2|A|Apps:0.2||T"],
    );
    assert_eq!(
        dates(&r, "T"),
        [("W".into(), None), ("A".into(), Some(d("2013-10-07")))]
    );
}

#[test]
fn many_tracks_and_scheduling_skills_with_few_people() {
    // Fifty scheduling skills and thirty tracks, two people: each track
    // has a pool only for the skills its people have; a skill nobody in
    // the track has leaves its work DNF (or done at the start when the
    // amount is zero), exactly as a calendar of zeros would. Two weeks,
    // 10 workdays; Alice (Apps) is in T01, Bob (Web) in T02.
    let sched: Vec<String> = std::iter::once("Apps".to_owned())
        .chain(std::iter::once("Web".to_owned()))
        .chain((0..48).map(|i| format!("S{i:02}")))
        .collect();
    let params = format!("2013-10-07|2013-10-18|{}", sched.join(":"));
    let mut work = vec![
        // T01 has Alice: 5 person-days of Apps at one a day, done Friday.
        "W1|1|W1|Apps:1|1|T01".to_owned(),
        // T01 has no Web person: DNF there; in All, Bob does it by Friday.
        "W2|2|W2|Web:1|1|T01".to_owned(),
        // Nobody has S07; a zero amount of it is done on the start date.
        "W3|3|W3|S07:0|1|T09".to_owned(),
        // Nobody has S08: DNF, and the Apps day it took stays taken.
        "W4|4|W4|S08:1,Apps:0.2|1|T01".to_owned(),
        // QA does not schedule: done on the start date.
        "W5|5|W5|QA:1|1|T03".to_owned(),
        // Alice's Apps after W1 and W4's day: Monday of the second week
        // is taken by W4, so Tuesday.
        "W6|6|W6|Apps:0.2|1|T01".to_owned(),
    ];
    // Tracks T10..T29 with work in skills nobody has.
    work.extend((10..30).map(|t| format!("X{t}|{t}|X{t}|S{:02}:0.2|1|T{t}", t + 10)));
    let work: Vec<&str> = work.iter().map(String::as_str).collect();
    let r = plan(
        &params,
        &[],
        &["a|Alice|M|T01|Apps|", "b|Bob|M|T02|Web|"],
        &work,
    );
    let fri = Some(d("2013-10-11"));
    let mon = Some(d("2013-10-07"));
    assert_eq!(
        dates(&r, "T01"),
        [
            ("W1".into(), fri),
            ("W2".into(), None),
            ("W4".into(), None),
            ("W6".into(), Some(d("2013-10-15"))),
        ]
    );
    assert_eq!(dates(&r, "T09"), [("W3".into(), mon)]);
    assert_eq!(dates(&r, "T03"), [("W5".into(), mon)]);
    let all = dates(&r, "All");
    assert_eq!(
        &all[..6],
        [
            ("W1".into(), fri),
            ("W2".into(), fri),
            ("W3".into(), mon),
            ("W4".into(), None),
            ("W5".into(), mon),
            ("W6".into(), Some(d("2013-10-15"))),
        ]
    );
    assert!(all[6..].iter().all(|(_, done)| done.is_none()));
    assert_eq!(dates(&r, "T29"), [("X29".into(), None)]);
    assert_eq!(r.tracks.len(), 1 + 24);
}

#[test]
fn latest_scheduling_skill_decides_the_date() {
    let r = plan(
        "2013-10-07|2013-10-13|Apps:Web",
        &[],
        &["a|Alice|M|T|Apps|", "w|Walt|M|T|Web|"],
        &["A|1|A|Apps:0.2,Web:0.6||T"],
    );
    // Apps: 1 day (Mon); Web: 3 days (Wed).
    assert_eq!(dates(&r, "T"), [("A".into(), Some(d("2013-10-09")))]);
}

#[test]
fn all_track_pools_everyone_and_tracks_their_own() {
    // Tenor has one Apps person, Bass one. In Tenor, T2 waits for T1; in
    // All, Bass's person takes T2 at once.
    let r = plan(
        WEEK,
        &[],
        &["a|Alice|M|Tenor|Apps|", "b|Bob|M|Bass|Apps|"],
        &["T1|1|T1|Apps:0.2||Tenor", "T2|2|T2|Apps:0.2||Tenor"],
    );
    assert_eq!(
        dates(&r, "All"),
        [
            ("T1".into(), Some(d("2013-10-07"))),
            ("T2".into(), Some(d("2013-10-07")))
        ]
    );
    assert_eq!(
        dates(&r, "Tenor"),
        [
            ("T1".into(), Some(d("2013-10-07"))),
            ("T2".into(), Some(d("2013-10-08")))
        ]
    );
    assert!(r.work[track(&r, "Bass")].is_empty());
    assert_eq!(r.manpower[track(&r, "Bass")], pw(&["1.0"]));
}

#[test]
fn fractional_estimate_takes_exact_days() {
    // 2.2 person-weeks = 11 person-days at one person a day: 11 workdays
    // from Mon 2013-10-07 is Mon 2013-10-21.
    let r = plan(
        "2013-10-07|2013-10-31|Apps",
        &[],
        &["a|Alice|M|T|Apps|"],
        &["A|1|A|Apps:2.2||T"],
    );
    assert_eq!(dates(&r, "T"), [("A".into(), Some(d("2013-10-21")))]);
}

#[test]
fn results_stream_reads_back_to_the_same_results() {
    let r = plan(
        "2013-10-07|2013-10-18|Apps:Web",
        &["2013-10-14"],
        &[
            "a|Alice|M|Tenor|Apps|2013-10-09",
            "b|Bob|M|Tenor|Apps|",
            "c|Carol|M|Bass|Web|",
        ],
        &[
            "W1|1|Login|Apps:1,Web:0.5|1|Tenor",
            "W2|2|Search|Apps:L|2|Tenor",
            "W3|2|Profile|Web:M||Bass",
            "W4|3|Docs|||",
        ],
    );
    let mut out = Vec::new();
    r.write_stream(&mut out).unwrap();
    let back = match read(&mut Reader::new(&out[..])).unwrap() {
        Loaded::Results(sections) => crate::report::stored::read(sections).unwrap(),
        Loaded::Input(_) => panic!("read as input"),
    };
    // Items are repeated per list when read back; compare what is shown.
    let mut again = Vec::new();
    back.write_stream(&mut again).unwrap();
    assert_eq!(
        String::from_utf8(again).unwrap(),
        String::from_utf8(out).unwrap()
    );
}

fn read_err(s: &str) -> Error {
    match read(&mut Reader::new(s.as_bytes())) {
        Err(e) => e,
        Ok(_) => panic!("no error for {s:?}"),
    }
}

#[test]
fn bad_input_names_section_line_column_and_value() {
    let base = "=====qplan params v1\n\t2013-10-07\t2013-10-13\tApps\n=====qplan holidays v1\n=====qplan staff v1\n=====qplan work v1\n";
    let e = read_err(&format!("{base}\tA\t1\tA\tApps:x\t\t\n=====end\n"));
    let msg = e.to_string();
    assert!(msg.contains("line 6"), "{msg}");
    assert!(msg.contains("qplan work v1"), "{msg}");
    assert!(msg.contains("estimate"), "{msg}");
    assert!(msg.contains("\"Apps:x\""), "{msg}");
    assert_eq!(e.exit_code(), 65);

    for (bad, what) in [
        ("\tA\tone\tA\t\t\t\n", "rank"),
        ("\tA\t1\tA\t\thigh\t\n", "triage"),
        ("\tA\t1\tA\n", "3 columns where 5 are expected"),
        ("\tA\t1\tA\t\t\t\n\tA\t2\tB\t\t\t\n", "(first on line 6)"),
        ("\tA\t1\tA\t\t\t\n=====qplan work v1\n", "appears twice"),
        ("\tA\t1\tA\ta\rb\t\t\n", "carriage return"),
        ("\tA\t1\tA\t\t\tAll\n", "reserved"),
        (
            "\tA\t1\tA\t\t\t\n\tA\t2\tB\t\t\t\n",
            "work id is not unique",
        ),
        ("\tA\t1\t \t\t\t\n", "the name is empty"),
    ] {
        let msg = read_err(&format!("{base}{bad}=====end\n")).to_string();
        assert!(msg.contains(what), "{bad:?}: {msg}");
    }
    let msg = read_err("=====qplan params v1\n\t2013-10-07\t2013-10-01\t\n").to_string();
    assert!(msg.contains("is before the start"), "{msg}");
    let msg = read_err("=====qplan params v1\n\t2013-10-07\t2013-10-08\t\n=====end\n").to_string();
    assert!(
        msg.contains("section 'qplan holidays v1': the section is missing"),
        "{msg}"
    );
}

proptest! {
    /// Whatever the lines of the sections, reading and computing never
    /// panics: it gives results or an error.
    #[test]
    fn qplan_never_panics_on_arbitrary_sections(
        params in "[0-9A-Za-z:, -]{0,12}\t[0-9A-Za-z:, -]{0,12}\t[A-Za-z:]{0,12}",
        holidays in proptest::collection::vec("[0-9-]{0,12}", 0..3),
        staff in proptest::collection::vec("[a-z]{0,3}\t[A-Za-z ]{0,4}\t[A-Z]{0,2}\t[A-Z]{0,2}\t(Apps|Web|)\t[0-9.:-]{0,24}", 0..5),
        work in proptest::collection::vec("[A-Z0-9]{0,3}\t-?[0-9]{0,3}\t[a-z]{0,4}\t[A-Za-z0-9:,.]{0,12}\t[0-9.]{0,3}\t[A-Z]{0,2}", 0..8),
    ) {
        let mut s = format!("=====qplan params v1\n\t{params}\n=====qplan holidays v1\n");
        for h in holidays { s += &format!("\t{h}\n"); }
        s += "=====qplan staff v1\n";
        for p in staff { s += &format!("\t{p}\n"); }
        s += "=====qplan work v1\n";
        for w in work { s += &format!("\t{w}\n"); }
        if let Ok(Loaded::Input(input)) = read(&mut Reader::new(s.as_bytes())) {
            let r = compute(*input).unwrap();
            let mut out = Vec::new();
            r.write_stream(&mut out).unwrap();
            let mut text = Vec::new();
            crate::report::render::text(&r, Default::default(), &mut text).unwrap();
        }
    }

    /// Arbitrary bytes as a qplan input never panic either.
    #[test]
    fn qplan_reader_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(Loaded::Results(sections)) = read(&mut Reader::new(&bytes[..])) {
            let _ = crate::report::stored::read(sections);
        }
    }
}

fn small_results_stream() -> Vec<String> {
    let r = plan(
        "2013-10-07|2013-10-18|Apps:Web",
        &["2013-10-14"],
        &[
            "a|Alice|M|Tenor|Apps|2013-10-09",
            "b|Bob|M|Tenor|Apps|",
            "c|Carol|M|Bass|Web|",
        ],
        &[
            "W1|1|Login|Apps:1,Web:0.5|1|Tenor",
            "W2|2|Search|Apps:L|2|Tenor",
            "W3|2|Profile|Web:M||Bass",
        ],
    );
    let mut out = Vec::new();
    r.write_stream(&mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

proptest! {
    /// A damaged results stream (a line dropped, doubled or rewritten)
    /// reads back as results or as an error, never a panic.
    #[test]
    fn damaged_results_streams_never_panic(
        at in 0usize..200,
        how in 0u8..4,
        text in "[\t=a-zA-Z0-9:., -]{0,20}",
    ) {
        let mut lines = small_results_stream();
        let i = at % lines.len();
        match how {
            0 => { lines.remove(i); }
            1 => { let l = lines[i].clone(); lines.insert(i, l); }
            2 => { let tabs = lines[i].len() - lines[i].trim_start_matches('\t').len(); lines[i] = "\t".repeat(tabs) + &text; }
            _ => { lines[i].push_str(&text); }
        }
        let s = lines.join("\n") + "\n";
        if let Ok(Loaded::Results(sections)) = read(&mut Reader::new(s.as_bytes())) {
            if let Ok(r) = crate::report::stored::read(sections) {
                let mut out = Vec::new();
                r.write_stream(&mut out).unwrap();
                crate::report::render::text(&r, Default::default(), &mut out).unwrap();
                crate::report::render::json(&r, Default::default(), &mut out).unwrap();
                crate::report::render::csv(&r, Default::default(), &mut out).unwrap();
            }
        }
    }
}

/// Issue 9: a person with an empty skill is in no skill group, but is one
/// of the track's people; the text report's head count used to sum the
/// skill groups and left them out.
#[test]
fn a_person_without_a_skill_counts_in_the_head_count() {
    let r = plan(
        "2013-10-07|2013-10-11|Apps",
        &[],
        &["p1|Ana|T|Tenor|Apps|", "p2|Bo|T|Tenor||", "p3|Cy|T|||"],
        &["W1|1|Login|Apps:1|1|Tenor"],
    );
    assert_eq!(r.tracks, ["All", "Tenor"]);
    // All holds all three, Tenor two; only Ana is in a skill group.
    assert_eq!(r.heads, [3, 2]);
    assert_eq!(r.staff[1], [vec!["Ana".to_owned()]]);
    let mut text = Vec::new();
    crate::report::render::text(&r, Default::default(), &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("== All == 3 people, 1 item"), "{text}");
    assert!(text.contains("== Tenor == 2 people, 1 item"), "{text}");
}
