//! qpull: sources of truth fetched into raw sections, all or nothing.
//!
//! - [`config`]: the config file and `NAME=SPEC` arguments;
//! - [`fetch`]: files, commands, HTTP, JIRA; limits, retries, checks;
//! - [`redact`]: secrets kept out of everything qpull shows.

pub mod config;
pub mod fetch;
pub mod redact;

/// The header of the section that says what was fetched.
pub const SOURCES: &str = "qpull sources v1";
