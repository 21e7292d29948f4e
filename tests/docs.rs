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

/// The file formats have pages of their own, section 5, from `doc/man5/`
/// (issue 19: `man 5 qplan-stream` said "No manual entry").
#[test]
fn the_file_formats_have_section_5_pages() {
    let files = qplan::docs::files().expect("render docs");
    let page = |name: &str| {
        let (_, text) = files
            .iter()
            .find(|(p, _)| p == &format!("man/{name}.5"))
            .unwrap_or_else(|| panic!("no section-5 page {name}"));
        String::from_utf8_lossy(text).into_owned()
    };
    let stream = page("qplan-stream");
    assert!(stream.starts_with(".TH qplan-stream 5 "), "{stream:.80}");
    for header in [
        "qplan params v1",
        "qplan holidays v1",
        "qplan staff v1",
        "qplan work v1",
        "qplan track manpower v1",
        "qplan track\\-triage demand v1",
        "qplan track\\-skill staff v1",
        "qplan track work v1",
        "qsnap provenance v1",
        "=====end",
    ] {
        assert!(stream.contains(header), "qplan-stream(5) lacks {header}");
    }
    // The map's keys come from the one place they are written down.
    let map = page("qcondition-map");
    for key in [
        "id_prefix",
        "records",
        "stop",
        "rename",
        "skip",
        "estimates",
    ] {
        assert!(map.contains(key), "qcondition-map(5) lacks {key}");
    }
    let sources = page("qpull-sources");
    for key in ["min_rows", "max_bytes", "page_size", "${file:"] {
        assert!(sources.contains(key), "qpull-sources(5) lacks {key}");
    }
    let chain = page("qwatch-chain");
    for key in ["on_busy", "debounce", "every", "state", "QWATCH_COMMIT"] {
        assert!(chain.contains(key), "qwatch-chain(5) lacks {key}");
    }
    for (name, _) in qplan::docs::FORMATS {
        assert!(page(name).contains(".SH \"SEE ALSO\""), "{name}(5)");
    }
}

