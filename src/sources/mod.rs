//! qpull: file/cmd/http/jira fetch, retries, secrets.
//! May use: stream, error; never snap (pulling and storing meet in a pipe).
//!
//! Sources of truth fetched into raw sections, all or nothing.
//!
//! - [`config`]: the config file and `NAME=SPEC` arguments;
//! - [`source`]: a source resolved (kind, headers, sheet), and whether
//!   what it returns is a workbook;
//! - [`pull`]: one source fetched by its kind, with retries;
//! - [`fetch`]: files, commands, HTTP; limits, checks;
//! - [`jira`]: JIRA searches paged into one document;
//! - [`encoding`]: text in any encoding spreadsheets write, into UTF-8;
//! - [`workbook`]: sheets of .xlsx/.xls/.ods workbooks, as CSV;
//! - [`redact`]: secrets kept out of everything qpull shows.

pub mod config;
pub mod encoding;
pub mod fetch;
pub mod jira;
pub mod pull;
pub mod redact;
pub mod source;
pub mod workbook;

/// The header of the section that says what was fetched: per source its
/// name, spec, bytes, SHA-256 and content type. It changes only when the
/// data (or the config) does.
pub const SOURCES: &str = "qpull sources v1";

/// The header of the section that says when and how each source was
/// fetched: name, fetch time, status, ETag, Last-Modified. It changes on
/// every pull; qsnap leaves `<app> fetch v<N>` sections out of its "same
/// content" comparison, so an unchanged pull makes no commit.
pub const FETCH: &str = "qpull fetch v1";
