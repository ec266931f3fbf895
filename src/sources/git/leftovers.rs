//! Old text git keeps in files of its own directory, outside the object
//! database, for `secretgate verify`: the last commit message
//! (`COMMIT_EDITMSG`), merge and squash messages (`MERGE_MSG`, `SQUASH_MSG`),
//! `FETCH_HEAD`, `ORIG_HEAD`, reflog messages (`logs/`), and the state of an
//! interrupted rebase, cherry-pick or revert (`rebase-merge/`,
//! `rebase-apply/`, `sequencer/`), a bisection's log (`BISECT_LOG`, commit
//! subjects) and rerere's recorded conflicts (`rr-cache/`, the conflicting
//! file contents in clear), for the main work tree and each linked one.
//!
//! Why: a history rewrite leaves these files alone, so a secret that was in a
//! commit message stays on disk in clear after every object holding it is
//! gone, and a rebase resumed later can bring it back.

use std::path::{Path, PathBuf};

use crate::sources::{SkipReason, Skipped};

/// Single files that keep messages or old tips.
const FILES: &[&str] = &[
    "COMMIT_EDITMSG",
    "MERGE_MSG",
    "SQUASH_MSG",
    "FETCH_HEAD",
    "ORIG_HEAD",
    "BISECT_LOG",
];

/// Directories whose every file may keep messages.
const DIRS: &[&str] = &[
    "logs",
    "rebase-merge",
    "rebase-apply",
    "sequencer",
    "rr-cache",
];

/// A file of the git directory that still holds searched text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// `/`-separated path relative to the repository's common git directory
    /// (`COMMIT_EDITMSG`, `logs/HEAD`, `worktrees/NAME/rebase-merge/message`).
    pub path: String,
    /// Indices of the searched values found in it.
    pub values: Vec<usize>,
    /// The command that clears it, run in the work tree it belongs to:
    /// `--quit` for an operation in progress (forgets it, leaving HEAD, the
    /// index and the files alone), reflog expiry, or `rm`.
    pub clear: String,
}

/// What the search read.
#[derive(Debug, Default)]
pub struct Leftovers {
    /// Files still holding a searched value, sorted by path.
    pub found: Vec<Leftover>,
    /// Files read.
    pub files: u64,
    /// Files that could not be read (each may hold a value).
    pub skipped: Vec<Skipped>,
}

/// Reads every such file of `repo` and keeps those holding one of `values`
/// (exact bytes, also in UTF-16, as the object search looks for them).
pub fn search_values(repo: &gix::ThreadSafeRepository, values: &[Vec<u8>]) -> Leftovers {
    let automaton = super::everywhere::automaton(values);
    let matches = |data: &[u8]| -> Vec<usize> {
        let Some((ac, owners)) = &automaton else {
            return Vec::new();
        };
        let found: std::collections::BTreeSet<usize> = ac
            .find_overlapping_iter(data)
            .map(|hit| owners[hit.pattern().as_usize()])
            .collect();
        found.into_iter().collect()
    };
    search(&repo.to_thread_local(), &matches)
}

/// Reads every such file of `repo` (its common directory and each linked
/// work tree's) and keeps those holding one of the values, as `matches`
/// finds them (the indices of the values in a file's bytes).
pub fn search(repo: &gix::Repository, matches: &dyn Fn(&[u8]) -> Vec<usize>) -> Leftovers {
    let common = repo.common_dir().to_path_buf();
    let mut out = Leftovers::default();
    for (path, shown) in candidates(&common) {
        match std::fs::read(&path) {
            Ok(data) => {
                out.files += 1;
                let values = matches(&data);
                if !values.is_empty() {
                    let merging = path.with_file_name("MERGE_HEAD").exists();
                    out.found.push(Leftover {
                        clear: clear_command(&shown, merging),
                        path: shown,
                        values,
                    });
                }
            }
            Err(err) => out.skipped.push(Skipped {
                path: format!("<git directory>/{shown}"),
                reason: SkipReason::Unreadable,
                detail: format!("cannot read {}: {err}", path.display()),
            }),
        }
    }
    out.found.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Every candidate file: (path on disk, path shown relative to `common`).
/// Symbolic links are not followed.
fn candidates(common: &Path) -> Vec<(PathBuf, String)> {
    let mut roots = vec![(common.to_path_buf(), String::new())];
    if let Ok(entries) = std::fs::read_dir(common.join("worktrees")) {
        let mut linked: Vec<(PathBuf, String)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (e.path(), format!("worktrees/{name}/"))
            })
            .collect();
        linked.sort();
        roots.extend(linked);
    }
    let mut out = Vec::new();
    for (root, prefix) in roots {
        for name in FILES {
            let path = root.join(name);
            if is_file(&path) {
                out.push((path, format!("{prefix}{name}")));
            }
        }
        for dir in DIRS {
            // A linked work tree's logs/ is its own HEAD's reflog only.
            walk(&root.join(dir), &format!("{prefix}{dir}"), &mut out);
        }
    }
    out
}

