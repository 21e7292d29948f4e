//! `qwhatif solve`: the cheapest combination of allowed changes that meets
//! a goal (issue 28). The search is [`crate::whatif::solve`]; this is its
//! command line: the ask read from the argument and files, the progress
//! bar, Ctrl-C, the formats and the exit codes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::cli::Verbosity;
use crate::error::Error;
use crate::model::Input;
use crate::whatif::solve::{self, ask, render, End};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The goal, what fails today, the cheapest changes with their prices,
    /// each goal item before -> after, the scenarios computed.
    Text,
    /// The change script alone, ready for `qwhatif -s -` or `qwhatif save`.
    Script,
    /// One JSON document (cost, proven, script, items, …).
    Json,
}

/// The cheapest combination of allowed changes that meets a goal.
///
/// Reads conditioned input like qwhatif and an ask: one goal line and a
/// menu of allowed changes with their prices, separated by newlines or
/// `;`, `#` starting a comment:
///
///   goal triage<=1.5 by 2013-12-13
///   allow 5 max=2 add staff "Web hire" track=Bass skill=Web
///   allow 1 drop MOB-136
///   allow 0.5 rank MOB-141 1
///   allow 2 estimate MOB-130 Native:1,Web:2
///
/// The goal's filters, ANDed, choose the goal items on the plan as it is:
/// triage<=T (triage level T or a more important one), track=NAME,
/// items=ID,ID (by id); with none, every item. Each goal item must be,
/// in All and in its own track, above the line (no shortage) and done on
/// or before `by` (default: the plan's end); a dropped goal item does not
/// meet it.
///
/// `allow COST [max=N] CHANGE`: CHANGE is any qwhatif change, COST its
/// price (a decimal, in any unit, not below zero). max=N (default 1) is
/// for add staff only: used k times it is `add staff … count=k` (k times
/// its count=) at k times the price.
///
/// The answer is the combination of menu lines of least total price that
/// meets the goal; ties go to fewer lines, then to lines earlier in the
/// menu. Its changes are applied in menu order (it matters for rank) and
/// listed so. Combinations are computed in increasing order of price by
/// qplan's engine, on every core, so the answer is exact: `proven` says
/// that every cheaper combination was computed and fails. Menu lines that
/// cannot change a goal item (a triage change; dropping or re-estimating
/// an item ranked after every goal item) are left out, and the answer says
/// so. --max-scenarios or Ctrl-C end a long search with the best found,
/// said to be NOT proven. A progress bar is drawn on a terminal.
///
/// Exit status: 0 a combination meets the goal; 1 none does (the answer
/// names the goal items no combination meets, and why, and the cheapest
/// combination that meets it for the most items), or none was found
/// before the budget ran out; 2 a bad ask (line and column); 65 bad
/// input; 130 interrupted (the best found so far is written).
///
/// With -s and one argument, the argument is the FILE.
///
/// Examples:
///   qwhatif solve 'goal triage<=1 by 2013-12-13; allow 5 max=3 add staff Hire track=Tenor skill=Apps' plan.txt
///   qwhatif solve -s menu.ask -f script plan.txt | qwhatif -s - -f text plan.txt
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct SolveArgs {
    /// The ask: a goal line and allow lines (see above).
    #[arg(value_name = "ASK")]
    pub ask: Option<String>,

    /// Input stream; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Read the ask from ASKFILE too (after ASK; repeatable, in order);
    /// `-` reads stdin.
    #[arg(short = 's', long = "ask", alias = "file", value_name = "ASKFILE")]
    pub asks: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Compute at most N scenarios; a search that needs more ends with the
    /// best found, said to be NOT proven.
    #[arg(long, value_name = "N", default_value_t = solve::MAX_SCENARIOS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_scenarios: u64,

    /// Make the warnings about the input errors (exit 65), as qplan's
    /// --strict.
    #[arg(long)]
    pub strict: bool,

    /// Write to FILE instead of stdout; FILE is replaced only on success.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Reads an ask file (UTF-8); `-` is stdin.
fn read_ask(path: &Path) -> anyhow::Result<ask::Part> {
    let shown = crate::cli::input_name(Some(path));
    let mut bytes = Vec::new();
    crate::cli::open_input(Some(path))?
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("cannot read {shown}"), e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let before = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        Error::Usage(format!("{shown}, line {line}: the ask is not UTF-8"))
    })?;
    Ok(ask::parse_part(&shown, &text)?)
}

