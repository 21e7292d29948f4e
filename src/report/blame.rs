//! `qplan blame`: why did this item move?
//!
//! Walks the stored versions of `APP results` on main (first parents),
//! reads the item's rows in each (its own track's list and the `All` list:
//! shortage and dev-complete date), and lists every version where they
//! changed, newest first. For each such step the two versions' provenance
//! names the conditioned input (and the raw data) they were computed from;
//! the input rows that changed between the two and can move this item are
//! listed with why:
//!
//! - `own`: the item's own work row (estimate, rank, triage, track);
//! - `ranked-before`: a work row ranked before it in its track (in any
//!   track when its `All` row moved: there every item is ranked together);
//! - `staff`: a person of its track (any track when its `All` row moved)
//!   with one of its skills: joining, leaving, vacations;
//! - `holiday` and `params`: these move everyone;
//! - `raw`: a raw row that names the item (its id as a field).
//!
//! A step whose versions lack provenance, or whose input cannot be read,
//! says so and the walk goes on. Results are read, never recomputed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use git2::Oid;
use indicatif::ProgressBar;
use memchr::memmem;
use serde::Serialize;

use crate::error::{Error, Location, Result};
use crate::snap::blob;
use crate::snap::history::{self, short, show_time};
use crate::snap::{objects, Resource, Store, Version};

/// The name of the list that holds every item.
const ALL: &str = "All";
/// How many input rows the text story shows per step (all are in the
/// stream and JSON formats).
const TEXT_ROWS: usize = 20;

/// What to blame.
#[derive(Debug, Clone)]
pub struct Options {
    pub app: String,
    pub item: String,
}

/// An item's row in one list of one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The dev-complete date (ISO) or `DNF`.
    pub done: String,
    /// `Apps:-1.5, Web:-2`, empty when above the line.
    pub shortage: String,
}

/// What one version says of the item.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: String,
    track: String,
    /// (list, row) in the order of the results' lists.
    lists: Vec<(String, Cell)>,
}

/// The item's row in one list, before and after a step (`None`: not in
/// that list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub list: String,
    pub before: Option<Cell>,
    pub after: Option<Cell>,
}

/// Why an input row can move the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Why {
    Own,
    Params,
    Holiday,
    Staff,
    RankedBefore,
    Raw,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Own => "own",
            Why::Params => "params",
            Why::Holiday => "holiday",
            Why::Staff => "staff",
            Why::RankedBefore => "ranked-before",
            Why::Raw => "raw",
        }
    }

    fn story(self) -> &'static str {
        match self {
            Why::Own => "its own row",
            Why::Params => "the plan's dates and scheduling skills",
            Why::Holiday => "holidays",
            Why::Staff => "staff with its skills",
            Why::RankedBefore => "work ranked before it",
            Why::Raw => "raw rows that name it",
        }
    }
}

/// An input row that changed in a step: removed (`after` none), added
/// (`before` none) or changed (both, same key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputChange {
    pub why: Why,
    pub resource: String,
    pub section: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A version where the item moved.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub commit: String,
    /// Unix seconds.
    pub time: i64,
    /// The version before it (none: the first version read).
    pub previous: Option<String>,
    pub moves: Vec<Move>,
    pub inputs: Vec<InputChange>,
    /// The conditioned and raw versions compared: (resource, before, after).
    pub compared: Vec<(String, String, String)>,
    /// What could not be said, and why.
    pub notes: Vec<String>,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct Blame {
    pub item: String,
    /// Its name and track in the newest version that has it.
    pub name: String,
    pub track: String,
    pub resource: String,
    /// How many versions of the results were read.
    pub versions: usize,
    /// Newest first.
    pub steps: Vec<Step>,
    /// Versions that could not be read: commit and why.
    pub skipped: Vec<(String, String)>,
}

/// What reading one version gave: the item's rows (none: not in it), or
/// why the version could not be read.
type Read = std::result::Result<Option<Seen>, String>;

/// A stored version of the results: its commit and blob.
struct Stored {
    version: Version,
    blob: Option<Oid>,
}

