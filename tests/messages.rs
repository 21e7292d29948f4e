//! Messages that say what is wrong and what to do, where an older one
//! misled a newcomer (issue 19): a missing ipc directory, a store path
//! given as a bus address, raw data fed to qplan. (A mistyped qwhatif
//! subcommand: tests/flags.rs.)

use std::time::Duration;

use predicates::prelude::*;

use crate::util::{fixture, Sandbox};

/// Was "Connection refused (is `qsnap serve` running there?)": the service
/// could never run there, the directory does not exist.
#[test]
fn a_missing_ipc_directory_is_said_to_be_missing() {
    let sb = Sandbox::new();
    let missing = sb.path().join("nodir");
    let url = format!("ipc://{}/rep.sock", missing.display());
    let e = match qplan::bus::Client::connect(&url, None, Duration::from_secs(1)) {
        Ok(_) => panic!("connected to {url}"),
        Err(e) => e,
    };
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "the directory {} does not exist",
            missing.display()
        )),
        "{msg}"
    );
    assert!(!msg.contains("running"), "{msg}");
    assert_eq!(e.exit_code(), 69);
    // The same directory there, no service: then it may just not run.
    let url = format!("ipc://{}/rep.sock", sb.path().display());
    let msg = match qplan::bus::Client::connect(&url, None, Duration::from_secs(1)) {
        Ok(_) => panic!("connected to {url}"),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains("is `qsnap serve` running there?"), "{msg}");

    // The service told to listen there: it says so, and what to do.
    sb.cmd("qsnap")
        .arg("--store")
        .arg(sb.path().join("store"))
        .args(["serve", "--rep"])
        .arg(format!("ipc://{}/rep.sock", missing.display()))
        .arg("--pub")
        .arg(format!("ipc://{}/pub.sock", sb.path().display()))
        .assert()
        .code(69)
        .stderr(predicate::str::contains(format!(
            "binding: the directory {} does not exist; create it first",
            missing.display()
        )))
        .stderr(predicate::str::contains("running").not());
}

/// Was "is not a loopback or ipc address: binding it needs --public".
#[test]
fn a_path_given_as_a_bus_address_is_not_an_nng_address() {
    let sb = Sandbox::new();
    let store = sb.path().join("store");
    std::fs::create_dir(&store).unwrap();
    for args in [
        vec!["qsnap", "serve", "--rep", store.to_str().unwrap()],
        vec!["qsnap", "serve", "--pub", "store"],
        vec![
            "qwatch", "--bus", "store", "--once", "qplan", "raw", "--", "true",
        ],
        vec![
            "qwatch",
            "--events",
            "localhost:5100",
            "qplan",
            "raw",
            "--",
            "true",
        ],
        vec!["qwhatif", "serve", "--bus", "store"],
    ] {
        sb.cmd(args[0])
            .args(&args[1..])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("is not an nng address"))
            .stderr(predicate::str::contains("tcp://HOST:PORT or ipc:///PATH"))
            .stderr(predicate::str::contains("--public").not());
    }
    // A directory is said to be one, with where a store goes.
    sb.cmd("qsnap")
        .args(["serve", "--rep", "store"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a directory: the store is --store DIR",
        ));
    // An unknown transport.
    sb.cmd("qsnap")
        .args(["serve", "--rep", "http://127.0.0.1:5000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("http:// is not an nng transport"));
    // A real address off this machine still needs --public.
    sb.cmd("qsnap")
        .arg("--store")
        .arg(&store)
        .args(["serve", "--rep", "tcp://0.0.0.0:0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--public"));
}

/// Was "section 'qplan params v1': the section is missing".
#[test]
fn raw_data_fed_to_qplan_is_sent_through_qcondition() {
    let sb = Sandbox::new();
    for tool in ["qplan", "qwhatif"] {
        let mut c = sb.cmd(tool);
        if tool == "qwhatif" {
            c.arg("");
        }
        c.arg(fixture("quarter/raw.txt"))
            .assert()
            .code(65)
            .stdout("")
            .stderr(predicate::str::contains(
                "line 1, section 'raw holidays': no qplan input section here",
            ))
            .stderr(predicate::str::contains(
                "raw sections go through qcondition first",
            ))
            .stderr(
                predicate::str::contains("params")
                    .and(predicate::str::contains("missing"))
                    .not(),
            );
    }
    // Conditioned data lacking one section still names that section.
    let small = std::fs::read_to_string(fixture("qplan/small.in")).unwrap();
    let start = small.find("=====qplan holidays v1").unwrap();
    let end = small.find("=====qplan staff v1").unwrap();
    let cut = format!("{}{}", &small[..start], &small[end..]);
    sb.cmd("qplan")
        .write_stdin(cut)
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "section 'qplan holidays v1': the section is missing",
        ))
        .stderr(predicate::str::contains("qcondition first").not());
}
