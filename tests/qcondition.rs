//! qcondition end to end: the fixture quarter, every layout, the gate's
//! error reports (text and JSON), --check, --strict.

use predicates::prelude::*;

use crate::util::{fixture, fixture_text, Sandbox};

fn in_fixtures(sb: &Sandbox) -> assert_cmd::Command {
    let mut c = sb.cmd("qcondition");
    c.current_dir(fixture("qcondition"));
    c
}

#[test]
fn the_quarter_raw_sheets_condition_into_the_quarter_inputs() {
    let sb = Sandbox::new();
    sb.cmd("qcondition")
        .arg("--map")
        .arg(fixture("quarter/map.toml"))
        .arg(fixture("quarter/raw.txt"))
        .assert()
        .success()
        .stdout(fixture_text("quarter/conditioned.txt"))
        .stderr(predicate::function(|err: &str| {
            // The sheets' blanks and the dates after the plan's end are
            // warnings (issue 20), each naming its raw cell; nothing else.
            let want = [
                "line 5, section 'raw holidays', column Date, value \"Dec 25, 2013\": the holiday 2013-12-25 is outside the plan (2013-10-07 to 2013-12-20): it changes nothing",
                "line 10, section 'raw staff', column Vacation, value \"2013-12-23..2013-12-27\": the vacation 2013-12-23..2013-12-27 of Chloe Park has no day in the plan (2013-10-07 to 2013-12-20): it changes nothing",
                "line 43, section 'raw work', column Estimate, value \"\": no estimate: the item is not estimated, so it is DNF and in no demand",
                "line 43, section 'raw work', column Triage, value \"\": no triage: read as 3, the least important level",
            ];
            let lines: Vec<&str> = err.lines().collect();
            lines.len() == 12
                && lines.iter().all(|l| l.starts_with("qcondition: warning: line "))
                && want
                    .iter()
                    .all(|w| lines.contains(&format!("qcondition: warning: {w}").as_str()))
        }));
}

#[test]
fn every_layout_fixture_gives_its_expected_output() {
    let sb = Sandbox::new();
    for case in ["grid", "jira"] {
        in_fixtures(&sb)
            .args(["--map", &format!("{case}.toml"), &format!("{case}.raw.txt")])
            .assert()
            .success()
            .stdout(fixture_text(&format!("qcondition/{case}.expected")));
    }
}

#[test]
fn broken_inputs_report_every_problem_and_write_nothing() {
    let sb = Sandbox::new();
    let cases = [
        ("broken-dates", "broken.toml", "broken-dates.raw.txt"),
        ("broken-column", "broken.toml", "broken-column.raw.txt"),
        ("broken-ids", "broken.toml", "broken-ids.raw.txt"),
        (
            "broken-map-typo",
            "broken-map-typo.toml",
            "broken-ids.raw.txt",
        ),
    ];
    for (case, map, raw) in cases {
        in_fixtures(&sb)
            .args(["--map", map, raw])
            .assert()
            .code(65)
            .stdout("")
            .stderr(fixture_text(&format!("qcondition/{case}.stderr")));
    }
    // Seven problems in one run, not just the first.
    assert_eq!(
        fixture_text("qcondition/broken-dates.stderr")
            .lines()
            .count(),
        8
    );
}