/// Blames `opts.item` in the store. An item no version has is a data
/// error (65) naming the closest ids of the newest version. `progress`
/// makes the bar of the versions read, given how many there are (the
/// command's: drawn on a terminal, hidden otherwise).
pub fn blame(
    store: &Store,
    opts: &Options,
    progress: &dyn Fn(u64) -> ProgressBar,
) -> Result<Blame> {
    if opts.item.is_empty() || opts.item.contains(['\t', '\n', '\r']) {
        return Err(Error::Usage(format!(
            "{:?} is not an item id (one line, no TAB)",
            opts.item
        )));
    }
    let res = Resource::new(&opts.app, "results")?;
    let Some(main) = store.main_commit()? else {
        return Err(Error::data(
            Location::default(),
            format!("the store at {} is empty", store.dir.display()),
        ));
    };
    let path = res.path();
    let mut stored = Vec::new();
    for oid in history::first_parents(&store.repo, main.id())? {
        let c = objects::commit(&store.repo, oid?)?;
        let v = Version::of(&c);
        if !history::touches(&store.repo, &c, &v, &res)? {
            continue;
        }
        let blob = objects::tree(&store.repo, &c)?
            .get_path(Path::new(&path))
            .ok()
            .map(|e| e.id());
        stored.push(Stored { version: v, blob });
    }
    if stored.is_empty() {
        return Err(Error::data(
            Location::default(),
            format!("the store has no version of {res}"),
        ));
    }
    // Oldest first from here on.
    stored.reverse();
    let bar = progress(stored.len() as u64);
    let seen = scan(&store.dir, &stored, &opts.item, &bar)?;
    bar.finish_and_clear();

    let mut skipped = Vec::new();
    let mut readable: Vec<(&Stored, Option<Seen>)> = Vec::new();
    for (s, r) in stored.iter().zip(seen) {
        match r {
            Ok(seen) => readable.push((s, seen)),
            Err(why) => skipped.push((s.version.commit.to_string(), why)),
        }
    }
    let Some(newest) = readable.iter().rev().find_map(|(_, s)| s.as_ref()) else {
        return Err(unknown_item(store, &stored, &opts.item, &res));
    };
    let (name, track) = (newest.name.clone(), newest.track.clone());

    let mut steps = Vec::new();
    let mut prev: Option<(&Stored, &Option<Seen>)> = None;
    for (s, seen) in &readable {
        let before = prev.and_then(|(_, p)| p.as_ref());
        let moved = match (before, seen.as_ref()) {
            (None, None) => false,
            (Some(a), Some(b)) => a.lists != b.lists,
            _ => true,
        };
        if moved {
            let mut step = Step {
                commit: s.version.commit.to_string(),
                time: s.version.time,
                previous: prev.map(|(p, _)| p.version.commit.to_string()),
                moves: moves(before, seen.as_ref()),
                inputs: Vec::new(),
                compared: Vec::new(),
                notes: Vec::new(),
            };
            match prev {
                Some((p, _)) => explain(
                    store, &opts.app, &opts.item, &p.version, &s.version, &mut step,
                ),
                None => step.notes.push(
                    "the first stored version of the results: nothing to compare with".into(),
                ),
            }
            steps.push(step);
        }
        prev = Some((s, seen));
    }
    steps.reverse();
    Ok(Blame {
        item: opts.item.clone(),
        name,
        track,
        resource: res.to_string(),
        versions: stored.len(),
        steps,
        skipped,
    })
}

/// Reads the item's rows in every version, on a few threads (each with a
/// handle on the store and buffers of its own: reading is inflating
/// megabytes per version). A version is read only as far as the lists
/// that can hold the item (see [`Rows::complete`]). `Err` is a version
/// that could not be read, with why.
fn scan(dir: &Path, stored: &[Stored], item: &str, bar: &ProgressBar) -> Result<Vec<Read>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4)
        .min(stored.len());
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<Read>>> = Mutex::new(vec![None; stored.len()]);
    let needle = format!("\t{item}\n").into_bytes();
    let finder = memmem::Finder::new(&needle);
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..threads {
            let store = Store::open(dir)?;
            let (next, out, finder) = (&next, &out, &finder);
            handles.push(scope.spawn(move || {
                let mut reader = blob::Reader::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(s) = stored.get(i) else { break };
                    let r = match s.blob {
                        None => Ok(None),
                        Some(oid) => {
                            let mut rows = Rows::new(item, finder);
                            reader
                                .read_until(&store.repo, oid, |data| {
                                    rows.feed(data);
                                    rows.complete()
                                })
                                .map(|_| rows.seen)
                                .map_err(|e| format!("{e:#}"))
                        }
                    };
                    if let Ok(mut o) = out.lock() {
                        o[i] = Some(r);
                    }
                    bar.inc(1);
                }
            }));
        }
        for h in handles {
            if h.join().is_err() {
                return Err(Error::io(
                    "reading the stored results",
                    std::io::Error::other("a reader thread failed"),
                ));
            }
        }
        Ok(())
    })?;
    let out = out.into_inner().unwrap_or_default();
    Ok(out
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not read".into())))
        .collect())
}

/// The lines of a top-level section, without their first TAB, and where
/// the section ends. `from` is the position just after its header line.
fn section_lines(data: &[u8], from: usize) -> (Vec<&[u8]>, usize) {
    let mut lines = Vec::new();
    let mut pos = from;
    while pos < data.len() && data[pos] == b'\t' {
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |n| pos + n);
        lines.push(&data[pos + 1..end]);
        pos = end + 1;
    }
    (lines, pos.min(data.len()))
}

/// Where a top-level header line `=====header` starts: at the start of
/// the data or of a line.
fn find_header(data: &[u8], header: &str) -> Option<usize> {
    let with = ["=====", header, "\n"].concat();
    if data.starts_with(with.as_bytes()) {
        return Some(0);
    }
    let needle = ["\n", with.as_str()].concat();
    memmem::find(data, needle.as_bytes()).map(|p| p + 1)
}

/// The results' lists (tracks) and the span of the work section.
fn work_section(data: &[u8]) -> Option<(Vec<String>, usize, usize)> {
    let tracks = find_header(data, "qplan tracks v1")?;
    let from = tracks + "=====qplan tracks v1\n".len();
    let (lines, _) = section_lines(data, from);
    let tracks = lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).trim_end_matches('\r').to_owned())
        .collect();
    let work = find_header(data, "qplan track work v1")? + "=====qplan track work v1\n".len();
    let end = memmem::find(&data[work..], b"\n=====").map_or(data.len(), |n| work + n + 1);
    Some((tracks, work, end))
}

const LIST_HEADER: &[u8] = b"\t=====qplan track item\n";