fn is_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// Every regular file under `dir`, depth first, sorted.
fn walk(dir: &Path, shown: &str, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, &format!("{shown}/{name}"), out);
        } else if kind.is_file() {
            out.push((path, format!("{shown}/{name}")));
        }
    }
}

/// How to clear the file at `shown` (relative to the common git
/// directory), run from the work tree it belongs to; `merging` when a merge
/// is in progress beside it (`MERGE_HEAD`).
pub fn clear_command(shown: &str, merging: bool) -> String {
    let local = shown
        .strip_prefix("worktrees/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(shown, |(_, local)| local);
    let top = local.split('/').next().unwrap_or(local);
    match top {
        "logs" => "git reflog expire --expire=now --all".to_string(),
        "rebase-merge" => "git rebase --quit".to_string(),
        // `git am` keeps its state there too.
        "rebase-apply" => "git am --quit || git rebase --quit".to_string(),
        "sequencer" => "git cherry-pick --quit".to_string(),
        // Recorded resolutions: their pre- and post-images are file contents.
        "rr-cache" => "rm -rf \"$(git rev-parse --git-common-dir)/rr-cache\"".to_string(),
        "MERGE_MSG" if merging => "git merge --quit".to_string(),
        _ => format!("rm \"$(git rev-parse --git-common-dir)/{shown}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::{candidates, clear_command};

    #[test]
    fn every_kind_of_leftover_is_a_candidate() {
        let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
        let git = dir.path();
        for file in [
            "COMMIT_EDITMSG",
            "MERGE_MSG",
            "SQUASH_MSG",
            "FETCH_HEAD",
            "ORIG_HEAD",
            "BISECT_LOG",
            "logs/HEAD",
            "logs/refs/heads/main",
            "rebase-merge/git-rebase-todo",
            "rebase-apply/msg",
            "sequencer/todo",
            "rr-cache/0a1b/preimage",
            "worktrees/wt/COMMIT_EDITMSG",
            "worktrees/wt/logs/HEAD",
            "config",
            "HEAD",
            "objects/ab/cdef",
            "refs/heads/main",
        ] {
            let path = git.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|err| panic!("{err}"));
            }
            std::fs::write(&path, "x").unwrap_or_else(|err| panic!("{err}"));
        }
        let shown: Vec<String> = candidates(git).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            shown,
            [
                "COMMIT_EDITMSG",
                "MERGE_MSG",
                "SQUASH_MSG",
                "FETCH_HEAD",
                "ORIG_HEAD",
                "BISECT_LOG",
                "logs/HEAD",
                "logs/refs/heads/main",
                "rebase-merge/git-rebase-todo",
                "rebase-apply/msg",
                "sequencer/todo",
                "rr-cache/0a1b/preimage",
                "worktrees/wt/COMMIT_EDITMSG",
                "worktrees/wt/logs/HEAD",
            ]
        );
    }

    #[test]
    fn each_leftover_says_how_to_clear_it() {
        assert_eq!(
            clear_command("COMMIT_EDITMSG", false),
            "rm \"$(git rev-parse --git-common-dir)/COMMIT_EDITMSG\""
        );
        assert_eq!(
            clear_command("worktrees/wt/ORIG_HEAD", false),
            "rm \"$(git rev-parse --git-common-dir)/worktrees/wt/ORIG_HEAD\""
        );
        assert_eq!(
            clear_command("logs/refs/heads/main", false),
            "git reflog expire --expire=now --all"
        );
        assert_eq!(clear_command("MERGE_MSG", true), "git merge --quit");
        assert_eq!(
            clear_command("rr-cache/0a1b/postimage", false),
            "rm -rf \"$(git rev-parse --git-common-dir)/rr-cache\""
        );
        assert!(clear_command("MERGE_MSG", false).starts_with("rm "));
        assert_eq!(
            clear_command("worktrees/wt/rebase-merge/message", false),
            "git rebase --quit"
        );
        assert_eq!(
            clear_command("sequencer/todo", false),
            "git cherry-pick --quit"
        );
    }
}
