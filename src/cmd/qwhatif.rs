//! `qwhatif`: ask "what if" of a plan. Applies a change script (SPEC
//! section 6) to conditioned v1 input, computes baseline and scenario with
//! the same engine, and writes the scenario's results with the changes and
//! what they moved; `compare` puts several scenarios side by side.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::cli::{self, Tool, Verbosity};
use crate::error::{Error, Location};
use crate::model::Input;
use crate::rules::{self, Loaded};
use crate::stream::Reader;
use crate::web;
use crate::whatif::{self, compare, explain, lang, render, Located};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The scenario's v1 results streams, then `qwhatif changes v1` and
    /// `qwhatif diff v1`.
    Stream,
    /// A report to read: banner, what moves, then the scenario's report.
    Text,
    /// One JSON document: the what-if and the scenario's results.
    Json,
    /// The diff: one row per item and list whose date or shortage moved.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// Aligned columns.
    Text,
    /// One JSON document.
    Json,
    /// One row per scenario and track.
    Csv,
}

/// Ask "what if" of a plan.
///
/// Reads conditioned v1 input (as `qsnap get qplan conditioned` writes it,
/// provenance included), applies the changes in order, computes the
/// baseline and the scenario with qplan's engine, and writes the
/// scenario's results, the changes applied and every item whose date or
/// shortage moved. Nothing is stored: `qwhatif save` keeps a named
/// scenario in the store, `apply` makes one the data of record.
///
/// CHANGES is a change script: changes separated by newlines or `;`,
/// people and items named by id or exact name (quoted when it has
/// spaces):
///
///   start 2013-10-14            end 2014-02-28        skills Apps:Native
///   holiday 2013-12-24          unholiday 2013-12-26
///   add staff "New hire" track=Tenor skill=Apps [team=Mobile] [count=2]
///   remove staff Bob            move staff Bob track=Money
///   reskill staff Bob skill=Web vacation Bob 2013-12-01..2013-12-10
///   rank "Item X" 3             estimate "Item X" Apps:4,Web:1
///   triage "Item X" 1           drop "Item X"
///   add work "New item" track=Tenor estimate=Apps:2 [triage=1.5] [rank=4] [id=X-9]
///
/// With -s and one argument, the argument is the FILE.
///
/// Examples:
///   qsnap get qplan conditioned | qwhatif -f text 'end 2014-02-28'
///   qwhatif -s hire.whatif -f csv plan.txt
///   qwhatif compare -s hire.whatif -s cut.whatif plan.txt
#[derive(Parser, Debug)]
#[command(name = "qwhatif", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The changes (a script; see above).
    #[arg(value_name = "CHANGES")]
    pub changes: Option<String>,

    /// Input stream; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Read changes from SCRIPT too (after CHANGES; repeatable, in order).
    #[arg(short = 's', long = "script", alias = "file", value_name = "SCRIPT")]
    pub scripts: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Stream)]
    pub format: Format,

    /// Make warnings errors (exit 65, nothing written): those about the
    /// input, as qplan's (a blank estimate or triage, a holiday or vacation
    /// with no day in the plan…), and a holiday or vacation of the changes
    /// with no day in the plan. Without it they are printed on stderr.
    #[arg(long)]
    pub strict: bool,

    /// With --format csv: write every cell exactly as the data has it.
    /// By default a cell a spreadsheet would run as a formula (one that
    /// begins with =, +, @, a TAB or a CR, or with - and is not a number)
    /// gets a ' before it, as OWASP recommends against CSV injection; use
    /// this when a program, not a spreadsheet, reads the CSV.
    #[arg(long)]
    pub csv_raw: bool,

    /// Write to FILE instead of stdout; FILE is replaced only on success.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Several scenarios against the same baseline, in one table.
    ///
    /// Each -s SCRIPT is one scenario, named after its file (`hire.whatif`
    /// is `hire`); the table has a row per scenario (the baseline first)
    /// and track: items done, items DNF, the total shortage per skill and
    /// the latest date. On a terminal, a bar counts the plans computed
    /// (the baseline and each scenario); -q: none.
    Compare {
        /// A scenario's change script (repeatable).
        #[arg(
            short = 's',
            long = "script",
            alias = "file",
            value_name = "SCRIPT",
            required = true
        )]
        scripts: Vec<PathBuf>,

        /// Input stream; `-` or nothing reads stdin.
        #[arg(value_name = "FILE")]
        input: Option<PathBuf>,

        /// Output format.
        #[arg(short, long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,

        /// Make warnings errors (exit 65, nothing written): those about the
        /// input, as qplan's (a blank estimate or triage, a holiday or vacation
        /// with no day in the plan…), and a holiday or vacation of the changes
        /// with no day in the plan. Without it they are printed on stderr.
        #[arg(long)]
        strict: bool,

        /// With --format csv: write every cell exactly as the data has it.
        /// By default a cell a spreadsheet would run as a formula (one that
        /// begins with =, +, @, a TAB or a CR, or with - and is not a number)
        /// gets a ' before it, as OWASP recommends against CSV injection; use
        /// this when a program, not a spreadsheet, reads the CSV.
        #[arg(long)]
        csv_raw: bool,

        /// Write to FILE instead of stdout; FILE is replaced only on success.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Keep a what-if in the store as scenario NAME; print its commit.
    ///
    /// The scenario is based on the version of `qplan conditioned` its
    /// input came from (the input's `qsnap provenance v1`, as `qsnap get`
    /// writes it), or, with no FILE, on the store's current one. The
    /// changes are checked against that base and the scenario computed
    /// first: a script that names nothing saves nothing (65). An input
    /// changed after `qsnap get` is refused (65): a scenario is re-run on
    /// its stored base. With -s and one argument, the argument is the FILE;
    /// `-` reads stdin. Main's history is never touched: the scenario is
    /// the branch `refs/qsnap/whatif/NAME`.
    #[command(verbatim_doc_comment)]
    Save(SaveArgs),
    /// The saved scenarios: name, base commit, when saved, whether the base
    /// is still main's current `qplan conditioned` (`current`) or not
    /// (`old`), and the first change.
    List(StoreArgs),
    /// Re-run scenario NAME on its base, as a plain qwhatif would (same
    /// output formats); with --rebase, on main's current `qplan
    /// conditioned` instead.
    Show(ShowArgs),
    /// Remove scenario NAME (its commits stay as objects until `git gc`).
    Drop(DropArgs),
    /// Make scenario NAME's conditioned input the new `qplan conditioned`
    /// on main; print the commit.
    ///
    /// An ordinary put under the store's lock, recorded with the provenance
    /// `qplan conditioned <base>` and the change script in the commit's
    /// trailers (`Qwhatif-Scenario`, `Qwhatif-Base`, `Qwhatif-Change`).
    /// Refused (65) when main's `qplan conditioned` moved since the
    /// scenario's base, unless --rebase: the script is then re-run on the
    /// current version and that is put.
    Apply(ApplyArgs),
    /// Why an item is short or late, and the smallest change that fixes it.
    ///
    /// For ITEM (id or exact name) in the plan computed from the input: per
    /// list it is in (All and its track), the skill that ran out (its
    /// supply, or its days before the end), with the supply and what the
    /// higher-ranked items took of it, largest first; then the smallest
    /// change of each kind that brings it above the line and before the
    /// end: people to add (`add staff … count=N`), person-weeks to cut
    /// from its estimate (in tenths), ranks to move it up. Each is verified
    /// by re-running the plan with it, as is the next smaller change of
    /// the same kind (which does not fix it), and printed as a change to
    /// paste into qwhatif. An item that is neither short nor late is said
    /// to be so (exit 0).
    Explain {
        /// The work item (id or exact name).
        #[arg(value_name = "ITEM")]
        item: String,

        /// Input stream; `-` or nothing reads stdin.
        #[arg(value_name = "FILE")]
        input: Option<PathBuf>,

        /// Output format.
        #[arg(short, long, value_enum, default_value_t = explain::Format::Text)]
        format: explain::Format,

        /// Make the warnings about the input errors (exit 65), as qplan's
        /// --strict.
        #[arg(long)]
        strict: bool,

        /// Write to FILE instead of stdout; FILE is replaced only on success.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The plan and its what-ifs as a local web page.
    ///
    /// Shows the store's latest `qplan results` as the report of `qplan
    /// --format html`, with a form for a change script computed against
    /// the store's current `qplan conditioned`; a what-if can then be
    /// discarded, saved as a named scenario, or applied. Only loopback
    /// addresses unless --public: the page has no login, and whoever
    /// reaches it can apply a scenario. Prints `qwhatif: serving DIR on
    /// http://ADDR/` on stderr once listening. SIGINT or SIGTERM stop it
    /// (exit 0).
    ///
    /// New results are pushed to the open pages, which replace the report
    /// in place (the text typed in the form and the scroll position stay).
    /// GET /events is that news as Server-Sent Events: `event: results`,
    /// `id:` the commit, `data:` a JSON object (app, stage, commit, time),
    /// a `: heartbeat` comment every 15 s; a client that sends
    /// Last-Event-ID (or ?since=COMMIT) and is behind gets the newest head
    /// at once, one that sends neither the current head first. GET /head is
    /// the current head's commit. Nothing polls: the server is woken by
    /// inotify on the store's refs, or with --snap-bus by qsnap serve's
    /// events. Every connection must send its request headers within 10 s
    /// and its body within 10 s; at most 4096 are open at once.
    ///
    /// Memory stays bounded however long it runs (with or without --bus):
    /// libgit2 keeps at most 256 KiB of parsed commits and trees and maps
    /// at most 32 MiB of packs (-v says so at start); nothing is kept per
    /// page load or what-if, and with --bus what a what-if freed is given
    /// back to the system after each. A what-if holds its scenario while
    /// it is computed: the plan's input and results, a few times their
    /// size. Measured on a three-month plan beside 10,000 to 47,000 puts:
    /// 8 to 9 MB resident with --bus over 470 what-ifs; the page 9 to
    /// 22 MB, as its history views map more of the store's packs (within
    /// the 32 MiB) and as its heap keeps what page loads freed (about
    /// 12 MB, flat, since all threads share one malloc arena).
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// The cheapest combination of allowed changes that meets a goal.
    Solve(super::qwhatif_solve::SolveArgs),
}

