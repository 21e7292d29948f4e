//! What every command shares: arguments, output, error printing, exit codes.
//! May use: error only: every room that prints may use it.
//!
//! The command-line layer every tool shares: argument parsing, inputs and
//! outputs, error printing and exit codes (SPEC section 8).
//!
//! A command is an `Args` type implementing [`Tool`]; its binary is one line,
//! `qplan::cli::main::<Args>()`. Commands never touch the process: they read
//! what they are given and write to the `&mut dyn Write` they are handed, so
//! they can be tested in memory.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{ArgAction, Parser};

use crate::error::{exit, io_exit_code, Error};

pub mod output;
pub mod progress;
pub mod visible;

use self::visible::visible;

use self::output::{Target, BUF_SIZE};

/// How many warnings of an input are printed without `-v`.
pub const MAX_WARNINGS: usize = 20;

/// `-q` and `-v`, flattened into every command's `Args`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Verbosity {
    /// Print nothing on stderr but errors: no warnings, no progress bars.
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
            eprintln!("{tool}: {}", visible(&message.to_string()));
        }
    }

    /// Prints a warning on stderr unless `-q` was given.
    pub fn warn(&self, tool: &str, message: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{tool}: warning: {}", visible(&message.to_string()));
        }
    }

    /// Prints the warnings of an input (`context` names it: `reading
    /// plan.txt`), the first [`MAX_WARNINGS`] of them and then how many
    /// more there are (`more` counted but not kept), unless `-q` was given;
    /// `-v` prints all that were kept.
    pub fn warn_all<W: std::fmt::Display>(
        &self,
        tool: &str,
        context: &str,
        warnings: &[W],
        more: usize,
    ) {
        if self.quiet {
            return;
        }
        let shown = if self.verbose > 0 {
            warnings.len()
        } else {
            warnings.len().min(MAX_WARNINGS)
        };
        let context = if context.is_empty() {
            String::new()
        } else {
            format!("{context}: ")
        };
        for w in &warnings[..shown] {
            eprintln!("{tool}: warning: {}", visible(&format!("{context}{w}")));
        }
        let rest = warnings.len() - shown + more;
        if rest > 0 {
            eprintln!(
                "{tool}: warning: {context}{rest} more warnings (-v shows more; --strict makes them errors)"
            );
        }
    }
}

/// A command of the toolkit.
pub trait Tool: Parser {
    /// The program name, used as the prefix of every message.
    const NAME: &'static str;

    /// The file named by `-o`, when the command has that option: written
    /// whole on success, left untouched on failure ([`output`] says how).
    fn output(&self) -> Option<&Path> {
        None
    }

    /// Does the work, writing data to `out`.
    fn run(self, out: &mut dyn Write) -> anyhow::Result<()>;
}

