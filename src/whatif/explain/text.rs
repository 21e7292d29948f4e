//! An explanation written out: sentences to read, or one JSON document.

use std::io::{self, Write};

use super::answer::*;
use crate::model::Amount;

/// The explanation as text to read.
pub fn text(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    let it = &e.item;
    write!(out, "{} {:?}: rank {}", it.id, it.name, it.rank)?;
    if let Some(t) = &it.track {
        write!(out, ", track {t}")?;
    }
    if it.estimate.is_empty() {
        writeln!(out, ", not estimated")?;
    } else {
        writeln!(out, ", estimate {}", it.estimate)?;
    }
    if let Some(b) = &e.based_on {
        writeln!(out, "Based on {b}.")?;
    }
    writeln!(out)?;
    if e.fine {
        let lists: Vec<String> = e
            .lists
            .iter()
            .map(|l| format!("{} (done {})", l.list, l.date.as_deref().unwrap_or("")))
            .collect();
        writeln!(
            out,
            "{} is neither short nor late: above the line and done before the end in {}.",
            it.id,
            lists.join(" and ")
        )?;
        return Ok(());
    }
    for l in &e.lists {
        if l.fine {
            writeln!(
                out,
                "In {}: above the line, done {}.",
                l.list,
                l.date.as_deref().unwrap_or("")
            )?;
            continue;
        }
        let mut status = Vec::new();
        if !l.shortage.is_empty() {
            status.push(format!("short {}", l.shortage));
        }
        match &l.date {
            None => status.push("DNF (not done by the end)".into()),
            Some(d) => status.push(format!("done {d}")),
        }
        writeln!(out, "In {}: {}.", l.list, status.join(", "))?;
        for c in &l.causes {
            let (s, a) = (num(c.supply), num(c.asks));
            let (t, left, got) = (num(c.taken_above), num(c.left), num(c.got));
            let people = format!(
                "{} {} {}",
                c.people,
                c.skill,
                if c.people == 1 { "person" } else { "people" }
            );
            if c.kind == "supply" {
                writeln!(
                    out,
                    "  {} ran out in {}: supply {s} person-weeks ({people}); the items ranked above took {t}, leaving {left}; {} asks {a}: short by {}.",
                    c.skill,
                    l.list,
                    it.id,
                    num(Amount::from_units(c.asks.units() - c.got.units()))
                )?;
            } else {
                let at_once = c.at_once.unwrap_or(1);
                writeln!(
                    out,
                    "  {}'s days ran out in {}: {people}, {s} person-weeks of days until the end; the items ranked above took {t}, leaving {left}; {} needs {a}, at most {at_once} {} at once, and gets {got} done by the end.",
                    c.skill,
                    l.list,
                    it.id,
                    if at_once == 1 { "person" } else { "people" }
                )?;
            }
            if !c.taken_by.is_empty() {
                writeln!(
                    out,
                    "    Taken above it ({}, person-weeks, largest first):",
                    c.skill
                )?;
                for k in &c.taken_by {
                    writeln!(
                        out,
                        "    {:>9}  {}  {:?}  rank {}{}",
                        num(k.took),
                        k.id,
                        k.name,
                        k.rank,
                        k.track
                            .as_deref()
                            .map(|t| format!(", {t}"))
                            .unwrap_or_default()
                    )?;
                }
                if c.others.items > 0 {
                    writeln!(
                        out,
                        "    {:>9}  and {} more {}",
                        num(c.others.took),
                        c.others.items,
                        if c.others.items == 1 { "item" } else { "items" }
                    )?;
                }
            }
        }
    }
    writeln!(out)?;
    if !e.fixes.is_empty() {
        writeln!(
            out,
            "Smallest single changes that fix it, each verified by re-running the plan with it (paste into qwhatif):"
        )?;
        for f in &e.fixes {
            for c in &f.changes {
                writeln!(out, "  {c}")?;
            }
            let mut why = format!("    {}", f.summary);
            if f.kind == "estimate" {
                why.push_str(" (cuts in tenths of a person-week)");
            }
            writeln!(out, "{why}.")?;
            for s in &f.smaller {
                let still: Vec<String> = s
                    .result
                    .iter()
                    .filter(|r| !r.fine())
                    .map(ListState::text)
                    .collect();
                if s.changes.is_empty() {
                    writeln!(out, "    Without it: {}.", still.join("; "))?;
                } else {
                    writeln!(
                        out,
                        "    One step less, `{}`, does not: {}.",
                        s.changes.join("; "),
                        still.join("; ")
                    )?;
                }
            }
        }
    }
    for n in &e.no_fix {
        writeln!(out, "No {} change fixes it: {}.", n.kind, n.why)?;
    }
    Ok(())
}

/// The explanation as one JSON document.
pub fn json(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, e)?;
    writeln!(out)
}