/// The item's rows in a results stream: a work line (track, rank, triage,
/// name, estimate, shortage, date, id) whose id is `item`, in each list.
#[cfg(test)]
fn item_rows(data: &[u8], item: &str, finder: &memmem::Finder) -> Option<Seen> {
    let mut rows = Rows::new(item, finder);
    rows.feed(data);
    rows.seen
}

/// A top-level section header, as it starts a line.
const WORK_HEADER: &[u8] = b"=====qplan track work v1\n";

/// The item's rows, found while a results stream is being inflated: fed
/// the bytes read so far (a prefix that grows), it looks only at what is
/// new since the last feed, so a version is searched once, in pieces still
/// in the cache.
struct Rows<'a> {
    item: &'a str,
    finder: &'a memmem::Finder<'a>,
    /// How much of the stream has been looked at.
    looked: usize,
    /// Where the work section's lines start, once its header was read.
    work: Option<usize>,
    /// Where it ends, once read to there.
    end: Option<usize>,
    /// The lists' names (the tracks section), in order.
    tracks: Vec<String>,
    /// Where each list of the work section starts.
    lists: Vec<usize>,
    /// The last line of the item taken (a line is found again when a
    /// feed looks back across the previous feed's end).
    last_hit: Option<usize>,
    seen: Option<Seen>,
}

impl<'a> Rows<'a> {
    fn new(item: &'a str, finder: &'a memmem::Finder<'a>) -> Rows<'a> {
        Rows {
            item,
            finder,
            looked: 0,
            work: None,
            end: None,
            tracks: Vec::new(),
            lists: Vec::new(),
            last_hit: None,
            seen: None,
        }
    }

    /// Looks at `data[self.looked..]`, and back far enough to see a line
    /// or header cut by the previous feed's end.
    fn feed(&mut self, data: &[u8]) {
        let back = self
            .finder
            .needle()
            .len()
            .max(LIST_HEADER.len())
            .max(WORK_HEADER.len() + 1);
        let mut from = self.looked.saturating_sub(back);
        self.looked = data.len();
        if self.end.is_some() {
            return;
        }
        let work = match self.work {
            Some(w) => w,
            None => {
                let at = if data.starts_with(WORK_HEADER) {
                    Some(0)
                } else {
                    let mut needle = vec![b'\n'];
                    needle.extend_from_slice(WORK_HEADER);
                    memmem::find(&data[from..], &needle).map(|n| from + n + 1)
                };
                let Some(at) = at else { return };
                let tracks =
                    find_header(&data[..at], "qplan tracks v1").map_or_else(Vec::new, |t| {
                        let (lines, _) =
                            section_lines(&data[..at], t + "=====qplan tracks v1\n".len());
                        lines
                            .iter()
                            .map(|l| String::from_utf8_lossy(l).trim_end_matches('\r').to_owned())
                            .collect()
                    });
                self.tracks = tracks;
                let w = at + WORK_HEADER.len();
                self.work = Some(w);
                w
            }
        };
        from = from.max(work);
        // The work section ends where the next top-level header starts.
        let end = memmem::find(&data[from..], b"\n=====").map(|n| from + n + 1);
        let scope = &data[from..end.unwrap_or(data.len())];
        for p in memmem::find_iter(scope, LIST_HEADER) {
            if self.lists.last().is_none_or(|&l| l < from + p) {
                self.lists.push(from + p);
            }
        }
        for hit in self.finder.find_iter(scope) {
            let hit = from + hit;
            if self.last_hit.is_some_and(|l| l >= hit) {
                continue;
            }
            self.last_hit = Some(hit);
            self.take(data, hit);
        }
        self.end = end;
    }

    /// The line whose id ends at `hit` (the needle's TAB), when it is one
    /// of the item's work lines.
    fn take(&mut self, data: &[u8], hit: usize) {
        let start = memchr::memrchr(b'\n', &data[..hit]).map_or(0, |n| n + 1);
        let line = &data[start..hit + 1 + self.item.len()];
        let text = String::from_utf8_lossy(line);
        let cols: Vec<&str> = text.trim_start_matches('\t').split('\t').collect();
        if cols.len() != 8 || cols[7] != self.item {
            return;
        }
        let list = self.lists.partition_point(|&p| p < hit);
        let list = match list.checked_sub(1).and_then(|i| self.tracks.get(i)) {
            Some(t) => t.clone(),
            None => format!("list {list}"),
        };
        let s = self.seen.get_or_insert_with(|| Seen {
            name: cols[3].to_owned(),
            track: cols[0].to_owned(),
            lists: Vec::new(),
        });
        s.lists.push((
            list,
            Cell {
                done: cols[6].to_owned(),
                shortage: cols[5].to_owned(),
            },
        ));
    }

    /// Whether the rest of the stream can hold no more of the item's rows:
    /// the work section was read to its end, or the lists that can hold
    /// the item were read whole: `All` and the list of its track (an item
    /// is in those two only; a list is whole once the next one starts).
    fn complete(&self) -> bool {
        if self.end.is_some() {
            return true;
        }
        let Some(seen) = &self.seen else {
            return false;
        };
        let index = |name: &str| self.tracks.iter().position(|t| t == name);
        match (index(ALL), index(&seen.track)) {
            (Some(all), Some(own)) => self.lists.len() > all.max(own) + 1,
            _ => false,
        }
    }
}

/// Every item id of a results stream.
fn item_ids(data: &[u8]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    if let Some((_, from, to)) = work_section(data) {
        for line in data[from..to].split(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(line);
            let cols: Vec<&str> = text.trim_start_matches('\t').split('\t').collect();
            if cols.len() == 8 {
                ids.insert(cols[7].to_owned());
            }
        }
    }
    ids
}

/// The error for an item no version has: the closest ids of the newest
/// readable version.
fn unknown_item(store: &Store, stored: &[Stored], item: &str, res: &Resource) -> Error {
    let ids = stored
        .iter()
        .rev()
        .filter_map(|s| s.blob)
        .find_map(|b| blob::read(&store.repo, b).ok())
        .map(|d| item_ids(&d))
        .unwrap_or_default();
    let lower = item.to_lowercase();
    let mut near: Vec<(usize, &String)> = ids
        .iter()
        .map(|id| (strsim::damerau_levenshtein(&lower, &id.to_lowercase()), id))
        .collect();
    near.sort();
    let near: Vec<&str> = near.iter().take(5).map(|(_, id)| id.as_str()).collect();
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!("; the closest ids are {}", near.join(", "))
    };
    Error::data(
        Location::default(),
        format!(
            "no item {item:?} in any of the {} stored versions of {res}{hint}",
            stored.len()
        ),
    )
}

