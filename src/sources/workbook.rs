//! Workbooks as sources: a sheet of an .xlsx, .xlsm, .xlsb, .xls or .ods
//! file (read with calamine) becomes CSV of its used range, so that a raw
//! section holds the same text a careful CSV export would.
//!
//! The rendering is the contract (qpull-sources(5)):
//! - the used range is the smallest rectangle holding every cell with a
//!   value (cells with only formatting do not count); rows end in `\n`,
//!   cells are quoted as RFC 4180 says, only when they must be;
//! - a date cell is `2013-11-28`, a date-time `2013-11-28T09:30:00`
//!   (`.250` when it has milliseconds), a time of day `09:30:00`, a
//!   duration `PT36H00M00S` (an .ods time of day is a duration there, and
//!   stays one): whatever the display format;
//! - a number as a person writes it: to 15 significant digits, as the
//!   spreadsheet shows it, in the shortest form (`3`, `0.1`, `0.3` for a
//!   sum stored as 0.30000000000000004, `1250000`), never an exponent;
//! - booleans `TRUE` and `FALSE`; a formula by its cached value; an empty
//!   cell empty; text as it is, its line breaks as `\n`;
//! - an error cell (`#N/A`, `#REF!`, ...) fails the source, naming sheet,
//!   cell and value (`Staff!C7 is #N/A`): never an empty string.
//!
//! Several sources that name the same file or URL (and headers) with a
//! `sheet` each are read from one fetch and one open of the workbook.
//!
//! A workbook cannot run away with memory or time: its parts may unpack
//! to at most [`UNPACK_FACTOR`] times the source's `max_bytes`, the used
//! range may have at most `max_bytes` cells (each is at least one byte of
//! CSV: its separator), the CSV at most `max_bytes` bytes, and the reading
//! must end within the source's `timeout`.

use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsb, Xlsx};

use super::fetch::{self, Failure, Fetched, Prior, Shown};
use super::pull;
use super::source::{Kind, Sheet, Source, OLE, ZIP};

/// How many times `max_bytes` the parts of a zipped workbook may unpack to:
/// XML is wordy (a sheet's XML is commonly 5-10 times its CSV), a zip bomb
/// is a thousand times.
pub const UNPACK_FACTOR: u64 = 16;

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        temporary: false,
        data: false,
        message: message.into(),
        retry_after: None,
        warnings: Vec::new(),
    }
}

/// A mistake in the data (a missing sheet, an error cell): exit 65.
fn bad_data(message: impl Into<String>) -> Failure {
    Failure {
        data: true,
        ..fail(message)
    }
}

