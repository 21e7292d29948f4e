//! qplan end to end: every format, rendering stored results, and every
//! error path (exit code, message, nothing on stdout).

use predicates::prelude::*;

use crate::util::{fixture, fixture_text, run_fixture_cases, Sandbox};

#[test]
fn fixture_cases_give_the_expected_outputs() {
    // small.* were checked by hand against SPEC section 4 (see small.in).
    assert!(run_fixture_cases("qplan") >= 7);
}

#[test]
fn quarter_in_every_format() {
    let sb = Sandbox::new();
    let quarter = fixture("quarter/conditioned.txt");
    let stream = sb
        .cmd("qplan")
        .arg(&quarter)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stream = String::from_utf8(stream).unwrap();
    assert!(stream.starts_with("=====qplan params v1\n"));
    assert!(stream.ends_with("=====end\n"));
    // 45 items listed in All and once more in their own track.
    assert_eq!(
        stream
            .lines()
            .filter(|l| l.starts_with("\t\t") && l.contains("\tMOB-"))
            .count(),
        90
    );

    let json = sb
        .cmd("qplan")
        .args(["-f", "json"])
        .arg(&quarter)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
    assert_eq!(doc["tracks"][0]["name"], "All");
    assert_eq!(doc["tracks"].as_array().unwrap().len(), 4);
    assert_eq!(doc["tracks"][0]["work"].as_array().unwrap().len(), 45);

    let csv = sb
        .cmd("qplan")
        .args(["-f", "csv"])
        .arg(&quarter)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let mut reader = csv::Reader::from_reader(&csv[..]);
    assert_eq!(
        reader.headers().unwrap(),
        vec!["list", "track", "rank", "triage", "id", "name", "estimate", "shortage", "done"]
    );
    assert_eq!(reader.records().count(), 90);

    sb.cmd("qplan")
        .args(["-f", "text"])
        .arg(&quarter)
        .assert()
        .success()
        .stdout(predicate::str::contains("== All == 14 people, 45 items"))
        .stdout(predicate::str::contains("MOB-101"));
}

#[test]
fn stored_results_render_like_fresh_ones() {
    let sb = Sandbox::new();
    let quarter = fixture("quarter/conditioned.txt");
    let results = sb.cmd("qplan").arg(&quarter).output().unwrap().stdout;
    for format in ["text", "json", "csv"] {
        let fresh = sb
            .cmd("qplan")
            .args(["-f", format])
            .arg(&quarter)
            .output()
            .unwrap();
        let rendered = sb
            .cmd("qplan")
            .args(["-f", format])
            .write_stdin(results.clone())
            .output()
            .unwrap();
        assert!(
            rendered.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        assert_eq!(fresh.stdout, rendered.stdout, "{format}");
    }
}

#[test]
fn provenance_is_passed_through() {
    let input = fixture_text("qplan/small.in").replace(
        "=====end\n",
        "=====qsnap provenance v1\n\tqplan conditioned\tabc123\n\tqplan raw\tdef456\n=====end\n",
    );
    let out = Sandbox::new()
        .cmd("qplan")
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.ends_with("=====qsnap provenance v1\n\tqplan conditioned\tabc123\n\tqplan raw\tdef456\n=====end\n"),
        "{out}"
    );
    // ... and survives a second pass over the results.
    let again = Sandbox::new()
        .cmd("qplan")
        .write_stdin(out.clone())
        .output()
        .unwrap()
        .stdout;
    assert_eq!(String::from_utf8(again).unwrap(), out);
}

#[test]
fn unknown_sections_are_ignored() {
    let input = format!(
        "=====qpull sources v1\n\twhatever\n{}",
        fixture_text("qplan/small.in")
    );
    Sandbox::new()
        .cmd("qplan")
        .write_stdin(input)
        .assert()
        .success()
        .stdout(fixture_text("qplan/small.expected"));
}

