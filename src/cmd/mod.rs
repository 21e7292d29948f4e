//! One module per command: its `Args` (clap derive; the doc comments are the
//! help text and the man page) and its `run`.

pub mod qcondition;
pub mod qplan;
pub mod qpull;
pub mod qsnap;
pub mod qwatch;
pub mod qwhatif;

/// `--help` footer shared by every command: the exit codes of SPEC section 8.
pub const AFTER_HELP: &str = crate::error::exit::TABLE;
