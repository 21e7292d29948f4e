//! qwhatif's named scenarios end to end (issue 12): save, list, show,
//! apply and drop against a store made with the qsnap binary from the
//! fixture quarter; a what-if never moves main or any ref outside
//! `refs/qsnap/whatif/` unless applied; every error exits as SPEC section 8
//! says, with nothing on stdout and nothing stored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::util::{fixture, fixture_text, Sandbox};

/// The scenario of most tests: the quarter ends a week early and the login
/// rewrite is dropped.
const SCRIPT: &str = "end 2013-12-13\ndrop MOB-101";

/// A sandbox with a store holding the fixture quarter as `qplan
/// conditioned`.
struct Quarter {
    sb: Sandbox,
    store: PathBuf,
    /// The commit that put the fixture.
    base: String,
}

impl Quarter {
    fn new() -> Self {
        let sb = Sandbox::new();
        let store = sb.path().join("store");
        let mut q = Quarter {
            sb,
            store,
            base: String::new(),
        };
        q.base = q.put(&fixture_text("quarter/conditioned.txt"));
        q
    }

    fn qsnap(&self) -> Command {
        let mut c = self.sb.cmd("qsnap");
        c.env("QSNAP_REPO", &self.store).env("QSNAP_FSYNC", "0");
        c
    }

    fn qwhatif(&self) -> Command {
        let mut c = self.sb.cmd("qwhatif");
        c.env("QSNAP_REPO", &self.store).env("QSNAP_FSYNC", "0");
        c
    }

    /// Puts a conditioned stream; returns the commit.
    fn put(&self, stream: &str) -> String {
        let out = self
            .qsnap()
            .args(["put", "qplan", "conditioned", "-"])
            .write_stdin(stream)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap().trim().to_owned()
    }

    fn stdout(&self, cmd: &mut Command) -> String {
        let out = cmd.assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    }

    /// `qsnap get qplan conditioned` (at `rev` when given).
    fn get(&self, rev: Option<&str>) -> String {
        let mut c = self.qsnap();
        c.args(["get", "qplan", "conditioned"]);
        if let Some(rev) = rev {
            c.args(["--at", rev]);
        }
        self.stdout(&mut c)
    }

    /// Every ref of the store and where it points.
    fn refs(&self) -> BTreeMap<String, String> {
        let repo = git2::Repository::open_bare(&self.store).unwrap();
        let mut refs = BTreeMap::new();
        for r in repo.references().unwrap() {
            let r = r.unwrap();
            refs.insert(
                r.name().unwrap().to_owned(),
                r.target().map(|o| o.to_string()).unwrap_or_default(),
            );
        }
        refs
    }

    /// The refs outside the scenarios' namespace.
    fn refs_outside(&self) -> BTreeMap<String, String> {
        let mut refs = self.refs();
        refs.retain(|k, _| !k.starts_with("refs/qsnap/whatif/"));
        refs
    }

    fn save(&self, name: &str, script: &str) -> String {
        self.stdout(self.qwhatif().args(["save", name, script]))
            .trim()
            .to_owned()
    }
}

/// A stream without the top-level sections whose header is in `drop`.
fn without(stream: &str, drop: &[&str]) -> String {
    let mut out = String::new();
    let mut keep = true;
    for line in stream.split_inclusive('\n') {
        if let Some(h) = line.strip_prefix("=====") {
            keep = !drop.contains(&h.trim_end());
        }
        if keep {
            out.push_str(line);
        }
    }
    out
}

const WHATIF_SECTIONS: [&str; 3] = [
    "qsnap provenance v1",
    "qwhatif changes v1",
    "qwhatif diff v1",
];

