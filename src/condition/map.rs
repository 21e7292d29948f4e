//! The map file (TOML): how one team's raw sections become the v1 inputs.
//! Every key is documented in `fixtures/qcondition/README.md` and the man
//! page; an unknown key is an error, so a typo never goes unnoticed.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::Result;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Map {
    pub params: ParamsTable,
    #[serde(default)]
    pub holidays: HolidaysTable,
    pub staff: StaffTable,
    pub work: WorkTable,
}

/// `[params]`: each value literal or taken from a raw section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsTable {
    pub start: Value,
    pub end: Value,
    /// `"Apps:Native:Web"` or `["Apps", "Native", "Web"]`.
    pub skills: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a literal (a string or a list of strings) or a table { source, column, row }"
)]
pub enum Value {
    Text(String),
    List(Vec<String>),
    From(FromSource),
}

/// A value read from a cell of a raw section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromSource {
    pub source: String,
    pub column: ColRef,
    /// The 1-based data row (default 1, the first row after the header).
    pub row: Option<usize>,
}

/// `[holidays]`: literal dates and/or a column of a raw section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaysTable {
    #[serde(default)]
    pub dates: Vec<String>,
    pub source: Option<String>,
    pub format: Option<Format>,
    pub column: Option<Column>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Table,
    Grid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Tsv,
    Json,
}

/// `[staff]`. In the table layout the columns are those of the row; in the
/// grid layout `track` is the header row (one column per track), `skill`
/// the first column (carried down), `name` the cells.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffTable {
    pub source: String,
    pub layout: Layout,
    pub format: Option<Format>,
    /// JSON: pointer to the array of records (default: the document).
    pub records: Option<String>,
    pub id: Option<Column>,
    pub name: Option<Column>,
    pub team: Option<Column>,
    pub track: Option<Column>,
    pub skill: Option<Column>,
    pub vacation: Option<Column>,
    /// Grid: a regular expression; the row whose first cell matches it and
    /// every row after it are ignored.
    pub stop: Option<String>,
    /// Vacations kept apart from the grid.
    pub vacations: Option<VacationsTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VacationsTable {
    pub source: String,
    pub format: Option<Format>,
    pub name: Column,
    pub dates: Column,
}

/// `[work]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkTable {
    pub source: String,
    pub format: Option<Format>,
    /// JSON: pointer to the array of records (`/issues` for JIRA).
    pub records: Option<String>,
    /// Without an id column, ids are made from the name and track.
    pub id: Option<Column>,
    /// The prefix of made ids (default `W`).
    pub id_prefix: Option<String>,
    /// Without a rank column, the row order is the rank.
    pub rank: Option<Column>,
    pub name: Column,
    /// One column `Apps:2,Web:1`...
    pub estimate: Option<Column>,
    /// ...or one column per skill: `Apps = "Apps est"`.
    #[serde(default)]
    pub estimates: BTreeMap<String, Column>,
    pub triage: Option<Column>,
    pub track: Option<Column>,
}

/// Where a column is: its header name, its 1-based index, or (JSON) a
/// pointer into the record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "a column: a header name, a 1-based index or a JSON pointer (/fields/summary)"
)]
pub enum ColRef {
    Index(usize),
    Name(String),
}

impl std::fmt::Display for ColRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColRef::Index(i) => write!(f, "{i}"),
            ColRef::Name(n) => write!(f, "{n}"),
        }
    }
}

/// A column, or a literal, with what to do to its cells.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a column (a header name, a 1-based index, a JSON pointer) or a table with \
                 keys column, value, rename, skip, default, trim"
)]
pub enum Column {
    At(ColRef),
    Spec(ColumnSpec),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub column: Option<ColRef>,
    /// A literal used for every row instead of a column.
    pub value: Option<String>,
    /// Cell values replaced, after trimming (`"Server" = "Apps"`).
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Regular expressions: a row whose cell matches one is skipped.
    #[serde(default)]
    pub skip: Vec<String>,
    /// The value of an empty cell.
    pub default: Option<String>,
    /// Remove blanks around the cell (default true).
    pub trim: Option<bool>,
}

impl Column {
    pub fn spec(&self) -> ColumnSpec {
        match self {
            Column::At(c) => ColumnSpec {
                column: Some(c.clone()),
                ..ColumnSpec::default()
            },
            Column::Spec(s) => s.clone(),
        }
    }
}

/// Reads a map; a TOML error or an unknown key names the line and column.
pub fn parse(text: &str, name: &str) -> Result<Map> {
    crate::error::parse_toml(text, format!("map {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAP: &str = r#"
[params]
start = "2013-10-07"
end = { source = "settings", column = "end" }
skills = ["Apps", "Web"]

[staff]
source = "staff"
layout = "grid"
stop = "^Notes"
name = { skip = ["^HOLE$"] }

[work]
source = "work"
name = "Summary"
estimates = { Apps = "Apps est", Web = 4 }
"#;

    #[test]
    fn a_map_reads() {
        let m = parse(MAP, "m.toml").unwrap();
        assert!(matches!(m.params.skills, Value::List(_)));
        assert!(matches!(m.params.end, Value::From(_)));
        assert_eq!(m.staff.layout, Layout::Grid);
        assert_eq!(m.work.estimates.len(), 2);
    }

    #[test]
    fn a_typo_is_an_error_with_its_line() {
        let bad = MAP.replace("stop =", "stpo =");
        let e = parse(&bad, "m.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("line 10, section 'map m.toml': unknown field `stpo`"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn any_text_is_read_without_panic(s in "\\PC{0,200}") {
            let _ = parse(&s, "x");
        }

        #[test]
        fn mangled_maps_never_panic(cut in 0..MAP.len(), junk in "[\\[\\]=\"a-z{}, \n]{0,20}") {
            let mut s = MAP.to_owned();
            if s.is_char_boundary(cut) {
                s.insert_str(cut, &junk);
            }
            let _ = parse(&s, "x");
        }
    }
}
