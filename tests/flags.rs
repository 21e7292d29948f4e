//! Flags mean the same in every command: `-f` is `--format`, the store is
//! `--store` (old name `--repo` still accepted) with QSNAP_REPO honoured,
//! `-o` writes a file; a mistyped qwhatif subcommand is said to be one.
//! (src/cmd's unit tests check the option names of every command; these
//! run the commands.)

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::util::{fixture, fixture_text, Sandbox};

fn ok(c: &mut Command) -> Vec<u8> {
    let out = c.output().expect("run");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn put(sb: &Sandbox, store: &Path, stage: &str, file: &Path) {
    ok(sb
        .cmd("qsnap")
        .env("QSNAP_FSYNC", "0")
        .arg("--store")
        .arg(store)
        .args(["-q", "put", "qplan", stage])
        .arg(file));
}

#[test]
fn the_store_is_store_repo_or_qsnap_repo_for_qsnap() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let small = fixture("qplan/small.in");
    put(&sb, &store, "conditioned", &small);
    // The stored bytes are the file's; the three ways of naming the store
    // read the same store.
    let want = std::fs::read(&small).unwrap();
    let by_store = ok(sb.cmd("qsnap").arg("--store").arg(&store).args([
        "get",
        "--raw",
        "qplan",
        "conditioned",
    ]));
    let by_repo = ok(sb.cmd("qsnap").arg("--repo").arg(&store).args([
        "get",
        "--raw",
        "qplan",
        "conditioned",
    ]));
    let by_env = ok(sb.cmd("qsnap").env("QSNAP_REPO", &store).args([
        "get",
        "--raw",
        "qplan",
        "conditioned",
    ]));
    assert_eq!(by_store, want);
    assert_eq!(by_repo, want);
    assert_eq!(by_env, want);
    // --repo is no longer in the help; --store is.
    sb.cmd("qsnap")
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--store <DIR>"))
        .stdout(predicate::str::contains("--repo").not());
}

#[test]
fn qsnap_get_writes_a_file_with_o_and_nothing_on_failure() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let small = fixture("qplan/small.in");
    put(&sb, &store, "conditioned", &small);
    let out = sb.path().join("plan.txt");
    let printed = ok(sb
        .cmd("qsnap")
        .arg("--store")
        .arg(&store)
        .args(["get", "-o"])
        .arg(&out)
        .args(["qplan", "conditioned"]));
    assert!(printed.is_empty(), "{}", String::from_utf8_lossy(&printed));
    // With the provenance: what stdout gets.
    assert_eq!(
        std::fs::read(&out).unwrap(),
        ok(sb
            .cmd("qsnap")
            .arg("--store")
            .arg(&store)
            .args(["get", "qplan", "conditioned"]))
    );
    // The stored bytes alone (--raw): the file that was put.
    ok(sb
        .cmd("qsnap")
        .arg("--store")
        .arg(&store)
        .args(["get", "--raw", "qplan", "conditioned", "-o"])
        .arg(&out));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&small).unwrap());
    // An unknown resource: an error, and the file is left as it was.
    std::fs::write(&out, "before\n").unwrap();
    sb.cmd("qsnap")
        .arg("--store")
        .arg(&store)
        .args(["get", "--output"])
        .arg(&out)
        .args(["qplan", "results"])
        .assert()
        .failure()
        .stdout("");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "before\n");
}

#[test]
fn qwhatif_f_is_the_format_and_s_the_script() {
    let sb = Sandbox::new();
    let small = fixture("qplan/small.in");
    sb.write("cut.whatif", "drop W1\n");
    let inline = ok(sb.cmd("qwhatif").args(["-f", "csv", "drop W1"]).arg(&small));
    // CSV, as --format csv gives it.
    assert!(inline.starts_with(b"list,id,name,before,after,"));
    assert_eq!(
        inline,
        ok(sb
            .cmd("qwhatif")
            .args(["--format", "csv", "drop W1"])
            .arg(&small))
    );
    // The same change from a script: -s, --script, and the old --file.
    for flag in ["-s", "--script", "--file"] {
        assert_eq!(
            ok(sb
                .cmd("qwhatif")
                .args([flag, "cut.whatif", "-f", "csv"])
                .arg(&small)),
            inline,
            "{flag}"
        );
    }
    // compare and explain take -f too.
    let table = ok(sb
        .cmd("qwhatif")
        .args(["compare", "-s", "cut.whatif", "-f", "json"])
        .arg(&small));
    serde_json::from_slice::<serde_json::Value>(&table).expect("JSON");
    let why = ok(sb
        .cmd("qwhatif")
        .args(["explain", "W1", "-f", "json"])
        .arg(&small));
    serde_json::from_slice::<serde_json::Value>(&why).expect("JSON");
    // compare, explain and show write a file with -o, as the others do.
    let out = sb.path().join("table.json");
    ok(sb
        .cmd("qwhatif")
        .args(["compare", "-s", "cut.whatif", "-f", "json", "-o"])
        .arg(&out)
        .arg(&small));
    assert_eq!(std::fs::read(&out).unwrap(), table);
    let out = sb.path().join("why.json");
    ok(sb
        .cmd("qwhatif")
        .args(["explain", "W1", "-f", "json", "--output"])
        .arg(&out)
        .arg(&small));
    assert_eq!(std::fs::read(&out).unwrap(), why);
    // The old `-f SCRIPT` is now a format: a usage error naming the
    // formats, not a script read as one.
    sb.cmd("qwhatif")
        .args(["-f", "cut.whatif"])
        .arg(&small)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--format"));
}

