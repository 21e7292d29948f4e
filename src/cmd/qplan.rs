//! `qplan`: the application filter. Reads conditioned v1 input streams and
//! writes supply, demand, shortages and dev-complete dates; given a results
//! stream instead, renders it without recomputing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::cli::{self, Tool, Verbosity};
use crate::error::Error;
use crate::plan::{compute, Results};
use crate::report::html::{self, Extras};
use crate::report::render::{self, View};
use crate::report::{blame, trend};
use crate::rules::fields::{parse_triage, Triage};
use crate::rules::{self, Loaded};
use crate::snap::Store;
use crate::stream::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The v1 results streams (man 5 qplan-stream), for qsnap and other tools.
    Stream,
    /// A report to read: supply against demand and the ranked work list.
    Text,
    /// One JSON document with everything, for web pages and jq.
    Json,
    /// The work lists, one row per item per track.
    Csv,
    /// A report to look at: one self-contained HTML page with charts (add
    /// the trend across stored versions with --store).
    Html,
}

/// Compute supply, demand, shortages and dev-complete dates.
///
/// Reads the conditioned input streams (qplan params, holidays, staff and
/// work v1) and writes the results. Given a results stream (as `qplan`
/// wrote it, for instance from `qsnap get qplan results`) it renders it in
/// the format asked without recomputing. A `qsnap provenance v1` section is
/// passed through.
///
/// Examples:
///   qsnap get qplan conditioned | qplan | qsnap put qplan results
///   qsnap get qplan results | qplan -f text --track Tenor --triage 2
///   qplan -f csv plan.txt > work.csv
///   qplan -f html --store ~/.local/share/qsnap -o report.html
#[derive(Parser, Debug)]
#[command(name = "qplan", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Input stream; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Stream)]
    pub format: Format,

    /// Show only this track (text, json, csv, html).
    #[arg(long, value_name = "NAME")]
    pub track: Option<String>,

    /// Show only work at this triage level or more important (1, 1.5, 2,
    /// 2.5, 3), and demand up to this level (text, json, csv, html).
    #[arg(long, value_name = "LEVEL", value_parser = triage_arg)]
    pub triage: Option<Triage>,

    /// With --format html: the snapshot store whose stored versions of
    /// `qplan results` make the report's trend (the newest 52, read, not
    /// recomputed) and whose commits give the provenance its times.
    /// Without FILE the report is of the store's newest results; `-` reads
    /// stdin. Without --store, the html report takes its trend from
    /// $QSNAP_REPO when that is set, and still reports FILE or stdin (the
    /// environment adds the trend, it never changes what is reported); the
    /// other formats do not read a store.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// With --format html and a store: draw the trend of replay NAME
    /// (`qsnap replay APP FROM results --name NAME`, of `qplan results`)
    /// beside main's, on the same scale.
    #[arg(long, value_name = "NAME")]
    pub replay: Option<String>,

    /// With --format csv: write every cell exactly as the data has it.
    /// By default a cell a spreadsheet would run as a formula (one that
    /// begins with =, +, @, a TAB or a CR, or with - and is not a number)
    /// gets a ' before it, as OWASP recommends against CSV injection; use
    /// this when a program, not a spreadsheet, reads the CSV.
    #[arg(long)]
    pub csv_raw: bool,

    /// Make the warnings about the input errors (exit 65, nothing
    /// written): a blank estimate or triage, a holiday or vacation with no
    /// day in the plan, a person on a track with no work, and the others
    /// of `qcondition --check`. Without it they are printed on stderr
    /// (the first 20; -v up to 1,000; -q none) and the plan is computed.
    #[arg(long)]
    pub strict: bool,

    /// Write to FILE instead of stdout; FILE is replaced only when qplan
    /// succeeds.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Blame(BlameArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BlameFormat {
    /// `qplan blame item v1`, `qplan blame v1` (one line per list the
    /// item moved in: commit, time, previous commit, list, date before,
    /// after, shortage before, after; `-` where it was not planned),
    /// `qplan blame input v1` (commit, why, resource, section, `-` or `+`,
    /// the row) and `qplan blame note v1` (commit, message).
    Stream,
    /// A story to read, newest first.
    Text,
    /// One JSON document.
    Json,
}

/// Why did this item move? Every stored version where its date or shortage changed.
///
/// Walks the stored versions of `APP results` (main, newest first) and
/// lists each one where ITEM's dev-complete date or shortage changed, in
/// its own track's list or in `All`: the commit, its time, before and
/// after. Through the versions' provenance it then compares the
/// conditioned input (and the raw data) they were computed from and lists
/// the rows that changed and can move the item, each with why:
///   own            its own work row (estimate, rank, triage, track)
///   ranked-before  work ranked before it in its track (in any track
///                  when its All row moved)
///   staff          people of its track (any track when its All row
///                  moved) with one of its skills, their vacations
///   holiday        holidays; params: the plan's dates and skills
///   raw            raw rows that name the item by its id
/// A step whose versions lack provenance says so and the walk goes on.
/// Stored results are read, never recomputed. A progress bar shows on
/// stderr when it is a terminal (not with -q).
///
/// Examples:
///   qplan blame MOB-203 -f text
///   qplan blame MOB-203 --store ~/plans --app mobile -f json | jq .steps[0]
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct BlameArgs {
    /// The work item's id.
    pub item: String,

    /// The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap.
    #[arg(long, env = "QSNAP_REPO", value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// The app whose `APP results` are read.
    #[arg(long, default_value = "qplan")]
    pub app: String,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = BlameFormat::Stream)]
    pub format: BlameFormat,
}