#[test]
fn errors_as_json_for_monitoring() {
    let sb = Sandbox::new();
    let out = in_fixtures(&sb)
        .args([
            "--map",
            "broken.toml",
            "--errors",
            "json",
            "broken-ids.raw.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(out.stdout.is_empty());
    let problems: serde_json::Value =
        serde_json::from_slice(&out.stderr).expect("only JSON on stderr");
    let list = problems.as_array().unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["severity"], "error");
    assert_eq!(list[0]["section"], "raw staff");
    assert_eq!(list[0]["line"], 6);
    assert_eq!(list[0]["column"], "Id");
    assert_eq!(list[0]["value"], "p1");
    assert_eq!(
        list[0]["message"],
        "person id is not unique (first on line 5)"
    );
    // The blank triage of line 11 (read as 3) is a warning, not silence.
    assert_eq!(list[2]["severity"], "warning");
    assert_eq!(list[2]["line"], 11);
    assert_eq!(list[2]["column"], "Triage");
    assert_eq!(list[4]["severity"], "warning");
}

#[test]
fn check_passes_good_streams_through_unchanged() {
    let sb = Sandbox::new();
    let good = fixture_text("quarter/conditioned.txt");
    sb.cmd("qcondition")
        .arg("--check")
        .write_stdin(good.clone())
        .assert()
        .success()
        .stdout(good);
}

/// SPEC section 2: every tool writes a lone TAB for an empty content line,
/// no `\r`, headers without trailing blanks and one `=====end`, at the end;
/// `--check` used to copy its input byte for byte.
#[test]
fn check_writes_what_every_tool_writes() {
    let sb = Sandbox::new();
    let input = "=====qplan params v1  \r\n\t2013-10-07\t2013-10-18\tApps\r\n\
                 =====qplan holidays v1\n\n\
                 =====qplan staff v1\n\tp1\tAna\tMobile\tTenor\tApps\t\n=====end\n\
                 =====qplan work v1\n\tW1\t1\tLogin\tApps:1\t1\tTenor\r\n=====end\n=====end\n";
    let expected = "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n\
                    =====qplan holidays v1\n\t\n\
                    =====qplan staff v1\n\tp1\tAna\tMobile\tTenor\tApps\t\n\
                    =====qplan work v1\n\tW1\t1\tLogin\tApps:1\t1\tTenor\n=====end\n";
    sb.cmd("qcondition")
        .arg("--check")
        .write_stdin(input)
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn check_reports_every_problem_of_a_conditioned_stream() {
    let sb = Sandbox::new();
    let bad = "=====qplan params v1\n\t2013-12-20\t2013-10-07\tApps\n\
               =====qplan staff v1\n\tp1\tAna\tMobile\tTenor\tApps\tnever\n\
               =====qplan work v1\n\tW1\t1\tLogin\tApps:x\t1\tTenor\n\tW1\t2\t\tApps:1\t\tTenor\n\tW3\t3\n\
               =====end\n";
    sb.cmd("qcondition")
        .arg("--check")
        .write_stdin(bad)
        .assert()
        .code(65)
        .stdout("")
        .stderr(
            "qcondition: section 'qplan holidays v1': the section is missing (a section with no lines is its header alone)\n\
             qcondition: line 2, section 'qplan params v1', column 2 (end), value \"2013-10-07\": the end (2013-10-07) is before the start (2013-12-20)\n\
             qcondition: line 4, section 'qplan staff v1', column 6 (vacation), value \"never\": vacation \"never\": not a date (expected 2013-10-07 or Oct 7, 2013)\n\
             qcondition: line 6, section 'qplan work v1', column 4 (estimate), value \"Apps:x\": skill Apps: \"x\" is not a number or a T-shirt size (S, M, L, Q)\n\
             qcondition: line 7, section 'qplan work v1', column 3 (name), value \"\": the name is empty\n\
             qcondition: line 7, section 'qplan work v1', column 1 (id), value \"W1\": work id is not unique (first on line 6)\n\
             qcondition: line 8, section 'qplan work v1': 2 columns where 5 are expected (id, rank, name, estimate, triage)\n\
             qcondition: 7 problems in stdin: nothing written\n",
        );
    sb.cmd("qcondition")
        .arg("--check")
        .write_stdin("=====qplan params v1\n\t2013-10-07\t2013-12-20\tApps\n=====end\n")
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "section 'qplan staff v1': the section is missing",
        ))
        .stderr(predicate::str::contains(
            "section 'qplan work v1': the section is missing",
        ));
}

#[test]
fn warnings_pass_unless_strict() {
    let sb = Sandbox::new();
    let raw = fixture_text("quarter/raw.txt").replace(
        "MOB-145,45,Beta channel,\"Apps:0.5,Native:2S\",2.5,Alto",
        "MOB-145,45,Beta channel,\"Apps:0.5,Native:2S\",2.5,Soprano",
    );
    assert!(raw.contains("Soprano"));
    let map = fixture("quarter/map.toml");
    sb.cmd("qcondition")
        .arg("--map")
        .arg(&map)
        .write_stdin(raw.clone())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "qcondition: warning: line 70, section 'raw work', column Track, value \"Soprano\": work in a track with no staff",
        ));
    sb.cmd("qcondition")
        .arg("--map")
        .arg(&map)
        .arg("-q")
        .write_stdin(raw.clone())
        .assert()
        .success()
        .stderr("");
    sb.cmd("qcondition")
        .arg("--map")
        .arg(&map)
        .arg("--strict")
        .write_stdin(raw)
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::ends_with(
            "3 problems in stdin: nothing written\n",
        ));
}

