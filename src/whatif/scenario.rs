//! Named what-if scenarios kept in the snapshot store: `qwhatif save`,
//! `list`, `show`, `drop` and `apply` (issue 12).
//!
//! A scenario is a side branch of the store (see [`crate::snap::branch`]),
//! `refs/qsnap/whatif/NAME`, NAME following the rule of resource parts
//! (`[a-z0-9][a-z0-9_-]*`, at most 64 characters; anything else is a
//! usage error, 2). It points at one commit:
//!
//! - its parent is the scenario's *base*: the commit that put the version
//!   of `qplan conditioned` the what-if starts from (the one the input's
//!   `qsnap provenance v1` names, or main's current one when no input is
//!   given);
//! - its tree is the base's, with `conditioned/qplan.txt` replaced by the
//!   scenario's conditioned input (so `qsnap get qplan conditioned --at
//!   refs/qsnap/whatif/NAME` gives it, and `qsnap trace` its provenance)
//!   and the change script, in canonical form, at `qwhatif/script.whatif`;
//! - its message names the scenario and its first change, holds the
//!   script, and ends with trailers: `Qsnap-Resource: qplan conditioned`,
//!   the provenance (`qplan conditioned <base>`, then the base's own),
//!   `Qwhatif-Scenario: NAME` and `Qwhatif-Base: <base>`.
//!
//! Saving checks the script against the base and computes the scenario
//! before anything is written: a script that names nothing, or a scenario
//! whose input cannot be written back as a conditioned stream that plans
//! the same, saves nothing (65). An input given to `save` must hold the
//! very data of the version its provenance names (a stream changed after
//! `qsnap get` has no base to re-run on). A name in use is replaced only
//! with `force`.
//!
//! `show` re-runs the stored script on the base read from the store (or,
//! with `rebase`, on main's current `qplan conditioned`) through
//! [`super::run`], the code path of a plain `qwhatif`.
//!
//! `apply` is the one way a what-if reaches main: an ordinary put of the
//! scenario's conditioned input as the new `qplan conditioned`, under the
//! store's lock, with the provenance `qplan conditioned <base>` (then the
//! base's) and trailers `Qwhatif-Scenario`, `Qwhatif-Base` and one
//! `Qwhatif-Change` per change. It is refused (65) when main's `qplan
//! conditioned` is no longer the scenario's base, a check made under the
//! lock, unless `rebase`: then the script is re-run on the current version
//! and that is put. Save, list, show and drop never touch main or any ref
//! outside `refs/qsnap/whatif/`; save and drop take the store's lock.

use std::io::{BufRead, Cursor, Read, Write};
use std::time::Duration;

use git2::{Commit, Oid};

use super::lang::{self, Located};
use super::{apply as apply_changes, compute_both, WhatIf};
use crate::error::{Error, Location, Result};
use crate::model::Input;
use crate::plan::Results;
use crate::rules::fields;
use crate::rules::{self, Loaded};
use crate::snap::check::{self, DataDigest};
use crate::snap::history::{self, short, show_time, At, Provenance, Version};
use crate::snap::{branch, name, objects, Put, Resource, Store};
use crate::stream::{Reader, Writer, PROVENANCE};

/// Where scenarios live: one ref each, `refs/qsnap/whatif/NAME`.
pub const REFS: &str = "refs/qsnap/whatif/";
/// The change script in a scenario's tree.
pub const SCRIPT_PATH: &str = "qwhatif/script.whatif";
/// The trailer naming the scenario (on its commit and on an apply's).
pub const SCENARIO_TRAILER: &str = "Qwhatif-Scenario";
/// The trailer naming the base commit.
pub const BASE_TRAILER: &str = "Qwhatif-Base";
/// An apply's trailers: one change each, in order.
pub const CHANGE_TRAILER: &str = "Qwhatif-Change";

/// `qplan conditioned`, what scenarios start from and apply writes.
pub fn conditioned() -> Resource {
    Resource {
        app: "qplan".into(),
        stage: "conditioned".into(),
    }
}

/// Checks a scenario name (exit 2), before the store is touched.
pub fn check_name(name: &str) -> Result<()> {
    name::check("scenario", name)
}

fn refname(name: &str) -> String {
    format!("{REFS}{name}")
}

fn data(message: impl Into<String>) -> Error {
    Error::data(Location::default(), message)
}