#[test]
fn save_list_show_apply_drop_round_trip() {
    let q = Quarter::new();
    let before = q.refs();
    assert_eq!(before.get("refs/heads/main"), Some(&q.base));

    // save: prints the scenario's commit, moves nothing but its own ref.
    let saved = q.stdout(
        q.qwhatif()
            .env("GIT_COMMITTER_DATE", "2026-11-24T14:03:07Z")
            .args(["save", "early", SCRIPT]),
    );
    let saved = saved.trim();
    assert_eq!(saved.len(), 40, "{saved}");
    assert_eq!(q.refs_outside(), before);
    assert_eq!(
        q.refs().get("refs/qsnap/whatif/early").map(String::as_str),
        Some(saved)
    );

    // list: one line, based on the put, which is still current.
    let list = q.stdout(q.qwhatif().arg("list"));
    assert_eq!(
        list,
        format!(
            "NAME   BASE          SAVED                 BASE IS  SCRIPT\n\
             early  {}  2026-11-24T14:03:07Z  current  end 2013-12-13 (+1 more)\n",
            &q.base[..12]
        )
    );

    // show: exactly a plain qwhatif on the same data, in every format.
    let data = q.get(None);
    for format in ["stream", "text", "json", "csv"] {
        let shown = q.stdout(q.qwhatif().args(["show", "early", "--format", format]));
        let plain = q.stdout(
            q.qwhatif()
                .args(["--format", format, SCRIPT])
                .write_stdin(data.clone()),
        );
        assert_eq!(shown, plain, "--format {format}");
    }
    let shown = q.stdout(q.qwhatif().args(["show", "early"]));
    assert_eq!(q.refs_outside(), before);

    // The scenario's branch holds its conditioned input: the end moved, the
    // item gone, amounts and dates written canonically (2S is 2 weeks,
    // "Dec 25, 2013" is 2013-12-25).
    let on_branch = q.get(Some("refs/qsnap/whatif/early"));
    assert!(on_branch.starts_with(&format!(
        "=====qsnap provenance v1\n\tqplan conditioned\t{saved}\n\tqplan conditioned\t{}\n\
         =====qplan params v1\n\t2013-10-07\t2013-12-13\tApps:Native:Web\n\
         =====qplan holidays v1\n\t2013-11-28\n\t2013-11-29\n\t2013-12-25\n",
        q.base
    )));
    assert!(!on_branch.contains("MOB-101"));
    assert!(on_branch.contains("\tOffline sync\tWeb:0.5,Apps:2,QA:0.5\t3\tBass\n"));

    // apply: one new commit on main, the scenario's data, with provenance
    // and the script.
    let applied = q.stdout(q.qwhatif().args(["apply", "early"]));
    let applied = applied.trim();
    let after = q.refs_outside();
    assert_eq!(
        after.get("refs/heads/main").map(String::as_str),
        Some(applied)
    );
    let repo = git2::Repository::open_bare(&q.store).unwrap();
    let commit = repo
        .find_commit(git2::Oid::from_str(applied).unwrap())
        .unwrap();
    assert_eq!(commit.parent_id(0).unwrap().to_string(), q.base);
    let message = commit.message().unwrap();
    for line in [
        "qwhatif apply early: end 2013-12-13\n".to_owned(),
        "Qsnap-Resource: qplan conditioned\n".to_owned(),
        format!("Qsnap-Provenance: qplan conditioned {}\n", q.base),
        "Qwhatif-Scenario: early\n".to_owned(),
        format!("Qwhatif-Base: {}\n", q.base),
        "Qwhatif-Change: end 2013-12-13\nQwhatif-Change: drop MOB-101\n".to_owned(),
    ] {
        assert!(message.contains(&line), "{line:?} in {message}");
    }
    q.qsnap()
        .args(["trace", "qplan", "conditioned"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "qplan conditioned  {}",
            &applied[..12]
        )))
        .stdout(predicate::str::contains(format!(
            "qplan conditioned  {}",
            &q.base[..12]
        )));
    // Planned from the store, the new version gives the scenario's results.
    let planned = q.stdout(q.sb.cmd("qplan").write_stdin(q.get(None)));
    assert_eq!(
        without(&planned, &WHATIF_SECTIONS),
        without(&shown, &WHATIF_SECTIONS)
    );
    assert!(!planned.contains("MOB-101"));

    // The scenario's base is no longer current.
    q.qwhatif()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("  old      end 2013-12-13"));

    // drop: the ref goes, nothing else moves.
    q.qwhatif()
        .args(["drop", "early"])
        .assert()
        .success()
        .stdout("");
    assert_eq!(q.refs(), after);
    q.qwhatif().arg("list").assert().success().stdout("");
}

