//! Workbooks and encodings as qpull sources, end to end: the fixture
//! quarter saved as one .xlsx conditions exactly like its CSV twins; every
//! kind of cell renders as qpull(1) says; sheets of one workbook come from
//! one download; mistakes and hostile workbooks are refused with the right
//! status; windows-1252 and UTF-16 exports decode.
//!
//! Every workbook is made here with rust_xlsxwriter (the OLE container of
//! a password-protected one with cfb), never written by hand.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use tiny_http::{Header, Response, Server};

use crate::util::Sandbox;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/quarter")
        .join(name)
}

/// Runs a tool; returns (exit, stdout, stderr).
fn run(sb: &Sandbox, tool: &str, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let out = sb
        .cmd(tool)
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pull(sb: &Sandbox, config: &str) -> (i32, String, String) {
    let cfg = sb.write("sources.toml", config);
    run(sb, "qpull", &["--config", cfg.to_str().unwrap()], b"")
}

/// The `raw NAME` sections of the fixture quarter, as CSV text.
fn quarter_csv() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture("raw.txt")).unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("=====raw ") {
            out.push((name.to_owned(), String::new()));
        } else if let Some(content) = line.strip_prefix('\t') {
            let last = out.last_mut().unwrap();
            last.1.push_str(content);
            last.1.push('\n');
        }
    }
    assert_eq!(out.len(), 3);
    out
}

/// The sheet name a team would give a source's sheet.
fn sheet_name(source: &str) -> String {
    let mut s = source.to_owned();
    s[..1].make_ascii_uppercase();
    s
}

