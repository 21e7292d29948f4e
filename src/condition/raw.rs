//! Raw sections as tables: CSV and TSV text through the csv crate, JSON
//! documents (a JIRA search result) as records whose columns are JSON
//! pointers. Rows keep the stream line they came from, for error messages.

use serde_json::Value as Json;

use super::map::{ColRef, Format};
use crate::stream::Section;

/// The data rows of a raw section, after its header row.
pub struct Table {
    /// `raw staff`.
    pub section: String,
    pub format: Format,
    /// The header row (CSV/TSV); empty for JSON.
    pub headers: Vec<String>,
    pub header_line: u64,
    pub rows: Vec<RawRow>,
    /// Rows with nothing in them (every cell blank), left out of `rows`.
    pub blank_rows: u64,
}

/// A row of a raw section (one CSV/TSV line or one JSON record).
pub struct RawRow {
    /// The stream line the row starts on.
    pub line: u64,
    pub data: RowData,
}

pub enum RowData {
    /// The cells of a CSV/TSV row in one allocation (not one per cell).
    Cells(csv::StringRecord),
    Record(Json),
}

/// A resolved column: a cell index or a JSON pointer.
#[derive(Debug, Clone)]
pub enum Col {
    Index(usize),
    Pointer(String),
}

fn guess(section: &Section) -> Format {
    let first = section
        .lines
        .iter()
        .find(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .map(|l| l.as_slice())
        .unwrap_or_default();
    match first.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Format::Json,
        _ if first.contains(&b'\t') => Format::Tsv,
        _ => Format::Csv,
    }
}

