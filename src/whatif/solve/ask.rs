//! The ask of `qwhatif solve`: one goal and a menu of allowed changes, each
//! with its price.
//!
//! ```text
//! goal triage<=1.5 by 2013-12-13      # filters: triage<=T track=NAME items=ID,ID (ANDed)
//! allow 5 max=2 add staff "Web hire" track=Bass skill=Web
//! allow 1 drop MOB-136
//! ```
//!
//! Statements are separated by newlines or `;`; `#` at the start of a word
//! comments out the rest of the line; words are bare or quoted (`"…"`, with
//! `\"` and `\\`), exactly as in the change language, whose parser reads
//! the CHANGE of every `allow` line (so a change in an ask is written and
//! checked exactly as in a script). Every problem is an error at its line
//! and column, a usage error (exit 2): the ask is what the user typed, the
//! plan is fine.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::error::Error;
use crate::model::amount::Amount;
use crate::rules::fields::{self, Triage};
use crate::whatif::lang::{self, Change, Located, Pos};

/// The most times one `allow … max=N add staff` line may be used.
pub const MAX_USES: u32 = lang::MAX_COUNT;

/// An ask: the goal and the menu, in the order written.
#[derive(Debug, Clone)]
pub struct Ask {
    pub goal: Goal,
    pub menu: Vec<Offer>,
}

/// Which items must be done, and by when.
#[derive(Debug, Clone, Default)]
pub struct Goal {
    /// Items of this triage level or a more important one.
    pub triage: Option<Triage>,
    /// Items of this track, and where it was written.
    pub track: Option<(String, Pos)>,
    /// Items by id, and where each was written.
    pub items: Option<Vec<(String, Pos)>>,
    /// The last day the items may be done; `None`: the plan's end.
    pub by: Option<NaiveDate>,
    /// Where the goal statement starts.
    pub at: Pos,
    /// The filters as written (`triage<=1.5 track=Bass`), for the answer.
    pub text: String,
    /// The text the goal is in (`ask`, a file's path), for messages.
    pub source: String,
}

/// One line of the menu: a change the search may use, at a price.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The price of one use, in billionths (as [`Amount`]): any unit.
    pub cost: Amount,
    /// How many times it may be used (only `add staff` more than once:
    /// used k times it adds k times its count of people, at k times the
    /// price).
    pub max: u32,
    /// The change, as the change language read it.
    pub change: Located,
    /// Where the `allow` statement starts.
    pub at: Pos,
}

impl Offer {
    /// The change used `k` times (k ≥ 1).
    pub fn used(&self, k: u32) -> Located {
        let mut c = self.change.clone();
        if let Change::AddStaff { count, .. } = &mut c.change {
            *count *= k;
        }
        c
    }
}

/// An error at a place of the ask (exit 2).
pub fn ask_error(source: &str, at: Pos, message: impl std::fmt::Display) -> Error {
    Error::Usage(format!(
        "{source}, line {}, column {}: {message}",
        at.line, at.column
    ))
}

/// An error of the change language (bad data to it, 65) as a bad ask (2):
/// its message already says where.
pub fn as_ask_error(e: Error) -> Error {
    match e {
        Error::Data { at, message } => {
            let at = at.to_string();
            Error::Usage(if at.is_empty() {
                message
            } else {
                format!("{at}: {message}")
            })
        }
        other => other,
    }
}

/// A word of the ask: its text (quotes removed), where it starts, and the
/// byte range it covers in the text.
#[derive(Debug, Clone)]
struct Word {
    text: String,
    /// Written with no quote at all.
    bare: bool,
    at: Pos,
    start: usize,
    end: usize,
}

