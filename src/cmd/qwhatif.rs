//! `qwhatif`: Answer what-if questions against a baseline plan.
//!
//! Not built yet: the command exists so that scripts and man pages can name
//! it, and says plainly that it does nothing (exit 2).

use std::io::Write;

use clap::Parser;

use crate::cli::{Tool, Verbosity};
use crate::error::Error;

/// Answer what-if questions against a baseline plan.
///
/// Not implemented yet: this command exits with status 2.
#[derive(Parser, Debug)]
#[command(name = "qwhatif", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Arguments of the command to come (ignored).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

impl Tool for Args {
    const NAME: &'static str = "qwhatif";

    fn run(self, _out: &mut dyn Write) -> anyhow::Result<()> {
        Err(Error::NotImplemented("qwhatif").into())
    }
}