/// The commit that put main's current `qplan conditioned`.
pub fn current_base(store: &Store) -> Result<Commit<'_>> {
    let res = conditioned();
    let main = store.main_commit()?.ok_or_else(|| {
        data(format!(
            "the store at {} is empty: put a {res} version first (`qsnap put {res}`)",
            store.dir.display()
        ))
    })?;
    history::last_put(&store.repo, main.id(), &res)?.ok_or_else(|| {
        data(format!(
            "the store at {} has no {res}: put one first (`qsnap put {res}`)",
            store.dir.display()
        ))
    })
}

/// A stored version of `qplan conditioned`: the commit that put it, and
/// its input read with the provenance `qsnap get` would give it.
pub struct Base<'r> {
    pub commit: Commit<'r>,
    pub input: Input,
}

/// The version of `qplan conditioned` current at `at`, read from the store.
pub fn read_base<'r>(store: &'r Store, at: Oid) -> Result<Base<'r>> {
    let res = conditioned();
    let (blob, put) = history::version_at(&store.repo, &res, &At::Rev(at.to_string()))?;
    let blob = objects::blob(&store.repo, blob)?;
    let mut prefix = Writer::new(Vec::new());
    let write = |w: &mut Writer<Vec<u8>>| -> std::io::Result<()> {
        w.header(0, PROVENANCE)?;
        w.line(0, format!("{res}\t{}", put.id()).as_bytes())?;
        for p in Version::of(&put).provenance {
            w.line(0, p.line().as_bytes())?;
        }
        Ok(())
    };
    write(&mut prefix).map_err(|e| Error::io("reading the store", e))?;
    let stream = Cursor::new(prefix.into_inner()).chain(blob.content());
    let input = read_input(stream, &format!("{res} {}", short(put.id())))?;
    Ok(Base { commit: put, input })
}

/// Reads conditioned input; a results stream is refused.
fn read_input(stream: impl BufRead, name: &str) -> Result<Input> {
    match rules::read_plan(&mut Reader::new(stream)) {
        Ok(Loaded::Input(input)) => Ok(*input),
        Ok(Loaded::Results(_)) => Err(data(format!(
            "{name} is a results stream, not conditioned input"
        ))),
        Err(e) => Err(data(format!("reading {name}: {e}"))),
    }
}

/// The base of an input given to `save`: the version of `qplan
/// conditioned` its provenance names, which must be in this store and hold
/// the same data (65 otherwise, saying which).
pub fn base_of_input<'r>(store: &'r Store, bytes: &[u8], name: &str) -> Result<Base<'r>> {
    let input = read_input(bytes, name)?;
    let res = conditioned();
    let first = input
        .provenance
        .as_ref()
        .and_then(|p| p.first())
        .and_then(|l| Provenance::parse(l));
    let Some(first) = first.filter(|p| p.resource == res) else {
        return Err(data(format!(
            "{name} does not say which version of {res} it is (its {PROVENANCE} section \
             should start with {res}): a scenario is saved on a stored version; pipe it \
             from `qsnap get {res}`, or give no input to save on the store's current one"
        )));
    };
    let commit = history::resolve_rev(&store.repo, &first.commit).map_err(|_| {
        data(format!(
            "{name} comes from {res} {}, which is not in the store at {}",
            first.commit,
            store.dir.display()
        ))
    })?;
    let base = read_base(store, commit.id())?;
    let mut digest = DataDigest::default();
    let mut reader = Reader::new(bytes);
    while let Some(event) = reader.next_event()? {
        digest.event(&event);
    }
    let (blob, _) = history::version_at(&store.repo, &res, &At::Rev(base.commit.id().to_string()))?;
    let stored = check::digest_of_version(&store.repo, &Version::of(&base.commit), blob)?;
    if digest.finish().0 != stored {
        return Err(data(format!(
            "{name} is not the data of {res} {}, the version its provenance names: it was \
             changed after `qsnap get`; put it in the store first, then save the scenario",
            short(base.commit.id())
        )));
    }
    Ok(base)
}

/// A track's or skill's name; empty for none.
fn name_of(names: &crate::model::Names, i: Option<u32>) -> &str {
    i.map_or("", |i| names.name(i))
}

