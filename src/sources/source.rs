//! A source as the config describes it, resolved: its kind, headers and
//! sheet, and whether what it returns is read as a workbook.

use std::path::PathBuf;
use std::time::Duration;

use super::redact::Secrets;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File(PathBuf),
    Cmd {
        argv: Vec<String>,
        shell: bool,
    },
    Http(String),
    Jira {
        url: String,
        jql: String,
        fields: Vec<String>,
        page_size: u32,
        api: Option<Api>,
    },
}

/// A request header of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
    /// Built from `${VAR}` or `${file:PATH}`, or named like a credential
    /// (`Authorization`, `Cookie`, `X-Api-Key`, `PRIVATE-TOKEN`, ...): never
    /// sent to another origin than the source's (a redirect elsewhere drops
    /// it).
    pub secret: bool,
}

/// A source, resolved: limits filled in, header values expanded.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: Kind,
    pub headers: Vec<Header>,
    /// The declared text encoding (UTF-8 when `None`; a BOM decides
    /// anyway).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Known to be a workbook before it is fetched: by `type`, by `sheet`
    /// or by the extension of its file or URL path. (Also taken as one on
    /// fetching: by content type, or by a zip or OLE container's bytes.)
    pub workbook: bool,
    /// The sheet to read of a workbook (the first when `None`).
    pub sheet: Option<Sheet>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub min_rows: u64,
    pub max_bytes: u64,
}

impl Source {
    /// The spec as shown in the sources section and messages (secrets are
    /// removed by the caller's redaction).
    pub fn spec(&self) -> String {
        match &self.kind {
            Kind::File(p) => format!("file:{}", p.display()),
            Kind::Cmd { argv, .. } => format!(
                "cmd:{}",
                shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_else(|_| argv.join(" "))
            ),
            Kind::Http(u) => u.clone(),
            Kind::Jira { url, jql, .. } => format!("jira:{url} jql={jql}"),
        }
    }
}

/// Which service a site is, when the config says so (`api = "cloud"` or
/// `"server"`); otherwise the site is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Cloud,
    Server,
}

/// The sheet a source reads: by name, or by its place among the sheets
/// (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sheet {
    Name(String),
    Index(usize),
}

impl std::fmt::Display for Sheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sheet::Name(n) => write!(f, "{n:?}"),
            Sheet::Index(i) => write!(f, "{i}"),
        }
    }
}

/// Whether a file name or URL path ends in a workbook's extension.
pub fn by_extension(path: &str) -> bool {
    let path = if path.contains("://") {
        let end = path.find(['?', '#']).unwrap_or(path.len());
        &path[..end]
    } else {
        path
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => TYPES.contains(&ext.to_ascii_lowercase().as_str()),
        _ => false,
    }
}

/// Content types that say "workbook". `application/vnd.ms-excel` is not
/// one of them: servers send it for .csv files too; an .xls is known by
/// its bytes.
fn by_content_type(content_type: &str) -> bool {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        ct.as_str(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.ms-excel.sheet.macroenabled.12"
            | "application/vnd.ms-excel.sheet.binary.macroenabled.12"
            | "application/vnd.oasis.opendocument.spreadsheet"
    )
}

pub(super) const ZIP: &[u8] = b"PK\x03\x04";
pub(super) const OLE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";

/// Whether what a source returned is read as a workbook: the source says
/// so (`type`, `sheet`, extension), the content type does, or the bytes
/// are a zip or OLE container (which no text export is).
pub fn is_workbook(src: &Source, bytes: &[u8], content_type: &str) -> bool {
    if matches!(src.kind, Kind::Jira { .. }) {
        return false;
    }
    src.workbook
        || by_content_type(content_type)
        || bytes.starts_with(ZIP)
        || bytes.starts_with(OLE)
}

/// The `type` values of a workbook source.
pub const TYPES: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

pub(super) fn usage(message: String) -> Error {
    Error::Usage(message)
}

/// Expands `${VAR}` (environment) and `${file:PATH}` (a file's content,
/// trimmed); what was expanded is a secret.
pub fn expand(
    value: &str,
    secrets: &mut Secrets,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('}') else {
            return Err(usage(format!(
                "unclosed ${{ in header value {:?}",
                secrets.redact(value)
            )));
        };
        let key = &rest[i + 2..i + end];
        // An empty value is a mistake like a missing one: an empty token
        // would be sent as if it were one.
        let got = if let Some(path) = key.strip_prefix("file:") {
            // `~/` is HOME's: cron and systemd give a job no variables of
            // yours, but HOME, so a secret file is named the same anywhere.
            let path = match (path.strip_prefix("~/"), env("HOME")) {
                (Some(rest), Some(home)) if !home.is_empty() => format!("{home}/{rest}"),
                _ => path.to_owned(),
            };
            let path = path.as_str();
            let got = std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| usage(format!("cannot read the secret file {path}: {e}")))?;
            if got.is_empty() {
                return Err(usage(format!("the secret file {path} is empty")));
            }
            got
        } else {
            match env(key) {
                None => {
                    return Err(usage(format!(
                        "environment variable {key} is not set (used in a header, user or token)"
                    )))
                }
                Some(v) if v.is_empty() => {
                    return Err(usage(format!(
                    "environment variable {key} is set but empty (used in a header, user or token)"
                )))
                }
                Some(v) => v,
            }
        };
        secrets.add(&got);
        out.push_str(&got);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_content_types() {
        assert!(by_extension("plan/quarter.xlsx"));
        assert!(by_extension("Q.ODS"));
        assert!(by_extension("https://x.example/a/b.xls?raw=1#x"));
        assert!(!by_extension("https://x.example/export?format=xlsx"));
        assert!(!by_extension("staff.csv"));
        assert!(!by_extension(".xlsx"));
        assert!(by_content_type(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; charset=binary"
        ));
        assert!(!by_content_type("application/vnd.ms-excel"));
        assert!(!by_content_type("text/csv"));
    }
}
