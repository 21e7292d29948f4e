//! What an explanation holds: the item, why it is short or late in each of
//! its lists, and the fixes found (or why there is none).

use clap::ValueEnum;
use serde::Serialize;

use crate::model::amount::{Amount, SCALE};
use crate::rules::fields::push_num;

/// The output formats of `qwhatif explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Sentences to read.
    Text,
    /// One JSON document.
    Json,
}

/// Estimates are cut in steps of a tenth of a person-week.
pub const CUT_STEP: Amount = Amount::from_units(SCALE / 10);
/// How many higher-ranked items are listed per cause; the rest are counted.
pub const TAKERS: usize = 10;
/// The name `add staff` suggestions give the people they add.
pub(super) const HIRE: &str = "hire";

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub item: Item,
    /// The data the input came from (its provenance), when known.
    pub based_on: Option<String>,
    /// Neither short nor DNF in any of its lists.
    pub fine: bool,
    /// `All`, then the item's own track.
    pub lists: Vec<ListWhy>,
    /// The smallest change of each kind that fixes it, verified.
    pub fixes: Vec<Fix>,
    /// The kinds of change that cannot fix it, and why.
    pub no_fix: Vec<NoFix>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub rank: i64,
    pub track: Option<String>,
    /// `Apps:2,Web:1`; empty when not estimated.
    pub estimate: String,
}

/// The item in one list.
#[derive(Debug, Clone, Serialize)]
pub struct ListWhy {
    pub list: String,
    /// ISO date; `None` is DNF.
    pub date: Option<String>,
    /// `Apps:-1.5, Web:-2`; empty when above the line.
    pub shortage: String,
    pub fine: bool,
    pub causes: Vec<Cause>,
}

/// One skill that ran out for the item in one list.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    pub skill: String,
    /// `supply`: the list's supply of the skill ran out (a shortage);
    /// `days`: the skill's days ran out before its work was done (DNF).
    pub kind: &'static str,
    /// People of the skill in the list.
    pub people: u32,
    /// Person-weeks: the list's manpower (`supply`), or the person-weeks
    /// of days from start to end (`days`).
    pub supply: Amount,
    /// What the higher-ranked items took of it.
    pub taken_above: Amount,
    /// What was left at the item's turn.
    pub left: Amount,
    /// The item's amount in the skill.
    pub asks: Amount,
    /// What it got (`days`: the work done by the end).
    pub got: Amount,
    /// `days`: how many people may work on it at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_once: Option<i64>,
    /// The higher-ranked items that took most, largest first.
    pub taken_by: Vec<Taker>,
    /// The higher-ranked items that took some and are not listed.
    pub others: Others,
}

#[derive(Debug, Clone, Serialize)]
pub struct Taker {
    pub id: String,
    pub name: String,
    pub rank: i64,
    pub track: Option<String>,
    pub took: Amount,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Others {
    pub items: usize,
    pub took: Amount,
}

/// A change that fixes the item.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// `staff`, `estimate` or `rank`.
    pub kind: &'static str,
    /// Change-language lines to paste into qwhatif (one, or one per skill
    /// for people of several skills).
    pub changes: Vec<String>,
    /// What it is, in words.
    pub summary: String,
    /// The next smaller changes of the same kind, each verified not to fix
    /// the item.
    pub smaller: Vec<Smaller>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<People>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<Cut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<RankMove>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Smaller {
    /// The lines (none: the plan as it is).
    pub changes: Vec<String>,
    /// How the item then stands in each list it is in.
    pub result: Vec<ListState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListState {
    pub list: String,
    pub date: Option<String>,
    pub shortage: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct People {
    pub skill: String,
    pub track: String,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cut {
    pub skill: String,
    pub from: Amount,
    pub to: Amount,
    pub cut: Amount,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankMove {
    pub from: i64,
    pub to: i64,
    /// Per list, how many more items it is ahead of.
    pub ahead: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoFix {
    pub kind: &'static str,
    pub why: String,
}

impl ListState {
    pub fn fine(&self) -> bool {
        self.date.is_some() && self.shortage.is_empty()
    }

    pub(super) fn text(&self) -> String {
        let mut s = format!(
            "{}: {}",
            self.list,
            self.date
                .as_deref()
                .map_or("DNF".into(), |d| format!("done {d}"))
        );
        if !self.shortage.is_empty() {
            s.push_str(", short ");
            s.push_str(&self.shortage);
        }
        s
    }
}

pub(super) fn num(a: Amount) -> String {
    let mut s = String::new();
    push_num(&mut s, a);
    s
}
