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