/// `qwhatif serve`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where to listen: a loopback address and port (port 0: any free
    /// one; the address is printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// Allow an address off this machine. The page has no login: anyone
    /// who can reach it can save scenarios and apply them.
    #[arg(long)]
    pub public: bool,
    /// The address users open when the page is behind a reverse proxy
    /// (`https://plan.example.com`): requests whose Host is that name, and
    /// forms sent from that origin, are answered as the page's own; all
    /// others are still refused. The proxy may pass the Host on or not.
    /// Not needed for a proxy on this machine to reach a loopback ADDR;
    /// --public is still needed to listen off this machine.
    #[arg(long, value_name = "URL", value_parser = web::page::public_url_arg, conflicts_with = "bus")]
    pub public_url: Option<web::PublicUrl>,
    /// Write the page's address (`http://127.0.0.1:PORT/`) to FILE once
    /// it is listening.
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    /// The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap.
    // `--repo` stays as a hidden alias (its name before `--store`).
    #[arg(long = "store", alias = "repo", env = "QSNAP_REPO", value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Answer WHATIF requests on the bus at URL (`ipc://PATH` or
    /// `tcp://127.0.0.1:PORT`) instead of serving the page: the base
    /// revision and a change script in, what `qwhatif --format stream`
    /// writes out (the bus of `qsnap serve`).
    #[arg(long, value_name = "URL", value_parser = crate::bus::client::address_arg, conflicts_with_all = ["http", "ready_file"])]
    pub bus: Option<String>,
    /// With --bus: every request must carry the token in FILE's first
    /// line (needed with --public; nng has no encryption). With
    /// --snap-bus: the token `qsnap serve` wants.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Learn of new results from `qsnap serve` (URL: its request address,
    /// as `qwatch --bus` takes it) instead of from the store's files: the
    /// page subscribes to its events first, then reads the heads. The page
    /// still reads the results from --store. Without it, the page watches
    /// the store's refs through the kernel (inotify). Either way nothing
    /// polls, and open pages get the news on `/events`.
    #[arg(long, value_name = "URL", value_parser = crate::bus::client::address_arg, conflicts_with = "bus")]
    pub snap_bus: Option<String>,
    /// With --snap-bus: where `qsnap serve` publishes (default: the
    /// address its HEADS reply names).
    #[arg(long, value_name = "URL", value_parser = crate::bus::client::address_arg, requires = "snap_bus")]
    pub snap_events: Option<String>,
}