/// The scenario's input written as a conditioned v1 stream (no provenance,
/// ending with `=====end`), checked to plan exactly as the scenario does:
/// read back and computed, its results must be the scenario's (65 when
/// not, or when a name cannot be written in a TAB-separated column).
pub fn conditioned_stream(scenario: &Input) -> Result<Vec<u8>> {
    let bytes = write_conditioned(scenario)?;
    let mut back = read_input(&bytes[..], "the scenario's conditioned input")?;
    back.provenance.clone_from(&scenario.provenance);
    let (want, got) = compute_both(scenario.clone(), back)?;
    if results_bytes(&want)? != results_bytes(&got)? {
        return Err(data(
            "the scenario's input, written as a conditioned stream, would not plan the same \
             (a name or an amount does not survive the round trip): nothing saved",
        ));
    }
    Ok(bytes)
}

fn results_bytes(r: &Results) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    r.write_stream(&mut out)
        .map_err(|e| Error::io("writing results", e))?;
    Ok(out)
}

/// Writes an input as conditioned v1 streams (SPEC section 3), canonical:
/// ISO dates, shortest amounts, triage levels by name.
pub fn write_conditioned(s: &Input) -> Result<Vec<u8>> {
    let field = |what: &str, v: &str| -> Result<()> {
        if v.contains(['\t', '\n', '\r']) || fields::trim(v) != v {
            return Err(data(format!(
                "the scenario's {what} {v:?} cannot be written in a conditioned stream \
                 (a TAB, a line break, or blanks around it)"
            )));
        }
        Ok(())
    };
    let mut w = Writer::new(Vec::new());
    let io = |e| Error::io("writing the scenario's input", e);
    w.section(0, crate::model::PARAMS, [&s.params_line])
        .map_err(io)?;
    w.section(
        0,
        crate::model::HOLIDAYS,
        s.holidays.iter().map(|d| d.to_string()),
    )
    .map_err(io)?;
    w.header(0, crate::model::STAFF).map_err(io)?;
    let mut line = String::new();
    for p in &s.staff {
        let (track, skill) = (name_of(&s.tracks, p.track), name_of(&s.skills, p.skill));
        for (what, v) in [
            ("person id", p.id.as_str()),
            ("person name", &p.name),
            ("team", &p.team),
            ("track", track),
            ("skill", skill),
        ] {
            field(what, v)?;
        }
        line.clear();
        for v in [&p.id, &p.name, &p.team, track, skill] {
            line.push_str(v);
            line.push('\t');
        }
        for (i, (from, to)) in p.vacation.iter().enumerate() {
            if i > 0 {
                line.push(':');
            }
            line.push_str(&from.to_string());
            if to != from {
                line.push_str("..");
                line.push_str(&to.to_string());
            }
        }
        w.line(0, line.as_bytes()).map_err(io)?;
    }
    w.header(0, crate::model::WORK).map_err(io)?;
    for item in &s.work {
        let (id, name) = (s.arena.str(item.id), s.arena.str(item.name));
        let track = name_of(&s.tracks, item.track);
        field("item id", id)?;
        field("item name", name)?;
        field("track", track)?;
        line.clear();
        line.push_str(id);
        line.push('\t');
        line.push_str(&item.rank.to_string());
        line.push('\t');
        line.push_str(name);
        line.push('\t');
        for (i, &(k, a)) in item
            .estimate
            .map_or(&[][..], |e| s.arena.amounts(e))
            .iter()
            .enumerate()
        {
            let skill = s.skills.name(k);
            field("skill", skill)?;
            if skill.contains([',', ':']) {
                return Err(data(format!(
                    "the scenario's skill {skill:?} cannot be written in an estimate \
                     (it holds ',' or ':')"
                )));
            }
            if i > 0 {
                line.push(',');
            }
            line.push_str(skill);
            line.push(':');
            fields::push_num(&mut line, a);
        }
        line.push('\t');
        line.push_str(item.triage.as_str());
        line.push('\t');
        line.push_str(track);
        w.line(0, line.as_bytes()).map_err(io)?;
    }
    w.end().map_err(io)?;
    Ok(w.into_inner())
}

/// A saved scenario, as read back from the store.
pub struct Scenario {
    pub name: String,
    /// The scenario's commit.
    pub commit: Oid,
    /// The commit that put the `qplan conditioned` it is based on.
    pub base: Oid,
    /// When it was saved (seconds since the epoch).
    pub time: i64,
    /// The change script, canonical, one change a line.
    pub script: String,
    pub changes: Vec<Located>,
}

/// The names of the scenarios in the store, for messages.
fn names(store: &Store) -> Result<Vec<String>> {
    Ok(branch::list(&store.repo, REFS)?
        .into_iter()
        .map(|(n, _)| n)
        .collect())
}

