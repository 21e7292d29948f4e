//! Conditioned v1 streams (a team's own script) read back into rows for
//! the gate: `qcondition --check`.

use super::gate::{self, Cell, Conditioned, Problems};
use super::RawStream;
use crate::error::Location;
use crate::plan::input::{HOLIDAYS, PARAMS, STAFF, WORK};
use crate::stream::Section;

/// Reads conditioned v1 streams into rows for the gate (`--check`).
pub fn from_v1(input: &RawStream, p: &mut Problems) -> Conditioned {
    let mut out = Conditioned::default();
    let rows = |header: &str, names: &[&str], p: &mut Problems| -> Option<Vec<Vec<Cell>>> {
        let sections: Vec<&Section> = input
            .sections
            .iter()
            .filter(|s| s.header == header)
            .collect();
        if sections.is_empty() {
            return None;
        }
        let mut rows = Vec::new();
        for s in sections {
            for (i, line) in s.lines.iter().enumerate() {
                let n = s.line + 1 + i as u64;
                let Ok(text) = std::str::from_utf8(line) else {
                    p.error(&Location::section(header).line(n), "the line is not UTF-8");
                    continue;
                };
                let mut cells: Vec<Cell> = text
                    .split('\t')
                    .zip(names)
                    .enumerate()
                    .map(|(j, (f, name))| {
                        Cell::new(
                            f,
                            Location::section(header)
                                .line(n)
                                .column(format!("{} ({name})", j + 1)),
                        )
                    })
                    .collect();
                if cells.len() < names.len() {
                    let optional =
                        names.len() - cells.len() == 1 && (header == STAFF || header == WORK);
                    if !optional {
                        p.error(
                            &Location::section(header).line(n),
                            format!(
                                "{} columns, expected {} ({})",
                                cells.len(),
                                names.len(),
                                names.join(", ")
                            ),
                        );
                        continue;
                    }
                    let last = names.len();
                    cells.push(Cell::new(
                        "",
                        Location::section(header)
                            .line(n)
                            .column(format!("{last} ({})", names[last - 1])),
                    ));
                }
                rows.push(cells);
            }
        }
        Some(rows)
    };
    match rows(PARAMS, &["start", "end", "skills"], p) {
        Some(mut r) if r.len() == 1 => out.params = r.remove(0),
        Some(r) if !r.is_empty() => p.error(
            &Location::section(PARAMS),
            format!("{} lines, expected one", r.len()),
        ),
        _ => p.error(
            &Location::section(PARAMS),
            "the section is missing or empty",
        ),
    }
    if let Some(r) = rows(HOLIDAYS, &["date"], p) {
        out.holidays = r.into_iter().flatten().collect();
    }
    match rows(
        STAFF,
        &["id", "name", "team", "track", "skill", "vacation"],
        p,
    ) {
        Some(r) => out.staff = r,
        None => p.error(&Location::section(STAFF), "the section is missing"),
    }
    match rows(
        WORK,
        &["id", "rank", "name", "estimate", "triage", "track"],
        p,
    ) {
        Some(r) => out.work = r,
        None => p.error(&Location::section(WORK), "the section is missing"),
    }
    gate::check(&out, p);
    out
}
