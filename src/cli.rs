//! The command-line layer every tool shares: argument parsing, inputs and
//! outputs, error printing and exit codes (SPEC section 8).
//!
//! A command is an `Args` type implementing [`Tool`]; its binary is one line,
//! `qplan::cli::main::<Args>()`. Commands never touch the process: they read
//! what they are given and write to the `&mut dyn Write` they are handed, so
//! they can be tested in memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgAction, Parser};

use crate::error::{exit, io_exit_code, Error};

/// Buffer size for stdin, stdout and files: large enough that the stream
/// codec rarely splits a line across two reads.
const BUF_SIZE: usize = 256 * 1024;

/// `-q` and `-v`, flattened into every command's `Args`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Verbosity {
    /// Print nothing on stderr but errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Explain what is being done on stderr (repeat for more).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

impl Verbosity {
    /// Prints a note on stderr when `-v` was given.
    pub fn note(&self, tool: &str, message: impl std::fmt::Display) {
        if self.verbose > 0 {
            eprintln!("{tool}: {message}");
        }
    }

    /// Prints a warning on stderr unless `-q` was given.
    pub fn warn(&self, tool: &str, message: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{tool}: warning: {message}");
        }
    }
}

/// A command of the toolkit.
pub trait Tool: Parser {
    /// The program name, used as the prefix of every message.
    const NAME: &'static str;

    /// The file named by `-o`, when the command has that option: written
    /// whole on success (through a temporary file renamed into place), left
    /// untouched on failure.
    fn output(&self) -> Option<&Path> {
        None
    }

    /// Does the work, writing data to `out`.
    fn run(self, out: &mut dyn Write) -> anyhow::Result<()>;
}

/// Runs a tool as a process: parses the arguments, runs it, prints the error
/// once as `<tool>: <cause chain>` and turns it into an exit code.
pub fn main<T: Tool>() -> ExitCode {
    let args = match T::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // --help and --version print to stdout and exit 0; a broken pipe
            // there is as quiet as anywhere else.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { 0 });
        }
    };
    let result = match args.output().map(Path::to_path_buf) {
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(BUF_SIZE, stdout.lock());
            args.run(&mut out).and_then(|()| {
                out.flush()
                    .map_err(|e| anyhow::Error::new(Error::io("writing stdout", e)))
            })
        }
        Some(path) => run_to_file(args, &path),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let reported = err
                .chain()
                .any(|c| matches!(c.downcast_ref::<Error>(), Some(Error::Reported { .. })));
            if !reported {
                eprintln!("{}: {:#}", T::NAME, err);
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run_to_file<T: Tool>(args: T, path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let shown = path.display().to_string();
    let tmp = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
    let mut out = BufWriter::with_capacity(BUF_SIZE, tmp);
    args.run(&mut out)?;
    let tmp = out
        .into_inner()
        .map_err(|e| Error::io(format!("writing {shown}"), e.into_error()))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(format!("writing {shown}"), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(format!("writing {shown}"), e.error))?;
    Ok(())
}

/// The exit code for an error: the first classified error in the chain
/// decides; an unclassified failure is treated as an I/O failure (74).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<io::Error>() {
            return io_exit_code(e);
        }
    }
    exit::IOERR
}

/// A reader that went away is a normal end of a pipeline (SPEC section 8).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Opens an input: a file, or stdin for `None` and `-`.
pub fn open_input(path: Option<&Path>) -> Result<Box<dyn BufRead>, Error> {
    match path {
        None => Ok(Box::new(BufReader::with_capacity(BUF_SIZE, io::stdin()))),
        Some(p) if p == Path::new("-") => {
            Ok(Box::new(BufReader::with_capacity(BUF_SIZE, io::stdin())))
        }
        Some(p) => {
            let f =
                File::open(p).map_err(|e| Error::io(format!("cannot open {}", p.display()), e))?;
            Ok(Box::new(BufReader::with_capacity(BUF_SIZE, f)))
        }
    }
}

/// A name for an input in messages: the path, or `stdin`.
pub fn input_name(path: Option<&Path>) -> String {
    match path {
        Some(p) if p != Path::new("-") => p.display().to_string(),
        _ => "stdin".to_owned(),
    }
}

/// The tool a binary runs, to be called as its whole `main`.
#[macro_export]
macro_rules! tool_main {
    ($args:ty) => {
        fn main() -> std::process::ExitCode {
            $crate::cli::main::<$args>()
        }
    };
}
