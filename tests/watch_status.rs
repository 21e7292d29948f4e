//! `qwatch --status`: what each rule last did and when, read from what the
//! runs left beside their checkpoints (issue 19).

use std::path::Path;
use std::process::Output;

use crate::util::Sandbox;

fn run(sb: &Sandbox, tool: &str, args: &[&str]) -> Output {
    let mut c = sb.cmd(tool);
    c.env("QSNAP_FSYNC", "0").args(args);
    c.output().expect("run")
}

/// Puts `content` as `qplan STAGE`; the commit.
fn put(sb: &Sandbox, stage: &str, content: &str) -> String {
    let file = sb.write(&format!("{stage}.txt"), content);
    let out = run(
        sb,
        "qsnap",
        &[
            "--store",
            "store",
            "-q",
            "put",
            "qplan",
            stage,
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn text(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A UTC time as the status shows it, in seconds since the epoch.
fn secs(shown: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(shown)
        .unwrap_or_else(|e| panic!("{shown:?}: {e}"))
        .timestamp()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The value after `key` in the block of `rule`.
fn field<'a>(status: &'a str, rule: &str, key: &str) -> &'a str {
    let block = status
        .split("\n\n")
        .find(|b| b.lines().next() == Some(rule))
        .unwrap_or_else(|| panic!("no rule {rule:?} in:\n{status}"));
    block
        .lines()
        .find_map(|l| l.strip_prefix(&format!("  {key}")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} for {rule:?} in:\n{block}"))
}

#[test]
fn status_says_what_each_rule_last_did_and_when() {
    let sb = Sandbox::new();
    let raw = put(&sb, "raw", "=====a\n\tx\n=====end\n");
    let conditioned = put(&sb, "conditioned", "=====b\n\ty\n=====end\n");
    // Nothing ran yet: no rule to report, said plainly.
    let none = run(&sb, "qwatch", &["--store", "store", "--status"]);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no rule has run here"));

    let before = now();
    let ok = run(
        &sb,
        "qwatch",
        &["--store", "store", "--once", "qplan", "raw", "--", "true"],
    );
    assert!(ok.status.success());
    let failing = ["sh", "-c", "echo boom >&2; exit 3"];
    let mut args = vec!["--store", "store", "--once", "qplan", "conditioned", "--"];
    args.extend(failing);
    let bad = run(&sb, "qwatch", &args);
    assert_eq!(bad.status.code(), Some(75));
    let after = now();

    // Every rule that ran, from the store's qwatch/ directory.
    let all = run(&sb, "qwatch", &["--store", "store", "--status"]);
    let status = text(&all);
    // A rule whose last run failed makes the answer "no" (1).
    assert_eq!(all.status.code(), Some(1), "{status}");
    assert!(
        String::from_utf8_lossy(&all.stderr).contains("the last run failed for qplan conditioned")
    );

    assert_eq!(
        field(&status, "qplan raw", "last run"),
        format!(
            "ok on qplan raw {}, ended {}",
            &raw[..12],
            field(&status, "qplan raw", "last run")
                .split(", ended ")
                .nth(1)
                .unwrap()
        )
    );
    assert_eq!(field(&status, "qplan raw", "command"), "true");
    assert_eq!(
        field(&status, "qplan raw", "processed"),
        format!("qplan raw {}", &raw[..12])
    );
    assert!(
        field(&status, "qplan conditioned", "last run").starts_with(&format!(
            "failed (exit status 3) on qplan conditioned {}, ended ",
            &conditioned[..12]
        ))
    );
    assert_eq!(
        field(&status, "qplan conditioned", "command"),
        "sh -c 'echo boom >&2; exit 3'"
    );
    // A failure does not move the checkpoint.
    assert_eq!(
        field(&status, "qplan conditioned", "processed"),
        "nothing yet"
    );
    // When: between the test's clock before and after the runs.
    for rule in ["qplan raw", "qplan conditioned"] {
        let started = secs(field(&status, rule, "started"));
        let ended_text = field(&status, rule, "last run")
            .split(", ended ")
            .nth(1)
            .unwrap();
        let ended = secs(ended_text.split(' ').next().unwrap());
        assert!(
            before <= started && started <= ended && ended <= after,
            "{rule}: {status}"
        );
        assert!(ended_text.contains(" s ago)"), "{ended_text}");
    }
    let cp = field(&status, "qplan raw", "checkpoint");
    assert!(
        Path::new(cp).starts_with(sb.path().join("store/qwatch")),
        "{cp}"
    );

    // One rule, named as it runs: only it, and all is well (0).
    let one = run(
        &sb,
        "qwatch",
        &["--store", "store", "--status", "qplan", "raw", "--", "true"],
    );
    assert_eq!(one.status.code(), Some(0));
    assert!(text(&one).starts_with("qplan raw\n"));
    assert!(!text(&one).contains("conditioned"));

    // The failing rule succeeds on a new head: its status follows.
    let conditioned2 = put(&sb, "conditioned", "=====b\n\tz\n=====end\n");
    let fixed = run(
        &sb,
        "qwatch",
        &[
            "--store",
            "store",
            "--once",
            "qplan",
            "conditioned",
            "--",
            "sh",
            "-c",
            "echo boom >&2; exit 3",
        ],
    );
    assert_eq!(fixed.status.code(), Some(75));
    let ok2 = run(
        &sb,
        "qwatch",
        &[
            "--store",
            "store",
            "--state",
            "cp2",
            "--once",
            "qplan",
            "conditioned",
            "--",
            "true",
        ],
    );
    assert!(ok2.status.success());
    let two = run(&sb, "qwatch", &["--state", "cp2", "--status"]);
    assert_eq!(two.status.code(), Some(0), "{}", text(&two));
    assert_eq!(
        field(&text(&two), "qplan conditioned", "processed"),
        format!("qplan conditioned {}", &conditioned2[..12])
    );
}

#[test]
fn status_of_a_chain_file_lists_its_rules() {
    let sb = Sandbox::new();
    put(&sb, "raw", "=====a\n\tx\n=====end\n");
    sb.write(
        "chain.toml",
        "[[rule]]\nname = \"first\"\nwatch = [\"qplan raw\"]\ncommand = [\"true\"]\n\n\
         [[rule]]\nname = \"second\"\nwatch = [\"qplan results\"]\ncommand = [\"true\"]\n",
    );
    let once = run(
        &sb,
        "qwatch",
        &["--store", "store", "--config", "chain.toml", "--once"],
    );
    assert!(
        once.status.success(),
        "{}",
        String::from_utf8_lossy(&once.stderr)
    );
    let out = run(
        &sb,
        "qwatch",
        &["--store", "store", "--config", "chain.toml", "--status"],
    );
    assert_eq!(out.status.code(), Some(0));
    let status = text(&out);
    assert!(
        field(&status, "first", "last run").starts_with("ok on qplan raw "),
        "{status}"
    );
    // The second has nothing to watch yet: it never ran.
    assert!(
        status.contains("\n\nsecond\n  last run    none recorded\n  processed   nothing yet\n"),
        "{status}"
    );
}
