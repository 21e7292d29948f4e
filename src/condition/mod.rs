//! qcondition: map file, table/grid/JSON layouts, and the gate.
//! May use: rules, model, stream, error; never plan.
//!
//! Team layouts (raw sections, a map) into the v1 inputs of SPEC section 3,
//! and the gate that lets only good data through.
//!
//! - [`map`]: the map file (TOML);
//! - [`raw`]: raw sections as tables (CSV, TSV, JSON records);
//! - [`column`]: a column of the map compiled against its table;
//! - [`extract`]: each table of the map (params, holidays, staff, work)
//!   from its raw section into conditioned rows, every row accounted for;
//! - [`grid`]: the team-sheet layout of the staff;
//! - [`cell`]: what the table and grid layouts share (a row's cells, its
//!   id, vacations);
//! - [`gate`]: problems, row tallies, and the conditioned rows checked with
//!   the rule book ([`crate::rules`]);
//! - [`check`]: conditioned v1 streams read with qplan's own reader
//!   (`--check`, and the final gate of `--map`);
//! - [`output`]: the v1 streams written.

pub mod cell;
pub mod check;
pub mod column;
pub mod extract;
pub mod gate;
pub mod grid;
pub mod map;
pub mod output;
pub mod raw;

pub use extract::condition;
pub use output::write;

use crate::stream::{Section, PROVENANCE};

/// A raw stacked stream read whole: its sections in order (`raw NAME`
/// sections, provenance, anything else passed along).
pub struct RawStream {
    pub sections: Vec<Section>,
}

impl RawStream {
    /// Every section `raw SOURCE`, in order (more than one is an error the
    /// caller reports).
    pub fn raw(&self, source: &str) -> Vec<&Section> {
        let header = format!("raw {source}");
        self.sections
            .iter()
            .filter(|s| s.header == header)
            .collect()
    }

    /// The provenance lines of every provenance section, each once.
    pub fn provenance(&self) -> Option<Vec<Vec<u8>>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut any = false;
        for s in self.sections.iter().filter(|s| s.header == PROVENANCE) {
            any = true;
            for l in &s.lines {
                if !lines.contains(l) {
                    lines.push(l.clone());
                }
            }
        }
        any.then_some(lines)
    }
}
