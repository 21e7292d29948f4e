//! The change language of SPEC section 6: a script of changes, one per line
//! or separated by `;`, each naming exactly one thing.
//!
//! Parsing knows nothing of the plan: it checks the words, dates, numbers
//! and estimates, and remembers where each argument was written, so that
//! [`super::apply`] can say where a name that matches nothing is. Printing
//! a change ([`fmt::Display`]) gives text that parses back to the same
//! change, so a script can be stored and shown in its canonical form.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::error::{Error, Location, Result};
use crate::model::amount::Amount;
use crate::rules::fields::{self, Triage};

/// The most people one `add staff … count=N` adds.
pub const MAX_COUNT: u32 = 10_000;

/// One change to a plan's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Start(NaiveDate),
    End(NaiveDate),
    /// The scheduling skills, in order.
    Skills(Vec<String>),
    Holiday(NaiveDate),
    Unholiday(NaiveDate),
    AddStaff {
        name: String,
        track: String,
        skill: String,
        team: Option<String>,
        count: u32,
    },
    RemoveStaff(String),
    MoveStaff {
        who: String,
        track: String,
    },
    ReskillStaff {
        who: String,
        skill: String,
    },
    Vacation {
        who: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    Rank {
        item: String,
        rank: i64,
    },
    /// `None` is "not estimated".
    Estimate {
        item: String,
        estimate: Option<Vec<(String, Amount)>>,
    },
    Triage {
        item: String,
        triage: Triage,
    },
    Drop(String),
    AddWork {
        name: String,
        track: String,
        estimate: Option<Vec<(String, Amount)>>,
        triage: Triage,
        /// `None`: after every other item.
        rank: Option<i64>,
        /// `None`: a new unique id is made up.
        id: Option<String>,
    },
}

/// Where something is in a script: 1-based line and column (in
/// characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A change and where it was written.
#[derive(Debug, Clone)]
pub struct Located {
    pub change: Change,
    /// What the script was: `-s FILE`'s path, or `changes` for the
    /// argument.
    pub source: Arc<str>,
    /// Where the change starts.
    pub at: Pos,
    /// Where each argument is: `"name"` for the thing named, or the key of
    /// a `key=value` (`"track"`, `"skill"`, `"estimate"`…).
    pub args: Vec<(&'static str, Pos)>,
}

impl Located {
    /// Where argument `role` was written (the change itself when unknown).
    pub fn pos(&self, role: &str) -> Pos {
        self.args
            .iter()
            .find(|(r, _)| *r == role)
            .map_or(self.at, |&(_, p)| p)
    }

