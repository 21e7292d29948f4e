//! The rules of each row of the v1 inputs and of the rows together
//! (unique ids, totals that fit, manpower that fits), and the warnings.
//!
//! A [`Book`] takes rows one at a time as TAB-free fields, whatever they
//! were read from: the v1 reader gives it the fields of a content line,
//! `qcondition --map` the cells it conditioned. Each row method is told how
//! to locate a column (`at(c)`, 1-based; `at(0)` is the row itself), so a
//! problem names the section, line and column the user can fix.

use chrono::NaiveDate;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{fields, Sink, ALL, STAFF, WORK};
use crate::error::{Location, Result};
use crate::model::amount::Amount;
use crate::model::arena::Arena;
use crate::model::input::{Input, Names, Params, Person, WorkItem};

/// The column names of each table, in order (for messages).
pub const PARAMS_COLUMNS: [&str; 3] = ["start", "end", "skills"];
pub const HOLIDAYS_COLUMNS: [&str; 1] = ["date"];
pub const STAFF_COLUMNS: [&str; 6] = ["id", "name", "team", "track", "skill", "vacation"];
pub const WORK_COLUMNS: [&str; 6] = ["id", "rank", "name", "estimate", "triage", "track"];

/// The inputs being read, row by row, and the rules each row passes.
#[derive(Default)]
pub struct Book {
    params: Option<(Params, String)>,
    /// Where the params row was (for warnings) and how many there were.
    params_at: Option<Location>,
    params_rows: u32,
    holidays: Vec<NaiveDate>,
    staff: Vec<Person>,
    work: Vec<WorkItem>,
    arena: Arena,
    tracks: Names,
    skills: Names,
    /// The sum of all estimates per skill (index into `skills`), so that a
    /// total too large to hold is refused at the line that makes it so.
    totals: Vec<Amount>,
    /// How the first staff and work rows located their columns, to name
    /// the columns of later problems found over all rows (ids twice).
    staff_at: Option<[Location; 6]>,
    work_at: Option<[Location; 6]>,
    /// Work rows given, good or bad.
    work_rows: u64,
    /// The ids (and lines) of rows refused for another problem, so that an
    /// id given twice is reported even when one of its rows is bad.
    bad_staff_ids: Vec<(String, u64)>,
    bad_work_ids: Vec<(String, u64)>,
    /// Buffers a work row reuses: the estimate's parts (empty between
    /// rows, so they hold no borrowed text) and its interned amounts.
    parts: Vec<(&'static str, Amount)>,
    amounts: Vec<(u32, Amount)>,
    /// Where each track and skill name was first written (index as in
    /// `tracks` and `skills`), to name it when another differs only in case.
    track_first: Vec<Location>,
    skill_first: Vec<Location>,
    /// When the sink wants warnings: each holiday and where it was, and
    /// where each person's vacation was (index into `staff`), to warn of
    /// dates with no day in the plan once the plan's range is known.
    holiday_at: Vec<(NaiveDate, Location)>,
    vacation_at: Vec<(usize, Location)>,
}

/// Which kind of name a case check is about.
#[derive(Clone, Copy)]
enum Kind {
    Track,
    Skill,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Track => "track",
            Kind::Skill => "skill",
        }
    }
}

/// The name among `names` before the last one that differs from the last
/// only in case (`apps` after `Apps`), if any.
fn case_twin(names: &Names) -> Option<u32> {
    let last = names.len().checked_sub(1)? as u32;
    let lower = names.name(last).to_lowercase();
    (0..last).find(|&i| names.name(i).to_lowercase() == lower)
}

/// An empty vector of the same layout on the same allocation (collecting
/// an emptied vector's iterator into one of the same layout reuses it), so
/// that a buffer of borrowed parts outlives each row's borrow.
fn reuse<'b>(mut v: Vec<(&str, Amount)>) -> Vec<(&'b str, Amount)> {
    v.clear();
    v.into_iter().map(|_| unreachable!()).collect()
}