/// `qwhatif serve`: the page (`--http`, [`web`]) or the bus service
/// (`--bus`, [`whatif::bus`]).
fn serve(a: &ServeArgs, quiet: bool, verbose: bool) -> anyhow::Result<()> {
    let repo = a.repo.clone().filter(|p| !p.as_os_str().is_empty());
    if let Some(url) = &a.bus {
        return whatif::bus::run(url, a.token_file.as_deref(), a.public, repo, quiet, verbose);
    }
    let snap_bus = match &a.snap_bus {
        Some(rep) => Some(web::SnapBus {
            rep: rep.clone(),
            events: a.snap_events.clone(),
            token: a
                .token_file
                .as_deref()
                .map(crate::bus::server::read_token)
                .transpose()?,
        }),
        None if a.token_file.is_some() => {
            return Err(crate::error::Error::Usage(
                "--token-file goes with --bus or --snap-bus: the token of a bus service".into(),
            )
            .into())
        }
        None => None,
    };
    let opts = web::Options {
        addr: a.http,
        public: a.public,
        store: crate::snap::store::locate(repo)?,
        public_url: a.public_url.clone(),
        snap_bus,
        verbose,
    };
    web::run(opts, a.ready_file.clone(), quiet)
}

/// Where the store is, as for qsnap.
#[derive(clap::Args, Debug)]
pub struct StoreArgs {
    /// The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap.
    // `--repo`, its name before every command said `--store`, stays as a
    // hidden alias.
    #[arg(long = "store", alias = "repo", env = "QSNAP_REPO", value_name = "DIR")]
    pub repo: Option<PathBuf>,
}