/// Splits an ask into statements of words, with the rules of the change
/// language's tokenizer (so the two agree on where a statement ends).
fn words(source: &str, text: &str) -> Result<Vec<Vec<Word>>, Error> {
    let mut out: Vec<Vec<Word>> = Vec::new();
    let mut current: Vec<Word> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let (mut line, mut column) = (1u32, 1u32);
    macro_rules! bump {
        () => {{
            let c = chars.next();
            match c {
                Some((_, '\n')) => {
                    line += 1;
                    column = 1;
                }
                Some(_) => column += 1,
                None => {}
            }
            c.map(|(_, c)| c)
        }};
    }
    while let Some(&(_, c)) = chars.peek() {
        match c {
            '\n' | ';' => {
                bump!();
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c if c.is_whitespace() => {
                bump!();
            }
            '#' => {
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    bump!();
                }
            }
            _ => {
                let at = Pos { line, column };
                let start = chars.peek().map_or(text.len(), |&(i, _)| i);
                let mut word = String::new();
                let mut bare = true;
                loop {
                    match chars.peek().map(|&(_, c)| c) {
                        None => break,
                        Some(c) if c.is_whitespace() || c == ';' => break,
                        Some('"') => {
                            let open = Pos { line, column };
                            bump!();
                            bare = false;
                            if let Err(why) =
                                crate::whatif::lang::read_quoted(|| bump!(), &mut word)
                            {
                                return Err(ask_error(source, open, why));
                            }
                        }
                        Some(c) => {
                            if c.is_control() {
                                return Err(ask_error(
                                    source,
                                    Pos { line, column },
                                    "a control character in the ask",
                                ));
                            }
                            bump!();
                            word.push(c);
                        }
                    }
                }
                let end = chars.peek().map_or(text.len(), |&(i, _)| i);
                current.push(Word {
                    text: word,
                    bare,
                    at,
                    start,
                    end,
                });
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// Reads an ask. `source` names it in messages (`ask` for the argument,
/// the path of a file). Several asks (an argument and files) are read one
/// by one and joined with [`join`].
pub fn parse(source: &str, text: &str) -> Result<Ask, Error> {
    let parts = parse_part(source, text)?;
    join(vec![(source.to_owned(), parts)])
}

/// What one text of an ask holds: its goals and its menu lines.
#[derive(Debug, Clone, Default)]
pub struct Part {
    pub goals: Vec<Goal>,
    pub menu: Vec<Offer>,
}

/// Reads one text of an ask (it may lack the goal or the menu, given by
/// another).
pub fn parse_part(source: &str, text: &str) -> Result<Part, Error> {
    let shared: Arc<str> = Arc::from(source);
    let mut part = Part::default();
    for statement in words(source, text)? {
        let first = &statement[0];
        match first.text.as_str() {
            "goal" if first.bare => part.goals.push(goal(source, &statement)?),
            "allow" if first.bare => part
                .menu
                .push(offer(&shared, source, text, &statement)?),
            other => {
                return Err(ask_error(
                    source,
                    first.at,
                    format!(
                        "an ask has goal and allow lines, not {other:?} (goal triage<=1.5 by 2013-12-13; allow 5 add staff …)"
                    ),
                ))
            }
        }
    }
    Ok(part)
}

/// Joins the parts of an ask read from several texts (in order): exactly
/// one goal, at least one menu line.
pub fn join(parts: Vec<(String, Part)>) -> Result<Ask, Error> {
    let mut goals = Vec::new();
    let mut menu = Vec::new();
    for (source, p) in parts {
        for g in p.goals {
            goals.push((source.clone(), g));
        }
        menu.extend(p.menu);
    }
    let mut goals = goals.into_iter();
    let Some((_, goal)) = goals.next() else {
        return Err(Error::Usage(
            "the ask has no goal line (goal triage<=1 by 2013-12-13, say)".into(),
        ));
    };
    if let Some((source, second)) = goals.next() {
        return Err(ask_error(
            &source,
            second.at,
            "a second goal line: an ask has one goal (its filters are ANDed)",
        ));
    }
    if menu.is_empty() {
        return Err(Error::Usage(
            "the ask has no allow line: nothing to choose from (allow 5 add staff …, say)".into(),
        ));
    }
    Ok(Ask { goal, menu })
}

fn goal(source: &str, words: &[Word]) -> Result<Goal, Error> {
    let mut g = Goal {
        at: words[0].at,
        source: source.to_owned(),
        ..Goal::default()
    };
    let mut text: Vec<String> = Vec::new();
    let mut rest = words[1..].iter();
    let twice = |w: &Word, what: &str| ask_error(source, w.at, format!("{what} is given twice"));
    while let Some(w) = rest.next() {
        let t = w.text.as_str();
        if w.bare && t == "by" {
            let Some(d) = rest.next() else {
                return Err(ask_error(source, w.at, "by needs a date (by 2013-12-13)"));
            };
            if g.by.is_some() {
                return Err(twice(w, "by"));
            }
            let date = fields::parse_date(&d.text)
                .map_err(|m| ask_error(source, d.at, format!("{:?}: {m}", d.text)))?;
            g.by = Some(date);
            continue;
        }
        if let Some(v) = t.strip_prefix("triage<=") {
            if g.triage.is_some() {
                return Err(twice(w, "triage<="));
            }
            if fields::trim(v).is_empty() {
                return Err(ask_error(
                    source,
                    w.at,
                    "triage<= needs a level: 1, 1.5, 2, 2.5 or 3",
                ));
            }
            let level = fields::parse_triage(v)
                .map_err(|m| ask_error(source, w.at, format!("{v:?}: {m}")))?;
            g.triage = Some(level);
            text.push(format!("triage<={level}"));
        } else if let Some(v) = t.strip_prefix("track=") {
            if g.track.is_some() {
                return Err(twice(w, "track="));
            }
            if v.is_empty() {
                return Err(ask_error(source, w.at, "track= needs a track's name"));
            }
            g.track = Some((v.to_owned(), w.at));
            text.push(format!("track={}", lang::quote(v)));
        } else if let Some(v) = t.strip_prefix("items=") {
            if g.items.is_some() {
                return Err(twice(w, "items="));
            }
            let mut ids = Vec::new();
            // Columns of each id: after `items=` and the commas before it
            // (a quoted list is pointed at as a whole).
            let mut column = w.at.column + "items=".chars().count() as u32;
            for id in v.split(',') {
                let at = if w.bare {
                    Pos {
                        line: w.at.line,
                        column,
                    }
                } else {
                    w.at
                };
                column += id.chars().count() as u32 + 1;
                let id = id.trim();
                if id.is_empty() {
                    return Err(ask_error(
                        source,
                        at,
                        "items= is a list of item ids joined by commas, and one is empty",
                    ));
                }
                ids.push((id.to_owned(), at));
            }
            text.push(format!(
                "items={}",
                lang::quote(
                    &ids.iter()
                        .map(|(i, _)| i.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            ));
            g.items = Some(ids);
        } else {
            return Err(ask_error(
                source,
                w.at,
                format!("a goal takes triage<=T, track=NAME, items=ID,ID and by DATE, not {t:?}"),
            ));
        }
    }
    g.text = text.join(" ");
    Ok(g)
}

fn offer(shared: &Arc<str>, source: &str, text: &str, words: &[Word]) -> Result<Offer, Error> {
    let at = words[0].at;
    let Some(cost) = words.get(1) else {
        return Err(ask_error(
            source,
            at,
            "allow needs a price and a change (allow 5 add staff …)",
        ));
    };
    let price = Amount::parse_signed(&cost.text)
        .map_err(|m| ask_error(source, cost.at, format!("the price {:?}: {m}", cost.text)))?;
    if price.is_negative() {
        return Err(ask_error(
            source,
            cost.at,
            format!("the price {:?} is below zero", cost.text),
        ));
    }
    let mut next = 2;
    let mut max = None;
    if let Some(w) = words.get(2) {
        if let Some(v) = w.text.strip_prefix("max=").filter(|_| w.bare) {
            let n = match v.parse::<u32>() {
                Ok(n) if (1..=MAX_USES).contains(&n) => n,
                _ => {
                    return Err(ask_error(
                        source,
                        w.at,
                        format!("max={v:?} is not a number from 1 to {MAX_USES}"),
                    ))
                }
            };
            max = Some((n, w.at));
            next = 3;
        }
    }
    let Some(first) = words.get(next) else {
        return Err(ask_error(
            source,
            at,
            "allow needs a change after its price (allow 1 drop MOB-136)",
        ));
    };
    let last = &words[words.len() - 1];
    // The change is read by the change language, at its place: the text
    // before it on its line is blanked, so positions in its messages are
    // the ask's.
    let mut padded = "\n".repeat(first.at.line as usize - 1);
    padded.push_str(&" ".repeat(first.at.column as usize - 1));
    padded.push_str(&text[first.start..last.end]);
    let mut changes = lang::parse(source, &padded).map_err(as_ask_error)?;
    let change = match changes.len() {
        1 => changes.remove(0),
        _ => {
            return Err(ask_error(
                source,
                first.at,
                "an allow line holds one change",
            ))
        }
    };
    let change = Located {
        source: shared.clone(),
        ..change
    };
    let max = match (max, &change.change) {
        (None, _) => 1,
        (Some((n, _)), Change::AddStaff { count, .. }) => {
            if u64::from(n) * u64::from(*count) > u64::from(lang::MAX_COUNT) {
                return Err(ask_error(
                    source,
                    at,
                    format!(
                        "max={n} times count={count} is more than the {} people one change adds",
                        lang::MAX_COUNT
                    ),
                ));
            }
            n
        }
        (Some((_, at)), _) => {
            return Err(ask_error(
                source,
                at,
                "max= is for add staff only (any other change is made once or not)",
            ))
        }
    };
    Ok(Offer {
        cost: price,
        max,
        change,
        at,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ASK: &str = "goal triage<=1.5 by 2013-12-13      # the goal
allow 5 max=2 add staff \"Web hire\" track=Bass skill=Web
allow 1 drop MOB-136; allow 0.5 rank MOB-141 1
allow 2 estimate MOB-130 Native:1,Web:2
";

    #[test]
    fn the_ask_of_the_issue_reads() {
        let a = parse("ask", ASK).unwrap();
        assert_eq!(a.goal.triage.map(|t| t.to_string()).as_deref(), Some("1.5"));
        assert_eq!(a.goal.by, NaiveDate::from_ymd_opt(2013, 12, 13));
        assert_eq!(a.goal.text, "triage<=1.5");
        assert_eq!(a.menu.len(), 4);
        assert_eq!(a.menu[0].max, 2);
        assert_eq!(a.menu[0].cost, Amount::weeks(5).unwrap());
        assert_eq!(
            a.menu[0].used(2).change.to_string(),
            "add staff \"Web hire\" track=Bass skill=Web count=2"
        );
        assert_eq!(a.menu[2].change.change.to_string(), "rank MOB-141 1");
        assert_eq!(
            a.menu[2].at,
            Pos {
                line: 3,
                column: 23
            }
        );
        // The change's own positions are the ask's.
        assert_eq!(
            a.menu[2].change.at,
            Pos {
                line: 3,
                column: 33
            }
        );
        assert_eq!(a.menu[1].max, 1);
    }

    fn err(text: &str) -> String {
        let e = parse("ask", text).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    }

    #[test]
    fn bad_asks_say_line_and_column() {
        assert_eq!(
            err("goal by 2013-12-13\nallow x drop A"),
            "ask, line 2, column 7: the price \"x\": \"x\" is not a number"
        );
        assert_eq!(
            err("goal by 2013-12-13\nallow 1 drop A\nallow 2 dorp B"),
            "ask, line 3, column 9: no change is called \"dorp\"; the closest are \"drop\", \"start\", \"triage\""
        );
        assert_eq!(
            err("goal triage<=1 bye 2013-12-13\nallow 1 drop A"),
            "ask, line 1, column 16: a goal takes triage<=T, track=NAME, items=ID,ID and by DATE, not \"bye\""
        );
        assert_eq!(
            err("goal by 2013-13-01; allow 1 drop A"),
            "ask, line 1, column 9: \"2013-13-01\": date is not a valid calendar date".replace(
                "date is not a valid calendar date",
                &fields::parse_date("2013-13-01").unwrap_err()
            )
        );
        assert_eq!(
            err("goal by 2013-12-13\nallow 1 max=2 drop A"),
            "ask, line 2, column 9: max= is for add staff only (any other change is made once or not)"
        );
        assert_eq!(
            err("goal items=A,,B\nallow 1 drop A"),
            "ask, line 1, column 14: items= is a list of item ids joined by commas, and one is empty"
        );
        assert_eq!(
            err("goal\ngoal\nallow 1 drop A"),
            "ask, line 2, column 1: a second goal line: an ask has one goal (its filters are ANDed)"
        );
        assert_eq!(
            err("goal by 2013-12-13\nallow -1 drop A"),
            "ask, line 2, column 7: the price \"-1\" is below zero"
        );
        assert_eq!(
            err("want x"),
            "ask, line 1, column 1: an ask has goal and allow lines, not \"want\" (goal triage<=1.5 by 2013-12-13; allow 5 add staff …)"
        );
        assert!(err("allow 1 drop A").contains("no goal line"));
        assert!(err("goal by 2013-12-13").contains("no allow line"));
        assert_eq!(
            err("goal\nallow 1 drop \"A"),
            "ask, line 2, column 14: a quoted name is not closed on its line"
        );
    }

    #[test]
    fn a_comment_ends_at_the_line_not_at_a_semicolon() {
        // As in a change script: `#` comments out the rest of the line.
        let a = parse("ask", "goal # x; allow 1 drop B\nallow 1 drop A").unwrap();
        assert_eq!(a.menu.len(), 1);
        assert_eq!(a.menu[0].change.change.to_string(), "drop A");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the text, the parser answers (an ask or an error with
        /// exit 2), never panics.
        #[test]
        fn never_panics(text in "\\PC*") {
            if let Err(e) = parse("ask", &text) {
                prop_assert_eq!(e.exit_code(), 2);
            }
        }

        /// Texts made of the ask's own words, in any order.
        #[test]
        fn never_panics_on_near_asks(parts in proptest::collection::vec(
            prop_oneof![
                Just("goal"), Just("allow"), Just("max=2"), Just("max=0"), Just("1.5"),
                Just("triage<=1"), Just("track=\"A b\""), Just("items=A,B"), Just("by"),
                Just("2013-12-13"), Just("add"), Just("staff"), Just("drop"), Just("X"),
                Just("count=3"), Just(";"), Just("\n"), Just("#"), Just("\""), Just("rank"),
                Just("="), Just("\\"), Just("é"), Just("\t"),
            ], 0..24)) {
            let text = parts.join(" ");
            if let Err(e) = parse("ask", &text) {
                prop_assert_eq!(e.exit_code(), 2);
                prop_assert!(e.to_string().contains("line") || e.to_string().contains("the ask has"), "{}", e);
            }
        }
    }
}