/// The lists whose row differs between two versions.
fn moves(before: Option<&Seen>, after: Option<&Seen>) -> Vec<Move> {
    let empty = Vec::new();
    let b = before.map_or(&empty, |s| &s.lists);
    let a = after.map_or(&empty, |s| &s.lists);
    let mut names: Vec<&String> = Vec::new();
    for (l, _) in a.iter().chain(b.iter()) {
        if !names.contains(&l) {
            names.push(l);
        }
    }
    let find = |v: &Vec<(String, Cell)>, l: &String| {
        v.iter().find(|(n, _)| n == l).map(|(_, c)| c.clone())
    };
    names
        .into_iter()
        .filter_map(|l| {
            let (x, y) = (find(b, l), find(a, l));
            (x != y).then(|| Move {
                list: l.clone(),
                before: x,
                after: y,
            })
        })
        .collect()
}

/// The commit of `resource` in a version's provenance.
fn provenance_of(v: &Version, resource: &Resource) -> Option<String> {
    v.provenance
        .iter()
        .find(|p| &p.resource == resource)
        .map(|p| p.commit.clone())
}

/// The stored stream of `res` put by `commit` (a provenance commit).
fn stream_at(store: &Store, res: &Resource, commit: &str) -> Result<Vec<u8>> {
    let c = history::resolve_rev(&store.repo, commit)?;
    let entry = objects::tree(&store.repo, &c)?
        .get_path(Path::new(&res.path()))
        .map_err(|_| {
            Error::data(
                Location::default(),
                format!("commit {} has no {res}", short(c.id())),
            )
        })?;
    blob::read(&store.repo, entry.id())
}

/// Fills in a step's input changes from the two versions' provenance.
fn explain(
    store: &Store,
    app: &str,
    item: &str,
    before: &Version,
    after: &Version,
    step: &mut Step,
) {
    let all_lists = step.moves.iter().any(|m| m.list == ALL);
    let (Ok(cond), Ok(raw)) = (Resource::new(app, "conditioned"), Resource::new(app, "raw")) else {
        return;
    };
    let pair = |res: &Resource| (provenance_of(before, res), provenance_of(after, res));
    match pair(&cond) {
        (Some(b), Some(a)) if b == a => step.notes.push(format!(
            "both versions were computed from the same {cond} ({}): the change is not in the input \
             (another qplan, or results put by hand)",
            &a[..a.len().min(12)]
        )),
        (Some(b), Some(a)) => {
            step.compared.push((cond.to_string(), b.clone(), a.clone()));
            match (stream_at(store, &cond, &b), stream_at(store, &cond, &a)) {
                (Ok(x), Ok(y)) => step
                    .inputs
                    .extend(conditioned_changes(&cond, item, all_lists, &x, &y)),
                (Err(e), _) | (_, Err(e)) => step
                    .notes
                    .push(format!("the {cond} versions could not be read: {e:#}")),
            }
        }
        (b, _) => {
            let missing = if b.is_none() { before } else { after };
            step.notes.push(format!(
                "version {} has no provenance to {cond}: the input rows cannot be compared for this step",
                short(missing.commit)
            ));
        }
    }
    if let (Some(b), Some(a)) = pair(&raw) {
        if b != a {
            step.compared.push((raw.to_string(), b.clone(), a.clone()));
            match (stream_at(store, &raw, &b), stream_at(store, &raw, &a)) {
                (Ok(x), Ok(y)) => {
                    let (naming, others) = raw_changes(&raw, item, &x, &y);
                    step.inputs.extend(naming);
                    if others > 0 {
                        step.notes.push(format!(
                            "{others} other raw row(s) changed in {raw} (they do not name {item})"
                        ));
                    }
                }
                (Err(e), _) | (_, Err(e)) => step
                    .notes
                    .push(format!("the {raw} versions could not be read: {e:#}")),
            }
        }
    }
}

