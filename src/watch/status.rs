//! What a rule last did, for `qwatch --status`: beside each checkpoint
//! (`<checkpoint>.last`) the runner records its last finished run, success
//! or failure, with when it started and ended and the head it ran against.
//! The checkpoint says what was processed; this says what happened last,
//! including the failures the checkpoint never records.
//!
//! The file is a stacked stream of `key<TAB>value` lines, written whole
//! (temporary file, rename) like the checkpoint:
//!
//! ```text
//! =====qwatch last run v1
//! <TAB>rule<TAB>qplan raw
//! <TAB>command<TAB>sh -c 'qsnap get qplan raw | …'
//! <TAB>outcome<TAB>failed (exit status 3)
//! <TAB>resource<TAB>qplan raw
//! <TAB>commit<TAB>4b825dc642cb6eb9a060e54bf8d69288fbee4904
//! <TAB>started<TAB>2026-12-07T05:50:01Z
//! <TAB>ended<TAB>2026-12-07T05:50:02Z
//! =====end
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Location, Result};

const HEADER: &str = "=====qwatch last run v1";

/// The last finished run of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastRun {
    pub rule: String,
    /// The command, shell-quoted.
    pub command: String,
    /// `ok`, or `failed (exit status N)` / `failed (killed by signal N)`.
    pub outcome: String,
    /// The resource and commit it ran against (empty for a timer run with
    /// nothing watched).
    pub resource: String,
    pub commit: String,
    /// UTC, `2026-12-07T05:50:01Z`.
    pub started: String,
    pub ended: String,
}

impl LastRun {
    pub fn ok(&self) -> bool {
        self.outcome == "ok"
    }
}

/// Where the last run of the rule whose checkpoint is `checkpoint` is kept.
pub fn path_for(checkpoint: &Path) -> PathBuf {
    let mut p = checkpoint.as_os_str().to_owned();
    p.push(".last");
    PathBuf::from(p)
}

/// A time as the file keeps it.
pub fn show(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || "?".to_owned(),
            |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// Writes `run` beside `checkpoint`, whole.
pub fn save(checkpoint: &Path, run: &LastRun) -> Result<()> {
    let path = path_for(checkpoint);
    let shown = || format!("writing {}", path.display());
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(shown(), e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".qwatch-last-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(shown(), e))?;
    tmp.write_all(render(run).as_bytes())
        .map_err(|e| Error::io(shown(), e))?;
    tmp.persist(&path)
        .map_err(|e| Error::io(shown(), e.error))?;
    Ok(())
}

/// Reads the last run beside `checkpoint`; `None` when the rule never
/// finished a run (or ran before qwatch kept this).
pub fn load(checkpoint: &Path) -> Result<Option<LastRun>> {
    let path = path_for(checkpoint);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    parse(&text).map(Some).map_err(|(line, message)| {
        Error::data(
            Location::section(format!("last run {}", path.display())).line(line),
            message,
        )
    })
}

/// The file's text. Values are kept on one line: a newline or TAB in one
/// (a command argument) is written as a space.
pub fn render(run: &LastRun) -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for (k, v) in fields(run) {
        let v: String = v
            .chars()
            .map(|c| {
                if c == '\n' || c == '\t' || c == '\r' {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        s.push_str(&format!("\t{k}\t{v}\n"));
    }
    s.push_str("=====end\n");
    s
}

fn fields(run: &LastRun) -> [(&'static str, &str); 7] {
    [
        ("rule", &run.rule),
        ("command", &run.command),
        ("outcome", &run.outcome),
        ("resource", &run.resource),
        ("commit", &run.commit),
        ("started", &run.started),
        ("ended", &run.ended),
    ]
}

/// Reads the file's text; an error is the line number and what is wrong.
pub fn parse(text: &[u8]) -> std::result::Result<LastRun, (u64, String)> {
    let text = std::str::from_utf8(text).map_err(|_| (1, "not UTF-8".to_owned()))?;
    let mut values: BTreeMap<&str, &str> = BTreeMap::new();
    let mut seen_header = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with("=====") {
            match line.trim_end() {
                HEADER if !seen_header => seen_header = true,
                "=====end" if seen_header => {}
                other => return Err((n, format!("unexpected header {other:?}"))),
            }
            continue;
        }
        if !seen_header {
            return Err((n, format!("expected {HEADER:?}")));
        }
        let content = line
            .strip_prefix('\t')
            .ok_or_else(|| (n, "a line must start with a TAB or =====".to_owned()))?;
        let (k, v) = content
            .split_once('\t')
            .ok_or_else(|| (n, "expected `<key><TAB><value>`".to_owned()))?;
        values.insert(k, v);
    }
    if !seen_header {
        return Err((1, format!("expected {HEADER:?}")));
    }
    let get = |k: &str| values.get(k).map_or_else(String::new, |v| (*v).to_owned());
    let run = LastRun {
        rule: get("rule"),
        command: get("command"),
        outcome: get("outcome"),
        resource: get("resource"),
        commit: get("commit"),
        started: get("started"),
        ended: get("ended"),
    };
    if run.outcome.is_empty() {
        return Err((1, "no outcome".to_owned()));
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn saved_and_loaded_beside_the_checkpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cp = dir.path().join("rule-1234.checkpoint");
        assert_eq!(load(&cp).unwrap(), None);
        let run = LastRun {
            rule: "qplan raw".into(),
            command: "sh -c 'exit 3'".into(),
            outcome: "failed (exit status 3)".into(),
            resource: "qplan raw".into(),
            commit: "a".repeat(40),
            started: "2026-12-07T05:50:01Z".into(),
            ended: "2026-12-07T05:50:02Z".into(),
        };
        save(&cp, &run).unwrap();
        assert_eq!(path_for(&cp), dir.path().join("rule-1234.checkpoint.last"));
        assert_eq!(
            std::fs::read_to_string(path_for(&cp)).unwrap(),
            format!(
                "=====qwatch last run v1\n\trule\tqplan raw\n\tcommand\tsh -c 'exit 3'\n\
                 \toutcome\tfailed (exit status 3)\n\tresource\tqplan raw\n\tcommit\t{}\n\
                 \tstarted\t2026-12-07T05:50:01Z\n\tended\t2026-12-07T05:50:02Z\n=====end\n",
                "a".repeat(40)
            )
        );
        assert_eq!(load(&cp).unwrap(), Some(run));
    }

    #[test]
    fn times_are_utc_seconds() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_385_856_000);
        assert_eq!(show(t), "2013-12-01T00:00:00Z");
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn round_trip(rule in "[ -~]{0,20}", command in "[ -~]{0,40}", outcome in "[ -~]{1,20}") {
            let run = LastRun { rule, command, outcome, ..LastRun::default() };
            prop_assert_eq!(parse(render(&run).as_bytes()).unwrap(), run);
        }
    }
}
