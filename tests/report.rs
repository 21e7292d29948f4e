//! `qplan --format html` end to end: the trend read from a store's history,
//! the provenance with its times, the errors; and the page in a real
//! browser (Chromium headless), when there is one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::util::{fixture, fixture_text, Sandbox};

fn qsnap(sb: &Sandbox) -> Command {
    let mut c = sb.cmd("qsnap");
    c.arg("--store").arg(sb.path().join("store")).arg("-q");
    c.env("QSNAP_FSYNC", "0");
    c
}

fn stdout_of(c: &mut Command) -> String {
    let out = c.output().expect("run");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
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
        .filter(|a| a.get("class").is_some_and(|c| c.starts_with(class)))
        .collect()
}

fn get(e: &HashMap<String, String>, k: &str) -> String {
    e.get(k).cloned().unwrap_or_default()
}

/// The section of track `t` in a page.
fn section(page: &str, t: usize) -> &str {
    let start = page
        .find(&format!("id=\"track-{t}\""))
        .expect("track section");
    let end = page[start..].find("</section>").expect("section end");
    &page[start..start + end]
}

/// Stores `conditioned` and its results computed by qplan (so that the
/// results' provenance names the conditioned version); returns the
/// conditioned and results commits.
fn put_plan(sb: &Sandbox, conditioned: &str) -> (String, String) {
    let c = stdout_of(
        qsnap(sb)
            .args(["put", "qplan", "conditioned"])
            .write_stdin(conditioned),
    );
    let got = stdout_of(qsnap(sb).args(["get", "qplan", "conditioned"]));
    let results = stdout_of(sb.cmd("qplan").write_stdin(got));
    let r = stdout_of(
        qsnap(sb)
            .args(["put", "qplan", "results"])
            .write_stdin(results),
    );
    (c.trim().to_owned(), r.trim().to_owned())
}

/// fixtures/qplan/small.in with one more Apps person in Tenor.
fn small_with_dave() -> String {
    fixture_text("qplan/small.in").replace(
        "\tp3\tCarol",
        "\tp4\tDave\tMobile\tTenor\tApps\t\n\tp3\tCarol",
    )
}

#[test]
fn html_trend_reads_every_stored_version_of_the_results() {
    let sb = Sandbox::new();
    let (c1, r1) = put_plan(&sb, &fixture_text("qplan/small.in"));
    // A put of another resource between the two is not a version.
    stdout_of(
        qsnap(&sb)
            .args(["put", "qplan", "raw"])
            .write_stdin("=====x y v1\n\tz\n=====end\n"),
    );
    let (c2, r2) = put_plan(&sb, &small_with_dave());
    let store = sb.path().join("store");
    let page = stdout_of(sb.cmd("qplan").args(["-f", "html", "--store"]).arg(&store));

    // All, version 1 (small.expected): Apps supply 3.4, demand ≤3 4, Web
    // 1.8 and 2.5; W1 and W4 above the line. Version 2: Dave adds 9
    // workdays (10 weekdays but the 14th), 1.8 person-weeks of Apps: 5.2,
    // enough for W2 (1 + 3 = 4), so W1, W2 and W4 are above the line.
    let all = section(&page, 0);
    let svg = elements(all, "svg", "chart trend");
    assert_eq!(get(&svg[0], "data-versions"), "2");
    let lines: Vec<[String; 3]> = elements(all, "polyline", "")
        .iter()
        .map(|e| [get(e, "class"), get(e, "data-skill"), get(e, "data-values")])
        .collect();
    let want = [
        ["supply s0", "Apps", "3.4 5.2"],
        ["demand s0", "Apps", "4 4"],
        ["supply s1", "Web", "1.8 1.8"],
        ["demand s1", "Web", "2.5 2.5"],
    ];
    assert_eq!(lines, want);
    // x: versions at 160 and 640; y = 24 + 160·(1 − v/5.2) for supply
    // 3.4 (79.4) and 5.2 (24).
    assert_eq!(
        get(&elements(all, "polyline", "supply s0")[0], "points"),
        "160,79.4 640,24"
    );
    let versions: Vec<[String; 3]> = elements(all, "g", "version")
        .iter()
        .map(|e| {
            [
                get(e, "data-commit"),
                get(e, "data-above"),
                get(e, "data-items"),
            ]
        })
        .collect();
    assert_eq!(
        versions,
        [
            [r1.clone(), "2".into(), "4".into()],
            [r2.clone(), "3".into(), "4".into()]
        ]
    );
    // The report is of the newest version: Apps supply 5.2 in the chart.
    let skills = elements(all, "g", "skill");
    assert_eq!(get(&skills[0], "data-supply"), "5.2");

    // Provenance: the results and the conditioned version, with times.
    let prov = &page[page.find("id=\"provenance\"").unwrap()..];
    let row = regex::Regex::new(
        r"<tr><td>(qplan \w+)</td><td><code>([0-9a-f]{40})</code></td><td>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)</td>",
    )
    .unwrap();
    let rows: Vec<(String, String)> = row
        .captures_iter(prov)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    assert_eq!(
        rows,
        [
            ("qplan results".to_owned(), r2.clone()),
            ("qplan conditioned".to_owned(), c2.clone())
        ]
    );
    assert_ne!(c1, c2);

    // Stored results from stdin (`-`) with the store for the trend and
    // the times: the same page.
    let stored = stdout_of(qsnap(&sb).args(["get", "qplan", "results"]));
    let again = stdout_of(
        sb.cmd("qplan")
            .args(["-f", "html", "--store"])
            .arg(&store)
            .arg("-")
            .write_stdin(stored),
    );
    assert_eq!(again, page);
}