#[test]
fn made_ids_follow_the_row_not_its_place() {
    let sb = Sandbox::new();
    let raw = fixture_text("qcondition/grid.raw.txt");
    let swapped = raw.replace(
        "\tLogin rewrite,Soprano,1.5,S,,1\n\tOffline sync,Bass,2S,,0.5,3\n",
        "\tOffline sync,Bass,2S,,0.5,3\n\tLogin rewrite,Soprano,1.5,S,,1\n",
    );
    assert_ne!(raw, swapped);
    let run = |input: String| {
        let out = in_fixtures(&sb)
            .args(["--map", "grid.toml"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let id_of = |out: &str, name: &str| {
        out.lines()
            .find(|l| l.contains(name))
            .and_then(|l| l.trim_start().split('\t').next())
            .map(str::to_owned)
            .unwrap()
    };
    let (a, b) = (run(raw), run(swapped));
    assert_eq!(id_of(&a, "Login rewrite"), id_of(&b, "Login rewrite"));
    assert_eq!(id_of(&a, "Offline sync"), id_of(&b, "Offline sync"));
    assert!(id_of(&a, "Login rewrite").starts_with("MOB-"));
}

#[test]
fn usage_errors() {
    let sb = Sandbox::new();
    sb.cmd("qcondition").assert().code(2).stdout("");
    sb.cmd("qcondition")
        .args(["--map", "x.toml", "--check"])
        .assert()
        .code(2);
    sb.cmd("qcondition")
        .args(["--map", "missing.toml"])
        .write_stdin("=====end\n")
        .assert()
        .code(74)
        .stderr(predicate::str::starts_with(
            "qcondition: cannot read the map missing.toml",
        ));
    sb.cmd("qcondition")
        .arg("--check")
        .write_stdin("not a stream\n")
        .assert()
        .code(65)
        .stderr(predicate::str::starts_with(
            "qcondition: reading stdin: line 1: ",
        ));
}

#[test]
fn output_file_is_written_only_on_success() {
    let sb = Sandbox::new();
    let out = sb.write("plan.txt", "old\n");
    in_fixtures(&sb)
        .args(["--map", "broken.toml", "broken-ids.raw.txt", "-o"])
        .arg(&out)
        .assert()
        .code(65);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old\n");
    in_fixtures(&sb)
        .args(["--map", "grid.toml", "grid.raw.txt", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        fixture_text("qcondition/grid.expected")
    );
}

#[test]
fn raw_to_conditioned_to_plan() {
    let sb = Sandbox::new();
    let conditioned = sb
        .cmd("qcondition")
        .arg("--map")
        .arg(fixture("quarter/map.toml"))
        .arg(fixture("quarter/raw.txt"))
        .output()
        .unwrap();
    assert!(conditioned.status.success());
    sb.cmd("qplan")
        .args(["--format", "text"])
        .write_stdin(conditioned.stdout)
        .assert()
        .success()
        .stdout(predicate::str::contains("14 people, 45 items"));
}

#[test]
fn columns_by_index_with_defaults_literals_and_trimming() {
    let sb = Sandbox::new();
    let map = sb.write(
        "m.toml",
        r#"
[params]
start = { source = "settings", column = "Start" }
end = { source = "settings", column = "End" }
skills = { source = "settings", column = "Skills" }
[holidays]
dates = ["2013-12-25"]
[staff]
source = "staff"
layout = "table"
name = 1
team = { column = 2, default = "Mobile" }
track = { value = "Tenor" }
skill = { column = 3, rename = { "Server" = "Apps" } }
[work]
source = "work"
name = { column = 1, trim = false }
track = { value = "Tenor" }
triage = { column = 3, default = "2" }
estimate = 2
"#,
    );
    let raw = "=====raw settings\n\tStart,End,Skills\n\t2013-10-07,2013-12-20,Apps;Web\n\
               =====raw staff\n\tName,Team,Skill\n\t  Ana Lima  ,,Server\n\tBen,Platform,Web\n\
               =====raw work\n\tSummary,Estimate,Triage\n\t Login ,Apps:1,\n\tSearch,Web:2,1\n=====end\n";
    sb.cmd("qcondition")
        .arg("--map")
        .arg(map)
        .write_stdin(raw)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "=====qplan params v1\n\t2013-10-07\t2013-12-20\tApps:Web\n=====qplan holidays v1\n\t2013-12-25\n",
        ))
        .stdout(predicate::str::contains("\tAna Lima\tMobile\tTenor\tApps\t\n"))
        .stdout(predicate::str::contains("\tBen\tPlatform\tTenor\tWeb\t\n"))
        .stdout(predicate::str::contains("\t1\t Login \tApps:1\t2\tTenor\n"))
        .stdout(predicate::str::contains("\t2\tSearch\tWeb:2\t1\tTenor\n"));
}

/// Regression (issue 9): the map's gate had rules of its own and let
/// through rows qplan refuses (a track named All, a plan over 3,660 days,
/// totals that overflow); it now checks with qplan's rule book, naming the
/// raw cells.
#[test]
fn the_map_refuses_what_qplan_refuses_naming_the_raw_cell() {
    let sb = Sandbox::new();
    let map = sb.write(
        "m.toml",
        r#"
[params]
start = "2013-10-07"
end = "2023-10-15"
skills = "Apps"
[holidays]
dates = []
[staff]
source = "staff"
layout = "table"
name = 1
team = 2
skill = 3
track = 4
[work]
source = "work"
name = 1
estimate = 2
triage = 3
track = { value = "Tenor" }
"#,
    );
    let raw = "=====raw staff\n\tName,Team,Skill,Track\n\tAna,Mobile,Apps,All\n\
               =====raw work\n\tSummary,Estimate,Triage\n\tLogin,Apps:9000000000,\n\tSearch,Apps:9000000000,1\n=====end\n";
    let out = sb
        .cmd("qcondition")
        .arg("--map")
        .arg(map)
        .write_stdin(raw)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(out.stdout.is_empty());
    for want in [
        "the plan spans 3661 days; at most 3660 are supported",
        "line 3, section 'raw staff', column 4, value \"All\": the track name All is reserved",
        "line 7, section 'raw work', column 2, value \"Apps:9000000000\": the estimates of skill Apps add up to more than",
        "3 problems in stdin: nothing written",
    ] {
        assert!(stderr.contains(want), "{want:?} not in:\n{stderr}");
    }
}

/// Runs the grid fixture with its raw stream changed by `edit`.
fn grid_with(sb: &Sandbox, args: &[&str], edit: impl Fn(String) -> String) -> std::process::Output {
    let raw = fixture_text("qcondition/grid.raw.txt");
    let changed = edit(raw.clone());
    assert_ne!(raw, changed, "the edit changed nothing");
    in_fixtures(sb)
        .args(["--map", "grid.toml"])
        .args(args)
        .write_stdin(changed)
        .output()
        .unwrap()
}

fn refused_with(out: &std::process::Output, message: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "stderr: {stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.lines().any(|l| l == message),
        "no line {message:?} in:\n{stderr}"
    );
}

/// Regression: a vacation row whose name had a typo was dropped without a
/// word, so that person's vacation was lost and supply overstated.
#[test]
fn a_vacation_of_no_one_in_the_staff_is_an_error_naming_its_line() {
    let sb = Sandbox::new();
    let out = grid_with(&sb, &[], |r| {
        r.replace("\tAna Lima,2013-11-25", "\tAna Lmia,2013-11-25")
    });
    refused_with(
        &out,
        "qcondition: line 14, section 'raw vacations', column Name, value \"Ana Lmia\": \
         no one of this name in the staff; their vacation would be lost",
    );
}

/// Regression: names under a grid column whose header cell was blank
/// vanished (no track to put them on).
#[test]
fn names_under_a_blank_grid_header_are_errors() {
    let sb = Sandbox::new();
    let out = grid_with(&sb, &[], |r| {
        r.replace("\tSkill,Soprano,Bass,Alto", "\tSkill,Soprano,,Alto")
    });
    refused_with(
        &out,
        "qcondition: line 3, section 'raw team', column 3, value \"Eli Novak\": \
         a name under a column with no track in the header row",
    );
    refused_with(
        &out,
        "qcondition: line 9, section 'raw team', column 3, value \"Hana Sato\": \
         a name under a column with no track in the header row",
    );
}

/// Regression: an estimate column given by a number past the end of the
/// rows read as empty estimates for every item.
#[test]
fn a_column_number_past_the_end_of_the_rows_is_an_error() {
    let sb = Sandbox::new();
    let map = fixture_text("qcondition/grid.toml").replace("Web = \"Web est\"", "Web = 9");
    let map = sb.write("grid9.toml", map);
    let out = sb
        .cmd("qcondition")
        .arg("--map")
        .arg(&map)
        .arg(fixture("qcondition/grid.raw.txt"))
        .output()
        .unwrap();
    refused_with(
        &out,
        "qcondition: line 18, section 'raw work', column work.estimates.Web: \
         map key work.estimates.Web: column 9 is past the end of the header row (6 columns)",
    );
}

/// Regression: with two `raw work` sections (concatenated streams) the
/// second was ignored.
#[test]
fn a_raw_section_given_twice_is_an_error() {
    let sb = Sandbox::new();
    let out = grid_with(&sb, &[], |r| {
        r.replace(
            "=====qsnap provenance v1",
            "=====raw work\n\tSummary,Team,Apps est,Native est,Web est,Triage\n\tSearch,Bass,1,,,1\n=====qsnap provenance v1",
        )
    });
    refused_with(
        &out,
        "qcondition: line 23, section 'raw work': the section appears again (first on line 17); \
         the map reads one section per source",
    );
}

/// Regression: a work row with fewer cells than the header (a cut line)
/// was read with its missing cells empty.
#[test]
fn a_row_shorter_than_its_header_is_an_error() {
    let sb = Sandbox::new();
    let out = grid_with(&sb, &[], |r| {
        r.replace(
            "\tPush notifications,Alto,M,,,1",
            "\tPush notifications,Alto,M",
        )
    });
    refused_with(
        &out,
        "qcondition: line 21, section 'raw work': the row has 3 cells where the header row (line 18) has 6",
    );
}

#[test]
fn verbose_accounts_for_every_row_of_every_section() {
    let sb = Sandbox::new();
    // A blank row in the team sheet; `Notes` and the row after it are
    // left out by `stop`; HOLE and `(start Q1)` are cells, not rows.
    let out = grid_with(&sb, &["-v"], |r| {
        r.replace("\t,,,Kai Muller\n", "\t,,,Kai Muller\n\t,,,\n")
    });
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "qcondition: section 'raw team' for [staff]: 10 rows read, 7 used, 1 blank, 2 skipped by staff.stop, 0 reported\n\
         qcondition: section 'raw vacations' for [staff.vacations]: 3 rows read, 3 used, 0 reported\n\
         qcondition: section 'raw work' for [work]: 4 rows read, 4 used, 0 reported\n\
         qcondition: warning: section 'map', column holidays.dates, value \"Dec 25, 2013\": the holiday 2013-12-25 is outside the plan (2013-10-07 to 2013-12-20): it changes nothing\n\
         qcondition: warning: line 23, section 'raw work', column Triage, value \"\": no triage: read as 3, the least important level\n"
    );
}