/// A stream's top-level sections: header and content lines (one TAB
/// removed), with the provenance and end marker left out.
fn sections(data: &[u8]) -> Vec<(String, Vec<String>)> {
    let text = String::from_utf8_lossy(data);
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(h) = line.strip_prefix("=====") {
            out.push((h.trim_end().to_owned(), Vec::new()));
        } else if let (Some(content), Some(last)) = (line.strip_prefix('\t'), out.last_mut()) {
            last.1.push(content.to_owned());
        }
    }
    out.retain(|(h, _)| h != "end" && h != crate::stream::PROVENANCE);
    out
}

/// A changed row: its section, and its line before and after, with its
/// place in the section (None: absent on that side).
struct Changed {
    section: String,
    before: Option<(usize, String)>,
    after: Option<(usize, String)>,
}

/// The rows that differ between two streams, section by section, a
/// removed and an added row with the same first column paired as one
/// change when `keyed`.
fn changed_rows(before: &[u8], after: &[u8], keyed: bool) -> Vec<Changed> {
    let (b, a) = (sections(before), sections(after));
    let mut headers: Vec<&String> = Vec::new();
    for (h, _) in b.iter().chain(a.iter()) {
        if !headers.contains(&h) {
            headers.push(h);
        }
    }
    let lines_of = |v: &Vec<(String, Vec<String>)>, h: &String| -> Vec<String> {
        v.iter()
            .filter(|(x, _)| x == h)
            .flat_map(|(_, l)| l.clone())
            .collect()
    };
    let mut out = Vec::new();
    for h in headers {
        let (old, new) = (lines_of(&b, h), lines_of(&a, h));
        // A multiset difference: every line of one side matched once.
        let mut count: HashMap<&str, isize> = HashMap::new();
        for l in &new {
            *count.entry(l).or_default() += 1;
        }
        let mut removed = Vec::new();
        for (i, l) in old.iter().enumerate() {
            match count.get_mut(l.as_str()) {
                Some(n) if *n > 0 => *n -= 1,
                _ => removed.push((i, l.clone())),
            }
        }
        let mut count: HashMap<&str, isize> = HashMap::new();
        for l in &old {
            *count.entry(l).or_default() += 1;
        }
        let mut added = Vec::new();
        for (i, l) in new.iter().enumerate() {
            match count.get_mut(l.as_str()) {
                Some(n) if *n > 0 => *n -= 1,
                _ => added.push((i, l.clone())),
            }
        }
        let key = |l: &str| l.split('\t').next().unwrap_or("").to_owned();
        let mut by_key: HashMap<String, Vec<(usize, String)>> = HashMap::new();
        if keyed {
            for r in added.drain(..).rev() {
                by_key.entry(key(&r.1)).or_default().push(r);
            }
        }
        for r in removed {
            let after = by_key.get_mut(&key(&r.1)).and_then(Vec::pop);
            out.push(Changed {
                section: h.clone(),
                before: Some(r),
                after,
            });
        }
        let mut rest: Vec<(usize, String)> = by_key.into_values().flatten().chain(added).collect();
        rest.sort();
        for r in rest {
            out.push(Changed {
                section: h.clone(),
                before: None,
                after: Some(r),
            });
        }
    }
    out
}

/// The item as one version of the conditioned input has it: its place,
/// rank, track and skills.
struct Own {
    index: usize,
    rank: Option<i64>,
    track: String,
    skills: HashSet<String>,
}

fn own_row(data: &[u8], item: &str) -> Option<Own> {
    let (_, lines) = sections(data)
        .into_iter()
        .find(|(h, _)| h == "qplan work v1")?;
    lines.iter().enumerate().find_map(|(index, l)| {
        let cols: Vec<&str> = l.split('\t').collect();
        (cols.first() == Some(&item)).then(|| Own {
            index,
            rank: cols.get(1).and_then(|r| r.trim().parse().ok()),
            track: cols.get(5).map_or("", |t| t.trim()).to_owned(),
            skills: cols
                .get(3)
                .map_or("", |e| e)
                .split(',')
                .filter_map(|p| p.split(':').next())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        })
    })
}

/// The conditioned rows that changed between two versions and can move
/// the item.
fn conditioned_changes(
    res: &Resource,
    item: &str,
    all_lists: bool,
    before: &[u8],
    after: &[u8],
) -> Vec<InputChange> {
    let (ob, oa) = (own_row(before, item), own_row(after, item));
    let mut tracks: HashSet<&str> = HashSet::new();
    let mut skills: HashSet<&str> = HashSet::new();
    for o in [&ob, &oa].into_iter().flatten() {
        tracks.insert(&o.track);
        skills.extend(o.skills.iter().map(String::as_str));
    }
    let in_scope = |track: &str| all_lists || tracks.contains(track.trim());
    let mut out = Vec::new();
    for c in changed_rows(before, after, true) {
        let sides = [(&c.before, &ob), (&c.after, &oa)];
        let why = match c.section.as_str() {
            "qplan work v1" => {
                let own = sides.iter().any(|(r, _)| {
                    r.as_ref()
                        .is_some_and(|(_, l)| l.split('\t').next() == Some(item))
                });
                let ahead = sides.iter().any(|(r, o)| match (r, o) {
                    (Some((i, l)), Some(o)) => {
                        let cols: Vec<&str> = l.split('\t').collect();
                        let rank: Option<i64> = cols.get(1).and_then(|r| r.trim().parse().ok());
                        in_scope(cols.get(5).copied().unwrap_or(""))
                            && match (rank, o.rank) {
                                (Some(r), Some(mine)) => r < mine || (r == mine && *i < o.index),
                                _ => false,
                            }
                    }
                    _ => false,
                });
                if own {
                    Some(Why::Own)
                } else if ahead {
                    Some(Why::RankedBefore)
                } else {
                    None
                }
            }
            "qplan staff v1" => sides
                .iter()
                .any(|(r, _)| {
                    r.as_ref().is_some_and(|(_, l)| {
                        let cols: Vec<&str> = l.split('\t').collect();
                        in_scope(cols.get(3).copied().unwrap_or(""))
                            && skills.contains(cols.get(4).map_or("", |s| s.trim()))
                    })
                })
                .then_some(Why::Staff),
            "qplan holidays v1" => Some(Why::Holiday),
            "qplan params v1" => Some(Why::Params),
            _ => None,
        };
        if let Some(why) = why {
            out.push(InputChange {
                why,
                resource: res.to_string(),
                section: c.section,
                before: c.before.map(|(_, l)| l),
                after: c.after.map(|(_, l)| l),
            });
        }
    }
    out.sort_by_key(|c| c.why);
    out
}