impl BlameArgs {
    fn run(self, quiet: bool, out: &mut dyn Write) -> anyhow::Result<()> {
        let dir = crate::snap::store::locate(self.store)?;
        let store = Store::open(&dir)?;
        let opts = blame::Options {
            app: self.app,
            item: self.item,
        };
        let b = blame::blame(&store, &opts, &|n| {
            crate::cli::progress::bar(n, "qplan blame", "versions", quiet)
        })?;
        match self.format {
            BlameFormat::Stream => blame::write_stream(&b, out),
            BlameFormat::Text => blame::write_text(&b, out),
            BlameFormat::Json => blame::write_json(&b, out),
        }
        .map_err(|e| Error::io("writing the output", e))?;
        Ok(())
    }
}

fn triage_arg(s: &str) -> Result<Triage, String> {
    if s.trim().is_empty() {
        return Err("a triage level is a number: 1, 1.5, 2, 2.5 or 3".into());
    }
    parse_triage(s)
}

impl Tool for Args {
    const NAME: &'static str = "qplan";

    fn output(&self) -> Option<&Path> {
        self.output.as_deref()
    }

    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        if let Some(Command::Blame(b)) = self.command {
            return b.run(self.verbosity.quiet, out);
        }
        if self.format == Format::Stream && (self.track.is_some() || self.triage.is_some()) {
            return Err(Error::Usage(
                "--track and --triage narrow the text, json and csv formats; the stream format is always whole"
                    .into(),
            )
            .into());
        }
        if self.store.is_some() && self.format != Format::Html {
            return Err(Error::Usage(
                "--store reads the trend of the html report; for the other formats, \
                 `qsnap get qplan results | qplan -f FORMAT`"
                    .into(),
            )
            .into());
        }
        if let Some(name) = &self.replay {
            crate::snap::replay::check_name(name)?;
            if self.format != Format::Html {
                return Err(Error::Usage(
                    "--replay draws a replay in the html report's trend: give --format html".into(),
                )
                .into());
            }
        }
        // QSNAP_REPO is the store of every command; here it only adds the
        // trend to an html report of FILE or stdin. It is read here rather
        // than by clap, which would make it indistinguishable from --store
        // (whose store, without FILE, is also the input).
        let from_env = match &self.store {
            None if self.format == Format::Html => std::env::var_os("QSNAP_REPO")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            _ => None,
        };
        let store = match self.store.as_ref().or(from_env.as_ref()) {
            Some(dir) => Some(Store::open(dir).with_context(|| {
                if from_env.is_some() {
                    "opening the store named by QSNAP_REPO (for the report's trend)".to_owned()
                } else {
                    format!("opening the store {}", dir.display())
                }
            })?),
            None => None,
        };
        // The store's history, and its newest results when --store names
        // it and FILE does not name others.
        let newest_wanted = self.input.is_none() && self.store.is_some();
        let (trend, newest) = match &store {
            Some(s) => {
                let (trend, newest) = trend::read_keeping(s, newest_wanted).with_context(|| {
                    format!(
                        "reading the stored versions of qplan results in {}",
                        s.dir.display()
                    )
                })?;
                let mut trend = trend;
                if let Some(name) = &self.replay {
                    let replay = trend::read_replay(s, name)
                        .with_context(|| format!("reading replay {name} in {}", s.dir.display()))?;
                    trend.replay = Some((name.clone(), Box::new(replay)));
                }
                (Some(trend), newest)
            }
            None if self.replay.is_some() => {
                return Err(Error::Usage(
                    "--replay reads a replay in a store: give --store DIR (or set QSNAP_REPO)"
                        .into(),
                )
                .into())
            }
            None => (None, None),
        };
        let results = match newest {
            Some(r) => r,
            None => self.read_input()?,
        };
        let track = match &self.track {
            None => None,
            Some(t) => Some(results.tracks.iter().position(|x| x == t).ok_or_else(|| {
                Error::Usage(format!(
                    "no track named {t:?}; the tracks are: {}",
                    results.tracks.join(", ")
                ))
            })?),
        };
        let view = View {
            track,
            triage: self.triage,
        };
        match self.format {
            Format::Stream => results.write_stream(out),
            Format::Text => render::text(&results, view, out),
            Format::Json => render::json(&results, view, out),
            Format::Csv => render::csv_as(&results, view, self.csv_raw, out),
            Format::Html => {
                let extras = Extras {
                    trend: trend.as_ref(),
                    provenance: trend::provenance_rows(&results, store.as_ref()),
                    store: store.is_some(),
                };
                html::html(&results, view, &extras, out)
            }
        }
        .map_err(|e| Error::io("writing the output", e))?;
        // The process ends here: freeing millions of rows one by one would
        // only delay the exit (a tenth of the run for a million items).
        std::mem::forget(results);
        Ok(())
    }
}

impl Args {
    /// The results from the input: computed from conditioned inputs, or a
    /// results stream read back.
    fn read_input(&self) -> anyhow::Result<Results> {
        let name = cli::input_name(self.input.as_deref());
        let input = cli::open_input(self.input.as_deref())?;
        let (loaded, warnings, more) =
            rules::read_plan_warned(&mut Reader::new(input), self.strict)
                .with_context(|| format!("reading {name}"))?;
        self.verbosity
            .warn_all(Self::NAME, &format!("reading {name}"), &warnings, more);
        Ok(match loaded {
            Loaded::Input(input) => {
                self.verbosity.note(
                    Self::NAME,
                    format!(
                        "computing {} items, {} people, {} days",
                        input.work.len(),
                        input.staff.len(),
                        (input.params.end - input.params.start).num_days() + 1
                    ),
                );
                compute(*input)?
            }
            Loaded::Results(sections) => {
                self.verbosity
                    .note(Self::NAME, "rendering a results stream");
                crate::report::stored::read(sections).with_context(|| format!("reading {name}"))?
            }
        })
    }
}