#[test]
fn html_errors_are_clear_and_write_nothing() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let small = fixture("qplan/small.in");
    // --store is the html report's.
    sb.cmd("qplan")
        .args(["-f", "text", "--store"])
        .arg(&store)
        .arg(&small)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--store"));
    // No store there.
    sb.cmd("qplan")
        .args(["-f", "html", "--store"])
        .arg(&store)
        .assert()
        .code(69)
        .stdout("")
        .stderr(predicate::str::contains("no store at"));
    // A store without results.
    stdout_of(qsnap(&sb).arg("init"));
    sb.cmd("qplan")
        .args(["-f", "html", "--store"])
        .arg(&store)
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("empty"));
    stdout_of(qsnap(&sb).args(["put", "qplan", "conditioned"]).arg(&small));
    sb.cmd("qplan")
        .args(["-f", "html", "--store"])
        .arg(&store)
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("unknown resource qplan results"));
    // Conditioned data stored as results: not a results stream.
    stdout_of(qsnap(&sb).args(["put", "qplan", "results"]).arg(&small));
    sb.cmd("qplan")
        .args(["-f", "html", "--store"])
        .arg(&store)
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("not its results"));
    // But a plan and the store's (unreadable) history: the page, the bad
    // version said in it.
    let page = stdout_of(
        sb.cmd("qplan")
            .args(["-f", "html", "--store"])
            .arg(&store)
            .arg(&small),
    );
    assert!(page.contains("unreadable and left out"));
    assert!(page.contains("The store holds no readable version of the results."));
}

/// Chromium, when installed (`make deps` installs it).
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM").map(PathBuf::from) {
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs Chromium headless on `page` with `args`, at most a minute;
/// returns stdout.
fn headless(browser: &Path, profile: &Path, page: &Path, args: &[&str]) -> String {
    let mut child = Process::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait chromium") {
            assert!(status.success(), "chromium {args:?}: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {args:?} did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    reader.join().expect("reader").expect("chromium's output")
}

#[test]
fn html_report_renders_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!(
            "\n*** SKIPPED html_report_renders_in_chromium: no chromium on PATH \
             (`make deps` installs Debian's chromium; set CHROMIUM=/path to use another) ***\n"
        );
        return;
    };
    let sb = Sandbox::new();
    let page = sb.path().join("report.html");
    sb.cmd("qplan")
        .args(["-f", "html", "-o"])
        .arg(&page)
        .arg(fixture("quarter/conditioned.txt"))
        .assert()
        .success();
    let dom = headless(&browser, &sb.path().join("profile"), &page, &["--dump-dom"]);
    // The script ran (the page's CSP allows it by hash) and showed the
    // filter.
    assert!(
        dom.contains("<html lang=\"en\" class=\"js\">"),
        "script did not run"
    );
    assert!(dom.contains("<div id=\"filter\">"));
    // The fixture quarter: 4 tracks (All, Alto, Bass, Tenor), each with a
    // supply chart; 45 items, all in All and each in its own track: 90
    // rows; 4 skills in All.
    let count = |s: &str| dom.matches(s).count();
    assert_eq!(count("<section class=\"track\""), 4);
    assert_eq!(count("<svg class=\"chart supply\""), 4);
    assert_eq!(count("<svg class=\"chart release\""), 4);
    let all = section(&dom, 0);
    assert_eq!(elements(all, "g", "skill").len(), 4);
    // Dates and DNF marks: one per item of All.
    assert_eq!(
        elements(all, "circle", "done").len() + elements(all, "path", "dnf").len(),
        45
    );
    let work_rows: usize = (0..4)
        .map(|t| {
            let s = section(&dom, t);
            let table = &s[s.find("<table class=\"work\">").unwrap()..];
            table
                .split_once("<tbody>")
                .unwrap()
                .1
                .matches("<tr")
                .count()
        })
        .sum();
    assert_eq!(work_rows, 90);

    // A screenshot, kept under target/ as the test's artifact.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &browser,
        &sb.path().join("profile"),
        &page,
        &[
            "--window-size=1200,1600",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(png.len() > 20_000, "a page drawn, not a blank one");
    eprintln!("screenshot of the report: {}", shot.display());
}
