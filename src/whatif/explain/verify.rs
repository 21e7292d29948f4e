//! The search's suggestions run through the change language, `apply` and
//! the engine: a fix is kept only when the engine agrees.

use super::answer::{Cut, Fix, ListState, People, RankMove, Smaller};
use crate::error::Result;
use crate::model::Input;
use crate::plan::{compute, Results};
use crate::whatif::{apply, compute_both, lang};

/// The item's standing in each of its lists, as the engine computed it.
pub(super) fn standing(r: &Results, id: &str, lists: &[String]) -> Vec<ListState> {
    let mut out = Vec::with_capacity(lists.len());
    for name in lists {
        let row = r
            .tracks
            .iter()
            .position(|t| t == name)
            .and_then(|t| r.work[t].iter().find(|row| r.id(r.item(row)) == id));
        out.push(match row {
            Some(row) => ListState {
                list: name.clone(),
                date: row.done.map(|d| d.to_string()),
                shortage: r.amounts_text(r.shortage(row)),
            },
            // Not in the list: cannot be called fixed.
            None => ListState {
                list: name.clone(),
                date: None,
                shortage: "(not in the list)".into(),
            },
        });
    }
    out
}

/// A suggestion the search found, before the engine checks it.
pub(super) struct Candidate {
    pub(super) kind: &'static str,
    pub(super) changes: Vec<String>,
    pub(super) summary: String,
    /// The next smaller changes of the same kind.
    pub(super) smaller: Vec<Vec<String>>,
    pub(super) people: Vec<People>,
    pub(super) cuts: Vec<Cut>,
    pub(super) rank: Option<RankMove>,
}

/// Runs suggestions through the change language, `apply` and the engine.
pub(super) struct Verifier<'a> {
    pub(super) base: &'a Input,
    pub(super) baseline: &'a Results,
    pub(super) id: &'a str,
    pub(super) names: &'a [String],
}

impl Verifier<'_> {
    pub(super) fn input(&self, lines: &[String]) -> Result<Input> {
        let changes = lang::parse("explain", &lines.join("\n"))?;
        apply::apply(self.base, &changes)
    }

    /// The candidate as a fix when the engine says it fixes the item and
    /// none of the smaller changes does; else why not (a disagreement
    /// between the search and the engine, which would be a bug).
    pub(super) fn verify(&self, c: &Candidate) -> Result<std::result::Result<Fix, String>> {
        let mut runs: Vec<&[String]> = vec![&c.changes];
        runs.extend(c.smaller.iter().map(Vec::as_slice));
        // Two at a time, as compare does: the engine's threads wait on each
        // other part of the time.
        let mut results: Vec<Vec<ListState>> = Vec::with_capacity(runs.len());
        let mut i = 0;
        while i < runs.len() {
            let a = runs[i];
            let b = runs.get(i + 1).copied();
            let pair = match b {
                Some(b) if !a.is_empty() && !b.is_empty() => {
                    let (ra, rb) = compute_both(self.input(a)?, self.input(b)?)?;
                    vec![ra, rb]
                }
                _ => vec![],
            };
            if pair.is_empty() {
                results.push(self.run(a)?);
                if let Some(b) = b {
                    results.push(self.run(b)?);
                }
            } else {
                for r in &pair {
                    results.push(standing(r, self.id, self.names));
                }
            }
            i += 2;
        }
        let fixed = results[0].iter().all(ListState::fine);
        if !fixed {
            return Ok(Err(format!(
                "the search found `{}` but the plan re-run with it says {} (please report this)",
                c.changes.join("; "),
                results[0]
                    .iter()
                    .map(ListState::text)
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let mut smaller = Vec::new();
        for (lines, st) in c.smaller.iter().zip(&results[1..]) {
            if st.iter().all(ListState::fine) {
                return Ok(Err(format!(
                    "the search found `{}` smallest but the plan re-run with `{}` is fixed too (please report this)",
                    c.changes.join("; "),
                    lines.join("; ")
                )));
            }
            smaller.push(Smaller {
                changes: lines.clone(),
                result: st.clone(),
            });
        }
        Ok(Ok(Fix {
            kind: c.kind,
            changes: c.changes.clone(),
            summary: c.summary.clone(),
            smaller,
            people: c.people.clone(),
            cuts: c.cuts.clone(),
            rank: c.rank.clone(),
        }))
    }

    pub(super) fn run(&self, lines: &[String]) -> Result<Vec<ListState>> {
        if lines.is_empty() {
            return Ok(standing(self.baseline, self.id, self.names));
        }
        let r = compute(self.input(lines)?)?;
        Ok(standing(&r, self.id, self.names))
    }
}