/// Fetches every source, each group of sources that share a workbook
/// once, in parallel; the results are in the order of `sources`.
pub fn fetch_all(
    sources: &[Source],
    prior: &(dyn Fn(&str) -> Option<Prior> + Sync),
    force: bool,
    shown: &Shown,
) -> Vec<Result<Fetched, Failure>> {
    // Sources with a `sheet` that read the same place the same way share
    // one fetch; every other source is a group of its own.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let joins = s.sheet.is_some() && matches!(s.kind, Kind::File(_) | Kind::Http(_));
        let found = joins
            .then(|| {
                groups.iter_mut().find(|g| {
                    let l = &sources[g[0]];
                    l.sheet.is_some() && l.kind == s.kind && l.headers == s.headers
                })
            })
            .flatten();
        match found {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    let mut out: Vec<Option<Result<Fetched, Failure>>> = vec![None; sources.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .iter()
            .map(|g| {
                let members: Vec<&Source> = g.iter().map(|&i| &sources[i]).collect();
                s.spawn(move || {
                    let got = fetch_group(&members, prior, force, shown);
                    shown.done.inc(members.len() as u64);
                    got
                })
            })
            .collect();
        for (g, h) in groups.iter().zip(handles) {
            let results = h
                .join()
                .unwrap_or_else(|_| g.iter().map(|_| Err(fail("the fetch crashed"))).collect());
            for (&i, r) in g.iter().zip(results) {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(fail("the fetch crashed"))))
        .collect()
}

/// One fetch for the group, then each member's sheet (or text), checked.
fn fetch_group(
    members: &[&Source],
    prior: &(dyn Fn(&str) -> Option<Prior> + Sync),
    force: bool,
    shown: &Shown,
) -> Vec<Result<Fetched, Failure>> {
    let lead = members[0];
    let priors: Vec<Option<Prior>> = members.iter().map(|m| prior(&m.name)).collect();
    // A conditional request only when every member has what a 304 would
    // reuse, from the same version of the workbook.
    let shared = match priors.as_slice() {
        [Some(first), rest @ ..]
            if rest.iter().all(|p| {
                p.as_ref()
                    .is_some_and(|p| p.etag == first.etag && p.last_modified == first.last_modified)
            }) =>
        {
            Some(first.clone())
        }
        _ => None,
    };
    let got = match pull::fetch_raw(lead, shared.as_ref(), shown) {
        Ok(f) => f,
        Err(e) => return members.iter().map(|_| Err(e.clone())).collect(),
    };
    let mut results: Vec<Result<Fetched, Failure>> = match &got.workbook {
        None if got.status == "304" => priors
            .iter()
            .map(|p| {
                let p = p.as_ref().unwrap_or_else(|| unreachable_prior());
                Ok(Fetched {
                    text: p.text.clone(),
                    sheet: p.sheet.clone(),
                    encoding: p.encoding.clone(),
                    ..got.clone()
                })
            })
            .collect(),
        None => members
            .iter()
            .map(|_| {
                Ok(Fetched {
                    warnings: Vec::new(),
                    ..got.clone()
                })
            })
            .collect(),
        Some(bytes) => {
            let wanted: Vec<Option<Sheet>> = members.iter().map(|m| m.sheet.clone()).collect();
            let limits = Limits::of(lead);
            match read_bounded(bytes.clone(), wanted, limits) {
                Err(e) => members.iter().map(|_| Err(e.clone())).collect(),
                Ok(sheets) => sheets
                    .into_iter()
                    .map(|r| {
                        r.map(|(sheet, text)| Fetched {
                            text,
                            sheet,
                            workbook: None,
                            warnings: Vec::new(),
                            ..got.clone()
                        })
                    })
                    .collect(),
            }
        }
    };
    // What a command said goes with the first source only.
    if let Some(Ok(f)) = results.first_mut() {
        f.warnings = got.warnings.clone();
    }
    members
        .iter()
        .zip(results)
        .map(|(m, r)| {
            let mut f = r?;
            fetch::check(m, &mut f, force)?;
            Ok(f)
        })
        .collect()
}

/// `fetch_raw` answers 304 only to a conditional request, which is made
/// only when every member has a prior.
fn unreachable_prior() -> &'static Prior {
    static EMPTY: std::sync::OnceLock<Prior> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Prior::default)
}

/// What reading a workbook may spend.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub timeout: Duration,
}

impl Limits {
    fn of(src: &Source) -> Limits {
        Limits {
            max_bytes: src.max_bytes,
            timeout: src.timeout,
        }
    }
}

/// Per wanted sheet, its name and CSV (or why not).
type SheetResults = Vec<Result<(String, String), Failure>>;

