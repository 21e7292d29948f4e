//! What every tool does with its output (issue 9, "outputs that never
//! harm"): `-o` on links, FIFOs and devices, file modes, signals, a closed
//! stdout, and usage errors that name the tool. qplan stands for all tools:
//! they share the code in `src/cli/`.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{symlink, FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{fixture, fixture_text, wait_for, Sandbox};

fn expected_results() -> String {
    fixture_text("qplan/small.expected")
}

#[test]
fn o_follows_a_symlink_and_replaces_its_target() {
    let sb = Sandbox::new();
    let real = sb.write("real.txt", "old");
    symlink("real.txt", sb.path().join("link.txt")).unwrap();
    sb.cmd("qplan")
        .args(["-o", "link.txt"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .success();
    let link = fs::symlink_metadata(sb.path().join("link.txt")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is still a link");
    assert_eq!(fs::read_to_string(real).unwrap(), expected_results());
}

#[test]
fn o_writes_into_a_fifo_without_replacing_it() {
    let sb = Sandbox::new();
    let fifo = sb.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        })
    };
    sb.cmd("qplan")
        .args(["-o", "pipe"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .success();
    assert_eq!(reader.join().unwrap(), expected_results());
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn o_on_a_full_device_is_an_io_error_and_leaves_the_node() {
    // Run as root, the old code replaced /dev/full with a regular file.
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    crate::util::cmd("qplan")
        .args(["-o", "/dev/full"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .code(74)
        .stderr(predicates::str::contains("No space left on device"));
    let meta = fs::metadata("/dev/full").unwrap();
    assert!(meta.file_type().is_char_device());
}

#[test]
fn new_files_get_the_umask_mode_and_replaced_files_keep_theirs() {
    let sb = Sandbox::new();
    let run = |umask: &str, out: &str| {
        let status = Command::new("sh")
            .current_dir(sb.path())
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" -o {out} \"$1\""))
            .arg(assert_cmd::cargo::cargo_bin("qplan"))
            .arg(fixture("qplan/small.in"))
            .status()
            .unwrap();
        assert!(status.success());
        fs::metadata(sb.path().join(out))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(run("022", "new.txt"), 0o644);
    assert_eq!(run("027", "other.txt"), 0o640);
    let kept = sb.write("kept.txt", "old");
    fs::set_permissions(&kept, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(run("022", "kept.txt"), 0o600);
}

#[test]
fn o_dash_is_stdout() {
    crate::util::cmd("qplan")
        .args(["-o", "-"])
        .arg(fixture("qplan/small.in"))
        .assert()
        .success()
        .stdout(expected_results());
}

#[test]
fn sigterm_and_sigint_leave_no_temporary_file() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let sb = Sandbox::new();
        let out = sb.write("out.txt", "old");
        // stdin stays open, so qplan waits for input with its temporary
        // file already made.
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("qplan"))
            .current_dir(sb.path())
            .args(["-o", "out.txt"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let entries = || fs::read_dir(sb.path()).unwrap().count();
        wait_for("the temporary file", || entries() == 2);
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert!(!status.success(), "signal {signal} ends the run");
        assert_eq!(entries(), 1, "signal {signal}: only out.txt is left");
        assert_eq!(fs::read_to_string(&out).unwrap(), "old");
    }
}

#[test]
fn a_closed_stdout_is_an_io_error() {
    // The shell closes fd 1 for qplan (`>&-`); Rust's runtime would reopen
    // it on /dev/null and the data would vanish with exit 0.
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" \"$1\" >&-")
        .arg(assert_cmd::cargo::cargo_bin("qplan"))
        .arg(fixture("qplan/small.in"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(74));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("qplan: writing stdout"), "{err}");
}

#[test]
fn usage_errors_name_the_tool() {
    for tool in ["qpull", "qsnap", "qcondition", "qplan"] {
        let out = crate::util::cmd(tool)
            .arg("--no-such-flag")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{tool}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!("{tool}: unexpected argument '--no-such-flag'")),
            "{tool}: {err}"
        );
    }
}