/// Runs qplan on `input` and checks it fails with `code`, a message that
/// contains each of `needles`, and nothing on stdout.
fn fails(input: &str, args: &[&str], code: i32, needles: &[&str]) {
    let assert = Sandbox::new()
        .cmd("qplan")
        .args(args)
        .write_stdin(input.to_owned())
        .assert()
        .code(code)
        .stdout("");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    // The input's warnings (a blank triage…) may come first; one error.
    let stderr: String = stderr
        .lines()
        .filter(|l| !l.starts_with("qplan: warning: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(stderr.starts_with("qplan: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr:?}");
    }
}

#[test]
fn bad_data_is_exit_65_with_where_and_what() {
    let small = fixture_text("qplan/small.in");
    let bad_estimate = small.replace("Apps:1,Web:0.5", "Apps:1,Web:lots");
    fails(
        &bad_estimate,
        &[],
        65,
        &[
            "reading stdin",
            "line 10",
            "qplan work v1",
            "column 4 (estimate)",
            "\"Apps:1,Web:lots\"",
        ],
    );
    let bad_date = small.replace("\t2013-10-14\n", "\t2013-10-32\n");
    fails(
        &bad_date,
        &[],
        65,
        &[
            "line 4",
            "qplan holidays v1",
            "\"2013-10-32\"",
            "not a date",
        ],
    );
    let bad_rank = small.replace("W2\t2\t", "W2\ttwo\t");
    fails(
        &bad_rank,
        &[],
        65,
        &["line 11", "column 2 (rank)", "\"two\"", "not an integer"],
    );
    let bad_triage = small.replace("\t1\tTenor", "\turgent\tTenor");
    fails(
        &bad_triage,
        &[],
        65,
        &["line 10", "column 5 (triage)", "\"urgent\""],
    );
    let bad_vacation = small.replace("\t2013-10-09\n", "\t2013-10-09..2013-10-01\n");
    fails(
        &bad_vacation,
        &[],
        65,
        &["line 6", "column 6 (vacation)", "before it starts"],
    );
}

#[test]
fn missing_streams_are_exit_65() {
    let small = fixture_text("qplan/small.in");
    let no_staff = small.replace("=====qplan staff v1", "=====qplan someone else v1");
    fails(
        &no_staff,
        &[],
        65,
        &["section 'qplan staff v1': the section is missing"],
    );
    fails("", &[], 65, &["the input is empty"]);
}

#[test]
fn malformed_stream_is_exit_65_with_the_line() {
    let small = fixture_text("qplan/small.in").replace("\tp2\t", "p2\t");
    fails(&small, &[], 65, &["line 7", "neither TAB nor '====='"]);
}

