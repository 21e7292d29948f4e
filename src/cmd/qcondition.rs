//! `qcondition`: team-specific raw layouts into clean qplan input streams;
//! the gate that never lets bad data through.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{ArgGroup, Parser, ValueEnum};

use crate::cli::{self, Tool, Verbosity};
use crate::condition::gate::{Problem, Problems};
use crate::condition::{self, check, map, RawStream};
use crate::error::{Error, Location};
use crate::stream::{read_sections, Reader};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Errors {
    /// One line per problem: `qcondition: line 12, section 'raw work', ...`.
    Text,
    /// One JSON array of problems, for monitoring: severity, section,
    /// line, column, value, message.
    Json,
}

/// Turn team-specific raw layouts into clean qplan input streams, and refuse bad data.
///
/// With --map, reads a raw stacked stream (one `raw NAME` section per
/// source, as qpull writes it: CSV, TSV or JSON) and writes `qplan params
/// v1`, `qplan holidays v1`, `qplan staff v1` and `qplan work v1`, the
/// provenance passed through, and `=====end`. With --check, reads streams
/// already conditioned (by any team's own script) with qplan's own reader,
/// so it passes exactly what qplan accepts, and writes them back as every
/// tool writes them when they are valid.
///
/// Either way every problem is reported, each with its section, line,
/// column and value, and nothing at all is written when there is one
/// (exit 65). Suspicious but legal data (a person on a track with no work,
/// work on a track with no staff, a name twice, no work at all) is a
/// warning; --strict makes warnings errors. Nothing is dropped silently:
/// every raw row becomes data, is left out by a rule the map names (skip,
/// stop), or is reported; -v prints per section the rows read, used,
/// skipped (by which rule) and reported. With --errors json every problem,
/// including those of the map, the stream syntax and I/O, is in the one
/// JSON list and nothing else is printed.
///
/// The map file (TOML) has four tables: [params] (start, end, skills:
/// literals or { source, column, row }), [holidays] (dates, or source and
/// column), [staff] (source, layout = "table" with columns id, name, team,
/// track, skill, vacation; or layout = "grid": track names across the
/// header row, the skill in the first column carried down, names in the
/// cells, rows from `stop` on ignored; [staff.vacations] source, name,
/// dates) and [work] (source, records, id or id_prefix, rank, name,
/// estimate or [work.estimates] Skill = column, triage, track). A column is
/// a header name, a 1-based index, a JSON pointer (/fields/summary), or a
/// table { column, value, rename, skip, default, trim }. Every table that
/// reads a raw section also takes `format` ("csv", "tsv" or "json"; guessed
/// when absent) and, for JSON, `records` (the pointer to the array of
/// records). Every key is described in `man qcondition` (THE MAP FILE); an
/// unknown key is an error.
///
/// Examples:
///   qsnap get qplan raw | qcondition --map team.toml | qsnap put qplan conditioned
///   my-script.py | qcondition --check | qplan -f text
///   qcondition --map team.toml --errors json raw.txt 2> problems.json
#[derive(Parser, Debug)]
#[command(name = "qcondition", version, after_long_help = super::AFTER_HELP)]
#[command(verbatim_doc_comment)]
#[command(group(ArgGroup::new("mode").required(true).args(["map", "check"])))]
pub struct Args {
    /// Condition raw sections with this map (TOML).
    #[arg(short, long, value_name = "MAP.toml")]
    pub map: Option<PathBuf>,

    /// Check conditioned v1 streams with qplan's own rules and pass them through.
    #[arg(long)]
    pub check: bool,

    /// Input stream; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,

    /// How problems are reported on stderr.
    #[arg(long, value_enum, default_value_t = Errors::Text, value_name = "FORMAT")]
    pub errors: Errors,

    /// Write to FILE instead of stdout; FILE is replaced only on success.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

impl Tool for Args {
    const NAME: &'static str = "qcondition";

    fn output(&self) -> Option<&std::path::Path> {
        self.output.as_deref()
    }

    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let name = cli::input_name(self.input.as_deref());
        let mut problems = Problems::default();
        let result = self.condition(&name, &mut problems, out);
        match self.errors {
            Errors::Text => {
                self.report_text(&problems);
                let errors = result?;
                if errors > 0 {
                    return Err(Error::data(
                        Location::default(),
                        format!(
                            "{errors} problem{} in {name}: nothing written",
                            if errors == 1 { "" } else { "s" }
                        ),
                    )
                    .into());
                }
                Ok(())
            }
            Errors::Json => {
                // Every failure goes into the one JSON list; nothing else
                // reaches stderr (a broken pipe still ends quietly).
                let code = match &result {
                    Ok(0) => None,
                    Ok(_) => Some(crate::error::exit::DATAERR),
                    Err(e) if cli::is_broken_pipe(e) => return result.map(drop),
                    Err(e) => {
                        problems.list.push(Problem::from_error(e));
                        Some(cli::exit_code(e))
                    }
                };
                self.report_json(&problems)?;
                match code {
                    None => Ok(()),
                    Some(code) => Err(Error::Reported {
                        problems: problems.errors(),
                        code,
                    }
                    .into()),
                }
            }
        }
    }
}

