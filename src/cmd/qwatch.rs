//! `qwatch`: Run a command whenever a resource gets a new snapshot.
//!
//! Not built yet: the command exists so that scripts and man pages can name
//! it, and says plainly that it does nothing (exit 2).

use std::io::Write;

use clap::Parser;

use crate::cli::{Tool, Verbosity};
use crate::error::Error;

/// Run a command whenever a resource gets a new snapshot.
///
/// Not implemented yet: this command exits with status 2.
#[derive(Parser, Debug)]
#[command(name = "qwatch", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Arguments of the command to come (ignored).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

impl Tool for Args {
    const NAME: &'static str = "qwatch";

    fn run(self, _out: &mut dyn Write) -> anyhow::Result<()> {
        Err(Error::NotImplemented("qwatch").into())
    }
}
