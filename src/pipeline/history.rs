//! The last steps of a history scan, after every blob is read: every path
//! that holds each finding (for the policy's path rules and for
//! `occurrences`), then who made each finding's commit.

use std::sync::Mutex;

use super::ScanOutcome;
use crate::engine::Engine;
use crate::finding::{self, FindingKind, GitProvenance, Occurrences};
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
    let rules = engine.rules();
    let file_rules = &rules.file_rules;
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
                FindingKind::File if finding.inner_path.is_empty() => {
                    rule.is_some_and(|r| r.path_matches(path))
                }
                _ => true,
            })
            .map(|(path, commit)| PathAt {
                path: path.clone(),
                commit: Some(commit.to_string()),
            })
            .collect();
        // A tag naming the blob itself is one more place it is, and one no
        // allowed-path glob of the tree paths covers.
        if finding.kind == FindingKind::Secret
            && let Some(blob) = parse(&git.blob)
        {
            held.extend(history.ref_names(&blob).iter().map(|name| PathAt {
                path: name.clone(),
                commit: None,
            }));
        }
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
        if let Some(base) = rules.confidence(&finding.rule)
            && !strongest_place(finding, base, &mut held)
        {
            return false;
        }
        if !held.is_empty() {
            finding.other_paths = OtherPaths::History(held);
        }
        true
    });
    outcome.sort();
}

/// Moves `finding` to the path among its own and `held` where it counts
/// most (the first with the highest confidence), judging it there: a key in
/// `tests/fixtures/` that was later copied to `src/` is as strong as in
/// `src/`. The place it leaves joins `held`. False when no place keeps it
/// (every path is a lock file).
fn strongest_place(
    finding: &mut finding::Finding,
    base: crate::rules::Confidence,
    held: &mut [crate::finding::PathAt],
) -> bool {
    let judge = |path: &str| {
        let mut probe = finding.clone();
        let path = finding.context_path(path);
        finding::reassess(&mut probe, base, &path).then_some(probe.confidence)
    };
    let own = judge(&finding.path);
    let mut best: Option<(usize, crate::rules::Confidence)> = None;
    for (index, at) in held.iter().enumerate() {
        if let Some(confidence) = judge(&at.path)
            && best.is_none_or(|(_, top)| confidence > top)
        {
            best = Some((index, confidence));
        }
    }
    match (own, best) {
        (Some(here), Some((_, there))) if there <= here => {}
        (Some(_), None) => {}
        (_, Some((index, _))) => {
            let to = &mut held[index];
            let git = finding.git.as_mut();
            let old_commit = git.as_ref().and_then(|g| g.commit.clone());
            if let Some(git) = git {
                git.commit = to.commit.take();
            }
            to.commit = old_commit;
            std::mem::swap(&mut finding.path, &mut to.path);
            if finding.kind == FindingKind::File {
                let shown = finding.shown_path().into_owned();
                finding.fingerprint = finding::fingerprint(&finding.rule, shown.as_bytes());
            }
        }
        (None, None) => return false,
    }
    let path = finding.context_path(&finding.path);
    finding::reassess(finding, base, &path)
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

/// Author, date and subject of the commits findings name, each read once:
/// known as soon as a blob is scanned (its commit is planned), so streamed
/// findings carry them too.
pub struct CommitInfos<'h> {
    history: &'h History,
    engine: &'h Engine,
    /// Per commit: what reports show, and the secrets in its subject.
    #[allow(clippy::type_complexity)]
    cache: Mutex<
        std::collections::HashMap<
            gix::ObjectId,
            Option<(crate::sources::git::CommitInfo, Vec<String>)>,
        >,
    >,
}

impl<'h> CommitInfos<'h> {
    /// An empty cache over `history`; `engine` finds secrets in subjects.
    pub fn new(history: &'h History, engine: &'h Engine) -> Self {
        CommitInfos {
            history,
            engine,
            cache: Mutex::new(Default::default()),
        }
    }

    /// Author, subject and the secrets in the subject of `commit`.
    fn read(
        &self,
        commit: gix::ObjectId,
    ) -> Option<(crate::sources::git::CommitInfo, Vec<String>)> {
        let info = self.history.commit_info(commit)?;
        let subject = info.summary.as_bytes();
        let secrets = self
            .engine
            .scan(subject)
            .iter()
            .filter_map(|m| subject.get(m.secret_span.clone()))
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        Some((info, secrets))
    }

    /// Fills author, email, date and subject from the finding's commit; tag
    /// messages keep their tagger.
    pub fn complete(&self, git: &mut GitProvenance) {
        if git.tag.is_some() {
            return;
        }
        let Some(commit) = git
            .commit
            .as_deref()
            .and_then(|h| gix::ObjectId::from_hex(h.as_bytes()).ok())
        else {
            return;
        };
        let mut cache = match self.cache.lock() {
            Ok(cache) => cache,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((info, secrets)) = cache.entry(commit).or_insert_with(|| self.read(commit)) {
            git.author = Some(info.author.name.clone());
            git.email = Some(info.author.email.clone());
            git.date = Some(info.author.date.clone());
            git.summary = Some(info.summary.clone());
            git.summary_secrets = secrets.clone();
        }
    }
}
