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