impl Args {
    /// Reads the map and the input, conditions or checks, and writes the
    /// result when there is no error. Problems of the data go to
    /// `problems`; the count of errors among them is returned. A failure
    /// that stops the run (an unreadable map, a malformed stream, I/O) is
    /// the `Err`.
    fn condition(
        &self,
        name: &str,
        problems: &mut Problems,
        out: &mut dyn Write,
    ) -> anyhow::Result<usize> {
        let map = match &self.map {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::io(format!("cannot read the map {}", path.display()), e))?;
                Some(map::parse(&text, &path.display().to_string())?)
            }
            None => None,
        };
        let mut bytes = Vec::new();
        cli::open_input(self.input.as_deref())?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {name}"), e))?;
        let reading = |e: Error| anyhow::Error::new(e).context(format!("reading {name}"));
        let conditioned = match &map {
            Some(map) => {
                let sections =
                    read_sections(&mut Reader::new(bytes.as_slice())).map_err(reading)?;
                // Read into sections, the bytes are no longer needed.
                bytes = Vec::new();
                let input = RawStream { sections };
                let provenance = input.provenance();
                let data = condition::condition(map, input, problems);
                Some((data, provenance))
            }
            None => {
                let read = check::check(&bytes, problems).map_err(reading)?;
                // The process ends soon: freeing millions of rows one by
                // one only delays the exit.
                std::mem::forget(read);
                None
            }
        };
        if self.strict {
            problems.strict();
        }
        problems.sort();
        let errors = problems.errors();
        if errors > 0 {
            return Ok(errors);
        }
        match conditioned {
            Some((data, provenance)) => {
                let mut written = Vec::new();
                condition::write(&mut written, &data, provenance.as_deref())?;
                // The final gate: what is written is read back with qplan's
                // own reader, so conditioned output always passes qplan.
                let mut again = Problems::default();
                let read = check::errors(&written, &mut again)
                    .map_err(|e| anyhow::Error::new(e).context("reading the conditioned output"))?;
                std::mem::forget(read);
                let errors = again.errors();
                if errors > 0 {
                    for mut p in again.list.into_iter().filter(|p| p.severity == "error") {
                        p.message = format!("in the conditioned output: {}", p.message);
                        problems.list.push(p);
                    }
                    return Ok(errors);
                }
                out.write_all(&written)?;
                // The process ends next: freeing hundreds of thousands of
                // cells one by one would cost a tenth of the run for nothing.
                std::mem::forget(data);
                std::mem::forget(written);
            }
            None => check::write_normalized(&bytes, out)?,
        }
        out.flush()
            .map_err(|e| Error::io(format!("writing {}", self.output_name()), e))?;
        Ok(0)
    }

    fn output_name(&self) -> String {
        self.output
            .as_ref()
            .map_or_else(|| "stdout".to_owned(), |p| p.display().to_string())
    }

    fn report_text(&self, problems: &Problems) {
        for t in &problems.tallies {
            self.verbosity.note("qcondition", t);
        }
        for p in &problems.list {
            if p.severity == "error" {
                eprintln!("qcondition: {}", cli::visible::visible(&p.to_string()));
            } else {
                self.verbosity.warn("qcondition", p);
            }
        }
    }

    /// The JSON list: with -v, the tallies of rows come first as problems
    /// of severity `info`.
    fn report_json(&self, problems: &Problems) -> anyhow::Result<()> {
        let mut list: Vec<Problem> = Vec::new();
        if self.verbosity.verbose > 0 {
            list.extend(problems.tallies.iter().map(|t| Problem {
                severity: "info",
                section: Some(t.section.clone()),
                line: None,
                column: None,
                value: None,
                message: t.to_string(),
            }));
        }
        list.extend(problems.list.iter().cloned());
        if !list.is_empty() {
            let mut err = std::io::stderr().lock();
            serde_json::to_writer_pretty(&mut err, &list)?;
            writeln!(err)?;
        }
        Ok(())
    }
}