/// Runs a tool as a process: parses the arguments, runs it, prints the error
/// once as `<tool>: <cause chain>` and turns it into an exit code.
pub fn main<T: Tool>() -> ExitCode {
    let argv = globals_after_subcommand(&T::command(), std::env::args_os().collect());
    let args = match T::try_parse_from(argv) {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version print to stdout and exit 0; a broken pipe
            // there is as quiet as anywhere else.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprint!("{}", usage_message(T::NAME, &e.render().to_string()));
            return ExitCode::from(exit::USAGE);
        }
    };
    let result = match args.output().map(output::target) {
        None => output::write_to(&Target::Stdout, "stdout", |out| args.run(out)),
        Some(Err(e)) => Err(e.into()),
        Some(Ok(target)) => {
            let shown = args.output().map(|p| p.display().to_string());
            output::write_to(&target, shown.as_deref().unwrap_or("stdout"), |out| {
                args.run(out)
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let reported = err
                .chain()
                .any(|c| matches!(c.downcast_ref::<Error>(), Some(Error::Reported { .. })));
            if !reported {
                // A message may quote data (a name, a value): shown, not sent
                // to the terminal.
                eprintln!("{}: {}", T::NAME, visible(&format!("{err:#}")));
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

/// The command line with global flags written before a subcommand's name
/// (`qwhatif -q solve …`, `qwhatif -v compare …`) moved after it, where
/// clap takes them. A command whose own positionals could be taken for a
/// subcommand (qwhatif's CHANGES) sets `args_conflicts_with_subcommands`,
/// and clap then refuses a subcommand after any argument, global flags
/// included. Only flags that take no value are moved, and only when the
/// first other argument is a subcommand's name or alias: anything else is
/// left for clap to judge as written.
fn globals_after_subcommand(cmd: &clap::Command, mut argv: Vec<OsString>) -> Vec<OsString> {
    if !cmd.is_args_conflicts_with_subcommands_set() || argv.len() < 3 {
        return argv;
    }
    let flags: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set() && !a.get_action().takes_values())
        .collect();
    let shorts: Vec<char> = flags
        .iter()
        .flat_map(|a| a.get_short_and_visible_aliases().unwrap_or_default())
        .collect();
    let longs: Vec<&str> = flags
        .iter()
        .flat_map(|a| a.get_long_and_visible_aliases().unwrap_or_default())
        .collect();
    let is_flag = |word: &OsString| {
        let Some(word) = word.to_str() else {
            return false;
        };
        if let Some(long) = word.strip_prefix("--") {
            longs.contains(&long)
        } else if let Some(cluster) = word.strip_prefix('-') {
            !cluster.is_empty() && cluster.chars().all(|c| shorts.contains(&c))
        } else {
            false
        }
    };
    let leading = argv[1..].iter().take_while(|w| is_flag(w)).count();
    let named = argv
        .get(1 + leading)
        .and_then(|w| w.to_str())
        .is_some_and(|w| {
            cmd.get_subcommands()
                .any(|c| c.get_name() == w || c.get_all_aliases().any(|a| a == w))
        });
    if leading > 0 && named {
        argv[1..=1 + leading].rotate_right(1);
    }
    argv
}

/// clap's message for a usage error, prefixed with the tool's name like
/// every other error (`qplan: unexpected argument ...`) instead of clap's
/// `error: `.
fn usage_message(tool: &str, rendered: &str) -> String {
    let body = rendered.strip_prefix("error: ").unwrap_or(rendered);
    format!("{tool}: {body}")
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
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
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

/// The stop flag of a service (`qsnap serve`, `qwhatif serve`): the first
/// SIGINT or SIGTERM sets it, so the service stops cleanly; a second one,
/// while it is stopping, ends the process at once with 130.
pub fn stop_on_signals() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>, Error> {
    use std::sync::{atomic::AtomicBool, Arc};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(
            sig,
            i32::from(exit::INTERRUPTED),
            Arc::clone(&stop),
        )
        .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
        .map_err(|e| Error::io("setting up signal handling", e))?;
    }
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::globals_after_subcommand;
    use clap::{Arg, ArgAction, Command};
    use std::ffi::OsString;

    /// A command shaped like qwhatif's: a positional beside subcommands,
    /// global -q/-v, and a global option that takes a value.
    fn cmd() -> Command {
        Command::new("tool")
            .args_conflicts_with_subcommands(true)
            .arg(Arg::new("changes"))
            .arg(
                Arg::new("quiet")
                    .short('q')
                    .long("quiet")
                    .global(true)
                    .action(ArgAction::SetTrue),
            )
            .arg(
                Arg::new("verbose")
                    .short('v')
                    .long("verbose")
                    .global(true)
                    .action(ArgAction::Count),
            )
            .arg(Arg::new("level").short('l').long("level").global(true))
            .subcommand(Command::new("solve").visible_alias("s2"))
    }

    fn moved(words: &[&str]) -> Vec<String> {
        let argv = words.iter().map(OsString::from).collect();
        globals_after_subcommand(&cmd(), argv)
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    #[test]
    fn flags_before_a_subcommand_go_after_its_name() {
        assert_eq!(
            moved(&["tool", "-q", "solve", "x"]),
            ["tool", "solve", "-q", "x"]
        );
        assert_eq!(
            moved(&["tool", "-vv", "--quiet", "s2", "x"]),
            ["tool", "s2", "-vv", "--quiet", "x"]
        );
        // And clap takes the result.
        let m = cmd()
            .try_get_matches_from(moved(&["tool", "-v", "solve"]))
            .unwrap();
        let (name, sub) = m.subcommand().unwrap();
        assert_eq!((name, sub.get_count("verbose")), ("solve", 1));
    }

    #[test]
    fn anything_else_is_left_as_written() {
        for words in [
            &["tool", "-q", "end 2014-02-28"][..],
            &["tool", "solve", "-q"],
            &["tool", "-l", "3", "solve"],
            &["tool", "-x", "solve"],
            &["tool", "-", "solve"],
            &["tool", "--", "solve"],
            &["tool", "-q"],
        ] {
            assert_eq!(moved(words), words, "{words:?}");
        }
    }
}
