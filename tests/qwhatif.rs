//! qwhatif end to end: the output streams, the text banner and summary,
//! JSON and CSV, compare, and every error path (exit code, message,
//! nothing on stdout).

use predicates::prelude::*;

use crate::util::{fixture, fixture_text, shows_bar, Sandbox};

/// fixtures/qplan/small.in with a provenance section, as qsnap gives it.
fn small_with_provenance() -> String {
    fixture_text("qplan/small.in").replace(
        "=====end\n",
        "=====qsnap provenance v1\n\tqplan conditioned\tabc1234\n\tqplan raw\tdef5678\n=====end\n",
    )
}

#[test]
fn no_changes_writes_the_baseline_and_an_empty_diff() {
    let sb = Sandbox::new();
    let small = fixture("qplan/small.in");
    let plan = sb.cmd("qplan").arg(&small).output().unwrap().stdout;
    let out = sb
        .cmd("qwhatif")
        .arg("")
        .arg(&small)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let mut want = plan.strip_suffix(b"=====end\n").unwrap().to_vec();
    want.extend_from_slice(b"=====qwhatif changes v1\n=====qwhatif diff v1\n=====end\n");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        String::from_utf8(want).unwrap()
    );
}

#[test]
fn stream_has_the_changes_and_the_diff() {
    // small.in (fixtures/qplan/small.expected): W1 is done 2013-10-11 in
    // All and DNF, short Web:-0.5, in Tenor (nobody there does Web).
    // Dropped, it leaves both lists.
    let out = Sandbox::new()
        .cmd("qwhatif")
        .arg("drop W1")
        .write_stdin(small_with_provenance())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains(
        "=====qsnap provenance v1\n\tqplan conditioned\tabc1234\n\tqplan raw\tdef5678\n=====qwhatif changes v1\n\tdrop W1\n=====qwhatif diff v1\n"
    ));
    assert!(
        out.contains("\tW1\tLogin\tAll\t2013-10-11\t-\t\t\n"),
        "{out}"
    );
    assert!(
        out.contains("\tW1\tLogin\tTenor\tDNF\t-\tWeb:-0.5\t\n"),
        "{out}"
    );
    assert!(out.ends_with("=====end\n"));
    // qplan renders the scenario from it, as from any results stream.
    Sandbox::new()
        .cmd("qplan")
        .args(["-f", "text"])
        .write_stdin(out)
        .assert()
        .success()
        .stdout(predicate::str::contains("== All == 3 people, 3 items"));
}

#[test]
fn text_has_the_banner_the_summary_and_the_report() {
    Sandbox::new()
        .cmd("qwhatif")
        .args(["--format", "text", "add staff Dan track=Bass skill=Web"])
        .write_stdin(small_with_provenance())
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "WHAT-IF, not a plan of record: based on qplan conditioned abc1234\n",
        ))
        .stdout(predicate::str::contains(
            "Changes:\n  add staff Dan track=Bass skill=Web\n",
        ))
        .stdout(predicate::str::contains(
            "What moves (scenario against baseline):",
        ))
        // Dan's 9 workdays are 1.8 person-weeks of Web, in All and Bass.
        .stdout(predicate::str::contains("Bass   Web    +1.8      0"))
        .stdout(predicate::str::contains("== All == 4 people, 4 items"));
}

