//! Reading the store's history: commit trailers, revisions and points in
//! time, the version of a resource at a revision, and its provenance.
//!
//! Every put is one commit that changes one resource and says which in a
//! `Qsnap-Resource` trailer, so walking main's first-parent chain and reading
//! trailers answers "when did this resource change" without comparing trees.
//! Commits made by hand (plain git, no trailer) are still understood: for
//! those the tree entry is compared with the parent's.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use git2::{Commit, Oid, Repository};

use super::name::Resource;
use super::newest;
use super::objects::{self, git};
use crate::error::{Error, Location, Result};

pub use super::trailer::{
    commit_message, commit_message_with, short, Provenance, Version, PROVENANCE_TRAILER,
    RESOURCE_TRAILER,
};

/// A time as an ISO date or date-time. A date alone means the end of that
/// day (UTC): `--at-time 2026-11-24` is the version that day ended with. A
/// date-time without an offset is UTC. `@SECONDS` is a Unix time.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(secs) = s.strip_prefix('@') {
        return DateTime::from_timestamp(secs.parse().ok()?, 0);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let end = day.and_hms_opt(23, 59, 59)?;
    Some(Utc.from_utc_datetime(&end))
}

/// A commit time as shown to users: RFC 3339, UTC.
pub fn show_time(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| secs.to_string())
}

/// Where to look: main, a revision, or the last commit at or before a time.
#[derive(Debug, Clone)]
pub enum At {
    Main,
    Rev(String),
    Time(DateTime<Utc>),
}

fn data(message: String) -> Error {
    Error::data(Location::default(), message)
}

/// The commit a revision names.
pub fn resolve<'r>(repo: &'r Repository, at: &At) -> Result<Commit<'r>> {
    let main = objects::main_commit(repo)?;
    let Some(main) = main else {
        return Err(data(format!(
            "the store at {} is empty: nothing has been put yet",
            repo.path().display()
        )));
    };
    match at {
        At::Main => Ok(main),
        At::Rev(rev) => resolve_rev(repo, rev),
        At::Time(t) => {
            let limit = t.timestamp();
            let mut first = main.time().seconds();
            for oid in first_parents(repo, main.id())? {
                let c = objects::commit(repo, oid?)?;
                if c.time().seconds() <= limit {
                    return Ok(c);
                }
                first = c.time().seconds();
            }
            Err(data(format!(
                "no version at or before {}: the store begins at {}",
                show_time(limit),
                show_time(first)
            )))
        }
    }
}

/// A revision as git writes it, resolved without handing libgit2 an object
/// that was not checked first (see [`objects`]): a ref or tag name, `HEAD`,
/// a full or short commit id, each followed by any `~N`, `^` or `^1`
/// (first parents). Anything else (`main@{2}`, `:/text`) goes to libgit2's
/// own parser.
pub fn resolve_rev<'r>(repo: &'r Repository, rev: &str) -> Result<Commit<'r>> {
    let unknown = || data(format!("unknown revision {rev:?}"));
    let base_end = rev.find(['~', '^']).unwrap_or(rev.len());
    let (base, mut steps) = rev.split_at(base_end);
    let mut hops: Vec<u64> = Vec::new();
    let mut plain = !base.is_empty();
    while plain && !steps.is_empty() {
        let (op, rest) = steps.split_at(1);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (n, rest) = rest.split_at(digits);
        let n: Option<u64> = if n.is_empty() {
            Some(1)
        } else {
            n.parse().ok()
        };
        match (op, n) {
            ("~", Some(n)) => hops.push(n),
            // `^` and `^1` are the first parent; `^0` the commit itself.
            ("^", Some(n)) if n <= 1 => hops.push(n),
            _ => plain = false,
        }
        steps = rest;
    }
    if !plain {
        return repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| unknown());
    }
    let mut commit = objects::commit(repo, base_oid(repo, base, unknown)?)?;
    for n in hops {
        for _ in 0..n {
            commit = objects::parent(repo, &commit)?.ok_or_else(|| {
                data(format!(
                    "unknown revision {rev:?}: the history is shorter than that"
                ))
            })?;
        }
    }
    Ok(commit)
}

