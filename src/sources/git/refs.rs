//! Where history starts: every ref (branches, remote-tracking branches, tags,
//! notes, `refs/stash` and every older stash entry in its reflog, a detached
//! HEAD), peeled through annotated tags, whose
//! messages are kept for scanning; and revisions named on the command line.

use std::collections::HashSet;

use gix::ObjectId;
use gix::objs::{Kind, TagRef};
use gix::refs::TargetRef;

use super::{GitError, TagInfo, signature};
use crate::sources::{SkipReason, Skipped};

/// A starting point of the walk.
#[derive(Debug, Clone)]
pub(super) enum Tip {
    /// A commit: its history is walked.
    Commit(ObjectId),
    /// A ref or tag pointing straight at a tree.
    Tree {
        /// The tree.
        id: ObjectId,
        /// The ref name, used as the path prefix.
        name: String,
    },
    /// A ref or tag pointing straight at a blob.
    Blob {
        /// The blob.
        id: ObjectId,
        /// The ref name, used as its path.
        name: String,
    },
}

/// Every starting point of a full-history scan.
#[derive(Debug, Default)]
pub(super) struct Tips {
    /// How many refs were read.
    pub refs: u64,
    /// Peeled targets.
    pub tips: Vec<Tip>,
    /// Annotated tags met while peeling, each once.
    pub tags: Vec<TagInfo>,
}

/// Commits behind which a shallow clone has no history.
pub(super) fn shallow_boundary(repo: &gix::Repository) -> HashSet<ObjectId> {
    match repo.shallow_commits() {
        Ok(Some(commits)) => commits.iter().copied().collect(),
        _ => HashSet::new(),
    }
}

/// Whether the repository is a partial clone (`git clone --filter=...`):
/// some blobs were never downloaded, and reading them would need a fetch.
pub(super) fn is_partial_clone(repo: &gix::Repository) -> bool {
    let config = repo.config_snapshot();
    config.string("extensions.partialClone").is_some()
        || config
            .plumbing()
            .sections_by_name("remote")
            .into_iter()
            .flatten()
            .any(|section| {
                section
                    .value("promisor")
                    .is_some_and(|v| v.as_slice() == b"true")
            })
}

/// Reads every ref and HEAD, and peels each to a commit, tree or blob.
pub(super) fn all_tips(
    repo: &gix::Repository,
    skipped: &mut Vec<Skipped>,
) -> Result<Tips, GitError> {
    let refs_error = |source| GitError::References {
        path: repo.git_dir().to_path_buf(),
        source,
    };
    let platform = repo.references().map_err(refs_error)?;
    let mut starts: Vec<(String, ObjectId)> = Vec::new();
    let mut found = Tips::default();
    for reference in platform.all().map_err(refs_error)? {
        match reference {
            Ok(reference) => {
                found.refs += 1;
                if let TargetRef::Object(id) = reference.target() {
                    starts.push((reference.name().as_bstr().to_string(), id.to_owned()));
                }
                if reference.name().as_bstr() == "refs/stash" {
                    stash_stack(&reference, &mut starts, skipped);
                }
            }
            Err(err) => skipped.push(Skipped {
                path: "<refs>".to_string(),
                reason: SkipReason::CorruptObject,
                detail: format!("unreadable reference: {err:#}"),
            }),
        }
    }
    malformed_loose_refs(repo, skipped);
    if let Ok(Some(head)) = repo.try_find_reference("HEAD") {
        found.refs += 1;
        if let TargetRef::Object(id) = head.target() {
            starts.push(("HEAD".to_string(), id.to_owned()));
        }
    }
    let mut seen = HashSet::new();
    for (name, id) in starts {
        if seen.insert(id) {
            peel(repo, &name, id, &mut found, skipped);
        }
    }
    Ok(found)
}

/// Loose ref files whose names git refuses (`refs/heads/a..b`): git and gix
/// both skip them ("ignoring ref with broken name"), so what only they reach
/// would go unread in silence. Each is counted as unreadable, with how to
/// give it a valid name. Lock files (`*.lock`, a ref update in progress) are
/// not refs.
fn malformed_loose_refs(repo: &gix::Repository, skipped: &mut Vec<Skipped>) {
    let root = repo.common_dir().to_path_buf();
    let mut pending = vec![root.join("refs")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => {
                    let Ok(relative) = path.strip_prefix(&root) else {
                        continue;
                    };
                    let name = crate::sources::display_path(relative);
                    if name.ends_with(".lock")
                        || gix::validate::reference::name(name.as_bytes().into()).is_ok()
                    {
                        continue;
                    }
                    skipped.push(Skipped {
                        path: name.clone(),
                        reason: SkipReason::Unreadable,
                        detail: format!(
                            "a ref whose name git refuses: git ignores it, and so did this scan, so the commits only it reaches were not read; give it a valid name (`git update-ref refs/heads/NEW $(cat '{}')`, then delete the file)",
                            path.display()
                        ),
                    });
                }
                _ => {}
            }
        }
    }
}