fn json_problems(out: &std::process::Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
        panic!(
            "stderr is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v.as_array().expect("a JSON array").clone()
}

/// Regression: with `--errors json`, an error of the map file, of the
/// stream syntax or of I/O was printed as text, breaking the monitor
/// reading stderr as JSON.
#[test]
fn errors_json_holds_map_stream_and_io_errors_too() {
    let sb = Sandbox::new();
    let out = in_fixtures(&sb)
        .args([
            "--errors",
            "json",
            "--map",
            "broken-map-typo.toml",
            "broken-ids.raw.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let list = json_problems(&out);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["severity"], "error");
    assert_eq!(list[0]["section"], "map broken-map-typo.toml");
    assert!(list[0]["line"].is_u64());
    assert!(
        list[0]["message"].as_str().unwrap().contains("sorce"),
        "{list:?}"
    );

    let out = sb
        .cmd("qcondition")
        .args(["--check", "--errors", "json"])
        .write_stdin("=====qplan params v1\nnot a stream\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let list = json_problems(&out);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["line"], 2);
    assert!(
        list[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("reading stdin: line starts with neither TAB"),
        "{list:?}"
    );

    for args in [
        ["--map", "missing.toml", "grid.raw.txt"],
        ["--map", "grid.toml", "missing.raw.txt"],
    ] {
        let out = in_fixtures(&sb)
            .args(["--errors", "json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(74));
        assert!(out.stdout.is_empty());
        let list = json_problems(&out);
        assert_eq!(list.len(), 1);
        assert!(
            list[0]["message"].as_str().unwrap().contains("missing."),
            "{list:?}"
        );
    }

    // -v with --errors json: the tallies are in the list, as `info`.
    let out = in_fixtures(&sb)
        .args([
            "--errors",
            "json",
            "-v",
            "--map",
            "grid.toml",
            "grid.raw.txt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list = json_problems(&out);
    // Three tallies, then the fixture's two warnings (a holiday after the
    // plan, a blank triage).
    assert_eq!(list.len(), 5);
    assert!(list[..3].iter().all(|p| p["severity"] == "info"));
    assert!(list[3..].iter().all(|p| p["severity"] == "warning"));
}
