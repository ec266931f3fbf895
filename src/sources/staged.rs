//! The staged changes: what `git commit` would record now, compared with
//! `HEAD` (or with the empty tree before the first commit).
//!
//! Only what the commit adds counts. Content is read from the index, not the
//! work tree, so a partial `git add -p` is judged on exactly what will be
//! committed; a changed file contributes only its added lines; a renamed or
//! copied file whose content already exists in `HEAD` contributes only what
//! a path rule accepted at every path `HEAD` holds it and does not accept at
//! the new one; deletions contribute nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::BString;
use gix::objs::{Find as _, TreeRefIter};
use imara_diff::{Algorithm, Diff, InternedInput};

use super::{Blob, SkipReason, Skipped};

/// Errors that stop a staged scan before anything is read.
#[derive(Debug, thiserror::Error)]
pub enum StagedError {
    /// No repository at or above the path.
    #[error(
        "{path}: not a git repository (nor any parent directory); run `secretgate staged` inside the repository, as the pre-commit hook does"
    )]
    NotARepository {
        /// Where the search started.
        path: PathBuf,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// A bare repository: no index, no work tree, so no commit is being made.
    #[error(
        "{path} is a bare repository: it has no index, so nothing is staged there; audit its history with `secretgate history`"
    )]
    Bare {
        /// The repository's git directory.
        path: PathBuf,
    },
    /// The index could not be read.
    #[error("cannot read the index of {path}; `git status` shows whether git can")]
    Index {
        /// The repository's git directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: gix::Error,
    },
    /// HEAD could not be resolved to a tree.
    #[error("cannot resolve HEAD to a tree in {path}")]
    Head {
        /// The repository's git directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: gix::Error,
    },
}

/// Which lines of a staged file are new in this commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddedLines {
    /// A new file: every line.
    All,
    /// A changed file: `lines[i]` says whether line `i + 1` is added.
    Some(Vec<bool>),
}

impl AddedLines {
    /// Whether any line from `first` to `last` (1-based, inclusive) is added.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        match self {
            AddedLines::All => true,
            AddedLines::Some(lines) => (first.max(1)..=last.max(first))
                .any(|line| lines.get(line - 1).copied().unwrap_or(false)),
        }
    }
}

/// One staged file to scan.
#[derive(Debug)]
pub struct StagedChange {
    /// The staged content, with its path.
    pub blob: Blob,
    /// HEAD's content at this path when the commit changes a file, to diff
    /// against; `None` when all of it counts (a new file, one asked for by
    /// name, or one whose HEAD copy cannot be read). Kept raw: lines must be
    /// diffed in the text the engine reads (UTF-16 transcoded), where
    /// findings' line numbers come from, so the pipeline diffs, not this source.
    pub previous: Option<Vec<u8>>,
    /// The paths where `HEAD` already holds exactly this content, when the
    /// file is new at its path (a rename or copy without change): what it
    /// holds is not new to the repository, but it is new at this path, where
    /// a path rule may not cover it.
    pub held_in_head: Vec<String>,
}

/// Everything the commit would add, and what could not be read.
#[derive(Debug, Default)]
pub struct Staged {
    /// Files with new content.
    pub changes: Vec<StagedChange>,
    /// Staged content that was not read, and why.
    pub skipped: Vec<Skipped>,
    /// Index entries compared with HEAD.
    pub entries: u64,
}

/// Opens the repository around `path`.
pub fn open(path: &Path) -> Result<gix::Repository, StagedError> {
    let repo = gix::discover(path).map_err(|source| StagedError::NotARepository {
        path: path.to_path_buf(),
        source,
    })?;
    if repo.is_bare() {
        return Err(StagedError::Bare {
            path: repo.git_dir().to_path_buf(),
        });
    }
    Ok(repo)
}