impl Table {
    /// Reads a raw section; the message says what is wrong when it cannot.
    pub fn read(
        section: &Section,
        format: Option<Format>,
        records: Option<&str>,
    ) -> Result<Table, (u64, String)> {
        let format = format.unwrap_or_else(|| guess(section));
        let mut text = Vec::with_capacity(section.lines.iter().map(|l| l.len() + 1).sum());
        for l in &section.lines {
            text.extend_from_slice(l);
            text.push(b'\n');
        }
        let mut table = Table {
            section: section.header.clone(),
            format,
            headers: Vec::new(),
            header_line: section.line + 1,
            rows: Vec::new(),
            blank_rows: 0,
        };
        if format == Format::Json {
            let doc: Json = serde_json::from_slice(&text).map_err(|e| {
                (
                    section.line + e.line() as u64,
                    format!("not valid JSON: {e}"),
                )
            })?;
            let list = match records {
                Some(p) => doc.pointer(p).cloned(),
                None if doc.is_array() => Some(doc),
                None => doc.get("issues").cloned(),
            };
            let Some(Json::Array(list)) = list else {
                return Err((
                    section.line,
                    format!(
                        "no array of records at {:?} (set `records` to its JSON pointer)",
                        records.unwrap_or("/issues")
                    ),
                ));
            };
            table.rows = list
                .into_iter()
                .map(|r| RawRow {
                    line: section.line + 1,
                    data: RowData::Record(r),
                })
                .collect();
            return Ok(table);
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(if format == Format::Tsv { b'\t' } else { b',' })
            .from_reader(text.as_slice());
        let mut first = true;
        let (mut counted_to, mut newlines) = (0usize, 0u64);
        for record in reader.records() {
            let record = record.map_err(|e| {
                let byte = e.position().map_or(0, |p| p.byte()) as usize;
                let line =
                    1 + memchr::memchr_iter(b'\n', &text[..byte.min(text.len())]).count() as u64;
                (
                    section.line + line,
                    format!("not valid {format:?}: {e}").to_uppercase_first(),
                )
            })?;
            // csv's own line count skips blank lines; count from the byte.
            let mut byte = record.position().map_or(0, |p| p.byte()) as usize;
            // ...and its position is where the blank lines before it start.
            while text.get(byte).is_some_and(|b| *b == b'\n' || *b == b'\r') {
                byte += 1;
            }
            // Lines are counted from the previous record on: linear time.
            let byte = byte.min(text.len()).max(counted_to);
            newlines += memchr::memchr_iter(b'\n', &text[counted_to..byte]).count() as u64;
            counted_to = byte;
            let line = section.line + 1 + newlines;
            if first {
                table.headers = record.iter().map(str::to_owned).collect();
                table.header_line = line;
                first = false;
            } else if record.iter().any(|c| !trim(c).is_empty()) {
                table.rows.push(RawRow {
                    line,
                    data: RowData::Cells(record),
                });
            } else {
                table.blank_rows += 1;
            }
        }
        Ok(table)
    }

    /// Finds a column: by header name (trimmed, case-sensitive), by 1-based
    /// index, or (JSON) by pointer.
    pub fn column(&self, c: &ColRef) -> Result<Col, String> {
        match (c, self.format) {
            (ColRef::Name(p), Format::Json) if p.starts_with('/') => Ok(Col::Pointer(p.clone())),
            (_, Format::Json) => Err(format!(
                "column {c} of a JSON source must be a JSON pointer such as /fields/summary"
            )),
            (ColRef::Index(0), _) => Err("column indexes start at 1".into()),
            (ColRef::Index(i), _) => Ok(Col::Index(i - 1)),
            (ColRef::Name(n), _) => self
                .headers
                .iter()
                .position(|h| h.trim() == n.trim())
                .map(Col::Index)
                .ok_or_else(|| {
                    format!(
                        "no column {n:?} in the header row (columns: {})",
                        self.headers
                            .iter()
                            .map(|h| format!("{:?}", h.trim()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
        }
    }

    /// The number of cells of a CSV/TSV row (`None` for a JSON record).
    pub fn width(row: &RawRow) -> Option<usize> {
        match &row.data {
            RowData::Cells(c) => Some(c.len()),
            RowData::Record(_) => None,
        }
    }

    /// The text of a cell; a missing cell is empty.
    pub fn cell(row: &RawRow, col: &Col) -> String {
        match (&row.data, col) {
            (RowData::Cells(cells), Col::Index(i)) => {
                cells.get(*i).map(str::to_owned).unwrap_or_default()
            }
            (RowData::Record(r), Col::Pointer(p)) => match r.pointer(p) {
                None | Some(Json::Null) => String::new(),
                Some(Json::String(s)) => s.clone(),
                Some(Json::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
                Some(v) => v.to_string(),
            },
            _ => String::new(),
        }
    }
}

/// `str::trim`, with a quick way out for the usual cell that starts and
/// ends with an ASCII character that is not white space (every Unicode
/// white space is either ASCII or starts and ends with a byte >= 0x80).
pub fn trim(s: &str) -> &str {
    let solid = |b: u8| b.is_ascii() && !char::from(b).is_whitespace();
    match s.as_bytes() {
        [first, .., last] if solid(*first) && solid(*last) => s,
        [only] if solid(*only) => s,
        _ => s.trim(),
    }
}

trait UpperFirst {
    fn to_uppercase_first(self) -> String;
}

impl UpperFirst for String {
    /// csv's messages start with "CSV error"; ours are lower-case.
    fn to_uppercase_first(self) -> String {
        self.replacen("Csv", "CSV", 1).replacen("Tsv", "TSV", 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn section(lines: &[&str]) -> Section {
        Section {
            header: "raw x".into(),
            line: 10,
            lines: lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
        }
    }

    #[test]
    fn csv_rows_keep_their_stream_lines() {
        let s = section(&["Name,Track", "Ana,Tenor", "", "\"Ben, Jr\",Bass"]);
        let t = Table::read(&s, None, None).unwrap();
        assert_eq!(t.headers, ["Name", "Track"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].line, 14);
        let c = t.column(&ColRef::Name("Name".into())).unwrap();
        assert_eq!(Table::cell(&t.rows[1], &c), "Ben, Jr");
        assert!(t
            .column(&ColRef::Name("Nmae".into()))
            .unwrap_err()
            .contains("\"Name\""));
        assert!(t.column(&ColRef::Index(0)).is_err());
        assert_eq!(Table::cell(&t.rows[0], &Col::Index(7)), "");
    }

    #[test]
    fn json_records_by_pointer() {
        let s = section(&[
            r#"{"issues": [{"key": "A-1", "fields": {"summary": "Do", "n": 2, "l": ["x", "y"]}}]}"#,
        ]);
        let t = Table::read(&s, None, None).unwrap();
        let get = |p: &str| Table::cell(&t.rows[0], &t.column(&ColRef::Name(p.into())).unwrap());
        assert_eq!(get("/key"), "A-1");
        assert_eq!(get("/fields/n"), "2");
        assert_eq!(get("/fields/l"), "x,y");
        assert_eq!(get("/fields/missing"), "");
        assert!(t.column(&ColRef::Name("key".into())).is_err());
        assert!(Table::read(&section(&["{"]), None, None).is_err());
        assert!(Table::read(&section(&["{\"a\": 1}"]), None, None).is_err());
    }

    proptest! {
        #[test]
        fn trim_is_str_trim(s in "[ \t\u{b}\u{a0}\u{3000}a-z\u{e9}]{0,6}") {
            prop_assert_eq!(trim(&s), s.trim());
        }

        #[test]
        fn any_text_never_panics(lines in proptest::collection::vec("\\PC{0,40}", 0..8), fmt in 0..4u8) {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let format = [None, Some(Format::Csv), Some(Format::Tsv), Some(Format::Json)][fmt as usize];
            if let Ok(t) = Table::read(&section(&lines), format, None) {
                for r in &t.rows {
                    let _ = Table::cell(r, &Col::Index(0));
                }
            }
        }
    }
}
