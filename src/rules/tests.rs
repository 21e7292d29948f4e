//! The rule book's decisions, one test per disputed case, and the property
//! that pins the agreement: for every stream, qplan's reader accepts it
//! exactly when `qcondition --check` reports no error, and when it refuses
//! it, it names the first problem `--check` lists.

use proptest::prelude::*;

use crate::condition::check;
use crate::condition::gate::Problems;
use crate::error::Error;
use crate::rules::{read_plan as read, Loaded};
use crate::stream::Reader;

/// qplan's verdict: `Ok` or its message.
fn qplan(s: &[u8]) -> Result<(), String> {
    match read(&mut Reader::new(s)) {
        Ok(Loaded::Input(_)) => Ok(()),
        Ok(Loaded::Results(_)) => Err("read as results".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// `--check`'s verdict: the errors, in the order found. A stream error
/// ends the reading; `qcondition --check` prints the problems found before
/// it first, then the stream error, and so does this list.
fn gate(s: &[u8]) -> (Vec<String>, Problems) {
    let mut p = Problems::default();
    let stopped = check::check(s, &mut p).err();
    let mut errors: Vec<String> = p
        .list
        .iter()
        .filter(|p| p.severity == "error")
        .map(|p| p.to_string())
        .collect();
    errors.extend(stopped.map(|e| e.to_string()));
    (errors, p)
}

const HEAD: &str = "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps:Web\n\
                    =====qplan holidays v1\n\t2013-10-14\n";
const STAFF: &str = "=====qplan staff v1\n\tp1\tAna\tMobile\tTenor\tApps\t2013-10-09\n\
                     \tp2\tBo\tMobile\tBass\tWeb\t\n";
const WORK: &str = "=====qplan work v1\n\tW1\t1\tLogin\tApps:1,Web:0.5\t1\tTenor\n\
                    \tW2\t2\tSearch\tWeb:M\t\tBass\n";

fn stream(head: &str, staff: &str, work: &str, end: &str) -> String {
    format!("{head}{staff}{work}{end}")
}

/// Both readers give the same verdict; `want` is `None` for accepted, or
/// a part of the message of the (first) problem.
fn decided(s: &str, want: Option<&str>) {
    let q = qplan(s.as_bytes());
    let (errors, _) = gate(s.as_bytes());
    match want {
        None => {
            assert_eq!(q, Ok(()), "qplan refused {s:?}");
            assert!(errors.is_empty(), "--check refused {s:?}: {errors:?}");
        }
        Some(want) => {
            let msg = q.expect_err(&format!("qplan accepted {s:?}"));
            assert!(msg.contains(want), "{want:?} not in qplan's {msg:?}");
            assert_eq!(errors.first(), Some(&msg), "--check of {s:?}");
        }
    }
}

#[test]
fn the_base_stream_passes_both() {
    decided(&stream(HEAD, STAFF, WORK, "=====end\n"), None);
}

/// Each row of the table "What the gate and qplan accept" in README.md.
#[test]
fn the_disputed_cases_are_decided_once() {
    let ok = |s: String| decided(&s, None);
    let refused = |s: String, why: &str| decided(&s, Some(why));
    let end = "=====end\n";
    // A work line of five columns: the track is empty.
    ok(stream(
        HEAD,
        STAFF,
        &format!("{WORK}\tW3\t3\tDocs\tApps:1\t2\n"),
        end,
    ));
    // Four columns are too few.
    refused(
        stream(HEAD, STAFF, &format!("{WORK}\tW3\t3\tDocs\tApps:1\n"), end),
        "4 columns where 5 are expected",
    );
    // A section given twice.
    refused(
        stream(HEAD, STAFF, &format!("{WORK}{WORK}"), end),
        "line 11, section 'qplan work v1': the section appears twice",
    );
    // A plan of 3,660 days passes, of 3,661 does not.
    let long = |to: &str| HEAD.replace("2013-10-18", to);
    ok(stream(&long("2023-10-14"), STAFF, WORK, end));
    refused(
        stream(&long("2023-10-15"), STAFF, WORK, end),
        "the plan spans 3661 days",
    );
    // A track named All, for a person or for work.
    refused(
        stream(HEAD, &STAFF.replace("Bass", "All"), WORK, end),
        "column 4 (track), value \"All\": the track name All is reserved",
    );
    refused(
        stream(HEAD, STAFF, &WORK.replace("Tenor", " All "), end),
        "the track name All is reserved",
    );
    // A missing holidays section; an empty one is its header alone.
    let no_holidays = "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n";
    refused(
        stream(no_holidays, STAFF, WORK, end),
        "section 'qplan holidays v1': the section is missing",
    );
    ok(stream(
        &format!("{no_holidays}=====qplan holidays v1\n"),
        STAFF,
        WORK,
        end,
    ));
    // An empty staff track or skill.
    ok(stream(
        HEAD,
        &format!("{STAFF}\tp3\tCy\t\t\t\t\n"),
        WORK,
        end,
    ));
    // Blank content lines (a lone TAB, nothing at all, blanks) anywhere.
    ok(stream(
        &HEAD.replace("\t2013-10-14\n", "\t2013-10-14\n\n\t  \n"),
        &format!("{STAFF}\t\n"),
        &format!("{WORK}\t\t\t\n"),
        end,
    ));
    // A params line with no scheduling skills, with or without the column.
    ok(stream(&HEAD.replace("\tApps:Web", "\t"), STAFF, WORK, end));
    ok(stream(&HEAD.replace("\tApps:Web", ""), STAFF, WORK, end));
    ok(stream(
        &HEAD.replace("Apps:Web", "Apps::Web:"),
        STAFF,
        WORK,
        end,
    ));
    // A params line of one column.
    refused(
        stream(
            &HEAD.replace("\t2013-10-18\tApps:Web", ""),
            STAFF,
            WORK,
            end,
        ),
        "1 column where 2 are expected",
    );
    // Two params lines.
    refused(
        stream(
            &HEAD.replace("Apps:Web\n", "Apps:Web\n\t2013-10-07\t2013-10-18\n"),
            STAFF,
            WORK,
            end,
        ),
        "more than one params line",
    );
    // Duplicate or empty staff ids.
    refused(
        stream(HEAD, &STAFF.replace("p2", "p1"), WORK, end),
        "line 7, section 'qplan staff v1', column 1 (id), value \"p1\": person id is not unique (first on line 6)",
    );
    refused(
        stream(HEAD, &STAFF.replace("p2", " "), WORK, end),
        "the id is empty",
    );
    // Duplicate work ids.
    refused(
        stream(HEAD, STAFF, &WORK.replace("W2", "W1"), end),
        "work id is not unique (first on line 9)",
    );
    // A stream cut off without =====end, or with it only in the middle.
    refused(
        stream(HEAD, STAFF, WORK, ""),
        "does not end with '=====end'",
    );
    refused(
        stream(HEAD, STAFF, &format!("{end}{WORK}"), ""),
        "does not end with '=====end'",
    );
    // Concatenated streams: =====end between sections.
    ok(stream(HEAD, &format!("{STAFF}{end}"), WORK, end));
    // A carriage return inside a line; one at the end is a line ending.
    refused(
        stream(HEAD, &STAFF.replace("Ana", "A\rna"), WORK, end),
        "carriage return",
    );
    ok(stream(HEAD, STAFF, WORK, end).replace('\n', "\r\n"));
    // Found by the property below: a carriage return inside a line, then a
    // blank line after the end marker. Both readers name the carriage
    // return first (--check then also names the blank line).
    refused(
        stream(
            HEAD,
            &STAFF.replace("Ana", "A\rna"),
            WORK,
            &format!("{end}\n"),
        ),
        "carriage return",
    );
    // Totals of a skill that cannot be held.
    let big = "\tW3\t3\tBig\tApps:9000000000\t\t\n\tW4\t4\tBigger\tApps:9000000000\t\t\n";
    refused(
        stream(HEAD, STAFF, &format!("{WORK}{big}"), end),
        "line 12, section 'qplan work v1', column 4 (estimate), value \"Apps:9000000000\": the estimates of skill Apps add up to more than",
    );
    // An empty input.
    refused(String::new(), "the input is empty");
    // Sections qplan does not read, and extra columns, are ignored.
    ok(stream(
        &format!("=====qpull sources v1\n\tx\ty\n{HEAD}"),
        &STAFF.replace("2013-10-09\n", "2013-10-09\textra\n"),
        WORK,
        end,
    ));
}

#[test]
fn check_warns_of_what_is_legal_but_suspicious() {
    let s = stream(
        &HEAD.replace("\tApps:Web", "\t"),
        &format!("{STAFF}\tp3\tAna\t\tTenor\t\t\n"),
        WORK,
        "=====end\n",
    );
    let (errors, p) = gate(s.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    let warnings: Vec<String> = p.list.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        warnings,
        [
            // W2's blank triage (issue 20: a blank is said, not silent).
            "line 11, section 'qplan work v1', column 5 (triage), value \"\": no triage: read as 3, the least important level",
            "line 2, section 'qplan params v1': no scheduling skills: every estimated item is dated the start date",
            "line 8, section 'qplan staff v1', column 5 (skill), value \"\": Ana has no skill: counted in the head count, in no skill's manpower",
            "line 8, section 'qplan staff v1', column 2 (name), value \"Ana\": the name appears twice (also line 6)",
        ]
    );
}

/// One change to a valid stream, most of them breaking it.
#[derive(Debug, Clone)]
enum Mutation {
    DropSection(usize),
    DuplicateSection(usize),
    /// Drops the last `n` columns of a line of a section.
    DropColumns(usize, usize, usize),
    ExtraColumn(usize, usize),
    /// Sets a field of a line to a value.
    SetField(usize, usize, usize, &'static str),
    BlankLine(usize, usize, &'static str),
    /// Copies the first field of one line over another of the same section.
    CopyId(usize, usize, usize),
    EndInMiddle(usize),
    DropEnd,
    CrInside(usize, usize),
    CrlfEndings,
    UnknownSection(usize),
}

const VALUES: [&str; 16] = [
    "",
    " ",
    "All",
    "x",
    "2013-02-30",
    "Oct 7, 2013",
    "2023-10-14",
    "2013-10-20..2013-10-10",
    "-3",
    "1.5",
    "Apps:9223372036",
    "Apps:2,Apps:1",
    "Web:3S",
    "NaN",
    "Tenor",
    "2013-10-01:2013-10-08..2013-10-09",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let s = 0usize..6;
    let l = 0usize..8;
    prop_oneof![
        s.clone().prop_map(Mutation::DropSection),
        s.clone().prop_map(Mutation::DuplicateSection),
        (s.clone(), l.clone(), 1usize..6).prop_map(|(a, b, c)| Mutation::DropColumns(a, b, c)),
        (s.clone(), l.clone()).prop_map(|(a, b)| Mutation::ExtraColumn(a, b)),
        (
            s.clone(),
            l.clone(),
            0usize..6,
            prop::sample::select(&VALUES[..])
        )
            .prop_map(|(a, b, c, v)| Mutation::SetField(a, b, c, v)),
        (
            s.clone(),
            l.clone(),
            prop::sample::select(&["", "  ", "\t\t", " \t "][..])
        )
            .prop_map(|(a, b, v)| Mutation::BlankLine(a, b, v)),
        (s.clone(), l.clone(), l.clone()).prop_map(|(a, b, c)| Mutation::CopyId(a, b, c)),
        s.clone().prop_map(Mutation::EndInMiddle),
        Just(Mutation::DropEnd),
        (s.clone(), l.clone()).prop_map(|(a, b)| Mutation::CrInside(a, b)),
        Just(Mutation::CrlfEndings),
        s.prop_map(Mutation::UnknownSection),
    ]
}

/// A valid stream as (header, lines), and whether it ends with `=====end`.
#[derive(Debug, Clone)]
struct Gen {
    sections: Vec<(String, Vec<String>)>,
    end: bool,
    crlf: bool,
}

impl Gen {
    fn apply(&mut self, m: &Mutation) {
        let n = self.sections.len();
        if n == 0 {
            return;
        }
        let lines = |g: &mut Gen, s: usize| -> usize { g.sections[s % n].1.len() };
        match *m {
            Mutation::DropSection(s) => {
                self.sections.remove(s % n);
            }
            Mutation::DuplicateSection(s) => {
                let dup = self.sections[s % n].clone();
                self.sections.push(dup);
            }
            Mutation::DropColumns(s, l, c) => {
                if let Some(line) = self.sections[s % n].1.get_mut(l) {
                    let mut f: Vec<&str> = line.split('\t').collect();
                    f.truncate(f.len().saturating_sub(c));
                    *line = f.join("\t");
                }
            }
            Mutation::ExtraColumn(s, l) => {
                if let Some(line) = self.sections[s % n].1.get_mut(l) {
                    line.push_str("\textra");
                }
            }
            Mutation::SetField(s, l, c, v) => {
                if let Some(line) = self.sections[s % n].1.get_mut(l) {
                    let mut f: Vec<String> = line.split('\t').map(str::to_owned).collect();
                    if let Some(x) = f.get_mut(c) {
                        *x = v.to_owned();
                    }
                    *line = f.join("\t");
                }
            }
            Mutation::BlankLine(s, l, v) => {
                let at = l.min(lines(self, s));
                self.sections[s % n].1.insert(at, v.to_owned());
            }
            Mutation::CopyId(s, a, b) => {
                let ls = &mut self.sections[s % n].1;
                if a < ls.len() && b < ls.len() {
                    let id = ls[a].split('\t').next().unwrap_or("").to_owned();
                    let rest: Vec<&str> = ls[b].split('\t').skip(1).collect();
                    ls[b] = std::iter::once(id.as_str())
                        .chain(rest)
                        .collect::<Vec<_>>()
                        .join("\t");
                }
            }
            Mutation::EndInMiddle(s) => {
                let at = s % n;
                self.sections.insert(at, ("end".into(), Vec::new()));
            }
            Mutation::DropEnd => self.end = false,
            Mutation::CrInside(s, l) => {
                if let Some(line) = self.sections[s % n].1.get_mut(l) {
                    let mid = line.len() / 2;
                    if line.is_char_boundary(mid) {
                        line.insert(mid, '\r');
                    }
                }
            }
            Mutation::CrlfEndings => self.crlf = true,
            Mutation::UnknownSection(s) => {
                let at = s % n;
                self.sections
                    .insert(at, ("qpull sources v1".into(), vec!["a\tb".into()]));
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let mut s = String::new();
        for (h, lines) in &self.sections {
            s += &format!("====={h}{nl}");
            for l in lines {
                s += &format!("\t{l}{nl}");
            }
        }
        if self.end {
            s += &format!("=====end{nl}");
        }
        s.into_bytes()
    }
}

fn date(day: u32) -> String {
    (chrono::NaiveDate::from_ymd_opt(2013, 10, 1).unwrap() + chrono::Days::new(u64::from(day)))
        .to_string()
}

prop_compose! {
    fn valid()(
        start in 0u32..20,
        days in 1u32..200,
        sched in prop::sample::select(&["Apps:Web", "Apps", "Native:Apps:Web", "Web"][..]),
        holidays in prop::collection::vec(0u32..200, 0..3),
        staff in prop::collection::vec((
            prop::sample::select(&["Ana", "Bo", "Cy", "Di"][..]),
            prop::sample::select(&["Tenor", "Bass", ""][..]),
            prop::sample::select(&["Apps", "Web", "Native", ""][..]),
            prop::sample::select(&["", "2013-10-09", "Oct 10, 2013", "2013-10-08..2013-10-11:2013-10-20"][..]),
        ), 0..5),
        work in prop::collection::vec((
            -5i32..20,
            prop::sample::select(&["", "Apps:2", "Web:0.5,Apps:S", "Native:3M", "Apps:0.2"][..]),
            prop::sample::select(&["", "1", "2.5", "7"][..]),
            prop::sample::select(&["Tenor", "Bass", ""][..]),
        ), 0..6),
    ) -> Gen {
        let mut sections = vec![
            ("qplan params v1".to_owned(), vec![format!("{}\t{}\t{sched}", date(start), date(start + days - 1))]),
            ("qplan holidays v1".to_owned(), holidays.iter().map(|&d| date(d)).collect()),
        ];
        sections.push(("qplan staff v1".to_owned(), staff.iter().enumerate().map(|(i, (name, track, skill, vac))| format!("p{i}\t{name}\tTeam\t{track}\t{skill}\t{vac}")).collect()));
        sections.push(("qplan work v1".to_owned(), work.iter().enumerate().map(|(i, (rank, est, triage, track))| format!("W{i}\t{rank}\tItem {i}\t{est}\t{triage}\t{track}")).collect()));
        Gen { sections, end: true, crlf: false }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Valid streams pass both readers.
    #[test]
    fn valid_streams_pass_qplan_and_check(g in valid()) {
        let s = g.bytes();
        prop_assert_eq!(qplan(&s), Ok(()));
        let (errors, _) = gate(&s);
        prop_assert!(errors.is_empty(), "{:?}", errors);
    }

    /// The agreement: qplan accepts exactly what --check passes, and when
    /// it refuses, it says what --check says first.
    #[test]
    fn qplan_accepts_exactly_what_check_passes(
        mut g in valid(),
        mutations in prop::collection::vec(mutation(), 0..4),
    ) {
        for m in &mutations {
            g.apply(m);
        }
        let s = g.bytes();
        let q = qplan(&s);
        let (errors, _) = gate(&s);
        match q {
            Ok(()) => prop_assert!(errors.is_empty(), "qplan accepts, --check says {:?}", errors),
            Err(msg) => prop_assert_eq!(errors.first(), Some(&msg)),
        }
    }
}

/// The stream format's own errors stop both readers alike.
#[test]
fn a_line_outside_the_format_stops_both() {
    let s = stream(HEAD, "not a line\n", WORK, "=====end\n");
    let q = qplan(s.as_bytes()).unwrap_err();
    assert!(q.contains("line 5: line starts with neither TAB"), "{q}");
    let mut p = Problems::default();
    let e = check::check(s.as_bytes(), &mut p).unwrap_err();
    assert!(matches!(e, Error::Stream { line: 5, .. }), "{e}");
}

/// A name as JIRA or a sheet may hold it: control characters, bidi
/// overrides, quotes, backslashes, formula starts, separators of the
/// estimate syntax, other scripts; never TAB, a line break or CR (the
/// stream's separators), nor blanks around it (trimmed, as every field).
fn hostile_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 =+@\\-'\"\\\\:,;.\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{7f}-\u{9f}\u{202a}-\u{202e}\u{2066}-\u{2069}é東☕]{1,12}"
        .prop_filter("no blanks around, not blank", |s| {
            !s.is_empty() && s.trim() == s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Issue 20: names round-trip, never changed. A plan whose items and
    /// people have hostile names computes; its results stream reads back
    /// with every name exactly; the JSON holds them exactly; raw CSV holds
    /// them exactly and the default CSV only adds a `'` before a formula.
    #[test]
    fn hostile_names_round_trip_through_results_json_and_csv(
        items in proptest::collection::vec(hostile_name(), 1..5),
        people in proptest::collection::vec(hostile_name(), 1..3),
    ) {
        use crate::cli::visible::{csv_cell, is_formula, visible};
        use crate::report::render::{self, View};
        let mut s = String::from("=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n=====qplan staff v1\n");
        for (i, p) in people.iter().enumerate() {
            s.push_str(&format!("\tp{i}\t{p}\tM\tT\tApps\t\n"));
        }
        s.push_str("=====qplan work v1\n");
        for (i, w) in items.iter().enumerate() {
            s.push_str(&format!("\tw{i}\t{i}\t{w}\tApps:1\t1\tT\n"));
        }
        s.push_str("=====end\n");
        let Ok(Loaded::Input(input)) = read(&mut Reader::new(s.as_bytes())) else {
            return Err(TestCaseError::fail(format!("refused: {s:?}")));
        };
        let got: Vec<&str> = input.work.iter().map(|w| input.arena.str(w.name)).collect();
        prop_assert_eq!(&got, &items);
        let results = crate::plan::compute(*input).unwrap();

        let mut stream = Vec::new();
        results.write_stream(&mut stream).unwrap();
        let Ok(Loaded::Results(sections)) = read(&mut Reader::new(stream.as_slice())) else {
            return Err(TestCaseError::fail("results do not read back"));
        };
        let back = crate::report::stored::read(sections).unwrap();
        for list in &back.work {
            let names: Vec<&str> = list.iter().map(|r| back.name(back.item(r))).collect();
            prop_assert_eq!(&names, &items);
        }
        let mut staff: Vec<&str> = back.staff[0].iter().flatten().map(String::as_str).collect();
        let mut want: Vec<&str> = people.iter().map(String::as_str).collect();
        staff.sort_unstable();
        want.sort_unstable();
        prop_assert_eq!(staff, want);

        let mut json = Vec::new();
        render::json(&results, View::default(), &mut json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let names: Vec<&str> = v["tracks"][0]["work"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
        prop_assert_eq!(&names, &items);

        for raw in [true, false] {
            let mut csv = Vec::new();
            render::csv_as(&results, View::default(), raw, &mut csv).unwrap();
            let mut r = csv::Reader::from_reader(csv.as_slice());
            let names: Vec<String> = r.records().take(items.len()).map(|rec| rec.unwrap()[5].to_owned()).collect();
            let want: Vec<String> = items.iter().map(|n| csv_cell(n, raw).into_owned()).collect();
            prop_assert_eq!(&names, &want);
            for (n, w) in names.iter().zip(&items) {
                prop_assert!(raw || !is_formula(n), "{:?}", n);
                prop_assert_eq!(n.strip_prefix('\'').filter(|_| !raw && is_formula(w)).unwrap_or(n), w.as_str());
            }
        }

        let mut text = Vec::new();
        render::text(&results, View::default(), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        prop_assert!(!text.chars().any(crate::cli::visible::is_hidden), "{:?}", text);
        for w in &items {
            let shown = visible(w);
            // Names of up to 12 characters are not clipped unless their
            // escapes make them wider than the column.
            if shown.chars().count() <= 40 {
                prop_assert!(text.contains(shown.as_ref()), "{:?} not in {:?}", shown, text);
            }
        }
    }
}
