//! Where a run's policy files are, and how the policy judges the paths of
//! each finding.
//!
//! Policy files (`.secretgate.toml`, `.secretgateignore`) are looked up at
//! the top level of the repository (its work tree's root, or the repository
//! directory when it is bare), whatever the current directory: a command run
//! from `deploy/` obeys the same policy as one run from the root, and the
//! globs and ignore paths in them name repository-relative paths. `scan` of
//! something outside any repository uses the root of what it scans.
//!
//! A path rule (an allowed-path glob, a path-scoped ignore entry) accepts a
//! finding only when it covers every path that holds it ([`OtherPaths`]): a
//! blob is one object whatever paths name it.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use super::Policy;
use crate::allow::Suppressed;
use crate::finding::{Finding, FindingKind, OtherPaths, PathAt};
use crate::pipeline::ScanOutcome;
use crate::rules::RuleSet;

/// How a finding's reported path maps to the repository-relative path that
/// policy globs and ignore entries name.
#[derive(Debug, Default, Clone)]
pub enum PathBase {
    /// Reported paths are the policy's paths already (history and staged
    /// report repository-relative paths; a scan outside any repository is
    /// judged as reported).
    #[default]
    AsReported,
    /// `scan`: reported paths are as walked, relative to the current
    /// directory `cwd` or absolute; the policy sees them relative to `top`,
    /// the directory holding the policy files (the repository's top level,
    /// or outside one the root of what is scanned). Both canonical.
    FromCwd {
        /// The repository's top level.
        top: PathBuf,
        /// The current directory.
        cwd: PathBuf,
    },
}

impl PathBase {
    /// The path the policy judges for a reported `path`; the reported path
    /// itself when it lies outside the repository.
    pub fn judged<'a>(&self, path: &'a str) -> Cow<'a, str> {
        let PathBase::FromCwd { top, cwd } = self else {
            return Cow::Borrowed(path);
        };
        if path.starts_with('<') {
            return Cow::Borrowed(path); // <stdin>
        }
        let absolute = lexical(&cwd.join(path));
        let relative = |full: &Path| {
            full.strip_prefix(top)
                .ok()
                .map(crate::sources::display_path)
        };
        relative(&absolute)
            .or_else(|| {
                // Reached through a symbolic link: compare real paths.
                std::fs::canonicalize(&absolute)
                    .ok()
                    .and_then(|real| relative(&real))
            })
            .map_or(Cow::Borrowed(path), Cow::Owned)
    }
}

/// `path` with `.` and `..` resolved without touching the disk.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The directory whose policy files apply to `repo`: the top of its work
/// tree, or the repository itself when it is bare; shown relative to the
/// current directory when one holds the other (`.`, `../..`, `sub`), so
/// `summary.config.file` reads as the user would type it.
pub fn repository_top(repo: &gix::Repository) -> PathBuf {
    shown(repo.workdir().unwrap_or_else(|| repo.git_dir()))
}

/// The paths of one `scan` that one set of policy files judges.
#[derive(Debug)]
pub struct ScanGroup {
    /// Where the policy files are, as shown (see [`scan_root`]).
    pub root: PathBuf,
    /// How reported paths map to the paths the policy names.
    pub base: PathBase,
    /// The scanned paths it judges, in command-line order.
    pub paths: Vec<PathBuf>,
}