impl StoreArgs {
    fn open(&self) -> anyhow::Result<crate::snap::Store> {
        let repo = self.repo.clone().filter(|p| !p.as_os_str().is_empty());
        Ok(crate::snap::Store::open(&crate::snap::store::locate(
            repo,
        )?)?)
    }
}

#[derive(clap::Args, Debug)]
pub struct SaveArgs {
    /// The scenario's name: lower-case letters, digits, '_' and '-',
    /// starting with a letter or a digit, at most 64 characters.
    pub name: String,
    /// The changes (a script).
    #[arg(value_name = "CHANGES")]
    pub changes: Option<String>,
    /// Conditioned input as `qsnap get qplan conditioned` gives it; `-`
    /// reads stdin. Default: the store's current `qplan conditioned`.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Read changes from SCRIPT too (after CHANGES; repeatable, in order).
    #[arg(short = 's', long = "script", alias = "file", value_name = "SCRIPT")]
    pub scripts: Vec<PathBuf>,
    /// Replace the scenario of that name.
    #[arg(long)]
    pub force: bool,
    /// Wait at most SECONDS for the store's lock, then fail with 75.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The scenario.
    pub name: String,
    /// Run it on main's current `qplan conditioned`, not on its base.
    #[arg(long)]
    pub rebase: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Stream)]
    pub format: Format,
    /// With --format csv: write every cell exactly as the data has it.
    /// By default a cell a spreadsheet would run as a formula (one that
    /// begins with =, +, @, a TAB or a CR, or with - and is not a number)
    /// gets a ' before it, as OWASP recommends against CSV injection; use
    /// this when a program, not a spreadsheet, reads the CSV.
    #[arg(long)]
    pub csv_raw: bool,
    /// Write to FILE instead of stdout; FILE is replaced only on success.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(clap::Args, Debug)]
