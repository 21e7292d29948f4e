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