/// Reports every id that an earlier row already used.
fn unique<'a, K: Sink>(
    k: &mut K,
    ids: impl Iterator<Item = (&'a str, u64)>,
    bad: &'a [(String, u64)],
    first_at: &Option<[Location; 6]>,
    what: &str,
) -> Result<()> {
    let mut seen: FxHashMap<&str, u64> = FxHashMap::default();
    seen.reserve(ids.size_hint().0 + bad.len());
    let mut check = |id: &'a str, line: u64| {
        if id.is_empty() {
            return Ok(());
        }
        // One hash lookup an id (a million ids for a large plan).
        match seen.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let first = *e.get();
                k.problem(
                    again(first_at, 1, line, id),
                    format!("{what} id is not unique (first on line {first})"),
                )
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line);
                Ok(())
            }
        }
    };
    if bad.is_empty() {
        for (id, line) in ids {
            check(id, line)?;
        }
    } else {
        let mut all: Vec<(&str, u64)> = ids
            .chain(bad.iter().map(|(i, l)| (i.as_str(), *l)))
            .collect();
        all.sort_by_key(|&(_, line)| line);
        for (id, line) in all {
            check(id, line)?;
        }
    }
    Ok(())
}

/// Where column `c` of a row whose first row located it as `first` is on
/// `line`.
fn again(first: &Option<[Location; 6]>, c: usize, line: u64, value: &str) -> Location {
    let mut at = first
        .as_ref()
        .map_or_else(Location::default, |f| f[c - 1].clone());
    at.line = Some(line);
    at.value(value)
}

/// A field read with `parse`: its value, or the problem told to the sink.
fn field<T, K: Sink>(
    k: &mut K,
    parsed: Result<T, String>,
    at: impl FnOnce() -> Location,
    value: &str,
) -> Result<Option<T>> {
    match parsed {
        Ok(v) => Ok(Some(v)),
        Err(m) => {
            k.problem(at().value(value), m)?;
            Ok(None)
        }
    }
}

/// A non-empty name without surrounding blanks.
fn name(value: &str, what: &str) -> Result<String, String> {
    match fields::trim(value) {
        "" => Err(format!("the {what} is empty")),
        v => Ok(v.to_owned()),
    }
}

/// A track: empty (the item or person is only in `All`) or a name other
/// than `All`.
fn track(tracks: &mut Names, value: &str) -> Result<Option<u32>, String> {
    match fields::trim(value) {
        "" => Ok(None),
        ALL => Err(format!(
            "the track name {ALL} is reserved for the track that holds everything"
        )),
        t => Ok(Some(tracks.intern(t))),
    }
}

impl Book {
    pub fn new() -> Book {
        Book::default()
    }

    /// Called after interning a name of `kind` when that made the list
    /// longer: remembers where the name was first written, and refuses it
    /// when it differs from an earlier name only in case. `apps` next to
    /// `Apps` would be a second skill nobody has (or a track of its own),
    /// silently; a name is written one way.
    fn new_name<K: Sink>(&mut self, k: &mut K, kind: Kind, at: Location) -> Result<()> {
        let (names, first) = match kind {
            Kind::Track => (&self.tracks, &mut self.track_first),
            Kind::Skill => (&self.skills, &mut self.skill_first),
        };
        let mut place = at.clone();
        place.column = None;
        place.value = None;
        first.push(place);
        if let Some(twin) = case_twin(names) {
            let word = kind.word();
            let message = format!(
                "the {word} {:?} differs only in case from the {word} {:?} ({}): as written they are two {word}s; write the name one way",
                names.name(names.len() as u32 - 1),
                names.name(twin),
                first[twin as usize]
            );
            return k.problem(at, message);
        }
        Ok(())
    }

    /// The params line as read, when it was valid.
    pub fn params_text(&self) -> Option<&str> {
        self.params.as_ref().map(|(_, text)| text.as_str())
    }

    /// How many params rows were given (one is expected).
    pub fn params_rows(&self) -> u32 {
        self.params_rows
    }

    /// A params row refused before its fields were read (too few
    /// columns): counted, so that the section is not also said to have no
    /// line.
    pub fn params_row_refused(&mut self) {
        self.params_rows += 1;
    }