#[test]
fn show_runs_on_the_base_or_with_rebase_on_the_current_version() {
    let q = Quarter::new();
    q.save("early", SCRIPT);
    let first = q.get(None);
    let later = q.put(
        &fixture_text("quarter/conditioned.txt")
            .replace("\t2013-10-07\t2013-12-20\t", "\t2013-10-14\t2013-12-20\t"),
    );
    let before = q.refs();
    let plain = |data: &str| q.stdout(q.qwhatif().arg(SCRIPT).write_stdin(data.to_owned()));
    assert_eq!(q.stdout(q.qwhatif().args(["show", "early"])), plain(&first));
    let rebased = q.stdout(q.qwhatif().args(["show", "early", "--rebase"]));
    assert_eq!(rebased, plain(&q.get(None)));
    assert!(rebased.contains(&format!("\tqplan conditioned\t{later}\n")));
    assert!(rebased.contains("\t2013-10-14\t2013-12-13\t"));
    assert_eq!(q.refs(), before);
}

#[test]
fn apply_is_refused_when_the_base_moved_unless_rebased() {
    let q = Quarter::new();
    q.save("early", SCRIPT);
    let later = q.put(
        &fixture_text("quarter/conditioned.txt").replace("\tBen Ortiz\t", "\tBen Ortiz-Diaz\t"),
    );
    let before = q.refs();
    q.qwhatif()
        .args(["apply", "early"])
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "scenario early is based on qplan conditioned {}, but main's qplan conditioned is now {}",
            &q.base[..12],
            &later[..12]
        )))
        .stderr(predicate::str::contains("qwhatif show early --rebase"));
    assert_eq!(q.refs(), before);

    let applied = q.stdout(q.qwhatif().args(["apply", "early", "--rebase"]));
    let applied = applied.trim();
    assert_eq!(
        q.refs().get("refs/heads/main").map(String::as_str),
        Some(applied)
    );
    let data = q.get(None);
    // The rebased scenario keeps the later version's rename.
    assert!(data.contains("\tBen Ortiz-Diaz\t"));
    assert!(data.contains("\t2013-10-07\t2013-12-13\t"));
    assert!(data.contains(&format!("\tqplan conditioned\t{later}\n")));
}

#[test]
fn bad_names_are_usage_errors_that_touch_nothing() {
    let q = Quarter::new();
    let before = q.refs();
    let long = "a".repeat(65);
    for name in ["Early", "a/b", "..", "a b", "é", "_x", "", &long] {
        for args in [
            vec!["save", name, SCRIPT],
            vec!["show", name],
            vec!["drop", name],
            vec!["apply", name],
        ] {
            q.qwhatif()
                .args(&args)
                .assert()
                .code(2)
                .stdout("")
                .stderr(predicate::str::contains("scenario name"));
        }
    }
    assert_eq!(q.refs(), before);
}

#[test]
fn an_unknown_scenario_is_a_clear_error() {
    let q = Quarter::new();
    for args in [["show", "nope"], ["drop", "nope"], ["apply", "nope"]] {
        q.qwhatif().args(args).assert().code(65).stdout("").stderr(
            "qwhatif: no scenario is called \"nope\"; the store has none \
                 (`qwhatif save NAME CHANGES` makes one)\n",
        );
    }
    q.save("early", SCRIPT);
    q.qwhatif()
        .args(["show", "eraly"])
        .assert()
        .code(65)
        .stderr("qwhatif: no scenario is called \"eraly\"; the store has early\n");
    // No store at all is "unavailable".
    q.sb.cmd("qwhatif")
        .args(["list", "--store"])
        .arg(q.sb.path().join("nowhere"))
        .assert()
        .code(69)
        .stdout("");
}