/// The raw rows that changed and name the item (its id as a field of a
/// TAB, comma or semicolon separated row), and how many others changed.
fn raw_changes(
    res: &Resource,
    item: &str,
    before: &[u8],
    after: &[u8],
) -> (Vec<InputChange>, usize) {
    let names = |l: &str| {
        l.split(['\t', ',', ';'])
            .any(|f| f.trim().trim_matches('"').trim() == item)
    };
    let mut naming = Vec::new();
    let mut others = 0;
    for c in changed_rows(before, after, false) {
        let line = c
            .before
            .as_ref()
            .or(c.after.as_ref())
            .map_or("", |(_, l)| l.as_str());
        if names(line) {
            naming.push(InputChange {
                why: Why::Raw,
                resource: res.to_string(),
                section: c.section,
                before: c.before.map(|(_, l)| l),
                after: c.after.map(|(_, l)| l),
            });
        } else {
            others += 1;
        }
    }
    (naming, others)
}

// --- output ---------------------------------------------------------------

fn cell_done(c: &Option<Cell>) -> &str {
    c.as_ref().map_or("-", |c| c.done.as_str())
}

fn cell_shortage(c: &Option<Cell>) -> &str {
    c.as_ref().map_or("-", |c| c.shortage.as_str())
}

/// The stacked stream: `qplan blame item v1` (id, name, track, resource,
/// versions read), `qplan blame v1` (one line per list that moved: commit,
/// time, previous commit, list, date before, after, shortage before,
/// after; `-` where the item was not), `qplan blame input v1` (commit,
/// why, resource, section, `-` or `+`, the row's columns), `qplan blame
/// note v1` (commit, message).
pub fn write_stream(b: &Blame, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut w = crate::stream::Writer::new(out);
    w.header(0, "qplan blame item v1")?;
    w.fields(
        0,
        [
            &b.item,
            &b.name,
            &b.track,
            &b.resource,
            &b.versions.to_string(),
        ],
    )?;
    w.header(0, "qplan blame v1")?;
    for s in &b.steps {
        let time = show_time(s.time);
        for m in &s.moves {
            w.fields(
                0,
                [
                    s.commit.as_str(),
                    &time,
                    s.previous.as_deref().unwrap_or("-"),
                    &m.list,
                    cell_done(&m.before),
                    cell_done(&m.after),
                    cell_shortage(&m.before),
                    cell_shortage(&m.after),
                ],
            )?;
        }
    }
    w.header(0, "qplan blame input v1")?;
    for s in &b.steps {
        for c in &s.inputs {
            for (sign, row) in [("-", &c.before), ("+", &c.after)] {
                if let Some(row) = row {
                    w.fields(
                        0,
                        [
                            &s.commit,
                            c.why.as_str(),
                            &c.resource,
                            &c.section,
                            sign,
                            row,
                        ],
                    )?;
                }
            }
        }
    }
    w.header(0, "qplan blame note v1")?;
    for s in &b.steps {
        for n in &s.notes {
            w.fields(0, [s.commit.as_str(), n])?;
        }
    }
    for (c, why) in &b.skipped {
        w.fields(0, [c.as_str(), &format!("could not be read: {why}")])?;
    }
    w.end()
}

/// One JSON document.
pub fn write_json(b: &Blame, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, b)?;
    writeln!(out)
}