/// The fixture quarter saved as one workbook, sheets in the order Staff,
/// Work, Holidays. Cells holding an ISO date become date cells shown as
/// "28 Nov 2013" (the display format does not matter); Rank and Triage
/// become numbers; empty cells are left empty; everything else is text.
/// "Dec 25, 2013" and "Oct 18, 2013" stay text, as in a sheet whose column
/// is formatted as text: their CSV twins hold exactly that text.
fn quarter_xlsx() -> Vec<u8> {
    let csv = quarter_csv();
    let mut book = Workbook::new();
    let shown = Format::new().set_num_format("d mmm yyyy");
    for name in ["staff", "work", "holidays"] {
        let text = &csv.iter().find(|(n, _)| n == name).unwrap().1;
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(name)).unwrap();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        let header = rows[0].clone();
        for (i, rec) in rows.iter().enumerate() {
            for (j, cell) in rec.iter().enumerate() {
                let (row, col) = (i as u32, j as u16);
                let is_date = cell.len() == 10
                    && cell.as_bytes()[4] == b'-'
                    && cell.as_bytes()[7] == b'-'
                    && cell.replace('-', "").bytes().all(|b| b.is_ascii_digit());
                if cell.is_empty() {
                } else if i > 0 && is_date {
                    let d = ExcelDateTime::parse_from_str(cell).unwrap();
                    sheet
                        .write_datetime_with_format(row, col, &d, &shown)
                        .unwrap();
                } else if i > 0 && matches!(&header[j], "Rank" | "Triage") {
                    sheet
                        .write_number(row, col, cell.parse::<f64>().unwrap())
                        .unwrap();
                } else {
                    sheet.write_string(row, col, cell).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn condition(sb: &Sandbox, raw: &str) -> String {
    let map = fixture("map.toml");
    let (code, out, err) = run(
        sb,
        "qcondition",
        &["--map", map.to_str().unwrap()],
        raw.as_bytes(),
    );
    assert_eq!(code, 0, "{err}");
    out
}

/// The fields of `name`'s line in `qpull sources v1`: name, spec, bytes,
/// sha256, content type, sheet, encoding.
fn source_line(stdout: &str, name: &str) -> Vec<String> {
    let at = stdout
        .find("=====qpull sources v1\n")
        .expect("sources section");
    stdout[at..]
        .lines()
        .find(|l| l.starts_with(&format!("\t{name}\t")))
        .expect("source line")[1..]
        .split('\t')
        .map(str::to_owned)
        .collect()
}

/// The text of `raw NAME`, its lines joined.
fn raw(stdout: &str, name: &str) -> String {
    let head = format!("=====raw {name}\n");
    let at = stdout
        .find(&head)
        .unwrap_or_else(|| panic!("no raw {name}"))
        + head.len();
    stdout[at..]
        .lines()
        .take_while(|l| !l.starts_with("====="))
        .map(|l| format!("{}\n", l.strip_prefix('\t').unwrap_or(l)))
        .collect()
}

#[test]
fn the_quarter_workbook_conditions_exactly_like_its_csv_twins() {
    let sb = Sandbox::new();
    let expected = std::fs::read_to_string(fixture("conditioned.txt")).unwrap();
    // The CSV twins, pulled as files.
    let mut config = String::new();
    for (name, text) in quarter_csv() {
        sb.write(&format!("{name}.csv"), &text);
        config.push_str(&format!("[source.{name}]\nfile = \"{name}.csv\"\n"));
    }
    let (code, csv_raw, err) = pull(&sb, &config);
    assert_eq!(code, 0, "{err}");
    assert_eq!(condition(&sb, &csv_raw), expected);
    // The workbook: one sheet by place, two by name.
    sb.write("quarter.xlsx", quarter_xlsx());
    let (code, xlsx_raw, err) = pull(
        &sb,
        "[source.staff]\nfile = \"quarter.xlsx\"\nsheet = 1\n\
         [source.work]\nfile = \"quarter.xlsx\"\nsheet = \"Work\"\n\
         [source.holidays]\nfile = \"quarter.xlsx\"\nsheet = \"Holidays\"\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(condition(&sb, &xlsx_raw), expected);
    // A command's output is a workbook by its bytes alone.
    let (code, by_cmd, err) = pull(
        &sb,
        "[source.holidays]\ncmd = [\"cat\", \"quarter.xlsx\"]\nsheet = \"Holidays\"\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(raw(&by_cmd, "holidays"), raw(&xlsx_raw, "holidays"));
    // Dates came from date cells shown as "28 Nov 2013", Rank and Triage
    // from numbers: the raw text says so.
    let holidays = raw(&xlsx_raw, "holidays");
    assert!(
        holidays.starts_with("Date,Why\n2013-11-28,office closed\n"),
        "{holidays}"
    );
    let work = raw(&xlsx_raw, "work");
    assert!(
        work.contains("\nMOB-101,1,Login rewrite,\"Apps:1.5,Native:S,QA:1\",1,Tenor\n"),
        "{work}"
    );
    assert!(
        work.contains("\nMOB-105,5,Search filters,\"Apps:L,Native:0.5,Web:M\",1.5,Bass\n"),
        "{work}"
    );
    assert!(
        work.contains("\nMOB-108,8,Onboarding flow,\"Web:L,Native:Q\",,Bass\n"),
        "{work}"
    );
    // The sources section says which sheet each came from.
    assert_eq!(source_line(&xlsx_raw, "staff")[5], "Staff");
    assert_eq!(source_line(&xlsx_raw, "work")[5], "Work");
    assert_eq!(source_line(&xlsx_raw, "work")[6], "");
    assert_eq!(source_line(&csv_raw, "work")[5..], ["", "UTF-8"]);
}

#[test]
fn the_quarter_as_opendocument_conditions_like_its_csv_twins() {
    // fixtures/workbook/quarter.ods, made by fixtures/workbook/gen-ods:
    // the same sheets, dates as date cells, numbers as numbers.
    let ods = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/workbook/quarter.ods");
    let sb = Sandbox::new();
    let (code, out, err) = pull(
        &sb,
        &format!(
            "[source.staff]\nfile = {ods:?}\nsheet = \"Staff\"\n\
             [source.work]\nfile = {ods:?}\nsheet = \"Work\"\n\
             [source.holidays]\nfile = {ods:?}\nsheet = \"Holidays\"\n\
             [source.kinds]\nfile = {ods:?}\nsheet = 4\n"
        ),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        condition(&sb, &out),
        std::fs::read_to_string(fixture("conditioned.txt")).unwrap()
    );
    assert!(raw(&out, "holidays").starts_with("Date,Why\n2013-11-28,office closed\n"));
    assert_eq!(
        raw(&out, "kinds"),
        "datetime,2013-11-28T09:30:00,\nsum,0.3,\nyes,TRUE,\nno,FALSE,\nempty,,note\n"
    );
    assert_eq!(source_line(&out, "kinds")[5], "Kinds");
}

#[test]
fn every_kind_of_cell_renders_as_documented() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Kinds").unwrap();
    let long = Format::new().set_num_format("mmm d, yyyy");
    let us = Format::new().set_num_format("m/d/yy h:mm AM/PM");
    let hours = Format::new().set_num_format("[h]:mm:ss");
    let clock = Format::new().set_num_format("hh:mm");
    let money = Format::new().set_num_format("#,##0.00 \"€\"");
    let head = ["kind", "value"];
    for (c, h) in head.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let d = ExcelDateTime::from_ymd(2013, 11, 28).unwrap();
    let dt = ExcelDateTime::from_ymd(2013, 11, 28)
        .unwrap()
        .and_hms(9, 30, 0)
        .unwrap();
    let t = ExcelDateTime::from_hms(9, 30, 0).unwrap();
    let rows: &[&str] = &[
        "date", "datetime", "time", "duration", "three", "tenth", "sum", "money", "big", "true",
        "false", "formula", "text", "empty",
    ];
    for (i, k) in rows.iter().enumerate() {
        sheet.write_string(i as u32 + 1, 0, *k).unwrap();
    }
    sheet.write_datetime_with_format(1, 1, &d, &long).unwrap();
    sheet.write_datetime_with_format(2, 1, &dt, &us).unwrap();
    sheet.write_datetime_with_format(3, 1, &t, &clock).unwrap();
    sheet.write_number_with_format(4, 1, 1.5, &hours).unwrap();
    sheet.write_number(5, 1, 3.0).unwrap();
    sheet.write_number(6, 1, 0.1).unwrap();
    sheet.write_number(7, 1, 0.1 + 0.2).unwrap();
    sheet
        .write_number_with_format(8, 1, 1234.5, &money)
        .unwrap();
    sheet.write_number(9, 1, 1_250_000.0).unwrap();
    sheet.write_boolean(10, 1, true).unwrap();
    sheet.write_boolean(11, 1, false).unwrap();
    // A formula by its cached value (what the spreadsheet last computed).
    sheet
        .write_formula(12, 1, Formula::new("=B6*2").set_result("6"))
        .unwrap();
    sheet
        .write_string(13, 1, "Ana \"the\" Lima, Jr.\r\nline 2 – €")
        .unwrap();
    // Row 15 "empty": no value; a third column past it widens the range.
    sheet.write_string(14, 2, "note").unwrap();
    let sb = Sandbox::new();
    sb.write("kinds.xlsx", book.save_to_buffer().unwrap());
    let (code, out, err) = pull(&sb, "[source.k]\nfile = \"kinds.xlsx\"\n");
    assert_eq!(code, 0, "{err}");
    // Worked out by hand from the cells written above.
    let expected = "kind,value,\n\
                    date,2013-11-28,\n\
                    datetime,2013-11-28T09:30:00,\n\
                    time,09:30:00,\n\
                    duration,PT36H00M00S,\n\
                    three,3,\n\
                    tenth,0.1,\n\
                    sum,0.3,\n\
                    money,1234.5,\n\
                    big,1250000,\n\
                    true,TRUE,\n\
                    false,FALSE,\n\
                    formula,6,\n\
                    text,\"Ana \"\"the\"\" Lima, Jr.\n\
                    line 2 – €\",\n\
                    empty,,note\n";
    assert_eq!(raw(&out, "k"), expected);
    // The first sheet by default, named in the sources section.
    assert_eq!(source_line(&out, "k")[5], "Kinds");
}

/// A local server answering every request with `body`, counting them.
struct Local {
    base: String,
    hits: Arc<AtomicUsize>,
    server: Arc<Server>,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn serve(body: Vec<u8>, content_type: &'static str) -> Local {
    let server = Arc::new(Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
    let port = server.server_addr().to_ip().expect("ip address").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let (s, h) = (server.clone(), hits.clone());
    std::thread::spawn(move || {
        for req in s.incoming_requests() {
            h.fetch_add(1, Ordering::SeqCst);
            // One version, ETag "v1": a conditional request gets 304.
            let same = req
                .headers()
                .iter()
                .any(|x| x.field.equiv("If-None-Match") && x.value.as_str() == "\"v1\"");
            let (status, body) = if same {
                (304, Vec::new())
            } else {
                (200, body.clone())
            };
            let mut r = Response::new(
                status.into(),
                Vec::new(),
                Box::new(std::io::Cursor::new(body.clone())) as Box<dyn Read + Send>,
                Some(body.len()),
                None,
            );
            r.add_header(Header::from_bytes("Content-Type", content_type).unwrap());
            r.add_header(Header::from_bytes("ETag", "\"v1\"").unwrap());
            let _ = req.respond(r);
        }
    });
    Local {
        base: format!("http://127.0.0.1:{port}"),
        hits,
        server,
    }
}

#[test]
fn sheets_of_one_workbook_come_from_one_download() {
    // A Google Sheets export: no extension, the content type says xlsx.
    let srv = serve(
        quarter_xlsx(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    let url = format!("{}/spreadsheets/d/ID/export?format=xlsx", srv.base);
    let sb = Sandbox::new();
    let (code, out, err) = pull(
        &sb,
        &format!(
            "[source.staff]\nurl = \"{url}\"\nsheet = \"Staff\"\n\
             [source.work]\nurl = \"{url}\"\nsheet = 2\n\
             [source.holidays]\nurl = \"{url}\"\nsheet = 3\n"
        ),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        srv.hits.load(Ordering::SeqCst),
        1,
        "one download for three sheets"
    );
    // --since: one conditional request, a 304, and each sheet's text kept.
    sb.write("last.txt", &out);
    let cfg = sb.path().join("sources.toml");
    let (code, again, err) = run(
        &sb,
        "qpull",
        &["--config", cfg.to_str().unwrap(), "--since", "last.txt"],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(srv.hits.load(Ordering::SeqCst), 2);
    for name in ["staff", "work", "holidays"] {
        assert_eq!(raw(&again, name), raw(&out, name), "{name}");
        assert_eq!(source_line(&again, name), source_line(&out, name), "{name}");
    }
    assert_eq!(again.matches("\t304\t").count(), 3, "{again}");
    assert!(raw(&out, "staff").starts_with("Id,Name,Team,Track,Role,Vacation\n"));
    assert!(raw(&out, "work").starts_with("Key,Rank,Summary,Estimate,Triage,Track\n"));
    assert_eq!(source_line(&out, "holidays")[5], "Holidays");
    assert_eq!(
        source_line(&out, "holidays")[4],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    // Without `sheet`, the content type alone makes it a workbook: its
    // first sheet.
    let (code, out, err) = pull(&sb, &format!("[source.first]\nurl = \"{url}\"\n"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(source_line(&out, "first")[5], "Staff");
}

#[test]
fn a_missing_sheet_names_the_sheets_there_are() {
    let sb = Sandbox::new();
    sb.write("quarter.xlsx", quarter_xlsx());
    let (code, out, err) = pull(
        &sb,
        "[source.staff]\nfile = \"quarter.xlsx\"\nsheet = \"Staf\"\n",
    );
    assert_eq!(code, 65, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains(
            "source staff (file:quarter.xlsx): no sheet \"Staf\" in the workbook (did you mean \"Staff\"?); its sheets: \"Staff\", \"Work\", \"Holidays\""
        ),
        "{err}"
    );
    let (code, _, err) = pull(&sb, "[source.staff]\nfile = \"quarter.xlsx\"\nsheet = 4\n");
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("no sheet 4: the workbook has 3 sheets"),
        "{err}"
    );
    // Mistakes in the config itself are usage errors.
    let (code, _, err) = pull(&sb, "[source.staff]\nfile = \"quarter.xlsx\"\nsheet = 0\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a number from 1"), "{err}");
    let (code, _, err) = pull(
        &sb,
        "[source.staff]\nfile = \"quarter.xlsx\"\nencoding = \"utf-16le\"\n",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a workbook has no text encoding"), "{err}");
}

#[test]
fn an_error_cell_names_sheet_cell_and_value() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Staff").unwrap();
    for r in 0..8 {
        sheet.write_string(r, 0, format!("p{r}")).unwrap();
        sheet.write_number(r, 1, f64::from(r)).unwrap();
    }
    sheet
        .write_formula(
            6,
            2,
            Formula::new("=VLOOKUP(A7,Z:Z,1,FALSE)").set_result("#N/A"),
        )
        .unwrap();
    sheet
        .write_formula(7, 2, Formula::new("=#REF!+1").set_result("#REF!"))
        .unwrap();
    let sb = Sandbox::new();
    sb.write("staff.xlsx", book.save_to_buffer().unwrap());
    let (code, out, err) = pull(&sb, "[source.staff]\nfile = \"staff.xlsx\"\n");
    assert_eq!(code, 65, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("Staff!C7 is #N/A (and 1 more error cell): an error in the sheet is not data"),
        "{err}"
    );
}

#[test]
fn corrupt_and_password_protected_workbooks_are_unavailable() {
    let sb = Sandbox::new();
    // A workbook cut in half, as an interrupted download leaves it.
    let whole = quarter_xlsx();
    sb.write("cut.xlsx", &whole[..whole.len() / 2]);
    let (code, out, err) = pull(&sb, "[source.w]\nfile = \"cut.xlsx\"\n");
    assert_eq!((code, out.as_str()), (69, ""), "{err}");
    assert!(err.contains("not a readable workbook"), "{err}");
    // Text where a workbook was promised.
    sb.write("text.xlsx", "Name,Track\nAna,Tenor\n");
    let (code, _, err) = pull(&sb, "[source.w]\nfile = \"text.xlsx\"\n");
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("not a workbook"), "{err}");
    // A password-protected .xlsx is an OLE container holding the
    // encryption header and the encrypted package.
    let mut ole = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    ole.create_stream("EncryptionInfo")
        .unwrap()
        .write_all(&[4, 0, 4, 0, 0x40, 0, 0, 0])
        .unwrap();
    ole.create_stream("EncryptedPackage")
        .unwrap()
        .write_all(&[0u8; 4096])
        .unwrap();
    ole.flush().unwrap();
    sb.write("locked.xlsx", ole.into_inner().into_inner());
    let (code, out, err) = pull(&sb, "[source.w]\nfile = \"locked.xlsx\"\n");
    assert_eq!((code, out.as_str()), (69, ""), "{err}");
    assert!(err.contains("password-protected"), "{err}");
}

#[test]
fn hostile_workbooks_are_bounded_by_max_bytes_and_timeout() {
    let sb = Sandbox::new();
    // Two cells whose range is 17 billion cells.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "a").unwrap();
    sheet.write_string(1_048_575, 16_383, "z").unwrap();
    sb.write("wide.xlsx", book.save_to_buffer().unwrap());
    let (code, out, err) = pull(&sb, "[source.w]\nfile = \"wide.xlsx\"\n");
    assert_eq!((code, out.as_str()), (69, ""), "{err}");
    assert!(
        err.contains(
            "used range of sheet \"Sheet1\", A1:XFD1048576 (1048576 rows by 16384 columns)"
        ),
        "{err}"
    );
    // A zip bomb: 64 cells of 32,000 letters each pack to a few KB and
    // unpack to 2 MB, refused before it is read when max_bytes allows
    // less than a sixteenth of that.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for r in 0..64u32 {
        sheet
            .write_string(r, 0, format!("{}{r}", "a".repeat(32_000)))
            .unwrap();
    }
    let bomb = book.save_to_buffer().unwrap();
    assert!(bomb.len() < 64_000, "packs small: {}", bomb.len());
    sb.write("bomb.xlsx", &bomb);
    let (code, out, err) = pull(&sb, "[source.w]\nfile = \"bomb.xlsx\"\nmax_bytes = 64000\n");
    assert_eq!((code, out.as_str()), (69, ""), "{err}");
    assert!(
        err.contains("the workbook unpacks to more than 1024000 bytes (16 times max_bytes): refusing what may be a zip bomb"),
        "{err}"
    );
    // The CSV is bounded by max_bytes too: 500 cells sharing one string
    // of 1,000 letters are 500,500 bytes of CSV from a small workbook.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let thousand = "b".repeat(1000);
    for r in 0..500u32 {
        sheet.write_string(r, 0, &thousand).unwrap();
    }
    sb.write("shared.xlsx", book.save_to_buffer().unwrap());
    let (code, out, err) = pull(
        &sb,
        "[source.w]\nfile = \"shared.xlsx\"\nmax_bytes = 400000\n",
    );
    assert_eq!((code, out.as_str()), (69, ""), "{err}");
    assert!(
        err.contains(
            "sheet \"Sheet1\" holds more than 400000 bytes (max_bytes): refusing a runaway source"
        ),
        "{err}"
    );
    let (code, _, err) = pull(
        &sb,
        "[source.w]\nfile = \"shared.xlsx\"\nmax_bytes = 600000\n",
    );
    assert_eq!(code, 0, "{err}");
    // And the reading by the timeout: a millisecond is not enough for
    // 200,000 cells.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for r in 0..20_000 {
        for c in 0..10 {
            sheet.write_number(r, c, 7.0).unwrap();
        }
    }
    sb.write("many.xlsx", book.save_to_buffer().unwrap());
    let (code, out, err) = pull(&sb, "[source.w]\nfile = \"many.xlsx\"\ntimeout = 0.001\n");
    assert_eq!((code, out.as_str()), (69, ""), "{err}");
    assert!(err.contains("(timeout): refusing it"), "{err}");
    // With room, the same workbook is read.
    let (code, out, err) = pull(&sb, "[source.w]\nfile = \"many.xlsx\"\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("=====raw w\n\t7,7,7,7,7,7,7,7,7,7\n"));
    assert_eq!(out.matches("\t7,7,7,7,7,7,7,7,7,7\n").count(), 20_000);
}

/// ’ “ ” – — € and é, as windows-1252 writes them (bytes worked out from
/// the code page table).
const CP1252: &[u8] = b"Name,Summary\r\nJos\xe9,\x93Don\x92t\x94 \x96 pay \x80 5 \x97 now\r\n";
const DECODED: &str = "Name,Summary\nJosé,“Don’t” – pay € 5 — now\n";

#[test]
fn windows_1252_and_utf16_exports_decode() {
    let sb = Sandbox::new();
    sb.write("excel.csv", CP1252);
    // As UTF-8 it is refused, with the encoding to set.
    let (code, _, err) = pull(&sb, "[source.w]\nfile = \"excel.csv\"\n");
    assert_eq!(code, 69);
    assert!(
        err.contains("not UTF-8 at byte 17 (line 2); it looks like windows-1252"),
        "{err}"
    );
    assert!(err.contains("set encoding = \"windows-1252\""), "{err}");
    for label in ["windows-1252", "latin1", "cp1252"] {
        let (code, out, err) = pull(
            &sb,
            &format!("[source.w]\nfile = \"excel.csv\"\nencoding = \"{label}\"\n"),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(raw(&out, "w"), DECODED, "{label}");
        assert_eq!(source_line(&out, "w")[6], "windows-1252");
    }
    // Excel's "Unicode Text": UTF-16LE with a BOM, tab-separated; the BOM
    // decides (whatever the config says).
    let text = "Name\tSummary\r\nJosé\t“Don’t” – pay € 5 — now\r\n";
    let mut utf16le = vec![0xff, 0xfe];
    utf16le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    sb.write("unicode.txt", &utf16le);
    let (code, out, err) = pull(
        &sb,
        "[source.w]\nfile = \"unicode.txt\"\nencoding = \"windows-1252\"\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(raw(&out, "w"), DECODED.replace(',', "\t"));
    assert_eq!(source_line(&out, "w")[6], "UTF-16LE");
    // UTF-16BE without a BOM, by its label.
    let utf16be: Vec<u8> = DECODED.encode_utf16().flat_map(u16::to_be_bytes).collect();
    sb.write("be.csv", &utf16be);
    let (code, out, err) = pull(
        &sb,
        "[source.w]\nfile = \"be.csv\"\nencoding = \"utf-16be\"\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(raw(&out, "w"), DECODED);
    // An unknown label is a usage error that says what a label is.
    let (code, _, err) = pull(
        &sb,
        "[source.w]\nfile = \"be.csv\"\nencoding = \"ebcdic\"\n",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown encoding \"ebcdic\" (a WHATWG label"),
        "{err}"
    );
}

#[test]
fn unicode_text_conditions_as_tsv() {
    // The staff sheet of the fixture quarter exported as "Unicode Text"
    // conditions like its CSV twin (qcondition reads a section whose
    // first line has a TAB as TSV).
    let sb = Sandbox::new();
    let mut config = String::new();
    for (name, text) in quarter_csv() {
        let path = format!("{name}.txt");
        if name == "staff" {
            let mut rows = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes());
            let tsv: String = rows
                .records()
                .map(|r| r.unwrap().iter().collect::<Vec<_>>().join("\t") + "\r\n")
                .collect();
            let mut bytes = vec![0xff, 0xfe];
            bytes.extend(tsv.encode_utf16().flat_map(u16::to_le_bytes));
            sb.write(&path, bytes);
        } else {
            sb.write(&path, &text);
        }
        config.push_str(&format!("[source.{name}]\nfile = \"{path}\"\n"));
    }
    let (code, out, err) = pull(&sb, &config);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        condition(&sb, &out),
        std::fs::read_to_string(fixture("conditioned.txt")).unwrap()
    );
}
