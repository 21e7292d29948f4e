//! The systemd user units of contrib/systemd/ (issue 19): installed by
//! `make install-units` (part of `make install`) with the bin directory
//! filled in, and accepted by `systemd-analyze verify` (skipped, loudly,
//! where systemd-analyze is not installed). Each restarts on failure,
//! logs to the journal and stops cleanly on SIGTERM.

use std::path::Path;
use std::process::Command;

const UNITS: [&str; 3] = [
    "qsnap-serve.service",
    "qwatch@.service",
    "qwhatif-serve.service",
];

#[test]
fn units_are_installed_with_the_bin_dir_and_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bins = Path::new(env!("CARGO_BIN_EXE_qplan")).parent().unwrap();
    let prefix = tempfile::tempdir().unwrap();
    let out = Command::new("make")
        .current_dir(root)
        .args(["--no-print-directory", "install-units"])
        .arg(format!("PREFIX={}", prefix.path().display()))
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The commands where the units say they are.
    let bin = prefix.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in ["qsnap", "qwatch", "qwhatif"] {
        std::os::unix::fs::symlink(bins.join(tool), bin.join(tool)).unwrap();
    }
    let dir = prefix.path().join("share/systemd/user");
    for unit in UNITS {
        let text = std::fs::read_to_string(dir.join(unit)).unwrap();
        assert!(!text.contains("@BINDIR@"), "{unit}");
        let exec = text
            .lines()
            .find(|l| l.starts_with("ExecStart="))
            .unwrap_or_else(|| panic!("{unit}: no ExecStart"));
        assert!(
            exec.starts_with(&format!("ExecStart={}/q", bin.display())),
            "{unit}: {exec}"
        );
        for line in [
            "Restart=on-failure",
            "StandardOutput=journal",
            "StandardError=journal",
            "KillSignal=SIGTERM",
            "WantedBy=default.target",
        ] {
            assert!(text.lines().any(|l| l == line), "{unit}: no {line}");
        }
        // A usage error does not mend by restarting.
        assert!(
            text.lines()
                .any(|l| l.starts_with("RestartPreventExitStatus=") && l.contains('2')),
            "{unit}"
        );
    }
    // qwatch ends with 130 on SIGTERM: a clean stop for its unit.
    let qwatch = std::fs::read_to_string(dir.join("qwatch@.service")).unwrap();
    assert!(qwatch.lines().any(|l| l == "SuccessExitStatus=130"));

    let analyze = match Command::new("systemd-analyze").arg("--version").output() {
        Ok(o) if o.status.success() => "systemd-analyze",
        _ => {
            eprintln!("SKIPPED: systemd-analyze verify of contrib/systemd: systemd-analyze is not installed");
            return;
        }
    };
    // An instance of the template, as `systemctl --user start qwatch@plan`
    // makes it.
    std::fs::copy(dir.join("qwatch@.service"), dir.join("qwatch@plan.service")).unwrap();
    // The user manager needs a runtime directory; a private one.
    let runtime = tempfile::tempdir().unwrap();
    let out = Command::new(analyze)
        .current_dir(&dir)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args(["verify", "--user", "--man=no"])
        .args([
            "qsnap-serve.service",
            "qwatch@plan.service",
            "qwhatif-serve.service",
        ])
        .output()
        .expect("run systemd-analyze");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {said}");
    // It warns (and still exits 0) on a line it ignores: none may be ours.
    for unit in ["qsnap-serve", "qwatch@", "qwhatif-serve"] {
        assert!(!said.contains(unit), "systemd-analyze verify: {said}");
    }
}
