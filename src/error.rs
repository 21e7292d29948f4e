//! The one error type of the library, and the exit codes of SPEC section 8.
//!
//! Every variant carries what a user needs to fix the problem (where and
//! what), and maps to exactly one exit code, so that every tool reports the
//! same kind of failure the same way.

use std::fmt;
use std::io;

/// Exit codes, SPEC section 8: one table for every tool and man page.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    /// A negative answer where a tool answers a yes/no question.
    pub const NO: u8 = 1;
    pub const USAGE: u8 = 2;
    /// Bad input data (EX_DATAERR).
    pub const DATAERR: u8 = 65;
    /// A source or service unavailable (EX_UNAVAILABLE).
    pub const UNAVAILABLE: u8 = 69;
    /// An I/O error (EX_IOERR).
    pub const IOERR: u8 = 74;
    /// A temporary failure worth retrying (EX_TEMPFAIL).
    pub const TEMPFAIL: u8 = 75;
    pub const INTERRUPTED: u8 = 130;

    /// The table as it appears at the end of every `--help` and man page.
    pub const TABLE: &str = "\
Exit status:
  0    success (a broken pipe on stdout also ends quietly with 0)
  1    a negative answer, where the tool answers a yes/no question
  2    usage error
  65   bad input data
  69   a source or service unavailable
  74   I/O error
  75   temporary failure worth retrying
  130  interrupted";
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in the input a problem is: the section (or source), the line, the
/// column and the offending value. Each part is optional because not every
/// problem has every part (a missing section has no line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub section: Option<String>,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
}

impl Location {
    pub fn section(section: impl Into<String>) -> Self {
        Location {
            section: Some(section.into()),
            ..Location::default()
        }
    }

    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            sep = ", ";
        }
        if let Some(section) = &self.section {
            write!(f, "{sep}section '{section}'")?;
            sep = ", ";
        }
        if let Some(column) = &self.column {
            write!(f, "{sep}column {column}")?;
            sep = ", ";
        }
        if let Some(value) = &self.value {
            write!(f, "{sep}value {value:?}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),

    /// The input is not a valid stacked stream (SPEC section 2).
    #[error("line {line}: {message}")]
    Stream { line: u64, message: String },

    /// The input is a valid stream but its data is wrong.
    #[error("{}{message}", prefix(.at))]
    Data { at: Location, message: String },

    /// A source or a service cannot be reached or refused us.
    #[error("{what}: {message}")]
    Unavailable { what: String, message: String },

    /// A failure that may go away when retried (timeout, lock held, 5xx).
    #[error("{what}: {message}")]
    Temporary { what: String, message: String },

    /// A service answered a request with an error of class `class` (an
    /// exit code of SPEC section 8, the one the service would have exited
    /// with): the client exits with it too.
    #[error("{service} refused the request: {message}")]
    Refused {
        service: String,
        class: u8,
        message: String,
    },

    /// A failure whose every problem has already been reported on stderr
    /// (qcondition's JSON list); the CLI layer prints nothing more and
    /// exits with `code` (65 for bad data, 74 for I/O...).
    #[error("{problems} problems reported")]
    Reported { problems: usize, code: u8 },

    /// A negative answer where a tool answers a yes/no question (exit 1),
    /// such as `qsnap verify`'s "is every version readable?"; the details
    /// are the tool's output.
    #[error("{0}")]
    No(String),

    /// Reading or writing failed.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn prefix(at: &Location) -> String {
    let s = at.to_string();
    if s.is_empty() {
        s
    } else {
        s + ": "
    }
}

impl Error {
    pub fn data(at: Location, message: impl Into<String>) -> Self {
        Error::Data {
            at,
            message: message.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The exit code of SPEC section 8 for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Stream { .. } | Error::Data { .. } => exit::DATAERR,
            Error::Reported { code, .. } => *code,
            Error::Unavailable { .. } => exit::UNAVAILABLE,
            Error::Temporary { .. } => exit::TEMPFAIL,
            Error::Refused { class, .. } => match *class {
                exit::NO
                | exit::USAGE
                | exit::DATAERR
                | exit::UNAVAILABLE
                | exit::IOERR
                | exit::TEMPFAIL
                | exit::INTERRUPTED => *class,
                // A class no table names: the service failed us.
                _ => exit::UNAVAILABLE,
            },
            Error::No(_) => exit::NO,
            Error::Io { source, .. } => io_exit_code(source),
        }
    }
}

/// Reads a TOML document (a map, a config): a syntax error, a missing key
/// or an unknown one (a typo) is bad data naming the line it is on.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, section: String) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let mut at = Location::section(section);
        if let Some(span) = e.span() {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            at = at.line(before.iter().filter(|&&b| b == b'\n').count() as u64 + 1);
        }
        Error::data(at, e.message().to_owned())
    })
}

/// Exit code for an I/O error: a broken pipe is a normal end (0).
pub fn io_exit_code(e: &io::Error) -> u8 {
    match e.kind() {
        io::ErrorKind::BrokenPipe => exit::SUCCESS,
        io::ErrorKind::Interrupted => exit::INTERRUPTED,
        _ => exit::IOERR,
    }
}

impl From<io::Error> for Error {
    fn from(source: io::Error) -> Self {
        Error::Io {
            context: "I/O error".into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_error_says_where_and_what() {
        let e = Error::data(
            Location::section("qplan work v1")
                .line(12)
                .column("4 (estimate)")
                .value("Apps:x"),
            "amount is not a number",
        );
        assert_eq!(
            e.to_string(),
            "line 12, section 'qplan work v1', column 4 (estimate), value \"Apps:x\": amount is not a number"
        );
        assert_eq!(e.exit_code(), exit::DATAERR);
    }

    #[test]
    fn broken_pipe_is_success() {
        let e = Error::io("writing", io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(e.exit_code(), 0);
    }
}