/// Reads the wanted sheets within the time limit: on a worker thread that
/// is told to stop (and is left behind, with nothing to give) when the
/// time is up. A failure of the whole workbook fails every sheet.
pub fn read_bounded(
    bytes: Vec<u8>,
    wanted: Vec<Option<Sheet>>,
    limits: Limits,
) -> Result<SheetResults, Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let flag = stop.clone();
    let worker = std::thread::Builder::new()
        .name("workbook".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read(bytes, &wanted, limits, &flag)
            }))
            .unwrap_or_else(|_| Err(fail("the workbook reader crashed on this file")));
            let _ = tx.send(r);
        })
        .map_err(|e| fail(format!("cannot start reading the workbook: {e}")))?;
    let deadline = Instant::now().checked_add(limits.timeout);
    let got = match deadline {
        Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
        None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
    };
    match got {
        Ok(r) => {
            let _ = worker.join();
            r
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            stop.store(true, Ordering::Relaxed);
            Err(fail(format!(
                "reading the workbook took longer than {:?} (timeout): refusing it",
                limits.timeout
            )))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(fail("the workbook reader crashed on this file"))
        }
    }
}

/// An opened workbook, whatever its format.
enum Book {
    Xlsx(Xlsx<Cursor<Vec<u8>>>),
    Xlsb(Xlsb<Cursor<Vec<u8>>>),
    Xls(Xls<Cursor<Vec<u8>>>),
    Ods(Ods<Cursor<Vec<u8>>>),
}

impl Book {
    fn sheet_names(&self) -> Vec<String> {
        match self {
            Book::Xlsx(b) => b.sheet_names(),
            Book::Xlsb(b) => b.sheet_names(),
            Book::Xls(b) => b.sheet_names(),
            Book::Ods(b) => b.sheet_names(),
        }
    }
}

fn unreadable(format: &str, e: impl std::fmt::Display) -> Failure {
    let e = e.to_string();
    if e.contains("password protected") {
        fail(format!(
            "the workbook ({format}) is password-protected: qpull cannot read it; save a copy without a password"
        ))
    } else {
        fail(format!("not a readable {format} workbook: {e}"))
    }
}

/// Opens a workbook by what its bytes are: a zip holding an
/// OpenDocument spreadsheet, an .xlsb or an .xlsx/.xlsm; or an OLE
/// container holding an .xls or a password-protected .xlsx.
fn open(bytes: Vec<u8>, limits: Limits, stop: &AtomicBool) -> Result<Book, Failure> {
    if bytes.starts_with(ZIP) {
        let names = unpacked_within(&bytes, limits, stop)?;
        let has = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
        if has("content.xml") && has("mimetype") {
            Ods::new(Cursor::new(bytes))
                .map(Book::Ods)
                .map_err(|e| unreadable("OpenDocument", e))
        } else if has("xl/workbook.bin") {
            Xlsb::new(Cursor::new(bytes))
                .map(Book::Xlsb)
                .map_err(|e| unreadable("xlsb", e))
        } else {
            Xlsx::new(Cursor::new(bytes))
                .map(Book::Xlsx)
                .map_err(|e| unreadable("xlsx", e))
        }
    } else if bytes.starts_with(OLE) {
        // An encrypted .xlsx is an OLE container too: the xlsx reader
        // recognises it and says so.
        match Xls::new(Cursor::new(bytes.clone())) {
            Ok(b) => Ok(Book::Xls(b)),
            Err(e) => match Xlsx::new(Cursor::new(bytes)) {
                Err(x) if x.to_string().contains("password protected") => {
                    Err(unreadable("xlsx", x))
                }
                _ => Err(unreadable("xls", e)),
            },
        }
    } else {
        Err(fail(
            "not a workbook: neither a zip (.xlsx, .xlsm, .xlsb, .ods) nor an OLE (.xls) container",
        ))
    }
}