pub struct DropArgs {
    /// The scenario.
    pub name: String,
    /// Wait at most SECONDS for the store's lock, then fail with 75.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// The scenario.
    pub name: String,
    /// Apply it to main's current `qplan conditioned` even when that moved
    /// since the scenario's base (the script is re-run on it).
    #[arg(long)]
    pub rebase: bool,
    /// Wait at most SECONDS for the store's lock, then fail with 75.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs a scenario subcommand (save, list, show, drop, apply); `None` for
/// any other command.
fn run_scenario(
    command: &Command,
    v: &Verbosity,
    out: &mut dyn Write,
) -> Option<anyhow::Result<()>> {
    use crate::whatif::scenario;
    use std::time::Duration;
    let write = |r: std::io::Result<()>| r.map_err(|e| Error::io("writing the output", e).into());
    let short = crate::snap::history::short;
    Some(match command {
        Command::Save(a) => (|| {
            scenario::check_name(&a.name)?;
            let (text, path) = match (&a.changes, &a.input) {
                (Some(c), None) if !a.scripts.is_empty() => (None, Some(PathBuf::from(c))),
                (c, p) => (c.clone(), p.clone()),
            };
            let mut changes = match &text {
                Some(t) => lang::parse("changes", t)?,
                None => Vec::new(),
            };
            for p in &a.scripts {
                changes.extend(read_script(p)?);
            }
            let store = a.store.open()?;
            let base = match path {
                Some(p) => {
                    let name = cli::input_name(Some(&p));
                    let mut bytes = Vec::new();
                    cli::open_input(Some(&p))?
                        .read_to_end(&mut bytes)
                        .map_err(|e| Error::io(format!("reading {name}"), e))?;
                    scenario::base_of_input(&store, &bytes, &name)?
                }
                None => {
                    let head = scenario::current_base(&store)?.id();
                    scenario::read_base(&store, head)?
                }
            };
            let saved = scenario::save(
                &store,
                &a.name,
                base,
                &changes,
                a.force,
                Duration::from_secs(a.wait),
            )?;
            v.note(
                Args::NAME,
                format!(
                    "saved scenario {} on qplan conditioned {}{}",
                    a.name,
                    short(saved.base),
                    saved
                        .replaced
                        .map_or(String::new(), |o| format!(", replacing {}", short(o)))
                ),
            );
            write(writeln!(out, "{}", saved.commit))
        })(),
        Command::List(store) => (|| {
            let entries = scenario::list(&store.open()?)?;
            // A change names items and people: shown with their control
            // characters escaped, as every text output.
            let mut text = Vec::new();
            write(scenario::write_list(&entries, &mut text))?;
            let text = String::from_utf8_lossy(&text);
            write(out.write_all(crate::cli::visible::visible(&text).as_bytes()))
        })(),
        Command::Show(a) => (|| {
            let w = scenario::show(&a.store.open()?, &a.name, a.rebase)?;
            write(match a.format {
                Format::Stream => render::stream(&w, out),
                Format::Text => render::text(&w, out),
                Format::Json => render::json(&w, out),
                Format::Csv => render::csv_as(&w, a.csv_raw, out),
            })
        })(),
        Command::Drop(a) => (|| {
            scenario::check_name(&a.name)?;
            let old = scenario::drop(&a.store.open()?, &a.name, Duration::from_secs(a.wait))?;
            v.note(
                Args::NAME,
                format!("dropped scenario {} (was {})", a.name, short(old)),
            );
            Ok(())
        })(),
        Command::Apply(a) => (|| {
            scenario::check_name(&a.name)?;
            let store = a.store.open()?;
            let applied = scenario::apply(&store, &a.name, a.rebase, Duration::from_secs(a.wait))?;
            let oid = match applied.put {
                crate::snap::Put::Committed(oid) => oid,
                crate::snap::Put::Unchanged(oid) => {
                    if !v.quiet {
                        eprintln!("qwhatif: qplan conditioned unchanged");
                    }
                    oid
                }
            };
            v.note(
                Args::NAME,
                format!(
                    "applied scenario {} on qplan conditioned {}",
                    a.name,
                    short(applied.base)
                ),
            );
            write(writeln!(out, "{oid}"))
        })(),
        _ => return None,
    })
}

/// A CHANGES argument that is not a change script but one word close to a
/// subcommand's name (`qwhatif comapre`) is a mistyped subcommand: a usage
/// error (2) that names the subcommand, rather than a script error.
fn mistyped_command(changes: &str) -> Option<Error> {
    use clap::CommandFactory;
    let word = changes.trim();
    if word.is_empty()
        || !word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let (distance, name) = Args::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|n| n != "help")
        .map(|n| (strsim::damerau_levenshtein(&lower, &n), n))
        .min()?;
    // Two edits catch swapped, missing and doubled letters; a word further
    // from every name is more likely a change misspelt.
    (distance <= 2 && distance < name.len()).then(|| {
        Error::Usage(format!(
            "{word:?} is neither a subcommand nor a change; did you mean {name}? (`qwhatif {name} --help`)"
        ))
    })
}

