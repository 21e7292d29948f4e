//! The rule book: v1 input streams read and checked INTO the model.
//! May use: model, stream, error.
//!
//! The rule book of the v1 input streams (SPEC section 3): what a
//! `qplan params v1`, `qplan holidays v1`, `qplan staff v1` and
//! `qplan work v1` stream must hold for qplan to compute from it.
//!
//! There is one reader ([`read`]) and one set of row rules ([`Book`]);
//! what differs between the tools is the [`Sink`] that hears of problems:
//!
//! - qplan reads with [`Stop`], which ends the read at the first problem;
//! - `qcondition --check` reads with a sink that records every problem
//!   (section, line, column, value) and goes on, and also asks for the
//!   warnings (legal but suspicious data);
//! - `qcondition --map` feeds its conditioned rows to the same [`Book`],
//!   each cell located in the raw section it came from, and then reads its
//!   own output back with [`read`] before writing it.
//!
//! So `qcondition --check` passes exactly the streams qplan accepts, by
//! construction. The decisions on the cases SPEC leaves open are the table
//! "What the gate and qplan accept" in README.md.
//!
//! - [`fields`]: how each field is read (dates, estimates, triage…);
//! - [`book`]: the rules of each row and of the rows together;
//! - [`read`](mod@read): the rules of the stream (sections, columns, blank
//!   lines, the end marker).

pub mod book;
pub mod fields;
pub mod read;

pub use book::Book;
pub use read::{read, read_plan, read_plan_warned, Loaded};

pub use crate::model::{ALL, HOLIDAYS, PARAMS, STAFF, WORK};

use crate::error::{Error, Location, Result};

/// Who hears of the problems the rules find.
pub trait Sink {
    /// An error at `at`. `Err` ends the read (qplan); `Ok` lets the
    /// reader go on to the next problem (`qcondition --check`).
    fn problem(&mut self, at: Location, message: String) -> Result<()>;

    /// A warning: legal but suspicious data. Only called when
    /// [`Sink::wants_warnings`] says so. `Err` ends the read (`--strict`
    /// in qplan and qwhatif).
    fn warning(&mut self, _at: Location, _message: String) -> Result<()> {
        Ok(())
    }

    /// Whether to look for warnings (one more pass over what was read).
    fn wants_warnings(&self) -> bool {
        false
    }
}

/// qplan's sink: the first problem ends the read, as an [`Error::Data`].
pub struct Stop;

impl Sink for Stop {
    fn problem(&mut self, at: Location, message: String) -> Result<()> {
        Err(Error::data(at, message))
    }
}

/// qplan's and qwhatif's sink when the warnings are wanted: the first
/// problem ends the read; warnings are kept to be printed once the input
/// is read, or, with `--strict`, the first one ends the read as an error.
#[derive(Debug, Default)]
pub struct Warn {
    pub strict: bool,
    /// The first [`Warn::KEEP`] warnings.
    pub warnings: Vec<Error>,
    /// How many more there were (counted, not kept: a million blank
    /// triages are not a million messages held in memory).
    pub more: usize,
}

impl Warn {
    pub const KEEP: usize = 1000;

    pub fn new(strict: bool) -> Warn {
        Warn {
            strict,
            warnings: Vec::new(),
            more: 0,
        }
    }
}

impl Sink for Warn {
    fn problem(&mut self, at: Location, message: String) -> Result<()> {
        Err(Error::data(at, message))
    }

    fn warning(&mut self, at: Location, message: String) -> Result<()> {
        if self.strict {
            return Err(Error::data(
                at,
                format!("{message} (a warning, an error with --strict)"),
            ));
        }
        if self.warnings.len() < Self::KEEP {
            self.warnings.push(Error::data(at, message));
        } else {
            self.more += 1;
        }
        Ok(())
    }

    fn wants_warnings(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