#[test]
fn scripts_from_files_and_csv() {
    let sb = Sandbox::new();
    sb.write("cut.whatif", "# drop the login\ndrop \"Login\"\n");
    let out = sb
        .cmd("qwhatif")
        .args(["-s", "cut.whatif", "--format", "csv"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let mut reader = csv::Reader::from_reader(&out[..]);
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "list",
            "id",
            "name",
            "before",
            "after",
            "shortage_before",
            "shortage_after",
            "days"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows
        .iter()
        .any(|r| &r[0] == "All" && &r[1] == "W1" && &r[4] == "-"));
}

#[test]
fn json_is_one_document() {
    let out = Sandbox::new()
        .cmd("qwhatif")
        .args(["--format", "json", "triage W4 1"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(doc["whatif"]["changes"][0], "triage W4 1");
    assert_eq!(doc["whatif"]["diff"].as_array().unwrap().len(), 0);
    assert_eq!(doc["results"]["tracks"][0]["name"], "All");
}

#[test]
fn an_unknown_name_is_bad_data_with_suggestions_and_no_output() {
    Sandbox::new()
        .cmd("qwhatif")
        .args(["-q", "end 2013-10-25\nremove staff Alise"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .code(65)
        .stdout("")
        .stderr(
            "qwhatif: changes, line 2, column 14: no person has the id or name \"Alise\"; the closest are \"Alice\", \"Carol\", \"Bob\"\n",
        );
}

#[test]
fn a_syntax_error_in_a_script_file_says_where() {
    let sb = Sandbox::new();
    sb.write("bad.whatif", "end 2014-02-28\nrank \"Search 3\n");
    sb.cmd("qwhatif")
        .args(["-s", "bad.whatif"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .code(65)
        .stdout("")
        .stderr("qwhatif: bad.whatif, line 2, column 6: a quoted name is not closed on its line\n");
}

#[test]
fn a_results_stream_is_refused() {
    let sb = Sandbox::new();
    let results = sb
        .cmd("qplan")
        .arg(fixture("qplan/small.in"))
        .output()
        .unwrap()
        .stdout;
    sb.cmd("qwhatif")
        .arg("drop W1")
        .write_stdin(results)
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("is a results stream"));
}

#[test]
fn a_missing_script_is_an_io_error() {
    Sandbox::new()
        .cmd("qwhatif")
        .args(["-s", "nowhere.whatif"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .code(74)
        .stdout("")
        .stderr(predicate::str::contains("cannot read nowhere.whatif"));
}

#[test]
fn compare_puts_scenarios_side_by_side() {
    // small.in, baseline (see fixtures/qplan/small.expected): All has W1
    // 2013-10-11, W2 DNF (Apps:-0.6), W3 DNF (Web:-0.7), W4 DNF (not
    // estimated): 1 done, 3 DNF, latest 2013-10-11. Dropping W2 (no Web)
    // leaves W1's date and W3's Web supply (Carol's 1.8 - W1's 0.5 - 2 =
    // -0.7): 1 done, 2 DNF, no Apps shortage.
    let sb = Sandbox::new();
    sb.write("nosearch.whatif", "drop Search\n");
    let out = sb
        .cmd("qwhatif")
        .args(["compare", "-s", "nosearch.whatif", "--format", "csv"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "scenario,track,done,DNF,short Apps,short Web,latest"
    );
    assert_eq!(lines[1], "baseline,All,1,3,-0.6,-0.7,2013-10-11");
    assert_eq!(lines[4], "nosearch,All,1,2,0,-0.7,2013-10-11");
    assert_eq!(lines.len(), 7);
}

/// compare on a terminal shows a bar counting the plans computed (the
/// baseline and each scenario); through a pipe or with -q nothing, and
/// stdout is the same.
#[test]
fn compare_shows_its_progress_on_a_terminal_only() {
    let sb = Sandbox::new();
    sb.write("nosearch.whatif", "drop Search\n");
    sb.write("nosearch2.whatif", "drop Search\n");
    let input = fixture("qplan/small.in");
    let args = [
        "compare",
        "-s",
        "nosearch.whatif",
        "-s",
        "nosearch2.whatif",
        input.to_str().unwrap(),
    ];
    let tty = sb.on_terminal("qwhatif", &args, &[]);
    assert_eq!(tty.code, 0, "{}", tty.screen);
    assert!(
        tty.screen.contains("qwhatif compare") && shows_bar(&tty.screen, "/3 plans"),
        "{:?}",
        tty.screen
    );
    let quiet = sb.on_terminal("qwhatif", &[&args[..], &["-q"]].concat(), &[]);
    assert_eq!(quiet.code, 0, "{}", quiet.screen);
    assert_eq!(quiet.screen, "");
    // The input's warnings go to stderr as ever; the bar does not.
    let piped = sb.cmd("qwhatif").args(args).output().unwrap();
    assert!(piped.status.success());
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(
        err.contains("warning") && !err.contains("plans") && !err.contains("ETA"),
        "{err}"
    );
    assert_eq!(tty.stdout, piped.stdout);
    assert_eq!(quiet.stdout, piped.stdout);
    assert!(String::from_utf8_lossy(&piped.stdout).contains("nosearch2"));
}
