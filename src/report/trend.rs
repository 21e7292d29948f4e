//! The history of `qplan results` in a snapshot store, summed up for the
//! HTML report's trend (the burndown): per stored version and per track,
//! supply and cumulative demand per skill and the items above the line.
//! Read from the store (read only), never recomputed; and the provenance of
//! the results shown, with the commits' times when the store has them.

use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::model::Amount;
use crate::plan::results::Results;
use crate::rules::{self, Loaded};
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
    /// A replay (`qsnap replay`) drawn beside these versions: its name and
    /// its own trend (`qplan -f html --replay NAME`).
    pub replay: Option<(String, Box<Trend>)>,
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
    let (mut results, _) = read_blob(store, blob, &res)?;
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

/// A stored results stream read back, and its size in bytes.
fn read_blob(store: &Store, blob: git2::Oid, res: &Resource) -> Result<(Results, usize)> {
    let blob = objects::blob(&store.repo, blob)?;
    let size = blob.content().len();
    match rules::read_plan(&mut Reader::new(blob.content()))? {
        Loaded::Results(sections) => Ok((crate::report::stored::read(sections)?, size)),
        Loaded::Input(_) => Err(Error::data(
            Location::default(),
            format!("the stored {res} is a plan's input, not its results"),
        )),
    }
}

/// How many bytes of stored results the trend reads at most (beyond its
/// first two versions): 52 versions of a 30,000-item plan (4 MB each) fit;
/// of a million-item plan (155 MB each), two.
pub const MAX_BYTES: usize = 256 << 20;

/// A stored version to read: its commit and the results' blob (none when
/// the commit removed them).
struct Stored {
    version: Version,
    blob: Option<git2::Oid>,
}

/// The newest versions of the results in the store, summed up, oldest
/// first: at most [`MAX_VERSIONS`], and no more than [`MAX_BYTES`] of them
/// once two are read. A version that does not read as results is skipped
/// and said so (an old version's damage must not hide the rest). With
/// `keep_newest`, the newest version's results are returned whole too
/// (they are read anyway), with their provenance as `qsnap get` writes it.
///
/// Versions are read two at a time, on two threads with a handle on the
/// store each: reading is checking, inflating and parsing whole results.
pub fn read_keeping(store: &Store, keep_newest: bool) -> Result<(Trend, Option<Results>)> {
    read_within(store, keep_newest, MAX_VERSIONS, MAX_BYTES)
}

/// The trend alone ([`read_keeping`] without the newest results).
pub fn read(store: &Store) -> Result<Trend> {
    Ok(read_within(store, false, MAX_VERSIONS, MAX_BYTES)?.0)
}

/// The trend of a replay (`qsnap replay ... results --name NAME`): the
/// newest versions of `qplan results` on its side branch, within the same
/// bounds as main's. A replay of another resource is refused (65).
pub fn read_replay(store: &Store, name: &str) -> Result<Trend> {
    let replay = crate::snap::replay::open(store, name)?;
    replay.check_resource(&results_resource())?;
    Ok(read_from(store, Some(replay.head), false, MAX_VERSIONS, MAX_BYTES)?.0)
}

/// [`read`] with other bounds.
fn read_within(
    store: &Store,
    keep_newest: bool,
    max_versions: usize,
    max_bytes: usize,
) -> Result<(Trend, Option<Results>)> {
    read_from(store, None, keep_newest, max_versions, max_bytes)
}

/// [`read_within`] from the head of a side branch (`Some`) or main.
fn read_from(
    store: &Store,
    head: Option<git2::Oid>,
    keep_newest: bool,
    max_versions: usize,
    max_bytes: usize,
) -> Result<(Trend, Option<Results>)> {
    let res = results_resource();
    let mut trend = Trend::default();
    let main = match head {
        Some(h) => Some(objects::commit(&store.repo, h)?),
        None => store.main_commit()?,
    };
    let Some(main) = main else {
        // An empty store: with keep_newest, the error of asking it for
        // the newest results.
        let kept = if keep_newest {
            Some(newest(store)?)
        } else {
            None
        };
        return Ok((trend, kept));
    };
    let path = res.path();
    let mut todo = Vec::new();
    for oid in history::first_parents(&store.repo, main.id())? {
        let c = objects::commit(&store.repo, oid?)?;
        let v = Version::of(&c);
        if !history::touches(&store.repo, &c, &v, &res)? {
            continue;
        }
        trend.stored += 1;
        if todo.len() < max_versions {
            let blob = objects::tree(&store.repo, &c)?
                .get_path(Path::new(&path))
                .ok()
                .map(|e| e.id());
            todo.push(Stored { version: v, blob });
        }
    }
    let mut other = Store::open(&store.dir)?;
    let mut kept = None;
    let mut bytes = 0usize;
    for pair in todo.chunks(2) {
        if trend.versions.len() + trend.skipped.len() >= 2 && bytes > max_bytes {
            break;
        }
        let (first, second) = std::thread::scope(|scope| {
            let second = pair.get(1).map(|s| {
                let (other, res) = (&mut other, &res);
                scope.spawn(move || read_stored(other, s, res))
            });
            let first = read_stored(store, &pair[0], &res);
            let second = second.map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            (first, second)
        });
        for (s, read) in pair.iter().zip(std::iter::once(first).chain(second)) {
            match read {
                Ok((r, size)) => {
                    bytes = bytes.saturating_add(size);
                    trend.versions.push(TrendVersion {
                        commit: s.version.commit.to_string(),
                        time: s.version.time,
                        message: s.version.summary.clone(),
                        tracks: summarise(&r),
                    });
                    if keep_newest
                        && kept.is_none()
                        && trend.versions.len() == 1
                        && trend.skipped.is_empty()
                    {
                        kept = Some((r, s));
                    }
                }
                Err(e) => trend
                    .skipped
                    .push((s.version.commit.to_string(), e.to_string())),
            }
        }
    }
    trend.versions.reverse();
    trend.skipped.reverse();
    let kept = match (keep_newest, kept) {
        (false, _) => None,
        (true, Some((mut r, s))) => {
            let mut lines = vec![format!("{res}\t{}", s.version.commit).into_bytes()];
            lines.extend(s.version.provenance.iter().map(|p| p.line().into_bytes()));
            r.provenance = Some(lines);
            Some(r)
        }
        // The newest version did not read: say why, as reading it alone
        // would.
        (true, None) => Some(newest(store)?),
    };
    Ok((trend, kept))
}

