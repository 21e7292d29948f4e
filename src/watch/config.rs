//! What a watcher is asked to do: one rule per command (its resources, its
//! command, its policy), from the command line or from a chain file
//! (`--config chain.toml`) that describes several rules run in one process.
//!
//! ```toml
//! [[rule]]
//! name = "condition"                 # used in messages and the checkpoint's name
//! watch = ["qplan raw"]              # resources; may be empty when `every` is set
//! command = ["sh", "-c", "qsnap get qplan raw | qcondition --map map.toml | qsnap put qplan conditioned"]
//! on_busy = "queue"                  # queue (default), restart, drop
//! debounce = "50ms"                  # optional
//! every = "15m"                      # optional
//! state = "checkpoints/condition"    # optional; relative to the chain file
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::duration;
use crate::error::{parse_toml, Error, Location, Result};
use crate::snap::Resource;

/// What to do with a new head while the command still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnBusy {
    /// Let it finish, then run once more against the newest head.
    #[default]
    Queue,
    /// Stop it (SIGTERM to its process group, SIGKILL after the grace
    /// period) and start again against the newest head.
    Restart,
    /// Let it finish and skip the puts made meanwhile.
    Drop,
}

/// One rule, validated.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub name: String,
    pub watch: Vec<Resource>,
    pub command: Vec<String>,
    pub on_busy: OnBusy,
    pub debounce: Duration,
    pub every: Option<Duration>,
    /// The checkpoint file; `None` for the default place.
    pub state: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    #[serde(default)]
    watch: Vec<String>,
    command: Vec<String>,
    #[serde(default)]
    on_busy: OnBusy,
    debounce: Option<String>,
    every: Option<String>,
    state: Option<PathBuf>,
}

/// Reads a chain file. Relative `state` paths are taken from the file's
/// directory, so a chain file means the same from wherever it is run.
pub fn load(path: &Path) -> Result<Vec<RuleSpec>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let mut rules = parse(&text, &path.display().to_string())?;
    let base = path.parent().unwrap_or(Path::new(""));
    for r in &mut rules {
        if let Some(s) = &r.state {
            if s.is_relative() {
                r.state = Some(base.join(s));
            }
        }
    }
    Ok(rules)
}

/// Parses and checks a chain file's text; `shown` names it in errors.
pub fn parse(text: &str, shown: &str) -> Result<Vec<RuleSpec>> {
    let file: File = parse_toml(text, shown.to_owned())?;
    if file.rule.is_empty() {
        return Err(Error::data(
            Location::section(shown),
            "no [[rule]]: a chain file describes at least one rule",
        ));
    }
    let mut rules: Vec<RuleSpec> = Vec::new();
    for (i, raw) in file.rule.into_iter().enumerate() {
        let name = raw.name.unwrap_or_else(|| format!("rule {}", i + 1));
        let at = || Location::section(format!("{shown}, rule {name:?}"));
        let bad = |m: String| Error::data(at(), m);
        if name.is_empty() || name.contains(['\n', '\t', '/']) {
            return Err(bad(format!(
                "name {name:?}: give a name without / or control characters"
            )));
        }
        if rules.iter().any(|r| r.name == name) {
            return Err(bad("two rules have this name".into()));
        }
        let mut watch = Vec::new();
        for w in &raw.watch {
            let res = Resource::parse(w)
                .ok_or_else(|| bad(format!("watch {w:?} is not a resource `<app> <stage>`")))?;
            if !watch.contains(&res) {
                watch.push(res);
            }
        }
        if raw.command.first().is_none_or(String::is_empty) {
            return Err(bad("command is empty".into()));
        }
        let dur = |field: &str, v: &Option<String>| -> Result<Option<Duration>> {
            v.as_deref()
                .map(|s| duration::parse(s).map_err(|m| bad(format!("{field}: {m}"))))
                .transpose()
        };
        let debounce = dur("debounce", &raw.debounce)?.unwrap_or(Duration::ZERO);
        let every = dur("every", &raw.every)?;
        if every == Some(Duration::ZERO) {
            return Err(bad("every: must be longer than zero".into()));
        }
        if watch.is_empty() && every.is_none() {
            return Err(bad(
                "watch nothing and no `every`: this rule would never run".into(),
            ));
        }
        rules.push(RuleSpec {
            name,
            watch,
            command: raw.command,
            on_busy: raw.on_busy,
            debounce,
            every,
            state: raw.state,
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_rules() {
        let rules = parse(
            r#"
[[rule]]
name = "condition"
watch = ["qplan raw"]
command = ["sh", "-c", "true"]

[[rule]]
watch = ["qplan conditioned", "qplan raw"]
command = ["true"]
on_busy = "restart"
debounce = "20ms"
every = "1h"
"#,
            "chain.toml",
        )
        .expect("valid");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].name, "condition");
        assert_eq!(rules[0].on_busy, OnBusy::Queue);
        assert_eq!(rules[1].name, "rule 2");
        assert_eq!(rules[1].watch.len(), 2);
        assert_eq!(rules[1].on_busy, OnBusy::Restart);
        assert_eq!(rules[1].debounce, Duration::from_millis(20));
        assert_eq!(rules[1].every, Some(Duration::from_secs(3600)));
    }

    #[test]
    fn errors_name_the_rule_and_line() {
        let e = parse(
            "[[rule]]\nwatch = [\"qplan\"]\ncommand = [\"x\"]\n",
            "c.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("rule \"rule 1\""), "{e}");
        assert_eq!(e.exit_code(), 65);
        let e = parse(
            "[[rule]]\nwatch = [\"qplan raw\"]\ncomand = [\"x\"]\n",
            "c.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let e = parse("", "c.toml").unwrap_err();
        assert!(e.to_string().contains("no [[rule]]"), "{e}");
        let e = parse("[[rule]]\ncommand = [\"x\"]\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("never run"), "{e}");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s, "p.toml");
        }

        #[test]
        fn never_panics_on_rule_shapes(
            name in "\\PC{0,10}",
            watch in "\\PC{0,20}",
            cmd in "\\PC{0,10}",
            every in "\\PC{0,6}",
        ) {
            let text = format!(
                "[[rule]]\nname = {name:?}\nwatch = [{watch:?}]\ncommand = [{cmd:?}]\nevery = {every:?}\n"
            );
            let _ = parse(&text, "p.toml");
        }
    }
}
