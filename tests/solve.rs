//! `qwhatif solve` end to end on the fixture quarter: its answer against a
//! second method written here (every combination of the menu run through
//! the `qwhatif` binary, the goal read from its results stream), its
//! script run through `qwhatif -s -`, an ask no combination meets, bad asks
//! and bad input.

use crate::util::{fixture, Sandbox};

const QUARTER: &str = "quarter/conditioned.txt";

/// A menu line: price, max, the change used once (canonical form), and
/// whether it is `add staff` (used k times: ` count=k`).
struct Line {
    price: f64,
    max: u32,
    change: &'static str,
}

impl Line {
    fn used(&self, k: u32) -> String {
        if k > 1 {
            format!("{} count={k}", self.change)
        } else {
            self.change.to_owned()
        }
    }

    fn ask(&self) -> String {
        if self.max > 1 {
            format!("allow {} max={} {}", self.price, self.max, self.change)
        } else {
            format!("allow {} {}", self.price, self.change)
        }
    }
}

/// Each list's rows of a results stream: list name -> (id, shortage,
/// date, the item's own track).
type Lists = Vec<(String, Vec<(String, String, String, String)>)>;

/// The `qplan track work v1` lists of a results stream, by name.
fn lists(stream: &str) -> Lists {
    let mut tracks: Vec<String> = Vec::new();
    let mut out: Lists = Vec::new();
    let mut section = String::new();
    for line in stream.lines() {
        if let Some(h) = line.strip_prefix("=====") {
            section = h.to_owned();
            continue;
        }
        match section.as_str() {
            "qplan tracks v1" => tracks.push(line.trim_start_matches('\t').to_owned()),
            "qplan track work v1" => {
                if line == "\t=====qplan track item" {
                    out.push((tracks[out.len()].clone(), Vec::new()));
                } else if let Some(row) = line.strip_prefix("\t\t") {
                    let f: Vec<&str> = row.split('\t').collect();
                    // track, rank, triage, name, estimate, shortage, date, id
                    out.last_mut().unwrap().1.push((
                        f[7].to_owned(),
                        f[5].to_owned(),
                        f[6].to_owned(),
                        f[0].to_owned(),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether every goal item is above the line and done by `by` in All and
/// in its own track, in a results stream.
fn meets(stream: &str, goal: &[&str], by: &str) -> bool {
    let lists = lists(stream);
    // The goal items' own tracks, from All's rows.
    let own = |id: &str| -> Option<String> {
        lists[0]
            .1
            .iter()
            .find(|r| r.0 == id)
            .map(|r| r.3.clone())
            .filter(|t| !t.is_empty())
    };
    goal.iter().all(|id| {
        let mut names = vec!["All".to_owned()];
        names.extend(own(id));
        names.iter().all(|name| {
            lists.iter().filter(|(l, _)| l == name).any(|(_, rows)| {
                rows.iter().any(|(i, short, date, _)| {
                    i == id && short.is_empty() && date != "DNF" && date.as_str() <= by
                })
            })
        })
    })
}

/// The second method: every combination of `menu`, in menu order, run
/// through `qwhatif`; the cheapest that meets the goal by the ask's rule
/// (price, then fewer lines, then lines earlier in the menu, then fewer
/// uses): its price and script.
fn naive(sb: &Sandbox, menu: &[Line], goal: &[&str], by: &str) -> Option<(f64, String)> {
    let n = menu.len();
    let mut counts = vec![0u32; n];
    // (price, lines, lines used, counts): the ask's order.
    type Key = (i64, usize, Vec<usize>, Vec<u32>);
    let mut best: Option<(Key, String)> = None;
    loop {
        let script: String = counts
            .iter()
            .zip(menu)
            .filter(|(&k, _)| k > 0)
            .map(|(&k, l)| l.used(k) + "\n")
            .collect();
        let out = sb
            .cmd("qwhatif")
            .args(["-q", &script])
            .arg(fixture(QUARTER))
            .output()
            .unwrap();
        if out.status.success() && meets(&String::from_utf8_lossy(&out.stdout), goal, by) {
            // Prices in hundredths, exact for the prices used here.
            let cost: i64 = counts
                .iter()
                .zip(menu)
                .map(|(&k, l)| i64::from(k) * (l.price * 100.0).round() as i64)
                .sum();
            let used: Vec<usize> = (0..n).filter(|&i| counts[i] > 0).collect();
            let key = (cost, used.len(), used, counts.clone());
            if best.as_ref().is_none_or(|(b, _)| key < *b) {
                best = Some((key, script));
            }
        }
        let mut i = 0;
        loop {
            if i == n {
                return best.map(|(k, s)| (k.0 as f64 / 100.0, s));
            }
            if counts[i] < menu[i].max {
                counts[i] += 1;
                break;
            }
            counts[i] = 0;
            i += 1;
        }
    }
}

fn ask_text(goal: &[&str], by: &str, menu: &[Line]) -> String {
    let mut s = format!("goal items={} by {by}  # the goal\n", goal.join(","));
    for l in menu {
        s.push_str(&l.ask());
        s.push('\n');
    }
    s
}

fn check(menu: &[Line], goal: &[&str], by: &str) {
    let sb = Sandbox::new();
    let ask = sb.write("menu.ask", ask_text(goal, by, menu));
    let out = sb
        .cmd("qwhatif")
        .args(["solve", "-q", "-f", "json", "-s"])
        .arg(&ask)
        .arg(fixture(QUARTER))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let want = naive(&sb, menu, goal, by);
    match want {
        None => {
            assert_eq!(out.status.code(), Some(1), "{json}");
            assert_eq!(json["found"], false);
            assert_eq!(json["proven"], true);
        }
        Some((cost, script)) => {
            assert_eq!(out.status.code(), Some(0), "{json}");
            assert_eq!(json["proven"], true);
            assert_eq!(json["cost"].as_f64(), Some(cost), "{json}");
            assert_eq!(json["script"].as_str(), Some(script.as_str()), "{json}");
            // The script as `-f script` writes it, run through qwhatif
            // (from stdin), meets the goal.
            let script_out = sb
                .cmd("qwhatif")
                .args(["solve", "-q", "-f", "script", "-s"])
                .arg(&ask)
                .arg(fixture(QUARTER))
                .output()
                .unwrap();
            assert!(script_out.status.success());
            assert_eq!(String::from_utf8_lossy(&script_out.stdout), script);
            let run = sb
                .cmd("qwhatif")
                .args(["-q", "-s", "-"])
                .arg(fixture(QUARTER))
                .write_stdin(script_out.stdout)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            assert!(meets(&String::from_utf8_lossy(&run.stdout), goal, by));
            // Every goal item is said to meet it after.
            for item in json["items"].as_array().unwrap() {
                assert_eq!(item["after"]["met"], true, "{item}");
            }
        }
    }
}

/// MOB-143 (Tenor, rank 43) is short of Web, Native and Apps and DNF: Web
/// and Native people, a move up and a smaller estimate all help, at
/// different prices.
#[test]
fn solve_finds_what_every_combination_finds_gdpr() {
    check(
        &[
            Line {
                price: 5.0,
                max: 3,
                change: "add staff \"Web hire\" track=Tenor skill=Web",
            },
            Line {
                price: 4.0,
                max: 1,
                change: "add staff \"Native hire\" track=Tenor skill=Native",
            },
            Line {
                price: 9.0,
                max: 1,
                change: "rank MOB-143 5",
            },
            Line {
                price: 0.5,
                max: 1,
                change: "estimate MOB-143 Web:1,Native:0.5,Apps:0.5,QA:1",
            },
        ],
        &["MOB-143"],
        "2013-12-13",
    );
}

/// Two Bass items, with people of two skills, a drop ahead of them and a
/// move up, prices that tie.
#[test]
fn solve_finds_what_every_combination_finds_bass() {
    check(
        &[
            Line {
                price: 3.0,
                max: 2,
                change: "add staff W track=Bass skill=Web",
            },
            Line {
                price: 2.0,
                max: 2,
                change: "add staff A track=Bass skill=Apps",
            },
            Line {
                price: 1.0,
                max: 1,
                change: "drop MOB-102",
            },
            Line {
                price: 1.0,
                max: 1,
                change: "rank MOB-126 1",
            },
        ],
        &["MOB-105", "MOB-126"],
        "2013-12-20",
    );
}

/// A goal no combination meets: the same verdict from both methods.
#[test]
fn solve_finds_what_every_combination_finds_none() {
    check(
        &[
            Line {
                price: 1.0,
                max: 2,
                change: "add staff N track=Bass skill=Native",
            },
            Line {
                price: 1.0,
                max: 1,
                change: "drop MOB-102",
            },
        ],
        &["MOB-141", "MOB-105"],
        "2013-11-01",
    );
}

/// MOB-118 has no estimate and no line estimates it; MOB-126 needs Web in
/// Bass, where no one has Web and no line adds one: exit 1, both named
/// with why, and the cheapest combination meeting the most given.
#[test]
fn an_ask_no_combination_meets_names_the_items_and_why() {
    let sb = Sandbox::new();
    let out = sb
        .cmd("qwhatif")
        .args([
            "solve",
            "-q",
            "goal items=MOB-118,MOB-126,MOB-143,MOB-101\nallow 2 max=2 add staff \"Web hire\" track=Tenor skill=Web\nallow 1 drop MOB-113",
        ])
        .arg(fixture(QUARTER))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("No combination of the menu meets the goal (proven"),
        "{text}"
    );
    assert!(
        text.contains("MOB-118 \"Analytics events\": it has no estimate"),
        "{text}"
    );
    assert!(
        text.contains("MOB-126 \"Order history\": it needs 2 Web and no one in Bass has Web"),
        "{text}"
    );
    assert!(
        text.contains("The cheapest combination that meets it for the most goal items (1 of 4): cost 0 (the plan as it is)."),
        "{text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("qwhatif: no combination of the menu meets the goal"),
        "{err}"
    );
}

#[test]
fn bad_asks_say_where_and_exit_2() {
    let sb = Sandbox::new();
    let plan = fixture(QUARTER);
    let run = |args: &[&str]| {
        let out = sb
            .cmd("qwhatif")
            .args(["solve", "-q"])
            .args(args)
            .arg(&plan)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&["goal by 2013-12-13\nallow 1 dorp MOB-101"]);
    assert!(
        err.starts_with("qwhatif: ask, line 2, column 9: no change is called \"dorp\""),
        "{err}"
    );
    let err = run(&["goal triage<=1\nallow 1 drop MOB-999"]);
    assert!(
        err.starts_with(
            "qwhatif: ask, line 2, column 14: no work item has the id or name \"MOB-999\""
        ),
        "{err}"
    );
    let err = run(&["goal track=Tenr; allow 1 drop MOB-101"]);
    assert!(
        err.starts_with("qwhatif: ask, line 1, column 6: no track is called \"Tenr\""),
        "{err}"
    );
    let ask = sb.write("bad.ask", "goal\n\nallow 2 max=3 drop MOB-101\n");
    let err = run(&["-s", ask.to_str().unwrap()]);
    assert!(
        err.contains("bad.ask, line 3, column 9: max= is for add staff only"),
        "{err}"
    );
}

#[test]
fn bad_input_is_65() {
    let sb = Sandbox::new();
    let plan = sb.write("plan.txt", "=====qplan params v1\n\tnot a date\n=====end\n");
    let out = sb
        .cmd("qwhatif")
        .args(["solve", "goal; allow 1 drop X"])
        .arg(plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_goal_met_today_is_an_empty_script_at_no_cost() {
    let out = Sandbox::new()
        .cmd("qwhatif")
        .args([
            "solve",
            "-q",
            "-f",
            "json",
            "goal items=MOB-101\nallow 1 drop MOB-102",
        ])
        .arg(fixture(QUARTER))
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["cost"].as_f64(), Some(0.0));
    assert_eq!(json["proven"], true);
    assert_eq!(json["script"], "");
    assert_eq!(json["scenarios"], 1);
}

/// The indented blocks of the WORKED EXAMPLE section of a man page's
/// Markdown, in order, without their indent.
fn worked_example_blocks(md: &str) -> Vec<String> {
    let at = md.find("## A WORKED EXAMPLE").expect("a worked example");
    let section = &md[at..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut blocks: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in section[..end].lines() {
        if let Some(code) = line.strip_prefix("    ") {
            current.get_or_insert_with(String::new).push_str(code);
            current.as_mut().unwrap().push('\n');
        } else if line.trim().is_empty() {
            if let Some(c) = current.as_mut() {
                c.push('\n');
            }
        } else if let Some(c) = current.take() {
            blocks.push(c.trim_end_matches('\n').to_owned() + "\n");
        }
    }
    blocks.extend(current.map(|c| c.trim_end_matches('\n').to_owned() + "\n"));
    blocks
}

/// The count of scenarios computed varies with the batches run on every
/// core; everything else of the answer does not.
fn without_count(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("Scenarios computed: ") {
                "Scenarios computed: N".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `man qwhatif-solve`'s worked example is what the command answers: the
/// ask shown is examples/tenor.ask, the answer shown is its output.
#[test]
fn the_worked_example_of_the_man_page_is_what_solve_answers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(root.join("doc/man/qwhatif-solve.md")).unwrap();
    let blocks = worked_example_blocks(&md);
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    let ask = std::fs::read_to_string(root.join("examples/tenor.ask")).unwrap();
    assert_eq!(blocks[0], ask);
    let out = Sandbox::new()
        .cmd("qwhatif")
        .args(["solve", "-q", "-s"])
        .arg(root.join("examples/tenor.ask"))
        .arg(fixture(QUARTER))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        without_count(&String::from_utf8_lossy(&out.stdout)),
        without_count(&blocks[1])
    );
}

/// Kills the child when the test ends early, so a failed test leaves no
/// search running.
struct Reaper(std::process::Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ctrl_c_writes_the_best_found_so_far_and_exits_130() {
    use std::io::{BufRead, Read};
    use std::process::Stdio;
    let sb = Sandbox::new();
    // 2^25 combinations, none meeting the goal: days of work, so only
    // the signal can end it.
    let mut ask = fixture_text_of("bench/solve/quarter-12-none.ask");
    for i in [
        103, 104, 105, 106, 107, 109, 110, 111, 112, 114, 115, 117, 118,
    ] {
        ask.push_str(&format!("allow 1 drop MOB-{i}\n"));
    }
    sb.write("big.ask", &ask);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("qwhatif"))
        .current_dir(sb.path())
        .args(["solve", "-v", "--max-scenarios", "1000000000"])
        .args(["-s", "big.ask"])
        .arg(fixture(QUARTER))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Reaper(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let mut err = Vec::new();
    // The search note comes after the signal handlers are set up.
    while !err.iter().any(|l: &String| l.contains("qwhatif: solve:")) {
        err.push(
            rx.recv_timeout(crate::util::DEADLINE)
                .unwrap_or_else(|_| panic!("no search note on stderr: {err:?}")),
        );
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) };
    let mut status = None;
    crate::util::wait_for("the search to stop", || {
        status = child.0.try_wait().unwrap();
        status.is_some()
    });
    let mut out = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    err.extend(rx.iter());
    let err = err.join("\n");
    assert_eq!(status.unwrap().code(), Some(130), "{err}");
    assert!(
        out.contains("NOT proven: interrupted before every cheaper combination was computed"),
        "{out}"
    );
    // The whole answer, as far as the search got.
    assert!(out.starts_with("Goal: triage<=1.5"), "{out}");
    assert!(out.contains("Scenarios computed: "), "{out}");
    assert!(
        err.contains("qwhatif: interrupted: what was written is the best found so far, NOT proven"),
        "{err}"
    );
}

fn fixture_text_of(repo_path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(repo_path))
        .unwrap()
}

#[test]
fn quiet_and_verbose_may_come_before_the_subcommand() {
    let ask = fixture_text_of("examples/tenor.ask");
    let run = |args: &[&str]| {
        let sb = Sandbox::new();
        sb.write("tenor.ask", &ask);
        let out = sb
            .cmd("qwhatif")
            .args(args)
            .arg(fixture(QUARTER))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        (out.stdout, out.stderr)
    };
    let after = run(&["solve", "-q", "-f", "json", "-s", "tenor.ask"]);
    let before = run(&["-q", "solve", "-f", "json", "-s", "tenor.ask"]);
    assert!(after.0.starts_with(b"{"), "{after:?}");
    assert_eq!(before, after);
    assert!(after.1.is_empty(), "-q: nothing on stderr");
    let (_, err) = run(&["-v", "solve", "-s", "tenor.ask"]);
    assert!(String::from_utf8_lossy(&err).contains("qwhatif: solve: "));
}