/// The error of a name no scenario has.
fn unknown(store: &Store, name: &str) -> Error {
    let known = names(store).unwrap_or_default();
    let hint = match known.len() {
        0 => "the store has none (`qwhatif save NAME CHANGES` makes one)".to_owned(),
        1..=5 => format!("the store has {}", known.join(", ")),
        _ => lang::closest_text(name, known.iter().map(String::as_str)),
    };
    data(format!("no scenario is called {name:?}; {hint}"))
}

/// Reads scenario `name` (unknown: 65, with the closest names).
pub fn load(store: &Store, name: &str) -> Result<Scenario> {
    check_name(name)?;
    let oid = branch::find(&store.repo, &refname(name))?.ok_or_else(|| unknown(store, name))?;
    let commit = objects::commit(&store.repo, oid)?;
    let broken = |why: &str| {
        data(format!(
            "scenario {name} ({}) is not one qwhatif saved: {why}",
            short(oid)
        ))
    };
    let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
    let base = git2::message_trailers_strs(&message)
        .ok()
        .and_then(|t| {
            t.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(BASE_TRAILER))
                .and_then(|(_, v)| Oid::from_str(v.trim()).ok())
        })
        .ok_or_else(|| broken(&format!("no {BASE_TRAILER} trailer")))?;
    let entry = objects::tree(&store.repo, &commit)?
        .get_path(std::path::Path::new(SCRIPT_PATH))
        .map_err(|_| broken(&format!("no {SCRIPT_PATH}")))?;
    let blob = objects::blob(&store.repo, entry.id())?;
    let script = String::from_utf8(blob.content().to_vec())
        .map_err(|_| broken("its script is not UTF-8"))?;
    let changes = lang::parse(&format!("scenario {name}"), &script)?;
    Ok(Scenario {
        name: name.to_owned(),
        commit: oid,
        base,
        time: commit.time().seconds(),
        script,
        changes,
    })
}

/// What `save` did.
pub struct Saved {
    pub commit: Oid,
    pub base: Oid,
    /// The scenario of that name it replaced (with `force`).
    pub replaced: Option<Oid>,
}

/// Saves `changes` on `base` as scenario `name`. Everything is checked and
/// computed before the store's lock is taken; nothing is written on a
/// broken script (65) or a name in use without `force` (65).
pub fn save(
    store: &Store,
    name: &str,
    base: Base<'_>,
    changes: &[Located],
    force: bool,
    wait: Duration,
) -> Result<Saved> {
    check_name(name)?;
    if changes.is_empty() {
        return Err(Error::Usage(format!(
            "no changes to save as scenario {name}: give CHANGES or -s SCRIPT"
        )));
    }
    let scenario = apply_changes(&base.input, changes)?;
    let stream = conditioned_stream(&scenario)?;
    let script = lang::script_text(changes.iter().map(|c| &c.change));
    let res = conditioned();
    let base_id = base.commit.id();
    let first = script.lines().next().unwrap_or("");
    let mut message = format!("whatif {name}: {first}\n\n{script}\n");
    message.push_str(&format!("{}: {res}\n", history::RESOURCE_TRAILER));
    message.push_str(&format!(
        "{}: {res} {base_id}\n",
        history::PROVENANCE_TRAILER
    ));
    for p in Version::of(&base.commit).provenance {
        message.push_str(&format!(
            "{}: {} {}\n",
            history::PROVENANCE_TRAILER,
            p.resource,
            p.commit
        ));
    }
    message.push_str(&format!(
        "{SCENARIO_TRAILER}: {name}\n{BASE_TRAILER}: {base_id}\n"
    ));
    let lock = store.lock(wait)?;
    let refname = refname(name);
    let existing = branch::find(&store.repo, &refname)?;
    if let (Some(old), false) = (existing, force) {
        let when = objects::commit(&store.repo, old)
            .map(|c| show_time(c.time().seconds()))
            .unwrap_or_default();
        return Err(data(format!(
            "scenario {name} exists (saved {when}): give --force to replace it, \
             or `qwhatif drop {name}` first"
        )));
    }
    let commit = branch::commit(
        store,
        &lock,
        &refname,
        &base.commit,
        &[
            (res.path().as_str(), &stream[..]),
            (SCRIPT_PATH, script.as_bytes()),
        ],
        &message,
        existing,
        wait,
    )?;
    Ok(Saved {
        commit,
        base: base_id,
        replaced: existing,
    })
}

