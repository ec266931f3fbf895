//! Files git tracks, whatever the ignore files say. A file in the index is
//! committed (or about to be) even when `.gitignore` lists it — the classic
//! half-fix is adding `.env` to `.gitignore` after it was tracked — so a
//! walk that honours ignore files must still read it. The walk reports what
//! it yielded; this module lists the index entries under the scanned paths
//! that it did not, for the repository holding each scanned directory and
//! every repository the walk met inside them (nested repositories and
//! submodules), read with gix.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};

use super::{SkipReason, Skipped, display_path};

/// What the walk missed that git tracks.
#[derive(Debug, Default)]
pub struct Unwalked {
    /// Tracked paths the walk did not yield, in the walk's own form
    /// (scanned root joined with the path below it), sorted.
    pub files: Vec<PathBuf>,
    /// Indexes that could not be read: tracked files there may be unread.
    pub skipped: Vec<Skipped>,
}

/// A scanned directory as the walk names it, and its real path.
struct Root {
    shown: PathBuf,
    real: PathBuf,
}

/// The index entries under the directories in `roots` that are not in
/// `walked`: from the repository around each root (found upwards) and from
/// each work tree in `met` (the walk's paths of nested work trees), and from
/// every checked-out submodule of those. Files that are not regular files or
/// symbolic links in the index (gitlinks, sparse directories) are not listed.
pub fn unwalked(roots: &[PathBuf], met: &[PathBuf], walked: &HashSet<PathBuf>) -> Unwalked {
    let dirs: Vec<Root> = roots
        .iter()
        .filter(|root| root.is_dir())
        .filter_map(|root| {
            std::fs::canonicalize(root).ok().map(|real| Root {
                shown: root.clone(),
                real,
            })
        })
        .collect();
    let shown = |real: &Path| -> Option<PathBuf> {
        dirs.iter().find_map(|root| {
            real.strip_prefix(&root.real)
                .ok()
                .map(|below| root.shown.join(below))
        })
    };
    let mut queue: VecDeque<PathBuf> = VecDeque::new();
    for root in &dirs {
        if let Ok(repo) = gix::discover(&root.shown)
            && let Some(top) = repo
                .workdir()
                .and_then(|dir| std::fs::canonicalize(dir).ok())
        {
            queue.push_back(top);
        }
    }
    queue.extend(met.iter().filter_map(|dir| std::fs::canonicalize(dir).ok()));
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut found = Unwalked::default();
    let mut listed: HashSet<PathBuf> = HashSet::new();
    while let Some(top) = queue.pop_front() {
        if !seen.insert(top.clone()) {
            continue;
        }
        let repo = match gix::open(&top) {
            Ok(repo) => repo,
            Err(err) => {
                found.skipped.push(unreadable_index(&top, &shown, &err));
                continue;
            }
        };
        let index = match repo.index_or_empty() {
            Ok(index) => index,
            Err(err) => {
                found.skipped.push(unreadable_index(&top, &shown, &err));
                continue;
            }
        };
        for entry in index.entries() {
            use gix::index::entry::Mode;
            let real = top.join(os_path(entry.path(&index)));
            if entry.mode == Mode::COMMIT {
                if real.join(".git").exists() {
                    queue.push_back(real);
                }
                continue;
            }
            if !matches!(
                entry.mode,
                Mode::FILE | Mode::FILE_EXECUTABLE | Mode::SYMLINK
            ) {
                continue;
            }
            let Some(path) = shown(&real) else { continue };
            if !walked.contains(&path)
                && !beyond_symlink(&top, &real)
                && listed.insert(path.clone())
            {
                found.files.push(path);
            }
        }
    }
    found.files.sort();
    found
}

/// Whether `path` lies beyond a symbolic link below the work tree `top`:
/// git does not read through one (the file is not in the work tree), and
/// neither does the walk.
fn beyond_symlink(top: &Path, path: &Path) -> bool {
    path.ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(top) && *dir != top)
        .any(|dir| std::fs::symlink_metadata(dir).is_ok_and(|meta| meta.file_type().is_symlink()))
}

fn unreadable_index(
    top: &Path,
    shown: &dyn Fn(&Path) -> Option<PathBuf>,
    err: &dyn std::fmt::Display,
) -> Skipped {
    Skipped {
        path: display_path(&shown(top).unwrap_or_else(|| top.to_path_buf())),
        reason: SkipReason::Unreadable,
        detail: format!(
            "cannot read the repository's index, so files it tracks but ignore files exclude may be unread: {err}"
        ),
    }
}

/// An index path (bytes, `/`-separated) as a path on this system.
fn os_path(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}
