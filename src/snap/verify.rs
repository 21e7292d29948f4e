//! `qsnap verify`: is every version in the store readable, and is every
//! commit a provenance trailer names present?
//!
//! Every commit reachable from main, a tag or a checked ref is read (all parents, not only
//! the first), with its trees and every blob in them: checked for damage
//! first (see [`super::objects`]), then read whole by libgit2, which checks
//! each object's hash. Provenance commits from another store (a result
//! computed elsewhere) count as missing: verify answers for this store.

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository};

use super::check;
use super::history::{self, Version};
use super::lock::StoreLock;
use super::objects::{self, git};
use crate::error::{Error, Result};

/// What verify found: the versions and objects read, and the problems.
#[derive(Debug, Default)]
pub struct Report {
    pub commits: usize,
    pub objects: usize,
    pub problems: Vec<String>,
}

pub fn verify(repo: &Repository) -> Result<Report> {
    let mut report = Report::default();
    let mut start: Vec<(String, Oid)> = Vec::new();
    if let Ok(oid) = repo.refname_to_id(objects::MAIN) {
        start.push(("main".into(), oid));
    }
    let tags = repo.tag_names(None).map_err(git("listing the tags"))?;
    for name in tags.iter().flatten().flatten() {
        if let Ok(oid) = repo.refname_to_id(&format!("refs/tags/{name}")) {
            start.push((format!("tag {name}"), oid));
        }
    }
    // The last check of each resource (see `super::check`): a commit on
    // top of a version, read like the others.
    let checks = repo
        .references_glob(&format!("{}*", check::CHECKED_REFS))
        .map_err(git("listing the checked refs"))?;
    for r in checks.flatten() {
        if let (Some(name), Some(oid)) = (r.name().ok(), r.target()) {
            start.push((name.to_owned(), oid));
        }
    }
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut pending: Vec<(String, Oid)> = start;
    while let Some((from, oid)) = pending.pop() {
        if !seen.insert(oid) {
            continue;
        }
        report.objects += 1;
        if let Err(e) = objects::check(repo, oid) {
            report.problems.push(format!("{from}: {}", chain(&e)));
            continue;
        }
        let object = match repo.find_object(oid, None) {
            Ok(o) => o,
            Err(e) => {
                report.problems.push(format!(
                    "{from}: object {oid} is missing or unreadable: {}",
                    e.message()
                ));
                continue;
            }
        };
        match object.kind() {
            Some(ObjectType::Tag) => {
                if let Some(tag) = object.as_tag() {
                    pending.push((from, tag.target_id()));
                }
            }
            Some(ObjectType::Commit) => {
                let Some(commit) = object.as_commit() else {
                    continue;
                };
                report.commits += 1;
                let here = format!("commit {}", history::short(oid));
                pending.extend(commit.parent_ids().map(|p| (here.clone(), p)));
                pending.push((here.clone(), commit.tree_id()));
                for p in Version::of(commit).provenance {
                    if history::resolve_rev(repo, &p.commit).is_err() {
                        report.problems.push(format!(
                            "{here}: provenance commit {} ({}) is not in this store",
                            p.commit, p.resource
                        ));
                    }
                }
            }
            Some(ObjectType::Tree) => {
                if let Some(tree) = object.as_tree() {
                    let here = format!("{from}, tree {}", history::short(oid));
                    // A submodule entry names a commit of another repository.
                    pending.extend(
                        tree.iter()
                            .filter(|e| e.kind() != Some(ObjectType::Commit))
                            .map(|e| (here.clone(), e.id())),
                    );
                }
            }
            // A blob: find_object read it whole, and libgit2 checked its
            // hash on the way.
            _ => {}
        }
    }
    Ok(report)
}

/// An error with its causes, on one line.
fn chain(e: &Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}

/// Where `verify --repair` keeps the heads it moved back: nothing is
/// deleted, and verify does not walk them.
pub const BROKEN_REFS: &str = "refs/qsnap/broken/";

/// What `verify --repair` did to one head.
#[derive(Debug, Clone)]
pub struct Repaired {
    /// The head (`main`, or a ref under `refs/qsnap/`).
    pub head: String,
    /// The commit it pointed at, and what is wrong with it.
    pub broken: Oid,
    pub damage: String,
    /// The newest intact commit on its first-parent line, where the head
    /// points now; `None` when there is none (the head is left alone).
    pub moved_to: Option<Oid>,
    /// Where the broken commit is kept.
    pub kept_as: Option<String>,
    /// The versions no longer on the head, newest first: the puts to redo.
    pub lost: Vec<Version>,
}