/// A readable story, newest first.
pub fn write_text(b: &Blame, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let cell = |c: &Option<Cell>| match c {
        None => "(not planned)".to_owned(),
        Some(c) if c.shortage.is_empty() => c.done.clone(),
        Some(c) => format!("{} (short {})", c.done, c.shortage),
    };
    writeln!(
        out,
        "{} {:?}, track {}: moved in {} of {} stored versions of {}",
        b.item,
        b.name,
        b.track,
        b.steps.len(),
        b.versions,
        b.resource
    )?;
    let row = |r: &str| r.replace('\t', "  ");
    for s in &b.steps {
        writeln!(out)?;
        match &s.previous {
            Some(p) => writeln!(
                out,
                "{}  {} (after {})",
                show_time(s.time),
                &s.commit[..s.commit.len().min(12)],
                &p[..p.len().min(12)]
            )?,
            None => writeln!(
                out,
                "{}  {}",
                show_time(s.time),
                &s.commit[..s.commit.len().min(12)]
            )?,
        }
        for m in &s.moves {
            writeln!(
                out,
                "  {:<10} {} -> {}",
                m.list,
                cell(&m.before),
                cell(&m.after)
            )?;
        }
        for (res, x, y) in &s.compared {
            writeln!(
                out,
                "  {res}: {} -> {}",
                &x[..x.len().min(12)],
                &y[..y.len().min(12)]
            )?;
        }
        if !s.inputs.is_empty() {
            writeln!(out, "  because these input rows changed:")?;
        }
        let mut last: Option<(Why, &str)> = None;
        for c in s.inputs.iter().take(TEXT_ROWS) {
            if last != Some((c.why, c.section.as_str())) {
                writeln!(
                    out,
                    "    {} ({}, {}):",
                    c.why.story(),
                    c.resource,
                    c.section
                )?;
                last = Some((c.why, c.section.as_str()));
            }
            if let Some(r) = &c.before {
                writeln!(out, "      - {}", row(r))?;
            }
            if let Some(r) = &c.after {
                writeln!(out, "      + {}", row(r))?;
            }
        }
        if s.inputs.len() > TEXT_ROWS {
            writeln!(
                out,
                "    … and {} more (all of them in -f stream or -f json)",
                s.inputs.len() - TEXT_ROWS
            )?;
        }
        if s.inputs.is_empty() && s.notes.is_empty() && !s.compared.is_empty() {
            writeln!(out, "  no input row that touches {} changed", b.item)?;
        }
        for n in &s.notes {
            writeln!(out, "  note: {n}")?;
        }
    }
    for (c, why) in &b.skipped {
        writeln!(out, "\nskipped {}: {why}", &c[..c.len().min(12)])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RESULTS: &str = "=====qplan params v1\n\t2013-10-07\t2013-12-20\tApps\n\
=====qplan tracks v1\n\tAll\n\tTenor\n\
=====qplan track work v1\n\t=====qplan track item\n\
\t\tTenor\t1\t1\tFirst\tApps:2\t\t2013-10-18\tA-1\n\
\t\tTenor\t2\t1\tSecond\tApps:2\tApps:-1\tDNF\tA-2\n\
\t=====qplan track item\n\
\t\tTenor\t1\t1\tFirst\tApps:2\t\t2013-10-25\tA-1\n\
=====end\n";

    #[test]
    fn an_items_rows_are_read_per_list() {
        let f = memmem::Finder::new(b"\tA-1\n");
        let s = item_rows(RESULTS.as_bytes(), "A-1", &f).unwrap();
        assert_eq!(s.name, "First");
        assert_eq!(s.track, "Tenor");
        let lists: Vec<(&str, &str, &str)> = s
            .lists
            .iter()
            .map(|(l, c)| (l.as_str(), c.done.as_str(), c.shortage.as_str()))
            .collect();
        assert_eq!(
            lists,
            [("All", "2013-10-18", ""), ("Tenor", "2013-10-25", "")]
        );
        let f = memmem::Finder::new(b"\tA-2\n");
        let s = item_rows(RESULTS.as_bytes(), "A-2", &f).unwrap();
        assert_eq!(
            s.lists,
            [(
                "All".to_owned(),
                Cell {
                    done: "DNF".into(),
                    shortage: "Apps:-1".into()
                }
            )]
        );
        // An id that is a prefix of another, or a name, is not it.
        let f = memmem::Finder::new(b"\tA-\n");
        assert!(item_rows(RESULTS.as_bytes(), "A-", &f).is_none());
        assert_eq!(
            item_ids(RESULTS.as_bytes()).into_iter().collect::<Vec<_>>(),
            ["A-1", "A-2"]
        );
    }

    #[test]
    fn changed_rows_pair_by_key_and_count_duplicates() {
        let a = b"=====qplan work v1\n\tX\t1\tx\tApps:1\t1\tT\n\tY\t2\ty\tApps:1\t1\tT\n\tY\t2\ty\tApps:1\t1\tT\n=====end\n";
        let b = b"=====qplan work v1\n\tX\t1\tx\tApps:3\t1\tT\n\tY\t2\ty\tApps:1\t1\tT\n\tZ\t0\tz\tApps:1\t1\tT\n=====end\n";
        let c = changed_rows(a, b, true);
        let got: Vec<(Option<&str>, Option<&str>)> = c
            .iter()
            .map(|c| {
                (
                    c.before.as_ref().map(|x| x.1.as_str()),
                    c.after.as_ref().map(|x| x.1.as_str()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("X\t1\tx\tApps:1\t1\tT"), Some("X\t1\tx\tApps:3\t1\tT")),
                (Some("Y\t2\ty\tApps:1\t1\tT"), None),
                (None, Some("Z\t0\tz\tApps:1\t1\tT")),
            ]
        );
    }

    #[test]
    fn input_rows_are_kept_when_they_can_move_the_item() {
        let before = "=====qplan params v1\n\t2013-10-07\t2013-12-20\tApps\n\
=====qplan holidays v1\n\t2013-11-28\n\
=====qplan staff v1\n\tp1\tAnn\tM\tTenor\tApps\t\n\tp2\tBob\tM\tBass\tApps\t\n\tp3\tCy\tM\tTenor\tWeb\t\n\
=====qplan work v1\n\tA\t5\ta\tApps:2\t1\tTenor\n\tB\t1\tb\tApps:1\t1\tTenor\n\tC\t9\tc\tApps:1\t1\tTenor\n\tD\t1\td\tApps:1\t1\tBass\n=====end\n";
        let after = "=====qplan params v1\n\t2013-10-07\t2013-12-20\tApps\n\
=====qplan holidays v1\n\t2013-11-28\n\t2013-11-29\n\
=====qplan staff v1\n\tp1\tAnn\tM\tTenor\tApps\t2013-10-08\n\tp2\tBob\tM\tBass\tApps\t2013-10-08\n\tp3\tCy\tM\tTenor\tWeb\t2013-10-08\n\
=====qplan work v1\n\tA\t5\ta\tApps:3\t1\tTenor\n\tB\t1\tb\tApps:2\t1\tTenor\n\tC\t9\tc\tApps:2\t1\tTenor\n\tD\t1\td\tApps:2\t1\tBass\n=====end\n";
        let res = Resource::new("qplan", "conditioned").unwrap();
        let whys = |all| -> Vec<(Why, String)> {
            conditioned_changes(&res, "A", all, before.as_bytes(), after.as_bytes())
                .into_iter()
                .map(|c| {
                    (
                        c.why,
                        c.after
                            .unwrap_or_default()
                            .split('\t')
                            .next()
                            .unwrap_or("")
                            .to_owned(),
                    )
                })
                .collect()
        };
        // Its track only: A itself, the holiday, Ann (Tenor, Apps), B
        // (ranked 1 < 5); not Bob (Bass), Cy (Web), C (ranked after) or D.
        assert_eq!(
            whys(false),
            [
                (Why::Own, "A".into()),
                (Why::Holiday, "2013-11-29".into()),
                (Why::Staff, "p1".into()),
                (Why::RankedBefore, "B".into()),
            ]
        );
        // Its All row moved: every track counts.
        assert_eq!(
            whys(true),
            [
                (Why::Own, "A".into()),
                (Why::Holiday, "2013-11-29".into()),
                (Why::Staff, "p1".into()),
                (Why::Staff, "p2".into()),
                (Why::RankedBefore, "B".into()),
                (Why::RankedBefore, "D".into()),
            ]
        );
    }

    /// A stream read in pieces (as it is inflated) gives the rows it gives
    /// read whole, wherever the pieces are cut.
    #[test]
    fn rows_read_in_pieces_are_the_rows_read_whole() {
        for id in ["A-1", "A-2", "A-", "Tenor"] {
            let needle = format!("\t{id}\n");
            let f = memmem::Finder::new(needle.as_bytes());
            let whole = item_rows(RESULTS.as_bytes(), id, &f);
            for step in 1..RESULTS.len() {
                let mut rows = Rows::new(id, &f);
                let mut at = 0;
                while at < RESULTS.len() {
                    at = (at + step).min(RESULTS.len());
                    rows.feed(&RESULTS.as_bytes()[..at]);
                }
                assert_eq!(rows.seen, whole, "{id} in pieces of {step}");
            }
        }
    }

    /// Reading stops once the lists that can hold the item were read
    /// whole: `All` and its track's, not the lists after them.
    #[test]
    fn reading_stops_after_the_lists_that_can_hold_the_item() {
        let three = "=====qplan tracks v1\n\tAll\n\tTenor\n\tBass\n\
=====qplan track work v1\n\t=====qplan track item\n\
\t\tTenor\t1\t1\tFirst\tApps:2\t\t2013-10-18\tA-1\n\
\t\tBass\t1\t1\tLow\tApps:2\t\t2013-10-20\tB-1\n\
\t=====qplan track item\n\
\t\tTenor\t1\t1\tFirst\tApps:2\t\t2013-10-25\tA-1\n\
\t=====qplan track item\n\
\t\tBass\t1\t1\tLow\tApps:2\t\t2013-10-28\tB-1\n\
=====end\n";
        let f = memmem::Finder::new(b"\tA-1\n");
        let mut rows = Rows::new("A-1", &f);
        let bass = three.find("\t=====qplan track item\n\t\tBass").unwrap();
        // Tenor's list is not whole until the next list starts.
        rows.feed(&three.as_bytes()[..bass]);
        assert!(!rows.complete());
        rows.feed(&three.as_bytes()[..bass + LIST_HEADER.len()]);
        assert!(rows.complete());
        assert_eq!(rows.seen.as_ref().map(|s| s.lists.len()), Some(2));
        // B-1 is in the last list: the stream is read to the end.
        let f = memmem::Finder::new(b"\tB-1\n");
        let mut rows = Rows::new("B-1", &f);
        rows.feed(&three.as_bytes()[..three.len() - "=====end\n".len()]);
        assert!(!rows.complete());
        rows.feed(three.as_bytes());
        assert!(rows.complete());
        assert_eq!(rows.seen.map(|s| s.lists.len()), Some(2));
    }

    proptest! {
        #[test]
        fn readers_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400), id in "[A-Z0-9-]{1,6}") {
            let needle = format!("\t{id}\n");
            let f = memmem::Finder::new(needle.as_bytes());
            let _ = item_rows(&b, &id, &f);
            let _ = item_ids(&b);
            let _ = own_row(&b, &id);
            let _ = changed_rows(&b, RESULTS.as_bytes(), true);
            let res = Resource::new("qplan", "raw").unwrap();
            let _ = raw_changes(&res, &id, &b, RESULTS.as_bytes());
        }
    }
}