    /// An error about argument `role` of this change (exit 65).
    pub fn error(&self, role: &str, message: impl fmt::Display) -> Error {
        script_error(&self.source, self.pos(role), message)
    }
}

/// The holidays, unholidays and vacations of `changes` that have no day in
/// the scenario's plan, as warnings at their place in the script: such a
/// change changes nothing, most likely a typo in its year (issue 20). The
/// plan's range is the base's, moved by the script's `start` and `end`.
pub fn outside_plan(changes: &[Located], start: NaiveDate, end: NaiveDate) -> Vec<Error> {
    let (mut start, mut end) = (start, end);
    for c in changes {
        match c.change {
            Change::Start(d) => start = d,
            Change::End(d) => end = d,
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in changes {
        let (what, from, to) = match &c.change {
            Change::Holiday(d) => ("holiday", *d, *d),
            Change::Unholiday(d) => ("unholiday", *d, *d),
            Change::Vacation { from, to, .. } => ("vacation", *from, *to),
            _ => continue,
        };
        if to < start || from > end {
            let days = if from == to {
                from.to_string()
            } else {
                format!("{from}..{to}")
            };
            out.push(c.error(
                if what == "vacation" { "days" } else { "name" },
                format!(
                    "{what} {days} has no day in the plan ({start} to {end}): it changes nothing"
                ),
            ));
        }
    }
    out
}

/// An error at a place of a script (bad input data, exit 65).
pub fn script_error(source: &str, at: Pos, message: impl fmt::Display) -> Error {
    Error::data(
        Location::default(),
        format!(
            "{source}, line {}, column {}: {message}",
            at.line, at.column
        ),
    )
}

/// The change keywords, for suggestions.
const VERBS: [&str; 14] = [
    "start",
    "end",
    "skills",
    "holiday",
    "unholiday",
    "add staff",
    "add work",
    "remove staff",
    "move staff",
    "reskill staff",
    "vacation",
    "rank",
    "estimate",
    "triage",
];

/// A word of a script: its text (quotes removed) and, for `key=value`
/// written with a bare key, the key.
#[derive(Debug, Clone)]
struct Token {
    text: String,
    key: Option<String>,
    at: Pos,
}

/// After an opening `"`: the characters of a quoted name, up to and with
/// its closing quote, taken from `next` and pushed onto `into` (`\"` and
/// `\\` stand for `"` and `\`). Why it is not a quoted name, when it is
/// not: not closed on its line, another backslash, a control character.
/// Shared by the change language and the asks of `qwhatif solve`, so the
/// two quote alike.
pub(crate) fn read_quoted(
    mut next: impl FnMut() -> Option<char>,
    into: &mut String,
) -> std::result::Result<(), &'static str> {
    loop {
        match next() {
            None | Some('\n') => return Err("a quoted name is not closed on its line"),
            Some('"') => return Ok(()),
            Some('\\') => match next() {
                Some(c @ ('"' | '\\')) => into.push(c),
                _ => return Err("in quotes, a backslash comes before \" or \\ only"),
            },
            Some(c) if c.is_control() => {
                return Err("a quoted name holds a control character (a TAB?)")
            }
            Some(c) => into.push(c),
        }
    }
}

/// Splits a script into changes, each a list of tokens. A token is a run
/// of bare characters and quoted strings (`"…"`, with `\"` and `\\`)
/// written together; `#` at the start of a token comments out the rest of
/// the line.
fn tokenize(source: &str, text: &str) -> Result<Vec<Vec<Token>>> {
    let mut changes: Vec<Vec<Token>> = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut column) = (1u32, 1u32);
    // Advances over one character, keeping line and column.
    macro_rules! bump {
        () => {{
            let c = chars.next();
            if c == Some('\n') {
                line += 1;
                column = 1;
            } else if c.is_some() {
                column += 1;
            }
            c
        }};
    }
    while let Some(&c) = chars.peek() {
        match c {
            '\n' | ';' => {
                bump!();
                if !current.is_empty() {
                    changes.push(std::mem::take(&mut current));
                }
            }
            c if c.is_whitespace() => {
                bump!();
            }
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    bump!();
                }
            }
            _ => {
                let at = Pos { line, column };
                let mut text = String::new();
                let mut key = None;
                let mut bare_only = true;
                loop {
                    match chars.peek() {
                        None => break,
                        Some(&c) if c.is_whitespace() || c == ';' => break,
                        Some('"') => {
                            let open = Pos { line, column };
                            bump!();
                            bare_only = false;
                            if let Err(why) = read_quoted(|| bump!(), &mut text) {
                                return Err(script_error(source, open, why));
                            }
                        }
                        Some(&c) => {
                            bump!();
                            if c == '=' && bare_only && key.is_none() {
                                key = Some(std::mem::take(&mut text));
                            } else {
                                if c.is_control() {
                                    return Err(script_error(
                                        source,
                                        Pos { line, column },
                                        "a control character in a change",
                                    ));
                                }
                                text.push(c);
                            }
                        }
                    }
                }
                current.push(Token { text, key, at });
            }
        }
    }
    if !current.is_empty() {
        changes.push(current);
    }
    Ok(changes)
}

/// Reads a change script. `source` names it in messages (`changes` for
/// the argument, the path of `-s FILE`). The first problem is the error,
/// with its line and column.
pub fn parse(source: &str, text: &str) -> Result<Vec<Located>> {
    let shared: Arc<str> = Arc::from(source);
    tokenize(source, text)?
        .into_iter()
        .map(|tokens| parse_change(&shared, tokens))
        .collect()
}

/// The tokens of one change, taken in order.
struct Args<'a> {
    source: &'a Arc<str>,
    verb: String,
    at: Pos,
    rest: std::vec::IntoIter<Token>,
    args: Vec<(&'static str, Pos)>,
    /// `key=value` arguments not yet taken.
    keyed: Vec<Token>,
}