/// Reads a change script file (UTF-8); `-` is stdin (as `qwhatif solve -f
/// script` writes it).
pub fn read_script(path: &Path) -> anyhow::Result<Vec<Located>> {
    let shown = cli::input_name(Some(path));
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    }
    .map_err(|e| Error::io(format!("cannot read {shown}"), e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let before = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        Error::data(
            Location::default().line(line),
            format!("{shown}: the script is not UTF-8"),
        )
    })?;
    Ok(lang::parse(&shown, &text)?)
}

/// Reads the conditioned input a what-if starts from, printing the rule
/// book's warnings about it (with `strict`, the first is the error).
pub fn read_input(path: Option<&Path>, strict: bool, v: &Verbosity) -> anyhow::Result<Input> {
    let name = cli::input_name(path);
    let input = cli::open_input(path)?;
    let (loaded, warnings, more) = rules::read_plan_warned(&mut Reader::new(input), strict)
        .with_context(|| format!("reading {name}"))?;
    v.warn_all(Args::NAME, &format!("reading {name}"), &warnings, more);
    match loaded {
        Loaded::Input(input) => Ok(*input),
        Loaded::Results(_) => Err(Error::data(
            Location::default(),
            format!(
                "{name} is a results stream; qwhatif starts from the conditioned input (qplan params, holidays, staff and work v1), as `qsnap get qplan conditioned` gives it"
            ),
        )
        .into()),
    }
}

/// The changes' holidays and vacations with no day in the plan: printed
/// as warnings, or with `strict` the first is the error.
fn script_warnings(
    changes: &[Located],
    base: &Input,
    strict: bool,
    v: &Verbosity,
) -> anyhow::Result<()> {
    let mut warnings = lang::outside_plan(changes, base.params.start, base.params.end);
    if strict && !warnings.is_empty() {
        let first = warnings.remove(0);
        return Err(anyhow::Error::new(first).context("a warning, an error with --strict"));
    }
    v.warn_all(Args::NAME, "", &warnings, 0);
    Ok(())
}

impl Tool for Args {
    const NAME: &'static str = "qwhatif";

