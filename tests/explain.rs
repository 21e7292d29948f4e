//! `qwhatif explain` end to end: why an item is short or late, the fixes
//! it suggests pasted back into qwhatif (they fix the item, the next
//! smaller ones do not), JSON, a fine item, an unknown one, bad input.

use predicates::prelude::*;

use crate::util::Sandbox;

/// Mon 2013-10-07 to Fri 2013-10-18, no holidays: 10 workdays. Ann and
/// Ben do Apps in Tenor: 2 people a day, supply 4 person-weeks.
/// A1 (Apps:2, 1 at once) takes one person all 10 days; A2 (Apps:1.5) the
/// other for 7.5 days, leaving 2.5 person-days (0.5 person-weeks). X
/// (Apps:6, 3 at once, 30 person-days) has 4 − 2 − 1.5 = 0.5 of supply
/// for its 6: short 5.5, and DNF. W (Web, Bass) is first in its list and
/// fine: Cindy's 10 days (2 person-weeks) for its 1 (5 days, from day 0:
/// 2013-10-11).
const PLAN: &str = "=====qplan params v1
\t2013-10-07\t2013-10-18\tApps:Web
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

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("plan.txt", PLAN);
    sb
}

/// X's lines in the `qplan track work v1` of a qwhatif stream: (list,
/// shortage, date).
fn x_rows(stream: &str) -> Vec<(String, String, String)> {
    stream
        .lines()
        .filter(|l| l.ends_with("\tX"))
        .map(|l| {
            let f: Vec<&str> = l.trim_start_matches('\t').split('\t').collect();
            (f[0].to_owned(), f[5].to_owned(), f[6].to_owned())
        })
        .collect()
}

fn scenario(sb: &Sandbox, script: &str) -> Vec<(String, String, String)> {
    let out = sb
        .cmd("qwhatif")
        .arg(script)
        .arg("plan.txt")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    x_rows(&String::from_utf8(out).unwrap())
}

#[test]
fn text_says_what_ran_out_who_took_it_and_what_fixes_it() {
    sandbox()
        .cmd("qwhatif")
        .args(["explain", "Big one", "plan.txt"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "X \"Big one\": rank 3, track Tenor, estimate Apps:6\n",
        ))
        .stdout(predicate::str::contains(
            "In Tenor: short Apps:-5.5, DNF (not done by the end).\n  Apps ran out in Tenor: supply 4 person-weeks (2 Apps people); the items ranked above took 3.5, leaving 0.5; X asks 6: short by 5.5.\n",
        ))
        .stdout(predicate::str::contains(
            "            2  A1  \"First\"  rank 1, Tenor\n          1.5  A2  \"Second\"  rank 2, Tenor\n",
        ))
        .stdout(predicate::str::contains(
            "  add staff \"Apps hire\" track=Tenor skill=Apps count=3\n    3 more Apps people in Tenor.\n",
        ))
        .stdout(predicate::str::contains("  estimate X Apps:0.5\n"))
        .stdout(predicate::str::contains("No rank change fixes it"));
}

#[test]
fn every_suggestion_pasted_into_qwhatif_fixes_it_and_one_step_less_does_not() {
    let sb = sandbox();
    let out = sb
        .cmd("qwhatif")
        .args(["explain", "X", "--format", "json", "plan.txt"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["fine"], false);
    assert_eq!(v["item"]["id"], "X");
    assert_eq!(v["lists"][1]["shortage"], "Apps:-5.5");
    assert_eq!(v["lists"][1]["causes"][0]["taken_by"][0]["id"], "A1");
    // Staff: 4 + 2n − 3.5 ≥ 6 needs n = 3 (n = 2: short 1.5). Estimate:
    // 0.5 is left of supply and days, so 6 → 0.5.
    assert_eq!(v["fixes"][0]["people"][0]["count"], 3);
    assert_eq!(v["fixes"][1]["cuts"][0]["cut"], 5.5);
    let fixes = v["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 2);
    for f in fixes {
        let script = f["changes"][0].as_str().unwrap();
        for (list, short, date) in scenario(&sb, script) {
            assert_eq!(
                (short.as_str(), date.as_str()),
                ("", "2013-10-18"),
                "{script} in {list}"
            );
        }
        let less = f["smaller"][0]["changes"][0].as_str().unwrap();
        let rows = scenario(&sb, less);
        assert!(
            rows.iter().all(|(_, s, d)| !s.is_empty() && d == "DNF"),
            "{less}: {rows:?}"
        );
    }
}

#[test]
fn a_fine_item_is_said_to_be_fine() {
    sandbox()
        .cmd("qwhatif")
        .args(["explain", "W"])
        .write_stdin(PLAN)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "W is neither short nor late: above the line and done before the end in All (done 2013-10-11) and Bass (done 2013-10-11).",
        ));
}

#[test]
fn an_unknown_item_is_bad_data_with_the_closest_names() {
    sandbox()
        .cmd("qwhatif")
        .args(["explain", "Big on", "plan.txt"])
        .assert()
        .code(65)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with(
            "qwhatif: ITEM, line 1, column 1: no work item has the id or name \"Big on\"; the closest are \"Big one\"",
        ));
}

#[test]
fn a_results_stream_is_refused() {
    let sb = sandbox();
    let results = sb.cmd("qplan").arg("plan.txt").output().unwrap().stdout;
    sb.cmd("qwhatif")
        .args(["explain", "X", "-"])
        .write_stdin(results)
        .assert()
        .code(65)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("is a results stream"));
}
