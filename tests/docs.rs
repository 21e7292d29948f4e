//! The committed man pages and completions are what `make docs` generates
//! from the clap definitions today.

use std::path::Path;

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = qplan::docs::files().expect("render docs");
    assert!(
        files.len() >= 6 * 4,
        "one man page and three completions per tool"
    );
    for (path, want) in files {
        let got = std::fs::read(root.join(&path)).unwrap_or_default();
        assert!(
            got == want,
            "{path} is stale or missing: run `make docs` and commit the result"
        );
    }
}

/// Many Rust users set CARGO_TARGET_DIR globally; the Makefile used to
/// assume `target/release` and `make demo` failed for them.
#[test]
fn the_makefile_finds_binaries_under_cargo_target_dir() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("make")
        .current_dir(root)
        .args(["-n", "demo"])
        .env("CARGO_TARGET_DIR", "/elsewhere/build")
        .output()
        .expect("run make");
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{plan}");
    assert!(plan.contains("/elsewhere/build/release/qsnap"), "{plan}");
    assert!(!plan.contains("target/release"), "{plan}");
}

/// A man page says what `--help` does not: formats, environment, files,
/// exit status, examples, related commands (issue 10). `man qcondition`
/// used to point at a README that is not installed; it carries the map.
#[test]
fn man_pages_have_the_sections_a_man_page_should() {
    let files = qplan::docs::files().expect("render docs");
    let page = |name: &str| {
        let (_, text) = files
            .iter()
            .find(|(p, _)| p == &format!("man/{name}.1"))
            .unwrap_or_else(|| panic!("no page for {name}"));
        String::from_utf8_lossy(text).into_owned()
    };
    for tool in ["qpull", "qsnap", "qcondition", "qplan"] {
        let text = page(tool);
        for section in [
            "ENVIRONMENT",
            "FILES",
            "EXIT STATUS",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                text.contains(&format!(".SH \"{section}\"")),
                "man {tool} lacks {section}"
            );
        }
        assert!(
            text.contains("75: temporary failure"),
            "man {tool}: exit codes"
        );
    }
    let qcondition = page("qcondition");
    for key in [
        "id_prefix",
        "records",
        "stop",
        "rename",
        "skip",
        "default",
        "estimates",
    ] {
        assert!(
            qcondition.contains(key),
            "man qcondition lacks the map key {key}"
        );
    }
    assert!(page("qsnap-get").contains("@SECONDS"));
    assert!(page("qsnap-put").contains(".SH \"EXIT STATUS\""));
}