/// The names of a zip's parts, after unpacking every one of them to
/// nothing, within `UNPACK_FACTOR * max_bytes` and the stop flag: a zip
/// bomb is refused before calamine unpacks it for real.
fn unpacked_within(
    bytes: &[u8],
    limits: Limits,
    stop: &AtomicBool,
) -> Result<Vec<String>, Failure> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| fail(format!("not a readable workbook (a broken zip: {e})")))?;
    let limit = limits.max_bytes.saturating_mul(UNPACK_FACTOR);
    let mut total: u64 = 0;
    let mut names = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| fail(format!("not a readable workbook (a broken zip: {e})")))?;
        let name = part
            .name()
            .map(|n| n.into_owned())
            .map_err(|e| fail(format!("not a readable workbook (a broken zip: {e})")))?;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Err(fail("stopped"));
            }
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(format!("not a readable workbook (part {name}: {e})"))),
            };
            total = total.saturating_add(n as u64);
            if total > limit {
                return Err(fail(format!(
                    "the workbook unpacks to more than {limit} bytes ({UNPACK_FACTOR} times max_bytes): refusing what may be a zip bomb"
                )));
            }
        }
        names.push(name);
    }
    Ok(names)
}

/// Opens the workbook once and renders each wanted sheet.
fn read(
    bytes: Vec<u8>,
    wanted: &[Option<Sheet>],
    limits: Limits,
    stop: &AtomicBool,
) -> Result<SheetResults, Failure> {
    let mut book = open(bytes, limits, stop)?;
    let names = book.sheet_names();
    Ok(wanted
        .iter()
        .map(|w| {
            let name = pick(&names, w.as_ref())?;
            let text = render(&mut book, &name, limits, stop)?;
            Ok((name, text))
        })
        .collect())
}

/// The sheet's name: the first sheet, the one named (exactly; else a
/// mistake naming the sheets there are and the closest), or the N-th.
fn pick(names: &[String], wanted: Option<&Sheet>) -> Result<String, Failure> {
    let listed = || {
        names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad_data("the workbook has no sheets")),
        Some(Sheet::Index(i)) => names.get(i - 1).cloned().ok_or_else(|| {
            bad_data(format!(
                "no sheet {i}: the workbook has {} sheet{}: {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                listed()
            ))
        }),
        Some(Sheet::Name(n)) => {
            if names.contains(n) {
                return Ok(n.clone());
            }
            let closest = names
                .iter()
                .map(|x| {
                    (
                        strsim::normalized_damerau_levenshtein(
                            &x.to_lowercase(),
                            &n.to_lowercase(),
                        ),
                        x,
                    )
                })
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(score, _)| *score >= 0.5)
                .map(|(_, x)| format!(" (did you mean {x:?}?)"))
                .unwrap_or_default();
            Err(bad_data(format!(
                "no sheet {n:?} in the workbook{closest}; its sheets: {}",
                listed()
            )))
        }
    }
}

/// `Staff!C7`, or `'Q4 plan'!C7` for a name that needs quotes.
pub fn cell_name(sheet: &str, row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = u64::from(col) + 1;
    while c > 0 {
        let r = ((c - 1) % 26) as u8;
        letters.push(b'A' + r);
        c = (c - 1) / 26;
    }
    letters.reverse();
    let col = String::from_utf8(letters).unwrap_or_default();
    let plain = !sheet.is_empty() && sheet.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
    let sheet = if plain {
        sheet.to_owned()
    } else {
        format!("'{}'", sheet.replace('\'', "''"))
    };
    format!("{sheet}!{col}{}", u64::from(row) + 1)
}