/// A stored version's results and their size in bytes.
fn read_stored(store: &Store, s: &Stored, res: &Resource) -> Result<(Results, usize)> {
    let Some(blob) = s.blob else {
        return Err(Error::data(
            Location::default(),
            format!("{res} was removed by this commit"),
        ));
    };
    read_blob(store, blob, res)
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plan::compute;

    /// A store holding `n` versions of the results of a small plan, the
    /// i-th (from 1) with first item named `Login i`, and a conditioned
    /// version between them; returns the store and the results commits.
    fn store_of(n: usize) -> (tempfile::TempDir, Store, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(&dir.path().join("store")).unwrap();
        let mut commits = Vec::new();
        let other = Resource::parse("qplan conditioned").unwrap();
        for i in 1..=n {
            let plan = format!(
                "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n\
                 =====qplan staff v1\n\tp\tP\tM\tT\tApps\t\n=====qplan work v1\n\
                 \tW1\t1\tLogin {i}\tApps:1\t1\tT\n\tW2\t2\tBig\tApps:{i}\t2\tT\n=====end\n"
            );
            let Ok(Some(Loaded::Input(input))) =
                crate::rules::read(&mut Reader::new(plan.as_bytes()), &mut crate::rules::Stop)
            else {
                panic!("a plan");
            };
            let mut out = Vec::new();
            compute(*input).unwrap().write_stream(&mut out).unwrap();
            let put = |res: &Resource, data: &[u8], m: String| match store
                .put(res, data, true, Some(&m), Duration::from_secs(5))
                .unwrap()
            {
                crate::snap::Put::Committed(c) => c.to_string(),
                other => panic!("{other:?}"),
            };
            let c = put(&other, plan.as_bytes(), format!("c{i}"));
            let mut stream =
                format!("=====qsnap provenance v1\n\tqplan conditioned\t{c}\n").into_bytes();
            stream.extend(out);
            commits.push(put(&results_resource(), &stream, format!("v{i}")));
        }
        (dir, store, commits)
    }

    #[test]
    fn the_trend_reads_the_newest_versions_oldest_first_within_its_bounds() {
        let (_dir, store, commits) = store_of(5);
        let (trend, newest) = read_within(&store, true, 3, usize::MAX).unwrap();
        assert_eq!(trend.stored, 5);
        let messages: Vec<&str> = trend.versions.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(messages, ["v3", "v4", "v5"]);
        assert_eq!(trend.versions[2].commit, commits[4]);
        // Version i: one person, 10 workdays, 2 person-weeks of Apps;
        // demand 1 + i at triage 2 and beyond; W2 is above the line while
        // 1 + i <= 2.
        let all = &trend.versions[0].tracks[0];
        assert_eq!(all.track, "All");
        assert_eq!(all.supply, [Amount::weeks(2).unwrap()]);
        assert_eq!(all.demand[4], [Amount::weeks(4).unwrap()]);
        assert_eq!((all.items, all.above), ([1, 0, 1, 0, 0], [1, 0, 0, 0, 0]));
        // The newest results whole, with their provenance.
        let newest = newest.unwrap();
        assert_eq!(newest.name(&newest.items[0]), "Login 5");
        let lines: Vec<String> = newest
            .provenance
            .unwrap()
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert_eq!(lines[0], format!("qplan results\t{}", commits[4]));
        assert!(lines[1].starts_with("qplan conditioned\t"));
        // A byte budget already spent: the two newest only, read as one
        // pair.
        let (trend, none) = read_within(&store, false, 52, 1).unwrap();
        assert!(none.is_none());
        let messages: Vec<&str> = trend.versions.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(messages, ["v4", "v5"]);
    }
}
