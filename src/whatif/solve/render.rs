//! The answer of `qwhatif solve` shown: text to read, the change script
//! alone (for `qwhatif -s -` or `qwhatif save`), or one JSON document.

use std::io::{self, Write};

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{Answer, End, Found, Standing};
use crate::model::amount::SCALE;

/// A price in billionths as a decimal (`5`, `0.5`, `12.25`).
pub fn cost_text(units: u128) -> String {
    let scale = SCALE as u128;
    let (whole, frac) = (units / scale, units % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:09}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// [`Standing::text`].
pub fn standing_text(s: &Standing, by: NaiveDate) -> String {
    s.text(by)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn goal_line(a: &Answer) -> String {
    let filters = if a.goal.is_empty() {
        "every item".to_owned()
    } else {
        a.goal.clone()
    };
    format!(
        "Goal: {filters}, above the line and done by {} in All and in its track: {}.",
        a.by,
        plural(a.items.len(), "item", "items")
    )
}

fn uses_text(f: &Found, a: &Answer, out: &mut dyn Write) -> io::Result<()> {
    let width = f
        .uses
        .iter()
        .map(|u| cost_text(u.cost).len())
        .max()
        .unwrap_or(0);
    for u in &f.uses {
        let line = a.menu[u.offer].at.line;
        let times = if u.uses > 1 {
            format!(
                " ({} × {})",
                u.uses,
                cost_text(a.menu[u.offer].cost.units() as u128)
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:>width$}  {}    # menu line {line}{times}",
            cost_text(u.cost),
            u.change.change
        )?;
    }
    Ok(())
}

fn tried_text(a: &Answer) -> String {
    let mut s = format!(
        "Scenarios computed: {} ({} of the menu)",
        a.tried,
        plural_u128(a.combinations, "combination", "combinations")
    );
    if a.not_applied > 0 {
        s.push_str(&format!(
            "; {} could not be made (a line names what an earlier one removed)",
            a.not_applied
        ));
    }
    s.push('.');
    s
}

fn plural_u128(n: u128, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn proof_text(a: &Answer) -> String {
    match (a.proven, a.end) {
        (true, _) => "proven: every cheaper combination was computed and fails".into(),
        (false, End::Budget) => {
            "NOT proven: the budget of scenarios ran out (--max-scenarios) before every cheaper combination was computed".into()
        }
        (false, _) => {
            "NOT proven: interrupted before every cheaper combination was computed".into()
        }
    }
}

/// The answer as text to read.
pub fn text(a: &Answer, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", goal_line(a))?;
    if let Some(b) = &a.based_on {
        writeln!(out, "Based on {b}.")?;
    }
    let failing: Vec<usize> = (0..a.items.len())
        .filter(|&g| a.before.get(g).is_some_and(|s| !s.met))
        .collect();
    if failing.is_empty() {
        writeln!(out, "Today every goal item meets it.")?;
    } else {
        writeln!(
            out,
            "Today {} of them {}:",
            failing.len(),
            if failing.len() == 1 { "fails" } else { "fail" }
        )?;
        for &g in &failing {
            let it = &a.items[g];
            writeln!(
                out,
                "  {} {:?}: {}",
                it.id,
                it.name,
                standing_text(&a.before[g], a.by)
            )?;
        }
    }
    for l in &a.left_out {
        writeln!(
            out,
            "Menu line {} (`{}`) is left out: {}.",
            a.menu[l.offer].at.line, a.menu[l.offer].change.change, l.why
        )?;
    }
    writeln!(out)?;
    match &a.found {
        Some(f) if f.uses.is_empty() => {
            writeln!(
                out,
                "Nothing to change: the goal is met as the plan is (cost 0)."
            )?;
        }
        Some(f) => {
            writeln!(
                out,
                "Cheapest: cost {}, {} ({}):",
                cost_text(f.cost),
                plural(f.uses.len(), "change", "changes"),
                proof_text(a)
            )?;
            uses_text(f, a, out)?;
            writeln!(out)?;
            writeln!(out, "Goal items, before -> after:")?;
            for (g, it) in a.items.iter().enumerate() {
                let before = a
                    .before
                    .get(g)
                    .map_or(String::new(), |s| standing_text(s, a.by));
                let after = standing_text(&f.after[g], a.by);
                if before == after {
                    writeln!(out, "  {} {:?}: {after} (unchanged)", it.id, it.name)?;
                } else {
                    writeln!(out, "  {} {:?}: {before} -> {after}", it.id, it.name)?;
                }
            }
        }
        None => {
            if a.proven {
                writeln!(out, "No combination of the menu meets the goal (proven: every combination was computed).")?;
            } else {
                writeln!(
                    out,
                    "No combination found that meets the goal ({}).",
                    proof_text(a)
                )?;
            }
            if !a.unreachable.is_empty() {
                writeln!(out, "Goal items no combination meets:")?;
                for u in &a.unreachable {
                    let it = &a.items[u.item];
                    writeln!(out, "  {} {:?}: {}.", it.id, it.name, u.why)?;
                }
            }
            if let Some(m) = a.most.as_ref().filter(|m| m.met() > 0) {
                writeln!(
                    out,
                    "The cheapest combination that meets it for the most goal items ({} of {}): cost {}{}",
                    m.met(),
                    a.items.len(),
                    cost_text(m.cost),
                    if m.uses.is_empty() { " (the plan as it is)." } else { ":" }
                )?;
                uses_text(m, a, out)?;
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", tried_text(a))
}

/// The change script of the answer alone (nothing when none was found or
/// nothing needs to change).
pub fn script(a: &Answer, out: &mut dyn Write) -> io::Result<()> {
    if let Some(f) = &a.found {
        out.write_all(f.script().as_bytes())?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Json<'a> {
    goal: &'a str,
    by: String,
    based_on: Option<&'a str>,
    found: bool,
    /// The price, exactly as a decimal; null when none was found.
    cost: Option<Box<RawValue>>,
    proven: bool,
    /// `complete`, `budget` or `interrupted`.
    end: &'static str,
    script: String,
    changes: Vec<JsonUse>,
    items: Vec<JsonItem<'a>>,
    scenarios: u64,
    combinations: u128,
    not_applied: u64,
    left_out: Vec<JsonLeftOut<'a>>,
    unreachable: Vec<JsonUnreachable<'a>>,
    most: Option<JsonMost>,
}

#[derive(Serialize)]
struct JsonUse {
    /// The line of the ask it comes from.
    line: u32,
    cost: Box<RawValue>,
    uses: u32,
    change: String,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    name: &'a str,
    rank: i64,
    track: Option<&'a str>,
    before: JsonStanding,
    after: Option<JsonStanding>,
}

#[derive(Serialize)]
struct JsonStanding {
    met: bool,
    dropped: bool,
    lists: Vec<JsonList>,
}

#[derive(Serialize)]
struct JsonList {
    list: String,
    date: Option<String>,
    shortage: String,
}

#[derive(Serialize)]
struct JsonLeftOut<'a> {
    line: u32,
    change: String,
    why: &'a str,
}

#[derive(Serialize)]
struct JsonUnreachable<'a> {
    id: &'a str,
    why: &'a str,
}

#[derive(Serialize)]
struct JsonMost {
    met: usize,
    cost: Box<RawValue>,
    script: String,
    changes: Vec<JsonUse>,
}

fn raw(units: u128) -> Box<RawValue> {
    // A decimal of digits and a point is always a JSON number.
    RawValue::from_string(cost_text(units))
        .unwrap_or_else(|_| RawValue::from_string("0".into()).expect("0 is JSON"))
}

fn standing(s: &Standing) -> JsonStanding {
    JsonStanding {
        met: s.met,
        dropped: s.lists.is_empty(),
        lists: s
            .lists
            .iter()
            .map(|l| JsonList {
                list: l.list.clone(),
                date: l.date.map(|d| d.to_string()),
                shortage: l.shortage.clone(),
            })
            .collect(),
    }
}

fn json_uses(f: &Found, a: &Answer) -> Vec<JsonUse> {
    f.uses
        .iter()
        .map(|u| JsonUse {
            line: a.menu[u.offer].at.line,
            cost: raw(u.cost),
            uses: u.uses,
            change: u.change.change.to_string(),
        })
        .collect()
}

/// The answer as one JSON document.
pub fn json(a: &Answer, out: &mut dyn Write) -> io::Result<()> {
    let doc = Json {
        goal: &a.goal,
        by: a.by.to_string(),
        based_on: a.based_on.as_deref(),
        found: a.found.is_some(),
        cost: a.found.as_ref().map(|f| raw(f.cost)),
        proven: a.proven,
        end: match a.end {
            End::Complete => "complete",
            End::Budget => "budget",
            End::Interrupted => "interrupted",
        },
        script: a.found.as_ref().map_or(String::new(), Found::script),
        changes: a.found.as_ref().map_or(Vec::new(), |f| json_uses(f, a)),
        items: a
            .items
            .iter()
            .enumerate()
            .map(|(g, it)| JsonItem {
                id: &it.id,
                name: &it.name,
                rank: it.rank,
                track: it.track.as_deref(),
                before: a.before.get(g).map_or(
                    JsonStanding {
                        met: false,
                        dropped: false,
                        lists: Vec::new(),
                    },
                    standing,
                ),
                after: a.found.as_ref().map(|f| standing(&f.after[g])),
            })
            .collect(),
        scenarios: a.tried,
        combinations: a.combinations,
        not_applied: a.not_applied,
        left_out: a
            .left_out
            .iter()
            .map(|l| JsonLeftOut {
                line: a.menu[l.offer].at.line,
                change: a.menu[l.offer].change.change.to_string(),
                why: &l.why,
            })
            .collect(),
        unreachable: a
            .unreachable
            .iter()
            .map(|u| JsonUnreachable {
                id: &a.items[u.item].id,
                why: &u.why,
            })
            .collect(),
        most: a.most.as_ref().map(|m| JsonMost {
            met: m.met(),
            cost: raw(m.cost),
            script: m.script(),
            changes: json_uses(m, a),
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
