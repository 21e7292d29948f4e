//! `qsnap replay` end to end: a store built through the real pipeline, a
//! replay of its raw history with a changed map drawn beside main's trend
//! (main untouched), resuming after a kill -9, --force, failures with and
//! without --keep-going, and `log`, `get`, `diff --replay`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

use crate::util::{fixture, fixture_text, Sandbox};

fn qsnap(sb: &Sandbox) -> Command {
    let mut c = sb.cmd("qsnap");
    c.arg("--store").arg(sb.path().join("store"));
    c.env("QSNAP_FSYNC", "0");
    c
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn run(c: &mut Command) -> String {
    ok(c.output().expect("run"))
}

/// The fixture quarter's raw data with MOB-101's Apps estimate set to
/// `apps` person-weeks (1.5 in the fixture).
fn raw_version(apps: u32) -> String {
    let raw = fixture_text("quarter/raw.txt");
    let from = "MOB-101,1,Login rewrite,\"Apps:1.5,";
    assert!(raw.contains(from));
    raw.replace(from, &format!("MOB-101,1,Login rewrite,\"Apps:{apps},"))
}

/// Puts raw version `i` (MOB-101 at `i` weeks of Apps) and, with
/// `pipeline`, runs it through qcondition and qplan into the conditioned
/// and results stages; returns the raw commit.
fn put_version(sb: &Sandbox, i: u32, pipeline: bool) -> String {
    let raw = run(qsnap(sb)
        .args(["put", "qplan", "raw", "-m"])
        .arg(format!("raw {i}"))
        .write_stdin(raw_version(i)))
    .trim()
    .to_owned();
    if pipeline {
        let got = run(qsnap(sb).args(["get", "qplan", "raw"]));
        let map = fixture("quarter/map.toml");
        let cond = run(sb
            .cmd("qcondition")
            .arg("-q")
            .arg("-m")
            .arg(&map)
            .write_stdin(got));
        run(qsnap(sb)
            .args(["put", "qplan", "conditioned"])
            .write_stdin(cond));
        let got = run(qsnap(sb).args(["get", "qplan", "conditioned"]));
        let results = run(sb.cmd("qplan").arg("-q").write_stdin(got));
        run(qsnap(sb)
            .args(["put", "qplan", "results"])
            .write_stdin(results));
    }
    raw
}

/// Every ref of the store and what it points at (`git for-each-ref`).
fn refs(store: &Path) -> Vec<String> {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(store)
        .args(["for-each-ref", "--format=%(refname) %(objectname)"])
        .output()
        .expect("git");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The elements `<tag …>` whose class starts with `class`, as attributes.
fn elements(page: &str, tag: &str, class: &str) -> Vec<HashMap<String, String>> {
    let open = regex::Regex::new(&format!(r#"<{tag}((?:\s+[\w:-]+="[^"]*")*)\s*/?>"#)).unwrap();
    let attr = regex::Regex::new(r#"([\w:-]+)="([^"]*)""#).unwrap();
    open.captures_iter(page)
        .map(|c| {
            attr.captures_iter(&c[1])
                .map(|a| (a[1].to_owned(), a[2].to_owned()))
                .collect::<HashMap<_, _>>()
        })
        .filter(|a| a.get("class").is_some_and(|c| c == class))
        .collect()
}

/// The trend chart of `track` whose class is `class` in a page, as the
/// text from its `<svg` to its `</svg>`.
fn chart<'p>(page: &'p str, class: &str, track: &str) -> &'p str {
    let open = format!("<svg class=\"{class}\"");
    let mut at = 0;
    while let Some(i) = page[at..].find(&open) {
        let start = at + i;
        let end = start + page[start..].find("</svg>").expect("svg end");
        let svg = &page[start..end];
        if svg[..svg.find('>').unwrap()].contains(&format!("data-track=\"{track}\"")) {
            return svg;
        }
        at = end;
    }
    panic!("no {class} chart of {track}")
}

/// The supply line of `skill` in a chart: its values.
fn supply(svg: &str, skill: &str) -> String {
    elements(svg, "polyline", "supply s0")
        .into_iter()
        .chain(elements(svg, "polyline", "supply s1"))
        .chain(elements(svg, "polyline", "supply s2"))
        .chain(elements(svg, "polyline", "supply s3"))
        .find(|e| e.get("data-skill").map(String::as_str) == Some(skill))
        .and_then(|e| e.get("data-values").cloned())
        .unwrap_or_else(|| panic!("no supply line of {skill}"))
}

/// The log of a replay as JSON: (resource, message, first provenance
/// commit) per entry, newest first.
fn replay_log(sb: &Sandbox, name: &str, res: Option<&str>) -> Vec<(String, String, String)> {
    let mut c = qsnap(sb);
    c.arg("log");
    if let Some(r) = res {
        c.args(r.split(' '));
    }
    let json = run(c.args(["--replay", name, "-f", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["resource"].as_str().unwrap_or("-").to_owned(),
                e["message"].as_str().unwrap().to_owned(),
                e["provenance"][0]["commit"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_replay_with_a_changed_map_is_drawn_beside_main_and_main_is_untouched() {
    let sb = Sandbox::new();
    let raws: Vec<String> = (1..=5).map(|i| put_version(&sb, i, true)).collect();
    let store = sb.path().join("store");
    let before = refs(&store);
    let log_before = run(qsnap(&sb).args(["log"]));
    // The new map skips Ana Lima (one rule changed: the skip of names).
    let map = fixture_text("quarter/map.toml");
    let old_rule = r#"skip = ["^\\(start", "^HOLE$"]"#;
    assert!(map.contains(old_rule));
    let new_map = map.replace(old_rule, r#"skip = ["^\\(start", "^HOLE$", "^Ana Lima$"]"#);
    let new_map = sb.write("new-map.toml", new_map);
    let script = format!(
        "{} -q --map {} | {} -q",
        env!("CARGO_BIN_EXE_qcondition"),
        new_map.display(),
        env!("CARGO_BIN_EXE_qplan")
    );
    let head = run(qsnap(&sb)
        .args(["replay", "qplan", "raw", "results", "--name", "new-map"])
        .args(["--", "sh", "-c", &script]));
    let head = head.trim();

    // Main and every other ref as they were; one new ref, the replay's.
    let mut after = refs(&store);
    let replay_ref = format!("refs/qsnap/replay/new-map {head}");
    assert!(after.contains(&replay_ref), "{after:?}");
    after.retain(|r| r != &replay_ref);
    assert_eq!(after, before);
    assert_eq!(run(qsnap(&sb).args(["log"])), log_before);

    // One version per raw version, newest first, each from its raw.
    let log = replay_log(&sb, "new-map", Some("qplan results"));
    let want: Vec<(String, String, String)> = (1..=5)
        .rev()
        .map(|i| {
            (
                "qplan results".to_owned(),
                format!("replay new-map: raw {i}"),
                raws[i - 1].clone(),
            )
        })
        .collect();
    assert_eq!(log, want);

    // Each stored output is what the new map and qplan make of that raw
    // version run by hand (a second way to the same bytes).
    for (i, raw) in raws.iter().enumerate() {
        let raw_file = sb.write("raw.txt", raw_version(i as u32 + 1));
        let by_hand = run(Command::new("sh").arg("-c").arg(format!(
            "{} -q --map {} {} | {} -q",
            env!("CARGO_BIN_EXE_qcondition"),
            new_map.display(),
            raw_file.display(),
            env!("CARGO_BIN_EXE_qplan")
        )));
        let stored = run(qsnap(&sb).args([
            "get", "qplan", "results", "--replay", "new-map", "--raw", "--at", raw,
        ]));
        assert_eq!(stored, by_hand, "version {}", i + 1);
        // With its provenance: the replay commit, then the raw version.
        let got = run(qsnap(&sb).args([
            "get", "qplan", "results", "--replay", "new-map", "--at", raw,
        ]));
        let lines: Vec<&str> = got.lines().take(3).collect();
        assert_eq!(lines[0], "=====qsnap provenance v1");
        assert!(lines[1].starts_with("\tqplan results\t"), "{lines:?}");
        assert_eq!(lines[2], format!("\tqplan raw\t{raw}"));
    }

    // The report draws the replay beside main. Tenor's Apps people are
    // Ana Lima and Ben Ortiz (Server, renamed Apps). The plan runs
    // 2013-10-07 to 2013-12-20: 55 weekdays less the holidays of Nov 28
    // and 29, 53 workdays. Ben is there every day: 10.6 person-weeks; Ana
    // is away Nov 25-27 (3 workdays): 50 days, 10. Main: 20.6 in each of
    // the 5 versions; the replay, without Ana: 10.6.
    let page = run(sb
        .cmd("qplan")
        .args(["-f", "html", "--replay", "new-map", "--store"])
        .arg(&store));
    let main_chart = chart(&page, "chart trend", "Tenor");
    let replay_chart = chart(&page, "chart trend replay", "Tenor");
    assert!(main_chart.contains("data-versions=\"5\""));
    assert!(replay_chart.contains("data-versions=\"5\""));
    assert!(replay_chart.contains("data-replay=\"new-map\""));
    assert_eq!(supply(main_chart, "Apps"), "20.6 20.6 20.6 20.6 20.6");
    assert_eq!(supply(replay_chart, "Apps"), "10.6 10.6 10.6 10.6 10.6");
    // On main's scale: the most person-weeks of both charts.
    let max = |svg: &str| {
        elements(svg, "svg", "chart trend")
            .into_iter()
            .chain(elements(svg, "svg", "chart trend replay"))
            .next()
            .map(|e| e["data-max"].clone())
    };
    assert_eq!(max(main_chart), max(replay_chart));
    // Without --replay, no replay chart.
    let plain = run(sb.cmd("qplan").args(["-f", "html", "--store"]).arg(&store));
    assert!(!plain.contains("chart trend replay"));
}

/// A command that copies its input (a valid stream: the provenance
/// section, then the raw data) and counts its runs in `count`; when the
/// file `kill-at` names the run, it kills the replay (its parent) with
/// SIGKILL first.
const COUNTING: &str = r#"n=$(($(cat count 2>/dev/null || echo 0) + 1)); echo $n > count
if [ -e kill-at ] && [ "$(cat kill-at)" = "$n" ]; then rm kill-at; kill -9 $PPID; fi
cat"#;

fn runs(sb: &Sandbox) -> u32 {
    std::fs::read_to_string(sb.path().join("count"))
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(0)
}

fn replay_copy(sb: &Sandbox, extra: &[&str]) -> Output {
    qsnap(sb)
        .args(["replay", "qplan", "raw", "copy", "--name", "copy"])
        .args(extra)
        .args(["--", "sh", "-c", COUNTING])
        .output()
        .expect("run")
}

#[test]
fn a_replay_killed_mid_way_resumes_where_it_stopped_and_force_redoes_all() {
    let sb = Sandbox::new();
    let raws: Vec<String> = (1..=5).map(|i| put_version(&sb, i, false)).collect();
    sb.write("kill-at", "3\n");
    let out = replay_copy(&sb, &[]);
    // Killed (no exit code) during its third run: two versions done.
    assert_eq!(out.status.code(), None, "{out:?}");
    assert_eq!(runs(&sb), 3);
    let log = replay_log(&sb, "copy", None);
    let sources: Vec<&str> = log.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(sources, [raws[1].as_str(), raws[0].as_str()]);
    // Nothing lost or broken in the store.
    run(qsnap(&sb).arg("verify"));

    // The next run skips the two done: three more runs.
    let head = run(qsnap(&sb)
        .args(["replay", "qplan", "raw", "copy", "--name", "copy"])
        .args(["--", "sh", "-c", COUNTING]));
    assert_eq!(runs(&sb), 6);
    let log = replay_log(&sb, "copy", None);
    let sources: Vec<&str> = log.iter().map(|e| e.2.as_str()).collect();
    let want: Vec<&str> = raws.iter().rev().map(String::as_str).collect();
    assert_eq!(sources, want);
    // Each version is its raw version, copied.
    for (i, raw) in raws.iter().enumerate() {
        let got = run(qsnap(&sb).args([
            "get", "qplan", "copy", "--raw", "--replay", "copy", "--at", raw,
        ]));
        assert_eq!(got, raw_version(i as u32 + 1), "version {}", i + 1);
    }

    // All done: nothing runs.
    assert_eq!(ok(replay_copy(&sb, &[])), head);
    assert_eq!(runs(&sb), 6);
    // A new version on main: one run.
    let raw6 = put_version(&sb, 6, false);
    ok(replay_copy(&sb, &[]));
    assert_eq!(runs(&sb), 7);
    assert_eq!(replay_log(&sb, "copy", None)[0].2, raw6);
    // --force runs every version again.
    ok(replay_copy(&sb, &["--force"]));
    assert_eq!(runs(&sb), 13);
    assert_eq!(replay_log(&sb, "copy", None).len(), 6);

    // Another command under the same name: refused (2), unless --force.
    let out = qsnap(&sb)
        .args([
            "replay", "qplan", "raw", "copy", "--name", "copy", "--", "cat",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(runs(&sb), 13);
}

/// Fails (65) on the version whose commit is in the file `fail`, copies
/// the others; counts its runs.
const FAILING: &str = r#"n=$(($(cat count 2>/dev/null || echo 0) + 1)); echo $n > count
if [ -e fail ] && [ "$(cat fail)" = "$QWATCH_COMMIT" ]; then echo "no: $QWATCH_COMMIT" >&2; exit 65; fi
cat"#;

fn replay_failing(sb: &Sandbox, extra: &[&str]) -> Output {
    qsnap(sb)
        .args(["replay", "qplan", "raw", "copy", "--name", "f"])
        .args(extra)
        .args(["--", "sh", "-c", FAILING])
        .output()
        .expect("run")
}

#[test]
fn a_failing_version_stops_the_replay_naming_it_or_is_recorded_with_keep_going() {
    let sb = Sandbox::new();
    let raws: Vec<String> = (1..=5).map(|i| put_version(&sb, i, false)).collect();
    sb.write("fail", format!("{}\n", raws[2]));

    // Stops at the third version, naming its commit: 65; two done.
    let out = replay_failing(&sb, &[]);
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("qplan raw {}", raws[2])), "{err}");
    assert!(err.contains("exited 65"), "{err}");
    assert_eq!(runs(&sb), 3);
    assert_eq!(replay_log(&sb, "f", None).len(), 2);

    // --keep-going: the third is tried again, recorded, and the rest done;
    // 65 at the end, naming it.
    let out = replay_failing(&sb, &["--keep-going"]);
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&raws[2][..12]), "{err}");
    assert_eq!(runs(&sb), 6);
    let all = replay_log(&sb, "f", None);
    let shown: Vec<(&str, &str)> = all.iter().map(|e| (e.0.as_str(), e.1.as_str())).collect();
    let failed = format!("replay f: failed on qplan raw {}", &raws[2][..12]);
    assert_eq!(
        shown,
        [
            ("qplan copy", "replay f: raw 5"),
            ("qplan copy", "replay f: raw 4"),
            ("-", failed.as_str()),
            ("qplan copy", "replay f: raw 2"),
            ("qplan copy", "replay f: raw 1"),
        ]
    );
    // The record says why (its trailer).
    let head = refs(&sb.path().join("store"))
        .into_iter()
        .find_map(|r| r.strip_prefix("refs/qsnap/replay/f ").map(str::to_owned))
        .unwrap();
    let msg = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(sb.path().join("store"))
        .args(["log", "--format=%B", &format!("{head}~2"), "-1"])
        .output()
        .unwrap();
    let msg = String::from_utf8_lossy(&msg.stdout);
    assert!(
        msg.contains("Qsnap-Replay-Failed: the command exited 65"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("Qsnap-Replay-Source: qplan raw {}", raws[2])),
        "{msg}"
    );
    // The versions of the output leave it out; at its revision, the
    // version before it stands.
    assert_eq!(replay_log(&sb, "f", Some("qplan copy")).len(), 4);
    let at3 = run(qsnap(&sb).args([
        "get", "qplan", "copy", "--raw", "--replay", "f", "--at", &raws[2],
    ]));
    assert_eq!(at3, raw_version(2));

    // Fixed: the next run runs that version alone and keeps the others in
    // order.
    std::fs::remove_file(sb.path().join("fail")).unwrap();
    ok(replay_failing(&sb, &[]));
    assert_eq!(runs(&sb), 7);
    let log = replay_log(&sb, "f", None);
    let sources: Vec<&str> = log.iter().map(|e| e.2.as_str()).collect();
    let want: Vec<&str> = raws.iter().rev().map(String::as_str).collect();
    assert_eq!(sources, want);
    let at3 = run(qsnap(&sb).args([
        "get", "qplan", "copy", "--raw", "--replay", "f", "--at", &raws[2],
    ]));
    assert_eq!(at3, raw_version(3));
    run(qsnap(&sb).arg("verify"));
}

#[test]
fn output_that_is_not_a_stream_fails_the_version() {
    let sb = Sandbox::new();
    let raw = put_version(&sb, 1, false);
    let out = qsnap(&sb)
        .args([
            "replay",
            "qplan",
            "raw",
            "x",
            "--name",
            "bad",
            "--",
            "echo",
            "not a stream",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&raw), "{err}");
    assert!(err.contains("line 1"), "{err}");
    // Nothing stored: no replay.
    assert!(!refs(&sb.path().join("store"))
        .iter()
        .any(|r| r.contains("replay")));
}

#[test]
fn the_command_gets_the_version_and_qwatchs_variables() {
    let sb = Sandbox::new();
    let raws: Vec<String> = (1..=2).map(|i| put_version(&sb, i, false)).collect();
    // It does not read its input: that is not a failure.
    let script = r#"printf '=====env v1\n\t%s\n\t%s\n\t%s\n\t%s\n\t%s\n=====end\n' "$QWATCH_RESOURCE" "$QWATCH_COMMIT" "$QWATCH_PARENT" "$QSNAP_REPLAY" "$QSNAP_REPO""#;
    run(qsnap(&sb).args([
        "replay", "qplan", "raw", "env", "--name", "e", "--", "sh", "-c", script,
    ]));
    let store = std::fs::canonicalize(sb.path().join("store")).unwrap();
    for (i, raw) in raws.iter().enumerate() {
        let got =
            run(qsnap(&sb).args(["get", "qplan", "env", "--raw", "--replay", "e", "--at", raw]));
        let parent = if i == 0 { "" } else { raws[0].as_str() };
        assert_eq!(
            got,
            format!(
                "=====env v1\n\tqplan raw\n\t{raw}\n\t{parent}\n\te\n\t{}\n=====end\n",
                store.display()
            )
        );
    }
}

#[test]
fn log_get_and_diff_read_a_replay_and_an_unknown_one_is_65() {
    let sb = Sandbox::new();
    // Raw version i put on November i, noon.
    let raws: Vec<String> = (1..=3)
        .map(|i| {
            run(qsnap(&sb)
                .args(["put", "qplan", "raw", "-m"])
                .arg(format!("raw {i}"))
                .env("GIT_COMMITTER_DATE", format!("2026-11-0{i}T12:00:00Z"))
                .write_stdin(raw_version(i)))
            .trim()
            .to_owned()
        })
        .collect();
    run(qsnap(&sb).args(["replay", "qplan", "raw", "copy", "--name", "c", "--", "cat"]));
    // Each replay commit is dated as its source version.
    let json = run(qsnap(&sb).args(["log", "--replay", "c", "-f", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let times: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-11-03T12:00:00Z",
            "2026-11-02T12:00:00Z",
            "2026-11-01T12:00:00Z"
        ]
    );
    // So --at-time reads the replay on main's time axis: the end of
    // November 2 is version 2; before November 1 noon there is none.
    let at = run(qsnap(&sb).args([
        "get",
        "qplan",
        "copy",
        "--raw",
        "--replay",
        "c",
        "--at-time",
        "2026-11-02",
    ]));
    assert_eq!(at, raw_version(2));
    let out = qsnap(&sb)
        .args([
            "get",
            "qplan",
            "copy",
            "--replay",
            "c",
            "--at-time",
            "2026-10-31",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    // A replay commit names itself as a revision.
    let second = v[1]["commit"].as_str().unwrap();
    let at = run(qsnap(&sb).args([
        "get",
        "qplan",
        "copy",
        "--raw",
        "--replay",
        "c",
        "--at",
        &second[..12],
    ]));
    assert_eq!(at, raw_version(2));
    // The newest by default; a diff between two versions: MOB-101 at 2
    // then 3 weeks of Apps, one line each way in the raw work section.
    let newest = run(qsnap(&sb).args(["get", "qplan", "copy", "--raw", "--replay", "c"]));
    assert_eq!(newest, raw_version(3));
    let diff = run(qsnap(&sb).args(["diff", "qplan", "copy", &raws[1], "--replay", "c"]));
    assert_eq!(
        diff,
        "section 'raw work': 1 added, 1 removed\n\
         -\tMOB-101,1,Login rewrite,\"Apps:2,Native:S,QA:1\",1,Tenor\n\
         +\tMOB-101,1,Login rewrite,\"Apps:3,Native:S,QA:1\",1,Tenor\n"
    );
    // Main has no `qplan copy`; the replay has no `qplan raw`.
    let out = qsnap(&sb).args(["get", "qplan", "copy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(65));
    let out = qsnap(&sb)
        .args(["get", "qplan", "raw", "--replay", "c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("replay c holds qplan copy"));
    // An unknown replay: 65, with the names there are, and nothing on stdout.
    for args in [
        &["get", "qplan", "copy", "--replay", "nope"][..],
        &["log", "--replay", "nope"],
        &["diff", "qplan", "copy", "main", "--replay", "nope"],
    ] {
        let out = qsnap(&sb).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(65), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no replay named nope") && err.contains("it has c"),
            "{err}"
        );
    }
    // A name that is not one: usage (2).
    let out = qsnap(&sb)
        .args(["log", "--replay", "No/pe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Waits (with a deadline) until `path` exists.
fn wait_for(path: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never came",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn two_runs_of_one_replay_at_once_never_lose_a_version() {
    let sb = Sandbox::new();
    let raws: Vec<String> = (1..=2).map(|i| put_version(&sb, i, false)).collect();
    // The first run holds its first version until the file `go` exists.
    let slow = r#"if [ ! -e started ]; then touch started; while [ ! -e go ]; do sleep 0.01; done; fi; cat"#;
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_qsnap"));
    first
        .arg("--store")
        .arg(sb.path().join("store"))
        .args([
            "replay", "qplan", "raw", "copy", "--name", "both", "--", "sh", "-c", slow,
        ])
        .current_dir(sb.path())
        .env("QSNAP_FSYNC", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let first = first.spawn().unwrap();
    wait_for(&sb.path().join("started"));
    // Meanwhile a second run does both versions.
    run(qsnap(&sb).args([
        "replay", "qplan", "raw", "copy", "--name", "both", "--", "sh", "-c", slow,
    ]));
    sb.write("go", "");
    let out = first.wait_with_output().unwrap();
    // The first finds the ref moved under it: 75, and nothing is lost.
    assert_eq!(out.status.code(), Some(75));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("moved by another run"), "{err}");
    let sources: Vec<String> = replay_log(&sb, "both", None)
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(sources, [raws[1].clone(), raws[0].clone()]);
}

#[test]
fn a_ref_lock_left_by_a_killed_replay_is_cleared() {
    let sb = Sandbox::new();
    put_version(&sb, 1, false);
    let lock = sb.path().join("store/refs/qsnap/replay/left.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let out = qsnap(&sb)
        .args([
            "replay", "qplan", "raw", "copy", "--name", "left", "--", "cat",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("left by a replay that was stopped"), "{err}");
    assert!(!lock.exists());
    assert_eq!(replay_log(&sb, "left", None).len(), 1);
}

/// What a replay writes on stderr when stderr is a terminal (a
/// pseudo-terminal), with `extra` arguments.
fn stderr_on_a_terminal(sb: &Sandbox, extra: &[&str]) -> String {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors; the other arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just opened and are owned here.
    let (mut master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qsnap"))
        .arg("--store")
        .arg(sb.path().join("store"))
        .args(["replay", "qplan", "raw", "copy", "--name", "tty"])
        .args(extra)
        .args(["--", "cat"])
        .current_dir(sb.path())
        .env("QSNAP_FSYNC", "0")
        .env("TERM", "xterm")
        .stdout(std::process::Stdio::null())
        .stderr(slave)
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    // The slave is closed in this process (moved into the child's
    // setup): reading ends with EIO once everything written is read.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn the_progress_bar_shows_on_a_terminal_and_not_with_q_or_a_pipe() {
    let sb = Sandbox::new();
    put_version(&sb, 1, false);
    put_version(&sb, 2, false);
    let shown = stderr_on_a_terminal(&sb, &[]);
    assert!(
        shown.contains("replay [") && shown.contains("/2 versions"),
        "{shown:?}"
    );
    let quiet = stderr_on_a_terminal(&sb, &["--force", "-q"]);
    assert!(!quiet.contains("versions"), "{quiet:?}");
    // A pipe: no bar.
    let out = qsnap(&sb)
        .args([
            "replay", "qplan", "raw", "copy", "--name", "tty", "--force", "--", "cat",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}