/// The CSV of a sheet's used range, within the limits.
fn render(
    book: &mut Book,
    name: &str,
    limits: Limits,
    stop: &AtomicBool,
) -> Result<String, Failure> {
    let mut cells = Cells::new(name, limits, stop);
    let read_failed = |format: &str, e: &dyn std::fmt::Display| {
        fail(format!(
            "cannot read sheet {name:?} of the {format} workbook: {e}"
        ))
    };
    match book {
        // Cell by cell, never as a whole range: calamine makes a range as
        // big as the rectangle its cells span.
        Book::Xlsx(b) => {
            let mut r = b
                .worksheet_cells_reader(name)
                .map_err(|e| read_failed("xlsx", &e))?;
            while let Some(c) = r.next_cell().map_err(|e| read_failed("xlsx", &e))? {
                cells.add(c.get_position(), c.get_value())?;
            }
        }
        Book::Xlsb(b) => {
            let mut r = b
                .worksheet_cells_reader(name)
                .map_err(|e| read_failed("xlsb", &e))?;
            while let Some(c) = r.next_cell().map_err(|e| read_failed("xlsb", &e))? {
                cells.add(c.get_position(), c.get_value())?;
            }
        }
        Book::Xls(b) => {
            let range = b
                .worksheet_range(name)
                .map_err(|e| read_failed("xls", &e))?;
            let at = range.start().unwrap_or_default();
            for (r, c, v) in range.used_cells() {
                cells.add((at.0 + r as u32, at.1 + c as u32), &as_ref(v))?;
            }
        }
        Book::Ods(b) => {
            let range = b
                .worksheet_range(name)
                .map_err(|e| read_failed("OpenDocument", &e))?;
            let at = range.start().unwrap_or_default();
            for (r, c, v) in range.used_cells() {
                cells.add((at.0 + r as u32, at.1 + c as u32), &as_ref(v))?;
            }
        }
    }
    cells.csv()
}

fn as_ref(d: &Data) -> DataRef<'_> {
    match d {
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::String(s) => DataRef::SharedString(s),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(d) => DataRef::DateTime(*d),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
        Data::Empty => DataRef::Empty,
    }
}

/// The cells of a sheet that hold a value, as text, with what they cost.
struct Cells<'a> {
    sheet: &'a str,
    limits: Limits,
    stop: &'a AtomicBool,
    cells: Vec<((u32, u32), String)>,
    bytes: u64,
    errors: Vec<String>,
}

impl<'a> Cells<'a> {
    fn new(sheet: &'a str, limits: Limits, stop: &'a AtomicBool) -> Self {
        Cells {
            sheet,
            limits,
            stop,
            cells: Vec::new(),
            bytes: 0,
            errors: Vec::new(),
        }
    }

    fn add(&mut self, at: (u32, u32), v: &DataRef) -> Result<(), Failure> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(fail("stopped"));
        }
        match cell_text(v) {
            Ok(None) => {}
            Ok(Some(text)) => {
                // The text and at least its separator.
                self.bytes = self.bytes.saturating_add(text.len() as u64 + 1);
                if self.bytes > self.limits.max_bytes {
                    return Err(self.too_big());
                }
                self.cells.push((at, text));
            }
            Err(value) => {
                self.errors
                    .push(format!("{} is {value}", cell_name(self.sheet, at.0, at.1)));
            }
        }
        Ok(())
    }

    fn too_big(&self) -> Failure {
        fail(format!(
            "sheet {:?} holds more than {} bytes (max_bytes): refusing a runaway source",
            self.sheet, self.limits.max_bytes
        ))
    }

    fn csv(mut self) -> Result<String, Failure> {
        if let Some(first) = self.errors.first() {
            let more = match self.errors.len() {
                1 => String::new(),
                2 => " (and 1 more error cell)".to_owned(),
                n => format!(" (and {} more error cells)", n - 1),
            };
            return Err(bad_data(format!(
                "{first}{more}: an error in the sheet is not data; fix or clear the cell"
            )));
        }
        if self.cells.is_empty() {
            return Ok(String::new());
        }
        // Cells are listed row by row, but a file may list them in any
        // order (and the same cell twice: the last one counts).
        self.cells.sort_by_key(|&(at, _)| at);
        self.cells.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                std::mem::swap(&mut later.1, &mut earlier.1);
                true
            } else {
                false
            }
        });
        let top = self.cells.iter().map(|c| c.0 .0).min().unwrap_or(0);
        let bottom = self.cells.iter().map(|c| c.0 .0).max().unwrap_or(0);
        let left = self.cells.iter().map(|c| c.0 .1).min().unwrap_or(0);
        let right = self.cells.iter().map(|c| c.0 .1).max().unwrap_or(0);
        let rows = u64::from(bottom - top) + 1;
        let cols = u64::from(right - left) + 1;
        if rows.saturating_mul(cols) > self.limits.max_bytes {
            return Err(fail(format!(
                "the used range of sheet {:?}, {}:{} ({rows} rows by {cols} columns), is more cells than max_bytes = {} allows: refusing a runaway source",
                self.sheet,
                cell_name(self.sheet, top, left).rsplit('!').next().unwrap_or(""),
                cell_name(self.sheet, bottom, right).rsplit('!').next().unwrap_or(""),
                self.limits.max_bytes
            )));
        }
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        let width = cols as usize;
        let mut next = self.cells.iter().peekable();
        let mut record: Vec<&str> = vec![""; width];
        for row in top..=bottom {
            if self.stop.load(Ordering::Relaxed) {
                return Err(fail("stopped"));
            }
            record.iter_mut().for_each(|c| *c = "");
            while let Some(((r, c), text)) = next.peek() {
                if *r != row {
                    break;
                }
                record[(*c - left) as usize] = text.as_str();
                next.next();
            }
            w.write_record(&record).map_err(|e| fail(e.to_string()))?;
        }
        let bytes = w.into_inner().map_err(|e| fail(e.to_string()))?;
        if bytes.len() as u64 > self.limits.max_bytes {
            return Err(self.too_big());
        }
        String::from_utf8(bytes).map_err(|e| fail(e.to_string()))
    }
}