/// The commit a name or an id stands for, found without reading any object
/// but the tag objects on the way (checked).
fn base_oid(repo: &Repository, base: &str, unknown: impl Fn() -> Error) -> Result<Oid> {
    if let Ok(r) = repo.resolve_reference_from_short_name(base) {
        let mut oid = r
            .resolve()
            .ok()
            .and_then(|r| r.target())
            .ok_or_else(&unknown)?;
        // An annotated tag (made with git): peel it, checked.
        for _ in 0..16 {
            objects::check(repo, oid)?;
            match repo.find_tag(oid) {
                Ok(tag) => oid = tag.target_id(),
                Err(_) => return Ok(oid),
            }
        }
        return Err(unknown());
    }
    let hex = base.len() >= 4 && base.len() <= 40 && base.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return Err(unknown());
    }
    let odb = repo.odb().map_err(git("reading the store"))?;
    let short = Oid::from_str(base).map_err(|_| unknown())?;
    match odb.exists_prefix(short, base.len()) {
        Ok(oid) => Ok(oid),
        Err(e) if e.code() == git2::ErrorCode::Ambiguous => Err(data(format!(
            "revision {base:?} is ambiguous: several objects start with it; give more digits"
        ))),
        Err(_) => Err(unknown()),
    }
}

/// The first-parent chain from `from`, newest first, each commit checked
/// before libgit2 parses it.
pub fn first_parents(repo: &Repository, from: Oid) -> Result<FirstParents<'_>> {
    Ok(FirstParents {
        repo,
        next: Some(from),
    })
}

pub struct FirstParents<'r> {
    repo: &'r Repository,
    next: Option<Oid>,
}