impl Args<'_> {
    fn error(&self, at: Pos, message: impl fmt::Display) -> Error {
        script_error(self.source, at, message)
    }

    /// The next positional argument, `what` it is for messages.
    fn next(&mut self, role: &'static str, what: &str) -> Result<Token> {
        match self.rest.next() {
            Some(t) if t.key.is_none() => {
                self.args.push((role, t.at));
                Ok(t)
            }
            Some(t) => Err(self.error(
                t.at,
                format!(
                    "{} needs {what} before {}=",
                    self.verb,
                    t.key.unwrap_or_default()
                ),
            )),
            None => Err(self.error(self.at, format!("{} needs {what}", self.verb))),
        }
    }

    /// Collects the `key=value` arguments that follow; every other token
    /// is an error, as is a key not in `allowed` or given twice.
    fn keyed(&mut self, allowed: &[&'static str]) -> Result<()> {
        for t in self.rest.by_ref() {
            let Some(key) = &t.key else {
                return Err(script_error(
                    self.source,
                    t.at,
                    format!(
                        "{:?} is one word too many for {} (names with spaces are quoted)",
                        t.text, self.verb
                    ),
                ));
            };
            let Some(&known) = allowed.iter().find(|k| *k == key) else {
                return Err(script_error(
                    self.source,
                    t.at,
                    format!(
                        "{} takes no {key}=; it takes {}",
                        self.verb,
                        allowed
                            .iter()
                            .map(|k| format!("{k}="))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            if self.args.iter().any(|(r, _)| *r == known) {
                return Err(script_error(
                    self.source,
                    t.at,
                    format!("{known}= is given twice"),
                ));
            }
            self.args.push((known, t.at));
            self.keyed.push(t);
        }
        Ok(())
    }

    /// The value of `key=`, when given.
    fn opt(&mut self, key: &str) -> Option<Token> {
        let i = self
            .keyed
            .iter()
            .position(|t| t.key.as_deref() == Some(key))?;
        Some(self.keyed.swap_remove(i))
    }

    /// The value of `key=`, which must be given.
    fn need(&mut self, key: &str) -> Result<Token> {
        self.opt(key)
            .ok_or_else(|| self.error(self.at, format!("{} needs {key}=", self.verb)))
    }

    /// No token may be left.
    fn done(&mut self) -> Result<()> {
        match self.rest.next() {
            None => Ok(()),
            Some(t) => Err(self.error(
                t.at,
                format!(
                    "{:?} is one word too many for {} (names with spaces are quoted)",
                    t.text, self.verb
                ),
            )),
        }
    }

    fn date(&mut self, role: &'static str) -> Result<NaiveDate> {
        let t = self.next(role, "a date")?;
        fields::parse_date(&t.text).map_err(|m| self.error(t.at, format!("{:?}: {m}", t.text)))
    }

    fn name(&mut self, what: &str) -> Result<String> {
        Ok(self.next("name", what)?.text)
    }
}

fn parse_change(source: &Arc<str>, tokens: Vec<Token>) -> Result<Located> {
    let mut rest = tokens.into_iter();
    // A script's changes are never empty.
    let Some(first) = rest.next() else {
        return Err(script_error(source, Pos::default(), "an empty change"));
    };
    let at = first.at;
    if first.key.is_some() {
        return Err(script_error(
            source,
            at,
            format!("a change starts with what it does, not {:?}", first.text),
        ));
    }
    let mut verb = first.text;
    // Two-word verbs.
    if matches!(verb.as_str(), "add" | "remove" | "move" | "reskill") {
        match rest.as_slice().first() {
            Some(t)
                if t.key.is_none()
                    && (t.text == "staff" || (verb == "add" && t.text == "work")) =>
            {
                verb = format!("{verb} {}", t.text);
                rest.next();
            }
            _ => {
                let what = if verb == "add" {
                    "staff or work"
                } else {
                    "staff"
                };
                return Err(script_error(
                    source,
                    at,
                    format!("{verb} is followed by {what}"),
                ));
            }
        }
    }
    let mut a = Args {
        source,
        verb: verb.clone(),
        at,
        rest,
        args: Vec::new(),
        keyed: Vec::new(),
    };
    let change = match verb.as_str() {
        "start" => Change::Start(a.date("name")?),
        "end" => Change::End(a.date("name")?),
        "holiday" => Change::Holiday(a.date("name")?),
        "unholiday" => Change::Unholiday(a.date("name")?),
        "skills" => {
            let t = a.next("name", "the scheduling skills (Apps:Web)")?;
            Change::Skills(split_skills(&t.text))
        }
        "add staff" => {
            let name = a.name("the new person's name")?;
            a.keyed(&["track", "skill", "team", "count"])?;
            let track = a.need("track")?.text;
            let skill = a.need("skill")?.text;
            let team = a.opt("team").map(|t| t.text);
            let count = match a.opt("count") {
                None => 1,
                Some(t) => match t.text.parse::<u32>() {
                    Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
                    _ => {
                        return Err(a.error(
                            t.at,
                            format!("count={:?} is not a number from 1 to {MAX_COUNT}", t.text),
                        ))
                    }
                },
            };
            Change::AddStaff {
                name,
                track,
                skill,
                team,
                count,
            }
        }
        "add work" => {
            let name = a.name("the new item's name")?;
            a.keyed(&["track", "estimate", "triage", "rank", "id"])?;
            let track = a.need("track")?.text;
            let e = a.need("estimate")?;
            let estimate = estimate(&a, &e)?;
            let triage = match a.opt("triage") {
                None => Triage::LOWEST,
                Some(t) => triage(&a, &t)?,
            };
            let rank = match a.opt("rank") {
                None => None,
                Some(t) => Some(rank(&a, &t)?),
            };
            let id = a.opt("id").map(|t| t.text);
            Change::AddWork {
                name,
                track,
                estimate,
                triage,
                rank,
                id,
            }
        }
        "remove staff" => Change::RemoveStaff(a.name("a person (id or name)")?),
        "move staff" => {
            let who = a.name("a person (id or name)")?;
            a.keyed(&["track"])?;
            Change::MoveStaff {
                who,
                track: a.need("track")?.text,
            }
        }
        "reskill staff" => {
            let who = a.name("a person (id or name)")?;
            a.keyed(&["skill"])?;
            Change::ReskillStaff {
                who,
                skill: a.need("skill")?.text,
            }
        }
        "vacation" => {
            let who = a.name("a person (id or name)")?;
            let t = a.next("days", "days (2013-12-01..2013-12-10 or one date)")?;
            let (from, to) = fields::parse_vacation(&t.text)
                .map_err(|m| a.error(t.at, format!("{:?}: {m}", t.text)))?;
            Change::Vacation { who, from, to }
        }
        "rank" => {
            let item = a.name("a work item (id or name)")?;
            let t = a.next("rank", "a rank")?;
            Change::Rank {
                item,
                rank: rank(&a, &t)?,
            }
        }
        "estimate" => {
            let item = a.name("a work item (id or name)")?;
            let t = a.next("estimate", "an estimate (Apps:4,Web:1)")?;
            Change::Estimate {
                item,
                estimate: estimate(&a, &t)?,
            }
        }
        "triage" => {
            let item = a.name("a work item (id or name)")?;
            let t = a.next("triage", "a triage level")?;
            Change::Triage {
                item,
                triage: triage(&a, &t)?,
            }
        }
        "drop" => Change::Drop(a.name("a work item (id or name)")?),
        other => {
            return Err(script_error(
                source,
                at,
                format!(
                    "no change is called {other:?}; {}",
                    closest_text(other, VERBS.iter().copied().chain(["drop"]))
                ),
            ))
        }
    };
    a.done()?;
    Ok(Located {
        change,
        source: source.clone(),
        at,
        args: a.args,
    })
}

fn split_skills(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in s.split(':').map(str::trim).filter(|k| !k.is_empty()) {
        if !out.iter().any(|x| x == k) {
            out.push(k.to_owned());
        }
    }
    out
}

fn estimate(a: &Args, t: &Token) -> Result<Option<Vec<(String, Amount)>>> {
    fields::parse_estimate(&t.text)
        .map(|e| e.map(|parts| parts.into_iter().map(|(s, x)| (s.to_owned(), x)).collect()))
        .map_err(|m| a.error(t.at, format!("estimate {:?}: {m}", t.text)))
}

fn triage(a: &Args, t: &Token) -> Result<Triage> {
    if fields::trim(&t.text).is_empty() {
        return Err(a.error(t.at, "a triage level is a number: 1, 1.5, 2, 2.5 or 3"));
    }
    fields::parse_triage(&t.text).map_err(|m| a.error(t.at, format!("{:?}: {m}", t.text)))
}

fn rank(a: &Args, t: &Token) -> Result<i64> {
    fields::parse_rank(&t.text).map_err(|m| a.error(t.at, format!("{:?}: {m}", t.text)))
}

/// `the closest are "a", "b", "c"` — the names nearest `name`, best first.
pub fn closest_text<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let near = closest(name, candidates, 3);
    if near.is_empty() {
        return "there is none to choose from".into();
    }
    let list: Vec<String> = near.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "the closest {} {}",
        if list.len() == 1 { "is" } else { "are" },
        list.join(", ")
    )
}

/// The `n` candidates nearest `name` (Jaro-Winkler, case-insensitive),
/// best first, each once.
pub fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<&str> = Vec::new();
    for (_, c) in scored {
        if out.len() == n {
            break;
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A name as a script writes it: bare when it reads back as itself,
/// quoted otherwise.
pub fn quote(s: &str) -> String {
    let bare = !s.is_empty()
        && !s.starts_with('#')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | ';' | '\\' | '='));
    if bare {
        return s.to_owned();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// An estimate as a script writes it (`Apps:4,Web:1`; empty when not
/// estimated).
pub fn estimate_text(e: &Option<Vec<(String, Amount)>>) -> String {
    let mut s = String::new();
    for (i, (k, a)) in e.iter().flatten().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push(':');
        fields::push_num(&mut s, *a);
    }
    s
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Start(d) => write!(f, "start {d}"),
            Change::End(d) => write!(f, "end {d}"),
            Change::Skills(s) => write!(f, "skills {}", quote(&s.join(":"))),
            Change::Holiday(d) => write!(f, "holiday {d}"),
            Change::Unholiday(d) => write!(f, "unholiday {d}"),
            Change::AddStaff {
                name,
                track,
                skill,
                team,
                count,
            } => {
                write!(
                    f,
                    "add staff {} track={} skill={}",
                    quote(name),
                    quote(track),
                    quote(skill)
                )?;
                if let Some(team) = team {
                    write!(f, " team={}", quote(team))?;
                }
                if *count != 1 {
                    write!(f, " count={count}")?;
                }
                Ok(())
            }
            Change::RemoveStaff(who) => write!(f, "remove staff {}", quote(who)),
            Change::MoveStaff { who, track } => {
                write!(f, "move staff {} track={}", quote(who), quote(track))
            }
            Change::ReskillStaff { who, skill } => {
                write!(f, "reskill staff {} skill={}", quote(who), quote(skill))
            }
            Change::Vacation { who, from, to } => {
                if from == to {
                    write!(f, "vacation {} {from}", quote(who))
                } else {
                    write!(f, "vacation {} {from}..{to}", quote(who))
                }
            }
            Change::Rank { item, rank } => write!(f, "rank {} {rank}", quote(item)),
            Change::Estimate { item, estimate } => {
                write!(
                    f,
                    "estimate {} {}",
                    quote(item),
                    quote(&estimate_text(estimate))
                )
            }
            Change::Triage { item, triage } => write!(f, "triage {} {triage}", quote(item)),
            Change::Drop(item) => write!(f, "drop {}", quote(item)),
            Change::AddWork {
                name,
                track,
                estimate,
                triage,
                rank,
                id,
            } => {
                write!(
                    f,
                    "add work {} track={} estimate={} triage={triage}",
                    quote(name),
                    quote(track),
                    quote(&estimate_text(estimate))
                )?;
                if let Some(rank) = rank {
                    write!(f, " rank={rank}")?;
                }
                if let Some(id) = id {
                    write!(f, " id={}", quote(id))?;
                }
                Ok(())
            }
        }
    }
}

/// A script in its canonical form, one change a line.
pub fn script_text<'a>(changes: impl IntoIterator<Item = &'a Change>) -> String {
    let mut s = String::new();
    for c in changes {
        s.push_str(&c.to_string());
        s.push('\n');
    }
    s
}