/// Every entry of the stash stack: `refs/stash` names only the newest; the
/// older ones (`stash@{1}`, ...) live in its reflog and hold work that was
/// never committed.
fn stash_stack(
    reference: &gix::Reference<'_>,
    starts: &mut Vec<(String, ObjectId)>,
    skipped: &mut Vec<Skipped>,
) {
    let unreadable = |detail: String| Skipped {
        path: "refs/stash".to_string(),
        reason: SkipReason::CorruptObject,
        detail,
    };
    let mut log = reference.log_iter();
    let lines = match log.all() {
        Ok(Some(lines)) => lines,
        Ok(None) => return,
        Err(err) => {
            skipped.push(unreadable(format!("cannot read the stash reflog: {err}")));
            return;
        }
    };
    let entries: Vec<_> = lines.collect();
    let count = entries.len();
    for (position, line) in entries.into_iter().enumerate() {
        match line {
            // The reflog is oldest first; stash@{0} is the newest.
            Ok(line) => starts.push((
                format!("refs/stash@{{{}}}", count - 1 - position),
                line.new_oid(),
            )),
            Err(err) => skipped.push(unreadable(format!("unreadable stash reflog line: {err}"))),
        }
    }
}

/// Follows `id` through annotated tags (recording each tag once) to the
/// commit, tree or blob it names.
fn peel(
    repo: &gix::Repository,
    name: &str,
    mut id: ObjectId,
    found: &mut Tips,
    skipped: &mut Vec<Skipped>,
) {
    let mut chain: Vec<usize> = Vec::new();
    let mut buf = Vec::new();
    // Tags pointing at tags are legal; a hash chain cannot loop, but a bound
    // keeps a corrupt database from making us spin.
    for _ in 0..64 {
        let data = match super::integrity::find_verified(repo, &id, &mut buf) {
            Ok(Some(data)) => data,
            Ok(None) => {
                skipped.push(Skipped {
                    path: name.to_string(),
                    reason: SkipReason::MissingObject,
                    detail: format!(
                        "ref {name} points at object {id}, which is not in the repository"
                    ),
                });
                return;
            }
            Err(err) => {
                let (reason, detail) = err.skip_reason();
                skipped.push(Skipped {
                    path: name.to_string(),
                    reason,
                    detail: format!("object {id} (target of {name}): {detail}"),
                });
                return;
            }
        };
        match data.kind {
            Kind::Commit => {
                for &index in &chain {
                    found.tags[index].commit = Some(id);
                }
                found.tips.push(Tip::Commit(id));
                return;
            }
            Kind::Tree => {
                found.tips.push(Tip::Tree {
                    id,
                    name: name.to_string(),
                });
                return;
            }
            Kind::Blob => {
                found.tips.push(Tip::Blob {
                    id,
                    name: name.to_string(),
                });
                return;
            }
            Kind::Tag => {
                let tag = match TagRef::from_bytes(data.data, repo.object_hash()) {
                    Ok(tag) => tag,
                    Err(err) => {
                        skipped.push(Skipped {
                            path: name.to_string(),
                            reason: SkipReason::CorruptObject,
                            detail: format!("tag {id}: {err:#}"),
                        });
                        return;
                    }
                };
                let target = tag.target();
                if !found.tags.iter().any(|t| t.id == id) {
                    chain.push(found.tags.len());
                    found.tags.push(TagInfo {
                        id,
                        name: tag.name.to_string(),
                        tagger: tag.tagger().ok().flatten().map(signature),
                        commit: None,
                    });
                }
                id = target;
            }
        }
    }
}

/// Resolves a revision that is pushed or scanned (`main`, `v1.0`, an id) and
/// peels it like a ref: an annotated tag is recorded (its message is part of
/// what is pushed) and followed to its commit, tree or blob, which becomes a
/// tip, shown under `name`. Objects that cannot be read on the way are
/// listed in `skipped`.
pub(super) fn resolve_tip(
    repo: &gix::Repository,
    spec: &str,
    name: &str,
    found: &mut Tips,
    skipped: &mut Vec<Skipped>,
) -> Result<(), GitError> {
    let id = repo
        .rev_parse_single(spec)
        .map_err(|err| GitError::MissingRevision {
            spec: spec.to_string(),
            source: Some(err),
        })?;
    peel(repo, name, id.detach(), found, skipped);
    Ok(())
}

/// Resolves a revision (`main`, `v1.0`, `HEAD~3`, an id) to a commit.
pub(super) fn resolve_commit(repo: &gix::Repository, spec: &str) -> Result<ObjectId, GitError> {
    let missing = |source| GitError::MissingRevision {
        spec: spec.to_string(),
        source,
    };
    let id = repo
        .rev_parse_single(spec)
        .map_err(|err| missing(Some(err)))?;
    let object = repo
        .find_object(id.detach())
        .map_err(|err| missing(Some(err)))?;
    match object.kind {
        Kind::Commit => Ok(object.id),
        Kind::Tag => object
            .peel_to_commit()
            .map(|commit| commit.id)
            .map_err(|err| missing(Some(err))),
        other => Err(GitError::NotACommit {
            spec: spec.to_string(),
            kind: other.to_string(),
        }),
    }
}