/// Users have the README, `--help` and the man pages, not the project's
/// specification: none of them may send the reader to "SPEC section N"
/// (issue 19). Code comments may; strings in code may not (they are
/// error messages); the help text is in the generated man pages.
#[test]
fn nothing_a_user_reads_cites_the_spec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut paths = vec![root.join("README.md")];
    for dir in ["doc", "man", "completions", "src", "examples"] {
        walk(&root.join(dir), &mut paths);
    }
    walk(&root.join("fixtures"), &mut paths);
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // an image
        };
        let is_code = path.extension().is_some_and(|e| e == "rs");
        for (n, line) in text.lines().enumerate() {
            // Comments are the developers'; help text is checked in man/,
            // which is generated from it (and checked to be current).
            if is_code && line.trim_start().starts_with("//") {
                continue;
            }
            if line.contains("SPEC section") || line.contains("SPEC.md") {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// `make install` puts the six commands, every man page (sections 1 and
/// 5) and the completions where the system looks, under DESTDIR/PREFIX;
/// `make uninstall` removes exactly that and nothing else.
#[test]
fn make_install_and_uninstall() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bins = Path::new(env!("CARGO_BIN_EXE_qplan")).parent().unwrap();
    let dest = tempfile::tempdir().unwrap();
    // Something of someone else's under the prefix, which must stay.
    let theirs = dest.path().join("opt/q/share/man/man1/other.1");
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    std::fs::write(&theirs, "x").unwrap();
    let make = |target: &str| {
        let out = std::process::Command::new("make")
            .current_dir(root)
            .args(["--no-print-directory", target])
            .arg(format!("DESTDIR={}", dest.path().display()))
            .arg("PREFIX=/opt/q")
            // The commands of this test build; no cargo build from make.
            .arg(format!("RELEASE={}", bins.display()))
            .arg("CARGO=/nonexistent/cargo")
            .output()
            .expect("run make");
        assert!(
            out.status.success(),
            "make {target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    make("install");
    let p = dest.path().join("opt/q");
    let mut want = Vec::new();
    for tool in ["qpull", "qsnap", "qcondition", "qplan", "qwhatif", "qwatch"] {
        want.push(format!("bin/{tool}"));
        want.push(format!("share/bash-completion/completions/{tool}"));
        want.push(format!("share/zsh/site-functions/_{tool}"));
        want.push(format!("share/fish/vendor_completions.d/{tool}.fish"));
    }
    for (path, _) in qplan::docs::files().unwrap() {
        if let Some(page) = path.strip_prefix("man/") {
            let section = &page[page.len() - 1..];
            want.push(format!("share/man/man{section}/{page}"));
        }
    }
    want.push("share/man/man1/other.1".into());
    // The systemd user units (contrib/systemd/).
    for unit in [
        "qsnap-serve.service",
        "qwatch@.service",
        "qwhatif-serve.service",
    ] {
        want.push(format!("share/systemd/user/{unit}"));
    }
    want.sort();
    let mut got = Vec::new();
    fn files(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                files(&e.path(), base, out);
            } else {
                out.push(
                    e.path()
                        .strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    files(&p, &p, &mut got);
    got.sort();
    assert_eq!(got, want);
    assert!(want.contains(&"share/man/man5/qplan-stream.5".to_string()));
    // The installed command runs.
    let out = std::process::Command::new(p.join("bin/qplan"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(p.join("share/man/man5/qplan-stream.5"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    // man finds the pages from the bin directory on PATH, as it will for
    // PREFIX=~/.local (skipped, loudly, where man-db is not installed).
    let man = std::process::Command::new("man")
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", p.join("bin").display()))
        .env("HOME", dest.path())
        .args(["-w", "5", "qplan-stream"])
        .output();
    match man {
        Ok(out) => assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            p.join("share/man/man5/qplan-stream.5")
                .display()
                .to_string(),
            "man -w 5 qplan-stream: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("SKIPPED: man -w after make install: no man command ({e})"),
    }
    make("uninstall");
    let mut left = Vec::new();
    files(&p, &p, &mut left);
    assert_eq!(left, vec!["share/man/man1/other.1".to_string()]);
}

/// `make demo` brings what the build needs on a fresh Debian machine (a C
/// compiler and cmake, issue 19: the nng build failed without cmake), but
/// not chromium, which only a test needs.
#[test]
fn make_demo_installs_what_the_build_needs_and_no_more() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("make")
        .current_dir(root)
        .args(["-n", "demo"])
        .output()
        .expect("run make");
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{plan}");
    assert!(plan.contains("command -v cmake"), "{plan}");
    assert!(plan.contains("install -y -qq cmake"), "{plan}");
    assert!(plan.contains("command -v cc"), "{plan}");
    assert!(!plan.contains("chromium"), "{plan}");
    // The order: the tools before the build that needs them.
    assert!(plan.find("cmake").unwrap() < plan.find("build --release").unwrap());
}

/// On a machine without cmake, `make build-deps` (what `make demo` and
/// `make build` run first) installs it with apt-get: run with a PATH that
/// has no cmake and a stand-in apt-get that records what it is asked.
#[test]
fn make_build_deps_installs_cmake_where_it_is_missing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in ["sh", "env", "id", "cc", "sed"] {
        let Some(found) = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
        else {
            eprintln!("SKIPPED: no {tool} on this machine");
            return;
        };
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let log = dir.path().join("apt.log");
    let apt = bin.join("apt-get");
    std::fs::write(
        &apt,
        format!("#!/bin/sh\necho \"$*\" >> {}\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&apt, std::fs::Permissions::from_mode(0o755)).unwrap();
    // make itself from this PATH; the recipes see only the stand-ins.
    let make = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join("make"))
        .find(|p| p.exists())
        .expect("make on PATH");
    let out = std::process::Command::new(make)
        .current_dir(root)
        .args(["--no-print-directory", "build-deps", "APT=apt-get"])
        .env_clear()
        .env("PATH", &bin)
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let asked = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(asked.contains("install -y -qq cmake"), "{asked}");
    assert!(!asked.contains("build-essential"), "cc is there: {asked}");
    assert!(!asked.contains("chromium"), "{asked}");
}
