//! The qplan input model (SPEC section 3): the params, holidays, staff and
//! work items qplan computes from, as the rule book ([`crate::rules`])
//! reads them from a stacked stream.
//!
//! [`read`] is qplan's way in: the rule book's reader with a sink that stops
//! at the first problem. `qcondition --check` runs the very same reader with
//! a sink that collects every problem, so the two cannot disagree.

use rustc_hash::FxHashMap;

use chrono::NaiveDate;

use super::arena::{Arena, Span};
use super::fields::Triage;
use crate::error::{Error, Location, Result};
use crate::rules;
use crate::stream::{LineSource, Reader, Section};

pub use crate::rules::{ALL, HOLIDAYS, PARAMS, STAFF, WORK};

/// Names given small numbers in order of first appearance.
#[derive(Debug, Default, Clone)]
pub struct Names {
    index: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    /// Up to this many names, [`Names::intern`] looks them over instead of
    /// hashing (a plan's skills: several a work line).
    const FEW: usize = 8;

    pub fn intern(&mut self, name: &str) -> u32 {
        if self.names.len() <= Self::FEW {
            if let Some(i) = self.names.iter().position(|n| n == name) {
                return i as u32;
            }
        } else if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        i
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The scheduling skills, in the order given, without repeats.
    pub sched: Vec<String>,
}

impl Params {
    /// The params line in its canonical form.
    pub fn line(&self) -> String {
        format!("{}\t{}\t{}", self.start, self.end, self.sched.join(":"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub team: String,
    /// Index into [`Input::tracks`]; `None` when the column is empty.
    pub track: Option<u32>,
    /// Index into [`Input::skills`]; `None` when the column is empty.
    pub skill: Option<u32>,
    pub vacation: Vec<(NaiveDate, NaiveDate)>,
    /// The line it was read from, for messages.
    pub line: u64,
}

/// A work item; its text and amounts are in [`Input::arena`].
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    pub id: Span,
    pub rank: i64,
    pub name: Span,
    /// Amounts per skill (index into [`Input::skills`]) in the order
    /// written; `None` when not estimated.
    pub estimate: Option<Span>,
    pub triage: Triage,
    pub track: Option<u32>,
    /// The line it was read from, for messages.
    pub line: u64,
}

/// Everything qplan computes from.
#[derive(Debug, Clone)]
pub struct Input {
    pub params: Params,
    /// The params content line exactly as read, copied to the output.
    pub params_line: String,
    pub holidays: Vec<NaiveDate>,
    pub staff: Vec<Person>,
    pub work: Vec<WorkItem>,
    /// The work items' ids, names and estimates.
    pub arena: Arena,
    pub tracks: Names,
    pub skills: Names,
    /// The `qsnap provenance v1` lines, passed through.
    pub provenance: Option<Vec<Vec<u8>>>,
}

/// What a qplan input stream turned out to hold.
pub enum Loaded {
    /// Conditioned inputs, to compute from.
    Input(Box<Input>),
    /// An already computed results stream, to render.
    Results(Vec<Section>),
}

/// Reads a qplan input stream (conditioned inputs or a results stream),
/// stopping at the first problem.
pub fn read<S: LineSource>(reader: &mut Reader<S>) -> Result<Loaded> {
    // The Stop sink ends the read at the first problem, so a read that
    // went through holds a plan.
    rules::read(reader, &mut rules::Stop)?
        .ok_or_else(|| Error::data(Location::section(PARAMS), "the input holds no plan"))
}

/// [`read`], keeping the warnings of the rule book (legal but suspicious
/// data: a blank estimate or triage, a holiday or vacation with no day in
/// the plan, a person on a track with no work…) to be printed on stderr.
/// With `strict`, the first warning ends the read as an error (exit 65).
/// The first [`rules::Warn::KEEP`] warnings are kept; the count of the
/// others comes with them.
pub fn read_warned<S: LineSource>(
    reader: &mut Reader<S>,
    strict: bool,
) -> Result<(Loaded, Vec<Error>, usize)> {
    let mut sink = rules::Warn::new(strict);
    let loaded = rules::read(reader, &mut sink)?
        .ok_or_else(|| Error::data(Location::section(PARAMS), "the input holds no plan"))?;
    // In the order of the lines they are about (those found over all rows
    // come last in reading order).
    let mut warnings = std::mem::take(&mut sink.warnings);
    warnings.sort_by_key(|w| match w {
        Error::Data { at, .. } => at.line.unwrap_or(u64::MAX),
        _ => u64::MAX,
    });
    Ok((loaded, warnings, sink.more))
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn names_keep_their_numbers_below_and_above_a_few() {
        let mut names = Names::default();
        let all: Vec<String> = (0..20).map(|i| format!("Track{i:03}")).collect();
        for (i, n) in all.iter().enumerate() {
            assert_eq!(names.intern(n), i as u32);
            // Every name so far, again: the same number, nothing added.
            for (j, m) in all[..=i].iter().enumerate() {
                assert_eq!(names.intern(m), j as u32);
                assert_eq!(names.get(m), Some(j as u32));
            }
            assert_eq!(names.len(), i + 1);
        }
        assert_eq!(names.get("Track999"), None);
        assert_eq!(names.name(7), "Track007");
    }
}
