//! `qpull`: fetch planning data from its sources of truth and write it as
//! raw sections, all or nothing.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;

use crate::cli::{progress, Tool, Verbosity};
use crate::error::Error;
use crate::sources::fetch::{self, Fetched, Prior};
use crate::sources::redact::Secrets;
use crate::sources::{config, workbook, FETCH, SOURCES};
use crate::stream::{read_sections, Reader, Writer};

/// Fetch planning data from its sources of truth and write it as raw sections.
///
/// Writes one `raw NAME` section per source, its lines exactly the fetched
/// text (a workbook's sheet as CSV), then a `qpull sources v1` section (per
/// source: name, spec with secrets removed, bytes, SHA-256, content type,
/// sheet, encoding: what was fetched), a
/// `qpull fetch v1` section (per source: name, fetch time, status, ETag,
/// Last-Modified: when and how it was fetched) and `=====end`. qsnap put
/// leaves `<app> fetch v<N>` sections out when it compares with the stored
/// version, so a pull of unchanged data makes no new commit.
///
/// Fail-closed: if any source fails, nothing is written; the exit status is
/// 75 when every failure is temporary (timeout, 429, 5xx: worth retrying),
/// else 69, and stderr says which source failed and why. Secrets (header
/// values from ${VAR} or ${file:PATH}, URL passwords, credential-like query
/// parameters) never appear in any output, and headers built from them are
/// not sent along a redirect to another scheme, host or port. What a
/// command source writes on stderr is shown as `qpull: warning: source
/// NAME: ...`.
///
/// On a terminal, stderr shows progress: a bar counting the sources
/// fetched when there are several, a line for a source that takes more
/// than a second (bytes so far), and for a JIRA search of several pages
/// its pages and issues (of the total, when the server says it). With -q,
/// or when stderr is not a terminal (cron, a pipe, a file), nothing.
///
/// Sources are [source.NAME] tables in the config file, each with one of
/// `url`, `file` or `cmd` (an argv array; `shell = true` runs one string
/// with sh -c), and optionally `type = "jira"` (with `jql`, `fields`,
/// `page_size`, `api`, `user`, `token`), `headers`, `encoding` (a WHATWG
/// label: "utf-8", the default, "windows-1252", "latin1" (the same),
/// "utf-16le", "shift_jis", ...; a BOM decides by itself), `sheet` (a
/// workbook's sheet, by name or number from 1; the first by default),
/// `timeout`, `connect_timeout`, `retries`, `backoff`, `min_rows`,
/// `max_bytes`; the same limits in [defaults] apply to every source.
///
/// JIRA: `url` is the site; qpull asks its /rest/api/2/serverInfo once
/// and uses JIRA Cloud's enhanced search (/rest/api/2/search/jql, paged by
/// nextPageToken) when it says Cloud, else the legacy search of Server
/// and Data Center (/rest/api/2/search, paged by startAt and total).
/// `api = "cloud"` or `"server"` skips the question. A URL ending in
/// /search or /search/jql is used as written. The v2 path is used, so
/// text fields such as /fields/description are plain text; a /rest/api/3/
/// URL given as written gets Atlassian Document Format (JSON) instead.
/// Either way the raw section is one document, {"issues": [...],
/// "total": N, ...}, every issue once. `user` and `token` (each may be
/// ${VAR} or ${file:PATH}) make Basic auth, as JIRA Cloud wants (the
/// account's e-mail and an API token); `token` alone is sent as Bearer,
/// a Data Center personal access token. Without `fields`, `*navigable` is
/// asked for. `page_size` is maxResults (default 100; JIRA Cloud sends at
/// most 100 issues a page when fields are asked for, and may send fewer). A 410 from the legacy search (JIRA Cloud removed it) says
/// what to write instead; refused credentials (401/403) and a JQL that
/// JIRA rejects (400, with its message) fail the source (69); a 429 is
/// waited out (Retry-After, X-RateLimit-Reset) when the wait fits in the
/// timeout, at most `retries` times, else it is temporary (75).
///
///   # JIRA Cloud: the site, your e-mail, an API token
///   [source.work]
///   type = "jira"
///   url = "https://acme.atlassian.net"
///   jql = "project = MOB AND fixVersion = 2026-Q4"
///   fields = ["summary", "customfield_10016", "priority"]
///   user = "${JIRA_USER}"
///   token = "${JIRA_TOKEN}"
///
///   # JIRA Data Center: the site, a personal access token
///   [source.work]
///   type = "jira"
///   url = "https://jira.corp.example"
///   jql = "project = MOB AND fixVersion = 2026-Q4"
///   fields = ["summary", "customfield_10016", "priority"]
///   token = "${JIRA_PAT}"
///
/// A workbook (.xlsx, .xlsm, .xlsb, .xls, .ods: by `type = "xlsx"` and so
/// on, by `sheet`, by the file's or URL's extension, by content type, or
/// by its bytes) becomes CSV of its sheet's used range: dates ISO 8601,
/// numbers as a person writes them, TRUE/FALSE, formulas by their cached
/// value; an error cell (#N/A) fails the source. Sources that name the
/// same workbook with a `sheet` each are read from one fetch. A missing
/// sheet or an error cell exits 65. qpull-sources(5) says what each kind
/// of cell becomes.
///
/// From cron, every 15 minutes into the store. Cron mails whatever a job
/// prints on stderr, which qpull and qsnap do only when something is wrong.
/// When qpull fails it writes nothing, qsnap put then fails too (its input
/// has no `=====end`: nothing is stored), and with pipefail the job's
/// status is that of the last command that failed: qsnap's 65 (its input
/// is empty), not qpull's 69 or 75. Which source failed, and why, is in
/// the mail, qpull's messages first. When all is well the status is 0,
/// whether or not the data changed.
///
///   SHELL=/bin/bash
///   */15 * * * * set -o pipefail; qpull --config $HOME/plan/sources.toml | qsnap put qplan raw >/dev/null
///
/// Examples:
///   qpull work=https://docs.google.com/spreadsheets/d/ID/export?format=csv
///   qpull --config sources.toml | qsnap put qplan raw
///   qpull --config sources.toml --since last.txt > now.txt
#[derive(Parser, Debug)]
#[command(name = "qpull", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The sources (TOML).
    #[arg(short, long, env = "QPULL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Add or replace a source: NAME=file:PATH, NAME=cmd:COMMAND ARGS or
    /// NAME=https://...
    #[arg(value_name = "NAME=SPEC")]
    pub specs: Vec<String>,

    /// Fetch only these sources (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,

    /// Write the sources that worked even when others failed (exit 0; the
    /// failures are reported on stderr). When every source failed, nothing
    /// is written and the exit status is 69 or 75 as without it.
    #[arg(long)]
    pub allow_partial: bool,

    /// Take a source that returned no rows or fewer than `min_rows`.
    #[arg(long)]
    pub force: bool,

    /// A previous qpull output: ask servers for changes only
    /// (If-None-Match, If-Modified-Since) and reuse its content on 304.
    #[arg(long, value_name = "FILE")]
    pub since: Option<PathBuf>,

    /// Write to FILE instead of stdout; FILE is replaced only on success.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