/// A line of `list`.
pub struct Entry {
    pub name: String,
    /// The scenario as read, or why it could not be (a ref under
    /// [`REFS`] made by hand, a damaged object): listed all the same, so
    /// that one bad ref does not hide the others.
    pub read: std::result::Result<Listed, String>,
}

/// What `list` says of a scenario it could read.
pub struct Listed {
    pub base: Oid,
    pub time: i64,
    /// Whether the base is still main's current `qplan conditioned`.
    pub current: bool,
    pub first: String,
    /// How many changes the script has.
    pub changes: usize,
}

/// Every scenario, by name.
pub fn list(store: &Store) -> Result<Vec<Entry>> {
    let head = match store.main_commit()? {
        Some(main) => history::last_put(&store.repo, main.id(), &conditioned())?.map(|c| c.id()),
        None => None,
    };
    let mut entries = Vec::new();
    for name in names(store)? {
        let read = load(store, &name)
            .map(|s| Listed {
                current: head == Some(s.base),
                first: s.script.lines().next().unwrap_or("").to_owned(),
                changes: s.changes.len(),
                base: s.base,
                time: s.time,
            })
            .map_err(|e| e.to_string());
        entries.push(Entry { name, read });
    }
    Ok(entries)
}

/// Writes `list` as a table: name, base, saved, whether the base is
/// current, the first change.
pub fn write_list(entries: &[Entry], out: &mut dyn Write) -> std::io::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let width = entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(
        out,
        "{:<width$}  {:<12}  {:<20}  {:<7}  SCRIPT",
        "NAME", "BASE", "SAVED", "BASE IS"
    )?;
    for e in entries {
        let Ok(s) = &e.read else {
            let why = e.read.as_ref().err().map_or("", String::as_str);
            writeln!(
                out,
                "{:<width$}  {:<12}  {:<20}  {:<7}  (unreadable: {why})",
                e.name, "?", "?", "?"
            )?;
            continue;
        };
        let more = match s.changes {
            0 | 1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        writeln!(
            out,
            "{:<width$}  {:<12}  {:<20}  {:<7}  {}{more}",
            e.name,
            short(s.base),
            show_time(s.time),
            if s.current { "current" } else { "old" },
            s.first
        )?;
    }
    Ok(())
}

/// Re-runs scenario `name` on its base, or with `rebase` on main's current
/// `qplan conditioned`, as a plain `qwhatif` would.
pub fn show(store: &Store, name: &str, rebase: bool) -> Result<WhatIf> {
    let s = load(store, name)?;
    let at = if rebase {
        current_base(store)?.id()
    } else {
        s.base
    };
    let base = read_base(store, at)?;
    super::run(base.input, s.changes)
}

/// Removes scenario `name`; returns the commit it pointed at.
pub fn drop(store: &Store, name: &str, wait: Duration) -> Result<Oid> {
    check_name(name)?;
    let lock = store.lock(wait)?;
    let refname = refname(name);
    let old = branch::find(&store.repo, &refname)?.ok_or_else(|| unknown(store, name))?;
    branch::remove(store, &lock, &refname, old)?;
    Ok(old)
}

/// What `apply` did.
pub struct Applied {
    pub put: Put,
    /// The version of `qplan conditioned` the scenario was applied on.
    pub base: Oid,
}

