//! Resource names (SPEC section 7): `<app> <stage>`, each part
//! `[a-z0-9][a-z0-9_-]*` of at most 64 characters, checked before anything
//! touches the repository.

use std::fmt;

use crate::error::{Error, Result};

/// The longest name part SPEC section 7 allows.
pub const MAX_LEN: usize = 64;

/// A stored resource, such as `qplan raw`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource {
    pub app: String,
    pub stage: String,
}

impl Resource {
    /// Checks both parts; a bad name is a usage error (exit 2).
    pub fn new(app: &str, stage: &str) -> Result<Self> {
        check("APP", app)?;
        check("STAGE", stage)?;
        Ok(Resource {
            app: app.to_owned(),
            stage: stage.to_owned(),
        })
    }

    /// Parses `app stage`, as written in provenance lines and trailers.
    pub fn parse(s: &str) -> Option<Self> {
        let (app, stage) = s.split_once(' ')?;
        Resource::new(app, stage).ok()
    }

    /// The file inside the repository: `qplan raw` lives at `raw/qplan.txt`.
    pub fn path(&self) -> String {
        format!("{}/{}.txt", self.stage, self.app)
    }

    /// The resource stored at a repository path, if it is one.
    pub fn from_path(path: &str) -> Option<Self> {
        let (stage, file) = path.split_once('/')?;
        let app = file.strip_suffix(".txt")?;
        Resource::new(app, stage).ok()
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.app, self.stage)
    }
}

/// Checks a tag name before `qsnap tag` makes `refs/tags/NAME`. Revisions
/// are resolved the way git does, tags before branches and names before
/// commit ids, so a tag called `main` would silently replace the branch in
/// every `--at main`, one called `HEAD` the newest commit, and one made of
/// 4 to 40 hex digits a commit id: those are refused (exit 2), as is
/// anything git does not accept as a ref name.
pub fn check_tag(name: &str) -> Result<()> {
    let problem =
        if name.starts_with('-') || !git2::Reference::is_valid_name(&format!("refs/tags/{name}")) {
            "is not a valid tag name"
        } else if name == "main" || name.eq_ignore_ascii_case("head") {
            "would shadow the branch or HEAD of the same name in every revision"
        } else if (4..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            "looks like a commit id, and would shadow the commits it abbreviates"
        } else {
            return Ok(());
        };
    Err(Error::Usage(format!("tag {name:?} {problem}")))
}

/// Checks a name by the rule of resource parts (`[a-z0-9][a-z0-9_-]*`, at
/// most 64 characters); `what` names it in the error (exit 2). Other names
/// kept in the store, such as a what-if scenario's, follow the same rule.
pub fn check(what: &str, name: &str) -> Result<()> {
    const RULE: &str = "a name is lower-case letters, digits, '_' and '-', \
                        starting with a letter or a digit, at most 64 characters";
    let problem = if name.is_empty() {
        "is empty"
    } else if name.len() > MAX_LEN {
        "is longer than 64 characters"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        "has a character that is not allowed"
    } else if !name.as_bytes()[0].is_ascii_alphanumeric() {
        "does not start with a letter or a digit"
    } else {
        return Ok(());
    };
    Err(Error::Usage(format!(
        "{what} name {name:?} {problem} ({RULE})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn good_names_map_to_paths() {
        let r = Resource::new("qplan", "raw").unwrap();
        assert_eq!(r.path(), "raw/qplan.txt");
        assert_eq!(r.to_string(), "qplan raw");
        assert_eq!(Resource::from_path("raw/qplan.txt"), Some(r.clone()));
        assert_eq!(Resource::parse("qplan raw"), Some(r));
        assert!(Resource::new("team-2_x", "0stage").is_ok());
        assert!(Resource::new(&"a".repeat(64), "raw").is_ok());
    }

    #[test]
    fn bad_names_are_usage_errors() {
        for bad in [
            "", "..", "a/b", "a b", "a\0b", "Upper", "-x", "_x", "é", ".git",
        ] {
            let e = Resource::new(bad, "raw").unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
            assert!(e.to_string().starts_with("APP name"), "{e}");
        }
        let long = "a".repeat(65);
        assert!(Resource::new("qplan", &long)
            .unwrap_err()
            .to_string()
            .contains("longer than 64"));
        assert_eq!(Resource::from_path("raw/sub/qplan.txt"), None);
        assert_eq!(Resource::from_path("README"), None);
    }

    #[test]
    fn tags_that_shadow_a_revision_are_refused() {
        for bad in [
            "main",
            "HEAD",
            "head",
            "abcd",
            "0123456789abcdef",
            &"f".repeat(40),
            "-x",
            "a..b",
            "",
        ] {
            let e = check_tag(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
        for good in [
            "q4-baseline",
            "abc",
            "abcg",
            &"f".repeat(41),
            "main2",
            "v1.0",
            "release/main",
        ] {
            assert!(check_tag(good).is_ok(), "{good:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_is_checked_without_panic(app in ".{0,80}", stage in "\\PC{0,80}") {
            if let Ok(r) = Resource::new(&app, &stage) {
                prop_assert!(!r.path().contains(".."));
                prop_assert_eq!(Resource::from_path(&r.path()), Some(r.clone()));
                prop_assert_eq!(Resource::parse(&r.to_string()), Some(r));
            }
        }
    }
}
