//! The last steps of a history scan, after every blob is read: every path
//! that holds each finding (for the policy's path rules and for
//! `occurrences`), then who made each finding's commit.

use super::{CommitInfos, ScanOutcome};
use crate::engine::Engine;
use crate::finding::{self, FindingKind, Occurrences};
use crate::sources::git::History;

/// Gives history findings every path that holds them, before the policy
/// judges them: one more pass over the trees, for the blobs with findings
/// only. Each finding gets its blob's `occurrences` and, in
/// [`Finding::other_paths`], the blob's other paths (for a sensitive-file
/// finding, those the rule flags) in the order they appeared. A pending
/// sensitive-file finding (its rule flags none of the blob's first path) is
/// placed at the first path the rule flags, with the first commit holding the
/// blob there, or dropped when there is none.
pub fn resolve_history_paths(outcome: &mut ScanOutcome, history: &History, engine: &Engine) {
    use crate::finding::{OtherPaths, PathAt};
    use gix::ObjectId;
    let parse = |hex: &Option<String>| {
        hex.as_deref()
            .and_then(|h| ObjectId::from_hex(h.as_bytes()).ok())
    };
    let targets: std::collections::BTreeSet<ObjectId> = outcome
        .findings
        .iter()
        .filter_map(|f| f.git.as_ref())
        .filter(|g| g.reachable && g.commit.is_some())
        .filter_map(|g| parse(&g.blob))
        .collect();
    let occurrences = history.occurrences(&targets);
    let file_rules = &engine.rules().file_rules;
    outcome.findings.retain_mut(|finding| {
        let pending = finding.deferred;
        let Some(git) = finding.git.as_mut() else {
            return !pending;
        };
        let Some(found) = parse(&git.blob).and_then(|b| occurrences.get(&b)) else {
            return !pending;
        };
        if found.commits > 0 {
            git.occurrences = Some(Occurrences {
                commits: found.commits,
                paths: found.paths.iter().cloned().collect(),
            });
        }
        let rule = file_rules.iter().find(|r| r.id == finding.rule);
        let mut held: Vec<PathAt> = found
            .first_seen
            .iter()
            .filter(|(path, _)| match finding.kind {
                FindingKind::Secret => true,
                FindingKind::File => rule.is_some_and(|r| r.path_matches(path)),
            })
            .map(|(path, commit)| PathAt {
                path: path.clone(),
                commit: Some(commit.to_string()),
            })
            .collect();
        if pending {
            if held.is_empty() {
                return false;
            }
            let first = held.remove(0);
            finding.fingerprint = finding::fingerprint(&finding.rule, first.path.as_bytes());
            finding.path = first.path;
            git.commit = first.commit;
        } else {
            held.retain(|at| at.path != finding.path);
        }
        if !held.is_empty() {
            finding.other_paths = OtherPaths::History(held);
        }
        true
    });
    outcome.sort();
}

/// Completes history findings with the author, date and subject of each
/// finding's commit, and the summary with what the history covered.
pub fn attach_history(outcome: &mut ScanOutcome, commits: &CommitInfos<'_>) {
    for finding in &mut outcome.findings {
        if let Some(git) = finding.git.as_mut() {
            commits.complete(git);
        }
    }
    outcome.history = Some(commits.history.stats().clone());
}
