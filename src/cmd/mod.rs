//! One module per command: its arguments and the wiring, nothing more.
//! May use: every room; no room but `cli` uses it.
//!
//! One module per command: its `Args` (clap derive; the doc comments are the
//! help text and the man page) and its `run`.

pub mod qcondition;
pub mod qplan;
pub mod qpull;
pub mod qsnap;
pub mod qwatch;
pub mod qwhatif;
pub mod qwhatif_solve;

/// `--help` footer shared by every command: the exit codes of SPEC section 8.
pub const AFTER_HELP: &str = crate::error::exit::TABLE;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command and subcommand, with its path (`qwhatif compare`).
    fn all() -> Vec<(String, clap::Command)> {
        fn walk(path: String, c: clap::Command, out: &mut Vec<(String, clap::Command)>) {
            for s in c.get_subcommands() {
                walk(format!("{path} {}", s.get_name()), s.clone(), out);
            }
            out.push((path, c));
        }
        let mut out = Vec::new();
        for c in [
            super::qpull::Args::command(),
            super::qsnap::Args::command(),
            super::qcondition::Args::command(),
            super::qplan::Args::command(),
            super::qwhatif::Args::command(),
            super::qwatch::Args::command(),
        ] {
            let mut c = c;
            c.build();
            walk(c.get_name().to_owned(), c, &mut out);
        }
        out
    }

    /// A flag means the same in every command: `-f` is `--format`, `-o` is
    /// `--output` (a file written whole), the store is `--store` with
    /// QSNAP_REPO, and the old `--repo` is no longer shown anywhere.
    #[test]
    fn flags_mean_the_same_in_every_command() {
        let mut stores = 0;
        for (path, c) in all() {
            for a in c.get_arguments() {
                let long = a.get_long();
                let short = a.get_short();
                let both = (short, long);
                match both {
                    (Some('f'), l) => assert_eq!(l, Some("format"), "{path}: -f"),
                    (s, Some("format")) => assert_eq!(s, Some('f'), "{path}: --format"),
                    (Some('o'), l) => assert_eq!(l, Some("output"), "{path}: -o"),
                    (s, Some("output")) => assert_eq!(s, Some('o'), "{path}: --output"),
                    _ => {}
                }
                assert_ne!(long, Some("repo"), "{path}: --repo is --store now");
                if long == Some("store") {
                    stores += 1;
                    // qplan reads QSNAP_REPO itself (it adds the trend
                    // only; see its --store).
                    if !path.starts_with("qplan") {
                        assert_eq!(
                            a.get_env().and_then(|e| e.to_str()),
                            Some("QSNAP_REPO"),
                            "{path}: --store"
                        );
                    }
                }
                let visible: Vec<&str> = a.get_visible_aliases().unwrap_or_default();
                assert!(!visible.contains(&"repo"), "{path}: --repo shown");
            }
        }
        // qsnap (global), qplan, qwatch, qwhatif save/list/show/drop/apply/serve.
        assert!(stores >= 9, "{stores}");
    }

    /// `qsnap get` and qwhatif's reports write a file (`-o`) like every
    /// other command that writes data.
    #[test]
    fn commands_that_write_data_have_output() {
        let all = all();
        for name in [
            "qpull",
            "qcondition",
            "qplan",
            "qwhatif",
            "qsnap get",
            "qwhatif compare",
            "qwhatif explain",
            "qwhatif show",
        ] {
            let (_, c) = all.iter().find(|(p, _)| p == name).expect(name);
            assert!(
                c.get_arguments()
                    .any(|a| a.get_long() == Some("output") && a.get_short() == Some('o')),
                "{name} has no -o/--output"
            );
        }
    }
}