impl Iterator for FirstParents<'_> {
    type Item = Result<Oid>;

    fn next(&mut self) -> Option<Result<Oid>> {
        let oid = self.next.take()?;
        match objects::commit(self.repo, oid) {
            Ok(c) => {
                self.next = c.parent_ids().next();
                Some(Ok(oid))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// Whether a commit changed `res`: its trailer says so, or (for a commit
/// made by hand) the resource's blob differs from the first parent's.
pub fn touches(
    repo: &Repository,
    commit: &Commit,
    version: &Version,
    res: &Resource,
) -> Result<bool> {
    if version.resource.is_some() {
        return Ok(version.resource.as_ref() == Some(res));
    }
    let path = res.path();
    let entry = |c: &Commit| -> Result<Option<Oid>> {
        let tree = objects::tree(repo, c)?;
        Ok(tree.get_path(Path::new(&path)).ok().map(|e| e.id()))
    };
    let mine = entry(commit)?;
    let theirs = match objects::parent(repo, commit)? {
        Some(p) => entry(&p)?,
        None => None,
    };
    Ok(mine.is_some() && mine != theirs)
}

/// The commit that put the version of `res` current at `from`: a walk
/// back from `from` to the first commit that touches it, or to the commit
/// the store's [`newest`] file is for, which knows.
pub fn last_put<'r>(repo: &'r Repository, from: Oid, res: &Resource) -> Result<Option<Commit<'r>>> {
    let found = newest_puts(repo, from, Some(std::slice::from_ref(res)))?;
    match found.get(res) {
        Some(oid) => objects::commit(repo, *oid).map(Some),
        None => Ok(None),
    }
}

/// Every resource in `from`'s tree with the commit that put its current
/// version, sorted by resource: the heads the bus announces and qwatch
/// compares with what it has processed. One first-parent walk, stopped as
/// soon as every resource is found or at the commit the store's
/// [`newest`] file is for.
pub fn heads(repo: &Repository, from: Oid) -> Result<Vec<(Resource, Oid)>> {
    let tip = objects::commit(repo, from)?;
    let wanted = resources(repo, &tip)?;
    let mut found = newest_puts(repo, from, Some(&wanted))?;
    // A resource no commit claims (a hand-made root) is headed by the tip.
    Ok(wanted
        .into_iter()
        .map(|res| {
            let oid = found.remove(&res).unwrap_or(from);
            (res, oid)
        })
        .collect())
}

/// The commit that put the version current at `from` of each resource in
/// `wanted` (of every resource ever put, when `None`): a first-parent walk
/// from `from`, stopped when every wanted resource is found, or at the
/// commit the store's [`newest`] file is for, whose answers fill in the
/// rest. A resource no commit on the way touches is left out.
pub fn newest_puts(
    repo: &Repository,
    from: Oid,
    wanted: Option<&[Resource]>,
) -> Result<BTreeMap<Resource, Oid>> {
    let known = newest::read(repo.path());
    let mut found: BTreeMap<Resource, Oid> = BTreeMap::new();
    let complete = |found: &BTreeMap<Resource, Oid>| {
        wanted.is_some_and(|w| w.iter().all(|r| found.contains_key(r)))
    };
    if complete(&found) {
        return Ok(found);
    }
    for oid in first_parents(repo, from)? {
        let oid = oid?;
        if let Some(known) = known.as_ref().filter(|k| k.tip == oid) {
            for (res, put) in &known.puts {
                let asked = wanted.is_none_or(|w| w.contains(res));
                if asked && !found.contains_key(res) {
                    found.insert(res.clone(), *put);
                }
            }
            return Ok(found);
        }
        let c = objects::commit(repo, oid)?;
        let version = Version::of(&c);
        let touched: Vec<Resource> = match &version.resource {
            Some(r) => vec![r.clone()],
            None => {
                let candidates = match wanted {
                    Some(w) => w.to_vec(),
                    None => resources(repo, &c)?,
                };
                let mut t = Vec::new();
                for r in candidates {
                    if touches(repo, &c, &version, &r)? {
                        t.push(r);
                    }
                }
                t
            }
        };
        for r in touched {
            if wanted.is_none_or(|w| w.contains(&r)) {
                found.entry(r).or_insert(oid);
            }
        }
        if complete(&found) {
            return Ok(found);
        }
    }
    Ok(found)
}

/// After a put made `commit` (a child of `parent`, or the first commit)
/// for `res`: the [`newest`] file for it, from the one for `parent`.
pub fn newest_after_put(
    repo: &Repository,
    parent: Option<Oid>,
    commit: Oid,
    res: &Resource,
) -> Result<newest::Newest> {
    let mut puts = match parent {
        Some(p) => newest_puts(repo, p, None)?,
        None => BTreeMap::new(),
    };
    puts.insert(res.clone(), commit);
    Ok(newest::Newest { tip: commit, puts })
}

/// Makes the store's [`newest`] file current for `main` after something
/// other than a put moved main there (`qsnap pull`, `verify --repair`):
/// a walk back to the file's tip, which is the pulled commits, or of the
/// whole history when main left the file's (a repair), once, here, rather
/// than in every reader until the next put. Called under the store's lock.
pub fn refresh_newest(repo: &Repository, main: Oid) -> Result<()> {
    let puts = newest_puts(repo, main, None)?;
    newest::write(repo.path(), &newest::Newest { tip: main, puts }).map_err(|e| {
        Error::io(
            format!("writing {}", repo.path().join(newest::FILE).display()),
            e,
        )
    })
}

/// The resources in a commit's tree, sorted.
pub fn resources(repo: &Repository, commit: &Commit) -> Result<Vec<Resource>> {
    let tree = objects::tree(repo, commit)?;
    let mut found = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if let Some(r) = entry
            .name()
            .ok()
            .and_then(|n| Resource::from_path(&format!("{dir}{n}")))
        {
            found.push(r);
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(git("reading a tree"))?;
    found.sort();
    Ok(found)
}

/// A resource's stored version at a revision: its blob and the commit that
/// put it. Distinct errors for a resource the store has never had and one
/// that came later than the revision.
pub fn version_at<'r>(repo: &'r Repository, res: &Resource, at: &At) -> Result<(Oid, Commit<'r>)> {
    let commit = resolve(repo, at)?;
    let entry = objects::tree(repo, &commit)?
        .get_path(Path::new(&res.path()))
        .ok();
    let Some(entry) = entry else {
        let main = resolve(repo, &At::Main)?;
        let known = resources(repo, &main)?;
        if known.contains(res) {
            return Err(data(format!(
                "{res} does not exist at revision {} ({}): its first version is later",
                short(commit.id()),
                show_time(commit.time().seconds())
            )));
        }
        let list: Vec<String> = known.iter().map(ToString::to_string).collect();
        return Err(data(format!(
            "unknown resource {res}: the store has {}",
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        )));
    };
    let put = last_put(repo, commit.id(), res)?.unwrap_or(commit);
    Ok((entry.id(), put))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn times_parse_as_documented() {
        let t = |s| parse_time(s).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2026-11-24").as_deref(),
            Some("2026-11-24T23:59:59+00:00")
        );
        assert_eq!(
            t("2026-11-24T10:00:00Z").as_deref(),
            Some("2026-11-24T10:00:00+00:00")
        );
        assert_eq!(
            t("2026-11-24T10:00:00+02:00").as_deref(),
            Some("2026-11-24T08:00:00+00:00")
        );
        assert_eq!(
            t("2026-11-24 10:00").as_deref(),
            Some("2026-11-24T10:00:00+00:00")
        );
        assert_eq!(t("@0").as_deref(), Some("1970-01-01T00:00:00+00:00"));
        assert_eq!(t("2026-13-01"), None);
        assert_eq!(t("yesterday"), None);
    }

    #[test]
    fn provenance_lines_and_trailers_round_trip() {
        let p = Provenance::parse(b"qplan raw\tABC123").unwrap();
        assert_eq!(p.commit, "abc123");
        assert_eq!(p.line(), "qplan raw\tabc123");
        let res = Resource::new("qplan", "results").unwrap();
        let msg = commit_message(&res, Some("weekly"), std::slice::from_ref(&p), "ab");
        assert!(msg.starts_with("weekly\n\nQsnap-Resource: qplan results\n"));
        assert_eq!(
            Provenance::parse_trailer("qplan raw abc123"),
            Some(p.clone())
        );
        for bad in [
            &b"qplan raw"[..],
            b"qplan\tabc",
            b"qplan raw\txyz",
            b"qplan raw\t",
        ] {
            assert_eq!(Provenance::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn extra_trailers_follow_the_stores_own_one_line_each() {
        let res = Resource::new("qplan", "conditioned").unwrap();
        let extra = [
            ("Qwhatif-Scenario".to_owned(), "hire".to_owned()),
            (
                "Qwhatif-Change".to_owned(),
                "end 2014-02-28\nsneaky".to_owned(),
            ),
            ("bad key".to_owned(), "dropped".to_owned()),
        ];
        let msg = commit_message_with(&res, Some("apply"), &[], "ab", &extra);
        assert_eq!(
            msg,
            "apply\n\nQsnap-Resource: qplan conditioned\nQsnap-Data-Sha256: ab\n\
             Qwhatif-Scenario: hire\nQwhatif-Change: end 2014-02-28\n"
        );
        let trailers = git2::message_trailers_strs(&msg).unwrap();
        let keys: Vec<&str> = trailers.iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "Qsnap-Resource",
                "Qsnap-Data-Sha256",
                "Qwhatif-Scenario",
                "Qwhatif-Change"
            ]
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,60}", b in proptest::collection::vec(any::<u8>(), 0..60)) {
            let _ = parse_time(&s);
            let _ = Provenance::parse(&b);
            let _ = Provenance::parse_trailer(&s);
        }
    }
}