/// How qwhatif reads its conditioned input (its warnings printed; with
/// `strict` the first is the error).
pub type ReadInput<'a> = &'a dyn Fn(Option<&Path>, bool, &Verbosity) -> anyhow::Result<Input>;

/// Runs `qwhatif solve`; the input is read with `read_input`, after the
/// ask (a bad ask is an error before any input is read).
pub fn run(
    a: &SolveArgs,
    v: &Verbosity,
    read_input: ReadInput,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    // With -s and one argument, the argument is the input.
    let (text, path) = match (&a.ask, &a.input) {
        (Some(c), None) if !a.asks.is_empty() => (None, Some(PathBuf::from(c))),
        (c, p) => (c.clone(), p.clone()),
    };
    let stdin = |p: &Path| p == Path::new("-");
    if a.asks.iter().filter(|p| stdin(p)).count() + usize::from(path.as_deref().is_none_or(stdin))
        > 1
    {
        return Err(Error::Usage(
            "stdin can be read once: give the input as FILE when the ask is read from -s -".into(),
        )
        .into());
    }
    let mut parts = Vec::new();
    if let Some(t) = &text {
        parts.push(("ask".to_owned(), ask::parse_part("ask", t)?));
    }
    for p in &a.asks {
        parts.push((crate::cli::input_name(Some(p)), read_ask(p)?));
    }
    let ask = ask::join(parts)?;
    let base = read_input(path.as_deref(), a.strict, v)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Ctrl-C stops the search from here on (the -v note below is what
    // the test of it waits for).
    let stop = crate::cli::stop_on_signals()?;
    v.note(
        "qwhatif",
        format!(
            "solve: {} menu lines on {} items, {} people; {threads} threads, at most {} scenarios",
            ask.menu.len(),
            base.work.len(),
            base.staff.len(),
            a.max_scenarios
        ),
    );
    let bar = crate::cli::progress::bar(1, "qwhatif solve", "scenarios", v.quiet);
    let progress = |tried: u64, of: u64| {
        bar.set_length(of);
        bar.set_position(tried);
    };
    let answer = solve::solve(
        &base,
        &ask,
        &solve::Options {
            max_scenarios: a.max_scenarios,
            threads,
            stop: &stop,
            progress: &progress,
        },
    );
    bar.finish_and_clear();
    let answer = answer?;
    let write = |r: std::io::Result<()>| -> anyhow::Result<()> {
        r.map_err(|e| Error::io("writing the output", e).into())
    };
    match a.format {
        Format::Text => {
            // Names are shown with their control characters escaped.
            let mut text = Vec::new();
            write(render::text(&answer, &mut text))?;
            let text = String::from_utf8_lossy(&text);
            write(out.write_all(crate::cli::visible::visible(&text).as_bytes()))?;
        }
        Format::Script => write(render::script(&answer, out))?,
        Format::Json => write(render::json(&answer, out))?,
    }
    if answer.end == End::Interrupted {
        write(out.flush())?;
        return Err(Error::io(
            "interrupted: what was written is the best found so far, NOT proven",
            std::io::Error::from(std::io::ErrorKind::Interrupted),
        )
        .into());
    }
    match &answer.found {
        None if answer.proven => Err(Error::No(format!(
            "no combination of the menu meets the goal ({} of {} goal items at most)",
            answer.most.as_ref().map_or(0, |m| m.met()),
            answer.items.len()
        ))
        .into()),
        None => Err(Error::No(format!(
            "no combination that meets the goal was found in {} scenarios (NOT proven: --max-scenarios)",
            answer.tried
        ))
        .into()),
        Some(_) => {
            if !answer.proven {
                v.warn(
                    "qwhatif",
                    format!(
                        "the answer is the best found in {} scenarios, NOT proven the cheapest (--max-scenarios)",
                        answer.tried
                    ),
                );
            }
            Ok(())
        }
    }
}