/// The scanned paths grouped by the directory whose policy files judge them
/// (each path's own repository, see [`scan_root`]), in the order each
/// directory first appears: `scan A B` with A and B in two repositories
/// judges A's files by A's policy and B's by B's, never B's by A's.
pub fn scan_groups(paths: &[PathBuf]) -> Vec<ScanGroup> {
    let mut groups: Vec<(Option<PathBuf>, ScanGroup)> = Vec::new();
    for path in paths {
        let (root, base) = scan_root(std::slice::from_ref(path));
        let key = std::fs::canonicalize(&root).ok();
        match groups
            .iter_mut()
            .find(|(k, group)| key.is_some() && *k == key || group.root == root)
        {
            Some((_, group)) => group.paths.push(path.clone()),
            None => groups.push((
                key,
                ScanGroup {
                    root,
                    base,
                    paths: vec![path.clone()],
                },
            )),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// Where `scan` looks for policy files for `paths` (all in one repository,
/// see [`scan_groups`]), and how it maps reported paths to the paths they
/// name (relative to that directory): the top of the repository holding the
/// first path; outside any repository the first path when it is a
/// directory, else the current directory.
pub fn scan_root(paths: &[PathBuf]) -> (PathBuf, PathBase) {
    let first = paths.first().filter(|p| p.as_os_str() != "-");
    let outside = first
        .filter(|path| path.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let start = match first {
        Some(path) if path.is_dir() => path.clone(),
        Some(path) => match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        },
        None => PathBuf::from("."),
    };
    let top = match gix::discover(&start) {
        Ok(repo) => repo
            .workdir()
            .unwrap_or_else(|| repo.git_dir())
            .to_path_buf(),
        Err(_) => outside,
    };
    let base = match (std::fs::canonicalize(&top), std::env::current_dir()) {
        (Ok(top), Ok(cwd)) => PathBase::FromCwd { top, cwd },
        _ => PathBase::AsReported,
    };
    (shown(&top), base)
}

/// `dir` relative to the current directory when one contains the other,
/// else its canonical (or given) form.
fn shown(dir: &Path) -> PathBuf {
    let (Ok(real), Ok(cwd)) = (std::fs::canonicalize(dir), std::env::current_dir()) else {
        return dir.to_path_buf();
    };
    if let Ok(below) = real.strip_prefix(&cwd) {
        return if below.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            below.to_path_buf()
        };
    }
    if let Ok(above) = cwd.strip_prefix(&real) {
        return above.components().map(|_| Component::ParentDir).collect();
    }
    real
}

/// What the policy makes of one finding.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Reported at its own path.
    Report,
    /// Reported at another path that holds it: its own is covered.
    Move(PathAt),
    /// Every path is covered by allowed-path globs.
    AllowedPaths,
    /// Every path is covered, ignore entries included.
    Ignored,
    /// The baseline holds it.
    Baseline,
    /// Staged: `HEAD` already holds it at an uncovered path, so the commit
    /// does not add it.
    NotNew,
}

/// How one path is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cover {
    Glob,
    Entry,
}

impl Policy {
    /// Judges `finding` on every path known to hold it; `used` marks the
    /// ignore entries that covered a path.
    fn verdict(&self, finding: &Finding, used: &mut [bool]) -> Verdict {
        let fingerprint_at = |path: &str| -> String {
            match finding.kind {
                FindingKind::Secret => finding.fingerprint.clone(),
                FindingKind::File => crate::finding::fingerprint(&finding.rule, path.as_bytes()),
            }
        };
        let mut cover = |path: &str, fingerprint: &str| -> Option<Cover> {
            if self.config.as_ref().is_some_and(|c| c.allows_path(path)) {
                return Some(Cover::Glob);
            }
            let mut covered = None;
            for index in self.allow.entries_covering(fingerprint, path) {
                if let Some(slot) = used.get_mut(index) {
                    *slot = true;
                }
                covered = Some(Cover::Entry);
            }
            covered
        };
        if let OtherPaths::InHead(heads) = &finding.other_paths {
            for head in heads {
                let fingerprint = fingerprint_at(head);
                if cover(head, &fingerprint).is_none() && !self.allow.in_baseline(&fingerprint) {
                    return Verdict::NotNew;
                }
            }
        }
        let own = self.paths.judged(&finding.path);
        let Some(first) = cover(&own, &finding.fingerprint) else {
            return if self.allow.in_baseline(&finding.fingerprint) {
                Verdict::Baseline
            } else {
                Verdict::Report
            };
        };
        let mut only_globs = first == Cover::Glob;
        if let OtherPaths::History(others) = &finding.other_paths {
            for other in others {
                let fingerprint = fingerprint_at(&other.path);
                match cover(&other.path, &fingerprint) {
                    None if self.allow.in_baseline(&fingerprint) => return Verdict::Baseline,
                    None => return Verdict::Move(other.clone()),
                    Some(Cover::Entry) => only_globs = false,
                    Some(Cover::Glob) => {}
                }
            }
        }
        if only_globs {
            Verdict::AllowedPaths
        } else {
            Verdict::Ignored
        }
    }

