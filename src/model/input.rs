//! The qplan input model (SPEC section 3): the params, holidays, staff and
//! work items qplan computes from, as the rule book (`rules`) reads them
//! from a stacked stream.

use rustc_hash::FxHashMap;

use chrono::NaiveDate;

use super::arena::{Arena, Span};
use super::triage::Triage;

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