/// Compares the index with HEAD and reads every added or changed file.
///
/// With `only`, just those paths (repository-relative, `/`-separated) are
/// considered, and one whose staged content equals HEAD's is read whole: this
/// is what a hook manager asks when it passes file names, whether at commit
/// time (the staged files: their added lines) or for `--all-files` (every
/// file: all of it).
pub fn staged_changes(
    repo: &gix::Repository,
    max_file_size: u64,
    only: Option<&HashSet<String>>,
) -> Result<Staged, StagedError> {
    let git_dir = || repo.git_dir().to_path_buf();
    let head_tree = repo
        .head_tree_id_or_empty()
        .map_err(|source| StagedError::Head {
            path: git_dir(),
            source,
        })?
        .detach();
    let mut staged = Staged::default();
    let head = head_blobs(repo, head_tree, &mut staged.skipped);
    let mut head_paths: HashMap<ObjectId, Vec<String>> = HashMap::new();
    for (path, id) in &head {
        head_paths
            .entry(*id)
            .or_default()
            .push(crate::sources::path_text(path));
    }
    let index = repo.index_or_empty().map_err(|source| StagedError::Index {
        path: git_dir(),
        source,
    })?;

    let mut buf = Vec::new();
    for entry in index.entries() {
        staged.entries += 1;
        // Unmerged entries (stages 1-3) cannot be committed; git refuses until
        // they are resolved, and the resolution is a stage-0 entry.
        if entry.stage_raw() != 0 {
            continue;
        }
        if !matches!(
            entry.mode,
            gix::index::entry::Mode::FILE | gix::index::entry::Mode::FILE_EXECUTABLE
        ) {
            continue;
        }
        let path_bytes = entry.path(&index);
        let asked = match only {
            Some(paths) => {
                if !paths.contains(crate::sources::path_text(path_bytes).as_str()) {
                    continue;
                }
                true
            }
            None => false,
        };
        let mut previous = head.get(path_bytes).copied();
        if previous == Some(entry.id) {
            if !asked {
                continue;
            }
            // Asked for by name and unchanged: judge all of it.
            previous = None;
        }
        let path = crate::sources::path_text(path_bytes);
        let mut held_in_head = Vec::new();
        if !asked
            && previous.is_none()
            && let Some(paths) = head_paths.get(&entry.id)
        {
            // Renamed or copied without change: HEAD already holds this
            // content, so the commit adds only what a path rule covered
            // there and does not cover here.
            held_in_head = paths.clone();
            held_in_head.sort();
        }
        if max_file_size > 0 && u64::from(entry.stat.size) > max_file_size {
            staged.skipped.push(Skipped {
                path,
                reason: SkipReason::TooLarge,
                detail: format!(
                    "{} bytes > --max-file-size {max_file_size}",
                    entry.stat.size
                ),
            });
            continue;
        }
        let Some(data) = read_blob(repo, entry.id, &path, &mut buf, &mut staged.skipped) else {
            continue;
        };
        // HEAD's version unreadable (counted as skipped): judge the whole file.
        let previous = previous.and_then(|old_id| {
            let mut old_buf = Vec::new();
            read_blob(repo, old_id, &path, &mut old_buf, &mut staged.skipped)
        });
        staged.changes.push(StagedChange {
            blob: Blob { path, data },
            previous,
            held_in_head,
        });
    }
    Ok(staged)
}

/// Which lines of `new` are not in `old`, by a line diff (histogram, as git).
/// Lines end after each `\n`, as finding line numbers count them; give it the
/// text the engine scans, not raw UTF-16.
pub fn added_lines(old: &[u8], new: &[u8]) -> AddedLines {
    let input = InternedInput::new(old, new);
    let diff = Diff::compute(Algorithm::Histogram, &input);
    let lines = (0..input.after.len())
        .map(|index| u32::try_from(index).is_ok_and(|index| diff.is_added(index)))
        .collect();
    AddedLines::Some(lines)
}

fn read_blob(
    repo: &gix::Repository,
    id: ObjectId,
    path: &str,
    buf: &mut Vec<u8>,
    skipped: &mut Vec<Skipped>,
) -> Option<Vec<u8>> {
    match repo.objects.try_find(&id, buf) {
        Ok(Some(data)) => Some(data.data.to_vec()),
        Ok(None) => {
            skipped.push(Skipped {
                path: path.to_string(),
                reason: SkipReason::MissingObject,
                detail: format!("blob {id} is not in the object database"),
            });
            None
        }
        Err(err) => {
            skipped.push(Skipped {
                path: path.to_string(),
                reason: SkipReason::CorruptObject,
                detail: format!("blob {id}: {err:#}"),
            });
            None
        }
    }
}

/// Every blob of the HEAD tree by path.
fn head_blobs(
    repo: &gix::Repository,
    tree: ObjectId,
    skipped: &mut Vec<Skipped>,
) -> HashMap<BString, ObjectId> {
    let mut blobs = HashMap::new();
    let mut pending: Vec<(BString, ObjectId)> = vec![(BString::default(), tree)];
    let mut buf = Vec::new();
    while let Some((dir, id)) = pending.pop() {
        if id == ObjectId::empty_tree(repo.object_hash()) {
            continue;
        }
        let data = match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(data)) => data,
            Ok(None) | Err(_) => {
                skipped.push(Skipped {
                    path: if dir.is_empty() {
                        "<HEAD tree>".into()
                    } else {
                        crate::sources::path_text(&dir)
                    },
                    reason: SkipReason::MissingObject,
                    detail: format!(
                        "HEAD tree {id} cannot be read: files below it are judged whole"
                    ),
                });
                continue;
            }
        };
        for entry in TreeRefIter::from_bytes(data.data, repo.object_hash()).flatten() {
            let mut path = dir.clone();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(entry.filename);
            if entry.mode.is_tree() {
                pending.push((path, entry.oid.to_owned()));
            } else if entry.mode.is_blob() {
                blobs.insert(path, entry.oid.to_owned());
            }
        }
    }
    blobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_mark_only_new_lines() {
        let old = b"a\nb\nc\n";
        let new = b"a\nNEW\nb\nc\nLAST\n";
        assert_eq!(
            added_lines(old, new),
            AddedLines::Some(vec![false, true, false, false, true])
        );
    }

    #[test]
    fn touches_checks_a_line_span() {
        let added = AddedLines::Some(vec![false, true, false]);
        assert!(added.touches(2, 2));
        assert!(added.touches(1, 3));
        assert!(!added.touches(1, 1));
        assert!(!added.touches(3, 9));
        assert!(AddedLines::All.touches(7, 7));
    }
}