    /// The params row: start, end, scheduling skills joined by `:` (empty
    /// names are ignored, a repeat counts once). `text` is the line as it
    /// will be copied to the output.
    pub fn params<K: Sink>(
        &mut self,
        k: &mut K,
        text: &str,
        f: [&str; 3],
        at: impl Fn(usize) -> Location,
    ) -> Result<()> {
        self.params_rows += 1;
        if self.params_rows > 1 {
            return k.problem(at(0), "more than one params line".into());
        }
        self.params_at = Some(at(0));
        let start = field(k, fields::parse_date(f[0]), || at(1), f[0])?;
        let end = field(k, fields::parse_date(f[1]), || at(2), f[1])?;
        let (Some(start), Some(end)) = (start, end) else {
            return Ok(());
        };
        if end < start {
            return k.problem(
                at(2).value(f[1]),
                format!("the end ({end}) is before the start ({start})"),
            );
        }
        let days = (end - start).num_days() + 1;
        if days > crate::model::MAX_DAYS {
            return k.problem(
                at(2).value(f[1]),
                format!(
                    "the plan spans {days} days; at most {} are supported",
                    crate::model::MAX_DAYS
                ),
            );
        }
        let mut sched: Vec<String> = Vec::new();
        for s in f[2].split(':').map(str::trim) {
            if !s.is_empty() && !sched.iter().any(|x| x == s) {
                sched.push(s.to_owned());
            }
        }
        self.params = Some((Params { start, end, sched }, text.to_owned()));
        Ok(())
    }

    /// A holiday: a date.
    pub fn holiday<K: Sink>(
        &mut self,
        k: &mut K,
        date: &str,
        at: impl Fn(usize) -> Location,
    ) -> Result<()> {
        if let Some(d) = field(k, fields::parse_date(date), || at(1), date)? {
            self.holidays.push(d);
            if k.wants_warnings() {
                self.holiday_at.push((d, at(1).value(date)));
            }
        }
        Ok(())
    }

    /// A person: id and name non-empty, a track other than `All` (empty:
    /// only in `All`), a skill (empty: in the head count, in no skill's
    /// manpower), vacations. `line` is the row's, so that a good row builds
    /// no [`Location`] (`at` is called only for a problem).
    pub fn staff<K: Sink>(
        &mut self,
        k: &mut K,
        f: [&str; 6],
        line: u64,
        at: impl Fn(usize) -> Location,
    ) -> Result<()> {
        if self.staff_at.is_none() {
            self.staff_at = Some(std::array::from_fn(|c| at(c + 1)));
        }
        let id = field(k, name(f[0], "id"), || at(1), f[0])?;
        let person = field(k, name(f[1], "name"), || at(2), f[1])?;
        let tracks = self.tracks.len();
        let track = field(k, track(&mut self.tracks, f[3]), || at(4), f[3])?;
        if self.tracks.len() > tracks {
            self.new_name(k, Kind::Track, at(4).value(f[3]))?;
        }
        let vacation = field(k, fields::parse_vacations(f[5]), || at(6), f[5])?;
        let (Some(id), Some(name), Some(track), Some(vacation)) = (id, person, track, vacation)
        else {
            self.bad_staff_ids
                .push((fields::trim(f[0]).to_owned(), line));
            return Ok(());
        };
        let skill = match fields::trim(f[4]) {
            "" => None,
            s => {
                let skills = self.skills.len();
                let i = self.skills.intern(s);
                if self.skills.len() > skills {
                    self.new_name(k, Kind::Skill, at(5).value(f[4]))?;
                }
                Some(i)
            }
        };
        if k.wants_warnings() && !vacation.is_empty() {
            self.vacation_at.push((self.staff.len(), at(6).value(f[5])));
        }
        self.staff.push(Person {
            id,
            name,
            team: fields::trim(f[2]).to_owned(),
            track,
            skill,
            vacation,
            line,
        });
        Ok(())
    }