/// Puts scenario `name`'s conditioned input as main's new `qplan
/// conditioned`. Refused (65) when main's version is no longer the
/// scenario's base, unless `rebase`, which re-runs the script on it.
pub fn apply(store: &Store, name: &str, rebase: bool, wait: Duration) -> Result<Applied> {
    let s = load(store, name)?;
    let res = conditioned();
    let head = current_base(store)?.id();
    let refuse = |now: Oid| {
        data(format!(
            "scenario {name} is based on {res} {}, but main's {res} is now {}: \
             see what it does there with `qwhatif show {name} --rebase`, save it again \
             (`qwhatif save {name} --force …`) and apply that, or apply it there at once \
             with `qwhatif apply {name} --rebase`",
            short(s.base),
            short(now)
        ))
    };
    if head != s.base && !rebase {
        return Err(refuse(head));
    }
    let base = read_base(store, head)?;
    let scenario = apply_changes(&base.input, &s.changes)?;
    let stream = conditioned_stream(&scenario)?;
    let mut input = Writer::new(Vec::new());
    let io = |e| Error::io("writing the scenario's input", e);
    input.header(0, PROVENANCE).map_err(io)?;
    for line in base.input.provenance.iter().flatten() {
        input.line(0, line).map_err(io)?;
    }
    let mut input = input.into_inner();
    input.extend_from_slice(&stream);
    let mut trailers = vec![
        (SCENARIO_TRAILER.to_owned(), name.to_owned()),
        (BASE_TRAILER.to_owned(), head.to_string()),
    ];
    trailers.extend(
        s.changes
            .iter()
            .map(|c| (CHANGE_TRAILER.to_owned(), c.change.to_string())),
    );
    let first = s.script.lines().next().unwrap_or("");
    let message = format!("qwhatif apply {name}: {first}");
    // Checked again under the store's lock: main may have moved since.
    let guard = |head_now: Option<&Commit>| -> Result<()> {
        let now = match head_now {
            Some(h) => history::last_put(&store.repo, h.id(), &res)?.map(|c| c.id()),
            None => None,
        };
        match now {
            Some(now) if now == head => Ok(()),
            Some(now) => Err(refuse(now)),
            None => Err(data(format!("main no longer has {res}"))),
        }
    };
    let put = store.put_guarded(
        &res,
        &input[..],
        true,
        Some(&message),
        &trailers,
        &guard,
        wait,
    )?;
    Ok(Applied { put, base: head })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quarter() -> Input {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/quarter/conditioned.txt"
        );
        let bytes = std::fs::read(path).unwrap();
        read_input(&bytes[..], "quarter").unwrap()
    }

    #[test]
    fn a_written_input_reads_back_to_the_same_plan() {
        let input = quarter();
        let bytes = write_conditioned(&input).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Canonical: ISO dates, amounts in weeks, the empty triage as 3.
        assert!(text.contains("\t2013-12-25\n"), "{text}");
        assert!(text.contains("\tMOB-102\t2\tOffline sync\tWeb:0.5,Apps:2,QA:0.5\t3\tBass\n"));
        assert!(text.contains("\tMOB-108\t8\tOnboarding flow\tWeb:3,Native:13\t3\tBass\n"));
        assert!(text.ends_with("=====end\n"));
        // Written again from what it reads as: the same bytes.
        assert_eq!(
            write_conditioned(&read_input(&bytes[..], "x").unwrap()).unwrap(),
            bytes
        );
        assert_eq!(conditioned_stream(&input).unwrap(), bytes);
    }

    #[test]
    fn a_name_a_column_cannot_hold_is_refused() {
        for bad in ["Ana\tLima", "Ana\nLima", " Ana", "Ana "] {
            let mut input = quarter();
            input.staff[0].name = bad.to_owned();
            let e = write_conditioned(&input).unwrap_err();
            assert_eq!(e.exit_code(), 65, "{bad:?}");
            assert!(e.to_string().contains("person name"), "{e}");
        }
    }

    proptest::proptest! {
        /// Any name is either refused (65), by the writer or by the reader
        /// it is read back with (as [`conditioned_stream`] does), or read
        /// back as itself: a scenario never stores what it does not plan.
        #[test]
        fn any_name_is_refused_or_read_back_as_itself(
            person in "\\PC{0,12}|[ \t\r\na-z:,=]{0,6}",
            item in "\\PC{0,12}|[ \t\r\na-z:,=]{0,6}",
        ) {
            let mut input = quarter();
            input.staff[1].name.clone_from(&person);
            input.work[2].name = input.arena.push_str(&item);
            match write_conditioned(&input) {
                Ok(bytes) => match read_input(&bytes[..], "written") {
                    Ok(back) => {
                        proptest::prop_assert_eq!(&back.staff[1].name, &person);
                        proptest::prop_assert_eq!(back.arena.str(back.work[2].name), item.as_str());
                    }
                    Err(e) => proptest::prop_assert_eq!(e.exit_code(), 65),
                },
                Err(e) => proptest::prop_assert_eq!(e.exit_code(), 65),
            }
        }
    }

    #[test]
    fn scenario_names_follow_the_resource_rule() {
        for good in ["hire", "q4-cut_2", "0", &"a".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
        for bad in ["", "Hire", "a/b", "..", "-x", "a.b", &"a".repeat(65)] {
            assert_eq!(check_name(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }
}
