//! `qwhatif explain`: why an item is short or late, and the smallest fix.
//! May use: the rest of whatif, plan, model, rules, error.
//!
//! `qwhatif explain ITEM`: why an item is short or late (DNF), and the
//! smallest single change that fixes it.
//!
//! The item's trouble is read from the plan the engine computes. The why
//! is per list the item is in (`All` and its own track) and per skill of
//! its estimate: the supply that ran out (a shortage) or the days that ran
//! out (its schedule, DNF), and the higher-ranked items that took them.
//!
//! The fixes are found by search on a [`Model`] of the item's lists that
//! follows only the item's own skills and only the items ahead of it
//! (nothing ranked after an item changes its results, and skills share
//! neither supply nor days): people added (binary search on the count),
//! weeks cut from its estimate (in tenths of a person-week), ranks moved up
//! (binary search on the ranks ahead of it). Every suggestion is then
//! printed as a change-language line, parsed back, applied with
//! [`super::apply`] and computed by the engine, and kept only when the
//! engine agrees that it fixes the item and that the next smaller change of
//! the same kind does not.

use std::sync::Arc;

use super::apply;
use super::lang::{self, quote, Change, Located, Pos};
use crate::error::Result;
use crate::model::Input;
use crate::plan::compute;

mod answer;
mod search;
mod text;
mod verify;

pub use answer::*;
pub use search::Model;
pub use text::{json, text};
use verify::{standing, Verifier};

#[cfg(test)]
mod tests;

/// The item named by id or exact name, as the change language finds it:
/// a name that matches nothing is an error with the closest names (65).
pub fn find_item(input: &Input, item: &str) -> Result<usize> {
    let at = Pos { line: 1, column: 1 };
    let located = Located {
        change: Change::Drop(item.to_owned()),
        source: Arc::from("ITEM"),
        at,
        args: vec![("name", at)],
    };
    apply::work(input, &located, item)
}

/// Explains item `item` of the plan computed from `base`.
pub fn explain(base: &Input, item: &str) -> Result<Explanation> {
    let target = find_item(base, item)?;
    let baseline = compute(base.clone())?;
    let model = Model::new(base, target);
    let w = &base.work[target];
    let a = &base.arena;
    let id = a.str(w.id).to_owned();
    let track = w.track.map(|t| base.tracks.name(t).to_owned());
    let item = Item {
        id: id.clone(),
        name: a.str(w.name).to_owned(),
        rank: w.rank,
        track: track.clone(),
        estimate: lang::estimate_text(&w.estimate.map(|e| {
            a.amounts(e)
                .iter()
                .map(|&(k, x)| (base.skills.name(k).to_owned(), x))
                .collect()
        })),
    };
    let names = model.list_names();
    let states = standing(&baseline, &id, &names);
    let fine = states.iter().all(ListState::fine);
    let mut lists = Vec::new();
    for (l, st) in model.lists.iter().zip(&states) {
        let causes = if st.fine() {
            Vec::new()
        } else {
            model.causes(l)
        };
        lists.push(ListWhy {
            list: st.list.clone(),
            date: st.date.clone(),
            shortage: st.shortage.clone(),
            fine: st.fine(),
            causes,
        });
    }
    let mut out = Explanation {
        item,
        based_on: super::based_on(base.provenance.as_ref()),
        fine,
        lists,
        fixes: Vec::new(),
        no_fix: Vec::new(),
    };
    if fine {
        return Ok(out);
    }
    if model.estimate.is_none() {
        out.no_fix.push(NoFix {
            kind: "estimate",
            why: format!(
                "{} has no estimate, and an item without one is DNF whatever the people, the cuts or the rank: estimate it (`estimate {} Skill:N`)",
                id,
                quote(&id)
            ),
        });
        return Ok(out);
    }
    let v = Verifier {
        base,
        baseline: &baseline,
        id: &id,
        names: &names,
    };
    for kind in ["staff", "estimate", "rank"] {
        let found = match kind {
            "staff" => model.staff_fix(),
            "estimate" => Ok(model.estimate_fix()),
            _ => model.rank_fix(),
        };
        match found {
            Err(why) => out.no_fix.push(NoFix { kind, why }),
            Ok(c) => match v.verify(&c) {
                Ok(Ok(fix)) => out.fixes.push(fix),
                Ok(Err(why)) => out.no_fix.push(NoFix { kind, why }),
                // The change does not apply (a rank past the last there
                // is, a name the change language cannot write): no fix of
                // this kind, said with the reason.
                Err(e) => out.no_fix.push(NoFix {
                    kind,
                    why: format!("`{}` cannot be run: {e}", c.changes.join("; ")),
                }),
            },
        }
    }
    Ok(out)
}