    /// A work item: id and name non-empty, an integer rank, an estimate
    /// whose totals per skill stay representable, a triage, a track other
    /// than `All` (empty: only in `All`). `line` is the row's, so that a
    /// good row builds no [`Location`] and allocates nothing of its own.
    pub fn work<K: Sink>(
        &mut self,
        k: &mut K,
        f: [&str; 6],
        line: u64,
        at: impl Fn(usize) -> Location,
    ) -> Result<()> {
        if self.work_at.is_none() {
            self.work_at = Some(std::array::from_fn(|c| at(c + 1)));
        }
        self.work_rows += 1;
        let mut ok = true;
        let id = fields::trim(f[0]);
        if id.is_empty() {
            k.problem(at(1).value(f[0]), "the id is empty".into())?;
            ok = false;
        }
        let rank = field(k, fields::parse_rank(f[1]), || at(2), f[1])?;
        let item = fields::trim(f[2]);
        if item.is_empty() {
            k.problem(at(3).value(f[2]), "the name is empty".into())?;
            ok = false;
        }
        // The buffers of the previous row, emptied: no allocation a row.
        let mut parts = reuse(std::mem::take(&mut self.parts));
        let mut amounts = std::mem::take(&mut self.amounts);
        amounts.clear();
        let estimated = field(
            k,
            fields::parse_estimate_into(f[3], &mut parts),
            || at(4),
            f[3],
        )?;
        if estimated.is_some() {
            for &(s, a) in &parts {
                let skills = self.skills.len();
                let i = self.skills.intern(s);
                if self.skills.len() > skills {
                    self.new_name(k, Kind::Skill, at(4).value(f[3]))?;
                }
                if self.totals.len() <= i as usize {
                    self.totals.resize(i as usize + 1, Amount::ZERO);
                }
                let total = &mut self.totals[i as usize];
                match total.checked_add(a) {
                    Some(t) => *total = t,
                    None => {
                        k.problem(
                            at(4).value(f[3]),
                            format!(
                                "the estimates of skill {s} add up to more than {}",
                                Amount::MAX_TEXT
                            ),
                        )?;
                        ok = false;
                    }
                }
                amounts.push((i, a));
            }
        }
        self.parts = reuse(parts);
        let triage = field(k, fields::parse_triage(f[4]), || at(5), f[4])?;
        let tracks = self.tracks.len();
        let track = field(k, track(&mut self.tracks, f[5]), || at(6), f[5])?;
        if self.tracks.len() > tracks {
            self.new_name(k, Kind::Track, at(6).value(f[5]))?;
        }
        let (true, Some(rank), Some(estimated), Some(triage), Some(track)) =
            (ok, rank, estimated, triage, track)
        else {
            self.bad_work_ids.push((id.to_owned(), line));
            self.amounts = amounts;
            return Ok(());
        };
        // A blank cell means what SPEC says, but never silently: the
        // sheet may have lost the value (issue 20).
        if k.wants_warnings() {
            if !estimated {
                k.warning(
                    at(4).value(f[3]),
                    "no estimate: the item is not estimated, so it is DNF and in no demand".into(),
                )?;
            }
            if fields::trim(f[4]).is_empty() {
                k.warning(
                    at(5).value(f[4]),
                    "no triage: read as 3, the least important level".into(),
                )?;
            }
        }
        let estimate = estimated.then(|| self.arena.push_amounts(amounts.iter().copied()));
        self.amounts = amounts;
        let id = self.arena.push_str(id);
        let name = self.arena.push_str(item);
        self.work.push(WorkItem {
            id,
            rank,
            name,
            estimate,
            triage,
            track,
            line,
        });
        Ok(())
    }

    /// The rules over all rows (ids once each, manpower that fits), the
    /// warnings when the sink wants them, and the input qplan computes
    /// from. `None` when there is no valid params row (a problem already
    /// told).
    pub fn finish<K: Sink>(self, k: &mut K) -> Result<Option<Input>> {
        let Book {
            params,
            params_at,
            holidays,
            staff,
            work,
            arena,
            tracks,
            skills,
            staff_at,
            work_at,
            work_rows,
            bad_staff_ids,
            bad_work_ids,
            skill_first,
            holiday_at,
            vacation_at,
            ..
        } = self;
        unique(
            k,
            staff.iter().map(|p| (p.id.as_str(), p.line)),
            &bad_staff_ids,
            &staff_at,
            "person",
        )?;
        unique(
            k,
            work.iter().map(|w| (arena.str(w.id), w.line)),
            &bad_work_ids,
            &work_at,
            "work",
        )?;
        let Some((params, params_line)) = params else {
            return Ok(None);
        };
        // A scheduling skill written in another case than the skill's
        // own name would schedule on no one.
        for s in &params.sched {
            if skills.get(s).is_some() {
                continue;
            }
            let lower = s.to_lowercase();
            if let Some(twin) = skills.iter().position(|n| n.to_lowercase() == lower) {
                k.problem(
                    params_at
                        .clone()
                        .unwrap_or_else(|| Location::section(super::PARAMS))
                        .column("3 (skills)")
                        .value(s.as_str()),
                    format!(
                        "the scheduling skill {s:?} differs only in case from the skill {:?} ({}): write the name one way",
                        skills.name(twin as u32),
                        skill_first[twin]
                    ),
                )?;
            }
        }
        check_manpower(k, &params, &holidays, &staff, &skills)?;
        let input = Input {
            params,
            params_line,
            holidays,
            staff,
            work,
            arena,
            tracks,
            skills,
            provenance: None,
        };
        if k.wants_warnings() {
            outside(k, &input, holiday_at, vacation_at)?;
            warnings(k, &input, params_at, &staff_at, &work_at, work_rows)?;
        }
        Ok(Some(input))
    }
}