/// What is wrong with a commit, if anything: its own object, or any tree
/// or blob of its tree, missing or unreadable.
pub fn damage(repo: &Repository, oid: Oid) -> Option<String> {
    let commit = match objects::commit(repo, oid) {
        Ok(c) => c,
        Err(e) => return Some(chain(&e)),
    };
    let odb = match repo.odb() {
        Ok(o) => o,
        Err(e) => return Some(e.message().to_owned()),
    };
    let mut pending = vec![(commit.tree_id(), true)];
    while let Some((oid, is_tree)) = pending.pop() {
        if let Err(e) = objects::check(repo, oid) {
            return Some(chain(&e));
        }
        if !is_tree {
            if !odb.exists(oid) {
                return Some(format!("blob {oid} is missing"));
            }
            continue;
        }
        match repo.find_tree(oid) {
            Ok(t) => pending.extend(t.iter().filter_map(|e| match e.kind() {
                Some(ObjectType::Tree) => Some((e.id(), true)),
                Some(ObjectType::Blob) => Some((e.id(), false)),
                _ => None,
            })),
            Err(_) => return Some(format!("tree {oid} is missing or unreadable")),
        }
    }
    None
}

/// `qsnap verify --repair`: every head (main and the refs under
/// `refs/qsnap/`, but [`BROKEN_REFS`]) whose commit is damaged is moved
/// back to the newest intact commit on its first-parent line, under the
/// store's lock; the broken commit is kept as
/// `refs/qsnap/broken/<head>/<time>`. Tags are names the user gave a
/// version: a broken one is reported by verify, never moved.
pub fn repair(repo: &Repository, _lock: &StoreLock, now: i64) -> Result<Vec<Repaired>> {
    let mut heads: Vec<(String, Oid)> = Vec::new();
    if let Ok(oid) = repo.refname_to_id(objects::MAIN) {
        heads.push((objects::MAIN.to_owned(), oid));
    }
    let side = repo
        .references_glob(&format!("{}*", super::branch::SIDE_REFS))
        .map_err(git("listing the refs"))?;
    for r in side.flatten() {
        if let (Some(name), Some(oid)) = (r.name().ok(), r.target()) {
            if !name.starts_with(BROKEN_REFS) {
                heads.push((name.to_owned(), oid));
            }
        }
    }
    let stamp = history::show_time(now).replace([':', '-'], "");
    let mut done = Vec::new();
    for (head, tip) in heads {
        let Some(why) = damage(repo, tip) else {
            continue;
        };
        let mut lost = Vec::new();
        let mut target = None;
        let mut next = Some(tip);
        while let Some(oid) = next {
            let Ok(c) = objects::commit(repo, oid) else {
                // A missing commit ends the line: nothing older is known.
                break;
            };
            if damage(repo, oid).is_none() {
                target = Some(oid);
                break;
            }
            lost.push(Version::of(&c));
            next = c.parent_ids().next();
        }
        let short_head = head.strip_prefix("refs/").unwrap_or(&head);
        let short_head = short_head.strip_prefix("heads/").unwrap_or(short_head);
        let mut repaired = Repaired {
            head: head.clone(),
            broken: tip,
            damage: why,
            moved_to: None,
            kept_as: None,
            lost,
        };
        if let Some(to) = target {
            // The broken commit object itself may be gone: then there is
            // nothing to keep, and libgit2 would refuse a ref to it.
            if repo.find_commit(tip).is_ok() {
                let kept = format!("{BROKEN_REFS}{short_head}/{stamp}");
                repo.reference(&kept, tip, true, "verify --repair: kept")
                    .map_err(git(format!("keeping {tip} as {kept}")))?;
                repaired.kept_as = Some(kept);
            }
            repo.reference_matching(&head, to, true, tip, "verify --repair")
                .map_err(git(format!("moving {head} back to {to}")))?;
            if head == objects::MAIN {
                // Main left the history the store's `newest` file is for:
                // one walk here instead of one in every reader until the
                // next put. Only a guide, so a failure changes nothing.
                let _ = history::refresh_newest(repo, to);
            }
            repaired.moved_to = Some(to);
        }
        done.push(repaired);
    }
    Ok(done)
}