    /// Takes accepted findings out of `outcome` and moves those whose own
    /// path is covered to the first path holding them that is not; says what
    /// went and, with `report_unused`, which ignore entries covered nothing.
    /// A moved finding is judged again at its new path (`rules` give its
    /// rule's confidence).
    pub fn apply(&self, outcome: &mut ScanOutcome, report_unused: bool, rules: &RuleSet) {
        let mut used = vec![false; self.allow.ignore_count()];
        let mut suppressed = Suppressed::default();
        let mut moved = false;
        outcome
            .findings
            .retain_mut(|finding| match self.verdict(finding, &mut used) {
                Verdict::Report => true,
                Verdict::Move(to) => {
                    moved = true;
                    relocate(finding, to, rules)
                }
                Verdict::AllowedPaths => {
                    suppressed.allowed_paths += 1;
                    false
                }
                Verdict::Ignored => {
                    suppressed.ignored += 1;
                    false
                }
                Verdict::Baseline => {
                    suppressed.baseline += 1;
                    false
                }
                Verdict::NotNew => false,
            });
        if moved {
            outcome.sort();
        }
        if report_unused {
            suppressed.unused_ignores = Some(self.allow.unused(&used));
        }
        outcome.suppressed = suppressed;
    }

    /// Whether a stream writes `finding` now: it is reported at the path it
    /// has. A finding held back (accepted, or reported elsewhere once every
    /// path is known) is either dropped or written at the end.
    pub fn final_now(&self, finding: &Finding) -> bool {
        let mut used = vec![false; self.allow.ignore_count()];
        !finding.deferred && self.verdict(finding, &mut used) == Verdict::Report
    }
}

/// Reports `finding` at `to`, another path holding the same content, with
/// the first commit that held it there, judged again there; false when that
/// place drops it (a lock file).
fn relocate(finding: &mut Finding, to: PathAt, rules: &RuleSet) -> bool {
    if finding.kind == FindingKind::File {
        finding.fingerprint = crate::finding::fingerprint(&finding.rule, to.path.as_bytes());
    }
    finding.path = to.path;
    if let (Some(git), Some(commit)) = (finding.git.as_mut(), to.commit) {
        git.commit = Some(commit);
    }
    finding.deferred = true;
    match rules.confidence(&finding.rule) {
        Some(base) => {
            let path = finding.path.clone();
            crate::finding::reassess(finding, base, &path)
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_resolves_dots_without_the_disk() {
        assert_eq!(lexical(Path::new("/r/a/./b/../c")), PathBuf::from("/r/a/c"));
        assert_eq!(lexical(Path::new("/r/a/../../x")), PathBuf::from("/x"));
    }

    #[test]
    fn scan_paths_are_judged_relative_to_the_repository_top() {
        let base = PathBase::FromCwd {
            top: PathBuf::from("/repo"),
            cwd: PathBuf::from("/repo/deploy"),
        };
        assert_eq!(base.judged("tests/k.txt"), "deploy/tests/k.txt");
        assert_eq!(base.judged("./k.txt"), "deploy/k.txt");
        assert_eq!(base.judged("../src/a.rs"), "src/a.rs");
        assert_eq!(base.judged("/repo/x/y"), "x/y");
        assert_eq!(base.judged("<stdin>"), "<stdin>");
        assert_eq!(PathBase::AsReported.judged("a/b"), "a/b");
    }
}