/// Refuses a plan whose manpower in one skill (all its people's workdays,
/// a fifth of a person-week each) is too large for an [`Amount`].
fn check_manpower<K: Sink>(
    k: &mut K,
    params: &Params,
    holidays: &[NaiveDate],
    staff: &[Person],
    skills: &Names,
) -> Result<()> {
    let mut heads = vec![0u64; skills.len()];
    for p in staff {
        if let Some(s) = p.skill {
            heads[s as usize] += 1;
        }
    }
    let cal = crate::model::Calendar::new(params.start, params.end, holidays);
    let workdays = cal.workday.iter().filter(|&&w| w).count() as u64;
    for (s, &n) in heads.iter().enumerate() {
        let days = n.checked_mul(workdays).and_then(|d| i64::try_from(d).ok());
        if days.and_then(Amount::days).is_none() {
            k.problem(
                Location::section(STAFF),
                format!(
                    "the manpower of skill {} ({n} people for {workdays} workdays) is larger than {}",
                    skills.name(s as u32),
                    Amount::MAX_TEXT
                ),
            )?;
        }
    }
    Ok(())
}

/// Legal but suspicious: a person on a track with no work, work on a track
/// with no staff, a person without a skill, a name twice, no work at all,
/// no scheduling skills.
fn warnings<K: Sink>(
    k: &mut K,
    input: &Input,
    params_at: Option<Location>,
    staff_at: &Option<[Location; 6]>,
    work_at: &Option<[Location; 6]>,
    work_rows: u64,
) -> Result<()> {
    let track_name = |t: Option<u32>| t.map_or("", |t| input.tracks.name(t));
    if input.params.sched.is_empty() {
        k.warning(
            params_at.unwrap_or_else(|| Location::section(super::PARAMS)),
            "no scheduling skills: every estimated item is dated the start date".into(),
        )?;
    }
    let staffed: FxHashSet<Option<u32>> = input.staff.iter().map(|p| p.track).collect();
    let worked: FxHashSet<Option<u32>> = input.work.iter().map(|w| w.track).collect();
    let mut names: FxHashMap<&str, u64> = FxHashMap::default();
    for p in &input.staff {
        if !worked.contains(&p.track) {
            k.warning(
                again(staff_at, 4, p.line, track_name(p.track)),
                format!("{} is on a track with no work", p.name),
            )?;
        }
        if p.skill.is_none() {
            k.warning(
                again(staff_at, 5, p.line, ""),
                format!(
                    "{} has no skill: counted in the head count, in no skill's manpower",
                    p.name
                ),
            )?;
        }
        if let Some(first) = names.insert(&p.name, p.line) {
            names.insert(&p.name, first);
            k.warning(
                again(staff_at, 2, p.line, &p.name),
                format!("the name appears twice (also line {first})"),
            )?;
        }
    }
    let mut warned = FxHashSet::default();
    for w in &input.work {
        if !staffed.contains(&w.track) && warned.insert(w.track) {
            k.warning(
                again(work_at, 6, w.line, track_name(w.track)),
                "work in a track with no staff".into(),
            )?;
        }
    }
    if work_rows == 0 {
        k.warning(Location::section(WORK), "the work list is empty".into())?;
    }
    Ok(())
}

/// Holidays and vacations with no day in the plan change nothing: most
/// likely a typo in the year, so never dropped without a word (issue 20).
fn outside<K: Sink>(
    k: &mut K,
    input: &Input,
    holiday_at: Vec<(NaiveDate, Location)>,
    vacation_at: Vec<(usize, Location)>,
) -> Result<()> {
    let (start, end) = (input.params.start, input.params.end);
    for (d, at) in holiday_at {
        if d < start || d > end {
            k.warning(
                at,
                format!(
                    "the holiday {d} is outside the plan ({start} to {end}): it changes nothing"
                ),
            )?;
        }
    }
    for (i, at) in vacation_at {
        let p = &input.staff[i];
        for &(from, to) in &p.vacation {
            if to < start || from > end {
                let days = if from == to {
                    from.to_string()
                } else {
                    format!("{from}..{to}")
                };
                k.warning(
                    at.clone(),
                    format!(
                        "the vacation {days} of {} has no day in the plan ({start} to {end}): it changes nothing",
                        p.name
                    ),
                )?;
            }
        }
    }
    Ok(())
}