#[test]
fn a_mistyped_qwhatif_subcommand_is_a_usage_error_that_names_it() {
    let sb = Sandbox::new();
    let small = fixture("qplan/small.in");
    for (typed, meant) in [
        ("comapre", "compare"),
        ("explian", "explain"),
        ("sava", "save"),
        ("lsit", "list"),
        ("serv", "serve"),
    ] {
        sb.cmd("qwhatif")
            .arg(typed)
            .arg(&small)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(format!("did you mean {meant}?")));
    }
    // Without an input argument too (stdin is not read).
    sb.cmd("qwhatif")
        .arg("comapre")
        .write_stdin(fixture_text("qplan/small.in"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean compare?"));
    // A misspelt change is still a script error, with its suggestions.
    sb.cmd("qwhatif")
        .args(["edn 2014-02-28"])
        .arg(&small)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("no change is called \"edn\""))
        .stderr(predicate::str::contains("did you mean").not());
}

#[test]
fn qwhatif_store_repo_and_qsnap_repo_name_the_same_store() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    put(&sb, &store, "conditioned", &fixture("qplan/small.in"));
    ok(sb
        .cmd("qwhatif")
        .arg("save")
        .arg("cut")
        .arg("drop W1")
        .arg("--store")
        .arg(&store));
    let listed = |c: &mut Command| String::from_utf8(ok(c)).unwrap();
    let a = listed(sb.cmd("qwhatif").args(["list", "--store"]).arg(&store));
    let b = listed(sb.cmd("qwhatif").args(["list", "--repo"]).arg(&store));
    let c = listed(sb.cmd("qwhatif").arg("list").env("QSNAP_REPO", &store));
    assert!(
        a.lines().nth(1).is_some_and(|l| l.starts_with("cut ")),
        "{a}"
    );
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn qplan_takes_the_html_trend_from_qsnap_repo_and_reports_its_input() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    let small = fixture("qplan/small.in");
    // Two stored versions of the results: the first from small.in, the
    // newest from small.in ending a week later.
    let first = sb.path().join("first.results");
    std::fs::write(&first, ok(sb.cmd("qplan").arg(&small))).unwrap();
    let later = sb.write(
        "later.in",
        fixture_text("qplan/small.in")
            .replace("\t2013-10-07\t2013-10-18\t", "\t2013-10-07\t2013-10-25\t"),
    );
    let newest = sb.path().join("newest.results");
    std::fs::write(&newest, ok(sb.cmd("qplan").arg(&later))).unwrap();
    assert_ne!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&newest).unwrap()
    );
    put(&sb, &store, "results", &first);
    put(&sb, &store, "results", &newest);

    // The first results on stdin, the store from QSNAP_REPO: the page of
    // the first results with the store's trend, as `--store DIR -` gives.
    let from_env = ok(sb
        .cmd("qplan")
        .args(["-f", "html"])
        .env("QSNAP_REPO", &store)
        .pipe_stdin(&first)
        .unwrap());
    let explicit = ok(sb
        .cmd("qplan")
        .args(["-f", "html", "--store"])
        .arg(&store)
        .arg("-")
        .pipe_stdin(&first)
        .unwrap());
    assert_eq!(from_env, explicit);
    // Without the store: no trend, another page.
    let plain = ok(sb
        .cmd("qplan")
        .args(["-f", "html"])
        .pipe_stdin(&first)
        .unwrap());
    assert_ne!(from_env, plain);
    // --store without FILE reports the store's newest: another page still.
    let newest_page = ok(sb.cmd("qplan").args(["-f", "html", "--store"]).arg(&store));
    assert_ne!(from_env, newest_page);
    // The other formats do not read a store: QSNAP_REPO changes nothing.
    assert_eq!(
        ok(sb
            .cmd("qplan")
            .args(["-f", "text"])
            .env("QSNAP_REPO", &store)
            .arg(&first)),
        ok(sb.cmd("qplan").args(["-f", "text"]).arg(&first))
    );
    // A QSNAP_REPO with no store there is said to be that.
    sb.cmd("qplan")
        .args(["-f", "html"])
        .env("QSNAP_REPO", sb.path().join("nowhere"))
        .arg(&first)
        .assert()
        .failure()
        .stdout("")
        .stderr(predicate::str::contains("QSNAP_REPO"));
}

#[test]
fn qwatch_store_repo_and_qsnap_repo_watch_the_same_store() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    put(&sb, &store, "raw", &fixture("qplan/small.in"));
    for (i, how) in ["--store", "--repo", "env"].iter().enumerate() {
        let seen = sb.path().join(format!("seen{i}"));
        let mut c = sb.cmd("qwatch");
        if *how == "env" {
            c.env("QSNAP_REPO", &store);
        } else {
            c.arg(how).arg(&store);
        }
        c.arg("--state")
            .arg(sb.path().join(format!("cp{i}")))
            .args(["--once", "qplan", "raw", "--", "sh", "-c"])
            .arg(r#"printf %s "$QWATCH_RESOURCE" > "$0""#)
            .arg(&seen);
        ok(&mut c);
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap(),
            "qplan raw",
            "{how}"
        );
    }
}

#[test]
fn qcondition_m_is_map() {
    let sb = Sandbox::new();
    let out = ok(sb
        .cmd("qcondition")
        .arg("-m")
        .arg(fixture("qcondition/grid.toml"))
        .arg(fixture("qcondition/grid.raw.txt")));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        fixture_text("qcondition/grid.expected")
    );
}