/// A cell as text: `Ok(None)` for an empty cell, `Err(value)` for an
/// error cell.
fn cell_text(v: &DataRef) -> Result<Option<String>, String> {
    Ok(Some(match v {
        DataRef::Empty => return Ok(None),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number(*f)?,
        DataRef::String(s) => lines(s),
        DataRef::SharedString(s) => lines(s),
        DataRef::Bool(true) => "TRUE".to_owned(),
        DataRef::Bool(false) => "FALSE".to_owned(),
        DataRef::DateTime(d) => {
            if d.is_duration() {
                duration(d.as_f64())?
            } else {
                date(d.as_f64(), d.to_ymd_hms_milli())?
            }
        }
        DataRef::DateTimeIso(s) => iso(s),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(e.to_string()),
    }))
}

/// Line breaks in a cell as `\n`: a raw section's lines lose a trailing
/// `\r`.
fn lines(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_owned()
    }
}

/// A number to 15 significant digits (what a spreadsheet shows), in the
/// shortest form that reads back to it, without an exponent.
pub fn number(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err("#NUM!".to_owned());
    }
    let shown: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    // -0 is 0.
    let shown = if shown == 0.0 { 0.0 } else { shown };
    Ok(format!("{shown}"))
}

/// A date cell by its serial number: a date, a date-time or a time of day.
fn date(
    serial: f64,
    (y, mo, d, h, mi, s, ms): (u16, u8, u8, u8, u8, u8, u16),
) -> Result<String, String> {
    // Outside Excel's dates (negative, past 9999-12-31), the number.
    if !(0.0..2_958_466.0).contains(&serial) {
        return number(serial);
    }
    let time = if ms > 0 {
        format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}")
    };
    Ok(if serial < 1.0 {
        time
    } else if (h, mi, s, ms) == (0, 0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{time}")
    })
}

/// An OpenDocument date value, the way a date cell of any workbook is
/// written: a date without a time (or at midnight) as `2013-11-28`, a
/// fraction of zeros left out.
fn iso(s: &str) -> String {
    let Some((day, time)) = s.split_once('T') else {
        return s.to_owned();
    };
    let time = match time.split_once('.') {
        Some((hms, frac)) if frac.bytes().all(|b| b == b'0') => hms,
        _ => time,
    };
    if time == "00:00:00" {
        day.to_owned()
    } else {
        format!("{day}T{time}")
    }
}