#[test]
fn a_broken_script_or_a_name_in_use_saves_nothing() {
    let q = Quarter::new();
    let before = q.refs();
    q.qwhatif()
        .args(["save", "hire", "end 2013-12-13\nremove staff \"Ben Ortis\""])
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains(
            "changes, line 2, column 14: no person has the id or name \"Ben Ortis\"",
        ));
    q.qwhatif()
        .args(["save", "hire", "rank \"Login rewrite 3"])
        .assert()
        .code(65)
        .stdout("");
    q.qwhatif()
        .args(["save", "hire", ""])
        .assert()
        .code(2)
        .stdout("");
    assert_eq!(q.refs(), before);

    let first = q.save("hire", SCRIPT);
    q.qwhatif()
        .args(["save", "hire", "drop MOB-102"])
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("scenario hire exists"))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        q.refs().get("refs/qsnap/whatif/hire").map(String::as_str),
        Some(first.as_str())
    );
    let second = q.stdout(
        q.qwhatif()
            .args(["save", "hire", "drop MOB-102", "--force"]),
    );
    assert_ne!(second.trim(), first);
    q.qwhatif()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("current  drop MOB-102\n"));
    assert_eq!(q.refs_outside(), before);
}

#[test]
fn save_takes_its_base_from_the_inputs_provenance() {
    let q = Quarter::new();
    let first = q.get(None);
    q.put(&fixture_text("quarter/conditioned.txt").replace("\tBen Ortiz\t", "\tBen O\t"));
    let before = q.refs();
    // Piped from an older version: based on it, which is not current.
    q.qwhatif()
        .args(["save", "early", SCRIPT, "-"])
        .write_stdin(first.clone())
        .assert()
        .success();
    q.qwhatif()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "early  {}  ",
            &q.base[..12]
        )))
        .stdout(predicate::str::contains("  old      end"));
    // With -s and one argument, the argument is the input.
    let script = q.sb.write("early.whatif", SCRIPT);
    let file = q.sb.write("first.txt", &first);
    q.qwhatif()
        .args(["save", "early2", "-s"])
        .arg(&script)
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        q.stdout(q.qwhatif().args(["show", "early2"])),
        q.stdout(q.qwhatif().args(["show", "early"]))
    );
    // Data changed after `qsnap get`, or none said where it came from:
    // no base to re-run on.
    q.qwhatif()
        .args(["save", "changed", SCRIPT, "-"])
        .write_stdin(first.replace("\tAna Lima\t", "\tAna L\t"))
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("changed after `qsnap get`"));
    q.qwhatif()
        .args(["save", "bare", SCRIPT])
        .arg(fixture("quarter/conditioned.txt"))
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("does not say which version"));
    let mut refs = q.refs();
    refs.retain(|k, _| !k.starts_with("refs/qsnap/whatif/early"));
    assert_eq!(refs, before);
}

#[test]
fn an_empty_store_has_no_base() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    sb.cmd("qsnap")
        .args(["init", "-q", "--store"])
        .arg(&store)
        .assert()
        .success();
    sb.cmd("qwhatif")
        .args(["save", "early", SCRIPT, "--store"])
        .arg(&store)
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("is empty"));
    sb.cmd("qwhatif")
        .args(["list", "--store"])
        .arg(&store)
        .assert()
        .success()
        .stdout("");
}

#[test]
fn a_ref_made_by_hand_is_listed_as_unreadable_and_shown_as_an_error() {
    let q = Quarter::new();
    q.save("early", SCRIPT);
    // A ref in the scenarios' namespace that qwhatif did not make: main's
    // commit, which has no Qwhatif-Base trailer.
    let repo = git2::Repository::open_bare(&q.store).unwrap();
    let main = git2::Oid::from_str(&q.base).unwrap();
    repo.reference("refs/qsnap/whatif/odd", main, false, "test")
        .unwrap();
    q.qwhatif()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("early  "))
        .stdout(predicate::str::contains(
            "odd    ?             ?                     ?        (unreadable: scenario odd",
        ));
    q.qwhatif()
        .args(["show", "odd"])
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains(
            "is not one qwhatif saved: no Qwhatif-Base trailer",
        ));
    q.qwhatif()
        .args(["apply", "odd"])
        .assert()
        .code(65)
        .stdout("");
    assert_eq!(
        q.refs().get("refs/heads/main").map(String::as_str),
        Some(q.base.as_str())
    );
    // It can be dropped like any other.
    q.qwhatif().args(["drop", "odd"]).assert().success();
}
