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
