//! The history of `qplan results` in a snapshot store, summed up for the
//! HTML report's trend (the burndown): per stored version and per track,
//! supply and cumulative demand per skill and the items above the line.
//! Read from the store (read only), never recomputed; and the provenance of
//! the results shown, with the commits' times when the store has them.

use std::path::Path;

use super::amount::Amount;
use super::input::{self, Loaded};
use super::results::Results;
use crate::error::{Error, Location, Result};
use crate::snap::history::{self, show_time};
use crate::snap::{objects, Resource, Store, Version};
use crate::stream::Reader;

/// How many stored versions the trend reads at most: the newest ones. A
/// year of weekly plans; each version is a whole results stream to read,
/// so this bounds the report's time and size whatever the history.
pub const MAX_VERSIONS: usize = 52;

/// One track of one stored version, summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSummary {
    pub track: String,
    /// That version's skills, in its order.
    pub skills: Vec<String>,
    /// Per skill, person-weeks.
    pub supply: Vec<Amount>,
    /// Per triage level, cumulative demand per skill.
    pub demand: [Vec<Amount>; 5],
    /// Items per triage level (not cumulative): all of them, and those
    /// above the line (no shortage).
    pub items: [usize; 5],
    pub above: [usize; 5],
}

/// A stored version of the results.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendVersion {
    pub commit: String,
    /// Unix seconds.
    pub time: i64,
    pub message: String,
    pub tracks: Vec<TrackSummary>,
}

/// The stored versions read, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trend {
    pub versions: Vec<TrendVersion>,
    /// How many versions of the results the store holds in all.
    pub stored: usize,
    /// Versions that could not be read as results: commit and why.
    pub skipped: Vec<(String, String)>,
}

/// A line of the provenance table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenanceRow {
    pub resource: String,
    pub commit: String,
    /// The commit's time and message, when the store was given and has it.
    pub time: Option<String>,
    pub message: Option<String>,
}

/// The results' own summary per track.
pub fn summarise(r: &Results) -> Vec<TrackSummary> {
    (0..r.tracks.len())
        .map(|t| {
            let (mut items, mut above) = ([0; 5], [0; 5]);
            for row in &r.work[t] {
                let level = r.item(row).triage.index();
                items[level] += 1;
                if row.shortage.is_empty() {
                    above[level] += 1;
                }
            }
            TrackSummary {
                track: r.tracks[t].clone(),
                skills: r.skills.clone(),
                supply: r.manpower[t].clone(),
                demand: r.demand[t].clone(),
                items,
                above,
            }
        })
        .collect()
}

/// The resource the trend reads.
pub fn results_resource() -> Resource {
    Resource::parse("qplan results").expect("a valid resource name")
}

/// The newest stored version of the results, as a results stream read
/// back, with its provenance lines (itself first, as `qsnap get` writes
/// them).
pub fn newest(store: &Store) -> Result<Results> {
    let res = results_resource();
    let (blob, put) = history::version_at(&store.repo, &res, &history::At::Main)?;
    let mut results = read_blob(store, blob, &res)?;
    let mut lines = vec![format!("{res}\t{}", put.id()).into_bytes()];
    lines.extend(
        Version::of(&put)
            .provenance
            .iter()
            .map(|p| p.line().into_bytes()),
    );
    results.provenance = Some(lines);
    Ok(results)
}

fn read_blob(store: &Store, blob: git2::Oid, res: &Resource) -> Result<Results> {
    let blob = objects::blob(&store.repo, blob)?;
    match input::read(&mut Reader::new(blob.content()))? {
        Loaded::Results(sections) => Results::from_sections(sections),
        Loaded::Input(_) => Err(Error::data(
            Location::default(),
            format!("the stored {res} is a plan's input, not its results"),
        )),
    }
}

/// The newest [`MAX_VERSIONS`] versions of the results in the store,
/// summed up, oldest first. A version that does not read as results is
/// skipped and said so (an old version's damage must not hide the rest).
pub fn read(store: &Store) -> Result<Trend> {
    let res = results_resource();
    let mut trend = Trend::default();
    let Some(main) = store.main_commit()? else {
        return Ok(trend);
    };
    let path = res.path();
    for oid in history::first_parents(&store.repo, main.id())? {
        let c = objects::commit(&store.repo, oid?)?;
        let v = Version::of(&c);
        if !history::touches(&store.repo, &c, &v, &res)? {
            continue;
        }
        trend.stored += 1;
        if trend.versions.len() + trend.skipped.len() >= MAX_VERSIONS {
            continue;
        }
        let entry = objects::tree(&store.repo, &c)?
            .get_path(Path::new(&path))
            .map(|e| e.id());
        let read = match entry {
            Ok(blob) => read_blob(store, blob, &res),
            Err(_) => Err(Error::data(
                Location::default(),
                format!("{res} was removed by this commit"),
            )),
        };
        match read {
            Ok(r) => trend.versions.push(TrendVersion {
                commit: c.id().to_string(),
                time: v.time,
                message: v.summary,
                tracks: summarise(&r),
            }),
            Err(e) => trend.skipped.push((c.id().to_string(), e.to_string())),
        }
    }
    trend.versions.reverse();
    trend.skipped.reverse();
    Ok(trend)
}

/// The provenance lines of the results as table rows; with a store, each
/// commit's time and message (a commit the store lacks has none).
pub fn provenance_rows(r: &Results, store: Option<&Store>) -> Vec<ProvenanceRow> {
    r.provenance
        .iter()
        .flatten()
        .map(|l| {
            let l = String::from_utf8_lossy(l);
            let (resource, commit) = l.split_once('\t').unwrap_or((&l, ""));
            let found = store.and_then(|s| {
                let ok = !commit.is_empty()
                    && commit.len() <= 40
                    && commit.bytes().all(|b| b.is_ascii_hexdigit());
                ok.then(|| history::resolve_rev(&s.repo, commit).ok())?
            });
            ProvenanceRow {
                resource: resource.to_owned(),
                commit: commit.to_owned(),
                time: found.as_ref().map(|c| show_time(c.time().seconds())),
                message: found.as_ref().map(|c| Version::of(c).summary),
            }
        })
        .collect()
}