/// A duration cell (`[h]:mm:ss`) as ISO 8601: `PT36H00M00S`.
fn duration(days: f64) -> Result<String, String> {
    if !days.is_finite() || days.abs() > 1e9 {
        return number(days);
    }
    let ms = (days * 86_400_000.0).round() as i64;
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    Ok(if frac > 0 {
        format!("{sign}PT{h}H{m:02}M{s:02}.{frac:03}S")
    } else {
        format!("{sign}PT{h}H{m:02}M{s:02}S")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        max_bytes: 1 << 20,
        timeout: Duration::from_secs(60),
    };

    /// A small real workbook of each zipped kind: an .xlsx made with
    /// rust_xlsxwriter, and the fixture .ods.
    fn workbooks() -> &'static [Vec<u8>; 2] {
        static BOOKS: std::sync::OnceLock<[Vec<u8>; 2]> = std::sync::OnceLock::new();
        BOOKS.get_or_init(|| {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.write_string(0, 0, "Name").unwrap();
            sheet.write_number(1, 1, 2.5).unwrap();
            sheet.write_boolean(2, 2, true).unwrap();
            let ods = std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fixtures/workbook/quarter.ods"
            ))
            .unwrap();
            [book.save_to_buffer().unwrap(), ods]
        })
    }

    fn read_any(bytes: Vec<u8>) {
        // `read`, not `read_bounded`: a panic must fail the test, not be
        // caught.
        let wanted = [
            None,
            Some(Sheet::Index(2)),
            Some(Sheet::Name("Work".into())),
        ];
        let _ = read(bytes, &wanted, LIMITS, &AtomicBool::new(false));
    }

    #[test]
    fn the_workbooks_of_the_property_tests_are_read() {
        for b in workbooks() {
            let got = read(b.clone(), &[None], LIMITS, &AtomicBool::new(false)).unwrap();
            assert!(got[0].is_ok());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn arbitrary_bytes_as_a_workbook_never_panic(
            head in 0usize..3,
            body in proptest::collection::vec(any::<u8>(), 0..4096),
        ) {
            let mut bytes = [ZIP, OLE, b""][head].to_vec();
            bytes.extend(body);
            read_any(bytes);
        }

        #[test]
        fn a_damaged_workbook_never_panics(
            which in 0usize..2,
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<proptest::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = workbooks()[which].clone();
            for (at, b) in edits {
                let at = at.index(bytes.len());
                bytes[at] = b;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            read_any(bytes);
        }
    }

    #[test]
    fn numbers_as_a_person_writes_them() {
        let n = |f: f64| number(f).unwrap();
        assert_eq!(n(3.0), "3");
        assert_eq!(n(0.1), "0.1");
        assert_eq!(n(0.1 + 0.2), "0.3");
        assert_eq!(n(1.5), "1.5");
        assert_eq!(n(-2.25), "-2.25");
        assert_eq!(n(-0.0), "0");
        assert_eq!(n(1_250_000.0), "1250000");
        assert_eq!(n(1e21), "1000000000000000000000");
        assert_eq!(n(0.000_000_1), "0.0000001");
        assert_eq!(n(123_456_789.123_456_78), "123456789.123457");
        assert_eq!(number(f64::NAN), Err("#NUM!".to_owned()));
    }

    #[test]
    fn dates_times_and_durations() {
        use calamine::{ExcelDateTime, ExcelDateTimeType::*};
        let t = |serial: f64, kind| {
            cell_text(&DataRef::DateTime(ExcelDateTime::new(serial, kind, false)))
                .unwrap()
                .unwrap()
        };
        // 2013-11-28 is day 41606 of the 1900 system (41606 days after
        // 1899-12-30: 1900-01-01 is 2, and Excel counts 1900-02-29).
        assert_eq!(t(41606.0, DateTime), "2013-11-28");
        // 09:30 is 9.5/24 of a day.
        assert_eq!(t(41606.0 + 9.5 / 24.0, DateTime), "2013-11-28T09:30:00");
        assert_eq!(t(9.5 / 24.0, DateTime), "09:30:00");
        assert_eq!(t(1.5, TimeDelta), "PT36H00M00S");
        // The 1904 system counts from 1904-01-01: 41606 - 1462.
        let d = ExcelDateTime::new(41606.0 - 1462.0, DateTime, true);
        assert_eq!(
            cell_text(&DataRef::DateTime(d)).unwrap().unwrap(),
            "2013-11-28"
        );
        assert_eq!(t(-3.0, DateTime), "-3");
    }

    #[test]
    fn cells_of_every_kind() {
        let t = |v: DataRef| cell_text(&v);
        assert_eq!(t(DataRef::Bool(true)), Ok(Some("TRUE".into())));
        assert_eq!(t(DataRef::Bool(false)), Ok(Some("FALSE".into())));
        assert_eq!(t(DataRef::Empty), Ok(None));
        assert_eq!(t(DataRef::Int(42)), Ok(Some("42".into())));
        assert_eq!(t(DataRef::SharedString("a\r\nb")), Ok(Some("a\nb".into())));
        assert_eq!(
            t(DataRef::Error(calamine::CellErrorType::NA)),
            Err("#N/A".into())
        );
        assert_eq!(
            t(DataRef::Error(calamine::CellErrorType::Ref)),
            Err("#REF!".into())
        );
    }

    #[test]
    fn opendocument_dates_like_every_other_date() {
        assert_eq!(iso("2013-11-28"), "2013-11-28");
        assert_eq!(iso("2013-11-28T00:00:00"), "2013-11-28");
        assert_eq!(iso("2013-11-28T00:00:00.000"), "2013-11-28");
        assert_eq!(iso("2013-11-28T09:30:00"), "2013-11-28T09:30:00");
        assert_eq!(iso("2013-11-28T09:30:00.250"), "2013-11-28T09:30:00.250");
    }

    #[test]
    fn cell_names() {
        assert_eq!(cell_name("Staff", 6, 2), "Staff!C7");
        assert_eq!(cell_name("Staff", 0, 25), "Staff!Z1");
        assert_eq!(cell_name("Staff", 0, 26), "Staff!AA1");
        assert_eq!(cell_name("Staff", 1_048_575, 16_383), "Staff!XFD1048576");
        assert_eq!(cell_name("Q4 plan", 0, 0), "'Q4 plan'!A1");
        assert_eq!(cell_name("Bob's", 0, 0), "'Bob''s'!A1");
    }

    #[test]
    fn sheets_are_picked_by_name_or_number_or_named_when_missing() {
        let names = vec!["Holidays".to_owned(), "Staff".to_owned(), "Work".to_owned()];
        assert_eq!(pick(&names, None).unwrap(), "Holidays");
        assert_eq!(pick(&names, Some(&Sheet::Index(3))).unwrap(), "Work");
        assert_eq!(
            pick(&names, Some(&Sheet::Name("Staff".into()))).unwrap(),
            "Staff"
        );
        let e = pick(&names, Some(&Sheet::Name("Staf".into()))).unwrap_err();
        assert!(e.data);
        assert_eq!(
            e.message,
            "no sheet \"Staf\" in the workbook (did you mean \"Staff\"?); its sheets: \"Holidays\", \"Staff\", \"Work\""
        );
        let e = pick(&names, Some(&Sheet::Index(4))).unwrap_err();
        assert_eq!(
            e.message,
            "no sheet 4: the workbook has 3 sheets: \"Holidays\", \"Staff\", \"Work\""
        );
        let e = pick(&names, Some(&Sheet::Name("Budget".into()))).unwrap_err();
        assert!(!e.message.contains("did you mean"), "{}", e.message);
    }
}