#[test]
fn non_utf8_data_names_the_line() {
    let mut input = fixture_text("qplan/small.in").into_bytes();
    let at = input.windows(5).position(|w| w == b"Login").unwrap();
    input[at] = 0xff;
    let assert = Sandbox::new()
        .cmd("qplan")
        .write_stdin(input)
        .assert()
        .code(65)
        .stdout("");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("line 10, section 'qplan work v1'") && stderr.contains("UTF-8"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_are_exit_2() {
    let small = fixture_text("qplan/small.in");
    fails(&small, &["--track", "Tenor"], 2, &["--track and --triage"]);
    fails(
        &small,
        &["-f", "text", "--track", "Soprano"],
        2,
        &["no track named \"Soprano\"", "All, Bass, Tenor"],
    );
    Sandbox::new()
        .cmd("qplan")
        .args(["-f", "text", "--triage", "soon"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("triage"));
    Sandbox::new()
        .cmd("qplan")
        .arg("--bogus")
        .assert()
        .code(2)
        .stdout("");
}

#[test]
fn missing_input_file_is_an_io_error() {
    Sandbox::new()
        .cmd("qplan")
        .arg("no-such-file.txt")
        .assert()
        .code(74)
        .stdout("")
        .stderr(predicate::str::contains("cannot open no-such-file.txt"));
}

#[test]
fn output_file_is_written_whole_or_not_at_all() {
    let sb = Sandbox::new();
    let out = sb.path().join("plan.txt");
    sb.cmd("qplan")
        .arg("-o")
        .arg(&out)
        .arg(fixture("qplan/small.in"))
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        fixture_text("qplan/small.expected")
    );

    // A failing run leaves the previous file as it was, and no temp files.
    let bad = sb.write("bad.txt", "=====qplan params v1\n\tnope\n");
    sb.cmd("qplan")
        .arg("-o")
        .arg(&out)
        .arg(&bad)
        .assert()
        .code(65);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        fixture_text("qplan/small.expected")
    );
    let names: Vec<_> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn broken_pipe_ends_quietly_with_success() {
    // A reader that closes its end at once: qplan must exit 0 and say nothing.
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("qplan");
    let mut child = Command::new(bin)
        // -q: the fixture's warnings (blank triages) are not the point.
        .args(["-q", "-f", "csv"])
        .arg(fixture("quarter/conditioned.txt"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let _ = std::io::stdout().flush();
}

#[test]
fn help_and_version_exit_0() {
    Sandbox::new()
        .cmd("qplan")
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status:"))
        .stdout(predicate::str::contains("--format"));
    Sandbox::new()
        .cmd("qplan")
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("qplan "));
}

#[test]
fn provenance_of_concatenated_streams_is_gathered_once() {
    // `qsnap get` of two resources concatenated: each brings provenance.
    let small = fixture_text("qplan/small.in");
    let (head, tail) = small.split_at(small.find("=====qplan staff v1").unwrap());
    let input = format!(
        "=====qsnap provenance v1\n\tqplan a\t111\n\tqplan raw\t999\n{head}=====end\n=====qsnap provenance v1\n\tqplan b\t222\n\tqplan raw\t999\n{tail}"
    );
    let out = Sandbox::new()
        .cmd("qplan")
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.ends_with("=====qsnap provenance v1\n\tqplan a\t111\n\tqplan raw\t999\n\tqplan b\t222\n=====end\n"),
        "{out}"
    );
}

/// Regression: amounts were binary floating point, and 50,000 items of 0.2
/// added up to a hair under 10,000, so the last item was "short" by
/// 0.000000001. Worked by hand: 2013-10-07 (a Monday) to 2014-09-21 (a
/// Sunday) is 350 days, 50 whole weeks, 250 workdays; 200 people give
/// 200 × 250 / 5 = 10,000 person-weeks; 50,000 × 0.2 = 10,000 demanded, so
/// nothing is short. Scheduled, each item is one person-day and 200 are
/// done each workday: item k (from 0) finishes on workday ⌊k / 200⌋, the
/// last (k = 49,999) on workday 249, Friday 2014-09-19, and none is DNF.
#[test]
fn fifty_thousand_fifths_add_up_to_exactly_ten_thousand() {
    let mut input = String::from(
        "=====qplan params v1\n\t2013-10-07\t2014-09-21\tApps\n=====qplan holidays v1\n=====qplan staff v1\n",
    );
    for p in 0..200 {
        input += &format!("\tp{p}\tPerson {p}\tM\tT\tApps\t\n");
    }
    input += "=====qplan work v1\n";
    for i in 0..50_000 {
        input += &format!("\tW{i}\t{i}\tItem {i}\tApps:0.2\t1\tT\n");
    }
    input += "=====end\n";
    let out = Sandbox::new()
        .cmd("qplan")
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let after = |header: &str| lines.iter().position(|l| *l == header).unwrap() + 1;
    // Manpower of All and T.
    let m = after("=====qplan track manpower v1");
    assert_eq!(lines[m..m + 2], ["\t10000", "\t10000"]);
    // Demand of All: everything is triage 1, so every cumulative row is
    // the whole 10,000.
    let d = after("=====qplan track-triage demand v1");
    assert_eq!(lines[d], "\t=====qplan triage item");
    assert_eq!(lines[d + 1..d + 6], ["\t\t10000"; 5]);
    let work: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| l.starts_with("\t\tT\t"))
        .map(|l| l.trim_start_matches('\t').split('\t').collect())
        .collect();
    assert_eq!(work.len(), 100_000);
    assert!(work.iter().all(|f| f[5].is_empty()), "no shortage");
    assert!(work.iter().all(|f| f[6] != "DNF"), "none DNF");
    assert_eq!(work[199][6], "2013-10-07");
    assert_eq!(work[200][6], "2013-10-08");
    assert_eq!(work[49_999][6], "2014-09-19");
    assert_eq!(work[99_999][6], "2014-09-19");
}

#[test]
fn totals_too_large_to_hold_are_refused() {
    let small = fixture_text("qplan/small.in");
    // One amount beyond the largest total.
    let huge = small.replace("Apps:1,Web:0.5", "Apps:9223372037,Web:0.5");
    fails(
        &huge,
        &[],
        65,
        &[
            "line 10",
            "column 4 (estimate)",
            "\"9223372037\" is larger than",
        ],
    );
    // Two amounts that fit, whose sum does not.
    let two = small
        .replace("Apps:1,Web:0.5", "Apps:9000000000,Web:0.5")
        .replace("\tApps:L\t", "\tApps:300000000S\t");
    fails(
        &two,
        &[],
        65,
        &[
            "line 11",
            "column 4 (estimate)",
            "estimates of skill Apps add up to more than 9223372036.854775807 person-weeks",
        ],
    );
    // More decimals than an amount holds.
    let fine = small.replace("Apps:1,Web:0.5", "Apps:1,Web:0.0000000001");
    fails(
        &fine,
        &[],
        65,
        &["line 10", "\"0.0000000001\" has more than 9 decimals"],
    );
}

/// A stored results stream holds only what qplan could have written;
/// anything else is bad data (65) naming where, not a report of nonsense.
#[test]
fn stored_results_qplan_could_not_have_written_are_refused() {
    let stored = fixture_text("qplan/results-stream.in");
    let cases: [(&str, &str, &[&str]); 9] = [
        (
            "\t3.4\t1.8\n",
            "\tNaN\t1.8\n",
            &[
                "line 17",
                "qplan track manpower v1",
                "\"NaN\" is not a number",
            ],
        ),
        (
            "\t0\t1.8\n",
            "\t0\tinf\n",
            &["line 18", "column 2", "\"inf\" is not a number"],
        ),
        (
            "\t0\t1.8\n",
            "\t0\t-1.8\n",
            &["line 18", "\"-1.8\"", "never negative"],
        ),
        (
            "\t\t4\t2.5\n",
            "",
            &[
                "qplan track-triage demand v1",
                "4 triage rows where there are 5",
            ],
        ),
        (
            "\t\t0\t2\n",
            "\t\t0\t2\n\t\t0\t2\n",
            &[
                "qplan track-triage demand v1",
                "6 triage rows where there are 5",
            ],
        ),
        (
            "\tApps:-0.6\tDNF\tW2\n\t\tBass\t2\t3",
            "\tApps:0.6\tDNF\tW2\n\t\tBass\t2\t3",
            &[
                "line 58",
                "column 6 (shortage)",
                "\"Apps:0.6\"",
                "below zero",
            ],
        ),
        (
            "\t\tBass\t3\t3\tDocs\t\t\tDNF\tW4\n\t=====",
            "\t\tAlto\t3\t3\tDocs\t\t\tDNF\tW4\n\t=====",
            &[
                "line 60",
                "column 1 (track)",
                "\"Alto\"",
                "not in the tracks section",
            ],
        ),
        (
            "\t\tBass\t3\t3\tDocs\t\t\tDNF\tW4\n\t=====",
            "\t\tAll\t3\t3\tDocs\t\t\tDNF\tW4\n\t=====",
            &["line 60", "never All"],
        ),
        (
            "\t\tBass\t3\t3\tDocs\t\t\tDNF\tW4\n\t=====qplan track item\n\t\tTenor",
            "\t\tTenor\t3\t3\tDocs\t\t\tDNF\tW4\n\t=====qplan track item\n\t\tTenor",
            &[
                "line 63",
                "\"Tenor\"",
                "another track in the list of track Bass",
            ],
        ),
    ];
    for (from, to, needles) in cases {
        assert!(stored.contains(from), "{from:?}");
        let bad = stored.replacen(from, to, 1);
        for format in ["text", "json", "csv", "stream"] {
            fails(&bad, &["--format", format], 65, needles);
        }
    }
}