    fn output(&self) -> Option<&Path> {
        match &self.command {
            Some(Command::Compare { output, .. } | Command::Explain { output, .. }) => {
                output.as_deref()
            }
            Some(Command::Show(a)) => a.output.as_deref(),
            Some(Command::Solve(a)) => a.output.as_deref(),
            _ => self.output.as_deref(),
        }
    }

    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        if let Some(Command::Serve(a)) = &self.command {
            // A daemon: libgit2's memory capped before the store is opened.
            let bounds = crate::snap::daemon::bound_memory()?;
            if self.verbosity.verbose > 0 {
                eprintln!("qwhatif: serve: {}", bounds.describe());
            }
            return serve(a, self.verbosity.quiet, self.verbosity.verbose > 0);
        }
        if let Some(Command::Solve(a)) = &self.command {
            return super::qwhatif_solve::run(a, &self.verbosity, &read_input, out);
        }
        if let Some(done) = self
            .command
            .as_ref()
            .and_then(|c| run_scenario(c, &self.verbosity, out))
        {
            return done;
        }
        if let Some(Command::Compare {
            scripts,
            input,
            format,
            strict,
            csv_raw,
            ..
        }) = &self.command
        {
            let scenarios = scripts
                .iter()
                .map(|p| {
                    let name = p
                        .file_stem()
                        .map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into());
                    Ok((name, read_script(p)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let base = read_input(input.as_deref(), *strict, &self.verbosity)?;
            for (_, changes) in &scenarios {
                script_warnings(changes, &base, *strict, &self.verbosity)?;
            }
            let bar = cli::progress::bar(
                scenarios.len() as u64 + 1,
                "qwhatif compare",
                "plans",
                self.verbosity.quiet,
            );
            let table = compare::compare(base, &scenarios, &bar);
            bar.finish_and_clear();
            let table = table?;
            return match format {
                TableFormat::Text => table.text(out),
                TableFormat::Json => table.json(out),
                TableFormat::Csv => table.csv(*csv_raw, out),
            }
            .map_err(|e| Error::io("writing the output", e).into());
        }
        if let Some(Command::Explain {
            item,
            input,
            format,
            strict,
            ..
        }) = &self.command
        {
            let base = read_input(input.as_deref(), *strict, &self.verbosity)?;
            let e = explain::explain(&base, item)?;
            return match format {
                explain::Format::Text => {
                    // Names are shown with their control characters escaped.
                    let mut text = Vec::new();
                    explain::text(&e, &mut text)?;
                    let text = String::from_utf8_lossy(&text);
                    out.write_all(crate::cli::visible::visible(&text).as_bytes())
                }
                explain::Format::Json => explain::json(&e, out),
            }
            .map_err(|e| Error::io("writing the output", e).into());
        }
        // With -s and one argument, the argument is the input.
        let (text, path) = match (&self.changes, &self.input) {
            (Some(c), None) if !self.scripts.is_empty() => (None, Some(PathBuf::from(c))),
            (c, p) => (c.clone(), p.clone()),
        };
        let mut changes = match &text {
            Some(t) => lang::parse("changes", t).map_err(|e| match mistyped_command(t) {
                Some(usage) => anyhow::Error::from(usage),
                None => e.into(),
            })?,
            None => Vec::new(),
        };
        let stdin = |p: &Path| p == Path::new("-");
        if self.scripts.iter().filter(|p| stdin(p)).count()
            + usize::from(path.as_deref().is_none_or(stdin))
            > 1
        {
            return Err(Error::Usage(
                "stdin can be read once: give the input as FILE when the script is read from -s -"
                    .into(),
            )
            .into());
        }
        for p in &self.scripts {
            changes.extend(read_script(p)?);
        }
        let base = read_input(path.as_deref(), self.strict, &self.verbosity)?;
        script_warnings(&changes, &base, self.strict, &self.verbosity)?;
        self.verbosity.note(
            Self::NAME,
            format!(
                "{} changes to {} items, {} people; based on {}",
                changes.len(),
                base.work.len(),
                base.staff.len(),
                whatif::based_on(base.provenance.as_ref())
                    .as_deref()
                    .unwrap_or("no provenance")
            ),
        );
        let w = whatif::run(base, changes)?;
        match self.format {
            Format::Stream => render::stream(&w, out),
            Format::Text => render::text(&w, out),
            Format::Json => render::json(&w, out),
            Format::Csv => render::csv_as(&w, self.csv_raw, out),
        }
        .map_err(|e| Error::io("writing the output", e))?;
        // The process ends here: freeing three plans item by item would
        // only delay the exit.
        std::mem::forget(w);
        Ok(())
    }
}