/// The content of the previous output's sources, for `--since`.
fn priors(path: &std::path::Path) -> anyhow::Result<Vec<(String, Prior)>> {
    let text =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let sections = read_sections(&mut Reader::new(text.as_slice()))
        .map_err(|e| anyhow::Error::new(e).context(format!("reading {}", path.display())))?;
    let rows = |header: &str| -> Vec<Vec<String>> {
        sections
            .iter()
            .filter(|s| s.header == header)
            .flat_map(|s| &s.lines)
            .map(|l| {
                String::from_utf8_lossy(l)
                    .split('\t')
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    };
    let fetches = rows(FETCH);
    let mut out = Vec::new();
    for f in rows(SOURCES) {
        // Today's layout: name, spec, bytes, sha256, content type, sheet,
        // encoding in the sources section, and name, fetched_at, status,
        // etag, last_modified in the fetch section. Before the fetch
        // section existed, nine were in the sources section (and before
        // sheet and encoding, five).
        let (sheet, encoding) = match f.as_slice() {
            [_, _, _, _, _, sheet, encoding] => (sheet.clone(), encoding.clone()),
            _ => Default::default(),
        };
        let (name, sha, content_type, etag, last_modified) = match f.as_slice() {
            [name, _, _, _, _, sha, content_type, etag, last_modified, ..] => {
                (name, sha, content_type, etag.clone(), last_modified.clone())
            }
            [name, _, _, sha, content_type, ..] => {
                let (etag, last_modified) = fetches
                    .iter()
                    .find(|l| l.first() == Some(name))
                    .and_then(|l| Some((l.get(3)?.clone(), l.get(4)?.clone())))
                    .unwrap_or_default();
                (name, sha, content_type, etag, last_modified)
            }
            _ => continue,
        };
        let Some(raw) = sections.iter().find(|r| r.header == format!("raw {name}")) else {
            continue;
        };
        let lines: Vec<String> = raw
            .lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let joined = lines.join("\n");
        // The section does not say whether the text ended with a line
        // break; the checksum does.
        let with_break = format!("{joined}\n");
        let text = [with_break, joined].into_iter().find(|t| {
            Fetched {
                text: t.clone(),
                ..Fetched::default()
            }
            .sha256()
                == *sha
        });
        if let Some(text) = text {
            out.push((
                name.to_string(),
                Prior {
                    text,
                    etag,
                    last_modified,
                    content_type: content_type.to_string(),
                    sheet,
                    encoding,
                },
            ));
        }
    }
    Ok(out)
}

/// A field of the sources section: no TAB or line break.
fn field(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

impl Tool for Args {
    const NAME: &'static str = "qpull";

    fn output(&self) -> Option<&std::path::Path> {
        self.output.as_deref()
    }

    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let text = match &self.config {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| Error::io(format!("cannot read the config {}", p.display()), e))?,
            ),
            None => None,
        };
        let shown = self
            .config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut secrets = Secrets::default();
        let env = |k: &str| std::env::var(k).ok();
        let sources = config::sources(
            text.as_deref().map(|t| (t, shown.as_str())),
            &self.specs,
            &self.only,
            &mut secrets,
            &env,
        )?;
        let priors = match &self.since {
            Some(p) => priors(p)?,
            None => Vec::new(),
        };
        // Sources that share a workbook are fetched and opened once.
        let prior = |name: &str| {
            priors
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| p.clone())
        };
        // A bar counting the sources when there are several; each slow
        // source gets a line of its own beneath it.
        let quiet = self.verbosity.quiet;
        let multi = progress::multi(quiet);
        let done = match sources.len() {
            0 | 1 => indicatif::ProgressBar::hidden(),
            n => progress::bar_in(&multi, n as u64, "qpull", "sources"),
        };
        let shown = fetch::Shown {
            multi,
            done,
            counting: progress::style,
        };
        let results: Vec<Result<Fetched, fetch::Failure>> =
            workbook::fetch_all(&sources, &prior, self.force, &shown);
        shown.done.finish_and_clear();
        // What commands said on stderr, source by source.
        for (src, r) in sources.iter().zip(&results) {
            let warnings = match r {
                Ok(f) => &f.warnings,
                Err(e) => &e.warnings,
            };
            for w in warnings {
                self.verbosity.warn(
                    "qpull",
                    secrets.redact(&format!("source {}: {w}", src.name)),
                );
            }
        }
        let failed: Vec<(&config::Source, &fetch::Failure)> = sources
            .iter()
            .zip(&results)
            .filter_map(|(s, r)| r.as_ref().err().map(|e| (s, e)))
            .collect();
        for (src, e) in &failed {
            let message = secrets.redact(&format!(
                "source {} ({}): {}",
                src.name,
                src.spec(),
                e.message
            ));
            if self.allow_partial && failed.len() < sources.len() {
                self.verbosity.warn("qpull", message);
            } else {
                eprintln!("qpull: {message}");
            }
        }
        // --allow-partial writes what worked; when nothing did, there is
        // nothing to write, and it is the failure it would be without.
        if !failed.is_empty() && (!self.allow_partial || failed.len() == sources.len()) {
            let message = if failed.len() == sources.len() && sources.len() > 1 {
                format!("all {} sources failed: nothing written", sources.len())
            } else {
                format!(
                    "{} of {} sources failed: nothing written",
                    failed.len(),
                    sources.len()
                )
            };
            return Err(if failed.iter().all(|(_, e)| e.temporary) {
                Error::Temporary {
                    what: "fetch".into(),
                    message,
                }
            } else if failed.iter().all(|(_, e)| e.data || e.temporary) {
                // A missing sheet, an error cell: the data is wrong, not
                // the source away.
                Error::Data {
                    at: crate::error::Location::default(),
                    message: format!("fetch: {message}"),
                }
            } else {
                Error::Unavailable {
                    what: "fetch".into(),
                    message,
                }
            }
            .into());
        }
        let mut w = Writer::new(out);
        let mut lines = Vec::new();
        let mut fetch_lines = Vec::new();
        for (src, r) in sources.iter().zip(&results) {
            let Ok(f) = r else { continue };
            w.header(0, &format!("raw {}", src.name))?;
            let body = f.text.strip_suffix('\n').unwrap_or(&f.text);
            if !f.text.is_empty() {
                for line in body.split('\n') {
                    w.line(0, line.as_bytes())?;
                }
            }
            // What was fetched, which changes only when the data or the
            // config does...
            lines.push(vec![
                field(&src.name),
                field(&secrets.redact(&src.spec())),
                f.text.len().to_string(),
                f.sha256(),
                field(&f.content_type),
                field(&f.sheet),
                field(&f.encoding),
            ]);
            // ... and when and how, which changes on every pull.
            fetch_lines.push(vec![
                field(&src.name),
                field(&f.fetched_at),
                field(&f.status),
                field(&secrets.redact(&f.etag)),
                field(&f.last_modified),
            ]);
            self.verbosity.note(
                "qpull",
                format!("{}: {} bytes, status {}", src.name, f.text.len(), f.status),
            );
        }
        w.header(0, SOURCES)?;
        for l in lines {
            w.fields(0, l)?;
        }
        w.header(0, FETCH)?;
        for l in fetch_lines {
            w.fields(0, l)?;
        }
        w.end()?;
        Ok(())
    }
}
